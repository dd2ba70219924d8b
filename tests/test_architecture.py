"""The layout shows the architecture, and this test holds the code to it (issue 12).

    cli → run, outputs → report, trace, check, symbolic → core     (errors: everyone's leaf)

Imports go one way: every import inside the package, module level or deferred into a
function, points down this table or within the same layer, and the graph has no cycles.
``core`` loads neither click nor rich, and a numeric run never loads SymPy.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import autodiff_cli

PACKAGE = Path(autodiff_cli.__file__).parent

# The layers, lowest first: a module may import from its own layer or any lower one.
LAYERS = [
    {"errors"},
    {"core", "core.primitives", "core.graph", "core.parse", "core.ad", "core.second", "core.colour", "core.engine",
     "core.kernels", "core.compiled"},
    {"report", "trace", "check", "symbolic", "points", "plusminus", "uncertainty"},
    {"run", "limits", "sources", "outputs", "outputs.notation", "outputs.sink", "outputs.table", "outputs.json",
     "outputs.csv", "outputs.npz", "outputs.latex", "outputs.dot", "outputs.files", "outputs.sparsity",
     "outputs.uncertainty"},
    {"cli", "__main__", "__init__"},
]
LAYER = {name: k for k, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imports() -> dict[str, set[str]]:
    """Each package module → the package modules it imports (module level, deferred, and TYPE_CHECKING)."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if path.parent == PACKAGE:
            package: list[str] = []                           # autodiff_cli/x.py and autodiff_cli/__init__.py
        else:
            package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                stem = ".".join([*base, *(node.module.split(".") if node.module else [])])
                for alias in node.names:                      # from .core import ad: the module core.ad
                    sub = f"{stem}.{alias.name}".strip(".")
                    targets.add(sub if sub in LAYER else stem)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("autodiff_cli."):
                        targets.add(alias.name.removeprefix("autodiff_cli."))
        found[name] = {t for t in targets if t in LAYER or t.split(".")[0] in LAYER} - {name}
    return found


def test_every_module_has_a_layer():
    assert sorted(set(imports()) - set(LAYER)) == []
    assert sorted(set(LAYER) - set(imports())) == []


def test_imports_point_down_the_layers():
    wrong = [f"{module} imports {target}" for module, targets in imports().items() for target in targets
             if LAYER[target] > LAYER[module]]
    assert wrong == []


def test_no_import_cycles():
    graph = imports()
    state: dict[str, int] = {}                  # 1: on the path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(" → ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_check_sees_imports():                # the two tests above could pass on an empty graph
    graph = imports()
    assert "core.ad" in graph["report"] and "core.graph" in graph["core.ad"]
    assert "outputs.sink" in graph["cli"] and "errors" in graph["core.parse"]
    assert sum(len(targets) for targets in graph.values()) > 50


def loaded(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sorted(sys.modules)))"],
                          capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    return set(done.stdout.split())


def test_core_loads_neither_click_nor_rich():
    modules = loaded("import autodiff_cli.core.ad, autodiff_cli.core.parse\n"
                     "g = autodiff_cli.core.parse.parse('sin(x)*y')\nautodiff_cli.core.ad.jacobian(g, [1.0, 2.0])")
    assert "autodiff_cli.core.ad" in modules and "lark" in modules and "numpy" in modules
    assert not {m for m in modules if m.split(".")[0] in ("click", "rich", "sympy")}


def test_a_numeric_run_never_loads_sympy():
    modules = loaded("from click.testing import CliRunner\nfrom autodiff_cli.cli import main\n"
                     "for fmt in ('table', 'json', 'csv', 'latex'):\n"
                     "    CliRunner().invoke(main, ['x1*x2 + sin(x1)', '--at', '1,2', '--trace' if fmt != 'csv' else '-v',"
                     " '--format', fmt][: 6 if fmt != 'csv' else 3] + ['--format', fmt])")
    assert "autodiff_cli.outputs.table" in modules and "autodiff_cli.outputs.latex" in modules
    assert "sympy" not in modules
    assert not {m for m in modules if m.split(".")[0] in ("numba", "llvmlite")}          # issue 16
    assert "autodiff_cli.core.compiled" not in modules and "autodiff_cli.core.kernels" not in modules


def test_a_small_batch_never_loads_numba():
    """--engine auto takes the compiled engine only for large runs; numba is not even imported for small ones."""
    modules = loaded("import numpy as np\nfrom autodiff_cli.core.parse import parse\nfrom autodiff_cli.report import compute\n"
                     "from autodiff_cli.core.engine import choose\ng = parse('sin(x)*y')\n"
                     "assert choose(g, 'auto', False, 1000) == 'numpy'\ncompute(g, np.ones((1000, 2)), sweeps=False)")
    assert "autodiff_cli.core.engine" in modules
    assert not {m for m in modules if m.split(".")[0] in ("numba", "llvmlite")}
