"""The engines on hand-derived examples: the worked example and the exercise, both modes."""

import warnings

import numpy as np
import pytest

from autodiff_cli import compute, jacobian, jvp, parse, vjp

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


# --- outputs that repeat, are inputs, or are constants ----------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_repeated_outputs(mode):
    graph = parse("x*y, x*y, sin(x), x*y")
    assert graph.outputs[0] == graph.outputs[1] == graph.outputs[3]
    y, J = jacobian(graph, [2.0, 3.0], mode)
    np.testing.assert_array_equal(y, [6.0, 6.0, np.sin(2.0), 6.0])
    np.testing.assert_array_equal(J, [[3.0, 2.0], [3.0, 2.0], [np.cos(2.0), 0.0], [3.0, 2.0]])


def test_repeated_outputs_in_a_vjp_add_up():
    graph = parse("x*y, x*y")
    _, x_bar = vjp(graph, [2.0, 3.0], [1.0, 10.0])
    np.testing.assert_array_equal(x_bar, [33.0, 22.0])


@pytest.mark.parametrize("mode", MODES)
def test_outputs_that_are_inputs_or_constants(mode):
    graph = parse("y, 3*2, x, pi")
    y, J = jacobian(graph, [5.0, 7.0], mode)
    np.testing.assert_array_equal(y, [7.0, 6.0, 5.0, np.pi])
    np.testing.assert_array_equal(J, [[0.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("mode", MODES)
def test_a_constant_function_without_inputs(mode):
    y, J = jacobian(parse("2^10, -1"), np.zeros(0), mode)
    np.testing.assert_array_equal(y, [1024.0, -1.0])
    assert J.shape == (2, 0)


# --- awkward points: the conventions --------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_square_of_a_negative_number_is_exact(mode):
    for text, x, expected in [("x^2", -3.0, -6.0), ("x**3", -2.0, 12.0), ("x^-1", -2.0, -0.25), ("x^0", -5.0, 0.0)]:
        _, J = jacobian(parse(text), [x], mode)
        assert J[0, 0] == expected, text


@pytest.mark.parametrize("mode", MODES)
def test_abs_has_derivative_zero_at_zero(mode):
    _, J = jacobian(parse("abs(x)"), [[0.0], [-2.0], [2.0]], mode)
    np.testing.assert_array_equal(J[:, 0, 0], [0.0, -1.0, 1.0])


@pytest.mark.parametrize("mode", MODES)
def test_power_of_zero_base_has_zero_exponent_derivative(mode):
    """d/dy 0^y = 0 for y > 0 (0^y is constant 0 there); only log(base) would say nan."""
    _, J = jacobian(parse("x^y"), [0.0, 2.0], mode)
    np.testing.assert_array_equal(J, [[0.0, 0.0]])
    _, J = jacobian(parse("x^y"), [-2.0, 2.0], mode)          # a negative base: d/dy undefined
    assert J[0, 0] == -4.0 and np.isnan(J[0, 1])


@pytest.mark.parametrize("mode", MODES)
def test_zero_tangent_times_infinite_partial_is_zero(mode):
    """x + sqrt(y) at y = 0: the x column stays finite, the y column is inf."""
    y, J = jacobian(parse("x + sqrt(y)"), [1.0, 0.0], mode)
    assert y[0] == 1.0
    assert J[0, 0] == 1.0
    assert J[0, 1] == np.inf


def test_zero_tangent_through_a_kink_in_a_jvp():
    graph = parse("x + sqrt(y), sqrt(y)*x")
    _, y_dot = jvp(graph, [1.0, 0.0], [1.0, 0.0])
    np.testing.assert_array_equal(y_dot, [1.0, 0.0])
    _, x_bar = vjp(graph, [1.0, 0.0], [1.0, 0.0])
    assert x_bar[0] == 1.0 and x_bar[1] == np.inf


@pytest.mark.parametrize(("text", "x", "J_true"), [
    ("x*sqrt(y)", [0.0, 0.0], [[0.0, 0.0]]),          # forward: ẏ → inf through sqrt, then ·x = 0
    ("sqrt(x*y)", [0.0, 0.0], [[0.0, 0.0]]),          # reverse: w̄ → inf through sqrt, then ·y = 0
    ("sin(x*sqrt(y)) + x", [0.0, 0.0], [[1.0, 0.0]]),
    ("abs(x)*sqrt(x)", [0.0], [[0.0]]),
    ("0*sqrt(x)", [0.0], [[0.0]]),
])
def test_zero_partial_times_infinite_derivative_is_zero_in_both_modes(text, x, J_true):
    """The mirror of the rule above: f(0, y) = 0 for all y, so ∂f/∂y = 0, in both modes."""
    graph = parse(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # no RuntimeWarning leaks to the user
        J_fwd = jacobian(graph, x, "forward")[1]
        J_rev = jacobian(graph, x, "reverse")[1]
    np.testing.assert_array_equal(J_fwd, J_true)
    np.testing.assert_array_equal(J_rev, J_true)


@pytest.mark.parametrize("mode", MODES)
def test_domain_errors_give_nan_entries_and_leave_the_rest(mode):
    graph = parse("log(x), x*y, asin(y)")
    y, J = jacobian(graph, [-1.0, 2.0], mode)
    assert np.isnan(y[0]) and np.isnan(J[0, 0]) and J[0, 1] == 0.0
    np.testing.assert_array_equal(J[1], [2.0, -1.0])
    assert y[1] == -2.0
    assert np.isnan(y[2]) and np.isnan(J[2, 1]) and J[2, 0] == 0.0


# --- where non-finite results come from --------------------------------------------------------------
def test_report_locates_value_problems():
    graph = parse("x*y + log(x), y")
    report = compute(graph, [[1.0, 2.0], [-1.0, 3.0], [2.0, 2.0], [0.0, 5.0]], "reverse")
    assert report.bad_points == 2
    log_node = next(i for i, op in enumerate(graph.tape, start=graph.n) if op.prim == "log")
    first, second = report.problems
    assert (first.point, first.node, first.kind, first.expression, first.arguments) == (1, log_node, "value", "log(x)", (-1.0,))
    assert "x = -1, y = 3" in first.message
    assert (second.point, second.node, second.arguments) == (3, log_node, (0.0,))
    assert np.isfinite(report.jacobian[[0, 2]]).all()


def test_report_locates_derivative_problems():
    graph = parse("x + sqrt(y)")
    report = compute(graph, [[1.0, 0.0]], "forward")
    (problem,) = report.problems
    assert (problem.point, problem.node, problem.kind, problem.expression) == (0, 2, "derivative", "sqrt(y)")
    assert problem.arguments == (0.0,)
    assert "with respect to y" in problem.message


def test_report_has_no_problems_when_everything_is_finite():
    report = compute(parse("x1*x2 + sin(x1), exp(x1-x2)"), [[1.0, 2.0]], "auto")
    assert report.problems == [] and report.bad_points == 0
    assert report.mode == "forward" and report.n_passes == 2
    assert report.passes_text() == "forward mode: 2 passes, one per input"


def test_report_with_a_seed():
    graph = parse("x1*x2 + x1*x3, ln(x1+x2)")
    forward = compute(graph, [[1.0, 2.0, 3.0]], "forward", seed=[1.0, 0.0, 0.0])
    reverse = compute(graph, [[1.0, 2.0, 3.0]], "reverse", seed=[0.0, 1.0])
    np.testing.assert_allclose(forward.product, [[5.0, 1 / 3]], rtol=1e-15)
    np.testing.assert_allclose(reverse.product, [[1 / 3, 1 / 3, 0.0]], rtol=1e-15)
    assert forward.n_passes == reverse.n_passes == 1
    assert reverse.passes_text() == "reverse mode: 1 pass, seeded (vᵀ·J)"


# --- many points at once -----------------------------------------------------------------------------
POINTS = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [-0.3, 0.7, 0.1], [2.0, 2.0, -4.0]])
EXERCISE = "x1*x2 + x1*x3, ln(x1+x2), exp(x3)*sin(x1)"


@pytest.mark.parametrize("mode", MODES)
def test_N_points_at_once_equal_a_loop_over_points(mode):
    graph = parse(EXERCISE)
    Y, J = jacobian(graph, POINTS, mode)
    assert Y.shape == (4, 3) and J.shape == (4, 3, 3)
    for p, x in enumerate(POINTS):
        y_p, J_p = jacobian(graph, x, mode)
        np.testing.assert_array_equal(Y[p], y_p)
        np.testing.assert_array_equal(J[p], J_p)


def test_jvp_and_vjp_with_one_seed_per_point():
    graph = parse(EXERCISE)
    rng = np.random.default_rng(1)
    x_dot, y_bar = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    _, J = jacobian(graph, POINTS)
    _, y_dot = jvp(graph, POINTS, x_dot)
    _, x_bar = vjp(graph, POINTS, y_bar)
    for p in range(4):
        np.testing.assert_allclose(y_dot[p], J[p] @ x_dot[p], rtol=1e-13)
        np.testing.assert_allclose(x_bar[p], y_bar[p] @ J[p], rtol=1e-13)
        np.testing.assert_array_equal(jvp(graph, POINTS[p], x_dot[p])[1], y_dot[p])
        np.testing.assert_array_equal(vjp(graph, POINTS[p], y_bar[p])[1], x_bar[p])


def test_a_point_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="3 coordinates"):
        jacobian(parse(EXERCISE), [1.0, 2.0])
