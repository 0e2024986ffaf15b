#!/usr/bin/env bash
# isolation: what the namespace can and cannot reach, and what the command holds (issue 4).
#  - Host loopback services: a listener on host 127.0.0.1:X. From inside, 10.0.2.2:X
#    reaches it only with --allow-host-loopback; 127.0.0.1:X inside is the namespace's
#    own loopback, so the host listener never answers there (refused), with or without
#    the option. The host listener counts exactly the allowed connection.
#  - Ports opened inside (a dual-stack server on [::]:Y, and the guest port) are up
#    inside (checked from inside on 127.0.0.1, ::1 and 10.0.2.100) but refused on every
#    host loopback address: 127.0.0.1, 127.0.0.2 and ::1.
#  - The forward listens on exactly --host-addr: ss shows one socket, 127.0.0.1:HP by
#    default and 127.0.0.2:HP with --host-addr 127.0.0.2 (and then 127.0.0.1:HP and
#    [::1]:HP are refused).
#  - Capabilities: CapEff inside is 0 for an unprivileged user with the default map.
#    Run by root (uid 0 maps to 0), the command has the full set, but only in its own
#    user namespace: like the user, it cannot read a 0600 file of another user, which
#    root on the host can (CAP_DAC_OVERRIDE in the initial namespace). Writing
#    /proc/self/uid_map from inside fails for everybody; so it does for the user with
#    --map-root (full CapEff inside, still no access to that file).
#  - No fd other than 0, 1 and 2 reaches the command: 'ls -l /proc/self/fd' under
#    portwrap, started from a bash that first closes every fd >= 3, lists the same fds
#    as the same ls started the same way without portwrap: 0, 1, 2 and ls's own
#    directory fd.
source "$(dirname "$0")/rlib.sh"
rb_init

# --- host loopback services ------------------------------------------------------------------
x=$(free_port)
conns=$PW_TMP/greeter.conns
: >"$conns"
start_helper "$PW_TMP/greeter.log" "$PY" "$PW_HELPER" greeter 127.0.0.1 "$x" "$PW_TMP/greeter.ready" "$conns"
wait_until 10 test -e "$PW_TMP/greeter.ready" || fail "host listener on 127.0.0.1:$x did not start"
log "host listener on 127.0.0.1:$x"

# Inside: try 10.0.2.2:X (5 s) and 127.0.0.1:X (3 s); print both results.
try_both=(/bin/sh -c '"$1" "$2" greet-client 10.0.2.2 "$3" 5; "$1" "$2" greet-client 127.0.0.1 "$3" 3; exit 0'
    sh /usr/bin/python3 "$PW_HELPER" "$x")

pw_run -p "$(free_port)" -P "$RB_GP" -- "${try_both[@]}"
expect_status "without --allow-host-loopback: the probes ran" 0
via_gw=$(sed -n 1p "$PW_OUT")
via_lo=$(sed -n 2p "$PW_OUT")
log "without --allow-host-loopback: 10.0.2.2:$x -> '$via_gw'; 127.0.0.1:$x inside -> '$via_lo'"
check "without --allow-host-loopback, 10.0.2.2:$x does not reach the host listener" \
    eval '[[ -n $via_gw && $via_gw != got:* ]]'
expect_eq "without --allow-host-loopback, 127.0.0.1:$x inside (the namespace's own loopback)" refused "$via_lo"
expect_eq "connections the host listener accepted (not allowed)" 0 "$(wc -l <"$conns")"

pw_run --allow-host-loopback -p "$(free_port)" -P "$RB_GP" -- "${try_both[@]}"
expect_status "with --allow-host-loopback: the probes ran" 0
via_gw=$(sed -n 1p "$PW_OUT")
via_lo=$(sed -n 2p "$PW_OUT")
expect_eq "with --allow-host-loopback, 10.0.2.2:$x reaches the host listener" "got:hello-from-host" "$via_gw"
expect_eq "with --allow-host-loopback, 127.0.0.1:$x inside is still the namespace's own loopback" refused "$via_lo"
wait_until 5 eval '[[ $(wc -l <"$conns") -ge 1 ]]'
expect_eq "connections the host listener accepted (allowed)" 1 "$(wc -l <"$conns")"
stop_helpers

# --- ports opened inside are not reachable from the host -----------------------------------
# Y: a port nothing on the host listens on. Inside: the forwarded server on RB_GP, and a
# dual-stack one on [::]:Y. The command checks both from inside, then waits.
y=$(free_port)
gp=$(free_port)
while [[ $gp == "$y" ]]; do gp=$(free_port); done
inside=$PW_TMP/bin/inside-servers.sh
cat >"$inside" <<'EOF'
#!/bin/sh
# inside-servers.sh HELPER GUEST_PORT Y WORKDIR: two servers, checked from inside, then
# "ready" in WORKDIR/inside.ready with the results; stops with its servers on TERM.
rb=$1 gp=$2 y=$3 w=$4
/usr/bin/python3 "$rb" serve "$gp" "$w/gp.ready" &
a=$!
/usr/bin/python3 "$rb" serve "$y" "$w/y.ready" --host :: &
b=$!
trap 'kill $a $b 2>/dev/null; wait; exit 0' TERM INT HUP
i=0
while [ $i -lt 200 ] && ! { [ -e "$w/gp.ready" ] && [ -e "$w/y.ready" ]; }; do sleep 0.05; i=$((i + 1)); done
{
    for addr in 127.0.0.1 ::1 10.0.2.100; do
        echo "inside $addr:$y $(/usr/bin/python3 "$rb" ping "$addr" "$y" 5)"
    done
    echo "inside 127.0.0.1:$gp $(/usr/bin/python3 "$rb" ping 127.0.0.1 "$gp" 5)"
} >"$w/inside.results"
mv "$w/inside.results" "$w/inside.ready"
wait
EOF
chmod 0755 "$inside"
hp=$(free_port)
pw_start -p "$hp" -P "$gp" -- /bin/sh "$inside" "$RB" '{guest-port}' "$y" "$PW_WORK"
if wait_until 30 test -e "$PW_WORK/inside.ready"; then
    sed 's/^/    | /' "$PW_WORK/inside.ready"
    expect_eq "the servers answer inside (127.0.0.1, ::1, 10.0.2.100 on $y; 127.0.0.1 on $gp)" 4 \
        "$(grep -c ' ok$' "$PW_WORK/inside.ready")"
    rb_client 20 ping 127.0.0.1 "$hp" 5
    expect_eq "the forward 127.0.0.1:$hp reaches the guest port" ok "$RB_OUT"
    for addr in 127.0.0.1 127.0.0.2 ::1; do
        for port in "$y" "$gp"; do
            expect_eq "host $addr:$port (a port open inside)" refused "$(connect_result "$addr" "$port" 5)"
        done
    done
    listening=$(ss -Hltn "sport = :$hp" | awk '{print $4}' | sort | tr '\n' ' ')
    expect_eq "sockets listening on port $hp (default --host-addr)" "127.0.0.1:$hp " "$listening"
    for port in "$y" "$gp"; do
        check "no host socket listens on port $port (open inside only)" no_listener "$port"
    done
else
    fail_later "the servers inside did not come up within 30 s"
    show_file "portwrap stderr" "$PW_ERR"
fi
[[ -n $PW_PID ]] && kill -TERM "$PW_PID"
pw_wait 30
expect_status "inside servers ended by SIGTERM" 0
expect_no_listener "after portwrap exited" "$hp"

# --- the forward listens only on --host-addr -------------------------------------------------
hp=$(free_port)
if rb_start_server "$hp" --host-addr 127.0.0.2; then
    listening=$(ss -Hltn "sport = :$hp" | awk '{print $4}' | sort | tr '\n' ' ')
    expect_eq "sockets listening on port $hp with --host-addr 127.0.0.2" "127.0.0.2:$hp " "$listening"
    rb_client 20 ping 127.0.0.2 "$hp" 5
    expect_eq "127.0.0.2:$hp reaches the server inside" ok "$RB_OUT"
    expect_eq "with --host-addr 127.0.0.2, host 127.0.0.1:$hp" refused "$(connect_result 127.0.0.1 "$hp" 5)"
    expect_eq "with --host-addr 127.0.0.2, host [::1]:$hp" refused "$(connect_result ::1 "$hp" 5)"
fi
[[ -n $PW_PID ]] && kill -TERM "$PW_PID"
pw_wait 30
expect_status "--host-addr server ended by SIGTERM" 143
expect_no_listener "after the --host-addr run" "$hp"

# --- capabilities and the uid map ------------------------------------------------------------
# A file of another user (portwrap-nosub), mode 0600, in a directory everyone may enter.
secret=$PW_TMP/secret.txt
echo "not for the command" >"$secret"
chown "$PW_NOSUB_USER:" "$secret"
chmod 0600 "$secret"
check "root on the host can read the 0600 file of $PW_NOSUB_USER (CAP_DAC_OVERRIDE)" test -r "$secret"
probe_caps=(/bin/sh -c '
    grep -E "^Cap(Eff|Prm|Bnd|Amb):" /proc/self/status
    printf "uid_map: "; tr -s " " < /proc/self/uid_map | tr "\n" ";"; echo
    if (echo "0 0 1" > /proc/self/uid_map) 2>/dev/null; then echo "uid_map write: succeeded"; else echo "uid_map write: refused"; fi
    if cat "$1" >/dev/null 2>&1; then echo "secret: readable"; else echo "secret: unreadable"; fi
    exit 0' sh "$secret")

caps_case() {  # caps_case WHAT EXPECTED_CAPEFF [PORTWRAP_OPTIONS...]
    local what=$1 want=$2
    shift 2
    pw_run "$@" -p "$(free_port)" -P "$RB_GP" -- "${probe_caps[@]}"
    expect_status "$what: the probe ran" 0
    sed 's/^/    | /' "$PW_OUT"
    expect_eq "$what: CapEff inside" "$want" "$(awk '/^CapEff:/ {print $2}' "$PW_OUT")"
    expect_eq "$what: writing /proc/self/uid_map inside" "uid_map write: refused" "$(grep '^uid_map write:' "$PW_OUT")"
    expect_eq "$what: a 0600 file of $PW_NOSUB_USER inside" "secret: unreadable" "$(grep '^secret:' "$PW_OUT")"
}
# Every capability this kernel has: a new user namespace starts with all of them, even
# when the caller's bounding set lacks some.
full_caps=$(printf '%016x' $(((1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1)))
if [[ $PW_AS == user ]]; then
    caps_case "$PW_USER, default map" 0000000000000000
    # With --map-root the command is uid 0 inside and has every capability there, but
    # only over what its own user namespace owns.
    caps_case "$PW_USER, --map-root" "$full_caps" --map-root
else
    # root: uid 0 maps to itself, so the command is uid 0 inside, with the full set in
    # its own user namespace and none in the initial one: it cannot read the file that
    # root on the host can.
    caps_case "root, default map" "$full_caps"
fi

# --- no fd leaks into the command --------------------------------------------------------------
# A bash that closes every fd >= 3, then runs the rest; used with and without portwrap.
# (No redirection on the loop: bash would keep the saved stderr in an fd the loop closes.)
closefds='for f in /proc/$$/fd/*; do f=${f##*/}; if ((f > 2)) && [[ -e /proc/$$/fd/$f ]]; then eval "exec $f>&-"; fi; done; exec "$@"'
fd_list() { awk '$NF ~ /^\/proc\/[0-9]+\/fd$/ && $(NF-2) ~ /^[0-9]+$/ {print $(NF-2) "=dir"; next}
    $(NF-1) == "->" {print $(NF-2)}' "$1" | sort -n | tr '\n' ' '; }
baseline=$PW_TMP/fds.baseline
as_user "$PW_USER" /bin/bash -c "$closefds" bash /bin/ls -l /proc/self/fd >"$baseline" 2>&1 </dev/null
PW_INNER=(/bin/bash -c "$closefds" bash)
pw_run -p "$(free_port)" -P "$RB_GP" -- /bin/ls -l /proc/self/fd
PW_INNER=()
expect_status "ls -l /proc/self/fd under portwrap" 0
sed 's/^/    | /' "$PW_OUT"
expect_eq "fd 2 of the command is portwrap's stderr (the fd-closing wrapper kept it)" "$PW_ERR" \
    "$(awk '$(NF-2) == "2" && $(NF-1) == "->" {print $NF}' "$PW_OUT")"
expect_eq "fds of ls started without portwrap (closing fds >= 3 first)" "0 1 2 3=dir " "$(fd_list "$baseline")"
expect_eq "fds of ls under portwrap: the same as without it" "$(fd_list "$baseline")" "$(fd_list "$PW_OUT")"

pw_finish
