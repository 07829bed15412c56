#!/usr/bin/python3
"""fsync_ceiling.py - what the fsyncs of a message cost: an experiment.

Not a mode of the mail system and not part of `make bench`. It runs the
relay of bench_relay.py (smtp-source -> ours -> smtp-sink, 10 sessions,
5 KB) on our build four times over, each time with a small preload
library passed to every daemon through import_environment's LD_PRELOAD:

  shipped     no library: the file's fsync and incoming/'s, as always
  no-folders  fsync(2) of a folder returns 0 at once
  no-files    fsync(2) of a file returns 0 at once
  nothing     every fsync(2) and fdatasync(2) returns 0 at once

and prints the rate and the CPU per message of each (best of --runs
runs of --count messages). The difference between "shipped" and
"nothing" is what durability costs on this machine (PERFORMANCE.md
section 11).

Usage: fsync_ceiling.py --build DIR [--count N] [--runs N] [--size BYTES]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_relay as br  # noqa: E402

HEAD = """#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
static int is_dir(int fd)
{
    struct stat st;

    return (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode));
}
"""
VARIANTS = {
    "no-folders": "int fsync(int fd) { return (is_dir(fd) ? 0 : syscall(SYS_fsync, fd)); }\n",
    "no-files": "int fsync(int fd) { return (is_dir(fd) ? syscall(SYS_fsync, fd) : 0); }\n"
                "int fdatasync(int fd) { return (is_dir(fd) ? syscall(SYS_fdatasync, fd) : 0); }\n",
    "nothing": "int fsync(int fd) { (void) fd; return (0); }\n"
               "int fdatasync(int fd) { (void) fd; return (0); }\n",
}
ENV = "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C"


def build_libs(folder):
    libs = {}
    for name, body in VARIANTS.items():
        src = os.path.join(folder, name + ".c")
        lib = os.path.join(folder, name + ".so")
        with open(src, "w") as f:
            f.write(HEAD + body)
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", lib, src], check=True)
        os.chmod(lib, 0o755)
        libs[name] = lib
    return libs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", type=int, default=5 * 1024)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    folder = tempfile.mkdtemp(prefix="fsync-ceiling.")
    os.chmod(folder, 0o755)			# mail_owner's daemons load from here
    sink, sink_port = br.sink_start()
    try:
        libs = build_libs(folder)
        for name in ["shipped"] + list(VARIANTS):
            extra = {} if name == "shipped" else \
                {"import_environment": "%s LD_PRELOAD=%s" % (ENV, libs[name])}
            results = br.ours_runs(sink_port, build, 10, args.size, args.count,
                                   args.runs, extra)
            best = max(results, key=lambda r: r[0])
            print("fsync %-10s 10 x %d KB: rate %.0f/s (runs %s); CPU per message %.2f ms"
                  % (name, args.size // 1024, best[0],
                     " ".join("%.0f" % r[0] for r in results), best[3]), flush=True)
    finally:
        sink.terminate()
        sink.wait(5)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
