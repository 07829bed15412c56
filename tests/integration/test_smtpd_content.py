"""header_checks and body_checks in smtpd, with Debian Postfix 3.7's replies,
log lines and message text (checked against Postfix's cleanup)."""
import re
import stat
import unittest

from smtpd_util import Client, smtpd_mta, incoming, read_queue_file, record

HEADER_CHECKS = r"""/^Subject:.*rejectme/ REJECT
/^Subject:.*rejtext/ REJECT no thanks here
/^X-Code:/ REJECT 4.7.1 custom code
/^Subject:.*warnme/ WARN warned text
/^Subject:.*warnnotext/ WARN
/^Subject:.*ignoreme/ IGNORE
/^Subject:.*discardme/ DISCARD gone
/^Subject:.*holdme/ HOLD held text
/^Subject:.*prependme/ PREPEND X-Added: yes
/^Subject:.*replaceme/ REPLACE Subject: replaced
/^Subject:.*infome/ INFO info text
/^X-Multi:(.*)$/ WARN got [$1]
/^X-Rej2/ REJECT
/^X-Dup/ WARN dup
/^X-Long/ WARN long
/^X-Bad/ FOOBAR x
/^X-Pre/ PREPEND
"""

BODY_CHECKS = r"""/bodyreject/ REJECT body bad
/bodywarn/ WARN body warned
/bodyignore/ IGNORE
/bodyprepend/ PREPEND X-Body: pre
/bodyreplace/ REPLACE replaced body line
/^$/ WARN empty line
"""

LOG_TAIL = " from localhost[127.0.0.1]; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<client>"
QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$")


class SmtpdContentChecks(unittest.TestCase):

    def mta(self, **main_cf):
        m = smtpd_mta(files={"hc": HEADER_CHECKS, "bc": BODY_CHECKS},
                      header_checks="pcre:@CONFIG@/hc", body_checks="pcre:@CONFIG@/bc",
                      smtpd_error_sleep_time="0", **main_cf)
        self.addCleanup(m.cleanup)
        return m

    def send(self, m, *messages):
        """Each message (text with CRLF lines) in one session; the replies."""
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client")
        replies = []
        for text in messages:
            self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")
            self.assertEqual(c.cmd("RCPT TO:<c@d.example>"), "250 2.1.5 Ok")
            self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
            replies.append(c.cmd(text + "\r\n."))
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        return replies

    def message(self, m, qid, queue="incoming"):
        recs = read_queue_file("%s/%s/%s" % (m.queue_dir, queue, qid))
        return b"".join(record(recs, "M")).decode()

    def body_of(self, text):
        """The message without our Received: header and the Message-Id:,
        Date: and From: that smtpd adds for a local client, as Postfix's
        cleanup does."""
        text = re.sub(r"^Received: .*?\r\n(?=\S)", "", text, count=1, flags=re.S)
        text = re.sub(r"^Message-Id: <[^>]*>\r\n", "", text, count=1, flags=re.M)
        text = re.sub(r"^Date: \w{3}, [ \d]\d \w{3} \d{4} [\d:]{8} [-+]\d{4} \(\w+\)\r\n", "",
                      text, count=1, flags=re.M)
        return re.sub(r"^From: a@b\.example\r\n", "", text, count=1, flags=re.M)

    def test_reject(self):
        m = self.mta()
        replies = self.send(m, "Subject: rejectme\r\n\r\nbody", "Subject: rejtext\r\n\r\nbody",
                            "X-Code: a\r\n\r\nb",
                            "Subject: holdme\r\nX-Rej2: 1\r\nX-Dup: 1\r\n\r\nbodywarn",
                            "Subject: y\r\n\r\nbodyreject\r\nbodywarn")
        self.assertEqual(replies, ["550 5.7.1 message content rejected",
                                   "550 5.7.1 no thanks here", "451 4.7.1 custom code",
                                   "550 5.7.1 message content rejected", "550 5.7.1 body bad"])
        log = m.log()
        for line in [": reject: header Subject: rejectme" + LOG_TAIL + ": 5.7.1 message content rejected",
                     ": reject: header Subject: rejtext" + LOG_TAIL + ": 5.7.1 no thanks here",
                     ": reject: header X-Code: a" + LOG_TAIL + ": 4.7.1 custom code",
                     ": hold: header Subject: holdme" + LOG_TAIL + ": held text",
                     ": reject: header X-Rej2: 1" + LOG_TAIL + ": 5.7.1 message content rejected",
                     ": reject: body bodyreject" + LOG_TAIL + ": 5.7.1 body bad"]:
            self.assertIn(line, log)
        # Nothing is checked after a REJECT.
        self.assertNotIn("X-Dup", log)
        self.assertNotIn("warning: body", log)
        self.assertEqual([n for n, mode in incoming(m) if mode & stat.S_IXUSR], [])
        self.assertEqual(m.queue_files("hold"), [])
        # The session went on after each REJECT.
        self.assertEqual(len(replies), 5)

    def test_warn_info_and_multiline_header(self):
        m = self.mta()
        [reply] = self.send(m, "Subject: warnme\r\nX-Multi: a\r\n\tb\r\n c\r\nSubject: infome\r\n"
                               "Subject: warnnotext\r\n\r\nbodywarn\r\n\r\nx")
        qid = QUEUED.match(reply).group(1)
        log = m.log()
        self.assertIn(qid + ": warning: header Subject: warnme" + LOG_TAIL + ": warned text", log)
        # The pattern sees the lines joined by "\n"; the log shows "?".
        self.assertIn(qid + ": warning: header X-Multi: a??b? c" + LOG_TAIL + ": got [ a??b? c]", log)
        self.assertIn(qid + ": info: header Subject: infome" + LOG_TAIL + ": info text", log)
        self.assertIn(qid + ": warning: header Subject: warnnotext" + LOG_TAIL + "\n", log)
        self.assertIn(qid + ": warning: body bodywarn" + LOG_TAIL + ": body warned", log)
        # Empty body lines are not looked up.
        self.assertNotIn("empty line", log)
        self.assertEqual(self.body_of(self.message(m, qid)),
                         "Subject: warnme\r\nX-Multi: a\r\n\tb\r\n c\r\nSubject: infome\r\n"
                         "Subject: warnnotext\r\n\r\nbodywarn\r\n\r\nx\r\n")

    def test_our_received_header_is_checked(self):
        m = smtpd_mta(files={"hc": "/^Received:.*client/ WARN rcvd\n"},
                      header_checks="pcre:@CONFIG@/hc")
        self.addCleanup(m.cleanup)
        [reply] = self.send(m, "Subject: x\r\n\r\nb")
        qid = QUEUED.match(reply).group(1)
        self.assertRegex(m.log(), re.escape(qid) + r": warning: header Received: from client "
                         r"\(localhost \[127\.0\.0\.1\]\)\?\?by .* id " + re.escape(qid) +
                         r"\?\?for <c@d\.example>; .*" + re.escape(LOG_TAIL) + ": rcvd\n")

    def test_ignore_prepend_replace(self):
        m = self.mta()
        [reply] = self.send(m, "Subject: ignoreme\r\nSubject: prependme\r\nSubject: replaceme\r\n\r\n"
                               "bodyignore\r\nbodyprepend\r\nbodyreplace\r\nend")
        qid = QUEUED.match(reply).group(1)
        log = m.log()
        self.assertIn(qid + ": prepend: header Subject: prependme" + LOG_TAIL + ": X-Added: yes", log)
        self.assertIn(qid + ": replace: header Subject: replaceme" + LOG_TAIL + ": Subject: replaced", log)
        self.assertIn(qid + ": prepend: body bodyprepend" + LOG_TAIL + ": X-Body: pre", log)
        self.assertIn(qid + ": replace: body bodyreplace" + LOG_TAIL + ": replaced body line", log)
        self.assertNotIn("ignoreme", log)
        self.assertNotIn("bodyignore", log)
        self.assertEqual(self.body_of(self.message(m, qid)),
                         "X-Added: yes\r\nSubject: prependme\r\nSubject: replaced\r\n\r\n"
                         "X-Body: pre\r\nbodyprepend\r\nreplaced body line\r\nend\r\n")

    def test_discard(self):
        m = self.mta()
        [reply] = self.send(m, "Subject: discardme\r\nX-Rej2: a\r\n\r\nbody")
        qid = QUEUED.match(reply).group(1)
        log = m.log()
        self.assertIn(qid + ": discard: header Subject: discardme" + LOG_TAIL + ": gone", log)
        self.assertNotIn("X-Rej2", log)
        self.assertNotIn(qid + ": message-id=", log)
        self.assertEqual([n for n, mode in incoming(m) if mode & stat.S_IXUSR], [])

    def test_hold(self):
        m = self.mta()
        [reply] = self.send(m, "Subject: holdme\r\nX-Dup: 1\r\n\r\nbody")
        qid = QUEUED.match(reply).group(1)
        log = m.log()
        self.assertIn(qid + ": hold: header Subject: holdme" + LOG_TAIL + ": held text", log)
        self.assertIn(qid + ": warning: header X-Dup: 1" + LOG_TAIL + ": dup", log)
        self.assertEqual(m.queue_files("hold"), [qid])
        self.assertEqual(incoming(m), [])
        self.assertEqual(self.body_of(self.message(m, qid, "hold")), "Subject: holdme\r\nX-Dup: 1\r\n\r\nbody\r\n")

    def test_long_header_logged_to_200_bytes(self):
        m = self.mta()
        [reply] = self.send(m, "X-Long: " + "y" * 300 + "\r\n\r\nb")
        qid = QUEUED.match(reply).group(1)
        self.assertIn(qid + ": warning: header X-Long: " + "y" * 192 + LOG_TAIL + ": long", m.log())

    def test_body_checks_size_limit(self):
        m = self.mta(body_checks_size_limit="12")
        replies = self.send(m, "Subject: x\r\n\r\n123456\r\nbodywarn 1\r\nbodywarn 2",
                            "Subject: x\r\n\r\n" + "\r\n" * 10 + "bodywarn a\r\nbodywarn b")
        log = m.log()
        self.assertIn(QUEUED.match(replies[0]).group(1) + ": warning: body bodywarn 1", log)
        self.assertIn(QUEUED.match(replies[1]).group(1) + ": warning: body bodywarn a", log)
        self.assertNotIn("bodywarn 2", log)
        self.assertNotIn("bodywarn b", log)

    def test_log_names_last_recipient(self):
        # Postfix's cleanup logs the last recipient it was given.
        m = self.mta()
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client")
        c.cmd("MAIL FROM:<a@b.example>")
        self.assertEqual(c.cmd("RCPT TO:<c@d.example>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<e@f.example>"), "250 2.1.5 Ok")
        c.cmd("DATA")
        self.assertEqual(c.cmd("Subject: x\r\n\r\nbodyreject\r\n."), "550 5.7.1 body bad")
        self.assertIn(": reject: body bodyreject from localhost[127.0.0.1]; from=<a@b.example> "
                      "to=<e@f.example> proto=ESMTP helo=<client>: 5.7.1 body bad", m.log())

    def test_bad_actions(self):
        m = self.mta()
        [reply] = self.send(m, "X-Bad: y\r\nX-Pre: 1\r\n\r\nb")
        self.assertRegex(reply, QUEUED)
        log = m.log()
        self.assertIn("warning: unknown command in header_checks map: FOOBAR x\n", log)
        self.assertIn("warning: PREPEND action without text in header_checks map\n", log)

    def test_no_checks_unchanged(self):
        with smtpd_mta() as m:
            [reply] = self.send(m, "Subject: rejectme\r\n\r\nbodyreject")
            qid = QUEUED.match(reply).group(1)
            self.assertEqual(self.body_of(self.message(m, qid)), "Subject: rejectme\r\n\r\nbodyreject\r\n")


if __name__ == "__main__":
    unittest.main()
