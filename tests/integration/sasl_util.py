"""sasl_util.py - real SASL authentication servers for the tests.

    DovecotAuth(folder, users, socket=None)   Dovecot's auth service only
                                              (a passwd-file; no mail
                                              protocols); .socket is its
                                              auth-client UNIX socket
    Saslauthd(folder, users)                  Cyrus saslauthd -a sasldb on
                                              a sasldb of its own; .mux
    make_sasldb(path, users)                  a sasldb2 file (saslpasswd2)
    cyrus_conf(folder, text)                  folder/smtpd.conf for
                                              cyrus_sasl_config_path
    make_cert(folder)                         (cert, key) for smtpd TLS
    b64(text)                                 base64 of a str, as a str

Each server runs in its own temporary folder and is stopped by PID
(stop()); the callers remove the folder.

saslauthd's sasldb mechanism reads /etc/sasldb2 and nothing else, so it
runs in a mount namespace of its own where the test's sasldb file is
bind-mounted on /etc/sasldb2: the machine's file is never touched.
"""
import base64
import os
import pwd
import signal
import subprocess

from mta import wait_for

DOVECOT_AUTH_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/log
instance_name = authtest{id}
protocols =
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={dir}/home
}}
service auth {{
  unix_listener {socket} {{
    mode = 0666
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def b64(text):
    if isinstance(text, str):
        text = text.encode()
    return base64.b64encode(text).decode()


def make_cert(folder):
    cert = os.path.join(folder, "cert.pem")
    key = os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=mx.test.invalid"],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


class DovecotAuth:
    """Dovecot's authentication service with users {name: password}.

    socket: where its auth-client socket goes (default folder/auth); a
    test of a chrooted smtpd puts it under the queue directory, as
    Dovecot's documentation does for Postfix (private/auth). Failed
    logins are answered at once (auth_failure_delay = 0, no penalty),
    so the tests see smtpd's own slow-down."""

    def __init__(self, folder, users, socket=None):
        self.dir = os.path.join(folder, "dovecot")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.socket = socket or os.path.join(self.dir, "auth")
        with open(os.path.join(self.dir, "users"), "w") as f:
            for name, password in users.items():
                f.write("%s:{PLAIN}%s\n" % (name, password))
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(DOVECOT_AUTH_CONF.format(dir=self.dir, socket=self.socket,
                                             id="%d%d" % (os.getpid(), id(self) % 100000)))
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_for(lambda: os.path.exists(self.socket) or self.proc.poll() is not None, 30,
                 what="dovecot's auth socket")
        if self.proc.poll() is not None:
            raise AssertionError("dovecot exited: %s" % self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        # Dovecot's children leave with their master; make sure.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def make_sasldb(path, users, realm=None):
    for name, password in users.items():
        cmd = ["saslpasswd2", "-f", path, "-c", "-p"]
        if realm:
            cmd += ["-u", realm]
        subprocess.run(cmd + [name], input=password + "\n", text=True, check=True,
                       capture_output=True, timeout=30)
    # smtpd reads it as mail_owner.
    pw = pwd.getpwnam(_owner())
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o640)


def _owner():
    try:
        pwd.getpwnam("postfix")
        return "postfix"
    except KeyError:
        return "nobody"


def cyrus_conf(folder, text):
    path = os.path.join(folder, "smtpd.conf")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


class Saslauthd:
    """saslauthd -a sasldb with a sasldb of its own (see the top)."""

    def __init__(self, folder, users):
        self.dir = os.path.join(folder, "saslauthd")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.db = os.path.join(self.dir, "sasldb2")
        for name, password in users.items():
            subprocess.run(["saslpasswd2", "-f", self.db, "-c", "-p", name],
                           input=password + "\n", text=True, check=True,
                           capture_output=True, timeout=30)
        self.mux = os.path.join(self.dir, "mux")
        script = "mount --bind %s /etc/sasldb2 && exec saslauthd -a sasldb -m %s -n 1 -d" % (
            self.db, self.dir)
        if not os.path.exists("/etc/sasldb2"):
            raise AssertionError("/etc/sasldb2 is missing: sasl2-bin creates it")
        self.log_path = os.path.join(self.dir, "log")
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_for(lambda: os.path.exists(self.mux) or self.proc.poll() is not None, 30,
                 what="saslauthd's socket")
        if self.proc.poll() is not None:
            raise AssertionError("saslauthd exited: %s" % self.log())
        os.chmod(self.dir, 0o755)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(5)
