"""test_noimpl.py - no silent no-ops: a setting works, or is refused aloud.

Every parameter of the table has a reader or is marked PARAM_NOIMPL
(mk/check-params.py); postconf -d lists only what works; master logs each
unimplemented Postfix parameter that main.cf or a master.cf -o sets, at
start and at reload; a setting whose absence would weaken security keeps
master from starting (and a reload with it keeps the old configuration).
"""
import os
import re
import smtplib
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from mta import MTA, SBIN, wait_for

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKER = os.path.join(TOP, "mk", "check-params.py")
DEF = os.path.join(TOP, "lib", "global", "mail_params.def")
NAMES_DEF = os.path.join(TOP, "lib", "global", "postfix_names.def")
POSTCONF = os.path.join(SBIN, "postconf")
DEBIAN_POSTCONF = "/usr/sbin/postconf"

NOIMPL_WARNING = ("warning: main.cf: parameter %s is not implemented by this mail "
                  "system; it has no effect")


def table():
    """name -> flags text, for each PARAM line of the table."""
    out = {}
    with open(DEF) as f:
        for line in f:
            m = re.match(r'^PARAM\(\w+, "([^"]+)", .*, ([^,()]+)\)$', line.strip())
            if m:
                out[m.group(1)] = m.group(2)
    return out


def postfix_only_names():
    with open(NAMES_DEF) as f:
        return re.findall(r'^POSTFIX_NAME\("([^"]+)"\)', f.read(), re.M)


def run(cmd, **kw):
    env = dict(os.environ)
    env.pop("MAIL_CONFIG", None)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, **kw)


class ReaderCheck(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="noimpl-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def copy_tree(self):
        top = os.path.join(self.tmp, "top")
        os.mkdir(top)
        for name in os.listdir(TOP):
            src = os.path.join(TOP, name)
            if name in ("lib", "mk") or os.path.isfile(os.path.join(src, name + ".c")):
                shutil.copytree(src, os.path.join(top, name))
        return top

    def check(self, top):
        return run([sys.executable, os.path.join(top, "mk", "check-params.py"), top])

    def test_every_parameter_has_a_reader_or_is_marked(self):
        p = self.check(TOP)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_planted_unread_parameter_fails(self):
        top = self.copy_tree()
        path = os.path.join(top, "lib", "global", "mail_params.def")
        with open(path, "a") as f:
            f.write('PARAM(BOOL, "planted_knob", "no", 0, 0, 0, 0)\n')
        p = self.check(top)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stdout, r"mail_params\.def:\d+: planted_knob has no reader: "
                                   r"implement it or mark it PARAM_NOIMPL")

    def test_marked_parameter_with_a_reader_fails(self):
        top = self.copy_tree()
        path = os.path.join(top, "lib", "global", "mail_params.def")
        with open(path) as f:
            text = f.read()
        old = 'PARAM(INT, "hash_queue_depth", "1", 0, 1, 16, 0)'
        self.assertIn(old, text)
        text = text.replace(old, old[:-2] + "PARAM_NOIMPL)")
        with open(path, "w") as f:
            f.write(text)
        p = self.check(top)
        self.assertEqual(p.returncode, 1)
        self.assertIn("hash_queue_depth is marked PARAM_NOIMPL but code reads it", p.stdout)


class PostconfLists(unittest.TestCase):
    def test_postconf_d_lists_what_works(self):
        implemented = [n for n, flags in table().items() if "PARAM_NOIMPL" not in flags]
        p = run([POSTCONF, "-d"])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), len(implemented))
        shown = {line.split(" =")[0] for line in lines}
        for name, flags in table().items():
            self.assertEqual(name in shown, "PARAM_NOIMPL" not in flags, name)

    def test_postfix_names_cover_debian_postconf(self):
        """Every parameter of Postfix 3.7 is ours or known as not ours."""
        # An empty configuration: no per-service names from a master.cf.
        empty = tempfile.mkdtemp(prefix="noimpl-empty-")
        self.addCleanup(shutil.rmtree, empty)
        for name in ("main.cf", "master.cf"):
            open(os.path.join(empty, name), "w").close()
        p = run([DEBIAN_POSTCONF, "-c", empty, "-d"])
        self.assertEqual(p.returncode, 0, p.stderr)
        debian = {line.split(" =")[0] for line in p.stdout.splitlines()}
        known = set(table()) | set(postfix_only_names())
        self.assertEqual(sorted(debian - known), [])

    def test_postconf_names_an_unimplemented_parameter(self):
        tmp = tempfile.mkdtemp(prefix="noimpl-pc-")
        self.addCleanup(shutil.rmtree, tmp)
        with open(os.path.join(tmp, "main.cf"), "w") as f:
            f.write("qmgr_fudge_factor = 100\npostscreen_command_filter = pcre:/x\n")
        p = run([POSTCONF, "-c", tmp, "qmgr_fudge_factor"])
        self.assertEqual(p.stdout, "")
        self.assertIn("postconf: warning: qmgr_fudge_factor: parameter is not implemented by "
                      "this mail system", p.stderr)
        p = run([POSTCONF, "-c", tmp, "-n"])
        self.assertIn("postconf: " + NOIMPL_WARNING % "qmgr_fudge_factor", p.stderr)
        self.assertIn("postconf: " + NOIMPL_WARNING % "postscreen_command_filter", p.stderr)


class MasterWarnings(unittest.TestCase):
    # Two marked table parameters and three Postfix parameters the table
    # does not have at all.
    FIVE = {
        "qmgr_fudge_factor": "100",
        "smtp_pix_workarounds": "disable_esmtp",
        "postscreen_command_filter": "pcre:/x",
        "virtual_mailbox_limit": "1000000",
        "tlsproxy_enforce_tls": "yes",
    }

    def noimpl_lines(self, m):
        return [line for line in m.log().splitlines()
                if "is not implemented by this mail system" in line]

    def test_five_unimplemented_parameters_five_warnings(self):
        params = {name: value for name, value in self.FIVE.items()
                  if name in table() or name in postfix_only_names()}
        self.assertEqual(len(params), 5)
        with MTA(main_cf=params) as m:
            wait_for(lambda: len(self.noimpl_lines(m)) >= 5, 10, what="five warnings")
            lines = self.noimpl_lines(m)
            self.assertEqual(len(lines), 5, "\n".join(lines))
            for name in params:
                self.assertTrue(any(line.endswith("postfix/master[%d]: " % m.proc.pid
                                                  + NOIMPL_WARNING % name)
                                    for line in lines), name)
            # Again at each reload, once per name.
            m.reload()
            wait_for(lambda: len(self.noimpl_lines(m)) >= 10, 10, what="warnings at reload")
            time.sleep(0.5)
            self.assertEqual(len(self.noimpl_lines(m)), 10)

    def test_master_cf_override(self):
        extra = ("smtp2 unix - - n - - smtpd\n"
                 "  -o qmgr_clog_warn_time=600s\n"
                 "  -o smtpd_tls_security_level=may\n")
        with MTA(extra_master_cf=extra) as m:
            m.wait_log(re.escape("warning: master.cf: service smtp2: parameter "
                                 "qmgr_clog_warn_time is not implemented by "
                                 "this mail system; it has no effect"))
            self.assertNotIn("smtpd_tls_security_level is not implemented", m.log())

    def test_one_value_boolean(self):
        """smtputf8_enable works as no (Postfix 3.7 with smtputf8_enable =
        no: EHLO without SMTPUTF8, "555 5.5.4 Unsupported option:
        SMTPUTF8"); no is accepted quietly, yes is logged."""
        with MTA(main_cf={"smtputf8_enable": "no"}) as m:
            time.sleep(0.5)
            self.assertNotIn("smtputf8_enable", m.log())
        extra = "smtp2 unix - - n - - smtpd\n  -o smtputf8_enable=yes\n"
        with MTA(main_cf={"smtputf8_enable": "yes"}, extra_master_cf=extra) as m:
            m.wait_log(re.escape("warning: main.cf: parameter smtputf8_enable = yes is not "
                                 "implemented by this mail system; it works as "
                                 "smtputf8_enable = no"))
            m.wait_log(re.escape("warning: master.cf: service smtp2: parameter "
                                 "smtputf8_enable = yes is not implemented by this mail "
                                 "system; it works as smtputf8_enable = no"))
            with smtplib.SMTP(m.addr, m.smtp_port, timeout=10) as c:
                c.ehlo("x")
                self.assertNotIn("smtputf8", c.esmtp_features)
                self.assertEqual(c.docmd("MAIL FROM:<a@b.test> SMTPUTF8"),
                                 (555, b"5.5.4 Unsupported option: SMTPUTF8"))
        # A word: smtp_address_verify_target works as rcpt.
        with MTA(main_cf={"smtp_address_verify_target": "data",
                          "smtp_cname_overrides_servername": "no"}) as m:
            m.wait_log(re.escape("warning: main.cf: parameter smtp_address_verify_target = "
                                 "data is not implemented by this mail system; it works as "
                                 "smtp_address_verify_target = rcpt"))
            self.assertNotIn("smtp_cname_overrides_servername", m.log())


class UnsafeSettings(unittest.TestCase):
    def test_implemented_settings_are_accepted(self):
        # smtpd has AUTH and reject_unlisted_sender now: these start.
        with MTA(main_cf={"smtpd_tls_auth_only": "yes",
                          "smtpd_reject_unlisted_sender": "yes"}) as m:
            self.assertIsNone(m.proc.poll())
            self.assertNotIn("would weaken security", m.stderr() + m.log())

    def test_master_refuses_to_start(self):
        with MTA(main_cf={"smtp_sasl_path": "/etc/postfix/sasl"}, start=False) as m:
            m.start(wait_smtp=False)
            m.proc.wait(20)
            self.assertNotEqual(m.proc.returncode, 0)
            want = ("fatal: main.cf: parameter smtp_sasl_path = /etc/postfix/sasl is not "
                    "implemented by this mail system, and ignoring it would weaken security")
            self.assertIn(want, m.stderr() + m.log())
            m.proc = None

    def test_master_cf_override_refused(self):
        extra = ("smtp2 unix - - n - - smtp\n"
                 "  -o smtp_sasl_path=/etc/postfix/sasl\n")
        with MTA(extra_master_cf=extra, start=False) as m:
            m.start(wait_smtp=False)
            m.proc.wait(20)
            self.assertNotEqual(m.proc.returncode, 0)
            self.assertIn("fatal: master.cf: service smtp2: parameter "
                          "smtp_sasl_path = /etc/postfix/sasl is not "
                          "implemented by this mail system, and ignoring it would "
                          "weaken security", m.stderr() + m.log())
            m.proc = None

    def test_reload_keeps_old_configuration(self):
        with MTA() as m:
            m.set_main(smtp_sasl_path="/etc/postfix/sasl")
            m.reload()
            m.wait_log(r"warning: main\.cf: parameter smtp_sasl_path = /etc/postfix/sasl is "
                       r"not implemented by this mail system, and ignoring it would weaken "
                       r"security; keeping the old configuration")
            time.sleep(0.5)
            self.assertIsNone(m.proc.poll())
            self.assertNotIn("reload -- version", m.log())
            # Empty (the default) asks for nothing we do not do: accepted.
            m.set_main(smtp_sasl_path="")
            m.reload()
            m.wait_log(r"reload -- version")


class MaillogPrefixes(unittest.TestCase):
    def test_maillog_file_outside_prefixes(self):
        """Debian's Postfix: postfix/postlog: fatal: maillog_file value
        '/tmp/x/maillog' does not match any prefix in maillog_file_prefixes"""
        with MTA(start=False) as m:
            m.set_main(maillog_file_prefixes="/var, /dev/stdout")
            m.start(wait_smtp=False)
            m.proc.wait(20)
            self.assertNotEqual(m.proc.returncode, 0)
            self.assertIn("fatal: maillog_file value '%s' does not match any prefix in "
                          "maillog_file_prefixes" % m.logfile, m.stderr())
            m.proc = None


if __name__ == "__main__":
    unittest.main()
