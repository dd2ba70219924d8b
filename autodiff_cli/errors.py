"""Every error a user can cause, and the exit statuses they end in.

The command (``cli.py``) turns them into messages and statuses at one boundary:

    AdjacError        something the user can fix; str(err) is the whole message       exit 2
      ParseError        the expression text, with a caret under the problem
      UsageError        the command line; ``option`` names what to blame ('--at')
      PointsError       a malformed --points file, at its line or row
      SymbolicUnavailable  SymPy is missing
      RenderError       Graphviz's dot failed
    WriteError        an output could not be written                                  exit 74
    Interrupted       a signal stopped the run (a BaseException, like KeyboardInterrupt)  128 + N
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """How a run ends (README, "Exit status")."""

    OK = 0                 # results printed
    NOT_FINITE = 1         # results printed, but some are not finite, or --check found a disagreement
    USAGE = 2              # the command line or the expression is wrong: nothing computed
    WRITE_FAILED = 74      # an output could not be written (EX_IOERR of sysexits.h)
    SIGNAL = 128           # + N: stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 141 SIGPIPE)


class AdjacError(Exception):
    """Something the user can fix on the command line; str(err) is the whole message."""


class UsageError(AdjacError):
    """A command line that cannot run as given: ``option`` ('--at', '--seed') is what to
    blame, or None for the combination as a whole."""

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.message, self.option = message, option


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


class Interrupted(BaseException):
    """A signal stopped the run.  Like KeyboardInterrupt it is no ``Exception``, so that no
    ``except Exception`` swallows it; ``Guard`` fills in what was left unwritten."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.points: int | None = None          # points computed before it, when a loop counted them
        self.unwritten: list[str] = []          # files left as they were
        self.incomplete: list[str] = []         # streams that may hold part of the output

    @property
    def status(self) -> int:
        return ExitStatus.SIGNAL + self.signum


class WriteError(Exception):
    """A write to an output failed: a full disk, /dev/full, a reader that went away."""

    def __init__(self, name: str, err: OSError):
        self.name, self.errno = name, err.errno
        super().__init__(f"cannot write {name}: {err.strerror or err}")


class PointsError(AdjacError):
    """A malformed points file: ``where`` is 'line 7' (text) or 'row 7' (npy)."""

    def __init__(self, source: str, where: str, message: str):
        self.source, self.where, self.message = source, where, message
        super().__init__(f"{source}, {where}: {message}" if where else f"{source}: {message}")


class SymbolicUnavailable(AdjacError):
    """SymPy (a dependency) cannot be imported; the message says how to install it."""


class RenderError(AdjacError):
    """dot is missing or failed; str(err) says what to do."""
