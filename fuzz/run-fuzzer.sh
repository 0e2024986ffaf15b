#!/usr/bin/env bash
# Runs one libFuzzer harness for a bounded time over a copy of its committed corpus;
# registered as the meson test 'fuzz NAME' (fuzz/meson.build), called by scripts/fuzz.sh.
#
# Usage: run-fuzzer.sh FUZZER NAME CORPUS_DIR
#
# Environment:
#   PORTWRAP_FUZZ_SECONDS   how long to fuzz (default 20)
#   PORTWRAP_FUZZ_WORKDIR   keep the working corpus in WORKDIR/NAME/corpus (fuzz.sh
#                           --update-corpus merges it back); default: a temp dir, removed
#   PORTWRAP_FUZZ_CRASHDIR  where to save the inputs of a failure (default: fuzz/crashes
#                           in the source tree, which git ignores)
#
# The committed corpus is never written. Exits 0 after a clean run, 1 on any crash,
# leak, UBSan report, timeout (-timeout=5 per input) or out-of-memory (1024 MB),
# never 77 (which meson would count as skipped). The last line of stdout is the
# summary: 'fuzz NAME: N executions in S s, corpus F files (B bytes), ...'.
set -uo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 FUZZER NAME CORPUS_DIR" >&2
    exit 2
fi
fuzzer=$1 name=$2 corpus=$3
seconds=${PORTWRAP_FUZZ_SECONDS:-20}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "run-fuzzer.sh: PORTWRAP_FUZZ_SECONDS must be a positive number of seconds, not '$seconds'" >&2
    exit 2
fi
fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
crash_dir=${PORTWRAP_FUZZ_CRASHDIR:-$fuzz_dir/crashes}/$name

[[ -x $fuzzer ]] || { echo "run-fuzzer.sh: $fuzzer is not an executable" >&2; exit 1; }
[[ -d $corpus ]] || { echo "run-fuzzer.sh: no corpus directory $corpus" >&2; exit 1; }

if [[ -n ${PORTWRAP_FUZZ_WORKDIR:-} ]]; then
    work=$PORTWRAP_FUZZ_WORKDIR/$name
    rm -rf "$work"
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/portwrap-fuzz-$name.XXXXXX") || exit 1
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/corpus" "$work/artifacts"
cp -R -p "$corpus/." "$work/corpus/"
committed=$(find "$corpus" -type f | wc -l)

options=(
    -max_total_time="$seconds"
    -timeout=5
    -rss_limit_mb=1024
    -max_len=4096
    -error_exitcode=1
    -timeout_exitcode=1
    -print_final_stats=1
    -artifact_prefix="$work/artifacts/"
)
[[ -f $fuzz_dir/$name.dict ]] && options+=(-dict="$fuzz_dir/$name.dict")

symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}${symbolizer:+:external_symbolizer_path=$symbolizer}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1${symbolizer:+:external_symbolizer_path=$symbolizer}

log=$work/fuzz.log
"$fuzzer" "${options[@]}" "$work/corpus" >"$log" 2>&1 </dev/null
rc=$?

final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
executions=$(final_stat number_of_executed_units)
per_second=$(final_stat average_exec_per_sec)
files=$(find "$work/corpus" -type f | wc -l)
bytes=$(find "$work/corpus" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
summary="fuzz $name: ${executions:-?} executions in ${seconds} s (${per_second:-?}/s), corpus $files files ($bytes bytes; $committed committed), ${coverage:-cov: ?}"

if ((rc == 0)) && ! grep -qE '^==[0-9]+==ERROR|runtime error:|^SUMMARY: ' "$log"; then
    echo "$summary: ok"
    exit 0
fi

# A failure: show the report, keep the inputs that caused it.
echo "run-fuzzer.sh: $fuzzer exited with status $rc; its report:"
if grep -qE '^==[0-9]+==|runtime error:|invariant violated|deadly signal' "$log"; then
    sed -n '/^==[0-9]*==\|runtime error:\|invariant violated\|deadly signal/,$p' "$log" | head -n 120
else
    tail -n 60 "$log"
fi
mkdir -p "$crash_dir"
shopt -s nullglob
artifacts=("$work"/artifacts/*)
if ((${#artifacts[@]})); then
    cp -p "${artifacts[@]}" "$crash_dir/"
    for a in "${artifacts[@]}"; do
        echo "run-fuzzer.sh: input saved as $crash_dir/$(basename "$a") ($(stat -c %s "$a") bytes); reproduce: $fuzzer $crash_dir/$(basename "$a")"
        od -A d -c "$a" | head -n 20
    done
else
    echo "run-fuzzer.sh: libFuzzer saved no input (see the report above)"
fi
echo "$summary: FAILED"
exit 1
