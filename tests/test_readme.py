"""Every `$ adjac ...` example in README.md prints exactly what the README shows.

The README's console blocks are real output; this keeps them true.  Each command runs
in a shell (pipes, echo and stdin as written) in a scratch directory, with the adjac of
this environment first on PATH; stdout and then stderr are compared with the lines
under the command, trailing blanks ignored.  Output that starts with a line "..." is
an excerpt: its other lines must appear, in a row, somewhere in the output.
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
    if expected[:1] == ["..."]:                       # an excerpt: these lines, in a row, somewhere
        run = expected[1:]
        assert any(actual[k : k + len(run)] == run for k in range(len(actual))), "\n".join(actual)
    else:
        assert actual == expected
