#!/usr/bin/python3
"""bench_dane.py - end-to-end relay rate with smtp_tls_security_level = dane.

smtp-source -> MTA (smtpd, queue, qmgr, smtp with DANE) -> a DANE-enabled
capture server (aiosmtpd with STARTTLS and a self-signed certificate
published as a DANE-EE 3 1 1 TLSA record), all on loopback, for ours and
for a throw-away Debian Postfix 3.7 instance in the same run. DNSSEC is
made here (tests/integration/dnssec_util: nsd, ldns-signzone, unbound);
Postfix reads /etc/resolv.conf, so it runs in a mount namespace where
that file is the test's (unshare -m). Every delivery does the MX, A and
TLSA lookups (through unbound's cache) and a verified handshake; the
script checks that each instance logged "Verified TLS connection" for
its deliveries.

The Verified counts differ by design: our smtp reuses a verified TLS
session for the next delivery to the same nexthop
(smtp_connection_cache_on_demand), Postfix 3.7 does not reuse TLS
connections without smtp_tls_connection_reuse and tlsproxy, so it makes
one handshake (and TLSA check) per delivery.

Prints the delivery rate (messages per second from the first connection
to the last "status=sent" line) of each and the ratio ours/Postfix.

Usage: bench_dane.py --build DIR [--count N] [--sessions N]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
sys.path.insert(0, HERE)

from bench_relay import free_port, port_open, wait  # noqa: E402

DOMAIN = "dane-bench.test"


class Postfix:
    name = "postfix"

    def __init__(self, world, sink_port):
        self.dir = tempfile.mkdtemp(prefix="bench_dane_pf.")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        for d in (self.etc, self.spool, self.data):
            os.makedirs(d)
        shutil.chown(self.data, "postfix")
        self.port = free_port()
        self.logfile = os.path.join(self.dir, "maillog")
        params = {
            "compatibility_level": "3.7", "queue_directory": self.spool,
            "data_directory": self.data, "daemon_directory": "/usr/lib/postfix/sbin",
            "command_directory": "/usr/sbin", "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix", "mail_owner": "postfix",
            "setgid_group": "postdrop", "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4", "myhostname": "bench.test", "mydestination": "",
            "mynetworks": "127.0.0.0/8", "relay_domains": DOMAIN,
            "alias_maps": "", "alias_database": "", "maillog_file": self.logfile,
            "maillog_file_prefixes": "/tmp", "smtpd_relay_restrictions":
            "permit_mynetworks, reject", "smtp_tcp_port": str(sink_port),
            "smtp_dns_support_level": "dnssec", "smtp_tls_security_level": "dane",
            "smtp_tls_loglevel": "1", "smtpd_tls_security_level": "none",
        }
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in params.items()))
        out = []
        with open("/etc/postfix/master.cf") as f:
            for line in f:
                fields = line.split()
                if line.startswith("#") or line[:1].isspace() or len(fields) < 8:
                    out.append(line)
                    continue
                fields[4] = "n"
                if fields[0] == "smtp" and fields[1] == "inet":
                    fields[0] = "127.0.0.1:%d" % self.port
                out.append(" ".join(fields) + "\n")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.writelines(out)
        # Postfix's resolver reads /etc/resolv.conf: give it the test's.
        subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind %s /etc/resolv.conf && "
                        "postfix -c %s start" % (world.resolv_conf, self.etc)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait(lambda: port_open(self.port), 30, "Postfix's smtpd")

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


class Ours:
    name = "ours"

    def __init__(self, world, sink_port, build):
        os.environ["MTA_BUILD"] = build
        from mta import MTA
        self.mta = MTA(main_cf={
            "relay_domains": DOMAIN, "resolv_conf": world.resolv_conf,
            "smtp_tcp_port": str(sink_port), "smtp_dns_support_level": "dnssec",
            "smtp_tls_security_level": "dane", "smtp_tls_loglevel": "1",
            "inet_protocols": "ipv4"})
        self.port = self.mta.smtp_port
        self.logfile = self.mta.logfile

    def stop(self):
        self.mta.cleanup()


def count(logfile, pattern):
    try:
        with open(logfile, errors="replace") as f:
            return len(re.findall(pattern, f.read()))
    except OSError:
        return 0


def run_one(inst, sessions, count_msgs):
    before = count(inst.logfile, r"status=sent")
    start = time.time()
    src = subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(count_msgs),
                          "-l", "2048", "-f", "sender@bench.test", "-t", "user@" + DOMAIN,
                          "127.0.0.1:%d" % inst.port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.time() + 180
    done = 0
    while time.time() < end:
        done = count(inst.logfile, r"status=sent") - before
        if done >= count_msgs:
            break
        time.sleep(0.05)
    elapsed = time.time() - start
    if src.returncode != 0:
        print("  %s: smtp-source: %s" % (inst.name, src.stderr.decode().strip()[:200]))
    return done / elapsed, count_msgs - done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--sessions", type=int, default=10)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for prog in ("smtp-source", "postfix", "nsd", "unbound", "ldns-signzone", "unshare"):
        if shutil.which(prog) is None and not os.path.exists("/usr/sbin/" + prog):
            raise SystemExit("no %s: run make deps" % prog)
    from dnssec_util import DnssecWorld, TlsCapture, self_signed, tlsa_digest
    import test_smtp as peers

    tmp = tempfile.mkdtemp(prefix="bench_dane.")
    os.chmod(tmp, 0o755)
    world = DnssecWorld()
    sink = None
    instances = []
    try:
        addr = peers.loopback_addr()
        sink_port = free_port()
        chain, key = self_signed(tmp, "mx." + DOMAIN)
        sink = TlsCapture(addr, sink_port, chain, key, name="dane-sink")
        world.zone(DOMAIN, "@ IN MX 10 mx\nmx IN A %s\n_%d._tcp.mx IN TLSA 3 1 1 %s\n"
                   % (addr, sink_port, tlsa_digest(chain, 1, 1)))
        world.start()
        instances = [Postfix(world, sink_port), Ours(world, sink_port, build)]
        for inst in instances:
            run_one(inst, 2, 10)		# warm up
        res = {}
        for inst in instances:
            res[inst.name] = run_one(inst, args.sessions, args.count)
            time.sleep(1)
        verified = {i.name: count(i.logfile, r"Verified TLS connection established") for i in instances}
        (r_pf, l_pf), (r_us, l_us) = res["postfix"], res["ours"]
        print("dane %d sessions 2 KB x%d: rate ours %.0f/s postfix %.0f/s ratio %.2f; "
              "lost ours %d postfix %d; Verified TLS sessions ours %d postfix %d"
              % (args.sessions, args.count, r_us, r_pf, r_us / r_pf if r_pf else 0,
                 l_us, l_pf, verified["ours"], verified["postfix"]), flush=True)
        if verified["ours"] == 0 or l_us:
            return 1
        return 0
    finally:
        for inst in instances:
            inst.stop()
        if sink:
            sink.stop()
        world.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
