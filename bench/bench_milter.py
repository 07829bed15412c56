#!/usr/bin/python3
"""bench_milter.py - accept rate with one no-op milter against none, ours
and Debian's Postfix 3.7 side by side.

The milter is OpenDKIM in verify mode (a C milter from Debian) and the
mail carries no signature, so it only takes part in the protocol: every
event and the whole message go to it and it answers continue/accept.
Both servers run on this machine in the same run, without a queue
manager (only acceptance is measured), as in bench_smtpd.py: ours is
master + smtpd (smtpd reads the queue file back for the milter at the end
of data), Postfix is master + smtpd + cleanup (cleanup talks to the
milter) + trivial-rewrite.

smtp-source sends MESSAGES messages of 5 KB over 10 parallel sessions,
one message per session, first without, then with the milter. Printed:
messages per second of each, the ratio ours/Postfix with the milter
(target >= 1.0) and what the milter costs each (rate with / without).

Usage: bench_milter.py [--build DIR] [--messages N]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_smtpd import Postfix, free_port, wait_port, smtp_source, count_incoming, TOP  # noqa: E402

SESSIONS = 10


class NoopMilter:
    """opendkim -f in verify mode on a loopback port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bench-milter-")
        self.port = free_port()
        conf = os.path.join(self.dir, "opendkim.conf")
        user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        with open(conf, "w") as f:
            f.write("Syslog no\nBackground no\nMode v\nSocket inet:%d@127.0.0.1\n"
                    "UserID %s\nPidFile %s/pid\nRequireSafeKeys no\n" % (self.port, user, self.dir))
        self.proc = subprocess.Popen(["opendkim", "-f", "-x", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(self.port)
        self.spec = "inet:127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def ours(build, milter_spec):
    os.environ["MTA_BUILD"] = build
    sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
    from mta import MTA
    port = free_port()
    params = {"relay_domains": "example.com", "mynetworks": "127.0.0.0/8"}
    if milter_spec:
        params["smtpd_milters"] = milter_spec
    return MTA(main_cf=params, master_cf="127.0.0.1:%d inet n - n - - smtpd\n" % port,
               port=port)


def rate(port, queue_dir, messages):
    smtp_source(port, SESSIONS, min(100, messages))        # warm up
    before = count_incoming(queue_dir)
    r = smtp_source(port, SESSIONS, messages)
    got = count_incoming(queue_dir) - before
    if got != messages:
        raise RuntimeError("%d of %d messages queued" % (got, messages))
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--messages", type=int, default=1000)
    args = ap.parse_args()
    if not shutil.which("smtp-source") or not shutil.which("opendkim"):
        print("bench_milter: needs Debian's postfix and opendkim packages")
        return 1
    build = os.path.abspath(args.build)
    results = {}
    milter = NoopMilter()
    try:
        for name, spec in (("none", ""), ("milter", milter.spec)):
            m = ours(build, spec)
            try:
                results[("ours", name)] = rate(m.smtp_port, m.queue_dir, args.messages)
            finally:
                m.cleanup()
            pf = Postfix("smtpd_milters = %s\n" % spec if spec else "")
            try:
                results[("postfix", name)] = rate(pf.port, pf.queue_dir, args.messages)
            finally:
                pf.cleanup()
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        print("bench_milter: %s" % e)
        return 1
    finally:
        milter.stop()
    for who in ("ours", "postfix"):
        print("%s: no milter %.0f msg/s, one no-op milter %.0f msg/s (%.2f of the rate "
              "without)" % (who, results[(who, "none")], results[(who, "milter")],
                            results[(who, "milter")] / results[(who, "none")]))
    ratio = results[("ours", "milter")] / results[("postfix", "milter")]
    print("smtpd accept rate with one no-op milter, %d sessions, 5 KB, fsync: ours %.0f msg/s, "
          "postfix %.0f msg/s, ratio %.2f (target >= 1.00) %s"
          % (SESSIONS, results[("ours", "milter")], results[("postfix", "milter")], ratio,
             "ok" if ratio >= 1.0 else "MISSED"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
