#!/usr/bin/env bash
# A short demonstration of portwrap's main job, run from scratch as root:
#   1. installs what is needed, prepares the test user, builds portwrap;
#   2. as the unprivileged user portwrap-test, runs two small web servers under
#      portwrap: one on the guest port (8888), forwarded from a free host port, and
#      one on a private port;
#   3. fetches a page through the forward with curl, shows that the private port is
#      not reachable from the host (while it answers inside the namespace);
#   4. stops portwrap with SIGTERM and shows that nothing is left running.
# Exits 0 when every step worked as expected.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
builddir=build
demo_user=portwrap-test
guest_port=8888
std_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH=$std_path

step=0
step() {
    step=$((step + 1))
    printf '\n=== %d. %s\n' "$step" "$*"
}
say() { printf '    %s\n' "$*"; }
die() {
    printf '\nDEMO FAILED: %s\n' "$*" >&2
    exit 1
}

# poll DEADLINE_S CMD...: runs CMD every 0.1 s until it succeeds, at most DEADLINE_S seconds.
poll() {
    local deadline=$1 i
    shift
    for ((i = 0; i < deadline * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

alive() { [[ -e /proc/$1 ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

step "Installing build and test dependencies (Debian packages)"
bash scripts/install-deps.sh

step "Preparing the unprivileged user '$demo_user' and /dev/net/tun"
bash scripts/setup-test-env.sh

step "Building portwrap"
if [[ -f $builddir/meson-private/coredata.dat ]]; then
    meson setup --reconfigure "$builddir" --wrap-mode=nodownload >/dev/null
else
    meson setup "$builddir" --wrap-mode=nodownload >/dev/null
fi
ninja -C "$builddir" src/portwrap >/dev/null
say "built $builddir/src/portwrap: $("$builddir/src/portwrap" --version)"

# A place the demo user can read (the repo may be under /root).
demo=$(mktemp -d /tmp/portwrap-demo.XXXXXX)
portwrap_pid="" launcher="" inside_pid="" private_pid="" public_pid=""
cleanup() {
    local rc=$?
    local p
    for p in "$portwrap_pid" "$launcher" "$inside_pid" "$private_pid" "$public_pid"; do
        if [[ -n $p ]] && alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
    done
    rm -rf "$demo"
    exit "$rc"
}
trap cleanup EXIT
chmod 0755 "$demo"
cp "$builddir/src/portwrap" "$demo/portwrap"
mkdir -p "$demo/site/public" "$demo/site/private"
cat >"$demo/site/public/index.html" <<'EOF'
<html><body><h1>Hello from inside portwrap's network namespace!</h1></body></html>
EOF
echo "secret: this page should only be visible inside the namespace" >"$demo/site/private/index.html"
cat >"$demo/inside.sh" <<'EOF'
#!/bin/sh
# Runs inside the namespace: a public server on the guest port, a private one beside it.
# usage: inside.sh SITE_DIR GUEST_PORT PRIVATE_PORT
cd "$1" || exit 2
/usr/bin/python3 -m http.server "$3" --bind 0.0.0.0 --directory private >private.log 2>&1 &
priv=$!
/usr/bin/python3 -m http.server "$2" --bind 0.0.0.0 --directory public >public.log 2>&1 &
pub=$!
echo "$$ $priv $pub" >pids
trap 'kill $priv $pub 2>/dev/null; wait; exit 0' TERM INT HUP
wait
EOF
chmod 0755 "$demo/inside.sh"
mkdir -p "$demo/run"
chown -R "$demo_user:" "$demo/site" "$demo/run"

free_port() {
    /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
host_port=$(free_port)
private_port=$(free_port)

step "Starting portwrap as '$demo_user': host 127.0.0.1:$host_port -> port $guest_port inside"
say "command: portwrap -p $host_port -P $guest_port -- sh inside.sh SITE {guest-port} $private_port"
say "(inside.sh starts 'python3 -m http.server {guest-port}' and a private one on port $private_port)"
runuser -u "$demo_user" -- env PATH="$std_path" \
    sh -c 'echo $$ >"$0/portwrap.pid" && exec "$@"' "$demo/run" \
    "$demo/portwrap" -p "$host_port" -P "$guest_port" -- /bin/sh "$demo/inside.sh" "$demo/site" '{guest-port}' "$private_port" \
    >"$demo/portwrap.out" 2>"$demo/portwrap.err" </dev/null &
launcher=$!
poll 10 test -s "$demo/run/portwrap.pid" || die "portwrap did not start: $(cat "$demo/portwrap.err")"
portwrap_pid=$(<"$demo/run/portwrap.pid")
say "portwrap is running as pid $portwrap_pid (user $(ps -o user= -p "$portwrap_pid"))"

step "Fetching http://127.0.0.1:$host_port/ from the host"
fetch() { curl -sf --max-time 5 -o "$demo/page.html" "http://127.0.0.1:$host_port/"; }
if ! poll 30 fetch; then
    cat "$demo/portwrap.err" >&2
    die "no answer through the forward on 127.0.0.1:$host_port"
fi
say "curl http://127.0.0.1:$host_port/ returned:"
sed 's/^/      | /' "$demo/page.html"
grep -q "Hello from inside" "$demo/page.html" || die "unexpected page"

step "The private server on port $private_port is NOT reachable from the host"
if curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$private_port/"; then
    die "the private port $private_port answered on the host"
else
    say "curl http://127.0.0.1:$private_port/ failed (exit $?): connection refused, as expected"
fi
poll 10 test -s "$demo/site/pids" || die "the command inside did not start"
read -r inside_pid private_pid public_pid <"$demo/site/pids"
nsenter_fetch() {
    nsenter --target "$inside_pid" --net -- curl -sf --max-time 5 -o "$demo/private.html" "http://10.0.2.100:$private_port/"
}
poll 20 nsenter_fetch || die "the private server did not answer inside the namespace"
say "...yet inside the namespace (nsenter into pid $inside_pid's network) 10.0.2.100:$private_port answers:"
sed 's/^/      | /' "$demo/private.html"
say "the processes portwrap runs:"
ps -o pid,ppid,user:14,args -p "$portwrap_pid,$inside_pid,$private_pid,$public_pid" | sed 's/^/      /'

step "Stopping portwrap with SIGTERM (it forwards the signal to the command)"
kill -TERM "$portwrap_pid"
poll 20 eval '! alive "$launcher"' || die "portwrap did not exit within 20s"
status=0
wait "$launcher" || status=$?
say "portwrap exited with status $status (the command's own: its trap exits 0)"
[[ $status == 0 ]] || die "expected exit status 0"

step "Checking that nothing is left running"
all_gone() {
    local p
    for p in "$portwrap_pid" "$inside_pid" "$private_pid" "$public_pid"; do
        alive "$p" && return 1
    done
    return 0
}
if ! poll 10 all_gone; then
    ps -o pid,user:14,args -p "$portwrap_pid,$inside_pid,$private_pid,$public_pid" >&2
    die "some of the demo's processes are still running"
fi
say "portwrap ($portwrap_pid), inside.sh ($inside_pid) and both servers ($public_pid, $private_pid) have all exited"
say "processes of $demo_user now: $(ps -o pid= -u "$demo_user" | wc -l)"
if curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$host_port/"; then
    die "127.0.0.1:$host_port still answers"
fi
say "127.0.0.1:$host_port is closed again"
portwrap_pid="" launcher="" inside_pid="" private_pid="" public_pid=""

printf '\nDemo finished: the forwarded port worked, the private port stayed private, and portwrap cleaned up.\n'
