"""tls_pki.py - certificates made with openssl for the TLS tests, and
Debian's posttls-finger.

    pki = Pki(folder)
    pki.ca                      # CA certificate (PEM)
    cert, key = pki.issue("server", "relay.test")   # signed by the CA
    pki.fingerprint(cert)       # SHA-256 of the certificate, "AB:CD:..."
    pki.pkey_fingerprint(cert)  # SHA-256 of its public key
    debian_finger(folder, ["-l", "may"], "[127.0.0.1]:port")
"""
import os
import subprocess

DEBIAN_FINGER = "/usr/sbin/posttls-finger"


def openssl(*args, input=None):
    return subprocess.run(["openssl"] + list(args), check=True, capture_output=True,
                          input=input, timeout=60).stdout


class Pki:
    def __init__(self, folder, name="ca"):
        self.dir = folder
        self.ca = os.path.join(folder, name + ".pem")
        self.ca_key = os.path.join(folder, name + ".key")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.ca_key,
                "-out", self.ca, "-days", "2", "-subj", "/CN=Test CA %s" % name,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.serial = 1
        for f in (self.ca, self.ca_key):
            os.chmod(f, 0o644)

    def issue(self, name, cn):
        """A certificate for cn (also its DNS subjectAltName) and its key."""
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        cert = os.path.join(self.dir, name + ".pem")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n" % cn)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                "-subj", "/CN=%s" % cn)
        self.serial += 1
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                "-set_serial", str(self.serial), "-days", "2", "-out", cert,
                "-extfile", ext)
        for f in (cert, key):
            os.chmod(f, 0o644)
        return cert, key

    @staticmethod
    def fingerprint(cert):
        out = openssl("x509", "-in", cert, "-noout", "-fingerprint", "-sha256").decode()
        return out.strip().split("=", 1)[1]

    @staticmethod
    def pkey_fingerprint(cert):
        pub = openssl("x509", "-in", cert, "-noout", "-pubkey")
        der = openssl("pkey", "-pubin", "-outform", "DER", input=pub)
        digest = openssl("dgst", "-sha256", "-binary", input=der)
        return ":".join("%02X" % b for b in digest)


def debian_finger(folder, args, dest, matches=(), timeout=30):
    """Debian's posttls-finger (Postfix 3.7) with an empty main.cf in
    folder; returns (exit status, what it printed: its log lines go to
    standard output)."""
    conf = os.path.join(folder, "finger-etc")
    os.makedirs(conf, exist_ok=True)
    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write("compatibility_level = 3.7\n")
    env = dict(os.environ, MAIL_CONFIG=conf)
    p = subprocess.run([DEBIAN_FINGER] + list(args) + [dest] + list(matches),
                       capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout + p.stderr
