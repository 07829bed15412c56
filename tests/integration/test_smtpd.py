"""smtpd: delivery into the queue, access policy, limits, replies, logs."""
import os
import re
import smtplib
import socket
import stat
import subprocess
import unittest

from mta import MTA, free_port
from smtpd_util import Client, read_queue_file, record, smtpd_mta, incoming, wait_incoming

OUTSIDE = "127.0.0.2"           # a client address outside mynetworks


class SmtpdDefault(unittest.TestCase):
    """One instance: mynetworks = 127.0.0.1/32, relay for example.com, and
    Postfix 3.7's smtpd_forbid_unauth_pipelining = no (ours is yes; see
    test_smtpd_guard.py), so that a client may send everything at once."""

    @classmethod
    def setUpClass(cls):
        cls.m = smtpd_mta(
            smtpd_forbid_unauth_pipelining="no",
            mynetworks="127.0.0.1/32",
            relay_domains="example.com",
            relay_recipient_maps="inline:{known@example.com=ok, @example.org=ok}",
            smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination",
            smtpd_recipient_limit="3",
            message_size_limit="20000",
            fast_flush_domains="example.com",
            smtpd_hard_error_limit="100",
            smtpd_error_sleep_time="0")

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def setUp(self):
        for name, _ in incoming(self.m):
            try:
                os.unlink(os.path.join(self.m.queue_dir, "incoming", name))
            except FileNotFoundError:
                pass

    def qfile(self, qid):
        return read_queue_file(os.path.join(self.m.queue_dir, "incoming", qid))

    def test_smtplib_message_is_bytes_sent_plus_received(self):
        body = ("From: a@b.test\r\nTo: known@example.com\r\nSubject: t\r\n"
                "Date: Mon, 23 Nov 2026 08:46:25 +0000\r\n"
                "Message-ID: <p1@b.test>\r\n\r\nline one\r\n.leading dot\r\n\r\nend\r\n")
        s = smtplib.SMTP("127.0.0.1", self.m.smtp_port)
        s.ehlo("client.test")
        s.sendmail("a@b.test", ["known@example.com"], body)
        s.quit()
        (qid, mode), = wait_incoming(self.m)
        self.assertTrue(mode & stat.S_IXUSR, "complete mark")
        recs = self.qfile(qid)
        self.assertEqual(record(recs, "S"), [b"a@b.test"])
        self.assertEqual(record(recs, "R"), [b"known@example.com"])
        self.assertEqual(recs[-1], ("E", b""))
        msg = record(recs, "M")[0]
        hdr, rest = msg.split(b"\r\n", 3)[:3], msg.split(b"\r\n", 3)[3]
        self.assertEqual(hdr[0], b"Received: from client.test (localhost [127.0.0.1])")
        self.assertEqual(hdr[1], b"\tby mx.test.invalid (Postfix) with ESMTP id " + qid.encode())
        self.assertTrue(hdr[2].startswith(b"\tfor <known@example.com>; "), hdr[2])
        self.assertEqual(rest, body.encode())
        self.m.wait_log(r"postfix/smtpd\[\d+\]: connect from localhost\[127\.0\.0\.1\]")
        self.m.wait_log(r"smtpd\[\d+\]: %s: client=localhost\[127\.0\.0\.1\]" % qid)
        self.m.wait_log(r"smtpd\[\d+\]: %s: message-id=<p1@b\.test>" % qid)
        self.m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 "
                        r"data=1 quit=1 commands=5")

    def test_swaks_delivers_and_message_id_is_added(self):
        # Debian's Postfix 3.7.11 for a local client adds, after the
        # headers, "Message-Id: <YYYYmmddHHMMSS.QID@host>", "Date: Mon,  7
        # Dec 2026 15:58:40 +0000 (UTC)" and "From: <envelope sender>".
        p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.m.smtp_port),
                            "--from", "s@b.test", "--to", "known@example.com",
                            "--helo", "swaks.test",
                            "--data", "Subject: swaks\\n\\nno message-id here\\n"],
                           capture_output=True, text=True, timeout=60)
        self.assertIn("250 2.0.0 Ok: queued as", p.stdout, p.stdout + p.stderr)
        qid = re.search(r"queued as ([0-9A-F]+)", p.stdout).group(1)
        msg = record(self.qfile(qid), "M")[0].decode()
        self.assertRegex(msg, r"\r\nMessage-Id: <\d{14}\.%s@mx\.test\.invalid>\r\n"
                         r"Date: \w{3}, [ \d]\d \w{3} \d{4} [\d:]{8} [-+]\d{4} \(\w+\)\r\n"
                         r"From: s@b\.test\r\n"
                         r"\r\nno message-id here\r\n" % qid)
        self.m.wait_log(r"%s: message-id=<\d{14}\.%s@mx\.test\.invalid>" % (qid, qid))

    def test_remote_client_mail_gets_no_headers_but_received(self):
        body = "Subject: remote\r\n\r\nno message-id, no date\r\n"
        c = Client(self.m.smtp_port, source=OUTSIDE)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<known@example.com>"), "250 2.1.5 Ok")
        c.cmd("DATA")
        c.send(body + ".\r\n")
        qid = c.reply().split()[-1]
        c.cmd("QUIT")
        msg = record(self.qfile(qid), "M")[0]
        self.assertTrue(msg.startswith(b"Received: from client.test (unknown [127.0.0.2])"))
        self.assertTrue(msg.endswith(b"\r\n" + body.encode()), msg)
        self.m.wait_log(r"%s: message-id=<>" % qid)

    def test_relay_denied_outside_mynetworks(self):
        c = Client(self.m.smtp_port, source=OUTSIDE)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@elsewhere.test>"),
                         "554 5.7.1 <x@elsewhere.test>: Relay access denied")
        self.assertEqual(c.cmd("RCPT TO:<nobody@example.com>"),
                         "550 5.1.1 <nobody@example.com>: Recipient address rejected: "
                         "User unknown in relay recipient table")
        self.assertEqual(c.cmd("RCPT TO:<known@example.com>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<anyone@example.org>"),
                         "554 5.7.1 <anyone@example.org>: Relay access denied")
        c.cmd("QUIT")
        self.m.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 "
                        r"<x@elsewhere\.test>: Relay access denied; from=<a@b\.test> "
                        r"to=<x@elsewhere\.test> proto=ESMTP helo=<client\.test>")

    def test_inside_mynetworks_may_relay(self):
        c = Client(self.m.smtp_port)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<x@elsewhere.test>"), "250 2.1.5 Ok")
        c.cmd("QUIT")

    def test_routing_tricks_do_not_relay(self):
        c = Client(self.m.smtp_port, source=OUTSIDE)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        for rcpt in ("user%elsewhere.test@mx.test.invalid",
                     '"user@elsewhere.test"@mx.test.invalid',
                     "@mx.test.invalid:user@elsewhere.test",
                     "@example.com,@mx.test.invalid:user@elsewhere.test",
                     "elsewhere.test!user@mx.test.invalid",
                     "user@elsewhere.test@mx.test.invalid",
                     # allow_untrusted_routing = no: not even via a relay domain
                     "known%elsewhere.test@example.com",
                     '"known@elsewhere.test"@example.com',
                     "elsewhere.test!known@example.com"):
            r = c.cmd("RCPT TO:<%s>" % rcpt)
            self.assertTrue(r.startswith("554 5.7.1 ") or r.startswith("501 "), (rcpt, r))
        # A relay domain's recipient goes to that domain, whatever its local part.
        self.assertEqual(c.cmd("RCPT TO:<@elsewhere.test:known@example.com>"), "250 2.1.5 Ok")
        c.cmd("DATA")
        c.send("Subject: x\r\n\r\nx\r\n.\r\n")
        r = c.reply()
        self.assertTrue(r.startswith("250 2.0.0 Ok: queued as "), r)
        qid = r.split()[-1]
        self.assertEqual(record(self.qfile(qid), "R"), [b"known@example.com"])
        c.cmd("QUIT")

    def test_oversize(self):
        c = Client(self.m.smtp_port)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> SIZE=30000"),
                         "552 5.3.4 Message size exceeds fixed limit")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> SIZE=1000"), "250 2.1.0 Ok")
        c.cmd("RCPT TO:<known@example.com>")
        self.assertTrue(c.cmd("DATA").startswith("354 "))
        c.send("Subject: big\r\n\r\n" + ("x" * 78 + "\r\n") * 400 + ".\r\n")
        self.assertEqual(c.reply(), "552 5.3.4 Error: message file too big")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        self.assertEqual(incoming(self.m), [])
        self.m.wait_log(r"warning: [0-9A-F]+: queue file size limit exceeded")

    def test_too_many_recipients(self):
        c = Client(self.m.smtp_port)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        for i in range(3):
            self.assertEqual(c.cmd("RCPT TO:<r%d@example.org>" % i), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<r9@example.org>"), "452 4.5.3 Error: too many recipients")
        c.cmd("QUIT")

    def test_whole_transaction_in_one_write(self):
        c = Client(self.m.smtp_port)
        c.send("EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<known@example.com>\r\n"
               "RCPT TO:<x@example.org>\r\nDATA\r\nSubject: p\r\n\r\npipelined\r\n.\r\n"
               "MAIL FROM:<b@b.test>\r\nRCPT TO:<known@example.com>\r\nDATA\r\n"
               "Subject: q\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
        replies = [c.reply() for _ in range(11)]
        codes = [r[:3] for r in replies]
        self.assertEqual(codes, ["250", "250", "250", "250", "354", "250",
                                 "250", "250", "354", "250", "221"], replies)
        self.assertEqual(len(incoming(self.m)), 2)

    def test_content_pipelined_after_rejected_data_is_not_run(self):
        c = Client(self.m.smtp_port, source=OUTSIDE)
        c.send("EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@elsewhere.test>\r\n"
               "DATA\r\nRCPT TO:<y@elsewhere.test>\r\n.\r\n")
        replies = [c.reply() for _ in range(5)]
        self.assertEqual(replies[2], "554 5.7.1 <x@elsewhere.test>: Relay access denied")
        self.assertEqual(replies[3], "554 5.5.1 Error: no valid recipients")
        self.assertEqual(replies[4], "221 2.7.0 Error: I can break rules, too. Goodbye.")
        self.assertTrue(c.closed())
        self.m.wait_log(r"NOQUEUE: reject: DATA from unknown\[127\.0\.0\.2\]: 554 5\.5\.1 "
                        r"Error: no valid recipients; from=<a@b\.test> to=<x@elsewhere\.test> "
                        r"proto=ESMTP helo=<client\.test>")
        self.m.wait_log(r"disconnect from unknown\[127\.0\.0\.2\] ehlo=1 mail=1 rcpt=0/1 "
                        r"data=0/1 commands=2/4")
        # The content was never read as a command (it shows only in the
        # "improper command pipelining" line, as in Postfix's log).
        self.assertNotRegex(self.m.log(), r"to=<y@elsewhere\.test>")
        self.m.wait_log(r"improper command pipelining after EHLO from unknown\[127\.0\.0\.2\]: "
                        r"MAIL FROM:<a@b\.test>\\r\\n")

    def test_dsn_parameters_are_stored(self):
        c = Client(self.m.smtp_port)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> RET=HDRS ENVID=env+2Bid BODY=8BITMIME"),
                         "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<known@example.com> NOTIFY=SUCCESS,FAILURE "
                               "ORCPT=rfc822;Known+40example.com"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@example.org> NOTIFY=NEVER"), "250 2.1.5 Ok")
        c.cmd("DATA")
        c.send("Subject: d\r\n\r\nd\r\n.\r\n")
        qid = c.reply().split()[-1]
        c.cmd("QUIT")
        recs = self.qfile(qid)
        attrs = record(recs, "A")
        self.assertIn(b"dsn_ret=HDRS", attrs)
        self.assertIn(b"dsn_envid=env+id", attrs)
        self.assertEqual(record(recs, "N"), [b"6", b"1"])
        self.assertEqual(record(recs, "Q"), [b"rfc822;Known@example.com"])
        self.assertEqual(record(recs, "R"), [b"known@example.com", b"x@example.org"])

    def test_replies(self):
        c = Client(self.m.smtp_port)
        self.assertEqual(c.banner, "220 mx.test.invalid ESMTP Postfix")
        self.assertEqual(c.cmd("HELO"), "501 Syntax: HELO hostname")
        self.assertEqual(c.cmd("RCPT TO:<a@example.org>"), "503 5.5.1 Error: need MAIL command")
        self.assertEqual(c.cmd("FOO"), "500 5.5.2 Error: command not recognized")
        self.assertEqual(c.cmd("EHLO client.test").split("\n"),
                         ["250-mx.test.invalid", "250-PIPELINING", "250-SIZE 20000", "250-VRFY",
                          "250-ETRN", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN",
                          "250 CHUNKING"])
        self.assertEqual(c.cmd("DATA"), "503 5.5.1 Error: need RCPT command")
        self.assertEqual(c.cmd("MAIL FROM:a@b.test"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "503 5.5.1 Error: nested MAIL command")
        self.assertEqual(c.cmd("RCPT TO:<>"), "501 5.1.3 Bad recipient address syntax")
        self.assertEqual(c.cmd("RCPT TO:<a@example.org> FOO=1"), "555 5.5.4 Unsupported option: FOO=1")
        self.assertEqual(c.cmd("RCPT TO:<a@example.org> NOTIFY=NEVER,DELAY"),
                         "501 5.5.4 Error: Bad NOTIFY parameter syntax")
        self.assertEqual(c.cmd("ETRN example.com"), "503 Error: MAIL transaction in progress")
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("MAIL FROM:<a b@c>"), "501 5.1.7 Bad sender address syntax")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> SIZE=x"), "501 5.5.4 Bad message size syntax")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> XYZ"), "555 5.5.4 Unsupported option: XYZ")
        self.assertEqual(c.cmd("MAIL TO:<a@b.test>"), "501 5.5.4 Syntax: MAIL FROM:<address>")
        self.assertEqual(c.cmd("VRFY known@example.com"), "252 2.0.0 known@example.com")
        self.assertEqual(c.cmd("ETRN"), "500 Syntax: ETRN domain")
        self.assertEqual(c.cmd("ETRN a b"), "500 Syntax: ETRN domain")
        self.assertEqual(c.cmd("ETRN bad_$domain"), "501 Error: invalid parameter syntax")
        self.assertEqual(c.cmd("ETRN nosuch.test"), "459 <nosuch.test>: service unavailable")
        self.assertEqual(c.cmd("ETRN [127.0.0.1]"), "459 <[127.0.0.1]>: service unavailable")
        # No flush service in this instance: the request fails.
        self.assertEqual(c.cmd("ETRN @example.com"), "458 Unable to queue messages")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("STARTTLS"), "502 5.5.1 Error: command not implemented")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        self.m.wait_log(r"warning: reject: ETRN nosuch\.test\.\.\. from localhost\[127\.0\.0\.1\]")
        self.m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] helo=0/1 ehlo=1 "
                        r"starttls=0/1 mail=1/6 rcpt=0/4 data=0/1 rset=1 noop=1 vrfy=1 "
                        r"etrn=0/7 quit=1 unknown=0/1 commands=6/26")


class SmtpdEndToEnd(unittest.TestCase):
    """The whole system: smtpd -> queue -> qmgr -> smtp -> a capture server."""

    def test_delivered_bytes_are_sent_bytes_below_received(self):
        from aiosmtpd.controller import Controller
        from mta import MTA, free_port

        got = []

        class Capture:
            async def handle_DATA(self, server, session, envelope):
                got.append(envelope)
                return "250 2.0.0 Ok: captured"

        sink_port = free_port()
        ctl = Controller(Capture(), hostname="127.0.0.1", port=sink_port)
        ctl.start()
        self.addCleanup(ctl.stop)
        body = ("Subject: e2e\r\nDate: Mon, 23 Nov 2026 08:46:25 +0000\r\n"
                "From: <a@b.test>\r\nMessage-ID: <e2e@b.test>\r\n\r\n.dot\r\nend\r\n")
        with MTA(main_cf={"relay_domains": "example.com",
                          "transport_maps": "inline:{example.com=smtp:[127.0.0.1]:%d}"
                          % sink_port}) as m:
            s = smtplib.SMTP("127.0.0.1", m.smtp_port)
            s.ehlo("client.test")
            s.sendmail("a@b.test", ['"john doe"@example.com'], body)
            s.quit()
            m.wait_log(r'smtp\[\d+\]: [0-9A-F]+: to=<"john doe"@example\.com>, .*status=sent')
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].mail_from, "a@b.test")
        self.assertEqual(got[0].rcpt_tos, ['"john doe"@example.com'])
        received, rest = got[0].content.split(b"\r\n\tfor <", 1)
        self.assertTrue(received.startswith(b"Received: from client.test (localhost [127.0.0.1])"))
        self.assertEqual(rest.split(b"\r\n", 1)[1], body.encode())


class SmtpdEtrn(unittest.TestCase):
    """ETRN through the flush service of the full system."""

    def test_etrn_with_flush_service(self):
        from mta import MTA
        with MTA(main_cf={"relay_domains": "example.com"}) as m:
            c = Client(m.smtp_port)
            c.cmd("EHLO client.test")
            self.assertEqual(c.cmd("ETRN example.com"), "250 Queuing started")
            self.assertEqual(c.cmd("ETRN @example.com"), "250 Queuing started")
            self.assertEqual(c.cmd("ETRN nosuch.test"), "459 <nosuch.test>: service unavailable")
            self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
            m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 etrn=2/3 quit=1 "
                       r"commands=4/5")


class SmtpdDefer(unittest.TestCase):
    """Postfix's defaults at compatibility_level 3.7: defer_unauth_destination."""

    def test_defer_unauth_destination_and_access_tables(self):
        with smtpd_mta(mynetworks="127.0.0.1/32", relay_domains="example.com",
                       smtpd_recipient_restrictions="check_recipient_access texthash:@CONFIG@/access",
                       smtpd_sender_restrictions="reject_non_fqdn_sender, "
                       "check_sender_access inline:{spam.test=REJECT}",
                       smtpd_helo_restrictions="check_helo_access inline:{evil.test=REJECT}",
                       smtpd_error_sleep_time="0",
                       files={"access": "bad@example.com REJECT\ntmp@example.com 450 try later\n"
                              "ok@elsewhere.test OK\ndunno@example.com DUNNO\n"
                              "x5@example.com 550 5.1.2 gone\n"}) as m:
            c = Client(m.smtp_port, source=OUTSIDE)
            c.cmd("EHLO client.test")
            c.cmd("MAIL FROM:<a@b.test>")
            self.assertEqual(c.cmd("RCPT TO:<x@elsewhere.test>"),
                             "454 4.7.1 <x@elsewhere.test>: Relay access denied")
            self.assertEqual(c.cmd("RCPT TO:<bad@example.com>"),
                             "554 5.7.1 <bad@example.com>: Recipient address rejected: Access denied")
            self.assertEqual(c.cmd("RCPT TO:<tmp@example.com>"),
                             "450 4.7.1 <tmp@example.com>: Recipient address rejected: try later")
            self.assertEqual(c.cmd("RCPT TO:<x5@example.com>"),
                             "550 5.1.2 <x5@example.com>: Recipient address rejected: gone")
            self.assertEqual(c.cmd("RCPT TO:<dunno@example.com>"), "250 2.1.5 Ok")
            c.cmd("RSET")
            c.cmd("MAIL FROM:<u@spam.test>")
            self.assertEqual(c.cmd("RCPT TO:<a@example.com>"),
                             "554 5.7.1 <u@spam.test>: Sender address rejected: Access denied")
            c.cmd("RSET")
            c.cmd("MAIL FROM:<unqualified>")
            # Postfix 3.7 judges the address as given, not with its
            # @$myorigin: "504 5.5.2 <a>: Sender address rejected: need
            # fully-qualified address" for MAIL FROM:<a>.
            self.assertEqual(c.cmd("RCPT TO:<a@example.com>"),
                             "504 5.5.2 <unqualified>: Sender address rejected: "
                             "need fully-qualified address")
            c.cmd("RSET")
            c.cmd("EHLO evil.test")
            c.cmd("MAIL FROM:<a@b.test>")
            self.assertEqual(c.cmd("RCPT TO:<a@example.com>"),
                             "554 5.7.1 <evil.test>: Helo command rejected: Access denied")
            c.cmd("QUIT")


    def test_client_refused_at_connect_without_delay_reject(self):
        with smtpd_mta(smtpd_delay_reject="no", smtpd_error_sleep_time="0",
                       smtpd_client_restrictions="check_client_access inline:{127.0.0.2=REJECT}") as m:
            c = Client(m.smtp_port, source=OUTSIDE)
            self.assertEqual(c.banner, "554 5.7.1 <unknown[127.0.0.2]>: Client host rejected: "
                                       "Access denied")
            self.assertEqual(c.cmd("EHLO client.test"),
                             "503 5.7.0 Error: access denied for unknown[127.0.0.2]")
            self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
            self.assertEqual(Client(m.smtp_port).banner, "220 mx.test.invalid ESMTP Postfix")
            m.wait_log(r"NOQUEUE: reject: CONNECT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 "
                       r"<unknown\[127\.0\.0\.2\]>: Client host rejected: Access denied; "
                       r"proto=SMTP")


class SmtpdDeferIf(unittest.TestCase):
    """defer_if_permit and defer_if_reject, with the replies Debian's Postfix
    3.7 gives for the same restrictions (checked side by side)."""

    def test_access_table_actions(self):
        with smtpd_mta(mynetworks="127.0.0.1/32", relay_domains="example.com",
                       smtpd_relay_restrictions="",
                       smtpd_recipient_restrictions="check_recipient_access texthash:@CONFIG@/first, "
                       "check_recipient_access texthash:@CONFIG@/second, reject_unauth_destination",
                       smtpd_error_sleep_time="0",
                       files={"first": "dip@example.com DEFER_IF_PERMIT\n"
                                       "dit@example.com DEFER_IF_PERMIT not now\n"
                                       "dir@example.com DEFER_IF_REJECT\n"
                                       "dirt@example.com DEFER_IF_REJECT maybe later\n"
                                       "dipx@example.com defer_if_permit\n",
                              "second": "dir@example.com REJECT\ndirt@example.com REJECT\n"
                                        "dipx@example.com REJECT\n"}) as m:
            c = Client(m.smtp_port, source=OUTSIDE)
            c.cmd("EHLO client.test")
            c.cmd("MAIL FROM:<a@b.test>")
            rr = "Recipient address rejected"
            self.assertEqual(c.cmd("RCPT TO:<dip@example.com>"),
                             "450 4.7.1 <dip@example.com>: %s: Service unavailable" % rr)
            self.assertEqual(c.cmd("RCPT TO:<dit@example.com>"),
                             "450 4.7.1 <dit@example.com>: %s: not now" % rr)
            self.assertEqual(c.cmd("RCPT TO:<dir@example.com>"),
                             "450 4.7.1 <dir@example.com>: %s: Service unavailable" % rr)
            self.assertEqual(c.cmd("RCPT TO:<dirt@example.com>"),
                             "450 4.7.1 <dirt@example.com>: %s: maybe later" % rr)
            self.assertEqual(c.cmd("RCPT TO:<dipx@example.com>"),
                             "554 5.7.1 <dipx@example.com>: %s: Access denied" % rr)
            self.assertEqual(c.cmd("RCPT TO:<x@elsewhere.test>"),
                             "554 5.7.1 <x@elsewhere.test>: Relay access denied")
            self.assertEqual(c.cmd("RCPT TO:<ok@example.com>"), "250 2.1.5 Ok")
            c.cmd("QUIT")
            m.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 450 4\.7\.1 "
                       r"<dip@example\.com>: Recipient address rejected: Service unavailable; "
                       r"from=<a@b\.test> to=<dip@example\.com> proto=ESMTP helo=<client\.test>")

    def test_restrictions_and_stages(self):
        for delay_reject in ("yes", "no"):
            with smtpd_mta(mynetworks="127.0.0.1/32", relay_domains="example.com",
                           smtpd_delay_reject=delay_reject,
                           smtpd_sender_restrictions="check_sender_access inline:{late@b.test=defer_if_permit}",
                           smtpd_relay_restrictions="",
                           smtpd_recipient_restrictions="check_recipient_access "
                           "inline:{bad@example.com=REJECT}, defer_if_reject, "
                           "reject_unauth_destination",
                           smtpd_error_sleep_time="0") as m:
                c = Client(m.smtp_port, source=OUTSIDE)
                c.cmd("EHLO client.test")
                self.assertEqual(c.cmd("MAIL FROM:<late@b.test>"), "250 2.1.0 Ok")
                # The sender stage's defer_if_permit is given at RCPT, for
                # each recipient that would be accepted.
                for _ in range(2):
                    self.assertEqual(c.cmd("RCPT TO:<ok@example.com>"),
                                     "450 4.7.1 <late@b.test>: Sender address rejected: "
                                     "Service unavailable")
                self.assertEqual(c.cmd("RCPT TO:<bad@example.com>"),
                                 "554 5.7.1 <bad@example.com>: Recipient address rejected: "
                                 "Access denied")
                # defer_if_reject turns the later relay refusal into a 450.
                self.assertEqual(c.cmd("RCPT TO:<x@elsewhere.test>"),
                                 "450 4.7.0 <x@elsewhere.test>: Recipient address rejected: "
                                 "defer_if_reject requested")
                c.cmd("RSET")
                c.cmd("MAIL FROM:<early@b.test>")
                self.assertEqual(c.cmd("RCPT TO:<ok@example.com>"), "250 2.1.5 Ok", delay_reject)
                c.cmd("QUIT")

    def test_defer_if_permit_keyword(self):
        with smtpd_mta(mynetworks="127.0.0.1/32",
                       smtpd_relay_restrictions="",
                       smtpd_recipient_restrictions="defer_if_permit, permit_mynetworks, "
                       "reject_unauth_destination",
                       smtpd_error_sleep_time="0") as m:
            for source, reply in (("127.0.0.1", "450 4.7.0 <x@elsewhere.test>: Recipient address "
                                                "rejected: defer_if_permit requested"),
                                  (OUTSIDE, "554 5.7.1 <x@elsewhere.test>: Relay access denied")):
                c = Client(m.smtp_port, source=source)
                c.cmd("EHLO client.test")
                c.cmd("MAIL FROM:<a@b.test>")
                self.assertEqual(c.cmd("RCPT TO:<x@elsewhere.test>"), reply)
                c.cmd("QUIT")


class SmtpdClientName(unittest.TestCase):
    """reject_unknown_reverse_client_hostname and reject_unknown_client_hostname:
    127.0.0.1 is localhost (/etc/hosts), 127.0.0.2 has no name."""

    def test_unknown_client_names(self):
        for restriction, reply in (
                ("reject_unknown_reverse_client_hostname",
                 "450 4.7.1 Client host rejected: cannot find your reverse hostname, [127.0.0.2]"),
                ("reject_unknown_client_hostname",
                 "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.2]")):
            with smtpd_mta(relay_domains="remote.example", mynetworks="192.0.2.0/24",
                           smtpd_client_restrictions=restriction,
                           smtpd_error_sleep_time="0") as m:
                for source, expect in (("127.0.0.1", "250 2.1.5 Ok"), (OUTSIDE, reply)):
                    c = Client(m.smtp_port, source=source)
                    c.cmd("EHLO client.example")
                    c.cmd("MAIL FROM:<a@x.example>")
                    self.assertEqual(c.cmd("RCPT TO:<r@remote.example>"), expect, restriction)
                    c.close()
                m.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: %s; "
                           r"from=<a@x\.example> to=<r@remote\.example> proto=ESMTP "
                           r"helo=<client\.example>" % re.escape(reply))


class SmtpdWarnIfReject(unittest.TestCase):
    def test_warn_if_reject(self):
        # Replies and "reject_warning" lines as Debian's Postfix 3.7 gives them
        # for the same restrictions.
        with smtpd_mta(relay_domains="remote.example", mynetworks="192.0.2.0/24",
                       smtpd_relay_restrictions="reject_unauth_destination",
                       smtpd_recipient_restrictions="warn_if_reject check_recipient_access "
                       "inline:{{a@remote.example=REJECT no a}}, warn_if_reject defer_if_permit, "
                       "check_recipient_access inline:{{b@remote.example=550 gone}}, "
                       "warn_if_reject reject, permit",
                       smtpd_error_sleep_time="0") as m:
            c = Client(m.smtp_port, source=OUTSIDE)
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<s@x.example>")
            self.assertEqual(c.cmd("RCPT TO:<a@remote.example>"), "250 2.1.5 Ok")
            self.assertEqual(c.cmd("RCPT TO:<b@remote.example>"),
                             "550 5.7.1 <b@remote.example>: Recipient address rejected: gone")
            self.assertEqual(c.cmd("RCPT TO:<c@elsewhere.example>"),
                             "554 5.7.1 <c@elsewhere.example>: Relay access denied")
            c.close()
            tail = (r"; from=<s@x\.example> to=<a@remote\.example> proto=ESMTP "
                    r"helo=<client\.example>")
            for reply in (r"554 5\.7\.1 <a@remote\.example>: Recipient address rejected: no a",
                          r"450 4\.7\.0 <a@remote\.example>: Recipient address rejected: "
                          r"defer_if_permit requested",
                          r"554 5\.7\.1 <a@remote\.example>: Recipient address rejected: "
                          r"Access denied"):
                m.wait_log(r"NOQUEUE: reject_warning: RCPT from unknown\[127\.0\.0\.2\]: "
                           + reply + tail)
            m.wait_log(r"[0-9A-F]+: reject: RCPT from unknown\[127\.0\.0\.2\]: 550 5\.7\.1 "
                       r"<b@remote\.example>: Recipient address rejected: gone;")

    def test_warned_relay_check_is_no_protection(self):
        # smtpd refuses to run without a relay check that can refuse (as Postfix).
        port = free_port()
        m = MTA(main_cf={"smtpd_relay_restrictions": "",
                         "smtpd_recipient_restrictions": "warn_if_reject reject_unauth_destination"},
                master_cf="127.0.0.1:%d inet n - n - - smtpd\n" % port, port=port)
        self.addCleanup(m.cleanup)
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            m.wait_log(r"fatal: in parameter smtpd_relay_restrictions or "
                       r"smtpd_recipient_restrictions, specify at least one working instance of")


class SmtpdStrictEnvelopes(unittest.TestCase):
    def test_strict_rfc821_envelopes(self):
        # The replies of Debian's Postfix 3.7 with strict_rfc821_envelopes = yes.
        with smtpd_mta(relay_domains="remote.example", strict_rfc821_envelopes="yes",
                       smtpd_error_sleep_time="0") as m:
            c = Client(m.smtp_port)
            c.cmd("EHLO client.example")
            self.assertEqual(c.cmd("MAIL FROM:a@x.example"), "501 5.1.7 Bad sender address syntax")
            self.assertEqual(c.cmd("MAIL FROM:<a@x.example>"), "250 2.1.0 Ok")
            self.assertEqual(c.cmd("RCPT TO:r@remote.example"),
                             "501 5.1.3 Bad recipient address syntax")
            self.assertEqual(c.cmd("RCPT TO:<r@remote.example> "), "250 2.1.5 Ok")
            self.assertEqual(c.cmd("VRFY r@remote.example"), "252 2.0.0 r@remote.example")
            c.close()


class SmtpdPipelining(unittest.TestCase):
    """reject_unauth_pipelining and the "improper command pipelining" log line,
    as Debian's Postfix 3.7 answers and logs them with its default
    smtpd_forbid_unauth_pipelining = no (ours: yes, test_smtpd_guard.py)."""

    def run_session(self, helo, chunks, **main_cf):
        main_cf.setdefault("smtpd_forbid_unauth_pipelining", "no")
        m = smtpd_mta(relay_domains="remote.example", mynetworks="192.0.2.0/24",
                      smtpd_error_sleep_time="0", **main_cf)
        self.addCleanup(m.cleanup)
        c = Client(m.smtp_port)
        replies = []
        for chunk, count in chunks:
            c.send(chunk.replace("HELO", helo))
            replies += [c.reply() for _ in range(count)]
        c.close()
        return [r.splitlines()[-1] for r in replies], m

    def test_data_sent_before_354(self):
        replies, m = self.run_session("EHLO", [
            ("HELO client.example\r\n", 1),
            ("MAIL FROM:<a@x.example>\r\nRCPT TO:<r@remote.example>\r\n", 2),
            ("DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n", 2)],
            smtpd_data_restrictions="reject_unauth_pipelining")
        self.assertEqual(replies[-2:], [
            "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining",
            "221 2.7.0 Error: I can break rules, too. Goodbye."])
        m.wait_log(r"improper command pipelining after DATA from localhost\[127\.0\.0\.1\]: "
                   r"Subject: x\\r\\n\\r\\nbody\\r\\n\.\\r\\nQUIT\\r\\n\n")
        m.wait_log(r"[0-9A-F]+: reject: DATA from localhost\[127\.0\.0\.1\]: 503 5\.5\.0 <DATA>: "
                   r"Data command rejected: Improper use of SMTP command pipelining; "
                   r"from=<a@x\.example> to=<r@remote\.example> proto=ESMTP "
                   r"helo=<client\.example>")

    def test_proper_pipelining_is_accepted(self):
        replies, m = self.run_session("EHLO", [
            ("HELO client.example\r\n", 1),
            ("MAIL FROM:<a@x.example>\r\nRCPT TO:<r@remote.example>\r\nDATA\r\n", 3),
            ("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n", 2)],
            smtpd_data_restrictions="reject_unauth_pipelining",
            smtpd_recipient_restrictions="reject_unauth_pipelining, permit")
        self.assertRegex(replies[-2], r"^250 2\.0\.0 Ok: queued as ")
        self.assertNotIn("improper command pipelining", m.log())

    def test_helo_client_may_not_pipeline(self):
        replies, m = self.run_session("HELO", [
            ("HELO client.example\r\n", 1),
            ("MAIL FROM:<a@x.example>\r\nRCPT TO:<r@remote.example>\r\n", 2)],
            smtpd_recipient_restrictions="reject_unauth_pipelining, permit")
        self.assertEqual(replies[-1], "503 5.5.0 <r@remote.example>: Recipient address "
                                      "rejected: Improper use of SMTP command pipelining")
        m.wait_log(r"improper command pipelining after MAIL from localhost\[127\.0\.0\.1\]: "
                   r"RCPT TO:<r@remote\.example>\\r\\n\n")
        replies, m = self.run_session("EHLO", [
            ("HELO client.example\r\n", 1),
            ("MAIL FROM:<a@x.example>\r\nRCPT TO:<r@remote.example>\r\n", 2)],
            smtpd_recipient_restrictions="reject_unauth_pipelining, permit")
        self.assertEqual(replies[-1], "250 2.1.5 Ok")

    def test_commands_sent_with_ehlo(self):
        replies, m = self.run_session("EHLO", [
            ("HELO client.example\r\nMAIL FROM:<a@x.example>\r\n", 2),
            ("RCPT TO:<r@remote.example>\r\n", 1)],
            smtpd_client_restrictions="reject_unauth_pipelining")
        self.assertEqual(replies[-1], "503 5.5.0 <localhost[127.0.0.1]>: Client host "
                                      "rejected: Improper use of SMTP command pipelining")
        m.wait_log(r"improper command pipelining after EHLO from localhost\[127\.0\.0\.1\]: "
                   r"MAIL FROM:<a@x\.example>\\r\\n\n")


class SmtpdDataRestrictions(unittest.TestCase):
    """smtpd_data_restrictions, smtpd_end_of_data_restrictions and
    reject_multi_recipient_bounce, with Debian Postfix 3.7's replies."""

    def session(self, sender, rcpts, **main_cf):
        with smtpd_mta(relay_domains="remote.example", mynetworks="192.0.2.0/24",
                       smtpd_error_sleep_time="0", **main_cf) as m:
            c = Client(m.smtp_port)
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<%s>" % sender)
            replies = [c.cmd("RCPT TO:<%s>" % r) for r in rcpts]
            replies.append(c.cmd("DATA"))
            if replies[-1].startswith("354"):
                replies.append(c.cmd("Subject: x\r\n\r\nbody\r\n."))
            c.cmd("QUIT")
            # Complete queue files only: a refused transaction's file is
            # removed when the session ends.
            return replies, m.log(), [n for n, mode in incoming(m) if mode & stat.S_IXUSR]

    def test_data_and_end_of_data(self):
        one = ["a@remote.example"]
        two = ["a@remote.example", "b@remote.example"]
        ok = "250 2.1.5 Ok"
        cases = [
            (dict(smtpd_data_restrictions="reject"), "s@sender.example", one,
             [ok, "554 5.7.1 <DATA>: Data command rejected: Access denied"]),
            (dict(smtpd_data_restrictions="reject_multi_recipient_bounce"), "", two,
             [ok, ok, "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce"]),
            (dict(smtpd_data_restrictions="reject_multi_recipient_bounce"), "", one,
             [ok, "354 End data with <CR><LF>.<CR><LF>", None]),
            (dict(smtpd_data_restrictions="check_recipient_access inline:{a@remote.example=REJECT}"),
             "s@sender.example", one,
             [ok, "554 5.7.1 <a@remote.example>: Recipient address rejected: Access denied"]),
            (dict(smtpd_data_restrictions="check_recipient_access inline:{a@remote.example=REJECT}"),
             "s@sender.example", two, [ok, ok, "354 End data with <CR><LF>.<CR><LF>", None]),
            (dict(smtpd_data_restrictions="defer_if_permit"), "s@sender.example", one,
             [ok, "450 4.7.0 <DATA>: Data command rejected: defer_if_permit requested"]),
            (dict(smtpd_end_of_data_restrictions="reject"), "s@sender.example", one,
             [ok, "354 End data with <CR><LF>.<CR><LF>",
              "554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied"]),
            (dict(smtpd_end_of_data_restrictions="check_sender_access "
                  "inline:{s@sender.example=REJECT}"), "s@sender.example", one,
             [ok, "354 End data with <CR><LF>.<CR><LF>",
              "554 5.7.1 <s@sender.example>: Sender address rejected: Access denied"]),
            (dict(smtpd_recipient_restrictions="reject_multi_recipient_bounce"), "", two,
             [ok, "550 5.5.3 <b@remote.example>: Recipient address rejected: "
                  "Multi-recipient bounce", "354 End data with <CR><LF>.<CR><LF>", None]),
        ]
        for main_cf, sender, rcpts, expect in cases:
            replies, log, queued = self.session(sender, rcpts, **main_cf)
            accepted = expect[-1] is None
            if accepted:
                self.assertRegex(replies[-1], r"^250 2\.0\.0 Ok: queued as ", main_cf)
                replies[-1] = None
            self.assertEqual(replies, expect, main_cf)
            self.assertEqual(len(queued), 1 if accepted else 0, main_cf)
        # The log line, as Postfix writes it.
        replies, log, _ = self.session("s@sender.example", one, smtpd_data_restrictions="reject")
        self.assertRegex(log, r"[0-9A-F]+: reject: DATA from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                              r"<DATA>: Data command rejected: Access denied; "
                              r"from=<s@sender\.example> to=<a@remote\.example> proto=ESMTP "
                              r"helo=<client\.example>")
        replies, log, _ = self.session("s@sender.example", one,
                                       smtpd_end_of_data_restrictions="reject")
        self.assertRegex(log, r"[0-9A-F]+: reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: "
                              r"554 5\.7\.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied; "
                              r"from=<s@sender\.example> to=<a@remote\.example> proto=ESMTP "
                              r"helo=<client\.example>")

if __name__ == "__main__":
    unittest.main()
