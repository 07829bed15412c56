"""test_smtpd_class - smtpd's answers by address class (lib/global/addr_class).

The client (127.0.0.1) is outside mynetworks, so the relay check and
reject_unlisted_recipient decide by the recipient's class: local
(mydestination, address literals of inet_interfaces/proxy_interfaces),
virtual alias, relay, default. Each reply below is the one Debian's
Postfix 3.7.11 gives for the same main.cf and RCPT (checked with a
throw-away Postfix instance); where this system answered differently
before the classes were one module, the comment says so.
"""
import os
import unittest

from smtpd_util import Client, read_queue_file, record, smtpd_mta, wait_incoming

OUTSIDER = dict(mynetworks="192.0.2.0/24",
                inet_interfaces="127.0.0.1",
                smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination")


def replies(m, rcpts, data=False):
    """The reply to each RCPT TO, in one transaction."""
    c = Client(m.smtp_port)
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<a@sender.example>")
    out = [c.cmd("RCPT TO:<%s>" % r) for r in rcpts]
    if data:
        c.cmd("DATA")
        out.append(c.cmd("Subject: t\r\n\r\nbody\r\n."))
    c.cmd("QUIT")
    c.close()
    return out


class DomainLiterals(unittest.TestCase):
    def test_our_addresses_are_local(self):
        # Postfix: 250 2.1.5 Ok for the addresses of inet_interfaces and
        # proxy_interfaces; we answered "554 5.7.1 <u@[127.0.0.1]>: Relay
        # access denied" before. Other literals: 554, as before.
        m = smtpd_mta(proxy_interfaces="192.0.2.77, [fd00::77]", **OUTSIDER)
        try:
            self.assertEqual(replies(m, ["u@[127.0.0.1]", "u@[192.0.2.77]",
                                         "u@[IPv6:fd00::77]", "u@[127.0.0.2]",
                                         "u@[IPv6:::1]"]),
                             ["250 2.1.5 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
                              "554 5.7.1 <u@[127.0.0.2]>: Relay access denied",
                              "554 5.7.1 <u@[IPv6:::1]>: Relay access denied"])
        finally:
            m.cleanup()

    def test_all_interfaces_and_protocols(self):
        # Postfix, inet_interfaces = all, inet_protocols = ipv4: 250 for
        # u@[127.0.0.1], 554 Relay access denied for u@[IPv6:::1].
        params = dict(OUTSIDER, inet_interfaces="all", inet_protocols="ipv4")
        m = smtpd_mta(**params)
        try:
            self.assertEqual(replies(m, ["u@[127.0.0.1]", "u@[IPv6:::1]"]),
                             ["250 2.1.5 Ok",
                              "554 5.7.1 <u@[IPv6:::1]>: Relay access denied"])
        finally:
            m.cleanup()


class ClassLists(unittest.TestCase):
    def test_mydestination_items_and_overlaps(self):
        # Postfix answers as below and logs each "do not list domain ..."
        # warning. Before, u@both.example got "550 5.1.1 ... User unknown
        # in virtual alias table" and no warning was logged.
        m = smtpd_mta(files={"dest.list": "# ours\nfile.example, file2.example\n",
                             "dest.tbl": "text.example x\n"},
                      mydestination="$myhostname, @CONFIG@/dest.list, "
                                    "texthash:@CONFIG@/dest.tbl, both.example",
                      virtual_alias_domains="both.example, valias.example",
                      virtual_alias_maps="inline:{ x@valias.example=y@elsewhere.example }",
                      relay_domains="relay.example, valias.example",
                      **OUTSIDER)
        try:
            self.assertEqual(
                replies(m, ["u@file2.example", "u@TEXT.EXAMPLE.", "u@sub.text.example",
                            "u@both.example", "u@valias.example", "x@valias.example",
                            "u@sub.relay.example"]),
                ["250 2.1.5 Ok", "250 2.1.5 Ok",
                 "554 5.7.1 <u@sub.text.example>: Relay access denied",
                 "250 2.1.5 Ok",
                 "550 5.1.1 <u@valias.example>: Recipient address rejected: "
                 "User unknown in virtual alias table",
                 "250 2.1.5 Ok", "250 2.1.5 Ok"])
            m.wait_log(r"postfix/smtpd\[\d+\]: warning: do not list domain both\.example "
                       r"in BOTH mydestination and virtual_alias_domains")
            m.wait_log(r"postfix/smtpd\[\d+\]: warning: do not list domain valias\.example "
                       r"in BOTH virtual_alias_domains and relay_domains")
        finally:
            m.cleanup()

    def test_virtual_mailbox_domains_is_refused_aloud(self):
        # No virtual(8) here: Postfix accepts u@vmbox.example (250) and
        # delivers it with virtual(8); we refuse it as relaying, and
        # master says the parameter is not implemented.
        m = smtpd_mta(virtual_mailbox_domains="vmbox.example", **OUTSIDER)
        try:
            self.assertEqual(replies(m, ["u@vmbox.example"]),
                             ["554 5.7.1 <u@vmbox.example>: Relay access denied"])
            m.wait_log(r"postfix/master\[\d+\]: warning: main\.cf: parameter "
                       r"virtual_mailbox_domains is not implemented by this mail system; "
                       r"it has no effect")
        finally:
            m.cleanup()

    def test_table_error_is_451(self):
        # Postfix: the same replies, and "warning: mydestination:
        # hash:...: table lookup problem" for each lookup that failed.
        m = smtpd_mta(mydestination="$myhostname, hash:@CONFIG@/missing",
                      relay_domains="relay.example", **OUTSIDER)
        try:
            self.assertEqual(
                replies(m, ["u@mx.test.invalid", "u@relay.example", "u@[127.0.0.1]"]),
                ["250 2.1.5 Ok",
                 "451 4.3.0 <u@relay.example>: Temporary lookup failure",
                 "451 4.3.0 <u@[127.0.0.1]>: Temporary lookup failure"])
            m.wait_log(r"smtpd\[\d+\]: warning: mydestination: hash:\S+/missing: "
                       r"table lookup problem", count=2)
        finally:
            m.cleanup()


class BareUserKeys(unittest.TestCase):
    """The "user" key of the lookup orders is for $myorigin and local domains."""

    def test_relay_recipient_maps(self):
        # Postfix: 250 for bob@origin.example ($myorigin) and "550 5.1.1
        # <bob@mx.test.invalid>: Recipient address rejected: User unknown
        # in relay recipient table" ($myhostname, not in mydestination);
        # before, we accepted bob@mx.test.invalid.
        m = smtpd_mta(mydestination="localhost", myorigin="origin.example",
                      relay_domains="origin.example, mx.test.invalid",
                      relay_recipient_maps="inline:{ bob=x }", **OUTSIDER)
        try:
            self.assertEqual(replies(m, ["bob@origin.example", "bob@mx.test.invalid"]),
                             ["250 2.1.5 Ok",
                              "550 5.1.1 <bob@mx.test.invalid>: Recipient address "
                              "rejected: User unknown in relay recipient table"])
        finally:
            m.cleanup()

    def queued_recipients(self, m, rcpt):
        for name in os.listdir(os.path.join(m.queue_dir, "incoming")):
            os.unlink(os.path.join(m.queue_dir, "incoming", name))
        out = replies(m, [rcpt], data=True)
        self.assertTrue(out[-1].startswith("250 2.0.0 Ok: queued as"), out)
        (qid, _), = wait_incoming(m)
        return record(read_queue_file(os.path.join(m.queue_dir, "incoming", qid)), "R")

    def test_virtual_alias_user_key(self):
        # Postfix's queue file (postcat), virtual_alias_maps = inline:{
        # bob=t1@elsewhere.example }, mydestination = localhost, myorigin =
        # origin.example: bob@origin.example and bob@[127.0.0.1] become
        # t1@elsewhere.example, bob@mx.test.invalid stays. Before, we
        # rewrote bob@mx.test.invalid and kept bob@origin.example and
        # bob@[127.0.0.1].
        m = smtpd_mta(mynetworks="127.0.0.0/8", inet_interfaces="127.0.0.1",
                      mydestination="localhost", myorigin="origin.example",
                      virtual_alias_maps="inline:{ bob=t1@elsewhere.example }")
        try:
            self.assertEqual(self.queued_recipients(m, "bob@origin.example"),
                             [b"t1@elsewhere.example"])
            self.assertEqual(self.queued_recipients(m, "bob@[127.0.0.1]"),
                             [b"t1@elsewhere.example"])
            self.assertEqual(self.queued_recipients(m, "bob@mx.test.invalid"),
                             [b"bob@mx.test.invalid"])
        finally:
            m.cleanup()


if __name__ == "__main__":
    unittest.main()
