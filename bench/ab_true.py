#!/usr/bin/python3
"""A/B start-and-exit cost: `BIN [ARGS] -- true` for each binary, interleaved.

    runuser -u portwrap-test -- /usr/bin/python3 bench/ab_true.py [-n 30] [--args '-p 0:1'] [--command true] BIN [BIN...]

Runs round after round, each binary once per round in turn (so that a burst of load
on the shared machine hits every binary alike), and prints the median, quartiles, 90th percentile,
minimum and maximum wall time of each, from just before posix_spawn() until waitpid() returns.
`true` itself runs too, as the baseline. Not a test: it asserts nothing.
"""
import argparse
import os
import shlex
import statistics
import time


def run_once(argv):
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        t0 = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ,
                              file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
        _, status = os.waitpid(pid, 0)
        t1 = time.perf_counter()
    finally:
        os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{shlex.join(argv)}: exit status {os.waitstatus_to_exitcode(status)}")
    return (t1 - t0) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30, help="runs of each binary (default 30)")
    ap.add_argument("--args", default="-p 0:1", help="portwrap options before `--` (default '-p 0:1')")
    ap.add_argument("--command", default="true", help="the command to run (default true), baseline too")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    command = shlex.split(a.command)
    argvs = {a.command: command}
    for b in a.binaries:
        argvs[b] = [b, *shlex.split(a.args), "--", *command]
    for argv in argvs.values():  # warm the page cache, check that each one runs
        run_once(argv)
    times = {k: [] for k in argvs}
    for _ in range(a.n):
        for k, argv in argvs.items():
            times[k].append(run_once(argv))
    print(f"{a.n} runs each, interleaved; load average {os.getloadavg()[0]:.2f}; ms")
    print(f"{'binary':<40} {'median':>8} {'p25':>8} {'p75':>8} {'p90':>8} {'min':>8} {'max':>8}")
    for k, t in times.items():
        q = statistics.quantiles(t, n=20)
        print(f"{k:<40} {statistics.median(t):8.2f} {q[4]:8.2f} {q[14]:8.2f} {q[17]:8.2f} {min(t):8.2f} {max(t):8.2f}")


if __name__ == "__main__":
    main()
