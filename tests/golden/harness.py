"""Run one golden case and turn what it did into a JSON-able record; compare two records.

A case runs in an empty scratch directory (its input files written there first), with a
fixed environment (COLUMNS=100, NO_COLOR=1, TERM=dumb, UTF-8 output).  In process it goes
through click's CliRunner (stdout and stderr kept apart, click >= 8.2); a case marked
``runner="process"`` runs ``python -m autodiff_cli`` for real.  The record holds the exit
status, stdout and stderr as lists of lines (``"\\n".join`` gives the text back exactly),
and every file the run left in the directory: text files as lines, .npz/.npy archives as
a digest of their arrays (dtype, shape, values to 12 significant digits), drawings by
their kind only (their bytes depend on the Graphviz version).  The scratch directory's
path is replaced by ``<tmp>``, so records do not depend on where they ran.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected"
RUNNERS = ("inproc", "process")

# The environment every case sees.  _styled() in cli.py styles only a terminal and not under
# NO_COLOR; unicode follows stdout's encoding; COLUMNS fixes click's help width.
ENV = {"COLUMNS": "100", "LINES": "40", "NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8",
       "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
UNSET = ("FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "PY_COLORS", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
         "COLORTERM", "JUPYTER_COLUMNS", "JUPYTER_LINES")


@dataclass(frozen=True)
class Case:
    id: str                                      # file name of the record: expected/<id>.json
    purpose: str                                 # one line: what this case pins down
    argv: tuple[str, ...]                        # the arguments after `adjac`
    stdin: str | bytes | None = None
    files: dict[str, str | bytes] = field(default_factory=dict)   # input files, written before the run
    runner: str = "inproc"                       # or "process": python -m autodiff_cli
    env: dict[str, str] = field(default_factory=dict)             # on top of ENV (process runner only)
    needs: tuple[str, ...] = ()                  # programs it runs (e.g. Graphviz's dot); skipped without

    def inputs(self) -> dict[str, Any]:
        """What the case feeds the command, as stored in its record (to spot stale records)."""
        return {"argv": list(self.argv), "stdin": _shown(self.stdin), "runner": self.runner,
                **({"env": dict(self.env)} if self.env else {}),
                **({"input_files": {name: _shown(data) for name, data in sorted(self.files.items())}} if self.files else {})}


def _shown(data: str | bytes | None) -> Any:
    if data is None or isinstance(data, str):
        return None if data is None else lines(data)
    return f"<{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}>"


def lines(text: str) -> list[str]:
    """Text as lines; "\n".join(lines(text)) == text (a final newline leaves a last "")."""
    return text.split("\n") if text else []


# ---------------------------------------------------------------- running

@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _process_env(extra: dict[str, str]) -> dict[str, str]:
    """The fixed environment, importing the same autodiff_cli as the in-process runner does."""
    import autodiff_cli

    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    root = str(Path(autodiff_cli.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    env.update(ENV)
    env.update(extra)
    return env


def execute(case: Case, workdir: Path, runner: str | None = None) -> tuple[int, bytes, bytes]:
    """Run the case in ``workdir`` (which must be empty): exit status, stdout, stderr."""
    runner = runner or case.runner
    for name, data in case.files.items():
        (workdir / name).write_bytes(data.encode() if isinstance(data, str) else data)
    stdin = case.stdin.encode() if isinstance(case.stdin, str) else case.stdin
    if runner == "process":
        done = subprocess.run([sys.executable, "-m", "autodiff_cli", *case.argv], cwd=workdir,
                              input=stdin if stdin is not None else b"", env=_process_env(case.env),
                              capture_output=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    assert runner == "inproc" and not case.env, f"{case.id}: env needs runner='process'"
    from click.testing import CliRunner

    from autodiff_cli.cli import main

    env: dict[str, str | None] = {**ENV, **dict.fromkeys(UNSET)}
    with _cwd(workdir):
        result = CliRunner().invoke(main, list(case.argv), input=stdin, env=env, prog_name="adjac")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else repr(result.exception)
        return 1, result.stdout_bytes, result.stderr_bytes + b"<crash>\n" + trace.encode()
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


def record(case: Case, workdir: Path, runner: str | None = None) -> dict[str, Any]:
    """Run the case and describe everything it did, as plain JSON data."""
    workdir = Path(workdir)
    status, out, err = execute(case, workdir, runner)
    tmp = {str(workdir), str(workdir.resolve())}
    produced = {}
    for path in sorted(workdir.rglob("*")):
        name = path.relative_to(workdir).as_posix()
        if path.is_file() and not (name in case.files and path.read_bytes() == _bytes(case.files[name])):
            produced[name] = _content(name, path.read_bytes(), tmp)
    return {"id": case.id, "purpose": case.purpose, **case.inputs(), "exit": status,
            "stdout": _content("<stdout>", out, tmp), "stderr": _content("<stderr>", err, tmp),
            **({"files": produced} if produced else {})}


def _bytes(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


def _content(name: str, data: bytes, tmp: set[str]) -> Any:
    """Text as lines (temporary paths made <tmp>), numpy archives as digests, drawings by kind."""
    if data.startswith(b"PK\x03\x04") or name.endswith(".npz"):
        return {"npz": npz_digest(data)}
    if data.startswith(b"\x93NUMPY"):
        return {"npy": array_digest(_load_npy(data))}
    for magic, kind in ((b"\x89PNG", "png"), (b"%PDF", "pdf")):
        if data.startswith(magic):
            return {"drawing": kind}
    if name.endswith(".svg"):
        text = data.decode("utf-8", "replace")
        return {"drawing": "svg", "well_formed": "<svg" in text and text.rstrip().endswith("</svg>")}
    text = data.decode("utf-8", "backslashreplace")
    for path in sorted(tmp, key=len, reverse=True):
        text = text.replace(path, "<tmp>")
    return lines(text)


def _load_npy(data: bytes) -> Any:
    import numpy as np

    return np.load(io.BytesIO(data), allow_pickle=False)


def array_digest(array: Any) -> dict[str, Any]:
    """dtype, shape and the values (floats to 12 significant digits; nan and inf as strings)."""
    import numpy as np

    def cell(v: Any) -> Any:
        if isinstance(v, float):
            return float(f"{v:.12g}") if np.isfinite(v) else str(v)
        return v

    def walk(v: Any) -> Any:
        return [walk(u) for u in v] if isinstance(v, list) else cell(v)

    return {"dtype": str(array.dtype), "shape": list(array.shape), "values": walk(array.tolist())}


def npz_digest(data: bytes) -> Any:
    """Members in archive order, compressed or not, each array's digest; not the zip's bytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return {"bad_zip": len(data)}
    members = []
    for info in archive.infolist():
        members.append({"name": info.filename, "stored": info.compress_type == zipfile.ZIP_STORED,
                        **array_digest(_load_npy(archive.read(info)))})
    return members


# ---------------------------------------------------------------- records on disk

def path_of(case_id: str) -> Path:
    return EXPECTED / f"{case_id}.json"


def dumps(rec: Any) -> str:
    """JSON with one line per text line and per innermost list of numbers, for readable diffs."""
    return _dumps(rec, 0) + "\n"


def _dumps(value: Any, depth: int) -> str:
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_dumps(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and not all(isinstance(v, (int, float, bool)) or v is None for v in value):
        return "[\n" + ",\n".join(inner + _dumps(v, depth + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def load(case_id: str) -> dict[str, Any] | None:
    path = path_of(case_id)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


# ---------------------------------------------------------------- comparing

def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """The fields that differ, in a fixed order (inputs first: a stale record says so)."""
    out = []
    for key in ("argv", "stdin", "runner", "env", "input_files", "exit", "stdout", "stderr", "files"):
        if expected.get(key) != actual.get(key):
            out.append(key)
    return out


def _as_lines(value: Any) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return dumps(value).rstrip("\n").split("\n")


def diff(expected: dict[str, Any], actual: dict[str, Any], key: str, context: int = 3) -> str:
    """A unified diff of one field (for files: of the first file that differs)."""
    if key == "files":
        old, new = expected.get("files", {}), actual.get("files", {})
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                return "\n".join(difflib.unified_diff(
                    _as_lines(old.get(name, "<absent>")), _as_lines(new.get(name, "<absent>")),
                    f"expected file {name}", f"actual file {name}", n=context, lineterm=""))
    return "\n".join(difflib.unified_diff(_as_lines(expected.get(key)), _as_lines(actual.get(key)),
                                          f"expected {key}", f"actual {key}", n=context, lineterm=""))
