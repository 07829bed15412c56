"""test_backup_mx_netns.py - the backup-MX self test follows inet_interfaces.

A host with several addresses: in a network namespace of the test, the
loopback interface carries 127.0.0.2 (the primary MX, a capture server) and
127.0.0.3 (us, inet_interfaces = 127.0.0.3). MX records come from nsd in
the same namespace: example.test MX 10 mx1 (127.0.0.2), MX 20 mx2
(127.0.0.3). As a backup MX we must deliver to the primary: 127.0.0.2 is an
address of a local interface, but not one we receive mail on. Postfix's
rule (ADDRESS_CLASS_README, smtp(8)): our addresses are those of
inet_interfaces ("all" = every interface address) and proxy_interfaces.
"""
import glob
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

from mta import MTA, LIBEXEC, wait_for
from netns import Netns
from test_smtp import NSD_CONF

HERE = os.path.dirname(os.path.abspath(__file__))
PRIMARY, OURS, NSD_ADDR = "127.0.0.2", "127.0.0.3", "127.0.0.53"

ZONE = """$ORIGIN example.test.
$TTL 60
@ IN SOA ns.example.test. root.example.test. 1 3600 600 86400 60
@ IN NS ns
ns IN A {nsd}
@ IN MX 10 mx1
@ IN MX 20 mx2
mx1 IN A {primary}
mx2 IN A {ours}
"""


class BackupMxOnMultiAddressHost(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bmx-netns-")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.ns = Netns([PRIMARY, OURS, NSD_ADDR])
        self.addCleanup(self.ns.delete)
        # nsd, serving example.test inside the namespace.
        nsd_dir = os.path.join(self.tmp, "nsd")
        os.mkdir(nsd_dir)
        with open(os.path.join(nsd_dir, "zone.txt"), "w") as f:
            f.write(ZONE.format(nsd=NSD_ADDR, primary=PRIMARY, ours=OURS))
        with open(os.path.join(nsd_dir, "nsd.conf"), "w") as f:
            f.write(NSD_CONF.format(addr=NSD_ADDR, dir=nsd_dir, zone="example.test"))
        self.resolv_conf = os.path.join(self.tmp, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write("nameserver %s\n" % NSD_ADDR)
        os.chmod(self.resolv_conf, 0o644)
        self.ns.popen(["/usr/sbin/nsd", "-d", "-c", os.path.join(nsd_dir, "nsd.conf")],
                      stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
        dns_probe = ("import socket,struct\n"
                     "q=struct.pack('>HHHHHH',0x1234,0x0100,1,0,0,0)"
                     "+b'\\x07example\\x04test\\x00\\x00\\x0f\\x00\\x01'\n"
                     "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                     "s.settimeout(0.5)\n"
                     "s.sendto(q,(%r,53))\n"
                     "assert len(s.recv(512))>12\n" % NSD_ADDR)
        wait_for(lambda: self.ns.run(["/usr/bin/python3", "-c", dns_probe]).returncode == 0,
                 20, what="nsd in the namespace")
        # The primary MX: a capture server on 127.0.0.2:25.
        self.captured = os.path.join(self.tmp, "captured")
        os.mkdir(self.captured)
        self.ns.popen(["/usr/bin/python3", os.path.join(HERE, "capture.py"), PRIMARY, "25",
                       self.captured], env=dict(os.environ, PYTHONPATH=HERE),
                      stdout=open(os.devnull, "w"), stderr=open(os.path.join(self.tmp,
                                                                             "capture.err"), "w"))
        wait_for(lambda: os.path.exists(os.path.join(self.captured, "ready")), 20,
                 what="capture server in the namespace")

    def start_mta(self, inet_interfaces):
        m = MTA(addr=OURS, start=False, main_cf={
            "inet_interfaces": inet_interfaces,
            "relay_domains": "example.test",
            "resolv_conf": self.resolv_conf,
            "mynetworks": "127.0.0.0/8",
        })
        self.addCleanup(m.cleanup)
        m.proc = self.ns.popen([os.path.join(LIBEXEC, "master"), "-c", m.config_dir, "-d"],
                               stdout=open(os.devnull, "w"),
                               stderr=open(os.path.join(m.dir, "master.stderr"), "ab"),
                               env=m.env())
        probe = ("import socket,sys\n"
                 "s=socket.create_connection((%r,%d),1)\n" % (OURS, m.smtp_port))
        wait_for(lambda: m.proc.poll() is not None or
                 self.ns.run(["/usr/bin/python3", "-c", probe]).returncode == 0,
                 30, what="smtpd on %s in the namespace" % OURS)
        self.assertIsNone(m.proc.poll(), m.stderr())
        return m

    def send(self, m, rcpt):
        p = self.ns.run(["swaks", "--server", "%s:%d" % (OURS, m.smtp_port),
                         "--from", "sender@remote.test", "--to", rcpt,
                         "--body", "backup mx test"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_backup_mx_delivers_to_primary_on_another_local_address(self):
        m = self.start_mta(OURS)
        self.send(m, "user@example.test")
        wait_for(lambda: glob.glob(os.path.join(self.captured, "*.json")), 60,
                 what="the message at the primary MX")
        with open(os.path.join(self.captured, "1.json")) as f:
            env = json.load(f)
        self.assertEqual(env["rcpt_tos"], ["user@example.test"])
        self.assertEqual(env["mail_from"], "sender@remote.test")
        m.wait_log(r"to=<user@example\.test>, relay=mx1\.example\.test\[127\.0\.0\.2\]:25, "
                   r".*status=sent")
        self.assertNotIn("loops back to myself", m.log())

    def test_inet_interfaces_all_makes_every_address_ours(self):
        """With inet_interfaces = all, 127.0.0.2 is ours as well: we are the
        best MX, and Postfix bounces with 5.4.6 "loops back to myself"."""
        m = self.start_mta("all")
        self.send(m, "user@example.test")
        m.wait_log(r"to=<user@example\.test>, .*dsn=5\.4\.6, status=bounced "
                   r"\(mail for example\.test loops back to myself\)")
        time.sleep(0.5)
        self.assertEqual(glob.glob(os.path.join(self.captured, "*.json")), [])


if __name__ == "__main__":
    unittest.main()
