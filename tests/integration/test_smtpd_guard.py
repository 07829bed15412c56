"""smtpd: what is refused before a command runs - improper pipelining
(smtpd_forbid_unauth_pipelining, on by default here), junk commands,
forbidden and non-SMTP commands, smtpd_noop_commands,
smtpd_command_filter, over-long command lines. Replies and log lines are
Debian Postfix 3.7.11's (run on a loopback port with the same input),
except where a comment says we are stricter."""
import re
import socket
import threading
import time
import unittest

from smtpd_util import Client, incoming, smtpd_mta


class SlowPolicy:
    """A policy server that answers DUNNO after a pause, so that the
    greeting waits (smtpd_delay_reject = no) and a client can talk first."""

    def __init__(self, pause=0.5):
        self.pause = pause
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn, conn.makefile("rb") as f:
            while True:
                line = f.readline()
                if not line:
                    return
                if line.strip():
                    continue
                time.sleep(self.pause)
                conn.sendall(b"action=DUNNO\n\n")

    def stop(self):
        self.sock.close()


def replies(c, n):
    return [c.reply() for _ in range(n)]


class ForbidUnauthPipelining(unittest.TestCase):
    """smtpd_forbid_unauth_pipelining = yes, our default (Postfix 3.7.10's
    "no"; yes since 3.9): "554 5.5.0 Error: SMTP protocol synchronization"."""

    @classmethod
    def setUpClass(cls):
        cls.m = smtpd_mta(relay_domains="example.com", smtpd_error_sleep_time="0")

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def count(self, pattern):
        return len(re.findall(pattern, self.m.log()))

    def session_log(self, pattern, before):
        self.m.wait_log(pattern, count=before + 1)

    def refused(self, c, first_reply=None):
        self.assertEqual(first_reply or c.reply(), "554 5.5.0 Error: SMTP protocol synchronization")
        self.assertTrue(c.closed())

    def test_commands_pipelined_after_helo(self):
        for verb in ("HELO", "EHLO"):
            done = r"disconnect from localhost\[127\.0\.0\.1\] %s=0/1 commands=0/1" % verb.lower()
            before = self.count(done)
            c = Client(self.m.smtp_port)
            c.send("%s client.test\r\nMAIL FROM:<a@b.test>\r\n" % verb)
            # Postfix: the HELO/EHLO does not run; only the 554 comes back.
            self.refused(c)
            self.m.wait_log(r"improper command pipelining after %s from localhost\[127\.0\.0\.1\]: "
                            r"MAIL FROM:<a@b\.test>\\r\\n\n" % verb)
            self.session_log(done, before)

    def test_pipelining_without_ehlo(self):
        done = r"disconnect from localhost\[127\.0\.0\.1\] mail=0/1 commands=0/1"
        before = self.count(done)
        c = Client(self.m.smtp_port)
        c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\n")
        self.refused(c)
        self.m.wait_log(r"improper command pipelining after MAIL from localhost\[127\.0\.0\.1\]: "
                        r"RCPT TO:<u@example\.com>\\r\\n\n")
        self.session_log(done, before)

    def test_content_sent_before_354(self):
        before = len(incoming(self.m))
        c = Client(self.m.smtp_port)
        c.cmd("EHLO client.test")
        c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\nDATA\r\n"
               "Subject: x\r\n\r\nbody\r\n.\r\n")
        r = replies(c, 3)
        self.assertEqual(r[:2], ["250 2.1.0 Ok", "250 2.1.5 Ok"])
        self.refused(c, r[2])
        self.m.wait_log(r"improper command pipelining after DATA from localhost\[127\.0\.0\.1\]: "
                        r"Subject: x\\r\\n\\r\\nbody\\r\\n\.\\r\\n\n")
        self.m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 "
                        r"data=0/1 commands=3/4")
        self.assertEqual(len(incoming(self.m)), before)

    def test_legitimate_pipelining_client(self):
        before = len(incoming(self.m))
        c = Client(self.m.smtp_port)
        c.cmd("EHLO client.test")
        c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\nDATA\r\n")
        self.assertEqual(replies(c, 3), ["250 2.1.0 Ok", "250 2.1.5 Ok",
                                         "354 End data with <CR><LF>.<CR><LF>"])
        c.send("Subject: ok\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        r = replies(c, 2)
        self.assertRegex(r[0], r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$")
        self.assertEqual(r[1], "221 2.0.0 Bye")
        self.assertEqual(len(incoming(self.m)), before + 1)
        self.assertNotRegex(self.m.log(), r"improper command pipelining after (MAIL|RCPT|QUIT)")

    def test_talk_before_greeting(self):
        policy = SlowPolicy()
        self.addCleanup(policy.stop)
        m = smtpd_mta(smtpd_delay_reject="no",
                      smtpd_client_restrictions="check_policy_service inet:127.0.0.1:%d"
                      % policy.port)
        self.addCleanup(m.cleanup)
        s = socket.create_connection(("127.0.0.1", m.smtp_port))
        self.addCleanup(s.close)
        s.sendall(b"EHLO client.test\r\n")
        s.settimeout(10)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        # Postfix 3.7.11: no greeting, only the 554, then the connection closes.
        self.assertEqual(data, b"554 5.5.0 Error: SMTP protocol synchronization\r\n")
        m.wait_log(r"improper command pipelining after CONNECT from localhost\[127\.0\.0\.1\]: "
                   r"EHLO client\.test\\r\\n\n")
        m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] commands=0/0")


class NonSmtpCommands(unittest.TestCase):
    """smtpd_forbidden_commands (default "CONNECT GET POST
    regexp:{{/^[^A-Z]/ Bogus}}") and header lines sent as commands."""

    @classmethod
    def setUpClass(cls):
        cls.m = smtpd_mta(relay_domains="example.com", smtpd_error_sleep_time="0")

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def goodbye(self, line, logged, ehlo=True):
        c = Client(self.m.smtp_port)
        if ehlo:
            c.cmd("EHLO client.test")
        # Postfix 3.7: "221 2.7.0 Error: I can break rules, too. Goodbye."
        self.assertEqual(c.cmd(line), "221 2.7.0 Error: I can break rules, too. Goodbye.")
        self.assertTrue(c.closed())
        # Postfix: "warning: non-SMTP command from localhost[127.0.0.1]: LINE"
        self.m.wait_log(r"warning: non-SMTP command from localhost\[127\.0\.0\.1\]: %s\n"
                        % logged)

    def test_header_line(self):
        self.goodbye("Subject: hello\x1b[31m", r"Subject: hello\\033\[31m")
        self.m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 unknown=0/1 "
                        r"commands=1/2")

    def test_http_and_proxy_requests(self):
        self.goodbye("GET / HTTP/1.0", r"GET / HTTP/1\.0", ehlo=False)
        self.goodbye("POST /x HTTP/1.1", r"POST /x HTTP/1\.1", ehlo=False)
        self.goodbye("CONNECT mx.example:25 HTTP/1.0", r"CONNECT mx\.example:25 HTTP/1\.0",
                     ehlo=False)

    def test_bogus_first_character(self):
        self.goodbye("1234", r"1234")
        self.goodbye("<html>", r"<html>")

    def test_lower_case_commands_are_fine(self):
        c = Client(self.m.smtp_port)
        self.assertIn("250", c.cmd("ehlo client.test"))
        self.assertEqual(c.cmd("mail from:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("FOOBAR"), "500 5.5.2 Error: command not recognized")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")


class JunkNoopFilterLength(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.m = smtpd_mta(relay_domains="example.com", smtpd_error_sleep_time="0",
                          smtpd_junk_command_limit="2", smtpd_hard_error_limit="3",
                          smtpd_noop_commands="FOO, HELO", line_length_limit="600",
                          smtpd_command_filter="pcre:@CONFIG@/command_filter",
                          files={"command_filter": "/^NOOP FOO$/ RSET\n/^HELP$/ NOOP\n"})

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def test_junk_commands_become_errors(self):
        c = Client(self.m.smtp_port)
        # Postfix 3.7 with smtpd_junk_command_limit = 2 and
        # smtpd_hard_error_limit = 3: six NOOPs are answered, then
        # "421 4.7.0 mx.test.invalid Error: too many errors".
        for _ in range(6):
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertEqual(c.reply(), "421 4.7.0 mx.test.invalid Error: too many errors")
        self.assertTrue(c.closed())
        self.m.wait_log(r"too many errors after NOOP from localhost\[127\.0\.0\.1\]\n")
        self.m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] noop=6 commands=6\n")

    def test_junk_count_restarts_after_mail(self):
        c = Client(self.m.smtp_port)
        c.cmd("EHLO client.test")
        for _ in range(4):
            c.cmd("RSET")
        c.cmd("MAIL FROM:<a@b.test>")
        c.cmd("RCPT TO:<u@example.com>")
        c.cmd("DATA")
        self.assertRegex(c.cmd("Subject: j\r\n\r\nx\r\n."), r"^250 2\.0\.0 Ok: queued as ")
        # The 4th RSET counted as an error. After the mail the count starts
        # again, so three more junk commands are free (without the restart
        # they would be errors 2, 3, 4 and end the session).
        for _ in range(3):
            self.assertEqual(c.cmd("VRFY u@example.com"), "252 2.0.0 u@example.com")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")

    def test_noop_commands(self):
        c = Client(self.m.smtp_port)
        # Postfix: both "250 2.0.0 Ok", without syntax checks; not counted.
        self.assertEqual(c.cmd("FOO bar"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("HELO"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        self.m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] quit=1 commands=1\n")

    def test_command_filter(self):
        c = Client(self.m.smtp_port)
        self.assertEqual(c.cmd("NOOP FOO"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("HELP"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        # Postfix: 'localhost[127.0.0.1]: replacing command "NOOP FOO" with "RSET"'
        self.m.wait_log(r'localhost\[127\.0\.0\.1\]: replacing command "NOOP FOO" with "RSET"')
        self.m.wait_log(r'localhost\[127\.0\.0\.1\]: replacing command "HELP" with "NOOP"')
        self.m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] rset=1 noop=1 quit=1 "
                        r"commands=3\n")

    def test_over_long_line_is_not_run(self):
        c = Client(self.m.smtp_port)
        c.cmd("EHLO client.test")
        # Postfix runs the first 600 bytes ("250 2.0.0 Ok" for a long NOOP,
        # a truncated address for MAIL); we refuse the whole line.
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> " + "X" * 700),
                         "500 5.5.2 Error: line too long")
        # Postfix's warning, with the first 30 bytes of the line.
        self.m.wait_log(r"warning: localhost\[127\.0\.0\.1\]: request longer than 600: "
                        r"MAIL FROM:<a@b\.test> XXXXXXXXX\.\.\.\n")
        # The truncated MAIL did not run, and the rest of the line was no command.
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")


if __name__ == "__main__":
    unittest.main()
