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
import time
import unittest

from mta import free_port, wait_for
from smtpd_util import Client
from test_milter import MilterBase

QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$")


def dead_or_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


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
        self.assertEqual([n for n in self.pool(m) if n.startswith("_")], [])

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
        wait_for(lambda: [n for n in self.pool(m) if n.startswith("_")] == [], 10,
                 what="the claimed file to go")
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
        c = self.at_data(m)
        c.send(b"Subject: crash\r\n\r\n" + b"y" * 998 + b"\r\n")
        c.send(b"z" * 998 + b"\r\n")
        # The file was claimed (its old content still there): never in a queue.
        wait_for(lambda: [n for n in self.pool(m) if n.startswith("_")], 10,
                 what="a claimed file in pool/")
        m.kill9()
        c.close()
        for q in ("incoming", "active", "deferred", "hold"):
            self.assertEqual(m.queue_files(q), [], q)
        claims = [n for n in self.pool(m) if n.startswith("_")]
        self.assertEqual(len(claims), 1)
        # The killed smtpd is dead (or a zombie) before master starts again.
        wait_for(lambda: dead_or_zombie(int(claims[0][1:].split(".")[0])), 10,
                 what="the killed smtpd to die")

        m.start()
        self.assertEqual([n for n in self.pool(m) if n.startswith("_")], [])
        second = self.send(m, "after")
        self.delivered(m, second, 2)
        self.assertEqual([e.content.count(b"Subject: crash") for e in self.cap.messages], [0, 0])
        self.assertNotIn("crash", m.command("postqueue", "-p").stdout)


if __name__ == "__main__":
    unittest.main()
