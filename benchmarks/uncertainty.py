"""Uncertainty propagation against the `uncertainties` library, and the Monte Carlo check (prints figures; not a test).

    python benchmarks/uncertainty.py            # needs the test extra (uncertainties)

A function of n = 50 inputs and 5 outputs (sums of sin(x_i)·x_(i+1), plus exp), every
u(x_i) = 0.01: the milliseconds of ``uncertainty.propagate`` (J by adjac's sweeps, then
J Σ Jᵀ) and of the same with `uncertainties` (forward propagation of each ufloat), run
interleaved; how far apart their u_c and Σ_y are; and the seconds of the Monte Carlo
check (JCGM 101, at least 10^6 draws through the primal sweep).
"""

from __future__ import annotations

import time

import numpy as np
from uncertainties import covariance_matrix, ufloat, umath

from autodiff_cli.core.parse import parse
from autodiff_cli.uncertainty import InputCovariance, monte_carlo, propagate

N_INPUTS, RUNS = 50, 5
NAMES = [f"x{i}" for i in range(1, N_INPUTS + 1)]
OUTPUTS = [" + ".join(f"sin(x{i})*x{i % N_INPUTS + 1}" for i in range(k, N_INPUTS + 1, 5)) + f" + exp(x{k}/10)"
           for k in range(1, 6)]
X = np.linspace(0.5, 1.5, N_INPUTS)
U = np.full(N_INPUTS, 0.01)
GRAPH = parse(f"f({', '.join(NAMES)}) = " + ", ".join(OUTPUTS))


def ours():
    return propagate(GRAPH, X, InputCovariance(np.diag(U**2), "benchmark"))


def theirs():
    env = {"sin": umath.sin, "exp": umath.exp, **{name: ufloat(v, w) for name, v, w in zip(NAMES, X, U)}}
    return [eval(text, env) for text in OUTPUTS]          # our own strings: products, sums, sin, exp


def main() -> None:
    times: dict[str, list[float]] = {"adjac": [], "uncertainties": []}
    ours(), theirs()                                     # warm up
    for _ in range(RUNS):
        for name, f in (("adjac", ours), ("uncertainties", theirs)):
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    a, b = ours(), theirs()
    print(f"n = {N_INPUTS} inputs, m = {len(OUTPUTS)} outputs, {RUNS} interleaved runs")
    for name, t in times.items():
        print(f"  {name:14s} median {1000 * float(np.median(t)):7.2f} ms")
    print(f"  max relative difference of u_c: {float(np.max(np.abs(a.u - [y.std_dev for y in b]) / a.u)):.1e}")
    print(f"  max difference of Σ_y: {float(np.max(np.abs(a.covariance - np.array(covariance_matrix(b))))):.1e}")
    start = time.perf_counter()
    mc = monte_carlo(a)
    print(f"  Monte Carlo check: {mc.draws:,} draws in {time.perf_counter() - start:.2f} s, {mc.verdicts}")


if __name__ == "__main__":
    main()
