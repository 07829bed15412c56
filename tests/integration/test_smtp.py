"""test_smtp - the smtp delivery agent against real peers on loopback.

The agent runs stand-alone (smtp -S): the test writes a queue file and a
delivery request (lib/global/deliver_request.c's wire form) on its stdin, and
reads the per-recipient results from its stdout and the log lines from
its stderr. Peers: aiosmtpd capture servers (with STARTTLS and AUTH where
a test needs them) and nsd serving a test zone for MX lookups, pointed at
through our resolv_conf parameter.

The helpers at the top (Agent, Capture, Nsd, ...) are shared with the
other test_smtp*/test_lmtp* modules.
"""
import os
import random
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from mta import BUILD, free_port, wait_for

from aiosmtpd.controller import Controller, UnixSocketController
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, AuthResult

LIBEXEC = os.path.join(BUILD, "libexec")


# --- addresses ---------------------------------------------------------------

def loopback_addr():
    """A random 127.x.y.z address (not 127.0.0.1), so tests running at the
    same time and the backup-MX rule (our own addresses) stay apart."""
    while True:
        a = "127.%d.%d.%d" % (random.randint(60, 250), random.randint(0, 255),
                              random.randint(2, 254))
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((a, 53))
            return a
        except OSError:
            continue


def peers_port_open(addr, port):
    try:
        with socket.create_connection((addr, port), timeout=0.5):
            return True
    except OSError:
        return False


def closed_port(addr):
    """A port on addr where nothing listens (connect is refused)."""
    return free_port(addr)


# --- queue files and requests -------------------------------------------------

def record(rtype, data):
    return rtype.encode() + struct.pack(">I", len(data)) + data


def write_queue_file(path, sender, rcpts, message):
    """A message file as lib/global/queue_file.h describes; returns (offset, size)
    of the M record's data."""
    data = record("V", b"1") + record("T", b"%d 0" % int(time.time()))
    data += record("S", sender.encode())
    for r in rcpts:
        data += record("R", r.encode())
    offset = len(data) + 5
    data += record("M", message) + record("E", b"")
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    return offset, len(message)


def attrs(pairs):
    out = b""
    for k, v in pairs:
        out += k.encode() + b"\0" + str(v).encode() + b"\0"
    return out + b"\0"


def parse_attrs(data):
    parts = data.split(b"\0")
    pairs = []
    i = 0
    while i + 1 < len(parts) and parts[i] != b"":
        pairs.append((parts[i].decode(errors="replace"), parts[i + 1].decode(errors="replace")))
        i += 2
    return pairs


def message_bytes(subject="test", body_lines=None):
    lines = ["From: a@sender.test", "To: x@example.test", "Subject: %s" % subject, ""]
    lines += body_lines or ["hello", ".a line that starts with a dot", "bye"]
    return ("\r\n".join(lines) + "\r\n").encode()


class Agent:
    """A temp config + queue for running smtp -S / lmtp -S."""

    def __init__(self, main_cf=None):
        self.dir = tempfile.mkdtemp(prefix="smtp-agent-test-")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        os.makedirs(self.etc)
        os.makedirs(os.path.join(self.queue, "active"))
        os.chmod(self.queue, 0o755)
        os.chmod(os.path.join(self.queue, "active"), 0o755)
        self.params = {
            "queue_directory": self.queue,
            "myhostname": "mx.test.invalid",
            "inet_interfaces": "loopback-only",
            "smtp_connect_timeout": "5s",
            "lmtp_connect_timeout": "5s",
            "smtp_helo_timeout": "20s",
            "lmtp_lhlo_timeout": "20s",
        }
        self.params.update(main_cf or {})
        self.write_main()
        self.seq = 0

    def write_main(self):
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in self.params.items():
                f.write("%s = %s\n" % (k, v))

    def path(self, name):
        return os.path.join(self.etc, name)

    def write(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o644)
        return p

    def deliver(self, nexthop, rcpts, sender="a@sender.test", prog="smtp",
                message=None, flags=0, timeout=60, notify=None, remove_queue_file=False):
        """Run one delivery; returns (results, log) where results maps each
        recipient to a dict of its attributes (dsn_status, dsn_action,
        reason, relay, ...)."""
        self.seq += 1
        qid = "%X%05X" % (self.seq, random.randint(0, 0xFFFFF))
        qpath = os.path.join(self.queue, "active", qid)
        offset, size = write_queue_file(qpath, sender, rcpts, message or message_bytes())
        if remove_queue_file:
            os.unlink(qpath)
        pairs = [("flags", flags), ("queue_name", "active"), ("queue_id", qid),
                 ("data_offset", offset), ("data_size", size), ("nexthop", nexthop),
                 ("transport", prog), ("sender", sender), ("dsn_envid", ""),
                 ("dsn_ret", 0), ("client_name", "localhost"), ("client_address", "127.0.0.1"),
                 ("helo_name", "client.test"), ("sasl_username", ""),
                 ("arrival_time", "%.6f" % time.time()), ("active_time", "%.6f" % time.time()),
                 ("rcpt_count", len(rcpts))]
        for r in rcpts:
            pairs += [("recipient", r), ("original_recipient", ""), ("offset", 0),
                      ("dsn_notify", notify or 0), ("dsn_orig_rcpt", "")]
        env = dict(os.environ)
        env["MAIL_CONFIG"] = self.etc
        p = subprocess.run([os.path.join(LIBEXEC, prog), "-S", "-n", prog, "-t", "unix"],
                           input=attrs(pairs), capture_output=True, env=env, timeout=timeout)
        log = p.stderr.decode(errors="replace")
        results = {}
        cur = None
        for k, v in parse_attrs(p.stdout):
            if k == "rcpt_index":
                cur = {}
                results[rcpts[int(v)]] = cur
            elif cur is not None:
                cur[k] = v
        self.last_log = log
        return results, log

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# --- peers ----------------------------------------------------------------------

def make_cert(directory, cn="relay.test"):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=%s" % cn,
                    "-addext", "subjectAltName=DNS:%s" % cn],
                   check=True, capture_output=True)
    os.chmod(cert, 0o644)
    os.chmod(key, 0o644)
    return cert, key


class CaptureHandler:
    """Records each message with the session's TLS and AUTH state; refuses
    recipients whose local part starts with "bad" (550) or "later" (450)."""

    def __init__(self, name, tempfail=False, rcpt_limit=0):
        self.name = name
        self.tempfail = tempfail
        self.rcpt_limit = rcpt_limit
        self.messages = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.tempfail:
            return "451 4.3.0 <%s>: temporarily unavailable at %s" % (address, self.name)
        if address.startswith("bad"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if address.startswith("later"):
            return "450 4.2.0 <%s>: try again later" % address
        if self.rcpt_limit and len(envelope.rcpt_tos) >= self.rcpt_limit:
            return "452 4.5.3 Error: too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append({
                "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                "data": envelope.original_content or envelope.content,
                "tls": session.ssl is not None,
                "auth": getattr(session, "test_login", None),
                "peer": session.peer[0] if session.peer else None,
                "esmtp": session.extended_smtp,
            })
        return "250 2.0.0 Ok: captured by %s" % self.name

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"


class Capture:
    """An aiosmtpd server on (addr, port); tls=True offers STARTTLS,
    users={login: password} requires AUTH."""

    def __init__(self, addr, port, name="capture", tls=False, users=None, certdir=None,
                 implicit_tls=False, max_tls=None, tempfail=False, rcpt_limit=0):
        self.handler = CaptureHandler(name, tempfail, rcpt_limit)
        kw = {}
        if tls or implicit_tls:
            cert, key = make_cert(certdir)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            if max_tls:
                ctx.maximum_version = max_tls
            kw["ssl_context" if implicit_tls else "tls_context"] = ctx
        if users is not None:
            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = users.get(auth_data.login.decode()) == auth_data.password.decode()
                if ok:
                    session.test_login = auth_data.login.decode()
                return AuthResult(success=ok, handled=False)
            kw["authenticator"] = authenticator
            kw["auth_require_tls"] = False
            kw["auth_required"] = True
        self.controller = Controller(self.handler, hostname=addr, port=port, **kw)
        self.controller.start()

    @property
    def messages(self):
        return self.handler.messages

    def stop(self):
        self.controller.stop()


class LmtpHandler:
    """Per-recipient LMTP replies: "full..." gets 552, others 250."""

    def __init__(self):
        self.delivered = []

    async def handle_DATA(self, server, session, envelope):
        out = []
        for r in envelope.rcpt_tos:
            if r.startswith("full"):
                out.append("552 5.2.2 <%s> Mailbox is full" % r)
            else:
                out.append("250 2.0.0 <%s> Saved" % r)
                self.delivered.append((r, envelope.content))
        return "\r\n".join(out)


class _LmtpInet(Controller):
    def factory(self):
        return LMTP(self.handler)


class _LmtpUnix(UnixSocketController):
    def factory(self):
        return LMTP(self.handler)


class LmtpServer:
    def __init__(self, addr=None, port=None, path=None):
        self.handler = LmtpHandler()
        if path:
            self.controller = _LmtpUnix(self.handler, unix_socket=path)
        else:
            self.controller = _LmtpInet(self.handler, hostname=addr, port=port)
        self.controller.start()
        if path:
            os.chmod(path, 0o666)

    def stop(self):
        self.controller.stop()


class RawServer:
    """A TCP server that sends a fixed greeting (or nothing) to each client
    and then waits until the client goes away."""

    def __init__(self, addr, port, greeting=None):
        self.sock = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(5)
        self.greeting = greeting
        self.connections = 0
        self.stopped = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(10)
                try:
                    if self.greeting:
                        conn.sendall(self.greeting.encode() + b"\r\n")
                    while conn.recv(1000):
                        pass
                except OSError:
                    pass

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


NSD_CONF = """server:
  ip-address: {addr}
  port: 53
  zonesdir: "{dir}"
  pidfile: "{dir}/nsd.pid"
  zonelistfile: "{dir}/zone.list"
  xfrdfile: "{dir}/xfrd.state"
  xfrdir: "{dir}"
  database: ""
  username: ""
  chroot: ""
  server-count: 1
  verbosity: 1
  logfile: "{dir}/nsd.log"
remote-control:
  control-enable: no
zone:
  name: {zone}
  zonefile: "zone.txt"
"""


class Nsd:
    """nsd serving one zone on port 53 of its own loopback address."""

    def __init__(self, zone, records):
        self.dir = tempfile.mkdtemp(prefix="smtp-nsd-test-")
        self.addr = loopback_addr()
        with open(os.path.join(self.dir, "zone.txt"), "w") as f:
            f.write("$ORIGIN %s.\n$TTL 60\n" % zone)
            f.write("@ IN SOA ns.%s. root.%s. 1 3600 600 86400 60\n" % (zone, zone))
            f.write("@ IN NS ns\nns IN A %s\n" % self.addr)
            f.write(records)
        with open(os.path.join(self.dir, "nsd.conf"), "w") as f:
            f.write(NSD_CONF.format(addr=self.addr, dir=self.dir, zone=zone))
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write("nameserver %s\n" % self.addr)
        os.chmod(self.dir, 0o755)
        os.chmod(self.resolv_conf, 0o644)
        self.proc = subprocess.Popen(["/usr/sbin/nsd", "-d", "-c", os.path.join(self.dir, "nsd.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, 15, what="nsd to answer on %s" % self.addr)

    def answers(self):
        if self.proc.poll() is not None:
            raise AssertionError("nsd exited: %s" % open(os.path.join(self.dir, "nsd.log")).read())
        q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x02ns\x00\x00\x01\x00\x01"
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.3)
                s.sendto(q, (self.addr, 53))
                return len(s.recv(512)) > 12
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def common_port(*addrs):
    """One port that is free on every address (MX hosts share the port)."""
    for _ in range(50):
        port = free_port(addrs[0])
        ok = True
        for a in addrs[1:]:
            try:
                with socket.socket() as s:
                    s.bind((a, port))
            except OSError:
                ok = False
        if ok:
            return port
    raise AssertionError("no common free port")


# --- tests ------------------------------------------------------------------------

class MxResolution(unittest.TestCase):
    """MX lookups through nsd: order, fallback, A records, backup MX rule."""

    @classmethod
    def setUpClass(cls):
        cls.mx1 = loopback_addr()
        cls.mx2 = loopback_addr()
        cls.mx3 = loopback_addr()
        cls.port = common_port(cls.mx1, cls.mx2, cls.mx3)
        cls.nsd = Nsd("example.test", """\
@ IN MX 10 mx1
@ IN MX 20 mx2
mx1 IN A {mx1}
mx2 IN A {mx2}
mx3 IN A {mx3}
second IN MX 10 mx1
second IN MX 20 mx3
backup IN MX 10 nosuchhost
backup IN MX 20 mx2
plain IN A {mx3}
v6only IN AAAA ::1
self IN MX 10 mx3
hostsmx IN MX 10 localhost.
noaddr IN MX 10 nowhere
equal IN MX 10 mx1
equal IN MX 10 mx2
""".format(mx1=cls.mx1, mx2=cls.mx2, mx3=cls.mx3))
        cls.tmp = tempfile.mkdtemp(prefix="smtp-mx-test-")

    @classmethod
    def tearDownClass(cls):
        cls.nsd.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.servers = []
        self.agent = Agent({"resolv_conf": self.nsd.resolv_conf,
                            "smtp_tcp_port": str(self.port)})

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.agent.cleanup()

    def capture(self, addr, name, **kw):
        c = Capture(addr, self.port, name=name, **kw)
        self.servers.append(c)
        return c

    def test_preference_order(self):
        c1 = self.capture(self.mx1, "mx1")
        c2 = self.capture(self.mx2, "mx2")
        for i in range(3):
            res, log = self.agent.deliver("example.test", ["x%d@example.test" % i])
            r = res["x%d@example.test" % i]
            self.assertEqual(r["dsn_action"], "d", log)
            self.assertEqual(r["relay"], "mx1.example.test[%s]:%d" % (self.mx1, self.port))
        self.assertEqual(len(c1.messages), 3)
        self.assertEqual(len(c2.messages), 0)
        self.assertIn("relay=mx1.example.test[%s]:%d" % (self.mx1, self.port), log)
        self.assertIn("status=sent (250 2.0.0 Ok: captured by mx1)", log)

    def test_second_mx_when_first_refuses(self):
        c2 = self.capture(self.mx2, "mx2")
        res, log = self.agent.deliver("example.test", ["y@example.test"])
        self.assertEqual(res["y@example.test"]["dsn_action"], "d", log)
        self.assertEqual(res["y@example.test"]["relay"],
                         "mx2.example.test[%s]:%d" % (self.mx2, self.port))
        self.assertEqual([m["to"] for m in c2.messages], [["y@example.test"]])

    def test_host_lookup_native(self):
        """smtp_host_lookup: the MX host "localhost." is not in this DNS
        (nsd refuses the query: a temporary error, after which "dns,
        native" does not ask further, as Postfix), but the system's
        resolver (/etc/hosts) knows it."""
        port = free_port("127.0.0.1")
        c = Capture("127.0.0.1", port, name="hosts")
        self.servers.append(c)
        for lookup, found in (("dns", False), ("native", True), ("dns, native", False),
                              ("native, dns", True)):
            # inet_interfaces: not 127.0.0.1, which would be ourself.
            agent = Agent({"resolv_conf": self.nsd.resolv_conf, "smtp_tcp_port": str(port),
                           "smtp_host_lookup": lookup, "inet_interfaces": self.mx3})
            try:
                res, log = agent.deliver("hostsmx.example.test", ["h@hostsmx.example.test"])
            finally:
                agent.cleanup()
            r = res["h@hostsmx.example.test"]
            if found:
                self.assertEqual(r["dsn_action"], "d", log)
                self.assertEqual(r["relay"], "localhost[127.0.0.1]:%d" % port)
            else:
                self.assertNotEqual(r["dsn_action"], "d", log)
        self.assertEqual(len(c.messages), 2)

    def test_no_mx_address_bounces_or_defers(self):
        """Postfix 3.7: "warning: no MX host for X has a valid address
        record", the lookup's reason with 5.4.4, or 4.4.4 with
        smtp_defer_if_no_mx_address_found = yes."""
        res, log = self.agent.deliver("noaddr.example.test", ["n@noaddr.example.test"])
        r = res["n@noaddr.example.test"]
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("f", "5.4.4"), log)
        self.assertIn("warning: no MX host for noaddr.example.test has a valid address record",
                      log)
        self.assertIn("Host or domain name not found", r["reason"])
        agent = Agent({"resolv_conf": self.nsd.resolv_conf, "smtp_tcp_port": str(self.port),
                       "smtp_defer_if_no_mx_address_found": "yes"})
        try:
            res, log = agent.deliver("noaddr.example.test", ["n@noaddr.example.test"])
        finally:
            agent.cleanup()
        r = res["n@noaddr.example.test"]
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.4.4"), log)

    def test_randomize_addresses(self):
        """Equal-preference MX hosts: random order by default; in the DNS
        answer's order (nsd keeps the zone's) with
        smtp_randomize_addresses = no."""
        c1 = self.capture(self.mx1, "mx1")
        c2 = self.capture(self.mx2, "mx2")
        agent = Agent({"resolv_conf": self.nsd.resolv_conf, "smtp_tcp_port": str(self.port),
                       "smtp_randomize_addresses": "no"})
        try:
            for i in range(6):
                res, log = agent.deliver("equal.example.test", ["o%d@equal.example.test" % i])
                self.assertEqual(res["o%d@equal.example.test" % i]["dsn_action"], "d", log)
        finally:
            agent.cleanup()
        self.assertEqual((len(c1.messages), len(c2.messages)), (6, 0))
        for i in range(20):
            res, log = self.agent.deliver("equal.example.test", ["r%d@equal.example.test" % i])
            self.assertEqual(res["r%d@equal.example.test" % i]["dsn_action"], "d", log)
        # 20 random choices all the same way: 2 in a million.
        self.assertGreater(len(c2.messages), 0)
        self.assertGreater(len(c1.messages), 6)

    def test_a_record_without_mx(self):
        c3 = self.capture(self.mx3, "plain")
        res, log = self.agent.deliver("plain.example.test", ["z@plain.example.test"])
        self.assertEqual(res["z@plain.example.test"]["dsn_action"], "d", log)
        self.assertEqual(res["z@plain.example.test"]["relay"],
                         "plain.example.test[%s]:%d" % (self.mx3, self.port))
        self.assertEqual(len(c3.messages), 1)

    def test_aaaa_record_without_mx(self):
        port = free_port("::1")
        c6 = Capture("::1", port, name="v6")
        self.servers.append(c6)
        res, log = self.agent.deliver("v6only.example.test:%d" % port, ["v@v6only.example.test"])
        self.assertEqual(res["v@v6only.example.test"]["dsn_action"], "d", log)
        self.assertEqual(res["v@v6only.example.test"]["relay"],
                         "v6only.example.test[::1]:%d" % port)
        self.assertEqual(len(c6.messages), 1)

    def test_bracketed_host_skips_mx(self):
        c3 = self.capture(self.mx3, "mx3")
        res, log = self.agent.deliver("[mx3.example.test]", ["w@example.test"])
        self.assertEqual(res["w@example.test"]["dsn_action"], "d", log)
        self.assertEqual(len(c3.messages), 1)

    def test_backup_mx_tries_only_the_primary(self):
        # This host is MX 20 (mx2's address is one we listen on).
        self.agent.params["inet_interfaces"] = self.mx2
        self.agent.write_main()
        c2 = self.capture(self.mx2, "self")
        # Primary down: deferred, never delivered to ourselves.
        res, log = self.agent.deliver("example.test", ["p@example.test"])
        r = res["p@example.test"]
        self.assertEqual(r["dsn_action"], "x", log)
        self.assertEqual(r["reason"], "connect to mx1.example.test[%s]:%d: Connection refused"
                         % (self.mx1, self.port))
        self.assertIn("status=deferred", log)
        self.assertEqual(c2.messages, [])
        # Primary up: delivered there, exactly once.
        c1 = self.capture(self.mx1, "primary")
        res, log = self.agent.deliver("example.test", ["p@example.test"])
        self.assertEqual(res["p@example.test"]["dsn_action"], "d", log)
        self.assertEqual(len(c1.messages), 1)
        self.assertEqual(c2.messages, [])

    def test_backup_mx_without_reachable_primary(self):
        # We are MX 20; the only better MX has no address.
        self.agent.params["inet_interfaces"] = self.mx2
        self.agent.write_main()
        res, log = self.agent.deliver("backup.example.test", ["u@backup.example.test"])
        r = res["u@backup.example.test"]
        self.assertEqual((r["dsn_status"], r["dsn_action"]), ("4.4.4", "x"), log)
        self.assertEqual(r["reason"], "unable to find primary relay for backup.example.test")

    def test_next_mx_after_4xx_greeting(self):
        busy = RawServer(self.mx1, self.port, "421 4.3.2 Service not available")
        self.servers.append(busy)
        c2 = self.capture(self.mx2, "mx2")
        res, log = self.agent.deliver("example.test", ["g@example.test"])
        self.assertEqual(res["g@example.test"]["dsn_action"], "d", log)
        self.assertEqual(busy.connections, 1)
        self.assertEqual(len(c2.messages), 1)

    def test_fallback_relay_when_mx_hosts_are_down(self):
        self.agent.params["smtp_fallback_relay"] = "[mx3.example.test]"
        self.agent.write_main()
        c3 = self.capture(self.mx3, "fallback")
        res, log = self.agent.deliver("example.test", ["f@example.test"])
        self.assertEqual(res["f@example.test"]["dsn_action"], "d", log)
        self.assertEqual(res["f@example.test"]["relay"],
                         "mx3.example.test[%s]:%d" % (self.mx3, self.port))
        self.assertEqual(len(c3.messages), 1)

    def test_no_fallback_relay_for_a_backup_mx(self):
        self.agent.params.update({"smtp_fallback_relay": "[mx3.example.test]",
                                  "inet_interfaces": self.mx2})
        self.agent.write_main()
        c3 = self.capture(self.mx3, "fallback")
        res, log = self.agent.deliver("example.test", ["f@example.test"])
        self.assertEqual(res["f@example.test"]["dsn_action"], "x", log)
        self.assertIn("connect to mx1.example.test", res["f@example.test"]["reason"])
        self.assertEqual(c3.messages, [])

    def test_backup_mx_by_hostname(self):
        self.agent.params["myhostname"] = "mx2.example.test"
        self.agent.write_main()
        c2 = self.capture(self.mx2, "self")
        res, log = self.agent.deliver("example.test", ["q@example.test"])
        self.assertEqual(res["q@example.test"]["dsn_action"], "x", log)
        self.assertEqual(c2.messages, [])

    def test_best_mx_is_myself(self):
        # We are the most preferred MX: the mail would loop.
        self.agent.params["inet_interfaces"] = self.mx3
        self.agent.write_main()
        res, log = self.agent.deliver("self.example.test", ["s@example.test"])
        r = res["s@example.test"]
        self.assertEqual(r["dsn_status"], "5.4.6", log)
        self.assertEqual(r["reason"], "mail for self.example.test loops back to myself")

    def test_dns_server_failure_defers(self):
        # nsd refuses names outside its zone: a temporary error for us.
        res, log = self.agent.deliver("elsewhere.invalid", ["e@elsewhere.invalid"])
        r = res["e@elsewhere.invalid"]
        self.assertEqual((r["dsn_status"], r["dsn_action"]), ("4.4.3", "x"), log)
        self.assertEqual(r["reason"], "Host or domain name not found. Name service error "
                         "for name=elsewhere.invalid type=MX: Host not found, try again")

    def test_soft_recipient_error_tries_next_mx(self):
        c1 = self.capture(self.mx1, "mx1", tempfail=True)
        c2 = self.capture(self.mx2, "mx2")
        res, log = self.agent.deliver("example.test", ["s1@example.test", "s2@example.test"])
        self.assertEqual(res["s1@example.test"]["dsn_action"], "d", log)
        self.assertEqual(res["s2@example.test"]["relay"],
                         "mx2.example.test[%s]:%d" % (self.mx2, self.port))
        self.assertEqual(c1.messages, [])
        self.assertEqual(len(c2.messages), 1)

    def test_mx_session_limit(self):
        self.agent.params["smtp_mx_session_limit"] = "1"
        self.agent.write_main()
        self.capture(self.mx1, "mx1", tempfail=True)
        c2 = self.capture(self.mx2, "mx2")
        res, log = self.agent.deliver("example.test", ["s1@example.test"])
        r = res["s1@example.test"]
        self.assertEqual((r["dsn_action"], r["dsn_status"]), ("x", "4.3.0"), log)
        self.assertEqual(r["reason"], "host mx1.example.test[%s] said: 451 4.3.0 "
                         "<s1@example.test>: temporarily unavailable at mx1 "
                         "(in reply to RCPT TO command)" % self.mx1)
        self.assertEqual(c2.messages, [])

    def test_mx_address_limit(self):
        self.agent.params["smtp_mx_address_limit"] = "1"
        self.agent.write_main()
        c2 = self.capture(self.mx2, "mx2")
        res, log = self.agent.deliver("example.test", ["l@example.test"])
        self.assertEqual(res["l@example.test"]["dsn_action"], "x", log)
        self.assertIn("connect to mx1.example.test", res["l@example.test"]["reason"])
        self.assertEqual(c2.messages, [])

    def test_unknown_domain_bounces(self):
        res, log = self.agent.deliver("nosuch.example.test", ["n@nosuch.example.test"])
        r = res["n@nosuch.example.test"]
        self.assertEqual((r["dsn_status"], r["dsn_action"]), ("5.4.4", "f"), log)
        self.assertEqual(r["reason"], "Host or domain name not found. Name service error "
                         "for name=nosuch.example.test type=MX: Host not found")
        self.assertIn("relay=none", log)


class Transaction(unittest.TestCase):
    """Per-recipient results, pipelining, dot-stuffing, address probes."""

    def setUp(self):
        self.addr = loopback_addr()
        self.port = free_port(self.addr)
        self.cap = Capture(self.addr, self.port, name="t")
        self.agent = Agent()
        self.nexthop = "[%s]:%d" % (self.addr, self.port)

    def tearDown(self):
        self.cap.stop()
        self.agent.cleanup()

    def test_ehlo_or_helo(self):
        """smtp_always_send_ehlo = no: EHLO only when the greeting says
        ESMTP (aiosmtpd's does not); smtp_never_send_ehlo: always HELO."""
        for params, esmtp in (({}, True), ({"smtp_always_send_ehlo": "no"}, False),
                              ({"smtp_never_send_ehlo": "yes"}, False)):
            agent = Agent(params)
            try:
                res, log = agent.deliver(self.nexthop, ["good@x.test"])
            finally:
                agent.cleanup()
            self.assertEqual(res["good@x.test"]["dsn_action"], "d", log)
            self.assertEqual(self.cap.messages[-1]["esmtp"], esmtp, params)

    def test_per_recipient_results(self):
        res, log = self.agent.deliver(self.nexthop, ["good@x.test", "bad@x.test", "later@x.test"])
        self.assertEqual(res["good@x.test"]["dsn_action"], "d", log)
        self.assertEqual(res["good@x.test"]["relay"], "%s[%s]:%d" % (self.addr, self.addr, self.port))
        self.assertEqual(res["bad@x.test"]["dsn_action"], "f")
        self.assertEqual(res["bad@x.test"]["dsn_status"], "5.1.1")
        self.assertEqual(res["bad@x.test"]["reason"],
                         "host %s[%s] said: 550 5.1.1 <bad@x.test>: Recipient address rejected:"
                         " User unknown (in reply to RCPT TO command)" % (self.addr, self.addr))
        self.assertEqual(res["later@x.test"]["dsn_action"], "x")
        self.assertEqual(res["later@x.test"]["dsn_status"], "4.2.0")
        self.assertEqual([m["to"] for m in self.cap.messages], [["good@x.test"]])

    def test_dot_stuffing_and_size(self):
        body = [".", "..two", ".x", "end"]
        msg = message_bytes("dots", body)
        res, log = self.agent.deliver(self.nexthop, ["d@x.test"], message=msg)
        self.assertEqual(res["d@x.test"]["dsn_action"], "d", log)
        self.assertEqual(self.cap.messages[0]["data"], msg)

    def test_dot_stuffing_in_a_large_body(self):
        # Lines that need nothing go out in runs; dots start lines all
        # through a body of several read chunks (64 KB), at their edges too.
        body = []
        for i in range(5000):
            body.append(("." if i % 7 == 0 else "") + "line %d " % i + "z" * (i % 61))
        msg = message_bytes("many", body)
        self.assertGreater(len(msg), 3 * 64 * 1024)
        res, log = self.agent.deliver(self.nexthop, ["d@x.test"], message=msg)
        self.assertEqual(res["d@x.test"]["dsn_action"], "d", log)
        self.assertEqual(self.cap.messages[0]["data"], msg)

    def test_long_lines_are_broken(self):
        long_line = "x" * 2500
        msg = message_bytes("long", [long_line, "." + "y" * 1200, "short"])
        res, log = self.agent.deliver(self.nexthop, ["l@x.test"], message=msg)
        self.assertEqual(res["l@x.test"]["dsn_action"], "d", log)
        got = self.cap.messages[0]["data"]
        lines = got.split(b"\r\n")
        self.assertTrue(all(len(line) <= 998 for line in lines), [len(x) for x in lines])
        # The pieces, without the inserted CRLF SPACE, are the original line.
        self.assertIn(long_line.encode(), got.replace(b"\r\n ", b""))
        self.assertIn(b"\r\n." + b"y" * 996 + b"\r\n " + b"y" * 204 + b"\r\nshort\r\n", got)

    def test_verify_probe_sends_no_data(self):
        res, log = self.agent.deliver(self.nexthop, ["good@x.test", "bad@x.test"], flags=1)
        self.assertEqual(res["good@x.test"]["dsn_action"], "d", log)
        self.assertEqual(res["bad@x.test"]["dsn_action"], "f")
        self.assertEqual(self.cap.messages, [])

    def test_greeting_timeout(self):
        port = free_port(self.addr)
        silent = RawServer(self.addr, port)
        try:
            self.agent.params["smtp_helo_timeout"] = "1s"
            self.agent.write_main()
            res, log = self.agent.deliver("[%s]:%d" % (self.addr, port), ["t@x.test"])
        finally:
            silent.stop()
        r = res["t@x.test"]
        self.assertEqual((r["dsn_status"], r["dsn_action"]), ("4.4.2", "x"), log)
        self.assertEqual(r["reason"], "conversation with %s[%s] timed out while receiving "
                         "the initial server greeting" % (self.addr, self.addr))

    def test_ipv6_literal(self):
        try:
            port = free_port("::1")
        except OSError:
            self.fail("no IPv6 loopback")
        cap6 = Capture("::1", port, name="v6")
        try:
            res, log = self.agent.deliver("[ipv6:::1]:%d" % port, ["v6@x.test"])
        finally:
            cap6.stop()
        self.assertEqual(res["v6@x.test"]["dsn_action"], "d", log)
        self.assertEqual(res["v6@x.test"]["relay"], "::1[::1]:%d" % port)
        self.assertEqual(len(cap6.messages), 1)

    def test_pipelining_with_smtp_sink(self):
        # Debian Postfix's smtp-sink offers PIPELINING: everything up to
        # DATA goes in one write.
        port = free_port(self.addr)
        sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", "-v", "-c",
                                 "%s:%d" % (self.addr, port), "10"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: peers_port_open(self.addr, port), 10, what="smtp-sink")
            res, log = self.agent.deliver("[%s]:%d" % (self.addr, port),
                                          ["a1@x.test", "a2@x.test"])
        finally:
            sink.terminate()
            out = sink.communicate(timeout=10)[0].decode(errors="replace")
        self.assertEqual(res["a1@x.test"]["dsn_action"], "d", log)
        self.assertEqual(res["a2@x.test"]["dsn_action"], "d", log)
        self.assertIn("RCPT TO:<a2@x.test>", out)

    def test_server_recipient_limit(self):
        port = free_port(self.addr)
        small = Capture(self.addr, port, name="small", rcpt_limit=2)
        try:
            rcpts = ["r%d@x.test" % i for i in range(5)]
            res, log = self.agent.deliver("[%s]:%d" % (self.addr, port), rcpts)
        finally:
            small.stop()
        self.assertEqual([res[r]["dsn_action"] for r in rcpts], ["d"] * 5, log)
        self.assertEqual([m["to"] for m in small.messages],
                         [rcpts[0:2], rcpts[2:4], rcpts[4:5]])

    def test_bind_address(self):
        source = loopback_addr()
        self.agent.params["smtp_bind_address"] = source
        self.agent.write_main()
        res, log = self.agent.deliver(self.nexthop, ["b@x.test"])
        self.assertEqual(res["b@x.test"]["dsn_action"], "d", log)
        self.assertEqual(self.cap.messages[0]["peer"], source)

    def test_missing_queue_file_defers_without_connecting(self):
        res, log = self.agent.deliver(self.nexthop, ["m@x.test"], remove_queue_file=True)
        r = res["m@x.test"]
        self.assertEqual((r["dsn_status"], r["dsn_action"]), ("4.3.0", "x"), log)
        self.assertIn("No such file or directory", r["reason"])
        self.assertEqual(self.cap.messages, [])

    def test_connection_refused(self):
        port = closed_port(self.addr)
        res, log = self.agent.deliver("[%s]:%d" % (self.addr, port), ["r@x.test"])
        r = res["r@x.test"]
        self.assertEqual((r["dsn_status"], r["dsn_action"], r["relay"]), ("4.4.1", "x", "none"))
        self.assertEqual(r["reason"], "connect to %s[%s]:%d: Connection refused"
                         % (self.addr, self.addr, port))


if __name__ == "__main__":
    unittest.main()
