"""test_qmgr_e2e - the whole pipeline: smtpd -> queue -> qmgr -> smtp -> capture.

master runs with its stock services (mta.MTA); the destination is an
aiosmtpd capture server on a loopback port, reached through
transport_maps nexthops "[127.0.0.1]:port" (no DNS). What is checked:
what arrives at the capture (each message exactly once), the log lines
an administrator reads, and the queue folders.
"""
import os
import re
import smtplib
import signal
import socket
import threading
import time
import unittest

from aiosmtpd.controller import Controller

from mta import MTA, free_port, wait_for


class Handler:
    """Captures messages; RCPT answers come from rcpt_reply(address)."""

    def __init__(self, rcpt_reply=None):
        self.rcpt_reply = rcpt_reply or (lambda a: None)
        self.messages = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_reply(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                  "data": envelope.original_content or envelope.content})
        return "250 2.0.0 Ok: captured"

    def tokens(self):
        with self.lock:
            out = []
            for m in self.messages:
                out += re.findall(rb"X-Token: (\S+)", m["data"])
            return [t.decode() for t in out]


class Capture:
    def __init__(self, port, rcpt_reply=None):
        self.port = port
        self.handler = Handler(rcpt_reply)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


def send(m, sender, rcpts, token, subject="test"):
    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nX-Token: %s\r\n\r\nbody of %s\r\n"
           % (sender, rcpts[0], subject, token, token))
    with smtplib.SMTP(m.addr, m.smtp_port, timeout=30) as s:
        s.ehlo("client.test")
        refused = s.sendmail(sender, rcpts, msg)
    return refused




def trigger_qmgr(m, data):
    """Write a trigger to public/qmgr; False while nobody listens yet."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(os.path.join(m.queue_dir, "public", "qmgr"))
        s.sendall(data)
        return True
    except OSError:
        return False
    finally:
        s.close()


def stat_regular(st):
    import stat
    return stat.S_ISREG(st.st_mode)


def make_due(m):
    past = time.time() - 60
    for root, _, names in os.walk(os.path.join(m.queue_dir, "deferred")):
        for n in names:
            os.utime(os.path.join(root, n), (past, past))


class EndToEnd(unittest.TestCase):
    def setUp(self):
        self.captures = []

    def tearDown(self):
        for c in self.captures:
            c.stop()

    def capture(self, port, rcpt_reply=None):
        c = Capture(port, rcpt_reply)
        self.captures.append(c)
        return c

    def mta(self, transport, extra_master_cf="", **main_cf):
        params = {"relay_domains": "example.com, relay.test"}
        params.update(main_cf)
        m = MTA(main_cf=params, start=False, extra_master_cf=extra_master_cf)
        m.write("transport", transport)
        m.set_main(transport_maps="texthash:" + m.path("transport"))
        m.start()
        return m

    def test_transport_map_routes(self):
        p1, p2, p3 = free_port(), free_port(), free_port()
        c1, c2, c3 = self.capture(p1), self.capture(p2), self.capture(p3)
        with self.mta("example.com        relay:[127.0.0.1]:%d\n"
                      ".example.com       relay:[127.0.0.1]:%d\n"
                      "vip@example.com    smtp:[127.0.0.1]:%d\n"
                      "nowhere.test       error:5.1.2 mail for nowhere.test is not accepted\n"
                      % (p1, p2, p3), relay_domains="example.com, relay.test, nowhere.test") as m:
            send(m, "a@sender.test", ["one@example.com"], "T1")
            send(m, "a@sender.test", ["two@sub.example.com"], "T2")
            send(m, "a@sender.test", ["vip@example.com"], "T3")
            wait_for(lambda: c1.handler.tokens() and c2.handler.tokens() and c3.handler.tokens(),
                     30, what="three deliveries")
            self.assertEqual(c1.handler.tokens(), ["T1"])
            self.assertEqual(c2.handler.tokens(), ["T2"])
            self.assertEqual(c3.handler.tokens(), ["T3"])
            m.wait_log(r"postfix/relay/smtp\[\d+\]: \w+: to=<one@example.com>, "
                       r"relay=127.0.0.1\[127.0.0.1\]:%d, .*status=sent" % p1)
            m.wait_log(r"postfix/smtp\[\d+\]: \w+: to=<vip@example.com>, .*status=sent" )
            m.wait_log(r"postfix/qmgr\[\d+\]: \w+: removed", count=3)
            # error: fails the recipient: smtpd may refuse it at RCPT as
            # Postfix does, or qmgr bounces it as postfix/error.
            try:
                refused = send(m, "a@sender.test", ["x@nowhere.test", "one@example.com"], "T4")
            except smtplib.SMTPRecipientsRefused as e:
                refused = e.recipients
            if "x@nowhere.test" in refused:
                self.assertIn(b"5.1.2", refused["x@nowhere.test"][1])
            else:
                m.wait_log(r"postfix/error\[\d+\]: \w+: to=<x@nowhere.test>, relay=none, "
                           r".*dsn=5.1.2, status=bounced \(mail for nowhere.test is not accepted\)")
            wait_for(lambda: c1.handler.tokens() == ["T1", "T4"], 30, what="T4 delivered")

    def test_bare_transport_keeps_recipient_domain(self):
        """transport(5)'s "slow:" form: that transport, the recipient domain as nexthop."""
        port = free_port()
        cap = self.capture(port)
        with self.mta("[127.0.0.1]   slow:\n",
                      extra_master_cf="slow      unix  -       -       n       -       -       smtp\n"
                                      "  -o smtp_tcp_port=%d -o syslog_name=postfix/slow\n" % port,
                      relayhost="[192.0.2.1]") as m:
            send(m, "a@sender.test", ["user@[127.0.0.1]"], "S1")
            m.wait_log(r"postfix/slow/smtp\[\d+\]: \w+: to=<user@\[127.0.0.1\]>, "
                       r"relay=127.0.0.1\[127.0.0.1\]:%d, .*status=sent" % port, timeout=30)
            self.assertEqual(cap.handler.tokens(), ["S1"])

    def test_4xx_deferred_and_retried_5xx_bounced(self):
        port = free_port()
        tries = {"n": 0}

        def reply(address):
            if address.startswith("soft"):
                tries["n"] += 1
                if tries["n"] == 1:
                    return "450 4.2.0 <%s>: mailbox busy" % address
            if address.startswith("hard"):
                return "550 5.1.1 <%s>: no such user" % address
            return None
        cap = self.capture(port, reply)
        with self.mta("relay.test relay:[127.0.0.1]:%d\n" % port) as m:
            send(m, "a@sender.test", ["soft@relay.test"], "S1")
            m.wait_log(r"\w+: to=<soft@relay.test>, relay=127.0.0.1\[127.0.0.1\]:%d, .*"
                       r"dsn=4.2.0, status=deferred \(host 127.0.0.1\[127.0.0.1\] said: "
                       r"450 4.2.0 <soft@relay.test>: mailbox busy" % port)
            # Retried after the back-off (minimal_backoff_time 2s).
            m.wait_log(r"\w+: to=<soft@relay.test>, .*status=sent", timeout=30)
            self.assertEqual(cap.handler.tokens(), ["S1"])
            self.assertEqual(tries["n"], 2)

            send(m, "a@sender.test", ["hard@relay.test"], "H1")
            m.wait_log(r"(\w+): to=<hard@relay.test>, .*dsn=5.1.1, status=bounced "
                       r"\(host 127.0.0.1\[127.0.0.1\] said: 550 5.1.1")
            time.sleep(5)
            self.assertEqual(len(re.findall(r"to=<hard@relay.test>", m.log())), 1)
            self.assertNotIn("H1", cap.handler.tokens())

    def test_backup_mx_primary_down_then_up(self):
        port = free_port()
        with self.mta("relay.test relay:[127.0.0.1]:%d\n" % port) as m:
            send(m, "a@sender.test", ["user@relay.test"], "B1")
            m.wait_log(r"\w+: to=<user@relay.test>, relay=none, .*status=deferred "
                       r"\(connect to 127.0.0.1\[127.0.0.1\]:%d: Connection refused\)" % port)
            wait_for(lambda: m.queue_files("deferred"), 60, what="message in deferred/")
            cap = self.capture(port)
            m.wait_log(r"\w+: to=<user@relay.test>, .*status=sent", timeout=40)
            wait_for(lambda: not m.queue_files("deferred"), 60, what="deferred/ empty")
            time.sleep(3)
            self.assertEqual(cap.handler.tokens(), ["B1"])

    def test_concurrent_sessions_share_incoming_fsync(self):
        """Group commit of incoming/ (queue_writer.c): concurrent smtpd
        processes keep their counters in private/.incoming-sync, a file of
        mail_owner's only; every message is delivered; no process did more
        than one fsync of incoming/ per message, and every one begun
        completed."""
        import pwd
        import struct
        port = free_port()
        cap = self.capture(port)
        with self.mta("relay.test relay:[127.0.0.1]:%d\n" % port) as m:
            tokens = ["G%03d" % i for i in range(60)]

            def client(part):
                for t in part:
                    send(m, "a@sender.test", ["user@relay.test"], t)

            threads = [threading.Thread(target=client, args=(tokens[i::6],))
                       for i in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wait_for(lambda: len(set(cap.handler.tokens())) == 60, 60, what="all 60 delivered")
            self.assertEqual(sorted(cap.handler.tokens()), tokens)
            path = os.path.join(m.queue_dir, "private", ".incoming-sync")
            st = os.lstat(path)
            self.assertTrue(stat_regular(st))
            self.assertEqual(st.st_mode & 0o777, 0o600)
            self.assertEqual(st.st_uid, pwd.getpwnam(m.params["mail_owner"]).pw_uid)
            self.assertNotEqual(st.st_uid, 0)
            with open(path, "rb") as f:
                started, done = struct.unpack("=QQ", f.read(16))
            self.assertGreaterEqual(started, 1)
            self.assertLessEqual(started, 60)
            self.assertEqual(done, started)

    def test_smtpd_wakes_a_restarted_qmgr(self):
        """smtpd keeps its connection to public/qmgr between messages
        (mail_trigger_kept); when qmgr dies, the next message still wakes
        a new one at once: the trigger connects again, and master starts
        qmgr for that connection (queue_run_delay is 300s)."""
        port = free_port()
        cap = self.capture(port)
        # A child killed by a signal throttles its service (Postfix's rule).
        with self.mta("relay.test relay:[127.0.0.1]:%d\n" % port,
                      queue_run_delay="300s", service_throttle_time="1s") as m:
            send(m, "a@sender.test", ["user@relay.test"], "K1")
            wait_for(lambda: cap.handler.tokens() == ["K1"], 30, what="K1 delivered")
            send(m, "a@sender.test", ["user@relay.test"], "K2")
            wait_for(lambda: cap.handler.tokens() == ["K1", "K2"], 30, what="K2 delivered")

            def qmgr_pids():
                out = []
                for pid in m.children():
                    try:
                        with open("/proc/%d/cmdline" % pid, "rb") as f:
                            if b"qmgr" in f.read().split(b"\0")[0]:
                                out.append(pid)
                    except OSError:
                        pass
                return out

            old = qmgr_pids()
            self.assertEqual(len(old), 1)
            os.kill(old[0], signal.SIGKILL)
            wait_for(lambda: old[0] not in qmgr_pids(), 30, what="qmgr gone")
            # master starts the next qmgr when a client connects (or at the
            # wakeup time of master.cf, minutes away): smtpd's trigger finds
            # its kept connection closed and connects again.
            time.sleep(2)
            self.assertEqual(qmgr_pids(), [])
            start = time.time()
            send(m, "a@sender.test", ["user@relay.test"], "K3")
            wait_for(lambda: cap.handler.tokens() == ["K1", "K2", "K3"], 30, what="K3 delivered")
            self.assertLess(time.time() - start, 20)

    def test_durability_kill9_and_flush(self):
        port = free_port()
        with self.mta("relay.test relay:[127.0.0.1]:%d\n" % port,
                      minimal_backoff_time="300s", maximal_backoff_time="600s",
                      queue_run_delay="300s") as m:
            tokens = ["D%03d" % i for i in range(200)]
            for t in tokens:
                send(m, "a@sender.test", ["user@relay.test"], t)
            wait_for(lambda: len(m.queue_files("deferred")) == 200, 60,
                     what="200 messages deferred")
            m.kill9()
            m.start()
            cap = self.capture(port)
            make_due(m)
            wait_for(lambda: trigger_qmgr(m, b"FA"), 60, what="qmgr trigger socket")
            wait_for(lambda: len(set(cap.handler.tokens())) == 200, 90,
                     what="all 200 delivered")
            wait_for(lambda: not m.queue_files("deferred") and not m.queue_files("active"), 30,
                     what="queue empty")
            time.sleep(2)
            got = cap.handler.tokens()
            self.assertEqual(sorted(got), tokens)


if __name__ == "__main__":
    unittest.main()
