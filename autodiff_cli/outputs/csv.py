"""CSV: one row per point, the inputs, the outputs, then J row by row (or the seeded product)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..core.graph import Graph, format_number
from ..report import Report, kind_of
from .sink import Sink, Style, rows_text

if TYPE_CHECKING:
    from ..check import Check
    from ..report import Summary


def csv_header(graph: Graph, kind: str) -> list[str]:
    """inputs, y1 ... ym, then d(y1)/d(x1) ... row by row, or jvp(y_k) / vjp(x_j) with a seed."""
    head = list(graph.inputs) + [f"y{k + 1}" for k in range(graph.m)]
    if kind == "jvp":
        return head + [f"jvp(y{k + 1})" for k in range(graph.m)]
    if kind == "vjp":
        return head + [f"vjp({name})" for name in graph.inputs]
    return head + [f"d(y{k + 1})/d({name})" for k in range(graph.m) for name in graph.inputs]


def csv_rows(report: Report, digits: int | None) -> Iterator[list[str]]:
    """One row per point: inputs, outputs, then J row by row (or the seeded product)."""
    flat = report.derivatives.reshape(len(report.points), -1)
    write = repr if digits is None else (lambda v: format_number(v, digits))
    for p in range(len(report.points)):
        row = np.concatenate([report.points[p], report.values[p], flat[p]])
        yield [write(float(v)) for v in row]


class CsvSink(Sink):
    """A header, then one row per point as the chunks come; with --check, a verdict column."""

    def __init__(self, out: IO[str], graph: Graph, mode: str, seed: Any, style: Style):
        self.out, self.digits, self.check = out, style.digits, style.check
        self.header = csv_header(graph, kind_of(mode, seed)) + (["check"] if style.check else [])
        self.started = False

    def _start(self) -> None:
        if not self.started:
            self.out.write(",".join(self.header) + "\n")
            self.started = True

    def write(self, report: Report, offset: int, checked: Check | None = None) -> None:
        self._start()
        if checked is not None:
            self.out.writelines(",".join([*row, checked.verdict(p)]) + "\n"
                                for p, row in enumerate(csv_rows(report, self.digits)))
            return
        if self.digits is not None:
            self.out.writelines(",".join(row) + "\n" for row in csv_rows(report, self.digits))
            return
        table = np.concatenate([report.points, report.values, report.derivatives.reshape(len(report.points), -1)],
                               axis=1)
        text = "\n".join(rows_text(table)).replace(", ", ",")
        self.out.write(text + "\n" if text else "")

    def close(self, summary: Summary | None) -> None:
        self._start()                       # no points at all: the header alone
