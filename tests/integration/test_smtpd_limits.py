"""smtpd: per-client connection count and rate limits shared by all smtpd
processes (smtpd_limit.c), with Postfix 3.7's replies and warnings (Debian
Postfix 3.7.11 with anvil gives the same text for the same input)."""
import re
import shutil
import ssl
import tempfile
import time
import unittest

from smtpd_util import Client, smtpd_mta
from test_smtpd_tls import client_context, make_cert

LIMITED = "127.0.0.6"
OTHER = "127.0.0.7"


def pids(m, pattern):
    return set(re.findall(r"smtpd\[(\d+)\]: " + pattern, m.log()))


class ClientLimits(unittest.TestCase):

    def mta(self, **kw):
        m = smtpd_mta(mynetworks="127.0.0.1/32", relay_domains="example.com",
                      smtpd_error_sleep_time="0", **kw)
        self.addCleanup(m.cleanup)
        self.service = "127.0.0.1:%d" % m.smtp_port
        return m

    def test_connection_rate(self):
        m = self.mta(smtpd_client_connection_rate_limit="2")
        for _ in range(2):
            c = Client(m.smtp_port, source=LIMITED)
            self.assertEqual(c.banner, "220 mx.test.invalid ESMTP Postfix")
            c.cmd("QUIT")
            c.close()
        c = Client(m.smtp_port, source=LIMITED)
        # Postfix: "421 4.7.0 mx.test.invalid Error: too many connections from A"
        self.assertEqual(c.banner, "421 4.7.0 mx.test.invalid Error: too many connections "
                                   "from 127.0.0.6")
        self.assertTrue(c.closed())
        m.wait_log(r"warning: Connection rate limit exceeded: 3 from unknown\[127\.0\.0\.6\] "
                   r"for service %s\n" % re.escape(self.service))
        m.wait_log(r"disconnect from unknown\[127\.0\.0\.6\] commands=0/0\n")
        # Another client, and the exception network ($mynetworks), are not limited.
        self.assertEqual(Client(m.smtp_port, source=OTHER).banner[:3], "220")
        for _ in range(4):
            self.assertEqual(Client(m.smtp_port).banner[:3], "220")

    def test_message_rate_shared_by_processes(self):
        m = self.mta(smtpd_client_message_rate_limit="2")
        first = Client(m.smtp_port, source=LIMITED)      # stays open: busy process
        first.cmd("EHLO client.test")
        self.assertEqual(first.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        first.cmd("RSET")
        second = Client(m.smtp_port, source=LIMITED)     # served by another process
        second.cmd("EHLO client.test")
        self.assertEqual(second.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        second.cmd("RSET")
        # Postfix: "450 4.7.1 Error: too much mail from A"
        self.assertEqual(first.cmd("MAIL FROM:<a@b.test>"),
                         "450 4.7.1 Error: too much mail from 127.0.0.6")
        self.assertEqual(second.cmd("MAIL FROM:<a@b.test>"),
                         "450 4.7.1 Error: too much mail from 127.0.0.6")
        m.wait_log(r"warning: Message delivery request rate limit exceeded: 3 from "
                   r"unknown\[127\.0\.0\.6\] for service %s\n" % re.escape(self.service))
        m.wait_log(r"warning: Message delivery request rate limit exceeded: 4 from ")
        # The two sessions were served by two processes.
        self.assertEqual(len(pids(m, r"connect from unknown\[127\.0\.0\.6\]")), 2)
        self.assertEqual(Client(m.smtp_port).cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")

    def test_recipient_rate_and_window(self):
        m = self.mta(smtpd_client_recipient_rate_limit="3", anvil_rate_time_unit="3s")
        c = Client(m.smtp_port, source=LIMITED)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        for i in range(3):
            self.assertEqual(c.cmd("RCPT TO:<u%d@example.com>" % i), "250 2.1.5 Ok")
        # Postfix: "450 4.7.1 Error: too many recipients from A"
        self.assertEqual(c.cmd("RCPT TO:<u9@example.com>"),
                         "450 4.7.1 Error: too many recipients from 127.0.0.6")
        m.wait_log(r"warning: Recipient address rate limit exceeded: 4 from "
                   r"unknown\[127\.0\.0\.6\] for service %s\n" % re.escape(self.service))
        # A new window (anvil_rate_time_unit) starts the count again.
        time.sleep(3.2)
        self.assertEqual(c.cmd("RCPT TO:<u9@example.com>"), "250 2.1.5 Ok")
        c.cmd("QUIT")

    def test_connection_count(self):
        m = self.mta(smtpd_client_connection_count_limit="2")
        held = [Client(m.smtp_port, source=LIMITED) for _ in range(2)]
        for c in held:
            self.assertEqual(c.banner[:3], "220")
        c = Client(m.smtp_port, source=LIMITED)
        self.assertEqual(c.banner, "421 4.7.0 mx.test.invalid Error: too many connections "
                                   "from 127.0.0.6")
        m.wait_log(r"warning: Connection concurrency limit exceeded: 3 from "
                   r"unknown\[127\.0\.0\.6\] for service %s\n" % re.escape(self.service))
        held[0].cmd("QUIT")
        held[0].close()
        time.sleep(0.3)
        self.assertEqual(Client(m.smtp_port, source=LIMITED).banner[:3], "220")

    def test_new_tls_session_rate(self):
        tmp = tempfile.mkdtemp(prefix="smtpd-limits-")
        self.addCleanup(shutil.rmtree, tmp, True)
        cert, key = make_cert(tmp)
        m = self.mta(smtpd_client_new_tls_session_rate_limit="1",
                     smtpd_tls_security_level="may", smtpd_tls_cert_file=cert,
                     smtpd_tls_key_file=key)
        c = Client(m.smtp_port, source=LIMITED)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS")
        c.sock = client_context().wrap_socket(c.sock, server_hostname="mx.test.invalid")
        self.assertIn("250", c.cmd("EHLO client.test"))
        c.cmd("QUIT")
        c = Client(m.smtp_port, source=LIMITED)
        c.cmd("EHLO client.test")
        # Postfix: "421 4.7.0 host Error: too many new TLS sessions from A"
        self.assertEqual(c.cmd("STARTTLS"), "421 4.7.0 mx.test.invalid Error: too many new "
                                            "TLS sessions from 127.0.0.6")
        self.assertTrue(c.closed())
        m.wait_log(r"warning: New TLS session rate limit exceeded: 2 from "
                   r"unknown\[127\.0\.0\.6\] for service %s\n" % re.escape(self.service))


if __name__ == "__main__":
    unittest.main()
