"""The bounds on one run, checked before anything is computed (README: Limits).

A result too big to hold or to read (more than WRITTEN numbers at once in json, jsonl,
csv or npz; SHOWN in a table, LaTeX or formulas) is refused with exit status 2, and the
message offers only the ways out that pass the same bound: each is tried here first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .core.graph import Graph
from .errors import UsageError

TEXT = 16_000_000       # characters of expression on standard input (1 MB takes about 5 s)


WRITTEN = 1_000_000     # numbers in json, jsonl, csv or npz (per point with --points: it reads in chunks)


SHOWN = 100_000         # numbers in a table or LaTeX, or formulas


def _size(graph: Graph, N: int, mode: str, seed: bool, fmt: str, trace: bool, symbolic: bool) -> tuple[int, int]:
    """The numbers a run would hold at once, and the bound they may not pass (see ``_check_size``)."""
    from .core.ad import choose_mode

    chosen = choose_mode(graph, mode)
    m, n = graph.m, graph.n
    each = m * n if not seed else (m if chosen == "forward" else n)
    pattern = m * n if fmt in ("json", "npy") else 0
    count = max(N * (each + (graph.carried(chosen) if trace else 0)), pattern)
    return count, SHOWN if symbolic or fmt in ("table", "latex") else WRITTEN


def check_second_size(graph: Graph, N: int, seed: Sequence[float] | None, hvp: Sequence[float] | None,
                       fmt: str) -> None:
    """Refuse up front second derivatives too big to hold or to read (README: Limits)."""
    n, m = graph.n, graph.m
    outputs = 1 if seed is not None else m
    each = outputs * n * (1 + (n if hvp is None else 1))                  # the gradient, and H or H·v
    limit = SHOWN if fmt in ("table", "latex") else WRITTEN
    if N * each <= limit:
        return
    ways = []
    if hvp is None:
        ways.append("--hvp v for one product H·v a pass")
    if seed is None and m > 1:
        ways.append("--seed ȳ for the Hessian of Σ ȳk·yk alone")
    if N > 1:
        ways.append("fewer --at points, or --points FILE (read and written a chunk at a time)")
    raise UsageError(f"the result would hold {N * each:,} numbers ({each:,} a point), more than the {limit:,} adjac "
                     f"{'shows' if limit == SHOWN else 'writes'} at once (README: Limits); "
                     f"{'; or '.join(ways) or 'use fewer outputs or inputs'}")


def check_size(graph: Graph, N: int, mode: str, seed: Sequence[float] | None, fmt: str, trace: bool,
                symbolic: bool, points_file: bool = False) -> None:
    """Refuse, before anything is computed, a result too big to hold or to read (exit 2).

    Each point's J is built whole (all of them with --at), json and npz also hold the
    m × n sparsity pattern, and a trace holds every tangent or adjoint it carries; none
    may pass the bound.  The bounds are in README, Limits.  The ways out it suggests are
    the changes of one option (or two) that pass the same bound, each computed here.
    """
    m, n = graph.m, graph.n
    count, limit = _size(graph, N, mode, seed is not None, fmt, trace, symbolic)
    if count <= limit:
        return
    given = {"N": N, "mode": mode, "seed": seed is not None, "fmt": fmt, "trace": trace, "symbolic": symbolic}

    def fits(**change: Any) -> bool:
        """Whether the run with these options changed passes the same bound."""
        size, bound = _size(graph, **{**given, **change})
        return size <= bound

    formats = ["json", "jsonl", "table", "latex"] if symbolic else ["csv", "jsonl", "json", "npy", "table", "latex"]
    if trace:                                   # the formats --trace has (it works on --at points only)
        formats = [f for f in formats if f not in ("csv", "npy")]
    if points_file:                             # the formats --points has
        formats = [f for f in formats if f != "latex"]
    ways = []
    if seed is None and m * n > 1:              # --seed, alone or with a format that holds no pattern
        for group in ([fmt], [f for f in formats if f != fmt]):
            forward = [f for f in group if fits(mode="forward", seed=True, fmt=f)]
            reverse = [f for f in group if fits(mode="reverse", seed=True, fmt=f)]
            both = [f for f in forward if f in reverse]
            if both:
                ways.append(f"--seed v{_with(both, fmt)} for J·v (forward) or vᵀ·J (reverse) alone")
            elif forward or reverse:
                ways.append(f"--mode forward --seed v{_with(forward, fmt)} for J·v alone" if forward else
                            f"--mode reverse --seed v{_with(reverse, fmt)} for vᵀ·J alone")
            if forward or reverse:
                break
    others = [f for f in formats if f != fmt and fits(fmt=f)]
    if others:
        why = (f" (json and npz also hold the {m:,} × {n:,} sparsity pattern)" if fmt in ("json", "npy")
               else f" (up to {WRITTEN:,} numbers)" if limit == SHOWN and not symbolic else "")
        ways.append(f"--format {_either(others)}{why}")
    if N > 1 and fits(N=1):
        way = f"at most {_most(lambda k: fits(N=k), N):,} --at points at a time"
        if not trace and fmt != "latex":
            way += ", or --points FILE (read and written a chunk at a time)"
        ways.append(way)
    if trace and fits(trace=False):
        ways.append("leave out --trace")
    if symbolic:
        numbers = [f for f in dict.fromkeys([fmt, "csv", "jsonl", "json"])
                   if fits(symbolic=False, fmt=f) and not (trace and f == "csv")]
        if numbers:
            ways.append("--at with values for numbers" + ("" if numbers[0] == fmt else f" and --format {numbers[0]}"))
    what = "formulas" if symbolic else "numbers"
    raise UsageError(
        f"the result would hold {count:,} {what} (J is {m:,} × {n:,}{f' at each of {N:,} points' if N > 1 else ''}), "
        f"more than the {limit:,} adjac {'shows' if limit == SHOWN else 'writes'} at once (README: Limits); "
        f"{'; or '.join(ways) or 'use fewer outputs or inputs'}")


def _most(fits: Callable[[int], bool], N: int) -> int:
    """The largest k < N with fits(k), given fits(1) and not fits(N): a bisection."""
    low, high = 1, N
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fits(mid) else (low, mid)
    return low


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _with(formats: list[str], fmt: str) -> str:
    return "" if formats == [fmt] else f" with --format {_either(formats)}"
