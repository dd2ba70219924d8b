"""Hypothesis over random smooth expressions: the two modes agree with each other,
with central differences, and satisfy the adjoint identity ȳ·(J ẋ) = (ȳᵀJ)·ẋ."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from autodiff_cli import jacobian, jvp, parse, vjp

INPUTS = ["x1", "x2", "x3"]
H = 1e-6

# Smooth everywhere on R^3, so central differences are a valid oracle.
exprs = st.recursive(
    st.sampled_from(["x1", "x2", "x3", "1", "2", "0.5"]),
    lambda e: st.builds("({} {} {})".format, e, st.sampled_from(["+", "-", "*"]), e)
    | st.builds("{}({})".format, st.sampled_from(["sin", "cos", "exp", "tanh", "atan", "sigmoid"]), e)
    | st.builds("({})^{}".format, e, st.sampled_from(["2", "3"]))
    | st.builds("({}) / (1 + ({})^2)".format, e, e)
    | st.builds("-{}".format, e),
    max_leaves=12,
)
outputs = st.lists(exprs, min_size=1, max_size=3).map(", ".join)
coordinates = st.floats(-2, 2, allow_nan=False, allow_infinity=False)
points = arrays(np.float64, 3, elements=coordinates)
vectors = arrays(np.float64, 3, elements=st.floats(-1, 1, allow_nan=False, allow_infinity=False))
SETTINGS = settings(max_examples=200, deadline=None)


def central_differences(graph, x):
    J = np.empty((graph.m, graph.n))
    for j in range(graph.n):
        e = np.zeros(graph.n)
        e[j] = H
        J[:, j] = (jacobian(graph, x + e)[0] - jacobian(graph, x - e)[0]) / (2 * H)
    return J


def well_scaled(J):
    return bool(np.all(np.isfinite(J)) and np.all(np.abs(J) < 1e6))


@SETTINGS
@given(outputs, points)
def test_modes_agree_with_each_other_and_with_central_differences(text, x):
    graph = parse(text, INPUTS)
    (y_fwd, J_fwd), (y_rev, J_rev) = jacobian(graph, x, "forward"), jacobian(graph, x, "reverse")
    assume(well_scaled(J_fwd) and np.all(np.abs(y_fwd) < 1e6))
    np.testing.assert_array_equal(y_fwd, y_rev)
    # The same products summed in another order: equal to rounding, relative to the terms' size.
    np.testing.assert_allclose(J_fwd, J_rev, rtol=1e-12, atol=1e-12 * (1 + np.abs(J_fwd).max()))
    np.testing.assert_allclose(J_fwd, central_differences(graph, x), rtol=1e-5, atol=1e-5)


@SETTINGS
@given(outputs, points, vectors, vectors)
def test_adjoint_identity(text, x, x_dot, y_bar):
    graph = parse(text, INPUTS)
    y_bar = y_bar[: graph.m]
    _, y_dot = jvp(graph, x, x_dot)
    _, x_bar = vjp(graph, x, y_bar)
    assume(well_scaled(y_dot) and well_scaled(x_bar))
    lhs, rhs = y_bar @ y_dot, x_bar @ x_dot
    scale = np.abs(y_bar) @ np.abs(y_dot) + np.abs(x_bar) @ np.abs(x_dot)
    assert abs(lhs - rhs) <= 1e-12 * (1 + scale)


@SETTINGS
@given(outputs, st.lists(points, min_size=1, max_size=5))
def test_many_points_at_once_equal_one_at_a_time(text, xs):
    graph = parse(text, INPUTS)
    X = np.array(xs)
    for mode in ("forward", "reverse"):
        Y, J = jacobian(graph, X, mode)
        for p, x in enumerate(X):
            y_p, J_p = jacobian(graph, x, mode)
            np.testing.assert_array_equal(Y[p], y_p)
            np.testing.assert_array_equal(J[p], J_p)
