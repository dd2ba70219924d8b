"""``--check``: the Jacobian three ways (forward mode, reverse mode, central differences), compared.

Per point the check reports the largest absolute and relative disagreement of forward
vs reverse mode and of AD vs differences, and a verdict:

- ``pass``          every entry agrees within the tolerances below;
- ``fail``          some entry disagrees (the command then exits 1);
- ``inconclusive``  nothing disagrees that differences can judge, but some entries
                    cannot be judged by differences: the difference quotient straddles a
                    kink, a pole or a domain edge (abs at 0, sqrt or log near 0, a value
                    that is not finite at x ± h), the quotient's own rounding error
                    exceeds the tolerance, the quotients for steps h and 2h do not settle,
                    y is not smooth on the scale of the step (second differences at h and
                    2h disagree, or AD at the probes x ± h, x ± 2h varies by more than
                    1 %), or y is computed from an intermediate that is inf or nan (an
                    overflow: then AD and differences may agree on a wrong answer).  These
                    entries are named with the reason, never counted as failures.

nan or inf against a number is a disagreement: forward vs reverse always, AD vs
differences wherever the differences are evidence (none of the reasons above).

Tolerances, following established gradient checkers for doubles:

- AD vs differences: |J − D| ≤ atol + rtol·max(|J|, |D|) + noise, with rtol = 1e-5 and
  atol = 1e-7.  torch.autograd.gradcheck uses central differences with eps = 1e-6,
  atol = 1e-5, rtol = 1e-3 for double inputs; jax.test_util.check_grads uses central
  differences with eps = 1e-4 and atol = rtol = 1e-5 for float64.  We are stricter than
  both because the step is scaled to the point and checked for convergence (below), and
  because adjac's functions are scalar formulas, not large tensor programs.  ``noise``
  is the rounding error of the difference quotient itself: each evaluation of y_k is off
  by about ε·Σ_i |∂y_k/∂w_i|·|w_i| (each variable w_i rounded once, propagated by its
  adjoint from the reverse sweep), and the quotient divides twice that by 2h.  Without
  it, ``1e10 + x`` would fail: its differences carry an error of about 1e10·ε/h ≈ 0.4.
- forward vs reverse: both modes multiply the same local partials, only in another
  order, so they differ by rounding alone: |J_fwd − J_rev| ≤ 4·ε·size·|J|_abs, where size
  is the number of Wengert variables plus edges and |J|_abs is the Jacobian swept with
  absolute partials (|c|), the usual bound for sums of products of that length.

The step: h_j = ε^(1/3)·max(1, |x_j|) ≈ 6.1e-6·max(1, |x_j|), rounded so that x_j ± h_j
is exact.  Central differences have truncation error h²·|f'''|/6 and rounding error about
ε·|f|/h; their sum is smallest at h ∝ ε^(1/3), with a total error of about ε^(2/3) ≈ 4e-11
relative, well inside rtol.  Scaling by max(1, |x_j|) keeps the step relative for large
inputs (a fixed 1e-6 added to 1e12 is lost to rounding) and absolute near 0.  A second
quotient with step 2h gives a Richardson estimate (4·D_h − D_2h)/3, accurate to O(h⁴): an
entry agrees if AD matches either estimate; when neither matches, |D_h − D_2h| tells a
truncation problem (steep function, kink within 2h) from a real disagreement.

Everything is vectorized over the points: the probes x ± h·e_j, x ± 2h·e_j of all points
are evaluated together, in chunks that bound memory, and the sweeps take blocks of seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .core import ad
from .core.graph import Const, Graph, format_number
from .core.primitives import PRIMITIVES

EPS = float(np.finfo(float).eps)
RTOL = 1e-5
ATOL = 1e-7
ULPS = 4
STEP = EPS ** (1 / 3)                     # ≈ 6.06e-6, the optimal step for central differences
OFFSETS = (1.0, -1.0, 2.0, -2.0)          # probes x + s·h·e_j
BUDGET = 1 << 22                          # float64 values held at once while probing (32 MB)


OK, FAIL, UNVERIFIED = 0, 1, 2


class _Verdicts:
    """PASS, FAIL or INCONCLUSIVE per point, from ``status`` (OK, FAIL or UNVERIFIED per entry)."""

    status: np.ndarray

    @property
    def failed(self) -> bool:
        return bool((self.status == FAIL).any())

    def verdict(self, p: int) -> str:
        status = self.status[p]
        return "fail" if (status == FAIL).any() else "inconclusive" if (status == UNVERIFIED).any() else "pass"


@dataclass
class Check(_Verdicts):
    """The three Jacobians at every point, and how well they agree.  Arrays are (N, m, n)."""

    graph: Graph
    points: np.ndarray                    # (N, n)
    step: np.ndarray                      # (N, n) the h_j actually used
    forward: np.ndarray
    reverse: np.ndarray
    differences: np.ndarray               # central differences with step h
    fr_error: np.ndarray                  # |J_fwd − J_rev| (0 where both are the same non-finite)
    fr_ok: np.ndarray                     # within rounding: ULPS·ε·size·|J|_abs
    fd_error: np.ndarray                  # |J − D| against the better difference estimate
    fd_tolerance: np.ndarray
    status: np.ndarray                    # OK, FAIL or UNVERIFIED, per entry
    size: int = 0                         # variables + edges: how many roundings a path can see
    reasons: dict[tuple[int, int, int], str] = field(default_factory=dict)   # (p, k, j) -> why

    def summary(self, p: int) -> dict[str, Any]:
        """The largest disagreements at point p, over entries where both sides are finite."""
        judged = self.status[p] != UNVERIFIED
        fr = _largest(self.fr_error[p], self.forward[p], self.reverse[p], np.ones_like(judged))
        fd = _largest(self.fd_error[p], self.forward[p], self.differences[p], judged)
        return {"forward_vs_reverse": fr, "ad_vs_differences": fd}


def _largest(error: np.ndarray, a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(max abs, max rel) of error where mask holds and error is finite; rel = err/max(|a|, |b|)."""
    keep = mask & np.isfinite(error)
    if not keep.any():
        return 0.0, 0.0
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(all="ignore"):
        rel = np.where(error == 0, 0.0, error / scale)
    rel = np.where(np.isfinite(rel), rel, np.inf)
    return float(error[keep].max()), float(rel[keep].max())


def check(graph: Graph, points: Any) -> Check:
    """Compare forward mode, reverse mode and central differences at every point."""
    X = np.atleast_2d(np.asarray(points, dtype=float))
    N, n, m = X.shape[0], graph.n, graph.m
    w, edges = ad.linearize(graph, X)
    J_fwd = _forward(graph, w, edges, N)
    J_rev, noise = _reverse(graph, w, edges, N)
    J_abs = _absolute(graph, w, edges, N)
    size = len(graph) + len(edges)

    with np.errstate(all="ignore"):
        # forward vs reverse: rounding only; non-finite on both sides agrees (inf in one order,
        # nan in the other is no number either way: the run prints nan in both modes)
        same = (J_fwd == J_rev) | (~np.isfinite(J_fwd) & ~np.isfinite(J_rev))
        fr_error = np.where(same, 0.0, np.abs(J_fwd - J_rev))
        fr_error = np.where(np.isnan(fr_error), np.inf, fr_error)
        fr_tolerance = ULPS * EPS * size * J_abs
        fr_ok = (fr_error == 0) | (fr_error <= fr_tolerance)

        # central differences with steps h and 2h, exact steps: h = (x + h) − x
        h = (X + STEP * np.maximum(1.0, np.abs(X))) - X                    # (N, n)
        Y, first_bad, kinks = _probe(graph, X, h, w)                         # Y: (N, n, 4, m)
        D1 = (Y[:, :, 0] - Y[:, :, 1]) / (2 * h[:, :, None])                # (N, n, m)
        D2 = (Y[:, :, 2] - Y[:, :, 3]) / (4 * h[:, :, None])
        D1, D2 = D1.transpose(0, 2, 1), D2.transpose(0, 2, 1)                # (N, m, n)
        richardson = (4 * D1 - D2) / 3
        fd_noise = 2 * noise[:, :, None] / h[:, None, :]                   # rounding error of D
        fd_tolerance = ATOL + RTOL * np.maximum(np.abs(J_fwd), np.abs(D1))
        fd_error = np.fmin(np.maximum(np.abs(J_fwd - D1), np.abs(J_rev - D1)),
                           np.maximum(np.abs(J_fwd - richardson), np.abs(J_rev - richardson)))
        fd_ok = (fd_error <= fd_tolerance) & np.isfinite(J_fwd) & np.isfinite(J_rev)
        noisy = fd_error <= fd_tolerance + fd_noise
        spread = np.abs(D1 - D2)                                             # ≈ 3× the truncation error of D1
        unsettled = (spread > fd_tolerance) & (fd_error <= 3 * spread + fd_tolerance + fd_noise)
        # second differences s2 ≈ h²f'' and S2 ≈ 4h²f'' + O(h⁴): on a function that is smooth on
        # the scale of h they match to O(h²f''''/f''); a mismatch of 1 % means f varies within a few
        # steps (sin(x) at x = 1e15, where h ≈ 6e9), so that D is no evidence either way
        y = ad.outputs_of(graph, w, N)[:, None, :]
        s2, S2 = Y[:, :, 0] + Y[:, :, 1] - 2 * y, Y[:, :, 2] + Y[:, :, 3] - 2 * y
        mismatch = np.abs(S2 - 4 * s2)
        rough = (mismatch > 0.01 * np.maximum(np.abs(S2), 4 * np.abs(s2))) & (mismatch > 20 * noise[:, None, :])
        rough = rough.transpose(0, 2, 1)

    ad_finite = np.isfinite(J_fwd) & np.isfinite(J_rev)
    probes_finite = np.isfinite(Y).all(axis=2).transpose(0, 2, 1) & np.isfinite(D1) & np.isfinite(D2)
    kinked = kinks[:, None, :] >= 0
    status = np.full((N, m, n), OK, dtype=np.int8)
    status[~fd_ok] = FAIL
    # AD that is inf or nan where differences settle on a number is a disagreement, not an
    # excuse; it is not verified only where the differences are no evidence either.
    unverified = ~fd_ok & (~probes_finite | kinked | noisy | unsettled | rough)
    status[unverified] = UNVERIFIED
    status[~fr_ok] = FAIL
    # An intermediate that is inf or nan (exp(800) in exp(x)/sqrt(1 + exp(2*x)) at 400) may
    # still give finite outputs; computed from it, AD and differences agree on a wrong answer.
    origin, tainted = _nonfinite_intermediates(graph, w, N)
    hidden = tainted & fr_ok
    status[hidden] = UNVERIFIED
    # Last excuse, only for entries that would fail: AD itself at the probes.  If ∂y_k/∂x_j
    # changes by more than 1 % between x − 2h and x + 2h, y_k is not smooth on the scale of
    # the step (sin(sinh(x)) at x = 36 oscillates every 1e-15), and differences are no evidence.
    wild = np.zeros((N, m, n), dtype=bool)
    suspects = sorted({(int(p), int(j)) for p, _, j in zip(*np.nonzero((status == FAIL) & fr_ok & ad_finite))})
    if suspects:
        J_probe = _directional(graph, X, h, suspects)                      # (len(suspects), 4, m)
        for (p, j), Jp in zip(suspects, J_probe):
            J0 = J_fwd[p, :, j]
            with np.errstate(all="ignore"):
                change = np.abs(Jp - J0).max(axis=0)
                scale = np.maximum(np.abs(J0), np.abs(Jp).max(axis=0))
            wild[p, :, j] = ~(change <= 0.01 * scale + ATOL)
        wild &= status == FAIL
        status[wild] = UNVERIFIED

    result = Check(graph, X, h, J_fwd, J_rev, D1, fr_error, fr_ok, fd_error, fd_tolerance, status, size=size)
    for p, k, j in zip(*np.nonzero(status != OK)):
        p, k, j = int(p), int(k), int(j)
        if not fr_ok[p, k, j]:
            why = (f"forward mode gives {_num(J_fwd[p, k, j])}, reverse mode {_num(J_rev[p, k, j])}: "
                   f"they differ by more than rounding ({_num(fr_tolerance[p, k, j], 3)})")
        elif hidden[p, k, j]:
            i = int(origin[p])
            why = (f"{graph.source(i)} is {_num(w[i][p])} here, and y{k + 1} is computed from it: "
                   "AD and differences cannot be trusted")
        elif not probes_finite[p, k, j]:
            why = _edge_text(graph, X, h, first_bad, p, k, j)
        elif kinks[p, j] >= 0:
            i = int(kinks[p, j])
            where = _edge(graph.tape[i - graph.n].prim)[1]
            why = (f"the steps {graph.inputs[j]} ± 2h cross {where} {graph.source(i)}, "
                   "where differences do not measure the derivative")
        elif noisy[p, k, j]:
            why = (f"rounding: the differences are only good to about {_num(fd_noise[p, k, j], 3)} here "
                   f"(y{k + 1} is computed from values much larger than its slope), "
                   f"and AD and differences differ by {_num(fd_error[p, k, j], 3)}")
        elif unsettled[p, k, j]:
            why = (f"the differences with steps h and 2h disagree by {_num(spread[p, k, j], 3)}: "
                   f"the function changes too fast within 2h = {_num(2 * h[p, j], 3)} of the point")
        elif wild[p, k, j]:
            why = (f"the derivative itself changes by more than 1 % between {graph.inputs[j]} ± 2h "
                   f"(2h = {_num(2 * h[p, j], 3)}): y{k + 1} is not smooth on the scale of the step")
        elif rough[p, k, j]:
            why = (f"y{k + 1} is not smooth on the scale of the step h = {_num(h[p, j], 3)} "
                   "(its second differences at h and 2h do not match): differences cannot resolve it")
        elif not ad_finite[p, k, j]:
            why = (f"AD gives {_num(J_fwd[p, k, j])}, central differences settle on {_num(D1[p, k, j])}: "
                   "a derivative that is not finite where the differences are is a disagreement")
        else:
            why = (f"AD gives {_num(J_fwd[p, k, j])}, central differences {_num(D1[p, k, j])} "
                   f"(allowed difference {_num(fd_tolerance[p, k, j], 3)})")
        result.reasons[p, k, j] = why
    return result


def _nonfinite_intermediates(graph: Graph, w: list[Any], N: int) -> tuple[np.ndarray, np.ndarray]:
    """Per point, the first variable that is inf or nan although its arguments are finite
    (-1: none); and (N, m, 1): whether y_k is computed from such a variable."""
    origin = np.full(N, -1, dtype=np.int64)
    bad = [~np.isfinite(np.broadcast_to(v, (N,))) for v in w]
    reached = list(bad)
    for i, op in enumerate(graph.tape, start=graph.n):
        inherited = np.zeros(N, dtype=bool)
        for a in op.args:
            if not isinstance(a, Const):
                inherited |= reached[a]
        new = bad[i] & ~inherited & (origin < 0)
        origin[new] = i
        reached[i] = bad[i] | inherited
    tainted = np.zeros((N, graph.m, 1), dtype=bool)
    for k, out in enumerate(graph.outputs):
        if not isinstance(out, Const):
            tainted[:, k, 0] = reached[out] & (origin >= 0)
    return origin, tainted


def _num(v: float, digits: int = 17) -> str:
    return format_number(float(v), digits)


def _edge_text(graph: Graph, X: np.ndarray, h: np.ndarray, first_bad: dict[tuple[int, int], tuple[int, int]],
               p: int, k: int, j: int) -> str:
    name = graph.inputs[j]
    found = first_bad.get((p, j))
    if found is None:
        return f"y{k + 1} is not finite at {name} ± h or ± 2h: the difference quotient crosses a domain edge"
    i, s = found
    at = X[p, j] + OFFSETS[s] * h[p, j]
    sign = "+" if OFFSETS[s] > 0 else "−"
    steps = "h" if abs(OFFSETS[s]) == 1 else "2h"
    what = graph.source(i) if i >= graph.n else name
    return (f"{what} is not finite at {name} {sign} {steps} = {_num(at, 6)}: "
            "the difference quotient crosses the edge of its domain")


# --- sweeps, one pass per seed as in ad.differentiate ----------------------------------------------
def _forward(graph: Graph, w: list[Any], edges: list[ad.Edge], N: int) -> np.ndarray:
    """J by forward mode, one pass per input: ẇ_i += c·ẇ_j from the seed ẋ_j = 1.

    Unit seeds of their own, not a block of one-hot rows: the other inputs are then
    structural zeros, as in the run that printed J, not computed zeros that turn
    0·inf into nan."""
    J = np.zeros((N, graph.m, graph.n))
    for j in range(graph.n):
        w_dot = ad.forward_pass(edges, len(w), {j: np.float64(1.0)})
        J[:, :, j] = ad.gather(w_dot, graph.outputs, N)
    return J


def _reverse(graph: Graph, w: list[Any], edges: list[ad.Edge], N: int) -> tuple[np.ndarray, np.ndarray]:
    """J by reverse mode, one pass per output; and the rounding noise of each y_k.

    noise[p, k] = ε·Σ_i |w̄_i|·|w_i| over the computed variables: each is rounded once,
    and its adjoint w̄_i = ∂y_k/∂w_i carries that error to y_k.
    """
    J = np.zeros((N, graph.m, graph.n))
    noise = np.zeros((N, graph.m))
    size = len(w)
    for k in range(graph.m):
        w_bar = ad.reverse_pass(edges, size, ad.output_adjoints(graph, {k: np.float64(1.0)}))
        J[:, k, :] = ad.gather(w_bar, range(graph.n), N)
        with np.errstate(all="ignore"):
            for i in range(graph.n, size):
                if w_bar[i] is not None:
                    term = np.abs(w_bar[i] * w[i])
                    noise[:, k] += np.where(np.isfinite(term), term, 0.0)
    return J, EPS * noise


def _absolute(graph: Graph, w: list[Any], edges: list[ad.Edge], N: int) -> np.ndarray:
    """|J|_abs: the Jacobian swept with |c| on every edge, the scale of its rounding error."""
    positive = [(i, j, k, abs(c) if c.__class__ is float else np.abs(c)) for i, j, k, c in edges]   # 0.0 stays structural
    if graph.n <= graph.m:
        return _forward(graph, w, positive, N)
    return _reverse(graph, w, positive, N)[0]


def _directional(graph: Graph, X: np.ndarray, h: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """∂y/∂x_j by forward mode at the four probes x + s·h_j·e_j of each (point, input) pair.

    One forward pass per input j serves the probes of that j.
    Returns (len(pairs), 4, m).
    """
    p = np.repeat([p for p, _ in pairs], len(OFFSETS))
    j = np.repeat([j for _, j in pairs], len(OFFSETS))
    s = np.tile(np.asarray(OFFSETS), len(pairs))
    P = X[p].copy()
    P[np.arange(len(p)), j] += s * h[p, j]
    out = np.empty((len(p), graph.m))
    chunk = max(4, BUDGET // (3 * max(len(graph), 1)))                  # values and partials
    for start in range(0, len(p), chunk):
        rows = np.arange(start, min(start + chunk, len(p)))
        w, edges = ad.linearize(graph, P[rows])
        for q in np.unique(j[rows]):                                     # a unit seed per input
            w_dot = ad.forward_pass(edges, len(w), {int(q): np.float64(1.0)})
            mine = j[rows] == q
            out[rows[mine]] = ad.gather(w_dot, graph.outputs, len(rows))[mine]
    return out.reshape(len(pairs), len(OFFSETS), graph.m)


# --- probing x ± h, x ± 2h ---------------------------------------------------------------------
def _probe(graph: Graph, X: np.ndarray, h: np.ndarray, w: list[Any]
           ) -> tuple[np.ndarray, dict[tuple[int, int], tuple[int, int]], np.ndarray]:
    """y at every probe x + s·h_j·e_j, (N, n, 4, m); where values stop being finite; kinks crossed.

    Returns Y, ``first_bad`` {(p, j): (first variable not finite at a probe although finite
    at x, which offset)}, and ``kinks`` (N, n): a variable whose argument crosses a kink or
    domain edge of its primitive between x and a probe, or -1.
    """
    N, n, m = X.shape[0], graph.n, graph.m
    size = len(graph)
    rows = N * n * len(OFFSETS)
    Y = np.empty((rows, m))
    first_bad: dict[tuple[int, int], tuple[int, int]] = {}
    kinks = np.full((N, n), -1, dtype=np.int64)
    singular = [(i, op) for i, op in enumerate(graph.tape, start=graph.n) if PRIMITIVES[op.prim].edge is not None
                and any(not isinstance(a, Const) for a in op.args)]
    chunk = max(16, BUDGET // max(size, 1))
    offsets = np.asarray(OFFSETS)
    with np.errstate(all="ignore"):
        for start in range(0, rows, chunk):
            r = np.arange(start, min(start + chunk, rows))
            p, j, s = r // (n * 4), (r // 4) % n, r % 4
            P = X[p].copy()
            P[np.arange(len(r)), j] += offsets[s] * h[p, j]
            v = ad.evaluate(graph, P)
            Y[r] = ad.outputs_of(graph, v, len(r))
            for i, op in singular:                             # a probe across a kink, pole or edge?
                g = _edge(op.prim)[0]
                here = np.sign(g(*(a.value if isinstance(a, Const) else w[a][p] for a in op.args)))
                there = np.sign(g(*(a.value if isinstance(a, Const) else v[a] for a in op.args)))
                crossed = (here != there) & ~np.isnan(here) & ~np.isnan(there) & (kinks[p, j] < 0)   # nan: no edge near
                kinks[p[crossed], j[crossed]] = i
            if not np.isfinite(Y[r]).all():
                found = np.zeros(len(r), dtype=bool)               # each probe: its first such variable
                for i in range(size):
                    lost = ~np.isfinite(v[i]) & np.isfinite(w[i][p]) & ~found
                    found |= lost
                    for q in np.flatnonzero(lost):
                        first_bad.setdefault((int(p[q]), int(j[q])), (i, int(s[q])))
    return Y.reshape(N, n, len(OFFSETS), m), first_bad, kinks


def _edge(prim: str) -> tuple[Any, str]:
    edge = PRIMITIVES[prim].edge
    assert edge is not None
    return edge


# --- second order: H against central differences of the AD gradient ---------------------------
@dataclass
class HessianCheck(_Verdicts):
    """--check with --hessian: H (N, m, n, n) against central differences of the AD gradient,
    and its symmetry.  An entry is UNVERIFIED where the difference quotients at h and 2h do
    not agree with each other (a kink or pole in the probe), as for J."""

    graph: Graph
    points: np.ndarray                    # (N, n)
    hessian: np.ndarray                   # (N, m, n, n), from the sweeps
    differences: np.ndarray               # (N, m, n, n): column b is (∇y_k(x + h e_b) − ∇y_k(x − h e_b)) / 2h
    error: np.ndarray                     # |H − D|
    tolerance: np.ndarray
    asymmetry: np.ndarray                 # |H − Hᵀ|
    symmetry_tolerance: np.ndarray
    status: np.ndarray                    # OK, FAIL or UNVERIFIED, per entry
    order: int = 2

    def summary(self, p: int) -> dict[str, Any]:
        judged = self.status[p] != UNVERIFIED
        fd = _largest(self.error[p], self.hessian[p], self.differences[p], judged)
        sym = _largest(self.asymmetry[p], self.hessian[p], np.swapaxes(self.hessian[p], -1, -2),
                       np.ones_like(judged))
        return {"ad_vs_differences": fd, "symmetry": sym}


def check_hessian(graph: Graph, points: Any, H: np.ndarray) -> HessianCheck:
    """Compare each output's Hessian H (N, m, n, n) with central differences of the AD gradient
    (reverse mode) at steps h and 2h, h = ε^(1/3)·max(1, |x_b|), and check H = Hᵀ to rounding."""
    X = np.atleast_2d(np.asarray(points, dtype=float))
    n = X.shape[1]
    h = STEP * np.maximum(1.0, np.abs(X))
    D1 = np.empty_like(H)
    D2 = np.empty_like(H)
    noise = np.zeros_like(H)                 # rounding of the difference quotients: ε·|∇y|/h
    with np.errstate(all="ignore"):
        for b in range(n):
            steps = []
            for s in (1.0, -1.0, 2.0, -2.0):
                P = X.copy()
                P[:, b] += s * h[:, b]
                steps.append(ad.differentiate(graph, P, "reverse")[1])        # (N, m, n)
            D1[..., b] = (steps[0] - steps[1]) / (2 * h[:, b, None, None])
            D2[..., b] = (steps[2] - steps[3]) / (4 * h[:, b, None, None])
            noise[..., b] = 4 * EPS * np.max(np.abs(np.stack(steps)), axis=0) / h[:, b, None, None]
        error = np.abs(H - D1)
        scale = np.maximum(np.abs(H), np.abs(D1))
        tolerance = RTOL * scale + ATOL + noise
        settled = np.abs(D1 - D2) <= 4 * tolerance + 1e-6 * np.abs(D1)      # Richardson: h and 2h agree
        asymmetry = np.abs(H - np.swapaxes(H, -1, -2))
        size = len(graph) + sum(len(op.args) for op in graph.tape)
        symmetry_tolerance = 8 * ULPS * EPS * size * np.maximum(np.abs(H), np.abs(np.swapaxes(H, -1, -2))) + 1e-300
    finite = np.isfinite(H) & np.isfinite(D1)
    status = np.full(H.shape, OK)
    status[~finite | (~settled & (error > tolerance))] = UNVERIFIED
    status[finite & settled & (error > tolerance)] = FAIL
    status[np.isfinite(asymmetry) & (asymmetry > symmetry_tolerance)] = FAIL
    both_nonfinite = ~np.isfinite(H) & ~np.isfinite(D1)
    status[both_nonfinite] = UNVERIFIED
    return HessianCheck(graph, X, H, D1, error, tolerance, asymmetry, symmetry_tolerance, status)
