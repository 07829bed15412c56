"""test_postconf.py - our postconf against Debian's Postfix 3.7 postconf.

The parameter list comes from lib/global/mail_params.def (the one table), so a
parameter added there with a default that differs from Postfix's fails
here unless it is marked PARAM_OURS or listed below with the reason.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from mta import SBIN

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POSTCONF = os.path.join(SBIN, "postconf")
DEBIAN_POSTCONF = "/usr/sbin/postconf"
STOCK_MASTER_CF = "/etc/postfix/master.cf"

# Defaults that are not Postfix's on purpose, or not comparable.
NOT_COMPARED = {
    # Chosen when built (Makefile), Debian's build chose other paths.
    "command_directory", "daemon_directory", "config_directory",
    "queue_directory", "data_directory", "mail_version",
    # Installation parameters: where this build installs (Makefile), and we
    # install no README or HTML files.
    "html_directory", "readme_directory", "manpage_directory", "sample_directory",
    "sendmail_path", "mailq_path", "newaliases_path",
    # $mail_name $mail_version: the version differs.
    "milter_macro_v",
    # Computed at run time.
    "myhostname", "mydomain", "mynetworks", "process_id", "process_name",
    # Postfix 3.9's defaults, see smtpd(8).
    "smtpd_forbid_bare_newline",
    "smtpd_forbid_unauth_pipelining",
}

# Parameters whose defaults depend on compatibility_level.
COMPAT_PARAMS = [
    "append_dot_mydomain", "mynetworks_style", "relay_domains",
    "smtp_tls_fingerprint_digest", "smtpd_relay_restrictions",
    "smtpd_tls_fingerprint_digest", "smtputf8_enable",
]
COMPAT_LEVELS = ["0", "1", "2", "3.6", "3.10"]


def table_params():
    """(name, ours) for each PARAM line of lib/global/mail_params.def."""
    out = []
    with open(os.path.join(TOP, "lib", "global", "mail_params.def")) as f:
        for line in f:
            m = re.match(r'^PARAM\(\s*\w+\s*,\s*"([^"]+)"', line)
            # Not implemented: not listed by postconf -d (test_noimpl.py).
            if m and "PARAM_NOIMPL" not in line:
                out.append((m.group(1), "PARAM_OURS" in line))
    return out


def run(cmd, env=None):
    e = dict(os.environ)
    e.pop("MAIL_CONFIG", None)
    if env:
        e.update(env)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=e)


class PostconfTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_postconf.")
        shutil.copy(STOCK_MASTER_CF, os.path.join(self.dir, "master.cf"))
        self.write_main_cf("")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_main_cf(self, text):
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write(text)

    def both(self, *args):
        ours = run([POSTCONF, "-c", self.dir] + list(args))
        theirs = run([DEBIAN_POSTCONF, "-c", self.dir] + list(args))
        return ours, theirs

    def test_defaults_identical_to_postfix(self):
        names = [n for n, ours in table_params() if not ours and n not in NOT_COMPARED]
        self.assertGreater(len(names), 250)
        ours, theirs = self.both("-d", *names)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        self.assertEqual(theirs.returncode, 0, theirs.stderr)
        self.assertNotIn("unknown parameter", theirs.stderr)
        self.assertEqual(ours.stdout.splitlines(), theirs.stdout.splitlines())

    def test_expanded_values_identical_to_postfix(self):
        self.write_main_cf("myhostname = mx.test.invalid\nmynetworks = 127.0.0.0/8\n")
        names = [n for n, ours in table_params() if not ours and n not in NOT_COMPARED]
        ours, theirs = self.both("-x", *names)
        self.assertEqual(ours.stdout.splitlines(), theirs.stdout.splitlines())

    def test_compatibility_level_switches(self):
        for level in COMPAT_LEVELS:
            with self.subTest(level=level):
                self.write_main_cf("compatibility_level = %s\n"
                                   "myhostname = mx.test.invalid\n"
                                   "mydestination = $myhostname, localhost\n" % level)
                # Only what we implement (the rest: test_noimpl.py).
                implemented = {n for n, _ in table_params()}
                ours, theirs = self.both("-x", *[n for n in COMPAT_PARAMS if n in implemented])
                self.assertEqual(ours.stdout, theirs.stdout)
                self.assertIn("compatibility_level", run(
                    [POSTCONF, "-c", self.dir, "-n"]).stdout)
        # The two ends, spelled out.
        self.write_main_cf("compatibility_level = 0\nmydestination = a.test\n")
        self.assertEqual(run([POSTCONF, "-c", self.dir, "-xh", "relay_domains"]).stdout,
                         "a.test\n")
        self.write_main_cf("compatibility_level = 3.7\nmydestination = a.test\n")
        self.assertEqual(run([POSTCONF, "-c", self.dir, "-x", "relay_domains",
                              "mynetworks_style"]).stdout,
                         "relay_domains =\nmynetworks_style = host\n")

    def test_non_default_settings(self):
        self.write_main_cf(
            "# comment\n"
            "myhostname = mx.test.invalid\n"
            "relay_domains = $mydomain,\n    other.test\n"
            "compatibility_level = 3.6\n"
            "relay_destination_concurrency_limit = 5\n"
            "my_own = x\n"
            "uses_own = $my_own\n"
            "maximal_queue_lifetime = 2d\n"
            "maximal_queue_lifetime = 3d\n")
        ours, theirs = self.both("-n")
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertIn("config_directory = %s\n" % self.dir, ours.stdout)
        self.assertIn("relay_domains = $mydomain, other.test\n", ours.stdout)
        self.assertIn("postconf: warning: %s/main.cf: unused parameter: uses_own=$my_own"
                      % self.dir, ours.stderr)
        ours, theirs = self.both("-n", "-x")
        self.assertEqual(ours.stdout, theirs.stdout)
        ours, theirs = self.both("-h", "relay_domains", "maximal_queue_lifetime")
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertEqual(ours.stdout, "$mydomain, other.test\n3d\n")

    def test_master_cf_references(self):
        self.write_main_cf("mua_client_restrictions = permit_sasl_authenticated, reject\n"
                           "unused_own = x\n")
        with open(os.path.join(self.dir, "master.cf"), "a") as f:
            f.write("submission inet n - y - - smtpd\n"
                    "  -o syslog_name=postfix/submission\n"
                    "  -o smtpd_client_restrictions=$mua_client_restrictions\n")
        ours, theirs = self.both("-n")
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertIn("mua_client_restrictions = permit_sasl_authenticated, reject\n",
                      ours.stdout)
        self.assertIn("unused parameter: unused_own=x", ours.stderr)
        self.assertNotIn("mua_client_restrictions", ours.stderr)
        # Per-transport knobs exist for delivery services (smtp, pipe,
        # error ...), not for smtpd services or names master.cf lacks.
        suffixes = ["destination_concurrency_limit", "destination_recipient_limit",
                    "initial_destination_concurrency", "destination_rate_delay",
                    "recipient_refill_limit", "delivery_slot_cost", "process_limit",
                    "database_type"]
        names = ["%s_%s" % (service, suffix) for suffix in suffixes
                 for service in ("relay", "mailman", "retry", "submission", "discard",
                                 "nosuchservice")]
        ours, theirs = self.both("-d", *names)
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertIn("relay_initial_destination_concurrency = "
                      "$initial_destination_concurrency\n", ours.stdout)
        self.assertIn("submission_destination_concurrency_limit: unknown parameter",
                      ours.stderr)

    EDIT_INPUT = ("# head comment\n"
                  "myhostname = a.test\n"
                  "relay_domains = x.test,\n"
                  "    y.test\n"
                  "# mid\n"
                  "\n"
                  "relay_domains = z.test\n"
                  "mynetworks = 127.0.0.0/8\n"
                  "  # indented comment\n"
                  "last = 1\n")

    def edit_both(self, *args):
        """Run an edit with ours and with Debian's postconf on the same file."""
        results = []
        for prog in (POSTCONF, DEBIAN_POSTCONF):
            self.write_main_cf(self.EDIT_INPUT)
            p = run([prog, "-c", self.dir] + list(args))
            with open(os.path.join(self.dir, "main.cf")) as f:
                results.append((p, f.read()))
        return results

    def test_edit_like_postfix(self):
        for args in (["-e", "relay_domains = new.test", "myhostname=b.test"],
                     ["-e", "mynetworks =", "last=  2  3  "],
                     ["-X", "relay_domains", "nosuch_parameter"],
                     ["-#", "relay_domains", "mynetworks", "last"]):
            with self.subTest(args=args):
                (ours, ours_text), (theirs, theirs_text) = self.edit_both(*args)
                self.assertEqual(ours.returncode, 0, ours.stderr)
                self.assertEqual(theirs.returncode, 0, theirs.stderr)
                self.assertEqual(ours_text, theirs_text)
                self.assertEqual(ours.stdout, "")
        (ours, text), _ = self.edit_both("-e", "relay_domains=r.test")
        self.assertIn('main.cf: multiple entries for "relay_domains"', ours.stderr)
        self.assertEqual(text.count("relay_domains = r.test\n"), 2)
        self.assertNotIn("y.test", text)
        # New names are appended (Postfix's order among them is not fixed).
        (ours, ours_text), (theirs, theirs_text) = self.edit_both(
            "-e", "new_one = 1", "soft_bounce = yes")
        self.assertEqual(sorted(ours_text.splitlines()), sorted(theirs_text.splitlines()))
        self.assertTrue(ours_text.startswith(self.EDIT_INPUT))

    def test_edit_keeps_mode_and_is_atomic(self):
        path = os.path.join(self.dir, "main.cf")
        self.write_main_cf("relayhost = [old.test]\n")
        os.chmod(path, 0o640)
        inode = os.stat(path).st_ino
        p = run([POSTCONF, "-c", self.dir, "-e", "relayhost = [new.test]:587"])
        self.assertEqual(p.returncode, 0, p.stderr)
        st = os.stat(path)
        self.assertEqual(st.st_mode & 0o777, 0o640)
        self.assertNotEqual(st.st_ino, inode)          # a new file, renamed over
        self.assertFalse(os.path.exists(path + ".tmp"))
        self.assertEqual(run([POSTCONF, "-c", self.dir, "-h", "relayhost"]).stdout,
                         "[new.test]:587\n")

    def test_edit_errors(self):
        for args in (["-e", "novalue"], ["-e"], ["-X"], ["-e", "-n", "a=1"],
                     ["-e", "-d", "a=1"]):
            with self.subTest(args=args):
                self.write_main_cf(self.EDIT_INPUT)
                ours = run([POSTCONF, "-c", self.dir] + args)
                theirs = run([DEBIAN_POSTCONF, "-c", self.dir] + args)
                self.assertEqual(ours.returncode, 1)
                self.assertEqual(theirs.returncode, 1)
                self.assertIn("postconf: fatal: ", ours.stderr)
                with open(os.path.join(self.dir, "main.cf")) as f:
                    self.assertEqual(f.read(), self.EDIT_INPUT)

    def test_override_option(self):
        self.write_main_cf("myhostname = mx.test.invalid\nrelayhost = [old.test]\n")
        for args in (["-o", "relayhost=[x.test]", "-o", "myhostname = y.test",
                      "relayhost", "myhostname", "smtpd_banner"],
                     ["-o", "relayhost=[x.test]", "-n"],
                     ["-o", "relayhost=[x.test]", "-x", "smtp_fallback_relay",
                      "smtpd_banner"]):
            with self.subTest(args=args):
                ours, theirs = self.both(*args)
                self.assertEqual(ours.stdout, theirs.stdout)
                self.assertEqual(ours.returncode, 0)
        for args in (["-o", "relayhost", "-n"], ["-d", "-o", "relayhost=z", "relayhost"]):
            ours, theirs = self.both(*args)
            self.assertEqual((ours.returncode, theirs.returncode), (1, 1))
            self.assertIn("postconf: fatal: ", ours.stderr)

    def test_plain_shows_all_parameters(self):
        self.write_main_cf("myhostname = mx.test.invalid\n")
        ours = run([POSTCONF, "-c", self.dir])
        self.assertEqual(ours.returncode, 0)
        lines = ours.stdout.splitlines()
        self.assertGreater(len(lines), 250)
        self.assertEqual(lines, sorted(lines, key=lambda l: l.split(" ")[0]))
        self.assertIn("myhostname = mx.test.invalid", lines)
        self.assertIn("smtpd_banner = $myhostname ESMTP $mail_name", lines)
        self.assertIn("relayhost =", lines)

    def test_unknown_parameter(self):
        ours, theirs = self.both("nosuch_parameter", "relayhost")
        self.assertEqual(ours.returncode, 0)
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertIn("postconf: warning: nosuch_parameter: unknown parameter\n", ours.stderr)
        ours = run([POSTCONF, "-c", self.dir, "-d", "nosuch_parameter"])
        self.assertEqual(ours.stdout, "")
        self.assertIn("postconf: warning: nosuch_parameter: unknown parameter", ours.stderr)

    def test_errors(self):
        missing = os.path.join(self.dir, "nosuch")
        ours, theirs = (run([POSTCONF, "-c", missing, "relayhost"]),
                        run([DEBIAN_POSTCONF, "-c", missing, "relayhost"]))
        self.assertEqual(ours.returncode, 1)
        self.assertEqual(theirs.returncode, 1)
        self.assertIn("postconf: fatal: open %s/main.cf: No such file or directory" % missing,
                      ours.stderr)
        # -d does not need main.cf.
        ours = run([POSTCONF, "-c", missing, "-d", "relay_domains_reject_code"])
        self.assertEqual((ours.returncode, ours.stdout), (0, "relay_domains_reject_code = 554\n"))
        for args in (["-d", "-n"], ["-m", "-d"], ["-q"]):
            ours = run([POSTCONF, "-c", self.dir] + args)
            self.assertEqual(ours.returncode, 1, args)
            self.assertIn("postconf: fatal: ", ours.stderr)

    def test_table_types(self):
        types = run([POSTCONF, "-m"]).stdout.split()
        self.assertEqual(types, sorted(types))
        for t in ("hash", "btree", "texthash", "inline", "static", "pcre", "cidr"):
            self.assertIn(t, types)
        theirs = run([DEBIAN_POSTCONF, "-c", self.dir, "-m"]).stdout.split()
        self.assertTrue(set(types) <= set(theirs), set(types) - set(theirs))

    def test_man_page_up_to_date(self):
        p = run([sys.executable, os.path.join(TOP, "mk", "gen-postconf-man.py"), "--check"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(TOP, "man", "man5", "postconf.5")) as f:
            page = f.read()
        for name, ours in table_params():
            self.assertIn("\\fB%s\\fR (" % name, page)
            if ours:
                self.assertRegex(page, r"\\fB%s\\fR \([^)]*\) \\fB\(ours\)" % re.escape(name))


class MasterCfTest(unittest.TestCase):
    """postconf -M, -F, -P and their edits, against Debian's postconf on
    Debian's stock master.cf plus a submission entry."""

    EXTRA = ("submission inet n - y - - smtpd\n  -o syslog_name=postfix/submission\n"
             "  -o smtpd_tls_security_level=encrypt\n")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_postconf_master.")
        self.addCleanup(shutil.rmtree, self.dir, True)
        with open(STOCK_MASTER_CF) as f:
            self.master = f.read() + self.EXTRA
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.7\n")

    def both(self, *args):
        """(status, stdout, stderr, master.cf after) for Debian's and ours."""
        out = []
        for prog in (DEBIAN_POSTCONF, POSTCONF):
            with open(os.path.join(self.dir, "master.cf"), "w") as f:
                f.write(self.master)
            p = run([prog, "-c", self.dir] + list(args))
            with open(os.path.join(self.dir, "master.cf")) as f:
                text = f.read()
            out.append((p.returncode, p.stdout, p.stderr.replace(prog, "postconf"), text))
        return out

    def test_show(self):
        for args in (["-M"], ["-Mf"], ["-M", "smtp"], ["-M", "relay/unix", "nosuch"],
                     ["-M", "smtp/*"], ["-F"], ["-F", "smtp/inet"], ["-F", "smtp/inet/command"],
                     ["-F", "smtp/inet/bogus"], ["-Fh", "relay/unix/command"], ["-P"],
                     ["-P", "submission/inet/syslog_name"], ["-PH"], ["-l"], ["-A"]):
            with self.subTest(args=args):
                theirs, ours = self.both(*args)
                self.assertEqual(ours, theirs)
        self.assertIn("relay/unix/syslog_name = postfix/$service_name\n", self.both("-P")[1][1])

    def test_edit(self):
        for args in (["-Pe", "submission/inet/syslog_name=postfix/sub2",
                      "submission/inet/milter_macro_daemon_name=ORIGINATING"],
                     ["-Fe", "submission/inet/chroot=n", "relay/unix/process_limit=5"],
                     ["-Me", "newsvc/unix=newsvc unix - n n - 1 pipe flags=R user=nobody "
                      "argv=/bin/cat ${recipient}"],
                     ["-Me", "smtp/inet=smtp inet n - y - - smtpd -o smtpd_sasl_auth_enable=no"],
                     ["-M", "smtp/inet=smtp inet n - n - - smtpd"],
                     ["-PX", "submission/inet/smtpd_tls_security_level"],
                     ["-M#", "scalemail-backend/unix"], ["-MX", "uucp/unix", "bsmtp"],
                     ["-Pe", "x/inet/y=z"], ["-Fe", "relay/unix/bogus=1"],
                     ["-Fe", "relay/unix/command=smtp -o a=b"], ["-Me", "bad"],
                     ["-Fe", "smtp/inet/wakeup=10", "novalue"], ["-MX"], ["-Me"]):
            with self.subTest(args=args):
                theirs, ours = self.both(*args)
                self.assertEqual(ours, theirs)

    def test_option_conflicts(self):
        for args in (["-n", "-X", "x"], ["-d", "-e", "x=y"], ["-m", "-e", "x=y"], ["-M", "-n"],
                     ["-M", "-d"], ["-P", "-n"], ["-F", "-d"], ["-M", "-m"], ["-l", "-e", "x=y"],
                     ["-M", "-P"], ["-M", "-F"], ["-A", "-M"], ["-h", "-H"], ["-l", "-m"],
                     ["-F", "-X", "x/y/z"], ["-n", "-e", "a=b"]):
            with self.subTest(args=args):
                theirs, ours = self.both(*args)
                self.assertEqual(ours, theirs)
                self.assertEqual(ours[0], 1)

    def test_sasl_types(self):
        # Debian's Postfix 3.7 lists "cyrus\ndovecot\n" and "cyrus\n".
        self.assertEqual(run([POSTCONF, "-a"]).stdout, "cyrus\ndovecot\n")
        self.assertEqual(run([POSTCONF, "-A"]).stdout, "cyrus\n")


if __name__ == "__main__":
    unittest.main()
