#!/usr/bin/env bash
# jupyter: a real Jupyter server (Debian's jupyter-server) under portwrap, used from
# the host only through the forwarded port:
#  - GET /api/status with the token answers 200; without it, 403 (or 401);
#  - a kernel started through the REST API runs code sent over its websocket
#    (python3-websocket) and the result comes back;
#  - that kernel starts a second HTTP server on another port inside the namespace:
#    the kernel reaches it on 127.0.0.1, the host's 127.0.0.1:that port is refused;
#  - the kernel's network namespace is not the host's;
#  - /api/shutdown ends Jupyter, portwrap exits 0 and nothing is left running.
source "$(dirname "$0")/lib.sh"
pw_init

[[ -x /usr/bin/jupyter-server ]] || fail "jupyter-server is not installed (scripts/install-deps.sh installs it)"
"$PY" -c 'import websocket, ipykernel, jupyter_server' 2>"$PW_TMP/import.err" ||
    fail "python3-websocket, python3-ipykernel or python3-jupyter-server missing: $(tail -n 1 "$PW_TMP/import.err")"

# Jupyter's own directories, all in the test's work directory, writable by its user.
jhome=$PW_WORK/home
mkdir -p "$jhome/notebooks" "$jhome/.jupyter" "$jhome/.local/share/jupyter" "$jhome/runtime" "$jhome/.ipython"
chmod 0700 "$jhome/runtime"
chown -R "$PW_USER:" "$jhome"
token=$("$PY" -c 'import secrets; print(secrets.token_hex(24))')

# ---------------------------------------------------------------- host-side client
# Talks to Jupyter through the forwarded port on 127.0.0.1 only. Every call has a timeout.
client=$PW_LIB_DIR/jupyter-client.py
jc() { timeout 120 "$PY" "$client" "$@"; }

# ---------------------------------------------------------------- start Jupyter
hp=$(free_port)
gp=8888
private=$(free_port)  # the kernel's own server: a port nothing on the host listens on
[[ $private != "$gp" && $private != "$hp" ]] || private=$(free_port)
root_args=()
[[ $PW_USER == root ]] && root_args=(--allow-root)  # Jupyter refuses root without it

pw_start -p "$hp" -P "$gp" -- /usr/bin/env \
    "HOME=$jhome" "JUPYTER_CONFIG_DIR=$jhome/.jupyter" "JUPYTER_DATA_DIR=$jhome/.local/share/jupyter" \
    "JUPYTER_RUNTIME_DIR=$jhome/runtime" "IPYTHONDIR=$jhome/.ipython" JUPYTER_PLATFORM_DIRS=1 \
    /usr/bin/jupyter-server --port='{guest-port}' --ip=0.0.0.0 --no-browser "${root_args[@]}" \
    "--ServerApp.token=$token" --ServerApp.password= --ServerApp.port_retries=0 \
    "--ServerApp.root_dir=$jhome/notebooks" --ServerApp.shutdown_no_activity_timeout=600
log "portwrap pid ${PW_PID:-?}: jupyter-server on 10.0.2.100/127.0.0.1:$gp inside, host 127.0.0.1:$hp"

jupyter_up() { [[ $(jc status "$hp" "$token") == 200 ]]; }
if ! wait_until 90 jupyter_up; then
    fail_later "Jupyter did not answer GET /api/status on 127.0.0.1:$hp within 90s"
    show_file "portwrap/Jupyter stderr" "$PW_ERR"
    kill -TERM "$PW_PID" 2>/dev/null
    pw_wait 30
    pw_finish
fi
pass "GET /api/status with the token: 200"
if [[ $(pw_driver) == handoff ]]; then
    # The host port's listening socket is Jupyter's own: no relay in between.
    check "handoff: Jupyter itself holds the listening socket of 127.0.0.1:$hp" eval \
        "ss -Hltnp 'sport = :$hp' | grep -q jupyter"
fi

status=$(jc status "$hp" -)
check "GET /api/status without a token is refused ($status)" test "$status" = 403 -o "$status" = 401
status=$(jc status "$hp" "wrong$token")
check "GET /api/status with a wrong token is refused ($status)" test "$status" = 403 -o "$status" = 401

# ---------------------------------------------------------------- a kernel, over its websocket
kernel=$(jc start-kernel "$hp" "$token" 2>"$PW_TMP/kernel.err")
if [[ -z $kernel ]]; then
    fail_later "could not start a kernel: $(cat "$PW_TMP/kernel.err")"
    show_file "portwrap/Jupyter stderr" "$PW_ERR"
else
    pass "POST /api/kernels started kernel $kernel"
    run_code() {  # run_code WHAT CODE: runs CODE in the kernel, output in $PW_TMP/code.out
        printf '%s\n' "$2" >"$PW_TMP/code.py"
        if jc exec "$hp" "$token" "$kernel" "$PW_TMP/code.py" 60 >"$PW_TMP/code.out" 2>"$PW_TMP/code.err"; then
            return 0
        fi
        fail_later "$1: $(tail -n 5 "$PW_TMP/code.err")"
        return 1
    }

    run_code "print(6 * 7) in the kernel" 'print(6 * 7)' &&
        expect_eq "print(6 * 7) run over the kernel's websocket" 42 "$(cat "$PW_TMP/code.out")"

    # The kernel is inside portwrap's network namespace, not the host's.
    host_ns=$(readlink /proc/self/ns/net)
    run_code "the kernel's network namespace" 'import os; print(os.readlink("/proc/self/ns/net"))' &&
        check "the kernel's network namespace ($(cat "$PW_TMP/code.out")) is not the host's ($host_ns)" \
            test "$(cat "$PW_TMP/code.out")" != "$host_ns"

    # A second server, started by the kernel on another port, reachable from inside only.
    marker="private-$RANDOM$RANDOM"
    run_code "the kernel starts an HTTP server on port $private" "$(kernel_private_server_code "$private" "$marker")" &&
        expect_eq "inside, the kernel fetches its own server at 127.0.0.1:$private" "$marker" "$(cat "$PW_TMP/code.out")"

    expect_eq "host 127.0.0.1:$private (the kernel's private server)" refused "$(connect_result 127.0.0.1 "$private" 5)"
    check "the forwarded port 127.0.0.1:$hp still answers" jupyter_up

    # The private server was still up while the host was refused.
    run_code "the kernel fetches its server again" "
print(urllib.request.urlopen('http://127.0.0.1:$private/', timeout=10).read().decode())
private_server.shutdown()
private_server.server_close()" &&
        expect_eq "inside, the private server is still up after the host's attempt" "$marker" "$(cat "$PW_TMP/code.out")"

    expect_eq "DELETE /api/kernels/$kernel" 204 "$(jc delete-kernel "$hp" "$token" "$kernel")"
fi

# ---------------------------------------------------------------- shut down
expect_eq "POST /api/shutdown" 200 "$(jc shutdown "$hp" "$token")"
if pw_wait 60; then
    expect_status "Jupyter stopped through /api/shutdown" 0
fi
check "the host port 127.0.0.1:$hp is closed after portwrap exits" \
    test "$(connect_result 127.0.0.1 "$hp" 5)" = refused
if ((PW_FAILURES)); then
    show_file "portwrap/Jupyter stderr" "$PW_ERR"
fi

pw_finish
