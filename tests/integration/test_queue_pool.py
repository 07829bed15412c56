"""test_queue_pool - files of delivered messages are written again, and
no message file has a name in a queue before it is complete and on disk.

qmgr renames a delivered message's file into pool/ instead of removing
it; smtpd writes the next message into that file (same inode, so the
inode part of the short queue ID is the same), completes and fsyncs it
in pool/, and only then renames it into incoming/. Checked here on what
a user sees: the queue IDs in the log, what the next hop receives, what
postcat shows of a held message, and what a kill -9 leaves in the queue.
"""
import os
import re
import smtplib
import time
import unittest

from mta import free_port, wait_for
from smtpd_util import Client
from test_milter import MilterBase

QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$")


def inode_part(qid):
    """Short queue IDs: 5 hex digits of microseconds, then the inode."""
    return qid[5:]


class QueuePool(MilterBase):
    """MilterBase: a capturing next hop (self.cap), mta() relaying to it,
    milter()."""

    def pool(self, m):
        return sorted(os.listdir(os.path.join(m.queue_dir, "pool")))

    def at_data(self, m):
        """A session that has answered 354 to DATA."""
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<c@example.com>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        return c

    def send(self, m, subject, body="body line\r\n", headers=""):
        c = self.at_data(m)
        final = c.cmd("Subject: %s\r\n%s\r\n%s." % (subject, headers, body))
        c.cmd("QUIT")
        match = QUEUED.match(final)
        self.assertTrue(match, final)
        return match.group(1)

    def delivered(self, m, qid, count):
        m.wait_log(r"%s: removed" % qid)
        self.cap.wait(count)
        wait_for(lambda: len(self.pool(m)) >= 1, 10, what="a file in pool/")

    def test_large_then_small_message_in_the_same_file(self):
        m = self.mta()
        big_line = "x" * 998 + "\r\n"
        first = self.send(m, "big", body=big_line * 60)
        self.delivered(m, first, 1)
        self.assertEqual(len(self.pool(m)), 1)
        self.assertEqual(m.queue_files("incoming") + m.queue_files("active"), [])

        second = self.send(m, "small", body="only line\r\n")
        self.assertNotEqual(second, first)
        self.assertEqual(inode_part(second), inode_part(first))
        self.delivered(m, second, 2)
        data = self.cap.messages[1].content
        self.assertTrue(data.endswith(b"\r\nSubject: small\r\n\r\nonly line\r\n")
                        or data.endswith(b"\r\n\r\nonly line\r\n"), data[-200:])
        self.assertNotIn(b"x" * 100, data)
        self.assertIn(b"Subject: small", data)
        self.assertEqual(self.cap.messages[0].content.count(b"x" * 998), 60)
        self.assertEqual(len(self.pool(m)), 1)
        m.wait_log(r"%s: from=<a@b\.example>, size=\d+, nrcpt=1 \(queue active\)" % second)

    def test_reused_file_keeps_its_size(self):
        # Files end at a multiple of 4 KB (a P record of padding before
        # E): a message of about the same size leaves the file's size,
        # blocks and mode as they were, so commit syncs its data alone.
        m = self.mta()
        first = self.send(m, "first", body="a" * 70 + "\r\n" * 40)
        self.delivered(m, first, 1)
        (name,) = self.pool(m)
        st = os.stat(os.path.join(m.queue_dir, "pool", name))
        self.assertEqual(st.st_size % 4096, 0, st.st_size)
        self.assertEqual(st.st_mode & 0o7777, 0o700)

        second = self.send(m, "second", body="b" * 75 + "\r\n" * 41)
        self.assertEqual(inode_part(second), inode_part(first))
        self.delivered(m, second, 2)
        (name,) = self.pool(m)
        st2 = os.stat(os.path.join(m.queue_dir, "pool", name))
        self.assertEqual((st2.st_ino, st2.st_size), (st.st_ino, st.st_size))
        data = self.cap.messages[1].content
        self.assertTrue(data.endswith(b"\r\n\r\n" + b"b" * 75 + b"\r\n" * 41), data[-200:])
        self.assertNotIn(b"\0", data)

    def test_expired_message_file_reused_without_its_mark(self):
        # postsuper -e marks a file with a mode bit; a file with a mark
        # goes back to the plain mode when it is reused, so the next
        # message in it is delivered, not expired.
        dead = free_port()
        m = self.mta(relay_domains="example.com dead.example",
                     transport_maps="inline:{example.com=relay:[127.0.0.1]:%d,"
                     "dead.example=relay:[127.0.0.1]:%d}" % (self.cap.port, dead),
                     queue_run_delay="300s", minimal_backoff_time="300s",
                     maximal_backoff_time="300s")
        c = Client(m.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client")
        self.assertEqual(c.cmd("MAIL FROM:<>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@dead.example>"), "250 2.1.5 Ok")
        c.cmd("DATA")
        match = QUEUED.match(c.cmd("Subject: doomed\r\n\r\nbody\r\n."))
        self.assertTrue(match)
        doomed = match.group(1)
        c.cmd("QUIT")
        m.wait_log(r"%s: to=<x@dead\.example>.*status=deferred" % doomed)
        r = m.command("postsuper", "-e", doomed)
        self.assertEqual(r.returncode, 0, r.stderr)
        m.command("postqueue", "-i", doomed)
        m.wait_log(r"%s: removed" % doomed)
        self.assertIn("force-expired", m.log())
        wait_for(lambda: len(self.pool(m)) == 1, 10, what="the expired file in pool/")

        after = self.send(m, "after")
        self.assertEqual(inode_part(after), inode_part(doomed))
        self.delivered(m, after, 1)
        self.assertIn(b"Subject: after", self.cap.messages[0].content)
        self.assertNotRegex(m.log(), r"%s: .*expired" % after)
        m.wait_log(r"%s: to=<c@example\.com>.*status=sent" % after)

    def test_held_and_milter_edited_messages_in_reused_files(self):
        ml = self.milter()
        m = self.mta(smtpd_milters=ml.spec)
        first = self.send(m, "plain")
        self.delivered(m, first, 1)

        # A milter replaces the body: the reused file is replaced by a new one.
        edited = self.send(m, "replbody", body="old body\r\n" * 50)
        self.delivered(m, edited, 2)
        self.assertTrue(self.cap.messages[1].content.endswith(
            b"\r\n\r\nreplaced body line 1\r\nline 2\r\n"), self.cap.messages[1].content[-200:])

        # Quarantine: a reused file goes to hold/, complete, under its ID.
        # The edited message's file was a new one (the reused file was
        # removed for its reader); it is the one file in pool/ now.
        self.assertEqual(len(self.pool(m)), 1)
        held = self.send(m, "quarantine", body="keep me\r\n")
        self.assertEqual(self.pool(m), [])
        self.assertEqual(m.queue_files("hold"), [held])
        self.assertEqual(m.queue_files("incoming"), [])
        out = m.command("postcat", "-q", held)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Subject: quarantine", out.stdout)
        self.assertIn("keep me", out.stdout)
        self.assertNotIn("old body", out.stdout)
        self.assertNotIn("record type", out.stdout)	# the padding is not shown

        r = m.command("postsuper", "-H", held)
        self.assertEqual(r.returncode, 0, r.stderr)
        m.command("postqueue", "-f")
        m.wait_log(r"%s: removed" % held)
        self.cap.wait(3)
        self.assertTrue(self.cap.messages[2].content.endswith(b"\r\n\r\nkeep me\r\n"))

    def test_aborted_transaction_leaves_nothing(self):
        m = self.mta()
        first = self.send(m, "one")
        self.delivered(m, first, 1)
        c = self.at_data(m)
        c.send(b"Subject: x\r\n\r\npartial\r\n")
        c.close()
        m.wait_log(r"disconnect from")
        # The taken file is removed (before its lock goes with the close).
        wait_for(lambda: self.pool(m) == [], 10, what="the taken file to go")
        self.assertEqual(m.queue_files("incoming"), [])
        second = self.send(m, "two")
        self.delivered(m, second, 2)

    def test_kill9_while_writing_a_new_file_leaves_nothing(self):
        # pool/ is empty: the file is new, and has no name until it is complete.
        m = self.mta()
        c = self.at_data(m)
        c.send(b"Subject: crash\r\n\r\n" + b"y" * 998 + b"\r\n")
        m.wait_log(r"[0-9A-F]+: client=localhost")
        time.sleep(0.3)
        m.kill9()
        c.close()
        for q in ("incoming", "active", "deferred", "hold"):
            self.assertEqual(m.queue_files(q), [], q)
        self.assertEqual(self.pool(m), [])
        m.start()
        first = self.send(m, "after")
        self.delivered(m, first, 1)
        self.assertNotIn(b"Subject: crash", self.cap.messages[0].content)

    def test_kill9_while_writing_leaves_no_queue_file(self):
        m = self.mta()
        first = self.send(m, "one")
        self.delivered(m, first, 1)
        (slot,) = self.pool(m)
        ino = os.stat(os.path.join(m.queue_dir, "pool", slot)).st_ino
        c = self.at_data(m)
        c.send(b"Subject: crash\r\n\r\n" + b"y" * 998 + b"\r\n")
        c.send(b"z" * 998 + b"\r\n")
        # The file is taken (locked, its old content still there): never in a queue.
        m.wait_log(r"[0-9A-F]+: client=localhost")
        m.kill9()
        c.close()
        for q in ("incoming", "active", "deferred", "hold"):
            self.assertEqual(m.queue_files(q), [], q)
        # The killed process's file stays in its slot, unlocked, for a later message.
        self.assertEqual(self.pool(m), [slot])

        m.start()
        second = self.send(m, "after")
        self.delivered(m, second, 2)
        self.assertEqual([e.content.count(b"Subject: crash") for e in self.cap.messages], [0, 0])
        self.assertNotIn("crash", m.command("postqueue", "-p").stdout)
        # The ring's next slot is the one after it: the file waits for its
        # turn (the writer of the next round over the 512 slots takes it).
        self.assertIn(slot, self.pool(m))
        self.assertEqual(os.stat(os.path.join(m.queue_dir, "pool", slot)).st_ino, ino)

    def test_file_of_a_live_writer_is_not_taken_twice(self):
        # A session holds a reused file (slot s0) at DATA while 600
        # messages go round the 512 slots: qmgr finds the held slot still
        # full and places its file in the next one, and the writer of the
        # next round finds the held file locked and takes another. Every message arrives whole, the held one too.
        m = self.mta()
        self.delivered(m, self.send(m, "warm"), 1)
        self.assertEqual(self.pool(m), ["s0"])
        held = self.at_data(m)
        held.send(b"Subject: held\r\n\r\n" + b"h" * 900 + b"\r\n")
        s = smtplib.SMTP("127.0.0.1", m.smtp_port, timeout=60)
        self.addCleanup(s.close)
        for i in range(600):
            body = ("Subject: n%d\r\n\r\n" % i) + ("%d " % i) * (50 + i % 200) + "\r\n"
            s.sendmail("a@b.example", ["c@example.com"], body)
        s.quit()
        self.cap.wait(601, timeout=120)
        reply = held.cmd(".")
        self.assertTrue(QUEUED.match(reply), reply)
        self.cap.wait(602, timeout=60)
        for e in self.cap.messages[1:601]:
            n = int(re.search(rb"Subject: n(\d+)", e.content).group(1))
            self.assertTrue(e.content.endswith(b"\r\n\r\n" + (b"%d " % n) * (50 + n % 200)
                                               + b"\r\n"), e.content[-100:])
        held_msg = self.cap.messages[601].content
        self.assertIn(b"Subject: held\r\n", held_msg)
        self.assertTrue(held_msg.endswith(b"\r\n\r\n" + b"h" * 900 + b"\r\n"), held_msg[-100:])


if __name__ == "__main__":
    unittest.main()
