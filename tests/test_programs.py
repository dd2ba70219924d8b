"""Programs: intermediates, user functions, sum/prod, comprehensions, data vectors, if,
the two-argument built-ins and mathematical Unicode (issue 14).

Each result is checked against an independent numpy computation of the same function and
its hand-derived derivatives, in both modes; the property tests show that a program and
the single expression it stands for give the same graph and bit-identical results.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_cli import jacobian, parse
from autodiff_cli.core.graph import Const
from autodiff_cli.errors import ParseError

BOTH = ("forward", "reverse")


def adjac(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autodiff_cli", *args], capture_output=True, text=True,
                          input=stdin, timeout=120)


def canonical(graph):
    """The graph up to the numbering of its nodes: per output, a hash-consed id of the
    computation, and the number of distinct operations."""
    ids: list[object] = [("input", name) for name in graph.inputs]
    table: dict[object, int] = {}

    def arg(a):
        return ("const", a.value, math.copysign(1, a.value)) if isinstance(a, Const) else ids[a]

    for op in graph.tape:
        key = (op.prim, *map(arg, op.args))
        ids.append(("node", table.setdefault(key, len(table))))
    return graph.inputs, tuple(arg(out) for out in graph.outputs), len(table)


# --- the examples, as written ---------------------------------------------------------
POLAR = "r = sqrt(x^2 + y^2); t = atan2(y, x)\nr*cos(2*t), r*sin(2*t)"


@pytest.mark.parametrize("mode", BOTH)
def test_polar_with_intermediates(mode):
    graph = parse("# polar to Cartesian, with intermediates\n" + POLAR)
    assert graph.inputs == ("x", "y")
    X = np.array([[0.7, 1.3], [-2.0, 0.5], [-1.0, -1.0], [3.0, -0.2]])
    y, J = jacobian(graph, X, mode)
    x1, x2 = X.T
    # r·cos 2t = (x² − y²)/r, r·sin 2t = 2xy/r: differentiated by hand
    r = np.hypot(x1, x2)
    np.testing.assert_allclose(y, np.column_stack([(x1**2 - x2**2) / r, 2 * x1 * x2 / r]), rtol=1e-14, atol=1e-15)
    expected = np.stack([np.column_stack([x1 * (x1**2 + 3 * x2**2) / r**3, -x2 * (3 * x1**2 + x2**2) / r**3]),
                         np.column_stack([2 * x2**3 / r**3, 2 * x1**3 / r**3])], axis=1)
    np.testing.assert_allclose(J, expected, rtol=1e-13, atol=1e-15)


def test_intermediates_are_named_in_the_graph_and_the_trace():
    graph = parse(POLAR)
    named = {graph.named(i): graph.definition(i) for i in range(len(graph)) if graph.named(i)}
    assert named == {"r": "√w6", "t": "atan2(w2, w1)"}
    run = adjac(POLAR, "--at", "1,2", "--trace")
    assert run.returncode == 0, run.stderr
    assert "r = √w6" in run.stdout and "t = atan2(w2, w1)" in run.stdout
    nodes = json.loads(adjac(POLAR, "--at", "1,2", "--trace", "--format", "json").stdout)["results"][0]["trace"]["nodes"]
    assert [node["named"] for node in nodes if node["named"]] == ["t", "r"]


@pytest.mark.parametrize("mode", BOTH)
def test_user_function_used_twice(mode):
    graph = parse("# a user function, used twice\nsq(u) = u^2\nf(x, y) = sq(x - 1) + 100*sq(y - x^2)")
    assert graph.inputs == ("x", "y") and graph.labels == ("sq(x - 1) + 100*sq(y - x^2)",)
    X = np.array([[-1.2, 1.0], [0.3, -0.4], [2.0, 3.0]])
    y, J = jacobian(graph, X, mode)
    a, b = X.T
    np.testing.assert_allclose(y[:, 0], (a - 1) ** 2 + 100 * (b - a**2) ** 2, rtol=1e-15)
    np.testing.assert_allclose(J[:, 0], np.column_stack([2 * (a - 1) - 400 * a * (b - a**2), 200 * (b - a**2)]),
                               rtol=1e-14)


@pytest.mark.parametrize("mode", BOTH)
def test_extended_rosenbrock_with_a_sum(mode):
    graph = parse("f(x[1..50]) = sum(i = 1..49, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)")
    assert graph.inputs == tuple(f"x[{k}]" for k in range(1, 51)) and graph.m == 1
    x = np.random.default_rng(1).normal(size=50)
    y, J = jacobian(graph, x, mode)
    assert y[0] == pytest.approx(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2), rel=1e-14)
    g = np.zeros(50)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    np.testing.assert_allclose(J[0], g, rtol=1e-12, atol=1e-12)


BROYDEN = ("n = 10\nf(x[1..n]) = [(3 - 2*x[i])*x[i] - if(i > 1, x[i-1], 0) - 2*if(i < n, x[i+1], 0) + 1 "
           "for i = 1..n]")


@pytest.mark.parametrize("mode", BOTH)
def test_broyden_tridiagonal_branches_on_constants_while_building(mode):
    graph = parse(BROYDEN)
    assert graph.n == 10 and graph.m == 10
    assert not any(op.prim in ("if", "gt", "lt") for op in graph.tape)      # chosen while building
    x = np.linspace(-1, 1, 10)
    y, J = jacobian(graph, x, mode)
    left, right = np.r_[0, x[:-1]], np.r_[x[1:], 0]
    np.testing.assert_allclose(y, (3 - 2 * x) * x - left - 2 * right + 1, rtol=1e-15)
    expected = np.diag(3 - 4 * x) - np.eye(10, k=-1) - 2 * np.eye(10, k=1)
    np.testing.assert_allclose(J, expected, rtol=1e-15, atol=0)
    assert graph.mask.sum() == 28                         # tridiagonal: 10 + 9 + 9


DATA = ("t = [0.5, 1, 1.5, 2]; obs = [1.1, 1.9, 3.2, 3.9]\n"
        "f(a, b) = [if(a*t[i] + b > obs[i], a*t[i] + b - obs[i], 0) for i = 1..4], max(a, b), hypot(a, b)")


@pytest.mark.parametrize("mode", BOTH)
def test_data_vectors_and_a_piecewise_function(mode):
    graph = parse(DATA)
    assert graph.m == 6 and graph.labels[0].endswith("(i = 1)") and graph.labels[4] == "max(a, b)"
    t, obs = np.array([0.5, 1, 1.5, 2]), np.array([1.1, 1.9, 3.2, 3.9])
    for a, b in [(0.7, 1.3), (2.0, 0.1), (-1.0, 3.0)]:
        y, J = jacobian(graph, [a, b], mode)
        r = a * t + b - obs
        np.testing.assert_allclose(y[:4], np.where(r > 0, r, 0), rtol=1e-15)
        np.testing.assert_array_equal(J[:4], np.column_stack([np.where(r > 0, t, 0), np.where(r > 0, 1, 0)]))
        assert y[4] == max(a, b) and J[4].tolist() == ([1, 0] if a > b else [0, 1])
        np.testing.assert_allclose(J[5], [a / math.hypot(a, b), b / math.hypot(a, b)], rtol=1e-15)


# --- the conventions at kinks and branches -----------------------------------------------------
@pytest.mark.parametrize("mode", BOTH)
def test_min_and_max_split_a_tie_evenly_as_jax_and_pytorch_do(mode):
    _, J = jacobian(parse("max(x, y), min(x, y), max(x, x)"), [2.0, 2.0], mode)
    np.testing.assert_array_equal(J, [[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])


def test_the_branch_not_taken_does_not_poison_the_derivative():
    """if(x > 0, sqrt(x), -x) at x = −1: sqrt(−1) is nan, but the point takes the other
    branch; jnp.where would give a nan gradient here, adjac gives the branch's −1."""
    for mode in BOTH:
        y, J = jacobian(parse("if(x > 0, sqrt(x), -x)"), [[-1.0], [4.0]], mode)
        np.testing.assert_array_equal(y[:, 0], [1.0, 2.0])
        np.testing.assert_array_equal(J[:, 0, 0], [-1.0, 0.25])
    run = adjac("if(x > 0, sqrt(x), -x)", "--at", "-1", "--format", "json")
    assert run.returncode == 0 and json.loads(run.stdout)["results"][0]["jacobian"] == [[-1.0]], run.stderr


def test_an_undefined_condition_is_not_a_confident_branch():
    run = adjac("if(sqrt(x) > 1, x, 2*x)", "--at", "-1", "--format", "json")
    assert run.returncode == 1 and json.loads(run.stdout)["results"][0]["value"] == [None]


def test_check_calls_a_point_on_a_switch_inconclusive():
    run = adjac("if(x > 0, x^2, -x)", "--at", "0", "--check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "switch" in run.stdout + run.stderr


@pytest.mark.parametrize("mode", BOTH)
def test_atan2_against_its_hand_derivatives_in_every_quadrant(mode):
    X = np.array([[1.0, 2.0], [1.0, -2.0], [-1.0, -2.0], [-1.0, 2.0], [1e200, 3e200], [1e-200, -2e-200]])
    y, J = jacobian(parse("f(y, x) = atan2(y, x)"), X, mode)
    a, b = X.T
    np.testing.assert_array_equal(y[:, 0], np.arctan2(a, b))
    h = np.hypot(a, b)
    np.testing.assert_allclose(J[:, 0], np.column_stack([b / h / h, -a / h / h]), rtol=1e-15)


def test_comparisons_and_connectives_fold_when_constant():
    graph = parse("n = 3; f(x) = if(n > 2 and not (n == 4) or n < 0, x, x^2)")
    assert [op.prim for op in graph.tape] == [] and graph.outputs == (0,)
    assert parse("if(1 <= 2, 1, 0) + if(2 ≥ 3, 10, 0) + if(1 ≠ 1, 100, 0)").outputs[0].value == 1


# --- a program is the expression it stands for ---------------------------------------------------
LEAVES = st.sampled_from(["x", "y", "z", "2", "0.5", "pi"])
UNARY = st.sampled_from(["sin", "exp", "tanh", "atan", "-"])
BINARY = st.sampled_from(["+", "-", "*", "max", "atan2", "hypot"])


@st.composite
def trees(draw, depth=4):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(LEAVES)
    if draw(st.booleans()):
        f, a = draw(UNARY), draw(trees(depth - 1))
        return ("neg", a) if f == "-" else (f, a)
    return (draw(BINARY), draw(trees(depth - 1)), draw(trees(depth - 1)))


def text(tree):
    if isinstance(tree, str):
        return tree
    if tree[0] == "neg":
        return f"(-{text(tree[1])})"
    if tree[0] in "+-*":
        return f"({text(tree[1])} {tree[0]} {text(tree[2])})"
    return f"{tree[0]}({', '.join(text(t) for t in tree[1:])})"


def as_program(tree, names):
    """The tree with every subtree of height ≥ 1 defined as an intermediate, innermost first."""
    lines: list[str] = []

    def walk(t):
        if isinstance(t, str):
            return t
        parts = [walk(c) for c in t[1:]]
        inner = (f"(-{parts[0]})" if t[0] == "neg" else f"({parts[0]} {t[0]} {parts[1]})" if t[0] in "+-*"
                 else f"{t[0]}({', '.join(parts)})")
        name = f"v{len(lines) + 1}"
        lines.append(f"{name} = {inner}")
        names.append(name)
        return name

    out = walk(tree)
    return "\n".join(lines), out


POINTS = np.array([[0.3, -1.2, 0.8], [2.0, 0.5, -0.1], [-0.7, 0.9, 1.4]])


@settings(max_examples=60, deadline=None)
@given(trees(), trees())
def test_a_program_with_intermediates_is_its_inlined_expression(first, second):
    names: list[str] = []
    body1, out1 = as_program(first, names)
    body2, out2 = as_program(second, names)
    body2 = body2.replace("v", "u")                 # the second tree's names: u1, u2, ...
    out2 = out2.replace("v", "u")
    program = "\n".join(line for line in (body1, body2, f"f(x, y, z) = {out1}, {out2}") if line)
    inline = parse(f"f(x, y, z) = {text(first)}, {text(second)}")
    graph = parse(program)
    assert canonical(graph) == canonical(inline)
    for mode in BOTH:
        y0, J0 = jacobian(inline, POINTS, mode)
        y1, J1 = jacobian(graph, POINTS, mode)
        np.testing.assert_array_equal(y1, y0)
        np.testing.assert_array_equal(J1, J0)


@settings(max_examples=40, deadline=None)
@given(trees(3), trees(2), trees(2))
def test_a_user_function_is_expanded_inline(body, a, b):
    # the body over (x, y) becomes a function of (p, q), called with two expressions
    def rename(t):
        if isinstance(t, str):
            return {"x": "p", "y": "q", "z": "q"}.get(t, t)
        return (t[0], *map(rename, t[1:]))

    def substitute(t):
        if isinstance(t, str):
            return {"p": f"({text(a)})", "q": f"({text(b)})"}.get(t, t)
        return (t[0], *map(substitute, t[1:]))

    program = f"g(p, q) = {text(rename(body))}\nf(x, y, z) = g({text(a)}, {text(b)}) + 1"
    inline = f"f(x, y, z) = {text(substitute(rename(body)))} + 1"
    assert canonical(parse(program)) == canonical(parse(inline))
    np.testing.assert_array_equal(jacobian(parse(program), POINTS)[1], jacobian(parse(inline), POINTS)[1])


@pytest.mark.parametrize(("unicode", "ascii"), [
    ("x² + 3·y − √z ÷ 2", "x^2 + 3*y - sqrt(z)/2"),
    ("x₁×x₂ + x₁³", "x1*x2 + x1^3"),
    ("2π·θ ⋅ φ", "2*pi*θ*φ"),
    ("√(x + 1)²", "sqrt((x + 1)^2)"),
])
def test_mathematical_unicode_is_read_as_typed(unicode, ascii):
    assert canonical(parse(unicode.replace("2π", "2*π"))) == canonical(parse(ascii))


def test_statements_continue_after_an_operator_and_inside_brackets():
    one = parse("a = x +\n  y\nb = sin(\n a)\na*b, b")
    assert canonical(one) == canonical(parse("(x + y)*sin(x + y), sin(x + y)"))
    assert canonical(parse("x1*x2\n  + sin(x1)")) == canonical(parse("x1*x2 + sin(x1)"))   # a leading +


def test_sums_products_and_empty_ranges():
    graph = parse("f(x) = sum(i = 1..4, x^i), prod(k = 2..4, x + k), sum(i = 3..2, x), prod(i = 1..0, x)")
    y, J = jacobian(graph, [2.0])
    assert y.tolist() == [30.0, 4 * 5 * 6, 0.0, 1.0]
    assert J[:, 0].tolist() == [1 + 4 + 12 + 32, 5 * 6 + 4 * 6 + 4 * 5, 0.0, 0.0]


def test_a_sum_of_many_terms_is_linear_in_its_nodes():
    graph = parse("f(x[1..2000]) = sum(i = 1..2000, x[i]^2)")
    assert len(graph.tape) == 2000 + 1999
    _y, J = jacobian(graph, np.arange(2000.0), "reverse")
    np.testing.assert_array_equal(J[0], 2 * np.arange(2000.0))


# --- errors point into the program ----------------------------------------------------------------
@pytest.mark.parametrize(("program", "line", "column", "needle"), [
    ("f(x) = x + y", 1, 12, "'y' is not an input of the header f(x)"),
    ("a = 1\na = 2\na", 2, 1, "a is defined twice (first at line 1)"),
    ("f(x) = x\n", 1, 1, None),
    ("x = 2\nf(x) = x", 1, 1, "x is an input of the header f(x): an input cannot be assigned"),
    ("sin = 2\nsin", 1, 1, "sin is a built-in function and cannot be defined"),
    ("pi = 3\npi", 1, 1, "pi is a built-in constant"),
    ("g(u) = g(u) + 1\ng(x)", 1, 8, "g calls itself (g → g)"),
    ("g(u) = h(u)\nh(u) = g(u)\ng(x)", 2, 8, "functions are expanded inline, so they cannot be recursive"),
    ("g(u, v) = u*v\ng(x)", 2, 1, "g takes 2 arguments, not 1"),
    ("atan2(x)", 1, 1, "atan2 takes 2 arguments, not 1"),
    ("t = [1, 2]\nf(x) = x*t[3]", 2, 12, "the index 3 is out of range: t has indices 1..2"),
    ("f(x) = sum(i = 1..2.5, x)", 1, 19, "a bound must be an integer, not 2.5"),
    ("f(x) = sum(i = 1..x, x)", 1, 19, "a bound must be an integer constant; this depends on the inputs"),
    ("f(x) = sum(x, 2)", 1, 8, "sum takes an index and its range first"),
    ("a = b + 1\nb = 2\na", 2, 1, "b is used at line 1 before it is defined here"),
    ("x + 1\ny", 1, 1, "only the last statement is the outputs"),
    ("a = x\n", 1, 1, "the program ends with the definition of a"),
    ("t = [1, 2]\nt + 1", 2, 1, "t is a vector: write t[i] for its i-th value"),
    ("a = 2\na[1]", 2, 1, "a is not a vector, so it cannot be indexed"),
    ("f(x[1..0]) = x[1]", 1, 3, "the last index is below the first"),
    ("f(x) = sum(x = 1..2, x)", 1, 12, "the index x has the name of an input"),
    ("f(x) = sum(i = 1..10^8, x)", 1, 8, "the program expands to more than"),
])
def test_errors_point_into_the_program(program, line, column, needle):
    if needle is None:                      # a header and nothing after: valid, f(x) = x
        assert parse(program).outputs == (0,)
        return
    with pytest.raises(ParseError) as err:
        parse(program)
    assert needle in err.value.message, err.value.message
    assert (err.value.line, err.value.column) == (line, column), str(err.value)


def test_an_unused_definition_is_a_warning_with_its_place():
    graph = parse("a = x^2\nunused = 3\nhelper(u) = u\na + 1")
    assert len(graph.warnings) == 2
    assert "the name unused is defined but not used at line 2, column 1" in graph.warnings[0]
    assert "the function helper is defined but not used at line 3" in graph.warnings[1]
    run = adjac("a = x^2\nunused = 3\na + 1", "--at", "2")
    assert run.returncode == 0 and "adjac: warning: the name unused is defined but not used" in run.stderr
    assert adjac("a = x^2\nunused = 3\na + 1", "--at", "2", "--quiet").stderr == ""


# --- the command line -----------------------------------------------------------------------------
def test_values_on_the_command_line_are_constant_expressions():
    run = adjac("sin(x)*y", "--at", "pi/2,1/3", "--format", "json")
    assert json.loads(run.stdout)["results"][0]["point"] == [math.pi / 2, 1 / 3]
    run = adjac("sin(x)*y", "--at", "x=2*pi,y=atan2(1, 1)", "--format", "json")
    assert json.loads(run.stdout)["results"][0]["point"] == [2 * math.pi, math.pi / 4]
    run = adjac("x*y", "--at", "1,2", "--seed", "1/sqrt(2),1/sqrt(2)", "--mode", "forward", "--format", "json")
    assert json.loads(run.stdout)["results"][0]["jvp"] == [pytest.approx(3 / math.sqrt(2), rel=1e-15)]
    bad = adjac("x*y", "--at", "x=2*q,y=1")
    assert bad.returncode == 2 and "q is not a constant (pi and e are)" in bad.stderr and "Traceback" not in bad.stderr
    inf = adjac("x*y", "--at", "1/0,1")
    assert inf.returncode == 2 and "1/0 is inf; give finite numbers" in inf.stderr


def test_a_program_from_a_file(tmp_path):
    path = tmp_path / "polar.adj"
    path.write_text("# polar\n" + POLAR + "\n", encoding="utf-8")
    run = adjac("-f", str(path), "--at", "1,2", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["outputs"] == ["r*cos(2*t)", "r*sin(2*t)"]
    (tmp_path / "bad.adj").write_text("a = 1\nb = a +\n", encoding="utf-8")
    bad = adjac("--file", str(tmp_path / "bad.adj"), "--at", "1")
    assert bad.returncode == 2 and f"in {tmp_path / 'bad.adj'}: " in bad.stderr and "line 2" in bad.stderr


@pytest.mark.parametrize(("make", "needle"), [
    (lambda p: None, "cannot read"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"x\xff\xfe + 1"), "is not UTF-8 text"),
])
def test_a_program_file_that_cannot_be_read(tmp_path, make, needle):
    path = tmp_path / "prog.adj"
    make(path)
    run = adjac("-f", str(path), "--at", "1")
    assert run.returncode == 2 and needle in run.stderr and "Traceback" not in run.stderr


def test_file_and_expression_rules(tmp_path):
    path = tmp_path / "p.adj"
    path.write_text("x^2", encoding="utf-8")
    both = adjac("x", "-f", str(path), "--at", "1")
    assert both.returncode == 2 and "not both" in both.stderr
    neither = adjac("--at", "1")
    assert neither.returncode == 2 and "Missing argument 'EXPRESSION'" in neither.stderr and "--file PATH" in neither.stderr
    clobber = adjac("-f", str(path), "--at", "1", "--output", str(path))
    assert clobber.returncode == 2 and path.read_text(encoding="utf-8") == "x^2"


def test_points_can_come_from_standard_input_while_the_program_is_a_file(tmp_path):
    path = tmp_path / "p.adj"
    path.write_text("sq(u) = u^2\nf(x, y) = sq(x) + y", encoding="utf-8")
    run = adjac("-f", str(path), "--points", "-", "--format", "csv", stdin="1 2\n3 4\n")
    assert run.returncode == 0, run.stderr
    rows = [[float(v) for v in line.split(",")] for line in run.stdout.splitlines()[1:]]
    assert rows == [[1, 2, 3, 2, 1], [3, 4, 13, 6, 1]]


def test_check_names_the_switch_and_not_atan2_off_its_branch_cut():
    run = adjac("f(x, y) = if(atan2(y, x) < -pi/2, 100, 0) + y", "--at=0,-1", "--check")
    assert "the switch of atan2(y, x) < -pi/2" in run.stdout and "branch cut" not in run.stdout
    assert "PASS" in adjac("f(x, y) = atan2(y, x)", "--at=0,-1", "--check").stdout
    across = adjac("f(x, y) = atan2(y, x)", "--at=-1,1e-9", "--check").stdout
    assert "INCONCLUSIVE" in across and "the branch cut of atan2(y, x)" in across


def test_formulas_keep_constants_folded_in_functions_and_loops_exact():
    run = adjac("t(i) = i/29; f(x[1..2]) = sum(j = 1..2, x[j]*t(1)^j)", "--format", "json")
    assert json.loads(run.stdout)["results"][0]["jacobian"] == [["1/29", "1/841"]]


def test_inputs_of_a_vector_header_are_named_in_points_and_files():
    by_name = adjac("f(x[1..2]) = x[1]*x[2]", "--at", "x[2]=3,x[1]=2", "--format", "csv")
    assert by_name.returncode == 0 and by_name.stdout.splitlines()[1] == "2.0,3.0,6.0,3.0,2.0", by_name.stderr
    header = adjac("f(x[1..2]) = x[1]*x[2]", "--points", "-", "--format", "csv", stdin="x[2] x[1]\n3 2\n")
    assert header.returncode == 0 and header.stdout.splitlines()[1] == "2.0,3.0,6.0,3.0,2.0", header.stderr
    greek = adjac("θ^2 + ω", "--at", "θ=2,ω=1", "--format", "csv")
    assert greek.stdout.splitlines() == ["θ,ω,y1,d(y1)/d(θ),d(y1)/d(ω)", "2.0,1.0,5.0,4.0,1.0"]


# --- found in review: each of these once gave a wrong or a needlessly flagged result ---------------
def test_second_derivatives_take_the_branch_a_point_takes():
    for args, expected in [(("if(x > 0, sqrt(x), -x^2)", "--at", "-1", "--hessian"), [[[-2.0]]]),
                           (("if(x > 0, log(x)*y, y^2*x)", "--at", "-1,2", "--hessian"), [[[0.0, 4.0], [4.0, -2.0]]])]:
        run = adjac(*args, "--format", "json")
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["results"][0]["hessian"] == expected
    hvp = adjac("if(x*y > 0, sqrt(x*y), x-y)", "--at", "-1,2", "--hvp", "1,1", "--format", "json")
    assert hvp.returncode == 0 and json.loads(hvp.stdout)["results"][0]["hvp"] == [[0.0, 0.0]], hvp.stdout


def test_an_overflow_in_the_branch_not_taken_does_not_reach_the_tangent():
    for mode in BOTH:
        y, J = jacobian(parse("if(x < 300, exp(x)^2, 0)"), [400.0], mode)
        assert y[0] == 0 and J[0, 0] == 0
    run = adjac("if(x < 300, exp(x)^2, 0)", "--at", "400", "--seed", "1", "--mode", "forward", "--format", "csv")
    assert run.returncode == 0 and run.stdout.splitlines()[1] == "400.0,0.0,0.0", run.stdout + run.stderr


def test_a_nan_condition_makes_the_derivative_nan_too():
    run = adjac("if(sqrt(x) > 1, x, 2*x)", "--at", "-1", "--format", "csv")
    assert run.returncode == 1 and run.stdout.splitlines()[1] == "-1.0,nan,nan"


def test_a_line_that_starts_with_a_minus_continues_the_formula():
    program = "f(x, y) = x^2 + y^2\n  - 2*x*y"
    assert canonical(parse(program)) == canonical(parse("f(x, y) = x^2 + y^2 - 2*x*y"))
    assert not parse(program).warnings


@pytest.mark.parametrize(("program", "needle"), [
    ("a = a + 1; a", "a is used in its own definition"),
    ("f(x[1..3], x) = x[1]", "input 'x' is declared twice"),
    ("f(x) = [x for i = 1..0]", "the program has no outputs"),
    ("g(u) = [u, u]; g(x)", "a function has one value, not a list or a vector"),
    ("f(x) = sum(x = 1..2, x)", "choose another name, such as i"),
])
def test_more_mistakes_are_errors_not_surprises(program, needle):
    with pytest.raises(ParseError) as err:
        parse(program)
    assert needle in str(err.value)


def test_a_function_of_e_is_exp_as_e_to_a_power_is():
    y, _ = jacobian(parse("p(a, b) = a^b; f(x) = p(e, x), e^x"), [3.7])
    assert y[0] == y[1] == math.exp(3.7)


def test_greek_and_subscripted_names_everywhere():
    assert adjac("f(θ, ω) = θ*ω", "--at", "2,3", "--format", "csv").stdout.splitlines()[1] == "2.0,3.0,6.0,3.0,2.0"
    assert adjac("x₁^2", "--at", "x₁=3", "--format", "csv").stdout.splitlines()[1] == "3.0,9.0,6.0"
    tex = adjac("θ*ω + θ₂", "--at", "2,3,1", "--format", "latex").stdout
    assert "f(\\theta, \\theta_{2}, \\omega) = \\theta \\omega + \\theta_{2}" in tex


def test_the_expansion_of_a_program_is_bounded_early():
    doubling = "\n".join(["f0(u) = u"] + [f"f{k}(u) = f{k - 1}(u) + f{k - 1}(u + 1)" for k in range(1, 25)]
                         + ["f24(x)"])
    with pytest.raises(ParseError) as err:
        parse(doubling)
    assert "more than 1,000,000 loop iterations and function calls" in err.value.message
