"""Every example in README.md and docs/*.md prints exactly what the page shows.

The pages' console blocks and Python examples are real output; this keeps them true.

- A `$ ` line in a ```console block is a command (adjac, echo, printf, cat or python).  It
  runs in a shell (pipes, redirections and stdin as written), with the adjac and python
  of this environment first on PATH; the commands of one block run once, in order, in one
  scratch directory, so a block reads like one terminal session (a file one command makes
  is there for the next).  stdout and then stderr are compared with the lines under the
  command, trailing blanks ignored.  Output with lines "..." is an excerpt: the runs of
  lines between them must appear in the output, in that order.  A command that pipes to
  jq or draws with dot (and those after it in its block) is skipped where the tool is
  missing.
- A ```python block is run as a script, in a fresh interpreter in a scratch directory;
  it must exit 0, and when a ```text block follows it directly, its stdout is compared
  with that block as above ("..." allowed).
- A ```pycon block is a doctest (`>>>` and `...` prompts, the output under them; ELLIPSIS
  and NORMALIZE_WHITESPACE on), run in a fresh interpreter.

Links between the pages must resolve (files and #anchors), the repository paths they
name must exist, every docs page is linked from the README, and the README stays within
300 lines.
"""

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = ("adjac ", "echo ", "printf ", "cat ", "python ")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", flags=re.S | re.M)


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _blocks(page: Path) -> list[tuple[str, str, int, int]]:
    """(language, body, start, end) of each fenced block of a page, in order."""
    text = page.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]


def console_examples() -> list[tuple[str, int, int, str, str]]:
    """(page, block number, position in the block, command, shown output)."""
    found = []
    for page in PAGES:
        consoles = [body for lang, body, _, _ in _blocks(page) if lang == "console"]
        for b, body in enumerate(consoles):
            parts = re.split(r"^\$ ", body, flags=re.M)
            found += [(_name(page), b, k, part.split("\n", 1)[0], part.split("\n", 1)[1] if "\n" in part else "")
                      for k, part in enumerate(parts[1:])]
    return found


def python_examples() -> list[tuple[str, str, str, str | None]]:
    """(page, language, code, the stdout shown under it or None)."""
    found = []
    for page in PAGES:
        text, blocks = page.read_text(encoding="utf-8"), _blocks(page)
        for k, (lang, body, _, end) in enumerate(blocks):
            if lang not in ("python", "pycon"):
                continue
            after = blocks[k + 1] if k + 1 < len(blocks) else None
            shown = after[1] if after and after[0] == "text" and not text[end : after[2]].strip() else None
            found.append((_name(page), lang, body, shown))
    return found


def _environment() -> dict[str, str]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               COLUMNS="200", NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    return env


def _normal(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").split("\n")] if text.strip() else []


def _compare(actual: list[str], expected: list[str]) -> None:
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


CONSOLE = console_examples()
PYTHON = python_examples()


@functools.cache
def _session(page: str, block: int) -> tuple[subprocess.CompletedProcess, ...]:
    """Every command of one console block, run once, in order, in one scratch directory."""
    commands = [command for p, b, _, command, _ in CONSOLE if (p, b) == (page, block)]
    with tempfile.TemporaryDirectory() as scratch:
        return tuple(subprocess.run(["bash", "-c", command], cwd=scratch, env=_environment(), capture_output=True,
                                    text=True, timeout=120) for command in commands)


@pytest.mark.parametrize(("page", "block", "k", "command", "shown"), CONSOLE,
                         ids=[f"{page}: {command}" for page, _, _, command, _ in CONSOLE])
def test_console_example(page, block, k, command, shown):
    for line in [c for p, b, j, c, _ in CONSOLE if (p, b) == (page, block) and j <= k]:
        assert line.startswith(COMMANDS), f"{page}: not a command these tests run: {line}"
        for tool in ("jq", "dot"):
            if re.search(rf"\| *{tool}\b" + (r"|--graph-out" if tool == "dot" else ""), line) and shutil.which(tool) is None:
                pytest.skip(f"{tool} is not installed")
    ran = _session(page, block)[k]
    _compare(_normal(ran.stdout) + _normal(ran.stderr), _normal(shown))


@pytest.mark.parametrize(("page", "lang", "code", "shown"), PYTHON,
                         ids=[f"{page}: {lang} example {[p for p, *_ in PYTHON[: k + 1]].count(page)}"
                              for k, (page, lang, _, _) in enumerate(PYTHON)])
def test_python_example(page, lang, code, shown, tmp_path):
    if lang == "pycon":
        (tmp_path / "example.txt").write_text(code, encoding="utf-8")
        code = ("import doctest, sys\n"
                "failed, _ = doctest.testfile('example.txt', module_relative=False, report=True,\n"
                "                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)\n"
                "sys.exit(1 if failed else 0)\n")
    ran = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_environment(), capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0, f"{page}: the example failed:\n{ran.stdout}{ran.stderr}"
    if shown is not None:
        _compare(_normal(ran.stdout), _normal(shown))


def _anchors(page: Path) -> set[str]:
    """GitHub's ids for the headings of a page: lower case, punctuation dropped, spaces → -."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.*)$", text, flags=re.M)}


@pytest.mark.parametrize("page", PAGES, ids=[_name(p) for p in PAGES])
def test_links_and_paths_resolve(page):
    for path in re.findall(r"(?<![\w/.~$-])((?:autodiff_cli|grammar|benchmarks|tests)/[\w./-]*\w)",
                           page.read_text(encoding="utf-8")):
        assert (ROOT / path).exists(), f"{_name(page)} names {path}, which is not in the repository"
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{_name(page)} links to {target}, which does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{_name(page)} links to {target}: no such heading"


def test_readme_links_every_docs_page_and_is_short():
    """Every docs page is linked from the README, or from a docs page that the README links
    (the README is at its length limit: a new page may first be reached through another)."""
    text = README.read_text(encoding="utf-8")
    linked = [page for page in PAGES[1:] if f"]({_name(page)}" in text]
    reached = text + "".join(page.read_text(encoding="utf-8").replace("](", "](docs/") for page in linked)
    for page in PAGES[1:]:
        assert f"]({_name(page)}" in reached, f"README.md does not link to {_name(page)}"
    assert len(text.splitlines()) <= 300, "README.md is over 300 lines: move reference material to docs/"


def test_readme_set_up_commands():
    """The quick start's two commands, exactly as CI and a new user run them."""
    lines = [line for lang, body, _, _ in _blocks(README) if lang == "sh" for line in body.splitlines()]
    assert "pip install . && adjac \"x1*x2 + sin(x1), exp(x1-x2)\" --at 1,2 --mode reverse" in lines
    assert "pip install -e '.[test]' && pytest" in lines
