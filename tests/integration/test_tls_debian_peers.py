"""TLS against Debian's Postfix 3.7 as the peer, both ways, and openssl
s_client: client certificates, session caches, fingerprints.

Debian's Postfix runs in a temporary config and queue (test_postqueue's
DebianPostfix, with tlsmgr for its session caches)."""
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
import unittest

from mta import free_port, wait_for
from smtpd_util import smtpd_mta, wait_incoming
from tls_pki import Pki
from test_postqueue import DebianPostfix
import test_smtp as peers


class DebianTls(DebianPostfix):
    """DebianPostfix with more main.cf settings and tlsmgr."""

    SERVICES = DebianPostfix.SERVICES + "tlsmgr unix - - n 1000? 1 tlsmgr\n"

    def __init__(self, relay_port, **params):
        self.extra = params
        super().__init__(relay_port)

    def run(self, cmd, *args, check=False, input=None):
        # Before "postfix start": append the TLS settings once.
        if cmd == "postfix" and args[:1] == ("start",) and self.extra:
            with open(os.path.join(self.etc, "main.cf"), "a") as f:
                for k, v in self.extra.items():
                    f.write("%s = %s\n" % (k, v))
            self.extra = None
        return super().run(cmd, *args, check=check, input=input)

    def wait_log(self, pattern, count=1, timeout=30):
        rx = re.compile(pattern)
        try:
            return wait_for(lambda: len(rx.findall(self.log())) >= count and rx.findall(self.log()),
                            timeout, what="Debian log /%s/" % pattern)
        except AssertionError:
            raise AssertionError("no /%s/ x%d in Debian's log:\n%s" % (pattern, count,
                                                                      self.log()[-5000:]))


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tls-debian-")
        os.chmod(cls.tmp, 0o755)
        cls.pki = Pki(cls.tmp)
        cls.cert, cls.key = cls.pki.issue("server", "relay.test")
        cls.ccert, cls.ckey = cls.pki.issue("client", "client.test")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def debian(self, relay_port, **params):
        d = DebianTls(relay_port, **params)
        self.addCleanup(d.stop)
        wait_for(lambda: d.log().count("daemon started"), 20, what="Debian master")
        return d


class DebianClientToOurServer(Base):
    def test_client_certificate_and_resumed_sessions(self):
        m = smtpd_mta(smtpd_tls_security_level="may", smtpd_tls_cert_file=self.cert,
                      smtpd_tls_key_file=self.key, smtpd_tls_loglevel="2",
                      smtpd_tls_ask_ccert="yes", smtpd_tls_CAfile=self.pki.ca,
                      smtpd_tls_received_header="yes",
                      smtpd_tls_session_cache_database="btree:${data_directory}/smtpd_scache",
                      max_use="1")
        self.addCleanup(m.cleanup)
        fpt = self.pki.fingerprint(self.cert)
        d = self.debian(m.smtp_port, smtp_tls_security_level="fingerprint",
                        smtp_tls_fingerprint_cert_match=fpt,
                        smtp_tls_cert_file=self.ccert, smtp_tls_key_file=self.ckey,
                        smtp_tls_loglevel="1",
                        smtp_tls_session_cache_database="btree:${data_directory}/smtp_scache")
        for i in range(2):
            s = smtplib.SMTP("127.0.0.1", d.port, timeout=20)
            s.sendmail("a@sender.test", ["r%d@dest.test" % i],
                       "Subject: t%d\r\n\r\nbody\r\n" % i)
            s.quit()
            d.wait_log(r"status=sent \(250 2\.0\.0 Ok: queued as \w+\)", count=i + 1)
        # Debian's client: "Verified TLS connection established to ..." (fingerprint).
        d.wait_log(r"Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d"
                   % m.smtp_port, count=2)
        # Our smtpd trusts its certificate, and the second smtpd process
        # (max_use = 1) resumed the session from the shared cache file.
        m.wait_log(r"Trusted TLS connection established from localhost\[127\.0\.0\.1\]: TLSv1\.3",
                   count=2)
        m.wait_log(r"localhost\[127\.0\.0\.1\]: Reusing old session\n")
        files = wait_incoming(m, 2)
        self.assertEqual(len(files), 2)


class OurClientToDebianServer(Base):
    def test_client_certificate_fingerprint_and_resumed_sessions(self):
        d = self.debian(free_port(), smtpd_tls_security_level="may",
                        smtpd_tls_cert_file=self.cert, smtpd_tls_key_file=self.key,
                        smtpd_tls_ask_ccert="yes", smtpd_tls_CAfile=self.pki.ca,
                        smtpd_tls_loglevel="2",
                        smtpd_tls_session_cache_database="btree:${data_directory}/smtpd_scache")
        a = peers.Agent({"compatibility_level": "3.7", "smtp_tls_loglevel": "2",
                         "smtp_tls_security_level": "fingerprint",
                         "smtp_tls_fingerprint_cert_match": self.pki.pkey_fingerprint(self.cert),
                         "smtp_tls_cert_file": self.ccert, "smtp_tls_key_file": self.ckey})
        self.addCleanup(a.cleanup)
        data = os.path.join(a.dir, "data")
        os.makedirs(data)
        shutil.chown(data, "postfix")
        a.params["data_directory"] = data
        a.params["smtp_tls_session_cache_database"] = "btree:${data_directory}/smtp_scache"
        a.write_main()
        dest = "[127.0.0.1]:%d" % d.port
        peer = "127.0.0.1[127.0.0.1]:%d" % d.port
        for i in range(2):
            res, log = a.deliver(dest, ["r%d@dest.test" % i])
            r = res["r%d@dest.test" % i]
            self.assertEqual(r["dsn_action"], "d", log)
            self.assertIn("Verified TLS connection established to %s" % peer, log)
            self.assertRegex(r["reason"], r"^250 2\.0\.0 Ok: queued as \w+$")
        # The second smtp process offered the session of the first.
        self.assertIn("%s: Reusing old session" % peer, log)
        # Debian's smtpd trusted our client certificate and resumed.
        d.wait_log(r"Trusted TLS connection established from localhost\[127\.0\.0\.1\]", count=2)
        d.wait_log(r"localhost\[127\.0\.0\.1\]: Reusing old session")


class OpensslClient(Base):
    def test_s_client_resumes_with_our_session_cache(self):
        m = smtpd_mta(smtpd_tls_security_level="may", smtpd_tls_cert_file=self.cert,
                      smtpd_tls_key_file=self.key, smtpd_tls_loglevel="2",
                      smtpd_tls_session_cache_database="btree:${data_directory}/smtpd_scache",
                      max_use="1")
        self.addCleanup(m.cleanup)
        sess = os.path.join(self.tmp, "s_client.sess")

        def s_client(*extra):
            # TLS 1.2: the session ID (not a ticket) names the cached session.
            p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % m.smtp_port,
                                "-starttls", "smtp", "-tls1_2", "-no_ticket",
                                "-CAfile", self.pki.ca] + list(extra),
                               input=b"QUIT\r\n", capture_output=True, timeout=30)
            return p.stdout.decode(errors="replace")
        out = s_client("-sess_out", sess)
        self.assertIn("New, TLSv1.2", out)
        time.sleep(0.5)
        out = s_client("-sess_in", sess)
        self.assertIn("Reused, TLSv1.2", out)
        m.wait_log(r"localhost\[127\.0\.0\.1\]: Reusing old session\n")
        self.assertEqual(len(re.findall(r"Anonymous TLS connection established from localhost"
                                        r"\[127\.0\.0\.1\]: TLSv1\.2", m.log())), 2)


if __name__ == "__main__":
    unittest.main()
