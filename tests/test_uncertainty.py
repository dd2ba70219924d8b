"""Propagation of uncertainty (issue 17): Σ_y = J Σ_x Jᵀ, the GUM's rounding, the budget, --coverage,
--second-order and the Monte Carlo --check, against hand-derived formulas and the `uncertainties` library."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autodiff_cli.cli import main
from autodiff_cli.core.parse import parse
from autodiff_cli.plusminus import split_pm
from autodiff_cli.uncertainty import (
    InputCovariance,
    coverage,
    monte_carlo,
    propagate,
    rounded,
    tolerance,
)

PENDULUM = "4*pi^2*L/T^2"


def run(*args):
    return CliRunner().invoke(main, list(args), prog_name="adjac")


def document(*args):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- hand-derived propagation ---------------------------------------------------------------
@pytest.mark.parametrize("at", ["L=1.000±0.002,T=2.007±0.004", "L=1.000+-0.002,T=2.007+-0.004",
                                "L = 1.000 ± 0.002, T=2.007 +/- 0.004", "T=2.007±0.004,L=1.000±0.002"])
def test_the_pendulum_by_hand(at):
    doc = document(PENDULUM, "--at", at)
    (out,) = doc["uncertainty"]
    g = 4 * math.pi**2 * 1.0 / 2.007**2
    relative = math.sqrt((0.002 / 1.0) ** 2 + (2 * 0.004 / 2.007) ** 2)        # u_c(g)/g for g = 4π²L/T²
    assert out["value"] == pytest.approx(g, rel=1e-15)
    assert out["uncertainty"] == pytest.approx(g * relative, rel=1e-13)
    assert out["text"] == "9.801 ± 0.044"
    shares = {tuple(t["inputs"]): t["share"] for t in out["budget"]}
    assert shares[("T",)] == pytest.approx((2 * 0.004 / 2.007) ** 2 / relative**2, rel=1e-12)
    assert shares[("L",)] + shares[("T",)] == pytest.approx(1, rel=1e-14)
    assert [t["inputs"] for t in out["budget"]] == [["T"], ["L"]]                # the larger share first
    assert doc["budget"] if "budget" in doc else True


def test_u_by_position_and_by_name_agree_with_plus_minus():
    a = document(PENDULUM, "--at", "L=1.000±0.002,T=2.007±0.004")
    b = document(PENDULUM, "--at", "1.000,2.007", "--u", "0.002,0.004")
    c = document(PENDULUM, "--at", "L=1,T=2.007", "--u", "T=0.004,L=0.002")
    assert a["uncertainty"][0]["uncertainty"] == b["uncertainty"][0]["uncertainty"] == c["uncertainty"][0]["uncertainty"]


def test_an_input_not_named_in_u_is_exact():
    doc = document(PENDULUM, "--at", "L=1,T=2.007", "--u", "T=0.004")
    assert doc["input_uncertainty"] == [0.0, 0.004]
    assert doc["uncertainty"][0]["uncertainty"] == pytest.approx(2 * 0.004 / 2.007 * doc["value"][0], rel=1e-13)
    doc = document(PENDULUM, "--at", "L=1,T=2.007±0.004")                    # ± on one value only
    assert doc["input_uncertainty"] == [0.0, 0.004]


def test_correlated_inputs_are_J_sigma_J_transposed(tmp_path):
    S = np.array([[0.01, 0.006], [0.006, 0.04]])
    path = tmp_path / "cov.csv"
    path.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in S) + "\n")
    doc = document("x*y, x/y, x", "--at", "2,3", "--cov", str(path))
    x, y = 2.0, 3.0
    J = np.array([[y, x], [1 / y, -x / y**2], [1, 0]])                         # by hand
    np.testing.assert_allclose(doc["covariance"], J @ S @ J.T, rtol=1e-14)
    u = np.sqrt(np.diag(J @ S @ J.T))
    np.testing.assert_allclose(doc["correlation"], (J @ S @ J.T) / np.outer(u, u), rtol=1e-13)
    budget = doc["uncertainty"][0]["budget"]
    cross = [t for t in budget if len(t["inputs"]) == 2]
    assert cross == [{"inputs": ["x", "y"], "sensitivity": pytest.approx(y * x), "variance": pytest.approx(2 * y * x * 0.006),
                      "share": pytest.approx(2 * y * x * 0.006 / (J @ S @ J.T)[0, 0])}]
    assert sum(t["variance"] for t in budget) == pytest.approx((J @ S @ J.T)[0, 0], rel=1e-14)


def test_corr_with_the_u_gives_the_same_covariance(tmp_path):
    R = np.array([[1.0, 0.3], [0.3, 1.0]])
    u = np.array([0.1, 0.2])
    np.save(tmp_path / "r.npy", R)
    np.save(tmp_path / "c.npy", R * np.outer(u, u))
    a = document("x*y + sin(x)", "--at", "x=2±0.1,y=3±0.2", "--corr", str(tmp_path / "r.npy"))
    b = document("x*y + sin(x)", "--at", "2,3", "--cov", str(tmp_path / "c.npy"))
    np.testing.assert_allclose(a["covariance"], b["covariance"], rtol=1e-14)


# --- against the `uncertainties` library ----------------------------------------------------
unc = pytest.importorskip("uncertainties")
from uncertainties import umath  # noqa: E402

LEAVES = ["x1", "x2", "x3", "1", "2"]


def _combine(op):
    return lambda a, b: (f"({a[0]} {op} {b[0]})", f"({a[1]} {op} {b[1]})")


exprs = st.recursive(
    st.sampled_from([(name, name) for name in LEAVES]),
    lambda e: (st.builds(_combine("+"), e, e) | st.builds(_combine("-"), e, e) | st.builds(_combine("*"), e, e)
               | st.builds(lambda a, b: (f"({a[0]} / (1 + ({b[0]})^2))", f"({a[1]} / (1 + ({b[1]})**2))"), e, e)
               | st.builds(lambda a: (f"sin({a[0]})", f"umath.sin({a[1]})"), e)
               | st.builds(lambda a: (f"exp({a[0]} / 4)", f"umath.exp({a[1]} / 4)"), e)
               | st.builds(lambda a: (f"sqrt(1 + ({a[0]})^2)", f"umath.sqrt(1 + ({a[1]})**2)"), e)),
    max_leaves=8)
values = st.floats(-2, 2, allow_nan=False)
sigmas = st.floats(0, 0.3, allow_nan=False)


@pytest.mark.filterwarnings("ignore:Using UFloat objects with std_dev==0")
@settings(max_examples=60, deadline=None)
@given(st.lists(exprs, min_size=1, max_size=2), st.tuples(values, values, values), st.tuples(sigmas, sigmas, sigmas))
def test_against_the_uncertainties_library(outputs, x, u):
    text = "f(x1, x2, x3) = " + ", ".join(a for a, _ in outputs)
    graph = parse(text)
    result = propagate(graph, np.array(x), InputCovariance(np.diag(np.array(u) ** 2), "test"))
    env = {"umath": umath, **{f"x{i + 1}": unc.ufloat(x[i], u[i]) for i in range(3)}}
    theirs = [eval(b, env) for _, b in outputs]                                  # our own strings
    theirs = [t if hasattr(t, "std_dev") else unc.ufloat(float(t), 0) for t in theirs]
    assume(all(math.isfinite(t.nominal_value) and abs(t.nominal_value) < 1e8 for t in theirs))
    np.testing.assert_allclose(result.values, [t.nominal_value for t in theirs], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result.u, [t.std_dev for t in theirs], rtol=1e-9, atol=1e-12)
    if len(theirs) == 2:
        np.testing.assert_allclose(result.covariance, unc.covariance_matrix(theirs), rtol=1e-9, atol=1e-12)


def test_correlated_against_the_uncertainties_library():
    S = np.array([[0.04, -0.01, 0.0], [-0.01, 0.09, 0.02], [0.0, 0.02, 0.01]])
    x = np.array([1.5, -0.5, 2.0])
    a, b, c = unc.correlated_values(x, S)
    theirs = [a * umath.sin(b) + c, umath.exp(a - c) / (1 + b**2)]
    result = propagate(parse("f(a, b, c) = a*sin(b) + c, exp(a - c)/(1 + b^2)"), x, InputCovariance(S, "test"))
    np.testing.assert_allclose(result.covariance, unc.covariance_matrix(theirs), rtol=1e-12)


# --- the GUM's rounding (§7.2.6) ------------------------------------------------------------
@pytest.mark.parametrize("value, u, shown", [
    (9.79934, 0.0021, ("9.7993", "0.0021")),
    (1.0, 0.00199, ("1.0000", "0.0020")),          # two digits, the trailing zero kept
    (12345.678, 12.3, ("12346", "12")),
    (1.0, 0.0999, ("1.00", "0.10")),              # rounds up into the next decade: still two digits
    (123456.0, 1234.0, ("123500", "1200")),
    (-2.0001, 0.5, ("-2.00", "0.50")),
    (-0.0001, 0.5, ("0.00", "0.50")),             # no "-0.00"
    (3.25, 0.0, ("3.25", "0")),
])
def test_gum_rounding(value, u, shown):
    assert rounded(value, u) == shown


def test_the_text_in_every_format():
    assert document("x*y", "--at", "2±0.1,3±0.2")["uncertainty"][0]["text"] == "6.00 ± 0.50"
    table = run("x*y", "--at", "2±0.1,3±0.2")
    assert table.exit_code == 0 and "6.00 ± 0.50" in table.stdout and "budget" in table.stdout
    csv = run("x*y", "--at", "2±0.1,3±0.2", "--format", "csv")
    assert csv.stdout.splitlines() == ["output,value,u,rounded", "x*y,6.0,0.5,6.00 +- 0.50"]
    latex = run("x*y", "--at", "2±0.1,3±0.2", "--format", "latex")
    assert "6.00 \\pm 0.50" in latex.stdout and "\\begin{tabular}" in latex.stdout
    doc = run("x*y", "--at", "2±0.1,3±0.2", "--format", "latex", "--latex-standalone")
    assert doc.stdout.startswith("\\documentclass")


def test_the_table_fits_80_columns():
    result = run("x1*x2 + sin(x1), exp(x1-x2)", "--at", "x1=1±0.1,x2=2±0.05", "--coverage", "95%", "--check",
                 "--second-order")
    assert result.exit_code in (0, 1)
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


# --- coverage -------------------------------------------------------------------------------
def test_coverage_factor_and_level():
    k2 = document(PENDULUM, "--at", "L=1±0.002,T=2.007±0.004", "--coverage", "2")
    assert k2["uncertainty"][0]["expanded"] == pytest.approx(2 * k2["uncertainty"][0]["uncertainty"], rel=1e-15)
    assert k2["coverage"]["k"] == 2 and k2["coverage"]["probability"] == pytest.approx(0.9544997, rel=1e-6)
    p95 = document(PENDULUM, "--at", "L=1±0.002,T=2.007±0.004", "--coverage", "95%")
    assert p95["coverage"]["k"] == pytest.approx(1.959963984540054, rel=1e-12)
    assert p95["coverage"]["k_from"] == "normal distribution"
    assert p95["uncertainty"][0]["expanded"] == pytest.approx(1.959963984540054 * p95["uncertainty"][0]["uncertainty"])
    assert coverage("99%").k == pytest.approx(2.5758293035489, rel=1e-12)


# --- second order ---------------------------------------------------------------------------
def test_second_order_of_a_product_is_exact_for_normal_inputs():
    # Var(xy) = y²u_x² + x²u_y² + u_x²u_y² for independent normal x, y: the GUM's ½ Σ H_ij² u_i² u_j² term
    doc = document("x*y", "--at", "2±0.1,3±0.2", "--second-order")
    assert doc["covariance"][0][0] == pytest.approx(9 * 0.01 + 4 * 0.04 + 0.01 * 0.04, rel=1e-14)
    assert doc["second_order"]["bias"] == [0.0]
    doc = document("x^2", "--at", "1±0.3", "--second-order")                   # E[x²] = x0² + u²
    assert doc["second_order"]["bias"][0] == pytest.approx(0.09, rel=1e-14)
    assert doc["covariance"][0][0] == pytest.approx(4 * 0.09 + 2 * 0.09**2, rel=1e-14)   # Var(x²) for normal x


def test_second_order_with_correlation_matches_monte_carlo(tmp_path):
    S = np.array([[0.04, 0.03], [0.03, 0.09]])
    graph = parse("f(x, y) = x*y + x^2")
    result = propagate(graph, np.array([1.0, 2.0]), InputCovariance(S, "test"))
    from autodiff_cli.uncertainty import second_order

    second_order(result)
    mc = monte_carlo(result)
    assert mc.mean[0] == pytest.approx(result.values[0] + result.second.bias[0], abs=5e-3)
    assert mc.std[0] == pytest.approx(result.u[0], rel=5e-3)          # a quadratic f: exact for normal inputs


# --- the Monte Carlo check ------------------------------------------------------------------
@pytest.mark.parametrize("expression, at", [("x^2", "0±1"), ("exp(x)", "0±1"), ("sqrt(x)", "0.1±0.1")])
def test_monte_carlo_flags_a_failed_linearization(expression, at):
    result = run(expression, "--at", at, "--check")
    assert result.exit_code == 1, result.output
    assert "NOT ADEQUATE" in result.stdout and "check failed" in result.stderr


@pytest.mark.parametrize("expression, at", [(PENDULUM, "L=1±0.002,T=2.007±0.004"), ("2*x - 3*y", "1±0.1,2±0.3"),
                                            ("sin(x)", "0.3±0.001")])
def test_monte_carlo_passes_a_nearly_linear_case(expression, at):
    doc = document(expression, "--at", at, "--check")
    mc = doc["monte_carlo"]
    assert mc["verdicts"] == ["adequate"] and mc["adequate"] and mc["seed"] == 2008 and mc["draws"] >= 10**6
    assert mc["std"][0] == pytest.approx(doc["uncertainty"][0]["uncertainty"], rel=3e-3)


def test_monte_carlo_is_reproducible():
    a = document("exp(x)", "--at", "0.5±0.01", "--check")["monte_carlo"]
    b = document("exp(x)", "--at", "0.5±0.01", "--check")["monte_carlo"]
    assert a == b


def test_tolerance_is_half_a_unit_in_the_second_digit():
    assert tolerance(0.044) == pytest.approx(0.0005)
    assert tolerance(0.0101) == pytest.approx(0.0005)
    assert tolerance(12.3) == pytest.approx(0.5)
    assert tolerance(0.0) == 0.0


def test_split_pm():
    assert split_pm("1.000±0.002") == ("1.000", "0.002")
    assert split_pm("1.000+-0.002") == ("1.000", "0.002")
    assert split_pm("-1+/-2e-3") == ("-1", "2e-3")
    assert split_pm("2.5") == ("2.5", None)


# --- usage errors: exit 2, no traceback -----------------------------------------------------
def _usage_error(result, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize("content, problem", [
    ("1,2\n3,1\n", "not symmetric"),
    ("1,2\n2,1\n", "not positive semi-definite"),
    ("1,0,0\n0,1,0\n0,0,1\n", "must be 2 × 2"),
    ("1,nan\nnan,1\n", "must be finite"),
    ("1,a\n0,1\n", "not a row of numbers"),
    ("1,0\n0\n", "different lengths"),
    ("# nothing\n", "holds no numbers"),
    (b"\x00\xff\xfe", "neither a .npy array nor text"),
])
def test_bad_covariance_files(tmp_path, content, problem):
    path = tmp_path / "cov.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    _usage_error(run("x*y", "--at", "2,3", "--cov", str(path)), problem, "cov.csv", "--cov")


def test_bad_covariance_npy_and_missing_file(tmp_path):
    np.save(tmp_path / "c.npy", np.array([[1.0, 0.5], [0.4, 1.0]]))
    _usage_error(run("x*y", "--at", "2,3", "--cov", str(tmp_path / "c.npy")), "not symmetric")
    (tmp_path / "broken.npy").write_bytes(b"\x93NUMPY\x01\x00garbage")
    _usage_error(run("x*y", "--at", "2,3", "--cov", str(tmp_path / "broken.npy")), "not a readable .npy")
    _usage_error(run("x*y", "--at", "2,3", "--cov", str(tmp_path / "missing.csv")), "missing.csv", "no such file")
    _usage_error(run("x*y", "--at", "2,3", "--cov", str(tmp_path)), "not a file")


def test_bad_correlation_files(tmp_path):
    (tmp_path / "r.csv").write_text("1,0.5\n0.5,2\n")
    _usage_error(run("x*y", "--at", "2±0.1,3±0.2", "--corr", str(tmp_path / "r.csv")), "1 on its diagonal")
    (tmp_path / "r.csv").write_text("1,1.5\n1.5,1\n")
    _usage_error(run("x*y", "--at", "2±0.1,3±0.2", "--corr", str(tmp_path / "r.csv")), "--corr")


@pytest.mark.parametrize("args, fragment", [
    (["--at", "1±-0.1"], "≥ 0"),
    (["--at", "1±"], "empty value"),
    (["--at", "1", "--u", "-1"], "≥ 0"),
    (["--at", "1", "--u", "0.1,0.2"], "gives 2 uncertainties"),
    (["--at", "1", "--u", "z=0.1"], "not an input"),
    (["--at", "1±0.1", "--u", "0.1"], "not both"),
    (["--at", "1", "--coverage", "2"], "go with uncertainties"),
    (["--at", "1±0.1", "--coverage", "0"], "positive"),
    (["--at", "1±0.1", "--coverage", "100%"], "between 0% and 100%"),
    (["--at", "1±0.1", "--at", "2±0.1"], "one point"),
    (["--at", "1±0.1", "--seed", "1"], "--seed"),
    (["--at", "1±0.1", "--hessian"], "--hessian"),
    (["--at", "1±0.1", "--trace"], "--trace"),
    (["--at", "1±0.1", "--format", "jsonl"], "not with --format jsonl"),
    (["--at", "1±0.1", "--format", "npy", "-o", "u.npz"], "not with --format npy"),
    (["--at", "1", "--corr", "r.csv"], "needs the standard uncertainties"),
    (["--u", "0.1"], "add --at"),
])
def test_usage_errors(args, fragment):
    _usage_error(run("sin(x)", *args), fragment)


def test_not_finite_is_exit_1():
    result = run("sqrt(x)", "--at", "-1±0.1")
    assert result.exit_code == 1 and "not finite" in result.stderr


def test_a_zero_first_order_uncertainty_is_noted():
    result = run("x^2", "--at", "0±1")
    assert result.exit_code == 0 and "--second-order or --check" in result.stderr


# --- no point: u_c as a formula ---------------------------------------------------------------
@pytest.mark.parametrize("expression, names", [(PENDULUM, "L,T"), ("x*y, x/y + sin(x)", "x,y"), ("x*y, exp(x - y)", "y"),
                                               ("f(x, u_x) = x*u_x", "x,u_x")])
def test_the_formula_gives_the_numbers(expression, names):
    doc = document(expression, "--u", names)
    uncertain, symbols = doc["uncertain"], doc["u_symbols"]
    assert sorted(uncertain) == sorted(names.split(",")) and len(set(symbols.values())) == len(symbols)
    inputs = doc["variables"]
    rng = np.random.default_rng(17)
    for _ in range(5):
        x = rng.uniform(0.5, 2.0, len(inputs))
        u = {name: rng.uniform(0.01, 0.2) for name in uncertain}
        ours = propagate(parse(expression), x, InputCovariance(np.diag([u.get(n, 0.0) ** 2 for n in inputs]), "test"))
        point = {**dict(zip(inputs, x)), **{symbols[n]: u[n] for n in uncertain}}
        for k, text in enumerate(doc["uncertainty"]):
            graph = parse(f"f({', '.join(point)}) = {text}")
            from autodiff_cli.core import ad

            (value,) = ad.outputs_of(graph, ad.evaluate(graph, np.array([list(point.values())])), 1)[0]
            assert value == pytest.approx(ours.u[k], rel=1e-12)


def test_the_formula_of_the_pendulum_is_relative():
    result = run(PENDULUM, "--u", "L,T")
    assert result.exit_code == 0 and "sqrt(4·u_T^2/T^2 + u_L^2/L^2)" in result.stdout


@pytest.mark.parametrize("args, fragment", [
    (["--u", "x", "--at", "1"], "names the uncertain inputs"),
    (["--u", "z"], "not an input"),
    (["--u", "x", "--coverage", "2"], "--coverage needs numbers"),
    (["--u", "x,x"], "listed twice"),
    (["--u", "x", "--format", "csv"], "csv holds numbers"),
])
def test_formula_usage_errors(args, fragment):
    _usage_error(run("sin(x)", *args), fragment)


def test_a_header_row_puts_the_matrix_in_input_order(tmp_path):
    S = np.array([[4e-6, -2e-6], [-2e-6, 1.6e-5]])                           # in the order L, T
    (tmp_path / "lt.csv").write_text("4e-6,-2e-6\n-2e-6,1.6e-5\n")
    (tmp_path / "tl.csv").write_text("T, L\n1.6e-5,-2e-6\n-2e-6,4e-6\n")     # the other order, named
    a = document(PENDULUM, "--at", "1,2.007", "--cov", str(tmp_path / "lt.csv"))
    b = document(PENDULUM, "--at", "1,2.007", "--cov", str(tmp_path / "tl.csv"))
    np.testing.assert_array_equal(a["input_covariance"], S)
    np.testing.assert_array_equal(b["input_covariance"], S)
    (tmp_path / "tx.csv").write_text("T,X\n1,0\n0,1\n")
    _usage_error(run(PENDULUM, "--at", "1,2.007", "--cov", str(tmp_path / "tx.csv")), "header names T, X")


def test_an_exact_input_adds_nothing_even_where_its_derivative_is_infinite():
    doc = document("sqrt(x) + y", "--at", "0,1±0.1", "--second-order")       # ∂/∂x = inf at 0, but u(x) = 0
    assert doc["uncertainty"][0]["uncertainty"] == pytest.approx(0.1, rel=1e-15)
    assert [t["variance"] for t in doc["uncertainty"][0]["budget"]] == [pytest.approx(0.01), 0.0]
    result = run("sqrt(x) + y", "--at", "0±0.1,1±0.1")
    assert result.exit_code == 1 and "not finite" in result.stderr


# --- many points: --points ----------------------------------------------------------------------
def test_points_with_their_own_u_columns(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("# runs\nT, L, u(L), u(T)\n2.007, 1.000, 0.002, 0.004\n1.419, 0.5, 0.002, 0.004\n2.838, 2.0, 0.002, 0\n")
    result = run(PENDULUM, "--points", str(path), "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "L,T,u(L),u(T),y1,u(y1)"
    for line, (L, T, uL, uT) in zip(lines[1:], [(1, 2.007, 0.002, 0.004), (0.5, 1.419, 0.002, 0.004),
                                               (2.0, 2.838, 0.002, 0.0)]):
        row = [float(v) for v in line.split(",")]
        g = 4 * math.pi**2 * L / T**2
        assert row[:4] == [L, T, uL, uT]
        assert row[4] == pytest.approx(g, rel=1e-15)
        assert row[5] == pytest.approx(g * math.sqrt((uL / L) ** 2 + (2 * uT / T) ** 2), rel=1e-13)
    one = document(PENDULUM, "--at", "L=1.000±0.002,T=2.007±0.004")          # the same as one point with ±
    assert float(lines[1].split(",")[5]) == one["uncertainty"][0]["uncertainty"]
    table = run(PENDULUM, "--points", str(path))
    assert "9.801 ± 0.044" in table.stdout and "9.8031 ± 0.0098" in table.stdout


def test_points_with_one_covariance_for_all(tmp_path):
    (tmp_path / "p.csv").write_text("x,y\n2,3\n1,-1\n")
    (tmp_path / "c.csv").write_text("0.01,0.006\n0.006,0.04\n")
    result = run("x*y, x/y", "--points", str(tmp_path / "p.csv"), "--cov", str(tmp_path / "c.csv"), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    S = np.array([[0.01, 0.006], [0.006, 0.04]])
    for line, (x, y) in zip(result.stdout.splitlines(), [(2, 3), (1, -1)]):
        obj = json.loads(line)
        J = np.array([[y, x], [1 / y, -x / y**2]])
        np.testing.assert_allclose(obj["covariance"], J @ S @ J.T, rtol=1e-14)
    result = run("x*y", "--points", "-", "--u", "0.1,0.2", "--format", "csv")   # no points: the header alone
    assert result.exit_code == 0 and result.stdout == "x,y,u(x),u(y),y1,u(y1)\n"
    result = CliRunner().invoke(main, ["x*y", "--points", "-", "--u", "0.1,0.2", "--format", "csv"], input="2,3\n")
    assert result.stdout.splitlines()[1] == "2.0,3.0,0.1,0.2,6.0,0.5"


def test_bad_points_with_u_columns(tmp_path):
    (tmp_path / "neg.csv").write_text("L, T, u(L)\n1,2,0.1\n1,2,-1\n")
    result = run(PENDULUM, "--points", str(tmp_path / "neg.csv"), "--format", "csv")
    assert result.exit_code == 2 and "line 3" in result.stderr and "u(L)" in result.stderr
    assert len(result.stdout.splitlines()) == 2                               # the header and the good row
    (tmp_path / "head.csv").write_text("L, u(T), u(L)\n1,2,1\n")
    _usage_error(run(PENDULUM, "--points", str(tmp_path / "head.csv")), "no column for T")
    (tmp_path / "lab.csv").write_text("L, T, u(L)\n1,2,0.1\n")
    _usage_error(run(PENDULUM, "--points", str(tmp_path / "lab.csv"), "--format", "json"), "table, csv or jsonl")
    _usage_error(run(PENDULUM, "--points", str(tmp_path / "lab.csv"), "--u", "0.1,0.1"), "their own uncertainties")


def test_npy_matrices_are_read_without_unpickling(tmp_path):
    S = np.array([[0.01, 0.002], [0.002, 0.04]])
    np.save(tmp_path / "f.npy", np.asfortranarray(S))                          # column-major on disk
    np.save(tmp_path / "i.npy", np.array([[1, 0], [0, 4]]))                    # integers
    assert document("x*y", "--at", "2,3", "--cov", str(tmp_path / "f.npy"))["input_covariance"] == S.tolist()
    assert document("x*y", "--at", "2,3", "--cov", str(tmp_path / "i.npy"))["input_covariance"] == [[1, 0], [0, 4]]
    whole = (tmp_path / "f.npy").read_bytes()
    (tmp_path / "short.npy").write_bytes(whole[:-8])
    _usage_error(run("x*y", "--at", "2,3", "--cov", str(tmp_path / "short.npy")), "ends early")
    np.save(tmp_path / "o.npy", np.array([[None, 1], [1, None]], dtype=object), allow_pickle=True)
    _usage_error(run("x*y", "--at", "2,3", "--cov", str(tmp_path / "o.npy")), "not numbers")


def test_the_verdict_rule():
    from autodiff_cli.uncertainty import verdict

    assert verdict(0.0004, 0.0005, 1e-4) == "adequate"
    assert verdict(0.0006, 0.0005, 1e-4) == "inconclusive"          # within three standard errors of δ
    assert verdict(0.0009, 0.0005, 1e-4) == "not adequate"
    assert verdict(float("nan"), 0.0005, 1e-4) == "not adequate"


@given(st.floats(-1e6, 1e6, allow_nan=False), st.floats(1e-9, 1e5, allow_nan=False))
def test_rounding_keeps_two_significant_digits_at_one_decimal_place(value, u):
    from decimal import Decimal

    shown_value, shown_u = rounded(value, u)
    unit = 10.0 ** (math.floor(math.log10(float(shown_u))) - 1)          # the place of u's second digit
    mantissa = float(shown_u) / unit
    assert abs(mantissa - round(mantissa)) < 1e-6 and 10 <= round(mantissa) < 100   # 0.0020, 12, 1200: two digits
    assert abs(float(shown_u) - u) <= unit / 2 * (1 + 1e-9)              # rounded, not truncated
    decimals = max(0, -Decimal(shown_u).as_tuple().exponent)
    assert max(0, -Decimal(shown_value).as_tuple().exponent) == decimals  # the same decimal place
    assert abs(float(shown_value) - value) <= unit / 2 * (1 + 1e-9) + 1e-9 * abs(value)


def test_ascii_output():
    result = CliRunner(charset="ascii").invoke(main, ["x*y", "--at", "2+-0.1,3+-0.2", "--ascii", "--second-order"])
    assert result.exit_code == 0 and "6.00 +- 0.50" in result.stdout and "tr(HSHS)/2" in result.stdout
    assert result.stdout.isascii()
