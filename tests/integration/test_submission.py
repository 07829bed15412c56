"""test_submission - the submission and submissions services of Debian's
stock master.cf, uncommented, with Dovecot's auth service.

The blocks are taken from our conf/master.cf (the same text as Debian's
/usr/share/postfix/master.cf.dist), uncommented, with the service
address changed to a free port on 127.0.0.1 and nothing else; chroot
is "y" as shipped, so Dovecot's socket is private/auth in the queue
directory, as Dovecot's and Postfix's documentation set it up. swaks
submits with STARTTLS (--tls, port 587's service) and with TLS on
connect (--tlsc, port 465's) and AUTH PLAIN / LOGIN; the mail reaches a
capture server for outside.test.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from mta import MTA, DEFAULT_MASTER_CF, free_port, wait_for
from sasl_util import DovecotAuth, make_cert

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_smtp import Capture  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def stock_block(service, port):
    """The commented "#service inet ..." block of conf/master.cf with its
    -o lines, uncommented, listening on 127.0.0.1:port."""
    with open(os.path.join(TOP, "conf", "master.cf")) as f:
        lines = f.read().split("\n")
    start = next(i for i, l in enumerate(lines) if re.match(r"#%s\s+inet\s" % service, l))
    out = ["127.0.0.1:%d" % port + lines[start][1 + len(service):]]
    for line in lines[start + 1:]:
        if line.startswith("#  -o "):
            out.append(line[1:])
        elif line.startswith("#     "):
            continue                # the explanation inside the block
        else:
            break
    return "\n".join(out) + "\n"


class Submission(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="submission-")
        os.chmod(cls.tmp, 0o755)
        cls.cert, cls.key = make_cert(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.outside = Capture("127.0.0.1", free_port(), name="outside")
        self.addCleanup(self.outside.stop)
        self.sub_port = free_port()
        self.subs_port = free_port()
        smtp_listen = "127.0.0.1:%d" % free_port()
        master_cf = (DEFAULT_MASTER_CF.format(smtp_listen=smtp_listen)
                     + stock_block("submission", self.sub_port)
                     + stock_block("submissions", self.subs_port))
        # The "$mua_<xxx>_restrictions" style that the stock comment suggests.
        master_cf = master_cf.replace("-o smtpd_client_restrictions=\n",
                                      "-o smtpd_client_restrictions=$mua_client_restrictions\n")
        self.m = MTA(main_cf={
            "mynetworks": "192.0.2.0/24",
            "smtpd_tls_cert_file": self.cert,
            "smtpd_tls_key_file": self.key,
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": "private/auth",
            "mua_client_restrictions": "permit_sasl_authenticated, reject",
            "transport_maps": "inline:{outside.test=smtp:[127.0.0.1]:%d}"
            % self.outside.controller.port,
        }, master_cf=master_cf, port=int(smtp_listen.rsplit(":", 1)[1]))
        self.addCleanup(self.m.cleanup)
        folder = tempfile.mkdtemp(dir=self.tmp)
        os.chmod(folder, 0o755)
        self.dovecot = DovecotAuth(folder,
                                   {"alice@example.org": "secret"},
                                   socket=os.path.join(self.m.queue_dir, "private", "auth"))
        self.addCleanup(self.dovecot.stop)
        wait_for(lambda: self.port_open(self.sub_port) and self.port_open(self.subs_port), 30,
                 what="the submission ports")

    @staticmethod
    def port_open(port):
        import socket
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            return False

    def swaks(self, port, *args):
        return subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port),
                               "--helo", "client.test", "--from", "alice@example.org",
                               "--to", "r@outside.test", "--timeout", "30"] + list(args),
                              capture_output=True, text=True, timeout=120)

    def arrived(self, subject):
        return [x for x in self.outside.messages
                if ("Subject: %s\r\n" % subject).encode() in x["data"]]

    def test_submission_starttls_auth(self):
        r = self.swaks(self.sub_port, "--tls", "--auth", "PLAIN", "--auth-user",
                       "alice@example.org", "--auth-password", "secret",
                       "--header", "Subject: via 587")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.dovecot.log() + self.m.log())
        self.assertIn("<~  235 2.7.0 Authentication successful", r.stdout)
        wait_for(lambda: self.arrived("via 587"), 30, what="submitted mail")
        self.assertIn(b" with ESMTPSA id ", self.arrived("via 587")[0]["data"])
        # Postfix 3.7 logs as postfix/submission/smtpd with syslog_name=postfix/submission.
        self.m.wait_log(r"postfix/submission/smtpd\[\d+\]: [0-9A-F]+: client=localhost"
                        r"\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=alice@example\.org\n")
        self.m.wait_log(r"to=<r@outside\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+.*status=sent")

    def test_submission_needs_tls_and_auth(self):
        # smtpd_tls_security_level=encrypt: "530 5.7.0 Must issue a STARTTLS
        # command first"; smtpd_tls_auth_only: no AUTH before TLS.
        r = self.swaks(self.sub_port, "--quit-after", "EHLO")
        self.assertNotIn("AUTH", r.stdout)
        r = self.swaks(self.sub_port)
        self.assertIn("530 5.7.0 Must issue a STARTTLS command first", r.stdout)
        # After TLS without AUTH: $mua_client_restrictions says reject.
        r = self.swaks(self.sub_port, "--tls")
        self.assertIn("<~* 554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: "
                      "Access denied", r.stdout)
        self.assertEqual(self.arrived("x"), [])

    def test_submissions_tls_on_connect_auth(self):
        r = self.swaks(self.subs_port, "--tlsc", "--auth", "LOGIN", "--auth-user",
                       "alice@example.org", "--auth-password", "secret",
                       "--header", "Subject: via 465")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("<~  235 2.7.0 Authentication successful", r.stdout)
        wait_for(lambda: self.arrived("via 465"), 30, what="submitted mail")
        self.m.wait_log(r"postfix/submissions/smtpd\[\d+\]: [0-9A-F]+: client=localhost"
                        r"\[127\.0\.0\.1\], sasl_method=LOGIN, sasl_username=alice@example\.org\n")

    def test_submissions_wrong_password(self):
        r = self.swaks(self.subs_port, "--tlsc", "--auth", "PLAIN", "--auth-user",
                       "alice@example.org", "--auth-password", "bad")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("<~* 535 5.7.8 Error: authentication failed: (reason unavailable)",
                      r.stdout)
        self.m.wait_log(r"postfix/submissions/smtpd\[\d+\]: warning: localhost\[127\.0\.0\.1\]: "
                        r"SASL PLAIN authentication failed: \(reason unavailable\), "
                        r"sasl_username=alice@example\.org\n")


if __name__ == "__main__":
    unittest.main()
