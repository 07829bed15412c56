"""test_qmgr - the queue manager on its own, with fake delivery agents.

qmgr runs without master (qmgr_harness.Qmgr); queue files are written
here; fake agents on private/<transport> answer each recipient as told.
What is checked is what an administrator sees: log lines, the files in
the queue folders, and what the agents were asked to deliver.
"""
import os
import re
import time
import unittest

from qmgr_harness import Qmgr
from mta import wait_for

OK = ("d", "2.0.0", "250 2.0.0 Ok: queued")


def by_domain(rcpt, req):
    domain = rcpt.rsplit("@", 1)[1]
    if domain.startswith("soft"):
        return ("x", "4.2.0", "host fake[127.0.0.1] said: 450 4.2.0 try later "
                "(in reply to RCPT TO command)")
    if domain.startswith("hard"):
        return ("f", "5.1.1", "host fake[127.0.0.1] said: 550 5.1.1 no such user "
                "(in reply to RCPT TO command)")
    if domain.startswith("down"):
        return ("x", "4.4.1", "connect to down.test[127.0.0.1]:25: Connection refused")
    return OK


class Delivery(unittest.TestCase):
    def test_delivered_and_removed(self):
        with Qmgr() as q:
            smtp = q.agent("smtp", by_domain)
            body = b"Subject: one\r\n\r\nbody text\r\n"
            qid = q.queue_message("a@b.test", ["u1@example.com", ("u2@example.com", "alias@b.test")],
                                  body=body)
            q.start()
            q.wait_log(r"%s: removed" % qid)
            log = q.log()
            self.assertRegex(log, r"postfix/qmgr\[\d+\]: %s: from=<a@b.test>, size=%d, nrcpt=2 "
                             r"\(queue active\)" % (qid, len(body)))
            self.assertEqual(sorted(smtp.recipients()), ["u1@example.com", "u2@example.com"])
            req = smtp.requests[0]
            self.assertEqual(req["queue_id"], qid)
            self.assertEqual(req["queue_name"], "active")
            self.assertEqual(req["sender"], "a@b.test")
            self.assertEqual(req["nexthop"], "example.com")
            self.assertEqual(req["transport"], "smtp")
            self.assertEqual(req["client_address"], "127.0.0.1")
            self.assertEqual(int(req["data_size"]), len(body))
            orig = [r.get("original_recipient") for r in req["rcpt"]]
            self.assertIn("alias@b.test", orig)
            self.assertEqual(q.ids("active") + q.ids("incoming") + q.ids("deferred"), [])

    def test_message_data_offset(self):
        """The agent can read the message at the offset it is given."""
        with Qmgr() as q:
            seen = {}

            def grab(rcpt, req):
                path = os.path.join(q.queue_dir, req["queue_name"], req["queue_id"])
                with open(path, "rb") as f:
                    f.seek(int(req["data_offset"]))
                    seen["data"] = f.read(int(req["data_size"]))
                return OK
            q.agent("smtp", grab)
            body = b"Subject: offset\r\n\r\n" + b"x" * 5000 + b"\r\n"
            qid = q.queue_message("a@b.test", ["u@example.com"], body=body)
            q.start()
            q.wait_log(r"%s: removed" % qid)
            self.assertEqual(seen["data"], body)

    def test_soft_failure_deferred_then_retried(self):
        with Qmgr(main_cf={"minimal_backoff_time": "3s", "maximal_backoff_time": "4s"}) as q:
            answers = []

            def flaky(rcpt, req):
                answers.append(rcpt)
                if len(answers) == 1:
                    return by_domain("x@soft.test", req)
                return OK
            q.agent("smtp", flaky)
            qid = q.queue_message("a@b.test", ["u@example.com"])
            q.start()
            # Deferred with the reason, into deferred/ with a future time.
            wait_for(lambda: q.ids("deferred") == [qid], 60, what="message in deferred/")
            self.assertEqual(q.ids("defer"), [qid])
            with open(q.files("defer")[0]) as f:
                self.assertIn("reason=host fake[127.0.0.1] said: 450 4.2.0 try later", f.read())
            self.assertTrue(re.match(r"deferred/%s/%s$" % (qid[0], qid),
                                     os.path.relpath(q.files("deferred")[0], q.queue_dir)))
            self.assertGreater(os.stat(q.files("deferred")[0]).st_mtime, time.time() - 0.5)
            # Retried after the back-off (1s) by the periodic deferred scan.
            q.wait_log(r"%s: removed" % qid, timeout=20)
            self.assertEqual(len(answers), 2)
            self.assertEqual(len(re.findall(r"%s: from=<a@b.test>" % qid, q.log())), 2)
            self.assertEqual(q.ids("defer"), [])

    def test_fast_flush_registration(self):
        with Qmgr(main_cf={"relay_domains": "example.com"}) as q:
            q.agent("smtp", by_domain)
            q.agent("relay", by_domain)
            flush = q.flush()
            qid = q.queue_message("a@b.test", ["u@soft.example.com", "v@soft.other.test"])
            q.start()
            wait_for(lambda: q.ids("deferred") == [qid], 60, what="message in deferred/")
            wait_for(lambda: flush.requests, 60, what="flush request")
            # Only the site in fast_flush_domains (= $relay_domains) is registered.
            self.assertEqual(flush.requests, [{"request": "add", "site": "soft.example.com",
                                               "queue_id": qid}])

    def test_hard_failure_bounced_at_once(self):
        with Qmgr() as q:
            q.agent("smtp", by_domain)
            bounce = q.bounce()
            qid = q.queue_message("a@b.test", ["u@hard.test", "v@example.com"])
            q.start()
            q.wait_log(r"%s: removed" % qid)
            self.assertEqual([r["queue_id"] for r in bounce.requests], [qid])
            self.assertEqual(bounce.requests[0]["request"], "flush")
            self.assertEqual(q.ids("deferred"), [])

    def test_bounce_service_down_keeps_message(self):
        with Qmgr() as q:
            q.agent("smtp", by_domain)
            qid = q.queue_message("a@b.test", ["u@hard.test"])
            q.start()
            q.wait_log(r"warning: %s: bounce service failure" % qid)
            wait_for(lambda: q.ids("deferred") == [qid], 60, what="message kept in deferred/")
            with open(os.path.join(q.queue_dir, "bounce", qid)) as f:
                text = f.read()
            self.assertIn("recipient=u@hard.test", text)
            self.assertIn("status=5.1.1", text)
            self.assertIn("action=failed", text)
            # The recipient is done in the file: a later attempt only bounces.
            with open(q.files("deferred")[0], "rb") as f:
                data = f.read()
            self.assertIn(b"D\x00\x00\x00\x0bu@hard.test", data)


class Routing(unittest.TestCase):
    def test_transport_maps_and_builtin_transports(self):
        with Qmgr(main_cf={"relay_domains": "example.com"}) as q:
            table = q.write_table("transport",
                                  "example.com      relay:[gw.example.com]:2525\n"
                                  ".example.com     relay:[sub-gw.example.com]\n"
                                  "vip@example.com  smtp:[192.0.2.7]\n"
                                  "bad.test         error:5.1.2 mail for bad.test is not accepted\n"
                                  "later.test       retry:4.3.5 try again later\n")
            with open(os.path.join(q.config_dir, "main.cf"), "a") as f:
                f.write("transport_maps = texthash:%s\n" % table)
            relay = q.agent("relay", by_domain)
            smtp = q.agent("smtp", by_domain)
            q.bounce()
            qid = q.queue_message("a@b.test", ["a@example.com", "b@x.example.com",
                                               "vip@example.com", "c@bad.test", "d@later.test",
                                               "e@other.test"])
            q.start()
            q.wait_log(r"postfix/error\[\d+\]: %s: to=<c@bad.test>, relay=none, delay=[\d.]+, "
                       r"delays=[\d.]+/[\d.]+/0/0, dsn=5.1.2, status=bounced "
                       r"\(mail for bad.test is not accepted\)" % qid)
            q.wait_log(r"postfix/error\[\d+\]: %s: to=<d@later.test>, relay=none, .*dsn=4.3.5, "
                       r"status=deferred \(try again later\)" % qid)
            wait_for(lambda: len(relay.requests) >= 2 and len(smtp.requests) >= 2, 60,
                     what="deliveries")
            got = {(r["nexthop"], x["recipient"]) for r in relay.requests for x in r["rcpt"]}
            self.assertEqual(got, {("[gw.example.com]:2525", "a@example.com"),
                                   ("[sub-gw.example.com]", "b@x.example.com")})
            got = {(r["nexthop"], x["recipient"]) for r in smtp.requests for x in r["rcpt"]}
            self.assertEqual(got, {("[192.0.2.7]", "vip@example.com"), ("other.test", "e@other.test")})
            wait_for(lambda: q.ids("deferred") == [qid], 60, what="deferred for d@later.test")

    def test_defer_transports_and_flush_mark(self):
        with Qmgr(main_cf={"defer_transports": "smtp"}) as q:
            smtp = q.agent("smtp", by_domain)
            qid = q.queue_message("a@b.test", ["u@example.com"])
            q.start()
            q.wait_log(r"postfix/error\[\d+\]: %s: to=<u@example.com>, relay=none, .*"
                       r"dsn=4.3.2, status=deferred \(deferred transport\)" % qid)
            wait_for(lambda: q.ids("deferred") == [qid], 60, what="deferred/")
            self.assertEqual(smtp.requests, [])
            # A periodic scan does not deliver it; a flush mark does.
            q.make_due()
            q.trigger(b"D")
            q.wait_log(r"%s: to=<u@example.com>, relay=none, .*deferred transport" % qid, count=2)
            self.assertEqual(smtp.requests, [])
            # Mark first, then make it due: a scan may take it right away.
            # (The second deferral is logged before the file is back in
            # deferred/: wait for it there.)
            path = wait_for(lambda: q.files("deferred"), 30, what="back in deferred/")[0]
            os.chmod(path, 0o720)
            past = time.time() - 10
            os.utime(path, (past, past))
            q.trigger(b"FA")
            q.wait_log(r"%s: removed" % qid)
            self.assertEqual(smtp.recipients(), ["u@example.com"])


class Queue(unittest.TestCase):
    def test_files_that_are_skipped_or_corrupt(self):
        with Qmgr() as q:
            smtp = q.agent("smtp", by_domain)
            partial = q.queue_message("a@b.test", ["p@example.com"], complete=False)
            good = q.queue_message("a@b.test", ["g@example.com"])
            # A symlink to a complete file is never followed.
            target = q.queue_message("a@b.test", ["s@example.com"], queue="hold")
            os.symlink(os.path.join(q.queue_dir, "hold", target),
                       os.path.join(q.queue_dir, "incoming", "ABCDEF12345"))
            # A forged length: 2 GiB of message data in a small file.
            bad = "BADBADBAD01"
            with open(os.path.join(q.queue_dir, "incoming", bad), "wb") as f:
                f.write(b"V\x00\x00\x00\x011T\x00\x00\x00\x0c1700000000 0S\x00\x00\x00\x00"
                        b"R\x00\x00\x00\x03a@b" b"M\x7f\xff\xff\xffxx")
            os.chmod(os.path.join(q.queue_dir, "incoming", bad), 0o700)
            # Names that are not queue IDs are left alone.
            with open(os.path.join(q.queue_dir, "incoming", "not-a-qid"), "w") as f:
                f.write("x")
            os.chmod(os.path.join(q.queue_dir, "incoming", "not-a-qid"), 0o700)
            q.start()
            q.wait_log(r"%s: removed" % good)
            q.wait_log(r"warning: %s: corrupt queue file: " % bad)
            q.wait_log(r'warning: saving corrupt file "%s" from queue "active" to queue "corrupt"'
                       % bad)
            self.assertEqual(q.ids("corrupt"), [bad])
            self.assertEqual(smtp.recipients(), ["g@example.com"])
            self.assertIn(partial, q.ids("incoming"))
            self.assertIn("not-a-qid", q.ids("incoming"))
            self.assertIn("ABCDEF12345", q.ids("incoming"))

    def test_active_leftovers_taken_up_at_start(self):
        with Qmgr() as q:
            smtp = q.agent("smtp", by_domain)
            qid = q.queue_message("a@b.test", ["u@example.com"], queue="active")
            q.start()
            q.wait_log(r"%s: removed" % qid)
            self.assertEqual(smtp.recipients(), ["u@example.com"])

    def test_address_probe(self):
        """A probe (A verify=1) goes out with the verify flag, never bounces or stays."""
        with Qmgr(main_cf={"transport_maps": "inline:{ {bad.test = error:5.1.2 no} }"}) as q:
            smtp = q.agent("smtp", by_domain)
            attrs = ["verify=1"]
            soft = q.queue_message("double-bounce@mx.test.invalid", ["u@soft.test"], attrs=attrs)
            bad = q.queue_message("double-bounce@mx.test.invalid", ["u@bad.test"], attrs=attrs)
            q.start()
            q.wait_log(r"%s: removed" % soft)
            q.wait_log(r"%s: removed" % bad)
            self.assertEqual([r["flags"] for r in smtp.requests], ["1"])
            self.assertRegex(q.log(), r"postfix/error\[\d+\]: %s: to=<u@bad.test>, relay=none, "
                                      r".*dsn=5.1.2, status=undeliverable \(no\)" % bad)
            self.assertEqual(q.ids("deferred") + q.ids("defer") + q.ids("bounce"), [])

    def test_expired_message_returned(self):
        with Qmgr(main_cf={"maximal_queue_lifetime": "1d", "bounce_queue_lifetime": "1d"}) as q:
            q.agent("smtp", by_domain)
            bounce = q.bounce()
            qid = q.queue_message("a@b.test", ["u@soft.test"], arrival=time.time() - 2 * 86400)
            q.start()
            q.wait_log(r"%s: from=<a@b.test>, status=expired, returned to sender" % qid)
            q.wait_log(r"%s: removed" % qid)
            self.assertEqual([r["queue_id"] for r in bounce.requests], [qid])

    def test_memory_limits(self):
        """Few messages and recipients in memory: everything still goes."""
        with Qmgr(main_cf={"qmgr_message_active_limit": "2",
                           "qmgr_message_recipient_limit": "3",
                           "qmgr_message_recipient_minimum": "1",
                           "default_destination_recipient_limit": "2"}) as q:
            smtp = q.agent("smtp", by_domain)
            big = q.queue_message("a@b.test", ["r%d@example.com" % i for i in range(10)])
            small = [q.queue_message("a@b.test", ["s%d@example.net" % i]) for i in range(6)]
            q.start()
            for qid in [big] + small:
                q.wait_log(r"%s: removed" % qid, timeout=30)
            rcpts = smtp.recipients()
            self.assertEqual(sorted(rcpts), sorted(["r%d@example.com" % i for i in range(10)]
                                                   + ["s%d@example.net" % i for i in range(6)]))
            self.assertLessEqual(max(len(r["rcpt"]) for r in smtp.requests), 2)


class Concurrency(unittest.TestCase):
    def test_window_and_dead_destination(self):
        with Qmgr(main_cf={"initial_destination_concurrency": "2",
                           "default_destination_concurrency_limit": "3"}) as q:
            down = q.agent("smtp", by_domain, delay=0.3)
            ids = [q.queue_message("a@b.test", ["u%d@down.test" % i]) for i in range(8)]
            q.start()
            wait_for(lambda: len(q.ids("deferred")) == 8, 60, what="all 8 deferred")
            log = q.log()
            # Slow start: never more than the initial window at once, and
            # the destination is suspended after a failed cohort.
            self.assertLessEqual(down.max_active, 2)
            self.assertLess(len(down.requests), 8)
            self.assertRegex(log, r"postfix/error\[\d+\]: \w+: to=<u\d@down.test>, relay=none, "
                                  r".*dsn=4.4.1, status=deferred \(delivery temporarily suspended: "
                                  r"connect to down.test\[127.0.0.1\]:25: Connection refused\)")
            # A flush revives it.
            down.decide = lambda r, req: OK
            n = len(down.requests)
            q.make_due()
            q.trigger(b"FA")
            for qid in ids:
                q.wait_log(r"%s: removed" % qid, timeout=20)
            self.assertEqual(len(down.requests) - n, 8)

    def test_concurrency_limit(self):
        with Qmgr(main_cf={"initial_destination_concurrency": "2",
                           "default_destination_concurrency_limit": "4"}) as q:
            smtp = q.agent("smtp", by_domain, delay=0.2)
            ids = [q.queue_message("a@b.test", ["u%d@example.com" % i]) for i in range(20)]
            q.start()
            for qid in ids:
                q.wait_log(r"%s: removed" % qid, timeout=30)
            self.assertLessEqual(smtp.max_active, 4)
            self.assertGreaterEqual(smtp.max_active, 3)

    def test_agent_connection_kept_per_destination(self):
        # An agent that takes another request keeps its connection: with
        # one delivery at a time to the destination, one connection
        # carries them all (and so does the agent's SMTP session).
        with Qmgr(main_cf={"default_destination_concurrency_limit": "1"}) as q:
            smtp = q.agent("smtp", by_domain, persistent=True)
            ids = [q.queue_message("a@b.test", ["u%d@example.com" % i]) for i in range(6)]
            q.start()
            for qid in ids:
                q.wait_log(r"%s: removed" % qid, timeout=30)
            self.assertEqual(len(smtp.requests), 6)
            self.assertEqual(smtp.connections, 1)

    def test_one_request_per_connection_without_more(self):
        # An agent that does not say more_requests gets one request per
        # connection, as before.
        with Qmgr(main_cf={"default_destination_concurrency_limit": "1"}) as q:
            smtp = q.agent("smtp", by_domain)
            ids = [q.queue_message("a@b.test", ["u%d@example.com" % i]) for i in range(3)]
            q.start()
            for qid in ids:
                q.wait_log(r"%s: removed" % qid, timeout=30)
            self.assertEqual(smtp.connections, 3)

    def test_refused_session_sent_again_not_deferred(self):
        # A site that takes some sessions and refuses more (421 at the
        # greeting): deliveries refused while others were under way come
        # back to qmgr (SITE_RETRY) and go out again; nothing is deferred.
        refused = []

        def hop(req):
            # Two at most: three in a row would kill a window of 3.
            if int(req.get("flags", "0")) & 8 and len(refused) < 2:  # SITE_RETRY
                refused.append(req["queue_id"])
                return ("4.7.0", "host fake[127.0.0.1] refused to talk to me: "
                        "421 4.7.0 Too many connections")
            return None

        with Qmgr(main_cf={"initial_destination_concurrency": "3"}) as q:
            smtp = q.agent("smtp", by_domain, delay=0.1, persistent=True, hop=hop)
            ids = [q.queue_message("a@b.test", ["u%d@example.com" % i]) for i in range(20)]
            q.start()
            for qid in ids:
                q.wait_log(r"%s: removed" % qid, timeout=60)
            log = q.log()
            self.assertEqual(len(refused), 2)
            self.assertNotIn("status=deferred", log)
            self.assertEqual(len(smtp.requests), 22)

    def test_destination_rate_delay(self):
        # default_destination_rate_delay: one delivery at a time to a
        # destination, 1 s apart; another destination is not held back.
        times = {}

        def hop(req):
            dom = req["rcpt"][0]["recipient"].split("@")[1]
            times.setdefault(dom, []).append(time.time())
            return None

        with Qmgr(main_cf={"default_destination_rate_delay": "1s"}) as q:
            q.agent("smtp", by_domain, hop=hop)
            ids = [q.queue_message("a@b.test", ["u%d@example.com" % i]) for i in range(3)]
            ids.append(q.queue_message("a@b.test", ["v@other.test"]))
            q.start()
            for qid in ids:
                q.wait_log(r"%s: removed" % qid, timeout=30)
        t = times["example.com"]
        self.assertEqual(len(t), 3)
        for a, b in zip(t, t[1:]):
            self.assertGreaterEqual(b - a, 0.95)
        self.assertLess(times["other.test"][0] - t[0], 0.9)

    def test_transport_rate_delay(self):
        # smtp_transport_rate_delay: 1 s between any two deliveries of
        # the transport, whatever the destination.
        stamps = []

        def hop(req):
            stamps.append(time.time())
            return None

        with Qmgr(main_cf={"smtp_transport_rate_delay": "1s"}) as q:
            q.agent("smtp", by_domain, hop=hop)
            ids = [q.queue_message("a@b.test", ["u@d%d.test" % i]) for i in range(3)]
            q.start()
            for qid in ids:
                q.wait_log(r"%s: removed" % qid, timeout=30)
        self.assertEqual(len(stamps), 3)
        for a, b in zip(stamps, stamps[1:]):
            self.assertGreaterEqual(b - a, 0.95)

    def test_feedback_forms(self):
        # Postfix's forms: "number", "number/number", "number/concurrency".
        with Qmgr(main_cf={"default_destination_concurrency_positive_feedback":
                           "1/concurrency",
                           "smtp_destination_concurrency_negative_feedback": "1 / 2"}) as q:
            q.agent("smtp", by_domain)
            qid = q.queue_message("a@b.test", ["u@example.com"])
            q.start()
            q.wait_log(r"%s: removed" % qid)
        with Qmgr(main_cf={"default_destination_concurrency_positive_feedback": "2"}) as q:
            q.agent("smtp", by_domain)
            q.queue_message("a@b.test", ["u@example.com"])
            q.start()
            q.wait_log(r"fatal: smtp_destination_concurrency_positive_feedback: "
                       r"bad feedback value: 2")

    def test_missing_transport(self):
        with Qmgr() as q:
            qid = q.queue_message("a@b.test", ["u@example.com"])
            q.start()
            q.wait_log(r"warning: connect to transport private/smtp: No such file or directory")
            q.wait_log(r"postfix/error\[\d+\]: %s: to=<u@example.com>, relay=none, .*dsn=4.3.0, "
                       r"status=deferred \(mail transport unavailable\)" % qid)
            wait_for(lambda: q.ids("deferred") == [qid], 60, what="deferred/")


if __name__ == "__main__":
    unittest.main()
