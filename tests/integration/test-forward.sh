#!/usr/bin/env bash
# forward: the forwarded host port reaches the server inside the namespace.
#  - a real HTTP GET of a known file through 127.0.0.1:HOST_PORT returns it;
#  - 200 requests made 20 at a time all get it;
#  - 64 MiB of random data go ns -> host (download) and host -> ns (upload) with
#    matching sha256 on both ends;
#  - --host-addr 127.0.0.2 listens there, and not on 127.0.0.1.
source "$(dirname "$0")/lib.sh"
pw_init

www=$PW_WORK/www
mkdir -p "$www"
echo "portwrap forward test page $PW_TAG" >"$www/index.txt"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$www/data.bin"
chown -R "$PW_USER:" "$www"
read -r data_sha data_size < <("$PY" "$PW_HELPER" sha256 "$www/data.bin")

# --- HTTP server inside, GET through the forward --------------------------------------
hp=$(free_port)
pw_start -p "$hp" -P 8080 -- /usr/bin/python3 -m http.server '{guest-port}' --bind 0.0.0.0 --directory "$www"
log "portwrap pid $PW_PID: 127.0.0.1:$hp -> 10.0.2.100:8080 (python3 -m http.server)"

body_file=$PW_TMP/body.txt
fetch_index() { curl -sf --max-time 5 -o "$body_file" "http://127.0.0.1:$hp/index.txt"; }
if wait_until 30 fetch_index; then
    expect_eq "GET http://127.0.0.1:$hp/index.txt" "$(cat "$www/index.txt")" "$(cat "$body_file")"
else
    fail_later "no HTTP answer through 127.0.0.1:$hp within 30s"
    show_file "portwrap stderr" "$PW_ERR"
fi

# ns -> host: download 64 MiB
dl=$PW_TMP/download.bin
start_ms=$(_now_ms)
if curl -sf --max-time 60 -o "$dl" "http://127.0.0.1:$hp/data.bin"; then
    read -r got_sha got_size < <("$PY" "$PW_HELPER" sha256 "$dl")
    log "downloaded $got_size bytes in $(($(_now_ms) - start_ms)) ms"
    expect_eq "sha256 of 64 MiB downloaded through the forward (ns -> host)" "$data_sha $data_size" "$got_sha $got_size"
else
    fail_later "download of data.bin through 127.0.0.1:$hp failed (curl exit $?)"
fi
rm -f "$dl"

kill -TERM "$PW_PID"
pw_wait 20
expect_status "http.server ended by SIGTERM through portwrap" 143
check "host port $hp is closed after portwrap exited" wait_until 5 eval '[[ $(connect_result 127.0.0.1 '"$hp"' 2) == refused ]]'

# --- many connections at once ----------------------------------------------------------
# 200 requests, 20 at a time, each must get the page. The server inside has a listen
# backlog of 128: python's http.server has only 5, and when it drops a SYN, libslirp
# retries it after seconds (6 s and more seen), a limit of that server, not portwrap's.
hp=$(free_port)
pw_start -p "$hp" -P 8081 -- /usr/bin/python3 "$PW_HELPER" http '{guest-port}' "$www"
fetch_any() { curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$hp/index.txt"; }
if wait_until 30 fetch_any; then
    start_ms=$(_now_ms)
    codes=$(seq 200 | xargs -P 20 -I{} curl -s --max-time 20 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$hp/index.txt?{}" |
        sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
    log "200 requests in $(($(_now_ms) - start_ms)) ms"
    expect_eq "HTTP status codes of 200 requests, 20 at a time" "200x200 " "$codes"
else
    fail_later "the HTTP server for the parallel requests did not answer within 30s"
    show_file "portwrap stderr" "$PW_ERR"
fi
kill -TERM "$PW_PID"
pw_wait 20
expect_status "parallel-requests server ended by SIGTERM through portwrap" 143

# --- host -> ns: upload 64 MiB to a receiver inside ----------------------------------
hp=$(free_port)
readyfile=$PW_WORK/recv.ready
shafile=$PW_WORK/recv.sha
pw_start -p "$hp" -P 9000 -- /usr/bin/python3 "$PW_HELPER" recv '{guest-port}' "$shafile" "$readyfile"
if wait_until 30 test -e "$readyfile"; then
    start_ms=$(_now_ms)
    reply=$(timeout 90 "$PY" "$PW_HELPER" send 127.0.0.1 "$hp" "$www/data.bin" 60 2>&1)
    log "uploaded in $(($(_now_ms) - start_ms)) ms"
    expect_eq "sha256 the receiver inside reports for 64 MiB uploaded (host -> ns)" "$data_sha $data_size" "$reply"
    pw_wait 30
    expect_status "receiver inside exits 0 after the upload" 0
    expect_eq "sha256 the receiver wrote inside" "$data_sha $data_size" "$(cat "$shafile" 2>/dev/null)"
else
    fail_later "receiver inside did not start listening within 30s"
    show_file "portwrap stderr" "$PW_ERR"
    [[ -n $PW_PID ]] && kill -TERM "$PW_PID"
    pw_wait 20
fi

# --- --host-addr 127.0.0.2 -----------------------------------------------------------
hp=$(free_port)
pw_start --host-addr 127.0.0.2 -p "$hp" -P 8080 -- /usr/bin/python3 -m http.server '{guest-port}' --bind 0.0.0.0 --directory "$www"
fetch_index2() { curl -sf --max-time 5 -o "$body_file" "http://127.0.0.2:$hp/index.txt"; }
if wait_until 30 fetch_index2; then
    expect_eq "GET http://127.0.0.2:$hp/index.txt with --host-addr 127.0.0.2" "$(cat "$www/index.txt")" "$(cat "$body_file")"
else
    fail_later "--host-addr 127.0.0.2: no HTTP answer through 127.0.0.2:$hp within 30s"
    show_file "portwrap stderr" "$PW_ERR"
fi
expect_eq "with --host-addr 127.0.0.2, connecting to 127.0.0.1:$hp" refused "$(connect_result 127.0.0.1 "$hp" 3)"
kill -TERM "$PW_PID"
pw_wait 20
expect_status "http.server ended by SIGTERM through portwrap (--host-addr)" 143

pw_finish
