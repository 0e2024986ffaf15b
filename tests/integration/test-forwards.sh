#!/usr/bin/env bash
# forwards: several -p at once, each kind of host side (issue 6, items 1-4).
# One portwrap with five forwards and --port-file:
#   -p 0:8080                  a free port on 127.0.0.1 (announced on stderr)
#   -p 127.0.0.2:HP2:8081      a fixed port on another address
#   -p [::1]:0:8080            IPv6 on the host
#   -p 0:5353/udp              UDP
#   -p unix:PATH:8080          an owner-only Unix socket
# and --print-url. Checks: the port file lists the five host sides in order; each TCP forward serves
# its own server's page, the UDP one echoes datagrams; the Unix socket is mode 0600,
# the user's, and another unprivileged user is refused; {guest-port} is the first
# forward's guest port; after SIGTERM every port is closed and the socket and the
# port file are gone. Then: a path that is a file or a live socket is refused (125,
# one line, untouched), a stale socket is replaced, and the socket is removed even
# when portwrap is killed with SIGKILL; -P with several -p is a usage error.
source "$(dirname "$0")/lib.sh"
pw_init

for n in 8080 8081; do
    mkdir -p "$PW_WORK/www$n"
    echo "page of the server on $n $PW_TAG" >"$PW_WORK/www$n/index.txt"
done
chown -R "$PW_USER:" "$PW_WORK"

sock=$PW_WORK/jupyter.sock
ports=$PW_WORK/ports
hp2=$(free_port)
# Both servers listen on [::] (dual stack): the slirp driver reaches IPv4 forwards at
# 10.0.2.100 and IPv6 ones at the guest's IPv6 address.
pw_start -p 0:8080 -p "127.0.0.2:$hp2:8081" -p '[::1]:0:8080' -p 0:5353/udp -p "unix:$sock:8080" \
    --port-file "$ports" --print-url 'http://{host}/lab at {port}' -- sh -c '
    /usr/bin/python3 -m http.server -b :: -d www8081 8081 >/dev/null 2>&1 &
    /usr/bin/python3 "$0" udp-echo 5353 &
    exec /usr/bin/python3 -m http.server -b :: -d www8080 "$1" >/dev/null 2>&1' "$PW_HELPER" '{guest-port}'

check "the port file appears" wait_until 20 test -s "$ports"
mapfile -t sides <"$ports"
show_file "port file" "$ports"
expect_eq "the port file has one line per forward" 5 "${#sides[@]}"
check "line 1: 127.0.0.1 and the port picked for -p 0" eval '[[ ${sides[0]} =~ ^127\.0\.0\.1:[1-9][0-9]*$ ]]'
expect_eq "line 2: the fixed forward" "127.0.0.2:$hp2" "${sides[1]:-}"
check "line 3: [::1] and a picked port" eval '[[ ${sides[2]} =~ ^\[::1\]:[1-9][0-9]*$ ]]'
check "line 4: a picked UDP port" eval '[[ ${sides[3]} =~ ^127\.0\.0\.1:[1-9][0-9]*/udp$ ]]'
expect_eq "line 5: the Unix socket" "unix:$sock" "${sides[4]:-}"
check "stderr shows the --print-url line for the first forward" grep -qxF "portwrap: http://${sides[0]}/lab at ${sides[0]##*:}" "$PW_ERR"
for i in 0 2 3; do
    check "stderr announces ${sides[$i]}" grep -qF "portwrap: listening on ${sides[$i]}, forwarded to port" "$PW_ERR"
done

page() {  # page URL [CURL OPTIONS...]: the body of URL/index.txt, or nothing
    local url=$1
    shift
    curl -sfg --max-time 5 "$@" "$url/index.txt" 2>/dev/null
}
expect_page() {  # expect_page WHAT PORT_INSIDE URL [CURL OPTIONS...]
    local what=$1 inside=$2 url=$3 got=""
    shift 3
    _fetch() { got=$(page "$url" "$@") && [[ -n $got ]]; }
    wait_until 20 _fetch "$@"
    expect_eq "$what serves the server on $inside" "page of the server on $inside $PW_TAG" "$got"
}
expect_page "-p 0:8080 (${sides[0]})" 8080 "http://${sides[0]}"
expect_page "-p 127.0.0.2:$hp2:8081" 8081 "http://127.0.0.2:$hp2"
expect_page "-p [::1]:0:8080 (${sides[2]})" 8080 "http://${sides[2]}"
udp=${sides[3]%/udp}
udp_reply() { "$PY" "$PW_HELPER" udp-ask 127.0.0.1 "${udp##*:}" ping; }
expect_eq "a datagram through -p 0:5353/udp comes back from the echo server inside" echo:ping "$(udp_reply)"

# The Unix socket: the user's alone.
expect_eq "mode and owner of $sock" "socket 600 $PW_USER" "$(stat -c '%F %a %U' "$sock" 2>&1)"
got=""
_fetch_unix() { got=$(as_user "$PW_USER" curl -sf --max-time 5 --unix-socket "$sock" http://portwrap/index.txt) && [[ -n $got ]]; }
wait_until 20 _fetch_unix
expect_eq "$PW_USER fetches the page through the Unix socket" "page of the server on 8080 $PW_TAG" "$got"
unix_connect() {  # unix_connect USER: connected | denied | error:...
    as_user "$1" "$PY" - "$sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
    print("connected")
except PermissionError:
    print("denied")
except OSError as e:
    print("error:" + (e.strerror or str(e)))
EOF
}
expect_eq "another unprivileged user ($PW_NOSUB_USER) cannot connect to the Unix socket" denied \
    "$(unix_connect "$PW_NOSUB_USER")"

kill -TERM "$PW_PID"
pw_wait 30
expect_status "the servers end with SIGTERM through portwrap" 143
expect_eq "${sides[0]} is closed" refused "$(connect_result 127.0.0.1 "${sides[0]##*:}" 2)"
expect_eq "127.0.0.2:$hp2 is closed" refused "$(connect_result 127.0.0.2 "$hp2" 2)"
check "the Unix socket is removed" test ! -e "$sock"
check "the port file is removed" test ! -e "$ports"

# --- what may not be replaced -------------------------------------------------------
echo "keep me" >"$sock"
chown "$PW_USER:" "$sock"
pw_run -p "unix:$sock:8080" -- true
expect_status "a regular file at the socket path" 125
expect_one_error_line "a regular file at the socket path" "$sock" "not a socket"
expect_eq "the file is untouched" "keep me" "$(cat "$sock")"
rm -f "$sock"

live_ready=$PW_WORK/live.ready  # the helper runs as $PW_USER
start_helper "$PW_TMP/live.log" runuser -u "$PW_USER" -- "$PY" -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
open(sys.argv[2], "w").close()
time.sleep(60)' "$sock" "$live_ready"
wait_until 10 test -e "$live_ready" || fail "the live socket helper did not start"
pw_run -p "unix:$sock:8080" -- true
expect_status "a socket a running program listens on" 125
expect_one_error_line "a socket a running program listens on" "$sock" "running program listens"
stop_helpers
check "the live program's socket is still there" test -S "$sock"

# What the stopped helper left is a stale socket: portwrap takes its place.
pw_start -p "unix:$sock:8080" -- /usr/bin/python3 -m http.server -b :: -d www8080 8080
got=""
wait_until 20 _fetch_unix
expect_eq "a stale socket of the user's is replaced and serves" "page of the server on 8080 $PW_TAG" "$got"
# SIGKILL: portwrap cannot clean up itself; its clean-up process does.
kill -KILL "$PW_PID"
pw_wait 30
check "after SIGKILL the Unix socket is removed" wait_until 5 test ! -e "$sock"

# --- usage ---------------------------------------------------------------------------
pw_run -p 1 -p 2 -P 3 -- true
expect_status "-P with two -p" 125
expect_one_error_line "-P with two -p" "-P/--guest-port goes with a single -p"

pw_finish
