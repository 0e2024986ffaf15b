#!/usr/bin/env bash
# ctl security: who may use the --control-socket and what it may bind; where portwrap
# puts Unix sockets and the port file (issue 11, items 2 and 7).
#  1. The command itself (with and without --map-root) runs `portwrap ctl SOCK add
#     0.0.0.0:0:22`, `add 127.0.0.1:0:22` and `list`: each is refused with one line,
#     nothing is printed, nothing is added (ctl list from outside, no new listener);
#     the same add from outside works (the positive control).
#  2. `portwrap ctl` reaching a socket served by another uid refuses before it sends
#     anything and prints nothing of the server's answer; served by the user's own
#     uid, the same fake server's answer is printed (the positive control).
#  3. `add` of a non-loopback address not given at start is refused, nothing bound;
#     given at start (--host-addr), it is bound.
#  4. A group-writable, non-sticky directory on the way to a unix: socket, the
#     control socket or the port file is refused; a sticky world-writable one is fine.
#  5. A stale socket whose owner file names another host is not replaced, and the
#     message names that host; one naming this host is replaced as before.
# Parts 1 and 3 run portwrap in a network namespace of the test's own (unshare --net),
# so that even the unchanged portwrap, which grants those requests, binds no wildcard
# address on the machine; ctl "from outside" enters that namespace with nsenter.
# shellcheck disable=SC2016  # the single-quoted scripts expand when they run
source "$(dirname "$0")/lib.sh"
PW_NEEDS_NOSUB=1
pw_init

ctl_sock=$PW_WORK/ctl.sock
# ctl_out ARGS...: portwrap ctl as the user, in portwrap's network namespace.
ctl_out() {
    nsenter --net="/proc/$PW_PID/ns/net" runuser -u "$PW_USER" -- \
        env "PATH=$PW_STD_PATH" "PWTEST_TAG=$PW_TAG" "$PW_BIN" ctl "$ctl_sock" "$@"
}
# tcp_listeners: portwrap's TCP listeners, in the network namespace it runs in. With the
# handoff driver a forward's host socket is only bound until a server inside binds the
# guest port (none does here), and ss lists listening sockets only: then portwrap's
# sockets that are bound and not connected (pwtest.py tcp-bound; it needs pidfd_getfd,
# which the kernel-4.18 run, with the relay, lacks).
driver=$(pw_driver)
tcp_listeners() {
    if [[ $driver == handoff ]]; then
        "$PY" "$PW_PYTEST" tcp-bound "$PW_PID" | sort
    else
        nsenter --net="/proc/$PW_PID/ns/net" ss -H -ltn | awk '{ print $4 }' | sort
    fi
}

# --- 1. the command may not use the control socket -------------------------------------
inside='bin=$0 sock=$1 n=0
for request in "add 0.0.0.0:0:22" "add 127.0.0.1:0:22" "list"; do
    n=$((n + 1))
    $bin ctl "$sock" $request >inside.$n.out 2>inside.$n.err
    echo $? >inside.$n.status
done
touch inside.done
i=0
while [ ! -e stop ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done'
requests=("add 0.0.0.0:0:22" "add 127.0.0.1:0:22" "list")
PW_OUTER=(unshare --net --)
for map_root in "" --map-root; do
    rm -f "$PW_WORK"/inside.* "$PW_WORK/stop"
    pw_start ${map_root:+"$map_root"} --control-socket "$ctl_sock" -p 127.0.0.1:0:8080 -- sh -c "$inside" "$PW_BIN" "$ctl_sock"
    what="the command${map_root:+ with $map_root}"
    check "$what ran its requests" wait_until 20 test -e "$PW_WORK/inside.done"
    for n in 1 2 3; do
        req="${requests[n - 1]}"
        expect_eq "$what: '$req': exit status" 1 "$(cat "$PW_WORK/inside.$n.status" 2>/dev/null)"
        expect_eq "$what: '$req': nothing on stdout" "" "$(cat "$PW_WORK/inside.$n.out" 2>/dev/null)"
        expect_eq "$what: '$req': one line on stderr" 1 "$(stderr_lines "$PW_WORK/inside.$n.err")"
        check "$what: '$req': told why ($(head -c 300 "$PW_WORK/inside.$n.err"))" \
            grep -q '^portwrap: refused: the requesting process (pid [0-9]*) is in another network namespace' \
            "$PW_WORK/inside.$n.err"
    done
    first=$(grep -oE 'listening on [^,]+' "$PW_ERR" | sed 's/listening on //')
    [[ -z $first ]] && first=$(ctl_out list | head -n 1 | sed 's/:8080\/tcp$//')
    expect_eq "$what: ctl list from outside shows only the forward given at start" "$first:8080/tcp" "$(ctl_out list)"
    expect_eq "$what: no listener was added" "$first" "$(tcp_listeners | tr '\n' ' ' | sed 's/ $//')"
    check "$what: portwrap told its user about the refusals" grep -q 'control socket: refused: the requesting process' "$PW_ERR"
    check "$what: the owner file beside the control socket names this host and portwrap" \
        test "$(cat "$ctl_sock.host" 2>/dev/null)" == "$(uname -n) $PW_PID"
    # the positive control: the same request from outside
    added=$(ctl_out add 127.0.0.1:0:22)
    expect_eq "$what: 'add 127.0.0.1:0:22' from outside: exit status" 0 "$?"
    expect_eq "$what: ... and it listens" "$(printf '%s\n' "$first" "$added" | sort | tr '\n' ' ' | sed 's/ $//')" \
        "$(tcp_listeners | tr '\n' ' ' | sed 's/ $//')"

    if [[ -z $map_root ]]; then
        # --- 3. add binds loopback, or an address given at start ---------------------
        for addr in 0.0.0.0 '[::]' 192.0.2.1; do
            ctl_out add "$addr:0:22" >"$PW_TMP/add.out" 2>"$PW_TMP/add.err"
            expect_eq "add $addr:0:22 (not given at start): exit status" 1 "$?"
            bare=${addr#[}
            bare=${bare%]}
            check "add $addr:0:22: says how to allow it ($(cat "$PW_TMP/add.err"))" \
                grep -qF "binds loopback addresses only, and $addr was not given when portwrap started: to allow it, start portwrap with --host-addr=$bare" "$PW_TMP/add.err"
        done
        expect_eq "after the refused adds only the two loopback listeners" 2 "$(tcp_listeners | wc -l)"
    fi
    touch "$PW_WORK/stop"
    pw_wait 30
    expect_status "$what: portwrap ends with the command" 0
    check "the control socket is removed" test ! -e "$ctl_sock"
    check "its owner file is removed" test ! -e "$ctl_sock.host"
done

# An address given at start (--host-addr) may be added.
rm -f "$PW_WORK/stop"
pw_start --host-addr=0.0.0.0 --control-socket "$ctl_sock" -p 127.0.0.1:0:8080 -- sh -c \
    'i=0; while [ ! -e stop ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done'
check "the control socket appears" wait_until 20 test -S "$ctl_sock"
added=$(ctl_out add 0.0.0.0:0:22)
expect_eq "add 0.0.0.0:0:22 with --host-addr=0.0.0.0: exit status" 0 "$?"
check "... it listens on $added" eval 'tcp_listeners | grep -qx "$added"'
touch "$PW_WORK/stop"
pw_wait 30
expect_status "portwrap ends with the command" 0
PW_OUTER=()

# --- 2. ctl talks only to a server of its own user -------------------------------------
fake_server=$PW_TMP/bin/fake-server.py
cat >"$fake_server" <<'PYEOF'
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o777)
s.listen(4)
s.settimeout(60)
open(log + ".ready", "w").close()
c, _ = s.accept()
c.settimeout(20)
got = b""
try:
    c.sendall(b"ok\nFAKE-BANNER-of-the-server\n")
    while not got.endswith(b"\n"):
        data = c.recv(4096)
        if not data:
            break
        got += data
except OSError:  # a timeout, or the client hung up before the answer was sent
    pass
with open(log, "w") as f:
    f.write(repr(got) + "\n")
c.close()
PYEOF
chmod 0644 "$fake_server"
other_user=root
[[ $PW_USER == root ]] && other_user=$PW_NOSUB_USER
for server_user in "$PW_USER" "$other_user"; do
    dir=$PW_TMP/fake-$server_user
    mkdir -m 0755 "$dir" && chown "$server_user:" "$dir"
    start_helper "$PW_TMP/fake-$server_user.out" runuser -u "$server_user" -- "$PY" "$fake_server" "$dir/s" "$dir/log"
    wait_until 10 test -e "$dir/log.ready" || fail "the fake server of $server_user did not start"
    as_user "$PW_USER" "$PW_BIN" ctl "$dir/s" list >"$PW_TMP/fake.out" 2>"$PW_TMP/fake.err"
    status=$?
    wait_until 20 test -s "$dir/log"
    if [[ $server_user == "$PW_USER" ]]; then
        expect_eq "a fake server of $PW_USER's own (the positive control): its answer is printed" \
            FAKE-BANNER-of-the-server "$(cat "$PW_TMP/fake.out")"
        expect_eq "... and it received the request" "b'list\\n'" "$(cat "$dir/log")"
    else
        expect_eq "a server of $server_user (uid $(id -u "$server_user")): exit status" 125 "$status"
        expect_eq "... nothing on stdout" "" "$(cat "$PW_TMP/fake.out")"
        check "... nothing of its answer anywhere" eval '! grep -q FAKE-BANNER "$PW_TMP/fake.out" "$PW_TMP/fake.err"'
        expect_eq "... one line on stderr" 1 "$(stderr_lines "$PW_TMP/fake.err")"
        check "... which says who serves it ($(cat "$PW_TMP/fake.err"))" \
            grep -qF "portwrap: refusing the control socket $dir/s: it is served by uid $(id -u "$server_user"), not by you (uid $PW_UID)" "$PW_TMP/fake.err"
        expect_eq "... the server received nothing" "b''" "$(cat "$dir/log")"
    fi
    stop_helpers
done

# --- 4. directories others could write to ----------------------------------------------
gw=$PW_TMP/group-writable
mkdir -m 0700 "$gw" "$gw/sub" && chown "$PW_USER:" "$gw" "$gw/sub" && chmod 0775 "$gw"
sticky=$PW_TMP/sticky
mkdir -m 1777 "$sticky" && chmod 1777 "$sticky"
for args in "-p unix:$gw/x.sock:8080" "-p unix:$gw/sub/x.sock:8080" "-p unix:$sticky/y.sock:8080 --control-socket $gw/ctl.sock" \
    "-p unix:$sticky/y.sock:8080 --port-file $gw/ports"; do
    # shellcheck disable=SC2086
    pw_run $args -- true
    expect_status "$args" 125
    expect_one_error_line "$args" "the directory $gw (mode 0775) is writable by its group and not sticky" "chmod g-w $gw"
done
check "nothing was created in the group-writable directory" test -z "$(find "$gw" -mindepth 1 ! -name sub)"
pw_run -p "unix:$sticky/x.sock:8080" --control-socket "$sticky/ctl.sock" --port-file "$sticky/ports" -- \
    sh -c 'test -S "$0/x.sock" && test -S "$0/ctl.sock" && test -s "$0/ports" && test -s "$0/x.sock.host"' "$sticky"
expect_status "a sticky world-writable directory (like /tmp) is fine; the files were there" 0
check "... and are removed on exit" test -z "$(ls -A "$sticky")"

# --- 5. a socket held by portwrap on another host ---------------------------------------
sock=$PW_WORK/shared.sock
make_stale() {  # a socket of the user's that nobody listens on, as a killed portwrap leaves
    as_user "$PW_USER" "$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
}
make_stale
as_user "$PW_USER" sh -c 'echo "login-elsewhere-7 4242" >"$0.host"' "$sock"
inode=$(stat -c %i "$sock")
pw_run -p "unix:$sock:8080" -- true
expect_status "a stale-looking socket whose owner file names another host" 125
expect_one_error_line "... is not replaced" "$sock" "portwrap on host login-elsewhere-7 (pid 4242) serves it" \
    "remove $sock and $sock.host"
expect_eq "... the socket is untouched" "$inode" "$(stat -c %i "$sock" 2>/dev/null)"
as_user "$PW_USER" sh -c 'echo "$(uname -n) 4242" >"$0.host"' "$sock"
pw_run -p "unix:$sock:8080" -- sh -c 'test -S "$0" && test "$(cat "$0.host")" = "$(uname -n) $PPID"' "$sock"
expect_status "one whose owner file names this host is replaced as before (and the owner file names this portwrap)" 0
check "... and removed on exit, with its owner file" test ! -e "$sock" -a ! -e "$sock.host"
make_stale
pw_run -p "unix:$sock:8080" -- true
expect_status "a stale socket without an owner file is replaced as before" 0

pw_finish
