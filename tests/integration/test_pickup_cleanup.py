"""test_pickup_cleanup.py - pickup does to local mail what Postfix's cleanup does.

The same sendmail submissions, with the same main.cf settings, go through
Debian's Postfix 3.7 (sendmail -C, postdrop, pickup, cleanup) and through
ours, each relaying to its own capture server; the tests compare what
arrived (envelopes, headers, returned messages) and the log lines.

Postfix 3.7.11, for the record (pickup mail, header_checks and friends):
    D0226A9868D: redirect: header Subject: r1 from local;
        from=<sender@remote.test> to=<a@remote.test>: red@remote.test
    E122AAAB521: reject: header Subject: rejectme from local;
        from=<sender@remote.test> to=<b@remote.test>: 5.7.1 go away
    E122AAAB521: to=<a@remote.test>, relay=none, delay=0.02,
        delays=0.02/0/0/0, dsn=5.7.1, status=bounced (go away)
    warning: CCA5EAAB2C2: message rejected: hopcount exceeded
and the notice of a REJECT carries "text/rfc822-headers" (headers only),
that of a mail loop the whole message; a REJECT with a 4.X.Y status
leaves the message in the maildrop queue. Postfix 3.7's non_smtpd_milters
see a connection from localhost [127.0.0.1] port 0, "HELO localhost",
MAIL and RCPT without angle brackets (no {mail_host}/{rcpt_host}), and
log "milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 5.7.0 text;
from=<s> to=<r>"; a milter that refuses a recipient gets "warning: QID:
milter configuration error: can't reject recipient in non-smtpd(8)
submission".
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from capture import Capture
from local_submit import PICKUP, run
from milter_server import Milter
from mta import MTA, SBIN, free_port, wait_for
from test_milter_real import Daemon
from test_postqueue import DebianPostfix

SENDMAIL = os.path.join(SBIN, "sendmail")

HEADER_CHECKS = """\
/^Subject: warnme/ WARN warned
/^X-Prep:/ PREPEND X-Added: yes
/^X-Ign:/ IGNORE
/^Subject: rejectme/ REJECT go away
/^Subject: tempme/ REJECT 4.7.1 later please
/^Subject: holdme/ HOLD held it
/^Subject: discardme/ DISCARD dropped
/^Subject: redirectme/ REDIRECT red@remote.test
/^X-After:/ WARN after
/^Subject: filterme/ FILTER smtp:[127.0.0.1]:{filter_port}
"""
BODY_CHECKS = """\
/^bodywarn/ WARN bw
/^bodyreject/ REJECT 5.7.9 nasty body
"""
MAIN_CF = {
    "canonical_maps": "inline:{old@remote.test=new@remote.test}",
    "sender_canonical_maps": "inline:{root=sysadmin@host.sub.example.com}",
    "masquerade_domains": "sub.example.com",
    "always_bcc": "archive@remote.test",
    "sender_bcc_maps": "inline:{sysadmin@sub.example.com=sbcc@remote.test}",
    "recipient_bcc_maps": "inline:{new@remote.test=rbcc@remote.test}",
    "header_checks": "regexp:{etc}/header_checks",
    "body_checks": "regexp:{etc}/body_checks",
    "hopcount_limit": "3",
}

# name: (sendmail arguments, input); the Subject names the message.
MESSAGES = {
    "rewrite": (["old@remote.test"], "Subject: warnme\nTo: old@remote.test, x@host.sub.example.com\n"
                "Cc: root\nX-Prep: 1\nX-Ign: 2\nReturn-Path: <x@y.test>\nContent-Length: 5\n"
                "Bcc: hidden@remote.test\n\nbodywarn\nsecond line\n"),
    "rejectme": (["-f", "sender@remote.test", "a@remote.test", "b@remote.test"],
                 "Subject: rejectme\nX-Foo: bar\n\nsecret body\n"),
    "tempme": (["-f", "sender@remote.test", "t@remote.test"], "Subject: tempme\n\nb\n"),
    "holdme": (["-f", "sender@remote.test", "h@remote.test"], "Subject: holdme\n\nb\n"),
    "discardme": (["-f", "sender@remote.test", "d@remote.test"], "Subject: discardme\n\nb\n"),
    "redirectme": (["-f", "sender@remote.test", "r1@remote.test", "r2@remote.test"],
                   "Subject: redirectme\nX-After: 1\n\nb\n"),
    "filterme": (["-f", "sender@remote.test", "f@remote.test"], "Subject: filterme\n\nb\n"),
    "bodyreject": (["-f", "sender@remote.test", "br@remote.test"],
                   "Subject: bodyreject\n\nline1\nbodyreject\nline3\n"),
    "hops": (["-f", "sender@remote.test", "loop@remote.test"],
             "Subject: hops\nReceived: from a\nReceived: from b\n\nloop body\n"),
    "gateway": (["-G", "-f", "root", "u@remote.test", "v"],
                "Subject: gateway\nTo: u@remote.test, w\nCc: root\nFrom: root\n\nhello\n"),
}
DELIVERED = 6       # rewrite, 3 notices (rejectme, bodyreject, hops), redirectme, gateway


def subject_of(text):
    """The Subject of a message; of a notice, that of the returned message."""
    subjects = re.findall(r"^Subject: (\S+)$", text, re.M)
    if subjects and subjects[0] == "Undelivered":
        return None
    return subjects[-1] if subjects else None


def by_subject(cap):
    out = {}
    for e in cap.messages:
        text = e.content.decode(errors="replace").replace("\r\n", "\n")
        if e.mail_from == "<>":
            m = re.search(r"^Subject: (\w+)$", text.split("Content-Description: Undelivered")[-1],
                          re.M)
            out["notice:" + (m.group(1) if m else "?")] = (e, text)
        else:
            m = re.search(r"^Subject: (\w+)$", text, re.M)
            out[m.group(1) if m else "?"] = (e, text)
    return out


def normalize(text):
    """Queue IDs, dates and time stamps out of a message or log line."""
    text = re.sub(r"\b[0-9A-F]{10,12}\b", "QID", text)
    text = re.sub(r"\d{14}\.QID", "STAMP.QID", text)
    text = re.sub(r"\w\w\w, [ \d]\d \w\w\w \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\w+\)", "DATE", text)
    text = re.sub(r"delay=[\d.]+, delays=[\d./]+", "delay=D", text)
    text = re.sub(r"\[127\.0\.0\.1\]:\d+", "[127.0.0.1]:PORT", text)
    return text


def log_events(log):
    """The log lines of what cleanup (ours: pickup) did to the messages
    that pickup took, without the program name and PID, normalized, in
    order (Postfix's cleanup also logs the notices it writes)."""
    picked = set(re.findall(r"postfix/pickup\[\d+\]: ([0-9A-F]+): uid=", log))
    out = []
    for line in log.splitlines():
        m = re.search(r"postfix/(?:cleanup|pickup)\[\d+\]: ((?:warning: )?([0-9A-F]+): .*)$",
                      line)
        if m and m.group(2) in picked and "uid=" not in m.group(1):
            out.append(normalize(m.group(1)))
    return out


def notice_fields(text):
    """The parts of a notice both systems write alike."""
    return {
        "recipients": sorted(re.findall(r"^Final-Recipient: rfc822; ?(\S+)$", text, re.M)),
        "status": sorted(set(re.findall(r"^Status: (\S+)$", text, re.M))),
        "action": sorted(set(re.findall(r"^Action: (\S+)$", text, re.M))),
        "diagnostic": sorted(set(re.findall(r"^Diagnostic-Code: (.*)$", text, re.M))),
        "returned": re.findall(r"^Content-Type: (text/rfc822-headers|message/rfc822)$",
                               text, re.M),
    }


class Instance:
    """One of the two systems: its captures, its log, its queue."""

    def __init__(self, ours):
        self.cap = Capture()
        self.filter_cap = Capture()
        self.ours = ours
        files = {"header_checks": HEADER_CHECKS.replace("{filter_port}",
                                                        str(self.filter_cap.port)),
                 "body_checks": BODY_CHECKS}
        self.m = self.ref = None
        try:
            if ours:
                self.m = MTA(main_cf={"mydestination": "", "relayhost": "[127.0.0.1]:%d" % self.cap.port},
                             extra_master_cf=PICKUP, start=False)
                for name, text in files.items():
                    self.m.write(name, text)
                self.m.set_main(**{k: v.replace("{etc}", self.m.config_dir)
                                   for k, v in MAIN_CF.items()})
                self.m.start()
                self.queue = self.m.queue_dir
            else:
                extra = "".join("%s = %s\n" % kv for kv in MAIN_CF.items())
                self.ref = DebianPostfix(self.cap.port, extra_main=extra, files=files)
                self.queue = self.ref.queue
        except Exception:
            self.stop()
            raise

    def sendmail(self, args, text):
        if self.ours:
            return run(self.m, [SENDMAIL, "-C", self.m.config_dir] + args, input=text)
        return subprocess.run(["sendmail", "-C", self.ref.etc] + args, input=text,
                              capture_output=True, text=True, timeout=60)

    def log(self):
        return self.m.log() if self.ours else self.ref.log()

    def files(self, queue):
        found = []
        for _, _, names in os.walk(os.path.join(self.queue, queue)):
            found += names
        return found

    def stop(self):
        if self.m:
            self.m.cleanup()
        if self.ref:
            self.ref.stop()
        self.cap.stop()
        self.filter_cap.stop()


class PickupCleanup(unittest.TestCase):
    """Canonical maps, masquerading, BCC, header and body checks, hops."""

    @classmethod
    def setUpClass(cls):
        cls.results = {}
        cls.got = {}
        for ours in (False, True):
            inst = Instance(ours)
            try:
                cls.results[ours] = {n: inst.sendmail(a, t) for n, (a, t) in MESSAGES.items()}
                inst.cap.wait(DELIVERED, timeout=60)
                inst.filter_cap.wait(1, timeout=60)
                # The 4xx refusal is tried again: let a few wakeups pass.
                wait_for(lambda: log_events(inst.log()).count(
                    "QID: reject: header Subject: tempme from local; from=<sender@remote.test> "
                    "to=<t@remote.test>: 4.7.1 later please") >= 1, 30, what="tempme")
                inst.cap.settle(1)
                cls.got[ours] = {
                    "mail": by_subject(inst.cap),
                    "filter": by_subject(inst.filter_cap),
                    "log": inst.log(),
                    "hold": inst.files("hold"),
                    "maildrop": inst.files("maildrop"),
                    "count": len(inst.cap.messages),
                }
            finally:
                inst.stop()

    def test_exit_status(self):
        for ours in (False, True):
            for name in MESSAGES:
                r = self.results[ours][name]
                self.assertEqual((r.returncode, r.stderr), (0, ""), (ours, name))

    def test_envelopes_match_postfix(self):
        ours, theirs = self.got[True]["mail"], self.got[False]["mail"]
        self.assertEqual(sorted(ours), sorted(theirs))
        self.assertEqual(self.got[True]["count"], self.got[False]["count"])
        for key in theirs:
            self.assertEqual((ours[key][0].mail_from, sorted(ours[key][0].rcpt_tos)),
                             (theirs[key][0].mail_from, sorted(theirs[key][0].rcpt_tos)), key)
        # canonical, sender_canonical + masquerading, and the three BCC kinds.
        self.assertEqual(ours["warnme"][0].mail_from, "sysadmin@sub.example.com")
        self.assertEqual(sorted(ours["warnme"][0].rcpt_tos),
                         ["archive@remote.test", "new@remote.test", "rbcc@remote.test",
                          "sbcc@remote.test"])
        # REDIRECT: once, to the redirect address.
        self.assertEqual(ours["redirectme"][0].rcpt_tos, ["red@remote.test"])
        # sendmail -G: the envelope is rewritten as usual.
        self.assertEqual(sorted(ours["gateway"][0].rcpt_tos),
                         ["archive@remote.test", "sbcc@remote.test", "u@remote.test",
                          "v@mx.test.invalid"])

    def test_headers_match_postfix(self):
        ours, theirs = self.got[True]["mail"], self.got[False]["mail"]
        for key in ("warnme", "redirectme", "gateway"):
            self.assertEqual(normalize(ours[key][1]), normalize(theirs[key][1]), key)
        text = ours["warnme"][1]
        self.assertIn("\nTo: new@remote.test, x@sub.example.com\nCc: root@mx.test.invalid\n"
                      "X-Added: yes\nX-Prep: 1\nMessage-Id: <", text)
        self.assertIn("\nFrom: root <sysadmin@sub.example.com>\n\nbodywarn\n", text)
        for gone in ("X-Ign", "Return-Path", "Content-Length", "Bcc", "hidden"):
            self.assertNotIn(gone, text)
        # -G: headers as submitted, nothing added.
        self.assertIn("\nTo: u@remote.test, w\nCc: root\nFrom: root\n\nhello\n",
                      ours["gateway"][1])
        self.assertNotIn("Message-Id", ours["gateway"][1])

    def test_filter_action(self):
        ours, theirs = self.got[True]["filter"], self.got[False]["filter"]
        self.assertEqual(sorted(ours), ["filterme"])
        self.assertEqual(sorted(ours["filterme"][0].rcpt_tos),
                         sorted(theirs["filterme"][0].rcpt_tos))

    def test_notices_match_postfix(self):
        ours, theirs = self.got[True]["mail"], self.got[False]["mail"]
        for key in ("notice:rejectme", "notice:bodyreject", "notice:hops"):
            self.assertEqual(notice_fields(ours[key][1]), notice_fields(theirs[key][1]), key)
            self.assertEqual(ours[key][0].rcpt_tos, ["sender@remote.test"], key)
        reject = notice_fields(ours["notice:rejectme"][1])
        self.assertEqual(reject["recipients"], ["a@remote.test", "b@remote.test"])
        self.assertEqual(reject["diagnostic"], ["X-Postfix; go away"])
        self.assertEqual(reject["returned"], ["text/rfc822-headers"])
        self.assertIn("\nSubject: rejectme\nX-Foo: bar\n", ours["notice:rejectme"][1])
        self.assertNotIn("secret body", ours["notice:rejectme"][1])
        self.assertEqual(notice_fields(ours["notice:bodyreject"][1])["status"], ["5.7.9"])
        hops = notice_fields(ours["notice:hops"][1])
        self.assertEqual((hops["status"], hops["diagnostic"], hops["returned"]),
                         (["5.4.0"], ["X-Postfix; too many hops"], ["message/rfc822"]))
        self.assertIn("\nloop body\n", ours["notice:hops"][1])

    def test_log_lines_match_postfix(self):
        ours, theirs = log_events(self.got[True]["log"]), log_events(self.got[False]["log"])
        # The 4xx refusal repeats as often as the message is tried: once is enough.
        def once(events):
            out = []
            for e in events:
                if e not in out or "tempme" not in e:
                    out.append(e)
            return out
        self.maxDiff = None
        self.assertEqual(sorted(once(ours)), sorted(once(theirs)))
        for line in ("QID: reject: header Subject: rejectme from local; "
                     "from=<sender@remote.test> to=<b@remote.test>: 5.7.1 go away",
                     "QID: to=<a@remote.test>, relay=none, delay=D, dsn=5.7.1, "
                     "status=bounced (go away)",
                     "QID: redirect: header Subject: redirectme from local; "
                     "from=<sender@remote.test> to=<r2@remote.test>: red@remote.test",
                     "warning: QID: message rejected: hopcount exceeded",
                     "QID: message-id=<>"):
            self.assertIn(line, ours)
        # REDIRECT ends the checks: X-After: is not looked up.
        self.assertFalse([e for e in ours if "X-After" in e])
        # The recipient that Postfix's qmgr lists first (always_bcc's) goes there.
        for ours in (False, True):
            self.assertRegex(self.got[ours]["log"], r"postfix/smtp\[\d+\]: \w+: "
                             r"to=<red@remote\.test>, orig_to=<archive@remote\.test>, "
                             r".*status=sent")

    def test_hold_and_maildrop(self):
        for ours in (False, True):
            self.assertEqual(len(self.got[ours]["hold"]), 1, ours)
            # tempme waits in maildrop/.
            self.assertEqual(len(self.got[ours]["maildrop"]), 1, ours)


class PickupOverride(unittest.TestCase):
    """receive_override_options = no_address_mappings, no_header_body_checks:
    no tables, BCC or checks; the canonical form stays (Postfix 3.7)."""

    def test_as_postfix(self):
        main = {"canonical_maps": "inline:{root=canon@remote.test}",
                "always_bcc": "archive@remote.test",
                "header_checks": "regexp:{etc}/header_checks",
                "receive_override_options": "no_address_mappings, no_header_body_checks"}
        text = "Subject: rejectme\nCc: root, x@y\n\nbody\n"
        got = {}
        for ours in (False, True):
            cap = Capture()
            m = ref = None
            try:
                if ours:
                    m = MTA(main_cf={"mydestination": "", "relayhost": "[127.0.0.1]:%d" % cap.port},
                            extra_master_cf=PICKUP, start=False)
                    m.write("header_checks", HEADER_CHECKS)
                    m.set_main(**{k: v.replace("{etc}", m.config_dir) for k, v in main.items()})
                    m.start()
                    r = run(m, [SENDMAIL, "-C", m.config_dir, "u"], input=text)
                else:
                    ref = DebianPostfix(cap.port, files={"header_checks": HEADER_CHECKS},
                                        extra_main="".join("%s = %s\n" % kv
                                                           for kv in main.items()))
                    r = subprocess.run(["sendmail", "-C", ref.etc, "u"], input=text,
                                       capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                e = cap.wait(1)[0]
                got[ours] = (e.mail_from, e.rcpt_tos,
                             normalize(e.content.decode().replace("\r\n", "\n")))
            finally:
                if m:
                    m.cleanup()
                if ref:
                    ref.stop()
                cap.stop()
        self.assertEqual(got[True], got[False])
        self.assertEqual(got[True][:2], ("root@mx.test.invalid", ["u@mx.test.invalid"]))
        self.assertIn("\nCc: root@mx.test.invalid, x@y\n", got[True][2])


# --- non_smtpd_milters --------------------------------------------------------

def milter_policy(stage, info):
    """The Subject: names what the milter does at the end of the message;
    two addresses are refused at MAIL and RCPT."""
    if stage == "mail" and info["args"][0] == "mailrej@remote.test":
        return ("replycode", "550 5.7.1 sender refused")
    if stage == "rcpt" and info["args"][0] == "rcptrej@remote.test":
        return ("replycode", "550 5.1.1 no rcpt")
    if stage != "eom":
        return "continue"
    subject = dict(info["headers"]).get("Subject", "")
    return {
        "medit": [("addheader", "X-Milter", "yes"), ("chgheader", 1, "X-Old", "changed"),
                  ("chgfrom", "newsender@remote.test"), ("addrcpt", "added@remote.test"),
                  ("delrcpt", "e2@remote.test"), ("replbody", b"new body\r\n"), "accept"],
        "mrej": ("replycode", "550 5.7.0 milter says no"),
        "mtemp": "tempfail",
        "mdisc": "discard",
        "mquar": [("quarantine", "looks bad"), "continue"],
    }.get(subject, "continue")


MILTER_MESSAGES = {
    "mplain": (["-f", "sender@remote.test", "a@remote.test", "b"],
               "Subject: mplain\nX-A: 1\n\nbody\n"),
    "medit": (["-f", "sender@remote.test", "e1@remote.test", "e2@remote.test"],
              "Subject: medit\nX-Old: 1\n\nold body\n"),
    "mrej": (["-f", "sender@remote.test", "a@remote.test"], "Subject: mrej\n\nsecret\n"),
    "mtemp": (["-f", "sender@remote.test", "a@remote.test"], "Subject: mtemp\n\nb\n"),
    "mdisc": (["-f", "sender@remote.test", "a@remote.test"], "Subject: mdisc\n\nb\n"),
    "mquar": (["-f", "sender@remote.test", "a@remote.test"], "Subject: mquar\n\nb\n"),
    "mrcpt": (["-f", "sender@remote.test", "a@remote.test", "rcptrej@remote.test"],
              "Subject: mrcpt\n\nb\n"),
    "mmail": (["-f", "mailrej@remote.test", "a@remote.test"], "Subject: mmail\n\nb\n"),
}
MILTER_DELIVERED = 4    # mplain, medit, the notices of mrej and mmail


def milter_sessions(events):
    """The milter's events, one list per message (connect to quit), keyed
    by the message's Subject (or its last address, when it got no further
    than MAIL or RCPT)."""
    sessions, current = {}, None
    for stage, info in events:
        if stage == "connect":
            current = []
        if current is None:
            continue
        current.append((stage, info))
        if stage == "quit":
            eom = [i for s, i in current if s == "eom"]
            addrs = [i["args"][0] for s, i in current if s in ("mail", "rcpt")]
            key = dict(eom[0]["headers"]).get("Subject") if eom else addrs[-1] if addrs else "?"
            sessions.setdefault(key, current)
            current = None
    return sessions


def session_view(session):
    """What a session shows of Postfix's way with local mail: every stage
    with its macros and arguments, queue IDs and dates normalized. The
    macros that come with each header and body chunk are left out: our
    milter client sends them with the end of headers and end of message
    only (smtpd_milters as well)."""
    out = []
    for stage, info in session:
        info = dict(info)
        if stage in ("header", "body"):
            info.pop("macros", None)
        info.get("macros", {}).pop("v", None)
        out.append((stage, normalize(repr(sorted(info.items())))))
    return out


class PickupMilters(unittest.TestCase):
    """non_smtpd_milters against Postfix 3.7's, with the same milter."""

    @classmethod
    def setUpClass(cls):
        cls.got = {}
        for ours in (False, True):
            milter = Milter(milter_policy, version=6)
            cap = Capture()
            m = ref = None
            try:
                if ours:
                    m = MTA(main_cf={"mydestination": "", "relayhost": "[127.0.0.1]:%d" % cap.port,
                                     "non_smtpd_milters": milter.spec},
                            extra_master_cf=PICKUP)
                    send = lambda a, t: run(m, [SENDMAIL, "-C", m.config_dir] + a, input=t)
                    log, queue = m.log, m.queue_dir
                else:
                    ref = DebianPostfix(cap.port,
                                        extra_main="non_smtpd_milters = %s\n" % milter.spec)
                    send = lambda a, t: subprocess.run(["sendmail", "-C", ref.etc] + a, input=t,
                                                       capture_output=True, text=True,
                                                       timeout=60)
                    log, queue = ref.log, ref.queue
                rcs = [send(a, t).returncode for a, t in MILTER_MESSAGES.values()]
                cap.wait(MILTER_DELIVERED, timeout=60)
                # Every session the tests compare has ended at the milter.
                wait_for(lambda: all(k in milter_sessions(milter.events)
                                     for k in ("mquar", "mplain", "medit", "rcptrej@remote.test",
                                               "mailrej@remote.test")),
                         30, what="the milter sessions")
                cap.settle(1)

                def files(name):
                    return [f for _, _, fs in os.walk(os.path.join(queue, name)) for f in fs]
                cls.got[ours] = {"rcs": rcs, "mail": by_subject(cap), "log": log(),
                                 "sessions": milter_sessions(milter.events),
                                 "hold": files("hold"), "maildrop": files("maildrop")}
            finally:
                if m:
                    m.cleanup()
                if ref:
                    ref.stop()
                cap.stop()
                milter.stop()

    def test_sendmail_exit_status(self):
        self.assertEqual(self.got[True]["rcs"], [0] * len(MILTER_MESSAGES))

    def test_events_and_macros_match_postfix(self):
        ours, theirs = self.got[True]["sessions"], self.got[False]["sessions"]
        for key in ("mplain", "medit", "rcptrej@remote.test", "mailrej@remote.test"):
            self.assertEqual(session_view(ours[key]), session_view(theirs[key]), key)
        plain = dict((s, i) for s, i in ours["mplain"] if s in ("connect", "helo", "mail"))
        self.assertEqual((plain["connect"]["hostname"], plain["connect"]["address"],
                          plain["connect"]["port"]), ("localhost", "127.0.0.1", 0))
        self.assertEqual(plain["connect"]["macros"]["_"], "localhost [127.0.0.1]")
        self.assertEqual(plain["helo"]["name"], "localhost")
        self.assertEqual(plain["mail"]["args"], ["sender@remote.test"])
        rcpts = [i["args"] for s, i in ours["mplain"] if s == "rcpt"]
        self.assertEqual(rcpts, [["a@remote.test"], ["b@mx.test.invalid"]])

    def test_deliveries_match_postfix(self):
        ours, theirs = self.got[True]["mail"], self.got[False]["mail"]
        self.assertEqual(sorted(ours), sorted(theirs))
        for key in ("mplain", "medit"):
            self.assertEqual((ours[key][0].mail_from, sorted(ours[key][0].rcpt_tos)),
                             (theirs[key][0].mail_from, sorted(theirs[key][0].rcpt_tos)), key)
            self.assertEqual(normalize(ours[key][1]), normalize(theirs[key][1]), key)
        edit = ours["medit"]
        self.assertEqual((edit[0].mail_from, sorted(edit[0].rcpt_tos)),
                         ("newsender@remote.test", ["added@remote.test", "e1@remote.test"]))
        self.assertIn("\nX-Old: changed\n", edit[1])
        self.assertTrue(edit[1].endswith("\nX-Milter: yes\n\nnew body\n"), edit[1])
        for key in ("notice:mrej", "notice:mmail"):
            self.assertEqual(notice_fields(ours[key][1]), notice_fields(theirs[key][1]), key)
        self.assertEqual(notice_fields(ours["notice:mrej"][1])["diagnostic"],
                         ["X-Postfix; milter says no"])

    def test_hold_and_maildrop(self):
        for ours in (False, True):
            self.assertEqual(len(self.got[ours]["hold"]), 1, ours)      # mquar
            self.assertEqual(len(self.got[ours]["maildrop"]), 2, ours)  # mtemp, mrcpt

    def test_log_lines_match_postfix(self):
        def milter_lines(log):
            return sorted(set(e for e in log_events(log) if "milter" in e or "bounced" in e))
        ours, theirs = milter_lines(self.got[True]["log"]), milter_lines(self.got[False]["log"])
        self.maxDiff = None
        self.assertEqual(ours, theirs)
        for line in ("QID: milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: "
                     "5.7.0 milter says no; from=<sender@remote.test> to=<a@remote.test>",
                     "QID: milter-hold: END-OF-MESSAGE from localhost[127.0.0.1]: "
                     "milter triggers HOLD action; from=<sender@remote.test> to=<a@remote.test>",
                     "warning: QID: milter configuration error: can't reject recipient "
                     "in non-smtpd(8) submission"):
            self.assertIn(line, ours)


class PickupMilterChain(unittest.TestCase):
    """Two milters: the first changes the message (the queue file gets a
    new version), the second refuses it: the notice returns the changed
    headers, read from the version the milters saw."""

    def test_edit_then_reject(self):
        def first(stage, info):
            return [("addheader", "X-First", "seen"), "continue"] if stage == "eom" else "continue"

        def second(stage, info):
            return ("replycode", "550 5.7.0 second says no") if stage == "eom" else "continue"

        with Milter(first) as m1, Milter(second) as m2, Capture() as cap:
            m = MTA(main_cf={"mydestination": "", "relayhost": "[127.0.0.1]:%d" % cap.port,
                             "non_smtpd_milters": "%s, %s" % (m1.spec, m2.spec)},
                    extra_master_cf=PICKUP)
            self.addCleanup(m.cleanup)
            r = run(m, [SENDMAIL, "-C", m.config_dir, "-f", "s@remote.test", "a@remote.test"],
                    input="Subject: chain\n\nsecret\n")
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            cap.wait(1)
            notice = by_subject(cap)["notice:chain"]
            text = notice[1]
            self.assertEqual((notice[0].mail_from, notice[0].rcpt_tos), ("<>", ["s@remote.test"]))
            self.assertEqual(notice_fields(text)["diagnostic"], ["X-Postfix; second says no"])
            self.assertIn("\nSubject: chain\n", text)
            self.assertIn("\nX-First: seen\n", text)
            self.assertNotIn("secret", text)
            m.wait_log(r"milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: "
                       r"5\.7\.0 second says no; from=<s@remote\.test> to=<a@remote\.test>")
            self.assertEqual(m.queue_files("incoming"), [])


class PickupOpenDKIM(unittest.TestCase):
    """A real milter: OpenDKIM, as non_smtpd_milters, signs mail from cron
    jobs and scripts; a verifying OpenDKIM (test key, no DNS) checks it."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pickup-dkim-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        subprocess.run(["opendkim-genkey", "-D", self.dir, "-d", "example.org", "-s", "test"],
                       check=True, capture_output=True)
        txt = open(os.path.join(self.dir, "test.txt")).read()
        with open(os.path.join(self.dir, "keys"), "w") as f:
            f.write("test._domainkey.example.org %s\n" % "".join(re.findall(r'"([^"]*)"', txt)))
        port = free_port()
        user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        conf = os.path.join(self.dir, "signer.conf")
        with open(conf, "w") as f:
            f.write("Syslog no\nBackground no\nMode s\nDomain example.org\nSelector test\n"
                    "KeyFile %s/test.private\nSocket inet:%d@127.0.0.1\nUserID %s\n"
                    "RequireSafeKeys no\nPidFile %s/pid\n" % (self.dir, port, user, self.dir))
        with open(os.path.join(self.dir, "verifier.conf"), "w") as f:
            f.write("Syslog no\nMode v\nRequireSafeKeys no\nTestPublicKeys %s/keys\n" % self.dir)
        self.dkim = Daemon(["opendkim", "-f", "-x", conf], port)
        self.addCleanup(self.dkim.stop)
        self.cap = Capture()
        self.addCleanup(self.cap.stop)
        self.m = MTA(main_cf={"mydestination": "", "relayhost": "[127.0.0.1]:%d" % self.cap.port,
                              "non_smtpd_milters": "inet:127.0.0.1:%d" % port},
                     extra_master_cf=PICKUP)
        self.addCleanup(self.m.cleanup)

    def verify(self, data):
        path = os.path.join(self.dir, "msg.eml")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run(["opendkim", "-vv", "-x", os.path.join(self.dir, "verifier.conf"),
                            "-t", path], capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr

    def test_local_mail_signed(self):
        r = run(self.m, [SENDMAIL, "-C", self.m.config_dir, "-f", "cron@example.org",
                         "ops@remote.test"],
                input="From: Cron Daemon <cron@example.org>\nTo: ops@remote.test\n"
                      "Subject: nightly report\n\nAll jobs done.\n.a dot line\n")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        got = self.cap.wait(1)[0].content
        self.assertRegex(got.decode(), r"(?m)^DKIM-Signature: v=1; a=rsa-sha256; c=[a-z/]+; "
                         r"d=example\.org;")
        rc, out = self.verify(got)
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"verification \(s=test, d=example\.org, \d+-bit key\) succeeded")
        rc, out = self.verify(got.replace(b"All jobs done", b"All jobs gone"))
        self.assertNotRegex(out, r"succeeded")


if __name__ == "__main__":
    unittest.main()
