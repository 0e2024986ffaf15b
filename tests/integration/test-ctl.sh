#!/usr/bin/env bash
# ctl: --control-socket and `portwrap ctl` change the forwards while the command runs
# (issue 6, item 8).
#  - The socket is mode 0600 and the user's; another unprivileged user is refused.
#  - list shows the forwards as -p values; add prints the new host side, which then
#    serves (TCP and UDP); remove closes it (refused afterwards), while a download
#    already running through it completes with the right sha256.
#  - Bad requests (a taken port, a malformed forward, a unix: forward, an unknown
#    verb, removing what is not there) fail with one line and a non-zero status, and
#    the existing forwards keep working.
#  - The socket is removed when portwrap exits.
source "$(dirname "$0")/lib.sh"
PW_NEEDS_NOSUB=1
pw_init

for n in 8080 8081; do
    mkdir -p "$PW_WORK/www$n"
    echo "page of the server on $n $PW_TAG" >"$PW_WORK/www$n/index.txt"
done
head -c $((32 * 1024 * 1024)) /dev/urandom >"$PW_WORK/www8081/big.bin"
read -r big_sha _ < <("$PY" "$PW_HELPER" sha256 "$PW_WORK/www8081/big.bin")
chown -R "$PW_USER:" "$PW_WORK"

ctl_sock=$PW_WORK/ctl.sock
ctl() { as_user "$PW_USER" "$PW_BIN" ctl "$ctl_sock" "$@"; }
pw_start --control-socket "$ctl_sock" -p 0:8080 -- sh -c '
    /usr/bin/python3 -m http.server -b :: -d www8081 8081 >/dev/null 2>&1 &
    /usr/bin/python3 "$0" udp-echo 5353 &
    exec /usr/bin/python3 -m http.server -b :: -d www8080 8080 >/dev/null 2>&1' "$PW_HELPER"
check "the control socket appears" wait_until 20 test -S "$ctl_sock"
expect_eq "mode and owner of the control socket" "socket 600 $PW_USER" "$(stat -c '%F %a %U' "$ctl_sock")"
first=$(grep -oE 'listening on [^,]+' "$PW_ERR" | sed 's/listening on //')
page() { curl -sfg --max-time 5 "http://$1/index.txt" 2>/dev/null; }
_first_serves() { [[ $(page "$first") == "page of the server on 8080 $PW_TAG" ]]; }
check "the first forward ($first) serves" wait_until 20 _first_serves

expect_eq "list: the forward given at start" "$first:8080/tcp" "$(ctl list)"
as_user "$PW_NOSUB_USER" "$PW_BIN" ctl "$ctl_sock" list >"$PW_TMP/other.out" 2>"$PW_TMP/other.err"
expect_eq "another user ($PW_NOSUB_USER) is refused (exit status)" 125 "$?"
check "another user is told: permission denied" grep -q "Permission denied" "$PW_TMP/other.err"

# add
added=$(ctl add 0:8081)
expect_eq "add 0:8081: exit status" 0 "$?"
log "added $added"
_added_serves() { [[ $(page "$added") == "page of the server on 8081 $PW_TAG" ]]; }
check "the added forward ($added) serves the server on 8081" wait_until 20 _added_serves
udp=$(ctl add 0:5353/udp)
expect_eq "add 0:5353/udp: exit status" 0 "$?"
udp_port=${udp%/udp}
udp_port=${udp_port##*:}
udp_reply=$("$PY" "$PW_HELPER" udp-ask 127.0.0.1 "$udp_port" ping)
expect_eq "a datagram through the added UDP forward ($udp) comes back" echo:ping "$udp_reply"
expect_eq "list: all three, in order" "$first:8080/tcp $added:8081/tcp $udp_port:5353/udp" \
    "$(ctl list | tr '\n' ' ' | sed 's/ $//; s/127\.0\.0\.1:\([0-9]*:5353\)/\1/')"

# bad requests change nothing
bad() {  # bad WHAT EXPECTED_STATUS TEXT ARGS...
    local what=$1 status=$2 text=$3
    shift 3
    ctl "$@" >"$PW_TMP/bad.out" 2>"$PW_TMP/bad.err"
    expect_eq "$what: exit status" "$status" "$?"
    expect_eq "$what: one line on stderr" 1 "$(stderr_lines "$PW_TMP/bad.err")"
    check "$what: the message says '$text' ($(cat "$PW_TMP/bad.err"))" grep -qF -- "$text" "$PW_TMP/bad.err"
}
bad "add a port that is taken" 1 "Address already in use" add "$added:8080"
bad "add a malformed forward" 1 "too many ':'" add 1:2:3:4
bad "add a unix: forward" 1 "only be given when portwrap starts" add "unix:$PW_WORK/x.sock:8080"
bad "an unknown request" 125 "usage: portwrap ctl" frob
bad "remove what is not there" 1 "no forward 127.0.0.1:1/tcp" remove 127.0.0.1:1
check "after the bad requests the first forward still serves" _first_serves
check "after the bad requests the added forward still serves" _added_serves
expect_eq "after the bad requests the list is unchanged" 3 "$(ctl list | wc -l)"

# remove, with a download running through the forward
dl=$PW_TMP/big.dl
curl -sfg --max-time 60 --limit-rate 8M -o "$dl" "http://$added/big.bin" &
curl_pid=$!
track_pid "$curl_pid"
# The download is under way (its first bytes are here) and still running when the
# forward goes: otherwise "completes" below would not test a running connection.
check "the download through $added has started" wait_until 20 test -s "$dl"
check "the download is still running when $added is removed" eval 'pid_alive "$curl_pid" && (($(stat -c %s "$dl") < 32 * 1024 * 1024))'
ctl remove "$added"
expect_eq "remove $added: exit status" 0 "$?"
expect_eq "$added is refused after remove" refused "$(connect_result 127.0.0.1 "${added##*:}" 2)"
wait "$curl_pid"
expect_eq "the download that was running through the removed forward completes (curl status)" 0 "$?"
read -r got_sha _ < <("$PY" "$PW_HELPER" sha256 "$dl")
expect_eq "sha256 of that download" "$big_sha" "$got_sha"
check "list no longer shows it" eval '! ctl list | grep -qF "$added"'
bad "remove it again" 1 "no forward $added/tcp" remove "$added"

kill -TERM "$PW_PID"
pw_wait 30
expect_status "the servers end with SIGTERM through portwrap" 143
check "the control socket is removed" test ! -e "$ctl_sock"
pw_finish
