"""smtpd_milters with real milters from Debian, started by the tests:
OpenDKIM (opendkim) signing mail of its domain, checked by a verifying
OpenDKIM (opendkim -t with the public key from a test key file: no DNS);
rspamd (its proxy worker in milter mode, scanning itself, with a minimal
local configuration and no network lookups): GTUBE is refused at the end
of data with rspamd's reply, a clean message passes with rspamd's headers.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from capture import Capture
from mta import MTA, free_port, port_open, wait_for
from smtpd_util import Client

QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$")
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


class Daemon:
    """A foreground daemon of this test, stopped by its process ID."""

    def __init__(self, argv, port, env=None, cwd=None):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env, cwd=cwd, start_new_session=True)
        try:
            wait_for(lambda: port_open("127.0.0.1", port) or self.proc.poll() is not None,
                     60, what="%s to listen on %d" % (argv[0], port))
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise AssertionError("%s exited: %s" % (argv[0], self.output()))

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


class RealMilterBase(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="milter-real-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.cap = Capture()
        self.addCleanup(self.cap.stop)

    def mta(self, milter_port):
        m = MTA(main_cf={"relay_domains": "example.com",
                         "transport_maps": "inline:{example.com=relay:[127.0.0.1]:%d}"
                         % self.cap.port,
                         "smtpd_milters": "inet:127.0.0.1:%d" % milter_port,
                         "milter_default_action": "tempfail",
                         "smtpd_error_sleep_time": "0"})
        self.addCleanup(m.cleanup)
        return m

    def send(self, m, sender, text):
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client.example.org")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<c@example.com>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        stuffed = re.sub(r"(?m)^\.", "..", text)
        reply = c.cmd(stuffed + ".")
        c.cmd("QUIT")
        return reply


class OpenDKIM(RealMilterBase):

    def setUp(self):
        super().setUp()
        subprocess.run(["opendkim-genkey", "-D", self.dir, "-d", "example.org", "-s", "test"],
                       check=True, capture_output=True)
        txt = open(os.path.join(self.dir, "test.txt")).read()
        with open(os.path.join(self.dir, "keys"), "w") as f:
            f.write("test._domainkey.example.org %s\n" % "".join(re.findall(r'"([^"]*)"', txt)))
        self.port = free_port()
        user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        conf = os.path.join(self.dir, "signer.conf")
        with open(conf, "w") as f:
            f.write("Syslog no\nBackground no\nMode s\nDomain example.org\nSelector test\n"
                    "KeyFile %s/test.private\nSocket inet:%d@127.0.0.1\nUserID %s\n"
                    "RequireSafeKeys no\nPidFile %s/pid\n" % (self.dir, self.port, user, self.dir))
        with open(os.path.join(self.dir, "verifier.conf"), "w") as f:
            f.write("Syslog no\nMode v\nRequireSafeKeys no\nTestPublicKeys %s/keys\n" % self.dir)
        self.dkim = Daemon(["opendkim", "-f", "-x", conf], self.port)
        self.addCleanup(self.dkim.stop)

    def verify(self, data):
        path = os.path.join(self.dir, "msg.eml")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run(["opendkim", "-vv", "-x", os.path.join(self.dir, "verifier.conf"),
                            "-t", path], capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr

    def test_signed_and_verifiable_body_unchanged(self):
        m = self.mta(self.port)
        body = ("Hello,\r\n\r\n.a line that starts with a dot\r\nTrailing spaces   \r\n"
                "\ttab\r\nlast line\r\n")
        text = ("From: Sender <a@example.org>\r\nTo: <c@example.com>\r\n"
                "Subject: signed\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
                "Message-ID: <dkim-1@example.org>\r\n\r\n" + body)
        reply = self.send(m, "a@example.org", text)
        self.assertTrue(QUEUED.match(reply), reply)
        got = self.cap.wait(1)[0].content
        headers, _, received_body = got.partition(b"\r\n\r\n")
        self.assertEqual(received_body.decode(), body)
        self.assertRegex(headers.decode(), r"(?m)^DKIM-Signature: v=1; a=rsa-sha256; c=[a-z/]+; "
                         r"d=example\.org;")
        rc, out = self.verify(got)
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"verification \(s=test, d=example\.org, \d+-bit key\) succeeded")
        # A changed body no longer verifies: the check is a real one.
        rc, out = self.verify(got.replace(b"last line", b"last lime"))
        self.assertNotRegex(out, r"succeeded")

    def test_other_domain_not_signed(self):
        m = self.mta(self.port)
        reply = self.send(m, "a@other.example", "From: <a@other.example>\r\n"
                          "Subject: unsigned\r\n\r\nbody\r\n")
        self.assertTrue(QUEUED.match(reply), reply)
        got = self.cap.wait(1)[0].content
        self.assertNotIn(b"DKIM-Signature:", got)


RSPAMD_CONF = """
options {{
  pidfile = "{dir}/rspamd.pid";
  dns {{ nameserver = ["127.0.0.1:{dns_port}"]; timeout = 1s; retransmits = 1; }}
  local_addrs = "127.0.0.0/8";
  hs_cache_dir = "{dir}/hs";
  check_all_filters = false;
  # A short list of top-level domains: the stock list of 9,600 takes
  # rspamd a minute of hyperscan compiling at every start.
  url_tld = "{dir}/tld.dat";
}}
logging {{ type = "file"; filename = "{dir}/rspamd.log"; level = "info"; }}
worker "rspamd_proxy" {{
  bind_socket = "127.0.0.1:{port}";
  milter = yes;
  timeout = 60s;
  count = 1;
  upstream "local" {{ default = yes; self_scan = yes; }}
}}
.include "$CONFDIR/common.conf"
.include(priority=10) "{dir}/milter_headers.conf"
"""

# Over the stock (empty) milter_headers section: the headers to add.
MILTER_HEADERS = """milter_headers {
  use = ["x-spamd-result", "x-rspamd-server", "x-rspamd-queue-id"];
  skip_local = false;
  skip_authenticated = false;
}
"""


class Rspamd(RealMilterBase):

    def setUp(self):
        super().setUp()
        self.port = free_port()
        conf = os.path.join(self.dir, "rspamd.conf")
        os.makedirs(os.path.join(self.dir, "hs"))
        with open(os.path.join(self.dir, "milter_headers.conf"), "w") as f:
            f.write(MILTER_HEADERS)
        with open(os.path.join(self.dir, "tld.dat"), "w") as f:
            f.write("com\nnet\norg\ntest\nexample\ninvalid\n")
        with open(conf, "w") as f:
            f.write(RSPAMD_CONF.format(dir=self.dir, port=self.port, dns_port=free_port()))
        user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        self.rspamd = Daemon(["rspamd", "-f", "-c", conf, "-u", user, "-g",
                              subprocess.run(["id", "-gn"], capture_output=True,
                                             text=True).stdout.strip(),
                              "--insecure"], self.port, cwd=self.dir)
        self.addCleanup(self.rspamd.stop)

    def test_gtube_rejected_clean_passes(self):
        m = self.mta(self.port)
        reply = self.send(m, "a@b.example", "From: <a@b.example>\r\nTo: <c@example.com>\r\n"
                          "Subject: spam test\r\n\r\n" + GTUBE + "\r\n")
        self.assertEqual(reply, "554 5.7.1 Gtube pattern")
        m.wait_log(r"[0-9A-F]+: milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: "
                   r"5\.7\.1 Gtube pattern; from=<a@b\.example> to=<c@example\.com> "
                   r"proto=ESMTP helo=<client\.example\.org>")
        reply = self.send(m, "a@b.example", "From: <a@b.example>\r\nTo: <c@example.com>\r\n"
                          "Subject: hello\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
                          "Message-ID: <clean-1@b.example>\r\n\r\nJust a clean note.\r\n")
        self.assertTrue(QUEUED.match(reply), reply)
        got = self.cap.wait(1)
        self.assertEqual(len(got), 1)
        data = got[0].content.decode()
        self.assertRegex(data, r"(?m)^X-Spamd-Result: default: False \[")
        self.assertIn("\r\n\r\nJust a clean note.\r\n", data)


if __name__ == "__main__":
    unittest.main()
