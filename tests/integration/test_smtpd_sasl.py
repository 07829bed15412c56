"""test_smtpd_sasl - smtpd AUTH against real authentication servers.

Dovecot's auth service (a passwd-file) for smtpd_sasl_type = dovecot;
Cyrus SASL with a sasldb (auxprop) and with saslauthd for
smtpd_sasl_type = cyrus. CoreScenarios run against each of the three:
PLAIN and LOGIN over STARTTLS relaying to an outside domain, a wrong
password, smtpd_tls_auth_only, reject_sender_login_mismatch. The replies and log lines were checked against
Debian's Postfix 3.7.11 with the same Dovecot 2.3.19 and the same
Cyrus SASL 2.1.28 configurations (smtpd_sasl_path pointing at the same
socket, the same smtpd.conf); each test cites Postfix's text.
"""
import os
import re
import shutil
import smtplib
import socket
import ssl
import sys
import tempfile
import time
import unittest

from mta import MTA, free_port, wait_for
from smtpd_util import Client
from milter_server import Milter
from sasl_util import (DovecotAuth, Saslauthd, b64, cyrus_conf, make_cert, make_sasldb)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_smtp import Capture  # noqa: E402

USERS = {"alice@example.org": "secret", "bob": "pw2"}


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class TlsClient(Client):
    """Client with STARTTLS."""

    def starttls(self):
        r = self.cmd("STARTTLS")
        assert r.startswith("220"), r
        self.sock = tls_context().wrap_socket(self.sock)
        self.buf = b""
        return r


class SaslBase(unittest.TestCase):
    """A folder with a certificate; an MTA per test (own log and queue)
    that relays outside.test to a capture server."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="smtpd-sasl-")
        os.chmod(cls.tmp, 0o755)
        cls.cert, cls.key = make_cert(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def mta(self, **main_cf):
        self.outside = Capture("127.0.0.1", free_port(), name="outside")
        self.addCleanup(self.outside.stop)
        params = {
            # The test client (127.0.0.1) is not in mynetworks: it may relay
            # only after AUTH (smtpd_relay_restrictions, compatibility 3.7).
            "mynetworks": "192.0.2.0/24",
            "smtpd_tls_security_level": "may",
            "smtpd_tls_cert_file": self.cert,
            "smtpd_tls_key_file": self.key,
            "smtpd_sasl_auth_enable": "yes",
            "transport_maps": "inline:{outside.test=smtp:[127.0.0.1]:%d}"
            % self.outside.controller.port,
        }
        params.update(main_cf)
        m = MTA(main_cf=params)
        self.addCleanup(m.cleanup)
        return m

    def arrived(self, subject):
        return [x for x in self.outside.messages
                if ("Subject: %s\r\n" % subject).encode() in x["data"]]


class CoreScenarios:
    """The same scenarios against each authentication server. A subclass
    sets: mta(**main_cf) for its server; user/password (who owns
    alice@example.org in smtpd_sender_login_maps); fail_reason, the text
    of its failures (Postfix 3.7: Dovecot "(reason unavailable)", Cyrus
    "authentication failure"); fail_user, the sasl_username it reports
    after a failure."""

    user = password = fail_reason = fail_user = None

    def core_mta(self, **main_cf):
        logins = os.path.join(self.tmp, "core-logins-%s" % type(self).__name__)
        with open(logins, "w") as f:
            f.write("alice@example.org %s\nother@example.org somebody-else\n" % self.user)
        main_cf.setdefault("smtpd_sender_login_maps", "texthash:" + logins)
        return self.backend_mta(**main_cf)

    def test_core_plain_and_login_over_starttls_relay_outside(self):
        m = self.core_mta(smtpd_tls_auth_only="yes", smtpd_sasl_authenticated_header="yes")
        for mech in ("PLAIN", "LOGIN"):
            subject = "%s via %s" % (type(self).__name__, mech)
            with smtplib.SMTP("127.0.0.1", m.smtp_port, timeout=30) as s:
                s.ehlo("client.test")
                s.starttls(context=tls_context())
                s.ehlo("client.test")
                self.assertIn("PLAIN", s.esmtp_features["auth"].split())
                self.assertIn("LOGIN", s.esmtp_features["auth"].split())
                s.user, s.password = self.user, self.password
                code, text = s.auth(mech, getattr(s, "auth_" + mech.lower()))
                # Postfix 3.7: "235 2.7.0 Authentication successful"
                self.assertEqual((code, text), (235, b"2.7.0 Authentication successful"))
                s.sendmail("alice@example.org", ["r@outside.test"],
                           "Subject: %s\r\n\r\nbody\r\n" % subject)
            wait_for(lambda: self.arrived(subject), 30, what="relayed mail")
            data = self.arrived(subject)[0]["data"].decode()
            # Postfix 3.7 with smtpd_sasl_authenticated_header = yes:
            #   Received: from client.test (localhost [127.0.0.1])
            #   \t(Authenticated sender: alice@example.org)
            #   \tby mx.test.invalid (Postfix) with ESMTPSA id QID
            self.assertRegex(data, r"Received: from client\.test \(localhost \[127\.0\.0\.1\]\)\r\n"
                             r"\t\(Authenticated sender: %s\)\r\n"
                             r"\tby mx\.test\.invalid \(Postfix\) with ESMTPSA id [0-9A-F]+\r\n"
                             % re.escape(self.user))
            # Postfix 3.7: "QID: client=localhost[127.0.0.1], sasl_method=PLAIN,
            # sasl_username=alice@example.org"
            m.wait_log(r": client=localhost\[127\.0\.0\.1\], sasl_method=%s, "
                       r"sasl_username=%s\n" % (mech, re.escape(self.user)))
        m.wait_log(r"to=<r@outside\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent",
                   count=2)

    def test_core_wrong_password(self):
        m = self.core_mta()
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        # Postfix 3.7: "535 5.7.8 Error: authentication failed: REASON" and
        # "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed:
        # REASON, sasl_username=NAME"
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0%s\0wrong" % self.user)),
                         "535 5.7.8 Error: authentication failed: %s" % self.fail_reason)
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 " + b64("Username:"))
        self.assertEqual(c.cmd(b64(self.user)), "334 " + b64("Password:"))
        self.assertEqual(c.cmd(b64("wrong")),
                         "535 5.7.8 Error: authentication failed: %s" % self.fail_reason)
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"),
                         "454 4.7.1 <r@outside.test>: Relay access denied")
        c.cmd("QUIT")
        c.close()
        for mech in ("PLAIN", "LOGIN"):
            m.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL %s authentication failed: "
                       r"%s, sasl_username=%s\n" % (mech, re.escape(self.fail_reason),
                                                     re.escape(self.fail_user)))
        # Postfix 3.7 counts AUTH commands as it does the others.
        m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 auth=0/2 mail=1 rcpt=0/1 "
                   r"quit=1 commands=3/6")

    def test_core_tls_auth_only(self):
        m = self.core_mta(smtpd_tls_auth_only="yes")
        c = TlsClient(m.smtp_port)
        ehlo = c.cmd("EHLO client.test")
        self.assertNotIn("AUTH", ehlo)
        self.assertIn("250-STARTTLS", ehlo)
        # Postfix 3.7: "503 5.5.1 Error: authentication not enabled"
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (self.user, self.password))),
                         "503 5.5.1 Error: authentication not enabled")
        c.starttls()
        ehlo = c.cmd("EHLO client.test")
        self.assertRegex(ehlo, r"250-AUTH .*PLAIN")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (self.user, self.password))),
                         "235 2.7.0 Authentication successful")
        c.close()

    def test_core_sender_login_mismatch(self):
        m = self.core_mta(smtpd_sender_restrictions="reject_sender_login_mismatch")
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (self.user, self.password))),
                         "235 2.7.0 Authentication successful")
        c.cmd("MAIL FROM:<alice@example.org>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"), "250 2.1.5 Ok")
        c.cmd("RSET")
        c.cmd("MAIL FROM:<other@example.org>")
        # Postfix 3.7: "553 5.7.1 <other@example.org>: Sender address rejected:
        # not owned by user NAME"
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"),
                         "553 5.7.1 <other@example.org>: Sender address rejected: "
                         "not owned by user %s" % self.user)
        c.close()
        m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 553 5\.7\.1 "
                   r"<other@example\.org>: Sender address rejected: not owned by user %s; "
                   r"from=<other@example\.org> to=<r@outside\.test> proto=ESMTP "
                   r"helo=<client\.test>" % re.escape(self.user))


class DovecotSasl(SaslBase, CoreScenarios):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dovecot = DovecotAuth(cls.tmp, USERS)

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        super().tearDownClass()

    user, password = "alice@example.org", "secret"
    fail_reason, fail_user = "(reason unavailable)", "alice@example.org"

    def dovecot_mta(self, **main_cf):
        return self.mta(smtpd_sasl_type="dovecot", smtpd_sasl_path=self.dovecot.socket,
                        **main_cf)

    backend_mta = dovecot_mta

    def test_unauthenticated_client_may_not_relay(self):
        m = self.dovecot_mta()
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        # Postfix 3.7 (defer_unauth_destination): "454 4.7.1 <x>: Relay access denied"
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"),
                         "454 4.7.1 <r@outside.test>: Relay access denied")
        c.close()

    def test_ehlo_order_and_broken_clients_and_exceptions(self):
        m = self.dovecot_mta(broken_sasl_auth_clients="yes")
        c = Client(m.smtp_port)
        lines = c.cmd("EHLO client.test").split("\n")
        # Postfix 3.7 without TLS: ... ETRN, STARTTLS, AUTH PLAIN LOGIN,
        # AUTH=PLAIN LOGIN, ENHANCEDSTATUSCODES ...
        i = lines.index("250-STARTTLS")
        self.assertEqual(lines[i + 1:i + 4], ["250-AUTH PLAIN LOGIN", "250-AUTH=PLAIN LOGIN",
                                              "250-ENHANCEDSTATUSCODES"])
        c.close()
        m2 = self.dovecot_mta(smtpd_sasl_exceptions_networks="127.0.0.0/8",
                              smtpd_discard_ehlo_keywords="")
        c = Client(m2.smtp_port)
        self.assertNotIn("AUTH", c.cmd("EHLO client.test"))
        # As Postfix: the exception only hides AUTH from EHLO.
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0bob\0pw2")),
                         "235 2.7.0 Authentication successful")
        c.close()

    def test_milter_sees_the_login(self):
        ml = Milter()
        self.addCleanup(ml.stop)
        m = self.dovecot_mta(smtpd_milters=ml.spec)
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0bob\0pw2")),
                         "235 2.7.0 Authentication successful")
        self.assertTrue(c.cmd("MAIL FROM:<bob@example.org> AUTH=<bob@example.org>")
                        .startswith("250"))
        c.close()
        # Postfix 3.7's milter_mail_macros: {auth_type} {auth_authen} {auth_author}
        # (the AUTH= value as sent, as in the sasl_sender= log field).
        mac = wait_for(lambda: ml.find("mail") and ml.find("mail")[-1]["macros"])
        self.assertEqual((mac["{auth_type}"], mac["{auth_authen}"], mac["{auth_author}"]),
                         ("PLAIN", "bob", "<bob@example.org>"))

    def test_auth_rate_limit(self):
        m = self.dovecot_mta(smtpd_client_auth_rate_limit="2",
                             smtpd_client_event_limit_exceptions="")
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        # Every AUTH command counts, a failed or malformed one too.
        self.assertEqual(c.cmd("AUTH"), "501 5.5.4 Syntax: AUTH mechanism")
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0bob\0wrong")).startswith("535 "))
        # Postfix 3.7: "450 4.7.1 Error: too many AUTH commands from 127.0.0.1"
        # and "warning: AUTH command rate limit exceeded: 3 from
        # localhost[127.0.0.1] for service smtp" (the master.cf service
        # name, here 127.0.0.1:port).
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0bob\0pw2")),
                         "450 4.7.1 Error: too many AUTH commands from 127.0.0.1")
        c.close()
        m.wait_log(r"warning: AUTH command rate limit exceeded: 3 from "
                   r"localhost\[127\.0\.0\.1\] for service 127\.0\.0\.1:%d\b" % m.smtp_port)

    def test_command_errors(self):
        m = self.dovecot_mta(smtpd_sasl_response_limit="100", smtpd_helo_required="yes")
        c = Client(m.smtp_port)
        # Postfix 3.7, smtpd_helo_required = yes: "503 5.5.1 Error: send HELO/EHLO first"
        self.assertEqual(c.cmd("AUTH LOGIN"), "503 5.5.1 Error: send HELO/EHLO first")
        c.cmd("EHLO client.test")
        # Postfix 3.7: "501 5.5.4 Syntax: AUTH mechanism" (no or three arguments)
        self.assertEqual(c.cmd("AUTH"), "501 5.5.4 Syntax: AUTH mechanism")
        self.assertEqual(c.cmd("AUTH PLAIN a b"), "501 5.5.4 Syntax: AUTH mechanism")
        # Postfix 3.7 with Dovecot: "535 5.7.8 Error: authentication failed:
        # Invalid authentication mechanism"
        self.assertEqual(c.cmd("AUTH FOO"),
                         "535 5.7.8 Error: authentication failed: Invalid authentication mechanism")
        # "... Invalid base64 data in initial response" / "... in continued response"
        self.assertEqual(c.cmd("AUTH PLAIN !!!"),
                         "535 5.7.8 Error: authentication failed: "
                         "Invalid base64 data in initial response")
        self.assertEqual(c.cmd("AUTH PLAIN"), "334 ")
        self.assertEqual(c.cmd("not base64"),
                         "535 5.7.8 Error: authentication failed: "
                         "Invalid base64 data in continued response")
        # "*" aborts: "501 5.7.0 Authentication aborted"
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 " + b64("Username:"))
        self.assertEqual(c.cmd("*"), "501 5.7.0 Authentication aborted")
        # A response over smtpd_sasl_response_limit: "500 5.5.6 SASL response
        # limit exceeded", then the session goes on.
        self.assertEqual(c.cmd("AUTH PLAIN"), "334 ")
        self.assertEqual(c.cmd("A" * 300), "500 5.5.6 SASL response limit exceeded")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        # AUTH LOGIN with "=" (an empty initial response) asks for the name.
        self.assertEqual(c.cmd("AUTH LOGIN ="), "334 " + b64("Username:"))
        self.assertEqual(c.cmd("*"), "501 5.7.0 Authentication aborted")
        c.cmd("MAIL FROM:<a@b.test>")
        # Postfix 3.7: "503 5.5.1 Error: MAIL transaction in progress"
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0bob\0pw2")),
                         "503 5.5.1 Error: MAIL transaction in progress")
        c.cmd("RSET")
        self.assertEqual(c.cmd("AUTH LOGIN " + b64("bob")), "334 " + b64("Password:"))
        self.assertEqual(c.cmd(b64("pw2")), "235 2.7.0 Authentication successful")
        # Postfix 3.7: "503 5.5.1 Error: already authenticated"
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0bob\0pw2")),
                         "503 5.5.1 Error: already authenticated")
        # AUTH= of MAIL FROM is logged after a login (Postfix logs it as sent).
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> AUTH=x+41y"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"), "250 2.1.5 Ok")
        c.cmd("QUIT")
        c.close()
        log = m.wait_log(r"disconnect from ")
        m.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL FOO authentication failed: "
                   r"Invalid authentication mechanism, sasl_username=\(unavailable\)")
        # Postfix 3.7: "warning: localhost[127.0.0.1]: SASL LOGIN authentication aborted"
        m.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL LOGIN authentication aborted")
        # Postfix 3.7: "warning: localhost[127.0.0.1]: request longer than 12288: AAAA...
        # (the first 30 bytes)"
        m.wait_log(r"warning: localhost\[127\.0\.0\.1\]: request longer than 100: A{30}\.\.\.\n")
        m.wait_log(r": client=localhost\[127\.0\.0\.1\], sasl_method=LOGIN, sasl_username=bob, "
                   r"sasl_sender=x\+41y\n")
        del log

    def test_auth_again_after_starttls(self):
        # Postfix 3.7 forgets the login at STARTTLS: the client authenticates again.
        m = self.dovecot_mta()
        c = TlsClient(m.smtp_port)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0bob\0pw2")),
                         "235 2.7.0 Authentication successful")
        c.starttls()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"),
                         "454 4.7.1 <r@outside.test>: Relay access denied")
        c.cmd("RSET")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0bob\0pw2")),
                         "235 2.7.0 Authentication successful")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"), "250 2.1.5 Ok")
        c.close()

    def test_failures_slow_down_then_disconnect(self):
        # AUTH failures are errors of the session, as in Postfix: past
        # smtpd_soft_error_limit each reply waits smtpd_error_sleep_time,
        # at smtpd_hard_error_limit the session ends.
        m = self.dovecot_mta(smtpd_soft_error_limit="1", smtpd_error_sleep_time="2s",
                             smtpd_hard_error_limit="3")
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        t0 = time.time()
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0bob\0x")).startswith("535 "))
        t1 = time.time()
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0bob\0y")).startswith("535 "))
        t2 = time.time()
        self.assertLess(t1 - t0, 1.5)
        self.assertGreaterEqual(t2 - t1, 2.0)
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0bob\0z")).startswith("535 "))
        # Postfix 3.7: "421 4.7.0 mx.test.invalid Error: too many errors"
        self.assertEqual(c.reply(), "421 4.7.0 mx.test.invalid Error: too many errors")
        self.assertTrue(c.closed())
        m.wait_log(r"too many errors after AUTH from localhost\[127\.0\.0\.1\]")

    def test_auth_server_unavailable(self):
        missing = os.path.join(self.tmp, "no-such-socket")
        m = self.mta(smtpd_sasl_type="dovecot", smtpd_sasl_path=missing)
        c = Client(m.smtp_port)
        ehlo = c.cmd("EHLO client.test")
        self.assertNotIn("AUTH", ehlo)
        # Postfix 3.7 logs the same warning, then exits ("fatal: no SASL
        # authentication mechanisms"); smtpd keeps serving without AUTH.
        m.wait_log(r"warning: SASL: Connect to Dovecot auth socket '%s' failed: "
                   r"No such file or directory\n" % missing)
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0bob\0pw2")),
                         "454 4.7.0 Temporary authentication failure: "
                         "authentication server unavailable")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"),
                         "454 4.7.1 <r@outside.test>: Relay access denied")
        c.close()

    def test_sender_login_maps(self):
        logins = os.path.join(self.tmp, "logins-%d" % os.getpid())
        with open(logins, "w") as f:
            f.write("alice@example.org alice@example.org\n"
                    "other@example.org bob\n"
                    "@shared.example alice@example.org, bob\n")
        m = self.dovecot_mta(smtpd_sender_login_maps="texthash:" + logins,
                             smtpd_sender_restrictions="reject_sender_login_mismatch")
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        c.cmd("AUTH PLAIN " + b64("\0alice@example.org\0secret"))
        for sender, reply in (
                ("alice@example.org", "250 2.1.5 Ok"),
                ("x@shared.example", "250 2.1.5 Ok"),
                ("", "250 2.1.5 Ok"),
                # Postfix 3.7: "553 5.7.1 <other@example.org>: Sender address
                # rejected: not owned by user alice@example.org"
                ("other@example.org", "553 5.7.1 <other@example.org>: Sender address "
                 "rejected: not owned by user alice@example.org"),
                ("x@nolist.test", "553 5.7.1 <x@nolist.test>: Sender address "
                 "rejected: not owned by user alice@example.org")):
            self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender), "250 2.1.0 Ok")
            self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"), reply, sender)
            c.cmd("RSET")
        c.close()
        m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 553 5\.7\.1 "
                   r"<other@example\.org>: Sender address rejected: not owned by user "
                   r"alice@example\.org; from=<other@example\.org> to=<r@outside\.test> "
                   r"proto=ESMTP helo=<client\.test>")
        # Not logged in, an address with owners: "553 5.7.1 <alice@example.org>:
        # Sender address rejected: not logged in" (Postfix 3.7)
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<alice@example.org>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"),
                         "553 5.7.1 <alice@example.org>: Sender address rejected: not logged in")
        c.cmd("RSET")
        c.cmd("MAIL FROM:<x@nolist.test>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"),
                         "454 4.7.1 <r@outside.test>: Relay access denied")
        c.close()

    def test_login_mismatch_variants_and_unlisted_sender(self):
        logins = os.path.join(self.tmp, "logins2-%d" % os.getpid())
        with open(logins, "w") as f:
            f.write("other@example.org bob\n")
        rcpts = os.path.join(self.tmp, "rcpts-%d" % os.getpid())
        with open(rcpts, "w") as f:
            f.write("ok@example.com x\nother@example.org x\n")
        m = self.dovecot_mta(
            smtpd_sender_login_maps="texthash:" + logins,
            relay_domains="example.com",
            relay_recipient_maps="texthash:" + rcpts,
            smtpd_sender_restrictions="reject_known_sender_login_mismatch, "
            "reject_unlisted_sender")
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        c.cmd("AUTH PLAIN " + b64("\0alice@example.org\0secret"))
        # Postfix 3.7: an address with no owner passes
        # reject_known_sender_login_mismatch; reject_unlisted_sender:
        # "550 5.1.0 <nouser@example.com>: Sender address rejected: User
        # unknown in relay recipient table"
        for sender, reply in (
                ("ok@example.com", "250 2.1.5 Ok"),
                ("other@example.org", "553 5.7.1 <other@example.org>: Sender address "
                 "rejected: not owned by user alice@example.org"),
                ("nouser@example.com", "550 5.1.0 <nouser@example.com>: Sender address "
                 "rejected: User unknown in relay recipient table")):
            c.cmd("MAIL FROM:<%s>" % sender)
            self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"), reply, sender)
            c.cmd("RSET")
        c.close()
        # smtpd_reject_unlisted_sender = yes: the same without the restriction,
        # even for a client that the restrictions permit.
        m2 = self.dovecot_mta(relay_domains="example.com",
                              relay_recipient_maps="texthash:" + rcpts,
                              smtpd_reject_unlisted_sender="yes",
                              smtpd_sender_restrictions="permit_sasl_authenticated")
        c = Client(m2.smtp_port)
        c.cmd("EHLO client.test")
        c.cmd("AUTH PLAIN " + b64("\0bob\0pw2"))
        c.cmd("MAIL FROM:<nouser@example.com>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"),
                         "550 5.1.0 <nouser@example.com>: Sender address rejected: "
                         "User unknown in relay recipient table")
        c.cmd("RSET")
        c.cmd("MAIL FROM:<ok@example.com>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"), "250 2.1.5 Ok")
        c.close()


class CyrusSasl(SaslBase):
    """smtpd_sasl_type = cyrus with smtpd.conf in cyrus_sasl_config_path."""

    def cyrus_mta(self, conf_text, **main_cf):
        folder = tempfile.mkdtemp(dir=self.tmp)
        os.chmod(folder, 0o755)
        cyrus_conf(folder, conf_text)
        return self.mta(smtpd_sasl_type="cyrus", smtpd_sasl_path="smtpd",
                        cyrus_sasl_config_path=folder, **main_cf)

    def sasldb(self, users, realm=None):
        path = os.path.join(tempfile.mkdtemp(dir=self.tmp), "sasldb2")
        os.chmod(os.path.dirname(path), 0o755)
        make_sasldb(path, users, realm)
        return path

    def test_sasldb_login_and_relay(self):
        db = self.sasldb({"carol": "secret"})
        m = self.cyrus_mta("pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                           "sasldb_path: %s\nmech_list: PLAIN LOGIN\n" % db)
        c = TlsClient(m.smtp_port)
        c.cmd("EHLO client.test")
        c.starttls()
        self.assertIn("250-AUTH PLAIN LOGIN", c.cmd("EHLO client.test"))
        # Postfix 3.7 with the same smtpd.conf: "535 5.7.8 Error: authentication
        # failed: authentication failure", and libsasl2's own warning
        # "SASL authentication failure: Password verification failed".
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0carol\0wrong")),
                         "535 5.7.8 Error: authentication failed: authentication failure")
        # "535 5.7.8 Error: authentication failed: no mechanism available"
        self.assertEqual(c.cmd("AUTH FOO"),
                         "535 5.7.8 Error: authentication failed: no mechanism available")
        # Cyrus's base64 decoder: "another step is needed in authentication"
        self.assertEqual(c.cmd("AUTH PLAIN !!!"),
                         "535 5.7.8 Error: authentication failed: "
                         "another step is needed in authentication")
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 " + b64("Username:"))
        self.assertEqual(c.cmd(b64("carol")), "334 " + b64("Password:"))
        self.assertEqual(c.cmd(b64("secret")), "235 2.7.0 Authentication successful")
        c.cmd("MAIL FROM:<carol@example.org>")
        c.cmd("RCPT TO:<r@outside.test>")
        c.cmd("DATA")
        self.assertTrue(c.cmd("Subject: cyrus sasldb\r\n\r\nbody\r\n.").startswith("250 "))
        c.cmd("QUIT")
        c.close()
        wait_for(lambda: self.arrived("cyrus sasldb"), 30, what="relayed mail")
        self.assertIn(b" with ESMTPSA id ", self.arrived("cyrus sasldb")[0]["data"])
        m.wait_log(r"warning: SASL authentication failure: Password verification failed\n")
        m.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication failed: "
                   r"authentication failure, sasl_username=carol\n")
        m.wait_log(r"warning: SASL authentication failure: Couldn't find mech FOO\n")
        m.wait_log(r": client=localhost\[127\.0\.0\.1\], sasl_method=LOGIN, sasl_username=carol\n")

    def test_sasldb_realm_from_local_domain(self):
        # Postfix 3.7: with smtpd_sasl_local_domain = example.org, Cyrus
        # appends the realm to a name without one (sasl_username=dave@example.org).
        db = self.sasldb({"dave": "pw"}, realm="example.org")
        m = self.cyrus_mta("pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                           "sasldb_path: %s\nmech_list: PLAIN LOGIN\n" % db,
                           smtpd_sasl_local_domain="example.org")
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0dave\0pw")),
                         "235 2.7.0 Authentication successful")
        c.cmd("MAIL FROM:<dave@example.org>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"), "250 2.1.5 Ok")
        c.close()
        m.wait_log(r"sasl_method=PLAIN, sasl_username=dave@example\.org\n")

    def test_saslauthd(self):
        sd = Saslauthd(self.tmp, {"erin": "pw3"})
        self.addCleanup(sd.stop)
        m = self.cyrus_mta("pwcheck_method: saslauthd\nsaslauthd_path: %s\n"
                           "mech_list: PLAIN LOGIN\n" % sd.mux)
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0erin\0bad")),
                         "535 5.7.8 Error: authentication failed: authentication failure")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0erin\0pw3")),
                         "235 2.7.0 Authentication successful")
        c.cmd("MAIL FROM:<erin@example.org>")
        self.assertEqual(c.cmd("RCPT TO:<r@outside.test>"), "250 2.1.5 Ok")
        c.close()
        m.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication failed: "
                   r"authentication failure, sasl_username=erin\n")
        m.wait_log(r"sasl_method=PLAIN, sasl_username=erin\n")
        wait_for(lambda: "auth success: [user=erin] [service=smtp]" in sd.log(), 10,
                 what="saslauthd's log")


class SasldbCore(SaslBase, CoreScenarios):
    """Cyrus SASL with a sasldb (auxprop)."""

    user, password = "carol", "secret"
    fail_reason, fail_user = "authentication failure", "carol"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conf_dir = os.path.join(cls.tmp, "cyrus")
        os.makedirs(cls.conf_dir)
        os.chmod(cls.conf_dir, 0o755)
        make_sasldb(os.path.join(cls.conf_dir, "sasldb2"), {cls.user: cls.password})
        cyrus_conf(cls.conf_dir, "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                   "sasldb_path: %s/sasldb2\nmech_list: PLAIN LOGIN\n" % cls.conf_dir)

    def backend_mta(self, **main_cf):
        return self.mta(smtpd_sasl_type="cyrus", smtpd_sasl_path="smtpd",
                        cyrus_sasl_config_path=self.conf_dir, **main_cf)


class SaslauthdCore(SaslBase, CoreScenarios):
    """Cyrus SASL with saslauthd (whose own mechanism is sasldb)."""

    user, password = "erin", "pw3"
    fail_reason, fail_user = "authentication failure", "erin"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.saslauthd = Saslauthd(cls.tmp, {cls.user: cls.password})
        cls.conf_dir = os.path.join(cls.tmp, "cyrus")
        os.makedirs(cls.conf_dir)
        os.chmod(cls.conf_dir, 0o755)
        cyrus_conf(cls.conf_dir, "pwcheck_method: saslauthd\nsaslauthd_path: %s\n"
                   "mech_list: PLAIN LOGIN\n" % cls.saslauthd.mux)

    @classmethod
    def tearDownClass(cls):
        cls.saslauthd.stop()
        super().tearDownClass()

    def backend_mta(self, **main_cf):
        return self.mta(smtpd_sasl_type="cyrus", smtpd_sasl_path="smtpd",
                        cyrus_sasl_config_path=self.conf_dir, **main_cf)


if __name__ == "__main__":
    unittest.main()
