#!/usr/bin/python3
"""portwrap's test helper, the one Python module of the shell tests (tests/integration/lib.sh
and tests/robustness/rlib.sh call it): port probes, small servers and clients, the UDP
echo server, the process-tag scan, and the robustness test server with its load clients.

    pwtest.py COMMAND ARGS...      (the commands are listed in COMMANDS, at the end)

lib.sh copies it to $PW_HELPER (pwhelper.py) and rlib.sh to $RB (rbhelper.py), where the
test user and the command inside the namespace can run it. Invoked as pwhelper.py,
'hold' keeps its lib.sh meaning (listen-hold); under any other name it is the robustness
client 'hold' (see NAME_ALIASES).

Every wait has a timeout and every loop a bound. The robustness clients only ever connect
to 127.0.0.0/8 or ::1 (host side) or 10.0.2.x (from inside a portwrap namespace); the
shell side checks the host-side probes the same way (lib.sh: _loopback_only).

Robustness server protocol ('serve'): the client's first line is a request; it answers:
  PING TOKEN          -> "PONG TOKEN\\n"; more PING lines may follow; EOF ends it
  ECHO                -> every byte back, until EOF; then FIN
  SINK N              -> reads exactly N bytes, answers "SHA256 N\\n" of them, FIN
  SOURCE N SEED       -> N bytes of gen(N, SEED), then "SHA256\\n" of them, FIN
  HALF N SEED         -> reads until EOF (hash H, count M), then sends N bytes of
                         gen(N, SEED) and "SENT_SHA H M\\n", FIN
  HOLD                -> "HELD\\n", then reads until EOF
  EXIT STATUS         -> the whole server process exits at once (os._exit), with
                         every connection still open
"""
import hashlib, ipaddress, os, random, socket, socketserver, struct
import sys, threading, time

# asyncio and statistics are imported where used: the port probes start this module
# many times a second, and asyncio alone costs ~70 ms of CPU.

CHUNK = 1 << 18
POOL = 1 << 22
SERVER_LIFETIME = 900  # s: the server never runs longer than this


# ------------------------------------------------------------------ common

def gen(n, seed):
    """Deterministic pseudo-random data: n bytes, yielded as memoryview chunks."""
    rng = random.Random(seed)
    if n <= POOL:
        data = memoryview(rng.randbytes(n))
        for off in range(0, n, CHUNK):
            yield data[off:off + CHUNK]
        return
    pool = memoryview(rng.randbytes(POOL))
    left = n
    while left > 0:
        k = min(CHUNK, left)
        off = rng.randrange(0, POOL - k + 1)
        yield pool[off:off + k]
        left -= k


def allowed(host):
    """The network rule: loopback on the host, 10.0.2.x from inside the namespace."""
    a = ipaddress.ip_address(host)
    if a.is_loopback or a in ipaddress.ip_network("10.0.2.0/24"):
        return host
    raise SystemExit(f"rbhelper: refusing to connect to {host} (not loopback or 10.0.2.0/24)")


def connect(host, port, timeout):
    return socket.create_connection((allowed(host), int(port)), timeout=float(timeout))


class LineReader:
    """Reads a first line from a socket, keeping what came after it."""

    def __init__(self, sock):
        self.sock = sock
        self.rest = b""

    def line(self, limit=4096):
        buf = self.rest
        while b"\n" not in buf:
            if len(buf) > limit:
                raise ValueError("line too long")
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("EOF before the end of the line")
            buf += data
        line, self.rest = buf.split(b"\n", 1)
        return line.decode()

    def read_exact_hash(self, n, h):
        """Reads exactly n bytes (after the line) into hash h; returns the count."""
        got = 0
        if self.rest:
            take = self.rest[:n]
            h.update(take)
            got = len(take)
            self.rest = self.rest[len(take):]
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        while got < n:
            k = self.sock.recv_into(mv[:min(CHUNK, n - got)])
            if k == 0:
                break
            h.update(mv[:k])
            got += k
        return got

    def read_to_eof_hash(self, h, limit=1 << 40):
        got = len(self.rest)
        h.update(self.rest)
        self.rest = b""
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        while got < limit:
            k = self.sock.recv_into(mv)
            if k == 0:
                break
            h.update(mv[:k])
            got += k
        return got


def ready(path):
    with open(path + ".tmp", "w") as f:
        f.write("ready\n")
    os.rename(path + ".tmp", path)


def outcome_of(exc):
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "reset"
    if isinstance(exc, socket.timeout):
        return "timeout"
    return "error:" + type(exc).__name__ + ":" + str(exc)


# ------------------------------------------------------------------ server (inside)

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(300)
        r = LineReader(s)
        cmd = "?"
        try:
            words = r.line().split()
            if not words:
                return
            cmd = words[0]
            if cmd == "PING":
                while True:
                    s.sendall(("PONG " + " ".join(words[1:]) + "\n").encode())
                    try:
                        words = r.line().split()
                    except EOFError:
                        return
                    if not words or words[0] != "PING":
                        return
            elif cmd == "ECHO":
                if r.rest:
                    s.sendall(r.rest)
                buf = bytearray(CHUNK)
                mv = memoryview(buf)
                while True:
                    k = s.recv_into(mv)
                    if k == 0:
                        break
                    s.sendall(mv[:k])
                s.shutdown(socket.SHUT_WR)
            elif cmd == "SINK":
                n = int(words[1])
                h = hashlib.sha256()
                got = r.read_exact_hash(n, h)
                s.sendall(f"{h.hexdigest()} {got}\n".encode())
                s.shutdown(socket.SHUT_WR)
            elif cmd == "SOURCE":
                n, seed = int(words[1]), int(words[2])
                h = hashlib.sha256()
                for chunk in gen(n, seed):
                    h.update(chunk)
                    s.sendall(chunk)
                s.sendall(f"{h.hexdigest()}\n".encode())
                s.shutdown(socket.SHUT_WR)
            elif cmd == "HALF":
                n, seed = int(words[1]), int(words[2])
                hr = hashlib.sha256()
                m = r.read_to_eof_hash(hr)
                hs = hashlib.sha256()
                for chunk in gen(n, seed):
                    hs.update(chunk)
                    s.sendall(chunk)
                s.sendall(f"{hs.hexdigest()} {hr.hexdigest()} {m}\n".encode())
                s.shutdown(socket.SHUT_WR)
            elif cmd == "HOLD":
                s.sendall(b"HELD\n")
                r.read_to_eof_hash(hashlib.sha256())
            elif cmd == "EXIT":
                sys.stdout.flush()
                os._exit(int(words[1]))
        except (OSError, ValueError, EOFError) as e:
            # A client that resets or vanishes is part of the test; log it only.
            print(f"server: {cmd}: {type(e).__name__}: {e}", file=sys.stderr)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 4096

    def __init__(self, addr, handler, family):
        self.address_family = family
        super().__init__(addr, handler, bind_and_activate=False)
        if family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.server_bind()
        self.server_activate()


def serve(argv):
    """serve PORT READYFILE [--host ADDR] [--late TRIGGERFILE] [--pidfile FILE]"""
    port, readyfile = int(argv[0]), argv[1]
    opts = dict(zip(argv[2::2], argv[3::2]))
    host = opts.get("--host", "0.0.0.0")
    if "--pidfile" in opts:
        with open(opts["--pidfile"] + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(opts["--pidfile"] + ".tmp", opts["--pidfile"])
    if "--late" in opts:  # listen only once the trigger file exists (bounded wait)
        deadline = time.monotonic() + 120
        while not os.path.exists(opts["--late"]):
            if time.monotonic() > deadline:
                print("server: the trigger file never appeared", file=sys.stderr)
                return 3
            time.sleep(0.05)
    try:  # a server with many clients needs more than 1024 fds
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = Server((host, port), Handler, family)
    threading.Timer(SERVER_LIFETIME, lambda: os._exit(4)).start()
    ready(readyfile)
    srv.serve_forever()


# ------------------------------------------------------------------ clients (host)

def _raise_nofile():
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass


def ping(host, port, timeout):
    """ping HOST PORT TIMEOUT: one PING round trip; prints ok or the outcome."""
    try:
        with connect(host, port, timeout) as c:
            c.sendall(b"PING one\n")
            r = LineReader(c)
            line = r.line()
            print("ok" if line == "PONG one" else "bad:" + line)
            return 0 if line == "PONG one" else 1
    except EOFError:
        print("eof")
    except OSError as e:
        print(outcome_of(e))
    return 1


def probe(host, port, timeout):
    """probe HOST PORT TIMEOUT: what a client sees: refused|eof|reset|timeout|data:..."""
    timeout = float(timeout)
    t0 = time.monotonic()
    try:
        with connect(host, port, timeout) as c:
            c.settimeout(timeout)
            try:
                c.sendall(b"PING probe\n")
            except OSError:
                pass  # the read below tells what happened
            data = c.recv(100)
            res = "eof" if not data else "data:" + data.decode(errors="replace").strip()
    except OSError as e:
        res = outcome_of(e)
    print(f"{res} {int((time.monotonic() - t0) * 1000)}ms")
    return 0


async def _burst_one(host, port, i, timeout):
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        try:
            writer.write(f"PING {i}\n".encode())
            line = await asyncio.wait_for(reader.readline(), timeout)
        finally:
            writer.close()
        if line != f"PONG {i}\n".encode():
            return (False, f"bad answer {line!r}", time.monotonic() - t0)
        return (True, "", time.monotonic() - t0)
    except (OSError, asyncio.TimeoutError) as e:
        return (False, type(e).__name__ + ":" + str(e), time.monotonic() - t0)


def burst(host, port, n, timeout):
    """burst HOST PORT N TIMEOUT: N connects at once, one PING each."""
    global asyncio
    import asyncio, statistics
    _raise_nofile()
    allowed(host)

    async def run():
        return await asyncio.gather(*[_burst_one(host, int(port), i, float(timeout)) for i in range(int(n))])

    t0 = time.monotonic()
    res = asyncio.run(run())
    wall = time.monotonic() - t0
    ok = sum(1 for r in res if r[0])
    lat = sorted(r[2] * 1000 for r in res)
    print(f"ok={ok} failed={len(res) - ok} max_ms={lat[-1]:.0f} median_ms={statistics.median(lat):.0f} wall_ms={wall * 1000:.0f}")
    for r in [r for r in res if not r[0]][:5]:
        print("  failure:", r[1])
    return 0 if ok == len(res) else 1


def sink(host, port, n, timeout):
    """sink HOST PORT N TIMEOUT: sends N generated bytes (host -> ns); the server's sha must match."""
    n = int(n)
    h = hashlib.sha256()
    t0 = time.monotonic()
    with connect(host, port, float(timeout)) as c:
        c.sendall(f"SINK {n}\n".encode())
        for chunk in gen(n, 1):
            h.update(chunk)
            c.sendall(chunk)
        reply = LineReader(c).line()
    secs = time.monotonic() - t0
    want = f"{h.hexdigest()} {n}"
    print(f"bytes={n} secs={secs:.2f} MBps={n / secs / 1e6:.0f} sent_sha={h.hexdigest()} server_says={reply}")
    return 0 if reply == want else 1


def source(host, port, n, timeout):
    """source HOST PORT N TIMEOUT: receives N bytes (ns -> host) and the sender's sha."""
    n = int(n)
    h = hashlib.sha256()
    t0 = time.monotonic()
    with connect(host, port, float(timeout)) as c:
        c.sendall(f"SOURCE {n} 2\n".encode())
        r = LineReader(c)
        got = r.read_exact_hash(n, h)
        trailer = r.line()
    secs = time.monotonic() - t0
    print(f"bytes={got} secs={secs:.2f} MBps={got / secs / 1e6:.0f} recv_sha={h.hexdigest()} server_sent={trailer}")
    return 0 if got == n and trailer == h.hexdigest() else 1


async def _echo_one(host, port, i, size, timeout):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        return f"{i}: connect: {type(e).__name__}: {e}"
    sent = hashlib.sha256()

    async def send():
        writer.write(b"ECHO\n")
        for chunk in gen(size, 1000 + i):
            sent.update(chunk)
            writer.write(bytes(chunk))
            await writer.drain()
        writer.write_eof()

    async def recv():
        h, got = hashlib.sha256(), 0
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return h.hexdigest(), got
            h.update(data)
            got += len(data)

    try:
        _, (rsha, got) = await asyncio.wait_for(asyncio.gather(send(), recv()), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        return f"{i}: transfer: {type(e).__name__}: {e}"
    finally:
        writer.close()
    if got != size or rsha != sent.hexdigest():
        return f"{i}: echoed {got} bytes, sha {'matches' if rsha == sent.hexdigest() else 'differs'}"
    return None


def parallel(host, port, n, size, timeout):
    """parallel HOST PORT N SIZE TIMEOUT: N connections at once, SIZE random bytes echoed on each."""
    global asyncio
    import asyncio
    _raise_nofile()
    allowed(host)
    n, size = int(n), int(size)

    async def run():
        return await asyncio.gather(*[_echo_one(host, int(port), i, size, float(timeout)) for i in range(n)])

    t0 = time.monotonic()
    res = asyncio.run(run())
    secs = time.monotonic() - t0
    bad = [r for r in res if r]
    print(f"ok={n - len(bad)} failed={len(bad)} bytes_each_way={n * size} secs={secs:.2f}")
    for b in bad[:5]:
        print("  failure:", b)
    return 0 if not bad else 1


def half(host, port, send_n, recv_n, timeout):
    """half HOST PORT SEND RECV TIMEOUT: sends SEND bytes, shuts down writing, then
    must receive all RECV bytes the server sends after it saw EOF."""
    send_n, recv_n = int(send_n), int(recv_n)
    with connect(host, port, float(timeout)) as c:
        c.sendall(f"HALF {recv_n} 3\n".encode())
        hs = hashlib.sha256()
        for chunk in gen(send_n, 4):
            hs.update(chunk)
            c.sendall(chunk)
        c.shutdown(socket.SHUT_WR)
        r = LineReader(c)
        hr = hashlib.sha256()
        got = r.read_exact_hash(recv_n, hr)
        trailer = r.line().split()
        tail = c.recv(10)
    want = [hr.hexdigest(), hs.hexdigest(), str(send_n)]
    print(f"received={got}/{recv_n} after EOF; server sent sha {'matches' if trailer[:1] == want[:1] else 'DIFFERS'}; "
          f"server got {trailer[2] if len(trailer) > 2 else '?'}/{send_n} bytes, sha {'matches' if trailer[1:2] == want[1:2] else 'DIFFERS'}; "
          f"then {'EOF' if tail == b'' else repr(tail)}")
    return 0 if got == recv_n and trailer == want and tail == b"" else 1


def reset_during(host, port, size, timeout):
    """reset-during HOST PORT SIZE TIMEOUT: connection B receives SIZE bytes; in its middle,
    client A1 (sending) and client A2 (with unread data) close with SO_LINGER 0 (RST).
    B must still complete with the right sha; then a new connection must work."""
    size, timeout = int(size), float(timeout)
    linger0 = struct.pack("ii", 1, 0)
    b = connect(host, port, timeout)
    b.sendall(f"SOURCE {size} 5\n".encode())
    rb = LineReader(b)
    hb = hashlib.sha256()
    first = rb.read_exact_hash(1 << 20, hb)  # B is now mid-transfer, the sender inside blocked

    a1 = connect(host, port, timeout)
    a1.sendall(f"SINK {1 << 32}\n".encode())
    sent = 0
    for chunk in gen(8 << 20, 6):
        a1.sendall(chunk)
        sent += len(chunk)
    a1.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
    a1.close()

    a2 = connect(host, port, timeout)
    a2.sendall(f"SOURCE {1 << 32} 7\n".encode())
    r2 = LineReader(a2)
    got2 = r2.read_exact_hash(4 << 20, hashlib.sha256())
    a2.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
    a2.close()

    rest = rb.read_exact_hash(size - first, hb)
    trailer = rb.line()
    tail = b.recv(10)
    b.close()
    ok_b = first + rest == size and trailer == hb.hexdigest() and tail == b""
    print(f"A1 reset after sending {sent} bytes; A2 reset after receiving {got2} bytes; "
          f"B received {first + rest}/{size} bytes, sha {'matches' if trailer == hb.hexdigest() else 'DIFFERS'}")
    after = [ping(host, port, timeout) for _ in range(3)]
    return 0 if ok_b and after == [0, 0, 0] else 1


def idle(host, port, seconds, timeout):
    """idle HOST PORT SECONDS TIMEOUT: PING, stay idle SECONDS, PING again on the same connection."""
    t0 = time.monotonic()
    with connect(host, port, float(timeout)) as c:
        r = LineReader(c)
        c.sendall(b"PING before\n")
        first = r.line()
        time.sleep(float(seconds))  # the idle period is what is tested
        try:
            c.sendall(b"PING after\n")
            second = r.line()
        except (OSError, EOFError) as e:
            second = "failed: " + type(e).__name__ + " " + str(e)
    print(f"before: {first}; after {time.monotonic() - t0:.0f} s idle: {second}")
    return 0 if (first, second) == ("PONG before", "PONG after") else 1


def hold_and_exit(host, port, n, status, timeout):
    """hold-and-exit HOST PORT N STATUS TIMEOUT: N held connections plus one streaming
    upload are open when the server is told to exit with STATUS. Each must then end
    (EOF or reset) within TIMEOUT s. Prints one outcome per connection."""
    n, timeout = int(n), float(timeout)
    held = []
    for i in range(n):
        c = connect(host, port, timeout)
        c.sendall(b"HOLD\n")
        if c.recv(5) != b"HELD\n":
            print(f"held {i}: no HELD answer")
            return 1
        held.append(c)
    up = connect(host, port, timeout)
    up.settimeout(timeout)
    up.sendall(f"SINK {1 << 40}\n".encode())
    started = threading.Event()
    upload = {}

    def stream():
        sent, t0 = 0, time.monotonic()
        try:
            for chunk in gen(1 << 40, 8):
                up.sendall(chunk)
                sent += len(chunk)
                if sent >= 4 << 20:
                    started.set()
                if time.monotonic() - t0 > 3 * timeout:
                    upload["res"] = "still sending"
                    return
            upload["res"] = "sent everything?"
        except OSError as e:
            upload["res"] = outcome_of(e)
        finally:
            started.set()
            upload["sent"] = sent

    t = threading.Thread(target=stream, daemon=True)
    t.start()
    started.wait(timeout)
    with connect(host, port, timeout) as x:
        x.sendall(f"EXIT {status}\n".encode())
        t_exit = time.monotonic()
        try:  # this connection ends when the server process is gone
            exit_res = "eof" if not x.recv(100) else "data"
        except OSError as e:
            exit_res = outcome_of(e)
    # A connection made while the command is gone and portwrap is shutting down.
    try:
        with connect(host, port, timeout) as late:
            late.settimeout(timeout)
            late.sendall(b"PING late\n")
            late_res = "eof" if not late.recv(100) else "data"
    except OSError as e:
        late_res = outcome_of(e)
    results = []
    for i, c in enumerate(held):
        c.settimeout(max(0.1, timeout - (time.monotonic() - t_exit)))
        try:
            data = c.recv(100)
            res = "eof" if not data else "data:" + repr(data)
        except OSError as e:
            res = outcome_of(e)
        results.append(res)
        c.close()
    t.join(timeout + 5)
    up_res = upload.get("res", "still sending")
    if up_res == "timeout":  # sendall blocked for TIMEOUT s: a hang
        up_res = "timeout"
    print(f"held connections: {' '.join(results)}")
    print(f"streaming upload: {up_res} after {upload.get('sent', 0)} bytes")
    print(f"the connection that asked for the exit: {exit_res}")
    print(f"connection made after the exit: {late_res}")
    print(f"all ended within {time.monotonic() - t_exit:.1f} s of the exit request")
    ok = all(r in ("eof", "reset") for r in results) and up_res == "reset" and late_res in ("eof", "reset", "refused") and exit_res in ("eof", "reset")
    return 0 if ok else 1


def hold(host, port, timeout):
    """hold HOST PORT TIMEOUT: one HOLD connection; prints "held", then how it ended
    (eof|reset|timeout) when the other side goes away."""
    c = connect(host, port, timeout)
    c.sendall(b"HOLD\n")
    if c.recv(5) != b"HELD\n":
        print("no HELD answer", flush=True)
        return 1
    print("held", flush=True)
    t0 = time.monotonic()
    try:
        data = c.recv(100)
        res = "eof" if not data else "data:" + repr(data)
    except OSError as e:
        res = outcome_of(e)
    print(f"ended: {res} after {time.monotonic() - t0:.1f} s", flush=True)
    return 0 if res in ("eof", "reset") else 1


def hold_many(host, port, n, timeout):
    """hold-many HOST PORT N TIMEOUT: opens N HOLD connections at once and waits 5 s for
    the answers: each is held, closed (eof), reset, refused or still pending (queued).
    Then it closes the held ones, and every pending one must then be answered (held,
    eof or reset) within TIMEOUT s: one that is not is a hang. Prints the counts."""
    import selectors
    n, timeout = int(n), float(timeout)
    conns, first = [], {}
    for i in range(n):
        try:
            c = connect(host, port, timeout)
            c.sendall(b"HOLD\n")
            conns.append(c)
        except OSError as e:
            first[i] = outcome_of(e)
            conns.append(None)

    def answers(socks, secs):
        """Waits up to secs for each of socks to answer; returns {index: outcome}."""
        got, sel = {}, selectors.DefaultSelector()
        for i in socks:
            sel.register(conns[i], selectors.EVENT_READ, i)
        end = time.monotonic() + secs
        while len(got) < len(socks) and time.monotonic() < end:
            for key, _ in sel.select(max(0.0, end - time.monotonic())):
                i = key.data
                try:
                    data = conns[i].recv(5)
                    got[i] = "held" if data == b"HELD\n" else "eof" if not data else "data"
                except OSError as e:
                    got[i] = outcome_of(e)
                sel.unregister(conns[i])
        sel.close()
        return got

    first.update(answers([i for i in range(n) if conns[i] is not None and i not in first], 5))
    pending = [i for i in range(n) if i not in first]
    for i in range(n):
        if first.get(i) == "held":
            conns[i].close()
    later = answers(pending, timeout)
    for c in conns:
        if c is not None:
            c.close()
    count = lambda d: " ".join(f"{k}={list(d.values()).count(k)}" for k in sorted(set(d.values()))) or "none"
    later_all = {i: later.get(i, "timeout") for i in pending}
    print(f"within 5 s: {count(first)} pending={len(pending)}; pending ones after the held were closed: {count(later_all)}")
    ok_set = {"held", "eof", "reset", "refused"}
    served = list(first.values()).count("held") + list(later_all.values()).count("held")
    return 0 if served > 0 and set(first.values()) <= ok_set and set(later_all.values()) <= ok_set else 1


def cycles(host, port, n, size, timeout):
    """cycles HOST PORT N SIZE TIMEOUT: N connections one after the other, SIZE bytes
    echoed on each and checked. Prints ok/failed counts and the slowest cycle."""
    n, size, timeout = int(n), int(size), float(timeout)
    payload = random.Random(9).randbytes(size)
    ok, failed, worst, t0 = 0, 0, 0.0, time.monotonic()
    for i in range(n):
        t = time.monotonic()
        try:
            with connect(host, port, timeout) as c:
                c.sendall(b"ECHO\n" + payload)
                c.shutdown(socket.SHUT_WR)
                got = bytearray()
                while len(got) <= size:
                    data = c.recv(CHUNK)
                    if not data:
                        break
                    got += data
            ok += got == payload
            failed += got != payload
        except OSError as e:
            failed += 1
            if failed <= 5:
                print(f"  cycle {i}: {outcome_of(e)}")
        worst = max(worst, time.monotonic() - t)
    print(f"ok={ok} failed={failed} secs={time.monotonic() - t0:.1f} slowest={worst:.1f}")
    return 0 if failed == 0 else 1


# ------------------------------------------------------------------ probes (lib.sh)

def accepts(host, port):
    """accepts HOST PORT: exit 0 if a TCP connection to HOST:PORT is accepted (2 s)."""
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return 1
    return 0


def connect_result(host, port, timeout="5"):
    """connect-result HOST PORT [TIMEOUT]: prints connected|refused|timeout|error:<text>."""
    try:
        socket.create_connection((host, int(port)), timeout=float(timeout)).close()
        print("connected")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print("error:" + (e.strerror or str(e)))
    return 0


def free_port():
    """free-port: a TCP port on 127.0.0.1 that nothing listens on (the kernel picks it)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return 0


def tagged_pids(tag):
    """tagged-pids TAG: live processes (not zombies) with PWTEST_TAG=TAG in their environment."""
    tag = b"PWTEST_TAG=" + tag.encode()
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{d}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if tag in env and state != b"Z":
            print(d)
    return 0


# ------------------------------------------------------------------ small servers and clients (lib.sh)

def listen(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(16)
    return s


def listen_hold(host, port, readyfile):
    """listen-hold HOST PORT READYFILE (pwhelper.py: hold): listen, accept nothing, 120 s."""
    s = listen(host, port)
    ready(readyfile)
    time.sleep(120)  # the held port is the point; the test ends it sooner
    s.close()
    return 0


def greeter(host, port, readyfile, connlog):
    """greeter HOST PORT READYFILE CONNLOG: greets each client, logs its address (120 s)."""
    s = listen(host, port)
    s.settimeout(120)
    ready(readyfile)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            c, addr = s.accept()
        except socket.timeout:
            break
        with open(connlog, "a") as log:
            log.write(f"{addr[0]}\n")
        c.sendall(b"hello-from-host\n")
        c.close()
    return 0


def greet_client(host, port, timeout):
    """greet-client HOST PORT TIMEOUT: prints got:<greeting> or the error."""
    try:
        c = socket.create_connection((host, int(port)), timeout=float(timeout))
        data = b""
        while not data.endswith(b"\n"):
            part = c.recv(100)
            if not part:
                break
            data += part
        print("got:" + data.decode(errors="replace").strip())
        return 0 if data == b"hello-from-host\n" else 1
    except socket.timeout:
        print("timeout")
    except ConnectionRefusedError:
        print("refused")
    except OSError as e:
        print("error:" + (e.strerror or str(e)))
    return 1


def recv(port, shafile, readyfile):
    """recv PORT SHAFILE READYFILE: one connection; hashes all it sends, replies and saves it."""
    s = listen("0.0.0.0", port)
    s.settimeout(90)
    ready(readyfile)
    c, _ = s.accept()
    c.settimeout(60)
    h, n = hashlib.sha256(), 0
    while True:
        data = c.recv(1 << 16)
        if not data:
            break
        h.update(data)
        n += len(data)
    c.sendall(f"{h.hexdigest()} {n}\n".encode())
    c.close()
    with open(shafile, "w") as f:
        f.write(f"{h.hexdigest()} {n}\n")
    return 0


def send(host, port, path, timeout):
    """send HOST PORT FILE TIMEOUT: sends FILE, half-closes, prints the reply."""
    c = socket.create_connection((host, int(port)), timeout=float(timeout))
    with open(path, "rb") as f:
        while True:
            data = f.read(1 << 16)
            if not data:
                break
            c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        data = c.recv(1024)
        if not data:
            break
        reply += data
    print(reply.decode(errors="replace").strip())
    return 0


def http(port, directory):
    """http PORT DIR: like 'python3 -m http.server', with a listen backlog of 128."""
    import functools, http.server

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 128
        daemon_threads = True

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=directory)
    with Server(("0.0.0.0", int(port)), handler) as server:
        server.serve_forever()
    return 0


def listen_result(host, port):
    """listen-result HOST PORT: 'listening' if a new listener with SO_REUSEADDR can take
    HOST:PORT (it is closed again at once), else error:<strerror>."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((allowed(host), int(port)))
            s.listen(1)
            print("listening")
        except OSError as e:
            print("error:" + (e.strerror or str(e)))
    return 0


def tcp_bound(pid):
    """tcp-bound PID: the local address of each TCP socket of process PID that is bound
    and not connected (listening, or bound only, as the handoff driver's host sockets
    are before a server takes them), one per line, as ss prints it (127.0.0.1:80,
    [::1]:80). ss cannot show bound sockets that do not listen (before Linux 6.9):
    this takes a copy of each with pidfd_getfd (root may) and asks it."""
    import ctypes, errno
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(int(pid))
    seen = set()
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(438, pidfd, int(name), 0)  # pidfd_getfd
            if fd < 0:
                raise OSError(ctypes.get_errno(), f"pidfd_getfd of fd {name}: {os.strerror(ctypes.get_errno())}")
            s = socket.socket(fileno=fd)
            try:
                if s.family not in (socket.AF_INET, socket.AF_INET6) or s.type != socket.SOCK_STREAM:
                    continue
                try:
                    s.getpeername()
                    continue  # a connection, not a listener
                except OSError as e:
                    if e.errno != errno.ENOTCONN:
                        raise
                host, port = s.getsockname()[:2]
                if port:
                    seen.add(f"[{host}]:{port}" if s.family == socket.AF_INET6 else f"{host}:{port}")
            finally:
                s.close()
    finally:
        os.close(pidfd)
    for where in sorted(seen):
        print(where)
    return 0


def sha256(path):
    """sha256 FILE: prints the hex digest and the size."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for data in iter(lambda: f.read(1 << 20), b""):
            h.update(data)
    print(h.hexdigest(), os.path.getsize(path))
    return 0


def udp_echo(port, host="0.0.0.0", lifetime="300"):
    """udp-echo PORT [HOST [LIFETIME_S]]: answers each datagram with "echo:" + it, for at
    most LIFETIME_S seconds (default 300)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    end = time.monotonic() + float(lifetime)
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            data, peer = s.recvfrom(65536)
        except socket.timeout:
            break
        s.sendto(b"echo:" + data, peer)
    return 0


def udp_ask(host, port, payload, tries="5"):
    """udp-ask HOST PORT PAYLOAD [TRIES]: sends PAYLOAD-N (N = 0, 1, ...) up to TRIES times,
    1 s apart, until an answer comes; prints it, with a trailing "-N" removed, or "no answer"."""
    allowed(host)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    for attempt in range(int(tries)):  # the echo server inside may still be starting
        s.sendto(f"{payload}-{attempt}".encode(), (host, int(port)))
        try:
            answer = s.recv(65536).decode(errors="replace")
        except socket.timeout:
            continue
        suffix = f"-{attempt}"
        print(answer[:-len(suffix)] if answer.endswith(suffix) else answer)
        return 0
    print("no answer")
    return 1


# ------------------------------------------------------------------ dispatch

# The robustness commands report an OSError as its outcome on stdout (exit 1); the
# others let it end them with a traceback, as lib.sh's embedded helper did.
ROBUSTNESS = {
    "serve": lambda a: serve(a),
    "ping": lambda a: ping(*a),
    "probe": lambda a: probe(*a),
    "burst": lambda a: burst(*a),
    "sink": lambda a: sink(*a),
    "source": lambda a: source(*a),
    "parallel": lambda a: parallel(*a),
    "half": lambda a: half(*a),
    "reset-during": lambda a: reset_during(*a),
    "idle": lambda a: idle(*a),
    "hold-and-exit": lambda a: hold_and_exit(*a),
    "hold": lambda a: hold(*a),
    "hold-many": lambda a: hold_many(*a),
    "cycles": lambda a: cycles(*a),
}
COMMANDS = {
    "accepts": lambda a: accepts(*a),
    "connect-result": lambda a: connect_result(*a),
    "free-port": lambda a: free_port(*a),
    "tagged-pids": lambda a: tagged_pids(*a),
    "listen-hold": lambda a: listen_hold(*a),
    "greeter": lambda a: greeter(*a),
    "greet-client": lambda a: greet_client(*a),
    "recv": lambda a: recv(*a),
    "send": lambda a: send(*a),
    "http": lambda a: http(*a),
    "sha256": lambda a: sha256(*a),
    "tcp-bound": lambda a: tcp_bound(*a),
    "listen-result": lambda a: listen_result(*a),
    "udp-echo": lambda a: udp_echo(*a),
    "udp-ask": lambda a: udp_ask(*a),
}
# Names the helper had before both became this module: $PW_HELPER hold is lib.sh's
# listening holder, $RB hold the robustness client.
NAME_ALIASES = {"pwhelper.py": {"hold": "listen-hold"}}


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    cmd = NAME_ALIASES.get(os.path.basename(argv[0]), {}).get(cmd, cmd)
    if cmd in COMMANDS:
        return COMMANDS[cmd](argv[2:])
    if cmd not in ROBUSTNESS:
        print(f"usage: {os.path.basename(argv[0])} " + "|".join([*COMMANDS, *ROBUSTNESS]) + " ARGS...",
              file=sys.stderr)
        return 2
    try:
        return ROBUSTNESS[cmd](argv[2:])
    except (OSError, EOFError, ValueError) as e:
        print(f"{cmd}: {outcome_of(e) if isinstance(e, OSError) else type(e).__name__ + ': ' + str(e)}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
