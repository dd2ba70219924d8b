"""Where the function's text comes from: the EXPRESSION argument, standard input, or --file."""

from __future__ import annotations

import os

from .errors import UsageError


def read_program(path: str, limit: int) -> str:
    """The text of a program file (UTF-8, at most ``limit`` characters), or a UsageError
    blaming --file that says what is wrong with the file."""
    try:
        if os.path.isdir(path):
            raise UsageError(f"{path!r} is a directory, not a program file", option="--file")
        with open(path, encoding="utf-8-sig") as f:
            text = f.read(limit + 1)
    except UnicodeDecodeError as err:
        raise UsageError(f"{path!r} is not UTF-8 text (byte {err.start + 1} cannot be read); "
                         "save the program as UTF-8", option="--file") from None
    except OSError as err:
        raise UsageError(f"cannot read {path!r}: {err.strerror or err}", option="--file") from None
    if len(text) > limit:
        raise UsageError(f"{path!r} holds more than {limit:,} characters (README: Limits)", option="--file")
    if "\0" in text:
        raise UsageError(f"{path!r} holds a NUL character: it is not a text file", option="--file")
    return text
