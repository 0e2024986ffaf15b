#!/usr/bin/env bash
# fd limit: portwrap when it runs out of file descriptors (issue 4, faults). portwrap
# is started under 'prlimit --nofile=64:64', so it cannot raise its limit above 64
# (the command inside gets the same limit, which its few connections stay below).
#  - 20 connections opened at once and held: more than the relay driver has fds for
#    (each relayed connection takes 2 sockets and 2 pipes). Each is held, closed or
#    reset, or waits in the backlog; once the held ones are closed, every waiting one
#    must be answered within 20 s (none is left hanging), and at least one was held.
#    After all are closed, the forward works again.
#  - 150 short echo connections one after the other: every one completes (checked
#    echo), and portwrap does not spin while it waits for fds: its CPU time over the
#    whole run stays below half of the wall-clock time. A portwrap that sleeps in
#    poll() uses a few per cent here; a busy loop uses ~100%. (With the slirp driver,
#    libslirp keeps a closed connection's host socket for about 10 s, so the 64 fds
#    run out during this run; libslirp's accept() then fails with EMFILE and returns,
#    and the listening socket stays readable.)
#  - Afterwards portwrap's fd count returns to its baseline and the forward answers.
source "$(dirname "$0")/rlib.sh"
rb_init

LIMIT=64
clk_tck=$(getconf CLK_TCK)
cpu_ms() {  # cpu_ms PID: user + system CPU time of PID so far, in ms
    local stat
    stat=$(cat "/proc/$1/stat") || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo $(((${12} + ${13}) * 1000 / clk_tck))
}

hp=$(free_port)
PW_OUTER=(prlimit "--nofile=$LIMIT:$LIMIT" --)
rb_start_server "$hp" || pw_finish
PW_OUTER=()
limit=$(awk '/^Max open files/ {print $4 ":" $5}' "/proc/$PW_PID/limits")
expect_eq "portwrap's open-file limit (soft:hard)" "$LIMIT:$LIMIT" "$limit"
check "the forward answers" wait_until 20 eval '[[ $("$PY" "$RB" ping 127.0.0.1 '"$hp"' 5) == ok ]]'
fds_before=$(pw_fd_count "$PW_PID")
log "portwrap has $fds_before open fds"

# --- more held connections than fds ----------------------------------------------------
rb_client 120 hold-many 127.0.0.1 "$hp" 20 20
expect_eq "20 held connections with $LIMIT fds: each served, closed or reset, none left hanging (client status)" 0 "$RB_STATUS"
check "the forward answers once they are closed" wait_until 30 eval '[[ $("$PY" "$RB" ping 127.0.0.1 '"$hp"' 5) == ok ]]'

# --- many short connections; no busy loop ------------------------------------------------
cpu0=$(cpu_ms "$PW_PID")
t0=$(_now_ms)
rb_client 300 cycles 127.0.0.1 "$hp" 150 1000 30
wall=$(($(_now_ms) - t0))
cpu=$(($(cpu_ms "$PW_PID") - cpu0))
expect_eq "150 echo connections one after the other with $LIMIT fds: all complete (client status)" 0 "$RB_STATUS"
log "portwrap used $cpu ms of CPU in $wall ms for them"
check "portwrap did not spin: $cpu ms of CPU is less than half of $wall ms" test $((cpu * 2)) -lt "$wall"

fds_settled() { (($(pw_fd_count "$PW_PID") <= fds_before)); }
check "portwrap's fds are back to $fds_before" wait_until 60 fds_settled
rb_client 30 ping 127.0.0.1 "$hp" 10
expect_eq "the forward still answers" ok "$RB_OUT"

kill -TERM "$PW_PID"
pw_wait 30
expect_status "server ended by SIGTERM through portwrap" 143
expect_no_listener "after portwrap exited" "$hp"
pw_finish
