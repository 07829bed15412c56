"""smtpd_util.py - helpers for the smtpd integration tests.

    Client(port, source="127.0.0.2")   raw SMTP client: cmd(), send(), reply()
    read_queue_file(path)              [(type, bytes), ...] of a message file
    smtpd_mta(**main_cf)               MTA running only smtpd (no qmgr), so
                                       accepted mail stays in incoming/
"""
import os
import socket
import struct
import time

from mta import MTA, free_port


class Client:
    """A raw SMTP client that shows exactly what the server said."""

    def __init__(self, port, addr="127.0.0.1", source=None, timeout=20):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((addr, port))
        self.buf = b""
        self.banner = self.reply()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; pending %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("latin-1")

    def reply(self):
        """One (possibly multi-line) reply as text, lines joined by \\n."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return "\n".join(lines)

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def closed(self):
        """True when the server has closed the connection."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return True

    def close(self):
        self.sock.close()


def read_queue_file(path):
    with open(path, "rb") as f:
        data = f.read()
    recs, i = [], 0
    while i < len(data):
        t = chr(data[i])
        n = struct.unpack(">I", data[i + 1:i + 5])[0]
        recs.append((t, data[i + 5:i + 5 + n]))
        i += 5 + n
    return recs


def record(recs, t):
    return [v for k, v in recs if k == t]


def smtpd_mta(extra_master_cf="", files=None, **main_cf):
    """master with smtpd only: accepted messages stay in incoming/.
    files: {name: text} written to the config folder before the start;
    "@CONFIG@" in a parameter value is replaced with that folder."""
    port = free_port()
    mcf = "127.0.0.1:%d inet n - n - - smtpd\n" % port + extra_master_cf
    m = MTA(main_cf=main_cf, master_cf=mcf, port=port, start=False)
    for name, text in (files or {}).items():
        m.write(name, text)
    # "@CONFIG@" in a value is the instance's config folder.
    m.set_main(**{k: v.replace("@CONFIG@", m.config_dir) for k, v in main_cf.items()})
    try:
        m.start()
    except BaseException:
        m.cleanup()
        raise
    return m


def incoming(m):
    """(name, mode) of every file in incoming/."""
    d = os.path.join(m.queue_dir, "incoming")
    out = []
    for n in sorted(os.listdir(d)):
        try:
            out.append((n, os.stat(os.path.join(d, n)).st_mode))
        except FileNotFoundError:
            pass        # a session that just ended removed its unfinished file
    return out


def wait_incoming(m, count=1, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        files = incoming(m)
        if len(files) >= count:
            return files
        time.sleep(0.05)
    raise AssertionError("expected %d files in incoming/, have %r" % (count, incoming(m)))
