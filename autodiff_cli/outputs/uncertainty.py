"""An uncertainty propagation (``uncertainty.Propagation``) as a table, JSON, csv or LaTeX.

Each output is written ``value ± u_c`` rounded as the GUM's §7.2.6 recommends
(``uncertainty.rounded``); the machine formats carry the unrounded numbers beside it.
The sinks of table.py, json.py and csv.py call these from ``write_uncertainty`` (latex.py writes
its own, from the same budget): this module imports none of them.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.graph import format_number, listing
from ..report import point_text
from ..uncertainty import Propagation, PropagationRows, Term, UncertaintyFormulas, rounded
from .notation import _label, ascii_math, letters

if TYPE_CHECKING:
    from collections.abc import Callable


def _pm(unicode: bool) -> str:
    return "±" if unicode else "+-"


def _name(result: Propagation, k: int) -> str:
    """y1, y2, … (another letter when an input is named y1): the outputs in the budget and the matrices."""
    return f"{letters(result.graph)[1]}{k + 1}"


def _term_name(result: Propagation, t: Term) -> str:
    names = result.graph.inputs
    return names[t.i] if t.i == t.j else f"{names[t.i]}, {names[t.j]}"


def share(v: float) -> str:
    """A share of u_c² in percent, one decimal ('' when u_c = 0 leaves it undefined)."""
    return "" if not math.isfinite(v) else f"{100 * v:.1f} %"


def _heading(result: Propagation) -> str:
    how = "independent" if result.inputs.diagonal else "correlated"
    order = "linear + 2nd order" if result.second is not None else "linear"
    return f"at {point_text(result.graph, result.x)}   ({result.inputs.source}; {how}; {order})"


def coverage_text(result: Propagation, unicode: bool = True) -> str:
    """Where k came from: 'k = 2 (95.45 % if the output is normally distributed)', or for a level
    'k = 1.96 from the normal distribution for a 95 % coverage'."""
    c = result.coverage
    assert c is not None
    if c.level is None:
        return f"k = {c.k:g} ({100 * c.probability:.4g} % if the output is normally distributed)"
    return f"k = {c.k:.4g} from the normal distribution for a {100 * c.level:g} % coverage"


# --- table --------------------------------------------------------------------------------
def tables(result: Propagation, digits: int, unicode: bool, plain: bool, new_table: Callable[[bool], Any]) -> list[Any]:
    """Rich renderables: the results, each output's budget, Σ_y and r(y) for several outputs,
    the second-order terms and the Monte Carlo check; ``new_table(plain)`` is table.new_table."""
    from rich.text import Text

    spell = (lambda text: text) if unicode else ascii_math
    d, pm = ("∂" if unicode else "d"), _pm(unicode)
    graph, u = result.graph, result.u

    def num(v: float) -> str:
        return format_number(float(v), digits)

    parts: list[Any] = [Text(spell(_heading(result)), style="bold")]
    table = new_table(plain)
    table.add_column("output")
    table.add_column(f"value {pm} u_c", justify="right", style="bold")
    table.add_column("u_c", justify="right")
    if result.coverage is not None:
        table.add_column(f"U = k{'·' if unicode else '*'}u_c", justify="right")
    for k in range(graph.m):
        value, uc = rounded(float(result.values[k]), float(u[k]))
        row = [Text(spell(_label(graph, k))), Text(f"{value} {pm} {uc}"), Text(num(u[k]))]
        if result.expanded is not None:
            row.append(Text(rounded_u(float(result.expanded[k]))))
        table.add_row(*row)
    parts.append(table)
    if result.coverage is not None:
        parts.append(Text(spell(coverage_text(result, unicode))))
    for k in range(graph.m):
        budget = new_table(plain)
        budget.add_column(f"budget of {_name(result, k)}")
        budget.add_column(f"c = {d}{_name(result, k)}/{d}x", justify="right")
        budget.add_column("u(x)", justify="right")
        budget.add_column(f"c{'·' if unicode else '*'}u(x)", justify="right")
        budget.add_column("share of u_c²" if unicode else "share of u_c^2", justify="right")
        S = result.inputs.matrix
        for t in result.budget(k):
            if t.i == t.j:
                budget.add_row(Text(graph.inputs[t.i]), Text(num(t.sensitivity)), Text(num(math.sqrt(S[t.i, t.i]))),
                               Text(num(t.contribution)), Text(share(t.share)))
            else:
                budget.add_row(Text(_term_name(result, t) + " (correlated)"), Text(""),
                               Text(f"r = {S[t.i, t.j] / math.sqrt(S[t.i, t.i] * S[t.j, t.j]):.3g}"),
                               Text(""), Text(share(t.share)))
        parts += [Text(""), budget]
    if graph.m > 1:
        parts += [Text(""), _matrix(result, result.covariance, "covariance", num, new_table(plain)),
                  Text(""), _matrix(result, result.correlation, "correlation", lambda v: f"{v:.4f}", new_table(plain))]
    if result.second is not None:
        second = result.second
        table = new_table(plain)
        heads = (("2nd order", "u_c linear", "u_c + ½tr(HΣHΣ)", "bias ½tr(HΣ)", "y + bias") if unicode else
                 ("2nd order", "u_c linear", "u_c + tr(HSHS)/2", "bias tr(HS)/2", "y + bias"))
        for head in heads:
            table.add_column(head, justify="left" if head == "2nd order" else "right")
        for k in range(graph.m):
            lin = math.sqrt(max(float(result.linear[k, k]), 0.0))
            table.add_row(Text(_name(result, k)), Text(num(lin)), Text(num(u[k])), Text(num(second.bias[k])),
                          Text(num(result.values[k] + second.bias[k])))
        parts += [Text(""), table,
                  Text("normal inputs; the third-derivative term of the GUM's Note to 5.1.2 is left out")]
    if result.monte_carlo is not None:
        parts += [Text(""), *monte_carlo_parts(result, digits, unicode, new_table(plain))]
    return parts


def rounded_u(U: float) -> str:
    return rounded(U, U)[1]


def _matrix(result: Propagation, M: np.ndarray, what: str, num: Any, table: Any) -> Any:
    from rich.text import Text

    table.add_column(what)
    names = [_name(result, k) for k in range(result.graph.m)]
    for name in names:
        table.add_column(name, justify="right")
    for k, name in enumerate(names):
        table.add_row(Text(name), *(Text(num(v) if math.isfinite(v) else "nan") for v in M[k]))
    return table


def monte_carlo_parts(result: Propagation, digits: int, unicode: bool, table: Any) -> list[Any]:
    """The Monte Carlo check: a line, ``table`` filled (linear and MC per output), the verdicts."""
    from rich.text import Text

    mc = result.monte_carlo
    assert mc is not None
    pct = f"{100 * mc.level:g} %"
    spell = (lambda text: text) if unicode else ascii_math
    parts: list[Any] = [Text(spell(f"check: Monte Carlo (JCGM 101), {mc.draws:,} normal draws, seed {mc.seed}"))]
    table.add_column("")
    table.add_column("", justify="left")
    table.add_column("mean", justify="right")
    table.add_column("std", justify="right")
    table.add_column(f"{pct} interval", justify="right")
    table.add_column("verdict")
    k_p = _k(mc.level)
    what = "linear" if result.second is None else "2nd order"
    for k, verdict in enumerate(mc.verdicts):
        y, uc = float(result.values[k]), float(result.u[k])
        name = _name(result, k)
        table.add_row(Text(name), Text(what), Text(format_number(y, digits)), Text(format_number(uc, digits)),
                      Text(f"[{format_number(y - k_p * uc, digits)}, {format_number(y + k_p * uc, digits)}]"), Text(""))
        table.add_row(Text(""), Text("MC"), Text(format_number(float(mc.mean[k]), digits)),
                      Text(format_number(float(mc.std[k]), digits)),
                      Text(f"[{format_number(float(mc.low[k]), digits)}, {format_number(float(mc.high[k]), digits)}]"),
                      Text(verdict.upper(), style="bold"))
    parts.append(table)
    for k, verdict in enumerate(mc.verdicts):
        d = max(float(mc.d_low[k]), float(mc.d_high[k]))
        parts.append(Text(spell(
            f"{_name(result, k)}: ends differ by {format_number(d, 2)}; δ = "
            f"{format_number(float(mc.tolerance[k]), 2)}, noise {format_number(float(mc.noise[k]), 2)}: "
            f"{'linearization' if result.second is None else '2nd order'} {verdict}")))
    parts.append(Text(spell("(adequate: both ends within δ, half a unit in u_c's 2nd digit; JCGM 101 §8)")))
    if mc.nonfinite:
        parts.append(Text(f"{mc.nonfinite:,} draws give values that are not finite: the inputs' distribution "
                          "reaches outside the domain of f"))
    return parts


def _k(level: float) -> float:
    """k_p of the normal distribution: P(|z| ≤ k_p) = p."""
    import statistics

    return statistics.NormalDist().inv_cdf((1 + level) / 2)


# --- JSON -----------------------------------------------------------------------------------
def _number(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _numbers(a: np.ndarray) -> Any:
    return [_numbers(row) for row in a] if np.ndim(a) > 1 else [_number(v) for v in a]


def json_object(result: Propagation) -> dict[str, Any]:
    """The JSON document: point, values, J, Σ_x, the "uncertainty" of each output (unrounded and
    as text), "covariance" and "correlation" of the outputs, "budget", "coverage" and, if
    computed, "second_order" and "monte_carlo"."""
    graph = result.graph
    u = result.u
    outputs = []
    for k in range(graph.m):
        value, uc = rounded(float(result.values[k]), float(u[k]))
        entry: dict[str, Any] = {"output": graph.labels[k], "value": _number(result.values[k]),
                                 "uncertainty": _number(u[k]), "text": f"{value} ± {uc}"}
        if result.expanded is not None:
            entry["expanded"] = _number(result.expanded[k])
        entry["budget"] = [
            {"inputs": [graph.inputs[t.i]] if t.i == t.j else [graph.inputs[t.i], graph.inputs[t.j]],
             "sensitivity": _number(t.sensitivity),
             **({"contribution": _number(t.contribution)} if t.i == t.j else {}),
             "variance": _number(t.variance), "share": _number(t.share)}
            for t in result.budget(k)]
        outputs.append(entry)
    doc: dict[str, Any] = {
        "variables": list(graph.inputs), "outputs": list(graph.labels), "point": _numbers(result.x),
        "input_uncertainty": _numbers(result.inputs.u), "input_covariance": _numbers(result.inputs.matrix),
        "source": result.inputs.source, "value": _numbers(result.values), "jacobian": _numbers(result.jacobian),
        "uncertainty": outputs, "covariance": _numbers(result.covariance),
        "correlation": _numbers(result.correlation),
    }
    if result.coverage is not None:
        doc["coverage"] = {"k": result.coverage.k, "level": result.coverage.level,
                           "probability": result.coverage.probability,
                           "k_from": "given" if result.coverage.level is None else "normal distribution"}
    if result.second is not None:
        doc["second_order"] = {"linear_covariance": _numbers(result.linear),
                               "second_order_covariance": _numbers(result.second.covariance),
                               "bias": _numbers(result.second.bias), "hessians": _numbers(result.second.hessians),
                               "assumption": "normal inputs; the third-derivative term is left out"}
    mc = result.monte_carlo
    if mc is not None:
        doc["monte_carlo"] = {"draws": mc.draws, "seed": mc.seed, "level": mc.level, "mean": _numbers(mc.mean),
                              "std": _numbers(mc.std), "interval": [_numbers(mc.low), _numbers(mc.high)],
                              "tolerance": _numbers(mc.tolerance), "noise": _numbers(mc.noise),
                              "d_low": _numbers(mc.d_low), "d_high": _numbers(mc.d_high),
                              "nonfinite_draws": mc.nonfinite, "verdicts": mc.verdicts, "adequate": mc.adequate}
    doc["warnings"] = [p.message for p in result.problems]
    return doc


# --- csv ------------------------------------------------------------------------------------
def csv_text(result: Propagation, digits: int | None) -> str:
    """One row per output: output,value,u,text (value ± u rounded)[,U][,mc_mean,mc_std,verdict]."""
    def num(v: float) -> str:
        return repr(float(v)) if digits is None else format_number(float(v), digits)

    head = ["output", "value", "u", "rounded"] + (["U"] if result.coverage is not None else [])
    mc = result.monte_carlo
    head += ["mc_mean", "mc_std", "mc_low", "mc_high", "check"] if mc is not None else []
    lines = [",".join(head)]
    for k in range(result.graph.m):
        value, uc = rounded(float(result.values[k]), float(result.u[k]))
        row = [_quote(result.graph.labels[k]), num(result.values[k]), num(result.u[k]), f"{value} +- {uc}"]
        if result.expanded is not None:
            row.append(num(result.expanded[k]))
        if mc is not None:
            row += [num(mc.mean[k]), num(mc.std[k]), num(mc.low[k]), num(mc.high[k]), mc.verdicts[k]]
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    """A csv field: quoted when it holds a comma, a quote or a line break."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


# --- no point: formulas -----------------------------------------------------------------------
def formula_tables(result: UncertaintyFormulas, unicode: bool, plain: bool, new_table: Callable[[bool], Any]) -> list[Any]:
    """u_c(y_k) and u_c/|y_k| as formulas, one row per output, under a line naming the u symbols."""
    from rich.text import Text

    from .. import symbolic

    graph = result.graph
    spell = (lambda text: text) if unicode else ascii_math
    names = ", ".join(f"{symbol} = u({name})" for name, symbol in result.symbols.items())
    exact = [name for name in graph.inputs if name not in result.uncertain]
    parts: list[Any] = [Text(spell(f"u_c as formulas, for independent inputs: {names}"
                                   + (f"; {listing(exact)} exact" if exact else "")), style="bold")]
    table = new_table(plain)
    table.add_column("output")
    table.add_column("u_c", style="bold", overflow="fold")
    table.add_column("relative u_c/abs(y)", overflow="fold")
    for k in range(graph.m):
        relative = result.relative[k]
        table.add_row(Text(spell(_label(graph, k))), Text(spell(symbolic.formula(result.u[k], unicode, graph.inputs))),
                      Text("" if relative is None else spell(symbolic.formula(relative, unicode, graph.inputs))))
    parts.append(table)
    parts.append(Text(spell("u_c² = Σᵢ (∂y/∂xᵢ)²·u(xᵢ)² (GUM 5.1.2); give --at with value±u for numbers")))
    return parts


def formula_object(result: UncertaintyFormulas) -> dict[str, Any]:
    """JSON: the formulas in adjac's language (parse reads them back, with the u symbols as inputs)."""
    from .. import symbolic

    graph = result.graph
    return {"variables": list(graph.inputs), "outputs": list(graph.labels), "uncertain": list(result.uncertain),
            "u_symbols": result.symbols,
            "uncertainty": [symbolic.formula(u, False, graph.inputs) for u in result.u],
            "relative": [None if r is None else symbolic.formula(r, False, graph.inputs) for r in result.relative],
            "jacobian": [[symbolic.formula(c, False, graph.inputs) for c in row] for row in result.jacobian],
            "warnings": [message for _, _, message in result.problems]}


# --- many points: --points ----------------------------------------------------------------------
def row_table(rows: PropagationRows, offset: int, digits: int, unicode: bool, plain: bool,
              new_table: Callable[[bool], Any]) -> Any:
    """One row per point: each input and each output as value ± u, rounded (GUM §7.2.6)."""
    from rich.text import Text

    graph, pm = rows.graph, _pm(unicode)
    table = new_table(plain)
    table.add_column("#", justify="right")
    for name in graph.inputs:
        table.add_column(name, justify="right")
    for k in range(graph.m):
        table.add_column(ascii_math(_label(graph, k)) if not unicode else _label(graph, k), justify="right",
                         style="bold")
    u = rows.u
    for p in range(len(rows.points)):
        cells = [Text(str(offset + p + 1))]
        for j in range(graph.n):
            x, ux = float(rows.points[p, j]), float(rows.input_u[p, j])
            cells.append(Text(format_number(x, digits) if ux == 0 else " ".join(_pair(x, ux, pm))))
        cells += [Text(" ".join(_pair(float(rows.values[p, k]), float(u[p, k]), pm))) for k in range(graph.m)]
        table.add_row(*cells)
    return table


def _pair(value: float, u: float, pm: str) -> tuple[str, str, str]:
    v, w = rounded(value, u)
    return v, pm, w


def csv_rows_text(rows: PropagationRows, digits: int | None, header: bool) -> str:
    """inputs, u(inputs), then y1, u(y1), … per point (full precision unless ``digits``)."""
    graph = rows.graph
    y = letters(graph)[1]
    lines = []
    if header:
        lines.append(",".join([*graph.inputs, *(f"u({name})" for name in graph.inputs),
                               *(c for k in range(graph.m) for c in (f"{y}{k + 1}", f"u({y}{k + 1})"))]))

    def num(v: float) -> str:
        return repr(float(v)) if digits is None else format_number(float(v), digits)

    u = rows.u
    for p in range(len(rows.points)):
        pairs = [num(v) for k in range(graph.m) for v in (rows.values[p, k], u[p, k])]
        lines.append(",".join([*(num(v) for v in rows.points[p]), *(num(v) for v in rows.input_u[p]), *pairs]))
    return "\n".join(lines) + "\n" if lines else ""


def jsonl_lines(rows: PropagationRows, offset: int) -> list[str]:
    """One JSON object a point: point, its u's, values, u_c, the rounded text and Σ_y."""
    u = rows.u
    found = []
    for p in range(len(rows.points)):
        texts = [" ± ".join(rounded(float(v), float(w))) for v, w in zip(rows.values[p], u[p])]
        found.append(json.dumps({"index": offset + p, "point": _numbers(rows.points[p]),
                                 "input_uncertainty": _numbers(rows.input_u[p]), "value": _numbers(rows.values[p]),
                                 "uncertainty": _numbers(u[p]), "text": texts,
                                 "covariance": _numbers(rows.covariance[p]),
                                 "warnings": [w.message for w in rows.problems if w.point == offset + p]},
                                allow_nan=False))
    return found
