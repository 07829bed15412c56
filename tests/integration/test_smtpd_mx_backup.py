"""test_smtpd_mx_backup.py - permit_mx_backup and permit_mx_backup_networks.

smtpd's own addresses are inet_interfaces (127.0.0.1) and proxy_interfaces
(192.0.2.25, "me.mxb.test"); the MX records are served by nsd. The
expected replies and log lines are those of Debian's Postfix 3.7.11 with
the same main.cf settings, zone and dialogue (run side by side, its
resolver pointed at the same nsd through a mount namespace).
"""
import unittest

from nsd_zones import NsdZones
from smtpd_util import Client, smtpd_mta

ZONE = """\
backup IN MX 10 primary
backup IN MX 20 me
primary IN A 192.0.2.10
otherprim IN A 192.0.2.11
me IN A 192.0.2.25
primaryme IN MX 10 me
primaryme IN MX 20 primary
equal IN MX 10 me
equal IN MX 10 primary
notme IN MX 10 primary
lo IN MX 10 primary
lo IN MX 20 lohost
lohost IN A 127.0.0.1
nullmx IN MX 0 .
nomx IN A 192.0.2.25
tf IN MX 10 primary
tf IN MX 20 host.other.invalid.
tf IN MX 30 me
sub.backup IN MX 10 primary
sub.backup IN MX 20 me
nx IN MX 10 primary
nx IN MX 20 nosuch
nx IN MX 30 me
onlyme IN MX 10 me
cn IN CNAME backup
mxip IN MX 10 primary
mxip IN MX 20 192.0.2.25.
other IN MX 10 otherprim
other IN MX 20 me
twoprim IN MX 10 primary
twoprim IN MX 10 otherprim
twoprim IN MX 20 me
mid IN MX 10 otherprim
mid IN MX 20 primary
mid IN MX 30 me
mid2 IN MX 10 primary
mid2 IN MX 20 otherprim
mid2 IN MX 30 me
ptf IN MX 10 host.other.invalid.
ptf IN MX 20 me
pnx IN MX 10 nosuch
pnx IN MX 20 me
ptfnotme IN MX 10 host.other.invalid.
"""

OK = "250 2.1.5 Ok"


def denied(rcpt):
    return "554 5.7.1 <%s>: Recipient address rejected: Access denied" % rcpt


class MxBackup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns = NsdZones({"mxb.test": ZONE})

    @classmethod
    def tearDownClass(cls):
        cls.ns.stop()

    def mta(self, **main_cf):
        params = dict(inet_interfaces="127.0.0.1", proxy_interfaces="192.0.2.25",
                      relay_domains="relay.test", mynetworks="127.0.0.1/32", mydestination="",
                      smtpd_error_sleep_time="0", smtpd_hard_error_limit="100",
                      smtpd_relay_restrictions="",
                      smtpd_recipient_restrictions="permit_mx_backup, reject")
        params.update(main_cf)
        m = smtpd_mta(resolv_conf=self.ns.resolv_conf, **params)
        self.addCleanup(m.cleanup)
        return m

    def replies(self, m, rcpts):
        c = Client(m.smtp_port, source="127.0.0.1")
        self.addCleanup(c.close)
        c.cmd("EHLO c.test")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        return [(r, c.cmd("RCPT TO:<%s>" % r)) for r in rcpts]

    def check(self, m, expected):
        for (rcpt, got), (_, want) in zip(self.replies(m, [r for r, _ in expected]), expected):
            self.assertEqual(got, want, rcpt)

    def test_backup_not_primary(self):
        m = self.mta()
        self.check(m, [
            ("x@backup.mxb.test", OK),
            ("x@sub.backup.mxb.test", OK),
            ("x@cn.mxb.test", OK),
            # 127.0.0.1 is an inet_interfaces address.
            ("x@lo.mxb.test", OK),
            # Lookup trouble with a host before ours does not matter.
            ("x@tf.mxb.test", OK),
            ("x@nx.mxb.test", OK),
            # The primary MX (alone or with others at its preference).
            ("x@primaryme.mxb.test", denied("x@primaryme.mxb.test")),
            ("x@onlyme.mxb.test", denied("x@onlyme.mxb.test")),
            ("x@equal.mxb.test", denied("x@equal.mxb.test")),
            ("x@notme.mxb.test", denied("x@notme.mxb.test")),
            # No MX records, a null MX, a name that does not exist.
            ("x@nomx.mxb.test", denied("x@nomx.mxb.test")),
            ("x@nullmx.mxb.test", denied("x@nullmx.mxb.test")),
            ("x@nosuch.mxb.test", denied("x@nosuch.mxb.test")),
            # Our own domains, as permit_auth_destination.
            ("x@relay.test", OK),
            # Sender-specified routing is never permitted.
            ("x%y@backup.mxb.test", denied("x%y@backup.mxb.test")),
            ('"x@y"@backup.mxb.test', denied("x@y@backup.mxb.test")),
            ("y!x@backup.mxb.test", denied("y!x@backup.mxb.test")),
        ])

    def test_numeric_mx_host(self):
        m = self.mta()
        self.check(m, [("x@mxip.mxb.test", OK)])
        m.wait_log(r"warning: numeric domain name in resource data of MX record for "
                   r"mxip\.mxb\.test: 192\.0\.2\.25")

    def test_lookup_errors_defer_a_reject(self):
        # Postfix 3.7: the held reply replaces a later reject (defer_if_reject)...
        m = self.mta()
        self.check(m, [
            ("x@other.invalid", "450 4.4.4 <x@other.invalid>: Recipient address rejected: "
                                "Unable to look up mail exchanger information: Host not "
                                "found, try again"),
            ("x@ptfnotme.mxb.test", "450 4.4.4 <x@ptfnotme.mxb.test>: Recipient address "
                                    "rejected: Unable to look up mail exchanger host "
                                    "host.other.invalid: Temporary failure in name resolution"),
            # ...a recipient without a domain gets @$myorigin.
            ("x", "450 4.4.4 <x>: Recipient address rejected: Unable to look up mail "
                  "exchanger information: Host not found, try again"),
        ])
        m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 450 4\.4\.4 "
                   r"<x@other\.invalid>: Recipient address rejected: Unable to look up mail "
                   r"exchanger information: Host not found, try again; from=<a@b\.test> "
                   r"to=<x@other\.invalid> proto=ESMTP helo=<c\.test>")
        # ...and not a permit.
        m = self.mta(smtpd_recipient_restrictions="permit_mx_backup, permit_mynetworks, reject")
        self.check(m, [("x@other.invalid", OK)])

    def test_networks(self):
        m = self.mta(permit_mx_backup_networks="192.0.2.10/32")
        self.check(m, [
            ("x@backup.mxb.test", OK),
            # Only the primary MX hosts count, all of them.
            ("x@mid2.mxb.test", OK),
            ("x@other.mxb.test", denied("x@other.mxb.test")),
            ("x@twoprim.mxb.test", denied("x@twoprim.mxb.test")),
            ("x@mid.mxb.test", denied("x@mid.mxb.test")),
            ("x@lo.mxb.test", OK),
            ("x@ptf.mxb.test", "450 4.4.4 <x@ptf.mxb.test>: Recipient address rejected: "
                               "Unable to look up mail exchanger host host.other.invalid: "
                               "Temporary failure in name resolution"),
            ("x@pnx.mxb.test", "450 4.4.4 <x@pnx.mxb.test>: Recipient address rejected: "
                               "Unable to look up mail exchanger host nosuch.mxb.test: "
                               "Name or service not known"),
        ])
        # A host name matches too (and its subdomains).
        m = self.mta(permit_mx_backup_networks="mxb.test")
        self.check(m, [("x@backup.mxb.test", OK), ("x@other.mxb.test", OK)])
        m = self.mta(permit_mx_backup_networks="primary.mxb.test")
        self.check(m, [("x@backup.mxb.test", OK),
                       ("x@other.mxb.test", denied("x@other.mxb.test"))])

    def test_postconf_lists_the_parameter(self):
        m = self.mta(permit_mx_backup_networks="192.0.2.10/32")
        p = m.command("postconf", "permit_mx_backup_networks")
        self.assertEqual(p.stdout, "permit_mx_backup_networks = 192.0.2.10/32\n")
        self.assertNotIn("is not implemented", m.log())


if __name__ == "__main__":
    unittest.main()
