"""Text → Graph.  The grammar is ``grammar/adjac.lark``; this module gives it meaning.

The callbacks below run *during* the LALR parse (Lark's tree-less mode), so the graph
grows as the text is read: no parse tree, no recursion, and nesting depth is limited by
memory only.  While building, identical subexpressions become one node (a dict keyed by
primitive and arguments), and operations whose arguments are all constants are folded
to a constant, so constants never become nodes and never get derivative edges.

Each value passed between callbacks is ``(ref, start, end)``: ``ref`` is a node id or a
``Const``, and ``start:end`` is its source text, kept for labels and messages.
"""

from __future__ import annotations

import _thread
import functools
import keyword
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import fastparse
from .errors import ParseError
from .graph import Arg, Const, Graph, Op, listing
from .primitives import CONSTANTS, FUNCTIONS, PRIMITIVES

if TYPE_CHECKING:                     # lark is imported only when Lark parses (see parse)
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

Value = tuple[Any, int, int]          # (node id or Const, start, end)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")   # a value in --at or --points


def grammar_text(name: str = "adjac.lark") -> str:
    """The grammar, from inside the wheel or from the source checkout."""
    from importlib import resources
    from pathlib import Path

    installed = resources.files("autodiff_cli") / "grammar" / name      # inside a wheel
    if installed.is_file():
        return installed.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[1] / "grammar" / name   # source tree
    return checkout.read_text(encoding="utf-8")


def natural_key(name: str) -> list[Any]:
    """Sort key that puts x2 before x10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def parse(text: str, inputs: Sequence[str] | None = None) -> Graph:
    """Parse ``text`` into a Graph.

    ``inputs`` fixes the input order (like ``--vars``); names it lists need not be used.
    Without it, a header ``f(x1, x2) = ...`` fixes the order, else the natural sort of
    the names used.  Raises ParseError, with a column, for anything that is not valid.

    Valid text is read by the hand-written ``fastparse``; anything it does not accept
    (every error, in particular) is parsed again by Lark from the grammar file, the
    specification, which also writes the error message.
    """
    if not text.strip():
        raise ParseError("the expression is empty", text, 1)
    with _LOCK:
        _BUILDER.reset(text, inputs)
        if fastparse.feed(text, _BUILDER):
            return _BUILDER.finish()
        return _parse_with_lark(text, inputs)


def parse_with_lark(text: str, inputs: Sequence[str] | None = None) -> Graph:
    """``parse`` by Lark alone: the reference that fastparse is tested against."""
    if not text.strip():
        raise ParseError("the expression is empty", text, 1)
    with _LOCK:
        return _parse_with_lark(text, inputs)


def _parse_with_lark(text: str, inputs: Sequence[str] | None) -> Graph:
    from lark.exceptions import UnexpectedInput

    _BUILDER.reset(text, inputs)
    try:
        parser().parse(text)
    except UnexpectedInput as err:
        raise _explain(err, text) from None
    return _BUILDER.finish()


def _explain(err: UnexpectedInput, text: str) -> ParseError:
    """A Lark error as a ParseError saying what was expected, with hints for common slips."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    line, column = err.line, err.column
    if isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        hint = _CHAR_HINTS.get(char, "")
        return ParseError(f"unexpected character {char!r}", text, column, line, hint)
    assert isinstance(err, UnexpectedToken)
    token, expected = err.token, _expected(err.expected)
    previous = err.token_history[-1] if err.token_history else None
    if token.type == "$END":
        lines = text.rstrip().split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        return ParseError(f"the expression ends too early: expected {expected}", text, column, line)
    hint = ""
    if previous is not None and previous.type in ("NUMBER", "RPAR", "NAME") and token.type in ("NAME", "NUMBER", "LPAR"):
        if previous.type == "NUMBER" and previous == "0" and token.type == "NAME" and token.startswith("x"):
            hint = "hexadecimal numbers are not supported; write the number in decimal"
        elif any(t.type == "NAME" and keyword.iskeyword(t) for t in (previous, token)):
            word = next(str(t) for t in (previous, token) if t.type == "NAME" and keyword.iskeyword(t))
            hint = f"'{word}' is Python, not part of adjac's arithmetic"
        elif previous.type == "NAME" and previous in FUNCTIONS:
            hint = f"write {previous}({token}) to call {previous}: arguments go in parentheses"
        elif previous.type == "RPAR" and token.type == "LPAR":
            hint = "write )*( for a product: adjac needs an explicit *"
        else:
            hint = f"write {previous}*{token} for a product: adjac needs an explicit *"
    if token.type == "HEADER":
        hint = "a header f(x1, x2) = ... may only stand at the start"
    return ParseError(f"unexpected {_describe(token)}: expected {expected}", text, column, line, hint)


_TERMINALS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'", "COMMA": "','",
    "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "POW": "'^'",
    "HEADER": "a header", "$END": "the end",
}
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "POW"}


def _expected(names: set[str]) -> str:
    names = set(names) - {"HEADER"}
    parts = []
    if {"NUMBER", "NAME", "LPAR"} <= names:
        parts.append("a number, a name or '('")
        names -= {"NUMBER", "NAME", "LPAR", "MINUS", "PLUS"}
    if len(names & _OPERATORS) >= 3:
        parts.append("an operator (+ - * / ^)")
        names -= _OPERATORS
    parts += sorted(_TERMINALS.get(name, name) for name in names)
    return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else "".join(parts)


def _describe(token: Token) -> str:
    kind = _TERMINALS.get(token.type, token.type)
    return f"'{token}'" if kind.startswith("'") else f"{kind.removeprefix('a ')} {str(token)!r}"


_CHAR_HINTS = {
    "×": "write * for a product", "·": "write * for a product", "−": "write - (ASCII) for minus",
    "÷": "write / for a division", "²": "write ^2 for a square", "³": "write ^3 for a cube",
    "π": "write pi", "'": "strings are not part of the expression language",
    '"': "strings are not part of the expression language", "[": "use ( ) for grouping",
    "]": "use ( ) for grouping", "{": "use ( ) for grouping", "}": "use ( ) for grouping",
    "=": "only a header such as f(x1, x2) = ... may use '=', at the start",
    ".": "there is no attribute access: the expression is arithmetic only",
}


@functools.cache
def parser() -> Lark:
    """The LALR parser with the graph builder attached; built once, cached on disk."""
    from lark import Lark

    return Lark(grammar_text(), parser="lalr", transformer=_BUILDER, cache=True,
                lexer_callbacks={"HEADER": _BUILDER.header})


class _Builder:
    """Lark callbacks (one per rule alias) that grow the graph during the parse.

    Lark binds these methods once, when the cached parser is built, so one builder
    serves every parse; ``reset`` starts it afresh and ``_LOCK`` keeps parses apart.
    """

    def reset(self, text: str, inputs: Sequence[str] | None) -> None:
        self.text = text
        self.prims: list[str | None] = []          # per node: primitive, None for an input
        self.operands: list[tuple[Arg, ...]] = []
        self.spans: list[tuple[int, int]] = []
        self.depth: list[int] = []
        self.memo: dict[tuple[Any, ...], int] = {}  # (prim, args) -> node id: one node each
        self.ids: dict[str, int] = {}                # input name -> node id
        self.declared: tuple[str, ...] | None = None
        self.declared_by = ""
        self.results: list[Value] = []
        if inputs is not None:
            self._declare(list(inputs), "--vars", None)

    # --- inputs -------------------------------------------------------------------
    def _declare(self, names: list[str], by: str, token: Token | None) -> None:
        """Fix the inputs and their order; check each name (with a column if in the text)."""
        seen: set[str] = set()
        for k, name in enumerate(names):
            problem = ""
            if not NAME.match(name):
                problem = f"{name!r} is not a valid input name (letters, digits and _, not starting with a digit)"
            elif name in FUNCTIONS:
                problem = f"{name!r} is a function and cannot be an input name"
            elif name in seen:
                problem = f"input {name!r} is declared twice"
            if problem:
                if token is None:
                    raise ParseError(f"{problem} in --vars", ",".join(names), sum(len(s) + 1 for s in names[:k]) + 1)
                column = (token.column or 1) + token.find("(") + 1 + _offset(token, k)
                raise ParseError(problem, self.text, column, token.line or 1)
            seen.add(name)
        if self.declared is not None:
            if tuple(names) != self.declared:
                raise ParseError(
                    f"the header declares ({', '.join(names)}) but --vars says ({', '.join(self.declared)}); "
                    "give the order once", self.text, (token.column or 1) if token else 1)
            return
        self.declared, self.declared_by = tuple(names), by
        for name in names:
            self.ids[name] = self._node(None, (), (0, 0), 0)

    def header(self, token: Token) -> Token:
        """Lexer callback for ``f(x1, x2) =``: runs before the body is parsed."""
        inside = token[token.find("(") + 1 : token.rfind(")")]
        names = [part.strip() for part in inside.split(",")] if inside.strip() else []
        self._declare(names, f"the header {' '.join(token[:-1].split())}", token)
        return token

    # --- nodes --------------------------------------------------------------------
    def _node(self, prim: str | None, args: tuple[Arg, ...], span: tuple[int, int], depth: int) -> int:
        self.prims.append(prim)
        self.operands.append(args)
        self.spans.append(span)
        self.depth.append(depth)
        return len(self.prims) - 1

    def _apply(self, prim: str, values: Sequence[Value], start: int, end: int) -> Value:
        args = tuple(v[0] for v in values)
        if all(isinstance(a, Const) for a in args):                 # fold: constants stay constants
            with np.errstate(all="ignore"):
                value = PRIMITIVES[prim].f(*(np.float64(a.value) for a in args))
            return Const(float(value), (start, end)), start, end
        key = (prim, *(a if isinstance(a, int) else (a.value,) for a in args))
        node = self.memo.get(key)
        if node is None:
            depth = 1 + max(self.depth[a] for a in args if isinstance(a, int))
            node = self.memo[key] = self._node(prim, args, (start, end), depth)
        return node, start, end

    def _binary(self, c: list[Any]) -> Value:
        a, op, b = c
        return self._apply(_BINARY[op.type], (a, b), a[1], b[2])

    add = sub = mul = div = pow = _binary

    def neg(self, c: list[Any]) -> Value:
        return self._apply("neg", (c[1],), c[0].start_pos, c[1][2])

    def pos(self, c: list[Any]) -> Value:
        return c[1][0], c[0].start_pos, c[1][2]

    def paren(self, c: list[Any]) -> Value:
        return c[1][0], c[0].start_pos, c[2].end_pos

    def const(self, c: list[Any]) -> Value:
        tok = c[0]
        return Const(float(tok), (tok.start_pos, tok.end_pos)), tok.start_pos, tok.end_pos

    def var(self, c: list[Any]) -> Value:
        tok = c[0]
        name = str(tok)
        node = self.ids.get(name)
        if node is None:
            if name in CONSTANTS:
                return Const(CONSTANTS[name], (tok.start_pos, tok.end_pos)), tok.start_pos, tok.end_pos
            if name in FUNCTIONS:
                raise ParseError(f"{name} is a function: call it as {name}(...)", self.text, tok.column, tok.line)
            if self.declared is not None:
                hint = _suggest(name, self.declared) + f"declared inputs: {listing(self.declared)}"
                raise ParseError(f"{name!r} is not an input of {self.declared_by}", self.text, tok.column, tok.line, hint)
            node = self.ids[name] = self._node(None, (), (tok.start_pos, tok.end_pos), 0)
        return node, tok.start_pos, tok.end_pos

    def call(self, c: list[Any]) -> Value:
        tok, _, args, rpar = c
        name = str(tok)
        prim = FUNCTIONS.get(name)
        if prim is None:
            if name in self.ids or name in CONSTANTS or (self.declared is None and not _suggest(name, FUNCTIONS)):
                raise ParseError(f"{name} is not a function", self.text, tok.column, tok.line,
                                 f"write {name}*(...) for a product: adjac needs an explicit *")
            hint = _suggest(name, FUNCTIONS) + "functions: " + ", ".join(sorted(FUNCTIONS))
            raise ParseError(f"unknown function {name!r}", self.text, tok.column, tok.line, hint)
        arity = len(PRIMITIVES[prim].partials)
        if len(args) != arity:
            raise ParseError(f"{name} takes {arity} argument{'s' if arity > 1 else ''}, not {len(args)}",
                             self.text, tok.column, tok.line)
        return self._apply(prim, args, tok.start_pos, rpar.end_pos)

    def args(self, c: list[Any]) -> list[Value]:
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]

    outputs = args

    def start(self, c: list[Any]) -> None:
        self.results = c[-1]

    def start_paren(self, c: list[Any]) -> None:
        self.results = c[-4] + [c[-2]]

    # --- the finished list --------------------------------------------------------
    def finish(self) -> Graph:
        """Number inputs first (in input order), then operations stably sorted by depth."""
        names = self.declared if self.declared is not None else tuple(sorted(self.ids, key=natural_key))
        ops = sorted((k for k, p in enumerate(self.prims) if p is not None), key=self.depth.__getitem__)
        order = [self.ids[name] for name in names] + ops
        new = [0] * len(order)
        for index, old in enumerate(order):
            new[old] = index

        def remap(a: Arg) -> Arg:
            return a if isinstance(a, Const) else new[a]

        tape = tuple(Op(self.prims[k], tuple(map(remap, self.operands[k])), self.spans[k]) for k in ops)  # type: ignore[arg-type]
        outputs = tuple(remap(v[0]) for v in self.results)
        labels = tuple(" ".join(self.text[v[1] : v[2]].split()) for v in self.results)
        return Graph(tuple(names), tape, outputs, labels, self.text)


_BINARY = {"PLUS": "add", "MINUS": "sub", "STAR": "mul", "SLASH": "div", "POW": "pow"}
_BUILDER = _Builder()
_LOCK = _thread.allocate_lock()          # threading.Lock, without importing threading


def _suggest(name: str, known: Sequence[str] | dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


def _offset(token: Token, k: int) -> int:
    """Characters from the header's '(' to the start of its k-th name."""
    inside = token[token.find("(") + 1 :]
    pos = 0
    for _ in range(k):
        pos = inside.index(",", pos) + 1
    return pos + len(inside[pos:]) - len(inside[pos:].lstrip())
