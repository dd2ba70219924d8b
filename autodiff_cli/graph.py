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
from typing import NamedTuple

from .primitives import PRIMITIVES


class Const(NamedTuple):
    """A folded constant argument or output; ``span`` locates its source text."""

    value: float
    span: tuple[int, int] = (0, 0)


Arg = int | Const                 # an index into w, or a constant


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
        """How an argument is written: ``w4`` (1-based) or the constant's value."""
        if isinstance(arg, Const):
            if arg.value == 0 and str(arg.value).startswith("-"):
                return "(-0)"             # a signed zero: x/(-0) is -inf, x/0 is +inf
            return format_number(arg.value, parenthesize=True)
        return f"w{arg + 1}"

    def definition(self, i: int) -> str:
        """The right-hand side of w_i on paper: ``x1`` for inputs, else ``w1·w2``."""
        if i < self.n:
            return self.inputs[i]
        op = self.tape[i - self.n]
        names = dict(zip("ab", (self.name(a) for a in op.args)))
        return PRIMITIVES[op.prim].show.format(**names)

    def source(self, i: int, limit: int = 60) -> str:
        """The source text of w_i (its first occurrence), shortened to ``limit``."""
        if i < self.n:
            return self.inputs[i]
        start, end = self.tape[i - self.n].span
        return snippet(self.text, start, end, limit)

    @cached_property
    def depends(self) -> tuple[int, ...]:
        """For each w_i, the set of inputs it depends on, as a bitmask (bit j: x_j)."""
        masks = [1 << j for j in range(self.n)]
        for op in self.tape:
            mask = 0
            for a in op.args:
                if not isinstance(a, Const):
                    mask |= masks[a]
            masks.append(mask)
        return tuple(masks)

    @cached_property
    def reaches(self) -> tuple[int, ...]:
        """For each w_i, the outputs that depend on it, as a bitmask (bit k: y_k)."""
        masks = [0] * len(self)
        for k, out in enumerate(self.outputs):
            if not isinstance(out, Const):
                masks[out] |= 1 << k
        for i in range(len(self) - 1, self.n - 1, -1):
            for a in self.tape[i - self.n].args:
                if not isinstance(a, Const):
                    masks[a] |= masks[i]
        return tuple(masks)

    def sparsity(self) -> list[list[bool]]:
        """Which entries of J can be nonzero: J[k][j] is True when y_k depends on x_j."""
        rows = []
        for out in self.outputs:
            mask = 0 if isinstance(out, Const) else self.depends[out]
            rows.append([bool(mask >> j & 1) for j in range(self.n)])
        return rows

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
