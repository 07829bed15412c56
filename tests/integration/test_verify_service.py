"""test_verify_service - the verify daemon on its own (stand-alone -S).

The daemon serves one client on a socketpair, as master would hand it
one: queries answer from address_verify_map and queue a probe file in
incoming/ (sender double-bounce@$myorigin, "A verify=1", one recipient);
updates are stored as Postfix's "status:probed:updated:text" entries
that Debian's "postmap -s" and ours list.
"""
import os
import pwd
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from mta import LIBEXEC, SBIN


def attr_encode(pairs):
    out = b""
    for k, v in pairs:
        out += k.encode() + b"\0" + v.encode() + b"\0"
    return out + b"\0"


def attr_read(sock):
    """One reply: list of (name, value), ended by an empty name."""
    buf = b""
    pairs = []
    while True:
        while buf.count(b"\0") < 1:
            chunk = sock.recv(4096)
            if not chunk:
                raise EOFError("verify closed the connection")
            buf += chunk
        name, _, rest = buf.partition(b"\0")
        if name == b"":
            return dict(pairs)
        while rest.count(b"\0") < 1:
            chunk = sock.recv(4096)
            if not chunk:
                raise EOFError("verify closed the connection")
            rest += chunk
        value, _, buf = rest.partition(b"\0")
        pairs.append((name.decode(), value.decode()))


def read_records(path):
    """Records of a queue file: [(type, data)]."""
    recs = []
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i + 5 <= len(data):
        t = chr(data[i])
        n = struct.unpack(">I", data[i + 1:i + 5])[0]
        recs.append((t, data[i + 5:i + 5 + n]))
        i += 5 + n
    return recs


class VerifyService(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="verify-test-")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        for d in (self.conf, self.queue, self.data,
                  os.path.join(self.queue, "incoming"), os.path.join(self.queue, "public")):
            os.makedirs(d, exist_ok=True)
        owner = "postfix" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
        try:
            pw = pwd.getpwnam(owner)
        except KeyError:
            owner, pw = "nobody", pwd.getpwnam("nobody")
        for d in (self.queue, os.path.join(self.queue, "incoming"), self.data):
            os.chown(d, pw.pw_uid, pw.pw_gid)
        self.cache = os.path.join(self.data, "verify_cache")
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("queue_directory = %s\n" % self.queue)
            f.write("data_directory = %s\n" % self.data)
            f.write("mail_owner = %s\n" % owner)
            f.write("myhostname = mx.test.invalid\n")
            f.write("myorigin = origin.test.invalid\n")
            f.write("maillog_file = %s/maillog\nmaillog_file_prefixes = %s\n"
                    % (self.dir, self.dir))
            f.write("address_verify_map = btree:%s\n" % self.cache)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def session(self):
        """Start verify -S on one end of a socketpair; return our end."""
        ours, theirs = socket.socketpair()
        env = dict(os.environ, MAIL_CONFIG=self.conf)
        p = subprocess.Popen([os.path.join(LIBEXEC, "verify"), "-S"],
                             stdin=theirs, stdout=theirs, env=env,
                             stderr=open(os.path.join(self.dir, "stderr"), "ab"))
        theirs.close()
        self.procs.append(p)
        ours.settimeout(20)
        return ours, p

    def call(self, sock, pairs):
        sock.sendall(attr_encode(pairs))
        return attr_read(sock)

    def finish(self, sock, p):
        sock.close()
        p.wait(timeout=20)

    def postmap_s(self, postmap):
        # Debian's postmap gets a config of its own (it refuses our
        # maillog_file outside its maillog_file_prefixes).
        conf = self.conf
        if not postmap.startswith(SBIN):
            conf = os.path.join(self.dir, "pfconf")
            os.makedirs(conf, exist_ok=True)
            open(os.path.join(conf, "main.cf"), "w").close()
        return subprocess.run([postmap, "-s", "btree:" + self.cache],
                              capture_output=True, text=True,
                              env=dict(os.environ, MAIL_CONFIG=conf)).stdout

    def test_query_probes_once_then_update(self):
        s, p = self.session()
        r = self.call(s, [("request", "query"), ("address", "Good@Example.COM")])
        self.assertEqual(r["status"], "0")
        self.assertEqual(r["addr_status"], "3")
        self.assertEqual(r["reason"], "Address verification in progress")
        # One probe in incoming/, complete, from double-bounce@$myorigin.
        inc = os.path.join(self.queue, "incoming")
        files = os.listdir(inc)
        self.assertEqual(len(files), 1, files)
        st = os.stat(os.path.join(inc, files[0]))
        self.assertTrue(st.st_mode & 0o100, "probe file is not marked complete")
        recs = read_records(os.path.join(inc, files[0]))
        types = [t for t, _ in recs]
        self.assertIn(("S", b"double-bounce@origin.test.invalid"), recs)
        self.assertIn(("A", b"verify=1"), recs)
        self.assertEqual([d for t, d in recs if t == "R"], [b"Good@Example.COM"])
        self.assertEqual(types[-1], "E")
        # Asked again at once: same answer, no second probe.
        r = self.call(s, [("request", "query"), ("address", "good@example.com")])
        self.assertEqual(r["addr_status"], "3")
        self.assertEqual(len(os.listdir(inc)), 1)
        # The probe's result comes back.
        r = self.call(s, [("request", "update"), ("address", "good@example.com"),
                          ("addr_status", "0"), ("reason", "250 2.1.5 Ok")])
        self.assertEqual(r["status"], "0")
        r = self.call(s, [("request", "query"), ("address", "GOOD@example.com")])
        self.assertEqual((r["addr_status"], r["reason"]), ("0", "250 2.1.5 Ok"))
        # A failed probe (primary down) does not clobber a verified address.
        r = self.call(s, [("request", "update"), ("address", "good@example.com"),
                          ("addr_status", "1"),
                          ("reason", "connect to 127.0.0.1[127.0.0.1]:2525: Connection refused")])
        r = self.call(s, [("request", "query"), ("address", "good@example.com")])
        self.assertEqual(r["addr_status"], "0")
        r = self.call(s, [("request", "update"), ("address", "bad@example.com"),
                          ("addr_status", "2"),
                          ("reason", "host h[127.0.0.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)")])
        r = self.call(s, [("request", "query"), ("address", "bad@example.com")])
        self.assertEqual(r["addr_status"], "2")
        self.assertEqual(r["reason"], "host h[127.0.0.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)")
        self.assertEqual(len(os.listdir(inc)), 1)
        self.finish(s, p)

        # The cache is a btree of text entries that postmap -s lists.
        for postmap in (os.path.join(SBIN, "postmap"), "/usr/sbin/postmap"):
            if not os.path.exists(postmap):
                continue
            out = self.postmap_s(postmap)
            lines = dict(l.split("\t", 1) for l in out.splitlines())
            self.assertRegex(lines.get("good@example.com", ""), r"^0:0:\d+:250 2\.1\.5 Ok$", postmap)
            self.assertRegex(lines.get("bad@example.com", ""), r"^2:0:\d+:host h\[127", postmap)

    def test_learned_delivery_and_restart(self):
        s, p = self.session()
        r = self.call(s, [("request", "update"), ("address", "new@example.com"),
                          ("addr_status", "0"), ("reason", "250 2.0.0 Ok: queued as X")])
        self.assertEqual(r["status"], "0")
        self.finish(s, p)
        # A new process knows it (state lives in the table), no probe.
        s, p = self.session()
        r = self.call(s, [("request", "query"), ("address", "new@example.com")])
        self.assertEqual((r["status"], r["addr_status"]), ("0", "0"))
        self.assertEqual(os.listdir(os.path.join(self.queue, "incoming")), [])
        self.finish(s, p)

    def test_malformed_request(self):
        s, p = self.session()
        r = self.call(s, [("request", "update"), ("address", "x@example.com"),
                          ("addr_status", "7")])
        self.assertNotEqual(r["status"], "0")
        self.finish(s, p)
        self.assertEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
