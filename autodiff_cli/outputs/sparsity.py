"""``--sparsity``: the pattern of J as a spy plot in the terminal, with the colourings.

One mark per entry (● can be nonzero, · always 0; # and . in ASCII), the colour of each
column (forward) under the plot and of each row (reverse) beside it, and which passes
``--mode auto`` takes.  Past the terminal's width each mark stands for a block of entries
(● if one of them can be nonzero) and the colours are left out; json carries them all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.colour import Colouring
from ..core.graph import Graph

DIGITS = "123456789abcdefghijklmnopqrstuvwxyz"     # colour marks, 1-based: colour 10 is 'a'
MAX_ROWS = 60                                      # lines of plot before rows are grouped in blocks


def mark(c: int) -> str:
    """The one-character mark of colour c (0-based): '1' ... '9', 'a' ... 'z'."""
    return DIGITS[c] if c < len(DIGITS) else "+"


def summary(colouring: Colouring | None, problem: str | None, direction: str) -> str:
    """'forward: 50 columns in 2 colours (largest-first), 2 passes, not 50'."""
    if colouring is None:
        return f"{direction}: not coloured ({problem})"
    whole = len(colouring.colours)
    return (f"{direction}: {colouring.describe()} ({colouring.order}), "
            f"{colouring.count} pass{'es' if colouring.count != 1 else ''}, not {whole}")


def chosen_text(mode: str, colouring: Colouring | None, graph: Graph) -> str:
    """'the passes: forward mode, 2 passes (50 columns in 2 colours)'."""
    if colouring is not None:
        count = colouring.count
        return f"{mode} mode: {count} pass{'es' if count != 1 else ''} ({colouring.describe()})"
    count = graph.n if mode == "forward" else graph.m
    per = "input" if mode == "forward" else "output"
    return f"{mode} mode: {count} pass{'es' if count != 1 else ''}, one per {per}"


def spy(graph: Graph, columns: Colouring | None, rows: Colouring | None, unicode: bool, width: int = 80) -> list[str]:
    """The spy plot as lines of text, colours included where one mark is one entry."""
    mask = graph.mask
    m, n = mask.shape
    on, off = ("●", "·") if unicode else ("#", ".")
    label = max([len(f"y{k + 1}") for k in range(m)] + [len("colour")]) + 2
    names = graph.inputs
    wide = max([len(name) for name in names] + [1]) + 1          # a column per input, named
    room = width - label - len(" colour") - 1
    lines = [f"sparsity of J: {m} × {n}, {int(mask.sum())} of {m * n} entries can be nonzero"
             if unicode else f"sparsity of J: {m} x {n}, {int(mask.sum())} of {m * n} entries can be nonzero",
             f"{on} can be nonzero, {off} always 0"]
    if n * wide <= room and m <= MAX_ROWS:
        step, row_step = wide, 1
        lines.append(" " * label + "".join(name.ljust(wide) for name in names))
    elif n <= room and m <= MAX_ROWS:
        step, row_step = 1, 1
        ruler = [" "] * n
        for j in range(0, n, 10):                               # input 1, 11, 21, ...: where the names are
            text = str(j + 1)
            if j + len(text) <= n:
                ruler[j : j + len(text)] = text
        lines.append(" " * label + "".join(ruler) + "   (input number)")
    else:
        step, row_step = 0, -(-m // MAX_ROWS)
    if step:
        for k in range(m):
            cells = "".join((on if mask[k, j] else off).ljust(step) for j in range(n))
            tail = f" {mark(rows.colours[k])}" if rows is not None else ""
            lines.append(f"y{k + 1}".ljust(label) + cells + tail)
        if columns is not None:
            lines.append("colour".ljust(label) + "".join(mark(c).ljust(step) for c in columns.colours))
    else:                                                       # blocks: a mark per block of entries
        block = -(-n // max(1, room))
        lines.append(f"(each mark is a block of {row_step} × {block} entries; the colours are in --format json)"
                     if unicode else f"(each mark is a block of {row_step} x {block} entries; the colours are in "
                     "--format json)")
        for start in range(0, m, row_step):
            part = mask[start : start + row_step]
            cells = "".join(on if part[:, j : j + block].any() else off for j in range(0, n, block))
            lines.append(f"y{start + 1}".ljust(label) + cells)
    return lines


def spy_text(graph: Graph, columns: Colouring | None, rows: Colouring | None, problems: dict[str, str],
             mode: str, chosen: Colouring | None, unicode: bool, width: int = 80) -> str:
    """The whole --sparsity text: the plot, both colourings, the passes auto takes."""
    lines = spy(graph, columns, rows, unicode, width)
    lines += ["", summary(columns, problems.get("forward"), "forward"),
              summary(rows, problems.get("reverse"), "reverse"),
              f"the passes: {chosen_text(mode, chosen, graph)}"]
    text = "\n".join(line.rstrip() for line in lines) + "\n"
    return text if unicode else text.replace("×", "x")


def document(graph: Graph, columns: Colouring | None, rows: Colouring | None, problems: dict[str, str],
             mode: str, chosen: Colouring | None) -> dict[str, Any]:
    """--sparsity --format json: the pattern, both colourings (colours 0-based: the pass of
    each column or row), and the passes auto takes."""
    def one(colouring: Colouring | None, direction: str) -> Any:
        if colouring is None:
            return {"colours": None, "count": None, "order": None, "problem": problems.get(direction)}
        return {"colours": list(colouring.colours), "count": colouring.count, "order": colouring.order}

    passes = chosen.count if chosen is not None else graph.n if mode == "forward" else graph.m
    return {"variables": list(graph.inputs), "outputs": list(graph.labels), "sparsity": graph.sparsity(),
            "nonzeros": int(np.count_nonzero(graph.mask)),
            "columns": one(columns, "forward"), "rows": one(rows, "reverse"),
            "mode": mode, "passes": passes, "colours": list(chosen.colours) if chosen is not None else None}


# --- --trace of a coloured run: S, the compressed J·S (or Wᵀ·J), and where each entry of J is ---
class Recovery:
    """The compressed Jacobian of one point, from a Trace of coloured passes.

    Forward: B = J·S is m × p, B[k][c] the tangent of y_k in pass c; reverse: B = Wᵀ·J is
    q × n, B[c][j] the adjoint of x_j in pass c.  ``entries[r][s]`` is the (k, j) of J
    that B[r][s] is, or None where B[r][s] is structurally zero.
    """

    def __init__(self, trace: Any):
        colouring: Colouring = trace.colouring
        graph = trace.graph
        self.colouring, self.graph, self.mode = colouring, graph, trace.mode
        self.seeds = colouring.seeds()
        p = colouring.count
        found = [{row.node: row for row in sweep.rows} for sweep in trace.passes]

        def value(c: int, node: Any) -> tuple[float, bool]:
            if not isinstance(node, int):                  # a constant output
                return 0.0, True
            row = found[c][node]
            return float(row.value), bool(row.zero)

        self.values: list[list[float]] = []
        self.zero: list[list[bool]] = []
        self.entries: list[list[tuple[int, int] | None]] = []
        if self.mode == "forward":
            for k, out in enumerate(graph.outputs):
                cells = [value(c, out) for c in range(p)]
                self.values.append([v for v, _ in cells])
                self.zero.append([z for _, z in cells])
                sources = [colouring.source(c, k) for c in range(p)]
                self.entries.append([None if j is None else (k, j) for j in sources])
        else:
            for c in range(p):
                cells = [value(c, j) for j in range(graph.n)]
                self.values.append([v for v, _ in cells])
                self.zero.append([z for _, z in cells])
                sources = [colouring.source(c, j) for j in range(graph.n)]
                self.entries.append([None if k is None else (k, j) for j, k in enumerate(sources)])

    def heading(self) -> str:
        rule = ("J[k, j] = (J·S)[k, colour of xj]" if self.mode == "forward"
                else "J[k, j] = (Wᵀ·J)[colour of yk, j]")
        return f"compressed Jacobian: {self.colouring.describe()} ({self.colouring.order}); {rule}"

    def as_json(self, number: Any) -> dict[str, Any]:
        return {"mode": self.mode, "colours": list(self.colouring.colours), "order": self.colouring.order,
                "seed_matrix": self.seeds.tolist(),
                "compressed": [[number(v) for v in row] for row in self.values],
                "entries": [[None if e is None else list(e) for e in row] for row in self.entries]}
