"""Print how long the command takes, and its peak memory, on the inputs at the documented limits.

    python benchmarks/limits.py            # all cases
    python benchmarks/limits.py sin json   # the cases whose name contains one of these words

Each case runs ``python -m autodiff_cli`` in a fresh process (expression on stdin), so the
figures include start-up and are not disturbed by earlier cases.  A benchmark, not a test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

DEPTH = 100_000


def megabyte_sum() -> str:
    terms, k, size = [], 0, 0
    while size < 1_000_000:
        k += 1
        terms.append(f"x*{k}")
        size += len(terms[-1]) + 1
    return "+".join(terms)


def cases() -> list[tuple[str, str, list[str]]]:
    ten_k = ",".join(["1"] * 10_000)
    return [
        ("sin nest 1e5, json", "sin(" * DEPTH + "x" + ")" * DEPTH, ["--at", "0.5", "--format", "json"]),
        ("sin nest 1e5, --check", "sin(" * DEPTH + "x" + ")" * DEPTH, ["--at", "0.5", "--check"]),
        ("parentheses 1e5", "(" * DEPTH + "x" + ")" * DEPTH, ["--at", "1"]),
        ("minus signs 1e5", "-" * DEPTH + "x", ["--at", "1"]),
        ("log nest 1e5, 10 bad points", "log(" * DEPTH + "x" + ")" * DEPTH,
         [arg for k in range(10) for arg in ("--at", str(0.1 + k / 20))]),
        ("1 MB sum, json", megabyte_sum(), ["--at", "0.5", "--format", "json"]),
        ("10 000 inputs, json", "+".join(f"x{k}" for k in range(10_000)), ["--at", ten_k, "--format", "json"]),
        ("10 000 inputs, --check", "+".join(f"x{k}" for k in range(10_000)), ["--at", ten_k, "--check", "--format", "json"]),
        ("10 000 outputs, table", ",".join(f"x*{k}" for k in range(10_000)), ["--at", "1"]),
        ("10 000 outputs, --check", ",".join(f"x*{k}" for k in range(10_000)), ["--at", "1", "--check", "--format", "json"]),
        ("constant tower", "9**9**9**9 * x + 2^2^2^2^2^2", ["--at", "1"]),
        ("program: sum over 1e5 terms, json", "f(x) = sum(i = 1..100000, (x - i/1000)^2)",
         ["--at", "0.5", "--format", "json"]),
        ("program: 1e4 inputs x[1..n], gradient, json", "n = 10000; f(x[1..n]) = sum(i = 1..n-1, "
         "100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)", ["--at", ",".join(["0.5"] * 10_000), "--format", "json"]),
    ]


def run(text: str, args: list[str]) -> tuple[int, float, float, int]:
    """Exit code, seconds, peak resident MB and stdout bytes of one run (os.wait4: this child's own rusage)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    with tempfile.TemporaryFile("w+") as stdin, tempfile.TemporaryFile() as stdout:
        stdin.write(text)
        stdin.seek(0)
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "autodiff_cli", "-", *args], stdin=stdin, stdout=stdout,
                                 stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        return child.returncode, seconds, usage.ru_maxrss / 1024, stdout.seek(0, os.SEEK_END)


def main(words: list[str]) -> None:
    print(f"{'case':42s} {'exit':>4s} {'seconds':>8s} {'peak MB':>8s} {'stdout kB':>10s}")
    for name, text, args in cases():
        if words and not any(word in name for word in words):
            continue
        code, seconds, peak, size = run(text, args)
        print(f"{name:42s} {code:4d} {seconds:8.2f} {peak:8.0f} {size / 1000:10.0f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
