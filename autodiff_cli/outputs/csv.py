"""CSV: one row per point, the inputs, the outputs, then J row by row (or the seeded product)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..core.graph import Graph, format_number
from ..report import Report, kind_of
from .notation import letters
from .sink import Sink, Style, rows_text

if TYPE_CHECKING:
    from ..check import Check
    from ..report import Summary
    from ..uncertainty import Propagation, PropagationRows


def csv_header(graph: Graph, kind: str) -> list[str]:
    """inputs, y1 ... ym, then d(y1)/d(x1) ... row by row, or jvp(y_k) / vjp(x_j) with a seed.

    Every column name is unique: the outputs are called f1 ... (``notation.letters``) when an
    input is named like y1, and no input name holds the parentheses of the others."""
    y = letters(graph)[1]
    head = list(graph.inputs) + [f"{y}{k + 1}" for k in range(graph.m)]
    if kind == "jvp":
        return head + [f"jvp({y}{k + 1})" for k in range(graph.m)]
    if kind == "vjp":
        return head + [f"vjp({name})" for name in graph.inputs]
    return head + [f"d({y}{k + 1})/d({name})" for k in range(graph.m) for name in graph.inputs]


def free_name(name: str, graph: Graph) -> str:
    """``name`` for an extra column (check), with _ appended while an input has that name."""
    while name in graph.inputs:
        name += "_"
    return name


def second_header(graph: Graph, report: Report) -> list[str]:
    """Second order: inputs, outputs, the gradient, then d2(y1)/d(x1)d(x2) ... (H row by row),
    or d2(y1)/d(x1)dv for H·v; with a seed ȳ, of ybar.y = Σ ȳ_k y_k."""
    head = list(graph.inputs) + [f"y{k + 1}" for k in range(graph.m)]
    ys = ["ybar.y"] if report.seed is not None else [f"y{k + 1}" for k in range(graph.m)]
    head += [f"d({y})/d({a})" for y in ys for a in graph.inputs]
    if report.kind == "hvp":
        return head + [f"d2({y})/d({a})dv" for y in ys for a in graph.inputs]
    return head + [f"d2({y})/d({a})d({b})" for y in ys for a in graph.inputs for b in graph.inputs]


def _flat(report: Report) -> np.ndarray:
    """The derivatives of each point as one row: J (or the seeded product); second order:
    the gradient, then the second-order array."""
    N = len(report.points)
    flat = report.derivatives.reshape(N, -1)
    if report.order == 2:
        flat = np.concatenate([report.gradient.reshape(N, -1), flat], axis=1)
    return flat


def csv_rows(report: Report, digits: int | None) -> Iterator[list[str]]:
    """One row per point: inputs, outputs, then J row by row (or the seeded product)."""
    flat = _flat(report)
    write = repr if digits is None else (lambda v: format_number(v, digits))
    for p in range(len(report.points)):
        row = np.concatenate([report.points[p], report.values[p], flat[p]])
        yield [write(float(v)) for v in row]


class CsvSink(Sink):
    """A header, then one row per point as the chunks come; with --check, a verdict column."""

    def __init__(self, out: IO[str], graph: Graph, mode: str, seed: Any, style: Style):
        self.out, self.digits, self.check = out, style.digits, style.check
        self.header = csv_header(graph, kind_of(mode, seed)) + ([free_name("check", graph)] if style.check else [])
        self.graph, self.started = graph, False

    def _start(self, report: Report | None = None) -> None:
        if not self.started:
            if report is not None and report.order == 2:
                self.header = second_header(self.graph, report) + self.header[len(self.header) - self.check:]
            self.out.write(",".join(self.header) + "\n")
            self.started = True

    def write(self, report: Report, offset: int, checked: Check | None = None) -> None:
        self._start(report)
        if checked is not None:
            self.out.writelines(",".join([*row, checked.verdict(p)]) + "\n"
                                for p, row in enumerate(csv_rows(report, self.digits)))
            return
        if self.digits is not None:
            self.out.writelines(",".join(row) + "\n" for row in csv_rows(report, self.digits))
            return
        table = np.concatenate([report.points, report.values, _flat(report)], axis=1)
        text = "\n".join(rows_text(table)).replace(", ", ",")
        self.out.write(text + "\n" if text else "")

    def write_uncertainty(self, result: Propagation) -> None:
        from .uncertainty import csv_text

        self.out.write(csv_text(result, self.digits))
        self.started = True                 # its own header: close writes none

    def write_uncertainty_rows(self, rows: PropagationRows, offset: int) -> None:
        from .uncertainty import csv_rows_text

        self.out.write(csv_rows_text(rows, self.digits, header=not self.started))
        self.started = True

    def close(self, summary: Summary | None) -> None:
        self._start()                       # no points at all: the header alone
