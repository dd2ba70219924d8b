"""--format npy: an .npz archive of arrays, filled chunk by chunk."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..core.graph import Graph
from ..errors import WriteError
from ..points import BLOCK, NPY_MAGIC
from ..report import Report, kind_of
from .sink import Sink

if TYPE_CHECKING:
    from ..report import Summary


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
        key = kind_of(mode, seed)
        width = (graph.m, graph.n) if seed is None else ((graph.m,) if mode == "forward" else (graph.n,))
        self.parts: dict[str, _GrowingNpy] = {}
        try:
            for name, tail in (("points", (graph.n,)), ("values", (graph.m,)), (key, width)):
                self.parts[name] = _GrowingNpy(tempfile.TemporaryFile(dir=folder), tail)
        except OSError as err:
            self.abandon()
            raise WriteError(self.where, err) from None
        self.key, self.folder = key, folder
        self.direction: np.ndarray | None = None

    def _second_order(self, report: Report) -> None:
        """The first chunk of --hessian or --hvp: gradient and hessian (or hvp) in place of J."""
        self.parts.pop(self.key).file.close()
        try:
            for name, tail in (("gradient", report.gradient.shape[1:]), (report.kind, report.derivatives.shape[1:])):
                self.parts[name] = _GrowingNpy(tempfile.TemporaryFile(dir=self.folder), tail)
        except OSError as err:
            raise WriteError(self.where, err) from None
        self.key, self.direction = report.kind, report.direction

    def write(self, report: Report, offset: int, checked: Any = None) -> None:
        if report.order == 2 and "gradient" not in self.parts:
            self._second_order(report)
        try:
            self.parts["points"].append(report.points)
            self.parts["values"].append(report.values)
            if report.order == 2:
                self.parts["gradient"].append(report.gradient)
            self.parts[self.key].append(report.derivatives)
        except OSError as err:
            raise WriteError(self.where, err) from None

    def close(self, summary: Summary | None) -> None:
        try:
            with zipfile.ZipFile(self.out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, part in self.parts.items():
                    try:
                        size = part.finish()
                    except OSError as err:
                        raise WriteError(self.where, err) from None
                    with archive.open(name + ".npy", "w", force_zip64=size >= 2**31 - 1) as entry:
                        part.copy_to(entry)
                small = {"variables": np.array(self.graph.inputs, dtype=str),
                         "outputs": np.array(self.graph.labels, dtype=str),
                         "sparsity": np.array(self.graph.mask, dtype=bool)}
                if self.seed is not None:
                    small["seed"] = np.asarray(self.seed, dtype=float)
                if self.direction is not None:
                    small["direction"] = np.asarray(self.direction, dtype=float)
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
        self.file.write(np.ascontiguousarray(array, dtype="<f8").data.cast("B"))   # the array itself, no copy to bytes
        self.rows += len(array)

    def copy_to(self, entry: IO[bytes]) -> None:
        """The whole file into ``entry``, through one buffer (read into, not a new bytes each time)."""
        view = memoryview(bytearray(BLOCK))
        while size := self.file.readinto(view):         # type: ignore[attr-defined]
            entry.write(view[:size])

    def finish(self) -> int:
        """Write the final header; the file's size in bytes, read from the start."""
        size = self.file.seek(0, os.SEEK_END)
        self.file.seek(0)
        self.file.write(self._header())
        self.file.seek(0)
        return size
