#!/usr/bin/env bash
# dns: when the host's /etc/resolv.conf names only loopback resolvers (here: a
# dnsmasq the test runs on 127.0.0.153, seen through a resolv.conf bind-mounted in a
# private mount namespace), the command gets a resolv.conf naming 10.0.2.3, and a
# lookup inside reaches the host's resolver through libslirp. The host's file is
# untouched. With a non-loopback resolver, the command sees the host's file as is.
# --dns: the command's resolv.conf names exactly the given servers, in order, with
# the host's search and options lines; with --dns 127.0.0.1 and a dnsmasq that the
# command itself starts inside (--map-root, to bind port 53), a lookup resolves.
# dnsmasq answers one made-up name from its own table and forwards nothing.
source "$(dirname "$0")/lib.sh"
pw_init

dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[[ -x $dnsmasq ]] || fail "dnsmasq is not installed (scripts/install-deps.sh installs dnsmasq-base)"
resolver=127.0.0.153
name=portwrap-dns.test
answer=192.0.2.77

host_before=$(sha256sum /etc/resolv.conf)
loopback_conf=$PW_TMP/resolv.conf.loopback
printf 'nameserver %s\nsearch example.test\noptions edns0\n' "$resolver" >"$loopback_conf"
chmod 0644 "$loopback_conf"

start_helper "$PW_TMP/dnsmasq.log" "$dnsmasq" --keep-in-foreground --no-resolv --no-hosts --no-poll \
    --listen-address="$resolver" --bind-interfaces --port=53 --address="/$name/$answer" --pid-file= \
    --log-facility=-
answers() { [[ $(dig_host) == *"$answer"* ]]; }
dig_host() { "$PY" - "$resolver" "$name" <<'PYEOF'
import socket, struct, sys
server, name = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
try:
    s.sendto(q, (server, 53))
    r = s.recv(512)
    print(".".join(str(b) for b in r[-4:]))
except OSError:
    print("no answer")
PYEOF
}
wait_until 10 answers || fail "dnsmasq on $resolver did not answer"

# --- a loopback-only resolv.conf on the host: the command gets 10.0.2.3 -----------------
PW_OUTER=(unshare --mount --propagation private sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$loopback_conf")
pw_run -p "$(free_port)" -P 8080 -- /bin/sh -c 'cat /etc/resolv.conf; echo "lookup: $(getent hosts '"$name"')"'
PW_OUTER=()
expect_status "lookup inside through libslirp" 0
check "the command's resolv.conf names 10.0.2.3" grep -qx "nameserver 10.0.2.3" "$PW_OUT"
check "the loopback resolver is gone from it" eval "! grep -q '$resolver' '$PW_OUT'"
check "search and options lines are kept" eval "grep -qx 'search example.test' '$PW_OUT' && grep -qx 'options edns0' '$PW_OUT'"
check "$name resolves to $answer inside" grep -q "lookup: $answer" "$PW_OUT"
expect_eq "no warning on stderr" "" "$(cat "$PW_ERR")"

# --- a non-loopback resolver on the host: the command sees the host's file as is ---------
pw_run -p "$(free_port)" -P 8080 -- /bin/cat /etc/resolv.conf
expect_status "cat /etc/resolv.conf inside" 0
if grep -qE '^[[:space:]]*nameserver[[:space:]]+(127\.|::1)' /etc/resolv.conf; then
    log "(the host's own resolv.conf is loopback-only: the unchanged case is not checked here)"
else
    expect_eq "the command sees the host's resolv.conf unchanged" "$(cat /etc/resolv.conf)" "$(cat "$PW_OUT")"
fi

# --- --dns -----------------------------------------------------------------------------
PW_OUTER=(unshare --mount --propagation private sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$loopback_conf")
pw_run --dns 192.0.2.1 --dns fd00::3 -p "$(free_port)" -P 8080 -- /bin/cat /etc/resolv.conf
PW_OUTER=()
expect_status "--dns twice" 0
expect_eq "--dns: the servers in order, then the host's search and options" \
    "nameserver 192.0.2.1|nameserver fd00::3|search example.test|options edns0" \
    "$(grep -v '^#' "$PW_OUT" | paste -sd '|')"
inner_answer=192.0.2.88
pw_run --map-root --dns 127.0.0.1 -p "$(free_port)" -P 8080 -- /bin/sh -c '
    "$0" --keep-in-foreground --no-resolv --no-hosts --no-poll --listen-address=127.0.0.1 \
        --bind-interfaces --port=53 --address="/$1/$2" --pid-file= --user=root --group=root 2>/dev/null &
    for i in 1 2 3 4 5 6 7 8 9 10; do
        answer=$(getent hosts "$1") && break
        sleep 0.3
    done
    kill $!
    echo "lookup: $answer"' "$dnsmasq" "$name" "$inner_answer"
expect_status "--dns 127.0.0.1 with a resolver inside" 0
check "--dns 127.0.0.1: $name resolves to $inner_answer through the resolver inside" \
    grep -q "lookup: $inner_answer" "$PW_OUT"
pw_run --dns localhost -p "$(free_port)" -P 8080 -- true
expect_status "--dns localhost" 125
expect_one_error_line "--dns localhost" "invalid --dns 'localhost'"

expect_eq "the host's /etc/resolv.conf is untouched" "$host_before" "$(sha256sum /etc/resolv.conf)"
check "no temporary resolv.conf is left in /tmp" eval '! ls /tmp/portwrap-resolv.conf.* >/dev/null 2>&1'
stop_helpers
pw_finish
