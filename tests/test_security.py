"""The input is data, never code; malformed values and typos get clear usage errors.

- Python-looking input (imports, attributes, f-strings, lambdas ...) is a parse error.
- No eval, exec or compile is reachable from user input: the package's source has no
  such call (AST scan), and the command works with those builtins booby-trapped.
- Bad --at values (nan, inf, empty fields, a trailing comma, hex, locale decimals) and
  typos in the expression give exit 2 with a message that says what to type instead.
"""

import ast
import builtins
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import autodiff_cli
from autodiff_cli import ParseError, parse
from autodiff_cli.cli import main

PACKAGE = Path(autodiff_cli.__file__).parent


def run(*args, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


CODE = [
    "__import__('os').system('touch PWNED')",
    "__import__(\"os\").system(\"touch PWNED\")",
    "x.__class__",
    "x.__class__.__bases__[0].__subclasses__()",
    "f'{x}'",
    "lambda x: x",
    "eval('x')",
    "exec('import os')",
    "compile('1', 'f', 'eval')",
    "open('/etc/passwd')",
    "globals()",
    "[x for x in ()]",
    "x if 1 else 2",
    "x; import os",
    "x\nimport os",
    "x := 1",
    "x is y",
    "x in y",
    "x == y or __import__('os')",
    "x % y",
    "x // y",
    "x @ y",
    "`id`",
    "$(id)",
    "x # comment\nimport os",
    "b'x'",
    "{x}",
    "x[0]",
    "...",
    "1j",
    "0b101",
    "0o7",
    "1_000",
    "ｘ",
    "𝑥",
]


@pytest.mark.parametrize("text", CODE)
def test_python_is_a_parse_error(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParseError):
        parse(text)
    result = run(text, "--at", "1")
    assert result.exit_code == 2
    assert "Error: Invalid value for 'EXPRESSION'" in result.stderr
    assert "^" in result.stderr                              # a caret under the problem
    assert not (tmp_path / "PWNED").exists()
    assert result.stdout == ""


FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint", "input"}
FORBIDDEN_ATTRIBUTES = {"literal_eval", "import_module", "system", "popen", "loads", "load"}


def test_package_source_has_no_dynamic_code():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):                # core/, outputs/, symbolic/ too
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                    found.append(f"{path.name}:{node.lineno} {func.id}()")
                if isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_ATTRIBUTES:
                    found.append(f"{path.name}:{node.lineno} .{func.attr}()")
                if (isinstance(func, ast.Name) and func.id in ("getattr", "setattr")
                        and not (len(node.args) > 1 and isinstance(node.args[1], ast.Constant))):
                    found.append(f"{path.name}:{node.lineno} {func.id} with a computed name")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                for name in names:
                    if name.split(".")[0] in ("pickle", "marshal", "shelve", "code", "ctypes"):
                        found.append(f"{path.name}:{node.lineno} import {name}")
            if isinstance(node, ast.keyword) and node.arg == "shell":
                found.append(f"{path.name}:{node.value.lineno} a shell")            # dot.py runs Graphviz: argv only
    assert found == []
    assert len(list(PACKAGE.rglob("*.py"))) >= 20               # the scan saw the whole package


INPUTS = [
    ["x1*x2 + sin(x1), exp(x1-x2)", "--at", "1,2", "--check"],
    ["f(x, y) = x^2*y", "--at", "x=3,y=-1", "--format", "json"],
    ["x1*x2 + x1*x3, ln(x1+x2)", "--at", "1,2,3", "--seed", "1,0,0", "--format", "csv"],
    ["-x^2", "--at", "3", "--format", "jsonl"],
    ["sqrt(x) + log(y)", "--at", "0,-1"],
    ["x1*x2 + sin(x1)"],
    *([text, "--at", "1"] for text in CODE),
    ["sinn(x)", "--at", "1"],
    ["x", "--at", "nan"],
]


def test_no_eval_exec_or_compile_is_reachable_from_user_input(monkeypatch):
    # import everything the command may import lazily, then booby-trap the builtins
    import rich.box
    import rich.console
    import rich.table
    import rich.text  # noqa: F401

    import autodiff_cli.check
    import autodiff_cli.outputs.json
    import autodiff_cli.outputs.table  # noqa: F401

    for args in INPUTS:                                     # once untrapped: every lazy import (sympy's on
        run(*args)                                          # a symbolic run, which execs its own code) done
    calls = []

    def trap(name):
        def trapped(*args, **kwargs):
            calls.append((name, args[:1]))
            raise AssertionError(f"{name} called")
        return trapped

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, trap(name))
    codes = [run(*args).exit_code for args in INPUTS]
    monkeypatch.undo()
    assert calls == []
    assert codes[:5] == [0, 0, 0, 0, 1] and set(codes[6:]) == {2}


def test_user_text_is_not_rich_markup():
    result = run("[bold]x", "--at", "1")
    assert result.exit_code == 2 and "[bold]x" in result.stderr
    labelled = run("f(x) = (x)", "--at", "1")
    assert labelled.exit_code == 0


# --- nothing unpickled from a directory others can write (issue 11.1) --------------------------
class Plant:
    """A pickle that, when loaded, creates the file ``marker``: proof that it was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def plant(path, marker):
    # a Lark cache file is a hash line, then pickles: the first pickle.load runs the plant
    Path(path).write_bytes(b"0" * 64 + b"\n" + pickle.dumps(Plant(marker)))


def lark_temp_cache_names(tmp_path, monkeypatch):
    """The files Lark's ``cache=True`` reads for adjac's grammar, named by Lark itself: for the
    options adjac builds its parser with, and for plain LALR (what the numeric parse-error path
    and the symbolic parser used to pass)."""
    from lark import Lark

    from autodiff_cli.core.parse import LARK_OPTIONS, grammar_text

    where = tmp_path / "names"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    for options in (LARK_OPTIONS, {"parser": "lalr"}):
        Lark(grammar_text(), **{**options, "cache": True})
    monkeypatch.undo()
    names = sorted(p.name for p in where.iterdir())
    assert names and all(name.startswith(".lark_cache_") for name in names)
    return names


def run_adjac(args, env):
    return subprocess.run([sys.executable, "-m", "autodiff_cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


RUNS = [(["x +* y", "--at", "1"], 2),          # a parse error: the path that used to load Lark's cache
        (["x*y", "--at", "1,2"], 0),           # a valid expression
        (["x1*x2 + sin(x1)"], 0)]              # symbolic: the second parser used to load it too


def test_no_pickle_planted_in_the_temporary_directory_is_loaded(tmp_path, monkeypatch):
    pytest.importorskip("sympy")
    shared = tmp_path / "tmp"
    shared.mkdir()
    marker = tmp_path / "PWNED"
    names = lark_temp_cache_names(tmp_path, monkeypatch)
    for name in names:
        plant(shared / name, marker)
    env = {**os.environ, "TMPDIR": str(shared), "XDG_CACHE_HOME": str(tmp_path / "private")}
    for args, status in RUNS:
        done = run_adjac(args, env)
        assert done.returncode == status, done.stderr
        assert not marker.exists(), f"adjac {args} unpickled a file from $TMPDIR"
    assert sorted(p.name for p in shared.iterdir()) == names        # and wrote no cache there


def test_a_cache_directory_others_can_write_is_not_used(tmp_path, monkeypatch):
    from autodiff_cli.core.parse import _cache_file, grammar_text

    marker = tmp_path / "PWNED"
    folder = tmp_path / "xdg" / "adjac"
    folder.mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    plant(_cache_file(grammar_text()), marker)             # where adjac caches when the folder is private
    folder.chmod(0o777)                                     # now writable by anyone
    assert _cache_file(grammar_text()) is None
    assert run_adjac(["x +* y", "--at", "1"], dict(os.environ)).returncode == 2
    assert not marker.exists()
    if os.getuid() == 0:                                    # private, but owned by someone else
        folder.chmod(0o700)
        os.chown(folder, 4321, -1)
        assert _cache_file(grammar_text()) is None
        assert run_adjac(["x +* y", "--at", "1"], dict(os.environ)).returncode == 2
        assert not marker.exists()


def test_the_cache_is_private(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert run_adjac(["x*y", "--at", "1,2"], env).returncode == 0
    folder = tmp_path / "xdg" / "adjac"
    assert folder.stat().st_mode & 0o777 == 0o700 and folder.stat().st_uid == os.getuid()
    assert [p.name.startswith("grammar-") for p in folder.iterdir()] == [True]


# --- bad values --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("nan", "nan is not allowed; give finite numbers"),
        ("inf", "inf is not allowed"),
        ("-inf", "-inf is not allowed"),
        ("Infinity", "Infinity is not allowed"),
        ("x=nan,y=1", "x in 'x=nan,y=1': nan is not allowed"),
        ("", "the point is empty"),
        ("  ", "the point is empty"),
        ("1,", "'1,' ends with a comma"),
        (",1", "empty value"),
        ("1,,2", "empty value"),
        ("x=,y=1", "empty value"),
        ("0x10,1", "0x10 is hexadecimal; give a decimal number"),
        ("1e999,1", "1e999 overflows a double"),
        ("1.5.2,1", "'1.5.2' is not a number (write decimals with a point"),
        ("1,5;2", "separate values with commas, not semicolons: 1.5,2"),
        ("x=1,2", "mixes values by position and by name"),
        ("=1,y=2", "a name is missing before '='"),
        ("x=1,x=2", "x is given twice"),
        ("x=1,z=2", "z in 'x=1,z=2' is not an input; the inputs are x, y"),
        ("x=1", "gives no value for y"),
        ("1,2,3", "'1,2,3' gives 3 values, but the function has 2 inputs (x, y)"),
    ],
)
def test_bad_points_are_usage_errors(at, message):
    result = run("x*y", "--at", at)
    assert result.exit_code == 2
    assert "Invalid value for '--at'" in result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_a_locale_decimal_comma_is_explained():
    result = run("x^2", "--at", "1,5")
    assert result.exit_code == 2
    assert "gives 2 values, but the function has 1 input (x) (decimals use a point: 1.5)" in result.stderr


@pytest.mark.parametrize(("seed", "message"), [("nan", "nan is not allowed"), ("1,", "is not a list of numbers"),
                                               ("1,,0", "empty value"), ("0x1,0", "hexadecimal")])
def test_bad_seeds_are_usage_errors(seed, message):
    result = run("x*y", "--at", "1,2", "--seed", seed)
    assert result.exit_code == 2 and message in result.stderr


def test_negative_values_and_exponents_are_fine():
    result = run("x*y", "--at", "-1.5e-3,+2", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["results"][0]["point"] == [-1.5e-3, 2.0]


# --- error messages: caret and suggestion -------------------------------------------------------
def caret_column(stderr):
    """The 1-based column the caret points at, in the shown line."""
    lines = stderr.splitlines()
    caret = next(k for k, line in enumerate(lines) if line.strip() == "^")
    return lines[caret].index("^") - 1, lines[caret - 1][2:]


@pytest.mark.parametrize(
    ("text", "column", "at", "hint"),
    [
        ("sinn(x)", 1, "sinn", "did you mean sin?"),
        ("x + coss(x)", 5, "coss", "did you mean cos?"),
        ("2x", 2, "x", "write 2*x for a product"),
        ("3*x + 2y", 8, "y", "write 2*y for a product"),
        ("f(x, y) = x + z", 15, "z", "declared inputs: x, y"),
        ("f(x1, x2) = x1 + x3", 18, "x3", "declared inputs: x1, x2"),
        ("sin x", 5, "x", "write sin(x) to call sin"),
        ("x if 1 else 2", 3, "if", "'if' is Python"),
        ("x.__class__", 2, ".", "there is no attribute access"),
        ("x ∗ y", 3, "∗", "unexpected character"),
        ("x¹ + 1", 2, "¹", "unexpected character"),
        ("0x1F", 2, "x1F", "hexadecimal numbers are not supported"),
        ("x +* y", 4, "* y", ""),
        ("(x + 1", 7, "", ""),
        ("sin(x, y)", 1, "sin", ""),
    ],
)
def test_error_messages_have_a_caret_and_a_suggestion(text, column, at, hint):
    result = run(text, "--at", "1")
    assert result.exit_code == 2
    assert f"column {column}" in result.stderr
    found, shown = caret_column(result.stderr)
    assert found == column
    assert shown[column - 1 :].startswith(at)
    assert hint in result.stderr


def test_undeclared_name_under_a_header_suggests_the_closest():
    result = run("f(alpha, beta) = alpha + betta", "--at", "1,2")
    assert result.exit_code == 2
    assert "did you mean beta?" in result.stderr and "declared inputs: alpha, beta" in result.stderr


def test_multiline_errors_give_the_line():
    result = run("x +\n* y", "--at", "1,2")
    assert result.exit_code == 2
    assert "line 2, column 1" in result.stderr
