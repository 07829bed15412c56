"""test_odmr - On-Demand Mail Relay (RFC 2645): odmr(8).

site.example and site2.example are relay domains routed to the odmr
transport, which is in defer_transports: their mail waits in deferred/
like ETRN mail. A customer site (Site below: an SMTP client until ATRN,
then an SMTP server on the same socket, as RFC 2645 section 5.3 says)
connects to the odmr service, authenticates through Dovecot's auth
service (a passwd-file), sends ATRN and receives the queued mail.
odmr_domain_maps says which login may pull which domains.

Postfix has no ODMR: the replies to ATRN are RFC 2645's (section 7);
AUTH replies and logs are Postfix's smtpd's (test_smtpd_sasl); the
delivery log lines have the form of Postfix's smtp agent's ("QID:
to=<...>, relay=host[addr]:port, delay=..., delays=a/b/c/d, dsn=2.0.0,
status=sent (250 ...)").
"""
import os
import re
import shutil
import smtplib
import socket
import tempfile
import threading
import time
import unittest

from mta import MTA, free_port, wait_for
from sasl_util import DovecotAuth, b64


class Site:
    """A customer site: client before ATRN, SMTP server after it."""

    def __init__(self, port, name="site.example", timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""
        self.name = name
        self.messages = []
        self.transcript = []
        self.banner = self.reply()

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; pending %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("latin-1")

    def reply(self):
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return "\n".join(lines)

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def cmd(self, text):
        self.send(text)
        return self.reply()

    def login(self, user, password):
        return self.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (user, password)))

    def serve(self, rcpt_reply=None):
        """Greet and take mail until QUIT or the end of the connection.
        rcpt_reply(address) may return a reply to refuse a recipient."""
        self.send("220 %s ESMTP test site" % self.name)
        env = None
        while True:
            try:
                line = self.line()
            except (EOFError, OSError):
                return
            self.transcript.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.send("250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 DSN" % self.name)
            elif verb == "MAIL":
                env = {"from": line[10:].split(">")[0].lstrip("<"), "to": []}
                self.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                address = line[8:].split(">")[0].lstrip("<")
                refused = rcpt_reply(address) if rcpt_reply else None
                if refused:
                    self.send(refused)
                else:
                    env["to"].append(address)
                    self.send("250 2.1.5 Ok")
            elif verb == "DATA":
                if not env or not env["to"]:
                    self.send("554 5.5.1 Error: no valid recipients")
                    continue
                self.send("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while True:
                    d = self.line()
                    if d == ".":
                        break
                    data.append(d[1:] if d.startswith(".") else d)
                env["data"] = "\r\n".join(data) + "\r\n"
                self.messages.append(env)
                self.send("250 2.0.0 Ok: queued at the site")
                env = None
            elif verb == "RSET":
                env = None
                self.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                return
            else:
                self.send("502 5.5.1 Error: command not implemented")

    def subjects(self):
        return sorted(re.search(r"Subject: (.*)\r\n", m["data"]).group(1)
                      for m in self.messages)

    def close(self):
        self.sock.close()


class Odmr(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="odmr-test-")
        os.chmod(cls.tmp, 0o755)
        cls.dovecot = DovecotAuth(cls.tmp, {"siteuser": "sitepw", "other": "otherpw",
                                            "nobody-site": "npw"})
        cls.domains = os.path.join(cls.tmp, "odmr_domains")
        with open(cls.domains, "w") as f:
            f.write("siteuser site.example, Site2.Example\n"
                    "other other.example\n")

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.odmr_port = free_port()
        self.m = MTA(main_cf={
            "relay_domains": "site.example, site2.example, other.example",
            "transport_maps": "inline:{site.example=odmr:, site2.example=odmr:, "
                              "other.example=odmr:}",
            "defer_transports": "odmr",
            "odmr_destination_concurrency_limit": "1",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": self.dovecot.socket,
            "odmr_domain_maps": "texthash:" + self.domains,
        }, extra_master_cf="127.0.0.1:%d inet n - n - - odmr\n"
                           "odmr unix - - n - - odmr\n" % self.odmr_port)
        self.addCleanup(self.m.cleanup)

    def queue(self, rcpts, subject, sender="a@sender.test"):
        with smtplib.SMTP(self.m.addr, self.m.smtp_port, timeout=30) as s:
            s.sendmail(sender, rcpts, "Subject: %s\r\n\r\nbody of %s\r\n" % (subject, subject))

    def wait_deferred(self, count):
        wait_for(lambda: len(self.m.queue_files("deferred")) == count
                 and not self.m.queue_files("incoming") and not self.m.queue_files("active"),
                 30, what="%d deferred messages" % count)

    def site(self, name="site.example"):
        s = Site(self.odmr_port, name)
        self.addCleanup(s.close)
        return s

    def test_atrn_delivers_queued_mail_once(self):
        self.queue(["u1@site.example"], "first")
        self.queue(["u2@site.example", "u3@site.example"], "second")
        self.wait_deferred(2)
        # Held like ETRN mail: "deferred transport" (as Postfix's defer_transports).
        self.m.wait_log(r"to=<u1@site\.example>, relay=none, .*dsn=4\.3\.2, "
                        r"status=deferred \(deferred transport\)")
        site = self.site()
        self.assertEqual(site.banner, "220 mx.test.invalid ESMTP Postfix")
        ehlo = site.cmd("EHLO site.example")
        # RFC 2645 5.1.1: the EHLO response includes AUTH and ATRN.
        self.assertEqual(ehlo.split("\n"), ["250-mx.test.invalid", "250-AUTH PLAIN LOGIN",
                                            "250-ENHANCEDSTATUSCODES", "250 ATRN"])
        self.assertEqual(site.login("siteuser", "sitepw"), "235 2.7.0 Authentication successful")
        # RFC 2645 section 6: "250 OK now reversing the connection"
        self.assertEqual(site.cmd("ATRN site.example"), "250 OK now reversing the connection")
        site.serve()
        self.assertEqual(site.subjects(), ["first", "second"])
        self.assertEqual(sorted(sum((m["to"] for m in site.messages), [])),
                         ["u1@site.example", "u2@site.example", "u3@site.example"])
        self.assertEqual(site.transcript[0], "EHLO mx.test.invalid")
        self.assertEqual(site.transcript[-1], "QUIT")
        # Delivered as the smtp agent delivers: one log line per recipient, then
        # qmgr removes the message.
        for rcpt in ("u1", "u2", "u3"):
            self.m.wait_log(r"postfix/odmr\[\d+\]: [0-9A-F]+: to=<%s@site\.example>, "
                            r"relay=localhost\[127\.0\.0\.1\]:\d+, (conn_use=\d+, )?delay=[\d.]+, "
                            r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
                            r"status=sent \(250 2\.0\.0 Ok: queued at the site\)" % rcpt)
        self.m.wait_log(r"postfix/qmgr\[\d+\]: [0-9A-F]+: removed", count=2)
        wait_for(lambda: self.m.command("postqueue", "-p").stdout == "Mail queue is empty\n",
                 30, what="an empty queue")
        self.m.wait_log(r"localhost\[127\.0\.0\.1\]: ATRN site\.example: "
                        r"sasl_username=siteuser, 2 messages")
        self.m.wait_log(r"postfix/odmr\[\d+\]: disconnect from localhost\[127\.0\.0\.1\] "
                        r"ehlo=1 auth=1 atrn=1 commands=3")
        # Once: the next ATRN finds nothing. RFC 2645: "453 You have no mail"
        again = self.site()
        again.cmd("EHLO site.example")
        again.login("siteuser", "sitepw")
        self.assertEqual(again.cmd("ATRN site.example"), "453 You have no mail")
        self.assertEqual(again.cmd("QUIT"), "221 2.0.0 Bye")

    def test_atrn_without_domains_pulls_all_of_the_login(self):
        self.queue(["a@site.example"], "one")
        self.queue(["b@SITE2.example"], "two")
        self.queue(["c@other.example"], "not yours")
        self.wait_deferred(3)
        site = self.site()
        site.cmd("EHLO site.example")
        site.login("siteuser", "sitepw")
        self.assertEqual(site.cmd("ATRN"), "250 OK now reversing the connection")
        site.serve()
        self.assertEqual(site.subjects(), ["one", "two"])
        wait_for(lambda: len(self.m.queue_files("deferred")) == 1
                 and not self.m.queue_files("active") and not self.m.queue_files("incoming"),
                 30, what="other.example's mail alone in the queue")

    def test_refusals(self):
        self.queue(["x@site.example"], "held")
        self.wait_deferred(1)
        site = self.site()
        site.cmd("EHLO site.example")
        # RFC 2645 7: "530 Authentication required"
        self.assertEqual(site.cmd("ATRN site.example"), "530 5.7.0 Authentication required")
        # A wrong password: smtpd's reply (Postfix 3.7 with Dovecot).
        self.assertEqual(site.login("siteuser", "wrong"),
                         "535 5.7.8 Error: authentication failed: (reason unavailable)")
        self.assertEqual(site.login("other", "otherpw"), "235 2.7.0 Authentication successful")
        # RFC 2645 7: "450 ATRN request refused" (a domain of another login)
        self.assertEqual(site.cmd("ATRN site.example"), "450 ATRN request refused")
        self.assertEqual(site.cmd("ATRN other.example,site.example"), "450 ATRN request refused")
        self.assertEqual(site.cmd("ATRN bad..name"), "501 5.5.4 Syntax: ATRN [domain[,domain]...]")
        self.assertEqual(site.cmd("MAIL FROM:<a@b.test>"),
                         "502 5.5.1 Error: command not implemented")
        self.assertEqual(site.cmd("QUIT"), "221 2.0.0 Bye")
        self.m.wait_log(r"warning: reject: ATRN site\.example from localhost\[127\.0\.0\.1\]: "
                        r"sasl_username=other may not pull site\.example")
        # A login without domains in odmr_domain_maps.
        site = self.site()
        site.login("nobody-site", "npw")
        self.assertEqual(site.cmd("ATRN"), "450 ATRN request refused")
        self.m.wait_log(r"warning: reject: ATRN \(all\) from localhost\[127\.0\.0\.1\]: "
                        r"sasl_username=nobody-site may pull no domain")
        # other.example has no mail.
        site = self.site()
        site.login("other", "otherpw")
        self.assertEqual(site.cmd("ATRN other.example"), "453 You have no mail")
        time.sleep(0.5)
        self.assertEqual(len(self.m.queue_files("deferred")), 1, "nothing was released")

    def test_one_session_per_domain(self):
        self.queue(["x@site.example"], "busy")
        self.wait_deferred(1)
        first = self.site()
        first.login("siteuser", "sitepw")
        self.assertEqual(first.cmd("ATRN site.example"), "250 OK now reversing the connection")
        # The first site has not greeted yet: it holds site.example.
        second = self.site()
        second.login("siteuser", "sitepw")
        # RFC 2645 7: "451 Unable to process ATRN request now"
        self.assertEqual(second.cmd("ATRN site.example"), "451 Unable to process ATRN request now")
        self.m.wait_log(r"localhost\[127\.0\.0\.1\]: ATRN site\.example: another session "
                        r"pulls site\.example now")
        first.serve()
        self.assertEqual(first.subjects(), ["busy"])

    def test_site_refusals_are_delivery_results(self):
        self.queue(["ok@site.example", "later@site.example", "bad@site.example"], "mixed")
        self.wait_deferred(1)
        site = self.site()
        site.login("siteuser", "sitepw")
        site.cmd("ATRN site.example")

        def refuse(address):
            if address.startswith("later"):
                return "450 4.2.0 <%s>: try again later" % address
            if address.startswith("bad"):
                return "550 5.1.1 <%s>: no such user" % address
            return None
        site.serve(refuse)
        self.assertEqual(site.messages[0]["to"], ["ok@site.example"])
        self.m.wait_log(r"to=<later@site\.example>, relay=localhost\[127\.0\.0\.1\]:\d+, .*"
                        r"dsn=4\.2\.0, status=deferred \(host localhost\[127\.0\.0\.1\] said: "
                        r"450 4\.2\.0 <later@site\.example>: try again later "
                        r"\(in reply to RCPT TO command\)\)")
        self.m.wait_log(r"to=<bad@site\.example>, relay=localhost\[127\.0\.0\.1\]:\d+, .*"
                        r"dsn=5\.1\.1, status=bounced \(host localhost\[127\.0\.0\.1\] said: "
                        r"550 5\.1\.1 <bad@site\.example>: no such user "
                        r"\(in reply to RCPT TO command\)\)")
        # The deferred one waits for the next ATRN, alone.
        wait_for(lambda: self.deferred_recipients() == ["later@site.example"]
                 and not self.m.queue_files("active"), 30, what="later@ to wait in the queue")
        site = self.site()
        site.login("siteuser", "sitepw")
        self.assertEqual(site.cmd("ATRN"), "250 OK now reversing the connection")
        site.serve()
        self.assertEqual([m["to"] for m in site.messages], [["later@site.example"]])
        # When the message is done, the failed one gets a DSN to its sender,
        # as after any delivery.
        self.m.wait_log(r"postfix/bounce\[\d+\]: [0-9A-F]+: sender non-delivery notification: ")

    def deferred_recipients(self):
        out = self.m.command("postqueue", "-p").stdout
        return [l.strip() for l in out.split("\n")[1:] if l.startswith(" ") and "@" in l]

    def test_released_without_session_waits_again(self):
        self.queue(["w@site.example"], "waits")
        self.wait_deferred(1)
        r = self.m.command("postqueue", "-f")
        self.assertEqual(r.returncode, 0)
        self.m.wait_log(r"to=<w@site\.example>, relay=none, .*dsn=4\.4\.1, status=deferred "
                        r"\(site\.example is not connected: its mail waits for ATRN\)")
        self.wait_deferred(1)

    def test_unclaimed_mail_expires(self):
        self.m.set_main(maximal_queue_lifetime="3s", bounce_queue_lifetime="3s")
        self.m.reload()
        time.sleep(1)
        self.queue(["gone@site.example"], "never pulled")
        # As any deferred mail (qmgr): "QID: from=<...>, status=expired, returned to sender"
        self.m.wait_log(r"[0-9A-F]+: from=<a@sender\.test>, status=expired, returned to sender",
                        timeout=60)


if __name__ == "__main__":
    unittest.main()
