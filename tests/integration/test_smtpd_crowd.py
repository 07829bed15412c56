"""master and smtpd under a crowd: Postfix's process limit warning and
stress switch, and (beyond Postfix) idle clients that give up their
process when others wait (smtpd_overload_idle_time)."""
import os
import socket
import time
import unittest

from mta import MTA, free_port, wait_for
from smtpd_util import Client


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def smtpd_children(m):
    return [p for p in m.children() if cmdline(p)[:1] and cmdline(p)[0].endswith(b"/smtpd")]


class ProcessLimit(unittest.TestCase):

    def mta(self, listen, **main_cf):
        port = free_port()
        main_cf.setdefault("smtpd_overload_idle_time", "0")
        m = MTA(master_cf="%s inet n - n - 2 smtpd\n" % (listen % port), port=port,
                main_cf=main_cf)
        self.addCleanup(m.cleanup)
        return m, port

    def test_warning_and_stress_for_a_public_service(self):
        m, port = self.mta("%d", inet_interfaces="all", smtpd_error_sleep_time="0")
        # The start-up probe's process is free again before the first client.
        m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] commands=0/0")
        time.sleep(0.2)
        a = Client(port)
        self.addCleanup(a.close)
        b = Client(port)
        self.addCleanup(b.close)
        # Postfix 3.7.11 logs these three lines as it starts the child that
        # takes the last slot (with "-o stress=yes"); for a wildcard service
        # the endpoint in parentheses is the port.
        m.wait_log(r'master\[\d+\]: warning: service "%d" \(%d\) has reached its process '
                   r'limit "2": new clients may experience noticeable delays\n' % (port, port))
        m.wait_log(r"warning: to avoid this condition, increase the process count in master\.cf "
                   r"or reduce the service time per client\n")
        m.wait_log(r"warning: see http://www\.postfix\.org/STRESS_README\.html for examples of "
                   r"stress-adapting configuration settings\n")
        args = [cmdline(p) for p in smtpd_children(m)]
        self.assertIn(b"stress=yes", [x for a_ in args for x in a_])
        self.assertIn(b"stress=", [x for a_ in args for x in a_])
        # Under stress smtpd_hard_error_limit is ${stress?{1}:{20}}: one
        # error ends the session of the stressed process, not the other.
        replies = []
        for c in (a, b):
            r = c.cmd("FOO")
            self.assertEqual(r, "500 5.5.2 Error: command not recognized")
            c.sock.settimeout(1.0)
            try:
                replies.append(c.reply())
            except (EOFError, socket.timeout):
                replies.append(None)
        self.assertEqual(replies, [None, "421 4.7.0 mx.test.invalid Error: too many errors"])

    def test_no_stress_on_loopback(self):
        m, port = self.mta("127.0.0.1:%d")
        clients = [Client(port) for _ in range(2)]
        third = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(third.close)
        time.sleep(1.0)
        for c in clients:
            c.close()
        # Postfix: no warning and no stress for a service on loopback only.
        self.assertNotIn("has reached its process limit", m.log())
        for p in smtpd_children(m):
            self.assertFalse([x for x in cmdline(p) if x.startswith(b"stress=")])


class IdleEviction(unittest.TestCase):

    def test_idle_client_gives_way(self):
        port = free_port()
        m = MTA(master_cf="127.0.0.1:%d inet n - n - 2 smtpd\n" % port, port=port,
                main_cf={"smtpd_overload_idle_time": "1s"})
        self.addCleanup(m.cleanup)
        idle = Client(port, source="127.0.0.8")
        self.addCleanup(idle.close)
        active = Client(port, source="127.0.0.9")
        self.addCleanup(active.close)
        start = time.time()
        waiting = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(waiting.close)
        waiting.settimeout(0.1)
        banner = b""
        while b"\n" not in banner and time.time() - start < 10:
            # The active client keeps sending complete commands.
            self.assertEqual(active.cmd("NOOP"), "250 2.0.0 Ok")
            try:
                banner += waiting.recv(100)
            except socket.timeout:
                pass
        took = time.time() - start
        self.assertEqual(banner, b"220 mx.test.invalid ESMTP Postfix\r\n")
        self.assertLess(took, 3.0)
        # The idle one was told and logged; the active one goes on.
        self.assertEqual(idle.reply(), "421 4.3.2 All server ports are busy")
        self.assertTrue(idle.closed())
        m.wait_log(r"idle client evicted after CONNECT from unknown\[127\.0\.0\.8\]: "
                   r"all server ports are busy\n")
        self.assertEqual(active.cmd("QUIT"), "221 2.0.0 Bye")
        self.assertNotIn("127.0.0.9]: all server ports", m.log())

    def test_no_eviction_without_a_crowd(self):
        port = free_port()
        m = MTA(master_cf="127.0.0.1:%d inet n - n - 2 smtpd\n" % port, port=port,
                main_cf={"smtpd_overload_idle_time": "1s"})
        self.addCleanup(m.cleanup)
        c = Client(port)
        self.addCleanup(c.close)
        time.sleep(2.5)
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertNotIn("evicted", m.log())


if __name__ == "__main__":
    unittest.main()
