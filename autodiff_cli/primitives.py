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
    # (g, what): g(*u) changes sign across a kink, pole, jump or domain edge of f, where
    # difference quotients do not measure the derivative (--check) and inf means "outside
    # the domain", not overflow (messages); ``what`` names it: "the pole of"


def _dpow_base(w: Any, a: Any, b: Any) -> Any:
    """∂(a^b)/∂a = b·a^(b−1), also at a = 0 and for negative a with integer b."""
    if np.ndim(b) == 0:              # a constant exponent: the common case, made cheap
        if b == 0:
            return 0.0
        if b == 1:
            return 1.0
        if b == 2:
            return 2 * a
    return np.where(b == 0, 0.0, b * a ** (b - 1))


def _dpow_exponent(w: Any, a: Any, b: Any) -> Any:
    """∂(a^b)/∂b = a^b·ln a; 0 at a = 0 with b > 0, where a^b is the constant 0 near b."""
    return np.where((a == 0) & (w == 0), 0.0, w * np.log(a))


# fmt: off
PRIMITIVES: dict[str, Prim] = {
    "add":   Prim(np.add,      (lambda w, a, b: 1.0, lambda w, a, b: 1.0),        ("1", "1"),                  "{a} + {b}"),
    "sub":   Prim(np.subtract, (lambda w, a, b: 1.0, lambda w, a, b: -1.0),       ("1", "−1"),                 "{a} − {b}"),
    "mul":   Prim(np.multiply, (lambda w, a, b: b, lambda w, a, b: a),            ("{b}", "{a}"),              "{a}·{b}"),
    "div":   Prim(np.divide,   (lambda w, a, b: 1 / b, lambda w, a, b: -w / b),   ("1/{b}", "−{w}/{b}"),       "{a}/{b}",   "divisor ≠ 0", edge=(lambda a, b: b, "the pole of")),
    "pow":   Prim(np.power,    (_dpow_base, _dpow_exponent),                      ("{b}·{a}^({b}−1)", "{w}·ln({a})"), "{a}^{b}", "base > 0, or an integer exponent", edge=(lambda a, b: a, "the base 0 of")),
    "neg":   Prim(np.negative, (lambda w, a: -1.0,),                              ("−1",),                     "−{a}"),
    "sin":   Prim(np.sin,      (lambda w, a: np.cos(a),),                         ("cos({a})",),               "sin({a})"),
    "cos":   Prim(np.cos,      (lambda w, a: -np.sin(a),),                        ("−sin({a})",),              "cos({a})"),
    "tan":   Prim(np.tan,      (lambda w, a: 1 + w * w,),                         ("1 + {w}²",),               "tan({a})", edge=(np.cos, "a pole of")),
    "exp":   Prim(np.exp,      (lambda w, a: w,),                                 ("{w}",),                    "exp({a})"),
    "log":   Prim(np.log,      (lambda w, a: 1 / a,),                             ("1/{a}",),                  "ln({a})",   "argument > 0", edge=(lambda a: a, "the domain edge of")),
    "log2":  Prim(np.log2,     (lambda w, a: 1 / (a * np.log(2)),),               ("1/({a}·ln(2))",),          "log2({a})", "argument > 0", edge=(lambda a: a, "the domain edge of")),
    "log10": Prim(np.log10,    (lambda w, a: 1 / (a * np.log(10)),),              ("1/({a}·ln(10))",),         "log10({a})", "argument > 0", edge=(lambda a: a, "the domain edge of")),
    "sqrt":  Prim(np.sqrt,     (lambda w, a: 0.5 / w,),                           ("1/(2·{w})",),              "√{a}",      "argument > 0", edge=(lambda a: a, "the domain edge of")),
    "cbrt":  Prim(np.cbrt,     (lambda w, a: 1 / (3 * w * w),),                   ("1/(3·{w}²)",),             "∛{a}",      "argument ≠ 0", edge=(lambda a: a, "the vertical tangent of")),
    "abs":   Prim(np.abs,      (lambda w, a: np.sign(a),),                        ("sign({a})",),              "|{a}|", edge=(lambda a: a, "the kink of")),
    "sign":  Prim(np.sign,     (lambda w, a: 0.0,),                               ("0",),                      "sign({a})", edge=(lambda a: a, "the jump of")),
    "sinh":  Prim(np.sinh,     (lambda w, a: np.cosh(a),),                        ("cosh({a})",),              "sinh({a})"),
    "cosh":  Prim(np.cosh,     (lambda w, a: np.sinh(a),),                        ("sinh({a})",),              "cosh({a})"),
    "tanh":  Prim(np.tanh,     (lambda w, a: 1 - w * w,),                         ("1 − {w}²",),               "tanh({a})"),
    "asin":  Prim(np.arcsin,   (lambda w, a: 1 / np.sqrt(1 - a * a),),            ("1/√(1 − {a}²)",),          "asin({a})", "−1 < argument < 1", edge=(lambda a: 1 - a * a, "the domain edge of")),
    "acos":  Prim(np.arccos,   (lambda w, a: -1 / np.sqrt(1 - a * a),),           ("−1/√(1 − {a}²)",),         "acos({a})", "−1 < argument < 1", edge=(lambda a: 1 - a * a, "the domain edge of")),
    "atan":  Prim(np.arctan,   (lambda w, a: 1 / (1 + a * a),),                   ("1/(1 + {a}²)",),           "atan({a})"),
    "asinh": Prim(np.arcsinh,  (lambda w, a: 1 / np.sqrt(a * a + 1),),            ("1/√({a}² + 1)",),          "asinh({a})"),
    "acosh": Prim(np.arccosh,  (lambda w, a: 1 / np.sqrt(a * a - 1),),            ("1/√({a}² − 1)",),          "acosh({a})", "argument > 1", edge=(lambda a: a - 1, "the domain edge of")),
    "atanh": Prim(np.arctanh,  (lambda w, a: 1 / (1 - a * a),),                   ("1/(1 − {a}²)",),           "atanh({a})", "−1 < argument < 1", edge=(lambda a: 1 - a * a, "the domain edge of")),
    "sigmoid": Prim(lambda a: 0.5 + 0.5 * np.tanh(0.5 * a), (lambda w, a: w * (1 - w),), ("{w}·(1 − {w})",), "σ({a})"),
}
# fmt: on

# Operators are written with symbols; everything else in PRIMITIVES is a function.
OPERATORS = frozenset({"add", "sub", "mul", "div", "pow", "neg"})
FUNCTIONS: dict[str, str] = {name: name for name in PRIMITIVES if name not in OPERATORS}
FUNCTIONS["ln"] = "log"                      # ln is log, as in lecture notes
CONSTANTS: dict[str, float] = {"pi": float(np.pi), "e": float(np.e)}
