#!/usr/bin/env bash
# lifecycle: what happens around the command's end.
# - Processes the command leaves behind in the namespace are ended when it exits
#   (SIGTERM, then SIGKILL for those that ignore it); portwrap keeps the command's status.
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
