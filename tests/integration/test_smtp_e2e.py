"""test_smtp_e2e - the smtp and lmtp agents inside the whole system.

master + smtpd + qmgr + smtp/lmtp from build/, started by mta.MTA, mail
submitted with smtplib, peers are aiosmtpd capture servers, an LMTP
server and nsd (see test_smtp.py for the helpers).
"""
import os
import re
import shutil
import smtplib
import tempfile
import time
import unittest

from mta import MTA, free_port, wait_for
import test_smtp as peers


def submit(m, sender, rcpts, subject="e2e"):
    msg = "From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nbody\r\n" % (sender, rcpts[0], subject)
    with smtplib.SMTP(m.addr, m.smtp_port, timeout=30) as s:
        s.sendmail(sender, rcpts, msg)


class BackupMx(unittest.TestCase):
    """We are MX 20 for example.test; the primary is MX 10."""

    def setUp(self):
        self.primary = peers.loopback_addr()
        self.me = peers.loopback_addr()
        self.port = peers.common_port(self.primary, self.me)
        self.nsd = peers.Nsd("example.test", """\
@ IN MX 10 primary
@ IN MX 20 backup
primary IN A {p}
backup IN A {me}
""".format(p=self.primary, me=self.me))
        self.cap = None
        self.m = MTA(main_cf={
            "relay_domains": "example.test",
            "resolv_conf": self.nsd.resolv_conf,
            "inet_interfaces": "127.0.0.1, %s" % self.me,
            "smtp_tcp_port": str(self.port),
        })

    def tearDown(self):
        self.m.cleanup()
        if self.cap:
            self.cap.stop()
        self.nsd.stop()

    def test_deferred_then_delivered_once(self):
        submit(self.m, "a@sender.test", ["user@example.test"], subject="backup")
        self.m.wait_log(r"to=<user@example\.test>, relay=none, .*status=deferred "
                        r"\(connect to primary\.example\.test\[%s\]:%d: Connection refused\)"
                        % (self.primary.replace(".", r"\."), self.port), timeout=30)
        self.cap = peers.Capture(self.primary, self.port, name="primary")
        self.m.command("postqueue", "-f")
        self.m.wait_log(r"to=<user@example\.test>, relay=primary\.example\.test\[.*status=sent",
                        timeout=60)
        time.sleep(1)
        self.assertEqual(len(self.cap.messages), 1)
        self.assertEqual(self.cap.messages[0]["to"], ["user@example.test"])
        self.assertNotIn("relay=backup.example.test", self.m.log())


class SenderDependentSasl(unittest.TestCase):
    """Two senders, two relays that require AUTH, one user each."""

    def setUp(self):
        self.addr = peers.loopback_addr()
        self.p1 = free_port(self.addr)
        self.p2 = free_port(self.addr)
        self.r1 = peers.Capture(self.addr, self.p1, name="relay1", users={"user1": "pw1"})
        self.r2 = peers.Capture(self.addr, self.p2, name="relay2", users={"user2": "pw2"})
        self.m = MTA(main_cf={
            "smtp_sasl_auth_enable": "yes",
            "smtp_sender_dependent_authentication": "yes",
            "smtp_sasl_security_options": "noanonymous",
        }, start=False)
        relays = self.m.write("relays", "one@one.test [%s]:%d\n@two.test [%s]:%d\n"
                              % (self.addr, self.p1, self.addr, self.p2))
        self.passwd = self.m.path("sasl_passwd")
        self.m.set_main(sender_dependent_relayhost_maps="texthash:" + relays,
                        smtp_sasl_password_maps="texthash:" + self.passwd)

    def tearDown(self):
        self.m.cleanup()
        self.r1.stop()
        self.r2.stop()

    def test_each_sender_through_its_relay_as_its_user(self):
        self.m.write("sasl_passwd", "one@one.test user1:pw1\n@two.test user2:pw2\n")
        self.m.start()
        submit(self.m, "one@one.test", ["x@dest.test"])
        submit(self.m, "b@two.test", ["y@dest.test"])
        self.m.wait_log(r"to=<x@dest\.test>, relay=.*:%d, .*status=sent" % self.p1, timeout=60)
        self.m.wait_log(r"to=<y@dest\.test>, relay=.*:%d, .*status=sent" % self.p2, timeout=60)
        self.assertEqual([(m["from"], m["auth"]) for m in self.r1.messages],
                         [("one@one.test", "user1")])
        self.assertEqual([(m["from"], m["auth"]) for m in self.r2.messages],
                         [("b@two.test", "user2")])

    def test_wrong_password_deferred_with_server_text(self):
        self.m.write("sasl_passwd", "one@one.test user1:nope\n")
        self.m.start()
        submit(self.m, "one@one.test", ["x@dest.test"])
        self.m.wait_log(r"to=<x@dest\.test>, .*status=deferred \(SASL authentication failed; "
                        r"server .* said: 535", timeout=60)
        self.assertEqual(self.r1.messages, [])


class ReuseAndLmtp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smtp-e2e-")
        os.chmod(self.tmp, 0o755)
        self.addr = peers.loopback_addr()
        self.port = free_port(self.addr)
        self.cap = peers.Capture(self.addr, self.port, name="relay")
        self.sock = os.path.join(self.tmp, "lmtp.sock")
        self.lmtp = peers.LmtpServer(path=self.sock)
        self.m = MTA(main_cf={"relayhost": "[%s]:%d" % (self.addr, self.port)}, start=False)
        transport = self.m.write("transport", "lmtp.test lmtp:unix:%s\n" % self.sock)
        self.m.set_main(transport_maps="texthash:" + transport)
        self.m.start()

    def tearDown(self):
        self.m.cleanup()
        self.cap.stop()
        self.lmtp.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_second_message_reuses_the_connection(self):
        submit(self.m, "a@sender.test", ["r1@far.test"])
        self.m.wait_log(r"to=<r1@far\.test>, .*status=sent", timeout=60)
        submit(self.m, "a@sender.test", ["r2@far.test"])
        self.m.wait_log(r"to=<r2@far\.test>, .*status=sent", timeout=60)
        self.assertRegex(self.m.log(), r"to=<r2@far\.test>, relay=[^ ]+, .*conn_use=2")
        self.assertEqual(len(self.cap.messages), 2)

    def test_cache_destinations_and_reuse_count_limit(self):
        # Without smtp_connection_cache_on_demand a session is kept only for
        # smtp_connection_cache_destinations; smtp_connection_reuse_count_limit
        # caps how often one is used.
        def two(tag):
            for i in (1, 2):
                submit(self.m, "a@sender.test", ["%s%d@far.test" % (tag, i)])
                self.m.wait_log(r"to=<%s%d@far\.test>, .*status=sent" % (tag, i), timeout=60)
            return re.search(r"to=<%s2@far\.test>, relay=[^ ]+, (conn_use=\d+, )?" % tag,
                             self.m.log()).group(1)
        self.m.set_main(smtp_connection_cache_on_demand="no")
        self.m.reload()
        self.assertIsNone(two("n"))
        self.m.set_main(smtp_connection_cache_destinations=self.addr)
        self.m.reload()
        self.assertEqual(two("d"), "conn_use=2, ")
        self.m.set_main(smtp_connection_cache_on_demand="yes",
                        smtp_connection_cache_destinations="",
                        smtp_connection_reuse_count_limit="1")
        self.m.reload()
        self.assertIsNone(two("c"))

    def test_lmtp_per_recipient(self):
        submit(self.m, "a@sender.test", ["ok@lmtp.test", "full@lmtp.test"])
        self.m.wait_log(r"postfix/lmtp\[\d+\]: \w+: to=<ok@lmtp\.test>, relay=.*status=sent",
                        timeout=60)
        self.m.wait_log(r"to=<full@lmtp\.test>, .*dsn=5\.2\.2, status=bounced", timeout=60)
        self.assertEqual([r for r, _ in self.lmtp.handler.delivered], ["ok@lmtp.test"])


class SessionRecorder:
    """A plain SMTP server that takes every message and records, for each
    session, when its one message was accepted and how the session ended
    (b"QUIT", or b"EOF" when the client just went away)."""

    def __init__(self, addr, port):
        import socket
        import threading
        self.ends = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(8)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        import threading
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        f = conn.makefile("rb")
        accepted = None
        how = b"EOF"
        try:
            conn.sendall(b"220 recorder.test ESMTP\r\n")
            for line in f:
                cmd = line[:4].upper()
                if cmd == b"EHLO":
                    conn.sendall(b"250-recorder.test\r\n250 PIPELINING\r\n")
                elif cmd == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    for body in f:
                        if body in (b".\r\n", b".\n"):
                            break
                    conn.sendall(b"250 2.0.0 Ok: queued\r\n")
                    accepted = time.time()
                elif cmd == b"QUIT":
                    how = b"QUIT"
                    conn.sendall(b"221 2.0.0 Bye\r\n")
                    break
                else:
                    conn.sendall(b"250 2.0.0 Ok\r\n")
        except OSError:
            pass
        self.ends.append((accepted, time.time(), how))
        conn.close()

    def stop(self):
        self.sock.close()


class CacheTimeLimit(unittest.TestCase):
    def setUp(self):
        self.addr = peers.loopback_addr()
        self.port = free_port(self.addr)
        self.peer = SessionRecorder(self.addr, self.port)
        self.m = MTA(main_cf={"relayhost": "[%s]:%d" % (self.addr, self.port)}, start=False)
        self.m.set_main(smtp_connection_cache_time_limit="1s")
        self.m.start()

    def tearDown(self):
        self.m.cleanup()
        self.peer.stop()

    def test_idle_session_dropped_after_the_limit(self):
        # The agent keeps the session after the delivery; with no request
        # for smtp_connection_cache_time_limit it drops it without QUIT
        # (qmgr ends an idle agent's connection only after 2 s, and the
        # agent then ends its session with QUIT).
        submit(self.m, "a@sender.test", ["r1@far.test"])
        self.m.wait_log(r"to=<r1@far\.test>, .*status=sent", timeout=60)
        wait_for(lambda: self.peer.ends, 10, what="the end of the session")
        accepted, ended, how = self.peer.ends[0]
        self.assertEqual(how, b"EOF")
        self.assertGreaterEqual(ended - accepted, 0.9)
        self.assertLess(ended - accepted, 1.9)


if __name__ == "__main__":
    unittest.main()
