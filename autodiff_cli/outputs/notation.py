"""The notation every printer shares: how a trace, a heading or a label is written.

Unicode as in lecture notes (ẇ4, w̄4, ·, −, √) or plain ASCII (w_dot4, w_bar4, *, -).
Everything here is built from the models' structure (graph, Trace, Term.i/k and the
primitives table's rule templates), never by reading back text another printer wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.graph import Const, Graph, format_number, read
from ..core.primitives import PRIMITIVES, ascii_math

if TYPE_CHECKING:                  # the trace models: a plain table of J does not load them
    from ..trace import Row, Term, Trace


def _label(graph: Graph, k: int, limit: int = 40) -> str:
    label = graph.labels[k]
    if len(label) > limit:
        label = label[: limit - 1] + "…"
    return label if graph.m == 1 else f"{letters(graph)[1]}{k + 1} = {label}"


# The letters of the Wengert variables (w1, ẇ1, w̄1) and of the outputs (y1, ȳ1, ∂y1/∂x), in
# order of preference: an input named like one of them (y1, w2, w_bar3) takes the next.
WENGERT_LETTERS = ("w", "v", "u", "t", "s")
OUTPUT_LETTERS = ("y", "f", "g", "h", "z")


def _taken(graph: Graph, letter: str) -> list[str]:
    """The inputs that read as this letter's variables: y1, y_2, y_bar1, y_dot1."""
    pattern = re.compile(rf"{letter}(_?dot|_?bar)?_?\d+")
    return [name for name in graph.inputs if pattern.fullmatch(name)]


def letters(graph: Graph) -> tuple[str, str]:
    """(Wengert letter, output letter): w and y unless an input's name would read as one of
    their variables; then the first free one of WENGERT_LETTERS, OUTPUT_LETTERS."""
    w = next((c for c in WENGERT_LETTERS if not _taken(graph, c)), WENGERT_LETTERS[-1])
    y = next((c for c in OUTPUT_LETTERS if not _taken(graph, c)), OUTPUT_LETTERS[-1])
    return w, y


def renamed(graph: Graph) -> str:
    """What ``letters`` renamed and why, for a note; empty when nothing was."""
    w, y = letters(graph)
    said = []
    if y != "y":
        said.append(f"the outputs are called {y}1, {y}2, … instead of y1, y2, …")
    if w != "w":
        said.append(f"the Wengert variables {w}1, {w}2, … instead of w1, w2, …")
    if not said:
        return ""
    names = [name for c in ("y", "w") for name in _taken(graph, c)]
    return f"{' and '.join(said)}, since the inputs include {', '.join(names)}"


def notation_for(graph: Graph, unicode: bool = True) -> Notation:
    """The notation for this graph's trace: its letters (``letters``), Unicode or ASCII."""
    w, y = letters(graph)
    return Notation(unicode, w, y)


DOT, BAR = "\u0307", "\u0304"                  # combining dot above, combining macron


_SLOT = re.compile(r"\{([wabc])\}")


@dataclass(frozen=True)
class Notation:
    """How the trace is spelled: ẇ4 and w̄4 (Unicode combining marks), or w_dot4 and w_bar4
    in plain ASCII.  ``outputs.latex.LatexNotation`` spells the same structure in LaTeX.

    Everything is written from structure: variables by index, numbers by value, and the
    primitives table's templates (``{b}·{a}^({b}−1)``) with their slots filled.
    """

    unicode: bool = True
    wengert: str = "w"            # the letter of w1, ẇ1, w̄1 (``letters``: another if an input is named w1)
    output: str = "y"             # the letter of y1, ȳ1, ∂y1/∂x
    times = "·"
    minus = "−"

    def mark(self, letter: str, kind: str, index: int) -> str:
        if self.unicode:
            return f"{letter}{DOT if kind == 'dot' else BAR}{index + 1}"
        return f"{letter}_{kind}{index + 1}"

    def derivative(self, mode: str, i: int) -> str:
        """ẇ_i (forward) or w̄_i (reverse), 1-based on screen."""
        return self.mark(self.wengert, "dot" if mode == "forward" else "bar", i)

    def seed(self, mode: str, s: int) -> str:
        """ẋ_j (forward) or ȳ_k (reverse)."""
        return self.mark("x", "dot", s) if mode == "forward" else self.mark(self.output, "bar", s)

    def variable(self, i: int) -> str:
        return f"{self.wengert}{i + 1}"

    def bar_dot(self, i: int) -> str:
        """w̄̇_i, the tangent of the adjoint w̄_i (second order)."""
        if self.unicode:
            return f"{self.wengert}{BAR}{DOT}{i + 1}"
        return f"{self.wengert}_bar_dot{i + 1}"

    def c_dot(self, i: int, j: int) -> str:
        """ċ_ij, the tangent of the local partial c_ij = ∂w_i/∂w_j."""
        return f"c{DOT}{i + 1},{j + 1}" if self.unicode else f"c_dot{i + 1},{j + 1}"

    def c_partial(self, i: int, j: int, q: int) -> str:
        """∂c_ij/∂w_q."""
        return f"∂c{i + 1},{j + 1}/∂{self.variable(q)}" if self.unicode else f"dc{i + 1},{j + 1}/d{self.variable(q)}"

    def input(self, name: str) -> str:
        return name

    def constant(self, name: str) -> str:
        """A named constant: π and e (ASCII: pi and e)."""
        return "π" if name == "pi" and self.unicode else name

    def number(self, value: float, digits: int = 17) -> str:
        return format_number(float(value), digits)

    def template(self, text: str) -> str:
        """A template of the primitives table in this notation, its slots kept."""
        return text

    def fill(self, template: str, slots: dict[str, str]) -> str:
        """Fill {w}, {a}, {b}; a negative number is parenthesized unless the slot already is: cos(-1), (-2)²."""

        def put(m: re.Match[str]) -> str:
            text = slots[m.group(1)]
            wrapped = template[m.start() - 1 : m.start()] == "(" and template[m.end() : m.end() + 1] == ")"
            return f"({text})" if text.startswith("-") and not wrapped else text

        return _SLOT.sub(put, template)

    def entry(self, k: int, name: str) -> str:
        """An entry of J: ∂y1/∂x1."""
        return f"∂{self.output}{k + 1}/∂{self.input(name)}"

    def product_entry(self, product: str, index: int) -> str:
        """An entry of J·v or vᵀ·J: (J·v)1."""
        return f"({product}){index + 1}"

    def math(self, text: str) -> str:
        """A finished piece of notation, spelled for the output: Unicode as it is, else ASCII."""
        return text if self.unicode else ascii_math(text)


UNICODE = Notation()


def _slots(graph: Graph, i: int, show: Any) -> dict[str, str]:
    """{w}, {a}, {b} of op i, each written by ``show(arg)``."""
    op = graph.tape[i - graph.n]
    slots = {"w": show(i)}
    slots.update(zip("abc", (show(a) for a in op.args)))
    return slots


def _names(nt: Notation, graph: Graph) -> Any:
    """Each argument by name: w4, π or e (a named constant), else the constant's number."""
    def show(a: Any) -> str:
        if not isinstance(a, Const):
            return nt.variable(a)
        name = graph.constant_name(a.value)
        return nt.constant(name) if name else nt.number(a.value)

    return show


def _numbers(nt: Notation, w: tuple[float, ...], digits: int) -> Any:
    return lambda a: nt.number(float(read(w, a)), digits)


def definition(graph: Graph, i: int, nt: Notation = UNICODE) -> str:
    """The right-hand side of w_i on paper: the input's name, else ``w1·w2``, ``sin(w1)``."""
    if i < graph.n:
        return nt.input(graph.inputs[i])
    op = graph.tape[i - graph.n]
    slots = {k: ("(-0)" if isinstance(a, Const) and a.value == 0 and str(a.value).startswith("-")   # x/(-0)
                 else _names(nt, graph)(a)) for k, a in zip("abc", op.args)}
    shown = nt.fill(nt.template(PRIMITIVES[op.prim].show), slots)
    name = graph.named(i)
    return f"{nt.input(name)} = {shown}" if name else shown      # w5 = r = √(w3 + w4): the program's name


def partial_rule(graph: Graph, i: int, k: int, nt: Notation = UNICODE, template: str | None = None) -> str:
    """∂w_i/∂(argument k) on paper, over variable names: ``cos(w1)``."""
    rule = PRIMITIVES[graph.tape[i - graph.n].prim].rules[k] if template is None else template
    return nt.fill(nt.template(rule), _slots(graph, i, _names(nt, graph)))


def partial_at(trace: Trace, term: Term, digits: int = 6, nt: Notation = UNICODE, template: str | None = None) -> str:
    """The same rule with the point's numbers: ``cos(1)``."""
    graph = trace.graph
    rule = PRIMITIVES[graph.tape[term.i - graph.n].prim].rules[term.k] if template is None else template
    return nt.fill(nt.template(rule), _slots(graph, term.i, _numbers(nt, trace.w, digits)))


def definition_at(trace: Trace, i: int, digits: int = 6, nt: Notation = UNICODE) -> str:
    """The definition with the point's numbers: ``sin(1)``, ``1·2``; empty for inputs."""
    graph = trace.graph
    if i < graph.n:
        return ""
    return nt.fill(nt.template(PRIMITIVES[graph.tape[i - graph.n].prim].show), _slots(graph, i, _numbers(nt, trace.w, digits)))


def _sum(parts: list[tuple[bool, str]], nt: Notation) -> list[str]:
    """["a", "+ b", "− c"] from (negative, text) pairs: a sum, cut between its terms; ["0"] for none."""
    if not parts:
        return ["0"]
    pieces = [(nt.minus if parts[0][0] else "") + parts[0][1]]
    pieces += [f"{nt.minus} {text}" if negative else f"+ {text}" for negative, text in parts[1:]]
    return pieces


def _top_level_sum(text: str) -> bool:
    """Whether ``text`` has a binary + or − outside parentheses: 1 + {w}² does, −sin({a}) does not."""
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


def _product(template: str, factor: str, forward: bool, show: Any, nt: Notation) -> tuple[bool, str]:
    """(negative, text) of c·ẇ_j (forward) or w̄_i·c (reverse): a factor 1 is dropped, −1 is a minus.

    The decisions follow the primitives table's ``template`` for c (the structure of the
    rule); ``show(template)`` writes it, over names or over the point's numbers, so that
    w1·ẇ2 becomes 1·0 and never just 0.
    """
    negative = template[:1] == "−" and not _top_level_sum(template[1:])
    if negative:
        template = template[1:]
    if template == "1":
        return negative, factor
    shown = show(template)
    if _top_level_sum(template) or _top_level(template, "/"):
        shown = f"({shown})"                       # (1 + w4²)·ẇ3, (1/w6)·ẇ6 and w̄8·(1/w6): one convention
    return negative, f"{shown}{nt.times}{factor}" if forward else f"{factor}{nt.times}{shown}"


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _rule_of(trace: Trace, t: Term) -> str:
    return PRIMITIVES[trace.graph.tape[t.i - trace.graph.n].prim].rules[t.k]


def equation(trace: Trace, row: Row, notation: Notation | None = None) -> str:
    """The row's rule: ``w2·ẇ1 + w1·ẇ2`` (forward), ``w̄3·cos(w1) + w̄4·w2 + w̄5`` (reverse)."""
    return " ".join(equation_terms(trace, row, notation))


def equation_at(trace: Trace, row: Row, q: int, digits: int = 6, notation: Notation | None = None) -> str:
    """The rule with the numbers of this point and pass q: ``2·1 + 1·0``, ``1·cos(1) + 1·2 + 0``."""
    return " ".join(equation_terms_at(trace, row, q, digits, notation))


def equation_terms(trace: Trace, row: Row, notation: Notation | None = None) -> list[str]:
    """The rule cut between terms: ["w̄3·cos(w1)", "+ w̄4·w2", "+ w̄5"]."""
    nt = notation or UNICODE
    forward = trace.mode == "forward"
    parts = [(False, nt.seed(trace.mode, s)) for s in row.seeds]
    for t in row.terms:
        show = lambda template, t=t: partial_rule(trace.graph, t.i, t.k, nt, template)
        parts.append(_product(_rule_of(trace, t), nt.derivative(trace.mode, t.j if forward else t.i), forward, show, nt))
    return [nt.math(piece) for piece in _sum(parts, nt)]


def equation_terms_at(trace: Trace, row: Row, q: int, digits: int = 6, notation: Notation | None = None) -> list[str]:
    """The substituted rule cut between terms, term for term as ``equation_terms``."""
    nt = notation or UNICODE
    forward = trace.mode == "forward"
    seed = trace.passes[q].seed
    parts = [(False, _paren(nt.number(seed[s], digits))) for s in row.seeds]
    for t in row.terms:
        show = lambda template, t=t: partial_at(trace, t, digits, nt, template)
        parts.append(_product(_rule_of(trace, t), _paren(nt.number(t.other, digits)), forward, show, nt))
    return [nt.math(piece) for piece in _sum(parts, nt)]


def pass_heading(trace: Trace, q: int, notation: Notation | None = None, digits: int = 6) -> str:
    """'pass 1 of 2: ẇ1 = 1, ẇ2 = 0  (column 1 of J: ∂/∂x1)' or '... w̄6 = 1, w̄7 = 0  (row 1 of J: ∇y1)'."""
    nt = notation or UNICODE
    count = f"pass {q + 1} of {len(trace.passes)}"
    return nt.math(f"{count}: {pass_seeds(trace, q, nt, digits)}  ({pass_label(trace, q, nt)})")


def pass_seeds(trace: Trace, q: int, notation: Notation | None = None, digits: int = 6) -> str:
    """The seed of pass q: 'ẇ1 = 1, ẇ2 = 0' or 'w̄6 = 1, w̄7 = 0' (by ȳ when outputs repeat)."""
    nt = notation or UNICODE
    graph, sweep = trace.graph, trace.passes[q]
    if trace.mode == "forward":
        seeds = [f"{nt.derivative('forward', j)} = {nt.number(v, digits)}" for j, v in enumerate(sweep.seed)]
    else:
        nodes = [out for out in graph.outputs if not isinstance(out, Const)]
        if len(set(nodes)) == graph.m:             # distinct nodes: name them by w̄
            seeds = [f"{nt.derivative('reverse', out)} = {nt.number(v, digits)}"
                     for out, v in zip(nodes, sweep.seed)]
        else:                                      # repeated or constant outputs: by ȳ
            seeds = [f"{nt.seed('reverse', k)} = {nt.number(v, digits)}" for k, v in enumerate(sweep.seed)]
    return ", ".join(seeds) or "no seed"


def pass_label(trace: Trace, q: int, nt: Notation = UNICODE) -> str:
    """What the pass computes: 'column 1 of J: ∂/∂x1', 'row 2 of J: ∇y2', 'J·v', 'vᵀ·J'."""
    sweep = trace.passes[q]
    if trace.colouring is not None:                # colour q: the sum of its columns (rows) of J
        members = trace.colouring.members(q)
        if trace.mode == "forward":
            return f"column {q + 1} of J·S: " + " + ".join(f"∂/∂{trace.graph.inputs[j]}" for j in members)
        return f"row {q + 1} of Wᵀ·J: " + " + ".join(f"∇{nt.output}{k + 1}" for k in members)
    if trace.mode == "forward":
        if not sweep.identity:
            return "J·v, one forward pass"
        return f"column {q + 1} of J: ∂/∂{trace.graph.inputs[q]}"
    if not sweep.identity:
        return "vᵀ·J, one reverse pass"
    return f"row {q + 1} of J: ∇{nt.output}{q + 1}"


def result_marks(trace: Trace, row: Row, q: int, nt: Notation = UNICODE) -> list[str]:
    """The entries of J (or of J·v, vᵀ·J) that a row's value is: ∂y1/∂x1, ..."""
    graph, sweep = trace.graph, trace.passes[q]
    if trace.colouring is not None:
        found = trace.coloured_entry(q, row.node)
        return [] if found is None else [nt.entry(found[0], graph.inputs[found[1]])]
    if trace.mode == "forward":
        ks = trace.outputs_at(row.node)
        if sweep.identity:
            return [nt.entry(k, graph.inputs[sweep.q]) for k in ks]
        return [nt.product_entry("J·v", k) for k in ks]
    if row.node >= graph.n:
        return []
    if sweep.identity:
        return [nt.entry(sweep.q, graph.inputs[row.node])]
    return [nt.product_entry("vᵀ·J", row.node)]


def numbering_note(graph: Graph, nt: Notation) -> str:
    """How the Wengert variables are numbered, for a trace's heading: '(w numbered by depth)'."""
    how = "in order of appearance" if graph.numbering == "appearance" else "by depth"
    return f"({nt.wengert} numbered {how})"


def rule_heading(mode: str, nt: Notation) -> str:
    """The head of a pass table's rule column: the chain rule the rows spell out."""
    w = nt.wengert
    if mode == "forward":
        return nt.math(f"rule: Σ ∂{w}i/∂{w}j·{w}{DOT}j")
    return nt.math(f"rule: Σ {w}{BAR}i·∂{w}i/∂{w}j over successors i")


def entry_heading(mode: str, identity: bool, nt: Notation) -> str:
    """The head of a pass table's last column: what a marked value is an entry of."""
    return nt.math("entry of J" if identity else "entry of J·v" if mode == "forward" else "entry of vᵀ·J")


def passes_of(report: Any) -> str:
    """How a report's passes ran (a Report or a symbolic one): 'reverse mode: 2 passes, one per output'."""
    if getattr(report, "order", 1) == 2:
        count = report.n_passes
        plural = "es" if count != 1 else ""
        if report.kind == "hvp":
            per = "for H·v of the outputs weighted by the seed" if report.seed is not None else "one per output, for H·v"
        else:
            per = ("one per input, for the outputs weighted by the seed" if report.seed is not None
                   else "one per input and output")
        return f"forward-over-reverse: {count} pass{plural}, {per}"
    colouring = getattr(report, "colouring", None)
    if colouring is not None and report.seed is None:      # 'forward mode: 3 passes (50 columns in 3 colours)'
        count = report.n_passes
        return f"{report.mode} mode: {count} pass{'es' if count != 1 else ''} ({colouring.describe()})"
    return passes_text(report.mode, report.n_passes, report.seed is not None)


def passes_text(mode: str, count: int, seeded: bool) -> str:
    """'reverse mode: 2 passes, one per output', or 'forward mode: 1 pass, seeded (J·v)'."""
    if seeded:
        return f"{mode} mode: 1 pass, seeded ({'J·v' if mode == 'forward' else 'vᵀ·J'})"
    per = "input" if mode == "forward" else "output"
    return f"{mode} mode: {count} pass{'es' if count != 1 else ''}, one per {per}"




# --- second order: the w̄̇ rows and the ċ of each edge ----------------------------------------
def second_terms(trace: Trace, row: Any, at: bool = False, digits: int = 6, notation: Notation | None = None) -> list[str]:
    """w̄̇_j = Σ_i (w̄̇_i·c_ij + w̄_i·ċ_ij) cut between terms: ["w̄̇4·w2", "+ w̄4·ċ4,1"]; ``at``:
    with the point's numbers, term for term.  ``trace`` is the pass's adjoint trace (for c)."""
    nt = notation or UNICODE
    parts: list[tuple[bool, str]] = []
    for t in row.terms:
        template = PRIMITIVES[trace.graph.tape[t.i - trace.graph.n].prim].rules[t.k]
        from ..trace import Term

        term = Term(t.i, row.node, t.k, t.c, t.w_bar_dot)
        if at:
            show = lambda tpl, term=term: partial_at(trace, term, digits, nt, tpl)
            parts.append(_product(template, _paren(nt.number(t.w_bar_dot, digits)), False, show, nt))
            if t.curved:
                parts.append((False, f"{_paren(nt.number(t.w_bar, digits))}{nt.times}{_paren(nt.number(t.c_dot, digits))}"))
        else:
            show = lambda tpl, term=term: partial_rule(trace.graph, term.i, term.k, nt, tpl)
            parts.append(_product(template, nt.bar_dot(t.i), False, show, nt))
            if t.curved:
                parts.append((False, f"{nt.derivative('reverse', t.i)}{nt.times}{nt.c_dot(t.i, row.node)}"))
    return [nt.math(piece) for piece in _sum(parts, nt)]


def curvature_terms(c: Any, at: bool = False, digits: int = 6, notation: Notation | None = None) -> list[str]:
    """ċ_ij = Σ_q ∂c_ij/∂w_q·ẇ_q cut between terms; ``at``: with the point's numbers."""
    nt = notation or UNICODE
    if at:
        parts = [(False, f"{_paren(nt.number(t.s, digits))}{nt.times}{_paren(nt.number(t.w_dot, digits))}")
                 for t in c.terms]
    else:
        parts = [(False, f"{nt.c_partial(c.i, c.j, t.q)}{nt.times}{nt.derivative('forward', t.q)}") for t in c.terms]
    return [nt.math(piece) for piece in _sum(parts, nt)]


def second_marks(trace: Trace, node: int, b: int | None, k: int | None, nt: Notation = UNICODE) -> list[str]:
    """The entries of H (or of H·v) that a w̄̇ row's value is: ∂²y1/∂x1∂x2, (H·v)1."""
    graph = trace.graph
    if node >= graph.n:
        return []
    y = f"{nt.output}{k + 1}" if k is not None else f"ȳ·{nt.output}"
    if b is None:
        return [f"(H{k + 1}·v){node + 1}" if k is not None else f"((Σ ȳk·Hk)·v){node + 1}"]
    return [f"∂²{y}/∂{graph.inputs[node]}∂{graph.inputs[b]}"]
