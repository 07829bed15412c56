"""test_soft_bounce.py - soft_bounce = yes keeps mail that would bounce queued.

Checked against Debian's Postfix 3.7.11 with the same settings:
* smtpd turns its 5xx rejects into 4xx: RCPT to an outside domain from a
  client outside mynetworks gets
  "454 4.7.1 <u@other.test>: Relay access denied" (554 without it);
* a 5xx from the next hop is logged
  "to=<bad@dest.test>, relay=127.0.0.1[127.0.0.1]:2701, delay=0.03,
  delays=0.01/0.01/0/0.01, dsn=4.1.1, status=SOFTBOUNCE (host
  127.0.0.1[127.0.0.1] said: 550 5.1.1 <bad@dest.test>: no such user
  (in reply to RCPT TO command))" and the message stays in the queue,
  without a bounce to the sender;
* the error transport the same way (postfix/error);
* but a message that reaches maximal_queue_lifetime is still returned to
  the sender ("from=<a@b.test>, status=expired, returned to sender"):
  soft_bounce does not change expiry in Postfix, so it does not here.
"""
import os
import re
import smtplib
import time
import unittest

from capture import Capture
from mta import MTA, wait_for


class SoftBounce(unittest.TestCase):
    def setUp(self):
        # The next hop: refuses bad@dest.test; also takes bounces to the sender.
        self.cap = Capture(reject={"bad@dest.test"})
        self.addCleanup(self.cap.stop)

    def mta(self, **main_cf):
        params = {"soft_bounce": "yes", "relay_domains": "dest.test"}
        params.update(main_cf)
        m = MTA(main_cf=params, start=False)
        self.addCleanup(m.cleanup)
        m.write("transport", "dest.test relay:[127.0.0.1]:%d\n"
                             "snd.test relay:[127.0.0.1]:%d\n"
                             "err.test error:5.1.2 we do not like it\n"
                % (self.cap.port, self.cap.port))
        m.write("virtual", "info@dest.test x@err.test\n")
        m.postmap("hash:" + m.path("transport"))
        m.postmap("hash:" + m.path("virtual"))
        m.set_main(transport_maps="hash:" + m.path("transport"),
                   virtual_alias_maps="hash:" + m.path("virtual"))
        m.start()
        return m

    def send(self, m, rcpts, sender="a@snd.test"):
        with smtplib.SMTP(m.addr, m.smtp_port) as s:
            s.sendmail(sender, rcpts, "Subject: soft\r\n\r\nsoft bounce test\r\n")

    def test_smtpd_rejects_are_temporary(self):
        m = self.mta(mynetworks="192.0.2.0/24")
        with smtplib.SMTP(m.addr, m.smtp_port) as s:
            s.ehlo("client.test")
            s.mail("a@snd.test")
            self.assertEqual(s.rcpt("u@other.test"),
                             (454, b"4.7.1 <u@other.test>: Relay access denied"))
        m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 454 4\.7\.1 "
                   r"<u@other\.test>: Relay access denied;")

    def test_next_hop_rejection_stays_queued(self):
        m = self.mta()
        self.send(m, ["bad@dest.test", "good@dest.test"])
        lines = m.wait_log(r"to=<bad@dest\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, "
                           r"delay=[\d.]+, delays=[\d./]+, dsn=4\.1\.1, status=SOFTBOUNCE "
                           r"\(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 "
                           r"<bad@dest\.test>: no such user \(in reply to RCPT TO command\)\)"
                           % self.cap.port)
        self.assertEqual(len(lines), 1)
        m.wait_log(r"to=<good@dest\.test>, .*status=sent")
        wait_for(lambda: self.deferred(m), 30, what="the message in deferred/")
        self.cap.settle(1.5)
        # Only good@ arrived: no bounce went to a@snd.test.
        self.assertEqual([e.rcpt_tos for e in self.cap.messages], [["good@dest.test"]])
        self.assertNotIn("status=bounced", m.log())

    def test_error_transport_stays_queued(self):
        m = self.mta()
        self.send(m, ["info@dest.test"])
        m.wait_log(r"postfix/error\[\d+\]: \w+: to=<x@err\.test>, orig_to=<info@dest\.test>, "
                   r"relay=none, delay=[\d.]+, delays=[\d./]+, dsn=4\.1\.2, "
                   r"status=SOFTBOUNCE \(we do not like it\)")
        wait_for(lambda: self.deferred(m), 30, what="the message in deferred/")
        self.cap.settle(1)
        self.assertEqual(self.cap.messages, [])

    def test_expiry_still_returns_to_sender(self):
        m = self.mta(maximal_queue_lifetime="1s", bounce_queue_lifetime="1s")
        self.send(m, ["bad@dest.test"])
        m.wait_log(r"status=SOFTBOUNCE")
        m.wait_log(r"from=<a@snd\.test>, status=expired, returned to sender")
        self.cap.wait(1)
        self.assertEqual(self.cap.messages[0].rcpt_tos, ["a@snd.test"])
        self.assertEqual(self.cap.messages[0].mail_from, "<>")

    @staticmethod
    def deferred(m):
        found = []
        for dirpath, _, files in os.walk(os.path.join(m.queue_dir, "deferred")):
            found += files
        return found


if __name__ == "__main__":
    unittest.main()
