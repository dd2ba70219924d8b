"""Issue 13, item 5: names that collide.  Inputs named y1, w2 never read as outputs or
Wengert variables: the display letters change (f1, v1), and the output says so."""

from __future__ import annotations

import csv
import io

from click.testing import CliRunner

from autodiff_cli.cli import main
from autodiff_cli.core.parse import parse
from autodiff_cli.outputs.notation import letters, renamed


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_letters():
    assert letters(parse("x1*x2")) == ("w", "y")
    assert letters(parse("y1*y2")) == ("w", "f")
    assert letters(parse("w2*x")) == ("v", "y")
    assert letters(parse("w_bar1 + y_dot2 + f1 + v3")) == ("u", "g")
    assert letters(parse("y + w + why")) == ("w", "y")              # no digits: nothing reads as y1 or w1
    assert renamed(parse("x1*x2")) == ""
    assert "y1, w2" in renamed(parse("y1*w2"))


def test_csv_columns_are_unique():
    result = run("y1*y2, y1+y2", "--at", "1,2", "--format", "csv")
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert header == ["y1", "y2", "f1", "f2", "d(f1)/d(y1)", "d(f1)/d(y2)", "d(f2)/d(y1)", "d(f2)/d(y2)"]
    assert "note:" in result.stderr and "f1" in result.stderr
    for args in (["--seed", "1,0", "--mode", "forward"], ["--seed", "1,0", "--mode", "reverse"], ["--check"]):
        header = next(csv.reader(io.StringIO(run("y1*y2, y1+y2", "--at", "1,2", "--format", "csv", *args).stdout)))
        assert len(header) == len(set(header)), header
    header = run("check*y1", "--at", "1,2", "--format", "csv", "--check").stdout.split("\n")[0].split(",")
    assert len(header) == len(set(header)) and header[-1] == "check_"


def test_tables_never_label_an_output_as_an_input():
    out = run("y1*y2, y1+y2", "--at", "1,2").stdout
    assert "f1 = y1*y2" in out and "y1 = y1*y2" not in out
    assert out.startswith("note: the outputs are called f1, f2")
    formulas = run("y1*y2, y1+y2").stdout
    assert "f1 = y1*y2" in formulas and "y1 = y1*y2" not in formulas
    assert "output f1" in run("y1*y2, y1+y2", "--trace").stdout                # the trace's roles, with --trace
    plain = run("x1*x2, x1+x2", "--at", "1,2").stdout
    assert "note:" not in plain and "y1 = x1*x2" in plain


def test_traces_never_read_an_input_as_a_wengert_variable():
    out = run("w2*x + sin(w2)", "--at", "1,2", "--trace").stdout
    assert "| v1       | w2         |" in out and "| w1 " not in out
    assert "v̄3·v1" in out and "∂y1/∂w2" in out
    for args in (["--mode", "forward"], ["--mode", "reverse"]):
        traced = run("w1*y1, y2", "--at", "1,2,3", "--trace", *args).stdout
        variables = [line.split("|")[1].strip() for line in traced.split("\n") if line.startswith("| ")]
        assert not [v for v in variables if v.startswith("w")], traced     # v1, v̄1, v̇1: never w1
        assert "output f1" in traced and "∂f1/∂w1" in traced
    symbolic = run("w2*x + sin(w2)", "--trace").stdout
    assert "| v1       | w2 " in symbolic and "v̄" in symbolic


def test_latex_and_dot_use_the_same_letters_as_the_tables():
    """Inputs named w2 and y1: the Wengert variables are v1 ..., the outputs f1 ..., in the
    LaTeX trace and the DOT labels too, so no display reads an input as a variable."""
    from click.testing import CliRunner

    from autodiff_cli.cli import main

    tex = CliRunner().invoke(main, ["w2*x + y1", "--at", "1,2,3", "--trace", "--format", "latex"]).stdout
    assert "$v_{4}$ & $v_{1} \\cdot v_{2}$" in tex and "output $f_{1}$" in tex
    assert "\\frac{\\partial f_{1}}{\\partial (w_{2}, x, y_{1})}" in tex
    dot = CliRunner().invoke(main, ["w2*x + y1", "--at", "1,2,3", "--graph", "--mode", "reverse"]).stdout
    assert 'label="v4 = v1·v2' in dot and "f1 = v5" in dot and "∂v4/∂v1" in dot
    assert "w4" not in dot.replace("  w4 [", "").replace("-> w4", "").replace("w4 ->", "")   # only as DOT node ids
