"""test_postcat_expire - postcat -q of a deferred message, postsuper -e/-f.

The same message is submitted to Debian's Postfix 3.7 and to ours with
sendmail, deferred by a relay where nothing listens, and looked at with
each system's postcat: the layout (marker lines, record labels, header
and body text) must be Postfix's. Then postsuper -e and postqueue -i
return it to the sender, on both systems, with the same lines on
standard error, in the log, and the same kind of bounce.
"""
import os
import re
import subprocess
import time
import unittest

from mta import MTA, SBIN, wait_for, free_port
from capture import Capture
from local_submit import PICKUP, run
from test_postqueue import DebianPostfix

MESSAGE = "Subject: deferme\nTo: d@remote.test\n\nbody line 1\nbody line 2\n"
ARGS = ["-f", "sender@host.test", "-N", "failure,delay", "-V", "envid123", "-R", "hdrs",
        "d@remote.test", "d2@remote.test"]


def labels(text):
    """The envelope labels and marker lines of postcat output, in order."""
    out = []
    for line in text.splitlines():
        if line.startswith("*** "):
            out.append(re.sub(r" \S+ \*\*\*$", " ***", line))
        elif re.match(r"^[a-z_]+: ", line) and not line.startswith("regular_text"):
            out.append(line.split(":", 1)[0])
    return out


def content(text):
    """The message lines of postcat output, queue IDs and dates blanked."""
    body = text.split(" ***\n", 2)[2].split("\n*** HEADER EXTRACTED")[0] if "***" in text else text
    body = re.sub(r"\b[0-9A-F]{10,12}\b", "QID", body)
    body = re.sub(r"<\d{14}\.QID@", "<STAMP.QID@", body)
    return re.sub(r"\w\w\w, [ \d]\d \w\w\w \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\w+\)", "DATE", body)


class PostcatAndExpire(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dead = free_port()
        cls.cap = Capture()
        cls.ref_cap = Capture()
        cls.ref = cls.m = None
        try:
            cls.ref = DebianPostfix(cls.dead)
            cls.ref_out = cls.exercise(cls.ref, ["sendmail", "-C", cls.ref.etc],
                                       lambda *a: cls.ref.run(a[0], *a[1:]),
                                       cls.ref.log, cls.ref_cap)
        finally:
            if cls.ref:
                cls.ref.stop()
        try:
            # Deferred mail stays where it is until a test moves it.
            # The sender's domain is reachable: the bounce arrives.
            cls.m = MTA(main_cf={"relayhost": "[127.0.0.1]:%d" % cls.dead,
                                 "transport_maps": "inline:{host.test=smtp:[127.0.0.1]:%d}"
                                 % cls.cap.port,
                                 "minimal_backoff_time": "300s",
                                 "maximal_backoff_time": "300s", "queue_run_delay": "300s"},
                        extra_master_cf=PICKUP)
            cls.out = cls.exercise(cls.m, [os.path.join(SBIN, "sendmail"), "-C", cls.m.config_dir],
                                   lambda *a: cls.m.command(*a), cls.m.log, cls.cap)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def exercise(cls, system, sendmail, command, log, cap):
        """Submit, wait for the deferral, postcat, expire, flush; what was seen."""
        out = {}
        r = subprocess.run(sendmail + ARGS, input=MESSAGE, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: log().count("status=deferred") >= 2, 60, what="deferral")
        qid = None

        def deferred_id():
            p = command("postqueue", "-p").stdout
            m = re.search(r"^([0-9A-F]+) ", p, re.M)
            return m.group(1) if m else None
        qid = wait_for(deferred_id, 30, what="a deferred message")
        out["qid"] = qid
        for opts in ([], ["-e"], ["-h"], ["-b"], ["-hb"], ["-v"]):
            out[tuple(opts)] = command("postcat", *(opts + ["-q", qid]))
        out["nosuch"] = command("postcat", "-q", "ABCDEF1234")
        out["expire"] = command("postsuper", "-e", qid)
        out["mailq"] = command("postqueue", "-p").stdout
        out["json"] = command("postqueue", "-j").stdout
        out["flush"] = command("postqueue", "-i", qid)
        wait_for(lambda: re.search(r"%s: sender non-delivery notification" % qid, log())
                 and re.search(r"qmgr\[\d+\]: %s: removed" % qid, log()), 60,
                 what="the forced expiry's bounce and the removal")
        out["log"] = log()
        return out

    @classmethod
    def tearDownClass(cls):
        if cls.m:
            cls.m.cleanup()
        cls.cap.stop()
        cls.ref_cap.stop()

    def test_postcat_layout_matches_postfix(self):
        ours, theirs = self.out[()].stdout, self.ref_out[()].stdout
        self.assertEqual(self.out[()].returncode, 0)
        # Postfix's labels; ours lacks create_time and sender_fullname
        # (not kept in our queue files), and shows envelope attributes
        # after the sender.
        missing = {"create_time", "sender_fullname", "original_recipient"}
        want = [l for l in labels(theirs) if l not in missing]
        self.assertEqual(sorted(labels(ours)), sorted(want))
        self.assertEqual([l for l in labels(ours) if l.startswith("***")],
                         [l for l in labels(theirs) if l.startswith("***")])
        self.assertEqual(content(ours), content(theirs))
        qid = self.out["qid"]
        self.assertTrue(ours.startswith("*** ENVELOPE RECORDS deferred/%s/%s ***\n"
                                        % (qid[0], qid)), ours[:200])
        for line in ("named_attribute: envelope_id=envid123", "named_attribute: ret_flags=2",
                     "named_attribute: notify_flags=12",
                     "named_attribute: dsn_orig_rcpt=rfc822;d@remote.test",
                     "sender: sender@host.test", "recipient: d2@remote.test"):
            self.assertIn(line + "\n", ours)
            self.assertIn(line + "\n", theirs)
        self.assertRegex(ours, r"\nmessage_size: +310 +\d+ +2 +0 +310 +0\n")
        self.assertRegex(theirs, r"\nmessage_size: +310 ")

    def test_postcat_options_match_postfix(self):
        for opts in (("-h",), ("-b",), ("-hb",)):
            self.assertEqual(content(self.out[opts].stdout), content(self.ref_out[opts].stdout),
                             opts)
        self.assertEqual(labels(self.out[("-e",)].stdout),
                         [l for l in labels(self.out[()].stdout)])
        self.assertNotIn("body line", self.out[("-e",)].stdout)
        self.assertTrue(self.out[("-b",)].stdout.startswith("\nbody line 1\n"))
        verbose = self.out[("-v",)].stdout
        self.assertIn("\nregular_text: Subject: deferme\n", verbose)
        self.assertIn("\nregular_text: Subject: deferme\n", self.ref_out[("-v",)].stdout)
        r, t = self.out["nosuch"], self.ref_out["nosuch"]
        self.assertEqual((r.returncode, r.stderr), (t.returncode, t.stderr))
        self.assertEqual(r.stderr, "postcat: fatal: open queue file ABCDEF1234: "
                         "No such file or directory\n")

    def test_forced_expiry_matches_postfix(self):
        qid, ref_qid = self.out["qid"], self.ref_out["qid"]
        r, t = self.out["expire"], self.ref_out["expire"]
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, t.stderr.replace(ref_qid, qid))
        self.assertEqual(r.stderr, "postsuper: %s: expired\npostsuper: Force-expired: 1 message\n"
                         % qid)
        self.assertRegex(self.out["mailq"], r"(?m)^%s#  +\d+ " % qid)
        self.assertRegex(self.ref_out["mailq"], r"(?m)^%s#  +\d+ " % ref_qid)
        self.assertIn('"forced_expire": true', self.out["json"])
        self.assertEqual(self.out["flush"].returncode, 0)
        for log, q in ((self.out["log"], qid), (self.ref_out["log"], ref_qid)):
            self.assertRegex(log, r"postfix/qmgr\[\d+\]: %s: from=<sender@host\.test>, "
                             r"status=force-expired, returned to sender" % q)
            self.assertRegex(log, r"postfix/bounce\[\d+\]: %s: sender non-delivery "
                             r"notification: \w+" % q)
            self.assertRegex(log, r"postfix/qmgr\[\d+\]: %s: removed" % q)
        # The sender gets the message back, with each recipient's last
        # delay reason (as Postfix's bounce for a forced expiry).
        bounce = wait_for(lambda: [e for e in self.cap.messages
                                   if e.rcpt_tos == ["sender@host.test"]], 30)[0]
        text = bounce.content.decode().replace("\r\n", "\n")
        self.assertEqual(bounce.mail_from, "<>")
        self.assertIn("X-Postfix-Queue-ID: %s\n" % qid, text)
        for rcpt in ("d@remote.test", "d2@remote.test"):
            self.assertRegex(text, r"Final-Recipient: rfc822; %s\nOriginal-Recipient: rfc822;%s\n"
                             r"Action: failed\nStatus: 4\.4\.1\n"
                             r"Diagnostic-Code: X-Postfix; connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: "
                             r"Connection refused" % (re.escape(rcpt), re.escape(rcpt), self.dead))
        # -R hdrs: the headers come back, not the body.
        self.assertIn("Content-Description: Undelivered Message Headers\n", text)
        self.assertIn("\nSubject: deferme\n", text)
        self.assertNotIn("body line", text)

    def test_summary_order_matches_postfix(self):
        """Postfix 3.7 prints the summaries in this order (same command)."""
        args = ["-r", "ABCDE1", "-d", "ABCDE2", "-h", "ABCDE3", "-H", "ABCDE4", "-e", "ABCDE5",
                "-f", "ABCDE6"]
        ours = self.m.command("postsuper", *args)
        self.assertEqual(ours.returncode, 0)
        self.assertEqual(ours.stderr, "postsuper: Requeued: 0 messages\n"
                         "postsuper: Deleted: 0 messages\npostsuper: Force-expired: 0 messages\n"
                         "postsuper: Placed on hold: 0 messages\n"
                         "postsuper: Released from hold: 0 messages\n")

    def test_force_releases_held_message(self):
        r = run(self.m, [os.path.join(SBIN, "sendmail"), "held@remote.test"], input="x\n")
        self.assertEqual(r.returncode, 0)
        qid = self.m.wait_log(r"(\w+): to=<held@remote\.test>.*status=deferred")[0]
        wait_for(lambda: qid in self.m.queue_files("deferred"), 30, what="%s in deferred/" % qid)
        self.assertEqual(self.m.command("postsuper", "-h", qid).returncode, 0)
        r = self.m.command("postsuper", "-f", qid)
        self.assertEqual(r.stderr, "postsuper: %s: expired\npostsuper: %s: released from hold\n"
                         "postsuper: Force-expired: 1 message\n"
                         "postsuper: Released from hold: 1 message\n" % (qid, qid))
        self.m.wait_log(r"%s: from=<root@mx\.test\.invalid>, status=force-expired" % qid)


if __name__ == "__main__":
    unittest.main()
