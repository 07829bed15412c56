#!/usr/bin/python3
"""bench_shapes.py - the traffic shapes a real relay sees, ours vs Postfix.

Each profile runs on our mail system and on a throw-away Debian Postfix 3.7
instance back to back (the instances of bench_relay.py: smtpd -> queue ->
smtp -> a next hop on loopback) and prints ours, Postfix's and the ratio:

  distant    the next hop 50 ms away: a proxy in front of the sink delays
             every chunk by 25 ms each way (this kernel has no sch_netem,
             so netem cannot do it); COUNT 5 KB messages over 10 sessions,
             end-to-end rate.
  throttled  the next hop accepts 5 concurrent sessions (the 6th gets
             "421 4.7.0 Too many connections") and answers 421 to the
             MAIL command after 20 messages in a session; end-to-end
             rate and how many deliveries were deferred on the way.
  backlog    BACKLOG messages queued while the next hop is down (refused
             connections), then it comes up and the queue is flushed: time
             to drain, and the accept rate of new mail (one client, one
             message per connection) while the backlog drains.
  crash      CRASH messages sent by 10 clients while master and all its
             children are killed with SIGKILL every 2 s and restarted (for
             CRASH_TIME seconds at most: Postfix spends most of each 2 s
             starting again and would need hours for 20,000); each
             message has a unique X-Bench-Id. Lost = accepted with 250 but
             never delivered (must be 0); duplicates = delivered more than
             once (reported, allowed after a crash).

Both instances use minimal_backoff_time = queue_run_delay = 5s so that
deferred mail is retried within a run, except in backlog: there the
queue fills with Postfix's default retry times and `postqueue -f`
starts the drain.

Usage: bench_shapes.py --build DIR [--profile NAME ...] [--count N]
       [--backlog N] [--crash N] [--crash-time SECONDS] [--ours-only]
Exit status 1 when a message was lost.
"""
import argparse
import asyncio
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))

import bench_relay  # noqa: E402

RETRY = {"minimal_backoff_time": "5s", "maximal_backoff_time": "10s", "queue_run_delay": "5s"}
SYSTEMS = ("postfix", "ours")


# --- the next hop ---------------------------------------------------------------

def stop_loop(loop, thread, server=None):
    """End a server thread's loop: close the server, cancel its tasks."""

    async def shutdown():
        if server is not None:
            server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


class Sink:
    """An SMTP server on 127.0.0.1 in a thread of its own: counts
    messages and their X-Bench-Id values; optional limits on concurrent
    sessions and on messages per session (then 421 to MAIL)."""

    def __init__(self, port=None, max_sessions=0, per_session=0):
        self.port = port or bench_relay.free_port()
        self.max_sessions = max_sessions
        self.per_session = per_session
        self.sessions = 0
        self.messages = 0
        self.probes = 0			# backlog: new mail sent during the drain
        self.refused_sessions = 0
        self.throttled = 0
        self.ids = {}
        self.lock = threading.Lock()
        self.loop = None
        self.server = None
        self.thread = None

    def start(self):
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self.session, "127.0.0.1", self.port,
                                     reuse_address=True, backlog=512))
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    def stop(self):
        if self.loop:
            stop_loop(self.loop, self.thread, self.server)
            self.loop = None

    async def session(self, reader, writer):
        with self.lock:
            if self.max_sessions and self.sessions >= self.max_sessions:
                self.refused_sessions += 1
                refuse = True
            else:
                self.sessions += 1
                refuse = False
        if refuse:
            writer.write(b"421 4.7.0 Too many connections\r\n")
            await writer.drain()
            writer.close()
            return
        count = 0
        try:
            writer.write(b"220 sink.test ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    break
                cmd = line[:4].upper()
                if cmd in (b"EHLO", b"HELO"):
                    writer.write(b"250-sink.test\r\n250 PIPELINING\r\n")
                elif cmd == b"MAIL":
                    if self.per_session and count >= self.per_session:
                        with self.lock:
                            self.throttled += 1
                        writer.write(b"421 4.7.0 Too much mail in one session\r\n")
                        await writer.drain()
                        break
                    writer.write(b"250 2.1.0 Ok\r\n")
                elif cmd == b"RCPT":
                    writer.write(b"250 2.1.5 Ok\r\n")
                elif cmd == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    bench_id = None
                    probe = False
                    while True:
                        data = await reader.readline()
                        if not data or data == b".\r\n":
                            break
                        if bench_id is None and data.startswith(b"X-Bench-Id: "):
                            bench_id = data[12:].strip().decode()
                        elif data == b"X-Bench-Probe: yes\r\n":
                            probe = True
                    count += 1
                    with self.lock:
                        self.messages += 1
                        self.probes += probe
                        if bench_id is not None:
                            self.ids[bench_id] = self.ids.get(bench_id, 0) + 1
                    writer.write(b"250 2.0.0 Ok\r\n")
                elif cmd == b"RSET" or cmd == b"NOOP":
                    writer.write(b"250 2.0.0 Ok\r\n")
                elif cmd == b"QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"502 5.5.2 Error: command not recognized\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with self.lock:
                self.sessions -= 1
            writer.close()


class DelayProxy:
    """Forwards 127.0.0.1:port to the sink, delaying every chunk by delay
    seconds in each direction (order kept): a next hop far away."""

    def __init__(self, target_port, delay):
        self.target_port = target_port
        self.delay = delay
        self.port = bench_relay.free_port()
        self.loop = None

    def start(self):
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self.session, "127.0.0.1", self.port, backlog=512))
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    def stop(self):
        if self.loop:
            stop_loop(self.loop, self.thread, self.server)
            self.loop = None

    async def pipe(self, reader, writer):
        queue = asyncio.Queue()

        async def deliver():
            while True:
                due, data = await queue.get()
                wait = due - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        task = self.loop.create_task(deliver())
        try:
            while True:
                data = await reader.read(65536)
                await queue.put((self.loop.time() + self.delay, data or None))
                if not data:
                    break
        except ConnectionError:
            await queue.put((self.loop.time(), None))
        await task

    async def session(self, reader, writer):
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self.pipe(reader, up_w), self.pipe(up_r, writer),
                             return_exceptions=True)


# --- the two mail systems ----------------------------------------------------------

def make_postfix(port, retry=True):
    inst = bench_relay.Postfix(port)
    if retry:
        with open(os.path.join(inst.etc, "main.cf"), "a") as f:
            f.write("".join("%s = %s\n" % kv for kv in RETRY.items()))
        subprocess.run(["postfix", "-c", inst.etc, "reload"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        time.sleep(1)
    return inst


def make_ours(port, build, retry=True):
    inst = bench_relay.Ours(port, build)
    if retry:
        inst.mta.set_main(**RETRY)
        inst.mta.reload()
        time.sleep(1)
    return inst


def flush(inst):
    if inst.name == "postfix":
        subprocess.run(["postqueue", "-c", inst.etc, "-f"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    else:
        subprocess.run([os.path.join(os.environ["MTA_BUILD"], "sbin", "postqueue"), "-f"],
                       env=inst.mta.env(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def deferred_count(logfile):
    try:
        with open(logfile, errors="replace") as f:
            return len(re.findall(r"status=deferred", f.read()))
    except OSError:
        return 0


def smtp_source(port, sessions, count, size=5 * 1024):
    return subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(count), "-l",
                           str(size), "-f", "sender@bench.test", "-t", "user@example.com",
                           "127.0.0.1:%d" % port],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_delivered(sink, count, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline and sink.messages < count:
        time.sleep(0.05)
    return sink.messages


def ratio(a, b):
    return a / b if b else 0.0


# --- profiles -------------------------------------------------------------------

def profile_distant(build, count):
    res = {}
    for kind in SYSTEMS:
        sink = Sink()
        sink.start()
        proxy = DelayProxy(sink.port, 0.025)
        proxy.start()
        inst = make_postfix(proxy.port) if kind == "postfix" else make_ours(proxy.port, build)
        try:
            start = time.time()
            smtp_source(inst.port, 10, count)
            got = wait_delivered(sink, count, 600)
            res[kind] = (got / (time.time() - start), count - got)
        finally:
            inst.stop()
            proxy.stop()
            sink.stop()
    (pf, pf_lost), (us, us_lost) = res.get("postfix", (0, 0)), res["ours"]
    print("shape distant (next hop +50 ms) 10 sessions 5 KB x%d: rate ours %.0f/s "
          "postfix %.0f/s ratio %.2f (target >= 1.0); lost ours %d postfix %d"
          % (count, us, pf, ratio(us, pf), us_lost, pf_lost), flush=True)
    return us_lost


def profile_throttled(build, count):
    res = {}
    for kind in SYSTEMS:
        sink = Sink(max_sessions=5, per_session=20)
        sink.start()
        inst = make_postfix(sink.port) if kind == "postfix" else make_ours(sink.port, build)
        try:
            start = time.time()
            smtp_source(inst.port, 10, count)
            got = wait_delivered(sink, count, 900)
            res[kind] = (got / (time.time() - start), count - got,
                         deferred_count(inst.logfile), sink.refused_sessions, sink.throttled)
        finally:
            inst.stop()
            sink.stop()
    pf, us = res.get("postfix", (0,) * 5), res["ours"]
    print("shape throttled (5 sessions, 421 after 20 messages) 10 sessions 5 KB x%d: "
          "rate ours %.0f/s postfix %.0f/s ratio %.2f (target >= 1.0); deferrals ours %d "
          "postfix %d; sessions refused ours %d postfix %d; lost ours %d postfix %d"
          % (count, us[0], pf[0], ratio(us[0], pf[0]), us[2], pf[2], us[3], pf[3],
             us[1], pf[1]), flush=True)
    return us[1]


def accept_probe(port, stop, counter):
    """One client, one message per connection, as fast as it is served."""
    msg = "X-Bench-Probe: yes\r\nSubject: probe\r\n\r\nnew mail during the drain\r\n"
    while not stop.is_set():
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                s.sendmail("probe@bench.test", ["user@example.com"], msg)
            counter[0] += 1
        except (OSError, smtplib.SMTPException):
            time.sleep(0.1)


def profile_backlog(build, count):
    res = {}
    for kind in SYSTEMS:
        port = bench_relay.free_port()		# nothing listens yet: refused
        # Postfix's default retry times: the queue fills without retries
        # in between (with a 10 s maximal backoff both systems would spend
        # the fill of 100,000 re-deferring); the flush starts the drain.
        inst = (make_postfix(port, retry=False) if kind == "postfix"
                else make_ours(port, build, retry=False))
        sink = Sink(port=port)
        try:
            fill_start = time.time()
            smtp_source(inst.port, 20, count)
            fill = time.time() - fill_start
            time.sleep(2)
            sink.start()
            stop, probes = threading.Event(), [0]
            prober = threading.Thread(target=accept_probe, args=(inst.port, stop, probes))
            start = time.time()
            flush(inst)
            prober.start()
            # The backlog only: the probes that arrive meanwhile are not it.
            deadline = time.time() + 3600
            while time.time() < deadline and sink.messages - sink.probes < count:
                time.sleep(0.05)
            got = sink.messages - sink.probes
            drain = time.time() - start
            stop.set()
            prober.join(60)
            res[kind] = (drain, probes[0] / drain if drain else 0, fill, count - got)
        finally:
            inst.stop()
            sink.stop()
    pf, us = res.get("postfix", (0,) * 4), res["ours"]
    print("shape backlog %d messages: drain ours %.1f s postfix %.1f s ratio %.2f "
          "(target <= 1.0); accept rate during the drain ours %.1f/s postfix %.1f/s "
          "ratio %.2f; fill ours %.1f s postfix %.1f s; not delivered ours %d postfix %d"
          % (count, us[0], pf[0], ratio(us[0], pf[0]), us[1], pf[1], ratio(us[1], pf[1]),
             us[2], pf[2], us[3], pf[3]), flush=True)
    return us[3]


class Injector:
    """CLIENTS threads send messages with unique X-Bench-Id values and
    remember which ones got a 250 to the end of data."""

    def __init__(self, port, count, clients=10):
        self.port = port
        self.count = count
        self.next = 0
        self.stopped = False
        self.accepted = set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]

    def take(self):
        with self.lock:
            if self.next >= self.count or self.stopped:
                return None
            self.next += 1
            return self.next

    def run(self):
        n = self.take()
        while n is not None:
            msg = ("X-Bench-Id: %d\r\nSubject: crash test %d\r\n\r\n%s\r\n"
                   % (n, n, "x" * 2000))
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as s:
                    s.sendmail("sender@bench.test", ["user@example.com"], msg)
                with self.lock:
                    self.accepted.add(str(n))
                n = self.take()
            except (OSError, smtplib.SMTPException):
                time.sleep(0.05)		# server down: the same message again

    def start(self):
        for t in self.threads:
            t.start()

    def alive(self):
        return any(t.is_alive() for t in self.threads)

    def stop(self):
        """No new messages; the ones being sent finish (or fail)."""
        with self.lock:
            self.stopped = True
        for t in self.threads:
            t.join(60)


def queued_count(inst):
    """Message files still in the queue (not delivered, not lost)."""
    top = inst.spool if inst.name == "postfix" else inst.mta.queue_dir
    n = 0
    for queue in ("maildrop", "incoming", "active", "deferred", "hold", "corrupt"):
        for _, _, files in os.walk(os.path.join(top, queue)):
            n += len(files)
    return n


def kill_all(inst):
    pid = inst.master_pid()
    if not pid:
        return
    for p in bench_relay_tree(pid):
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def bench_relay_tree(root):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def restart(inst):
    if inst.name == "postfix":
        pidfile = os.path.join(inst.spool, "pid", "master.pid")
        try:
            os.unlink(pidfile)
        except OSError:
            pass
        subprocess.run(["postfix", "-c", inst.etc, "start"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    else:
        if inst.mta.proc:
            inst.mta.proc.wait(5)		# reap the killed master
        inst.mta.proc = None
        inst.mta.start(wait_smtp=False)


def profile_crash(build, count, limit):
    res = {}
    for kind in SYSTEMS:
        sink = Sink()
        sink.start()
        inst = make_postfix(sink.port) if kind == "postfix" else make_ours(sink.port, build)
        kills = 0
        try:
            inj = Injector(inst.port, count)
            inj.start()
            # Postfix needs most of the 2 s to start again: it would take
            # hours to accept COUNT. Each system is killed for LIMIT
            # seconds at most; lost is counted among what was accepted.
            stop_at = time.time() + limit
            while inj.alive() and time.time() < stop_at:
                time.sleep(2)
                kill_all(inst)
                kills += 1
                restart(inst)
            inj.stop()
            # Let the queue drain with nobody killing anything.
            deadline = time.time() + 900
            last, still = -1, 0
            while time.time() < deadline:
                flush(inst)
                time.sleep(5)
                if not (inj.accepted - set(sink.ids)):
                    break
                still = still + 1 if sink.messages == last else 0
                last = sink.messages
                if still >= 12:
                    break
            lost = len(inj.accepted - set(sink.ids))
            dups = sum(n - 1 for n in sink.ids.values() if n > 1)
            res[kind] = (lost, dups, len(inj.accepted), kills, queued_count(inst))
        finally:
            inst.stop()
            sink.stop()
    pf, us = res.get("postfix", (0,) * 5), res["ours"]
    print("shape crash (kill -9 every 2 s, for at most %d s) %d messages: lost ours %d "
          "postfix %d (target 0); delivered twice ours %d postfix %d; accepted ours %d "
          "postfix %d; kills ours %d postfix %d; message files still queued at the end "
          "ours %d postfix %d"
          % (limit, count, us[0], pf[0], us[1], pf[1], us[2], pf[2], us[3], pf[3], us[4], pf[4]),
          flush=True)
    return us[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--profile", action="append",
                    choices=["distant", "throttled", "backlog", "crash"])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--backlog", type=int, default=100000)
    ap.add_argument("--crash", type=int, default=20000)
    ap.add_argument("--crash-time", type=int, default=300,
                    help="crash: seconds of killing at most, per system")
    ap.add_argument("--ours-only", action="store_true",
                    help="skip Postfix (quick checks while working; no ratio)")
    args = ap.parse_args()
    if args.ours_only:
        global SYSTEMS
        SYSTEMS = ("ours",)
    build = os.path.abspath(args.build)
    os.environ["MTA_BUILD"] = build
    for prog in ("smtp-source", "postfix"):
        if shutil.which(prog) is None:
            raise SystemExit("no %s: install the postfix package" % prog)
    lost = 0
    for name in args.profile or ["distant", "throttled", "backlog", "crash"]:
        if name == "distant":
            lost += profile_distant(build, args.count)
        elif name == "throttled":
            lost += profile_throttled(build, args.count)
        elif name == "backlog":
            lost += profile_backlog(build, args.backlog)
        elif name == "crash":
            lost += profile_crash(build, args.crash, args.crash_time)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
