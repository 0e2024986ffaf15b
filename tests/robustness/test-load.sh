#!/usr/bin/env bash
# load: portwrap's forward under load (issue 4). One portwrap runs the threaded test
# server (tests/lib/pwtest.py serve, as $RB) inside; clients on the host:
#  - 200 connects at once, one PING/PONG each: all must succeed (latencies printed);
#  - 1 GiB host -> ns and 1 GiB ns -> host, generated on the fly, sha256 compared
#    (throughput printed, not asserted);
#  - 500 connections at once, 256 KiB of random data echoed on each, sha256 per
#    connection;
#  - half-close: the client shuts down writing, the server then sends 16 MiB, which
#    all arrive with the right sha256 (and the server saw all of the client's data);
#  - two clients reset (SO_LINGER 0 close) in the middle of a third connection's
#    64 MiB transfer, one while sending and one with unread data: the third completes
#    with the right sha256, and new connections still work;
#  - a connection left idle for 70 s stays open and still answers (the issue says
#    "minutes": 70 s keeps CI time bounded). It is opened first and checked last, so
#    the idle time overlaps the other checks; the others do not touch it.
# Afterwards portwrap's fd count is back to where it started (no leaked sockets or
# pipes; the relay may keep up to 4 spare pipes, 8 fds, for the next connections),
# SIGTERM ends it with 143, the port is closed and nothing is left running.
# The relay runs with --max-connections=1000: the 500 parallel connections are more
# than its default limit (256).
source "$(dirname "$0")/rlib.sh"
rb_init

IDLE_S=70
hp=$(free_port)
limit=()
[[ $(pw_driver) == relay ]] && limit=(--max-connections=1000)
rb_start_server "$hp" "${limit[@]}" || { pw_finish; }
check "the forward answers a first PING" wait_until 20 eval '[[ $("$PY" "$RB" ping 127.0.0.1 '"$hp"' 5) == ok ]]'
fds_before=$(pw_fd_count "$PW_PID")
pipe_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -lname 'pipe:*' 2>/dev/null | wc -l; }
pipes_before=$(pipe_fds "$PW_PID")
log "portwrap has $fds_before open fds before the load, $pipes_before of them pipes"

# --- idle connection: opened now, checked at the end ------------------------------------
idle_log=$PW_TMP/idle.log
start_helper "$idle_log" timeout -k 5 $((IDLE_S + 60)) "$PY" "$RB" idle 127.0.0.1 "$hp" "$IDLE_S" 30
idle_pid=$HELPER_PID
idle_start_ms=$(_now_ms)

# --- 200 connects at once ------------------------------------------------------------
rb_client 120 burst 127.0.0.1 "$hp" 200 60
expect_eq "200 concurrent connects, one PING each (client status)" 0 "$RB_STATUS"
check "200 concurrent connects: all 200 answered" grep -q '^ok=200 failed=0 ' <<<"$RB_OUT"

# --- 1 GiB each way ----------------------------------------------------------------------
gib=$((1 << 30))
rb_client 600 sink 127.0.0.1 "$hp" "$gib" 120
expect_eq "1 GiB host -> ns, sha256 the server computed matches (client status)" 0 "$RB_STATUS"
log "host -> ns throughput: $(grep -o 'MBps=[0-9]*' <<<"$RB_OUT") (MB/s)"
rb_client 600 source 127.0.0.1 "$hp" "$gib" 120
expect_eq "1 GiB ns -> host, sha256 matches the sender's (client status)" 0 "$RB_STATUS"
log "ns -> host throughput: $(grep -o 'MBps=[0-9]*' <<<"$RB_OUT") (MB/s)"

# --- 500 connections in parallel, 256 KiB echoed on each --------------------------------
rb_client 300 parallel 127.0.0.1 "$hp" 500 $((256 * 1024)) 240
expect_eq "500 parallel connections, 256 KiB echoed each, sha256 per connection (client status)" 0 "$RB_STATUS"
check "500 parallel connections: all 500 verified" grep -q '^ok=500 failed=0 ' <<<"$RB_OUT"

# --- half-closed connection --------------------------------------------------------------
rb_client 120 half 127.0.0.1 "$hp" $((1024 * 1024)) $((16 * 1024 * 1024)) 60
expect_eq "half-close: 16 MiB sent by the server after the client's EOF arrive intact (client status)" 0 "$RB_STATUS"

# --- resets next to a running transfer ---------------------------------------------------
rb_client 180 reset-during 127.0.0.1 "$hp" $((64 * 1024 * 1024)) 60
expect_eq "two clients reset mid-transfer; the parallel 64 MiB transfer completes, new connections work (client status)" 0 "$RB_STATUS"

# --- the idle connection ---------------------------------------------------------------
log "waiting for the idle connection ($IDLE_S s idle; $((($(_now_ms) - idle_start_ms) / 1000)) s have passed)"
if wait_until $((IDLE_S + 90)) pid_gone "$idle_pid"; then
    wait "$idle_pid"
    idle_status=$?
    sed 's/^/    | /' "$idle_log"
    expect_eq "a connection idle for $IDLE_S s still answers (client status)" 0 "$idle_status"
else
    fail_later "the idle-connection client did not finish within $((IDLE_S + 90)) s"
fi

# --- no fds leaked ---------------------------------------------------------------------
# Every connection is closed now. With the slirp driver libslirp keeps a closed
# connection's host socket until its own TCP close handshake with the guest is over,
# so allow some time (a deadline, not a timing assertion).
fds_settled() {
    local pipes
    pipes=$(pipe_fds "$PW_PID")
    (($(pw_fd_count "$PW_PID") - pipes <= fds_before - pipes_before && pipes <= pipes_before + 8))
}
if wait_until 60 fds_settled; then
    pass "portwrap's open fds are back to $fds_before after the load, but for spare pipes (now $(pw_fd_count "$PW_PID"), $(pipe_fds "$PW_PID") pipes)"
else
    fail_later "portwrap has $(pw_fd_count "$PW_PID") open fds 60 s after the load, $fds_before before it"
    ls -l "/proc/$PW_PID/fd" | sed 's/^/    /' | head -n 30
fi
rb_client 30 ping 127.0.0.1 "$hp" 10
expect_eq "the forward still answers after all of it" ok "$RB_OUT"

kill -TERM "$PW_PID"
pw_wait 30
expect_status "server ended by SIGTERM through portwrap" 143
expect_no_listener "after portwrap exited" "$hp"
pw_finish
