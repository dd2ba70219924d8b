"""Differential test: both modes against mpmath, at awkward points (issue 11, "Done when").

Random expressions in x and y are written twice, as adjac text and as a SymPy formula
built independently of adjac's parser; SymPy differentiates the formula and mpmath
evaluates value and gradient at the exact double inputs with 60 digits.  The points mix
extreme magnitudes (1e-300 ... 1e300), exact and signed zeros and arbitrary doubles.

The property: a number adjac prints without a flag is right.  Wherever the point is not
flagged (no warning, exit status 0), every value and derivative must match the reference
to 1e-8 relative, plus what the rounding of the computation itself explains: the
first-order effect of a relative error of ε on every operation (and of an absolute one of
2^-1074, underflow), measured on the reference, and the usual ε·size·|J|abs of the sweeps;
and a number below the normal range (2^-1022 ≈ 2.2e-308) may be off by that much: atan′ at
2^512 is 1/(1 + inf) = 0, true 5.6e-309 (underflow is not flagged; see README).
Anything else, and every point where the reference is undefined or out of the range of
doubles, must be flagged.  Forward and reverse mode flag the same points and print the same
numbers to rounding.

Primitive accuracy (tanh′ near saturation, sigmoid, asin near ±1) is tested per primitive
in tests/test_primitives.py; the functions here are the ones whose rules are exact to a
few ulps, so that a mismatch here is a flaw of the sweeps, not of one rule.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff_cli import parse
from autodiff_cli.check import _absolute
from autodiff_cli.cli import main
from autodiff_cli.core import ad
from autodiff_cli.report import compute

EPS = 2.0**-52
TINY = 2.0**-1074
NORMAL = 2.0**-1022                       # the smallest normal double: below it, digits are lost to underflow
RTOL = 1e-8

# --- expressions as trees: ("x",), ("sin", a), ("add", a, b), ("addc", a, 2) ... ------------------
UNARY = ["sin", "cos", "exp", "log", "sqrt", "atan", "abs"]
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
CONSTANTS = [sp.Integer(2), sp.Integer(3), sp.Rational(1, 2)]
EXPONENTS = [sp.Integer(2), sp.Integer(3), sp.Integer(-1), sp.Rational(1, 2)]

trees = st.recursive(
    st.sampled_from([("x",), ("y",)]),
    lambda t: st.tuples(st.sampled_from(UNARY), t)
    | st.tuples(st.sampled_from(sorted(BINARY)), t, t)
    | st.tuples(st.sampled_from(["addc", "mulc", "divc", "cdiv"]), t, st.sampled_from(CONSTANTS))
    | st.tuples(st.just("pow"), t, st.sampled_from(EXPONENTS)),
    max_leaves=6,
)

MAGNITUDES = [0.0, 1e-300, 1e-200, 1e-100, 1e-8, 0.5, 1.0, 2.0, 3.0, 1e8, 1e100, 1e200, 1e300]
coordinates = (st.sampled_from(MAGNITUDES).flatmap(lambda v: st.sampled_from([v, -v]))
               | st.floats(min_value=-1e300, max_value=1e300, allow_nan=False))


def text_of(t: tuple) -> str:
    op = t[0]
    if op in ("x", "y"):
        return op
    if op in UNARY:
        return f"{op}({text_of(t[1])})"
    if op in BINARY:
        return f"({text_of(t[1])} {BINARY[op]} {text_of(t[2])})"
    c = str(t[2]) if t[2].q == 1 else "0.5"
    return {"addc": f"({text_of(t[1])} + {c})", "mulc": f"({text_of(t[1])} * {c})",
            "divc": f"({text_of(t[1])} / {c})", "cdiv": f"({c} / {text_of(t[1])})",
            "pow": f"({text_of(t[1])})^({c if t[2].q == 1 else '0.5'})"}[op]


X, Y = sp.symbols("x y", real=True)


def formula(t: tuple, perturb: list[tuple[Any, Any, Any]]) -> Any:
    """The SymPy formula of t; every operation's result r becomes r·(1 + d) + e, with a
    fresh pair (d, e) appended to ``perturb`` with r: the model of one rounding (and underflow)."""
    op = t[0]
    if op == "x":
        return X
    if op == "y":
        return Y
    if op in UNARY:
        a = formula(t[1], perturb)
        r = {"sin": sp.sin, "cos": sp.cos, "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt,
             "atan": sp.atan, "abs": sp.Abs}[op](a)
    elif op in BINARY:
        a, b = formula(t[1], perturb), formula(t[2], perturb)
        r = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b}[op]
    else:
        a, c = formula(t[1], perturb), t[2]
        r = {"addc": a + c, "mulc": a * c, "divc": a / c, "cdiv": c / a, "pow": a**c}[op]
    d, e = sp.symbols(f"d{len(perturb)} e{len(perturb)}", real=True)
    perturb.append((d, e, r))
    return r * (1 + d) + e


# --- the reference ------------------------------------------------------------------------------------
BIG = mpmath.mpf(10) ** 400              # far beyond doubles; mpmath would take ages on exp(1e300)


def _exp(a: Any) -> Any:
    real = a.real if isinstance(a, mpmath.mpc) else a
    if real > 10**5:
        return mpmath.inf
    return mpmath.mpf(0) if real < -(10**5) else mpmath.exp(a)


def _periodic(f: Any) -> Any:
    return lambda a: mpmath.nan if abs(a) > BIG else f(a)


MODULES = [{"exp": _exp, "sin": _periodic(mpmath.sin), "cos": _periodic(mpmath.cos)}, "mpmath"]


def _real(v: Any) -> float | None:
    """v as an mpf, or None when it is undefined: complex, nan or inf."""
    if isinstance(v, mpmath.mpc):
        if v.imag != 0:
            return None
        v = v.real
    v = mpmath.mpf(v)
    return None if not mpmath.isfinite(v) else v


class Reference:
    """Value and gradient at (x, y) to 60 digits, and their first-order sensitivity to a
    relative error ε (and an absolute 2^-1074) in every operation."""

    def __init__(self, t: tuple, x: float, y: float):
        perturb: list[tuple[Any, Any, Any]] = []
        E = formula(t, perturb)
        exprs = [E, sp.diff(E, X), sp.diff(E, Y)]
        symbols = [X, Y, *(s for d, e, _ in perturb for s in (d, e))]
        f = [sp.lambdify(symbols, expr, modules=MODULES) for expr in exprs]
        nodes = sp.lambdify(symbols, [r for _, _, r in perturb], modules=MODULES)
        k = len(symbols) - 2
        args = [mpmath.mpf(x), mpmath.mpf(y)]
        self.stable = False
        for dps in (60, 150):
            with mpmath.workdps(dps + 40):
                finer = self._eval(f, args + [0] * k)
            with mpmath.workdps(dps):
                self.exact = self._eval(f, args + [0] * k)
                try:
                    w = [abs(_real(v) or 0) for v in nodes(*args, *[0] * k)]
                except (ZeroDivisionError, ValueError, OverflowError):
                    w = [mpmath.mpf(0)] * (k // 2)
                self.sensitivity = self._sensitivity(f, args, w)
            # a reference that is itself unstable is no reference; its error need only be far
            # below what doubles resolve (exp(x)/sqrt(1 + exp(2x)) at 400: d/dx ≈ 3.7e-348)
            self.stable = all((a is None) == (b is None) and (
                a is None or abs(a - b) <= 1e-20 * abs(b) + 1e-6 * self.rounding(r) + TINY * 1e-6)
                for r, (a, b) in enumerate(zip(self.exact, finer)))
            if self.stable:
                break

    def _sensitivity(self, f: list[Any], args: list[Any], w: list[Any]) -> list[list[Any]]:
        """[relative, absolute]: Σ|∂v/∂d_i|·ε and Σ|∂v/∂e_i|·2^-1074 for v = value, d/dx, d/dy,
        by differences with steps small against each w_i."""
        k = 2 * len(w)
        sensitivity = [[mpmath.mpf(0)] * 3, [mpmath.mpf(0)] * 3]
        for q in range(k):
            kind, scale = (0, EPS) if q % 2 == 0 else (1, TINY)       # d: relative ε; e: absolute 2^-1074
            h = mpmath.mpf(10) ** -25 * (1 if kind == 0 else max(w[q // 2], mpmath.mpf(10) ** -320))
            outs = []
            for sign in (1, -1):
                moved = [0] * k
                moved[q] = sign * h
                outs.append(self._eval(f, args + moved))
            for r, b in enumerate(self.exact):
                slopes = [abs(out[r] - b) / h for out in outs if out[r] is not None and b is not None]
                # one-sided at a domain edge (sqrt(0 − h) is not real); none: a singular point
                sensitivity[kind][r] += max(slopes) * scale if slopes else mpmath.inf
        return sensitivity

    def rounding(self, r: int, J_abs: float = 0.0) -> Any:
        """What the roundings of the computation explain, to first order (generously).  For
        a derivative, an underflow to 0 in a sweep (a partial −2e-200/1e200) errs by about
        2^-1074 times the tangent it multiplies, amplified as an underflow of the value is."""
        relative, absolute = self.sensitivity
        bound = 64 * (relative[r] + absolute[r])
        if r:
            bound += 4 * absolute[0] * (1 + J_abs)
        return bound

    @staticmethod
    def _eval(f: list[Any], args: list[Any]) -> list[Any]:
        """Value, d/dx, d/dy at args; None for each that is undefined."""
        out = []
        for g in f:
            try:
                out.append(_real(g(*args)))
            except (ZeroDivisionError, ValueError, OverflowError):
                out.append(None)
        return out


# --- the property --------------------------------------------------------------------------------------
def judge(t: tuple, x: float, y: float) -> None:
    text = text_of(t)
    graph = parse(text, ["x", "y"])
    point = np.array([[x, y]])
    ref = Reference(t, x, y)
    if not ref.stable:
        assume(False)
    reports = {mode: compute(graph, point, mode, sweeps=False) for mode in ("forward", "reverse")}
    w, edges = ad.linearize(graph, point)
    with np.errstate(all="ignore"):
        J_abs = _absolute(graph, w, edges, 1)[0, 0]                   # Σ over chains of Π|c|
        # an underflow in a partial c_ij errs by 2^-1074·|ẇ_j|, carried on by w̄_i
        tangents = _largest(ad.sweeps(graph, point, "forward", np.eye(2))[1])
        adjoints = _largest(ad.sweeps(graph, point, "reverse", np.eye(1))[1])
    size = len(graph) + len(edges)
    sweeping = 4 * EPS * size * J_abs + 4 * TINY * len(edges) * tangents * adjoints
    for mode, report in reports.items():
        where = f"{text} at ({x!r}, {y!r}), {mode} mode"
        if report.bad_points:
            assert report.problems, where                               # a warning names the node
            continue
        got = [report.values[0, 0], report.jacobian[0, 0, 0], report.jacobian[0, 0, 1]]
        for r, (a, b) in enumerate(zip(got, ref.exact)):
            what = ("value", "d/dx", "d/dy")[r]
            assert b is not None, f"{where}: {what} = {a!r} unflagged, but the reference is undefined"
            rounding = float(ref.rounding(r, float(np.max(J_abs)))) + (sweeping[r - 1] if r else 0.0)
            if not np.isfinite(rounding):
                rounding = math.inf                                    # at a singularity of the reference
            error = abs(mpmath.mpf(a) - b)
            allowed = RTOL * abs(b) + rounding + NORMAL                  # below NORMAL: underflow
            assert error <= allowed, (f"{where}: {what} = {a!r} unflagged, reference {mpmath.nstr(b, 17)}, "
                                      f"error {mpmath.nstr(error, 3)} > allowed {mpmath.nstr(allowed, 3)}")
    fwd, rev = reports["forward"], reports["reverse"]
    # Both modes flag the same points and print the same numbers: a product that overflows in
    # one order only (x/(y/y) at (1e100, 1e-300)) is taken in the other order, in both modes.
    assert fwd.bad_points == rev.bad_points, (text, x, y)
    finite = np.isfinite(fwd.jacobian)
    assert (finite == np.isfinite(rev.jacobian)).all(), (text, x, y)
    with np.errstate(invalid="ignore"):
        gap = np.abs(fwd.jacobian - rev.jacobian)
    assert (gap[finite] <= 2 * sweeping.reshape(1, 1, -1)[finite]).all(), (text, x, y)


def _largest(passes: list[ad.Pass]) -> float:
    """The largest finite |ẇ_i| or |w̄_i| over the passes (1 at least)."""
    largest = 1.0
    for sweep in passes:
        for v in sweep.derivatives:
            if v is not None and np.isfinite(v).all():
                largest = max(largest, float(np.max(np.abs(v))))
    return largest


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(trees, coordinates, coordinates)
def test_an_unflagged_number_matches_mpmath(t, x, y):
    judge(t, x, y)


@pytest.mark.slow
@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(trees, coordinates, coordinates)
def test_an_unflagged_number_matches_mpmath_at_many_points(t, x, y):
    judge(t, x, y)


@pytest.mark.parametrize(("t", "x", "y"), [
    (("cdiv", ("add", ("cdiv", ("x",), sp.Integer(1)), ("cdiv", ("y",), sp.Integer(1))), sp.Integer(1)), 1e-200, 2.0),
    (("sqrt", ("sub", ("x",), ("sin", ("x",)))), 0.0, 1.0),
    (("div", ("exp", ("x",)), ("sqrt", ("addc", ("exp", ("mulc", ("x",), sp.Integer(2))), sp.Integer(1)))), 400.0, 0.0),
    (("atan", ("mul", ("x",), ("y",))), 1e200, 1e200),
    (("mul", ("x",), ("sqrt", ("y",))), 0.0, 0.0),
])
def test_the_issue_examples_are_flagged(t, x, y):
    """The examples of issue 11, items 2 and 3, through the same judge (they were confident
    wrong numbers), and on the command line: exit 1 and a warning."""
    judge(t, x, y)
    done = CliRunner().invoke(main, [f"f(x, y) = {text_of(t)}", "--at", f"{x!r},{y!r}", "--format", "json"])
    assert done.exit_code == 1 and "adjac: warning:" in done.stderr
