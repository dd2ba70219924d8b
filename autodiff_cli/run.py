"""The one loop: points in chunks → compute → a sink, with what went wrong counted.

``--at`` is a source of one chunk and ``--points`` a source of many (``points.Points``);
both go through ``run``, which computes each chunk (``report.compute``) and hands it to
the sink of the chosen format (``outputs.sink.open_sink``).  At most ``problems``
non-finite results are traced to their node over the whole run; the rest are counted.
This module reads and writes the streams it is given; it does not print or exit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .core import ad
from .core.engine import choose
from .core.graph import Graph
from .errors import Interrupted, PointsError
from .report import Summary, compute, compute_second

if TYPE_CHECKING:
    from .outputs.sink import Sink

BUDGET = 48 * 2**20            # bytes of arrays per chunk, roughly (temporaries come on top)
MAX_CHUNK = 50_000
MIN_CHUNK = 256


# --- how big a chunk ---------------------------------------------------------------------
def chunk_size(graph: Graph, mode: str, seeded: bool = False, order: int = 1) -> int:
    """Points per chunk: the engine's choice (ad.chunk_size), fewer where the sweeps and
    the results written out (values and J) would not fit in about BUDGET bytes, but at
    least MIN_CHUNK for speed, unless the results alone do not fit: then down to one point
    (a J of a million entries is 8 MB)."""
    results = graph.n + graph.m + (graph.m * graph.n if not seeded else max(graph.m, graph.n))
    if order == 2:               # H per point, and tangents, adjoints and their tangents per direction
        results += (graph.m if not seeded else 1) * graph.n * graph.n
        per_point = 8 * (4 * ad.work_per_point(graph, "reverse", True) * graph.n + 2 * results)
        return max(1, min(MAX_CHUNK, BUDGET // per_point))
    per_point = 8 * (ad.work_per_point(graph, mode, seeded) + 2 * results)
    chunk = max(MIN_CHUNK, min(ad.chunk_size(graph, mode, seeded, least=MIN_CHUNK), BUDGET // per_point))
    return max(1, min(chunk, BUDGET // (16 * results)))


def run(graph: Graph, chunks: Iterable[np.ndarray], mode: ad.Mode, seed: Any, sink: Sink, problems: int = 10,
        progress: Callable[[], None] | None = None, sweeps: bool = False, check: bool = False,
        order: int = 1, direction: Any = None, colouring: Any = None, engine: str = "auto") -> Summary:
    """Compute and write chunk by chunk.  At most ``problems`` non-finite results are traced
    to their node over the whole run; the rest are only counted.  ``sweeps`` keeps each
    pass (for --trace); ``check`` verifies every point (--check); ``order`` 2 computes
    gradients and Hessians instead (or, with ``direction`` v, Hessian-vector products);
    ``colouring`` compresses the passes of J (``core.colour.plan``).  A PointsError from
    ``chunks`` propagates after the sink has been closed; any other exception (an interrupt,
    a failed write) leaves the sink unfinished, so the output cannot pass for complete.
    ``engine`` (auto, numpy, compiled) computes the first-order results without sweeps; auto
    decides at the first chunk, from the number of points ``chunks.expected`` (if it says) or
    that chunk's (``core.engine.choose``)."""
    summary = Summary()
    chosen: Any = None
    try:
        for X in chunks:
            if not len(X):
                continue
            left = max(0, problems - summary.traced)
            if order == 2:
                report = compute_second(graph, X, seed, direction, problems=left)
            else:
                if chosen is None:
                    expected = getattr(chunks, "expected", None)
                    chosen = "numpy" if sweeps or colouring is not None else choose(
                        graph, mode, seed is not None, max(expected or 0, len(X)), engine)
                report = compute(graph, X, mode, seed, problems=left, sweeps=sweeps, colouring=colouring,
                                 engine=chosen)
            offset = summary.points
            report.problems = [p._replace(point=p.point + offset) for p in report.problems]
            checked: Any = None
            if check:
                from .check import check as verify
                from .check import check_hessian

                checked = (check_hessian(graph, report.points, report.derivatives) if order == 2
                           else verify(graph, report.points))
                summary.failed = summary.failed or checked.failed
            sink.write(report, offset, checked)
            summary.report = report
            summary.points += len(X)
            summary.bad_points += report.bad_points
            summary.problems += report.problems
            summary.traced += len({p.point for p in report.problems})
            if progress is not None:
                progress()
    except PointsError:
        sink.close(summary)
        raise
    except BaseException as err:
        if isinstance(err, Interrupted):
            err.points = summary.points
        sink.abandon()
        raise
    sink.close(summary)
    return summary
