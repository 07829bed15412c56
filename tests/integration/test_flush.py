"""test_flush - fast flush: ETRN, postqueue -s / -f / -i for an intermittent site.

customer.example is a relay domain routed to the "ondemand" transport (a
copy of smtp in master.cf) that is listed in defer_transports, so its mail
waits in deferred/ while the customer's server (an aiosmtpd capture
server) is up, until the customer asks for it.
"""
import os
import smtplib
import sys
import time
import unittest

from mta import MTA, free_port, wait_for

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_smtp import Capture  # noqa: E402


class FlushTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.customer = Capture("127.0.0.1", free_port(), name="customer")
        cls.m = MTA(main_cf={
            "relay_domains": "customer.example, other.example",
            "transport_maps": "texthash:${config_directory}/transport",
            "defer_transports": "ondemand",
        }, extra_master_cf="ondemand  unix  -       -       n       -       -       smtp\n",
            start=False)
        cls.m.write("transport",
                    "customer.example ondemand:[127.0.0.1]:%d\n" % cls.customer.controller.port
                    + "other.example ondemand:[127.0.0.1]:%d\n" % cls.customer.controller.port)
        cls.m.set_main(config_directory=cls.m.config_dir)
        cls.m.start()

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.customer.stop()

    def send(self, rcpt, subject):
        with smtplib.SMTP(self.m.addr, self.m.smtp_port, timeout=30) as s:
            s.sendmail("a@sender.test", [rcpt], "Subject: %s\r\n\r\nbody\r\n" % subject)

    def arrived(self, subject):
        return [x for x in self.customer.messages if ("Subject: %s\r\n" % subject).encode() in x["data"]]

    def queue_and_wait_deferred(self, rcpt, subject):
        before = len(self.m.queue_files("deferred"))
        self.send(rcpt, subject)
        wait_for(lambda: len(self.m.queue_files("deferred")) > before
                 and not self.m.queue_files("active") and not self.m.queue_files("incoming"),
                 20, what="the message to be deferred")
        time.sleep(0.5)
        self.assertEqual(self.arrived(subject), [], "defer_transports holds the mail")

    def etrn(self, arg):
        with smtplib.SMTP(self.m.addr, self.m.smtp_port, timeout=30) as s:
            s.ehlo("customer.example")
            return s.docmd("ETRN", arg)

    def test_1_etrn_releases_the_site(self):
        self.queue_and_wait_deferred("user@customer.example", "etrn one")
        self.queue_and_wait_deferred("user@other.example", "stays put")
        listing = open(os.path.join(self.m.queue_dir, "flush", "customer_example")).read()
        self.assertRegex(listing, r"^[0-9A-F]+\n")
        code, text = self.etrn("customer.example")
        self.assertEqual((code, text), (250, b"Queuing started"))
        wait_for(lambda: self.arrived("etrn one"), 20, what="the customer's mail")
        time.sleep(0.5)
        self.assertEqual(self.arrived("stays put"), [], "other sites stay queued")
        # the mail is deferred again later through defer_transports
        self.queue_and_wait_deferred("u2@customer.example", "etrn two")
        self.assertEqual(self.etrn("@customer.example")[0], 250)
        wait_for(lambda: self.arrived("etrn two"), 20, what="the second message")

    def test_2_etrn_refusals(self):
        self.assertEqual(self.etrn("nosuch.test"), (459, b"<nosuch.test>: service unavailable"))
        self.m.wait_log(r"warning: reject: ETRN nosuch\.test\.\.\. from")
        self.assertEqual(self.etrn("[127.0.0.1]")[0], 459)
        code, _ = self.etrn("empty.customer.example")      # subdomain: eligible, nothing queued
        self.assertEqual(code, 250)

    def test_3_postqueue_s_and_i(self):
        self.queue_and_wait_deferred("cmd@customer.example", "postqueue s")
        r = self.m.command("postqueue", "-s", "customer.example")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        wait_for(lambda: self.arrived("postqueue s"), 20, what="postqueue -s delivery")
        r = self.m.command("postqueue", "-s", "nosuch.test")
        self.assertEqual(r.returncode, 69)
        self.assertIn('postqueue: fatal: Flush service is not configured for destination "nosuch.test"',
                      r.stderr)
        self.queue_and_wait_deferred("one@customer.example", "postqueue i")
        qid = [l.split()[0] for l in self.m.command("postqueue", "-p").stdout.splitlines()
               if l.strip() and l[0] in "0123456789ABCDEF"]
        for q in qid:
            self.assertEqual(self.m.command("postqueue", "-i", q.rstrip("*!")).returncode, 0)
        wait_for(lambda: self.arrived("postqueue i"), 20, what="postqueue -i delivery")
        self.assertEqual(self.m.command("postqueue", "-i", "ABCDEF12345").returncode, 0)

    def test_4_postqueue_f_releases_everything(self):
        self.queue_and_wait_deferred("f@customer.example", "flush all")
        r = self.m.command("postqueue", "-f")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        wait_for(lambda: self.arrived("flush all") and self.arrived("stays put"), 20,
                 what="postqueue -f delivery")
        wait_for(lambda: self.m.command("postqueue", "-p").stdout == "Mail queue is empty\n", 20,
                 what="an empty queue")


if __name__ == "__main__":
    unittest.main()
