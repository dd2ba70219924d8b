"""The hand-written parser builds exactly the graph Lark builds from grammar/adjac.lark,
and hands everything else (every error) to Lark."""

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodiff_cli import ParseError, fastparse, parse
from autodiff_cli.parse import _BUILDER, _LOCK, parse_with_lark

WS = st.sampled_from(["", "", " ", "  ", "\t", "\n", " \r\n "])
NUMBERS = st.sampled_from(["0", "1", "2", "2.5", ".5", "5.", "1e-3", "2.5E+1", "10", "3e2", "0.0"])
NAMES = st.sampled_from(["x1", "x2", "x10", "y", "_a", "pi", "e", "x1e5"])
FUNCS = st.sampled_from(["sin", "cos", "exp", "ln", "log", "sqrt", "abs", "tanh", "atan", "sigmoid"])
BINARY = st.sampled_from(["+", "-", "*", "/", "^", "**"])


def spaced(*parts):
    return st.tuples(*(p if not isinstance(p, str) else st.just(p) for p in parts)).map("".join)


exprs = st.recursive(
    NUMBERS | NAMES,
    lambda e: spaced(e, WS, BINARY, WS, e)
    | spaced(st.sampled_from(["-", "+"]), WS, e)
    | spaced("(", WS, e, WS, ")")
    | spaced(FUNCS, WS, "(", WS, e, WS, ")"),
    max_leaves=14,
)


@st.composite
def functions(draw):
    outputs = draw(st.lists(exprs, min_size=1, max_size=4))
    body = ", ".join(outputs)
    if len(outputs) > 1 and draw(st.booleans()):
        body = f"({body})"
    if draw(st.booleans()):
        names = ["x1", "x2", "x10", "y", "_a", "x1e5"]
        body = f"{draw(st.sampled_from(['f', 'F', 'g_1']))}{draw(WS)}({', '.join(names)}){draw(WS)}= {body}"
    return draw(WS) + body + draw(WS)


def same(a, b):
    assert repr(a) == repr(b)            # inputs, tape (ops, arguments, constants, spans), outputs, labels
    assert str(a) == str(b)
    assert a.labels == b.labels


def fast_accepts(text):
    with _LOCK:
        _BUILDER.reset(text, None)
        return fastparse.feed(text, _BUILDER)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(functions())
def test_valid_text_gives_the_same_graph(text):
    try:
        reference = parse_with_lark(text)
    except ParseError:                   # e.g. sin used as a name, a name missing from the header
        assert not fast_accepts(text)
        with pytest.raises(ParseError):
            parse(text)
        return
    assert fast_accepts(text), text      # the fast path really is taken for valid text
    same(parse(text), reference)


TOKENS = st.sampled_from(["x1", "x2", "2", ".5", "1e3", "sin", "(", ")", ",", "+", "-", "*", "/", "^", "**",
                          " ", "f(x1, x2) =", "=", "[", "2x", "e", "pi", "ln("])


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, min_size=1, max_size=12).map("".join))
def test_token_soup_agrees_with_lark(text):
    """Whatever fastparse accepts, Lark accepts with the same graph; errors are Lark's."""
    try:
        reference = parse_with_lark(text)
    except ParseError as err:
        assert not fast_accepts(text)
        with pytest.raises(ParseError) as again:
            parse(text)
        assert str(again.value) == str(err)
        return
    same(parse(text), reference)


@pytest.mark.parametrize("text", [
    "x1*x2 + sin(x1), exp(x1-x2)", "f(x1, x2) = (x1*x2 + sin(x1), exp(x1-x2))", "(x1 + x2)^2, x1",
    "-x^2", "2^3^x", "x^-1", "x - -y", "x/y/2", "(x)", "((x))", "(x, y)", "sin(x)^2 + cos(x)^2",
    "2^2^2^2^2^2 * x", "9**9**9**9 + x", "x1*x2 + x1*x2", "f(a, b, unused) = a*b",
])
def test_examples_take_the_fast_path(text):
    assert fast_accepts(text)
    same(parse(text), parse_with_lark(text))


def test_vars_order_is_shared():
    same(parse("x1 + x2", ["x2", "x1", "x3"]), parse_with_lark("x1 + x2", ["x2", "x1", "x3"]))


def test_too_deep_for_recursion_falls_back_to_lark():
    depth = sys.getrecursionlimit() * 2
    text = "sin(" * depth + "x" + ")" * depth
    assert not fast_accepts(text)
    graph = parse(text)
    assert len(graph.tape) == depth


def test_lark_is_not_imported_for_valid_text():
    import subprocess

    code = ("import sys; from autodiff_cli import parse; parse('x1*x2 + sin(x1), exp(x1-x2)'); "
            "print('lark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
