#!/usr/bin/env bash
# Fuzzes portwrap's pure parsers (fuzz/, issue 4): configures build-fuzz/ with clang,
# AddressSanitizer and UBSan (-Dfuzzing=true), builds the libFuzzer harnesses and runs
# each for a bounded time over a temporary copy of its committed corpus. The runs are
# the meson tests of the suite 'fuzz' in build-fuzz/, so tests/summary.py counts them.
#
# Usage: scripts/fuzz.sh [--update-corpus] [SECONDS_PER_TARGET]     (default: 20)
#   --update-corpus  afterwards, merge the new inputs of at most 512 bytes that reach
#                    new code or comparisons into fuzz/corpus/ (review and commit them deliberately);
#                    nothing is merged if a run failed or the corpus would outgrow
#                    200 files or 200 KB in all
#
# Prints one line per target (executions, corpus size, coverage). Exits non-zero on
# any crash, leak, UBSan report, timeout or out-of-memory; the failing input is saved
# under fuzz/crashes/ (ignored by git) and the report shown.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() { sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; }

update=false
seconds=20
for arg in "$@"; do
    case $arg in
    --update-corpus) update=true ;;
    -h | --help) usage; exit 0 ;;
    '' | *[!0-9]*) echo "fuzz.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
    *) seconds=$arg ;;
    esac
done
if ((seconds < 1)); then
    echo "fuzz.sh: SECONDS_PER_TARGET must be at least 1" >&2
    exit 2
fi
targets=(cli subid netlink loopback_guard)
max_new_input=512      # bytes: --update-corpus merges only inputs this small
max_corpus_files=200   # the committed corpus, all targets together, stays below these
max_corpus_bytes=$((200 * 1024))

if ! command -v clang++ >/dev/null; then
    echo "fuzz.sh: clang++ is missing; run scripts/install-deps.sh" >&2
    exit 1
fi

if [[ -f build-fuzz/meson-private/coredata.dat ]]; then
    meson setup --reconfigure build-fuzz --wrap-mode=nodownload >/dev/null
else
    CXX=clang++ meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dtests=false --wrap-mode=nodownload >/dev/null
fi
ninja -C build-fuzz "${targets[@]/#/fuzz/fuzz_}"

work=$(mktemp -d "${TMPDIR:-/tmp}/portwrap-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A stale log must not be counted if meson test fails before writing a new one.
rm -f build-fuzz/meson-logs/testlog.json
echo "== fuzzing ${#targets[@]} targets for ${seconds} s each"
# Each test's timeout is 300 s; longer runs need a multiplier.
multiplier=$(((seconds + 60) / 300 + 1))
status=0
run_env=(PORTWRAP_FUZZ_SECONDS="$seconds")
$update && run_env+=(PORTWRAP_FUZZ_WORKDIR="$work/runs")
env "${run_env[@]}" meson test -C build-fuzz --suite fuzz --print-errorlogs --no-rebuild \
    --timeout-multiplier "$multiplier" </dev/null >"$work/meson-test.log" 2>&1 || status=$?
if ((status != 0)); then
    cat "$work/meson-test.log"
fi

# One line per target, from each run's last line (the meson log keeps all of it).
/usr/bin/python3 - build-fuzz/meson-logs/testlog.json <<'EOF' || status=1
import json, sys
try:
    entries = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
except OSError as err:
    sys.exit(f"fuzz.sh: no test log: {err.strerror}")
for entry in entries:
    lines = [l for l in (entry.get("stdout") or "").splitlines() if l.startswith("fuzz ")]
    print(lines[-1] if lines else f"{entry['name']}: {entry['result']} (no summary line)")
EOF

if ! $update; then
    exit "$status"
fi
if ((status != 0)); then
    echo "fuzz.sh: a run failed: fuzz/corpus/ left as it is" >&2
    exit "$status"
fi

# --update-corpus: merge into copies first, so that a corpus over budget changes nothing.
for t in "${targets[@]}"; do
    mkdir -p "$work/merge/$t" "$work/small/$t"
    cp -p fuzz/corpus/"$t"/* "$work/merge/$t/"
    find "$work/runs/$t/corpus" -type f -size -$((max_new_input + 1))c -exec cp -p {} "$work/small/$t/" \;
    # -use_counters=0: an input must reach new code or comparisons, not just run a
    # loop more often, to be kept; that keeps the corpus small.
    "build-fuzz/fuzz/fuzz_$t" -merge=1 -use_counters=0 -max_len=4096 "$work/merge/$t" "$work/small/$t" >"$work/merge-$t.log" 2>&1 || {
        cat "$work/merge-$t.log" >&2
        echo "fuzz.sh: merging the corpus of $t failed: fuzz/corpus/ left as it is" >&2
        exit 1
    }
done
files=$(find "$work/merge" -type f | wc -l)
bytes=$(find "$work/merge" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
if ((files >= max_corpus_files || bytes >= max_corpus_bytes)); then
    echo "fuzz.sh: the merged corpus would hold $files files, $bytes bytes (limits: $max_corpus_files, $max_corpus_bytes): fuzz/corpus/ left as it is" >&2
    exit 1
fi
for t in "${targets[@]}"; do
    added=0
    for f in "$work/merge/$t"/*; do
        [[ -e fuzz/corpus/$t/$(basename "$f") ]] && continue
        cp "$f" "fuzz/corpus/$t/"
        added=$((added + 1))
    done
    echo "fuzz.sh: fuzz/corpus/$t: $added new inputs, $(find "fuzz/corpus/$t" -type f | wc -l) in all"
done
echo "fuzz.sh: corpus now $files files, $bytes bytes in all; review with 'git status fuzz/corpus' and commit"
