"""The compiled engine (core/compiled.py) against the numpy engine (core/ad.py), issue 16.

Bit for bit where both make the same IEEE operations (+, −, ·, /, √, |x|, sign, x², and sin
and cos, which numpy and numba both take from libm here); within 4 ulps per primitive where
numpy uses its own vectorized exp, log, tanh ...; the same flagged and underflowed points,
so the same exit status and warnings; and the same output through the command.
"""

import os
import stat

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

pytest.importorskip("numba")

from autodiff_cli import cli
from autodiff_cli.core import ad, compiled, engine, kernels
from autodiff_cli.core.parse import parse
from autodiff_cli.core.primitives import PRIMITIVES
from autodiff_cli.report import compute
from tests.test_properties import exprs

SETTINGS = settings(max_examples=int(60 * float(os.environ.get("ADJAC_FUZZ_SCALE", "1"))), deadline=None, suppress_health_check=[HealthCheck.too_slow])
EDGE = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 0.999, 1.001, 1e-300, -1e-300, 5e-324, 1e300, -1e300, 710.0,
        -746.0, 1e160, np.inf, -np.inf, np.nan]
EXACT = {"add", "sub", "mul", "div", "neg", "sqrt", "abs", "sign", "sin", "cos"}


def both(graph, X, mode="auto", seed=None):
    """(y, D, flagged, underflowed) from each engine."""
    out = []
    for fn in (ad.differentiate, compiled.differentiate):
        flagged, under = np.zeros(len(X), dtype=bool), np.zeros(len(X), dtype=bool)
        y, D = fn(graph, X, mode, seed, flagged=flagged, underflowed=under)
        out.append((y, D, flagged, under))
    return out


def ulps(a, b):
    """How many units in the last place a and b differ by; 0 where both are the same inf or nan; inf
    where only one is nan or the signs of an inf differ."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(all="ignore"):
        gap = np.abs(a - b) / np.spacing(np.maximum(np.abs(a), np.abs(b)))
    return np.where(same, 0.0, np.where(np.isfinite(a) & np.isfinite(b), gap, np.inf))


def assert_same(numpy_result, compiled_result, tolerance=0):
    for name, a, b in zip(("y", "D", "flagged", "underflowed"), numpy_result, compiled_result):
        if name in ("flagged", "underflowed"):
            assert np.array_equal(a, b), name
        elif tolerance == 0:                            # bit for bit, the sign of zero included (a nan's is no part of it)
            signs = np.where(np.isnan(a), False, np.signbit(a)), np.where(np.isnan(b), False, np.signbit(b))
            assert np.array_equal(*signs) and np.array_equal(a, b, equal_nan=True), name
        else:
            assert ulps(a, b).max(initial=0) <= tolerance, (name, a, b)


# --- the table -----------------------------------------------------------------------------
def test_every_primitive_has_a_kernel_or_a_reason():
    assert set(kernels.KERNELS) | set(kernels.LEFT_OUT) == set(PRIMITIVES)
    assert not set(kernels.KERNELS) & set(kernels.LEFT_OUT)
    assert all(reason for reason in kernels.LEFT_OUT.values())


def test_a_primitive_without_a_kernel_is_computed_by_numpy():
    graph = parse("cbrt(x) + x*y")
    assert compiled.encode(graph) is None
    assert engine.choose(graph, "auto", False, 10**9, "compiled") == "numpy"
    assert engine.choose(parse("sin(x) + x*y"), "auto", False, 10, "compiled") == "compiled"
    with pytest.raises(ValueError, match="no kernel"):
        compiled.differentiate(graph, np.ones((3, 2)))


def cases(name):
    """Graphs that use primitive ``name`` with node and constant arguments."""
    if name in ("add", "sub", "mul", "div", "pow"):
        sym = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}[name]
        return [f"x {sym} y", f"x {sym} 3", f"2.5 {sym} x", f"x {sym} 0.5", f"x {sym} 2", f"x {sym} 0", f"x {sym} 1",
                f"x {sym} (-1)", f"x {sym} x"]
    if name == "neg":
        return ["-x"]
    return [f"{name}(x)"]


@pytest.mark.parametrize("name", kernels.KERNELS)
def test_each_primitive_matches_the_table_at_edge_values(name):
    """Values, partials and the flags of every primitive at zeros, ±inf, nan, tiny, huge, domain edges:
    bit for bit for the exact operations, else within 4 ulps."""
    for text in cases(name):
        graph = parse(text)
        grid = np.array(EDGE)
        X = (np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2) if graph.n == 2 else grid[:, None])
        exact = name in EXACT or text in ("x ^ 2", "x ^ 0", "x ^ 1")
        for mode in ("forward", "reverse"):
            numpy_result, compiled_result = both(graph, X, mode)
            assert_same(numpy_result, compiled_result, 0 if exact else 4)


# --- random functions and points -----------------------------------------------------------
exact_exprs = st.recursive(
    st.sampled_from(["x1", "x2", "x3", "1", "2", "0.5", "0"]),
    lambda e: st.builds("({} {} {})".format, e, st.sampled_from(["+", "-", "*", "/"]), e)
    | st.builds("{}({})".format, st.sampled_from(["sin", "cos", "sqrt", "abs", "sign"]), e)
    | st.builds("({})^2".format, e)
    | st.builds("-{}".format, e),
    max_leaves=12,
)
values = st.one_of(st.floats(-3, 3), st.sampled_from(EDGE), st.floats(allow_nan=True, allow_infinity=True))
point_sets = st.integers(1, 70).flatmap(lambda N: arrays(np.float64, (N, 3), elements=values))


def graph_of(outputs):
    return parse("f(x1, x2, x3) = (" + ", ".join(outputs) + ")")


@SETTINGS
@given(st.lists(exact_exprs, min_size=1, max_size=3), point_sets, st.sampled_from(["forward", "reverse"]))
def test_random_functions_bit_for_bit(outputs, X, mode):
    graph = graph_of(outputs)
    numpy_result, compiled_result = both(graph, X, mode)
    assert_same(numpy_result, compiled_result)


@SETTINGS
@given(st.lists(exact_exprs, min_size=1, max_size=3), point_sets, st.sampled_from(["forward", "reverse"]),
       st.data())
def test_random_seeds_bit_for_bit(outputs, X, mode, data):
    """One seed for all points, and one per point (with zeros, so that structural zeros matter)."""
    graph = graph_of(outputs)
    width = graph.n if mode == "forward" else graph.m
    entries = st.sampled_from([0.0, 1.0, -2.0, 0.5, 1e300, np.nan])
    seed = data.draw(arrays(np.float64, width, elements=entries))
    per_point = data.draw(arrays(np.float64, (len(X), width), elements=entries))
    per_point[:, 0] = 0.0                                    # a column that is structurally zero
    for s in (seed, per_point):
        numpy_result, compiled_result = both(graph, X, mode, s)
        assert_same(numpy_result, compiled_result)


@SETTINGS
@given(st.lists(exprs, min_size=1, max_size=3), arrays(np.float64, (40, 3), elements=st.floats(-2, 2)),
       st.sampled_from(["forward", "reverse"]))
def test_random_functions_with_exp_tanh_atan_sigmoid(outputs, X, mode):
    """Where numpy's exp, tanh ... differ from libm's by an ulp, the results differ by what the
    function makes of an ulp: a relative 1e-12 of the largest entry here (moderate points)."""
    graph = graph_of(outputs)
    (y1, J1, f1, u1), (y2, J2, f2, u2) = both(graph, X, mode)
    assert np.array_equal(f1, f2) and np.array_equal(u1, u2)
    for a, b in ((y1, y2), (J1, J2)):
        assert np.array_equal(np.isfinite(a), np.isfinite(b))
        finite = np.isfinite(a)
        scale = np.max(np.abs(a[finite]), initial=1.0)
        assert np.all(np.abs(a[finite] - b[finite]) <= 1e-12 * scale)


def test_blocks_and_both_cores_give_the_same_numbers():
    """Points in several blocks (and so on both threads) equal the points one at a time."""
    graph = parse("x*y + sin(x)/y, exp(x - y)^2, x^y")
    X = np.random.default_rng(3).uniform(-2, 2, (5000, 2))
    y, J = compiled.differentiate(graph, X)
    for k in (0, 1, 2047, 2048, 4999):
        y1, J1 = compiled.differentiate(graph, X[k : k + 1])
        assert np.array_equal(y[k], y1[0], equal_nan=True) and np.array_equal(J[k], J1[0], equal_nan=True)


# --- through the report and the command ------------------------------------------------------
@pytest.mark.parametrize("text, x", [
    ("exp(x)/sqrt(1 + exp(2*x))", [[400.0], [1.0]]),               # an overflow the output hides
    ("log(x) + x", [[-1.0], [0.0], [2.0]]),                          # domain errors
    ("x*x/y", [[1e-200, 1e-300], [1.0, 2.0]]),                       # an underflow that moves y
    ("1e200*x*x", [[1e200], [1.0]]),                                 # a product that overflows
    ("sqrt(x)", [[0.0], [4.0]]),                                     # a kink: an infinite partial
])
def test_the_report_checks_are_the_same(text, x):
    graph = parse(text)
    X = np.array(x)
    a = compute(graph, X, sweeps=False, engine="numpy")
    b = compute(graph, X, sweeps=False, engine="compiled")
    assert a.bad_points == b.bad_points and a.bad_points > 0
    assert [p.message for p in a.problems] == [p.message for p in b.problems]
    assert np.array_equal(a.jacobian, b.jacobian, equal_nan=True) and np.array_equal(a.values, b.values, equal_nan=True)


def run(args):
    return CliRunner().invoke(cli.main, args)


def test_the_command_gives_the_same_output_with_either_engine(tmp_path):
    X = np.random.default_rng(1).uniform(-2, 2, (3000, 2))
    X[7] = [0.0, -1.0]
    np.save(tmp_path / "p.npy", X)
    outputs = {}
    for name in ("numpy", "compiled", "auto"):
        result = run(["x1*x2 + sin(x1), sqrt(x1) / x2", "--points", str(tmp_path / "p.npy"), "--format", "csv",
                      "--engine", name])
        outputs[name] = (result.exit_code, result.stdout, result.stderr)
    assert outputs["numpy"][0] == 1 and "warning" in outputs["numpy"][2]
    assert outputs["numpy"] == outputs["compiled"] == outputs["auto"]


def test_engine_usage_errors(monkeypatch):
    result = run(["x*y", "--at", "1,2", "--engine", "compiled", "--trace"])
    assert result.exit_code == 2 and "--engine compiled" in result.stderr
    result = run(["x*y", "--at", "1,2", "--engine", "compiled", "--hessian"])
    assert result.exit_code == 2
    monkeypatch.setattr(cli, "engine_available", lambda: False)
    result = run(["x*y", "--at", "1,2", "--engine", "compiled"])
    assert result.exit_code == 2 and "pip install 'adjac[fast]'" in result.stderr
    assert run(["x*y", "--at", "1,2"]).exit_code == 0             # auto: numpy, numba or not


def test_auto_takes_the_compiled_engine_only_for_large_runs():
    f3 = parse(" + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, 50)))
    work = ad.work_per_point(f3, "reverse")
    assert engine.choose(f3, "auto", False, engine.BREAK_EVEN // work + 1) == "compiled"
    assert engine.choose(f3, "auto", False, engine.BREAK_EVEN // work - 1) == "numpy"
    assert engine.choose(f3, "auto", False, None) == "numpy"
    assert engine.choose(f3, "auto", False, 10**9, "numpy") == "numpy"


# --- the cache -----------------------------------------------------------------------------
def test_the_cache_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = compiled.cache_folder()
    assert folder is not None and folder.startswith(str(tmp_path / "cache" / "adjac" / "numba-"))
    for path in (os.path.dirname(folder), folder):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    os.chmod(os.path.dirname(folder), 0o777)                       # someone else could plant a pickle
    assert compiled.cache_folder() is None
    os.chmod(os.path.dirname(folder), 0o700)
    assert compiled.cache_folder() == folder


def test_the_interpreter_is_cached_in_the_private_folder():
    assert compiled.CACHE is not None
    compiled.differentiate(parse("x*y"), np.ones((2, 2)))
    assert any(name.endswith(".nbi") for _, _, names in os.walk(compiled.CACHE) for name in names)


def test_auto_reaches_the_compiled_engine_through_the_command(tmp_path, monkeypatch):
    """--points with enough work takes the compiled engine (here the break-even is lowered to 1),
    and with too little it does not; the output is the same either way."""
    calls = []
    real = compiled.differentiate
    monkeypatch.setattr(compiled, "differentiate", lambda *a, **k: calls.append(len(a[1])) or real(*a, **k))
    np.save(tmp_path / "p.npy", np.random.default_rng(2).uniform(0.5, 2, (500, 2)))
    args = ["x1*x2 + sqrt(x1), x1/x2", "--points", str(tmp_path / "p.npy"), "--format", "csv"]
    plain = run(args)
    assert plain.exit_code == 0 and calls == []
    monkeypatch.setattr(engine, "BREAK_EVEN", 1)
    fast = run(args)
    assert fast.exit_code == 0 and sum(calls) == 500
    assert fast.stdout == plain.stdout
