"""Every entry of PRIMITIVES: each local partial against central differences.

The tests are parametrized over the table itself, so a new primitive is tested as soon
as it is added.  A partial is checked at the sample points where the primitive is
finite in a neighbourhood along that argument (inside its domain); every partial must
have at least three such points, so a primitive cannot slip through untested.
"""

import itertools
import math
import re

import numpy as np
import pytest

from autodiff_cli import jacobian, parse
from autodiff_cli.core.primitives import FUNCTIONS, OPERATORS, PRIMITIVES

SAMPLES = [-2.5, -1.3, -0.7, -0.3, 0.4, 0.8, 1.2, 1.7, 3.0]   # no 0 and no ±1: kinks and domain edges
H = 1e-5


def arity(name):
    return len(PRIMITIVES[name].partials)


def candidates(name):
    return np.array(list(itertools.product(SAMPLES, repeat=arity(name))))


def inside(name, k, U):
    """Rows of U where f is finite on [u_k - 2h, u_k + 2h] and no kink, jump or switch (the
    table's ``edge``) lies in between: strictly inside a smooth piece of the domain."""
    f, edge = PRIMITIVES[name].f, PRIMITIVES[name].edge
    ok = np.ones(len(U), dtype=bool)
    with np.errstate(all="ignore"):
        side = np.sign(edge[0](*U.T)) if edge else None
        for t in (-2 * H, -H, 0.0, H, 2 * H):
            shifted = U.copy()
            shifted[:, k] += t
            ok &= np.isfinite(f(*shifted.T))
            if edge:
                ok &= np.sign(edge[0](*shifted.T)) == side
    return U[ok]


def central_difference(f, U, k):
    up, down = U.copy(), U.copy()
    up[:, k] += H
    down[:, k] -= H
    return (f(*up.T) - f(*down.T)) / (2 * H)


PARTIALS = [(name, k) for name in PRIMITIVES for k in range(arity(name))]


@pytest.mark.parametrize(("name", "k"), PARTIALS, ids=[f"{n}-d{k}" for n, k in PARTIALS])
def test_partial_matches_central_differences(name, k):
    prim = PRIMITIVES[name]
    U = inside(name, k, candidates(name))
    assert len(U) >= 3, f"{name}: too few sample points inside its domain"
    with np.errstate(all="ignore"):
        w = prim.f(*U.T)
        c = np.broadcast_to(prim.partials[k](w, *U.T), (len(U),))
        expected = central_difference(prim.f, U, k)
    np.testing.assert_allclose(c, expected, rtol=1e-6, atol=1e-7, err_msg=f"∂{name}/∂u{k}")


@pytest.mark.parametrize(("name", "k"), PARTIALS, ids=[f"{n}-d{k}" for n, k in PARTIALS])
def test_partial_on_scalars_equals_partial_on_arrays(name, k):
    """The engines pass arrays of N points, and constants as plain floats."""
    prim = PRIMITIVES[name]
    U = inside(name, k, candidates(name))
    with np.errstate(all="ignore"):
        on_arrays = np.broadcast_to(prim.partials[k](prim.f(*U.T), *U.T), (len(U),))
        for row, c in zip(U, on_arrays):
            u = [float(v) for v in row]
            assert float(prim.partials[k](float(prim.f(*u)), *u)) == pytest.approx(c, rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("name", PRIMITIVES)
def test_rules_has_one_entry_per_partial_and_show_formats(name):
    prim = PRIMITIVES[name]
    assert len(prim.rules) == len(prim.partials) == arity(name) >= 1
    names = dict(zip("wabc", "WABC"[: 1 + arity(name)]))
    shown = prim.show.format(**{key: v for key, v in names.items() if key != "w"})
    assert all(slot in shown for slot in "ABC"[: arity(name)])
    for rule in prim.rules:
        assert set(re.findall(r"\{(\w*)\}", rule)) <= set(names), rule
        rule.format(**names)                       # no placeholder the trace cannot fill


def test_every_function_is_callable_from_the_language():
    assert set(FUNCTIONS.values()) == (set(PRIMITIVES) - OPERATORS) | {"pow"}
    assert FUNCTIONS["ln"] == "log"
    for spelled, name in FUNCTIONS.items():
        graph = parse(f"{spelled}({', '.join('xyz'[: arity(name)])})")
        assert [op.prim for op in graph.tape] == [name]


@pytest.mark.parametrize("name", sorted(set(FUNCTIONS.values())))
def test_function_end_to_end_matches_its_partial(name):
    """parse → linearize → both sweeps give the table's partials, at points inside the domain."""
    prim = PRIMITIVES[name]
    graph = parse(f"f({', '.join('xyz'[: arity(name)])}) = {name}({', '.join('xyz'[: arity(name)])})")
    for k in range(arity(name)):
        U = inside(name, k, candidates(name))
        assert len(U) >= 3
        for mode in ("forward", "reverse"):
            y, J = jacobian(graph, U, mode)
            np.testing.assert_allclose(y[:, 0], prim.f(*U.T), rtol=1e-15)
            np.testing.assert_allclose(J[:, 0, k], central_difference(prim.f, U, k), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("b", "x"), [(2.0, -3.0), (3.0, -2.0), (-1.0, -0.5), (-2.0, -1.5), (0.0, -4.0), (1.0, -2.0), (5.0, 0.0)])
def test_pow_base_partial_with_integer_exponent_at_any_base(b, x):
    """n·x^(n−1) for a constant integer exponent, also for x ≤ 0 (where log x is useless)."""
    prim = PRIMITIVES["pow"]
    w = prim.f(x, b)
    expected = 0.0 if b == 0 else b * x ** (b - 1)
    assert prim.partials[0](w, x, b) == expected
    assert prim.partials[0](np.array([w]), np.array([x]), np.array([b]))[0] == expected


@pytest.mark.parametrize("name", [name for name, prim in PRIMITIVES.items() if prim.edge is not None])
def test_edge_takes_the_arguments_and_vanishes_at_a_known_singular_point(name):
    # --check and the messages call edge(*arguments): it must take one value per argument
    # and be zero at a place where the primitive is singular (argument 0, or ±1 for the
    # inverse trigonometric ones, or pi/2 for tan).
    g, what = PRIMITIVES[name].edge
    arity = len(PRIMITIVES[name].partials)
    singular = {"tan": (np.pi / 2,), "asin": (1.0,), "acos": (-1.0,), "atanh": (1.0,), "acosh": (1.0,),
                "div": (1.0, 0.0), "pow": (0.0, 0.5), "atan2": (0.0, -1.0)}.get(name, (0.0,) * arity)
    assert len(singular) == arity
    assert abs(g(*singular)) < 1e-15
    assert g(*[0.3 + 0.4 * q for q in range(arity)]) != 0
    assert what.startswith(("the ", "a "))


@pytest.mark.parametrize("x", [-37.0, -40.0, -700.0, 30.0, 0.0])
def test_log_sigmoid_in_the_tails(x):
    """σ is not 0.5 + 0.5·tanh(x/2), which is 0 at x = −40 (log: a false domain error),
    and σ′ is not w·(1 − w), which cancels for x ≫ 0: log σ(x) = −log(1 + e^−x)."""
    y, J = jacobian(parse("log(sigmoid(x)), sigmoid(x)"), [x])
    log_sigma = -math.log1p(math.exp(-x))
    sigma_prime = math.exp(-abs(x)) / (1 + math.exp(-abs(x))) ** 2
    if x <= 0:     # for x ≫ 0, σ(x) rounds near 1 and log amplifies that: the composition's loss
        assert y[0] == pytest.approx(log_sigma, rel=1e-15, abs=0)
    assert J[0, 0] == pytest.approx(1 / (1 + math.exp(x)), rel=1e-15, abs=0)     # (log σ)′ = σ(−x)
    assert J[1, 0] == pytest.approx(sigma_prime, rel=1e-15, abs=0)


@pytest.mark.parametrize("name", ["asin", "acos", "atanh"])
def test_partials_near_plus_minus_one(name):
    """1 − a² rounds a² first: at a = 1 − 2^-27 that is 2e-9 relative; (1 − a)(1 + a) is
    exact but for the product's one rounding."""
    for a in (1 - 2.0**-27, -(1 - 2.0**-27), 0.999999997, -1 + 1e-8):
        one_minus_a2 = (1 - a) * (1 + a)                        # 1 − a and 1 + a are exact
        expected = {"asin": 1 / math.sqrt(one_minus_a2), "acos": -1 / math.sqrt(one_minus_a2),
                    "atanh": 1 / one_minus_a2}[name]
        prim = PRIMITIVES[name]
        assert prim.partials[0](prim.f(a), a) == pytest.approx(expected, rel=2e-16, abs=0)
