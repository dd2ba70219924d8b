"""--format latex and --latex-standalone: structure, escaping, numbers, and (when installed) pdflatex."""

import math
import re
import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from autodiff_cli import jacobian, parse
from autodiff_cli.cli import main
from autodiff_cli.latex import escape, name, number, standalone
from autodiff_cli.latex import math as to_math
from autodiff_cli.primitives import PRIMITIVES

WORKED = "sin(x1) + x1*x2, exp(x1-x2)"
needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")


def run(*args):
    return CliRunner().invoke(main, list(args))


def check_structure(tex):
    """Environments nest and close, braces balance, math delimiters pair up; returns the environments seen."""
    stack, seen = [], []
    for kind, env in re.findall(r"\\(begin|end)\{(\w+)\}", tex):
        if kind == "begin":
            stack.append(env)
            seen.append(env)
        else:
            assert stack and stack.pop() == env, f"\\end{{{env}}} does not close the open environment"
    assert not stack, f"unclosed: {stack}"
    bare = re.sub(r"\\[{}$%&#_\\]", "", tex)                 # drop escaped specials
    bare = "\n".join(line.split("%")[0] for line in bare.split("\n"))   # and comments
    assert bare.count("{") == bare.count("}")
    assert bare.count("$") % 2 == 0
    assert tex.count("\\[") == tex.count("\\]")
    assert tex.isascii()
    return seen


def matrices(tex):
    """Every pmatrix as a list of rows of strings."""
    found = re.findall(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", tex, re.S)
    return [[[cell.strip() for cell in row.split("&")] for row in body.strip().split("\\\\")] for body in found]


def value(cell):
    """A LaTeX number back to a float."""
    cell = cell.replace(" ", "")
    m = re.fullmatch(r"(-?[\d.]+)\\times10\^\{(-?\d+)\}", cell)
    return float(m.group(1)) * 10 ** int(m.group(2)) if m else float(cell)


def test_worked_example_fragment():
    result = run(WORKED, "--at", "1,2", "--format", "latex", "--digits", "15")
    assert result.exit_code == 0, result.output
    tex = result.stdout
    assert check_structure(tex) == ["pmatrix", "pmatrix", "pmatrix"]
    assert "\\documentclass" not in tex
    assert tex.startswith("% adjac: ")
    labels, values, J = matrices(tex)
    assert labels == [["\\texttt{sin(x1) + x1*x2}"], ["\\texttt{exp(x1-x2)}"]]
    y, J_true = jacobian(parse(WORKED), [1.0, 2.0])
    assert [value(row[0]) for row in values] == pytest.approx(y, rel=1e-14)
    assert np.array([[value(c) for c in row] for row in J]) == pytest.approx(J_true, rel=1e-14)
    assert "$(x_{1}, x_{2}) = (1, 2)$" in tex
    assert "J_{f}(1, 2) = \\frac{\\partial (y_{1}, y_{2})}{\\partial (x_{1}, x_{2})}" in tex


def test_digits_and_several_points():
    tex = run(WORKED, "--at", "1,2", "--at", "0,0", "--format", "latex", "--digits", "3").stdout
    check_structure(tex)
    assert tex.count("At $") == 2
    assert "2.84" in tex and "2.841" not in tex
    assert matrices(tex)[-1] == [["1", "0"], ["1", "-1"]]


@pytest.mark.parametrize(("mode", "seed", "expected"), [("forward", "0,1", [1, -math.exp(-1)]),
                                                        ("reverse", "0,1", [math.exp(-1), -math.exp(-1)])])
def test_seeded_product(mode, seed, expected):
    tex = run(WORKED, "--at", "1,2", "--format", "latex", "--mode", mode, "--seed", seed, "--digits", "15").stdout
    check_structure(tex)
    product = matrices(tex)[-1]
    cells = [row[0] for row in product] if mode == "forward" else product[0]
    assert [value(c) for c in cells] == pytest.approx(expected, rel=1e-14)
    assert ("\\dot{x}" if mode == "forward" else "\\bar{y}^{\\top}") in tex


def test_user_text_is_escaped():
    tex = run("f(a_b, c_2) = a_b^c_2 + a_b", "--at", "2,3", "--format", "latex").stdout
    check_structure(tex)
    assert "\\texttt{a\\_b\\textasciicircum{}c\\_2 + a\\_b}" in tex
    assert "\\mathit{a\\_b}" in tex and "c_{2}" in tex
    body = "\n".join(line for line in tex.split("\n") if not line.startswith("%"))   # comments may hold anything
    assert not re.search(r"_(?!\{)", body.replace("\\_", "")), "a bare _ outside a subscript"


def test_escape_every_special():
    raw = r"\ { } $ & % # _ ^ ~"
    escaped = escape(raw)
    for bad in ["$ ", "& ", "% ", "# ", "~"]:
        assert bad not in escaped.replace("\\" + bad[0], "")
    assert escaped.startswith("\\textbackslash{}")
    assert escape("x·y−z") == "x$\\cdot$y-z"


def test_names_and_numbers():
    assert name("x1") == "x_{1}" and name("x_12") == "x_{12}" and name("theta") == "\\theta"
    assert name("rate") == "\\mathit{rate}" and name("y") == "y"
    assert number(2.5) == "2.5" and number(-3) == "-3"
    assert number(1.5e-7, 3) == "1.5 \\times 10^{-7}" and number(1e20) == "10^{20}"
    assert number(float("inf")) == "\\infty" and number(float("nan")) == "\\text{NaN}"


@pytest.mark.parametrize(("paper", "latex"), [
    ("w4 = w1·w2", "w_{4} = w_{1} \\cdot w_{2}"),
    ("ẇ3 = cos(w1)·ẇ1", "\\dot{w}_{3} = \\cos (w_{1}) \\cdot \\dot{w}_{1}"),
    ("w̄1 = w̄3·cos(w1) + w̄4·w2", "\\bar{w}_{1} = \\bar{w}_{3} \\cdot \\cos (w_{1}) + \\bar{w}_{4} \\cdot w_{2}"),
    ("1/√(1 − w1²)", "1/\\sqrt{1 - w_{1}^{2}}"),
    ("2·w1^(2−1)", "2 \\cdot w_{1}^{2-1}"),
    ("w1^(-1)", "w_{1}^{-1}"),
    ("w_bar4 = w_dot3*sqrt(w1)", "\\bar{w}_{4} = \\dot{w}_{3} \\cdot \\sqrt{w_{1}}"),
])
def test_paper_notation_to_math(paper, latex):
    assert to_math(paper) == latex


def every_primitive_in_math():
    """Each primitive's definition and partials, written by the same code as the output."""
    rows = []
    for prim in PRIMITIVES.values():
        names = {"w": "w3", "a": "w1", "b": "w2"}
        rows.append(to_math(f"w3 = {prim.show.format(**names)}"))
        rows += [to_math(rule.format(**names)) for rule in prim.rules]
    return rows


def test_no_point_gives_the_wengert_list():
    result = run(WORKED, "--format", "latex")
    assert result.exit_code == 0
    tex = result.stdout
    assert "tabular" in check_structure(tex)
    rows = re.findall(r"^\$w_\{(\d+)\}\$ & \$(.*?)\$", tex, re.M)
    assert [int(i) for i, _ in rows] == list(range(1, 8))
    assert dict(rows)["4"] == "w_{1} \\cdot w_{2}" and dict(rows)["3"] == "\\sin (w_{1})"


def test_standalone_is_a_document_and_conflicts_with_json():
    tex = run(WORKED, "--at", "1,2", "--latex-standalone").stdout
    assert "document" in check_structure(tex)
    assert tex.startswith("\\documentclass{article}") and tex.rstrip().endswith("\\end{document}")
    assert "\\usepackage{amsmath}" in tex and "\\usepackage{booktabs}" in tex
    result = run(WORKED, "--at", "1,2", "--latex-standalone", "--format", "json")
    assert result.exit_code == 2


def pdflatex(tmp_path, tex):
    (tmp_path / "doc.tex").write_text(tex, encoding="ascii")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    log = done.stdout
    assert done.returncode == 0, log[-3000:]
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")
    return log


@needs_pdflatex
@pytest.mark.parametrize("args", [
    [WORKED, "--at", "1,2", "--at", "0,-1"],
    [WORKED],
    ["f(a_b, c) = a_b^c / log(c) + sqrt(a_b)", "--at", "2,3", "--mode", "reverse", "--seed", "1"],
    ["2+3"],
])
def test_standalone_compiles(tmp_path, args):
    result = run(*args, "--latex-standalone")
    assert result.exit_code == 0, result.output
    log = pdflatex(tmp_path, result.stdout)
    assert "Missing" not in log and "Undefined control sequence" not in log


@needs_pdflatex
def test_every_primitive_and_tricky_text_compile(tmp_path):
    rows = [*every_primitive_in_math(), to_math("ẋ1 = 1, ȳ2 = 0"), to_math("inf + nan")]
    body = "\n".join(f"\\[ {row} \\]" for row in rows)
    body += "\n\\texttt{" + escape(r"\ { } $ & % # _ ^ ~ · − …") + "}\n"
    log = pdflatex(tmp_path, standalone(body))
    assert "Undefined control sequence" not in log
    assert len(rows) > len(PRIMITIVES)
