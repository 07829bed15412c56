"""test_install - a staged "make install DESTDIR=..." as Debian installs Postfix.

Debian's Postfix 3.7 on this machine, for the record:
    -r-xr-sr-x root postdrop /usr/sbin/postdrop, /usr/sbin/postqueue
    -rwxr-xr-x root root     /usr/sbin/sendmail, postfix, postcat, postlog ...
    /usr/bin/mailq, /usr/bin/newaliases, /usr/lib/sendmail -> sendmail
    man pages 0644 root root
"""
import glob
import grp
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from mta import BUILD

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMANDS = ["sendmail", "postdrop", "postqueue", "postfix", "postcat", "postlog", "postsuper",
            "postconf", "postmap"]
DAEMONS = ["master", "smtpd", "qmgr", "smtp", "lmtp", "bounce", "flush", "verify", "showq",
           "pickup"]
PAGES = ["man1/sendmail.1", "man1/postfix.1", "man1/postcat.1", "man1/postlog.1",
         "man1/mailq.1", "man1/postdrop.1", "man1/newaliases.1", "man8/pickup.8",
         "man1/postqueue.1", "man1/postsuper.1", "man1/postconf.1"]


class StagedInstall(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="install-")
        cls.result = subprocess.run(["make", "--no-print-directory", "install",
                                     "BUILD=" + BUILD, "DESTDIR=" + cls.dest],
                                    cwd=TOP, capture_output=True, text=True, timeout=900)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def path(self, p):
        return os.path.join(self.dest, p.lstrip("/"))

    def mode(self, p):
        st = os.lstat(self.path(p))
        return (stat.S_IMODE(st.st_mode), st.st_uid, grp.getgrgid(st.st_gid).gr_name)

    def test_programs_with_debian_modes(self):
        self.assertEqual(self.result.returncode, 0, self.result.stdout + self.result.stderr)
        for c in COMMANDS:
            want = (0o2555, 0, "postdrop") if c in ("postdrop", "postqueue") else (0o755, 0, "root")
            self.assertEqual(self.mode("/usr/local/sbin/" + c), want, c)
        for d in DAEMONS:
            self.assertEqual(self.mode("/usr/local/libexec/postfix/" + d), (0o755, 0, "root"), d)
        for name in ("mailq", "newaliases"):
            self.assertEqual(os.readlink(self.path("/usr/local/bin/" + name)),
                             "/usr/local/sbin/sendmail")
        self.assertEqual(self.mode("/etc/postfix/master.cf"), (0o644, 0, "root"))
        with open(self.path("/etc/postfix/master.cf")) as f:
            self.assertRegex(f.read(), r"(?m)^pickup +unix +n +- +n +60 +1 +pickup$")

    def test_man_pages(self):
        for page in PAGES:
            p = self.path("/usr/local/share/man/" + page)
            self.assertEqual(self.mode("/usr/local/share/man/" + page), (0o644, 0, "root"), page)
            r = subprocess.run(["man", "--warnings", "-l", p], capture_output=True, text=True,
                               env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"),
                               timeout=60)
            self.assertEqual((r.returncode, r.stderr), (0, ""), page)
            self.assertGreater(len(r.stdout), 200, page)

    def test_systemd_unit(self):
        unit = self.path("/usr/local/lib/systemd/system/postfix.service")
        self.assertEqual(self.mode("/usr/local/lib/systemd/system/postfix.service"),
                         (0o644, 0, "root"))
        with open(unit) as f:
            text = f.read()
        for line in ("ExecStart=/usr/local/sbin/postfix start",
                     "ExecStop=/usr/local/sbin/postfix stop",
                     "ExecReload=/usr/local/sbin/postfix reload", "Type=forking"):
            self.assertIn("\n%s\n" % line, text)
        self.assertNotIn("@", text.split("[Unit]")[1])

    def test_usr_prefix_links_lib_sendmail(self):
        """Installing to /usr also makes /usr/lib/sendmail (mk/install-post.sh)."""
        stage = tempfile.mkdtemp(prefix="install-usr-")
        try:
            os.makedirs(os.path.join(stage, "usr/sbin"))
            for c in ("sendmail", "postdrop", "postqueue"):
                shutil.copy(os.path.join(BUILD, "sbin", c), os.path.join(stage, "usr/sbin", c))
            r = subprocess.run(["sh", os.path.join(TOP, "mk", "install-post.sh"), stage,
                                "/usr/sbin", "/usr", "/usr/bin"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(os.readlink(os.path.join(stage, "usr/lib/sendmail")),
                             "/usr/sbin/sendmail")
            self.assertEqual(os.readlink(os.path.join(stage, "usr/bin/mailq")),
                             "/usr/sbin/sendmail")
            st = os.stat(os.path.join(stage, "usr/sbin/postdrop"))
            self.assertEqual((stat.S_IMODE(st.st_mode), grp.getgrgid(st.st_gid).gr_name),
                             (0o2555, "postdrop"))
        finally:
            shutil.rmtree(stage, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
