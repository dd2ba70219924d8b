"""Batch input and output: --points FILE, --format npy, --output, chunked and streamed.

Numbers are checked against the Python API (jacobian) and against the --at path, whose
output the batch path must reproduce byte for byte.
"""

import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from autodiff_cli import jacobian, parse, points
from autodiff_cli import run as loop
from autodiff_cli.cli import main
from autodiff_cli.outputs import json as json_out
from autodiff_cli.report import compute

F1 = "x1*x2 + sin(x1), exp(x1-x2)"


def run(args, stdin=None):
    return CliRunner().invoke(main, args, input=stdin)


def expected(text, X, mode="auto"):
    return jacobian(parse(text), np.asarray(X, dtype=float), mode)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 3 points and text blocks of 16 bytes: every path crosses a boundary."""
    monkeypatch.setattr(loop, "chunk_size", lambda graph, mode, seeded=False, order=1: 3)
    monkeypatch.setattr(points, "BLOCK", 16)


# --- reading -----------------------------------------------------------------------------
def test_header_in_any_order_comments_blank_lines_and_spaces(tmp_path, small_chunks):
    path = tmp_path / "p.csv"
    path.write_text("# measured points\n\nx2 , x1\n2, 1\n\n# a comment\n3 ,4 # trailing\n  5,6  \n")
    result = run([F1, "--points", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    points = [json.loads(line)["point"] for line in result.stdout.splitlines()]
    assert points == [[1.0, 2.0], [4.0, 3.0], [6.0, 5.0]]
    J = [json.loads(line)["jacobian"] for line in result.stdout.splitlines()]
    np.testing.assert_allclose(J, expected(F1, points)[1], rtol=1e-15)


def test_whitespace_separated_without_header(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("1 2\n3\t4\n")
    result = run([F1, "--points", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["point"] for r in doc["results"]] == [[1.0, 2.0], [3.0, 4.0]]


def test_stdin_and_the_same_bytes_as_at(small_chunks):
    rows = ["1,2", "-0.5,3e-3", "7,.25", "2.5,-1", "0,0"]
    for fmt in ("json", "jsonl", "csv", "table"):
        at = run([F1, *[f"--at={r}" for r in rows], "--format", fmt])
        streamed = run([F1, "--points", "-", "--format", fmt], stdin="\n".join(rows) + "\n")
        assert at.exit_code == streamed.exit_code == 0, streamed.stderr
        assert streamed.stdout == at.stdout, fmt


@pytest.mark.parametrize(("mode", "seed"), [("forward", "1,-2"), ("reverse", "0.5,3"), ("reverse", None)])
def test_seeds_and_modes_same_bytes_as_at(mode, seed, small_chunks):
    rows = ["1,2", "-0.5,3e-3", "7,.25", "2.5,-1"]
    extra = ["--mode", mode] + (["--seed", seed] if seed else [])
    for fmt in ("json", "jsonl", "csv"):
        at = run([F1, *[f"--at={r}" for r in rows], "--format", fmt, *extra])
        streamed = run([F1, "--points", "-", "--format", fmt, *extra], stdin="\n".join(rows) + "\n")
        assert at.exit_code == streamed.exit_code == 0, streamed.stderr
        assert streamed.stdout == at.stdout, (fmt, mode, seed)


def test_npy_file_and_npy_on_stdin(tmp_path, small_chunks):
    X = np.random.default_rng(1).uniform(-2, 2, (10, 2))
    np.save(tmp_path / "p.npy", X)
    from_file = run([F1, "--points", str(tmp_path / "p.npy"), "--format", "json"])
    from_pipe = run([F1, "--points", "-", "--format", "json"], stdin=(tmp_path / "p.npy").read_bytes())
    assert from_file.exit_code == from_pipe.exit_code == 0, from_pipe.stderr
    assert from_file.stdout == from_pipe.stdout
    doc = json.loads(from_file.stdout)
    np.testing.assert_array_equal([r["point"] for r in doc["results"]], X)
    np.testing.assert_allclose([r["jacobian"] for r in doc["results"]], expected(F1, X)[1], rtol=1e-15)


def test_npy_of_integers_and_one_input_as_a_vector(tmp_path):
    np.save(tmp_path / "v.npy", np.array([1, 2, 3]))
    result = run(["x^2", "--points", str(tmp_path / "v.npy"), "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["jacobian"] for line in result.stdout.splitlines()] == [[[2.0]], [[4.0]], [[6.0]]]


# --- malformed input: every earlier row written whole, then exit 2 with the line ----------
@pytest.mark.parametrize(("text", "line", "says"), [
    ("1,2\n3,4\n5,x\n7,8\n", 3, "x2 is 'x', not a number"),
    ("1,2\n3,4,5\n", 2, "3 values but the function has 2 inputs (x1, x2)"),
    ("1,2\n\n# c\n3\n", 4, "1 value but the function has 2 inputs"),
    ("1,2\n3,nan\n", 2, "x2 is 'nan', not a number"),
    ("1,2\n3,1e999\n", 2, "overflows"),
    ("1,2\n3,,4\n", 2, "3 values"),
    ("1,2\n,4\n", 2, "x1 is empty"),
    ("1,2\n0x1F,2\n", 2, "x1: 0x1F is hexadecimal"),
    ("x1,x2\n1,2\n2,3\n4,5\n6,7\nx1,x2\n", 6, "a header row of input names may only come first"),
])
def test_malformed_row_stops_after_the_rows_before_it(text, line, says, tmp_path, small_chunks):
    path = tmp_path / "p.csv"
    path.write_text(text)
    result = run([F1, "--points", str(path), "--format", "csv"])
    assert result.exit_code == 2
    assert f"line {line}:" in result.stderr and says in result.stderr, result.stderr
    good = [r for r in text.splitlines()[: line - 1] if r and not r.startswith(("#", "x1"))]
    rows = result.stdout.splitlines()
    assert rows[0].startswith("x1,x2,y1,y2")
    assert [row.split(",")[:2] for row in rows[1:]] == [[repr(float(v)) for v in r.split(",")] for r in good]


def test_malformed_row_leaves_the_output_file_and_npz_unwritten(tmp_path, small_chunks):
    # A run that fails is not a result: --output is written whole or not at all (issue 11, item 6).
    path = tmp_path / "p.csv"
    path.write_text("".join(f"{k},{k + 1}\n" for k in range(8)) + "8;9\n")
    for fmt, name in (("jsonl", "out.jsonl"), ("npy", "out.npz")):
        out = tmp_path / name
        result = run([F1, "--points", str(path), "--format", fmt, "--output", str(out)])
        assert result.exit_code == 2 and "line 9:" in result.stderr
        assert f"adjac: {out} was not written" in result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]


@pytest.mark.parametrize(("header", "says"), [
    ("x1,x3", "the header names x3, which is not an input; the inputs are x1, x2"),
    ("x1", "line 1: the header has no column for x2"),
    ("x1,x1", "names x1 twice"),
    ("x2,x2,x1", "names x2 twice"),
])
def test_bad_header(header, says, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(header + "\n1,2\n")
    result = run([F1, "--points", str(path)])
    assert result.exit_code == 2 and says in result.stderr, result.stderr


def test_header_missing_an_input(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("x1,x2\n1,2\n")
    result = run(["x1 + x2 + x3", "--points", str(path)])
    assert result.exit_code == 2 and "no column for x3" in result.stderr


def test_npy_problems(tmp_path, small_chunks):
    np.save(tmp_path / "shape.npy", np.zeros((4, 3)))
    result = run([F1, "--points", str(tmp_path / "shape.npy")])
    assert result.exit_code == 2 and "shape (4, 3)" in result.stderr and "(N, 2)" in result.stderr
    X = np.arange(20.0).reshape(10, 2)
    X[7, 1] = np.inf
    np.save(tmp_path / "inf.npy", X)
    result = run([F1, "--points", str(tmp_path / "inf.npy"), "--format", "csv"])
    assert result.exit_code == 2 and "row 8: x2 is inf" in result.stderr
    assert len(result.stdout.splitlines()) == 1 + 7
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    result = run([F1, "--points", str(tmp_path / "text.npy")])
    assert result.exit_code == 2 and "not numbers" in result.stderr


def test_not_utf8(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"1,2\n3,4\n\xff\xfe,1\n")
    result = run([F1, "--points", str(path), "--format", "csv"])
    assert result.exit_code == 2 and "line 3: the line is not UTF-8" in result.stderr
    assert len(result.stdout.splitlines()) == 3


# --- output ------------------------------------------------------------------------------
@pytest.mark.parametrize("end", ["\n", ""])
def test_a_line_too_long_stops_after_the_rows_before_it(end, tmp_path, small_chunks):
    """Blocks of 16 bytes: a line may have max(BLOCK, 64 bytes per input) = 128 bytes."""
    path = tmp_path / "p.csv"
    path.write_text("1,2\n" + "3," + " " * 125 + "4\n" + "5," + "6" * 1000 + end)
    result = run(["x*y", "--points", str(path), "--format", "csv"])
    assert result.exit_code == 2
    assert result.stdout.splitlines()[1:] == ["1.0,2.0,2.0,2.0,1.0", "3.0,4.0,12.0,4.0,3.0"]
    assert "p.csv, line 3: the line is longer than 128 bytes (a line holds one point: 2 numbers" in result.stderr
    assert "binary" not in result.stderr and "Traceback" not in result.stderr


def test_points_from_dev_zero_end_at_once():
    """Before: read without end (1.3 GB after 30 s)."""
    done = subprocess.run([sys.executable, "-m", "autodiff_cli", "x+y", "--points", "/dev/zero"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "/dev/zero, line 1: the line is longer than 4,194,304 bytes (is this a binary file?" in done.stderr
    assert "Traceback" not in done.stderr


def test_npz_holds_points_values_and_jacobian(tmp_path, small_chunks):
    X = np.random.default_rng(2).uniform(-1, 1, (11, 3))
    np.save(tmp_path / "p.npy", X)
    text = "x1*x2 + x1*x3, ln(x1+x2+3)"
    result = run([text, "--points", str(tmp_path / "p.npy"), "--format", "npy", "-o", str(tmp_path / "r.npz")])
    assert result.exit_code == 0, result.stderr
    y, J = expected(text, X)
    with np.load(tmp_path / "r.npz") as saved:
        np.testing.assert_array_equal(saved["points"], X)
        np.testing.assert_allclose(saved["values"], y, rtol=1e-15)
        np.testing.assert_allclose(saved["jacobian"], J, rtol=1e-15)
        assert saved["variables"].tolist() == ["x1", "x2", "x3"]
        assert saved["outputs"].tolist() == ["x1*x2 + x1*x3", "ln(x1+x2+3)"]


def test_npz_with_a_seed_and_from_at(tmp_path):
    out = tmp_path / "r.npz"
    result = run([F1, "--at", "1,2", "--at", "3,4", "--seed", "1,0", "--mode", "reverse", "--format", "npy",
                  "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    J = expected(F1, [[1, 2], [3, 4]])[1]
    with np.load(out) as saved:
        np.testing.assert_allclose(saved["vjp"], J[:, 0, :], rtol=1e-15)
        assert saved["seed"].tolist() == [1.0, 0.0]


def test_output_file_for_every_text_format(tmp_path):
    for fmt in ("table", "json", "jsonl", "csv"):
        out = tmp_path / f"r.{fmt}"
        to_file = run([F1, "--at", "1,2", "--format", fmt, "--output", str(out)])
        to_stdout = run([F1, "--at", "1,2", "--format", fmt])
        assert to_file.exit_code == 0 and to_file.stdout == ""
        assert out.read_text() == to_stdout.stdout


def test_npy_needs_a_file_and_an_npz_name(tmp_path):
    assert run([F1, "--at", "1,2", "--format", "npy"]).exit_code == 2
    result = run([F1, "--at", "1,2", "--format", "npy", "-o", str(tmp_path / "J.npy")])
    assert result.exit_code == 2 and "J.npz" in result.stderr
    result = run([F1, "--at", "1,2", "--points", "-"], stdin="1,2\n")
    assert result.exit_code == 2 and "not both" in result.stderr
    result = run([F1, "--format", "csv", "-o", str(tmp_path / "no" / "such" / "r.csv"), "--at", "1,2"])
    assert result.exit_code == 2 and "writable" in result.stderr


def test_empty_points_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("# nothing yet\nx1,x2\n")
    result = run([F1, "--points", str(path), "--format", "csv"])
    assert result.exit_code == 0 and result.stdout.splitlines() == [
        "x1,x2,y1,y2,d(y1)/d(x1),d(y1)/d(x2),d(y2)/d(x1),d(y2)/d(x2)"]
    result = run([F1, "--points", str(path), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["results"] == []


def test_warnings_stay_bounded_and_point_at_global_indices(tmp_path, small_chunks):
    x = np.linspace(-1, 1, 41)                                  # log(x) undefined for x <= 0
    np.save(tmp_path / "p.npy", x[:, None])
    result = run(["log(x)", "--points", str(tmp_path / "p.npy"), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    warnings = doc["warnings"]
    traced = {w["point"] for w in warnings if w["point"] is not None}
    assert traced == set(range(10))                           # the first 10 bad points, across chunks
    assert warnings[-1]["message"] == "11 more points with non-finite results"
    assert doc["results"][20]["value"] == [None]               # log(0) = -inf
    assert result.stderr.count("adjac: warning:") == 11


def test_fast_json_text_equals_json_dumps():
    """The batch writer spells finite rows itself; it must match json.dumps exactly
    (here with some rows that overflow, which take the json.dumps path)."""

    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 3)) * 10.0 ** rng.integers(-20, 20, (50, 3))
    graph = parse("x1*x2, exp(x3)/x1, x2")
    for mode, seed in (("forward", None), ("reverse", None), ("forward", [1.0, 2.0, -3.0]), ("reverse", [1, 0, 2])):
        report = compute(graph, X, mode, seed)
        lines = json_out.result_lines(report, 0, with_warnings=True)
        assert 0 < report.bad_points < len(X)
        for p, line in enumerate(lines):
            obj = json_out.result_object(report, p)
            obj["warnings"] = [json_out.warning_object(report, q) for q in report.problems if q.point == p]
            assert line == json.dumps(obj, allow_nan=False)


# --- a million points in bounded memory ---------------------------------------------------
PEAK = textwrap.dedent("""
    import resource, subprocess, sys
    status = subprocess.run(sys.argv[1:]).returncode
    print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
""")


def peak_mb(args, tmp_path):
    """Exit status and peak resident memory (MB) of `python -m autodiff_cli args`."""
    out = subprocess.run([sys.executable, "-c", PEAK, sys.executable, "-m", "autodiff_cli", *args],
                         capture_output=True, text=True, cwd=tmp_path, check=True)
    status, peak = out.stdout.split()
    return int(status), int(peak)


@pytest.mark.slow
def test_a_million_points_in_bounded_memory(tmp_path):
    rng = np.random.default_rng(4)
    np.save(tmp_path / "small.npy", rng.uniform(-2, 2, (1000, 2)))
    np.save(tmp_path / "big.npy", rng.uniform(-2, 2, (1_000_000, 2)))
    with open(tmp_path / "big.csv", "w") as f:
        f.write("x1,x2\n")
        for block in np.array_split(rng.uniform(-2, 2, (1_000_000, 2)), 20):
            np.savetxt(f, block, delimiter=",", fmt="%.17g")
    small = peak_mb([F1, "--points", "small.npy", "--format", "npy", "-o", "small.npz"], tmp_path)
    npy = peak_mb([F1, "--points", "big.npy", "--format", "npy", "-o", "big.npz"], tmp_path)
    csv = peak_mb([F1, "--points", "big.csv", "--format", "csv", "-o", "big.out.csv"], tmp_path)
    assert small[0] == npy[0] == csv[0] == 0
    # Not holding N points: the million-point runs need little more than a thousand points do.
    assert npy[1] < 300 and csv[1] < 300, (small, npy, csv)
    assert npy[1] - small[1] < 100 and csv[1] - small[1] < 100, (small, npy, csv)
    with np.load(tmp_path / "big.npz") as saved:
        assert saved["jacobian"].shape == (1_000_000, 2, 2)
        X = saved["points"][-5:]
        np.testing.assert_allclose(saved["jacobian"][-5:], expected(F1, X)[1], rtol=1e-15)
    with open(tmp_path / "big.out.csv") as f:
        assert sum(1 for _ in f) == 1_000_001
    last = np.loadtxt(io.StringIO(open(tmp_path / "big.out.csv").readlines()[-1]), delimiter=",")
    np.testing.assert_allclose(last[4:].reshape(2, 2), expected(F1, last[:2])[1], rtol=1e-15)


def test_fortran_ordered_npy(tmp_path, small_chunks):
    X = np.asfortranarray(np.random.default_rng(6).uniform(-1, 1, (8, 2)))
    np.save(tmp_path / "f.npy", X)
    result = run([F1, "--points", str(tmp_path / "f.npy"), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    np.testing.assert_array_equal([r["point"] for r in json.loads(result.stdout)["results"]], X)
    piped = run([F1, "--points", "-"], stdin=(tmp_path / "f.npy").read_bytes())
    assert piped.exit_code == 2 and "Fortran-ordered" in piped.stderr


@pytest.mark.slow
def test_the_benchmark_runs_without_peers():
    """A smoke run of benchmarks/run.py, so that the script does not rot (it prints figures;
    nothing here checks a time)."""
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    out = subprocess.run([sys.executable, str(script), "--quick", "--no-peers"], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    for section in ("### 1.", "### 2.", "### 3.", "### 4.", "### 4b.", "### 5.", "### 7."):
        assert section in out.stdout
    assert "JAX (skipped: --no-peers)" in out.stdout and "| F4 " in out.stdout


# --- messages that name the right column, and a byte-order mark (issue 11, item 11) ----------
F3 = "a*b*c"                     # three inputs: a header order that is not its own inverse


@pytest.mark.parametrize(("text", "line", "says"), [
    ("x2, x1\n1,2\n3,zz\n", 3, "x1 is 'zz', not a number: 3,zz"),
    ("x2 x1\n1 2\n3 zz\n", 3, "x1 is 'zz', not a number: 3 zz"),
    ("x2,x1\n1,2\nzz,3\n", 3, "x2 is 'zz', not a number"),
    ("# c\n\nx2\tx1\n\n1\t2\n3\t\u22124\n", 6, "x1: '\u22124' is typed with minus sign"),
    ("x2,x1\n1,2,3\n", 2, "3 values but the header has 2 columns (x2, x1)"),
])
def test_a_bad_field_is_named_by_its_header_column(text, line, says, tmp_path, small_chunks):
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    result = run([F1, "--points", str(path), "--format", "csv"])
    assert result.exit_code == 2
    assert f"line {line}: {says}" in result.stderr, result.stderr


@pytest.mark.parametrize("sep", [",", " "])
@pytest.mark.parametrize("column", range(3))
def test_a_bad_field_under_a_permuted_header_of_three(sep, column, tmp_path):
    header = ["c", "a", "b"]
    row = ["1", "2", "3"]
    row[column] = "1e"
    path = tmp_path / "p.txt"
    path.write_text(sep.join(header) + "\n4" + sep + "5" + sep + "6\n" + sep.join(row) + "\n")
    result = run([F3, "--points", str(path), "--format", "csv"])
    assert result.exit_code == 2
    assert f"line 3: {header[column]}: '1e' has no exponent after its 'e'" in result.stderr, result.stderr
    assert result.stdout.splitlines()[1].startswith("5.0,6.0,4.0,")          # the good row, in input order


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("body", [b"x2,x1\n2,1\n4,3\n", b"1,2\n3,4\n", b"x1 x2\r\n1 2\r\n3 4\r\n"])
def test_a_byte_order_mark_is_skipped_in_a_file_and_on_stdin(body, tmp_path, small_chunks):
    path = tmp_path / "p.csv"
    path.write_bytes(BOM + body)
    plain = tmp_path / "plain.csv"
    plain.write_bytes(body)
    want = run([F1, "--points", str(plain), "--format", "csv"])
    assert want.exit_code == 0, want.stderr
    from_file = run([F1, "--points", str(path), "--format", "csv"])
    from_stdin = run([F1, "--points", "-", "--format", "csv"], stdin=BOM + body)
    for got in (from_file, from_stdin):
        assert got.exit_code == 0, got.stderr
        assert got.stdout == want.stdout
    assert [r.split(",")[:2] for r in want.stdout.splitlines()[1:]] == [["1.0", "2.0"], ["3.0", "4.0"]]


def test_a_byte_order_mark_alone_or_before_a_bad_line(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(BOM)
    result = run([F1, "--points", str(path), "--format", "csv"])
    assert result.exit_code == 0 and result.stdout.splitlines() == ["x1,x2,y1,y2,d(y1)/d(x1),d(y1)/d(x2),"
                                                                      "d(y2)/d(x1),d(y2)/d(x2)"], result.stdout
    path.write_bytes(BOM + b"x1,x2\n1,q\n")
    result = run([F1, "--points", str(path)])
    assert result.exit_code == 2 and "line 2: x2 is 'q', not a number" in result.stderr


def test_utf16_and_semicolons_say_how_to_save_the_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("x1,x2\n1,2\n", encoding="utf-16")
    result = run([F1, "--points", str(path)])
    assert result.exit_code == 2 and "line 1: the text is UTF-16" in result.stderr and "UTF-8" in result.stderr
    path.write_text("x1;x2\n1,5;2,5\n")
    result = run([F1, "--points", str(path)])
    assert result.exit_code == 2 and "line 1: the values are separated by ';'" in result.stderr
    path.write_text("1,5;2,5\n")
    result = run([F1, "--points", str(path)])
    assert result.exit_code == 2 and "such as 1.5,2.5" in result.stderr


@pytest.mark.parametrize(("text", "says"), [
    ("1,2\n3,4,\n", "line 2: the line ends with a comma; give 2 values (x1, x2): 3,4,"),
    ("x2,x1\n3,4,\n", "line 2: the line ends with a comma; give 2 values (x2, x1)"),
    ("x1=1,x2=2\n", "line 1: x1 is 'x1=1', not a number (name the columns once, in a header row: x1,x2)"),
    ('"1","2"\n', 'line 1: x1: "1" is in quotes; write the number without them: 1'),
    ("1,1_000\n", "line 1: x2: '1_000' has a digit separator '_'; write 1000"),
    ("1 2 3\n", "line 1: 3 values but the function has 2 inputs"),
])
def test_points_file_values_typed_wrong_say_what_to_type(text, says, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(text)
    result = run([F1, "--points", str(path)])
    assert result.exit_code == 2
    assert says in result.stderr, result.stderr
