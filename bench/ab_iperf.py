#!/usr/bin/python3
"""iperf3 through portwrap against the same server on bare loopback, interleaved.

    runuser -u portwrap-test -- /usr/bin/python3 bench/ab_iperf.py [-n 7] [-t 3] [--pin 1:0] \\
        [--drivers handoff] PORTWRAP

Starts one iperf3 server on 127.0.0.1 (the baseline) and one behind
`PORTWRAP --port-driver=D -p HOST_PORT -P 8080` for each driver D (bound to 127.0.0.1
inside, as bench.py does), all kept for the whole run. Then, round after round, each
test (host→ns and -R, 1 and 4 streams) runs once against every server, in a new random
order each time, so that a burst of load on the shared machine hits all alike. Prints
per test and contender the median, minimum and maximum Gbit/s of the receiver, and the
median of the per-round ratios to the baseline. `--pin S:C` runs the servers (and
portwrap) on CPU S and the client on CPU C. Only 127.0.0.1 carries traffic; every
server has a lifetime limit. Not a test: it asserts nothing.
"""
import argparse
import json
import random
import signal
import socket
import statistics
import subprocess
import time

TESTS = {"host→ns, 1 stream": ["-P", "1"], "host→ns, 4 streams": ["-P", "4"],
         "ns→host, 1 stream": ["-P", "1", "-R"], "ns→host, 4 streams": ["-P", "4", "-R"]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, deadline):
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.01)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after 10 s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=7, help="rounds (default 7)")
    ap.add_argument("-t", type=int, default=3, help="seconds per iperf3 run (default 3)")
    ap.add_argument("--pin", help="S:C, the CPUs of the servers and of the client (taskset)")
    ap.add_argument("--drivers", default="handoff", help="comma-separated port drivers (default handoff)")
    ap.add_argument("portwrap")
    a = ap.parse_args()
    server_cpu, client_cpu = a.pin.split(":") if a.pin else (None, None)

    def pinned(cpu, argv):
        return (["taskset", "-c", cpu] if cpu else []) + argv

    lifetime = str(a.n * len(TESTS) * (len(a.drivers.split(",")) + 1) * (a.t + 3) + 60)

    def server(port):
        return ["timeout", "-k", "5", lifetime, "iperf3", "-s", "-p", str(port), "-B", "127.0.0.1"]

    ports, servers = {}, []
    try:
        ports["baseline"] = free_port()
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        servers.append(subprocess.Popen(pinned(server_cpu, server(ports["baseline"])), **quiet))
        for driver in a.drivers.split(","):
            port = free_port()
            ports[driver] = port
            servers.append(subprocess.Popen(pinned(server_cpu, [a.portwrap, f"--port-driver={driver}", "-p", str(port),
                                                                "-P", "8080", "--"] + server(8080)), **quiet))
        for port in ports.values():
            wait_listening(port, time.monotonic() + 10)
        rates = {name: {test: [] for test in TESTS} for name in ports}
        for _ in range(a.n):
            for test, options in TESTS.items():
                order = list(ports)
                random.shuffle(order)
                for name in order:
                    argv = pinned(client_cpu, ["iperf3", "-c", "127.0.0.1", "-p", str(ports[name]), "-t", str(a.t),
                                               "-J", "--connect-timeout", "5000"] + options)
                    out = json.loads(subprocess.run(argv, capture_output=True, text=True, timeout=a.t + 15).stdout)
                    if "error" in out:
                        raise SystemExit(f"iperf3 against {name}: {out['error']}")
                    rates[name][test].append(out["end"]["sum_received"]["bits_per_second"] / 1e9)
    finally:
        for p in servers:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in servers:
            p.wait()
    print("| test | contender | median Gbit/s | min | max | median of per-round ratios to the baseline |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for test in TESTS:
        base = rates["baseline"][test]
        for name in ports:
            r = rates[name][test]
            ratio = statistics.median(x / b for x, b in zip(r, base))
            print(f"| {test} | {name} | {statistics.median(r):.1f} | {min(r):.1f} | {max(r):.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
