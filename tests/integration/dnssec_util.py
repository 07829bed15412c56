"""dnssec_util - DNSSEC made here: signed zones, nsd, a validating unbound,
certificates and TLS capture servers for the DANE / MTA-STS tests.

    world = DnssecWorld()
    world.zone("dane.test", "@ IN MX 10 mx\\nmx IN A 127.1.2.3\\n")            # signed
    world.zone("plain.test", "...", signed=False)                             # insecure
    world.zone("bogus.test", "...", bogus=True)    # signatures expired: bogus
    world.start()          # nsd on its loopback address, unbound on another
    world.resolv_conf      # "nameserver <unbound>" for our resolv_conf parameter
    world.stop()

Each zone is its own signed zone (ldns-keygen -k, ldns-signzone, NSEC),
served by one nsd; unbound is the validating resolver with one
trust-anchor line per signed zone (its DNSKEY) and a stub-zone per zone
pointing at nsd. A bogus zone is signed with signatures that expired in
2000, so unbound answers SERVFAIL for it. An unsigned zone has no trust
anchor: unbound answers without the AD bit (insecure).

Certificates (openssl command line): self_signed() for DANE-EE, a TestCA
for DANE-TA and MTA-STS (leaf certificates signed by it), tlsa_digest()
for the association data. TlsCapture is an aiosmtpd server with a given
certificate chain.
"""
import hashlib
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time

from aiosmtpd.controller import Controller

from mta import wait_for
import test_smtp as peers

NSD_CONF_HEAD = """server:
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
"""

UNBOUND_CONF_HEAD = """server:
  interface: {addr}
  port: 53
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "{dir}"
  pidfile: "{dir}/unbound.pid"
  use-syslog: no
  logfile: "{dir}/unbound.log"
  verbosity: 1
  val-log-level: 2
  qname-minimisation: no
  module-config: "validator iterator"
  access-control: 127.0.0.0/8 allow
  local-zone: "test." nodefault
  cache-max-ttl: 5
  cache-max-negative-ttl: 5
remote-control:
  control-enable: no
"""


def dns_answers(addr, name=b"\x02ns\x00"):
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(q, (addr, 53))
            return len(s.recv(512)) > 12
    except OSError:
        return False


class DnssecWorld:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dnssec-test-")
        os.chmod(self.dir, 0o755)
        self.nsd_addr = peers.loopback_addr()
        self.unbound_addr = peers.loopback_addr()
        while self.unbound_addr == self.nsd_addr:
            self.unbound_addr = peers.loopback_addr()
        self.zones = []			# (name, signed, bogus)
        self.anchors = []
        self.nsd = None
        self.unbound = None
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write("nameserver %s\n" % self.unbound_addr)
        os.chmod(self.resolv_conf, 0o644)

    def zone(self, name, records, signed=True, bogus=False):
        """Add a zone; records are zone file lines relative to name."""
        zdir = os.path.join(self.dir, name)
        os.makedirs(zdir)
        path = os.path.join(zdir, "zone.txt")
        with open(path, "w") as f:
            f.write("$ORIGIN %s.\n$TTL 60\n" % name)
            f.write("@ IN SOA ns.%s. root.%s. 1 3600 600 86400 60\n" % (name, name))
            f.write("@ IN NS ns\nns IN A %s\n" % self.nsd_addr)
            f.write(records)
        served = path
        if signed or bogus:
            base = subprocess.run(["ldns-keygen", "-k", "-a", "ECDSAP256SHA256", name],
                                  cwd=zdir, check=True, capture_output=True,
                                  text=True).stdout.strip()
            args = ["ldns-signzone", "-o", name, "-f", path + ".signed"]
            if bogus:
                args += ["-i", "20000101000000", "-e", "20000201000000"]
            subprocess.run(args + [path, base], cwd=zdir, check=True, capture_output=True)
            with open(os.path.join(zdir, base + ".key")) as f:
                key = f.read().split(";")[0].split()
            # "name. IN DNSKEY 257 3 13 base64"
            self.anchors.append("%s DNSKEY %s" % (key[0], " ".join(key[3:])))
            served = path + ".signed"
        self.zones.append((name, served))

    def start(self):
        with open(os.path.join(self.dir, "nsd.conf"), "w") as f:
            f.write(NSD_CONF_HEAD.format(addr=self.nsd_addr, dir=self.dir))
            for name, path in self.zones:
                f.write("zone:\n  name: %s\n  zonefile: \"%s\"\n" % (name, path))
        self.nsd = subprocess.Popen(["/usr/sbin/nsd", "-d", "-c",
                                     os.path.join(self.dir, "nsd.conf")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._alive(self.nsd, "nsd") and dns_answers(self.nsd_addr), 15,
                 what="nsd on %s" % self.nsd_addr)
        with open(os.path.join(self.dir, "unbound.conf"), "w") as f:
            f.write(UNBOUND_CONF_HEAD.format(addr=self.unbound_addr, dir=self.dir))
            for a in self.anchors:
                f.write("server:\n  trust-anchor: \"%s\"\n" % a)
            for name, _ in self.zones:
                f.write("stub-zone:\n  name: \"%s\"\n  stub-addr: %s@53\n" % (name, self.nsd_addr))
        self.unbound = subprocess.Popen(["/usr/sbin/unbound", "-d", "-c",
                                         os.path.join(self.dir, "unbound.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._alive(self.unbound, "unbound") and dns_answers(self.unbound_addr),
                 15, what="unbound on %s" % self.unbound_addr)

    def _alive(self, proc, name):
        if proc.poll() is not None:
            log = ""
            for f in ("nsd.log", "unbound.log"):
                try:
                    log += open(os.path.join(self.dir, f)).read()
                except OSError:
                    pass
            raise AssertionError("%s exited: %s" % (name, log[-3000:]))
        return True

    def stop(self):
        for p in (self.unbound, self.nsd):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- certificates ---------------------------------------------------------------

def _openssl(*args, cwd=None, input=None):
    return subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                          capture_output=True, input=input).stdout


def self_signed(directory, name):
    """A self-signed certificate for name (DANE-EE); returns (cert, key)."""
    cert = os.path.join(directory, name + ".ee.pem")
    key = os.path.join(directory, name + ".ee.key")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=%s" % name,
             "-addext", "subjectAltName=DNS:%s" % name)
    return cert, key


class TestCA:
    """A certificate authority made by the test; leaf() signs certificates."""

    def __init__(self, directory, name="Test CA"):
        self.dir = directory
        self.cert = os.path.join(directory, "ca.pem")
        self.key = os.path.join(directory, "ca.key")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "3",
                 "-subj", "/CN=%s" % name, "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        os.chmod(self.cert, 0o644)

    def leaf(self, *names):
        """A certificate for names signed by the CA; returns (chain, key):
        chain holds the leaf and the CA (DANE-TA needs the anchor sent)."""
        base = os.path.join(self.dir, names[0])
        key, csr, cert, chain = base + ".key", base + ".csr", base + ".crt", base + ".chain.pem"
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                    % ",".join("DNS:" + n for n in names))
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=%s" % names[0])
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                 "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
        with open(chain, "w") as out:
            out.write(open(cert).read() + open(self.cert).read())
        return chain, key


def tlsa_digest(cert_pem, selector, mtype):
    """TLSA association data (hex) of the first certificate in cert_pem."""
    der = _openssl("x509", "-in", cert_pem, "-outform", "DER")
    if selector == 1:
        pub = _openssl("x509", "-in", cert_pem, "-pubkey", "-noout")
        der = _openssl("pkey", "-pubin", "-outform", "DER", input=pub)
    if mtype == 0:
        return der.hex()
    return (hashlib.sha256 if mtype == 1 else hashlib.sha512)(der).hexdigest()


class TlsCapture(peers.Capture):
    """A capture server (test_smtp.Capture's handler) offering STARTTLS
    with the given certificate chain and key."""

    def __init__(self, addr, port, chain, key, name="tls"):
        self.handler = peers.CaptureHandler(name)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(chain, key)
        self.controller = Controller(self.handler, hostname=addr, port=port, tls_context=ctx)
        self.controller.start()


def wait_port(addr, port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if peers.peers_port_open(addr, port):
            return
        time.sleep(0.05)
    raise AssertionError("nothing listens on %s:%d" % (addr, port))


class PolicyServer:
    """An HTTPS server on addr:443 serving /.well-known/mta-sts.txt (text/plain)
    with the given certificate chain; counts the requests it answered."""

    def __init__(self, addr, chain, key, policy):
        import http.server
        import threading
        outer = self
        self.policy = policy
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/.well-known/mta-sts.txt":
                    self.send_error(404)
                    return
                outer.requests += 1
                body = outer.policy.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((addr, 443), Handler)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(chain, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
            self.httpd = None
