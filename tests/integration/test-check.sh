#!/usr/bin/env bash
# check: 'portwrap --check' prints one line per item and a summary, and exits 0 only
# when a launch would work. Each item is made to fail where that can be done without
# changing the machine (private mount namespaces, an enclosing user namespace, PATH):
#  - all items ok (the 'user' run: portwrap-test has subordinate ids) -> exit 0;
#  - user.max_user_namespaces=0 in an enclosing user namespace -> FAIL, exit 1;
#  - /dev/net/tun missing (tmpfs over /dev/net), not the tun device (a 1,3 node), and
#    mode 0600 (a real 10,200 node on that tmpfs; 'user' only) -> FAIL, exit 1;
#  - no newuidmap/newgidmap in PATH -> still ok: they are taken from /usr/bin (or /bin,
#    /usr/sbin, /sbin) only, never from PATH;
#  - a user without subordinate ids (portwrap-nosub) -> warning with the line to add, exit 0;
#  - a malformed /etc/subuid line (bind-mounted copy) -> warning, exit 0; a range that
#    holds the user's own uid -> warning, exit 0 (a launch maps that uid once and works);
#  - a newuidmap copy without the setuid bit first in PATH -> ignored, ok; the same copy
#    bind-mounted over /usr/bin/newuidmap -> warning, exit 0 (the single-id map);
#  - portwrap installed setuid root -> refused with one line, exit 125 (test-elevated-copy.sh
#    tries every mode).
#  - each /dev/net/tun failure above, launched for real in the same state: the launch's
#    one error line ends with --check's fix in brackets (one hint for both);
# Not testable here: kernel.unprivileged_userns_clone and
# kernel.apparmor_restrict_unprivileged_userns (this kernel has neither sysctl);
# their verdicts are unit-tested (tests/unit/test_self_check.cpp).
source "$(dirname "$0")/lib.sh"
PW_NEEDS_NOSUB=1
pw_init

ITEMS=(kernel privileges user.max_user_namespaces kernel.unprivileged_userns_clone
    kernel.apparmor_restrict_unprivileged_userns userns /etc/subuid /etc/subgid newuidmap newgidmap
    id-map /dev/net/tun network port-driver)

# run_check WHAT EXPECTED_STATUS: runs 'portwrap --check' and checks the shape of
# its output: one line per item in order, a summary, nothing on stderr.
run_check() {
    local what=$1 expected=$2
    pw_run --check
    expect_status "$what" "$expected"
    local names
    names=$(grep -vE '^summary: ' "$PW_OUT" | sed -E 's/^(ok|warning|FAIL|skipped) +([^ ]+): .*/\2/')
    expect_eq "$what: item names in order" "${ITEMS[*]}" "$(tr "\n" " " <<<"$names" | sed "s/ $//")"
    check "$what: every line is 'STATUS NAME: DETAIL'" \
        test -z "$(grep -vE '^(ok      |warning |FAIL    |skipped )[^ ]+: .|^summary: ' "$PW_OUT")"
    check "$what: the last line is the summary" bash -c "tail -n 1 '$PW_OUT' | grep -qE '^summary: (ok|FAIL) '"
    if [[ $expected == 0 ]]; then
        check "$what: no FAIL line, summary ok" bash -c "! grep -q '^FAIL' '$PW_OUT' && grep -q '^summary: ok' '$PW_OUT'"
    else
        check "$what: summary FAIL" grep -q '^summary: FAIL' "$PW_OUT"
    fi
    expect_eq "$what: stderr" "" "$(cat "$PW_ERR")"
}

# expect_line WHAT STATUS NAME [TEXT...]: the NAME line has STATUS and every TEXT.
expect_line() {
    local what=$1 status=$2 name=$3 line text ok=1
    shift 3
    line=$(grep -E "^$status +$(sed 's/[.[\*^$/]/\\&/g' <<<"$name"): " "$PW_OUT")
    if [[ -z $line ]]; then
        fail_later "$what: no '$status $name:' line"
        show_file stdout "$PW_OUT"
        return
    fi
    for text in "$@"; do
        grep -qF -- "$text" <<<"$line" || { fail_later "$what: the $name line lacks '$text': $line"; ok=0; }
    done
    ((ok)) && pass "$what: $line"
}

# --- everything in place ----------------------------------------------------------------
run_check "as $PW_USER" 0
for name in kernel privileges userns id-map /dev/net/tun network; do
    expect_line "as $PW_USER" ok "$name"
done
expect_line "as $PW_USER" ok /dev/net/tun "created tap0 in a test namespace"
# The driver a launch would get: the handoff, except as on Linux 4.18 (no pidfd_getfd),
# where it must say why it falls back to the relay.
if [[ ${PORTWRAP_TEST_KERNEL:-} == 4.18 ]]; then
    expect_line "as $PW_USER" ok port-driver "relay (the handoff driver is unavailable: pidfd_getfd is unavailable: Function not implemented)"
else
    expect_line "as $PW_USER" ok port-driver "handoff:"
fi
if [[ $PW_AS == user ]]; then
    check "as $PW_USER: every item ok" test "$(grep -c '^ok ' "$PW_OUT")" = "${#ITEMS[@]}"
    expect_line "as $PW_USER" ok id-map "newuidmap and newgidmap mapped 65537 uids and 65537 gids" "uid $PW_UID and gid $PW_GID inside"
else
    # root has no subordinate ids here: the single-id map, a warning, still exit 0.
    expect_line "as root" warning /etc/subuid "no entry for root (uid 0)" "usermod --add-subuids"
    expect_line "as root" ok id-map "single-id map"
fi

# expect_launch_hint WHAT NAME: a launch, in the state --check just judged, fails with
# one line that ends with the NAME line's fix in brackets: the launch and --check
# start the namespace with the same code and give the same hint.
expect_launch_hint() {
    local what=$1 name=$2 fix
    fix=$(grep -E "^FAIL +$(sed 's/[.[\*^$/]/\\&/g' <<<"$name"): " "$PW_OUT" | sed -E 's/.*; fix: //')
    if [[ -z $fix ]]; then
        fail_later "$what: no fix on the FAIL $name line"
        return
    fi
    PW_DEADLINE=30 pw_run -p "$(free_port)" -P 8080 -- true
    expect_status "$what: a launch" 125
    expect_one_error_line "$what: a launch" "($fix)"
    local line
    line=$(head -n 1 "$PW_ERR")
    if [[ $line == *"($fix)" ]]; then
        pass "$what: the launch's line ends with --check's fix in brackets"
    else
        fail_later "$what: the launch's line does not end with '($fix)': $line"
    fi
}

# --- user namespaces disabled ---------------------------------------------------------------
host_max_ns=$(cat /proc/sys/user/max_user_namespaces)
PW_INNER=(unshare --user --map-root-user sh -c 'echo 0 >/proc/sys/user/max_user_namespaces && exec "$@"' sh)
run_check "user.max_user_namespaces=0" 1
PW_INNER=()
expect_line "user.max_user_namespaces=0" FAIL user.max_user_namespaces "0: user namespaces are disabled" "sysctl -w user.max_user_namespaces="
expect_line "user.max_user_namespaces=0" FAIL userns "No space left on device"
expect_line "user.max_user_namespaces=0" skipped id-map
expect_eq "the host's user.max_user_namespaces is untouched" "$host_max_ns" "$(cat /proc/sys/user/max_user_namespaces)"

# --- /dev/net/tun ---------------------------------------------------------------------------
# A tmpfs over /dev/net in a private mount namespace: the host's device stays as it is.
tun_ns() { PW_OUTER=(unshare --mount --propagation private sh -c "mount -t tmpfs none /dev/net && $1"' && exec "$@"' sh); }
tun_ns true
run_check "/dev/net/tun missing" 1
expect_line "/dev/net/tun missing" FAIL /dev/net/tun "missing" "modprobe tun" "mknod /dev/net/tun c 10 200"
expect_line "/dev/net/tun missing" skipped network
expect_launch_hint "/dev/net/tun missing" /dev/net/tun
tun_ns 'mknod -m 0666 /dev/net/tun c 1 3'
run_check "/dev/net/tun not the tun device" 1
expect_line "/dev/net/tun not the tun device" FAIL /dev/net/tun "character device 1,3" "Inappropriate ioctl" "mknod /dev/net/tun c 10 200"
expect_launch_hint "/dev/net/tun not the tun device" /dev/net/tun
# A real tun node (10,200) on that tmpfs: first with Debian's mode, then with 0600.
tun_ns 'mknod -m 0666 /dev/net/tun c 10 200'
run_check "/dev/net/tun 10,200 mode 0666 (a private node)" 0
expect_line "/dev/net/tun 0666" ok /dev/net/tun "mode 0666" "created tap0"
tun_ns 'mknod -m 0600 /dev/net/tun c 10 200'
if [[ $PW_AS == user ]]; then
    run_check "/dev/net/tun mode 0600" 1
    expect_line "/dev/net/tun mode 0600" FAIL /dev/net/tun "mode 0600" "Permission denied" "fix: as root: chmod 0666 /dev/net/tun"
    expect_launch_hint "/dev/net/tun mode 0600" /dev/net/tun
else
    run_check "/dev/net/tun mode 0600 (root may open it)" 0
    expect_line "/dev/net/tun mode 0600 as root" ok /dev/net/tun "mode 0600" "other users need mode 0666"
fi
PW_OUTER=()
check "/dev/net/tun on the host is still the character device, mode 0666" test "$(stat -c '%t,%T %a' /dev/net/tun)" = "a,c8 666"

# --- no newuidmap/newgidmap in PATH: still found where portwrap looks ----------------------
nohelpers=$PW_TMP/path-without-helpers
mkdir -m 0755 "$nohelpers" && ln -s /bin/sh "$nohelpers/sh"
PW_PATH=$nohelpers run_check "no newuidmap in PATH" 0
expect_line "no newuidmap in PATH" ok newuidmap "/usr/bin/newuidmap ("
expect_line "no newuidmap in PATH" ok newgidmap "/usr/bin/newgidmap ("

# --- a user without subordinate ids ---------------------------------------------------------
if [[ $PW_AS == user ]]; then
    nosub_uid=$(id -u "$PW_NOSUB_USER")
    PW_AS_USER=$PW_NOSUB_USER run_check "$PW_NOSUB_USER" 0
    expect_line "$PW_NOSUB_USER" warning /etc/subuid "no entry for $PW_NOSUB_USER (uid $nosub_uid)" "usermod --add-subuids" "'$PW_NOSUB_USER:"
    expect_line "$PW_NOSUB_USER" warning /etc/subgid "no entry for $PW_NOSUB_USER" "usermod --add-subgids"
    expect_line "$PW_NOSUB_USER" ok id-map "single-id map" "uid $nosub_uid and gid $(id -g "$PW_NOSUB_USER") inside"
    suggested=$(grep -E '^warning /etc/subuid' "$PW_OUT" | grep -oE "'$PW_NOSUB_USER:[0-9]+:[0-9]+'" | tr -d "'")
    start=${suggested#*:}
    start=${start%%:*}
    # The suggested range overlaps nobody's in either file.
    if awk -F: -v s="$start" -v n=65536 '$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && s < $2 + $3 && $2 < s + n { bad = 1 } END { exit bad }' /etc/subuid /etc/subgid; then
        pass "the suggested range $suggested is free in /etc/subuid and /etc/subgid"
    else
        fail_later "the suggested range $suggested overlaps an existing one"
    fi
fi

# --- /etc/subuid: malformed, and a range holding the user's own uid --------------------------
# Copies bind-mounted over /etc/subuid in a private mount namespace; the real file is untouched.
subuid_ns() { PW_OUTER=(unshare --mount --propagation private sh -c 'mount --bind "$0" /etc/subuid && exec "$@"' "$1"); }
owner=$PW_USER
[[ $PW_AS == user ]] || owner=root
{ grep -vE "^($owner|$PW_UID):" /etc/subuid; echo "$owner:231072"; } >"$PW_TMP/subuid.malformed"
chmod 0644 "$PW_TMP/subuid.malformed"
subuid_ns "$PW_TMP/subuid.malformed"
run_check "malformed /etc/subuid line" 0
expect_line "malformed /etc/subuid line" warning /etc/subuid "ignored malformed line" "'$owner:231072'" "correct the malformed line"
expect_line "malformed /etc/subuid line" ok id-map "single-id map"
# A launch agrees: it runs, with the single-id map.
PW_DEADLINE=30 pw_run -p "$(free_port)" -P 8080 -- true
expect_status "a launch with that malformed /etc/subuid" 0
if [[ $PW_AS == user ]]; then
    { grep -vE "^($owner|$PW_UID):" /etc/subuid; echo "$owner:$((PW_UID - 1)):65536"; } >"$PW_TMP/subuid.own"
    chmod 0644 "$PW_TMP/subuid.own"
    subuid_ns "$PW_TMP/subuid.own"
    run_check "a subordinate range holding the user's own uid" 0
    expect_line "own uid in the range" warning /etc/subuid "contains the user's own uid $PW_UID" "maps once"
    expect_line "own uid in the range" ok id-map "newuidmap and newgidmap mapped"
    PW_DEADLINE=30 pw_run -p "$(free_port)" -P 8080 -- true
    expect_status "a launch with that /etc/subuid works too" 0
fi
PW_OUTER=()
check "/etc/subuid on the host is unchanged" grep -q "^$PW_TEST_USER:" /etc/subuid

# --- newuidmap not setuid: first in PATH (ignored), and in /usr/bin ------------------------
plain_helpers=$PW_TMP/plain-newuidmap
mkdir -m 0755 "$plain_helpers"
cp "$(command -v newuidmap)" "$plain_helpers/newuidmap" && chmod 0755 "$plain_helpers/newuidmap"
PW_PATH=$plain_helpers:$PW_STD_PATH run_check "a newuidmap without the setuid bit first in PATH" 0
expect_line "plain newuidmap in PATH" ok newuidmap "/usr/bin/newuidmap ("
check "plain newuidmap in PATH: not mentioned" eval "! grep -qF '$plain_helpers' '$PW_OUT'"
PW_OUTER=(unshare --mount --propagation private sh -c 'mount --bind "$0" /usr/bin/newuidmap && exec "$@"' "$plain_helpers/newuidmap")
if [[ $PW_AS == user ]]; then
    run_check "/usr/bin/newuidmap without the setuid bit" 0
    expect_line "newuidmap without setuid" warning newuidmap "/usr/bin/newuidmap is neither setuid root"         "does not run it" "chmod 4755"
    expect_line "newuidmap without setuid" ok id-map "single-id map"
    PW_DEADLINE=30 pw_run -p "$(free_port)" -P 8080 -- cat /proc/self/uid_map
    expect_status "a launch with /usr/bin/newuidmap not setuid (the single-id map)" 0
    expect_eq "uid_map inside: the own uid alone" "$PW_UID $PW_UID 1" "$(awk '{print $1, $2, $3}' "$PW_OUT")"
else
    run_check "/usr/bin/newuidmap without the setuid bit, as root" 0
    expect_line "newuidmap without setuid, as root" ok newuidmap "/usr/bin/newuidmap (root's, run by root"
fi
PW_OUTER=()
check "/usr/bin/newuidmap on the host is still setuid" test -u /usr/bin/newuidmap

# --- portwrap setuid: refused before --check looks at anything ----------------------------
if [[ $PW_AS == user ]]; then
    setuid_copy=$PW_TMP/bin/portwrap-setuid
    cp "$PW_BIN" "$setuid_copy" && chmod 4755 "$setuid_copy"
    plain_bin=$PW_BIN
    PW_BIN=$setuid_copy
    pw_run --check
    PW_BIN=$plain_bin
    rm -f "$setuid_copy"
    expect_status "portwrap installed setuid root: --check" 125
    expect_one_error_line "portwrap installed setuid root: --check" "elevated privileges" "chmod 0755"
    expect_eq "portwrap installed setuid root: --check prints nothing on stdout" "" "$(cat "$PW_OUT")"
else
    log "(a setuid portwrap is checked in the 'user' run)"
fi

pw_finish
