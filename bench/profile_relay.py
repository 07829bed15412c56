#!/usr/bin/python3
"""profile_relay.py - where the relay spends its CPU, its system calls and its time.

The pipeline of bench_relay.py (smtp-source -> smtpd -> queue -> qmgr ->
relay (smtp) -> smtp-sink, on loopback), run on our mail system under one
observer at a time; every result is per message and per process type
(smtpd, qmgr, smtp, master, ...):

  callgrind  smtpd, qmgr and smtp run under valgrind --tool=callgrind
             (wrappers in a daemon_directory of symlinks): instructions
             per message (deterministic; this VM has no hardware counters).
  strace     master and all its children under strace -f: system calls
             per message by name, fsyncs per message.
  timeline   one message (--size, default 100 KB) under strace -ttt -f:
             the steps from the client's connection to the next hop's
             250 and the removal of the queue file, with their times.
  perf       perf record -e cpu-clock -g (software clock) on the whole
             machine while COUNT messages go through: one folded-stack
             flame graph per process type, as SVG (flamegraph_svg.py).

Results go to OUT (default bench/out/): a text report per mode and the
SVGs. Build with frame pointers for the perf mode:
  make BUILD=build-prof OPT="-O2 -g -fno-omit-frame-pointer"

Usage: profile_relay.py --build DIR --mode MODE [--count N] [--size BYTES]
       [--sessions N] [--out DIR]
"""
import argparse
import collections
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))

import bench_relay  # noqa: E402

WRAPPED = ("smtpd", "qmgr", "smtp")


def daemon_dir_with_wrappers(build, outdir, tool_args):
    """A daemon_directory of symlinks to build/libexec, where the programs
    in WRAPPED are scripts that run the real one under valgrind."""
    d = tempfile.mkdtemp(prefix="profile-libexec.")
    os.chmod(d, 0o755)
    libexec = os.path.join(build, "libexec")
    for name in os.listdir(libexec):
        real = os.path.join(libexec, name)
        path = os.path.join(d, name)
        if name in WRAPPED:
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexec runuser -u postfix -- valgrind %s --callgrind-out-file=%s/callgrind.%s.%%p "
                        "%s \"$@\"\n" % (tool_args, outdir, name, real))
            os.chmod(path, 0o755)
        else:
            os.symlink(real, path)
    return d


def start_ours(build, sink_port, extra_main=None, wrap_master=None):
    os.environ["MTA_BUILD"] = build
    from mta import MTA
    main = {"relay_domains": "example.com"}
    main.update(extra_main or {})
    mta = MTA(main_cf=main, start=False)
    mta.write("transport", "example.com relay:[127.0.0.1]:%d\n" % sink_port)
    mta.set_main(transport_maps="texthash:" + mta.path("transport"))
    if wrap_master is None:
        mta.start()
    else:
        import mta as mta_mod
        mta.proc = subprocess.Popen(
            wrap_master + [os.path.join(mta_mod.LIBEXEC, "master"), "-c", mta.config_dir,
                           "-d"],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(mta.dir, "master.stderr"), "ab"), env=mta.env())
        bench_relay.wait(lambda: bench_relay.port_open(mta.smtp_port), 120, "smtpd")
    return mta


def sent(mta):
    return len(re.findall(r"status=sent", mta.log()))


def removed(mta):
    return len(re.findall(r": removed", mta.log()))


def send(mta, sessions, count, size, timeout=600):
    before = removed(mta)
    subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(count), "-l", str(size),
                    "-f", "sender@bench.test", "-t", "user@example.com",
                    "127.0.0.1:%d" % mta.smtp_port],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bench_relay.wait(lambda: removed(mta) - before >= count, timeout, "delivery")


def stop_gently(mta, timeout=120):
    """SIGTERM to master; wait for every process of the instance to end,
    so that tools running under them write their output."""
    pids = [p for p in bench_relay_tree(mta.proc.pid)]
    mta.proc.send_signal(signal.SIGTERM)
    end = time.time() + timeout
    while time.time() < end and any(os.path.exists("/proc/%d" % p) and not zombie(p)
                                    for p in pids):
        time.sleep(0.2)
    mta.cleanup()


def zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def bench_relay_tree(root):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


# --- callgrind ---------------------------------------------------------------

def mode_callgrind(args, out):
    vg_out = tempfile.mkdtemp(prefix="profile-cg.")
    os.chmod(vg_out, 0o777)
    libexec = daemon_dir_with_wrappers(args.build, vg_out, "--tool=callgrind")
    sink, port = bench_relay.sink_start()
    try:
        mta = start_ours(args.build, port, {"daemon_directory": libexec,
                                            "smtpd_timeout": "600s"})
        try:
            send(mta, args.sessions, args.count, args.size, timeout=1800)
        finally:
            stop_gently(mta)
    finally:
        sink.terminate()
        sink.wait(5)
        shutil.rmtree(libexec, ignore_errors=True)
    totals = collections.Counter()
    procs = collections.Counter()
    for path in glob.glob(os.path.join(vg_out, "callgrind.*")):
        name = os.path.basename(path).split(".")[1]
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"(summary|totals): (\d+)", line)
                if m:
                    totals[name] += int(m.group(2))
                    procs[name] += 1
                    break
        # keep the biggest file of each program for a closer look
    keep = os.path.join(out, "callgrind")
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(vg_out, keep)
    shutil.rmtree(vg_out, ignore_errors=True)
    lines = ["callgrind: %d messages of %d bytes over %d sessions; instructions "
             "(Ir) per message, process start-up included" % (args.count, args.size,
                                                            args.sessions)]
    for name in sorted(totals, key=lambda n: -totals[n]):
        lines.append("  %-6s %12d Ir/msg  (%d processes, %d Ir in all)"
                     % (name, totals[name] // args.count, procs[name], totals[name]))
    return lines


# --- strace ------------------------------------------------------------------

def program_of(lines):
    for line in lines:
        m = re.search(r'execve\("[^"]*/([^/"]+)"', line)
        if m:
            return m.group(1)
    return None


def mode_strace(args, out):
    st_out = tempfile.mkdtemp(prefix="profile-st.")
    names = {}
    sink, port = bench_relay.sink_start()
    try:
        mta = start_ours(args.build, port, wrap_master=["strace", "-ff", "-o",
                                                        os.path.join(st_out, "t")])
        try:
            send(mta, 5, 50, args.size)		# warm: processes up, tables open
            time.sleep(3)
            for path in glob.glob(os.path.join(st_out, "t.*")):
                with open(path, errors="replace") as f:
                    names[path] = program_of(f.readlines())
                os.truncate(path, 0)			# count only from here on
            send(mta, args.sessions, args.count, args.size)
            time.sleep(3)			# the results after the last "removed"
        finally:
            stop_gently(mta)
    finally:
        sink.terminate()
        sink.wait(5)
    by_prog = collections.defaultdict(collections.Counter)
    pids_of = collections.Counter()
    for path in glob.glob(os.path.join(st_out, "t.*")):
        with open(path, errors="replace") as f:
            lines = f.readlines()
        prog = program_of(lines) or names.get(path) or "master"
        pids_of[prog] += 1
        for line in lines:
            m = re.match(r"(\w+)\(", line)
            if m:
                by_prog[prog][m.group(1)] += 1
    if args.keep:
        print("raw traces kept in %s" % st_out)
    else:
        shutil.rmtree(st_out, ignore_errors=True)
    n = float(args.count)
    lines = ["strace -f: %d messages of %d bytes over %d sessions; system calls per "
             "message (after a warm-up of 50)" % (args.count, args.size, args.sessions)]
    for prog in sorted(by_prog, key=lambda p: -sum(by_prog[p].values())):
        c = by_prog[prog]
        total = sum(c.values())
        top = ", ".join("%s %.1f" % (k, v / n) for k, v in c.most_common(14))
        lines.append("  %-8s %6.1f/msg: %s" % (prog, total / n, top))
    fs = sum(by_prog[p][s] for p in by_prog for s in ("fsync", "fdatasync"))
    lines.append("  fsync+fdatasync per message, all processes: %.2f" % (fs / n))
    return lines


# --- timeline ------------------------------------------------------------------

TIMELINE_CALLS = re.compile(r"^(accept4|connect|openat|fsync|fdatasync|rename|renameat2?|"
                            r"unlink|link|linkat|fchmod|write|sendfile|splice|read|close|exit_group)\(")


def mode_timeline(args, out):
    st_out = tempfile.mkdtemp(prefix="profile-tl.")
    names = {}
    sink, port = bench_relay.sink_start()
    try:
        mta = start_ours(args.build, port, wrap_master=["strace", "-ff", "-ttt", "-T", "-o",
                                                        os.path.join(st_out, "t")])
        try:
            send(mta, 1, 2, args.size)
            time.sleep(3)
            for path in glob.glob(os.path.join(st_out, "t.*")):
                with open(path, errors="replace") as f:
                    names[path] = program_of(f.readlines())
                os.truncate(path, 0)
            send(mta, 1, 1, args.size)
            time.sleep(3)
        finally:
            stop_gently(mta)
    finally:
        sink.terminate()
        sink.wait(5)
    events = []
    for path in glob.glob(os.path.join(st_out, "t.*")):
        with open(path, errors="replace") as f:
            lines = f.readlines()
        prog = program_of(lines) or names.get(path) or "master"
        for line in lines:
            m = re.match(r"(\d+\.\d+) (.*?)(?: <([\d.]+)>)?$", line.rstrip("\n"))
            if not m:
                continue
            call = m.group(2)
            if not TIMELINE_CALLS.match(call) or prog in ("master",):
                continue
            events.append((float(m.group(1)), prog, call[:110], float(m.group(3) or 0)))
    shutil.rmtree(st_out, ignore_errors=True)
    events.sort()
    if not events:
        return ["timeline: no events"]
    t0 = events[0][0]
    lines = ["timeline: one message of %d bytes, strace -ttt -T -f (times in ms from the "
             "first event; strace slows every call, so read the shape, not the sum)" % args.size]
    for t, prog, call, dur in events:
        lines.append("  %9.3f %7.3f  %-6s %s" % ((t - t0) * 1000, dur * 1000, prog, call))
    return lines


# --- perf ----------------------------------------------------------------------

def mode_perf(args, out):
    import flamegraph_svg
    sink, port = bench_relay.sink_start()
    data = os.path.join(tempfile.mkdtemp(prefix="profile-perf."), "perf.data")
    try:
        mta = start_ours(args.build, port)
        try:
            send(mta, 5, 50, args.size)		# warm up
            rec = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "997", "-g",
                                    "-a", "-o", data], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            time.sleep(1)
            start = time.time()
            send(mta, args.sessions, args.count, args.size)
            elapsed = time.time() - start
            rec.send_signal(signal.SIGINT)
            rec.wait(60)
        finally:
            stop_gently(mta)
    finally:
        sink.terminate()
        sink.wait(5)
    script = subprocess.run(["perf", "script", "-i", data], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, errors="replace").stdout
    shutil.rmtree(os.path.dirname(data), ignore_errors=True)
    per_comm = flamegraph_svg.fold_perf_script(script.splitlines())
    lines = ["perf record -e cpu-clock -g -a: %d messages of %d bytes over %d sessions "
             "in %.1f s; CPU samples (1 ms) per process type, and per message"
             % (args.count, args.size, args.sessions, elapsed)]
    interesting = ("smtpd", "qmgr", "smtp", "master", "verify", "smtp-source", "smtp-sink")
    for comm in sorted(per_comm, key=lambda c: -sum(per_comm[c].values())):
        n = sum(per_comm[comm].values())
        if comm not in interesting:
            continue
        lines.append("  %-12s %6d samples  %.3f ms/msg" % (comm, n, n / float(args.count)))
        if comm in ("smtpd", "qmgr", "smtp"):
            name = "flame-%s-%d.svg" % (comm, args.size)
            with open(os.path.join(out, name), "w") as f:
                f.write(flamegraph_svg.svg(per_comm[comm], "%s, %d messages of %d bytes"
                                           % (comm, args.count, args.size)))
            lines.append("    flame graph: %s" % name)
            with open(os.path.join(out, "folded-%s-%d.txt" % (comm, args.size)), "w") as f:
                for stack, count in sorted(per_comm[comm].items()):
                    f.write("%s %d\n" % (stack, count))
    others = sorted(((sum(v.values()), c) for c, v in per_comm.items() if c not in interesting), reverse=True)
    other = sum(n for n, c in others)
    lines.append("  other, the largest: " + ", ".join("%s %d" % (c, n) for n, c in others[:8]))
    lines.append("  %-12s %6d samples (everything else on the machine)" % ("other", other))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--mode", required=True, choices=["callgrind", "strace", "perf", "timeline"])
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--size", type=int, default=5 * 1024)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--keep", action="store_true",
                    help="strace: keep the raw traces (one file per process) and say where")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    os.makedirs(args.out, exist_ok=True)
    fn = {"callgrind": mode_callgrind, "strace": mode_strace, "perf": mode_perf,
          "timeline": mode_timeline}[args.mode]
    lines = fn(args, args.out)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(args.out, "%s-%d.txt" % (args.mode, args.size)), "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
