#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests in tests/slurm: munged,
# slurmctld and slurmd started as root with every file in one private directory.
#
#   slurm-cluster.sh start DIR PROCTRACK   PROCTRACK: linuxproc or cgroup
#   slurm-cluster.sh stop DIR
#
# start creates DIR (it must not exist), writes slurm.conf (and cgroup.conf), a munge
# key made for the test, starts the three daemons, records their PIDs in DIR/pids and
# waits (bounded) until sinfo shows the node idle. DIR/env then holds the variables
# that client commands (sbatch, squeue, scancel) need: source it. stop kills those
# PIDs only, waits for them, and removes DIR. Nothing outside DIR is written: no
# /etc/slurm, no /etc/munge, no systemd unit. KillWait is 5 s (SLURM_KILL_WAIT to
# change it). Measured here: start (node idle) 0.4-0.6 s, stop 0.4-3 s.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
    echo "slurm-cluster.sh: $*" >&2
    exit 1
}

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds; fails after SECONDS.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

node_idle() {
    [[ $(sinfo -h -N -o '%T' 2>/dev/null) == idle ]]
}

start() {
    local dir=$1 proctrack=$2
    [[ $(id -u) -eq 0 ]] || die "must run as root (slurmd starts jobs as their user)"
    [[ $proctrack == linuxproc || $proctrack == cgroup ]] || die "PROCTRACK must be linuxproc or cgroup, not '$proctrack'"
    [[ ! -e $dir ]] || die "$dir exists already"
    local started=$SECONDS
    mkdir -m 0755 "$dir"
    mkdir -m 0700 "$dir/state" "$dir/spool" "$dir/munge"
    : >"$dir/pids"
    local host
    host=$(hostname -s)
    # munged wants its key private and its directories not writable by others.
    head -c 1024 /dev/zero | tr '\0' 'k' >"$dir/munge/munge.key"
    chmod 0400 "$dir/munge/munge.key"
    mkdir -m 0755 "$dir/munge-socket"
    # slurmd, slurmctld and the clients read the same file; each cluster has its own ports.
    cat >"$dir/slurm.conf" <<CONF
ClusterName=portwrap-test
SlurmctldHost=$host
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge-socket/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/$proctrack
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
KillWait=${SLURM_KILL_WAIT:-5}
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=512 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    : >"$dir/plugstack.conf"
    if [[ $proctrack == cgroup ]]; then
        # This machine mounts cgroup v1 controllers (the freezer is what
        # proctrack/cgroup needs there); on a cgroup v2 machine Slurm picks cgroup/v2.
        cat >"$dir/cgroup.conf" <<CONF
CgroupPlugin=autodetect
CgroupMountpoint=/sys/fs/cgroup
IgnoreSystemd=yes
ConstrainCores=no
ConstrainRAMSpace=no
CONF
        local freezer=/sys/fs/cgroup/freezer/slurm_$host
        [[ -d /sys/fs/cgroup/freezer && ! -e $freezer ]] && echo "$freezer" >"$dir/cgroup-created"
    fi
    cat >"$dir/env" <<ENV
export SLURM_CONF=$dir/slurm.conf
ENV
    export SLURM_CONF=$dir/slurm.conf

    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge-socket/munge.socket" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" ||
        die "munged did not start: $(tail -n 3 "$dir/munge/munged.log" 2>/dev/null)"
    wait_for 10 test -s "$dir/munge/munged.pid" || die "munged wrote no PID file"
    echo "munged $(cat "$dir/munge/munged.pid")" >>"$dir/pids"
    chmod 0755 "$dir/munge-socket"

    slurmctld -f "$dir/slurm.conf" -i ||
        die "slurmctld did not start: $(tail -n 3 "$dir/slurmctld.log" 2>/dev/null)"
    wait_for 10 test -s "$dir/slurmctld.pid" || die "slurmctld wrote no PID file: $(tail -n 3 "$dir/slurmctld.log")"
    echo "slurmctld $(cat "$dir/slurmctld.pid")" >>"$dir/pids"
    slurmd -f "$dir/slurm.conf" -N "$host" ||
        die "slurmd did not start: $(tail -n 3 "$dir/slurmd.log" 2>/dev/null)"
    wait_for 10 test -s "$dir/slurmd.pid" || die "slurmd wrote no PID file: $(tail -n 3 "$dir/slurmd.log")"
    echo "slurmd $(cat "$dir/slurmd.pid")" >>"$dir/pids"
    if ! wait_for 30 node_idle; then
        sinfo -N >&2 || true
        tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
        die "the node did not become idle within 30 s"
    fi
    echo "slurm-cluster.sh: started (proctrack/$proctrack) in $((SECONDS - started)) s"
}

# daemon_gone PID: the process has exited (a zombie counts: the daemons are not our
# children, and their reaper may be slow).
daemon_gone() {
    local state
    state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 0
    [[ -z $state || $state == Z ]]
}

# stop_daemons DIR NAME...: SIGTERM to each recorded PID, then waits 15 s for all
# of them; SIGKILL to any still running.
stop_daemons() {
    local dir=$1 name pid pids=()
    shift
    for name in "$@"; do
        pid=$(awk -v n="$name" '$1 == n { print $2 }' "$dir/pids")
        [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    done
    for pid in "${pids[@]}"; do
        if ! wait_for 15 daemon_gone "$pid"; then
            echo "slurm-cluster.sh: $pid still running 15 s after SIGTERM: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

stop() {
    local dir=$1
    [[ -f $dir/pids ]] || die "$dir holds no cluster started by this script"
    local started=$SECONDS
    # The Slurm daemons together (about 2 s each to stop), then munged, which they use.
    stop_daemons "$dir" slurmd slurmctld
    stop_daemons "$dir" munged
    # proctrack/cgroup made a freezer cgroup for the node; remove it if it was ours.
    if [[ -f $dir/cgroup-created && -d $(cat "$dir/cgroup-created") ]]; then
        find "$(cat "$dir/cgroup-created")" -depth -type d -exec rmdir {} + 2>/dev/null || true
    fi
    rm -rf -- "$dir"
    echo "slurm-cluster.sh: stopped in $((SECONDS - started)) s"
}

case ${1:-} in
start) [[ $# -eq 3 ]] || die "usage: slurm-cluster.sh start DIR linuxproc|cgroup"; start "$2" "$3" ;;
stop) [[ $# -eq 2 ]] || die "usage: slurm-cluster.sh stop DIR"; stop "$2" ;;
*) die "usage: slurm-cluster.sh start DIR linuxproc|cgroup | stop DIR" ;;
esac
