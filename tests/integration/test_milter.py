"""smtpd_milters: every milter action, checked on the client's reply, what
the next hop receives, the queue (hold) and the log; several milters in
order; protocol 2 and 6; macros; a milter that is down or too slow.

The milter is milter_server.py (the wire protocol, written for the tests).
Replies and log lines are Debian's Postfix 3.7.11's with the same milter:

  550 5.7.1 Command rejected
  451 4.7.1 Service unavailable - try again later
  QID: milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 5.7.1 Command
      rejected; from=<a@b.example> to=<c@example.com> proto=ESMTP helo=<client>
  QID: milter-discard: END-OF-MESSAGE from localhost[127.0.0.1]: milter triggers
      DISCARD action; from=<...> to=<...> proto=ESMTP helo=<client>
  QID: milter-hold: END-OF-MESSAGE from ...: milter triggers HOLD action; ...
  QID: milter-reject: RCPT from localhost[127.0.0.1]: 550 5.7.1 Command
      rejected; from=<a@b.example> to=<rcpt-reject@example.com> proto=ESMTP helo=<client>
  warning: connect to Milter service inet:127.0.0.1:PORT: Connection refused
  NOQUEUE: milter-reject: CONNECT from localhost[127.0.0.1]: 451 4.7.1 Service
      unavailable - try again later; proto=SMTP
  NOQUEUE: milter-reject: EHLO from localhost[127.0.0.1]: 451 4.7.1 Service
      unavailable - try again later; proto=SMTP helo=<client>

Header edits as Postfix's cleanup makes them (checked with postcat): the
milter does not see our Received: header; insheader at index 0 goes above
it; chgheader of a missing header adds it; an empty value deletes.
"""
import os
import re
import unittest

from capture import Capture
from milter_server import Milter, subject_policy, SMFIF_V2
from mta import MTA, free_port, wait_for
from smtpd_util import Client

TAIL = "from=<a@b.example> to=<c@example.com> proto=ESMTP helo=<client>"
QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$")


class MilterBase(unittest.TestCase):

    def setUp(self):
        self.cap = Capture()
        self.addCleanup(self.cap.stop)

    def milter(self, policy=subject_policy, **kw):
        ml = Milter(policy, **kw)
        self.addCleanup(ml.stop)
        return ml

    def mta(self, **main_cf):
        params = {"relay_domains": "example.com",
                  "transport_maps": "inline:{example.com=relay:[127.0.0.1]:%d}" % self.cap.port,
                  "smtpd_error_sleep_time": "0"}
        params.update(main_cf)
        m = MTA(main_cf=params)
        self.addCleanup(m.cleanup)
        return m

    def session(self, m, subject, rcpts=("c@example.com",), body="body line\r\n",
                extra_headers="X-Remove-Me: 1\r\n", helo="client"):
        """One message; returns (replies to RCPT..., reply to end of data)."""
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("EHLO %s" % helo).split("\n")[0], "250-mx.test.invalid")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")
        rr = [c.cmd("RCPT TO:<%s>" % r) for r in rcpts]
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        final = c.cmd("Subject: %s\r\n%s\r\n%s." % (subject, extra_headers, body))
        c.cmd("QUIT")
        return rr, final


class MilterActions(MilterBase):

    def test_reject_tempfail_custom_at_end_of_message(self):
        ml = self.milter()
        m = self.mta(smtpd_milters=ml.spec)
        for subj, reply, logged in (
                ("reject", "550 5.7.1 Command rejected", "5.7.1 Command rejected"),
                ("tempfail", "451 4.7.1 Service unavailable - try again later",
                 "4.7.1 Service unavailable - try again later"),
                ("custom", "554 5.7.0 custom milter reply", "5.7.0 custom milter reply"),
                ("custom4", "452 4.3.2 try later please", "4.3.2 try later please")):
            _, final = self.session(m, subj)
            self.assertEqual(final, reply)
            m.wait_log(r"[0-9A-F]+: milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: "
                       + re.escape(logged + "; " + TAIL))
        self.cap.settle(1.5)
        self.assertEqual(self.cap.messages, [])
        self.assertEqual(m.queue_files("incoming") + m.queue_files("hold"), [])

    def test_envelope_stage_replies(self):
        ml = self.milter()
        m = self.mta(smtpd_milters=ml.spec)
        rr, final = self.session(m, "plain", rcpts=("c@example.com", "rcpt-reject@example.com",
                                                    "rcpt-tempfail@example.com",
                                                    "rcpt-custom@example.com"))
        self.assertEqual(rr, ["250 2.1.5 Ok", "550 5.7.1 Command rejected",
                              "451 4.7.1 Service unavailable - try again later",
                              "553 5.1.8 custom rcpt text"])
        self.assertTrue(QUEUED.match(final), final)
        qid = QUEUED.match(final).group(1)
        m.wait_log(qid + r": milter-reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.7\.1 "
                   r"Command rejected; from=<a@b\.example> to=<rcpt-reject@example\.com> "
                   r"proto=ESMTP helo=<client>")
        got = self.cap.wait(1)
        self.assertEqual(got[0].rcpt_tos, ["c@example.com"])
        # MAIL and HELO refusals.
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("HELO helo-reject"), "550 5.7.1 Command rejected")
        c.cmd("EHLO client")
        self.assertEqual(c.cmd("MAIL FROM:<mail-reject@b.example>"),
                         "550 5.7.1 sender refused by milter")
        m.wait_log(r"NOQUEUE: milter-reject: MAIL from localhost\[127\.0\.0\.1\]: 550 5\.7\.1 "
                   r"sender refused by milter; from=<mail-reject@b\.example> proto=ESMTP "
                   r"helo=<client>")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")

    def test_discard_and_quarantine(self):
        ml = self.milter()
        m = self.mta(smtpd_milters=ml.spec)
        _, final = self.session(m, "discard")
        self.assertTrue(QUEUED.match(final), final)
        m.wait_log(QUEUED.match(final).group(1) + r": milter-discard: END-OF-MESSAGE from "
                   r"localhost\[127\.0\.0\.1\]: milter triggers DISCARD action; " + re.escape(TAIL))
        _, final = self.session(m, "quarantine")
        qid = QUEUED.match(final).group(1)
        m.wait_log(qid + r": milter-hold: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: "
                   r"milter triggers HOLD action; " + re.escape(TAIL))
        # Held as postsuper -h holds: in hold/, complete, not delivered;
        # the milter's change (the file was rewritten) is in it.
        self.assertEqual(m.queue_files("hold"), [qid])
        self.assertEqual(os.listdir(os.path.join(m.queue_dir, "incoming")), [])
        held = os.path.join(m.queue_dir, "hold", qid)
        self.assertTrue(os.stat(held).st_mode & 0o100)
        self.assertIn(b"\r\nX-Quarantined: yes\r\n", open(held, "rb").read())
        self.cap.settle(2)
        self.assertEqual(self.cap.messages, [])
        # It is an ordinary held message: postsuper releases it.
        r = m.command("postsuper", "-H", qid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "postsuper: %s: released from hold\n"
                         "postsuper: Released from hold: 1 message\n" % qid)
        self.assertEqual(m.queue_files("hold"), [])

    def test_header_and_body_edits_arrive(self):
        ml = self.milter()
        m = self.mta(smtpd_milters=ml.spec)
        texts = {}
        for subj in ("addheader", "insheader", "chgheader", "delheader", "replbody",
                     "progress"):
            _, final = self.session(m, subj)
            self.assertTrue(QUEUED.match(final), (subj, final))
        msgs = self.cap.wait(6)
        for e in msgs:
            data = e.content.decode()
            subj = re.search(r"^Subject: (.*)$", data, re.M).group(1).strip()
            texts[subj] = data
        self.assertIn("\r\nX-Milter-Added: added value\r\n\r\nbody line\r\n",
                      texts["addheader"])
        self.assertTrue(texts["insheader"].startswith("X-Milter-First: at the top\r\nReceived: "),
                        texts["insheader"][:200])
        self.assertIn("changed subject", texts)
        self.assertNotIn("X-Remove-Me", texts["delheader"])
        self.assertTrue(texts["replbody"].endswith("\r\n\r\nreplaced body line 1\r\nline 2\r\n"),
                        texts["replbody"])
        self.assertIn("\r\nX-After-Progress: 1\r\n", texts["progress"])

    def test_envelope_edits_arrive(self):
        ml = self.milter()
        m = self.mta(smtpd_milters=ml.spec)
        self.session(m, "chgfrom")
        self.session(m, "addrcpt")
        self.session(m, "delrcpt", rcpts=("c@example.com", "d@example.com"))
        msgs = self.cap.wait(3)
        self.cap.settle(1)
        by_subject = {}
        for e in self.cap.messages:
            subj = re.search(rb"^Subject: (.*)$", e.content, re.M).group(1).strip().decode()
            by_subject.setdefault(subj, []).append(e)
        self.assertEqual(by_subject["chgfrom"][0].mail_from, "new-sender@example.org")
        self.assertEqual(sorted(r for e in by_subject["addrcpt"] for r in e.rcpt_tos),
                         ["added@example.com", "c@example.com"])
        self.assertEqual([r for e in by_subject["delrcpt"] for r in e.rcpt_tos],
                         ["d@example.com"])
        self.assertEqual(len(msgs), 3)


class MilterChain(MilterBase):

    def test_each_milter_sees_the_previous_edits(self):
        first = self.milter(lambda stage, info: [
            ("chgheader", 1, "Subject", "from first"), ("addheader", "X-First", "1"),
            "continue"] if stage == "eom" else "continue")

        def second_policy(stage, info):
            if stage != "eom":
                return "continue"
            hdrs = dict(info["headers"])
            return [("addheader", "X-Second-Saw",
                     "%s/%s" % (hdrs.get("Subject"), hdrs.get("X-First"))), "accept"]
        second = self.milter(second_policy)
        m = self.mta(smtpd_milters="%s, %s" % (first.spec, second.spec))
        _, final = self.session(m, "orig")
        self.assertTrue(QUEUED.match(final), final)
        data = self.cap.wait(1)[0].content.decode()
        self.assertIn("Subject: from first\r\n", data)
        self.assertIn("X-Second-Saw: from first/1\r\n", data)
        # Neither milter saw our Received: header.
        for ml in (first, second):
            names = [i["name"] for i in ml.find("header")]
            self.assertNotIn("Received", names)
            self.assertEqual(names[0], "Subject")

    def test_reject_by_second_stops_and_queues_nothing(self):
        first = self.milter(lambda stage, info: [("addheader", "X-First", "1"), "continue"]
                            if stage == "eom" else "continue")
        second = self.milter(lambda stage, info: "reject" if stage == "eom" else "continue")
        m = self.mta(smtpd_milters="%s %s" % (first.spec, second.spec))
        _, final = self.session(m, "x")
        self.assertEqual(final, "550 5.7.1 Command rejected")
        self.cap.settle(1.5)
        self.assertEqual(self.cap.messages, [])
        # The rewritten spool file is gone too.
        self.assertEqual(os.listdir(os.path.join(m.queue_dir, "incoming")), [])


class MilterProtocol(MilterBase):

    def test_macros(self):
        ml = self.milter(lambda stage, info: "continue")
        m = self.mta(smtpd_milters=ml.spec)
        _, final = self.session(m, "x", rcpts=("c@example.com", "d@example.com"))
        qid = QUEUED.match(final).group(1)
        conn = ml.find("connect")[-1]
        self.assertEqual(conn["hostname"], "localhost")
        self.assertEqual(conn["family"], "4")
        self.assertEqual(conn["address"], "127.0.0.1")
        mac = conn["macros"]
        self.assertEqual(mac["j"], "mx.test.invalid")
        self.assertEqual(mac["{daemon_name}"], "mx.test.invalid")
        self.assertEqual(mac["{daemon_addr}"], "127.0.0.1")
        self.assertEqual(mac["_"], "localhost [127.0.0.1]")
        self.assertTrue(mac["v"].startswith("Postfix "), mac)
        mail = ml.find("mail")[-1]
        self.assertEqual(mail["args"], ["<a@b.example>"])
        self.assertEqual(mail["macros"], {"{mail_addr}": "a@b.example",
                                          "{mail_host}": "b.example",
                                          "{mail_mailer}": "smtp"})
        rcpts = ml.find("rcpt")
        # As Postfix: no queue ID before the first recipient is accepted.
        self.assertEqual(rcpts[-2]["macros"], {"{rcpt_addr}": "c@example.com",
                                               "{rcpt_host}": "[127.0.0.1]:%d" % self.cap.port,
                                               "{rcpt_mailer}": "relay"})
        self.assertEqual(rcpts[-1]["macros"]["i"], qid)
        self.assertEqual(ml.find("data")[-1]["macros"], {"i": qid})
        self.assertEqual(ml.find("eom")[-1]["macros"], {"i": qid})
        self.assertEqual(ml.find("eoh")[-1]["macros"], {"i": qid})
        # Header values as Postfix sends them: no leading space, "\n" folds.
        self.assertEqual([(i["name"], i["value"]) for i in ml.find("header")][:2],
                         [("Subject", "x"), ("X-Fold", "a\n b")])

    def test_protocol_2(self):
        ml = self.milter(subject_policy, version=2, actions=SMFIF_V2)
        m = self.mta(smtpd_milters=ml.spec, milter_protocol="2")
        _, final = self.session(m, "addheader")
        self.assertTrue(QUEUED.match(final), final)
        self.assertEqual(ml.optneg[-1][0], 2)
        self.assertEqual(ml.optneg[-1][1], 0x3f)
        self.assertNotIn("data", ml.stages())          # no DATA event before v4
        self.assertIn("X-Milter-Added: added value", self.cap.wait(1)[0].content.decode())
        _, final = self.session(m, "reject")
        self.assertEqual(final, "550 5.7.1 Command rejected")

    def test_protocol_6_macro_lists_and_no_header_reply(self):
        ml = self.milter(subject_policy, symlists={2: "{mail_addr} {client_addr}"},
                         no_header_reply=True)
        m = self.mta(smtpd_milters="{ %s, protocol = 6 no_header_reply }" % ml.spec)
        _, final = self.session(m, "addheader")
        self.assertTrue(QUEUED.match(final), final)
        self.assertEqual(ml.optneg[-1][0], 6)
        self.assertEqual(ml.find("mail")[-1]["macros"],
                         {"{mail_addr}": "a@b.example", "{client_addr}": "127.0.0.1"})
        self.assertIn("X-Milter-Added: added value", self.cap.wait(1)[0].content.decode())

    def session(self, m, subject, **kw):
        kw.setdefault("extra_headers", "X-Fold: a\r\n b\r\n")
        return super().session(m, subject, **kw)


class MilterDown(MilterBase):

    def test_tempfail_when_down(self):
        port = free_port()
        m = self.mta(smtpd_milters="inet:127.0.0.1:%d" % port)
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        self.assertEqual(c.banner, "220 mx.test.invalid ESMTP Postfix")
        self.assertEqual(c.cmd("EHLO client"), "451 4.7.1 Service unavailable - try again later")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"),
                         "451 4.7.1 Service unavailable - try again later")
        self.assertEqual(c.cmd("RCPT TO:<c@example.com>"), "503 5.5.1 Error: need MAIL command")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        m.wait_log(r"warning: connect to Milter service inet:127\.0\.0\.1:%d: "
                   r"Connection refused" % port)
        m.wait_log(r"NOQUEUE: milter-reject: CONNECT from localhost\[127\.0\.0\.1\]: 451 4\.7\.1 "
                   r"Service unavailable - try again later; proto=SMTP\n")
        m.wait_log(r"NOQUEUE: milter-reject: MAIL from localhost\[127\.0\.0\.1\]: 451 4\.7\.1 "
                   r"Service unavailable - try again later; from=<a@b\.example> proto=ESMTP "
                   r"helo=<client>")
        self.assertEqual(m.queue_files("incoming"), [])

    def test_accept_when_down(self):
        port = free_port()
        m = self.mta(smtpd_milters="inet:127.0.0.1:%d" % port, milter_default_action="accept")
        _, final = self.session(m, "x")
        self.assertTrue(QUEUED.match(final), final)
        self.assertEqual(self.cap.wait(1)[0].rcpt_tos, ["c@example.com"])
        m.wait_log(r"warning: connect to Milter service inet:127\.0\.0\.1:%d: "
                   r"Connection refused" % port)

    def test_per_milter_default_action(self):
        port = free_port()
        m = self.mta(smtpd_milters="{ inet:127.0.0.1:%d, default_action=accept }" % port)
        _, final = self.session(m, "x")
        self.assertTrue(QUEUED.match(final), final)
        self.cap.wait(1)

    def test_quarantine_when_down(self):
        port = free_port()
        m = self.mta(smtpd_milters="inet:127.0.0.1:%d" % port, milter_default_action="quarantine")
        _, final = self.session(m, "x")
        qid = QUEUED.match(final).group(1)
        m.wait_log(r"NOQUEUE: milter-hold: CONNECT from localhost\[127\.0\.0\.1\]: milter "
                   r"triggers HOLD action; proto=SMTP")
        wait_for(lambda: m.queue_files("hold") == [qid], 10, what="message on hold")

    def test_timeout_uses_default_action(self):
        ml = self.milter(lambda stage, info: [("sleep", 3), "continue"] if stage == "mail"
                         else "continue")
        m = self.mta(smtpd_milters=ml.spec, milter_command_timeout="1s")
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"),
                         "451 4.7.1 Service unavailable - try again later")
        m.wait_log(r"warning: milter %s: error reading reply: timeout" % re.escape(ml.spec))

    def test_bad_setting_is_fatal(self):
        m = MTA(main_cf={"smtpd_milters": "{ inet:127.0.0.1:1, default_action=maybe }"},
                start=False)
        self.addCleanup(m.cleanup)
        m.start()
        c = None
        try:
            c = Client(m.smtp_port)
            c.sock.settimeout(5)
            self.assertTrue(c.closed())
        except (ConnectionError, EOFError, OSError):
            pass
        finally:
            if c:
                c.close()
        m.wait_log(r"fatal: bad default_action value in milter entry "
                   r"\"inet:127\.0\.0\.1:1, default_action=maybe\": maybe")


if __name__ == "__main__":
    unittest.main()
