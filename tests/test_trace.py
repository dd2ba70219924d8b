"""--trace: the sweep tables, pass by pass, checked in the table text and in JSON.

The table checks read the piped (plain Markdown) output cell by cell; the numbers are
compared with hand-derived formulas, in JSON at full precision and in the table at the
six digits shown.
"""

import io
import json
import math

import pytest
from click.testing import CliRunner

from autodiff_cli import compute, parse
from autodiff_cli.cli import main
from autodiff_cli.outputs.notation import Notation, equation
from autodiff_cli.trace import build

DOT, BAR = "\u0307", "\u0304"
WORKED = "sin(x1) + x1*x2, exp(x1-x2)"
EXERCISE = "x1*x2 + x1*x3, ln(x1+x2)"
E = math.exp(-1.0)


def d(i):
    return f"w{DOT}{i}"


def b(i):
    return f"w{BAR}{i}"


def run(*args, code=0):
    result = CliRunner().invoke(main, [*args, "--trace"])
    assert result.exit_code == code, result.output
    return result


def sections(text):
    """{heading: [[cell, ...], ...]} for each table of the piped output; the primal one is 'primal'."""
    found, heading = {}, None
    for line in text.splitlines():
        if line.startswith("pass ") or line.startswith("evaluation trace"):
            heading = "primal" if line.startswith("evaluation") else line
            found[heading] = []
        elif line.startswith("|") and heading is not None and not line.startswith("|--"):
            found[heading].append([cell.strip() for cell in line.strip("|").split("|")])
        elif not line.strip() and heading is not None and found[heading]:
            heading = None
    return found


def rows_by_name(table):
    return {row[0]: row for row in table[1:]}           # table[0] is the header


def passes_of(text):
    tables = sections(text)
    return [tables[h] for h in tables if h != "primal"]


def trace_json(*args):
    doc = json.loads(run(*args, "--format", "json").stdout)
    return [r["trace"] for r in doc["results"]]


def close(cell, expected):
    """A table cell shows expected to the 6 significant digits of the table (· a structural zero)."""
    if cell == "·":
        assert expected == 0, (cell, expected)
        return
    assert float(cell) == pytest.approx(expected, rel=1e-5, abs=1e-12), (cell, expected)


# --- the worked example: f(x1, x2) = (sin(x1) + x1*x2, exp(x1 - x2)) at (1, 2) --------------------
def test_worked_example_definitions_in_table_and_json():
    text = run(WORKED, "--at", "1,2").stdout
    primal = rows_by_name(sections(text)["primal"])
    expected = {"w1": "x1", "w2": "x2", "w3": "sin(w1)", "w4": "w1·w2", "w5": "w1 − w2", "w6": "w3 + w4",
                "w7": "exp(w5)"}
    assert {name: row[1] for name, row in primal.items()} == expected
    close(primal["w3"][3], math.sin(1.0))
    close(primal["w7"][3], E)
    assert primal["w1"][4] == "input" and primal["w6"][4] == "output y1" and primal["w7"][4] == "output y2"
    (trace,) = trace_json(WORKED, "--at", "1,2")
    assert {n["name"]: n["definition"] for n in trace["nodes"]} == expected
    assert [n["value"] for n in trace["nodes"]] == pytest.approx(
        [1, 2, math.sin(1), 2, -1, math.sin(1) + 2, E], rel=1e-15)


def test_worked_example_forward():
    text = run(WORKED, "--at", "1,2", "--mode", "forward").stdout
    first, second = passes_of(text)
    assert f"pass 1 of 2: {d(1)} = 1, {d(2)} = 0  (column 1 of J: ∂/∂x1)" in text
    rows = rows_by_name(first)
    assert rows[d(3)][1:3] == [f"cos(w1)·{d(1)}", "cos(1)·1"]
    assert rows[d(4)][1:3] == [f"w2·{d(1)} + w1·{d(2)}", "2·1 + 1·0"]
    assert rows[d(5)][1] == f"{d(1)} − {d(2)}"
    assert rows[d(6)][1] == f"{d(3)} + {d(4)}"
    assert rows[d(7)][1] == f"w7·{d(5)}"
    close(rows[d(6)][3], math.cos(1) + 2)
    close(rows[d(7)][3], E)
    assert rows[d(6)][4] == "∂y1/∂x1" and rows[d(7)][4] == "∂y2/∂x1" and rows[d(4)][4] == ""
    rows = rows_by_name(second)
    close(rows[d(6)][3], 1.0)
    close(rows[d(7)][3], -E)
    assert rows[d(7)][2] == "0.367879·(-1)"
    p1, p2 = trace_json(WORKED, "--at", "1,2", "--mode", "forward")[0]["passes"]
    assert p1["seed"] == [1.0, 0.0] and p2["seed"] == [0.0, 1.0]
    assert p1["derivatives"]["w6"] == pytest.approx(math.cos(1) + 2, rel=1e-15)
    assert p1["derivatives"]["w7"] == pytest.approx(E, rel=1e-15)
    assert p2["derivatives"]["w6"] == pytest.approx(1.0, rel=1e-15)
    assert p2["derivatives"]["w7"] == pytest.approx(-E, rel=1e-15)


def test_worked_example_reverse():
    text = run(WORKED, "--at", "1,2", "--mode", "reverse").stdout
    first, second = passes_of(text)
    assert f"pass 1 of 2: {b(6)} = 1, {b(7)} = 0  (row 1 of J: ∇y1)" in text
    assert [row[0] for row in first[1:]] == [b(i) for i in range(7, 0, -1)]      # reverse order
    rows = rows_by_name(first)
    assert rows[b(1)][1:3] == [f"{b(3)}·cos(w1) + {b(4)}·w2 + {b(5)}", "1·cos(1) + 1·2 + 0"]
    assert rows[b(2)][1] == f"{b(4)}·w1 − {b(5)}"
    assert rows[b(5)][1] == f"{b(7)}·w7"
    close(rows[b(1)][3], math.cos(1) + 2)
    close(rows[b(2)][3], 1.0)
    assert rows[b(1)][4] == "∂y1/∂x1" and rows[b(2)][4] == "∂y1/∂x2" and rows[b(3)][4] == ""
    rows = rows_by_name(second)
    close(rows[b(1)][3], E)
    close(rows[b(2)][3], -E)
    p1, p2 = trace_json(WORKED, "--at", "1,2", "--mode", "reverse")[0]["passes"]
    assert p1["seed"] == [1.0, 0.0] and p2["seed"] == [0.0, 1.0]
    assert p1["derivatives"]["w1"] == pytest.approx(math.cos(1) + 2, rel=1e-15)
    assert p1["derivatives"]["w2"] == pytest.approx(1.0, rel=1e-15)
    assert p2["derivatives"]["w1"] == pytest.approx(E, rel=1e-15)
    assert p2["derivatives"]["w2"] == pytest.approx(-E, rel=1e-15)
    assert [row["name"] for row in p1["rows"]][:2] == ["w7", "w6"]


# --- the exercise: f(x1, x2, x3) = (x1*x2 + x1*x3, ln(x1 + x2)) -----------------------------------
X1, X2, X3 = 1.5, 2.0, -0.5
S = 1 / (X1 + X2)
J_EXERCISE = [[X2 + X3, X1, X1], [S, S, 0.0]]


def test_exercise_forward():
    text = run(EXERCISE, "--at", f"{X1},{X2},{X3}", "--mode", "forward").stdout
    primal = rows_by_name(sections(text)["primal"])
    assert [primal[f"w{i}"][1] for i in range(4, 9)] == ["w1·w2", "w1·w3", "w1 + w2", "w4 + w5", "ln(w6)"]
    tables = passes_of(text)
    assert len(tables) == 3
    for j, table in enumerate(tables):
        rows = rows_by_name(table)
        assert rows[d(8)][1] == f"(1/w6)·{d(6)}"
        assert rows[d(5)][1] == f"w3·{d(1)} + w1·{d(3)}"
        close(rows[d(7)][3], J_EXERCISE[0][j])
        close(rows[d(8)][3], J_EXERCISE[1][j])
    for j, p in enumerate(trace_json(EXERCISE, "--at", f"{X1},{X2},{X3}", "--mode", "forward")[0]["passes"]):
        assert [p["derivatives"]["w7"], p["derivatives"]["w8"]] == pytest.approx(
            [J_EXERCISE[0][j], J_EXERCISE[1][j]], rel=1e-15)


def test_exercise_reverse():
    text = run(EXERCISE, "--at", f"{X1},{X2},{X3}", "--mode", "reverse").stdout
    tables = passes_of(text)
    assert len(tables) == 2
    for k, table in enumerate(tables):
        rows = rows_by_name(table)
        assert rows[b(1)][1] == f"{b(4)}·w2 + {b(5)}·w3 + {b(6)}"      # x1 feeds three nodes
        assert rows[b(6)][1] == f"{b(8)}·(1/w6)"                       # the quotient in parentheses, as forward
        assert rows[b(3)][1] == f"{b(5)}·w1"
        for j in range(3):
            close(rows[b(j + 1)][3], J_EXERCISE[k][j])
    for k, p in enumerate(trace_json(EXERCISE, "--at", f"{X1},{X2},{X3}", "--mode", "reverse")[0]["passes"]):
        assert [p["derivatives"][f"w{j + 1}"] for j in range(3)] == pytest.approx(J_EXERCISE[k], rel=1e-15)


# --- fan-out: a node used twice gets two terms; a repeated subexpression is one node ----------------
def test_fan_out():
    x1, x2 = 0.7, -1.3
    text = run("sin(x1*x2) + x1*x2", "--at", f"{x1},{x2}", "--mode", "reverse").stdout
    primal = sections(text)["primal"]
    assert [row[1] for row in primal[1:]].count("w1·w2") == 1                 # one node for x1*x2
    rows = rows_by_name(passes_of(text)[0])
    assert rows[b(3)][1] == f"{b(4)}·cos(w3) + {b(5)}"                       # used by sin and by +
    close(rows[b(3)][3], math.cos(x1 * x2) + 1)
    close(rows[b(1)][3], x2 * (math.cos(x1 * x2) + 1))
    (trace,) = trace_json("sin(x1*x2) + x1*x2", "--at", f"{x1},{x2}", "--mode", "reverse")
    w3 = next(r for r in trace["passes"][0]["rows"] if r["name"] == "w3")
    assert [t["from"] for t in w3["terms"]] == ["w4", "w5"]
    assert w3["value"] == pytest.approx(math.cos(x1 * x2) + 1, rel=1e-15)


def test_same_argument_twice_gives_two_terms():
    x = 1.25
    fwd = rows_by_name(passes_of(run("x1*x1", "--at", str(x), "--mode", "forward").stdout)[0])
    assert fwd[d(2)][1:3] == [f"w1·{d(1)} + w1·{d(1)}", "1.25·1 + 1.25·1"]
    close(fwd[d(2)][3], 2 * x)
    rev = rows_by_name(passes_of(run("x1*x1", "--at", str(x), "--mode", "reverse").stdout)[0])
    assert rev[b(1)][1] == f"{b(2)}·w1 + {b(2)}·w1"
    close(rev[b(1)][3], 2 * x)


# --- notation, seeds, several points ----------------------------------------------------------------
def test_ascii_fallback():
    out = run(WORKED, "--at", "1,2", "--ascii").stdout
    assert out.isascii()
    rows = rows_by_name(passes_of(out)[0])
    assert rows["w_dot4"][1:3] == ["w2*w_dot1 + w1*w_dot2", "2*1 + 1*0"]
    assert "pass 1 of 2: w_dot1 = 1, w_dot2 = 0" in out
    out = run(WORKED, "--at", "1,2", "--ascii", "--mode", "reverse").stdout
    assert out.isascii()
    rows = rows_by_name(passes_of(out)[0])
    assert rows["w_bar1"][1] == "w_bar3*cos(w1) + w_bar4*w2 + w_bar5"
    assert rows["w_bar2"][1] == "w_bar4*w1 - w_bar5"


def test_ascii_when_stdout_is_not_utf8():
    assert equation_text(unicode=False) == "w_bar3*cos(w1) + w_bar4*w2 + w_bar5"
    assert equation_text(unicode=True) == f"{b(3)}·cos(w1) + {b(4)}·w2 + {b(5)}"


def equation_text(unicode):
    report = compute(parse(WORKED), [[1.0, 2.0]], "reverse")
    trace = build(report, 0)
    row = next(r for r in trace.passes[0].rows if r.node == 0)
    return equation(trace, row, Notation(unicode))


@pytest.mark.parametrize(("mode", "seed", "node", "expected"), [
    ("forward", "1,0,-2", 7, X2 + X3 - 2 * X1),            # (J·v)_1 = Σ_j J[0][j]·v_j
    ("reverse", "2,-1", 1, 2 * (X2 + X3) - S),              # (vᵀ·J)_1
])
def test_seed_traces_its_single_pass(mode, seed, node, expected):
    args = (EXERCISE, "--at", f"{X1},{X2},{X3}", "--mode", mode, "--seed", seed)
    text = run(*args).stdout
    (table,) = passes_of(text)
    assert "pass 1 of 1" in text
    name = d(node) if mode == "forward" else b(node)
    close(rows_by_name(table)[name][3], expected)
    (trace,) = trace_json(*args)
    (p,) = trace["passes"]
    assert p["seed"] == [float(v) for v in seed.split(",")]
    assert p["derivatives"][f"w{node}"] == pytest.approx(expected, rel=1e-14)


def test_two_points_give_two_traces():
    text = run(WORKED, "--at", "1,2", "--at", "0,0.5").stdout
    assert text.count("evaluation trace") == 2 and "evaluation trace (primal sweep) at x1 = 0, x2 = 0.5" in text
    t1, t2 = trace_json(WORKED, "--at", "1,2", "--at", "0,0.5")
    assert t1["passes"][0]["derivatives"]["w6"] == pytest.approx(math.cos(1) + 2, rel=1e-15)
    assert t2["passes"][0]["derivatives"]["w6"] == pytest.approx(math.cos(0) + 0.5, rel=1e-15)
    lines = run(WORKED, "--at", "1,2", "--at", "0,0.5", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["trace"]["nodes"][0]["value"] for line in lines] == [1.0, 0.0]


# --- awkward cases: structural zeros, constants, repeated outputs, non-finite, csv -------------------
def test_structural_zeros_show_as_zero():
    text = run("f(x1, x2) = (sin(x1), x1, 3)", "--at", "1,2", "--mode", "forward").stdout
    rows = rows_by_name(passes_of(text)[1])                   # seed on x2, which nothing uses
    assert rows[d(3)][2:4] == ["cos(1)·0", "·"]               # the value: the one structural-zero mark
    (trace,) = trace_json("f(x1, x2) = (sin(x1), x1, 3)", "--at", "1,2", "--mode", "reverse")
    row = next(r for r in trace["passes"][0]["rows"] if r["name"] == "w2")
    assert row["value"] == 0.0 and row["structurally_zero"] is True
    assert trace["passes"][1]["derivatives"]["w1"] == 1.0                  # y2 = x1


def test_repeated_outputs_are_seeded_by_y_bar():
    text = run("x1*x2, x1*x2", "--at", "3,4", "--mode", "reverse").stdout
    assert f"pass 1 of 2: y{BAR}1 = 1, y{BAR}2 = 0" in text
    rows = rows_by_name(passes_of(text)[0])
    assert rows[b(3)][1] == f"y{BAR}1 + y{BAR}2"
    close(rows[b(1)][3], 4.0)


def test_non_finite_is_traced_not_a_crash():
    result = run("sqrt(x)", "--at", "0", code=1)
    rows = rows_by_name(passes_of(result.stdout)[0])
    assert rows[d(2)][3] == "inf"
    (trace,) = [r["trace"] for r in json.loads(run("sqrt(x)", "--at", "0", "--format", "json", code=1).stdout)
                ["results"]]
    assert trace["passes"][0]["derivatives"]["w2"] is None


def test_piped_output_is_plain_and_csv_is_refused():
    out = run(WORKED, "--at", "1,2").stdout
    assert "\x1b" not in out
    result = run(WORKED, "--at", "1,2", "--format", "csv", code=2)
    assert "--trace" in result.stderr and not result.stdout


def test_rule_signs_and_parentheses():
    x = 0.5
    text = run("cos(x1) - tanh(x1)", "--at", str(x), "--mode", "forward").stdout
    rows = rows_by_name(passes_of(text)[0])
    assert rows[d(2)][1:3] == [f"−sin(w1)·{d(1)}", "−sin(0.5)·1"]
    assert rows[d(3)][1] == f"(1 − w3²)·{d(1)}"
    close(rows[d(4)][3], -math.sin(x) - (1 - math.tanh(x) ** 2))
    text = run("cos(x1) - tanh(x1)", "--at", str(x), "--mode", "reverse").stdout
    rows = rows_by_name(passes_of(text)[0])
    assert rows[b(1)][1:3] == [f"−{b(2)}·sin(w1) + {b(3)}·(1 − w3²)", "−1·sin(0.5) + (-1)·(1 − 0.462117²)"]
    close(rows[b(1)][3], -math.sin(x) - (1 - math.tanh(x) ** 2))


def test_narrow_terminal_puts_one_term_per_line(monkeypatch):
    from rich.cells import cell_len
    from rich.console import Console

    from autodiff_cli.outputs.table import trace_tables as tables

    monkeypatch.setenv("COLUMNS", "110")
    text = "x*x + tan(x)/y - cos(x)^2 + tanh(-x)*2*atan(x*y), sqrt(y) - x"
    report = compute(parse(text), [[-0.5, 3.0]], "reverse", [1.0, 1.0])
    console = Console(width=110, record=True, file=io.StringIO())
    for part in tables(report, 0, 6, unicode=True, plain=False):
        console.print(part)
    lines = console.export_text().splitlines()
    assert max(map(cell_len, lines)) <= 110
    w1 = [line for line in lines if f"+ {b(4)}·(1 + w4²)" in line]       # a whole term on its line
    assert len(w1) == 1 and "+ 0.333333·(1 + (-0.546302)²)" in w1[0]
    assert not any(f"{b(3)}·w1 + {b(3)}·w1" in line for line in lines)   # the sum is stacked


def test_plain_table_draws_as_rich_does():
    from rich.console import Console
    from rich.text import Text

    from autodiff_cli.outputs.table import PlainTable, new_table

    def draw(table):
        console = Console(width=100_000, no_color=True, force_terminal=False, record=True, file=io.StringIO())
        console.print(table)
        return [line.rstrip() for line in console.export_text(styles=False).split("\n")]

    ours, rich_table = PlainTable(), new_table(plain=True)
    for table in (ours, rich_table):
        table.add_column("adjoint")
        table.add_column("rule", overflow="fold")
        table.add_column("value", justify="right")
        table.add_column("")
        table.add_row(Text(b(12)), Text(f"{b(13)}·cos(w1)\n+ {b(4)}·w2"), Text("-0.25"), Text("∂y1/∂x1"))
        table.add_row(Text("w1"), Text(""), Text("1234567.5"), Text(""))
    assert draw(ours) == draw(rich_table)


def test_ascii_when_stdout_encoding_is_not_utf8():
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}
    out = subprocess.run([sys.executable, "-m", "autodiff_cli", WORKED, "--at", "1,2", "--trace", "--mode", "reverse"],
                         capture_output=True, env=env, check=True).stdout
    assert out.isascii()
    assert b"| w_bar1 " in out and b"w_bar3*cos(w1) + w_bar4*w2 + w_bar5" in out


def test_digits_apply_to_the_numbers_in_the_rules():
    rows = rows_by_name(passes_of(run(WORKED, "--at", "1,2", "--digits", "3").stdout)[0])
    assert rows[d(7)][2:4] == ["0.368·1", "0.368"]
