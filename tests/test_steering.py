"""Trust at the edges, second audit: npy headers that lie, size refusals whose ways out pass,
messages that steer the right way, and exit statuses that survive an unwritable stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from autodiff_cli import limits
from autodiff_cli.cli import main


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, prog_name="adjac")


def no_traceback(result):
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


# --- B3: an .npy header that says more (or other) than the file holds ---------------------------
def _npy(path, shape, fortran, data, descr="<f8"):
    """A file whose header says ``shape`` and whose data are the bytes ``data``."""
    header = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode("latin1")
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data)
    return path


@pytest.mark.parametrize("fortran", [True, False], ids=["fortran", "c"])
@pytest.mark.parametrize(("shape", "descr", "data", "row"), [
    ((5, 2), "<f8", np.ones(4).tobytes(), {True: 1, False: 3}),
    ((10**12, 2), "<f8", np.ones(4).tobytes(), {True: 1, False: 3}),
    ((10**30, 2), "<f8", np.ones(4).tobytes(), {True: 1, False: 3}),
    ((5, 2), "<f8", b"", {True: 1, False: 1}),
    ((5, 2), "<f16", np.ones(4).tobytes(), {True: 1, False: 2}),          # the dtype is wider than the data
    ((5, 2), "|i1", bytes(7), {True: 3, False: 4}),
])
def test_an_npy_file_shorter_than_its_header_says_ends_early(tmp_path, fortran, shape, descr, data, row):
    path = _npy(tmp_path / "p.npy", shape, fortran, data, descr)
    result = run("x*y", "--points", str(path), "--format", "csv")
    no_traceback(result)
    assert result.exit_code == 2
    assert f"row {row[fortran]}: the array ends early" in result.stderr


def test_a_truncated_fortran_array_gives_its_whole_rows_first(tmp_path):
    X = np.asfortranarray(np.arange(12.0).reshape(6, 2))
    full = tmp_path / "full.npy"
    np.save(full, X)
    cut = tmp_path / "cut.npy"
    cut.write_bytes(full.read_bytes()[:-8])                  # the last value of the last column
    result = run("x*y", "--points", str(cut), "--format", "csv")
    assert result.exit_code == 2
    assert "row 6: the array ends early" in result.stderr
    rows = result.stdout.splitlines()[1:]
    assert [r.split(",")[:2] for r in rows] == [[f"{a:.1f}", f"{b:.1f}"] for a, b in X[:5]]
    whole = run("x*y", "--points", str(full), "--format", "csv")
    assert whole.exit_code == 0 and len(whole.stdout.splitlines()) == 7


@pytest.mark.parametrize("fortran", [True, False])
@pytest.mark.parametrize("shape", [(-5, 2), (-1,)])
def test_a_negative_size_in_an_npy_header_is_refused(tmp_path, fortran, shape):
    path = _npy(tmp_path / "p.npy", shape, fortran, np.ones(4).tobytes())
    result = run("x*y" if len(shape) == 2 else "x", "--points", str(path), "--format", "csv")
    no_traceback(result)
    assert result.exit_code == 2
    assert "cannot be negative" in result.stderr


# --- B4: a size refusal suggests only ways out that pass --------------------------------------
def _ways(message):
    """The suggested ways out of a size refusal, each as the changes to the command line."""
    tail = " ".join(message.split()).split("(README: Limits); ", 1)[1]
    found = []
    for way in tail.split("; or "):
        formats = re.search(r"--format ((?:\w+, )*\w+(?: or \w+)?)", way)
        formats = re.split(r", | or ", formats.group(1)) if formats else [None]
        if way.startswith(("--seed", "--mode")):
            modes = ["forward", "reverse"] if "(forward) or" in way else [re.search(r"--mode (\w+)", way).group(1)]
            found += [{"seed": mode, "fmt": f} for mode in modes for f in formats]
        elif way.startswith("--format"):
            found += [{"fmt": f} for f in formats]
        elif way.startswith("at most"):
            found.append({"points": int(re.search(r"at most ([\d,]+)", way).group(1).replace(",", ""))})
            if "--points FILE" in way:
                found.append({"file": True})
        elif way == "use fewer outputs or inputs":          # no option to change: nothing to try
            pass
        elif way == "leave out --trace":
            found.append({"trace": False})
        elif way.startswith("--at with values"):
            found += [{"at": True, "fmt": f} for f in formats]
        else:
            raise AssertionError(f"a way out this test does not know: {way!r}")
    return found


def _command(m, n, fmt, trace, N, at, file, tmp_path):
    """m outputs of n inputs (x1 + ... + xn, then x1 repeated), N points at --at or in a file."""
    expression = "+".join(f"x{j}" for j in range(1, n + 1)) + ", x1" * (m - 1)
    args = [expression, "--format", fmt]
    if fmt == "npy":
        args += ["-o", str(tmp_path / "out.npz")]
    if trace:
        args.append("--trace")
    if file:
        points = tmp_path / "p.csv"
        points.write_text("\n".join([",".join(["1"] * n)] * N) + "\n")
        args += ["--points", str(points)]
    elif at:
        args += ["--at", ",".join(["1"] * n)] * N
    return args


def _refused(result):
    return result.exit_code == 2 and "the result would hold" in result.stderr


CONTEXTS = {"at": (False, 1, True, False), "at-trace": (True, 1, True, False), "3at": (False, 3, True, False),
            "3at-trace": (True, 3, True, False), "points": (False, 1, True, True),
            "formulas": (False, 1, False, False), "formulas-trace": (True, 1, False, False)}
SIZE_CASES = [pytest.param(fmt, *context, id=f"{fmt}-{name}") for fmt in ["table", "json", "jsonl", "csv", "latex", "npy"]
              for name, context in CONTEXTS.items()
              if not ((context[0] and fmt in ("csv", "npy")) or (context[3] and (context[0] or fmt == "latex"))
                      or (not context[2] and fmt in ("csv", "npy")))]     # those are refused as combinations


@pytest.mark.parametrize(("m", "n"), [(30, 40), (40, 30), (1, 90), (90, 1), (12, 12), (60, 60)])
@pytest.mark.parametrize(("fmt", "trace", "N", "at", "file"), SIZE_CASES)
def test_every_way_out_of_a_size_refusal_passes_the_bound(monkeypatch, tmp_path, m, n, fmt, trace, N, at, file):
    monkeypatch.setattr(limits, "WRITTEN", 1000)
    monkeypatch.setattr(limits, "SHOWN", 200)
    result = run(*_command(m, n, fmt, trace, N, at, file, tmp_path))
    if not _refused(result):
        return
    for way in _ways(result.stderr):
        args = _command(m, n, way.get("fmt") or fmt, way.get("trace", trace), way.get("points", N),
                        way.get("at", at), way.get("file", file), tmp_path)
        if "seed" in way:
            args += ["--mode", way["seed"], "--seed", ",".join(["1"] * (n if way["seed"] == "forward" else m))]
        tried = run(*args)
        assert not _refused(tried), (way, result.stderr, tried.stderr)


def test_the_way_out_of_json_on_1200_outputs_is_not_refused_again(tmp_path):
    """The audit's example: json said 'or --format csv or jsonl', and csv was refused as well."""
    points = tmp_path / "p1201.txt"
    points.write_text(",".join(["1"] * 1201) + "\n")
    expression = ", ".join(f"x{i}*x{i + 1}" for i in range(1200))
    result = run("-", "--points", str(points), "--format", "json", input=expression)
    assert _refused(result)
    assert "--format csv or jsonl" not in result.stderr
    assert "--seed v with --format" in " ".join(result.stderr.split())


# --- B7: messages that steer the right way ------------------------------------------------------
@pytest.mark.parametrize(("args", "says"), [
    (["x*y", "1", "2"], "adjac 'x*y' --at 1,2"),
    (["x*y*z", "1", "2", "3"], "adjac 'x*y*z' --at 1,2,3"),
    (["x*y", "1,2", "3,4"], "adjac 'x*y' --at 1,2 --at 3,4"),
    (["x*y", "1,2"], "adjac 'x*y' --at 1,2"),
    (["--", "-ohm*x", "--at", "1,2"], "put the options before --: adjac --at 1,2 -- '-ohm*x'"),
    (["--", "-x^2", "--at=3", "--format", "json"], "adjac --at=3 --format json -- '-x^2'"),
])
def test_stray_words_get_a_command_line_that_works(args, says):
    result = run(*args)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert says in message
    suggested = message.split(": adjac ", 1)[1]
    assert "--at --at" not in suggested


@pytest.mark.parametrize("args", [
    ["--output", "--trace"], ["-o", "--format", "json"], ["--output=--trace"], ["-o--trace"],
    ["--graph-out", "--ascii"], ["--graph-out", "-h"], ["-o", "--at=1,2"],
])
def test_a_file_option_followed_by_an_option_has_lost_its_file_name(tmp_path, args, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("x*y", "--at", "1,2", *args)
    assert result.exit_code == 2, result.output
    assert "needs a file name" in result.stderr and "the file name is missing" in result.stderr
    assert list(tmp_path.iterdir()) == []                  # no file named --trace


def test_points_followed_by_an_option_has_lost_its_file_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("x*y", "--points", "--format", "csv")
    assert result.exit_code == 2
    assert "--points needs a file name" in result.stderr


def test_an_ordinary_file_name_or_a_dash_is_still_a_file(tmp_path):
    out = tmp_path / "out.txt"
    assert run("x*y", "--at", "1,2", "-o", str(out)).exit_code == 0 and out.exists()
    assert run("x*y", "--at", "1,2", "-o", "-").exit_code == 0


@pytest.mark.parametrize(("expression", "says"), [
    ("arctan2(x, y)", "adjac spells it atan2: write atan2(y, x)"),
    ("maximum(x, y)", "did you mean max?"),
    ("ln10(x) + y", "did you mean log10?"),
    ("exp2(x) + y", "write 2^a"),
    ("exp10(x) + y", "write 10^a"),
    ("log1p(x) + y", "write ln(1 + a)"),
    ("expm1(x) + y", "write exp(a) - 1"),
    ("fabs(x) + y", "did you mean abs?"),
    ("floor(x) + y", "adjac has no floor: a step function"),
    ("ceil(x) + y", "adjac has no ceil: a step function"),
    ("round(x) + y", "adjac has no round: a step function"),
    ("mod(x, y)", "adjac has no mod: a - b*k"),
    ("fmod(x, y)", "adjac has no fmod"),
    ("lg(x) + y", "write log10(a), or log2(a) (log is ln)"),
    ("sqr(x) + y", "write a^2"),
    ("square(x) + y", "write a^2"),
    ("cot(x) + y", "write 1/tan(a)"),
    ("sinc(x) + y", "write sin(a)/a"),
    ("arctan(x) + y", "did you mean atan?"),
    ("sgn(x) + y", "did you mean sign?"),
])
def test_a_function_people_reach_for_gets_a_hint_that_steers_right(expression, says):
    result = run(expression, "--at", "1,2")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert says in message
    wrong = {"min": "sin", "atan2": "atan", "mod": "sigmoid", "sqr": "sqrt", "square": "sqrt", "lg": "log?",
             "cot": "cos", "sinc": "sin?"}
    name = expression.split("(")[0]
    if name in wrong:
        assert f"did you mean {wrong[name]}" not in message
    assert "for a product write" not in message


# --- B9: the exit status survives a standard error that cannot be written -----------------------
@pytest.mark.parametrize(("args", "status"), [
    (["x*", "--at", "1"], 2),               # a usage error
    (["x"], 0),                             # formulas, and a note on stderr
    (["1/x", "--at", "0"], 1),              # not finite, and a warning
    (["x", "--at", "1"], 0),
    (["x", "--at", "1,2"], 2),
])
@pytest.mark.parametrize("stderr", ["full", "closed"])
def test_the_exit_status_does_not_depend_on_stderr(args, status, stderr):
    if stderr == "full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    command = [sys.executable, "-m", "autodiff_cli", *args]
    expected = subprocess.run(command, capture_output=True, timeout=60)
    assert expected.returncode == status, expected.stderr
    if stderr == "full":
        with open("/dev/full", "w") as full:
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=full, timeout=60)
    else:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60,
                              preexec_fn=lambda: os.close(2))
    assert done.returncode == status
    assert done.stdout == expected.stdout                    # no message strays onto stdout
