"""Traces that look like the lecture (issue 13, item 4): named constants, the numbering of the
Wengert variables, one mark for structural zeros, one convention for quotients, formulas
without the trace, and formulas beside their values at a point."""

import math

import pytest
from click.testing import CliRunner

from autodiff_cli import compute, parse
from autodiff_cli.cli import main
from autodiff_cli.outputs.notation import Notation, definition, notation_for

DOT, BAR = "\u0307", "\u0304"
LEGEND = "structurally zero: no path in the graph"


def run(*args, code=0):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result


def rows(text, first):
    """The cells of the table rows whose first cell is ``first``."""
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|") and line.strip("|").split("|")[0].strip() == first]


# --- constants: π and e, and e^u is exp(u) ------------------------------------------------------
def test_constants_print_by_name():
    g = parse("sin(pi*x1), 2^x1, pi^x1")
    shown = [definition(g, i) for i in range(g.n, len(g))]
    assert "π·w1" in shown and "π^w1" in shown
    ascii = Notation(unicode=False)
    assert [ascii.math(definition(g, i, ascii)) for i in range(g.n, len(g))].count("pi*w1") == 1
    text = run("pi^x1", "--at", "2", "--trace").stdout
    assert f"w2·ln(π)·w{DOT}1" in text or f"w{BAR}2·w2·ln(π)" in text
    assert "3.141592653589793" not in text
    assert "pi·w1" in str(g) or "pi" in g.definition(g.n)         # the graph's own text, as typed: pi


def test_e_to_the_u_is_exp():
    g = parse("e^(x1-x2)")
    assert g.tape[-1].prim == "exp"                                 # the primitive, not pow with a base 2.718...
    assert parse("(e)^x").tape[-1].prim == "exp" and parse("exp(x)").tape[-1].prim == "exp"
    assert parse("2^x").tape[-1].prim == "pow"
    assert parse("e^x", ["e", "x"]).tape[-1].prim == "pow"           # an input named e is no constant
    text = run("e^(x1-x2)", "--at", "1,2", "--trace").stdout
    assert "exp(w3)" in text and "2.718281828459045" not in text
    report = compute(parse("e^x"), [[0.7]])
    assert report.jacobian[0][0][0] == math.exp(0.7)                # exact: no ln(2.718281828459045) factor


def test_a_literal_like_pi_with_an_input_named_pi_stays_a_number():
    g = parse("pi*x + 3.141592653589793*x", ["pi", "x"])
    assert "π" not in "".join(definition(g, i) for i in range(len(g)))


def test_formulas_print_pi():
    out = run("sin(pi*x1)").stdout
    assert "π·cos(π·x1)" in out
    assert "pi·cos(pi·x1)" in run("sin(pi*x1)", "--ascii").stdout.replace("*", "·")


def test_latex_keeps_e_to_the_u():
    tex = run("e^x", "--format", "latex").stdout
    assert "e^{x}" in tex


# --- numbering ---------------------------------------------------------------------------------------
def test_numbering_by_depth_or_appearance():
    text = "exp(x1 - x2), x1*x2 + sin(x1)"
    depth, appearance = parse(text), parse(text, numbering="appearance")
    assert [op.prim for op in depth.tape] == ["sub", "mul", "sin", "exp", "add"]
    assert [op.prim for op in appearance.tape] == ["sub", "exp", "mul", "sin", "add"]
    assert appearance.outputs == (3, 6) and depth.outputs == (5, 6)          # outputs in order, y1 before y2
    for g in (depth, appearance):
        assert all(a < g.n + k for k, op in enumerate(g.tape) for a in op.args if isinstance(a, int))
    with pytest.raises(ValueError):
        parse("x", numbering="alphabetical")


def test_numbering_option_and_heading():
    out = run("exp(x1 - x2), x1*x2 + sin(x1)", "--at", "1,2", "--trace", "--numbering", "appearance").stdout
    assert "(w numbered in order of appearance)" in out.splitlines()[0]
    assert rows(out, "w4")[0][1] == "exp(w3)"
    assert "(w numbered by depth)" in run("x1*x2", "--at", "1,2", "--trace").stdout.splitlines()[0]
    assert "(w numbered by depth)" in run("x1*x2", "--trace").stdout
    run("x", "--at", "1", "--numbering", "random", code=2)


def test_numbering_gives_the_same_jacobian():
    text = "x1*x2 + x1*x3, ln(x1+x2), exp(sin(x3))"
    a = compute(parse(text), [[1.0, 2.0, 3.0]]).jacobian
    b = compute(parse(text, numbering="appearance"), [[1.0, 2.0, 3.0]]).jacobian
    assert (a == b).all()


# --- structural zeros ---------------------------------------------------------------------------
def test_one_zero_mark_and_one_legend():
    out = run("x1*x2, sin(x3)", "--at", "1,2,3", "--trace", "--mode", "forward").stdout
    assert out.count(LEGEND) == 1                                # once, under the first table that uses it
    lines = out.splitlines()
    legend = next(k for k, line in enumerate(lines) if LEGEND in line)
    first_zero = next(k for k, line in enumerate(lines) if line.startswith("|") and "| · |" in line.replace(" ", "")
                      .replace("|·|", "| · |"))
    assert first_zero < legend
    assert lines[legend].startswith("· ")
    assert rows(out, "y2 = sin(x3)")[0][2:4] == ["·", "·"]
    ascii = run("x1*x2, sin(x3)", "--at", "1,2,3", "--ascii").stdout
    assert ". " + LEGEND in ascii and rows(ascii, "y2 = sin(x3)")[0][2] == "."


def test_symbolic_zeros_use_the_mark():
    out = run("x1*x2, sin(x3)").stdout
    assert rows(out, "y2 = sin(x3)")[0][1:3] == ["·", "·"] and out.count(LEGEND) == 1
    assert LEGEND not in run("x1*x2", "--at", "1,2").stdout        # a full J needs no legend


# --- quotients ----------------------------------------------------------------------------------
def test_quotients_are_parenthesized_in_both_modes():
    reverse = run("ln(x1+x2)", "--at", "1,2", "--trace", "--mode", "reverse").stdout
    forward = run("ln(x1+x2)", "--at", "1,2", "--trace", "--mode", "forward").stdout
    assert f"w{BAR}4·(1/w3)" in reverse and "1·(1/3)" in reverse
    assert f"(1/w3)·w{DOT}3" in forward and "(1/3)·1" in forward


# --- formulas without the trace -------------------------------------------------------------------
def test_formulas_without_trace_print_j_only():
    out = run("x1*x2 + sin(x1), exp(x1-x2)").stdout
    assert "evaluation trace" not in out and "∂/∂x1" in out
    traced = run("x1*x2 + sin(x1), exp(x1-x2)", "--trace").stdout
    assert "evaluation trace" in traced and "pass 1 of" in traced


# --- --symbolic with --at -------------------------------------------------------------------------
def test_symbolic_at_a_point_shows_formula_and_value():
    out = run("x1/x2, sin(pi*x1)", "--symbolic", "--at", "1,3").stdout
    assert rows(out, "∂y1/∂x1")[0] == ["∂y1/∂x1", "1/x2", "1/3", "0.333333"]
    assert rows(out, "∂y1/∂x2")[0] == ["∂y1/∂x2", "−x1/x2^2", "−1/9", "-0.111111"]
    assert rows(out, "∂y2/∂x1")[0][2:] == ["−π", "-3.14159"]
    assert rows(out, "∂y2/∂x2")[0][1:] == ["·", "·", "·"] and LEGEND in out


def test_symbolic_at_decimal_points_are_exact():
    out = run("x^2", "--symbolic", "--at", "0.1", "--at", "x=0.5").stdout
    assert [r[2] for r in rows(out, "∂y1/∂x")] == ["1/5", "1"]
    out = run("sqrt(x)", "--symbolic", "--at", "2").stdout
    assert rows(out, "∂y1/∂x")[0][2] in ("sqrt(2)/4", "1/(2·sqrt(2))")


def test_symbolic_at_with_seed():
    out = run("x1*x2, x1", "--symbolic", "--at", "1,2", "--seed", "1,1", "--mode", "forward").stdout
    assert "(J·v)1" in out and "(J·v)2" in out


def test_notation_for_names_the_constants():
    nt = notation_for(parse("pi*x"), unicode=True)
    assert nt.constant("pi") == "π" and Notation(unicode=False).constant("pi") == "pi"
