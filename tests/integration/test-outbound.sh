#!/usr/bin/env bash
# outbound: the namespace's network as the command sees it, and its way out to host
# loopback services.
#  - inside: tap0 has 10.0.2.100/24 and MTU 21885, the default route goes via 10.0.2.2;
#  - a listener on host 127.0.0.1:X is reached from inside at 10.0.2.2:X with
#    --allow-host-loopback, and is NOT reached without it (bounded 5 s timeouts);
#  - the host listener sees exactly the connections that were allowed;
#  - IPv6: tap0 has fd00::100/64 at once (no waiting for autoconfiguration), the
#    default route goes via fd00::2, and a listener on host [::1]:Y is reached at
#    [fd00::2]:Y only with --allow-host-loopback.
source "$(dirname "$0")/lib.sh"
pw_init

# --- network set-up inside -----------------------------------------------------------
pw_run -p "$(free_port)" -P 8080 -- sh -c 'ip -o -4 addr show dev tap0; echo; ip -o link show dev tap0; echo; ip -4 route show default'
expect_status "reading the network set-up inside" 0
addr=$(sed -n '1,/^$/p' "$PW_OUT" | grep -oE 'inet [0-9./]+' | head -n 1)
mtu=$(sed -n '/^$/,/^$/p' "$PW_OUT" | grep -oE 'mtu [0-9]+' | head -n 1)
route=$(grep -E '^default' "$PW_OUT" | grep -oE 'via [0-9.]+ dev [^ ]+' | head -n 1)
expect_eq "tap0's IPv4 address inside" "inet 10.0.2.100/24" "$addr"
expect_eq "tap0's MTU inside" "mtu 21885" "$mtu"
expect_eq "default route inside" "via 10.0.2.2 dev tap0" "$route"

# --- host loopback service -----------------------------------------------------------
x=$(free_port)
conns=$PW_TMP/greeter.conns
: >"$conns"
start_helper "$PW_TMP/greeter.log" "$PY" "$PW_HELPER" greeter 127.0.0.1 "$x" "$PW_TMP/greeter.ready" "$conns"
wait_until 10 test -e "$PW_TMP/greeter.ready" || fail "host listener on 127.0.0.1:$x did not start"
log "host listener on 127.0.0.1:$x"
expect_eq "host listener answers on the host itself" "got:hello-from-host" "$("$PY" "$PW_HELPER" greet-client 127.0.0.1 "$x" 5)"
wait_until 5 eval '[[ $(wc -l <"$conns") -ge 1 ]]'
: >"$conns"

# With --allow-host-loopback: 10.0.2.2:X inside is host 127.0.0.1:X.
pw_run --allow-host-loopback -p "$(free_port)" -P 8080 -- /usr/bin/python3 "$PW_HELPER" greet-client 10.0.2.2 "$x" 5
expect_status "with --allow-host-loopback, connecting to 10.0.2.2:$x inside" 0
expect_eq "with --allow-host-loopback, the command inside reads from 10.0.2.2:$x" "got:hello-from-host" "$(cat "$PW_OUT")"
wait_until 5 eval '[[ $(wc -l <"$conns") -ge 1 ]]'
expect_eq "connections the host listener accepted (allowed)" 1 "$(wc -l <"$conns")"
: >"$conns"

# Without it: no way to the host's loopback.
start_ms=$(_now_ms)
pw_run -p "$(free_port)" -P 8080 -- /usr/bin/python3 "$PW_HELPER" greet-client 10.0.2.2 "$x" 5
log "attempt without --allow-host-loopback: '$(cat "$PW_OUT")' after $(($(_now_ms) - start_ms)) ms"
expect_eq "without --allow-host-loopback, the command inside cannot connect to 10.0.2.2:$x (exit status of the client)" 1 "$PW_STATUS"
check "without --allow-host-loopback, nothing was read from 10.0.2.2:$x" eval "! grep -q hello-from-host '$PW_OUT'"
expect_eq "connections the host listener accepted (not allowed)" 0 "$(wc -l <"$conns")"

# And the same again with curl, as a user would try it.
pw_run -p "$(free_port)" -P 8080 -- curl -s --max-time 5 -o /dev/null "http://10.0.2.2:$x/"
check "without --allow-host-loopback, curl http://10.0.2.2:$x/ inside fails (exit $PW_STATUS)" test "$PW_STATUS" != 0
expect_eq "connections the host listener accepted (curl, not allowed)" 0 "$(wc -l <"$conns")"

# --- IPv6 ---------------------------------------------------------------------------
pw_run -p "$(free_port)" -P 8080 -- sh -c 'ip -o -6 addr show dev tap0 scope global; ip -6 route show default'
expect_status "reading the IPv6 set-up inside" 0
expect_eq "tap0's IPv6 address inside, right at the start" "inet6 fd00::100/64" \
    "$(grep -oE 'inet6 [0-9a-f:/]+' "$PW_OUT" | head -n 1)"
expect_eq "IPv6 default route inside" "via fd00::2 dev tap0" "$(grep -oE 'via [0-9a-f:]+ dev [^ ]+' "$PW_OUT" | head -n 1)"

y=$(free_port)
v6_ready=$PW_TMP/v6.ready
start_helper "$PW_TMP/v6.log" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::1", int(sys.argv[1]))); s.listen(8); s.settimeout(60)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept(); c.sendall(b"hello-from-host-v6\n"); c.close()' "$y" "$v6_ready"
wait_until 10 test -e "$v6_ready" || fail "host listener on [::1]:$y did not start"
v6_client='
import socket, sys
try:
    c = socket.create_connection(("fd00::2", int(sys.argv[1])), timeout=5)
    print(c.recv(100).decode().strip())
except OSError as e:
    print("error:" + (e.strerror or str(e)))'
pw_run --allow-host-loopback -p "$(free_port)" -P 8080 -- /usr/bin/python3 -c "$v6_client" "$y"
expect_eq "with --allow-host-loopback, [fd00::2]:$y inside is host [::1]:$y" hello-from-host-v6 "$(cat "$PW_OUT")"
pw_run -p "$(free_port)" -P 8080 -- /usr/bin/python3 -c "$v6_client" "$y"
check "without it, [fd00::2]:$y inside does not reach the host's [::1]:$y ($(cat "$PW_OUT"))" \
    eval '[[ $(cat "$PW_OUT") == error:* ]]'
stop_helpers

pw_finish
