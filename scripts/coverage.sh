#!/usr/bin/env bash
# Line coverage of src/ from the unit and integration tests (docs/testing.md, "Coverage").
# Usage, as root: scripts/coverage.sh [BUILDDIR]   (default build-cov; scripts/test.sh
# calls it after building it with -Db_coverage=true --buildtype=debug).
#
# Runs the unit suite and the integration suite with the default port driver (and the
# few ', relay' runs), as root and as the unprivileged users, then prints gcovr's
# per-file table and the total for src/. Every process writes its counters under one
# temporary GCOV_PREFIX tree, seeded by one run of portwrap and opened to every user:
# the test users' portwrap cannot write into a build directory that root owns. The
# counters are copied back beside the compiler's .gcno files for gcovr.
#
# Left out: the sandbox tests and the unit tests of the seccomp policies (the coverage
# build's filters let gcov write its files, so they cannot pass), the slirp driver's runs but the few in slirp_tests, and the
# slowest runs whose lines the others run too (skipped_tests). See docs/testing.md.
# Exits non-zero if a test failed (the figure itself does not fail it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
builddir=${1:-build-cov}
# The slirp driver's own code (slirp_session.cpp) runs only with --port-driver=slirp.
slirp_tests=('forward (user, slirp)' 'forwards (user, slirp)' 'ctl (user, slirp)')
# A real Jupyter server runs no portwrap code that 'forward' does not; the root runs of
# the two slowest tests add nothing the user runs and the other root runs miss.
skipped_tests=('jupyter (root)' 'jupyter (user)' 'jupyter (root, relay)' 'jupyter (user, relay)' 'pid-ns (root)' 'lifecycle (root)')

[[ $(id -u) -eq 0 ]] || { echo "coverage.sh: must run as root (the integration tests switch users)" >&2; exit 1; }
[[ -x $builddir/src/portwrap ]] || { echo "coverage.sh: build $builddir first (meson setup $builddir --buildtype=debug -Db_coverage=true)" >&2; exit 1; }

data=$(mktemp -d /tmp/portwrap-coverage.XXXXXX)
trap 'rm -rf "$data"' EXIT
export GCOV_PREFIX=$data GCOV_PREFIX_STRIP=0
export PORTWRAP_TEST_COVERAGE=1  # test-pid-ns.sh skips its open-for-writing checks
find "$builddir" -name '*.gcda' -delete
# One run creates every .gcda file of the binary (and its directories): the test users
# can then merge into them, and gcov never needs mkdir() under the seccomp filter.
"$builddir/src/portwrap" --version >/dev/null
chmod -R a+rwX "$data"

mapfile -t tests < <(meson test -C "$builddir" --list 2>/dev/null |
    sed -n 's#^portwrap:\(unit\|integration\) / ##p' | grep -v -e '^sandbox (' -e '^unit-sandbox-policies$' -e ', slirp)$' |
    grep -v -x -F "${skipped_tests[@]/#/-e}")
tests+=("${slirp_tests[@]}")

status=0
rm -f "$builddir/meson-logs/testlog.json"
meson test -C "$builddir" --print-errorlogs "${tests[@]}" </dev/null || status=1

cp -r "$data/$(realpath "$builddir")/." "$builddir/"
echo "== line coverage of src/ (unit tests, integration tests with the default driver as root and as the test users, ${#slirp_tests[@]} with --port-driver=slirp; tests took ${SECONDS} s)"
gcovr --root . --filter 'src/' --exclude src/coverage_hooks.cpp --sort-percentage -j 2 \
    --txt - --json-summary "$data/summary.json" "$builddir"
# The verdict against the targets of docs/testing.md. It does not fail the run.
/usr/bin/python3 - "$data/summary.json" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
low = [f"{f['filename']} {f['line_percent']:.0f}%" for f in summary["files"] if f["line_percent"] <= 60]
total = summary["line_percent"]
verdict = "met" if total >= 85 and not low else "NOT met"
print(f"coverage.sh: {total:.1f}% of src/'s lines run (target: 85%, every file over 60%): {verdict}"
      + (f"; at or under 60%: {', '.join(low)}" if low else ""))
PY
echo "coverage.sh: done in ${SECONDS} s"
exit "$status"
