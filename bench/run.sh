#!/usr/bin/env bash
# portwrap's benchmark in one command, as root on Debian 12, from anywhere:
#
#     bash bench/run.sh [--quick] [--only NAME,...]
#
# 1. installs the Debian packages it needs (bench/install-bench-deps.sh, which runs
#    scripts/install-deps.sh first);
# 2. prepares the unprivileged user portwrap-test (scripts/setup-test-env.sh);
# 3. builds portwrap if needed (build/, as scripts/test.sh does);
# 4. runs bench/bench.py: portwrap handoff, relay and slirp, pasta, slirp4netns and a
#    no-namespace baseline side by side, prints one markdown table, and rewrites the
#    results part of docs/performance.md (not with --quick).
#
# Takes about 4-5 minutes. Only 127.0.0.1 and the namespaces it creates see traffic.
# As a non-root user, steps 1 and 2 are skipped and everything runs as that user.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $(id -u) -eq 0 ]]; then
    bash bench/install-bench-deps.sh
    bash scripts/setup-test-env.sh
else
    echo "run.sh: not root: not installing packages or preparing portwrap-test; running as $(id -un)"
fi

if [[ ! -d build ]]; then
    meson setup build --wrap-mode=nodownload
fi
ninja -C build

# Other work on the same machine skews every figure: say how busy it is.
read -r load1 _ < /proc/loadavg
echo "run.sh: load average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    echo "run.sh: warning: the machine is busy (1-minute load $load1); figures will be low and noisy"
fi

exec python3 bench/bench.py "$@"
