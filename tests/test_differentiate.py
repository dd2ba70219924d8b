"""ad.differentiate (chunked, one pass at a time) gives exactly what the per-pass sweeps of
a trace give, nan and inf included."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodiff_cli import parse
from autodiff_cli.core import ad
from autodiff_cli.report import compute

# Awkward on purpose: domain edges, kinks, zero factors, exponents that fold to 0 and 1.
LEAVES = st.sampled_from(["x1", "x2", "x3", "0", "1", "2", "0.5"])
UNARY = st.sampled_from(["sin", "exp", "log", "sqrt", "abs", "tanh", "asin", "atanh", "cbrt", "acosh"])
exprs = st.recursive(
    LEAVES,
    lambda e: st.builds("({} {} {})".format, e, st.sampled_from(["+", "-", "*", "/", "^"]), e)
    | st.builds("{}({})".format, UNARY, e) | st.builds("-{}".format, e),
    max_leaves=10,
)
VALUES = st.sampled_from([0.0, 1.0, -1.0, 2.0, -0.5, 0.5, 1e-300, 1e300, 3.0])
points = st.lists(st.tuples(VALUES, VALUES, VALUES), min_size=1, max_size=6)


def guarded(graph, X, mode, seed=None):
    report = compute(graph, X, mode, seed, sweeps=True)   # the per-pass sweeps of a trace
    return report.values, report.jacobian if seed is None else report.product


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(exprs, min_size=1, max_size=3), points, st.sampled_from(["forward", "reverse"]))
def test_same_as_the_guarded_sweeps(outputs, X, mode):
    graph = parse(", ".join(outputs), ["x1", "x2", "x3"])
    X = np.array(X, dtype=float)
    fast = compute(graph, X, mode, sweeps=False)      # ad.differentiate, then both modes made to agree
    y, J = fast.values, fast.jacobian
    y_ref, J_ref = guarded(graph, X, mode)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(J, J_ref)


@settings(max_examples=100, deadline=None)
@given(st.lists(exprs, min_size=2, max_size=2), points)
def test_seeded_products_too(outputs, X):
    graph = parse(", ".join(outputs), ["x1", "x2", "x3"])
    X = np.array(X, dtype=float)
    for mode, seed in (("forward", [1.0, 0.0, -2.0]), ("reverse", [0.0, 3.0])):
        y, D = ad.differentiate(graph, X, mode, seed)
        y_ref, D_ref = guarded(graph, X, mode, seed)
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_array_equal(D, D_ref)


def test_chunks_cover_every_point(monkeypatch):
    monkeypatch.setattr(ad, "chunk_size", lambda graph, mode, seeded=False, least=0: 7)
    graph = parse("x1*x2 + sin(x1), log(x1 - x2)")
    X = np.random.default_rng(0).uniform(-2, 2, (50, 2))       # log undefined at about half
    y, J = ad.differentiate(graph, X)
    y_ref, J_ref = guarded(graph, X, "forward")
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(J, J_ref)
    assert np.isnan(y[:, 1]).any() and np.isfinite(J[:, 0]).all()


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_per_point_seeds(mode):
    graph = parse("x1*x2, exp(x1)")
    X = np.random.default_rng(1).uniform(-1, 1, (9, 2))
    seeds = np.random.default_rng(2).uniform(-1, 1, (9, 2))
    _, D = ad.differentiate(graph, X, mode, seeds)
    _, J = ad.differentiate(graph, X, mode)
    expected = np.einsum("pkj,pj->pk", J, seeds) if mode == "forward" else np.einsum("pk,pkj->pj", seeds, J)
    np.testing.assert_allclose(D, expected, rtol=1e-14)


@pytest.mark.parametrize("text", ["x/0", "x^2/0", "1/(x - x)"])
def test_division_by_a_constant_zero_is_inf_not_a_crash(text):
    """Constants reach the partials as numpy doubles: 1/0.0 is inf, not ZeroDivisionError."""
    graph = parse(text)
    y, J = ad.differentiate(graph, np.array([[1.0]]))
    assert not np.isfinite(y).all() or not np.isfinite(J).all()
    y_ref, J_ref = guarded(graph, np.array([[1.0]]), "forward")
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(J, J_ref)
