"""test_sendmail - local submission: sendmail, postdrop, pickup.

The same messages go through Debian's Postfix 3.7 (sendmail, postdrop,
pickup, cleanup) and through ours, each relaying to a capture server;
the tests compare what arrived: envelope, header order, the headers that
were added and their layout (Postfix's texts are quoted below), Bcc:
removed. Errors are compared as exit status and message.

Postfix 3.7, for the record (sendmail -f app@host user@remote.test as
root):
    Received: by mx.test.invalid (Postfix, from userid 0)
    	id 35475A72232; Mon,  7 Dec 2026 14:08:14 +0000 (UTC)
    Subject: t1 / To: ... (as submitted, Bcc: removed)
    Message-Id: <20261207140814.35475A72232@mx.test.invalid>
    Date: Mon,  7 Dec 2026 14:08:14 +0000 (UTC)
    From: root <app@host>
and in the log "35475A72232: uid=0 from=<app@host>".
"""
import os
import re
import shutil
import stat
import struct
import subprocess
import time
import unittest

from mta import MTA, SBIN, wait_for, free_port
from capture import Capture
from local_submit import PICKUP, setgid_sbin, as_user, run, header_names
from test_postqueue import DebianPostfix

SENDMAIL = os.path.join(SBIN, "sendmail")

MESSAGES = {
    # name: (sendmail arguments, input)
    "t1": (["-f", "app@host", "user@remote.test"],
           "Subject: t1\nTo: v@remote.test\nBcc: hidden@remote.test\n\nhello\n"),
    "t2": (["-t"],
           "Subject: t2\nTo: t1@remote.test\nCc: \"C, One\" <c1@remote.test>\n"
           "Bcc: b1@remote.test\n\nhello2\n"),
    "t3": (["-f", "", "-F", "Smith, John", "nul@remote.test"], "no headers here\n"),
    "t4": (["-F", "Smith, John", "fl@remote.test"],
           "From foo@bar Mon Dec  7 10:00:00 2026\nSubject: t4\n\nb\n.\nafter dot\n"),
    "t5": (["-t"],
           "Subject: t5\nTo: orig@remote.test\nResent-To: resent@remote.test\n"
           "Resent-From: x@y.test\n\nbody5\n"),
    "t6": (["-oi", "-N", "failure,delay", "-V", "envid6", "dot@remote.test"],
           "Subject: t6\r\n\r\n.\r\nline after dot\r\n"),
}


def by_key(cap):
    """Captured messages of MESSAGES by their Subject: (t3 by its body)."""
    out = {}
    for e in cap.messages:
        text = e.content.decode(errors="replace").replace("\r\n", "\n")
        m = re.search(r"^Subject: (t\d)$", text, re.M)
        if m:
            out[m.group(1)] = (e, text)
        elif "\n\nno headers here\n" in text:
            out["t3"] = (e, text)
    return out


def normalize(text, qids):
    """A message with queue IDs, dates and our host name made comparable."""
    for q in qids:
        text = text.replace(q, "QID")
    text = re.sub(r"\d{14}\.QID", "STAMP.QID", text)
    text = re.sub(r"\w\w\w, [ \d]\d \w\w\w \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\w+\)", "DATE", text)
    return text


class SendmailDelivery(unittest.TestCase):
    """The same submissions through Debian's Postfix and through ours."""

    @classmethod
    def setUpClass(cls):
        cls.cap = Capture()
        cls.ref_cap = Capture()
        cls.ref = DebianPostfix(cls.ref_cap.port)
        cls.m = None
        try:
            cls.ref_results = {}
            for name, (args, text) in MESSAGES.items():
                r = subprocess.run(["sendmail", "-C", cls.ref.etc] + args, input=text,
                                   capture_output=True, text=True, timeout=60)
                cls.ref_results[name] = r
            cls.ref_cap.wait(len(MESSAGES), timeout=60)
            cls.ref_log = cls.ref.log()
        finally:
            cls.ref.stop()
        try:
            cls.m = MTA(main_cf={"relayhost": "[127.0.0.1]:%d" % cls.cap.port},
                        extra_master_cf=PICKUP)
            cls.results = {}
            for name, (args, text) in MESSAGES.items():
                cls.results[name] = run(cls.m, [SENDMAIL, "-C", cls.m.config_dir] + args,
                                        input=text)
            cls.cap.wait(len(MESSAGES), timeout=60)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.m:
            cls.m.cleanup()
        cls.cap.stop()
        cls.ref_cap.stop()

    def test_exit_status(self):
        for name in MESSAGES:
            self.assertEqual((self.results[name].returncode, self.results[name].stderr),
                             (0, ""), name)
            self.assertEqual(self.ref_results[name].returncode, 0, name)

    def test_envelope_matches_postfix(self):
        ours, theirs = by_key(self.cap), by_key(self.ref_cap)
        self.assertEqual(sorted(ours), sorted(MESSAGES))
        for name in MESSAGES:
            (e, _), (r, _) = ours[name], theirs[name]
            self.assertEqual(sorted(e.rcpt_tos), sorted(r.rcpt_tos), name)
            # Our myhostname is the same as the reference's (mx.test.invalid).
            self.assertEqual(e.mail_from, r.mail_from, name)
        self.assertEqual(ours["t1"][0].mail_from, "app@host")
        self.assertEqual(ours["t1"][0].rcpt_tos, ["user@remote.test"])
        self.assertEqual(sorted(ours["t2"][0].rcpt_tos),
                         ["b1@remote.test", "c1@remote.test", "t1@remote.test"])
        self.assertEqual(ours["t3"][0].mail_from, "<>")
        self.assertEqual(ours["t5"][0].rcpt_tos, ["resent@remote.test"])

    def test_headers_match_postfix(self):
        ours, theirs = by_key(self.cap), by_key(self.ref_cap)
        for name in MESSAGES:
            ours_text, ref_text = ours[name][1], theirs[name][1]
            self.assertEqual(header_names(ours_text), header_names(ref_text), name)
            qids = re.findall(r"^\tid (\w+);", ours_text, re.M) + \
                re.findall(r"^\tid (\w+);", ref_text, re.M)
            self.assertEqual(normalize(ours_text, qids), normalize(ref_text, qids), name)
        t1 = ours["t1"][1]
        self.assertNotIn("Bcc", t1)
        self.assertNotIn("hidden", t1)
        self.assertRegex(t1, r"^Received: by mx\.test\.invalid \(Postfix, from userid 0\)\n"
                         r"\tid (\w+); \w\w\w, [ \d]\d \w\w\w \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\w+\)\n")
        self.assertIn("\nFrom: root <app@host>\n", t1)
        self.assertNotIn("Bcc", ours["t2"][1])
        self.assertIn("\nFrom: MAILER-DAEMON\n\nno headers here\n", ours["t3"][1])
        self.assertIn('\nFrom: "Smith, John" <root@mx.test.invalid>\n', ours["t4"][1])
        self.assertTrue(ours["t4"][1].endswith("\n\nb\n"), ours["t4"][1])
        self.assertIn("\n.\nline after dot\n", ours["t6"][1])

    def test_log_lines(self):
        log = self.m.log()
        self.assertRegex(log, r"postfix/pickup\[\d+\]: (\w+): uid=0 from=<app@host>")
        self.assertRegex(self.ref_log, r"postfix/pickup\[\d+\]: (\w+): uid=0 from=<app@host>")
        self.assertRegex(log, r"postfix/pickup\[\d+\]: \w+: uid=0 from=<root>")
        self.assertRegex(log, r"postfix/pickup\[\d+\]: \w+: message-id=<\d{14}\.\w+@mx\.test\.invalid>")
        self.assertRegex(log, r"postfix/qmgr\[\d+\]: \w+: from=<root@mx\.test\.invalid>, size=\d+, "
                         r"nrcpt=3 \(queue active\)")


class SendmailModes(unittest.TestCase):
    """-bs, -bp, -q, newaliases, and errors, against Postfix's words."""

    SMTP_SCRIPT = ("EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bs@remote.test>\r\n"
                   "DATA\r\nSubject: bs\r\n\r\nbody bs\r\n..dotted\r\n.\r\nVRFY x\r\n"
                   "ETRN remote.test\r\nNOOP\r\nRSET\r\nFOO\r\nRCPT TO:<x@y.test>\r\n"
                   "MAIL FROM:<bad address>\r\nQUIT\r\n")

    def test_bs_speaks_smtp_like_postfix(self):
        cap, ref_cap = Capture(), Capture()
        ref = DebianPostfix(ref_cap.port)
        try:
            theirs = subprocess.run(["sendmail", "-C", ref.etc, "-bs"], input=self.SMTP_SCRIPT,
                                    capture_output=True, text=True, timeout=60)
            ref_cap.wait(1)
            ref_log = ref.log()
        finally:
            ref.stop()
            ref_cap.stop()
        try:
            with MTA(main_cf={"relayhost": "[127.0.0.1]:%d" % cap.port},
                     extra_master_cf=PICKUP) as m:
                ours = run(m, [SENDMAIL, "-C", m.config_dir, "-bs"], input=self.SMTP_SCRIPT)
                cap.wait(1)
                log = m.log()
        finally:
            cap.stop()
        self.assertEqual((ours.returncode, ours.stderr), (0, ""))
        def ehlo_keywords(lines):
            """The EHLO reply's keywords; the reply becomes one line."""
            start = lines.index("250-mx.test.invalid")
            end = start + 1
            while lines[end].startswith("250-"):
                end += 1
            kw = [l[4:] for l in lines[start + 1:end + 1]]
            lines[start:end + 1] = ["250 EHLO"]
            return kw

        def strip(text):
            lines = [re.sub(r"queued as \w+", "queued as QID", l) for l in text.split("\n")]
            return lines, ehlo_keywords(lines)
        # EHLO keywords: ours are Postfix's, in its order, without DSN,
        # SMTPUTF8 and CHUNKING (not implemented here).
        (ours_lines, ours_kw), (theirs_lines, theirs_kw) = strip(ours.stdout), strip(theirs.stdout)
        self.assertEqual(ours_kw, [k for k in theirs_kw if k not in ("DSN", "SMTPUTF8", "CHUNKING")])
        self.assertEqual(ours_lines, theirs_lines)
        self.assertIn("250 2.0.0 Ok: queued as", ours.stdout)
        e = cap.messages[0]
        self.assertEqual((e.mail_from, e.rcpt_tos), ("a@b.test", ["bs@remote.test"]))
        text = e.content.decode().replace("\r\n", "\n")
        self.assertRegex(text, r"Received: from client\.test \(localhost \[127\.0\.0\.1\]\)\n"
                         r"\tby mx\.test\.invalid \(Postfix\) with ESMTP id \w+\n"
                         r"\tfor <bs@remote\.test>; ")
        self.assertIn("\nFrom: a@b.test\n", text)
        self.assertIn("\n.dotted\n", text)
        for line in (r"postfix/smtpd\[\d+\]: connect from localhost\[127\.0\.0\.1\]",
                     r"postfix/smtpd\[\d+\]: \w+: client=localhost\[127\.0\.0\.1\]",
                     r'postfix/smtpd\[\d+\]: warning: do not use ETRN in "sendmail -bs" mode',
                     r"postfix/smtpd\[\d+\]: disconnect from localhost\[127\.0\.0\.1\] ehlo=1 "
                     r"mail=1/2 rcpt=1/2 data=1 rset=1 noop=1 vrfy=1 etrn=0/1 quit=1 "
                     r"unknown=0/1 commands=8/12"):
            self.assertRegex(ref_log, line)
            self.assertRegex(log, line)

    def test_errors_match_postfix(self):
        cases = [
            ([], "x\n"),
            (["-t"], "Subject: none\n\nx\n"),
            (["-B", "9BIT", "a@remote.test"], "x\n"),
            (["-qSremote.test"], None),
            (["-qR"], None),
            (["-bz"], None),
        ]
        ref = DebianPostfix(free_port())
        try:
            theirs = [subprocess.run(["sendmail", "-C", ref.etc] + args, input=text,
                                     capture_output=True, text=True, timeout=30)
                      for args, text in cases]
        finally:
            ref.stop()
        with MTA(extra_master_cf=PICKUP) as m:
            for (args, text), t in zip(cases, theirs):
                with self.subTest(args=args):
                    ours = run(m, [SENDMAIL, "-C", m.config_dir] + args, input=text)
                    self.assertEqual(ours.returncode, 75)
                    self.assertEqual(t.returncode, 75)
                    self.assertEqual(ours.stderr, t.stderr)
                    self.assertRegex(ours.stderr, r"^sendmail: fatal: ")
            # Nothing was left in maildrop/ by the failed submissions.
            self.assertEqual(os.listdir(os.path.join(m.queue_dir, "maildrop")), [])

    def test_mailq_flush_newaliases(self):
        with MTA(extra_master_cf=PICKUP) as m:
            r = run(m, [os.path.join(SBIN, "mailq")])
            self.assertEqual((r.returncode, r.stdout), (0, "Mail queue is empty\n"))
            r = run(m, [SENDMAIL, "-bp"])
            self.assertEqual((r.returncode, r.stdout), (0, "Mail queue is empty\n"))
            r = run(m, [SENDMAIL, "-q"])
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            # As Postfix: the site must be eligible for fast flush.
            r = run(m, [SENDMAIL, "-qRnosuch.test"])
            self.assertEqual(r.returncode, 69)
            self.assertEqual(r.stderr, 'postqueue: fatal: Flush service is not configured '
                             'for destination "nosuch.test"\n')
            # newaliases runs postalias on alias_database (never on the
            # host's /etc/aliases here); Debian's postalias reads the table.
            m.write("aliases", "postmaster: root\nroot: admin@remote.test\n")
            m.set_main(alias_database="hash:" + m.path("aliases"))
            r = run(m, [os.path.join(SBIN, "newaliases")])
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            empty = os.path.join(m.dir, "empty")
            os.makedirs(empty)
            open(os.path.join(empty, "main.cf"), "w").close()
            r = subprocess.run(["/usr/sbin/postalias", "-c", empty, "-q", "root",
                                "hash:" + m.path("aliases")], capture_output=True, text=True)
            self.assertEqual((r.returncode, r.stdout), (0, "admin@remote.test\n"))
            m.set_main(alias_database="")
            self.assertEqual(run(m, [os.path.join(SBIN, "newaliases")]).returncode, 0)

    def test_not_implemented_options_refused(self):
        with MTA(start=False) as m:
            for args in (["-bv", "a@remote.test"], ["-v", "a@remote.test"],
                         ["-XV", "a@remote.test"]):
                r = run(m, [SENDMAIL] + args, input="x\n")
                self.assertEqual(r.returncode, 75, args)
                self.assertIn("is not implemented by this mail system", r.stderr)


class LocalUsers(unittest.TestCase):
    """Submission as an ordinary user through the set-group-id postdrop."""

    def test_nobody_submits_with_t_and_f(self):
        with Capture() as cap, MTA(main_cf={"relayhost": "[127.0.0.1]:%d" % cap.port},
                                   extra_master_cf=PICKUP) as m:
            sbin = setgid_sbin(m)
            listed = "alternate_config_directories = %s\n" % m.config_dir
            r = as_user(m, [sbin + "/sendmail", "-t"], default_main_cf=listed,
                        input="Subject: nb\nTo: nb@remote.test\nBcc: secret@remote.test\n\nhi\n")
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            r = as_user(m, [sbin + "/sendmail", "-f", "app@host", "u@remote.test"],
                        default_main_cf=listed, input="Subject: nb2\n\nhi\n")
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            cap.wait(2)
            by_sender = {e.mail_from: e for e in cap.messages}
            self.assertEqual(sorted(by_sender), ["app@host", "nobody@mx.test.invalid"],
                             [(e.mail_from, e.rcpt_tos) for e in cap.messages])
            self.assertEqual(sorted(by_sender["nobody@mx.test.invalid"].rcpt_tos),
                             ["nb@remote.test", "secret@remote.test"])
            self.assertEqual(by_sender["app@host"].rcpt_tos, ["u@remote.test"])
            text = by_sender["nobody@mx.test.invalid"].content.decode()
            self.assertNotIn("secret", text)
            self.assertIn("(Postfix, from userid 65534)", text)
            self.assertIn("From: nobody <nobody@mx.test.invalid>", text)
            m.wait_log(r"uid=65534 from=<nobody>")

    def test_unlisted_config_refused(self):
        """A set-group-id postdrop refuses a MAIL_CONFIG that the default
        main.cf does not list (Postfix 3.7: "postdrop: error: unauthorized
        configuration directory name: DIR"); nothing is queued."""
        with MTA(start=False) as m:
            os.makedirs(m.queue_dir)
            sbin = setgid_sbin(m)
            r = as_user(m, [sbin + "/sendmail", "u@remote.test"], input="x\n",
                        default_main_cf="alternate_config_directories = /elsewhere\n")
            self.assertEqual(r.returncode, 75)
            self.assertIn("postdrop: error: unauthorized configuration directory name: %s\n"
                          % m.config_dir, r.stderr)
            self.assertIn('postdrop: fatal: specify "alternate_config_directories = %s" or '
                          '"multi_instance_directories = %s" in /etc/postfix/main.cf\n'
                          % (m.config_dir, m.config_dir), r.stderr)
            self.assertIn("sendmail: fatal: nobody(65534): unable to execute %s/postdrop -r: "
                          "Application error" % sbin, r.stderr)
            # -C is checked by sendmail itself, as Postfix's sendmail does.
            r = as_user(m, [sbin + "/sendmail", "-C", m.config_dir, "u@remote.test"],
                        input="x\n", mail_config=False)
            self.assertEqual(r.returncode, 75)
            self.assertTrue(r.stderr.startswith(
                "sendmail: error: unauthorized configuration directory name: %s\n" % m.config_dir),
                r.stderr)

    def test_maildrop_is_private_and_durable(self):
        """sendmail's exit status 0 means the file is complete on disk;
        other users can neither list, read nor remove it."""
        with MTA(extra_master_cf="") as m:      # no pickup: the file stays
            sbin = setgid_sbin(m)
            listed = "alternate_config_directories = %s\n" % m.config_dir
            r = as_user(m, [sbin + "/sendmail", "u@remote.test"], default_main_cf=listed,
                        input="Subject: private\n\nsecret text\n")
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            drop = os.path.join(m.queue_dir, "maildrop")
            files = os.listdir(drop)
            self.assertEqual(len(files), 1)
            st = os.stat(os.path.join(drop, files[0]))
            self.assertEqual(st.st_uid, 65534)
            self.assertTrue(st.st_mode & stat.S_IXUSR, "complete mark set")
            dst = os.stat(drop)
            self.assertEqual(stat.S_IMODE(dst.st_mode), 0o1730)
            path = os.path.join(drop, files[0])
            for cmd in (["ls", drop], ["cat", path], ["rm", "-f", path]):
                r = as_user(m, cmd, user="daemon", group="daemon")
                self.assertNotEqual(r.returncode, 0, cmd)
            self.assertTrue(os.path.exists(path))
            # postcat shows it (root); then pickup takes it.
            r = m.command("postcat", "-q", files[0])
            self.assertIn("*** ENVELOPE RECORDS maildrop/%s ***" % files[0], r.stdout)
            self.assertIn("recipient: u@remote.test", r.stdout)
            self.assertIn("secret text", r.stdout)
            with open(m.path("master.cf"), "a") as f:
                f.write(PICKUP)
            m.reload()
            m.wait_log(r"\w+: uid=65534 from=<nobody>")
            wait_for(lambda: os.listdir(drop) == [], 30, what="maildrop/ to empty")

    def test_bad_maildrop_files(self):
        """pickup trusts nothing in maildrop/: a malformed file goes to
        corrupt/, a symlink is removed, a file still being written stays."""
        with MTA(extra_master_cf=PICKUP) as m:
            drop = os.path.join(m.queue_dir, "maildrop")
            bad = os.path.join(drop, "ABCDE12")
            rec = lambda t, d: t + struct.pack(">I", len(d)) + d
            with open(bad, "wb") as f:      # no time record first
                f.write(rec(b"S", b"a@b.test") + rec(b"R", b"c@d.test") + rec(b"E", b""))
            os.chmod(bad, 0o744)
            os.symlink("/etc/passwd", os.path.join(drop, "ABCDE13"))
            partial = os.path.join(drop, "ABCDE14")
            with open(partial, "wb") as f:
                f.write(rec(b"T", b"1 0"))
            os.chmod(partial, 0o644)
            r = run(m, [SENDMAIL, "u@remote.test"], input="x\n")   # wakes pickup
            self.assertEqual(r.returncode, 0)
            m.wait_log(r"warning: ABCDE12: uid=0: records out of order; moving the file to corrupt/")
            wait_for(lambda: os.path.exists(os.path.join(m.queue_dir, "corrupt", "ABCDE12")), 10)
            m.wait_log(r"warning: maildrop/ABCDE13: not a regular file; removed")
            self.assertFalse(os.path.lexists(os.path.join(drop, "ABCDE13")))
            self.assertTrue(os.path.exists(partial))
            self.assertTrue(os.path.exists("/etc/passwd"))


if __name__ == "__main__":
    unittest.main()
