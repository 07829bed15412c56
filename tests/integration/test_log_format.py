"""test_log_format.py - info_log_address_format: addresses in log lines.

Debian's Postfix 3.7.11 (default "external") for MAIL FROM:<"s a"@b.test>
and RCPT TO:<"u b"@ok.test> logs
  qmgr: "from=<"s a"@b.test>, size=..., nrcpt=1 (queue active)"
  smtp: "to=<"u b"@ok.test>, relay=..., status=sent (...)"
and a refused recipient
  "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 454 4.7.1
  <u b@other.test>: Relay access denied; from=<"s a"@b.test>
  to=<"u b"@other.test> proto=ESMTP helo=<x>"
(the reply keeps the internal form, the log fields are quoted).
"""
import smtplib
import unittest

from capture import Capture
from mta import MTA


class LogAddressFormat(unittest.TestCase):
    def run_mta(self, **main_cf):
        cap = Capture()
        self.addCleanup(cap.stop)
        params = {"relay_domains": "ok.test", "mynetworks": "192.0.2.0/24"}
        params.update(main_cf)
        m = MTA(main_cf=params, start=False)
        self.addCleanup(m.cleanup)
        m.write("transport", "ok.test relay:[127.0.0.1]:%d\n" % cap.port)
        m.set_main(transport_maps="texthash:" + m.path("transport"))
        m.start()
        with smtplib.SMTP(m.addr, m.smtp_port) as s:
            s.ehlo("x")
            s.mail('"s a"@b.test')
            self.assertEqual(s.rcpt('"u b"@other.test')[0], 454)
            self.assertEqual(s.rcpt('"u b"@ok.test')[0], 250)
            s.data("Subject: x\r\n\r\nhi\r\n")
        m.wait_log(r"status=sent")
        return m

    def test_external_by_default(self):
        m = self.run_mta()
        log = m.log()
        self.assertIn('from=<"s a"@b.test>, size=', log)
        self.assertIn('to=<"u b"@ok.test>, relay=127.0.0.1', log)
        self.assertIn('<u b@other.test>: Relay access denied; from=<"s a"@b.test> '
                      'to=<"u b"@other.test> proto=ESMTP helo=<x>', log)

    def test_internal(self):
        m = self.run_mta(info_log_address_format="internal")
        log = m.log()
        self.assertIn("from=<s a@b.test>, size=", log)
        self.assertIn("to=<u b@ok.test>, relay=127.0.0.1", log)
        self.assertIn("Relay access denied; from=<s a@b.test> to=<u b@other.test>", log)


if __name__ == "__main__":
    unittest.main()
