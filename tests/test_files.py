"""Files: nothing lost, ever; interrupts are not failures of the math (issue 11, items 6 and 7).

An output file (--output, --graph-out) is written whole when the run completes (status 0 or
1) or not at all: an existing file is left as it was and no temporary file stays behind,
whether the run computes nothing, fails, cannot write, or is stopped by a signal.  Signals
and write errors are tested on real processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autodiff_cli.cli import main

F = "x1*x2 + sin(x1), exp(x1-x2)"
KEEP = "keep me\n"
FORMATS = ("table", "json", "jsonl", "csv", "npy")



def _default_signals() -> None:
    """In the child: SIGINT and SIGHUP handled by default, as when adjac is started from a
    terminal.  A test run in the background (`cmd &`, nohup) would otherwise pass them on
    ignored, and adjac rightly leaves an ignored signal ignored, so the test could not stop it."""
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)

def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin)


def adjac(*args: str, **kwargs) -> subprocess.CompletedProcess:
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.run([sys.executable, "-m", "autodiff_cli", *args], text=True, timeout=120, **streams)


def kept(folder: Path, *names: str) -> None:
    """Only ``names`` in ``folder`` (no temporary files), and each still holds KEEP."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)
    for name in names:
        if name.startswith("out"):
            assert (folder / name).read_text() == KEEP


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


# --- refused up front --------------------------------------------------------------------
def test_output_naming_the_points_file_is_refused_by_any_name(tmp_path):
    points = tmp_path / "in.csv"
    points.write_text("1,2\n3,4\n")
    (tmp_path / "link.csv").symlink_to(points)
    os.link(points, tmp_path / "hard.csv")
    for given in ("in.csv", "link.csv", "hard.csv", "./in.csv"):
        result = run(F, "--points", str(points), "-o", str(tmp_path / given), "--format", "csv")
        assert result.exit_code == 2, result.stderr
        assert "is the points file" in result.stderr
        assert points.read_text() == "1,2\n3,4\n"
    with points.open() as stdin:                                   # --points - < in.csv
        refused = adjac(F, "--points", "-", "-o", str(points), "--format", "csv", stdin=stdin)
    assert refused.returncode == 2 and "is the file on standard input" in refused.stderr
    assert points.read_text() == "1,2\n3,4\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.csv", "in.csv", "link.csv"]


@pytest.mark.parametrize("option", ["--output", "--graph-out"])
def test_an_empty_file_name_is_a_usage_error(option, tmp_path):
    result = run(F, "--at", "1,2", option, "")
    assert result.exit_code == 2 and "the file name is empty" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_output_and_graph_out_naming_one_file_is_refused(tmp_path):
    out = tmp_path / "g.dot"
    result = run(F, "--at", "1,2", "-o", str(out), "--graph-out", str(out))
    assert result.exit_code == 2 and "both name" in result.stderr
    assert not out.exists()


def test_a_read_only_file_is_not_replaced(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text(KEEP)
    out.chmod(0o444)
    if os.access(out, os.W_OK):
        pytest.skip("running as root: every file is writable")
    result = run(F, "--at", "1,2", "-o", str(out))
    assert result.exit_code == 2 and "permission denied" in result.stderr
    kept(tmp_path, "out.csv")


# --- a run that does not complete leaves the file as it was -----------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_run_that_computes_nothing_leaves_the_file(fmt, tmp_path):
    out = tmp_path / ("out.npz" if fmt == "npy" else "out.txt")
    out.write_text(KEEP)
    result = run("x*y", "--at", "1", "-o", str(out), "--format", fmt)      # one value for two inputs
    assert result.exit_code == 2
    kept(tmp_path, out.name)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_malformed_points_file_leaves_the_file(fmt, tmp_path):
    (tmp_path / "p.csv").write_text("1,2\n3,4\n5,x\n")
    out = tmp_path / ("out.npz" if fmt == "npy" else "out.txt")
    out.write_text(KEEP)
    result = run(F, "--points", str(tmp_path / "p.csv"), "-o", str(out), "--format", fmt)
    assert result.exit_code == 2 and "line 3" in result.stderr
    assert f"adjac: {out} was not written" in result.stderr
    kept(tmp_path, "p.csv", out.name)


def test_results_that_are_not_finite_are_still_written(tmp_path):
    out = tmp_path / "out.json"
    out.write_text(KEEP)
    result = run("log(x)", "--at", "-1", "-o", str(out), "--format", "json")
    assert result.exit_code == 1 and "log needs argument > 0" in result.stderr
    assert json.loads(out.read_text())["results"][0]["value"] == [None]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


# --- how a file is replaced -------------------------------------------------------------
def test_replacing_keeps_permissions_and_symbolic_links(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text(KEEP)
    real.chmod(0o640)
    (tmp_path / "link.csv").symlink_to(real)
    result = run(F, "--at", "1,2", "--format", "csv", "-o", str(tmp_path / "link.csv"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "link.csv").is_symlink()
    assert real.read_text().startswith("x1,x2,")
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    new = tmp_path / "new.csv"
    assert run(F, "--at", "1,2", "--format", "csv", "-o", str(new)).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "new.csv", "real.csv"]


def test_a_device_is_written_not_replaced():
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    for fmt in ("csv", "npy"):
        result = run(F, "--at", "1,2", "--format", fmt, "-o", "/dev/null")
        assert result.exit_code == 0, result.stderr
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_and_dev_stdout_are_written_directly(tmp_path):
    fifo = tmp_path / "results"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    result = adjac(F, "--at", "1,2", "--format", "jsonl", "-o", str(fifo))
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(got[0])["point"] == [1.0, 2.0]
    assert stat.S_ISFIFO(fifo.stat().st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["results"]
    if os.path.exists("/dev/stdout"):
        through = adjac(F, "--at", "1,2", "--format", "jsonl", "-o", "/dev/stdout")
        assert through.returncode == 0 and json.loads(through.stdout)["point"] == [1.0, 2.0]


# --- write errors -----------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("fmt", ["table", "csv", "npy"])
def test_dev_full_is_one_line_not_a_traceback(fmt):
    result = adjac(F, "--at", "1,2", "--format", fmt, "-o", "/dev/full")
    assert result.returncode == 74
    assert result.stderr == "adjac: cannot write /dev/full: No space left on device\n"
    with open("/dev/full", "w") as full:
        result = adjac(F, "--at", "1,2", "--format", "csv" if fmt == "npy" else fmt, stdout=full)
    assert result.returncode == 74
    assert result.stderr == "adjac: cannot write standard output: No space left on device\n"


def _small_files(limit: int):
    """A child whose files may not grow past ``limit`` bytes: a full disk, for writes only."""
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limited


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="no file size limits here")
@pytest.mark.parametrize("fmt", ["csv", "npy"])
def test_a_full_disk_leaves_the_old_file_and_no_zero_byte_one(fmt, tmp_path):
    X = np.random.default_rng(1).uniform(-1, 1, (20_000, 2))
    np.save(tmp_path / "p.npy", X)
    out = tmp_path / ("out.npz" if fmt == "npy" else "out.csv")
    out.write_text(KEEP)
    result = adjac(F, "--points", str(tmp_path / "p.npy"), "--format", fmt, "-o", str(out),
                   preexec_fn=_small_files(200_000))
    assert result.returncode == 74
    assert result.stderr == f"adjac: cannot write {out}: File too large\n"
    kept(tmp_path, "p.npy", out.name)
    fresh = tmp_path / "fresh.npz"
    result = adjac(F, "--points", str(tmp_path / "p.npy"), "--format", fmt, "-o", str(fresh),
                   preexec_fn=_small_files(200_000))
    assert result.returncode == 74 and not fresh.exists()
    kept(tmp_path, "p.npy", out.name)


@pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="no SIGPIPE here")
def test_a_reader_that_goes_away_leaves_no_graph_file_and_no_traceback(tmp_path):
    graph = tmp_path / "g.dot"
    proc = subprocess.Popen(preexec_fn=_default_signals, args=[sys.executable, "-m", "autodiff_cli", F, "--at", "1,2", "--at", "3,4",
                             "--graph-out", str(graph), "--format", "jsonl"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()                                    # gone before the first line
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == -signal.SIGPIPE, stderr
    no_traceback(stderr)
    assert list(tmp_path.iterdir()) == []


# --- signals ------------------------------------------------------------------------------
def _lines(start: int, count: int) -> bytes:
    return "".join(f"{k},{k + 1}\n" for k in range(start, start + count)).encode()


def _feed(stdin, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError):       # adjac may stop before it has read them all
        stdin.write(data)
        stdin.flush()


def _wait_for(condition, what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize(("signum", "fmt", "to_file"), [
    (signal.SIGINT, "csv", True),
    (signal.SIGTERM, "npy", True),
    (signal.SIGHUP, "jsonl", True),
    (signal.SIGINT, "json", False),
    (signal.SIGTERM, "csv", False),
])
def test_a_signal_stops_the_batch_with_its_status_and_leaves_the_file(signum, fmt, to_file, tmp_path):
    # Points arrive on a slow pipe: 6 MB at once (more than one 4 MB read), then nothing;
    # adjac computes what it has and waits for more when the signal comes.
    out = tmp_path / ("out.npz" if fmt == "npy" else "out.txt")
    out.write_text(KEEP)
    target = ["-o", str(out)] if to_file else []
    proc = subprocess.Popen(preexec_fn=_default_signals, args=[sys.executable, "-m", "autodiff_cli", F, "--points", "-", "--format", fmt, *target],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    feeding = threading.Thread(target=_feed, args=(proc.stdin, _lines(0, 400_000)))
    feeding.start()                 # a thread: adjac writes results while it still reads points
    if to_file:                     # the temporary file exists: the run has started (and its handlers)
        _wait_for(lambda: len(list(tmp_path.iterdir())) > 1, "the temporary file")
        time.sleep(1.0)
        stdout = b""
    else:                           # results are streaming out
        stdout = proc.stdout.read(1)
    proc.send_signal(signum)
    stdout += proc.stdout.read()
    stderr = proc.stderr.read().decode()
    status = proc.wait(timeout=60)
    feeding.join(timeout=60)
    proc.stdin.close()
    assert status == 128 + signum, stderr
    no_traceback(stderr)
    assert "Aborted" not in stderr
    said = re.fullmatch(r"adjac: interrupted after (\d+) points?; (.*)\n", stderr)
    assert said, stderr
    assert said[2] == (f"{out} was not written" if to_file else "output is incomplete")
    kept(tmp_path, out.name)
    if to_file:
        assert stdout == b""
    else:
        text = stdout.decode()                           # the N points were written in full
        if fmt == "json":                                 # not closed: it cannot pass for a whole document
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)
        else:
            assert text.count("\n") >= 1 + int(said[1])


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_a_signal_with_two_files_open_leaves_both(tmp_path):
    # Formulas of a deeply nested sine take SymPy a long time: the graph is drawn by then,
    # and both files are open (as temporary files) when the signal comes.
    pytest.importorskip("sympy")
    out, graph = tmp_path / "out.txt", tmp_path / "g.dot"
    out.write_text(KEEP)
    proc = subprocess.Popen(preexec_fn=_default_signals, args=[sys.executable, "-m", "autodiff_cli", "sin(" * 15 + "x" + ")" * 15, "-o", str(out),
                             "--graph-out", str(graph)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stderr is not None
    _wait_for(lambda: len(list(tmp_path.glob(".*.adjac-*.tmp"))) == 2, "two temporary files")
    proc.send_signal(signal.SIGTERM)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 143, stderr
    no_traceback(stderr)
    assert stderr.endswith(f"adjac: interrupted; {out} and {graph} were not written\n"), stderr
    kept(tmp_path, "out.txt")


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_an_ignored_signal_stays_ignored(tmp_path):
    # nohup adjac ...: SIGHUP is ignored when adjac starts, and must stay so.
    out = tmp_path / "out.csv"
    proc = subprocess.Popen(args=[sys.executable, "-m", "autodiff_cli", F, "--points", "-", "--format", "csv",
                             "-o", str(out)], stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            preexec_fn=lambda: (_default_signals(), signal.signal(signal.SIGHUP, signal.SIG_IGN)))
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(b"1,2\n")
    proc.stdin.flush()
    _wait_for(lambda: len(list(tmp_path.iterdir())) == 1, "the temporary file")
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    proc.stdin.write(b"3,4\n")
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    assert out.read_text().splitlines()[1:] == ["1.0,2.0,2.8414709848078967,0.36787944117144233,"
                                                "2.5403023058681398,1.0,0.36787944117144233,-0.36787944117144233",
                                                "3.0,4.0,12.141120008059866,0.36787944117144233,"
                                                "3.010007503399555,3.0,0.36787944117144233,-0.36787944117144233"]


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_ctrl_c_stops_a_run_whose_reader_does_not_read(tmp_path):
    # adjac ... | less: less waits for a key, the pipe is full, Ctrl-C must still end adjac
    # (not hang flushing what is left to a pipe nobody reads).
    points = tmp_path / "p.csv"
    points.write_bytes(_lines(0, 200_000))
    proc = subprocess.Popen(preexec_fn=_default_signals, args=[sys.executable, "-m", "autodiff_cli", F, "--points", str(points), "--format", "jsonl"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert re.fullmatch(r"adjac: interrupted after \d+ points?; output is incomplete\n", proc.stderr.read().decode())


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="POSIX signals")
def test_an_interrupt_that_library_code_swallows_still_stops_the_run(tmp_path):
    # SymPy has bare excepts: the Interrupted a signal raises inside simplify can be caught
    # there, and the run would go on to commit its files and exit 0.
    from autodiff_cli.errors import Interrupted
    from autodiff_cli.outputs import files

    target = tmp_path / "out.txt"
    target.write_text(KEEP)
    with pytest.raises(Interrupted) as stopped:
        with files.Guard():
            out = files.output(str(target)).text()
            out.write("partial\n")
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.5)
            except BaseException:
                pass
    assert stopped.value.signum == signal.SIGTERM and str(target) in stopped.value.unwritten
    assert target.read_text() == KEEP
