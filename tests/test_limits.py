"""Limits that hold: depth 100 000, 1 MB of text, 10 000 inputs or outputs, constant towers.

These assert results, not times (benchmarks/limits.py prints the timings).  Where a
regression could hang or eat memory, the command runs in a subprocess with a timeout
as a hang guard and its peak memory is checked afterwards.
"""

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_cli import jacobian, parse
from autodiff_cli.check import check
from autodiff_cli.cli import main

DEPTH = 100_000


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def run_process(args, stdin_text, timeout=300):
    """The installed command in a subprocess; returns (exit code, stdout, stderr)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "autodiff_cli", *args], input=stdin_text, capture_output=True,
                          text=True, timeout=timeout, env=env)
    return done.returncode, done.stdout, done.stderr


def run_measured(args, stdin_text, timeout=300):
    """Like run_process, plus the command's own peak memory in MB (a fresh parent measures it,
    so earlier subprocesses of the test run do not count)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    parent = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
              "sys.stderr.write('\\npeak %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
              "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", parent, sys.executable, "-m", "autodiff_cli", *args],
                          input=stdin_text, capture_output=True, text=True, timeout=timeout, env=env)
    err, _, peak = done.stderr.rstrip("\n").rpartition("\npeak ")
    return done.returncode, done.stdout, err, int(peak) / 1024


def children_peak_mb():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@pytest.fixture(scope="module")
def sin_nest():
    return parse("sin(" * DEPTH + "x" + ")" * DEPTH)


def test_nesting_depth_100000_of_calls(sin_nest):
    assert len(sin_nest) == DEPTH + 1
    v, d = 0.5, 1.0
    for _ in range(DEPTH):                    # d/dx sin(sin(...)) = Π cos(w_k)
        v, d = np.sin(v), d * np.cos(v)
    for mode in ("forward", "reverse"):
        y, J = jacobian(sin_nest, [0.5], mode)
        assert y[0] == pytest.approx(v, rel=1e-12)
        assert J[0, 0] == pytest.approx(d, rel=1e-9)


def test_check_at_depth_100000(sin_nest):
    assert check(sin_nest, [[0.5]]).verdict(0) == "pass"


def test_nesting_depth_100000_of_parentheses_and_minus_signs():
    parens = parse("(" * DEPTH + "x" + ")" * DEPTH)
    assert len(parens) == 1 and parens.outputs == (0,)
    minus = parse("-" * DEPTH + "x")          # an even number of minus signs
    assert len(minus) == DEPTH + 1
    assert jacobian(minus, [3.0], "reverse")[1][0, 0] == 1.0


def test_deep_unclosed_parentheses_are_a_short_clear_error():
    result = run("(" * DEPTH + "x")
    assert result.exit_code == 2
    assert "ends too early: expected" in result.stderr and "')'" in result.stderr
    assert len(result.stderr) < 1000                  # the line is cut to a window around the caret


def test_error_deep_inside_a_long_line_puts_the_caret_under_it():
    text = "sin(" * 1000 + "sinn(x)" + ")" * 1000
    result = run(text, "--at", "1")
    assert result.exit_code == 2
    assert "unknown function 'sinn' at column 4001" in result.stderr
    shown, caret = result.stderr.splitlines()[-3:-1]
    assert shown[caret.index("^") :].startswith("sinn(x)")
    assert "did you mean sin?" in result.stderr


def test_no_point_at_depth_100000_answers_without_a_traceback():
    # without --at the command gives formulas (SymPy, optional): a result or a clear message
    code, out, err = run_process(["-"], "sin(" * DEPTH + "x" + ")" * DEPTH)
    assert code in (0, 1, 2) and "Traceback" not in err
    assert out or err.strip()


def test_one_megabyte_of_text_in_a_subprocess():
    terms, k, size = [], 0, 0
    while size < 1_000_000:
        k += 1
        terms.append(f"x*{k}")
        size += len(terms[-1]) + 1
    text = "+".join(terms)
    assert len(text) >= 1_000_000
    code, out, err = run_process(["-", "--at", "0.5", "--format", "json"], text)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["results"][0]["jacobian"] == [[float(k * (k + 1) // 2)]]
    assert children_peak_mb() < 1500                  # bounded: a few hundred MB in practice


def test_ten_thousand_inputs():
    names = [f"x{k}" for k in range(10_000)]
    text = f"f({', '.join(names)}) = " + " + ".join(f"{k % 7}*{name}" for k, name in enumerate(names))
    result = run(text, "--at", ",".join(["1"] * 10_000), "--format", "json")
    assert result.exit_code == 0, result.stderr
    J = json.loads(result.stdout)["results"][0]["jacobian"]
    assert J == [[float(k % 7) for k in range(10_000)]]


def test_ten_thousand_inputs_with_the_wrong_number_of_values_gives_a_short_message():
    text = " + ".join(f"x{k}" for k in range(10_000))
    result = run(text, "--at", "1,2")
    assert result.exit_code == 2
    assert "10000 inputs (x0, x1," in result.stderr and "(10000 names)" in result.stderr
    assert len(result.stderr) < 1000


def test_ten_thousand_outputs_with_check():
    text = ", ".join(f"{k}*x" for k in range(10_000))
    result = run(text, "--at", "2", "--check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    r = json.loads(result.stdout)["results"][0]
    assert r["jacobian"] == [[float(k)] for k in range(10_000)]
    assert r["check"]["verdict"] == "pass"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2^2^2^2", 65536.0),
        ("2^2^2^2^2", float("inf")),                  # 2^65536: a double overflows at once
        ("2^2^2^2^2^2", float("inf")),
        ("9**9**9**9", float("inf")),
        ("(2^2^2^2^2^2)^0", 1.0),
        ("10^-400", 0.0),
    ],
)
def test_constant_towers_are_doubles_not_big_integers(text, value):
    graph = parse(text)
    assert graph.n == 0 and len(graph.tape) == 0
    assert graph.outputs[0].value == value


def test_constant_tower_times_x_finishes_and_says_why_it_is_not_finite():
    code, out, err = run_process(["9**9**9**9 * x + 2^2^2^2^2^2^2^2^2^2", "--at", "1", "--format", "json"], "",
                                 timeout=60)
    assert code == 1
    assert json.loads(out)["results"][0]["value"] == [None]
    assert "is the constant inf" in err


def test_many_bad_points_are_diagnosed_up_to_a_bound():
    args = ["log(x)"]
    for k in range(50):
        args += ["--at", str(-1 - k)]
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr.count("log needs argument > 0") == 10
    assert "40 more points have non-finite results" in result.stderr


# --- bounded memory on small inputs (issue 11, item 8) ------------------------------------
def _closure_by_bitmasks(graph):
    """The reference: an n-bit mask per node, forwards (inputs) and backwards (outputs)."""
    from autodiff_cli.core.graph import Const

    depends = [1 << j for j in range(graph.n)]
    for op in graph.tape:
        mask = 0
        for a in op.args:
            if not isinstance(a, Const):
                mask |= depends[a]
        depends.append(mask)
    reaches = [0] * len(graph)
    for k, out in enumerate(graph.outputs):
        if not isinstance(out, Const):
            reaches[out] |= 1 << k
    for i in range(len(graph) - 1, graph.n - 1, -1):
        for a in graph.tape[i - graph.n].args:
            if not isinstance(a, Const):
                reaches[a] |= reaches[i]
    pattern = [[j for j in range(graph.n) if not isinstance(out, Const) and depends[out] >> j & 1]
               for out in graph.outputs]
    return pattern, sum(bin(d).count("1") for d in depends), sum(bin(r).count("1") for r in reaches)


_leaves = st.sampled_from(["x1", "x2", "x3", "x4", "x5", "x6", "2", "x1*x2", "sin(x3)"])
_exprs = st.recursive(_leaves, lambda e: st.builds("({} {} {})".format, e, st.sampled_from("+-*/"), e)
                      | st.builds("{}({})".format, st.sampled_from(["sin", "exp", "sqrt"]), e), max_leaves=16)


@settings(max_examples=150, deadline=None)
@given(st.lists(_exprs, min_size=1, max_size=5))
def test_sparsity_and_work_agree_with_bitmasks(outputs):
    """Shared subexpressions (the memo merges repeats), repeated outputs, constant outputs."""
    graph = parse(", ".join(outputs), ["x1", "x2", "x3", "x4", "x5", "x6"])
    pattern, forward, reverse = _closure_by_bitmasks(graph)
    assert [list(p) for p in graph.pattern()] == pattern
    assert graph.sparsity() == [[j in p for j in range(graph.n)] for p in pattern]
    assert graph.carried("forward") == forward
    assert graph.carried("reverse") == reverse


def test_sparsity_and_work_take_memory_linear_in_the_text():
    """n-bit masks per node took n²/16 bytes for sum(x_j^2) (the squares all come first)."""
    n = 20_000
    graph = parse(" + ".join(f"x{j}^2" for j in range(n)) + ", x0*x1")
    tracemalloc.start()
    try:
        assert graph.carried("forward") == 2 * n + (n * (n + 1) // 2 - 1) + 2   # x_j and x_j^2; the sums; x0*x1
        assert graph.carried("reverse") == (3 * n - 1) + 3
        assert [len(p) for p in graph.pattern()] == [n, 2]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, peak                     # bitmasks: 25 MB


@pytest.mark.slow
def test_sum_of_100000_inputs_in_json_stays_small(tmp_path):
    """1.5 GB before (a 12.5 KB mask per node); the text is 0.9 MB."""
    n = 100_000
    points = tmp_path / "x.csv"
    points.write_text(",".join(["1"] * n) + "\n")
    code, out, err, peak = run_measured(["-", "--points", str(points), "--format", "json"],
                                        "+".join(f"x{j}^2" for j in range(n)), timeout=120)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["results"][0]["jacobian"] == [[2.0] * n]
    assert peak < 600, peak                           # 310 MB after


def _bidiagonal(m):
    """m outputs x_k - x_{k+1} and x_{m-1}: m inputs, a J of m² entries with 2m - 1 nonzero."""
    return ", ".join(f"x{k}-x{k + 1}" for k in range(m - 1)) + f", x{m - 1}"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--format", "npy", "-o", "{tmp}/J.npz"], "100,000,000 numbers (J is 10,000 × 10,000), more than the "
                                                   "1,000,000 adjac writes at once"),
        (["--format", "json"], "--seed v with --format csv, jsonl or table for J·v (forward) or vᵀ·J (reverse) alone"),
        (["--format", "table"], "more than the 100,000 adjac shows at once"),
        ([], "100,000,000 formulas"),                    # no point: formulas
    ],
)
def test_a_jacobian_too_big_is_refused_before_anything_is_computed(args, says, tmp_path):
    """117 KB of text; before: a MemoryError after 37 s, or 900 MB of zeros in the npz."""
    points = tmp_path / "x.csv"
    points.write_text(",".join(["1"] * 10_000) + "\n")
    where = ["--points", str(points)] if args else []
    code, out, err, peak = run_measured(["-", *where, *[a.format(tmp=tmp_path) for a in args]], _bidiagonal(10_000),
                                        timeout=60)
    assert code == 2, err
    assert " ".join(err.split()).count(says) == 1, err
    assert out == "" and "Traceback" not in err and not (tmp_path / "J.npz").exists()
    assert peak < 200, peak


def test_a_seed_is_the_way_out_where_the_pattern_is_not_written(tmp_path):
    points = tmp_path / "x.csv"
    points.write_text(",".join(["1"] * 10_000) + "\n" + ",".join(["2"] * 10_000) + "\n")
    seed = ",".join(["1"] * 10_000)
    result = run("-", "--points", str(points), "--seed", seed, "--mode", "forward", "--format", "csv",
                 input=_bidiagonal(10_000))
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    assert [row.split(",")[-10_000:] == ["0.0"] * 9_999 + ["1.0"] for row in rows] == [True, True]   # J·1
    result = run("-", "--points", str(points), "--seed", seed, "--mode", "forward", "--format", "json",
                 input=_bidiagonal(10_000))
    assert result.exit_code == 2
    assert ("--format csv, jsonl or table (json and npz also hold the 10,000 × 10,000 sparsity pattern)"
            in " ".join(result.stderr.split()))


@pytest.mark.parametrize(
    ("text", "args", "code"),
    [
        ("x*y, x+y, x-y", ["--at", "1,2"], 0),                          # 6 numbers in a table
        ("x*y, x+y, x-y, x", ["--at", "1,2"], 2),                       # 8
        ("x*y, x+y, x-y, x", ["--at", "1,2", "--seed", "1,0"], 0),      # J·v: 4
        ("x*y, x+y, x-y", ["--at", "1,2", "--at", "3,4", "--format", "csv"], 0),               # 12
        ("x*y, x+y, x-y", ["--at", "1,2", "--at", "3,4", "--at", "5,6", "--format", "csv"], 2),  # 18
        ("x*y, x+y, x-y", ["--at", "1,2", "--at", "3,4", "--format", "npy", "-o", "{tmp}/J.npz"], 0),
        ("x*y, x+y, x-y", ["--at", "1,2", "--at", "3,4", "--at", "5,6", "--format", "npy", "-o", "{tmp}/J.npz"], 2),
        ("x*y, x+y, x-y, x", ["--at", "1,2", "--trace", "--format", "json"], 2),   # 8 + 10 carried
        ("x*y, x+y, x-y", [], 0),                                       # 6 formulas
        ("x*y, x+y, x-y, x", [], 2),
    ],
)
def test_size_bounds_at_the_boundary(text, args, code, monkeypatch, tmp_path):
    from autodiff_cli import limits

    monkeypatch.setattr(limits, "SHOWN", 6)
    monkeypatch.setattr(limits, "WRITTEN", 12)
    result = run(text, *[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == code, result.stderr
    assert ("more than the" in result.stderr) == (code == 2)


@pytest.mark.slow
def test_points_with_a_big_jacobian_are_read_a_few_at_a_time(tmp_path):
    """50 points of a 1000 × 1000 J: chunks of at least 256 points took 820 MB."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (50, 1000))
    np.save(tmp_path / "x.npy", X)
    code, _, err, peak = run_measured(["-", "--points", str(tmp_path / "x.npy"), "--format", "npy",
                                       "-o", str(tmp_path / "J.npz")], _bidiagonal(1000), timeout=120)
    assert code == 0, err
    with np.load(tmp_path / "J.npz") as saved:
        J = saved["jacobian"]
    expected = np.eye(1000) - np.eye(1000, k=1)
    assert J.shape == (50, 1000, 1000) and (J == expected).all()
    assert peak < 300, peak                           # 106 MB


# --- simplification within a time budget -------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("text", ["sin(" * 15 + "x" + ")" * 15,           # 76 bytes; each ran > 100 s
                                  "tan(" * 12 + "x" + ")" * 12,
                                  "abs(" * 8 + "x-1" + ")-1" * 8])
def test_symbolic_mode_on_small_pathological_inputs_ends_with_a_correct_formula(text):
    code, out, err = run_process([text, "--format", "json"], "", timeout=30)
    assert code == 0, err
    assert "adjac: note: simplifying took too long" in err and "correct, not simplified" in err
    formula = json.loads(out)["results"][0]["jacobian"][0][0]
    x = 0.3
    numeric = jacobian(parse(text), [x])[1][0, 0]
    assert jacobian(parse(formula, ["x"]), [x])[0][0] == pytest.approx(numeric, rel=1e-12)


def test_simplify_is_stopped_at_its_time_and_not_cached_unsimplified(monkeypatch):
    sp = pytest.importorskip("sympy")
    from autodiff_cli import symbolic

    x = sp.Symbol("x")
    e, d = x, sp.Integer(1)
    for _ in range(9):                            # d/dx of sin nested 9 deep: simplify takes about 2 s
        d, e = d * sp.cos(e), sp.sin(e)
    y = sp.Symbol("y")
    sp.simplify(sp.sin(y) ** 2 + sp.cos(y) ** 2)      # SymPy's first simplify loads its rules
    monkeypatch.setattr(symbolic, "FORMULA_SECONDS", 0.3)
    budget = symbolic.Budget(seconds=1.5)
    start = time.monotonic()
    assert symbolic.simplify(d, budget) is d
    assert time.monotonic() - start < 1.0 and budget.skipped == 1
    assert symbolic.simplify(sp.sin(x) ** 2 + sp.cos(x) ** 2, budget) == 1      # the next one still gets its time
    assert symbolic.simplify(d + 1, symbolic.Budget(seconds=0.0)) == d + 1       # none left: as it was
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL


def test_without_a_timer_deep_nesting_is_not_simplified():
    """In another thread SIGALRM cannot stop SymPy: functions nested deeper than the limit stay as they are."""
    sp = pytest.importorskip("sympy")
    from autodiff_cli import symbolic

    x = sp.Symbol("x")
    deep, shallow = x, sp.sin(x) ** 2 + sp.cos(x) ** 2
    for _ in range(symbolic.NESTING_LIMIT + 1):
        deep = sp.sin(deep)
    budget = symbolic.Budget()
    found = []
    worker = threading.Thread(target=lambda: found.extend([symbolic.simplify(deep * deep.diff(x), budget),
                                                            symbolic.simplify(shallow, budget)]))
    worker.start()
    worker.join(timeout=30)
    assert found == [deep * deep.diff(x), 1] and budget.skipped == 1


# --- MemoryError ---------------------------------------------------------------------------
def _out_of_memory(*args, **kwargs):
    raise MemoryError


@pytest.mark.parametrize(
    ("where", "args"),
    [
        ("autodiff_cli.run.compute", ["x*y", "--at", "1,2", "--format", "json"]),
        ("autodiff_cli.run.run", ["x*y", "--at", "1,2", "--format", "npy", "-o", "{tmp}/J.npz"]),
        ("autodiff_cli.symbolic.compute", ["x*y"]),
        ("autodiff_cli.cli.parse", ["x*y", "--at", "1,2"]),
    ],
)
def test_memory_error_is_a_message_not_a_traceback(where, args, monkeypatch, tmp_path):
    monkeypatch.setattr(where, _out_of_memory)
    result = run(*[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.exception
    assert result.stderr.startswith("Error: out of memory: the input needs more memory than this machine has")
    assert "--seed" in result.stderr and result.stderr.count("\n") == 1
    assert not isinstance(result.exception, MemoryError)


def test_an_expression_from_dev_zero_is_refused_without_reading_on():
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run([sys.executable, "-m", "autodiff_cli", "-", "--at", "1"], stdin=zero,
                              capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "standard input holds more than 16,000,000 characters of expression" in done.stderr
    assert "Traceback" not in done.stderr
