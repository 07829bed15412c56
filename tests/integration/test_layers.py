"""test_layers.py - the layers of lib/ and the programs include only what
they may (mk/check-layers.py), and the checker catches a planted offence.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKER = os.path.join(TOP, "mk", "check-layers.py")


def run_checker(top):
    return subprocess.run([sys.executable, CHECKER, top], capture_output=True,
                          text=True, timeout=60)


class Layers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="layers-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def copy_tree(self):
        """lib/ and the program folders, without build output or tests."""
        top = os.path.join(self.tmp, "top")
        os.mkdir(top)
        for name in os.listdir(TOP):
            src = os.path.join(TOP, name)
            if name == "lib" or os.path.isfile(os.path.join(src, name + ".c")):
                shutil.copytree(src, os.path.join(top, name))
        return top

    def plant(self, path, line):
        with open(path) as f:
            text = f.read()
        # After the first include, so the line number is known.
        head, sep, tail = text.partition("#include")
        first, nl, rest = tail.partition("\n")
        with open(path, "w") as f:
            f.write(head + sep + first + nl + line + "\n" + rest)
        return (head + sep + first + nl).count("\n") + 1

    def test_tree_is_clean(self):
        p = run_checker(TOP)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")

    def test_upward_include_fails(self):
        top = self.copy_tree()
        num = self.plant(os.path.join(top, "lib/util/argv.c"),
                         '#include "global/mail_conf.h"')
        p = run_checker(top)
        self.assertEqual(p.returncode, 1)
        self.assertIn('lib/util/argv.c:%d: include "global/mail_conf.h": '
                      'layer util may not use layer global' % num, p.stdout)

    def test_peer_layers_are_apart(self):
        top = self.copy_tree()
        self.plant(os.path.join(top, "lib/dns/dns.c"), '#include "tls/tls_io.h"')
        p = run_checker(top)
        self.assertEqual(p.returncode, 1)
        self.assertIn("layer dns may not use layer tls", p.stdout)

    def test_include_without_layer_fails(self):
        top = self.copy_tree()
        self.plant(os.path.join(top, "lib/global/resolve.c"), '#include "vstring.h"')
        p = run_checker(top)
        self.assertEqual(p.returncode, 1)
        self.assertIn('include "vstring.h" does not name its layer', p.stdout)

    def test_lib_never_includes_a_program(self):
        top = self.copy_tree()
        self.plant(os.path.join(top, "lib/smtpc/smtp_client.c"), '#include "smtpd/smtpd.h"')
        p = run_checker(top)
        self.assertEqual(p.returncode, 1)
        self.assertIn("lib/ never includes a program", p.stdout)

    def test_program_never_includes_another(self):
        top = self.copy_tree()
        self.plant(os.path.join(top, "qmgr/qmgr.c"), '#include "smtpd.h"')
        p = run_checker(top)
        self.assertEqual(p.returncode, 1)
        self.assertIn('include "smtpd.h" belongs to program smtpd', p.stdout)

    def test_libraries_are_built_per_layer(self):
        """One archive per layer, linked from the top layer down."""
        build = os.environ.get("MTA_BUILD", os.path.join(TOP, "build"))
        for layer in ("util", "dict", "dns", "tls", "global", "smtpc"):
            self.assertTrue(os.path.exists(os.path.join(build, "lib", "lib%s.a" % layer)),
                            layer)


if __name__ == "__main__":
    unittest.main()
