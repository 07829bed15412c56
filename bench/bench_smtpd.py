#!/usr/bin/python3
"""bench_smtpd.py - accept rate and memory of our smtpd vs Debian's Postfix.

Both servers run in the same run on this machine with a temporary queue:
ours (master + smtpd, which writes and fsyncs the queue file itself) and
Debian's Postfix 3.7 (master + smtpd + cleanup + trivial-rewrite, cleanup
fsyncs too). Neither runs a queue manager, so nothing is delivered and
only acceptance is measured; Postfix gets in_flow_delay = 0 so that its
flow control (fed by the absent qmgr) does not stall it.

smtp-source sends MESSAGES messages of 5 KB, one per connection, over 10
and then 50 parallel sessions. Printed per run: messages per second of
each, the ratio ours/Postfix (target >= 1.3), and the peak memory of
each instance (sum of PSS over all of its processes, sampled every 20 ms;
target: ours <= Postfix).

Usage: bench_smtpd.py [--build DIR] [--messages N]
"""
import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
POSTFIX_DAEMONS = "/usr/lib/postfix/sbin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


def process_tree(root):
    """root and all its descendants, from /proc."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    def __init__(self, root_pid):
        super().__init__(daemon=True)
        self.root = root_pid
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            total = sum(pss_kb(p) for p in process_tree(self.root))
            self.peak = max(self.peak, total)
            time.sleep(0.02)


def smtp_source(port, sessions, messages):
    start = time.time()
    subprocess.run(["smtp-source", "-s", str(sessions), "-l", "5120", "-m", str(messages),
                    "-f", "sender@b.test", "-t", "rcpt@example.com",
                    "127.0.0.1:%d" % port], check=True, timeout=600,
                   stdout=subprocess.DEVNULL)
    return messages / (time.time() - start)


def count_incoming(queue_dir):
    return len(os.listdir(os.path.join(queue_dir, "incoming")))


class Postfix:
    """A throw-away Debian Postfix: smtpd, cleanup, trivial-rewrite."""

    def __init__(self, extra_main_cf=""):
        self.dir = tempfile.mkdtemp(prefix="bench-postfix-")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.queue_dir = os.path.join(self.dir, "queue")
        data = os.path.join(self.dir, "data")
        for d in (self.etc, self.queue_dir, data):
            os.makedirs(d)
        pw = pwd.getpwnam("postfix")
        os.chown(data, pw.pw_uid, pw.pw_gid)
        self.port = free_port()
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("""compatibility_level = 3.7
queue_directory = {q}
data_directory = {d}
daemon_directory = {daemons}
command_directory = /usr/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.invalid
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = example.com
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
in_flow_delay = 0
""".format(q=self.queue_dir, d=data, daemons=POSTFIX_DAEMONS) + extra_main_cf)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write("127.0.0.1:%d inet n - n - - smtpd\n"
                    "cleanup unix n - n - 0 cleanup\n"
                    "rewrite unix - - n - - trivial-rewrite\n"
                    "anvil unix - - n - 1 anvil\n"
                    "proxymap unix - - n - - proxymap\n" % self.port)
        subprocess.run(["postfix", "-c", self.etc, "start"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        wait_port(self.port)
        with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
            self.pid = int(f.read().strip())

    def cleanup(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.time() + 15
            while time.time() < deadline and os.path.exists("/proc/%d" % self.pid):
                time.sleep(0.1)
        except ProcessLookupError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def ours(build):
    os.environ["MTA_BUILD"] = build
    sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
    from mta import MTA
    port = free_port()
    return MTA(main_cf={"relay_domains": "example.com", "mynetworks": "127.0.0.0/8"},
               master_cf="127.0.0.1:%d inet n - n - - smtpd\n" % port, port=port)


def measure(name, port, root_pid, queue_dir, sessions, messages):
    smtp_source(port, sessions, min(100, messages))        # warm up
    before = count_incoming(queue_dir)
    sampler = MemorySampler(root_pid)
    sampler.start()
    rate = smtp_source(port, sessions, messages)
    sampler.stop.set()
    sampler.join()
    got = count_incoming(queue_dir) - before
    if got != messages:
        raise RuntimeError("%s: %d of %d messages queued" % (name, got, messages))
    return rate, sampler.peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--messages", type=int, default=1000)
    args = ap.parse_args()
    if not shutil.which("smtp-source") or not os.path.exists(POSTFIX_DAEMONS):
        print("bench_smtpd: needs Debian's postfix package (smtp-source, %s)" % POSTFIX_DAEMONS)
        return 1
    ok = True
    m = ours(os.path.abspath(args.build))
    pf = None
    try:
        pf = Postfix()
        for sessions in (10, 50):
            o_rate, o_mem = measure("ours", m.smtp_port, m.proc.pid, m.queue_dir,
                                    sessions, args.messages)
            p_rate, p_mem = measure("postfix", pf.port, pf.pid, pf.queue_dir,
                                    sessions, args.messages)
            ratio = o_rate / p_rate
            print("smtpd accept rate, %d sessions, 5 KB, fsync: ours %.0f msg/s, "
                  "postfix %.0f msg/s, ratio %.2f (target >= 1.30) %s"
                  % (sessions, o_rate, p_rate, ratio, "ok" if ratio >= 1.3 else "MISSED"))
            print("smtpd peak memory (PSS, all processes), %d sessions: ours %.1f MB, "
                  "postfix %.1f MB, ratio %.2f (target <= 1.00) %s"
                  % (sessions, o_mem / 1024.0, p_mem / 1024.0, o_mem / max(p_mem, 1),
                     "ok" if o_mem <= p_mem else "MISSED"), flush=True)
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        print("bench_smtpd: %s" % e)
        ok = False
    finally:
        m.cleanup()
        if pf:
            pf.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
