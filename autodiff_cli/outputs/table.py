"""Tables for people: J (or J·v, vᵀ·J), the sweeps of --trace, --check's verdicts, formulas.

Rich draws them in a terminal; in a pipe they are plain Markdown tables.  Only this
module needs Rich, and imports it where it draws, so the machine formats start fast.
Rows of J are outputs and columns are inputs: J[k][j] = ∂y_k/∂x_j.
"""

from __future__ import annotations

import functools
import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..core.graph import Const, format_number
from ..report import Report, point_text
from .notation import (
    Notation,
    _label,
    ascii_math,
    definition,
    definition_at,
    entry_heading,
    equation,
    equation_terms,
    equation_terms_at,
    letters,
    notation_for,
    numbering_note,
    pass_heading,
    passes_of,
    renamed,
    result_marks,
    rule_heading,
)
from .sink import Sink, Style

if TYPE_CHECKING:                  # --check and --trace models, loaded where they are written
    from ..check import Check
    from ..points import Points
    from ..symbolic import SymbolicReport
    from ..trace import Trace
    from ..uncertainty import Propagation, PropagationRows, UncertaintyFormulas


# --- tables for people ------------------------------------------------------------------
def new_table(plain: bool) -> Any:
    """A Rich table: rounded in a terminal, a Markdown table (plain ASCII) in a pipe."""
    from rich import box
    from rich.table import Table

    if plain:
        return Table(box=box.MARKDOWN, show_edge=True, pad_edge=True)
    return Table(box=box.ROUNDED, header_style="bold")


def jacobian_tables(report: Report, p: int, digits: int, unicode: bool, plain: bool = False, layout: str = "auto",
                    width: int | None = None) -> list[Any]:
    """Rich renderables for point p: a heading and the Jacobian (or seeded product).

    J is laid out by ``layout_jacobian`` (``layout``: see LAYOUTS) to fit ``width`` columns
    (None: the terminal's; in a pipe only a layout asked for uses it)."""
    from rich.text import Text

    graph = report.graph

    def fmt(v: float) -> Text:
        text = format_number(float(v), digits)
        return Text(text, style="bold red" if not math.isfinite(v) else "")

    spell = (lambda text: text) if unicode else ascii_math
    heading = Text(spell(f"at {point_text(graph, report.points[p])}   ({passes_of(report)})"), style="bold")
    labels = [spell(_label(graph, k)) for k in range(graph.m)]
    if report.seed is not None and report.mode == "reverse" and report.product is not None:
        table = new_table(plain)
        table.add_column("input")
        table.add_column("value", justify="right")
        table.add_column("vᵀ·J" if unicode else "v^T J", justify="right", style="bold")
        for j, name in enumerate(graph.inputs):
            table.add_row(Text(name), fmt(report.points[p][j]), fmt(report.product[p][j]))
        outs = new_table(plain)
        outs.add_column("output")
        outs.add_column("value", justify="right")
        outs.add_column("seed v", justify="right")
        for k in range(graph.m):
            outs.add_row(Text(labels[k]), fmt(report.values[p][k]), fmt(report.seed[k]))
        return [heading, outs, table]
    table = new_table(plain)
    table.add_column("output")
    table.add_column("value", justify="right")
    if report.seed is not None and report.product is not None:
        table.add_column("J·v" if unicode else "J v", justify="right", style="bold")
        for k in range(graph.m):
            table.add_row(Text(labels[k]), fmt(report.values[p][k]), fmt(report.product[p][k]))
        seed = ", ".join(f"{name}: {format_number(v, digits)}" for name, v in zip(graph.inputs, report.seed))
        return [heading, table, Text(f"seed v = ({seed})")]
    assert report.jacobian is not None
    zero = zero_text(unicode)                                  # structurally zero: y_k does not depend on x_j
    sparsity = graph.sparsity()
    cells = [[fmt(v) if nonzero else zero for v, nonzero in zip(report.jacobian[p][k], pattern)]
             for k, pattern in enumerate(sparsity)]
    values = [fmt(report.values[p][k]) for k in range(graph.m)]
    points = [fmt(v) for v in report.points[p]]
    legend = [ZeroLegend(unicode)] if not all(map(all, sparsity)) else []
    return [heading, *layout_jacobian(graph, cells, values, points, unicode, plain, layout, width), *legend]


# --- structural zeros: one mark in every table, explained once ------------------------------
def zero_mark(unicode: bool) -> str:
    """How every table marks a structural zero (no path from that input, or to that output)."""
    return "·" if unicode else "."


def zero_text(unicode: bool) -> Any:
    from rich.text import Text

    return Text(zero_mark(unicode), style="dim")


@dataclass
class ZeroLegend:
    """The one-line legend of the structural-zero mark, put under each table that shows it;
    ``print_parts`` prints the first one only."""

    unicode: bool

    def text(self) -> Any:
        from rich.text import Text

        return Text(f"{zero_mark(self.unicode)} structurally zero: no path in the graph, so exactly 0 "
                    "whatever the point", style="dim")


# --- J that fits: wide, transposed, or in blocks of columns ---------------------------------
LAYOUTS = ("auto", "wide", "transposed", "blocks")
LABEL_LIMIT = 40       # a longer output label is shown by its name (y1) in J, and in full in a legend below


@dataclass
class _Column:
    """One column of J's table: its header, its cells, and whether the cells are formulas
    (which may wrap inside the cell, whole; numbers never wrap)."""

    header: str
    cells: list[Any]
    justify: str = "left"
    formula: bool = False
    style: str = ""

    def natural(self) -> int:
        from rich.cells import cell_len

        return max([cell_len(self.header), *(cell_len(line) for c in self.cells for line in c.plain.split("\n"))])


def _table_width(widths: Sequence[int]) -> int:
    """The width Rich gives a table (rounded or Markdown box, padding 1) with these column widths."""
    return sum(widths) + 3 * len(widths) + 1


def layout_jacobian(graph: Any, cells: list[list[Any]], values: list[Any] | None, points: list[Any] | None,
                    unicode: bool, plain: bool, layout: str = "auto", width: int | None = None) -> list[Any]:
    """J (cells[k][j], numbers or formulas) as tables that fit ``width`` columns, nothing cut.

    ``wide``: one row per output, one column per input.  ``transposed``: one row per input,
    one column per output (as the vᵀ·J view), the outputs' values in a table of their own.
    ``blocks``: the wide table with its columns wrapped into blocks that each fit.  ``auto``
    (the default): wide when it fits, else transposed when m < n (a gradient), else blocks;
    in a pipe there is no width, so wide.  A transposed table that does not fit is wrapped
    into blocks too.  An output label longer than LABEL_LIMIT, or too long to leave room for
    J, is replaced by its name (y1) with a legend below; if even one column cannot fit,
    the table is printed at its full width (the terminal wraps the lines).
    """
    from rich.text import Text

    spell = (lambda text: text) if unicode else ascii_math
    d = "∂" if unicode else "d"
    formulas = values is None
    m, n = graph.m, graph.n
    if width is None:
        width = _terminal_width()
    fits = not plain or layout != "auto"              # a pipe has no width unless a layout is asked for
    y = letters(graph)[1]                                 # y, or another letter if an input is named y1
    names = [f"{y}{k + 1}" for k in range(m)]
    full = [spell(graph.labels[k] if m == 1 else f"{y}{k + 1} = {graph.labels[k]}") for k in range(m)]
    short = any(len(label) > LABEL_LIMIT for label in graph.labels)

    def wide_columns(shorten: bool) -> tuple[list[_Column], list[_Column]]:
        lead = [_Column("output", [Text(spell(names[k] if shorten else full[k])) for k in range(m)])]
        if values is not None:
            lead.append(_Column("value", values, "right"))
        data = [_Column(spell(f"{d}/{d}{name}"), [cells[k][j] for k in range(m)], "left" if formulas else "right",
                        formulas) for j, name in enumerate(graph.inputs)]
        return lead, data

    lead, data = wide_columns(short)
    chosen = "wide" if layout == "auto" and not fits else layout
    if layout == "auto" and fits:
        total = _table_width([c.natural() for c in lead + data])
        if total > width and not short and lead[0].natural() > width // 3:     # the labels crowd J out
            short = True
            lead, data = wide_columns(short)
            total = _table_width([c.natural() for c in lead + data])
        chosen = "wide" if total <= width else "transposed" if m < n else "blocks"
    if chosen == "blocks" and not short and lead[0].natural() > width // 4:       # the labels repeat in every block
        short = True
        lead, data = wide_columns(short)
    legend = [Text(spell(f"{y}{k + 1} = {graph.labels[k]}")) for k in range(m)] if short else []
    parts: list[Any] = []
    if chosen == "transposed":
        if values is not None:                                       # the outputs and their values
            outs = new_table(plain)
            outs.add_column("output", overflow="fold")
            outs.add_column("value", justify="right", no_wrap=True)
            for k in range(m):
                outs.add_row(Text(spell(names[k] if short else f"{y}{k + 1} = {graph.labels[k]}")), values[k])
            parts.append(outs)
            legend = legend if short else []
        elif not short:
            legend = [Text(spell(f"{y}{k + 1} = {graph.labels[k]}")) for k in range(m)]
        lead = [_Column("input", [Text(name) for name in graph.inputs])]
        if points is not None:
            lead.append(_Column("value", points, "right"))
        data = [_Column(spell(f"∇{y}{k + 1}"), [cells[k][j] for j in range(n)], "left" if formulas else "right", formulas,
                        "bold") for k in range(m)]
    limit = width if (chosen != "wide" and (fits or layout != "auto")) else None
    tables = _blocks(lead, data, limit, plain, repeat=1 if chosen == "blocks" else len(lead))   # values once
    if chosen == "transposed":
        what = "J transposed: one row per input, one column per output"
        parts.insert(0, Text(spell(f"{what} ({'--layout transposed' if layout != 'auto' else f'to fit {width} columns'})"),
                             style="dim"))
    elif len(tables) > 1:
        parts.append(Text(spell(f"J in {len(tables)} blocks of columns to fit {width} columns"), style="dim"))
    for first, last, table in tables:
        if len(tables) > 1:
            parts.append(Text(spell(f"{data[first].header} to {data[last].header}   (columns {first + 1}–{last + 1} "
                                    f"of {len(data)})") if last > first else
                              spell(f"{data[first].header}   (column {first + 1} of {len(data)})"), style="bold"))
        parts.append(table if plain or _measure(table) <= width else FullWidth(table, _measure(table)))
    return parts + legend


def _blocks(lead: list[_Column], data: list[_Column], width: int | None, plain: bool,
            repeat: int | None = None) -> list[tuple[int, int, Any]]:
    """The lead columns and the data columns packed greedily into tables of at most ``width``
    (None: one table): (first data column, last data column, table) for each block.  The
    first block has every lead column, the others the first ``repeat`` (the labels)."""
    lead_widths = [c.natural() for c in lead]
    later = len(lead) if repeat is None else repeat

    def room(block: int) -> int | None:                     # for the data columns, 3 each more
        return None if width is None else width - _table_width(lead_widths[: len(lead) if block == 0 else later])

    widths = [c.natural() for c in data]
    if width is not None:
        cap = max(min(room(0) or 0, room(1) or 0) - 3, 12)
        widths = [min(w, cap) if c.formula else w for w, c in zip(widths, data)]
    groups: list[list[int]] = [[]]
    used = 0
    for j, w in enumerate(widths):
        space = room(len(groups) - 1)
        if space is not None and groups[-1] and used + w + 3 > space:
            groups.append([])
            used = 0
        groups[-1].append(j)
        used += w + 3
    out = []
    for b, group in enumerate(groups):
        table = new_table(plain)
        shown = lead if b == 0 else lead[:later]
        for c, w in zip(shown, lead_widths):
            table.add_column(c.header, justify=c.justify, width=None if plain else w, no_wrap=not c.formula)  # type: ignore[arg-type]
        for j in group:
            c = data[j]
            table.add_column(c.header, justify=c.justify, style=c.style, overflow="fold", no_wrap=not c.formula,  # type: ignore[arg-type]
                             width=None if plain else widths[j])
        for k in range(len(lead[0].cells) if lead else len(data[0].cells)):
            table.add_row(*(c.cells[k] for c in shown), *(data[j].cells[k] for j in group))
        out.append((group[0] if group else 0, group[-1] if group else -1, table))
    return out


def _measure(table: Any) -> int:
    return int(_width(table).maximum)


@dataclass
class FullWidth:
    """A table wider than the terminal, printed whole at its own width (the terminal wraps
    its lines) rather than squeezed, which would cut the numbers in its cells."""

    renderable: Any
    width: int




# --- tables ----------------------------------------------------------------------------------
PLAIN_WIDTH = 120      # piped output: wider pass tables put one term per line (a long sum is one tall row)


def trace_tables(report: Report, p: int, digits: int, unicode: bool, plain: bool = False) -> list[Any]:
    """Rich renderables for point p: the primal sweep, then one table per pass."""
    from rich.text import Text

    from .. import trace as tracing

    trace = tracing.build(report, p)
    graph = trace.graph
    nt = notation_for(graph, unicode)

    def num(v: float, style: str = "") -> Text:
        return Text(format_number(v, digits), style="bold red" if not np.isfinite(v) else style)

    parts: list[Any] = [Text(f"evaluation trace (primal sweep) at {point_text(graph, trace.point)}   "
                             f"{numbering_note(graph, nt)}", style="bold")]
    primal = _new_table(plain)
    for header, justify in (("variable", "left"), ("definition", "left"), ("at this point", "left"),
                            ("value", "right"), ("", "left")):
        primal.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for i in range(len(graph)):
        role = ["input"] if i < graph.n else []
        role += [f"output {nt.output}{k + 1}" for k in trace.outputs_at(i)]
        primal.add_row(Text(nt.variable(i)), Text(nt.math(definition(graph, i, nt))),
                       Text(nt.math(definition_at(trace, i, digits))), num(trace.w[i]), Text(", ".join(role)))
    for k, out in enumerate(graph.outputs):
        if isinstance(out, Const):
            primal.add_row(Text(f"{nt.output}{k + 1}"), Text("a constant"), Text(""), num(out.value),
                           Text(f"output {nt.output}{k + 1}"))
    parts.append(primal)

    width = PLAIN_WIDTH if plain else _terminal_width()
    for q in range(len(trace.passes)):
        parts.append(Text(""))
        parts.append(Text(pass_heading(trace, q, nt, digits), style="bold"))
        table = pass_table(trace, q, nt, digits, plain)
        if _width(table).maximum > width:                            # too wide: one term per line
            table = pass_table(trace, q, nt, digits, plain, stacked=True)
            if _width(table).minimum > width:                        # still too wide: let terms wrap
                table = pass_table(trace, q, nt, digits, plain, stacked=True, whole_terms=False)
        parts.append(table)
        if any(row.zero for row in trace.passes[q].rows):
            parts.append(ZeroLegend(unicode))
    if trace.colouring is not None:
        parts += [Text(""), *recovery_tables(trace, nt, digits, plain, unicode)]
    parts.append(Text(""))
    return parts


def recovery_tables(trace: Trace, nt: Notation, digits: int, plain: bool, unicode: bool) -> list[Any]:
    """A coloured trace's last part: Sᵀ (or Wᵀ), one row per colour, then the compressed
    J·S (or Wᵀ·J) at the point, each element with the entry of J it is."""
    from rich.text import Text

    from .sparsity import Recovery

    found = Recovery(trace)
    graph, forward = trace.graph, trace.mode == "forward"
    names = list(graph.inputs) if forward else [f"{nt.output}{k + 1}" for k in range(graph.m)]
    seeds = _new_table(plain)
    seeds.add_column(nt.math("Sᵀ" if forward else "Wᵀ"))
    for name in names:
        seeds.add_column(nt.math(name), justify="right")
    for c, column in enumerate(found.seeds.T):
        seeds.add_row(f"colour {c + 1}", *("1" if v else zero_mark(unicode) for v in column))
    compressed = _new_table(plain)
    if forward:
        compressed.add_column("output")
        for c in range(found.colouring.count):
            compressed.add_column(nt.math(f"(J·S) column {c + 1}"))
        labels = [f"{nt.output}{k + 1}" for k in range(graph.m)]
    else:
        compressed.add_column(nt.math("Wᵀ·J"))
        for name in graph.inputs:
            compressed.add_column(nt.math(name))
        labels = [f"row {c + 1}" for c in range(found.colouring.count)]
    for label, values, zeros, entries in zip(labels, found.values, found.zero, found.entries):
        cells = [zero_mark(unicode) if zero else
                 format_number(v, digits) + ("" if entry is None else
                                             nt.math(f" = {nt.entry(entry[0], graph.inputs[entry[1]])}"))
                 for v, zero, entry in zip(values, zeros, entries)]
        compressed.add_row(Text(nt.math(label)), *(Text(cell) for cell in cells))
    return [Text(nt.math(found.heading()), style="bold"), seeds, compressed]


def pass_table(trace: Trace, q: int, nt: Notation, digits: int, plain: bool, stacked: bool = False,
               whole_terms: bool = True) -> Any:
    """One pass as a Rich table: derivative, rule, rule with numbers, value, entry of J.

    ``stacked`` puts each term of a sum on a line of its own, the rule and its numbers
    side by side, so that a narrow terminal wraps between terms; ``whole_terms`` keeps
    each column as wide as its widest term (dropped only when the terminal is narrower).
    """
    from rich.cells import cell_len
    from rich.text import Text

    forward = trace.mode == "forward"
    sweep = trace.passes[q]
    rules = [equation_terms(trace, row, nt) for row in sweep.rows]
    numbers = [equation_terms_at(trace, row, q, digits, nt) for row in sweep.rows]

    def widest(cells: list[list[str]]) -> int | None:
        return max((cell_len(piece) for pieces in cells for piece in pieces), default=0) if stacked and whole_terms else None

    table = _new_table(plain)
    table.add_column("tangent" if forward else "adjoint")
    table.add_column(rule_heading(trace.mode, nt), overflow="fold", min_width=widest(rules))
    table.add_column("at this point", overflow="fold", min_width=widest(numbers))
    table.add_column("value", justify="right")
    table.add_column(entry_heading(trace.mode, sweep.identity, nt))
    join = "\n" if stacked else " "
    for row, rule, at in zip(sweep.rows, rules, numbers):
        marks = result_marks(trace, row, q, nt)
        value = row.value
        style = "bold red" if not np.isfinite(value) else "bold" if marks else "dim" if row.zero else ""
        table.add_row(Text(nt.derivative(trace.mode, row.node), style="bold" if marks else ""),
                      Text(join.join(rule)), Text(join.join(at)),
                      Text(zero_mark(nt.unicode) if row.zero else format_number(value, digits), style=style),
                      Text(nt.math(", ".join(marks)), style="bold"))
    return table


def _terminal_width() -> int:
    from rich.console import Console

    return Console().width


def _width(table: Any) -> Any:
    """The table's Measurement: ``maximum`` when nothing wraps, ``minimum`` when all that can wrap does."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console(width=1_000_000)
    return Measurement.get(console, console.options, table)


def _new_table(plain: bool) -> Any:
    if plain:
        return PlainTable()

    return new_table(plain=False)


class PlainTable:
    """A Markdown table, drawn as new_table(plain=True) draws it, but in linear time.

    Rich takes seconds for the thousands of rows a large trace has; piped output needs
    no styles or wrapping, so this writes the lines itself (``tests/test_trace.py``
    checks it against Rich).  Cells may hold several lines; styles are ignored.
    """

    def __init__(self) -> None:
        self.headers: list[str] = []
        self.justify: list[str] = []
        self.rows: list[list[str]] = []
        self._widths: list[int] | None = None

    def add_column(self, header: str = "", justify: str = "left", **_: Any) -> None:
        self.headers.append(header)
        self.justify.append(justify)
        self._widths = None

    def add_row(self, *cells: Any) -> None:
        self.rows.append([getattr(cell, "plain", cell) for cell in cells])
        self._widths = None

    def widths(self) -> list[int]:
        from rich.cells import cell_len

        if self._widths is None:
            widths = [cell_len(h) for h in self.headers]
            for row in self.rows:
                for c, cell in enumerate(row):
                    widths[c] = max(widths[c], *(cell_len(line) for line in cell.split("\n")))
            self._widths = widths
        return self._widths

    def lines(self) -> list[str]:
        from rich.cells import cell_len

        widths = self.widths()

        def line(cells: list[str]) -> str:
            padded = []
            for text, width, justify in zip(cells, widths, self.justify):
                gap = " " * (width - cell_len(text))
                padded.append(gap + text if justify == "right" else text + gap)
            return "| " + " | ".join(padded) + " |"

        out = ["", line(self.headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        for row in self.rows:
            split = [cell.split("\n") for cell in row]
            for k in range(max(len(lines) for lines in split)):
                out.append(line([lines[k] if k < len(lines) else "" for lines in split]))
        return [*out, ""]                    # Rich's Markdown box has blank top and bottom edges

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        width = sum(self.widths()) + 3 * len(self.headers) + 1
        return Measurement(width, width)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment

        for text in self.lines():
            yield Segment(text)
            yield Segment.line()


# --- text and JSON ---------------------------------------------------------------------------------
def describe(result: Check, p: int, digits: int = 3, limit: int = 10, unicode: bool = True) -> list[str]:
    """Lines for people: the verdict at point p, the two comparisons, and each entry that is not ok."""
    from ..check import ATOL, FAIL, RTOL, STEP, ULPS, _num

    graph = result.graph
    (fr_abs, fr_rel), (fd_abs, fd_rel) = result.summary(p).values()
    verdict = result.verdict(p)
    d = "∂" if unicode else "d"
    x = "·" if unicode else "*"
    lines = [f"check at {point_text(graph, result.points[p])}: {verdict.upper()}",
             f"  forward vs reverse:        max abs {_num(fr_abs, digits)}, max rel {_num(fr_rel, digits)}"
             f"  (allowed: {ULPS}{x}ε{x}{result.size}{x}|J|abs, {result.size} = variables + edges)",
             f"  AD vs central differences: max abs {_num(fd_abs, digits)}, max rel {_num(fd_rel, digits)}"
             f"  (allowed: rtol {RTOL:g}, atol {ATOL:g}; step h = {STEP:.3g}{x}max(1, |x_j|))"]
    entries = sorted((k, j) for (q, k, j) in result.reasons if q == p)
    for k, j in entries[:limit]:
        label = "FAIL" if result.status[p, k, j] == FAIL else "not verified"
        lines.append(f"  {d}y{k + 1}/{d}{graph.inputs[j]}: {label}: {result.reasons[p, k, j]}")
    if len(entries) > limit:
        lines.append(f"  … and {len(entries) - limit} more entries (see --format json)")
    if not unicode:

        lines = [ascii_math(line) for line in lines]
    return lines


class TableSink(Sink):
    """Tables, one block per point: the sweeps (--trace), J, and --check's verdicts."""

    def __init__(self, out: IO[str], style: Style):
        self.out, self.style = out, style
        self.digits = style.digits or 6

    def write(self, report: Report, offset: int, checked: Check | None = None) -> None:
        from rich.text import Text

        style = self.style
        if offset and style.plain:           # the printer trims blank lines at the ends of each call
            self.out.write("\n")
        parts: list[Any] = [] if offset else _renamed_note(report.graph, style.unicode)
        for p in range(len(report.points)):
            parts += [Text("")] if p or offset else []
            if style.trace:
                tables = second_trace_tables if report.order == 2 else trace_tables
                parts += tables(report, p, self.digits, style.unicode, plain=style.plain)
            if report.order == 2:
                parts += hessian_tables(report, p, self.digits, style.unicode, plain=style.plain)
            else:
                parts += jacobian_tables(report, p, self.digits, style.unicode, plain=style.plain,
                                         layout=style.layout)
            if checked is not None:
                lines = (describe_hessian(checked, p, style.digits or 3, unicode=style.unicode)
                         if getattr(checked, "order", 1) == 2 else
                         describe(checked, p, style.digits or 3, unicode=style.unicode))
                parts += [Text(line) for line in lines]
        print_parts(parts, self.out, style.plain, style.color)

    def write_formulas(self, report: SymbolicReport, at: Sequence[Sequence[float]] = ()) -> None:
        style = self.style
        if at:                                   # --symbolic --at: the formulas beside their values
            print_parts(_renamed_note(report.graph, style.unicode)
                        + (symbolic_primal_tables(report, style.unicode, style.plain)
                           + symbolic_trace_tables(report, style.unicode, style.plain) if style.trace else [])
                        + symbolic_value_tables(report, at, self.digits, style.unicode, style.plain),
                        self.out, style.plain)
            return
        print_parts(_renamed_note(report.graph, style.unicode)
                    + symbolic_tables(report, style.unicode, plain=style.plain, with_trace=style.trace,
                                      layout=style.layout), self.out, style.plain, style.color)

    def write_uncertainty(self, result: Propagation) -> None:
        from .uncertainty import tables

        style = self.style
        print_parts(_renamed_note(result.graph, style.unicode) + tables(result, self.digits, style.unicode, style.plain, new_table),
                    self.out, style.plain, style.color)

    def write_uncertainty_rows(self, rows: PropagationRows, offset: int) -> None:
        from .uncertainty import row_table

        style = self.style
        if offset and style.plain:
            self.out.write("\n")
        print_parts([row_table(rows, offset, self.digits, style.unicode, style.plain, new_table)], self.out,
                    style.plain, style.color)

    def write_uncertainty_formulas(self, result: UncertaintyFormulas) -> None:
        from .uncertainty import formula_tables

        style = self.style
        print_parts(_renamed_note(result.graph, style.unicode) + formula_tables(result, style.unicode, style.plain,
                                                                                 new_table), self.out, style.plain, style.color)


def _renamed_note(graph: Any, unicode: bool) -> list[Any]:
    """A first line saying which display names were changed so as not to read as inputs (y1, w2)."""
    from rich.text import Text

    note = renamed(graph)
    if not note:
        return []
    text = f"note: {note}"
    return [Text(text if unicode else ascii_math(text), style="dim"), Text("")]


class ProgressBar:
    """A Rich progress bar on stderr, shown only when stderr is a terminal and only once
    the run has taken longer than ``delay`` seconds."""

    def __init__(self, points: Points, enabled: bool, delay: float = 1.0):
        self.points, self.enabled, self.delay = points, enabled, delay
        self.start = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.start < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            unit = "rows" if self.points.is_npy else "bytes"
            self.bar = Progress(TextColumn(f"adjac: {self.points.name}"), BarColumn(),
                                TextColumn(f"{{task.completed:,}}/{{task.total:,}} {unit}" if self.points.total
                                           else f"{{task.completed:,}} {unit}"),
                                TimeElapsedColumn(), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("points", total=self.points.total)
        assert self.task is not None
        self.bar.update(self.task, completed=self.points.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def symbolic_tables(report: SymbolicReport, unicode: bool, plain: bool = False, with_trace: bool = False,
                    layout: str = "auto", width: int | None = None) -> list[Any]:
    """Rich renderables: (the trace, then) a heading and J as formulas (outputs as rows, inputs as
    columns; laid out to fit by ``layout_jacobian``)."""
    if report.order == 2:
        return (symbolic_second_trace_tables(report, unicode, plain) if with_trace else []) + \
            symbolic_second_tables(report, unicode, plain)

    from rich.text import Text


    graph = report.graph
    fmt = functools.partial(report.formula, paper=unicode)
    head = Text(f"f({', '.join(graph.inputs)}) = ", style="bold")
    head.append(Text(", ".join(graph.labels) if graph.m == 1 else f"({', '.join(graph.labels)})"))
    head.append(Text(f"   ({passes_of(report) if unicode else ascii_math(passes_of(report))})", style="bold"))
    parts = (symbolic_primal_tables(report, unicode, plain) + symbolic_trace_tables(report, unicode, plain)
             if with_trace else [])                      # without --trace: the formulas of J only
    table = new_table(plain)
    y = letters(graph)[1]
    labels = [graph.labels[k] if graph.m == 1 else f"{y}{k + 1} = {graph.labels[k]}" for k in range(graph.m)]
    if report.product is not None and report.mode == "reverse":                 # vᵀ·J: a row, one entry per input
        table.add_column("input")
        table.add_column("vᵀ·J" if unicode else "v^T J", style="bold")
        for name, c in zip(graph.inputs, report.product):
            table.add_row(Text(name), Text(fmt(c)))
        seed = ", ".join(map(format_number, report.seed or ()))
        return [*parts, head, table, Text(f"seed v = ({seed}) on the outputs")]
    table.add_column("output")
    if report.product is not None:
        table.add_column("J·v" if unicode else "J v", style="bold")
        for label, c in zip(labels, report.product):
            table.add_row(Text(label), Text(fmt(c)))
        seed = ", ".join(map(format_number, report.seed or ()))
        return [*parts, head, table, Text(f"seed v = ({seed}) on the inputs")]
    assert report.jacobian is not None
    sparsity = graph.sparsity()
    cells = [[Text(fmt(c)) if nonzero else zero_text(unicode) for c, nonzero in zip(row, pattern)]
             for row, pattern in zip(report.jacobian, sparsity)]
    legend = [ZeroLegend(unicode)] if not all(map(all, sparsity)) else []
    return [*parts, head, *layout_jacobian(graph, cells, None, None, unicode, plain, layout, width), *legend]


def symbolic_value_tables(report: SymbolicReport, points: Sequence[Sequence[float]], digits: int, unicode: bool,
                          plain: bool = False) -> list[Any]:
    """--symbolic with --at: each entry of J as a formula beside its value at each point, the
    exact value too where SymPy gives one at the point as written (1/3 beside 0.333333)."""
    from rich.text import Text

    from .. import symbolic

    graph = report.graph
    nt = notation_for(graph, unicode)
    fmt = functools.partial(report.formula, paper=unicode)
    sparsity = graph.sparsity()
    parts: list[Any] = []
    zeros = False
    for p, x in enumerate(points):
        parts += [Text("")] if p else []
        parts.append(Text(nt.math(f"at {point_text(graph, x)}   ({passes_of(report)}; formulas beside their values)"),
                          style="bold"))
        table = new_table(plain)
        for header, justify in (("entry", "left"), ("formula", "left"), ("exact", "left"), ("value", "right")):
            table.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for k, j, c, exact, value in symbolic.at_point(report, x):
            if k is not None and j is not None:
                label, structural = nt.math(nt.entry(k, graph.inputs[j])), not sparsity[k][j]
            else:
                label = nt.math(nt.product_entry("J·v", k) if k is not None else nt.product_entry("vᵀ·J", j or 0))
                structural = False
            if structural:
                zeros = True
                table.add_row(Text(label), zero_text(unicode), zero_text(unicode), zero_text(unicode))
                continue
            shown = fmt(exact) if exact is not None else ""
            table.add_row(Text(label), Text(fmt(c)),
                          Text(shown if len(shown) <= symbolic.EXACT_LIMIT else "", style="bold"),
                          Text(format_number(value, digits), style="bold red" if not math.isfinite(value) else ""))
        parts.append(table)
        if zeros:
            parts.append(ZeroLegend(unicode))
    return parts


def symbolic_primal_tables(report: SymbolicReport, unicode: bool, plain: bool = False) -> list[Any]:
    """The Wengert list with each w_i in the inputs: the primal sweep on paper."""
    from rich.text import Text

    from .. import symbolic



    graph = report.graph
    nt = notation_for(graph, unicode)
    fmt = functools.partial(report.formula, paper=unicode)
    from .. import trace as tracing

    outputs = tracing.outputs_by_node(graph)
    primal = new_table(plain)
    for header in ("variable", "definition", "in the inputs", ""):
        primal.add_column(header, overflow="fold")
    for i in range(len(graph)):
        role = (["input"] if i < graph.n else []) + [f"output {nt.output}{k + 1}" for k in outputs.get(i, ())]
        primal.add_row(Text(nt.variable(i)), Text(nt.math(definition(graph, i, nt))), Text(fmt(report.w[i])),
                       Text(", ".join(role)))
    for k, out in enumerate(graph.outputs):
        if isinstance(out, Const):
            primal.add_row(Text(f"{nt.output}{k + 1}"), Text("a constant"), Text(fmt(symbolic.constant(graph, out))),
                           Text(f"output {nt.output}{k + 1}"))
    return [Text(f"evaluation trace (primal sweep), in the inputs   {numbering_note(graph, nt)}", style="bold"),
            primal, Text("")]


def symbolic_trace_tables(report: SymbolicReport, unicode: bool, plain: bool = False) -> list[Any]:
    """The lecture's pass tables in formulas: one per pass, each tangent or adjoint in the inputs."""
    from rich.text import Text

    from .. import symbolic


    tr = symbolic.trace(report)
    nt = notation_for(report.graph, unicode)
    fmt = functools.partial(report.formula, paper=unicode)
    forward = tr.mode == "forward"
    parts: list[Any] = []
    for q, sweep in enumerate(tr.passes):
        parts.append(Text(pass_heading(tr, q, nt), style="bold"))
        table = new_table(plain)
        table.add_column("tangent" if forward else "adjoint")
        table.add_column(rule_heading(tr.mode, nt), overflow="fold")
        table.add_column("in the inputs", overflow="fold")
        table.add_column(entry_heading(tr.mode, sweep.identity, nt))
        for row in sweep.rows:
            marks = result_marks(tr, row, q, nt)
            table.add_row(Text(nt.derivative(tr.mode, row.node), style="bold" if marks else ""),
                          Text(equation(tr, row, nt)),
                          Text(zero_mark(unicode) if row.zero else fmt(row.value),
                               style="bold" if marks else "dim" if row.zero else ""),
                          Text(nt.math(", ".join(marks)), style="bold"))
        parts += [table, *([ZeroLegend(unicode)] if any(row.zero for row in sweep.rows) else []), Text("")]
    return parts


def print_parts(parts: Sequence[Any], out: IO[str], plain: bool, color: bool = True) -> None:
    """Print Rich renderables: boxes in a terminal (in colour and bold, unless ``color`` is off:
    then no escape at all); plain text, no escapes, in a pipe."""
    from rich.console import Console

    legends = [k for k, part in enumerate(parts) if isinstance(part, ZeroLegend)]
    parts = [part.text() if isinstance(part, ZeroLegend) else part for k, part in enumerate(parts)
             if not legends or k not in legends[1:]]                   # the zero legend once, under its first table
    if not plain:
        console = Console(file=out, highlight=False, markup=False, emoji=False, force_terminal=True if color else None,
                          no_color=not color, color_system="auto" if color else None)
        for part in parts:
            if isinstance(part, FullWidth):              # Console.print never goes past the console's width
                Console(file=out, highlight=False, markup=False, emoji=False, width=part.width,
                        force_terminal=console.is_terminal, color_system=console.color_system).print(part.renderable)  # type: ignore[arg-type]
            else:
                console.print(part)
        return
    console = Console(highlight=False, markup=False, emoji=False, width=100_000, no_color=True,
                      force_terminal=False, record=True, file=io.StringIO())
    for part in parts:
        console.print(part.renderable if isinstance(part, FullWidth) else part)
    lines = [line.rstrip() for line in console.export_text(styles=False).split("\n")]
    text = "\n".join(line for k, line in enumerate(lines) if line or (k and lines[k - 1]))
    out.write(text.strip("\n") + "\n")


# --- second order: --hessian and --hvp ------------------------------------------------------
def hessian_tables(report: Report, p: int, digits: int, unicode: bool, plain: bool = False) -> list[Any]:
    """Rich renderables for point p of --hessian: per output (or for ȳ·y with a seed) the
    gradient beside the symmetric Hessian, structural zeros shown as ·; for --hvp, H_k·v
    for every output, one row each."""
    from rich.text import Text

    from ..core.second import hessian_sparsity

    graph = report.graph
    spell = (lambda text: text) if unicode else ascii_math
    d, zero = ("∂", "·") if unicode else ("d", ".")

    def fmt(v: float) -> Text:
        return Text(format_number(float(v), digits), style="bold red" if not math.isfinite(v) else "")

    parts: list[Any] = [Text(spell(f"at {point_text(graph, report.points[p])}   ({passes_of(report)})"), style="bold")]
    seed = report.seed
    legend = [k for k in range(graph.m) if len(graph.labels[k]) > 40]       # long formulas: named, then spelled out
    what = [spell(f"{letters(graph)[1]}{k + 1}" if k in legend else _label(graph, k)) for k in range(graph.m)] \
        if seed is None else \
        ["ȳ·y = " + " + ".join(f"{format_number(float(v), digits)}·y{k + 1}" for k, v in enumerate(seed) if v)
         if unicode else "ybar.y"]
    if report.kind == "hvp":
        assert report.direction is not None
        table = new_table(plain)
        table.add_column("output")
        table.add_column("value", justify="right")
        for name in graph.inputs:
            table.add_column(spell(f"(H·v) {name}"), justify="right", style="bold", overflow="fold")
        rows = [report.derivatives[p]] if seed is not None else list(report.derivatives[p])
        values = [float(np.dot(seed, report.values[p]))] if seed is not None else list(report.values[p])
        for label, value, row in zip(what, values, rows):
            table.add_row(Text(label), fmt(value), *(fmt(v) for v in row))
        v = ", ".join(f"{name}: {format_number(float(c), digits)}" for name, c in zip(graph.inputs, report.direction))
        return [*parts, table, Text(f"v = ({v})")]
    pattern = hessian_sparsity(graph)
    if seed is not None:
        pattern = pattern[np.asarray(seed) != 0].any(axis=0, keepdims=True) if np.any(seed) else pattern[:1] & False
    H = report.derivatives[p][None] if seed is not None else report.derivatives[p]
    G = report.gradient[p][None] if seed is not None else report.gradient[p]
    for k, label in enumerate(what):
        table = new_table(plain)
        table.add_column(label)
        table.add_column("gradient", justify="right", style="bold", overflow="fold")   # narrow: fold, never cut
        for name in graph.inputs:
            table.add_column(f"{d}/{d}{name}", justify="right", overflow="fold")
        for a, name in enumerate(graph.inputs):
            table.add_row(Text(f"{d}/{d}{name}"), fmt(G[k][a]),
                          *(fmt(H[k][a][b]) if pattern[k][a][b] else Text(zero, style="dim") for b in range(graph.n)))
        parts.append(table)
    parts += [Text(f"{letters(graph)[1]}{k + 1} = {graph.labels[k]}") for k in legend if seed is None]
    return parts + ([ZeroLegend(unicode)] if not pattern.all() else [])


def describe_hessian(result: Any, p: int, digits: int = 3, unicode: bool = True) -> list[str]:
    """--check with --hessian, for people: the verdict and the two comparisons at point p."""
    from ..check import ATOL, RTOL, STEP, _num

    summary = result.summary(p)
    (fd_abs, fd_rel), (sym_abs, sym_rel) = summary["ad_vs_differences"], summary["symmetry"]
    x = "·" if unicode else "*"
    lines = [f"check at {point_text(result.graph, result.points[p])}: {result.verdict(p).upper()}",
             f"  H vs central differences of the gradient: max abs {_num(fd_abs, digits)}, max rel {_num(fd_rel, digits)}"
             f"  (allowed: rtol {RTOL:g}, atol {ATOL:g}, plus the differences' rounding 4{x}ε{x}|∇y|/h; "
             f"step h = {STEP:.3g}{x}max(1, |x_j|))",
             f"  symmetry, H − Hᵀ: max abs {_num(sym_abs, digits)}, max rel {_num(sym_rel, digits)}"]
    return lines if unicode else [ascii_math(line) for line in lines]


def second_trace_tables(report: Report, p: int, digits: int, unicode: bool, plain: bool = False) -> list[Any]:
    """--trace with --hessian or --hvp at point p: per direction, the tangent sweep ẇ and the ċ
    of every edge; then per output (or seed) the reverse table with both w̄ and w̄̇."""
    from rich.text import Text

    from .. import trace as tracing
    from .notation import curvature_terms, pass_seeds, second_marks, second_terms

    passes = tracing.build_second(report, p)
    graph = report.graph
    nt = notation_for(graph, unicode)
    parts: list[Any] = [Text(nt.math(f"second-order sweep (forward-over-reverse) at {point_text(graph, report.points[p])}: "
                                     f"{len(passes)} pass{'es' if len(passes) != 1 else ''}"), style="bold")]

    def num(v: float, style: str = "") -> Text:
        return Text(format_number(v, digits), style="bold red" if not np.isfinite(v) else style)

    shown_direction: set[Any] = set()
    for q, sweep in enumerate(passes):
        direction = "v" if sweep.b is None else f"e{sweep.b + 1}"
        weights = "the seed ȳ" if sweep.k is None else f"ȳ = e{sweep.k + 1}"
        if sweep.b not in shown_direction:
            shown_direction.add(sweep.b)
            parts += [Text(""), Text(nt.math(f"tangents along ẋ = {direction}: {pass_seeds(sweep.tangent, 0, nt, digits)}"),
                                     style="bold"), pass_table(sweep.tangent, 0, nt, digits, plain)]
            if sweep.curvature:
                curv = _new_table(plain)
                for header, justify in (("edge", "left"), (nt.math("ċ: Σ ∂c/∂wq·ẇq"), "left"),
                                        ("at this point", "left"), ("value", "right")):
                    curv.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
                for c in sweep.curvature:
                    curv.add_row(Text(nt.math(nt.c_dot(c.i, c.j))), Text(" ".join(curvature_terms(c, notation=nt))),
                                 Text(" ".join(curvature_terms(c, at=True, digits=digits, notation=nt))),
                                 num(c.value, "dim" if c.zero else ""))
                parts.append(curv)
        parts += [Text(""), Text(nt.math(f"pass {q + 1} of {len(passes)}: w̄ from {weights}, w̄̇ along ẋ = {direction}"),
                                 style="bold")]
        table = _new_table(plain)
        for header, justify in (("adjoint", "left"), (rule_heading("reverse", nt), "left"), ("at this point", "left"),
                                ("value", "right"), (nt.math("w̄̇"), "left"),
                                (nt.math("rule: Σ w̄̇i·∂wi/∂wj + w̄i·ċij"), "left"), ("at this point", "left"),
                                ("value", "right"), ("entry", "left")):
            table.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
        adjoint = sweep.adjoint
        for row, second in zip(adjoint.passes[0].rows, sweep.rows):
            marks = second_marks(adjoint, second.node, sweep.b, sweep.k, nt)
            table.add_row(Text(nt.derivative("reverse", row.node)),
                          Text(" ".join(equation_terms(adjoint, row, nt))),
                          Text(" ".join(equation_terms_at(adjoint, row, 0, digits, nt))),
                          num(row.value, "dim" if row.zero else ""),
                          Text(nt.bar_dot(second.node), style="bold" if marks else ""),
                          Text(" ".join(second_terms(adjoint, second, notation=nt))),
                          Text(" ".join(second_terms(adjoint, second, at=True, digits=digits, notation=nt))),
                          num(second.value, "bold" if marks else "dim" if second.zero else ""),
                          Text(nt.math(", ".join(marks)), style="bold"))
        parts.append(table)
    parts.append(Text(""))
    return parts


def symbolic_second_tables(report: SymbolicReport, unicode: bool, plain: bool = False) -> list[Any]:
    """--hessian or --hvp without a point: per output (or ȳ·y) the gradient beside the
    Hessian, every entry a formula in the inputs; for --hvp, H_k·v per output."""
    from rich.text import Text

    graph = report.graph
    spell = (lambda text: text) if unicode else ascii_math
    fmt = functools.partial(report.formula, paper=unicode)
    d = "∂" if unicode else "d"
    head = Text(f"f({', '.join(graph.inputs)}) = ", style="bold")
    head.append(Text(", ".join(graph.labels) if graph.m == 1 else f"({', '.join(graph.labels)})"))
    head.append(Text(spell(f"   ({passes_of(report)})"), style="bold"))
    parts: list[Any] = [head]
    seeded = report.seed is not None
    labels = ([spell("ȳ·y")] if seeded else [_label(graph, k) for k in range(graph.m)])
    gradients = [report.gradient] if seeded else report.gradient
    seconds = [report.second] if seeded else report.second
    assert gradients is not None and seconds is not None
    if report.kind == "hvp":
        table = new_table(plain)
        table.add_column("output")
        for name in graph.inputs:
            table.add_column(spell(f"(H·v) {name}"), style="bold")
        for label, row in zip(labels, seconds):
            table.add_row(Text(label), *(Text(fmt(c)) for c in row))
        v = ", ".join(f"{name}: {format_number(float(c))}" for name, c in zip(graph.inputs, report.direction or ()))
        return [*parts, table, Text(f"v = ({v})")]
    for label, g, H in zip(labels, gradients, seconds):
        table = new_table(plain)
        table.add_column(label)
        table.add_column("gradient", style="bold")
        for name in graph.inputs:
            table.add_column(f"{d}/{d}{name}")
        for a, name in enumerate(graph.inputs):
            table.add_row(Text(f"{d}/{d}{name}"), Text(fmt(g[a])), *(Text(fmt(c)) for c in H[a]))
        parts.append(table)
    return parts


def symbolic_second_trace_tables(report: SymbolicReport, unicode: bool, plain: bool = False) -> list[Any]:
    """The second-order sweep in formulas: per direction the tangents and the ċ of each edge,
    then per output (or seed) w̄ and w̄̇ with their rules, every value in the inputs."""
    from rich.text import Text

    from .. import symbolic
    from .notation import curvature_terms, second_marks, second_terms

    passes = symbolic.trace_second(report)
    graph = report.graph
    nt = notation_for(graph, unicode)
    fmt = functools.partial(report.formula, paper=unicode)
    parts: list[Any] = [Text(nt.math(f"second-order sweep (forward-over-reverse), in the inputs: "
                                     f"{len(passes)} pass{'es' if len(passes) != 1 else ''}"), style="bold")]
    shown: set[Any] = set()
    for q, sweep in enumerate(passes):
        direction = "v" if sweep.b is None else f"e{sweep.b + 1}"
        if sweep.b not in shown:
            shown.add(sweep.b)
            tangents = _new_table(plain)
            for header in ("tangent", rule_heading("forward", nt), "in the inputs"):
                tangents.add_column(header, overflow="fold")
            for row in sweep.tangent.passes[0].rows:
                tangents.add_row(Text(nt.derivative("forward", row.node)),
                                 Text(" ".join(equation_terms(sweep.tangent, row, nt))),
                                 Text(fmt(row.value), style="dim" if row.zero else ""))
            parts += [Text(""), Text(nt.math(f"tangents along ẋ = {direction}"), style="bold"), tangents]
            if sweep.curvature:
                curv = _new_table(plain)
                for header in ("edge", nt.math("ċ: Σ ∂c/∂wq·ẇq"), "in the inputs"):
                    curv.add_column(header, overflow="fold")
                for c in sweep.curvature:
                    curv.add_row(Text(nt.math(nt.c_dot(c.i, c.j))), Text(" ".join(curvature_terms(c, notation=nt))),
                                 Text(fmt(c.value), style="dim" if c.zero else ""))
                parts.append(curv)
        weights = "the seed ȳ" if sweep.k is None else f"ȳ = e{sweep.k + 1}"
        parts += [Text(""), Text(nt.math(f"pass {q + 1} of {len(passes)}: w̄ from {weights}, w̄̇ along ẋ = {direction}"),
                                 style="bold")]
        table = _new_table(plain)
        for header in ("adjoint", rule_heading("reverse", nt), "in the inputs", nt.math("w̄̇"),
                       nt.math("rule: Σ w̄̇i·∂wi/∂wj + w̄i·ċij"), "in the inputs", "entry"):
            table.add_column(header, overflow="fold")
        adjoint = sweep.adjoint
        for row, second in zip(adjoint.passes[0].rows, sweep.rows):
            marks = second_marks(adjoint, second.node, sweep.b, sweep.k, nt)
            table.add_row(Text(nt.derivative("reverse", row.node)), Text(" ".join(equation_terms(adjoint, row, nt))),
                          Text(fmt(row.value), style="dim" if row.zero else ""),
                          Text(nt.bar_dot(second.node), style="bold" if marks else ""),
                          Text(" ".join(second_terms(adjoint, second, notation=nt))),
                          Text(fmt(second.value), style="bold" if marks else "dim" if second.zero else ""),
                          Text(nt.math(", ".join(marks)), style="bold"))
        parts.append(table)
    parts.append(Text(""))
    return parts
