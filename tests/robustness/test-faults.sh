#!/usr/bin/env bash
# faults: portwrap when things go wrong around it (issue 4).
#  - The command exits (status 7) while 5 connections are held open and a 6th is
#    uploading: held clients see EOF or a reset, the uploader a reset, a connection
#    made right after the exit is closed or refused; none hangs (20 s deadline).
#    portwrap exits 7.
#  - The command is killed by SIGKILL while a client holds a connection and a child
#    of the command runs in the background: portwrap exits 137, the client sees EOF or
#    a reset, the child is ended.
#  - The host port is taken by another process between runs: the first run works, the
#    second gets 125 with the one 'in use' line and never runs its command, and once
#    the holder has gone a third run works again (right after the first run's closed
#    connections, so the port may still have TIME_WAIT sockets).
#  - The guest port has no listener yet: clients connecting through the forward
#    (5 in a row, then 20 at once) see a clean close, a reset or a refusal within
#    10 s, not a hang; once the server listens, connections work.
#  - 'user' run only (portwrap-test is the user with subordinate ids):
#      * /etc/subuid and /etc/subgid replaced by garbage (a bind mount in a private
#        mount namespace): binary junk, and malformed lines for the user. portwrap
#        skips what it cannot parse and falls back to the single-id map: the command
#        runs with uid_map '1001 1001 1', and -v says why.
#      * the same entry twice in both files, and a second entry inside the first:
#        portwrap maps each id once, so the command runs with the same uid_map as
#        with the single entry (overlapping map lines would make the kernel refuse).
#      * newuidmap/newgidmap in /usr/bin not setuid (both, or only newuidmap: plain
#        copies bound over them in a private mount namespace): single-id map, the
#        command runs, -v says why.
#      * plain (not setuid) copies first in PATH: ignored, the real helpers map the
#        subordinate ids (portwrap never searches PATH for them).
#  - /dev/net/tun missing is covered by tests/integration/test-errors.sh.
# After each case: nothing of the test left running and nothing listening on the
# case's host port.
source "$(dirname "$0")/rlib.sh"
rb_init

case_done() {  # case_done WHAT PORT...: the after-each checks
    local what=$1
    shift
    expect_no_listener "$what" "$@"
    assert_no_leftovers 10
}

# --- the command exits with connections open -----------------------------------------
hp=$(free_port)
if rb_start_server "$hp"; then
    rb_client 90 hold-and-exit 127.0.0.1 "$hp" 5 7 20
    expect_eq "command exits with connections open: every client sees the end, none hangs (client status)" 0 "$RB_STATUS"
fi
pw_wait 30
expect_status "command exited by itself with status 7 while connections were open" 7
case_done "command exited with connections open" "$hp"

# --- the command is killed by SIGKILL ------------------------------------------------------
hp=$(free_port)
childfile=$PW_WORK/child.pid
rm -f "$childfile"
pw_start -p "$hp" -P "$RB_GP" -- /bin/sh -c \
    'sleep 300 & echo $! > "$1"; exec /usr/bin/python3 "$2" serve "$3" "$4" --pidfile "$5"' \
    sh "$childfile" "$RB" '{guest-port}' "$PW_WORK/kill.ready" "$PW_WORK/kill.pid"
if wait_until 30 test -e "$PW_WORK/kill.ready" && wait_until 10 test -s "$childfile"; then
    cmd_pid=$(<"$PW_WORK/kill.pid")
    child_pid=$(<"$childfile")
    track_pid "$cmd_pid" "$child_pid"
    hold_log=$PW_TMP/hold.log
    start_helper "$hold_log" timeout -k 5 60 "$PY" "$RB" hold 127.0.0.1 "$hp" 20
    hold_pid=$HELPER_PID
    if wait_until 20 grep -q '^held' "$hold_log"; then
        kill -KILL "$cmd_pid"
        pw_wait 30
        expect_status "command killed by SIGKILL" 137
        check "the held client finished" wait_until 30 pid_gone "$hold_pid"
        wait "$hold_pid"
        expect_eq "the held client saw EOF or a reset, not a hang (client status)" 0 "$?"
        sed 's/^/    | /' "$hold_log"
        check "the command's background child (pid $child_pid) was ended" wait_until 10 pid_gone "$child_pid"
    else
        fail_later "the holding client did not get its connection"
        show_file "client" "$hold_log"
        kill -TERM "$PW_PID"
        pw_wait 30
    fi
else
    fail_later "the server for the SIGKILL case did not start"
    show_file "portwrap stderr" "$PW_ERR"
    [[ -n $PW_PID ]] && kill -KILL "$PW_PID"
    pw_wait 20
fi
case_done "command killed by SIGKILL" "$hp"

# --- the host port is taken between runs ---------------------------------------------
hp=$(free_port)
if rb_start_server "$hp"; then
    rb_client 30 burst 127.0.0.1 "$hp" 20 20
    expect_eq "first run on port $hp serves (client status)" 0 "$RB_STATUS"
    # The server closes first here, so the forward's side of these connections ends in
    # TIME_WAIT on port $hp: the later runs must bind the port all the same.
    for i in 1 2 3; do
        rb_client 30 source 127.0.0.1 "$hp" 100000 20
        expect_eq "first run: download $i (client status)" 0 "$RB_STATUS"
    done
    kill -TERM "$PW_PID"
fi
pw_wait 30
expect_status "first run, ended by SIGTERM" 143
expect_no_listener "after the first run" "$hp"
log "sockets in TIME_WAIT on port $hp now: $(ss -Htn state time-wait "sport = :$hp" 2>/dev/null | wc -l)"

start_helper "$PW_TMP/holder.log" "$PY" "$PW_HELPER" hold 127.0.0.1 "$hp" "$PW_TMP/holder.ready"
wait_until 10 test -e "$PW_TMP/holder.ready" || fail "could not take port $hp for the second run"
marker=$PW_TMP/pids/taken.marker
pw_run -p "$hp" -P "$RB_GP" -- /bin/sh -c 'echo ran > "$1"' sh "$marker"
expect_status "second run while another process holds 127.0.0.1:$hp" 125
expect_one_error_line "second run while the port is held" "in use" "127.0.0.1:$hp"
check "second run: the command never ran" test ! -e "$marker"
stop_helpers
expect_no_listener "after the holder exited" "$hp"
# Positive control: the same run with the port free runs the command and its marker appears.
pw_run -p "$hp" -P "$RB_GP" -- /bin/sh -c 'echo ran > "$1"' sh "$marker"
expect_status "third run, the port free again" 0
check "third run: the command ran and left its marker" test -e "$marker"

if rb_start_server "$hp"; then
    rb_client 30 burst 127.0.0.1 "$hp" 20 20
    expect_eq "third run on port $hp, after the holder exited, serves (client status)" 0 "$RB_STATUS"
    kill -TERM "$PW_PID"
fi
pw_wait 30
expect_status "third run, ended by SIGTERM" 143
case_done "host port taken between runs" "$hp"

# --- the guest port has no listener yet -------------------------------------------------
hp=$(free_port)
trigger=$PW_WORK/listen.now
rb_start_server "$hp" -- --late "$trigger"
log "server inside started; it will not listen on port $RB_GP until $trigger exists"
if [[ -n $RB_CMD_PID ]]; then
    for i in 1 2 3 4 5; do
        rb_client 30 probe 127.0.0.1 "$hp" 10
        read -r outcome _ <<<"$RB_OUT"
        check "connect $i through the forward with no listener inside: '$outcome' (closed, reset or refused, not a hang)" \
            eval '[[ $outcome == eof || $outcome == reset || $outcome == refused ]]'
    done
    # 20 at once: all must end within the deadline the same way.
    outcomes=$PW_TMP/probe.outcomes
    probe_pids=()
    for i in $(seq 20); do
        env "PWTEST_TAG=$PW_TAG" timeout -k 5 30 "$PY" "$RB" probe 127.0.0.1 "$hp" 10 >"$outcomes.$i" 2>&1 &
        probe_pids+=("$!")
        track_pid "$!"
    done
    for p in "${probe_pids[@]}"; do wait "$p"; done
    for i in $(seq 20); do cat "$outcomes.$i"; done >"$outcomes"
    grep -vE '^(eof|reset|refused) ' "$outcomes" | sed 's/^/    | unexpected: /'
    summary=$(awk '{print $1}' "$outcomes" | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
    log "20 concurrent connects with no listener inside: $summary"
    check "20 concurrent connects with no listener inside all ended closed, reset or refused" \
        eval '[[ $(grep -cE "^(eof|reset|refused) " "$outcomes") == 20 ]]'
    touch "$trigger"
    if wait_until 30 test -e "$RB_READY"; then
        rb_client 60 burst 127.0.0.1 "$hp" 20 20
        expect_eq "once the server listens, connections through the forward work (client status)" 0 "$RB_STATUS"
    else
        fail_later "the late server never started listening"
    fi
else
    fail_later "the late server did not start"
fi
[[ -n $PW_PID ]] && kill -TERM "$PW_PID"
pw_wait 30
expect_status "late server ended by SIGTERM" 143
case_done "guest port without a listener" "$hp"

# --- identity-mapping faults (portwrap-test only) ------------------------------------------
# uid_map_case [OPTIONS...]: runs 'portwrap OPTIONS ... cat /proc/self/uid_map' as the
# test user with the current PW_OUTER/PW_PATH; sets PW_STATUS, PW_OUT, PW_ERR, UID_MAP.
uid_map_case() {
    hp=$(free_port)
    pw_run "$@" -p "$hp" -P "$RB_GP" -- /bin/cat /proc/self/uid_map
    UID_MAP=$(tr -s ' \t' ' ' <"$PW_OUT" | sed 's/^ //')
}
expect_single_id_map() {  # expect_single_id_map WHAT REASON
    expect_status "$1" 0
    expect_eq "$1: uid_map inside" "$PW_UID $PW_UID 1" "$UID_MAP"
    check "$1: -v says: single-id map ($2)" grep -qF "single-id map ($2)" "$PW_ERR"
    grep -F 'single-id map' "$PW_ERR" | sed 's/^/    | /'
}

if [[ $PW_AS == user ]]; then
    # Garbage bound over /etc/subuid and /etc/subgid in a private mount namespace;
    # newuidmap, started from there, sees the same garbage.
    bind_subid() {  # bind_subid FILE: PW_OUTER that shows FILE as /etc/subuid and /etc/subgid
        PW_OUTER=(unshare --mount --propagation private sh -c
            'mount --bind "$0" /etc/subuid && mount --bind "$0" /etc/subgid && exec "$@"' "$1")
    }
    junk=$PW_TMP/subid.junk
    "$PY" -c 'import random, sys; open(sys.argv[1], "wb").write(random.Random(4).randbytes(16384))' "$junk"
    malformed=$PW_TMP/subid.malformed
    u=$PW_USER
    # Every line is wrong in some way; none may be taken as a range of the user's.
    printf '%s\n' "$u:notanumber:65536" "$u:131072:" "$u::65536" "$u" "$u:131072:65536:extra" \
        "$u:99999999999999999999:65536" "$u:-5:65536" "$u:131072:0" "$u:4294967295:10" \
        " $u:131072:65536" "$u:131072:65536"$'\r' "$PW_UID:131072:6x" ":::" "$u:0x20000:65536" \
        "$u:$(printf '1%.0s' $(seq 5000)):65536" >"$malformed"
    printf '%s\n' "$u:131072:65536" "$u:131072:65536" "$u:131080:16" >"$PW_TMP/subid.twice"
    chmod 0644 "$junk" "$malformed" "$PW_TMP/subid.twice"
    subuid_before=$(sha256sum </etc/subuid)

    bind_subid "$junk"
    uid_map_case -v
    expect_single_id_map "binary junk as /etc/subuid and /etc/subgid" "no entries for uid $PW_UID ($PW_USER) in /etc/subuid and /etc/subgid"
    case_done "binary junk as /etc/subuid" "$hp"

    bind_subid "$malformed"
    uid_map_case -v
    expect_single_id_map "malformed lines in /etc/subuid and /etc/subgid" "no entries for uid $PW_UID ($PW_USER) in /etc/subuid and /etc/subgid"
    case_done "malformed /etc/subuid" "$hp"

    bind_subid "$PW_TMP/subid.twice"
    uid_map_case
    expect_status "the same entry twice in /etc/subuid and /etc/subgid" 0
    # The bound file gives portwrap-test 131072:65536 (plus the repeats).
    expect_eq "the same entry twice: uid_map inside is that of the single entry" \
        "0 131072 $PW_UID $PW_UID $PW_UID 1 $((PW_UID + 1)) $((131072 + PW_UID)) $((65536 - PW_UID))" \
        "$(tr '\n' ' ' <<<"$UID_MAP" | sed 's/ $//')"
    case_done "duplicated /etc/subuid entry" "$hp"
    PW_OUTER=()
    expect_eq "the host's /etc/subuid is untouched" "$subuid_before" "$(sha256sum </etc/subuid)"

    # Plain (not setuid) copies bound over /usr/bin/newuidmap (and newgidmap), where
    # portwrap takes them from: it does not run them and uses the single-id map.
    plain=$PW_TMP/plain-helpers
    mkdir -m 0755 "$plain"
    cp /usr/bin/newuidmap /usr/bin/newgidmap "$plain/"
    chmod 0755 "$plain/newuidmap" "$plain/newgidmap"
    PW_OUTER=(unshare --mount --propagation private sh -c
        'mount --bind "$0/newuidmap" /usr/bin/newuidmap && mount --bind "$0/newgidmap" /usr/bin/newgidmap && exec "$@"' "$plain")
    uid_map_case -v
    expect_single_id_map "newuidmap and newgidmap not setuid" \
        "/usr/bin/newuidmap is neither setuid root nor has file capabilities"
    case_done "newuidmap and newgidmap not setuid" "$hp"

    PW_OUTER=(unshare --mount --propagation private sh -c 'mount --bind "$0/newuidmap" /usr/bin/newuidmap && exec "$@"' "$plain")
    uid_map_case -v
    expect_single_id_map "only newgidmap setuid" "/usr/bin/newuidmap is neither setuid root nor has file capabilities"
    case_done "only newgidmap setuid" "$hp"
    PW_OUTER=()
    check "/usr/bin/newuidmap on the host is still setuid" test -u /usr/bin/newuidmap

    # The same plain copies first in PATH: ignored; the real helpers map the ids.
    PW_PATH=$plain:$PW_STD_PATH uid_map_case
    expect_status "plain newuidmap and newgidmap first in PATH" 0
    expect_eq "plain copies first in PATH: uid_map inside maps the subordinate ids" \
        "0 131072 $PW_UID $PW_UID $PW_UID 1 $((PW_UID + 1)) $((131072 + PW_UID)) $((65536 - PW_UID))" \
        "$(tr '\n' ' ' <<<"$UID_MAP" | sed 's/ $//')"
    case_done "plain copies first in PATH" "$hp"
else
    log "(the /etc/subuid, newuidmap and newgidmap cases run in the 'user' run: root has no subordinate ids)"
fi

# /dev/net/tun missing: covered by tests/integration/test-errors.sh ('/dev/net/tun missing').
pw_finish
