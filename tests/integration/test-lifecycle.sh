#!/usr/bin/env bash
# lifecycle: what happens around the command's end.
# - Processes the command leaves behind in the namespace are ended when it exits
#   (SIGTERM, then SIGKILL for those that ignore it); portwrap keeps the command's status.
#   Also a leftover whose parent is a leftover too, and the same with the sweep that
#   reads all of /proc (PORTWRAP_TEST_FULL_SWEEP=1: what kernels without
#   /proc/PID/task/TID/children get).
# - Drain: a server that writes a large response and exits at once; the host client
#   gets every byte, in order, and then end-of-file.
# - A command that ignores a forwarded SIGTERM is killed 10 s later (exit 137).
# - portwrap stopped (SIGSTOP) and continued in the middle of a download: the download
#   completes with the right checksum.
source "$(dirname "$0")/lib.sh"
pw_init

# --- leftovers ----------------------------------------------------------------------------
pids=$PW_TMP/pids
pw_run -p "$(free_port)" -P 8080 -- /bin/sh -c \
    "sleep 300 & echo \$! > $pids/plain; (trap '' TERM; exec sleep 301) & echo \$! > $pids/stubborn; exit 4"
expect_status "command that leaves two processes behind" 4
for name in plain stubborn; do
    pid=$(cat "$pids/$name" 2>/dev/null)
    if [[ -n $pid ]]; then
        track_pid "$pid"
        check "the $name process (pid $pid) left by the command has ended" wait_until 5 pid_gone "$pid"
    else
        fail_later "the command did not record the $name process"
    fi
done

# --- leftovers below leftovers, with both sweeps ----------------------------------------------
# The inner sh outlives the command and waits for its sleep: two generations left. The
# command exits once the sleep has started (polling for its pid file, bounded).
for sweep in children full; do
    [[ $sweep == full ]] && PW_INNER=(PORTWRAP_TEST_FULL_SWEEP=1)
    rm -f "$pids/outer" "$pids/inner"
    pw_run -p "$(free_port)" -P 8080 -- /bin/sh -c \
        "/bin/sh -c 'sleep 302 & echo \$! > $pids/inner; wait' & echo \$! > $pids/outer
         i=0; while [ ! -s $pids/inner ] && [ \$i -lt 2000 ]; do sleep 0.01; i=\$((i + 1)); done; exit 5"
    PW_INNER=()
    expect_status "command that leaves a process with a child of its own ($sweep sweep)" 5
    for name in outer inner; do
        pid=$(cat "$pids/$name" 2>/dev/null)
        if [[ -n $pid ]]; then
            track_pid "$pid"
            check "the $name leftover (pid $pid) has ended ($sweep sweep)" wait_until 5 pid_gone "$pid"
        else
            fail_later "the command did not record the $name process ($sweep sweep)"
        fi
    done
done

# --- drain: the last response of a command that exits at once ------------------------------
# 48 MiB is more than the socket buffers and pipes hold, so a good part of it is still
# on its way when the server exits.
drain_py=$PW_TMP/drain.py
cat >"$drain_py" <<'PYEOF'
import os, socket, sys
BLOCK = bytes((i * 7 + 3) % 251 for i in range(65536))
COUNT = 768  # 48 MiB
if sys.argv[1] == "server":  # server PORT READYFILE
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[2])))
    s.listen(1)
    open(sys.argv[3], "w").close()
    s.settimeout(60)
    c, _ = s.accept()
    for _ in range(COUNT):
        c.sendall(BLOCK)
    os._exit(0)  # at once: no close(), no shutdown(), no lingering
else:  # client PORT: reads to end-of-file, says how much matched
    c = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=60)
    got, good, pending = 0, True, b""
    while True:
        data = c.recv(1 << 20)
        if not data:
            break
        pending += data
        while len(pending) >= len(BLOCK):
            good = good and pending[:len(BLOCK)] == BLOCK
            pending = pending[len(BLOCK):]
            got += len(BLOCK)
    got += len(pending)
    good = good and BLOCK.startswith(pending)
    print(f"{got} {'intact' if good else 'corrupt'}")
PYEOF
chmod 0644 "$drain_py"
hp=$(free_port)
ready=$PW_WORK/drain.ready
pw_start -p "$hp" -P 8080 -- "$PY" "$drain_py" server '{guest-port}' "$ready"
if wait_until 30 test -e "$ready"; then
    got=$("$PY" "$drain_py" client "$hp")
    expect_eq "bytes the host client got from a server that wrote 48 MiB and exited at once" \
        "$((768 * 65536)) intact" "$got"
    pw_wait 30
    expect_status "that server's exit status" 0
else
    fail_later "the drain server did not start within 30 s"
    show_file "portwrap stderr" "$PW_ERR"
    [[ -n $PW_PID ]] && kill -TERM "$PW_PID"
    pw_wait 20
fi

# --- a command that ignores SIGTERM -------------------------------------------------------
pidfile=$pids/ignorer
pw_start -p "$(free_port)" -P 8080 -- /bin/sh -c \
    "trap '' TERM; echo \$\$ > $pidfile; i=0; while [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done; exit 99"
if wait_until 20 test -s "$pidfile"; then
    cmd_pid=$(<"$pidfile")
    track_pid "$cmd_pid"
    kill -TERM "$PW_PID"
    pw_wait 40
    expect_status "SIGTERM to portwrap while the command ignores it: SIGKILL after the grace period" 137
    check "the command (pid $cmd_pid) has ended" wait_until 5 pid_gone "$cmd_pid"
    check "portwrap says why it used SIGKILL" grep -q "sending SIGKILL" "$PW_ERR"
else
    fail_later "the command did not start"
    [[ -n $PW_PID ]] && kill -KILL "$PW_PID"
    pw_wait 10
fi

# --- SIGSTOP / SIGCONT during a download ----------------------------------------------------
www=$PW_WORK/www
as_user "$PW_USER" mkdir -p "$www"
head -c $((24 * 1024 * 1024)) /dev/urandom > "$www/data.bin"
chmod 0644 "$www/data.bin"
read -r want_sha _ < <("$PY" "$PW_HELPER" sha256 "$www/data.bin")
hp=$(free_port)
pw_start -p "$hp" -P 8080 -- /usr/bin/python3 "$PW_HELPER" http '{guest-port}' "$www"
dl=$PW_TMP/download.bin
if wait_until 30 curl -sf --max-time 5 -o /dev/null -r 0-0 "http://127.0.0.1:$hp/data.bin"; then
    # About 3 s at this rate, so the stop lands in the middle of it.
    curl -sf --max-time 60 --limit-rate 8M -o "$dl" "http://127.0.0.1:$hp/data.bin" &
    curl_pid=$!
    track_pid "$curl_pid"
    wait_until 10 test -s "$dl"
    # runuser stops itself when its child stops: continue it too (user runs only).
    parent_pid=$(awk '{print $4}' "/proc/$PW_PID/stat")
    kill -STOP "$PW_PID"
    stopped() { [[ $(awk '{print $3}' "/proc/$PW_PID/stat" 2>/dev/null) == T ]]; }
    check "portwrap is stopped" wait_until 5 stopped
    size_at_stop=$(stat -c %s "$dl")
    sleep 1  # the length of the stop, not a wait for something
    kill -CONT "$PW_PID"
    kill -CONT "$parent_pid" 2>/dev/null
    wait "$curl_pid"
    curl_status=$?
    expect_eq "curl exit status for a download across SIGSTOP/SIGCONT" 0 "$curl_status"
    read -r got_sha _ < <("$PY" "$PW_HELPER" sha256 "$dl")
    expect_eq "sha256 of the download (stopped at byte $size_at_stop)" "$want_sha" "$got_sha"
else
    fail_later "the HTTP server inside did not answer within 30 s"
    show_file "portwrap stderr" "$PW_ERR"
fi
kill -TERM "$PW_PID"
pw_wait 20
expect_status "server ended by SIGTERM through portwrap" 143

pw_finish
