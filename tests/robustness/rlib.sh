# shellcheck shell=bash
# Shared helpers for portwrap's robustness tests (issue 4: load, faults, hostile
# input). Source it instead of lib.sh: it sources tests/integration/lib.sh and adds
#   rb_init                  pw_init, plus the test helper (tests/lib/pwtest.py) copied
#                            to $RB, where 'hold' is the robustness client
#   rb_start_server HP [OPTS...]
#                            portwrap [OPTS] -p HP -P $RB_GP running '$RB serve' inside;
#                            waits until the server listens; sets RB_READY, RB_CMD_PID
#   rb_client DEADLINE_S CMD ARGS...
#                            runs '$RB CMD ARGS' on the host under 'timeout DEADLINE_S'
#                            (a "did not hang" guard); sets RB_OUT and RB_STATUS
#   no_listener PORT         nothing on the host listens on TCP PORT (ss) or holds it bound
#   expect_no_listener WHAT PORT...
# The helper's server protocol and clients are described in tests/lib/pwtest.py.
# shellcheck source=../integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

RB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RB_GP=9000  # the guest port the test server listens on inside
_RB_SEQ=0

rb_init() {
    pw_init
    RB=$PW_TMP/bin/rbhelper.py
    if ! cp "$PW_PYTEST" "$RB" || ! chmod 0755 "$RB"; then
        fail "cannot copy $PW_PYTEST to $RB"
    fi
}

# rb_start_server HOST_PORT [PORTWRAP_OPTIONS...] [-- SERVE_OPTIONS...]: starts portwrap
# with the test server inside on $RB_GP, waits (30 s) until it listens.
rb_start_server() {
    local hp=$1
    shift
    local pw_opts=() serve_opts=()
    while (($#)); do
        if [[ $1 == -- ]]; then
            shift
            serve_opts=("$@")
            break
        fi
        pw_opts+=("$1")
        shift
    done
    _RB_SEQ=$((_RB_SEQ + 1))
    RB_READY=$PW_WORK/server.ready.$_RB_SEQ
    local pidfile=$PW_WORK/server.pid.$_RB_SEQ
    pw_start "${pw_opts[@]}" -p "$hp" -P "$RB_GP" -- /usr/bin/python3 "$RB" serve '{guest-port}' "$RB_READY" \
        --pidfile "$pidfile" "${serve_opts[@]}"
    RB_CMD_PID=""
    if wait_until 30 test -s "$pidfile"; then
        RB_CMD_PID=$(<"$pidfile")
        track_pid "$RB_CMD_PID"
    fi
    # A server started with --late listens only later: the caller waits for RB_READY.
    [[ " ${serve_opts[*]} " == *" --late "* ]] && return 0
    if ! wait_until 30 test -e "$RB_READY"; then
        fail_later "the test server inside did not start listening within 30 s"
        show_file "portwrap stderr" "$PW_ERR"
        return 1
    fi
    log "portwrap pid $PW_PID: 127.0.0.1:$hp (or --host-addr) -> port $RB_GP inside; server pid $RB_CMD_PID"
}

# rb_client DEADLINE_S CMD ARGS...: runs the helper's client CMD on the host, tagged,
# killed after DEADLINE_S (then RB_STATUS is 124). Output is logged, indented.
rb_client() {
    local deadline=$1
    shift
    RB_OUT=$(env "PWTEST_TAG=$PW_TAG" timeout -k 5 "$deadline" "$PY" "$RB" "$@" 2>&1)
    RB_STATUS=$?
    # shellcheck disable=SC2001
    sed 's/^/    | /' <<<"$RB_OUT"
}

# no_listener PORT: no TCP socket on the host listens on PORT (any address, ss), and
# none holds 127.0.0.1:PORT bound either (a new listener takes it): the handoff
# driver's host socket is bound without listening until a server takes it.
no_listener() { [[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) && $(listen_result 127.0.0.1 "$1") == listening ]]; }

# expect_no_listener WHAT PORT...: each PORT stops being listened on within 5 s.
expect_no_listener() {
    local what=$1 p
    shift
    for p in "$@"; do
        if wait_until 5 no_listener "$p"; then
            pass "$what: nothing listens on port $p"
        else
            fail_later "$what: port $p is still listened on or bound: $(ss -Hltnp "sport = :$p" 2>/dev/null | tr -s ' ') (a new listener on 127.0.0.1: $(listen_result 127.0.0.1 "$p"))"
        fi
    done
}

# pw_fd_count PID: number of open fds of PID.
pw_fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
