#!/usr/bin/python3
"""Prints the closing line of a meson test run: 'N passed, N failed, N skipped'.

Usage: summary.py [BUILDDIR | TESTLOG.json]...   (default: build)

Reads each BUILDDIR/meson-logs/testlog.json (one JSON object per line, one line per test)
and counts its 'result' fields: OK and EXPECTEDFAIL pass; FAIL, TIMEOUT, ERROR and
UNEXPECTEDPASS fail (so does any result this script does not know); SKIP is skipped.
Exits 1 if any test failed or if no test ran (none passed or failed), else 0.
Notes go to stderr before the summary, which is always the last line printed.
"""

import json
import os
import sys

PASSED = {"OK", "EXPECTEDFAIL"}
FAILED = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"}
SKIPPED = {"SKIP"}


def count(target, notes):
    """(passed, failed, skipped) of one build directory or testlog.json."""
    path = target if os.path.isfile(target) else os.path.join(target, "meson-logs", "testlog.json")
    passed = failed = skipped = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            for number, line in enumerate(log, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError as err:
                    notes.append(f"{path}:{number}: not JSON ({err}); counted as failed")
                    failed += 1
                    continue
                result = str(entry.get("result", "")).upper() if isinstance(entry, dict) else ""
                if result in PASSED:
                    passed += 1
                elif result in SKIPPED:
                    skipped += 1
                else:
                    if result not in FAILED:
                        name = entry.get("name", "?") if isinstance(entry, dict) else "?"
                        notes.append(f"{path}:{number}: test {name!r} has unknown result {result!r}; counted as failed")
                    failed += 1
    except OSError as err:
        notes.append(f"cannot read {path}: {err.strerror}; counted as one failure")
        failed += 1
    return passed, failed, skipped


def main(argv):
    passed = failed = skipped = 0
    notes = []
    for target in argv[1:] or ["build"]:
        p, f, s = count(target, notes)
        passed, failed, skipped = passed + p, failed + f, skipped + s
    if passed + failed == 0:
        notes.append("no test ran")
    for note in notes:
        print(f"summary.py: {note}", file=sys.stderr)
    sys.stderr.flush()
    print(f"{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 1 if failed or passed + failed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
