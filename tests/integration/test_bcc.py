"""test_bcc.py - always_bcc, sender_bcc_maps, recipient_bcc_maps.

Debian's Postfix 3.7.11 with
  always_bcc = journal@arch.test
  sender_bcc_maps = inline:{s@sender.test=sbcc@arch.test}
  recipient_bcc_maps = inline:{r@dest.test=rbcc@arch.test, r2@dest.test=rbcc@arch.test}
  virtual_alias_maps: sbcc@arch.test a1@arch.test, a2@arch.test
took MAIL FROM:<s@sender.test> RCPT TO:<r@dest.test> <r2@dest.test>
<z@dest.test> into a queue file (postcat -e) of 7 recipients: a1 and a2
(original_recipient sbcc@arch.test) before the client's, rbcc once
after r@dest.test, journal@arch.test last; every BCC recipient with
notify_flags=1 (NOTIFY=NEVER), so the sender never hears of one that
fails. qmgr's "nrcpt=" counts them all. A table value is one address
(Postfix does not split a list; we take its first address).
"""
import smtplib
import unittest

from capture import Capture
from mta import MTA

MESSAGE = "From: s@sender.test\r\nTo: r@dest.test\r\nSubject: bcc\r\n\r\nbody\r\n"


class Bcc(unittest.TestCase):
    def mta(self, **main_cf):
        # The journal address refuses mail: a BCC failure must not bounce.
        self.cap = Capture(reject={"journal@arch.test"})
        self.addCleanup(self.cap.stop)
        params = {
            "relay_domains": "dest.test arch.test sender.test",
            "always_bcc": "journal@arch.test",
            "sender_bcc_maps": "inline:{s@sender.test=sbcc@arch.test}",
            "recipient_bcc_maps": "inline:{r@dest.test=rbcc@arch.test, "
                                  "r2@dest.test=rbcc@arch.test}",
        }
        params.update(main_cf)
        m = MTA(start=False, main_cf=params)
        self.addCleanup(m.cleanup)
        m.write("transport", "".join("%s relay:[127.0.0.1]:%d\n" % (d, self.cap.port)
                                     for d in ("dest.test", "arch.test", "sender.test")))
        m.write("valias", "sbcc@arch.test a1@arch.test, a2@arch.test\n")
        m.set_main(transport_maps="texthash:" + m.path("transport"),
                   virtual_alias_maps="texthash:" + m.path("valias"))
        m.start()
        return m

    def send(self, m, sender, rcpts):
        with smtplib.SMTP(m.addr, m.smtp_port) as s:
            s.sendmail(sender, rcpts, MESSAGE)

    def delivered(self):
        return sorted(r for env in self.cap.messages for r in env.rcpt_tos)

    def test_journal_sender_and_recipient_copies(self):
        m = self.mta()
        self.send(m, "s@sender.test", ["r@dest.test", "r2@dest.test", "z@dest.test"])
        m.wait_log(r"from=<s@sender\.test>, size=\d+, nrcpt=7 \(queue active\)")
        m.wait_log(r"to=<journal@arch\.test>, relay=127\.0\.0\.1.*status=bounced")
        m.wait_log(r": removed")
        self.assertEqual(self.delivered(),
                         ["a1@arch.test", "a2@arch.test", "r2@dest.test", "r@dest.test",
                          "rbcc@arch.test", "z@dest.test"])
        m.wait_log(r"to=<a1@arch\.test>, orig_to=<sbcc@arch\.test>, relay=.*status=sent")
        # NOTIFY=NEVER: the failed journal copy makes no bounce for the sender.
        self.assertNotIn("sender non-delivery notification", m.log())
        self.cap.settle(1)
        self.assertFalse([e for e in self.cap.messages if e.mail_from == ""])

    def test_null_sender_gets_no_sender_bcc(self):
        m = self.mta()
        self.send(m, "", ["z@dest.test"])
        m.wait_log(r"to=<journal@arch\.test>.*status=bounced")
        m.wait_log(r": removed")
        self.assertEqual(self.delivered(), ["z@dest.test"])
        self.assertIn("journal@arch.test", self.cap.rcpt_commands)

    def test_no_address_mappings_turns_bcc_off(self):
        m = self.mta(receive_override_options="no_address_mappings")
        self.send(m, "s@sender.test", ["r@dest.test"])
        m.wait_log(r"to=<r@dest\.test>.*status=sent")
        m.wait_log(r": removed")
        self.assertEqual(self.delivered(), ["r@dest.test"])
        self.assertEqual(self.cap.rcpt_commands, ["r@dest.test"])


if __name__ == "__main__":
    unittest.main()
