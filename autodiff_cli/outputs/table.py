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
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .. import trace as tracing
from ..check import ATOL, FAIL, RTOL, STEP, ULPS, Check, _num
from ..core.graph import Const, format_number
from ..report import Report, point_text
from ..trace import Trace
from .notation import (
    Notation,
    _label,
    ascii_math,
    definition_at,
    entry_heading,
    equation,
    equation_terms,
    equation_terms_at,
    pass_heading,
    passes_of,
    result_marks,
    rule_heading,
)
from .sink import Sink, Style

if TYPE_CHECKING:
    from ..points import Points
    from ..symbolic import SymbolicReport


# --- tables for people ------------------------------------------------------------------
def new_table(plain: bool) -> Any:
    """A Rich table: rounded in a terminal, a Markdown table (plain ASCII) in a pipe."""
    from rich import box
    from rich.table import Table

    if plain:
        return Table(box=box.MARKDOWN, show_edge=True, pad_edge=True)
    return Table(box=box.ROUNDED, header_style="bold")


def jacobian_tables(report: Report, p: int, digits: int, unicode: bool, plain: bool = False) -> list[Any]:
    """Rich renderables for point p: a heading and the Jacobian (or seeded product)."""
    from rich.text import Text

    graph = report.graph
    d = "∂" if unicode else "d"

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
    for name in graph.inputs:
        table.add_column(f"{d}/{d}{name}", justify="right")
    zero = Text("·" if unicode else ".", style="dim")          # structurally zero: y_k does not depend on x_j
    for k, pattern in enumerate(graph.sparsity()):
        table.add_row(Text(labels[k]), fmt(report.values[p][k]),
                      *(fmt(v) if nonzero else zero for v, nonzero in zip(report.jacobian[p][k], pattern)))
    return [heading, table]




# --- tables ----------------------------------------------------------------------------------
PLAIN_WIDTH = 120      # piped output: wider pass tables put one term per line (a long sum is one tall row)


def trace_tables(report: Report, p: int, digits: int, unicode: bool, plain: bool = False) -> list[Any]:
    """Rich renderables for point p: the primal sweep, then one table per pass."""
    from rich.text import Text

    trace = tracing.build(report, p)
    graph = trace.graph
    nt = Notation(unicode)

    def num(v: float, style: str = "") -> Text:
        return Text(format_number(v, digits), style="bold red" if not np.isfinite(v) else style)

    parts: list[Any] = [Text(f"evaluation trace (primal sweep) at {point_text(graph, trace.point)}", style="bold")]
    primal = _new_table(plain)
    for header, justify in (("variable", "left"), ("definition", "left"), ("at this point", "left"),
                            ("value", "right"), ("", "left")):
        primal.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for i in range(len(graph)):
        role = ["input"] if i < graph.n else []
        role += [f"output y{k + 1}" for k in trace.outputs_at(i)]
        primal.add_row(Text(f"w{i + 1}"), Text(nt.math(graph.definition(i))),
                       Text(nt.math(definition_at(trace, i, digits))), num(trace.w[i]), Text(", ".join(role)))
    for k, out in enumerate(graph.outputs):
        if isinstance(out, Const):
            primal.add_row(Text(f"y{k + 1}"), Text("a constant"), Text(""), num(out.value), Text(f"output y{k + 1}"))
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
    parts.append(Text(""))
    return parts


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
        marks = result_marks(trace, row, q)
        value = row.value
        style = "bold red" if not np.isfinite(value) else "bold" if marks else "dim" if row.zero else ""
        table.add_row(Text(nt.derivative(trace.mode, row.node), style="bold" if marks else ""),
                      Text(join.join(rule)), Text(join.join(at)),
                      Text(format_number(value, digits), style=style), Text(nt.math(", ".join(marks)), style="bold"))
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
        parts: list[Any] = []
        for p in range(len(report.points)):
            parts += [Text("")] if p or offset else []
            if style.trace:
                parts += trace_tables(report, p, self.digits, style.unicode, plain=style.plain)
            parts += jacobian_tables(report, p, self.digits, style.unicode, plain=style.plain)
            if checked is not None:
                parts += [Text(line) for line in describe(checked, p, style.digits or 3, unicode=style.unicode)]
        print_parts(parts, self.out, style.plain)

    def write_formulas(self, report: SymbolicReport) -> None:
        style = self.style
        print_parts(symbolic_tables(report, style.unicode, plain=style.plain, with_trace=style.trace), self.out,
                    style.plain)


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


def symbolic_tables(report: SymbolicReport, unicode: bool, plain: bool = False, with_trace: bool = False) -> list[Any]:
    """Rich renderables: (the trace, then) a heading and J as formulas (outputs as rows, inputs as columns)."""

    from rich.text import Text


    graph = report.graph
    d = "∂" if unicode else "d"
    fmt = functools.partial(report.formula, paper=unicode)
    head = Text(f"f({', '.join(graph.inputs)}) = ", style="bold")
    head.append(Text(", ".join(graph.labels) if graph.m == 1 else f"({', '.join(graph.labels)})"))
    head.append(Text(f"   ({passes_of(report) if unicode else ascii_math(passes_of(report))})", style="bold"))
    parts = symbolic_primal_tables(report, unicode, plain) + (symbolic_trace_tables(report, unicode, plain) if with_trace else [])
    table = new_table(plain)
    labels = [graph.labels[k] if graph.m == 1 else f"y{k + 1} = {graph.labels[k]}" for k in range(graph.m)]
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
    for name in graph.inputs:
        table.add_column(f"{d}/{d}{name}")
    for label, row in zip(labels, report.jacobian):
        table.add_row(Text(label), *(Text(fmt(c)) for c in row))
    return [*parts, head, table]


def symbolic_primal_tables(report: SymbolicReport, unicode: bool, plain: bool = False) -> list[Any]:
    """The Wengert list with each w_i in the inputs: the primal sweep on paper."""
    from rich.text import Text

    from .. import symbolic



    graph = report.graph
    nt = Notation(unicode)
    fmt = functools.partial(report.formula, paper=unicode)
    outputs = tracing.outputs_by_node(graph)
    primal = new_table(plain)
    for header in ("variable", "definition", "in the inputs", ""):
        primal.add_column(header, overflow="fold")
    for i in range(len(graph)):
        role = (["input"] if i < graph.n else []) + [f"output y{k + 1}" for k in outputs.get(i, ())]
        primal.add_row(Text(f"w{i + 1}"), Text(nt.math(graph.definition(i))), Text(fmt(report.w[i])),
                       Text(", ".join(role)))
    for k, out in enumerate(graph.outputs):
        if isinstance(out, Const):
            primal.add_row(Text(f"y{k + 1}"), Text("a constant"), Text(fmt(symbolic.constant(graph, out))), Text(f"output y{k + 1}"))
    return [Text("evaluation trace (primal sweep), in the inputs", style="bold"), primal, Text("")]


def symbolic_trace_tables(report: SymbolicReport, unicode: bool, plain: bool = False) -> list[Any]:
    """The lecture's pass tables in formulas: one per pass, each tangent or adjoint in the inputs."""
    from rich.text import Text

    from .. import symbolic


    tr = symbolic.trace(report)
    nt = Notation(unicode)
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
            marks = result_marks(tr, row, q)
            table.add_row(Text(nt.derivative(tr.mode, row.node), style="bold" if marks else ""),
                          Text(equation(tr, row, nt)),
                          Text(fmt(row.value), style="bold" if marks else "dim" if row.zero else ""),
                          Text(nt.math(", ".join(marks)), style="bold"))
        parts += [table, Text("")]
    return parts


def print_parts(parts: Sequence[Any], out: IO[str], plain: bool) -> None:
    """Print Rich renderables: styled in a terminal; plain text, no escapes, in a pipe."""
    from rich.console import Console

    if not plain:
        console = Console(file=out, highlight=False, markup=False, emoji=False)
        for part in parts:
            console.print(part)
        return
    console = Console(highlight=False, markup=False, emoji=False, width=100_000, no_color=True,
                      force_terminal=False, record=True, file=io.StringIO())
    for part in parts:
        console.print(part)
    lines = [line.rstrip() for line in console.export_text(styles=False).split("\n")]
    text = "\n".join(line for k, line in enumerate(lines) if line or (k and lines[k - 1]))
    out.write(text.strip("\n") + "\n")
