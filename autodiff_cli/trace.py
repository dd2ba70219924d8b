"""The sweeps written out as in lecture notes: ``adjac ... --trace``.

``build(report, p)`` turns point p of a Report into a ``Trace``, plain data that every
printer (the Rich tables and the JSON here, LaTeX or symbolic output elsewhere) can
read without touching the engines.  ``assemble`` builds the same rows from any values:
``symbolic.trace`` passes formulas where ``build`` passes numbers.

    Trace                          one point
      graph, mode, point           the function, "forward" | "reverse", x
      w                            w_i at x, for every Wengert variable (0-based i)
      passes: tuple[PassTrace]     one per seed, in the order they ran
    PassTrace                      one sweep
      seed                         x_dot (forward, n entries) or y_bar (reverse, m entries)
      identity                     True when the seed is e_q (a column or row of J), else --seed
      q                            the pass's number, 0-based
      rows: tuple[Row]             sweep order: tape order forward, reverse order backward
    Row                            one tangent ẇ_i (forward) or adjoint w̄_i (reverse)
      node                         i, 0-based (shown as w{i+1})
      seeds                        forward: (j,) when w_i is input x_j; reverse: every k with y_k = w_i
      terms: tuple[Term]           the chain-rule sum, one term per edge
      value                        the derivative at x; 0.0 where it is structurally zero
      zero                         True when structurally zero (no path from the seed)
    Term                           one edge (i, j, k, c) of ad.linearize, c = ∂w_i/∂w_j
      i, j, k                      result, argument, and j's position k in op i's arguments
      c                            the local partial at x
      rule                         c on paper over variable names, from Prim.rules: "cos(w1)"
      other                        forward: ẇ_j, reverse: w̄_i, at x (0.0 when structurally zero)

A row reads: forward  ẇ_i = Σ_j c·ẇ_j   (+ ẋ_j for an input),
             reverse  w̄_j = Σ_i w̄_i·c   (+ ȳ_k for an output y_k = w_j).
A node used twice gets two terms (one per edge): fan-out is visible, and ``x1*x1``
reads ẇ2 = w1·ẇ1 + w1·ẇ1.  Rule text comes only from the primitives table (``rules``
for partials, ``show`` for definitions), with {w}, {a}, {b} filled in.

Text for any printer (Unicode; ``Notation(unicode=False)`` gives w_dot4, w_bar4, *, -):

    graph.definition(i) / definition_at(trace, i)     "sin(w1)" / "sin(1)"
    equation_terms(trace, row) / ..._at(trace, row, q) ["w̄3·cos(w1)", "+ w̄4·w2"] / ["1·cos(1)", "+ 1·2"]
    equation(...) / equation_at(...)                   the same joined: "w̄3·cos(w1) + w̄4·w2"
    pass_heading, pass_seeds, pass_label, result_marks "pass 1 of 2: w̄6 = 1, w̄7 = 0  (row 1 of J: ∇y1)"
    trace_object(trace)                                the JSON "trace" member
    tables(report, p, ...)                             the Rich renderables of --trace

A printer with its own notation (LaTeX) can instead read Term.i, Term.k and the op's
primitive, and write PRIMITIVES[prim].rules[k] its own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from .core import ad
from .core.graph import Const, Graph, format_number, read
from .core.primitives import PRIMITIVES
from .report import Report, point_text


class Term(NamedTuple):
    i: int             # the edge's result node
    j: int             # the edge's argument node (j < i)
    k: int             # position of j among op i's arguments: Prim.rules[k] is the rule
    c: float           # ∂w_i/∂w_j at the point
    rule: str          # c on paper: "cos(w1)", "w2", "1"
    other: float       # forward ẇ_j, reverse w̄_i (0.0 if structurally zero)


class Row(NamedTuple):
    node: int
    seeds: tuple[int, ...]
    terms: tuple[Term, ...]
    value: float
    zero: bool


class PassTrace(NamedTuple):
    q: int
    seed: tuple[float, ...]
    identity: bool
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Trace:
    graph: Graph
    mode: ad.Mode
    point: tuple[float, ...]
    w: tuple[float, ...]
    passes: tuple[PassTrace, ...]

    def outputs_at(self, i: int) -> list[int]:
        """Every k with y_k = w_i."""
        return self._outputs.get(i, [])

    @cached_property
    def _outputs(self) -> dict[int, list[int]]:
        return outputs_by_node(self.graph)


def outputs_by_node(graph: Graph) -> dict[int, list[int]]:
    """{i: every k with y_k = w_i}: an output may repeat a node, or be an input."""
    found: dict[int, list[int]] = {}
    for k, out in enumerate(graph.outputs):
        if not isinstance(out, Const):
            found.setdefault(out, []).append(k)
    return found


# --- building ----------------------------------------------------------------------------
def _at(v: Any, p: int) -> float:
    """Entry p of a per-point array, or the scalar itself."""
    return float(np.ravel(v)[p if np.size(v) > 1 else 0])


def build(report: Report, p: int) -> Trace:
    """The trace of every pass of ``report`` at point p (edges recomputed at that point)."""
    w_arr, edges = ad.linearize(report.graph, report.points[p])
    cs = [_at(c, 0) for *_, c in edges]
    derivatives = [[None if v is None else _at(v, p) for v in sweep.derivatives] for sweep in report.passes]
    seeds = [tuple(float(s) for s in np.ravel(sweep.seed)) for sweep in report.passes]
    return assemble(report.graph, report.mode, tuple(float(v) for v in report.points[p]),
                    tuple(_at(v, 0) for v in w_arr), edges, cs, seeds, derivatives, report.seed is None)


def assemble(graph: Graph, mode: ad.Mode, point: tuple[Any, ...], w: tuple[Any, ...], edges: list[ad.Edge],
             cs: list[Any], seeds: list[tuple[float, ...]], derivatives: list[list[Any]], identity: bool,
             zero: Any = 0.0) -> Trace:
    """A Trace from one linearization (w, edges with partials ``cs``) and the passes' derivatives.

    Entries may be numbers (``build``) or formulas (``symbolic.trace``); ``zero`` stands
    for a structural zero (None in ``derivatives``).
    """
    positions = [(i, j, k) for i, j, k, _ in edges]
    outputs = outputs_by_node(graph)
    rules = [_partial_rule(graph, i, k) for i, _, k in positions]
    passes = []
    for q, (seed, d) in enumerate(zip(seeds, derivatives)):
        rows = []
        if mode == "forward":
            by_result: dict[int, list[Term]] = {}
            for (i, j, k), c, rule in zip(positions, cs, rules):
                by_result.setdefault(i, []).append(Term(i, j, k, c, rule, zero if d[j] is None else d[j]))
            for i in range(len(graph)):
                own: tuple[int, ...] = (i,) if i < graph.n else ()
                rows.append(Row(i, own, tuple(by_result.get(i, ())), zero if d[i] is None else d[i], d[i] is None))
        else:
            by_argument: dict[int, list[Term]] = {}
            for (i, j, k), c, rule in zip(positions, cs, rules):
                by_argument.setdefault(j, []).append(Term(i, j, k, c, rule, zero if d[i] is None else d[i]))
            for j in reversed(range(len(graph))):
                own = tuple(outputs.get(j, ()))
                rows.append(Row(j, own, tuple(by_argument.get(j, ())), zero if d[j] is None else d[j], d[j] is None))
        passes.append(PassTrace(q, seed, identity, tuple(rows)))
    return Trace(graph, mode, point, w, tuple(passes))


_SLOT = re.compile(r"\{([wab])\}")


def _fill(template: str, slots: dict[str, str]) -> str:
    """Fill {w}, {a}, {b}; a negative number is parenthesized unless the slot already is: cos(-1), (-2)²."""

    def put(m: re.Match[str]) -> str:
        text = slots[m.group(1)]
        wrapped = template[m.start() - 1 : m.start()] == "(" and template[m.end() : m.end() + 1] == ")"
        return f"({text})" if text.startswith("-") and not wrapped else text

    return _SLOT.sub(put, template)


def _slots(graph: Graph, i: int, show: Any) -> dict[str, str]:
    """{w}, {a}, {b} of op i, each written by ``show(arg)``."""
    op = graph.tape[i - graph.n]
    slots = {"w": show(i)}
    slots.update(zip("ab", (show(a) for a in op.args)))
    return slots


def _name(graph: Graph) -> Any:
    return lambda a: format_number(a.value) if isinstance(a, Const) else f"w{a + 1}"


def _number(w: tuple[float, ...], digits: int) -> Any:
    return lambda a: format_number(float(read(w, a)), digits)


def _partial_rule(graph: Graph, i: int, k: int) -> str:
    """∂w_i/∂(argument k) on paper, over variable names: ``cos(w1)``."""
    prim = PRIMITIVES[graph.tape[i - graph.n].prim]
    return _fill(prim.rules[k], _slots(graph, i, _name(graph)))


def partial_at(trace: Trace, term: Term, digits: int = 6) -> str:
    """The same rule with the point's numbers: ``cos(1)``."""
    graph = trace.graph
    prim = PRIMITIVES[graph.tape[term.i - graph.n].prim]
    return _fill(prim.rules[term.k], _slots(graph, term.i, _number(trace.w, digits)))


def definition_at(trace: Trace, i: int, digits: int = 6) -> str:
    """The definition with the point's numbers: ``sin(1)``, ``1·2``; empty for inputs."""
    graph = trace.graph
    if i < graph.n:
        return ""
    return _fill(PRIMITIVES[graph.tape[i - graph.n].prim].show, _slots(graph, i, _number(trace.w, digits)))


# --- notation ------------------------------------------------------------------------------
DOT, BAR = "\u0307", "\u0304"                  # combining dot above, combining macron


@dataclass(frozen=True)
class Notation:
    """ẇ4 and w̄4 (Unicode combining marks), or w_dot4 and w_bar4 in plain ASCII."""

    unicode: bool = True

    def mark(self, letter: str, kind: str, index: int) -> str:
        if self.unicode:
            return f"{letter}{DOT if kind == 'dot' else BAR}{index + 1}"
        return f"{letter}_{kind}{index + 1}"

    def derivative(self, mode: str, i: int) -> str:
        """ẇ_i (forward) or w̄_i (reverse), 1-based on screen."""
        return self.mark("w", "dot" if mode == "forward" else "bar", i)

    def seed(self, mode: str, s: int) -> str:
        """ẋ_j (forward) or ȳ_k (reverse)."""
        return self.mark("x", "dot", s) if mode == "forward" else self.mark("y", "bar", s)

    def math(self, text: str) -> str:
        if self.unicode:
            return text
        from .render import ascii_math

        return ascii_math(text)


def _sum(parts: list[tuple[bool, str]]) -> list[str]:
    """["a", "+ b", "− c"] from (negative, text) pairs: a sum, cut between its terms; ["0"] for none."""
    if not parts:
        return ["0"]
    pieces = [("−" if parts[0][0] else "") + parts[0][1]]
    pieces += [f"− {text}" if negative else f"+ {text}" for negative, text in parts[1:]]
    return pieces


def _top_level_sum(text: str) -> bool:
    """Whether ``text`` has a binary + or − outside parentheses: 1 + w4² does, −sin(w1) does not."""
    depth = 0
    for pos, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0 and ch in "+−-" and text[pos - 1 : pos] == " " and text[pos + 1 : pos + 2] == " ":
            return True
    return False


def _top_level(text: str, symbol: str) -> bool:
    """Whether ``symbol`` occurs in ``text`` outside parentheses."""
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and ch == symbol:
            return True
    return False


def _product(rule: str, factor: str, forward: bool, shown: str | None = None) -> tuple[bool, str]:
    """(negative, text) of c·ẇ_j (forward) or w̄_i·c (reverse): a factor 1 is dropped, −1 is a minus.

    The decision follows the symbolic ``rule``; ``shown`` (default: the rule) is what is
    written, e.g. the rule with numbers, so that w1·ẇ2 becomes 1·0 and never just 0.
    """
    shown = rule if shown is None else shown
    negative = rule[:1] == "−" and not _top_level_sum(rule[1:])
    if negative:
        rule, shown = rule[1:], shown[1:]
    if rule == "1":
        return negative, factor
    if _top_level_sum(rule) or (forward and _top_level(rule, "/")):
        shown = f"({shown})"                       # (1 + w4²)·ẇ3, (1/w6)·ẇ6; but w̄8·1/w2 reads right
    return negative, f"{shown}·{factor}" if forward else f"{factor}·{shown}"


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def equation(trace: Trace, row: Row, notation: Notation | None = None) -> str:
    """The row's rule: ``w2·ẇ1 + w1·ẇ2`` (forward), ``w̄3·cos(w1) + w̄4·w2 + w̄5`` (reverse)."""
    return " ".join(equation_terms(trace, row, notation))


def equation_at(trace: Trace, row: Row, q: int, digits: int = 6, notation: Notation | None = None) -> str:
    """The rule with the numbers of this point and pass q: ``2·1 + 1·0``, ``1·cos(1) + 1·2 + 0``."""
    return " ".join(equation_terms_at(trace, row, q, digits, notation))


def equation_terms(trace: Trace, row: Row, notation: Notation | None = None) -> list[str]:
    """The rule cut between terms: ["w̄3·cos(w1)", "+ w̄4·w2", "+ w̄5"]."""
    nt = notation or Notation()
    forward = trace.mode == "forward"
    parts = [(False, nt.seed(trace.mode, s)) for s in row.seeds]
    for t in row.terms:
        parts.append(_product(t.rule, nt.derivative(trace.mode, t.j if forward else t.i), forward))
    return [nt.math(piece) for piece in _sum(parts)]


def equation_terms_at(trace: Trace, row: Row, q: int, digits: int = 6, notation: Notation | None = None) -> list[str]:
    """The substituted rule cut between terms, term for term as ``equation_terms``."""
    nt = notation or Notation()
    forward = trace.mode == "forward"
    seed = trace.passes[q].seed
    parts = [(False, _paren(format_number(seed[s], digits))) for s in row.seeds]
    for t in row.terms:
        parts.append(_product(t.rule, _paren(format_number(t.other, digits)), forward, partial_at(trace, t, digits)))
    return [nt.math(piece) for piece in _sum(parts)]


def pass_heading(trace: Trace, q: int, notation: Notation | None = None, digits: int = 6) -> str:
    """'pass 1 of 2: ẇ1 = 1, ẇ2 = 0  (column 1 of J: ∂/∂x1)' or '... w̄6 = 1, w̄7 = 0  (row 1 of J: ∇y1)'."""
    nt = notation or Notation()
    count = f"pass {q + 1} of {len(trace.passes)}"
    return nt.math(f"{count}: {pass_seeds(trace, q, nt, digits)}  ({pass_label(trace, q)})")


def pass_seeds(trace: Trace, q: int, notation: Notation | None = None, digits: int = 6) -> str:
    """The seed of pass q: 'ẇ1 = 1, ẇ2 = 0' or 'w̄6 = 1, w̄7 = 0' (by ȳ when outputs repeat)."""
    nt = notation or Notation()
    graph, sweep = trace.graph, trace.passes[q]
    if trace.mode == "forward":
        seeds = [f"{nt.derivative('forward', j)} = {format_number(v, digits)}" for j, v in enumerate(sweep.seed)]
    else:
        nodes = [out for out in graph.outputs if not isinstance(out, Const)]
        if len(set(nodes)) == graph.m:             # distinct nodes: name them by w̄
            seeds = [f"{nt.derivative('reverse', out)} = {format_number(v, digits)}"
                     for out, v in zip(nodes, sweep.seed)]
        else:                                      # repeated or constant outputs: by ȳ
            seeds = [f"{nt.seed('reverse', k)} = {format_number(v, digits)}" for k, v in enumerate(sweep.seed)]
    return ", ".join(seeds) or "no seed"


def pass_label(trace: Trace, q: int) -> str:
    """What the pass computes: 'column 1 of J: ∂/∂x1', 'row 2 of J: ∇y2', 'J·v', 'vᵀ·J'."""
    sweep = trace.passes[q]
    if trace.mode == "forward":
        if not sweep.identity:
            return "J·v, one forward pass"
        return f"column {q + 1} of J: ∂/∂{trace.graph.inputs[q]}"
    if not sweep.identity:
        return "vᵀ·J, one reverse pass"
    return f"row {q + 1} of J: ∇y{q + 1}"


def result_marks(trace: Trace, row: Row, q: int) -> list[str]:
    """The entries of J (or of J·v, vᵀ·J) that a row's value is: ∂y1/∂x1, ..."""
    graph, sweep = trace.graph, trace.passes[q]
    if trace.mode == "forward":
        ks = trace.outputs_at(row.node)
        if sweep.identity:
            return [f"∂y{k + 1}/∂{graph.inputs[q]}" for k in ks]
        return [f"(J·v){k + 1}" for k in ks]
    if row.node >= graph.n:
        return []
    if sweep.identity:
        return [f"∂y{q + 1}/∂{graph.inputs[row.node]}"]
    return [f"(vᵀ·J){row.node + 1}"]


# --- JSON ----------------------------------------------------------------------------------
def trace_object(trace: Trace, number: Any = None) -> dict[str, Any]:
    """The "trace" member of a JSON result (see README, "Tracing the sweeps").

    {"mode", "nodes": [{"name", "definition", "value", "input", "outputs"}],
     "passes": [{"seed", "label", "derivatives": {name: value}, "rows": [...]}]}
    Structurally zero derivatives are 0.0; non-finite numbers are null.  ``number``
    writes each value (default: a JSON number; ``symbolic`` passes its formula writer).
    """
    from .render import number as json_number

    number = number or json_number

    graph = trace.graph
    nodes = [{"name": f"w{i + 1}", "definition": graph.definition(i), "value": number(trace.w[i]),
              "input": graph.inputs[i] if i < graph.n else None,
              "outputs": [f"y{k + 1}" for k in trace.outputs_at(i)]} for i in range(len(graph))]
    passes = []
    nt = Notation()
    for q, sweep in enumerate(trace.passes):
        rows = [{"name": f"w{row.node + 1}",
                 "equation": equation(trace, row, nt),
                 "seeds": [f"{'x' if trace.mode == 'forward' else 'y'}{s + 1}" for s in row.seeds],
                 "terms": [{"from": f"w{(t.j if trace.mode == 'forward' else t.i) + 1}", "rule": t.rule,
                            "c": number(t.c)} for t in row.terms],
                 "value": number(row.value),
                 "structurally_zero": row.zero} for row in sweep.rows]
        derivatives = {f"w{row.node + 1}": number(row.value) for row in sorted(sweep.rows, key=lambda r: r.node)}
        passes.append({"seed": [json_number(s) for s in sweep.seed], "label": pass_label(trace, q),
                       "derivatives": derivatives, "rows": rows})
    return {"mode": trace.mode, "nodes": nodes, "passes": passes}


# --- tables ----------------------------------------------------------------------------------
PLAIN_WIDTH = 120      # piped output: wider pass tables put one term per line (a long sum is one tall row)

def tables(report: Report, p: int, digits: int, unicode: bool, plain: bool = False) -> list[Any]:
    """Rich renderables for point p: the primal sweep, then one table per pass."""
    from rich.text import Text

    trace = build(report, p)
    graph = trace.graph
    nt = Notation(unicode)

    def num(v: float, style: str = "") -> Text:
        return Text(format_number(v, digits), style="bold red" if not np.isfinite(v) else style)

    parts: list[Any] = [Text(f"evaluation trace (primal sweep) at {point_text(graph, trace.point)}", style="bold")]
    primal = _new_table(plain)
    for header, justify in (("variable", "left"), ("definition", "left"), ("at this point", "left"),
                            ("value", "right"), ("", "left")):
        primal.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for i in range(len(graph)):
        role = ["input"] if i < graph.n else []
        role += [f"output y{k + 1}" for k in trace.outputs_at(i)]
        primal.add_row(Text(f"w{i + 1}"), Text(nt.math(graph.definition(i))),
                       Text(nt.math(definition_at(trace, i, digits))), num(trace.w[i]), Text(", ".join(role)))
    for k, out in enumerate(graph.outputs):
        if isinstance(out, Const):
            primal.add_row(Text(f"y{k + 1}"), Text("a constant"), Text(""), num(out.value), Text(f"output y{k + 1}"))
    parts.append(primal)

    width = PLAIN_WIDTH if plain else _terminal_width()
    for q in range(len(trace.passes)):
        parts.append(Text(""))
        parts.append(Text(pass_heading(trace, q, nt, digits), style="bold"))
        table = pass_table(trace, q, nt, digits, plain)
        if _width(table).maximum > width:                            # too wide: one term per line
            table = pass_table(trace, q, nt, digits, plain, stacked=True)
            if _width(table).minimum > width:                        # still too wide: let terms wrap
                table = pass_table(trace, q, nt, digits, plain, stacked=True, whole_terms=False)
        parts.append(table)
    parts.append(Text(""))
    return parts


def pass_table(trace: Trace, q: int, nt: Notation, digits: int, plain: bool, stacked: bool = False,
               whole_terms: bool = True) -> Any:
    """One pass as a Rich table: derivative, rule, rule with numbers, value, entry of J.

    ``stacked`` puts each term of a sum on a line of its own, the rule and its numbers
    side by side, so that a narrow terminal wraps between terms; ``whole_terms`` keeps
    each column as wide as its widest term (dropped only when the terminal is narrower).
    """
    from rich.cells import cell_len
    from rich.text import Text

    forward = trace.mode == "forward"
    sweep = trace.passes[q]
    rules = [equation_terms(trace, row, nt) for row in sweep.rows]
    numbers = [equation_terms_at(trace, row, q, digits, nt) for row in sweep.rows]

    def widest(cells: list[list[str]]) -> int | None:
        return max((cell_len(piece) for pieces in cells for piece in pieces), default=0) if stacked and whole_terms else None

    table = _new_table(plain)
    table.add_column("tangent" if forward else "adjoint")
    table.add_column(rule_heading(trace.mode, nt), overflow="fold", min_width=widest(rules))
    table.add_column("at this point", overflow="fold", min_width=widest(numbers))
    table.add_column("value", justify="right")
    table.add_column(entry_heading(trace.mode, sweep.identity, nt))
    join = "\n" if stacked else " "
    for row, rule, at in zip(sweep.rows, rules, numbers):
        marks = result_marks(trace, row, q)
        value = row.value
        style = "bold red" if not np.isfinite(value) else "bold" if marks else "dim" if row.zero else ""
        table.add_row(Text(nt.derivative(trace.mode, row.node), style="bold" if marks else ""),
                      Text(join.join(rule)), Text(join.join(at)),
                      Text(format_number(value, digits), style=style), Text(nt.math(", ".join(marks)), style="bold"))
    return table


def rule_heading(mode: str, nt: Notation) -> str:
    """The head of a pass table's rule column: the chain rule the rows spell out."""
    if mode == "forward":
        return nt.math(f"rule: Σ ∂wi/∂wj·w{DOT}j")
    return nt.math(f"rule: Σ w{BAR}i·∂wi/∂wj over successors i")


def entry_heading(mode: str, identity: bool, nt: Notation) -> str:
    """The head of a pass table's last column: what a marked value is an entry of."""
    return nt.math("entry of J" if identity else "entry of J·v" if mode == "forward" else "entry of vᵀ·J")


def _terminal_width() -> int:
    from rich.console import Console

    return Console().width


def _width(table: Any) -> Any:
    """The table's Measurement: ``maximum`` when nothing wraps, ``minimum`` when all that can wrap does."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console(width=1_000_000)
    return Measurement.get(console, console.options, table)


def _new_table(plain: bool) -> Any:
    if plain:
        return PlainTable()
    from .render import new_table

    return new_table(plain=False)


class PlainTable:
    """A Markdown table, drawn as render.new_table(plain=True) draws it, but in linear time.

    Rich takes seconds for the thousands of rows a large trace has; piped output needs
    no styles or wrapping, so this writes the lines itself (``tests/test_trace.py``
    checks it against Rich).  Cells may hold several lines; styles are ignored.
    """

    def __init__(self) -> None:
        self.headers: list[str] = []
        self.justify: list[str] = []
        self.rows: list[list[str]] = []
        self._widths: list[int] | None = None

    def add_column(self, header: str = "", justify: str = "left", **_: Any) -> None:
        self.headers.append(header)
        self.justify.append(justify)
        self._widths = None

    def add_row(self, *cells: Any) -> None:
        self.rows.append([getattr(cell, "plain", cell) for cell in cells])
        self._widths = None

    def widths(self) -> list[int]:
        from rich.cells import cell_len

        if self._widths is None:
            widths = [cell_len(h) for h in self.headers]
            for row in self.rows:
                for c, cell in enumerate(row):
                    widths[c] = max(widths[c], *(cell_len(line) for line in cell.split("\n")))
            self._widths = widths
        return self._widths

    def lines(self) -> list[str]:
        from rich.cells import cell_len

        widths = self.widths()

        def line(cells: list[str]) -> str:
            padded = []
            for text, width, justify in zip(cells, widths, self.justify):
                gap = " " * (width - cell_len(text))
                padded.append(gap + text if justify == "right" else text + gap)
            return "| " + " | ".join(padded) + " |"

        out = ["", line(self.headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        for row in self.rows:
            split = [cell.split("\n") for cell in row]
            for k in range(max(len(lines) for lines in split)):
                out.append(line([lines[k] if k < len(lines) else "" for lines in split]))
        return [*out, ""]                    # Rich's Markdown box has blank top and bottom edges

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        width = sum(self.widths()) + 3 * len(self.headers) + 1
        return Measurement(width, width)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment

        for text in self.lines():
            yield Segment(text)
            yield Segment.line()
