"""test_postscreen.py - postscreen(8) in front of smtpd, with Debian's
documented master.cf lines:

    smtp      inet  n       -       y       -       1       postscreen
    smtpd     pass  -       -       y       -       -       smtpd
    dnsblog   unix  -       -       y       -       0       dnsblog
    tlsproxy  unix  -       -       y       -       0       tlsproxy

(on a loopback port). Clients connect from their own 127.x.y.z address, so
that DNSBL records and access tables can name them; mynetworks is
127.0.0.1/32 only, so that permit_mynetworks does not let them all in.

The DNSBL zones are served by nsd (nsd_zones.py) through our resolv_conf.
Every expected reply and log line is what Debian's Postfix 3.7.11 gave
for the same configuration and dialogue: a throw-away Postfix with these
master.cf lines on 127.0.0.50:2525, postscreen_greet_wait = 2s, in a
mount namespace whose /dev/log was a socket of ours and whose chroot
etc/resolv.conf named the same kind of nsd zone (zen.example listing
clients as 127.0.0.2, 127.0.0.3, 127.0.0.4; wl.example as an allowlist).
The "Postfix:" comments quote it.
"""
import os
import random
import re
import socket
import time
import unittest

from capture import Capture
from mta import MTA, DEFAULT_MASTER_CF, free_port, proc_state, wait_for
from nsd_zones import NsdZones

POSTSCREEN_CF = """\
{listen} inet  n       -       y       -       1       postscreen
smtpd     pass  -       -       y       -       -       smtpd
dnsblog   unix  -       -       y       -       0       dnsblog
tlsproxy  unix  -       -       y       -       0       tlsproxy
"""

BANNER = "mx.test.invalid ESMTP Postfix"


def client_addr():
    """A fresh 127.x.y.z source address for one client."""
    while True:
        a = "127.%d.%d.%d" % (random.randint(2, 59), random.randint(0, 255),
                              random.randint(2, 254))
        try:
            with socket.socket() as s:
                s.bind((a, 0))
            return a
        except OSError:
            continue


def rev(addr):
    return ".".join(reversed(addr.split(".")))


class Raw:
    """A client that talks when it likes, and shows what came back when."""

    def __init__(self, port, source, timeout=20):
        self.sock = socket.socket(socket.AF_INET6 if ":" in source else socket.AF_INET)
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect(("::1" if ":" in source else "127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.buf = b""

    def send(self, text):
        self.sock.sendall(text.encode())

    def read_until(self, pattern, timeout=20):
        """Everything up to a line that matches pattern (a regexp)."""
        deadline = time.time() + timeout
        while True:
            text = self.buf.decode("latin-1")
            for m in re.finditer(r"[^\n]*\n", text):
                if re.match(pattern, m.group(0).rstrip("\r\n")):
                    self.buf = self.buf[m.end():]
                    return text[:m.end()].replace("\r\n", "\n").rstrip("\n")
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no %r in %r" % (pattern, text))
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed; pending %r" % text)
            self.buf += chunk

    def reply(self):
        return self.read_until(r"^\d{3}( |$)")

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def closed(self, timeout=10):
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class PostscreenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.listed = client_addr()           # zen.example: 127.0.0.2
        cls.listed3 = client_addr()          # zen.example: 127.0.0.3
        cls.listed4 = client_addr()          # zen.example: 127.0.0.4
        cls.allowed = client_addr()          # wl.example: 127.0.0.2
        cls.ns = NsdZones({
            "zen.example": "%s IN A 127.0.0.2\n%s IN A 127.0.0.3\n%s IN A 127.0.0.4\n"
                           % (rev(cls.listed), rev(cls.listed3), rev(cls.listed4)),
            "wl.example": "%s IN A 127.0.0.2\n" % rev(cls.allowed),
        })

    @classmethod
    def tearDownClass(cls):
        cls.ns.stop()

    def mta(self, files=None, capture=None, chroot="y", listen="127.0.0.1", no_smtpd=False,
            **main_cf):
        port = free_port(listen)
        mcf = POSTSCREEN_CF.format(listen="%s:%d" % ("[%s]" % listen if ":" in listen else listen,
                                                      port))
        if no_smtpd:
            mcf = "".join(line + "\n" for line in mcf.splitlines() if " pass " not in line)
        if chroot != "y":
            mcf = mcf.replace("y       -       1       postscreen",
                              "%s       -       1       postscreen" % chroot)
        # The rest of the test harness's master.cf: qmgr, smtp ...
        mcf += DEFAULT_MASTER_CF.split("\n", 2)[2]
        params = {
            "mynetworks": "127.0.0.1/32",
            "resolv_conf": self.ns.resolv_conf,
            "postscreen_greet_wait": "1s",
            "relay_domains": "example.com",
            "smtpd_error_sleep_time": "0",
        }
        if capture:
            params["relayhost"] = "[127.0.0.1]:%d" % capture.port
        params.update(main_cf)
        m = MTA(main_cf=params, master_cf=mcf, port=port, start=False, addr=listen)
        self.addCleanup(m.cleanup)
        for name, text in (files or {}).items():
            m.write(name, text)
        m.set_main(**{k: v.replace("@CONFIG@", m.config_dir) for k, v in params.items()})
        m.start()
        return m

    def raw(self, m, source):
        c = Raw(m.smtp_port, source)
        self.addCleanup(c.close)
        return c

    def ep(self, c, source):
        return "[%s]:%d" % (source, c.port)


class Pass(PostscreenTest):
    def test_good_client_passes_new_then_old_and_mail_arrives(self):
        cap = Capture()
        self.addCleanup(cap.stop)
        # A long greet wait, so that "at once" and "after the wait" differ
        # clearly even on a busy machine.
        m = self.mta(capture=cap, postscreen_greet_wait="3s")
        src = client_addr()
        # Postfix: "220-mx.ref.test ESMTP Postfix" at once, after the greet
        # wait "220 mx.ref.test ESMTP Postfix" from smtpd; the log says
        # "CONNECT from [127.0.0.70]:50625 to [127.0.0.50]:2525", then
        # "PASS NEW [127.0.0.70]:50625" and smtpd's "connect from
        # unknown[127.0.0.70]".
        c = self.raw(m, src)
        self.assertEqual(c.read_until("^220-"), "220-" + BANNER)
        t0 = time.time()
        self.assertEqual(c.reply(), "220 " + BANNER)
        self.assertGreater(time.time() - t0, 2.5)
        ehlo = c.cmd("EHLO c.test")
        self.assertIn("250-PIPELINING", ehlo)      # smtpd's, not postscreen's
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        self.assertTrue(c.cmd("Subject: hi\r\n\r\nbody\r\n.").startswith("250 2.0.0 Ok: queued as "))
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        ep = self.ep(c, src)
        m.wait_log(r"(?m)postscreen\[\d+\]: CONNECT from %s to \[127\.0\.0\.1\]:%d"
                   % (re.escape(ep), m.smtp_port))
        m.wait_log(r"(?m)postscreen\[\d+\]: PASS NEW %s" % re.escape(ep))
        m.wait_log(r"(?m)smtpd\[\d+\]: connect from [^ ]*\[%s\]" % re.escape(src))
        got = cap.wait(1)
        self.assertIn(b"body", got[0].content)
        self.assertEqual(got[0].rcpt_tos, ["x@example.com"])
        # Postfix, on the next connection: "PASS OLD [127.0.0.70]:55387" and
        # only smtpd's "220 mx.ref.test ESMTP Postfix", at once.
        c2 = self.raw(m, src)
        t0 = time.time()
        self.assertEqual(c2.reply(), "220 " + BANNER)
        self.assertLess(time.time() - t0, 2)
        self.assertEqual(c2.cmd("QUIT"), "221 2.0.0 Bye")
        m.wait_log(r"(?m)postscreen\[\d+\]: PASS OLD %s" % re.escape(self.ep(c2, src)))
        # master does not start dnsblog or tlsproxy, and says why.
        log = m.log()
        self.assertIn("master.cf service dnsblog/unix: command dnsblog is not needed here", log)
        self.assertIn("master.cf service tlsproxy/unix: command tlsproxy is not needed here", log)
        self.assertNotIn("is not supported", log)
        self.assertIn("cache btree:%s/postscreen_cache full cleanup: retained=0 dropped=0 entries"
                      % m.data_dir, log)


class Ipv6(PostscreenTest):
    def test_ipv6_client(self):
        m = self.mta(listen="::1", mynetworks="127.0.0.1/32", inet_protocols="all",
                     inet_interfaces="all")
        # As Postfix logs an IPv6 client: "CONNECT from [::1]:PORT to
        # [::1]:PORT", "PASS NEW [::1]:PORT"; smtpd "connect from
        # localhost[::1]".
        c = self.raw(m, "::1")
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        c.cmd("QUIT")
        ep = re.escape("[::1]:%d" % c.port)
        m.wait_log(r"(?m)CONNECT from %s to \[::1\]:%d$" % (ep, m.smtp_port))
        m.wait_log(r"(?m)PASS NEW %s$" % ep)
        m.wait_log(r"smtpd\[\d+\]: connect from [^ ]*\[::1\]")


class NoSmtpd(PostscreenTest):
    def test_pass_service_missing(self):
        m = self.mta(no_smtpd=True)
        src = client_addr()
        c = self.raw(m, src)
        # No "smtpd pass" line: the client that passed is told to come back
        # later, and the log says why.
        self.assertEqual(c.read_until("^4"), "220-%s\n421 4.3.2 Service currently unavailable"
                         % BANNER)
        self.assertTrue(c.closed())
        m.wait_log(r"(?m)warning: cannot connect to service private/smtpd: No such file or directory$")
        m.wait_log(r"(?m)DISCONNECT %s$" % re.escape(self.ep(c, src)))


class Pregreet(PostscreenTest):
    def test_pregreet_enforce(self):
        m = self.mta(postscreen_greet_action="enforce")
        src = client_addr()
        c = self.raw(m, src)
        c.send("EHLO c.test\r\n")
        # Postfix: "220-mx.ref.test ESMTP Postfix", then (no "220 " line) the
        # reply to the early EHLO without PIPELINING, "250 2.1.0 Ok" to MAIL,
        # "550 5.5.1 Protocol error" to RCPT, "554 5.5.1 Error: no valid
        # recipients" to DATA and the connection closes; the log says
        # "PREGREET 13 after 0 from [127.0.0.71]:54039: EHLO c.test\r\n",
        # "NOQUEUE: reject: RCPT from [127.0.0.71]:54039: 550 5.5.1 Protocol
        # error; from=<a@b.test>, to=<x@example.com>, proto=ESMTP,
        # helo=<c.test>", "DATA without valid RCPT from [127.0.0.71]:54039",
        # "DISCONNECT [127.0.0.71]:54039".
        self.assertEqual(c.read_until("^220-"), "220-" + BANNER)
        self.assertEqual(c.reply(), "250-mx.test.invalid\n250-SIZE 10240000\n250-VRFY\n"
                         "250-ETRN\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250 CHUNKING")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), "550 5.5.1 Protocol error")
        self.assertEqual(c.cmd("DATA"), "554 5.5.1 Error: no valid recipients")
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)postscreen\[\d+\]: PREGREET 13 after 0(\.\d+)? from %s: EHLO c\.test\\r\\n$" % ep)
        m.wait_log(r"(?m)postscreen\[\d+\]: NOQUEUE: reject: RCPT from %s: 550 5\.5\.1 Protocol error; "
                   r"from=<a@b\.test>, to=<x@example\.com>, proto=ESMTP, helo=<c\.test>$" % ep)
        m.wait_log(r"(?m)postscreen\[\d+\]: DATA without valid RCPT from %s$" % ep)
        m.wait_log(r"(?m)postscreen\[\d+\]: DISCONNECT %s$" % ep)
        self.assertNotIn("PASS NEW", m.log())

    def test_dummy_engine_replies(self):
        m = self.mta(postscreen_greet_action="enforce")
        src = client_addr()
        c = self.raw(m, src)
        self.assertEqual(c.read_until("^220-"), "220-" + BANNER)
        time.sleep(0.3)
        # Postfix, for "HELO c.test" 0.5 s after the connect: "PREGREET 13
        # after 0.5 from [127.0.0.72]:32969: HELO c.test\r\n"; then these
        # replies, and "NOQUEUE: reject: RCPT from [127.0.0.72]:32969: 550
        # 5.5.1 Protocol error; from=<a@b.test>, to=<x@example.com>,
        # proto=SMTP, helo=<c.test>".
        c.send("HELO c.test\r\n")
        self.assertEqual(c.reply(), "250 mx.test.invalid")
        for cmd, want in (("NOOP", "250 2.0.0 Ok"), ("RSET", "250 2.0.0 Ok"),
                          ("VRFY x", "550 5.5.1 Protocol error"),
                          ("FOO bar", "502 5.5.2 Error: command not recognized"),
                          ("ETRN x", "458 Unable to queue messages"),
                          ("STARTTLS", "502 5.5.1 Error: command not implemented"),
                          ("AUTH PLAIN x", "502 5.5.2 Error: command not recognized"),
                          ("MAIL FROM:<a@b.test>", "250 2.1.0 Ok"),
                          ("RCPT TO:<x@example.com>", "550 5.5.1 Protocol error"),
                          ("QUIT", "221 2.0.0 Bye")):
            self.assertEqual(c.cmd(cmd), want, cmd)
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)PREGREET 13 after 0\.[1-9]\d? from %s: HELO c\.test\\r\\n$" % ep)
        m.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s: 550 5\.5\.1 Protocol error; from=<a@b\.test>, "
                   r"to=<x@example\.com>, proto=SMTP, helo=<c\.test>$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)

    def test_dummy_engine_syntax(self):
        m = self.mta(postscreen_dnsbl_sites="zen.example*2", postscreen_dnsbl_action="enforce")
        src = self.listed
        c = self.raw(m, src)
        c.read_until("^220 ")
        # Postfix: "501 Syntax: HELO hostname", "501 Syntax: EHLO hostname",
        # "503 5.5.1 Error: need MAIL command", "250 2.1.0 Ok" even for "MAIL
        # TO:<x>", "501 5.5.4 Syntax: RCPT TO:<address>", and the log line
        # "NOQUEUE: reject: RCPT from [127.0.0.60]:57025: 550 5.7.1 Service
        # unavailable; client [127.0.0.60] blocked using zen.example;
        # from=<x>, to=<x>, proto=SMTP, helo=<>".
        for cmd, want in (("HELO", "501 Syntax: HELO hostname"),
                          ("EHLO", "501 Syntax: EHLO hostname"),
                          ("RCPT TO:<x>", "503 5.5.1 Error: need MAIL command"),
                          ("MAIL TO:<x>", "250 2.1.0 Ok"),
                          ("RCPT y@z", "501 5.5.4 Syntax: RCPT TO:<address>"),
                          ("RCPT TO:<x>", "550 5.7.1 Service unavailable; client [%s] blocked "
                                          "using zen.example" % src)):
            self.assertEqual(c.cmd(cmd), want, cmd)
        c.cmd("QUIT")
        m.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s: 550 5\.7\.1 Service unavailable; client "
                   r"\[%s\] blocked using zen\.example; from=<x>, to=<x>, proto=SMTP, helo=<>$"
                   % (re.escape(self.ep(c, src)), re.escape(src)))

    def test_pregreet_drop(self):
        m = self.mta(postscreen_greet_action="drop")
        src = client_addr()
        c = self.raw(m, src)
        c.send("EHLO c.test\r\n")
        # Postfix: "PREGREET 13 after 0 from [127.0.0.73]:35711: EHLO
        # c.test\r\n", "DISCONNECT [127.0.0.73]:35711": the connection
        # closes at once.
        self.assertTrue(c.closed(5))
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)PREGREET 13 after 0(\.\d+)? from %s: EHLO c\.test\\r\\n$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)

    def test_pregreet_ignore_goes_to_smtpd(self):
        # Postfix 3.7's smtpd takes the early EHLO; ours refuses early talk
        # by default (smtpd_forbid_unauth_pipelining = yes, as Postfix 3.9).
        m = self.mta(postscreen_greet_action="ignore", smtpd_forbid_unauth_pipelining="no")
        src = client_addr()
        c = self.raw(m, src)
        c.send("EHLO c.test\r\n")
        # Postfix: "PREGREET 13 after 0 from [127.0.0.74]:58409: EHLO
        # c.test\r\n", no PASS NEW; smtpd gets the client and answers
        # "220 mx.ref.test ESMTP Postfix" and the early EHLO (with
        # PIPELINING).
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        self.assertIn("250-PIPELINING", c.reply())
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)PREGREET 13 after 0(\.\d+)? from %s: EHLO c\.test\\r\\n$" % ep)
        m.wait_log(r"(?m)smtpd\[\d+\]: connect from [^ ]*\[%s\]" % re.escape(src))
        self.assertNotIn("PASS NEW", m.log())

    def test_hangup(self):
        m = self.mta()
        src = client_addr()
        c = self.raw(m, src)
        c.read_until("^220-")
        time.sleep(0.3)
        c.close()
        # Postfix: "HANGUP after 0.5 from [127.0.0.75]:36953 in tests before
        # SMTP handshake", "DISCONNECT [127.0.0.75]:36953".
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)HANGUP after 0\.\d+ from %s in tests before SMTP handshake$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)

    def test_command_limits(self):
        m = self.mta(postscreen_greet_action="enforce", postscreen_command_count_limit="4",
                     postscreen_command_time_limit="2s")
        src = client_addr()
        c = self.raw(m, src)
        c.send("NOOP\r\n")
        # Postfix (count limit 4): four "250 2.0.0 Ok", then "421 mx.ref.test
        # Service unavailable - try again later" and the connection closes;
        # "COMMAND COUNT LIMIT from [127.0.0.60]:34247 after NOOP".
        c.read_until("^220-")
        self.assertEqual(c.reply(), "250 2.0.0 Ok")
        for i in range(3):
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("NOOP"), "421 mx.test.invalid Service unavailable - try again later")
        self.assertTrue(c.closed())
        m.wait_log(r"(?m)COMMAND COUNT LIMIT from %s after NOOP$" % re.escape(self.ep(c, src)))
        # Postfix (time limit 3s): "421 4.4.2 mx.ref.test Error: timeout
        # exceeded"; "COMMAND TIME LIMIT from [127.0.0.60]:41103 after NOOP".
        c2 = self.raw(m, src)
        c2.send("NOOP\r\n")
        c2.read_until("^220-")
        self.assertEqual(c2.reply(), "250 2.0.0 Ok")
        self.assertEqual(c2.reply(), "421 4.4.2 mx.test.invalid Error: timeout exceeded")
        self.assertTrue(c2.closed())
        m.wait_log(r"(?m)COMMAND TIME LIMIT from %s after NOOP$" % re.escape(self.ep(c2, src)))


class Cache(PostscreenTest):
    def cache_entry(self, m, addr):
        p = m.command("postmap", "-s", "btree:%s/postscreen_cache" % m.data_dir)
        for line in p.stdout.splitlines():
            key, _, value = line.partition("\t")
            if key == addr:
                return [int(x) for x in value.split(";")]
        return None

    def test_greet_result_expires(self):
        m = self.mta(postscreen_greet_ttl="2s")
        src = client_addr()
        # Postfix (postscreen_greet_ttl = 2s): "PASS NEW [127.0.0.85]:40303";
        # 4 s later the 220- line and the greet wait again, and "PASS OLD
        # [127.0.0.85]:38015" (the client is in the cache).
        c = self.raw(m, src)
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        c.cmd("QUIT")
        m.wait_log(r"(?m)PASS NEW %s$" % re.escape(self.ep(c, src)))
        t0 = time.time()
        greet, dnsbl, a, b, c_ = self.cache_entry(m, src)
        self.assertTrue(t0 < greet <= t0 + 3, (t0, greet))
        self.assertEqual((dnsbl, a, b, c_), (1, 1, 1, 1))     # disabled tests
        c = self.raw(m, src)
        self.assertEqual(c.reply(), "220 " + BANNER)
        c.cmd("QUIT")
        m.wait_log(r"(?m)PASS OLD %s$" % re.escape(self.ep(c, src)))
        time.sleep(2.2)
        c = self.raw(m, src)
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        c.cmd("QUIT")
        m.wait_log(r"(?m)PASS OLD %s$" % re.escape(self.ep(c, src)))
        self.assertEqual(len(re.findall("PASS NEW", m.log())), 1)

    def test_dnsbl_result_expires(self):
        m = self.mta(postscreen_dnsbl_sites="zen.example", postscreen_dnsbl_min_ttl="1s",
                     postscreen_dnsbl_max_ttl="1s")
        src = client_addr()
        c = self.raw(m, src)
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        c.cmd("QUIT")
        m.wait_log(r"(?m)PASS NEW %s$" % re.escape(self.ep(c, src)))
        time.sleep(1.5)
        # Postfix (postscreen_dnsbl_max_ttl = 2s, the DNSBL result expired,
        # the greet result not): "PASS OLD [127.0.0.84]:49819" at once,
        # smtpd's 220 without a 220- line, and the cache entry's DNSBL time
        # becomes the connection time + 2 s.
        t0 = int(time.time())
        c = self.raw(m, src)
        self.assertEqual(c.reply(), "220 " + BANNER)
        c.cmd("QUIT")
        m.wait_log(r"(?m)PASS OLD %s$" % re.escape(self.ep(c, src)))
        wait_for(lambda: self.cache_entry(m, src)[1] >= t0 + 1, 10, what="a refreshed DNSBL time")
        self.assertLessEqual(self.cache_entry(m, src)[1], int(time.time()) + 1)

    def test_listed_client_is_not_remembered(self):
        m = self.mta(postscreen_dnsbl_sites="zen.example", postscreen_dnsbl_action="enforce")
        c = self.raw(m, self.listed)
        c.read_until("^220 ")
        c.cmd("QUIT")
        m.wait_log(r"(?m)DISCONNECT %s$" % re.escape(self.ep(c, self.listed)))
        self.assertIsNone(self.cache_entry(m, self.listed))


class Dnsbl(PostscreenTest):
    def test_listed_client_enforce(self):
        m = self.mta(postscreen_dnsbl_sites="zen.example*2", postscreen_dnsbl_action="enforce")
        src = self.listed
        c = self.raw(m, src)
        # Postfix: "220-mx.ref.test ESMTP Postfix", after the greet wait
        # "220 mx.ref.test ESMTP Postfix" from postscreen itself; EHLO
        # without PIPELINING; "550 5.7.1 Service unavailable; client
        # [127.0.0.60] blocked using zen.example" to RCPT; "554 5.5.1 Error:
        # no valid recipients" to DATA, and it hangs up. Log: "DNSBL rank 2
        # for [127.0.0.60]:34447", "NOQUEUE: reject: RCPT from
        # [127.0.0.60]:34447: 550 5.7.1 Service unavailable; client
        # [127.0.0.60] blocked using zen.example; from=<a@b.test>,
        # to=<x@example.com>, proto=ESMTP, helo=<c.test>", "DATA without
        # valid RCPT from [127.0.0.60]:34447", "DISCONNECT [127.0.0.60]:34447".
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        self.assertNotIn("PIPELINING", c.cmd("EHLO c.test"))
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        reply = "550 5.7.1 Service unavailable; client [%s] blocked using zen.example" % src
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), reply)
        self.assertEqual(c.cmd("DATA"), "554 5.5.1 Error: no valid recipients")
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)postscreen\[\d+\]: DNSBL rank 2 for %s$" % ep)
        m.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s: %s; from=<a@b\.test>, to=<x@example\.com>, "
                   r"proto=ESMTP, helo=<c\.test>$" % (ep, re.escape(reply)))
        m.wait_log(r"(?m)DATA without valid RCPT from %s$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        self.assertNotIn("PASS NEW", m.log())
        self.assertNotRegex(m.log(), r"smtpd\[\d+\]: connect from [^ ]*\[%s\]" % re.escape(src))

    def test_listed_client_drop(self):
        m = self.mta(postscreen_dnsbl_sites="zen.example*2", postscreen_dnsbl_action="drop")
        src = self.listed
        c = self.raw(m, src)
        # Postfix: "220-mx.ref.test ESMTP Postfix", after the greet wait
        # "521 5.7.1 Service unavailable; client [127.0.0.60] blocked using
        # zen.example" and the connection closes; "DNSBL rank 2 for
        # [127.0.0.60]:46555", "DISCONNECT [127.0.0.60]:46555".
        self.assertEqual(c.read_until("^5"), "220-%s\n521 5.7.1 Service unavailable; client [%s] "
                         "blocked using zen.example" % (BANNER, src))
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)DNSBL rank 2 for %s$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)

    def test_listed_client_ignore(self):
        m = self.mta(postscreen_dnsbl_sites="zen.example*2")
        src = self.listed
        c = self.raw(m, src)
        # Postfix (postscreen_dnsbl_action = ignore, the default): the
        # rank is logged and the client goes to smtpd, not remembered.
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        self.assertIn("250-PIPELINING", c.cmd("EHLO c.test"))
        c.cmd("QUIT")
        m.wait_log(r"(?m)DNSBL rank 2 for %s$" % re.escape(self.ep(c, src)))
        m.wait_log(r"(?m)smtpd\[\d+\]: connect from [^ ]*\[%s\]" % re.escape(src))
        self.assertNotIn("PASS NEW", m.log())

    def test_filters_weights_threshold_reply_map_allowlist(self):
        m = self.mta(files={"reply": "zen.example your IP is on the list\n"},
                     postscreen_dnsbl_sites="zen.example=127.0.0.[2..3]*2 wl.example=127.0.0.2*-5",
                     postscreen_dnsbl_threshold="2",
                     postscreen_dnsbl_allowlist_threshold="-1",
                     postscreen_dnsbl_reply_map="texthash:@CONFIG@/reply",
                     postscreen_dnsbl_action="enforce", postscreen_greet_wait="3s")
        # Postfix: a client listed as 127.0.0.4 (outside the filter) passes
        # after the greet wait: "PASS NEW [127.0.0.61]:44417".
        c = self.raw(m, self.listed4)
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        self.assertIn("250-PIPELINING", c.cmd("EHLO c.test"))
        c.cmd("QUIT")
        m.wait_log(r"(?m)PASS NEW %s$" % re.escape(self.ep(c, self.listed4)))
        # Postfix: listed as 127.0.0.3: "DNSBL rank 2 for
        # [127.0.0.62]:52531", RCPT gets "550 5.7.1 Service unavailable;
        # client [127.0.0.62] blocked using your IP is on the list".
        c = self.raw(m, self.listed3)
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        c.cmd("EHLO c.test")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                         "550 5.7.1 Service unavailable; client [%s] blocked using "
                         "your IP is on the list" % self.listed3)
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        m.wait_log(r"(?m)DNSBL rank 2 for %s$" % re.escape(self.ep(c, self.listed3)))
        # Postfix: the allowlisted client (score -5 <= -1) passes at once,
        # without the greet wait: "PASS NEW [127.0.0.63]:41729".
        c = self.raw(m, self.allowed)
        t0 = time.time()
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        self.assertLess(time.time() - t0, 2)
        c.cmd("QUIT")
        m.wait_log(r"(?m)PASS NEW %s$" % re.escape(self.ep(c, self.allowed)))


class Access(PostscreenTest):
    CIDR = None

    def test_permit_and_reject(self):
        permit = client_addr()
        reject = client_addr()
        cidr = "%s permit\n%s reject\n" % (permit, reject)
        m = self.mta(files={"access.cidr": cidr},
                     postscreen_access_list="permit_mynetworks, cidr:@CONFIG@/access.cidr",
                     postscreen_denylist_action="enforce", postscreen_greet_wait="3s")
        # Postfix: "ALLOWLISTED [127.0.0.80]:59309", straight to smtpd: only
        # "220 mx.ref.test ESMTP Postfix".
        c = self.raw(m, permit)
        t0 = time.time()
        self.assertEqual(c.reply(), "220 " + BANNER)
        self.assertLess(time.time() - t0, 2)
        c.cmd("QUIT")
        m.wait_log(r"(?m)ALLOWLISTED %s$" % re.escape(self.ep(c, permit)))
        # Postfix: "DENYLISTED [127.0.0.81]:42755"; the greet test still
        # runs, then postscreen's own "220", and RCPT gets "550 5.3.2
        # Service currently unavailable", logged "NOQUEUE: reject: RCPT from
        # [127.0.0.81]:42755: 550 5.3.2 Service currently unavailable;
        # from=<a@b.test>, to=<x@example.com>, proto=ESMTP, helo=<c.test>".
        c = self.raw(m, reject)
        self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
        c.cmd("EHLO c.test")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), "550 5.3.2 Service currently unavailable")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        ep = re.escape(self.ep(c, reject))
        m.wait_log(r"(?m)DENYLISTED %s$" % ep)
        m.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s: 550 5\.3\.2 Service currently unavailable; "
                   r"from=<a@b\.test>, to=<x@example\.com>, proto=ESMTP, helo=<c\.test>$" % ep)

    def test_denylist_drop_by_old_name(self):
        reject = client_addr()
        m = self.mta(files={"access.cidr": "%s reject\n" % reject},
                     postscreen_access_list="cidr:@CONFIG@/access.cidr",
                     postscreen_blacklist_action="drop")
        # Postfix (postscreen_blacklist_action = drop): "521 5.3.2 Service
        # currently unavailable" at once and the connection closes;
        # "DENYLISTED [127.0.0.81]:34265", "DISCONNECT [127.0.0.81]:34265".
        c = self.raw(m, reject)
        self.assertEqual(c.reply(), "521 5.3.2 Service currently unavailable")
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, reject))
        m.wait_log(r"(?m)DENYLISTED %s$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        # The old name is known: no "unused parameter" warning, from master
        # or from postconf (Postfix: "postconf -n" shows
        # "postscreen_blacklist_action = drop" without a warning, and
        # "postconf -x postscreen_denylist_action" says "drop").
        self.assertNotIn("unused parameter", m.log())
        p = m.command("postconf", "-n")
        self.assertIn("postscreen_blacklist_action = drop\n", p.stdout)
        self.assertEqual(p.stderr, "")
        p = m.command("postconf", "-x", "postscreen_denylist_action")
        self.assertEqual(p.stdout, "postscreen_denylist_action = drop\n")


class AllowlistInterfaces(PostscreenTest):
    def test_veto(self):
        m = self.mta(postscreen_allowlist_interfaces="!127.0.0.1, static:all")
        src = client_addr()
        # Postfix (postscreen_allowlist_interfaces = !127.0.0.50, static:all):
        # "ALLOWLIST VETO [127.0.0.82]:53471", the greet wait, postscreen's
        # own "220", and RCPT gets "450 4.3.2 Service currently
        # unavailable", logged "NOQUEUE: reject: RCPT from
        # [127.0.0.82]:53471: 450 4.3.2 Service currently unavailable;
        # from=<a@b>, to=<x@example.com>, proto=ESMTP, helo=<c.test>"; no
        # PASS NEW, and the same again on the next connection.
        for i in range(2):
            c = self.raw(m, src)
            self.assertEqual(c.read_until("^220 "), "220-%s\n220 %s" % (BANNER, BANNER))
            self.assertNotIn("PIPELINING", c.cmd("EHLO c.test"))
            self.assertEqual(c.cmd("MAIL FROM:<a@b>"), "250 2.1.0 Ok")
            self.assertEqual(c.cmd("RCPT TO:<x@example.com>"),
                             "450 4.3.2 Service currently unavailable")
            self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
            ep = re.escape(self.ep(c, src))
            m.wait_log(r"(?m)ALLOWLIST VETO %s$" % ep)
            m.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s: 450 4\.3\.2 Service currently "
                       r"unavailable; from=<a@b>, to=<x@example\.com>, proto=ESMTP, "
                       r"helo=<c\.test>$" % ep)
        self.assertNotIn("PASS NEW", m.log())


class Limits(PostscreenTest):
    def test_connections_per_client(self):
        m = self.mta(postscreen_greet_wait="5s", postscreen_client_connection_count_limit="1")
        src = client_addr()
        a = self.raw(m, src)
        a.read_until("^220-")
        # Postfix (limit 1, a second connection while the first is in the
        # greet wait): "421 4.7.0 Error: too many connections" and the
        # log says "CONNECT from [127.0.0.76]:57389 to [127.0.0.50]:2525",
        # "NOQUEUE: reject: CONNECT from [127.0.0.76]:57389: too many
        # connections", "DISCONNECT [127.0.0.76]:57389".
        b = self.raw(m, src)
        self.assertEqual(b.reply(), "421 4.7.0 Error: too many connections")
        self.assertTrue(b.closed())
        ep = re.escape(self.ep(b, src))
        m.wait_log(r"(?m)NOQUEUE: reject: CONNECT from %s: too many connections$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        # Another client is not affected.
        other = client_addr()
        c = self.raw(m, other)
        self.assertEqual(c.read_until("^220-"), "220-" + BANNER)

    def test_clients_being_screened(self):
        m = self.mta(postscreen_greet_wait="5s", postscreen_pre_queue_limit="10")
        # Postfix (limit 10, the minimum): nine clients in the greet wait, the
        # tenth gets "421 4.3.2 All screening ports are busy"; the log says
        # "reject: connect from [127.0.1.10]:54663: all screening ports
        # busy", "DISCONNECT [127.0.1.10]:54663". An allowlisted client
        # still goes to smtpd.
        for i in range(9):
            c = self.raw(m, client_addr())
            c.read_until("^220-")
        src = client_addr()
        c = self.raw(m, src)
        self.assertEqual(c.reply(), "421 4.3.2 All screening ports are busy")
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)postscreen\[\d+\]: reject: connect from %s: all screening ports busy$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        ok = Raw(m.smtp_port, "127.0.0.1")
        self.addCleanup(ok.close)
        self.assertEqual(ok.reply(), "220 " + BANNER)


class Restart(PostscreenTest):
    def pids(self, m):
        return set(re.findall(r"postscreen\[(\d+)\]: CONNECT", m.log()))

    def test_reload_finishes_current_clients(self):
        m = self.mta(postscreen_greet_action="enforce")
        src = client_addr()
        a = self.raw(m, src)
        a.send("EHLO c.test\r\n")
        a.read_until("^220-")
        self.assertIn("250 CHUNKING", a.reply())
        (old,) = self.pids(m)
        m.reload()
        m.wait_log(r"reload")
        # master logs "reload" before it closes the old processes' status
        # pipes: the old process lets go of the listening socket (it
        # exits; a child of it finishes the session) only after that.
        wait_for(lambda: proc_state(int(old)) in (None, "Z", "X"), 10,
                 what="the old postscreen process to exit")
        # A new client is screened by a new postscreen process ...
        b = self.raw(m, client_addr())
        self.assertEqual(b.read_until("^220-"), "220-" + BANNER)
        wait_for(lambda: len(self.pids(m)) == 2, 10, what="a second postscreen process")
        # ... while the old one finishes its session.
        self.assertEqual(a.cmd("MAIL FROM:<a@b.test>"), "250 2.1.0 Ok")
        self.assertEqual(a.cmd("RCPT TO:<x@example.com>"), "550 5.5.1 Protocol error")
        self.assertEqual(a.cmd("QUIT"), "221 2.0.0 Bye")
        m.wait_log(r"(?m)DISCONNECT %s$" % re.escape(self.ep(a, src)))

    def test_changed_access_table_restarts(self):
        src = client_addr()
        # Not chrooted: a chrooted postscreen cannot see the table in the
        # configuration folder, and needs "postfix reload" after a change.
        m = self.mta(files={"access.cidr": "%s reject\n" % src},
                     postscreen_access_list="cidr:@CONFIG@/access.cidr",
                     postscreen_denylist_action="drop", chroot="n")
        c = self.raw(m, src)
        self.assertEqual(c.reply(), "521 5.3.2 Service currently unavailable")
        # A session in progress survives the restart.
        busy_src = client_addr()
        busy = self.raw(m, busy_src)
        busy.read_until("^220-")
        time.sleep(1.1)
        m.write("access.cidr", "%s permit\n" % src)
        # The next connection finds the table changed: "table has changed
        # -- restarting"; a new postscreen process serves it.
        c = self.raw(m, src)
        self.assertEqual(c.reply(), "220 " + BANNER)
        c.cmd("QUIT")
        m.wait_log(r"table has changed -- restarting")
        m.wait_log(r"(?m)ALLOWLISTED %s$" % re.escape(self.ep(c, src)))
        self.assertEqual(busy.reply(), "220 " + BANNER)
        self.assertEqual(busy.cmd("QUIT"), "221 2.0.0 Bye")
        m.wait_log(r"(?m)PASS NEW %s$" % re.escape(self.ep(busy, busy_src)))
        self.assertEqual(len(self.pids(m)), 2)


DEEP = {"postscreen_pipelining_enable": "yes", "postscreen_non_smtp_command_enable": "yes",
        "postscreen_bare_newline_enable": "yes"}


class DeepTests(PostscreenTest):
    """The deep protocol tests. Debian's Postfix 3.7.11 was run with
    postscreen_access_list empty, postscreen_greet_wait = 1s and the three
    *_enable = yes, on 127.0.0.1:24777 (postfix -c DIR start, Debian's
    master.cf lines); clients from 127.0.2.x ... 127.0.4.x. The "Postfix:"
    comments quote it (its EHLO also lists SMTPUTF8, which we do not
    implement)."""

    def deep_mta(self, **kw):
        params = dict(DEEP)
        params.update(kw)
        return self.mta(**params)

    def start(self, m, src):
        # Postfix: "220-mx.example.test ESMTP" from the greet test, then
        # "220 mx.example.test ESMTP" from postscreen's own SMTP engine.
        c = self.raw(m, src)
        self.assertEqual(c.read_until("^220-"), "220-" + BANNER)
        self.assertEqual(c.reply(), "220 " + BANNER)
        return c

    def ehlo_reply(self, c):
        text = c.reply()
        self.assertTrue(text.startswith("250-mx.test.invalid\n"), text)
        self.assertNotIn("PIPELINING", text)
        return text

    def test_pipelining_enforce(self):
        m = self.deep_mta()
        src = client_addr()
        c = self.start(m, src)
        # Postfix (postscreen_pipelining_action = enforce, the default):
        # "EHLO a.example\r\nMAIL FROM:<a@b.example>\r\n" in one write gets
        # the EHLO reply and "250 2.1.0 Ok"; RCPT "550 5.5.1 Protocol error";
        # DATA "554 5.5.1 Error: no valid recipients" and a hang-up. Log:
        # "COMMAND PIPELINING from [127.0.2.1]:43181 after EHLO: MAIL
        # FROM:<a@b.example>\r\n", "NOQUEUE: reject: RCPT from
        # [127.0.2.1]:43181: 550 5.5.1 Protocol error; from=<a@b.example>,
        # to=<x@y.example>, proto=ESMTP, helo=<a.example>", "DATA without
        # valid RCPT from ...", "DISCONNECT ..."; no PASS NEW.
        c.send("EHLO a.example\r\nMAIL FROM:<a@b.example>\r\n")
        self.ehlo_reply(c)
        self.assertEqual(c.reply(), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@y.example>"), "550 5.5.1 Protocol error")
        self.assertEqual(c.cmd("DATA"), "554 5.5.1 Error: no valid recipients")
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)postscreen\[\d+\]: COMMAND PIPELINING from %s after EHLO: "
                   r"MAIL FROM:<a@b\.example>\\r\\n$" % ep)
        m.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s: 550 5\.5\.1 Protocol error; "
                   r"from=<a@b\.example>, to=<x@y\.example>, proto=ESMTP, helo=<a\.example>$" % ep)
        m.wait_log(r"(?m)DATA without valid RCPT from %s$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        self.assertNotRegex(m.log(), r"PASS (NEW|OLD) %s" % ep)

    def test_pipelining_drop(self):
        m = self.deep_mta(postscreen_pipelining_action="drop")
        src = client_addr()
        c = self.start(m, src)
        # Postfix: "521 5.5.1 Protocol error" instead of the EHLO reply, and
        # a hang-up; "COMMAND PIPELINING from [127.0.3.1]:56863 after EHLO:
        # MAIL FROM:<a@b.example>\r\n", "DISCONNECT [127.0.3.1]:56863".
        c.send("EHLO a.example\r\nMAIL FROM:<a@b.example>\r\n")
        self.assertEqual(c.reply(), "521 5.5.1 Protocol error")
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)COMMAND PIPELINING from %s after EHLO: MAIL FROM:<a@b\.example>\\r\\n$"
                   % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)

    def test_non_smtp_command_drop(self):
        m = self.deep_mta()
        src = client_addr()
        c = self.start(m, src)
        # Postfix (postscreen_non_smtp_command_action = drop, the default):
        # "521 5.7.0 Error: I can break rules, too. Goodbye." and a hang-up;
        # "NON-SMTP COMMAND from [127.0.2.2]:55675 after CONNECT: GET /
        # HTTP/1.0", "DISCONNECT [127.0.2.2]:55675".
        self.assertEqual(c.cmd("GET / HTTP/1.0"),
                         "521 5.7.0 Error: I can break rules, too. Goodbye.")
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)postscreen\[\d+\]: NON-SMTP COMMAND from %s after CONNECT: "
                   r"GET / HTTP/1\.0$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        # Postfix: after EHLO, "CONNECT x:80 HTTP/1.0" is "NON-SMTP COMMAND
        # from [127.0.4.4]:35505 after EHLO: CONNECT x:80 HTTP/1.0"; a header
        # line ("Subject: hello") and "123 hello" (the default's
        # regexp:{{/^[^A-Z]/ Bogus}}) are refused the same way.
        for src2, lines, after in ((client_addr(), ["EHLO a.example", "CONNECT x:80 HTTP/1.0"], "EHLO"),
                                   (client_addr(), ["Subject: hello"], "CONNECT"),
                                   (client_addr(), ["123 hello"], "CONNECT")):
            c2 = self.start(m, src2)
            for line in lines[:-1]:
                c2.send(line + "\r\n")
                self.ehlo_reply(c2)
            self.assertEqual(c2.cmd(lines[-1]), "521 5.7.0 Error: I can break rules, too. Goodbye.")
            self.assertTrue(c2.closed())
            m.wait_log(r"(?m)NON-SMTP COMMAND from %s after %s: %s$"
                       % (re.escape(self.ep(c2, src2)), after, re.escape(lines[-1])))

    def test_non_smtp_command_enforce(self):
        m = self.deep_mta(postscreen_non_smtp_command_action="enforce")
        src = client_addr()
        c = self.start(m, src)
        # Postfix: "GET / HTTP/1.0" gets "502 5.5.2 Error: command not
        # recognized", the session goes on and RCPT gets "550 5.5.1
        # Protocol error"; "NON-SMTP COMMAND from [127.0.3.2]:47107 after
        # CONNECT: GET / HTTP/1.0", "NOQUEUE: reject: RCPT from
        # [127.0.3.2]:47107: 550 5.5.1 Protocol error; from=<a@b.example>,
        # to=<x@y.example>, proto=ESMTP, helo=<a.example>".
        self.assertEqual(c.cmd("GET / HTTP/1.0"), "502 5.5.2 Error: command not recognized")
        c.send("EHLO a.example\r\n")
        self.ehlo_reply(c)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@y.example>"), "550 5.5.1 Protocol error")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)NON-SMTP COMMAND from %s after CONNECT: GET / HTTP/1\.0$" % ep)
        m.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s: 550 5\.5\.1 Protocol error; "
                   r"from=<a@b\.example>, to=<x@y\.example>, proto=ESMTP, helo=<a\.example>$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        self.assertNotRegex(m.log(), r"PASS (NEW|OLD) %s" % ep)

    def test_bare_newline_enforce(self):
        m = self.deep_mta(postscreen_bare_newline_action="enforce")
        src = client_addr()
        c = self.start(m, src)
        # Postfix: "EHLO a.example\n" gets the EHLO reply, RCPT "550 5.5.1
        # Protocol error"; "BARE NEWLINE from [127.0.3.3]:34187 after EHLO
        # a.example", then the NOQUEUE line with 550 5.5.1.
        c.send("EHLO a.example\n")
        self.ehlo_reply(c)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@y.example>"), "550 5.5.1 Protocol error")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)postscreen\[\d+\]: BARE NEWLINE from %s after EHLO a\.example$" % ep)
        m.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s: 550 5\.5\.1 Protocol error;" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        self.assertNotRegex(m.log(), r"PASS (NEW|OLD) %s" % ep)

    def test_bare_newline_drop(self):
        m = self.deep_mta(postscreen_bare_newline_action="drop")
        src = client_addr()
        c = self.start(m, src)
        # Postfix: "521 5.5.1 Protocol error" instead of the EHLO reply and
        # a hang-up; "BARE NEWLINE from [127.0.3.5]:59315 after EHLO
        # a.example", "DISCONNECT [127.0.3.5]:59315".
        c.send("EHLO a.example\n")
        self.assertEqual(c.reply(), "521 5.5.1 Protocol error")
        self.assertTrue(c.closed())
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)BARE NEWLINE from %s after EHLO a\.example$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)

    def test_pipelining_ignore_passes_but_is_tested_again(self):
        m = self.deep_mta(postscreen_pipelining_action="ignore")
        src = client_addr()
        c = self.start(m, src)
        # Postfix: the failure is logged, RCPT gets "450 4.3.2 Service
        # currently unavailable" and the session ends with "PASS NEW
        # [127.0.3.4]:47607"; the cache holds "GREET;1;NOW;NOW+30d;NOW+30d"
        # (the pipelining result expires at once), so the next connection
        # is tested again: postscreen's engine answers, not smtpd.
        c.send("EHLO a.example\r\nMAIL FROM:<a@b.example>\r\n")
        self.ehlo_reply(c)
        self.assertEqual(c.reply(), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@y.example>"),
                         "450 4.3.2 Service currently unavailable")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)COMMAND PIPELINING from %s after EHLO: " % ep)
        m.wait_log(r"(?m)PASS NEW %s$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        now = int(time.time())
        e = Cache.cache_entry(self, m, src)
        self.assertLessEqual(e[2], now)
        self.assertTrue(abs(e[3] - (now + 30 * 86400)) < 10, e)
        self.assertTrue(abs(e[4] - (now + 30 * 86400)) < 10, e)
        time.sleep(1.1)
        # Postfix, next connection of a client whose greet result holds:
        # no "220-" line, the engine's "220 mx.example.test ESMTP" at once.
        c2 = self.raw(m, src)
        self.assertEqual(c2.reply(), "220 " + BANNER)
        c2.send("EHLO a.example\r\n")
        self.ehlo_reply(c2)
        self.assertEqual(c2.cmd("QUIT"), "221 2.0.0 Bye")
        self.assertNotRegex(m.log(), r"PASS OLD %s" % re.escape(self.ep(c2, src)))

    def test_tests_go_on_after_rcpt_and_hangup_is_logged(self):
        m = self.deep_mta()
        # Postfix: a client that pipelines "NOOP\r\nNOOP\r\n" after its
        # RCPT got 450 fails then: "COMMAND PIPELINING from
        # [127.0.5.2]:55345 after NOOP: NOOP\r\n", no PASS NEW, nothing in
        # the cache; so its next connection is tested again.
        src = client_addr()
        c = self.start(m, src)
        c.send("EHLO a.example\r\n")
        self.ehlo_reply(c)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@y.example>"), "450 4.3.2 Service currently unavailable")
        c.send("NOOP\r\nNOOP\r\n")
        self.assertEqual(c.reply(), "250 2.0.0 Ok")
        self.assertEqual(c.reply(), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@y.example>"), "550 5.5.1 Protocol error")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)COMMAND PIPELINING from %s after NOOP: NOOP\\r\\n$" % ep)
        m.wait_log(r"(?m)DISCONNECT %s$" % ep)
        self.assertNotRegex(m.log(), r"PASS (NEW|OLD) %s" % ep)
        c2 = self.start(m, src)
        self.assertEqual(c2.cmd("QUIT"), "221 2.0.0 Bye")
        # Postfix: a client that hangs up after its RCPT: "HANGUP after 7
        # from [127.0.5.1]:60501 in tests after SMTP handshake", "PASS NEW
        # [127.0.5.1]:60501", "DISCONNECT [127.0.5.1]:60501".
        src3 = client_addr()
        c3 = self.start(m, src3)
        c3.send("EHLO a.example\r\n")
        self.ehlo_reply(c3)
        self.assertEqual(c3.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")
        self.assertEqual(c3.cmd("RCPT TO:<x@y.example>"), "450 4.3.2 Service currently unavailable")
        c3.close()
        ep3 = re.escape(self.ep(c3, src3))
        m.wait_log(r"(?m)HANGUP after [\d.]+ from %s in tests after SMTP handshake\n"
                   r".*PASS NEW %s\n.*DISCONNECT %s$" % (ep3, ep3, ep3))

    def test_good_client_is_told_to_come_back_then_goes_through(self):
        cap = Capture()
        self.addCleanup(cap.stop)
        m = self.deep_mta(capture=cap)
        src = client_addr()
        c = self.start(m, src)
        # Postfix: a well-behaved client gets "450 4.3.2 Service currently
        # unavailable" for each RCPT (logged "NOQUEUE: reject: RCPT from
        # [127.0.2.4]:46127: 450 4.3.2 Service currently unavailable;
        # from=<a@b.example>, to=<x@y.example>, proto=ESMTP,
        # helo=<a.example>"); at the end of the session "PASS NEW
        # [127.0.2.4]:46127", then "DISCONNECT [127.0.2.4]:46127". A client
        # that says only EHLO and QUIT does not pass.
        c.send("EHLO a.example\r\n")
        self.ehlo_reply(c)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@example.com>"), "450 4.3.2 Service currently unavailable")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        ep = re.escape(self.ep(c, src))
        m.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s: 450 4\.3\.2 Service currently "
                   r"unavailable; from=<a@b\.example>, to=<x@example\.com>, proto=ESMTP, "
                   r"helo=<a\.example>$" % ep)
        m.wait_log(r"(?m)PASS NEW %s\n.*DISCONNECT %s$" % (ep, ep))
        # Postfix's cache entry: "1796755454;1;1799261060;1799261060;
        # 1799261060": the greet pass for postscreen_greet_ttl (1d), DNSBL
        # disabled (1), the three deep passes for their ttls (30d).
        now = int(time.time())
        e = Cache.cache_entry(self, m, src)
        self.assertEqual(e[1], 1)
        self.assertTrue(abs(e[0] - (now + 86400)) < 10, e)
        for t in e[2:]:
            self.assertTrue(abs(t - (now + 30 * 86400)) < 10, e)
        # Postfix, the retry: "PASS OLD [127.0.2.4]:46855" and smtpd's
        # "220 mx.example.test ESMTP" at once; smtpd announces PIPELINING.
        c2 = self.raw(m, src)
        self.assertEqual(c2.reply(), "220 " + BANNER)
        self.assertIn("250-PIPELINING", c2.cmd("EHLO a.example"))
        self.assertEqual(c2.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")
        self.assertEqual(c2.cmd("RCPT TO:<x@example.com>"), "250 2.1.5 Ok")
        self.assertEqual(c2.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        self.assertTrue(c2.cmd("Subject: hi\r\n\r\nbody\r\n.").startswith("250 2.0.0 Ok: queued as "))
        self.assertEqual(c2.cmd("QUIT"), "221 2.0.0 Bye")
        m.wait_log(r"(?m)postscreen\[\d+\]: PASS OLD %s$" % re.escape(self.ep(c2, src)))
        got = cap.wait(1)
        self.assertIn(b"body", got[0].content)
        self.assertEqual(got[0].rcpt_tos, ["x@example.com"])
        # A client that leaves after EHLO has not passed: tested again.
        src3 = client_addr()
        c3 = self.start(m, src3)
        c3.send("EHLO a.example\r\n")
        self.ehlo_reply(c3)
        self.assertEqual(c3.cmd("QUIT"), "221 2.0.0 Bye")
        m.wait_log(r"(?m)DISCONNECT %s$" % re.escape(self.ep(c3, src3)))
        # Postfix's cache entry for it: "1796755464;1;0;0;0".
        e = Cache.cache_entry(self, m, src3)
        self.assertEqual(e[1:], [1, 0, 0, 0])
        c4 = self.raw(m, src3)
        self.assertEqual(c4.reply(), "220 " + BANNER)
        c4.send("EHLO a.example\r\n")
        self.ehlo_reply(c4)
        self.assertEqual(c4.cmd("QUIT"), "221 2.0.0 Bye")
        self.assertNotRegex(m.log(), r"PASS (NEW|OLD) %s" % re.escape(self.ep(c3, src3)))


class NotImplemented(PostscreenTest):
    def test_unimplemented_parameters_are_refused_aloud(self):
        m = self.mta(postscreen_use_tls="yes", postscreen_upstream_proxy_protocol="haproxy")
        m.wait_log("postscreen_upstream_proxy_protocol")
        log = m.log()
        self.assertIn("warning: main.cf: parameter postscreen_use_tls is not "
                      "implemented by this mail system; it has no effect", log)
        self.assertIn("warning: main.cf: parameter postscreen_upstream_proxy_protocol is not "
                      "implemented by this mail system; it has no effect", log)
        self.assertNotIn("postscreen_pipelining_enable", log)


if __name__ == "__main__":
    unittest.main()
