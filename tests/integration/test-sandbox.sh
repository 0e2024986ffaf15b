#!/usr/bin/env bash
# sandbox: once the command runs, portwrap's own process is confined (no new
# privileges, a seccomp allow-list). Its self-test hook tries to create a file, to
# open sockets of families the loop never needs (Unix, netlink, raw), to connect to a
# Unix socket the test listens on (as a compromised packet parser would reach the
# user's D-Bus or ssh-agent) and to exec a program: each must fail with EPERM, the
# file must not exist and the listener must see no connection. The relay keeps
# working under the filter, for UDP too (libslirp's outbound path).
source "$(dirname "$0")/lib.sh"
pw_init

# --- the self-test hook ---------------------------------------------------------------------
forbidden=$PW_WORK/created-by-portwrap
# A Unix listener anyone may connect to: it records every connection it gets.
unix_log=$PW_TMP/unix-listener.log
start_helper "$unix_log" "$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
s.listen(4)
print("listening", flush=True)
s.settimeout(60)
while True:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    print("connection:", c.recv(64).decode().strip() or "(nothing sent)", flush=True)
' "$forbidden.sock"
wait_until 10 grep -q listening "$unix_log" || fail_later "the Unix listener did not start"
# Positive control: the user can reach that socket from outside the sandbox.
as_user "${PW_USER}" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"control\n")
' "$forbidden.sock" || fail_later "the user cannot connect to the Unix listener (positive control)"
wait_until 10 grep -q "connection: control" "$unix_log" || fail_later "the listener saw no control connection"
PW_INNER=(env "PORTWRAP_SANDBOX_SELFTEST=$forbidden")
pw_run -p "$(free_port)" -P 8080 -- /bin/sh -c 'exit 7'
PW_INNER=()
expect_status "command status with the sandbox self-test" 7
check "creating a file for writing was refused" grep -q "sandbox self-test: open for writing: Operation not permitted" "$PW_ERR"
for family in AF_UNIX AF_NETLINK "AF_INET raw"; do
    check "a $family socket was refused" grep -q "sandbox self-test: $family socket: Operation not permitted" "$PW_ERR"
done
check "a Unix socketpair was refused" grep -q "sandbox self-test: socketpair: Operation not permitted" "$PW_ERR"
check "connecting to a Unix socket was refused" \
    grep -q "sandbox self-test: connect to a Unix socket: Operation not permitted" "$PW_ERR"
check "executing /bin/true was refused" grep -q "sandbox self-test: execve: Operation not permitted" "$PW_ERR"
check "the file does not exist" test ! -e "$forbidden"
stop_helpers
check "the Unix listener got only the control connection" \
    test "$(grep -c connection: "$unix_log")" = 1

# --- the running process is confined; UDP still flows through libslirp -------------------------
udp_port=$(free_port)
start_helper "$PW_TMP/udp-echo.log" "$PY" "$PW_HELPER" udp-echo "$udp_port" 127.0.0.1 60
result=$PW_WORK/udp-result
# The command stays (sleep 30) so that the test can look at the running portwrap; the
# test ends it with SIGTERM.
pw_start --allow-host-loopback -p "$(free_port)" -P 8080 -- sh -c \
    '/usr/bin/python3 "$0" udp-ask 10.0.2.2 "$1" ping 10 >"$2.tmp"; mv "$2.tmp" "$2"; exec sleep 30' \
    "$PW_HELPER" "$udp_port" "$result"
if wait_until 30 test -s "$result"; then
    expect_eq "UDP answer from the host's 127.0.0.1 through 10.0.2.2 under the sandbox" "echo:ping" "$(cat "$result")"
else
    fail_later "the command wrote no UDP result within 30 s"
fi
if [[ -n $PW_PID ]]; then
    expect_eq "NoNewPrivs of the running portwrap" 1 "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$PW_PID/status")"
    expect_eq "Seccomp mode of the running portwrap (2 = filter)" 2 "$(awk '/^Seccomp:/ {print $2}' "/proc/$PW_PID/status")"
    kill -TERM "$PW_PID"
fi
pw_wait 20
expect_status "command ended by SIGTERM through portwrap" 143
stop_helpers

pw_finish
