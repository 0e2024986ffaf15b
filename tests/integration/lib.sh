# shellcheck shell=bash
# Shared helpers for portwrap's integration tests. Source it, then call pw_init.
#
# Environment:
#   PORTWRAP          path of the portwrap binary (required)
#   PORTWRAP_TEST_AS  'root' (run portwrap as root) or 'user' (as the unprivileged
#                     user portwrap-test, through runuser); default: root
#   PORTWRAP_TEST_DRIVER  auto, handoff, relay or slirp: passed as --port-driver to every run
#                     (unset: none, portwrap's default, auto; pw_driver says which it is)
#   PORTWRAP_TEST_KERNEL  '4.18': the whole test runs as on RHEL 8, every system call
#                     newer than Linux 4.18 failing with ENOSYS (tests/old-kernel/enosys418,
#                     named by PORTWRAP_TEST_ENOSYS418)
#
# Everything a test starts gets PWTEST_TAG=<unique> in its environment; at the end
# (pw_finish) and on every exit the helpers look for processes carrying that tag
# and treat any survivor as a failure, then kill them. Only tagged processes and
# PIDs the test recorded (track_pid) are ever killed.
#
# Network rule: tests only talk to 127.0.0.0/8 on the host, and to 10.0.2.x only from
# inside a namespace that portwrap created for the test.

set -uo pipefail

PW_STD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PW_TEST_USER=portwrap-test
PW_NOSUB_USER=portwrap-nosub
PY=/usr/bin/python3
PW_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PW_REPO_ROOT=$(cd "$PW_LIB_DIR/../.." && pwd)
# The tests' one Python helper module (probes, servers, clients): run from here by root on
# the host, and from the copy $PW_HELPER by the test user and inside the namespace.
PW_PYTEST=$PW_REPO_ROOT/tests/lib/pwtest.py
PW_TEST_NAME=$(basename "$0" .sh)
PW_TEST_NAME=${PW_TEST_NAME#test-}
PW_FAILURES=0
PW_TMP=""
PW_TRACKED=()
PW_HELPERS=()
PW_OUTER=()  # commands run as root before switching user, each ending in 'exec "$@"'
PW_INNER=()  # commands run as the user right before portwrap, each ending in 'exec "$@"'
export PATH="$PW_STD_PATH"
export LC_ALL=C  # the messages checked are the untranslated ones

# ---------------------------------------------------------------- reporting

log() { printf '%s: %s\n' "$PW_TEST_NAME" "$*"; }

# skip REASON: the test cannot run here (meson counts exit 77 as skipped).
skip() {
    printf '%s: SKIP: %s\n' "$PW_TEST_NAME" "$*"
    exit 77
}

# fail MSG: a failure that ends the test at once.
fail() {
    printf '%s: FAIL: %s\n' "$PW_TEST_NAME" "$*"
    exit 1
}

# fail_later MSG: a failure; the test goes on and fails at pw_finish.
fail_later() {
    printf '%s: FAIL: %s\n' "$PW_TEST_NAME" "$*"
    PW_FAILURES=$((PW_FAILURES + 1))
}

pass() { log "ok: $*"; }

# check DESCRIPTION CMD...: runs CMD; passes if it succeeds, else fail_later.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail_later "$what"; fi
}

# expect_eq WHAT EXPECTED GOT
expect_eq() {
    if [[ $2 == "$3" ]]; then
        pass "$1 = '$3'"
    else
        fail_later "$1: expected '$2', got '$3'"
    fi
}

# show_file LABEL FILE: prints a file's contents, indented, for failure reports.
show_file() {
    log "$1 ($2):"
    if [[ -s $2 ]]; then sed 's/^/    | /' "$2" | head -n 40; else echo "    (empty)"; fi
}

# ---------------------------------------------------------------- an older kernel

# With PORTWRAP_TEST_KERNEL=4.18 the script runs itself again under enosys418, once,
# before anything else: the seccomp filter then covers everything the test starts
# (portwrap, ctl, newuidmap, the clients), across runuser and setuid, as a RHEL 8
# machine would. Root installs the filter without no_new_privs, so setuid still works.
case ${PORTWRAP_TEST_KERNEL:-} in
'') ;;
4.18)
    if [[ -z ${_PW_UNDER_ENOSYS418:-} ]]; then
        [[ -x ${PORTWRAP_TEST_ENOSYS418:-} ]] || fail "PORTWRAP_TEST_KERNEL=4.18 needs PORTWRAP_TEST_ENOSYS418 (tests/old-kernel/enosys418)"
        export _PW_UNDER_ENOSYS418=1
        exec "$PORTWRAP_TEST_ENOSYS418" bash "$0" "$@"
    fi
    grep -qE '^Seccomp:[[:space:]]+2' /proc/self/status || fail "PORTWRAP_TEST_KERNEL=4.18: no seccomp filter on this test"
    log "running as on Linux 4.18: system calls newer than 4.18 fail with ENOSYS"
    ;;
*) fail "PORTWRAP_TEST_KERNEL must be empty or '4.18', not '$PORTWRAP_TEST_KERNEL'" ;;
esac

# ---------------------------------------------------------------- waiting

_now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((10#$t / 1000)); }

# wait_until DEADLINE_S CMD...: polls CMD (every 0.05-0.2 s) until it succeeds;
# returns 1 if it did not within DEADLINE_S seconds (the loop is bounded in count too).
wait_until() {
    local deadline_s=$1
    shift
    local end=$(($(_now_ms) + deadline_s * 1000)) tries=0 max=$((deadline_s * 20 + 20)) nap=0.05
    while ((tries < max)); do
        "$@" && return 0
        (($(_now_ms) >= end)) && return 1
        tries=$((tries + 1))
        ((tries == 20)) && nap=0.2
        sleep "$nap"
    done
    return 1
}

# _loopback_only HOST: the network rule: from the host, tests only talk to loopback.
_loopback_only() {
    [[ $1 == 127.* || $1 == ::1 || $1 == localhost ]] && return 0
    fail "test bug: host-side connection to $1 (only 127.0.0.0/8 and ::1 are allowed)"
}

# port_accepts HOST PORT: a TCP connection to HOST:PORT is accepted right now.
port_accepts() {
    _loopback_only "$1"
    "$PY" "$PW_PYTEST" accepts "$1" "$2"
}

# wait_for_port HOST PORT DEADLINE_S: until a connection to HOST:PORT is accepted.
wait_for_port() { wait_until "$3" port_accepts "$1" "$2"; }

# connect_result HOST PORT [TIMEOUT_S]: prints connected|refused|timeout|error:<text>.
connect_result() {
    _loopback_only "$1"
    "$PY" "$PW_PYTEST" connect-result "$1" "$2" "${3:-5}"
}

# kernel_private_server_code PORT MARKER: Python for a Jupyter kernel that starts an
# HTTP server on PORT (all addresses, inside the namespace) answering MARKER, then
# fetches it from 127.0.0.1 and prints the answer (test-jupyter.sh, test-jupyterhub.sh).
kernel_private_server_code() {
    cat <<PYEOF
import http.server, threading, urllib.request
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'$2'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
private_server = http.server.ThreadingHTTPServer(('0.0.0.0', $1), Handler)
private_server.daemon_threads = True
threading.Thread(target=private_server.serve_forever, daemon=True).start()
print(urllib.request.urlopen('http://127.0.0.1:$1/', timeout=10).read().decode())
PYEOF
}

# listen_result HOST PORT: prints 'listening' if a new listener (with SO_REUSEADDR, as
# servers set it) can take HOST:PORT now, else error:<text>. A socket that listens on
# it, or is bound to it without SO_REUSEADDR (the handoff driver's, before a server
# binds), makes it fail; connections in TIME_WAIT do not.
listen_result() {
    _loopback_only "$1"
    "$PY" "$PW_PYTEST" listen-result "$1" "$2"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on (the kernel picks it).
free_port() { "$PY" "$PW_PYTEST" free-port; }

# ---------------------------------------------------------------- processes

# _pid_start PID: the process's start time (field 22 of /proc/PID/stat), which tells
# it apart from a later process that reuses the PID.
_pid_start() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo "${20}"
}

# track_pid PID...: records processes of this test (with their start times).
track_pid() {
    local p start
    for p in "$@"; do
        start=$(_pid_start "$p") || start=gone
        PW_TRACKED+=("$p:$start")
    done
}

# _tracked_alive PID:START: that very process is still running.
_tracked_alive() {
    local pid=${1%%:*} start=${1#*:}
    [[ $start != gone ]] && pid_alive "$pid" && [[ $(_pid_start "$pid") == "$start" ]]
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

pid_gone() { ! pid_alive "$1"; }

# tagged_pids: live processes whose environment carries this test's tag.
tagged_pids() {
    [[ -n ${PW_TAG:-} ]] || return 0
    "$PY" "$PW_PYTEST" tagged-pids "$PW_TAG"
}

# _leftovers: live processes of this test (tagged or tracked), except the host-side
# helpers still meant to run (stop_helpers ends those; the cleanup trap counts them).
_leftovers() {
    local pids=() p h keep
    mapfile -t pids < <(tagged_pids)
    for p in "${PW_TRACKED[@]}"; do _tracked_alive "$p" && pids+=("${p%%:*}"); done
    for p in "${pids[@]}"; do
        keep=1
        if [[ -z ${_PW_COUNT_HELPERS:-} ]]; then
            for h in "${PW_HELPERS[@]}"; do [[ $p == "$h" ]] && keep=0; done
        fi
        ((keep)) && echo "$p"
    done | sort -un
}

_no_leftovers() { [[ -z $(_leftovers) ]]; }

_kill_pids() {
    local sig=$1 p
    shift
    for p in "$@"; do kill "-$sig" "$p" 2>/dev/null; done
}

# stop_helpers: TERM, then KILL, the host-side helper processes started with start_helper.
stop_helpers() {
    local p alive=()
    ((${#PW_HELPERS[@]})) || return 0
    _kill_pids TERM "${PW_HELPERS[@]}"
    _helpers_gone() { local q; for q in "${PW_HELPERS[@]}"; do pid_alive "$q" && return 1; done; return 0; }
    if ! wait_until 5 _helpers_gone; then
        for p in "${PW_HELPERS[@]}"; do pid_alive "$p" && alive+=("$p"); done
        ((${#alive[@]})) && _kill_pids KILL "${alive[@]}"
    fi
    for p in "${PW_HELPERS[@]}"; do wait "$p" 2>/dev/null; done
    PW_HELPERS=()
}

# assert_no_leftovers [DEADLINE_S]: every process this test started has ended (within
# the deadline); survivors are reported as a failure, then killed.
assert_no_leftovers() {
    local deadline=${1:-10}
    if wait_until "$deadline" _no_leftovers; then
        pass "no process of this test is left running"
        return 0
    fi
    local pids
    mapfile -t pids < <(_leftovers)
    fail_later "processes of this test still running after ${deadline}s: ${pids[*]}"
    ps -o pid,ppid,user,stat,args -p "$(IFS=,; echo "${pids[*]}")" 2>/dev/null | sed 's/^/    /'
    _kill_pids KILL "${pids[@]}"
    wait_until 5 _no_leftovers
    return 1
}

_pw_cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    _PW_COUNT_HELPERS=1
    if [[ -n ${PW_TAG:-} ]]; then
        local pids
        mapfile -t pids < <(_leftovers)
        if ((${#pids[@]})); then
            echo "$PW_TEST_NAME: cleanup: killing leftover processes: ${pids[*]}" >&2
            ps -o pid,ppid,user,stat,args -p "$(IFS=,; echo "${pids[*]}")" 2>/dev/null | sed 's/^/    /' >&2
            _kill_pids KILL "${pids[@]}"
            wait_until 5 _no_leftovers
            ((rc == 0)) && rc=1
        fi
    fi
    if [[ -n $PW_TMP && -d $PW_TMP && -z ${PW_KEEP_TMP:-} ]]; then
        rm -rf --one-file-system "$PW_TMP"
    fi
    exit "$rc"
}

# pw_finish: stops helpers, checks that nothing is left, exits 0 or 1.
pw_finish() {
    stop_helpers
    assert_no_leftovers 10
    if ((PW_FAILURES)); then
        log "$PW_FAILURES check(s) FAILED (portwrap run as $PW_USER)"
        exit 1
    fi
    log "PASS (portwrap run as $PW_USER)"
    exit 0
}

# ---------------------------------------------------------------- setup

# pw_init: checks the environment, makes the temp dir, copies portwrap where the test
# user can run it, copies the python helper (tests/lib/pwtest.py). Sets:
#   PW_AS    root|user;  PW_USER  name portwrap runs as;  PW_UID, PW_GID  its ids
#   PW_TMP   temp dir (0755, root's);  PW_WORK  work dir owned by PW_USER (portwrap's cwd)
#   PW_BIN   the copied portwrap;  PW_HELPER  python helper (pwhelper.py: its commands
#            are pwtest.py's, 'hold' meaning listen-hold);  PW_TAG  the process tag
pw_init() {
    PW_AS=${PORTWRAP_TEST_AS:-root}
    case $PW_AS in
    root) PW_USER=root ;;
    user) PW_USER=$PW_TEST_USER ;;
    *) fail "PORTWRAP_TEST_AS must be 'root' or 'user', not '$PW_AS'" ;;
    esac
    [[ -n ${PORTWRAP:-} ]] || fail "set PORTWRAP to the portwrap binary (e.g. build/src/portwrap)"
    [[ -f $PORTWRAP && -x $PORTWRAP ]] || fail "PORTWRAP=$PORTWRAP is not an executable file"
    [[ $(id -u) -eq 0 ]] || skip "integration tests run as root (they switch users with runuser and set up mount namespaces)"

    if [[ ! -c /dev/net/tun ]] || [[ $PW_AS == user ]] || [[ ${PW_NEEDS_NOSUB:-} == 1 ]]; then
        if [[ ! -c /dev/net/tun ]] || ! getent passwd "$PW_TEST_USER" >/dev/null || ! getent passwd "$PW_NOSUB_USER" >/dev/null ||
            ! grep -q "^$PW_TEST_USER:" /etc/subuid 2>/dev/null || [[ $(stat -c %a /dev/net/tun 2>/dev/null) != 666 ]]; then
            log "test users or /dev/net/tun not set up: running scripts/setup-test-env.sh"
            bash "$PW_REPO_ROOT/scripts/setup-test-env.sh" || fail "scripts/setup-test-env.sh failed"
        fi
    fi
    PW_UID=$(id -u "$PW_USER")
    PW_GID=$(id -g "$PW_USER")

    # User namespaces must work for the user running portwrap; skip only if they are off.
    local max_ns
    max_ns=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)
    [[ $max_ns -gt 0 ]] || skip "user namespaces are unavailable here (user.max_user_namespaces=$max_ns)"
    local probe_err
    if [[ $PW_USER == root ]]; then
        probe_err=$(unshare --user --map-root-user --net true 2>&1 </dev/null)
    else
        probe_err=$(cd / && runuser -u "$PW_USER" -- unshare --user --map-root-user --net true 2>&1 </dev/null)
    fi
    # shellcheck disable=SC2181
    [[ $? -eq 0 ]] || skip "user namespaces are unavailable to $PW_USER here: $probe_err"

    PW_TMP=$(mktemp -d /tmp/portwrap-test.XXXXXX) || fail "mktemp failed"
    trap _pw_cleanup EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    trap 'exit 129' HUP
    chmod 0755 "$PW_TMP"
    mkdir -m 0755 "$PW_TMP/bin"
    mkdir -m 1777 "$PW_TMP/pids"
    mkdir -m 0755 "$PW_TMP/work"
    chown "$PW_USER:" "$PW_TMP/work"
    PW_WORK=$PW_TMP/work
    PW_BIN=$PW_TMP/bin/portwrap
    cp "$PORTWRAP" "$PW_BIN" && chmod 0755 "$PW_BIN" || fail "cannot copy $PORTWRAP to $PW_BIN"
    if ldd "$PW_BIN" 2>/dev/null | grep -q 'not found'; then
        fail "the copied portwrap misses shared libraries: $(ldd "$PW_BIN" | grep 'not found' | tr -s ' \t\n' ' ')"
    fi
    PW_HELPER=$PW_TMP/bin/pwhelper.py
    if ! cp "$PW_PYTEST" "$PW_HELPER" || ! chmod 0755 "$PW_HELPER"; then
        fail "cannot copy $PW_PYTEST to $PW_HELPER"
    fi
    PW_TAG="$PW_TEST_NAME-$$-$RANDOM$RANDOM"
    log "portwrap runs as $PW_USER (uid $PW_UID, gid $PW_GID); temp dir $PW_TMP"
}

# ---------------------------------------------------------------- running portwrap

# pw_driver: the port driver of this test's runs: PORTWRAP_TEST_DRIVER, or, for the
# default (auto), the one portwrap picks here (handoff; the relay on an older kernel, as
# in the kernel-4.18 suite, or with PORTWRAP_TEST_NO_HANDOFF=1), from its -v line.
pw_driver() {
    if [[ -z ${_PW_DRIVER:-} ]]; then
        _PW_DRIVER=${PORTWRAP_TEST_DRIVER:-auto}
        if [[ $_PW_DRIVER == auto ]]; then
            _PW_DRIVER=$("$PORTWRAP" -v --port-driver=auto -p 127.0.0.1:0:1 -- true 2>&1 </dev/null |
                sed -n 's/^portwrap: port driver: \([a-z]*\).*/\1/p' | head -n 1)
            [[ -n $_PW_DRIVER ]] || fail "portwrap -v does not say which port driver auto picks"
        fi
    fi
    echo "$_PW_DRIVER"
}


_PW_SEQ=0

# _pw_argv ARGS...: fills _PW_ARGV with the command line that runs portwrap ARGS as
# ${PW_AS_USER:-$PW_USER} and writes portwrap's own PID to the file $_PW_PIDFILE.
# PATH is the standard one (or $PW_PATH); the forwarded signals start with their
# default action (a background job of a script would otherwise ignore INT and QUIT).
_pw_argv() {
    local user=${PW_AS_USER:-$PW_USER}
    _PW_ARGV=("${PW_OUTER[@]}")
    [[ $user == root ]] || _PW_ARGV+=(runuser -u "$user" --)
    _PW_ARGV+=(env --default-signal=INT,QUIT,TERM,HUP,USR1,USR2
        "PATH=${PW_PATH:-$PW_STD_PATH}" "PWTEST_TAG=$PW_TAG"
        "${PW_INNER[@]}"
        sh -c 'echo $$ > "$0" && exec "$@"' "$_PW_PIDFILE" "$PW_BIN"
        ${PORTWRAP_TEST_DRIVER:+"--port-driver=$PORTWRAP_TEST_DRIVER"} "$@")
}

# pw_start ARGS...: starts portwrap ARGS in the background (cwd $PW_WORK, stdin
# ${PW_STDIN:-/dev/null}). Sets PW_PID (portwrap itself; empty if it never started), PW_LAUNCHER
# (the child to wait for), PW_OUT and PW_ERR (files with its stdout and stderr).
pw_start() {
    _PW_SEQ=$((_PW_SEQ + 1))
    _PW_PIDFILE=$PW_TMP/pids/portwrap.$_PW_SEQ
    PW_OUT=$PW_TMP/out.$_PW_SEQ
    PW_ERR=$PW_TMP/err.$_PW_SEQ
    PW_PID=""
    _pw_argv "$@"
    (cd "$PW_WORK" && exec "${_PW_ARGV[@]}") >"$PW_OUT" 2>"$PW_ERR" <"${PW_STDIN:-/dev/null}" &
    PW_LAUNCHER=$!
    track_pid "$PW_LAUNCHER"
    _pw_started() { [[ -s $_PW_PIDFILE ]] || pid_gone "$PW_LAUNCHER"; }
    wait_until 20 _pw_started || fail_later "portwrap did not start within 20s"
    if [[ -s $_PW_PIDFILE ]]; then
        PW_PID=$(<"$_PW_PIDFILE")
        track_pid "$PW_PID"
    fi
}

# pw_wait [DEADLINE_S]: waits for the portwrap started last (PW_LAUNCHER) to exit and
# sets PW_STATUS (as the shell reports it: 128+N for a signal). On timeout: a failure,
# portwrap is killed and PW_STATUS=timeout.
pw_wait() {
    local deadline=${1:-60}
    if ! wait_until "$deadline" pid_gone "$PW_LAUNCHER"; then
        fail_later "portwrap (pid ${PW_PID:-?}) still running after ${deadline}s"
        [[ -n $PW_PID ]] && kill -KILL "$PW_PID" 2>/dev/null
        kill -KILL "$PW_LAUNCHER" 2>/dev/null
        wait "$PW_LAUNCHER" 2>/dev/null
        PW_STATUS=timeout
        return 1
    fi
    wait "$PW_LAUNCHER" 2>/dev/null
    PW_STATUS=$?
    return 0
}

# pw_run ARGS...: runs portwrap ARGS to completion (deadline ${PW_DEADLINE:-60}s).
# Sets PW_STATUS, PW_OUT, PW_ERR, PW_PID.
pw_run() {
    pw_start "$@"
    pw_wait "${PW_DEADLINE:-60}"
}

# pw ARGS...: runs portwrap in the foreground as the test's user, output not captured.
pw() {
    _PW_SEQ=$((_PW_SEQ + 1))
    _PW_PIDFILE=$PW_TMP/pids/portwrap.$_PW_SEQ
    _pw_argv "$@"
    (cd "$PW_WORK" && exec "${_PW_ARGV[@]}") </dev/null
}

# as_user USER CMD...: runs CMD as USER (directly if root), cwd $PW_WORK, tagged.
as_user() {
    local user=$1
    shift
    if [[ $user == root ]]; then
        (cd "$PW_WORK" && exec env "PATH=$PW_STD_PATH" "PWTEST_TAG=$PW_TAG" "$@")
    else
        (cd "$PW_WORK" && exec runuser -u "$user" -- env "PATH=$PW_STD_PATH" "PWTEST_TAG=$PW_TAG" "$@")
    fi
}

# start_helper OUTFILE CMD...: starts a host-side helper in the background (tagged,
# stopped by stop_helpers/pw_finish). Sets HELPER_PID.
start_helper() {
    local out=$1
    shift
    env "PWTEST_TAG=$PW_TAG" "$@" >"$out" 2>&1 </dev/null &
    HELPER_PID=$!
    PW_HELPERS+=("$HELPER_PID")
    track_pid "$HELPER_PID"
}

# ---------------------------------------------------------------- portwrap's output

# stderr_lines FILE: number of lines (a last line without newline counts).
stderr_lines() { awk 'END { print NR }' "$1"; }

# expect_status WHAT EXPECTED: compares PW_STATUS.
expect_status() {
    if [[ $PW_STATUS == "$2" ]]; then
        pass "$1: exit status $2"
    else
        fail_later "$1: expected exit status $2, got $PW_STATUS"
        show_file "stdout" "$PW_OUT"
        show_file "stderr" "$PW_ERR"
    fi
}

# expect_one_error_line WHAT PATTERN...: stderr ($PW_ERR) is exactly one line, it starts
# with 'portwrap: ' and contains every PATTERN (fixed strings, case-insensitive).
expect_one_error_line() {
    local what=$1 pat ok=1
    shift
    local n
    n=$(stderr_lines "$PW_ERR")
    if [[ $n != 1 ]]; then
        fail_later "$what: expected exactly one line on stderr, got $n"
        ok=0
    fi
    if ! head -n 1 "$PW_ERR" | grep -q '^portwrap: '; then
        fail_later "$what: stderr does not start with 'portwrap: '"
        ok=0
    fi
    for pat in "$@"; do
        if ! grep -qiF -- "$pat" "$PW_ERR"; then
            fail_later "$what: stderr does not mention '$pat'"
            ok=0
        fi
    done
    if ((ok)); then
        pass "$what: one stderr line: $(head -n 1 "$PW_ERR")"
    else
        show_file "stderr" "$PW_ERR"
    fi
}
