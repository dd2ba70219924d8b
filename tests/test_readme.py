"""Every `$ adjac ...` example in README.md prints exactly what the README shows.

The README's console blocks are real output; this keeps them true.  Each command runs
in a shell (pipes, echo and stdin as written) in a scratch directory, with the adjac of
this environment first on PATH; stdout and then stderr are compared with the lines
under the command, trailing blanks ignored.  Output with lines "..." is an excerpt:
the runs of lines between them must appear in the output, in that order.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def examples() -> list[tuple[str, str]]:
    found = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        parts = re.split(r"^\$ ", block, flags=re.M)
        found += [(part.split("\n", 1)[0], part.split("\n", 1)[1] if "\n" in part else "") for part in parts[1:]]
    return found


def _normal(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").split("\n")] if text.strip() else []


@pytest.mark.parametrize(("command", "shown"), examples(), ids=[c for c, _ in examples()])
def test_readme_example(command, shown, tmp_path):
    assert command.startswith(("adjac ", "echo ")), command
    for tool in ("jq", "dot"):
        if re.search(rf"\| *{tool}\b|--graph-out", command) and shutil.which("jq" if tool == "jq" else "dot") is None:
            pytest.skip(f"{tool} is not installed")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               COLUMNS="200", NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    ran = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    actual, expected = _normal(ran.stdout) + _normal(ran.stderr), _normal(shown)
    if "..." not in expected:
        assert actual == expected
        return
    runs, run = [], []                                # an excerpt: the runs between "..." lines
    for line in [*expected, "..."]:                   # appear in the output, in this order
        if line == "...":
            runs, run = [*runs, run] if run else runs, []
        else:
            run.append(line)
    at = 0
    for run in runs:
        found = next((k for k in range(at, len(actual)) if actual[k : k + len(run)] == run), None)
        assert found is not None, "not in the output:\n" + "\n".join(run)
        at = found + len(run)
