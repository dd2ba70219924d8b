"""Issue 13, item 6: command-line conventions.

Flags that look like flags are flags; runtime errors without click's usage banner;
NO_COLOR / FORCE_COLOR / --color; --quiet; JSON indented on a terminal only; ``adjac -``
on a terminal says it waits; the man page is generated from --help and cannot drift.
The terminal-only behaviours run in a real pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from terminal import UNSET, in_terminal

from autodiff_cli.cli import main
from autodiff_cli.outputs.sink import styled

ROOT = Path(__file__).resolve().parents[1]
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BANNER = "Usage: adjac [OPTIONS] EXPRESSION\nTry 'adjac --help' for help.\n"


def adjac(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    runner = CliRunner(env={name: None for name in UNSET} | (env or {}))
    return runner.invoke(main, list(args), prog_name="adjac", input=stdin)


# --- a word that looks like a flag is a flag -------------------------------------------------
@pytest.mark.parametrize("word", ["-V", "-v", "-q2", "-help", "-x"])
def test_a_mistyped_short_flag_is_a_usage_error_with_the_way_out(word):
    result = adjac(word) if word != "-q2" else adjac("x", word)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"No such option: {word}" in result.stderr
    assert f"adjac [OPTIONS] -- {word}" in result.stderr
    assert result.stderr.startswith(BANNER)            # a command-line mistake keeps click's banner


def test_the_message_names_the_long_options_it_may_stand_for():
    assert "did you mean --vars or --version?" in adjac("-V").stderr
    assert "did you mean --help?" in adjac("-help").stderr


def test_after_dashdash_a_flag_like_word_is_the_expression():
    result = adjac("--at", "2", "--", "-V")
    assert result.exit_code == 0, result.stderr
    assert "| -V     |    -2 |   -1 |" in result.stdout


@pytest.mark.parametrize("args, row", [
    (("-x^2", "--at", "3"), "| -x^2   |    -9 |   -6 |"),
    (("-omega^2*x", "--at", "1,2"), "-omega^2*x"),
    (("-2*x", "--at", "1"), "-2*x"),
])
def test_an_expression_with_operators_is_an_expression(args, row):
    result = adjac(*args)
    assert result.exit_code == 0, result.stderr
    assert row in result.stdout


def test_help_alone_points_to_the_help_option():
    result = adjac("help")
    assert result.exit_code == 2
    assert "run adjac --help" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("args", [("help", "--at", "1"), ("--", "help"), ("help*x",), ("f(help) = help",)])
def test_a_variable_named_help_still_works(args):
    result = adjac(*args)
    assert result.exit_code == 0, result.stderr
    assert "help" in result.stdout


# --- the banner only for command-line mistakes -------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (("x^",), "Error: Invalid value for 'EXPRESSION': the expression ends too early"),
    (("x*y", "--at", "1"), "Error: Invalid value for '--at': '1' gives 1 value"),
    (("x", "--at", "1", "--trace", "--format", "csv"), "Error: --trace has no csv form"),
    (("x", "--format", "npy"), "Error: --format npy writes a binary .npz archive"),
])
def test_runtime_errors_have_no_usage_banner(args, message):
    result = adjac(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert "Usage:" not in result.stderr and "Try 'adjac --help'" not in result.stderr


def test_the_caret_stays():
    assert adjac("x^").stderr.endswith("  x^\n    ^\n")


@pytest.mark.parametrize("args", [("x", "--foo"), (), ("x", "--digits", "abc"), ("x", "--at", "1,,2")])
def test_command_line_mistakes_keep_the_banner(args):
    result = adjac(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(BANNER), result.stderr


# --- --quiet -------------------------------------------------------------------------------------
def test_quiet_silences_warnings_and_keeps_the_status():
    loud, quiet = adjac("sqrt(x)", "--at", "-1"), adjac("sqrt(x)", "--at", "-1", "--quiet")
    assert loud.exit_code == quiet.exit_code == 1
    assert "warning" in loud.stderr and quiet.stderr == ""
    assert loud.stdout == quiet.stdout


def test_quiet_silences_notes_but_not_errors():
    assert "no point given" in adjac("x*y").stderr
    assert adjac("x*y", "-q").stderr == ""
    result = adjac("x^", "-q")
    assert result.exit_code == 2 and "ends too early" in result.stderr


# --- colour ----------------------------------------------------------------------------------------
class Out:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty, env, color, expected", [
    (True, {}, "auto", (True, True)),
    (False, {}, "auto", (False, False)),
    (True, {"NO_COLOR": "1"}, "auto", (True, False)),          # colour goes, the boxes stay
    (True, {"NO_COLOR": ""}, "auto", (True, True)),            # empty: not set
    (False, {"FORCE_COLOR": "1"}, "auto", (True, True)),
    (False, {"FORCE_COLOR": "0"}, "auto", (False, False)),
    (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, "auto", (True, False)),
    (True, {}, "never", (True, False)),
    (False, {"NO_COLOR": "1"}, "always", (True, True)),
])
def test_styled(monkeypatch, tty, env, color, expected):
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert styled(Out(tty), color) == expected


def test_color_always_and_force_color_in_a_pipe():
    for result in (adjac("x*y", "--at", "1,2", "--color", "always"),
                   adjac("x*y", "--at", "1,2", env={"FORCE_COLOR": "1"})):
        assert "\x1b[" in result.stdout and "╭" in result.stdout
    plain = adjac("x*y", "--at", "1,2", "--color", "never", env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b" not in plain and "|--------|" in plain


def test_no_color_in_a_terminal_keeps_the_boxes():
    status, shown, _ = in_terminal(["x*y", "--at", "1,2"], env={"NO_COLOR": "1"})
    assert status == 0
    assert "\x1b[" not in shown
    assert "╭" in shown and "│ x*y    │     2 │    2 │    1 │" in shown


def test_color_never_in_a_terminal_keeps_the_boxes():
    status, shown, _ = in_terminal(["x*y", "--at", "1,2", "--color", "never"])
    assert status == 0 and "\x1b[" not in shown and "╭" in shown


def test_a_terminal_has_colour():
    status, shown, _ = in_terminal(["x*y", "--at", "1,2"])
    assert status == 0 and "\x1b[1m" in shown and "╭" in shown


# --- JSON: indented for people, compact for programs -------------------------------------------
@pytest.mark.parametrize("args", [
    ["x1*x2 + sin(x1), exp(x1-x2)", "--at", "1,2", "--format", "json"],
    ["x1*x2 + sin(x1), exp(x1-x2)", "--at", "1,2", "--at", "3,4", "--format", "json", "--trace"],
    ["x1*x2 + sin(x1), exp(x1-x2)", "--format", "json"],
])
def test_json_is_indented_on_a_terminal_and_compact_in_a_pipe(args):
    status, shown, _ = in_terminal(args)
    assert status == 0
    document = shown[shown.index("{"):shown.rindex("}") + 1]
    assert document.startswith('{\n  "variables": ["x1", "x2"],\n')
    piped = adjac(*args)
    assert piped.exit_code == 0
    assert piped.stdout.count("\n") == 1                       # one line
    assert json.loads(document) == json.loads(piped.stdout)


def test_json_rows_of_j_stay_on_one_line():
    _, shown, _ = in_terminal(["x1*x2 + sin(x1), exp(x1-x2)", "--at", "1,2", "--format", "json"])
    assert '        [2.5403023058681398, 1.0],\n        [0.36787944117144233, -0.36787944117144233]\n' in shown


def test_json_to_a_pipe_from_a_terminal_is_compact():
    status, _, piped = in_terminal(["x*y", "--at", "1,2", "--format", "json"], stdout_pipe=True)
    assert status == 0 and piped.count("\n") == 1 and json.loads(piped)["results"][0]["jacobian"] == [[2.0, 1.0]]


# --- adjac - on a terminal -------------------------------------------------------------------------
def test_reading_the_expression_from_a_terminal_says_so():
    status, shown, _ = in_terminal(["-", "--at", "1,2"], typed=b"x*y\n\x04")
    assert status == 0
    assert "adjac: waiting for the expression on standard input" in shown and "Ctrl-D" in shown
    assert "│ x*y    │     2 │    2 │    1 │" in ESCAPE.sub("", shown)


def test_reading_the_expression_from_a_pipe_says_nothing():
    result = subprocess.run([sys.executable, "-m", "autodiff_cli", "-", "--at", "1,2"], input="x*y", text=True,
                            capture_output=True, cwd=ROOT)
    assert result.returncode == 0 and result.stderr == ""


# --- the man page --------------------------------------------------------------------------------
def test_the_man_page_is_generated_from_the_help():
    result = subprocess.run([sys.executable, "tools/manpage.py", "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr + " (run python tools/manpage.py)"
    page = (ROOT / "docs" / "adjac.1").read_text(encoding="utf-8")
    for option in ("--color", "--quiet", "--at", "--format"):
        assert "\\fB" in page and option.replace("-", "\\-") in page
    assert "_ADJAC_COMPLETE=bash_source adjac" in page


def test_shell_completion_works():
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(_ADJAC_COMPLETE="bash_complete", COMP_WORDS="adjac x --col", COMP_CWORD="2")
    result = subprocess.run([sys.executable, "-m", "autodiff_cli"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert "--color" in result.stdout
