"""test_forward - virtual alias domains forwarding to remote mailboxes.

An outsider (127.0.0.1 is not in mynetworks here) sends to a virtual
alias domain; the targets live on capture servers reached through
transport_maps. Each target gets the message once, with the rewritten
envelope recipient, the original sender, and the data as sent below our
Received header. Unknown aliases get Postfix's 550 at RCPT time, and the
targets are not an open relay. ForwardThroughMX routes the targets by MX
records that nsd serves instead of transport_maps.
"""
import base64
import hashlib
import hmac
import os
import re
import smtplib
import time
import unittest

from capture import Capture
from mta import MTA, wait_for
from test_smtp import Nsd, common_port, loopback_addr

SENDER = "sender@sender.example"
BODY = (b"From: Sender <sender@sender.example>\r\n"
        b"Date: Mon, 7 Dec 2026 12:00:00 +0000\r\n"
        b"Subject: forwarding test\r\n"
        b"Message-ID: <fwd-%d@sender.example>\r\n"
        b"Date: Mon, 7 Dec 2026 12:00:00 +0000\r\n"
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
        cls.cap1 = Capture(reject={"bad@one.example"})
        cls.cap2 = Capture()
        cls.cap3 = Capture()        # sender.example: where DSNs go
        m = cls.mta = MTA(start=False)
        m.write("virtual",
                "alias.example		anything\n"
                "catchall.example	anything\n"
                "info@alias.example	owner@provider.example\n"
                "team@alias.example	a@one.example, b@two.example\n"
                "@catchall.example	boss@provider.example\n"
                "reject@alias.example	bad@one.example\n")
        m.write("transport",
                "provider.example	smtp:[127.0.0.1]:%d\n"
                "one.example		smtp:[127.0.0.1]:%d\n"
                "two.example		smtp:[127.0.0.1]:%d\n"
                "sender.example		smtp:[127.0.0.1]:%d\n"
                % (cls.cap1.port, cls.cap1.port, cls.cap2.port, cls.cap3.port))
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
        cls.cap3.stop()

    def send(self, rcpts, n, sender=SENDER):
        body = BODY.replace(b"%d", str(n).encode())
        with smtplib.SMTP("127.0.0.1", self.mta.smtp_port, timeout=30) as s:
            s.ehlo("client.example")
            refused = s.sendmail(sender, rcpts, body)
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

    def test_dsn_for_forwarded_mail(self):
        self.send(["reject@alias.example"], 4)
        wait_for(lambda: self.received(self.cap3, "fwd-4@"), 30, what="DSN to the sender")
        self.send(["reject@alias.example"], 5, sender="")
        self.mta.wait_log(r"to=<bad@one\.example>, orig_to=<reject@alias\.example>, "
                          r".*status=bounced", count=2)
        self.cap3.settle(3)
        (dsn,) = self.received(self.cap3, "fwd-4@")
        self.assertEqual(dsn.rcpt_tos, [SENDER])
        self.assertIn(dsn.mail_from, ("", "<>"))
        text = dsn.content.decode(errors="replace")
        self.assertIn("Final-Recipient: rfc822; bad@one.example", text)
        self.assertIn("Original-Recipient: rfc822;reject@alias.example", text)
        self.assertRegex(text, r"<bad@one\.example> \(expanded from <reject@alias\.example>\): "
                               r"host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 ")
        # The null sender's failure produces no DSN at all.
        self.assertEqual(self.received(self.cap3, "fwd-5@"), [])
        self.assertEqual(len([e for e in self.cap3.messages if b"fwd-" in e.content]), 1)

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


SECRET = "forward-test-secret"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def srs_hash(*fields):
    """SRS hash as libsrs2/postsrsd compute it, independently of our C."""
    d = hmac.new(SECRET.encode(), "".join(fields).lower().encode(), hashlib.sha1).digest()
    return base64.b64encode(d).decode()[:4]


def srs_stamp(when):
    day = int(when) // 86400
    return B32[(day >> 5) & 31] + B32[day & 31]


class ForwardThroughMX(unittest.TestCase):
    """Alias targets routed by MX records from nsd: no transport_maps."""

    def setUp(self):
        a1, a2 = loopback_addr(), loopback_addr()
        port = common_port(a1, a2)
        self.nsd = Nsd("provider.test", "@ IN MX 10 mx1\neu IN MX 10 mx2\n"
                                        "mx1 IN A %s\nmx2 IN A %s\n" % (a1, a2))
        self.addCleanup(self.nsd.stop)
        self.cap1 = Capture(host=a1, port=port)
        self.addCleanup(self.cap1.stop)
        self.cap2 = Capture(host=a2, port=port)
        self.addCleanup(self.cap2.stop)
        m = self.mta = MTA(start=False)
        self.addCleanup(m.cleanup)
        m.write("virtual", "alias.example anything\n"
                           "info@alias.example owner@provider.test\n"
                           "team@alias.example a@provider.test, b@eu.provider.test\n")
        m.postmap("hash:" + m.path("virtual"))
        m.set_main(mynetworks="192.0.2.0/24", relay_domains="",
                   virtual_alias_maps="hash:" + m.path("virtual"),
                   resolv_conf=self.nsd.resolv_conf, smtp_tcp_port=str(port))
        m.start()
        self.a1, self.a2 = a1, a2

    def test_targets_reached_through_mx_records(self):
        b1 = Forward.send(self, ["info@alias.example"], 11)
        b2 = Forward.send(self, ["team@alias.example"], 12)
        wait_for(lambda: len(self.cap1.messages) >= 2 and len(self.cap2.messages) >= 1, 30,
                 what="forwarded messages at both MX hosts")
        self.cap1.settle(1)
        got1 = sorted((e.rcpt_tos, e.mail_from, below_received(e.content)) for e in self.cap1.messages)
        self.assertEqual(got1, [(["a@provider.test"], SENDER, b2),
                                (["owner@provider.test"], SENDER, b1)])
        self.assertEqual([(e.rcpt_tos, e.mail_from, below_received(e.content))
                          for e in self.cap2.messages],
                         [(["b@eu.provider.test"], SENDER, b2)])
        log = self.mta.log()
        self.assertRegex(log, r"to=<owner@provider\.test>, orig_to=<info@alias\.example>, "
                              r"relay=mx1\.provider\.test\[%s\]:\d+, .*status=sent"
                              % re.escape(self.a1))
        self.assertRegex(log, r"to=<b@eu\.provider\.test>, orig_to=<team@alias\.example>, "
                              r"relay=mx2\.provider\.test\[%s\]:\d+, .*status=sent"
                              % re.escape(self.a2))


class ForwardSRS(unittest.TestCase):
    """SRS on: forwarded mail gets an SRS0 sender, bounces find their way back."""

    @classmethod
    def setUpClass(cls):
        cls.cap1 = Capture()        # provider.example: the alias target
        cls.cap3 = Capture()        # sender.example: the original sender's server
        m = cls.mta = MTA(start=False)
        m.write("virtual",
                "alias.example		anything\n"
                "info@alias.example	owner@provider.example\n")
        m.write("transport",
                "provider.example	smtp:[127.0.0.1]:%d\n"
                "relay.example		smtp:[127.0.0.1]:%d\n"
                "sender.example		smtp:[127.0.0.1]:%d\n"
                % (cls.cap1.port, cls.cap1.port, cls.cap3.port))
        m.write("srs_secret", SECRET + "\n", mode=0o640)
        m.postmap("hash:" + m.path("virtual"))
        m.postmap("hash:" + m.path("transport"))
        m.set_main(mynetworks="192.0.2.0/24",
                   relay_domains="relay.example",
                   smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination",
                   virtual_alias_maps="hash:" + m.path("virtual"),
                   transport_maps="hash:" + m.path("transport"),
                   srs_domain="fwd.test.invalid",
                   srs_secret_file=m.path("srs_secret"))
        m.start()

    @classmethod
    def tearDownClass(cls):
        cls.mta.cleanup()
        cls.cap1.stop()
        cls.cap3.stop()

    def send(self, sender, rcpt, tag):
        with smtplib.SMTP("127.0.0.1", self.mta.smtp_port, timeout=30) as s:
            s.ehlo("client.example")
            s.sendmail(sender, [rcpt], b"Subject: srs\r\nMessage-ID: <%s@sender.example>\r\n"
                       b"\r\nbody\r\n" % tag.encode())

    def got(self, cap, tag):
        return [e for e in cap.messages if tag.encode() in e.content]

    def test_srs_round_trip(self):
        self.send(SENDER, "info@alias.example", "srs-fwd")
        wait_for(lambda: self.got(self.cap1, "srs-fwd"), 30, what="forwarded message")
        (e,) = self.got(self.cap1, "srs-fwd")
        self.assertEqual(e.rcpt_tos, ["owner@provider.example"])
        # SRS0=HHHH=TT=sender.example=sender@fwd.test.invalid, hash verifies.
        local, _, domain = e.mail_from.rpartition("@")
        self.assertEqual(domain, "fwd.test.invalid")
        tag, h, tt, odomain, ouser = local.split("=", 4)
        self.assertEqual((tag, odomain, ouser), ("SRS0", "sender.example", "sender"))
        self.assertIn(tt, (srs_stamp(time.time()), srs_stamp(time.time() - 60)))
        self.assertEqual(h, srs_hash(tt, odomain, ouser))

        # A DSN to the SRS address reaches the original sender.
        self.send("", e.mail_from, "srs-dsn")
        wait_for(lambda: self.got(self.cap3, "srs-dsn"), 30, what="bounce back to the sender")
        (b,) = self.got(self.cap3, "srs-dsn")
        self.assertEqual(b.rcpt_tos, [SENDER])
        self.assertIn(b.mail_from, ("", "<>"))
        self.assertRegex(self.mta.log(), r"to=<sender@sender\.example>, orig_to=<SRS0=")

    def test_forged_and_expired(self):
        now = time.time()
        tt = srs_stamp(now)
        good = "SRS0=%s=%s=sender.example=sender@fwd.test.invalid" % (
            srs_hash(tt, "sender.example", "sender"), tt)
        self.assertEqual(rcpt_reply(self.mta.smtp_port, good, sender=""), (250, "2.1.5 Ok"))
        h = good.split("=")[1]
        forged = good.replace("=%s=" % h, "=%s=" % ("AAAA" if h != "AAAA" else "BBBB"), 1)
        code, text = rcpt_reply(self.mta.smtp_port, forged, sender="")
        self.assertEqual((code, text), (550, "5.1.1 <%s>: Recipient address rejected: "
                                             "SRS hash does not verify" % forged))
        old = srs_stamp(now - 30 * 86400)
        expired = "SRS0=%s=%s=sender.example=sender@fwd.test.invalid" % (
            srs_hash(old, "sender.example", "sender"), old)
        code, text = rcpt_reply(self.mta.smtp_port, expired, sender="")
        self.assertEqual((code, text), (550, "5.1.1 <%s>: Recipient address rejected: "
                                             "SRS address has expired" % expired))

    def test_not_forwarded_keeps_sender(self):
        self.send(SENDER, "someone@relay.example", "srs-plain")
        wait_for(lambda: self.got(self.cap1, "srs-plain"), 30, what="relayed message")
        (e,) = self.got(self.cap1, "srs-plain")
        self.assertEqual(e.mail_from, SENDER)


if __name__ == "__main__":
    unittest.main()
