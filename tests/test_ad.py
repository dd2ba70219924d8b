"""The engines on hand-derived examples: the worked example and the exercise, both modes."""

import numpy as np
import pytest

from autodiff_cli import jacobian, jvp, parse, vjp

MODES = ["forward", "reverse"]


@pytest.mark.parametrize("mode", MODES)
def test_worked_example(mode):
    graph = parse("x1*x2 + sin(x1), exp(x1-x2)")
    y, J = jacobian(graph, [1.0, 2.0], mode)
    e = np.exp(-1.0)
    np.testing.assert_allclose(y, [2 + np.sin(1.0), e], rtol=1e-15)
    np.testing.assert_allclose(J, [[2 + np.cos(1.0), 1.0], [e, -e]], rtol=1e-15)


@pytest.mark.parametrize("mode", MODES)
def test_exercise(mode):
    # f = (x1*x2 + x1*x3, ln(x1+x2)); J = [[x2+x3, x1, x1], [1/(x1+x2), 1/(x1+x2), 0]]
    graph = parse("x1*x2 + x1*x3, ln(x1+x2)")
    x1, x2, x3 = 1.5, 2.0, -0.5
    y, J = jacobian(graph, [x1, x2, x3], mode)
    np.testing.assert_allclose(y, [x1 * x2 + x1 * x3, np.log(x1 + x2)], rtol=1e-15)
    s = 1 / (x1 + x2)
    np.testing.assert_allclose(J, [[x2 + x3, x1, x1], [s, s, 0.0]], rtol=1e-15)


def test_jvp_and_vjp_are_products_with_J():
    graph = parse("x1*x2 + x1*x3, ln(x1+x2)")
    x = np.array([1.0, 2.0, 3.0])
    _, J = jacobian(graph, x)
    _, y_dot = jvp(graph, x, [1.0, -2.0, 0.5])
    _, x_bar = vjp(graph, x, [2.0, -1.0])
    np.testing.assert_allclose(y_dot, J @ [1.0, -2.0, 0.5], rtol=1e-14)
    np.testing.assert_allclose(x_bar, [2.0, -1.0] @ J, rtol=1e-14)
