"""test_bounce - delivery status notifications from the bounce service.

The whole pipeline runs (master, smtpd, qmgr, smtp, bounce): mail for
example.com goes to an aiosmtpd server that refuses recipients named
bad*, the sender's domain sender.test goes to a capture server, where the
notification arrives; Python's email package parses it.
"""
import email
import email.policy
import os
import re
import smtplib
import sys
import time
import unittest

from mta import MTA, free_port, wait_for

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_smtp import Capture  # noqa: E402
from test_postqueue import write_msg, queue_path, _owner  # noqa: E402


def bounce_request(m, request, queue, qid):
    """One request to private/bounce, as lib/global/bounce_client.c sends it."""
    import socket
    path = os.path.join(m.queue_dir, "private", "bounce")
    # master makes the service sockets one by one: smtpd may listen first.
    wait_for(lambda: os.path.exists(path), 30, what="private/bounce")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(b"request\0%s\0queue_name\0%s\0queue_id\0%s\0\0"
                  % (request.encode(), queue.encode(), qid.encode()))
        data = b""
        while not data.endswith(b"\0\0"):
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
    return data


def write_log(m, log, qid, entries):
    p = queue_path(m.queue_dir, log, qid)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "a") as f:
        for e in entries:
            f.write("".join("%s=%s\n" % kv for kv in e.items()) + "\n")
    # Owned by the mail system, as when qmgr writes it.
    if os.getuid() == 0:
        pw = _owner()
        os.chown(os.path.dirname(p), pw.pw_uid, pw.pw_gid)
        os.chown(p, pw.pw_uid, pw.pw_gid)


class BounceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.downstream = Capture("127.0.0.1", free_port(), name="downstream")
        cls.senders = Capture("127.0.0.1", free_port(), name="senders")

    @classmethod
    def tearDownClass(cls):
        cls.downstream.stop()
        cls.senders.stop()

    def start(self, **main_cf):
        params = {"transport_maps": "texthash:${config_directory}/transport",
                  "notify_classes": "resource, software"}
        params.update(main_cf)
        m = MTA(main_cf=params, start=False)
        self.addCleanup(m.cleanup)
        m.write("transport",
                "example.com smtp:[127.0.0.1]:%d\n" % self.downstream.controller.port
                + "sender.test smtp:[127.0.0.1]:%d\n" % self.senders.controller.port
                + "dead.test smtp:[127.0.0.1]:%d\n" % free_port())
        m.set_main(config_directory=m.config_dir)
        m.start()
        return m

    def send(self, m, sender, rcpts, subject="test", body="hello\r\n", **kw):
        with smtplib.SMTP(m.addr, m.smtp_port, timeout=30) as s:
            s.sendmail(sender, rcpts, "From: <%s>\r\nSubject: %s\r\nMessage-Id: <%s@sender.test>\r\n\r\n%s"
                       % (sender or "nobody@sender.test", subject, subject.replace(" ", "."), body), **kw)

    def dsns_for(self, rcpt):
        return [msg for msg in self.senders.messages if rcpt in msg["to"]]

    def test_5xx_produces_one_dsn(self):
        m = self.start()
        self.send(m, "alice@sender.test", ["bad1@example.com", "good@example.com"],
                  subject="bounce me")
        m.wait_log(r"sender non-delivery notification: [0-9A-F]+", timeout=30)
        got = wait_for(lambda: self.dsns_for("alice@sender.test"), 30, what="the DSN")
        time.sleep(0.5)
        self.assertEqual(len(self.dsns_for("alice@sender.test")), 1)
        dsn = got[0]
        if os.environ.get("SHOW_DSN"):
            print(dsn["data"].decode())
        self.assertIn(dsn["from"], ("", "<>"))
        msg = email.message_from_bytes(dsn["data"], policy=email.policy.compat32)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        self.assertIn("MAILER-DAEMON", msg["From"])
        parts = msg.get_payload()
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "message/delivery-status", "message/rfc822"])
        self.assertIn("bad1@example.com", parts[0].get_payload())
        status = parts[1].get_payload()   # list of header blocks
        per_msg, per_rcpt = status[0], status[1:]
        self.assertEqual(per_msg["Reporting-MTA"], "dns; mx.test.invalid")
        self.assertTrue(per_msg["Arrival-Date"])
        self.assertEqual(len(per_rcpt), 1)
        r = per_rcpt[0]
        self.assertEqual(r["Final-Recipient"], "rfc822; bad1@example.com")
        self.assertEqual(r["Action"], "failed")
        self.assertEqual(r["Status"], "5.1.1")
        self.assertIn("550 5.1.1", r["Diagnostic-Code"])
        self.assertNotIn("smtp; smtp;", r["Diagnostic-Code"])
        self.assertTrue(r["Diagnostic-Code"].startswith("smtp;"))
        self.assertIn("127.0.0.1", r["Remote-MTA"])
        original = parts[2].get_payload()[0]
        self.assertEqual(original["Subject"], "bounce me")
        self.assertIn("hello", original.get_payload())
        # the good recipient was delivered, and the original is gone
        wait_for(lambda: not m.queue_files("active") and not m.queue_files("deferred")
                 and not m.queue_files("incoming"), 20, what="an empty queue")

    def test_ret_hdrs_and_orcpt(self):
        m = self.start()
        self.send(m, "bob@sender.test", ["bad2@example.com"], subject="headers only",
                  mail_options=["RET=HDRS", "ENVID=env42"],
                  rcpt_options=["NOTIFY=FAILURE", "ORCPT=rfc822;orig-bad2@example.com"])
        got = wait_for(lambda: self.dsns_for("bob@sender.test"), 30, what="the DSN")
        msg = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        parts = msg.get_payload()
        self.assertEqual(parts[2].get_content_type(), "text/rfc822-headers")
        self.assertIn("Subject: headers only", parts[2].get_payload())
        self.assertNotIn("hello", parts[2].get_payload())
        per_msg, r = parts[1].get_payload()[0], parts[1].get_payload()[1]
        self.assertEqual(per_msg["Original-Envelope-Id"], "env42")
        self.assertEqual(r["Original-Recipient"], "rfc822;orig-bad2@example.com")

    def test_bounce_size_limit(self):
        m = self.start(bounce_size_limit="1000")
        self.send(m, "hal@sender.test", ["bad7@example.com"], subject="too big",
                  body="y" * 70 + "\r\n" + ("z" * 70 + "\r\n") * 60)
        got = wait_for(lambda: self.dsns_for("hal@sender.test"), 30, what="the DSN")
        msg = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        part = msg.get_payload()[2]
        self.assertEqual(part.get_content_type(), "text/rfc822-headers")
        self.assertIn("Subject: too big", part.get_payload())
        self.assertNotIn("zzz", part.get_payload())

    def test_null_sender_never_bounces(self):
        m = self.start()
        self.send(m, "", ["bad3@example.com"], subject="null sender")
        m.wait_log(r"discarded \(double bounce\)", timeout=30)
        m.wait_log(r"removed", timeout=10)
        time.sleep(1)
        self.assertEqual([d for d in self.senders.messages if "bad3" in d["data"].decode()], [])
        self.assertNotRegex(m.log(), r"sender non-delivery notification")

    def test_notify_never(self):
        m = self.start()
        self.send(m, "carol@sender.test", ["bad4@example.com"], subject="never",
                  rcpt_options=["NOTIFY=NEVER"])
        m.wait_log(r"removed", timeout=30)
        time.sleep(1)
        self.assertEqual(self.dsns_for("carol@sender.test"), [])

    def test_expired_lifetime_bounces(self):
        m = self.start(maximal_queue_lifetime="3s", bounce_queue_lifetime="3s")
        self.send(m, "dave@sender.test", ["someone@dead.test"], subject="expire me")
        got = wait_for(lambda: self.dsns_for("dave@sender.test"), 60, what="the DSN")
        m.wait_log(r"sender non-delivery notification: [0-9A-F]+")
        wait_for(lambda: not m.queue_files("deferred") and not m.queue_files("active")
                 and not m.queue_files("incoming"), 30, what="an empty queue")
        self.assertEqual(len(self.dsns_for("dave@sender.test")), 1)
        msg = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        r = msg.get_payload()[1].get_payload()[1]
        self.assertEqual(r["Final-Recipient"], "rfc822; someone@dead.test")
        self.assertEqual(r["Action"], "failed")
        self.assertTrue(r["Status"].startswith("4.") or r["Status"].startswith("5."))

    def test_notify_classes_copies(self):
        m = self.start(notify_classes="bounce, 2bounce, resource, software",
                       bounce_notice_recipient="pm@sender.test",
                       **{"2bounce_notice_recipient": "pm2@sender.test"})
        self.send(m, "gina@sender.test", ["bad5@example.com"], subject="copy me")
        self.send(m, "", ["bad6@example.com"], subject="double")
        got = wait_for(lambda: self.dsns_for("pm@sender.test"), 30, what="the postmaster copy")
        m.wait_log(r"postmaster non-delivery notification: [0-9A-F]+", count=2)
        # The sender's own DSN is a separate message, delivered on its own.
        self.assertTrue(wait_for(lambda: self.dsns_for("gina@sender.test"), 60,
                                 what="the sender DSN"))
        copy = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        self.assertEqual(copy.get_payload()[2].get_content_type(), "text/rfc822-headers")
        self.assertNotEqual(got[0]["from"], "<>")
        dbl = wait_for(lambda: self.dsns_for("pm2@sender.test"), 30, what="the double bounce")
        msg = email.message_from_bytes(dbl[0]["data"], policy=email.policy.compat32)
        r = msg.get_payload()[1].get_payload()[1]
        self.assertEqual(r["Final-Recipient"], "rfc822; bad6@example.com")

    def test_delay_warning_service(self):
        """bounce_warn: what qmgr asks for after delay_warning_time."""
        m = self.start()
        qid = "ABC1234567"
        write_msg(m.queue_dir, "hold", qid, "erin@sender.test", ["slow@example.com", "late@example.com"],
                  message="Subject: slow one\r\n\r\nbody text\r\n")
        write_log(m, "defer", qid, [
            {"recipient": "slow@example.com", "offset": 0, "notify": 0, "status": "4.4.1",
             "action": "delayed", "reason": "connect to x[1.2.3.4]:25: Connection refused", "time": 1},
            {"recipient": "late@example.com", "offset": 0, "notify": 2, "status": "4.4.1",
             "action": "delayed", "reason": "no DELAY asked", "time": 1}])
        self.assertEqual(bounce_request(m, "warn", "hold", qid), b"status\x000\x00\x00")
        m.wait_log(r"%s: sender delay notification: [0-9A-F]+" % qid)
        got = wait_for(lambda: self.dsns_for("erin@sender.test"), 30, what="the warning")
        msg = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        self.assertEqual(msg["Subject"], "Delayed Mail (still being retried)")
        parts = msg.get_payload()
        self.assertEqual(parts[2].get_content_type(), "text/rfc822-headers")
        rcpts = parts[1].get_payload()[1:]
        self.assertEqual([r["Final-Recipient"] for r in rcpts], ["rfc822; slow@example.com"])
        self.assertEqual(rcpts[0]["Action"], "delayed")
        self.assertTrue(rcpts[0]["Will-Retry-Until"])
        # the defer log stays: postqueue -p still shows the reason
        self.assertTrue(os.path.exists(queue_path(m.queue_dir, "defer", qid)))

    def test_delay_warning_end_to_end(self):
        """delay_warning_time = 1s, primary down: one delayed DSN, never a second."""
        m = self.start(delay_warning_time="1s")
        self.send(m, "ivy@sender.test", ["waits@dead.test"], subject="delay me")
        self.send(m, "", ["nullwaits@dead.test"], subject="null delay")
        got = wait_for(lambda: self.dsns_for("ivy@sender.test"), 60, what="the delay warning")
        msg = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        parts = msg.get_payload()
        rcpts = parts[1].get_payload()[1:]
        self.assertEqual([r["Final-Recipient"] for r in rcpts], ["rfc822; waits@dead.test"])
        self.assertEqual(rcpts[0]["Action"], "delayed")
        self.assertTrue(rcpts[0]["Status"].startswith("4."))
        # later retries (back-off 2s..4s) send no second warning
        m.wait_log(r"to=<waits@dead.test>.*status=deferred", count=4, timeout=60)
        self.assertEqual(len(self.dsns_for("ivy@sender.test")), 1)
        self.assertEqual(len(re.findall(r"sender delay notification", m.log())), 1)
        # the message stays queued; the null sender got no warning
        self.assertEqual(len(m.queue_files("deferred")) + len(m.queue_files("active")), 2)

    def test_success_notice_end_to_end(self):
        """NOTIFY=SUCCESS relayed to a server without DSN: one success notice."""
        m = self.start()
        self.send(m, "jo@sender.test", ["fine@example.com", "quiet@example.com"],
                  subject="tell me", rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        got = wait_for(lambda: self.dsns_for("jo@sender.test"), 30, what="the success notice")
        m.wait_log(r"sender delivery status notification: [0-9A-F]+")
        wait_for(lambda: not m.queue_files("active") and not m.queue_files("deferred")
                 and not m.queue_files("incoming"), 20, what="an empty queue")
        self.assertEqual(len(self.dsns_for("jo@sender.test")), 1)
        self.assertTrue([d for d in self.downstream.messages if b"tell me" in d["data"]])
        msg = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        rcpts = msg.get_payload()[1].get_payload()[1:]
        self.assertEqual(sorted(r["Final-Recipient"] for r in rcpts),
                         ["rfc822; fine@example.com", "rfc822; quiet@example.com"])
        self.assertEqual({(r["Action"], r["Status"]) for r in rcpts}, {("relayed", "2.0.0")})

    def test_no_success_notice_without_notify(self):
        m = self.start()
        self.send(m, "kim@sender.test", ["plain@example.com"], subject="no notice")
        m.wait_log(r"removed", timeout=30)
        time.sleep(1)
        self.assertEqual(self.dsns_for("kim@sender.test"), [])
        self.assertNotRegex(m.log(), r"delivery status notification")

    def test_success_notice_service(self):
        m = self.start()
        qid = "ABC7654321"
        write_msg(m.queue_dir, "hold", qid, "fay@sender.test", [("ok@example.com", True)])
        write_log(m, "bounce", qid, [
            {"recipient": "ok@example.com", "offset": 0, "notify": 2, "status": "2.0.0",
             "action": "relayed", "reason": "250 ok", "remote_mta": "mx.example.com", "time": 1}])
        self.assertEqual(bounce_request(m, "success", "hold", qid), b"status\x000\x00\x00")
        got = wait_for(lambda: self.dsns_for("fay@sender.test"), 30, what="the success notice")
        msg = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        r = msg.get_payload()[1].get_payload()[1]
        self.assertEqual((r["Action"], r["Status"], r["Remote-MTA"]),
                         ("relayed", "2.0.0", "dns; mx.example.com"))
        # Asked again (qmgr retries a message whose failure notice could
        # not be sent): the recipient was notified once, and only once.
        self.assertEqual(bounce_request(m, "success", "hold", qid), b"status\x000\x00\x00")
        time.sleep(2)
        self.assertEqual(len(self.dsns_for("fay@sender.test")), 1)
        self.assertEqual(bounce_request(m, "nonsense", "hold", qid), b"status\x001\x00\x00")


if __name__ == "__main__":
    unittest.main()
