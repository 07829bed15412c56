"""netns.py - a network namespace of the test's own, for tests of what
depends on this host's addresses.

    from netns import Netns
    with Netns(["127.0.0.2", "127.0.0.3"]) as ns:
        proc = ns.popen([...])       # a process inside the namespace
        ns.run([...])                # subprocess.run inside it

The namespace has its own loopback interface, up, with 127.0.0.1 and the
extra addresses given (as /8 aliases, like a host with several
addresses). On exit every process still in the namespace is killed (found
by "ip netns pids") and the namespace is deleted. Needs root.
"""
import os
import random
import signal
import subprocess
import time


class Netns:
    def __init__(self, addrs=()):
        self.name = "mtatest%d_%d" % (os.getpid(), random.randint(0, 99999))
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            self.run(["ip", "link", "set", "lo", "up"], check=True)
            for a in addrs:
                self.run(["ip", "addr", "add", "%s/8" % a, "dev", "lo"], check=True)
        except BaseException:
            self.delete()
            raise

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def popen(self, argv, **kw):
        return subprocess.Popen(self.argv(argv), **kw)

    def run(self, argv, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 60)
        return subprocess.run(self.argv(argv), **kw)

    def pids(self):
        p = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True)
        return [int(x) for x in p.stdout.split()]

    def delete(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 5
            while pids and time.time() < deadline and self.pids():
                time.sleep(0.05)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.delete()
