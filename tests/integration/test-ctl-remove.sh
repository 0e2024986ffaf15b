#!/usr/bin/env bash
# ctl remove (issue 11, item 8): a forward removed with `portwrap ctl remove` is closed
# for good: connections are refused and the port can be bound again, because no
# process of portwrap's (the clean-up process above all, forked while the listeners
# were open) keeps a copy of the listening socket. Run under tests/old-kernel
# (PORTWRAP_TEST_KERNEL=4.18) too, where close_range() does not exist. Both a forward
# given at start and one added through the control socket.
source "$(dirname "$0")/lib.sh"
pw_init

ctl_sock=$PW_WORK/ctl.sock
ctl() { as_user "$PW_USER" "$PW_BIN" ctl "$ctl_sock" "$@"; }
# With the handoff driver and no server inside to hand it to (the command is a
# sleep), a forward's host socket is bound and refuses clients: portwrap holds the
# port, and ss, which lists listeners only, does not show it.
driver=$(pw_driver)
# forward_there PORT: the forward is set up: it accepts (handoff: it refuses, and a
# new listener cannot take the port).
forward_there() {
    if [[ $driver == handoff ]]; then
        [[ $(connect_result 127.0.0.1 "$1" 2) == refused && $(listen_result 127.0.0.1 "$1") == "error:Address already in use" ]]
    else
        wait_for_port 127.0.0.1 "$1" 20
    fi
}
# listening PORT: ss lists a listener on PORT (handoff: portwrap has a socket bound to it).
listening() {
    if [[ $driver == handoff ]]; then
        "$PY" "$PW_PYTEST" tcp-bound "$PW_PID" | grep -qx "127.0.0.1:$1"
    else
        ss -Hltn "sport = :$1" | grep -q .
    fi
}
not_listening() { ! listening "$1"; }

port=$(free_port)
pw_start --control-socket "$ctl_sock" -p "127.0.0.1:$port:8080" -- sleep 120
check "the control socket appears" wait_until 20 test -S "$ctl_sock"
check "the forward 127.0.0.1:$port is there (accepts; handoff: bound)" forward_there "$port"
# Positive control: while the forward is there, its port cannot be bound, and ss lists it.
expect_eq "binding 127.0.0.1:$port while forwarded" "error:Address already in use" "$(listen_result 127.0.0.1 "$port")"
check "ss lists a listener on $port (handoff: portwrap's socket is bound to it)" listening "$port"
# The clean-up process is the one that was forked with the listener open.
check "the clean-up process runs" eval "pgrep -P '$PW_PID' -x portwrap-clean >/dev/null"

ctl remove "127.0.0.1:$port"
expect_eq "ctl remove 127.0.0.1:$port: exit status" 0 "$?"
expect_eq "127.0.0.1:$port after remove" refused "$(connect_result 127.0.0.1 "$port" 2)"
check "ss lists no listener on $port after remove (handoff: no socket of portwrap's)" wait_until 5 not_listening "$port"
expect_eq "binding 127.0.0.1:$port after remove" listening "$(listen_result 127.0.0.1 "$port")"

added=$(ctl add 0:8080)
expect_eq "ctl add 0:8080: exit status" 0 "$?"
added_port=${added##*:}
check "the added forward $added is there (accepts; handoff: bound)" forward_there "$added_port"
ctl remove "$added"
expect_eq "ctl remove $added: exit status" 0 "$?"
expect_eq "$added after remove" refused "$(connect_result 127.0.0.1 "$added_port" 2)"
expect_eq "binding $added after remove" listening "$(listen_result 127.0.0.1 "$added_port")"

kill -TERM "$PW_PID"
pw_wait 30
expect_status "portwrap ends with SIGTERM" 143
pw_finish
