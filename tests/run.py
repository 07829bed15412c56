#!/usr/bin/python3
"""run.py - run every test and end with "N passed, N failed".

Unit tests: each build/tests/unit/test_* binary prints PASS:/FAIL: lines.
Integration tests: each tests/integration/test_*.py module runs in its own
process (unittest), several modules at a time; each test case is one count.
Fuzz replay: each libFuzzer target replays its corpus, then runs briefly.

Options: --build DIR (default build), --only PATTERN (substring of a name),
--jobs N (integration modules at once), --fuzz-seconds N.
"""
import argparse
import concurrent.futures
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_unit(build, only):
    results = []
    for binary in sorted(glob.glob(os.path.join(build, "tests/unit/test_*"))):
        if only and only not in binary:
            continue
        if binary.endswith(".d") or not os.access(binary, os.X_OK):
            continue
        p = subprocess.run([binary], cwd=TOP, capture_output=True, text=True,
                           timeout=300)
        seen = 0
        for line in p.stdout.splitlines():
            if line.startswith("PASS: "):
                results.append((True, line[6:], ""))
                seen += 1
            elif line.startswith("FAIL: "):
                results.append((False, line[6:], ""))
                seen += 1
            elif line.startswith("      ") and results:
                print(line)
        if p.returncode not in (0, 1) or (p.returncode == 1 and not any(
                not ok for ok, _, _ in results)):
            results.append((False, os.path.basename(binary),
                            "exit %d\n%s" % (p.returncode, p.stderr[-4000:])))
        elif seen == 0:
            results.append((False, os.path.basename(binary), "ran no test"))
    return results


MODULE_TIMEOUT = 900


def kill_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def run_module(path, build):
    """Run one module in its own session (process group), so that whatever
    it leaves behind - master -d and its children, peers such as nsd or
    aiosmtpd helpers - is found by that group and ended when it is done or
    when it runs out of time."""
    env = dict(os.environ)
    env["MTA_BUILD"] = os.path.abspath(os.path.join(TOP, build))
    env["PYTHONPATH"] = os.path.join(TOP, "tests", "integration")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    start = time.time()
    # Output goes to files, not pipes: a process left behind holding a pipe
    # would keep the read waiting until it ends.
    with tempfile.TemporaryFile("w+") as fout, tempfile.TemporaryFile("w+") as ferr:
        p = subprocess.Popen([sys.executable, os.path.join(TOP, "tests/integration/runmod.py"),
                              path], cwd=TOP, stdout=fout, stderr=ferr, text=True, env=env,
                             start_new_session=True)
        note = ""
        try:
            code = p.wait(timeout=MODULE_TIMEOUT)
        except subprocess.TimeoutExpired:
            kill_group(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_group(p.pid, signal.SIGKILL)
                p.wait()
            code, note = -1, "\ntimed out after %ds" % MODULE_TIMEOUT
        if kill_group(p.pid, 0):
            # Processes of this module outlived it: end them so they cannot
            # disturb the modules that follow, and say so.
            kill_group(p.pid, signal.SIGKILL)
            note += "\nrun.py: killed processes left behind by %s" % os.path.basename(path)
            print("run.py: warning: %s left processes behind (killed)" % os.path.basename(path),
                  flush=True)
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read(), ferr.read() + note
    results = []
    for line in out.splitlines():
        m = re.match(r"^(PASS|FAIL): (.*)$", line)
        if m:
            results.append((m.group(1) == "PASS", m.group(2), ""))
    if code != 0 and all(ok for ok, _, _ in results):
        results.append((False, os.path.basename(path), "exit %s" % code))
    return path, results, out, err, time.time() - start


def module_order(mods, times_file):
    """Longest first (durations of the last run, else file size), so that a
    slow module does not start last and make the whole run wait for it."""
    try:
        with open(times_file) as f:
            times = json.load(f)
    except (OSError, ValueError):
        times = {}
    return sorted(mods, key=lambda m: (-times.get(os.path.basename(m), -1),
                                       -os.path.getsize(m), m))


def run_integration(build, only, jobs):
    mods = sorted(glob.glob(os.path.join(TOP, "tests/integration/test_*.py")))
    if only:
        mods = [m for m in mods if only in m]
    times_file = os.path.join(TOP, build, ".integration-times.json")
    mods = module_order(mods, times_file)
    results, times = [], {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futures = [ex.submit(run_module, m, build) for m in mods]
        for fut in concurrent.futures.as_completed(futures):
            path, res, out, err, secs = fut.result()
            name = os.path.basename(path)
            times[name] = round(secs, 1)
            failed = [r for r in res if not r[0]]
            print("%-40s %3d passed, %d failed  (%.1fs)" % (
                name, len(res) - len(failed), len(failed), secs), flush=True)
            if failed:
                print(out[-6000:])
                print(err[-6000:])
            results.extend(res)
    try:
        with open(times_file) as f:
            old = json.load(f)
    except (OSError, ValueError):
        old = {}
    old.update(times)
    try:
        with open(times_file, "w") as f:
            json.dump(old, f, indent=1, sort_keys=True)
    except OSError:
        pass
    return results


def run_fuzz(build, only, seconds):
    results = []
    for binary in sorted(glob.glob(os.path.join(build, "fuzz/fuzz_*"))):
        if not os.access(binary, os.X_OK) or binary.endswith(".d"):
            continue
        name = os.path.basename(binary)
        if only and only not in name:
            continue
        corpus = os.path.join(TOP, "tests/fuzz/corpus", name)
        os.makedirs(corpus, exist_ok=True)
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
        replay = subprocess.run([binary, "-runs=0", corpus], cwd=TOP,
                                capture_output=True, text=True, env=env, timeout=600)
        results.append((replay.returncode == 0, "fuzz replay " + name,
                        replay.stderr[-3000:]))
        work = os.path.join(TOP, build, "fuzz", "work-" + name)
        os.makedirs(work, exist_ok=True)
        brief = subprocess.run([binary, "-max_total_time=%d" % seconds,
                                "-artifact_prefix=" + os.path.join(TOP, build, "fuzz") + "/",
                                work, corpus], cwd=TOP, capture_output=True,
                               text=True, env=env, timeout=600)
        results.append((brief.returncode == 0, "fuzz run " + name,
                        brief.stderr[-3000:]))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="")
    ap.add_argument("--jobs", type=int, default=3)
    ap.add_argument("--fuzz-seconds", type=int, default=3)
    args = ap.parse_args()
    build = os.path.join(TOP, args.build)

    results = []
    unit = run_unit(build, args.only)
    print("unit tests: %d passed, %d failed" % (
        sum(1 for r in unit if r[0]), sum(1 for r in unit if not r[0])), flush=True)
    results += unit
    results += run_integration(args.build, args.only, args.jobs)
    fuzz = run_fuzz(build, args.only, args.fuzz_seconds)
    print("fuzz targets: %d passed, %d failed" % (
        sum(1 for r in fuzz if r[0]), sum(1 for r in fuzz if not r[0])), flush=True)
    results += fuzz

    failed = [r for r in results if not r[0]]
    for ok, name, why in failed:
        print("FAILED: %s %s" % (name, why))
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
