#!/usr/bin/env bash
# jupyterhub: Debian's JupyterHub 3.0 and configurable-http-proxy, run as the
# unprivileged test user with the dummy authenticator and the stock LocalProcessSpawner,
# whose command is exactly the recipe's line:
#     c.Spawner.cmd = ['portwrap', '--jupyterhub', '--', 'jupyterhub-singleuser']
#  - the login form takes the user's name and password (302 to the hub);
#  - the hub API starts the user's server; it answers through the hub's proxy
#    (/user/NAME/api/status with a token, which the server checks with the hub API:
#    the single-user server reached the hub only through --jupyterhub's -T forward);
#  - a kernel started through the proxy runs code over its websocket;
#  - from that kernel: the hub API's 127.0.0.1:HUB is reachable (positive control);
#    the proxy's REST API, the proxy's public port and another host loopback
#    service are not, neither at 127.0.0.1 nor at 10.0.2.2 — while the host reaches
#    the proxy's REST API (positive control);
#  - a server the kernel opens on another port inside is not reachable from the host;
#  - stopping the server through the hub API leaves no portwrap, no kernel and no
#    listener on the server's port.
# Every wait is bounded; the whole test takes well under two minutes.
source "$(dirname "$0")/lib.sh"
pw_init

[[ -x /usr/bin/jupyterhub && -x /usr/bin/configurable-http-proxy && -x /usr/bin/jupyterhub-singleuser ]] ||
    fail "jupyterhub, configurable-http-proxy or jupyterhub-singleuser is missing (scripts/install-deps.sh installs them)"
"$PY" -c 'import websocket, notebook.notebookapp, jupyterhub' 2>"$PW_TMP/import.err" ||
    fail "python3-websocket, python3-notebook or jupyterhub missing: $(tail -n 1 "$PW_TMP/import.err")"
# The hub runs as the test user, and so does its spawner: LocalProcessSpawner then
# starts the server as that same user, which needs no privilege.
[[ $PW_USER != root ]] || skip "the hub runs as the unprivileged test user only (PORTWRAP_TEST_AS=user)"
user=$PW_USER
home=$(getent passwd "$user" | cut -d: -f6)
[[ -d $home ]] || fail "the test user's home $home does not exist (LocalProcessSpawner starts the server there)"

hub_port=$(free_port)
proxy_port=$(free_port)
proxy_api_port=$(free_port)
other_port=$(free_port)
private=$(free_port)
ports=$(printf '%s\n' "$hub_port" "$proxy_port" "$proxy_api_port" "$other_port" "$private" | sort -u | wc -l)
[[ $ports == 5 ]] || fail "free_port gave the same port twice; run the test again"
password=$("$PY" -c 'import secrets; print(secrets.token_hex(12))')
api_token=$("$PY" -c 'import secrets; print(secrets.token_hex(24))')
proxy_token=$("$PY" -c 'import secrets; print(secrets.token_hex(24))')

# ---------------------------------------------------------------- the hub's configuration
hubdir=$PW_WORK/hub
mkdir -p "$hubdir"
cat >"$hubdir/jupyterhub_config.py" <<EOF
c = get_config()  # noqa
c.JupyterHub.ip = '127.0.0.1'
c.JupyterHub.port = $proxy_port
c.JupyterHub.hub_ip = '127.0.0.1'
c.JupyterHub.hub_port = $hub_port
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:$proxy_api_port'
c.ConfigurableHTTPProxy.auth_token = '$proxy_token'
c.ConfigurableHTTPProxy.pid_file = '$hubdir/proxy.pid'
c.JupyterHub.db_url = 'sqlite:///$hubdir/jupyterhub.sqlite'
c.JupyterHub.cookie_secret_file = '$hubdir/cookie_secret'
c.JupyterHub.pid_file = '$hubdir/jupyterhub.pid'
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = 'dummy'
c.DummyAuthenticator.password = '$password'
c.Authenticator.allowed_users = {'$user'}
# A service token for the test's API calls: start and stop servers, use them.
c.JupyterHub.services = [{'name': 'portwrap-test-client', 'api_token': '$api_token'}]
c.JupyterHub.load_roles = [{
    'name': 'portwrap-test-client',
    'scopes': ['admin:users', 'admin:servers', 'access:servers', 'read:users'],
    'services': ['portwrap-test-client'],
}]
# The recipe's line, as docs/recipes.md gives it.
c.Spawner.cmd = ['portwrap', '--jupyterhub', '--', 'jupyterhub-singleuser']
c.Spawner.environment = {
    # Debian's jupyter-server has no page handlers without nbclassic or JupyterLab.
    'JUPYTERHUB_SINGLEUSER_APP': 'notebook.notebookapp.NotebookApp',
    'PWTEST_TAG': '$PW_TAG',  # the test's leftover check finds the server's processes
}
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
EOF
chown -R "$user:" "$hubdir"
# configurable-http-proxy needs Debian's node modules when node is not Debian's.
node_path=/usr/share/nodejs:/usr/lib/nodejs

# ---------------------------------------------------------------- before the hub: --check, the errors
# What the spawner will give the server, as --check and --jupyterhub read it.
spawner_env=("JUPYTERHUB_SERVICE_URL=http://127.0.0.1:$private/user/$user/"
    "JUPYTERHUB_API_URL=http://127.0.0.1:$hub_port/hub/api")
PW_INNER=(env "${spawner_env[@]}")
pw_run --check
PW_INNER=()
expect_eq "--check in the spawner's environment shows what --jupyterhub would forward" \
    "ok      jupyterhub: --jupyterhub would forward 127.0.0.1:$private -> port $private inside (the single-user server); 127.0.0.1:$hub_port inside -> the host's 127.0.0.1:$hub_port (the hub API)" \
    "$(grep '^ok      jupyterhub: ' "$PW_OUT")"
PW_INNER=(env "${spawner_env[1]}")
pw_run --jupyterhub -- true
PW_INNER=()
expect_status "--jupyterhub without JUPYTERHUB_SERVICE_URL" 125
expect_one_error_line "--jupyterhub without JUPYTERHUB_SERVICE_URL" "JUPYTERHUB_SERVICE_URL is not set" "c.Spawner.cmd"
PW_INNER=(env "${spawner_env[0]}" "JUPYTERHUB_API_URL=http://10.0.2.15:$hub_port/hub/api")
pw_run --jupyterhub -- true
PW_INNER=()
expect_status "--jupyterhub with a hub inside libslirp's network" 125
expect_one_error_line "--jupyterhub with a hub inside libslirp's network" "10.0.2.0/24" "hub_connect_ip"

# ---------------------------------------------------------------- start the hub
# portwrap is found on PATH by the spawner (PATH is in its env_keep).
start_helper "$PW_TMP/hub.log" runuser -u "$user" -- env -C "$hubdir" "PATH=$PW_TMP/bin:$PW_STD_PATH" \
    "NODE_PATH=$node_path" "HOME=$home" \
    /usr/bin/jupyterhub -f "$hubdir/jupyterhub_config.py"
hub_pid=$HELPER_PID
log "hub (pid $hub_pid) on 127.0.0.1:$hub_port, proxy on 127.0.0.1:$proxy_port, proxy API on 127.0.0.1:$proxy_api_port"

hub=$PW_TMP/bin/hub-client.py
cat >"$hub" <<'EOF'
#!/usr/bin/python3
"""hub-client.py CMD PROXY_PORT TOKEN ...: calls to the hub through its proxy on
127.0.0.1, each with a timeout; prints the HTTP status (and a body where asked)."""
import http.cookiejar, json, re, sys, urllib.error, urllib.parse, urllib.request

cmd, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
base = f"http://127.0.0.1:{port}"


def call(method, path, body=None, headers=None, opener=None, timeout=20):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return f"error:{e}", ""


auth = {"Authorization": f"token {token}"}
if cmd == "up":  # up PORT TOKEN: the hub's API answers through the proxy
    print(call("GET", "/hub/api/", headers=auth, timeout=5)[0])
elif cmd == "login":  # login PORT - USER PASSWORD: the login form; prints the status of the POST
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    status, page = call("GET", "/hub/login", opener=opener)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page)
    form = {"username": sys.argv[4], "password": sys.argv[5]}
    if xsrf:
        form["_xsrf"] = xsrf.group(1)
    status, _ = call("POST", "/hub/login", urllib.parse.urlencode(form).encode(),
                     {"Content-Type": "application/x-www-form-urlencoded"}, opener)
    cookies = sorted(c.name for c in jar)
    print(status, "cookie" if any(n.startswith("jupyterhub-hub-login") for n in cookies) else "no-cookie")
elif cmd == "start":  # start PORT TOKEN USER: POST /hub/api/users/USER/server
    print(call("POST", f"/hub/api/users/{sys.argv[4]}/server", {}, auth)[0])
elif cmd == "server":  # server PORT TOKEN USER: "ready URL", "pending", "none" or an error
    status, body = call("GET", f"/hub/api/users/{sys.argv[4]}", headers=auth, timeout=5)
    if status != 200:
        print(f"status-{status}")
    else:
        server = json.loads(body).get("servers", {}).get("")
        if not server:
            print("none")
        elif server.get("ready"):
            print("ready", server.get("url", ""))
        else:
            print("pending", server.get("pending"))
elif cmd == "stop":  # stop PORT TOKEN USER: DELETE /hub/api/users/USER/server
    print(call("DELETE", f"/hub/api/users/{sys.argv[4]}/server", headers=auth)[0])
elif cmd == "routes":  # routes API_PORT TOKEN: GET the proxy's REST API directly
    print(call("GET", "/api/routes", headers=auth, timeout=5)[0])
else:
    sys.exit(f"unknown command {cmd}")
EOF
chmod 0755 "$hub"
hc() { timeout 60 "$PY" "$hub" "$@"; }
jc() { JC_BASE_PATH=/user/$user timeout 120 "$PY" "$PW_LIB_DIR/jupyter-client.py" "$@"; }

stop_hub() {
    kill -TERM "$hub_pid" 2>/dev/null
    wait_until 20 pid_gone "$hub_pid" || log "the hub did not stop within 20s"
}
give_up() {
    fail_later "$1"
    show_file "hub log" "$PW_TMP/hub.log"
    stop_hub
    pw_finish
}

hub_up() { [[ $(hc up "$proxy_port" "$api_token") == 200 ]]; }
wait_until 60 hub_up || give_up "the hub did not answer /hub/api/ through its proxy within 60s"
pass "the hub answers through its proxy on 127.0.0.1:$proxy_port"

# ---------------------------------------------------------------- log in, start the server
expect_eq "log in with the dummy authenticator's password" "302 cookie" "$(hc login "$proxy_port" - "$user" "$password")"
# JupyterHub 3.0 answers a failed login with the form again (200), without the cookie.
wrong=$(hc login "$proxy_port" - "$user" "wrong$password")
check "a wrong password gets no login cookie ($wrong)" test "${wrong#* }" = no-cookie -a "${wrong% *}" != 302

status=$(hc start "$proxy_port" "$api_token" "$user")
check "POST /hub/api/users/$user/server ($status)" test "$status" = 201 -o "$status" = 202
server_ready() { [[ $(hc server "$proxy_port" "$api_token" "$user") == ready* ]]; }
wait_until 60 server_ready || give_up "the single-user server was not ready within 60s ($(hc server "$proxy_port" "$api_token" "$user"))"
pass "the single-user server is ready: $(hc server "$proxy_port" "$api_token" "$user")"

# The server runs under portwrap: the hub's port for it is portwrap's.
server_port=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/user/'"$user" "$PW_TMP/hub.log" | head -n 1 | sed -E 's|.*:([0-9]+)/user/.*|\1|')
log "the single-user server's port: ${server_port:-unknown}"
pw_pids=()
for d in /proc/[0-9]*; do
    [[ $(readlink "$d/exe" 2>/dev/null) == "$PW_BIN" ]] && pw_pids+=("${d#/proc/}")
done
check "portwrap runs the single-user server (pid ${pw_pids[*]:-none})" test "${#pw_pids[@]}" -ge 1

expect_eq "GET /user/$user/api/status through the hub's proxy" 200 "$(jc status "$proxy_port" "$api_token")"
status=$(jc status "$proxy_port" -)
check "... and without a token it is refused ($status)" test "$status" = 403 -o "$status" = 401 -o "$status" = 302

# ---------------------------------------------------------------- a kernel, over its websocket
: >"$PW_TMP/other.conns"
start_helper "$PW_TMP/other.log" "$PY" "$PW_HELPER" greeter 127.0.0.1 "$other_port" "$PW_TMP/other.ready" "$PW_TMP/other.conns"
wait_until 10 test -e "$PW_TMP/other.ready" || fail_later "the other host service did not start"
expect_eq "control: the host reaches the proxy's REST API on 127.0.0.1:$proxy_api_port" 200 \
    "$(hc routes "$proxy_api_port" "$proxy_token")"

kernel=$(jc start-kernel "$proxy_port" "$api_token" 2>"$PW_TMP/kernel.err")
[[ -n $kernel ]] || give_up "could not start a kernel through the proxy: $(cat "$PW_TMP/kernel.err")"
pass "POST /user/$user/api/kernels started kernel $kernel"
run_code() {  # run_code WHAT CODE: runs CODE in the kernel, output in $PW_TMP/code.out
    printf '%s\n' "$2" >"$PW_TMP/code.py"
    jc exec "$proxy_port" "$api_token" "$kernel" "$PW_TMP/code.py" 60 >"$PW_TMP/code.out" 2>"$PW_TMP/code.err" &&
        return 0
    fail_later "$1: $(tail -n 5 "$PW_TMP/code.err")"
    return 1
}
run_code "print(6 * 7)" 'print(6 * 7)' &&
    expect_eq "print(6 * 7) run over the kernel's websocket, through the hub's proxy" 42 "$(cat "$PW_TMP/code.out")"

run_code "connections from the kernel" "
import socket
def reach(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return 'connected'
    except ConnectionRefusedError:
        return 'refused'
    except socket.timeout:
        return 'timeout'
    except OSError as e:
        return 'error'
for name, port in [('hub', $hub_port), ('proxy-api', $proxy_api_port), ('proxy', $proxy_port), ('other', $other_port)]:
    for host in ('127.0.0.1', '10.0.2.2'):
        print(name, host, reach(host, port))"
inside() { awk -v n="$1" -v h="$2" '$1 == n && $2 == h { print $3 }' "$PW_TMP/code.out"; }
expect_eq "control: the kernel reaches the hub API at 127.0.0.1:$hub_port" connected "$(inside hub 127.0.0.1)"
for name in proxy-api proxy other; do
    expect_eq "the kernel does not reach the host's $name port at 127.0.0.1 (the namespace's own)" refused \
        "$(inside "$name" 127.0.0.1)"
    r=$(inside "$name" 10.0.2.2)
    check "the kernel does not reach the host's $name port at 10.0.2.2 (${r:-no answer})" \
        test -n "$r" -a "$r" != connected
done
r=$(inside hub 10.0.2.2)
check "the kernel does not reach the hub API at 10.0.2.2 either (${r:-no answer})" test -n "$r" -a "$r" != connected
expect_eq "the other host service saw no connection" 0 "$(wc -l <"$PW_TMP/other.conns")"

marker="private-$RANDOM$RANDOM"
run_code "the kernel starts an HTTP server on port $private" "$(kernel_private_server_code "$private" "$marker")" &&
    expect_eq "inside, the kernel fetches its own server at 127.0.0.1:$private" "$marker" "$(cat "$PW_TMP/code.out")"
expect_eq "the host's 127.0.0.1:$private (the kernel's private server) is refused" refused \
    "$(connect_result 127.0.0.1 "$private" 5)"

# ---------------------------------------------------------------- stop through the hub API
status=$(hc stop "$proxy_port" "$api_token" "$user")
check "DELETE /hub/api/users/$user/server ($status)" test "$status" = 204 -o "$status" = 202
server_gone() { [[ $(hc server "$proxy_port" "$api_token" "$user") == none ]]; }
wait_until 30 server_gone || fail_later "the hub still lists the server 30s after DELETE"
portwrap_gone() { local p; for p in "${pw_pids[@]}"; do pid_alive "$p" && return 1; done; return 0; }
check "portwrap has exited" wait_until 20 portwrap_gone
# Every process of the server (portwrap, the server, its kernel) carried the tag; only
# the hub and its proxy may still run.
server_leftovers() {
    local p h proxy_pid
    proxy_pid=$(cat "$hubdir/proxy.pid" 2>/dev/null)
    for p in $(tagged_pids); do
        for h in "${PW_HELPERS[@]}" "$proxy_pid"; do [[ $p == "$h" ]] && continue 2; done
        [[ $(ps -o args= -p "$p" 2>/dev/null) == "/usr/bin/python3 /usr/bin/jupyterhub -f "* ]] && continue
        echo "$p"
    done
}
check "no process of the server is left (only the hub and its proxy run)" wait_until 15 eval '[[ -z $(server_leftovers) ]]'
[[ -n $(server_leftovers) ]] && ps -o pid,ppid,user,args -p "$(server_leftovers | paste -sd,)" | sed 's/^/    /'
[[ -n $server_port ]] &&
    expect_eq "nothing listens on the server's port 127.0.0.1:$server_port any more" refused \
        "$(connect_result 127.0.0.1 "$server_port" 5)"
check "the hub still answers" hub_up

if ((PW_FAILURES)); then
    show_file "hub log" "$PW_TMP/hub.log"
fi
stop_hub
pw_finish
