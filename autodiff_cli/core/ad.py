"""Forward and reverse mode over a Graph, vectorized over points.

``linearize`` is the primal sweep: it evaluates every w_i at N points at once and
records the local partials as edges (i, j, k, c), c = ∂w_i/∂w_j, where w_j is argument k
of op i, for active arguments only.  The two sweeps then apply the chain rule over the same edges, in opposite
directions:

    forward   ẇ_i += c · ẇ_j     over the edges in tape order      (one pass per x_dot)
    reverse   w̄_j += c · w̄_i     over the edges in reverse order   (one pass per y_bar)

A tangent or adjoint that is structurally zero is ``None`` and is never carried, so a
pass touches only the nodes its seed reaches (sparsity for free).  So is a local partial
that is identically zero (sign′, the base of x^0, a factor that is the constant 0): its
edge contributes nothing.  Every other product c·v is plain IEEE arithmetic, so a zero
that was *computed* at this point (an input that is 0, an underflow, a cancellation) times
an inf or nan partial is nan, not 0: such a zero says nothing about how the result moves,
and the products of the two modes, grouped differently, then give the same verdict.  A
non-finite tangent or adjoint stays non-finite in every later sum and product, so forward
and reverse mode are non-finite on exactly the same entries: those with a chain from x_j to y_k
through a partial that is inf or nan (or where a product of partials overflows).

Shapes: a point x is (n,) or (N, n); every w_i is an array of N values.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np

from .graph import Const, Graph, read
from .primitives import PRIMITIVES

if TYPE_CHECKING:
    from .colour import Colouring

Mode = Literal["forward", "reverse"]
Edge = tuple[int, int, int, Any]  # (i, j, k, c): c = ∂w_i/∂w_j, w_j is argument k of op i; c a float or an array of N


def _points(graph: Graph, x: Any) -> np.ndarray:
    """x as an (N, n) float array; raises ValueError on a shape mismatch."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != graph.n:
        raise ValueError(f"expected points with {graph.n} coordinates, got an array of shape {x.shape}")
    return x


def evaluate(graph: Graph, x: Any) -> list[np.ndarray]:
    """The primal sweep alone: every w_i at every point (a list of arrays of N)."""
    X = _points(graph, x)
    w: list[Any] = list(np.ascontiguousarray(X.T))
    with np.errstate(all="ignore"):
        for op in graph.tape:
            w.append(PRIMITIVES[op.prim].f(*(read(w, a) for a in op.args)))
    return w


def linearize(graph: Graph, x: Any) -> tuple[list[np.ndarray], list[Edge]]:
    """The primal sweep: every w_i, and the edges (i, j, k, c) with c = ∂w_i/∂w_j (w_j is argument k).

    An edge exists only for an argument j that is a node (constants are folded into
    the ops and have no edges), so ``x^2`` at x = -3 never evaluates log(-3).  Where
    w_i is undefined (nan: log(-1), asin(2)), its partials are nan too.  A partial that
    does not depend on the point is a float; 0.0 then means identically zero.
    """
    w, edges, _ = _linearize(graph, _points(graph, x))
    return w, edges


def _linearize(graph: Graph, X: np.ndarray, plan: Plan | None = None) -> tuple[list[Any], list[Edge], list[int]]:
    """``linearize``, and the nodes (inputs included) that are inf or nan at some point
    among those that ``plan`` (``watch(graph)``) says to look at.

    One reduction per array looks: a sum is finite when every term is (or, rarely,
    overflows; then the node is merely looked at closely).
    """
    watched, undefinable = watch(graph) if plan is None else plan
    w: list[Any] = list(np.ascontiguousarray(X.T))
    edges: list[Edge] = []
    with np.errstate(all="ignore"):
        nonfinite = ([] if np.isfinite(np.add.reduce(X, axis=None))    # inputs: all of them, one sum (inf − inf: nan)
                     else [j for j in range(graph.n) if not np.isfinite(w[j]).all()])
        for i, op in enumerate(graph.tape, start=graph.n):
            prim = PRIMITIVES[op.prim]
            u = [read(w, a) for a in op.args]
            w_i = prim.f(*u)
            w.append(w_i)
            undefined = None
            if watched[i] or undefinable[i]:
                total = float(np.add.reduce(w_i, axis=None))
                if total - total != 0.0:                        # inf or nan somewhere
                    nonfinite.append(i)
                    undefined = np.isnan(w_i) if undefinable[i] else None
                    if undefined is not None and not undefined.any():
                        undefined = None
            for k, a in enumerate(op.args):
                if not isinstance(a, Const):
                    c = prim.partials[k](w_i, *u)
                    if not isinstance(c, np.ndarray):
                        c = float(c)                            # the same at every point: 0.0 is a structural zero
                    if undefined is not None and not (c.__class__ is float and c == 0.0):
                        c = np.where(undefined, np.nan, c)      # no derivative where w_i is undefined
                    edges.append((i, a, k, c))
    if graph.branches:
        edges = _taken_only(graph, w, edges)
    return w, edges, nonfinite


def _taken_only(graph: Graph, w: list[Any], edges: list[Edge]) -> list[Edge]:
    """The edges with their partial 0 at the points where the outputs' derivatives do not use
    the node: it is on a branch of an ``if`` that the point does not take (sqrt(x) in
    if(x > 0, sqrt(x), -x) at x < 0).  That branch's tangents are then exactly 0, and its
    adjoints 0·c = 0, so neither mode meets its nan partials or overflowing products (0·inf
    is nan) where it is not taken.  The ``if``'s own partials are 1 and 0; everything else
    stays plain IEEE arithmetic, the same in both modes."""
    used = live(graph, w, derivatives=True)
    assert used is not None
    out: list[Edge] = []
    for i, j, k, c in edges:
        here = used[i]
        if here is False:
            c = 0.0                                         # used at no point: a structural zero
        elif here is not True and not (c.__class__ is float and c == 0.0):
            c = np.where(here, c, 0.0)
        out.append((i, j, k, c))
    return out


Plan = tuple[list[bool], list[bool]]
_FINITE = (0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, 1e-300, -1e-300, 1e300, -1e300, 5e-324)
_NONFINITE = (np.inf, -np.inf, np.nan)


def watch(graph: Graph) -> Plan:
    """Which variables a sweep looks at for inf and nan, per w_i: (watched, undefinable).

    Inf and nan propagate through most operations (inf + 1, 0·inf, sin(inf)) and then
    show in y, which is checked anyway.  A variable is *watched* when an operation that
    uses it can turn inf or nan into a finite number (atan(inf) = π/2, exp(−inf) = 0,
    x/inf = 0, nan^0 = 1): there an overflow could vanish from the outputs.  An operation
    is *undefinable* when finite arguments can make it nan (log(−1), 0/0, x^0.5 at
    x < 0): its partials are then set to nan where it is.  So x^2, +, − and · cost nothing.
    """
    watched = [False] * len(graph)
    undefinable = [False] * len(graph)
    for i, op in enumerate(graph.tape, start=graph.n):
        absorbs, undefined = _behaviour(op.prim, tuple(a.value if isinstance(a, Const) else None for a in op.args))
        undefinable[i] = undefined
        for k, a in enumerate(op.args):
            if absorbs[k] and not isinstance(a, Const):
                watched[a] = True
    return watched, undefinable


@functools.cache
def _behaviour(prim: str, consts: tuple[float | None, ...]) -> tuple[tuple[bool, ...], bool]:
    """Probed once per primitive and constant arguments (None: a node argument): for each
    argument, whether f can be finite while it is inf or nan; whether f can be nan at
    finite arguments.  Unary and constant slots are probed exhaustively (±inf, nan);
    the other argument of a binary operation ranges over zeros, ones, tiny and huge numbers."""
    f = PRIMITIVES[prim].f

    def values(k: int, grid: tuple[float, ...]) -> Any:
        return np.float64(consts[k]) if consts[k] is not None else np.asarray(grid)

    with np.errstate(all="ignore"):
        finite_args = np.meshgrid(*(values(k, _FINITE) for k in range(len(consts))), indexing="ij")
        undefined = bool(np.isnan(f(*finite_args)).any())
        absorbs = []
        for k in range(len(consts)):
            if consts[k] is not None:
                absorbs.append(False)
                continue
            args = np.meshgrid(*(np.asarray(_NONFINITE) if q == k else values(q, _FINITE + _NONFINITE)
                                 for q in range(len(consts))), indexing="ij")
            absorbs.append(bool(np.isfinite(f(*args)).any()))
    return tuple(absorbs), undefined


def nonfinite_points(w: list[Any], nodes: list[int], N: int, graph: Graph | None = None) -> np.ndarray:
    """(N,) bool: the points where one of ``nodes`` (from ``_linearize``) is inf or nan;
    with ``graph``, only where the node is used (``live``): the branch of an ``if`` that a
    point does not take may be undefined there."""
    found = np.zeros(N, dtype=bool)
    used = live(graph, w) if graph is not None else None
    for i in nodes:
        bad = ~np.isfinite(w[i])
        found |= bad if used is None else bad & used[i]
    return found


def live(graph: Graph, w: list[Any], derivatives: bool = False) -> list[Any] | None:
    """Per w_i, where the outputs use it: True (everywhere), False, or an (N,) bool array;
    None when the graph has no ``if`` (every node is used everywhere).  One sweep backwards:
    an ``if`` passes its use on to the branch each point takes, and to its condition.

    With ``derivatives``, where the outputs' derivatives use it: not through a partial that
    is identically 0 (rule "0": the condition of an ``if``, a comparison's arguments)."""
    if not graph.branches:
        return None
    used: list[Any] = [False] * len(graph)
    for out in graph.outputs:
        if not isinstance(out, Const):
            used[out] = True
    for i in range(len(graph) - 1, graph.n - 1, -1):
        here = used[i]
        if here is False:
            continue
        op = graph.tape[i - graph.n]
        if op.prim == "if":
            c = read(w, op.args[0])
            parts = [here, here & (c != 0), here & (c == 0)]
        else:
            parts = [here] * len(op.args)
        if derivatives:
            rules = PRIMITIVES[op.prim].rules
            parts = [False if rules[k] == "0" else part for k, part in enumerate(parts)]
        for a, part in zip(op.args, parts):
            if part is not False and not isinstance(a, Const):
                used[a] = part if used[a] is False else (True if used[a] is True or part is True else used[a] | part)
    return used


def forward_pass(edges: list[Edge], size: int, x_dot: dict[int, Any]) -> list[Any]:
    """One forward sweep from the tangents ``x_dot`` {input j: ẋ_j}; returns every ẇ_i.

    Entries that stay ``None`` are structurally zero: no path from a seeded input.
    """
    w_dot: list[Any] = [None] * size
    for j, v in x_dot.items():
        w_dot[j] = v
    with np.errstate(all="ignore"):                        # inf − inf: nan, not a warning
        for i, j, _, c in edges:                           # tape order
            if w_dot[j] is not None:
                w_dot[i] = _accumulate(w_dot[i], c, w_dot[j])
    return w_dot


def reverse_pass(edges: list[Edge], size: int, w_bar_seed: dict[int, Any]) -> list[Any]:
    """One reverse sweep from the adjoints ``w_bar_seed`` {node i: w̄_i}; returns every w̄_j."""
    w_bar: list[Any] = [None] * size
    for i, v in w_bar_seed.items():
        w_bar[i] = v
    with np.errstate(all="ignore"):
        for i, j, _, c in reversed(edges):                 # the same edges, backwards
            if w_bar[i] is not None:
                w_bar[j] = _accumulate(w_bar[j], c, w_bar[i])
    return w_bar


def _accumulate(total: Any, c: Any, v: Any) -> Any:
    """total + c·v, where total None means 0; the partials 1 and −1 of add, sub and neg
    are not multiplied out, and an identically zero partial (the float 0.0) adds nothing,
    even to an inf or nan v.  Never in place: a tangent may be shared by several nodes."""
    if c.__class__ is float:
        if c == 1.0 or c == -1.0:
            if total is None:
                return v if c == 1.0 else -v
            return total + v if c == 1.0 else total - v
        if c == 0.0:
            return total
    if v.__class__ is np.float64 and v == 1.0:          # a unit seed: c·1 = c
        return c if total is None else total + c
    return c * v if total is None else total + c * v


class Pass(NamedTuple):
    """One sweep: its seed and the tangent (forward) or adjoint (reverse) of every w_i."""

    seed: np.ndarray               # x_dot (n,) or y_bar (m,)
    derivatives: list[Any]         # per w_i: an array of N, or None (structurally zero)


def unit_seeds(graph: Graph, mode: Mode) -> Iterator[np.ndarray]:
    """The seeds of a whole Jacobian, made one at a time: e_1 ... e_n (forward, J column by
    column) or e_1 ... e_m (reverse, row by row)."""
    size = graph.n if mode == "forward" else graph.m
    return (np.eye(1, size, q)[0] for q in range(size))


def choose_mode(graph: Graph, mode: str) -> Mode:
    """``auto`` picks the narrower seed: forward when n <= m, else reverse."""
    if mode == "auto":
        return "forward" if graph.n <= graph.m else "reverse"
    if mode not in ("forward", "reverse"):
        raise ValueError(f"mode must be forward, reverse or auto, not {mode!r}")
    return mode  # type: ignore[return-value]


def outputs_of(graph: Graph, w: list[Any], N: int) -> np.ndarray:
    """y as an (N, m) array: outputs may be inputs, repeated nodes or constants."""
    y = np.empty((N, graph.m))
    for k, out in enumerate(graph.outputs):
        y[:, k] = read(w, out)
    return y


def sweeps(graph: Graph, x: Any, mode: Mode, seeds: Any) -> tuple[list[np.ndarray], list[Pass]]:
    """Linearize once at x, then one pass per seed (a row of ``seeds``).

    Forward seeds are x_dot vectors (length n), reverse seeds are y_bar vectors
    (length m); a seed may also be an (N, ...) array, one per point.  Returns the
    primal values w and the passes, which a trace shows one by one.
    """
    w, edges = linearize(graph, x)
    return w, list(passes(graph, w, edges, mode, seeds))


def passes(graph: Graph, w: list[Any], edges: list[Edge], mode: Mode, seeds: Iterable[Any]) -> Iterator[Pass]:
    """One pass per seed over the edges of one linearization, each made when it is asked for.

    A seed entry that is 0 at every point is a structural zero (not carried); a per-point
    seed that is 0 at some points only is a number there, like any computed zero.
    """
    for seed in seeds:
        seed = np.asarray(seed, dtype=float)
        nonzero: Any = np.flatnonzero(seed.reshape(-1, seed.shape[-1]).any(axis=0)) if seed.size else ()
        if mode == "forward":
            x_dot = {int(j): seed[..., j] for j in nonzero}
            yield Pass(seed, forward_pass(edges, len(w), x_dot))
        else:
            w_bar = output_adjoints(graph, {int(k): seed[..., k] for k in nonzero})
            yield Pass(seed, reverse_pass(edges, len(w), w_bar))


def output_adjoints(graph: Graph, y_bar: dict[int, Any]) -> dict[int, Any]:
    """The reverse seed {node i: w̄_i} from {output k: ȳ_k}: an output may appear twice
    (its ȳ_k add up), and a constant output has no node to seed."""
    w_bar: dict[int, Any] = {}
    for k, v in y_bar.items():
        out = graph.outputs[k]
        if not isinstance(out, Const):
            w_bar[out] = v + w_bar[out] if out in w_bar else v
    return w_bar


def gather(derivatives: list[Any], refs: Any, N: int) -> np.ndarray:
    """The derivatives of the given nodes as an (N, len(refs)) array; None and constants → 0."""
    out = np.zeros((N, len(refs)))
    for k, ref in enumerate(refs):
        if not isinstance(ref, Const) and derivatives[ref] is not None:
            out[:, k] = derivatives[ref]
    return out


def assemble(graph: Graph, passes: Iterable[Pass], mode: Mode, N: int, out: np.ndarray | None = None) -> np.ndarray:
    """J (N, m, n) from one pass per input (forward: column j) or per output (reverse: row k).

    Only structurally nonzero entries are written; the rest are zero.  ``out`` is an
    (N, m, n) array of zeros to fill instead of a new one.  The passes may come one at a
    time (a generator), so that only one is held in memory.
    """
    J = np.zeros((N, graph.m, graph.n)) if out is None else out
    for p, sweep in enumerate(passes):
        if mode == "forward":          # pass j: column j, the tangents of the outputs
            cells = [(k, p, ref) for k, ref in enumerate(graph.outputs)]
        else:                          # pass k: row k, the adjoints of the inputs
            cells = [(p, j, j) for j in range(graph.n)]
        for k, j, ref in cells:
            if not isinstance(ref, Const) and sweep.derivatives[ref] is not None:
                J[:, k, j] = sweep.derivatives[ref]
    return J


def compressed(graph: Graph, sweep: Pass, mode: Mode, colouring: Colouring, c: int, N: int,
               out: np.ndarray | None = None) -> np.ndarray:
    """The entries of J that pass c of a colouring gives, written into ``out`` (N, m, n) (or
    a new J of zeros): forward, J[k, j] = ẏ_k for each j of colour c in row k's pattern;
    reverse, J[k, j] = x̄_j for each k of colour c in column j's.  Each is one tangent
    (adjoint) copied, so J is the uncompressed one bit for bit."""
    J = np.zeros((N, graph.m, graph.n)) if out is None else out
    ks, js = colouring.cells[c]
    refs = [graph.outputs[k] for k in ks] if mode == "forward" else js
    for k, j, ref in zip(ks, js, refs):
        if not isinstance(ref, Const) and sweep.derivatives[ref] is not None:
            J[:, k, j] = sweep.derivatives[ref]
    return J


# --- many points: chunks, and a fast sweep where everything is finite ------------------------
def work_per_point(graph: Graph, mode: str, seeded: bool = False) -> int:
    """Doubles held per point while a chunk is swept: every w_i, every partial c, and the
    tangents (or adjoints) that the passes carry, structural zeros excluded.  Counting every
    pass's is an upper bound: ``differentiate`` holds one pass at a time."""
    active = sum(1 for op in graph.tape for a in op.args if not isinstance(a, Const))
    if seeded:
        carried = len(graph)
    else:                                           # pass j: the nodes that depend on x_j; pass k: those y_k needs
        carried = graph.carried(mode)
    return len(graph) + active + carried


def chunk_size(graph: Graph, mode: str, seeded: bool = False, least: int = 4096) -> int:
    """Points per chunk: about 64 MB of arrays, at least ``least`` and at most 50 000.

    Chunks of thousands of points are also faster than one huge chunk: fresh memory for
    every temporary array of N doubles costs more than the arithmetic on it.
    """
    return max(least, min(50_000, 2**23 // max(1, work_per_point(graph, mode, seeded))))


# The operations that can round finite, nonzero arguments to a result below the smallest
# normal double (x·y, x/y, x^y, exp, σ): there the result keeps few or no digits.  The
# others map tiny to tiny (sin, tanh, sinh ...) or are exact near 0 (+, −, ln at 1).
UNDERFLOWING = frozenset({"mul", "div", "pow", "exp", "sigmoid"})
TINY = float(np.finfo(float).tiny)


def underflow_points(graph: Graph, w: list[Any], N: int) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """Where an operation of UNDERFLOWING rounds finite nonzero arguments to a result below
    2.2e-308 in size: (N,) bool, and [(i, (N,) bool)] per node.  One reduction per such
    node where nothing underflows, the usual case."""
    found = np.zeros(N, dtype=bool)
    nodes: list[tuple[int, np.ndarray]] = []
    with np.errstate(all="ignore"):
        for i, op in enumerate(graph.tape, start=graph.n):
            if op.prim not in UNDERFLOWING or w[i].__class__ is not np.ndarray:
                continue
            size = np.abs(w[i])
            if not np.fmin.reduce(size) < TINY:               # fmin skips nan (min would return it, hiding the rest)
                continue
            here = size < TINY
            for a in op.args:
                u = read(w, a)
                here = here & (u != 0) & np.isfinite(u)
            if here.any():
                nodes.append((i, np.broadcast_to(here, (N,))))
                found |= here
    return found, nodes


def differentiate(graph: Graph, x: Any, mode: str = "auto", seed: Any = None,
                  flagged: np.ndarray | None = None, underflowed: np.ndarray | None = None,
                  colouring: Colouring | None = None) -> tuple[np.ndarray, np.ndarray]:
    """y (N, m) and, without a seed, J (N, m, n); with a seed, J·x_dot (N, m) in forward
    mode or y_barᵀ·J (N, n) in reverse mode (one seed for all points, or one per point).

    Works chunk by chunk.  ``flagged``, an (N,) bool array if given, is set where some
    w_i is inf or nan although y may be finite: exp(800) overflows in
    exp(x)/sqrt(1 + exp(2*x)) at x = 400, and the quotient comes out 0.  One reduction
    per watched array finds them (``watch``); elsewhere inf and nan reach y.
    ``underflowed``, likewise, is set where an intermediate underflows (``underflow_points``).
    With a ``colouring`` (``colour.plan``) and no seed, J comes from one pass per colour,
    in its direction, instead of one per input or output: the same numbers, bit for bit.
    """
    X = _points(graph, x)
    chosen = choose_mode(graph, mode) if colouring is None or seed is not None else colouring.mode
    N, m, n = X.shape[0], graph.m, graph.n
    seeds = None if seed is None else np.asarray(seed, dtype=float)
    y = np.empty((N, m))
    D = np.zeros((N, m, n) if seeds is None else (N, m if chosen == "forward" else n))   # zero pages: lazy
    step = chunk_size(graph, chosen, seeds is not None)
    plan = watch(graph)
    for start in range(0, N, step):
        part = slice(start, min(N, start + step))
        part_seed = seeds if seeds is None or seeds.ndim == 1 else seeds[part]
        nonfinite = _sweep_into(graph, X[part], chosen, part_seed, y[part], D[part], plan,
                                underflowed[part] if underflowed is not None else None,
                                colouring if seeds is None else None)
        if flagged is not None:
            flagged[part] = nonfinite
    return y, D


def _sweep_into(graph: Graph, X: np.ndarray, mode: Mode, seed: np.ndarray | None, y: np.ndarray,
                D: np.ndarray, plan: Plan, underflowed: np.ndarray | None = None,
                colouring: Colouring | None = None) -> np.ndarray:
    """Fill y and D (zeros) at the points X; returns where a watched w_i is inf or nan
    (with y, that tells every point where some w_i is).

    Without a seed the passes (seeds e_1, e_2, ...) are made and written into D one at a
    time, so memory holds one pass, not all n (or m) of them; with a ``colouring``, one
    pass per colour (the columns of its seed matrix), each entry of J read from one of them.
    """
    N = X.shape[0]
    w, edges, nonfinite = _linearize(graph, X, plan)
    y[...] = outputs_of(graph, w, N)
    if underflowed is not None:
        underflowed[...] = underflow_points(graph, w, N)[0]
    if seed is None and colouring is not None:
        for c, sweep in enumerate(passes(graph, w, edges, mode, colouring.seeds().T)):
            compressed(graph, sweep, mode, colouring, c, N, out=D)
    elif seed is None:
        assemble(graph, passes(graph, w, edges, mode, unit_seeds(graph, mode)), mode, N, out=D)
    else:
        (sweep,) = passes(graph, w, edges, mode, [seed])
        D[...] = gather(sweep.derivatives, graph.outputs if mode == "forward" else range(graph.n), N)
    return nonfinite_points(w, nonfinite, N, graph)


def jacobian(graph: Graph, x: Any, mode: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """(y, J) at x: y is (m,) or (N, m); J is (m, n) or (N, m, n), J[k, j] = ∂y_k/∂x_j.

    Forward mode builds J column by column (n passes, seeds e_j); reverse mode row by
    row (m passes, seeds e_k).
    """
    y, J = differentiate(graph, x, mode)
    return (y[0], J[0]) if np.ndim(x) == 1 else (y, J)


def jvp(graph: Graph, x: Any, x_dot: Any) -> tuple[np.ndarray, np.ndarray]:
    """(y, J·x_dot) in one forward pass; x_dot is (n,) or one per point (N, n)."""
    y, y_dot = differentiate(graph, x, "forward", x_dot)
    return (y[0], y_dot[0]) if np.ndim(x) == 1 else (y, y_dot)


def vjp(graph: Graph, x: Any, y_bar: Any) -> tuple[np.ndarray, np.ndarray]:
    """(y, y_barᵀ·J) in one reverse pass; y_bar is (m,) or one per point (N, m)."""
    y, x_bar = differentiate(graph, x, "reverse", y_bar)
    return (y[0], x_bar[0]) if np.ndim(x) == 1 else (y, x_bar)
