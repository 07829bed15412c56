"""nsd_zones.py - nsd serving several zones on port 53 of a loopback address.

    ns = NsdZones({"test": "good IN MX 10 mx.good.test.\\n...",
                   "zone2.example": "@ IN NS ns1.zone2.example.\\n..."})
    ns.resolv_conf     # for our resolv_conf parameter
    ns.addr            # the server's address ("{ns}" in records)
    ns.stop()          # by PID; removes its folder

Like test_smtp.Nsd, for tests that need more than one zone (NS records at
the apex of a zone of their own, a root zone "." that answers NXDOMAIN for
every other name). A zone whose records have no "@ IN NS" line gets
"@ IN NS ns" with ns at the server's address. Names outside every zone get
REFUSED, which resolvers take as a temporary failure.
"""
import os
import re
import subprocess
import tempfile

from mta import wait_for
from test_smtp import Nsd, loopback_addr

SERVER_CONF = """server:
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


class NsdZones(Nsd):
    def __init__(self, zones):
        self.dir = tempfile.mkdtemp(prefix="smtpd-nsd-zones-")
        self.addr = loopback_addr()
        conf = SERVER_CONF.format(addr=self.addr, dir=self.dir)
        for i, (zone, records) in enumerate(zones.items()):
            origin = zone.rstrip(".") + "."
            soa = origin.lstrip(".")
            name = "zone%d.txt" % i
            with open(os.path.join(self.dir, name), "w") as f:
                f.write("$ORIGIN %s\n$TTL 60\n" % origin)
                f.write("@ IN SOA ns.%s root.%s 1 3600 600 86400 60\n" % (soa, soa))
                if not re.search(r"^@\s+IN\s+NS\s", records, re.M):
                    f.write("@ IN NS ns\nns IN A %s\n" % self.addr)
                f.write(records)
            conf += 'zone:\n  name: "%s"\n  zonefile: "%s"\n' % (origin, name)
        with open(os.path.join(self.dir, "nsd.conf"), "w") as f:
            f.write(conf)
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write("nameserver %s\n" % self.addr)
        os.chmod(self.dir, 0o755)
        os.chmod(self.resolv_conf, 0o644)
        self.proc = subprocess.Popen(["/usr/sbin/nsd", "-d", "-c", os.path.join(self.dir, "nsd.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(self.answers, 15, what="nsd to answer on %s" % self.addr)
        except BaseException:
            self.stop()
            raise

