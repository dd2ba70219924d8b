"""The computational graph as a Wengert list: each variable assigned once, in order.

``w[0:n]`` are the inputs x, ``w[n + k]`` is ``tape[k]`` applied to earlier entries, and
output ``y_k`` is ``outputs[k]``: an index into w or a folded constant.  Each argument
refers to an earlier entry, so the list is topological by construction and the sweeps
are plain loops: no pointers, no recursion, no toposort.  Internally w is 0-based; on
screen the variables are w1 ... wk, inputs first, as in lecture notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from .primitives import CONSTANTS, PRIMITIVES


class Const(NamedTuple):
    """A folded constant argument or output; ``span`` locates its source text."""

    value: float
    span: tuple[int, int] = (0, 0)


Arg = int | Const                 # an index into w, or a constant


def read(w: Sequence[Any], a: Arg) -> Any:
    """The value of argument a: w[a] for a node, the constant itself (a float64, so that
    x/0 gives inf rather than ZeroDivisionError) for a constant."""
    return np.float64(a.value) if isinstance(a, Const) else w[a]


class Op(NamedTuple):
    prim: str                     # key of PRIMITIVES
    args: tuple[Arg, ...]         # indices (each smaller than this op's own) or constants
    span: tuple[int, int]         # source text of its first occurrence, for messages


@dataclass(frozen=True)
class Graph:
    inputs: tuple[str, ...]       # w[0:n] = x, in this order
    tape: tuple[Op, ...]          # w[n + k] = tape[k] applied to earlier w
    outputs: tuple[Arg, ...]      # y_k = w[outputs[k]]; may repeat, may be an input or a constant
    labels: tuple[str, ...]       # source text of each output
    text: str = field(default="", repr=False)  # the whole expression, for spans
    numbering: str = field(default="depth", repr=False)  # how the tape is ordered: "depth" or "appearance"
    names: tuple[str, ...] = field(default=(), repr=False)  # per w_i: the program's name for it (r = ...), or ""
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)  # about the text: unused definitions

    def named(self, i: int) -> str:
        """The program's name of w_i (``r`` for ``r = sqrt(...)``), or ""."""
        return self.names[i] if i < len(self.names) else ""

    @property
    def n(self) -> int:
        return len(self.inputs)

    @property
    def m(self) -> int:
        return len(self.outputs)

    def __len__(self) -> int:
        """The number of Wengert variables, inputs included."""
        return len(self.inputs) + len(self.tape)

    def name(self, arg: Arg) -> str:
        """How an argument is written: ``w4`` (1-based), ``pi`` or ``e``, or the constant's value."""
        if isinstance(arg, Const):
            if arg.value == 0 and str(arg.value).startswith("-"):
                return "(-0)"             # a signed zero: x/(-0) is -inf, x/0 is +inf
            return self.constant_name(arg.value) or format_number(arg.value, parenthesize=True)
        return f"w{arg + 1}"

    def constant_name(self, value: float) -> str | None:
        """``pi`` or ``e`` when value is that constant (as a double) and no input has the name."""
        for name, v in CONSTANTS.items():
            if value == v and name not in self.inputs:
                return name
        return None

    def definition(self, i: int) -> str:
        """The right-hand side of w_i on paper: ``x1`` for inputs, else ``w1·w2``."""
        if i < self.n:
            return self.inputs[i]
        op = self.tape[i - self.n]
        names = dict(zip("abc", (self.name(a) for a in op.args)))
        return PRIMITIVES[op.prim].show.format(**names)

    def source(self, i: int, limit: int = 60) -> str:
        """The source text of w_i (its first occurrence), shortened to ``limit``."""
        if i < self.n:
            return self.inputs[i]
        start, end = self.tape[i - self.n].span
        return snippet(self.text, start, end, limit)

    @cached_property
    def _forward_closure(self) -> tuple[int, tuple[np.ndarray, ...]]:
        """One sweep in tape order over D_i = {j : w_i depends on x_j}: Σ_i |D_i|, and D
        of each output as sorted indices.

        Only the sets of nodes that are still to be used are kept, and a set whose node is
        used for the last time is taken over by its user (the smaller ones are merged into
        the largest), so memory holds the live sets, not one n-bit mask per node.
        """
        n, last = self.n, self._last_use()
        wanted: dict[int, np.ndarray] = {}          # node -> D of that node, for the outputs
        for out in self.outputs:
            if not isinstance(out, Const) and out < n:
                wanted[out] = np.array([out], dtype=np.intp)
        outputs = {out for out in self.outputs if not isinstance(out, Const)}
        live: dict[int, set[int]] = {}
        total = n                                   # each input depends on itself
        for i, op in enumerate(self.tape, start=n):
            args = dict.fromkeys(a for a in op.args if not isinstance(a, Const))
            dying = sorted((live.pop(a) for a in args if a >= n and last[a] == i), key=len)
            deps = dying.pop() if dying else set()
            for other in dying:
                deps |= other
            for a in args:
                if a < n:
                    deps.add(a)
                elif a in live:
                    deps |= live[a]
            total += len(deps)
            if i in outputs:
                wanted[i] = np.array(sorted(deps), dtype=np.intp)
            if last[i] > i:
                live[i] = deps
        empty = np.zeros(0, dtype=np.intp)
        return total, tuple(empty if isinstance(out, Const) else wanted[out] for out in self.outputs)

    @cached_property
    def _reverse_closure(self) -> int:
        """Σ_i |R_i| with R_i = {k : y_k depends on w_i}, by one sweep backwards; a node's
        set is handed on to its arguments and then dropped."""
        n = self.n
        live: dict[int, set[int]] = {}
        for k, out in enumerate(self.outputs):
            if not isinstance(out, Const):
                live.setdefault(out, set()).add(k)
        total = 0
        for i in range(len(self) - 1, n - 1, -1):
            reach = live.pop(i, None)
            if not reach:
                continue
            total += len(reach)
            args = list(dict.fromkeys(a for a in self.tape[i - n].args if not isinstance(a, Const)))
            for a in args[:-1]:                     # copies for all but one argument
                if a in live:
                    live[a] |= reach
                else:
                    live[a] = set(reach)
            if args:                                # the last one takes this set over
                a = args[-1]
                if a in live:
                    small, reach = sorted((live[a], reach), key=len)
                    reach |= small
                live[a] = reach
        return total + sum(len(live.get(j, ())) for j in range(n))

    def _last_use(self) -> list[int]:
        """For each w_i, the position in w of its last user (-1 if none)."""
        last = [-1] * len(self)
        for i, op in enumerate(self.tape, start=self.n):
            for a in op.args:
                if not isinstance(a, Const):
                    last[a] = i
        return last

    def pattern(self) -> tuple[np.ndarray, ...]:
        """For each output y_k, the sorted indices j of the inputs it depends on: the
        entries of row k of J that can be nonzero."""
        return self._forward_closure[1]

    def carried(self, mode: str) -> int:
        """Tangents (forward) or adjoints (reverse) the full set of passes carries: pass j
        carries ẇ_i for every w_i that depends on x_j, pass k carries w̄_i for every w_i
        that y_k depends on.  Structural zeros are not carried."""
        return self._forward_closure[0] if mode == "forward" else self._reverse_closure

    @cached_property
    def branches(self) -> bool:
        """Whether some op is an ``if`` whose condition depends on the inputs."""
        return any(op.prim == "if" for op in self.tape)

    @cached_property
    def mask(self) -> np.ndarray:
        """(m, n) bool, read-only: which entries of J can be nonzero (y_k depends on x_j)."""
        rows = np.zeros((self.m, self.n), dtype=bool)
        for k, columns in enumerate(self.pattern()):
            rows[k, columns] = True
        rows.flags.writeable = False
        return rows

    def sparsity(self) -> list[list[bool]]:
        """``mask`` as nested lists, for JSON: J[k][j] is True when y_k depends on x_j."""
        return self.mask.tolist()

    def __str__(self) -> str:
        lines = [f"w{i + 1} = {self.definition(i)}" for i in range(len(self))]
        lines += [f"y{k + 1} = {self.name(out)}" for k, out in enumerate(self.outputs)]
        return "\n".join(lines)


def snippet(text: str, start: int, end: int, limit: int = 60) -> str:
    """``text[start:end]`` on one line, with the middle cut out past ``limit`` characters."""
    if end - start > limit:
        half = (limit - 1) // 2
        piece = text[start : start + half] + "…" + text[end - half : end]
    else:
        piece = text[start:end]
    return " ".join(piece.split())


def format_number(value: float, digits: int = 17, parenthesize: bool = False) -> str:
    """Shortest text that reads back as the same double (or ``digits`` significant)."""
    if abs(value) < 1e16 and value == int(value):
        text = str(int(value))
    elif digits >= 17:
        text = repr(float(value))
    else:
        text = f"{value:.{digits}g}"
    if parenthesize and text.startswith("-"):
        return f"({text})"
    return text


def listing(names: Sequence[str], limit: int = 10) -> str:
    """'x1, x2, x3' (or 'none'); 'x1, x2, …, x9999 (10000 names)' past ``limit`` names."""
    if len(names) <= limit:
        return ", ".join(names) or "none"
    return f"{', '.join(names[: limit - 2])}, …, {names[-1]} ({len(names)} names)"
