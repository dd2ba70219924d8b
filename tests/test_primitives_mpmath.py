"""Every entry of PRIMITIVES, its value and each local partial, against mpmath.

The reference is the exact function (and its derivative from a table of derivatives),
evaluated by mpmath with 256 bits at the *exact* double input, so nothing here depends on
difference quotients or on numpy.  The sweep is log-spaced over the whole double range
(±5e-324 … ±1.8e308, both signs, exact zero) plus the points within 1–4 ulps of every
edge: 0, ±1 (asin, acos, atanh, acosh, pow), ±π/2 and π (tan, sin), the overflow
thresholds of exp, sinh, cosh and the underflow of sigmoid, and relative offsets
10^-1 … 10^-15 from each of them.  Binary primitives take the product of a smaller sweep,
called once with two arrays and once per value with one argument a plain float64 scalar,
as the engines pass constants; every primitive is also called on scalars alone, as the
parser folds constant subexpressions.

Tolerance: 4 ulps of the true result, or 1e-15 relative (the ulp of a subnormal result
is 2^-1074, so an underflowing result is compared in absolute terms, and one that
overflows must be ±inf).  The formulas in the table stay under 3.2 ulps on this sweep.

Where is a primitive "well conditioned"?  The relative condition number
κ = |x·f'(x)/f(x)| says how much a relative error *in the input* is amplified.  Our inputs
are exact doubles and the reference is taken at exactly that double, so κ only excuses
errors from an intermediate that the implementation had to round first (a² in 1 − a²
near a = ±1, where κ of 1/√(1 − a²) is a²/(1 − a²); b − 1 in b·a^(b−1)).  Every such
rounding can be avoided by a better formula ((1 − a)(1 + a), b·w/a ...), and that is
exactly the loss this test is meant to catch: a tolerance of 4κ ulps would pass the old
1/√(1 − a²) at a = 0.99999999, off by 2e6 ulps where 4κ is 2e8.  So no point is
exempted by κ, and the bound holds everywhere in the domain.  The exceptions are not
about accuracy but about definition:
- a reference that is undefined at the point (a pole, 0^-1, 0·ln 0, a kink, nan) is
  skipped; there the table's conventions (sign′(0) = 0, ...) are tested elsewhere;
- outside the real domain (mpmath gives a complex number: log(-1), asin(2), (-8)^(1/3))
  the value must be nan, and the partials are not compared (ad.linearize sets them to
  nan wherever the value is nan).
numpy's own functions (np.tan, np.arcsinh, np.power ...) are held to the same bound.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from autodiff_cli.core.primitives import PRIMITIVES

PREC = 256          # bits: 1 − a² at a = 1 − 2^-53 needs 106; ample for every formula here
TOLERANCE = 4       # ulps of the true result
RELATIVE = 1e-15    # ... or this, relative: a chain of 4 or 5 roundings may just pass 4 ulps
mpf = mpmath.mpf


class Undefined(Exception):
    """The reference has no value here (a pole, 0^-1, a kink): nothing to compare."""


# --- the references: f and ∂f/∂u_k on paper, in exact arithmetic ------------------------
def _pow(a, b):
    if a < 0 and not mpmath.isint(b):
        return mpmath.mpc(0, 1)                      # (-8)^(1/3): outside the real domain
    if a == 0:
        if b < 0:
            raise Undefined
        return mpf(1) if b == 0 else mpf(0)
    sign = -1 if a < 0 and int(b) % 2 else 1
    scale = b * mpmath.log(abs(a), 2)                # skip mpmath's exact huge powers: far
    if scale > 1200:                                 # past the double range is all we need
        return sign * mpmath.inf
    if scale < -1200:
        return sign * mpf(0)
    return sign * mpmath.power(abs(a), b)


def _div(p, q):
    if q == 0:
        raise Undefined
    return p / q


def _log(a):
    return mpmath.log(a) if a != 0 else _undefined()


def _undefined():
    raise Undefined


def _sigmoid(a):
    return 1 / (1 + mpmath.exp(-a))


def _cbrt(a):
    return mpmath.sign(a) * mpmath.cbrt(abs(a))      # the real cube root, as np.cbrt


def _step(d):
    """∂max(a, b)/∂a with d = a − b: 1 or 0 off the kink d = 0 (the tie is tested elsewhere)."""
    if d == 0:
        raise Undefined
    return mpf(1 if d > 0 else 0)


def _flat(d):
    """The derivative of a comparison or connective: 0 off its jump at d = 0."""
    if d == 0:
        raise Undefined
    return mpf(0)


def _nonzero(a):
    if a == 0:
        raise Undefined                              # a kink, jump or vertical tangent
    return a


# name: (f, (∂f/∂u_0, ∂f/∂u_1, ...)), each over mpf arguments
REFERENCE = {
    "add":   (lambda a, b: a + b,               (lambda a, b: mpf(1), lambda a, b: mpf(1))),
    "sub":   (lambda a, b: a - b,               (lambda a, b: mpf(1), lambda a, b: mpf(-1))),
    "mul":   (lambda a, b: a * b,               (lambda a, b: b, lambda a, b: a)),
    "div":   (lambda a, b: _div(a, b),          (lambda a, b: _div(1, b), lambda a, b: _div(-a, b * b))),
    "pow":   (_pow,                             (lambda a, b: b * _pow(a, mpmath.fsub(b, 1, exact=True)) if b != 0 else mpf(0),
                                                 lambda a, b: _pow(a, b) * _log(a))),
    "neg":   (lambda a: -a,                     (lambda a: mpf(-1),)),
    "sin":   (mpmath.sin,                       (mpmath.cos,)),
    "cos":   (mpmath.cos,                       (lambda a: -mpmath.sin(a),)),
    "tan":   (mpmath.tan,                       (lambda a: 1 / mpmath.cos(a) ** 2,)),
    "exp":   (mpmath.exp,                       (mpmath.exp,)),
    "log":   (_log,                             (lambda a: _div(1, a),)),
    "log2":  (lambda a: _log(a) / mpmath.log(2),   (lambda a: _div(1, a * mpmath.log(2)),)),
    "log10": (lambda a: _log(a) / mpmath.log(10),  (lambda a: _div(1, a * mpmath.log(10)),)),
    "sqrt":  (mpmath.sqrt,                      (lambda a: _div(1, 2 * mpmath.sqrt(a)),)),
    "cbrt":  (_cbrt,                            (lambda a: _div(1, 3 * _cbrt(a) ** 2),)),
    "abs":   (abs,                              (lambda a: mpmath.sign(_nonzero(a)),)),
    "sign":  (mpmath.sign,                      (lambda a: mpf(0) * _nonzero(a),)),
    "sinh":  (mpmath.sinh,                      (mpmath.cosh,)),
    "cosh":  (mpmath.cosh,                      (mpmath.sinh,)),
    "tanh":  (mpmath.tanh,                      (lambda a: 1 / mpmath.cosh(a) ** 2,)),
    "asin":  (mpmath.asin,                      (lambda a: _div(1, mpmath.sqrt(1 - a * a)),)),
    "acos":  (mpmath.acos,                      (lambda a: _div(-1, mpmath.sqrt(1 - a * a)),)),
    "atan":  (mpmath.atan,                      (lambda a: 1 / (1 + a * a),)),
    "asinh": (mpmath.asinh,                     (lambda a: 1 / mpmath.sqrt(a * a + 1),)),
    "acosh": (mpmath.acosh,                     (lambda a: _div(1, mpmath.sqrt(a * a - 1)),)),
    "atanh": (lambda a: mpmath.atanh(a) if abs(a) != 1 else _undefined(),
                                                (lambda a: _div(1, 1 - a * a),)),
    "sigmoid": (_sigmoid,                       (lambda a: _sigmoid(a) * _sigmoid(-a),)),
    "atan2": (lambda a, b: mpmath.atan2(a, b) if a or b else _undefined(),
                                                (lambda a, b: _div(b, a * a + b * b), lambda a, b: _div(-a, a * a + b * b))),
    "hypot": (lambda a, b: mpmath.sqrt(a * a + b * b),
                                                (lambda a, b: _div(a, mpmath.sqrt(a * a + b * b)),
                                                 lambda a, b: _div(b, mpmath.sqrt(a * a + b * b)))),
    "max":   (max,                              (lambda a, b: _step(a - b), lambda a, b: _step(b - a))),
    "min":   (min,                              (lambda a, b: _step(b - a), lambda a, b: _step(a - b))),
    **{name: (lambda a, b, t=test: mpf(1 if t(a, b) else 0), (lambda a, b: _flat(a - b),) * 2) for name, test in (
        ("lt", lambda a, b: a < b), ("le", lambda a, b: a <= b), ("gt", lambda a, b: a > b),
        ("ge", lambda a, b: a >= b), ("eq", lambda a, b: a == b), ("ne", lambda a, b: a != b))},
    "and":   (lambda a, b: mpf(1 if a and b else 0), (lambda a, b: _flat(a), lambda a, b: _flat(b))),
    "or":    (lambda a, b: mpf(1 if a or b else 0),  (lambda a, b: _flat(a), lambda a, b: _flat(b))),
    "not":   (lambda a: mpf(0 if a else 1),          (lambda a: _flat(a),)),
    "if":    (lambda c, a, b: a if c else b,         (lambda c, a, b: _flat(c), lambda c, a, b: mpf(1 if c else 0),
                                                      lambda c, a, b: mpf(0 if c else 1))),
}

# --- the sweeps ---------------------------------------------------------------------------
def _ulps_around(e: float, k: int = 4) -> list[float]:
    up, down, out = e, e, [e]
    for _ in range(k):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        out += [up, down]
    return out


EDGES = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, math.pi / 2, -math.pi / 2, math.pi,
         709.782712893384,            # exp overflows above log(DBL_MAX)
         710.4758600739439,           # sinh, cosh overflow
         -745.1332191019411,          # exp and sigmoid underflow to 0
         19.0, 37.0, -37.0, 40.0, -40.0]


def unary_sweep() -> np.ndarray:
    magnitudes = [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                  *10.0 ** np.linspace(-323, 308, 150)]
    points = [s * m for m in magnitudes for s in (1.0, -1.0)]
    for e in EDGES:
        points += _ulps_around(e)
        points += [e + s * max(abs(e), 1.0) * 10.0 ** -j for j in range(1, 16) for s in (1.0, -1.0)]
    points += list(np.linspace(-12, 12, 97))          # the ordinary range, evenly
    return np.unique(np.array(points, dtype=float))


def binary_axis() -> np.ndarray:
    magnitudes = [5e-324, 1.7976931348623157e308, *10.0 ** np.linspace(-320, 300, 9),
                  3e-318, 7e-9, 1.3e-154, 4.4e154]    # a subnormal a/b, a·b or a² with a normal partial
    points = [s * m for m in magnitudes for s in (1.0, -1.0)]
    points += [*_ulps_around(1.0, 2), *_ulps_around(-1.0, 1), 0.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0,
               2.5, 1 / 3, 0.1, -7.25, 1e-5, 1e5, 1023.0]
    return np.unique(np.array(points, dtype=float))


def sweep(name: str) -> np.ndarray:
    """Points as rows, one column per argument of the primitive."""
    arity = len(PRIMITIVES[name].partials)
    if arity == 1:
        return unary_sweep()[:, None]
    axis = binary_axis()
    if arity == 3:                                   # if(c, a, b): a coarser cube
        axis = axis[:: max(1, len(axis) // 16)]
    return np.array(np.meshgrid(*[axis] * arity, indexing="ij")).reshape(arity, -1).T


# --- the comparison -----------------------------------------------------------------------
def reference(fn, row) -> object:
    """fn at the exact doubles of ``row``: an mpf, "complex" (outside the domain) or None."""
    try:
        with mpmath.workprec(PREC):
            t = fn(*(mpf(float(u)) for u in row))
            if isinstance(t, mpmath.mpc):            # even 0·(complex): ln of a < 0
                return "complex"
            t = mpf(t)                               # (ints too), still with PREC bits
    except (Undefined, ZeroDivisionError, ValueError):
        return None
    return None if mpmath.isnan(t) else t


def ulps(c: float, t) -> float:
    """|c − t| in units of the last place of t rounded to a double (2^-1074 at least)."""
    T = float(t)
    if math.isinf(T):
        return 0.0 if c == T else math.inf
    if not math.isfinite(c):
        return math.inf
    e = math.frexp(T)[1] if T != 0 else -1074
    ulp = math.ldexp(1.0, max(e - 53, -1074))
    with mpmath.workprec(PREC):
        return float(abs(mpf(c) - t)) / ulp


def close(c: float, t) -> bool:
    """Within TOLERANCE ulps, or 1e-15 relative (4.5 to 9 ulps) where t is a normal double."""
    if ulps(c, t) <= TOLERANCE:
        return True
    with mpmath.workprec(PREC):
        return abs(float(t)) >= 2.2250738585072014e-308 and float(abs(mpf(c) - t) / abs(t)) <= RELATIVE


def evaluations(name: str, k: int | None, U: np.ndarray) -> list[np.ndarray]:
    """The table's value (k None) or partial k at every row of U, in each calling layout."""
    prim = PRIMITIVES[name]

    def at(*u):
        w = prim.f(*u)
        return w if k is None else prim.partials[k](w, *u)

    with np.errstate(all="ignore"):
        layouts = [np.broadcast_to(at(*U.T), (len(U),)).astype(float),
                   np.array([float(at(*map(np.float64, row))) for row in U])]
        for fixed in range(U.shape[1] if U.shape[1] > 1 else 0):   # one argument a constant
            out = np.empty(len(U))
            for v in np.unique(U[:, fixed]):
                rows = U[:, fixed] == v
                u = [np.float64(v) if j == fixed else U[rows, j] for j in range(U.shape[1])]
                out[rows] = np.broadcast_to(at(*u), (int(rows.sum()),))
            layouts.append(out)
    return layouts


CASES = [(name, k) for name in PRIMITIVES for k in (None, *range(len(PRIMITIVES[name].partials)))]


@pytest.mark.parametrize(("name", "k"), CASES,
                         ids=[f"{n}-{'value' if k is None else f'd{k}'}" for n, k in CASES])
def test_value_and_partials_within_4_ulps_of_mpmath(name, k):
    assert name in REFERENCE, f"{name}: add its value and partials to REFERENCE (mpmath)"
    f, partials = REFERENCE[name]
    assert len(partials) == len(PRIMITIVES[name].partials)
    fn = f if k is None else partials[k]
    U = sweep(name)
    truths = [reference(fn, row) for row in U]
    if k is not None:            # outside the domain of f: ad.linearize makes the partials nan
        truths = [None if t is None or reference(f, row) == "complex" else t for row, t in zip(U, truths)]
    compared = 0
    bad = []
    for layout in evaluations(name, k, U):
        for row, c, t in zip(U, layout, truths):
            if t is None:
                continue
            x = tuple(float(u) for u in row)
            if t == "complex":
                if not math.isnan(c):
                    bad.append((math.inf, x, c, "outside the domain: nan expected"))
                continue
            compared += 1
            if not close(float(c), t):
                bad.append((ulps(float(c), t), x, float(c), mpmath.nstr(t, 17)))
    assert compared >= 100, f"{name}: only {compared} points compared"
    bad.sort(key=lambda b: -b[0])
    what = "value" if k is None else f"∂/∂u{k}"
    assert not bad, (f"{name} {what}: {len(bad)} points beyond {TOLERANCE} ulps; worst:\n"
                     + "\n".join(f"  x = {x!r}: got {c!r}, true {t} ({e:.3g} ulps)" for e, x, c, t in bad[:8]))


def test_the_sweep_reaches_every_edge():
    """Not vacuous: the unary sweep holds points 1 ulp inside ±1 and beside 0."""
    xs = set(unary_sweep().tolist())
    for e in (1.0, -1.0, 0.0):
        assert math.nextafter(e, 0.0 if e else 1.0) in xs
    assert 5e-324 in xs and 1.7976931348623157e308 in xs
