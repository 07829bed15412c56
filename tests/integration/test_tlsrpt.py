"""test_tlsrpt - TLS-RPT (RFC 8460): counts in the smtp client, daily
reports from the tlsrpt service, through our own queue.

The whole system runs (master, smtpd, qmgr, smtp, tlsrpt) with
smtp_tls_security_level = dane, DNSSEC (dnssec_util: nsd, ldns-signzone,
a validating unbound), MTA-STS (HTTPS policy servers, a test CA) and
smtp_tlsrpt_enable = yes. The test mails one message to each domain:

  dane-ok.test      DANE-EE TLSA that matches           -> tlsa, 1 success
  dane-bad.test     TLSA with a wrong digest (deferred) -> tlsa, 1 failure
  sts-ok.test       MTA-STS enforce, CA certificate     -> sts, 1 success
  sts-testing.test  MTA-STS testing, self-signed        -> sts, 1 failure
                    (certificate-not-trusted), the mail is delivered
  opportunistic.test  no policy, STARTTLS               -> no-policy-found, 1 success
  notls.test        no policy, no STARTTLS (delivered)  -> no-policy-found, 1 failure
                    (starttls-not-supported)
  norpt.test        DANE, no _smtp._tls TXT record      -> no report
  tworec.test       two TLSRPTv1 records                -> no report

Each of the first six publishes "_smtp._tls.<domain> TXT v=TLSRPTv1;
rua=mailto:...@reports.test"; reports.test's MX is a plain capture
server. The report for "today" is forced with the service request
"send date=today" on private/tlsrpt; the daily path is tested by renaming
the day file to yesterday's name and sending master's wakeup byte.
Each report arrives as mail and is checked against RFC 8460: headers
(section 5.3), gzip JSON (section 4.4) and the counts of the sessions
made here.
"""
import datetime
import email
import email.policy
import gzip
import ipaddress
import json
import os
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest

import test_smtp as peers
from dnssec_util import DnssecWorld, PolicyServer, TestCA, TlsCapture, self_signed, tlsa_digest
from mta import LIBEXEC, MTA, wait_for

POLICY = "version: STSv1\nmode: %s\nmx: %s\nmax_age: 86400\n"
SENDER = "tlsrpt@sender.test"
REPORT_TYPES = {"tlsa", "sts", "no-policy-found"}
RESULT_TYPES = {"starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
                "certificate-not-trusted", "validation-failure", "tlsa-invalid",
                "dnssec-invalid", "dane-required", "sts-policy-fetch-error",
                "sts-policy-invalid", "sts-webpki-invalid"}


def rfc3339(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def check_schema(test, r):
    """RFC 8460 section 4.4: the members, their types and values."""
    test.assertEqual(set(r), {"organization-name", "date-range", "contact-info", "report-id",
                              "policies"}, r)
    test.assertEqual(set(r["date-range"]), {"start-datetime", "end-datetime"})
    start, end = (rfc3339(r["date-range"][k]) for k in ("start-datetime", "end-datetime"))
    test.assertEqual((start.hour, start.minute, start.second), (0, 0, 0))
    test.assertLess(start, end)
    test.assertIsInstance(r["report-id"], str)
    test.assertTrue(r["report-id"])
    test.assertIsInstance(r["policies"], list)
    for p in r["policies"]:
        test.assertTrue(set(p) <= {"policy", "summary", "failure-details"}, p)
        pol = p["policy"]
        test.assertTrue(set(pol) <= {"policy-type", "policy-string", "policy-domain", "mx-host"})
        test.assertIn(pol["policy-type"], REPORT_TYPES)
        for k in ("policy-string", "mx-host"):
            if k in pol:
                test.assertTrue(all(isinstance(s, str) for s in pol[k]), pol)
        test.assertEqual(set(p["summary"]), {"total-successful-session-count",
                                             "total-failure-session-count"})
        failed = 0
        for f in p.get("failure-details", []):
            test.assertTrue(set(f) <= {"result-type", "sending-mta-ip", "receiving-mx-hostname",
                                       "receiving-mx-helo", "receiving-ip",
                                       "failed-session-count", "additional-information",
                                       "failure-reason-code"}, f)
            test.assertIn(f["result-type"], RESULT_TYPES)
            for k in ("sending-mta-ip", "receiving-ip"):
                if k in f:
                    ipaddress.ip_address(f[k])
            test.assertIsInstance(f["failed-session-count"], int)
            failed += f["failed-session-count"]
        test.assertEqual(failed, p["summary"]["total-failure-session-count"])


class TlsRpt(unittest.TestCase):
    # domain: (policy type, successful sessions, (result-type, failure-reason-code))
    EXPECT = {
        "dane-ok": ("tlsa", 1, None),
        "dane-bad": ("tlsa", 0, ("validation-failure", "X509_V_ERR_DANE_NO_MATCH")),
        "sts-ok": ("sts", 1, None),
        "sts-testing": ("sts", 0, ("certificate-not-trusted", None)),
        "opportunistic": ("no-policy-found", 1, None),
        "notls": ("no-policy-found", 0, ("starttls-not-supported", None)),
    }
    REPORTED = sorted(EXPECT)
    MAIL = REPORTED + ["norpt", "tworec"]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tlsrpt-test-")
        os.chmod(cls.tmp, 0o755)
        cls.world = DnssecWorld()
        cls.caps, cls.https = {}, {}
        cls.m = None
        try:
            cls._build()
            cls._deliver()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _build(cls):
        ca = TestCA(cls.tmp)
        cls.ca = ca
        names = ["dane-ok", "dane-bad", "sts-ok", "sts-testing", "opportunistic", "notls",
                 "reports"]
        cls.addr = {n: peers.loopback_addr() for n in names}
        cls.port = peers.common_port(*cls.addr.values())
        rua = "_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:%s@reports.test\"\n"
        for n in ("dane-ok", "dane-bad"):
            chain, key = self_signed(cls.tmp, "mx.%s.test" % n)
            cls.caps[n] = TlsCapture(cls.addr[n], cls.port, chain, key, name=n)
            digest = tlsa_digest(chain, 1, 1) if n == "dane-ok" else "00" * 32
            cls.tlsa = getattr(cls, "tlsa", {})
            cls.tlsa[n] = "3 1 1 " + digest.upper()
            rec = "@ IN MX 10 mx\nmx IN A %s\n_%d._tcp.mx IN TLSA 3 1 1 %s\n" % (
                cls.addr[n], cls.port, digest)
            if n == "dane-ok":
                # Two rua addresses: one report, both recipients.
                rec += ("_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:tls-reports@reports.test,"
                        "mailto:second@reports.test\"\n")
            else:
                rec += rua % "tls-reports"
            cls.world.zone(n + ".test", rec)
        for n, mode, good in (("sts-ok", "enforce", True), ("sts-testing", "testing", False)):
            host = "mx.%s.test" % n
            chain, key = ca.leaf(host) if good else self_signed(cls.tmp, host)
            cls.caps[n] = TlsCapture(cls.addr[n], cls.port, chain, key, name=n)
            web = peers.loopback_addr()
            wchain, wkey = ca.leaf("mta-sts.%s.test" % n)
            cls.https[n] = PolicyServer(web, wchain, wkey, POLICY % (mode, host))
            cls.world.zone(n + ".test", "@ IN MX 10 mx\nmx IN A %s\nmta-sts IN A %s\n"
                           "_mta-sts IN TXT \"v=STSv1; id=20240101\"\n%s"
                           % (cls.addr[n], web, rua % "tls-reports"), signed=False)
        chain, key = self_signed(cls.tmp, "mx.opportunistic.test")
        cls.caps["opportunistic"] = TlsCapture(cls.addr["opportunistic"], cls.port, chain, key,
                                               name="opportunistic")
        cls.caps["notls"] = peers.Capture(cls.addr["notls"], cls.port, name="notls")
        for n in ("opportunistic", "notls"):
            cls.world.zone(n + ".test", "@ IN MX 10 mx\nmx IN A %s\n%s"
                           % (cls.addr[n], rua % "tls-reports"), signed=False)
        # Domains served by dane-ok's MX host: no record, two records.
        cls.world.zone("norpt.test", "@ IN MX 10 mx.dane-ok.test.\n")
        cls.world.zone("tworec.test", "@ IN MX 10 mx.dane-ok.test.\n"
                       + rua % "tls-reports"
                       + "_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:other@reports.test\"\n")
        cls.reports = peers.Capture(cls.addr["reports"], cls.port, name="reports")
        cls.world.zone("reports.test", "@ IN MX 10 mx\nmx IN A %s\n" % cls.addr["reports"],
                       signed=False)
        cls.world.start()

        cls.m = MTA(main_cf={
            "resolv_conf": cls.world.resolv_conf, "inet_protocols": "ipv4",
            "smtp_tcp_port": str(cls.port), "smtp_dns_support_level": "dnssec",
            "smtp_tls_security_level": "dane", "smtp_tls_loglevel": "1",
            "smtp_mta_sts_enable": "yes", "smtp_mta_sts_CAfile": ca.cert,
            "smtp_tls_CAfile": ca.cert,
            "smtp_tlsrpt_enable": "yes", "tlsrpt_organization_name": "Test Sender Org",
            "tlsrpt_contact_info": "tls-admin@sender.test", "tlsrpt_sender": SENDER,
            # One attempt per message: a deferred one must not be retried
            # (and counted again) while the test runs.
            "minimal_backoff_time": "3600s", "maximal_backoff_time": "3600s",
            "queue_run_delay": "3600s",
        }, extra_master_cf="tlsrpt    unix  -       -       n       3600    1       tlsrpt\n",
            start=False)
        shutil.chown(cls.m.data_dir, "postfix")	# data_directory belongs to mail_owner
        cls.m.start()

    @classmethod
    def _deliver(cls):
        for n in cls.MAIL:
            msg = "From: a@sender.test\r\nTo: u@%s.test\r\nSubject: to %s\r\n\r\nbody\r\n" % (n, n)
            with smtplib.SMTP(cls.m.addr, cls.m.smtp_port, timeout=30) as s:
                s.sendmail("a@sender.test", ["u@%s.test" % n], msg)
        for n in cls.MAIL:
            status = "deferred" if n == "dane-bad" else "sent"
            cls.m.wait_log(r"to=<u@%s\.test>, relay=.*status=%s" % (re.escape(n), status),
                           timeout=90)
        cls.day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")

    @classmethod
    def tearDownClass(cls):
        if cls.m:
            cls.m.cleanup()
        for s in list(cls.caps.values()) + list(cls.https.values()):
            s.stop()
        if getattr(cls, "reports", None):
            cls.reports.stop()
        cls.world.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------
    def store(self, day=None):
        return os.path.join(self.m.data_dir, "tlsrpt", day or self.day)

    def service(self, payload):
        """One request (or master's wakeup byte) to private/tlsrpt."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(60)
            s.connect(os.path.join(self.m.queue_dir, "private", "tlsrpt"))
            s.sendall(payload)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
                if data.endswith(b"\0\0"):
                    break
        return dict(peers.parse_attrs(data))

    def wakeup(self):
        """What master does every wakeup period: connect, write "W", close."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(os.path.join(self.m.queue_dir, "private", "tlsrpt"))
            s.sendall(b"W")

    def reports_for(self, start):
        """The reports that arrived whose date range starts with start."""
        out = {}
        for msg in list(self.reports.messages):
            m = email.message_from_bytes(msg["data"], policy=email.policy.default)
            for part in m.walk():
                if part.get_content_type() == "application/tlsrpt+gzip":
                    r = json.loads(gzip.decompress(part.get_payload(decode=True)))
                    if r["date-range"]["start-datetime"] == start:
                        out[m["TLS-Report-Domain"]] = (msg, m, part, r)
        return out

    def wait_reports(self, start, count):
        return wait_for(lambda: len(self.reports_for(start)) >= count and self.reports_for(start),
                        60, what="%d TLS reports for %s" % (count, start))

    def check_reports(self, got, day_start, day_end=None):
        self.assertEqual(sorted(got), sorted(n + ".test" for n in self.REPORTED))
        for domain, (env, m, part, r) in got.items():
            # RFC 8460 section 5.3: the mail.
            self.assertEqual(env["from"], SENDER)
            want_to = ["tls-reports@reports.test"]
            if domain == "dane-ok.test":
                want_to.append("second@reports.test")
            self.assertEqual(sorted(env["to"]), sorted(want_to))
            self.assertEqual(m.get_content_type(), "multipart/report")
            self.assertEqual(m.get_param("report-type"), "tlsrpt")
            self.assertEqual(m["TLS-Report-Domain"], domain)
            self.assertEqual(m["TLS-Report-Submitter"], "sender.test")
            self.assertEqual(m["From"], SENDER)
            subject = " ".join(str(m["Subject"]).split())
            self.assertRegex(subject, r"^Report Domain: %s Submitter: sender\.test "
                             r"Report-ID: <[^<>@\s]+@[^<>@\s]+>$" % re.escape(domain))
            self.assertEqual(subject.split("Report-ID: ")[1], "<%s>" % r["report-id"])
            self.assertEqual(m["Message-Id"], "<%s>" % r["report-id"])
            fname = part.get_filename()
            self.assertRegex(fname, r"^sender\.test!%s!\d+!\d+!\w+\.json\.gz$" % re.escape(domain))
            # Section 4.4: the report.
            check_schema(self, r)
            self.assertEqual(r["organization-name"], "Test Sender Org")
            self.assertEqual(r["contact-info"], "tls-admin@sender.test")
            self.assertEqual(r["date-range"]["start-datetime"], day_start)
            if day_end:
                self.assertEqual(r["date-range"]["end-datetime"], day_end)
            self.assertEqual(len(r["policies"]), 1, r)
            p = r["policies"][0]
            name = domain[:-5]
            mx = "mx.%s" % domain
            ptype, ok, failure = self.EXPECT[name]
            self.assertEqual(p["policy"]["policy-type"], ptype)
            self.assertEqual(p["policy"]["policy-domain"], domain)
            if ptype == "tlsa":
                self.assertEqual(p["policy"]["policy-string"], [self.tlsa[name]])
                self.assertEqual(p["policy"]["mx-host"], [mx])
            elif ptype == "sts":
                mode = "enforce" if name == "sts-ok" else "testing"
                self.assertEqual(p["policy"]["policy-string"],
                                 (POLICY % (mode, mx)).strip().split("\n"))
                self.assertEqual(p["policy"]["mx-host"], [mx])
            else:
                self.assertNotIn("policy-string", p["policy"])
                self.assertNotIn("mx-host", p["policy"])
            self.assertEqual(p["summary"], {"total-successful-session-count": ok,
                                            "total-failure-session-count": 1 - ok})
            if ok:
                self.assertNotIn("failure-details", p)
                continue
            (f,) = p["failure-details"]
            self.assertEqual(f["result-type"], failure[0])
            self.assertEqual(f.get("failure-reason-code"), failure[1])
            self.assertEqual(f["receiving-mx-hostname"], mx)
            self.assertEqual(f["receiving-ip"], self.addr[name])
            self.assertEqual(f["failed-session-count"], 1)
            self.assertIn(ipaddress.ip_address(f["sending-mta-ip"]),
                          ipaddress.ip_network("127.0.0.0/8"))
            if name != "dane-bad":
                # Delivered anyway: the capture server saw the same client address.
                self.assertEqual(f["sending-mta-ip"], self.caps[name].messages[0]["peer"])

    # --- tests -----------------------------------------------------------------
    def test_deliveries_as_configured(self):
        # MTA-STS testing: delivered although the certificate does not verify.
        self.assertEqual(len(self.caps["sts-testing"].messages), 1)
        self.assertTrue(self.caps["sts-testing"].messages[0]["tls"])
        self.assertEqual([m["tls"] for m in self.caps["notls"].messages], [False])
        self.assertEqual(self.caps["dane-bad"].messages, [])
        self.assertIn("to=<u@dane-bad.test>", self.m.log())
        self.assertRegex(self.m.log(), r"to=<u@dane-bad\.test>, .*status=deferred "
                         r"\(Server certificate not verified\)")

    def test_today_report_now(self):
        with open(self.store()) as f:
            text = f.read()
        # Every MX domain is counted; whether it gets a report is decided later.
        for n in self.MAIL:
            self.assertIn("%s.test" % n, text)
        reply = self.service(peers.attrs([("request", "send"), ("date", "today")]))
        self.assertEqual(reply.get("status"), "0", reply)
        self.assertEqual(reply.get("count"), str(len(self.REPORTED)), reply)
        start = self.day + "T00:00:00Z"
        got = self.wait_reports(start, len(self.REPORTED))
        self.check_reports(got, start)
        self.m.wait_log(r"TLS report for dane-ok\.test, %s: 1 successful, 0 failed sessions, "
                        r"to=<tls-reports@reports\.test>,<second@reports\.test>" % self.day)
        self.m.wait_log(r"to=<tls-reports@reports\.test>, relay=.*status=sent",
                        count=len(self.REPORTED))
        # "today" leaves the day file for the daily report.
        self.assertTrue(os.path.exists(self.store()))
        # The sessions that delivered the reports are not counted (RFC 8460 5.3).
        with open(self.store()) as f:
            self.assertNotIn("reports.test", f.read())
        time.sleep(1)
        self.assertEqual(sorted(self.reports_for(start)), sorted(n + ".test" for n in self.REPORTED))

    def test_past_day_at_wakeup(self):
        # Yesterday's file: the same sessions, reported at master's wakeup.
        yesterday = (datetime.datetime.now(datetime.timezone.utc)
                     - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
        past = self.store(yesterday)
        shutil.copy(self.store(), past)
        shutil.chown(past, "postfix")
        self.wakeup()
        start, end = yesterday + "T00:00:00Z", yesterday + "T23:59:59Z"
        got = self.wait_reports(start, len(self.REPORTED))
        self.check_reports(got, start, end)
        # Reported: the file and its list of domains done are gone.
        wait_for(lambda: not os.path.exists(past), 10, what="%s removed" % past)
        self.assertFalse(os.path.exists(past + ".sent"))
        self.assertTrue(os.path.exists(self.store()))

    def test_bad_request(self):
        reply = self.service(peers.attrs([("request", "send"), ("date", "yesterday")]))
        self.assertEqual(reply.get("status"), "3", reply)
        self.m.wait_log(r"warning: bad tlsrpt service request: bad date: yesterday")

    def test_stand_alone_request(self):
        # tlsrpt -S: one request on stdin, as the man page shows it.
        p = subprocess.run([os.path.join(LIBEXEC, "tlsrpt"), "-S"], env=self.m.env(),
                           input=peers.attrs([("request", "send"), ("date", "2000-01-01")]),
                           capture_output=True, timeout=60)
        self.assertEqual(dict(peers.parse_attrs(p.stdout)), {"status": "0", "count": "0"},
                         p.stderr)


if __name__ == "__main__":
    unittest.main()
