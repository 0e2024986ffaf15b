#!/usr/bin/env bash
# The HPC case: a user who comes from a directory service (LDAP/SSSD) is known to NSS
# but is not in /etc/passwd, and has /etc/subuid and /etc/subgid entries (one by
# name, one by uid). The static portwrap must not crash in an NSS lookup, must find
# the entries, map them through newuidmap/newgidmap and forward a real connection.
#
# libnss-extrausers stands in for sss/ldap: in a private mount namespace this test
# points /etc/nsswitch.conf at it and adds the user and its ranges, so the host's
# own files are never changed.
source "$(dirname "$0")/../integration/lib.sh"

[[ -n ${PORTWRAP:-} && -x $PORTWRAP ]] || fail "PORTWRAP must name the portwrap binary"
[[ $(id -u) == 0 ]] || skip "needs root for the private mount namespace"
[[ -e /usr/lib/libnss_extrausers.so.2 || -e /lib/x86_64-linux-gnu/libnss_extrausers.so.2 ]] ||
    fail "libnss-extrausers is not installed (scripts/install-deps.sh installs it)"

uid=23457
name=pwdirectory
grep -qE "^[^:]*:[^:]*:$uid:" /etc/passwd && fail "uid $uid is in /etc/passwd; the test needs a free uid"

work=$(mktemp -d /tmp/portwrap-directory-user.XXXXXX)
PW_TAG=portwrap-directory-user-$$-$RANDOM
pw_pid=""
cleanup() {
    [[ -n $pw_pid ]] && kill -KILL "$pw_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
mkdir -p "$work/extrausers" "$work/www" "$work/out"
chmod 777 "$work/out"  # the command writes its uid_map here
printf 'passwd: files extrausers\ngroup: files extrausers\nshadow: files\n' > "$work/nsswitch.conf"
echo "$name:x:$uid:$uid:directory user:$work:/bin/sh" > "$work/extrausers/passwd"
echo "$name:x:$uid:" > "$work/extrausers/group"
{ cat /etc/subuid; echo "$name:400000:65536"; } > "$work/subuid"
{ cat /etc/subgid; echo "$uid:400000:65536"; } > "$work/subgid"
echo "served to a directory user $PW_TAG" > "$work/www/index.html"
# The checkout may be in a folder the test uid cannot enter: run a copy.
install -m 0755 "$PORTWRAP" "$work/portwrap"

host_port=$(free_port)
out=$work/portwrap.log
# Everything below runs in a private mount namespace; the user's portwrap runs there too.
unshare -m --propagation private env -i PWTEST_TAG="$PW_TAG" PATH="$PW_STD_PATH" \
    WORK="$work" UID_="$uid" NAME="$name" PORTWRAP="$work/portwrap" HOST_PORT="$host_port" sh -c '
    mkdir -p /var/lib/extrausers &&
    mount --bind "$WORK/extrausers" /var/lib/extrausers &&
    mount --bind "$WORK/nsswitch.conf" /etc/nsswitch.conf &&
    mount --bind "$WORK/subuid" /etc/subuid &&
    mount --bind "$WORK/subgid" /etc/subgid || exit 99
    cd "$WORK/www" &&
    exec setpriv --reuid="$UID_" --regid="$UID_" --clear-groups \
        env USER="$NAME" HOME="$WORK" "$PORTWRAP" -v -p "$HOST_PORT" -P 8000 \
        sh -c "cat /proc/self/uid_map > $WORK/out/uid_map; exec /usr/bin/python3 -m http.server {guest-port}"
' >"$out" 2>&1 &
pw_pid=$!

# libslirp accepts on the host before the guest listens, so wait for a real answer.
if ! wait_until 20 curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$host_port/index.html"; then
    show_file "portwrap output" "$out"
    fail "the forward never accepted a connection"
fi
body=$(curl -s --max-time 10 "http://127.0.0.1:$host_port/index.html")
expect_eq "page served through the forward" "served to a directory user $PW_TAG" "$body"
lines=$(wc -l < "$work/out/uid_map")
expect_eq "uid_map lines (subordinate range around uid $uid, via newuidmap)" 3 "$lines"
check "newuidmap was used" grep -q "newuidmap" "$out"
check "newgidmap was used" grep -q "newgidmap" "$out"

kill -TERM "$pw_pid"
wait_until 20 pid_gone "$pw_pid" || fail_later "portwrap did not exit on SIGTERM"
wait "$pw_pid"
status=$?
pw_pid=""
expect_eq "exit status after SIGTERM" 143 "$status"
leftover=$(tagged_pids)
[[ -z $leftover ]] || fail_later "processes left running: $leftover"
if ((PW_FAILURES)); then
    show_file "portwrap output" "$out"
    exit 1
fi
log "ok: a directory user with subordinate ids runs portwrap"
