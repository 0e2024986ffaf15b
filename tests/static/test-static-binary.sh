#!/usr/bin/env bash
# The static binary is what admins copy onto a login node: check that it really is
# static, and that it forwards a real connection from inside a root that holds only
# the binary, /dev, /proc and a few files — no /lib, no /usr, no newuidmap.
# Runs as root or, with PORTWRAP_TEST_AS=user, as the unprivileged test user.
source "$(dirname "$0")/../integration/lib.sh"

[[ -n ${PORTWRAP:-} && -x $PORTWRAP ]] || fail "PORTWRAP must name the static portwrap binary"
[[ $(id -u) == 0 ]] || skip "needs root to build the root and switch users"
command -v bwrap >/dev/null || fail "bubblewrap is not installed (scripts/install-deps.sh installs it)"
[[ -x /bin/busybox ]] && file /bin/busybox | grep -q 'statically linked' ||
    fail "a static /bin/busybox is needed for the server inside (Debian's busybox-static)"
as=${PORTWRAP_TEST_AS:-root}

file_says=$(file -L "$PORTWRAP")
[[ $file_says == *"statically linked"* ]] || fail "file does not say statically linked: $file_says"
ldd_says=$(ldd "$PORTWRAP" 2>&1 || true)
[[ $ldd_says == *"not a dynamic executable"* ]] || fail "ldd does not say not a dynamic executable: $ldd_says"
log "ok: file and ldd agree the binary is static"

work=$(mktemp -d /tmp/portwrap-emptyroot.XXXXXX)
root=$work/root
out=$work/output
PW_TAG=portwrap-static-$$-$RANDOM  # lib.sh's tagged_pids finds what carries it
tag=$PW_TAG
bwrap_pid=""
cleanup() {
    [[ -n $bwrap_pid ]] && kill -KILL "$bwrap_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

chmod 755 "$work"
mkdir -p "$root"/{dev,proc,etc,www,tmp}
chmod 755 "$root"
chmod 1777 "$root/tmp"
install -m 755 "$PORTWRAP" "$root/portwrap"
install -m 755 /bin/busybox "$root/busybox"
echo "hello from an empty root $tag" > "$root/www/index.html"
# Only root's and the test user's lines; no /etc/subuid entries, so the single-id map.
grep -E '^(root|portwrap-test):' /etc/passwd > "$root/etc/passwd"
: > "$root/etc/subuid"
: > "$root/etc/subgid"
[[ ! -e $root/lib && ! -e $root/usr && ! -e $root/lib64 ]] || fail "the root is not empty"

host_port=$(free_port)
run_as=()
if [[ $as == user ]]; then
    id portwrap-test >/dev/null 2>&1 || fail "test user portwrap-test is missing (scripts/setup-test-env.sh)"
    run_as=(runuser -u portwrap-test --)
fi

# The command serves one page, then waits for the test to create /tmp/stop (bounded),
# stops the server and exits 5: portwrap must pass that status on.
"${run_as[@]}" env -i PWTEST_TAG="$tag" PATH=/ "$(command -v bwrap)" --bind "$root" / --dev /dev \
    --dev-bind /dev/net/tun /dev/net/tun --proc /proc --die-with-parent --chdir / \
    /portwrap -p "$host_port" -P 8080 /busybox sh -c \
    '/busybox httpd -f -p {guest-port} -h /www & h=$!
     i=0; while [ ! -e /tmp/stop ] && [ $i -lt 600 ]; do /busybox sleep 0.1; i=$((i+1)); done
     kill $h; wait $h; exit 5' >"$out" 2>&1 &
bwrap_pid=$!

# libslirp accepts on the host before the guest listens, so wait for a real answer.
if ! wait_until 20 curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$host_port/index.html"; then
    cat "$out"
    fail "the forward from 127.0.0.1:$host_port never accepted a connection"
fi
body=$(curl -s --max-time 10 "http://127.0.0.1:$host_port/index.html")
expect_eq "page served from the empty root" "hello from an empty root $tag" "$body"

touch "$root/tmp/stop"
wait_until 20 pid_gone "$bwrap_pid" || fail "portwrap did not exit after the command did"
wait "$bwrap_pid"
status=$?
bwrap_pid=""
expect_eq "exit status through the empty root" 5 "$status"
if [[ -s $out ]]; then
    log "output:"
    sed 's/^/    | /' "$out"
fi
rm -f "$out"
# A user that is in no passwd file, like an LDAP/SSSD user on a login node: an NSS
# lookup in a static binary would load the host's NSS modules and may crash here.
if [[ $as == user ]]; then
    ids=$(setpriv --reuid=23456 --regid=23456 --clear-groups env -i PWTEST_TAG="$tag" PATH="$PW_STD_PATH" \
        "$root/portwrap" -p "$(free_port)" -P 80 sh -c 'echo "$(id -u):$(id -g)"' 2>&1)
    expect_eq "ids inside for a user missing from /etc/passwd (exit $?)" "23456:23456" "$ids"
fi
leftover=$(tagged_pids)
[[ -z $leftover ]] || fail_later "processes left running: $leftover"
((PW_FAILURES == 0)) || exit 1
log "ok: static portwrap forwards from a root with no shared libraries ($as)"
