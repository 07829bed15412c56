"""test_smtp_dane - DANE (RFC 7672) in the smtp and lmtp agents.

DNSSEC is made here (dnssec_util): zones signed with ldns-signzone,
served by nsd, validated by Debian's unbound (trust anchors = the zones'
keys), which is what our resolv_conf points at. Capture servers offer
STARTTLS with a self-signed certificate (DANE-EE) or one signed by a
test CA (DANE-TA). The agent runs stand-alone (smtp -S), with
smtp_dns_support_level = dnssec and smtp_tls_security_level = dane.

The expected log lines and reasons are Debian's Postfix 3.7.11's, run
against the same zones and servers (unshare -m with resolv.conf bound to
the test's unbound):
  Verified TLS connection established to mx.X[addr]:port: TLSv1.3 with
      cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519
      server-signature ECDSA (prime256v1) server-digest SHA256
  server certificate verification failed for mx.X[addr]:port:
      num=65:no matching DANE TLSA records       -> 4.7.5 Server certificate not verified
  warning: TLS policy lookup for X/mx.X: no TLSA records found
                                                 -> 4.7.5 no TLSA records found (dane-only)
  warning: _port._tcp.mx.X unsupported TLSA certificate usage: 1 1 1 HEX
  warning: TLS policy lookup for X/mx.X: TLSA records unusable (dane-only)
  warning: X: dane configured with dnssec lookups disabled (then "may")
  bogus zone: 4.4.3 Host or domain name not found. Name service error
      for name=X type=MX: Host not found, try again
"""
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import unittest

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP

import test_smtp as peers
from dnssec_util import DnssecWorld, TestCA, TlsCapture, self_signed, tlsa_digest
from mta import SBIN


class _TlsLmtp(Controller):
    def __init__(self, handler, ctx, **kw):
        self.ctx = ctx
        super().__init__(handler, **kw)

    def factory(self):
        return LMTP(self.handler, tls_context=self.ctx)


class DaneWorld(unittest.TestCase):
    """The zones, servers and helpers shared by the test classes."""
    NAMES = ["ee-ok", "ee-bad", "plain", "bogus", "notlsa", "ta", "ta-other", "unusable",
             "lmtp"]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dane-test-")
        os.chmod(cls.tmp, 0o755)
        cls.world = DnssecWorld()
        cls.caps = {}
        try:
            cls._build()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _build(cls):
        ca = TestCA(cls.tmp)
        other_dir = os.path.join(cls.tmp, "other")
        os.makedirs(other_dir)
        other_ca = TestCA(other_dir, name="Other CA")
        cls.addr = {n: peers.loopback_addr() for n in cls.NAMES}
        cls.port = peers.common_port(*cls.addr.values())
        cls.lmtp_port = peers.common_port(cls.addr["lmtp"])
        for n in cls.NAMES:
            host = "mx.%s.test" % n
            if n == "ta":
                chain, key = ca.leaf(host)
            elif n == "ta-other":
                chain, key = other_ca.leaf(host)
            else:
                chain, key = self_signed(cls.tmp, host)
            port = cls.port
            if n == "lmtp":
                ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                ctx.load_cert_chain(chain, key)
                cls.lmtp_handler = peers.LmtpHandler()
                cls.lmtp = _TlsLmtp(cls.lmtp_handler, ctx, hostname=cls.addr[n],
                                    port=cls.lmtp_port)
                cls.lmtp.start()
                port = cls.lmtp_port
            else:
                cls.caps[n] = TlsCapture(cls.addr[n], cls.port, chain, key, name=n)
            rec = "@ IN MX 10 mx\nmx IN A %s\n" % cls.addr[n]
            tlsa = "_%d._tcp.mx IN TLSA %%s\n" % port
            if n in ("ee-ok", "plain", "bogus", "lmtp"):
                rec += tlsa % ("3 1 1 " + tlsa_digest(chain, 1, 1))
            elif n == "ee-bad":
                rec += tlsa % ("3 1 1 " + "00" * 32)
            elif n in ("ta", "ta-other"):
                rec += tlsa % ("2 0 1 " + tlsa_digest(ca.cert, 0, 1))
            elif n == "unusable":
                rec += tlsa % ("1 1 1 " + tlsa_digest(chain, 1, 1))
            cls.world.zone(n + ".test", rec, signed=(n != "plain"), bogus=(n == "bogus"))
        # An unsigned domain whose MX host is in a signed zone with TLSA.
        cls.world.zone("insecure-mx.test", "@ IN MX 10 mx.ee-ok.test.\n", signed=False)
        cls.world.start()

    @classmethod
    def tearDownClass(cls):
        for c in cls.caps.values():
            c.stop()
        if getattr(cls, "lmtp", None):
            cls.lmtp.stop()
        cls.world.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        for c in self.caps.values():
            c.handler.messages.clear()

    def agent(self, **extra):
        params = {"resolv_conf": self.world.resolv_conf, "smtp_tcp_port": str(self.port),
                  "smtp_dns_support_level": "dnssec", "smtp_tls_security_level": "dane",
                  "smtp_tls_loglevel": "1", "inet_protocols": "ipv4"}
        params.update(extra)
        a = peers.Agent(params)
        self.addCleanup(a.cleanup)
        return a

    def relay(self, name):
        return "mx.%s.test[%s]:%d" % (name, self.addr[name], self.port)

    def deliver(self, domain, agent=None, **extra):
        a = agent or self.agent(**extra)
        rcpt = "u@%s.test" % domain
        res, log = a.deliver("%s.test" % domain, [rcpt])
        return res[rcpt], log


class Dane(DaneWorld):
    """Deliveries with dane and dane-only."""

    def test_dane_ee_verified(self):
        r, log = self.deliver("ee-ok")
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("d", "2.0.0"), log)
        self.assertRegex(log, r"Verified TLS connection established to %s: TLSv1\.[23] with "
                         r"cipher \S+ \(\d+/\d+ bits\) key-exchange \S+ server-signature "
                         r"ECDSA \(prime256v1\) server-digest SHA256" % re.escape(self.relay("ee-ok")))
        self.assertEqual(len(self.caps["ee-ok"].messages), 1)
        self.assertTrue(self.caps["ee-ok"].messages[0]["tls"])

    def test_dane_ee_wrong_digest_defers(self):
        r, log = self.deliver("ee-bad")
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.5"), log)
        self.assertEqual(r["reason"], "Server certificate not verified")
        self.assertIn("server certificate verification failed for %s: num=65:no matching "
                      "DANE TLSA records" % self.relay("ee-bad"), log)
        self.assertIn("Untrusted TLS connection established to %s" % self.relay("ee-bad"), log)
        self.assertEqual(self.caps["ee-bad"].messages, [])

    def test_unsigned_zone_is_opportunistic(self):
        r, log = self.deliver("plain")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Untrusted TLS connection established to %s" % self.relay("plain"), log)
        self.assertTrue(self.caps["plain"].messages[0]["tls"])

    def test_bogus_signature_defers(self):
        r, log = self.deliver("bogus")
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.4.3"), log)
        self.assertEqual(r["reason"], "Host or domain name not found. Name service error for "
                         "name=bogus.test type=MX: Host not found, try again")
        self.assertEqual(self.caps["bogus"].messages, [])

    def test_dane_only_without_tlsa_defers(self):
        a = self.agent()
        a.params["smtp_tls_policy_maps"] = "texthash:" + a.write("policy", "notlsa.test dane-only\n")
        a.write_main()
        r, log = self.deliver("notlsa", agent=a)
        self.assertEqual((r["dsn_action"], r["dsn_status"], r["reason"]),
                         ("x", "4.7.5", "no TLSA records found"), log)
        self.assertIn("warning: TLS policy lookup for notlsa.test/mx.notlsa.test: "
                      "no TLSA records found", log)
        self.assertEqual(r["relay"], "none")
        self.assertEqual(self.caps["notlsa"].messages, [])

    def test_dane_without_tlsa_is_may(self):
        r, log = self.deliver("notlsa")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Untrusted TLS connection established to %s" % self.relay("notlsa"), log)

    def test_dane_ta_verified(self):
        r, log = self.deliver("ta")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established to %s" % self.relay("ta"), log)
        self.assertEqual(len(self.caps["ta"].messages), 1)

    def test_dane_ta_other_ca_defers(self):
        r, log = self.deliver("ta-other")
        self.assertEqual((r["dsn_action"], r["dsn_status"], r["reason"]),
                         ("x", "4.7.5", "Server certificate not verified"), log)
        self.assertIn("server certificate verification failed for %s: num=" % self.relay("ta-other"),
                      log)
        self.assertEqual(self.caps["ta-other"].messages, [])

    def test_unusable_tlsa_is_encrypt(self):
        r, log = self.deliver("unusable")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertRegex(log, r"warning: _%d\._tcp\.mx\.unusable\.test unsupported TLSA "
                         r"certificate usage: 1 1 1 [0-9A-F]{64}" % self.port)
        self.assertIn("Untrusted TLS connection established to %s" % self.relay("unusable"), log)
        self.assertTrue(self.caps["unusable"].messages[0]["tls"])

    def test_unusable_tlsa_dane_only_defers(self):
        a = self.agent()
        a.params["smtp_tls_policy_maps"] = "texthash:" + a.write("policy",
                                                                 "unusable.test dane-only\n")
        a.write_main()
        r, log = self.deliver("unusable", agent=a)
        self.assertEqual((r["dsn_action"], r["dsn_status"], r["reason"]),
                         ("x", "4.7.5", "TLSA records unusable"), log)
        self.assertIn("warning: TLS policy lookup for unusable.test/mx.unusable.test: "
                      "TLSA records unusable", log)
        self.assertEqual(self.caps["unusable"].messages, [])

    def test_dnssec_disabled_downgrades_dane(self):
        r, log = self.deliver("ee-bad", smtp_dns_support_level="enabled")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("warning: ee-bad.test: dane configured with dnssec lookups disabled", log)
        self.assertIn("Untrusted TLS connection established to %s" % self.relay("ee-bad"), log)

    def test_dnssec_disabled_dane_only_defers(self):
        r, log = self.deliver("ee-ok", smtp_dns_support_level="enabled",
                              smtp_tls_security_level="dane-only")
        self.assertEqual((r["dsn_action"], r["dsn_status"], r["reason"]),
                         ("x", "4.7.5", "client TLS configuration problem"), log)
        self.assertIn("warning: ee-ok.test: dane-only configured with dnssec lookups disabled",
                      log)
        self.assertEqual(self.caps["ee-ok"].messages, [])

    def test_insecure_mx_is_trusted_not_verified(self):
        r, log = self.deliver("insecure-mx")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Trusted TLS connection established to %s" % self.relay("ee-ok"), log)
        self.assertNotIn("Verified", log)

    def test_insecure_mx_policy_may_ignores_tlsa(self):
        r, log = self.deliver("insecure-mx", smtp_tls_dane_insecure_mx_policy="may")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Untrusted TLS connection established to %s" % self.relay("ee-ok"), log)

    def test_digest_not_listed_is_unusable(self):
        # tls_dane_digests without sha256: the 3 1 1 record cannot be used.
        r, log = self.deliver("ee-bad", tls_dane_digests="sha512")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("unsupported TLSA matching type: 3 1 1 ", log)

    def test_bracketed_nexthop_uses_host_tlsa(self):
        a = self.agent()
        res, log = a.deliver("[mx.ee-ok.test]", ["b@ee-ok.test"])
        self.assertEqual(res["b@ee-ok.test"]["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established to %s" % self.relay("ee-ok"), log)

    def test_lmtp_over_tcp(self):
        a = self.agent(lmtp_dns_support_level="dnssec", lmtp_tls_security_level="dane",
                       lmtp_tls_loglevel="1")
        res, log = a.deliver("inet:mx.lmtp.test:%d" % self.lmtp_port, ["l@lmtp.test"],
                             prog="lmtp")
        self.assertEqual(res["l@lmtp.test"]["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established to mx.lmtp.test[%s]:%d"
                      % (self.addr["lmtp"], self.lmtp_port), log)


class PosttlsFinger(DaneWorld):
    """posttls-finger: what the smtp client would do, for each domain above."""

    def test_dane_ee_verified(self):
        p = self.finger("ee-ok.test")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        relay = self.relay("ee-ok")
        self.assertIn("ee-ok.test: configured TLS level dane\n", p.stdout)
        self.assertIn("ee-ok.test: MX lookup DNSSEC-validated\n", p.stdout)
        self.assertIn("ee-ok.test: server 10 %s\n" % relay, p.stdout)
        self.assertIn("%s: address DNSSEC-validated; effective TLS level dane\n" % relay, p.stdout)
        self.assertRegex(p.stdout, r"mx\.ee-ok\.test: usable TLSA _%d\._tcp\.mx\.ee-ok\.test "
                         r"DANE-EE\(3\) 1 1 [0-9A-F]{64}\n" % self.port)
        self.assertIn("%s: Verified TLS: TLSv1.3 with cipher" % relay, p.stdout)
        self.assertIn("%s: would deliver\n" % relay, p.stdout)
        self.assertIn("posttls-finger: Verified TLS connection established to %s" % relay, p.stderr)
        self.assertEqual(self.caps["ee-ok"].messages, [])

    def test_wrong_digest_shows_chain_and_defer(self):
        p = self.finger("-C", "ee-bad.test")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        relay = self.relay("ee-bad")
        self.assertIn("%s: certificate chain:\n  depth=0 subject=/CN=mx.ee-bad.test\n" % relay,
                      p.stdout)
        self.assertRegex(p.stdout, r"pkey sha256 \[1\]: ([0-9A-F]{2}:){31}[0-9A-F]{2}\n")
        self.assertIn("%s: would defer: 4.7.5 Server certificate not verified\n" % relay, p.stdout)

    def test_unsigned_zone(self):
        p = self.finger("plain.test")
        relay = self.relay("plain")
        self.assertIn("plain.test: MX lookup not validated\n", p.stdout)
        self.assertIn("%s: address not validated; effective TLS level may\n" % relay, p.stdout)
        self.assertIn("%s: Untrusted TLS:" % relay, p.stdout)
        self.assertIn("%s: would deliver\n" % relay, p.stdout)

    def test_bogus_zone(self):
        p = self.finger("bogus.test")
        self.assertEqual(p.returncode, 1)
        self.assertIn("bogus.test: would defer: 4.4.3 Host or domain name not found. Name service "
                      "error for name=bogus.test type=MX: Host not found, try again\n", p.stdout)

    def test_dane_only_without_tlsa(self):
        p = self.finger("-l", "dane-only", "notlsa.test")
        self.assertEqual(p.returncode, 1)
        self.assertIn("%s: would defer: 4.7.5 no TLSA records found\n" % self.relay("notlsa"),
                      p.stdout)

    def test_dane_ta(self):
        p = self.finger("ta.test")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"usable TLSA _%d\._tcp\.mx\.ta\.test DANE-TA\(2\) 0 1 "
                         % self.port)
        self.assertIn("%s: Verified TLS:" % self.relay("ta"), p.stdout)

    def finger(self, *args):
        a = self.agent()
        env = dict(os.environ, MAIL_CONFIG=a.etc)
        return subprocess.run([os.path.join(SBIN, "posttls-finger")] + list(args), env=env,
                              capture_output=True, text=True, timeout=60)


if __name__ == "__main__":
    unittest.main()
