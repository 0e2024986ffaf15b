#!/usr/bin/env bash
# elevated copy (issue 11, item 3): a copy of portwrap that the kernel starts with
# more privileges than its user — setuid root, setgid, or with a file capability —
# refuses to run before it does anything else, in every mode. The attack: root runs
# a real portwrap whose control socket only root may use (0600 root, in a 0700
# directory); the unprivileged user portwrap-test runs the elevated copies against it
# ('ctl SOCKET list'), runs '--check' and a normal launch. Each must exit 125 with one
# line and print nothing that came from the server. The copies live in a directory
# only portwrap-test may enter, and go with the test's temp dir (the EXIT trap).
source "$(dirname "$0")/lib.sh"
pw_init

attacker=$PW_TEST_USER
[[ $(findmnt -no OPTIONS -T "$PW_TMP") != *nosuid* ]] || skip "$PW_TMP is on a nosuid mount: setuid copies would not be elevated"

# The victim: root's portwrap, its control socket reachable by root alone.
rootonly=$PW_TMP/rootonly
mkdir -m 0700 "$rootonly"
ctl_sock=$rootonly/ctl.sock
PW_AS_USER=root pw_start --control-socket "$ctl_sock" -p 0:8080 -- sleep 120
check "root's control socket appears" wait_until 20 test -S "$ctl_sock"
expect_eq "owner and mode of root's control socket" "root 600" "$(stat -c '%U %a' "$ctl_sock")"
server_pid=$PW_PID
forward=$(grep -oE 'listening on [^,]+' "$PW_ERR" | sed 's/listening on //')
check "root's portwrap forwards $forward" test -n "$forward"

# The copies.
elevated=$PW_TMP/elevated
mkdir -m 0750 "$elevated"
chgrp "$(id -g "$attacker")" "$elevated"
copies=()
cp "$PW_BIN" "$elevated/setuid" && chmod 4755 "$elevated/setuid" && copies+=(setuid)
cp "$PW_BIN" "$elevated/setgid" && chgrp root "$elevated/setgid" && chmod 2755 "$elevated/setgid" && copies+=(setgid)
if command -v setcap >/dev/null; then
    cp "$PW_BIN" "$elevated/filecap" && chmod 0755 "$elevated/filecap" &&
        setcap cap_net_bind_service+ep "$elevated/filecap" && copies+=(filecap)
else
    log "(no setcap here: the copy with a file capability is not tried; install libcap2-bin)"
fi
check "the setuid and setgid copies were made" test "${#copies[@]}" -ge 2

# Positive control: the root-only socket is out of the attacker's reach with the
# plain binary (so any answer below came through the copy's privileges).
as_user "$attacker" "$PW_BIN" ctl "$ctl_sock" list >"$PW_TMP/plain.out" 2>"$PW_TMP/plain.err"
expect_eq "the plain binary, as $attacker: ctl is refused by the file system (exit status)" 125 "$?"
check "... with Permission denied" grep -q "Permission denied" "$PW_TMP/plain.err"

# refused WHAT ARGS...: a run of the copy as the attacker exits 125 with one line that
# names the elevated privileges, prints nothing on stdout and nothing of the server's.
refused() {
    local what=$1
    shift
    as_user "$attacker" "$@" >"$PW_TMP/copy.out" 2>"$PW_TMP/copy.err"
    PW_STATUS=$?
    PW_OUT=$PW_TMP/copy.out PW_ERR=$PW_TMP/copy.err expect_status "$what" 125
    PW_ERR=$PW_TMP/copy.err expect_one_error_line "$what" "elevated privileges"
    expect_eq "$what: nothing on stdout" "" "$(cat "$PW_TMP/copy.out")"
    if grep -qF -e "$forward" -e "8080" "$PW_TMP/copy.out" "$PW_TMP/copy.err"; then
        fail_later "$what: printed what came from root's portwrap"
        show_file stdout "$PW_TMP/copy.out"
    fi
}
for copy in "${copies[@]}"; do
    refused "$copy copy: ctl list on root's socket" "$elevated/$copy" ctl "$ctl_sock" list
    refused "$copy copy: ctl add on root's socket" "$elevated/$copy" ctl "$ctl_sock" add 0:22
    refused "$copy copy: --check" "$elevated/$copy" --check
    refused "$copy copy: a launch" "$elevated/$copy" -p 0:8080 -- true
    refused "$copy copy: --version" "$elevated/$copy" --version
done
# The socket still serves its owner, and nothing was added.
expect_eq "root's forwards are unchanged" "$forward:8080/tcp" "$("$PW_BIN" ctl "$ctl_sock" list 2>&1)"

rm -f "${copies[@]/#/$elevated/}"
kill -TERM "$server_pid"
pw_wait 30
expect_status "root's portwrap ends with SIGTERM" 143
pw_finish
