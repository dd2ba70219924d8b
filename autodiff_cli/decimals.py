"""What is wrong with a value typed for --at, --seed or --points, said so that it points at the fix.

``problem`` explains one field that is not a plain finite decimal; ``commas`` spots a list
written with spaces or semicolons between its values.  Both only describe; the callers
add where the value came from.
"""

from __future__ import annotations

import re
import unicodedata

from .core.parse import DECIMAL

# typographic minus signs that word processors and some keyboards produce instead of '-'
MINUS_SIGNS = str.maketrans(dict.fromkeys("\u2212\u2012\u2013\u2014\u2010\u2011\ufe63\uff0d", "-"))
MISSING_EXPONENT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][+-]?\Z")


def problem(s: str) -> str:
    """Why the stripped field ``s`` is not a finite decimal: a clause that starts with the value."""
    if not s:
        return "empty value"
    if DECIMAL.match(s):
        return f"{s} overflows a double; give a finite number"
    low = s.lower().lstrip("+-")
    if low in ("nan", "inf", "infinity"):
        return f"{s} is not allowed; give finite numbers"
    if low.startswith("0x"):
        return f"{s} is hexadecimal; give a decimal number"
    plain = unicodedata.normalize("NFKC", s.translate(MINUS_SIGNS)).translate(MINUS_SIGNS)
    if plain != s and DECIMAL.match(plain):
        odd = next(c for c in s if not c.isascii())
        return (f"{s!r} is typed with {unicodedata.name(odd, 'a non-ASCII character').lower()} ({odd}); "
                f"type plain ASCII: {plain}")
    if len(s) > 2 and s[0] == s[-1] and s[0] in "'\"" and DECIMAL.match(s[1:-1].strip()):
        return f"{s} is in quotes; write the number without them: {s[1:-1].strip()}"
    if MISSING_EXPONENT.match(s):
        return f"{s!r} has no exponent after its 'e'; write {s.rstrip('+-')[:-1]} or, for a power of ten, {s.rstrip('+-')}3"
    if "_" in s and DECIMAL.match(s.replace("_", "")):
        return f"{s!r} has a digit separator '_'; write {s.replace('_', '')}"
    if any(c.isspace() for c in s):
        return f"{s!r} holds {len(s.split())} values; separate values with commas: {','.join(s.split())}"
    if not s.isascii():
        odd = next(c for c in s if not c.isascii())
        return f"{s!r} is not a number: it has {unicodedata.name(odd, 'a non-ASCII character').lower()} ({odd})"
    if s[0] in "([{" or s[-1] in ")]}":
        return f"{s!r} is not a number; give the values without brackets, such as 1,2"
    if re.search(r"[A-Za-z*/^]", s):
        return f"{s!r} is not a number; give decimal numbers such as 0.5 or 3.14159, not names or formulas"
    return f"{s!r} is not a number (write decimals with a point: 1.5, 2e-3)"


def commas(text: str) -> str | None:
    """If ``text`` separates its values with spaces or semicolons: the same list with commas."""
    text = re.sub(r"\s*=\s*", "=", text)              # x = 1 is one value, by name
    fields = text.strip().split(";")
    if len(fields) > 1:                                 # a spreadsheet's list: 1,5;2,5 means 1.5 and 2.5
        return ",".join(f.strip().replace(",", ".") for f in fields)
    if not any(len(f.split()) > 1 for f in text.split(",")):
        return None
    return ",".join(w for f in text.split(",") for w in f.split())
