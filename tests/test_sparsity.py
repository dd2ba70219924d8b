"""Structural zeros: y_k does not depend on x_j.  They are shown (· in the table, a
``sparsity`` pattern in json and npz) and never carried through a sweep."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from autodiff_cli import jacobian, parse, sweeps
from autodiff_cli.cli import main


def f4(n=50):
    """y_i = sin(x_i)*x_(i+1) + exp(-x_i^2), i = 1..n, with x_(n+1) = x_1 (cyclic)."""
    return ", ".join(f"sin(x{i})*x{i % n + 1} + exp(-x{i}^2)" for i in range(1, n + 1))


def test_f4_pattern_is_two_per_row():
    n = 50
    graph = parse(f4(n))
    expected = np.zeros((n, n), dtype=bool)
    for i in range(n):
        expected[i, i] = expected[i, (i + 1) % n] = True
    np.testing.assert_array_equal(graph.sparsity(), expected)
    X = np.random.default_rng(0).uniform(-1, 1, (4, n))
    _, J = jacobian(graph, X)
    assert np.all(J[:, ~expected] == 0) and np.all(J[:, expected] != 0)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_sweeps_carry_only_structural_nonzeros(mode):
    """A pass holds a tangent (or adjoint) only for nodes its seed reaches: for F4 that
    is a few nodes per pass, not all of them (a dense sweep would do 50x the work)."""
    n = 50
    graph = parse(f4(n))
    X = np.random.default_rng(1).uniform(-1, 1, (3, n))
    seeds = np.eye(n)
    _, passes = sweeps(graph, X, mode, seeds)
    carried = sum(d is not None for p in passes for d in p.derivatives)
    dense = len(passes) * len(graph)
    if mode == "forward":          # pass j: the nodes that depend on x_j
        reach = sum(_descendants(graph, j) for j in range(graph.n))
    else:                          # pass k: the nodes y_k depends on
        reach = sum(_ancestors(graph, out) for out in graph.outputs)
    assert carried == reach == graph.carried(mode)
    assert carried < 0.1 * dense, (carried, dense)


def _ancestors(graph, out):
    """How many w_i (inputs included) the node ``out`` depends on, itself included."""
    seen, stack = {out}, [out]
    while stack:
        i = stack.pop()
        if i >= graph.n:
            for a in graph.tape[i - graph.n].args:
                if isinstance(a, int) and a not in seen:
                    seen.add(a)
                    stack.append(a)
    return len(seen)


def _descendants(graph, j):
    """How many w_i depend on the input x_j, x_j included."""
    seen = {j}
    for i, op in enumerate(graph.tape, start=graph.n):
        if any(isinstance(a, int) and a in seen for a in op.args):
            seen.add(i)
    return len(seen)


def test_table_shows_structural_zeros_only():
    # y2 = ln(x1+x2) does not depend on x3: '·'.  y1 = x1 - x1 + x2 depends on x1
    # structurally, although the derivative is 0 there: '0', not '·'.
    result = CliRunner().invoke(main, ["x1 - x1 + x2, ln(x1+x2)", "--vars", "x1,x2,x3", "--at", "1,2,3"])
    assert result.exit_code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| y")]
    cells = [[c.strip() for c in row.strip("|").split("|")][2:] for row in rows]
    assert cells == [["0", "1", "·"], ["0.333333", "0.333333", "·"]]
    ascii_out = CliRunner().invoke(main, ["x1 + x2, x1", "--at", "1,2", "--ascii"]).stdout
    (row,) = [line for line in ascii_out.splitlines() if line.startswith("| y2")]
    assert row.split("|")[-2].strip() == "."


def test_json_and_npz_carry_the_pattern(tmp_path):
    text = "x1*x2 + x1*x3, ln(x1+x2)"
    doc = json.loads(CliRunner().invoke(main, [text, "--at", "1,2,3", "--format", "json"]).stdout)
    assert doc["sparsity"] == [[True, True, True], [True, True, False]]
    out = tmp_path / "r.npz"
    assert CliRunner().invoke(main, [text, "--at", "1,2,3", "--format", "npy", "-o", str(out)]).exit_code == 0
    with np.load(out) as saved:
        np.testing.assert_array_equal(saved["sparsity"], doc["sparsity"])
