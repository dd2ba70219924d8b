"""Forward and reverse mode over a Graph, vectorized over points.

``linearize`` is the primal sweep: it evaluates every w_i at N points at once and
records the local partials as edges (i, j, c), c = ∂w_i/∂w_j, for active arguments
only.  The two sweeps then apply the chain rule over the same edges, in opposite
directions:

    forward   ẇ_i += c · ẇ_j     over the edges in tape order      (one pass per x_dot)
    reverse   w̄_j += c · w̄_i     over the edges in reverse order   (one pass per y_bar)

A tangent or adjoint that is structurally zero is ``None`` and is never carried, so a
pass touches only the nodes its seed reaches (sparsity for free).  A partial that is
inf, nan or 0 somewhere is wrapped in ``Guarded`` so that a product with a zero factor
is zero: forward and reverse then agree even at kinks (x + sqrt(y) at y = 0 keeps a
finite x column; x*sqrt(y) at (0, 0) has ∂/∂y = 0 in both modes).

Shapes: a point x is (n,) or (N, n); every w_i is an array of N values.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np

from .graph import Const, Graph
from .primitives import PRIMITIVES

Mode = Literal["forward", "reverse"]
Edge = tuple[int, int, Any]       # (i, j, c): c = ∂w_i/∂w_j, a float or an array of N


class Guarded:
    """A local partial with inf, nan or zero entries: c·v = 0 where c = 0 or v = 0.

    Zero times anything is zero in both directions, so the modes agree at kinks:
    forward meets 0·inf in x*sqrt(y) at (0, 0) (ẇ = inf reaches a zero partial),
    reverse meets the same product in sqrt(x*y) (w̄ = inf reaches a zero partial).
    """

    __slots__ = ("c",)

    def __init__(self, c: np.ndarray):
        self.c = c

    def __mul__(self, v: Any) -> Any:
        with np.errstate(all="ignore"):
            return np.where((v == 0) | (self.c == 0), 0.0, self.c * v)

    __rmul__ = __mul__


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
            w.append(PRIMITIVES[op.prim].f(*(np.float64(a.value) if isinstance(a, Const) else w[a] for a in op.args)))
    return w


def linearize(graph: Graph, x: Any) -> tuple[list[np.ndarray], list[Edge]]:
    """The primal sweep: every w_i, and the edges (i, j, c) with c = ∂w_i/∂w_j.

    An edge exists only for an argument j that is a node (constants are folded into
    the ops and have no edges), so ``x^2`` at x = -3 never evaluates log(-3).  Where
    w_i is undefined (nan: log(-1), asin(2)), its partials are nan too.
    """
    X = _points(graph, x)
    w: list[Any] = list(np.ascontiguousarray(X.T))
    edges: list[Edge] = []
    with np.errstate(all="ignore"):
        for i, op in enumerate(graph.tape, start=graph.n):
            prim = PRIMITIVES[op.prim]
            u = [np.float64(a.value) if isinstance(a, Const) else w[a] for a in op.args]   # float64: x/0 gives inf, not ZeroDivisionError
            w_i = prim.f(*u)
            w.append(w_i)
            undefined = None if np.isfinite(w_i).all() else np.isnan(w_i)
            for k, a in enumerate(op.args):
                if not isinstance(a, Const):
                    c = prim.partials[k](w_i, *u)
                    if undefined is not None and undefined.any():   # no derivative where w_i is undefined
                        c = np.where(undefined, np.nan, c)
                    edges.append((i, a, _guard(c)))
    return w, edges


def _guard(c: Any) -> Any:
    if np.ndim(c) == 0:
        c = float(c)
        return c if np.isfinite(c) and c != 0 else Guarded(np.asarray(c))
    return c if np.isfinite(c).all() and c.all() else Guarded(c)


def forward_pass(edges: list[Edge], size: int, x_dot: dict[int, Any]) -> list[Any]:
    """One forward sweep from the tangents ``x_dot`` {input j: ẋ_j}; returns every ẇ_i.

    Entries that stay ``None`` are structurally zero: no path from a seeded input.
    """
    w_dot: list[Any] = [None] * size
    for j, v in x_dot.items():
        w_dot[j] = v
    with np.errstate(all="ignore"):                        # inf − inf: nan, not a warning
        for i, j, c in edges:                              # tape order
            if w_dot[j] is not None:
                w_dot[i] = c * w_dot[j] if w_dot[i] is None else w_dot[i] + c * w_dot[j]
    return w_dot


def reverse_pass(edges: list[Edge], size: int, w_bar_seed: dict[int, Any]) -> list[Any]:
    """One reverse sweep from the adjoints ``w_bar_seed`` {node i: w̄_i}; returns every w̄_j."""
    w_bar: list[Any] = [None] * size
    for i, v in w_bar_seed.items():
        w_bar[i] = v
    with np.errstate(all="ignore"):
        for i, j, c in reversed(edges):                    # the same edges, backwards
            if w_bar[i] is not None:
                w_bar[j] = c * w_bar[i] if w_bar[j] is None else w_bar[j] + c * w_bar[i]
    return w_bar


class Pass(NamedTuple):
    """One sweep: its seed and the tangent (forward) or adjoint (reverse) of every w_i."""

    seed: np.ndarray               # x_dot (n,) or y_bar (m,)
    derivatives: list[Any]         # per w_i: an array of N, or None (structurally zero)


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
        y[:, k] = out.value if isinstance(out, Const) else w[out]
    return y


def sweeps(graph: Graph, x: Any, mode: Mode, seeds: Any) -> tuple[list[np.ndarray], list[Pass]]:
    """Linearize once at x, then one pass per seed (a row of ``seeds``).

    Forward seeds are x_dot vectors (length n), reverse seeds are y_bar vectors
    (length m); a seed may also be an (N, ...) array, one per point.  Returns the
    primal values w and the passes, which a trace shows one by one.
    """
    w, edges = linearize(graph, x)
    passes = []
    for seed in seeds:
        seed = np.asarray(seed, dtype=float)
        if mode == "forward":
            x_dot = {j: seed[..., j] for j in range(graph.n) if np.any(seed[..., j])}
            passes.append(Pass(seed, forward_pass(edges, len(w), x_dot)))
        else:
            w_bar: dict[int, Any] = {}
            for k, out in enumerate(graph.outputs):        # an output may appear twice
                if not isinstance(out, Const) and np.any(seed[..., k]):
                    w_bar[out] = seed[..., k] + w_bar.get(out, 0.0)
            passes.append(Pass(seed, reverse_pass(edges, len(w), w_bar)))
    return w, passes


def gather(derivatives: list[Any], refs: Any, N: int) -> np.ndarray:
    """The derivatives of the given nodes as an (N, len(refs)) array; None and constants → 0."""
    out = np.zeros((N, len(refs)))
    for k, ref in enumerate(refs):
        if not isinstance(ref, Const) and derivatives[ref] is not None:
            out[:, k] = derivatives[ref]
    return out


def jacobian(graph: Graph, x: Any, mode: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """(y, J) at x: y is (m,) or (N, m); J is (m, n) or (N, m, n), J[k, j] = ∂y_k/∂x_j.

    Forward mode builds J column by column (n passes, seeds e_j); reverse mode row by
    row (m passes, seeds e_k).
    """
    X = _points(graph, x)
    chosen = choose_mode(graph, mode)
    N = X.shape[0]
    if chosen == "forward":
        w, passes = sweeps(graph, X, chosen, np.eye(graph.n))
        J = np.stack([gather(p.derivatives, graph.outputs, N) for p in passes], axis=-1) if passes else None
    else:
        w, passes = sweeps(graph, X, chosen, np.eye(graph.m))
        J = np.stack([gather(p.derivatives, range(graph.n), N) for p in passes], axis=1) if passes else None
    if J is None:
        J = np.zeros((N, graph.m, graph.n))
    y = outputs_of(graph, w, N)
    return (y[0], J[0]) if np.ndim(x) == 1 else (y, J)


def jvp(graph: Graph, x: Any, x_dot: Any) -> tuple[np.ndarray, np.ndarray]:
    """(y, J·x_dot) in one forward pass; x_dot is (n,) or one per point (N, n)."""
    X = _points(graph, x)
    w, (p,) = sweeps(graph, X, "forward", [x_dot])
    N = X.shape[0]
    y, y_dot = outputs_of(graph, w, N), gather(p.derivatives, graph.outputs, N)
    return (y[0], y_dot[0]) if np.ndim(x) == 1 else (y, y_dot)


def vjp(graph: Graph, x: Any, y_bar: Any) -> tuple[np.ndarray, np.ndarray]:
    """(y, y_barᵀ·J) in one reverse pass; y_bar is (m,) or one per point (N, m)."""
    X = _points(graph, x)
    w, (p,) = sweeps(graph, X, "reverse", [y_bar])
    N = X.shape[0]
    y, x_bar = outputs_of(graph, w, N), gather(p.derivatives, range(graph.n), N)
    return (y[0], x_bar[0]) if np.ndim(x) == 1 else (y, x_bar)
