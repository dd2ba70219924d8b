"""Compressed Jacobians (core/colour.py): every colouring is valid, J is recovered exactly.

Exactly means bit for bit: the coloured passes must give the uncompressed passes' numbers,
nan and inf included, in both directions, through the chunked engine and the traced one.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_cli.cli import main
from autodiff_cli.core import ad, colour
from autodiff_cli.core.parse import parse
from autodiff_cli.report import compute


def f4(n: int = 50) -> str:
    """The F4 of benchmarks/run.py: y_i = sin(x_i)*x_(i+1) + exp(-x_i^2), cyclic."""
    return ", ".join(f"sin(x{i})*x{i % n + 1} + exp(-x{i}^2)" for i in range(1, n + 1))


def tridiagonal(n: int) -> str:
    return ", ".join(f"x{max(i - 1, 1)}*x{i} + sin(x{min(i + 1, n)})" for i in range(1, n + 1))


def arrowhead(n: int) -> str:
    """y1 depends on every input, y_k on x1 and x_k: a dense first row and first column."""
    return ", ".join([" + ".join(f"x{j}^2" for j in range(1, n + 1))] + [f"x1*x{k}" for k in range(2, n + 1)])


def names(n: int) -> list[str]:
    return [f"x{j + 1}" for j in range(n)]


# --- random patterns, and random functions with exactly that pattern -----------------------------
masks = st.integers(1, 9).flatmap(lambda m: st.integers(1, 9).flatmap(
    lambda n: st.lists(st.lists(st.booleans(), min_size=n, max_size=n), min_size=m, max_size=m)))

TERMS = ["sin({x})", "{x}^2", "exp({x})*{x}", "ln({x})", "1/{x}", "{x}", "sqrt({x})"]


@st.composite
def functions(draw):
    """(text, n, mask): outputs that each depend on exactly the inputs of their row of mask."""
    mask = np.array(draw(masks), dtype=bool)
    m, n = mask.shape
    outputs = []
    for k in range(m):
        columns = [int(j) for j in draw(st.permutations(list(np.flatnonzero(mask[k]))))]
        if not columns:
            outputs.append(draw(st.sampled_from(["2", "sin(1)"])))     # a constant output
            continue
        text = draw(st.sampled_from(TERMS)).format(x=f"x{columns[0] + 1}")
        for j in columns[1:]:
            term = draw(st.sampled_from(TERMS)).format(x=f"x{j + 1}")
            text = f"({text}) {draw(st.sampled_from('+-*'))} {term}"
        outputs.append(text)
    if draw(st.booleans()):                                # an output repeated: the same node twice
        k = draw(st.integers(0, m - 1))
        outputs.append(outputs[k])
        mask = np.vstack([mask, mask[k]])
    return ", ".join(outputs), n, mask


points = st.lists(st.floats(-2, 2, allow_nan=False), min_size=27, max_size=27)


def uncompressed_and_coloured(graph, X, direction):
    _, J = ad.differentiate(graph, X, direction)
    found = colour.colouring(graph, direction)
    _, J_coloured = ad.differentiate(graph, X, colouring=found)
    return J, J_coloured, found


@given(masks)
def test_every_colouring_is_valid_in_both_directions(rows):
    mask = np.array(rows, dtype=bool)
    for order in colour.ORDERS:
        columns, _ = colour.columns(mask, (order,))
        assert colour.valid(mask, columns, "forward")
        assert colour.max_row(mask) <= columns.max() + 1 <= mask.shape[1]
        by_rows, _ = colour.rows(mask, (order,))
        assert colour.valid(mask, by_rows, "reverse")
        assert colour.max_row(mask.T) <= by_rows.max() + 1 <= mask.shape[0]


def test_an_invalid_colouring_is_caught():
    mask = np.array([[1, 1, 0], [0, 1, 1]], dtype=bool)
    assert colour.valid(mask, [0, 1, 0]) and not colour.valid(mask, [0, 0, 1])
    assert colour.valid(mask, [0, 1], "reverse") and not colour.valid(mask, [0, 0], "reverse")


@given(masks, st.integers(0, 2**32 - 1))
def test_recovery_from_the_compressed_products_is_exact(rows, seed):
    """B = J·S (Wᵀ·J) of any J with this pattern gives back J, entry for entry."""
    mask = np.array(rows, dtype=bool)
    J = np.where(mask, np.random.default_rng(seed).normal(size=mask.shape), 0.0)[None]
    for direction in ("forward", "reverse"):
        found = colour.colouring(mask, direction)
        S = found.seeds()
        B = J @ S if direction == "forward" else np.swapaxes(S, 0, 1) @ J
        np.testing.assert_array_equal(found.recover(B), J)


@settings(max_examples=60, deadline=None)
@given(functions(), points)
def test_coloured_passes_give_the_uncompressed_jacobian_bit_for_bit(function, values):
    text, n, mask = function
    graph = parse(text, names(n))
    np.testing.assert_array_equal(graph.mask, mask)          # the function has exactly this pattern
    X = np.array(values[: 3 * n]).reshape(3, n) if 3 * n <= len(values) else np.resize(values, (3, n))
    X[0, 0] = 0.0                                            # 1/x, ln(x) at 0: inf and nan must match too
    for direction in ("forward", "reverse"):
        J, J_coloured, found = uncompressed_and_coloured(graph, X, direction)
        assert colour.valid(mask, found.colours, direction)
        np.testing.assert_array_equal(J_coloured, J)         # nan where nan, inf where inf, the same bits
        assert np.array_equal(np.signbit(J_coloured), np.signbit(J))
        for sweeps in (True, False):            # the --trace path (passes kept), the chunked one; and the checks
            plain, coloured = compute(graph, X, direction, sweeps=sweeps), compute(graph, X, colouring=found,
                                                                                  sweeps=sweeps)
            np.testing.assert_array_equal(coloured.jacobian, plain.jacobian)
            assert coloured.bad_points == plain.bad_points and coloured.problems == plain.problems


def test_the_chunked_path_uses_the_coloured_seeds_chunk_by_chunk(monkeypatch):
    graph = parse(f4(), names(50))
    X = np.random.default_rng(3).uniform(-1.5, 1.5, (1000, 50))
    _, J = ad.differentiate(graph, X, "forward")
    monkeypatch.setattr(ad, "chunk_size", lambda *args, **kwargs: 77)
    made = []
    passes = ad.passes
    monkeypatch.setattr(ad, "passes", lambda g, w, e, mode, seeds: (made.append(1), passes(g, w, e, mode, seeds))[1])
    direction, found = colour.plan(graph, "auto")
    _, J_coloured = ad.differentiate(graph, X, colouring=found)
    assert (direction, found.count) == ("forward", 2)
    assert len(made) == -(-1000 // 77)                       # one call (two passes) per chunk
    np.testing.assert_array_equal(J_coloured, J)


# --- the cases the issue names --------------------------------------------------------------
def test_tridiagonal_of_1000_takes_3_passes():
    graph = parse(tridiagonal(1000), names(1000))
    direction, found = colour.plan(graph, "auto")
    assert found is not None and found.count == 3 and direction == "forward"
    X = np.random.default_rng(0).uniform(0.5, 1.5, (2, 1000))
    _, J = ad.differentiate(graph, X, "forward")
    _, J_coloured = ad.differentiate(graph, X, colouring=found)
    np.testing.assert_array_equal(J_coloured, J)


def test_f4_cyclic_bidiagonal_takes_2_passes_either_way():
    graph = parse(f4(), names(50))
    assert colour.colouring(graph, "forward").count == 2
    assert colour.colouring(graph, "reverse").count == 2
    assert colour.plan(graph, "auto")[1].count == 2


def test_an_odd_cycle_needs_3_colours():
    graph = parse(f4(7), names(7))
    assert colour.colouring(graph, "forward").count == 3


def test_diagonal_takes_one_pass_and_dense_takes_n():
    diagonal = parse(", ".join(f"sin(x{j})" for j in range(1, 9)), names(8))
    assert colour.colouring(diagonal, "forward").count == 1 == colour.colouring(diagonal, "reverse").count
    assert colour.plan(diagonal, "auto")[1].count == 1
    dense = parse(", ".join(f"x{k}*({' + '.join(f'x{j}' for j in range(1, 7))})" for k in range(1, 7)), names(6))
    assert colour.colouring(dense, "forward").count == 6
    assert colour.plan(dense, "auto") == ("forward", None)       # no pass saved: uncompressed


def test_arrowhead_is_not_compressed_without_bicolouring():
    """A dense row and a dense column: n colours either way (bidirectional colouring, which
    would take 3 passes, is not implemented), so auto keeps one pass per input."""
    graph = parse(arrowhead(10), names(10))
    assert colour.colouring(graph, "forward").count == 10 == colour.colouring(graph, "reverse").count
    assert colour.plan(graph, "auto") == ("forward", None)
    X = np.random.default_rng(0).uniform(0.5, 1.5, (3, 10))
    J, J_coloured, _ = uncompressed_and_coloured(graph, X, "reverse")
    np.testing.assert_array_equal(J_coloured, J)


def test_auto_takes_the_fewest_of_four_and_uncompressed_on_a_tie():
    wide = parse("x1 + x2 + x3 + x4, x5*x6", names(6))          # n = 6, m = 2, p = 4, q = 1
    direction, found = colour.plan(wide, "auto")
    assert direction == "reverse" and found is not None and found.count == 1
    tall = parse("sin(x1), cos(x1), x1*x2, x2^2", names(2))      # n = 2: p = 2 saves nothing
    assert colour.plan(tall, "auto") == ("forward", None)
    assert colour.plan(tall, "forward-coloured")[1].count == 2
    assert colour.plan(tall, "reverse") == ("reverse", None)


def test_the_orders_are_those_of_colpack_and_the_fewest_colours_win():
    mask = parse(tridiagonal(12), names(12)).mask
    for order in colour.ORDERS:
        assert colour.columns(mask, (order,))[0].max() + 1 == 3
    with pytest.raises(ValueError, match="order must be one of"):
        colour.columns(mask, ("random",))


def test_past_the_budget_auto_does_not_colour_and_the_coloured_modes_refuse(monkeypatch):
    monkeypatch.setattr(colour, "BUDGET", 10)
    graph = parse(f4(), names(50))
    assert colour.plan(graph, "auto") == ("forward", None)
    with pytest.raises(colour.TooLarge):
        colour.plan(graph, "forward-coloured")
    result = CliRunner().invoke(main, [f4(), "--at", ",".join(["1"] * 50), "--mode", "forward-coloured"])
    assert result.exit_code == 2 and "pairs of entries that share a row" in result.stderr


# --- the command ----------------------------------------------------------------------------
def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_auto_reports_the_coloured_passes_in_the_table_and_json():
    at = ",".join(str(0.1 * j) for j in range(1, 51))
    code, out, _ = run(f4(), "--at", at)
    assert code == 0 and "(forward mode: 2 passes (50 columns in 2 colours))" in out
    code, out, _ = run(f4(), "--at", at, "--format", "json")
    doc = json.loads(out)
    assert doc["mode"] == "forward" and doc["passes"] == 2 and doc["colours"] == [0, 1] * 25
    _, plain, _ = run(f4(), "--at", at, "--format", "json", "--mode", "forward")
    uncompressed = json.loads(plain)
    assert uncompressed["passes"] == 50 and "colours" not in uncompressed
    assert doc["results"] == uncompressed["results"]


def test_coloured_modes_on_the_command_line_match_the_plain_ones():
    text = "x1*x2 + sin(x3), x3^2, x4/x2, ln(x4)"
    for coloured, plain in (("forward-coloured", "forward"), ("reverse-coloured", "reverse")):
        _, a, _ = run(text, "--at", "1,2,3,4", "--at", "0,-1,0,-2", "--format", "json", "--mode", coloured)
        _, b, _ = run(text, "--at", "1,2,3,4", "--at", "0,-1,0,-2", "--format", "json", "--mode", plain)
        a_doc, b_doc = json.loads(a), json.loads(b)
        assert a_doc["results"] == b_doc["results"] and a_doc["warnings"] == b_doc["warnings"]
        assert a_doc["passes"] < b_doc["passes"]


def test_points_file_runs_the_coloured_passes(tmp_path):
    X = np.random.default_rng(5).uniform(0.5, 1.5, (300, 50))
    path = tmp_path / "points.npy"
    np.save(path, X)
    _, out, _ = run(f4(), "--points", str(path), "--format", "json")
    doc = json.loads(out)
    assert doc["passes"] == 2
    _, J = ad.differentiate(parse(f4(), names(50)), X, "forward")
    np.testing.assert_array_equal(np.array([r["jacobian"] for r in doc["results"]]), J)


def test_formulas_refuse_a_coloured_mode():
    code, _, err = run("sin(x1), cos(x2)", "--mode", "forward-coloured")
    assert code == 2 and "add --at" in err


TRIDIAGONAL_TRACE = """\
compressed Jacobian: 4 columns in 3 colours (largest-first); J[k, j] = (J·S)[k, colour of xj]

| Sᵀ       | x1 | x2 | x3 | x4 |
|----------|----|----|----|----|
| colour 1 |  1 |  · |  · |  1 |
| colour 2 |  · |  1 |  · |  · |
| colour 3 |  · |  · |  1 |  · |

| output | (J·S) column 1      | (J·S) column 2      | (J·S) column 3      |
|--------|---------------------|---------------------|---------------------|
| y1     | 2 = ∂y1/∂x1         | -0.416147 = ∂y1/∂x2 | ·                   |
"""


def test_trace_shows_the_seed_matrix_and_the_compressed_jacobian():
    code, out, _ = run(tridiagonal(4), "--at", "1,2,3,4", "--trace")
    assert code == 0
    heads = [line for line in out.splitlines() if line.startswith("pass ")]
    assert heads[0].startswith("pass 1 of 3: ") and heads[0].endswith("(column 1 of J·S: ∂/∂x1 + ∂/∂x4)")
    assert heads[0].count("= 1") == 2
    assert heads[2].endswith("(column 3 of J·S: ∂/∂x3)") and heads[2].count("= 1") == 1
    assert TRIDIAGONAL_TRACE in out
    J = compute(parse(tridiagonal(4), names(4)), [1, 2, 3, 4], "forward").jacobian[0]
    assert f"| {J[3, 3]:.6g} = ∂y4/∂x4 " in out and f"| {J[2, 1]:.6g} = ∂y3/∂x2 " in out
    section = out.split("compressed Jacobian")[1].split("\nat x1")[0]
    assert max(len(line) for line in section.splitlines()) <= 80


def test_trace_json_carries_s_the_compressed_values_and_their_entries():
    code, out, _ = run("sin(x1)*x2, x2*x3, cos(x3), x1^2", "--at", "1,2,3", "--trace", "--format", "json",
                       "--mode", "reverse-coloured")
    assert code == 0
    doc = json.loads(out)
    compressed = doc["results"][0]["trace"]["compressed"]
    W = np.array(compressed["seed_matrix"])
    J = np.array(doc["results"][0]["jacobian"])
    np.testing.assert_array_equal(np.array(compressed["compressed"]), W.T @ J)
    for c, row in enumerate(compressed["entries"]):
        for j, entry in enumerate(row):
            if entry is not None:
                assert entry[1] == j and compressed["colours"][entry[0]] == c
                assert J[entry[0], j] == compressed["compressed"][c][j]
    assert compressed["colours"] == [0, 1, 0, 1]             # numbered in order of their first row
    assert [p["label"] for p in doc["results"][0]["trace"]["passes"]] == ["row 1 of Wᵀ·J: ∇y1 + ∇y3",
                                                                          "row 2 of Wᵀ·J: ∇y2 + ∇y4"]


SPY = """\
sparsity of J: 4 × 4, 10 of 16 entries can be nonzero
● can be nonzero, · always 0
        x1 x2 x3 x4
y1      ●  ●  ·  ·   1
y2      ●  ●  ●  ·   2
y3      ·  ●  ●  ●   3
y4      ·  ·  ●  ●   1
colour  1  2  3  1

forward: 4 columns in 3 colours (largest-first), 3 passes, not 4
reverse: 4 rows in 3 colours (largest-first), 3 passes, not 4
the passes: forward mode: 3 passes (4 columns in 3 colours)
"""


def test_sparsity_prints_a_spy_plot_with_both_colourings():
    code, out, _ = run(tridiagonal(4), "--sparsity")
    assert (code, out) == (0, SPY)
    _, ascii_out, _ = run(tridiagonal(4), "--sparsity", "--ascii")
    assert "y2      #  #  #  .   2" in ascii_out and "4 x 4" in ascii_out


def test_sparsity_json_and_wide_patterns():
    code, out, _ = run(f4(), "--sparsity", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["columns"]["count"] == 2 and doc["rows"]["count"] == 2
    assert doc["passes"] == 2 and doc["colours"] == doc["columns"]["colours"] and doc["nonzeros"] == 100
    assert colour.valid(np.array(doc["sparsity"]), doc["columns"]["colours"])
    _, text, _ = run(f4(), "--sparsity")
    assert "colour  " + "12" * 25 in text                    # one mark per column: 50 fit in 80
    _, big, _ = run(tridiagonal(300), "--sparsity")
    assert "each mark is a block of" in big and max(len(line) for line in big.splitlines()) <= 80


def test_entries_are_written_alike_into_a_j_that_is_not_contiguous():
    graph = parse(f4(6), names(6))
    X = np.random.default_rng(2).uniform(-1, 1, (5, 6))
    _, J = ad.differentiate(graph, X, "forward")
    found = colour.colouring(graph, "forward")
    w, edges = ad.linearize(graph, X)
    out = np.zeros((6, 6, 5)).transpose(2, 0, 1)            # (N, m, n), but not C-contiguous
    for c, sweep in enumerate(ad.passes(graph, w, edges, "forward", found.seeds().T)):
        ad.compressed(graph, sweep, "forward", found, c, 5, out=out)
    np.testing.assert_array_equal(out, J)


def test_latex_traces_label_the_coloured_passes():
    code, out, _ = run("sin(x1), x1*x2, cos(x3)", "--at", "1,2,3", "--trace", "--format", "latex")
    assert code == 0 and "(forward mode: 2 passes (3 columns in 2 colours))" in out
    assert "column 1 of $JS$: $\\partial/\\partial x_{1} + \\partial/\\partial x_{3}$" in out
    _, out, _ = run("sin(x1)*x2, x2*x3, cos(x3), x1^2", "--at", "1,2,3", "--trace", "--format", "latex",
                    "--mode", "reverse-coloured")
    assert "row 2 of $W^{\\top}J$: $\\nabla y_{2} + \\nabla y_{4}$" in out
