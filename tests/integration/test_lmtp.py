"""test_lmtp - the lmtp delivery agent over unix: and inet: nexthops.

Stand-alone agent (lmtp -S) against an aiosmtpd LMTP server that answers
each recipient after DATA on its own (250 or 552).
"""
import os
import shutil
import tempfile
import unittest

from mta import free_port
import test_smtp as peers


class Lmtp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lmtp-test-")
        os.chmod(self.tmp, 0o755)
        self.agent = peers.Agent()
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.agent.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check_per_recipient(self, nexthop, server, relay):
        res, log = self.agent.deliver(nexthop, ["ok@x.test", "full@x.test"], prog="lmtp")
        self.assertEqual(res["ok@x.test"]["dsn_action"], "d", log)
        self.assertEqual(res["ok@x.test"]["reason"], "250 2.0.0 <ok@x.test> Saved")
        self.assertEqual(res["full@x.test"]["dsn_action"], "f")
        self.assertEqual(res["full@x.test"]["dsn_status"], "5.2.2")
        self.assertEqual(res["full@x.test"]["reason"],
                         "host %s said: 552 5.2.2 <full@x.test> Mailbox is full "
                         "(in reply to end of DATA command)" % (relay.split("]")[0] + "]"))
        self.assertEqual(res["ok@x.test"]["relay"], relay)
        self.assertEqual([r for r, _ in server.handler.delivered], ["ok@x.test"])
        self.assertIn("to=<ok@x.test>, relay=%s" % relay, log)
        self.assertIn("status=bounced", log)

    def test_unix_socket(self):
        path = os.path.join(self.tmp, "lmtp.sock")
        s = peers.LmtpServer(path=path)
        self.servers.append(s)
        self.check_per_recipient("unix:" + path, s, "mx.test.invalid[%s]" % path)

    def test_inet(self):
        addr = peers.loopback_addr()
        port = free_port(addr)
        s = peers.LmtpServer(addr=addr, port=port)
        self.servers.append(s)
        self.check_per_recipient("inet:%s:%d" % (addr, port), s, "%s[%s]:%d" % (addr, addr, port))

    def test_unix_socket_missing_defers(self):
        path = os.path.join(self.tmp, "nosuch.sock")
        res, log = self.agent.deliver("unix:" + path, ["a@x.test"], prog="lmtp")
        r = res["a@x.test"]
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.4.1"), log)
        self.assertEqual(r["reason"], "connect to %s: No such file or directory" % path)


if __name__ == "__main__":
    unittest.main()
