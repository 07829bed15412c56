"""mta.py - start our mail system (or pieces of it) for an integration test.

    from mta import MTA, free_port, wait_for
    with MTA(main_cf={"relay_domains": "example.com"}) as m:
        m.smtp_port            # smtpd's port on m.addr (127.0.0.1 by default)
        m.log()                # what the maillog_file holds so far
        m.wait_log(r"status=sent")   # wait until a log line matches
        m.postmap("hash:" + m.path("transport"))
        m.write("transport", "example.com relay:[127.0.0.1]:2525\\n")

Every instance lives in its own temporary folder: config (main.cf,
master.cf), queue_directory, data_directory and the maillog_file. master
runs in the foreground (-d) from $MTA_BUILD/libexec; stop() sends SIGTERM
to master, then SIGKILL to any process of the instance that is left
(found by process ID: master's children), and removes the folder.

The default master.cf has the services of Postfix's stock master.cf that
we implement, with smtpd on an inet port picked free on the loopback
address. Pass master_cf= to replace it, extra_master_cf= to append.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD = os.environ.get("MTA_BUILD") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build")
LIBEXEC = os.path.join(BUILD, "libexec")
SBIN = os.path.join(BUILD, "sbin")


def proc_state(pid):
    """The state letter of /proc/PID/stat, None when there is none."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def free_port(addr="127.0.0.1"):
    """A TCP port that nothing listens on right now."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value; raise on timeout."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def port_open(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    try:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect((addr, port))
            return True
    except OSError:
        return False


DEFAULT_MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
{smtp_listen} inet n  -       n       -       -       smtpd
qmgr      unix  n       -       n       300     1       qmgr
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
showq     unix  n       -       n       -       -       showq
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
        -o syslog_name=postfix/$service_name
lmtp      unix  -       -       n       -       -       lmtp
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
"""


class LogWatch:
    """log() and wait_log() for a harness with a maillog_file (self.logfile)
    and a stderr_text() method that shows what the processes printed."""

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=60, count=1):
        rx = re.compile(pattern)

        def found():
            hits = rx.findall(self.log())
            return hits if len(hits) >= count else None
        try:
            return wait_for(found, timeout, what="log line /%s/" % pattern)
        except AssertionError:
            raise AssertionError("no log line /%s/ (x%d) within %ss; log:\n%s\nstderr:\n%s" % (
                pattern, count, timeout, self.log()[-6000:], self.stderr_text()[-3000:]))


class MTA(LogWatch):
    def __init__(self, main_cf=None, master_cf=None, extra_master_cf="",
                 addr="127.0.0.1", port=None, start=True, as_root_owner=None):
        self.addr = addr
        self.smtp_port = port or free_port(addr)
        self.dir = tempfile.mkdtemp(prefix="mta-test-")
        os.chmod(self.dir, 0o755)
        self.config_dir = os.path.join(self.dir, "etc")
        self.queue_dir = os.path.join(self.dir, "queue")
        self.data_dir = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "maillog")
        for d in (self.config_dir, self.data_dir):
            os.makedirs(d)
        # As "postfix set-permissions" leaves it: data_directory belongs
        # to mail_owner (the TLS session caches are opened as mail_owner).
        if os.getuid() == 0:
            shutil.chown(self.data_dir, as_root_owner or self._default_owner())
        self.proc = None
        listen = "%s:%d" % (("[%s]" % addr) if ":" in addr else addr, self.smtp_port)
        params = {
            "compatibility_level": "3.7",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "daemon_directory": LIBEXEC,
            "command_directory": SBIN,
            "maillog_file": self.logfile,
            "maillog_file_prefixes": self.dir,
            "myhostname": "mx.test.invalid",
            "mynetworks": "127.0.0.0/8 [::1]/128",
            "inet_interfaces": "loopback-only",
            "mail_owner": as_root_owner or self._default_owner(),
            "setgid_group": self._default_group(),
            "smtpd_banner": "$myhostname ESMTP $mail_name",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "queue_run_delay": "2s",
            "smtp_connect_timeout": "5s",
            # Tests here are about routing and relaying, not about who has a
            # mailbox: no RCPT-time local recipient check (Postfix's default
            # needs /etc/aliases.db and the passwd file; test_local.py runs
            # the stock main.cf with it).
            "local_recipient_maps": "",
        }
        params.update(main_cf or {})
        self.params = params
        self.write("main.cf", "".join("%s = %s\n" % kv for kv in params.items()))
        mcf = master_cf if master_cf is not None else DEFAULT_MASTER_CF.format(smtp_listen=listen)
        self.write("master.cf", mcf + extra_master_cf)
        if start:
            self.start()

    @staticmethod
    def _default_owner():
        import pwd
        if os.getuid() == 0:
            try:
                pwd.getpwnam("postfix")
                return "postfix"
            except KeyError:
                return "nobody"
        return pwd.getpwuid(os.getuid()).pw_name

    @staticmethod
    def _default_group():
        import grp
        for g in ("postdrop",):
            try:
                grp.getgrnam(g)
                return g
            except KeyError:
                pass
        return grp.getgrgid(os.getgid()).gr_name

    # --- files -------------------------------------------------------------
    def path(self, name):
        return os.path.join(self.config_dir, name)

    def write(self, name, text, mode=0o644):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def set_main(self, **kw):
        """Change main.cf parameters (takes effect at start or reload())."""
        self.params.update(kw)
        self.write("main.cf", "".join("%s = %s\n" % kv for kv in self.params.items()))

    # --- processes ---------------------------------------------------------
    def env(self):
        e = dict(os.environ)
        e["MAIL_CONFIG"] = self.config_dir
        return e

    def start(self, wait_smtp=True):
        self.proc = subprocess.Popen(
            [os.path.join(LIBEXEC, "master"), "-c", self.config_dir, "-d"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "master.stderr"), "ab"),
            env=self.env())
        if wait_smtp:
            wait_for(lambda: port_open(self.addr, self.smtp_port) or self.proc.poll() is not None,
                     60, what="smtpd to listen on %s:%d" % (self.addr, self.smtp_port))
            if self.proc.poll() is not None:
                raise AssertionError("master exited %s:\n%s" % (self.proc.returncode, self.stderr()))

    def stderr(self):
        try:
            with open(os.path.join(self.dir, "master.stderr"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def children(self):
        """Process IDs whose parent is master."""
        if not self.proc:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            kids = self.children()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            for pid in kids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc = None

    def kill9(self):
        """kill -9 master and every child (a crash), leave the queue.
        master is stopped first, so that it starts no child after the
        list is taken, and the children are waited for until they are
        gone: a child that is still exiting holds master's listening
        sockets, and a connection made to them meanwhile (start()'s
        check, a test's next client) is reset when it exits."""
        if self.proc:
            self.proc.send_signal(signal.SIGSTOP)
            wait_for(lambda: proc_state(self.proc.pid) in ("T", "t", "Z", None), 10,
                     what="master to stop")
        kids = self.children()
        if self.proc:
            self.proc.kill()
            self.proc.wait(5)
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: all(proc_state(pid) in (None, "Z", "X") for pid in kids), 30,
                 what="master's children to exit")
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    # --- log and commands ----------------------------------------------------
    def stderr_text(self):
        return self.stderr()

    def command(self, name, *args, input=None, check=False):
        """Run one of our commands (postmap, postqueue, ...) against this instance."""
        return subprocess.run([os.path.join(SBIN, name), "-c", self.config_dir] + list(args),
                              input=input, capture_output=True, text=True, env=self.env(),
                              check=check, timeout=60)

    def postmap(self, *args):
        return self.command("postmap", *args, check=True)

    def queue_files(self, queue):
        """Queue IDs of the message files in one queue folder (hashed or not)."""
        top = os.path.join(self.queue_dir, queue)
        ids = []
        for root, _, files in os.walk(top):
            ids.extend(files)
        return sorted(ids)
