"""milter_server.py - a Sendmail milter (protocol 2 or 6) written for the tests.

    from milter_server import Milter
    def policy(stage, info):          # what the milter answers
        if stage == "eom" and b"addhdr" in info["body"]:
            return [("addheader", "X-Test", "yes"), "accept"]
        return "continue"
    with Milter(policy, version=6) as ml:
        ml.spec                       # "inet:127.0.0.1:PORT" for smtpd_milters
        ml.events                     # [(stage, info), ...] as received

The milter speaks the wire protocol itself (no libmilter): option
negotiation (version, actions, protocol flags, optional macro lists),
then for each MTA command it records (stage, info) and answers with
what policy(stage, info) returns: one reply, or for "eom" a list of
modification requests followed by one final reply.

Stages: connect (hostname, family, port, address), helo (name), mail
(args), rcpt (args), data, header (name, value), eoh, body (chunk), eom
(headers [(name, value)], body bytes), unknown (command), abort, quit;
macros are in info["macros"] (all macros received so far for the
stage's command code).

Replies: "continue", "accept", "reject", "tempfail", "discard", "skip",
("replycode", "550 5.7.1 text"), ("quarantine", "reason"),
("progress",), ("addheader", name, value), ("insheader", index, name,
value), ("chgheader", index, name, value), ("delheader", name) (a
chgheader with an empty value), ("replbody", bytes), ("chgfrom", addr
[, args]), ("addrcpt", addr), ("addrcpt_par", addr, args), ("delrcpt",
addr), "shutdown", "close" (the milter hangs up without answering),
("sleep", seconds) (answer late: for timeouts).

Run as a program (python3 milter_server.py PORT MODE) for checking what
Debian's Postfix does with the same milter; MODE is one of the policies
in STANDALONE below.
"""
import socket
import socketserver
import struct
import sys
import threading
import time

SMFIF_ALL = 0x1FF          # every action, v6 (SETSYMLIST included)
SMFIF_V2 = 0x3F            # ADDHDRS CHGBODY ADDRCPT DELRCPT CHGHDRS QUARANTINE

STAGE_OF = {b"C": "connect", b"H": "helo", b"M": "mail", b"R": "rcpt", b"T": "data",
            b"L": "header", b"N": "eoh", b"B": "body", b"E": "eom", b"U": "unknown",
            b"A": "abort", b"Q": "quit", b"K": "quit_nc"}
NO_REPLY = {b"D", b"A", b"Q", b"K", b"O"}


def _pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def _z(s):
    return (s.encode("latin-1") if isinstance(s, str) else s) + b"\0"


def encode_reply(r):
    """One reply (string or tuple) as a packet."""
    if isinstance(r, str):
        r = (r,)
    kind = r[0]
    simple = {"continue": b"c", "accept": b"a", "reject": b"r", "tempfail": b"t",
              "discard": b"d", "skip": b"s", "progress": b"p", "shutdown": b"4"}
    if kind in simple:
        return _pkt(simple[kind])
    if kind == "replycode":
        return _pkt(b"y", _z(r[1]))
    if kind == "quarantine":
        return _pkt(b"q", _z(r[1]))
    if kind == "addheader":
        return _pkt(b"h", _z(r[1]) + _z(r[2]))
    if kind == "insheader":
        return _pkt(b"i", struct.pack(">I", r[1]) + _z(r[2]) + _z(r[3]))
    if kind == "chgheader":
        return _pkt(b"m", struct.pack(">I", r[1]) + _z(r[2]) + _z(r[3]))
    if kind == "delheader":
        return _pkt(b"m", struct.pack(">I", r[2] if len(r) > 2 else 1) + _z(r[1]) + _z(""))
    if kind == "replbody":
        return _pkt(b"b", r[1])
    if kind == "chgfrom":
        return _pkt(b"e", _z(r[1]) + (_z(r[2]) if len(r) > 2 else b""))
    if kind == "addrcpt":
        return _pkt(b"+", _z(r[1]))
    if kind == "addrcpt_par":
        return _pkt(b"2", _z(r[1]) + _z(r[2]))
    if kind == "delrcpt":
        return _pkt(b"-", _z(r[1]))
    raise ValueError("unknown milter reply %r" % (r,))


class _Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def handle(self):
        ml = self.server.milter
        with ml.lock:
            ml.connections += 1
        macros = {}
        headers, body = [], b""
        no_reply = set()
        try:
            while True:
                n = struct.unpack(">I", self.recv_exact(4))[0]
                data = self.recv_exact(n)
                cmd, data = data[:1], data[1:]
                if cmd == b"O":
                    ver, act, proto = struct.unpack(">III", data[:12])
                    with ml.lock:
                        ml.optneg.append((ver, act, proto))
                    my_proto = ml.protocol & proto
                    if ml.no_header_reply:
                        my_proto |= 0x80
                    out = struct.pack(">III", min(ver, ml.version),
                                      ml.actions & act, my_proto)
                    for stage, names in (ml.symlists or {}).items():
                        out += struct.pack(">I", stage) + _z(names)
                    self.request.sendall(_pkt(b"O", out))
                    if my_proto & 0x80:
                        no_reply.add(b"L")
                    continue
                if cmd == b"D":
                    code, rest = data[:1], data[1:]
                    parts = rest.split(b"\0")
                    m = {}
                    for i in range(0, len(parts) - 1, 2):
                        m[parts[i].decode("latin-1")] = parts[i + 1].decode("latin-1")
                    macros[code] = m
                    continue
                stage = STAGE_OF.get(cmd, "cmd-%r" % cmd)
                info = {"macros": dict(macros.get(cmd, {}))}
                if cmd == b"C":
                    host, rest = data.split(b"\0", 1)
                    info["hostname"] = host.decode("latin-1")
                    info["family"] = rest[:1].decode()
                    if info["family"] in ("4", "6"):
                        info["port"] = struct.unpack(">H", rest[1:3])[0]
                        info["address"] = rest[3:].rstrip(b"\0").decode("latin-1")
                elif cmd == b"H":
                    info["name"] = data.rstrip(b"\0").decode("latin-1")
                elif cmd in (b"M", b"R"):
                    info["args"] = [a.decode("latin-1") for a in data.split(b"\0")[:-1]]
                elif cmd == b"L":
                    name, value = data.split(b"\0")[:2]
                    info["name"], info["value"] = name.decode("latin-1"), value.decode("latin-1")
                    headers.append((info["name"], info["value"]))
                elif cmd == b"B":
                    info["chunk"] = data
                    body += data
                elif cmd == b"E":
                    info["headers"], info["body"] = headers, body
                    headers, body = [], b""
                elif cmd == b"U":
                    info["command"] = data.rstrip(b"\0").decode("latin-1")
                elif cmd in (b"A",):
                    headers, body = [], b""
                with ml.lock:
                    ml.events.append((stage, info))
                if cmd in (b"Q", b"K"):
                    if cmd == b"Q":
                        return
                    macros = {}
                    continue
                if cmd in NO_REPLY or cmd in no_reply:
                    continue
                answer = ml.policy(stage, info)
                if not isinstance(answer, list):
                    answer = [answer]
                out = b""
                for r in answer:
                    if r == "close":
                        self.request.sendall(out)
                        return
                    if isinstance(r, tuple) and r[0] == "sleep":
                        self.request.sendall(out)
                        out = b""
                        time.sleep(r[1])
                        continue
                    out += encode_reply(r)
                self.request.sendall(out)
        except (EOFError, ConnectionError, OSError):
            return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Milter:
    def __init__(self, policy=None, version=6, actions=SMFIF_ALL, protocol=0,
                 no_header_reply=False, symlists=None, port=0, host="127.0.0.1"):
        self.policy = policy or (lambda stage, info: "continue")
        self.version = version
        self.actions = actions
        self.protocol = protocol
        self.no_header_reply = no_header_reply
        self.symlists = symlists
        self.lock = threading.Lock()
        self.events = []
        self.optneg = []
        self.connections = 0
        self.server = _Server((host, port), _Handler)
        self.server.milter = self
        self.port = self.server.server_address[1]
        self.spec = "inet:%s:%d" % (host, self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stages(self):
        with self.lock:
            return [s for s, _ in self.events]

    def find(self, stage):
        with self.lock:
            return [i for s, i in self.events if s == stage]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def subject_policy(stage, info):
    """The policy of the action tests: the Subject: of the message names
    the action taken at end of message; "rcpt-reject" in a recipient
    rejects it at RCPT."""
    if stage == "rcpt" and "rcpt-reject" in info["args"][0]:
        return "reject"
    if stage == "rcpt" and "rcpt-tempfail" in info["args"][0]:
        return "tempfail"
    if stage == "rcpt" and "rcpt-custom" in info["args"][0]:
        return ("replycode", "553 5.1.8 custom rcpt text")
    if stage == "mail" and "mail-reject" in info["args"][0]:
        return ("replycode", "550 5.7.1 sender refused by milter")
    if stage == "helo" and info["name"] == "helo-reject":
        return "reject"
    if stage != "eom":
        return "continue"
    subj = dict((n.lower(), v) for n, v in info["headers"]).get("subject", "").strip()
    table = {
        "reject": ["reject"],
        "tempfail": ["tempfail"],
        "discard": ["discard"],
        "quarantine": [("addheader", "X-Quarantined", "yes"),
                       ("quarantine", "held by test milter"), "continue"],
        "custom": [("replycode", "554 5.7.0 custom milter reply")],
        "custom4": [("replycode", "452 4.3.2 try later please")],
        "addheader": [("addheader", "X-Milter-Added", "added value"), "continue"],
        "insheader": [("insheader", 0, "X-Milter-First", "at the top"), "continue"],
        "chgheader": [("chgheader", 1, "Subject", "changed subject"), "continue"],
        "delheader": [("delheader", "X-Remove-Me"), "continue"],
        "replbody": [("replbody", b"replaced body line 1\r\nline 2\r\n"), "continue"],
        "chgfrom": [("chgfrom", "<new-sender@example.org>"), "continue"],
        "addrcpt": [("addrcpt", "<added@example.com>"), "continue"],
        "delrcpt": [("delrcpt", "<c@example.com>"), "continue"],
        "progress": [("progress",), ("addheader", "X-After-Progress", "1"), "accept"],
        "shutdown": ["shutdown"],
    }
    return table.get(subj, ["accept"])


STANDALONE = {"subject": subject_policy}


def main():
    port = int(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) > 2 else "subject"
    version = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    ml = Milter(STANDALONE[mode], version=version, port=port)
    print("milter on %s" % ml.spec, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        ml.stop()


if __name__ == "__main__":
    main()
