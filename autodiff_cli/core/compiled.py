"""The compiled engine: one numba interpreter of the Wengert list, for many points (issue 16).

The numpy engine (``ad.differentiate``) makes one array operation per node and edge, so
its cost is a fixed overhead per operation plus temporaries of N doubles.  Here the tape
is encoded as integer and float arrays (``encode``: an opcode per node from
``kernels.KERNELS``, argument indices, constant values, which partials are constants) and
one compiled function, ``_sweep``, interprets it for blocks of points (``block_size``), the
blocks spread over the cores (``prange``).  Per block it runs the primal sweep, records
the local partials, and makes the forward or reverse passes (one per unit seed, or the
one given seed) over the same partials, writing y and J (or J·ẋ, ȳᵀJ) in place.  It is
the ADOL-C way: the function is compiled once, not per graph, and numba caches the
machine code on disk (``cache_folder``), so a later process loads it in a fraction of a
second.

The results are those of the numpy engine: the same formulas in the same order
(``kernels``), the same structural zeros (a partial that is a constant is recorded as one,
and a constant 0 is no edge), the same nan where an undefinable operation is undefined,
and the same ``flagged`` and ``underflowed`` points, so that ``report`` applies the same
checks.  tests/test_compiled.py holds the two engines to that.

This module is imported only when the compiled engine runs (``engine.choose``); it
imports numba, which the one-shot ``--at`` path never loads.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numba
import numpy as np
from numba.core import config

from . import kernels
from .ad import UNDERFLOWING, Mode, _points, choose_mode, watch
from .graph import Const, Graph
from .primitives import PRIMITIVES

PARALLEL_WORK = 2**22        # nodes × points × passes worth a thread: some milliseconds
CACHE_BYTES = 2**22           # a block's w, partials and tangents: about twice a core's L2 (measured: F3, F1)


class Tape(NamedTuple):
    """A Graph as arrays for ``_sweep``; T = len(graph.tape), nodes i = n + t."""

    n: int
    op: np.ndarray             # (T,) int64: kernels.OPCODE of tape[t]
    nargs: np.ndarray          # (T,) int64: 1 or 2
    arg: np.ndarray            # (T, 2) int64: index into w, or -1 for a constant (or no argument)
    const: np.ndarray          # (T, 2) float64: the constant where arg is -1
    edge: np.ndarray           # (T, 2) int8: 0 no edge (constant argument, or a partial that is the constant 0),
                               #              1 a partial computed per point, 2 a constant partial (cval)
    cval: np.ndarray           # (T, 2) float64: the constant partial where edge is 2
    check: np.ndarray          # (size,) bool: flag the point where this w_i is inf or nan (ad.watch; inputs: all)
    undefinable: np.ndarray    # (size,) bool: partials are nan where w_i is nan (ad.watch)
    underflowing: np.ndarray   # (T,) bool: an operation of ad.UNDERFLOWING
    out: np.ndarray            # (m,) int64: y_k = w[out[k]], or -1 for a constant output
    out_val: np.ndarray        # (m,) float64: the constant output where out is -1


def encode(graph: Graph) -> Tape | None:
    """The tape as arrays, or None when it uses a primitive the kernels do not have (or one
    with more than two arguments): then the numpy engine computes it."""
    T, n = len(graph.tape), graph.n
    op = np.zeros(T, dtype=np.int64)
    nargs = np.zeros(T, dtype=np.int64)
    arg = np.full((T, 2), -1, dtype=np.int64)
    const = np.zeros((T, 2))
    edge = np.zeros((T, 2), dtype=np.int8)
    cval = np.zeros((T, 2))
    underflowing = np.zeros(T, dtype=bool)
    for t, o in enumerate(graph.tape):
        if o.prim not in kernels.OPCODE or len(o.args) not in (1, 2):
            return None
        op[t], nargs[t], underflowing[t] = kernels.OPCODE[o.prim], len(o.args), o.prim in UNDERFLOWING
        for k, a in enumerate(o.args):
            if isinstance(a, Const):
                const[t, k] = a.value
            else:
                arg[t, k] = a
        for k, c in _constant_partials(o.prim, o.args).items():
            if c is None:
                edge[t, k] = 1
            elif c != 0.0:                    # a constant 0 is a structural zero: no edge, as in ad._accumulate
                edge[t, k], cval[t, k] = 2, c
    watched, undefinable = watch(graph)
    check = np.array(watched, dtype=bool) | np.array(undefinable, dtype=bool)
    check[:n] = True
    out = np.array([-1 if isinstance(r, Const) else r for r in graph.outputs], dtype=np.int64)
    out_val = np.array([r.value if isinstance(r, Const) else 0.0 for r in graph.outputs])
    return Tape(n, op, nargs, arg, const, edge, cval, check, np.array(undefinable, dtype=bool), underflowing,
                out, out_val)


_TAPES: dict[int, tuple[Graph, Tape | None]] = {}


def _encoded(graph: Graph) -> Tape | None:
    """``encode(graph)``, kept for the last few graphs: a run computes one graph chunk after chunk."""
    kept = _TAPES.get(id(graph))
    if kept is None or kept[0] is not graph:
        if len(_TAPES) >= 8:
            _TAPES.clear()
        kept = _TAPES[id(graph)] = (graph, encode(graph))
    return kept[1]


def _constant_partials(prim: str, args: tuple[Any, ...]) -> dict[int, float | None]:
    """For each node argument k: the partial as a float where the table's partial does not
    depend on the point (1 of add, b of x·b with b constant, 0 of sign′), else None.

    Asked of the table itself, as ``ad._linearize`` decides it: a partial that is not an
    array at array arguments is a constant there."""
    probe = np.array([0.5, 2.0])
    u = [np.float64(a.value) if isinstance(a, Const) else probe for a in args]
    entry = PRIMITIVES[prim]
    found: dict[int, float | None] = {}
    with np.errstate(all="ignore"):
        w = entry.f(*u)
        for k, a in enumerate(args):
            if not isinstance(a, Const):
                c = entry.partials[k](w, *u)
                found[k] = None if c.__class__ is np.ndarray else float(c)
    return found


# --- the private cache ---------------------------------------------------------------------
def cache_folder() -> str | None:
    """Where numba keeps the compiled interpreter: ``$XDG_CACHE_HOME/adjac/numba-<hash>`` (or
    ``~/.cache/adjac/...``), each level created with mode 0700 and used only if it is a
    directory owned by this user that no one else may write to, else nowhere (the
    interpreter is then compiled in every process).  numba's cache index is a pickle, so
    it must never be read from a folder that someone else can write to (numba's default,
    ``__pycache__`` beside the installed module, may be one).  The hash covers the
    sources of this module and of ``kernels`` and the numba version: numba notices a
    change of ``_sweep``'s own file only, not of the functions it calls."""
    if not hasattr(os, "getuid"):
        return None
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in ("compiled.py", "kernels.py", "primitives.py"):
        digest.update((here / name).read_bytes())
    digest.update(f"{numba.__version__} {sys.version}".encode())
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "adjac", f"numba-{digest.hexdigest()[:16]}")
    try:
        for path in (base, os.path.dirname(folder), folder):      # not makedirs: no home, no cache
            if not os.path.isdir(path):
                os.mkdir(path, 0o700)
        for path in (os.path.dirname(folder), folder):
            info = os.stat(path)
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
                return None
    except (OSError, ValueError):
        return None
    return folder


CACHE = cache_folder()
_OPTIONS: dict[str, Any] = {"error_model": "numpy", "nogil": True}      # 1/0 is inf and log(-1) nan, as in numpy
_block = kernels.block


def _sweep(X, op, nargs, arg, const, edge, cval, check, undefinable, underflowing, out, out_val,
           reverse, seeds, active, per_point, seeded, Y, D, flagged, underflowed, width):
    """y, and J or the seeded product, at the points X (N, n), block by block.

    ``seeds`` (P, L) are the passes' seeds (ẋ, L = n, or ȳ, L = m), or with ``per_point``
    one seed per point (N, L) and P = 1; ``active`` (P, L) which entries are structurally
    nonzero.  ``seeded``: D is the product (N, m) forward or (N, n) reverse, else J (N, m, n),
    zeros where nothing is written.  ``flagged`` and ``underflowed`` (N,) are set as
    ``ad.differentiate`` sets them."""
    N, n = X.shape
    T = op.shape[0]
    size = n + T
    m = out.shape[0]
    P = active.shape[0]
    tiny = 2.2250738585072014e-308
    blocks = (N + width - 1) // width
    for blk in numba.prange(blocks):
        s = blk * width
        nb = min(N, s + width) - s
        W = np.empty((size, width))
        C = np.empty((T, 2, width))
        V = np.empty((size, width))
        K = np.empty((2, width))                        # a constant argument, repeated
        have = np.zeros(size, dtype=np.bool_)
        for j in range(n):
            for p in range(nb):
                x = X[s + p, j]
                W[j, p] = x
                if x - x != 0.0:                     # inf or nan
                    flagged[s + p] = True
        for t in range(T):                           # the primal sweep and the local partials
            i = n + t
            a0, a1 = arg[t, 0], arg[t, 1]
            if a0 >= 0:
                A = W[a0]
            else:
                A = K[0]
                A[:] = const[t, 0]
            if a1 >= 0:
                B = W[a1]
            else:
                B = K[1]
                B[:] = const[t, 1]
            _block(op[t], A, B, a1 < 0, edge[t, 0], edge[t, 1], W[i], C[t, 0], C[t, 1], nb)
            for k in range(2):
                if edge[t, k] == 2:
                    C[t, k, :nb] = cval[t, k]
            if undefinable[i]:                       # no derivative where w_i is undefined
                for p in range(nb):
                    if W[i, p] != W[i, p]:
                        C[t, 0, p] = np.nan
                        C[t, 1, p] = np.nan
            if check[i]:
                total = 0.0
                for p in range(nb):                  # one sum, as ad._linearize: not finite if a term is not
                    total += W[i, p]
                if total - total != 0.0:
                    for p in range(nb):
                        if W[i, p] - W[i, p] != 0.0:     # inf or nan
                            flagged[s + p] = True
            if underflowing[t]:
                least = np.inf
                for p in range(nb):                  # nan compares false: not an underflow
                    magnitude = abs(W[i, p])
                    least = magnitude if magnitude < least else least
                two = nargs[t] == 2
                if least < tiny:
                    for p in range(nb):
                        if abs(W[i, p]) < tiny and A[p] != 0.0 and A[p] - A[p] == 0.0 and (
                                not two or (B[p] != 0.0 and B[p] - B[p] == 0.0)):
                            underflowed[s + p] = True
        for k in range(m):
            r = out[k]
            for p in range(nb):
                Y[s + p, k] = W[r, p] if r >= 0 else out_val[k]
        for q in range(P):
            column = 0 if seeded else q              # seeded: D is (N, m, 1) or (N, 1, n)
            have[:] = False
            if not reverse:
                for j in range(n):
                    if active[q, j]:
                        have[j] = True
                        for p in range(nb):
                            V[j, p] = seeds[s + p, j] if per_point else seeds[q, j]
                for t in range(T):
                    i = n + t
                    for k in range(nargs[t]):
                        j = arg[t, k]
                        if edge[t, k] == 0 or not have[j]:
                            continue
                        if have[i]:
                            for p in range(nb):
                                V[i, p] = V[i, p] + C[t, k, p] * V[j, p]
                        else:
                            have[i] = True
                            for p in range(nb):
                                V[i, p] = C[t, k, p] * V[j, p]
                for k in range(m):
                    r = out[k]
                    if r >= 0 and have[r]:
                        for p in range(nb):
                            D[s + p, k, column] = V[r, p]
            else:
                for k in range(m):
                    r = out[k]
                    if r < 0 or not active[q, k]:
                        continue
                    for p in range(nb):
                        v = seeds[s + p, k] if per_point else seeds[q, k]
                        V[r, p] = v + V[r, p] if have[r] else v
                    have[r] = True
                for t in range(T - 1, -1, -1):
                    i = n + t
                    if not have[i]:
                        continue
                    for k in range(nargs[t] - 1, -1, -1):
                        j = arg[t, k]
                        if edge[t, k] == 0:
                            continue
                        if have[j]:
                            for p in range(nb):
                                V[j, p] = V[j, p] + C[t, k, p] * V[i, p]
                        else:
                            have[j] = True
                            for p in range(nb):
                                V[j, p] = C[t, k, p] * V[i, p]
                for j in range(n):
                    if have[j]:
                        for p in range(nb):
                            D[s + p, column, j] = V[j, p]
    return 0


def block_size(tape: Tape) -> int:
    """Points per block: a power of two from 128 to 1024, the block's arrays within CACHE_BYTES.
    Larger blocks spread the cost of starting each node's loops over more points; past the
    cache they wait for memory (F3, 350 nodes: 64 points 0.21 s, 256 0.145 s, 4096 0.27 s)."""
    per_point = 8 * (2 * (tape.n + len(tape.op)) + 2 * len(tape.op))
    size = 128
    while size < 1024 and 2 * size * per_point <= CACHE_BYTES:
        size *= 2
    return size


def threads(blocks: int, work: int) -> int:
    """How many threads a call uses: one per PARALLEL_WORK of work (nodes × points × passes),
    at most one per block and per core.  Starting a second thread costs little on an idle
    machine, but up to 15 ms on a busy one (the thread waits for a core), more than a small
    call takes."""
    return max(1, min(config.NUMBA_NUM_THREADS, blocks, work // PARALLEL_WORK))  # type: ignore[attr-defined]


def differentiate(graph: Graph, x: Any, mode: str = "auto", seed: Any = None,
                  flagged: np.ndarray | None = None, underflowed: np.ndarray | None = None,
                  tape: Tape | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``ad.differentiate``, compiled: the same y and J (or J·ẋ, ȳᵀJ), ``flagged`` and
    ``underflowed``.  Raises ValueError when ``encode`` cannot encode the graph."""
    X = np.ascontiguousarray(_points(graph, x))
    tape = tape if tape is not None else _encoded(graph)
    if tape is None:
        raise ValueError("the compiled engine has no kernel for a primitive of this function")
    chosen: Mode = choose_mode(graph, mode)
    N, m, n = X.shape[0], graph.m, graph.n
    reverse = chosen == "reverse"
    width = m if reverse else n
    if seed is None:
        seeds, per_point = np.eye(width), False
        D = np.zeros((N, m, n))
    else:
        seeds = np.ascontiguousarray(np.asarray(seed, dtype=float).reshape(-1, width))
        per_point = np.ndim(seed) == 2
        D = np.zeros((N, n if reverse else m))
    active = np.ascontiguousarray((seeds != 0).any(axis=0, keepdims=True) if per_point else seeds != 0)
    y = np.empty((N, m))
    found = np.zeros(N, dtype=bool)
    under = np.zeros(N, dtype=bool)
    if N:
        shaped = D if seed is None else (D[:, None, :] if reverse else D[:, :, None])
        width = block_size(tape)
        numba.set_num_threads(threads(-(-N // width), N * len(tape.check) * max(1, len(seeds))))
        _compiled(X, *tape[1:], reverse, seeds, active, per_point, seed is not None, y, shaped, found, under, width)
    if flagged is not None:
        flagged[...] = found
    if underflowed is not None:
        underflowed[...] = under
    return y, D


# numba's cache is chosen when a dispatcher is made: the private folder, then the default again
_default_cache, config.CACHE_DIR = config.CACHE_DIR, CACHE or config.CACHE_DIR  # type: ignore[attr-defined]
try:
    _compiled = numba.njit(parallel=True, cache=CACHE is not None, **_OPTIONS)(_sweep)
finally:
    config.CACHE_DIR = _default_cache  # type: ignore[attr-defined]
