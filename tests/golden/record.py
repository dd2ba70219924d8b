"""Record the golden matrix: run every case and (re)write tests/golden/expected/<id>.json.

    python tests/golden/record.py                  # all cases; prints what changed
    python tests/golden/record.py trace-* seed-jvp # only these (shell-style patterns)
    python tests/golden/record.py --diff           # also show each change as a unified diff
    python tests/golden/record.py --check          # write nothing; exit 1 if anything differs
    python tests/golden/record.py --verify-runners # in-process cases also in a real process: same?

Review the rewritten records with `git diff tests/golden/expected` before committing them.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests/, so that `golden` imports

from golden import harness
from golden.cases import CASES


def run(case: harness.Case, runner: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="adjac-golden-") as tmp:
        return harness.record(case, Path(tmp), runner)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("patterns", nargs="*", help="case ids or shell patterns (default: every case)")
    parser.add_argument("--check", action="store_true", help="compare only; write nothing")
    parser.add_argument("--diff", action="store_true", help="print a unified diff for every changed field")
    parser.add_argument("--verify-runners", action="store_true",
                        help="run in-process cases in a real process as well and report any difference")
    args = parser.parse_args(argv)

    ids = [case.id for case in CASES]
    if len(set(ids)) != len(ids):
        parser.error("duplicate case ids: " + ", ".join(sorted({i for i in ids if ids.count(i) > 1})))
    chosen = [c for c in CASES if not args.patterns or any(fnmatch.fnmatchcase(c.id, p) for p in args.patterns)]
    if not chosen:
        parser.error("no case matches " + " ".join(args.patterns))

    if args.verify_runners:
        return verify(chosen)

    start = time.perf_counter()
    changed: list[tuple[str, list[str]]] = []
    new: list[str] = []
    crashed: list[str] = []
    reformatted: list[str] = []                 # same data, written differently (e.g. a new layout)
    for case in chosen:
        actual = run(case)
        expected = harness.load(case.id)
        if any("<crash>" in line for line in actual["stderr"] if isinstance(actual["stderr"], list)):
            crashed.append(case.id)
        if expected is None:
            new.append(case.id)
        else:
            fields = harness.differences(expected, actual)
            if fields or expected != actual:
                changed.append((case.id, fields or ["purpose"]))
                if args.diff:
                    for key in fields:
                        print(f"--- {case.id}: {key}")
                        print(harness.diff(expected, actual, key))
        path, text = harness.path_of(case.id), harness.dumps(actual)
        if path.exists() and expected == actual and path.read_text(encoding="utf-8") != text:
            reformatted.append(case.id)
        if not args.check and (not path.exists() or path.read_text(encoding="utf-8") != text):
            harness.EXPECTED.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")

    stale = []
    if not args.patterns:                       # records of cases that no longer exist
        stale = sorted(p.stem for p in harness.EXPECTED.glob("*.json") if p.stem not in set(ids))
        if not args.check:
            for name in stale:
                harness.path_of(name).unlink()

    verb = "would change" if args.check else "changed"
    for case_id, fields in changed:
        print(f"{verb}: {case_id} ({', '.join(fields)})")
    for case_id in new:
        print(f"{'missing' if args.check else 'new'}: {case_id}")
    for case_id in stale:
        print(f"{'stale' if args.check else 'removed'}: {case_id}")
    for case_id in crashed:
        print(f"CRASH (traceback recorded): {case_id}")
    if reformatted:
        print(f"{'would reformat' if args.check else 'reformatted'} (same content): {len(reformatted)} records")
    unchanged = len(chosen) - len(changed) - len(new)
    print(f"{len(chosen)} cases in {time.perf_counter() - start:.1f} s: {len(changed)} {verb}, {len(new)} "
          f"{'missing' if args.check else 'new'}, {len(stale)} {'stale' if args.check else 'removed'}, "
          f"{unchanged} unchanged")
    if changed and not args.check:
        print("review: git diff --stat tests/golden/expected && git diff tests/golden/expected")
    return 1 if args.check and (changed or new or stale) else 0


def verify(chosen: list[harness.Case]) -> int:
    """In-process (CliRunner) against a real `python -m autodiff_cli`: is the fast path faithful?"""
    bad = 0
    inproc = [c for c in chosen if c.runner == "inproc"]
    for case in inproc:
        fast, real = run(case, "inproc"), run(case, "process")
        fields = harness.differences(fast, {**real, "runner": fast["runner"]})
        if fields:
            bad += 1
            print(f"differs: {case.id} ({', '.join(fields)})")
            for key in fields:
                print(harness.diff(fast, real, key))
    print(f"{len(inproc)} in-process cases checked against a real process: {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
