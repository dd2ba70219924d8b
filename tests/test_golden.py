"""The golden matrix (issue 12): every recorded `adjac` invocation still does exactly what it did.

Each case of tests/golden/cases.py is run again (in process through click's CliRunner, or
as a real `python -m autodiff_cli` where the case says so) and compared with its record in
tests/golden/expected/<id>.json: exit status, stdout, stderr and the files it wrote, exactly.
A failure shows a unified diff of the first field that differs.  After an intentional change
re-record with `python tests/golden/record.py ID...` and review `git diff tests/golden/expected`.
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from golden import harness
from golden.cases import CASES


def test_cases_have_unique_ids_and_records():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    recorded = {path.stem for path in harness.EXPECTED.glob("*.json")}
    assert not set(ids) - recorded, f"not recorded yet (run tests/golden/record.py): {sorted(set(ids) - recorded)}"
    assert not recorded - set(ids), f"records without a case (run tests/golden/record.py): {sorted(recorded - set(ids))}"


def _runnable(case: harness.Case) -> bool:
    return all(shutil.which(program) for program in case.needs)


@pytest.fixture(scope="module")
def in_background(request, tmp_path_factory):
    """The selected cases that need a real process, started at once on a few threads while the
    in-process cases run: most of a process case is Python's start-up, which overlaps well."""
    chosen = [item.callspec.params["case"] for item in request.session.items
              if getattr(item, "originalname", None) == "test_golden" and hasattr(item, "callspec")]
    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    started = {case.id: pool.submit(harness.record, case, tmp_path_factory.mktemp(case.id))
               for case in chosen if case.runner == "process" and _runnable(case)}
    yield started
    pool.shutdown(wait=True)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_golden(case, tmp_path, in_background):
    if not _runnable(case):
        pytest.skip(f"needs {', '.join(case.needs)}")
    expected = harness.load(case.id)
    if expected is None:
        pytest.fail(f"{case.id} has no record: python tests/golden/record.py {case.id}")
    actual = in_background[case.id].result() if case.id in in_background else harness.record(case, tmp_path)
    fields = harness.differences(expected, actual)
    if fields:
        first = fields[0]
        hint = ("the case's inputs changed since it was recorded" if first in ("argv", "stdin", "runner", "env",
                                                                              "input_files") else "output differs")
        pytest.fail(f"golden case {case.id!r} ({case.purpose}): {hint} in {', '.join(fields)}\n"
                    f"{harness.diff(expected, actual, first)}\n"
                    f"if this change is intended: python tests/golden/record.py {case.id}", pytrace=False)


def test_a_changed_record_is_caught_and_shown():
    """The comparison is not vacuous: a changed line, exit status or file is a difference, shown as a diff."""
    expected = harness.load("npz-nonfinite")
    assert expected is not None and expected["files"] and expected["stderr"]
    for key, change in (("stderr", lambda r: r["stderr"].__setitem__(0, r["stderr"][0] + "!")),
                        ("exit", lambda r: r.__setitem__("exit", 0)),
                        ("files", lambda r: r["files"]["r.npz"]["npz"][0]["values"][0].__setitem__(0, 1.0))):
        actual = json.loads(json.dumps(expected))
        change(actual)
        assert harness.differences(expected, actual) == [key]
        shown = harness.diff(expected, actual, key)
        assert shown.count("\n-") >= 1 and shown.count("\n+") >= 1, shown


@pytest.mark.parametrize("text", ["", "\n", "a", "a\n", "a\n\nb\n", " x \r\n"])
def test_lines_give_the_text_back_exactly(text):
    assert "\n".join(harness.lines(text)) == text
