"""adjac against its peers, side by side in one run: prints tables of medians and ratios.

    pip install -e '.[bench]'            # adjac + JAX, SymPy, HIPS autograd
    pip install torch==2.13.0            # optional; see BENCHMARKS.md for the CPU wheel
    python benchmarks/run.py             # the full run (several minutes, ~6 GB of RAM for F4)
    python benchmarks/run.py --quick     # a smoke run: small N, few repeats, < 1 minute

Peers that are not installed are skipped, and the table says so.  Nothing here is a test:
it prints figures.  Sections follow issue 8:

1. start-up: the whole process (worked example as json and as a table, 2000 terms), against
   `python -c "import numpy"`; a text 10^5 deep is parsed once
2. throughput of the engine through the Python API, full Jacobians F1-F4, against
   JAX jit(vmap(jacfwd/jacrev)), torch.func vmap(jacfwd/jacrev), SymPy lambdify
3. the cheap-gradient ratio: time(gradient of F3) / time(F3 alone)
4. a 2000-term generated expression: whole process, parse + gradient at one point;
   and parse time against text size (should be linear)
5. end-to-end batch: 10^6 points of F1, csv in and out, npy in and out
6. second order: the Hessian of F3 at 10^3 and 10^4 points against JAX jit(vmap(hessian))
   and SymPy lambdify(hessian); time(Hessian)/time(gradient), time(HVP)/time(gradient)
7. compressed Jacobians (issue 16): F4 at 10^4 and 10^5 points, adjac with the colouring
   --mode auto takes (2 passes) against adjac uncompressed (50 passes) and the peers, interleaved
8. engines (issue 16): the numpy and the compiled engine against JAX and SymPy, F1-F3 at
   N = 10^4, 10^5, 10^6, interleaved; the first call of a fresh process (JAX with its jit,
   adjac with the interpreter loaded from its cache, and compiled the first time ever);
   the whole process, .npy in and .npz out, F1 and F3 at 10^6
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autodiff_cli import evaluate, jacobian, parse  # noqa: E402

PY = sys.executable
# The installed console script, as users run it; else python -m autodiff_cli.
_SCRIPT = Path(PY).parent / "adjac"
ADJAC = [str(_SCRIPT)] if _SCRIPT.is_file() else [PY, "-m", "autodiff_cli"]
F1 = "x1*x2 + sin(x1), exp(x1-x2)"
F2 = "x1*x2 + x1*x3, ln(x1+x2)"


def f3(n: int = 50) -> str:
    """Extended Rosenbrock: sum over i < n of 100 (x_(i+1) - x_i^2)^2 + (1 - x_i)^2."""
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, n))


def f4(n: int = 50) -> str:
    """y_i = sin(x_i)*x_(i+1) + exp(-x_i^2), i = 1..n, with x_(n+1) = x_1."""
    return ", ".join(f"sin(x{i})*x{i % n + 1} + exp(-x{i}^2)" for i in range(1, n + 1))


def terms(count: int, n: int = 10, seed: int = 0) -> str:
    """A generated sum of products of sin, cos and exp terms over x1..x10 (~18 bytes a term)."""
    rng = np.random.default_rng(seed)
    names = ["sin", "cos", "exp"]
    out = []
    for _ in range(count):
        a, b = rng.integers(1, n + 1, 2)
        f, g = rng.choice(names, 2)
        out.append(f"{f}(x{a})*{g}(x{b})")
    return " + ".join(out)


# --- timing --------------------------------------------------------------------------------
def median_time(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def process_times(commands: dict[str, list[str]], repeat: int, stdin: dict[str, bytes] | None = None) -> dict[str, float]:
    """Median wall time of each command, run interleaved (a, b, c, a, b, c, ...) so that
    drift in the machine's load hits every command alike."""
    stdin = stdin or {}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for name, cmd in commands.items():                       # one warm-up each (page cache)
        subprocess.run(cmd, input=stdin.get(name), capture_output=True, check=True)
    for _ in range(repeat):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, input=stdin.get(name), capture_output=True, check=True)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


PEAK = textwrap.dedent("""
    import resource, subprocess, sys, time
    start = time.perf_counter()
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
    print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
""")


def peak_run(cmd: list[str], cwd: str) -> tuple[float, float]:
    """(seconds, peak resident MB) of one command."""
    out = subprocess.run([PY, "-c", PEAK, *cmd], capture_output=True, text=True, check=True, cwd=cwd)
    seconds, mb = out.stdout.split()
    return float(seconds), float(mb)


NO_PEERS = False      # --no-peers: adjac alone, as if no peer were installed
ABSENT = "not installed"


def have(module: str) -> bool:
    return not NO_PEERS and importlib.util.find_spec(module) is not None


def version(module: str) -> str:
    try:
        from importlib.metadata import version as v

        return v({"autograd": "autograd"}.get(module, module))
    except Exception:
        return "?"


PEERS = {"jax": "JAX", "torch": "PyTorch", "sympy": "SymPy", "autograd": "HIPS autograd"}


def table(title: str, head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[k])) for r in [head, *rows]) for k in range(len(head))]
    print(f"\n### {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    sys.stdout.flush()


def fmt_s(t: float) -> str:
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


# --- 1. start-up ---------------------------------------------------------------------------
STARTUP_PEERS = {
    "autograd": """
import autograd.numpy as np
from autograd import jacobian
f = lambda x: np.array([x[0]*x[1] + np.sin(x[0]), np.exp(x[0]-x[1])])
print(jacobian(f)(np.array([1.0, 2.0])))
""",
    "sympy": """
import sympy as sp
x1, x2 = sp.symbols("x1 x2")
J = sp.Matrix([x1*x2 + sp.sin(x1), sp.exp(x1-x2)]).jacobian([x1, x2])
print(J.subs({x1: 1.0, x2: 2.0}).evalf())
""",
    "jax": """
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
f = lambda x: jnp.stack([x[0]*x[1] + jnp.sin(x[0]), jnp.exp(x[0]-x[1])])
print(jax.jacfwd(f)(jnp.array([1.0, 2.0])))
""",
    "torch": """
import torch
f = lambda x: torch.stack([x[0]*x[1] + torch.sin(x[0]), torch.exp(x[0]-x[1])])
print(torch.func.jacfwd(f)(torch.tensor([1.0, 2.0], dtype=torch.float64)))
""",
}


STARTUP_TARGETS = {"json": 1.5, "table": 1.8, "2000 terms": 3.0}     # issue 12: x numpy import, one parser


def startup(repeat: int) -> None:
    base_name = "python -c 'import numpy'"
    big = terms(2000)
    at = ",".join(f"{(k + 1) / 10}" for k in range(10))
    ours = {"adjac (worked example, json)": ("json", [*ADJAC, F1, "--at", "1,2", "--format", "json"]),
            "adjac (worked example, table)": ("table", [*ADJAC, F1, "--at", "1,2"]),
            f"adjac (2000 terms, {len(big) // 1000} KB on stdin, json)": ("2000 terms",
                                                                          [*ADJAC, "-", "--at", at, "--format", "json"])}
    commands = {base_name: [PY, "-c", "import numpy"], **{name: cmd for name, (_, cmd) in ours.items()}}
    stdin = {name: big.encode() for name, (kind, _) in ours.items() if kind == "2000 terms"}
    skipped = []
    for module, script in STARTUP_PEERS.items():
        if have(module):
            commands[f"{PEERS[module]} (same Jacobian)"] = [PY, "-c", script]
        else:
            skipped.append(PEERS[module])
    times = process_times(commands, repeat, stdin)
    base = times[base_name]
    targets = {name: f"<= {STARTUP_TARGETS[kind]}x" for name, (kind, _) in ours.items()}
    rows = [[name, fmt_s(t), f"{t / base:.2f}x", targets.get(name, "")] for name, t in times.items()]
    rows += [[f"{name} ({ABSENT})", "-", "-", ""] for name in skipped]
    table(f"1. Start-up, whole process (median of {repeat}), one parser (Lark) for every text",
          ["command", "median", "vs numpy import", "target"], rows)
    deep_nesting(repeat)


def deep_nesting(repeat: int) -> None:
    """sin(sin(...(x)...)) 10^5 deep: read by one parse (no recursion, no second parser); how long."""
    from autodiff_cli.core.parse import parser

    text = "sin(" * 100_000 + "x" + ")" * 100_000
    runs = max(1, repeat // 4)
    lark, calls = parser(), []
    real = lark.parse_interactive
    lark.parse_interactive = lambda t: calls.append(len(t)) or real(t)        # count Lark's parses
    try:
        seconds = median_time(lambda: parse(text), runs, warmup=0)
    finally:
        del lark.parse_interactive
    cmd = [*ADJAC, "-", "--at", "0.5", "--format", "json"]
    whole = process_times({"deep": cmd}, runs, {"deep": text.encode()})["deep"]
    table(f"1b. Nesting 10^5 deep (sin of sin ..., {len(text) // 1000} KB; median of {runs})", ["what", "figure"],
          [["Lark parses per text", f"{len(calls) / runs:g}"], ["parse, in process", fmt_s(seconds)],
           ["whole process, --at 0.5 --format json", fmt_s(whole)]])


# --- 2. throughput -------------------------------------------------------------------------
PEER_LIMIT = 60.0      # seconds: a peer predicted to take longer per run is measured on N/10 (or N/100) points


def peers_for(name: str, n: int, rng: np.random.Generator):
    """Python functions of the same math for each peer: name -> (make(X) -> run())."""
    makers = {}

    def f_np(lib, x):   # x is a sequence of n scalars (in the peer's own array type)
        sin, exp, log, stack = lib
        if name == "F1":
            return stack([x[0] * x[1] + sin(x[0]), exp(x[0] - x[1])])
        if name == "F2":
            return stack([x[0] * x[1] + x[0] * x[2], log(x[0] + x[1])])
        if name == "F3":
            return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(n - 1))
        return stack([sin(x[i]) * x[(i + 1) % n] + exp(-x[i] ** 2) for i in range(n)])

    scalar = name == "F3"
    reverse = scalar                          # what adjac's auto mode picks: F3 reverse, the others forward

    if have("jax"):
        def make_jax(X):
            import jax
            jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp

            lib = (jnp.sin, jnp.exp, jnp.log, jnp.stack)
            f = (lambda x: f_np(lib, x))
            jac = jax.jit(jax.vmap(jax.jacrev(f) if reverse else jax.jacfwd(f)))
            Xj = jnp.asarray(X)
            jac(Xj).block_until_ready()                      # compile: steady state only
            return lambda: jac(Xj).block_until_ready()
        makers["JAX jit(vmap(jac%s))" % ("rev" if reverse else "fwd")] = make_jax
    if have("torch"):
        def make_torch(X):
            import torch

            lib = (torch.sin, torch.exp, torch.log, torch.stack)
            f = (lambda x: f_np(lib, x))
            jac = torch.func.vmap(torch.func.jacrev(f) if reverse else torch.func.jacfwd(f))
            Xt = torch.from_numpy(X)
            return lambda: jac(Xt)
        makers["torch.func vmap(jac%s)" % ("rev" if reverse else "fwd")] = make_torch
    if have("sympy"):
        def make_sympy(X):
            import sympy as sp

            xs = sp.symbols(f"x0:{n}")
            lib = (sp.sin, sp.exp, sp.log, list)
            y = f_np(lib, list(xs))
            ys = [y] if scalar else y
            entries = [sp.diff(yk, xj) for yk in ys for xj in xs]
            fn = sp.lambdify(xs, entries, "numpy", cse=True)
            cols = list(X.T)
            N = len(X)

            def run():                                        # J as (N, m, n), C order, like the others
                out = np.empty((N, len(entries)))
                for k, e in enumerate(fn(*cols)):
                    out[:, k] = e                             # broadcasts the constant entries
                return out.reshape(N, len(ys), n)
            return run
        makers["SymPy lambdify(jacobian, cse)"] = make_sympy
    missing = [PEERS[m] for m in ("jax", "torch", "sympy") if not have(m)]
    return makers, missing


def throughput(quick: bool, repeat: int) -> None:
    rng = np.random.default_rng(0)
    scale = 100 if quick else 1
    cases = [("F1", F1, 2, 10**6 // scale), ("F2", F2, 3, 10**6 // scale),
             ("F3", f3(50), 50, 10**6 // scale), ("F4", f4(50), 50, 10**5 // scale)]
    rows = []
    for name, text, n, N in cases:
        X = rng.uniform(0.5, 1.5, (N, n))
        graph = parse(text)
        t_adjac = median_time(lambda graph=graph, X=X: jacobian(graph, X), repeat)
        rows.append([name, f"{N:,}", "adjac", fmt_s(t_adjac), f"{N / t_adjac:,.0f}", "1.00x"])
        makers, missing = peers_for(name, n, rng)
        for peer, make in makers.items():
            try:
                size = N
                probe = make(X[: max(1, N // 100)])               # a slow peer runs on fewer points
                if median_time(probe, 1) * 100 > PEER_LIMIT:
                    size = N // 10 if median_time(probe, 1) * 10 <= PEER_LIMIT else N // 100
                del probe
                run = make(X[:size])
                t = median_time(run, repeat if size == N else 1)
                del run
                rows.append([name, f"{size:,}", peer, fmt_s(t), f"{size / t:,.0f}", f"{t_adjac / N * size / t:.2f}x"])
            except Exception as err:          # a peer failing is a finding, not a crash
                rows.append([name, f"{N:,}", peer, f"failed: {type(err).__name__}: {err}"[:60], "-", "-"])
        rows += [[name, f"{N:,}", f"{peer} ({ABSENT})", "-", "-", "-"] for peer in missing]
    table(f"2. Throughput, full Jacobian through the Python API (median of {repeat}; a peer that would take "
          f"over {PEER_LIMIT:.0f} s a run is timed once on fewer points; 'adjac/peer' is the ratio of time per "
          "point, > 1 means the peer is faster)",
          ["f", "N", "engine", "median", "points/s", "adjac/peer"], rows)


# --- 3. cheap gradient ---------------------------------------------------------------------
def cheap_gradient(quick: bool, repeat: int) -> None:
    """F3 alone against its gradient, both in adjac's engine and both in the same chunks
    (ad.chunk_size), so that the ratio is the sweeps' cost, not a difference in memory use."""
    from autodiff_cli.core import ad

    N = 10**5 // (10 if quick else 1)
    graph = parse(f3(50))
    X = np.random.default_rng(1).uniform(0.5, 1.5, (N, 50))
    step = ad.chunk_size(graph, "reverse")

    def values() -> None:
        for start in range(0, N, step):
            part = X[start : start + step]
            ad.outputs_of(graph, evaluate(graph, part), len(part))

    t_f = median_time(values, repeat)
    t_g = median_time(lambda: ad.differentiate(graph, X, "reverse"), repeat)
    table(f"3. Cheap-gradient ratio, F3 (n = 50) at N = {N:,}, chunks of {step:,} (median of {repeat}); target <= 3",
          ["what", "median", "ratio"],
          [["F3 alone (primal sweep)", fmt_s(t_f), "1.00"],
           ["value and gradient (reverse, 1 pass)", fmt_s(t_g), f"{t_g / t_f:.2f}"]])


# --- 4. a 2000-term expression -------------------------------------------------------------
BIG_SCRIPT = {
    "autograd": ("autograd.numpy", "from autograd import grad\ng = grad(f)(np.arange(1.0, 11.0) / 10)"),
    "torch": ("torch", "x = np.arange(1.0, 11.0, dtype=np.float64).div(10).requires_grad_()\n"
                       "f(x).backward()\ng = x.grad"),
    "jax": ("jax.numpy", "import jax\njax.config.update('jax_enable_x64', True)\n"
                         "g = jax.grad(f)(np.arange(1.0, 11.0) / 10)"),
}


def big_peer_script(module: str, path: str) -> str:
    """A script that reads the generated sum and runs it as Python code of the peer."""
    if module == "sympy":
        return textwrap.dedent(f"""
            import sympy as sp
            text = open({path!r}).read()
            xs = sp.symbols("x1:11")
            f = sp.sympify(text, locals={{str(x): x for x in xs}})
            at = {{x: (k + 1) / 10 for k, x in enumerate(xs)}}
            print([sp.diff(f, x).evalf(subs=at) for x in xs])
        """)
    lib, body = BIG_SCRIPT[module]
    return textwrap.dedent(f"""
        import re
        import {lib} as np
        text = open({path!r}).read()
        src = re.sub(r"x(\\d+)", lambda m: f"x[{{int(m.group(1)) - 1}}]", text)
        src = re.sub(r"\\b(sin|cos|exp)\\(", r"np.\\1(", src)
        f = eval("lambda x: " + src)
    """) + body + "\nprint(g)\n"


def big_expression(quick: bool, repeat: int) -> None:
    text = terms(2000)
    tmp = tempfile.mkdtemp(prefix="adjac-bench-")
    path = os.path.join(tmp, "big.txt")
    Path(path).write_text(text)
    at = ",".join(f"{(k + 1) / 10}" for k in range(10))
    commands = {"python -c 'import numpy'": [PY, "-c", "import numpy"],
                "adjac - (stdin) --at ... --format json": [*ADJAC, "-", "--at", at, "--format", "json"]}
    stdin = {"adjac - (stdin) --at ... --format json": text.encode()}
    skipped = []
    peer_commands = {}
    for module in ("autograd", "torch", "sympy", "jax"):
        if have(module):
            peer_commands[f"{PEERS[module]} (the sum as Python code)"] = [PY, "-c", big_peer_script(module, path)]
        else:
            skipped.append(PEERS[module])
    times = process_times(commands, repeat, stdin)
    peer_times = process_times(peer_commands, 1 if quick else 3) if peer_commands else {}
    base = times["python -c 'import numpy'"]
    rows = [[name, fmt_s(t), f"{t / base:.2f}x"] for name, t in {**times, **peer_times}.items()]
    rows += [[f"{name} ({ABSENT})", "-", "-"] for name in skipped]
    table(f"4. 2000-term expression over 10 inputs ({len(text) / 1000:.0f} KB), whole process, gradient at one point "
          f"(adjac: median of {repeat}, peers: of {1 if quick else 3}); target adjac <= 3x numpy import",
          ["command", "median", "vs numpy import"], rows)
    rows = []
    for count in (1000, 2000, 4000, 8000) if not quick else (500, 1000, 2000):
        big = terms(count, seed=count)
        t = median_time(lambda big=big: parse(big), max(3, repeat // 2))
        rows.append([f"{count:,}", f"{len(big) / 1000:.0f} KB", fmt_s(t), f"{t / len(big) * 1e9 / 1000:.2f} µs"])
    table("4b. Parse time against text size (linear: the time per KB stays flat)",
          ["terms", "text", "parse", "per byte"], rows)


# --- 5. end-to-end batch -------------------------------------------------------------------
def batch(quick: bool) -> None:
    N = 10**6 // (10 if quick else 1)
    tmp = tempfile.mkdtemp(prefix="adjac-bench-")
    X = np.random.default_rng(2).uniform(-2, 2, (N, 2))
    np.save(os.path.join(tmp, "p.npy"), X)
    with open(os.path.join(tmp, "p.csv"), "w") as f:
        f.write("x1,x2\n")
        for block in np.array_split(X, max(1, N // 50_000)):
            f.write("\n".join(",".join(map(repr, row)) for row in block.tolist()) + "\n")
    adjac = [*ADJAC, F1]
    runs = {"csv in, csv out": [*adjac, "--points", "p.csv", "--format", "csv", "--output", "out.csv"],
            "npy in, npy (.npz) out": [*adjac, "--points", "p.npy", "--format", "npy", "--output", "out.npz"],
            "npy in, jsonl out": [*adjac, "--points", "p.npy", "--format", "jsonl", "--output", "out.jsonl"]}
    rows = []
    for name, cmd in runs.items():
        seconds, mb = peak_run(cmd, tmp)
        rows.append([name, f"{N:,}", fmt_s(seconds), f"{N / seconds:,.0f}", f"{mb:.0f} MB"])
    table("5. End-to-end batch, F1, whole process (one run each); target peak < 300 MB",
          ["run", "points", "time", "points/s", "peak RSS"], rows)


def machine() -> None:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    peers = ", ".join(f"{PEERS[m]} {version(m)}" if have(m) else f"{PEERS[m]} {ABSENT}" for m in PEERS)
    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, {platform.system()} "
          f"{platform.release()}; load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"python {platform.python_version()}, numpy {np.__version__}; peers: {peers}")
    print(f"adjac run as: {' '.join(ADJAC)}")


# --- 6. second order ------------------------------------------------------------------------
def second_order(quick: bool, repeat: int) -> None:
    """The Hessian of F3 (Rosenbrock, n = 50) at N points, against JAX jit(vmap(hessian)) and
    SymPy lambdify(hessian) (the way their documentation writes it); and adjac's own cost
    ratios time(Hessian)/time(gradient) and time(HVP)/time(gradient) (theory: HVP ≤ ~4-5)."""
    from autodiff_cli.core import ad
    from autodiff_cli.core.second import hessian, hvp

    n = 50
    text = f3(n)
    graph = parse(text)
    rng = np.random.default_rng(0)
    sizes = [10**2, 10**3] if quick else [10**3, 10**4]
    rows = []
    for N in sizes:
        X = rng.uniform(0.5, 1.5, (N, n))
        v = rng.uniform(-1, 1, n)
        t_h = median_time(lambda X=X: hessian(graph, X), repeat)
        rows.append(["Hessian", f"{N:,}", "adjac forward-over-reverse", fmt_s(t_h), "1.00x"])
        if have("jax") and not NO_PEERS:
            import jax
            import jax.numpy as jnp

            jax.config.update("jax_enable_x64", True)

            def rosen(x: Any) -> Any:
                return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

            H_jax = jax.jit(jax.vmap(jax.hessian(rosen)))
            XJ = jnp.asarray(X)
            H_jax(XJ).block_until_ready()
            t = median_time(lambda H_jax=H_jax, XJ=XJ: H_jax(XJ).block_until_ready(), repeat)
            rows.append(["Hessian", f"{N:,}", "JAX jit(vmap(hessian))", fmt_s(t), f"{t_h / t:.2f}x"])
        else:
            rows.append(["Hessian", f"{N:,}", f"JAX ({ABSENT})", "-", "-"])
        if have("sympy") and not NO_PEERS and N <= 10**3:
            import sympy as sp

            xs = sp.symbols(f"x1:{n + 1}")
            F = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1))
            H_sp = sp.lambdify(xs, sp.hessian(F, xs), "numpy", cse=True)
            t = median_time(lambda X=X, H_sp=H_sp: [H_sp(*row) for row in X], 3)
            rows.append(["Hessian", f"{N:,}", "SymPy lambdify(hessian, cse), per point", fmt_s(t), f"{t_h / t:.2f}x"])
        t_g = median_time(lambda X=X: ad.differentiate(graph, X, "reverse"), repeat)
        t_v = median_time(lambda X=X, v=v: hvp(graph, X, v), repeat)
        rows.append(["gradient", f"{N:,}", "adjac reverse", fmt_s(t_g), "-"])
        rows.append(["HVP", f"{N:,}", "adjac forward-over-reverse", fmt_s(t_v), "-"])
        rows.append(["ratio", f"{N:,}", "Hessian / gradient", f"{t_h / t_g:.1f}", "-"])
        rows.append(["ratio", f"{N:,}", "HVP / gradient", f"{t_v / t_g:.1f}", "-"])
    table(f"6. Second order, F3 (Rosenbrock, n = {n}): Hessian at N points (median of {repeat}; 'adjac/peer' > 1 "
          "means the peer is faster), and adjac's cost ratios", ["what", "N", "engine", "median", "adjac/peer"], rows)


# --- 7. compressed Jacobians ---------------------------------------------------------------
def available_memory() -> int | None:
    """Bytes of memory available now (Linux /proc/meminfo), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def colouring(quick: bool, repeat: int) -> None:
    """F4 (50 × 50 cyclic bidiagonal) through the Python API: adjac with the passes that
    --mode auto takes (2 colours), adjac uncompressed (50 forward passes), and the peers,
    run interleaved (one run of each in turn, medians), each writing the dense J (N, 50, 50)."""
    from autodiff_cli.core import ad, colour

    graph = parse(f4(50))
    direction, found = colour.plan(graph, "auto")
    assert found is not None and direction == "forward"
    rng = np.random.default_rng(7)
    rows = []
    for N in ([10**3, 10**4] if quick else [10**4, 10**5]):
        X = rng.uniform(0.5, 1.5, (N, 50))
        free = available_memory()
        J_bytes = N * 50 * 50 * 8
        makers, missing = peers_for("F4", 50, rng)
        runs: dict[str, Callable[[], object]] = {
            f"adjac, coloured ({found.count} passes)": lambda X=X: ad.differentiate(graph, X, colouring=found),
            "adjac, uncompressed (50 passes)": lambda X=X: ad.differentiate(graph, X, "forward")}
        skipped = []
        for peer, make in makers.items():
            if free is not None and free < 4 * J_bytes:        # a peer's J and its temporaries beside adjac's
                skipped.append(peer)
                continue
            try:
                runs[peer] = make(X)
            except Exception as err:          # a peer failing is a finding, not a crash
                rows.append([f"{N:,}", peer, f"failed: {type(err).__name__}: {err}"[:60], "-"])
        times: dict[str, list[float]] = {name: [] for name in runs}
        for fn in runs.values():                                 # warm-up (and JAX's compile) outside the timing
            fn()
        for _ in range(repeat):
            for name, fn in runs.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        medians = {name: statistics.median(t) for name, t in times.items()}
        best = medians[next(iter(medians))]
        for name, t in medians.items():
            rows.append([f"{N:,}", name, fmt_s(t), f"{t / best:.1f}x"])
        rows += [[f"{N:,}", f"{peer} (skipped: {J_bytes * 4 / 2**30:.0f} GB not available)", "-", "-"]
                 for peer in skipped]
        rows += [[f"{N:,}", f"{peer} ({ABSENT})", "-", "-"] for peer in missing]
        del runs, X
    table(f"7. Compressed Jacobians: F4 (50 × 50 cyclic bidiagonal, {found.describe()}), full J through the "
          f"Python API (interleaved, median of {repeat}; 'time / coloured' > 1 means slower than adjac coloured)",
          ["N", "engine", "median", "time / coloured"], rows)
# --- 8. engines (issue 16) ------------------------------------------------------------------
def engines(quick: bool, repeat: int) -> None:
    """The numpy and the compiled engine against the peers: steady state at several N, run
    interleaved (one call of each in turn, medians); the first call of a fresh process; and
    the whole process npy in, npz out."""
    if importlib.util.find_spec("numba") is None:              # adjac's own extra, not a peer
        print("\n### 8. Engines: skipped, numba is not installed (pip install -e '.[fast]')\n")
        return
    from autodiff_cli.core import compiled
    from autodiff_cli.core.ad import differentiate

    rng = np.random.default_rng(7)
    sizes = (10**3, 10**4) if quick else (10**4, 10**5, 10**6)
    rows = []
    for name, text, n in (("F1", F1, 2), ("F2", F2, 3), ("F3", f3(50), 50)):
        graph = parse(text)
        for N in sizes:
            X = rng.uniform(0.5, 1.5, (N, n))
            runs = {"adjac numpy": lambda graph=graph, X=X: differentiate(graph, X),
                    "adjac compiled": lambda graph=graph, X=X: compiled.differentiate(graph, X)}
            compiled.differentiate(graph, X[:10])                 # the interpreter loaded once, before timing
            makers, _ = peers_for(name, n, rng)
            for peer, make in makers.items():
                if "torch" not in peer:
                    runs[peer] = make(X)
            times: dict[str, list[float]] = {key: [] for key in runs}
            for _ in range(1 if N >= 10**6 and name == "F3" else repeat):
                for key, fn in runs.items():                   # interleaved: a, b, c, a, b, c ...
                    start = time.perf_counter()
                    fn()
                    times[key].append(time.perf_counter() - start)
            medians = {key: statistics.median(t) for key, t in times.items()}
            best = min((t for key, t in medians.items() if not key.startswith("adjac")), default=None)
            for key, t in medians.items():
                ratio = f"{t / best:.2f}x" if best and key.startswith("adjac") else "-"
                rows.append([name, f"{N:,}", key, fmt_s(t), ratio])
            del runs
    table(f"8. Engines, full J through the Python API, steady state (interleaved, median of {repeat}; F3 at 10^6 once; "
          "'vs best peer' > 1 means the best peer is faster)", ["f", "N", "engine", "median", "vs best peer"], rows)

    first = textwrap.dedent("""
        import sys, time
        start = time.perf_counter()
        import numpy as np
        which, text, n, N = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        X = np.random.default_rng(0).uniform(0.5, 1.5, (N, n))
        if which == "jax":
            import jax
            jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp
            f = eval("lambda x: jnp.stack([" + text + "])", {"jnp": jnp})
            jac = jax.jit(jax.vmap(jax.jacfwd(f) if n <= 2 else jax.jacrev(f)))
            jac(jnp.asarray(X)).block_until_ready()
        else:
            from autodiff_cli.core.parse import parse
            from autodiff_cli.core import engine
            engine.differentiate(parse(text), X, engine=which)
        print(time.perf_counter() - start)
    """)
    jax_text = {"F1": "x[0]*x[1] + jnp.sin(x[0]), jnp.exp(x[0]-x[1])",
                "F3": " + ".join(f"100*(x[{i + 1}] - x[{i}]**2)**2 + (1 - x[{i}])**2" for i in range(49))}
    rows = []
    cold = tempfile.mkdtemp(prefix="adjac-cold-")
    for name, text, n in (("F1", F1, 2), ("F3", f3(50), 50)):
        N = 10**4
        cases = {"adjac numpy": ("numpy", text, {}), "adjac compiled (cached)": ("compiled", text, {})}
        if have("jax"):
            cases["JAX jit(vmap(jac)), first call"] = ("jax", jax_text[name], {})
        for label, (which, body, env) in cases.items():
            seconds = []
            for _ in range(1 if quick else 3):
                out = subprocess.run([PY, "-c", first, which, body, str(n), str(N)], capture_output=True, text=True,
                                     check=True, env={**os.environ, **env})
                seconds.append(float(out.stdout))
            rows.append([name, f"{N:,}", label, fmt_s(statistics.median(seconds))])
        if not quick:                                              # 15-90 s: not in a smoke run
            out = subprocess.run([PY, "-c", first, "compiled", text, str(n), str(N)], capture_output=True, text=True,
                                 check=True, env={**os.environ, "XDG_CACHE_HOME": cold})
            shutil.rmtree(cold, ignore_errors=True)
            rows.append([name, f"{N:,}", "adjac compiled, first ever (compiles the interpreter)",
                         fmt_s(float(out.stdout))])
    table("8b. First call in a fresh process, imports included (median of 3; the first-ever compile once)",
          ["f", "N", "what", "whole process"], rows)

    script = textwrap.dedent("""
        import sys
        import numpy as np
        which, text, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
        X = np.load("p%d.npy" % n)
        if which == "jax":
            import jax
            jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp
            f = eval("lambda x: jnp.stack([" + text + "])", {"jnp": jnp})
            jac = jax.jit(jax.vmap(jax.jacfwd(f) if n <= 2 else jax.jacrev(f)))
            y = jax.jit(jax.vmap(f))(X)
            np.savez("peer.npz", points=X, values=np.asarray(y), jacobian=np.asarray(jac(X)))
        else:
            import sympy as sp
            xs = sp.symbols("x0:%d" % n)
            ys = sp.sympify("[" + text + "]", locals={"x": xs})
            J = sp.Matrix(ys).jacobian(xs)
            fy = sp.lambdify(xs, list(ys), "numpy", cse=True)
            fj = sp.lambdify(xs, list(J), "numpy", cse=True)
            cols = list(X.T)
            y = np.empty((len(X), len(ys)))
            for k, e in enumerate(fy(*cols)):
                y[:, k] = e
            out = np.empty((len(X), len(ys) * n))
            for k, e in enumerate(fj(*cols)):
                out[:, k] = e
            np.savez("peer.npz", points=X, values=y, jacobian=out.reshape(len(X), len(ys), n))
    """)
    sympy_text = {"F1": "x[0]*x[1] + sin(x[0]), exp(x[0]-x[1])",
                  "F3": " + ".join(f"100*(x[{i + 1}] - x[{i}]**2)**2 + (1 - x[{i}])**2" for i in range(49))}
    tmp = tempfile.mkdtemp(prefix="adjac-bench-")
    N = 10**5 if quick else 10**6
    rows = []
    for name, text, n in (("F1", F1, 2), ("F3", f3(50), 50)):
        np.save(os.path.join(tmp, f"p{n}.npy"), np.random.default_rng(3).uniform(0.5, 1.5, (N, n)))
        commands = {f"adjac --engine {e}": [*ADJAC, text, "--points", f"p{n}.npy", "--format", "npy", "--output",
                                            "out.npz", "--engine", e] for e in ("auto", "numpy", "compiled")}
        if have("jax"):
            commands["JAX script"] = [PY, "-c", script, "jax", jax_text[name], str(n)]
        if have("sympy"):
            commands["SymPy lambdify script"] = [PY, "-c", script, "sympy", sympy_text[name], str(n)]
        times: dict[str, list[float]] = {key: [] for key in commands}
        for _ in range(1 if quick else 3):
            for key, cmd in commands.items():                    # interleaved
                start = time.perf_counter()
                subprocess.run(cmd, cwd=tmp, check=True, capture_output=True)
                times[key].append(time.perf_counter() - start)
        for key, t in times.items():
            rows.append([name, f"{N:,}", key, fmt_s(statistics.median(t))])
    shutil.rmtree(tmp, ignore_errors=True)
    table(f"8c. Whole process, points from .npy, y and J to .npz (interleaved, median of {1 if quick else 3})",
          ["f", "N", "command", "median"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small N and few repeats: a smoke run")
    parser.add_argument("--only", default="12345678", help="which sections to run, e.g. 15 (default: all)")
    parser.add_argument("--no-peers", action="store_true", help="time adjac alone, as if no peer were installed")
    args = parser.parse_args()
    global NO_PEERS, ABSENT
    NO_PEERS = args.no_peers
    if NO_PEERS:
        ABSENT = "skipped: --no-peers"
    repeat = 3 if args.quick else 11
    # Byte-compile adjac first, as pip does at install: with PYTHONDONTWRITEBYTECODE set, or
    # in a fresh checkout, every run would otherwise compile its modules from source.
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "autodiff_cli")], check=True)
    machine()
    sections = {"1": lambda: startup(repeat), "2": lambda: throughput(args.quick, 3 if args.quick else 5),
                "3": lambda: cheap_gradient(args.quick, 3 if args.quick else 7),
                "4": lambda: big_expression(args.quick, repeat), "5": lambda: batch(args.quick),
                "6": lambda: second_order(args.quick, 3 if args.quick else 5),
                "7": lambda: colouring(args.quick, 3 if args.quick else 5),
                "8": lambda: engines(args.quick, 3 if args.quick else 5)}
    for key in args.only:
        sections[key]()


if __name__ == "__main__":
    main()
