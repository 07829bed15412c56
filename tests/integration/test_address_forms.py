"""test_address_forms.py - routing inside the local part of a local address.

Postfix's resolver strips a local domain (mydestination) from an address
whose local part still routes, and follows the rest: "u@remote.test"@here,
u%remote.test@here (allow_percent_hack) and remote.test!u@here
(swap_bangpath) all go to u@remote.test; u%a.test%b.test@here goes to
u%a.test@b.test. Debian's Postfix 3.7.11, with mydestination =
mx.test.invalid, localhost, a trusted client and relayhost to a server,
logged for each:
  to=<u@remote.test>, orig_to=<u%remote.test@mx.test.invalid>, relay=...
With resolve_dequoted_address = no, "u@remote.test"@mx.test.invalid
stayed local (here local_transport = error:local here, so RCPT got
"550 5.1.1 <u@remote.test@mx.test.invalid>: Recipient address rejected:
local here") while % and ! still routed. With resolve_null_domain = yes,
RCPT TO:<u@> is the local host ("550 5.1.1 <u@>: Recipient address
rejected: local here"); by default "501 5.1.3 Bad recipient address
syntax".
"""
import smtplib
import unittest

from capture import Capture
from mta import MTA
from smtpd_util import Client

ROUTED = {
    '"u@remote.test"@mx.test.invalid': "u@remote.test",
    "u%remote.test@mx.test.invalid": "u@remote.test",
    "remote.test!u@mx.test.invalid": "u@remote.test",
    "u%remote.test@localhost": "u@remote.test",
    "u%a.test%b.test@mx.test.invalid": "u%a.test@b.test",
}


class AddressForms(unittest.TestCase):
    def mta(self, **main_cf):
        self.cap = Capture()
        self.addCleanup(self.cap.stop)
        params = {
            "mydestination": "mx.test.invalid, localhost",
            "mynetworks": "127.0.0.0/8",
            "relayhost": "[127.0.0.1]:%d" % self.cap.port,
            "local_transport": "error:local here",
        }
        params.update(main_cf)
        m = MTA(main_cf=params)
        self.addCleanup(m.cleanup)
        return m

    def rcpt(self, m, address):
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<s@sender.test>")
        reply = c.cmd("RCPT TO:<%s>" % address)
        c.close()
        return reply

    def test_local_part_routing_is_followed(self):
        m = self.mta()
        for rcpt, final in ROUTED.items():
            with smtplib.SMTP(m.addr, m.smtp_port) as s:
                s.sendmail("s@sender.test", [rcpt], "Subject: %s\r\n\r\nx\r\n" % rcpt)
        self.cap.wait(len(ROUTED))
        self.assertEqual(sorted(r for e in self.cap.messages for r in e.rcpt_tos),
                         sorted(ROUTED.values()))
        # The log names the queue file's address as orig_to=, as Postfix.
        m.wait_log(r'to=<u@remote\.test>, orig_to=<"u@remote\.test"@mx\.test\.invalid>, '
                   r'relay=127\.0\.0\.1.*status=sent')
        m.wait_log(r"to=<u%a\.test@b\.test>, orig_to=<u%a\.test%b\.test@mx\.test\.invalid>, "
                   r"relay=127\.0\.0\.1.*status=sent")

    def test_resolve_dequoted_address_no(self):
        m = self.mta(resolve_dequoted_address="no")
        self.assertEqual(self.rcpt(m, '"u@remote.test"@mx.test.invalid'),
                         "550 5.1.1 <u@remote.test@mx.test.invalid>: Recipient address "
                         "rejected: local here")
        self.assertEqual(self.rcpt(m, "u%remote.test@mx.test.invalid"), "250 2.1.5 Ok")

    def test_resolve_null_domain(self):
        m = self.mta()
        self.assertEqual(self.rcpt(m, "u@"), "501 5.1.3 Bad recipient address syntax")
        m2 = self.mta(resolve_null_domain="yes")
        self.assertEqual(self.rcpt(m2, "u@"),
                         "550 5.1.1 <u@>: Recipient address rejected: local here")

    def test_untrusted_client_gets_no_relay_through_routing(self):
        # Postfix 3.7, client outside mynetworks (reject_unauth_destination):
        # "554 5.7.1 <u%remote.test@mx.test.invalid>: Relay access denied";
        # 454 4.7.1 with the default defer_unauth_destination.
        m = self.mta(mynetworks="192.0.2.0/24")
        self.assertEqual(self.rcpt(m, "u%remote.test@mx.test.invalid"),
                         "454 4.7.1 <u%remote.test@mx.test.invalid>: Relay access denied")


if __name__ == "__main__":
    unittest.main()
