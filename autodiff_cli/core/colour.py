"""Compressed Jacobians: structurally orthogonal columns (or rows) share one pass.

Curtis, Powell and Reid (1974): two columns of J are *structurally orthogonal* when no
row can be nonzero in both.  Colour the columns so that no two of one colour share a row
(a partial distance-2 colouring of the bipartite graph of rows and columns, in ColPack's
terms), and let S (n × p) hold S[j, c] = 1 when column j has colour c.  One forward pass
per column of S gives B = J·S (m × p), and J is read off it directly:

    J[k, j] = B[k, colour(j)]          for every (k, j) that can be nonzero

since in row k the one column of colour(j) that can be nonzero is j itself.  Reverse mode
colours the rows alike (no two of one colour share a column): W (m × q), Wᵀ·J (q × n),
J[k, j] = (Wᵀ·J)[colour(k), j].

The recovered J is the uncompressed one bit for bit, not merely close: in a pass seeded
with the inputs of one colour, a node that reaches output y_k depends on one input of that
colour at most (another would make y_k depend on two), so its tangent sums exactly the
terms the pass seeded with e_j alone sums, in the same order, and the others stay
structurally zero.  Reverse mode likewise, with the adjoints of the outputs.

The colouring is greedy: columns are taken in some order, and each gets the smallest
colour none of its distance-2 neighbours (columns sharing a row with it) has.  The order
matters; as ColPack offers, three are tried (largest-first: most neighbours first;
smallest-last: the reverse of repeatedly removing the column with fewest neighbours left;
natural: 0 … n−1), and the fewest colours win; they are then numbered in the order of
their first column, so that pass 1 seeds x1.  No colouring needs fewer colours than
the most nonzeros in one row (the lower bound ρ), so the search stops when one meets it.
Bidirectional (star bi-)colouring, which would compress an arrowhead to 3 passes, is not
implemented: an arrowhead has a dense row and a dense column, so it takes min(n, m) passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from .graph import Graph

Direction = Literal["forward", "reverse"]
MODES = ("auto", "forward", "reverse", "forward-coloured", "reverse-coloured")
ORDERS = ("largest-first", "smallest-last", "natural")

# The greedy colouring looks at every pair of columns that share a row: Σ_k nnz(row k)².
# Past this many (a few seconds of Python), auto does not compress, and the coloured modes refuse.
BUDGET = 20_000_000
SMALLEST_LAST_LIMIT = 5_000        # columns: smallest-last is O(n²) here; past this, the other two orders


class TooLarge(ValueError):
    """The pattern has too many pairs of columns (rows) that share a row (column) to colour."""


@dataclass(frozen=True, eq=False)
class Colouring:
    """A colouring of the columns (forward) or rows (reverse) of J's sparsity pattern
    (compared by identity: it holds the pattern, an array)."""

    mode: Direction                # "forward": the columns (inputs) are coloured; "reverse": the rows (outputs)
    colours: tuple[int, ...]       # colour of column j (forward) or row k (reverse), 0-based
    mask: np.ndarray               # (m, n) bool: the pattern it colours (entries that can be nonzero)
    order: str                     # the vertex order that gave it: one of ORDERS

    @property
    def count(self) -> int:
        """p (forward) or q (reverse): the passes."""
        return max(self.colours, default=-1) + 1

    @property
    def size(self) -> int:
        """How many columns (forward) or rows (reverse) were coloured."""
        return len(self.colours)

    def members(self, c: int) -> list[int]:
        """The columns (rows) of colour c, in order."""
        return [j for j, colour in enumerate(self.colours) if colour == c]

    def seeds(self) -> np.ndarray:
        """S (n × p) or W (m × q): column c is the seed of pass c, a 1 for each member of colour c."""
        S = np.zeros((self.size, self.count))
        S[np.arange(self.size), list(self.colours)] = 1.0
        return S

    @cached_property
    def cells(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """For each colour c, the entries (k, j) of J that pass c gives: the nonzeros of the
        pattern whose column (forward) or row (reverse) has colour c."""
        rows, cols = np.nonzero(self.mask)
        colour = np.asarray(self.colours, dtype=np.intp)
        which = colour[cols] if self.mode == "forward" else colour[rows]
        return tuple((rows[which == c], cols[which == c]) for c in range(self.count))

    def source(self, c: int, index: int) -> int | None:
        """Which entry of J element ``index`` of compressed pass c is: forward, the column j of
        colour c in row k = ``index``; reverse, the row k of colour c in column j = ``index``
        (None: no such entry, the element is structurally zero)."""
        line = self.mask[index] if self.mode == "forward" else self.mask[:, index]
        for other in np.flatnonzero(line):
            if self.colours[other] == c:
                return int(other)
        return None

    def recover(self, B: np.ndarray) -> np.ndarray:
        """J (N, m, n) from the compressed B: J·S (N, m, p) forward, Wᵀ·J (N, q, n) reverse.
        Each nonzero is read from one place: B[k, colour(j)] or B[colour(k), j]."""
        m, n = self.mask.shape
        J = np.zeros((B.shape[0], m, n))
        for c, (ks, js) in enumerate(self.cells):
            J[:, ks, js] = B[:, ks, c] if self.mode == "forward" else B[:, c, js]
        return J

    def describe(self) -> str:
        """'50 columns in 3 colours' or '4 rows in 2 colours'."""
        what = "column" if self.mode == "forward" else "row"
        return (f"{self.size} {what}{'s' if self.size != 1 else ''} in "
                f"{self.count} colour{'s' if self.count != 1 else ''}")


# --- colouring ------------------------------------------------------------------------------
def work(mask: np.ndarray) -> int:
    """Σ_k nnz(row k)²: the pairs the greedy colouring of the columns looks at."""
    per_row = np.count_nonzero(mask, axis=1).astype(np.int64)
    return int(np.dot(per_row, per_row))


def max_row(mask: Any) -> int:
    """ρ, the most entries one row can have nonzero: no colouring of the columns has fewer colours."""
    return int(np.count_nonzero(np.asarray(mask, dtype=bool), axis=1).max(initial=0))


def columns(mask: Any, orders: tuple[str, ...] = ORDERS) -> tuple[np.ndarray, str]:
    """A colouring of the columns of ``mask`` (m × n bool) in which no two columns of one
    colour share a row, and the order that gave it: the fewest colours over ``orders``
    (the first of them on a tie).  Raises TooLarge past BUDGET."""
    mask = np.asarray(mask, dtype=bool)
    n = mask.shape[1]
    bound = max_row(mask)                               # ρ: the columns of a row all differ
    if bound == n:                                      # a dense row: every column its own colour
        return np.arange(n, dtype=np.intp), orders[0]
    if work(mask) > BUDGET:
        raise TooLarge(f"the sparsity pattern has {work(mask):,} pairs of entries that share a row "
                       f"(at most {BUDGET:,} are coloured)")
    neighbours = _neighbours(mask)
    best: tuple[np.ndarray, str] | None = None
    for order in orders:
        if order == "smallest-last" and n > SMALLEST_LAST_LIMIT:
            continue
        colour = _greedy(neighbours, _sequence(neighbours, order))
        if best is None or colour.max(initial=-1) < best[0].max(initial=-1):
            best = (colour, order)
        if best[0].max(initial=-1) + 1 <= max(bound, 1):  # meets the lower bound: optimal
            break
    assert best is not None
    return _first_seen(best[0]), best[1]


def _first_seen(colour: np.ndarray) -> np.ndarray:
    """The same classes, numbered in order of their first column: column 0 has colour 0,
    the next column of another colour has colour 1, and so on (passes in input order)."""
    _, first, inverse = np.unique(colour, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def rows(mask: Any, orders: tuple[str, ...] = ORDERS) -> tuple[np.ndarray, str]:
    """A colouring of the rows of ``mask`` in which no two rows of one colour share a column."""
    return columns(np.asarray(mask, dtype=bool).T, orders)


def colouring(graph_or_mask: Graph | np.ndarray, mode: Direction) -> Colouring:
    """The colouring of J's columns (forward) or rows (reverse), from the exact pattern
    ``Graph.mask`` (or a given mask)."""
    mask = graph_or_mask if isinstance(graph_or_mask, np.ndarray) else graph_or_mask.mask
    colour, order = columns(mask) if mode == "forward" else rows(mask)
    return Colouring(mode, tuple(int(c) for c in colour), mask, order)


def valid(mask: Any, colours: Any, mode: Direction = "forward") -> bool:
    """Whether no two columns (rows) of one colour can be nonzero in the same row (column)."""
    mask = np.asarray(mask, dtype=bool)
    if mode == "reverse":
        mask = mask.T
    colours = np.asarray(colours, dtype=np.intp)
    for c in np.unique(colours):
        if (np.count_nonzero(mask[:, colours == c], axis=1) > 1).any():
            return False
    return True


def _neighbours(mask: np.ndarray) -> list[np.ndarray]:
    """For each column j, the other columns that share a row with it (distance-2 neighbours
    in the bipartite graph), sorted."""
    m, n = mask.shape
    ks, js = np.nonzero(mask)                                          # row-major: by row
    cols_of_row = np.split(js, np.cumsum(np.bincount(ks, minlength=m))[:-1])
    by_col = np.argsort(js, kind="stable")
    rows_of_col = np.split(ks[by_col], np.cumsum(np.bincount(js, minlength=n))[:-1])
    found = []
    for j in range(n):
        if rows_of_col[j].size == 0:
            found.append(np.zeros(0, dtype=np.intp))
            continue
        near = np.unique(np.concatenate([cols_of_row[k] for k in rows_of_col[j]]))
        found.append(near[near != j])
    return found


def _sequence(neighbours: list[np.ndarray], order: str) -> list[int]:
    """The order in which the greedy colouring takes the columns."""
    n = len(neighbours)
    degree = np.array([len(a) for a in neighbours], dtype=np.int64)
    if order == "natural":
        return list(range(n))
    if order == "largest-first":
        return [int(j) for j in np.argsort(-degree, kind="stable")]
    if order == "smallest-last":
        left = degree.copy()
        removed = np.zeros(n, dtype=bool)
        taken = []
        for _ in range(n):
            j = int(np.argmin(np.where(removed, n + 1, left)))          # fewest neighbours left
            taken.append(j)
            removed[j] = True
            left[neighbours[j]] -= 1
        return taken[::-1]
    raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")


def _greedy(neighbours: list[np.ndarray], sequence: list[int]) -> np.ndarray:
    """Each column in turn gets the smallest colour that none of its neighbours has."""
    n = len(neighbours)
    colour = np.full(n, -1, dtype=np.intp)
    forbidden = np.full(n + 1, -1, dtype=np.intp)      # forbidden[c] == j: c is taken near j; slot n for -1
    for j in sequence:
        forbidden[colour[neighbours[j]]] = j
        c = 0
        while forbidden[c] == j:
            c += 1
        colour[j] = c
    return colour


# --- which passes ---------------------------------------------------------------------------
def plan(graph: Graph, mode: str) -> tuple[Direction, Colouring | None]:
    """The passes for a whole Jacobian: the direction, and the colouring to compress them
    with (None: one pass per input or output).

    ``forward`` and ``reverse`` are never compressed; ``forward-coloured`` and
    ``reverse-coloured`` always are (raising TooLarge if the pattern cannot be coloured);
    ``auto`` takes the fewest passes among n (forward), m (reverse), p and q (coloured),
    in that order on a tie, so compression is chosen only where it saves a pass.
    """
    if mode in ("forward", "reverse"):
        return mode, None  # type: ignore[return-value]
    if mode in ("forward-coloured", "reverse-coloured"):
        direction: Direction = "forward" if mode == "forward-coloured" else "reverse"
        return direction, colouring(graph, direction)
    if mode != "auto":
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    n, m = graph.n, graph.m
    best: tuple[int, Direction, Colouring | None] = (n, "forward", None) if n <= m else (m, "reverse", None)
    mask = graph.mask
    for direction, side in (("forward", mask), ("reverse", mask.T)):
        if max(max_row(side), 1) >= best[0] or work(side) > BUDGET:
            continue
        found = colouring(graph, direction)  # type: ignore[arg-type]
        if found.count < best[0]:
            best = (found.count, direction, found)  # type: ignore[assignment]
    return best[1], best[2]
