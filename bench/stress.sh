#!/usr/bin/env bash
# Stress figures for portwrap (issue 4): does it hold its memory and fds over thousands
# of connections? Not a test: it asserts nothing, it prints a table.
#
#     bash bench/stress.sh [--cycles N] [--batch N] [--size BYTES] [--rounds N]
#                          [--idle N] [--driver relay|slirp|both] [--user NAME]
#
# For each port driver: starts portwrap (the binary in $PORTWRAP, else build/src/portwrap)
# with an echo server inside (tests/lib/pwtest.py serve, copied as rbhelper.py), records portwrap's
# RSS (VmRSS in /proc/PID/status) and open fds (/proc/PID/fd) at baseline, then runs
# N connect / send SIZE bytes / receive them echoed / close cycles, BATCH connections at
# a time, checking every echo. Then it lets portwrap settle (until its fd count is back
# to the baseline, 30 s at most) and measures again. The peaks are sampled between
# batches. With --rounds N, the same portwrap does that N times, one table row per
# round: RSS that keeps growing from round to round would be a leak, RSS that stays
# put is the allocator keeping freed memory. Defaults: 5000 cycles, batches of 50,
# 64 KiB, 1 round. --cycles 0 skips the cycles.
#
# With --idle N (default 0: skipped), the same portwrap then gets N idle connections
# (held open, nothing sent), and a second table says what it holds for them: fds and
# pipes (counted in /proc/PID/fd), the pipe pages (each distinct pipe's F_GETPIPE_SZ,
# summed), per connection, and the size of a fresh pipe of the user running portwrap
# while they are open (8 KiB once that user is past pipe-user-pages-soft). The relay
# gets --max-connections=0 when the binary knows the option, so all N are held.
#
# Runs as the calling user, or as --user NAME when called as root (through runuser).
# Only 127.0.0.1 sees traffic. Every loop is bounded: each connection has a 30 s
# timeout, a whole run 600 s.
set -euo pipefail

cycles=5000
batch=50
size=65536
rounds=1
idle=0
drivers=(relay slirp)
run_user=""
while (($#)); do
    case $1 in
    --cycles) cycles=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --driver)
        case $2 in both) drivers=(relay slirp) ;; relay | slirp) drivers=("$2") ;; *) echo "stress.sh: --driver relay|slirp|both" >&2; exit 2 ;; esac
        shift 2 ;;
    --user) run_user=$2; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "stress.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for v in "$batch" "$size" "$rounds"; do
    [[ $v =~ ^[1-9][0-9]*$ && $v -le 1000000000 ]] || { echo "stress.sh: --batch, --size and --rounds take positive integers" >&2; exit 2; }
done
for v in "$cycles" "$idle"; do
    [[ $v =~ ^[0-9]+$ && $v -le 1000000000 ]] || { echo "stress.sh: --cycles and --idle take integers >= 0" >&2; exit 2; }
done
((idle <= 20000)) || { echo "stress.sh: --idle takes at most 20000" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
portwrap=${PORTWRAP:-$repo/build/src/portwrap}
[[ -x $portwrap ]] || { echo "stress.sh: no portwrap at $portwrap (build it: ninja -C build, or set PORTWRAP)" >&2; exit 2; }
PY=/usr/bin/python3

tmp=$(mktemp -d /tmp/portwrap-stress.XXXXXX)
chmod 0755 "$tmp"
pw_pid=""
launcher=""
cleanup() {
    # Only what this script started: portwrap (its command dies with it) and its launcher.
    [[ -n $pw_pid ]] && kill -KILL "$pw_pid" 2>/dev/null
    [[ -n $launcher ]] && wait "$launcher" 2>/dev/null
    [[ -n ${idle_pid:-} ]] && kill "$idle_pid" 2>/dev/null
    rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$portwrap" "$tmp/portwrap"
cp "$repo/tests/lib/pwtest.py" "$tmp/rbhelper.py"
chmod 0755 "$tmp/portwrap" "$tmp/rbhelper.py"
mkdir -m 0777 "$tmp/work"

# The client: cycles in batches; samples portwrap's RSS and fds between batches.
cat >"$tmp/client.py" <<'EOF'
import asyncio, hashlib, os, sys, time

port, pid, cycles, batch, size = (int(a) for a in sys.argv[1:6])
payload = os.urandom(size)
want = hashlib.sha256(payload).hexdigest()
TIMEOUT, DEADLINE = 30.0, 600.0


def sample():
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


async def one():
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    try:
        writer.write(b"ECHO\n" + payload)
        writer.write_eof()
        data = await asyncio.wait_for(reader.read(-1), TIMEOUT)
    finally:
        writer.close()
    return hashlib.sha256(data).hexdigest() == want


async def main():
    done = failed = 0
    peak_rss, peak_fds = sample()
    t0 = time.monotonic()
    while done < cycles and time.monotonic() - t0 < DEADLINE:
        n = min(batch, cycles - done)
        res = await asyncio.gather(*[one() for _ in range(n)], return_exceptions=True)
        failed += sum(1 for r in res if r is not True)
        done += n
        rss, fds = sample()
        peak_rss, peak_fds = max(peak_rss, rss), max(peak_fds, fds)
    print(done, failed, peak_rss, peak_fds, f"{time.monotonic() - t0:.1f}")

asyncio.run(main())
EOF

# The idle client: N connections, held open until STOPFILE exists (300 s at most);
# writes how many it holds to OUTFILE.
cat >"$tmp/idle.py" <<'EOF'
import os, resource, socket, sys, time
port, n, out, stop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks = []
for _ in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    except OSError:
        pass
with open(out + ".tmp", "w") as f:
    f.write(f"{len(socks)}\n")
os.rename(out + ".tmp", out)
deadline = time.monotonic() + 300
while not os.path.exists(stop) and time.monotonic() < deadline:
    time.sleep(0.05)
EOF

# What PID holds in pipes: "PIPE_FDS PIPES PAGES" (distinct pipes; pages of 4 KiB).
cat >"$tmp/pipes.py" <<'EOF'
import fcntl, os, sys
pid = sys.argv[1]
fds, seen, pages = 0, set(), 0
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if not target.startswith("pipe:"):
        continue
    fds += 1
    if target in seen:
        continue
    seen.add(target)
    try:
        f = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK)
        pages += fcntl.fcntl(f, fcntl.F_GETPIPE_SZ) // 4096
        os.close(f)
    except OSError:
        pass
print(fds, len(seen), pages)
EOF

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fds_of() { ls "/proc/$1/fd" | wc -l; }
# poll_until DEADLINE_S CMD...: polls CMD every 0.1 s, at most DEADLINE_S seconds.
poll_until() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        "${@:2}" && return 0
        sleep 0.1
    done
    return 1
}

rows=()
idle_rows=()
for driver in "${drivers[@]}"; do
    hp=$(free_port)
    ready=$tmp/work/ready.$driver
    pidfile=$tmp/work/portwrap.$driver
    as=()
    [[ -n $run_user ]] && as=(runuser -u "$run_user" --)
    limit=()
    [[ $driver == relay ]] && "$tmp/portwrap" --help | grep -q -- --max-connections && limit=(--max-connections=0)
    (cd "$tmp/work" && exec "${as[@]}" sh -c 'echo $$ > "$0" && exec "$@"' "$pidfile" \
        "$tmp/portwrap" --port-driver="$driver" "${limit[@]}" -p "$hp" -P 9000 -- \
        "$PY" "$tmp/rbhelper.py" serve '{guest-port}' "$ready") >"$tmp/pw.$driver.log" 2>&1 </dev/null &
    launcher=$!
    if ! poll_until 30 test -e "$ready"; then
        echo "stress.sh: the echo server under portwrap ($driver) did not start:" >&2
        cat "$tmp/pw.$driver.log" >&2
        exit 1
    fi
    pw_pid=$(<"$pidfile")
    fds_idle=$(fds_of "$pw_pid")
    settled() { (($(fds_of "$pw_pid") <= fds_idle)); }
    # Baseline: after 10 warm-up cycles (allocator and libslirp pools in use) and once
    # their connections are gone.
    "$PY" "$tmp/client.py" "$hp" "$pw_pid" 10 10 "$size" >/dev/null
    poll_until 30 settled || true
    rss0=$(rss_of "$pw_pid")
    fds0=$(fds_of "$pw_pid")
    echo "stress.sh: $driver: portwrap pid $pw_pid, baseline RSS ${rss0} KiB, $fds0 fds; $rounds x $cycles cycles of $size bytes, $batch at a time"
    for ((round = 1; round <= rounds && cycles > 0; round++)); do
        read -r done failed peak_rss peak_fds elapsed < <("$PY" "$tmp/client.py" "$hp" "$pw_pid" "$cycles" "$batch" "$size")
        start=$SECONDS
        poll_until 30 settled || true
        settle=$((SECONDS - start))
        rss1=$(rss_of "$pw_pid")
        fds1=$(fds_of "$pw_pid")
        rows+=("$(printf '| %-6s | %5s | %6s | %6s | %12s | %10s | %8s | %9s | %10s | %8s | %9s | %7s s | %6s s |' \
            "$driver" "$round" "$done" "$failed" "$((done * size))" "$rss0" "$peak_rss" "$rss1" "$fds0" "$peak_fds" "$fds1" "$elapsed" "$settle")")
        rss0=$rss1
        fds0=$fds1
    done
    if ((idle > 0)); then
        fds_a=$(fds_of "$pw_pid")
        read -r pipefds_a _ pages_a < <("$PY" "$tmp/pipes.py" "$pw_pid")
        "$PY" "$tmp/idle.py" "$hp" "$idle" "$tmp/idle.$driver" "$tmp/idle.$driver.stop" &
        idle_pid=$!
        poll_until 120 test -e "$tmp/idle.$driver" || true
        held=$(cat "$tmp/idle.$driver" 2>/dev/null || echo 0)
        # Until portwrap has taken them all from the backlog (30 s at most).
        drained() { [[ $(ss -Hltn "sport = :$hp" | awk '{print $2; exit}') == 0 ]]; }
        poll_until 30 drained || true
        sleep 0.5  # the connects inside (slirp: through libslirp) settle
        fds_b=$(fds_of "$pw_pid")
        read -r pipefds_b _ pages_b < <("$PY" "$tmp/pipes.py" "$pw_pid")
        owner_pipe=$("${as[@]}" "$PY" -c 'import fcntl, os; r, w = os.pipe(); print(fcntl.fcntl(w, fcntl.F_GETPIPE_SZ))')
        touch "$tmp/idle.$driver.stop"
        wait "$idle_pid" || true
        per() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.2f", (n > 0 ? a / n : 0) }'; }
        idle_rows+=("$(printf '| %-6s | %4s | %5s | %5s | %5s | %5s | %6s | %6s | %6s | %6s |' \
            "$driver" "$held" "$fds_a" "$fds_b" "$(per $((fds_b - fds_a)) "$held")" \
            "$(((pipefds_b - pipefds_a) / 2))" "$((pages_b - pages_a))" "$(per $((pages_b - pages_a)) "$held")" \
            "$pages_b" "$owner_pipe")")
    fi
    kill -TERM "$pw_pid"
    wait "$launcher" || true
    pw_pid=""
    launcher=""
done

echo
echo "$("$tmp/portwrap" --version | head -n 1); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); bytes = each way; RSS in KiB"
if ((cycles > 0)); then
    echo "| driver | round | cycles | failed | bytes        | RSS before | RSS peak | RSS after | fds before | fds peak | fds after | elapsed   | settle   |"
    echo "|--------|-------|--------|--------|--------------|------------|----------|-----------|------------|----------|-----------|-----------|----------|"
    printf '%s\n' "${rows[@]}"
fi
if ((idle > 0)); then
    echo
    echo "Idle connections: what portwrap holds for them (pipe pages of 4 KiB; owner's pipe: a fresh pipe of portwrap's user meanwhile, in bytes)"
    echo "| driver | idle | fds before | fds during | fds per conn | pipes added | pipe pages added | pages per conn | pipe pages in all | owner's pipe |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${idle_rows[@]}"
fi
