#!/usr/bin/env python3
"""ab_relay - two or more builds of ours through bench_relay's pipeline,
one after the other, in alternating sets: the A/B measure behind the
"before / after" rates in PERFORMANCE.md. Postfix is not run.

  bench/ab_relay.py [--sessions N] [--size B] [--count N] [--runs N]
                    [--sets N] BUILD [BUILD ...]

Each set runs one instance per build in turn, each in a process of its
own (smtp-source -> smtpd -> qmgr -> smtp -> smtp-sink on loopback, as
in bench_relay.py): a warm-up of 50 small messages, then --runs runs of
--count messages; it prints each run's rate, CPU per message and peak
PSS. Compare builds within a set: the machine's speed drifts between
sets.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def one(build, sink_port, args):
    """This build's runs, in this process (mta.py takes its build at import)."""
    os.environ["MTA_BUILD"] = build
    import bench_relay as br

    rs = br.ours_runs(sink_port, build, args.sessions, args.size, args.count, args.runs)
    print("set %d %s %dx%d: rate %s/s CPU %s ms/msg PSS %s MB" % (
        args.set, build, args.sessions, args.size,
        " ".join("%d" % r[0] for r in rs),
        " ".join("%.3f" % r[3] for r in rs),
        " ".join("%.1f" % (r[4] / 1024.0) for r in rs)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("builds", nargs="+")
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--size", type=int, default=5 * 1024)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sets", type=int, default=2)
    ap.add_argument("--sink-port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--set", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    builds = [os.path.abspath(b) for b in args.builds]
    if args.sink_port:
        one(builds[0], args.sink_port, args)
        return
    for b in builds:
        if not os.path.exists(os.path.join(b, "libexec", "smtpd")):
            raise SystemExit("%s: no libexec/smtpd (not a build folder)" % b)
    import bench_relay as br

    sink, sink_port = br.sink_start()
    try:
        for n in range(args.sets):
            for b in builds:
                subprocess.run([sys.executable, os.path.abspath(__file__), b,
                                "--sink-port", str(sink_port), "--set", str(n + 1),
                                "--sessions", str(args.sessions), "--size", str(args.size),
                                "--count", str(args.count), "--runs", str(args.runs)],
                               check=True)
    finally:
        sink.kill()
        sink.wait()


if __name__ == "__main__":
    main()
