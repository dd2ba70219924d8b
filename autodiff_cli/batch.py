"""Many points: read them in chunks, compute each chunk, write each chunk's results.

``--points FILE`` gives one point per line (comma- or whitespace-separated, an optional
header row of input names in any order, ``#`` comments and blank lines skipped), or an
``.npy`` array of shape (N, n).  Points are read, computed and written a chunk at a time,
so memory stays bounded whatever N is; csv, jsonl and json results stream out as they are
computed, and ``--format npy`` fills an ``.npz`` archive (points, values, jacobian) through
anonymous temporary files beside it (nothing of them is left behind, however the run ends).

A malformed row raises ``PointsError`` carrying its line number, but only after every row
before it has been handed out: the caller writes those in full, then stops.

This module reads and writes the streams it is given; it does not exit.  The progress bar
is the only thing it draws, on stderr, and only when stderr is a terminal.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import shutil
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from . import decimals
from .core import ad
from .core.graph import Graph, listing
from .core.parse import DECIMAL, NAME
from .errors import AdjacError
from .outfile import Interrupted, WriteError
from .report import Problem, Report, compute

NPY_MAGIC = b"\x93NUMPY"
BUDGET = 48 * 2**20            # bytes of arrays per chunk, roughly (temporaries come on top)
MAX_CHUNK = 50_000
MIN_CHUNK = 256
BLOCK = 4 * 2**20              # bytes of text read at a time
LINE_BYTES_PER_INPUT = 64      # a text line may be this long per input, or BLOCK, whichever is more


class PointsError(AdjacError):
    """A malformed points file: ``where`` is 'line 7' (text) or 'row 7' (npy)."""

    def __init__(self, source: str, where: str, message: str):
        self.source, self.where, self.message = source, where, message
        super().__init__(f"{source}, {where}: {message}" if where else f"{source}: {message}")


# --- how big a chunk ---------------------------------------------------------------------
def chunk_size(graph: Graph, mode: str, seeded: bool = False) -> int:
    """Points per chunk: the engine's choice (ad.chunk_size), fewer where the sweeps and
    the results written out (values and J) would not fit in about BUDGET bytes, but at
    least MIN_CHUNK for speed, unless the results alone do not fit: then down to one point
    (a J of a million entries is 8 MB)."""
    results = graph.n + graph.m + (graph.m * graph.n if not seeded else max(graph.m, graph.n))
    per_point = 8 * (ad.work_per_point(graph, mode, seeded) + 2 * results)
    chunk = max(MIN_CHUNK, min(ad.chunk_size(graph, mode, seeded, least=MIN_CHUNK), BUDGET // per_point))
    return max(1, min(chunk, BUDGET // (16 * results)))


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
            array = np.lib.format.open_memmap(self.path, mode="r")      # never unpickles
            for start in range(0, len(array), self.chunk):
                X = np.asarray(array[start : start + self.chunk], dtype=float)
                yield from self._finite(X, start)
                self.done = start + len(X)
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

    def _check_npy(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        n = self.graph.n
        if dtype.kind not in "fiu":
            raise PointsError(self.name, "", f"the array holds {dtype}, not numbers")
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
                           f"with a point in decimals, such as {decimals.commas(content)}")
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
                        why = decimals.problem(f) if f else ""
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


# --- writing results ---------------------------------------------------------------------
class Sink:
    """Where results go, chunk by chunk; ``close`` finishes the output (also after a malformed
    point), ``abandon`` drops it unfinished (after an interrupt or a failed write)."""

    def write(self, report: Report, offset: int) -> None:
        raise NotImplementedError

    def close(self, summary: Summary) -> None:
        pass

    def abandon(self) -> None:
        pass


def _rows_text(table: np.ndarray) -> list[str]:
    """Each row of a float table as 'a, b, c' with full precision (shortest round trip).
    One C-level repr for the whole chunk; a float's repr never contains ', ' or ']'."""
    if not len(table):
        return []
    if table.shape[1] == 0:
        return [""] * len(table)
    return repr(table.tolist())[2:-2].split("], [")


class CsvSink(Sink):
    def __init__(self, out: IO[str], digits: int | None):
        self.out, self.digits, self.started = out, digits, False

    def header(self, report: Report) -> None:
        from . import render

        if not self.started:
            self.out.write(",".join(render.csv_header(report)) + "\n")
            self.started = True

    def write(self, report: Report, offset: int) -> None:
        from . import render

        self.header(report)
        if self.digits is not None:
            self.out.writelines(",".join(row) + "\n" for row in render.csv_rows(report, self.digits))
            return
        derivatives = report.product if report.seed is not None else report.jacobian
        assert derivatives is not None
        table = np.concatenate([report.points, report.values, derivatives.reshape(len(report.points), -1)], axis=1)
        text = "\n".join(_rows_text(table)).replace(", ", ",")
        self.out.write(text + "\n" if text else "")


class JsonlSink(Sink):
    """One result object per line, with the warnings for that point."""

    def __init__(self, out: IO[str]):
        self.out = out

    def write(self, report: Report, offset: int) -> None:
        self.out.writelines(line + "\n" for line in result_lines(report, offset, with_warnings=True))


class JsonSink(Sink):
    """One JSON document, streamed: the head, the results as they come, then the warnings."""

    def __init__(self, out: IO[str], graph: Graph, mode: str, passes: int):
        self.out, self.first = out, True
        head = {"variables": list(graph.inputs), "outputs": list(graph.labels), "mode": mode, "passes": passes,
                "sparsity": graph.sparsity()}
        out.write(json.dumps(head)[:-1] + ', "results": [')

    def write(self, report: Report, offset: int) -> None:
        lines = result_lines(report, offset, with_warnings=False)
        if lines:
            self.out.write(("" if self.first else ", ") + ", ".join(lines))
            self.first = False

    def close(self, summary: Summary) -> None:
        self.out.write('], "warnings": ' + json.dumps(summary.warnings(), allow_nan=False) + "}\n")


def result_lines(report: Report, offset: int, with_warnings: bool) -> list[str]:
    """``json.dumps(render.result_object(...))`` for every point of a chunk.

    Rows that are all finite are spelled directly from one repr of the chunk (json.dumps
    writes floats with repr and ', ' between items, so the text is the same); the others
    go through render, which writes null for nan and inf.
    """
    from . import render

    N, m, n = len(report.points), report.graph.m, report.graph.n
    seeded = report.seed is not None and report.product is not None
    derivatives = report.product if seeded else report.jacobian
    assert derivatives is not None
    key = ("jvp" if report.mode == "forward" else "vjp") if seeded else "jacobian"
    width = derivatives.shape[-1]
    table = np.concatenate([report.points, report.values, derivatives.reshape(N, -1)], axis=1)
    finite = np.isfinite(table).all(axis=1)
    texts = _rows_text(table)
    problems: dict[int, list[dict[str, Any]]] = {}
    for problem in report.problems:
        problems.setdefault(problem.point - offset, []).append(render.warning_object(report, problem))
    seed_text = f', "seed": {json.dumps(render.numbers(report.seed))}' if report.seed is not None else ""
    tail = ', "warnings": []}' if with_warnings else "}"
    lines = []
    for p in range(N):
        if not finite[p]:
            obj = render.result_object(report, p)
            if with_warnings:
                obj["warnings"] = problems.get(p, [])
            lines.append(json.dumps(obj, allow_nan=False))
            continue
        items = texts[p].split(", ")
        if derivatives.ndim == 3:
            rows = [", ".join(items[n + m + k * width : n + m + (k + 1) * width]) for k in range(m)]
            derivative = "[[" + "], [".join(rows) + "]]"
        else:
            derivative = "[" + ", ".join(items[n + m :]) + "]"
        lines.append(f'{{"point": [{", ".join(items[:n])}], "value": [{", ".join(items[n : n + m])}]'
                     f'{seed_text}, "{key}": {derivative}{tail}')
    return lines


class TableSink(Sink):
    """Rich tables, one block per point, handed to ``show`` (the command's printer)."""

    def __init__(self, out: IO[str], show: Callable[[list[Any]], None], digits: int, unicode: bool, plain: bool):
        self.out, self.show, self.digits, self.unicode, self.plain = out, show, digits, unicode, plain

    def write(self, report: Report, offset: int) -> None:
        from rich.text import Text

        from . import render

        if offset and self.plain:            # the printer trims blank lines at the ends of each call
            self.out.write("\n")
        parts: list[Any] = []
        for p in range(len(report.points)):
            parts += ([Text("")] if p or offset else []) + render.tables(report, p, self.digits, self.unicode,
                                                                          plain=self.plain)
        self.show(parts)


class NpzSink(Sink):
    """An .npz archive (uncompressed zip of .npy files) written to ``out``, filled through
    anonymous temporary .npy files in ``folder`` that grow chunk by chunk, then zipped once
    N is known (a failed write names ``name``, the archive the temporary files are for):

        points (N, n), values (N, m), and jacobian (N, m, n) or, with --seed, seed and
        jvp (N, m) / vjp (N, n); variables (n,) and outputs (m,) as strings.
    """

    def __init__(self, out: IO[bytes], folder: str | None, graph: Graph, mode: str, seed: Any, name: str | None = None):
        self.out, self.graph, self.mode, self.seed = out, graph, mode, seed
        self.where = name or f"a temporary file in {folder or tempfile.gettempdir()}"
        key = "jacobian" if seed is None else ("jvp" if mode == "forward" else "vjp")
        width = (graph.m, graph.n) if seed is None else ((graph.m,) if mode == "forward" else (graph.n,))
        self.parts: dict[str, _GrowingNpy] = {}
        try:
            for name, tail in (("points", (graph.n,)), ("values", (graph.m,)), (key, width)):
                self.parts[name] = _GrowingNpy(tempfile.TemporaryFile(dir=folder), tail)
        except OSError as err:
            self.abandon()
            raise WriteError(self.where, err) from None
        self.key = key

    def write(self, report: Report, offset: int) -> None:
        derivatives = report.product if report.seed is not None else report.jacobian
        assert derivatives is not None
        try:
            self.parts["points"].append(report.points)
            self.parts["values"].append(report.values)
            self.parts[self.key].append(derivatives)
        except OSError as err:
            raise WriteError(self.where, err) from None

    def close(self, summary: Summary) -> None:
        try:
            with zipfile.ZipFile(self.out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, part in self.parts.items():
                    try:
                        size = part.finish()
                    except OSError as err:
                        raise WriteError(self.where, err) from None
                    with archive.open(name + ".npy", "w", force_zip64=size >= 2**31 - 1) as entry:
                        shutil.copyfileobj(part.file, entry, BLOCK)
                small = {"variables": np.array(self.graph.inputs, dtype=str),
                         "outputs": np.array(self.graph.labels, dtype=str),
                         "sparsity": np.array(self.graph.sparsity(), dtype=bool).reshape(self.graph.m, self.graph.n)}
                if self.seed is not None:
                    small["seed"] = np.asarray(self.seed, dtype=float)
                for name, array in small.items():
                    buffer = io.BytesIO()
                    np.save(buffer, array, allow_pickle=False)
                    archive.writestr(name + ".npy", buffer.getvalue())
        finally:
            self.abandon()

    def abandon(self) -> None:
        for part in self.parts.values():
            part.file.close()


class _GrowingNpy:
    """A .npy file of float64 rows whose first dimension grows as rows are appended; the
    header has a fixed size and is rewritten with the final shape by ``finish``."""

    HEADER = 256

    def __init__(self, file: IO[bytes], tail: tuple[int, ...]):
        self.file, self.tail, self.rows = file, tail, 0
        self.file.write(self._header())

    def _header(self) -> bytes:
        meta = repr({"descr": "<f8", "fortran_order": False, "shape": (self.rows, *self.tail)})
        text = meta.ljust(self.HEADER - 10 - 1) + "\n"
        return NPY_MAGIC + b"\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")

    def append(self, array: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(array, dtype="<f8").tobytes())
        self.rows += len(array)

    def finish(self) -> int:
        """Write the final header; the file's size in bytes, read from the start."""
        size = self.file.seek(0, os.SEEK_END)
        self.file.seek(0)
        self.file.write(self._header())
        self.file.seek(0)
        return size


# --- the loop ----------------------------------------------------------------------------
@dataclass
class Summary:
    """What a batch run produced: how many points, and the traced problems (global indices)."""

    report: Report | None = None                     # the last chunk's report, for its header
    points: int = 0
    bad_points: int = 0
    problems: list[Problem] = field(default_factory=list)
    traced: int = 0                                  # points whose problems were traced to a node

    @property
    def unexplained(self) -> int:
        return self.bad_points - self.traced

    def warnings(self) -> list[dict[str, Any]]:
        from . import render

        return render.warnings_list(self)


def run(graph: Graph, chunks: Iterable[np.ndarray], mode: str, seed: Any, sink: Sink,
        problems: int = 10, progress: Callable[[], None] | None = None) -> Summary:
    """Compute and write chunk by chunk.  At most ``problems`` non-finite results are traced
    to their node over the whole run; the rest are only counted.  A PointsError from
    ``chunks`` propagates after the sink has been closed; any other exception (an interrupt,
    a failed write) leaves the sink unfinished, so the output cannot pass for complete."""
    summary = Summary()
    try:
        for X in chunks:
            if not len(X):
                continue
            report = compute(graph, X, mode, seed, problems=max(0, problems - summary.traced), sweeps=False)
            offset = summary.points
            report.problems = [p._replace(point=p.point + offset) for p in report.problems]
            sink.write(report, offset)
            summary.report = report
            summary.points += len(X)
            summary.bad_points += report.bad_points
            summary.problems += report.problems
            summary.traced += len({p.point for p in report.problems})
            if progress is not None:
                progress()
    except PointsError:
        _finish(graph, mode, seed, sink, summary)
        raise
    except BaseException as err:
        if isinstance(err, Interrupted):
            err.points = summary.points
        sink.abandon()
        raise
    _finish(graph, mode, seed, sink, summary)
    return summary


def _finish(graph: Graph, mode: str, seed: Any, sink: Sink, summary: Summary) -> None:
    if summary.report is None and isinstance(sink, CsvSink):
        sink.header(Report(graph, np.zeros((0, graph.n)), mode, np.zeros((0, graph.m)),  # type: ignore[arg-type]
                           seed=None if seed is None else np.asarray(seed, dtype=float)))
    sink.close(summary)


class ProgressBar:
    """A Rich progress bar on stderr, shown only when stderr is a terminal and only once
    the run has taken longer than ``delay`` seconds."""

    def __init__(self, points: Points, enabled: bool, delay: float = 1.0):
        self.points, self.enabled, self.delay = points, enabled, delay
        self.start = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.start < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            unit = "rows" if self.points.is_npy else "bytes"
            self.bar = Progress(TextColumn(f"adjac: {self.points.name}"), BarColumn(),
                                TextColumn(f"{{task.completed:,}}/{{task.total:,}} {unit}" if self.points.total
                                           else f"{{task.completed:,}} {unit}"),
                                TimeElapsedColumn(), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("points", total=self.points.total)
        assert self.task is not None
        self.bar.update(self.task, completed=self.points.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
