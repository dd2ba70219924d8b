"""--hessian and --hvp from the command line: numbers through every format, errors, --check (issue 15)."""

from __future__ import annotations

import io
import json
import math
import unicodedata

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_cli import jacobian, parse
from autodiff_cli.cli import main
from autodiff_cli.core.second import hessian

EXAMPLE = "x1*x2 + sin(x1), exp(x1-x2)"
E = math.exp(-1.0)
H1 = [[-math.sin(1.0), 1.0], [1.0, 0.0]]                    # the worked check at (1, 2)
H2 = [[E, -E], [-E, E]]
BAYDIN = "ln(x1) + x1*x2 - sin(x2)"                          # Baydin et al. 2018, at (2, 5), v = e1


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def document(*args):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_worked_example_has_both_hessians():
    doc = document(EXAMPLE, "--at", "1,2", "--hessian")
    (result,) = doc["results"]
    np.testing.assert_allclose(result["hessian"], [H1, H2], rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(result["gradient"], [[2 + math.cos(1.0), 1.0], [E, -E]], rtol=1e-15)
    assert doc["mode"] == "forward-over-reverse" and doc["passes"] == 4
    assert doc["hessian_sparsity"] == [[[True, True], [True, False]], [[True, True], [True, True]]]


def test_the_baydin_example_hvp_and_hessian():
    (result,) = document(BAYDIN, "--at", "2,5", "--hvp", "1,0")["results"]
    assert result["hvp"] == [[-0.25, 1.0]] and result["direction"] == [1.0, 0.0]
    (full,) = document(BAYDIN, "--at", "2,5", "--hessian")["results"]
    np.testing.assert_allclose(full["hessian"][0], [[-0.25, 1.0], [1.0, math.sin(5.0)]], rtol=1e-15)


def test_a_seed_weighs_the_outputs():
    (result,) = document(EXAMPLE, "--at", "1,2", "--hessian", "--seed", "1,2")["results"]
    np.testing.assert_allclose(result["hessian"], np.array(H1) + 2 * np.array(H2), rtol=1e-14)
    (product,) = document(EXAMPLE, "--at", "1,2", "--hvp", "0,1", "--seed", "1,2")["results"]
    np.testing.assert_allclose(product["hvp"], (np.array(H1) + 2 * np.array(H2)) @ [0, 1], rtol=1e-14)


def test_the_table_shows_the_gradient_beside_the_hessian_and_structural_zeros():
    result = run(EXAMPLE, "--at", "1,2", "--hessian")
    assert result.exit_code == 0
    lines = result.stdout.split("\n")
    assert any(line.startswith("| y1 = x1*x2 + sin(x1) | gradient |") for line in lines)
    row = next(line for line in lines if line.startswith("| ∂/∂x2") and "·" in line)
    assert row.split("|")[2].strip() == "1" and row.split("|")[4].strip() == "·"       # ∂²y1/∂x2² is structurally 0
    assert "-0.841471" in result.stdout and "0.367879" in result.stdout


def test_csv_columns_and_values():
    result = run(EXAMPLE, "--at", "1,2", "--hessian", "--format", "csv")
    header, row = result.stdout.strip().split("\n")
    names = header.split(",")
    assert names[:8] == ["x1", "x2", "y1", "y2", "d(y1)/d(x1)", "d(y1)/d(x2)", "d(y2)/d(x1)", "d(y2)/d(x2)"]
    assert names[8:12] == ["d2(y1)/d(x1)d(x1)", "d2(y1)/d(x1)d(x2)", "d2(y1)/d(x2)d(x1)", "d2(y1)/d(x2)d(x2)"]
    values = dict(zip(names, map(float, row.split(","))))
    assert values["d2(y1)/d(x1)d(x1)"] == pytest.approx(-math.sin(1.0), rel=1e-15)
    assert values["d2(y2)/d(x2)d(x2)"] == pytest.approx(E, rel=1e-15)
    hvp = run(EXAMPLE, "--at", "1,2", "--hvp", "1,0", "--format", "csv").stdout.split("\n")[0]
    assert hvp.endswith("d2(y1)/d(x1)dv,d2(y1)/d(x2)dv,d2(y2)/d(x1)dv,d2(y2)/d(x2)dv")


def test_a_batch_streams_and_npz_holds_the_arrays(tmp_path):
    rows = np.random.default_rng(7).uniform(-2, 2, size=(700, 2))
    points = tmp_path / "p.csv"
    points.write_text("\n".join(f"{float(a)!r},{float(b)!r}" for a, b in rows) + "\n")
    out = tmp_path / "h.npz"
    result = run(EXAMPLE, "--points", str(points), "--hessian", "--format", "npy", "-o", str(out))
    assert result.exit_code == 0, result.output
    archive = np.load(out)
    assert archive["hessian"].shape == (700, 2, 2, 2) and archive["gradient"].shape == (700, 2, 2)
    _, _, H = hessian(parse(EXAMPLE), rows)
    np.testing.assert_array_equal(archive["hessian"], H)
    lines = run(EXAMPLE, "--points", str(points), "--hvp", "1,1", "--format", "jsonl").stdout.strip().split("\n")
    assert len(lines) == 700 and json.loads(lines[3])["point"] == rows[3].tolist()
    np.testing.assert_allclose(json.loads(lines[3])["hvp"], H[3] @ [1.0, 1.0], rtol=1e-14)


def test_latex_has_one_matrix_per_output():
    tex = run(EXAMPLE, "--at", "1,2", "--hessian", "--format", "latex").stdout
    assert tex.count("H_{y_{1}}") == 1 and tex.count("H_{y_{2}}") == 1 and tex.count("\\nabla") == 2
    assert tex.count("\\begin{pmatrix}") == tex.count("\\end{pmatrix}")


def test_check_passes_on_smooth_functions_and_is_inconclusive_at_a_kink():
    result = run(EXAMPLE, "--at", "1,2", "--at", "-0.5,3", "--hessian", "--check")
    assert result.exit_code == 0 and result.stdout.count(": PASS") == 2
    assert "symmetry, H − Hᵀ" in result.stdout
    kink = run("abs(x1)*x2", "--at", "0,2", "--hessian", "--check", "--format", "json")
    assert json.loads(kink.stdout)["results"][0]["check"]["verdict"] == "inconclusive"


def test_check_fails_on_a_wrong_second_partial(monkeypatch):
    from autodiff_cli.core import second

    real = second.second_partials

    def wrong(prim, w, u, c):                             # sin″ = −sin, planted as +sin
        S = real(prim, w, u, c)
        return {key: -v for key, v in S.items()} if prim == "sin" else S

    monkeypatch.setattr(second, "second_partials", wrong)
    result = run("sin(x)*y", "--at", "1,2", "--hessian", "--check")
    assert result.exit_code == 1 and "FAIL" in result.stdout


def test_not_finite_is_flagged():
    result = run("sqrt(x)*y", "--at", "0,1", "--hessian", "--format", "json")
    assert result.exit_code == 1 and "sqrt" in result.stderr
    assert json.loads(result.stdout)["results"][0]["hessian"][0][0][0] is None


@pytest.mark.parametrize(("args", "message"), [
    (["--hessian", "--hvp", "1,0"], "use one of them"),
    (["--hessian", "--mode", "forward"], "forward-over-reverse"),
    (["--hessian", "--trace", "--format", "latex"], "written as a table or in json"),
    (["--hessian", "--graph"], "leave out --hessian"),
    (["--hvp", "1,0", "--check"], "use --hessian, not --hvp"),
    (["--hvp", "1"], "v needs 2 entries"),
    (["--hessian", "--seed", "1"], "it needs 2 entries, one per output"),
])
def test_usage_errors(args, message):
    result = run(EXAMPLE, "--at", "1,2", *args)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_the_symbolic_second_order_sweep_is_traced_in_formulas():
    pytest.importorskip("sympy")
    result = run(BAYDIN, "--hvp", "1,0", "--trace")
    assert result.exit_code == 0
    out = unicodedata.normalize("NFC", result.stdout)
    row = next(line for line in out.split("\n") if line.startswith(unicodedata.normalize("NFC", "| w̄1 ")))
    assert "x2 + 1/x1" in row and "−1/x1^2" in row and "(H1·v)1" in row           # w̄1 = ∂f/∂x1, w̄̇1 = H11
    doc = json.loads(run(BAYDIN, "--hvp", "1,0", "--trace", "--format", "json").stdout)
    (sweep,) = doc["results"][0]["trace"]["passes"]
    by_name = {r["name"]: r for r in sweep["rows"]}
    assert by_name["w1"]["w_bar_dot"] == "-1/x1^2" and by_name["w2"]["w_bar_dot"] == "1"


def test_a_hessian_too_big_is_refused_up_front():
    text = " + ".join(f"x{i}*x{i + 1}" for i in range(1, 400))
    result = run(text, "--at", ",".join(["1"] * 400), "--hessian")
    assert result.exit_code == 2 and "--hvp v" in result.stderr
    assert run(text, "--at", ",".join(["1"] * 400), "--hvp", ",".join(["1"] * 400), "--format", "csv").exit_code == 0


def test_npz_from_standard_output_is_readable():
    result = CliRunner().invoke(main, [EXAMPLE, "--at", "1,2", "--hvp", "1,0", "--format", "npy", "-o", "-"])
    assert result.exit_code == 0
    archive = np.load(io.BytesIO(result.stdout_bytes))
    assert archive["hvp"].shape == (1, 2, 2) and archive["direction"].tolist() == [1.0, 0.0]


def test_the_trace_of_the_baydin_example_shows_the_second_order_sweep():
    result = run(BAYDIN, "--at", "2,5", "--hvp", "1,0", "--trace")
    assert result.exit_code == 0
    nfc = lambda text: unicodedata.normalize("NFC", text)             # ẋ: x and a combining dot, or one letter
    out = nfc(result.stdout)
    assert nfc("tangents along ẋ = v: ẇ1 = 1, ẇ2 = 0") in out
    assert nfc("ċ3,1 | ∂c3,1/∂w1·ẇ1") in out and "| (-0.25)·1     | -0.25 |" in out    # ∂(1/w1)/∂w1 = −1/4 at 2
    rows = {line.split("|")[5].strip(): line for line in out.split("\n") if line.count("|") > 9}
    first, second = rows[nfc("w̄̇1")], rows[nfc("w̄̇2")]
    assert nfc("w̄̇3·(1/w1) + w̄3·ċ3,1 + w̄̇4·w2") in first and "| -0.25 | (H1·v)1" in first    # H11 = −1/x1²
    assert nfc("w̄̇4·w1 + w̄4·ċ4,2") in second and "|     1 | (H1·v)2" in second              # H21 = 1
    doc = json.loads(run(BAYDIN, "--at", "2,5", "--hvp", "1,0", "--trace", "--format", "json").stdout)
    (sweep,) = doc["results"][0]["trace"]["passes"]
    assert sweep["direction"] == [1.0, 0.0] and sweep["weights"] == [1.0]
    by_name = {row["name"]: row for row in sweep["rows"]}
    assert by_name["w1"]["w_bar_dot"] == -0.25 and by_name["w2"]["w_bar_dot"] == 1.0
    assert by_name["w1"]["w_bar"] == 5.5                                                   # the gradient as well


def test_a_traced_hessian_has_one_pass_per_direction_and_output():
    result = run(EXAMPLE, "--at", "1,2", "--hessian", "--trace")
    assert result.exit_code == 0
    assert "4 passes" in result.stdout and result.stdout.count("tangents along") == 2
    assert result.stdout.count("pass 4 of 4") == 1 and "∂²y2/∂x2∂x2" in result.stdout
    seeded = run(EXAMPLE, "--at", "1,2", "--hessian", "--seed", "1,2", "--trace", "--format", "json")
    passes = json.loads(seeded.stdout)["results"][0]["trace"]["passes"]
    assert len(passes) == 2 and passes[0]["weights"] == [1.0, 2.0]


def test_formulas_of_the_hessian_come_from_the_same_sweep():
    pytest.importorskip("sympy")
    doc = json.loads(run(EXAMPLE, "--hessian", "--format", "json").stdout)
    (result,) = doc["results"]
    assert doc["symbolic"] is True and doc["mode"] == "forward-over-reverse"
    assert result["hessian"] == [[["-sin(x1)", "1"], ["1", "0"]],
                                 [["exp(x1 - x2)", "-exp(x1 - x2)"], ["-exp(x1 - x2)", "exp(x1 - x2)"]]]
    (hvp,) = json.loads(run(BAYDIN, "--hvp", "1,0", "--format", "json").stdout)["results"]
    assert hvp["hvp"] == [["-1/x1^2", "1"]]
    table = run(EXAMPLE, "--hessian", "--seed", "1,2")
    assert table.exit_code == 0 and "2·exp(x1 − x2) − sin(x1)" in table.stdout
    tex = run(EXAMPLE, "--hessian", "--format", "latex").stdout
    assert "H_{y_{1}}" in tex and "\\sin" in tex and "U+" not in tex


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["x*y + sin(x)", "exp(x - y)*x", "x^3*y^2", "ln(x + 2)*cos(y)", "sqrt(x^2 + 1)/(y + 3)"]),
       st.floats(-1, 1), st.floats(-1, 1))
def test_the_formulas_at_a_point_are_the_numbers(text, x, y):
    pytest.importorskip("sympy")
    doc = json.loads(run(text, "--hessian", "--format", "json").stdout)
    numbers = json.loads(run(text, "--at", f"{x!r},{y!r}", "--hessian", "--format", "json").stdout)
    formulas = doc["results"][0]["hessian"][0]
    H = numbers["results"][0]["hessian"][0]
    for a in range(2):
        for b in range(2):
            graph = parse(formulas[a][b], ["x", "y"])
            value, _ = jacobian(graph, [x, y]) if graph.n else (np.array([float(formulas[a][b])]), None)
            assert value[0] == pytest.approx(H[a][b], rel=1e-9, abs=1e-12)
