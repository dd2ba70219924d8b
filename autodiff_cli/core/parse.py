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
import gc
import keyword
import operator
import os
import re
import stat
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import ParseError
from .graph import Arg, Const, Graph, Op, format_number, listing
from .primitives import COMPARISONS, CONSTANTS, FUNCTIONS, PRIMITIVES

if TYPE_CHECKING:                     # lark is imported when the first text is parsed
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

Value = tuple[Any, int, int]          # (node id or Const, start, end)
NAME = re.compile(r"[A-Za-z_\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*(\[[0-9]+\])?\Z")   # x1, θ, x[3] (of x[1..n])
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
    """Parse ``text`` (a formula, or a program whose last statement is the outputs) into a Graph.

    ``inputs`` fixes the input order (like ``--vars``); names it lists need not be used.
    Without it, a header ``f(x1, x2) = ...`` fixes the order, else the natural sort of
    the names used.  Raises ParseError, with a line and column, for anything that is not
    valid.  ``fold=False`` keeps operations on constants as nodes (the symbolic engine
    reads ``1/3`` and ``ln(2)`` exactly from them); every ``Const`` is then a literal or
    a named constant, as written.  ``numbering`` orders the operations after the inputs:
    ``depth`` (the default: by distance from the inputs, each level in order of
    appearance) or ``appearance`` (as the text is read, innermost first, left to right).
    """
    from lark.exceptions import UnexpectedInput

    if not _COMMENT.sub("", text).strip():
        raise ParseError("the expression is empty", text, 1)
    collecting = gc.isenabled()
    gc.disable()                          # a big program makes millions of small objects, none cyclic:
    try:                                  # collections would only rescan them, again and again
        try:
            statements = _statements(text)
        except UnexpectedInput as err:
            raise _explain(err, text) from None
        return _Program(text, inputs, fold).build(statements, numbering)
    finally:
        if collecting:
            gc.enable()


_COMMENT = re.compile(r"#[^\n]*")


def _statements(text: str) -> list[Node]:
    """The syntax tree of ``text``: its statements; raises Lark's UnexpectedInput.

    parse_interactive gives this parse its own state and ParseConf, and the callbacks build
    a tree of tuples (no state of their own), which ``_Program`` then expands."""
    lark, rules = _parser()
    run = lark.parse_interactive(text)
    run.parser_state.parse_conf.callbacks = {rule: _FIRST if f is None else f for rule, f in rules}
    return run.resume_parse()


def constant(text: str) -> float:
    """The value of a constant expression such as ``pi/2`` or ``1/sqrt(2)`` (a value on the
    command line); ParseError if ``text`` is not one (a name that is not pi or e, several values)."""
    try:
        graph = parse(text, ())
    except ParseError as err:
        if "is not an input of --vars" in err.message:
            name = err.message.split("'")[1]
            raise ParseError(f"{name} is not a constant (pi and e are)", text, err.column, err.line) from None
        raise
    if graph.m != 1 or not isinstance(graph.outputs[0], Const):
        raise ParseError("this is not one value", text, 1)
    return graph.outputs[0].value


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
    previous = err.token_history[-1] if err.token_history else _previous(text, token)
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


def _previous(text: str, token: Token) -> Token | None:
    """The token before ``token``: the text up to it lexed again (only on an error)."""
    if token.type == "$END":
        return None
    import collections

    try:
        tokens = collections.deque(parser().lex(text[: token.start_pos or 0]), maxlen=1)
    except Exception:             # the text before parsed, so it lexes; this is for safety only
        return None
    return tokens[0] if tokens else None


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
    "HEADER": "a header", "$END": "the end", "LSQB": "'['", "RSQB": "']'", "DOTDOT": "'..'", "FOR": "'for'",
    "ASSIGN": "'='", "COMPARE": "a comparison", "AND": "'and'", "OR": "'or'", "NOT": "'not'", "ROOT": "'√'",
    "SQUARE": "'²'", "SEP": "the end of the statement", "NEWLINE": "a new line", "SEMICOLON": "';'",
}
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "POW"}


_LISTED_LAST = {"DOTDOT", "FOR", "RSQB", "SQUARE", "AND", "OR", "COMPARE", "SEP", "NEWLINE", "SEMICOLON", "$END"}


def _expected(names: set[str]) -> str:
    """What may come next, in words; the rarer continuations (a comparison, ``and``, ``..``,
    ``]``, ``for``, a new statement) only when nothing common may."""
    names = set(names) - {"HEADER"}
    if names - _LISTED_LAST:
        names -= _LISTED_LAST
    parts = []
    if {"NUMBER", "NAME", "LPAR"} <= names:
        parts.append("a number, a name or '('")
        names -= {"NUMBER", "NAME", "LPAR", "MINUS", "PLUS", "ROOT", "NOT", "LSQB"}
    if len(names & _OPERATORS) >= 3:
        parts.append("an operator (+ - * / ^)")
        names -= _OPERATORS
    parts += sorted(_TERMINALS.get(name, name) for name in names)
    return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else "".join(parts)


def _describe(token: Token) -> str:
    kind = _TERMINALS.get(token.type, token.type)
    return f"'{token}'" if kind.startswith("'") else f"{kind.removeprefix('a ')} {str(token)!r}"


_CHAR_HINTS = {
    "'": "strings are not part of the expression language",
    '"': "strings are not part of the expression language",
    "{": "use ( ) for grouping", "}": "use ( ) for grouping",
    ".": "there is no attribute access: the expression is arithmetic only",
}


# --- the parser, built once -----------------------------------------------------------------
LARK_OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "basic"}    # with cache= a private file, see _cache_file


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
    lark = Lark(text, **LARK_OPTIONS, postlex=_Statements(), cache=_cache_file(text) or False)
    states = lark.parse_interactive("").parser_state.parse_conf.parse_table.states
    reduced = {arg for actions in states.values() for action, arg in actions.values() if action is Reduce}
    rules: list[tuple[Any, Callable[..., Any] | None]] = []
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


class _Statements:
    """Lark's post-lexer: a newline or ';' ends a statement (one SEP token, never two in a
    row, none first or last).  A newline does not end it inside brackets, after a token
    that needs more (an operator, ',', '=', a header), or before a binary operator
    (+ - * / ^ ) ] , and or ..: a line that starts with a minus continues the line before,
    as on paper), so a long formula may span lines."""

    always_accept = ("NEWLINE", "SEMICOLON")
    _NEEDS_MORE = frozenset({"PLUS", "MINUS", "STAR", "SLASH", "POW", "COMMA", "ASSIGN", "HEADER", "AND", "OR",
                             "NOT", "COMPARE", "DOTDOT", "ROOT", "LPAR", "LSQB", "FOR"})
    _CONTINUES = frozenset({"PLUS", "MINUS", "STAR", "SLASH", "POW", "RPAR", "RSQB", "COMMA", "AND", "OR",
                            "COMPARE", "DOTDOT", "SQUARE", "FOR"})

    def process(self, stream: Any) -> Any:
        from lark import Token

        depth, previous, pending, hard = 0, None, None, False
        for token in stream:
            kind = token.type
            if kind in ("NEWLINE", "SEMICOLON"):
                if previous is None:
                    continue
                if kind == "SEMICOLON":
                    pending, hard = Token.new_borrow_pos("SEP", ";", token), True
                elif depth <= 0 and previous not in self._NEEDS_MORE and pending is None:
                    pending = Token.new_borrow_pos("SEP", "\n", token)
                continue
            if pending is not None:
                if hard or kind not in self._CONTINUES:
                    yield pending
                pending, hard = None, False
            if kind in ("LPAR", "LSQB"):
                depth += 1
            elif kind in ("RPAR", "RSQB"):
                depth -= 1
            previous = kind
            yield token


# --- the adapter: rule alias -> a node of the syntax tree -------------------------------------
# Each function receives the rule's children (tokens and nodes, as in the grammar) and
# returns one node, a tuple (kind, start, end, *fields); no other code reads child lists.
_FIRST = operator.itemgetter(0)


def _append(c: list[Any]) -> list[Any]:
    c[0].append(c[2])
    return c[0]


def _binary(prim: str) -> Callable[[list[Any]], Node]:
    return lambda c: ("op", c[0][1], c[2][2], prim, c[0], c[2])


def _start(node: Any) -> int:
    return node.start_pos if hasattr(node, "start_pos") else node[1]


Node = tuple[Any, ...]      # (kind, start, end, *fields)

_ADAPTER: dict[str, Callable[[list[Any]], Any]] = {
    "start":         lambda c: c[0],
    "first":         lambda c: [c[0]],
    "append":        _append,
    "bare":          lambda c: ("outputs", c[0][0][1], c[0][-1][2], None, c[0]),
    "tuple":         lambda c: ("outputs", c[0].start_pos, c[4].end_pos, None, [*c[1], c[3]]),
    "defined":       lambda c: ("outputs", c[0].start_pos, c[1][-1][2], (str(c[0]), c[0].start_pos), c[1]),
    "defined_tuple": lambda c: ("outputs", c[0].start_pos, c[5].end_pos, (str(c[0]), c[0].start_pos), [*c[2], c[4]]),
    "assign":        lambda c: ("assign", c[0].start_pos, c[2][2], str(c[0]), c[2]),
    "vector":        lambda c: ("vector", c[0].start_pos, c[2].end_pos, c[1]),
    "comprehension": lambda c: ("comprehension", c[0].start_pos, c[8].end_pos, c[1], (str(c[3]), c[3].start_pos), c[5], c[7]),
    **{prim: _binary(prim) for prim in ("add", "sub", "mul", "div", "pow", "and", "or")},
    "compare":       lambda c: ("op", c[0][1], c[2][2], COMPARISONS[str(c[1])], c[0], c[2]),
    "neg":           lambda c: ("unary", c[0].start_pos, c[1][2], "neg", c[1]),
    "not":           lambda c: ("unary", c[0].start_pos, c[1][2], "not", c[1]),
    "root":          lambda c: ("unary", c[0].start_pos, c[1][2], "sqrt", c[1]),
    "square":        lambda c: ("square", c[0][1], c[1].end_pos, c[0], (2.0 if str(c[1]) == "²" else 3.0, c[1].start_pos)),
    "pos":           lambda c: ("group", c[0].start_pos, c[1][2], c[1]),
    "paren":         lambda c: ("group", c[0].start_pos, c[2].end_pos, c[1]),
    "const":         lambda c: ("const", c[0].start_pos, c[0].end_pos, str(c[0])),
    "var":           lambda c: ("name", c[0].start_pos, c[0].end_pos, str(c[0])),
    "call":          lambda c: ("call", c[0].start_pos, c[3].end_pos, str(c[0]), c[2]),
    "index":         lambda c: ("index", c[0].start_pos, c[3].end_pos, str(c[0]), c[2]),
    "reduction":     lambda c: ("reduction", c[0].start_pos, c[9].end_pos, str(c[0]), (str(c[2]), c[2].start_pos),
                                c[4], c[6], c[8]),
}


# --- the builder: one per parse ----------------------------------------------------------------
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def spelled(name: str) -> str:
    """A name as adjac keeps it: subscript digits as digits (x₁ is x1), π as pi."""
    name = name.translate(_SUBSCRIPTS)
    return "pi" if name == "π" else name


class _Builder:
    """Grows one graph: a method per kind of term, each with its span (start, end)."""

    def __init__(self, text: str, inputs: Sequence[str] | None, fold: bool = True):
        self.text = text
        self.fold = fold
        self.prims: list[str | None] = []          # per node: primitive, None for an input
        self.operands: list[tuple[Arg, ...]] = []
        self.spans: list[tuple[int, int]] = []
        self.depth: list[int] = []
        self.memo: dict[tuple[Any, ...], int] = {}  # (prim, args) -> node id: one node each
        self.ids: dict[str, int] = {}                # input name -> node id
        self.names: dict[int, str] = {}              # node id -> the program's name for it
        self.constant: dict[int, float] = {}         # fold=False: node id -> value, for nodes of constants only
        self.declared: tuple[str, ...] | None = None
        self.declared_by = ""
        self.vars: tuple[str, ...] | None = None
        if inputs is not None:
            self._declare(list(inputs), "--vars", None)
            self.vars = tuple(inputs)

    def _error(self, message: str, start: int, hint: str = "") -> ParseError:
        """A ParseError pointing at text[start]."""
        return _error_at(self.text, message, start, hint)

    # --- inputs -------------------------------------------------------------------
    def _declare(self, names: list[str], by: str, header: tuple[str, int] | None,
                 offsets: Sequence[int] | None = None) -> None:
        """Fix the inputs and their order; check each name (with a column if in the text)."""
        seen: set[str] = set()
        for k, name in enumerate(names):
            problem = ""
            if not NAME.match(name):
                problem = f"{name!r} is not a valid input name (letters, digits and _, not starting with a digit)"
            elif name in FUNCTIONS or name in _SPECIAL:
                problem = f"{name!r} is a function and cannot be an input name"
            elif name in seen:
                problem = f"input {name!r} is declared twice"
            if problem:
                if header is None:
                    raise ParseError(f"{problem} in --vars", ",".join(names), sum(len(s) + 1 for s in names[:k]) + 1)
                token, start = header
                raise self._error(problem, (offsets if offsets is not None else _name_starts(token, start))[k])
            seen.add(name)
        if self.declared is not None:
            if tuple(names) != self.declared:
                raise self._error(
                    f"the header declares ({listing(names)}) but --vars says ({listing(self.declared)}); "
                    "give the order once", header[1] if header else 0)
            self.declared_by = by
            return
        self.declared, self.declared_by = tuple(names), by
        for name in names:
            self.ids[name] = self._node(None, (), (0, 0), 0)

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
        constant = not nodes or (not self.fold and all(a in self.constant for a in nodes))   # depends on no input
        if constant:
            with np.errstate(all="ignore"):
                value = float(PRIMITIVES[prim].f(*(np.float64(self.value_of(a)) for a in args)))
            if self.fold:                                             # fold: constants stay constants
                return Const(value, span), *span
        key = (prim, *[a if type(a) is int else _BITS(a.value) for a in args])
        node = self.memo.get(key)
        if node is None:
            depth = 1 + max([self.depth[a] for a in nodes], default=0)
            node = self.memo[key] = self._node(prim, args, span, depth)
            if constant:
                self.constant[node] = value
        return node, *span

    def value_of(self, a: Arg) -> float:
        """The number a constant stands for (a Const, or with fold=False a node of constants)."""
        return a.value if isinstance(a, Const) else self.constant[a]

    def constant_of(self, v: Value) -> float | None:
        """The value of v if it does not depend on the inputs, else None."""
        a = v[0]
        if isinstance(a, Const):
            return a.value
        return self.constant.get(a)

    # Each method below builds one kind of term; ``span`` is its source text (start, end).
    def binary(self, prim: str, a: Value, b: Value, span: tuple[int, int]) -> Value:
        """a op b, for op a binary primitive (add, sub, mul, div, pow, comparisons, and, or);
        ``e^u`` (the constant e as typed) is exp(u), which is more accurate and reads as typed."""
        if prim == "pow" and isinstance(a[0], Const) and a[0].value == CONSTANTS["e"]:
            return self._apply("exp", (b,), span)
        return self._apply(prim, (a, b), span)

    def unary(self, prim: str, a: Value, span: tuple[int, int]) -> Value:
        """A prefix operator applied to a (neg, not, √)."""
        return self._apply(prim, (a,), span)

    def group(self, a: Value, span: tuple[int, int]) -> Value:
        """a itself, its source widened to span: ``(a)`` and ``+a``."""
        return a[0], *span

    def const(self, literal: str, span: tuple[int, int]) -> Value:
        """A number as written."""
        return Const(float(literal), span), *span

    def input(self, name: str, span: tuple[int, int]) -> Value | None:
        """An input by name: declared, or (with no header and no --vars) new; None if the name
        is no input and cannot become one."""
        node = self.ids.get(name)
        if node is None:
            if self.declared is not None or name in CONSTANTS:
                return None
            node = self.ids[name] = self._node(None, (), span, 0)
        return node, *span

    def call(self, name: str, args: list[Value], span: tuple[int, int]) -> Value:
        """name(args...), for name a function of PRIMITIVES."""
        prim = FUNCTIONS[name]
        arity = len(PRIMITIVES[prim].partials)
        if len(args) != arity:
            raise self._error(f"{name} takes {arity} argument{'s' if arity > 1 else ''}, not {len(args)}", span[0])
        return self._apply(prim, args, span)

    # --- the finished list --------------------------------------------------------
    def _used(self, results: list[Value]) -> list[bool]:
        """Which nodes the outputs use: an unused definition of a program, or an argument
        a function ignores, is no node of the graph."""
        used = [False] * len(self.prims)
        for v in results:
            if type(v[0]) is int:
                used[v[0]] = True
        for k in range(len(self.prims) - 1, -1, -1):
            if used[k]:
                for a in self.operands[k]:
                    if type(a) is int:
                        used[a] = True
        return used


    def finish(self, results: list[Value], labels: list[str], numbering: str = "depth",
               warnings: Sequence[str] = ()) -> Graph:
        """Number inputs first (in input order), then operations stably sorted by depth, or in
        the order they were read (``numbering="appearance"``: arguments always come first)."""
        if numbering not in NUMBERINGS:
            raise ValueError(f"numbering is one of {', '.join(NUMBERINGS)}, not {numbering!r}")
        names = self.declared if self.declared is not None else tuple(sorted(self.ids, key=natural_key))
        used = self._used(results)
        ops = [k for k, p in enumerate(self.prims) if p is not None and used[k]]
        if numbering == "depth":
            ops.sort(key=self.depth.__getitem__)
        order = [self.ids[name] for name in names] + ops
        new = [-1] * len(self.prims)
        for index, old in enumerate(order):
            new[old] = index

        def remap(a: Arg) -> Arg:
            return a if isinstance(a, Const) else new[a]

        tape = tuple(Op(self.prims[k], tuple(map(remap, self.operands[k])), self.spans[k]) for k in ops)  # type: ignore[arg-type]
        outputs = tuple(remap(v[0]) for v in results)
        called = [""] * len(order)
        for node, name in self.names.items():
            if self.prims[node] is not None and new[node] >= 0:
                called[new[node]] = name
        return Graph(tuple(names), tape, outputs, tuple(labels), self.text, numbering,
                     tuple(called) if any(called) else (), tuple(warnings))


def _error_at(text: str, message: str, start: int, hint: str = "") -> ParseError:
    """A ParseError pointing at text[start], with its line and column."""
    line_start = text.rfind("\n", 0, start) + 1
    return ParseError(message, text, start - line_start + 1, text.count("\n", 0, start) + 1, hint)


# --- programs: statements expanded into the graph -----------------------------------------------
_SPECIAL = ("if", "sum", "prod")        # built-in forms that are not primitives
EXPANSION = 1_000_000                    # loop iterations and function calls a program may expand into
NODES = 3_000_000                        # operations it may build (about 1 GB of graph)


class Vector(NamedTuple):
    """A data vector, a comprehension, or inputs x[1..n]: values indexed from 1."""

    items: list[Value]
    start: int
    end: int
    labels: list[str] | None = None      # per item, for outputs: the comprehension's text and index
    first: int = 1                       # the index of items[0]


class _Definition:
    """A name defined by the program: its value (or a function's parameters and body)."""

    __slots__ = ("body", "name", "params", "start", "used", "value")

    def __init__(self, name: str, start: int, value: Any = None, params: tuple[str, ...] | None = None,
                 body: Node | None = None):
        self.name, self.start, self.value, self.params, self.body = name, start, value, params, body
        self.used = False


_PENDING = object()


class _Program:
    """Expands the statements of a program into one graph, through a ``_Builder``.

    Definitions are evaluated in order; a function's body is expanded at each call with
    its parameters bound; ``sum``, ``prod`` and ``[... for i = a..b]`` expand their body once
    per index; ``if`` with a condition that is constant while building takes its branch then.
    Evaluation uses an explicit stack of generators (one per node being expanded), so a
    formula nested 10^5 deep needs no recursion.
    """

    def __init__(self, text: str, inputs: Sequence[str] | None, fold: bool):
        self.text = text
        self.b = _Builder(text, inputs, fold)
        self.defs: dict[str, _Definition] = {}
        self.implicit: dict[str, int] = {}                 # inputs made by their first use: where
        self.vectors: dict[str, Vector] = {}               # inputs x[1..n] of the header, once declared
        self.header_vectors: dict[str, tuple[Node, Node, int]] = {}   # x -> (lo, hi, where), until declared
        self.header_order: list[tuple[str, bool, int]] = []   # the header's inputs: (name, is a vector, where)
        self.header_token = ("", 0)
        self.calling: list[str] = []                       # user functions being expanded (no recursion)
        self.steps = 0
        self.defining = ""                                  # the name being defined, while its value is read
        self.warnings: list[str] = []
        self.handlers: dict[str, Callable[[Node, dict[str, Any]], Any]] = {
            "op": self._op, "unary": self._unary, "square": self._square, "group": self._group, "call": self._call,
            "index": self._index, "reduction": self._reduction, "vector": self._vector,
            "comprehension": self._comprehension}

    def error(self, message: str, start: int, hint: str = "") -> ParseError:
        return _error_at(self.text, message, start, hint)

    # --- statements --------------------------------------------------------------
    def build(self, statements: list[Node], numbering: str) -> Graph:
        *definitions, last = statements
        if last[0] != "outputs":
            raise self.error(f"the program ends with the definition of {last[3]}; its last statement is the outputs",
                             last[1], f"add a last line with the outputs, such as {last[3]}")
        if last[3] is not None:
            self._header(*last[3])
        for statement in definitions:
            if statement[0] == "assign":
                self._assign(statement)
            elif statement[3] is not None:
                self._function(statement)
            else:
                raise self.error("only the last statement is the outputs: this one defines nothing", statement[1],
                                 "write name = ... to define a name; a line that ends with an operator continues "
                                 "on the next")
        self._declare_header()
        results: list[Value] = []
        labels: list[str] = []
        for item in last[4]:
            value = self.evaluate(item, {}, vectors=True)
            if isinstance(value, Vector):
                results += value.items
                labels += value.labels or [self._label(v) for v in value.items]
            else:
                results.append(value)
                labels.append(self._label(value))
        if not results:
            raise self.error("the program has no outputs: the range of its comprehension is empty", last[1])
        for d in self.defs.values():
            if not d.used:
                what = "function" if d.params is not None else "name"
                self.warnings.append(str(self.error(f"the {what} {d.name} is defined but not used", d.start)))
        return self.b.finish(results, labels, numbering, self.warnings)

    def _label(self, v: Value) -> str:
        return " ".join(self.text[v[1] : v[2]].split())

    def _header(self, token: str, start: int) -> None:
        """``f(x, y) =`` or ``f(x[1..n]) =`` of the outputs: the inputs, in order.  Scalars
        are declared now; a vector x[lo..hi] when its bounds can be evaluated (they may use
        constants the program defines): at its first use, or before the outputs."""
        self.header_token = (token, start)
        inside = token[token.find("(") + 1 : token.rfind(")")]
        pieces = inside.split(",") if inside.strip() else []
        offsets = _name_starts(token, start)
        by = f"the header {' '.join(token[:-1].split())}"
        for piece, at in zip(pieces, offsets):
            piece = piece.strip()
            bare = spelled(piece.split("[")[0].strip())
            if any(bare == other for other, _, _ in self.header_order):
                raise self.error(f"input {bare!r} is declared twice", at)
            vector = re.fullmatch(r"([^\W\d]\w*)\s*\[(.*)\.\.(.*)\]", piece)
            if vector is None:
                self.header_order.append((spelled(piece), False, at))
                continue
            name = spelled(vector.group(1))
            if any(name == other for other, _, _ in self.header_order):
                raise self.error(f"input {name!r} is declared twice", at)
            lo = self._bound(vector.group(2), at + piece.index("[") + 1)
            hi = self._bound(vector.group(3), at + piece.index("..") + 2)
            self.header_vectors[name] = (lo, hi, at)
            self.header_order.append((name, True, at))
        if not self.header_vectors:
            self.b._declare([name for name, _, _ in self.header_order], by, (token, start), offsets)
            return
        scalars = [(name, at) for name, vector, at in self.header_order if not vector]
        self.b._declare([name for name, _ in scalars], by, (token, start), [at for _, at in scalars]) \
            if self.b.vars is None else None
        self.b.declared = tuple(piece.strip() for piece in pieces)          # for messages, until expanded
        self.b.declared_by = by

    def _bound(self, text: str, start: int) -> Node:
        """A bound of x[lo..hi] in the header, parsed as an expression of the language."""
        from lark.exceptions import UnexpectedInput

        try:
            statements = _statements(text)
        except UnexpectedInput:
            statements = []
        if len(statements) != 1 or statements[0][3] is not None or len(statements[0][4]) != 1:
            raise self.error(f"the bound {text.strip()!r} is not an integer expression", start)
        return _shift(statements[0][4][0], start)

    def _declare_header(self) -> None:
        """The inputs in the header's order, once every vector's bounds are known."""
        if not self.header_vectors and not self.vectors:
            return
        for name in list(self.header_vectors):
            self._vector_input(name)
        names: list[str] = []
        for name, vector, _ in self.header_order:
            names += [f"{name}[{k}]" for k in range(self.vectors[name].first, self.vectors[name].first
                                                     + len(self.vectors[name].items))] if vector else [name]
        if self.b.vars is not None and tuple(names) != self.b.vars:
            raise self.error(f"the header declares ({listing(names)}) but --vars says "
                             f"({listing(self.b.vars)}); give the order once", self.header_token[1])
        for name in names:
            if name not in self.b.ids:
                self.b.ids[name] = self.b._node(None, (), (0, 0), 0)
        self.b.declared = tuple(names)

    def _vector_input(self, name: str) -> Vector:
        """The inputs x[lo] ... x[hi] of the header, made at their first use."""
        if name in self.vectors:
            return self.vectors[name]
        lo_node, hi_node, at = self.header_vectors.pop(name)
        lo, hi = self._integer(lo_node, {}, "a bound"), self._integer(hi_node, {}, "a bound")
        if hi < lo:
            raise self.error(f"the inputs {name}[{lo}..{hi}] are none: the last index is below the first", at)
        if (hi - lo + 1) > EXPANSION:
            raise self.error(f"{name}[{lo}..{hi}] declares more than {EXPANSION:,} inputs", at)
        items = []
        for k in range(lo, hi + 1):
            node = self.b.ids.get(f"{name}[{k}]")
            if node is None:
                node = self.b.ids[f"{name}[{k}]"] = self.b._node(None, (), (0, 0), 0)
            items.append((node, at, at))
        vector = self.vectors[name] = Vector(items, at, at, [f"{name}[{k}]" for k in range(lo, hi + 1)], lo)
        return vector

    def _check_new(self, name: str, start: int) -> None:
        """A name about to be defined: not a built-in, an input, or defined before."""
        if name in FUNCTIONS or name in _SPECIAL:
            raise self.error(f"{name} is a built-in function and cannot be defined", start,
                             "choose another name")
        if name in CONSTANTS:
            raise self.error(f"{name} is a built-in constant and cannot be defined", start, "choose another name")
        if name in self.defs:
            first = self.defs[name].start
            raise self.error(f"{name} is defined twice (first at line {self.text.count(chr(10), 0, first) + 1})", start)
        declared = self.b.declared or ()
        if name in declared or name in self.header_vectors or name in self.vectors:
            raise self.error(f"{name} is an input of {self.b.declared_by}: an input cannot be assigned", start)
        if name in self.implicit:
            where = self.implicit[name]
            raise self.error(f"{name} is used at line {self.text.count(chr(10), 0, where) + 1} before it is defined "
                             "here (so it was taken for an input)", start, "define a name before its first use")

    def _assign(self, statement: Node) -> None:
        _, start, _, name, item = statement
        name = spelled(name)
        self._check_new(name, start)
        self.defining = name
        value = self.evaluate(item, {}, vectors=True)
        self.defining = ""
        if not isinstance(value, Vector) and type(value[0]) is int and value[0] not in self.b.names \
                and self.b.prims[value[0]] is not None:
            self.b.names[value[0]] = name
        self.defs[name] = _Definition(name, start, value)

    def _function(self, statement: Node) -> None:
        token, start = statement[3]
        items = statement[4]
        name = spelled(token[: token.find("(")].strip())
        self._check_new(name, start)
        if len(items) != 1 or items[0][0] in ("vector", "comprehension"):
            raise self.error(f"the function {name} has several values; a function has one value, not a list "
                             "or a vector", start, "only the last statement (the outputs) may list several")
        inside = token[token.find("(") + 1 : token.rfind(")")]
        params = [spelled(p.strip()) for p in inside.split(",")] if inside.strip() else []
        offsets = _name_starts(token, start)
        for k, param in enumerate(params):
            at = offsets[k]
            if not NAME.match(param):
                raise self.error(f"{param!r} is not a parameter name (a function's parameters are plain names)", at)
            if param in FUNCTIONS or param in _SPECIAL or param in CONSTANTS:
                raise self.error(f"{param} is a built-in and cannot be a parameter", at)
            if params.index(param) != k:
                raise self.error(f"parameter {param!r} is declared twice", at)
        self.defs[name] = _Definition(name, start, params=tuple(params), body=items[0])

    # --- expressions: an explicit stack of generators ----------------------------
    def evaluate(self, node: Node, env: dict[str, Any], vectors: bool = False) -> Any:
        """The value of ``node`` (a Value, or with ``vectors`` possibly a Vector)."""
        value = self._leaf(node, env, vectors)
        if value is not _PENDING:
            return value
        stack = [self.handlers[node[0]](node, env)]
        send: Any = None
        while stack:
            try:
                child, child_env, *allow = stack[-1].send(send)
            except StopIteration as done:
                stack.pop()
                send = done.value
                continue
            send = self._leaf(child, child_env, bool(allow))
            if send is _PENDING:
                stack.append(self.handlers[child[0]](child, child_env))
                send = None
        if isinstance(send, Vector) and not vectors:
            raise self.error("a vector cannot be used here", node[1])
        return send

    def _leaf(self, node: Node, env: dict[str, Any], vectors: bool = False) -> Any:
        kind = node[0]
        if kind == "const":
            return self.b.const(node[3], (node[1], node[2]))
        if kind == "name":
            value = self.lookup(spelled(node[3]), node, env)
            if isinstance(value, Vector):
                if not vectors:
                    raise self.error(f"{node[3]} is a vector: write {node[3]}[i] for its i-th value", node[1])
                return value
            return (value[0], node[1], node[2])
        return _PENDING

    def lookup(self, name: str, node: Node, env: dict[str, Any]) -> Any:
        """A name: a parameter or index, a definition, an input, or a constant (pi, e)."""
        if name in env:
            return env[name]
        if name == self.defining:
            raise self.error(f"{name} is used in its own definition", node[1],
                             "a definition is evaluated once, in order: use another name for the new value")
        d = self.defs.get(name)
        if d is not None:
            d.used = True
            if d.params is not None:
                raise self.error(f"{name} is a function: call it as {name}(...)", node[1])
            return d.value
        if name in self.vectors or name in self.header_vectors:
            return self._vector_input(name)
        if name in FUNCTIONS or name in _SPECIAL:
            raise self.error(f"{name} is a function: call it as {name}(...)", node[1])
        value = self.b.input(name, (node[1], node[2]))
        if value is not None:
            if self.b.declared is None and name not in self.implicit:
                self.implicit[name] = node[1]
            return value
        if name in CONSTANTS:
            return Const(CONSTANTS[name], (node[1], node[2])), node[1], node[2]
        known = [n for n in self.b.declared or ()] + list(self.defs)
        hint = _suggest(name, known) + f"declared inputs: {listing(self.b.declared or ())}"
        raise self.error(f"{name!r} is not an input of {self.b.declared_by}", node[1], hint)

    def _step(self, start: int, count: int = 1) -> None:
        self.steps += count
        if self.steps > EXPANSION:
            raise self.error(f"the program expands to more than {EXPANSION:,} loop iterations and function calls "
                             "(README: Limits)", start, "use smaller ranges, or functions that call each other "
                             "fewer times")
        if len(self.b.prims) > NODES:
            raise self.error(f"the program builds more than {NODES:,} operations (README: Limits)", start,
                             "use smaller ranges")

    def _integer(self, node: Node, env: dict[str, Any], what: str) -> int:
        """An integer constant expression (a bound or an index)."""
        if node[0] == "name" and node[3] in env:                 # x[i]: the index itself, the common case
            a = env[node[3]][0]
            if isinstance(a, Const) and a.value == int(a.value):
                return int(a.value)
        value = self.b.constant_of(self.evaluate(node, env))
        if value is None:
            raise self.error(f"{what} must be an integer constant; this depends on the inputs", node[1])
        if not np.isfinite(value) or value != int(value):
            raise self.error(f"{what} must be an integer, not {format_number(value)}", node[1])
        return int(value)

    # Each handler is a generator: it yields (child, env) to have a child evaluated, and
    # returns the node's value.
    def _op(self, node: Node, env: dict[str, Any]) -> Any:
        a = yield node[4], env
        b = yield node[5], env
        return self.b.binary(node[3], a, b, (node[1], node[2]))

    def _unary(self, node: Node, env: dict[str, Any]) -> Any:
        a = yield node[4], env
        return self.b.unary(node[3], a, (node[1], node[2]))

    def _square(self, node: Node, env: dict[str, Any]) -> Any:
        a = yield node[3], env
        power, at = node[4]
        return self.b.binary("pow", a, (Const(power, (at, at + 1)), at, at + 1), (node[1], node[2]))

    def _group(self, node: Node, env: dict[str, Any]) -> Any:
        inner = node[3]
        while inner[0] == "group":                 # ((x)): only the outermost span is kept
            inner = inner[3]
        a = yield inner, env
        return self.b.group(a, (node[1], node[2]))

    def _call(self, node: Node, env: dict[str, Any]) -> Any:
        _, start, end, raw, args = node
        name = spelled(raw)
        span = (start, end)
        if name == "if":
            if len(args) != 3:
                raise self.error(f"if takes 3 arguments (condition, then, else), not {len(args)}", start)
            c = yield args[0], env
            truth = self.b.constant_of(c)
            if truth is not None and not np.isnan(truth):          # chosen while building
                value = yield (args[1] if truth != 0 else args[2]), env
                return self.b.group(value, span)
            a = yield args[1], env
            b = yield args[2], env
            return self.b._apply("if", (c, a, b), span)
        if name in ("sum", "prod"):
            raise self.error(f"{name} takes an index and its range first: {name}(i = 1..n, expression)", start)
        d = self.defs.get(name) if name not in env else None
        if d is not None and d.params is not None:
            d.used = True
            if len(args) != len(d.params):
                raise self.error(f"{name} takes {len(d.params)} argument{'s' if len(d.params) != 1 else ''}, "
                                 f"not {len(args)}", start)
            if name in self.calling:
                chain = " → ".join([*self.calling[self.calling.index(name):], name])
                raise self.error(f"{name} calls itself ({chain}): functions are expanded inline, so they cannot "
                                 "be recursive", start)
            self._step(start)
            bound = {}
            for param, arg in zip(d.params, args):
                bound[param] = yield arg, env, True
            self.calling.append(name)
            value = yield d.body, bound
            self.calling.pop()
            return self.b.group(value, span)
        if name not in FUNCTIONS:
            raise _not_a_function(self.b, name, start, [*self.defs, *env])
        values = []
        for arg in args:
            values.append((yield arg, env))
        return self.b.call(name, values, span)

    def _index(self, node: Node, env: dict[str, Any]) -> Any:
        _, start, end, raw, index = node
        name = spelled(raw)
        vector = self.lookup(name, ("name", start, start + len(raw), raw), env)
        if not isinstance(vector, Vector):
            raise self.error(f"{name} is not a vector, so it cannot be indexed", start)
        k = self._integer(index, env, "an index")
        first = vector.first
        last = first + len(vector.items) - 1
        if not first <= k <= last:
            raise self.error(f"the index {k} is out of range: {name} has indices {first}..{last}", index[1])
        ref = vector.items[k - first][0]
        yield from ()
        return ref, start, end

    def _range(self, node: Node, env: dict[str, Any], index: tuple[str, int], lo: Node, hi: Node) -> range:
        name, at = index
        name = spelled(name)
        if name in FUNCTIONS or name in _SPECIAL or name in CONSTANTS:
            raise self.error(f"{name} is a built-in and cannot be an index", at)
        if name in (self.b.declared or ()) or name in self.vectors or name in self.header_vectors:
            other = next(n for n in ("i", "j", "k", "m", "q") if n != name and n not in (self.b.declared or ()))
            raise self.error(f"the index {name} has the name of an input", at, f"choose another name, such as {other}")
        first, last = self._integer(lo, env, "a bound"), self._integer(hi, env, "a bound")
        if last - first + 1 > EXPANSION - self.steps:
            self._step(node[1], last - first + 1)
        return range(first, last + 1)

    def _reduction(self, node: Node, env: dict[str, Any]) -> Any:
        _, start, end, raw, index, lo, hi, body = node
        name = spelled(raw)
        if name not in ("sum", "prod"):
            raise self.error(f"{name}(i = a..b, ...) is not a sum or product: only sum and prod take an index range",
                             start)
        prim = "add" if name == "sum" else "mul"
        total: Value | None = None
        for k in self._range(node, env, index, lo, hi):
            self._step(start)
            term = yield body, {**env, spelled(index[0]): (Const(float(k), (0, 0)), 0, 0)}
            total = term if total is None else self.b.binary(prim, total, term, (start, end))
        if total is None:                                          # an empty range
            return Const(0.0 if name == "sum" else 1.0, (start, end)), start, end
        return self.b.group(total, (start, end))

    def _vector(self, node: Node, env: dict[str, Any]) -> Any:
        items = []
        for item in node[3]:
            items.append((yield item, env))
        return Vector(items, node[1], node[2])

    def _comprehension(self, node: Node, env: dict[str, Any]) -> Any:
        _, start, end, body, index, lo, hi = node
        items, labels = [], []
        name = spelled(index[0])
        text = " ".join(self.text[body[1] : body[2]].split())
        for k in self._range(node, env, index, lo, hi):
            self._step(start)
            items.append((yield body, {**env, name: (Const(float(k), (0, 0)), 0, 0)}))
            labels.append(f"{text} ({name} = {k})")
        return Vector(items, start, end, labels)


def _shift(node: Any, by: int) -> Any:
    """A syntax tree parsed from a piece of the text, its positions moved to where the piece is."""
    if isinstance(node, list):
        return [_shift(n, by) for n in node]
    if isinstance(node, tuple) and node and isinstance(node[0], str) and len(node) >= 3 and isinstance(node[1], int):
        return (node[0], node[1] + by, node[2] + by, *(_shift(f, by) for f in node[3:]))
    if isinstance(node, tuple) and len(node) == 2 and isinstance(node[0], str) and isinstance(node[1], int):
        return (node[0], node[1] + by)
    return node


def _not_a_function(b: _Builder, name: str, start: int, defined: Sequence[str] = ()) -> ParseError:
    """name(...) where name is no function: a product without its *, or a function adjac lacks."""
    if name in b.ids or name in CONSTANTS or name in defined:
        return b._error(f"{name} is not a function", start, f"write {name}*(...) for a product: adjac needs an explicit *")
    known = _MISSING.get(name) or _suggest(name, FUNCTIONS)     # min is no misspelt sin, atan2 no atan
    hint = known + "functions: " + ", ".join(sorted(FUNCTIONS))
    if not known:
        hint += f"; for a product write {name}*(...)"
    return b._error(f"unknown function {name!r}", start, hint)


_MISSING = {      # functions people reach for that adjac does not have (yet): what to write instead
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
_MISSING["arctan2"] = "adjac spells it atan2: write atan2(y, x); "


def _suggest(name: str, known: Sequence[str] | dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


def _name_starts(token: str, start: int) -> list[int]:
    """Where each name between the parentheses of a header or a function's definition begins
    in the text (``token`` starts at ``start``), in one pass over them."""
    open_at = token.find("(") + 1
    inside = token[open_at : token.rfind(")")]
    found: list[int] = []
    if inside.strip():
        pos = start + open_at
        for piece in inside.split(","):
            found.append(pos + len(piece) - len(piece.lstrip()))
            pos += len(piece) + 1
    return found
