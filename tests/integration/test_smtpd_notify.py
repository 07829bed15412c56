"""test_smtpd_notify.py - smtpd's postmaster notices (notify_classes).

Real smtpd sessions that make errors of each class; the notice is queued
by smtpd, delivered by qmgr and smtp to a capture server (relayhost), and
checked there: envelope, headers, the transcript. Every expectation is
what Debian's Postfix 3.7.11 did with the same main.cf settings and the
same sessions (postfix -c DIR start with relayhost pointing at the same
kind of capture server); the comments quote it.
"""
import os
import re
import shutil
import socket
import tempfile
import time
import unittest

from capture import Capture
from mta import MTA, wait_for
from sasl_util import DovecotAuth, make_cert
from smtpd_util import Client

HOST = "mx.test.invalid"
DOUBLE_BOUNCE = "double-bounce@" + HOST


def notify_cf(cap, **kw):
    cf = {
        "relayhost": "[127.0.0.1]:%d" % cap.port,
        "mydestination": "",
        # The test client is no trusted network: relaying is refused.
        "mynetworks": "192.0.2.0/24",
        "notify_classes": "resource, software, policy, protocol",
        "relay_domains": "relay.example",
        "transport_maps": "inline:{relay.example=discard:}",
    }
    cf.update(kw)
    return cf


def session(port, lines):
    """Run the commands (a DATA line is followed by its message); the
    replies, one string per command."""
    c = Client(port)
    out = []
    try:
        for line in lines:
            out.append(c.cmd(line))
            # Pipelined commands in one write get a reply each; a
            # message (it ends in CRLF.) gets one.
            if not line.endswith("\r\n."):
                out.extend(c.reply() for _ in range(line.count("\r\n")))
    finally:
        c.close()
    return out


def notices(cap):
    with cap.lock:
        return [e for e in cap.messages if e.mail_from == DOUBLE_BOUNCE]


def notice_for(cap, helo, timeout=20):
    """The notice whose transcript holds 'In:  HELO|EHLO helo'."""
    pat = re.compile(r"^ In:  (HELO|EHLO) %s\r$" % re.escape(helo), re.M)
    return wait_for(lambda: next((e for e in notices(cap)
                                  if pat.search(e.content.decode("latin-1"))), None),
                    timeout, what="a notice for %s" % helo)


def split_notice(env):
    text = env.content.decode("latin-1")
    head, body = text.split("\r\n\r\n", 1)
    return head.split("\r\n"), body


class Transcript(unittest.TestCase):
    """The notice itself, with notify_classes listing the four classes."""

    @classmethod
    def setUpClass(cls):
        cls.cap = Capture()
        cls.m = MTA(main_cf=notify_cf(cls.cap))

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.cap.stop()

    def test_protocol_notice(self):
        # Postfix 3.7 (HELO, an unknown command, QUIT): envelope
        # double-bounce@HOST -> postmaster@HOST (log: orig_to=<postmaster>),
        #   Received: by mx.ref.test (Postfix)
        #   \tid 77F8EABC335; Mon,  7 Dec 2026 17:33:30 +0000 (UTC)
        #   Date: Mon,  7 Dec 2026 17:33:30 +0000 (UTC)
        #   From: Mail Delivery System <MAILER-DAEMON@mx.ref.test>
        #   To: Postmaster <postmaster@mx.ref.test>
        #   Subject: Postfix SMTP server: errors from localhost[127.0.0.1]
        #   Message-Id: <20261207173330.77F8EABC335@mx.ref.test>
        # and the body below; each transcript line starts with a space.
        replies = session(self.m.smtp_port, ["HELO proto.example", "FOO bar", "QUIT"])
        self.assertEqual(replies[1], "500 5.5.2 Error: command not recognized")
        env = notice_for(self.cap, "proto.example")
        self.assertEqual(env.rcpt_tos, ["postmaster@" + HOST])
        head, body = split_notice(env)
        m = re.fullmatch(r"Received: by %s \(Postfix\)" % re.escape(HOST), head[0])
        self.assertTrue(m, head)
        m = re.fullmatch(r"\tid ([0-9A-F]+); (\w\w\w, [ 0-9]\d \w\w\w \d{4} [0-9:]{8} [-+]\d{4} \(\S+\))",
                         head[1])
        self.assertTrue(m, head)
        qid, date = m.group(1), m.group(2)
        self.assertEqual(head[2], "Date: " + date)
        self.assertEqual(head[3:6], [
            "From: Mail Delivery System <MAILER-DAEMON@%s>" % HOST,
            "To: Postmaster <postmaster@%s>" % HOST,
            "Subject: Postfix SMTP server: errors from localhost[127.0.0.1]"])
        self.assertRegex(head[6], r"^Message-Id: <\d{14}\.%s@%s>$" % (qid, re.escape(HOST)))
        self.assertEqual(len(head), 7)
        self.assertEqual(body, "Transcript of session follows.\r\n\r\n"
                         " Out: 220 %s ESMTP Postfix\r\n"
                         " In:  HELO proto.example\r\n"
                         " Out: 250 %s\r\n"
                         " In:  FOO bar\r\n"
                         " Out: 500 5.5.2 Error: command not recognized\r\n"
                         " In:  QUIT\r\n"
                         " Out: 221 2.0.0 Bye\r\n"
                         "\r\n\r\n"
                         "For other details, see the local mail logfile\r\n" % (HOST, HOST))
        # Postfix's cleanup logs "QID: message-id=<...>"; ours is smtpd's.
        self.m.wait_log(r"postfix/smtpd\[\d+\]: %s: message-id=<\d{14}\.%s@%s>"
                        % (qid, qid, re.escape(HOST)))
        self.m.wait_log(r"%s: from=<%s>, size=\d+, nrcpt=1 \(queue active\)"
                        % (qid, re.escape(DOUBLE_BOUNCE)))
        self.m.wait_log(r"%s: to=<postmaster@%s>, orig_to=<postmaster>, .*status=sent"
                        % (qid, re.escape(HOST)))

    def test_ehlo_reply_lines_and_long_lines(self):
        # Postfix: every line of a multi-line reply is its own "Out:" line;
        # a line longer than 78 columns breaks at a space, the rest
        # indented by 4 more (a word longer than the line stays whole):
        #    In:  FOO
        #        xxxx...(150)
        long = "FOO " + "x" * 150
        session(self.m.smtp_port, ["EHLO wrap.example", long, "QUIT"])
        head, body = split_notice(notice_for(self.cap, "wrap.example"))
        lines = body.split("\r\n")
        self.assertIn(" Out: 250-%s" % HOST, lines)
        self.assertIn(" Out: 250-PIPELINING", lines)
        self.assertIn(" Out: 250 CHUNKING", lines)
        i = lines.index(" In:  FOO")
        self.assertEqual(lines[i + 1], "     " + "x" * 150)
        self.assertEqual(lines[i + 2], " Out: 500 5.5.2 Error: command not recognized")

    def test_words_wrap_at_78_columns(self):
        # Postfix's transcript of the same two lines (line_wrap(): at most
        # 78 columns after the leading space, 74 after the indent):
        #    In:  FOO w00 w01 w02 w03 w04 w05 w06 w07 w08 w09 w10 w11 w12 w13 w14 w15 w16
        #        w17 w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34
        #        w35 w36 w37 w38 w39
        #    Out: 500 5.5.2 Error: command not recognized
        #    In:  FOO
        #        abbbb...(80 b)
        #        c d
        words = " ".join("w%02d" % i for i in range(40))
        session(self.m.smtp_port, ["HELO words.example", "FOO " + words,
                                   "FOO a" + "b" * 80 + " c d", "QUIT"])
        head, body = split_notice(notice_for(self.cap, "words.example"))
        self.assertIn(
            " In:  FOO " + " ".join("w%02d" % i for i in range(17)) + "\r\n"
            "     " + " ".join("w%02d" % i for i in range(17, 35)) + "\r\n"
            "     " + " ".join("w%02d" % i for i in range(35, 40)) + "\r\n"
            " Out: 500 5.5.2 Error: command not recognized\r\n"
            " In:  FOO\r\n"
            "     a" + "b" * 80 + "\r\n"
            "     c d\r\n"
            " Out: 500 5.5.2 Error: command not recognized\r\n", body)

    def test_lost_connection(self):
        # Postfix: an error, then the client hangs up:
        #   (transcript)
        #
        #   Session aborted, reason: lost connection
        #
        #   For other details, see the local mail logfile
        c = Client(self.m.smtp_port)
        c.cmd("HELO lost.example")
        c.cmd("BAR")
        c.close()
        head, body = split_notice(notice_for(self.cap, "lost.example"))
        self.assertTrue(body.endswith(
            " In:  BAR\r\n Out: 500 5.5.2 Error: command not recognized\r\n\r\n"
            "Session aborted, reason: lost connection\r\n\r\n"
            "For other details, see the local mail logfile\r\n"), body)

    def test_no_error_no_notice(self):
        # Postfix: a session without errors sends nothing.
        session(self.m.smtp_port, ["HELO clean.example", "MAIL FROM:<a@b.example>",
                                   "RCPT TO:<a@relay.example>", "RSET", "QUIT"])
        session(self.m.smtp_port, ["HELO marker.example", "FOO", "QUIT"])
        notice_for(self.cap, "marker.example")
        self.assertFalse([e for e in notices(self.cap)
                          if b"clean.example" in e.content])


# Sessions and the class Postfix 3.7 gave each (a notice with only that
# class in notify_classes; None: no notice with any of the four).
SCENARIOS = {
    # 500 5.5.2 Error: command not recognized
    "unknown": (["HELO unknown.example", "FOO bar", "QUIT"], "protocol"),
    # 454 4.7.1 <x@elsewhere.example>: Relay access denied
    "relay": (["HELO relay.example", "MAIL FROM:<a@b.example>",
               "RCPT TO:<x@elsewhere.example>", "QUIT"], "policy"),
    # 503 5.5.1 Error: nested MAIL command
    "nested": (["HELO nested.example", "MAIL FROM:<a@b.example>",
                "MAIL FROM:<a@b.example>", "QUIT"], "protocol"),
    # 503 5.5.1 Error: need MAIL command
    "needmail": (["HELO needmail.example", "RCPT TO:<x@relay.example>", "QUIT"], "protocol"),
    # 501 5.1.3 Bad recipient address syntax
    "badsyntax": (["HELO badsyntax.example", "MAIL FROM:<a@b.example>",
                   "RCPT TO:<bad address", "QUIT"], "protocol"),
    # 501 Syntax: HELO hostname
    "helosyntax": (["HELO", "HELO helosyntax.example", "QUIT"], "protocol"),
    # 452 4.5.3 Error: too many recipients (smtpd_recipient_limit = 2)
    "toomany": (["HELO toomany.example", "MAIL FROM:<a@b.example>",
                 "RCPT TO:<a@relay.example>", "RCPT TO:<b@relay.example>",
                 "RCPT TO:<c@relay.example>", "RCPT TO:<d@relay.example>", "QUIT"], None),
    # 502 5.5.1 VRFY command is disabled
    "vrfy": (["HELO vrfy.example", "VRFY root", "QUIT"], "policy"),
    # 554 5.5.1 Error: no valid recipients
    "novalid": (["HELO novalid.example", "MAIL FROM:<a@b.example>", "DATA", "QUIT"], None),
    # 552 5.3.4 Message size exceeds fixed limit
    "sizelimit": (["HELO sizelimit.example", "MAIL FROM:<a@b.example> SIZE=20000000",
                   "QUIT"], "policy"),
    # 451 4.3.5 Server configuration error (unknown restriction)
    "software": (["HELO software.example", "MAIL FROM:<sw@x.example>",
                  "RCPT TO:<a@relay.example>", "QUIT"], "software"),
    # 550 5.1.1 <nobody@local.example>: Recipient address rejected: User
    # unknown in local recipient table
    "unknownuser": (["HELO unknownuser.example", "MAIL FROM:<a@b.example>",
                     "RCPT TO:<nobody@local.example>", "QUIT"], None),
    # 503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP
    # command pipelining (smtpd_data_restrictions = reject_unauth_pipelining)
    "pipeline": (["HELO pipeline.example",
                  "MAIL FROM:<a@b.example>\r\nRCPT TO:<a@relay.example>\r\nDATA",
                  "QUIT"], "protocol"),
    # 550 5.7.1 bad subject (header_checks REJECT)
    "hdrreject": (["HELO hdrreject.example", "MAIL FROM:<a@b.example>",
                   "RCPT TO:<a@relay.example>", "DATA",
                   "Subject: rejectme\r\n\r\nbody\r\n.", "QUIT"], "policy"),
}


class Classes(unittest.TestCase):
    """Which error belongs to which class: the same sessions with one
    class at a time in notify_classes."""

    def run_class(self, cls):
        with Capture() as cap:
            m = MTA(main_cf=notify_cf(
                cap, notify_classes=cls, smtpd_recipient_limit="2",
                disable_vrfy_command="yes", mydestination="local.example",
                local_recipient_maps="inline:{known@local.example=1}",
                smtpd_restriction_classes="unknownclass",
                unknownclass="reject_bogus_thing",
                smtpd_sender_restrictions="check_sender_access inline:{sw@x.example=unknownclass}",
                smtpd_data_restrictions="reject_unauth_pipelining",
                # Postfix 3.7's default (ours is yes, Postfix 3.9's).
                smtpd_forbid_unauth_pipelining="no"),
                start=False)
            try:
                m.write("hc", "/^Subject: rejectme/ REJECT bad subject\n")
                m.set_main(header_checks="regexp:" + m.path("hc"))
                m.start()
                for name, (lines, _) in SCENARIOS.items():
                    session(m.smtp_port, lines)
                want = sorted(n for n, (_, c) in SCENARIOS.items() if c == cls)
                # Each expected notice arrives; then no other does. The
                # HELO name of each session is its name + ".example".
                for name in want:
                    notice_for(cap, name + ".example")
                cap.settle(2)
                got = sorted(n for n in SCENARIOS
                             if any(re.search(r"^ In:  HELO %s\.example\r$" % n,
                                              e.content.decode("latin-1"), re.M)
                                    for e in notices(cap)))
                self.assertEqual(got, want)
                return m.log()
            finally:
                m.cleanup()

    def test_policy(self):
        log = self.run_class("policy")
        self.assertIn("Relay access denied", log)

    def test_protocol(self):
        self.run_class("protocol")

    def test_software(self):
        log = self.run_class("software")
        self.assertIn('warning: unknown smtpd restriction: "reject_bogus_thing"', log)

    def test_resource_none(self):
        # None of these sessions has a resource error.
        self.run_class("resource")


class OneClass(unittest.TestCase):

    def test_default_classes_skip_policy_and_protocol(self):
        # Postfix with notify_classes at its default (resource, software):
        # no notice for a relay refusal or an unknown command.
        with Capture() as cap, MTA(main_cf=notify_cf(cap, notify_classes="resource, software")) as m:
            for name in ("unknown", "relay", "nested"):
                session(m.smtp_port, SCENARIOS[name][0])
            cap.settle(3)
            self.assertEqual(notices(cap), [])
            self.assertNotRegex(m.log(), r"smtpd\[\d+\]: [0-9A-F]+: message-id=")

    def test_resource_insufficient_storage(self):
        # Postfix with queue_minfree larger than the disk, at its default
        # notify_classes: "452 4.3.1 Insufficient system storage" is a
        # resource error, and the notice is sent (the notice itself is not
        # held back by queue_minfree: it is the mail system's own).
        with Capture() as cap, MTA(main_cf=notify_cf(
                cap, notify_classes="resource, software",
                queue_minfree="999999999999999", message_size_limit="0")) as m:
            r = session(m.smtp_port, ["HELO storage.example", "MAIL FROM:<a@b.example>", "QUIT"])
            self.assertEqual(r[1], "452 4.3.1 Insufficient system storage")
            head, body = split_notice(notice_for(cap, "storage.example"))
            self.assertIn(" Out: 452 4.3.1 Insufficient system storage\r\n", body)

    def test_bounce_class(self):
        # Postfix with notify_classes = bounce, bounce_notice_recipient =
        # bouncer, error_notice_recipient = errorer: a message refused as
        # too big ("552 5.3.4 Error: message file too big") goes to
        # bouncer@HOST, but its To: header names the error recipient:
        #   To: Postmaster <errorer@mx.ref.test>
        with Capture() as cap, MTA(main_cf=notify_cf(
                cap, notify_classes="bounce", bounce_notice_recipient="bouncer",
                error_notice_recipient="errorer", message_size_limit="2000")) as m:
            data = "Subject: x\r\n\r\n" + ("y" * 70 + "\r\n") * 40 + "."
            r = session(m.smtp_port, ["HELO big.example", "MAIL FROM:<a@b.example>",
                                      "RCPT TO:<a@relay.example>", "DATA", data, "QUIT"])
            self.assertEqual(r[4], "552 5.3.4 Error: message file too big")
            env = notice_for(cap, "big.example")
            self.assertEqual(env.rcpt_tos, ["bouncer@" + HOST])
            head, body = split_notice(env)
            self.assertIn("To: Postmaster <errorer@%s>" % HOST, head)
            self.assertIn(" Out: 354 End data with <CR><LF>.<CR><LF>\r\n"
                          " Out: 552 5.3.4 Error: message file too big\r\n", body)
            # No message content in the transcript.
            self.assertNotIn("yyyy", body)

    def test_myorigin(self):
        # Postfix with myorigin = origin.example (myhostname mx.ref.test):
        # envelope double-bounce@mx.ref.test -> postmaster@origin.example,
        #   From: Mail Delivery System <MAILER-DAEMON@mx.ref.test>
        #   To: Postmaster <postmaster@origin.example>
        #   Message-Id: <20261207175318.B4239ABC5A4@mx.ref.test>
        with Capture() as cap, MTA(main_cf=notify_cf(cap, myorigin="origin.example")) as m:
            session(m.smtp_port, ["HELO origin.example", "FOO", "QUIT"])
            env = notice_for(cap, "origin.example")
            self.assertEqual(env.mail_from, DOUBLE_BOUNCE)
            self.assertEqual(env.rcpt_tos, ["postmaster@origin.example"])
            head, body = split_notice(env)
            self.assertIn("From: Mail Delivery System <MAILER-DAEMON@%s>" % HOST, head)
            self.assertIn("To: Postmaster <postmaster@origin.example>", head)
            self.assertRegex(head[6], r"^Message-Id: <\d{14}\.[0-9A-F]+@%s>$" % re.escape(HOST))

    def test_undeliverable_notice_is_dropped(self):
        # Postfix with error_notice_recipient = pm@fail.example and
        # fail.example routed to "error:5.1.1 nope": the notice bounces,
        # and that is the end of it (no notice, no bounce about it):
        #   postfix/error[8307]: CA6EAABC4ED: to=<pm@fail.example>, relay=none,
        #     ..., dsn=5.1.1, status=bounced (nope)
        #   postfix/bounce[8308]: warning: CA6EAABC4ED: undeliverable
        #     postmaster notification discarded
        #   postfix/qmgr[8257]: CA6EAABC4ED: removed
        with Capture() as cap, MTA(main_cf=notify_cf(
                cap, notify_classes="protocol, 2bounce, bounce",
                error_notice_recipient="pm@fail.example",
                transport_maps="inline:{relay.example=discard:, "
                               "{fail.example=error:5.1.1 nope}}")) as m:
            session(m.smtp_port, ["HELO loop.example", "FOO", "QUIT"])
            m.wait_log(r"smtpd\[\d+\]: ([0-9A-F]+): message-id=")
            qid = re.search(r"smtpd\[\d+\]: ([0-9A-F]+): message-id=", m.log()).group(1)
            m.wait_log(r"%s: to=<pm@fail.example>, relay=none, .*dsn=5.1.1, "
                       r"status=bounced \(nope\)" % qid)
            m.wait_log(r"warning: %s: undeliverable postmaster notification discarded" % qid)
            m.wait_log(r"%s: removed" % qid)
            cap.settle(2)
            self.assertEqual(cap.messages, [])
            # One message only: the notice itself.
            self.assertEqual(len(re.findall(r"message-id=|notification: ", m.log())), 1)

    def test_unknown_class_is_fatal(self):
        # Postfix: fatal: unknown notify_classes value "bogus" in "policy, bogus"
        with Capture() as cap, MTA(main_cf=notify_cf(cap, notify_classes="policy, bogus"),
                                   start=False) as m:
            m.start(wait_smtp=True)
            # smtpd starts for this connection and ends at its start.
            socket.create_connection((m.addr, m.smtp_port), timeout=5).close()
            m.wait_log(re.escape('fatal: unknown notify_classes value "bogus" in "policy, bogus"'))


class Synchronization(unittest.TestCase):

    def test_pipelining_before_greeting_reply_sends_nothing(self):
        # Postfix 3.7.11 with smtpd_forbid_unauth_pipelining = yes and
        # notify_classes = policy or protocol: "HELO x\r\nNOOP\r\n" in
        # one write gets "554 5.5.0 Error: SMTP protocol synchronization",
        # the session ends, and no notice is sent.
        with Capture() as cap, MTA(main_cf=notify_cf(cap)) as m:
            c = Client(m.smtp_port)
            self.assertEqual(c.cmd("HELO sync.example\r\nNOOP"),
                             "554 5.5.0 Error: SMTP protocol synchronization")
            c.close()
            m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\]")
            session(m.smtp_port, ["HELO marker.example", "FOO", "QUIT"])
            notice_for(cap, "marker.example")
            cap.settle(1)
            self.assertEqual(len(notices(cap)), 1)


class AuthNotices(unittest.TestCase):

    def test_auth_failures_are_no_class_auth_syntax_is_protocol(self):
        # Postfix 3.7 with smtpd_sasl_type = dovecot and each class alone:
        # failed and aborted AUTH exchanges send no notice; "AUTH" without
        # a mechanism is a protocol error, and the transcript has the
        # client's AUTH responses:
        #    In:  AUTH PLAIN
        #    Out: 334
        #    In:  *
        #    Out: 501 5.7.0 Authentication aborted
        #    In:  AUTH PLAIN
        #    Out: 334
        #    In:  @@@
        #    Out: 535 5.7.8 Error: authentication failed: Invalid base64 data in continued
        #        response
        #    In:  AUTH BOGUS
        #    Out: 535 5.7.8 Error: authentication failed: Invalid authentication mechanism
        #    In:  AUTH
        #    Out: 501 5.5.4 Syntax: AUTH mechanism
        tmp = tempfile.mkdtemp(prefix="notify-sasl-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o755)			# smtpd (mail_owner) reaches the socket
        dovecot = DovecotAuth(tmp, {"alice": "secret"})
        self.addCleanup(dovecot.stop)
        with Capture() as cap, MTA(main_cf=notify_cf(
                cap, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="dovecot",
                smtpd_sasl_path=dovecot.socket)) as m:
            auth = ["AUTH PLAIN", "*", "AUTH PLAIN", "@@@", "AUTH BOGUS"]
            r = session(m.smtp_port, ["EHLO authfail.example"] + auth + ["QUIT"])
            self.assertEqual(r[2], "501 5.7.0 Authentication aborted")
            self.assertEqual(r[4], "535 5.7.8 Error: authentication failed: "
                                   "Invalid base64 data in continued response")
            self.assertEqual(r[5], "535 5.7.8 Error: authentication failed: "
                                   "Invalid authentication mechanism")
            r = session(m.smtp_port, ["EHLO authsyntax.example"] + auth + ["AUTH", "QUIT"])
            self.assertEqual(r[6], "501 5.5.4 Syntax: AUTH mechanism")
            head, body = split_notice(notice_for(cap, "authsyntax.example"))
            self.assertIn(" In:  AUTH PLAIN\r\n Out: 334\r\n In:  *\r\n"
                          " Out: 501 5.7.0 Authentication aborted\r\n"
                          " In:  AUTH PLAIN\r\n Out: 334\r\n In:  @@@\r\n"
                          " Out: 535 5.7.8 Error: authentication failed: Invalid base64 data in"
                          " continued\r\n     response\r\n"
                          " In:  AUTH BOGUS\r\n"
                          " Out: 535 5.7.8 Error: authentication failed: Invalid authentication"
                          " mechanism\r\n"
                          " In:  AUTH\r\n Out: 501 5.5.4 Syntax: AUTH mechanism\r\n", body)
            cap.settle(1)
            self.assertEqual(len(notices(cap)), 1)


class Limits(unittest.TestCase):

    def test_rate_limit_is_policy_starttls_required_is_none(self):
        # Postfix 3.7 with smtpd_client_message_rate_limit = 2: the third
        # MAIL gets "450 4.7.1 Error: too much mail from 127.0.0.1", a
        # policy error (a notice with notify_classes = policy, none with
        # protocol). With smtpd_tls_security_level = encrypt, "530 5.7.0
        # Must issue a STARTTLS command first" is no error of any class.
        tmp = tempfile.mkdtemp(prefix="notify-tls-")
        self.addCleanup(shutil.rmtree, tmp, True)
        cert, key = make_cert(tmp)
        with Capture() as cap, MTA(main_cf=notify_cf(
                cap, notify_classes="policy", smtpd_client_message_rate_limit="2")) as m:
            r = session(m.smtp_port, ["HELO rate.example", "MAIL FROM:<a@b.example>", "RSET",
                                      "MAIL FROM:<a@b.example>", "RSET",
                                      "MAIL FROM:<a@b.example>", "QUIT"])
            self.assertEqual(r[5], "450 4.7.1 Error: too much mail from 127.0.0.1")
            head, body = split_notice(notice_for(cap, "rate.example"))
            self.assertIn(" Out: 450 4.7.1 Error: too much mail from 127.0.0.1\r\n", body)
            m.set_main(notify_classes="policy, protocol, resource, software",
                       smtpd_client_message_rate_limit="0",
                       smtpd_tls_security_level="encrypt",
                       smtpd_tls_cert_file=cert, smtpd_tls_key_file=key)
            m.reload()
            time.sleep(1)
            r = session(m.smtp_port, ["EHLO tlsreq.example", "MAIL FROM:<a@b.example>", "QUIT"])
            self.assertEqual(r[1], "530 5.7.0 Must issue a STARTTLS command first")
            session(m.smtp_port, ["HELO marker.example", "FOO", "QUIT"])
            notice_for(cap, "marker.example")
            cap.settle(1)
            self.assertEqual(len(notices(cap)), 2)


class Aborted(unittest.TestCase):

    def test_too_many_errors_and_timeout(self):
        # Postfix with smtpd_hard_error_limit = 2:
        #    In:  FOO two
        #    Out: 500 5.5.2 Error: command not recognized
        #    Out: 421 4.7.0 mx.ref.test Error: too many errors
        #
        #   Session aborted, reason: too many errors
        # and with smtpd_timeout = 2s, after an error, silence:
        #    Out: 421 4.4.2 mx.ref.test Error: timeout exceeded
        #
        #   Session aborted, reason: timeout
        with Capture() as cap, MTA(main_cf=notify_cf(
                cap, smtpd_hard_error_limit="2", smtpd_timeout="2s")) as m:
            c = Client(m.smtp_port)
            c.cmd("HELO errors.example")
            c.cmd("FOO one")
            # Postfix sends the 421 right after the second error's reply.
            self.assertEqual(c.cmd("FOO two"), "500 5.5.2 Error: command not recognized")
            self.assertEqual(c.reply(), "421 4.7.0 %s Error: too many errors" % HOST)
            c.close()
            head, body = split_notice(notice_for(cap, "errors.example"))
            self.assertIn(" In:  FOO two\r\n Out: 500 5.5.2 Error: command not recognized\r\n"
                          " Out: 421 4.7.0 %s Error: too many errors\r\n"
                          "\r\nSession aborted, reason: too many errors\r\n" % HOST, body)
            c = Client(m.smtp_port)
            c.cmd("HELO timeout.example")
            c.cmd("BAR")
            self.assertEqual(c.reply(), "421 4.4.2 %s Error: timeout exceeded" % HOST)
            c.close()
            head, body = split_notice(notice_for(cap, "timeout.example"))
            self.assertIn(" In:  BAR\r\n Out: 500 5.5.2 Error: command not recognized\r\n"
                          " Out: 421 4.4.2 %s Error: timeout exceeded\r\n"
                          "\r\nSession aborted, reason: timeout\r\n" % HOST, body)


class FlushThreshold(unittest.TestCase):

    def test_flush_on_rset_ehlo_and_end_of_data(self):
        # Postfix with smtpd_history_flush_threshold = 4:
        # EHLO, an unknown command, NOOP, NOOP, RSET: at RSET (more than 4
        # lines) the notice goes out with the transcript up to "In:  RSET";
        # the rest of the session (NOOP, HELO, NOOP, EHLO, NOOP, QUIT)
        # has no error and sends nothing more.
        # An unknown command, then a message that is queued (end of DATA):
        # no notice at all; a message clears the errors before it.
        with Capture() as cap, MTA(main_cf=notify_cf(
                cap, notify_classes="protocol", smtpd_history_flush_threshold="4")) as m:
            session(m.smtp_port, ["EHLO f1.example", "FOO one", "NOOP", "NOOP", "RSET",
                                  "NOOP", "HELO f2.example", "NOOP", "EHLO f3.example",
                                  "NOOP", "QUIT"])
            head, body = split_notice(notice_for(cap, "f1.example"))
            self.assertTrue(body.endswith(
                " Out: 500 5.5.2 Error: command not recognized\r\n"
                " In:  NOOP\r\n Out: 250 2.0.0 Ok\r\n"
                " In:  NOOP\r\n Out: 250 2.0.0 Ok\r\n"
                " In:  RSET\r\n\r\n\r\n"
                "For other details, see the local mail logfile\r\n"), body)
            r = session(m.smtp_port, ["HELO d1.example", "FOO one", "MAIL FROM:<a@b.example>",
                                      "RCPT TO:<a@relay.example>", "DATA",
                                      "Subject: x\r\n\r\nbody\r\n.", "NOOP", "QUIT"])
            self.assertTrue(r[5].startswith("250 2.0.0 Ok: queued as "), r)
            # A marker session: its notice arrives after any of the above.
            session(m.smtp_port, ["HELO marker.example", "FOO", "QUIT"])
            notice_for(cap, "marker.example")
            cap.settle(1)
            self.assertEqual(len(notices(cap)), 2)
            self.assertFalse([e for e in notices(cap) if b"d1.example" in e.content
                              or b"f3.example" in e.content])

    def test_errors_after_a_message(self):
        # Postfix (default threshold): a queued message, then an error:
        # the notice has the whole session, the message's "Out: 354" and
        # "Out: 250 2.0.0 Ok: queued as ..." lines but not its content.
        with Capture() as cap, MTA(main_cf=notify_cf(cap, notify_classes="protocol")) as m:
            session(m.smtp_port, ["HELO d3.example", "MAIL FROM:<a@b.example>",
                                  "RCPT TO:<a@relay.example>", "DATA",
                                  "Subject: x\r\n\r\nsecret body\r\n.", "FOO two", "QUIT"])
            head, body = split_notice(notice_for(cap, "d3.example"))
            self.assertRegex(body, r" In:  DATA\r\n Out: 354 End data with <CR><LF>\.<CR><LF>\r\n"
                             r" Out: 250 2\.0\.0 Ok: queued as [0-9A-F]+\r\n In:  FOO two\r\n")
            self.assertNotIn("secret", body)


class Overshoot(unittest.TestCase):

    def test_overshoot_limit(self):
        # Postfix with smtpd_recipient_limit = 2,
        # smtpd_recipient_overshoot_limit = 1, smtpd_hard_error_limit = 3:
        # RCPT 3..6 get "452 4.5.3 Error: too many recipients"; the first
        # of them is no error, the next three are, and the next command
        # gets "421 4.7.0 mx.ref.test Error: too many errors".
        lines = ["HELO os.example", "MAIL FROM:<a@b.example>"] + [
            "RCPT TO:<%s@relay.example>" % u for u in "abcdef"] + ["QUIT"]
        with Capture() as cap, MTA(main_cf=notify_cf(
                cap, smtpd_recipient_limit="2", smtpd_recipient_overshoot_limit="1",
                smtpd_hard_error_limit="3")) as m:
            c = Client(m.smtp_port)
            r = [c.cmd(x) for x in lines[:-1]]
            self.assertEqual(r[2:4], ["250 2.1.5 Ok"] * 2)
            self.assertEqual(r[4:], ["452 4.5.3 Error: too many recipients"] * 4)
            self.assertEqual(c.reply(), "421 4.7.0 %s Error: too many errors" % HOST)
            c.close()
            # The default limit (1000): six recipients, no trouble.
            m.set_main(smtpd_recipient_overshoot_limit="1000")
            m.reload()
            time.sleep(1)
            r = session(m.smtp_port, lines)
            self.assertEqual(r[4:], ["452 4.5.3 Error: too many recipients"] * 4
                             + ["221 2.0.0 Bye"])


class UnknownTableName(unittest.TestCase):

    def test_show_user_unknown_table_name(self):
        # Postfix: "550 5.1.1 <nobody@local.example>: Recipient address
        # rejected: User unknown in local recipient table"; with
        # show_user_unknown_table_name = no "... rejected: User unknown".
        # Neither is an error of any notify class.
        with Capture() as cap, MTA(main_cf=notify_cf(
                cap, mydestination="local.example",
                local_recipient_maps="inline:{known@local.example=1}",
                relay_recipient_maps="inline:{known@relay.example=1}")) as m:
            r = session(m.smtp_port, ["HELO uu.example", "MAIL FROM:<a@b.example>",
                                      "RCPT TO:<nobody@local.example>",
                                      "RCPT TO:<nobody@relay.example>", "QUIT"])
            self.assertEqual(r[2], "550 5.1.1 <nobody@local.example>: Recipient address "
                             "rejected: User unknown in local recipient table")
            self.assertEqual(r[3], "550 5.1.1 <nobody@relay.example>: Recipient address "
                             "rejected: User unknown in relay recipient table")
            m.set_main(show_user_unknown_table_name="no")
            m.reload()
            time.sleep(1)
            r = session(m.smtp_port, ["HELO uu2.example", "MAIL FROM:<a@b.example>",
                                      "RCPT TO:<nobody@local.example>",
                                      "RCPT TO:<nobody@relay.example>", "QUIT"])
            self.assertEqual(r[2], "550 5.1.1 <nobody@local.example>: Recipient address "
                             "rejected: User unknown")
            self.assertEqual(r[3], "550 5.1.1 <nobody@relay.example>: Recipient address "
                             "rejected: User unknown")
            m.wait_log(re.escape("NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 "
                                 "<nobody@local.example>: Recipient address rejected: "
                                 "User unknown; from=<a@b.example>"))
            cap.settle(2)
            self.assertEqual(notices(cap), [])


if __name__ == "__main__":
    unittest.main()
