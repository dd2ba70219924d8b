"""adjac in a real pseudo-terminal, for the tests of what only a terminal shows (layouts
that fit its width, colour and boxes, JSON indentation, the stdin prompt)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNSET = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM", "CLICOLOR", "CLICOLOR_FORCE", "PY_COLORS",
         "TTY_COMPATIBLE", "TTY_INTERACTIVE")      # variables that would override what the terminal says


def in_terminal(args: list[str], columns: int = 100, rows: int = 40, env: dict[str, str] | None = None,
                typed: bytes | None = None, stdout_pipe: bool = False, timeout: float = 60) -> tuple[int, str, str]:
    """(status, what the terminal showed, stdout if it was a pipe) of ``python -m autodiff_cli``
    in a terminal ``columns`` wide; ``typed`` is written once adjac says it waits for input."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in UNSET}
    full.update(TERM="xterm-256color", PYTHONIOENCODING="utf-8", **(env or {}))
    process = subprocess.Popen([sys.executable, "-m", "autodiff_cli", *args], stdin=slave,
                               stdout=subprocess.PIPE if stdout_pipe else slave, stderr=slave, env=full, cwd=ROOT)
    os.close(slave)
    shown = b""
    try:
        while select.select([master], [], [], timeout)[0]:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:                      # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if typed is not None and b"Ctrl-D" in shown:
                os.write(master, typed)
                typed = None
    finally:
        os.close(master)
    piped = process.stdout.read().decode() if process.stdout is not None else ""
    return process.wait(timeout=timeout), shown.decode().replace("\r\n", "\n"), piped
