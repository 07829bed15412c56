"""After-queue content filter (content_filter, FILTER actions) with the
amavis set-up of Postfix's FILTER_README and amavisd-new's README.postfix,
unchanged but for the ports, and a before-queue proxy (smtpd_proxy_filter).

The filter is a capture server standing in for amavis: it records what it
gets and hands it back to the re-injection smtpd service with the same
envelope, answering 250 only after that service accepted it, as amavis
does. Checked: the message passes filter -> re-injection -> next hop
exactly once, the re-injected message is not filtered again, and the
re-injection service's receive_override_options keep header_checks and
milters out of it.

XFORWARD: the filter transport has smtp_send_xforward_command = yes; the
stand-in offers XFORWARD, remembers what it was told and passes it on to
the re-injection smtpd (smtpd_authorized_xforward_hosts), as amavis does,
so the re-injection's log names the original client and queue ID (its
Received: header names the filter, as Postfix's does).
"""
import os
import re
import smtplib
import tempfile
import threading
import unittest

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as AioSMTP

from capture import Capture
from milter_server import Milter
from mta import MTA, free_port, wait_for
from smtpd_util import Client

QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$")

AMAVIS_MASTER_CF = """\
smtp-amavis unix -      -       n     -       2  smtp
    -o syslog_name=postfix/amavis
    -o smtp_data_done_timeout=1200
    -o smtp_send_xforward_command=yes
    -o disable_dns_lookups=yes
    -o max_use=20

127.0.0.1:{reinject} inet n  -       n       -       -  smtpd
    -o syslog_name=postfix/{reinject}
    -o content_filter=
    -o mynetworks_style=host
    -o mynetworks=127.0.0.0/8
    -o local_recipient_maps=
    -o relay_recipient_maps=
    -o strict_rfc821_envelopes=yes
    -o smtp_tls_security_level=none
    -o smtpd_tls_security_level=none
    -o smtpd_restriction_classes=
    -o smtpd_delay_reject=no
    -o smtpd_client_restrictions=permit_mynetworks,reject
    -o smtpd_helo_restrictions=
    -o smtpd_sender_restrictions=
    -o smtpd_relay_restrictions=
    -o smtpd_recipient_restrictions=permit_mynetworks,reject
    -o smtpd_end_of_data_restrictions=
    -o smtpd_error_sleep_time=0
    -o smtpd_soft_error_limit=1001
    -o smtpd_hard_error_limit=1000
    -o smtpd_client_connection_count_limit=0
    -o smtpd_client_connection_rate_limit=0
    -o receive_override_options=no_header_body_checks,no_unknown_recipient_checks,no_milters
    -o smtpd_authorized_xforward_hosts=127.0.0.0/8
"""


class _XforwardSMTP(AioSMTP):
    """aiosmtpd with XFORWARD, as amavis offers it to Postfix."""

    async def smtp_XFORWARD(self, arg):
        attrs = getattr(self.session, "xforward", {})
        for item in (arg or "").split():
            name, _, value = item.partition("=")
            attrs[name.upper()] = value
        self.session.xforward = attrs
        await self.push("250 2.0.0 Ok")


class _FilterHandler:
    def __init__(self, flt):
        self.flt = flt

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        session.xforward = {}
        return responses[:-1] + ["250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT",
                                 responses[-1]]

    async def handle_DATA(self, server, session, envelope):
        flt = self.flt
        xforward = dict(getattr(session, "xforward", {}))
        with flt.lock:
            flt.messages.append(envelope)
            flt.xforwards.append(xforward)
        # As amavis: the checked message goes back with a header of ours,
        # and with the original client passed on by XFORWARD.
        data = b"X-Virus-Scanned: test filter\r\n" + envelope.content
        try:
            with smtplib.SMTP("127.0.0.1", flt.reinject_port, timeout=30) as s:
                s.ehlo("filter.test")
                if xforward and s.has_extn("xforward"):
                    args = " ".join("%s=%s" % kv for kv in sorted(xforward.items()))
                    code, text = s.docmd("XFORWARD", args)
                    if code != 250:
                        return "451 4.5.0 XFORWARD refused: %d %s" % (code, text)
                s.sendmail(envelope.mail_from, envelope.rcpt_tos, data)
        except smtplib.SMTPException as e:
            return "451 4.5.0 re-injection failed: %s" % e
        return "250 2.0.0 Ok, passed and re-injected"


class _XforwardController(Controller):
    def factory(self):
        return _XforwardSMTP(self.handler, **self.SMTP_kwargs)


class FilterStandIn:
    """amavis's place: SMTP in on port, re-injection to reinject_port."""

    def __init__(self, reinject_port):
        self.port = free_port()
        self.reinject_port = reinject_port
        self.lock = threading.Lock()
        self.messages = []
        self.xforwards = []
        self.controller = _XforwardController(_FilterHandler(self), hostname="127.0.0.1",
                                              port=self.port, decode_data=False,
                                              ready_timeout=10)
        self.controller.start()

    def stop(self):
        self.controller.stop()


class _ProxyHandler:
    """A before-queue filter: 550 for a marked message, else 250."""

    def __init__(self, proxy):
        self.proxy = proxy

    async def handle_DATA(self, server, session, envelope):
        with self.proxy.lock:
            self.proxy.messages.append(envelope)
        if b"X-Mark: reject" in envelope.content:
            return "550 5.7.1 proxy says this is spam"
        return "250 2.0.0 Ok: queued as PROXY1"


class ProxyStandIn:
    def __init__(self):
        self.port = free_port()
        self.lock = threading.Lock()
        self.messages = []
        self.controller = Controller(_ProxyHandler(self), hostname="127.0.0.1",
                                     port=self.port, decode_data=False, ready_timeout=10)
        self.controller.start()

    def stop(self):
        self.controller.stop()


def send(port, rcpts, text, source=None):
    c = Client(port, source=source)
    try:
        c.cmd("EHLO client.example.net")
        # With a proxy filter too: its OK is answered with ours (Postfix 3.7).
        reply = c.cmd("MAIL FROM:<a@b.example>")
        assert reply == "250 2.1.0 Ok", reply
        for r in rcpts:
            reply = c.cmd("RCPT TO:<%s>" % r)
            assert reply == "250 2.1.5 Ok", reply
        assert c.cmd("DATA").startswith("354")
        return c.cmd(text + "\r\n.")
    finally:
        c.cmd("QUIT")
        c.close()


class AfterQueueFilter(unittest.TestCase):

    def setUp(self):
        self.cap = Capture()
        self.addCleanup(self.cap.stop)
        self.reinject = free_port()
        self.flt = FilterStandIn(self.reinject)
        self.addCleanup(self.flt.stop)

    def table(self, text):
        fd, path = tempfile.mkstemp(prefix="cf-table-")
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def mta(self, **main_cf):
        params = {"relay_domains": "example.com",
                  "transport_maps": "inline:{example.com=relay:[127.0.0.1]:%d}" % self.cap.port,
                  "smtpd_error_sleep_time": "0"}
        params.update(main_cf)
        m = MTA(main_cf=params,
                extra_master_cf=AMAVIS_MASTER_CF.format(reinject=self.reinject))
        self.addCleanup(m.cleanup)
        wait_for(lambda: __import__("mta").port_open("127.0.0.1", self.reinject), 30,
                 what="re-injection smtpd")
        return m

    def test_amavis_setup_passes_once(self):
        # header_checks and a milter apply to mail from outside only.
        hc_milter = Milter(lambda stage, info: "continue")
        self.addCleanup(hc_milter.stop)
        m = self.mta(content_filter="smtp-amavis:[127.0.0.1]:%d" % self.flt.port,
                     header_checks="pcre:" + self.table("/^X-Virus-Scanned:/ REJECT no re-scan\n"),
                     smtpd_milters=hc_milter.spec)
        # The client comes from 127.0.0.2, so the re-injection (from
        # 127.0.0.1) can only show it through XFORWARD.
        reply = send(m.smtp_port, ["c@example.com", "d@example.com"],
                     "Subject: filtered\r\n\r\nbody", source="127.0.0.2")
        self.assertTrue(QUEUED.match(reply), reply)
        qid = QUEUED.match(reply).group(1)
        got = self.cap.wait(1)
        self.cap.settle(2)
        self.assertEqual(len(self.flt.messages), 1)
        self.assertEqual(len(self.cap.messages), 1)
        self.assertEqual(sorted(got[0].rcpt_tos), ["c@example.com", "d@example.com"])
        self.assertEqual(self.flt.messages[0].mail_from, "a@b.example")
        data = got[0].content.decode()
        # XFORWARD: our smtp client told the filter who the client was ...
        xf = self.flt.xforwards[0]
        self.assertEqual((xf.get("ADDR"), xf.get("HELO"), xf.get("PROTO"), xf.get("IDENT")),
                         ("127.0.0.2", "client.example.net", "ESMTP", qid))
        # ... and the re-injection smtpd logs it (orig_queue_id=,
        # orig_client=), while its Received: names the filter: Debian's
        # Postfix 3.7.11 given "XFORWARD NAME=orig.test ADDR=192.0.2.9 ..."
        # writes "Received: from filter.test (unknown [127.0.0.1])" and logs
        # "client=unknown[127.0.0.1], orig_queue_id=ABC123,
        # orig_client=orig.test[192.0.2.9]": XFORWARD is for the log.
        self.assertTrue(data.startswith("Received: from filter.test (localhost [127.0.0.1])"),
                        data[:300])
        self.assertIn("X-Virus-Scanned: test filter\r\n", data)
        self.assertEqual(len(re.findall(r"(?m)^Received: ", data)), 2)
        self.assertRegex(data, r"Received: from client\.example\.net \(\S+ \[127\.0\.0\.2\]\)\r\n"
                               r"\tby mx\.test\.invalid \(Postfix\) with ESMTP id %s;" % qid)
        # The filter transport delivered it; the re-injection queued it anew.
        m.wait_log(r"postfix/amavis/smtp\[\d+\]: %s: to=<c@example\.com>, relay=127\.0\.0\.1"
                   r"\[127\.0\.0\.1\]:%d, .*status=sent \(250 2\.0\.0 Ok, passed and "
                   r"re-injected\)" % (qid, self.flt.port))
        m.wait_log(r"postfix/%d/smtpd\[\d+\]: [0-9A-F]+: client=localhost\[127\.0\.0\.1\], "
                   r"orig_queue_id=%s, orig_client=\S+\[127\.0\.0\.2\]" % (self.reinject, qid))
        # no_milters: the milter saw only the client's message.
        self.assertEqual(len(hc_milter.find("mail")), 1)
        self.assertEqual(len(hc_milter.find("eom")), 1)

    def test_filter_action_from_access_table(self):
        m = self.mta(smtpd_recipient_restrictions=(
            "check_recipient_access inline:{{c@example.com=FILTER smtp-amavis:[127.0.0.1]:%d}},"
            " permit_mynetworks, reject" % self.flt.port))
        reply = send(m.smtp_port, ["c@example.com"], "Subject: via access\r\n\r\nbody")
        qid = QUEUED.match(reply).group(1)
        # Postfix 3.7: "NOQUEUE: filter: RCPT from localhost[127.0.0.1]:
        # <c@example.com>: Recipient address triggers FILTER smtp:[127.0.0.1]:10025;
        # from=<a@b.example> to=<c@example.com> proto=ESMTP helo=<client>"
        m.wait_log(r"NOQUEUE: filter: RCPT from localhost\[127\.0\.0\.1\]: <c@example\.com>: "
                   r"Recipient address triggers FILTER smtp-amavis:\[127\.0\.0\.1\]:%d; "
                   r"from=<a@b\.example> to=<c@example\.com> proto=ESMTP "
                   r"helo=<client\.example\.net>" % self.flt.port)
        self.cap.wait(1)
        self.cap.settle(1.5)
        self.assertEqual(len(self.flt.messages), 1)
        self.assertEqual(len(self.cap.messages), 1)
        m.wait_log(r"%s: to=<c@example\.com>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d"
                   % (qid, self.flt.port))
        # Mail that no FILTER names goes straight to its next hop.
        send(m.smtp_port, ["e@example.com"], "Subject: direct\r\n\r\nbody")
        self.cap.wait(2)
        self.assertEqual(len(self.flt.messages), 1)

    def test_filter_action_from_header_checks(self):
        m = self.mta(header_checks="pcre:" + self.table(
            "/^Subject: scan me/ FILTER smtp-amavis:[127.0.0.1]:%d\n" % self.flt.port))
        reply = send(m.smtp_port, ["c@example.com"], "Subject: scan me\r\n\r\nbody")
        self.assertTrue(QUEUED.match(reply), reply + m.log())
        qid = QUEUED.match(reply).group(1)
        m.wait_log(r"%s: filter: header Subject: scan me from localhost\[127\.0\.0\.1\]; "
                   r"from=<a@b\.example> to=<c@example\.com> proto=ESMTP "
                   r"helo=<client\.example\.net>: smtp-amavis:\[127\.0\.0\.1\]:%d"
                   % (qid, self.flt.port))
        self.cap.wait(1)
        self.assertEqual(len(self.flt.messages), 1)

    def test_filter_down_defers(self):
        down = free_port()
        m = self.mta(content_filter="smtp-amavis:[127.0.0.1]:%d" % down)
        reply = send(m.smtp_port, ["c@example.com"], "Subject: x\r\n\r\nbody")
        qid = QUEUED.match(reply).group(1)
        m.wait_log(r"postfix/amavis/smtp\[\d+\]: %s: to=<c@example\.com>, relay=none, .*"
                   r"status=deferred \(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: "
                   r"Connection refused\)" % (qid, down))
        self.assertEqual(self.cap.messages, [])


class BeforeQueueProxy(unittest.TestCase):

    def setUp(self):
        self.proxy = ProxyStandIn()
        self.addCleanup(self.proxy.stop)

    def mta(self, **main_cf):
        params = {"relay_domains": "example.com",
                  "smtpd_proxy_filter": "127.0.0.1:%d" % self.proxy.port,
                  "smtpd_error_sleep_time": "0"}
        params.update(main_cf)
        m = MTA(main_cf=params)
        self.addCleanup(m.cleanup)
        return m

    def test_proxy_reply_is_the_clients(self):
        for options in ("", "speed_adjust"):
            m = self.mta(smtpd_proxy_options=options)
            before = len(self.proxy.messages)
            reply = send(m.smtp_port, ["c@example.com"],
                         "Subject: bad\r\nX-Mark: reject\r\n\r\nbody\r\n..dotted")
            self.assertEqual(reply, "550 5.7.1 proxy says this is spam")
            reply = send(m.smtp_port, ["c@example.com"], "Subject: good\r\n\r\nbody\r\n..dot")
            self.assertEqual(reply, "250 2.0.0 Ok: queued as PROXY1")
            self.assertEqual(len(self.proxy.messages), before + 2)
            got = self.proxy.messages[-1]
            self.assertEqual(got.mail_from, "a@b.example")
            self.assertEqual(got.rcpt_tos, ["c@example.com"])
            # As Postfix 3.7 in this mode: no queue ID in our Received: header.
            self.assertRegex(got.content, rb"^Received: from client\.example\.net "
                             rb"\(localhost \[127\.0\.0\.1\]\)\r\n\tby mx\.test\.invalid "
                             rb"\(Postfix\) with ESMTP\r\n\tfor <c@example\.com>; ")
            self.assertTrue(got.content.endswith(b"\r\n\r\nbody\r\n.dot\r\n"), got.content)
            # Nothing is queued here: the filter queues.
            self.assertEqual(m.queue_files("incoming") + m.queue_files("active")
                             + m.queue_files("deferred"), [])
            # Postfix 3.7: "NOQUEUE: client=localhost[127.0.0.1]", then
            # "proxy-reject: END-OF-MESSAGE: 550 5.7.1 proxy says this is spam;
            # from=<a@b.example> to=<c@example.com> proto=ESMTP helo=<client>"
            m.wait_log(r"NOQUEUE: client=localhost\[127\.0\.0\.1\]")
            m.wait_log(r"\]: proxy-reject: END-OF-MESSAGE: 550 5\.7\.1 proxy says this is spam; "
                       r"from=<a@b\.example> to=<c@example\.com> proto=ESMTP "
                       r"helo=<client\.example\.net>")
            m.wait_log(r"\]: proxy-accept: END-OF-MESSAGE: 250 2\.0\.0 Ok: queued as PROXY1; "
                       r"from=<a@b\.example> to=<c@example\.com>")

    def test_proxy_down(self):
        m = self.mta(smtpd_proxy_filter="127.0.0.1:%d" % free_port())
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), "451 4.3.0 Error: queue file write error")
        m.wait_log(r"warning: connect to proxy filter 127\.0\.0\.1:\d+: Connection refused")


if __name__ == "__main__":
    unittest.main()
