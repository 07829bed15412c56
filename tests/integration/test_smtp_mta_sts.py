"""test_smtp_mta_sts - MTA-STS (RFC 8461) built into the smtp agent.

The test makes everything: zones (unsigned: MTA-STS needs no DNSSEC)
served by nsd through unbound, a test CA, HTTPS policy servers on port 443
of each mta-sts.<domain> address (certificates by the test CA), and
capture servers (a CA-signed certificate, or a self-signed one that does
not verify). The agent runs stand-alone (smtp -S) with
smtp_mta_sts_enable = yes, the test CA as smtp_mta_sts_CAfile (policy
fetch) and smtp_tls_CAfile (MX certificates), and a data_directory of its
own for the policy cache (smtp_mta_sts_cache_map).
"""
import os
import shutil
import tempfile
import unittest

import test_smtp as peers
from dnssec_util import DnssecWorld, PolicyServer, TestCA, TlsCapture, self_signed

POLICY = "version: STSv1\nmode: %s\nmx: %s\nmax_age: 86400\n"


class MtaSts(unittest.TestCase):
    # domain: (mode, policy mx, MX certificate by the test CA?)
    DOMAINS = {
        "sts-ok": ("enforce", "mx.sts-ok.test", True),
        "sts-wild": ("enforce", "*.sts-wild.test", True),
        "sts-badmx": ("enforce", "other.sts-badmx.test", True),
        "sts-badcert": ("enforce", "mx.sts-badcert.test", False),
        "sts-testing": ("testing", "mx.sts-testing.test", False),
        "sts-none": ("none", "mx.sts-none.test", False),
    }

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sts-test-")
        os.chmod(cls.tmp, 0o755)
        cls.world = DnssecWorld()
        cls.caps, cls.https = {}, {}
        try:
            cls._build()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _build(cls):
        cls.ca = TestCA(cls.tmp)
        cls.addr = {d: peers.loopback_addr() for d in cls.DOMAINS}
        web = {d: peers.loopback_addr() for d in cls.DOMAINS}
        cls.port = peers.common_port(*cls.addr.values())
        for d, (mode, mx, good) in cls.DOMAINS.items():
            host = "mx.%s.test" % d
            chain, key = cls.ca.leaf(host) if good else self_signed(cls.tmp, host)
            cls.caps[d] = TlsCapture(cls.addr[d], cls.port, chain, key, name=d)
            wchain, wkey = cls.ca.leaf("mta-sts.%s.test" % d)
            cls.https[d] = PolicyServer(web[d], wchain, wkey, POLICY % (mode, mx))
            cls.world.zone(d + ".test", "@ IN MX 10 mx\nmx IN A %s\nmta-sts IN A %s\n"
                           "_mta-sts IN TXT \"v=STSv1; id=20240101\"\n" % (cls.addr[d], web[d]),
                           signed=False)
        cls.world.start()

    @classmethod
    def tearDownClass(cls):
        for s in list(cls.caps.values()) + list(cls.https.values()):
            s.stop()
        cls.world.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def agent(self, **extra):
        params = {"resolv_conf": self.world.resolv_conf, "smtp_tcp_port": str(self.port),
                  "smtp_tls_security_level": "may", "smtp_tls_loglevel": "1",
                  "inet_protocols": "ipv4", "smtp_mta_sts_enable": "yes",
                  "smtp_mta_sts_CAfile": self.ca.cert, "smtp_tls_CAfile": self.ca.cert}
        params.update(extra)
        a = peers.Agent(params)
        self.addCleanup(a.cleanup)
        data = os.path.join(a.dir, "data")
        os.makedirs(data)
        shutil.chown(data, "postfix")		# data_directory belongs to mail_owner
        a.params["data_directory"] = data
        a.write_main()
        return a

    def deliver(self, d, agent=None):
        a = agent or self.agent()
        rcpt = "u@%s.test" % d
        res, log = a.deliver("%s.test" % d, [rcpt])
        return res[rcpt], log

    def relay(self, d):
        return "mx.%s.test[%s]:%d" % (d, self.addr[d], self.port)

    def test_enforce_verified(self):
        r, log = self.deliver("sts-ok")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established to %s" % self.relay("sts-ok"), log)
        self.assertTrue(self.caps["sts-ok"].messages[-1]["tls"])

    def test_enforce_wildcard_mx(self):
        r, log = self.deliver("sts-wild")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established to %s" % self.relay("sts-wild"), log)

    def test_enforce_mx_not_in_policy_defers(self):
        n = len(self.caps["sts-badmx"].messages)
        r, log = self.deliver("sts-badmx")
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.5"), log)
        self.assertEqual(r["reason"], "MX host mx.sts-badmx.test does not match the MTA-STS "
                         "policy of sts-badmx.test")
        self.assertEqual(len(self.caps["sts-badmx"].messages), n)

    def test_enforce_untrusted_certificate_defers(self):
        r, log = self.deliver("sts-badcert")
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.5"), log)
        # Postfix 3.7 (verify level): status=deferred (Server certificate not trusted)
        self.assertEqual(r["reason"], "Server certificate not trusted")
        # ... after "certificate verification failed for X: self-signed
        # certificate" (Debian's posttls-finger -l verify, such a server).
        self.assertIn("certificate verification failed for %s: self-signed certificate\n"
                      % self.relay("sts-badcert"), log)
        self.assertEqual(self.caps["sts-badcert"].messages, [])

    def test_testing_delivers(self):
        r, log = self.deliver("sts-testing")
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertIn("Untrusted TLS connection established to %s" % self.relay("sts-testing"),
                      log)

    def test_mode_none_is_off(self):
        r, log = self.deliver("sts-none")
        self.assertEqual(r["dsn_action"], "d", log)

    def test_disabled_ignores_policy(self):
        r, log = self.deliver("sts-badmx", agent=self.agent(smtp_mta_sts_enable="no"))
        self.assertEqual(r["dsn_action"], "d", log)

    def test_policy_cached_while_https_down(self):
        a = self.agent()
        before = self.https["sts-badcert"].requests
        r, log = self.deliver("sts-badcert", agent=a)
        self.assertEqual(r["dsn_status"], "4.7.5", log)
        self.assertEqual(self.https["sts-badcert"].requests, before + 1)
        self.assertTrue(os.path.exists(os.path.join(a.params["data_directory"],
                                                    "mta_sts_cache.db")))
        # Same id in DNS: the cache answers, no fetch.
        r, log = self.deliver("sts-badcert", agent=a)
        self.assertEqual(self.https["sts-badcert"].requests, before + 1)
        self.https["sts-badcert"].stop()
        r, log = self.deliver("sts-badcert", agent=a)
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.5"), log)
        self.assertEqual(self.caps["sts-badcert"].messages, [])

    def finger(self, domain):
        import subprocess
        from mta import SBIN
        a = self.agent()
        env = dict(os.environ, MAIL_CONFIG=a.etc)
        return subprocess.run([os.path.join(SBIN, "posttls-finger"), domain], env=env,
                              capture_output=True, text=True, timeout=60)

    def test_posttls_finger_enforce(self):
        p = self.finger("sts-ok.test")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        relay = self.relay("sts-ok")
        self.assertIn("%s: address not validated; effective TLS level verify\n" % relay, p.stdout)
        self.assertIn("mx.sts-ok.test: MTA-STS policy mode enforce, mx mx.sts-ok.test\n", p.stdout)
        self.assertIn("%s: Verified TLS:" % relay, p.stdout)
        self.assertIn("%s: would deliver\n" % relay, p.stdout)

    def test_posttls_finger_mx_not_in_policy(self):
        p = self.finger("sts-badmx.test")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("%s: would defer: 4.7.5 MX host mx.sts-badmx.test does not match the "
                      "MTA-STS policy of sts-badmx.test\n" % self.relay("sts-badmx"), p.stdout)

    def test_posttls_finger_testing(self):
        p = self.finger("sts-testing.test")
        self.assertIn("mx.sts-testing.test: MTA-STS policy mode testing, mx mx.sts-testing.test\n",
                      p.stdout)
        self.assertIn("%s: would deliver\n" % self.relay("sts-testing"), p.stdout)


if __name__ == "__main__":
    unittest.main()
