#!/usr/bin/env python3
"""portwrap's benchmark: compares ways of publishing one TCP port of a server that runs
in a private network namespace, side by side, in one run.

Contenders:
  baseline      the same server straight on the host's loopback (no namespace)
  handoff       portwrap --port-driver=handoff (the server's own socket on the host)
  relay         portwrap --port-driver=relay
  slirp         portwrap --port-driver=slirp
  pasta         pasta --config-net -t 127.0.0.1/HOST:GUEST (from Debian's passt)
  slirp4netns   unshare --user --map-root-user --net + slirp4netns, port published
                through its API socket (add_hostfwd), as the old Python tool did

Usually started by bench/run.sh, which installs the packages and builds portwrap first.
See docs/performance.md for the method and the last results.

Network: every connection goes to 127.0.0.1 on the host, or stays inside a network
namespace this script created. Every load loop is bounded in count and in time.
"""

import argparse
import datetime
import json
import math
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_USER = "portwrap-test"
GUEST_PORT = 8080            # the port the server listens on inside each namespace
HOST_PORTS = range(27100, 27900)   # below the ephemeral range; checked free before use
TOOL_COMMS = {"portwrap", "pasta", "pasta.avx2", "passt", "passt.avx2", "slirp4netns"}
SERVER_COMMS = {"iperf3", "nginx", "netbench"}
SERVER_LIFETIME = 600        # seconds; a hard bound on every server this script starts
MARK_BEGIN = "<!-- bench/run.sh results: begin (generated, do not edit by hand) -->"
MARK_END = "<!-- bench/run.sh results: end -->"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------
# /proc helpers


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def proc_stat(pid):
    """(comm, ppid, starttime, utime+stime ticks) or None."""
    s = read(f"/proc/{pid}/stat")
    if s is None:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    rest = s[s.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); utime=14, stime=15, starttime=22 (1-based fields)
    return comm, int(rest[1]), int(rest[19]), int(rest[11]) + int(rest[12]), rest[0]


def all_ppids():
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                out[int(name)] = st[1]
    return out


def descendants(roots):
    """The roots and every live process below them."""
    ppids = all_ppids()
    children = {}
    for pid, ppid in ppids.items():
        children.setdefault(ppid, []).append(pid)
    seen, todo = [], [r for r in roots if r in ppids]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo.extend(children.get(pid, []))
    return seen


def cpu_ns(pid):
    """CPU time of all threads of pid in ns (schedstat run time; utime+stime as fallback)."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        s = read(f"/proc/{pid}/task/{tid}/schedstat")
        if s:
            total += int(s.split()[0])
        else:
            st = proc_stat(pid)
            return st[3] * 1_000_000_000 // os.sysconf("SC_CLK_TCK") if st else 0
    return total


def status_field(pid, field):
    s = read(f"/proc/{pid}/status", "")
    m = re.search(rf"^{field}:\s+(\d+)", s, re.M)
    return int(m.group(1)) if m else None


def ctxt_switches(pid):
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        s = read(f"/proc/{pid}/task/{tid}/status", "")
        for f in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
            m = re.search(rf"^{f}:\s+(\d+)", s, re.M)
            if m:
                total += int(m.group(1))
    return total


def listening_ports(pid="self"):
    """TCP ports in LISTEN state in the network namespace of pid."""
    ports = set()
    for name in ("tcp", "tcp6"):
        s = read(f"/proc/{pid}/net/{name}", "")
        for line in s.splitlines()[1:]:
            f = line.split()
            if len(f) > 3 and f[3] == "0A":
                ports.add(int(f[1].rsplit(":", 1)[1], 16))
    return ports


def ns_counters(pid):
    """TCP counters and tap0 drops of the network namespace of pid."""
    out = {}
    text = (read(f"/proc/{pid}/net/netstat", "") + read(f"/proc/{pid}/net/snmp", "")).splitlines()
    for head, vals in zip(text[0::2], text[1::2]):
        h, v = head.split(), vals.split()
        if h[0] != v[0]:
            continue
        for k, x in zip(h[1:], v[1:]):
            if k in ("ListenOverflows", "TCPTimeouts", "RetransSegs", "TCPSynRetrans"):
                out[k] = int(x)
    for line in read(f"/proc/{pid}/net/dev", "").splitlines():
        if line.strip().startswith("tap0:"):
            f = line.split(":", 1)[1].split()
            out["tap0_rx_dropped"], out["tap0_tx_dropped"] = int(f[3]), int(f[11])
    return out


def listen_backlog(port):
    """The backlog of the host socket listening on 127.0.0.1:port (ss: Send-Q)."""
    try:
        r = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True,
                           timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 3 and f[2].isdigit():
            return int(f[2])
    return None


def port_is_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_port_iter = iter(HOST_PORTS)


def new_host_port():
    for p in _port_iter:
        if port_is_free(p):
            return p
    raise RuntimeError("no free host port left in the benchmark's range")


# ---------------------------------------------------------------------------------------
# Running things


class Ctx:
    def __init__(self, tmp, quick):
        self.tmp = tmp
        self.quick = quick
        self.serial = 0
        if os.geteuid() == 0:
            pw = pwd.getpwnam(RUN_USER)
            self.uid, self.gid, self.user, self.home = pw.pw_uid, pw.pw_gid, RUN_USER, pw.pw_dir
        else:
            pw = pwd.getpwuid(os.getuid())
            self.uid = self.gid = None
            self.user, self.home = pw.pw_name, pw.pw_dir
        self.env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME": self.home, "USER": self.user, "LOGNAME": self.user, "LANG": "C.UTF-8"}
        self.netbench = os.path.join(tmp, "netbench")
        self.portwrap = os.path.join(tmp, "portwrap")
        # --ref-portwrap: another portwrap binary, copied here under the same name (the
        # tool is recognised by its command name)
        self.ref_portwrap = os.path.join(tmp, "ref", "portwrap")

    def next_dir(self, name):
        self.serial += 1
        d = os.path.join(self.tmp, f"{self.serial:03d}-{name}")
        os.mkdir(d)
        self.chown(d)
        return d

    def chown(self, path):
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)

    def popen(self, argv, logpath, **kw):
        logf = open(logpath, "ab")
        try:
            extra = {}
            if self.uid is not None:
                extra = dict(user=self.uid, group=self.gid, extra_groups=[])
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                    env=self.env, cwd=self.tmp, start_new_session=True,
                                    **extra, **kw)
        finally:
            logf.close()


def server_argv(ctx, kind, addr, port, workdir):
    t = ["timeout", "-k", "5", str(SERVER_LIFETIME)]
    if kind == "netbench":
        return [ctx.netbench, "server", addr, str(port), str(SERVER_LIFETIME)]
    if kind == "iperf3":
        return t + ["iperf3", "-s", "-p", str(port)] + (["-B", addr] if addr != "0.0.0.0" else [])
    if kind == "nginx":
        conf = write_nginx_conf(ctx, workdir, addr, port)
        return t + ["nginx", "-p", workdir, "-c", conf, "-e", os.path.join(workdir, "error.log")]
    raise ValueError(kind)


def write_nginx_conf(ctx, d, addr, port):
    www = os.path.join(d, "www")
    os.mkdir(www)
    with open(os.path.join(www, "f128"), "w") as f:
        f.write("x" * 127 + "\n")   # 128 bytes
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.mkdir(os.path.join(d, sub))
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""# written by bench/bench.py: nginx as an unprivileged user, everything in {d}
daemon off;
master_process off;
# Where nginx runs as root inside a namespace (pasta, slirp4netns map the user to root),
# its default 'nobody' is unmapped there; as anyone else this line is ignored.
user root root;
worker_processes 1;
worker_rlimit_nofile 8192;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    server {{
        listen {addr}:{port} backlog=4096;
        root {www};
        location / {{ }}
    }}
}}
""")
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            ctx.chown(os.path.join(root, n))
    return conf


class Instance:
    """One running contender with one server behind it."""

    def __init__(self, contender, procs, host_port, guest_port, workdir, logpath):
        self.contender = contender
        self.procs = procs
        self.host_port = host_port
        self.guest_port = guest_port
        self.workdir = workdir
        self.log = logpath
        self.hwm = {}

    def tree(self):
        return descendants([p.pid for p in self.procs])

    def server_pid(self):
        for pid in self.tree():
            st = proc_stat(pid)
            if st and st[0] in SERVER_COMMS:
                return pid
        return None

    def tool_pids(self):
        out = []
        for pid in self.tree():
            st = proc_stat(pid)
            if st and st[0] in TOOL_COMMS:
                out.append(pid)
        return out

    def tool_cpu_ns(self):
        return sum(cpu_ns(p) for p in self.tool_pids())

    def tool_ctxt(self):
        return sum(ctxt_switches(p) for p in self.tool_pids())

    def record_hwm(self):
        for pid in self.tool_pids():
            kb = status_field(pid, "VmHWM")
            st = proc_stat(pid)
            if kb and st:
                key = f"{pid}:{st[0]}"
                self.hwm[key] = max(kb, self.hwm.get(key, 0))
        return self.hwm

    def main_hwm_kb(self):
        """VmHWM of the tool's main process (the first tool process in the tree)."""
        self.record_hwm()
        tools = self.tool_pids()
        if not tools:
            return None
        for key, kb in self.hwm.items():
            if key.startswith(f"{tools[0]}:"):
                return kb
        return None

    def alive(self):
        return all(p.poll() is None for p in self.procs)

    def wait_ready(self, timeout=15.0):
        """Until the server listens inside and the host port listens outside."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.contender.name} exited early; log: {tail(self.log)}")
            spid = self.server_pid()
            if spid and self.guest_port in listening_ports(spid) and \
                    self.host_port in listening_ports():
                return
            time.sleep(0.002)
        raise RuntimeError(f"{self.contender.name} not ready after {timeout}s; log: {tail(self.log)}")

    def stop(self):
        """SIGTERM the tool (it should end its command), then anything left of the tree."""
        procs = [(pid, proc_stat(pid)) for pid in self.tree()]
        procs = [(pid, st[2]) for pid, st in procs if st]
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass

        def still(pid, start):
            reap(pid)
            st = proc_stat(pid)
            return st is not None and st[2] == start and st[4] != "Z"

        for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 3)):
            left = [(pid, s) for pid, s in procs if still(pid, s)]
            if not left:
                break
            for pid, _ in left:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            end = time.monotonic() + wait
            while time.monotonic() < end and any(still(pid, s) for pid, s in left):
                time.sleep(0.01)
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def reap(pid):
    """Reaps pid if it is a finished child of ours (orphans come to us: see main)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def become_subreaper():
    """Processes orphaned under us (a pasta command that outlives pasta, for one) become
    our children, so that we can reap them instead of leaving zombies behind."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def tail(path, n=6):
    s = read(path, "")
    return " | ".join(s.strip().splitlines()[-n:])


class Contender:
    name = "?"
    label = "?"
    tool_version = ""

    def available(self):
        return True, ""

    def true_argv(self, ctx, hp):
        """The command line that runs `true` behind this tool with one TCP forward."""
        raise NotImplementedError

    def run_true(self, ctx):
        """Runs `true` behind the tool and returns the whole run's wall time in ms."""
        d = ctx.next_dir(f"{self.name}-true")
        lg = os.path.join(d, "log")
        t0 = time.monotonic()
        p = ctx.popen(self.true_argv(ctx, new_host_port()), lg)
        rc = p.wait(timeout=30)
        t1 = time.monotonic()
        if rc != 0:
            raise RuntimeError(f"exit status {rc}; log: {tail(lg)}")
        return (t1 - t0) * 1e3

    def start(self, ctx, kind):
        raise NotImplementedError


class Baseline(Contender):
    name, label = "baseline", "baseline (no namespace)"

    def start(self, ctx, kind):
        d = ctx.next_dir(f"{self.name}-{kind}")
        hp = new_host_port()
        lg = os.path.join(d, "log")
        p = ctx.popen(server_argv(ctx, kind, "127.0.0.1", hp, d), lg)
        return Instance(self, [p], hp, hp, d, lg)

    def true_argv(self, ctx, hp):
        return ["true"]


def has_option(binary, option):
    """Whether `binary --help` lists option (cached per binary)."""
    key = (binary, option)
    if key not in _HAS_OPTION:
        try:
            out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        _HAS_OPTION[key] = option in out
    return _HAS_OPTION[key]


_HAS_OPTION = {}


class Portwrap(Contender):
    def __init__(self, driver, ref=False):
        self.driver = driver
        self.ref = ref
        self.name = f"portwrap-{driver}" + ("-ref" if ref else "")
        self.label = f"portwrap {driver}" + (" (reference binary)" if ref else "")

    def start(self, ctx, kind):
        d = ctx.next_dir(f"{self.name}-{kind}")
        hp = new_host_port()
        lg = os.path.join(d, "log")
        binary = ctx.ref_portwrap if self.ref else ctx.portwrap
        # The 1000-connection rows need more than the default --max-connections (256);
        # an older reference binary has no such option (and no limit).
        limit = ["--max-connections=0"] if self.driver == "relay" and has_option(binary, "--max-connections") else []
        # The handoff driver hands over IPv4 binds for an IPv4 forward; iperf3 without
        # -B binds [::], which it would relay. 127.0.0.1 inside is as good as 0.0.0.0
        # for the others' clients, which all arrive over IPv4.
        addr = "127.0.0.1" if self.driver == "handoff" else "0.0.0.0"
        argv = [binary, f"--port-driver={self.driver}"] + limit + ["-p", str(hp), "-P", str(GUEST_PORT),
                "--"] + server_argv(ctx, kind, addr, GUEST_PORT, d)
        p = ctx.popen(argv, lg)
        return Instance(self, [p], hp, GUEST_PORT, d, lg)

    def true_argv(self, ctx, hp):
        binary = ctx.ref_portwrap if self.ref else ctx.portwrap
        return [binary, f"--port-driver={self.driver}", "-p", str(hp), "-P", str(GUEST_PORT), "--", "true"]


class Pasta(Contender):
    name, label = "pasta", "pasta"

    def available(self):
        if not shutil.which("pasta"):
            return False, "pasta is not installed (Debian package passt)"
        return True, ""

    def start(self, ctx, kind):
        d = ctx.next_dir(f"{self.name}-{kind}")
        hp = new_host_port()
        lg = os.path.join(d, "log")
        # IPv4 only; only this TCP port, host loopback only; no automatic forwards of
        # other ports in either direction.
        argv = self.true_argv(ctx, hp)[:-1] + server_argv(ctx, kind, "0.0.0.0", GUEST_PORT, d)
        p = ctx.popen(argv, lg)
        return Instance(self, [p], hp, GUEST_PORT, d, lg)

    def true_argv(self, ctx, hp):
        return ["pasta", "--config-net", "-4", "-t", f"127.0.0.1/{hp}:{GUEST_PORT}",
                "-u", "none", "-T", "none", "-U", "none", "--", "true"]


class Slirp4netns(Contender):
    name, label = "slirp4netns", "slirp4netns"

    def available(self):
        for prog in ("slirp4netns", "unshare"):
            if not shutil.which(prog):
                return False, f"{prog} is not installed"
        return True, ""

    def run_true(self, ctx):
        """unshare's command waits (polling a flag file, bounded) until slirp4netns is
        ready and the port is published, as `true` would run behind it; the run ends
        when both have exited."""
        t0 = time.monotonic()
        inst = self.start(ctx, "true")
        try:
            open(os.path.join(inst.workdir, "go"), "w").close()
            rc = inst.procs[0].wait(timeout=30)
            if rc != 0:
                raise RuntimeError(f"exit status {rc}; log: {tail(inst.log)}")
        finally:
            inst.stop()
        return (time.monotonic() - t0) * 1e3

    def start(self, ctx, kind):
        d = ctx.next_dir(f"{self.name}-{kind}")
        hp = new_host_port()
        lg = os.path.join(d, "log")
        api = os.path.join(d, "api.sock")
        inner = server_argv(ctx, kind, "0.0.0.0", GUEST_PORT, d) if kind != "true" else \
            ["timeout", "30", "sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.001; done', os.path.join(d, "go")]
        ns = ctx.popen(["unshare", "--user", "--map-root-user", "--net", "--"] + inner, lg)
        inst = Instance(self, [ns], hp, GUEST_PORT, d, lg)
        try:
            # slirp4netns joins the namespaces of that pid: wait until unshare made them.
            host_ns = os.readlink("/proc/self/ns/net")
            deadline = time.monotonic() + 10
            while True:
                try:
                    if os.readlink(f"/proc/{ns.pid}/ns/net") != host_ns:
                        break
                except OSError:
                    pass
                if ns.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"unshare did not make a namespace; log: {tail(lg)}")
                time.sleep(0.0005)
            rfd, wfd = os.pipe()
            s4 = ctx.popen(["slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback",
                            f"--api-socket={api}", f"--ready-fd={wfd}", str(ns.pid), "tap0"], lg,
                           pass_fds=(wfd,))
            os.close(wfd)
            inst.procs.append(s4)
            ready = b""
            try:
                import select
                r, _, _ = select.select([rfd], [], [], 10)
                if r:
                    ready = os.read(rfd, 1)
            finally:
                os.close(rfd)
            if ready != b"1":
                raise RuntimeError(f"slirp4netns did not become ready; log: {tail(lg)}")
            req = {"execute": "add_hostfwd",
                   "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", "host_port": hp,
                                 "guest_port": GUEST_PORT}}
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.settimeout(10)
                c.connect(api)
                c.sendall(json.dumps(req).encode())
                c.shutdown(socket.SHUT_WR)
                answer = b""
                while True:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
            if b'"return"' not in answer or b"error" in answer:
                raise RuntimeError(f"slirp4netns add_hostfwd failed: {answer!r}")
        except Exception:
            inst.stop()
            raise
        return inst


# ---------------------------------------------------------------------------------------
# Measurements


def run_client(argv, timeout):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    return r


def iperf3(inst, streams, reverse, seconds):
    argv = ["iperf3", "-c", "127.0.0.1", "-p", str(inst.host_port), "-t", str(seconds),
            "-P", str(streams), "-J", "--connect-timeout", "5000"] + (["-R"] if reverse else [])
    cpu0 = inst.tool_cpu_ns()
    try:
        r = run_client(argv, timeout=seconds + 10)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"iperf3 did not finish a {seconds} s test within {seconds + 10} s")
    cpu1 = inst.tool_cpu_ns()
    try:
        j = json.loads(r.stdout)
    except ValueError:
        raise RuntimeError(f"iperf3 printed no JSON: {r.stderr.strip()[:200]}")
    if "error" in j:
        raise RuntimeError(f"iperf3: {j['error']}")
    recv = j["end"]["sum_received"]
    return {"bits_per_second": recv["bits_per_second"], "bytes": recv["bytes"],
            "tool_cpu_ns": cpu1 - cpu0,
            "retransmits": j["end"].get("sum_sent", {}).get("retransmits")}


def netbench_client(ctx, mode, port, max_count, seconds):
    r = run_client([ctx.netbench, mode, "127.0.0.1", str(port), str(max_count), str(seconds)],
                   timeout=seconds + 20)
    if r.returncode != 0:
        raise RuntimeError(f"netbench {mode}: {r.stderr.strip()[:200]}")
    return json.loads(r.stdout)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m|h)$", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def wrk(inst, conns, seconds, close):
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"http://127.0.0.1:{inst.host_port}/f128")
    spid = inst.server_pid() if inst.contender.name != "baseline" else None
    before = ns_counters(spid) if spid else {}
    r = run_client(argv, timeout=seconds + 30)
    after = ns_counters(spid) if spid else {}
    out = r.stdout
    res = {"connections": conns, "close": close,
           "ns_counters": {k: after[k] - before.get(k, 0) for k in after
                           if after[k] - before.get(k, 0)}}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"wrk: no result: {(out + r.stderr).strip()[-300:]}")
    res["rps"] = float(m.group(1))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        res[f"p{pct}_ms"] = to_ms(m.group(1)) if m else None
    m = re.search(r"^\s+Latency\s+(\S+)", out, re.M)
    res["avg_ms"] = to_ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                    map(int, m.groups()))) if m else {}
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    inst.record_hwm()
    return res


def first_byte(port, deadline):
    """Poll connect + 1-byte request + 1-byte answer on 127.0.0.1:port until it works."""
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(max(0.05, min(1.0, deadline - time.monotonic())))
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"c")
            if s.recv(1) == b"c":
                return attempts
        except OSError:
            pass
        finally:
            s.close()
        time.sleep(0.0005)
    return None


# ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, for trying the script out")
    ap.add_argument("--only", default="", help="comma-separated contender names")
    ap.add_argument("--doc", default=os.path.join(REPO, "docs", "performance.md"),
                    help="the file whose results section is regenerated ('' = none)")
    ap.add_argument("--json", default=os.path.join(REPO, "build", "bench", "results.json"),
                    help="where the raw results go ('' = nowhere)")
    ap.add_argument("--budget", type=float, default=480,
                    help="seconds; tests not started by then are skipped")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--tests", default="iperf3,netbench,http,startup,true,idle",
                    help="comma-separated test groups to run (default: all)")
    ap.add_argument("--ref-portwrap", default="",
                    help="another portwrap binary, run as the extra contender portwrap-relay-ref "
                         "(to compare two builds in one run)")
    args = ap.parse_args()
    tests = set(args.tests.split(","))
    if args.doc and (tests != set(ap.get_default("tests").split(",")) or args.ref_portwrap):
        args.doc = ""  # a partial table must not replace the full one

    t_start = time.monotonic()
    become_subreaper()
    q = args.quick
    iperf_s = 1 if q else 3
    wrk_s = 1 if q else 4
    scale_s = 1 if q else 3
    rr_s = 0.5 if q else 2
    burst_s = 10
    startups = 3 if q else 11
    idle_s = 2 if q else 10

    contenders = [Baseline(), Portwrap("handoff"), Portwrap("relay"), Portwrap("slirp"), Pasta(), Slirp4netns()]
    if args.ref_portwrap:
        contenders.insert(2, Portwrap("relay", ref=True))
    if args.only:
        want = set(args.only.split(","))
        contenders = [c for c in contenders if c.name in want or c.name == "baseline"
                      or getattr(c, "ref", False)]
    skipped = {}
    for c in list(contenders):
        ok, why = c.available()
        if not ok:
            skipped[c.name] = why
            contenders.remove(c)

    tmp = tempfile.mkdtemp(prefix="portwrap-bench.")
    os.chmod(tmp, 0o755)
    ctx = Ctx(tmp, q)
    ctx.chown(tmp)
    results = {c.name: {} for c in contenders}
    failures = {c.name: [] for c in contenders}
    load_before = read("/proc/loadavg", "").split()[:3]
    try:
        subprocess.run(["cc", "-O2", "-o", ctx.netbench, os.path.join(REPO, "bench", "netbench.c")],
                       check=True)
        shutil.copy2(os.path.join(REPO, "build", "src", "portwrap"), ctx.portwrap)
        if args.ref_portwrap:
            os.mkdir(os.path.dirname(ctx.ref_portwrap))
            os.chmod(os.path.dirname(ctx.ref_portwrap), 0o755)
            shutil.copy2(args.ref_portwrap, ctx.ref_portwrap)
        info = machine_info(ctx)
        log(f"contenders: {', '.join(c.name for c in contenders)}; running as {ctx.user}; "
            f"load average {' '.join(load_before)}")

        def over_budget(what):
            if time.monotonic() - t_start > args.budget:
                log(f"time budget of {args.budget:.0f}s used up: skipping {what}")
                return True
            return False

        def save_hwm(c, phase, inst):
            """VmHWM (kB) of the tool's main process, and of each tool process (raw)."""
            results[c.name].setdefault("hwm", {})[phase] = inst.main_hwm_kb()
            results[c.name].setdefault("hwm_all_processes", {})[phase] = dict(inst.hwm)

        def attempt(c, what, fn):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - one failure must not end the run
                msg = f"{what}: {e}"
                failures[c.name].append(msg)
                log(f"  {c.name}: FAILED {msg}")

        # -- throughput (iperf3) ---------------------------------------------------
        for c in (contenders if "iperf3" in tests else []):
            if over_budget(f"iperf3 for {c.name}"):
                break
            log(f"iperf3: {c.name}")

            def go(c=c):
                inst = c.start(ctx, "iperf3")
                try:
                    inst.wait_ready()
                    for rev in (False, True):
                        for streams in (1, 4):
                            key = f"iperf_{'ns_to_host' if rev else 'host_to_ns'}_{streams}"
                            try:
                                results[c.name][key] = iperf3(inst, streams, rev, iperf_s)
                            except Exception as e:  # noqa: BLE001
                                failures[c.name].append(f"{key}: {e}")
                                log(f"  {c.name}: FAILED {key}: {e}")
                            inst.record_hwm()
                    save_hwm(c, "iperf3", inst)
                finally:
                    inst.stop()
            attempt(c, "iperf3", go)

        # -- round trip and connection rate (netbench) -------------------------------
        for c in (contenders if "netbench" in tests else []):
            if over_budget(f"round trips for {c.name}"):
                break
            log(f"round trip, connect rate: {c.name}")

            def go(c=c):
                inst = c.start(ctx, "netbench")
                try:
                    inst.wait_ready()
                    results[c.name]["pingpong"] = netbench_client(ctx, "pingpong", inst.host_port,
                                                                  500000, rr_s)
                    results[c.name]["connrate"] = netbench_client(ctx, "connrate", inst.host_port,
                                                                  50000, rr_s)
                    results[c.name]["burst"] = netbench_client(ctx, "burst", inst.host_port,
                                                               1000, burst_s)
                    save_hwm(c, "netbench", inst)
                finally:
                    inst.stop()
            attempt(c, "netbench", go)

        # -- HTTP (nginx + wrk) ---------------------------------------------------------
        for c in (contenders if "http" in tests else []):
            if over_budget(f"HTTP for {c.name}"):
                break
            log(f"HTTP (wrk): {c.name}")

            def go(c=c):
                inst = c.start(ctx, "nginx")
                try:
                    inst.wait_ready()
                    results[c.name]["host_listen_backlog"] = listen_backlog(inst.host_port)
                    for close in (False, True):
                        key = f"http_c16_{'close' if close else 'keepalive'}"
                        try:
                            results[c.name][key] = wrk(inst, 16, wrk_s, close)
                        except Exception as e:  # noqa: BLE001
                            failures[c.name].append(f"{key}: {e}")
                    for n in (1, 10, 100, 1000):
                        try:
                            results[c.name][f"http_scale_{n}"] = wrk(inst, n, scale_s, False)
                        except Exception as e:  # noqa: BLE001
                            failures[c.name].append(f"http_scale_{n}: {e}")
                    save_hwm(c, "nginx", inst)
                finally:
                    inst.stop()
            attempt(c, "HTTP", go)

        # -- start-up ------------------------------------------------------------------
        for c in (contenders if "startup" in tests else []):
            if over_budget(f"start-up for {c.name}"):
                break
            log(f"start-up x{startups}: {c.name}")

            def go(c=c):
                times, attempts = [], []
                for _ in range(startups):
                    t0 = time.monotonic()
                    inst = c.start(ctx, "netbench")
                    try:
                        n = first_byte(inst.host_port, t0 + 10)
                        t1 = time.monotonic()
                        if n is None:
                            raise RuntimeError(f"no answer within 10 s; log: {tail(inst.log)}")
                        times.append((t1 - t0) * 1e3)
                        attempts.append(n)
                    finally:
                        inst.stop()
                results[c.name]["startup"] = {
                    "runs_ms": times, "median_ms": statistics.median(times),
                    "min_ms": min(times), "max_ms": max(times), "attempts": attempts}
            attempt(c, "start-up", go)

        # -- `… true`: the whole process, start-up and exit ---------------------------------
        for c in (contenders if "true" in tests else []):
            if over_budget(f"`true` for {c.name}"):
                break
            log(f"`true` x{startups}: {c.name}")

            def go(c=c):
                times = [c.run_true(ctx) for _ in range(startups)]
                results[c.name]["true"] = {"runs_ms": times, "median_ms": statistics.median(times),
                                           "min_ms": min(times), "max_ms": max(times)}
            attempt(c, "true", go)

        # -- idle CPU: every tool at once, with no connections -------------------------------
        if "idle" in tests and not over_budget("idle CPU"):
            tools = [c for c in contenders if c.name != "baseline"]
            log(f"idle CPU for {idle_s}s: {', '.join(c.name for c in tools)} (all at once)")
            insts = {}
            try:
                for c in tools:
                    attempt(c, "idle start", lambda c=c: insts.__setitem__(c.name, c.start(ctx, "netbench")))
                for name, inst in insts.items():
                    attempt(inst.contender, "idle ready", inst.wait_ready)
                time.sleep(1)
                before = {n: (i.tool_cpu_ns(), i.tool_ctxt(), time.monotonic()) for n, i in insts.items()}
                time.sleep(idle_s)
                for n, i in insts.items():
                    cpu0, cs0, t0 = before[n]
                    dt = time.monotonic() - t0
                    results[n]["idle"] = {"seconds": dt, "cpu_ms": (i.tool_cpu_ns() - cpu0) / 1e6,
                                          "wakeups_per_s": (i.tool_ctxt() - cs0) / dt,
                                          "tool_processes": len(i.tool_pids())}
            finally:
                for i in insts.values():
                    i.stop()

        load_after = read("/proc/loadavg", "").split()[:3]
        info["load_before"] = " ".join(load_before)
        info["load_after"] = " ".join(load_after)
        info["run_seconds"] = round(time.monotonic() - t_start)
        # pasta and unshare --map-root-user make the user root inside their user namespace.
        info["run_as"] = {c.name: ctx.user + (" (uid 0 inside)" if c.name in ("pasta", "slirp4netns")
                                              else "") for c in contenders}
        info["quick"] = q
        info["durations"] = {"iperf3_s": iperf_s, "wrk_s": wrk_s, "scale_s": scale_s,
                             "round_trip_s": rr_s, "burst_s": burst_s, "startups": startups,
                             "idle_s": idle_s}
        table, notes = render(contenders, results, failures, skipped, info)
        print()
        print(table)
        print()
        for n in notes:
            print(f"- {n}")
        if args.json:
            os.makedirs(os.path.dirname(args.json), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump({"info": info, "results": results, "failures": failures,
                           "skipped": skipped}, f, indent=1)
            log(f"raw results: {args.json}")
        if args.doc and not q:
            write_doc(args.doc, info, table, notes)
            log(f"updated {args.doc}")
        elif args.doc:
            log("--quick: docs/performance.md left alone")
        log(f"done in {info['run_seconds']}s")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept {tmp}")


def machine_info(ctx):
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    def deb(pkg):
        return out(["dpkg-query", "-W", "-f=${Version}", pkg]) or "not installed"

    cpu = re.search(r"^model name\s*:\s*(.*)$", read("/proc/cpuinfo", ""), re.M)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "portwrap": out([ctx.portwrap, "--version"]).splitlines()[0],
        "git": out(["git", "-C", REPO, "describe", "--always", "--dirty"]),
        "pasta": f"passt {deb('passt')} (Debian)",
        "slirp4netns": (out(["slirp4netns", "--version"]).splitlines() or ["not installed"])[0]
        + f" (Debian {deb('slirp4netns')})",
        "iperf3": deb("iperf3"), "wrk": deb("wrk"), "nginx": deb("nginx-light"),
        "kernel": platform.release(),
        "nproc": os.cpu_count(),
        "cpu": cpu.group(1) if cpu else "unknown",
    }


# ---------------------------------------------------------------------------------------
# The table


def fmt(v, digits=3):
    if v is None:
        return "—"
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
    return f"{v:.{decimals}f}"


def render(contenders, results, failures, skipped, info):
    def get(name, *path):
        v = results.get(name, {})
        for p in path:
            if not isinstance(v, dict) or p not in v:
                return None
            v = v[p]
        return v

    def gbps(name, key):
        v = get(name, key, "bits_per_second")
        return v / 1e9 if v is not None else None

    def cpu_per_gb(name, direction):
        ns = b = 0
        for s in (1, 4):
            r = get(name, f"iperf_{direction}_{s}")
            if r:
                ns += r["tool_cpu_ns"]
                b += r["bytes"]
        if name == "baseline" or not b:
            return None
        return ns / 1e9 / (b / 1e9)

    def ms(us):
        return us / 1e3 if us is not None else None

    def hwm_mib(name):
        h = get(name, "hwm")
        vals = [v for v in (h or {}).values() if v]
        return max(vals) / 1024 if vals else None

    rows = [
        # (label, function(name) -> value, higher is better,
        #  True: ratio to the baseline | "plain": value only | False: n/a for the baseline)
        ("iperf3 host→ns, 1 stream (Gbit/s)", lambda n: gbps(n, "iperf_host_to_ns_1"), True, True),
        ("iperf3 host→ns, 4 streams (Gbit/s)", lambda n: gbps(n, "iperf_host_to_ns_4"), True, True),
        ("iperf3 ns→host (-R), 1 stream (Gbit/s)", lambda n: gbps(n, "iperf_ns_to_host_1"), True, True),
        ("iperf3 ns→host (-R), 4 streams (Gbit/s)", lambda n: gbps(n, "iperf_ns_to_host_4"), True, True),
        ("1-byte round trip, median (µs)", lambda n: get(n, "pingpong", "p50_us"), False, True),
        ("1-byte round trip, p99 (µs)", lambda n: get(n, "pingpong", "p99_us"), False, True),
        ("connect+request+close (per s)", lambda n: get(n, "connrate", "per_second"), True, True),
        ("burst of 1000 connects, p50 to answer (ms)", lambda n: ms(get(n, "burst", "p50_us")), False, True),
        ("burst of 1000 connects, slowest answer (ms)", lambda n: ms(get(n, "burst", "max_us")), False, True),
        (f"burst of 1000 connects, failed or unanswered after {info['durations']['burst_s']} s",
         lambda n: get(n, "burst", "errors"), False, "plain"),
        ("HTTP keep-alive, 16 conns (req/s)", lambda n: get(n, "http_c16_keepalive", "rps"), True, True),
        ("HTTP keep-alive, 16 conns, p50 (ms)", lambda n: get(n, "http_c16_keepalive", "p50_ms"), False, True),
        ("HTTP keep-alive, 16 conns, p99 (ms)", lambda n: get(n, "http_c16_keepalive", "p99_ms"), False, True),
        ("HTTP `Connection: close`, 16 conns (req/s)", lambda n: get(n, "http_c16_close", "rps"), True, True),
        ("HTTP `Connection: close`, 16 conns, p50 (ms)", lambda n: get(n, "http_c16_close", "p50_ms"), False, True),
        ("HTTP `Connection: close`, 16 conns, p99 (ms)", lambda n: get(n, "http_c16_close", "p99_ms"), False, True),
    ]
    for n_conn in (1, 10, 100, 1000):
        conns = f"{n_conn} conn" + ("s" if n_conn > 1 else "")
        rows.append((f"HTTP keep-alive, {conns} (req/s)",
                     lambda n, k=n_conn: get(n, f"http_scale_{k}", "rps"), True, True))
        rows.append((f"HTTP keep-alive, {conns}, p99 (ms)",
                     lambda n, k=n_conn: get(n, f"http_scale_{k}", "p99_ms"), False, True))
    rows += [
        ("listen backlog of the host port (ss Send-Q)", lambda n: get(n, "host_listen_backlog"), True, "plain"),
        ("`… true`, whole process, median (ms)", lambda n: get(n, "true", "median_ms"), False, True),
        ("start-up to first answered byte, median (ms)", lambda n: get(n, "startup", "median_ms"), False, True),
        ("tool's peak RSS, VmHWM (MiB)", lambda n: hwm_mib(n), False, False),
        ("tool CPU per GB, host→ns (s/GB)", lambda n: cpu_per_gb(n, "host_to_ns"), False, False),
        ("tool CPU per GB, ns→host (s/GB)", lambda n: cpu_per_gb(n, "ns_to_host"), False, False),
        (f"tool CPU while idle {info['durations']['idle_s']} s (ms)", lambda n: get(n, "idle", "cpu_ms"), False, False),
        ("tool wake-ups while idle (per s)", lambda n: get(n, "idle", "wakeups_per_s"), False, False),
    ]
    names = [c.name for c in contenders]
    head = "| measurement (↑ higher is better, ↓ lower) | " + " | ".join(c.label for c in contenders) + " |"
    sep = "| --- | " + " | ".join("---:" for _ in contenders) + " |"
    lines = [head, sep]
    for label, fn, higher, has_base in rows:
        base = fn("baseline") if "baseline" in names and has_base is True else None
        cells = []
        for n in names:
            v = fn(n)
            if n == "baseline" and not has_base:
                cells.append("n/a")
                continue
            cell = fmt(v) if has_base != "plain" else (str(v) if v is not None else "—")
            if v is not None and base and n != "baseline":
                cell += f" (×{v / base:.2f})"
            cells.append(cell)
        arrow = "↑" if higher else "↓"
        lines.append(f"| {label} {arrow} | " + " | ".join(cells) + " |")
    lines.append("| ran as | " + " | ".join(info["run_as"].get(n, "?") for n in names) + " |")

    notes = []
    for n in names:
        for k, r in sorted(results[n].items()):
            if isinstance(r, dict) and "socket_errors" in r:
                errs = {e: x for e, x in r["socket_errors"].items() if x}
                if errs or r.get("non_2xx"):
                    d = ", ".join(f"{x} {e}" for e, x in errs.items())
                    if r.get("non_2xx"):
                        d += f", {r['non_2xx']} non-2xx"
                    notes.append(f"{n}, {k}: wrk reported errors: {d.strip(', ')} "
                                 f"(of {r.get('requests')} requests)")
        for k, r in sorted(results[n].items()):
            if not (isinstance(r, dict) and "ns_counters" in r):
                continue
            nc = r.get("ns_counters") or {}
            shown = {x: nc[x] for x in ("TCPTimeouts", "ListenOverflows", "tap0_tx_dropped",
                                        "tap0_rx_dropped") if nc.get(x)}
            if shown:
                notes.append(f"{n}, {k}: inside the namespace: " +
                             ", ".join(f"{x} {v}" for x, v in shown.items()))
        for f in failures.get(n, []):
            notes.append(f"{n}: FAILED {f}")
        su = results[n].get("startup")
        if su:
            notes.append(f"{n}: start-up runs (ms) min {su['min_ms']:.1f}, max {su['max_ms']:.1f}, "
                         f"connect attempts per run {min(su['attempts'])}-{max(su['attempts'])}")
    for n, why in skipped.items():
        notes.append(f"{n}: not run: {why}")
    return "\n".join(lines), notes


def write_doc(path, info, table, notes):
    d = info
    body = [
        MARK_BEGIN,
        "",
        f"Run of {d['date']} (`bash bench/run.sh`, {d['run_seconds']} s), portwrap tree "
        f"`{d['git']}`.",
        "",
        f"- Machine: {d['nproc']} CPUs, {d['cpu']}; kernel {d['kernel']}.",
        f"- Load average (1, 5, 15 min): {d['load_before']} before, {d['load_after']} after.",
        f"- {d['portwrap']}; pasta: {d['pasta']}; slirp4netns: {d['slirp4netns']}.",
        f"- iperf3 {d['iperf3']}, wrk {d['wrk']}, nginx-light {d['nginx']} (Debian versions).",
        f"- Durations: iperf3 {d['durations']['iperf3_s']} s per run, wrk "
        f"{d['durations']['wrk_s']} s (16 connections) and {d['durations']['scale_s']} s "
        f"(scaling), round trips {d['durations']['round_trip_s']} s, burst at most "
        f"{d['durations']['burst_s']} s, "
        f"{d['durations']['startups']} start-ups, idle {d['durations']['idle_s']} s.",
        f"- Every contender's tool and server ran as `{next(iter(d['run_as'].values()), '?')}` "
        "(the row *ran as*); the clients (iperf3 -c, wrk, netbench) ran as the invoking user.",
        "",
        "Ratios are to the baseline (the same server on the host's loopback, no namespace).",
        "",
        table,
        "",
        "Notes from this run:",
        "",
    ] + [f"- {n}" for n in notes] + ["", MARK_END]
    text = read(path)
    block = "\n".join(body)
    if text is None:
        text = "# Performance\n\n" + block + "\n"
    elif MARK_BEGIN in text and MARK_END in text:
        pre = text[:text.index(MARK_BEGIN)]
        post = text[text.index(MARK_END) + len(MARK_END):]
        text = pre + block + post
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
