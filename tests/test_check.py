"""--check: forward vs reverse vs central differences, its verdicts, and the command's output."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from autodiff_cli import parse
from autodiff_cli.check import ATOL, FAIL, OK, RTOL, STEP, UNVERIFIED, check
from autodiff_cli.cli import main
from autodiff_cli.core import ad
from autodiff_cli.core.primitives import PRIMITIVES

WORKED = "x1*x2 + sin(x1), exp(x1-x2)"


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_worked_example_passes_with_the_true_jacobian():
    X = np.array([[1.0, 2.0], [0.0, 0.0], [-3.5, 0.25]])
    result = check(parse(WORKED), X)
    assert [result.verdict(p) for p in range(3)] == ["pass"] * 3
    x1, x2 = X.T
    true = np.stack([np.stack([x2 + np.cos(x1), x1], -1), np.stack([np.exp(x1 - x2), -np.exp(x1 - x2)], -1)], 1)
    np.testing.assert_allclose(result.forward, true, rtol=1e-15)
    np.testing.assert_allclose(result.reverse, true, rtol=1e-15)
    np.testing.assert_allclose(result.differences, true, rtol=RTOL, atol=ATOL)
    assert (result.status == OK).all() and not result.failed


def test_step_is_scaled_to_the_point_and_exact():
    X = np.array([[0.0, 1e-3, -4.0, 1e12]])
    result = check(parse("x1, x2, x3, x4^2"), X)
    h = result.step[0]
    np.testing.assert_allclose(h, STEP * np.maximum(1.0, np.abs(X[0])), rtol=1e-3)
    assert ((X[0] + h) - X[0] == h).all()                    # x ± h is exact
    assert result.verdict(0) == "pass"                       # a fixed 1e-6 would be lost on 1e12


def test_points_are_checked_together_as_one_by_one():
    graph = parse("sin(x)*y^3, log(x) - y/x")
    X = np.array([[0.5, 2.0], [3.0, -1.0], [1e-3, 4.0]])
    together = check(graph, X)
    for p in range(len(X)):
        alone = check(graph, X[p])
        np.testing.assert_array_equal(alone.differences[0], together.differences[p])
        np.testing.assert_array_equal(alone.forward[0], together.forward[p])
        assert alone.verdict(0) == together.verdict(p)


def test_batched_sweeps_equal_the_engine_jacobians():
    graph = parse("x1*x2*x3 + x1, sin(x2)^2, x3, x1*x2*x3 + x1, 7")   # repeated output, an input, a constant
    X = np.random.default_rng(1).normal(size=(4, 3))
    result = check(graph, X)
    np.testing.assert_array_equal(result.forward, ad.jacobian(graph, X, "forward")[1])
    np.testing.assert_array_equal(result.reverse, ad.jacobian(graph, X, "reverse")[1])


def test_a_wrong_derivative_rule_fails(monkeypatch):
    sin = PRIMITIVES["sin"]
    monkeypatch.setitem(PRIMITIVES, "sin", sin._replace(partials=(lambda w, a: np.cos(a) * (1 + 1e-4),)))
    result = check(parse(WORKED), [[1.0, 2.0]])
    assert result.verdict(0) == "fail"
    assert result.status[0, 0, 0] == FAIL and result.status[0, 1, 0] == OK
    assert "central differences" in result.reasons[0, 0, 0]


def test_a_wrong_derivative_fails_the_command_with_exit_1(monkeypatch):
    exp = PRIMITIVES["exp"]
    monkeypatch.setitem(PRIMITIVES, "exp", exp._replace(partials=(lambda w, a: 1.001 * w,)))
    result = run(WORKED, "--at", "1,2", "--check", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["results"][0]["check"]["verdict"] == "fail"
    entries = doc["results"][0]["check"]["entries"]
    assert {(e["output"], e["input"]) for e in entries} == {(1, 0), (1, 1)}
    assert all(e["status"] == "fail" for e in entries)
    assert "check failed" in result.stderr


def test_forward_and_reverse_disagreeing_by_more_than_rounding_fails(monkeypatch):
    forward_pass = ad.forward_pass

    def skewed(edges, size, x_dot):          # 1e-12 relative: far inside rtol, far outside rounding
        return [None if v is None else v * (1 + 1e-12) for v in forward_pass(edges, size, x_dot)]

    monkeypatch.setattr(ad, "forward_pass", skewed)
    result = check(parse("x1*x2 + sin(x1)"), [[1.0, 2.0]])
    assert result.verdict(0) == "fail"
    assert not result.fr_ok[0].all()
    assert "reverse mode" in result.reasons[0, 0, 0]


def test_rounding_differences_between_modes_pass():
    # a long chain: forward and reverse round differently, within ulps x size
    text = "+".join(f"sin({k}*x)*y^{k % 5}" for k in range(1, 200))
    result = check(parse(text), [[0.7, 1.3]])
    assert result.fr_ok.all()
    assert result.verdict(0) == "pass"


@pytest.mark.parametrize(
    ("text", "x", "reason"),
    [
        ("abs(x)", 1e-7, "kink of abs(x)"),
        ("abs(x - 1) + x", 1 + 2e-6, "kink of abs(x - 1)"),
        ("sqrt(x)", 1e-8, "sqrt(x) is not finite at x − h"),
        ("log(x)", 1e-7, "log(x) is not finite"),
        ("1/x", 1e-7, "pole of 1/x"),
        ("tan(x)", 1.5707963, "pole of tan(x)"),
        ("asin(x)", 1 - 1e-7, "asin(x) is not finite"),
        ("sin(x)", 1e15, "not smooth on the scale of the step"),
        ("1e10 + x", 0.0, "rounding"),
        ("(x + 1e10) - 1e10", 0.0, "rounding"),
        ("sqrt(x)", 3e-5, "h and 2h disagree"),
        ("sin(sinh(x))", 36.0, "the derivative itself changes by more than 1 %"),
    ],
)
def test_kinks_and_domain_edges_are_inconclusive_not_failures(text, x, reason):
    result = check(parse(text), [[x]])
    assert result.verdict(0) == "inconclusive"
    assert result.status[0, 0, 0] == UNVERIFIED
    assert reason in result.reasons[0, 0, 0]


@pytest.mark.parametrize(("text", "x"), [("abs(x)", 0.0), ("abs(x) + x", 0.0), ("x^2", -3.0), ("exp(20*x)", 1.0),
                                         ("sqrt(x)", 1e-4), ("x^3", 1e6), ("exp(x)", 700.0)])
def test_awkward_but_checkable_points_pass(text, x):
    assert check(parse(text), [[x]]).verdict(0) == "pass"


def test_a_non_finite_derivative_is_not_verified_and_the_command_exits_1():
    result = run("sqrt(x)", "--at", "0", "--check")
    assert result.exit_code == 1                                  # from the non-finite value, not the check
    assert "INCONCLUSIVE" in result.stdout
    assert "not finite" in result.stdout
    assert "check failed" not in result.stderr


def test_inconclusive_exits_0_and_names_the_node():
    result = run("abs(x1 - 1)*x2", "--at", "1.000001,2", "--check")
    assert result.exit_code == 0, result.stderr
    assert "check at x1 = 1.000001, x2 = 2: INCONCLUSIVE" in result.stdout
    assert "x1 ± 2h cross the kink of abs(x1 - 1)" in result.stdout


def test_table_output_has_a_verdict_per_point():
    result = run(WORKED, "--at", "1,2", "--at", "0,0", "--check")
    assert result.exit_code == 0, result.stderr
    assert "check at x1 = 1, x2 = 2: PASS" in result.stdout
    assert "check at x1 = 0, x2 = 0: PASS" in result.stdout
    assert result.stdout.count("forward vs reverse:") == 2
    assert result.stdout.count("AD vs central differences:") == 2


def test_json_check_object():
    result = run(WORKED, "--at", "1,2", "--at", "-1,0.5", "--check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    for r in doc["results"]:
        c = r["check"]
        assert c["verdict"] == "pass"
        assert c["forward_vs_reverse"]["ok"] is True
        assert c["forward_vs_reverse"]["max_abs"] <= 1e-14
        assert 0 <= c["ad_vs_differences"]["max_rel"] < RTOL
        assert c["ad_vs_differences"]["unverified"] == 0
        assert c["entries"] == []
        assert len(c["step"]) == 2
        np.testing.assert_allclose(c["differences"], r["jacobian"], rtol=RTOL, atol=ATOL)


def test_json_unverified_entry():
    result = run("sqrt(x)", "--at", "1e-8", "--check", "--format", "json")
    c = json.loads(result.stdout)["results"][0]["check"]
    assert c["verdict"] == "inconclusive"
    assert c["differences"] == [[None]]                        # nan: sqrt of a negative probe
    (entry,) = c["entries"]
    assert entry["status"] == "unverified" and entry["output"] == 0 and entry["input"] == 0
    assert "domain" in entry["reason"]


def test_jsonl_and_csv_carry_the_check():
    lines = run(WORKED, "--at", "1,2", "--at", "2,1", "--check", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["check"]["verdict"] for line in lines] == ["pass", "pass"]
    rows = run(WORKED, "--at", "1,2", "--check", "--format", "csv").stdout.splitlines()
    assert rows[0].endswith(",check") and rows[1].endswith(",pass")


def test_check_without_a_point_or_with_a_seed_is_a_usage_error():
    no_point = run(WORKED, "--check")
    assert no_point.exit_code == 2 and "--check needs a point" in no_point.stderr
    seeded = run(WORKED, "--at", "1,2", "--seed", "1,0", "--check")
    assert seeded.exit_code == 2 and "--seed" in seeded.stderr
    for other in (["--format", "latex"], ["--graph"], ["--symbolic"]):
        result = run(WORKED, "--at", "1,2", "--check", *other)
        assert result.exit_code == 2 and "--check" in result.stderr, other


def test_check_with_trace():
    table = run(WORKED, "--at", "1,2", "--check", "--trace")
    assert table.exit_code == 0 and "check at x1 = 1, x2 = 2: PASS" in table.stdout
    doc = json.loads(run(WORKED, "--at", "1,2", "--check", "--trace", "--format", "json").stdout)
    assert {"check", "trace", "jacobian"} <= doc["results"][0].keys()


def test_constant_function_passes():
    result = run("2^10", "--check", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["results"][0]["check"]["verdict"] == "pass"


def test_many_entries_are_listed_with_a_limit():
    text = ",".join(f"abs(x - {k}e-7)" for k in range(1, 16))
    result = run(text, "--at", "0", "--check")
    assert result.exit_code == 0
    assert "and 5 more entries" in result.stdout


def test_a_nan_derivative_against_settled_differences_fails():
    # x2^(x1 - x1) is 1 near (0, -1): ∂/∂x1 = 0; AD meets (1 − 1)·ln(−1) = 0·nan in both modes
    result = check(parse("x2^(x1 - x1)"), [[0.0, -1.0]])
    assert np.isnan(result.forward[0, 0, 0]) and np.isnan(result.reverse[0, 0, 0])
    assert result.verdict(0) == "fail" and result.status[0, 0, 0] == FAIL
    assert "settle on 0" in result.reasons[0, 0, 0]


def test_nan_or_inf_in_one_mode_against_a_number_in_the_other_fails():
    # reverse mode multiplies 1e200·1e200 first (inf), forward mode 1e200·1e-200 first (1)
    result = check(parse("1e200*(1e200*(1e-200*x))"), [[1.0]])
    assert result.forward[0, 0, 0] == 1e200 and result.reverse[0, 0, 0] == np.inf
    assert result.verdict(0) == "fail"
    assert "reverse mode inf" in result.reasons[0, 0, 0]


@pytest.mark.parametrize(("text", "at", "node"), [
    ("exp(x)/sqrt(1+exp(2*x))", "400", "exp(2*x)"),        # value 0, true 1
    ("atan(x*y)", "1e200,1e200", "x*y"),                    # value and J finite
])
def test_a_point_with_an_overflowing_intermediate_never_passes(text, at, node):
    result = check(parse(text), [[float(v) for v in at.split(",")]])
    assert result.verdict(0) != "pass"
    assert any(why.startswith(f"{node} is inf here") for why in result.reasons.values())
    done = run(text, "--at", at, "--check")
    assert done.exit_code == 1 and "PASS" not in done.stdout
    assert f"{node} is inf at" in done.stderr


@pytest.mark.parametrize("at", ["R1=1e-200,R2=2", "R1=0,R2=2"])
def test_zero_times_infinity_is_flagged_not_inconclusive_with_exit_0(at):
    done = run("1/(1/R1 + 1/R2)", "--at", at, "--check", "--format", "json")
    assert done.exit_code == 1
    result = json.loads(done.stdout)["results"][0]
    assert result["jacobian"][0][0] is None and result["check"]["verdict"] != "pass"


def test_check_lines_are_plain_ascii_on_an_ascii_stdout():
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([sys.executable, "-m", "autodiff_cli", "abs(x1)*x2", "--at", "1e-7,2", "--check"],
                          capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    text = done.stdout.decode("ascii")                      # raises if anything is not ASCII
    assert "INCONCLUSIVE" in text and "x1 +/- 2h" in text and "4*eps*" in text


@pytest.mark.parametrize("planted", ["sin", "exp", "log", "sqrt", "atan", "tanh"])
def test_a_planted_error_of_a_tenth_of_a_percent_is_caught_at_random_points(planted, monkeypatch):
    prim = PRIMITIVES[planted]
    rule = prim.partials[0]
    monkeypatch.setitem(PRIMITIVES, planted, prim._replace(partials=(lambda w, a: 1.001 * rule(w, a),)))
    X = np.random.default_rng(7).uniform(0.2, 3.0, size=(50, 2))
    result = check(parse(f"{planted}(x1)*x2 + x2^2"), X)
    assert all(result.verdict(p) == "fail" for p in range(50))
    assert (result.status[:, 0, 0] == FAIL).all() and (result.status[:, 0, 1] == OK).all()
