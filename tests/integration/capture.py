"""capture.py - an SMTP server that records what it gets (aiosmtpd).

    from capture import Capture
    with Capture(reject={"bad@example.com"}) as cap:
        cap.port                 # listening on 127.0.0.1 (or host=)
        cap.wait(1)              # until one message arrived
        cap.messages             # [Envelope(mail_from, rcpt_tos, data)]
        cap.data_commands        # DATA commands seen (probes never send one)
        cap.rcpt_commands        # every RCPT TO address, accepted or not

RCPT TO for an address in reject gets "550 5.1.1 <addr>: no such user";
every other recipient is accepted. stop()/start() take the server down
and up again on the same port (a primary MX that goes away).
"""
import threading
import time

from aiosmtpd.controller import Controller

from mta import free_port, wait_for


class _Handler:
    def __init__(self, cap):
        self.cap = cap

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.cap.lock:
            self.cap.rcpt_commands.append(address)
        if address.lower() in self.cap.reject:
            return "550 5.1.1 <%s>: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        with self.cap.lock:
            self.cap.data_commands += 1
            self.cap.messages.append(envelope)
        return "250 2.0.0 Ok: captured"


class Capture:
    def __init__(self, reject=(), port=None, host="127.0.0.1"):
        self.reject = {a.lower() for a in reject}
        self.host = host
        self.port = port or free_port(host)
        self.lock = threading.Lock()
        self.messages = []
        self.rcpt_commands = []
        self.data_commands = 0
        self.controller = None
        self.start()

    def start(self):
        self.controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                     decode_data=False, ready_timeout=10)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def wait(self, count, timeout=30):
        wait_for(lambda: len(self.messages) >= count, timeout,
                 what="%d message(s) at port %d" % (count, self.port))
        return self.messages

    def settle(self, seconds=1.0):
        """Give late deliveries a chance to show up (for 'exactly once')."""
        time.sleep(seconds)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def serve_to_dir(host, port, out_dir):
    """Run a Capture until killed, writing each message to out_dir as
    N.json (envelope) and N.eml (data): for a server that runs in another
    network namespace than the test (python3 capture.py HOST PORT DIR)."""
    import json
    import os
    import signal

    cap = Capture(host=host, port=port)
    written = 0
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    with open(os.path.join(out_dir, "ready"), "w") as f:
        f.write("%s:%d\n" % (host, port))
    while not done.wait(0.05):
        with cap.lock:
            new = cap.messages[written:]
        for env in new:
            written += 1
            with open(os.path.join(out_dir, "%d.eml" % written), "wb") as f:
                f.write(env.content)
            tmp = os.path.join(out_dir, ".%d.json" % written)
            with open(tmp, "w") as f:
                json.dump({"mail_from": env.mail_from, "rcpt_tos": env.rcpt_tos}, f)
            os.rename(tmp, os.path.join(out_dir, "%d.json" % written))
    cap.stop()


if __name__ == "__main__":
    import sys
    serve_to_dir(sys.argv[1], int(sys.argv[2]), sys.argv[3])
