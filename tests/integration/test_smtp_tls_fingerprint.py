"""smtp client TLS: the fingerprint level, verify match strategies, client
certificates and smtp_tls_policy_maps attributes.

Peers: our smtpd (asks for client certificates, logs Trusted/Anonymous),
our smtp client (smtp -S), Debian's posttls-finger (Postfix 3.7's TLS
client): the log lines of both clients are compared for the same server
and the same fingerprints."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from mta import SBIN
from smtpd_util import smtpd_mta, wait_incoming
from tls_pki import Pki, debian_finger
import test_smtp as peers


def log_lines(text, prog):
    """The log lines of text without the "prog[pid]: " or "prog: " prefix."""
    return [re.sub(r"^\S*?%s(\[\d+\])?: " % prog, "", ln) for ln in text.splitlines()]


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="smtp-tls-fpt-")
        os.chmod(cls.tmp, 0o755)
        cls.pki = Pki(cls.tmp)
        cls.cert, cls.key = cls.pki.issue("server", "relay.test")
        cls.ccert, cls.ckey = cls.pki.issue("client", "client.test")
        cls.fpt = cls.pki.fingerprint(cls.cert)
        cls.pkey_fpt = cls.pki.pkey_fingerprint(cls.cert)
        cls.m = smtpd_mta(smtpd_tls_security_level="may", smtpd_tls_cert_file=cls.cert,
                          smtpd_tls_key_file=cls.key, smtpd_tls_loglevel="1",
                          smtpd_tls_ask_ccert="yes", smtpd_tls_CAfile=cls.pki.ca,
                          relay_domains="dest.test")
        cls.dest = "[127.0.0.1]:%d" % cls.m.smtp_port
        cls.peer = "127.0.0.1[127.0.0.1]:%d" % cls.m.smtp_port

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def agent(self, **kw):
        params = {"compatibility_level": "3.7", "smtp_tls_loglevel": "1"}
        params.update(kw)
        a = peers.Agent(params)
        self.addCleanup(a.cleanup)
        return a

    def deliver(self, a, rcpt="r@dest.test"):
        res, log = a.deliver(self.dest, [rcpt])
        return res[rcpt], log

    def policy(self, a, text):
        a.params["smtp_tls_policy_maps"] = "texthash:" + a.write("policy", "%s %s\n"
                                                                  % (self.dest, text))
        a.write_main()

    def arrived(self):
        return len(os.listdir(os.path.join(self.m.queue_dir, "incoming")))


class Fingerprint(Base):
    def compare_with_postfix(self, matches, ours):
        """Debian's posttls-finger with the same fingerprints logs the same
        lines about the certificate as our smtp client did."""
        rc, theirs = debian_finger(self.tmp, ["-c", "-l", "fingerprint", "-L", "summary"],
                                   self.dest, matches)
        want = [ln for ln in log_lines(theirs, "posttls-finger") if ln]
        got = [ln for ln in log_lines(ours, "smtp") if not re.match(r"[0-9A-F]+: to=", ln)]
        self.assertEqual(got, want)

    def test_matching_certificate_fingerprint_delivers(self):
        n = self.arrived()
        a = self.agent(smtp_tls_security_level="fingerprint",
                       smtp_tls_fingerprint_cert_match="00:11:22 " + self.fpt)
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established to %s: TLSv1.3" % self.peer, log)
        self.compare_with_postfix(["00:11:22", self.fpt], log)
        wait_incoming(self.m, n + 1)

    def test_public_key_fingerprint_delivers(self):
        a = self.agent(smtp_tls_security_level="fingerprint",
                       smtp_tls_fingerprint_cert_match=self.pkey_fpt.replace(":", ""))
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established to %s" % self.peer, log)

    def test_other_fingerprint_defers(self):
        n = self.arrived()
        a = self.agent(smtp_tls_security_level="fingerprint",
                       smtp_tls_fingerprint_cert_match="00" * 32)
        r, log = self.deliver(a)
        # Postfix 3.7: "server certificate verification failed for X:
        # num=65:no matching DANE TLSA records", the Untrusted line, and
        # dsn=4.7.5, status=deferred (Server certificate not verified)
        self.assertEqual((r["dsn_action"], r["dsn_status"], r["reason"]),
                         ("x", "4.7.5", "Server certificate not verified"), log)
        self.compare_with_postfix(["00" * 32], log)
        self.assertEqual(self.arrived(), n)

    def test_unusable_fingerprints_are_reported(self):
        a = self.agent(smtp_tls_security_level="fingerprint",
                       smtp_tls_fingerprint_cert_match="AA:BB")
        r, log = self.deliver(a)
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.5"), log)
        # ... "unusable TLSA RR: 3 1 255 AABB", "all fingerprints unusable",
        # "num=1:unspecified certificate verification error"
        self.compare_with_postfix(["AA:BB"], log)

    def test_md5_digest(self):
        md5 = subprocess.run(["openssl", "x509", "-in", self.cert, "-noout", "-fingerprint",
                              "-md5"], capture_output=True, text=True,
                             check=True).stdout.strip().split("=", 1)[1]
        a = self.agent(smtp_tls_security_level="fingerprint",
                       smtp_tls_fingerprint_digest="md5", smtp_tls_fingerprint_cert_match=md5)
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)

    def test_policy_match_with_bar_separated_fingerprints(self):
        a = self.agent(smtp_tls_security_level="may")
        self.policy(a, "fingerprint match=%s|%s" % ("00" * 32, self.fpt))
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established", log)

    def test_no_fingerprints_defers(self):
        a = self.agent(smtp_tls_security_level="fingerprint")
        r, log = self.deliver(a)
        self.assertEqual((r["dsn_action"], r["dsn_status"], r["reason"]),
                         ("x", "4.7.5", "client TLS configuration problem"), log)
        # Postfix 3.7's warning.
        self.assertIn("warning: nexthop domain %s: configured at fingerprint security level, "
                      "but with no fingerprints to match." % self.dest, log)


class VerifyMatch(Base):
    def test_verify_name_strategies(self):
        a = self.agent(smtp_tls_security_level="verify", smtp_tls_CAfile=self.pki.ca)
        # hostname (the default): the server's name is 127.0.0.1 here.
        r, log = self.deliver(a)
        self.assertEqual((r["dsn_action"], r["reason"]),
                         ("x", "Server certificate not verified"), log)
        # Debian's posttls-finger -l verify with a name the certificate lacks.
        self.assertIn("server certificate verification failed for %s: num=62:hostname "
                      "mismatch\n" % self.peer, log)
        for match in (".test", "other.test, relay.test", "relay.test:other.test"):
            a.params["smtp_tls_verify_cert_match"] = match
            a.write_main()
            r, log = self.deliver(a)
            self.assertEqual(r["dsn_action"], "d", "%s: %s" % (match, log))
            self.assertIn("Verified TLS connection established", log)

    def test_secure_with_policy_names(self):
        a = self.agent(smtp_tls_CAfile=self.pki.ca)
        self.policy(a, "secure match=other.test:relay.test")
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established", log)
        self.policy(a, "secure match=.relay.test")
        r, log = self.deliver(a)
        self.assertEqual((r["dsn_action"], r["reason"]),
                         ("x", "Server certificate not verified"), log)


class ClientCertificate(Base):
    def test_no_certificate_is_anonymous(self):
        a = self.agent(smtp_tls_security_level="may")
        self.deliver(a)
        self.m.wait_log(r"Anonymous TLS connection established from localhost\[127\.0\.0\.1\]")

    def test_cert_and_key_files(self):
        a = self.agent(smtp_tls_security_level="may", smtp_tls_cert_file=self.ccert,
                       smtp_tls_key_file=self.ckey)
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)
        # Our smtpd verified it against its smtpd_tls_CAfile (Postfix's line).
        self.m.wait_log(r"Trusted TLS connection established from localhost\[127\.0\.0\.1\]: "
                        r"TLSv1\.3 with cipher \S+ \(\d+/\d+ bits\) key-exchange \S+ "
                        r"server-signature RSA-PSS \(2048 bits\) server-digest SHA256 "
                        r"client-signature RSA-PSS \(2048 bits\) client-digest SHA256")

    def test_chain_files(self):
        chain = os.path.join(self.tmp, "client-chain.pem")
        with open(chain, "w") as out:
            for f in (self.ckey, self.ccert):
                with open(f) as src:
                    out.write(src.read())
        os.chmod(chain, 0o644)
        before = len(re.findall(r"Trusted TLS connection established from", self.m.log()))
        a = self.agent(smtp_tls_security_level="encrypt", smtp_tls_chain_files=chain)
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)
        self.m.wait_log(r"Trusted TLS connection established from", count=before + 1)

    def test_unreadable_certificate_is_refused_aloud(self):
        a = self.agent(smtp_tls_security_level="encrypt",
                       smtp_tls_cert_file=os.path.join(self.tmp, "missing.pem"))
        r, log = self.deliver(a)
        # Postfix 3.7's reason (smtp): no STARTTLS is sent.
        self.assertEqual((r["dsn_action"], r["dsn_status"], r["reason"]),
                         ("x", "4.7.5", "TLS is required, but our TLS engine is unavailable"),
                         log)
        self.assertIn("disabling TLS support", log)
        # At level may the mail goes in plain text.
        n = self.arrived()
        a.params["smtp_tls_security_level"] = "may"
        a.write_main()
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertNotIn("TLS connection established", log)
        wait_incoming(self.m, n + 1)


class PolicyAttributes(Base):
    def test_protocols_and_ciphers_apply_to_the_destination(self):
        a = self.agent(smtp_tls_security_level="may")
        self.policy(a, "encrypt protocols=!TLSv1.3 ciphers=high exclude=aECDH")
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("TLS connection established to %s: TLSv1.2 with cipher" % self.peer, log)

    def test_invalid_entries_defer_with_postfix_warnings(self):
        where = 'smtp_tls_policy_maps, next-hop destination "%s": ' % self.dest
        cases = [
            ("encrypt foo=bar", 'invalid attribute name: "foo"'),
            ("encrypt protocols=TLSv1.2 protocols=TLSv1.3",
             'attribute "protocols" is specified multiple times'),
            ("may match=relay.test", 'attribute "match" invalid at security level "may"'),
            ("encrypt ciphers=", 'attribute "ciphers" has empty value'),
            ("verify tafile=/x.pem", 'attribute "tafile" is not implemented by this mail system'),
        ]
        for entry, warning in cases:
            a = self.agent(smtp_tls_security_level="may")
            self.policy(a, entry)
            r, log = self.deliver(a)
            self.assertEqual((r["dsn_action"], r["dsn_status"], r["reason"]),
                             ("x", "4.7.5", "client TLS configuration problem"), log)
            self.assertIn("warning: " + where + warning + "\n", log)

    def test_lookup_keys_as_postfix(self):
        """The key is the nexthop without the default port; a bare domain
        is also looked up as ".parent" (Postfix's TLS_README)."""
        nsd = peers.Nsd("dest.test", "sub IN A 127.0.0.1\n")
        self.addCleanup(nsd.stop)
        a = self.agent(smtp_tls_security_level="may", resolv_conf=nsd.resolv_conf,
                       smtp_tcp_port=str(self.m.smtp_port))
        entries = ("dest.test encrypt\n.dest.test fingerprint match=%s\n[127.0.0.1] "
                   "fingerprint match=%s\n" % (self.fpt, "00" * 32))
        a.params["smtp_tls_policy_maps"] = "texthash:" + a.write("policy", entries)
        a.write_main()
        res, log = a.deliver("sub.dest.test", ["r@sub.dest.test"])
        self.assertEqual(res["r@sub.dest.test"]["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established to sub.dest.test[127.0.0.1]", log)
        # [127.0.0.1]:PORT with PORT the default (smtp_tcp_port): key [127.0.0.1].
        res, log = a.deliver("[127.0.0.1]:%d" % self.m.smtp_port, ["r@x.test"])
        self.assertEqual(res["r@x.test"]["reason"], "Server certificate not verified", log)

    def test_attributes_with_tls_disabled_are_ignored_aloud(self):
        a = self.agent(smtp_tls_security_level="may")
        self.policy(a, "none ciphers=high")
        r, log = self.deliver(a)
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn('warning: smtp_tls_policy_maps, next-hop destination "%s": ignoring '
                      'attribute "ciphers=high" with TLS disabled' % self.dest, log)
        self.assertNotIn("TLS connection established", log)


if __name__ == "__main__":
    unittest.main()
