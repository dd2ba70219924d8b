"""Fuzzing: whatever is typed, the command answers with exit 0, 1 or 2 and never a traceback.

Random text, random soups of the language's tokens (and of things that are not in it),
random command lines, and random valid expressions, through the CliRunner and the parse
API.  Valid expressions must also give forward == reverse wherever finite, and --check
must never report a failure on them (no false alarms from the difference quotients).
"""

import json
import os

import numpy as np
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff_cli import AdjacError, jacobian, linearize, parse
from autodiff_cli.check import check
from autodiff_cli.cli import main
from autodiff_cli.core.primitives import FUNCTIONS, PRIMITIVES

SCALE = float(os.environ.get("ADJAC_FUZZ_SCALE", "1"))    # e.g. 20 for a long local hunt; CI runs 1
FAST = settings(max_examples=int(150 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKENS = [
    "x", "y", "x1", "x2", "x10", "_a", "pi", "e", "f", "sin", "cos", "log", "ln", "sqrt", "abs", "exp", "tan",
    "asin", "acosh", "sinn", "lambda", "__import__", "os", "0", "1", "2.5", ".5", "1e-3", "2.5E+1", "1e999",
    "1e-400", "0x1F", "9**9**9", "2^2^2^2^2^2", "+", "-", "*", "/", "^", "**", "(", ")", ",", "=", "f(x, y) =",
    "g() =", " ", "\t", "\n", "'", '"', "[", "]", "{", "}", ".", "@", "!", "%", "&", "|", ":", ";", "#", "\\",
    "$", "`", "~", "<", ">", "?", "×", "·", "−", "÷", "²", "π", "é", "∂", "🙂", "\u200b", "\x00", "\ufeff",
    "１", "٣", "ℯ", "x.__class__", "f'{x}'",
]
soups = st.lists(st.sampled_from(TOKENS), max_size=16).map("".join)
texts = st.text(max_size=40)
POINT_PARTS = ["1", "-2", "0", "0.5", "1e300", "nan", "inf", "", " ", "x=1", "y=2", "=", "0x1", "1,5", "１", "e"]
points = st.lists(st.sampled_from(POINT_PARTS), max_size=4).map(",".join)


def invoke(args):
    result = CliRunner().invoke(main, args)
    # a traceback would surface as an exception other than SystemExit
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exc_info)
    assert result.exit_code in (0, 1, 2), (args, result.exit_code)
    if result.exit_code:
        assert result.stderr.strip(), (args, "no message for a non-zero exit")
    return result


@FAST
@given(st.one_of(texts, soups))
def test_parse_api_raises_only_parse_errors(text):
    try:
        graph = parse(text)
    except AdjacError as err:
        assert str(err)
    else:
        assert graph.m >= 1 and len(graph.labels) == graph.m


@FAST
@given(st.one_of(texts, soups), st.lists(points, max_size=2))
def test_command_never_crashes_on_text(text, ats):
    args = [text]
    for at in ats:
        args += ["--at", at]
    invoke(args)


@FAST
@given(
    soups,
    st.lists(st.sampled_from([
        ["--at", "1"], ["--at", "1,2"], ["--at", "x=1,y=2"], ["--mode", "forward"], ["--mode", "reverse"],
        ["--mode", "sideways"], ["--seed", "1"], ["--seed", "1,0"], ["--seed", "nan"], ["--vars", "x,y"],
        ["--vars", "y,x,y"], ["--vars", "1x"], ["--format", "json"], ["--format", "jsonl"], ["--format", "csv"],
        ["--format", "xml"], ["--digits", "3"], ["--digits", "0"], ["--ascii"], ["--check"], ["--"], ["-"],
        ["--at"], ["--bogus"], ["-x"],
    ]), max_size=5),
)
def test_command_never_crashes_on_option_soups(text, options):
    args = [text] + [word for option in options for word in option]
    invoke(args)


@FAST
@given(st.one_of(texts, soups))
def test_stdin_never_crashes(text):
    result = CliRunner().invoke(main, ["-", "--at", "1"], input=text)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code in (0, 1, 2)


# --- random valid expressions -------------------------------------------------------------
LEAVES = ["x1", "x2", "x3", "1", "2", "0.5", "pi"]
UNARY = sorted(name for name, prim in FUNCTIONS.items() if len(PRIMITIVES[prim].partials) == 1)
BINARY = sorted(name for name, prim in FUNCTIONS.items() if len(PRIMITIVES[prim].partials) == 2)
exprs = st.recursive(
    st.sampled_from(LEAVES),
    lambda e: st.builds("({} {} {})".format, e, st.sampled_from(["+", "-", "*", "/", "^", "**", "<", ">="]), e)
    | st.builds("{}({})".format, st.sampled_from(UNARY), e)
    | st.builds("{}({}, {})".format, st.sampled_from(BINARY), e, e)
    | st.builds("if({}, {}, {})".format, e, e, e)
    | st.builds("-{}".format, e),
    max_leaves=10,
)
coordinates = st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 3))
xs = st.lists(coordinates, min_size=3, max_size=3)


@FAST
@given(st.lists(exprs, min_size=1, max_size=3).map(", ".join), st.lists(xs, min_size=1, max_size=3))
def test_valid_expressions_never_crash_and_modes_agree(text, X):
    graph = parse(text, ["x1", "x2", "x3"])
    X = np.array(X)
    (_, J_fwd), (_, J_rev) = jacobian(graph, X, "forward"), jacobian(graph, X, "reverse")
    both = np.isfinite(J_fwd) & np.isfinite(J_rev)
    np.testing.assert_allclose(J_fwd[both], J_rev[both], rtol=1e-9, atol=1e-12)
    # where every value and every local partial is finite, both modes are finite (elsewhere
    # too, but for a product of partials that overflows in one grouping only; tests/test_trust.py)
    w, edges = linearize(graph, X)
    smooth = np.all([np.isfinite(v) for v in w], axis=0)
    for *_, c in edges:
        smooth &= np.isfinite(c)
    np.testing.assert_array_equal(np.isfinite(J_fwd[smooth]), np.isfinite(J_rev[smooth]))


@settings(max_examples=int(120 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(exprs, min_size=1, max_size=2).map(", ".join), st.lists(xs, min_size=1, max_size=3))
def test_check_never_fails_on_correct_derivatives(text, X):
    graph = parse(text, ["x1", "x2", "x3"])
    result = check(graph, np.array(X))
    # a derivative that is nan or inf (both modes) where differences settle on a number fails
    # by design (0·inf at a computed zero: acos(x2/x2)); nothing else may
    failures = {key: why for key, why in result.reasons.items() if result.status[key] == 1
                and (np.isfinite(result.forward[key]) or not result.fr_ok[key])}
    assert not failures, (text, X, failures)


@settings(max_examples=int(40 * SCALE), deadline=None)
@given(exprs, xs)
def test_command_with_check_on_valid_expressions(text, x):
    result = invoke(["f(x1, x2, x3) = " + text, "--at", ",".join(map(str, x)), "--check", "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["results"][0]["check"]["verdict"] in ("pass", "inconclusive") or doc["warnings"]
    assume(result.exit_code == 0)
    assert doc["warnings"] == []


def test_closed_standard_streams_give_no_traceback():
    import shlex
    import subprocess
    import sys

    python = shlex.quote(sys.executable)
    closed_in = subprocess.run(["bash", "-c", f"{python} -m autodiff_cli - --at 1 <&-"], capture_output=True,
                               text=True, timeout=120)
    assert closed_in.returncode == 2 and "standard input is closed" in closed_in.stderr
    closed_out = subprocess.run(["bash", "-c", f"{python} -m autodiff_cli 'log(x)' --at -1 --check >&-"],
                                capture_output=True, text=True, timeout=120)
    assert closed_out.returncode == 1 and "Traceback" not in closed_out.stderr
    assert "log needs argument > 0" in closed_out.stderr


def test_invalid_utf8_in_argv_and_stdin_is_a_parse_error():
    import subprocess
    import sys

    for args, stdin in [([b"x\xff+1", b"--at", b"1"], b""), ([b"-", b"--at", b"1"], b"x\xfe\xff"),
                        ([b"x", b"--at", b"1\xff"], b"")]:
        done = subprocess.run([sys.executable.encode(), b"-m", b"autodiff_cli", *args], input=stdin,
                              capture_output=True, timeout=120)
        assert done.returncode == 2, (args, done.stderr)
        assert b"Traceback" not in done.stderr and b"Error:" in done.stderr
