#!/usr/bin/env bash
# ready: --ready-fd tells a script when the forwards reach a listening server
# (issue 6, item 6). portwrap's fd 3 is a file the test reads.
#  - The server inside starts listening only when the test says so: while portwrap
#    runs and the command waits, no report for 1 s (portwrap probes at least every
#    0.5 s); once the server listens it arrives (the positive control: the same probe
#    sees it), it lists every forward's host side (the picked port for -p 0), and once
#    it is there the forward answers at the first try.
#  - A command that never listens: the report never comes (the case above shows the
#    probe sees one when it comes); portwrap exits with the command's status.
#  - The command does not inherit the fd.
#  - --ready-fd naming a closed fd: exit 125, one line, the command never runs.
source "$(dirname "$0")/lib.sh"
pw_init

ready=$PW_TMP/ready
with_ready_fd() { PW_OUTER=(sh -c 'exec "$@" 3>"$0"' "$ready"); }

mkdir -p "$PW_WORK/www"
echo "ready page $PW_TAG" >"$PW_WORK/www/index.txt"
chown -R "$PW_USER:" "$PW_WORK/www"
hp=$(free_port)
: >"$ready"
with_ready_fd
pw_start -p "$hp:8080" -p '[::1]:0:8080' -p 0:5353/udp --ready-fd 3 -- sh -c \
    'touch started; i=0; while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    exec /usr/bin/python3 -m http.server -b :: -d www 8080 >/dev/null 2>&1'
PW_OUTER=()
# portwrap is up (its forwards listen) and the command runs, not listening yet.
check "the command runs inside" wait_until 20 test -e "$PW_WORK/started"
check "portwrap's forwards listen" wait_until 20 grep -q 'listening on' "$PW_ERR"
sleep 1  # the window in which a wrong report would come: portwrap probes every 0.5 s at most
check "portwrap is still running" pid_alive "$PW_PID"
expect_eq "no report while nothing listens inside (for 1 s)" 0 "$(stat -c %s "$ready")"
touch "$PW_WORK/go"
check "the report arrives once the server listens" wait_until 20 test -s "$ready"
# The first try, no retry: curl without --retry, one connection.
got=$(curl -sf --max-time 5 "http://127.0.0.1:$hp/index.txt" 2>&1)
expect_eq "right after the report, the forward answers at the first try" "ready page $PW_TAG" "$got"
mapfile -t lines <"$ready"
show_file "readiness report" "$ready"
expect_eq "the report has one line per forward" 3 "${#lines[@]}"
expect_eq "line 1: the fixed forward" "127.0.0.1:$hp" "${lines[0]:-}"
check "line 2: [::1] with the picked port" eval '[[ ${lines[1]:-} =~ ^\[::1\]:[1-9][0-9]*$ ]]'
check "line 3: the UDP forward" eval '[[ ${lines[2]:-} =~ ^127\.0\.0\.1:[1-9][0-9]*/udp$ ]]'
kill -TERM "$PW_PID"
pw_wait 30
expect_status "the server ends with SIGTERM through portwrap" 143

# A command that never listens: no report, its own exit status. It runs 1 s, the window
# in which a wrong report would come (the case above shows the probe would see it).
: >"$ready"
with_ready_fd
pw_run -p "$(free_port):8080" --ready-fd 3 -- sh -c 'ls /proc/self/fd; sleep 1; exit 4'
PW_OUTER=()
expect_status "a command that never listens" 4
expect_eq "no report for a server that never listened" 0 "$(stat -c %s "$ready")"
expect_eq "the command's fds: only 0, 1, 2 and ls's own directory fd" "0 1 2 3" "$(tr '\n' ' ' <"$PW_OUT" | sed 's/ $//')"

# A closed fd.
pw_run -p "$(free_port):8080" --ready-fd 9 -- sh -c 'touch "$1"' sh "$PW_WORK/ran"
expect_status "--ready-fd 9 (not open)" 125
expect_one_error_line "--ready-fd 9 (not open)" "--ready-fd 9" "not an open file descriptor"
check "the command never ran" test ! -e "$PW_WORK/ran"

pw_finish
