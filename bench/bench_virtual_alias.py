#!/usr/bin/python3
"""bench_virtual_alias.py - accept rate with a big virtual_alias_maps.

smtp-source sends --messages messages (5 recipients each) to our smtpd,
once to addresses of a relay domain (no aliases) and once to addresses
of a virtual alias domain whose hash: table has --entries entries (the
targets are in the relay domain). Deliveries go to smtp-sink. The same
two runs are made on Debian's Postfix in a temporary instance. Prints
messages per second and the ratio aliases / no aliases for each
(target for ours: >= 0.95), best of --runs runs; each run starts when
both instances have delivered what they accepted before.

Usage: bench_virtual_alias.py --build DIR [--entries N] [--messages N] [--runs N]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
sys.path.insert(0, HERE)
import bench_relay  # noqa: E402

SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
POSTFIX = "/usr/sbin/postfix"
POSTFIX_POSTMAP = "/usr/sbin/postmap"


def write_tables(folder, entries, sink_port):
    virtual = os.path.join(folder, "virtual")
    with open(virtual, "w") as f:
        f.write("alias.example anything\n")
        f.write("user@alias.example user@relay.example\n")
        for i in range(0, 10):
            f.write("%duser@alias.example %duser@relay.example\n" % (i, i))
        for i in range(entries):
            f.write("u%d@alias.example u%d@relay.example\n" % (i, i))
    transport = os.path.join(folder, "transport")
    with open(transport, "w") as f:
        f.write("relay.example relay:[127.0.0.1]:%d\n" % sink_port)
    return virtual, transport


def queue_empty(queue_dirs):
    """No message file in incoming/, active/ or deferred/ of any of them."""
    for qdir in queue_dirs:
        for sub in ("incoming", "active", "deferred"):
            for _, _, files in os.walk(os.path.join(qdir, sub)):
                if files:
                    return False
    return True


def settle(queue_dirs, timeout=120):
    """Until both instances have delivered what they accepted: a run must
    not share the machine with the other instance's deliveries."""
    end = time.time() + timeout
    while time.time() < end and not queue_empty(queue_dirs):
        time.sleep(0.1)


def alternate(plain_port, alias_port, messages, runs, queue_dirs):
    """Best rates (no aliases, aliases), runs taken in turns after a warm-up.

    The machine may be busy with other work: alternating the two kinds
    of run spreads that noise over both instead of one. Each run starts
    when both queues are empty."""
    rate(plain_port, "user@relay.example", max(messages // 10, 10), 1)
    rate(alias_port, "user@alias.example", max(messages // 10, 10), 1)
    plain = aliased = 0.0
    for _ in range(runs):
        settle(queue_dirs)
        plain = max(plain, rate(plain_port, "user@relay.example", messages, 1))
        settle(queue_dirs)
        aliased = max(aliased, rate(alias_port, "user@alias.example", messages, 1))
    return plain, aliased


def rate(port, rcpt, messages, runs):
    """Best messages/second of smtp-source over runs."""
    best = 0.0
    for _ in range(runs):
        start = time.perf_counter()
        p = subprocess.run([SMTP_SOURCE, "-s", "10", "-m", str(messages), "-r", "5",
                            "-f", "sender@sender.example", "-t", rcpt,
                            "127.0.0.1:%d" % port],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
        elapsed = time.perf_counter() - start
        if p.returncode != 0:
            raise RuntimeError("smtp-source: %s" % p.stderr.decode()[-500:])
        best = max(best, messages / elapsed)
    return best


def ours(build, args, sink_port):
    os.environ["MTA_BUILD"] = build
    from mta import MTA
    plain = MTA(start=False)
    alias = MTA(start=False)
    try:
        for m in (plain, alias):
            virtual, transport = write_tables(m.config_dir, args.entries, sink_port)
            m.postmap("hash:" + transport)
            m.set_main(relay_domains="relay.example",
                       transport_maps="hash:" + transport,
                       smtpd_client_connection_count_limit="0")
        alias.postmap("hash:" + virtual)
        alias.set_main(virtual_alias_maps="hash:" + virtual)
        plain.start()
        alias.start()
        return alternate(plain.smtp_port, alias.smtp_port, args.messages, args.runs,
                         [plain.queue_dir, alias.queue_dir])
    finally:
        plain.cleanup()
        alias.cleanup()


class PostfixInstance:
    """A throw-away Debian Postfix in a temporary folder."""

    def __init__(self, port, sink_port, entries, aliases):
        self.tmp = tempfile.mkdtemp(prefix="bench_va_postfix.")
        os.chmod(self.tmp, 0o755)
        self.conf = os.path.join(self.tmp, "etc")
        data = os.path.join(self.tmp, "data")
        for d in (self.conf, data, os.path.join(self.tmp, "queue")):
            os.makedirs(d)
        shutil.chown(data, "postfix")
        self.started = False
        virtual, transport = write_tables(self.conf, entries, sink_port)
        with open("/etc/postfix/master.cf") as f:
            mcf = f.read().replace("\nsmtp      inet", "\n127.0.0.1:%d inet" % port, 1)
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(mcf)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.7\n"
                    "queue_directory = %s/queue\ndata_directory = %s\n"
                    "inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\n"
                    "myhostname = pf.test.invalid\nmydestination =\n"
                    "alias_maps =\nlocal_recipient_maps =\n"
                    "mynetworks = 127.0.0.0/8\nrelay_domains = relay.example\n"
                    "transport_maps = hash:%s\n"
                    "smtpd_client_connection_count_limit = 0\n"
                    % (self.tmp, data, transport))
            if aliases:
                f.write("virtual_alias_maps = hash:%s\n" % virtual)
        tables = [transport] + ([virtual] if aliases else [])
        for table in tables:
            subprocess.run([POSTFIX_POSTMAP, "-c", self.conf, "hash:" + table], check=True)
        p = subprocess.run([POSTFIX, "-c", self.conf, "start"], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("postfix start: " + (p.stderr or p.stdout).strip()[-300:])
        self.started = True

    def stop(self):
        if self.started:
            subprocess.run([POSTFIX, "-c", self.conf, "stop"], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def postfix(args, sink_port):
    from mta import free_port
    plain = alias = None
    try:
        plain_port, alias_port = free_port(), free_port()
        plain = PostfixInstance(plain_port, sink_port, args.entries, False)
        alias = PostfixInstance(alias_port, sink_port, args.entries, True)
        time.sleep(1)
        return alternate(plain_port, alias_port, args.messages, args.runs,
                         [os.path.join(plain.tmp, "queue"), os.path.join(alias.tmp, "queue")])
    finally:
        for inst in (plain, alias):
            if inst:
                inst.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--entries", type=int, default=1000000)
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for prog in (SMTP_SOURCE, SMTP_SINK):
        if not os.access(prog, os.X_OK):
            raise SystemExit("no %s: install the postfix package" % prog)

    sink, sink_port = bench_relay.sink_start(backlog=1000)
    try:
        o_plain, o_alias = ours(build, args, sink_port)
        print("virtual_alias ours    no aliases %7.1f msg/s  %d-entry hash %7.1f msg/s  "
              "ratio %.2f%s" % (o_plain, args.entries, o_alias, o_alias / o_plain,
                                "" if o_alias / o_plain >= 0.95 else "  (target >= 0.95)"),
              flush=True)
        try:
            p_plain, p_alias = postfix(args, sink_port)
            print("virtual_alias postfix no aliases %7.1f msg/s  %d-entry hash %7.1f msg/s  "
                  "ratio %.2f" % (p_plain, args.entries, p_alias, p_alias / p_plain), flush=True)
            print("virtual_alias ours/postfix with aliases: %.2f" % (o_alias / p_alias), flush=True)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
            print("virtual_alias postfix: not measured (%s)" % e, flush=True)
    finally:
        sink.terminate()
        sink.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
