#!/usr/bin/env bash
# pid-ns: with --pid-ns the command runs in a PID namespace of its own, under
# portwrap's minimal init, and sees it: a small PID of its own, another
# /proc/self/ns/pid than the host's, a /proc (and ps) listing only the namespace.
# - Processes it leaves behind (setsid, ignoring SIGTERM and SIGHUP) are gone as soon
#   as portwrap has exited, and even when portwrap itself is killed with SIGKILL.
# - Exit codes and deaths by signal come through as without it (N, 128+N); a missing
#   or non-executable command is one error line and 127 or 126.
# - Signals sent to portwrap reach the command through the init; one it ignores is
#   followed by SIGKILL 10 s later.
# - The forward works; a loopback-only resolv.conf is still replaced; portwrap is
#   still sandboxed.
source "$(dirname "$0")/lib.sh"
pw_init

host_pid_ns=$(readlink /proc/self/ns/pid)
scripts=$PW_TMP/bin

# --- what the command sees ---------------------------------------------------------------
pw_run --pid-ns -p "$(free_port)" -P 8080 -- /bin/sh -c '
echo "pid=$$"
echo "ns=$(readlink /proc/self/ns/pid)"
echo "init=$(tr "\0" " " </proc/1/cmdline)"
echo "procs=$(ls /proc | grep -c "^[0-9][0-9]*$")"
echo "ps=$(ps -e -o pid= | wc -l)"'
expect_status "a command that looks at its PID namespace" 0
pid=$(sed -n 's/^pid=//p' "$PW_OUT")
ns=$(sed -n 's/^ns=//p' "$PW_OUT")
check "the command's PID inside is small (got '$pid')" test -n "$pid" -a "${pid:-99}" -le 5
check "the command's PID namespace ($ns) is not the host's ($host_pid_ns)" test -n "$ns" -a "$ns" != "$host_pid_ns"
check "PID 1 inside is portwrap's init" grep -q "^init=$PW_BIN " "$PW_OUT"
procs=$(sed -n 's/^procs=//p' "$PW_OUT")
check "/proc inside lists only the namespace's few processes (got $procs)" test "${procs:-99}" -le 10
nps=$(sed -n 's/^ps=//p' "$PW_OUT")
check "ps inside lists only the namespace's few processes (got $nps)" test "${nps:-99}" -le 10
expect_eq "nothing on stderr" "" "$(cat "$PW_ERR")"

# Without the option nothing changes: the host's PID namespace.
pw_run -p "$(free_port)" -P 8080 -- /bin/readlink /proc/self/ns/pid
expect_eq "without --pid-ns, the command is in the host's PID namespace" "$host_pid_ns" "$(cat "$PW_OUT")"

# --- leftovers -----------------------------------------------------------------------------
# leave-behind.sh READY GO: starts a session leader that ignores SIGTERM and SIGHUP and
# sleeps, says READY, waits (at most 30 s) for GO to exist, and exits 6.
cat >"$scripts/leave-behind.sh" <<'EOF'
#!/bin/sh
setsid /bin/sh -c 'trap "" TERM HUP; exec sleep 987654' </dev/null >/dev/null 2>&1 &
echo ready >"$1"
i=0
while [ ! -e "$2" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
exit 6
EOF
chmod 0755 "$scripts/leave-behind.sh"

# leftover_pid: the host PID of this test's 'sleep 987654', once there is exactly one.
leftover_pid() {
    local p found=()
    for p in $(tagged_pids); do
        [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") == "sleep 987654 " ]] && found+=("$p")
    done
    ((${#found[@]} == 1)) && echo "${found[0]}"
}
n=0
# start_leaving_behind [PORTWRAP_OPTIONS...]: runs leave-behind.sh under portwrap
# --pid-ns; sets LEFTOVER (its host PID, or empty) and GO (the file that ends it).
start_leaving_behind() {
    n=$((n + 1))
    local ready=$PW_WORK/ready.$n
    GO=$PW_WORK/go.$n
    LEFTOVER=""
    pw_start --pid-ns "$@" -p "$(free_port)" -P 8080 -- "$scripts/leave-behind.sh" "$ready" "$GO"
    if ! wait_until 20 test -s "$ready"; then
        fail_later "the command did not start within 20 s"
        show_file "portwrap stderr" "$PW_ERR"
        return 1
    fi
    _leftover_found() { LEFTOVER=$(leftover_pid) && [[ -n $LEFTOVER ]]; }
    if ! wait_until 10 _leftover_found; then
        fail_later "the command's background process did not show up on the host"
        return 1
    fi
    track_pid "$LEFTOVER"
}

if start_leaving_behind; then
    touch "$GO"
    pw_wait 30
    expect_status "a command that leaves a process behind (setsid, ignoring TERM and HUP)" 6
    # No waiting: once portwrap has exited, the namespace is empty.
    check "the process it left (host pid $LEFTOVER) is gone right after portwrap exited" pid_gone "$LEFTOVER"
else
    [[ -n $PW_PID ]] && kill -KILL "$PW_PID"
    pw_wait 10
fi

# portwrap killed with SIGKILL: nothing to clean up after it, the kernel ends the
# namespace with its init (without --pid-ns such a process would run on).
if start_leaving_behind --verbose; then
    kill -KILL "$PW_PID"
    pw_wait 20
    expect_status "portwrap killed by SIGKILL (as its parent sees it)" 137
    check "after SIGKILL to portwrap, the process left behind (host pid $LEFTOVER) is gone within 5 s" \
        wait_until 5 pid_gone "$LEFTOVER"
else
    [[ -n $PW_PID ]] && kill -KILL "$PW_PID"
    pw_wait 10
fi

# --- exit statuses -------------------------------------------------------------------------
for code in 0 3 255; do
    pw_run --pid-ns -p "$(free_port)" -P 8080 -- sh -c "exit $code"
    expect_status "--pid-ns: sh -c 'exit $code'" "$code"
done
for sig in TERM KILL USR1; do
    pw_run --pid-ns -p "$(free_port)" -P 8080 -- sh -c "kill -$sig \$\$"
    expect_status "--pid-ns: command killed by SIG$sig" $((128 + $(kill -l "$sig")))
    expect_eq "--pid-ns: stderr after SIG$sig" "" "$(cat "$PW_ERR")"
done
pw_run --pid-ns -p "$(free_port)" -P 8080 -- nosuchcmd-portwrap-test arg
expect_status "--pid-ns: missing command" 127
expect_one_error_line "--pid-ns: missing command" "not found" "nosuchcmd-portwrap-test"
printf '#!/bin/sh\necho should-not-run\n' >"$PW_WORK/not-executable"
chmod 0644 "$PW_WORK/not-executable"
pw_run --pid-ns -p "$(free_port)" -P 8080 -- "$PW_WORK/not-executable"
expect_status "--pid-ns: a file that is not executable" 126
expect_one_error_line "--pid-ns: a file that is not executable" "Permission denied"

# --- signals -------------------------------------------------------------------------------
# waiter.sh PIDFILE MARKER SIGNAL STATUS: traps SIGNAL (marker, exit STATUS) unless it
# is 'none'; waits at most 60 s.
cat >"$scripts/waiter.sh" <<'EOF'
#!/bin/sh
if [ "$3" = ignore ]; then
    trap '' TERM
elif [ "$3" != none ]; then
    trap "echo got-$3 > '$2'; exit $4" "$3"
fi
echo $$ >"$1"
i=0
while [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
exit 99
EOF
chmod 0755 "$scripts/waiter.sh"
# run_waiter SIGNAL STATUS SEND: starts waiter.sh under portwrap --pid-ns, sends SEND
# to portwrap once the command runs; sets MARKER.
run_waiter() {
    n=$((n + 1))
    MARKER=$PW_WORK/marker.$n
    local pidfile=$PW_WORK/waiter.$n
    pw_start --pid-ns -p "$(free_port)" -P 8080 -- /bin/sh "$scripts/waiter.sh" "$pidfile" "$MARKER" "$1" "$2"
    if wait_until 20 test -s "$pidfile"; then
        kill "-$3" "$PW_PID"
        pw_wait 40
    else
        fail_later "waiter.sh did not start within 20 s"
        [[ -n $PW_PID ]] && kill -KILL "$PW_PID"
        pw_wait 10
    fi
}
run_waiter TERM 21 TERM
expect_status "SIGTERM to portwrap reaches the command's trap through the init" 21
expect_eq "the command's marker" got-TERM "$(cat "$MARKER" 2>/dev/null)"
run_waiter USR1 22 USR1
expect_status "SIGUSR1 to portwrap reaches the command's trap through the init" 22
run_waiter none 0 TERM
expect_status "SIGTERM to portwrap ends a command without a trap" 143
run_waiter none 0 INT
expect_status "SIGINT (sent with kill) to portwrap ends a command without a trap" 130
run_waiter ignore 0 TERM
expect_status "a command that ignores SIGTERM: the namespace is killed 10 s later" 137
check "portwrap says why it used SIGKILL" grep -q "sending SIGKILL" "$PW_ERR"

# Ctrl-C on a terminal: the kernel sends SIGINT to the whole foreground process group,
# the command included; neither portwrap nor the init may send it a second time.
# ctrl-c.py UID GID DIR ARGV...: runs ARGV on a new terminal as UID:GID in DIR, types
# Ctrl-C once 'cmd-started' shows, prints the exit status (or 'hung' after 30 s).
cat >"$scripts/ctrl-c.py" <<'EOF'
import os, pty, select, sys, time
uid, gid, cwd, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd)
    if uid != 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    os.execv(argv[0], argv)
out, status, deadline, sent = b"", None, time.time() + 30, False
while status is None and time.time() < deadline:
    if select.select([fd], [], [], 0.1)[0]:
        try:
            out += os.read(fd, 1000)
        except OSError:
            pass
    if not sent and b"cmd-started" in out:
        os.write(fd, b"\x03")
        sent = True
    got, wstatus = os.waitpid(pid, os.WNOHANG)
    if got:
        status = os.waitstatus_to_exitcode(wstatus)
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print(status if status is not None else "hung")
EOF
# The command counts the SIGINTs it gets in 2 s and exits 40+N.
ctrl_c_status=$(env "PATH=$PW_STD_PATH" "PWTEST_TAG=$PW_TAG" "$PY" "$scripts/ctrl-c.py" "$PW_UID" "$PW_GID" "$PW_WORK" \
    "$PW_BIN" --pid-ns ${PORTWRAP_TEST_DRIVER:+"--port-driver=$PORTWRAP_TEST_DRIVER"} -p "$(free_port)" -P 8080 -- \
    /bin/sh -c 'n=0; trap "n=\$((n + 1))" INT; echo cmd-started; i=0
        while [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done; exit $((40 + n))')
expect_eq "Ctrl-C on portwrap's terminal: the command got one SIGINT (exit 40+N)" 41 "$ctrl_c_status"

# --- the forward, DNS, the sandbox ------------------------------------------------------------
www=$PW_WORK/www
mkdir -p "$www" && echo "hello through the pid namespace" >"$www/index.txt"
chown -R "$PW_USER:" "$www"
hp=$(free_port)
forbidden=$PW_WORK/created-by-portwrap
PW_INNER=(env "PORTWRAP_SANDBOX_SELFTEST=$forbidden")
pw_start --pid-ns -p "$hp" -P 8080 -- /usr/bin/python3 "$PW_HELPER" http '{guest-port}' "$www"
PW_INNER=()
if wait_until 30 curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$hp/index.txt"; then
    expect_eq "a file fetched through the forward" "hello through the pid namespace" \
        "$(curl -sf --max-time 10 "http://127.0.0.1:$hp/index.txt")"
else
    fail_later "the HTTP server inside did not answer within 30 s"
fi
if [[ -n $PW_PID ]]; then
    expect_eq "Seccomp mode of the running portwrap (2 = filter)" 2 "$(awk '/^Seccomp:/ {print $2}' "/proc/$PW_PID/status")"
    kill -TERM "$PW_PID"
fi
pw_wait 20
expect_status "the HTTP server ended by SIGTERM through portwrap" 143
# scripts/coverage.sh's build lets gcov write its files under the filter: only exec is refused there.
if [[ -z ${PORTWRAP_TEST_COVERAGE:-} ]]; then
    check "sandbox: creating a file was refused" grep -q "sandbox self-test: open for writing: Operation not permitted" "$PW_ERR"
    check "sandbox: the file does not exist" test ! -e "$forbidden"
fi
check "sandbox: exec was refused" grep -q "sandbox self-test: execve: Operation not permitted" "$PW_ERR"

loopback_conf=$PW_TMP/resolv.conf.loopback
printf 'nameserver 127.0.0.153\n' >"$loopback_conf"
chmod 0644 "$loopback_conf"
PW_OUTER=(unshare --mount --propagation private sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$loopback_conf")
pw_run --pid-ns -p "$(free_port)" -P 8080 -- /bin/sh -c 'cat /etc/resolv.conf; echo "ps=$(ps -e -o pid= | wc -l)"'
PW_OUTER=()
expect_status "--pid-ns with a loopback-only resolv.conf on the host" 0
check "the command's resolv.conf names 10.0.2.3 (same mount namespace as its /proc)" grep -qx "nameserver 10.0.2.3" "$PW_OUT"
check "ps works there too" grep -qE '^ps=([1-9]|10)$' "$PW_OUT"

pw_finish
