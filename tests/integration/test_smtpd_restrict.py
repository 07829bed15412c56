"""test_smtpd_restrict - restriction classes, reject footers, permit logging,
error:/retry: recipients, debug_peer_list, client port logging and the
domain-less recipient, each against the real smtpd over SMTP.

Every reply and log line asserted here is the one Debian's Postfix 3.7.11
gives for the same main.cf and dialogue (a throw-away instance on a
loopback port, checked while writing this test); the comments quote it.
Where we differ on purpose, the comment says so.
"""
import os
import re
import subprocess
import unittest

from mta import MTA, SBIN
from capture import Capture
from smtpd_util import Client, read_queue_file, record, smtpd_mta, wait_incoming

OUTSIDE = "127.0.0.2"           # a client address outside mynetworks

NOT_US = dict(mynetworks="192.0.2.0/24", smtpd_error_sleep_time="0")


def dialogue(m, cmds, source=None):
    """The replies to cmds (after the banner) in one session."""
    c = Client(m.smtp_port, source=source)
    out = [c.cmd(cmd) for cmd in cmds]
    c.close()
    return out


def log_lines(m, pattern):
    return [line for line in m.log().splitlines() if re.search(pattern, line)]


class RestrictionClasses(unittest.TestCase):
    """RESTRICTION_CLASS_README: a table result or list item naming a class."""

    @classmethod
    def setUpClass(cls):
        cls.m = smtpd_mta(
            files={"access": "example.com permissive\nexample.net strict\n"
                             "example.org nested\nv@other.test nosuchclass\n"
                             "w@other.test loop2\nx@other.test reject_unknown_fooo\n"
                             "y@other.test loopy\n"},
            smtpd_relay_restrictions="",
            relay_domains="example.com, example.net, example.org",
            smtpd_restriction_classes="permissive, strict, nested, loop2, loopy, reject",
            permissive="permit",
            strict="reject_unlisted_recipient, reject",
            nested="check_sender_access inline:{{bad@x.test=REJECT sender bad}}, permissive",
            loop2="check_recipient_access inline:{w@other.test=loop2}",
            loopy="loopy",
            # A class may not replace one of Postfix's own names.
            reject="permit",
            smtpd_recipient_restrictions="check_recipient_access texthash:@CONFIG@/access, "
                                         "reject_unauth_destination",
            **NOT_US)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def test_class_as_table_result(self):
        # Postfix: 250 for u@example.com (permissive = permit), "554 5.7.1
        # <u@example.net>: Recipient address rejected: Access denied" (strict
        # ends in reject), 250 for example.org (nested: the sender check,
        # then the class permissive).
        self.assertEqual(dialogue(self.m, ["EHLO c.test", "MAIL FROM:<a@b.test>",
                                           "RCPT TO:<u@example.com>", "RCPT TO:<u@example.net>",
                                           "RCPT TO:<u@example.org>", "QUIT"])[2:5],
                         ["250 2.1.5 Ok",
                          "554 5.7.1 <u@example.net>: Recipient address rejected: Access denied",
                          "250 2.1.5 Ok"])

    def test_nested_class_runs_its_own_checks(self):
        # Postfix: "554 5.7.1 <bad@x.test>: Sender address rejected: sender bad"
        # from check_sender_access inside the class nested.
        self.assertEqual(dialogue(self.m, ["EHLO c.test", "MAIL FROM:<bad@x.test>",
                                           "RCPT TO:<u@example.org>", "QUIT"])[2],
                         "554 5.7.1 <bad@x.test>: Sender address rejected: sender bad")

    def test_unknown_class_and_recursion(self):
        # Postfix: 451 4.3.5 Server configuration error for each, with
        # 'warning: unknown smtpd restriction: "nosuchclass"' and "warning:
        # access table inline:{w@other.test=loop2} entry loop2 causes
        # unreasonable recursion". For "loopy = loopy" (a class naming
        # itself, no table between) Postfix 3.7's smtpd crashes (signal 11);
        # we answer the same 451 and log "restriction class loopy causes
        # unreasonable recursion".
        r = dialogue(self.m, ["EHLO c.test", "MAIL FROM:<a@b.test>",
                              "RCPT TO:<v@other.test>", "RCPT TO:<w@other.test>",
                              "RCPT TO:<x@other.test>", "RCPT TO:<y@other.test>", "QUIT"])
        self.assertEqual(r[2:6], ["451 4.3.5 Server configuration error"] * 4)
        self.m.wait_log(r'warning: unknown smtpd restriction: "nosuchclass"')
        self.m.wait_log(r"warning: access table inline:\{w@other\.test=loop2\} entry loop2 "
                        r"causes unreasonable recursion")
        self.m.wait_log(r'warning: unknown smtpd restriction: "reject_unknown_fooo"')
        self.m.wait_log(r"warning: restriction class loopy causes unreasonable recursion")
        self.m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 451 4\.3\.5 "
                        r"Server configuration error; from=<a@b\.test> to=<w@other\.test> "
                        r"proto=ESMTP helo=<c\.test>")

    def test_own_names_win_over_classes(self):
        # "reject = permit" as a class does not change reject: Postfix still
        # answers "554 5.7.1 <u@other.test>: ... Access denied" for a table
        # entry "reject"; here reject_unauth_destination refuses other.test.
        self.assertEqual(dialogue(self.m, ["EHLO c.test", "MAIL FROM:<a@b.test>",
                                           "RCPT TO:<z@other.test>", "QUIT"])[2],
                         "554 5.7.1 <z@other.test>: Relay access denied")

    def test_class_names_are_parameters(self):
        # postconf knows a class name as a parameter (Postfix: "permissive =
        # permit"), and master does not call it unused.
        out = subprocess.run([os.path.join(SBIN, "postconf"), "-c", self.m.config_dir,
                              "permissive", "loopy"], capture_output=True, text=True)
        self.assertEqual(out.stdout, "permissive = permit\nloopy = loopy\n")
        self.assertNotIn("unknown parameter", out.stderr)
        self.assertEqual(log_lines(self.m, r"unused parameter: (permissive|strict|nested)"), [])


class ClassDefinitions(unittest.TestCase):
    def test_class_without_definition_is_fatal(self):
        # Postfix: "fatal: restriction class `undefd' needs a definition".
        m = smtpd_mta(smtpd_restriction_classes="undefd",
                      smtpd_recipient_restrictions="undefd, reject_unauth_destination")
        try:
            try:
                Client(m.smtp_port).close()
            except (EOFError, OSError):
                pass
            m.wait_log(r"postfix/smtpd\[\d+\]: fatal: restriction class `undefd' needs a "
                       r"definition")
        finally:
            m.cleanup()

    def test_relay_protection_inside_a_class(self):
        # Postfix accepts smtpd_relay_restrictions = myclass with myclass =
        # reject_unauth_destination: "554 5.7.1 <u@other.test>: Relay access
        # denied".
        m = smtpd_mta(smtpd_restriction_classes="myclass", myclass="reject_unauth_destination",
                      smtpd_relay_restrictions="myclass", smtpd_recipient_restrictions="",
                      **NOT_US)
        try:
            self.assertEqual(dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>",
                                          "RCPT TO:<u@other.test>"])[2],
                             "554 5.7.1 <u@other.test>: Relay access denied")
        finally:
            m.cleanup()


class RejectFooter(unittest.TestCase):
    def test_footer_attributes(self):
        # Postfix's footer on every 4xx/5xx reply, its own line, the reply's
        # code and status repeated; $recipient is the first recipient
        # accepted in the transaction; an unknown name is empty and logged:
        #   500-5.5.2 Error: command not recognized
        #   500 5.5.2 Call 127.0.0.1 at mx.test.invalid; s= ... NORH2 x=
        #   454-4.7.1 <u@other.test>: Relay access denied
        #   454 4.7.1 Call ... s=<> sd= sn=<> r= ... S:NORH1 x=
        #   452 4.5.3 Call ... r=u@example.com rd=example.com rn=u ... S:H1 x=
        #   warning: unknown macro name "myhostname" in expansion request
        m = smtpd_mta(relay_domains="example.com", smtpd_recipient_limit="2",
                      smtpd_reject_footer="Call $client_address at $server_name; s=$sender "
                      "sd=$sender_domain sn=$sender_name r=$recipient rd=$recipient_domain "
                      "rn=$recipient_name h=$helo_name n=$client_name c=$client "
                      "${sender?S:}${recipient:NOR}${helo_name?{H1}:{H2}} x=$myhostname",
                      **NOT_US)
        try:
            r = dialogue(m, ["FOO", "HELO", "EHLO c.test", "MAIL FROM:<>",
                             "RCPT TO:<u@other.test>", "RCPT TO:<u@example.com>",
                             "RCPT TO:<v@example.com>", "RCPT TO:<w@other.test>", "QUIT"])
            common = "Call 127.0.0.1 at mx.test.invalid; "
            self.assertEqual(r[0], "500-5.5.2 Error: command not recognized\n500 5.5.2 " + common +
                             "s= sd= sn= r= rd= rn= h= n=localhost c=localhost[127.0.0.1] NORH2 x=")
            self.assertEqual(r[1], "501-Syntax: HELO hostname\n501 " + common +
                             "s= sd= sn= r= rd= rn= h= n=localhost c=localhost[127.0.0.1] NORH2 x=")
            self.assertEqual(r[4], "454-4.7.1 <u@other.test>: Relay access denied\n454 4.7.1 " +
                             common + "s=<> sd= sn=<> r= rd= rn= h=c.test n=localhost "
                             "c=localhost[127.0.0.1] S:NORH1 x=")
            self.assertEqual(r[5:7], ["250 2.1.5 Ok", "250 2.1.5 Ok"])
            self.assertEqual(r[7], "452-4.5.3 Error: too many recipients\n452 4.5.3 " + common +
                             "s=<> sd= sn=<> r=u@example.com rd=example.com rn=u h=c.test "
                             "n=localhost c=localhost[127.0.0.1] S:H1 x=")
            m.wait_log(r'warning: unknown macro name "myhostname" in expansion request')
            # The footer is not logged.
            m.wait_log(r"(?m)NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 454 4\.7\.1 "
                       r"<u@other\.test>: Relay access denied; from=<> to=<u@other\.test> "
                       r"proto=ESMTP helo=<c\.test>$")
            self.assertNotIn("Call 127.0.0.1", m.log())
        finally:
            m.cleanup()

    def test_line_breaks_and_same_line(self):
        # Postfix, footer "\c. See h=$helo_name\n\nthird\\nx": no break
        # before it, "\n" breaks, "\\n" is a backslash and a break:
        #   454-4.7.1 <u@other.test>: Relay access denied. See h=c.test
        #   454-4.7.1 
        #   454-4.7.1 third\
        #   454 4.7.1 x
        m = smtpd_mta(smtpd_reject_footer=r"\c. See h=$helo_name\n\nthird\\nx", **NOT_US)
        try:
            r = dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>", "RCPT TO:<u@other.test>"])
            self.assertEqual(r[2], "454-4.7.1 <u@other.test>: Relay access denied. See h=c.test\n"
                                   "454-4.7.1 \n454-4.7.1 third\\\n454 4.7.1 x")
        finally:
            m.cleanup()

    def test_footer_maps_and_filter(self):
        # smtpd_reject_footer_maps is searched with the whole reply; a pcre
        # result names attributes as $$name, censored like the others
        # (Postfix: "454 4.7.1 pcre footer ___._._._"); "\c" in a table
        # result too ("500 5.5.2 Error: command
        # not recognizednot recognized"); no match: smtpd_reject_footer.
        # smtpd_expansion_filter censors values, not the template: with
        # "abcdefghijklmnopqrstuvwxyz." Postfix shows
        # "c=localhost____._._.__ h=__test.x_y s=_.b_c_d.test".
        m = smtpd_mta(files={"f.re": "/<w@other/ pcre footer $$client_address\n"
                                     "/^500 / \\cnot recognized\n"},
                      smtpd_reject_footer_maps="pcre:@CONFIG@/f.re",
                      smtpd_reject_footer="F: c=$client h=$helo_name s=$sender",
                      smtpd_expansion_filter="abcdefghijklmnopqrstuvwxyz.",
                      **NOT_US)
        try:
            r = dialogue(m, ["EHLO C-test.x_y", "MAIL FROM:<A.b+c@d.test>",
                             "RCPT TO:<w@other.test>", "RCPT TO:<x@other.test>", "FOO"])
            self.assertEqual(r[2], "454-4.7.1 <w@other.test>: Relay access denied\n"
                                   "454 4.7.1 pcre footer ___._._._")
            self.assertEqual(r[3], "454-4.7.1 <x@other.test>: Relay access denied\n"
                                   "454 4.7.1 F: c=localhost____._._.__ h=__test.x_y "
                                   "s=_.b_c_d.test")
            self.assertEqual(r[4], "500 5.5.2 Error: command not recognizednot recognized")
        finally:
            m.cleanup()

    def test_refused_client_and_error_limit(self):
        # Postfix with smtpd_delay_reject = no: the refusal that replaces the
        # greeting, the 503 after it and the 421 of smtpd_hard_error_limit
        # carry the footer:
        #   554-5.7.1 <unknown[127.0.0.2]>: Client host rejected: Access denied
        #   554 5.7.1 F: c=unknown[127.0.0.2]
        m = smtpd_mta(smtpd_reject_footer="F: c=$client", smtpd_delay_reject="no",
                      smtpd_hard_error_limit="2",
                      smtpd_client_restrictions="check_client_access inline:{127.0.0.2=REJECT}",
                      **NOT_US)
        try:
            c = Client(m.smtp_port, source=OUTSIDE)
            self.assertEqual(c.banner, "554-5.7.1 <unknown[127.0.0.2]>: Client host rejected: "
                                       "Access denied\n554 5.7.1 F: c=unknown[127.0.0.2]")
            self.assertEqual(c.cmd("EHLO x"), "503-5.7.0 Error: access denied for "
                                              "unknown[127.0.0.2]\n503 5.7.0 F: c=unknown[127.0.0.2]")
            c.close()
            r = dialogue(m, ["FOO", "BAR", "BAZ"])
            self.assertEqual(r[2], "421-4.7.0 mx.test.invalid Error: too many errors\n"
                                   "421 4.7.0 F: c=localhost[127.0.0.1]")
        finally:
            m.cleanup()


class PermitLogging(unittest.TestCase):
    def test_all_permit_actions(self):
        # Postfix with smtpd_log_access_permit_actions = static:all:
        #   NOQUEUE: permit: RCPT from localhost[127.0.0.1]: action=permit_mynetworks
        #     for Client host=localhost[127.0.0.1] ; from=<a@b.test> to=<a@example.com>
        #     proto=ESMTP helo=<c.test>
        #   NOQUEUE: permit: RCPT from ...: action=OK for Recipient address=a@example.com
        #     from inline:{...}; from=<a@b.test> ...
        #   QID: permit: RCPT from ...: action=permit for Recipient address=b@example.com ; ...
        #   QID: permit: DATA from ...: action=permit for Data command=DATA ; from=<a@b.test>
        #     proto=ESMTP helo=<c.test>
        #   NOQUEUE: permit: RCPT from ...: action=permit for Helo command=helo.ok ; ...
        #   NOQUEUE: permit: RCPT from ...: action=OK for Sender address=s@ok.test
        #     from inline:{s@ok.test=OK}; ...
        table = "inline:{a@example.com=OK, b@example.com=cls, c@example.com=permit_auth_destination}"
        m = smtpd_mta(mynetworks="127.0.0.0/8", relay_domains="example.com",
                      smtpd_log_access_permit_actions="static:all",
                      smtpd_restriction_classes="cls", cls="permit",
                      smtpd_helo_restrictions="check_helo_access inline:{helo.ok=permit}",
                      smtpd_sender_restrictions="check_sender_access inline:{s@ok.test=OK}",
                      smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination",
                      smtpd_recipient_restrictions="check_recipient_access %s, "
                                                   "permit_auth_destination" % table,
                      smtpd_data_restrictions="permit")
        try:
            dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>", "RCPT TO:<a@example.com>",
                         "RCPT TO:<b@example.com>", "RCPT TO:<d@example.com>", "DATA",
                         "Subject: t\r\n\r\nbody\r\n.", "QUIT"])
            dialogue(m, ["HELO helo.ok", "MAIL FROM:<s@ok.test>", "RCPT TO:<a@example.com>",
                         "QUIT"])
            tail = " proto=ESMTP helo=<c.test>"
            m.wait_log(re.escape("NOQUEUE: permit: RCPT from localhost[127.0.0.1]: "
                                 "action=permit_mynetworks for Client host=localhost[127.0.0.1] ; "
                                 "from=<a@b.test> to=<a@example.com>" + tail))
            m.wait_log(re.escape("NOQUEUE: permit: RCPT from localhost[127.0.0.1]: action=OK for "
                                 "Recipient address=a@example.com from %s; from=<a@b.test> "
                                 "to=<a@example.com>" % table + tail))
            m.wait_log(r"[0-9A-F]+: " + re.escape(
                "permit: RCPT from localhost[127.0.0.1]: action=permit for Recipient "
                "address=b@example.com ; from=<a@b.test> to=<b@example.com>" + tail))
            m.wait_log(r"[0-9A-F]+: " + re.escape(
                "permit: RCPT from localhost[127.0.0.1]: action=permit_auth_destination for "
                "Recipient address=d@example.com ; from=<a@b.test> to=<d@example.com>" + tail))
            m.wait_log(r"[0-9A-F]+: " + re.escape(
                "permit: DATA from localhost[127.0.0.1]: action=permit for Data command=DATA ; "
                "from=<a@b.test>" + tail))
            m.wait_log(re.escape("NOQUEUE: permit: RCPT from localhost[127.0.0.1]: action=permit "
                                 "for Helo command=helo.ok ; from=<s@ok.test> to=<a@example.com> "
                                 "proto=SMTP helo=<helo.ok>"))
            m.wait_log(re.escape("NOQUEUE: permit: RCPT from localhost[127.0.0.1]: action=OK for "
                                 "Sender address=s@ok.test from inline:{s@ok.test=OK}; "
                                 "from=<s@ok.test> to=<a@example.com> proto=SMTP helo=<helo.ok>"))
        finally:
            m.cleanup()

    def test_chosen_actions(self):
        # Postfix with "OK, permit, !permit_auth_destination": "OK text here"
        # logs action=OK, "ok" action=ok, a table's "permit" action=permit;
        # "1234" (a number: OK) and permit_auth_destination are not logged.
        table = ("inline:{{a@example.com=OK text here}, {b@example.com = 1234}, "
                 "{c@example.com=ok}, {e@example.com=permit}}")
        m = smtpd_mta(relay_domains="example.com",
                      smtpd_log_access_permit_actions="OK, permit, !permit_auth_destination",
                      smtpd_relay_restrictions="check_recipient_access %s, "
                                               "permit_auth_destination, reject" % table,
                      **NOT_US)
        try:
            self.assertEqual(dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>",
                                          "RCPT TO:<a@example.com>", "RCPT TO:<b@example.com>",
                                          "RCPT TO:<c@example.com>", "RCPT TO:<d@example.com>",
                                          "RCPT TO:<e@example.com>", "QUIT"])[2:7],
                             ["250 2.1.5 Ok"] * 5)
            m.wait_log(r"disconnect from localhost")
            actions = [re.search(r"action=(\S+) for Recipient address=(\S+)", line).groups()
                       for line in log_lines(m, r": permit: RCPT from ")]
            self.assertEqual(actions, [("OK", "a@example.com"), ("ok", "c@example.com"),
                                       ("permit", "e@example.com")])
        finally:
            m.cleanup()


    def test_policy_service_permit(self):
        # Postfix names the policy server as the table: "NOQUEUE: permit:
        # RCPT from localhost[127.0.0.1]: action=OK for Recipient
        # address=u@x.test from inet:127.0.0.1:40029; from=<a@b.test> ..."
        from test_smtpd_policy import PolicyServer
        server = PolicyServer()
        self.addCleanup(server.stop)
        spec = "inet:127.0.0.1:%d" % server.port
        m = smtpd_mta(smtpd_log_access_permit_actions="static:all",
                      relay_domains="remote.example",
                      smtpd_relay_restrictions="check_policy_service %s, reject" % spec,
                      **NOT_US)
        try:
            self.assertEqual(dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>",
                                          "RCPT TO:<ok@remote.example>"])[2], "250 2.1.5 Ok")
            m.wait_log(re.escape("NOQUEUE: permit: RCPT from localhost[127.0.0.1]: action=OK "
                                 "for Recipient address=ok@remote.example from %s; "
                                 "from=<a@b.test> to=<ok@remote.example> proto=ESMTP "
                                 "helo=<c.test>" % spec))
        finally:
            m.cleanup()


class ErrorTransports(unittest.TestCase):
    """transport_maps, relay_transport: error: and retry: refused at RCPT."""

    TRANSPORT = ("inline:{{a@example.com=error:5.1.2 we do not serve this user}, "
                 "{b@example.com=error:no such user here}, {c@example.com=retry:4.3.2 try later}, "
                 "{d@example.com=retry:later please}, {e@example.com=error:}, "
                 "{f@example.com=retry:}, {g@example.com=error:4.1.1 soft}, "
                 "{h@example.com=retry:5.3.2 x}, {remote.test=error:5.7.1 go away}}")

    def test_replies(self):
        # Postfix 3.7, client in mynetworks, relay_transport = error:relay
        # says no for example.net; nothing is queued.
        m = smtpd_mta(mynetworks="127.0.0.0/8", relay_domains="example.com, example.net",
                      relay_transport="error:relay says no", transport_maps=self.TRANSPORT)
        try:
            r = dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>"] +
                         ["RCPT TO:<%s>" % a for a in (
                             "a@example.com", "b@example.com", "c@example.com", "d@example.com",
                             "e@example.com", "f@example.com", "g@example.com", "h@example.com",
                             "x@example.net", "x@remote.test", "x@other.test")] +
                         ["DATA", "Subject: t\r\n\r\nbody\r\n.", "QUIT"])
            rej = "Recipient address rejected"
            self.assertEqual(r[2:13], [
                "550 5.1.2 <a@example.com>: %s: we do not serve this user" % rej,
                "550 5.1.1 <b@example.com>: %s: no such user here" % rej,
                "450 4.3.2 <c@example.com>: %s: try later" % rej,
                "450 4.1.1 <d@example.com>: %s: later please" % rej,
                "550 5.1.1 <e@example.com>: %s: Address is undeliverable" % rej,
                "450 4.1.1 <f@example.com>: %s: Address is undeliverable" % rej,
                "550 5.1.1 <g@example.com>: %s: soft" % rej,
                "450 4.3.2 <h@example.com>: %s: x" % rej,
                "550 5.1.1 <x@example.net>: %s: relay says no" % rej,
                "550 5.7.1 <x@remote.test>: %s: go away" % rej,
                "250 2.1.5 Ok"])
            m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.1\.2 "
                       r"<a@example\.com>: Recipient address rejected: we do not serve this "
                       r"user; from=<a@b\.test> to=<a@example\.com> proto=ESMTP helo=<c\.test>")
            # Only x@other.test was queued.
            files = wait_incoming(m)
            self.assertEqual(len(files), 1)
            recs = read_queue_file(os.path.join(m.queue_dir, "incoming", files[0][0]))
            self.assertEqual(record(recs, "R"), [b"x@other.test"])
        finally:
            m.cleanup()

    def test_reject_unlisted_recipient_decides(self):
        # Postfix: with smtpd_reject_unlisted_recipient = no both are
        # accepted; an explicit reject_unlisted_recipient refuses them.
        for explicit, want in (("", ["250 2.1.5 Ok", "250 2.1.5 Ok"]),
                               ("reject_unlisted_recipient", [
                                   "550 5.1.2 <a@example.com>: Recipient address rejected: "
                                   "we do not serve this user",
                                   "450 4.3.2 <c@example.com>: Recipient address rejected: "
                                   "try later"])):
            m = smtpd_mta(mynetworks="127.0.0.0/8", relay_domains="example.com",
                          smtpd_reject_unlisted_recipient="no",
                          smtpd_recipient_restrictions=explicit, transport_maps=self.TRANSPORT)
            try:
                self.assertEqual(dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>",
                                              "RCPT TO:<a@example.com>",
                                              "RCPT TO:<c@example.com>"])[2:], want)
            finally:
                m.cleanup()

    def test_soft_bounce_aliases_and_relay_recipients(self):
        # Postfix with soft_bounce = yes: "450 4.1.2 <a@example.com>: Recipient
        # address rejected: we do not serve this user" (before the relay
        # recipient table, which does not list a@); an address with a virtual
        # alias is accepted whatever its transport; one without: "450 4.1.1
        # <w@alias.test>: ... User unknown in virtual alias table"; VRFY
        # answers as RCPT.
        m = smtpd_mta(mynetworks="127.0.0.0/8", relay_domains="example.com",
                      relay_recipient_maps="inline:{z@example.com=x}", soft_bounce="yes",
                      virtual_alias_domains="alias.test",
                      virtual_alias_maps="inline:{v@alias.test=z@example.com}",
                      transport_maps="inline:{{a@example.com=error:5.1.2 we do not serve this "
                                     "user}, {v@alias.test=error:5.1.3 aliased}}")
        try:
            self.assertEqual(dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>",
                                          "RCPT TO:<a@example.com>", "RCPT TO:<v@alias.test>",
                                          "RCPT TO:<w@alias.test>", "VRFY a@example.com"])[2:],
                             ["450 4.1.2 <a@example.com>: Recipient address rejected: we do not "
                              "serve this user", "250 2.1.5 Ok",
                              "450 4.1.1 <w@alias.test>: Recipient address rejected: User unknown "
                              "in virtual alias table",
                              "450 4.1.2 <a@example.com>: Recipient address rejected: we do not "
                              "serve this user"])
        finally:
            m.cleanup()


class DebugPeer(unittest.TestCase):
    def test_smtpd_logs_the_dialogue_of_a_listed_client(self):
        # Postfix 3.7, debug_peer_list = 127.0.0.1, debug_peer_level = 1:
        #   > localhost[127.0.0.1]: 220 mx.test.invalid ESMTP Postfix
        #   < localhost[127.0.0.1]: EHLO c.test
        #   > localhost[127.0.0.1]: 250-mx.test.invalid
        #   > localhost[127.0.0.1]: 250-PIPELINING ...
        #   < localhost[127.0.0.1]: RCPT TO:<u@other.test>
        #   generic_checks: name=defer_unauth_destination
        #   generic_checks: name=defer_unauth_destination status=2
        #   > localhost[127.0.0.1]: 454-4.7.1 <u@other.test>: Relay access denied
        #   > localhost[127.0.0.1]: 454 4.7.1 footer
        #   < localhost[127.0.0.1]: QUIT
        #   > localhost[127.0.0.1]: 221 2.0.0 Bye
        # A client that does not match (127.0.0.2) gets none of that.
        m = smtpd_mta(debug_peer_list="127.0.0.1", debug_peer_level="1",
                      smtpd_reject_footer="footer", **NOT_US)
        try:
            dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>", "RCPT TO:<u@other.test>",
                         "QUIT"])
            dialogue(m, ["EHLO outside.test", "QUIT"], source=OUTSIDE)
            m.wait_log(r"disconnect from unknown\[127\.0\.0\.2\]")
            lines = [re.sub(r"^.*postfix/smtpd\[\d+\]: ", "", line)
                     for line in log_lines(m, r"postfix/smtpd\[\d+\]: ([<>] |generic_checks)")]
            i = lines.index("< localhost[127.0.0.1]: EHLO c.test")
            self.assertEqual(lines[i - 1:i + 3], [
                "> localhost[127.0.0.1]: 220 mx.test.invalid ESMTP Postfix",
                "< localhost[127.0.0.1]: EHLO c.test",
                "> localhost[127.0.0.1]: 250-mx.test.invalid",
                "> localhost[127.0.0.1]: 250-PIPELINING"])
            i = lines.index("< localhost[127.0.0.1]: RCPT TO:<u@other.test>")
            self.assertEqual(lines[i + 1:], [
                "generic_checks: name=permit_mynetworks",
                "generic_checks: name=permit_mynetworks status=0",
                "generic_checks: name=permit_sasl_authenticated",
                "generic_checks: name=permit_sasl_authenticated status=0",
                "generic_checks: name=defer_unauth_destination",
                "generic_checks: name=defer_unauth_destination status=2",
                "> localhost[127.0.0.1]: 454-4.7.1 <u@other.test>: Relay access denied",
                "> localhost[127.0.0.1]: 454 4.7.1 footer",
                "< localhost[127.0.0.1]: QUIT",
                "> localhost[127.0.0.1]: 221 2.0.0 Bye"])
            self.assertNotIn("[127.0.0.2]: EHLO", m.log())
        finally:
            m.cleanup()

    def test_smtp_client_logs_the_dialogue_with_a_listed_server(self):
        # Postfix 3.7's smtp, debug_peer_list = 127.0.0.1, against the
        # same aiosmtpd server:
        #   < 127.0.0.1[127.0.0.1]:50925: 220 localhost Python SMTP 1.4.3
        #   > 127.0.0.1[127.0.0.1]:50925: EHLO mx.test.invalid
        #   < 127.0.0.1[127.0.0.1]:50925: 250-localhost ... 250 HELP
        #   > 127.0.0.1[127.0.0.1]:50925: MAIL FROM:<a@b.test> SIZE=302
        #   < 127.0.0.1[127.0.0.1]:50925: 250 OK
        #   > 127.0.0.1[127.0.0.1]:50925: RCPT TO:<u@example.com>
        #   < 127.0.0.1[127.0.0.1]:50925: 250 2.1.5 Ok
        #   > 127.0.0.1[127.0.0.1]:50925: DATA
        #   < 127.0.0.1[127.0.0.1]:50925: 354 End data with <CR><LF>.<CR><LF>
        #   > 127.0.0.1[127.0.0.1]:50925: .
        #   < 127.0.0.1[127.0.0.1]:50925: 250 2.0.0 Ok: captured
        # A second delivery to a server that does not match logs nothing.
        with Capture() as cap, Capture(host="127.0.0.3") as other:
            m = MTA(main_cf={
                "relay_domains": "example.com, example.net",
                "transport_maps": "inline:{example.com=smtp:[127.0.0.1]:%d, "
                                  "example.net=smtp:[127.0.0.3]:%d}" % (cap.port, other.port),
                "debug_peer_list": "127.0.0.1", "debug_peer_level": "2"})
            try:
                dialogue(m, ["EHLO c.test", "MAIL FROM:<a@b.test>", "RCPT TO:<u@example.com>",
                             "DATA", "Subject: t\r\n\r\nbody\r\n.", "MAIL FROM:<a@b.test>",
                             "RCPT TO:<u@example.net>", "DATA", "Subject: t\r\n\r\nbody\r\n.",
                             "QUIT"])
                cap.wait(1)
                other.wait(1)
                m.wait_log(r"to=<u@example\.net>, relay=127\.0\.0\.3.*status=sent")
                relay = "127.0.0.1[127.0.0.1]:%d: " % cap.port
                lines = [re.sub(r"^.*postfix/smtp\[\d+\]: ", "", line)
                         for line in log_lines(m, r"postfix/smtp\[\d+\]: [<>] ")]
                self.assertEqual(lines[0], "< " + relay + "220 localhost Python SMTP 1.4.3")
                self.assertEqual(lines[1], "> " + relay + "EHLO mx.test.invalid")
                self.assertIn("< " + relay + "250 HELP", lines)
                i = lines.index("< " + relay + "250 HELP")
                self.assertRegex(lines[i + 1], r"^> " + re.escape(relay) +
                                 r"MAIL FROM:<a@b\.test> SIZE=\d+$")
                self.assertEqual(lines[i + 2:i + 10], [
                    "< " + relay + "250 OK",
                    "> " + relay + "RCPT TO:<u@example.com>",
                    "< " + relay + "250 2.1.5 Ok",
                    "> " + relay + "DATA",
                    "< " + relay + "354 End data with <CR><LF>.<CR><LF>",
                    "> " + relay + ".",
                    "< " + relay + "250 2.0.0 Ok: captured"])
                self.assertFalse([line for line in lines if "127.0.0.3" in line])
            finally:
                m.cleanup()


class ClientPortLogging(unittest.TestCase):
    def test_port_everywhere_the_client_is_named(self):
        # Postfix with smtpd_client_port_logging = yes:
        #   connect from localhost[127.0.0.1]:57316
        #   QID: client=localhost[127.0.0.1]:57316
        #   NOQUEUE: reject: RCPT from localhost[127.0.0.1]:59312: 554 5.7.1
        #     <localhost[127.0.0.1]:59312>: Client host rejected: Access denied; ...
        #   disconnect from localhost[127.0.0.1]:57316 ehlo=1 ...
        # and $client in a footer is "localhost[127.0.0.1]:57316".
        m = smtpd_mta(mynetworks="127.0.0.1/32", relay_domains="example.com",
                      smtpd_client_port_logging="yes", smtpd_reject_footer="c=$client",
                      smtpd_client_restrictions="check_client_access inline:{127.0.0.2=REJECT}")
        try:
            c = Client(m.smtp_port)
            port = c.sock.getsockname()[1]
            c.cmd("EHLO c.test")
            c.cmd("MAIL FROM:<a@b.test>")
            self.assertEqual(c.cmd("RCPT TO:<a@example.com>"), "250 2.1.5 Ok")
            self.assertEqual(c.cmd("FOO"), "500-5.5.2 Error: command not recognized\n"
                                           "500 5.5.2 c=localhost[127.0.0.1]:%d" % port)
            c.cmd("QUIT")
            c.close()
            c = Client(m.smtp_port, source=OUTSIDE)
            port2 = c.sock.getsockname()[1]
            c.cmd("EHLO c.test")
            c.cmd("MAIL FROM:<a@b.test>")
            self.assertEqual(c.cmd("RCPT TO:<a@example.com>"),
                             "554-5.7.1 <unknown[127.0.0.2]:%d>: Client host rejected: Access "
                             "denied\n554 5.7.1 c=unknown[127.0.0.2]:%d" % (port2, port2))
            c.cmd("QUIT")
            c.close()
            nm = r"localhost\[127\.0\.0\.1\]:%d" % port
            m.wait_log(r"(?m)connect from %s$" % nm)
            m.wait_log(r"(?m)[0-9A-F]+: client=%s$" % nm)
            m.wait_log(r"disconnect from %s ehlo=1 mail=1 rcpt=1 quit=1 unknown=0/1 "
                       r"commands=4/5" % nm)
            m.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]:%d: 554 5\.7\.1 "
                       r"<unknown\[127\.0\.0\.2\]:%d>: Client host rejected: Access denied; "
                       r"from=<a@b\.test> to=<a@example\.com> proto=ESMTP helo=<c\.test>"
                       % (port2, port2))
        finally:
            m.cleanup()


class DomainlessRecipient(unittest.TestCase):
    def test_replies_show_the_address_as_given(self):
        # Postfix: lookups use u@$myorigin (the key carol@mx.test.invalid
        # matches, the bare key "bob" does not, "dave@" does), replies and
        # logs show <u>; a bare postmaster is always accepted:
        #   554 5.7.1 <u>: Relay access denied
        #   554 5.7.1 <carol>: Recipient address rejected: full key
        #   NOQUEUE: reject: RCPT from ...: 554 5.7.1 <u>: Relay access denied;
        #     from=<a> to=<u> proto=ESMTP helo=<c.test>
        #   VRFY u: 554 5.7.1 <u>: Relay access denied; VRFY postmaster: 252
        m = smtpd_mta(relay_domains="example.com", mydestination="",
                      smtpd_relay_restrictions="check_recipient_access inline:{{bob=REJECT bare "
                      "key}, {carol@mx.test.invalid=REJECT full key}, {dave@=REJECT local key}}, "
                      "reject_unauth_destination",
                      **NOT_US)
        try:
            self.assertEqual(dialogue(m, ["EHLO c.test", "MAIL FROM:<a>", "RCPT TO:<u>",
                                          "RCPT TO:<bob>", "RCPT TO:<carol>", "RCPT TO:<dave>",
                                          "RCPT TO:<postmaster>", "RCPT TO:<PostMaster>",
                                          "VRFY u", "VRFY postmaster"])[2:], [
                "554 5.7.1 <u>: Relay access denied",
                "554 5.7.1 <bob>: Relay access denied",
                "554 5.7.1 <carol>: Recipient address rejected: full key",
                "554 5.7.1 <dave>: Recipient address rejected: local key",
                "250 2.1.5 Ok", "250 2.1.5 Ok",
                "554 5.7.1 <u>: Relay access denied",
                "252 2.0.0 postmaster"])
            m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 <u>: "
                       r"Relay access denied; from=<a> to=<u> proto=ESMTP helo=<c\.test>")
        finally:
            m.cleanup()

    def test_non_fqdn_checks_see_the_address_as_given(self):
        # Postfix: "504 5.5.2 <a>: Sender address rejected: need
        # fully-qualified address", "504 5.5.2 <u>: Recipient address
        # rejected: need fully-qualified address", though the lookups use
        # the @$myorigin form.
        m = smtpd_mta(mydestination="$myhostname",
                      smtpd_sender_restrictions="reject_non_fqdn_sender",
                      smtpd_recipient_restrictions="reject_non_fqdn_recipient", **NOT_US)
        try:
            self.assertEqual(dialogue(m, ["EHLO c.test", "MAIL FROM:<a>", "RCPT TO:<u>",
                                          "RSET", "MAIL FROM:<a@b.test>", "RCPT TO:<u>",
                                          "RCPT TO:<postmaster>"])[2:], [
                "504 5.5.2 <a>: Sender address rejected: need fully-qualified address",
                "250 2.0.0 Ok", "250 2.1.0 Ok",
                "504 5.5.2 <u>: Recipient address rejected: need fully-qualified address",
                "250 2.1.5 Ok"])
        finally:
            m.cleanup()


if __name__ == "__main__":
    unittest.main()
