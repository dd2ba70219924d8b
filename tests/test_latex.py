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
from autodiff_cli.core.primitives import PRIMITIVES
from autodiff_cli.outputs.latex import escape, name, number, standalone
from autodiff_cli.outputs.latex import math as to_math

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
    assert labels == [["\\sin\\left(x_{1}\\right) + x_{1} x_{2}"], ["\\exp\\left(x_{1} - x_{2}\\right)"]]
    assert "\\texttt" not in tex
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
    assert "f(\\mathit{a\\_b}, c_{2}) = \\mathit{a\\_b}^{c_{2}} + \\mathit{a\\_b}" in tex
    assert "\\mathit{a\\_b}" in tex and "c_{2}" in tex
    body = "\n".join(line for line in tex.split("\n") if not line.startswith("%"))   # comments may hold anything
    assert not re.search(r"_(?!\{)", body.replace("\\_", "")), "a bare _ outside a subscript"


@pytest.mark.parametrize(("expression", "typeset"), [
    ("x1*x2 + x1*x3", "x_{1} x_{2} + x_{1} x_{3}"),
    ("sin(pi*x)/(1 + e^y)", "\\frac{\\sin\\left(\\pi x\\right)}{1 + e^{y}}"),      # constants as typed
    ("2*3*x + x*2.5 + 1e-7*x", "2 \\cdot 3 x + x \\cdot 2.5 + 10^{-7} x"),           # nothing folded
    ("-x^2 + (-x)^2 + x - -y", "-x^{2} + \\left(-x\\right)^{2} + x - \\left(-y\\right)"),
    ("(x - y)*(x + y) - (x - y) + x^-1 + 2^3^x",
     "\\left(x - y\\right) \\left(x + y\\right) - \\left(x - y\\right) + x^{-1} + 2^{3^{x}}"),
    ("(x/y)^2 + sqrt(x) + cbrt(y) + abs(x - y)",
     "\\left(\\frac{x}{y}\\right)^{2} + \\sqrt{x} + \\sqrt[3]{y} + \\left|x - y\\right|"),
    ("log(x) + ln(y) + log10(x) + sigmoid(y)",
     "\\ln\\left(x\\right) + \\ln\\left(y\\right) + \\log_{10}\\left(x\\right) + \\sigma\\left(y\\right)"),
])
def test_the_function_is_typeset_as_mathematics(expression, typeset):
    """Issue 13, item 7: f as mathematics from the structure of what was typed, not \\texttt."""
    point = ",".join(str(k + 2) for k in range(parse(expression).n))
    for extra in (["--at", point], []):                                  # numbers, then formulas
        tex = run(expression, *extra, "--format", "latex").stdout
        check_structure(tex)
        assert f" = {typeset}\n" in tex
        assert "\\texttt" not in tex


def test_one_spelling_of_the_logarithm():
    """ln and log are one function, and a document spells it one way (\\ln) in f, J and the trace."""
    for extra in (["--at", "2,3"], []):
        tex = run("log(x)*y^x + ln(y)", *extra, "--format", "latex", "--trace").stdout
        check_structure(tex)
        assert "\\ln" in tex and "\\log" not in tex.replace("\\log_{", "")


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
        names = {"w": "w4", "a": "w1", "b": "w2", "c": "w3"}
        rows.append(to_math(f"w4 = {prim.show.format(**names)}"))
        rows += [to_math(rule.format(**names)) for rule in prim.rules]
    return rows


def test_no_point_gives_the_wengert_list():
    result = run(WORKED, "--format", "latex", "--trace")
    assert result.exit_code == 0
    tex = result.stdout
    assert "tabular" in check_structure(tex)
    assert "tabular" not in run(WORKED, "--format", "latex").stdout          # the sweeps only with --trace
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


# --- --trace --format latex: trace.py's sweeps, typeset -------------------------------------------
def trace_rows(tex):
    """Per tabular after the first matrix block: rows as lists of cells."""
    tables = re.findall(r"\\midrule\n(.*?)\\bottomrule", tex, re.S)
    return [[[c.strip() for c in line.strip().removesuffix("\\\\").split(" & ")] for line in body.strip().split("\n")]
            for body in tables]


def bold_values(rows):
    """{entry of J: value} from a pass table's bold cells."""
    found = {}
    for cells in rows:
        m = re.fullmatch(r"\$\\mathbf\{(.*)\}\$", cells[3])
        if m:
            found[cells[4]] = value(m.group(1))
    return found


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_trace_tables_worked_example(mode):
    result = run(WORKED, "--at", "1,2", "--format", "latex", "--trace", "--mode", mode, "--digits", "15")
    assert result.exit_code == 0, result.output
    tex = result.stdout
    assert check_structure(tex).count("tabular") == 3              # primal sweep + one per pass
    primal, *passes = trace_rows(tex)
    assert [row[0] for row in primal] == [f"$w_{{{i}}}$" for i in range(1, 8)]
    assert primal[3][1:3] == ["$w_{1} \\cdot w_{2}$", "$1 \\cdot 2$"]
    assert value(primal[2][3].strip("$")) == pytest.approx(math.sin(1), rel=1e-14)
    _, J = jacobian(parse(WORKED), [1.0, 2.0])
    e = math.exp(-1)
    mark = "\\dot{w}" if mode == "forward" else "\\bar{w}"
    for q, rows in enumerate(passes):
        assert all(row[0].startswith(f"${mark}_{{") for row in rows)
        entries = bold_values(rows)
        if mode == "forward":                                      # column q of J
            expected = {f"$\\partial y_{{{k + 1}}}/\\partial x_{{{q + 1}}}$": J[k, q] for k in range(2)}
        else:                                                      # row q of J
            expected = {f"$\\partial y_{{{q + 1}}}/\\partial x_{{{j + 1}}}$": J[q, j] for j in range(2)}
        assert entries.keys() == expected.keys()
        for key, v in expected.items():
            assert entries[key] == pytest.approx(v, rel=1e-14)
    if mode == "forward":
        row4 = next(r for r in passes[0] if r[0] == "$\\dot{w}_{4}$")
        assert row4[1:3] == ["$w_{2} \\cdot \\dot{w}_{1} + w_{1} \\cdot \\dot{w}_{2}$", "$2 \\cdot 1 + 1 \\cdot 0$"]
    else:
        row1 = next(r for r in passes[1] if r[0] == "$\\bar{w}_{1}$")
        assert row1[1] == "$\\bar{w}_{3} \\cdot \\cos (w_{1}) + \\bar{w}_{4} \\cdot w_{2} + \\bar{w}_{5}$"
        assert value(row1[3].strip("$").removeprefix("\\mathbf{").rstrip("}")) == pytest.approx(e, rel=1e-14)
    assert ("column 1 of $J$" if mode == "forward" else "row 1 of $J$: $\\nabla y_{1}$") in tex


def test_trace_long_sums_are_stacked():
    tex = run("x*x + x*sin(x) + x/x + x^x + sqrt(x)*x", "--at", "2", "--format", "latex", "--trace",
              "--mode", "reverse").stdout
    check_structure(tex)
    assert "\\begin{tabular}[t]{@{}l@{}}" in tex                  # a fan-out of many terms goes on several lines


def test_trace_seed_and_several_points():
    tex = run(WORKED, "--at", "1,2", "--at", "0,0", "--format", "latex", "--trace", "--seed", "1,1",
              "--mode", "forward").stdout
    check_structure(tex)
    assert tex.count("Evaluation trace") == 2
    assert "$J\\dot{x}$, one forward pass" in tex and "entry of $J\\dot{x}$" in tex


def test_numbers_under_a_power_are_grouped():
    assert to_math("1e-09^4") == "(10^{-9})^{4}" and to_math("1e-09²") == "(10^{-9})^{2}"
    assert to_math("2.5^2") == "2.5^{2}"


@needs_pdflatex
@pytest.mark.parametrize("args", [
    [WORKED, "--at", "1,2", "--trace"],
    [WORKED, "--at", "1,2", "--trace", "--mode", "reverse"],
    ["f(a_b, c) = a_b^c + tanh(c)/cbrt(a_b) + asin(c/9)", "--at", "1e-9,4", "--trace"],
    ["x*x, 3, x", "--at", "-2", "--trace", "--mode", "reverse"],
])
def test_trace_compiles(tmp_path, args):
    result = run(*args, "--latex-standalone")
    assert result.exit_code == 0, result.output
    log = pdflatex(tmp_path, result.stdout)
    assert "Undefined control sequence" not in log


def test_one_output_one_input_reads_like_a_derivative():
    tex = run("-x^2", "--at", "-3", "--format", "latex").stdout
    check_structure(tex)
    assert "J_{f}(-3) = \\frac{\\partial y_{1}}{\\partial x}" in tex
    assert matrices(tex)[-1] == [["6"]]


# --- the trace is typeset from structure, never by re-reading printed text (issue 12) ----------
@pytest.mark.parametrize("formulas", [False, True])
def test_inputs_named_like_the_notation_stay_names(formulas):
    # w_bar1, w_dot2 and xdot look like the trace's own w̄1, ẇ2 and ẋ; they are input names
    args = ["w_bar1 + w_dot2*xdot", "--trace", "--format", "latex", "--mode", "reverse"]
    if not formulas:
        args += ["--at", "1,2,3"]
    else:
        pytest.importorskip("sympy")
    result = run(*args)
    assert result.exit_code == 0, result.output
    tex = result.stdout
    check_structure(tex)
    # the names read like w̄1 and ẇ2, so the Wengert variables take another letter (v), as in the tables
    primal = [line for line in tex.split("\n") if line.startswith("$v_{1}$ &") or line.startswith("$v_{2}$ &")]
    assert primal[0].startswith(r"$v_{1}$ & $\mathit{w\_bar1}$")
    assert primal[1].startswith(r"$v_{2}$ & $\mathit{w\_dot2}$")
    if not formulas:
        assert r"$\partial y_{1}/\partial \mathit{w\_bar1}$" in tex
    # adjoints exist only for the 4 or 5 Wengert variables, never made out of a name
    assert not re.search(r"\\(bar|dot)\{[vw]\}_\{[6-9]\}", tex)
    assert r"\dot{v}" not in tex and r"\bar{w}" not in tex        # reverse mode: no tangents; no w at all


def test_every_template_of_the_table_keeps_its_slots():
    from autodiff_cli.outputs.latex import template

    for prim in PRIMITIVES.values():
        for text in (prim.show, *prim.rules):
            tex = template(text)
            for slot in ("{w}", "{a}", "{b}", "{c}"):
                assert (slot in text) == (slot in tex), (text, tex)
            assert "SLOT" not in tex and "mathit" not in tex, (text, tex)
