#!/usr/bin/python3
"""run.py - the `make bench` driver.

Runs every bench/bench_*.py as `bench_X.py --build DIR`, one after the
other (timings need a quiet machine), and passes their output through.
Each benchmark prints its own result lines with ratios ours/Postfix.
Exit status: 1 if any benchmark failed to run, else 0.

Options: --build DIR (default build), --only PATTERN.
"""
import argparse
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    failed = []
    for script in sorted(glob.glob(os.path.join(HERE, "bench_*.py"))):
        name = os.path.basename(script)[:-3]
        if args.only and args.only not in name:
            continue
        print("== %s" % name, flush=True)
        p = subprocess.run([sys.executable, script, "--build", build])
        if p.returncode != 0:
            failed.append(name)
            print("== %s: FAILED (exit %d)" % (name, p.returncode), flush=True)
    if failed:
        print("benchmarks failed: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
