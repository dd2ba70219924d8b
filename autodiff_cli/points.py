"""The points: what --at says, and what --points FILE holds, as (N, n) chunks in input order.

``--at`` gives one ``PointSpec`` per option (values in input order, or by name); ``resolve``
puts it in input order.  ``Points`` reads ``--points FILE``: one point per line (comma- or
whitespace-separated, an optional header row of input names in any order, ``#`` comments and
blank lines skipped), or an ``.npy`` array of shape (N, n), a chunk at a time, so memory stays
bounded whatever N is.  A malformed row raises ``PointsError`` carrying its line number, but
only after every row before it has been handed out: the caller writes those in full, then stops.

``problem`` explains one field that is not a plain finite decimal; ``commas`` spots a list
written with spaces or semicolons between its values: messages that point at the fix.
"""

from __future__ import annotations

import codecs
import io
import math
import os
import re
import unicodedata
import warnings
from collections.abc import Iterator
from typing import IO, NamedTuple

import numpy as np

from .core.graph import Graph, format_number, listing
from .core.parse import DECIMAL, NAME, constant
from .errors import ParseError, PointsError, UsageError

# typographic minus signs that word processors and some keyboards produce instead of '-'
MINUS_SIGNS = str.maketrans(dict.fromkeys("\u2212\u2012\u2013\u2014\u2010\u2011\ufe63\uff0d", "-"))
MISSING_EXPONENT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][+-]?\Z")


def not_a_decimal(s: str) -> str:
    """Why the stripped field ``s`` is not a finite decimal: a clause that starts with the value."""
    if not s:
        return "empty value"
    if DECIMAL.match(s):
        return f"{s} overflows a double; give a finite number"
    low = s.lower().lstrip("+-")
    if low in ("nan", "inf", "infinity"):
        return f"{s} is not allowed; give finite numbers"
    if low.startswith("0x"):
        return f"{s} is hexadecimal; give a decimal number"
    plain = unicodedata.normalize("NFKC", s.translate(MINUS_SIGNS)).translate(MINUS_SIGNS)
    if plain != s and DECIMAL.match(plain):
        odd = next(c for c in s if not c.isascii())
        return (f"{s!r} is typed with {unicodedata.name(odd, 'a non-ASCII character').lower()} ({odd}); "
                f"type plain ASCII: {plain}")
    if len(s) > 2 and s[0] == s[-1] and s[0] in "'\"" and DECIMAL.match(s[1:-1].strip()):
        return f"{s} is in quotes; write the number without them: {s[1:-1].strip()}"
    if MISSING_EXPONENT.match(s):
        return f"{s!r} has no exponent after its 'e'; write {s.rstrip('+-')[:-1]} or, for a power of ten, {s.rstrip('+-')}3"
    if "_" in s and DECIMAL.match(s.replace("_", "")):
        return f"{s!r} has a digit separator '_'; write {s.replace('_', '')}"
    if any(c.isspace() for c in s):
        return f"{s!r} holds {len(s.split())} values; separate values with commas: {','.join(s.split())}"
    if not s.isascii():
        odd = next(c for c in s if not c.isascii())
        return f"{s!r} is not a number: it has {unicodedata.name(odd, 'a non-ASCII character').lower()} ({odd})"
    if s[0] in "([{" or s[-1] in ")]}":
        return f"{s!r} is not a number; give the values without brackets, such as 1,2"
    if re.search(r"[A-Za-z*/^]", s):
        return f"{s!r} is not a number; give decimal numbers such as 0.5 or 3.14159, not names or formulas"
    return f"{s!r} is not a number (write decimals with a point: 1.5, 2e-3)"


def commas(text: str) -> str | None:
    """If ``text`` separates its values with spaces or semicolons: the same list with commas."""
    text = re.sub(r"\s*=\s*", "=", text)              # x = 1 is one value, by name
    fields = text.strip().split(";")
    if len(fields) > 1:                                 # a spreadsheet's list: 1,5;2,5 means 1.5 and 2.5
        return ",".join(f.strip().replace(",", ".") for f in fields)
    if not any(len(f.split()) > 1 for f in text.split(",")):
        return None
    return ",".join(w for f in text.split(",") for w in f.split())


NPY_MAGIC = b"\x93NUMPY"


BLOCK = 4 * 2**20              # bytes of text read at a time


LINE_BYTES_PER_INPUT = 64      # a text line may be this long per input, or BLOCK, whichever is more


# --- reading points ----------------------------------------------------------------------
class Points:
    """The points of ``--points FILE`` as (rows, n) float chunks, in input order.

    ``done`` and ``total`` (bytes for text, rows for npy; total None for a pipe) let a
    progress bar follow along.
    """

    def __init__(self, path: str, graph: Graph, chunk: int, stdin: IO[bytes] | None = None):
        self.path, self.graph, self.chunk = path, graph, chunk
        self.name = "standard input" if path == "-" else path
        self.done, self.total = 0, None if path == "-" else os.path.getsize(path)
        if path == "-":
            assert stdin is not None
            self.stream: IO[bytes] = stdin
        else:
            self.stream = open(path, "rb")
        self.head = self.stream.read(len(NPY_MAGIC))
        if self.head.startswith(codecs.BOM_UTF8):      # Excel's "CSV UTF-8", Notepad: a byte-order mark
            self.head = self.head[len(codecs.BOM_UTF8):] + self.stream.read(len(codecs.BOM_UTF8))
            self.done = len(codecs.BOM_UTF8)
        self._error: PointsError | None = None     # a malformed line, raised after the rows before it
        self.is_npy = self.head == NPY_MAGIC

    @property
    def expected(self) -> int | None:
        """About how many points: the rows of an .npy (known once reading has begun), for
        text a guess from its size (8 bytes a number), None for a pipe."""
        if self.total is None:
            return None
        return self.total if self.is_npy else self.total // (8 * max(1, self.graph.n))

    def __iter__(self) -> Iterator[np.ndarray]:
        try:
            yield from (self._npy() if self.is_npy else self._text())
        finally:
            if self.path != "-":
                self.stream.close()

    # --- .npy ------------------------------------------------------------------------
    def _npy(self) -> Iterator[np.ndarray]:
        """Rows read a chunk at a time (not memory-mapped: mapped pages of a big file would
        count as resident memory); a Fortran-ordered file is mapped, as it must be."""
        stream = self.stream
        try:
            version = (stream.read(1)[0], stream.read(1)[0])
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        except (ValueError, IndexError) as err:
            raise PointsError(self.name, "", f"not a readable .npy array ({err})") from None
        self._check_npy(shape, dtype)
        self.total = int(shape[0])
        if fortran and len(shape) == 2 and shape[0] > 1 and shape[1] > 1:
            if self.path == "-":
                raise PointsError(self.name, "", "a Fortran-ordered array cannot be read from a pipe; "
                                                 "save it with np.save(np.ascontiguousarray(X)) or give a file")
            yield from self._fortran(int(shape[0]), dtype)
            return
        width = self.graph.n * dtype.itemsize
        start = 0
        while start < shape[0]:
            rows = min(self.chunk, shape[0] - start)
            raw = stream.read(rows * width)
            if len(raw) < rows * width:
                raise PointsError(self.name, f"row {start + len(raw) // width + 1}", "the array ends early")
            X = np.frombuffer(raw, dtype=dtype).reshape(rows, self.graph.n).astype(float)
            yield from self._finite(X, start)
            start += rows
            self.done = start

    def _fortran(self, N: int, dtype: np.dtype) -> Iterator[np.ndarray]:
        """The rows of a Fortran-ordered (N, n) array, column after column in the file, mapped
        (never unpickled); a file shorter than its header says gives the rows it holds whole,
        then 'the array ends early' at the first row whose last column is missing."""
        n, size = self.graph.n, dtype.itemsize
        offset = self.stream.tell()
        held = max(0, os.path.getsize(self.path) - offset) // size       # values the file holds
        whole = max(0, min(N, held - (n - 1) * N))                         # rows with every column
        if whole:
            flat = np.memmap(self.path, dtype=dtype, mode="r", offset=offset, shape=(min(held, N * n),))
            array = np.lib.stride_tricks.as_strided(flat, shape=(whole, n), strides=(size, N * size),
                                                    writeable=False)
            for start in range(0, whole, self.chunk):
                X = np.asarray(array[start : start + self.chunk], dtype=float)
                yield from self._finite(X, start)
                self.done = start + len(X)
        if whole < N:
            raise PointsError(self.name, f"row {whole + 1}", "the array ends early")

    def _check_npy(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        n = self.graph.n
        if dtype.kind not in "fiu":
            raise PointsError(self.name, "", f"the array holds {dtype}, not numbers")
        if any(k < 0 for k in shape):
            raise PointsError(self.name, "", f"the header says shape {tuple(shape)}: a size cannot be negative "
                                             "(the file is damaged, or was not written by numpy)")
        if not (len(shape) == 2 and shape[1] == n) and not (len(shape) == 1 and n == 1):
            raise PointsError(self.name, "", f"the array has shape {tuple(shape)}, but the points need shape (N, {n}): "
                                             f"one row per point, one column per input ({', '.join(self.graph.inputs)})")

    def _finite(self, X: np.ndarray, start: int) -> Iterator[np.ndarray]:
        """X, or its rows before the first non-finite one and then a PointsError."""
        bad = ~np.isfinite(X)
        if not bad.any():
            yield X
            return
        r, j = (int(k) for k in np.argwhere(bad)[0])
        if r:
            yield X[:r]
        raise PointsError(self.name, f"row {start + r + 1}",
                          f"{self.graph.inputs[j]} is {X[r, j]}; every value must be a finite number")

    # --- text --------------------------------------------------------------------------
    def _text(self) -> Iterator[np.ndarray]:
        if self.head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise PointsError(self.name, "line 1", "the text is UTF-16 (Excel's \"Unicode Text\"); "
                                                   "save it as UTF-8, e.g. as \"CSV UTF-8\"")
        line_no = 0                           # lines before the current block
        order: list[int] | None = None        # column of each input, from a header
        comma = True
        pending: list[bytes] = []             # pieces of the unfinished line, joined once it ends
        waiting = 0                           # their length
        longest = max(BLOCK, LINE_BYTES_PER_INPUT * self.graph.n)
        first = True
        while True:
            read = self.stream.read(BLOCK)
            if first and not pending:
                read = self.head + read
            eof = not read
            end = read.find(b"\n")
            if waiting + (len(read) if end < 0 else end) > longest:
                raise self._too_long(line_no + 1, longest, b"\0" in read)
            if end < 0 and not eof:           # the line goes on: keep its pieces
                pending.append(read)
                waiting += len(read)
                continue
            cut = len(read) if eof else read.rfind(b"\n") + 1      # keep the unfinished last line
            raw = b"".join([*pending, read[:cut]])
            pending, waiting = [read[cut:]], len(read) - cut
            self.done += len(raw)
            if raw:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    good = raw[: raw.rfind(b"\n", 0, err.start) + 1]
                    yield from self._block(good.decode("utf-8"), line_no, order, comma)
                    bad_line = line_no + good.count(b"\n") + 1
                    raise PointsError(self.name, f"line {bad_line}",
                                      "the line is not UTF-8 text (is this a binary file? .npy arrays "
                                      "start with \\x93NUMPY)") from None
                if first:
                    text, skipped, order, comma, found = self._header(text, line_no)
                    line_no += skipped
                    first = not found
                yield from self._block(text, line_no, order, comma)
                line_no += text.count("\n")
            if eof:
                return

    def _too_long(self, line: int, longest: int, binary: bool) -> PointsError:
        what = "is this a binary file? " if binary else ""
        return PointsError(self.name, f"line {line}", f"the line is longer than {longest:,} bytes ({what}a line "
                           f"holds one point: {self.graph.n} number{'s' if self.graph.n != 1 else ''} "
                           "separated by commas or spaces)")

    def _header(self, text: str, line_no: int) -> tuple[str, int, list[int] | None, bool, bool]:
        """Find the first content line: a header of names, or data.  Returns the text
        after any header, how many lines that skipped, the column order, the separator,
        and whether a content line was found at all."""
        lines = text.split("\n")
        for k, line in enumerate(lines):
            content = line.partition("#")[0].strip()
            if not content:
                continue
            comma = "," in content
            fields = _fields(content)
            if any(DECIMAL.match(f) for f in fields) or not any(NAME.match(f) for f in fields):
                return "\n".join(lines[k:]), k, None, comma, True
            return "\n".join(lines[k + 1 :]), k + 1, self._order(fields, line_no + k + 1), comma, True
        return text, 0, None, True, False

    def _order(self, names: list[str], line: int) -> list[int]:
        inputs = self.graph.inputs
        where = f"line {line}"
        for name in names:
            if not NAME.match(name):
                raise PointsError(self.name, where, f"the header has {name!r}, which is not an input name")
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise PointsError(self.name, where, f"the header names {', '.join(twice)} twice")
        unknown = [name for name in names if name not in inputs]
        if unknown:
            raise PointsError(self.name, where, f"the header names {', '.join(unknown)}, which "
                              f"{'is not an input' if len(unknown) == 1 else 'are not inputs'}; "
                              f"the inputs are {', '.join(inputs)}")
        missing = [name for name in inputs if name not in names]
        if missing:
            raise PointsError(self.name, where, f"the header has no column for {', '.join(missing)}; "
                              f"the inputs are {', '.join(inputs)}")
        return [names.index(name) for name in inputs]

    def _block(self, text: str, line_no: int, order: list[int] | None, comma: bool) -> Iterator[np.ndarray]:
        """The points of whole lines of text, in chunks; a fast C parse, and a line-by-line
        one that finds the exact line when the fast one fails or sees a non-finite value."""
        if not text.strip():
            return
        n = self.graph.n
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")                 # "input contained no data"
                X = np.loadtxt(io.StringIO(text), delimiter="," if comma else None, comments="#", ndmin=2,
                               dtype=float)
            ok = X.shape[1] == n and bool(np.isfinite(X).all())
        except ValueError:
            ok = False
        if not ok:
            X = self._lines(text, line_no, order)
        if order is not None:
            X = X[:, order]
        for start in range(0, len(X), self.chunk):
            yield X[start : start + self.chunk]
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def _lines(self, text: str, line_no: int, order: list[int] | None = None) -> np.ndarray:
        """Line by line: the rows before the first malformed one (whose error is kept).
        Fields are named by their column: the header's names, else the inputs in order."""
        n, names = self.graph.n, self.graph.inputs
        columns = list(names) if order is None else [names[order.index(c)] for c in range(n)]
        rows: list[list[float]] = []
        for k, line in enumerate(text.split("\n"), start=line_no + 1):
            content = line.partition("#")[0].strip()
            if not content:
                continue
            fields = _fields(content)
            problem = ""
            if ";" in content:
                problem = (f"the values are separated by ';'; adjac reads values separated by commas or spaces, "
                           f"with a point in decimals, such as {commas(content)}")
            elif len(fields) == n + 1 and fields[-1] == "" and "," in content:
                problem = f"the line ends with a comma; give {n} value{'s' if n != 1 else ''} ({listing(columns)})"
            elif len(fields) != n:
                problem = (f"{len(fields)} value{'s' if len(fields) != 1 else ''} but the "
                           + (f"function has {n} input{'s' if n != 1 else ''} ({listing(names)})" if order is None
                              else f"header has {n} column{'s' if n != 1 else ''} ({listing(columns)})"))
            else:
                row = []
                for name, f in zip(columns, fields):
                    if not DECIMAL.match(f):
                        problem = f"{name} is {f!r}, not a number" if f else f"{name} is empty"
                        why = not_a_decimal(f) if f else ""
                        if f in names:
                            problem += " (a header row of input names may only come first)"
                        elif "=" in f:
                            problem += f" (name the columns once, in a header row: {','.join(columns)})"
                        elif why and "not a number" not in why and "not allowed" not in why:
                            problem = f"{name}: {why}"
                        break
                    v = float(f)
                    if not np.isfinite(v):
                        problem = f"{name} is {f}, which overflows a double"
                        break
                    row.append(v)
            if problem:
                self._error = PointsError(self.name, f"line {k}", problem + f": {_shorten(content)}")
                break
            rows.append(row)
        return np.array(rows, dtype=float).reshape(len(rows), n)


def _fields(content: str) -> list[str]:
    return [f.strip() for f in content.split(",")] if "," in content else content.split()


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PointSpec(NamedTuple):
    """What ``--at`` said: values in input order, or by name."""

    text: str
    values: tuple[float, ...]
    names: tuple[str, ...] | None         # None: positional
    uncertainties: tuple[float | None, ...] | None = None   # value±u: the u of each value (None: none given)


def decimal(text: str, what: str) -> float:
    """A finite number: a decimal, or a constant expression of the language (pi/2,
    1/sqrt(2), 2*pi, −1); else a ValueError that says what is wrong with it."""
    s = text.strip()
    if not s:
        raise ValueError(f"{what}: empty value; give numbers separated by single commas, such as 1,2")
    if DECIMAL.match(s):
        if not math.isfinite(float(s)):
            raise ValueError(f"{what}: {not_a_decimal(s)}")
        return float(s)
    try:
        value = constant(s)
    except ParseError as err:
        why = not_a_decimal(s)
        if why.endswith("not names or formulas"):           # a formula, but not a constant one: say why
            why = f"{s!r} is not a number or a constant expression: {err.message}"
        raise ValueError(f"{what}: {why}") from None
    if not math.isfinite(value):
        raise ValueError(f"{what}: {s} is {format_number(value)}; give finite numbers")
    return value


def fields(text: str) -> list[str]:
    """``text`` split at its commas outside parentheses: ``atan2(1, 2),3`` is two values."""
    parts, depth, start = [], 0, 0
    for k, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth <= 0:
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    return parts


def separated(text: str, what: str) -> str | None:
    """The message for a list written with spaces or semicolons between its values, if it is one."""
    fixed = commas(text)
    if fixed is None:
        return None
    return f"{text!r}: separate {what} with commas, not {'semicolons' if ';' in text else 'spaces'}: {fixed}"


def resolve(graph: Graph, spec: PointSpec) -> list[float]:
    """The point's values in input order, or a UsageError (blaming --at) saying how to fix it."""
    inputs = graph.inputs
    names = listing(inputs)
    if spec.names is None:
        if len(spec.values) == len(inputs):
            return list(spec.values)
        if not inputs and spec.values == ():
            return []
        hint = ""
        if len(inputs) == 1 and len(spec.values) == 2:
            hint = f" (decimals use a point: {spec.text.replace(',', '.')})"
        raise UsageError(
            f"{spec.text!r} gives {len(spec.values)} value{'s' if len(spec.values) != 1 else ''}, "
            f"but the function has {len(inputs)} input{'s' if len(inputs) != 1 else ''} ({names}){hint}; "
            f"give them in that order, or by name such as {inputs[0] if inputs else 'x'}=1",
            option="--at")
    unknown = [name for name in spec.names if name not in inputs]
    if unknown:
        raise UsageError(f"{', '.join(unknown)} in {spec.text!r} is not an input; the inputs are {names}",
                                 option="--at")
    missing = [name for name in inputs if name not in spec.names]
    if missing:
        raise UsageError(f"{spec.text!r} gives no value for {', '.join(missing)}; the inputs are {names}",
                                 option="--at")
    given = dict(zip(spec.names, spec.values))
    return [given[name] for name in inputs]
