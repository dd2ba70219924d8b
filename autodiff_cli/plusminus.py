"""``value±u`` in --at: the ± split off before the value is converted (by points.decimal).

Kept apart from uncertainty.py, which the command loads only when there are uncertainties.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

PLUS_MINUS = ("±", "+/-", "+-")              # "+/-" before "+-", which is not part of it
PM_SPACES = re.compile(r"\s*(±|\+/-|\+-)\s*")


def split_pm(text: str) -> tuple[str, str | None]:
    """``"1.000±0.002"`` → ``("1.000", "0.002")``; no ± → ``(text, None)``.  ``+-`` and ``+/-``
    are the ASCII spellings (so ``+-`` always means ±, never a plus and a minus)."""
    for sign in PLUS_MINUS:
        value, found, u = text.partition(sign)
        if found:
            return value, u
    return text, None


def compact_pm(text: str) -> str:
    """``"1.000 ± 0.002"`` → ``"1.000±0.002"``, so that a list check sees one value, not two."""
    return PM_SPACES.sub(r"\1", text)


def measured(text: str, what: str, convert: Callable[[str, str], float]) -> tuple[float, float | None]:
    """One field of --at: ``value`` or ``value±u``, split before the value is converted (by
    ``convert``, points.decimal); u is a standard uncertainty (≥ 0).  ValueError if either is wrong."""
    value, u = split_pm(text)
    x = convert(value, what)
    if u is None:
        return x, None
    return x, standard_uncertainty(convert(u, f"{what}, after ±"), f"{what}, after ±")


def standard_uncertainty(u: float, what: str) -> float:
    """u as a standard uncertainty: finite and not negative, else a ValueError saying so."""
    if not math.isfinite(u) or u < 0:
        raise ValueError(f"{what}: a standard uncertainty is a finite number ≥ 0, not {u:g}")
    return u
