"""How long symbolic Jacobians take as the function grows (prints figures; not a test).

    python benchmarks/symbolic.py

For k = 1, 2, 4, ... terms sin(x_i*x_j) summed into each of three outputs over 8 inputs:
the seconds for the symbolic sweeps (linearize + passes, no simplification), for the
whole ``symbolic.compute`` (with SymPy's simplification of each entry of J), and for
the same Jacobian with numbers at one point.  SymPy's import is timed once, first.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from autodiff_cli import jacobian, parse


def timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def main() -> None:
    from autodiff_cli import symbolic

    print(f"import sympy: {timed(symbolic.sympy_module):.2f} s")
    pairs = list(itertools.combinations(range(1, 9), 2))
    print(f"{'terms':>6} {'nodes':>6} {'sweeps':>8} {'compute':>8} {'numeric':>8}")
    for k in (1, 2, 4, 8, 16):
        outputs = [" + ".join(f"{f}(x{i}*x{j})" for i, j in pairs[s : s + k]) for f, s in
                   (("sin", 0), ("cos", 3), ("exp", 6))]
        graph = parse(", ".join(outputs), [f"x{i}" for i in range(1, 9)])
        symbolic.simplify.cache_clear()
        sweeps = timed(lambda: symbolic.sweeps(graph, "reverse", np.eye(graph.m)))       # noqa: B023
        compute = timed(lambda: symbolic.compute(graph, "reverse"))                        # noqa: B023
        numeric = timed(lambda: jacobian(graph, np.arange(1.0, 9.0), "reverse"))          # noqa: B023
        print(f"{k:>6} {len(graph):>6} {sweeps:>8.3f} {compute:>8.3f} {numeric:>8.4f}")


if __name__ == "__main__":
    main()
