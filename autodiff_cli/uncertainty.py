"""Propagation of uncertainty (GUM, JCGM 100:2008, §5): Σ_y = J·Σ_x·Jᵀ from the Jacobian.

The model of one uncertainty run, data and no text (``outputs/uncertainty.py`` prints it):

- ``plusminus.split_pm`` splits ``1.000±0.002`` (or ``1.000+-0.002``) before the value is converted
  (a module of its own, light enough for every command line to load);
- ``InputCovariance`` is Σ_x with how it was given (± in --at, --u, --cov FILE, --corr FILE),
  validated by ``covariance_from`` / ``read_matrix`` (symmetric, positive semi-definite,
  finite, n × n: anything else is a ``UsageError`` naming the file and the problem);
- ``propagate`` gives a ``Propagation``: values y, J, Σ_y, u_c(y_k) = √(Σ_y)_kk, the budget
  of each output (contribution ∂y/∂x_i·u_i, its share of u_c², and the correlated cross terms
  2·∂y/∂x_i·∂y/∂x_j·u(x_i, x_j)), and the expanded uncertainty U = k·u_c of ``Coverage``;
- ``second_order`` adds ½·tr(H_k Σ H_l Σ) to Σ_y (the GUM's Note to §5.1.2 without its
  third-derivative term) and the bias ½·tr(H_k Σ);
- ``monte_carlo`` is the JCGM 101:2008 propagation of distributions (multivariate normal
  draws through adjac's own primal sweep) and its §8 validation of the linear result;
- ``rounded`` writes value and u_c as the GUM's §7.2.6 recommends: u_c to two significant
  digits, the value to the same decimal place;
- ``formulas`` (no point) gives u_c(y) over symbols, from the symbolic Jacobian;
- ``propagate_many`` and ``UncertainPoints`` do it at every point of --points (a file with
  u(x) columns, or one Σ_x for all).
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .core import ad
from .core.graph import Graph, listing
from .core.parse import NAME
from .errors import UsageError
from .plusminus import standard_uncertainty

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


SYMMETRY = 1e-9           # |Σ − Σᵀ| ≤ SYMMETRY·max|Σ|: symmetric up to the digits a file keeps
PSD = 1e-10               # an eigenvalue ≥ −PSD·max|λ| counts as 0 (rounding), below that Σ is not PSD


# --- reading uncertainties ---------------------------------------------------------------
class InputCovariance(NamedTuple):
    """Σ_x (n × n, input order) and where it came from."""

    matrix: np.ndarray
    source: str                    # "±", "--u", "--cov FILE" or "--corr FILE"

    @property
    def u(self) -> np.ndarray:
        """The standard uncertainties u(x_i) = √Σ_ii."""
        return np.sqrt(np.diag(self.matrix))

    @property
    def uncertain(self) -> np.ndarray:
        """The indices of the inputs with a non-zero row in Σ_x (the others are known exactly)."""
        return np.flatnonzero(np.any(self.matrix != 0, axis=0))

    @property
    def diagonal(self) -> bool:
        return bool(np.all(self.matrix == np.diag(np.diag(self.matrix))))


def uncertainties_by_name(graph: Graph, values: tuple[float, ...], names: tuple[str, ...] | None,
                          text: str, option: str) -> np.ndarray:
    """The u's of ``--u`` in input order: by position (one per input) or by name (an input not
    named has u = 0, known exactly)."""
    n = graph.n
    if names is None:
        if len(values) != n:
            raise UsageError(f"{text!r} gives {len(values)} uncertaint{'y' if len(values) == 1 else 'ies'}, but the "
                             f"function has {n} input{'s' if n != 1 else ''} ({listing(graph.inputs)}); give them in "
                             f"that order, or by name such as {graph.inputs[0] if n else 'x'}=0.1", option=option)
        return np.array(values, dtype=float)
    unknown = [name for name in names if name not in graph.inputs]
    if unknown:
        raise UsageError(f"{', '.join(unknown)} in {text!r} is not an input; the inputs are {listing(graph.inputs)}",
                         option=option)
    given = dict(zip(names, values))
    return np.array([given.get(name, 0.0) for name in graph.inputs], dtype=float)


def read_matrix(path: str, option: str, inputs: tuple[str, ...] | None = None) -> np.ndarray:
    """An n × n matrix from a .npy file or a csv (comma- or space-separated rows, ``#`` comments,
    an optional first row of input names in any order: then rows and columns are put in the
    order of ``inputs``)."""
    def bad(problem: str) -> UsageError:
        return UsageError(f"{path!r}: {problem}", option=option)

    file = Path(path)
    if not file.is_file():
        raise bad("no such file" if not file.exists() else "not a file")
    try:
        raw = file.read_bytes()
    except OSError as err:
        raise bad(f"cannot be read ({err.strerror})") from None
    if raw.startswith(b"\x93NUMPY"):
        return _npy_matrix(raw, bad)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bad("is neither a .npy array nor text (csv)") from None
    rows: list[list[float]] = []
    header: list[str] | None = None
    for line_no, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        fields = [f.strip() for f in (next(csv.reader([content])) if "," in content else content.split())]
        if not rows and header is None and all(NAME.match(f) for f in fields):
            header = fields
            continue
        try:
            rows.append([float(f) for f in fields])
        except ValueError:
            raise bad(f"line {line_no} is not a row of numbers: {line.strip()!r}") from None
    if not rows:
        raise bad("holds no numbers")
    if len({len(r) for r in rows}) > 1:
        raise bad(f"its rows have different lengths ({', '.join(str(len(r)) for r in rows)})")
    matrix = np.array(rows, dtype=float)
    if header is None or inputs is None:
        return matrix
    if sorted(header) != sorted(inputs) or len(set(header)) != len(header):
        raise bad(f"its header names {', '.join(header)}, but the inputs are {listing(inputs)}; "
                  "name each input once, or leave out the header and give the rows in input order")
    if matrix.shape != (len(header), len(header)):
        raise bad(f"the matrix is {' × '.join(map(str, matrix.shape))} under a header of {len(header)} names")
    order = [header.index(name) for name in inputs]
    return matrix[np.ix_(order, order)]


def _npy_matrix(raw: bytes, bad: Callable[[str], UsageError]) -> np.ndarray:
    """The array of an .npy file's bytes, from its header and raw data (never unpickled)."""
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(stream)
    except (ValueError, IndexError) as err:
        raise bad(f"is not a readable .npy array ({err})") from None
    if dtype.kind not in "iuf":
        raise bad(f"holds {dtype} values, not numbers")
    size = math.prod(shape)
    data = raw[stream.tell():]
    if any(k < 0 for k in shape) or len(data) < size * dtype.itemsize:
        raise bad(f"the array of shape {tuple(shape)} ends early (the file is damaged)")
    flat = np.frombuffer(data, dtype=dtype, count=size)
    return np.asarray(flat.reshape(shape, order="F" if fortran else "C"), dtype=float)


def validated(matrix: np.ndarray, n: int, what: str, option: str) -> np.ndarray:
    """``matrix`` if it is a finite, symmetric, positive semi-definite n × n matrix; else a
    UsageError saying which (``what`` names the file)."""
    def bad(problem: str) -> UsageError:
        return UsageError(f"{what}: {problem}", option=option)

    if matrix.shape != (n, n):
        raise bad(f"the matrix is {' × '.join(map(str, matrix.shape)) or 'a scalar'}, but the function has "
                  f"{n} input{'s' if n != 1 else ''}, so it must be {n} × {n}")
    if not np.all(np.isfinite(matrix)):
        i, j = np.argwhere(~np.isfinite(matrix))[0]
        raise bad(f"entry ({i + 1}, {j + 1}) is {matrix[i, j]}; every entry must be finite")
    scale = float(np.max(np.abs(matrix))) if matrix.size else 0.0
    asymmetry = np.abs(matrix - matrix.T)
    if np.max(asymmetry, initial=0.0) > SYMMETRY * scale:
        i, j = np.unravel_index(np.argmax(asymmetry), asymmetry.shape)
        raise bad(f"not symmetric: entry ({i + 1}, {j + 1}) is {matrix[i, j]:g} but ({j + 1}, {i + 1}) is "
                  f"{matrix[j, i]:g}")
    matrix = (matrix + matrix.T) / 2
    eigenvalues = np.linalg.eigvalsh(matrix)
    if n and eigenvalues[0] < -PSD * max(scale, float(np.max(np.abs(eigenvalues)))):
        raise bad(f"not positive semi-definite: its smallest eigenvalue is {eigenvalues[0]:.3g} < 0, so some "
                  "combination of the inputs would have a negative variance")
    return matrix


def covariance_from(graph: Graph, u: np.ndarray | None, cov: str | None, corr: str | None,
                    source: str) -> InputCovariance:
    """Σ_x from standard uncertainties (diagonal), from --cov FILE, or from --corr FILE and the u's."""
    n = graph.n
    if cov is not None:
        return InputCovariance(validated(read_matrix(cov, "--cov", graph.inputs), n, repr(cov), "--cov"), f"--cov {cov}")
    assert u is not None
    if corr is None:
        return InputCovariance(np.diag(u**2), source)
    R = validated(read_matrix(corr, "--corr", graph.inputs), n, repr(corr), "--corr")
    if not np.allclose(np.diag(R), 1.0, rtol=0, atol=1e-9):
        raise UsageError(f"{corr!r}: a correlation matrix has 1 on its diagonal, this one has "
                         f"{', '.join(f'{r:g}' for r in np.diag(R))}", option="--corr")
    if np.max(np.abs(R)) > 1 + 1e-9:
        raise UsageError(f"{corr!r}: correlations lie in [-1, 1]; this matrix has {np.max(np.abs(R)):g}",
                         option="--corr")
    return InputCovariance(R * np.outer(u, u), f"{source} and --corr {corr}")


# --- coverage ------------------------------------------------------------------------------
class Coverage(NamedTuple):
    """U = k·u_c: k as given, or for a level p from the normal distribution (k = Φ⁻¹((1 + p)/2))."""

    k: float
    level: float | None            # p in (0, 1) when given as a level (95%)

    @property
    def probability(self) -> float:
        """The coverage probability of ±k·u for a normal distribution (the level when given)."""
        return self.level if self.level is not None else 2 * _normal().cdf(self.k) - 1


def coverage(text: str) -> Coverage:
    """``2`` (a coverage factor k) or ``95%`` (a level, k from the normal distribution); ValueError else."""
    s = text.strip()
    if s.endswith("%"):
        try:
            p = float(s[:-1]) / 100
        except ValueError:
            raise ValueError(f"{text!r} is not a level such as 95%") from None
        if not 0 < p < 1:
            raise ValueError(f"a coverage level lies strictly between 0% and 100%, not {text}")
        return Coverage(_normal().inv_cdf((1 + p) / 2), p)
    try:
        k = float(s)
    except ValueError:
        raise ValueError(f"{text!r} is neither a coverage factor k such as 2 nor a level such as 95%") from None
    if not math.isfinite(k) or k <= 0:
        raise ValueError(f"a coverage factor k is a positive number, not {text}")
    return Coverage(k, None)


def _normal() -> Any:
    import statistics  # loaded where a level or a Monte Carlo needs it

    return statistics.NormalDist()


# --- the linear propagation -----------------------------------------------------------------
class Term(NamedTuple):
    """One term of u_c²(y_k): an input (i, i) with contribution c = ∂y/∂x_i·u_i and c², or a
    correlated pair (i, j), i < j, with 2·∂y/∂x_i·∂y/∂x_j·u(x_i, x_j)."""

    i: int
    j: int
    sensitivity: float             # ∂y/∂x_i (for a pair: the product ∂y/∂x_i·∂y/∂x_j)
    contribution: float            # ∂y/∂x_i·u_i (for a pair: nan, it has no sign of its own)
    variance: float                # its part of u_c²: c² (pair: 2·∂y/∂x_i·∂y/∂x_j·u(x_i, x_j), may be < 0)
    share: float                   # variance / u_c² (nan when u_c = 0)


@dataclass
class SecondOrder:
    """The second-order terms for normal inputs: Σ_y += ½·tr(H_k Σ H_l Σ), bias ½·tr(H_k Σ)."""

    hessians: np.ndarray           # (m, n, n)
    covariance: np.ndarray         # (m, m): the second-order part alone
    bias: np.ndarray               # (m,)

    @property
    def variance(self) -> np.ndarray:
        return np.diag(self.covariance)


@dataclass
class MonteCarloResult:
    """JCGM 101: M draws of x ~ N(x0, Σ_x) through f, per output; and the §8 comparison."""

    draws: int                         # M: batches × draws per batch
    seed: int
    level: float                       # coverage probability p of the intervals
    mean: np.ndarray                   # (m,)
    std: np.ndarray                    # (m,)
    low: np.ndarray                    # (m,) probabilistically symmetric 100p % interval
    high: np.ndarray
    noise: np.ndarray                  # (m,) standard error of the endpoints, from the spread over batches
    tolerance: np.ndarray              # (m,) δ: half a unit in the 2nd significant digit of u_c
    d_low: np.ndarray                  # |y − U_p − low|
    d_high: np.ndarray                 # |y + U_p − high|
    nonfinite: int                     # draws whose outputs are not all finite

    @property
    def verdicts(self) -> list[str]:
        """Per output: "adequate" (both endpoints within δ), "not adequate" (an endpoint off by more
        than δ plus three standard errors of the simulation, or draws outside the domain), or
        "inconclusive" (in between: the simulation is too noisy to tell at this tolerance)."""
        if self.nonfinite:
            return ["not adequate"] * len(self.mean)
        return [verdict(max(a, b), t, s) for a, b, t, s in zip(self.d_low, self.d_high, self.tolerance, self.noise)]

    @property
    def adequate(self) -> bool:
        return all(v == "adequate" for v in self.verdicts)


@dataclass
class Propagation:
    graph: Graph
    x: np.ndarray                      # (n,)
    inputs: InputCovariance
    values: np.ndarray                 # (m,)
    jacobian: np.ndarray               # (m, n)
    covariance: np.ndarray             # (m, m): J Σ_x Jᵀ (plus the second-order part, if asked)
    linear: np.ndarray                 # (m, m): J Σ_x Jᵀ alone
    coverage: Coverage | None = None
    second: SecondOrder | None = None
    monte_carlo: MonteCarloResult | None = None
    mode: str = "forward"
    problems: list[Any] = field(default_factory=list)   # report.Problem of the point, if not finite

    @property
    def u(self) -> np.ndarray:
        """The combined standard uncertainties u_c(y_k)."""
        return np.sqrt(np.clip(np.diag(self.covariance), 0, None))

    @property
    def expanded(self) -> np.ndarray | None:
        """U = k·u_c, with --coverage."""
        return None if self.coverage is None else self.coverage.k * self.u

    @property
    def correlation(self) -> np.ndarray:
        """r(y_k, y_l) = Σ_kl / (u_k·u_l); nan where a u is 0."""
        u = self.u
        with np.errstate(all="ignore"):
            return self.covariance / np.outer(u, u)

    def budget(self, k: int) -> list[Term]:
        """The terms of the linear u_c²(y_k), largest |variance| first (a budget lists the first-order terms)."""
        J, S = self.jacobian[k], self.inputs.matrix
        total = float(self.linear[k, k])
        u = self.inputs.u
        terms = []
        with np.errstate(all="ignore"):
            for i in range(len(J)):
                var = float(J[i] ** 2 * S[i, i]) if S[i, i] else 0.0      # an exact input: 0, even if ∂y/∂x is inf
                terms.append(Term(i, i, float(J[i]), float(J[i] * u[i]), var, var / total if total else math.nan))
                for j in range(i + 1, len(J)):
                    if S[i, j] != 0:
                        var = float(2 * J[i] * J[j] * S[i, j])
                        terms.append(Term(i, j, float(J[i] * J[j]), math.nan, var,
                                          var / total if total else math.nan))
        return sorted(terms, key=lambda t: (-abs(t.variance) if math.isfinite(t.variance) else -math.inf))


def propagate(graph: Graph, x: np.ndarray, inputs: InputCovariance, mode: str = "auto",
              cover: Coverage | None = None) -> Propagation:
    """The law of propagation of uncertainty at x: Σ_y = J Σ_x Jᵀ, J by adjac's sweeps."""
    from .report import compute

    report = compute(graph, np.asarray(x, dtype=float)[None, :], mode)
    J = report.jacobian[0] if report.jacobian is not None else np.zeros((graph.m, graph.n))
    a = inputs.uncertain                                       # an exact input adds nothing, even where ∂y/∂x is inf
    with np.errstate(all="ignore"):
        linear = J[:, a] @ inputs.matrix[np.ix_(a, a)] @ J[:, a].T
    return Propagation(graph, np.asarray(x, dtype=float), inputs, report.values[0], J, linear, linear,
                       coverage=cover, mode=report.mode, problems=list(report.problems))


def second_order(result: Propagation) -> Propagation:
    """Add the second-order terms (normal inputs, third derivatives omitted):
    Σ_y,kl += ½·tr(H_k Σ H_l Σ), which for independent inputs is the GUM's ½ Σ_ij (∂²f/∂x_i∂x_j)² u_i² u_j²;
    and the bias E[y] − f(x) ≈ ½·tr(H_k Σ)."""
    from .core import second

    _, _, H = second.hessian(result.graph, result.x[None, :])
    H = H[0]                                   # (m, n, n)
    a = result.inputs.uncertain                # the exact inputs left out, as in propagate
    S = result.inputs.matrix[np.ix_(a, a)]
    with np.errstate(all="ignore"):
        HS = H[:, a][:, :, a] @ S                  # (m, n_a, n_a): H_k Σ
        covariance = 0.5 * np.einsum("kab,lba->kl", HS, HS)
        bias = 0.5 * np.einsum("kaa->k", HS)
    result.second = SecondOrder(H, covariance, bias)
    result.covariance = result.linear + covariance
    return result


# --- Monte Carlo (JCGM 101:2008) ------------------------------------------------------------
BATCH = 10**5                                  # draws per batch (JCGM 101 §7.9: h batches of M draws)
MIN_BATCHES, MAX_BATCHES = 10, 200             # 10^6 draws at least, 2·10^7 at most
WORK = 4 * 10**9                               # at most this many node evaluations in all (a big graph runs fewer)
SWEEP = 2**24                                  # Wengert values (8 bytes each) held at a time by the primal sweep
SEED = 2008                                    # fixed, and printed: the same run gives the same numbers


def verdict(d: float, delta: float, noise: float) -> str:
    """JCGM 101 §8.2, with the simulation's own noise: d ≤ δ adequate; d > δ + 3·noise not adequate."""
    if d <= delta:
        return "adequate"
    return "not adequate" if not d <= delta + 3 * noise else "inconclusive"


def tolerance(u: float, digits: int = 2) -> float:
    """JCGM 101 §7.9.2: u written with ``digits`` significant digits as c·10^l; δ = ½·10^l."""
    if not (math.isfinite(u) and u > 0):
        return 0.0
    return 0.5 * 10.0 ** (math.floor(math.log10(u)) - digits + 1)


def monte_carlo(result: Propagation, seed: int = SEED, level: float | None = None,
                batch: int = BATCH, most: int = MAX_BATCHES) -> MonteCarloResult:
    """JCGM 101's adaptive Monte Carlo (§7.9): batches of ``batch`` draws of x ~ N(x, Σ_x) through the
    primal sweep ``ad.evaluate``, until twice the standard error of the batch averages of the mean,
    the standard deviation and both endpoints of the probabilistically symmetric 100p % interval is
    within δ (or ``most`` batches); then its §8 comparison of the interval with y ± k_p·u_c
    (k_p from the normal distribution)."""
    graph, n, m = result.graph, result.graph.n, result.graph.m
    p = level if level is not None else (result.coverage.probability if result.coverage is not None else 0.95)
    k_p = _normal().inv_cdf((1 + p) / 2)
    eigenvalues, V = np.linalg.eigh(result.inputs.matrix)
    L = V * np.sqrt(np.clip(eigenvalues, 0, None))      # Σ = L Lᵀ, also when Σ is singular
    rng = np.random.default_rng(seed)
    delta = np.array([tolerance(float(v)) for v in result.u])
    most = max(MIN_BATCHES, min(most, WORK // (batch * max(1, len(graph)))))
    estimates: list[np.ndarray] = []                      # per batch: (4, m) mean, std, low, high
    nonfinite = 0
    lo, hi = (1 - p) / 2, (1 + p) / 2
    y, U = result.values, k_p * result.u
    chunk = max(1, min(batch, SWEEP // max(1, len(graph))))         # bounded memory in the primal sweep
    while True:
        Y = np.empty((batch, m))
        for start in range(0, batch, chunk):
            size = min(chunk, batch - start)
            X = result.x + rng.standard_normal((size, n)) @ L.T
            Y[start:start + size] = ad.outputs_of(graph, ad.evaluate(graph, X), size)
        finite = np.all(np.isfinite(Y), axis=1)
        nonfinite += int(np.count_nonzero(~finite))
        Y = Y[finite] if finite.sum() > 1 else np.full((2, m), np.nan)
        estimates.append(np.array([np.mean(Y, axis=0), np.std(Y, axis=0, ddof=1),
                                   np.quantile(Y, lo, axis=0), np.quantile(Y, hi, axis=0)]))
        h = len(estimates)
        if h >= MIN_BATCHES:
            spread = np.std(estimates, axis=0, ddof=1) / math.sqrt(h)     # (4, m) standard errors
            _, _, low, high = np.mean(estimates, axis=0)
            d = np.maximum(np.abs(y - U - low), np.abs(y + U - high))
            found = [verdict(*v) for v in zip(d, delta, np.max(spread[2:], axis=0))]
            settled = [v == "not adequate" or (v == "adequate" and bool(np.all(2 * spread[:, k] <= delta[k])))
                       for k, v in enumerate(found)]          # §7.9.4: stable to within δ, or clearly off
            if h >= most or nonfinite or all(settled):
                break
    mean, std, low, high = np.mean(estimates, axis=0)
    noise = np.max(spread[2:], axis=0)
    return MonteCarloResult(h * batch, seed, p, mean, std, low, high, noise, delta,
                            np.abs(y - U - low), np.abs(y + U - high), nonfinite)


# --- rounding (GUM §7.2.6) ------------------------------------------------------------------
def rounded(value: float, u: float, digits: int = 2) -> tuple[str, str]:
    """Value and standard uncertainty as a lab report writes them: u to ``digits`` significant
    digits (0.00199 → 0.0020), the value to the same decimal place (12345.678 ± 12.3 → 12346 ± 12).
    A u of 0 leaves the value as it is; a non-finite one is written as is."""
    if not (math.isfinite(value) and math.isfinite(u)):
        return _plain(value), _plain(u)
    if u == 0:
        return _plain(value), "0"
    place = math.floor(math.log10(u)) - digits + 1      # the decimal place of the last digit kept: 10^place
    q = _quantize(u, place)
    if q >= Decimal(10) ** (place + digits):           # 0.0999 → 0.100: one digit too many, keep 0.10
        place += 1
        q = _quantize(u, place)
    return _text(_quantize(value, place), place), _text(q, place)


def _quantize(v: float, place: int) -> Decimal:
    return Decimal(repr(v)).quantize(Decimal(1).scaleb(place), rounding=ROUND_HALF_EVEN)


def _text(d: Decimal, place: int) -> str:
    """Fixed-point text with the digits up to 10^place (12350 for 1.235E+4), and no "-0"."""
    text = f"{d:f}"
    return text.lstrip("-") if d == 0 else text


def _plain(v: float) -> str:
    """The shortest text that reads back as v: 2.5, 3, 1e-20, nan."""
    if not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


# --- no point: u_c as a formula ---------------------------------------------------------------
@dataclass
class UncertaintyFormulas:
    """u_c(y_k) = √(Σ_i (∂y_k/∂x_i)² u(x_i)²) for independent inputs, in the inputs and the
    symbols u_x of those named uncertain (the others exact), and u_c/|y_k| beside it."""

    graph: Graph
    uncertain: tuple[str, ...]          # the inputs with an uncertainty, in input order
    symbols: dict[str, str]             # input → the name of its u symbol (u_L; another if u_L is taken)
    u: list[Any]                        # SymPy, one per output
    relative: list[Any]                 # u_c/|y|, or None where y is 0 or the formula would not simplify
    jacobian: list[list[Any]]
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def u_names(graph: Graph, names: tuple[str, ...]) -> dict[str, str]:
    """The symbol of u(x) for each input in ``names``: u_x, or u_u_x … when that name is taken."""
    taken, found = set(graph.inputs), {}
    for name in names:
        symbol = f"u_{name}"
        while symbol in taken:
            symbol = "u_" + symbol
        taken.add(symbol)
        found[name] = symbol
    return found


def formulas(graph: Graph, names: tuple[str, ...], mode: str = "auto") -> UncertaintyFormulas:
    """The law of propagation over symbols: J by adjac's symbolic sweeps (symbolic.compute)."""
    from . import symbolic

    sp = symbolic.sympy_module()
    report = symbolic.compute(graph, mode)
    assert report.jacobian is not None
    uncertain = tuple(name for name in graph.inputs if name in names)
    names_of = u_names(graph, uncertain)
    u = {name: sp.Symbol(names_of[name], positive=True) for name in uncertain}
    columns = [graph.inputs.index(name) for name in uncertain]
    found, relative = [], []
    for k in range(graph.m):
        variance = sum((report.jacobian[k][j] * u[graph.inputs[j]]) ** 2 for j in columns)
        u_c = symbolic.simplify(sp.sqrt(variance), report.budget)
        found.append(u_c)
        y = report.values[k]
        ratio = None
        if y != 0 and y.free_symbols:
            ratio = symbolic.simplify(sp.sqrt(sp.expand(variance / y**2)), report.budget)
            if sp.count_ops(ratio) > sp.count_ops(u_c) + 4:       # no simpler than u_c itself
                ratio = None
        relative.append(ratio)
    return UncertaintyFormulas(graph, uncertain, names_of, found, relative, report.jacobian, report.problems)


# --- many points: --points ----------------------------------------------------------------------
@dataclass
class PropagationRows:
    """The linear propagation at N points: Σ_y = J Σ_x Jᵀ at each (J by the batch engine)."""

    graph: Graph
    points: np.ndarray                  # (N, n)
    input_u: np.ndarray                 # (N, n): √diag Σ_x
    values: np.ndarray                  # (N, m)
    covariance: np.ndarray              # (N, m, m)
    problems: list[Any] = field(default_factory=list)
    bad_points: int = 0

    @property
    def u(self) -> np.ndarray:
        """u_c(y_k) at each point, (N, m)."""
        return np.sqrt(np.clip(np.diagonal(self.covariance, axis1=1, axis2=2), 0, None))


def propagate_many(graph: Graph, X: np.ndarray, S: np.ndarray, mode: str = "auto", problems: int = 10) -> PropagationRows:
    """``propagate`` at every row of X, with Σ_x of shape (n, n) for all, or (N, n, n) one per point."""
    from .report import compute

    report = compute(graph, X, mode, problems=problems, sweeps=False)
    J = report.jacobian if report.jacobian is not None else np.zeros((len(X), graph.m, graph.n))
    S = np.broadcast_to(S, (len(X), graph.n, graph.n))
    exact = ~np.any(S != 0, axis=1)                                       # (N, n): an exact input adds nothing
    with np.errstate(all="ignore"):
        Jz = np.where(exact[:, None, :], 0.0, J)
        covariance = Jz @ S @ Jz.transpose(0, 2, 1)
    u_in = np.sqrt(np.diagonal(S, axis1=1, axis2=2))
    bad = ~(np.all(np.isfinite(report.values), axis=1) & np.all(np.isfinite(covariance), axis=(1, 2)))
    return PropagationRows(graph, X, u_in, report.values, covariance, list(report.problems), int(np.count_nonzero(bad)))


U_COLUMN = re.compile(r"u\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\Z")


def has_u_columns(path: str) -> bool:
    """Whether the text file ``path`` starts (after comments and blank lines) with a header that
    has u(x) columns: then its points carry their own uncertainties."""
    try:
        with open(path, "rb") as file:
            head = file.read(1 << 16)
    except OSError:
        return False
    if head.startswith(b"\x93NUMPY"):
        return False
    for line in head.decode("utf-8-sig", errors="replace").splitlines():
        content = line.split("#", 1)[0].strip()
        if content:
            return bool(re.search(r"\bu\(", content))
    return False


class UncertainPoints:
    """A text points file whose header names the inputs and, for some, u(x) columns (the others
    exact): (X, U) chunks in input order.  A bad header is a UsageError; a bad row a PointsError,
    raised after the rows before it have been handed out."""

    def __init__(self, path: str, graph: Graph, chunk: int = 4096):
        self.path, self.graph, self.chunk = path, graph, chunk

    def _header(self, fields: list[str], line_no: int) -> tuple[list[int], list[int]]:
        """For each input, its value column, and its u column or -1."""
        graph = self.graph
        values: dict[str, int] = {}
        us: dict[str, int] = {}
        for c, name in enumerate(fields):
            m = U_COLUMN.match(name)
            target, key = (us, m.group(1)) if m else (values, name)
            if key not in graph.inputs:
                raise UsageError(f"{self.path}, line {line_no}: {name!r} in the header is not an input or u(input); "
                                 f"the inputs are {listing(graph.inputs)}", option="--points")
            if key in target:
                raise UsageError(f"{self.path}, line {line_no}: {name} is in the header twice", option="--points")
            target[key] = c
        missing = [name for name in graph.inputs if name not in values]
        if missing:
            raise UsageError(f"{self.path}, line {line_no}: the header has no column for {', '.join(missing)}; "
                             f"name the inputs ({listing(graph.inputs)}) and u(x) for those with an uncertainty",
                             option="--points")
        return [values[name] for name in graph.inputs], [us.get(name, -1) for name in graph.inputs]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        from .errors import PointsError
        from .points import decimal

        n = self.graph.n
        columns: tuple[list[int], list[int]] | None = None
        X: list[list[float]] = []
        U: list[list[float]] = []
        width = 0
        with open(self.path, encoding="utf-8-sig", errors="replace") as file:
            for line_no, line in enumerate(file, 1):
                content = line.split("#", 1)[0].strip()
                if not content:
                    continue
                fields = [f.strip() for f in content.split(",")] if "," in content else content.split()
                if columns is None:
                    columns, width = self._header(fields, line_no), len(fields)
                    continue
                try:
                    if len(fields) != width:
                        raise ValueError(f"{len(fields)} values, but the header has {width} columns")
                    row = [decimal(f, f"column {c + 1}") for c, f in enumerate(fields)]
                    u = [row[c] if c >= 0 else 0.0 for c in columns[1]]
                    for name, v in zip(self.graph.inputs, u):
                        standard_uncertainty(v, f"u({name})")
                except ValueError as err:
                    if X:
                        yield np.array(X).reshape(-1, n), np.array(U).reshape(-1, n)
                    raise PointsError(self.path, f"line {line_no}", str(err)) from None
                X.append([row[c] for c in columns[0]])
                U.append(u)
                if len(X) == self.chunk:
                    yield np.array(X).reshape(-1, n), np.array(U).reshape(-1, n)
                    X, U = [], []
        if columns is None:
            raise UsageError(f"{self.path} has no header; with u(x) columns, the first line names the columns",
                             option="--points")
        if X:
            yield np.array(X).reshape(-1, n), np.array(U).reshape(-1, n)
