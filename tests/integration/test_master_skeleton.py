"""test_master_skeleton - the mail_server skeletons in stand-alone mode (-S).

Runs the small test daemon (build/tests/daemon/testd) without master:
command line, main.cf, -o overrides, privilege drop, trigger mode.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

from mta import BUILD

TESTD = os.path.join(BUILD, "tests", "daemon", "testd")


class SkeletonStandAlone(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mta-skel-")
        os.chmod(self.dir, 0o755)
        self.queue = os.path.join(self.dir, "queue")
        os.makedirs(self.queue)
        os.chmod(self.queue, 0o777)
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write("queue_directory = %s\nmail_owner = nobody\nfoo = bar\n"
                    "greeting = hello $foo\n" % self.queue)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_testd(self, args, text):
        env = dict(os.environ, MAIL_CONFIG=self.dir)
        return subprocess.run([TESTD, "-S"] + args, input=text, capture_output=True,
                              text=True, env=env, timeout=30)

    def test_dialogue_and_overrides(self):
        p = self.run_testd(["-n", "relay", "-o", "foo=baz", "-o", " other = a b "],
                           "PARAM greeting\nPARAM service_name\nPARAM other\nQUIT\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertTrue(lines[0].startswith("220 testd service=relay "), lines)
        self.assertEqual(lines[1:], ["250 hello baz", "250 relay", "250 a b", "221 bye"])

    def test_drops_to_mail_owner_as_root(self):
        if os.getuid() != 0:
            self.skipTest("needs root")
        nobody = pwd.getpwnam("nobody")
        p = self.run_testd([], "QUIT\n")
        self.assertIn("uid=%d gid=%d" % (nobody.pw_uid, nobody.pw_gid), p.stdout)
        p = self.run_testd(["-u"], "QUIT\n")
        self.assertIn("uid=0 gid=0", p.stdout)

    def test_unknown_mail_owner_is_fatal(self):
        if os.getuid() != 0:
            self.skipTest("needs root")
        p = self.run_testd(["-o", "mail_owner=no_such_user_xyz"], "QUIT\n")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("parameter mail_owner: unknown user name value: no_such_user_xyz",
                      p.stderr)

    def test_trigger_mode(self):
        out = os.path.join(self.queue, "triggers")
        p = self.run_testd(["-u", "-n", "qmgr", "trigger", out], "W")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), "qmgr W\n")

    def test_no_master_no_listener(self):
        env = dict(os.environ, MAIL_CONFIG=self.dir)
        p = subprocess.run([TESTD], capture_output=True, text=True, env=env, timeout=30,
                           stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no listening socket", p.stderr)


if __name__ == "__main__":
    unittest.main()
