"""test_smtpd_dnsaccess.py - access tables for the servers of a DNS name:
check_{client,reverse_client_hostname,helo,sender,recipient}_{a,mx,ns}_access
and check_reverse_client_hostname_access; the DNS lists
permit_rhswl_client, reject_rhsbl_reverse_client and reject_maps_rbl.

The zones are served by nsd (nsd_zones.py) and smtpd asks it through
resolv_conf. Every expected reply and log line below is what Debian's
Postfix 3.7.11 gave for the same zones, tables and SMTP dialogue: a
throw-away Postfix (own config and queue folders, maillog_file, smtpd on
a loopback port) started in a mount namespace whose /etc/resolv.conf
named the same nsd, driven side by side with ours. Client names are set
with XCLIENT (NAME=, REVERSE_NAME=, ADDR=), as both servers accept.
"""
import time
import unittest

from nsd_zones import NsdZones
from smtpd_util import Client, smtpd_mta

ZONES = {
    "test": """\
good IN MX 10 mx.good.test.
mx.good IN A 192.0.2.1
aonly IN A 192.0.2.2
sixonly IN AAAA 2001:db8::1
nullmx IN MX 0 .
nodata IN TXT "x"
mxnohost IN MX 10 nosuch.test.
mxtempfail IN MX 10 host.other.invalid.
cname IN CNAME good.test.
twomx IN MX 10 mx.good.test.
twomx IN MX 20 aonly.test.
rev IN MX 20 aonly.test.
rev IN MX 10 mx.good.test.
both IN A 192.0.2.3
both IN AAAA 2001:db8::3
multi IN A 192.0.2.4
multi IN A 192.0.2.5
mxip IN MX 10 192.0.2.7.
good.test.rhswl IN A 127.0.0.2
aonly.test.rhswl IN A 127.0.0.5
good.test.rhsbl IN A 127.0.0.2
good.test.rhsbl IN TXT "rev listed"
98.2.0.192.bl IN A 127.0.0.2
98.2.0.192.bl IN TXT "maps listed"
98.2.0.192.wl IN A 127.0.0.2
""",
    "zone2.example": """\
@ IN NS ns1.zone2.example.
@ IN NS ns2.other.invalid.
@ IN NS ns3.nosuch.test.
@ IN A 192.0.2.60
ns1 IN A 192.0.2.53
sub IN A 192.0.2.61
""",
}

ACCESS = """\
mx.good.test REJECT mx good
192.0.2.2 REJECT aonly addr
ns.test 550 ns hostname
ns1.zone2.example REJECT ns1 zone2
"""

OK = "250 2.1.5 Ok"
TEMPFAIL = "other.invalid"          # outside every zone: REFUSED


class DnsAccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns = NsdZones(ZONES)

    @classmethod
    def tearDownClass(cls):
        cls.ns.stop()

    def mta(self, files=None, **main_cf):
        main_cf.setdefault("mynetworks", "127.0.0.1/32")
        main_cf.setdefault("smtpd_error_sleep_time", "0")
        main_cf.setdefault("relay_domains", "example.com")
        main_cf.setdefault("smtpd_authorized_xclient_hosts", "127.0.0.0/8")
        m = smtpd_mta(files=dict({"access": ACCESS}, **(files or {})),
                      resolv_conf=self.ns.resolv_conf, **main_cf)
        self.addCleanup(m.cleanup)
        return m

    def client(self, m, xclient=None, helo="c.test"):
        c = Client(m.smtp_port, source="127.0.0.1")
        self.addCleanup(c.close)
        if xclient:
            c.cmd("EHLO c.test")
            self.assertEqual(c.cmd("XCLIENT " + xclient), "220 mx.test.invalid ESMTP Postfix")
        c.cmd("EHLO " + helo)
        return c

    def rcpt(self, m, sender="a@b.test", rcpt="x@example.com", **kw):
        c = self.client(m, **kw)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender), "250 2.1.0 Ok")
        reply = c.cmd("RCPT TO:<%s>" % rcpt)
        c.cmd("QUIT")
        return reply

    def assert_no_log(self, m, text):
        time.sleep(0.3)
        self.assertNotIn(text, m.log())


class SenderMx(DnsAccessTest):
    def test_mx_hosts_names_and_addresses(self):
        m = self.mta(smtpd_sender_restrictions="check_sender_mx_access texthash:@CONFIG@/access")
        for sender, reply in (
                # The MX host's name (with parent domains), then its addresses.
                ("a@good.test", "554 5.7.1 <a@good.test>: Sender address rejected: mx good"),
                ("a@cname.test", "554 5.7.1 <a@cname.test>: Sender address rejected: mx good"),
                ("a@twomx.test", "554 5.7.1 <a@twomx.test>: Sender address rejected: mx good"),
                # No MX record: the name is its own MX host.
                ("a@aonly.test", "554 5.7.1 <a@aonly.test>: Sender address rejected: aonly addr"),
                # An address literal is its own MX host's address.
                ("a@[192.0.2.2]", "554 5.7.1 <a@[192.0.2.2]>: Sender address rejected: aonly addr"),
                ("a@nullmx.test", OK), ("a@[192.0.2.9]", OK), ("", OK), ("a@multi.test", OK)):
            self.assertEqual(self.rcpt(m, sender=sender), reply, sender)
        m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                   r"<a@good\.test>: Sender address rejected: mx good; from=<a@good\.test> "
                   r"to=<x@example\.com> proto=ESMTP helo=<c\.test>")

    def test_lookup_failures_are_logged_and_skipped(self):
        m = self.mta(smtpd_sender_restrictions="check_sender_mx_access texthash:@CONFIG@/access")
        for sender in ("a@nosuch.test", "a@mxnohost.test", "a@mxtempfail.test", "a@nodata.test",
                       "a@" + TEMPFAIL, "a", "a@mxip.test"):
            self.assertEqual(self.rcpt(m, sender=sender), OK, sender)
        # Postfix 3.7's lines for the same senders.
        for line in (
                "warning: Unable to look up MX host nosuch.test for Sender address "
                "a@nosuch.test: Name or service not known",
                "warning: Unable to look up MX host nosuch.test for Sender address "
                "a@mxnohost.test: Name or service not known",
                "warning: Unable to look up MX host host.other.invalid for Sender address "
                "a@mxtempfail.test: Temporary failure in name resolution",
                "warning: Unable to look up MX host nodata.test for Sender address "
                "a@nodata.test: No address associated with hostname",
                "warning: Unable to look up MX host for other.invalid: Host not found, try again",
                # A sender without a domain is looked up as it is.
                "warning: Unable to look up MX host for a: Host not found, try again",
                "warning: numeric domain name in resource data of MX record for mxip.test: "
                "192.0.2.7"):
            m.wait_log(line.replace(".", r"\."))

    def test_first_entry_decides_in_answer_order(self):
        # DUNNO for the first MX host ends the search: the second host's
        # address is not looked at. The hosts go in the order of the DNS
        # answer, not by preference: rev.test lists aonly.test (20) first.
        m = self.mta(smtpd_sender_restrictions="check_sender_mx_access texthash:@CONFIG@/t",
                     files={"t": "mx.good.test DUNNO\n192.0.2.2 REJECT aonly addr\n"})
        self.assertEqual(self.rcpt(m, sender="a@twomx.test"), OK)
        self.assertEqual(self.rcpt(m, sender="a@rev.test"),
                         "554 5.7.1 <a@rev.test>: Sender address rejected: aonly addr")

    def test_parent_domains_and_networks(self):
        m = self.mta(smtpd_sender_restrictions="check_sender_mx_access texthash:@CONFIG@/t",
                     files={"t": "good.test REJECT parent\n192.0.2 REJECT network\n"})
        self.assertEqual(self.rcpt(m, sender="a@good.test"),
                         "554 5.7.1 <a@good.test>: Sender address rejected: parent")
        self.assertEqual(self.rcpt(m, sender="a@multi.test"),
                         "554 5.7.1 <a@multi.test>: Sender address rejected: network")


class SenderNsAndA(DnsAccessTest):
    def test_ns_hosts_and_parent_domains(self):
        m = self.mta(smtpd_sender_restrictions="check_sender_ns_access texthash:@CONFIG@/access")
        for sender, reply in (
                ("a@zone2.example", "554 5.7.1 <a@zone2.example>: Sender address rejected: ns1 zone2"),
                # No NS records: those of the parent domain.
                ("a@sub.zone2.example",
                 "554 5.7.1 <a@sub.zone2.example>: Sender address rejected: ns1 zone2"),
                ("a@good.test", "550 5.7.1 <a@good.test>: Sender address rejected: ns hostname"),
                ("a@x.y.nosuch.test",
                 "550 5.7.1 <a@x.y.nosuch.test>: Sender address rejected: ns hostname"),
                # An address literal has no name servers.
                ("a@[192.0.2.2]", OK),
                ("a@" + TEMPFAIL, OK)):
            self.assertEqual(self.rcpt(m, sender=sender), reply, sender)
        m.wait_log(r"warning: Unable to look up NS host for other\.invalid: "
                   r"Host not found, try again")

    def test_ns_hosts_that_do_not_resolve(self):
        m = self.mta(smtpd_sender_restrictions="check_sender_ns_access texthash:@CONFIG@/t",
                     files={"t": "nothing REJECT\n"})
        self.assertEqual(self.rcpt(m, sender="a@sub.zone2.example"), OK)
        m.wait_log(r"warning: Unable to look up NS host ns2\.other\.invalid for Sender "
                   r"address a@sub\.zone2\.example: Temporary failure in name resolution")
        m.wait_log(r"warning: Unable to look up NS host ns3\.nosuch\.test for Sender "
                   r"address a@sub\.zone2\.example: Name or service not known")

    def test_ns_search_up_to_the_root(self):
        # With a root zone, a name under a top-level domain that does not
        # exist has no NS records up to the top; Postfix names the address.
        ns = NsdZones({".": ""})
        self.addCleanup(ns.stop)
        m = smtpd_mta(resolv_conf=ns.resolv_conf, relay_domains="example.com",
                      mynetworks="127.0.0.1/32",
                      smtpd_sender_restrictions="check_sender_ns_access texthash:@CONFIG@/t, "
                                                "check_sender_mx_access texthash:@CONFIG@/t",
                      files={"t": "nothing REJECT\n"})
        self.addCleanup(m.cleanup)
        self.assertEqual(self.rcpt(m, sender="a@x.nosuch.invalid"), OK)
        m.wait_log(r"(?m)warning: Unable to look up NS host for a@x\.nosuch\.invalid: "
                   r"Host not found$")
        m.wait_log(r"warning: Unable to look up MX host x\.nosuch\.invalid for Sender "
                   r"address a@x\.nosuch\.invalid: Name or service not known")

    def test_a_records(self):
        m = self.mta(inet_protocols="all",
                     smtpd_sender_restrictions="check_sender_a_access texthash:@CONFIG@/t",
                     files={"t": "192.0.2.5 REJECT second\n2001:db8 REJECT v6 net\n"
                                 "192.0.2.1 REJECT mx host\n"})
        for sender, reply in (
                ("a@multi.test", "554 5.7.1 <a@multi.test>: Sender address rejected: second"),
                # IPv6 networks: "2001:db8::3", "2001:db8:", "2001:db8".
                ("a@both.test", "554 5.7.1 <a@both.test>: Sender address rejected: v6 net"),
                ("a@[IPv6:2001:db8::9]",
                 "554 5.7.1 <a@[IPv6:2001:db8::9]>: Sender address rejected: v6 net"),
                # Only the name's own addresses, not its MX hosts'.
                ("a@good.test", OK),
                # Failed lookups are silent.
                ("a@nosuch.test", OK), ("a@" + TEMPFAIL, OK)):
            self.assertEqual(self.rcpt(m, sender=sender), reply, sender)
        self.assert_no_log(m, "Unable to look up")


class OtherNames(DnsAccessTest):
    def test_client_helo_and_recipient(self):
        m = self.mta(inet_protocols="all",
                     smtpd_client_restrictions="check_client_mx_access texthash:@CONFIG@/access, "
                                               "check_reverse_client_hostname_mx_access "
                                               "texthash:@CONFIG@/access, "
                                               "check_client_a_access texthash:@CONFIG@/t",
                     smtpd_helo_restrictions="check_helo_ns_access texthash:@CONFIG@/access, "
                                             "check_helo_a_access texthash:@CONFIG@/access",
                     smtpd_recipient_restrictions="check_recipient_mx_access "
                                                  "texthash:@CONFIG@/access, permit",
                     files={"t": "2001:db8 REJECT v6 net\n"})
        self.assertEqual(self.rcpt(m, xclient="NAME=good.test ADDR=192.0.2.98"),
                         "554 5.7.1 <good.test[192.0.2.98]>: Client host rejected: mx good")
        self.assertEqual(self.rcpt(m, xclient="NAME=[UNAVAILABLE] REVERSE_NAME=good.test "
                                              "ADDR=192.0.2.98"),
                         "554 5.7.1 <good.test>: Unverified Client host rejected: mx good")
        self.assertEqual(self.rcpt(m, xclient="NAME=sixonly.test ADDR=192.0.2.98"),
                         "554 5.7.1 <sixonly.test[192.0.2.98]>: Client host rejected: v6 net")
        # The names "unknown" are not looked up (nor is c.invalid: REFUSED).
        self.assertEqual(self.rcpt(m, xclient="NAME=[UNAVAILABLE] REVERSE_NAME=[UNAVAILABLE] "
                                              "ADDR=192.0.2.98", helo="c.invalid"), OK)
        self.assertEqual(self.rcpt(m, helo="zone2.example"),
                         "554 5.7.1 <zone2.example>: Helo command rejected: ns1 zone2")
        # A bare address as HELO name: its own address.
        self.assertEqual(self.rcpt(m, helo="192.0.2.2"),
                         "554 5.7.1 <192.0.2.2>: Helo command rejected: aonly addr")
        self.assertEqual(self.rcpt(m, helo="[192.0.2.2]"),
                         "554 5.7.1 <[192.0.2.2]>: Helo command rejected: aonly addr")
        self.assertEqual(self.rcpt(m, rcpt="x@good.test", helo="c.invalid"),
                         "554 5.7.1 <x@good.test>: Recipient address rejected: mx good")

    def test_ok_is_not_allowed(self):
        m = self.mta(smtpd_client_restrictions="check_client_mx_access texthash:@CONFIG@/t",
                     smtpd_recipient_restrictions="warn_if_reject check_recipient_ns_access "
                                                  "texthash:@CONFIG@/t, permit",
                     files={"t": "mx.good.test OK\nns.test permit_mynetworks\n"})
        self.assertEqual(self.rcpt(m, xclient="NAME=good.test ADDR=192.0.2.98"),
                         "451 4.3.5 Server configuration error")
        # Postfix 3.7's three lines; a restriction list that permits is
        # refused too, and warn_if_reject does not soften the error.
        m.wait_log(r"warning: restriction check_client_mx_access returns OK for good\.test\n"
                   r".*warning: this is not allowed for security reasons\n"
                   r".*warning: use DUNNO instead of OK if you want to make an exception\n"
                   r".*NOQUEUE: reject: RCPT from good\.test\[192\.0\.2\.98\]: 451 4\.3\.5 "
                   r"Server configuration error; from=<a@b\.test> to=<x@example\.com>")
        self.assertEqual(self.rcpt(m, rcpt="x@good.test"), "451 4.3.5 Server configuration error")
        m.wait_log(r"warning: restriction check_recipient_ns_access returns OK for x@good\.test")

    def test_reverse_client_hostname_access(self):
        m = self.mta(smtpd_client_restrictions="check_reverse_client_hostname_access "
                                               "texthash:@CONFIG@/t",
                     files={"t": "rev.example REJECT rev name\n192.0.2.77 REJECT rev addr\n"
                                 "okname.test OK\n"})
        self.assertEqual(self.rcpt(m, xclient="NAME=good.test REVERSE_NAME=sub.rev.example "
                                              "ADDR=192.0.2.98"),
                         "554 5.7.1 <sub.rev.example>: Unverified Client host rejected: rev name")
        # Without a name, the address.
        self.assertEqual(self.rcpt(m, xclient="NAME=[UNAVAILABLE] REVERSE_NAME=[UNAVAILABLE] "
                                              "ADDR=192.0.2.77"),
                         "554 5.7.1 <unknown>: Unverified Client host rejected: rev addr")
        self.assertEqual(self.rcpt(m, xclient="NAME=okname.test REVERSE_NAME=okname.test "
                                              "ADDR=192.0.2.98"),
                         "451 4.3.5 Server configuration error")
        m.wait_log(r"warning: restriction check_reverse_client_hostname_access returns OK "
                   r"for okname\.test")


class DnsLists(DnsAccessTest):
    def test_rhswl_client(self):
        m = self.mta(smtpd_client_restrictions="permit_rhswl_client rhswl.test=127.0.0.2, "
                                               "permit_rhswl_client %s, reject" % TEMPFAIL)
        self.assertEqual(self.rcpt(m, xclient="NAME=good.test ADDR=192.0.2.98"), OK)
        # Listed with another value, then a lookup error: defer_if_reject,
        # naming the client's host name.
        self.assertEqual(self.rcpt(m, xclient="NAME=aonly.test ADDR=192.0.2.98"),
                         "450 4.7.1 <aonly.test>: Client host rejected: Service unavailable")
        m.wait_log(r"warning: aonly\.test\.other\.invalid: RBL lookup error: Host or domain "
                   r"name not found\. Name service error for name=aonly\.test\.other\.invalid "
                   r"type=A: Host not found, try again")
        self.assertEqual(self.rcpt(m, xclient="NAME=[UNAVAILABLE] ADDR=192.0.2.98"),
                         "554 5.7.1 <unknown[192.0.2.98]>: Client host rejected: Access denied")

    def test_allowlists_do_not_open_a_relay(self):
        # "permit_dnswl_client / permit_rhswl_client is silently ignored
        # when it would override reject_unauth_destination", in any list.
        m = self.mta(smtpd_client_restrictions="permit_dnswl_client wl.test, "
                                               "permit_rhswl_client rhswl.test, reject",
                     smtpd_relay_restrictions="permit_dnswl_client wl.test, "
                                              "permit_rhswl_client rhswl.test, "
                                              "reject_unauth_destination")
        for xclient in ("NAME=[UNAVAILABLE] ADDR=192.0.2.98", "NAME=good.test ADDR=192.0.2.97"):
            c = self.client(m, xclient=xclient)
            self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
            reply = c.cmd("RCPT TO:<x@example.net>")
            self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), OK, xclient)
            c.cmd("QUIT")
            self.assertRegex(reply, r"^554 5\.7\.1 <(unknown\[192\.0\.2\.98\]|"
                                    r"good\.test\[192\.0\.2\.97\])>: Client host rejected: "
                                    r"Access denied$")

    def test_rhsbl_reverse_client(self):
        m = self.mta(smtpd_client_restrictions="reject_rhsbl_reverse_client rhsbl.test")
        self.assertEqual(self.rcpt(m, xclient="NAME=[UNAVAILABLE] REVERSE_NAME=good.test "
                                              "ADDR=192.0.2.98"),
                         "554 5.7.1 Service unavailable; Unverified Client host [good.test] "
                         "blocked using rhsbl.test; rev listed")
        self.assertEqual(self.rcpt(m, xclient="NAME=[UNAVAILABLE] REVERSE_NAME=x.test "
                                              "ADDR=192.0.2.98"), OK)

    def test_maps_rbl(self):
        m = self.mta(maps_rbl_domains="nothing.test, bl.test",
                     smtpd_client_restrictions="reject_maps_rbl")
        c = self.client(m, xclient="NAME=[UNAVAILABLE] ADDR=192.0.2.98")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        for _ in range(2):
            self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                             "554 5.7.1 Service unavailable; Client host [192.0.2.98] blocked "
                             "using bl.test; maps listed")
        # Once per process, as Postfix.
        m.wait_log(r"warning: support for restriction \"reject_maps_rbl\" will be removed "
                   r"from Postfix; use \"reject_rbl_client domain-name\" instead")
        self.assertEqual(m.log().count("reject_maps_rbl\" will be removed"), 1)

    def test_missing_domain(self):
        # Postfix warns and goes on.
        m = self.mta(smtpd_client_restrictions="permit_mynetworks, permit_rhswl_client")
        self.assertEqual(self.rcpt(m, xclient="NAME=good.test ADDR=192.0.2.98"), OK)
        m.wait_log(r"warning: restriction permit_rhswl_client requires domain name argument")


if __name__ == "__main__":
    unittest.main()
