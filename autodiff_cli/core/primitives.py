"""The one table of primitives: value, local partials, and how both are written on paper.

Each entry of PRIMITIVES gives, for w = f(u0, u1, ...):

- ``f``         the value, on numpy arrays (or floats);
- ``partials``  one function per argument, c_k = ∂w/∂u_k, called as ``(w, *u)`` so that
                exp, sqrt, tanh, div ... can reuse the value w instead of recomputing it;
                only the partials of *active* arguments (those depending on an input)
                are ever evaluated;
- ``rules``     the same partials as text for traces, over ``{w}``, ``{a}``, ``{b}``;
- ``show``      how the operation itself is written: ``{a}·{b}``, ``sin({a})``;
- ``domain``    where the primitive is defined and smooth, for error messages;
- ``edge``      where it has a kink, pole, jump or domain edge, for --check and messages.

Both engines use the partials only through ``ad.linearize``, and the trace and every
other printer take their rule text from ``rules`` and ``show``, so no derivative rule is
written twice, and adding a function is adding one entry (plus its SymPy function in
``symbolic.values``).  A reviewer can
check the lines below against a table of derivatives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

Partial = Callable[..., Any]


class Prim(NamedTuple):
    f: Callable[..., Any]            # w = f(*u)
    partials: tuple[Partial, ...]    # (w, *u) -> ∂w/∂u_k, one per argument
    rules: tuple[str, ...]           # the partials on paper
    show: str                        # the operation on paper
    domain: str = ""                 # where f is finite and differentiable
    edge: tuple[Callable[..., Any], str] | None = None
    # (g, what): g(*u) changes sign across a kink, pole, jump or domain edge of f (nan: none
    # near, as atan2's g away from its branch cut, the negative x axis), where
    # difference quotients do not measure the derivative (--check) and inf means "outside
    # the domain", not overflow (messages); ``what`` names it: "the pole of"


TINY = float(np.finfo(float).tiny)          # the smallest normal double, 2^-1022
HUGE = float(np.finfo(float).max)           # the largest finite double
LOG2_E = 1.4426950408889634                 # 1/ln 2, rounded once (M_LOG2E)
LOG10_E = 0.4342944819032518                # 1/ln 10 (M_LOG10E)

# The partials below are the rules on paper, written so that they neither cancel nor
# overflow where the result is a normal double: (1 − a)(1 + a) for 1 − a², e^−|a| for the
# tails of tanh and σ, b·w/a scaled by powers of two for b·a^(b−1) ...  Each is within
# 4 ulps of the exact value at the exact arguments (tests/test_primitives_mpmath.py).


def _normal(w: Any) -> Any:
    """w is finite, and a normal double (not 0, not subnormal): its relative error is ε."""
    return np.isfinite(w) & (np.abs(w) >= TINY)


def _all_normal(*ws: Any) -> bool:
    """_normal(w).all() for each w, by two reductions (nan fails both comparisons)."""
    for w in ws:
        size = np.abs(w)
        if not (size.min() >= TINY and size.max() <= HUGE):
            return False
    return True


def _ddiv_divisor(w: Any, a: Any, b: Any) -> Any:
    """∂(a/b)/∂b = −w/b = −a/b²; from a and b·b where w = a/b came out subnormal (inexact)."""
    c = -w / b
    subnormal = (w != 0) & (np.abs(w) < TINY)       # then |b| > 2^-52, so b·b is a normal double
    return np.where(subnormal, -(a / (b * b)), c) if np.any(subnormal) else c


def _dpow_base(w: Any, a: Any, b: Any) -> Any:
    """∂(a^b)/∂a = b·a^(b−1), also at a = 0 and for negative a with integer b.

    Taken as b·(w/a): no rounding of b − 1, which for b < 0.5 costs up to |ln a| ulps and
    for |b| > 2^53 flips the sign, and one power fewer.  Where w or w/a is not a normal
    double, b·w/a with the powers of two of the three factors added apart (no intermediate
    overflow), or where w = a^b itself is 0, subnormal or inf, b·|a|^(b−1) with the sign
    of w/a.
    """
    if np.ndim(b) == 0:              # a constant exponent: the common case, made cheap
        if b == 0:
            return 0.0
        if b == 1:
            return 1.0
        if b == 2:
            return 2 * a
    with np.errstate(all="ignore"):                           # w/a at a = 0: 0/0, replaced below
        q = w / a
        c = b * q
        if not _all_normal(w, q):
            plain = _normal(w) & _normal(q)
            (mb, eb), (mw, ew), (ma, ea) = np.frexp(b), np.frexp(w), np.frexp(a)
            scaled = np.ldexp(mb * mw / ma, eb + ew - ea)
            direct = b * np.abs(a) ** (b - 1) * (np.copysign(1.0, w) * np.copysign(1.0, a))
            c = np.where(plain | np.isnan(w), c, np.where(_normal(w), scaled, direct))   # nan: a < 0, b ∉ ℤ
    return c if np.ndim(b) == 0 else np.where(b == 0, 0.0, c)


def _dpow_exponent(w: Any, a: Any, b: Any) -> Any:
    """∂(a^b)/∂b = a^b·ln a; 0 at a = 0 with b > 0, where a^b is the constant 0 near b.

    Where w = a^b over- or underflows, as (h·ln a)·h with h = a^(b/2): near a = 1 the
    product is finite although w is not.
    """
    c = w * np.log(a)
    if not _all_normal(w):
        odd = ~_normal(w)
        h = np.power(a, b / 2)
        c = np.where(odd, (h * np.log(a)) * h, c)      # nan stays nan: h is nan where w is
    return np.where((a == 0) & (w == 0), 0.0, c)


def _dtanh(w: Any, a: Any) -> Any:
    """tanh′ = 1 − w² = 4e/(1 + e)² with e = exp(−2|a|): 1 − w² cancels once |w| → 1."""
    e = np.exp(-2 * np.abs(a))
    return 4 * e / ((1 + e) * (1 + e))


def _sigmoid(a: Any) -> Any:
    """σ(a) = 1/(1 + e^−a), as 1/(1 + e) for a ≥ 0 and e/(1 + e) for a < 0, e = exp(−|a|)."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0, e) / (1 + e)


def _dsigmoid(w: Any, a: Any) -> Any:
    """σ′ = w·(1 − w) = σ(a)·σ(−a) = e/(1 + e)², e = exp(−|a|): 1 − w cancels for a ≫ 0."""
    e = np.exp(-np.abs(a))
    return e / ((1 + e) * (1 + e))


def _datan(w: Any, a: Any) -> Any:
    """atan′ = 1/(1 + a²); as (1/a)/a past |a| = 1e150, where a² overflows (and 1 + a² = a²)."""
    return np.where(np.abs(a) > 1e150, 1 / a / a, 1 / (1 + a * a))


def _scaled(a: Any, b: Any) -> tuple[Any, Any, Any, Any]:
    """(p, q, r, e) with a = p·2^e, b = q·2^e exactly, max(|p|, |q|) in [½, 1) and r = p² + q²:
    the partials of atan2 and hypot without the overflow of a² + b² (or of hypot itself,
    which is inf at a = b = DBL_MAX) and without the underflow of tiny arguments."""
    e = np.frexp(np.maximum(np.abs(a), np.abs(b)))[1]
    p, q = np.ldexp(a, -e), np.ldexp(b, -e)
    return p, q, p * p + q * q, e


def _datan2(w: Any, a: Any, b: Any, k: int) -> Any:
    """∂atan2(y, x)/∂y = x/(x² + y²) (k = 0) and ∂/∂x = −y/(x² + y²) (k = 1), scaled by
    powers of two (``_scaled``); nan at the origin, where atan2 has no derivative."""
    p, q, r, e = _scaled(a, b)
    with np.errstate(all="ignore"):
        square = np.ldexp(r, 2 * e)                   # x² + y², where it is a normal double
        top = b if k == 0 else -a
        direct = top / square                         # one rounding: a subnormal x over a tiny x² + y²
        scaled = np.ldexp((q if k == 0 else -p) / r, -e)
        return np.where(np.isfinite(square) & (square >= TINY), direct, scaled)


def _dhypot(w: Any, a: Any, b: Any, k: int) -> Any:
    """∂hypot(a, b)/∂a = a/hypot(a, b) (k = 0), ∂/∂b = b/hypot(a, b) (k = 1), scaled."""
    p, q, r, _ = _scaled(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (p if k == 0 else q) / np.sqrt(r)


def _unordered(*u: Any) -> Any:
    """Where an argument is nan: a comparison with nan is neither true nor false."""
    return np.isnan(u[0]) | np.isnan(u[1]) if len(u) == 2 else np.isnan(u[0])


def _truth(test: Callable[..., Any]) -> Callable[..., Any]:
    """A comparison or connective as a number: 1 where true, 0 where false, nan where an
    argument is nan (so that an undefined condition shows, instead of choosing a branch)."""
    def f(*u: Any) -> Any:
        return np.where(_unordered(*u), np.nan, np.asarray(test(*u), dtype=float))
    return f


def _select(c: Any, a: Any, b: Any) -> Any:
    """if(c, a, b): a where c ≠ 0, b where c = 0, nan where c is nan."""
    return np.where(np.isnan(c), np.nan, np.where(c != 0, a, b))


def _taken(c: Any) -> Any:
    """∂if(c, a, b)/∂a: 1 where c holds, else 0, nan where c is nan (no branch is taken).
    (The branch not taken may be undefined there; ``ad._taken_only`` zeroes its partials,
    so that 0·nan never reaches the result.)"""
    c = np.asarray(c)
    return np.where(np.isnan(c), np.nan, (c != 0).astype(float))


def _not_taken(c: Any) -> Any:
    c = np.asarray(c)
    return np.where(np.isnan(c), np.nan, (c == 0).astype(float))


def _dmax(w: Any, a: Any, b: Any) -> Any:
    """∂max(a, b)/∂a: 1 where a > b, 0 where a < b, ½ at a tie (as JAX and PyTorch)."""
    return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))


def _dmin(w: Any, a: Any, b: Any) -> Any:
    """∂min(a, b)/∂a: 1 where a < b, 0 where a > b, ½ at a tie (as JAX and PyTorch)."""
    return np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0))


def _dacosh(w: Any, a: Any) -> Any:
    """acosh′ = 1/√(a² − 1) = 1/(√(a − 1)·√(a + 1)): a − 1 is exact near 1, and no a² overflows."""
    return 1 / (np.sqrt(a - 1) * np.sqrt(a + 1))


_ZERO2 = (lambda w, a, b: 0.0, lambda w, a, b: 0.0)

# fmt: off
PRIMITIVES: dict[str, Prim] = {
    "add":   Prim(np.add,      (lambda w, a, b: 1.0, lambda w, a, b: 1.0),        ("1", "1"),                  "{a} + {b}"),
    "sub":   Prim(np.subtract, (lambda w, a, b: 1.0, lambda w, a, b: -1.0),       ("1", "−1"),                 "{a} − {b}"),
    "mul":   Prim(np.multiply, (lambda w, a, b: b, lambda w, a, b: a),            ("{b}", "{a}"),              "{a}·{b}"),
    "div":   Prim(np.divide,   (lambda w, a, b: 1 / b, _ddiv_divisor),            ("1/{b}", "−{w}/{b}"),       "{a}/{b}",   "divisor ≠ 0", edge=(lambda a, b: b, "the pole of")),
    "pow":   Prim(np.power,    (_dpow_base, _dpow_exponent),                      ("{b}·{a}^({b}−1)", "{w}·ln({a})"), "{a}^{b}", "base > 0, or an integer exponent", edge=(lambda a, b: a, "the base 0 of")),
    "neg":   Prim(np.negative, (lambda w, a: -1.0,),                              ("−1",),                     "−{a}"),
    "sin":   Prim(np.sin,      (lambda w, a: np.cos(a),),                         ("cos({a})",),               "sin({a})"),
    "cos":   Prim(np.cos,      (lambda w, a: -np.sin(a),),                        ("−sin({a})",),              "cos({a})"),
    "tan":   Prim(np.tan,      (lambda w, a: 1 + w * w,),                         ("1 + {w}²",),               "tan({a})", edge=(np.cos, "a pole of")),
    "exp":   Prim(np.exp,      (lambda w, a: w,),                                 ("{w}",),                    "exp({a})"),
    "log":   Prim(np.log,      (lambda w, a: 1 / a,),                             ("1/{a}",),                  "ln({a})",   "argument > 0", edge=(lambda a: a, "the domain edge of")),
    "log2":  Prim(np.log2,     (lambda w, a: LOG2_E / a,),                        ("1/({a}·ln(2))",),          "log2({a})", "argument > 0", edge=(lambda a: a, "the domain edge of")),
    "log10": Prim(np.log10,    (lambda w, a: LOG10_E / a,),                       ("1/({a}·ln(10))",),         "log10({a})", "argument > 0", edge=(lambda a: a, "the domain edge of")),
    "sqrt":  Prim(np.sqrt,     (lambda w, a: 0.5 / w,),                           ("1/(2·{w})",),              "√{a}",      "argument > 0", edge=(lambda a: a, "the domain edge of")),
    "cbrt":  Prim(np.cbrt,     (lambda w, a: 1 / (3 * w * w),),                   ("1/(3·{w}²)",),             "∛{a}",      "argument ≠ 0", edge=(lambda a: a, "the vertical tangent of")),
    "abs":   Prim(np.abs,      (lambda w, a: np.sign(a),),                        ("sign({a})",),              "|{a}|", edge=(lambda a: a, "the kink of")),
    "sign":  Prim(np.sign,     (lambda w, a: 0.0,),                               ("0",),                      "sign({a})", edge=(lambda a: a, "the jump of")),
    "sinh":  Prim(np.sinh,     (lambda w, a: np.cosh(a),),                        ("cosh({a})",),              "sinh({a})"),
    "cosh":  Prim(np.cosh,     (lambda w, a: np.sinh(a),),                        ("sinh({a})",),              "cosh({a})"),
    "tanh":  Prim(np.tanh,     (_dtanh,),                                         ("1 − {w}²",),               "tanh({a})"),
    "asin":  Prim(np.arcsin,   (lambda w, a: 1 / np.sqrt((1 - a) * (1 + a)),),    ("1/√(1 − {a}²)",),          "asin({a})", "−1 < argument < 1", edge=(lambda a: 1 - a * a, "the domain edge of")),
    "acos":  Prim(np.arccos,   (lambda w, a: -1 / np.sqrt((1 - a) * (1 + a)),),   ("−1/√(1 − {a}²)",),         "acos({a})", "−1 < argument < 1", edge=(lambda a: 1 - a * a, "the domain edge of")),
    "atan":  Prim(np.arctan,   (_datan,),                                         ("1/(1 + {a}²)",),           "atan({a})"),
    "asinh": Prim(np.arcsinh,  (lambda w, a: 1 / np.hypot(a, 1),),                ("1/√({a}² + 1)",),          "asinh({a})"),
    "acosh": Prim(np.arccosh,  (_dacosh,),                                         ("1/√({a}² − 1)",),          "acosh({a})", "argument > 1", edge=(lambda a: a - 1, "the domain edge of")),
    "atanh": Prim(np.arctanh,  (lambda w, a: 1 / ((1 - a) * (1 + a)),),           ("1/(1 − {a}²)",),           "atanh({a})", "−1 < argument < 1", edge=(lambda a: 1 - a * a, "the domain edge of")),
    "sigmoid": Prim(_sigmoid,  (_dsigmoid,),                                      ("{w}·(1 − {w})",),          "σ({a})"),
    "atan2": Prim(np.arctan2,  (lambda w, a, b: _datan2(w, a, b, 0), lambda w, a, b: _datan2(w, a, b, 1)),
                                                                                  ("{b}/({a}² + {b}²)", "−{a}/({a}² + {b}²)"), "atan2({a}, {b})", "arguments not both 0", edge=(lambda a, b: np.where(b < 0, a, np.nan), "the branch cut of")),
    "hypot": Prim(np.hypot,    (lambda w, a, b: _dhypot(w, a, b, 0), lambda w, a, b: _dhypot(w, a, b, 1)),
                                                                                  ("{a}/{w}", "{b}/{w}"),      "hypot({a}, {b})", "arguments not both 0"),
    "max":   Prim(np.maximum,  (_dmax, lambda w, a, b: _dmax(w, b, a)),           ("if({a} > {b}, 1, if({a} == {b}, 0.5, 0))", "if({b} > {a}, 1, if({a} == {b}, 0.5, 0))"), "max({a}, {b})", edge=(lambda a, b: a - b, "the kink of")),
    "min":   Prim(np.minimum,  (_dmin, lambda w, a, b: _dmin(w, b, a)),           ("if({a} < {b}, 1, if({a} == {b}, 0.5, 0))", "if({b} < {a}, 1, if({a} == {b}, 0.5, 0))"), "min({a}, {b})", edge=(lambda a, b: a - b, "the kink of")),
    # comparisons and connectives: 1 or 0 (nan if an argument is), piecewise constant: derivative 0
    "lt":    Prim(_truth(np.less),          _ZERO2, ("0", "0"), "{a} < {b}",  edge=(lambda a, b: a - b, "the switch of")),
    "le":    Prim(_truth(np.less_equal),    _ZERO2, ("0", "0"), "{a} ≤ {b}",  edge=(lambda a, b: a - b, "the switch of")),
    "gt":    Prim(_truth(np.greater),       _ZERO2, ("0", "0"), "{a} > {b}",  edge=(lambda a, b: a - b, "the switch of")),
    "ge":    Prim(_truth(np.greater_equal), _ZERO2, ("0", "0"), "{a} ≥ {b}",  edge=(lambda a, b: a - b, "the switch of")),
    "eq":    Prim(_truth(np.equal),         _ZERO2, ("0", "0"), "{a} == {b}", edge=(lambda a, b: a - b, "the switch of")),
    "ne":    Prim(_truth(np.not_equal),     _ZERO2, ("0", "0"), "{a} ≠ {b}",  edge=(lambda a, b: a - b, "the switch of")),
    "and":   Prim(_truth(lambda a, b: (a != 0) & (b != 0)), _ZERO2, ("0", "0"), "{a} and {b}"),
    "or":    Prim(_truth(lambda a, b: (a != 0) | (b != 0)), _ZERO2, ("0", "0"), "{a} or {b}"),
    "not":   Prim(_truth(lambda a: a == 0),                 (lambda w, a: 0.0,), ("0",), "not {a}"),
    "if":    Prim(_select,     (lambda w, c, a, b: 0.0, lambda w, c, a, b: _taken(c), lambda w, c, a, b: _not_taken(c)),
                                                                                  ("0", "if({a}, 1, 0)", "if({a}, 0, 1)"), "if({a}, {b}, {c})"),
}
# fmt: on

# Operators are written with symbols; everything else in PRIMITIVES is a function.
OPERATORS = frozenset({"add", "sub", "mul", "div", "pow", "neg", "lt", "le", "gt", "ge", "eq", "ne", "and", "or", "not"})
COMPARISONS = {"<": "lt", "<=": "le", "≤": "le", ">": "gt", ">=": "ge", "≥": "ge", "==": "eq", "!=": "ne", "≠": "ne"}
FUNCTIONS: dict[str, str] = {name: name for name in PRIMITIVES if name not in OPERATORS}
FUNCTIONS["ln"] = "log"                      # ln is log, as in lecture notes
FUNCTIONS["pow"] = "pow"                     # pow(a, b) is a^b
CONSTANTS: dict[str, float] = {"pi": float(np.pi), "e": float(np.e)}


# The one ASCII spelling of the notation every printer uses (tables, trace, DOT, --check).
_ASCII = str.maketrans({"·": "*", "−": "-", "≤": "<=", "≥": ">=", "≠": "!=", "√": "sqrt", "∛": "cbrt", "σ": "sigmoid", "²": "^2", "ᵀ": "^T",
                        "∂": "d", "…": "...", "ε": "eps", "±": "+/-", "∇": "grad ", "Σ": "sum",
                        "\u0307": "_dot", "\u0304": "_bar",
                        "ẋ": "x_dot", "ẇ": "w_dot", "ċ": "c_dot", "ȳ": "y_bar"})
# combining marks: ẇ4 → w_dot4, w̄4 → w_bar4; and the precomposed letters ẋ, ẇ, ċ, ȳ


def ascii_math(text: str) -> str:
    """The plain-ASCII spelling of our math notation, for non-UTF-8 terminals and --ascii."""
    return text.translate(_ASCII)
