"""Print how long a program is against the one formula it stands for, and check they agree.

    python benchmarks/program_size.py

Watson's function (MGH 20, n = 9) as in examples/watson.adj, against the same 31 residuals
written out as one formula (generated here, as a hand expansion would be): the sizes in
bytes, the operations of each graph, and the largest difference of their Jacobians at a
random point (0: bit for bit).  A benchmark script, not a test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autodiff_cli import jacobian, parse

ROOT = Path(__file__).resolve().parents[1]


def watson_formula(n: int = 9) -> str:
    outputs = []
    for i in range(1, 30):
        t = f"({i}/29)"
        first = " + ".join(f"{j - 1}*x{j}*{t}^{j - 2}" for j in range(2, n + 1))
        second = " + ".join(f"x{j}*{t}^{j - 1}" for j in range(1, n + 1))
        outputs.append(f"{first} - ({second})^2 - 1")
    outputs += ["x1", "x2 - x1^2 - 1"]
    return f"f({', '.join(f'x{j}' for j in range(1, n + 1))}) = " + ", ".join(outputs)


def main() -> None:
    program = (ROOT / "examples" / "watson.adj").read_text(encoding="utf-8")
    code = "\n".join(line for line in program.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    formula = watson_formula()
    g_program, g_formula = parse(program), parse(formula)
    x = np.random.default_rng(0).normal(size=9)
    (_, J1), (_, J2) = jacobian(g_program, x), jacobian(g_formula, x)
    print(f"examples/watson.adj: {len(program.encode())} bytes ({len(code.encode())} without comments), "
          f"{len(g_program.tape)} operations")
    print(f"the same as one formula: {len(formula.encode())} bytes, {len(g_formula.tape)} operations")
    print(f"largest |J difference| at a random point: {np.abs(J1 - J2).max():g}")


if __name__ == "__main__":
    main()
