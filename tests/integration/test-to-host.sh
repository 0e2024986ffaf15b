#!/usr/bin/env bash
# to-host: -T/--to-host makes one port of the host's loopback reachable from inside,
# and nothing else of it.
#  - positive control: with --allow-host-loopback the command reaches both host
#    listeners A and B at 10.0.2.2 (so "not reached" below means blocked);
#  - with -T A: 127.0.0.1:A and [::1]:A inside reach the host's 127.0.0.1:A; the
#    other host listener B is reached neither at 127.0.0.1:B nor at 10.0.2.2:B, and A
#    not at 10.0.2.2:A either; the host listeners see only the allowed connections;
#  - -T GUEST:HOST maps a different port inside; -T 127.0.0.1:... listens there only;
#  - the command cannot listen on a -T port itself (EADDRINUSE, as documented);
#  - {host}, {host-port}, PORTWRAP_HOST, PORTWRAP_HOST_PORT and PORTWRAP_FORWARDS
#    name the port -p 0 picked, the one the host really accepts on.
source "$(dirname "$0")/lib.sh"
pw_init

# ---------------------------------------------------------------- two host services
a=$(free_port)
b=$(free_port)
[[ $a != "$b" ]] || b=$(free_port)
conns_a=$PW_TMP/a.conns
conns_b=$PW_TMP/b.conns
: >"$conns_a"
: >"$conns_b"
start_helper "$PW_TMP/a.log" "$PY" "$PW_HELPER" greeter 127.0.0.1 "$a" "$PW_TMP/a.ready" "$conns_a"
start_helper "$PW_TMP/b.log" "$PY" "$PW_HELPER" greeter 127.0.0.1 "$b" "$PW_TMP/b.ready" "$conns_b"
wait_until 10 test -e "$PW_TMP/a.ready" -a -e "$PW_TMP/b.ready" || fail "host listeners did not start"
log "host listeners on 127.0.0.1:$a (A) and 127.0.0.1:$b (B)"

# inside.sh TARGET...: for each HOST:PORT, one line "HOST:PORT RESULT" (greet-client's
# answer, 3 s timeout), run inside the namespace.
inside=$PW_TMP/bin/inside.sh
printf '%s\n' '#!/bin/sh' \
    'for target in "$@"; do' \
    '    echo "$target $(/usr/bin/python3 '"$PW_HELPER"' greet-client "${target%:*}" "${target##*:}" 3)"' \
    'done' >"$inside"
chmod 0755 "$inside"
result() { awk -v t="$1" '$1 == t { print $2 }' "$PW_OUT"; }

# ---------------------------------------------------------------- positive control
pw_run --allow-host-loopback -p "$(free_port)" -P 8080 -- "$inside" "10.0.2.2:$a" "10.0.2.2:$b"
expect_status "control: --allow-host-loopback" 0
expect_eq "control: with --allow-host-loopback, 10.0.2.2:$a (A) inside" got:hello-from-host "$(result "10.0.2.2:$a")"
expect_eq "control: with --allow-host-loopback, 10.0.2.2:$b (B) inside" got:hello-from-host "$(result "10.0.2.2:$b")"
wait_until 5 eval '[[ $(wc -l <"$conns_b") -ge 1 ]]'
: >"$conns_a"
: >"$conns_b"

# ---------------------------------------------------------------- -T A
has_ipv6=$("$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print("yes")' 2>/dev/null)
targets=("127.0.0.1:$a" "127.0.0.1:$b" "10.0.2.2:$a" "10.0.2.2:$b")
[[ $has_ipv6 == yes ]] && targets+=("::1:$a")
pw_run -T "$a" -p "$(free_port)" -P 8080 -- "$inside" "${targets[@]}"
expect_status "-T $a" 0
expect_eq "-T $a: 127.0.0.1:$a inside reaches the host's A" got:hello-from-host "$(result "127.0.0.1:$a")"
[[ $has_ipv6 == yes ]] &&
    expect_eq "-T $a: [::1]:$a inside reaches the host's A" got:hello-from-host "$(result "::1:$a")"
expect_eq "-T $a: 127.0.0.1:$b inside (the host's B) is the namespace's own, refused" refused "$(result "127.0.0.1:$b")"
blocked() { local r; r=$(result "$1"); [[ -n $r && $r != got:hello-from-host ]]; }
check "-T $a: 10.0.2.2:$b inside (the host's B) is blocked ($(result "10.0.2.2:$b"))" blocked "10.0.2.2:$b"
check "-T $a: 10.0.2.2:$a inside is blocked too ($(result "10.0.2.2:$a"))" blocked "10.0.2.2:$a"
expected_a=1
[[ $has_ipv6 == yes ]] && expected_a=2
wait_until 5 eval '[[ $(wc -l <"$conns_a") -ge $expected_a ]]'
expect_eq "the host's A accepted only the -T connections" "$expected_a" "$(wc -l <"$conns_a")"
expect_eq "the host's B accepted nothing" 0 "$(wc -l <"$conns_b")"
: >"$conns_a"

# ---------------------------------------------------------------- -T GUEST:HOST, -T ADDR:...
pw_run --to-host="7001:$a" -T "127.0.0.1:7002:$a" -p "$(free_port)" -P 8080 -- "$inside" \
    127.0.0.1:7001 127.0.0.1:7002 "127.0.0.1:$a"
expect_status "-T 7001:$a -T 127.0.0.1:7002:$a" 0
expect_eq "--to-host=7001:$a: 127.0.0.1:7001 inside reaches the host's A" got:hello-from-host "$(result 127.0.0.1:7001)"
expect_eq "-T 127.0.0.1:7002:$a: 127.0.0.1:7002 inside reaches the host's A" got:hello-from-host "$(result 127.0.0.1:7002)"
expect_eq "-T 7001:$a: 127.0.0.1:$a inside is not forwarded" refused "$(result "127.0.0.1:$a")"
if [[ $has_ipv6 == yes ]]; then
    pw_run -T "127.0.0.1:7002:$a" -p "$(free_port)" -P 8080 -- "$inside" ::1:7002
    expect_eq "-T 127.0.0.1:7002:$a listens on 127.0.0.1 only: [::1]:7002 inside" refused "$(result ::1:7002)"
fi

# ---------------------------------------------------------------- the port is taken inside
pw_run -T "$a" -p "$(free_port)" -P 8080 -- "$PY" -c "
import socket
try:
    socket.socket().bind(('127.0.0.1', $a))
    print('bound')
except OSError as e:
    print('errno', e.errno)"
expect_eq "the command cannot bind 127.0.0.1:$a, a -T port, itself" "errno 98" "$(cat "$PW_OUT")"

# ---------------------------------------------------------------- the host side in the command's hands
pw_run -p 0:8080 -p 127.0.0.1:0:53/udp -- sh -c \
    'printf "%s\n" "arg-host={host}" "arg-port={host-port}" "arg-guest={guest-port}" "env-host=$PORTWRAP_HOST" "env-port=$PORTWRAP_HOST_PORT" "env-forwards=$PORTWRAP_FORWARDS"'
expect_status "-p 0 with {host} and {host-port}" 0
picked=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+, forwarded to port 8080' "$PW_ERR" | grep -oE ':[0-9]+,' | tr -d ':,')
[[ -n $picked ]] || picked=none
check "portwrap reported the port -p 0 picked ($picked)" test "$picked" != none
field() { sed -n "s/^$1=//p" "$PW_OUT"; }
expect_eq "{host-port} is the picked port" "$picked" "$(field arg-port)"
expect_eq "{host} is the picked host side" "127.0.0.1:$picked" "$(field arg-host)"
expect_eq "{guest-port} still names the guest port" 8080 "$(field arg-guest)"
expect_eq "PORTWRAP_HOST_PORT" "$picked" "$(field env-port)"
expect_eq "PORTWRAP_HOST" "127.0.0.1:$picked" "$(field env-host)"
check "PORTWRAP_FORWARDS lists both forwards ($(field env-forwards))" \
    grep -qE "^env-forwards=127\.0\.0\.1:$picked:8080/tcp 127\.0\.0\.1:[0-9]+:53/udp$" "$PW_OUT"

# The picked port is the one the host accepts on, while the command runs.
pw_start -p 0 -P 8080 -- sh -c 'echo "{host-port}" > port.txt; exec /usr/bin/python3 -m http.server -b 127.0.0.1 8080 >/dev/null 2>&1'
wait_until 20 test -s "$PW_WORK/port.txt" || fail_later "the command wrote no port.txt"
port=$(cat "$PW_WORK/port.txt" 2>/dev/null)
check "the host accepts on {host-port} (${port:-none}), where the server inside answers" \
    wait_for_port 127.0.0.1 "${port:-0}" 20
kill -TERM "$PW_PID" 2>/dev/null
pw_wait 30

stop_helpers
pw_finish
