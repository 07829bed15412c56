"""test_forward - virtual alias domains forwarding to remote mailboxes.

An outsider (127.0.0.1 is not in mynetworks here) sends to a virtual
alias domain; the targets live on capture servers reached through
transport_maps. Each target gets the message once, with the rewritten
envelope recipient, the original sender, and the data as sent below our
Received header. Unknown aliases get Postfix's 550 at RCPT time, and the
targets are not an open relay.
"""
import os
import smtplib
import unittest

from capture import Capture
from mta import MTA, wait_for

SENDER = "sender@sender.example"
BODY = (b"From: Sender <sender@sender.example>\r\n"
        b"Subject: forwarding test\r\n"
        b"Message-ID: <fwd-%d@sender.example>\r\n"
        b"\r\n"
        b"line one\r\n"
        b".leading dot\r\n"
        b"last line without much\r\n")


def below_received(data):
    """The message as the capture server got it, minus our Received header."""
    lines = data.split(b"\r\n")
    assert lines[0].startswith(b"Received:"), lines[0]
    i = 1
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    return b"\r\n".join(lines[i:])


def rcpt_reply(port, rcpt, sender=SENDER):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("client.example")
        s.mail(sender)
        code, text = s.rcpt(rcpt)
        s.rset()
        return code, text.decode()


class Forward(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cap1 = Capture()
        cls.cap2 = Capture()
        m = cls.mta = MTA(start=False)
        m.write("virtual",
                "alias.example		anything\n"
                "catchall.example	anything\n"
                "info@alias.example	owner@provider.example\n"
                "team@alias.example	a@one.example, b@two.example\n"
                "@catchall.example	boss@provider.example\n")
        m.write("transport",
                "provider.example	smtp:[127.0.0.1]:%d\n"
                "one.example		smtp:[127.0.0.1]:%d\n"
                "two.example		smtp:[127.0.0.1]:%d\n"
                % (cls.cap1.port, cls.cap1.port, cls.cap2.port))
        m.postmap("hash:" + m.path("virtual"))
        m.postmap("hash:" + m.path("transport"))
        m.set_main(mynetworks="192.0.2.0/24",
                   relay_domains="",
                   smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination",
                   virtual_alias_maps="hash:" + m.path("virtual"),
                   transport_maps="hash:" + m.path("transport"))
        m.start()

    @classmethod
    def tearDownClass(cls):
        cls.mta.cleanup()
        cls.cap1.stop()
        cls.cap2.stop()

    def send(self, rcpts, n):
        body = BODY.replace(b"%d", str(n).encode())
        with smtplib.SMTP("127.0.0.1", self.mta.smtp_port, timeout=30) as s:
            s.ehlo("client.example")
            refused = s.sendmail(SENDER, rcpts, body)
            self.assertEqual(refused, {})
        return body

    def received(self, cap, msgid):
        return [e for e in cap.messages if msgid.encode() in e.content]

    def test_1to1_1toN_catchall(self):
        b1 = self.send(["info@alias.example"], 1)
        b2 = self.send(["team@alias.example"], 2)
        b3 = self.send(["anyone@catchall.example"], 3)
        wait_for(lambda: len(self.received(self.cap1, "fwd-1@")) >= 1
                 and len(self.received(self.cap1, "fwd-2@")) >= 1
                 and len(self.received(self.cap2, "fwd-2@")) >= 1
                 and len(self.received(self.cap1, "fwd-3@")) >= 1, 30,
                 what="forwarded messages at the capture servers")
        self.cap1.settle(2)

        (e1,) = self.received(self.cap1, "fwd-1@")
        self.assertEqual(e1.rcpt_tos, ["owner@provider.example"])
        self.assertEqual(e1.mail_from, SENDER)
        self.assertEqual(below_received(e1.content), b1)

        (e2a,) = self.received(self.cap1, "fwd-2@")
        (e2b,) = self.received(self.cap2, "fwd-2@")
        self.assertEqual(e2a.rcpt_tos, ["a@one.example"])
        self.assertEqual(e2b.rcpt_tos, ["b@two.example"])
        self.assertEqual(e2a.mail_from, SENDER)
        self.assertEqual(e2b.mail_from, SENDER)
        self.assertEqual(below_received(e2a.content), below_received(e2b.content))

        (e3,) = self.received(self.cap1, "fwd-3@")
        self.assertEqual(e3.rcpt_tos, ["boss@provider.example"])
        self.assertEqual(e3.mail_from, SENDER)

        log = self.mta.log()
        self.assertRegex(log, r"to=<owner@provider\.example>, orig_to=<info@alias\.example>, "
                              r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent")
        self.assertRegex(log, r"to=<b@two\.example>, orig_to=<team@alias\.example>")
        self.assertRegex(log, r"to=<boss@provider\.example>, orig_to=<anyone@catchall\.example>")

    def test_unknown_alias_and_no_relay(self):
        code, text = rcpt_reply(self.mta.smtp_port, "nobody@alias.example")
        self.assertEqual((code, text), (550, "5.1.1 <nobody@alias.example>: Recipient address "
                                             "rejected: User unknown in virtual alias table"))
        for target in ("owner@provider.example", "a@one.example"):
            code, text = rcpt_reply(self.mta.smtp_port, target)
            self.assertEqual((code, text), (554, "5.7.1 <%s>: Relay access denied" % target))
        self.assertRegex(self.mta.log(), r"NOQUEUE: reject: RCPT from \S+: 550 5\.1\.1 "
                                         r"<nobody@alias\.example>: Recipient address rejected: "
                                         r"User unknown in virtual alias table;")


if __name__ == "__main__":
    unittest.main()
