"""Errors a user can fix; the command turns them into messages at one boundary."""

from __future__ import annotations


class AdjacError(Exception):
    """Something the user can fix on the command line; str(err) is the whole message."""


class ParseError(AdjacError):
    """A problem in the expression text, shown with a caret under the problem.

    ``column`` is 1-based and counts characters on ``line`` (also 1-based).
    """

    def __init__(self, message: str, text: str, column: int, line: int = 1, hint: str = ""):
        self.message, self.text, self.column, self.line, self.hint = message, text, column, line, hint
        lines = text.split("\n")
        shown = lines[line - 1] if 0 < line <= len(lines) else ""
        where = f"line {line}, column {column}" if len(lines) > 1 else f"column {column}"
        shown, column = _window(shown.replace("\t", " "), column)
        msg = f"{message} at {where}\n  {shown}\n  {' ' * (column - 1)}^"
        super().__init__(msg + (f"\n{hint}" if hint else ""))


def _window(line: str, column: int, width: int = 72) -> tuple[str, int]:
    """Cut a long line to about ``width`` characters around ``column``; new column."""
    if len(line) <= width:
        return line, column
    start = max(0, min(column - 1 - width // 2, len(line) - width))
    piece = line[start : start + width]
    if start > 0:
        piece, column = "…" + piece[1:], column - start
    if start + width < len(line):
        piece = piece[:-1] + "…"
    return piece, column
