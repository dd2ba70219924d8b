"""JSON and JSON lines: one document (streamed) or one object per point.

Strict JSON: nan and inf are null, and a ``warnings`` list says where they came from.
Rows of J are outputs and columns are inputs: J[k][j] = ∂y_k/∂x_j.
"""

from __future__ import annotations

import io
import json
import math
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..core.graph import Graph
from ..report import Problem, Report
from .sink import Sink, Style, rows_text

if TYPE_CHECKING:                 # the trace, --check and formulas are imported where they are written
    from ..check import Check
    from ..report import Summary
    from ..symbolic import SymbolicReport
    from ..trace import Trace
    from ..uncertainty import Propagation, PropagationRows, UncertaintyFormulas


# --- machine formats -----------------------------------------------------------------
def number(v: float) -> float | None:
    """A JSON number: full double precision, or null when not finite."""
    v = float(v)
    return v if math.isfinite(v) else None


def numbers(a: np.ndarray) -> Any:
    """A nested list of JSON numbers from an array."""
    if a.ndim == 0:
        return number(float(a))
    if np.isfinite(a).all():
        return a.tolist()
    return [numbers(row) for row in a] if a.ndim > 1 else [number(v) for v in a]


def result_object(report: Report, p: int) -> dict[str, Any]:
    """The JSON object for point p: point, value, and the Jacobian or the seeded product."""
    obj: dict[str, Any] = {"point": numbers(report.points[p]), "value": numbers(report.values[p])}
    if report.seed is not None:
        obj["seed"] = numbers(report.seed)
    if report.order == 2:
        if report.direction is not None:
            obj["direction"] = numbers(report.direction)
        obj["gradient"] = numbers(report.gradient[p])
    obj[report.kind] = numbers(report.derivatives[p])
    return obj


def warning_object(report: Any, problem: Problem) -> dict[str, Any]:
    """The JSON warning for one problem (everything needed is in ``problem``)."""
    return {
        "point": problem.point,
        "node": None if problem.node is None else f"w{problem.node + 1}",
        "expression": problem.expression,
        "kind": problem.kind,
        "arguments": [number(a) for a in problem.arguments],
        "message": problem.message,
    }


def warnings_list(report: Report | Summary) -> list[dict[str, Any]]:
    """The JSON warnings of a run (a Report, or batch.Summary for many chunks): one per
    traced problem, and one counting the points with non-finite results not traced."""
    found = [warning_object(report, problem) for problem in report.problems]
    more = report.unexplained
    if more > 0:
        found.append({"point": None, "node": None, "expression": "", "kind": "value", "arguments": [],
                      "message": f"{more} more point{'s' if more > 1 else ''} with non-finite results"})
    return found


# --- JSON ----------------------------------------------------------------------------------
def trace_object(trace: Trace, scalar: Any = None) -> dict[str, Any]:
    """The "trace" member of a JSON result (see README, "Tracing the sweeps").

    {"mode", "nodes": [{"name", "definition", "value", "input", "outputs"[, "named"]}],
     "passes": [{"seed", "label", "derivatives": {name: value}, "rows": [...]}]}
    Structurally zero derivatives are 0.0; non-finite numbers are null.  ``scalar``
    writes each value (default: a JSON number; ``symbolic`` passes its formula writer).
    """
    from .notation import Notation, equation, partial_rule, pass_label


    write = scalar or number

    graph = trace.graph
    nodes = [{"name": f"w{i + 1}", "definition": graph.definition(i), "value": write(trace.w[i]),
              "input": graph.inputs[i] if i < graph.n else None,
              "outputs": [f"y{k + 1}" for k in trace.outputs_at(i)]} for i in range(len(graph))]
    if graph.names:                          # a program: the names it gave its intermediates
        for i, node in enumerate(nodes):
            node["named"] = graph.named(i) or None
    passes = []
    nt = Notation()
    for q, sweep in enumerate(trace.passes):
        rows = [{"name": f"w{row.node + 1}",
                 "equation": equation(trace, row, nt),
                 "seeds": [f"{'x' if trace.mode == 'forward' else 'y'}{s + 1}" for s in row.seeds],
                 "terms": [{"from": f"w{(t.j if trace.mode == 'forward' else t.i) + 1}", "rule": partial_rule(graph, t.i, t.k),
                            "c": write(t.c)} for t in row.terms],
                 "value": write(row.value),
                 "structurally_zero": row.zero} for row in sweep.rows]
        derivatives = {f"w{row.node + 1}": write(row.value) for row in sorted(sweep.rows, key=lambda r: r.node)}
        passes.append({"seed": [number(s) for s in sweep.seed], "label": pass_label(trace, q),
                       "derivatives": derivatives, "rows": rows})
    found: dict[str, Any] = {"mode": trace.mode, "nodes": nodes, "passes": passes}
    if trace.colouring is not None:                  # S, the compressed J·S (or Wᵀ·J), the entry each element is
        from .sparsity import Recovery

        found["compressed"] = Recovery(trace).as_json(number)
    return found


def check_object(result: Check, p: int) -> dict[str, Any]:
    """The ``"check"`` object of the result for point p (non-finite numbers become null)."""
    if getattr(result, "order", 1) == 2:
        return hessian_check_object(result, p)
    from ..check import ATOL, FAIL, RTOL, ULPS, UNVERIFIED


    (fr_abs, fr_rel), (fd_abs, fd_rel) = result.summary(p).values()
    status_name = {FAIL: "fail", UNVERIFIED: "unverified"}
    entries = [
        {"output": k, "input": j, "status": status_name[int(result.status[p, k, j])],
         "forward": number(result.forward[p, k, j]), "reverse": number(result.reverse[p, k, j]),
         "differences": number(result.differences[p, k, j]), "reason": why}
        for (q, k, j), why in sorted(result.reasons.items()) if q == p
    ]
    return {
        "verdict": result.verdict(p),
        "forward_vs_reverse": {"max_abs": number(fr_abs), "max_rel": number(fr_rel),
                               "ok": bool(result.fr_ok[p].all())},
        "ad_vs_differences": {"max_abs": number(fd_abs), "max_rel": number(fd_rel),
                              "unverified": int((result.status[p] == UNVERIFIED).sum())},
        "tolerance": {"rtol": RTOL, "atol": ATOL, "ulps": ULPS},
        "step": numbers(result.step[p]),
        "differences": numbers(result.differences[p]),
        "entries": entries,
    }


class JsonlSink(Sink):
    """One result object per line, with the warnings for that point."""

    def __init__(self, out: IO[str], style: Style):
        self.out, self.trace = out, style.trace

    def write(self, report: Report, offset: int, checked: Check | None = None) -> None:
        if not self.trace and checked is None and report.order == 1:
            self.out.writelines(line + "\n" for line in result_lines(report, offset, with_warnings=True))
            return
        from ..trace import build

        warnings = warnings_list(report)
        for p in range(len(report.points)):
            obj = result_object(report, p)
            if checked is not None:
                obj["check"] = check_object(checked, p)
            obj["warnings"] = [w for w in warnings if w["point"] == p + offset]
            if self.trace:
                obj["trace"] = trace_object(build(report, p)) if report.order == 1 else second_trace_object(report, p)
            self.out.write(json.dumps(obj, allow_nan=False) + "\n")

    def write_uncertainty_rows(self, rows: PropagationRows, offset: int) -> None:
        from .uncertainty import jsonl_lines

        self.out.writelines(line + "\n" for line in jsonl_lines(rows, offset))

    def write_formulas(self, report: SymbolicReport) -> None:
        doc = symbolic_document(report, self.trace)
        self.out.write(json.dumps({**doc["results"][0], "warnings": doc["warnings"]}) + "\n")


class JsonSink(Sink):
    """One JSON document, streamed: the head, the results as they come, then the warnings.

    Compact for programs; on a terminal, where a person reads it, indented (``indented``)
    once the document is whole."""

    def __init__(self, out: IO[str], graph: Graph, mode: str, seed: Any, style: Style):
        self.out, self.first, self.trace, self.done = out, True, style.trace, False
        self.graph, self.mode, self.seed, self.started = graph, mode, seed, False
        self.screen: IO[str] | None = None
        isatty = getattr(out, "isatty", None)
        if isatty is not None and isatty():
            self.held = io.StringIO()
            self.screen, self.out = out, self.held

    def _show(self) -> None:
        """On a terminal: the whole document, indented."""
        if self.screen is not None:
            document = json.JSONDecoder().decode(self.held.getvalue())     # our own JSON text: data, not code
            self.screen.write(indented(document) + "\n")
            self.screen, self.out = None, io.StringIO()

    def _start(self, report: Report | None = None) -> None:
        """The head, from the first report (or, with no points at all, from the options)."""
        if self.started:
            return
        graph = self.graph
        passes = report.n_passes if report is not None else (1 if self.seed is not None else
                                                              graph.n if self.mode == "forward" else graph.m)
        head: dict[str, Any] = {"variables": list(graph.inputs), "outputs": list(graph.labels),
                                "mode": "forward-over-reverse" if report is not None and report.order == 2 else self.mode,
                                "passes": passes, "sparsity": graph.sparsity()}
        if report is not None and report.colouring is not None:    # the pass (0-based colour) of each column or row
            head["colours"] = list(report.colouring.colours)
        if report is not None and report.kind == "hessian":
            from ..core.second import hessian_sparsity

            pattern = hessian_sparsity(graph)
            head["hessian_sparsity"] = (pattern.any(axis=0) if report.seed is not None else pattern).tolist()
        self.out.write(json.dumps(head)[:-1] + ', "results": [')
        self.started = True

    def write(self, report: Report, offset: int, checked: Check | None = None) -> None:
        self._start(report)
        if not self.trace and checked is None and report.order == 1:
            lines = result_lines(report, offset, with_warnings=False)
        else:
            from ..trace import build

            lines = []
            for p in range(len(report.points)):
                obj = result_object(report, p)
                if self.trace:
                    obj["trace"] = trace_object(build(report, p)) if report.order == 1 else second_trace_object(report, p)
                if checked is not None:
                    obj["check"] = check_object(checked, p)
                lines.append(json.dumps(obj, allow_nan=False))
        if lines:
            self.out.write(("" if self.first else ", ") + ", ".join(lines))
            self.first = False

    def write_formulas(self, report: SymbolicReport) -> None:
        self.out.write(json.dumps(symbolic_document(report, self.trace)) + "\n")
        self.done = True
        self._show()

    def write_uncertainty(self, result: Propagation) -> None:
        from .uncertainty import json_object

        self.out.write(json.dumps(json_object(result), allow_nan=False) + "\n")
        self.done = True
        self._show()

    def write_uncertainty_formulas(self, result: UncertaintyFormulas) -> None:
        from .uncertainty import formula_object

        self.out.write(json.dumps(formula_object(result)) + "\n")
        self.done = True
        self._show()

    def close(self, summary: Summary | None) -> None:
        if self.done:
            return
        self._start()
        warnings = warnings_list(summary) if summary is not None else []
        self.out.write('], "warnings": ' + json.dumps(warnings, allow_nan=False) + "}\n")
        self._show()


def indented(obj: Any, level: int = 0) -> str:
    """JSON for reading: objects and lists of lists one item a line, two spaces a level; a list
    of numbers or strings (a row of J, the variables) stays on one line."""
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{json.dumps(key)}: {indented(value, level + 1)}" for key, value in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(item, (dict, list)) for item in obj):
        return "[\n" + ",\n".join(inner + indented(item, level + 1) for item in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def result_lines(report: Report, offset: int, with_warnings: bool) -> list[str]:
    """``json.dumps(result_object(...))`` for every point of a chunk.

    Rows that are all finite are spelled directly from one repr of the chunk (json.dumps
    writes floats with repr and ', ' between items, so the text is the same); the others
    go through ``result_object``, which writes null for nan and inf.
    """
    N, m, n = len(report.points), report.graph.m, report.graph.n
    derivatives, key = report.derivatives, report.kind
    width = derivatives.shape[-1]
    table = np.concatenate([report.points, report.values, derivatives.reshape(N, -1)], axis=1)
    finite = np.isfinite(table).all(axis=1)
    texts = rows_text(table)
    problems: dict[int, list[dict[str, Any]]] = {}
    for problem in report.problems:
        problems.setdefault(problem.point - offset, []).append(warning_object(report, problem))
    seed_text = f', "seed": {json.dumps(numbers(report.seed))}' if report.seed is not None else ""
    tail = ', "warnings": []}' if with_warnings else "}"
    lines = []
    for p in range(N):
        if not finite[p]:
            obj = result_object(report, p)
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


# --- formulas ----------------------------------------------------------------------------
def symbolic_document(report: SymbolicReport, with_trace: bool = False) -> dict[str, Any]:
    """JSON: the numeric document's keys, with formulas (strings adjac parses) for numbers."""
    from .. import symbolic

    graph, formula = report.graph, report.formula
    result: dict[str, Any] = {"point": None, "value": [formula(v) for v in report.values]}
    if report.order == 2:
        if report.seed is not None:
            result["seed"] = list(report.seed)
        if report.direction is not None:
            result["direction"] = list(report.direction)

        def spell(tree: Any) -> Any:
            return [spell(t) for t in tree] if isinstance(tree, list) else formula(tree)

        result["gradient"] = spell(report.gradient)
        result[report.kind] = spell(report.second)
        if with_trace:
            result["trace"] = second_trace_object(symbolic.trace_second(report), formula)
    elif report.product is not None:
        result["seed"] = list(report.seed or ())
        result["jvp" if report.mode == "forward" else "vjp"] = [formula(c) for c in report.product]
    else:
        assert report.jacobian is not None
        result["jacobian"] = [[formula(c) for c in row] for row in report.jacobian]
    if with_trace and report.order == 1:
        result["trace"] = trace_object(symbolic.trace(report), formula)
    wengert = [{"name": f"w{i + 1}", "definition": graph.definition(i), "formula": formula(w_i),
                **({"named": graph.named(i) or None} if graph.names else {})} for i, w_i in enumerate(report.w)]
    return {"variables": list(graph.inputs), "outputs": list(graph.labels), "symbolic": True,
            "mode": "forward-over-reverse" if report.order == 2 else report.mode, "passes": report.n_passes,
            "wengert": wengert, "results": [result],
            "warnings": [{"point": None, "node": None, "expression": expression, "kind": kind, "arguments": [],
                          "message": message} for kind, expression, message in report.problems]}


def hessian_check_object(result: Any, p: int) -> dict[str, Any]:
    """The "check" member with --hessian: the verdict, H against differences of the gradient, symmetry."""
    from ..check import ATOL, RTOL

    summary = result.summary(p)
    (fd_abs, fd_rel), (sym_abs, sym_rel) = summary["ad_vs_differences"], summary["symmetry"]
    return {"verdict": result.verdict(p), "rtol": RTOL, "atol": ATOL,
            "ad_vs_differences": {"max_abs": number(fd_abs), "max_rel": number(fd_rel)},
            "symmetry": {"max_abs": number(sym_abs), "max_rel": number(sym_rel)}}


def second_trace_object(report: Any, p: Any = None) -> dict[str, Any]:
    """The "trace" member with --hessian or --hvp: per pass the direction, the weights, the
    tangents ẇ, the ċ of every edge, and per node w̄ and w̄̇ with the w̄̇ rule.  ``report``
    is a Report and ``p`` its point, or the passes of a symbolic trace and ``p`` the
    formula writer."""
    from ..trace import build_second
    from .notation import UNICODE, second_terms

    if isinstance(report, Report):
        sweeps, write = build_second(report, p), number
    else:
        sweeps, write = report, p
    passes = []
    for sweep in sweeps:
        adjoint = sweep.adjoint
        tangents = {f"w{row.node + 1}": write(row.value) for row in sweep.tangent.passes[0].rows}
        curvature = [{"edge": f"c{c.i + 1},{c.j + 1}", "value": write(c.value), "structurally_zero": c.zero,
                      "terms": [{"from": f"w{t.q + 1}", "partial": write(t.s), "tangent": write(t.w_dot)}
                                for t in c.terms]} for c in sweep.curvature]
        rows = [{"name": f"w{second.node + 1}", "w_bar": write(row.value), "w_bar_dot": write(second.value),
                 "equation": " ".join(second_terms(adjoint, second, notation=UNICODE)),
                 "structurally_zero": second.zero}
                for row, second in zip(adjoint.passes[0].rows, sweep.rows)]
        passes.append({"direction": list(sweep.tangent.passes[0].seed), "weights": list(adjoint.passes[0].seed),
                       "tangents": tangents, "curvature": curvature, "rows": rows})
    return {"mode": "forward-over-reverse", "passes": passes}
