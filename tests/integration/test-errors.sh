#!/usr/bin/env bash
# errors: each set-up failure gives exit status 125 (127 for a missing command),
# exactly one 'portwrap: ' line on stderr with the right key words, the command never
# runs (it would create a marker file), and no process is left behind:
#  - host port in use (held by a python listener first), on 127.0.0.1 and 127.0.0.2:
#    the line suggests -p 0;
#  - a host port below 1024 ('user' only): the line says why and what to do;
#  - user namespaces unavailable (user.max_user_namespaces=0 in an enclosing user ns);
#  - /dev/net/tun missing (tmpfs over /dev/net in a private mount namespace);
#  - /dev/net/tun not accessible (a root-owned 0600 file bound over it; 'user' only:
#    root may open it anyway);
#  - portwrap installed setuid root (refused; user only)
#  - newuidmap / newgidmap failing (root-owned setuid fakes bound over /usr/bin/newuidmap
#    or /usr/bin/newgidmap in a private mount namespace: portwrap takes them only from
#    there; 'user' only: portwrap-test is the user with /etc/subuid entries);
#  - command not found.
source "$(dirname "$0")/lib.sh"
pw_init

n=0
# run_error WHAT EXPECTED_STATUS 'PATTERN|PATTERN...' [PORTWRAP_OPTIONS...]
# Runs portwrap with a command that would create a marker, and checks the outcome.
run_error() {
    local what=$1 status=$2 patterns=$3
    shift 3
    n=$((n + 1))
    local marker=$PW_TMP/pids/marker.$n
    local hp=${HP:-$(free_port)}
    pw_run "$@" -p "$hp" -P 8080 -- sh -c 'echo ran >"$1"; exit 0' sh "$marker"
    expect_status "$what" "$status"
    local pats=()
    IFS='|' read -r -a pats <<<"$patterns"
    expect_one_error_line "$what" "${pats[@]}"
    check "$what: the command never ran" test ! -e "$marker"
    assert_no_leftovers 5 >/dev/null || fail_later "$what: processes left behind"
}

# --- host port in use ----------------------------------------------------------------
for addr in 127.0.0.1 127.0.0.2; do
    held=$(free_port)
    start_helper "$PW_TMP/hold.log" "$PY" "$PW_HELPER" hold "$addr" "$held" "$PW_TMP/hold.ready.$addr"
    wait_until 10 test -e "$PW_TMP/hold.ready.$addr" || fail "could not hold $addr:$held"
    HP=$held run_error "host port $addr:$held in use" 125 "in use|$addr:$held|or -p 0 for any free one" --host-addr "$addr"
    stop_helpers
    # Positive control: once the port is free, the same run runs the command, which
    # leaves the marker run_error looks for.
    control=$PW_TMP/pids/control.$addr
    pw_run --host-addr "$addr" -p "$held" -P 8080 -- sh -c 'echo ran >"$1"; exit 0' sh "$control"
    expect_status "the same run with $addr:$held free" 0
    check "the command ran and left its marker once $addr:$held was free" test -e "$control"
done

# --- a host port below 1024 (net.ipv4.ip_unprivileged_port_start) -----------------------
# Only the user is refused, and told why and what to do; root may bind it.
low_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
if [[ $PW_AS == user ]] && ((low_start > 1)); then
    low=$((low_start - 1))
    HP=$low run_error "host port $low, below ip_unprivileged_port_start=$low_start" 125 \
        "127.0.0.1:$low: Permission denied|ports below net.ipv4.ip_unprivileged_port_start|need privileges|or -p 0"
fi

# --- user namespaces unavailable -------------------------------------------------------
host_max_ns=$(cat /proc/sys/user/max_user_namespaces)
PW_INNER=(unshare --user --map-root-user sh -c 'echo 0 >/proc/sys/user/max_user_namespaces && exec "$@"' sh)
run_error "user namespaces unavailable" 125 "user namespace|user.max_user_namespaces"
PW_INNER=()
expect_eq "the host's user.max_user_namespaces is untouched" "$host_max_ns" "$(cat /proc/sys/user/max_user_namespaces)"

# --- /dev/net/tun missing ------------------------------------------------------------------
PW_OUTER=(unshare --mount --propagation private sh -c 'mount -t tmpfs none /dev/net && exec "$@"' sh)
run_error "/dev/net/tun missing" 125 "/dev/net/tun"
PW_OUTER=()
check "/dev/net/tun is still there on the host" test -c /dev/net/tun

# --- /dev/net/tun not accessible ---------------------------------------------------------
if [[ $PW_AS == user ]]; then
    fake_tun=$PW_TMP/fake-tun
    : >"$fake_tun"
    chmod 0600 "$fake_tun"
    PW_OUTER=(unshare --mount --propagation private sh -c 'mount --bind "$0" /dev/net/tun && exec "$@"' "$fake_tun")
    run_error "/dev/net/tun not accessible (root's, mode 0600)" 125 "/dev/net/tun|Permission denied"
    PW_OUTER=()
    check "/dev/net/tun on the host is still the character device" test -c /dev/net/tun
else
    log "(an inaccessible /dev/net/tun is checked in the 'user' run: root may open it)"
fi

# --- newuidmap / newgidmap failing -------------------------------------------------------
if [[ $PW_AS == user ]]; then
    fakes=$PW_TMP/fake-newuidmap
    mkdir -m 0755 "$fakes"
    cat >"$fakes/newuidmap" <<'EOF'
#!/bin/sh
echo "newuidmap: fake failure for the portwrap test (uid map refused)" >&2
exit 1
EOF
    # Root's and setuid, so portwrap runs it (the kernel ignores the bit on a script).
    chmod 4755 "$fakes/newuidmap"
    PW_OUTER=(unshare --mount --propagation private sh -c 'mount --bind "$0" /usr/bin/newuidmap && exec "$@"' "$fakes/newuidmap")
    run_error "newuidmap failing" 125 "/usr/bin/newuidmap|fake failure for the portwrap test (uid map refused)"

    fakes=$PW_TMP/fake-newgidmap
    mkdir -m 0755 "$fakes"
    cat >"$fakes/newgidmap" <<'EOF'
#!/bin/sh
echo "newgidmap: fake failure for the portwrap test (gid map refused)" >&2
exit 1
EOF
    chmod 4755 "$fakes/newgidmap"
    PW_OUTER=(unshare --mount --propagation private sh -c 'mount --bind "$0" /usr/bin/newgidmap && exec "$@"' "$fakes/newgidmap")
    run_error "newgidmap failing" 125 "/usr/bin/newgidmap|fake failure for the portwrap test (gid map refused)"
    PW_OUTER=()
    check "/usr/bin/newuidmap and newgidmap on the host are the real ones" \
        eval '! grep -q "fake failure" /usr/bin/newuidmap /usr/bin/newgidmap'
else
    log "(failing newuidmap/newgidmap are checked in the 'user' run: root has no /etc/subuid entries)"
fi

# --- installed setuid root ----------------------------------------------------------------
if [[ $PW_AS == user ]]; then
    setuid_copy=$PW_TMP/bin/portwrap-setuid
    cp "$PW_BIN" "$setuid_copy" && chmod 4755 "$setuid_copy"
    plain_bin=$PW_BIN
    PW_BIN=$setuid_copy
    run_error "portwrap installed setuid root" 125 "refusing to run with elevated privileges|setuid"
    PW_BIN=$plain_bin
else
    log "(a setuid-root portwrap is checked in the 'user' run: for root it elevates nothing)"
fi

# --- command not found -------------------------------------------------------------------
pw_run -p "$(free_port)" -P 8080 -- nosuchcmd
expect_status "command not found" 127
expect_one_error_line "command not found" "not found" "nosuchcmd"

pw_finish
