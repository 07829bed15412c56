#!/usr/bin/python3
"""bench_flush.py - postqueue -s and postqueue -p against Debian's Postfix.

A queue of N deferred messages (default 100,000) of which 100 are for
site.example, a relay domain whose server is down while the mail is
queued. Measured, for ours and for Debian's Postfix with the same queue:

  flush: the time from `postqueue -s site.example` (the server is up by
         then) until all 100 messages arrived at the site's server;
  mailq: the time of `postqueue -p` over the whole queue (best of 3).

Prints one line per measurement with the ratio ours/Postfix (target:
<= 1.0). Postfix's queue is filled through its maildrop (copies of
files its own sendmail/postdrop wrote), picked up, cleaned up and
deferred by its own pickup, cleanup and qmgr; ours is written as queue files (the format
of lib/global/queue_file.h) with the fast-flush list, because only the flush
and the listing are measured.

Usage: bench_flush.py --build DIR [--messages N] [--site-messages N]
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(n, fn):
    return min(timed(fn) for _ in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--messages", type=int,
                    default=int(os.environ.get("BENCH_FLUSH_MESSAGES", "100000")))
    ap.add_argument("--site-messages", type=int, default=100)
    args = ap.parse_args()
    os.environ["MTA_BUILD"] = os.path.abspath(args.build)

    import mta
    from mta import MTA, free_port, wait_for
    from test_postqueue import DebianPostfix, write_msg
    from test_smtp import Capture

    total, site_n = args.messages, args.site_messages
    other_n = total - site_n
    site_port = free_port()
    dead_port = free_port()

    # --- Debian Postfix -------------------------------------------------------
    ref = DebianPostfix(dead_port)
    try:
        with open(os.path.join(ref.etc, "main.cf"), "a") as f:
            f.write("relay_domains = site.example other.example\n"
                    "transport_maps = texthash:%s/transport\n"
                    "default_process_limit = 200\nsmtpd_client_connection_count_limit = 0\n"
                    "minimal_backoff_time = 1h\nmaximal_backoff_time = 2h\nqueue_run_delay = 1h\n"
                    % ref.etc)
        with open(os.path.join(ref.etc, "transport"), "w") as f:
            f.write("site.example relay:[127.0.0.1]:%d\nother.example relay:[127.0.0.1]:%d\n"
                    % (site_port, dead_port))
        # Fill: Postfix's own sendmail/postdrop writes one maildrop file per
        # recipient domain into the stopped instance; the 100,000 maildrop
        # files are byte copies of those two (postdrop's record format,
        # mode and owner), then pickup, cleanup and qmgr turn them into a
        # real queue, deferred because the relay is unreachable. (Going
        # through smtpd with smtp-source was too slow for ~10 minutes.)
        fill_start = time.perf_counter()
        ref.run("postfix", "stop", check=True)
        wait_for(lambda: ref.run("postfix", "status").returncode != 0, 30, 0.2,
                 what="postfix stop")
        maildrop = os.path.join(ref.queue, "maildrop")
        templates = {}
        for rcpt in ("user@site.example", "user@other.example"):
            before = set(os.listdir(maildrop))
            subprocess.run(["/usr/sbin/sendmail", "-C", ref.etc, "-f", "a@b.test", rcpt],
                           input=b"Subject: bench\n\nbody\n", check=True,
                           capture_output=True, timeout=60)
            new = set(os.listdir(maildrop)) - before
            assert len(new) == 1, new
            path = os.path.join(maildrop, new.pop())
            with open(path, "rb") as f:
                templates[rcpt] = (f.read(), os.stat(path))
            os.unlink(path)
        for i in range(total):
            data, st = templates["user@site.example" if i < site_n else "user@other.example"]
            path = os.path.join(maildrop, "F%05X%05X" % (i >> 20, i & 0xFFFFF))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, st.st_mode & 0o7777)
            os.write(fd, data)
            os.fchown(fd, st.st_uid, st.st_gid)
            os.close(fd)
        # postsuper (run by `postfix start`, as the mail owner) logs the
        # renamed maildrop files itself: a fresh log it may write to.
        import pwd
        log = os.path.join(ref.dir, "maillog")
        if os.path.exists(log):
            os.unlink(log)
        with open(log, "w"):
            pass
        pw = pwd.getpwnam("postfix")
        os.chown(log, pw.pw_uid, pw.pw_gid)
        r = ref.run("postfix", "start")
        if r.returncode != 0:
            raise SystemExit("postfix start: %s" % r.stderr)
        wait_for(lambda: ref.log().count("status=deferred") >= total, 3600, 2.0,
                 what="Postfix to defer %d messages" % total)
        wait_for(lambda: not os.listdir(os.path.join(ref.queue, "active"))
                 and not os.listdir(os.path.join(ref.queue, "incoming")), 600, 1.0,
                 what="Postfix's queue to settle")
        wait_for(lambda: not os.listdir(maildrop), 600, 1.0, what="pickup")
        fill_t = time.perf_counter() - fill_start
        pf_mailq = best_of(3, lambda: ref.run("postqueue", "-p", check=True))
        capture = Capture("127.0.0.1", site_port, name="site")
        try:
            def pf_flush():
                ref.run("postqueue", "-s", "site.example", check=True)
                wait_for(lambda: len(capture.messages) >= site_n, 600, 0.01,
                         what="Postfix's flush")
            pf_flush_t = timed(pf_flush)
        finally:
            capture.stop()
    finally:
        ref.stop()

    # --- ours -------------------------------------------------------------------
    m = MTA(main_cf={"relay_domains": "site.example other.example",
                     "transport_maps": "texthash:${config_directory}/transport",
                     "minimal_backoff_time": "1h", "maximal_backoff_time": "2h",
                     "queue_run_delay": "1h"}, start=False)
    try:
        m.write("transport", "site.example relay:[127.0.0.1]:%d\nother.example relay:[127.0.0.1]:%d\n"
                % (site_port, dead_port))
        m.set_main(config_directory=m.config_dir)
        os.makedirs(os.path.join(m.queue_dir, "flush"), exist_ok=True)
        future = time.time() + 3600
        site_ids = []
        for i in range(total):
            qid = "%05X%06X" % (i % 0xFFFFF, 0x100000 + i)
            rcpt = "user@site.example" if i < site_n else "user@other.example"
            p = write_msg(m.queue_dir, "deferred", qid, "a@b.test", [rcpt],
                          message="Received: by bench\r\nSubject: bench %d\r\n\r\nbody\r\n" % i)
            os.utime(p, (future, future))
            if i < site_n:
                site_ids.append(qid)
        with open(os.path.join(m.queue_dir, "flush", "site_example"), "w") as f:
            f.write("".join("%s\n" % q for q in site_ids))
        if os.getuid() == 0:
            import pwd
            pw = pwd.getpwnam(m.params["mail_owner"])
            for p in (os.path.join(m.queue_dir, "flush"), os.path.join(m.queue_dir, "flush", "site_example")):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        m.start()
        ours_mailq = best_of(3, lambda: m.command("postqueue", "-p", check=True))
        capture = Capture("127.0.0.1", site_port, name="site")
        try:
            def our_flush():
                m.command("postqueue", "-s", "site.example", check=True)
                wait_for(lambda: len(capture.messages) >= site_n, 600, 0.01, what="our flush")
            ours_flush_t = timed(our_flush)
        finally:
            capture.stop()
    finally:
        m.cleanup()

    print("(Postfix's queue of %d filled through maildrop/pickup/cleanup in %.0fs)"
          % (total, fill_t))
    print("flush %d of %d deferred: ours %.3fs  postfix %.3fs  ratio %.2f"
          % (site_n, total, ours_flush_t, pf_flush_t, ours_flush_t / pf_flush_t))
    print("postqueue -p over %d messages: ours %.3fs  postfix %.3fs  ratio %.2f"
          % (total, ours_mailq, pf_mailq, ours_mailq / pf_mailq))
    return 0


if __name__ == "__main__":
    sys.exit(main())
