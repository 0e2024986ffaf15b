#!/usr/bin/env bash
# The whole test suite in one command: installs what is needed, prepares the test
# users, builds portwrap twice — the development build (build/, shared libslirp) and
# the static binary admins ship (build-static/, libslirp from source) — runs every
# test against both, and ends with the line 'N passed, N failed, N skipped'.
# Exits non-zero if anything failed. Runs as root, without stdin (CI=true is fine).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
bash scripts/setup-test-env.sh

if [[ -f build/meson-private/coredata.dat ]]; then
    meson setup --reconfigure build --wrap-mode=nodownload
else
    meson setup build --wrap-mode=nodownload
fi
ninja -C build
bash scripts/build-static.sh

status=0
for builddir in build build-static; do
    # A stale log must not be counted if meson test fails before writing a new one.
    rm -f "$builddir/meson-logs/testlog.json"
    echo "== meson test -C $builddir"
    # The libslirp suite is the subproject's own test, not ours.
    meson test -C "$builddir" --print-errorlogs --no-suite libslirp </dev/null || status=1
done

summary_status=0
/usr/bin/python3 tests/summary.py build build-static || summary_status=$?
if ((status != 0)); then
    exit "$status"
fi
exit "$summary_status"
