"""smtpd: STARTTLS with a certificate made by openssl."""
import os
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import unittest

from smtpd_util import Client, read_queue_file, record, smtpd_mta, wait_incoming


def make_cert(folder):
    cert = os.path.join(folder, "cert.pem")
    key = os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=mx.test.invalid"],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class SmtpdTls(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="smtpd-tls-")
        cls.cert, cls.key = make_cert(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tls_mta(self, level, **kw):
        return smtpd_mta(smtpd_tls_security_level=level, smtpd_tls_cert_file=self.cert,
                         smtpd_tls_key_file=self.key, relay_domains="example.com", **kw)

    def test_starttls_delivers(self):
        with self.tls_mta("may", smtpd_tls_protocols=">=TLSv1.2") as m:
            s = smtplib.SMTP("127.0.0.1", m.smtp_port)
            s.ehlo("client.test")
            self.assertTrue(s.has_extn("starttls"))
            code, _ = s.starttls(context=client_context())
            self.assertEqual(code, 220)
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
            s.ehlo("client.test")
            self.assertFalse(s.has_extn("starttls"))
            s.sendmail("a@b.test", ["u@example.com"], "Subject: tls\r\n\r\nsecret\r\n")
            s.quit()
            (qid, _), = wait_incoming(m)
            msg = record(read_queue_file(os.path.join(m.queue_dir, "incoming", qid)), "M")[0]
            self.assertIn(b"with ESMTPS id " + qid.encode(), msg)
            m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 starttls=1 mail=1 "
                       r"rcpt=1 data=1 quit=1 commands=7")

    def test_protocols_are_enforced(self):
        with self.tls_mta("may", smtpd_tls_protocols="!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2") as m:
            ctx = client_context()
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            s = smtplib.SMTP("127.0.0.1", m.smtp_port)
            s.ehlo("client.test")
            with self.assertRaises((ssl.SSLError, smtplib.SMTPServerDisconnected,
                                    ConnectionResetError)):
                s.starttls(context=ctx)
            s.close()
            m.wait_log(r"SSL_accept error from localhost\[127\.0\.0\.1\]")

    def test_commands_pipelined_after_starttls_are_not_executed(self):
        # Postfix 3.7's default; ours (yes) ends such a session at once
        # with 554 (test_smtpd_guard.py).
        with self.tls_mta("may", smtpd_forbid_unauth_pipelining="no") as m:
            c = Client(m.smtp_port)
            c.cmd("EHLO client.test")
            c.send("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
            self.assertEqual(c.reply(), "220 2.0.0 Ready to start TLS")
            tls = client_context().wrap_socket(c.sock, server_hostname="mx.test.invalid")
            c.sock, c.buf = tls, b""
            self.assertEqual(c.cmd("EHLO client.test").split("\n")[0], "250-mx.test.invalid")
            # Had the injected MAIL run, this would be "503 nested MAIL".
            self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
            self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
            m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 starttls=1 mail=1 "
                       r"quit=1 commands=5")
            # Never run; it shows only in the "improper command pipelining" line.
            self.assertNotRegex(m.log(), r"from=<injected@")
            m.wait_log(r"improper command pipelining after STARTTLS from localhost\[127\.0\.0\.1\]: "
                       r"MAIL FROM:<injected@evil\.test>\\r\\n")

    def test_encrypt_refuses_mail_before_tls(self):
        with self.tls_mta("encrypt") as m:
            c = Client(m.smtp_port)
            self.assertIn("250-STARTTLS", c.cmd("EHLO client.test"))
            self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"),
                             "530 5.7.0 Must issue a STARTTLS command first")
            c.cmd("QUIT")
            s = smtplib.SMTP("127.0.0.1", m.smtp_port)
            s.starttls(context=client_context())
            s.ehlo("client.test")
            self.assertEqual(s.mail("a@b.test")[0], 250)
            s.quit()

    def test_tls_level_none_offers_nothing(self):
        with smtpd_mta() as m:
            c = Client(m.smtp_port)
            self.assertNotIn("STARTTLS", c.cmd("EHLO client.test"))
            self.assertEqual(c.cmd("STARTTLS"), "502 5.5.1 Error: command not implemented")
            c.cmd("QUIT")


if __name__ == "__main__":
    unittest.main()
