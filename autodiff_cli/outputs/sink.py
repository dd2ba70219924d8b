"""Where results go: the one protocol every format implements.

    sink = open_sink(fmt, out, graph, mode, seed, style)     # outputs/__init__.py: the only dispatch on --format
    sink.write(report, offset, checked)                      # each chunk of points, in order
    sink.write_formulas(report)                              # or: the Jacobian as formulas
    sink.close(summary)                                      # finish (also after a malformed point)
    sink.abandon()                                           # or drop it unfinished (an interrupt)

``--at`` (one chunk), ``--points`` (many) and formulas (no point) all print through it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..check import Check
    from ..report import Report, Summary
    from ..symbolic import SymbolicReport
    from ..uncertainty import Propagation, PropagationRows, UncertaintyFormulas


@dataclass(frozen=True)
class Style:
    """How results are written, whatever the format."""

    digits: int | None = None     # significant digits; None: the format's own (6 in tables, all in csv)
    unicode: bool = True          # ẇ4, ∂, · (else w_dot4, d, *)
    plain: bool = True            # no terminal: Markdown tables, no escapes
    trace: bool = False           # also the sweeps, pass by pass
    check: bool = False           # results carry --check's verdicts
    standalone: bool = False      # LaTeX: a whole document
    layout: str = "auto"          # tables: J as one wide table, transposed, or in blocks of columns (table.LAYOUTS)
    color: bool = False           # with boxes (not plain): colour and bold too (see styled)


def styled(out: IO[str], color: str = "auto") -> tuple[bool, bool]:
    """(boxes, colour): whether tables are drawn with Rich's boxes, and whether in colour and bold.

    ``color`` is --color: "always" and "never" decide the colour; "auto" gives colour in a
    terminal, none when NO_COLOR is set (non-empty), and colour even in a pipe when
    FORCE_COLOR is set (non-empty, not 0); NO_COLOR wins over FORCE_COLOR.  Boxes are for a
    terminal, and for forced colour (output meant for a terminal later, such as less -R);
    NO_COLOR and --color never take the colour only, never the layout.
    """
    isatty = getattr(out, "isatty", None)
    terminal = bool(isatty and isatty())
    if color == "always" or color == "never":
        colour = color == "always"
    elif os.environ.get("NO_COLOR"):
        colour = False
    elif os.environ.get("FORCE_COLOR", "0") != "0":
        colour = True
    else:
        colour = terminal
    return terminal or colour, colour


class Sink:
    """Where results go, chunk by chunk; ``close`` finishes the output (also after a malformed
    point), ``abandon`` drops it unfinished (after an interrupt or a failed write)."""

    def write(self, report: Report, offset: int, checked: Check | None = None) -> None:
        raise NotImplementedError

    def write_formulas(self, report: SymbolicReport) -> None:
        raise NotImplementedError(f"{type(self).__name__} holds numbers, not formulas")

    def write_uncertainty(self, result: Propagation) -> None:
        """Value ± u_c of every output, the budget, Σ_y (outputs/uncertainty.py writes each format)."""
        raise NotImplementedError(f"{type(self).__name__} does not write uncertainties")

    def write_uncertainty_rows(self, rows: PropagationRows, offset: int) -> None:
        """--points with uncertainties: value ± u_c of every output, a row per point, chunk by chunk."""
        raise NotImplementedError(f"{type(self).__name__} does not write uncertainties of many points")

    def write_uncertainty_formulas(self, result: UncertaintyFormulas) -> None:
        """No point: u_c(y_k) as formulas in the inputs and their u's."""
        raise NotImplementedError(f"{type(self).__name__} holds numbers, not formulas")

    def close(self, summary: Summary | None) -> None:
        pass

    def abandon(self) -> None:
        pass


class Discard(Sink):
    """No results written (--graph prints the graph instead); warnings and the exit status still count."""

    def write(self, report: Report, offset: int, checked: Check | None = None) -> None:
        pass


def rows_text(table: np.ndarray) -> list[str]:
    """Each row of a float table as 'a, b, c' with full precision (shortest round trip).
    One C-level repr for the whole chunk; a float's repr never contains ', ' or ']'."""
    if not len(table):
        return []
    if table.shape[1] == 0:
        return [""] * len(table)
    return repr(table.tolist())[2:-2].split("], [")
