"""Which engine computes many points: numpy (``ad.differentiate``) or compiled (``compiled``).

``--engine auto`` (the default) takes the compiled engine only where it pays: numba must be
importable, the run must be large enough that the time it saves exceeds the time it costs
to start (import numba, 0.3–0.4 s, and load the interpreter from the cache, 0.3–0.6 s, on the
2-core machine of BENCHMARKS.md; compiling it the first time ever takes 10–30 s more), and
every primitive of the function must have a kernel.  The estimate of a run's work is
points × ``ad.work_per_point``: the numpy engine takes about 2.5–3.5 ns per unit, the
compiled one 1.5–2.5 ns on arithmetic and about as much as numpy where sin, exp ... dominate
(numba calls the scalar libm, numpy its vectorized versions).  So auto takes the compiled
engine from BREAK_EVEN = 10^9 units on (the Rosenbrock function of 50 inputs from about
700 000 points; the 2 → 2 worked example from 4·10^7 points, practically never).

This module never imports numba: the one-shot ``--at`` path stays as light as it was.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Literal

import numpy as np

from . import ad
from .graph import Graph

Engine = Literal["numpy", "compiled"]
ENGINES = ("auto", "numpy", "compiled")
BREAK_EVEN = 10**9             # units of ad.work_per_point: ~3 s of numpy, where ~1 s saved pays the start


def available() -> bool:
    """numba can be imported (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def choose(graph: Graph, mode: str, seeded: bool, points: int | None, engine: str = "auto") -> Engine:
    """The engine for ``points`` points (None: unknown, counted as few): ``numpy`` or ``compiled``.

    ``compiled`` is taken as asked unless numba is missing (the command line says so first)
    or the function has a primitive without a kernel: then numpy, which computes everything.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "numpy" or not available():
        return "numpy"
    if engine == "auto" and (points or 0) * ad.work_per_point(graph, ad.choose_mode(graph, mode), seeded) < BREAK_EVEN:
        return "numpy"
    from . import compiled

    return "compiled" if compiled._encoded(graph) is not None else "numpy"


def differentiate(graph: Graph, x: Any, mode: str = "auto", seed: Any = None, flagged: np.ndarray | None = None,
                  underflowed: np.ndarray | None = None, engine: Engine = "numpy") -> tuple[np.ndarray, np.ndarray]:
    """``ad.differentiate`` by the given engine: the same arguments and results."""
    if engine == "compiled":
        from . import compiled

        return compiled.differentiate(graph, x, mode, seed, flagged=flagged, underflowed=underflowed)
    return ad.differentiate(graph, x, mode, seed, flagged=flagged, underflowed=underflowed)
