"""The expression language: precedence via str(graph), numbering, folding, headers, errors."""

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_cli import Const, ParseError, jacobian, parse
from autodiff_cli.core.parse import parser


def wengert(text, inputs=None):
    return str(parse(text, inputs)).split("\n")


# --- precedence and associativity ------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("-x^2", ["w1 = x", "w2 = w1^2", "w3 = −w2", "y1 = w3"]),                  # -(x^2)
        ("x^-1", ["w1 = x", "w2 = w1^(-1)", "y1 = w2"]),                           # x^(-1), folded
        ("x^-y", ["w1 = x", "w2 = y", "w3 = −w2", "w4 = w1^w3", "y1 = w4"]),
        ("x - -y", ["w1 = x", "w2 = y", "w3 = −w2", "w4 = w1 − w3", "y1 = w4"]),
        ("x/y/2", ["w1 = x", "w2 = y", "w3 = w1/w2", "w4 = w3/2", "y1 = w4"]),        # (x/y)/2
        ("x-y-z", ["w1 = x", "w2 = y", "w3 = z", "w4 = w1 − w2", "w5 = w4 − w3", "y1 = w5"]),
        ("2^3^x", ["w1 = x", "w2 = 3^w1", "w3 = 2^w2", "y1 = w3"]),                  # 2^(3^x)
        ("x^y^z", ["w1 = x", "w2 = y", "w3 = z", "w4 = w2^w3", "w5 = w1^w4", "y1 = w5"]),
        ("x**y**z", ["w1 = x", "w2 = y", "w3 = z", "w4 = w2^w3", "w5 = w1^w4", "y1 = w5"]),
        ("+x", ["w1 = x", "y1 = w1"]),
        ("+-+x", ["w1 = x", "w2 = −w1", "y1 = w2"]),
        ("-x*y", ["w1 = x", "w2 = y", "w3 = −w1", "w4 = w3·w2", "y1 = w4"]),           # (-x)*y
        ("x + y*z", ["w1 = x", "w2 = y", "w3 = z", "w4 = w2·w3", "w5 = w1 + w4", "y1 = w5"]),
        ("(x + y)*z", ["w1 = x", "w2 = y", "w3 = z", "w4 = w1 + w2", "w5 = w4·w3", "y1 = w5"]),
        ("-sin(x)^2", ["w1 = x", "w2 = sin(w1)", "w3 = w2^2", "w4 = −w3", "y1 = w4"]),
    ],
)
def test_precedence_and_associativity(text, lines):
    assert wengert(text) == lines


@pytest.mark.parametrize(("text", "value"), [("2**3", 8.0), ("2^3", 8.0), ("-2^2", -4.0), ("2^-1", 0.5),
                                            ("2^3^2", 512.0), ("8/4/2", 1.0), ("1 - -1", 2.0), ("+3", 3.0),
                                            ("-(2)", -2.0), ("2*3+4", 10.0), ("2+3*4", 14.0)])
def test_constant_arithmetic(text, value):
    graph = parse(text)
    assert graph.tape == () and graph.outputs[0].value == value


def test_minus_minus_is_plus_numerically():
    _, J = jacobian(parse("x - -y"), [1.0, 2.0])
    np.testing.assert_array_equal(J, [[1.0, 1.0]])


# --- graph: numbering, CSE, folding ----------------------------------------------------------
def test_numbering_by_depth_as_in_the_issue():
    assert wengert("sin(x1) + x1*x2, exp(x1-x2)") == [
        "w1 = x1", "w2 = x2",
        "w3 = sin(w1)", "w4 = w1·w2", "w5 = w1 − w2",      # depth 1, in order of appearance
        "w6 = w3 + w4", "w7 = exp(w5)",                      # depth 2
        "y1 = w6", "y2 = w7",
    ]


def test_arguments_always_precede_their_op():
    graph = parse("exp(sin(x1*x2) + x1) * cos(x2) + x1*x2, sin(x1*x2)")
    for i, op in enumerate(graph.tape, start=graph.n):
        assert all(isinstance(a, Const) or a < i for a in op.args)


def test_common_subexpressions_are_one_node():
    graph = parse("x1*x2 + x1*x2")
    assert [op.prim for op in graph.tape] == ["mul", "add"]
    assert wengert("x1*x2 + x1*x2")[2:] == ["w3 = w1·w2", "w4 = w3 + w3", "y1 = w4"]
    _, J = jacobian(graph, [3.0, 5.0])
    np.testing.assert_array_equal(J, [[10.0, 6.0]])


def test_common_subexpressions_across_outputs():
    graph = parse("sin(x)*2, sin(x) + 1, sin(x)")
    assert [op.prim for op in graph.tape].count("sin") == 1
    assert graph.outputs[2] == graph.n          # the sin node itself


def test_constants_make_no_nodes():
    graph = parse("x * (2 + 3) * pi - sin(0) + 2^10")
    prims = [op.prim for op in graph.tape]
    assert prims == ["mul", "mul", "sub", "add"]
    assert graph.tape[0].args[1] == Const(5.0, graph.tape[0].args[1].span)
    y, J = jacobian(graph, [1.0])
    assert y[0] == pytest.approx(5 * np.pi + 1024)
    assert J[0, 0] == pytest.approx(5 * np.pi, rel=1e-15)


def test_constant_output_has_no_node():
    graph = parse("2 * 3, x")
    assert graph.tape == () and isinstance(graph.outputs[0], Const) and graph.outputs[0].value == 6.0


@pytest.mark.parametrize("text", ["2^2^2^2^2^2", "9**9**9**9", "10^10^10^10^10"])
def test_huge_constant_towers_finish_instantly_as_inf(text):
    start = time.perf_counter()
    graph = parse(text)
    assert time.perf_counter() - start < 0.5
    assert graph.outputs[0].value == np.inf


def test_signed_zeros_are_different_constants():
    # x/0 is +inf and x/(-0) is -inf at x = 1: one shared node would make the sum pi, not 0
    graph = parse("atan(x/0) + atan(x/(-0))")
    assert [op.prim for op in graph.tape] == ["div", "div", "atan", "atan", "add"]
    assert wengert("atan(x/0) + atan(x/(-0))")[1:3] == ["w2 = w1/0", "w3 = w1/(-0)"]
    y, J = jacobian(graph, [1.0])
    assert y[0] == 0.0                            # pi/2 + (-pi/2); a shared node would give pi
    # ∂/∂x is atan'(±inf)·(1/0): a computed zero times inf, so not a number (flagged), never 0 or pi
    assert np.isnan(J[0, 0])
    zero = parse("x*0 + x*-0", fold=False)       # unfolded, -0 is neg(0): still two products
    assert [op.prim for op in zero.tape].count("mul") == 2


def test_nan_constants_share_a_node():
    # constants are keyed by their bits, and nan has bits like any other double
    graph = parse("x*(0/0) + x*(0/0)")
    assert [op.prim for op in graph.tape] == ["mul", "add"]
    assert np.isnan(graph.tape[0].args[1].value)


def test_signed_zeros_in_symbolic_mode():
    pytest.importorskip("sympy")
    from autodiff_cli import symbolic
    from autodiff_cli.outputs.json import symbolic_document

    graph = parse("atan(x/0) + atan(x/(-0))")
    report = symbolic.compute(graph, "forward")
    definitions = [w["definition"] for w in symbolic_document(report)["wengert"]]
    assert definitions[1:3] == ["w1/0", "w1/(-0)"]      # two nodes, as in the numeric graph
    assert report.problems                              # 1/0: not finite, so flagged, never π


def test_without_folding_operations_on_constants_stay_nodes():
    graph = parse("x + 1/3 + 1/3 + pi", fold=False)
    assert [op.prim for op in graph.tape] == ["div", "add", "add", "add"]   # 1/3 once: one node
    assert [a.value for a in graph.tape[0].args] == [1.0, 3.0]
    pi = graph.tape[-1].args[1]
    assert graph.text[pi.span[0] : pi.span[1]] == "pi"      # a constant is as written
    folded = parse("x + 1/3 + 1/3 + pi")
    assert [op.prim for op in folded.tape] == ["add", "add", "add"]


def test_constants_are_doubles_not_ints():
    assert parse("7/2").outputs[0].value == 3.5
    assert parse("2^0.5").outputs[0].value == pytest.approx(np.sqrt(2), rel=1e-15)


# --- numbers and names -------------------------------------------------------------------
@pytest.mark.parametrize(("text", "value"), [("2", 2.0), ("2.5", 2.5), (".5", 0.5), ("1e-3", 1e-3),
                                            ("2.5E+1", 25.0), ("3.", 3.0), ("1E2", 100.0),
                                            ("pi", np.pi), ("e", np.e), ("2*pi", 2 * np.pi)])
def test_numbers_and_named_constants(text, value):
    assert parse(text).outputs[0].value == value


def test_pi_and_e_are_not_inputs():
    graph = parse("e^x + pi*x")
    assert graph.inputs == ("x",)
    _, J = jacobian(graph, [1.0])
    assert J[0, 0] == pytest.approx(np.e + np.pi, rel=1e-15)


def test_whitespace_tabs_and_newlines_are_free():
    assert str(parse("x1 *\tx2\n + sin( x1 )")) == str(parse("x1*x2+sin(x1)"))


# --- headers and input order ---------------------------------------------------------------
EXAMPLE = ["w1 = x1", "w2 = x2", "w3 = w1·w2", "w4 = sin(w1)", "w5 = w1 − w2", "w6 = w3 + w4", "w7 = exp(w5)"]


@pytest.mark.parametrize("text", [
    "x1*x2 + sin(x1), exp(x1-x2)",
    "(x1*x2 + sin(x1), exp(x1-x2))",
    "f(x1, x2) = (x1*x2 + sin(x1), exp(x1-x2))",
    "f(x1, x2) = x1*x2 + sin(x1), exp(x1-x2)",
    "F_2 ( x1 ,x2 )=x1*x2 + sin(x1), exp(x1-x2)",
    "jacobian(x1,\n x2) =\n (x1*x2 + sin(x1),\n exp(x1-x2))",
])
def test_header_and_outer_parentheses_are_optional(text):
    graph = parse(text)
    assert graph.inputs == ("x1", "x2")
    assert str(graph).split("\n")[:7] == EXAMPLE
    assert graph.labels == ("x1*x2 + sin(x1)", "exp(x1-x2)")


def test_header_fixes_the_input_order():
    graph = parse("g(b, a) = a - b")
    assert graph.inputs == ("b", "a")
    _, J = jacobian(graph, [1.0, 2.0])
    np.testing.assert_array_equal(J, [[-1.0, 1.0]])


def test_undeclared_name_lists_the_declared_inputs():
    with pytest.raises(ParseError) as err:
        parse("f(x1, x2) = (x1*x2, x3)")
    assert err.value.column == 21
    assert "'x3' is not an input" in str(err.value)
    assert "declared inputs: x1, x2" in str(err.value)


def test_declared_but_unused_inputs_get_zero_columns():
    graph = parse("f(x, y, z) = x*z")
    assert graph.inputs == ("x", "y", "z")
    for mode in ("forward", "reverse"):
        _, J = jacobian(graph, [2.0, 5.0, 3.0], mode)
        np.testing.assert_array_equal(J, [[3.0, 0.0, 2.0]])


def test_inputs_argument_fixes_the_order_and_may_list_unused_names():
    graph = parse("x1 + 2*x3", inputs=["x3", "x2", "x1"])
    assert graph.inputs == ("x3", "x2", "x1")
    _, J = jacobian(graph, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(J, [[2.0, 0.0, 1.0]])


def test_inputs_argument_must_cover_the_names_used():
    with pytest.raises(ParseError, match="'y' is not an input") as err:
        parse("x + y", inputs=["x"])
    assert err.value.column == 5


def test_inputs_argument_must_agree_with_a_header():
    with pytest.raises(ParseError, match="give the order once"):
        parse("f(a, b) = a", inputs=["b", "a"])
    assert parse("f(a, b) = a", inputs=["a", "b"]).inputs == ("a", "b")


def test_duplicate_names_in_a_header():
    with pytest.raises(ParseError, match="declared twice") as err:
        parse("f(x, y, x) = x")
    assert err.value.column == 9


def test_natural_sort_without_a_header():
    assert parse("x10 + x2 + x1 + b + a").inputs == ("a", "b", "x1", "x2", "x10")


# --- errors and their columns -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "column", "needle"),
    [
        ("sin", 1, "sin is a function"),
        ("x + cos", 5, "cos is a function"),
        ("sin(x, y)", 1, "sin takes 1 argument, not 2"),
        ("1 + exp(x, y, z)", 5, "exp takes 1 argument, not 3"),
        ("sinn(x)", 1, "did you mean sin?"),
        ("x + expp(x)", 5, "did you mean exp?"),
        ("2x", 2, "2*x"),
        ("3 + 2sin(x)", 6, "2*sin"),
        ("x + * y", 5, "expected a number, a name or '('"),
        ("x +", 4, "ends too early"),
        ("x)", 2, "unexpected ')'"),
        ("x.y", 2, "unexpected character '.'"),
        ("x ** * 2", 6, "unexpected '*'"),
        ("**x", 1, "unexpected '**'"),
        ("sin x", 5, "write sin(x) to call sin"),
        ("x y", 3, "write x*y for a product"),
        ("x @ y", 3, "unexpected character '@'"),
        ("x = y", 1, "its last statement is the outputs"),
        ("{x}", 1, "use ( ) for grouping"),
        ("0x1F", 2, "hexadecimal"),
        ("f(x) = x, g(y) = y", 11, "unexpected header"),
        ("f(1x) = x", 3, "not a valid input name"),
        ("f(sin) = 1", 3, "is a function and cannot be an input name"),
        ("", 1, "empty"),
    ],
)
def test_error_messages_and_caret_columns(text, column, needle):
    with pytest.raises(ParseError) as err:
        parse(text)
    assert err.value.column == column
    message = str(err.value)
    assert needle in message
    lines = message.split("\n")
    if text:                                    # the line, then a caret under the column
        assert lines[1] == "  " + text
        assert lines[2] == "  " + " " * (column - 1) + "^"


@pytest.mark.parametrize(
    ("text", "column", "says", "not_said"),
    [
        ("1e*x", 2, "an exponent needs digits, e.g. 1e3", "write 1*e for"),
        ("2.5E", 4, "an exponent needs digits, e.g. 2.5E3", None),
        ("1_000", 2, "numbers have no digit separators: write 1000", "1*_000"),
        ("2*1_000_000.5", 4, "numbers have no digit separators: write 1000000.5", "*_000"),
        ("exp2(x)", 1, "adjac has no exp2: write 2^a", "exp2*(...)"),
        ("arctan2(y, x)", 1, "write atan2(y, x)", "arctan2*(...)"),
        ("x1*x2 sin(x1)", 7, "or a comma between two outputs", None),
        ("(x+1) (x-1)", 7, "or a comma between two outputs", None),
    ],
)
def test_hints_for_common_slips(text, column, says, not_said):
    with pytest.raises(ParseError) as err:
        parse(text)
    assert err.value.column == column
    assert says in err.value.hint
    assert not_said is None or not_said not in err.value.hint


def test_unknown_functions_list_the_functions_there_are():
    with pytest.raises(ParseError) as err:
        parse("maxx(x, y)")
    assert str(err.value).startswith("unknown function 'maxx' at column 1")
    assert "functions: abs, acos," in err.value.hint and "sin, sinh, sqrt" in err.value.hint


def test_a_product_without_star_inside_parentheses_does_not_suggest_a_comma():
    for text in ("sin(x y)", "2x", "3*x + 2y"):
        with pytest.raises(ParseError) as err:
            parse(text)
        assert "for a product" in err.value.hint and "comma" not in err.value.hint


def test_error_on_a_later_line_names_line_and_column():
    with pytest.raises(ParseError) as err:
        parse("x +\n  * y")
    assert (err.value.line, err.value.column) == (2, 3)
    assert "line 2, column 3" in str(err.value)
    assert str(err.value).split("\n")[1:3] == ["    * y", "    ^"]


def test_a_name_called_like_a_function_is_an_error():
    with pytest.raises(ParseError, match="x is not a function") as err:
        parse("x + x(2)")
    assert err.value.column == 5


# --- labels ---------------------------------------------------------------------------
def test_labels_are_the_source_of_each_output():
    graph = parse("f(a, b) = ( a*b ,\n  sin(a)  +  b , 3,a )")
    assert graph.labels == ("a*b", "sin(a) + b", "3", "a")
    assert parse("-x^2").labels == ("-x^2",)


# --- one parser: Lark, one builder per parse, each text parsed once ------------------------
TOKENS = st.sampled_from(["x1", "x2", "2", ".5", "1e3", "sin", "(", ")", ",", "+", "-", "*", "/", "^", "**",
                          " ", "\n", "f(x1, x2) =", "=", "[", "2x", "e", "pi", "ln(", "_", "1_0", "max("])


@settings(max_examples=300, deadline=None)
@given(st.lists(TOKENS, min_size=1, max_size=12).map("".join))
def test_any_text_is_a_graph_or_a_parse_error_with_a_place(text):
    try:
        graph = parse(text)
    except ParseError as err:
        lines = text.split("\n")
        assert 1 <= err.line <= len(lines) and 1 <= err.column <= len(lines[err.line - 1]) + 1
        return
    assert graph.m == len(graph.labels) >= 1
    for i, op in enumerate(graph.tape, start=graph.n):
        assert all(isinstance(a, Const) or a < i for a in op.args)


def test_an_error_is_parsed_once(monkeypatch):
    lark = parser()
    calls = []
    real = lark.parse_interactive

    def counted(text):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(lark, "parse_interactive", counted)
    for text in ("x +* y", "sinn(x)", "(" * 3000 + "x", "x1*x2 + sin(x1), exp(x1-x2)"):
        calls.clear()
        try:
            parse(text)
        except ParseError:
            pass
        assert calls == [text]


def test_parses_in_threads_do_not_share_a_builder():
    texts = [f"x{k}*sin(x{k + 1}) + {k}, exp(x{k} - y)" for k in range(40)]
    expected = [str(parse(t)) for t in texts]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(5):
            assert list(pool.map(lambda t: str(parse(t)), texts)) == expected


def test_nesting_deeper_than_the_recursion_limit():
    depth = 3 * sys.getrecursionlimit()
    graph = parse("sin(" * depth + "x" + ")" * depth)
    assert len(graph.tape) == depth
    assert len(parse("-(" * depth + "x" + ")" * depth).tape) == depth


# --- size: no recursion limit ------------------------------------------------------------
DEPTH = 100_000


@pytest.mark.slow
def test_deeply_nested_calls():
    graph = parse("sin(" * DEPTH + "x" + ")" * DEPTH)
    assert len(graph) == DEPTH + 1
    x, y_dot = 0.3, 1.0
    y = x
    for _ in range(DEPTH):                      # d/dx sin^k(x) = Π cos(sin^(k-1)(x))
        y_dot *= np.cos(y)
        y = np.sin(y)
    for mode in ("forward", "reverse"):
        value, J = jacobian(graph, [x], mode)
        assert value[0] == pytest.approx(y, rel=1e-12)
        assert J[0, 0] == pytest.approx(y_dot, rel=1e-9)


@pytest.mark.slow
def test_deeply_nested_parentheses():
    graph = parse("(" * DEPTH + "x*y" + ")" * DEPTH + " + " + "(" * DEPTH + "-y" + ")" * DEPTH)
    assert [op.prim for op in graph.tape] == ["mul", "neg", "add"]
    _, J = jacobian(graph, [2.0, 3.0], "reverse")
    np.testing.assert_array_equal(J, [[3.0, 1.0]])


@pytest.mark.slow
def test_one_megabyte_expression():
    K = 44_000                                   # long coefficients: fewer nodes per megabyte
    coefficients = [f"{1 + k * 1e-6:.15f}" for k in range(K)]
    terms = [f"{c}*sin(x{k % 3 + 1})" if k % 4 == 0 else f"{c}*x{k % 3 + 1}" for k, c in enumerate(coefficients)]
    text = " + ".join(terms)
    assert len(text) > 1_000_000
    graph = parse(text)
    x = np.array([0.3, -0.2, 0.7])
    J_hand = np.zeros(3)
    for k, c in enumerate(coefficients):
        J_hand[k % 3] += float(c) * (np.cos(x[k % 3]) if k % 4 == 0 else 1.0)
    for mode in ("forward", "reverse"):
        _, J = jacobian(graph, x, mode)
        np.testing.assert_allclose(J[0], J_hand, rtol=1e-12)
