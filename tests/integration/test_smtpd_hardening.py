"""Hardening beyond Postfix 3.7: ESMTP parameters, ORCPT address types,
log text from clients, and the smtp client that never sends a line break
it found in a queue file. Each test sends the bad input and checks the
reply, the log bytes, and what (nothing) reached the next hop."""
import os
import pwd
import socket
import time
import unittest

from capture import Capture
from mta import MTA
from qmgr_harness import record
from smtpd_util import Client, incoming, read_queue_file, smtpd_mta

OUTSIDE = "127.0.0.2"


def log_bytes(m):
    with open(m.logfile, "rb") as f:
        return f.read()


class EsmtpParameters(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.m = smtpd_mta(mynetworks="127.0.0.1/32", relay_domains="example.com",
                          smtpd_error_sleep_time="0")

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def session(self):
        c = Client(self.m.smtp_port, source=OUTSIDE)
        self.addCleanup(c.close)
        c.cmd("EHLO client.test")
        return c

    def test_orcpt_address_type_must_be_an_atom(self):
        c = self.session()
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<u@example.com> ORCPT=rfc822;u@example.com"),
                         "250 2.1.5 Ok")
        # Postfix 3.7 accepts these and would relay "r<f>c822" as it is.
        for orcpt in ("r<f>c822;u@example.com", "rfc\"822;u@example.com", ";u@example.com",
                      "rfc822(x);u@example.com"):
            self.assertEqual(c.cmd("RCPT TO:<v@example.com> ORCPT=" + orcpt),
                             "501 5.5.4 Error: Bad ORCPT parameter syntax", orcpt)

    def test_control_characters_in_parameters(self):
        c = self.session()
        # Postfix 3.7 takes the CR for a separator ("555 5.5.4 Unsupported
        # option: X"); we refuse any control character in a parameter.
        cases = [("MAIL FROM:<a@b.test> SIZE=10\x01", "501 5.5.4 Bad message size syntax"),
                 ("MAIL FROM:<a@b.test> ENVID=a\x7fb", "501 5.5.4 Bad ENVID parameter syntax"),
                 ("MAIL FROM:<a@b.test> RET=FULL\x1b", "501 5.5.4 Bad RET parameter syntax"),
                 ("MAIL FROM:<a@b.test> X-FOO=\x02", "501 5.5.4 Bad parameter syntax"),
                 # A NUL would cut the line short: the whole line is refused.
                 ("MAIL FROM:<a@b.test>\x00 SIZE=99999999", "500 5.5.2 Error: bad syntax")]
        for line, reply in cases:
            self.assertEqual(c.cmd(line), reply, repr(line))
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        for line, reply in [
                ("RCPT TO:<u@example.com> NOTIFY=SUCCESS\rX",
                 "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
                ("RCPT TO:<u@example.com> ORCPT=rfc822;u@example.com\rRCPT",
                 "501 5.5.4 Error: Bad ORCPT parameter syntax"),
                ("RCPT TO:<u@example.com> FOO=a\x02", "501 5.5.4 Bad parameter syntax")]:
            self.assertEqual(c.cmd(line), reply, repr(line))
        c.cmd("QUIT")
        self.assertEqual(incoming(self.m), [])

    def test_client_text_in_the_log(self):
        c = Client(self.m.smtp_port, source=OUTSIDE)
        self.addCleanup(c.close)
        c.send(b"HELO h\x01\x1b\x7f\xe9x\r\n")
        self.assertEqual(c.reply(), "250 mx.test.invalid")
        c.send(b"MAIL FROM:<a\xe9@b.test>\r\n")
        self.assertEqual(c.reply(), "250 2.1.0 Ok")
        c.send(b"RCPT TO:<x\xe9y@nowhere.test>\r\n")
        # Postfix 3.7 (smtputf8_enable = no) replies with a space and logs
        # this very line: control characters and 8-bit bytes become "?".
        self.assertEqual(c.reply(), "454 4.7.1 <x y@nowhere.test>: Relay access denied")
        self.m.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 454 4\.7\.1 "
                        r"<x y@nowhere\.test>: Relay access denied; from=<a\?@b\.test> "
                        r"to=<x\?y@nowhere\.test> proto=SMTP helo=<h\?\?\?\?x>\n")
        c.send(b"ETRN a\x1bb.example\r\n")
        c.reply()
        c.cmd("QUIT")
        # Nothing the client sent reaches the log raw: no control character
        # but the line ends, no 8-bit byte.
        raw = log_bytes(self.m)
        self.assertFalse([b for b in raw if (b < 0x20 and b != 0x0a) or b >= 0x7f])


class RelayNothingBroken(unittest.TestCase):
    """Queue files with a line break (or another control character) in an
    address never reach the next hop: qmgr moves the file to corrupt/, and
    the smtp client itself defers a recipient whose address (from
    anywhere: a forged request, a table) has one."""

    def test_queue_file_with_line_breaks(self):
        with Capture() as cap, MTA(main_cf={
                "relay_domains": "example.com",
                "transport_maps": "inline:{example.com=smtp:[127.0.0.1]:%d}" % cap.port}) as m:
            owner = pwd.getpwnam(m.params["mail_owner"])
            files = {}

            def queue(name, sender, rcpt):
                qid = "%05X%06X" % (len(files) + 1, os.getpid() & 0xFFFFFF)
                now = time.time()
                data = (record("V", "1") + record("T", "%d 0" % now) + record("S", sender)
                        + record("A", "client_name=localhost")
                        + record("A", "client_address=127.0.0.1")
                        + record("W", "%020d" % 0) + record("R", rcpt)
                        + record("M", b"Subject: x\r\n\r\nbody\r\n") + record("E", ""))
                path = os.path.join(m.queue_dir, "incoming", qid)
                with open(path, "wb") as f:
                    f.write(data)
                os.chown(path, owner.pw_uid, owner.pw_gid)
                os.chmod(path, 0o700)
                files[name] = qid

            queue("rcpt_crlf", "a@b.test", b"u@example.com>\r\nRCPT TO:<evil@example.com")
            queue("sender_lf", b"a@b.test>\nRCPT TO:<evil@example.com", "u@example.com")
            queue("rcpt_nul", "a@b.test", b"u@example.com\x00evil")
            queue("rcpt_ctrl", "a@b.test", b"x\x01y@example.com")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(os.path.join(m.queue_dir, "public", "qmgr"))
            s.sendall(b"I")
            s.close()
            for name in files:
                m.wait_log(r"warning: %s: corrupt queue file: bad (recipient|sender)\n"
                           % files[name])
                m.wait_log(r'warning: saving corrupt file "%s" from queue "active" to queue '
                           r'"corrupt"' % files[name])
            self.assertEqual(sorted(m.queue_files("corrupt")), sorted(files.values()))
            # Then a good message goes through: the only one the next hop saw.
            c = Client(m.smtp_port)
            c.cmd("EHLO client.test")
            c.cmd("MAIL FROM:<a@b.test>")
            c.cmd("RCPT TO:<good@example.com>")
            c.cmd("DATA")
            c.cmd("Subject: good\r\n\r\nbody\r\n.")
            c.cmd("QUIT")
            cap.wait(1)
            cap.settle(1.0)
            self.assertEqual([e.rcpt_tos for e in cap.messages], [["good@example.com"]])
            self.assertEqual(cap.rcpt_commands, ["good@example.com"])
            self.assertNotRegex(m.log(), r"to=<[^>]*evil")

    def test_smtp_client_refuses_line_breaks(self):
        from test_smtp import Agent
        agent = Agent()
        self.addCleanup(agent.cleanup)
        with Capture() as cap:
            nexthop = "[127.0.0.1]:%d" % cap.port
            bad = "u@example.com>\r\nRCPT TO:<evil@example.com"
            results, log = agent.deliver(nexthop, [bad, "ok@example.com"])
            self.assertEqual(results[bad]["dsn_status"], "4.3.0")
            self.assertEqual(results[bad]["reason"], "recipient address contains a control "
                             "character: <u@example.com>??RCPT TO:<evil@example.com>")
            self.assertEqual(results["ok@example.com"]["dsn_status"], "2.0.0")
            results, log = agent.deliver(nexthop, ["u2@example.com"],
                                         sender="a@b.test>\nRCPT TO:<evil@example.com")
            self.assertEqual(results["u2@example.com"]["dsn_status"], "4.3.0")
            self.assertIn("sender address contains a control character", log)
            cap.settle(0.5)
            # The next hop saw only the good recipient, and no "evil" at all.
            self.assertEqual(cap.rcpt_commands, ["ok@example.com"])
            self.assertEqual([e.mail_from for e in cap.messages], ["a@sender.test"])


if __name__ == "__main__":
    unittest.main()
