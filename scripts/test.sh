#!/usr/bin/env bash
# The whole test suite in one command (CI's .ci/run calls it). As root, without stdin
# (CI=true is fine):
#  1. installs the Debian packages and prepares the test users and /dev/net/tun;
#  2. builds build/ (shared libslirp), build-static/ (the static binary admins ship),
#     build-asan/ (AddressSanitizer, LeakSanitizer, UBSan), build-fuzz/ (clang,
#     libFuzzer) and build-cov/ (gcov: -Db_coverage=true, -O0);
#  3. runs every test in build/ (unit, integration with both port drivers,
#     robustness; kernel-4.18: the integration tests again with every syscall
#     newer than Linux 4.18 failing, as on RHEL 8; slurm: real batch jobs on a one-node
#     cluster), in build-static/ (all but robustness and slurm, default driver), the unit and
#     integration tests in build-asan/, each fuzzer for 20 s (scripts/fuzz.sh), and
#     scripts/coverage.sh in build-cov/, which prints the line coverage of src/;
#  4. ends with the line 'N passed, N failed, N skipped'.
# Exits non-zero if anything failed.
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
# build-asan: the development build with -fsanitize=address,undefined. At -O0: with -O2
# the sanitizers make Catch2's runner (tests/unit/main.cpp) take 5 minutes to compile.
if [[ -f build-asan/meson-private/coredata.dat ]]; then
    meson setup --reconfigure build-asan --wrap-mode=nodownload
else
    meson setup build-asan --wrap-mode=nodownload --buildtype=debug \
        -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C build-asan
# build-cov: gcov's counters, for the line coverage that scripts/coverage.sh prints.
if [[ -f build-cov/meson-private/coredata.dat ]]; then
    meson setup --reconfigure build-cov --wrap-mode=nodownload
else
    meson setup build-cov --wrap-mode=nodownload --buildtype=debug -Db_coverage=true
fi
ninja -C build-cov

status=0
for builddir in build build-static build-asan build-fuzz build-cov; do
    # A stale log must not be counted if meson test fails before writing a new one.
    rm -f "$builddir/meson-logs/testlog.json"
    echo "== meson test -C $builddir (${SECONDS} s since the start)"
    case $builddir in
    build-asan)
        # Any sanitizer report ends the process and fails its test. abort_on_error=0:
        # under portwrap's seccomp filter abort() cannot raise SIGABRT (tgkill is not
        # allowed) and ASan would spin forever instead of exiting. LeakSanitizer skips
        # only the processes under that filter (src/sanitizer_hooks.cpp).
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            meson test -C "$builddir" --print-errorlogs --suite unit --suite integration </dev/null || status=1
        ;;
    build-fuzz)
        # Configures and builds build-fuzz/ (clang) and runs its suite 'fuzz'.
        bash scripts/fuzz.sh 20 </dev/null || status=1
        ;;
    build-cov)
        # Unit and integration tests (default driver); the figure never fails the run.
        bash scripts/coverage.sh build-cov </dev/null || status=1
        ;;
    *)
        # The libslirp suite is the subproject's own test, not ours. The suite
        # kernel-4.18 exists in build/ only (tests/old-kernel/meson.build).
        meson test -C "$builddir" --print-errorlogs --no-suite libslirp </dev/null || status=1
        ;;
    esac
done
echo "== all tests done (${SECONDS} s since the start)"

summary_status=0
/usr/bin/python3 tests/summary.py build build-static build-asan build-fuzz build-cov || summary_status=$?
if ((status != 0)); then
    exit "$status"
fi
exit "$summary_status"
