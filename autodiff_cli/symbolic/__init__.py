"""On paper: the same sweeps over SymPy expressions instead of numbers.

Without a point, adjac runs its own forward or reverse sweeps (``ad.forward_pass`` and
``ad.reverse_pass``, which only use ``*`` and ``+``) over the symbols x1, x2, ...; SymPy
only does the algebra: it keeps the expressions, simplifies the results and prints
them.  It never differentiates for us.

``linearize`` is the symbolic primal sweep.  It gives the same edges (i, j, k, c) as
``ad.linearize``, with c = ∂w_i/∂w_j a formula in the inputs.  Each local partial comes
from the one primitives table: a rule's paper text (``cos({a})``, ``{b}·{a}^({b}−1)``)
written in ASCII is an expression in adjac's own language, which ``expressions`` reads with
adjac's one parser (without folding constants, so ``ln(2)`` stays exact).  The symbols
{w}, {a}, {b} are then replaced by the node's value and arguments.

``values()`` says which SymPy function computes each primitive's value; it holds no
derivatives (a test checks it against PRIMITIVES' numpy functions).  ``formula`` writes a SymPy expression back in adjac's language (``^``,
``ln``, ``abs``), so that ``parse`` reads every printed formula back.

SymPy is one of adjac's dependencies.  It is imported here only, and only when a
symbolic result is asked for, so numeric runs never load it (nor pay its start-up time).
"""

from __future__ import annotations

import functools
import math
import operator
import re
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core import ad
from ..core.graph import Const, Graph
from ..core.parse import DECIMAL, parse
from ..core.primitives import CONSTANTS, PRIMITIVES, ascii_math
from ..errors import AdjacError, SymbolicUnavailable

INSTALL = "python -m pip install 'sympy>=1.12'"     # from PyPI: works wherever pip does (adjac itself is not on PyPI)
SIMPLIFY_LIMIT = 400      # count_ops above which a formula is left as the sweep made it
SIMPLIFY_SECONDS = 5.0    # SymPy's simplify per run, in all; past it formulas stay as the sweeps made them
FORMULA_SECONDS = 2.0     # ... and per formula, so that one slow formula leaves time for the others
NESTING_LIMIT = 6         # functions of functions deeper than this are not simplified where no timer can stop SymPy
EXACT_POWER_LIMIT = 64    # a power of numbers with a larger exponent is taken in doubles, as adjac does


def sympy_module() -> Any:
    """``import sympy``, or SymbolicUnavailable with the install command.

    SymPy is a dependency, so this happens only in an environment where adjac was
    installed without its dependencies (``pip install --no-deps``) or SymPy was removed.
    """
    try:
        import sympy
    except ImportError:
        raise SymbolicUnavailable(
            f"formulas need SymPy, one of adjac's dependencies, which this Python cannot import: {INSTALL}\n"
            "  (or give a point with --at for numbers)") from None
    return sympy


# --- each primitive's value in SymPy ---------------------------------------------------
@functools.cache
def values() -> dict[str, Callable[..., Any]]:
    """PRIMITIVES name -> the SymPy function that computes its value (no derivatives here)."""
    sp = sympy_module()
    return {
        "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
        "pow": operator.pow, "neg": operator.neg,
        "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "exp": sp.exp, "log": sp.log,
        "log2": lambda a: sp.log(a, 2), "log10": lambda a: sp.log(a, 10),
        "sqrt": sp.sqrt, "cbrt": cbrt_function(), "abs": sp.Abs, "sign": sp.sign,
        "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
        "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
        "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh,
        "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
        "atan2": sp.atan2, "hypot": lambda a, b: sp.sqrt(a**2 + b**2), "max": sp.Max, "min": sp.Min,
        "lt": _truth(sp.Lt), "le": _truth(sp.Le), "gt": _truth(sp.Gt), "ge": _truth(sp.Ge),
        "eq": _truth(sp.Eq), "ne": _truth(sp.Ne),
        "and": _truth(lambda a, b: sp.And(condition(a), condition(b))),
        "or": _truth(lambda a, b: sp.Or(condition(a), condition(b))),
        "not": _truth(lambda a: sp.Not(condition(a))),
        "if": lambda c, a, b: sp.Piecewise((a, condition(c)), (b, True)),
    }


def _truth(test: Callable[..., Any]) -> Callable[..., Any]:
    """A comparison or connective as adjac has it: the number 1 where it holds, else 0."""
    def f(*u: Any) -> Any:
        sp = sympy_module()
        held = test(*u)
        if held in (sp.true, sp.false):
            return sp.Integer(1 if held else 0)
        return sp.Piecewise((1, held), (0, True))
    return f


def condition(c: Any) -> Any:
    """The condition c ≠ 0 as a SymPy boolean: the comparison itself for a 1-or-0 Piecewise."""
    sp = sympy_module()
    if isinstance(c, sp.Piecewise) and len(c.args) == 2 and c.args[0][0] == 1 and c.args[1] == (0, True):
        return c.args[0][1]
    held = sp.Ne(c, 0)
    return held


@functools.cache
def cbrt_function() -> Any:
    """adjac's cbrt as a SymPy function: the real cube root (SymPy's real_root gives a
    Piecewise over the sign of its argument, which has no spelling in adjac's language).
    Exact on numbers, a^(1/3) where a is known to be ≥ 0, else kept as cbrt(a)."""
    sp = sympy_module()

    class cbrt(sp.Function):  # type: ignore[misc, valid-type, name-defined]
        nargs = 1

        @classmethod
        def eval(cls, a: Any) -> Any:
            if a.is_Number:
                return sp.real_root(a, 3)
            if a.is_nonnegative:
                return a ** sp.Rational(1, 3)
            if a.is_nonpositive:
                return -((-a) ** sp.Rational(1, 3))
            return None

        def _eval_is_extended_real(self) -> Any:
            return self.args[0].is_extended_real

        def fdiff(self, argindex: int = 1) -> Any:
            return 1 / (3 * self ** 2)

        def _latex(self, printer: Any, exp: Any = None) -> str:
            root = f"\\sqrt[3]{{{printer._print(self.args[0])}}}"
            return root if exp is None else f"\\left({root}\\right)^{{{exp}}}"     # a power of it: 1/(3·∛y²)

    return cbrt


def real(expr: Any) -> Any:
    """expr, or nan where it is not real: a complex constant (log(−1) = iπ, acos(2)) or a
    formula with i in it ((−2)^x·(ln 2 + iπ)); a number adjac computes there is nan too."""
    sp = sympy_module()
    if expr is None or not isinstance(expr, sp.Basic):
        return expr
    if expr.has(sp.I) or any(node.is_number and node.is_extended_real is False and not node.has(sp.zoo)
                             for node in sp.preorder_traversal(expr)):        # zoo: 1/0, written (1/0)
        return sp.nan
    return expr


@functools.cache
def constants() -> dict[str, Any]:
    """The named constants of the language (CONSTANTS), exactly."""
    sp = sympy_module()
    return {"pi": sp.pi, "e": sp.E}


# --- adjac text -> SymPy, through adjac's one parser ---------------------------------------
def expressions(text: str, names: dict[str, Any] | None = None) -> list[Any]:
    """The outputs of ``text`` (adjac's language) as exact SymPy expressions.

    ``text`` is read by ``parse`` without folding constants, so ``ln(2)`` and ``1/3`` stay
    exact; its names must be keys of ``names`` (or pi and e).  Raises ParseError (an
    AdjacError) if the text is not valid.
    """
    graph = parse(text, list(names or {}), fold=False)
    w = [(names or {})[name] for name in graph.inputs]
    value = values()
    for op in graph.tape:
        u = [_exact(graph, a) if isinstance(a, Const) else w[a] for a in op.args]
        if op.prim == "pow" and u[0].is_Number and u[1].is_Number and abs(u[1]) > EXACT_POWER_LIMIT:
            with np.errstate(all="ignore"):             # 9^9^9 has 370 million digits
                w.append(number(float(np.power(_float(u[0]), _float(u[1])))))
        else:
            w.append(value[op.prim](*u))
    return [_exact(graph, y) if isinstance(y, Const) else w[y] for y in graph.outputs]


def _exact(graph: Graph, a: Const) -> Any:
    """An unfolded constant: a number as written (0.1 is 1/10 on paper), or pi or e."""
    written = graph.text[a.span[0] : a.span[1]]
    if written in CONSTANTS:
        return constants()[written]
    if not DECIMAL.match(written):        # an index of sum(i = ...), a constant of the program
        return number(a.value)
    return sympy_module().Rational(written) if math.isfinite(a.value) else sympy_module().oo


# --- the local partials, from the table's rules -------------------------------------------
def rule_text(prim: str, k: int) -> str:
    """The paper rule of ∂w/∂u_k in adjac's language: ``b*a^(b-1)``."""

    return ascii_math(PRIMITIVES[prim].rules[k]).format(w="w", a="a", b="b", c="c")


@functools.cache
def _rule(prim: str, k: int) -> tuple[Any, tuple[Any, ...]]:
    """The rule as a SymPy expression over placeholders (w, a, b), compiled once."""
    sp = sympy_module()
    slots = (sp.Dummy("w"), sp.Dummy("a"), sp.Dummy("b"), sp.Dummy("c"))
    (expr,) = expressions(rule_text(prim, k), dict(zip("wabc", slots)))
    return expr, slots


def partial(prim: str, k: int, w_i: Any, u: Sequence[Any]) -> Any:
    """c = ∂w/∂u_k of ``prim`` at the expressions w = prim(*u) and u, from the table's rule."""
    expr, slots = _rule(prim, k)
    return expr.xreplace(dict(zip(slots, (w_i, *u))))


# --- the symbolic primal sweep -------------------------------------------------------------
def symbols(graph: Graph) -> list[Any]:
    """One real SymPy symbol per input, named as in the expression."""
    sp = sympy_module()
    return [sp.Symbol(name, real=True) for name in graph.inputs]


def number(value: float) -> Any:
    """A double as SymPy: exact for integers and short decimals, nan/oo where not finite."""
    sp = sympy_module()
    if math.isnan(value):
        return sp.nan
    if math.isinf(value):
        return sp.oo if value > 0 else -sp.oo
    return sp.Integer(int(value)) if value == int(value) else sp.Rational(repr(value))


def _float(v: Any) -> float:
    """float(v), inf (with its sign) when v is too large for a double."""
    try:
        return float(v)
    except OverflowError:
        return math.copysign(math.inf, v)


def constant(graph: Graph, a: Const) -> Any:
    """A folded constant, exactly as written (``2*pi``, ``ln(2)``) when its text says so."""
    start, end = a.span
    if end > start:
        try:
            (exact,) = expressions(graph.text[start:end])
        except (AdjacError, ValueError):
            exact = None
        if exact is not None and exact.is_extended_real and exact.is_finite:
            close = _float(exact)
            if math.isfinite(a.value) and abs(close - a.value) <= 1e-12 * max(1.0, abs(a.value)):
                return exact
    return _fraction(a.value)         # log(-1), 1/0, a constant folded in a function or a loop ...


def _fraction(value: float) -> Any:
    """A folded constant whose text does not say it exactly (i/29 inside a loop, t(1) with
    t(i) = i/29): the fraction with the smallest denominator up to 10^6 that is this very
    double, 1/29; else the double itself, exactly."""
    import fractions

    if math.isfinite(value) and value != int(value):
        near = fractions.Fraction(value).limit_denominator(1_000_000)
        if near.numerator / near.denominator == value:
            return sympy_module().Rational(near.numerator, near.denominator)
    return number(value)


def linearize(graph: Graph, x: Sequence[Any] | None = None) -> tuple[list[Any], list[ad.Edge]]:
    """Symbolic primal sweep: every w_i as a formula, and the edges (i, j, c), c = ∂w_i/∂w_j.

    As in ``ad.linearize``, only active arguments (nodes, not constants) get an edge.
    """
    w: list[Any] = list(symbols(graph) if x is None else x)
    edges: list[ad.Edge] = []
    value = values()
    for i, op in enumerate(graph.tape, start=graph.n):
        u = [constant(graph, a) if isinstance(a, Const) else w[a] for a in op.args]
        w_i = value[op.prim](*u)
        w.append(w_i)
        for k, a in enumerate(op.args):
            if not isinstance(a, Const):
                edges.append((i, a, k, partial(op.prim, k, w_i, u)))
    return w, edges


# --- the sweeps ----------------------------------------------------------------------------
@dataclass
class SymbolicReport:
    """A symbolic run: formulas instead of numbers, in the inputs x1, x2, ..."""

    graph: Graph
    mode: ad.Mode
    w: list[Any]                                   # every w_i as a formula
    values: list[Any]                              # y_k
    passes: list[ad.Pass]                          # per pass: the raw tangents / adjoints
    jacobian: list[list[Any]] | None = None        # m × n, simplified
    seed: tuple[float, ...] | None = None
    product: list[Any] | None = None               # J·v (m) or vᵀ·J (n), simplified
    edges: list[ad.Edge] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)   # (kind, expression, message)
    budget: Budget = field(default_factory=lambda: Budget())              # time left to simplify
    order: int = 1                                 # 2: --hessian or --hvp
    second: list[Any] | None = None                # H (m × n × n, or n × n with a seed) or H·v (m × n, or n)
    direction: tuple[float, ...] | None = None     # the v of --hvp
    count: int = 0                                 # second order: how many passes

    @property
    def n_passes(self) -> int:
        return self.count if self.order == 2 else len(self.passes)

    @property
    def kind(self) -> str:
        if self.order == 2:
            return "hessian" if self.direction is None else "hvp"
        return "jacobian" if self.seed is None else ("jvp" if self.mode == "forward" else "vjp")

    @property
    def gradient(self) -> Any:
        return self.jacobian if self.seed is None else self.product

    def formula(self, expr: Any, paper: bool = False) -> str:
        """expr in adjac's language, for this function's inputs."""
        return formula(expr, paper, self.graph.inputs)


def sweeps(graph: Graph, mode: ad.Mode, seeds: Sequence[Sequence[float]]) -> tuple[list[Any], list[ad.Pass], list[ad.Edge]]:
    """Linearize once over symbols, then one pass per seed, with the engines of ``ad``."""
    w, edges = linearize(graph)
    passes = []
    for seed in seeds:
        if mode == "forward":
            x_dot = {j: number(v) for j, v in enumerate(seed) if v}
            passes.append(ad.Pass(seed, ad.forward_pass(edges, len(w), x_dot)))  # type: ignore[arg-type]
        else:
            w_bar = ad.output_adjoints(graph, {k: number(v) for k, v in enumerate(seed) if v})
            passes.append(ad.Pass(seed, ad.reverse_pass(edges, len(w), w_bar)))  # type: ignore[arg-type]
    return w, passes, edges


def gather(derivatives: list[Any], refs: Sequence[Any]) -> list[Any]:
    """The derivatives of the given nodes; structural zeros and constants are 0."""
    sp = sympy_module()
    return [sp.Integer(0) if isinstance(ref, Const) or derivatives[ref] is None else derivatives[ref] for ref in refs]


@functools.cache
def _second_rule(prim: str, k: int, q: int) -> tuple[Any, tuple[Any, ...]]:
    """∂c_k/∂u_q of ``prim`` over the placeholders (w, a, b): the rule's own partial plus the
    chain through w (∂w/∂u_q = c_q), as core.second derives it for numbers; SymPy only
    differentiates the table's rule text, once per rule."""
    sp = sympy_module()
    expr, slots = _rule(prim, k)
    other, theirs = _rule(prim, q)                             # c_q, over placeholders of its own
    real = tuple(sp.Dummy(s.name, real=True) for s in slots)   # real arguments: d|a|/da = sign(a)
    expr, other = expr.xreplace(dict(zip(slots, real))), other.xreplace(dict(zip(theirs, real)))
    total = expr.diff(real[1 + q]) + expr.diff(real[0]) * other
    total = total.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))   # sign′ = 0, as the table has it
    return total, real


def expand(graph: Graph) -> Any:
    """``core.second.expand`` over symbols: every w_i as a formula, the edges, and per edge
    the pairs (w_q, ∂c/∂w_q) from the rules' SymPy derivatives (``_second_rule``)."""
    from ..core import second

    w, edges = linearize(graph)
    curvature = []
    for i, _, k, _ in edges:
        op = graph.tape[i - graph.n]
        u = [constant(graph, a) if isinstance(a, Const) else w[a] for a in op.args]
        pairs = []
        for q, a in enumerate(op.args):
            if not isinstance(a, Const):
                expr, slots = _second_rule(op.prim, k, q)
                S = expr.xreplace(dict(zip(slots, (w[i], *u))))
                if S != 0:
                    pairs.append((a, S))
        curvature.append(tuple(pairs))
    return second.Expansion(w, edges, curvature)


def compute_second(graph: Graph, seed: Sequence[float] | None = None,
                   direction: Sequence[float] | None = None) -> SymbolicReport:
    """The Hessians (or H·v) as formulas, by the same forward-over-reverse sweep as numbers:
    ``core.second``'s passes over a symbolic expansion, simplified at the end."""
    from ..core import second

    sp = sympy_module()
    expansion = expand(graph)
    w, edges = expansion.w, expansion.edges
    n, m = graph.n, graph.m
    w = [real(w_i) for w_i in w]
    y = [real(constant(graph, out)) if isinstance(out, Const) else w[out] for out in graph.outputs]
    report = SymbolicReport(graph, "reverse", w, y, [], seed=None if seed is None else tuple(seed), edges=edges,
                            order=2, direction=None if direction is None else tuple(direction))
    weights = [{k: sp.Integer(1)} for k in range(m)] if seed is None else \
        [{k: number(v) for k, v in enumerate(seed) if v}]
    directions = [{b: sp.Integer(1)} for b in range(n)] if direction is None else \
        [{b: number(v) for b, v in enumerate(direction) if v}]
    zero = sp.Integer(0)
    bars = [ad.reverse_pass(edges, len(w), ad.output_adjoints(graph, weight)) for weight in weights]
    gradient = [[real(simplify(zero if w_bar[j] is None else w_bar[j], report.budget)) for j in range(n)]
                for w_bar in bars]
    result: list[list[list[Any]]] = [[[zero] * len(directions) for _ in range(n)] for _ in weights]
    for b, x_dot in enumerate(directions):
        w_dot = ad.forward_pass(edges, len(w), x_dot)
        c_dot = second.curvature_tangents(expansion, w_dot)
        for q, w_bar in enumerate(bars):
            w_bar_dot = second.reverse_tangent_pass(edges, c_dot, w_bar, len(w))
            for a in range(n):
                if w_bar_dot[a] is not None:
                    result[q][a][b] = real(simplify(w_bar_dot[a], report.budget))
    report.count = len(weights) * len(directions)
    if direction is None:
        H: Any = result
    else:
        H = [[row[0] for row in per] for per in result]            # H·v: one column
    if seed is None:
        report.jacobian = gradient
        report.second = H
    else:
        report.product = gradient[0]
        report.second = H[0]
    report.problems = _problems(report)
    return report


def compute(graph: Graph, mode: str = "auto", seed: Sequence[float] | None = None) -> SymbolicReport:
    """The Jacobian as formulas (or J·v / vᵀ·J with a seed), by the chosen mode's passes."""
    chosen = ad.choose_mode(graph, mode)
    if seed is not None:
        seeds: list[Sequence[float]] = [tuple(seed)]
    else:
        seeds = [tuple(float(v) for v in e) for e in ad.unit_seeds(graph, chosen)]
    w, passes, edges = sweeps(graph, chosen, seeds)
    w = [real(w_i) for w_i in w]
    y = [real(constant(graph, out)) if isinstance(out, Const) else w[out] for out in graph.outputs]
    report = SymbolicReport(graph, chosen, w, y, passes, seed=None if seed is None else tuple(seed), edges=edges)
    refs = graph.outputs if chosen == "forward" else range(graph.n)
    columns = [[real(simplify(c, report.budget)) for c in gather(p.derivatives, refs)] for p in passes]
    if seed is not None:
        report.product = columns[0]
    elif chosen == "forward":
        report.jacobian = [[columns[j][k] for j in range(graph.n)] for k in range(graph.m)]
    else:
        report.jacobian = columns
    report.problems = _problems(report)
    return report


def _problems(report: SymbolicReport) -> list[tuple[str, str, str]]:
    """Each output or derivative that is not finite anywhere (a constant 1/0, ln(-1) ...)."""
    sp = sympy_module()
    graph, found = report.graph, []
    formula = report.formula

    def bad(expr: Any) -> bool:
        return bool(expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo))

    for k, y in enumerate(report.values):
        if bad(y):
            found.append(("value", graph.labels[k], f"y{k + 1} = {graph.labels[k]} is {formula(y)}: not finite"))
    if report.jacobian is not None:
        for k, row in enumerate(report.jacobian):
            for name, c in zip(graph.inputs, row):
                if bad(c):
                    found.append(("derivative", graph.labels[k],
                                  f"∂y{k + 1}/∂{name} of {graph.labels[k]} is {formula(c)}: not finite"))
    for c in report.product or ():
        if bad(c):
            found.append(("derivative", "", f"the seeded product is {formula(c)}: not finite"))
    if report.order == 2:
        entries = np.asarray(report.second, dtype=object).ravel()
        for c in entries:
            if bad(c):
                found.append(("derivative", "", f"a second derivative is {formula(c)}: not finite"))
                break
    return found


class Budget:
    """The time one run may spend in SymPy's simplify (which is exponential on some small
    inputs: sin(sin(...(x)...)) 15 deep took minutes).  ``skipped`` counts the formulas
    left as the sweeps made them: correct, only not simplified."""

    def __init__(self, seconds: float = SIMPLIFY_SECONDS):
        self.seconds, self.deadline, self.skipped = seconds, time.monotonic() + seconds, 0

    def left(self) -> float:
        return min(FORMULA_SECONDS, self.deadline - time.monotonic())


class _OutOfTime(BaseException):
    """Raised by the alarm inside SymPy; a BaseException, so that no ``except Exception`` in
    SymPy swallows it (as for KeyboardInterrupt, which SymPy survives the same way)."""


def simplify(expr: Any, budget: Budget | None = None) -> Any:
    """SymPy's simplification, kept only if it stays in adjac's language and is not longer;
    within ``budget`` (None: no limit), else expr itself, counted in ``budget.skipped``.

    The time is checked between formulas, and a timer (SIGALRM, the way SymPy's own test
    runner stops a test) ends a formula that runs past it.  Where there is no such timer
    (another thread, Windows), deeply nested functions are left alone instead.
    """
    if budget is None or expr.is_Atom:
        return _simplify(expr)
    left = budget.left()
    timer = _timer_free()
    if left <= 0 or (not timer and _nesting(expr) > NESTING_LIMIT):
        budget.skipped += 1
        return expr
    if not timer:
        return _simplify(expr)
    tidy = _within(left, _simplify, expr)
    if tidy is None:
        budget.skipped += 1
        return expr
    return tidy


def _timer_free() -> bool:
    """Whether SIGALRM may be used here: the main thread, and no timer of someone else's running."""
    return (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))


def _within(seconds: float, f: Callable[[Any], Any], expr: Any) -> Any:
    """f(expr), or None if it is still running after ``seconds``."""
    armed = [True]

    def out_of_time(signum: int, frame: Any) -> None:
        if armed[0]:                  # a late signal after f returned is ignored
            raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, out_of_time)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)      # one shot
        result = f(expr)
        armed[0] = False
        return result
    except _OutOfTime:
        return None
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _nesting(expr: Any) -> int:
    """How deeply functions are applied to functions in expr: sin(cos(x))·x is 2."""
    depth, stack = 0, [(expr, 0)]
    while stack:
        node, d = stack.pop()
        d += isinstance(node, sympy_module().Function)
        depth = max(depth, d)
        stack.extend((a, d) for a in node.args)
    return depth


@functools.lru_cache(maxsize=4096)
def _simplify(expr: Any) -> Any:
    sp = sympy_module()
    size = sp.count_ops(expr)
    if size > SIMPLIFY_LIMIT:
        return expr
    tidy = sp.simplify(expr)
    if _keeps_meaning(tidy, expr) and sp.count_ops(tidy) <= size:
        return tidy
    if expr.is_Add:                   # e.g. a Piecewise for sign(x)^2 in one term: tidy the others
        tidy = sp.Add(*map(_simplify, expr.args))
        if _keeps_meaning(tidy, expr) and sp.count_ops(tidy) <= size:
            return tidy
    return expr


def _keeps_meaning(tidy: Any, expr: Any) -> bool:
    """tidy is writable, and brings in no new root of a base that may be negative.

    SymPy takes roots of negative numbers on the complex principal branch, adjac gives
    nan: abs(x^(2/3)) is |x|^(2/3) to SymPy but nan to adjac for x < 0.
    """
    return writable(tidy) and _roots(tidy) <= _roots(expr)


def _roots(expr: Any) -> set[Any]:
    """The powers a^r in expr with r not an integer and a not known to be nonnegative."""
    sp = sympy_module()
    return {p for p in sp.preorder_traversal(expr)
            if p.is_Pow and not p.exp.is_integer and not p.base.is_nonnegative}


# --- SymPy -> adjac's language -------------------------------------------------------------
_FUNCTION_NAMES = {"sin", "cos", "tan", "exp", "log", "sinh", "cosh", "tanh", "asin", "acos", "atan",
                   "asinh", "acosh", "atanh", "Abs", "sign", "cbrt", "atan2", "Max", "Min", "Piecewise"}


def writable(expr: Any) -> bool:
    """True if ``formula`` can write expr: only our operators, functions and real numbers."""
    sp = sympy_module()
    for node in sp.preorder_traversal(expr):
        if node is sp.zoo or node is sp.nan:                  # written 1/0 and 0/0
            continue
        if isinstance(node, sp.Function):
            if type(node).__name__ not in _FUNCTION_NAMES:
                return False
        elif isinstance(node, (sp.Max, sp.Min, sp.Piecewise, sp.functions.elementary.piecewise.ExprCondPair, sp.Tuple)):
            continue
        elif isinstance(node, (sp.core.relational.Relational, sp.And, sp.Or, sp.Not)) or node in (sp.true, sp.false):
            continue
        elif not isinstance(node, (sp.Add, sp.Mul, sp.Pow, sp.Symbol, sp.Number, sp.NumberSymbol, sp.Dummy)):
            return False
        elif node.is_Number and not node.is_extended_real:
            return False
    return True


@functools.cache
def _printer() -> Any:
    sp = sympy_module()
    from sympy.printing.str import StrPrinter

    class AdjacPrinter(StrPrinter):  # type: ignore[misc, valid-type]
        """SymPy's str printer, in adjac's words: ^ for powers, ln, abs, e, 1/0 for infinity."""

        inputs: frozenset[str] = frozenset()

        def _print_Pow(self, expr: Any, rational: bool = False) -> str:
            return str(super()._print_Pow(expr, rational)).replace("**", "^")

        def _print_log(self, expr: Any) -> str:
            return f"ln({self._print(expr.args[0])})"

        def _print_Abs(self, expr: Any) -> str:
            return f"abs({self._print(expr.args[0])})"

        def _print_Exp1(self, expr: Any) -> str:
            return "exp(1)" if "e" in self.inputs else "e"        # an input may be called e

        def _print_Pi(self, expr: Any) -> str:
            return "acos(-1)" if "pi" in self.inputs else "pi"

        def _print_Float(self, expr: Any) -> str:
            return repr(float(expr))

        def _print_Infinity(self, expr: Any) -> str:
            return "(1/0)"

        def _print_NegativeInfinity(self, expr: Any) -> str:
            return "(-1/0)"

        _print_ComplexInfinity = _print_Infinity

        def _print_NaN(self, expr: Any) -> str:
            return "(0/0)"

        def _print_Max(self, expr: Any) -> str:
            return self._nest("max", expr.args)

        def _print_Min(self, expr: Any) -> str:
            return self._nest("min", expr.args)

        def _nest(self, name: str, args: Any) -> str:
            text = self._print(args[0])
            for arg in args[1:]:
                text = f"{name}({text}, {self._print(arg)})"
            return text

        def _print_Piecewise(self, expr: Any) -> str:
            pieces = list(expr.args)
            value, held = pieces.pop()
            text = self._print(value) if held == sympy_module().true else f"if({self._print(held)}, {self._print(value)}, 0/0)"
            for value, held in reversed(pieces):
                text = f"if({self._print(held)}, {self._print(value)}, {text})"
            return text

        def _print_Relational(self, expr: Any) -> str:
            op = {"==": "==", "!=": "!="}.get(expr.rel_op, expr.rel_op)
            return f"{self.parenthesize(expr.lhs, 10)} {op} {self.parenthesize(expr.rhs, 10)}"

        def _print_And(self, expr: Any) -> str:
            return " and ".join(f"({self._print(a)})" for a in expr.args)

        def _print_Or(self, expr: Any) -> str:
            return " or ".join(f"({self._print(a)})" for a in expr.args)

        def _print_Not(self, expr: Any) -> str:
            return f"not ({self._print(expr.args[0])})"

        def _print_BooleanTrue(self, expr: Any) -> str:
            return "1"

        def _print_BooleanFalse(self, expr: Any) -> str:
            return "0"

        def _print_Function(self, expr: Any) -> str:
            if type(expr).__name__ not in _FUNCTION_NAMES:
                raise AdjacError(f"{type(expr).__name__} is not a function of adjac")
            return str(super()._print_Function(expr))

    del sp
    return AdjacPrinter


def formula(expr: Any, paper: bool = False, inputs: Sequence[str] = ()) -> str:
    """expr in adjac's language (``x2 + cos(x1)``, ``-exp(x1 - x2)``), which ``parse`` reads back.

    ``paper=True`` writes · for products and − for minus, as in lecture notes.  ``inputs``
    are the function's input names: an input called e or pi makes the constants exp(1), acos(-1).
    """
    if not writable(expr):
        raise AdjacError(f"{expr} has no spelling in adjac's language")
    # ``**`` in a power's own arguments was already replaced: every "**" left is one power
    printer = _printer()()
    printer.inputs = frozenset(inputs)
    text = str(printer.doprint(expr)).replace("**", "^")
    if not paper:
        return text
    text = text.replace("*", "·").replace("-", "−")
    return text if "pi" in inputs else re.sub(r"\bpi\b", "π", text)      # π on paper, as in the trace


def latex(expr: Any) -> str:
    """The LaTeX of a formula (for ``--format latex``): ``\\cos{\\left(x_{1} \\right)} + x_{2}``.

    The natural logarithm is \\ln, as in the function and the trace: one spelling per document."""
    return str(sympy_module().latex(expr, ln_notation=True))


# --- the trace: trace.py's rows, with formulas for numbers ---------------------------------------
def trace(report: SymbolicReport) -> Any:
    """The sweeps as a ``trace.Trace``: every value, partial, tangent or adjoint a formula.

    The rows and their chain-rule terms are built by ``trace.assemble``, as for numbers;
    each tangent or adjoint is simplified in the inputs (ẇ6 = x2 + cos(x1)).
    """
    from .. import trace as tracing

    sp = sympy_module()
    cs = [c for *_, c in report.edges]
    derivatives = [[None if v is None else real(simplify(v, report.budget)) for v in p.derivatives]
                   for p in report.passes]
    seeds = [tuple(float(v) for v in p.seed) for p in report.passes]
    return tracing.assemble(report.graph, report.mode, (), tuple(report.w), report.edges, cs, seeds, derivatives,
                            report.seed is None, zero=sp.Integer(0))




def trace_second(report: SymbolicReport) -> list[Any]:
    """The second-order sweep of ``report`` in formulas: ``trace.SecondPassTrace`` per pass,
    built by the same functions as for numbers, every value simplified in the inputs."""
    from .. import trace as tracing
    from ..core import second

    sp = sympy_module()
    graph, zero = report.graph, sp.Integer(0)
    expansion = expand(graph)
    w, edges, curvature = expansion
    tidy = lambda v: None if v is None else real(simplify(v, report.budget))
    value = lambda v: zero if v is None else v
    cs = [c for *_, c in edges]
    n, m = graph.n, graph.m
    directions: list[tuple[int | None, list[float]]] = (
        [(b, [float(b == j) for j in range(n)]) for b in range(n)] if report.direction is None
        else [(None, list(report.direction))])
    weights: list[tuple[int | None, list[float]]] = (
        [(k, [float(k == q) for q in range(m)]) for k in range(m)] if report.seed is None
        else [(None, list(report.seed))])
    found = []
    for b, direction in directions:
        w_dot = [tidy(v) for v in ad.forward_pass(edges, len(w), {j: number(v) for j, v in enumerate(direction) if v})]
        c_dot = [tidy(v) for v in second.curvature_tangents(expansion, w_dot)]
        tangent = tracing.assemble(graph, "forward", (), tuple(w), edges, cs, [tuple(direction)], [w_dot], b is not None,
                                   zero=zero)
        curv = tuple(tracing.Curvature(i, j, kk, tuple(tracing.CurvatureTerm(q, S, value(w_dot[q])) for q, S in pairs),
                                       value(c_dot[e]), c_dot[e] is None)
                     for e, ((i, j, kk, _), pairs) in enumerate(zip(edges, curvature)) if pairs)
        for kw, weight in weights:
            seeds = {q: number(v) for q, v in enumerate(weight) if v}
            w_bar = [tidy(v) for v in ad.reverse_pass(edges, len(w), ad.output_adjoints(graph, seeds))]
            w_bar_dot = [tidy(v) for v in second.reverse_tangent_pass(edges, c_dot, w_bar, len(w))]
            adjoint = tracing.assemble(graph, "reverse", (), tuple(w), edges, cs, [tuple(weight)], [w_bar],
                                       kw is not None, zero=zero)
            by_argument: dict[int, list[Any]] = {}
            for e, (i, j, kk, c) in enumerate(edges):
                if w_bar[i] is not None:
                    by_argument.setdefault(j, []).append(tracing.SecondTerm(i, kk, c, value(w_bar_dot[i]), value(w_bar[i]),
                                                                            value(c_dot[e]), c_dot[e] is not None))
            rows = tuple(tracing.SecondRow(j, tuple(by_argument.get(j, ())), value(w_bar_dot[j]), w_bar_dot[j] is None)
                         for j in reversed(range(len(graph))))
            found.append(tracing.SecondPassTrace(b, kw, tangent, adjoint, curv, rows))
    return found


# --- formulas at a point: --symbolic with --at ------------------------------------------------
EXACT_LIMIT = 40          # an exact value longer than this is shown as its decimal only


def at_point(report: SymbolicReport, x: Sequence[float]) -> list[tuple[int | None, int | None, Any, Any, float]]:
    """Each entry of J (or of J·v, vᵀ·J) at the point x: (k, j, formula, exact value, value).

    The point is taken exactly as written (0.1 is 1/10), so a rational point gives rational
    values where the formula is rational there (``1/3``, not 0.333333).  The exact value is
    None where SymPy gives no closed number (or only a float); k or j is None for a product.
    """
    sp = sympy_module()
    exact_x = dict(zip(symbols(report.graph), (number(v) for v in x)))
    if report.jacobian is not None:
        entries: list[tuple[int | None, int | None, Any]] = [
            (k, j, c) for k, row in enumerate(report.jacobian) for j, c in enumerate(row)]
    elif report.mode == "forward":
        entries = [(k, None, c) for k, c in enumerate(report.product or [])]
    else:
        entries = [(None, j, c) for j, c in enumerate(report.product or [])]
    found = []
    for k, j, c in entries:
        exact = sp.sympify(c).xreplace(exact_x)
        try:
            exact = exact.doit()
            value = _float(sp.N(exact, 17)) if exact.is_number else math.nan
        except (TypeError, ValueError, ArithmeticError):
            exact, value = None, math.nan
        if exact is not None and (not exact.is_number or exact.atoms(sp.Float) or not writable(exact)
                                  or exact.has(sp.zoo, sp.nan, sp.oo, -sp.oo)):
            exact = None
        found.append((k, j, c, exact, value))
    return found
