"""Text → Graph.  The grammar is ``grammar/adjac.lark``; this module gives it meaning.

Lark's LALR parser reads the text and, at each reduction, calls the callback of the
rule's alias at once (no parse tree): the graph grows as the text is read, with no
recursion, so nesting depth is limited by memory only.  The callbacks are a thin
adapter (``_ADAPTER``: one line per rule alias, children → a semantic call) onto a
``_Builder``, made afresh for each parse, with one method per kind of term: ``const``,
``var``, ``call``, ``unary``, ``binary``, ``group``.  While building, identical
subexpressions become one node (keyed by primitive and arguments, constants by their
bits, so 0.0 and -0.0 stay apart), and, unless ``fold=False``, operations whose
arguments are all constants are folded to a constant, so constants never become nodes
and never get derivative edges.

Each value passed between callbacks is ``(ref, start, end)``: ``ref`` is a node id or a
``Const``, and ``start:end`` is its source text, kept for labels and messages.
"""

from __future__ import annotations

import functools
import keyword
import operator
import os
import re
import stat
import struct
from collections.abc import Callable, Sequence
from types import MethodType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParseError
from .graph import Arg, Const, Graph, Op, listing
from .primitives import CONSTANTS, FUNCTIONS, PRIMITIVES

if TYPE_CHECKING:                     # lark is imported when the first text is parsed
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

Value = tuple[Any, int, int]          # (node id or Const, start, end)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")   # a value in --at or --points
_BITS = struct.Struct("<d").pack      # a double's 8 bytes: tells -0.0 from 0.0, keeps nan equal to itself


def grammar_text(name: str = "adjac.lark") -> str:
    """The grammar, from inside the wheel or from the source checkout (os.path: pathlib
    and importlib.resources would cost milliseconds of start-up)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # autodiff_cli/, above core/
    installed = os.path.join(package, "grammar", name)                 # inside a wheel
    checkout = os.path.join(os.path.dirname(package), "grammar", name) # source tree, editable install
    with open(installed if os.path.isfile(installed) else checkout, encoding="utf-8") as f:
        return f.read()


def natural_key(name: str) -> list[Any]:
    """Sort key that puts x2 before x10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


NUMBERINGS = ("depth", "appearance")


def parse(text: str, inputs: Sequence[str] | None = None, *, fold: bool = True, numbering: str = "depth") -> Graph:
    """Parse ``text`` into a Graph.

    ``inputs`` fixes the input order (like ``--vars``); names it lists need not be used.
    Without it, a header ``f(x1, x2) = ...`` fixes the order, else the natural sort of
    the names used.  Raises ParseError, with a column, for anything that is not valid.
    ``fold=False`` keeps operations on constants as nodes (the symbolic engine reads
    ``1/3`` and ``ln(2)`` exactly from them); every ``Const`` is then a literal or a
    named constant, as written.  ``numbering`` orders the operations after the inputs:
    ``depth`` (the default: by distance from the inputs, each level in order of
    appearance) or ``appearance`` (as the text is read, innermost first, left to right).
    """
    from lark.exceptions import UnexpectedInput

    if not text.strip():
        raise ParseError("the expression is empty", text, 1)
    builder = _Builder(text, inputs, fold)
    lark, rules = _parser()
    run = lark.parse_interactive(text)
    # parse_interactive gives this parse its own state and ParseConf; its callback table
    # binds the adapter to this parse's builder: one parser (built once), no shared state
    run.parser_state.parse_conf.callbacks = {rule: _FIRST if f is None else MethodType(f, builder) for rule, f in rules}
    try:
        outputs = run.resume_parse()
    except UnexpectedInput as err:
        raise _explain(err, text) from None
    return builder.finish(outputs, numbering)


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
        elif previous.type == "NUMBER" and token.type == "NAME" and previous.end_pos == token.start_pos:
            hint = _glued_to_a_number(text, previous, token)
        else:
            product = "write )*( for a product" if previous.type == "RPAR" and token.type == "LPAR" else \
                f"write {previous}*{token} for a product"
            between = text[previous.end_pos : token.start_pos]
            if between.strip() == "" and between and _depth(text, token.start_pos) == 0:   # x1*x2 sin(x1)
                hint = f"{product}, or a comma between two outputs: adjac needs an explicit * or ,"
            else:
                hint = f"{product}: adjac needs an explicit *"
    if token.type == "HEADER":
        hint = "a header f(x1, x2) = ... may only stand at the start"
    return ParseError(f"unexpected {_describe(token)}: expected {expected}", text, column, line, hint)


def _glued_to_a_number(text: str, number: Token, name: Token) -> str:
    """The hint for a name written straight after a number: 1_000, 1e, 2x."""
    if name.startswith("_"):
        run = _SEPARATED.match(text, number.start_pos or 0)
        digits = run.group().replace("_", "") if run else ""
        write = f"write {digits}" if DECIMAL.match(digits) else "write the number without _"
        return f"numbers have no digit separators: {write}"
    if name[0] in "eE" and not set(number) & set("eE"):
        return (f"an exponent needs digits, e.g. {number}{name[0]}3 for {number}·10³; "
                f"for a product write {number}*{name}")
    return f"write {number}*{name} for a product: adjac needs an explicit *"


_SEPARATED = re.compile(r"[0-9_.]*([eE][+-]?[0-9_]+)?")      # 1_000.5, written with separators


def _depth(text: str, pos: int) -> int:
    """How many parentheses are open at text[pos] (a header's are balanced)."""
    return text.count("(", 0, pos) - text.count(")", 0, pos)


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


# --- the parser, built once -----------------------------------------------------------------
LARK_OPTIONS: dict[str, Any] = {"parser": "lalr"}    # with cache= a private file, see _cache_file


@functools.cache
def _parser() -> tuple[Lark, list[tuple[Any, Callable[..., Any] | None]]]:
    """The LALR parser, and each of its rules with the adapter function of its alias
    (None: a layer of precedence that hands its one child on, as ``?expr: term``).

    Building the tables takes ~20 ms, so they are cached, but only in a directory of the
    user's own (``_cache_file``): never ``cache=True``, with which Lark unpickles a file
    of a predictable name in the shared temporary directory, which anyone can plant.
    """
    from lark import Lark
    from lark.parsers.lalr_analysis import Reduce

    text = grammar_text()
    lark = Lark(text, **LARK_OPTIONS, cache=_cache_file(text) or False)
    states = lark.parse_interactive("").parser_state.parse_conf.parse_table.states
    reduced = {arg for actions in states.values() for action, arg in actions.values() if action is Reduce}
    rules: list[tuple[Any, Callable[..., Any] | None]] = [("HEADER", _ADAPTER["HEADER"])]   # a terminal: on shift
    for rule in reduced:                  # the parse table's own Rule objects: found by identity
        if rule.options.expand1 and not rule.alias and len(rule.expansion) == 1:
            rules.append((rule, None))
        else:
            rules.append((rule, _ADAPTER[rule.alias or rule.origin.name]))
    return lark, rules


def parser() -> Lark:
    """The Lark parser of grammar/adjac.lark (without callbacks: ``parse`` adds them)."""
    return _parser()[0]


def _cache_file(grammar: str) -> str | None:
    """Where Lark may cache its tables: a directory only this user can write, else nowhere.

    ``$XDG_CACHE_HOME/adjac`` or ``~/.cache/adjac``, created with mode 0700 and used only
    if it is a directory owned by this user that no one else may write to (a file in it
    cannot then be planted by another user).  The name carries the grammar's hash, so
    versions of adjac with different grammars do not overwrite each other's tables.
    """
    import hashlib

    if not hasattr(os, "getuid"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "adjac")
    try:
        for path in (base, folder):            # not makedirs: no home, no cache
            if not os.path.isdir(path):
                os.mkdir(path, 0o700)
        info = os.stat(folder)
    except (OSError, ValueError):
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    digest = hashlib.sha256(grammar.encode()).hexdigest()[:16]
    return os.path.join(folder, f"grammar-{digest}.lark")


# --- the adapter: rule alias -> a call of the builder ----------------------------------------
# Each function receives the builder and the rule's children (tokens and values, as in the
# grammar), and hands them to one semantic method; no other code reads child lists.
_FIRST = operator.itemgetter(0)


def _append(b: _Builder, c: list[Any]) -> list[Value]:
    c[0].append(c[2])
    return c[0]


def _binary(prim: str) -> Callable[[_Builder, list[Any]], Value]:
    return lambda b, c: b.binary(prim, c[0], c[2], (c[0][1], c[2][2]))


_ADAPTER: dict[str, Callable[..., Any]] = {
    "start":       lambda b, c: c[1],                                   # header outputs
    "start_paren": lambda b, c: [*c[2], c[4]],                          # header ( outputs , expr )
    "header":      lambda b, c: None,                                   # declared when shifted: HEADER
    "HEADER":      lambda b, token: b.header(str(token), token.start_pos),  # a token, before the body
    "first":       lambda b, c: [c[0]],
    "append":      _append,
    **{prim: _binary(prim) for prim in ("add", "sub", "mul", "div", "pow")},
    "neg":         lambda b, c: b.unary("neg", c[1], (c[0].start_pos, c[1][2])),
    "pos":         lambda b, c: b.group(c[1], (c[0].start_pos, c[1][2])),
    "paren":       lambda b, c: b.group(c[1], (c[0].start_pos, c[2].end_pos)),
    "const":       lambda b, c: b.const(str(c[0]), (c[0].start_pos, c[0].end_pos)),
    "var":         lambda b, c: b.var(str(c[0]), (c[0].start_pos, c[0].end_pos)),
    "call":        lambda b, c: b.call(str(c[0]), c[2], (c[0].start_pos, c[3].end_pos)),
}


# --- the builder: one per parse ----------------------------------------------------------------
class _Builder:
    """Grows one graph while the text is parsed: a method per kind of term, each with its span."""

    def __init__(self, text: str, inputs: Sequence[str] | None, fold: bool = True):
        self.text = text
        self.fold = fold
        self.prims: list[str | None] = []          # per node: primitive, None for an input
        self.operands: list[tuple[Arg, ...]] = []
        self.spans: list[tuple[int, int]] = []
        self.depth: list[int] = []
        self.memo: dict[tuple[Any, ...], int] = {}  # (prim, args) -> node id: one node each
        self.ids: dict[str, int] = {}                # input name -> node id
        self.declared: tuple[str, ...] | None = None
        self.declared_by = ""
        if inputs is not None:
            self._declare(list(inputs), "--vars", None)

    def _error(self, message: str, start: int, hint: str = "") -> ParseError:
        """A ParseError pointing at text[start]."""
        line_start = self.text.rfind("\n", 0, start) + 1
        return ParseError(message, self.text, start - line_start + 1, self.text.count("\n", 0, start) + 1, hint)

    # --- inputs -------------------------------------------------------------------
    def _declare(self, names: list[str], by: str, header: tuple[str, int] | None) -> None:
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
                if header is None:
                    raise ParseError(f"{problem} in --vars", ",".join(names), sum(len(s) + 1 for s in names[:k]) + 1)
                token, start = header
                raise self._error(problem, start + token.find("(") + 1 + _offset(token, k))
            seen.add(name)
        if self.declared is not None:
            if tuple(names) != self.declared:
                raise self._error(
                    f"the header declares ({', '.join(names)}) but --vars says ({', '.join(self.declared)}); "
                    "give the order once", header[1] if header else 0)
            return
        self.declared, self.declared_by = tuple(names), by
        for name in names:
            self.ids[name] = self._node(None, (), (0, 0), 0)

    def header(self, token: str, start: int) -> str:
        """``f(x1, x2) =``: declares the inputs before the body is read."""
        inside = token[token.find("(") + 1 : token.rfind(")")]
        names = [part.strip() for part in inside.split(",")] if inside.strip() else []
        self._declare(names, f"the header {' '.join(token[:-1].split())}", (token, start))
        return token

    # --- nodes --------------------------------------------------------------------
    def _node(self, prim: str | None, args: tuple[Arg, ...], span: tuple[int, int], depth: int) -> int:
        self.prims.append(prim)
        self.operands.append(args)
        self.spans.append(span)
        self.depth.append(depth)
        return len(self.prims) - 1

    def _apply(self, prim: str, values: Sequence[Value], span: tuple[int, int]) -> Value:
        args = tuple([v[0] for v in values])
        nodes = [a for a in args if type(a) is int]
        if not nodes and self.fold:                                   # fold: constants stay constants
            with np.errstate(all="ignore"):
                value = PRIMITIVES[prim].f(*(np.float64(a.value) for a in args))
            return Const(float(value), span), *span
        key = (prim, *[a if type(a) is int else _BITS(a.value) for a in args])
        node = self.memo.get(key)
        if node is None:
            depth = 1 + max([self.depth[a] for a in nodes], default=0)
            node = self.memo[key] = self._node(prim, args, span, depth)
        return node, *span

    # Each method below builds one kind of term; ``span`` is its source text (start, end).
    def binary(self, prim: str, a: Value, b: Value, span: tuple[int, int]) -> Value:
        """a op b, for op a binary primitive (add, sub, mul, div, pow); ``e^u`` (the
        constant e as typed) is exp(u), which is more accurate and reads as typed."""
        if prim == "pow" and isinstance(a[0], Const) and self.text[a[1] : a[2]].strip("() \t\n") == "e":
            return self._apply("exp", (b,), span)
        return self._apply(prim, (a, b), span)

    def unary(self, prim: str, a: Value, span: tuple[int, int]) -> Value:
        """A prefix operator applied to a (neg)."""
        return self._apply(prim, (a,), span)

    def group(self, a: Value, span: tuple[int, int]) -> Value:
        """a itself, its source widened to span: ``(a)`` and ``+a``."""
        return a[0], *span

    def const(self, literal: str, span: tuple[int, int]) -> Value:
        """A number as written."""
        return Const(float(literal), span), *span

    def var(self, name: str, span: tuple[int, int]) -> Value:
        """A name: an input, or a named constant (pi, e) unless an input has that name."""
        node = self.ids.get(name)
        if node is None:
            if name in CONSTANTS:
                return Const(CONSTANTS[name], span), *span
            if name in FUNCTIONS:
                raise self._error(f"{name} is a function: call it as {name}(...)", span[0])
            if self.declared is not None:
                hint = _suggest(name, self.declared) + f"declared inputs: {listing(self.declared)}"
                raise self._error(f"{name!r} is not an input of {self.declared_by}", span[0], hint)
            node = self.ids[name] = self._node(None, (), span, 0)
        return node, *span

    def call(self, name: str, args: list[Value], span: tuple[int, int]) -> Value:
        """name(args...), for name a function of PRIMITIVES."""
        prim = FUNCTIONS.get(name)
        if prim is None:
            raise _not_a_function(self, name, span[0])
        arity = len(PRIMITIVES[prim].partials)
        if len(args) != arity:
            raise self._error(f"{name} takes {arity} argument{'s' if arity > 1 else ''}, not {len(args)}", span[0])
        return self._apply(prim, args, span)

    # --- the finished list --------------------------------------------------------
    def finish(self, results: list[Value], numbering: str = "depth") -> Graph:
        """Number inputs first (in input order), then operations stably sorted by depth, or in
        the order they were read (``numbering="appearance"``: arguments always come first)."""
        if numbering not in NUMBERINGS:
            raise ValueError(f"numbering is one of {', '.join(NUMBERINGS)}, not {numbering!r}")
        names = self.declared if self.declared is not None else tuple(sorted(self.ids, key=natural_key))
        ops = [k for k, p in enumerate(self.prims) if p is not None]
        if numbering == "depth":
            ops.sort(key=self.depth.__getitem__)
        order = [self.ids[name] for name in names] + ops
        new = [0] * len(order)
        for index, old in enumerate(order):
            new[old] = index

        def remap(a: Arg) -> Arg:
            return a if isinstance(a, Const) else new[a]

        tape = tuple(Op(self.prims[k], tuple(map(remap, self.operands[k])), self.spans[k]) for k in ops)  # type: ignore[arg-type]
        outputs = tuple(remap(v[0]) for v in results)
        labels = tuple(" ".join(self.text[v[1] : v[2]].split()) for v in results)
        return Graph(tuple(names), tape, outputs, labels, self.text, numbering)


def _not_a_function(b: _Builder, name: str, start: int) -> ParseError:
    """name(...) where name is no function: a product without its *, or a function adjac lacks."""
    if name in b.ids or name in CONSTANTS:
        return b._error(f"{name} is not a function", start, f"write {name}*(...) for a product: adjac needs an explicit *")
    known = _MISSING.get(name) or _suggest(name, FUNCTIONS)     # min is no misspelt sin, atan2 no atan
    hint = known + "functions: " + ", ".join(sorted(FUNCTIONS))
    if not known:
        hint += f"; for a product write {name}*(...)"
    return b._error(f"unknown function {name!r}", start, hint)


_MISSING = {      # functions people reach for that adjac does not have (yet): what to write instead
    "pow": "adjac has no pow: write a^b for a power; ",
    "max": "adjac has no max: (a + b + abs(a - b))/2 is max(a, b); ",
    "min": "adjac has no min: (a + b - abs(a - b))/2 is min(a, b); ",
    "hypot": "adjac has no hypot: write sqrt(a^2 + b^2); ",
    "atan2": "adjac has no atan2: 2*atan(y/(sqrt(x^2 + y^2) + x)) is atan2(y, x) off the negative x axis; ",
    "exp2": "adjac has no exp2: write 2^a; ",
    "exp10": "adjac has no exp10: write 10^a; ",
    "log1p": "adjac has no log1p: write ln(1 + a); ",
    "expm1": "adjac has no expm1: write exp(a) - 1; ",
    "lg": "adjac has no lg: write log10(a), or log2(a) (log is ln); ",
    "sqr": "adjac has no sqr: write a^2; ",
    "square": "adjac has no square: write a^2; ",
    "sinc": "adjac has no sinc: write sin(a)/a; ",
    "sec": "adjac has no sec: write 1/cos(a); ",
    "csc": "adjac has no csc: write 1/sin(a); ",
    "cot": "adjac has no cot: write 1/tan(a); ",
}
for _step in ("floor", "ceil", "round", "trunc"):
    _MISSING[_step] = (f"adjac has no {_step}: a step function, with derivative 0 between its jumps and none "
                       "at them; at a point, write its value there as a constant; ")
for _step in ("mod", "fmod", "rem", "remainder"):
    _MISSING[_step] = (f"adjac has no {_step}: a - b*k, with the integer k = floor(a/b) at your point written "
                       "as a constant, has its value and derivatives there; ")
_MISSING["arctan2"] = _MISSING["atan2"].replace("atan2:", "arctan2 (atan2):", 1)


def _suggest(name: str, known: Sequence[str] | dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


def _offset(token: str, k: int) -> int:
    """Characters from the header's '(' to the start of its k-th name."""
    inside = token[token.find("(") + 1 :]
    pos = 0
    for _ in range(k):
        pos = inside.index(",", pos) + 1
    return pos + len(inside[pos:]) - len(inside[pos:].lstrip())
