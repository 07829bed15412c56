"""test_smtp_tls_sasl - STARTTLS levels and SASL AUTH of the smtp agent.

Stand-alone agent (smtp -S) against aiosmtpd capture servers that offer
STARTTLS (self-signed certificate) and/or require AUTH PLAIN/LOGIN.
"""
import os
import shutil
import tempfile
import unittest

from mta import free_port
import test_smtp as peers


class StartTls(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smtp-tls-test-")
        os.chmod(self.tmp, 0o755)
        self.addr = peers.loopback_addr()
        self.tls_port = free_port(self.addr)
        self.tls = peers.Capture(self.addr, self.tls_port, name="tls", tls=True, certdir=self.tmp)
        self.plain_port = free_port(self.addr)
        self.plain = peers.Capture(self.addr, self.plain_port, name="plain")
        self.agents = []

    def tearDown(self):
        self.tls.stop()
        self.plain.stop()
        for a in self.agents:
            a.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def agent(self, level):
        a = peers.Agent({"smtp_tls_security_level": level, "smtp_tls_loglevel": "1"})
        self.agents.append(a)
        return a

    def test_may_uses_tls_when_offered(self):
        res, log = self.agent("may").deliver("[%s]:%d" % (self.addr, self.tls_port), ["m@x.test"])
        self.assertEqual(res["m@x.test"]["dsn_action"], "d", log)
        self.assertTrue(self.tls.messages[0]["tls"])
        self.assertIn("TLS connection established to %s[%s]:%d" % (self.addr, self.addr,
                                                                   self.tls_port), log)

    def test_may_without_tls_offer_sends_plain(self):
        res, log = self.agent("may").deliver("[%s]:%d" % (self.addr, self.plain_port), ["m@x.test"])
        self.assertEqual(res["m@x.test"]["dsn_action"], "d", log)
        self.assertFalse(self.plain.messages[0]["tls"])

    def test_encrypt_uses_tls(self):
        res, log = self.agent("encrypt").deliver("[%s]:%d" % (self.addr, self.tls_port), ["e@x.test"])
        self.assertEqual(res["e@x.test"]["dsn_action"], "d", log)
        self.assertTrue(self.tls.messages[0]["tls"])

    def test_encrypt_without_tls_offer_defers(self):
        res, log = self.agent("encrypt").deliver("[%s]:%d" % (self.addr, self.plain_port), ["e@x.test"])
        r = res["e@x.test"]
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.4"), log)
        self.assertEqual(r["reason"], "TLS is required, but was not offered by host %s[%s]"
                         % (self.addr, self.addr))
        self.assertEqual(self.plain.messages, [])

    def test_policy_map_overrides_level(self):
        a = self.agent("none")
        a.params["smtp_tls_policy_maps"] = "texthash:" + a.write(
            "tls_policy", "[%s]:%d encrypt\n" % (self.addr, self.plain_port))
        a.write_main()
        res, log = a.deliver("[%s]:%d" % (self.addr, self.plain_port), ["p@x.test"])
        self.assertEqual(res["p@x.test"]["dsn_status"], "4.7.4", log)

    def test_may_falls_back_to_plain_after_failed_handshake(self):
        import ssl
        port = free_port(self.addr)
        old = peers.Capture(self.addr, port, name="tls12", tls=True, certdir=self.tmp,
                            max_tls=ssl.TLSVersion.TLSv1_2)
        try:
            a = self.agent("may")
            a.params["smtp_tls_protocols"] = ">=TLSv1.3"
            a.write_main()
            res, log = a.deliver("[%s]:%d" % (self.addr, port), ["f@x.test"])
        finally:
            old.stop()
        self.assertEqual(res["f@x.test"]["dsn_action"], "d", log)
        self.assertFalse(old.messages[0]["tls"])
        self.assertIn("TLS library problem", log)

    def test_wrappermode_smtps(self):
        port = free_port(self.addr)
        smtps = peers.Capture(self.addr, port, name="smtps", implicit_tls=True, certdir=self.tmp,
                              users={"u": "p"})
        try:
            a = self.agent("none")
            a.params.update({"smtp_tls_wrappermode": "yes", "smtp_sasl_auth_enable": "yes",
                             "smtp_sasl_security_options": "noplaintext",
                             "smtp_sasl_tls_security_options": "noanonymous",
                             "smtp_sasl_password_maps": "texthash:" + a.write(
                                 "pw", "[%s]:%d u:p\n" % (self.addr, port))})
            a.write_main()
            res, log = a.deliver("[%s]:%d" % (self.addr, port), ["w@x.test"])
        finally:
            smtps.stop()
        self.assertEqual(res["w@x.test"]["dsn_action"], "d", log)
        self.assertEqual(smtps.messages[0]["auth"], "u")
        self.assertIn("TLS connection established", log)

    def test_invalid_policy_defers(self):
        a = self.agent("may")
        a.params["smtp_tls_policy_maps"] = "texthash:" + a.write(
            "tls_policy", "[%s]:%d bogus\n" % (self.addr, self.tls_port))
        a.write_main()
        res, log = a.deliver("[%s]:%d" % (self.addr, self.tls_port), ["i@x.test"])
        self.assertEqual((res["i@x.test"]["dsn_action"], res["i@x.test"]["dsn_status"]),
                         ("x", "4.7.5"), log)
        self.assertIn('invalid TLS security level "bogus"', log)
        self.assertEqual(self.tls.messages, [])

    def test_verify_with_trusted_certificate(self):
        a = self.agent("none")
        a.params["smtp_tls_CAfile"] = os.path.join(self.tmp, "cert.pem")
        a.params["smtp_tls_policy_maps"] = "texthash:" + a.write(
            "tls_policy", "[%s]:%d verify match=relay.test\n" % (self.addr, self.tls_port))
        a.write_main()
        res, log = a.deliver("[%s]:%d" % (self.addr, self.tls_port), ["v@x.test"])
        self.assertEqual(res["v@x.test"]["dsn_action"], "d", log)
        self.assertIn("Verified TLS connection established", log)
        self.assertTrue(self.tls.messages[0]["tls"])

    def test_verify_name_mismatch_defers(self):
        a = self.agent("none")
        a.params["smtp_tls_CAfile"] = os.path.join(self.tmp, "cert.pem")
        a.params["smtp_tls_policy_maps"] = "texthash:" + a.write(
            "tls_policy", "[%s]:%d verify match=other.test\n" % (self.addr, self.tls_port))
        a.write_main()
        res, log = a.deliver("[%s]:%d" % (self.addr, self.tls_port), ["v@x.test"])
        self.assertEqual((res["v@x.test"]["dsn_action"], res["v@x.test"]["dsn_status"]),
                         ("x", "4.7.5"), log)
        self.assertIn("Server certificate not verified", res["v@x.test"]["reason"])
        self.assertEqual(self.tls.messages, [])

    def test_verify_with_untrusted_certificate_defers(self):
        res, log = self.agent("verify").deliver("[%s]:%d" % (self.addr, self.tls_port), ["v@x.test"])
        self.assertEqual(res["v@x.test"]["dsn_action"], "x", log)
        self.assertEqual(self.tls.messages, [])


class SaslAuth(unittest.TestCase):
    """Sender-dependent relays with per-sender credentials."""

    def setUp(self):
        self.addr = peers.loopback_addr()
        self.port1 = free_port(self.addr)
        self.port2 = free_port(self.addr)
        self.relay1 = peers.Capture(self.addr, self.port1, name="relay1", users={"user1": "pw1"})
        self.relay2 = peers.Capture(self.addr, self.port2, name="relay2", users={"user2": "pw2"})
        self.agent = peers.Agent({
            "smtp_sasl_auth_enable": "yes",
            "smtp_sender_dependent_authentication": "yes",
            "smtp_sasl_security_options": "noanonymous",
        })
        self.next1 = "[%s]:%d" % (self.addr, self.port1)
        self.next2 = "[%s]:%d" % (self.addr, self.port2)

    def tearDown(self):
        self.relay1.stop()
        self.relay2.stop()
        self.agent.cleanup()

    def passwords(self, text):
        self.agent.params["smtp_sasl_password_maps"] = "texthash:" + self.agent.write("sasl_passwd", text)
        self.agent.write_main()

    def test_each_sender_authenticates_as_its_user(self):
        self.passwords("one@one.test user1:pw1\n@two.test user2:pw2\n")
        res, log = self.agent.deliver(self.next1, ["a@dest.test"], sender="one@one.test")
        self.assertEqual(res["a@dest.test"]["dsn_action"], "d", log)
        res, log = self.agent.deliver(self.next2, ["b@dest.test"], sender="someone@two.test")
        self.assertEqual(res["b@dest.test"]["dsn_action"], "d", log)
        self.assertEqual([(m["from"], m["auth"]) for m in self.relay1.messages],
                         [("one@one.test", "user1")])
        self.assertEqual([(m["from"], m["auth"]) for m in self.relay2.messages],
                         [("someone@two.test", "user2")])

    def test_nexthop_credentials(self):
        self.passwords("%s user2:pw2\n" % self.next2)
        res, log = self.agent.deliver(self.next2, ["c@dest.test"], sender="x@other.test")
        self.assertEqual(res["c@dest.test"]["dsn_action"], "d", log)
        self.assertEqual(self.relay2.messages[0]["auth"], "user2")

    def test_mx_host_credentials(self):
        # Postfix's order: sender, then the MX host connected to, then the
        # nexthop as written.
        nsd = peers.Nsd("dest.test", "@ IN MX 10 mx1\nmx1 IN A %s\n" % self.addr)
        self.addCleanup(nsd.stop)
        self.agent.params["resolv_conf"] = nsd.resolv_conf
        self.agent.params["smtp_tcp_port"] = str(self.port1)
        self.passwords("mx1.dest.test user1:pw1\ndest.test user2:pw2\n")
        res, log = self.agent.deliver("dest.test", ["d@dest.test"], sender="x@other.test")
        self.assertEqual(res["d@dest.test"]["dsn_action"], "d", log)
        self.assertEqual([(m["to"], m["auth"]) for m in self.relay1.messages],
                         [(["d@dest.test"], "user1")])

    def test_wrong_password_defers_with_server_text(self):
        self.passwords("one@one.test user1:wrong\n")
        res, log = self.agent.deliver(self.next1, ["a@dest.test"], sender="one@one.test")
        r = res["a@dest.test"]
        self.assertEqual(r["dsn_action"], "x", log)
        self.assertTrue(r["dsn_status"].startswith("4."), r)
        self.assertIn("SASL authentication failed; server %s[%s] said: 535" % (self.addr, self.addr),
                      r["reason"])
        self.assertEqual(self.relay1.messages, [])

    def test_plaintext_forbidden_by_default_options(self):
        self.agent.params["smtp_sasl_security_options"] = "noplaintext, noanonymous"
        self.passwords("one@one.test user1:pw1\n")
        res, log = self.agent.deliver(self.next1, ["a@dest.test"], sender="one@one.test")
        r = res["a@dest.test"]
        self.assertEqual(r["dsn_action"], "x", log)
        self.assertIn("no mechanism available", r["reason"])


class SaslClientOptions(unittest.TestCase):
    """smtp_sasl_mechanism_filter, smtp_sasl_security_options,
    smtp_sasl_tls_security_options and smtp_sasl_auth_soft_bounce.
    The reasons and warnings are those of Debian's Postfix 3.7.11 smtp
    client against the same aiosmtpd server (AUTH LOGIN PLAIN)."""

    def setUp(self):
        self.addr = peers.loopback_addr()
        self.port = free_port(self.addr)
        self.relay = peers.Capture(self.addr, self.port, name="relay", users={"u": "p"})
        self.addCleanup(self.relay.stop)
        self.nexthop = "[%s]:%d" % (self.addr, self.port)
        self.agent = peers.Agent({"smtp_sasl_auth_enable": "yes"})
        self.addCleanup(self.agent.cleanup)

    def configure(self, password="p", **params):
        self.agent.params.update(params)
        self.agent.params["smtp_sasl_password_maps"] = "texthash:" + self.agent.write(
            "pw", "%s u:%s\n" % (self.nexthop, password))
        self.agent.write_main()

    def deliver(self):
        res, log = self.agent.deliver(self.nexthop, ["r@dest.test"])
        return res["r@dest.test"], log

    def test_default_options_refuse_plaintext(self):
        self.configure()
        r, log = self.deliver()
        # Postfix 3.7 (Cyrus client): "warning: SASL authentication failure: No
        # worthy mechs found", then dsn=4.7.0 "SASL authentication failed; cannot
        # authenticate to server 127.0.0.1[127.0.0.1]: no mechanism available"
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.0"), log)
        self.assertEqual(r["reason"], "SASL authentication failed; cannot authenticate to "
                         "server %s[%s]: no mechanism available" % (self.addr, self.addr))
        self.assertIn("warning: SASL authentication failure: No worthy mechs found", log)
        self.assertEqual(self.relay.messages, [])

    def test_filter_chooses_and_can_leave_nothing(self):
        self.configure(smtp_sasl_security_options="noanonymous",
                       smtp_sasl_mechanism_filter="!plain, static:all")
        r, log = self.deliver()
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertEqual(self.relay.messages[0]["auth"], "u")
        self.configure(smtp_sasl_security_options="noanonymous",
                       smtp_sasl_mechanism_filter="cram-md5")
        r, log = self.deliver()
        # Postfix 3.7: "warning: 127.0.0.1[127.0.0.1]:PORT offered no supported
        # AUTH mechanisms: 'LOGIN PLAIN'", dsn=4.7.0 "SASL authentication failed:
        # server 127.0.0.1[127.0.0.1] offered no compatible authentication
        # mechanisms for this type of connection security"
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.0"), log)
        self.assertEqual(r["reason"], "SASL authentication failed: server %s[%s] offered no "
                         "compatible authentication mechanisms for this type of connection "
                         "security" % (self.addr, self.addr))
        self.assertRegex(log, r"warning: %s\[%s\]:%d offered no supported AUTH mechanisms: "
                         r"'(LOGIN PLAIN|PLAIN LOGIN)'" % (self.addr, self.addr, self.port))
        self.assertEqual(len(self.relay.messages), 1)

    def test_tls_options_apply_on_tls_sessions(self):
        tmp = tempfile.mkdtemp(prefix="smtp-sasl-tls-")
        self.addCleanup(shutil.rmtree, tmp, True)
        port = free_port(self.addr)
        relay = peers.Capture(self.addr, port, name="tls", tls=True, certdir=tmp,
                              users={"u": "p"})
        self.addCleanup(relay.stop)
        self.nexthop = "[%s]:%d" % (self.addr, port)
        # Plain text is refused in the clear and allowed inside TLS.
        self.configure(smtp_tls_security_level="encrypt",
                       smtp_sasl_security_options="noplaintext, noanonymous",
                       smtp_sasl_tls_security_options="noanonymous")
        r, log = self.deliver()
        self.assertEqual(r["dsn_action"], "d", log)
        self.assertEqual(relay.messages[0]["auth"], "u")
        self.assertTrue(relay.messages[0]["tls"])

    def test_auth_soft_bounce(self):
        self.configure(password="wrong", smtp_sasl_security_options="noanonymous")
        r, log = self.deliver()
        # Postfix 3.7, smtp_sasl_auth_soft_bounce = yes (default): dsn=4.7.8,
        # status=deferred (SASL authentication failed; server 127.0.0.1[127.0.0.1]
        # said: 535 5.7.8 Authentication credentials invalid)
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.7.8"), log)
        self.assertEqual(r["reason"], "SASL authentication failed; server %s[%s] said: "
                         "535 5.7.8 Authentication credentials invalid"
                         % (self.addr, self.addr))
        self.configure(password="wrong", smtp_sasl_security_options="noanonymous",
                       smtp_sasl_auth_soft_bounce="no")
        r, log = self.deliver()
        # ... and with "no": dsn=5.7.8, status=bounced
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("f", "5.7.8"), log)
        self.assertEqual(self.relay.messages, [])


class SaslClientCramMd5(unittest.TestCase):
    """The default options (noplaintext, noanonymous) with a server that
    offers CRAM-MD5: our smtpd with Cyrus SASL and a sasldb, as Postfix's
    client would use it."""

    def test_cram_md5_with_default_options(self):
        from mta import MTA
        from sasl_util import cyrus_conf, make_sasldb
        tmp = tempfile.mkdtemp(prefix="smtp-cram-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o755)
        make_sasldb(os.path.join(tmp, "sasldb2"), {"carol": "secret"})
        cyrus_conf(tmp, "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                        "sasldb_path: %s/sasldb2\nmech_list: PLAIN LOGIN CRAM-MD5\n" % tmp)
        server = MTA(main_cf={"smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "cyrus",
                              "cyrus_sasl_config_path": tmp, "relay_domains": "dest.test",
                              # The mail stays queued (a recipient routed to
                              # retry: would be refused at RCPT, as in Postfix).
                              "defer_transports": "relay"})
        self.addCleanup(server.cleanup)
        agent = peers.Agent({"smtp_sasl_auth_enable": "yes"})
        self.addCleanup(agent.cleanup)
        nexthop = "[127.0.0.1]:%d" % server.smtp_port
        agent.params["smtp_sasl_password_maps"] = "texthash:" + agent.write(
            "pw", "%s carol:secret\n" % nexthop)
        agent.write_main()
        res, log = agent.deliver(nexthop, ["r@dest.test"])
        self.assertEqual(res["r@dest.test"]["dsn_action"], "d", log)
        server.wait_log(r"client=localhost\[127\.0\.0\.1\], sasl_method=CRAM-MD5, "
                        r"sasl_username=carol\n")


if __name__ == "__main__":
    unittest.main()
