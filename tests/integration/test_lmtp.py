"""test_lmtp - the lmtp delivery agent over unix: and inet: nexthops.

Stand-alone agent (lmtp -S) against an aiosmtpd LMTP server that answers
each recipient after DATA on its own (250 or 552).
"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from mta import free_port, wait_for
import test_smtp as peers


DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/log
instance_name = lmtptest{port}
protocols = lmtp
listen = {addr}
ssl = no
mail_location = maildir:~/Maildir
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
passdb {{
  driver = passwd-file
  args = {dir}/users
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
}}
service lmtp {{
  unix_listener {dir}/lmtp {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = {addr}
    port = {port}
  }}
}}
"""


class Dovecot:
    """Dovecot's LMTP server in a temp folder, one mailbox user ok@x.test."""

    def __init__(self, tmp):
        import pwd
        self.dir = os.path.join(tmp, "dovecot")
        os.makedirs(os.path.join(self.dir, "mail"))
        os.chmod(self.dir, 0o755)
        os.chmod(os.path.join(self.dir, "mail"), 0o1777)
        self.addr = peers.loopback_addr()
        self.port = free_port(self.addr)
        nobody = pwd.getpwnam("nobody")
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("ok@x.test:{PLAIN}x:%d:%d::%s/mail/ok\n" % (nobody.pw_uid, nobody.pw_gid,
                                                              self.dir))
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(DOVECOT_CONF.format(dir=self.dir, addr=self.addr, port=self.port))
        self.socket = os.path.join(self.dir, "lmtp")
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(self.socket) and peers.peers_port_open(self.addr, self.port)
                 or self.proc.poll() is not None, 20, what="dovecot lmtp")
        if self.proc.poll() is not None:
            raise AssertionError("dovecot exited: %s" % self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def mailbox(self):
        """File name -> content of each message in ok's Maildir/new.

        Maildir names are not in delivery order (the microseconds in them
        are not zero-padded), so callers compare sets of names."""
        new = os.path.join(self.dir, "mail", "ok", "Maildir", "new")
        out = {}
        if os.path.isdir(new):
            for name in os.listdir(new):
                with open(os.path.join(new, name), "rb") as f:
                    out[name] = f.read()
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class DovecotLmtp(unittest.TestCase):
    """Delivery into Dovecot's dovecot-lmtpd: one mailbox exists, one not."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lmtp-dovecot-test-")
        os.chmod(cls.tmp, 0o755)
        cls.dovecot = Dovecot(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.agent = peers.Agent()

    def tearDown(self):
        self.agent.cleanup()

    def check(self, nexthop):
        before = set(self.dovecot.mailbox())
        msg = peers.message_bytes("to dovecot %s" % nexthop)
        # A loaded machine can make Dovecot answer 4xx (its auth process is
        # slow to start): that is a deferral, and the mail is simply tried
        # again, as qmgr would.
        for attempt in range(3):
            res, log = self.agent.deliver(nexthop, ["ok@x.test", "nobody@x.test"], prog="lmtp",
                                          message=msg)
            if res.get("ok@x.test", {}).get("dsn_action") != "x":
                break
            time.sleep(1)
        self.assertEqual(res["ok@x.test"]["dsn_action"], "d", "%r\n%s\n%s" % (
            res, log, self.dovecot.log()))
        self.assertRegex(res["ok@x.test"]["reason"], r"^250 2\.0\.0 <ok@x\.test> \S+ Saved$")
        self.assertEqual(res["nobody@x.test"]["dsn_action"], "f")
        self.assertEqual(res["nobody@x.test"]["dsn_status"], "5.1.1")
        self.assertIn("User doesn't exist", res["nobody@x.test"]["reason"])
        box = self.dovecot.mailbox()
        added = sorted(set(box) - before)
        self.assertEqual(len(added), 1, added)
        self.assertEqual(len(box), len(before) + 1)
        self.assertIn(b"Subject: to dovecot " + nexthop.encode(), box[added[0]])
        self.assertIn(b"\n.a line that starts with a dot", box[added[0]])

    def test_unix(self):
        self.check("unix:" + self.dovecot.socket)

    def test_inet(self):
        self.check("inet:%s:%d" % (self.dovecot.addr, self.dovecot.port))


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
