"""Audit of issue 11 ("Trust at the edges"): more instances of each class, beyond the issue's own
examples, where the behaviour was already right but no test held it.

Only the public API (``autodiff_cli.parse``, ``jacobian``) and the command line (click's
CliRunner on ``autodiff_cli.cli.main``, or a subprocess) are used, so these tests survive the
restructuring of the package (issue 12).
"""

from __future__ import annotations

import glob
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import autodiff_cli
from autodiff_cli import jacobian, parse
from autodiff_cli.cli import main


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, prog_name="adjac")


def results(result):
    return json.loads(result.stdout)["results"]


def no_traceback(result):
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


# --- 1. no pickle from $TMPDIR, on paths the existing test does not take ------------------------
class Plant:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _grammars():
    """adjac's grammar file(s), found beside the installed package (wherever the restructure puts it)."""
    here = Path(autodiff_cli.__file__).resolve().parent
    found = glob.glob(str(here / "**" / "*.lark"), recursive=True) + glob.glob(str(here.parent / "grammar" / "*.lark"))
    return sorted(set(found))


def test_no_pickle_from_tmpdir_when_there_is_no_private_cache(tmp_path, monkeypatch):
    """With no home and no XDG_CACHE_HOME (no private cache can exist), --check, --trace and
    --graph still never unpickle Lark's predictable file in $TMPDIR, nor write one there."""
    from lark import Lark

    grammars = _grammars()
    if not grammars:
        pytest.skip("grammar file not found beside the package")
    names_dir = tmp_path / "names"
    names_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(names_dir))
    for path in grammars:
        text = Path(path).read_text(encoding="utf-8")
        for options in ({"parser": "lalr"}, {"parser": "lalr", "propagate_positions": True}):
            Lark(text, **options, cache=True)
    monkeypatch.undo()
    names = sorted(p.name for p in names_dir.iterdir())
    assert names
    shared = tmp_path / "tmp"
    shared.mkdir()
    marker = tmp_path / "PWNED"
    for name in names:
        (shared / name).write_bytes(b"0" * 64 + b"\n" + pickle.dumps(Plant(marker)))
    env = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"}
    env.update(TMPDIR=str(shared), HOME=str(tmp_path / "nonexistent"))
    for args, status in [(["x*y", "--at", "1,2", "--check", "--trace"], 0), (["x +* y", "--at", "1", "--graph"], 2)]:
        done = subprocess.run([sys.executable, "-m", "autodiff_cli", *args], capture_output=True, text=True,
                              env=env, timeout=60)
        assert done.returncode == status, done.stderr
        assert not marker.exists(), f"adjac {args} unpickled a file from $TMPDIR"
    assert sorted(p.name for p in shared.iterdir()) == names
    assert not (tmp_path / "nonexistent").exists()


# --- 2. a computed zero times inf: flagged, the same in both modes -----------------------------
@pytest.mark.parametrize(("text", "at"), [
    ("1/(1/x + 1)", "1e-200"),        # −1/u² underflows to 0, ∂(1/x)/∂x overflows; true J = 1
    ("exp(-1/x^2)", "0"),             # exp′(−inf) = 0 meets ∂(1/x²)/∂x = inf
    ("atan(1/x)", "1e-200"),          # atan′(1e200) underflows to 0; true J = −1
    ("sqrt(x^2)", "0"),               # 2x = 0 (an input that is 0) meets sqrt′(0) = inf
    ("sqrt(x*x*x)", "1e-170"),        # x³ underflows to 0
])
def test_a_computed_zero_times_inf_is_flagged_in_both_modes(text, at):
    done = {mode: run(text, "--at", at, "--mode", mode, "--format", "json") for mode in ("forward", "reverse")}
    for result in done.values():
        no_traceback(result)
        assert result.exit_code == 1, result.output
        assert "adjac: warning:" in result.stderr
        assert results(result)[0]["jacobian"][0][0] is None
    assert results(done["forward"]) == results(done["reverse"])


@pytest.mark.parametrize(("args", "key", "expected"), [
    (["x + sqrt(y)", "--at", "1,0", "--seed", "1,0", "--mode", "forward"], "jvp", [1.0]),
    (["sqrt(y), x", "--at", "1,0", "--seed", "0,1", "--mode", "reverse"], "vjp", [1.0, 0.0]),
])
def test_a_zero_seed_is_structural(args, key, expected):
    """A seed entry of 0 never meets sqrt′(0) = inf: a definite number, exit 0."""
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    assert results(result)[0][key] == expected


# --- 3. an overflowing intermediate is reported though the outputs are finite -----------------
@pytest.mark.parametrize(("text", "at", "node"), [
    ("1/cosh(x)", "1000", "cosh(x)"),            # value 0: true 2e-434 (fine), but cosh(1000) = inf
    ("x/(x*x + 1)", "1e200", "x*x"),             # value 0, true 1e-200
    ("sigmoid(x*x)", "1e160", "x*x"),            # finite value and J
])
def test_another_overflowing_intermediate_is_flagged_and_never_passes(text, at, node, tmp_path):
    for mode in ("forward", "reverse"):
        result = run(text, "--at", at, "--mode", mode)
        assert result.exit_code == 1, result.output
        assert f"{node} is inf at" in result.stderr
    checked = run(text, "--at", at, "--check")
    assert checked.exit_code == 1 and "PASS" not in checked.stdout
    points = tmp_path / "p.txt"
    points.write_text(f"1\n{at}\n2\n")
    batch = run(text, "--points", str(points), "--format", "csv")
    assert batch.exit_code == 1, batch.output
    assert f"{node} is inf at" in batch.stderr


# --- 4. signed zeros stay apart, also after folding ---------------------------------------------
@pytest.mark.parametrize(("text", "x", "value"), [
    ("atan(1/(x*(0*-1))) + atan(1/(x*0))", 1.0, 0.0),                  # 0*-1 folds to −0
    ("atan(1/(x*(-0))) - atan(1/(x*0))", 1.0, -np.pi),
    ("atan(1/(x-x)) + atan(1/(-0 - 0)) + atan(1/(0 + 0))", 1.0, np.pi / 2),
])
def test_signed_zeros_stay_apart_after_folding(text, x, value):
    for mode in ("forward", "reverse"):
        y, _ = jacobian(parse(text), [x], mode)
        assert y[0] == pytest.approx(value, abs=1e-15)


def test_signed_zero_results_keep_their_sign():
    y, _ = jacobian(parse("atan(-0/x), atan(0/x)"), [-1.0])
    assert np.signbit(y[1]) and not np.signbit(y[0])


# --- 5. log(sigmoid) far in the left tail, both modes ------------------------------------------
@pytest.mark.parametrize("x", [-40.0, -100.0, -700.0])
def test_log_sigmoid_in_the_far_left_tail(x):
    for mode in ("forward", "reverse"):
        y, J = jacobian(parse("log(sigmoid(x))"), [x], mode)
        assert y[0] == pytest.approx(x, rel=1e-15)            # log σ(x) = x − log(1 + e^x)
        assert J[0, 0] == pytest.approx(1.0, rel=1e-15)


# --- 6. files --------------------------------------------------------------------------------
def test_graph_out_naming_the_points_file_is_refused_by_another_name(tmp_path):
    points = tmp_path / "in.csv"
    points.write_text("x1,x2\n1,2\n")
    os.link(points, tmp_path / "hard.dot")
    result = run("x1*x2", "--points", str(points), "--graph-out", str(tmp_path / "hard.dot"))
    assert result.exit_code == 2
    assert points.read_text() == "x1,x2\n1,2\n"


def test_output_into_a_missing_folder_is_a_usage_error(tmp_path):
    result = run("x*y", "--at", "1,2", "-o", str(tmp_path / "nodir" / "out.txt"))
    assert result.exit_code == 2
    no_traceback(result)
    assert "not a writable folder" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- 8. bounded reading of points ---------------------------------------------------------------
def test_a_long_comment_line_is_capped_too(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("x,y\n#" + "c" * 5_000_000 + "\n1,2\n")
    result = run("x*y", "--points", str(points))
    assert result.exit_code == 2
    assert "line 2: the line is longer than" in result.stderr


def test_an_npy_header_promising_more_rows_than_the_file_holds(tmp_path):
    path = tmp_path / "p.npy"
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 2)})
        f.write(np.ones(4).tobytes())
    result = run("x*y", "--points", str(path), "--format", "csv")
    no_traceback(result)
    assert result.exit_code == 2
    assert "ends early" in result.stderr


# --- 11. messages that steer the right way --------------------------------------------------------
@pytest.mark.parametrize(("args", "says"), [
    (["1.5e-*x", "--at", "1"], "an exponent needs digits"),
    (["x + 2_5", "--at", "1"], "write 25"),
    (["x*y*z", "--at", "1 2 3"], "separate values with commas, not spaces: 1,2,3"),
    (["x*y", "--at", "1,2", "--seed", "1 0", "--mode", "forward"], "separate values with commas"),
    (["hypotenuse(x, y)", "--at", "1,2"], "did you mean hypot?"),
    (["x*y y*x", "--at", "1,2"], "or a comma between two outputs"),
    (["x*y", "x=1,y=2"], "--at x=1,y=2"),
])
def test_more_hints_steer_the_right_way(args, says):
    result = run(*args)
    assert result.exit_code == 2
    no_traceback(result)
    assert says in result.stderr


def test_a_byte_order_mark_before_a_header_with_crlf_on_stdin():
    result = run("x*y", "--points", "-", "--format", "csv", input="\ufeffx,y\r\n1,2\r\n".encode())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "1.0,2.0,2.0,2.0,1.0"


def test_a_bad_field_under_a_permuted_header_with_spaces_names_its_column(tmp_path):
    points = tmp_path / "p.txt"
    points.write_text("x2 x1 x3\n1 2 3\n4 5 z\n")
    result = run("x1*x2*x3", "--points", str(points))
    assert result.exit_code == 2
    assert "line 3: x3 is 'z'" in result.stderr
