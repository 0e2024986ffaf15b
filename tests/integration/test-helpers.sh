#!/usr/bin/env bash
# helpers: portwrap's helper processes — the connector (in the namespace), the
# clean-up process and the --pid-ns init — cannot be taken over by the command, and
# a stopped connector does not freeze portwrap.
#
# 1. ptrace: the command inside (with --map-root it holds every capability of the
#    namespace) tries PTRACE_ATTACH and opening /proc/PID/mem on each helper it can
#    see, and on portwrap itself; so does the user from outside on each helper (user
#    run only: root may ptrace anything; portwrap itself stays debuggable by its user).
#    Each attempt must fail. Positive control: the same probe succeeds on a process
#    of the user's own (a sleep), from outside and from inside.
# 2. A SIGSTOPped connector: a new connection through the forward fails instead of
#    hanging, while `ctl list` and a connection made before keep working, and SIGTERM
#    still ends portwrap and everything it started.
source "$(dirname "$0")/lib.sh"
pw_init

probe=$PW_WORK/ptrace-probe.py
cat >"$probe" <<'EOF'
# ptrace-probe.py NAME=PID...: for each process, tries PTRACE_ATTACH (detaching at
# once if it worked) and opening /proc/PID/mem; prints "NAME attach=... mem=...".
# PID "own" is a sleep the probe starts: the positive control.
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_ATTACH, PTRACE_DETACH, WALL = 16, 17, 0x40000000
for spec in sys.argv[1:]:
    name, pid = spec.split("=")
    own = subprocess.Popen(["sleep", "60"]) if pid == "own" else None
    pid = own.pid if own else int(pid)
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
        os.waitpid(pid, WALL)
        libc.ptrace(PTRACE_DETACH, pid, None, None)
        attach = "allowed"
    else:
        attach = os.strerror(ctypes.get_errno())
    try:
        with open(f"/proc/{pid}/mem", "rb"):
            mem = "allowed"
    except OSError as e:
        mem = e.strerror
    print(f"{name} attach={attach} mem={mem}", flush=True)
    if own:
        own.kill()
        own.wait()
EOF
chmod 0644 "$probe"

# The inside: runs the probe on the targets the test writes into $1 (NAME=PID lines,
# PIDs as seen inside), writes the results to $2, then waits to be ended.
inside='
import subprocess, sys, time
for _ in range(600):
    try:
        targets = open(sys.argv[1]).read().split()
        if targets and targets[-1] == "end":
            break
    except OSError:
        pass
    time.sleep(0.05)
out = subprocess.run(["/usr/bin/python3", sys.argv[3], "own=own"] + targets[:-1],
                     capture_output=True, text=True).stdout
open(sys.argv[2] + ".tmp", "w").write(out)
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(60)
'

# child_pids PID: the children of PID.
child_pids() { cat "/proc/$1/task/"*/children 2>/dev/null; }
comm_of() { cat "/proc/$1/comm" 2>/dev/null; }
# inner_pid PID: the PID as the process's own PID namespace sees it.
inner_pid() { awk '/^NSpid:/ {print $NF}' "/proc/$1/status"; }

# expect_refused WHERE FILE NAME...: each NAME's line in FILE shows both attempts failed.
expect_refused() {
    local where=$1 file=$2 name line
    shift 2
    for name in "$@"; do
        line=$(grep "^$name " "$file")
        if [[ -z $line ]]; then
            fail_later "$where: no probe result for $name"
        elif [[ $line == *=allowed* ]]; then
            fail_later "$where: $name could be ptraced or read: $line"
        else
            pass "$where: $name refused ($line)"
        fi
    done
}

sleeper_out=$PW_TMP/sleeper.out
for mode in "--map-root" "" "--pid-ns --map-root"; do
    targets=$PW_WORK/targets
    result=$PW_WORK/inside-result
    rm -f "$targets" "$result"
    # shellcheck disable=SC2086
    pw_start $mode --control-socket "$PW_WORK/ctl" --port-file "$PW_WORK/ports" -p "127.0.0.1:$(free_port):8080" \
        -- /usr/bin/python3 -c "$inside" "$targets" "$result" "$probe"
    [[ -n $PW_PID ]] || { fail_later "[$mode] portwrap did not start"; continue; }
    wait_until 20 test -s "$PW_WORK/ports" || fail_later "[$mode] no port file"
    # Found once the clean-up process has taken its name (it starts as "portwrap").
    find_helpers() {
        connector="" janitor="" init=""
        local c
        for c in $(child_pids "$PW_PID"); do
            if [[ $(comm_of "$c") == portwrap-clean ]]; then
                janitor=$c
            elif [[ $(awk '/^NSpid:/ {print NF, $NF}' "/proc/$c/status" 2>/dev/null) == "3 1" ]]; then
                init=$c
            elif [[ $(comm_of "$c") == portwrap* ]]; then
                connector=$c
            fi
        done
        if [[ -n $init ]]; then
            for c in $(child_pids "$init"); do [[ $(comm_of "$c") == portwrap* ]] && connector=$c; done
        fi
        [[ -n $connector && -n $janitor && ($mode != *--pid-ns* || -n $init) ]]
    }
    wait_until 20 find_helpers || fail_later "[$mode] cannot find every helper process"
    log "[$mode] portwrap $PW_PID, connector ${connector:-?}, janitor ${janitor:-?}, init ${init:-none}"
    if [[ $mode == *--pid-ns* ]]; then
        printf '%s\n' "init=1" "connector=$(inner_pid "$connector")" "end" >"$targets"
        names=(init connector)
    else
        # portwrap itself too: it stays dumpable, but its credentials are the host
        # user namespace's, where the command has no capability.
        printf '%s\n' "connector=$connector" "janitor=$janitor" "portwrap=$PW_PID" "end" >"$targets"
        names=(connector janitor portwrap)
    fi
    if wait_until 30 test -s "$result"; then
        check "[$mode] positive control: the command can ptrace its own sleep" grep -q "^own attach=allowed mem=allowed" "$result"
        expect_refused "[$mode] from inside" "$result" "${names[@]}"
    else
        fail_later "[$mode] the command wrote no probe result"
    fi
    if [[ $PW_USER != root ]]; then
        # From outside, as the user who runs portwrap; first on a sleep the probe
        # starts (the positive control), then on every helper.
        outside=$PW_TMP/outside-result
        as_user "$PW_USER" "$PY" "$probe" own=own "connector=$connector" "janitor=$janitor" \
            ${init:+"init=$init"} >"$outside"
        check "[$mode] positive control: the user can ptrace a sleep from outside" grep -q "^own attach=allowed mem=allowed" "$outside"
        expect_refused "[$mode] from outside" "$outside" connector janitor ${init:+init}
    fi
    kill -TERM "$PW_PID"
    pw_wait 30
done

# --- a stopped connector does not freeze portwrap ----------------------------------------------
if [[ $(pw_driver) != relay ]]; then
    log "the stopped-connector part needs the relay driver's per-connection requests: done with relay only"
    pw_finish
fi
host_port=$(free_port)
pw_start --control-socket "$PW_WORK/ctl" -p "127.0.0.1:$host_port:8080" -- /usr/bin/python3 -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8080)); s.listen(16)
def echo(c):
    while True:
        data = c.recv(4096)
        if not data:
            break
        c.sendall(data)
while True:
    c, _ = s.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
'
client_log=$PW_TMP/client.log
go=$PW_WORK/second-round
# A connection made before the connector stops: one echo now, one once $go exists.
start_helper "$client_log" "$PY" -c '
import os, socket, sys, time
for _ in range(400):
    try:
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
        c.sendall(b"one"); got = c.recv(16)
        if got == b"one":
            break
        c.close()
    except OSError:
        pass
    time.sleep(0.05)
print("first:", got.decode(), flush=True)
for _ in range(1200):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.05)
c.sendall(b"two"); print("second:", c.recv(16).decode(), flush=True)
' "$host_port" "$go"
wait_until 30 grep -q "first: one" "$client_log" || fail_later "no echo through the forward before the stop"
connector=""
for c in $(child_pids "$PW_PID"); do
    [[ $(comm_of "$c") == portwrap* && $(comm_of "$c") != portwrap-clean ]] && connector=$c
done
[[ -n $connector ]] || fail_later "cannot find the connector"
track_pid "$connector"
kill -STOP "$connector"
stopped() { [[ $(awk '{print $3}' "/proc/$connector/stat" 2>/dev/null) == T ]]; }
wait_until 10 stopped || fail_later "the connector did not stop"
new_result=$("$PY" -c '
import socket, sys
try:
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    c.sendall(b"three")
    print("answered: " + c.recv(16).decode())
except socket.timeout:
    print("hung")
except OSError as e:
    print("failed: " + e.strerror)
' "$host_port")
case $new_result in
    "answered: ") pass "a new connection while the connector is stopped is closed ($new_result)" ;;
    failed:*) pass "a new connection while the connector is stopped fails ($new_result)" ;;
    *) fail_later "a new connection while the connector is stopped: $new_result" ;;
esac
list=$(as_user "$PW_USER" timeout 20 "$PW_BIN" ctl "$PW_WORK/ctl" list 2>&1)
if grep -q "127.0.0.1:$host_port:8080" <<<"$list"; then
    pass "ctl list answers while the connector is stopped"
else
    fail_later "ctl list while the connector is stopped: $list"
fi
touch "$go"
wait_until 20 grep -q "second:" "$client_log"
check "the connection made before still echoes" grep -q "second: two" "$client_log"
check "portwrap said the connector did not answer" grep -q "the connector in the namespace did not answer" "$PW_ERR"
kill -TERM "$PW_PID"
pw_wait 30
expect_status "portwrap ended by SIGTERM with the connector stopped" 143
check "the connector is gone" pid_gone "$connector"
stop_helpers

pw_finish
