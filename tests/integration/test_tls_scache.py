"""TLS session caches in both directions, session tickets, and Debian's
stock main.cf (main.cf.debian + main.cf.tls) started with our build.

Peers: our smtpd (master with smtpd only), our smtp client (smtp -S),
Debian's posttls-finger (Postfix 3.7's TLS client library)."""
import os
import re
import shutil
import smtplib
import ssl
import tempfile
import unittest

from mta import MTA, free_port
from smtpd_util import smtpd_mta, wait_incoming
from tls_pki import Pki, debian_finger
import test_smtp as peers

DEBIAN_MAIN_CF = ("/usr/share/postfix/main.cf.debian", "/usr/share/postfix/main.cf.tls")
BAD_WARNINGS = re.compile(r"not implemented|unused parameter|unknown parameter|warning:")


def debian_params(cert, key):
    """The settings of Debian's stock main.cf files, the snakeoil
    certificate replaced by ours (as make-ssl-cert would make it)."""
    params = {}
    for path in DEBIAN_MAIN_CF:
        with open(path) as f:
            for line in f:
                if line.startswith("#") or not line.strip() or line[0].isspace():
                    continue
                name, value = line.split("=", 1)
                params[name.strip()] = value.strip()
    assert params["smtpd_tls_cert_file"] == "/etc/ssl/certs/ssl-cert-snakeoil.pem", params
    params["smtpd_tls_cert_file"] = cert
    params["smtpd_tls_key_file"] = key
    return params


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tls-scache-")
        os.chmod(cls.tmp, 0o755)
        cls.pki = Pki(cls.tmp)
        cls.cert, cls.key = cls.pki.issue("server", "relay.test")
        cls.other = Pki(cls.tmp, "other-ca")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def server(self, **kw):
        """Our smtpd with TLS, loglevel 2 (resumption is logged)."""
        params = dict(smtpd_tls_security_level="may", smtpd_tls_cert_file=self.cert,
                      smtpd_tls_key_file=self.key, smtpd_tls_loglevel="2",
                      relay_domains="dest.test")
        params.update(kw)
        m = smtpd_mta(**params)
        self.addCleanup(m.cleanup)
        return m

    def agent(self, **kw):
        a = peers.Agent({"compatibility_level": "3.7", "smtp_tls_security_level": "may",
                         "smtp_tls_loglevel": "2"})
        self.addCleanup(a.cleanup)
        data = os.path.join(a.dir, "data")
        os.makedirs(data)
        if os.getuid() == 0:
            shutil.chown(data, "postfix")      # data_directory belongs to mail_owner
        a.params["data_directory"] = data
        a.params["smtp_tls_session_cache_database"] = "btree:${data_directory}/smtp_scache"
        a.params.update(kw)
        a.write_main()
        return a

    def deliver(self, a, m, rcpt="r@dest.test"):
        res, log = a.deliver("[127.0.0.1]:%d" % m.smtp_port, [rcpt])
        return res[rcpt], log


class ServerCache(Base):
    def reconnect(self, m):
        # posttls-finger -r: a second connection that offers the session,
        # when the server gave one that can be resumed ("Reconnecting").
        return debian_finger(self.tmp, ["-c", "-r", "1", "-l", "may", "-L", "summary,cache"],
                             "[127.0.0.1]:%d" % m.smtp_port)

    def test_cache_file_is_shared_by_smtpd_processes(self):
        # max_use = 1: the second connection is served by another smtpd.
        m = self.server(smtpd_tls_session_cache_database="btree:${data_directory}/smtpd_scache",
                        max_use="1")
        rc, err = self.reconnect(m)
        self.assertEqual(rc, 0, err)
        # Postfix 3.7's client: "127.0.0.1[127.0.0.1]:PORT: Reusing old session"
        self.assertIn("127.0.0.1[127.0.0.1]:%d: Reusing old session" % m.smtp_port, err)
        lines = m.wait_log(r"smtpd\[(\d+)\]: Anonymous TLS connection established from "
                           r"localhost\[127\.0\.0\.1\]", count=2)
        self.assertNotEqual(lines[0], lines[1], m.log())
        # Postfix 3.7's smtpd at loglevel 2, a session from its cache.
        reused = m.wait_log(r"smtpd\[(\d+)\]: localhost\[127\.0\.0\.1\]: Reusing old session\n")
        self.assertEqual(reused[0], lines[1])
        self.assertTrue(os.path.getsize(os.path.join(m.data_dir, "smtpd_scache.db")) > 0)
        self.assertNotRegex(m.log(), BAD_WARNINGS)

    def test_ticket_without_cache(self):
        m = self.server()
        rc, err = self.reconnect(m)
        self.assertIn("Reusing old session", err)
        # Postfix 3.7: "localhost[127.0.0.1]: Reusing old session (RFC 5077 session ticket)"
        m.wait_log(r"localhost\[127\.0\.0\.1\]: Reusing old session \(RFC 5077 session "
                   r"ticket\)\n")

    def test_no_tickets_with_empty_cipher(self):
        m = self.server(tls_session_ticket_cipher="")
        rc, err = self.reconnect(m)
        m.wait_log(r"Anonymous TLS connection established")
        self.assertNotIn("Reconnecting", err)
        self.assertNotIn("Reusing old session", m.log())

    def test_unusable_ticket_cipher_is_refused_aloud(self):
        m = self.server(tls_session_ticket_cipher="aes-256-gcm")
        rc, err = self.reconnect(m)
        # Postfix 3.7's words (libpostfix-tls).
        m.wait_log(r"warning: tls_session_ticket_cipher: invalid value: aes-256-gcm; "
                   r"session tickets disabled")
        m.wait_log(r"Anonymous TLS connection established")
        self.assertNotIn("Reconnecting", err)
        self.assertNotIn("Reusing old session", m.log())

    def test_unusable_cache_type_is_refused_aloud(self):
        m = self.server(smtpd_tls_session_cache_database="cdb:${data_directory}/smtpd_scache",
                        tls_session_ticket_cipher="")
        rc, err = self.reconnect(m)
        m.wait_log(r"warning: smtpd_tls_session_cache_database: table type \"cdb\" cannot "
                   r"hold TLS sessions \(use btree, hash or lmdb\); TLS sessions are not cached")
        m.wait_log(r"Anonymous TLS connection established")
        self.assertNotIn("Reusing old session", m.log())

    def test_timeout_zero_turns_resumption_off(self):
        m = self.server(smtpd_tls_session_cache_database="btree:${data_directory}/smtpd_scache",
                        smtpd_tls_session_cache_timeout="0")
        rc, err = self.reconnect(m)
        m.wait_log(r"Anonymous TLS connection established")
        self.assertNotIn("Reconnecting", err)
        self.assertNotIn("Reusing old session", m.log())


class ClientCache(Base):
    def test_second_delivery_resumes_from_the_file(self):
        m = self.server(smtpd_tls_session_cache_database="btree:${data_directory}/smtpd_scache")
        a = self.agent()
        r, log = self.deliver(a, m)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertNotIn("Reusing old session", log)
        self.assertTrue(os.path.getsize(os.path.join(a.params["data_directory"],
                                                     "smtp_scache.db")) > 0)
        # Another smtp process: the session comes from the file.
        r, log = self.deliver(a, m)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("127.0.0.1[127.0.0.1]:%d: Reusing old session" % m.smtp_port, log)
        # As Debian's posttls-finger -r logs a resumed session: no
        # server-digest (no signature in a resumed handshake).
        self.assertRegex(log, r"Untrusted TLS connection established to 127\.0\.0\.1\[127\.0\.0"
                         r"\.1\]:%d: TLSv1\.3 with cipher \S+ \(256/256 bits\) key-exchange "
                         r"X25519 server-signature RSA-PSS \(2048 bits\)\n" % m.smtp_port)
        m.wait_log(r"localhost\[127\.0\.0\.1\]: Reusing old session\n")
        self.assertEqual(len(wait_incoming(m, 2)), 2)

    def test_changed_settings_do_not_resume(self):
        m = self.server(smtpd_tls_session_cache_database="btree:${data_directory}/smtpd_scache")
        a = self.agent()
        self.deliver(a, m)
        a.params["smtp_tls_protocols"] = ">=TLSv1.2"
        a.write_main()
        r, log = self.deliver(a, m)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertNotIn("Reusing old session", log)

    def test_verify_session_is_not_resumed_under_other_CAs(self):
        m = self.server(smtpd_tls_session_cache_database="btree:${data_directory}/smtpd_scache")
        a = self.agent(smtp_tls_security_level="verify", smtp_tls_CAfile=self.pki.ca,
                       smtp_tls_verify_cert_match="relay.test")
        r, log = self.deliver(a, m)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established", log)
        r, log = self.deliver(a, m)
        self.assertIn("Reusing old session", log)
        self.assertIn("Verified TLS connection established", log)
        # Another trust anchor: the cached session must not count as verified.
        a.params["smtp_tls_CAfile"] = self.other.ca
        a.write_main()
        r, log = self.deliver(a, m)
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.5"), log)
        self.assertNotIn("Reusing old session", log)
        self.assertEqual(r["reason"], "Server certificate not trusted")
        # Debian's posttls-finger -l verify, the same server and CAfile:
        # "certificate verification failed for X: untrusted issuer /CN=Test CA ca"
        self.assertIn("certificate verification failed for 127.0.0.1[127.0.0.1]:%d: "
                      "untrusted issuer /CN=Test CA ca\n" % m.smtp_port, log)

    def test_fingerprint_checked_again_on_a_resumed_session(self):
        m = self.server(smtpd_tls_session_cache_database="btree:${data_directory}/smtpd_scache")
        a = self.agent(smtp_tls_security_level="fingerprint",
                       smtp_tls_fingerprint_cert_match=self.pki.fingerprint(self.cert))
        r, log = self.deliver(a, m)
        self.assertEqual(r["dsn_action"], "d", log)
        r, log = self.deliver(a, m)
        self.assertIn("Reusing old session", log)
        self.assertIn("Verified TLS connection established", log)
        # The same key (names and fingerprints are not part of it): the
        # session is offered, and its certificate fails the new match.
        a.params["smtp_tls_fingerprint_cert_match"] = "00" * 32
        a.write_main()
        r, log = self.deliver(a, m)
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.5"), log)
        self.assertEqual(r["reason"], "Server certificate not verified")
        self.assertEqual(len(wait_incoming(m, 2)), 2)


class DebianStockMainCf(Base):
    def test_stock_settings_start_without_warnings(self):
        """Debian's main.cf.debian + main.cf.tls: every setting works or is
        known; nothing is reported as unknown or not implemented."""
        params = debian_params(self.cert, self.key)
        with MTA(main_cf=params) as m:
            # smtpd offers STARTTLS with the (snakeoil-like) certificate.
            s = smtplib.SMTP("127.0.0.1", m.smtp_port, timeout=20)
            s.ehlo("client.test")
            self.assertTrue(s.has_extn("starttls"))
            ctx = ssl.create_default_context(cafile=self.pki.ca)
            ctx.check_hostname = False
            self.assertEqual(s.starttls(context=ctx)[0], 220)
            s.ehlo("client.test")
            s.quit()
            m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 starttls=1 quit=1")
            self.assertEqual(m.stderr().count("warning"), 0, m.stderr())
            self.assertNotRegex(m.log(), BAD_WARNINGS)
            # postconf reads the same file without a complaint.
            p = m.command("postconf", "-n")
            self.assertNotRegex(p.stderr, BAD_WARNINGS)
            self.assertIn("smtp_tls_session_cache_database = "
                          "btree:${data_directory}/smtp_scache", p.stdout)

    def test_stock_client_settings_cache_sessions(self):
        params = debian_params(self.cert, self.key)
        server = self.server(smtpd_tls_session_cache_database="btree:${data_directory}/x")
        a = self.agent()
        for name in ("smtp_tls_loglevel", "smtp_tls_session_cache_database"):
            del a.params[name]
        a.params.update({k: v for k, v in params.items() if k.startswith("smtp_")
                         or k == "compatibility_level"})
        a.write_main()
        for _ in range(2):
            r, log = self.deliver(a, server)
            self.assertEqual(r["dsn_action"], "d", log)
            self.assertNotRegex(log, BAD_WARNINGS)
        self.assertTrue(os.path.getsize(os.path.join(a.params["data_directory"],
                                                     "smtp_scache.db")) > 0)
        # The second smtp process resumed the session of the first.
        server.wait_log(r"localhost\[127\.0\.0\.1\]: Reusing old session\n")


if __name__ == "__main__":
    unittest.main()
