"""The adjac command through click's CliRunner: every option, format and exit status.

Numbers are checked through --format json against hand-derived values; tables only
loosely (labels present, plain text).  stdout holds results only, stderr the rest.
"""

import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
import tempfile

import pytest
from click.testing import CliRunner

from autodiff_cli import __version__
from autodiff_cli.cli import main

EXAMPLE = "x1*x2 + sin(x1), exp(x1-x2)"
E = math.exp(-1.0)
EXAMPLE_J = [[2 + math.cos(1.0), 1.0], [E, -E]]
EXAMPLE_Y = [2 + math.sin(1.0), E]


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, prog_name="adjac")


def strict_json(text):
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def ok(*args, input=None):
    result = run(*args, input=input)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def document(*args, input=None, code=0):
    result = run(*args, "--format", "json", input=input)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return strict_json(result.stdout)


def usage_error(*args, input=None):
    """Exit 2, nothing on stdout, an Error: line on stderr, no traceback."""
    result = run(*args, input=input)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)
    return result.stderr


def close(actual, expected):
    assert actual == pytest.approx(expected, rel=1e-15, abs=1e-300)


# --- the worked example, both modes, and the JSON document ------------------------------------------
@pytest.mark.parametrize(("mode", "passes"), [("forward", 2), ("reverse", 2), ("auto", 2)])
def test_worked_example_json(mode, passes):
    doc = document(EXAMPLE, "--at", "1,2", "--mode", mode)
    assert doc["variables"] == ["x1", "x2"]
    assert doc["outputs"] == ["x1*x2 + sin(x1)", "exp(x1-x2)"]
    assert doc["mode"] == ("forward" if mode == "auto" else mode)
    assert doc["passes"] == passes
    assert doc["warnings"] == []
    (result,) = doc["results"]
    assert result["point"] == [1.0, 2.0]
    for row, expected in zip(result["jacobian"], EXAMPLE_J):
        close(row, expected)
    close(result["value"], EXAMPLE_Y)
    assert set(result) == {"point", "value", "jacobian"}


def test_json_carries_full_precision():
    doc = document("sin(x)", "--at", "1")
    assert doc["results"][0]["value"][0] == math.sin(1.0)          # exact: repr round-trip
    assert doc["results"][0]["jacobian"][0][0] == math.cos(1.0)


def test_exercise_three_inputs_two_outputs():
    doc = document("f(x1, x2, x3) = (x1*x2 + x1*x3, ln(x1 + x2))", "--at", "1,2,3")
    assert doc["mode"] == "reverse" and doc["passes"] == 2            # auto: n = 3 > m = 2
    J = doc["results"][0]["jacobian"]
    close(J[0], [5.0, 1.0, 1.0])
    close(J[1], [1 / 3, 1 / 3, 0.0])


def test_auto_mode_picks_forward_when_n_at_most_m():
    assert document("x*y, x+y, x", "--at", "1,2")["mode"] == "forward"
    assert document("x*y + z", "--at", "1,2,3")["mode"] == "reverse"
    assert document("x*y, x", "--at", "1,2")["mode"] == "forward"       # n = m: forward


@pytest.mark.parametrize(("expression", "mode", "text"), [
    ("x1*x2", "forward", "forward mode: 2 passes, one per input"),
    ("x1*x2", "reverse", "reverse mode: 1 pass, one per output"),
    ("x1*x2", "auto", "reverse mode: 1 pass, one per output"),
    ("x1*x2 + x1*x3, ln(x1 + x2)", "auto", "reverse mode: 2 passes, one per output"),
    ("x1*x2, x1, x2", "auto", "forward mode: 2 passes, one per input"),
])
def test_table_says_mode_and_passes(expression, mode, text):
    point = "1,2,3" if "x3" in expression else "1,2"
    result = ok(expression, "--at", point, "--mode", mode)
    assert text in result.stdout


def test_invalid_mode_is_a_usage_error():
    assert "'sideways' is not one of" in usage_error("x", "--at", "1", "--mode", "sideways")


# --- --at ----------------------------------------------------------------------------------
def test_point_by_name_in_any_order_equals_positional():
    by_position = document(EXAMPLE, "--at", "1,2")
    by_name = document(EXAMPLE, "--at", "x2=2, x1=1")
    assert by_name == by_position


def test_several_points_in_order():
    doc = document(EXAMPLE, "--at", "1,2", "--at", "x1=0,x2=0", "--at", "-1,0.5")
    assert [r["point"] for r in doc["results"]] == [[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5]]
    close(doc["results"][1]["jacobian"][0], [1.0, 0.0])           # x2 + cos x1, x1 at 0
    close(doc["results"][2]["jacobian"][1], [math.exp(-1.5), -math.exp(-1.5)])


def test_negative_values():
    doc = document("x*y", "--at", "-1,2")
    assert doc["results"][0]["point"] == [-1.0, 2.0]
    assert doc["results"][0]["jacobian"] == [[2.0, -1.0]]
    doc = document("x*y", "--at=-1,-2")
    assert doc["results"][0]["jacobian"] == [[-2.0, -1.0]]
    doc = document("x", "--at", "-1e-3")
    assert doc["results"][0]["value"] == [-1e-3]


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("nan", "nan is not allowed"),
        ("inf", "inf is not allowed"),
        ("-Infinity", "not allowed"),
        ("", "the point is empty"),
        ("1,", "ends with a comma"),
        ("1,,2", "empty value"),
        ("0x10", "hexadecimal"),
        ("1e999", "overflows"),
        ("abc", "is not a number"),
        ("1,5", "decimals use a point: 1.5"),
        ("1,2,3", "gives 3 values, but the function has 1 input (x)"),
        ("x=1,2", "mixes values by position and by name"),
        ("y=1", "y in 'y=1' is not an input; the inputs are x"),
        ("x=1,x=2", "x is given twice"),
        ("x=", "empty value"),
    ],
)
def test_bad_points_are_usage_errors(value, needle):
    assert needle in usage_error("sin(x)", "--at", value)


def test_a_point_missing_a_name():
    assert "gives no value for y" in usage_error("x*y", "--at", "x=1")


def test_brackets_in_user_text_print_as_typed():
    stderr = usage_error("x", "--at", "x[1]=2")
    assert "x[1] in 'x[1]=2' is not an input" in stderr
    stderr = usage_error("[x] + [bold]y[/bold]", "--at", "1,2")
    assert "  [x] + [bold]y[/bold]\n" in stderr
    assert "\x1b" not in stderr


# --- --vars --------------------------------------------------------------------------------------
def test_vars_orders_the_columns():
    doc = document(EXAMPLE, "--vars", "x2,x1", "--at", "2,1")
    assert doc["variables"] == ["x2", "x1"]
    J = doc["results"][0]["jacobian"]
    close(J[0], [1.0, 2 + math.cos(1.0)])
    close(J[1], [-E, E])


def test_vars_may_list_unused_names():
    doc = document("x*y", "--vars", "y,z,x", "--at", "2,5,3")
    assert doc["variables"] == ["y", "z", "x"]
    assert doc["results"][0]["jacobian"] == [[3.0, 0.0, 2.0]]


def test_vars_agreeing_with_a_header_is_fine():
    assert document("f(a, b) = a*b", "--vars", "a,b", "--at", "2,3")["results"][0]["jacobian"] == [[3.0, 2.0]]


@pytest.mark.parametrize(
    ("expression", "order", "needle"),
    [
        ("f(a, b) = a*b", "b,a", "give the order once"),
        ("x*y", "x,y,x", "x is listed twice"),
        ("x*y", "x", "'y' is not an input of --vars"),
        ("x*y", "x,2y", "'2y' is not an input name"),
        ("x*y", "x,", "'x,' ends with a comma"),
        ("x*y", "x,sin", "is a function and cannot be an input name"),
    ],
)
def test_vars_errors(expression, order, needle):
    assert needle in usage_error(expression, "--vars", order, "--at", "1,2")


# --- --seed ------------------------------------------------------------------------------------------
def test_seed_forward_gives_J_times_v():
    doc = document(EXAMPLE, "--at", "1,2", "--seed", "1,-2", "--mode", "forward")
    (result,) = doc["results"]
    assert doc["passes"] == 1 and "jacobian" not in result
    assert result["seed"] == [1.0, -2.0]
    close(result["jvp"], [EXAMPLE_J[0][0] - 2 * EXAMPLE_J[0][1], EXAMPLE_J[1][0] - 2 * EXAMPLE_J[1][1]])


def test_seed_reverse_gives_v_transpose_J():
    doc = document(EXAMPLE, "--at", "1,2", "--seed", "3,1", "--mode", "reverse")
    (result,) = doc["results"]
    assert doc["passes"] == 1 and "jacobian" not in result and "jvp" not in result
    close(result["vjp"], [3 * EXAMPLE_J[0][0] + EXAMPLE_J[1][0], 3 * EXAMPLE_J[0][1] + EXAMPLE_J[1][1]])


def test_seed_length_decides_auto():
    three_inputs = "x1*x2 + x1*x3, ln(x1 + x2)"
    forward = document(three_inputs, "--at", "1,2,3", "--seed", "0,0,1")
    assert forward["mode"] == "forward"
    close(forward["results"][0]["jvp"], [1.0, 0.0])
    reverse = document(three_inputs, "--at", "1,2,3", "--seed", "0,1")
    assert reverse["mode"] == "reverse"
    close(reverse["results"][0]["vjp"], [1 / 3, 1 / 3, 0.0])


def test_seed_with_several_points():
    doc = document("x*y", "--at", "1,2", "--at", "3,4", "--seed", "1,1")
    assert [r["jvp"] for r in doc["results"]] == [[3.0], [7.0]]


def test_ambiguous_seed_asks_for_a_mode():
    stderr = usage_error(EXAMPLE, "--at", "1,2", "--seed", "1,0")
    assert "--mode forward" in stderr and "--mode reverse" in stderr
    assert "2 entries fits both modes (f has 2 inputs and 2 outputs)" in stderr
    stderr = usage_error("sin(x)", "--at", "1", "--seed", "2")
    assert "1 entry fits both modes (f has 1 input and 1 output)" in stderr
    assert document("sin(x)", "--at", "1", "--seed", "2", "--mode", "reverse")["results"][0]["vjp"] == [2 * math.cos(1.0)]


@pytest.mark.parametrize(("args", "needle"), [
    (("--seed", "1,2,3"), "forward mode needs 2"),
    (("--seed", "1,2,3", "--mode", "reverse"), "the seed needs 2 entries, one per output"),
    (("--seed", "1", "--mode", "forward"), "the seed needs 2 entries, one per input"),
    (("--seed", "1,nan"), "not allowed"),
    (("--seed", "1,"), "not a list of numbers"),
])
def test_bad_seeds(args, needle):
    assert needle in usage_error(EXAMPLE, "--at", "1,2", *args)


def test_seed_in_the_table():
    forward = ok(EXAMPLE, "--at", "1,2", "--seed", "1,0", "--mode", "forward").stdout
    assert "forward mode: 1 pass, seeded" in forward and "J·v" in forward
    reverse = ok(EXAMPLE, "--at", "1,2", "--seed", "1,0", "--mode", "reverse").stdout
    assert "reverse mode: 1 pass, seeded" in reverse and "vᵀ·J" in reverse


# --- formats ---------------------------------------------------------------------------------------
def test_jsonl_one_object_per_point():
    result = ok(EXAMPLE, "--at", "1,2", "--at", "0,0", "--format", "jsonl")
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 2
    first, second = map(strict_json, lines)
    assert first["point"] == [1.0, 2.0] and second["point"] == [0.0, 0.0]
    close(first["jacobian"][0], EXAMPLE_J[0])
    assert second["jacobian"] == [[1.0, 0.0], [1.0, -1.0]]
    assert first["warnings"] == [] == second["warnings"]


def test_csv_header_and_rows():
    result = ok(EXAMPLE, "--at", "1,2", "--at", "0,0", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["x1", "x2", "y1", "y2", "d(y1)/d(x1)", "d(y1)/d(x2)", "d(y2)/d(x1)", "d(y2)/d(x2)"]
    assert len(rows) == 3
    numbers = [float(v) for v in rows[1]]
    assert numbers[:4] == [1.0, 2.0, *EXAMPLE_Y]                     # full precision by default
    assert numbers[4:] == [v for row in EXAMPLE_J for v in row]
    assert [float(v) for v in rows[2]] == [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, -1.0]


def test_csv_digits():
    result = ok(EXAMPLE, "--at", "1,2", "--format", "csv", "--digits", "3")
    assert result.stdout.split("\n")[1] == "1,2,2.84,0.368,2.54,1,0.368,-0.368"


def test_csv_with_a_seed():
    result = ok("x*y, x", "--at", "2,3", "--format", "csv", "--seed", "1,0", "--mode", "reverse")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["x", "y", "y1", "y2", "vjp(x)", "vjp(y)"]
    assert [float(v) for v in rows[1]] == [2.0, 3.0, 6.0, 2.0, 3.0, 2.0]


def test_table_is_plain_text_with_labels():
    result = ok(EXAMPLE, "--at", "1,2")
    out = result.stdout
    assert "\x1b" not in out                         # not a terminal: no escapes
    for text in ("y1 = x1*x2 + sin(x1)", "y2 = exp(x1-x2)", "∂/∂x1", "∂/∂x2", "x1 = 1, x2 = 2", "2.5403", "0.367879"):
        assert text in out
    assert result.stderr == ""


def test_json_ignores_digits():
    assert document("sin(x)", "--at", "1", "--digits", "2")["results"][0]["value"] == [math.sin(1.0)]


def test_table_digits():
    out = ok(EXAMPLE, "--at", "1,2", "--digits", "3").stdout
    assert "2.54" in out and "2.5403" not in out and "0.368" in out


def test_table_with_several_points_has_one_block_each():
    out = ok(EXAMPLE, "--at", "1,2", "--at", "3,4").stdout
    assert "x1 = 1, x2 = 2" in out and "x1 = 3, x2 = 4" in out


def test_table_ascii():
    out = ok(EXAMPLE, "--at", "1,2", "--ascii").stdout
    assert "d/dx1" in out and "∂" not in out


@pytest.mark.parametrize("digits", ["0", "18", "x"])
def test_bad_digits(digits):
    usage_error(EXAMPLE, "--at", "1,2", "--digits", digits)


def test_bad_format():
    assert "'xml' is not one of" in usage_error(EXAMPLE, "--at", "1,2", "--format", "xml")


# --- version, help, stdin, expressions starting with a minus ---------------------------------------------
def test_version():
    result = ok("--version")
    assert result.stdout.strip() == f"adjac, version {__version__}"


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_has_examples(flag):
    out = ok(flag).stdout
    assert "Usage: adjac [OPTIONS] EXPRESSION" in out
    assert "Examples:" in out and 'adjac "x1*x2 + sin(x1), exp(x1-x2)" --at 1,2' in out
    for option in ("--at", "--vars", "--mode", "--seed", "--format", "--digits", "--version"):
        assert option in out


def test_expression_from_stdin():
    doc = document("-", "--at", "0.5", input="sin(x)^2 + cos(x)^2\n")
    assert doc["outputs"] == ["sin(x)^2 + cos(x)^2"]
    assert doc["results"][0]["value"][0] == pytest.approx(1.0, rel=1e-15)
    assert doc["results"][0]["jacobian"][0][0] == pytest.approx(0.0, abs=1e-15)


def test_multiline_expression_from_stdin():
    doc = document("-", "--at", "1,2", input="f(x1, x2) = (\n  x1*x2 + sin(x1),\n  exp(x1-x2)\n)\n")
    close(doc["results"][0]["jacobian"][1], EXAMPLE_J[1])


@pytest.mark.parametrize("args", [
    ("-x^2", "--at", "3", "--format", "json"),
    ("--at", "3", "-x^2", "--format", "json"),
    ("--format", "json", "--at", "3", "--", "-x^2"),
    ("--at=3", "--format=json", "-x^2"),
    ("--at", "3", "--format", "json", "--", "-x^2"),
])
def test_expression_starting_with_a_minus(args):
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert doc["outputs"] == ["-x^2"]
    assert doc["results"][0]["value"] == [-9.0] and doc["results"][0]["jacobian"] == [[-6.0]]


# --- exit status and streams -----------------------------------------------------------------------------
def test_exit_0_results_on_stdout_only():
    result = ok(EXAMPLE, "--at", "1,2", "--format", "json")
    assert result.stderr == ""
    strict_json(result.stdout)


def test_exit_1_non_finite_results_are_null_with_warnings():
    result = run("log(x), x*y", "--at", "-1,2", "--at", "1,1", "--format", "json")
    assert result.exit_code == 1
    doc = strict_json(result.stdout)                  # still strict: nan became null
    first, second = doc["results"]
    assert first["value"][0] is None and first["jacobian"][0] == [None, 0.0]
    assert first["value"][1] == -2.0 and first["jacobian"][1] == [2.0, -1.0]
    assert second["jacobian"] == [[1.0, 0.0], [1.0, 1.0]]
    (warning,) = doc["warnings"]
    assert warning["point"] == 0 and warning["node"] == "w3" and warning["expression"] == "log(x)"
    assert warning["kind"] == "value" and warning["arguments"] == [-1.0]
    assert "log(x)" in result.stderr and "x = -1, y = 2" in result.stderr and "argument -1" in result.stderr


def test_exit_1_for_a_kink_in_the_table():
    result = run("x + sqrt(y)", "--at", "1,0")
    assert result.exit_code == 1
    assert "inf" in result.stdout
    assert "sqrt(y)" in result.stderr and "with respect to y" in result.stderr


def test_exit_1_for_overflow():
    result = run("exp(x)", "--at", "1000", "--format", "csv")
    assert result.exit_code == 1
    assert result.stdout.split("\n")[1] == "1000.0,inf,inf"
    assert "overflows" in result.stderr


@pytest.mark.parametrize("expression", [
    "", "   ", "(", ")", "f(x) =", "f(", "x^^2", "1e", "x,", ",x", "x,,y", "é", "x\x00", "sin()", "2x", "x y",
    "__import__('os')", "x.real", "lambda: 1", "(x, y", "f(x)=f(x)=x", "1" * 400 + "x", "x" + "+" * 50,
])
def test_bad_expressions_exit_2_without_traceback(expression):
    stderr = usage_error(expression, "--at", "1")
    assert "EXPRESSION" in stderr


def test_parse_error_shows_the_caret():
    stderr = usage_error("x1 + 2x2", "--at", "1,2")
    assert "  x1 + 2x2\n        ^\n" in stderr
    assert "2*x2" in stderr


# --- no point, no inputs ---------------------------------------------------------------------------------
def test_no_point_prints_the_wengert_list():
    assert "evaluation trace" not in ok("sin(x1) + x1*x2, exp(x1-x2)").stdout     # J only, without --trace
    result = ok("sin(x1) + x1*x2, exp(x1-x2)", "--trace")
    out = result.stdout
    for row in ["w3 | sin(w1)", "w4 | w1·w2", "w5 | w1 − w2", "w6 | w3 + w4", "w7 | exp(w5)"]:
        name, definition = row.split(" | ")
        assert any(name in line and definition in line for line in out.split("\n")), row
    assert "--at" in result.stderr and "--at" not in out


def test_no_point_as_json():
    result = ok("x*y, x", "--format", "json")
    doc = strict_json(result.stdout)
    assert doc["variables"] == ["x", "y"] and doc["symbolic"] is True     # formulas (issue 7): test_symbolic.py
    assert doc["results"] == [{"point": None, "value": ["x*y", "x"], "jacobian": [["y", "x"], ["1", "0"]]}]
    assert [w["definition"] for w in doc["wengert"]] == ["x", "y", "w1·w2"]


def test_constant_function_without_inputs():
    doc = document("2^10, pi")
    assert doc["variables"] == []
    (result,) = doc["results"]
    assert result["point"] == [] and result["value"] == [1024.0, math.pi]
    assert result["jacobian"] == [[], []]
    assert "1024" in ok("2^10").stdout


def test_infinite_constant_output_exits_1():
    result = run("9**9**9**9", "--format", "json")
    assert result.exit_code == 1
    assert strict_json(result.stdout)["results"][0]["value"] == [None]


@pytest.fixture
def terminal(monkeypatch):
    """Make the runner's stdout claim to be a terminal, as Rich and adjac ask it."""
    import click.testing

    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")


def test_a_terminal_gets_styles(terminal):
    out = ok(EXAMPLE, "--at", "1,2").stdout
    assert "\x1b[" in out and "╭" in out                 # bold and rounded boxes
    assert "y1 = x1*x2 + sin(x1)" in out


def test_no_color_in_a_terminal_gives_no_escapes_but_keeps_the_boxes(terminal, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    for args in ((EXAMPLE, "--at", "1,2"), (EXAMPLE,)):
        out = ok(*args).stdout
        assert "\x1b" not in out and "╭" in out
    assert "y1 = x1*x2 + sin(x1)" in ok(EXAMPLE, "--at", "1,2").stdout


@pytest.mark.parametrize("args", [
    (EXAMPLE, "--at", "1,2"),
    (EXAMPLE, "--at", "1,2", "--seed", "1,0", "--mode", "forward"),
    (EXAMPLE, "--at", "1,2", "--seed", "1,0", "--mode", "reverse"),
    ("x1*x2 + sin(x1) + cos(x2) + exp(x1 - x2) + tanh(x1*x2), x1", "--at", "1,2"),   # a shortened label
    (EXAMPLE,),
])
def test_an_ascii_stdout_gets_an_ascii_table(args):
    result = CliRunner(charset="ascii").invoke(main, list(args), prog_name="adjac")
    assert result.exit_code == 0, (result.exception, result.stderr)
    assert result.stdout.isascii()
    assert "y1 = x1*x2 + sin(x1)" in result.stdout or "w3" in result.stdout


@pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="no SIGPIPE on this platform")
def test_a_reader_that_goes_away_ends_the_run_quietly_like_cat(tmp_path):
    # `adjac ... | head -1`: the broken pipe must not become exit status 1 ("not finite"),
    # nor a traceback; the process ends by SIGPIPE, as cat and seq do.
    points = tmp_path / "points.csv"
    points.write_text("".join(f"{k},{k + 1}\n" for k in range(200_000)))
    adjac = subprocess.Popen(
        [sys.executable, "-m", "autodiff_cli", "x1*x2 + sin(x1), exp(x1-x2)", "--points", str(points),
         "--format", "csv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert adjac.stdout is not None and adjac.stderr is not None
    first = adjac.stdout.readline()
    adjac.stdout.close()                                   # the reader goes away
    stderr = adjac.stderr.read()
    assert adjac.wait(timeout=60) == -signal.SIGPIPE
    assert first.startswith(b"x1,x2,")
    assert stderr == b""


# --- messages that steer the right way (issue 11, item 11) -------------------------------------------
@pytest.mark.parametrize(("expression", "point"), [
    ("-omega^2*x", "2,3"),            # -o: once read as --output mega^2*x
    ("-o*x", "2,3"),
    ("-o^2 + x", "2,3"),
    ("-oy + x", "2,3"),
    ("-omega*(x + 1), x", "2,3"),
    ("-h^2*x", "2,3"),                # -h: the help flag
    ("-hx*y", "2,3"),
    ("-V*x", "2,3"),                  # -V, -v: no options of ours
    ("-v^2 + x", "2,3"),
    ("-x^2", "3"),
])
def test_an_expression_starting_with_a_minus_and_an_option_letter(expression, point, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    reference = ok("--format", "json", "--at", point, "--", expression).stdout
    assert strict_json(reference)["outputs"][0] == expression.split(", ")[0]
    for args in [(expression, "--at", point), ("--at", point, expression), ("--at", point, expression, "--ascii")]:
        assert ok(*args, "--format", "json").stdout == reference, args
    assert list(tmp_path.iterdir()) == []                 # no file named mega^2*x


@pytest.mark.parametrize("args", [
    ("-omega^2", "x", "--at", "1"),
    ("x", "-omega^2", "--at", "1"),
    ("--at", "1", "-o*x", "--", "x"),
    ("-y*2", "-omega^2*x", "--at", "1,2"),      # (-y alone is a flag: tests/test_conventions.py)
])
def test_o_with_an_attached_formula_and_another_expression_is_an_error(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stderr = usage_error(*args)
    assert "looks like an expression that starts with a minus" in stderr and "--output FILE" in stderr
    assert "adjac [OPTIONS] -- '-o" in stderr
    assert list(tmp_path.iterdir()) == []


def test_o_with_an_attached_file_name_still_writes_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ok("x*y", "--at", "1,2", "-oresults.csv", "--format", "csv")
    assert (tmp_path / "results.csv").read_text().startswith("x,y,y1,")
    ok("x*y", "--at", "1,2", f"-o{tmp_path / 'sub.csv'}", "--format", "csv")
    assert (tmp_path / "sub.csv").exists()


def test_a_missing_expression_says_how_a_short_option_was_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stderr = usage_error("-omega", "--at", "1")
    assert "Missing argument 'EXPRESSION'" in stderr
    assert "'-omega' was read as -o 'mega', the output file" in stderr and "adjac [OPTIONS] -- '-omega'" in stderr
    assert strict_json(ok("--format", "json", "--at", "2", "--", "-omega").stdout)["results"][0]["jacobian"] == [[-1.0]]


@pytest.mark.parametrize("stdin", ["\ufeffx*y\n", "\ufeff f(x, y) = (\n x*y\n)\n"])
def test_a_byte_order_mark_on_stdin_is_not_part_of_the_expression(stdin):
    doc = document("-", "--at", "2,3", input=stdin.encode("utf-8"))
    assert doc["results"][0]["jacobian"] == [[3.0, 2.0]]


@pytest.mark.parametrize(("option", "value", "needle"), [
    ("--at", "1 2", "'1 2': separate values with commas, not spaces: 1,2"),
    ("--at", "x=1 y=2", "separate values with commas, not spaces: x=1,y=2"),
    ("--at", "x = 1 y = 2", "separate values with commas, not spaces: x=1,y=2"),
    ("--at", "1;2", "separate values with commas, not semicolons: 1,2"),
    ("--at", "1,5;2,5", "separate values with commas, not semicolons: 1.5,2.5"),
    ("--at", "1,2,", "'1,2,' ends with a comma"),
    ("--at", "1,,2", "in '1,,2': empty value"),
    ("--at", "x=1,x=2", "x is given twice"),
    ("--at", "x=,y=2", "x has an empty value after '='; write x=1.5"),
    ("--at", "\u20131,2", "type plain ASCII: -1"),
    ("--at", "\uff11,2", "type plain ASCII: 1"),
    ("--at", "1e,2", "'1e' has no exponent after its 'e'"),
    ("--at", "1e-,2", "'1e-' has no exponent after its 'e'"),
    ("--at", "1_000,2", "'1_000' has a digit separator '_'; write 1000"),
    ("--at", "inf,2", "inf is not allowed; give finite numbers"),
    ("--at", "nan,2", "nan is not allowed"),
    ("--at", "(1,2)", "without brackets"),
    ("--at", "'1',2", "'1' is in quotes; write the number without them: 1"),
    ("--at", "pi*z,2", "'pi*z' is not a number or a constant expression: z is not a constant (pi and e are)"),
    ("--at", "sqrt(,2", "'sqrt(,2' is not a number or a constant expression"),
    ("--seed", "1 0", "separate values with commas, not spaces: 1,0"),
    ("--seed", "1;0", "separate values with commas, not semicolons: 1,0"),
    ("--seed", "x=1,y=0", "a seed is a list of numbers in input order"),
    ("--seed", "1e,0", "no exponent"),
    ("--vars", "x y", "separate names with commas, not spaces: x,y"),
    ("--vars", "x;y", "separate names with commas, not semicolons: x,y"),
    ("--vars", "x,,y", "an empty name between two commas"),
    ("--vars", "x,y,", "'x,y,' ends with a comma"),
])
def test_value_messages_say_what_to_type(option, value, needle):
    args = ("x*y", option, value) if option == "--at" else ("x*y", "--at", "1,2", option, value)
    stderr = usage_error(*args, "--mode", "forward")
    assert needle in stderr
    assert "write decimals with a point" not in stderr


@pytest.mark.parametrize(("args", "needle"), [
    (("x*y", "1,2"), "'1,2' looks like a point; give it with --at: adjac 'x*y' --at 1,2"),
    (("1,2", "x*y"), "give it with --at: adjac 'x*y' --at 1,2"),
    (("x*y", "x=1,y=2"), "--at x=1,y=2"),
    (("-", "1,2"), "adjac - --at 1,2"),
    (("x*y", "--at", "1", "2"), "unexpected extra argument '2' after --at 1: separate the values with commas, "
                                "no spaces: --at 1,2"),
    (("x*y", "--at", "1", ",2"), "--at 1,2"),
    (("x*y", "--at", "1,2", "--vars", "x", "y"), "--vars x,y"),
    (("x*y", "--at", "1,", "2"), "'1,' ends with a comma; give one value per input, such as 1,2 (a space after "
                                 "a comma splits the value in two words: write --at 1,2, or quote it)"),
    (("x*y", "--at=1,", "2"), "write --at 1,2"),
    (("x*y", "--at", "1,2", "--seed", "1,", "0"), "write --seed 1,0"),
    (("x*y", "--at", "1,", "2", "--seed", "1,", "0"), "write --at 1,2"),
    (("x*y", "--seed", "1,", "0", "--at", "1,", "2"), "write --seed 1,0"),
    (("x", "y"), "unexpected extra argument 'y': adjac takes one EXPRESSION, here 'x'; quote an expression"),
    (("x*y", "--at", "1,2", "sin(x)"), "adjac takes one EXPRESSION, here 'x*y'"),
    (("x*y", "sin", "cos"), "unexpected extra arguments 'sin', 'cos'"),
])
def test_stray_arguments_say_what_they_look_like(args, needle):
    stderr = usage_error(*args, input="x*y")
    assert needle in stderr
    assert "Got unexpected extra argument" not in stderr


@pytest.mark.parametrize(("args", "product"), [
    (("x*y", "--at", "1,2", "--seed", "1e308,1e308"), "J·v"),
    (("x*y, x+y", "--at", "1,2", "--seed", "1e308,1e308", "--mode", "forward"), "J·v"),
    (("exp(x), x+y", "--at", "1,2", "--seed", "1e308,1e308", "--mode", "reverse"), "vᵀ·J"),
    (("x*y - x*y, x", "--at", "1,2", "--seed", "1e308,1e308", "--mode", "forward"), "J·v"),   # inf - inf inside
])
def test_an_overflowing_seed_is_blamed_not_a_node(args, product):
    result = run(*args, "--format", "json")
    assert result.exit_code == 1, result.stderr
    (warning,) = strict_json(result.stdout)["warnings"]
    assert warning["node"] is None and warning["expression"] == ""
    assert warning["message"].startswith(f"{product} overflows at x = 1, y = 2 because the seed is large "
                                         "(max |v| = 1e+308), not because of a node of f")
    assert f"adjac: warning: {product} overflows" in result.stderr


def test_a_node_that_overflows_is_still_blamed_with_a_large_seed():
    result = run("x*y", "--at", "1e200,1e200", "--seed", "1e300,1e300", "--format", "json")
    assert result.exit_code == 1
    (warning,) = strict_json(result.stdout)["warnings"]
    assert warning["expression"] == "x*y" and "the result overflows" in warning["message"]
    assert "seed" not in warning["message"]


@pytest.mark.parametrize("point", ["x = 1, y = 2", " 1 , 2 ", "x=1 , y= 2", "y = 2,x = 1", "\t1,\t2"])
def test_spaces_around_commas_and_equals_signs_are_fine(point):
    assert document("x*y", "--at", point)["results"][0]["jacobian"] == [[2.0, 1.0]]


def test_expressions_starting_with_a_minus_and_any_letter_are_computed_not_written_to_a_file():
    from hypothesis import assume, given, settings
    from hypothesis import strategies as st

    from autodiff_cli.core.parse import parse as parse_expression

    names = st.sampled_from(["o", "omega", "oy", "h", "hx", "V", "v", "x", "y", "o2"])

    @settings(max_examples=60, deadline=None)
    @given(a=names, op=st.sampled_from(["^", "*", "+", "/", "*(1+", "^2*"]), b=st.sampled_from(["x", "y", "2", "o"]),
           tail=st.sampled_from(["", ", x", ", y*o"]))
    def check(a, op, b, tail):
        expression = f"-{a}{op}{b}{')' if '(' in op else ''}{tail}"
        assume(not expression.startswith("-o/"))          # -o/x: an absolute path, -o /x
        point = ",".join(str(k + 2) for k in range(parse_expression(expression).n))
        runner = CliRunner()
        here = os.getcwd()
        with tempfile.TemporaryDirectory() as folder:
            os.chdir(folder)
            try:
                reference = runner.invoke(main, ["--format", "json", "--at", point, "--", expression])
                assert reference.exit_code in (0, 1), reference.stderr
                for args in [(expression, "--at", point), ("--at", point, expression)]:
                    got = runner.invoke(main, [*args, "--format", "json"], prog_name="adjac")
                    assert (got.exit_code, got.stdout) == (reference.exit_code, reference.stdout), (args, got.stderr)
                assert os.listdir(".") == []                  # no file named after the formula
            finally:
                os.chdir(here)

    check()


def test_seed_warnings_stay_in_point_order():
    result = run("1/x, 2*x", "--at", "1", "--at", "0", "--seed", "1e308", "--mode", "forward", "--format", "json")
    assert result.exit_code == 1
    warnings = strict_json(result.stdout)["warnings"]
    assert [w["point"] for w in warnings] == sorted(w["point"] for w in warnings)
    assert "seed is large" in warnings[0]["message"] and warnings[0]["point"] == 0
    assert "1/x is inf" in warnings[-1]["message"] and warnings[-1]["point"] == 1


CONFLICTING = [
    ([EXAMPLE, "--at", "1,2", "--trace", "--format", "csv"], "--trace has no csv form"),
    ([EXAMPLE, "--at", "1,2", "--latex-standalone", "--format", "json"], "--latex-standalone writes LaTeX"),
    ([EXAMPLE, "--points", "-", "--trace"], "not with --points or --format npy"),
    ([EXAMPLE, "--points", "-", "--at", "1,2"], "give the points with --at or with --points, not both"),
    (["-", "--points", "-"], "cannot both come from standard input"),
    ([EXAMPLE, "--at", "1,2", "--graph", "--format", "json"], "--graph prints DOT instead of the results"),
    ([EXAMPLE, "--at", "1,2", "--check", "--seed", "1,0"], "--check verifies the whole Jacobian"),
    ([EXAMPLE, "--at", "1,2", "--check", "--format", "latex"], "--check reports in table, json, jsonl or csv"),
    ([EXAMPLE, "--at", "1,2", "--hessian", "--hvp", "1,0"], "--hessian gives whole Hessians and --hvp V"),
    ([EXAMPLE, "--at", "1,2", "--hessian", "--mode", "forward"], "swept forward-over-reverse"),
    ([EXAMPLE, "--at", "1,2", "--hessian", "--trace", "--format", "latex"], "the second-order sweep is written"),
    ([EXAMPLE, "--at", "1,2", "--hvp", "1,0", "--graph"], "draw the first-order sweep"),
    ([EXAMPLE, "--at", "1,2", "--engine", "compiled", "--trace"], "--engine compiled computes first derivatives"),
    ([EXAMPLE, "--at", "1,2", "--hvp", "1,0", "--check"], "--check verifies whole Hessians"),
    ([EXAMPLE, "--check", "--symbolic"], "--check compares numbers at points, not formulas"),
    ([EXAMPLE, "--symbolic", "--at", "1,2", "--format", "json"], "--symbolic with --at shows the formulas beside"),
    ([EXAMPLE, "--symbolic", "--at", "1,2", "--hessian"], "--symbolic with --at shows first derivatives"),
    ([EXAMPLE, "--sparsity", "--format", "csv"], "--sparsity prints the pattern of J as a table or in json"),
    ([EXAMPLE, "--sparsity", "--at", "1,2", "--trace"], "--sparsity prints the pattern of J and its colourings"),
    ([EXAMPLE, "--at", "1,2", "--mode", "forward-coloured", "--seed", "1,0"], "and --seed makes one pass"),
    ([EXAMPLE, "--at", "1,2", "--mode", "reverse-coloured", "--hessian"], "uncompressed: leave out --mode"),
    ([EXAMPLE, "--at", "1,2", "--mode", "forward-coloured", "--graph"], "draw one pass per input or output"),
    ([EXAMPLE, "--mode", "forward-coloured", "--symbolic"], "and formulas are swept one pass per input"),
    ([EXAMPLE, "--at", "1,2", "--coverage", "2"], "--coverage and --second-order go with uncertainties"),  # issue 17
    ([EXAMPLE, "--at", "1±0.1,2", "--u", "0.1,0.1"], "with ± in --at or with --u, not both"),
    ([EXAMPLE, "--at", "1,2", "--u", "0.1,0.1", "--cov", "c.csv"], "--cov gives the whole covariance matrix"),
    ([EXAMPLE, "--at", "1,2", "--corr", "r.csv"], "--corr needs the standard uncertainties too"),
    ([EXAMPLE, "--points", "-", "--u", "0.1,0.1", "--format", "json"], "as table, csv or jsonl with --points"),
    ([EXAMPLE, "--points", "-", "--u", "0.1,0.1", "--coverage", "2"], "with --points, uncertainties are propagated"),
    ([EXAMPLE, "--at", "1±0.1,2", "--at", "1,2"], "uncertainties are propagated at one point: give one --at"),
    ([EXAMPLE, "--at", "1±0.1,2", "--hvp", "1,0"], "uncertainties are propagated through the whole Jacobian"),
    ([EXAMPLE, "--at", "1±0.1,2", "--graph"], "show the Jacobian, not uncertainties"),
]


@pytest.mark.parametrize(("args", "message"), CONFLICTING)
def test_each_conflicting_combination_is_one_usage_error(args, message):
    result = CliRunner().invoke(main, args, input="1,2\n")
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_every_rule_of_the_conflict_table_is_reached():
    from autodiff_cli.cli import CONFLICTS

    assert len(CONFLICTING) == len(CONFLICTS)                 # a new rule needs a case above
    messages = [message for _, message in CONFLICTS]
    for _, expected in CONFLICTING:
        assert sum(expected in m for m in messages) == 1, expected
