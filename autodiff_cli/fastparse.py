"""A hand-written parser for text that is valid, feeding the same callbacks as Lark.

``grammar/adjac.lark`` stays the specification of the language, and Lark stays the
parser for everything that is not plainly valid: ``feed`` returns False at the first
token it does not expect (or on anything the graph builder rejects, or on nesting too
deep for recursion), and ``parse.parse`` then runs Lark from the start, so every error
message comes from Lark.  What this buys is speed where it matters: it needs no
``import lark`` (start-up) and reads a 35 KB expression several times faster.

It is recursive descent over the grammar's layers, one method per rule, and calls the
builder's callbacks in the order the LALR parser reduces (post-order, left to right),
so the graph is identical, node numbering included.  A test compares both parsers on
random expressions.
"""

from __future__ import annotations

import re
from typing import Any

# The terminals of grammar/adjac.lark, in Lark's order (longer literals first: ** before *).
_TOKEN = re.compile(r"""
    (?P<WS>[ \t\f\r\n]+)
  | (?P<NUMBER>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<NAME>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<POW>\*\*|\^)
  | (?P<STAR>\*) | (?P<SLASH>/) | (?P<PLUS>\+) | (?P<MINUS>-)
  | (?P<LPAR>\() | (?P<RPAR>\)) | (?P<COMMA>,)
""", re.VERBOSE)
_HEADER = re.compile(r"[ \t\f\r\n]*([A-Za-z_][A-Za-z0-9_]*[ \t\r\n]*\([^()=]*\)[ \t\r\n]*=)")


class Tok(str):
    """The part of a Lark Token the callbacks read: its text, type and span."""

    type: str
    start_pos: int
    end_pos: int
    line: int = 1                    # only error messages read these, and errors are
    column: int = 1                  # reported again by Lark, with the true place


def _tok(kind: str, text: str, start: int, end: int) -> Tok:
    t = Tok(text)
    t.type, t.start_pos, t.end_pos = kind, start, end
    return t


class _Op:
    """A binary operator token: ``_binary`` reads only its type."""

    def __init__(self, kind: str):
        self.type = kind


_OPS = {kind: _Op(kind) for kind in ("PLUS", "MINUS", "STAR", "SLASH", "POW")}


class _Reject(Exception):
    """Not plainly valid: leave it to Lark."""


def feed(text: str, builder: Any) -> bool:
    """Parse ``text`` into ``builder`` (already reset); False means: run Lark instead."""
    from .errors import ParseError

    try:
        _Parser(text, builder).start()
        return True
    except (_Reject, ParseError, RecursionError):
        return False


class _Parser:
    def __init__(self, text: str, builder: Any):
        self.text, self.b = text, builder
        pos = 0
        header = _HEADER.match(text)
        if header:
            self.header: Tok | None = _tok("HEADER", header.group(1), header.start(1), header.end(1))
            pos = header.end()
        else:
            self.header = None
        kinds: list[str] = []
        spans: list[tuple[int, int]] = []
        for m in _TOKEN.finditer(text, pos):
            if m.start() != pos:                    # a character that is no token
                raise _Reject
            pos = m.end()
            kind = m.lastgroup
            assert kind is not None
            if kind != "WS":
                kinds.append(kind)
                spans.append((m.start(), pos))
        if pos != len(text):
            raise _Reject
        kinds.append("$END")
        spans.append((pos, pos))
        self.kinds, self.spans, self.i = kinds, spans, 0

    # --- tokens ----------------------------------------------------------------------------
    def take(self, kind: str) -> Tok:
        if self.kinds[self.i] != kind:
            raise _Reject
        start, end = self.spans[self.i]
        self.i += 1
        return _tok(kind, self.text[start:end], start, end)

    # --- rules, loosest first (as in the grammar) --------------------------------------------
    def start(self) -> None:
        b = self.b
        if self.header is not None:
            b.header(self.header)                  # Lark's lexer callback: before the body
        first = None
        if self.kinds[self.i] == "LPAR":           # (e1, e2, ...) or an output starting with (
            lpar = self.take("LPAR")
            inner = self.expr()
            if self.kinds[self.i] == "COMMA":
                items = [inner]
                while self.kinds[self.i] == "COMMA":
                    comma = self.take("COMMA")
                    items.append(self.expr())
                rpar = self.take("RPAR")
                self.take("$END")
                b.start_paren([lpar, items[:-1], comma, items[-1], rpar])
                return
            first = b.paren([lpar, inner, self.take("RPAR")])
        outputs = [self.expr(first)]
        while self.kinds[self.i] == "COMMA":
            self.i += 1
            outputs.append(self.expr())
        self.take("$END")
        b.start([outputs])

    def expr(self, first: Any = None) -> Any:
        v = self.term(first)
        while self.kinds[self.i] in ("PLUS", "MINUS"):
            op = _OPS[self.kinds[self.i]]
            self.i += 1
            v = self.b._binary([v, op, self.term()])
        return v

    def term(self, first: Any = None) -> Any:
        v = self.factor(first)
        while self.kinds[self.i] in ("STAR", "SLASH"):
            op = _OPS[self.kinds[self.i]]
            self.i += 1
            v = self.b._binary([v, op, self.factor()])
        return v

    def factor(self, first: Any = None) -> Any:
        if first is None:
            kind = self.kinds[self.i]
            if kind == "MINUS":
                sign = self.take("MINUS")
                return self.b.neg([sign, self.factor()])
            if kind == "PLUS":
                sign = self.take("PLUS")
                return self.b.pos([sign, self.factor()])
        return self.power(first)

    def power(self, first: Any = None) -> Any:
        v = self.atom() if first is None else first
        if self.kinds[self.i] == "POW":
            self.i += 1
            return self.b._binary([v, _OPS["POW"], self.factor()])   # right-associative
        return v

    def atom(self) -> Any:
        kind = self.kinds[self.i]
        if kind == "NUMBER":
            return self.b.const([self.take("NUMBER")])
        if kind == "NAME":
            name = self.take("NAME")
            if self.kinds[self.i] != "LPAR":
                return self.b.var([name])
            lpar = self.take("LPAR")
            args = [self.expr()]
            while self.kinds[self.i] == "COMMA":
                self.i += 1
                args.append(self.expr())
            return self.b.call([name, lpar, args, self.take("RPAR")])
        if kind == "LPAR":
            lpar = self.take("LPAR")
            inner = self.expr()
            return self.b.paren([lpar, inner, self.take("RPAR")])
        raise _Reject
