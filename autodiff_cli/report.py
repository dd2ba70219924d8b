"""One run of adjac: the numbers for a set of points, and what went wrong where.

``compute`` ties the engines together for the command (and for anyone scripting it):
a Graph, an (N, n) array of points, a mode and an optional seed in; a ``Report`` out,
holding values, the Jacobian (or the JVP / VJP of the seed), the sweep passes a trace
prints, and a ``Problem`` for each non-finite result, located at the node that first
produced it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .core import ad
from .core import engine as engines
from .core.engine import Engine
from .core.graph import Const, Graph, format_number, read
from .core.primitives import PRIMITIVES

if TYPE_CHECKING:
    from .core.colour import Colouring


class Problem(NamedTuple):
    """A non-finite value or derivative: where it arose, and why."""

    point: int                   # index of the point
    node: int | None             # the Wengert variable (0-based) that produced it; None: a constant
    kind: str                    # "value" or "derivative"
    expression: str              # the node's source text
    arguments: tuple[float, ...] # its arguments at that point
    message: str


@dataclass
class Report:
    graph: Graph
    points: np.ndarray                     # (N, n)
    mode: ad.Mode
    values: np.ndarray                     # (N, m)
    jacobian: np.ndarray | None = None     # (N, m, n), without a seed
    seed: np.ndarray | None = None         # x_dot (n,) forward or y_bar (m,) reverse
    product: np.ndarray | None = None      # J·x_dot (N, m) or y_barᵀ·J (N, n), with a seed
    passes: list[ad.Pass] = field(default_factory=list)
    w: list[np.ndarray] = field(default_factory=list)
    edges: list[ad.Edge] = field(default_factory=list)   # the linearization the passes ran on
    problems: list[Problem] = field(default_factory=list)
    bad_points: int = 0                    # how many points have a non-finite result
    order: int = 1                         # 2: --hessian or --hvp (forward-over-reverse)
    second: np.ndarray | None = None       # --hessian: H (N, m, n, n), or Σ ȳ_k H_k (N, n, n) with a seed;
                                           # --hvp: H_k·v (N, m, n), or (Σ ȳ_k H_k)·v (N, n)
    direction: np.ndarray | None = None    # the v of --hvp
    colouring: Colouring | None = None     # J from one pass per colour (core/colour.py), not per input or output

    @property
    def kind(self) -> str:
        """What the derivatives are: "jacobian" (N, m, n), "jvp" J·x_dot (N, m), "vjp" y_barᵀ·J
        (N, n); second order: "hessian" or "hvp" (see ``second``)."""
        if self.order == 2:
            return "hessian" if self.direction is None else "hvp"
        return kind_of(self.mode, self.seed)

    @property
    def gradient(self) -> np.ndarray:
        """J, or the seeded product J·x_dot / y_barᵀ·J."""
        D = self.jacobian if self.seed is None else self.product
        assert D is not None
        return D

    @property
    def derivatives(self) -> np.ndarray:
        """What ``kind`` names: the gradient (first order) or the second-order array."""
        if self.order == 2:
            assert self.second is not None
            return self.second
        return self.gradient

    @property
    def unexplained(self) -> int:
        """How many points with non-finite results were not traced back to a node."""
        return self.bad_points - len({problem.point for problem in self.problems})

    @property
    def n_passes(self) -> int:
        """One pass per input (forward) or per output (reverse), or the one seeded pass;
        second order: one per direction (n, or the one v) for each output or the one ȳ."""
        if self.order == 2:
            return (self.graph.n if self.direction is None else 1) * (1 if self.seed is not None else self.graph.m)
        if self.seed is not None:
            return 1
        if self.colouring is not None:
            return self.colouring.count
        return self.graph.n if self.mode == "forward" else self.graph.m



def kind_of(mode: str, seed: Any) -> str:
    """"jacobian" without a seed; with one, "jvp" (forward mode) or "vjp" (reverse mode)."""
    if seed is None:
        return "jacobian"
    return "jvp" if mode == "forward" else "vjp"


def compute_second(graph: Graph, points: Any, seed: Any = None, direction: Any = None,
                   problems: int = 10) -> Report:
    """Second order at every point, by forward-over-reverse: each output's gradient and
    Hessian (or, with ``seed`` ȳ, those of Σ ȳ_k y_k), or with ``direction`` v the
    Hessian-vector products H·v."""
    from .core import second

    X = np.atleast_2d(np.asarray(points, dtype=float))
    seed = None if seed is None else np.asarray(seed, dtype=float)
    direction = None if direction is None else np.asarray(direction, dtype=float)
    if direction is None:
        y, G, H = second.hessian(graph, X, seed)
    else:
        y, G, H = second.hvp(graph, X, direction, seed)
    report = Report(graph, X, "reverse", y, seed=seed, order=2, second=H, direction=direction)
    if seed is None:
        report.jacobian = G
    else:
        report.product = G
    w = ad.evaluate(graph, X)
    flagged = ad.nonfinite_points(w, list(range(len(graph))), len(X), graph)
    report = _check(report, problems, flagged, ad.underflow_points(graph, w, len(X))[0])
    report.problems = [_second_order_cause(report, problem) for problem in report.problems]
    return report


def _second_order_cause(report: Report, problem: Problem) -> Problem:
    """A second derivative that is not finite where every value and first partial is: say
    what can cause it (a second partial, a product along a chain, a large seed or v)."""
    if problem.node is not None or problem.kind != "derivative":
        return problem
    sizes = [f"max |{name}| = {format_number(float(np.max(np.abs(v))), 3)}" for name, v in
             (("ȳ", report.seed), ("v", report.direction)) if v is not None and np.size(v)]
    here = point_text(report.graph, report.points[problem.point])
    return problem._replace(message=f"a second derivative is not finite at {here}: every value and first partial is "
                                    "finite, so a second partial, or a product of partials along a chain, is not"
                                    + (f" ({', '.join(sizes)}: a large seed or v scales the result)" if sizes else ""))


def compute(graph: Graph, points: Any, mode: str = "auto", seed: Any = None, problems: int = 10,
            sweeps: bool = True, colouring: Colouring | None = None, engine: Engine = "numpy") -> Report:
    """Evaluate graph at every point: the Jacobian, or one seeded pass if ``seed`` is given.

    ``problems`` bounds how many non-finite results are traced back to their node.
    ``sweeps=False`` keeps no per-pass records (``passes`` stays empty) and computes
    through ``ad.differentiate``: chunked and faster, for many points; or, with
    ``engine="compiled"``, through the compiled engine (``core.engine``), with the same checks.
    A ``colouring`` (``core.colour.plan``) compresses the passes of a whole Jacobian: one per
    colour (in the numpy engine, which the compiled one leaves such runs to).
    """
    X = np.atleast_2d(np.asarray(points, dtype=float))
    seed = None if seed is None else np.asarray(seed, dtype=float)
    colouring = colouring if seed is None else None
    chosen = ad.choose_mode(graph, mode) if colouring is None else colouring.mode
    N = X.shape[0]
    if not sweeps:
        flagged = np.zeros(N, dtype=bool)
        underflowed = np.zeros(N, dtype=bool)
        if colouring is not None:                   # coloured passes: the numpy engine
            values, D = ad.differentiate(graph, X, chosen, seed, flagged=flagged, underflowed=underflowed,
                                         colouring=colouring)
        else:
            values, D = engines.differentiate(graph, X, chosen, seed, flagged=flagged, underflowed=underflowed,
                                              engine=engine)
        report = Report(graph, X, chosen, values, seed=seed, colouring=colouring)
        if seed is not None:
            report.product = D
        else:
            report.jacobian = D
        return _check(report, problems, flagged, underflowed)
    seeds = ([seed] if seed is not None else list(colouring.seeds().T) if colouring is not None
             else list(ad.unit_seeds(graph, chosen)))
    w, edges = ad.linearize(graph, X)
    passes = list(ad.passes(graph, w, edges, chosen, seeds))
    values = ad.outputs_of(graph, w, N)
    report = Report(graph, X, chosen, values, seed=seed, passes=passes, w=w, edges=edges, colouring=colouring)
    if seed is not None:
        refs = graph.outputs if chosen == "forward" else range(graph.n)
        report.product = ad.gather(passes[0].derivatives, refs, N)
    elif colouring is not None:
        report.jacobian = np.zeros((N, graph.m, graph.n))
        for c, sweep in enumerate(passes):
            ad.compressed(graph, sweep, chosen, colouring, c, N, out=report.jacobian)
    else:
        report.jacobian = ad.assemble(graph, passes, chosen, N)
    return _check(report, problems, ad.nonfinite_points(w, list(range(len(w))), N, graph), ad.underflow_points(graph, w, N)[0])


def _check(report: Report, problems: int, flagged: np.ndarray, underflowed: np.ndarray | None = None) -> Report:
    """Count the points with a non-finite result or intermediate (``flagged``: an overflow
    that the outputs no longer show), or a value an underflow makes inaccurate (among the
    points ``underflowed``); trace the first ``problems`` of them."""
    N = len(report.points)
    magnified: list[Problem] = []
    if underflowed is not None and underflowed.any():
        magnified = _magnified_underflow(report, np.flatnonzero(underflowed & ~flagged))
        for problem in magnified:
            flagged[problem.point] = True
    if report.order == 1 and report.seed is None and report.jacobian is not None and report.jacobian.size:
        _agree(report, flagged)
    derivatives = report.derivatives.reshape(N, -1)
    if report.order == 2:
        derivatives = np.concatenate([report.gradient.reshape(N, -1), derivatives], axis=1)
    finite = np.isfinite(derivatives) if derivatives.size else np.ones((N, 1), dtype=bool)
    bad = ~(np.isfinite(report.values).all(axis=1) & finite.all(axis=1)) | flagged
    report.bad_points = int(bad.sum())
    if report.bad_points:
        others = np.flatnonzero(bad & ~np.isin(np.arange(N), [p.point for p in magnified]))
        traced = sorted({p.point for p in magnified})[:problems]
        report.problems = sorted([p for p in magnified if p.point in traced]
                                 + diagnose(report.graph, report.points, others[: max(0, problems - len(traced))]),
                                 key=lambda problem: problem.point)
        if report.seed is not None and report.order == 1:
            report.problems = _seed_overflow(report, report.problems)
    return report


UNDERFLOW_RTOL = 1e-8          # a value an underflow can move by more than this (relative) is flagged


def _magnified_underflow(report: Report, points: np.ndarray) -> list[Problem]:
    """At these points some intermediate underflowed (its true value, below 2.2e-308, kept
    few or no digits, so it may be off by up to 2.2e-308).  How far that moves y_k is at
    most 2.2e-308·|∂y_k/∂w_i| (the adjoint, from one reverse pass per output): where that
    exceeds 1e-8·|y_k| + 2.2e-308, y_k is not accurate (x*x/y at (1e-200, 1e-300) prints
    0 for 1e-100), and a Problem says so.  1 + exp(-1000) is not flagged: the lost 1e-434
    moves nothing.  How much was lost is the true size of the underflowed value, from its
    arguments in logarithms (``_log2_size``): exp(-1e9)·1e14 underflows harmlessly."""
    if not points.size:
        return []
    graph = report.graph
    X = report.points[points]
    w, edges = ad.linearize(graph, X)
    _, nodes = ad.underflow_points(graph, w, len(points))
    found: dict[int, Problem] = {}
    for k in range(graph.m):
        w_bar = ad.reverse_pass(edges, len(w), ad.output_adjoints(graph, {k: np.float64(1.0)}))
        for i, where in nodes:
            if w_bar[i] is None:
                continue
            op = graph.tape[i - graph.n]
            with np.errstate(all="ignore"):
                exact = _log2_size(op.prim, [read(w, a) for a in op.args])
                lost = np.minimum(np.log2(ad.TINY), exact)
                log_moved = np.log2(np.abs(np.broadcast_to(w_bar[i], (len(points),)))) + lost
                y = np.abs(report.values[points, k])
                bad = where & ~(log_moved <= np.log2(UNDERFLOW_RTOL * y + ad.TINY))
            for q in np.flatnonzero(bad):
                p = int(points[q])
                if p in found:
                    continue
                args = tuple(float(read(w, a)[q] if not isinstance(a, Const) else a.value) for a in op.args)
                here = point_text(graph, report.points[p])
                source = graph.source(i)
                size = np.broadcast_to(exact, (len(points),))[q]
                found[p] = Problem(p, i, "value", source, args,
                                   f"{source} underflows at {here}: it is {format_number(float(w[i][q]))}, about "
                                   f"{_power_of_ten(size)} exactly (below 2.2e-308), and that moves y{k + 1} by about "
                                   f"{_power_of_ten(float(np.broadcast_to(log_moved, (len(points),))[q]))}: "
                                   f"y{k + 1} = {format_number(float(report.values[p, k]))} and its derivatives are not accurate")
    return [found[p] for p in sorted(found)]


def _power_of_ten(log2: float) -> str:
    """2^log2 as text, also far below the smallest double: 1e-400."""
    if not np.isfinite(log2):
        return "0"
    exponent = log2 * np.log10(2.0)
    whole = int(np.floor(exponent))
    mantissa = float(f"{10 ** (exponent - whole):.2g}")
    if mantissa >= 10:
        mantissa, whole = mantissa / 10, whole + 1
    return f"{format_number(mantissa)}e{whole}"


def _log2_size(prim: str, u: list[Any]) -> Any:
    """log2 of the exact |result| of an UNDERFLOWING operation, from its arguments: what a
    result rounded to 0 or to a subnormal lost, at most."""
    a = np.abs(u[0])
    if prim == "mul":
        return np.log2(a) + np.log2(np.abs(u[1]))
    if prim == "div":
        return np.log2(a) - np.log2(np.abs(u[1]))
    if prim == "pow":
        return u[1] * np.log2(a)
    if prim == "exp":
        return u[0] * np.log2(np.e)
    return -np.abs(u[0]) * np.log2(np.e)                    # σ(a) ≈ e^a for a ≪ 0


def _suspects(J: np.ndarray, pattern: np.ndarray, block: int = 256) -> np.ndarray:
    """(N,) bool: the points where an entry of J is not finite, or 0 or subnormal where it is
    not structurally zero.  Block by block, so that J (N·m·n, often the largest array of a
    run) is read twice in cache-sized pieces rather than copied whole for each test."""
    N = len(J)
    found = np.zeros(N, dtype=bool)
    flat = J.reshape(N, -1)
    with np.errstate(all="ignore"):
        for start in range(0, N, block):
            rows = flat[start : start + block]
            total = np.add.reduce(rows, axis=1)                 # not finite if an entry is not (or a sum overflows)
            tiny = (np.abs(rows) < ad.TINY) & pattern
            found[start : start + block] = ~np.isfinite(total) | tiny.any(axis=1)
    return found


def _agree(report: Report, flagged: np.ndarray) -> None:
    """Make both modes give the same J, hence the same exit status, where an entry is not
    finite in one of them: the points concerned are swept again in the other mode.

    - Where every value is finite (nothing overflowed or was undefined on the way), a
      non-finite entry can only be a product of finite partials that overflowed in this
      mode's order (1e200·1e200·1e-200 from the left); the other order's finite product is
      the derivative, and both modes print it.  Likewise an entry that underflows in one
      order only (1e-200·1e-200·1e300): the larger one, in both modes.
    - Where something is not finite, an entry is a number only if both modes make it one
      (a computed 0 of one mode against the other's overflow is no derivative): else nan,
      or the inf both agree on.  The point stays flagged.
    """
    J = report.jacobian
    assert J is not None
    dirty = flagged | ~np.isfinite(report.values).all(axis=1)            # something not finite on the way
    suspects = np.flatnonzero(_suspects(J, report.graph.mask.ravel()) | dirty)
    if not suspects.size:
        return
    other: ad.Mode = "reverse" if report.mode == "forward" else "forward"
    _, theirs = ad.differentiate(report.graph, report.points[suspects], other)
    mine = J[suspects]
    clean = ~dirty[suspects]
    both = np.isfinite(mine) & np.isfinite(theirs)
    same = (mine == theirs) | both
    rescued = np.where(np.isfinite(mine) | ~np.isfinite(theirs), mine, theirs)
    rescued = np.where(np.isfinite(rescued) | (mine == theirs), rescued, np.nan)
    with np.errstate(invalid="ignore"):          # a product that underflows in one order only: the other's, in both
        small = both & (np.minimum(np.abs(mine), np.abs(theirs)) < ad.TINY)
        rescued = np.where(small & (np.abs(theirs) > np.abs(mine)), theirs, rescued)
    undefined = np.where(same, mine, np.nan)
    J[suspects] = np.where(clean[:, None, None], rescued, undefined)


def _seed_overflow(report: Report, problems: list[Problem]) -> list[Problem]:
    """Where J·v (or vᵀ·J) is not finite only because the seed is large, say so instead of
    blaming a node: at such a point the values are finite, and the same pass with the seed
    scaled by a power of two to max |v| < 1 gives a finite product."""
    v = np.asarray(report.seed, dtype=float)
    top = float(np.max(np.abs(v))) if v.size else 0.0
    if not np.isfinite(top) or top <= 1.0:
        return problems
    points = sorted({p.point for p in problems})
    X = report.points[points]
    values, D = ad.differentiate(report.graph, X, report.mode, np.ldexp(v, -np.frexp(top)[1]))
    fine = np.isfinite(values).all(axis=1) & np.isfinite(D).all(axis=1)
    blamed = {p for p, ok in zip(points, fine) if ok}
    product = "J·v" if report.mode == "forward" else "vᵀ·J"
    return sorted([problem for problem in problems if problem.point not in blamed] + [
        Problem(p, None, "derivative", "", (),
                f"{product} overflows at {point_text(report.graph, report.points[p])} because the seed is large "
                f"(max |v| = {format_number(top)}), not because of a node of f: {product} is linear in v, so "
                f"scale the seed down and the result up")
        for p in blamed], key=lambda problem: problem.point)       # stable: node order kept within a point


def diagnose(graph: Graph, X: np.ndarray, indices: Any, per_point: int = 3) -> list[Problem]:
    """For each point index, the nodes (in tape order) where non-finite numbers arise.

    A value problem is a node that is inf or nan although its arguments are finite; a
    derivative problem is a local partial that is not finite although the node's value
    is (a kink such as sqrt at 0).  Nodes that merely inherit a non-finite argument are
    not origins and are not reported.
    """
    indices = np.asarray(indices, dtype=int)
    if indices.size == 0:
        return []
    all_w, all_edges = ad.linearize(graph, X[indices])            # one sweep for all of them
    # Narrow the search once, over all points together: nodes not finite although their node
    # arguments are, and partials not finite although their node is (tape order kept).  A long
    # chain that inherits a nan then costs one vector operation per node, not one per node and point.
    finite = [np.isfinite(v) for v in all_w]
    nodes = []
    for i, op in enumerate(graph.tape, start=graph.n):
        origin = ~finite[i]
        for a in op.args:
            if not isinstance(a, Const):
                origin = origin & finite[a]
        if origin.any():
            nodes.append(i)
    edges = [edge for edge in all_edges
             if not np.all(np.isfinite(edge[3]))
             and finite[edge[0]].any()]
    found = []
    for q, p in enumerate(indices):
        here = point_text(graph, X[p])
        origins = [*_value_problems(graph, all_w, int(p), q, here, nodes),
                   *_partial_problems(graph, all_w, edges, int(p), q, here)]
        found += origins[:per_point] or [_unlocated(int(p), q, here, all_w)]
    return found


def _unlocated(p: int, q: int, here: str, w: list[np.ndarray]) -> Problem:
    """No node to blame: every value and local partial is finite, so a product of partials
    overflowed, in the order of either mode (``_agree`` tried the other)."""
    if all(np.isfinite(v[q]) for v in w):
        return Problem(p, None, "derivative", "", (),
                       f"a derivative overflows at {here}: every local partial is finite, but a product of "
                       "them along a chain overflows in the order of either mode")
    return Problem(p, None, "value", "", (), f"a result is not finite at {here}")


def _value_problems(graph: Graph, w: list[np.ndarray], p: int, q: int, here: str,
                    nodes: list[int]) -> Iterator[Problem]:
    """Value origins at point p, which is column q of the linearized arrays, among ``nodes``."""
    for k, out in enumerate(graph.outputs):
        if isinstance(out, Const) and not np.isfinite(out.value):
            text = graph.text[out.span[0] : out.span[1]]
            yield Problem(p, None, "value", text, (), f"output y{k + 1} = {text} is the constant {out.value}")
    for i in nodes:
        op = graph.tape[i - graph.n]
        value = w[i][q]
        if np.isfinite(value):
            continue
        args = tuple(float(a.value if isinstance(a, Const) else w[a][q]) for a in op.args)
        source = graph.source(i)
        if not all(np.isfinite(args)):
            for a in op.args:
                if isinstance(a, Const) and not np.isfinite(a.value):
                    text = graph.text[a.span[0] : a.span[1]]
                    yield Problem(p, i, "value", source, args,
                                  f"{source} is {value} at {here}: its argument {text} is the constant {a.value}")
            continue                                   # inherited from an earlier node
        domain, edge = PRIMITIVES[op.prim].domain, PRIMITIVES[op.prim].edge
        at_edge = edge is not None and edge[0](*args) == 0       # 1/0, log(0), atanh(1) ...
        if np.isinf(value) and not (domain and at_edge):
            why = "the result overflows"
        else:
            why = f"{op.prim} needs {domain}" if domain else "undefined"
        plural = "s" if len(args) > 1 else ""
        yield Problem(p, i, "value", source, args,
                      f"{source} is {value} at {here}, with argument{plural} {_args_text(args)} ({why})")


def _partial_problems(graph: Graph, w: list[np.ndarray], edges: list[ad.Edge], p: int, q: int,
                      here: str) -> Iterator[Problem]:
    for i, j, _, c in edges:
        value = c[q] if np.ndim(c) else c
        if np.isfinite(value) or not np.isfinite(w[i][q]):
            continue                                   # fine, or already a value problem
        op = graph.tape[i - graph.n]
        args = tuple(float(a.value if isinstance(a, Const) else w[a][q]) for a in op.args)
        source = graph.source(i)
        domain, edge = PRIMITIVES[op.prim].domain, PRIMITIVES[op.prim].edge
        at_edge = edge is not None and edge[0](*args) == 0        # sqrt at 0, 1/x at 0 ...
        if np.isinf(value) and not at_edge:                      # -w/b at b = 1e-200
            why = f"the partial overflows at argument{'s' if len(args) > 1 else ''} {_args_text(args)}"
        else:
            why = (f"{op.prim} has no finite derivative at argument {_args_text(args)}"
                   + (f" (it needs {domain})" if domain else ""))
        yield Problem(p, i, "derivative", source, args,
                      f"the derivative of {source} with respect to {graph.source(j)} is {value} at {here}: {why}")


def _args_text(args: tuple[float, ...]) -> str:
    return ", ".join(format_number(a) for a in args)


def point_text(graph: Graph, x: Any) -> str:
    """'x1 = 1, x2 = 2' (or '(no inputs)')."""
    return ", ".join(f"{name} = {format_number(v)}" for name, v in zip(graph.inputs, x)) or "(no inputs)"


# --- the loop ----------------------------------------------------------------------------
@dataclass
class Summary:
    """What a run produced: how many points, and the traced problems (global indices)."""

    report: Report | None = None                     # the last chunk's report
    points: int = 0
    bad_points: int = 0
    problems: list[Problem] = field(default_factory=list)
    traced: int = 0                                  # points whose problems were traced to a node
    failed: bool = False                             # --check found a disagreement

    @property
    def unexplained(self) -> int:
        return self.bad_points - self.traced
