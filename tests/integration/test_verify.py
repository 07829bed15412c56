"""test_verify - a backup MX with reject_unverified_recipient.

The primary is a capture server that knows good@ and refuses bad@ at
RCPT. Probes go through the queue and the relay transport, stop after
RCPT (the primary never sees DATA for them) and come from
double-bounce@$myorigin. Primary up: good@ 250, bad@ 550 with the
primary's reply; primary down: good@ still 250 (cached) and queued, bad@
still 550 (cached), a never-seen address 450 with the connection error,
never 5xx; primary back: the queued message arrives exactly once.
Learned recipients: a delivery to a relay_domains address makes it
known without a probe.
"""
import os
import re
import smtplib
import subprocess
import time
import unittest

from capture import Capture
from mta import MTA, LIBEXEC, SBIN, wait_for

SENDER = "sender@sender.example"


def rcpt_reply(port, rcpt, sender=SENDER):
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        s.ehlo("client.example")
        s.mail(sender)
        code, text = s.rcpt(rcpt)
        s.rset()
        return code, text.decode()


class BackupMX(unittest.TestCase):
    def setUp(self):
        self.primary = Capture(reject={"bad@example.com"})
        m = self.mta = MTA(start=False)
        m.write("transport", "example.com	relay:[127.0.0.1]:%d\n" % self.primary.port)
        m.postmap("hash:" + m.path("transport"))
        m.set_main(mynetworks="192.0.2.0/24",
                   myorigin="backup.test.invalid",
                   relay_domains="example.com",
                   transport_maps="hash:" + m.path("transport"),
                   smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination",
                   smtpd_recipient_restrictions="reject_unverified_recipient",
                   unverified_recipient_reject_code="550",
                   address_verify_poll_count="15",
                   address_verify_poll_delay="1s",
                   smtp_connect_timeout="5s")

    def tearDown(self):
        self.mta.cleanup()
        self.primary.stop()

    def send(self, rcpt, tag):
        with smtplib.SMTP("127.0.0.1", self.mta.smtp_port, timeout=60) as s:
            s.ehlo("client.example")
            s.sendmail(SENDER, [rcpt], b"Subject: %s\r\nMessage-ID: <%s@sender.example>\r\n\r\nbody\r\n"
                       % (tag.encode(), tag.encode()))

    def copies(self, tag):
        return [e for e in self.primary.messages if tag.encode() in e.content]

    def test_primary_up_down_back(self):
        m = self.mta
        m.start()
        port = self.primary.port

        # Primary up: the probe answers for us.
        self.assertEqual(rcpt_reply(m.smtp_port, "good@example.com"), (250, "2.1.5 Ok"))
        code, text = rcpt_reply(m.smtp_port, "bad@example.com")
        self.assertEqual(code, 550, text)
        self.assertEqual(text, "5.1.1 <bad@example.com>: Recipient address rejected: "
                               "undeliverable address: host 127.0.0.1[127.0.0.1] said: "
                               "550 5.1.1 <bad@example.com>: no such user "
                               "(in reply to RCPT TO command)")
        self.send("good@example.com", "msg-up")
        wait_for(lambda: self.copies("msg-up"), 30, what="delivery to good@")
        # Probes come from double-bounce@$myorigin and never reach DATA.
        log = m.log()
        self.assertRegex(log, r"from=<double-bounce@backup\.test\.invalid>")
        self.assertRegex(log, r"to=<good@example\.com>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, "
                              r".*status=deliverable")
        self.assertRegex(log, r"to=<bad@example\.com>, .*status=undeliverable")
        self.assertIn("good@example.com", self.primary.rcpt_commands)

        # Primary down.
        self.primary.stop()
        self.assertEqual(rcpt_reply(m.smtp_port, "good@example.com"), (250, "2.1.5 Ok"))
        self.send("good@example.com", "msg-down")
        code, text = rcpt_reply(m.smtp_port, "bad@example.com")
        self.assertEqual(code, 550, text)
        code, text = rcpt_reply(m.smtp_port, "never-seen@example.com")
        self.assertEqual(code, 450, text)
        self.assertRegex(text, r"^4\.1\.1 <never-seen@example\.com>: Recipient address rejected: "
                               r"unverified address: connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: "
                               r"Connection refused$" % port)
        wait_for(lambda: m.queue_files("deferred"), 30, what="msg-down deferred")

        # Primary back: delivered once; no probe ever sent DATA.
        self.primary.start()
        if os.path.exists(os.path.join(LIBEXEC, "flush")):
            m.command("postqueue", "-f")
        wait_for(lambda: self.copies("msg-down"), 60, what="delivery after the primary came back")
        self.primary.settle(3)
        self.assertEqual(len(self.copies("msg-down")), 1)
        self.assertEqual(len(self.copies("msg-up")), 1)
        self.assertEqual(self.primary.data_commands, len(self.primary.messages))
        for e in self.primary.messages:
            self.assertNotRegex(e.mail_from, r"^double-bounce@")
            self.assertEqual(e.rcpt_tos, ["good@example.com"])

    def test_unverified_sender(self):
        m = self.mta
        m.set_main(smtpd_recipient_restrictions="permit",
                   smtpd_sender_restrictions="reject_unverified_sender",
                   unverified_sender_reject_code="550")
        m.start()
        code, text = rcpt_reply(m.smtp_port, "good@example.com", sender="bad@example.com")
        self.assertEqual(code, 550, text)
        self.assertEqual(text, "5.1.7 <bad@example.com>: Sender address rejected: "
                               "undeliverable address: host 127.0.0.1[127.0.0.1] said: "
                               "550 5.1.1 <bad@example.com>: no such user "
                               "(in reply to RCPT TO command)")
        self.assertEqual(rcpt_reply(m.smtp_port, "good@example.com", sender="good@example.com"),
                         (250, "2.1.5 Ok"))
        # The null sender is never verified.
        self.assertEqual(rcpt_reply(m.smtp_port, "good@example.com", sender=""),
                         (250, "2.1.5 Ok"))

    def test_aliases_are_verified_through_their_targets(self):
        m = self.mta
        m.write("virtual", "alias.example anything\ninfo@alias.example good@example.com\n"
                           "old@alias.example bad@example.com\n")
        m.postmap("hash:" + m.path("virtual"))
        m.set_main(virtual_alias_maps="hash:" + m.path("virtual"))
        m.start()
        self.assertEqual(rcpt_reply(m.smtp_port, "info@alias.example"), (250, "2.1.5 Ok"))
        code, text = rcpt_reply(m.smtp_port, "old@alias.example")
        self.assertEqual(code, 550, text)
        self.assertEqual(text, "5.1.1 <old@alias.example>: Recipient address rejected: "
                               "undeliverable address: host 127.0.0.1[127.0.0.1] said: "
                               "550 5.1.1 <bad@example.com>: no such user "
                               "(in reply to RCPT TO command)")
        # An address of the alias domain without an alias is not probed:
        # the virtual alias table answers for it.
        code, text = rcpt_reply(m.smtp_port, "nobody@alias.example")
        self.assertEqual(code, 550, text)
        self.assertIn("User unknown in virtual alias table", text)
        self.assertEqual(sorted(a.lower() for a in self.primary.rcpt_commands),
                         ["bad@example.com", "good@example.com"])
        self.assertEqual(self.primary.data_commands, 0)
        log = m.log()
        self.assertRegex(log, r"to=<good@example\.com>, orig_to=<info@alias\.example>, "
                              r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=deliverable")
        self.assertNotRegex(log, r"\]: [0-9A-F]+: to=<nobody@alias\.example>")
        cache = m.command("postmap", "-s", "btree:" + os.path.join(m.data_dir, "verify_cache")).stdout
        self.assertRegex(cache, r"(?m)^info@alias\.example\t0:")
        self.assertRegex(cache, r"(?m)^old@alias\.example\t2:")

        # The primary down: the alias stays accepted on its cached result.
        self.primary.stop()
        self.assertEqual(rcpt_reply(m.smtp_port, "info@alias.example"), (250, "2.1.5 Ok"))

    def test_learned_recipient(self):
        m = self.mta
        # First without verification: a delivery teaches the cache.
        m.set_main(smtpd_recipient_restrictions="permit")
        m.start()
        self.send("new@example.com", "learn")
        wait_for(lambda: self.copies("learn"), 30, what="delivery to new@")
        cache = os.path.join(m.data_dir, "verify_cache")
        wait_for(lambda: "new@example.com\t0:" in m.command("postmap", "-s", "btree:" + cache).stdout,
                 15, what="new@example.com learned in the verify cache")
        m.stop()

        # Then with verification, the primary down: accepted, no probe.
        m.set_main(smtpd_recipient_restrictions="reject_unverified_recipient")
        self.primary.stop()
        m.start()
        self.assertEqual(rcpt_reply(m.smtp_port, "new@example.com"), (250, "2.1.5 Ok"))
        time.sleep(1)
        self.assertNotRegex(m.log(), r"from=<double-bounce@")
        self.assertEqual(m.queue_files("incoming") + m.queue_files("active"), [])


class VerifyServiceFailure(unittest.TestCase):
    """The verify service cannot be reached: unverified_recipient_tempfail_action."""

    def reply(self, **main_cf):
        m = MTA(main_cf=dict(relay_domains="example.com", mynetworks="192.0.2.0/24",
                             address_verify_service_name="nosuch",
                             smtpd_relay_restrictions="reject_unauth_destination",
                             smtpd_recipient_restrictions="reject_unverified_recipient, "
                             "check_recipient_access inline:{bad@example.com=REJECT}",
                             **main_cf))
        try:
            return [rcpt_reply(m.smtp_port, a) for a in ("ok@example.com", "bad@example.com")]
        finally:
            m.cleanup()

    def test_defer_if_permit_is_the_default(self):
        problem = "4.1.1 <ok@example.com>: Recipient address rejected: address verification problem"
        self.assertEqual(self.reply(), [
            (450, problem),
            (554, "5.7.1 <bad@example.com>: Recipient address rejected: Access denied")])
        self.assertEqual(self.reply(unverified_recipient_tempfail_action="defer"), [
            (450, problem), (450, problem.replace("ok@", "bad@"))])


if __name__ == "__main__":
    unittest.main()
