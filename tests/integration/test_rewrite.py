"""test_rewrite.py - canonical maps, masquerading and dropped headers.

Debian's Postfix 3.7.11, relaying to a capture server, with
  sender_canonical_maps = inline:{alice@inside.test=alice.smith@example.com,
                                  @old.test=@new.test}
  recipient_canonical_maps = inline:{bob@dest.test=robert@dest.test}
  masquerade_domains = example.com
gave, for a client on 127.0.0.1 (in local_header_rewrite_clients):
  MAIL FROM:<alice.smith@example.com> RCPT TO:<robert@dest.test>
  From: Alice <alice.smith@example.com>
  Sender: x@new.test
  To: "Bob B" <robert@dest.test>, carol@example.com (Carol)
  Cc: group: robert@dest.test, dave@mx.test.invalid;, alice@inside.test
  Reply-To: alice@mx.test.invalid
and for a client on 127.0.0.2 (not in it) the same envelope but the
headers as they were sent. It dropped Bcc:, Resent-Bcc: and Return-Path:
(message_drop_headers). Postfix writes a rewritten header out again from
its tokens ("dave@mx.test.invalid;,"); we change only the addresses
("dave@mx.test.invalid ; ,"), which keeps the rest byte for byte.
"""
import smtplib
import unittest

from capture import Capture
from mta import MTA

MESSAGE = ("From: Alice <alice@inside.test>\r\n"
           "Sender: x@old.test\r\n"
           "To: \"Bob B\" <bob@dest.test>, carol@host.sub.example.com (Carol)\r\n"
           "Cc: group: bob@dest.test, dave ; , alice@inside.test\r\n"
           "Reply-To: alice\r\n"
           "Bcc: hidden@dest.test\r\n"
           "Return-Path: <forged@x.test>\r\n"
           "Subject: rewrite\r\n\r\nbody\r\n")


class Rewrite(unittest.TestCase):
    def setUp(self):
        self.cap = Capture()
        self.addCleanup(self.cap.stop)
        self.m = MTA(start=False, main_cf={
            "relay_domains": "dest.test",
            "sender_canonical_maps": "inline:{alice@inside.test=alice.smith@example.com, "
                                     "@old.test=@new.test}",
            "recipient_canonical_maps": "inline:{bob@dest.test=robert@dest.test}",
            "masquerade_domains": "example.com",
        })
        self.addCleanup(self.m.cleanup)
        self.m.write("transport", "dest.test relay:[127.0.0.1]:%d\n" % self.cap.port)
        self.m.set_main(transport_maps="texthash:" + self.m.path("transport"))
        self.m.start()

    def send(self, source):
        with smtplib.SMTP(self.m.addr, self.m.smtp_port, source_address=(source, 0)) as s:
            s.sendmail("alice@inside.test", ["bob@dest.test"], MESSAGE)
        env = self.cap.wait(1)[0]
        return env, env.content.decode()

    def test_local_client_envelope_and_headers(self):
        env, text = self.send("127.0.0.1")
        self.assertEqual((env.mail_from, env.rcpt_tos),
                         ("alice.smith@example.com", ["robert@dest.test"]))
        self.assertIn("From: Alice <alice.smith@example.com>\r\n", text)
        self.assertIn("Sender: x@new.test\r\n", text)
        self.assertIn('To: "Bob B" <robert@dest.test>, carol@example.com (Carol)\r\n', text)
        self.assertIn("Cc: group: robert@dest.test, dave@mx.test.invalid ; , "
                      "alice@inside.test\r\n", text)
        self.assertIn("Reply-To: alice@mx.test.invalid\r\n", text)
        for dropped in ("Bcc:", "Return-Path:"):
            self.assertNotIn(dropped, text)
        self.m.wait_log(r"to=<robert@dest\.test>, orig_to=<bob@dest\.test>, relay=127\.0\.0\.1"
                        r".*status=sent")
        self.m.wait_log(r"from=<alice\.smith@example\.com>, size=")

    def test_remote_client_envelope_only(self):
        env, text = self.send("127.0.0.2")
        self.assertEqual((env.mail_from, env.rcpt_tos),
                         ("alice.smith@example.com", ["robert@dest.test"]))
        for line in ("From: Alice <alice@inside.test>", "Sender: x@old.test",
                     "To: \"Bob B\" <bob@dest.test>, carol@host.sub.example.com (Carol)",
                     "Cc: group: bob@dest.test, dave ; , alice@inside.test",
                     "Reply-To: alice"):
            self.assertIn(line + "\r\n", text)
        self.assertNotIn("Bcc:", text)


class MissingHeaders(unittest.TestCase):
    """Debian's Postfix 3.7.11, for a client on 127.0.0.1: "Subject: bare"
    gets "Message-Id: <...>", "Date: ..." and "From: a@b.test"; with a
    "Resent-From:" header it gets "Resent-Message-Id: <...>" and
    "Resent-Date: ..." instead (and no From:); a client on 127.0.0.2 gets
    nothing added."""

    def setUp(self):
        self.cap = Capture()
        self.addCleanup(self.cap.stop)
        self.m = MTA(start=False, main_cf={"relay_domains": "dest.test"})
        self.addCleanup(self.m.cleanup)
        self.m.write("transport", "dest.test relay:[127.0.0.1]:%d\n" % self.cap.port)
        self.m.set_main(transport_maps="texthash:" + self.m.path("transport"))
        self.m.start()

    def headers(self, text, source="127.0.0.1"):
        with smtplib.SMTP(self.m.addr, self.m.smtp_port, source_address=(source, 0)) as s:
            s.sendmail("a@b.test", ["u@dest.test"], text)
        n = len(self.cap.messages) + 1
        content = self.cap.wait(n)[n - 1].content.decode()
        head = content.split("\r\n\r\n", 1)[0].split("\r\n")
        return [h.split(":", 1)[0] for h in head if h and not h[0].isspace()]

    def test_added_for_local_client(self):
        self.assertEqual(self.headers("Subject: bare\r\n\r\nhi\r\n"),
                         ["Received", "Subject", "Message-Id", "Date", "From"])

    def test_resent_forms(self):
        self.assertEqual(self.headers("Resent-From: x@y.test\r\nSubject: resent\r\n\r\nhi\r\n"),
                         ["Received", "Resent-From", "Subject", "Resent-Message-Id",
                          "Resent-Date"])

    def test_nothing_for_remote_client(self):
        self.assertEqual(self.headers("Subject: bare\r\n\r\nhi\r\n", source="127.0.0.2"),
                         ["Received", "Subject"])


if __name__ == "__main__":
    unittest.main()
