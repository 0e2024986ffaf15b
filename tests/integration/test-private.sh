#!/usr/bin/env bash
# private ports: only GUEST_PORT is reachable from the host. A second server inside,
# on another port, is up (checked from inside the namespace) but connecting to it on
# the host's 127.0.0.1 is refused, while the forwarded port answers.
source "$(dirname "$0")/lib.sh"
pw_init

mkdir -p "$PW_WORK/public" "$PW_WORK/private"
echo "public page" >"$PW_WORK/public/page.txt"
echo "private page" >"$PW_WORK/private/page.txt"
chown -R "$PW_USER:" "$PW_WORK/public" "$PW_WORK/private"

# Runs inside the namespace: two HTTP servers; stops both on TERM.
cat >"$PW_TMP/bin/two-servers.sh" <<'EOF'
#!/bin/sh
# usage: two-servers.sh DIR PUBLIC_PORT PRIVATE_PORT PIDFILE
cd "$1" || exit 2
/usr/bin/python3 -m http.server "$3" --bind 0.0.0.0 --directory private >private.log 2>&1 &
priv=$!
/usr/bin/python3 -m http.server "$2" --bind 0.0.0.0 --directory public >public.log 2>&1 &
pub=$!
trap 'kill $priv $pub 2>/dev/null; wait; exit 0' TERM INT HUP
echo $$ >"$4"
wait
EOF
chmod 0755 "$PW_TMP/bin/two-servers.sh"

hp=$(free_port)
priv=$(free_port)  # a port nothing on the host listens on
gp=8080
[[ $priv != "$gp" ]] || priv=$(free_port)
cmd_pidfile=$PW_TMP/pids/two-servers
pw_start -p "$hp" -P "$gp" -- /bin/sh "$PW_TMP/bin/two-servers.sh" "$PW_WORK" '{guest-port}' "$priv" "$cmd_pidfile"
log "portwrap pid $PW_PID: 127.0.0.1:$hp -> 10.0.2.100:$gp; private server inside on port $priv"

body=$PW_TMP/body.txt
fetch_public() { curl -sf --max-time 5 -o "$body" "http://127.0.0.1:$hp/page.txt"; }
if wait_until 30 fetch_public; then
    expect_eq "forwarded port 127.0.0.1:$hp serves the public page" "public page" "$(cat "$body")"
else
    fail_later "forwarded port 127.0.0.1:$hp gave no HTTP answer within 30s"
    show_file "portwrap stderr" "$PW_ERR"
fi

# The private server is up: fetch its page from inside the command's network namespace.
if wait_until 10 test -s "$cmd_pidfile"; then
    cmd_pid=$(<"$cmd_pidfile")
    track_pid "$cmd_pid"
    fetch_private_inside() {
        nsenter --target "$cmd_pid" --net -- curl -sf --max-time 5 -o "$body" "http://10.0.2.100:$priv/page.txt"
    }
    if wait_until 20 fetch_private_inside; then
        expect_eq "inside the namespace, 10.0.2.100:$priv serves the private page" "private page" "$(cat "$body")"
    else
        fail_later "the private server inside did not answer on 10.0.2.100:$priv (checked from inside)"
    fi
else
    fail_later "the command inside did not write its pid file"
fi

expect_eq "host 127.0.0.1:$priv (private port inside)" refused "$(connect_result 127.0.0.1 "$priv" 5)"
# portwrap itself listens on the host on exactly one TCP socket: HOST_ADDR:HOST_PORT.
listening=$(ss -Hltnp 2>/dev/null | grep -F "pid=$PW_PID," | awk '{print $4}' | sort | tr '\n' ' ')
expect_eq "host TCP sockets portwrap listens on" "127.0.0.1:$hp " "$listening"
# libslirp listens with a backlog of 1; portwrap raises it so that a browser's burst
# of connects is not dropped into 1-second SYN retries. ss shows the backlog as Send-Q.
backlog=$(ss -Hltn "sport = :$hp" 2>/dev/null | awk '{print $3}' | head -n 1)
# With the handoff driver the socket is the server's, with the backlog it asked for
# (python's http.server: 5), as on bare loopback.
if [[ $(pw_driver) == handoff ]]; then
    expect_eq "listen backlog of the handed-off port: the server's own" 5 "$backlog"
else
    check "listen backlog of the forwarded port ($backlog) is at least 128" test "${backlog:-0}" -ge 128
fi
check "curl to host 127.0.0.1:$priv fails" eval "! curl -s --max-time 5 -o /dev/null http://127.0.0.1:$priv/page.txt"
# Still forwarding after that.
check "forwarded port still answers" fetch_public

kill -TERM "$PW_PID"
pw_wait 20
expect_status "two servers stopped by SIGTERM through portwrap" 0

pw_finish
