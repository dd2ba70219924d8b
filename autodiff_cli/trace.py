"""The sweeps written out as in lecture notes: ``adjac ... --trace``.

``build(report, p)`` turns point p of a Report into a ``Trace``, plain data that every
printer (the tables, JSON and LaTeX of ``outputs/``, numeric or symbolic) can
read without touching the engines.  ``assemble`` builds the same rows from any values:
``symbolic.trace`` passes formulas where ``build`` passes numbers.

    Trace                          one point
      graph, mode, point           the function, "forward" | "reverse", x
      w                            w_i at x, for every Wengert variable (0-based i)
      passes: tuple[PassTrace]     one per seed, in the order they ran
      colouring                    None, or the colouring whose colour q pass q seeds (core/colour.py)
    PassTrace                      one sweep
      seed                         x_dot (forward, n entries) or y_bar (reverse, m entries)
      identity                     True when the seed is e_q (a column or row of J), else --seed
      q                            the pass's number, 0-based
      rows: tuple[Row]             sweep order: tape order forward, reverse order backward
    Row                            one tangent ẇ_i (forward) or adjoint w̄_i (reverse)
      node                         i, 0-based (shown as w{i+1})
      seeds                        forward: (j,) when w_i is input x_j; reverse: every k with y_k = w_i
      terms: tuple[Term]           the chain-rule sum, one term per edge
      value                        the derivative at x; 0.0 where it is structurally zero
      zero                         True when structurally zero (no path from the seed)
    Term                           one edge (i, j, k, c) of ad.linearize, c = ∂w_i/∂w_j
      i, j, k                      result, argument, and j's position k in op i's arguments
      c                            the local partial at x
      other                        forward: ẇ_j, reverse: w̄_i, at x (0.0 when structurally zero)

A row reads: forward  ẇ_i = Σ_j c·ẇ_j   (+ ẋ_j for an input),
             reverse  w̄_j = Σ_i w̄_i·c   (+ ȳ_k for an output y_k = w_j).
A node used twice gets two terms (one per edge): fan-out is visible, and ``x1*x1``
reads ẇ2 = w1·ẇ1 + w1·ẇ1.  The model holds no text: ``outputs/notation.py`` writes
a term's rule from Term.i, Term.k and PRIMITIVES[prim].rules[k], for every printer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from .core import ad
from .core.graph import Const, Graph
from .report import Report


class Term(NamedTuple):
    i: int             # the edge's result node
    j: int             # the edge's argument node (j < i)
    k: int             # position of j among op i's arguments: Prim.rules[k] is the rule
    c: float           # ∂w_i/∂w_j at the point
    other: float       # forward ẇ_j, reverse w̄_i (0.0 if structurally zero)


class Row(NamedTuple):
    node: int
    seeds: tuple[int, ...]
    terms: tuple[Term, ...]
    value: float
    zero: bool


class PassTrace(NamedTuple):
    q: int
    seed: tuple[float, ...]
    identity: bool
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Trace:
    graph: Graph
    mode: ad.Mode
    point: tuple[float, ...]
    w: tuple[float, ...]
    passes: tuple[PassTrace, ...]
    colouring: Any = None          # core.colour.Colouring: pass q seeds every column (row) of colour q

    def coloured_entry(self, q: int, node: int) -> tuple[int, int] | None:
        """In a coloured pass q, the entry (k, j) of J that the row of ``node`` gives: the
        one column j of colour q in the pattern of output y_k = w_node (forward), or the
        one row k of colour q in the pattern of column x_node (reverse); None if none."""
        if self.colouring is None:
            return None
        mask, colours = self.colouring.mask, self.colouring.colours
        if self.mode == "forward":
            for k in self.outputs_at(node):
                for j in np.flatnonzero(mask[k]):
                    if colours[j] == q:
                        return k, int(j)
            return None
        if node >= self.graph.n:
            return None
        for row in np.flatnonzero(mask[:, node]):
            if colours[row] == q:
                return int(row), node
        return None

    def outputs_at(self, i: int) -> list[int]:
        """Every k with y_k = w_i."""
        return self._outputs.get(i, [])

    @cached_property
    def _outputs(self) -> dict[int, list[int]]:
        return outputs_by_node(self.graph)


def outputs_by_node(graph: Graph) -> dict[int, list[int]]:
    """{i: every k with y_k = w_i}: an output may repeat a node, or be an input."""
    found: dict[int, list[int]] = {}
    for k, out in enumerate(graph.outputs):
        if not isinstance(out, Const):
            found.setdefault(out, []).append(k)
    return found


# --- building ----------------------------------------------------------------------------
def _at(v: Any, p: int) -> float:
    """Entry p of a per-point array, or the scalar itself."""
    return float(np.ravel(v)[p if np.size(v) > 1 else 0])


def build(report: Report, p: int) -> Trace:
    """The trace of every pass of ``report`` at point p, from the one linearization its
    passes ran on (``compute(..., sweeps=True)`` keeps it)."""
    if not report.edges and report.graph.tape:
        raise ValueError("the report keeps no sweeps: compute it with sweeps=True")
    cs = [_at(c, p) for *_, c in report.edges]
    derivatives = [[None if v is None else _at(v, p) for v in sweep.derivatives] for sweep in report.passes]
    seeds = [tuple(float(s) for s in np.ravel(sweep.seed)) for sweep in report.passes]
    return assemble(report.graph, report.mode, tuple(float(v) for v in report.points[p]),
                    tuple(_at(v, p) for v in report.w), report.edges, cs, seeds, derivatives, report.seed is None,
                    colouring=report.colouring)


def assemble(graph: Graph, mode: ad.Mode, point: tuple[Any, ...], w: tuple[Any, ...], edges: list[ad.Edge],
             cs: list[Any], seeds: list[tuple[float, ...]], derivatives: list[list[Any]], identity: bool,
             zero: Any = 0.0, colouring: Any = None) -> Trace:
    """A Trace from one linearization (w, edges with partials ``cs``) and the passes' derivatives.

    Entries may be numbers (``build``) or formulas (``symbolic.trace``); ``zero`` stands
    for a structural zero (None in ``derivatives``).
    """
    positions = [(i, j, k) for i, j, k, _ in edges]
    outputs = outputs_by_node(graph)
    passes = []
    for q, (seed, d) in enumerate(zip(seeds, derivatives)):
        rows = []
        if mode == "forward":
            by_result: dict[int, list[Term]] = {}
            for (i, j, k), c in zip(positions, cs):
                by_result.setdefault(i, []).append(Term(i, j, k, c, zero if d[j] is None else d[j]))
            for i in range(len(graph)):
                own: tuple[int, ...] = (i,) if i < graph.n else ()
                rows.append(Row(i, own, tuple(by_result.get(i, ())), zero if d[i] is None else d[i], d[i] is None))
        else:
            by_argument: dict[int, list[Term]] = {}
            for (i, j, k), c in zip(positions, cs):
                by_argument.setdefault(j, []).append(Term(i, j, k, c, zero if d[i] is None else d[i]))
            for j in reversed(range(len(graph))):
                own = tuple(outputs.get(j, ()))
                rows.append(Row(j, own, tuple(by_argument.get(j, ())), zero if d[j] is None else d[j], d[j] is None))
        passes.append(PassTrace(q, seed, identity, tuple(rows)))
    return Trace(graph, mode, point, w, tuple(passes), colouring)


# --- second order: forward-over-reverse, written out (--trace with --hessian or --hvp) ---------
class CurvatureTerm(NamedTuple):
    q: int             # the argument node w_q of op i
    s: float           # ∂c_ij/∂w_q at the point
    w_dot: float       # ẇ_q of the pass (0.0 if structurally zero)


class Curvature(NamedTuple):
    """ċ_ij = Σ_q ∂c_ij/∂w_q·ẇ_q of one edge (i, j, k) of the expansion."""

    i: int
    j: int
    k: int
    terms: tuple[CurvatureTerm, ...]
    value: float
    zero: bool


class SecondTerm(NamedTuple):
    """One edge (i, j) of a w̄̇_j row: w̄̇_i·c_ij + w̄_i·ċ_ij."""

    i: int
    k: int
    c: float
    w_bar_dot: float   # w̄̇_i (0.0 if structurally zero)
    w_bar: float       # w̄_i
    c_dot: float       # ċ_ij
    curved: bool       # ċ_ij is not structurally zero


class SecondRow(NamedTuple):
    node: int
    terms: tuple[SecondTerm, ...]
    value: float       # w̄̇_j
    zero: bool


class SecondPassTrace(NamedTuple):
    """One forward-over-reverse pass: the tangents of direction ``b`` (or v), the adjoints of
    output ``k`` (or of the seed ȳ), the ċ of every edge, and w̄̇ row by row."""

    b: int | None          # the direction is e_b (None: --hvp v)
    k: int | None          # the weights are e_k (None: --seed ȳ)
    tangent: Trace         # forward mode, one pass: ẇ
    adjoint: Trace         # reverse mode, one pass: w̄
    curvature: tuple[Curvature, ...]
    rows: tuple[SecondRow, ...]


def build_second(report: Report, p: int) -> list[SecondPassTrace]:
    """Every pass of a second-order report at point p, from one expansion at that point."""
    from .core import second

    graph = report.graph
    X = report.points[p : p + 1]
    expansion = second.expand(graph, X)
    w = tuple(_at(v, 0) for v in expansion.w)
    edges = expansion.edges
    cs = [_at(c, 0) for *_, c in edges]
    point = tuple(float(v) for v in X[0])
    directions = ([(b, np.eye(1, graph.n, b)[0]) for b in range(graph.n)] if report.direction is None
                  else [(None, np.asarray(report.direction, dtype=float))])
    weights = ([(k, np.eye(1, graph.m, k)[0]) for k in range(graph.m)] if report.seed is None
               else [(None, np.asarray(report.seed, dtype=float))])
    value = lambda v: 0.0 if v is None else _at(v, 0)
    found = []
    for b, direction in directions:
        w_dot, c_dot = second.tangents(expansion, direction)
        tangent = assemble(graph, "forward", point, w, edges, cs, [tuple(map(float, direction))],
                           [[None if v is None else _at(v, 0) for v in w_dot]], b is not None)
        tangent = Trace(graph, "forward", point, w, (tangent.passes[0]._replace(q=b or 0),))   # column b of J
        curvature = tuple(
            Curvature(i, j, k, tuple(CurvatureTerm(q, _at(s, 0), value(w_dot[q])) for q, s in pairs),
                      value(c_dot[e]), c_dot[e] is None)
            for e, ((i, j, k, _), pairs) in enumerate(zip(edges, expansion.curvature)) if pairs)
        for k, weight in weights:
            w_bar = second.adjoints(graph, expansion, weight)
            w_bar_dot = second.reverse_tangent_pass(edges, c_dot, w_bar, len(w_bar))
            adjoint = assemble(graph, "reverse", point, w, edges, cs, [tuple(map(float, weight))],
                               [[None if v is None else _at(v, 0) for v in w_bar]], k is not None)
            by_argument: dict[int, list[SecondTerm]] = {}
            for e, (i, j, kk, _) in enumerate(edges):
                if w_bar[i] is None:
                    continue
                by_argument.setdefault(j, []).append(SecondTerm(i, kk, cs[e], value(w_bar_dot[i]), value(w_bar[i]),
                                                                value(c_dot[e]), c_dot[e] is not None))
            rows = tuple(SecondRow(j, tuple(by_argument.get(j, ())), value(w_bar_dot[j]), w_bar_dot[j] is None)
                         for j in reversed(range(len(graph))))
            found.append(SecondPassTrace(b, k, tangent, adjoint, curvature, rows))
    return found
