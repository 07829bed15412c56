"""test_smtp_throttle - relaying to a next hop that limits its sessions.

The whole system (mta.MTA: master, smtpd, qmgr, relay) relays to a small
SMTP server here that takes at most MAX_SESSIONS sessions at once and
greets any more with "421 4.7.0 Too many connections", as a busy
provider does, and ends a session after PER_SESSION messages with a 421
to MAIL. What a user sees: every message arrives once, none is deferred
(qmgr sends a refused delivery again over a session that works and keeps
its window at what the site takes), sessions are reused (conn_use=), and
a 100 KB message goes out without a stall.
"""
import asyncio
import re
import smtplib
import threading
import time
import unittest

from mta import MTA, free_port, wait_for

MAX_SESSIONS = 2
PER_SESSION = 10


class LimitedServer:
    def __init__(self):
        self.port = free_port()
        self.sessions = 0
        self.refused = 0
        self.messages = []
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self.session, "127.0.0.1", self.port))
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    async def session(self, reader, writer):
        with self.lock:
            refuse = self.sessions >= MAX_SESSIONS
            if refuse:
                self.refused += 1
            else:
                self.sessions += 1
        if refuse:
            writer.write(b"421 4.7.0 Too many connections\r\n")
            await writer.drain()
            writer.close()
            return
        count = 0
        try:
            writer.write(b"220 limited.test ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    break
                cmd = line[:4].upper()
                if cmd == b"EHLO":
                    writer.write(b"250-limited.test\r\n250 PIPELINING\r\n")
                elif cmd == b"MAIL":
                    if count >= PER_SESSION:
                        writer.write(b"421 4.7.0 Too much mail in one session\r\n")
                        await writer.drain()
                        break
                    writer.write(b"250 2.1.0 Ok\r\n")
                elif cmd == b"RCPT":
                    writer.write(b"250 2.1.5 Ok\r\n")
                elif cmd == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    data = []
                    while True:
                        chunk = await reader.readline()
                        if not chunk or chunk == b".\r\n":
                            break
                        data.append(chunk)
                    count += 1
                    with self.lock:
                        self.messages.append(b"".join(data))
                    writer.write(b"250 2.0.0 Ok: queued\r\n")
                elif cmd == b"QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 2.0.0 Ok\r\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            with self.lock:
                self.sessions -= 1
            writer.close()

    def stop(self):
        async def shutdown():
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Throttled(unittest.TestCase):
    def setUp(self):
        self.peer = LimitedServer()
        self.m = MTA(main_cf={"relay_domains": "example.com"}, start=False)
        self.m.write("transport", "example.com relay:[127.0.0.1]:%d\n" % self.peer.port)
        # The first deliveries fit the server's limit: before a delivery
        # got through, a refusal is deferred as in Postfix (the site may
        # be down); then the window grows and meets the limit.
        self.m.set_main(transport_maps="texthash:" + self.m.path("transport"),
                        initial_destination_concurrency=str(MAX_SESSIONS),
                        minimal_backoff_time="60s", maximal_backoff_time="60s",
                        queue_run_delay="60s")
        self.m.start()

    def tearDown(self):
        self.m.cleanup()
        self.peer.stop()

    def send(self, count, body="hello\r\n"):
        def client(first):
            for i in range(first, count, 5):
                msg = "Subject: %d\r\nX-N: %d\r\n\r\n%s" % (i, i, body)
                with smtplib.SMTP("127.0.0.1", self.m.smtp_port, timeout=30) as s:
                    s.sendmail("a@sender.test", ["u%d@example.com" % i], msg)
        threads = [threading.Thread(target=client, args=(k,)) for k in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)

    def test_every_message_once_none_deferred(self):
        count = 60
        self.send(count)
        wait_for(lambda: len(self.peer.messages) >= count, 60, what="%d messages" % count)
        time.sleep(0.5)
        log = self.m.log()
        self.assertEqual(len(self.peer.messages), count)
        numbers = sorted(int(re.search(rb"X-N: (\d+)", m).group(1)) for m in self.peer.messages)
        self.assertEqual(numbers, list(range(count)))
        self.assertNotIn("status=deferred", log)
        self.assertEqual(len(re.findall(r"status=sent", log)), count)
        # Sessions were reused, and the server's limit was met at least once
        # (the window grew past the 2 sessions that the server takes).
        self.assertRegex(log, r"conn_use=\d+")
        self.assertGreater(self.peer.refused, 0)

    def test_large_message_no_stall(self):
        # 100 KB: the body goes out in more than one write; the end of
        # data must not wait for a delayed ACK (40 ms on Linux).
        body = ("x" * 98 + "\r\n") * 1024
        self.send(5, body)
        wait_for(lambda: len(self.peer.messages) >= 5, 60, what="5 messages")
        log = self.m.log()
        xmit = [float(d) for d in re.findall(r"delays=[\d.]+/[\d.]+/[\d.]+/([\d.]+), "
                                             r"dsn=2", log)]
        self.assertEqual(len(xmit), 5)
        self.assertLess(min(xmit), 0.04, log)


if __name__ == "__main__":
    unittest.main()
