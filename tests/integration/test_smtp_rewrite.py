"""test_smtp_rewrite.py - what the smtp client changes on the way out.

Compared with Debian's Postfix 3.7.11 relaying the same messages to a
capture server with
  smtp_generic_maps = inline:{a@b.test=generic@out.test, u@ok.test=gu@out.test}
  smtp_header_checks: /^Subject: warnme/ WARN warned it,
    /^Subject: replaceme/ REPLACE Subject: replaced, /^X-Drop:/ IGNORE,
    /^Subject: rej/ REJECT no, /^X-Strip:/ STRIP stripped
  smtp_body_checks: /^body replace/ REPLACE body replaced
Postfix sent MAIL FROM:<generic@out.test>, RCPT TO:<gu@out.test>, headers
"From: A <generic@out.test>", "To: gu@out.test", and logged
  "QID: warning: header Subject: warnme: warned it"
  "QID: replace: header Subject: replaceme: Subject: replaced"
  "QID: strip: header X-Strip: y: stripped"
  "QID: replace: body body replace me: body replaced"
  "warning: unsupported command in smtp_header_checks map: REJECT no"
and the delivery line keeps the original recipient: "to=<u@ok.test>".
Postfix also sends a quoted local part quoted: MAIL FROM:<"s a"@b.test>.
"""
import smtplib
import unittest

from capture import Capture
from mta import MTA


class SmtpRewrite(unittest.TestCase):
    def setUp(self):
        self.cap = Capture()
        self.addCleanup(self.cap.stop)

    def mta(self, **main_cf):
        """main_cf values may name the configuration folder as {conf}."""
        m = MTA(main_cf={"relay_domains": "ok.test"}, start=False)
        self.addCleanup(m.cleanup)
        m.write("transport", "ok.test relay:[127.0.0.1]:%d\n" % self.cap.port)
        m.write("shc.pcre", "/^Subject: warnme/ WARN warned it\n"
                            "/^Subject: replaceme/ REPLACE Subject: replaced\n"
                            "/^X-Drop:/ IGNORE\n/^Subject: rej/ REJECT no\n"
                            "/^X-Strip:/ STRIP stripped\n")
        m.write("sbc.pcre", "/^body replace/ REPLACE body replaced\n")
        m.set_main(transport_maps="texthash:" + m.path("transport"),
                   **{k: v.format(conf=m.config_dir) for k, v in main_cf.items()})
        m.start()
        return m

    def send(self, m, subject, sender="a@b.test", rcpt="u@ok.test"):
        with smtplib.SMTP(m.addr, m.smtp_port) as s:
            s.sendmail(sender, [rcpt],
                       "From: A <a@b.test>\r\nTo: u@ok.test\r\nCc: other@ok.test\r\n"
                       "Subject: %s\r\nX-Drop: x\r\nX-Strip: y\r\n\r\n"
                       "body replace me\r\nline2\r\n" % subject)

    def test_generic_maps_envelope_and_headers(self):
        m = self.mta(smtp_generic_maps="inline:{{a@b.test=generic@out.test, "
                                       "u@ok.test=gu@out.test}}")
        self.send(m, "plain")
        env = self.cap.wait(1)[0]
        self.assertEqual((env.mail_from, env.rcpt_tos), ("generic@out.test", ["gu@out.test"]))
        text = env.content.decode()
        self.assertIn("From: A <generic@out.test>\r\n", text)
        self.assertIn("To: gu@out.test\r\n", text)
        self.assertIn("Cc: other@ok.test\r\n", text)
        m.wait_log(r"to=<u@ok\.test>, relay=127\.0\.0\.1.*status=sent")

    def test_header_and_body_checks(self):
        m = self.mta(smtp_header_checks="pcre:{conf}/shc.pcre",
                     smtp_body_checks="pcre:{conf}/sbc.pcre")
        for subject in ("warnme", "replaceme", "rej"):
            self.send(m, subject)
        msgs = self.cap.wait(3)
        texts = [e.content.decode() for e in msgs]
        for t in texts:
            self.assertNotIn("X-Drop:", t)
            self.assertNotIn("X-Strip:", t)
            self.assertIn("\r\n\r\nbody replaced\r\nline2\r\n", t)
        self.assertTrue(any("Subject: replaced\r\n" in t for t in texts))
        self.assertTrue(any("Subject: rej\r\n" in t for t in texts))
        m.wait_log(r"postfix/relay/smtp\[\d+\]: [0-9A-F]+: warning: header Subject: warnme: "
                   r"warned it")
        m.wait_log(r": [0-9A-F]+: replace: header Subject: replaceme: Subject: replaced")
        m.wait_log(r": [0-9A-F]+: strip: header X-Strip: y: stripped")
        m.wait_log(r": [0-9A-F]+: replace: body body replace me: body replaced")
        m.wait_log(r"warning: unsupported command in smtp_header_checks map: REJECT no")

    def test_quoted_local_part_goes_out_quoted(self):
        m = self.mta()
        self.send(m, "quoted", sender='"s a"@b.test', rcpt='"u b"@ok.test')
        env = self.cap.wait(1)[0]
        self.assertEqual(env.mail_from, '"s a"@b.test')
        self.assertEqual(env.rcpt_tos, ['"u b"@ok.test'])


if __name__ == "__main__":
    unittest.main()
