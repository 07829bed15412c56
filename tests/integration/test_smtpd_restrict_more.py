"""test_smtpd_restrict_more.py - check_etrn_access, check_sasl_access,
reject_plaintext_session, sleep, the old restriction names that Postfix
3.7 still takes, and the warnings about restrictions that can never run.

Each expected reply and log line is what Debian's Postfix 3.7.11 gave for
the same main.cf, tables and SMTP dialogue (a throw-away Postfix with its
own config and queue folders and maillog_file, run side by side).
"""
import os
import shutil
import smtplib
import tempfile
import time
import unittest

from mta import MTA
from sasl_util import DovecotAuth, b64
from smtpd_util import Client, smtpd_mta
from test_smtpd_tls import client_context, make_cert

OK = "250 2.1.5 Ok"


class RestrictTest(unittest.TestCase):
    def mta(self, files=None, **main_cf):
        main_cf.setdefault("smtpd_error_sleep_time", "0")
        main_cf.setdefault("relay_domains", "example.com")
        main_cf.setdefault("smtpd_authorized_xclient_hosts", "127.0.0.0/8")
        m = smtpd_mta(files=files, **main_cf)
        self.addCleanup(m.cleanup)
        return m

    def session(self, m, helo="HELO c", xclient=None, source="127.0.0.1"):
        c = Client(m.smtp_port, source=source)
        self.addCleanup(c.close)
        if xclient:
            c.cmd("EHLO c")
            self.assertEqual(c.cmd("XCLIENT " + xclient), "220 mx.test.invalid ESMTP Postfix")
        c.cmd(helo)
        return c

    def rcpt(self, m, rcpt="x@example.com", **kw):
        c = self.session(m, **kw)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        return c.cmd("RCPT TO:<%s>" % rcpt)


class Etrn(unittest.TestCase):
    def test_etrn_access(self):
        m = MTA(main_cf={"relay_domains": "example.com, ok.test, bad.test, dn.test",
                         "mynetworks": "127.0.0.1/32"}, start=False)
        self.addCleanup(m.cleanup)
        m.write("etrn", "example.com REJECT no etrn for you\nok.test OK\n"
                        "bad.test 551 5.7.9 nope\ndn.test DUNNO\ndip.test DEFER_IF_PERMIT later\n")
        m.set_main(smtpd_etrn_restrictions="check_etrn_access texthash:%s, permit_mynetworks, "
                                           "reject" % m.path("etrn"))
        m.start()
        c = Client(m.smtp_port, source="127.0.0.1")
        self.addCleanup(c.close)
        c.cmd("EHLO c.test")
        for cmd, reply in (
                # The domain, then its parent domains.
                ("ETRN example.com", "554 5.7.1 <example.com>: Etrn command rejected: no etrn for you"),
                ("ETRN sub.example.com",
                 "554 5.7.1 <sub.example.com>: Etrn command rejected: no etrn for you"),
                ("ETRN @example.com", "554 5.7.1 <example.com>: Etrn command rejected: no etrn for you"),
                ("ETRN bad.test", "551 5.7.9 <bad.test>: Etrn command rejected: nope"),
                ("ETRN dip.test", "450 4.7.1 <dip.test>: Etrn command rejected: later"),
                ("ETRN ok.test", "250 Queuing started"),
                ("ETRN dn.test", "250 Queuing started"),
                # Permitted, but not a fast flush domain.
                ("ETRN other.test", "459 <other.test>: service unavailable")):
            self.assertEqual(c.cmd(cmd), reply, cmd)
        m.wait_log(r"NOQUEUE: reject: ETRN from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                   r"<example\.com>: Etrn command rejected: no etrn for you; proto=ESMTP "
                   r"helo=<c\.test>")
        # DUNNO goes on to the next restriction.
        c2 = Client(m.smtp_port, source="127.0.0.2")
        self.addCleanup(c2.close)
        c2.cmd("EHLO c.test")
        self.assertEqual(c2.cmd("ETRN dn.test"), "554 5.7.1 <dn.test>: Etrn command rejected: "
                                                 "Access denied")
        self.assertEqual(c2.cmd("ETRN ok.test"), "250 Queuing started")

    def test_only_at_etrn(self):
        # Elsewhere check_etrn_access has nothing to look up.
        m = smtpd_mta(relay_domains="example.com", mynetworks="127.0.0.1/32",
                      smtpd_recipient_restrictions="check_etrn_access texthash:@CONFIG@/etrn, "
                                                   "permit_mynetworks, reject_unauth_destination",
                      files={"etrn": "example.com REJECT no etrn for you\n"})
        self.addCleanup(m.cleanup)
        c = Client(m.smtp_port, source="127.0.0.1")
        self.addCleanup(c.close)
        c.cmd("EHLO c.test")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), OK)


class SaslAccess(RestrictTest):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="smtpd-sasl-access-")
        os.chmod(cls.tmp, 0o755)
        cls.dovecot = DovecotAuth(cls.tmp, {"bob": "pw", "alice": "pw", "okuser": "pw",
                                            "carol@realm.test": "pw"})

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def sasl_mta(self, **kw):
        return self.mta(smtpd_sasl_auth_enable="yes", smtpd_sasl_type="dovecot",
                        mynetworks="192.0.2.0/24",
                        smtpd_sasl_path=self.dovecot.socket,
                        smtpd_recipient_restrictions="check_sasl_access texthash:@CONFIG@/sasl, "
                                                     "permit_mynetworks, reject_unauth_destination",
                        files={"sasl": "bob REJECT bad bob\nalice@realm.test REJECT realm alice\n"
                                       "okuser OK\ncarol@realm.test 550 5.7.2 carol\n"}, **kw)

    def login_rcpt(self, m, user, rcpt="x@example.com"):
        c = self.session(m, helo="EHLO c.test")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0%s\0pw" % user)),
                         "235 2.7.0 Authentication successful")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        return c.cmd("RCPT TO:<%s>" % rcpt)

    def test_login_names(self):
        # The login name is the key as it is: Postfix 3.7 does not add
        # smtpd_sasl_local_domain ("alice" is not "alice@realm.test").
        m = self.sasl_mta(smtpd_sasl_local_domain="realm.test")
        self.assertEqual(self.login_rcpt(m, "bob"),
                         "554 5.7.1 <bob>: SASL login name rejected: bad bob")
        self.assertEqual(self.login_rcpt(m, "carol@realm.test"),
                         "550 5.7.2 <carol@realm.test>: SASL login name rejected: carol")
        self.assertEqual(self.login_rcpt(m, "alice"), OK)
        # OK permits (the client is not in mynetworks here).
        self.assertEqual(self.login_rcpt(m, "okuser", rcpt="x@example.net"), OK)
        m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 <bob>: "
                   r"SASL login name rejected: bad bob; from=<a@b\.test> to=<x@example\.com> "
                   r"proto=ESMTP helo=<c\.test>")
        # XCLIENT LOGIN= is a login too; no login, no lookup.
        self.assertEqual(self.rcpt(m, xclient="LOGIN=bob", helo="EHLO c.test"),
                         "554 5.7.1 <bob>: SASL login name rejected: bad bob")
        self.assertEqual(self.rcpt(m, helo="EHLO c.test"), OK)

    def test_without_sasl(self):
        m = self.mta(smtpd_recipient_restrictions="check_sasl_access texthash:@CONFIG@/sasl, "
                                                   "permit_mynetworks, reject_unauth_destination",
                     files={"sasl": "bob REJECT bad bob\n"})
        self.assertEqual(self.rcpt(m, xclient="LOGIN=bob", helo="EHLO c.test"), OK)
        m.wait_log(r"warning: restriction `check_sasl_access' ignored: no SASL support")


class Plaintext(RestrictTest):
    def test_plaintext_session(self):
        tmp = tempfile.mkdtemp(prefix="smtpd-plaintext-")
        self.addCleanup(shutil.rmtree, tmp, True)
        cert, key = make_cert(tmp)
        m = self.mta(smtpd_tls_security_level="may", smtpd_tls_cert_file=cert,
                     smtpd_tls_key_file=key,
                     smtpd_sender_restrictions="reject_plaintext_session")
        self.assertEqual(self.rcpt(m, helo="EHLO c.test"), "450 4.7.1 Session encryption is required")
        m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 450 4\.7\.1 Session "
                   r"encryption is required; from=<a@b\.test> to=<x@example\.com> proto=ESMTP "
                   r"helo=<c\.test>")
        s = smtplib.SMTP("127.0.0.1", m.smtp_port)
        self.addCleanup(s.close)
        s.ehlo("c.test")
        s.starttls(context=client_context())
        s.ehlo("c.test")
        s.mail("a@b.test")
        self.assertEqual(s.rcpt("x@example.com"), (250, b"2.1.5 Ok"))
        s.quit()

    def test_reject_code(self):
        m = self.mta(plaintext_reject_code="554",
                     smtpd_sender_restrictions="reject_plaintext_session")
        self.assertEqual(self.rcpt(m), "554 5.7.1 Session encryption is required")


class Sleep(RestrictTest):
    def test_sleep(self):
        m = self.mta(smtpd_client_restrictions="sleep 1, permit")
        c = self.session(m)
        c.cmd("MAIL FROM:<a@b.test>")
        start = time.time()
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), OK)
        self.assertGreaterEqual(time.time() - start, 0.95)

    def test_sleep_needs_a_number(self):
        for spec in ("sleep", "sleep 1s, permit", "sleep, reject", "warn_if_reject, sleep x, reject"):
            m = self.mta(smtpd_sender_restrictions=spec)
            self.assertEqual(self.rcpt(m), "451 4.3.5 Server configuration error", spec)
            m.wait_log(r"warning: restriction sleep must be followed by number\n.*"
                       r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 451 4\.3\.5 "
                       r"Server configuration error;")
            m.cleanup()


class OldNames(RestrictTest):
    def test_helo_and_client_names(self):
        # The names of Postfix before 2.3: the same checks, no warning.
        for restriction, kw, reply in (
                ("reject_unknown_hostname", {"helo": "HELO 192.0.2.1"},
                 "450 4.7.1 <192.0.2.1>: Helo command rejected: Host not found"),
                ("reject_invalid_hostname", {"helo": "HELO bad_na!me"},
                 "501 5.5.2 <bad_na!me>: Helo command rejected: Invalid name"),
                ("reject_invalid_hostname", {"helo": "HELO 192.0.2.1"}, OK),
                ("reject_non_fqdn_hostname", {"helo": "HELO nodots"},
                 "504 5.5.2 <nodots>: Helo command rejected: need fully-qualified hostname"),
                ("reject_unknown_client", {"xclient": "NAME=[UNAVAILABLE] ADDR=192.0.2.97"},
                 "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.97]")):
            m = self.mta(smtpd_helo_restrictions=restriction)
            self.assertEqual(self.rcpt(m, **kw), reply, restriction)
            self.assertNotIn("warning", m.log())
            m.cleanup()

    def test_check_relay_domains(self):
        m = self.mta(smtpd_relay_restrictions="", mynetworks="127.0.0.1/32",
                     smtpd_recipient_restrictions="check_relay_domains, reject")
        c = self.session(m)
        c.cmd("MAIL FROM:<a@b.test>")
        for rcpt, reply in (
                ("x@example.com", OK), ("x@sub.example.com", OK),
                ("x@example.net", "554 5.7.1 <x@example.net>: Recipient address rejected: "
                                  "Relay access denied"),
                ("x%y@example.com", "554 5.7.1 <x%y@example.com>: Recipient address rejected: "
                                    "Relay access denied")):
            self.assertEqual(c.cmd("RCPT TO:<%s>" % rcpt), reply, rcpt)
        # Once per process; what follows it is never run, each time.
        m.wait_log(r"warning: support for restriction \"check_relay_domains\" will be removed "
                   r"from Postfix; use \"reject_unauth_destination\" instead")
        m.wait_log(r"warning: restriction `reject' after `check_relay_domains' is ignored",
                   count=4)
        self.assertEqual(m.log().count("check_relay_domains\" will be removed"), 1)
        # A client whose name is in relay_domains may relay.
        self.assertEqual(self.rcpt(m, rcpt="x@example.net",
                                   xclient="NAME=sub.example.com ADDR=192.0.2.98"), OK)
        self.assertEqual(self.rcpt(m, rcpt="x@example.net",
                                   xclient="NAME=[UNAVAILABLE] ADDR=192.0.2.98"),
                         "554 5.7.1 <x@example.net>: Recipient address rejected: "
                         "Relay access denied")
        m.cleanup()
        m = self.mta(smtpd_relay_restrictions="", relay_domains_reject_code="553",
                     smtpd_recipient_restrictions="check_relay_domains")
        self.assertEqual(self.rcpt(m, rcpt="x@example.net", xclient="ADDR=192.0.2.98"),
                         "553 5.7.1 <x@example.net>: Recipient address rejected: "
                         "Relay access denied")

    def test_permit_naked_ip_address(self):
        m = self.mta(smtpd_helo_restrictions="permit_naked_ip_address, reject")
        for helo, reply in (
                ("1.2.3.4", OK),
                ("1.2", "501 5.5.2 <1.2>: Helo command rejected: invalid ip address"),
                ("::1", "501 5.5.2 <::1>: Helo command rejected: invalid ip address"),
                ("1.2.3.4x", "554 5.7.1 <1.2.3.4x>: Helo command rejected: Access denied"),
                ("[1.2.3.4]", "554 5.7.1 <[1.2.3.4]>: Helo command rejected: Access denied")):
            self.assertEqual(self.rcpt(m, helo="HELO " + helo), reply, helo)
        # Each time it is used.
        m.wait_log(r"warning: restriction permit_naked_ip_address is deprecated\. Use "
                   r"permit_mynetworks or permit_sasl_authenticated instead", count=5)


class Verdicts(RestrictTest):
    def test_defer(self):
        m = self.mta(smtpd_client_restrictions="defer, permit")
        self.assertEqual(self.rcpt(m), "450 4.3.2 <localhost[127.0.0.1]>: Client host rejected: "
                                       "Try again later")
        m.wait_log(r"warning: restriction `permit' after `defer' is ignored")
        m.cleanup()
        m = self.mta(defer_code="451", smtpd_helo_restrictions="defer")
        self.assertEqual(self.rcpt(m, helo="HELO x.test"),
                         "451 4.3.2 <x.test>: Helo command rejected: Try again later")

    def test_restrictions_after_a_verdict(self):
        m = self.mta(smtpd_client_restrictions="permit, reject_rbl_client bl.test")
        self.assertEqual(self.rcpt(m), OK)
        m.wait_log(r"warning: restriction `reject_rbl_client' after `permit' is ignored")
        m.cleanup()
        m = self.mta(smtpd_client_restrictions="reject, permit")
        self.assertEqual(self.rcpt(m), "554 5.7.1 <localhost[127.0.0.1]>: Client host "
                                       "rejected: Access denied")
        m.wait_log(r"warning: restriction `permit' after `reject' is ignored")
        m.cleanup()
        # Under warn_if_reject the list goes on: no warning.
        m = self.mta(smtpd_client_restrictions="warn_if_reject, reject, permit")
        self.assertEqual(self.rcpt(m), OK)
        m.wait_log(r"NOQUEUE: reject_warning: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                   r"<localhost\[127\.0\.0\.1\]>: Client host rejected: Access denied;")
        self.assertNotIn("is ignored", m.log())

    def test_nothing_after_permit_protects_relaying(self):
        # Postfix 3.7 refuses to run an open relay that looks closed:
        # "warning: restriction `reject_unauth_destination' after `permit' is
        # ignored" and the fatal "specify at least one working instance".
        m = smtpd_mta(smtpd_relay_restrictions="permit_mynetworks, permit, "
                                               "reject_unauth_destination")
        self.addCleanup(m.cleanup)
        try:
            Client(m.smtp_port).close()
        except (EOFError, OSError):
            pass
        m.wait_log(r"postfix/smtpd\[\d+\]: warning: restriction `reject_unauth_destination' "
                   r"after `permit' is ignored\n.*postfix/smtpd\[\d+\]: fatal: in parameter "
                   r"smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at "
                   r"least one working instance of: reject_unauth_destination, "
                   r"defer_unauth_destination, reject, defer, defer_if_permit or "
                   r"check_relay_domains")

if __name__ == "__main__":
    unittest.main()
