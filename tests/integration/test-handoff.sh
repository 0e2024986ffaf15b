#!/usr/bin/env bash
# handoff: the handoff port driver (issue 12). A server inside that binds a forwarded
# guest port gets the forward's host socket; everything users relied on with the relay
# still works. Each run uses --port-driver=handoff explicitly.
#  - the server's socket is the host side (getsockname), and -v says it was handed;
#  - with --pid-ns too;
#  - a busy host port fails before the command runs;
#  - a client that connects before the server binds is refused at once (portwrap holds
#    the port bound, not listening, and nobody else can listen on it), and served once
#    the server has bound;
#  - once the server has exited, clients are refused (reset), not left hanging, and
#    the port (even one the kernel picked) stays portwrap's; a server that starts
#    again takes it back;
#  - a client inside reaches the server at 127.0.0.1:GUEST;
#  - a server binding 127.0.0.1 and ::1 gets both binds; a bind to another port and a
#    UDP bind to the guest port happen inside, untouched;
#  - ::1 bound first, then 127.0.0.1 (getaddrinfo's order for "localhost" varies):
#    the IPv4 bind still gets the host socket; a dual-stack [::] server with only an
#    IPv4 forward is served through the relay;
#  - security (issue 11): a bind to 0.0.0.0:GUEST gets only the forward's host side,
#    never a wildcard; a bind to a port that is not forwarded gets no host socket;
#  - ctl add: a server that binds after it gets the host socket; ctl remove lets go
#    of portwrap's reference, the server keeps its socket;
#  - programs that install their own seccomp filter keep it and still get the port;
#    the filter sets no NO_NEW_PRIVS: a setuid program inside gains its owner's uid
#    (as the user with subordinate ids);
#  - the fallback: with the newer seccomp features unavailable (the test knob
#    PORTWRAP_TEST_NO_HANDOFF=1), the default driver is the relay and -v says why,
#    and --port-driver=handoff is refused with one line.
source "$(dirname "$0")/lib.sh"
pw_init
export PORTWRAP_TEST_DRIVER=handoff

srv=$PW_TMP/bin/hoserver.py
cat >"$srv" <<'PYEOF'
#!/usr/bin/python3
"""hoserver.py MODE PORT OUTDIR [NAME]: servers for the handoff test."""
import ctypes, errno, os, socket, sys, time

mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
name = sys.argv[4] if len(sys.argv) > 4 else "server"


def note(text):
    with open(os.path.join(out, name + ".log"), "a") as f:
        f.write(text + "\n")


def serve(s, count):
    s.settimeout(60)
    for _ in range(count):
        c, _ = s.accept()
        c.sendall(("hello-from-" + name + "\n").encode())
        c.close()


def own_filter():
    # A filter of the program's own: mkdir fails with EPERM (libseccomp through ctypes).
    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_init.restype = ctypes.c_void_p
    ctx = lib.seccomp_init(0x7FFF0000)  # SCMP_ACT_ALLOW
    nr = lib.seccomp_syscall_resolve_name(b"mkdir")
    lib.seccomp_rule_add(ctypes.c_void_p(ctx), 0x00050000 | errno.EPERM, nr, 0)  # SCMP_ACT_ERRNO(EPERM)
    nr = lib.seccomp_syscall_resolve_name(b"mkdirat")
    lib.seccomp_rule_add(ctypes.c_void_p(ctx), 0x00050000 | errno.EPERM, nr, 0)
    return lib.seccomp_load(ctypes.c_void_p(ctx))


if mode == "once":  # bind 127.0.0.1:PORT, report getsockname, serve one client
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    note("bound %s:%d" % s.getsockname())
    serve(s, 1)
elif mode == "any":  # bind 0.0.0.0:PORT
    s = socket.socket()
    s.bind(("0.0.0.0", port))
    s.listen(16)
    note("bound %s:%d" % s.getsockname())
    serve(s, 1)
elif mode == "both":  # 127.0.0.1:PORT and ::1:PORT; a UDP socket and another port inside
    four = socket.socket()
    four.bind(("127.0.0.1", port))
    four.listen(16)
    six = socket.socket(socket.AF_INET6)
    six.bind(("::1", port))
    six.listen(16)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    other = socket.socket()
    other.bind(("127.0.0.1", port + 1))
    other.listen(1)
    note("bound four=%s:%d six=[%s]:%d udp=%s:%d other=%s:%d" % (
        four.getsockname() + six.getsockname()[:2] + udp.getsockname() + other.getsockname()))
    serve(four, 1)
    serve(six, 1)
elif mode == "sixfirst":  # ::1:PORT first, then 127.0.0.1:PORT (as getaddrinfo may order "localhost")
    six = socket.socket(socket.AF_INET6)
    six.bind(("::1", port))
    six.listen(16)
    four = socket.socket()
    four.bind(("127.0.0.1", port))
    four.listen(16)
    note("bound six=[%s]:%d four=%s:%d" % (six.getsockname()[:2] + four.getsockname()))
    serve(four, 1)
elif mode == "dual":  # [::]:PORT, IPv4 too (IPV6_V6ONLY off)
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(16)
    note("bound [%s]:%d" % s.getsockname()[:2])
    serve(s, 1)
elif mode == "flip":  # the TOCTOU attack: another process flips the sockaddr during bind()
    # The sockaddr lives in memory shared with a forked flipper: a thread would share
    # the GIL with the binding thread and could sit idle through every bind, leaving
    # the address unflipped (or stuck on the unforwarded port) for a whole run.
    import ctypes.util, mmap
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    class In(ctypes.Structure):
        _fields_ = [("family", ctypes.c_ushort), ("port", ctypes.c_ushort), ("addr", ctypes.c_uint32),
                    ("zero", ctypes.c_char * 8)]
    class Shared(ctypes.Structure):
        _fields_ = [("sa", In), ("flips", ctypes.c_uint64), ("stop", ctypes.c_uint32)]
    forwarded, other = socket.htons(port), socket.htons(port + 2)
    wide, loop = 0, socket.htonl(0x7F000001)  # 0.0.0.0, 127.0.0.1
    memory = mmap.mmap(-1, ctypes.sizeof(Shared))  # MAP_SHARED: the flipper writes, bind() reads
    shared = Shared.from_buffer(memory)
    sa = shared.sa
    sa.family, sa.port, sa.addr = socket.AF_INET, forwarded, wide
    kept = []

    def bind_once():  # where it bound (None: it failed), and whether a flip came meanwhile
        s = socket.socket()
        before = shared.flips
        rc = libc.bind(s.fileno(), ctypes.byref(sa), ctypes.sizeof(sa))
        raced = shared.flips != before
        if rc != 0:
            s.close()
            return None, raced
        s.listen(1)
        kept.append(s)
        return "%s:%d" % s.getsockname(), raced

    # Control, with nothing flipping yet: a bind to 0.0.0.0:PORT gets the host side.
    note("control before %s" % bind_once()[0])
    flipper = os.fork()
    if flipper == 0:
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: it never outlives the command
        i = 0
        while not shared.stop:
            sa.port = forwarded if i % 2 else other
            sa.addr = wide if i % 3 else loop
            i += 1
            shared.flips = i
        os._exit(0)
    # Each attempt counts as raced when the flipper rewrote the sockaddr while the
    # bind was pending, i.e. while portwrap read it and the kernel bound it. Bounded:
    # 200 raced binds, 20000 attempts or 20 seconds, whichever comes first.
    results, attempts, raced = {}, 0, 0
    deadline = time.time() + 20
    try:
        while raced < 200 and attempts < 20000 and time.time() < deadline:
            attempts += 1
            where, flipped = bind_once()
            raced += flipped
            if where:
                results[where] = results.get(where, 0) + 1
            if len(kept) > 20:
                for k in kept:
                    k.close()
                kept.clear()
    finally:
        shared.stop = 1
        os.waitpid(flipper, 0)
    for where in sorted(results):
        note("bound %s" % where)
    note("raced %d of %d binds (%s)" % (raced, attempts, ", ".join("%s %d" % r for r in sorted(results.items()))))
    for k in kept:
        k.close()
    # Control again, the flipper stopped: the attack left the forward working.
    sa.port, sa.addr = forwarded, wide
    note("control after %s" % bind_once()[0])
    note("done")
elif mode == "filtered":  # its own seccomp filter first, then bind
    rc = own_filter()
    try:
        os.mkdir(os.path.join(out, "made-by-filtered"))
        note("mkdir allowed (rc %d)" % rc)
    except PermissionError:
        note("mkdir denied by its own filter")
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen(16)
    note("bound %s:%d" % s.getsockname())
    serve(s, 1)
elif mode == "status":  # NoNewPrivs and Seccomp of a process inside
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("NoNewPrivs:", "Seccomp:")):
                note(line.replace("\t", " ").strip())
PYEOF
chmod 0755 "$srv"
out=$PW_TMP/out
mkdir -m 0777 "$out"
logof() { cat "$out/$1.log" 2>/dev/null; }
greet() { "$PY" "$PW_HELPER" greet-client 127.0.0.1 "$1" "${2:-10}"; }

# --- the server gets the host socket -------------------------------------------------
hp=$(free_port)
pw_start -v -p "$hp:8080" -- "$srv" once 8080 "$out" first
check "a host client reaches the server" wait_until 20 eval '[[ $(greet '"$hp"') == got:hello-from-first ]]'
pw_wait 30
expect_status "the server served one client and exited" 0
expect_eq "getsockname inside shows the host side" "bound 127.0.0.1:$hp" "$(logof first)"
check "-v says the socket was handed to the server" grep -q "handed 127.0.0.1:$hp to the server that bound port 8080 inside" "$PW_ERR"
check "-v names the driver" grep -q "port driver: handoff" "$PW_ERR"

# --- --pid-ns: the init forks the command, which still gets the host socket --------------
hp=$(free_port)
pw_start -v --pid-ns -p "$hp:8080" -- "$srv" once 8080 "$out" pidns
check "with --pid-ns, a host client reaches the server" wait_until 20 eval '[[ $(greet '"$hp"') == got:hello-from-pidns ]]'
pw_wait 30
expect_status "the --pid-ns server" 0
expect_eq "with --pid-ns, getsockname inside shows the host side" "bound 127.0.0.1:$hp" "$(logof pidns)"

# --- a busy host port fails before the command runs -------------------------------------
hp=$(free_port)
start_helper "$PW_TMP/hold.out" "$PY" "$PW_HELPER" hold 127.0.0.1 "$hp" "$PW_TMP/hold.ready"
wait_until 10 test -e "$PW_TMP/hold.ready" || fail "the holder did not start"
pw_run -p "$hp:8080" -- touch "$out/ran"
expect_status "a busy host port" 125
expect_one_error_line "a busy host port" "127.0.0.1:$hp"
check "the command did not run" test ! -e "$out/ran"
stop_helpers

# --- before the server binds, clients are refused at once; once it binds, served ----------
# portwrap holds the host port bound but not listening until the server's bind(): a
# client is not left waiting in a backlog for a server that may never come.
hp=$(free_port)
pw_start -v -p "$hp:8080" -- sh -c 'i=0; while [ ! -e "$0/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; exec "$1" once 8080 "$0" early' "$out" "$srv"
check "-v says the port is bound, its clients refused until the server binds" wait_until 20 grep -q \
    "bound 127.0.0.1:$hp, to hand to the server that binds port 8080 inside (refusing its clients until then)" "$PW_ERR"
expect_eq "a client before the server binds is refused at once" refused "$(connect_result 127.0.0.1 "$hp" 5)"
# Another user must not take the port meanwhile (bind with SO_REUSEADDR and listen).
other=$(free_port)
expect_eq "positive control: $PW_NOSUB_USER can listen on a free port" listening "$(as_user "$PW_NOSUB_USER" "$PY" "$PW_HELPER" listen-result 127.0.0.1 "$other")"
expect_eq "$PW_NOSUB_USER cannot take the port before the server binds" "error:Address already in use" \
    "$(as_user "$PW_NOSUB_USER" "$PY" "$PW_HELPER" listen-result 127.0.0.1 "$hp")"
touch "$out/go"
check "once the server has bound, a client is served" wait_until 20 eval '[[ $(greet '"$hp"') == got:hello-from-early ]]'
pw_wait 30
expect_status "the early server exited after one client" 0

# --- the server exits: clients are refused, not left hanging; a restart takes the port back --
# -p 0:8080: the port the kernel picked must stay the same across the restart.
pw_start -p 0:8080 --port-file "$PW_WORK/ports" -- sh -c '"$1" once 8080 "$0" one && i=0; while [ ! -e "$0/go-two" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; exec "$1" once 8080 "$0" two' "$out" "$srv"
wait_until 20 test -s "$PW_WORK/ports" || fail "no port file"
hp=$(cut -d: -f2 "$PW_WORK/ports")
check "the first server answers" wait_until 20 eval '[[ $(greet '"$hp"') == got:hello-from-one ]]'
check "with no server inside, a client is refused (not left hanging)" wait_until 20 eval \
    '[[ $(connect_result 127.0.0.1 '"$hp"' 5) == refused ]]'
# Another user must not take the port meanwhile: bind with SO_REUSEADDR and listen.
expect_eq "$PW_NOSUB_USER cannot take the port while no server holds it" "error:Address already in use" \
    "$(as_user "$PW_NOSUB_USER" "$PY" "$PW_HELPER" listen-result 127.0.0.1 "$hp")"
touch "$out/go-two"
check "the restarted server answers on the same host port" wait_until 20 eval '[[ $(greet '"$hp"') == got:hello-from-two ]]'
expect_eq "the restarted server got the same host side" "bound 127.0.0.1:$hp" "$(logof two)"
pw_wait 30
expect_status "both servers ended" 0

# --- a client inside reaches 127.0.0.1:GUEST ------------------------------------------------
hp=$(free_port)
pw_run -p "$hp:8080" -- sh -c '"$1" once 8080 "$0" inside & i=0; until [ -s "$0/inside.log" ] || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done; '"$PY"' "$2" greet-client 127.0.0.1 8080 10 > "$0/inside-client.txt"; wait' "$out" "$srv" "$PW_HELPER"
expect_status "server and client inside" 0
expect_eq "a client inside reaches the server at 127.0.0.1:8080" "got:hello-from-inside" "$(cat "$out/inside-client.txt" 2>/dev/null)"

# --- 127.0.0.1 and ::1; UDP and another port bind inside --------------------------------------
hp=$(free_port)
pw_start -p "$hp:8080" -- sh -c '"$1" both 8080 "$0" both & i=0; until [ -s "$0/both.log" ] || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done; '"$PY"' - <<E > "$0/six-client.txt"
import socket
c = socket.create_connection(("::1", 8080), timeout=10)
print(c.recv(100).decode().strip())
E
wait' "$out" "$srv"
check "both binds succeeded" wait_until 20 test -s "$out/both.log"
log "$(logof both)"
check "the IPv4 bind got the host side" grep -q "four=127.0.0.1:$hp " "$out/both.log"
check "the ::1 bind (no IPv6 forward) stayed inside on port 8080" grep -q "six=\[::1\]:8080 " "$out/both.log"
check "the UDP bind stayed inside" grep -q "udp=127.0.0.1:8080 " "$out/both.log"
check "the bind to another port stayed inside" grep -q "other=127.0.0.1:8081$" "$out/both.log"
check "a host client reaches the IPv4 socket" wait_until 10 eval '[[ $(greet '"$hp"') == got:hello-from-both ]]'
pw_wait 30
expect_status "the dual server served both" 0
expect_eq "a client inside reached the ::1 socket" "hello-from-both" "$(cat "$out/six-client.txt" 2>/dev/null)"
expect_eq "nothing else listens on the host port 8081" refused "$(connect_result 127.0.0.1 8081 2)"

# --- ::1 first, then 127.0.0.1: the IPv4 bind still gets the host socket -----------------
hp=$(free_port)
pw_start -p "$hp:8080" -- "$srv" sixfirst 8080 "$out" sixfirst
check "a host client reaches the server that bound ::1 first" wait_until 20 eval '[[ $(greet '"$hp"') == got:hello-from-sixfirst ]]'
pw_wait 30
expect_eq "::1 stayed inside, 127.0.0.1 got the host side" "bound six=[::1]:8080 four=127.0.0.1:$hp" "$(logof sixfirst)"

# --- [::] with IPv4 too and only an IPv4 forward: relayed, and it works ----------------------
hp=$(free_port)
pw_start -v -p "$hp:8080" -- "$srv" dual 8080 "$out" dual
check "a host client reaches the dual-stack server" wait_until 20 eval '[[ $(greet '"$hp"') == got:hello-from-dual ]]'
pw_wait 30
expect_eq "the dual-stack socket stayed inside" "bound [::]:8080" "$(logof dual)"
check "-v says the forward is relayed instead" grep -q "in a way the handoff cannot serve: relaying 127.0.0.1:$hp instead" "$PW_ERR"

# --- security: 0.0.0.0 gets only the forward's host side ------------------------------------
hp=$(free_port)
pw_start -p "127.0.0.2:$hp:8080" -- "$srv" any 8080 "$out" any
check "the server bound" wait_until 20 test -s "$out/any.log"
expect_eq "a bind to 0.0.0.0:8080 gets exactly the forward's host side" "bound 127.0.0.2:$hp" "$(logof any)"
# Positive control first: the forward's own address answers; then the wildcard's would-be addresses do not.
expect_eq "127.0.0.1:$hp (not the forward's address) is refused" refused "$(connect_result 127.0.0.1 "$hp" 2)"
expect_eq "127.0.0.3:$hp is refused" refused "$(connect_result 127.0.0.3 "$hp" 2)"
expect_eq "127.0.0.2:$hp (the forward's host side) reaches the server" got:hello-from-any \
    "$("$PY" "$PW_HELPER" greet-client 127.0.0.2 "$hp" 10)"
pw_wait 30

# --- security: flipping the sockaddr during bind() gains nothing --------------------------
# Another process rewrites the address and port while the command binds again and again
# (the TOCTOU bypass4netns warns of): each bind gets either the forward's host side or
# an address inside the namespace, never another host socket. Which of the two a raced
# bind gets depends on when the flip lands, so the host side is asserted on the binds
# made with the flipper still and stopped, before and after the attack.
hp=$(free_port)
pw_start -v -p "$hp:8080" -- "$srv" flip 8080 "$out" flip
check "the flipping command finished" wait_until 60 grep -sqx done "$out/flip.log"
log "flip results: $(tr '\n' ' ' <"$out/flip.log")"
grep -qx "control before 127.0.0.1:$hp" "$out/flip.log" || show_file "portwrap stderr (-v)" "$PW_ERR"
expect_eq "positive control: before the flipping, a bind to 0.0.0.0:8080 gets the host side" \
    "control before 127.0.0.1:$hp" "$(grep '^control before ' "$out/flip.log")"
check "the attack was in play: the sockaddr changed during some bind" grep -qE '^raced [1-9][0-9]* of ' "$out/flip.log"
unexpected=$(grep '^bound ' "$out/flip.log" | grep -vx -e "bound 127.0.0.1:$hp" -e "bound 0.0.0.0:8082" \
    -e "bound 127.0.0.1:8082" -e "bound 0.0.0.0:8080" -e "bound 127.0.0.1:8080")
expect_eq "no bind got anything but the forward's host side or an inside address" "" "$unexpected"
expect_eq "after the flipping, a bind to 0.0.0.0:8080 still gets the host side" \
    "control after 127.0.0.1:$hp" "$(grep '^control after ' "$out/flip.log")"
pw_wait 30
expect_eq "nothing listens on the host's 8082 (the flipped port)" refused "$(connect_result 127.0.0.1 8082 2)"

# --- its own seccomp filter; no NO_NEW_PRIVS ------------------------------------------------
hp=$(free_port)
pw_start -p "$hp:8080" -- sh -c '"$1" status 0 "$0" status && exec "$1" filtered 8080 "$0" filtered' "$out" "$srv"
check "a host client reaches the server that has its own filter" wait_until 20 eval '[[ $(greet '"$hp"') == got:hello-from-filtered ]]'
pw_wait 30
expect_status "the filtered server" 0
check "its own filter works (positive control: mkdir denied)" grep -q "mkdir denied by its own filter" "$out/filtered.log"
check "its bind still got the host side" grep -q "bound 127.0.0.1:$hp" "$out/filtered.log"
check "the command runs with NoNewPrivs 0 (setuid programs keep working)" grep -qx "NoNewPrivs: 0" "$out/status.log"
check "the command runs under a seccomp filter (the handoff's)" grep -qx "Seccomp: 2" "$out/status.log"

# --- ctl add: binds after it are handed off; ctl remove: the server keeps its socket ---------
ctl_sock=$PW_WORK/ctl.sock
hp=$(free_port)
pw_start -v --control-socket "$ctl_sock" -p 0:7070 -- sh -c 'i=0; while [ ! -e "$0/go-added" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; exec "$1" once 9090 "$0" added' "$out" "$srv"
check "the control socket appears" wait_until 20 test -S "$ctl_sock"
added=$(as_user "$PW_USER" "$PW_BIN" ctl "$ctl_sock" add "$hp:9090")
expect_eq "ctl add $hp:9090" "127.0.0.1:$hp" "$added"
touch "$out/go-added"
check "the server that binds after the add gets the host side" wait_until 20 grep -sqx "bound 127.0.0.1:$hp" "$out/added.log"
as_user "$PW_USER" "$PW_BIN" ctl "$ctl_sock" remove "$hp:9090" >/dev/null
expect_eq "ctl remove: exit status" 0 "$?"
expect_eq "after remove, the server still holds its socket and answers" got:hello-from-added "$(greet "$hp")"
pw_wait 30
expect_status "the added server" 0
expect_eq "once the server has closed it, the host port is free (refused)" refused "$(connect_result 127.0.0.1 "$hp" 2)"
check "-v says the socket was handed after the add" grep -q "handed 127.0.0.1:$hp to the server that bound port 9090 inside" "$PW_ERR"

# --- a setuid program inside still gains its owner's uid ---------------------------------------
# Only as the user with subordinate ids: a copy of id(1) owned by the host uid and gid
# that are 5 inside, mode 4755. Positive control: under setpriv --no-new-privs (what a
# filter installed with PR_SET_NO_NEW_PRIVS would impose) it does not.
if [[ $PW_AS == user ]]; then
    # The kernel honours the bit only when the file's uid and gid are both mapped inside.
    sub=$(awk -F: -v u="$PW_USER" '$1 == u { print $2; exit }' /etc/subuid)
    subg=$(awk -F: -v u="$PW_USER" '$1 == u { print $2; exit }' /etc/subgid)
    suid=$PW_TMP/bin/suid-id
    cp /usr/bin/id "$suid" && chown "$((sub + 5)):$((subg + 5))" "$suid" && chmod 4755 "$suid"
    hp=$(free_port)
    pw_run -p "$hp:8080" -- sh -c '"$1" -u > "$0/suid.txt"; setpriv --no-new-privs "$1" -u > "$0/suid-nnp.txt"' "$out" "$suid"
    expect_status "the setuid runs" 0
    expect_eq "positive control: with no_new_privs the setuid bit is ignored" "$PW_UID" "$(cat "$out/suid-nnp.txt" 2>/dev/null)"
    expect_eq "under the handoff filter a setuid program gets its owner's uid (5 inside)" 5 "$(cat "$out/suid.txt" 2>/dev/null)"
fi

# --- fallback: the newer seccomp features unavailable ------------------------------------------
hp=$(free_port)
PW_INNER=(env PORTWRAP_TEST_NO_HANDOFF=1)
PORTWRAP_TEST_DRIVER=auto pw_start -v -p "$hp:8080" -- "$srv" once 8080 "$out" fallback
check "with the knob, the relay serves" wait_until 20 eval '[[ $(greet '"$hp"') == got:hello-from-fallback ]]'
pw_wait 30
check "-v says the relay is used, and why" grep -q "port driver: relay (handoff unavailable: PORTWRAP_TEST_NO_HANDOFF=1" "$PW_ERR"
check "the server's socket stayed inside (relay)" grep -qx "bound 127.0.0.1:8080" "$out/fallback.log"
pw_run -p "$hp:8080" -- touch "$out/ran"
expect_status "--port-driver=handoff where it is unavailable" 125
expect_one_error_line "--port-driver=handoff where it is unavailable" "--port-driver=handoff is unavailable here" "PORTWRAP_TEST_NO_HANDOFF"
check "the command did not run" test ! -e "$out/ran"
PW_INNER=()

pw_finish
