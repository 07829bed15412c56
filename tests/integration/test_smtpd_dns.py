"""test_smtpd_dns.py - smtpd restrictions that ask the DNS: DNS lists
(reject_rbl_client, permit_dnswl_client, reject_rhsbl_*) and
reject_unknown_{sender,recipient}_domain, against a zone served by nsd.

The expected replies are the ones Debian's Postfix 3.7 gave for the same
zone and restrictions (checked side by side with a throwaway script that
pointed its resolver at the same nsd). A name outside the served zone
gets REFUSED, which both resolvers take as a temporary error.
"""
import unittest

from smtpd_util import Client, smtpd_mta
from test_smtp import Nsd

RECORDS = """\
2.0.0.127.bl IN A 127.0.0.2
2.0.0.127.bl IN TXT "listed for testing"
3.0.0.127.bl IN A 127.0.0.3
4.0.0.127.bl IN A 127.0.0.10
4.0.0.127.bl IN TXT "four"
2.0.0.127.two IN A 127.0.0.2
2.0.0.127.two IN TXT "first"
2.0.0.127.two IN TXT "second"
2.0.0.127.wl IN A 127.0.0.2
2.0.0.127.evil IN A 127.0.0.2
2.0.0.127.evil IN TXT "bad\013\010250 2.0.0 injected"
bad.test.rhs IN A 127.0.0.2
bad.test.rhs IN TXT "bad domain"
good IN MX 10 mx.good
mx.good IN A 192.0.2.1
aonly IN A 192.0.2.1
sixonly IN AAAA 2001:db8::1
nullmx IN MX 0 .
nodata IN TXT "x"
"""

TEMPFAIL = "other.invalid"      # outside the zone: REFUSED


class DnsTest(unittest.TestCase):
    def setUp(self):
        self.ns = Nsd("test", RECORDS)
        self.addCleanup(self.ns.stop)

    def mta(self, files=None, **main_cf):
        main_cf.setdefault("mynetworks", "127.0.0.1/32")
        main_cf.setdefault("smtpd_error_sleep_time", "0")
        m = smtpd_mta(files=files, resolv_conf=self.ns.resolv_conf, **main_cf)
        self.addCleanup(m.cleanup)
        return m

    def session(self, m, source, helo="client.test", sender="a@good.test"):
        c = Client(m.smtp_port, source=source)
        self.addCleanup(c.close)
        c.cmd("EHLO " + helo)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender), "250 2.1.0 Ok")
        return c


class SmtpdRbl(DnsTest):
    def test_rbl_client(self):
        m = self.mta(relay_domains="example.com",
                     smtpd_client_restrictions="reject_rbl_client bl.test")
        c = self.session(m, "127.0.0.2")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                         "554 5.7.1 Service unavailable; Client host [127.0.0.2] "
                         "blocked using bl.test; listed for testing")
        # Listed without a TXT record: no reason.
        c = self.session(m, "127.0.0.3")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                         "554 5.7.1 Service unavailable; Client host [127.0.0.3] "
                         "blocked using bl.test")
        c = self.session(m, "127.0.0.5")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), "250 2.1.5 Ok")
        m.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 "
                   r"Service unavailable; Client host \[127\.0\.0\.2\] blocked using "
                   r"bl\.test; listed for testing; from=<a@good\.test>")

    def test_rbl_filter(self):
        for spec, listed in (("bl.test=127.0.0.[2..3]", ("127.0.0.2", "127.0.0.3")),
                             ("bl.test=127.0.0.2", ("127.0.0.2",)),
                             ("bl.test=127.0.0.[3;10]", ("127.0.0.3", "127.0.0.4")),
                             ("bl.test=127.0.[0..1].[1;9..10]", ("127.0.0.4",))):
            m = self.mta(relay_domains="example.com",
                         smtpd_client_restrictions="reject_rbl_client " + spec)
            for client in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
                c = self.session(m, client)
                reply = c.cmd("RCPT TO:<x@example.com>")
                if client in listed:
                    self.assertTrue(reply.startswith("554 5.7.1 Service unavailable; "
                                                     "Client host [%s] blocked" % client),
                                    (spec, client, reply))
                else:
                    self.assertEqual(reply, "250 2.1.5 Ok", (spec, client))
            m.cleanup()

    def test_rbl_reasons_and_templates(self):
        m = self.mta(relay_domains="example.com", maps_rbl_reject_code="550",
                     rbl_reply_maps="texthash:@CONFIG@/rbl_reply",
                     files={"rbl_reply": "bl.test $rbl_code 5.7.9 No mail from "
                                         "$client_address (${rbl_reason:none}) to $recipient\n"},
                     smtpd_client_restrictions="reject_rbl_client two.test, "
                                               "reject_rbl_client bl.test")
        c = self.session(m, "127.0.0.2")
        # Several TXT records are joined with " / " (nsd sends them in order).
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                         "550 5.7.1 Service unavailable; Client host [127.0.0.2] "
                         "blocked using two.test; first / second")
        c = self.session(m, "127.0.0.3")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                         "550 5.7.9 No mail from 127.0.0.3 (none) to x@example.com")

    def test_rbl_reason_cannot_inject_reply_lines(self):
        m = self.mta(relay_domains="example.com",
                     smtpd_client_restrictions="reject_rbl_client evil.test")
        c = self.session(m, "127.0.0.2")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                         "554 5.7.1 Service unavailable; Client host [127.0.0.2] "
                         "blocked using evil.test; bad??250 2.0.0 injected")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")

    def test_rbl_tempfail_is_not_listed(self):
        m = self.mta(relay_domains="example.com",
                     smtpd_client_restrictions="reject_rbl_client %s" % TEMPFAIL)
        c = self.session(m, "127.0.0.2")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), "250 2.1.5 Ok")
        m.wait_log(r"warning: 2\.0\.0\.127\.other\.invalid: RBL lookup error: Host or "
                   r"domain name not found\. Name service error for "
                   r"name=2\.0\.0\.127\.other\.invalid type=A: Host not found, try again")

    def test_dnswl(self):
        m = self.mta(relay_domains="example.com",
                     smtpd_client_restrictions="permit_dnswl_client wl.test, reject")
        c = self.session(m, "127.0.0.2")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), "250 2.1.5 Ok")
        c = self.session(m, "127.0.0.3")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                         "554 5.7.1 <unknown[127.0.0.3]>: Client host rejected: Access denied")

    def test_dnswl_tempfail_defers_a_reject(self):
        m = self.mta(relay_domains="example.com",
                     smtpd_client_restrictions="permit_dnswl_client %s, reject" % TEMPFAIL)
        c = self.session(m, "127.0.0.2")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                         "450 4.7.1 <127.0.0.2>: Client host rejected: Service unavailable")
        m.cleanup()
        m = self.mta(relay_domains="example.com",
                     smtpd_client_restrictions="permit_dnswl_client %s, permit" % TEMPFAIL)
        c = self.session(m, "127.0.0.2")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), "250 2.1.5 Ok")

    def test_rhsbl(self):
        m = self.mta(relay_domains="bad.test good.test",
                     smtpd_helo_restrictions="reject_rhsbl_helo rhs.test",
                     smtpd_sender_restrictions="reject_rhsbl_sender rhs.test",
                     smtpd_recipient_restrictions="reject_rhsbl_recipient rhs.test")
        c = self.session(m, "127.0.0.2", helo="bad.test")
        self.assertEqual(c.cmd("RCPT TO:<x@good.test>"),
                         "554 5.7.1 Service unavailable; Helo command [bad.test] "
                         "blocked using rhs.test; bad domain")
        c = self.session(m, "127.0.0.2", sender="a@bad.test")
        self.assertEqual(c.cmd("RCPT TO:<x@good.test>"),
                         "554 5.7.1 Service unavailable; Sender address [a@bad.test] "
                         "blocked using rhs.test; bad domain")
        c = self.session(m, "127.0.0.2")
        self.assertEqual(c.cmd("RCPT TO:<x@bad.test>"),
                         "554 5.7.1 Service unavailable; Recipient address [x@bad.test] "
                         "blocked using rhs.test; bad domain")
        self.assertEqual(c.cmd("RCPT TO:<x@good.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("MAIL FROM:<>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@good.test>"), "250 2.1.5 Ok")


class SmtpdHeloName(DnsTest):
    """reject_invalid_helo_hostname and reject_unknown_helo_hostname, with the
    replies of Debian's Postfix 3.7 for the same names and zone."""

    def test_helo_names(self):
        m = self.mta(relay_domains="remote.example", mynetworks="192.0.2.0/24",
                     smtpd_helo_restrictions="reject_invalid_helo_hostname, "
                                             "reject_unknown_helo_hostname")
        ok = "250 2.1.5 Ok"
        for helo, reply in (
                ("good.test", ok), ("aonly.test", ok), ("[127.0.0.1]", ok),
                ("[IPv6:::1]", ok),
                ("nosuch.test", "450 4.7.1 <nosuch.test>: Helo command rejected: Host not found"),
                ("nodata.test", "450 4.7.1 <nodata.test>: Helo command rejected: Host not found"),
                ("nodots", "450 4.7.1 <nodots>: Helo command rejected: Host not found"),
                (TEMPFAIL, "450 4.7.1 <%s>: Helo command rejected: Host not found" % TEMPFAIL),
                ("bad..name", "501 5.5.2 <bad..name>: Helo command rejected: Invalid name"),
                ("-bad.test", "501 5.5.2 <-bad.test>: Helo command rejected: Invalid name"),
                ("[1.2.3]", "501 5.5.2 <[1.2.3]>: Helo command rejected: invalid ip address")):
            c = self.session(m, "127.0.0.1", helo=helo)
            self.assertEqual(c.cmd("RCPT TO:<r@remote.example>"), reply, helo)

    def test_helo_tempfail_is_held_until_permit(self):
        # With the default defer_if_permit a later reject wins over the
        # temporary failure; with defer the 450 comes at once.
        for action, reply in (("defer_if_permit", "554 5.7.1 <r@remote.example>: Recipient "
                                                  "address rejected: Access denied"),
                              ("defer", "450 4.7.1 <%s>: Helo command rejected: Host not "
                                        "found" % TEMPFAIL)):
            m = self.mta(relay_domains="remote.example", mynetworks="192.0.2.0/24",
                         unknown_helo_hostname_tempfail_action=action,
                         smtpd_helo_restrictions="reject_unknown_helo_hostname",
                         smtpd_recipient_restrictions="check_recipient_access "
                                                      "inline:{r@remote.example=REJECT}")
            c = self.session(m, "127.0.0.1", helo=TEMPFAIL)
            self.assertEqual(c.cmd("RCPT TO:<r@remote.example>"), reply, action)


class SmtpdUnknownDomain(DnsTest):
    def test_recipient_domain(self):
        m = self.mta(relay_domains="good.test aonly.test sixonly.test nullmx.test "
                                   "nodata.test nxdomain.test other.invalid",
                     mydestination="local.test",
                     smtpd_recipient_restrictions="reject_unknown_recipient_domain, "
                                                  "check_recipient_access "
                                                  "inline:{x@other.invalid=reject}")
        c = self.session(m, "127.0.0.2")
        rr = "Recipient address rejected"
        for ok in ("x@good.test", "x@aonly.test", "x@sixonly.test", "x@local.test"):
            self.assertEqual(c.cmd("RCPT TO:<%s>" % ok), "250 2.1.5 Ok", ok)
        self.assertEqual(c.cmd("RCPT TO:<x@nullmx.test>"),
                         "556 5.1.10 <x@nullmx.test>: %s: Domain nullmx.test does not "
                         "accept mail (nullMX)" % rr)
        for bad in ("x@nodata.test", "x@nxdomain.test"):
            self.assertEqual(c.cmd("RCPT TO:<%s>" % bad),
                             "450 4.1.2 <%s>: %s: Domain not found" % (bad, rr))
        # A lookup error holds a defer_if_permit reply: a later reject wins.
        self.assertEqual(c.cmd("RCPT TO:<x@other.invalid>"),
                         "554 5.7.1 <x@other.invalid>: %s: Access denied" % rr)
        self.assertEqual(c.cmd("RCPT TO:<y@other.invalid>"),
                         "450 4.1.2 <y@other.invalid>: %s: Domain not found" % rr)

    def test_sender_domain(self):
        m = self.mta(relay_domains="good.test", unknown_address_reject_code="550",
                     smtpd_sender_restrictions="reject_unknown_sender_domain")
        cases = (("a@nullmx.test", "550 5.7.27 <a@nullmx.test>: Sender address rejected: "
                                   "Domain nullmx.test does not accept mail (nullMX)"),
                 ("a@nxdomain.test", "550 5.1.8 <a@nxdomain.test>: Sender address "
                                     "rejected: Domain not found"),
                 ("a@other.invalid", "450 4.1.8 <a@other.invalid>: Sender address "
                                     "rejected: Domain not found"),
                 ("a@good.test", "250 2.1.5 Ok"),
                 ("", "250 2.1.5 Ok"))
        for sender, reply in cases:
            c = self.session(m, "127.0.0.2", sender=sender)
            self.assertEqual(c.cmd("RCPT TO:<x@good.test>"), reply, sender)

    def test_tempfail_action_defer(self):
        m = self.mta(relay_domains="good.test other.invalid",
                     unknown_address_tempfail_action="defer",
                     smtpd_recipient_restrictions="reject_unknown_recipient_domain, "
                                                  "check_recipient_access "
                                                  "inline:{x@other.invalid=reject}")
        c = self.session(m, "127.0.0.2")
        self.assertEqual(c.cmd("RCPT TO:<x@other.invalid>"),
                         "450 4.1.2 <x@other.invalid>: Recipient address rejected: "
                         "Domain not found")


if __name__ == "__main__":
    unittest.main()
