#!/usr/bin/env bash
# loopback-guard: a command run with --map-root holds CAP_NET_ADMIN and CAP_NET_RAW in
# its namespace, and tries to reach services bound only to the host's 127.0.0.1 and
# ::1 the ways it can:
#  - routing: route_localnet on tap0, the local routes for 127.0.0.1 and 127.0.0.0/8
#    deleted, 127.0.0.1/32 routed via 10.0.2.2 on tap0; then a TCP connect and a UDP
#    datagram to 127.0.0.1:PORT through the kernel;
#  - a packet socket on tap0: a TCP SYN and a UDP datagram written as raw frames to
#    127.0.0.1, 0.0.0.0, ::1, ::ffff:127.0.0.1 and ::, each on its own port.
# A recorder on the host (TCP and UDP, on 127.0.0.1 and ::1, on every port) notes
# what arrives. Positive control: with --allow-host-loopback the same run reaches every
# port (the attacks work). Without it nothing arrives, and -v names the first packet
# dropped and the count. After the frames, an ICMP echo to 10.0.2.2 (answered by
# libslirp itself) shows libslirp has read them all; after each run, a marker sent
# from the host to every recorder socket shows the recorder has read all it got.
source "$(dirname "$0")/lib.sh"
pw_init

# ---------------------------------------------------------------- helpers

inject=$PW_TMP/inject.py
cat >"$inject" <<'EOF'
#!/usr/bin/python3
"""inject.py [PROTO ADDR PORT]...: writes Ethernet frames onto tap0 through a packet
socket (needs CAP_NET_RAW in the namespace): a TCP SYN (PROTO tcp) or a UDP datagram
'injected' (udp) to each ADDR PORT, from 10.0.2.100 or fd00::100. Then an ICMP echo to
10.0.2.2 and its reply: libslirp has read every frame before it."""
import ipaddress, os, socket, struct, sys, time

GATEWAY_MAC = bytes.fromhex("52550a000202")  # libslirp's 10.0.2.2
SRC4, SRC6 = ipaddress.ip_address("10.0.2.100"), ipaddress.ip_address("fd00::100")
GATEWAY = ipaddress.ip_address("10.0.2.2")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def with_checksum(data, at):
    return data[:at] + struct.pack("!H", checksum(data)) + data[at + 2:]


def segment(proto, dport, pseudo):
    """A TCP SYN or UDP datagram with its checksum over the pseudo-header (libslirp checks it)."""
    if proto == "tcp":
        seg, nh, at = struct.pack("!HHIIBBHHH", 41000, dport, 4096, 0, 5 << 4, 0x02, 65535, 0, 0), 6, 16
    else:
        seg, nh, at = struct.pack("!HHHH", 41000, dport, 16, 0) + b"injected", 17, 6
    total = checksum(pseudo(nh, len(seg)) + seg) or 0xFFFF
    return seg[:at] + struct.pack("!H", total) + seg[at + 2:], nh


def ipv4(proto_number, dst, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto_number, 0,
                      SRC4.packed, dst.packed)
    return 0x0800, with_checksum(hdr, 10) + payload


def packet(proto, dst, dport):
    if dst.version == 4:
        seg, nh = segment(proto, dport, lambda nh, n: SRC4.packed + dst.packed + struct.pack("!BBH", 0, nh, n))
        return ipv4(nh, dst, seg, 1)
    seg, nh = segment(proto, dport, lambda nh, n: SRC6.packed + dst.packed + struct.pack("!I3xB", n, nh))
    return 0x86DD, struct.pack("!IHBB16s16s", 6 << 28, len(seg), nh, 64, SRC6.packed, dst.packed) + seg


def main(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind(("tap0", 0))
    mac = s.getsockname()[4]  # tap0's own address (/sys here is the host's)
    send = lambda ethertype, ip: s.send(GATEWAY_MAC + mac + struct.pack("!H", ethertype) + ip)
    for i in range(0, len(args), 3):
        proto, dst, port = args[i], ipaddress.ip_address(args[i + 1]), int(args[i + 2])
        send(*packet(proto, dst, port))
        print(f"wrote a {proto} frame to {dst} port {port}")
    ident = os.getpid() & 0xFFFF
    echo = with_checksum(struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"sync", 2)
    send(*ipv4(1, GATEWAY, echo, 2))
    s.settimeout(1)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            ip = s.recv(70000)[14:]
        except socket.timeout:
            continue
        if len(ip) >= 28 and ip[9] == 1 and ip[12:16] == GATEWAY.packed and ip[20] == 0 and ip[24:26] == struct.pack("!H", ident):
            print("sync: 10.0.2.2 answered")
            return 0
    print("sync: no echo reply from 10.0.2.2 within 10 s")
    return 1


sys.exit(main(sys.argv[1:]))
EOF

recorder=$PW_TMP/recorder.py
cat >"$recorder" <<'EOF'
#!/usr/bin/python3
"""recorder.py LOG READY NAME=PORT...: TCP and UDP on 127.0.0.1 and ::1 on each PORT;
appends 'NAME tcp4|udp4|tcp6|udp6 PAYLOAD' to LOG for every connection or datagram."""
import select, socket, sys, time

log = open(sys.argv[1], "a", buffering=1)
socks = {}
for arg in sys.argv[3:]:
    name, port = arg.split("=")
    for family, host, v in ((socket.AF_INET, "127.0.0.1", "4"), (socket.AF_INET6, "::1", "6")):
        for kind, proto in ((socket.SOCK_STREAM, "tcp"), (socket.SOCK_DGRAM, "udp")):
            s = socket.socket(family, kind)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, int(port)))
            if kind == socket.SOCK_STREAM:
                s.listen(16)
            socks[s] = f"{name} {proto}{v}"
open(sys.argv[2], "w").close()
end = time.monotonic() + 110
while time.monotonic() < end:
    ready, _, _ = select.select(list(socks), [], [], 1)
    for s in ready:
        if s.type == socket.SOCK_STREAM:
            c, _ = s.accept()
            c.settimeout(1)
            try:
                data = c.recv(100)
            except OSError:
                data = b""
            c.close()
        else:
            data, _ = s.recvfrom(2000)
        log.write(f"{socks[s]} {data.decode(errors='replace') or '-'}\n")
EOF
chmod 0755 "$inject" "$recorder"

# ---------------------------------------------------------------- the recorder

names=(routed v4 zero v6 mapped unspec6)
declare -A port
ports_args=()
for n in "${names[@]}"; do
    port[$n]=$(free_port)
    ports_args+=("$n=${port[$n]}")
done
records=$PW_TMP/records
: >"$records"
start_helper "$PW_TMP/recorder.log" "$PY" "$recorder" "$records" "$PW_TMP/recorder.ready" "${ports_args[@]}"
wait_until 10 test -e "$PW_TMP/recorder.ready" || { show_file "recorder" "$PW_TMP/recorder.log"; fail "the recorder did not start"; }
log "host recorder on 127.0.0.1 and ::1, ports: ${ports_args[*]}"

# flush_records TAG: sends TAG from the host to every recorder socket and waits until
# all have arrived, so everything that reached a socket before is in $records too.
flush_records() {
    "$PY" - "$1" "${ports_args[@]}" <<'EOF'
import socket, sys
tag = sys.argv[1].encode()
for arg in sys.argv[2:]:
    port = int(arg.split("=")[1])
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        socket.socket(family, socket.SOCK_DGRAM).sendto(tag, (host, port))
        c = socket.create_connection((host, port), timeout=5)
        c.sendall(tag)
        c.close()
EOF
    wait_until 10 _markers_in "$1" $((${#names[@]} * 4)) || fail_later "the recorder did not get all markers '$1'"
}
_markers_in() { [[ $(grep -c " $1\$" "$records") -ge $2 ]]; }

# arrived: what reached the host's loopback, markers left out, as sorted 'NAME PROTO'.
arrived() { grep -v ' marker-' "$records" | cut -d' ' -f1,2 | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# ---------------------------------------------------------------- the attack

# Runs inside, as root of the namespace: the routing steps (each must work, or the
# test is not testing anything), the connect and the datagram through the kernel,
# then the raw frames and the sync.
attack=$PW_TMP/attack.sh
cat >"$attack" <<EOF
echo 1 >/proc/sys/net/ipv4/conf/tap0/route_localnet &&
    ip route del local 127.0.0.1 dev lo table local &&
    ip route del local 127.0.0.0/8 dev lo table local &&
    ip route add 127.0.0.1/32 via 10.0.2.2 dev tap0 src 10.0.2.100 &&
    ip route get 127.0.0.1 | grep -q 'dev tap0' && echo "routing: 127.0.0.1 goes out on tap0"
$PY - ${port[routed]} <<'PYEOF'
import socket, sys
port = int(sys.argv[1])
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"routed", ("127.0.0.1", port))
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    print("routed connect: connected")
except OSError as e:
    print("routed connect: " + (e.strerror or str(e)))
PYEOF
$PY $inject tcp 127.0.0.1 ${port[v4]} udp 127.0.0.1 ${port[v4]} \\
    tcp 0.0.0.0 ${port[zero]} udp 0.0.0.0 ${port[zero]} \\
    tcp ::1 ${port[v6]} udp ::1 ${port[v6]} \\
    tcp ::ffff:127.0.0.1 ${port[mapped]} udp ::ffff:127.0.0.1 ${port[mapped]} \\
    tcp :: ${port[unspec6]} udp :: ${port[unspec6]}
EOF
chmod 0644 "$attack"

# Where each attack lands on the host: 0.0.0.0 and ::ffff:127.0.0.1 are the IPv4
# loopback, :: the IPv6 one.
everything="mapped tcp4 mapped udp4 routed tcp4 routed udp4 unspec6 tcp6 unspec6 udp6 v4 tcp4 v4 udp4 v6 tcp6 v6 udp6 zero tcp4 zero udp4"

# Positive control: with --allow-host-loopback the guard is off, as in portwrap
# before it: every attack reaches the host's loopback.
pw_run --map-root --allow-host-loopback -v -p "$(free_port)" -P 8080 -- sh "$attack"
expect_status "the attack with --allow-host-loopback" 0
check "the routing steps work in the namespace" grep -q '^routing: 127.0.0.1 goes out on tap0' "$PW_OUT"
check "libslirp answered the sync echo (with --allow-host-loopback)" grep -q '^sync: 10.0.2.2 answered' "$PW_OUT"
flush_records marker-allowed
expect_eq "what reached the host's loopback with --allow-host-loopback (the attacks work)" "$everything" "$(arrived)"
check "no guard message with --allow-host-loopback" eval "! grep -q 'dropped' '$PW_ERR'"
[[ $(arrived) == "$everything" ]] || { show_file "inside" "$PW_OUT"; show_file "stderr" "$PW_ERR"; }
: >"$records"

# The same without it: nothing arrives.
pw_run --map-root -v -p "$(free_port)" -P 8080 -- sh "$attack"
expect_status "the attack without --allow-host-loopback" 0
check "the routing steps work in the namespace (guarded run)" grep -q '^routing: 127.0.0.1 goes out on tap0' "$PW_OUT"
check "libslirp answered the sync echo: ICMP to 10.0.2.2 passes the guard" grep -q '^sync: 10.0.2.2 answered' "$PW_OUT"
flush_records marker-guarded
expect_eq "what reached the host's loopback without --allow-host-loopback" "" "$(arrived)"
check "-v names the first packet dropped and its destination" \
    grep -q '^portwrap: dropped a packet from the namespace to 127.0.0.1: ' "$PW_ERR"
check "-v counts the packets dropped at exit" grep -qE '^portwrap: dropped [0-9]+ packet\(s\) from the namespace' "$PW_ERR"
expect_eq "guard messages under -v (the first drop and the count)" 2 "$(grep -c 'dropped' "$PW_ERR")"
[[ -z $(arrived) ]] || { show_file "inside" "$PW_OUT"; show_file "records" "$records"; }
: >"$records"

# Without -v the guard says nothing.
pw_run --map-root -p "$(free_port)" -P 8080 -- sh -c "$PY $inject udp 127.0.0.1 ${port[v4]}"
expect_status "one injected datagram without -v" 0
check "without -v the guard prints nothing" eval "! grep -q 'dropped' '$PW_ERR'"
flush_records marker-quiet
expect_eq "what reached the host's loopback (one datagram, no -v)" "" "$(arrived)"

stop_helpers
pw_finish
