"""test_postqueue - postqueue -p / -j / -f / -s / -i, mailq and showq.

The listing formats are checked against Debian's Postfix: the test runs
Debian Postfix in a throw-away config folder, queues the same kind of
mail to an unreachable relay, holds one message, and parses both
programs' -p and -j output with the same parser (header, per-message
line by Postfix's printf format, right-aligned reason lines, recipient
indent, trailer; JSON keys and their order).

write_msg()/write_defer() write queue files directly (lib/global/queue_file.h),
for tests that need a queue state without the pipeline; test_postsuper
uses them too.
"""
import json
import os
import pwd
import re
import shutil
import signal
import smtplib
import struct
import subprocess
import tempfile
import time
import unittest

from mta import MTA, SBIN, free_port, wait_for


# --- queue files written directly ----------------------------------------------

def _rec(t, data):
    if isinstance(data, str):
        data = data.encode()
    return t.encode() + struct.pack(">I", len(data)) + data


LG_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"


def hash_digit(qid):
    """The first hash folder of a queue ID (lib/global/mail_queue.c): a short ID's
    first hex digit; for a long ID, that of its microseconds in hex."""
    sep = qid.find("z")
    if sep >= 10 and not all(c in "0123456789ABCDEF" for c in qid):
        usec = 0
        for c in qid[sep - 4:sep]:
            usec = usec * 52 + LG_ALPHABET.index(c)
        return "%05X" % usec
    return qid


def queue_path(qdir, queue, qid):
    if queue in ("deferred", "defer"):
        return os.path.join(qdir, queue, hash_digit(qid)[0], qid)
    return os.path.join(qdir, queue, qid)


def _owner():
    try:
        return pwd.getpwnam("postfix")
    except KeyError:
        return pwd.getpwnam("nobody")


def write_msg(qdir, queue, qid, sender, rcpts, message=b"Subject: x\r\n\r\nbody\r\n",
              arrival=None, complete=True):
    arrival = int(arrival or time.time())
    out = _rec("V", "1") + _rec("T", "%d 0" % arrival) + _rec("S", sender)
    out += _rec("W", "%020d" % 0)
    for r in rcpts:
        done = False
        if isinstance(r, tuple):
            r, done = r
        out += _rec("D" if done else "R", r)
    if isinstance(message, str):
        message = message.encode()
    out += _rec("M", message) + _rec("E", "")
    p = queue_path(qdir, queue, qid)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(out)
    os.chmod(p, 0o700 if complete else 0o600)
    if os.getuid() == 0:
        pw = _owner()
        os.chown(os.path.dirname(p), pw.pw_uid, pw.pw_gid)
        os.chown(p, pw.pw_uid, pw.pw_gid)
    return p


def write_defer(qdir, qid, entries):
    p = queue_path(qdir, "defer", qid)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "a") as f:
        for rcpt, reason in entries:
            f.write("recipient=%s\noffset=0\nnotify=0\nstatus=4.4.1\naction=delayed\n"
                    "reason=%s\ntime=%d\n\n" % (rcpt, reason, int(time.time())))
    if os.getuid() == 0:
        pw = _owner()
        os.chown(os.path.dirname(p), pw.pw_uid, pw.pw_gid)
        os.chown(p, pw.pw_uid, pw.pw_gid)


# --- Debian's Postfix as the reference -------------------------------------------

class DebianPostfix:
    """Debian Postfix in a temporary config and queue, smtpd on a free port."""

    SERVICES = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""

    def __init__(self, relay_port, extra_main="", files=None):
        """extra_main: more main.cf lines; files: {name: text} written into
        the configuration folder first. "{etc}" in either is that folder."""
        self.dir = tempfile.mkdtemp(prefix="pf-ref-")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        data = os.path.join(self.dir, "data")
        for d in (self.etc, self.queue, data):
            os.makedirs(d)
        pw = pwd.getpwnam("postfix")
        os.chown(data, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.7\nqueue_directory = %s\ndata_directory = %s\n"
                    "myhostname = mx.test.invalid\nmydestination =\ninet_interfaces = 127.0.0.1\n"
                    "inet_protocols = ipv4\nmynetworks = 127.0.0.0/8\nrelayhost = [127.0.0.1]:%d\n"
                    "maillog_file = %s/maillog\nmaillog_file_prefixes = %s\n"
                    "smtp_tls_security_level = none\nsmtpd_tls_security_level = none\n"
                    "alias_maps =\nalias_database =\n"
                    % (self.queue, data, relay_port, self.dir, self.dir))
            f.write(extra_main.replace("{etc}", self.etc))
        for name, text in (files or {}).items():
            with open(os.path.join(self.etc, name), "w") as f:
                f.write(text.replace("{etc}", self.etc))
        # The free port can be taken by a test running beside this one
        # before master binds it: then master exits and start fails; try
        # another port, and say what the log said if it keeps failing.
        for attempt in range(3):
            self.port = free_port()
            with open(os.path.join(self.etc, "master.cf"), "w") as f:
                f.write(self.SERVICES.format(port=self.port))
            r = self.run("postfix", "start")
            if r.returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError("Debian's postfix start failed: %s%s\nmaillog:\n%s"
                             % (r.stdout, r.stderr, self.log()[-2000:]))

    def run(self, cmd, *args, check=False, input=None):
        return subprocess.run([cmd, "-c", self.etc] + list(args), capture_output=True,
                              text=True, check=check, input=input, timeout=60, cwd="/")

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        pid = None
        try:
            with open(pidfile) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        self.run("postfix", "stop")
        if pid:
            try:
                wait_for(lambda: not os.path.exists("/proc/%d" % pid), 10, what="postfix stop")
            except AssertionError:
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- parsing postqueue -p output ---------------------------------------------------

SHORT_HEADER = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
ENTRY_RE = re.compile(r"^([0-9A-Za-z]+)([*!#]?) +(\d+) (\w\w\w \w\w\w [ \d]\d \d\d:\d\d:\d\d) +(\S+)$")


def parse_mailq(text, test):
    """Check the layout line by line; return (entries, trailer)."""
    lines = text.split("\n")
    test.assertEqual(lines[-1], "", "output ends with a newline")
    lines = lines[:-1]
    if lines == ["Mail queue is empty"]:
        return [], None
    test.assertEqual(lines[0], SHORT_HEADER)
    trailer = lines[-1]
    test.assertRegex(trailer, r"^-- \d+ Kbytes in \d+ Requests?\.$")
    entries = []
    cur = None
    for line in lines[1:-1]:
        m = ENTRY_RE.match(line)
        if m:
            qid, mark, size, when, sender = m.groups()
            # Postfix's printf format for short IDs, reproduced exactly.
            test.assertEqual(line, "%-11s %7d %20.20s %s" % (qid + mark, int(size), when + " ", sender))
            cur = {"id": qid, "mark": mark, "size": int(size), "sender": sender, "rcpts": []}
            entries.append(cur)
            reason = None
        elif line.startswith(" ") and line.strip().startswith("("):
            reason = line.strip()[1:-1]
            test.assertEqual(len(line), max(78, len(reason) + 2), "reason right-aligned: %r" % line)
        elif line.startswith(" " * 41) and line[41] != " ":
            cur["rcpts"].append((line[41:], reason))
        elif line == "":
            cur = None
        elif line.startswith("("):
            reason = line[1:-1]
            test.assertGreater(len(line), 78)
        else:
            test.fail("unexpected line %r" % line)
    n = int(re.search(r"in (\d+) Request", trailer).group(1))
    test.assertEqual(n, len(entries))
    kb = int(re.search(r"-- (\d+) Kbytes", trailer).group(1))
    test.assertEqual(kb, sum(e["size"] for e in entries) // 1024)
    return entries, trailer


def send_reference_mail(port):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.sendmail("a@b.test", ["user@example.com"], "Subject: one\r\n\r\nbody\r\n")
        s.sendmail("", ["x@example.com", "y@example.org"],
                   "Subject: two\r\n\r\nbody2\r\n" + "z" * 3000 + "\r\n")
        s.sendmail("c@b.test", ["r1@example.net", "r2@example.net"], "Subject: three\r\n\r\nb3\r\n")


def by_sender(entries):
    return {e["sender"]: e for e in entries}


class PostqueueFormatTest(unittest.TestCase):
    """Our -p / -j against Debian Postfix's, for the same queue state."""

    @classmethod
    def setUpClass(cls):
        dead = free_port()
        cls.ref = DebianPostfix(dead)
        try:
            send_reference_mail(cls.ref.port)
            wait_for(lambda: cls.ref.log().count("status=deferred") >= 5, 30,
                     what="Debian Postfix to defer the mail")
            p = cls.ref.run("postqueue", "-p", check=True).stdout
            first = re.search(r"^([0-9A-F]+) .* a@b\.test$", p, re.M).group(1)
            cls.ref.run("postsuper", "-h", first, check=True)
            cls.ref_p = cls.ref.run("postqueue", "-p", check=True).stdout
            cls.ref_j = cls.ref.run("postqueue", "-j", check=True).stdout
        finally:
            cls.ref.stop()
        cls.m = MTA(main_cf={"relayhost": "[127.0.0.1]:%d" % dead})
        try:
            send_reference_mail(cls.m.smtp_port)
            cls.m.wait_log(r"status=deferred", timeout=30, count=5)
            wait_for(lambda: not cls.m.queue_files("active") and not cls.m.queue_files("incoming"),
                     20, what="mail to settle in deferred/")
            p = cls.m.command("postqueue", "-p", check=True).stdout
            first = re.search(r"^([0-9A-F]+) .* a@b\.test$", p, re.M).group(1)
            cls.m.command("postsuper", "-h", first, check=True)
            cls.our_p = cls.m.command("postqueue", "-p", check=True).stdout
            cls.our_j = cls.m.command("postqueue", "-j", check=True).stdout
        except Exception:
            cls.m.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def test_mailq_layout_matches_postfix(self):
        ref, ref_trailer = parse_mailq(self.ref_p, self)
        ours, our_trailer = parse_mailq(self.our_p, self)
        self.assertEqual(len(ref), 3)
        self.assertEqual(len(ours), 3)
        ref, ours = by_sender(ref), by_sender(ours)
        self.assertEqual(sorted(ref), sorted(ours))
        self.assertIn("MAILER-DAEMON", ours)
        for sender in ref:
            self.assertEqual(ref[sender]["mark"], ours[sender]["mark"], sender)
            self.assertEqual([r for r, _ in ref[sender]["rcpts"]],
                             [r for r, _ in ours[sender]["rcpts"]], sender)
            for (_, a), (_, b) in zip(ref[sender]["rcpts"], ours[sender]["rcpts"]):
                self.assertEqual(a is None, b is None)
                if a:
                    # A message tried after the destination was declared
                    # dead carries Postfix's prefix (which of the five is
                    # tried before that depends on timing, in both).
                    self.assertRegex(b, r"^(delivery temporarily suspended: )?connect to "
                                     r"127\.0\.0\.1\[127\.0\.0\.1\]:\d+: Connection refused$")
        self.assertEqual(ours["a@b.test"]["mark"], "!")

    def test_json_matches_postfix(self):
        ref = [json.loads(line) for line in self.ref_j.splitlines()]
        ours = [json.loads(line) for line in self.our_j.splitlines()]
        self.assertEqual(len(ours), 3)
        for line in self.our_j.splitlines():
            self.assertTrue(line.startswith('{"queue_name": '), line)
        ref_keys = [list(o.keys()) for o in ref]
        self.assertEqual([list(o.keys()) for o in ours], ref_keys)
        rs, os_ = {o["sender"]: o for o in ref}, {o["sender"]: o for o in ours}
        self.assertEqual(sorted(rs), sorted(os_))
        for s in rs:
            a, b = rs[s], os_[s]
            self.assertEqual(a["queue_name"], b["queue_name"], s)
            self.assertEqual(a["forced_expire"], b["forced_expire"])
            for k in ("arrival_time", "message_size"):
                self.assertIsInstance(b[k], int)
            self.assertEqual([list(r.keys()) for r in a["recipients"]],
                             [list(r.keys()) for r in b["recipients"]])
            self.assertEqual([r["address"] for r in a["recipients"]],
                             [r["address"] for r in b["recipients"]])
        # -j and -p agree on IDs
        ids_p = set(re.findall(r"^([0-9A-F]+)[*!]? ", self.our_p, re.M))
        self.assertEqual(ids_p, {o["queue_id"] for o in ours})


class PostqueueTest(unittest.TestCase):
    def test_empty_queue_and_mailq_link(self):
        with MTA() as m:
            r = m.command("postqueue", "-p")
            self.assertEqual((r.returncode, r.stdout), (0, "Mail queue is empty\n"))
            r = m.command("mailq")
            self.assertEqual((r.returncode, r.stdout), (0, "Mail queue is empty\n"))
            self.assertEqual(m.command("postqueue", "-j").stdout, "")

    def test_written_queue_state(self):
        # The system is never started, so no qmgr can take these files
        # (stopping a running one left a window where it still could).
        with MTA(start=False) as m:
            q = m.queue_dir
            for d in ("incoming", "active", "deferred", "hold", "maildrop", "defer",
                      "bounce", "public", "private", "pid"):
                os.makedirs(os.path.join(q, d), exist_ok=True)
            write_msg(q, "deferred", "B0604A720BD", "a@b.test", ["user@example.com", ("done@x", True)],
                      arrival=1795423585)
            write_defer(q, "B0604A720BD", [("user@example.com", 'say "hi"\\')])
            write_msg(q, "active", "B2E6CA720C3", "", ["x@example.com"], message="x" * 3000)
            write_msg(q, "incoming", "C42CCA720D8", "w@b.test", ["w@example.com"], complete=False)
            r = m.command("postqueue", "-j")
            objs = [json.loads(line) for line in r.stdout.splitlines()]
            self.assertEqual({o["queue_id"] for o in objs}, {"B0604A720BD", "B2E6CA720C3"})
            d = [o for o in objs if o["queue_id"] == "B0604A720BD"][0]
            self.assertEqual(d["arrival_time"], 1795423585)
            self.assertEqual(d["recipients"], [{"address": "user@example.com",
                                                "delay_reason": 'say "hi"\\'}])
            r = m.command("postqueue", "-p")
            self.assertIn("Mail system is down -- accessing queue directly", r.stderr)
            self.assertRegex(r.stdout, r"(?m)^B2E6CA720C3\*    3000 \w\w\w \w\w\w [ \d]\d \d\d:\d\d:\d\d  MAILER-DAEMON$")
            self.assertTrue(r.stdout.endswith("\n-- 2 Kbytes in 2 Requests.\n"))

    def test_long_queue_ids(self):
        """Postfix's columns for long IDs (seen with Debian Postfix 3.7)."""
        with MTA(main_cf={"enable_long_queue_ids": "yes"}) as m:
            m.stop()
            write_msg(m.queue_dir, "hold", "4jY3PV5S33z1bY5Y", "a@b.test", ["u@example.com"],
                      message="x" * 306)
            write_defer(m.queue_dir, "4jY3PV5S33z1bY5Y",
                        [("u@example.com", "connect to 127.0.0.1[127.0.0.1]:1: Connection refused")])
            out = m.command("postqueue", "-p").stdout.split("\n")
            self.assertEqual(out[0], "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------")
            self.assertRegex(out[1], r"^4jY3PV5S33z1bY5Y!      306 \w\w\w \w\w\w [ \d]\d \d\d:\d\d:\d\d a@b\.test$")
            self.assertEqual(out[2], " " * 23 + "(connect to 127.0.0.1[127.0.0.1]:1: Connection refused)")
            self.assertEqual(out[3], " " * 47 + "u@example.com")
            self.assertEqual(out[4:], ["", "-- 0 Kbytes in 1 Request.", ""])

    def test_system_down(self):
        with MTA(start=False) as m:
            os.makedirs(m.queue_dir, exist_ok=True)
            r = m.command("postqueue", "-f")
            self.assertEqual(r.returncode, 69)
            self.assertEqual(r.stderr, "postqueue: fatal: Cannot flush mail queue - mail system is down\n")
            r = m.command("postqueue", "-s", "example.com")
            self.assertEqual(r.returncode, 69)
            if os.getuid() == 0 and shutil.which("setpriv"):
                os.chmod(m.dir, 0o755)
                r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                    os.path.join(SBIN, "postqueue"), "-p"],
                                   capture_output=True, text=True, env=m.env(), timeout=30)
                self.assertEqual(r.returncode, 69, r.stderr)
                self.assertIn("postqueue: fatal: Queue report unavailable - mail system is down",
                              r.stderr)

    @unittest.skipUnless(os.getuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_unprivileged_user_through_public(self):
        """A user who cannot read the queue lists and flushes it through
        public/ with the group rights of setgid_group (what a setgid
        postdrop postqueue has; given here as a supplementary group so
        that sanitizer builds, which cannot run setgid, test it too)."""
        with MTA() as m:
            import grp
            gid = grp.getgrnam(m.params["setgid_group"]).gr_gid
            pq = os.path.join(m.dir, "postqueue")
            shutil.copy(os.path.join(SBIN, "postqueue"), pq)
            os.chmod(pq, 0o755)
            os.chmod(m.dir, 0o755)
            os.chmod(m.config_dir, 0o755)
            run = lambda *a: subprocess.run(
                ["setpriv", "--reuid=nobody", "--regid=nogroup", "--groups=%d" % gid, pq] + list(a),
                capture_output=True, text=True, env=m.env(), timeout=30, cwd="/")
            r = run("-p")
            self.assertEqual((r.returncode, r.stdout), (0, "Mail queue is empty\n"), r.stderr[-800:])
            r = run("-f")
            self.assertEqual(r.returncode, 0, r.stderr)
            m.set_main(authorized_mailq_users="root")
            r = run("-p")
            self.assertEqual(r.returncode, 77)
            self.assertIn("is not allowed to view the mail queue", r.stderr)

    def test_usage(self):
        with MTA(start=False) as m:
            r = m.command("postqueue")
            self.assertEqual(r.returncode, 64)
            self.assertIn("usage: postqueue", r.stderr)


if __name__ == "__main__":
    unittest.main()


class ConfigDirectoryCheck(unittest.TestCase):
    """The set-group-id postqueue takes a configuration folder from an
    ordinary user (MAIL_CONFIG or -c) only when the default main.cf lists
    it, as Postfix does; else a user could point it at a main.cf of their
    own and its authorized_mailq_users and authorized_flush_users.
    Postfix 3.7's postqueue, run the same way, says (exit 69):
        postqueue: error: unauthorized configuration directory name: DIR
        postqueue: fatal: specify "alternate_config_directories = DIR" or
          "multi_instance_directories = DIR" in /etc/postfix/main.cf
    """

    def test_unlisted_refused_listed_works(self):
        from local_submit import setgid_sbin, as_user
        with MTA(main_cf={"authorized_mailq_users": "root"}) as m:
            sbin = setgid_sbin(m, names=("postqueue",))
            # The user's own main.cf: everyone may list the queue.
            evil = os.path.join(m.dir, "home", "evil")
            os.makedirs(evil)
            with open(os.path.join(evil, "main.cf"), "w") as f:
                f.write("queue_directory = %s\nauthorized_mailq_users = static:anyone\n"
                        "authorized_flush_users = static:anyone\n" % m.queue_dir)
            os.chmod(os.path.join(m.dir, "home"), 0o755)
            os.chmod(evil, 0o755)
            listed = "alternate_config_directories = %s\n" % m.config_dir
            want = ('postqueue: error: unauthorized configuration directory name: %s\n'
                    'postqueue: fatal: specify "alternate_config_directories = %s" or '
                    '"multi_instance_directories = %s" in /etc/postfix/main.cf\n'
                    % (evil, evil, evil))
            for pq in (os.path.join(sbin, "postqueue"), "/usr/sbin/postqueue"):
                with self.subTest(postqueue=pq):
                    r = as_user(m, [pq, "-p"], default_main_cf=listed,
                                env_extra={"MAIL_CONFIG": evil})
                    self.assertEqual((r.returncode, r.stdout), (69, ""))
                    self.assertEqual(r.stderr.replace("/usr/sbin/postqueue", "postqueue"), want)
                    r = as_user(m, [pq, "-c", evil, "-f"], default_main_cf=listed,
                                mail_config=False)
                    self.assertEqual(r.returncode, 69)
                    self.assertEqual(r.stderr.replace("/usr/sbin/postqueue", "postqueue"), want)
            # A listed folder is read, with its own access lists.
            postqueue = os.path.join(sbin, "postqueue")
            r = as_user(m, [postqueue, "-p"], default_main_cf=listed)
            self.assertEqual(r.returncode, 77)
            self.assertIn("postqueue: fatal: User nobody(65534) is not allowed to view the "
                          "mail queue", r.stderr)
            r = as_user(m, [postqueue, "-f"], default_main_cf=listed)
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            r = as_user(m, [postqueue, "-p"],
                        default_main_cf="multi_instance_directories = /x, %s\n" % m.config_dir)
            self.assertEqual(r.returncode, 77)
            # root may name any folder.
            r = subprocess.run([postqueue, "-c", evil, "-p"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual((r.returncode, r.stdout), (0, "Mail queue is empty\n"))
