"""Reports → LaTeX: the Jacobian as a ``pmatrix`` at its point, ready for a homework or a lecture note.

The output is plain ASCII LaTeX needing only ``amsmath`` and ``booktabs``; ``standalone``
wraps it in a complete article that pdflatex compiles.  Text typed by the user (the
expression, input names) is data: it is escaped and set in ``\\texttt``, never passed to
TeX as code.  The paper notation of the primitives table and the trace (``w1·w2``,
``cos(w1)``, ``1/√(1 − w1²)``, ``ẇ4``, ``w̄4``) is translated to math by ``math``.
"""

from __future__ import annotations

import functools
import math as _math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from .. import trace as tracing
from ..core.graph import Const, Graph, format_number
from ..report import Report
from .sink import Sink, Style

if TYPE_CHECKING:
    from ..symbolic import SymbolicReport
    from ..uncertainty import Propagation, UncertaintyFormulas

from .notation import (
    Notation,
    definition,
    definition_at,
    equation,
    equation_terms,
    equation_terms_at,
    letters,
    pass_seeds,
    passes_of,
    result_marks,
)

PREAMBLE = "\\usepackage{amsmath}\n\\usepackage{booktabs}"

_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%", "#": r"\#",
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
    # our own notation, should it reach text mode
    "·": r"$\cdot$", "−": "-", "…": r"\ldots{}", "∂": r"$\partial$", "²": r"\textsuperscript{2}", "ᵀ": r"\textsuperscript{T}",
}

_GREEK = frozenset("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
                   "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())

# Greek letters typed as such (θ), by their names: the letters of U+0391 … U+03C9 that have one.
_UNICODE_GREEK = {chr(0x3B1 + k): name for k, name in enumerate(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho varsigma sigma tau "
    "upsilon phi chi psi omega".split()) if name not in ("omicron", "varsigma")}
_UNICODE_GREEK.update({"Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma",
                       "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega"})

# Function names in the paper notation → LaTeX operators.
_OPERATORS = {
    "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "exp": r"\exp", "ln": r"\ln", "log": r"\log",
    "sinh": r"\sinh", "cosh": r"\cosh", "tanh": r"\tanh", "asin": r"\arcsin", "acos": r"\arccos",
    "atan": r"\arctan", "log2": r"\log_{2}", "log10": r"\log_{10}", "sign": r"\operatorname{sign}",
    "asinh": r"\operatorname{arsinh}", "acosh": r"\operatorname{arcosh}", "atanh": r"\operatorname{artanh}",
    "sigmoid": r"\sigma", "cbrt": r"\sqrt[3]", "sqrt": r"\sqrt",
    "max": r"\max", "min": r"\min", "atan2": r"\operatorname{atan2}", "hypot": r"\operatorname{hypot}",
    "if": r"\operatorname{if}", "and": r"\wedge", "or": r"\vee", "not": r"\neg",
}

_TOKEN = re.compile(r"""
    (?P<bar>w(?:\u0304|_bar)(?P<bar_i>\d+))            # w̄4, w_bar4: an adjoint
  | (?P<dot>(?:\u1e87|w\u0307|w_dot)(?P<dot_i>\d+))    # ẇ4, w_dot4: a tangent
  | (?P<xdot>(?:x\u0307|ẋ)(?P<xdot_i>\d*))             # ẋ1: a seed
  | (?P<ybar>(?:y\u0304|\u0233)(?P<ybar_i>\d*))        # ȳ1: a seed
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<space>\s+)
  | (?P<char>.)
""", re.VERBOSE)


def escape(text: str) -> str:
    """``text`` for LaTeX text mode, every special character escaped (user text is data)."""
    return "".join(_TEXT_ESCAPES.get(ch, ch) if ord(ch) < 128 or ch in _TEXT_ESCAPES else _unicode(ch)
                   for ch in text)


def _unicode(ch: str) -> str:
    """A non-ASCII character pdflatex may not know: its code point, visibly."""
    return f"\\textless{{}}U+{ord(ch):04X}\\textgreater{{}}"


def texttt(text: str) -> str:
    """User text set in typewriter type, as typed."""
    return f"\\texttt{{{escape(text)}}}"


def name(text: str) -> str:
    """An identifier as math: ``x1`` → ``x_{1}``, ``theta`` → ``\\theta``, ``rate`` → ``\\mathit{rate}``."""
    text = "".join(_UNICODE_GREEK.get(ch, ch) for ch in text)         # θ → theta, then as any name
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)", text) or re.fullmatch(r"([A-Za-z]+)\[(\d+)\]", text)   # x1, x_1, x[1]
    stem, index = (m.group(1), m.group(2)) if m else (text, "")
    if stem in _GREEK:
        stem = "\\" + stem
    elif len(stem) > 1 or not stem.isalpha():
        stem = f"\\mathit{{{escape(stem)}}}"
    return f"{stem}_{{{index}}}" if index else stem


def number(value: float, digits: int = 17) -> str:
    """A number in math mode: ``2.5``, ``-1.2 \\times 10^{-7}``, ``\\infty``, ``\\text{NaN}``."""
    v = float(value)
    if _math.isnan(v):
        return r"\text{NaN}"
    if _math.isinf(v):
        return r"\infty" if v > 0 else r"-\infty"
    text = format_number(v, digits)
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else f"-{power}" if mantissa == "-1" else f"{mantissa} \\times {power}"


def math(text: str) -> str:
    """Our paper notation (as printed by the table and the trace) → LaTeX math, without the $ signs.

    ``w4 = w1·w2`` → ``w_{4} = w_{1} \\cdot w_{2}``; ``ẇ3 = cos(w1)·ẇ1`` → ``\\dot{w}_{3} = \\cos(w_{1})
    \\cdot \\dot{w}_{1}``; ``1/√(1 − w1²)`` → ``1/\\sqrt{1 - w_{1}^{2}}``; ``w1^(2−1)`` → ``w_{1}^{2-1}``.
    """
    tokens = [(m.lastgroup or "char", m) for m in _TOKEN.finditer(text.replace("==", "="))]
    out, _ = _convert(tokens, 0, None)
    return " ".join(out.split())


def _convert(tokens: list[tuple[str, Any]], k: int, until: str | None) -> tuple[str, int]:
    """Convert tokens from k up to the closing ``until`` (a ')' matched by depth); returns (latex, next k)."""
    parts: list[str] = []
    while k < len(tokens):
        kind, m = tokens[k]
        text = m.group(0)
        if kind == "char" and text == until:
            return "".join(parts), k + 1
        k += 1
        if kind == "bar":
            parts.append(f"\\bar{{w}}_{{{m.group('bar_i')}}}")
        elif kind == "dot":
            parts.append(f"\\dot{{w}}_{{{m.group('dot_i')}}}")
        elif kind == "xdot":
            parts.append("\\dot{x}" + (f"_{{{m.group('xdot_i')}}}" if m.group("xdot_i") else ""))
        elif kind == "ybar":
            parts.append("\\bar{y}" + (f"_{{{m.group('ybar_i')}}}" if m.group("ybar_i") else ""))
        elif kind == "num":
            shown = number(float(text))
            if "^" in shown and _next_is_power(tokens, k):       # (10^{-9})^{4}, never a double superscript
                shown = f"({shown})"
            parts.append(shown)
        elif kind == "name":
            if text in ("sqrt", "cbrt"):                     # sqrt(...) → \sqrt{...} (the ASCII spelling)
                body, k = _argument(tokens, k)
                parts.append(f"{_OPERATORS[text]}{{{body}}}")
            elif text in ("inf", "nan"):
                parts.append(number(float(text)))
            elif text in _OPERATORS:
                parts.append(_OPERATORS[text] + " ")
            else:
                parts.append(name(text))
        elif kind == "space":
            parts.append(" ")
        elif text in ("√", "∛"):                             # √(…) or √w1 → \sqrt{…}
            body, k = _argument(tokens, k)
            parts.append(("\\sqrt" if text == "√" else "\\sqrt[3]") + f"{{{body}}}")
        elif text == "^":                                    # a^(…) or a^b → a^{…}
            body, k = _argument(tokens, k)
            parts.append(f"^{{{body}}}")
        elif text == "(":
            body, k = _convert(tokens, k, ")")
            parts.append(f"({body})")
        else:
            parts.append(_SYMBOLS.get(text, "") or _escape_math(text))
    return "".join(parts), k


def _next_is_power(tokens: list[tuple[str, Any]], k: int) -> bool:
    while k < len(tokens) and tokens[k][0] == "space":
        k += 1
    return k < len(tokens) and tokens[k][1].group(0) in ("^", "²")


def _argument(tokens: list[tuple[str, Any]], k: int) -> tuple[str, int]:
    """The operand after √, ∛ or ^: a parenthesized group (parentheses dropped) or one atom."""
    while k < len(tokens) and tokens[k][0] == "space":
        k += 1
    if k < len(tokens) and tokens[k][1].group(0) == "(":
        return _convert(tokens, k + 1, ")")
    if k < len(tokens) and tokens[k][1].group(0) in ("−", "-") and k + 1 < len(tokens):   # x^-1
        body, k = _convert(tokens[k + 1 : k + 2], 0, None)[0], k + 2
        return "-" + body, k
    if k < len(tokens):
        body, _ = _convert(tokens[k : k + 1], 0, None)
        return body, k + 1
    return "", k


_SYMBOLS = {
    "·": r" \cdot ", "−": "-", "²": "^{2}", "σ": r"\sigma ", "∂": r"\partial ", "…": r"\ldots ", "|": "|",
    "+": " + ", "=": " = ", ",": ", ", "-": "-", "/": "/", ")": ")", "[": "[", "]": "]", "<": "<", ">": ">",
    "≤": r" \le ", "≥": r" \ge ", "≠": r" \ne ", "ᵀ": "^{\\top}", "'": "'", ":": ":", ";": ";", ".": ".", "*": r" \cdot ", "!": "!",
}


def _escape_math(ch: str) -> str:
    """Any other character in math mode: escaped as text."""
    return f"\\text{{{escape(ch)}}}"


# --- the trace's notation in LaTeX, from structure ------------------------------------------
_PLACEHOLDER = {"w": "SLOTw", "a": "SLOTa", "b": "SLOTb", "c": "SLOTc"}


@functools.cache
def template(text: str) -> str:
    r"""A template of the primitives table (``{b}·{a}^({b}−1)``, ``sin({a})``) in LaTeX, its
    slots kept: ``{b} \cdot {a}^{{b}-1}``.  The table's own templates are the only text
    ``math`` ever converts; names and numbers are filled in afterwards, already LaTeX."""
    marked = text
    for slot, mark in _PLACEHOLDER.items():
        marked = marked.replace("{" + slot + "}", mark)
    out = math(marked)
    for slot, mark in _PLACEHOLDER.items():
        out = out.replace(f"\\mathit{{{mark}}}", "{" + slot + "}")
    return out


_LATEX_SLOT = re.compile(r"\{([wabc])\}")


@dataclass(frozen=True)
class LatexNotation(Notation):
    """The trace's notation in LaTeX math: \\dot{w}_{4}, \\bar{w}_{4}, w_{1} \\cdot w_{2}.

    Input names go through ``name`` (so an input called w_bar1 is \\mathit{w\\_bar1}, never
    an adjoint); variables, derivatives and seeds are written from their indices."""

    times = r" \cdot "
    minus = "-"

    def mark(self, letter: str, kind: str, index: int) -> str:
        return f"\\{kind}{{{letter}}}_{{{index + 1}}}"

    def variable(self, i: int) -> str:
        return f"{self.wengert}_{{{i + 1}}}"

    def input(self, text: str) -> str:
        return name(text)

    def number(self, value: float, digits: int = 17) -> str:
        return number(value, digits)

    def constant(self, name: str) -> str:
        return r"\pi" if name == "pi" else name

    def template(self, text: str) -> str:
        return template(text)

    def fill(self, template: str, slots: dict[str, str]) -> str:
        """As Notation.fill, in LaTeX: a negative number is parenthesized unless its slot is
        wrapped, (−2)² or a whole exponent ^{−2}; a power of ten before ^ is too: (10^{-9})^{4}."""

        def put(m: re.Match[str]) -> str:
            text = slots[m.group(1)]
            before, after = template[: m.start()], template[m.end() :]
            wrapped = (before.endswith("(") and after.startswith(")")) or (before.endswith("^{") and after.startswith("}"))
            if (text.startswith("-") and not wrapped) or ("^" in text and after.startswith("^")):
                return f"({text})"
            return text

        return _LATEX_SLOT.sub(put, template)

    def entry(self, k: int, text: str) -> str:
        return f"\\partial {self.output}_{{{k + 1}}}/\\partial {name(text)}"

    def product_entry(self, product: str, index: int) -> str:
        spelled = {"J·v": "J \\cdot v", "vᵀ·J": "v^{\\top} \\cdot J"}[product]
        return f"({spelled})_{{{index + 1}}}"

    def math(self, text: str) -> str:
        return " ".join(text.split())


LATEX = LatexNotation()


def latex_for(graph: Graph) -> LatexNotation:
    """The LaTeX notation with this graph's letters (``notation.letters``): an input named
    w2 or y1 never reads as a Wengert variable or an output."""
    w, y = letters(graph)
    return LatexNotation(True, w, y)


# --- blocks ---------------------------------------------------------------------------------
def pmatrix(rows: Iterable[Sequence[str]], indent: str = "  ") -> str:
    """A pmatrix, one row per line."""
    body = " \\\\\n".join(indent + "  " + " & ".join(row) for row in rows)
    return f"\\begin{{pmatrix}}\n{body}\n{indent}\\end{{pmatrix}}"


def function_block(graph: Graph) -> str:
    """f(x_1, x_2) = (the outputs typeset as mathematics, as they were typed)."""
    args = ", ".join(name(x) for x in graph.inputs)
    outputs = function_math(graph)
    if graph.m == 1:
        return f"\\[\n  f({args}) = {outputs[0]}\n\\]"
    return f"\\[\n  f({args}) = {pmatrix([[out] for out in outputs])}\n\\]"


# Binding strength of what ``function_math`` writes: a sum, a product, a unary minus, a
# power, an atom (a name, a number, a call, a fraction, anything in parentheses).
_LOGIC, _SUM, _PRODUCT, _NEG, _POWER, _ATOM = range(6)    # _LOGIC: a comparison, and, or, not
_RELATIONS = {"lt": "<", "le": r"\le", "gt": ">", "ge": r"\ge", "eq": "=", "ne": r"\ne",
              "and": r"\wedge", "or": r"\vee"}

# How each function of the language is set; ln and log are one function, always \ln.
_FUNCTION_TEX = {**_OPERATORS, "log": r"\ln", "sigmoid": r"\sigma"}


def function_math(graph: Graph) -> list[str]:
    """Each output of f as LaTeX math, from the structure of what was typed.

    The text is parsed again without folding constants, so ``pi*x`` stays ``\\pi x_{1}`` and
    ``2*3`` stays ``2 \\cdot 3``; constants are written as typed (their source span).  The
    nodes are set in tape order, each from its arguments' LaTeX and binding strength, so
    there is no recursion and nesting depth costs nothing.  Parentheses appear where the
    structure needs them (or where they were typed around a sum or product in a product).
    """
    from ..core.parse import parse

    g = parse(graph.text, graph.inputs, fold=False) if graph.text else graph
    done: list[tuple[str, int]] = [(name(x), _ATOM) for x in g.inputs]

    def const(c: Const) -> tuple[str, int]:
        literal = g.text[c.span[0] : c.span[1]] if c.span != (0, 0) else ""
        if literal and literal[0].isalpha():              # pi, e
            return name(literal), _ATOM
        shown = number(float(literal)) if literal else number(c.value)
        return shown, (_PRODUCT if "\\times" in shown else _POWER if "^" in shown else
                       _NEG if shown.startswith("-") else _ATOM)

    def arg(a: Any) -> tuple[str, int]:
        return const(a) if isinstance(a, Const) else done[a]

    def at_least(a: Any, strength: int) -> str:
        text, binds = arg(a)
        return text if binds >= strength else f"\\left({text}\\right)"

    for op in g.tape:
        prim, args = op.prim, op.args
        if prim in ("add", "sub"):
            sign = " + " if prim == "add" else " - "
            right = at_least(args[1], _PRODUCT)
            right = f"\\left({right}\\right)" if right.startswith("-") else right      # x - (-y), never x - -y
            done.append((at_least(args[0], _SUM) + sign + right, _SUM))
        elif prim == "mul":
            right = at_least(args[1], _POWER)
            glue = " \\cdot " if right[:1].isdigit() or right.startswith("\\frac") else " "
            done.append((at_least(args[0], _PRODUCT) + glue + right, _PRODUCT))
        elif prim == "div":
            done.append((f"\\frac{{{arg(args[0])[0]}}}{{{arg(args[1])[0]}}}", _ATOM))
        elif prim == "neg":
            done.append(("-" + at_least(args[0], _POWER), _NEG))
        elif prim == "pow":
            base = at_least(args[0], _ATOM)
            base = f"\\left({base}\\right)" if base.startswith("\\frac") else base        # (x/y)^2
            done.append((f"{base}^{{{arg(args[1])[0]}}}", _POWER))
        elif prim == "sqrt":
            done.append((f"\\sqrt{{{arg(args[0])[0]}}}", _ATOM))
        elif prim == "cbrt":
            done.append((f"\\sqrt[3]{{{arg(args[0])[0]}}}", _ATOM))
        elif prim == "abs":
            done.append((f"\\left|{arg(args[0])[0]}\\right|", _ATOM))
        elif prim == "exp" and not g.text[op.span[0] : op.span[1]].startswith("exp"):     # e^u, as typed
            done.append((f"e^{{{arg(args[0])[0]}}}", _POWER))
        elif prim in _RELATIONS:
            done.append((f"{at_least(args[0], _SUM)} {_RELATIONS[prim]} {at_least(args[1], _SUM)}", _LOGIC))
        elif prim == "not":
            done.append((f"\\neg {at_least(args[0], _ATOM)}", _LOGIC))
        elif prim == "if":
            cases = f"{arg(args[1])[0]} & \\text{{if }} {arg(args[0])[0]} \\\\ {arg(args[2])[0]} & \\text{{otherwise}}"
            done.append((f"\\begin{{cases}} {cases} \\end{{cases}}", _ATOM))
        else:
            inside = ", ".join(arg(a)[0] for a in args)
            done.append((f"{_FUNCTION_TEX[prim]}\\left({inside}\\right)", _ATOM))
    return [arg(out)[0] for out in g.outputs]


def jacobian_frac(graph: Graph) -> str:
    """∂(y_1, y_2)/∂(x_1, x_2) as a fraction, the name of J beside its matrix."""
    ys = ", ".join(f"{letters(graph)[1]}_{{{k + 1}}}" for k in range(graph.m))
    xs = ", ".join(name(v) for v in graph.inputs)
    ys, xs = (ys if graph.m == 1 else f"({ys})"), (xs if graph.n == 1 else f"({xs})")
    return f"\\frac{{\\partial {ys}}}{{\\partial {xs}}}"


def result_block(report: Report, p: int, digits: int) -> str:
    """The point, the values and the Jacobian (or the seeded product) at point p."""
    graph = report.graph
    fmt = lambda v: number(v, digits)
    xs = ", ".join(name(v) for v in graph.inputs)
    at = ", ".join(fmt(v) for v in report.points[p])
    if graph.n:
        where = f"$({xs}) = ({at})$" if graph.n > 1 else f"${xs} = {at}$"
        lines = [f"At {where} ({mode_text(report)}):"]
    else:
        lines = [f"A constant function ({mode_text(report)}):"]
    value = pmatrix([[fmt(v)] for v in report.values[p]]) if graph.m > 1 else fmt(report.values[p][0])
    body = [f"  f({at}) = {value}"]
    J = f"J_{{f}}({at})"
    if report.seed is not None and report.product is not None:
        if report.mode == "forward":                   # J·ẋ, a column
            seed = pmatrix([[fmt(v)] for v in report.seed])
            body.append(f"  {J}\\,\\dot{{x}} = {J}{seed} = {pmatrix([[fmt(v)] for v in report.product[p]])}")
        else:                                          # ȳᵀ·J, a row
            seed = pmatrix([[fmt(v) for v in report.seed]])
            body.append(f"  \\bar{{y}}^{{\\top}} {J} = {seed} {J} = {pmatrix([[fmt(v) for v in report.product[p]]])}")
    elif report.jacobian is not None and graph.n:
        body.append(f"  {J} = {jacobian_frac(graph)} = {pmatrix([[fmt(v) for v in row] for row in report.jacobian[p]])}")
    lines.append("\\[\n" + ",\\qquad\n".join(body) + "\n\\]")
    return "\n".join(lines)


def second_block(report: Report, p: int, digits: int) -> str:
    """--hessian or --hvp at point p: each output's gradient and Hessian (or H·v) as pmatrix."""
    graph = report.graph
    fmt = lambda v: number(v, digits)
    xs = ", ".join(name(v) for v in graph.inputs)
    at = ", ".join(fmt(v) for v in report.points[p])
    where = f"$({xs}) = ({at})$" if graph.n > 1 else f"${xs} = {at}$"
    lines = [f"At {where} ({escape(passes_of(report))}):"]
    seeded = report.seed is not None
    names = ["\\bar{y}^{\\top} y"] if seeded else [f"{letters(graph)[1]}_{{{k + 1}}}" for k in range(graph.m)]
    G = [report.gradient[p]] if seeded else list(report.gradient[p])
    S = [report.derivatives[p]] if seeded else list(report.derivatives[p])
    body = []
    for label, g, h in zip(names, G, S):
        grad = pmatrix([[fmt(v) for v in g]])
        if report.kind == "hvp":
            second = f"H_{{{label}}}\\,v = {pmatrix([[fmt(v)] for v in h])}"
        else:
            second = f"H_{{{label}}} = {pmatrix([[fmt(v) for v in row] for row in h])}"
        body.append(f"  \\nabla {label} = {grad},\\qquad {second}")
    lines.append("\\[\n" + ",\\\\\n".join(body) + "\n\\]")
    return "\n".join(lines)


def mode_text(report: Report) -> str:
    """'forward mode: 2 passes, one per input' in LaTeX."""
    if report.seed is not None:
        product = r"$J_{f}\,\dot{x}$" if report.mode == "forward" else r"$\bar{y}^{\top} J_{f}$"
        return f"{report.mode} mode: one pass for {product}"
    return escape(passes_of(report))


def tabular(spec: str, head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A booktabs tabular: header row, rule, body rows."""
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule", " & ".join(head) + " \\\\", "\\midrule"]
    lines += [" & ".join(row) + " \\\\" for row in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines)


def standalone(body: str, title: str = "") -> str:
    """A complete article around ``body`` that pdflatex compiles."""
    head = ["\\documentclass{article}", PREAMBLE, "\\usepackage[margin=2cm]{geometry}", "\\begin{document}"]
    if title:
        head.append(f"\\section*{{{title}}}")
    return "\n".join([*head, body, "\\end{document}"]) + "\n"


def fragment_header(graph: Graph) -> str:
    label = ", ".join(graph.labels)
    return ("% adjac: " + label.replace("\n", " ") + "\n% needs \\usepackage{amsmath} and \\usepackage{booktabs}")


def report_latex(report: Report, digits: int = 6, is_standalone: bool = False, with_trace: bool = False) -> str:
    """The whole LaTeX for a report: the function, then per point its values and Jacobian
    (and with ``with_trace`` the primal sweep and one table per pass, from ``trace.build``)."""
    parts = [function_block(report.graph)]
    for p in range(len(report.points)):
        if report.order == 2:
            parts.append(second_block(report, p, digits))
            continue
        parts.append(result_block(report, p, digits))
        if with_trace:
            parts.append(trace_latex(report, p, digits))
    return finish(report.graph, parts, is_standalone)


# --- the trace: trace.py's data, typeset ------------------------------------------------------
def trace_latex(report: Report, p: int, digits: int = 6) -> str:
    """The sweeps at point p as booktabs tabulars: the primal sweep, then each pass.

    Every rule comes from ``trace`` (which builds it from the primitives table); this
    function only typesets: ẇ4 becomes \\dot{w}_{4}, w̄4 becomes \\bar{w}_{4}.
    """

    tr = tracing.build(report, p)
    graph = tr.graph
    nt = latex_for(graph)
    rows = []
    for i in range(len(graph)):
        role = (["input"] if i < graph.n else []) + [f"output ${nt.output}_{{{k + 1}}}$" for k in tr.outputs_at(i)]
        at = definition_at(tr, i, digits, nt)
        rows.append([f"${nt.variable(i)}$", f"${definition(graph, i, nt)}$", f"${at}$" if at else "",
                     f"${number(tr.w[i], digits)}$", ", ".join(role)])
    for k, out in enumerate(graph.outputs):
        if isinstance(out, Const):
            rows.append([f"${nt.output}_{{{k + 1}}}$", "a constant", "", f"${number(out.value, digits)}$",
                         f"output ${nt.output}_{{{k + 1}}}$"])
    parts = ["\\noindent\\textbf{Evaluation trace} (primal sweep):",
             _center(tabular("@{}lllrl@{}", ["variable", "definition", "at this point", "value", ""], rows))]
    forward = tr.mode == "forward"
    for q, sweep in enumerate(tr.passes):
        seeds = pass_seeds(tr, q, nt)                # "\\dot{w}_{1} = 1, \\dot{w}_{2} = 0"
        parts.append(f"\\noindent\\textbf{{Pass {q + 1} of {len(tr.passes)}}} ({_pass_label(tr, q)}): "
                     f"${seeds}$")
        rows = []
        for row in sweep.rows:
            entries = result_marks(tr, row, q, nt)
            value = number(row.value, digits)
            rows.append([f"${nt.derivative(tr.mode, row.node)}$",
                         _terms(equation_terms(tr, row, nt)),
                         _terms(equation_terms_at(tr, row, q, digits, nt)),
                         f"$\\mathbf{{{value}}}$" if entries else f"${value}$",
                         ", ".join(f"${m}$" for m in entries)])
        entry = "entry of $J$" if sweep.identity else "entry of $J\\dot{x}$" if forward else \
            "entry of $\\bar{y}^{\\top}J$"
        head = ["tangent" if forward else "adjoint", "rule", "at this point", "value", entry]
        parts.append(_center(tabular("@{}lllrl@{}", head, rows)))
    return "\n\n".join(parts)


def _terms(pieces: Sequence[str], per_line: int = 3) -> str:
    """A sum in math; longer than ``per_line`` terms, stacked per_line to a line so the table stays narrow."""
    if len(pieces) <= per_line:
        return f"${LATEX.math(' '.join(pieces))}$"
    lines = [" ".join(pieces[k : k + per_line]) for k in range(0, len(pieces), per_line)]
    return "\\begin{tabular}[t]{@{}l@{}}" + " \\\\ ".join(f"${LATEX.math(line)}$" for line in lines) + "\\end{tabular}"


def _pass_label(tr: Any, q: int) -> str:
    """What the pass computes, in LaTeX (the same facts as trace.pass_label)."""
    graph, sweep = tr.graph, tr.passes[q]
    if getattr(tr, "colouring", None) is not None:      # colour q: the sum of its columns (rows) of J
        members = tr.colouring.members(q)
        if tr.mode == "forward":
            return (f"column {q + 1} of $JS$: $" + " + ".join(f"\\partial/\\partial {name(graph.inputs[j])}"
                                                           for j in members) + "$")
        return f"row {q + 1} of $W^{{\\top}}J$: $" + " + ".join(f"\\nabla y_{{{k + 1}}}" for k in members) + "$"
    if tr.mode == "forward":
        if sweep.identity:
            return f"column {q + 1} of $J$: $\\partial/\\partial {name(graph.inputs[q])}$"
        return "$J\\dot{x}$, one forward pass"
    if sweep.identity:
        return f"row {q + 1} of $J$: $\\nabla y_{{{q + 1}}}$"
    return "$\\bar{y}^{\\top}J$, one reverse pass"


def _center(body: str) -> str:
    return f"\\begin{{center}}\n{body}\n\\end{{center}}"


def finish(graph: Graph, parts: list[str], is_standalone: bool) -> str:
    """The parts as one fragment (with its header comment) or, standalone, a whole document."""
    body = "\n\n".join(parts)
    if is_standalone:
        return standalone(body, "Jacobian by automatic differentiation")
    return fragment_header(graph) + "\n" + body + "\n"


def symbolic_jacobian(report: SymbolicReport) -> str:
    """J (or the seeded product) as one LaTeX matrix, rows outputs and columns inputs."""
    from .. import symbolic

    sp = symbolic.sympy_module()
    if report.jacobian is not None:
        return symbolic.latex(sp.Matrix(report.jacobian) if report.jacobian and report.graph.n else sp.zeros(report.graph.m, 0))
    assert report.product is not None
    matrix = sp.Matrix(report.product)
    return symbolic.latex(matrix if report.mode == "forward" else matrix.T)


# --- LaTeX ---------------------------------------------------------------------------------------
def symbolic_latex(report: SymbolicReport, is_standalone: bool = False, with_trace: bool = False) -> str:
    """``--format latex`` without a point: the function, J as formulas, and the sweeps if asked."""
    from .. import symbolic

    if report.order == 2:
        return finish(report.graph, [function_block(report.graph), _symbolic_second(report)], is_standalone)

    graph = report.graph
    xs = ", ".join(name(v) for v in graph.inputs)
    J = f"J_{{f}}({xs})"
    head = f"In the inputs ({escape(passes_of(report))}):"
    if report.product is not None:
        seed = [number(v) for v in report.seed or ()]
        if report.mode == "forward":                   # J·ẋ, a column
            body = (f"{J}\\,\\dot{{x}} = {J}{pmatrix([[v] for v in seed])} = "
                    f"{pmatrix([[symbolic.latex(c)] for c in report.product])}")
        else:                                          # ȳᵀ·J, a row
            body = (f"\\bar{{y}}^{{\\top}} {J} = {pmatrix([seed])} {J} = "
                    f"{pmatrix([[symbolic.latex(c) for c in report.product]])}")
    else:
        assert report.jacobian is not None
        body = (f"{J} = {jacobian_frac(graph)} = "
                f"{pmatrix([[symbolic.latex(c) for c in row] for row in report.jacobian])}")
    parts = [function_block(graph), f"{head}\n\\[\n  {body}\n\\]",
             *([symbolic_trace_latex(report)] if with_trace else [])]          # the sweeps only with --trace
    return finish(graph, parts, is_standalone)


def symbolic_trace_latex(report: SymbolicReport, with_passes: bool = True) -> str:
    """The sweeps as booktabs tabulars: the primal sweep, then (``with_passes``) each pass,
    every value, tangent or adjoint a formula in the inputs."""
    from .. import symbolic

    graph = report.graph
    nt = latex_for(graph)
    outputs = tracing.outputs_by_node(graph)
    rows = []
    for i in range(len(graph)):
        role = (["input"] if i < graph.n else []) + [f"output ${nt.output}_{{{k + 1}}}$" for k in outputs.get(i, ())]
        rows.append([f"${nt.variable(i)}$", f"${definition(graph, i, nt)}$", f"${symbolic.latex(report.w[i])}$",
                     ", ".join(role)])
    parts = ["\\noindent\\textbf{Evaluation trace} (primal sweep), in the inputs:",
             tabular("@{}llll@{}", ["variable", "definition", "in the inputs", ""], rows)]
    if not with_passes:
        return "\n\n".join(parts)
    tr = symbolic.trace(report)
    forward = tr.mode == "forward"
    for q, sweep in enumerate(tr.passes):
        seeds = pass_seeds(tr, q, nt)
        parts.append(f"\\noindent\\textbf{{Pass {q + 1} of {len(tr.passes)}}}: ${seeds}$")
        rows = []
        for row in sweep.rows:
            entries = result_marks(tr, row, q, nt)
            value = symbolic.latex(row.value)
            rows.append([f"${nt.derivative(tr.mode, row.node)}$",
                         f"${nt.math(equation(tr, row, nt))}$",
                         f"$\\mathbf{{{value}}}$" if entries else f"${value}$",
                         ", ".join(f"${m}$" for m in entries)])
        head = ["tangent" if forward else "adjoint", "rule", "in the inputs", "entry of $J$"]
        parts.append(tabular("@{}llll@{}", head, rows))
    return "\n\n".join(parts)


class LatexSink(Sink):
    """--format latex: the function, J at each point (or as formulas), and the sweeps with --trace."""

    def __init__(self, out: IO[str], style: Style):
        self.out, self.style = out, style

    def write(self, report: Report, offset: int, checked: Any = None) -> None:
        style = self.style
        self.out.write(report_latex(report, style.digits or 6, style.standalone, style.trace))

    def write_formulas(self, report: SymbolicReport) -> None:
        self.out.write(symbolic_latex(report, self.style.standalone, self.style.trace))

    def write_uncertainty(self, result: Propagation) -> None:
        self.out.write(uncertainty_latex(result, self.style.standalone))

    def write_uncertainty_formulas(self, result: UncertaintyFormulas) -> None:
        from .. import symbolic

        lines = [f"  u_c({texttt(label)}) &= {symbolic.latex(u)}" for label, u in zip(result.graph.labels, result.u)]
        body = "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"
        self.out.write(standalone(body, "Propagation of uncertainty") if self.style.standalone
                       else fragment_header(result.graph) + "\n" + body + "\n")


def _symbolic_second(report: SymbolicReport) -> str:
    """--hessian or --hvp as formulas: ∇y_k and H_{y_k} (or H·v) as pmatrix."""
    from .. import symbolic

    graph = report.graph
    seeded = report.seed is not None
    names = ["\\bar{y}^{\\top} y"] if seeded else [f"{letters(graph)[1]}_{{{k + 1}}}" for k in range(graph.m)]
    gradients = [report.gradient] if seeded else list(report.gradient or [])
    seconds: list[Any] = [report.second] if seeded else list(report.second or [])
    body = []
    for label, g, h in zip(names, gradients, seconds):
        grad = pmatrix([[symbolic.latex(c) for c in g]])
        if report.kind == "hvp":
            second = f"H_{{{label}}}\\,v = {pmatrix([[symbolic.latex(c)] for c in h])}"
        else:
            second = f"H_{{{label}}} = {pmatrix([[symbolic.latex(c) for c in row] for row in h])}"
        body.append(f"  \\nabla {label} = {grad},\\qquad {second}")
    return f"In the inputs ({escape(passes_of(report))}):\n\\[\n" + ",\\\\\n".join(body) + "\n\\]"


# --- uncertainties ----------------------------------------------------------------------------------
def uncertainty_latex(result: Propagation, is_standalone: bool) -> str:
    """An align* of ``y = value \\pm u_c`` per output, and a booktabs budget table per output."""
    from ..uncertainty import rounded
    from .uncertainty import rounded_u, share

    graph = result.graph
    rows = []
    for k in range(graph.m):
        value, uc = rounded(float(result.values[k]), float(result.u[k]))
        line = f"  {texttt(graph.labels[k])} &= {value} \\pm {uc}"
        if result.expanded is not None:
            line += f" \\quad (U = {rounded_u(float(result.expanded[k]))},\\ k = {result.coverage.k:.3g})"  # type: ignore[union-attr]
        rows.append(line)
    parts = ["\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"]
    for k in range(graph.m):
        body = []
        for t in result.budget(k):
            if t.i == t.j:
                body.append([f"${name(graph.inputs[t.i])}$", f"${number(t.sensitivity, 6)}$",
                             f"${number(_math.sqrt(result.inputs.matrix[t.i, t.i]), 6)}$",
                             f"${number(t.contribution, 6)}$", share(t.share).replace("%", "\\%")])
            else:
                body.append([f"${name(graph.inputs[t.i])}, {name(graph.inputs[t.j])}$ (corr.)", "", "",
                             "", share(t.share).replace("%", "\\%")])
        parts.append(tabular("lrrrr", ["input", "$\\partial y/\\partial x$", "$u(x)$",
                                              "$\\partial y/\\partial x \\cdot u(x)$", "share of $u_c^2$"], body))
    text = "\n\n".join(parts)
    if is_standalone:
        return standalone(text, "Propagation of uncertainty")
    return fragment_header(graph) + "\n" + text + "\n"
