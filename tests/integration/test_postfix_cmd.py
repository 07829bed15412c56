"""test_postfix_cmd - postfix(1): start, status, reload, flush, check, stop ...

The same command sequence runs against Debian's Postfix 3.7 and against
ours, on a terminal (script(1)), where postfix-script shows its lines as
"postfix/postfix-script: TEXT"; they must be the same ("the Postfix mail
system is running: PID: N" is what scripts look for), apart from the
warnings of "check" about this test's own files. Our log must hold the
same lines (Debian's log loses some of them while its postlogd stops).
"""
import shlex
import os
import re
import signal
import socket
import subprocess
import time
import unittest

from mta import MTA, SBIN, wait_for, port_open, free_port
from local_submit import PICKUP, setgid_sbin, as_user
from test_postqueue import DebianPostfix

POSTFIX = os.path.join(SBIN, "postfix")
SEQUENCE = ["status", "start", "status", "reload", "flush", "check", "stop", "status",
            "stop", "reload"]


def script_lines(text, terminal=False):
    """postfix-script's lines, without time, host and PID; no warnings,
    and not "waiting for the Postfix mail system to terminate", which
    stop says once a second while master has not ended yet (a question of
    the machine's load, not of the program)."""
    out = []
    rx = r"^postfix/postfix-script: (.*)$" if terminal else r" postfix/postfix-script\[\d+\]: (.*)$"
    for line in text.replace("\r", "").splitlines():
        m = re.search(rx, line)
        if m and not m.group(1).startswith("warning: ") \
                and m.group(1) != "waiting for the Postfix mail system to terminate":
            out.append(re.sub(r"PID: \d+", "PID: N", m.group(1)))
    return out


def on_terminal(cmd, env=None):
    """Run cmd with a terminal for its output; (status, output)."""
    r = subprocess.run(["script", "-qec", shlex.join(cmd), "/dev/null"], capture_output=True,
                       text=True, env=env, timeout=60, cwd="/", stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout


def master_pid(queue_dir):
    try:
        with open(os.path.join(queue_dir, "pid", "master.pid")) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid):
    """Running (a zombie that nobody reaped yet does not count)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


class PostfixCommand(unittest.TestCase):
    def kill_master(self, m):
        pid = master_pid(m.queue_dir)
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)

    def pf(self, m, *args):
        return subprocess.run([POSTFIX, "-c", m.config_dir] + list(args), capture_output=True,
                              text=True, env=m.env(), timeout=60, cwd="/")

    def test_sequence_matches_postfix(self):
        ref = DebianPostfix(free_port())
        try:
            ref_status = []
            ref.run("postfix", "stop")
            wait_for(lambda: subprocess.run(["/usr/lib/postfix/sbin/master", "-c", ref.etc, "-t"],
                                            capture_output=True).returncode == 0, 20,
                     what="Debian Postfix to stop")
            ref_text = ""
            for cmd in SEQUENCE:
                rc, text = on_terminal(["postfix", "-c", ref.etc, cmd])
                ref_status.append(rc)
                ref_text += text
                if cmd == "start":
                    wait_for(lambda: port_open("127.0.0.1", ref.port), 30)
            ref_lines = script_lines(ref_text, terminal=True)
        finally:
            ref.stop()
        m = MTA(start=False, extra_master_cf=PICKUP)
        try:
            os.makedirs(m.queue_dir)
            status = []
            text = ""
            for cmd in SEQUENCE:
                rc, out = on_terminal([POSTFIX, "-c", m.config_dir, cmd], env=m.env())
                status.append(rc)
                text += out
                if cmd == "start":
                    try:
                        wait_for(lambda: port_open(m.addr, m.smtp_port), 60, what="smtpd")
                    except AssertionError:
                        raise AssertionError("smtpd does not listen after postfix start:\n%s\n%s"
                                             % (out, m.log()))
                    pid = master_pid(m.queue_dir)
                    self.assertTrue(pid and alive(pid))
                    # A working system: mail is accepted.
                    with socket.create_connection((m.addr, m.smtp_port), 10) as s:
                        self.assertTrue(s.recv(100).startswith(b"220 "))
            lines = script_lines(text, terminal=True)
            self.assertEqual(status, [1, 0, 0, 0, 0, 0, 0, 1, 1, 1])
            self.assertEqual(status, ref_status)
            self.assertEqual(lines, ref_lines)
            self.assertEqual(script_lines(m.log()), lines)
            # Without a terminal nothing is shown, as in Postfix.
            self.assertEqual((self.pf(m, "status").stderr, self.pf(m, "status").stdout), ("", ""))
            self.assertIn("the Postfix mail system is running: PID: N", lines)
            log = m.log()
            self.assertRegex(log, r"postfix/postfix-script\[\d+\]: the Postfix mail system is "
                             r"running: PID: %d\n" % pid)
            self.assertRegex(log, r"postfix/master\[%d\]: reload -- version" % pid)
            self.assertRegex(log, r"postfix/master\[%d\]: terminating on signal 15" % pid)
            wait_for(lambda: not alive(pid), 10, what="master to end")
        finally:
            self.kill_master(m)
            m.cleanup()

    def test_already_running_and_unknown_command(self):
        m = MTA(start=False, extra_master_cf=PICKUP)
        try:
            os.makedirs(m.queue_dir)
            self.assertEqual(self.pf(m, "start").returncode, 0)
            r = self.pf(m, "start")
            self.assertEqual(r.returncode, 1)
            m.wait_log(r"postfix-script\[\d+\]: fatal: the Postfix mail system is already running")
            r = self.pf(m, "bogus")
            self.assertEqual(r.returncode, 1)
            m.wait_log(r"fatal: unknown command: 'bogus'. Usage: postfix start \(or stop, reload, "
                       r"abort, flush, check, status, start-fg, set-permissions\)")
            r = self.pf(m, "abort")
            self.assertEqual(r.returncode, 0)
            m.wait_log(r"postfix-script\[\d+\]: aborting the Postfix mail system")
            wait_for(lambda: self.pf(m, "status").returncode == 1, 20, what="master to end")
        finally:
            self.kill_master(m)
            m.cleanup()

    def test_start_fg_and_not_root(self):
        m = MTA(start=False, extra_master_cf=PICKUP)
        proc = None
        try:
            os.makedirs(m.queue_dir)
            proc = subprocess.Popen([POSTFIX, "-c", m.config_dir, "start-fg"], env=m.env(),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(lambda: port_open(m.addr, m.smtp_port), 30, what="smtpd")
            # start-fg runs master itself, in the foreground.
            self.assertEqual(master_pid(m.queue_dir), proc.pid)
            m.wait_log(r"postfix-script\[\d+\]: starting the Postfix mail system")
            r = as_user(m, [POSTFIX, "status"])
            self.assertEqual(r.returncode, 1)
            self.assertEqual(self.pf(m, "stop").returncode, 0)
            self.assertEqual(proc.wait(20), 0)
        finally:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
            m.cleanup()

    def test_check_and_set_permissions(self):
        with MTA(start=False) as m:
            os.makedirs(m.queue_dir)
            sbin = setgid_sbin(m, names=("postdrop", "postqueue", "postsuper"))
            self.assertEqual(self.pf(m, "check").returncode, 0)
            corrupt = os.path.join(m.queue_dir, "corrupt", "ABCDE99")
            with open(corrupt, "w") as f:
                f.write("junk")
            os.chmod(os.path.join(m.queue_dir, "maildrop"), 0o777)
            os.chmod(os.path.join(sbin, "postqueue"), 0o755)
            os.chown(os.path.join(sbin, "postqueue"), 0, 0)
            os.chmod(m.path("main.cf"), 0o666)
            r = self.pf(m, "check")
            self.assertEqual(r.returncode, 0)
            log = m.log()
            for text in ("group or other writable: %s/./main.cf" % m.config_dir,
                         "not owned by group postdrop: %s/postqueue" % sbin,
                         "not set-gid or not owner+group+world executable: %s/postqueue" % sbin,
                         "damaged message: corrupt/ABCDE99"):
                self.assertIn("postfix/postfix-script", log)
                self.assertRegex(log, r"postfix-script\[\d+\]: warning: %s\n" % re.escape(text))
            self.assertEqual(self.pf(m, "set-permissions").returncode, 0)
            st = os.stat(os.path.join(sbin, "postqueue"))
            self.assertEqual((st.st_mode & 0o7777, st.st_gid), (0o2555, os.stat(
                os.path.join(sbin, "postdrop")).st_gid))
            self.assertEqual(os.stat(os.path.join(m.queue_dir, "maildrop")).st_mode & 0o7777, 0o1730)
            os.chmod(m.path("main.cf"), 0o644)
            before = len(m.log())
            self.pf(m, "check")
            after = m.log()[before:]
            self.assertNotIn("postqueue", after)
            self.assertNotIn("main.cf", after)
            self.assertIn("damaged message: corrupt/ABCDE99", after)


class Postlog(unittest.TestCase):
    """postlog: the same lines in the log as Debian's postlog writes."""

    CASES = [(["-t", "mytag", "hello", "world"], None), (["-p", "warn", "-t", "x", "careful"], None),
             (["-p", "fatal", "-t", "x", "dead"], None), (["-t", "x"], "l1\nl2\n"),
             (["-i", "-t", "x", "withpid"], None), (["plain"], None)]

    @staticmethod
    def lines(log):
        out = []
        for line in log.splitlines():
            m = re.match(r"^\w\w\w [ \d]\d \d\d:\d\d:\d\d \S+ (\S+?)\[\d+\]: (.*)$", line)
            if m and not m.group(1).startswith(("postfix/master", "postfix/smtpd",
                                                 "postfix/qmgr", "postfix/postfix-script")):
                out.append("%s: %s" % m.groups())
        return out

    def test_lines_match_postfix(self):
        ref = DebianPostfix(free_port())
        try:
            start = len(ref.log())
            ref_status = [ref.run("postlog", *args, input=text).returncode
                          for args, text in self.CASES]
            wait_for(lambda: "withpid" in ref.log() and "plain" in ref.log(), 20)
            ref_lines = self.lines(ref.log()[start:])
        finally:
            ref.stop()
        with MTA(start=False) as m:
            status = [m.command("postlog", *args, input=text).returncode
                      for args, text in self.CASES]
            bad = m.command("postlog", "-p", "bogus", "x")
            lines = self.lines(m.log())
        self.assertEqual(status, ref_status)
        self.assertEqual(status, [0] * len(self.CASES))
        self.assertEqual(lines, ref_lines)
        self.assertIn("mytag: hello world", lines)
        self.assertIn("postfix/postlog: plain", lines)
        self.assertEqual(bad.returncode, 1)
        # Postfix 3.7: 'postfix/postlog: fatal: bad severity: "bogus"'
        self.assertEqual(bad.stderr, 'postlog: fatal: bad severity: "bogus"\n')


if __name__ == "__main__":
    unittest.main()
