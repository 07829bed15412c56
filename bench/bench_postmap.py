#!/usr/bin/python3
"""bench_postmap.py - postmap against Debian's Postfix postmap.

For a 200,000-entry table (hash: and btree:): the time to build it, and
the time to answer 10,000 `postmap -q - TABLE < keys` lookups (half of
them present), ours against /usr/sbin/postmap, each the best of a few
runs. Prints one line per measurement with the ratio ours/Postfix
(target: <= 1.0).

Usage: bench_postmap.py --build DIR [--entries N] [--queries N] [--runs N]
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

POSTFIX = "/usr/sbin/postmap"


def best_time(argv, runs, stdin_path=None):
    best = None
    for _ in range(runs):
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        start = time.perf_counter()
        p = subprocess.run(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        if stdin_path:
            stdin.close()
        if p.returncode not in (0, 1):
            raise SystemExit("%s failed: %s" % (" ".join(argv), p.stderr.decode()))
        best = elapsed if best is None else min(best, elapsed)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--entries", type=int, default=200000)
    ap.add_argument("--queries", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    ours = os.path.join(os.path.abspath(args.build), "sbin", "postmap")
    if not os.access(ours, os.X_OK):
        raise SystemExit("no %s: run make first" % ours)
    if not os.access(POSTFIX, os.X_OK):
        raise SystemExit("no %s: install the postfix package" % POSTFIX)

    tmp = tempfile.mkdtemp(prefix="bench_postmap.")
    try:
        open(os.path.join(tmp, "main.cf"), "w").close()
        rnd = random.Random(25)
        src = os.path.join(tmp, "table")
        keys = []
        with open(src, "w") as f:
            for i in range(args.entries):
                key = "user%d@Example%d.com" % (i, rnd.randrange(5000))
                keys.append(key)
                f.write("%s smtp:[10.%d.%d.%d]:25\n" % (
                    key, i % 250, (i // 250) % 250, rnd.randrange(250)))
        qpath = os.path.join(tmp, "keys")
        with open(qpath, "w") as f:
            for i in range(args.queries):
                if i % 2:
                    f.write(rnd.choice(keys) + "\n")
                else:
                    f.write("nobody%d@example.org\n" % i)

        results = []
        for dtype in ("hash", "btree"):
            table = "%s:%s" % (dtype, src)
            build = {}
            query = {}
            for who, prog in (("postfix", POSTFIX), ("ours", ours)):
                build[who] = best_time([prog, "-c", tmp, table], args.runs)
                query[who] = best_time([prog, "-c", tmp, "-q", "-", table],
                                       args.runs, qpath)
            for what, t in (("build %d entries" % args.entries, build),
                            ("%d queries (-q -)" % args.queries, query)):
                ratio = t["ours"] / t["postfix"]
                results.append(ratio)
                print("postmap %-6s %-22s ours %7.3fs  postfix %7.3fs  ratio %.2f%s" % (
                    dtype + ":", what, t["ours"], t["postfix"], ratio,
                    "" if ratio <= 1.0 else "  (target <= 1.0)"), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
