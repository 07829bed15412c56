"""test_smtpd_policy - check_policy_service, Postfix's policy delegation.

A policy server written here (TCP or UNIX socket) answers by recipient;
the replies are the ones Debian's Postfix 3.7 gives for the same actions
(checked side by side): access table results, DEFER_IF_PERMIT for
greylisting, PREPEND headers above our Received: header, and
smtpd_policy_service_default_action when the server cannot be reached.
"""
import os
import re
import shutil
import socket
import tempfile
import threading
import unittest

from mta import free_port
from smtpd_util import Client, read_queue_file, record, smtpd_mta, wait_incoming

ACTIONS = {
    "grey@remote.example": "DEFER_IF_PERMIT Greylisted, see http://x",
    "rej@remote.example": "REJECT",
    "rejt@remote.example": "REJECT no way",
    "c550@remote.example": "550 5.7.0 go away",
    "c450@remote.example": "450 try later",
    "ok@remote.example": "OK",
    "dip@remote.example": "defer_if_permit",
    "bogus@remote.example": "FROBNICATE now",
    "pre@remote.example": "PREPEND X-Policy: checked",
}


class PolicyServer:
    """Answers action=ACTIONS[recipient] (DUNNO otherwise); keeps requests."""

    def __init__(self, unix_path=None):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix_path)
            os.chmod(unix_path, 0o666)
        else:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        self.sock.listen(5)
        self.requests = []
        self.connections = 0
        self.stopped = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn, conn.makefile("rb") as f:
            while True:
                attrs = {}
                while True:
                    line = f.readline()
                    if not line:
                        return
                    line = line.rstrip(b"\n").decode()
                    if not line:
                        break
                    name, _, value = line.partition("=")
                    attrs[name] = value
                self.requests.append(attrs)
                action = ACTIONS.get(attrs.get("recipient"), "DUNNO")
                conn.sendall(("action=%s\n\n" % action).encode())

    def stop(self):
        self.sock.close()


class PolicyService(unittest.TestCase):
    def setUp(self):
        self.server = PolicyServer()
        self.addCleanup(self.server.stop)

    def mta(self, server):
        m = smtpd_mta(mynetworks="192.0.2.0/24", relay_domains="remote.example",
                      smtpd_relay_restrictions="reject_unauth_destination",
                      smtpd_recipient_restrictions="check_policy_service %s, permit" % server,
                      smtpd_error_sleep_time="0")
        self.addCleanup(m.cleanup)
        return m

    def test_actions_and_request(self):
        m = self.mta("inet:127.0.0.1:%d" % self.server.port)
        c = Client(m.smtp_port)
        c.cmd("EHLO client.example")
        self.assertEqual(c.cmd("MAIL FROM:<s@sender.example> SIZE=100"), "250 2.1.0 Ok")
        rr = "Recipient address rejected"
        expect = [
            ("grey", "450 4.7.1 <grey@remote.example>: %s: Greylisted, see http://x" % rr),
            ("rej", "554 5.7.1 <rej@remote.example>: %s: Access denied" % rr),
            ("rejt", "554 5.7.1 <rejt@remote.example>: %s: no way" % rr),
            ("c550", "550 5.7.0 <c550@remote.example>: %s: go away" % rr),
            ("ok", "250 2.1.5 Ok"),
            ("bogus", "451 4.3.5 Server configuration error"),
            ("c450", "450 4.7.1 <c450@remote.example>: %s: try later" % rr),
            ("dip", "450 4.7.1 <dip@remote.example>: %s: Service unavailable" % rr),
            ("other", "250 2.1.5 Ok"),
        ]
        for local, reply in expect:
            self.assertEqual(c.cmd("RCPT TO:<%s@remote.example>" % local), reply, local)
        c.cmd("RSET")
        c.cmd("MAIL FROM:<t@sender.example>")
        self.assertEqual(c.cmd("RCPT TO:<other@remote.example>"), "250 2.1.5 Ok")
        c.cmd("QUIT")

        reqs = self.server.requests
        self.assertEqual(len(reqs), len(expect) + 1)
        first = reqs[0]
        self.assertEqual(first["request"], "smtpd_access_policy")
        self.assertEqual(first["protocol_state"], "RCPT")
        self.assertEqual(first["protocol_name"], "ESMTP")
        self.assertEqual(first["client_address"], "127.0.0.1")
        self.assertEqual(first["client_name"], "localhost")
        self.assertEqual(first["helo_name"], "client.example")
        self.assertEqual(first["sender"], "s@sender.example")
        self.assertEqual(first["recipient"], "grey@remote.example")
        self.assertEqual(first["recipient_count"], "0")
        self.assertEqual(first["size"], "100")
        self.assertEqual(first["server_address"], "127.0.0.1")
        self.assertEqual(first["server_port"], str(m.smtp_port))
        self.assertEqual(first["encryption_keysize"], "0")
        for name in ("queue_id", "etrn_domain", "sasl_method", "sasl_username",
                     "ccert_subject", "encryption_protocol", "policy_context"):
            self.assertIn(name, first)
        # Recipients accepted so far; one instance per transaction.
        self.assertEqual(reqs[len(expect) - 1]["recipient_count"], "1")
        self.assertEqual({r["instance"] for r in reqs[:len(expect)]}, {first["instance"]})
        self.assertNotEqual(reqs[-1]["instance"], first["instance"])
        # One connection serves the whole session.
        self.assertEqual(self.server.connections, 1)
        m.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 450 4\.7\.1 "
                   r"<grey@remote\.example>: Recipient address rejected: Greylisted, see "
                   r"http://x; from=<s@sender\.example> to=<grey@remote\.example> "
                   r"proto=ESMTP helo=<client\.example>")
        m.wait_log(r"warning: unknown smtpd restriction: \"FROBNICATE\"")

    def test_prepend_goes_above_received(self):
        m = self.mta("inet:127.0.0.1:%d" % self.server.port)
        c = Client(m.smtp_port)
        c.cmd("EHLO client.example")
        c.cmd("MAIL FROM:<s@sender.example>")
        self.assertEqual(c.cmd("RCPT TO:<pre@remote.example>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<pre@remote.example>"), "250 2.1.5 Ok")
        c.cmd("DATA")
        self.assertRegex(c.cmd("Subject: t\r\n\r\nbody\r\n."), r"^250 2\.0\.0 Ok: queued as ")
        c.cmd("QUIT")
        (qid, _), = wait_incoming(m)
        msg = record(read_queue_file(os.path.join(m.queue_dir, "incoming", qid)), "M")[0]
        lines = msg.split(b"\r\n")
        self.assertEqual(lines[0], b"X-Policy: checked")
        self.assertTrue(lines[1].startswith(b"Received: from client.example "), lines[1])
        self.assertEqual(msg.count(b"X-Policy:"), 1)

    def test_unreachable_server_gets_the_default_action(self):
        port = free_port()
        m = self.mta("inet:127.0.0.1:%d" % port)
        c = Client(m.smtp_port)
        c.cmd("EHLO client.example")
        c.cmd("MAIL FROM:<s@sender.example>")
        self.assertEqual(c.cmd("RCPT TO:<x@remote.example>"),
                         "451 4.3.5 <x@remote.example>: Recipient address rejected: "
                         "Server configuration problem")
        c.cmd("QUIT")
        m.wait_log(r"warning: connect to 127\.0\.0\.1:%d: Connection refused" % port)
        m.wait_log(r"warning: problem talking to server 127\.0\.0\.1:%d: Connection refused" % port)
        self.assertEqual(len(re.findall(r"problem talking to server", m.log())), 2)

    def test_unix_socket_server(self):
        folder = tempfile.mkdtemp(prefix="policy-test-")
        self.addCleanup(shutil.rmtree, folder, True)
        os.chmod(folder, 0o755)
        path = os.path.join(folder, "policy")
        server = PolicyServer(unix_path=path)
        self.addCleanup(server.stop)
        m = self.mta("unix:" + path)
        c = Client(m.smtp_port)
        c.cmd("EHLO client.example")
        c.cmd("MAIL FROM:<s@sender.example>")
        self.assertEqual(c.cmd("RCPT TO:<rej@remote.example>"),
                         "554 5.7.1 <rej@remote.example>: Recipient address rejected: "
                         "Access denied")
        self.assertEqual(c.cmd("RCPT TO:<other@remote.example>"), "250 2.1.5 Ok")
        c.cmd("QUIT")


if __name__ == "__main__":
    unittest.main()
