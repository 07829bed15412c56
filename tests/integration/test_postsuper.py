"""test_postsuper - postsuper -d/-h/-H/-r/-s on a running system.

Mail goes to a relay where nothing listens, so it piles up in deferred/
while new mail keeps arriving; postsuper moves and deletes it and prints
what Postfix's postsuper prints.
"""
import os
import re
import smtplib
import threading
import time
import unittest

from mta import MTA, free_port, wait_for
from test_postqueue import write_msg, queue_path


def ids_in(text):
    return re.findall(r"^([0-9A-F]+)[*!]? ", text, re.M)


class PostsuperTest(unittest.TestCase):
    def setUp(self):
        # Deferred mail is not retried during a test (the harness's 2-4s
        # back-off let a busy machine's queue scan take a message into
        # active/ between settle() and "postsuper -h ALL deferred");
        # release and requeue still make it eligible at once.
        self.m = MTA(main_cf={"relayhost": "[127.0.0.1]:%d" % free_port(),
                              "minimal_backoff_time": "60s", "maximal_backoff_time": "60s"})
        self.addCleanup(self.m.cleanup)

    def send(self, n, tag="m"):
        with smtplib.SMTP(self.m.addr, self.m.smtp_port, timeout=30) as s:
            for i in range(n):
                s.sendmail("a@b.test", ["%s%d@example.com" % (tag, i)], "Subject: %s%d\r\n\r\nx\r\n" % (tag, i))

    def settle(self, count):
        wait_for(lambda: len(self.m.queue_files("deferred")) + len(self.m.queue_files("hold")) >= count
                 and not self.m.queue_files("active") and not self.m.queue_files("incoming"),
                 30, what="%d messages to settle" % count)

    def ps(self, *args, input=None):
        return self.m.command("postsuper", *args, input=input)

    def test_hold_release_requeue_delete(self):
        self.send(4)
        self.settle(4)
        ids = sorted(self.m.queue_files("deferred"))
        r = self.ps("-h", ids[0])
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, "postsuper: %s: placed on hold\npostsuper: Placed on hold: 1 message\n" % ids[0])
        self.assertEqual(self.m.queue_files("hold"), [ids[0]])
        self.assertRegex(self.m.command("postqueue", "-p").stdout, r"(?m)^%s! " % ids[0])
        self.m.wait_log(r"postfix/postsuper\[\d+\]: %s: placed on hold" % ids[0])

        r = self.ps("-H", ids[0])
        self.assertEqual(r.stderr, "postsuper: %s: released from hold\npostsuper: Released from hold: 1 message\n" % ids[0])
        self.assertNotIn(ids[0], self.m.queue_files("hold"))
        # A released message is eligible at once: wait for its second
        # delivery attempt (not merely for an empty active/, which holds
        # also before the queue scan has taken it) before counting.
        self.m.wait_log(r"%s: to=<.*status=deferred" % ids[0], count=2)
        self.settle(4)

        r = self.ps("-h", "ALL", "deferred")
        self.assertEqual(r.stderr, "postsuper: Placed on hold: 4 messages\n")
        r = self.ps("-H", "ALL")
        self.assertEqual(r.stderr, "postsuper: Released from hold: 4 messages\n")
        self.m.wait_log(r": to=<.*status=deferred", count=9)
        self.settle(4)

        r = self.ps("-d", "-", input="%s\n%s\n" % (ids[1], ids[2]))
        self.assertEqual(r.stderr, "postsuper: %s: removed\npostsuper: %s: removed\n"
                         "postsuper: Deleted: 2 messages\n" % (ids[1], ids[2]))
        self.assertFalse(os.path.exists(queue_path(self.m.queue_dir, "defer", ids[1])))

        r = self.ps("-r", ids[3])
        self.assertEqual(r.stderr, "postsuper: %s: requeued\npostsuper: Requeued: 1 message\n" % ids[3])
        self.m.wait_log(r"%s: from=<a@b\.test>.*\(queue active\)" % ids[3], count=2)
        self.settle(2)

        r = self.ps("-d", "NOSUCH0")
        self.assertEqual(r.stderr, "postsuper: Deleted: 0 messages\n")
        r = self.ps("-d", "ALL")
        self.assertEqual(r.stderr, "postsuper: Deleted: 2 messages\n")
        self.assertEqual(self.m.command("postqueue", "-p").stdout, "Mail queue is empty\n")

    def test_incomplete_file_is_never_touched(self):
        p = write_msg(self.m.queue_dir, "incoming", "ABCDE12345", "a@b.test", ["x@example.com"],
                      complete=False)
        r = self.ps("-d", "ALL")
        self.assertEqual(r.stderr, "postsuper: Deleted: 0 messages\n")
        r = self.ps("-h", "ABCDE12345")
        self.assertEqual(r.stderr, "postsuper: Placed on hold: 0 messages\n")
        self.assertTrue(os.path.exists(p))

    def test_while_mail_is_flowing(self):
        stop = threading.Event()
        sent = []

        def sender():
            n = 0
            while not stop.is_set():
                self.send(3, tag="f%d-" % n)
                sent.append(3)
                n += 1

        t = threading.Thread(target=sender)
        t.start()
        try:
            for _ in range(5):
                for op in (("-h", "ALL"), ("-H", "ALL"), ("-r", "ALL"), ("-d", "ALL", "hold")):
                    r = self.ps(*op)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertRegex(r.stderr, r"^postsuper: \w[\w ]+: \d+ messages?\n$")
        finally:
            stop.set()
            t.join(60)
        time.sleep(1)
        r = self.ps("-d", "ALL")
        self.assertRegex(r.stderr, r"^postsuper: Deleted: \d+ messages?\n$")
        wait_for(lambda: self.m.command("postqueue", "-p").stdout == "Mail queue is empty\n"
                 or (self.ps("-d", "ALL") and False), 30, what="an empty queue")
        self.assertEqual(self.m.queue_files("corrupt"), [])
        self.assertNotRegex(self.m.log(), r"(panic|fatal):")

    def test_repair_and_usage(self):
        self.send(1)
        self.settle(1)
        qid = self.m.queue_files("deferred")[0]
        good = queue_path(self.m.queue_dir, "deferred", qid)
        bad = os.path.join(self.m.queue_dir, "deferred", qid)
        os.rename(good, bad)
        r = self.ps("-s")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(os.path.exists(good))
        self.assertEqual(self.ps("-d", "ALL", "nosuchqueue").returncode, 64)


if __name__ == "__main__":
    unittest.main()
