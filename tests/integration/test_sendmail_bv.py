"""test_sendmail_bv.py - sendmail -bv: recipients verified, a report mailed.

The same sendmail -bv runs through Debian's Postfix 3.7 and through ours,
each with a next hop (a capture server that refuses bad@remote.test), a
dead next hop, and the error: and retry: transports. Postfix 3.7.11 prints
"Mail Delivery Status Report will be mailed to <root>.", tries each
recipient up to the RCPT reply (nothing is delivered), logs
"status=deliverable (250 2.1.5 Ok)" / "status=undeliverable (...)" and
"sender delivery status notification: QID", and mails the sender:

    Subject: Mail Delivery Status Report
    ...
    Enclosed is the mail delivery report that you requested.
    ...
    <u@mx.test.invalid> (expanded from <u>): delivery via
        127.0.0.1[127.0.0.1]:40559: 250 2.1.5 Ok

    <bad@remote.test>: delivery via 127.0.0.1[127.0.0.1]:40559: host
        127.0.0.1[127.0.0.1] said: 550 5.1.1 <bad@remote.test>: no such user (in
        reply to RCPT TO command)
    ...
    Final-Recipient: rfc822; bad@remote.test
    Action: undeliverable
    Status: 5.1.1
    Remote-MTA: dns; 127.0.0.1
    Diagnostic-Code: smtp; 550 5.1.1 <bad@remote.test>: no such user

with the headers of the probe ("Subject: probe") returned. "-bv -t" is
refused: "sendmail: fatal: -t option cannot be used with -bv", exit 75.
For the null sender no report goes out: "QID: not sending trace/success
notification for single-bounce message".
"""
import re
import subprocess
import unittest

from capture import Capture
from local_submit import PICKUP, run
from mta import MTA, wait_for
from test_pickup_cleanup import SENDMAIL, normalize
from test_postqueue import DebianPostfix

TRANSPORT = ("dead.test smtp:[127.0.0.1]:1\nerr.test error:5.1.2 no such domain here\n"
             "ret.test retry:4.3.9 try later\n")
MAIN = {"always_bcc": "archive@remote.test", "transport_maps": "texthash:{etc}/transport"}
ARGS = ["-bv", "u", "x@dead.test", "y@err.test", "z@ret.test", "bad@remote.test"]


def paragraphs(text):
    """The recipient paragraphs of the report's text part, joined."""
    part = text.split("The mail system\n", 1)[1].split("\n--", 1)[0]
    return sorted(normalize(p.strip()) for p in part.split("\n\n") if p.strip())


def fields(text):
    """Per recipient, the fields of the delivery-status part."""
    status = text.split("Content-Type: message/delivery-status\n", 1)[1].split("\n--", 1)[0]
    out = {}
    for block in status.split("\n\n")[1:]:
        m = re.search(r"^Final-Recipient: rfc822; (\S+)$", block, re.M)
        if m:
            keep = [normalize(l) for l in re.split(r"\n(?! )", block)
                    if l.split(":")[0] in ("Action", "Status", "Remote-MTA", "Diagnostic-Code")]
            out[m.group(1)] = keep
    return out


class SendmailVerify(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.got = {}
        for ours in (False, True):
            cap = Capture(reject={"bad@remote.test"})
            m = ref = None
            try:
                if ours:
                    m = MTA(main_cf={"mydestination": "", "relayhost": "[127.0.0.1]:%d" % cap.port},
                            extra_master_cf=PICKUP, start=False)
                    m.write("transport", TRANSPORT)
                    m.set_main(**{k: v.replace("{etc}", m.config_dir) for k, v in MAIN.items()})
                    m.start()
                    def send(args, text=""):
                        return run(m, [SENDMAIL, "-C", m.config_dir] + args, input=text)
                    log = m.log
                else:
                    ref = DebianPostfix(cap.port, files={"transport": TRANSPORT},
                                        extra_main="".join("%s = %s\n" % kv
                                                           for kv in MAIN.items()))
                    def send(args, text=""):
                        return subprocess.run(["sendmail", "-C", ref.etc] + args, input=text,
                                              capture_output=True, text=True, timeout=60)
                    log = ref.log
                results = {"bv": send(ARGS, "this is not read\n"),
                           "t": send(["-bv", "-t"], "To: t@remote.test\n\nx\n"),
                           "null": send(["-bv", "-f", "<>", "n@remote.test"])}
                cap.wait(1, timeout=60)
                wait_for(lambda: "not sending trace/success notification" in log(), 60,
                         what="the null sender's probe")
                cap.settle(1)
                cls.got[ours] = {"results": results, "messages": list(cap.messages),
                                 "rcpt_commands": sorted(cap.rcpt_commands),
                                 "data": cap.data_commands, "log": log()}
            finally:
                if m:
                    m.cleanup()
                if ref:
                    ref.stop()
                cap.stop()

    def test_command_output_as_postfix(self):
        for key in ("bv", "t", "null"):
            ours, theirs = self.got[True]["results"][key], self.got[False]["results"][key]
            self.assertEqual((ours.returncode, ours.stdout, ours.stderr),
                             (theirs.returncode, theirs.stdout, theirs.stderr), key)
        self.assertEqual(self.got[True]["results"]["bv"].stdout,
                         "Mail Delivery Status Report will be mailed to <root>.\n")
        self.assertEqual(self.got[True]["results"]["t"].stderr,
                         "sendmail: fatal: -t option cannot be used with -bv\n")

    def test_nothing_delivered_but_the_report(self):
        for ours in (False, True):
            got = self.got[ours]
            self.assertEqual(got["data"], 1, ours)
            self.assertEqual((got["messages"][0].mail_from, got["messages"][0].rcpt_tos),
                             ("<>", ["root@mx.test.invalid"]), ours)
        # The next hop saw each recipient once (and the report's).
        self.assertEqual(self.got[True]["rcpt_commands"], self.got[False]["rcpt_commands"])

    def test_report_as_postfix(self):
        ours = self.got[True]["messages"][0].content.decode().replace("\r\n", "\n")
        theirs = self.got[False]["messages"][0].content.decode().replace("\r\n", "\n")
        self.assertIn("\nSubject: Mail Delivery Status Report\n", ours)
        self.assertIn("\n\nEnclosed is the mail delivery report that you requested.\n", ours)
        self.maxDiff = None
        self.assertEqual(paragraphs(ours), paragraphs(theirs))
        self.assertEqual(fields(ours), fields(theirs))
        self.assertEqual(fields(ours)["u@mx.test.invalid"],
                         ["Action: deliverable", "Status: 2.1.5", "Remote-MTA: dns; 127.0.0.1",
                          "Diagnostic-Code: smtp; 250 2.1.5 Ok"])
        self.assertIn("Content-Description: Message Headers\nContent-Type: text/rfc822-headers\n",
                      ours)
        self.assertIn("\nSubject: probe\n", ours)

    def test_log_lines_as_postfix(self):
        def lines(log):
            return sorted(normalize(m) for m in re.findall(
                r"postfix/(?:smtp|error)\[\d+\]: (\w+: to=<[^>]*>.*status=\w+deliverable .*)$",
                log, re.M))
        self.assertEqual(lines(self.got[True]["log"]), lines(self.got[False]["log"]))
        for ours in (False, True):
            log = self.got[ours]["log"]
            self.assertRegex(log, r"postfix/bounce\[\d+\]: \w+: sender delivery status "
                             r"notification: \w+")
            self.assertRegex(log, r"postfix/bounce\[\d+\]: \w+: not sending trace/success "
                             r"notification for single-bounce message")
            self.assertRegex(log, r"to=<u@mx\.test\.invalid>, orig_to=<u>, relay=127\.0\.0\.1"
                             r"\[127\.0\.0\.1\]:\d+, .*dsn=2\.1\.5, status=deliverable "
                             r"\(250 2\.1\.5 Ok\)")


if __name__ == "__main__":
    unittest.main()
