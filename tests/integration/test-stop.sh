#!/usr/bin/env bash
# stop: what portwrap leaves when it is asked to stop, and the stop options.
#  - the port file is locked while portwrap runs (flock fails), and a failed start
#    (125) removes a stale one first; a port file a running portwrap holds is refused;
#  - on SIGTERM, with a command that ignores it, the port file and the Unix socket
#    are gone at once, while the command still runs, and --stop-grace decides when
#    it is killed (137, with its message);
#  - --no-forward-signals: the command does not get portwrap's SIGTERM, and is still
#    killed after --stop-grace;
#  - a unix: forward prints where it listens, the ssh -L line, and --print-url's URL
#    at the laptop's end, never http:///PATH.
source "$(dirname "$0")/lib.sh"
pw_init

file_gone() { [[ ! -e $1 ]]; }
unlocked() { flock --nonblock "$1" true; }

# A command that ignores SIGTERM and says each time it gets one.
stubborn=$PW_TMP/bin/stubborn.sh
cat >"$stubborn" <<'SH'
#!/bin/sh
# usage: stubborn.sh LOG: ignores SIGTERM (logs it), runs at most 60 s
trap 'echo TERM >> "$1"' TERM
echo ready >> "$1"
i=0
while [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
SH
chmod 0755 "$stubborn"

# ---- the port file: locked while running; a stale one removed by a failed start
port_file=$PW_WORK/p.port
sock=$PW_WORK/s.sock
log1=$PW_WORK/stubborn.1
pw_start --stop-grace=3 -p "unix:$sock:8000" -p 0:8001 --port-file="$port_file" -- /bin/sh "$stubborn" "$log1"
wait_until 20 test -s "$log1" || fail "the command did not start: $(cat "$PW_ERR")"
expect_eq "port file" "unix:$sock" "$(head -n 1 "$port_file")"
check "the port file is locked while portwrap runs" bash -c "! flock --nonblock '$port_file' true"
# A second run with the same port file is refused, and leaves the first one's alone.
saved=("$PW_PID" "$PW_LAUNCHER" "$PW_ERR")
pw_run -p 0:1 --port-file="$port_file" -- true
expect_status "a second run with a live port file" 125
expect_one_error_line "a second run with a live port file" "the port file $port_file belongs to a portwrap that is still running"
expect_eq "the live port file is untouched" "unix:$sock" "$(head -n 1 "$port_file")"
PW_PID=${saved[0]} PW_LAUNCHER=${saved[1]} PW_ERR=${saved[2]}

# ---- SIGTERM: the files go at once, the command still runs; --stop-grace ends it
t0=$(_now_ms)
kill -TERM "$PW_PID"
if wait_until 2 file_gone "$port_file" && wait_until 2 file_gone "$sock"; then
    pass "SIGTERM: port file and socket removed after $(($(_now_ms) - t0)) ms"
else
    fail_later "SIGTERM: port file or socket still there 2 s later"
fi
check "SIGTERM: portwrap still runs while the command ignores it" pid_alive "$PW_PID"
check "SIGTERM: the command got it (forwarded)" wait_until 2 grep -q TERM "$log1"
pw_wait 20
expect_status "SIGTERM ignored: killed after --stop-grace=3" 137
check "the message names the grace" grep -q "the command (pid [0-9]*) is still running 3 s after it was asked to stop: sending SIGKILL" "$PW_ERR"

# ---- a stale port file (as SIGKILL to every process leaves it) goes with a failed start
echo "127.0.0.1:1" >"$port_file"
chown "$PW_USER:" "$port_file"
check "a plain file is unlocked" unlocked "$port_file"
pw_run -p "unix:$PW_WORK/no-such-dir/s.sock:1" --port-file="$port_file" -- true
expect_status "a start that fails before writing the port file" 125
check "the stale port file is gone after the failed start" file_gone "$port_file"

# ---- --no-forward-signals
log2=$PW_WORK/stubborn.2
pw_start --no-forward-signals --stop-grace=0.5 -p 0:8001 -- /bin/sh "$stubborn" "$log2"
wait_until 20 test -s "$log2" || fail "the command did not start: $(cat "$PW_ERR")"
kill -TERM "$PW_PID"
pw_wait 20
expect_status "--no-forward-signals: killed after --stop-grace=0.5" 137
check "--no-forward-signals: the command did not get portwrap's SIGTERM" bash -c "! grep -q TERM '$log2'"
check "--no-forward-signals: the message" grep -q "still running 0.5 s after it was asked to stop" "$PW_ERR"

# ---- the unix forward's lines
pw_run -p "unix:$sock:8000" --print-url='http://{host}/lab' -- true
expect_status "unix forward with --print-url" 0
check "the listening line" grep -qx "portwrap: listening on unix:$sock, forwarded to port 8000 inside" "$PW_ERR"
check "the ssh -L line" grep -qx "portwrap: from another machine: ssh -N -L 8000:$sock $(hostname)" "$PW_ERR"
check "the URL at the laptop's end" grep -qx "portwrap: then: http://localhost:8000/lab" "$PW_ERR"
check "no http:/// URL" bash -c "! grep -q 'http:///' '$PW_ERR'"

pw_finish
