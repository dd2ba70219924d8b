"""Reports → text: a Rich table for people, JSON / JSON lines / CSV for programs.

Only ``tables`` needs Rich, and imports it itself: the machine formats start fast.
Rows of J are outputs and columns are inputs everywhere: J[k][j] = ∂y_k/∂x_j.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .core.graph import Graph, format_number
from .report import Problem, Report, point_text

if TYPE_CHECKING:
    from .batch import Summary


# --- machine formats -----------------------------------------------------------------
def number(v: float) -> float | None:
    """A JSON number: full double precision, or null when not finite."""
    v = float(v)
    return v if math.isfinite(v) else None


def numbers(a: np.ndarray) -> Any:
    """A nested list of JSON numbers from an array."""
    if a.ndim == 0:
        return number(float(a))
    if np.isfinite(a).all():
        return a.tolist()
    return [numbers(row) for row in a] if a.ndim > 1 else [number(v) for v in a]


def result_object(report: Report, p: int) -> dict[str, Any]:
    """The JSON object for point p: point, value, and the Jacobian or the seeded product."""
    obj: dict[str, Any] = {"point": numbers(report.points[p]), "value": numbers(report.values[p])}
    if report.seed is not None and report.product is not None:
        obj["seed"] = numbers(report.seed)
        obj["jvp" if report.mode == "forward" else "vjp"] = numbers(report.product[p])
    elif report.jacobian is not None:
        obj["jacobian"] = numbers(report.jacobian[p])
    return obj


def warning_object(report: Any, problem: Problem) -> dict[str, Any]:
    """The JSON warning for one problem (everything needed is in ``problem``)."""
    return {
        "point": problem.point,
        "node": None if problem.node is None else f"w{problem.node + 1}",
        "expression": problem.expression,
        "kind": problem.kind,
        "arguments": [number(a) for a in problem.arguments],
        "message": problem.message,
    }


def warnings_list(report: Report | Summary) -> list[dict[str, Any]]:
    """The JSON warnings of a run (a Report, or batch.Summary for many chunks): one per
    traced problem, and one counting the points with non-finite results not traced."""
    found = [warning_object(report, problem) for problem in report.problems]
    more = report.unexplained
    if more > 0:
        found.append({"point": None, "node": None, "expression": "", "kind": "value", "arguments": [],
                      "message": f"{more} more point{'s' if more > 1 else ''} with non-finite results"})
    return found


def document(report: Report) -> dict[str, Any]:
    """The whole JSON document (one object)."""
    graph = report.graph
    return {
        "variables": list(graph.inputs),
        "outputs": list(graph.labels),
        "mode": report.mode,
        "passes": report.n_passes,
        "sparsity": graph.sparsity(),
        "results": [result_object(report, p) for p in range(len(report.points))],
        "warnings": warnings_list(report),
    }


def csv_header(report: Report) -> list[str]:
    graph = report.graph
    head = list(graph.inputs) + [f"y{k + 1}" for k in range(graph.m)]
    if report.seed is not None:
        if report.mode == "forward":
            return head + [f"jvp(y{k + 1})" for k in range(graph.m)]
        return head + [f"vjp({name})" for name in graph.inputs]
    return head + [f"d(y{k + 1})/d({name})" for k in range(graph.m) for name in graph.inputs]


def csv_rows(report: Report, digits: int | None) -> Iterator[list[str]]:
    """One row per point: inputs, outputs, then J row by row (or the seeded product)."""
    derivatives = report.product if report.seed is not None else report.jacobian
    assert derivatives is not None
    flat = derivatives.reshape(len(report.points), -1)
    write = repr if digits is None else (lambda v: format_number(v, digits))
    for p in range(len(report.points)):
        row = np.concatenate([report.points[p], report.values[p], flat[p]])
        yield [write(float(v)) for v in row]


# --- tables for people ------------------------------------------------------------------
def new_table(plain: bool) -> Any:
    """A Rich table: rounded in a terminal, a Markdown table (plain ASCII) in a pipe."""
    from rich import box
    from rich.table import Table

    if plain:
        return Table(box=box.MARKDOWN, show_edge=True, pad_edge=True)
    return Table(box=box.ROUNDED, header_style="bold")


def tables(report: Report, p: int, digits: int, unicode: bool, plain: bool = False) -> list[Any]:
    """Rich renderables for point p: a heading and the Jacobian (or seeded product)."""
    from rich.text import Text

    graph = report.graph
    d = "∂" if unicode else "d"

    def fmt(v: float) -> Text:
        text = format_number(float(v), digits)
        return Text(text, style="bold red" if not math.isfinite(v) else "")

    spell = (lambda text: text) if unicode else ascii_math
    heading = Text(spell(f"at {point_text(graph, report.points[p])}   ({report.passes_text()})"), style="bold")
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


def _label(graph: Graph, k: int, limit: int = 40) -> str:
    label = graph.labels[k]
    if len(label) > limit:
        label = label[: limit - 1] + "…"
    return label if graph.m == 1 else f"y{k + 1} = {label}"


# The one ASCII spelling of the notation every printer uses (tables, trace, DOT, --check).
_ASCII = str.maketrans({"·": "*", "−": "-", "√": "sqrt", "∛": "cbrt", "σ": "sigmoid", "²": "^2", "ᵀ": "^T",
                        "∂": "d", "…": "...", "ε": "eps", "±": "+/-", "∇": "grad ", "Σ": "sum",
                        "\u0307": "_dot", "\u0304": "_bar"})      # combining marks: ẇ4 → w_dot4, w̄4 → w_bar4


def ascii_math(text: str) -> str:
    """The plain-ASCII spelling of our math notation, for non-UTF-8 terminals and --ascii."""
    return text.translate(_ASCII)
