"""Symbolic Jacobians: our sweeps over SymPy symbols, checked against hand derivations,
SymPy's own differentiation, the numeric engines, and adjac's parser (round trip)."""

import itertools
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from autodiff_cli import jacobian, parse
from autodiff_cli.cli import main
from autodiff_cli.core.primitives import CONSTANTS, PRIMITIVES

sp = pytest.importorskip("sympy")
from autodiff_cli import symbolic  # noqa: E402
from autodiff_cli.outputs.latex import symbolic_jacobian  # noqa: E402

MODES = ["forward", "reverse"]
x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)


def run(*args):
    return CliRunner().invoke(main, list(args))


def same(a, b):
    """a and b are the same formula (SymPy simplifies their difference to zero)."""
    d = a - b
    if sp.expand(d) == 0 or sp.simplify(d) == 0:
        return True
    d = d.rewrite(sp.exp)                 # cosh, tanh ... in exponentials
    return sp.simplify(d) == 0 or d.equals(0) is True      # equals: simplify, then numbers


def value_at(text, inputs, x):
    """A printed formula read back by adjac's own parser and evaluated numerically."""
    graph = parse(text, inputs)
    y, _ = jacobian(graph, np.asarray(x, dtype=float))
    return y[0]


# --- hand-derived examples ---------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_worked_example(mode):
    report = symbolic.compute(parse("x1*x2 + sin(x1), exp(x1-x2)"), mode)
    assert report.n_passes == 2
    J = [[symbolic.formula(c) for c in row] for row in report.jacobian]
    assert J == [["x2 + cos(x1)", "x1"], ["exp(x1 - x2)", "-exp(x1 - x2)"]]
    hand = [[x2 + sp.cos(x1), x1], [sp.exp(x1 - x2), -sp.exp(x1 - x2)]]
    assert all(same(c, h) for row, hand_row in zip(report.jacobian, hand) for c, h in zip(row, hand_row))


@pytest.mark.parametrize("mode", MODES)
def test_exercise(mode):
    report = symbolic.compute(parse("x1*x2 + x1*x3, ln(x1+x2)"), mode)
    assert report.n_passes == (3 if mode == "forward" else 2)
    J = [[symbolic.formula(c) for c in row] for row in report.jacobian]
    assert J == [["x2 + x3", "x1", "x1"], ["1/(x1 + x2)", "1/(x1 + x2)", "0"]]


def test_seeded_products():
    graph = parse("x1*x2 + x1*x3, ln(x1+x2)")
    forward = symbolic.compute(graph, "forward", seed=(1.0, 0.0, 2.0))
    assert same(forward.product[0], x2 + x3 + 2 * x1)
    assert same(forward.product[1], 1 / (x1 + x2))
    reverse = symbolic.compute(graph, "reverse", seed=(0.0, 1.0))
    assert [symbolic.formula(c) for c in reverse.product] == ["1/(x1 + x2)", "1/(x1 + x2)", "0"]


def test_constants_stay_exact():
    report = symbolic.compute(parse("x*ln(2) + 2*pi*x + x/3 + e^x + x^0.5"), "forward")
    (c,) = report.jacobian[0]
    x = sp.Symbol("x", real=True)
    assert same(c, sp.log(2) + 2 * sp.pi + sp.Rational(1, 3) + sp.exp(x) + 1 / (2 * sp.sqrt(x)))


def test_repeated_outputs_and_constant_outputs():
    report = symbolic.compute(parse("x1*x2, x1*x2, 3"), "reverse")
    assert [[symbolic.formula(c) for c in row] for row in report.jacobian] == [["x2", "x1"], ["x2", "x1"], ["0", "0"]]


# --- one table: every primitive's symbolic partial is its numeric partial -----------------
SAMPLES = [-1.7, -0.6, -0.25, 0.3, 0.8, 1.6, 2.5]


def inside(name, u):
    """u is a point where the primitive and all its partials are finite (inside its domain)."""
    prim = PRIMITIVES[name]
    with np.errstate(all="ignore"):
        w = prim.f(*u)
        return np.isfinite(w) and all(np.isfinite(p(w, *u)) for p in prim.partials)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_each_primitive_symbolic_partial_equals_numeric(name):
    prim = PRIMITIVES[name]
    arity = len(prim.partials)
    points = [u for u in itertools.product(SAMPLES, repeat=arity) if inside(name, u)]
    assert len(points) >= 2, f"no sample points inside the domain of {name}"
    slots = sp.symbols("a b c", real=True)[:arity]
    w = symbolic.values()[name](*slots)                    # its value, in SymPy
    for u in points:
        at = dict(zip(slots, u))
        w_num = prim.f(*u)
        assert complex(w.subs(at).evalf()) == pytest.approx(w_num, rel=1e-12, abs=1e-12)
        for k in range(arity):
            c = symbolic.partial(name, k, w, slots)
            assert complex(c.subs(at).evalf()) == pytest.approx(prim.partials[k](w_num, *u), rel=1e-12, abs=1e-12), (name, k, u)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_each_rule_is_adjacs_language(name):
    for k in range(len(PRIMITIVES[name].partials)):
        parse(symbolic.rule_text(name, k), ["w", "a", "b", "c"])   # raises ParseError if not


def test_value_and_constant_maps_cover_the_table():
    assert set(symbolic.values()) == set(PRIMITIVES)
    assert set(symbolic.constants()) == set(CONSTANTS)
    for name, value in CONSTANTS.items():
        assert float(symbolic.constants()[name]) == value


# --- random expressions: our sweeps == SymPy's differentiation == the numeric engines ------
def unary(e):
    return st.builds("{}({})".format, st.sampled_from(["sin", "cos", "exp", "atan", "tanh", "sigmoid"]), e)


exprs = st.recursive(
    st.sampled_from(["x1", "x2", "x3", "1", "2", "0.5", "pi"]),
    lambda e: st.builds("({} {} {})".format, e, st.sampled_from("+-*"), e)
    | st.builds("({})^{}".format, e, st.sampled_from(["2", "3"]))
    | st.builds("{}/(1 + ({})^2)".format, e, e)
    | st.builds("sqrt(1 + ({})^2)".format, e)
    | unary(e),
    max_leaves=7,
)
points = st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3)
INPUTS = ["x1", "x2", "x3"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
@given(st.lists(exprs, min_size=1, max_size=2), points)
def test_random_expressions(texts, x):
    text = ", ".join(texts)
    graph = parse(text, INPUTS)
    names = dict(zip(INPUTS, (x1, x2, x3)))
    theirs = sp.Matrix([[sp.diff(f, v) for v in (x1, x2, x3)] for f in symbolic.expressions(text, names)])
    _, J_num = jacobian(graph, np.asarray(x))
    for mode in MODES:
        report = symbolic.compute(graph, mode)
        for k in range(graph.m):
            for j in range(graph.n):
                ours = report.jacobian[k][j]
                assert same(ours, theirs[k, j]), (mode, k, j, ours, theirs[k, j])
                printed = symbolic.formula(ours)
                assert value_at(printed, INPUTS, x) == pytest.approx(J_num[k, j], rel=1e-9, abs=1e-9), printed


# --- the printer: formulas adjac reads back --------------------------------------------------
x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)


@pytest.mark.parametrize(
    "expr",
    [-x**2, (-x) ** 3, x ** sp.Rational(1, 3), (-2) ** x, 2 ** (3**x), x**-1, 1 / sp.sqrt(x), sp.exp(-x) / 3,
     sp.log(x) / sp.log(2), sp.Abs(x - y) * sp.sign(y), sp.E * x, sp.pi / x, sp.Float(0.1) * x, -x / (y - 1),
     sp.atanh(x / 2) - sp.acosh(y + 3), x ** (y - 1) * y, sp.cos(x) ** -2, sp.Rational(-7, 3) * x ** 2],
)
def test_formula_round_trip(expr):
    text = symbolic.formula(expr)
    assert "**" not in text and "log" not in text and "Abs" not in text
    (back,) = symbolic.expressions(text, {"x": x, "y": y})
    assert same(back, expr), text
    point = [0.7, -0.4]
    expected = complex(expr.subs({x: point[0], y: point[1]}).evalf())
    got = value_at(text, ["x", "y"], point)
    if expected.imag == 0:
        assert got == pytest.approx(expected.real, rel=1e-12)
    else:
        assert np.isnan(got)             # adjac is real: a root of a negative number is nan


def test_paper_notation():
    assert symbolic.formula(x * y - sp.cos(x), paper=True) == "x·y − cos(x)"


def test_latex():
    report = symbolic.compute(parse("x1*x2 + sin(x1), exp(x1-x2)"), "forward")
    tex = symbolic_jacobian(report)
    assert r"\cos" in tex and r"e^{x_{1} - x_{2}}" in tex and "matrix" in tex


# --- the command ---------------------------------------------------------------------------
CASES = [
    "x1*x2 + sin(x1), exp(x1-x2)",
    "x1*x2 + x1*x3, ln(x1+x2)",
    "f(x, y) = x^y + sqrt(x)*abs(y) - log2(x)/y, atan(x/y)*pi, x^-1 + cbrt(x) + 2.5^x",
]


@pytest.mark.parametrize("text", CASES)
@pytest.mark.parametrize("mode", MODES)
def test_json_formulas_parse_back_and_match_numbers(text, mode):
    result = run(text, "--mode", mode, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["symbolic"] is True and doc["mode"] == mode
    inputs = doc["variables"]
    point = [1.3, 0.7, 2.1][: len(inputs)]
    numeric = json.loads(run(text, "--mode", mode, "--format", "json", "--at", ",".join(map(str, point))).stdout)
    (res,), (num,) = doc["results"], numeric["results"]
    assert doc["passes"] == numeric["passes"]
    for formula, value in zip(res["value"], num["value"]):
        assert value_at(formula, inputs, point) == pytest.approx(value, rel=1e-12)
    for row, num_row in zip(res["jacobian"], num["jacobian"]):
        for formula, value in zip(row, num_row):
            assert value_at(formula, inputs, point) == pytest.approx(value, rel=1e-12, abs=1e-15), formula
    for entry in doc["wengert"]:
        parse(entry["formula"], inputs)


def test_table_shows_formulas():
    result = run("x1*x2 + sin(x1), exp(x1-x2)")
    assert result.exit_code == 0
    assert "x2 + cos(x1)" in result.stdout and "exp(x1 − x2)" in result.stdout
    assert "forward mode: 2 passes" in result.stdout
    assert "--at" in result.stderr                # how to get numbers instead


def test_ascii_table():
    result = run("x1*x2 - sin(x1)", "--ascii", "--symbolic")
    assert result.exit_code == 0
    assert "x2 - cos(x1)" in result.stdout and "d/dx1" in result.stdout
    assert result.stderr == ""


def test_symbolic_with_at_is_a_table_only():
    result = run("x^2", "--symbolic", "--at", "1", "--format", "json")     # the side-by-side view is a table
    assert result.exit_code == 2 and "--at" in result.stderr and "table" in result.stderr
    assert run("x^2", "--symbolic", "--at", "1", "--hessian").exit_code == 2


def test_csv_needs_a_point():
    result = run("x^2", "--format", "csv")
    assert result.exit_code == 2 and "csv" in result.stderr


def test_missing_sympy_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)          # import sympy now raises ImportError
    result = run("x1*x2 + sin(x1)")
    assert result.exit_code == 2
    assert "pip install 'sympy>=1.12'" in result.stderr
    assert "adjac[" not in result.stderr and "[symbolic]" not in result.stderr    # no extra exists
    assert result.stdout == ""
    assert run("x1*x2 + sin(x1)", "--at", "1,2").exit_code == 0     # numbers need no SymPy


def test_numeric_runs_do_not_import_sympy():
    code = textwrap.dedent("""
        import sys
        from click.testing import CliRunner
        from autodiff_cli.cli import main
        result = CliRunner().invoke(main, ["x1*x2 + sin(x1)", "--at", "1,2", "--format", "json"])
        assert result.exit_code == 0, result.output
        print("sympy" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_not_finite_formulas_warn_and_exit_1():
    result = run("x + ln(-1)*y, x/0", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["results"][0]["jacobian"] == [["1", "(0/0)"], ["(1/0)", "0"]]
    assert {w["expression"] for w in doc["warnings"]} == {"x + ln(-1)*y", "x/0"}
    assert "not finite" in result.stderr
    assert np.isnan(value_at("(0/0)", ["x"], [1.0])) and value_at("(1/0)", ["x"], [1.0]) == np.inf


def test_too_deep_for_sympy_is_a_clear_error():
    result = run("sin(" * 3000 + "x" + ")" * 3000)
    assert result.exit_code == 2
    assert "--at" in result.stderr and "Traceback" not in result.output


# --- --trace without a point -------------------------------------------------------------------
def trace_of(text, *args):
    result = run(text, "--trace", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["results"][0]["trace"]


def test_trace_worked_example_forward():
    tr = trace_of("sin(x1) + x1*x2, exp(x1-x2)", "--mode", "forward")
    first, second = (p["derivatives"] for p in tr["passes"])
    assert (first["w3"], first["w6"], first["w7"]) == ("cos(x1)", "x2 + cos(x1)", "exp(x1 - x2)")
    assert (second["w6"], second["w7"]) == ("x1", "-exp(x1 - x2)")
    assert [n["definition"] for n in tr["nodes"][2:]] == ["sin(w1)", "w1·w2", "w1 − w2", "w3 + w4", "exp(w5)"]
    assert [n["value"] for n in tr["nodes"][2:]] == ["sin(x1)", "x1*x2", "x1 - x2", "x1*x2 + sin(x1)", "exp(x1 - x2)"]


def test_trace_exercise_reverse():
    tr = trace_of("x1*x2 + x1*x3, ln(x1+x2)", "--mode", "reverse")
    first, second = (p["derivatives"] for p in tr["passes"])
    assert [first[w] for w in ("w1", "w2", "w3")] == ["x2 + x3", "x1", "x1"]
    assert [second[w] for w in ("w1", "w2", "w3")] == ["1/(x1 + x2)", "1/(x1 + x2)", "0"]
    rows = {row["name"]: row for row in tr["passes"][0]["rows"]}
    bar = "w\u0304"                                     # w̄ with a combining macron
    assert rows["w1"]["equation"] == f"{bar}4·w2 + {bar}5·w3 + {bar}6"      # fan-out: w1 has three successors


@pytest.mark.parametrize("text", [*CASES, "x1*x1 + x1, x1*x2, x1*x2"])
@pytest.mark.parametrize("mode", MODES)
def test_trace_formulas_are_the_numeric_trace(text, mode):
    """Same rows and rules as the numeric trace; every formula, read back, gives its numbers."""
    symbolic_tr = trace_of(text, "--mode", mode)
    names = json.loads(run(text, "--format", "json").stdout)["variables"]
    point = [1.3, 0.7, 2.1][: len(names)]
    numeric_tr = trace_of(text, "--mode", mode, "--at", ",".join(map(str, point)))
    for node, num in zip(symbolic_tr["nodes"], numeric_tr["nodes"]):
        assert node["definition"] == num["definition"]
        assert value_at(node["value"], names, point) == pytest.approx(num["value"], rel=1e-12)
    for sym_pass, num_pass in zip(symbolic_tr["passes"], numeric_tr["passes"], strict=True):
        assert sym_pass["label"] == num_pass["label"]
        for row, num_row in zip(sym_pass["rows"], num_pass["rows"], strict=True):
            assert (row["name"], row["equation"], row["structurally_zero"]) == \
                (num_row["name"], num_row["equation"], num_row["structurally_zero"])
            assert value_at(row["value"], names, point) == pytest.approx(num_row["value"], rel=1e-12, abs=1e-15)
            for term, num_term in zip(row["terms"], num_row["terms"], strict=True):
                assert term["rule"] == num_term["rule"]
                assert value_at(term["c"], names, point) == pytest.approx(num_term["c"], rel=1e-12, abs=1e-15)


def test_trace_table_and_latex():
    result = run("sin(x1) + x1*x2, exp(x1-x2)", "--trace")
    lines = result.stdout.split("\n")
    dot = "w\u0307"                                     # ẇ with a combining dot, as trace.Notation writes it
    assert any(f"{dot}6" in line and f"{dot}3 + {dot}4" in line and "x2 + cos(x1)" in line and "∂y1/∂x1" in line
               for line in lines)
    assert any(f"{dot}7" in line and "−exp(x1 − x2)" in line and "∂y2/∂x2" in line for line in lines)
    tex = run("sin(x1) + x1*x2, exp(x1-x2)", "--trace", "--mode", "reverse", "--format", "latex").stdout
    assert r"\bar{w}_{1}" in tex and r"\mathbf{x_{2} + \cos{\left(x_{1} \right)}}" in tex
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 3     # primal + 2 passes


def test_inputs_named_e_and_pi_keep_the_constants_apart():
    text = "f(e, pi) = e*exp(1) + pi*acos(-1)"
    doc = json.loads(run(text, "--format", "json").stdout)
    (row,) = doc["results"][0]["jacobian"]
    assert row == ["exp(1)", "acos(-1)"]
    for formula, expected in zip(row, [np.e, np.pi]):
        assert value_at(formula, ["e", "pi"], [5.0, 7.0]) == pytest.approx(expected, rel=1e-15)
    assert json.loads(run("2*e*x", "--format", "json").stdout)["results"][0]["jacobian"] == [["2*e"]]


def test_huge_constant_powers_finish_at_once():
    # exactly, 9^9^9 has 370 million digits: powers of numbers with big exponents are taken in doubles
    result = run("x*(9^9^9)^0 + 9**9**9**9*y + x*2^10", "--format", "json")
    assert result.exit_code == 1                                    # inf*y: not finite, as with numbers
    (row,) = json.loads(result.stdout)["results"][0]["jacobian"]
    assert row == ["1025", "(1/0)"]


# --- formulas that are not real, and the cube root (issue 11, item 9) -------------------------
NOT_REAL = ["(-2)^x", "(-1)^x", "acosh(x-x)", "log(x-x-1)", "sqrt(x-x-1)", "(x-x-2)^x", "(-3)^(x*y)",
            "acos(2+x-x)*x", "asin(x-x+3)"]
SYMPY_SYNTAX = ("**", "I*", "*I", "Piecewise", "Traceback", "zoo", "atan2", "Eq(")


@pytest.mark.parametrize("text", NOT_REAL)
@pytest.mark.parametrize("fmt", ["table", "json", "latex"])
def test_a_formula_that_is_not_real_is_flagged_not_a_traceback(text, fmt):
    result = run(text, "--format", fmt)
    assert result.exit_code == 1, (result.stdout, result.stderr)          # printed, and flagged
    assert "not finite" in result.stderr
    for syntax in SYMPY_SYNTAX:
        assert syntax not in result.stdout and syntax not in result.stderr, syntax
    assert "\\mathrm{i}" not in result.stdout and " i " not in result.stdout


@pytest.mark.parametrize("text", ["cbrt(sqrt(x))", "cbrt(x)*x", "cbrt(x^2 + 1)", "cbrt(x - 8)"])
def test_the_cube_root_has_a_real_formula_that_reads_back(text):
    doc = json.loads(run(text, "--format", "json").stdout)
    (derivative,) = doc["results"][0]["jacobian"][0]
    assert "Piecewise" not in derivative and "real_root" not in derivative
    graph, again = parse(text), parse(derivative, ["x"])
    for x in (0.3, 2.0, 9.5):                               # the formula's numbers are adjac's numbers
        _, J = jacobian(graph, [x])
        y, _ = jacobian(again, [x])
        assert y[0] == pytest.approx(J[0, 0], rel=1e-12)


SYMBOLIC_ATOMS = st.sampled_from(["x", "y", "x-x", "x-x-1", "-2", "0", "1", "2", "0.5", "pi"])
SYMBOLIC_EXPRS = st.recursive(
    SYMBOLIC_ATOMS,
    lambda e: st.builds("({} {} {})".format, e, st.sampled_from(["+", "-", "*", "/", "^"]), e)
    | st.builds("{}({})".format, st.sampled_from(["log", "sqrt", "cbrt", "acosh", "asin", "atanh", "abs",
                                                  "sign", "exp", "tan", "sigmoid"]), e),
    max_leaves=5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.generate])
@given(SYMBOLIC_EXPRS)
def test_the_symbolic_path_never_ends_in_a_traceback(text):
    result = run(text, "--format", "json")
    assert result.exit_code in (0, 1, 2), result.exception
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:                               # a clean message, never SymPy's syntax
        assert result.stderr.count("Error:") == 1
        for syntax in SYMPY_SYNTAX:
            assert syntax not in result.stderr, (text, result.stderr)
    else:                                                   # formulas in adjac's language, which it reads back
        doc = json.loads(result.stdout)
        names = doc["variables"]
        for row in doc["results"][0]["jacobian"]:
            for formula in row:
                parse(formula, names)
