"""test_hopcount.py - hopcount_limit: a mail loop is refused at end of data.

Debian's Postfix 3.7.11 with hopcount_limit = 2 and a message carrying
two Received: headers and one Delivered-To: answers the end of data
"554 5.4.0 Error: too many hops" and logs
"warning: QID: message rejected: hopcount exceeded" (from cleanup; here
smtpd writes the queue file itself, so smtpd logs it); nothing is queued.
"""
import os
import smtplib
import unittest

from mta import MTA


class Hopcount(unittest.TestCase):
    def setUp(self):
        self.m = MTA(main_cf={"hopcount_limit": "2", "relay_domains": "dest.test"})
        self.addCleanup(self.m.cleanup)

    def data(self, headers):
        with smtplib.SMTP(self.m.addr, self.m.smtp_port) as s:
            s.ehlo("client.test")
            s.mail("a@b.test")
            s.rcpt("u@dest.test")
            return s.data(headers + "Subject: loop\r\n\r\nbody\r\n")

    def queued(self):
        found = []
        for sub in ("incoming", "active", "deferred"):
            for _, _, files in os.walk(os.path.join(self.m.queue_dir, sub)):
                found += files
        return found

    def test_over_the_limit(self):
        code, text = self.data("Received: from a\r\nDelivered-To: x@y.test\r\n"
                               "received: from c\r\n")
        self.assertEqual((code, text), (554, b"5.4.0 Error: too many hops"))
        self.m.wait_log(r"postfix/smtpd\[\d+\]: warning: [0-9A-F]+: message rejected: "
                        r"hopcount exceeded")
        self.assertEqual(self.queued(), [])

    def test_at_the_limit(self):
        code, _ = self.data("Received: from a\r\nDelivered-To: x@y.test\r\n")
        self.assertEqual(code, 250)
