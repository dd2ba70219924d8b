"""The primitives of ``primitives.PRIMITIVES`` once more, one number at a time, for the compiled engine.

``value(op, a, b)`` is w = f(a, b) and ``partial(op, k, w, a, b, b_const)`` is ∂w/∂u_k, for
the primitive ``KERNELS[op]``, written with scalar ``math`` and numpy functions that numba
compiles (``core/compiled.py`` does, with ``error_model="numpy"``: 1/0 is inf, log(−1) is
nan, no exceptions).  Each formula is the one of the table, in the same order of
operations, so that the results agree bit for bit wherever both use the same libm
(+, −, ·, /, √ and the formulas built from them) and within a few ulps where numpy has
its own vectorized exp, log, sin ... (tests/test_compiled.py compares every primitive
and every partial against the table on edge values).

A primitive of PRIMITIVES that is missing from KERNELS is simply not compiled: a graph
that uses it is computed by the numpy engine (``compiled.encode`` returns None).  A test
fails until it is added here or to LEFT_OUT with the reason, so an omission is deliberate.

Every function here is compiled by numba (``kernel``: inlined into its caller, with
numpy's error model); this module is loaded by ``compiled`` only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from .primitives import HUGE, LOG2_E, LOG10_E, TINY

KERNELS: tuple[str, ...] = (
    "add", "sub", "mul", "div", "pow", "neg", "sin", "cos", "tan", "exp", "log", "log2", "log10", "sqrt",
    "abs", "sign", "sinh", "cosh", "tanh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "sigmoid",
)
OPCODE: dict[str, int] = {name: k for k, name in enumerate(KERNELS)}
LEFT_OUT: dict[str, str] = {        # primitives computed by the numpy engine only, and why
    "cbrt": "numba's cbrt is up to 3 ulps from the libm cbrt numpy calls, and its partial 1/(3w²) up to 10",
    # the primitives of programs (issue 14), added after this interpreter: the numpy engine runs
    # them until each has a kernel proven equal to the table
    **{name: "a primitive of programs (issue 14) without a kernel yet" for name in
       ("atan2", "hypot", "max", "min", "lt", "le", "gt", "ge", "eq", "ne", "and", "or", "not")},
    "if": "the branch not taken needs ad._taken_only (its non-finite partials zeroed per point), which the "
          "interpreter does not do",
}
kernel = njit(error_model="numpy", nogil=True, cache=False)


@kernel
def _sign(a: float) -> float:
    """np.sign: −1, 0 (also for −0) or 1, nan for nan."""
    if a > 0.0:
        return 1.0
    if a < 0.0:
        return -1.0
    return a if a != a else 0.0


@kernel
def _normal(w: float) -> bool:
    """primitives._normal for one number: finite, and not 0 or subnormal."""
    size = abs(w)
    return size >= TINY and size <= HUGE


@kernel
def _sigmoid(a: float) -> float:
    e = np.exp(-abs(a))
    return (1.0 if a >= 0 else e) / (1 + e)


@kernel
def _dpow_base(w: float, a: float, b: float, b_const: bool) -> float:
    """primitives._dpow_base at one point; ``b_const``: the exponent is a constant (b = 2 → 2a)."""
    if b_const and b == 2:
        return 2 * a
    q = w / a
    c = b * q
    if not (_normal(w) and _normal(q)) and w == w:
        if _normal(w):
            mb, eb = math.frexp(b)
            mw, ew = math.frexp(w)
            ma, ea = math.frexp(a)
            c = math.ldexp(mb * mw / ma, eb + ew - ea)
        else:
            c = b * np.power(abs(a), b - 1) * (math.copysign(1.0, w) * math.copysign(1.0, a))
    return 0.0 if b == 0 else c


@kernel
def _dpow_exponent(w: float, a: float, b: float) -> float:
    """primitives._dpow_exponent at one point."""
    c = w * np.log(a)
    if not _normal(w):
        h = np.power(a, b / 2)
        c = (h * np.log(a)) * h
    return 0.0 if a == 0 and w == 0 else c


@kernel
def _ddiv_divisor(w: float, a: float, b: float) -> float:
    """primitives._ddiv_divisor at one point: −w/b, or −a/(b·b) where w is subnormal."""
    if w != 0 and abs(w) < TINY:
        return -(a / (b * b))
    return -w / b


@kernel
def _dtanh(a: float) -> float:
    e = np.exp(-2 * abs(a))
    return 4 * e / ((1 + e) * (1 + e))


@kernel
def _dsigmoid(a: float) -> float:
    e = np.exp(-abs(a))
    return e / ((1 + e) * (1 + e))


@kernel
def block(op: int, A: Any, B: Any, b_const: bool, e0: int, e1: int, W: Any, C0: Any, C1: Any, nb: int) -> None:
    """One node of KERNELS[op] at the nb points of a block: W[p] = f(A[p], B[p]) and, for
    each argument k with e_k = 1 (a partial computed per point), C_k[p] = ∂w/∂u_k as
    ``PRIMITIVES[name].partials[k]`` computes it.  One loop per primitive, so that each
    compiled loop knows its operation.  B is unused by the unary primitives."""
    if op == 0:         # add
        for p in range(nb):
            W[p] = A[p] + B[p]
    elif op == 1:         # sub
        for p in range(nb):
            W[p] = A[p] - B[p]
    elif op == 2:         # mul
        for p in range(nb):
            W[p] = A[p] * B[p]
        if e0 == 1:
            for p in range(nb):
                C0[p] = B[p]
        if e1 == 1:
            for p in range(nb):
                C1[p] = A[p]
    elif op == 3:         # div
        for p in range(nb):
            W[p] = A[p] / B[p]
        if e0 == 1:
            for p in range(nb):
                C0[p] = 1 / B[p]
        if e1 == 1:
            for p in range(nb):
                C1[p] = _ddiv_divisor(W[p], A[p], B[p])
    elif op == 4:         # pow
        if b_const and B[0] == 2:                   # x^2: a·a is the correctly rounded a^2, as pow's
            for p in range(nb):
                W[p] = A[p] * A[p]
        elif b_const and B[0] == 0.5:               # numpy takes √a for a constant exponent ½ ((−0)^½ = −0)
            for p in range(nb):
                W[p] = np.sqrt(A[p])
        else:
            for p in range(nb):
                W[p] = np.power(A[p], B[p])
        if e0 == 1 and b_const and B[0] == 2:
            for p in range(nb):
                C0[p] = 2 * A[p]
        elif e0 == 1:
            for p in range(nb):
                C0[p] = _dpow_base(W[p], A[p], B[p], b_const)
        if e1 == 1:
            for p in range(nb):
                C1[p] = _dpow_exponent(W[p], A[p], B[p])
    elif op == 5:         # neg
        for p in range(nb):
            W[p] = -A[p]
    elif op == 6:         # sin
        for p in range(nb):
            W[p] = np.sin(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = np.cos(A[p])
    elif op == 7:         # cos
        for p in range(nb):
            W[p] = np.cos(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = -np.sin(A[p])
    elif op == 8:         # tan
        for p in range(nb):
            W[p] = np.tan(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = 1 + W[p] * W[p]
    elif op == 9:         # exp
        for p in range(nb):
            W[p] = np.exp(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = W[p]
    elif op == 10:        # log
        for p in range(nb):
            W[p] = np.log(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = 1 / A[p]
    elif op == 11:        # log2
        for p in range(nb):
            W[p] = np.log2(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = LOG2_E / A[p]
    elif op == 12:        # log10
        for p in range(nb):
            W[p] = np.log10(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = LOG10_E / A[p]
    elif op == 13:        # sqrt
        for p in range(nb):
            W[p] = np.sqrt(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = 0.5 / W[p]
    elif op == 14:        # abs
        for p in range(nb):
            W[p] = abs(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = _sign(A[p])
    elif op == 15:        # sign
        for p in range(nb):
            W[p] = _sign(A[p])
    elif op == 16:        # sinh
        for p in range(nb):
            W[p] = np.sinh(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = np.cosh(A[p])
    elif op == 17:        # cosh
        for p in range(nb):
            W[p] = np.cosh(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = np.sinh(A[p])
    elif op == 18:        # tanh
        for p in range(nb):
            W[p] = np.tanh(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = _dtanh(A[p])
    elif op == 19:        # asin
        for p in range(nb):
            W[p] = np.arcsin(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = 1 / np.sqrt((1 - A[p]) * (1 + A[p]))
    elif op == 20:        # acos
        for p in range(nb):
            W[p] = np.arccos(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = -1 / np.sqrt((1 - A[p]) * (1 + A[p]))
    elif op == 21:        # atan
        for p in range(nb):
            W[p] = np.arctan(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = 1 / A[p] / A[p] if abs(A[p]) > 1e150 else 1 / (1 + A[p] * A[p])
    elif op == 22:        # asinh
        for p in range(nb):
            W[p] = np.arcsinh(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = 1 / math.hypot(A[p], 1.0)
    elif op == 23:        # acosh
        for p in range(nb):
            W[p] = np.arccosh(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = 1 / (np.sqrt(A[p] - 1) * np.sqrt(A[p] + 1))
    elif op == 24:        # atanh
        for p in range(nb):
            W[p] = np.arctanh(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = 1 / ((1 - A[p]) * (1 + A[p]))
    elif op == 25:        # sigmoid
        for p in range(nb):
            W[p] = _sigmoid(A[p])
        if e0 == 1:
            for p in range(nb):
                C0[p] = _dsigmoid(A[p])
