"""Second order: Hessians and Hessian-vector products by forward-over-reverse.

**Second partials come from the one table.**  A primitive's first partial c_k = ∂w/∂u_k
is written on paper in ``PRIMITIVES[p].rules[k]`` (``1/√(1 − {a}²)``, ``{b}·{a}^({b}−1)``).
In ASCII that text is an expression in adjac's own language over the slots w, a, b, so
``rule_graph`` parses it (once, cached) into a small Graph, and adjac's own engine
differentiates it: ``ad.linearize`` of the rule graph at (w, a, b), then one
``ad.reverse_pass`` from its output, gives the explicit partials ∂c_k/∂w, ∂c_k/∂a,
∂c_k/∂b.  The value w itself depends on the arguments (∂w/∂u_q = c_q), so

    ∂c_k/∂u_q = ∂c_k/∂u_q|explicit + ∂c_k/∂w · c_q                          (S_kq below)

with c_q the table's own (careful) first partial.  Nothing is written twice: a new
primitive gets its second partials from its rule text.  Only the partials of active
arguments are formed, so x^2 at x < 0 never looks at ln x, as in first order.

Accuracy, measured against mpmath at the exact double arguments over log-spaced sweeps
(tests/test_second_order.py holds them to the bounds below, with 8 ulps for the bulk):
in the bulk of each domain the second partials came out within 4 ulps (sin, cos, exp, tan, log*, sqrt, cbrt, sinh, cosh,
tanh, asinh, div), and pow's within 8·(1 + |b·ln a|) ulps (a^(b−1)·(1 + b·ln a) cancels
where b·ln a ≈ −1), because differentiating the rule graph multiplies its local partials
and never uses the value of a cancelling difference: 1 − w² for tanh is never evaluated,
its derivative is −2w.  Where the rule text is a poorer formula than the table's careful
hand-written partial, the derived second partial carries that formula's rounding:

- asin, acos, atanh near ±1 and acosh near 1: 1 − a² (a² − 1) is rounded first, so the
  relative error grows like ε/(1 − |a|): 2e7 ulps (4e-9) at 1 − |a| = 6e-9.  That is the
  result at an argument one ulp away, magnified by the function's own condition there,
  not a wrong formula; the table's first partial uses (1 − a)(1 + a) and keeps 4 ulps.
- sigmoid near 0: w·(1 − w) differentiates to 1 − 2w, which cancels where σ″ changes
  sign: relative error ≈ ε/|a| (9e-5 at a = 1e-12), absolute error ≈ ε·σ′ throughout.
- atan for |a| > 1e77: (1/t)/t with t = 1 + a² underflows, and the second partial,
  below 2e-231 in size there, comes out 0 or subnormal.

These are left as the rule text gives them, not patched with a hand-written second
partial per primitive (a second source for the same derivative); a careful rule text,
``1/√((1 − {a})·(1 + {a}))``, would fix the first case for the trace and the numbers at once.

**The sweep.**  For a direction v = ẋ:

    forward    ẇ_i  += c_ij·ẇ_j                              tangents, tape order
    curvature  ċ_ij  = Σ_q S_kq·ẇ_(arg q)                     per edge, S from ``expand``
    reverse    w̄_j  += w̄_i·c_ij
               w̄̇_j += w̄̇_i·c_ij + w̄_i·ċ_ij                 the same edges, backwards

x̄ = ȳᵀJ is the gradient and x̄̇ = (Σ_k ȳ_k H_k)·v.  w̄ does not depend on v, so it is
swept once per ȳ and shared by the passes.  As in ``ad``, ``None`` is a structural zero
(never carried), constants have no edges, the sweeps run under np.errstate(all="ignore"),
and every other product is IEEE arithmetic: a computed 0 times an inf partial is nan.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from . import ad
from .ad import Edge, _accumulate
from .graph import Const, Graph, read
from .parse import parse
from .primitives import PRIMITIVES, ascii_math

SLOTS = ("w", "a", "b", "c")           # the placeholders of the rule text: the value, then the arguments
Curvature = tuple[tuple[int, Any], ...]   # per edge (i, j, k, c): pairs (w_q, ∂c/∂w_q), q over active arguments


# --- second partials from the rule text ---------------------------------------------------
@functools.cache
def rule_graph(prim: str, k: int) -> Graph:
    """c_k = ∂w/∂u_k of ``prim`` as a Graph over the inputs (w, a[, b]), from its rule text."""
    arity = len(PRIMITIVES[prim].partials)
    text = ascii_math(PRIMITIVES[prim].rules[k]).format(w="w", a="a", b="b", c="c")
    return parse(text, list(SLOTS[: 1 + arity]))


def explicit_partials(prim: str, k: int, w: Any, u: tuple[Any, ...]) -> list[Any]:
    """[∂c_k/∂w, ∂c_k/∂a, (∂c_k/∂b)] at (w, *u), w held fixed: one reverse pass over the
    rule graph.  None is a structural zero (c_k does not use that slot, or only through a
    partial that is identically 0, like sign′)."""
    graph = rule_graph(prim, k)
    out = graph.outputs[0]
    if isinstance(out, Const):                    # a constant partial: add, sub, neg, sign
        return [None] * graph.n
    if not graph.tape:                            # the rule is one slot (mul: b, exp: w): its partial is 1
        return [1.0 if s == out else None for s in range(graph.n)]
    X = np.column_stack(np.broadcast_arrays(w, *u)).astype(float, copy=False)
    w_rule, edges = ad.linearize(graph, X)
    bars = ad.reverse_pass(edges, len(w_rule), {out: np.float64(1.0)})
    return [_structural(v) for v in bars[: graph.n]]


def _structural(v: Any) -> Any:
    """A partial as the engine keeps it: None or an array of N, or a float (0.0 → None)."""
    if v is None or v.__class__ is np.ndarray:
        return v
    v = float(v)
    return None if v == 0.0 else v


def second_partials(prim: str, w: Any, u: tuple[Any, ...], c: dict[int, Any]) -> dict[tuple[int, int], Any]:
    """S_kq = ∂c_k/∂u_q = ∂c_k/∂u_q|explicit + ∂c_k/∂w·c_q for the active arguments k, q
    (the keys of ``c``, which holds their first partials c_q); structural zeros omitted.

    A first partial that is a float is the same at every point (it depends on constants
    only: 1, −1, 0, the 3 of 3·x, x^1), so its partials are identically 0, and by
    symmetry so are the other partials' partials along that argument."""
    S: dict[tuple[int, int], Any] = {}
    varying = {k: c_k for k, c_k in c.items() if c_k.__class__ is np.ndarray}
    for k in varying:
        d = explicit_partials(prim, k, w, u)
        for q, c_q in varying.items():
            total = d[1 + q]
            if d[0] is not None:
                total = _accumulate(total, d[0], c_q)       # through w: ∂c_k/∂w · ∂w/∂u_q
            total = _structural(total)
            if total is not None:
                S[k, q] = total
    return S


def second_partial(prim: str, k: int, q: int, w: Any, *u: Any) -> Any:
    """∂²w/∂u_k∂u_q of ``prim`` at u (w = prim(*u)), from the table: 0.0 if structurally zero."""
    with np.errstate(all="ignore"):
        u = tuple(np.atleast_1d(np.asarray(v, dtype=float)) for v in u)
        w = np.atleast_1d(np.asarray(w, dtype=float))
        first = PRIMITIVES[prim].partials
        c = {q: np.broadcast_to(first[q](w, *u), w.shape).astype(float) for q in range(len(u))}
        return second_partials(prim, w, u, c).get((k, q), 0.0)


@functools.cache
def curvature_pattern(prim: str) -> tuple[tuple[bool, ...], ...]:
    """P[k][q]: whether ∂²w/∂u_k∂u_q of ``prim`` can be nonzero (with every first partial
    nonzero); False for the linear ones (add, sub, neg), for abs and sign, and on the
    diagonal of mul.  Read off the None pattern of ``second_partials`` at one point."""
    arity = len(PRIMITIVES[prim].partials)
    u = tuple(np.array([0.3 + 0.1 * q]) for q in range(arity))
    with np.errstate(all="ignore"):
        w = PRIMITIVES[prim].f(*u)
        S = second_partials(prim, w, u, {q: np.array([1.0]) for q in range(arity)})
    return tuple(tuple((k, q) in S for q in range(arity)) for k in range(arity))


# --- the local quadratic model of every op ------------------------------------------------
class Expansion(NamedTuple):
    """The primal sweep to second order: every w_i, the edges (i, j, k, c) as in
    ``ad.linearize``, and per edge the partials of its c, ((w_q, ∂c/∂w_q), ...)."""

    w: list[Any]
    edges: list[Edge]
    curvature: list[Curvature]


def expand(graph: Graph, x: Any) -> Expansion:
    """``ad.linearize`` plus, for each edge, ∂c_ij/∂u_q for the op's active arguments q.

    Where an op is undefined (nan: log(−1), 0/0) its second partials are nan too, as its
    first partials are: no number where the derivative does not exist.
    """
    w, edges = ad.linearize(graph, x)
    undefinable = ad.watch(graph)[1]
    used = ad.live(graph, w, derivatives=True) if graph.branches else None   # a branch not taken: S = 0 there
    curvature: list[Curvature] = []
    with np.errstate(all="ignore"):
        start = 0
        while start < len(edges):                  # the edges of one op are consecutive
            i = edges[start][0]
            stop = start
            while stop < len(edges) and edges[stop][0] == i:
                stop += 1
            op = graph.tape[i - graph.n]
            u = tuple(read(w, a) for a in op.args)
            c = {k: c for _, _, k, c in edges[start:stop]}
            node = {k: j for _, j, k, _ in edges[start:stop]}
            S = second_partials(op.prim, w[i], u, c) if any(any(row) for row in curvature_pattern(op.prim)) else {}
            if S and undefinable[i]:
                undefined = np.isnan(w[i])
                if undefined.any():
                    S = {kl: np.where(undefined, np.nan, s) for kl, s in S.items()}
            if S and used is not None and used[i] is not True:
                S = {kl: np.where(used[i], s, 0.0) for kl, s in S.items()}
            for _, _, k, _ in edges[start:stop]:
                curvature.append(tuple((node[q], S[k, q]) for q in c if (k, q) in S))
            start = stop
    return Expansion(w, edges, curvature)


# --- the sweeps ---------------------------------------------------------------------------
def curvature_tangents(expansion: Expansion, w_dot: list[Any]) -> list[Any]:
    """ċ_ij = Σ_q ∂c_ij/∂w_q·ẇ_q for every edge (None: structurally zero)."""
    c_dot: list[Any] = []
    with np.errstate(all="ignore"):
        for pairs in expansion.curvature:
            total = None
            for q, s in pairs:
                if w_dot[q] is not None:
                    total = _accumulate(total, s, w_dot[q])
            c_dot.append(total)
    return c_dot


def reverse_tangent_pass(edges: list[Edge], c_dot: list[Any], w_bar: list[Any], size: int) -> list[Any]:
    """The tangent of a reverse sweep: w̄̇_j += w̄̇_i·c_ij + w̄_i·ċ_ij, backwards over the
    edges (w̄ from ``ad.reverse_pass``; the seed ȳ has no tangent)."""
    w_bar_dot: list[Any] = [None] * size
    with np.errstate(all="ignore"):
        for e in range(len(edges) - 1, -1, -1):
            i, j, _, c = edges[e]
            if w_bar[i] is None:
                continue
            if w_bar_dot[i] is not None:
                w_bar_dot[j] = _accumulate(w_bar_dot[j], c, w_bar_dot[i])
            if c_dot[e] is not None:
                w_bar_dot[j] = _accumulate(w_bar_dot[j], c_dot[e], w_bar[i])
    return w_bar_dot


class SecondPass(NamedTuple):
    """One forward-over-reverse pass: what a lecture table shows, row by row."""

    x_dot: np.ndarray              # the direction v, (n,) or one per point (N, n)
    y_bar: np.ndarray              # the output weights ȳ, (m,) or (N, m)
    w_dot: list[Any]               # per w_i: ẇ_i, the forward tangent (None: structurally zero)
    c_dot: list[Any]               # per edge of the expansion: ċ_ij
    w_bar: list[Any]               # per w_i: w̄_i (shared by the passes with this ȳ)
    w_bar_dot: list[Any]           # per w_i: w̄̇_i; x̄ = w_bar[:n], x̄̇ = w_bar_dot[:n] = (Σ ȳ_k H_k)·v


def adjoints(graph: Graph, expansion: Expansion, y_bar: Any) -> list[Any]:
    """w̄ of one reverse pass from the output weights ȳ (structural zeros of ȳ not carried)."""
    y_bar = np.asarray(y_bar, dtype=float)
    nonzero = np.flatnonzero(y_bar.reshape(-1, graph.m).any(axis=0)) if y_bar.size else ()
    seed = ad.output_adjoints(graph, {int(k): y_bar[..., k] for k in nonzero})
    return ad.reverse_pass(expansion.edges, len(expansion.w), seed)


def tangents(expansion: Expansion, x_dot: Any) -> tuple[list[Any], list[Any]]:
    """ẇ (forward pass from ẋ = x_dot) and ċ for every edge."""
    x_dot = np.asarray(x_dot, dtype=float)
    n = x_dot.shape[-1]
    nonzero = np.flatnonzero(x_dot.reshape(-1, n).any(axis=0))
    w_dot = ad.forward_pass(expansion.edges, len(expansion.w), {int(j): x_dot[..., j] for j in nonzero})
    return w_dot, curvature_tangents(expansion, w_dot)


def second_passes(graph: Graph, expansion: Expansion, y_bar: Any, x_dots: Iterable[Any]) -> Iterator[SecondPass]:
    """One pass per direction in ``x_dots`` for the weights ȳ, each made when asked for."""
    y_bar = np.asarray(y_bar, dtype=float)
    w_bar = adjoints(graph, expansion, y_bar)
    for x_dot in x_dots:
        x_dot = np.asarray(x_dot, dtype=float)
        w_dot, c_dot = tangents(expansion, x_dot)
        yield SecondPass(x_dot, y_bar, w_dot, c_dot, w_bar, reverse_tangent_pass(expansion.edges, c_dot, w_bar, len(w_bar)))


# --- Hessians and Hessian-vector products -------------------------------------------------
def _inputs(derivatives: list[Any], n: int, N: int) -> np.ndarray:
    """w̄[:n] or w̄̇[:n] as an (N, n) array, structural zeros as 0."""
    return ad.gather(derivatives, range(n), N)


def _unit(n: int, a: int) -> np.ndarray:
    e = np.zeros(n)
    e[a] = 1.0
    return e


def hessian(graph: Graph, x: Any, y_bar: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, G, H) at x (n,) or points (N, n).

    Without ``y_bar``: G = J (m, n) and H (m, n, n) with H[k] = ∇²y_k, from n passes per
    output (directions e_1 ... e_n; the forward tangents are shared by the outputs).
    With ``y_bar`` (m,) or (N, m): G = ȳᵀJ (n,) and H = Σ_k ȳ_k H_k (n, n) in n passes.
    Per point, a leading axis N is added (when x is (N, n)).  H[.., a, b] is x̄̇_a of
    the pass in direction e_b; it is symmetric to rounding.
    """
    X = ad._points(graph, x)
    N, m, n = X.shape[0], graph.m, graph.n
    expansion = expand(graph, X)
    y = ad.outputs_of(graph, expansion.w, N)
    weights = [np.eye(1, m, k)[0] for k in range(m)] if y_bar is None else [np.asarray(y_bar, dtype=float)]
    bars = [adjoints(graph, expansion, weight) for weight in weights]
    G = np.stack([_inputs(w_bar, n, N) for w_bar in bars], axis=1)          # (N, len(weights), n)
    H = np.zeros((N, len(weights), n, n))
    for b in range(n):
        _, c_dot = tangents(expansion, _unit(n, b))
        for q, w_bar in enumerate(bars):
            H[:, q, :, b] = _inputs(reverse_tangent_pass(expansion.edges, c_dot, w_bar, len(w_bar)), n, N)
    if y_bar is not None:
        G, H = G[:, 0], H[:, 0]
    return (y[0], G[0], H[0]) if np.ndim(x) == 1 else (y, G, H)


def hvp(graph: Graph, x: Any, v: Any, y_bar: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, G, H·v) at x (n,) or (N, n), for a direction v (n,) or one per point (N, n).

    Without ``y_bar``: G = J (m, n) and Hv (m, n), row k = H_k·v, one pass per output.
    With ``y_bar``: G = ȳᵀJ (n,) and Hv = (Σ_k ȳ_k H_k)·v (n,) in one pass.
    """
    X = ad._points(graph, x)
    N, m, n = X.shape[0], graph.m, graph.n
    expansion = expand(graph, X)
    y = ad.outputs_of(graph, expansion.w, N)
    weights = [np.eye(1, m, k)[0] for k in range(m)] if y_bar is None else [np.asarray(y_bar, dtype=float)]
    _, c_dot = tangents(expansion, v)
    G = np.zeros((N, len(weights), n))
    Hv = np.zeros((N, len(weights), n))
    for q, weight in enumerate(weights):
        w_bar = adjoints(graph, expansion, weight)
        G[:, q] = _inputs(w_bar, n, N)
        Hv[:, q] = _inputs(reverse_tangent_pass(expansion.edges, c_dot, w_bar, len(w_bar)), n, N)
    if y_bar is not None:
        G, Hv = G[:, 0], Hv[:, 0]
    return (y[0], G[0], Hv[0]) if np.ndim(x) == 1 else (y, G, Hv)


# --- structural zeros of H ----------------------------------------------------------------
def hessian_sparsity(graph: Graph) -> np.ndarray:
    """(m, n, n) bool: which entries of each H_k can be nonzero, exactly from the graph.

    H_k = Σ_i w̄_i Σ_(k',q) S_k'q ∇u_k' ∇u_qᵀ over the ops i that y_k depends on, so
    (x_a, x_b) can meet in y_k only where some op i with a path to y_k has a second
    partial S_k'q that is not structurally zero (``curvature_pattern``) and x_a reaches
    its argument u_k', x_b its argument u_q (k' = q: both through the same argument).
    Paths count only through partials that are not identically 0 (sign, x·0, x^0), as in
    the sweeps, so this is exactly where ``hessian`` can be nonzero.
    """
    n, m = graph.n, graph.m
    probe = np.full((1, n), 0.5) + np.arange(n) * 0.01
    edges = ad.linearize(graph, probe)[1]        # which partials are identically 0 does not depend on x
    live = [(i, j, k) for i, j, k, c in edges if not (c.__class__ is float and c == 0.0)]
    varying = [(i, j, k) for i, j, k, c in edges if c.__class__ is np.ndarray]   # only these have partials
    reach = [0] * len(graph)                      # D_i as a bit set: the inputs with a path to w_i
    for j in range(n):
        reach[j] = 1 << j
    for i, j, _ in live:
        reach[i] |= reach[j]
    feeds = [0] * len(graph)                      # R_i as a bit set: the outputs w_i has a path to
    for q, out in enumerate(graph.outputs):
        if not isinstance(out, Const):
            feeds[out] |= 1 << q
    for i, j, _ in reversed(live):
        feeds[j] |= feeds[i]
    H = np.zeros((m, n, n), dtype=bool)
    args: dict[int, dict[int, int]] = {}
    for i, j, k in varying:
        args.setdefault(i, {})[k] = j
    for i, node in args.items():
        if not feeds[i]:
            continue
        P = curvature_pattern(graph.tape[i - n].prim)
        for k, j in node.items():
            for q, j_q in node.items():
                if P[k][q]:
                    rows, cols = _bits(reach[j], n), _bits(reach[j_q], n)
                    for r in _bits_list(feeds[i]):
                        H[r][np.ix_(rows, cols)] = True
    return H | H.transpose(0, 2, 1)


def _bits(mask: int, n: int) -> np.ndarray:
    return np.array([j for j in range(n) if mask >> j & 1], dtype=np.intp)


def _bits_list(mask: int) -> list[int]:
    return [q for q in range(mask.bit_length()) if mask >> q & 1]
