"""qmgr_harness.py - run qmgr on its own, with fake delivery agents.

    from qmgr_harness import Qmgr
    with Qmgr(main_cf={...}) as q:
        agent = q.agent("smtp", decide=lambda rcpt, req: ("d", "2.0.0", "250 ok"))
        qid = q.queue_message("a@b.test", ["u@example.com"], b"Subject: x\\r\\n\\r\\nhi\\r\\n")
        q.start()
        q.wait_log(qid + ": removed")

qmgr is started without master: its trigger socket (public/qmgr) is
made here and handed over on descriptor 4, the maillog_file is a file
in the temporary folder. A fake agent listens on private/<transport>,
reads each delivery request (attr.h: name NUL value NUL ... NUL),
records it, and answers per recipient with what decide() returns:
(action, status, reason) with action d, x or f. Queue files are written
here in the queue_file.h format (type byte, 4-byte big-endian length,
data) and made complete with mode 0700.
"""
import fcntl
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

from mta import LIBEXEC, LogWatch, wait_for


def record(rtype, data):
    if isinstance(data, str):
        data = data.encode()
    return rtype.encode() + struct.pack(">I", len(data)) + data


def read_attrs(sock_file):
    """One attribute list as a list of (name, value), or None at EOF."""
    items = []
    name = None
    buf = b""
    while True:
        ch = sock_file.read(1)
        if not ch:
            return None
        if ch != b"\0":
            buf += ch
            continue
        if name is None:
            if buf == b"":
                return items
            name = buf.decode()
        else:
            items.append((name, buf.decode(errors="replace")))
            name = None
        buf = b""


def encode_attrs(items):
    out = b""
    for k, v in items:
        out += k.encode() + b"\0" + str(v).encode() + b"\0"
    return out + b"\0"


class FakeAgent:
    """A delivery agent on private/NAME that answers with decide().

    persistent=True: like smtp and lmtp, it says more_requests=1 in each
    reply and reads the next request on the same connection (connections
    counts them). hop(req), when given, may return (status, reason): the
    site was not reached; with the SITE_RETRY flag in the request the
    recipients are then left without a result, else deferred."""

    def __init__(self, path, decide, delay=0.0, persistent=False, hop=None):
        self.path = path
        self.decide = decide
        self.delay = delay
        self.persistent = persistent
        self.hop = hop
        self.connections = 0
        self.requests = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(128)
        self.stopped = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with self.lock:
            self.connections += 1
        f = conn.makefile("rb")
        try:
            while self.serve_one(conn, f) and self.persistent:
                pass
        finally:
            conn.close()

    def serve_one(self, conn, f):
        """One request and its reply; False at the end of the connection."""
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        counted = True
        try:
            items = read_attrs(f)
            if items is None:
                return False
            req = {"rcpt": []}
            for k, v in items:
                if k == "recipient":
                    req["rcpt"].append({"recipient": v})
                elif req["rcpt"] and k in ("original_recipient", "offset", "dsn_notify",
                                           "dsn_orig_rcpt"):
                    req["rcpt"][-1][k] = v
                else:
                    req[k] = v
            with self.lock:
                self.requests.append(req)
            if self.delay:
                time.sleep(self.delay)
            reply = []
            hop = self.hop(req) if self.hop else None
            for i, r in enumerate(req["rcpt"]):
                if hop:
                    if int(req.get("flags", "0")) & 8:
                        continue		# SITE_RETRY: qmgr takes them back
                    answer = ("x", hop[0], hop[1])
                else:
                    answer = self.decide(r["recipient"], req)
                if answer is None:
                    continue
                action, status, reason = answer
                reply += [("rcpt_index", i), ("dsn_status", status), ("dsn_action", action),
                          ("reason", reason), ("relay", "fake[127.0.0.1]:25"),
                          ("conn_setup", "0.01"), ("xmit", "0.02"), ("conn_reuse", "0")]
            if hop:
                reply += [("hop_status", hop[0]), ("hop_reason", hop[1])]
            if self.persistent:
                reply.append(("more_requests", 1))
            reply.append(("status", 0))
            with self.lock:
                self.active -= 1
                counted = False
            conn.sendall(encode_attrs(reply))
            return True
        finally:
            if counted:
                with self.lock:
                    self.active -= 1

    def close(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def recipients(self):
        with self.lock:
            return [r["recipient"] for req in self.requests for r in req["rcpt"]]


class FakeBounce(FakeAgent):
    """private/bounce: answers status=0 and removes bounce/ID, as bounce does."""

    def __init__(self, path, queue_dir):
        self.queue_dir = queue_dir
        super().__init__(path, None)

    def serve(self, conn):
        try:
            f = conn.makefile("rb")
            items = read_attrs(f)
            if items is None:
                return
            req = dict(items)
            with self.lock:
                self.requests.append(req)
            try:
                os.unlink(os.path.join(self.queue_dir, "bounce", req.get("queue_id", "x")))
            except OSError:
                pass
            conn.sendall(encode_attrs([("status", 0)]))
        finally:
            conn.close()


class Qmgr(LogWatch):
    def __init__(self, main_cf=None):
        self.dir = tempfile.mkdtemp(prefix="qmgr-test-")
        self.config_dir = os.path.join(self.dir, "etc")
        self.queue_dir = os.path.join(self.dir, "queue")
        self.logfile = os.path.join(self.dir, "maillog")
        os.makedirs(self.config_dir)
        for d in ("incoming", "active", "deferred", "hold", "corrupt", "bounce", "defer",
                  "flush", "public", "private", "pid", "trace", "saved"):
            os.makedirs(os.path.join(self.queue_dir, d))
        params = {
            "compatibility_level": "3.7",
            "queue_directory": self.queue_dir,
            "maillog_file": self.logfile,
            "maillog_file_prefixes": self.dir,
            "myhostname": "mx.test.invalid",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "queue_run_delay": "1s",
        }
        params.update(main_cf or {})
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in params.items()))
        self.proc = None
        self.agents = []
        self.trigger_sock = None
        self.seq = 0

    # --- pieces --------------------------------------------------------------
    def agent(self, name, decide, delay=0.0, persistent=False, hop=None):
        a = FakeAgent(os.path.join(self.queue_dir, "private", name), decide, delay,
                      persistent, hop)
        self.agents.append(a)
        return a

    def flush(self):
        """public/flush that answers status=0 and records each request."""
        a = FakeBounce(os.path.join(self.queue_dir, "public", "flush"), self.queue_dir)
        self.agents.append(a)
        return a

    def bounce(self):
        a = FakeBounce(os.path.join(self.queue_dir, "private", "bounce"), self.queue_dir)
        self.agents.append(a)
        return a

    def write_table(self, name, text):
        p = os.path.join(self.config_dir, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def queue_message(self, sender, rcpts, body=b"Subject: test\r\n\r\nhello\r\n",
                      queue="incoming", arrival=None, complete=True, attrs=None):
        """Write a queue file; rcpts are addresses or (address, orig) pairs."""
        self.seq += 1
        arrival = time.time() if arrival is None else arrival
        qid = "%05X%06X" % (int((arrival % 1) * 1e6) & 0xFFFFF, (os.getpid() * 1000 + self.seq) & 0xFFFFFF)
        recs = record("V", "1") + record("T", "%d %d" % (int(arrival), int((arrival % 1) * 1e6)))
        recs += record("S", sender)
        for a in (attrs or ["client_name=localhost", "client_address=127.0.0.1",
                            "helo_name=client.test"]):
            recs += record("A", a)
        recs += record("W", "%020d" % 0)
        for r in rcpts:
            if isinstance(r, tuple):
                recs += record("O", r[1])
                r = r[0]
            recs += record("R", r)
        recs += record("M", body) + record("E", "")
        if queue == "deferred":
            d = os.path.join(self.queue_dir, "deferred", qid[0])
            os.makedirs(d, exist_ok=True)
            path = os.path.join(d, qid)
        else:
            path = os.path.join(self.queue_dir, queue, qid)
        with open(path, "wb") as f:
            f.write(recs)
        os.chmod(path, 0o700 if complete else 0o600)
        return qid

    def start(self):
        path = os.path.join(self.queue_dir, "public", "qmgr")
        self.trigger_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.trigger_sock.bind(path)
        self.trigger_sock.listen(16)
        fd = self.trigger_sock.fileno()
        env = dict(os.environ)
        env["MAIL_CONFIG"] = self.config_dir

        # A status pipe on 3 as master gives one; drained here. The
        # descriptors are moved into place by the shell, not preexec_fn.
        self.status_r, status_w = os.pipe()
        threading.Thread(target=self._drain, args=(self.status_r,), daemon=True).start()
        hi_sock = fcntl.fcntl(fd, fcntl.F_DUPFD, 100)
        hi_pipe = fcntl.fcntl(status_w, fcntl.F_DUPFD, 100)
        self.stderr = open(os.path.join(self.dir, "qmgr.stderr"), "ab")
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", 'exec "$0" "$@" 3>&%d 4<&%d %d>&- %d>&-'
             % (hi_pipe, hi_sock, hi_pipe, hi_sock),
             os.path.join(LIBEXEC, "qmgr"), "-u", "-n", "qmgr", "-t", "unix"],
            stdout=subprocess.DEVNULL, stderr=self.stderr, env=env,
            pass_fds=(hi_sock, hi_pipe), cwd=self.queue_dir)
        os.close(hi_sock)
        os.close(hi_pipe)
        os.close(status_w)

    @staticmethod
    def _drain(fd):
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass
        finally:
            try:
                os.close(fd)
            except OSError:
                pass

    def kill9(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None
        if self.trigger_sock:
            self.trigger_sock.close()
            os.unlink(os.path.join(self.queue_dir, "public", "qmgr"))
            self.trigger_sock = None

    def trigger(self, data=b"I"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(self.queue_dir, "public", "qmgr"))
        s.sendall(data)
        s.close()

    # --- looking -------------------------------------------------------------
    def stderr_text(self):
        try:
            with open(os.path.join(self.dir, "qmgr.stderr"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def files(self, queue):
        top = os.path.join(self.queue_dir, queue)
        out = []
        for root, _, names in os.walk(top):
            out.extend(os.path.join(root, n) for n in names)
        return sorted(out)

    def ids(self, queue):
        return sorted(os.path.basename(p) for p in self.files(queue))

    def make_due(self, queue="deferred"):
        """Make every file of a queue due now (as the flush service does)."""
        past = time.time() - 10
        for p in self.files(queue):
            os.utime(p, (past, past))

    # --- cleanup -------------------------------------------------------------
    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        for a in self.agents:
            a.close()
        if self.trigger_sock:
            self.trigger_sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
