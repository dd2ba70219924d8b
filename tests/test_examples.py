"""examples/: the classic test problems written as programs (issue 14), against independent references.

Each examples/<name>.adj is run by the command, in forward and in reverse mode, at the
problem's standard starting point and at other points (one of them random, seeded), and its
values and Jacobian are compared with a reference written here in plain numpy from the
published formulas (Moré, Garbow & Hillstrom 1981, "Testing unconstrained optimization
software", ACM TOMS 7:17-41, for the numbered problems): the residuals and a hand-derived
Jacobian, never read from the .adj text.  The hand Jacobians are themselves checked against
central differences of the reference residuals, so that a wrong reference cannot pass.

The first point is the one in the command of the example's header (so that what the header
tells the reader is the standard starting point); one process per example and mode, all
points in it (--at repeated).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MODES = ("forward", "reverse")

# Two evaluations of the same formulas in different orders differ by rounding only: a few
# ulps of the largest term.  1e-12 of the largest magnitude in the array (several thousand
# ulps) leaves room for that and for the libm differences between atan2/acos/cos and the
# formulas of the references, and is still far below any mistake in a partial derivative.
RTOL = 1e-12


# --- the references ----------------------------------------------------------------------
def rosenbrock(x):
    """Problem 21, extended Rosenbrock: f(2i-1) = 10(x(2i) - x(2i-1)²), f(2i) = 1 - x(2i-1)."""
    n = x.size
    odd, even = x[0::2], x[1::2]  # x(2i-1), x(2i) for i = 1 ... n/2
    f = np.empty(n)
    f[0::2] = 10 * (even - odd**2)
    f[1::2] = 1 - odd
    jac = np.zeros((n, n))
    k = np.arange(0, n, 2)
    jac[k, k] = -20 * odd
    jac[k, k + 1] = 10
    jac[k + 1, k] = -1
    return f, jac


def powell_singular(x):
    """Problem 13."""
    x1, x2, x3, x4 = x
    r5, r10 = np.sqrt(5.0), np.sqrt(10.0)
    f = np.array([x1 + 10 * x2, r5 * (x3 - x4), (x2 - 2 * x3) ** 2, r10 * (x1 - x4) ** 2])
    a, b = 2 * (x2 - 2 * x3), 2 * r10 * (x1 - x4)
    jac = np.array([[1, 10, 0, 0], [0, 0, r5, -r5], [0, a, -2 * a, 0], [b, 0, 0, -b]], dtype=float)
    return f, jac


def helical_valley(x):
    """Problem 7, with θ as in the paper (and MINPACK): arctan(x2/x1)/2π, plus 1/2 for x1 < 0."""
    x1, x2, x3 = x
    theta = np.arctan(x2 / x1) / (2 * np.pi) + (0.5 if x1 < 0 else 0.0)
    r2 = x1 * x1 + x2 * x2
    r = np.sqrt(r2)
    f = np.array([10 * (x3 - 10 * theta), 10 * (r - 1), x3])
    dtheta = np.array([-x2, x1]) / (2 * np.pi * r2)
    jac = np.array([[-100 * dtheta[0], -100 * dtheta[1], 10], [10 * x1 / r, 10 * x2 / r, 0], [0, 0, 1]])
    return f, jac


def watson(x):
    """Problem 20: 29 residuals in t(i) = i/29, then f(30) = x1, f(31) = x2 - x1² - 1."""
    n = x.size
    t = np.arange(1, 30) / 29
    powers = t[:, None] ** np.arange(n)  # t^(j-1), j = 1 ... n
    deriv = np.zeros((29, n))  # (j-1) t^(j-2): the coefficients of the first sum
    deriv[:, 1:] = np.arange(1, n) * powers[:, : n - 1]
    s = powers @ x
    f = np.empty(31)
    f[:29] = deriv @ x - s**2 - 1
    f[29] = x[0]
    f[30] = x[1] - x[0] ** 2 - 1
    jac = np.zeros((31, n))
    jac[:29] = deriv - 2 * s[:, None] * powers
    jac[29, 0] = 1
    jac[30, :2] = -2 * x[0], 1
    return f, jac


def chebyquad(x):
    """Problem 35 with m = n, the shifted Chebyshev polynomials by their three-term recurrence."""
    n = x.size
    y = 2 * x - 1
    t_prev, t_cur = np.ones(n), y  # T0, T1 at each x(j)
    d_prev, d_cur = np.zeros(n), np.full(n, 2.0)  # their derivatives in x(j)
    f, jac = np.empty(n), np.empty((n, n))
    for i in range(1, n + 1):
        f[i - 1] = t_cur.mean() - (-1 / (i * i - 1) if i % 2 == 0 else 0.0)
        jac[i - 1] = d_cur / n
        t_prev, t_cur = t_cur, 2 * y * t_cur - t_prev
        d_prev, d_cur = d_cur, 4 * t_prev + 2 * y * d_cur - d_prev
    return f, jac


def broyden_tridiagonal(x):
    """Problem 30, x(0) = x(n+1) = 0."""
    n = x.size
    padded = np.concatenate([[0.0], x, [0.0]])
    f = (3 - 2 * x) * x - padded[:-2] - 2 * padded[2:] + 1
    jac = np.diag(3 - 4 * x) + np.diag(np.full(n - 1, -1.0), -1) + np.diag(np.full(n - 1, -2.0), 1)
    return f, jac


OSBORNE2_Y = np.array([
    1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679, 0.608,
    0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661,
    0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428,
    0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559,
    0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054,
])  # fmt: skip


def osborne2(x):
    """Problem 19: f(i) = y(i) - (x1 e^(-t x5) + Σ_k x(k) e^(-(t - x(k+7))² x(k+4)), k = 2, 3, 4)."""
    t = np.arange(65) / 10
    decay = np.exp(-t * x[4])
    f = OSBORNE2_Y - x[0] * decay
    jac = np.zeros((65, 11))
    jac[:, 0] = -decay
    jac[:, 4] = x[0] * t * decay
    for k in (1, 2, 3):  # height x(k+1), width x(k+5), centre x(k+8), 1-based
        height, width, centre = x[k], x[k + 4], x[k + 7]
        d = t - centre
        g = np.exp(-(d**2) * width)
        f -= height * g
        jac[:, k] = -g
        jac[:, k + 4] = height * d**2 * g
        jac[:, k + 7] = -height * g * 2 * width * d
    return f, jac


LINKS = np.array([1.0, 0.8, 0.5])


def robot_arm(q):
    """End effector (x, y) of a planar 3R arm; column k is the sum over the links from joint k on."""
    angles = np.cumsum(q)
    reach_x, reach_y = LINKS * np.cos(angles), LINKS * np.sin(angles)
    f = np.array([reach_x.sum(), reach_y.sum()])
    tail_x, tail_y = np.cumsum(reach_x[::-1])[::-1], np.cumsum(reach_y[::-1])[::-1]
    jac = np.array([-tail_y, tail_x])
    return f, jac


XOR_U = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def mlp_loss(w):
    """2-3-1 tanh network, mean squared loss on XOR, gradient by backpropagation."""
    weights, bias, out_w, out_b = w[:6].reshape(3, 2), w[6:9], w[9:12], w[12]
    hidden = np.tanh(XOR_U @ weights.T + bias)  # (4 points, 3 units)
    err = hidden @ out_w + out_b - XOR_Y
    loss = np.mean(err**2)
    dpred = err / 2  # d loss / d ŷ(p)
    dz = dpred[:, None] * out_w * (1 - hidden**2)
    grad = np.concatenate([(dz.T @ XOR_U).ravel(), dz.sum(0), dpred @ hidden, [dpred.sum()]])
    return np.array([loss]), grad[None, :]


# --- the cases ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    reference: Callable
    variables: list[str]
    points: list[np.ndarray]  # the standard starting point first
    dense: bool = False  # J may be structurally dense where the reference is 0 at every point


def indexed(name: str, n: int) -> list[str]:
    return [f"{name}[{j}]" for j in range(1, n + 1)]


RNG = np.random.default_rng(14)


def _cases() -> dict[str, Case]:
    rosen0 = np.tile([-1.2, 1.0], 5)
    helical0 = np.array([-1.0, 0.0, 0.0])
    cheb0 = np.arange(1, 9) / 9
    osborne0 = np.array([1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5])
    mlp0 = np.array([0.5, -0.4, 0.3, 0.8, -0.7, 0.2, 0.1, -0.2, 0.05, 0.6, -0.5, 0.9, 0.1])
    return {
        "rosenbrock": Case(rosenbrock, indexed("x", 10), [rosen0, 10 * rosen0, np.ones(10), RNG.normal(size=10)]),
        "powell_singular": Case(
            powell_singular, ["x1", "x2", "x3", "x4"],
            [np.array([3.0, -1.0, 0.0, 1.0]), np.array([30.0, -10.0, 0.0, 10.0]), RNG.normal(size=4)],
        ),
        # quadrants II (on the atan2 cut, x2 = +0), II, III (θ turned by one), IV, I
        "helical_valley": Case(
            helical_valley, ["x1", "x2", "x3"],
            [helical0, np.array([-0.6, 0.8, 0.2]), np.array([-0.8, -0.6, 0.3]), np.array([1.2, -0.7, 0.4]),
             np.abs(RNG.normal(size=3)) + 0.1],
        ),
        "watson": Case(watson, indexed("x", 9), [np.zeros(9), np.linspace(-1, 1, 9), RNG.uniform(-1, 1, size=9)]),
        "chebyquad": Case(
            chebyquad, indexed("x", 8), [cheb0, np.sqrt(cheb0), RNG.uniform(0.05, 0.95, size=8)],
        ),
        "broyden_tridiagonal": Case(
            broyden_tridiagonal, indexed("x", 10), [-np.ones(10), -10 * np.ones(10), RNG.normal(size=10)],
        ),
        # t(1) = 0 multiplies x5 in f(1): a structural dependence with a zero derivative
        "osborne2": Case(
            osborne2, indexed("x", 11),
            [osborne0, np.array([1.31, 0.4316, 0.6337, 0.5994, 0.7542, 0.9043, 1.366, 4.824, 2.399, 4.569, 5.675]),
             osborne0 * (1 + 0.1 * RNG.normal(size=11))],
            dense=True,
        ),
        "robot_arm": Case(
            robot_arm, indexed("q", 3),
            [np.array([np.pi / 6, np.pi / 4, -np.pi / 3]), np.zeros(3), RNG.uniform(-np.pi, np.pi, size=3)],
        ),
        "mlp_loss": Case(mlp_loss, indexed("w", 13), [mlp0, np.zeros(13) + 0.25, RNG.normal(0, 0.7, size=13)]),
    }


CASES = _cases()
NAMES = sorted(CASES)


def close(actual, expected, what: str) -> None:
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def at(point: np.ndarray) -> str:
    return "--at=" + ",".join(repr(float(v)) for v in point)  # repr: the exact double


def header_point(path: Path) -> str:
    """The --at of the command in the example's header: its starting point, as the reader types it."""
    found = re.findall(rf"^#\s+adjac -f examples/{re.escape(path.name)} --at (\S+)$", path.read_text(), re.MULTILINE)
    assert len(found) == 1, f"{path.name}: no 'adjac -f examples/{path.name} --at ...' line in the header"
    return "--at=" + found[0]


@functools.cache
def adjac(name: str, mode: str) -> dict:
    """The JSON of the example at the header's starting point, then at the other points of its case."""
    path = EXAMPLES / f"{name}.adj"
    points = [header_point(path)] + [at(p) for p in CASES[name].points[1:]]
    cmd = [sys.executable, "-m", "autodiff_cli", "-f", str(path), *points, "--format", "json", "--mode", mode]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(cmd)}\nexit {done.returncode}\n{done.stderr}"
    return json.loads(done.stdout)


# --- the examples against the references ---------------------------------------------------
def test_every_example_has_a_reference():
    assert sorted(p.stem for p in EXAMPLES.glob("*.adj")) == NAMES


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_values_and_jacobian_match_the_reference(name, mode):
    case, out = CASES[name], adjac(name, mode)
    assert out["mode"] == mode
    assert len(out["results"]) == len(case.points)
    for k, (point, result) in enumerate(zip(case.points, out["results"])):
        where = "the header's starting point is not the standard one" if k == 0 else "the point was not read exactly"
        np.testing.assert_array_equal(result["point"], point, err_msg=f"{name}: {where}")
        f, jac = case.reference(point)
        close(result["value"], f, f"{name} ({mode}) values at {point.tolist()}")
        close(result["jacobian"], jac, f"{name} ({mode}) J at {point.tolist()}")


@pytest.mark.parametrize("name", NAMES)
def test_inputs_outputs_and_sparsity(name):
    case, out = CASES[name], adjac(name, "reverse")
    f, jac = case.reference(case.points[-1])  # the random point: no derivative is 0 by chance
    assert out["variables"] == case.variables
    assert out["warnings"] == [], f"{name}: {out['warnings']}"
    assert len(out["outputs"]) == f.size
    pattern = np.array(out["sparsity"], dtype=bool)
    assert pattern.shape == jac.shape
    assert not np.any((jac != 0) & ~pattern), f"{name}: a dependence is missing from the sparsity"
    if not case.dense:
        np.testing.assert_array_equal(pattern, jac != 0, err_msg=f"{name}: sparsity")


# --- the references against central differences -------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_reference_jacobian_matches_central_differences(name):
    case = CASES[name]
    for point in case.points:
        f, jac = case.reference(point)
        numeric = np.empty_like(jac)
        for j in range(point.size):
            h = 1e-6 * max(1.0, abs(point[j]))
            step = np.zeros_like(point)
            step[j] = h
            numeric[:, j] = (case.reference(point + step)[0] - case.reference(point - step)[0]) / (2 * h)
        scale = max(1.0, float(np.max(np.abs(jac))))
        np.testing.assert_allclose(jac, numeric, rtol=1e-6, atol=1e-6 * scale, err_msg=f"{name} at {point.tolist()}")
        assert f.shape == (jac.shape[0],)


def test_references_vanish_at_the_known_solutions():
    for name, solution in {"rosenbrock": np.ones(10), "powell_singular": np.zeros(4),
                           "helical_valley": np.array([1.0, 0.0, 0.0])}.items():
        np.testing.assert_array_equal(CASES[name].reference(solution)[0], 0, err_msg=name)


@pytest.mark.parametrize(("name", "fmin"), [("watson", 1.39976e-6), ("chebyquad", 3.51687e-3), ("osborne2", 4.01377e-2)])
def test_references_reach_the_published_minima(name, fmin):
    """The references are the published problems: least squares from x0 reach the minima of MGH's table."""
    least_squares = pytest.importorskip("scipy.optimize").least_squares
    case = CASES[name]
    fit = least_squares(lambda x: case.reference(x)[0], case.points[0], jac=lambda x: case.reference(x)[1],
                        xtol=1e-15, ftol=1e-15, gtol=1e-15)
    assert np.sum(fit.fun**2) == pytest.approx(fmin, rel=1e-5)
