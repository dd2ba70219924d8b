"""The engines on hand-derived examples: the worked example and the exercise, both modes."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_cli import compute, jacobian, jvp, parse, vjp
from autodiff_cli.core import ad
from autodiff_cli.core.primitives import PRIMITIVES
from autodiff_cli.outputs.notation import passes_of

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


COMPUTED_ZEROS = [                                       # a zero computed at the point meets inf: nan
    ("x*sqrt(y)", [0.0, 0.0], [[0.0, np.nan]]),          # forward: ẏ → inf through sqrt, then ·x (= 0)
    ("sqrt(x*y)", [0.0, 0.0], [[np.nan, np.nan]]),      # reverse: w̄ → inf through sqrt, then ·y (= 0)
    ("sin(x*sqrt(y)) + x", [0.0, 0.0], [[1.0, np.nan]]),
    ("abs(x)*sqrt(x)", [0.0], [[np.nan]]),
    ("sqrt(x - sin(x))", [0.0], [[np.nan]]),            # a cancellation: 1 − cos(0) = 0
    ("1/(1/R1 + 1/R2)", [1e-200, 2.0], [[np.nan, 0.0]]),  # an overflow: ∂(1/R1)/∂R1 = −1e400; true J = (1, 0)
    ("1/(1/R1 + 1/R2)", [0.0, 2.0], [[np.nan, 0.0]]),
    ("sqrt(x)^y", [0.0, 0.0], [[np.nan, -np.inf]]),     # ∂(a^b)/∂a = 0 at b = 0, an input that is 0
]
STRUCTURAL_ZEROS = [                                     # no dependence at all: a definite number
    ("0*sqrt(x)", [0.0], [[0.0]]),                       # a factor that is the constant 0
    ("sign(sqrt(x))", [0.0], [[0.0]]),                   # sign′ is identically 0
    ("sqrt(x)^0 + x", [0.0], [[1.0]]),                   # the base of a constant exponent 0
    ("x + sqrt(y)", [1.0, 0.0], [[1.0, np.inf]]),        # no path from x through sqrt
]


@pytest.mark.parametrize(("text", "x", "J_expected"), COMPUTED_ZEROS + STRUCTURAL_ZEROS)
def test_zero_times_infinity_is_zero_only_when_the_zero_is_structural(text, x, J_expected):
    """0·inf gives a number only for a structural zero; a zero that was computed at this
    point (an input 0, an underflow, a cancellation) gives nan, flagged, in both modes."""
    graph = parse(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # no RuntimeWarning leaks to the user
        J_fwd = jacobian(graph, x, "forward")[1]
        J_rev = jacobian(graph, x, "reverse")[1]
    np.testing.assert_array_equal(J_fwd, J_expected)
    np.testing.assert_array_equal(J_rev, J_expected)


@pytest.mark.parametrize(("text", "x", "J_expected"), COMPUTED_ZEROS)
@pytest.mark.parametrize("sweeps", [True, False])
def test_a_computed_zero_times_infinity_is_flagged_at_its_node(text, x, J_expected, sweeps):
    graph = parse(text)
    for mode in MODES:
        report = compute(graph, [x], mode, sweeps=sweeps)
        assert report.bad_points == 1
        assert report.problems and report.problems[0].node is not None
        assert report.unexplained == 0


@pytest.mark.parametrize(("text", "x", "origin", "arguments"), [
    ("exp(x)/sqrt(1+exp(2*x))", [400.0], "exp(2*x)", (800.0,)),       # true value 1; printed 0
    ("atan(x*y)", [1e200, 1e200], "x*y", (1e200, 1e200)),             # finite value and J
    ("1/(1 + exp(x))", [1000.0], "exp(x)", (1000.0,)),
    ("tanh(x^2)", [1e200], "x^2", (1e200, 2.0)),
])
@pytest.mark.parametrize("sweeps", [True, False])
def test_an_overflowing_intermediate_is_flagged_even_when_the_outputs_are_finite(text, x, origin, arguments, sweeps):
    graph = parse(text)
    for mode in MODES:
        report = compute(graph, [x], mode, sweeps=sweeps)
        assert report.bad_points == 1
        problem = report.problems[0]
        assert (problem.kind, problem.expression, problem.arguments) == ("value", origin, arguments)
        assert "overflows" in problem.message


def test_the_overflow_check_finds_the_points_in_a_batch():
    graph = parse("atan(x*y)")
    X = np.array([[1.0, 2.0], [1e200, 1e200], [3.0, 4.0], [-1e300, 1e10], [0.0, 0.0]])
    flagged = np.zeros(len(X), dtype=bool)
    y, J = ad.differentiate(graph, X, flagged=flagged)
    assert np.isfinite(y).all() and np.isfinite(J).all()
    np.testing.assert_array_equal(flagged, [False, True, False, True, False])
    assert compute(graph, X, sweeps=False).bad_points == 2


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
    assert passes_of(report) == "forward mode: 2 passes, one per input"


def test_report_with_a_seed():
    graph = parse("x1*x2 + x1*x3, ln(x1+x2)")
    forward = compute(graph, [[1.0, 2.0, 3.0]], "forward", seed=[1.0, 0.0, 0.0])
    reverse = compute(graph, [[1.0, 2.0, 3.0]], "reverse", seed=[0.0, 1.0])
    np.testing.assert_allclose(forward.product, [[5.0, 1 / 3]], rtol=1e-15)
    np.testing.assert_allclose(reverse.product, [[1 / 3, 1 / 3, 0.0]], rtol=1e-15)
    assert forward.n_passes == reverse.n_passes == 1
    assert passes_of(reverse) == "reverse mode: 1 pass, seeded (vᵀ·J)"


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


# --- which variables a sweep watches for inf and nan ----------------------------------------------------
@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_an_unwatched_argument_that_is_inf_or_nan_always_reaches_the_value(name):
    """``ad.watch`` skips the check on a variable when no operation that uses it can turn inf
    or nan into a finite number; then the overflow shows in y.  Try that at random numbers."""
    prim = PRIMITIVES[name]
    arity = len(prim.partials)
    rng = np.random.default_rng(3)
    others = np.concatenate([rng.normal(size=200) * 10.0 ** rng.integers(-300, 300, 200),
                             [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan]])
    absorbs, _ = ad._behaviour(name, (None,) * arity)
    with np.errstate(all="ignore"):
        for k in range(arity):
            for bad in (np.inf, -np.inf, np.nan):
                args = [np.full_like(others, bad) if q == k else others for q in range(arity)]
                if not absorbs[k]:
                    assert not np.isfinite(prim.f(*args)).any(), (name, k, bad)


def test_plain_arithmetic_and_integer_powers_are_not_watched():
    graph = parse("100*(x2 - x1^2)^2 + (1 - x1)^2")
    watched, undefinable = ad.watch(graph)
    assert not any(watched) and not any(undefinable)
    watched, undefinable = ad.watch(parse("atan(x*y) + log(x)"))
    assert sum(watched) == 1 and sum(undefinable) == 1


def test_a_product_of_partials_that_overflows_in_one_order_only_is_taken_in_the_other():
    """Reverse mode forms 1e200·1e200 first (inf), forward mode 1e200·1e-200: both print the
    true 1e200, unflagged, so the exit status does not depend on the mode (issue 11, item 2)."""
    graph = parse("1e200*(1e200*(1e-200*x))")
    for mode in MODES:
        report = compute(graph, [[1.0], [2.0]], mode)
        assert report.jacobian[:, 0, 0].tolist() == [1e200, 1e200] and report.bad_points == 0, mode
    for mode in MODES:                                  # an overflow in every order stays flagged
        report = compute(parse("1e300*sin(1e10*x)"), [[1.0]], mode)      # 1e310 in every order
        assert np.isinf(report.jacobian[0, 0, 0]) and report.bad_points == 1, mode
        (problem,) = report.problems
        assert problem.kind == "derivative" and "a derivative overflows" in problem.message


@pytest.mark.parametrize(("text", "point"), [("cbrt(x*x + x)", [1.7e308]), ("x - cbrt((y+x)*(y+y))", [400.0, -400.0]),
                                             ("log(x1) + x2", [-1.0, 2.0]), ("sqrt(x*x*x) + y", [0.0, 1.0])])
def test_at_a_flagged_point_both_modes_print_the_same_numbers(text, point):
    graph = parse(text)
    forward, reverse = (compute(graph, [point], mode, sweeps=sweeps) for mode, sweeps in (("forward", False),
                                                                                         ("reverse", True)))
    assert forward.bad_points == reverse.bad_points == 1
    np.testing.assert_array_equal(forward.jacobian, reverse.jacobian)        # nan where either is not a number


def test_an_input_that_is_not_finite_flags_its_point_in_both_paths():
    graph = parse("f(x, y) = atan(x), x")
    X = [[np.inf, 1.0], [1.0, np.nan], [1.0, 2.0]]
    for sweeps in (True, False):
        assert compute(graph, X, sweeps=sweeps).bad_points == 2


_LEAVES = st.sampled_from(["x1", "x2", "0", "2", "0.5"])
_UNARY = st.sampled_from(["sin", "exp", "log", "sqrt", "abs", "tanh", "atan", "sign", "cbrt", "asin"])
_exprs = st.recursive(
    _LEAVES,
    lambda e: st.builds("({} {} {})".format, e, st.sampled_from(["+", "-", "*", "/", "^"]), e)
    | st.builds("{}({})".format, _UNARY, e),
    max_leaves=8,
)
_values = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e-300, -1e-300, 1e300, -1e300, 710.0, 1e155])


@settings(max_examples=150, deadline=None)
@given(st.lists(_exprs, min_size=1, max_size=2), st.lists(st.tuples(_values, _values), min_size=1, max_size=5))
def test_a_point_is_flagged_exactly_where_some_variable_is_not_finite(outputs, X):
    """The batch path looks only at watched variables and at y; the trace path at every w_i.
    Both flag the same points: those where some w_i, a value or a derivative is inf or nan."""
    graph = parse(", ".join(outputs), ["x1", "x2"])
    X = np.array(X)
    w = ad.evaluate(graph, X)
    for mode in MODES:
        fast, full = compute(graph, X, mode, sweeps=False), compute(graph, X, mode, sweeps=True)
        somewhere = np.zeros(len(X), dtype=bool)
        for v in w:
            somewhere |= ~np.isfinite(np.broadcast_to(v, (len(X),)))
        somewhere |= ~np.isfinite(full.jacobian).reshape(len(X), -1).all(axis=1) | ~np.isfinite(full.values).all(axis=1)
        assert fast.bad_points == full.bad_points == somewhere.sum()
        np.testing.assert_array_equal(fast.jacobian, full.jacobian)


@pytest.mark.parametrize("sweeps", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_an_underflow_that_the_rest_magnifies_is_flagged(mode, sweeps):
    """x*x/y at (1e-200, 1e-300): x*x underflows to 0 and 1/y magnifies what it lost (the
    true value is 1e-100); printed as 0 with exit 0 before (issue 11, Done when)."""
    report = compute(parse("x*x/y"), [[1e-200, 1e-300], [1.0, 2.0]], mode, sweeps=sweeps)
    assert report.bad_points == 1
    (problem,) = report.problems
    assert problem.point == 0 and problem.expression == "x*x" and "underflows" in problem.message
    assert "about 1e-400 exactly" in problem.message and "moves y1 by about 1e-100" in problem.message


@pytest.mark.parametrize(("text", "point"), [("1 + exp(-1000*x)", [1.0]), ("exp(-800*x)", [1.0]),
                                             ("exp(x)*1e14", [-1e9]), ("x*y*1e-300 + 1", [1e-10, 1e-10]),
                                             ("x*y", [1e-200, 1e-200])])
def test_an_underflow_that_moves_nothing_is_not_flagged(text, point):
    for mode in MODES:
        assert compute(parse(text), [point], mode).bad_points == 0, (text, mode)
