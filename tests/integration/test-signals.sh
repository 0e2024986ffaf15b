#!/usr/bin/env bash
# signals: TERM, INT, HUP, QUIT, USR1 and USR2 sent to portwrap reach the command (its
# trap writes a marker), and portwrap then exits with the command's status. SIGKILL
# to portwrap ends the command too (its PID disappears), and frees the host port.
# Afterwards no process of the test is left.
source "$(dirname "$0")/lib.sh"
pw_init

# The command: records its PID, traps the given signal (writes a marker, exits with
# the given status), otherwise waits at most 60 s.
waiter=$PW_TMP/bin/waiter.sh
cat >"$waiter" <<'EOF'
#!/bin/sh
# usage: waiter.sh PIDFILE MARKER SIGNAL EXIT_STATUS
pidfile=$1 marker=$2 sig=$3 status=$4
if [ "$sig" != none ]; then
    trap "echo got-$sig > '$marker'; exit $status" "$sig"
fi
echo $$ >"$pidfile"
i=0
while [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
exit 99
EOF
chmod 0755 "$waiter"

n=0
# start_waiter SIGNAL EXIT_STATUS [PORTWRAP_OPTIONS...]: starts portwrap with waiter.sh;
# sets CMD_PID, MARKER, HP.
start_waiter() {
    local sig=$1 status=$2
    shift 2
    n=$((n + 1))
    MARKER=$PW_WORK/marker.$n
    local pidfile=$PW_TMP/pids/waiter.$n
    HP=$(free_port)
    pw_start "$@" -p "$HP" -P 8080 -- /bin/sh "$waiter" "$pidfile" "$MARKER" "$sig" "$status"
    CMD_PID=""
    if wait_until 20 test -s "$pidfile"; then
        CMD_PID=$(<"$pidfile")
        track_pid "$CMD_PID"
        return 0
    fi
    fail_later "the command did not start under portwrap within 20s"
    show_file "portwrap stderr" "$PW_ERR"
    return 1
}

status=20
for sig in TERM INT HUP QUIT USR1 USR2; do
    status=$((status + 1))
    start_waiter "$sig" "$status" || { [[ -n $PW_PID ]] && kill -KILL "$PW_PID"; pw_wait 10; continue; }
    kill "-$sig" "$PW_PID"
    pw_wait 20
    expect_status "SIG$sig to portwrap: the command's trap exits $status" "$status"
    expect_eq "SIG$sig to portwrap: the command's marker" "got-$sig" "$(cat "$MARKER" 2>/dev/null)"
    check "SIG$sig: the command (pid $CMD_PID) has ended" wait_until 5 pid_gone "$CMD_PID"
done

# A command that does not trap TERM is killed by it; portwrap exits 128+15.
start_waiter none 0 && {
    kill -TERM "$PW_PID"
    pw_wait 20
    expect_status "SIGTERM to portwrap, command without a trap" 143
    check "the command (pid $CMD_PID) has ended" wait_until 5 pid_gone "$CMD_PID"
}

# SIGKILL to portwrap: the command dies too, and the host port is free again.
start_waiter TERM 0 && {
    # The port is portwrap's: a new listener cannot take it (with the handoff driver
    # and no server inside it is bound, not listening).
    expect_eq "portwrap holds 127.0.0.1:$HP" "error:Address already in use" "$(listen_result 127.0.0.1 "$HP")"
    kill -KILL "$PW_PID"
    pw_wait 20
    expect_status "portwrap killed by SIGKILL (as its parent sees it)" 137
    check "after SIGKILL to portwrap, the command (pid $CMD_PID) disappears within 10s" wait_until 10 pid_gone "$CMD_PID"
    check "after SIGKILL to portwrap, the command got no TERM (it was killed outright)" test ! -e "$MARKER"
    check "after SIGKILL to portwrap, host port $HP is closed" wait_until 5 eval '[[ $(connect_result 127.0.0.1 '"$HP"' 2) == refused ]]'
    check "after SIGKILL to portwrap, host port $HP is free: a new listener takes it" wait_until 5 eval \
        '[[ $(listen_result 127.0.0.1 '"$HP"') == listening ]]'
}

# SIGKILL with --verbose and --map-root too (other code paths at start-up).
start_waiter none 0 --verbose --map-root && {
    kill -KILL "$PW_PID"
    pw_wait 20
    check "after SIGKILL to portwrap (--verbose --map-root), the command (pid $CMD_PID) disappears within 10s" wait_until 10 pid_gone "$CMD_PID"
}

# Two signals in a row: both reach the command, in order.
counter=$PW_TMP/bin/counter.sh
cat >"$counter" <<'EOF'
#!/bin/sh
# usage: counter.sh PIDFILE LOG: logs USR1/USR2, exits 0 on TERM
trap 'echo USR1 >>"$2"' USR1
trap 'echo USR2 >>"$2"' USR2
trap 'echo TERM >>"$2"; exit 0' TERM
echo $$ >"$1"
i=0
while [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
exit 99
EOF
chmod 0755 "$counter"
clog=$PW_WORK/counter.log
pw_start -p "$(free_port)" -P 8080 -- /bin/sh "$counter" "$PW_TMP/pids/counter" "$clog"
if wait_until 20 test -s "$PW_TMP/pids/counter"; then
    cpid=$(<"$PW_TMP/pids/counter")
    track_pid "$cpid"
    kill -USR1 "$PW_PID"
    wait_until 10 grep -qs USR1 "$clog"
    kill -USR2 "$PW_PID"
    wait_until 10 grep -qs USR2 "$clog"
    kill -TERM "$PW_PID"
    pw_wait 20
    expect_status "USR1, USR2, TERM one after another" 0
    expect_eq "signals the command received, in order" "USR1 USR2 TERM" "$(tr '\n' ' ' <"$clog" | sed 's/ $//')"
else
    fail_later "counter.sh did not start"
    [[ -n $PW_PID ]] && kill -KILL "$PW_PID"
    pw_wait 10
fi

pw_finish
