"""Issue 13, item 1: a wide Jacobian never loses a number in a terminal.

Each case runs ``python -m autodiff_cli`` in a real pseudo-terminal of 60, 80 or 120
columns (the window size set with TIOCSWINSZ, COLUMNS unset, so Rich reads the width
from the terminal itself) and checks that every entry of J appears in a cell in full at
the requested digits, that no line is wider than the terminal and that nothing is cut
with "…".  Then ``--layout`` forces each layout, in a terminal and in a pipe.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from terminal import in_terminal

from autodiff_cli.cli import main
from autodiff_cli.core.graph import format_number
from autodiff_cli.core.parse import parse

ROOT = Path(__file__).resolve().parents[1]
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BOX = "│|"


def screen_of(args: list[str], columns: int) -> str:
    """stdout and stderr of adjac in a pseudo-terminal ``columns`` wide, escapes removed."""
    status, shown, _ = in_terminal(args, columns, rows=60, timeout=120)
    assert status == 0
    return ESCAPE.sub("", shown)


def cells(text: str) -> set[str]:
    """Every cell of every table in the text, stripped."""
    found = set()
    for line in text.split("\n"):
        if line[:1] in BOX:
            found.update(cell.strip() for cell in re.split("[│|]", line)[1:-1])
    return found


def check_screen(text: str, columns: int) -> None:
    assert "…" not in text and "..." not in text, "something was cut"
    assert max(len(line) for line in text.split("\n")) <= columns


def gradient(n: int) -> str:
    return "+".join(f"1.234567e9*x{i}^3" for i in range(1, n + 1))


def square(n: int) -> str:
    return ", ".join(f"x{i}*x{i % n + 1}*1.5e10" for i in range(1, n + 1))


def point(n: int) -> str:
    return ",".join(f"{1 + 0.37 * i:.2f}" for i in range(n))


def numeric_jacobian(expression: str, at: str) -> tuple[list[list[float]], list[list[bool]]]:
    doc = json.loads(CliRunner().invoke(main, [expression, "--at", at, "--format", "json"]).stdout)
    return doc["results"][0]["jacobian"], doc["sparsity"]


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("n", [12, 20, 50])
@pytest.mark.parametrize(("shape", "digits"), [(gradient, "6"), (square, "6"), (gradient, "12")])
def test_every_number_in_full(columns, n, shape, digits):
    expression, at = shape(n), point(n)
    screen = screen_of([expression, "--at", at, "--digits", digits], columns)
    check_screen(screen, columns)
    shown = cells(screen)
    J, pattern = numeric_jacobian(expression, at)
    missing = [(k, j) for k, row in enumerate(J) for j, v in enumerate(row)
               if pattern[k][j] and format_number(v, int(digits)) not in shown]
    assert not missing, screen
    headers = {f"∂/∂x{j + 1}" for j in range(n)} if shape is square else {"∇y1"}
    assert headers <= shown                                  # every header whole
    if shape is gradient:
        assert "J transposed" in screen and {f"x{j + 1}" for j in range(n)} <= shown
        legend = screen[screen.rindex("y1 = ") + 5 :].replace("\n", "")     # wrapped, never cut
        assert legend.startswith(expression)


def symbolic_entries(expression: str) -> list[str]:
    from autodiff_cli import symbolic

    graph = parse(expression)
    report = symbolic.compute(graph, "reverse" if graph.m < graph.n else "forward")
    assert report.jacobian is not None
    return [report.formula(c, paper=True) if nonzero else "·"                 # · marks a structural zero
            for row, pattern in zip(report.jacobian, graph.sparsity()) for c, nonzero in zip(row, pattern)]


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("n", [12, 20, 50])
@pytest.mark.parametrize("kind", ["gradient", "square"])
def test_every_formula_in_full(columns, n, kind):
    if kind == "gradient":
        expression = "+".join(f"100*(x{i + 1}-x{i}^2)^2+(1-x{i})^2" for i in range(1, n))
    else:
        expression = ", ".join(f"x{i}*x{i % n + 1}" for i in range(1, n + 1))
    screen = screen_of([expression, "--symbolic"], columns)
    check_screen(screen, columns)
    shown = cells(screen)
    missing = [f for f in symbolic_entries(expression) if f not in shown]
    assert not missing, screen


def test_wide_when_it_fits():
    screen = screen_of(["x1*x2 + sin(x1), exp(x1-x2)", "--at", "1,2"], 80)
    assert "∂/∂x1" in screen and "transposed" not in screen and "blocks" not in screen


@pytest.mark.parametrize("layout", ["wide", "transposed", "blocks"])
def test_a_layout_can_be_forced(layout):
    expression, at = square(12), point(12)
    screen = screen_of([expression, "--at", at, "--layout", layout], 80)
    assert "…" not in screen
    J, _ = numeric_jacobian(expression, at)
    shown = cells(screen) if layout != "wide" else set(re.split(r"[│\s]+", screen))
    assert {format_number(v, 6) for row in J for v in row if v} <= shown
    assert ("J transposed" in screen) == (layout == "transposed")
    assert ("blocks of columns" in screen) == (layout == "blocks")
    if layout == "wide":                                     # one table, wider than the terminal, not squeezed
        assert screen.count("╭") == 1


def test_a_pipe_keeps_one_wide_table_unless_asked():
    expression, at = square(20), point(20)
    piped = CliRunner(env={"COLUMNS": "60"}).invoke(main, [expression, "--at", at]).stdout
    assert "blocks" not in piped and "transposed" not in piped
    assert len([line for line in piped.split("\n") if line.startswith("|")]) == 22      # header, rule, 20 rows
    blocks = CliRunner(env={"COLUMNS": "60"}).invoke(main, [expression, "--at", at, "--layout", "blocks"]).stdout
    assert "blocks of columns to fit 60 columns" in blocks
    assert max(len(line) for line in blocks.split("\n") if line.startswith("|")) <= 60
    transposed = CliRunner().invoke(main, ["x^2*y + z, x*y*z", "--at", "1,2,3", "--layout", "transposed",
                                           "--ascii"]).stdout
    assert "| input | value | grad y1 | grad y2 |" in transposed


def test_a_long_label_gets_a_legend_not_an_ellipsis():
    label = "+".join(f"sin(x*{k})" for k in range(1, 12))
    out = CliRunner().invoke(main, [label, "--at", "0.5"]).stdout
    assert "…" not in out and f"y1 = {label}" in out
    assert "| y1     |" in out
