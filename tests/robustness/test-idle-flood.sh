#!/usr/bin/env bash
# idle flood: another local user must not be able to make portwrap hold the owner's
# pipe pages or many fds with idle connections (issue 11, item 4).
# The attacker is another user: portwrap-test when portwrap runs as root, and
# portwrap-nosub when it runs as portwrap-test. It opens N idle connections to the
# owner's 127.0.0.1 forward (N = pipe-user-pages-soft / 32 + 100, 612 by default:
# enough for two 64 KiB pipes per connection to pass the owner's soft limit), and
# holds them. Then:
#  (a) portwrap's fd count grows by at most 2 per connection it holds (its two
#      sockets), and it holds no more pipes than before the flood;
#  (b) a pipe the owner creates now is still 64 KiB (F_GETPIPE_SZ), not the 8 KiB the
#      kernel gives past pipe-user-pages-soft. (Only the unprivileged owner can tell:
#      root's pipes are never shrunk.) The forward still answers the owner.
#  The relay runs the flood with --max-connections=0 (no limit), so that every idle
#  connection is held: what each one costs is measured, not the limit. (Set
#  IDLE_FLOOD_OPTIONS to run it otherwise, e.g. empty for an old binary without the
#  option: IDLE_FLOOD_OPTIONS= PORTWRAP=old/portwrap bash test-idle-flood.sh.)
#  (c) with --max-connections=3 and -v, three connections are held (one of them
#      PINGs), the 4th and 5th are reset at once (no hang), the first still answers
#      PING afterwards, and stderr says once that the limit was reached.
# With the slirp driver, (a) and (b) run (libslirp holds one fd per connection and no
# pipe) and --max-connections is refused as a usage error.
# With the handoff driver (the default here) the server accepts from its own socket in
# the host's namespace: portwrap holds nothing per connection, so the attack on
# portwrap does not exist, and the flood meets the server as on bare loopback. Then
# (a) portwrap's fd count stays flat while the flood's connections are established
# (the positive control: ss counts them on the host port), (b) as above, the owner
# still gets through (the test server accepts every connection), and (c)
# --max-connections applies to relayed connections only: the 4th and 5th are served
# by the server, and -v says nothing of the limit.
# Old code (commit 5417582) fails (a) and, as portwrap-test, (b): each idle connection
# held two pipes (six fds).
source "$(dirname "$0")/rlib.sh"
rb_init

driver=$(pw_driver)
default_flood_options=--max-connections=0
[[ $driver == slirp ]] && default_flood_options=""
read -r -a flood_options <<<"${IDLE_FLOOD_OPTIONS-$default_flood_options}"
if [[ $PW_USER == root ]]; then attacker=$PW_TEST_USER; else attacker=$PW_NOSUB_USER; fi
soft=$(cat /proc/sys/fs/pipe-user-pages-soft)
n=$((soft > 0 ? soft / 32 + 100 : 300))
((n > 1500)) && n=1500

# The attacker's client: N idle connections, held until a stop file appears.
attack=$PW_TMP/bin/attack.py
cat >"$attack" <<'EOF'
#!/usr/bin/python3
# attack.py PORT N DIR: connects N times to 127.0.0.1:PORT (each within 5 s) and writes
# DIR/connected; once DIR/go exists, writes "held reset failed" to DIR/result (held:
# still open; reset: closed by portwrap); holds them until DIR/stop exists; closes all.
# Every wait is bounded (120 s in all).
import errno, os, resource, socket, sys, time
port, n, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
deadline = time.monotonic() + 120
def wait_for(name):
    while not os.path.exists(os.path.join(d, name)) and time.monotonic() < deadline:
        time.sleep(0.05)
def put(name, text):
    with open(os.path.join(d, name + ".tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))
socks, failed = [], 0
for _ in range(n):
    if time.monotonic() > deadline:
        break
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    except OSError:
        failed += 1
put("connected", f"{len(socks)}\n")
wait_for("go")
held = reset = 0
for s in socks:
    s.setblocking(False)
    try:
        data = s.recv(1, socket.MSG_PEEK)
        reset += 1  # b"": closed
    except BlockingIOError:
        held += 1
    except OSError:
        reset += 1
put("result", f"{held} {reset} {failed}\n")
wait_for("stop")
for s in socks:
    s.close()
EOF
chmod 0755 "$attack"

# pipes_of PID: how many of PID's fds are pipes.
pipes_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -lname 'pipe:*' 2>/dev/null | wc -l; }
# owner_pipe_size: F_GETPIPE_SZ of a fresh pipe made by the owner.
owner_pipe_size() {
    as_user "$PW_USER" "$PY" -c 'import fcntl, os; r, w = os.pipe(); print(fcntl.fcntl(w, fcntl.F_GETPIPE_SZ))'
}
# accept_queue PORT: connections waiting in the listen backlog of 127.0.0.1:PORT.
accept_queue() { ss -Hltn "sport = :$1" | awk '{print $2; exit}'; }

log "attacker: $attacker; $n idle connections (pipe-user-pages-soft is $soft pages); driver $driver"
expect_eq "a fresh pipe of $PW_USER before the flood (bytes)" 65536 "$(owner_pipe_size)"

# --- (a), (b): the flood ------------------------------------------------------------------
hp=$(free_port)
if rb_start_server "$hp" "${flood_options[@]}"; then
    rb_client 20 ping 127.0.0.1 "$hp" 5  # the first connection: any spare pipe now exists
    expect_eq "the forward answers before the flood" ok "$RB_OUT"
    fds0=$(pw_fd_count "$PW_PID")
    pipes0=$(pipes_of "$PW_PID")
    log "before the flood: portwrap holds $fds0 fds, $pipes0 of them pipes"
    flood=$PW_TMP/flood
    mkdir -m 0777 "$flood"
    start_helper "$PW_TMP/attack.log" runuser -u "$attacker" -- "$PY" "$attack" "$hp" "$n" "$flood"
    if wait_until 90 test -e "$flood/connected"; then
        drained() { [[ $(accept_queue "$hp") == 0 ]]; }
        if [[ $driver == handoff ]]; then
            check "the server took every connection from its backlog" wait_until 30 drained
        else
            check "portwrap took every connection from the backlog" wait_until 30 drained
        fi
        touch "$flood/go"
        wait_until 30 test -e "$flood/result" || fail_later "the attacker did not report"
        read -r held reset failed <"$flood/result" 2>/dev/null || held=0 reset=0 failed=0
        fds1=$(pw_fd_count "$PW_PID")
        pipes1=$(pipes_of "$PW_PID")
        log "attacker: $held connections held, $reset reset by portwrap, $failed failed to connect"
        log "during the flood: portwrap holds $fds1 fds, $pipes1 of them pipes"
        if [[ $driver == handoff ]]; then
            established=$(ss -Htn state established "( sport = :$hp )" | wc -l)
            log "established connections on the host port $hp: $established"
            check "the attacker holds connections to the server ($held)" test "$held" -gt 0
            check "positive control: the host port has at least $held established connections ($established)" \
                test "$established" -ge "$held"
            check "(a) handoff: portwrap's fds stay flat during the flood: $fds0 -> $fds1 for $held" \
                test "$fds1" -le "$fds0"
        else
            check "the attacker holds connections through portwrap ($held)" test "$held" -gt 0
            check "(a) portwrap's fds grew by at most 2 per held connection: $fds0 -> $fds1 for $held" \
                test $((fds1 - fds0)) -le $((2 * held))
        fi
        check "(a) portwrap holds no more pipes for idle connections: $pipes0 -> $pipes1" test "$pipes1" -le "$pipes0"
        size=$(owner_pipe_size)
        if [[ $PW_USER == root ]]; then
            log "(b) root's pipes are never shrunk (CAP_SYS_RESOURCE): a fresh one is $size bytes"
        fi
        expect_eq "(b) a fresh pipe of $PW_USER during the flood (bytes)" 65536 "$size"
        rb_client 20 ping 127.0.0.1 "$hp" 5
        expect_eq "the forward still answers the owner during the flood" ok "$RB_OUT"
    else
        fail_later "the attacker did not finish connecting within 90 s"
        show_file "attacker" "$PW_TMP/attack.log"
    fi
    touch "$flood/stop"
    stop_helpers
    settled() { (($(pw_fd_count "$PW_PID") <= fds0)); }
    check "once the attacker closed them, portwrap's fds are back to $fds0" wait_until 30 settled
    rb_client 20 ping 127.0.0.1 "$hp" 5
    expect_eq "the forward answers after the flood" ok "$RB_OUT"
fi
[[ -n $PW_PID ]] && kill -TERM "$PW_PID"
pw_wait 30
expect_status "server ended by SIGTERM through portwrap" 143

# --- (c): --max-connections ---------------------------------------------------------------
if [[ $driver == slirp ]]; then
    pw_run --max-connections=3 -p "$(free_port)" -P "$RB_GP" -- true
    expect_status "--max-connections with --port-driver=slirp" 125
    expect_one_error_line "--max-connections with --port-driver=slirp" "--max-connections" "relay port driver only"
    pw_finish
fi
capcheck=$PW_TMP/bin/cap.py
cat >"$capcheck" <<'EOF'
#!/usr/bin/python3
# cap.py PORT: three connections (the first PINGs), then two more, which PING too: past
# the relay's limit they are reset or closed within 5 s (or answered: "pong"); then
# the first must still answer. Prints one line each.
import socket, sys
port = int(sys.argv[1])
def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=5)
def ping(s, token):
    s.sendall(f"PING {token}\n".encode())
    data = b""
    while not data.endswith(b"\n"):
        part = s.recv(100)
        if not part:
            break
        data += part
    return "ok" if data == f"PONG {token}\n".encode() else "bad:" + repr(data)
first = connect()
print("first:", ping(first, "a"))
held = [connect(), connect()]
for name in ("fourth", "fifth"):
    try:
        s = connect()  # the reset may come before connect() returns
        s.sendall(f"PING {name}\n".encode())
        data = s.recv(100)
        print(name + ":", "closed" if data == b"" else "pong" if data == f"PONG {name}\n".encode() else "data")
    except (ConnectionResetError, BrokenPipeError):
        print(name + ":", "reset")
    except socket.timeout:
        print(name + ":", "timeout")
print("first again:", ping(first, "b"))
EOF
chmod 0755 "$capcheck"
hp=$(free_port)
if rb_start_server "$hp" -v --max-connections=3; then
    out=$(as_user "$attacker" timeout -k 5 60 "$PY" "$capcheck" "$hp" 2>&1)
    sed 's/^/    | /' <<<"$out"
    expect_eq "(c) the first connection answers" "first: ok" "$(grep '^first:' <<<"$out")"
    if [[ $driver == handoff ]]; then
        # The server accepts from its own socket: no limit of portwrap's in the way.
        expect_eq "(c) handoff: the 4th connection is the server's, not limited" "fourth: pong" "$(grep '^fourth:' <<<"$out")"
        expect_eq "(c) handoff: the 5th connection is the server's, not limited" "fifth: pong" "$(grep '^fifth:' <<<"$out")"
        expect_eq "(c) handoff: -v says nothing of the limit" 0 "$(grep -c 'the --max-connections limit' "$PW_ERR")"
    else
        expect_eq "(c) the 4th connection past --max-connections=3" "fourth: reset" "$(grep '^fourth:' <<<"$out")"
        expect_eq "(c) the 5th connection past --max-connections=3" "fifth: reset" "$(grep '^fifth:' <<<"$out")"
        expect_eq "(c) -v says once that the limit was reached" 1 "$(grep -c 'the --max-connections limit' "$PW_ERR")"
    fi
    expect_eq "(c) the first connection still answers afterwards" "first again: ok" "$(grep '^first again:' <<<"$out")"
    grep 'the --max-connections limit' "$PW_ERR" | sed 's/^/    | /'
fi
[[ -n $PW_PID ]] && kill -TERM "$PW_PID"
pw_wait 30
expect_status "server ended by SIGTERM through portwrap" 143
pw_finish
