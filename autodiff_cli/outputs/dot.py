"""The computational graph as Graphviz DOT text, and its rendering by Graphviz's ``dot``.

One node per Wengert variable, labelled with its definition (``w4 = w1·w2``) and, at a
point, its value; inputs are boxes, outputs are drawn double and named (``y1 = w6``).
One edge per active argument, from w_j to w_i, labelled with the local partial
c = ∂w_i/∂w_j as written in the primitives table (``∂w4/∂w1 = w2``) and, at a point,
its value.  When a mode is given, every node also shows its tangents ẇ (one per
forward pass) or adjoints w̄ (one per reverse pass).

The layout is Graphviz's: this module only writes text, and ``render`` runs ``dot``.
All text that comes from the user (input names, the expression) is escaped as data.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core import ad
from ..core.graph import Const, Graph, format_number
from ..core.primitives import PRIMITIVES
from ..errors import RenderError
from ..report import point_text
from ..trace import outputs_by_node
from .notation import ascii_math, definition, letters, notation_for, partial_rule

FORMATS = ("svg", "png", "pdf")          # what --graph-out renders with dot
TIMEOUT = 120.0                          # seconds dot may take to lay out a graph
SLOW = 100                               # nodes from which a layout may take seconds (200 can pass TIMEOUT)

INSTALL_HINT = ("Graphviz's dot program is not installed: install Graphviz "
                "(Debian/Ubuntu: apt-get install graphviz; Fedora: dnf install graphviz; macOS: brew install graphviz), "
                "or use --graph to print the DOT text and render it elsewhere")


LINE = 240              # characters of a line of a label, and lines of a label, past which the middle
LINES = 12              # is cut out: dot refuses a quoted string longer than 16,384 bytes


def quote(text: str) -> str:
    """A DOT double-quoted string holding ``text`` literally (lines kept as centred lines).

    Backslash starts an escape in DOT labels (\\N, \\G, \\l ...), so it is doubled; quotes
    are escaped; a newline becomes DOT's ``\\n``.  Nothing else is special in a quoted string.
    A line longer than ``LINE`` characters, or a text of more than ``LINES`` lines, loses its
    middle to an ellipsis, so no string passes Graphviz's limit (escaped, a character takes
    at most 4 bytes: under 12,000 bytes).
    """
    body = shorten(text.replace("\r\n", "\n").replace("\r", "\n"))
    body = body.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{body}"'


def shorten(text: str, line: int = LINE, lines: int = LINES) -> str:
    """``text`` with the middle of each long line, and of a long list of lines, cut out."""
    dots = "..." if text.isascii() else "…"
    rows = text.split("\n")
    if len(rows) > lines:
        rows = [*rows[: lines // 2], dots, *rows[len(rows) - (lines - lines // 2 - 1):]]
    cut = lambda r: r if len(r) <= line else r[: (line - len(dots)) // 2] + dots + r[len(r) - (line - len(dots) + 1) // 2:]
    return "\n".join(cut(r) for r in rows)


def _attrs(**attrs: str) -> str:
    return ", ".join(f"{key}={quote(value)}" for key, value in attrs.items())


def to_dot(graph: Graph, x: Sequence[float] | np.ndarray | None = None, mode: ad.Mode | None = None,
           seeds: Any = None, digits: int = 6, unicode: bool = True) -> str:
    """DOT text for ``graph``; with a point ``x`` (length n), values and partials at x.

    With ``mode`` (and a point), each node also shows its derivative in every pass:
    tangents ẇ_i for forward mode, adjoints w̄_i for reverse mode, one entry per row of
    ``seeds`` (default: the unit vectors, i.e. the whole Jacobian).
    """
    number = lambda v: format_number(float(v), digits)
    plain = (lambda s: s) if unicode else ascii_math
    w: list[Any] | None = None
    edges: list[ad.Edge] = []
    if x is not None:
        w, edges = ad.linearize(graph, np.asarray(x, dtype=float))
    caption = f"f({', '.join(graph.inputs)}) = " + (graph.labels[0] if graph.m == 1 else f"({', '.join(graph.labels)})")
    if x is not None:
        caption += f"\nat {point_text(graph, np.asarray(x, dtype=float))}"

    derivatives: list[list[Any]] = []            # per pass, per w_i: array of 1 value or None
    mark = ""
    if mode is not None and w is not None:
        if seeds is None:
            seeds = np.eye(graph.n if mode == "forward" else graph.m)
        derivatives = [p.derivatives for p in ad.passes(graph, w, edges, mode, seeds)]   # over the same edges
        W = letters(graph)[0]
        mark = (unicodedata.normalize("NFC", W + ("\u0307" if mode == "forward" else "\u0304")) if unicode
                else f"{W}_dot" if mode == "forward" else f"{W}_bar")                  # ẇ, w̄ (or v̇, v̄)
        caption += "\n" + _sweep_caption(graph, mode, seeds, mark, number, unicode)

    W, Y = letters(graph)                            # w and y, unless an input is named like them
    nt = notation_for(graph)
    outputs = {i: [f"{Y}{k + 1}" for k in ks] for i, ks in outputs_by_node(graph).items()}

    lines = [
        "digraph adjac {",
        "  rankdir=LR;",
        f"  graph [{_attrs(label=plain(caption), labelloc='t', fontname='Helvetica', nodesep='0.4', ranksep='0.9')}];",
        f"  node [{_attrs(fontname='Helvetica', fontsize='12', shape='ellipse')}];",
        f"  edge [{_attrs(fontname='Helvetica', fontsize='10', color='#555555')}];",
    ]
    for i in range(len(graph)):
        head = f"{W}{i + 1} = {definition(graph, i, nt)}"
        if i in outputs:
            head = " = ".join(outputs[i]) + " = " + head
        label = [head]
        bad = False
        if w is not None:
            value = np.ravel(w[i])[0]
            label.append(f"= {number(value)}")
            bad = not np.isfinite(value)
        if derivatives:
            values = [number(np.ravel(d[i])[0]) if d[i] is not None else "0" for d in derivatives]
            shown = values[0] if len(values) == 1 else f"({', '.join(values)})"
            label.append(f"{mark}{i + 1} = {shown}")
        style: dict[str, str] = {"label": plain("\n".join(label)), "tooltip": plain(graph.source(i, 200))}
        if i < graph.n:
            style.update(shape="box", style="filled,rounded", fillcolor="#dbe8f7", color="#2b5b94")
        if i in outputs:
            style.update(style="filled" + (",rounded" if i < graph.n else ""), fillcolor="#fde3c7",
                         color="#b35900", peripheries="2")
        if bad:                                   # not finite: where a warning points
            style.update(fontcolor="#b00000", color="#b00000")
        lines.append(f"  w{i + 1} [{_attrs(**style)}];")
    for k, out in enumerate(graph.outputs):      # a constant output has no Wengert variable
        if isinstance(out, Const):
            text = f"{Y}{k + 1} = {graph.name(out)}\n(constant)"
            lines.append(f"  y{k + 1} [{_attrs(label=plain(text), shape='note', style='filled', fillcolor='#eeeeee')}];")

    lines += _edges(graph, edges if w is not None else None, number, plain)
    if graph.n:
        lines.append("  { rank=source; " + " ".join(f"w{j + 1};" for j in range(graph.n)) + " }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edges(graph: Graph, edges: list[ad.Edge] | None, number: Any, plain: Any) -> list[str]:
    """One DOT edge per edge (i, j, k, c) of ad.linearize, in tape order; without a point,
    one per active argument (constants are folded: no node, no edge)."""
    if edges is None:
        edges = [(i, a, k, None) for i, op in enumerate(graph.tape, start=graph.n)
                 for k, a in enumerate(op.args) if not isinstance(a, Const)]
    lines = []
    nt = notation_for(graph)
    W = nt.wengert
    for i, j, k, c in edges:
        label = f"∂{W}{i + 1}/∂{W}{j + 1} = {partial_rule(graph, i, k, nt)}"
        style = {}
        if c is not None:
            value = np.ravel(c)[0]
            if "{" in PRIMITIVES[graph.tape[i - graph.n].prim].rules[k]:   # a constant rule (1, −1) is its own value
                label += f"\n= {number(value)}"
            if not np.isfinite(value):
                style = {"fontcolor": "#b00000", "color": "#b00000"}
        lines.append(f"  w{j + 1} -> w{i + 1} [{_attrs(label=plain(label), **style)}];")
    return lines


def _sweep_caption(graph: Graph, mode: ad.Mode, seeds: Any, mark: str, number: Any, unicode: bool) -> str:
    """What the derivatives on the nodes mean: one entry per pass, with its seed."""
    seeds = np.atleast_2d(np.asarray(seeds, dtype=float))
    names = list(graph.inputs) if mode == "forward" else [f"{letters(graph)[1]}{k + 1}" for k in range(graph.m)]
    dot = ("ẋ" if mode == "forward" else "ȳ") if unicode else ("x_dot" if mode == "forward" else "y_bar")
    unit = seeds.shape[0] == len(names) and np.array_equal(seeds, np.eye(len(names)))
    if unit:
        entries = ", ".join(f"∂w/∂{x}" for x in names) if mode == "forward" else ", ".join(f"∂{y}/∂w" for y in names)
        shown = entries if len(names) == 1 else f"({entries})"
        return f"{mode} mode: {mark} = {shown}, one pass per {'input' if mode == 'forward' else 'output'}"
    seed_text = "; ".join("(" + ", ".join(number(v) for v in s) + ")" for s in seeds)
    return f"{mode} mode, seed {dot} = {seed_text}"


def dot_program() -> str | None:
    """The path of Graphviz's ``dot``, or None when it is not installed."""
    return shutil.which("dot")


def render(dot_text: str, path: str, fmt: str, timeout: float | None = None, name: str | None = None) -> None:
    """Run Graphviz's ``dot -T<fmt> -o <path>`` on ``dot_text``; RenderError if it cannot.

    ``name`` is the file the user asked for, named in the messages (``path`` may be a
    temporary file beside it, renamed into place when the run completes)."""
    program = dot_program()
    name = path if name is None else name
    timeout = TIMEOUT if timeout is None else timeout
    if program is None:
        raise RenderError(INSTALL_HINT)
    try:
        done = subprocess.run([program, f"-T{fmt}", "-o", path], input=dot_text.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"dot did not finish laying out the graph in {timeout:g} s, so {name} was not drawn; "
                          "write the DOT text with --graph-out FILE.dot (or --graph) and render it with "
                          "another Graphviz layout, such as sfdp") from None
    except OSError as err:
        raise RenderError(f"could not run {program}: {err.strerror}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise RenderError(f"dot failed to write {name}: {message}")
