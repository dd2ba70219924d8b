"""--graph and --graph-out: the DOT text (structure, numbers, escaping) and its rendering by Graphviz."""

import math
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from autodiff_cli import parse
from autodiff_cli.cli import main
from autodiff_cli.outputs.dot import INSTALL_HINT, quote, to_dot

WORKED = "sin(x1) + x1*x2, exp(x1-x2)"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def run(*args):
    return CliRunner().invoke(main, list(args))


def unquote(s):
    """Inverse of DOT quoting for the escapes we write."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), s)


def nodes(text):
    """{id: label} of the node statements."""
    found = re.finditer(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"', text, re.M)
    return {m.group(1): unquote(m.group(2)) for m in found if m.group(1) not in ("graph", "node", "edge")}


def edges(text):
    """[(tail, head, label)] of the edge statements."""
    return [(m.group(1), m.group(2), unquote(m.group(3)))
            for m in re.finditer(r'^  (\w+) -> (\w+) \[label="((?:[^"\\]|\\.)*)"', text, re.M)]


def first_number(label, prefix):
    """The number after ``prefix`` in a label, e.g. '= ' on the value line."""
    line = next(s for s in label.split("\n") if s.startswith(prefix))
    return float(line[len(prefix):].strip("()").split(",")[0])


def test_worked_example_structure_without_point():
    result = run(WORKED, "--graph")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("digraph adjac {") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    found = nodes(text)
    assert sorted(found) == [f"w{i}" for i in range(1, 8)]
    assert found["w4"] == "w4 = w1·w2"
    assert found["w6"] == "y1 = w6 = w3 + w4"
    assert found["w7"] == "y2 = w7 = exp(w5)"
    links = edges(text)
    assert len(links) == 8                                 # sin 1, mul 2, sub 2, add 2, exp 1
    assert ("w1", "w3", "∂w3/∂w1 = cos(w1)") in links
    assert ("w2", "w4", "∂w4/∂w2 = w1") in links
    assert ("w5", "w7", "∂w7/∂w5 = w7") in links
    assert "= " not in "".join(found.values()).replace(" = ", "")   # no values without a point
    assert result.stderr == ""                             # no "give a point" hint with --graph


def test_inputs_and_outputs_look_different():
    text = run(WORKED, "--graph").stdout
    shape = {m.group(1): m.group(2) for m in re.finditer(r"^  (\w+) \[.*shape=\"(\w+)\"", text, re.M)}
    doubled = set(re.findall(r"^  (\w+) \[.*peripheries=\"2\"", text, re.M))
    shape.pop("node")                                      # the default: ellipse
    assert shape == {"w1": "box", "w2": "box"}
    assert doubled == {"w6", "w7"}


def test_values_and_partials_at_a_point():
    result = run(WORKED, "--at", "1,2", "--graph", "--digits", "12")
    assert result.exit_code == 0
    found, links = nodes(result.stdout), {(t, h): lab for t, h, lab in edges(result.stdout)}
    assert first_number(found["w3"], "= ") == pytest.approx(math.sin(1), rel=1e-11)
    assert first_number(found["w6"], "= ") == pytest.approx(math.sin(1) + 2, rel=1e-11)
    assert first_number(links["w1", "w3"], "= ") == pytest.approx(math.cos(1), rel=1e-11)
    assert first_number(links["w5", "w7"], "= ") == pytest.approx(math.exp(-1), rel=1e-11)
    assert links["w1", "w5"] == "∂w5/∂w1 = 1"               # a constant rule is not repeated as a value
    assert "at x1 = 1, x2 = 2" in result.stdout


def test_digits_are_respected():
    text = run(WORKED, "--at", "1,2", "--graph", "--digits", "3").stdout
    assert nodes(text)["w3"] == "w3 = sin(w1)\n= 0.841" and "0.8414" not in text


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_sweep_derivatives_on_nodes(mode):
    text = run(WORKED, "--at", "1,2", "--graph", "--mode", mode, "--digits", "15").stdout
    found = nodes(text)
    e = math.exp(-1)
    if mode == "reverse":                                  # w̄_j = (∂y1/∂w_j, ∂y2/∂w_j): the rows of J
        assert "w̄1 = (" in found["w1"]
        row = found["w1"].split("w̄1 = ")[1].strip("()").split(", ")
        assert [float(v) for v in row] == pytest.approx([math.cos(1) + 2, e], rel=1e-14)
        assert found["w6"].endswith("w̄6 = (1, 0)")
    else:                                                  # ẇ_i = (∂w_i/∂x1, ∂w_i/∂x2): the columns of J
        col = found["w7"].split("ẇ7 = ")[1].strip("()").split(", ")
        assert [float(v) for v in col] == pytest.approx([e, -e], rel=1e-14)
    assert "auto" not in text


def test_auto_mode_shows_no_sweep_and_seed_shows_one_pass():
    assert "ẇ" not in run(WORKED, "--at", "1,2", "--graph").stdout
    text = run(WORKED, "--at", "1,2", "--graph", "--seed", "0,1", "--mode", "reverse").stdout
    assert "seed ȳ = (0, 1)" in text
    found = nodes(text)
    assert first_number(found["w2"], "w̄2 = ") == pytest.approx(-math.exp(-1), rel=1e-5)


def test_several_points_use_the_first_and_say_so():
    result = run("x^2", "--at", "3", "--at", "4", "--graph")
    assert result.exit_code == 0
    assert "first of 2 points" in result.stderr
    assert first_number(nodes(result.stdout)["w2"], "= ") == 9


def test_constant_repeated_and_fan_out():
    text = run("x*x, 3, x, x*x", "--at", "2", "--graph").stdout
    found = nodes(text)
    assert found["w2"].startswith("y1 = y4 = w2 = w1·w1")
    assert found["w1"].startswith("y3 = w1 = x")
    assert found["y2"] == "y2 = 3\n(constant)"
    assert [(t, h) for t, h, _ in edges(text)] == [("w1", "w2"), ("w1", "w2")]   # one edge per argument


def test_no_inputs():
    result = run("2+3", "--graph")
    assert result.exit_code == 0
    assert nodes(result.stdout) == {"y1": "y1 = 5\n(constant)"}


def test_not_finite_is_marked_and_exits_1():
    result = run("log(x)", "--at", "-1", "--graph")
    assert result.exit_code == 1
    assert re.search(r'^  w2 \[.*fontcolor="#b00000"', result.stdout, re.M)
    assert "log" in result.stderr


def test_quote_escapes_user_text_as_data():
    assert quote('a"b') == '"a\\"b"'
    assert quote("a\\N") == '"a\\\\N"'                     # \N would be the node name in DOT
    assert quote("one\ntwo") == '"one\\ntwo"'
    for text in ['say "hi"', "back\\slash", "\\G\\N\\l", "two\nlines", "<b>&amp;</b>", "{a|b}"]:
        assert unquote(quote(text)[1:-1]) == text


@needs_dot
def test_escaped_text_survives_graphviz():
    graph = parse("a_b*c")
    tricky = '\\N "<x>&'
    dot_text = to_dot(graph).replace('label="f(a_b, c) = a_b*c"', "label=" + quote(tricky))
    assert quote(tricky) in dot_text
    svg = subprocess.run(["dot", "-Tsvg"], input=dot_text.encode(), capture_output=True, check=True).stdout.decode()
    assert "\\N &quot;&lt;x&gt;&amp;" in svg or '\\N "&lt;x&gt;&amp;' in svg


def test_ascii_has_no_unicode():
    text = run(WORKED, "--at", "1,2", "--graph", "--ascii", "--mode", "reverse").stdout
    assert text.isascii()
    assert "dw4/dw1 = w2" in text and "w_bar1 = (" in text


def test_graph_conflicts_with_machine_formats():
    result = run(WORKED, "--at", "1,2", "--graph", "--format", "json")
    assert result.exit_code == 2
    assert "--graph-out" in result.stderr


def test_graph_out_bad_suffix_and_folder(tmp_path):
    result = run(WORKED, "--graph-out", str(tmp_path / "g.txt"))
    assert result.exit_code == 2 and ".svg" in result.stderr
    result = run(WORKED, "--graph-out", str(tmp_path / "missing" / "g.svg"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_graph_out_dot_text_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    out = tmp_path / "g.dot"
    result = run(WORKED, "--at", "1,2", "--graph-out", str(out), "--format", "json")
    assert result.exit_code == 0
    assert '"jacobian"' in result.stdout                   # the results still go to stdout
    assert sorted(nodes(out.read_text(encoding="utf-8"))) == [f"w{i}" for i in range(1, 8)]


def test_missing_dot_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))             # no dot on this PATH
    out = tmp_path / "g.svg"
    result = run(WORKED, "--at", "1,2", "--graph-out", str(out))
    assert result.exit_code == 2
    assert "apt-get install graphviz" in result.stderr and "--graph" in result.stderr
    assert INSTALL_HINT.split(":")[0] in result.stderr
    assert not out.exists() and result.stdout == ""


@needs_dot
@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_render_worked_example(tmp_path, suffix):
    out = tmp_path / f"g.{suffix}"
    result = run(WORKED, "--at", "1,2", "--graph-out", str(out), "--mode", "reverse")
    assert result.exit_code == 0, result.output
    assert f"drew the graph into {out}" in result.stderr
    assert "∂/∂x1" in result.stdout                        # the table is still printed
    data = out.read_bytes()
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[suffix]
    assert data.startswith(magic)
    if suffix != "svg":
        return
    svg = data.decode("utf-8")
    dot_nodes = nodes(run(WORKED, "--at", "1,2", "--graph", "--mode", "reverse").stdout)
    assert len(dot_nodes) == 7
    for name, label in dot_nodes.items():                  # every node, with every line of its label
        assert f"<title>{name}</title>" in svg
        for line in label.split("\n"):
            assert f">{line.replace('-', '&#45;')}</text>" in svg
    assert svg.count('class="edge"') == 8


# --- long labels, dot's failures, slow layouts (issue 11, item 10) ----------------------------------
LONG = [
    "sin(" + "v" * 17_000 + ")",                           # a long input name: node labels and the caption
    "x*1." + "0" * 17_000 + "1",                           # a long constant
    ", ".join(["x"] * 3000),                               # one node that is 3000 outputs: y1 = y2 = ...
    ", ".join(f"x{k}" for k in range(1500)) + ", " + "+".join(f"x{k}" for k in range(1500)),   # a long point
]


def quoted_strings(text):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', text)


@pytest.mark.parametrize("expression", LONG, ids=["name", "constant", "outputs", "inputs"])
@pytest.mark.parametrize("at", [True, False], ids=["point", "formulas"])
def test_every_string_in_the_dot_text_is_short(expression, at):
    graph = parse(expression)
    text = to_dot(graph, [1.0] * graph.n if at else None, "forward" if at and graph.n < 50 else None)
    longest = max(len(s.encode("utf-8")) for s in quoted_strings(text))
    assert longest < 16_384 // 2, longest


def test_quote_cuts_the_middle_of_long_lines_and_of_many_lines():
    body = unquote(quote("a" * 1000 + "b" * 1000)[1:-1])
    assert len(body) <= 240 and body.startswith("aaa") and body.endswith("bbb") and "..." in body
    many = unquote(quote("\n".join(f"line {k}" for k in range(100)))[1:-1]).split("\n")
    assert len(many) <= 12 and many[0] == "line 0" and many[-1] == "line 99"
    assert unquote(quote("∂" * 500)[1:-1]).count("…") == 1
    assert quote("short") == '"short"'


@needs_dot
@pytest.mark.parametrize("expression", LONG[:3], ids=["name", "constant", "outputs"])
def test_graph_out_draws_a_long_expression(tmp_path, expression):
    out = tmp_path / "g.svg"
    result = run(expression, "--at", "1", "--graph-out", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"<?xml")


def _fake_dot(tmp_path, monkeypatch, script):
    program = tmp_path / "dot"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(0o755)
    monkeypatch.setattr("autodiff_cli.outputs.dot.dot_program", lambda: str(program))


def test_dot_failing_is_reported_with_its_stderr_and_the_users_file_name(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, "echo 'Error: something else went wrong' >&2\nexit 1\n")
    out = tmp_path / "g.svg"
    result = run(WORKED, "--at", "1,2", "--graph-out", str(out))
    assert result.exit_code == 2
    assert f"dot failed to write {out}: Error: something else went wrong" in result.stderr
    assert ".adjac-" not in result.stderr and ".tmp" not in result.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["dot"]


def test_a_slow_layout_is_announced_and_a_timeout_is_a_clear_message(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, "sleep 5\n")
    monkeypatch.setattr("autodiff_cli.outputs.dot.TIMEOUT", 0.2)
    out = tmp_path / "g.svg"
    expression = "x" + "+(x-x)" * 150                      # 152 nodes: real dot takes over 120 s
    result = run(expression, "--at", "1", "--graph-out", str(out))
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())
    assert "note: drawing 152 nodes with Graphviz may take a while" in err
    assert f"dot did not finish laying out the graph in 0.2 s, so {out} was not drawn" in err
    assert not out.exists()


def test_a_small_graph_gets_no_note(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, 'while [ "$1" != "-o" ]; do shift; done; echo "<svg/>" > "$2"\n')
    out = tmp_path / "g.svg"
    result = run(WORKED, "--at", "1,2", "--graph-out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "note" not in result.stderr and out.read_text() == "<svg/>\n"
