#!/usr/bin/env bash
# Prepares this machine for portwrap's integration tests and demo. Run as root; idempotent.
#  - user 'portwrap-test': unprivileged, home dir, /bin/bash, 65536 subordinate uids and gids
#    in /etc/subuid and /etc/subgid (so portwrap uses newuidmap/newgidmap for it);
#  - user 'portwrap-nosub': unprivileged, with NO subuid/subgid entries (portwrap's
#    single-id-map fallback);
#  - /dev/net/tun: a character device 10,200 with mode 0666 (as Debian ships it);
#  - user namespaces enabled (user.max_user_namespaces > 0).
set -euo pipefail

TEST_USER=portwrap-test
NOSUB_USER=portwrap-nosub
SUB_COUNT=65536
SUB_FIRST=100000  # the lowest start we hand out, as login.defs' SUB_UID_MIN

say() { echo "setup-test-env.sh: $*"; }

if [[ $(id -u) -ne 0 ]]; then
    echo "setup-test-env.sh: must run as root" >&2
    exit 1
fi

touch /etc/subuid /etc/subgid

# create_user NAME: an ordinary user with its own group, a home dir and bash; never an
# administrator. useradd would hand out subordinate ids by itself: ask it not to.
create_user() {
    local name=$1
    if ! getent passwd "$name" >/dev/null; then
        useradd --create-home --shell /bin/bash --user-group \
            -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$name"
        say "created user $name"
    fi
    local home shell
    home=$(getent passwd "$name" | cut -d: -f6)
    shell=$(getent passwd "$name" | cut -d: -f7)
    [[ $shell == /bin/bash ]] || usermod --shell /bin/bash "$name"
    if [[ ! -d $home ]]; then
        mkdir -p "$home"
        chown "$name:" "$home"
        chmod 0750 "$home"
    fi
    local group
    for group in sudo admin wheel adm; do
        if id -nG "$name" | tr ' ' '\n' | grep -qx "$group"; then
            gpasswd -d "$name" "$group" >/dev/null
            say "removed $name from group $group"
        fi
    done
}

# remove_sub_entries NAME FILE: drops FILE's lines for NAME (by name or numeric uid).
remove_sub_entries() {
    local name=$1 file=$2 uid
    uid=$(id -u "$name")
    if grep -qE "^($name|$uid):" "$file"; then
        sed -i -E "/^($name|$uid):/d" "$file"
        say "removed $name's entries from $file"
    fi
}

# has_good_sub_entry NAME FILE: exactly one line for NAME with at least SUB_COUNT ids.
has_good_sub_entry() {
    local name=$1 file=$2 uid lines
    uid=$(id -u "$name")
    lines=$(grep -E "^($name|$uid):" "$file" || true)
    [[ -n $lines && $(wc -l <<<"$lines") -eq 1 ]] || return 1
    local count=${lines##*:}
    [[ $count =~ ^[0-9]+$ ]] && ((count >= SUB_COUNT))
}

create_user "$TEST_USER"
create_user "$NOSUB_USER"

# portwrap-test: one range, the same in both files, overlapping no existing entry of either.
if has_good_sub_entry "$TEST_USER" /etc/subuid && has_good_sub_entry "$TEST_USER" /etc/subgid; then
    say "$TEST_USER already has subordinate ids"
else
    remove_sub_entries "$TEST_USER" /etc/subuid
    remove_sub_entries "$TEST_USER" /etc/subgid
    end=$SUB_FIRST
    while IFS=: read -r _ start count; do
        [[ $start =~ ^[0-9]+$ && $count =~ ^[0-9]+$ ]] || continue
        ((start + count > end)) && end=$((start + count))
    done < <(cat /etc/subuid /etc/subgid)
    start=$(((end + SUB_COUNT - 1) / SUB_COUNT * SUB_COUNT))
    echo "$TEST_USER:$start:$SUB_COUNT" >>/etc/subuid
    echo "$TEST_USER:$start:$SUB_COUNT" >>/etc/subgid
    say "gave $TEST_USER subordinate ids $start-$((start + SUB_COUNT - 1))"
fi

# portwrap-nosub: no entries at all.
remove_sub_entries "$NOSUB_USER" /etc/subuid
remove_sub_entries "$NOSUB_USER" /etc/subgid

# /dev/net/tun, usable by unprivileged users (portwrap opens it inside its user namespace,
# where host root's file is not its own).
if [[ ! -c /dev/net/tun ]]; then
    mkdir -p /dev/net
    rm -f /dev/net/tun
    mknod /dev/net/tun c 10 200
    say "created /dev/net/tun"
fi
if [[ $(stat -c %a /dev/net/tun) != 666 ]]; then
    chmod 0666 /dev/net/tun
    say "made /dev/net/tun mode 0666"
fi

# User namespaces: portwrap needs them; some machines turn them off.
max_ns=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo missing)
if [[ $max_ns == 0 ]]; then
    echo 15000 >/proc/sys/user/max_user_namespaces
    say "enabled user namespaces (user.max_user_namespaces was 0, now 15000)"
fi
if [[ -e /proc/sys/kernel/unprivileged_userns_clone ]] &&
    [[ $(cat /proc/sys/kernel/unprivileged_userns_clone) == 0 ]]; then
    echo 1 >/proc/sys/kernel/unprivileged_userns_clone
    say "enabled unprivileged user namespaces (kernel.unprivileged_userns_clone=1)"
fi

say "ready: $TEST_USER (uid $(id -u "$TEST_USER"), subordinate ids: $(grep -E "^$TEST_USER:" /etc/subuid | cut -d: -f2-)), $NOSUB_USER (uid $(id -u "$NOSUB_USER"), no subordinate ids), /dev/net/tun $(stat -c %a /dev/net/tun)"
