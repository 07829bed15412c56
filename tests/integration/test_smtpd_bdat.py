"""smtpd: CHUNKING (BDAT, RFC 3030), with Debian Postfix 3.7's replies and
log lines (checked against Postfix 3.7.11 on a loopback port)."""
import os
import re
import stat
import unittest

from capture import Capture
from mta import MTA
from smtpd_util import Client, incoming, read_queue_file, record, smtpd_mta, wait_incoming

OUTSIDE = "127.0.0.2"


def message_data(m, qid):
    recs = read_queue_file(os.path.join(m.queue_dir, "incoming", qid))
    return record(recs, "M")[0]


def client_text(data):
    """The message as the client sent it: below our Received: header."""
    return data.split(b"\r\n\tfor <", 1)[1].split(b"\r\n", 1)[1]


class SmtpdBdat(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.m = smtpd_mta(relay_domains="example.com", mynetworks="127.0.0.1/32",
                          message_size_limit="100000", smtpd_error_sleep_time="0",
                          header_checks="pcre:@CONFIG@/header_checks",
                          body_checks="pcre:@CONFIG@/body_checks",
                          files={"header_checks": "/^Subject: reject me/ REJECT no thanks\n",
                                 "body_checks": "/^forbidden body$/ REJECT body refused\n"})

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def setUp(self):
        for name, _ in incoming(self.m):
            os.unlink(os.path.join(self.m.queue_dir, "incoming", name))

    def session(self):
        c = Client(self.m.smtp_port, source=OUTSIDE)
        self.addCleanup(c.close)
        self.assertIn("250 CHUNKING", c.cmd("EHLO client.test"))
        return c

    def chunk(self, c, data, last=False):
        c.send(b"BDAT %d%s\r\n" % (len(data), b" LAST" if last else b"") + data)
        return c.reply()

    def test_ehlo_offers_chunking_not_binarymime(self):
        c = self.session()
        c.send("EHLO client.test\r\n")
        lines = c.reply().split("\n")
        # Postfix 3.7: ... 250-DSN, 250-SMTPUTF8, 250 CHUNKING (no SMTPUTF8 here).
        self.assertEqual(lines[-1], "250 CHUNKING")
        self.assertNotIn("BINARYMIME", "\n".join(lines))

    def test_three_chunks_stored_as_sent(self):
        c = self.session()
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<u@example.com>"), "250 2.1.5 Ok")
        parts = [b"Subject: chunks\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nhalf a li",
                 b"ne, then CR\r",
                 b"\nlast line\r\n"]
        # Postfix: "250 2.0.0 Ok: 5 bytes", then "... N bytes queued as QID".
        self.assertEqual(self.chunk(c, parts[0]), "250 2.0.0 Ok: %d bytes" % len(parts[0]))
        self.assertEqual(self.chunk(c, parts[1]),
                         "250 2.0.0 Ok: %d bytes" % (len(parts[0]) + len(parts[1])))
        r = self.chunk(c, parts[2], last=True)
        self.assertRegex(r, r"^250 2\.0\.0 Ok: %d bytes queued as [0-9A-F]+$"
                         % len(b"".join(parts)))
        qid = r.split()[-1]
        # Durable before the reply: complete (owner-execute bit) already.
        self.assertTrue(os.stat(os.path.join(self.m.queue_dir, "incoming", qid)).st_mode
                        & stat.S_IXUSR)
        self.assertEqual(client_text(message_data(self.m, qid)), b"".join(parts))
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        self.m.wait_log(r"disconnect from unknown\[127\.0\.0\.2\] ehlo=1 mail=1 rcpt=1 "
                        r"bdat=3 quit=1 commands=7")

    def test_last_line_without_line_end_and_bare_lf(self):
        c = self.session()
        c.cmd("MAIL FROM:<a@b.test>")
        c.cmd("RCPT TO:<u@example.com>")
        # Postfix: "12345" + "abc" -> "250 2.0.0 Ok: 10 bytes queued as" (a
        # final CRLF is added); a bare LF is stored as CRLF and counted so.
        self.assertEqual(self.chunk(c, b"Subject: x\n\nab"), "250 2.0.0 Ok: 16 bytes")
        r = self.chunk(c, b"c", last=True)
        self.assertRegex(r, r"^250 2\.0\.0 Ok: 19 bytes queued as ")
        self.assertEqual(client_text(message_data(self.m, r.split()[-1])),
                         b"Subject: x\r\n\r\nabc\r\n")

    def test_chunk_with_commands_and_dots_is_one_message(self):
        c = self.session()
        c.cmd("MAIL FROM:<a@b.test>")
        c.cmd("RCPT TO:<u@example.com>")
        smuggled = (b"Subject: one\r\n\r\nbody\r\n.\r\nMAIL FROM:<evil@evil.test>\r\n"
                    b"RCPT TO:<victim@example.com>\r\nDATA\r\nSubject: two\r\n\r\nx\r\n.\r\n"
                    b"QUIT\r\n")
        r = self.chunk(c, smuggled, last=True)
        self.assertRegex(r, r"^250 2\.0\.0 Ok: %d bytes queued as " % len(smuggled))
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        files = incoming(self.m)
        self.assertEqual(len(files), 1)
        data = message_data(self.m, files[0][0])
        self.assertEqual(client_text(data), smuggled)
        recs = read_queue_file(os.path.join(self.m.queue_dir, "incoming", files[0][0]))
        self.assertEqual(record(recs, "R"), [b"u@example.com"])
        self.assertNotIn("victim", self.m.log())
        self.assertNotIn("evil@evil", self.m.log())

    def test_refused_chunk_is_read_and_discarded(self):
        c = self.session()
        # Postfix: no MAIL -> 503; the chunk's bytes never become commands.
        self.assertEqual(self.chunk(c, b"QUIT\r\n", last=True),
                         "503 5.5.1 Error: need RCPT command")
        c.cmd("MAIL FROM:<a@b.test>")
        # Postfix: MAIL without RCPT -> 554, and later chunks are discarded.
        self.assertEqual(self.chunk(c, b"RSET\r\n"), "554 5.5.1 Error: no valid recipients")
        self.assertEqual(self.chunk(c, b"QUIT\r\n", last=True),
                         "551 5.0.0 Discarded 6 bytes after earlier error")
        # The transaction is gone (Postfix: "503 5.5.1 Error: need MAIL command").
        self.assertEqual(c.cmd("RCPT TO:<u@example.com>"), "503 5.5.1 Error: need MAIL command")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")

    def test_bad_sizes(self):
        # Postfix: "521 5.5.4 Syntax: BDAT count [LAST]" and the session ends;
        # "warning: QID: malformed BDAT command syntax from host[addr]: BDAT x".
        for args in ["", " x", " -1", " +5 LAST", " 5 FOO", " 5 LAST extra",
                     " 99999999999999999999"]:
            c = self.session()
            c.cmd("MAIL FROM:<a@b.test>")
            c.cmd("RCPT TO:<u@example.com>")
            self.assertEqual(c.cmd("BDAT" + args), "521 5.5.4 Syntax: BDAT count [LAST]")
            self.assertTrue(c.closed(), args)
            self.m.wait_log(r"warning: [0-9A-F]+: malformed BDAT command syntax from "
                            r"unknown\[127\.0\.0\.2\]: BDAT%s\n" % args.replace("+", r"\+"))
        c = self.session()
        self.assertEqual(c.cmd("BDAT x"), "521 5.5.4 Syntax: BDAT count [LAST]")
        self.m.wait_log(r"warning: NOQUEUE: malformed BDAT command syntax from "
                        r"unknown\[127\.0\.0\.2\]: BDAT x\n")
        # Leading zeros and a lower-case "last" are accepted, as by Postfix.
        c = self.session()
        c.cmd("MAIL FROM:<a@b.test>")
        c.cmd("RCPT TO:<u@example.com>")
        c.send(b"BDAT 05 last\r\nhello")
        self.assertRegex(c.reply(), r"^250 2\.0\.0 Ok: 7 bytes queued as ")

    def test_data_after_bdat(self):
        c = self.session()
        c.cmd("MAIL FROM:<a@b.test>")
        c.cmd("RCPT TO:<u@example.com>")
        self.assertEqual(self.chunk(c, b"hello"), "250 2.0.0 Ok: 5 bytes")
        # Postfix 3.7: "503 5.5.1 Error: DATA after BDAT", "... RCPT after BDAT".
        self.assertEqual(c.cmd("DATA"), "503 5.5.1 Error: DATA after BDAT")
        self.assertEqual(c.cmd("RCPT TO:<v@example.com>"), "503 5.5.1 Error: RCPT after BDAT")
        self.assertRegex(self.chunk(c, b"!", last=True), r"^250 2\.0\.0 Ok: 8 bytes queued as ")
        self.assertEqual(len(incoming(self.m)), 1)

    def test_oversize_chunk(self):
        c = self.session()
        c.cmd("MAIL FROM:<a@b.test>")
        c.cmd("RCPT TO:<u@example.com>")
        self.assertEqual(self.chunk(c, b"x" * 60000), "250 2.0.0 Ok: 60000 bytes")
        # Postfix: "552 5.3.4 Chunk exceeds message size limit", then
        # "551 5.0.0 Discarded N bytes after earlier error" until LAST.
        self.assertEqual(self.chunk(c, b"y" * 60000), "552 5.3.4 Chunk exceeds message size limit")
        self.m.wait_log(r"warning: [0-9A-F]+: BDAT request from unknown\[127\.0\.0\.2\] "
                        r"exceeds message size limit")
        self.assertEqual(self.chunk(c, b"QUIT\r\n"),
                         "551 5.0.0 Discarded 6 bytes after earlier error")
        self.assertEqual(c.cmd("DATA"), "503 5.5.1 Error: DATA after BDAT")
        self.assertEqual(self.chunk(c, b"z", last=True),
                         "551 5.0.0 Discarded 1 bytes after earlier error")
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 Ok")
        self.assertEqual(incoming(self.m), [])

    def test_content_checks_apply(self):
        for text, reply in [(b"Subject: reject me\r\n\r\nbody\r\n", "550 5.7.1 no thanks"),
                            (b"Subject: ok\r\n\r\nforbidden body\r\n", "550 5.7.1 body refused")]:
            c = self.session()
            c.cmd("MAIL FROM:<a@b.test>")
            c.cmd("RCPT TO:<u@example.com>")
            self.assertEqual(self.chunk(c, text, last=True), reply)
        self.assertEqual(incoming(self.m), [])

    def test_bdat_pipelined_with_commands(self):
        # RFC 3030 allows pipelined BDAT; smtpd_forbid_unauth_pipelining
        # (yes here) does not object, as in Postfix with it set.
        c = self.session()
        c.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\nBDAT 5\r\nhello"
               b"BDAT 3 LAST\r\nabcMAIL FROM:<c@b.test>\r\nRCPT TO:<u@example.com>\r\n"
               b"BDAT 4 LAST\r\nxyz\nQUIT\r\n")
        replies = [c.reply() for _ in range(8)]
        self.assertEqual(replies[:3], ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.0.0 Ok: 5 bytes"])
        self.assertRegex(replies[3], r"^250 2\.0\.0 Ok: 10 bytes queued as ")
        self.assertRegex(replies[6], r"^250 2\.0\.0 Ok: 5 bytes queued as ")
        self.assertEqual(replies[7], "221 2.0.0 Bye")
        self.assertEqual(len(incoming(self.m)), 2)

    def test_lost_connection_in_chunk(self):
        lost = r"lost connection after BDAT from unknown\[127\.0\.0\.2\]\n"
        done = (r"disconnect from unknown\[127\.0\.0\.2\] ehlo=1 mail=1 rcpt=1 "
                r"bdat=0/1 commands=3/4")
        before = [len(re.findall(p, self.m.log())) for p in (lost, done)]
        c = self.session()
        c.cmd("MAIL FROM:<a@b.test>")
        c.cmd("RCPT TO:<u@example.com>")
        c.send(b"BDAT 100\r\nonly a part")
        c.close()
        # Postfix: "lost connection after BDAT from host[addr]".
        self.m.wait_log(lost, count=before[0] + 1)
        self.m.wait_log(done, count=before[1] + 1)
        self.assertEqual(incoming(self.m), [])


class SmtpdBdatRestrictions(unittest.TestCase):
    """smtpd_data_restrictions (at the first chunk) and
    smtpd_end_of_data_restrictions (at LAST) apply to BDAT too."""

    def session(self, **main_cf):
        m = smtpd_mta(relay_domains="example.com", smtpd_error_sleep_time="0", **main_cf)
        self.addCleanup(m.cleanup)
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        c.cmd("RCPT TO:<u@example.com>")
        return m, c

    def test_data_restrictions_at_the_first_chunk(self):
        m, c = self.session(smtpd_data_restrictions="reject")
        c.send(b"BDAT 5\r\nhello")
        self.assertEqual(c.reply(), "554 5.7.1 <DATA>: Data command rejected: Access denied")
        c.send(b"BDAT 6 LAST\r\nQUIT\r\n")
        self.assertEqual(c.reply(), "551 5.0.0 Discarded 6 bytes after earlier error")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertEqual(incoming(m), [])

    def test_end_of_data_restrictions_at_last(self):
        m, c = self.session(smtpd_end_of_data_restrictions="reject")
        c.send(b"BDAT 5\r\nhello")
        self.assertEqual(c.reply(), "250 2.0.0 Ok: 5 bytes")
        c.send(b"BDAT 3 LAST\r\nabc")
        self.assertEqual(c.reply(), "554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: "
                                    "Access denied")
        m.wait_log(r"[0-9A-F]+: reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                   r"<END-OF-MESSAGE>: End-of-data rejected: Access denied; from=<a@b\.test> "
                   r"to=<u@example\.com> proto=ESMTP helo=<client\.test>")
        c.cmd("QUIT")
        wait = [n for n, mode in incoming(m) if mode & stat.S_IXUSR]
        self.assertEqual(wait, [])


class SmtpdBdatEndToEnd(unittest.TestCase):
    """BDAT in, SMTP out: the next hop gets the very bytes the client sent."""

    def test_delivered_byte_for_byte(self):
        # With Date: and From:, a local client's message gets no header added.
        parts = [b"Subject: e2e\r\nMessage-ID: <bdat@b.test>\r\nDate: Mon, 7 Dec 2026 "
                 b"10:00:00 +0000\r\nFrom: a@b.test\r\n\r\n.dot line\r\n",
                 b"..\r\n.\r\nmid-li", b"ne end\r\n"]
        with Capture() as cap, MTA(main_cf={
                "relay_domains": "example.com",
                "transport_maps": "inline:{example.com=smtp:[127.0.0.1]:%d}" % cap.port}) as m:
            c = Client(m.smtp_port)
            c.cmd("EHLO client.test")
            c.cmd("MAIL FROM:<a@b.test>")
            c.cmd("RCPT TO:<u@example.com>")
            for i, p in enumerate(parts):
                c.send(b"BDAT %d%s\r\n" % (len(p), b" LAST" if i == 2 else b"") + p)
                self.assertTrue(c.reply().startswith("250 2.0.0 Ok: "))
            c.cmd("QUIT")
            c.close()
            msgs = cap.wait(1)
            m.wait_log(r"status=sent")
        self.assertEqual(client_text(msgs[0].content), b"".join(parts))
        self.assertEqual(msgs[0].rcpt_tos, ["u@example.com"])


if __name__ == "__main__":
    unittest.main()
