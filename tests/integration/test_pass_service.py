"""test_pass_service.py - master.cf "pass" services: a process hands a
client connection it accepted to smtpd over private/<name> (a file
descriptor sent with SCM_RIGHTS), and smtpd serves that client as if it
had accepted it from its own inet listener.

Postfix 3.7 with "smtpd pass - - y - - smtpd" behind postscreen logs
smtpd's "connect from unknown[127.0.0.70]" with the client's own address
(getpeername of the passed connection); so does ours.
"""
import os
import socket
import unittest

from mta import MTA, wait_for

PASS_CF = "smtpd     pass  -       -       y       -       -       smtpd\n"


class PassService(unittest.TestCase):
    def test_passed_connection_is_served_by_smtpd(self):
        m = MTA(extra_master_cf=PASS_CF, main_cf={"mynetworks": "127.0.0.1/32"})
        self.addCleanup(m.cleanup)
        path = os.path.join(m.queue_dir, "private", "smtpd")
        wait_for(lambda: os.path.exists(path), 10, what=path)
        # Our own "inet listener": accept a client, then hand it over.
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.socket()
        self.addCleanup(client.close)
        client.settimeout(20)
        client.bind(("127.0.0.9", 0))
        client.connect(listener.getsockname())
        conn, _ = listener.accept()
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.connect(path)
        socket.send_fds(unix, [b"x"], [conn.fileno()])
        unix.close()
        conn.close()
        f = client.makefile("rb")
        self.assertEqual(f.readline(), b"220 mx.test.invalid ESMTP Postfix\r\n")
        client.sendall(b"HELO c.test\r\n")
        self.assertEqual(f.readline(), b"250 mx.test.invalid\r\n")
        client.sendall(b"QUIT\r\n")
        self.assertEqual(f.readline(), b"221 2.0.0 Bye\r\n")
        m.wait_log(r"smtpd\[\d+\]: connect from [^ ]*\[127\.0\.0\.9\]")
        m.wait_log(r"smtpd\[\d+\]: disconnect from [^ ]*\[127\.0\.0\.9\] helo=1 quit=1 commands=2")
        self.assertNotIn("service type pass is not supported", m.log())
        self.assertNotIn("warning", m.log())

    def test_connection_without_a_descriptor(self):
        m = MTA(extra_master_cf=PASS_CF)
        self.addCleanup(m.cleanup)
        path = os.path.join(m.queue_dir, "private", "smtpd")
        wait_for(lambda: os.path.exists(path), 10, what=path)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.connect(path)
        unix.sendall(b"hello")
        unix.close()
        m.wait_log(r"warning: smtpd: no client connection was passed: Protocol error")


if __name__ == "__main__":
    unittest.main()
