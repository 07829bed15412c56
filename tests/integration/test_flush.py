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
    """Each test starts its own customer server and MTA (fresh queue,
    flush lists, qmgr state and log) and queues the mail it needs, so
    the tests pass alone and in any order."""

    def setUp(self):
        self.customer = Capture("127.0.0.1", free_port(), name="customer")
        self.addCleanup(self.customer.stop)
        self.m = MTA(main_cf={
            "relay_domains": "customer.example, other.example",
            "transport_maps": "texthash:${config_directory}/transport",
            "defer_transports": "ondemand",
        }, extra_master_cf="ondemand  unix  -       -       n       -       -       smtp\n",
            start=False)
        self.addCleanup(self.m.cleanup)
        self.m.write("transport",
                     "customer.example ondemand:[127.0.0.1]:%d\n" % self.customer.controller.port
                     + "other.example ondemand:[127.0.0.1]:%d\n" % self.customer.controller.port)
        self.m.set_main(config_directory=self.m.config_dir)
        self.m.start()

    def send(self, rcpt, subject):
        with smtplib.SMTP(self.m.addr, self.m.smtp_port, timeout=30) as s:
            s.sendmail("a@sender.test", [rcpt], "Subject: %s\r\n\r\nbody\r\n" % subject)

    def arrived(self, subject):
        return [x for x in self.customer.messages if ("Subject: %s\r\n" % subject).encode() in x["data"]]

    def queue_and_wait_deferred(self, rcpt, subject):
        """Send one message and wait until it waits in deferred/; its queue ID."""
        before = set(self.m.queue_files("deferred"))
        new = []

        def deferred():
            new[:] = set(self.m.queue_files("deferred")) - before
            return (len(new) == 1 and not self.m.queue_files("active")
                    and not self.m.queue_files("incoming"))
        self.send(rcpt, subject)
        wait_for(deferred, 20, what="the message to be deferred")
        time.sleep(0.5)
        self.assertEqual(self.arrived(subject), [], "defer_transports holds the mail")
        return new[0]

    def etrn(self, arg):
        with smtplib.SMTP(self.m.addr, self.m.smtp_port, timeout=30) as s:
            s.ehlo("customer.example")
            return s.docmd("ETRN", arg)

    def test_etrn_releases_the_site(self):
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

    def test_etrn_refusals(self):
        self.assertEqual(self.etrn("nosuch.test"), (459, b"<nosuch.test>: service unavailable"))
        self.m.wait_log(r"warning: reject: ETRN nosuch\.test\.\.\. from")
        self.assertEqual(self.etrn("[127.0.0.1]")[0], 459)
        code, _ = self.etrn("empty.customer.example")      # subdomain: eligible, nothing queued
        self.assertEqual(code, 250)

    def test_postqueue_s_and_i(self):
        self.queue_and_wait_deferred("cmd@customer.example", "postqueue s")
        r = self.m.command("postqueue", "-s", "customer.example")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        wait_for(lambda: self.arrived("postqueue s"), 20, what="postqueue -s delivery")
        r = self.m.command("postqueue", "-s", "nosuch.test")
        self.assertEqual(r.returncode, 69)
        self.assertIn('postqueue: fatal: Flush service is not configured for destination "nosuch.test"',
                      r.stderr)
        qid = self.queue_and_wait_deferred("one@customer.example", "postqueue i")
        self.assertEqual(self.m.command("postqueue", "-i", qid).returncode, 0)
        wait_for(lambda: self.arrived("postqueue i"), 20, what="postqueue -i delivery")
        self.assertEqual(self.m.command("postqueue", "-i", "ABCDEF12345").returncode, 0)

    def test_postqueue_f_releases_everything(self):
        self.queue_and_wait_deferred("f@customer.example", "flush all")
        self.queue_and_wait_deferred("user@other.example", "stays put")
        r = self.m.command("postqueue", "-f")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        wait_for(lambda: self.arrived("flush all") and self.arrived("stays put"), 20,
                 what="postqueue -f delivery")
        wait_for(lambda: self.m.command("postqueue", "-p").stdout == "Mail queue is empty\n", 20,
                 what="an empty queue")


if __name__ == "__main__":
    unittest.main()
