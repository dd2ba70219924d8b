"""Reports → text and files: one module per format behind one ``Sink`` (``sink.py``).

    notation.py  how the trace, headings and labels are written (Unicode or ASCII)
    table.py     tables for people (Rich in a terminal, Markdown in a pipe)
    json.py      JSON and JSON lines        csv.py   CSV        npz.py   .npz archives
    latex.py     LaTeX fragments and documents                  dot.py   Graphviz DOT
    files.py     outputs written whole or not at all; signals and write errors

``open_sink`` below is the one place a format is chosen.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.graph import Graph
    from .sink import Sink, Style


def open_sink(fmt: str, out: IO[str], graph: Graph, mode: str, seed: Any, style: Style,
              binary: IO[bytes] | None = None, folder: str | None = None, name: str | None = None) -> Sink:
    """The sink of ``--format fmt`` writing to ``out`` (npy: to ``binary``, through temporary
    files in ``folder``; ``name`` is the file a failed write names)."""
    if fmt == "table":
        from .table import TableSink

        return TableSink(out, style)
    if fmt == "json":
        from .json import JsonSink

        return JsonSink(out, graph, mode, seed, style)
    if fmt == "jsonl":
        from .json import JsonlSink

        return JsonlSink(out, style)
    if fmt == "csv":
        from .csv import CsvSink

        return CsvSink(out, graph, mode, seed, style)
    if fmt == "latex":
        from .latex import LatexSink

        return LatexSink(out, style)
    if fmt == "npy":
        from .npz import NpzSink

        assert binary is not None
        return NpzSink(binary, folder, graph, mode, seed, name=name)
    raise ValueError(f"no such format: {fmt!r}")
