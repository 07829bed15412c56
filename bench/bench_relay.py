#!/usr/bin/python3
"""bench_relay.py - end-to-end relay rate against Debian's Postfix.

smtp-source -> MTA (smtpd, queue, qmgr, smtp) -> smtp-sink, all on
loopback, for ours and for a throw-away Debian Postfix 3.7 instance in a
temporary folder, in the same run. For 10 and 50 sessions and 5 KB and
100 KB messages it prints the delivery rate (messages per second from
the first connection to the last "status=sent" line), the peak memory
of all the instance's processes together (sum of RSS, sampled; and of PSS,
which counts a shared page once), the CPU time per message (user and
system time of all the instance's processes, those that exited too), the
ratios ours/Postfix, and how many messages were lost (target 0). Each
shape runs --runs times (default 3), ours and Postfix back to back, who
goes first alternating; a line per run, then the medians with issue
18's targets (rate >= 4x Postfix at 10 x 5 KB, >= 3x at the others, CPU
per message <= 0.25x, PSS <= 0.5x).

Usage: bench_relay.py --build DIR [--count N] [--big-count N] [--runs N]
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


def wait(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    raise SystemExit("timed out waiting for %s" % what)


def sink_start(backlog=256):
    """smtp-sink on a free loopback port, listening: (process, port). As
    root it runs only with -u (else it exits at once)."""
    port = free_port()
    user = ["-u", "postfix"] if os.geteuid() == 0 else []
    sink = subprocess.Popen(["smtp-sink"] + user + ["127.0.0.1:%d" % port, str(backlog)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(lambda: port_open(port) or sink.poll() is not None, 10, "smtp-sink")
    if sink.poll() is not None:
        raise SystemExit("smtp-sink exited at start (status %s)" % sink.returncode)
    return sink, port


def tree_pids(root_pid):
    """A process and all its descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    pids = []
    todo = [root_pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def tree_memory_kb(root_pid):
    """(sum of VmRSS, sum of Pss) of a process tree: PSS counts a shared
    page once over the processes that share it."""
    rss = pss = 0
    for pid in tree_pids(root_pid):
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root_pid):
    """User + system time of a process tree, with the children it reaped
    (master reaps the processes that exited: their time is in its
    cutime and cstime)."""
    ticks = 0
    for pid in tree_pids(root_pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += sum(int(x) for x in fields[11:15])
        except (OSError, IndexError, ValueError):
            pass
    return ticks / float(TICK)


class Sampler:
    def __init__(self, pid_fn):
        self.pid_fn = pid_fn
        self.peak = 0
        self.peak_pss = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            pid = self.pid_fn()
            if pid:
                rss, pss = tree_memory_kb(pid)
                self.peak = max(self.peak, rss)
                self.peak_pss = max(self.peak_pss, pss)
            time.sleep(0.1)

    def done(self):
        self.stop = True
        self.thread.join()
        return self.peak, self.peak_pss


class Postfix:
    name = "postfix"

    def __init__(self, sink_port):
        self.dir = tempfile.mkdtemp(prefix="bench_relay_pf.")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        for d in (self.etc, self.spool, self.data):
            os.makedirs(d)
        shutil.chown(self.data, "postfix")
        self.port = free_port()
        self.logfile = os.path.join(self.dir, "maillog")
        # mail_owner's programs log here too before postlogd runs: postsuper
        # warns of a cleanup's temporary file that a kill -9 left behind,
        # and "postfix start" fails its integrity check when it cannot.
        with open(self.logfile, "a"):
            pass
        shutil.chown(self.logfile, "postfix", "postfix")
        with open(os.path.join(self.etc, "transport"), "w") as f:
            f.write("example.com relay:[127.0.0.1]:%d\n" % sink_port)
        params = {
            "compatibility_level": "3.7", "queue_directory": self.spool,
            "data_directory": self.data, "daemon_directory": "/usr/lib/postfix/sbin",
            "command_directory": "/usr/sbin", "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix", "mail_owner": "postfix",
            "setgid_group": "postdrop", "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4", "myhostname": "bench.test", "mydestination": "",
            "mynetworks": "127.0.0.0/8", "relay_domains": "example.com",
            "alias_maps": "", "alias_database": "", "maillog_file": self.logfile,
            "maillog_file_prefixes": "/tmp", "smtpd_relay_restrictions":
            "permit_mynetworks, reject", "transport_maps":
            "hash:" + os.path.join(self.etc, "transport"),
            "smtp_tls_security_level": "none", "smtpd_tls_security_level": "none",
        }
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in params.items()))
        out = []
        with open("/etc/postfix/master.cf") as f:
            for line in f:
                fields = line.split()
                if line.startswith("#") or line[:1].isspace() or len(fields) < 8:
                    out.append(line)
                    continue
                fields[4] = "n"		# no chroot: nothing to copy into it
                if fields[0] == "smtp" and fields[1] == "inet":
                    fields[0] = "127.0.0.1:%d" % self.port
                out.append(" ".join(fields) + "\n")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.writelines(out)
        subprocess.run(["postmap", "-c", self.etc, os.path.join(self.etc, "transport")],
                       check=True)
        subprocess.run(["postfix", "-c", self.etc, "start"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait(lambda: port_open(self.port), 30, "Postfix's smtpd")

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        pid = self.master_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Ours:
    name = "ours"

    def __init__(self, sink_port, build, extra_main=None):
        os.environ["MTA_BUILD"] = build
        from mta import MTA
        self.mta = MTA(main_cf={"relay_domains": "example.com"}, start=False)
        self.mta.write("transport", "example.com relay:[127.0.0.1]:%d\n" % sink_port)
        self.mta.set_main(transport_maps="texthash:" + self.mta.path("transport"),
                          **(extra_main or {}))
        self.mta.start()
        self.port = self.mta.smtp_port
        self.logfile = self.mta.logfile

    def master_pid(self):
        return self.mta.proc.pid if self.mta.proc else None

    def stop(self):
        self.mta.cleanup()


class SentCounter:
    """Counts "status=sent" lines of a maillog as it grows: reads only
    what was appended since the last call, so that polling a log of many
    megabytes costs the machine little while it is being measured."""

    def __init__(self, logfile):
        self.logfile = logfile
        self.offset = 0
        self.count = 0
        self.tail = b""

    def __call__(self):
        try:
            with open(self.logfile, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return self.count
        self.offset += len(data)
        data = self.tail + data
        cut = data.rfind(b"\n") + 1
        self.tail = data[cut:]
        self.count += data[:cut].count(b"status=sent")
        return self.count


def run_one(inst, sessions, size, count):
    sent = SentCounter(inst.logfile)
    before = sent()
    sampler = Sampler(inst.master_pid)
    cpu_before = tree_cpu_seconds(inst.master_pid())
    start = time.time()
    src = subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(count), "-l", str(size),
                          "-f", "sender@bench.test", "-t", "user@example.com",
                          "127.0.0.1:%d" % inst.port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.time() + 120
    done = 0
    while time.time() < end:
        done = sent() - before
        if done >= count:
            break
        time.sleep(0.01)
    elapsed = time.time() - start
    cpu = tree_cpu_seconds(inst.master_pid()) - cpu_before
    peak, peak_pss = sampler.done()
    if src.returncode != 0:
        print("  %s: smtp-source: %s" % (inst.name, src.stderr.decode().strip()[:200]))
    rate = count / elapsed if done >= count else done / elapsed
    return rate, peak, count - done, cpu * 1000.0 / max(done, 1), peak_pss


def ours_runs(sink_port, build, sessions, size, count, runs, extra_main=None):
    """A fresh instance of ours, warmed up, then runs of run_one(): the
    list of their results (the A/B scripts ab_relay.py and
    fsync_ceiling.py)."""
    inst = Ours(sink_port, build, extra_main)
    try:
        run_one(inst, 5, 1024, 50)
        results = []
        for _ in range(runs):
            results.append(run_one(inst, sessions, size, count))
            time.sleep(1)
        return results
    finally:
        inst.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--big-count", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for prog in ("smtp-source", "smtp-sink", "postfix"):
        if shutil.which(prog) is None:
            raise SystemExit("no %s: install the postfix package" % prog)
    if not os.access(os.path.join(build, "libexec", "master"), os.X_OK):
        raise SystemExit("no %s/libexec/master: run make first" % build)

    sink, sink_port = sink_start()
    instances = []
    lost_total = 0
    try:
        instances = [Postfix(sink_port), Ours(sink_port, build)]
        for inst in instances:
            # Warm up: processes started, tables opened, caches filled.
            run_one(inst, 5, 1024, 50)
        for sessions in (10, 50):
            for size, count in ((5 * 1024, args.count), (100 * 1024, args.big_count)):
                runs = []
                for n in range(args.runs):
                    res = {}
                    # Alternate who goes first, so that neither always
                    # runs on a disk the other has just filled.
                    for inst in (instances if n % 2 == 0 else instances[::-1]):
                        res[inst.name] = run_one(inst, sessions, size, count)
                        time.sleep(1)
                    runs.append(res)
                    lost_total += res["ours"][2]
                    (r_pf, m_pf, l_pf, c_pf, p_pf) = res["postfix"]
                    (r_us, m_us, l_us, c_us, p_us) = res["ours"]
                    print("  run %d: %2d x %3d KB: rate ours %.0f/s postfix %.0f/s = %.2f; "
                          "CPU/msg %.2f / %.2f ms = %.2f; PSS %.1f / %.1f MB = %.2f; lost %d / %d"
                          % (n + 1, sessions, size // 1024, r_us, r_pf, r_us / r_pf,
                             c_us, c_pf, c_us / c_pf, p_us / 1024.0, p_pf / 1024.0,
                             p_us / p_pf, l_us, l_pf), flush=True)

                def med(i, who):
                    return statistics.median(r[who][i] for r in runs)

                def med_ratio(i):
                    return statistics.median(r["ours"][i] / r["postfix"][i] for r in runs)
                rate_target = 4.0 if (sessions, size) == (10, 5 * 1024) else 3.0
                print("relay %2d sessions %3d KB x%d, median of %d runs: rate ours %.0f/s "
                      "postfix %.0f/s ratio %.2f (issue 18: >= %.1f); peak memory ours %.1f MB "
                      "postfix %.1f MB ratio %.2f; lost ours %d postfix %d"
                      % (sessions, size // 1024, count, len(runs), med(0, "ours"),
                         med(0, "postfix"), med_ratio(0), rate_target, med(1, "ours") / 1024.0,
                         med(1, "postfix") / 1024.0, med_ratio(1),
                         sum(r["ours"][2] for r in runs), sum(r["postfix"][2] for r in runs)),
                      flush=True)
                print("      CPU per message ours %.2f ms postfix %.2f ms ratio %.2f "
                      "(issue 18: <= 0.25); peak PSS ours %.1f MB postfix %.1f MB ratio %.2f "
                      "(issue 18: <= 0.5)"
                      % (med(3, "ours"), med(3, "postfix"), med_ratio(3), med(4, "ours") / 1024.0,
                         med(4, "postfix") / 1024.0, med_ratio(4)), flush=True)
    finally:
        for inst in instances:
            inst.stop()
        sink.terminate()
        sink.wait(5)
    return 1 if lost_total else 0


if __name__ == "__main__":
    sys.exit(main())
