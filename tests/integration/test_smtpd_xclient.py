"""smtpd: XCLIENT and XFORWARD (smtpd_authorized_xclient_hosts,
smtpd_authorized_xforward_hosts), and the smtp client's XFORWARD
(smtp_send_xforward_command). Replies and log lines are Debian Postfix
3.7.11's for the same input."""
import os
import unittest

from capture import Capture
from mta import MTA
from smtpd_util import Client, incoming, read_queue_file, record, smtpd_mta, wait_incoming

OUTSIDER = "127.0.0.2"
PROXY = "127.0.0.3"


def attrs(recs):
    return dict(a.decode().split("=", 1) for a in record(recs, "A"))


class XclientXforward(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.m = smtpd_mta(mynetworks="127.0.0.1/32", relay_domains="example.com",
                          smtpd_authorized_xclient_hosts=PROXY,
                          smtpd_authorized_xforward_hosts=PROXY,
                          smtpd_error_sleep_time="0")

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def setUp(self):
        for name, _ in incoming(self.m):
            os.unlink(os.path.join(self.m.queue_dir, "incoming", name))

    def qfile(self, qid):
        return read_queue_file(os.path.join(self.m.queue_dir, "incoming", qid))

    def send(self, c, rcpt="u@example.com"):
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % rcpt), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        r = c.cmd("Subject: x\r\n\r\nbody\r\n.")
        self.assertRegex(r, r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$")
        return r.split()[-1]

    def test_unauthorized_client_stays_an_outsider(self):
        c = Client(self.m.smtp_port, source=OUTSIDER)
        ehlo = c.cmd("EHLO client.test")
        self.assertNotIn("XCLIENT", ehlo)
        self.assertNotIn("XFORWARD", ehlo)
        # Postfix 3.7: "550 5.7.0 Error: insufficient authorization".
        self.assertEqual(c.cmd("XCLIENT ADDR=127.0.0.1 NAME=localhost"),
                         "550 5.7.0 Error: insufficient authorization")
        self.assertEqual(c.cmd("XFORWARD ADDR=127.0.0.1"),
                         "550 5.7.0 Error: insufficient authorization")
        # Still not in mynetworks: no relaying.
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@elsewhere.test>"),
                         "454 4.7.1 <x@elsewhere.test>: Relay access denied")
        c.cmd("QUIT")
        self.m.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 454 4\.7\.1 "
                        r"<x@elsewhere\.test>: Relay access denied")
        self.m.wait_log(r"disconnect from unknown\[127\.0\.0\.2\] ehlo=1 xclient=0/1 "
                        r"xforward=0/1 mail=1 rcpt=0/1 quit=1 commands=3/6")

    def test_xclient_changes_the_client(self):
        c = Client(self.m.smtp_port, source=PROXY)
        self.assertIn("250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR "
                      "DESTPORT", c.cmd("EHLO proxy.test"))
        # Postfix: a new greeting.
        self.assertEqual(c.cmd("XCLIENT NAME=spike.porcupine.org ADDR=127.0.0.1 "
                               "HELO=helo.test PROTO=ESMTP PORT=4321"),
                         "220 mx.test.invalid ESMTP Postfix")
        # 127.0.0.1 is in mynetworks: relaying is allowed now.
        qid = self.send(c, rcpt="x@elsewhere.test")
        # The new identity is not authorized for XCLIENT (Postfix: 550).
        self.assertEqual(c.cmd("XCLIENT ADDR=127.0.0.3"),
                         "550 5.7.0 Error: insufficient authorization")
        c.cmd("QUIT")
        recs = self.qfile(qid)
        a = attrs(recs)
        self.assertEqual((a["client_name"], a["client_address"], a["client_port"],
                          a["helo_name"], a["protocol"]),
                         ("spike.porcupine.org", "127.0.0.1", "4321", "helo.test", "ESMTP"))
        self.assertTrue(record(recs, "M")[0].startswith(
            b"Received: from helo.test (spike.porcupine.org [127.0.0.1])\r\n"))
        self.m.wait_log(r"%s: client=spike\.porcupine\.org\[127\.0\.0\.1\]\n" % qid)
        # Postfix counts a successful XCLIENT as failed in this line.
        self.m.wait_log(r"disconnect from spike\.porcupine\.org\[127\.0\.0\.1\] ehlo=1 "
                        r"xclient=0/2 mail=1 rcpt=1 data=1 quit=1 commands=5/7")

    def test_xclient_errors(self):
        c = Client(self.m.smtp_port, source=PROXY)
        c.cmd("EHLO proxy.test")
        # Postfix 3.7.11's replies.
        self.assertEqual(c.cmd("XCLIENT"), "501 5.5.4 Syntax: XCLIENT attribute=value...")
        self.assertEqual(c.cmd("XCLIENT FOO=bar"), "501 5.5.4 Bad XCLIENT attribute name: FOO")
        self.assertEqual(c.cmd("XCLIENT ADDR=1.2.3.x"), "501 5.5.4 Bad ADDR syntax: 1.2.3.x")
        self.assertEqual(c.cmd("XCLIENT NAME=a+20b"), "501 5.5.4 Bad NAME syntax: a b")
        self.assertEqual(c.cmd("XCLIENT NAME=a+0Db"), "501 5.5.4 Bad NAME syntax: a?b")
        self.assertEqual(c.cmd("XCLIENT PROTO="), "501 5.5.4 Error: attribute=value expected")
        # A value that is not good changes nothing, even with good ones around.
        self.assertEqual(c.cmd("XCLIENT ADDR=127.0.0.1 PORT=x"), "501 5.5.4 Bad PORT syntax: x")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("XCLIENT NAME=c.test"),
                         "503 5.5.1 Error: MAIL transaction in progress")
        self.assertEqual(c.cmd("RCPT TO:<x@elsewhere.test>"),
                         "454 4.7.1 <x@elsewhere.test>: Relay access denied")
        c.cmd("QUIT")

    def test_xforward_goes_to_log_and_queue_file(self):
        c = Client(self.m.smtp_port, source=PROXY)
        self.assertIn("250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT",
                      c.cmd("EHLO filter.test"))
        self.assertEqual(c.cmd("XFORWARD NAME=spike.porcupine.org ADDR=168.100.189.2 "
                               "PROTO=ESMTP HELO=spike.porcupine.org"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("XFORWARD SOURCE=REMOTE IDENT=ABCD PORT=1234"), "250 2.0.0 Ok")
        qid = self.send(c)
        # The attributes last for one transaction.
        qid2 = self.send(c)
        c.cmd("QUIT")
        # Postfix: "QID: client=unknown[127.0.0.3], orig_queue_id=ABCD,
        # orig_client=spike.porcupine.org[168.100.189.2]"
        self.m.wait_log(r"%s: client=unknown\[127\.0\.0\.3\], orig_queue_id=ABCD, "
                        r"orig_client=spike\.porcupine\.org\[168\.100\.189\.2\]\n" % qid)
        self.m.wait_log(r"%s: client=unknown\[127\.0\.0\.3\]\n" % qid2)
        recs = self.qfile(qid)
        a = attrs(recs)
        self.assertEqual((a["log_client_name"], a["log_client_address"], a["log_client_port"],
                          a["log_helo_name"], a["log_protocol"], a["log_ident"],
                          a["rewrite_context"]),
                         ("spike.porcupine.org", "168.100.189.2", "1234",
                          "spike.porcupine.org", "ESMTP", "ABCD", "remote"))
        # As in Postfix, XFORWARD changes no decision and Received: names the
        # real client; the client attributes stay the real ones.
        self.assertEqual(a["client_address"], "127.0.0.3")
        self.assertTrue(record(recs, "M")[0].startswith(
            b"Received: from filter.test (unknown [127.0.0.3])"))
        self.assertEqual(attrs(self.qfile(qid2))["log_ident"], qid2)

    def test_xforward_errors(self):
        c = Client(self.m.smtp_port, source=PROXY)
        c.cmd("EHLO filter.test")
        # Postfix 3.7.11's replies.
        self.assertEqual(c.cmd("XFORWARD"), "501 5.5.4 Syntax: XFORWARD attribute=value...")
        self.assertEqual(c.cmd("XFORWARD FOO=bar"), "501 5.5.4 Bad XFORWARD attribute name: FOO")
        self.assertEqual(c.cmd("XFORWARD PROTO="), "501 5.5.4 Error: attribute=value expected")
        self.assertEqual(c.cmd("XFORWARD SOURCE=x"), "501 5.5.4 Bad SOURCE syntax: x")
        self.assertEqual(c.cmd("XFORWARD NAME=a..b"), "501 5.5.4 Bad NAME syntax: a..b")
        self.assertEqual(c.cmd("XFORWARD ADDR=1.2.3.x"), "501 5.5.4 Bad ADDR syntax: 1.2.3.x")
        self.assertEqual(c.cmd("XFORWARD HELO=a+0D+0AMAIL"), "501 5.5.4 Bad HELO syntax: a??MAIL")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("XFORWARD ADDR=1.2.3.4"),
                         "503 5.5.1 Error: MAIL transaction in progress")
        c.cmd("QUIT")


class XforwardClient(unittest.TestCase):
    """A content filter's way back: our smtp client sends XFORWARD to the
    re-injection smtpd (here another instance of ours)."""

    def run_chain(self, send_xforward, authorize=True):
        inner = smtpd_mta(mynetworks="127.0.0.1/32", relay_domains="example.com",
                          smtpd_authorized_xforward_hosts="127.0.0.1" if authorize else "")
        self.addCleanup(inner.cleanup)
        outer = MTA(main_cf={
            "relay_domains": "example.com",
            "smtp_send_xforward_command": "yes" if send_xforward else "no",
            "transport_maps": "inline:{example.com=smtp:[127.0.0.1]:%d}" % inner.smtp_port})
        self.addCleanup(outer.cleanup)
        c = Client(outer.smtp_port, source=OUTSIDER)
        c.cmd("EHLO original.test")
        c.cmd("MAIL FROM:<a@b.test>")
        c.cmd("RCPT TO:<u@example.com>")
        c.cmd("DATA")
        r = c.cmd("Subject: x\r\n\r\nbody\r\n.")
        outer_qid = r.split()[-1]
        c.cmd("QUIT")
        outer.wait_log(r"%s: to=<u@example\.com>.*status=sent" % outer_qid)
        name, _ = wait_incoming(inner, 1)[0]
        recs = read_queue_file(os.path.join(inner.queue_dir, "incoming", name))
        return inner, outer_qid, name, attrs(recs)

    def test_xforward_carries_the_original_client(self):
        inner, outer_qid, qid, a = self.run_chain(True)
        inner.wait_log(r"%s: client=localhost\[127\.0\.0\.1\], orig_queue_id=%s, "
                       r"orig_client=unknown\[127\.0\.0\.2\]\n" % (qid, outer_qid))
        self.assertEqual((a["log_client_name"], a["log_client_address"], a["log_helo_name"],
                          a["log_protocol"], a["log_ident"], a["rewrite_context"]),
                         ("unknown", "127.0.0.2", "original.test", "ESMTP", outer_qid,
                          "remote"))
        self.assertTrue(a["log_client_port"].isdigit())

    def test_not_sent_when_off_or_not_offered(self):
        for send, authorize in ((False, True), (True, False)):
            inner, outer_qid, qid, a = self.run_chain(send, authorize)
            inner.wait_log(r"%s: client=localhost\[127\.0\.0\.1\]\n" % qid)
            self.assertNotIn("log_client_address", a)
            self.assertNotIn("orig_client", inner.log())


if __name__ == "__main__":
    unittest.main()
