#!/usr/bin/env bash
# slurm: portwrap in real Slurm batch jobs, submitted with sbatch by the unprivileged
# user portwrap-test to a one-node cluster on this machine (slurm-cluster.sh), under
# the process tracker SLURM_PROCTRACK (linuxproc or cgroup) with KillWait=5. Each job
# is reached through what it reports (port file, Unix socket), then ended with
# scancel; within KillWait no process of the job, no port file, no socket and no
# listener may be left.
#   1. the recipe docs/examples/jupyter.sbatch, as it is: Jupyter (Debian's
#      jupyter-server behind a 'jupyter lab' shim) on -p 0 with --pid-ns; the port
#      file leads to it; Jupyter logs scancel's SIGTERM once, not twice;
#   2. the same recipe with FORWARD=socket: -p unix:PATH, and the job's log says
#      where to connect;
#   3. `exec portwrap` with a command that ignores SIGTERM: Slurm SIGKILLs every
#      process after KillWait (before portwrap's own 10 s): the port file must be
#      gone all the same;
#   4. portwrap as a plain line of the job script (no exec): the shell dies at once;
#      a stale port file is removed by the next start, even a failed one;
#   5. a command that counts the SIGTERMs it gets, with and without
#      --no-forward-signals (proctrack/cgroup signals only portwrap, linuxproc all).
# Jobs 1 to 4 use only options that older portwrap versions know, so they can be run
# against an older binary: SLURM_TEST_ONLY=1234 runs only those.
source "$(dirname "$0")/../integration/lib.sh"
# shellcheck disable=SC2034
PORTWRAP_TEST_AS=user  # read by pw_init: sbatch runs as the unprivileged user
pw_init

proctrack=${SLURM_PROCTRACK:-linuxproc}
kill_wait=5
for tool in slurmctld slurmd munged sbatch squeue scancel; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh installs Slurm and munge)"
done
[[ -x /usr/bin/jupyter-server ]] || fail "jupyter-server is not installed (scripts/install-deps.sh installs it)"

cluster=$PW_TMP/cluster
_slurm_cleanup() {
    local status=$?
    [[ -f $cluster/pids ]] && bash "$PW_LIB_DIR/../slurm/slurm-cluster.sh" stop "$cluster" >&2
    (exit "$status")  # _pw_cleanup exits with the status it finds in $?
    _pw_cleanup
}
trap _slurm_cleanup EXIT
start_ms=$(_now_ms)
SLURM_KILL_WAIT=$kill_wait bash "$PW_LIB_DIR/../slurm/slurm-cluster.sh" start "$cluster" "$proctrack" ||
    fail "the Slurm cluster did not start"
log "cluster up (proctrack/$proctrack, KillWait=$kill_wait) in $(($(_now_ms) - start_ms)) ms"
export SLURM_CONF=$cluster/slurm.conf

# 'jupyter lab' for the recipe: Debian ships jupyter-server, not JupyterLab.
cat >"$PW_TMP/bin/jupyter" <<'SH'
#!/bin/sh
[ "$1" = lab ] && shift
exec /usr/bin/jupyter-server "$@"
SH
chmod 0755 "$PW_TMP/bin/jupyter"

# submit ARGS...: sbatch as the test user, with portwrap and the shim first on PATH and
# this test's tag in the environment (sbatch passes it to every process of the job).
# Prints the job id.
submit() {
    (cd "$PW_WORK" && runuser -u "$PW_USER" -- env PATH="$PW_TMP/bin:$PW_STD_PATH" PWTEST_TAG="$PW_TAG" \
        SLURM_CONF="$SLURM_CONF" HOME="$PW_WORK" sbatch --parsable --chdir="$PW_WORK" \
        --output="$PW_WORK/job-%j.log" --cpus-per-task=1 --mem=64M "$@")
}

job_running() { [[ $(squeue -h -j "$1" -o %T 2>/dev/null) == RUNNING ]]; }
job_gone() { [[ -z $(squeue -h -j "$1" 2>/dev/null) ]]; }
no_job_processes() { [[ -z $(tagged_pids) ]]; }
file_there() { [[ -e $1 ]]; }
file_gone() { [[ ! -e $1 && ! -L $1 ]]; }

# http_get URL_OR_SOCKET PATH: prints the HTTP status of GET PATH (with the job's
# token, if $token is set) from 127.0.0.1:PORT or a Unix socket.
http_get() {
    "$PY" - "$1" "$2" "${token:-}" <<'PYEOF'
import http.client, socket, sys
where, path, token = sys.argv[1:4]
class UnixConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(where)
if where.startswith("/"):
    conn = UnixConnection("localhost", timeout=10)
else:
    host, port = where.rsplit(":", 1)
    assert host.startswith("127."), "tests talk to loopback only"
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
try:
    conn.request("GET", path, headers={"Authorization": f"token {token}"} if token else {})
    print(conn.getresponse().status)
except OSError as e:
    print(f"error: {e}")
PYEOF
}

# cancel_and_check JOB WHAT PATHS...: scancel JOB, then within KillWait (+2 s for
# Slurm's own bookkeeping on a loaded machine) the job must be gone with nothing left: no tagged process,
# none of PATHS (port file, socket), no listener at $listener (if set).
cancel_and_check() {
    local job=$1 what=$2 path
    shift 2
    local t0
    t0=$(_now_ms)
    scancel "$job" || fail_later "$what: scancel $job failed"
    if [[ -n ${gone_at_stop:-} ]]; then
        # The file must go at the SIGTERM, while the job's processes still run (the
        # command ignores SIGTERM: only Slurm's SIGKILL after KillWait ends it).
        if wait_until 3 file_gone "$gone_at_stop" && [[ -n $(tagged_pids) ]]; then
            pass "$what: $gone_at_stop removed at the stop request, $(($(_now_ms) - t0)) ms after scancel, before Slurm's SIGKILL"
        else
            fail_later "$what: $gone_at_stop still there 3 s after scancel (or the job ended early)"
        fi
        gone_at_stop=""
    fi
    nothing_left() {
        job_gone "$job" && no_job_processes || return 1
        for path in "$@"; do file_gone "$path" || return 1; done
        [[ -z ${listener:-} || $(connect_result 127.0.0.1 "$listener" 2) == refused ]]
    }
    if wait_until $((kill_wait + 2)) nothing_left "$@"; then
        pass "$what: after scancel, nothing left within KillWait ($(($(_now_ms) - t0)) ms)"
    else
        fail_later "$what: left $(($(_now_ms) - t0)) ms after scancel (KillWait=$kill_wait s)"
        job_gone "$job" || log "  job $job still listed: $(squeue -h -j "$job" -o '%T %r')"
        [[ -n $(tagged_pids) ]] && log "  processes: $(ps -o pid=,comm= -p "$(tagged_pids | paste -sd,)" | tr -s ' \n' ' ')"
        for path in "$@"; do file_there "$path" && log "  file left: $path ($(head -c 100 "$path" 2>/dev/null | tr '\n' ' '))"; done
        [[ -n ${listener:-} ]] && log "  127.0.0.1:$listener: $(connect_result 127.0.0.1 "$listener" 2)"
        # Remove what the old code left, so the next job starts clean.
        rm -f -- "$@"
        local pid
        for pid in $(tagged_pids); do kill -KILL "$pid" 2>/dev/null; done
    fi
    wait_until 10 job_gone "$job" || fail "job $job did not end"
    wait_until 10 no_job_processes || fail "the processes of job $job did not end"
    listener=""
}

# wait_job_file JOB FILE SECONDS: until FILE exists (the job is running).
wait_job_file() {
    if ! wait_until "$3" file_there "$2"; then
        show_file "job $1's log" "$PW_WORK/job-$1.log"
        fail "job $1 did not create $2 within $3 s (state: $(squeue -h -j "$1" -o '%T %r'))"
    fi
}

recipe=$PW_REPO_ROOT/docs/examples/jupyter.sbatch
recipe_in_docs() { "$PY" -c 'import sys; sys.exit(open(sys.argv[1]).read() not in open(sys.argv[2]).read())' \
    "$recipe" "$PW_REPO_ROOT/docs/recipes.md"; }
check "docs/recipes.md shows the tested job script as it is" recipe_in_docs

# ---- 1. the recipe: Jupyter on -p 0, reached through the port file
if [[ ${SLURM_TEST_ONLY:-} == "" || ${SLURM_TEST_ONLY} == *1* ]]; then
job=$(submit "$recipe") || fail "sbatch refused the recipe"
run=/tmp/$PW_USER-$job
port_file=$run/port
wait_job_file "$job" "$port_file" 60
host_side=$(head -n 1 "$port_file")
log "job $job: port file says $host_side"
token=$(sed -n 's/.*token \([0-9a-f]*\);.*/\1/p' "$PW_WORK/job-$job.log")
[[ -n $token ]] || fail "the recipe printed no token"
jupyter_up() { [[ $(http_get "$host_side" /api/status) == 200 ]]; }
if wait_until 60 jupyter_up; then
    pass "recipe: Jupyter answers /api/status with its token at the port file's $host_side"
else
    fail_later "recipe: Jupyter did not answer at $host_side: $(http_get "$host_side" /api/status)"
fi
expect_eq "recipe: without the token" 403 "$(token='' http_get "$host_side" /api/contents)"
check "recipe: the job's log says where portwrap listens" \
    grep -q "^portwrap: listening on $host_side, forwarded to port 8888 inside$" "$PW_WORK/job-$job.log"
check "recipe: the job's log has the URL" grep -q "^portwrap: http://$host_side/lab$" "$PW_WORK/job-$job.log"
check "recipe: Jupyter's runtime files are in the job's own directory" \
    bash -c "ls '$run/runtime' | grep -q 'jpserver-.*json'"
check "recipe: the port file is locked while portwrap runs (flock fails)" \
    bash -c "! flock --nonblock '$port_file' true"
listener=${host_side##*:}
cancel_and_check "$job" "recipe (Jupyter, -p 0)" "$port_file"
# proctrack/cgroup signals only the job's main process (portwrap) before its SIGKILL:
# Jupyter hears of scancel only through portwrap, once. (linuxproc: see job 5.)
signals=$(grep -c 'received signal 15' "$PW_WORK/job-$job.log")
if [[ $proctrack == cgroup ]]; then
    expect_eq "recipe: times Jupyter logged SIGTERM" 1 "$signals"
else
    log "recipe: Jupyter logged SIGTERM $signals time(s)"
fi
rm -rf -- "$run"
token=""
fi

# ---- 2. the recipe with a Unix socket
if [[ ${SLURM_TEST_ONLY:-} == "" || ${SLURM_TEST_ONLY} == *2* ]]; then
job=$(submit --export=ALL,FORWARD=socket "$recipe") || fail "sbatch refused the recipe"
run=/tmp/$PW_USER-$job
sock=$run/jupyter.sock
wait_job_file "$job" "$run/port" 60
token=$(sed -n 's/.*token \([0-9a-f]*\);.*/\1/p' "$PW_WORK/job-$job.log")
expect_eq "socket: the port file names the socket" "unix:$sock" "$(head -n 1 "$run/port")"
jupyter_up() { [[ $(http_get "$sock" /api/status) == 200 ]]; }
if wait_until 60 jupyter_up; then
    pass "socket: Jupyter answers through $sock"
else
    fail_later "socket: Jupyter did not answer through $sock: $(http_get "$sock" /api/status)"
fi
log_file=$PW_WORK/job-$job.log
check "socket: the log says where to connect" \
    grep -qx "portwrap: listening on unix:$sock, forwarded to port 8888 inside" "$log_file"
check "socket: the log has the ssh -L line" \
    grep -qx "portwrap: from another machine: ssh -N -L 8888:$sock $(hostname)" "$log_file"
check "socket: the log has the URL through it" grep -qx "portwrap: then: http://localhost:8888/lab" "$log_file"
check "socket: no URL with the socket path as its host" bash -c "! grep -q 'http:///' '$log_file'"
cancel_and_check "$job" "recipe (Jupyter, unix socket)" "$run/port" "$sock"
rm -rf -- "$run"
token=""
fi

# A web server that ignores SIGTERM (the shell's trap '' is inherited through exec).
stubborn_server='trap "" TERM; exec python3 -m http.server --bind 0.0.0.0 {guest-port}'

# ---- 3. exec portwrap, a command that ignores SIGTERM: Slurm's SIGKILL ends it all
if [[ ${SLURM_TEST_ONLY:-} == "" || ${SLURM_TEST_ONLY} == *3* ]]; then
port_file=$PW_WORK/stubborn.port
job=$(submit --wrap "exec portwrap -p 0:8000 --port-file=$port_file -- sh -c '$stubborn_server'") ||
    fail "sbatch refused job 3"
wait_job_file "$job" "$port_file" 30
host_side=$(head -n 1 "$port_file")
server_up() { [[ $(http_get "$host_side" /) == 200 ]]; }
wait_until 30 server_up || fail_later "ignores SIGTERM: no answer at $host_side"
listener=${host_side##*:}
gone_at_stop=$port_file
cancel_and_check "$job" "exec, command ignores SIGTERM (Slurm's SIGKILL after KillWait)" "$port_file"
fi

# ---- 4. no exec: portwrap as a plain line of the job script
if [[ ${SLURM_TEST_ONLY:-} == "" || ${SLURM_TEST_ONLY} == *4* ]]; then
port_file=$PW_WORK/plain.port
job=$(submit --wrap "portwrap -p 0:8000 --port-file=$port_file -- python3 -m http.server --bind 0.0.0.0 {guest-port}; echo end") ||
    fail "sbatch refused job 4"
wait_job_file "$job" "$port_file" 30
host_side=$(head -n 1 "$port_file")
server_up() { [[ $(http_get "$host_side" /) == 200 ]]; }
wait_until 30 server_up || fail_later "no exec: no answer at $host_side"
listener=${host_side##*:}
if [[ $proctrack == cgroup ]]; then
    # proctrack/cgroup signals only the job's shell, which dies at once, and then
    # SIGKILLs the rest: portwrap hears nothing before it is killed, and its port
    # file may stay. What must hold: nothing runs or listens, the file shows itself
    # stale (unlocked), and the next portwrap with that --port-file removes it even
    # if it fails to start.
    cancel_and_check "$job" "no exec (the job's shell dies at once)"
    if [[ -e $port_file ]]; then
        log "no exec: the port file stayed (portwrap was SIGKILLed with no warning)"
        check "no exec: the stale port file is not locked (readers can tell)" flock --nonblock "$port_file" true
    fi
else
    cancel_and_check "$job" "no exec (the job's shell dies at once)" "$port_file"
fi
if [[ ! -e $port_file ]]; then
    echo "127.0.0.1:1" >"$port_file"  # as a SIGKILL leaves it: stale, for the next start
    chown "$PW_USER:" "$port_file"
fi
# A start that fails before it writes its own port file (exit 125: the socket's
# directory does not exist) must not leave the stale one for a reader to take.
pw_run -p "unix:$PW_WORK/no-such-dir/s.sock:1" --port-file="$port_file" -- true
expect_status "a failed start with the same --port-file" 125
check "a failed start leaves no port file, not even the stale one" file_gone "$port_file"
fi

# ---- 5. how often the command gets scancel's SIGTERM, with and without
# --no-forward-signals. linuxproc signals every process of the job itself, so
# portwrap's forward is a second SIGTERM; cgroup signals only portwrap, which must
# forward it. Each arrival is counted (a signal wake-up fd: one byte per delivery).
if [[ ${SLURM_TEST_ONLY:-} == "" || ${SLURM_TEST_ONLY} == *5* ]]; then
counter=$PW_TMP/bin/count-signals.py
cat >"$counter" <<'PYEOF'
import os, select, signal, socket, sys, time
r, w = os.pipe()
os.set_blocking(w, False)
signal.set_wakeup_fd(w)
signal.signal(signal.SIGTERM, lambda *_: None)
log = open(sys.argv[1], "a")
print("ready", file=log, flush=True)
server = socket.create_server(("0.0.0.0", 8000))
stop = None
while stop is None or time.monotonic() < stop:
    if not select.select([r], [], [], 0.1)[0]:
        continue
    for _ in os.read(r, 64):
        print("SIGTERM", file=log, flush=True)
        stop = stop or time.monotonic() + 1  # a second copy has 1 s to arrive
PYEOF
chmod 0755 "$counter"
for mode in forward no-forward; do
    option=""
    [[ $mode == no-forward ]] && option=--no-forward-signals
    count_log=$PW_WORK/signals-$mode.log
    port_file=$PW_WORK/signals-$mode.port
    job=$(submit --wrap "exec portwrap -v $option -p 0:8000 --port-file=$port_file -- python3 $counter $count_log") ||
        fail "sbatch refused job 5 ($mode)"
    wait_job_file "$job" "$count_log" 30
    listener=$(head -n 1 "$port_file" | sed 's/.*://')
    cancel_and_check "$job" "signals, $mode" "$port_file"
    got=$(grep -c SIGTERM "$count_log")
    what="proctrack/$proctrack, ${option:-default forwarding}"
    # What portwrap did with the SIGTERM it got (its -v line), and what the command saw.
    if [[ $mode == forward ]]; then
        check "$what: portwrap forwarded the SIGTERM" grep -q "forwarding signal 15 to the command" "$PW_WORK/job-$job.log"
    else
        check "$what: portwrap did not forward it" grep -q "signal 15 from pid [0-9]* not forwarded" "$PW_WORK/job-$job.log"
    fi
    case $proctrack/$mode in
    cgroup/forward) expect_eq "$what: SIGTERMs the command got" 1 "$got" ;;
    # Nobody told the command: it learnt of the stop from Slurm's SIGKILL.
    cgroup/no-forward) expect_eq "$what: SIGTERMs the command got" 0 "$got" ;;
    # Slurm signalled the command itself: it got exactly that one.
    linuxproc/no-forward) expect_eq "$what: SIGTERMs the command got" 1 "$got" ;;
    # Slurm's copy and portwrap's: two were sent (the line above and the no-forward
    # case show it), but two standard signals pending at once arrive as one, so the
    # command counts 2, or 1 when they overlapped.
    linuxproc/forward)
        if ((got == 1 || got == 2)); then pass "$what: the command counted $got SIGTERM(s)"; else fail_later "$what: the command counted $got SIGTERMs"; fi ;;
    esac
done
fi

log "slurm test (proctrack/$proctrack) took $(($(_now_ms) - start_ms)) ms"
pw_finish
