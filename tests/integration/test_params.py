"""test_params.py - parameters are named by symbols the compiler checks.

mk/check-params.py finds parameter names written as strings in lib/ and
the programs; a misspelt VAR_ name does not compile.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKER = os.path.join(TOP, "mk", "check-params.py")
BUILD = os.environ.get("MTA_BUILD", os.path.join(TOP, "build"))


class ParamsBySymbol(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="params-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_tree_names_parameters_by_symbol(self):
        p = subprocess.run([sys.executable, CHECKER, TOP], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_planted_string_name_fails(self):
        top = os.path.join(self.tmp, "top")
        shutil.copytree(os.path.join(TOP, "lib"), os.path.join(top, "lib"))
        shutil.copytree(os.path.join(TOP, "flush"), os.path.join(top, "flush"))
        path = os.path.join(top, "flush", "flush.c")
        with open(path, "a") as f:
            f.write('\nstatic const char *planted(void) { return (mail_conf_str("relay_domains")); }\n')
        p = subprocess.run([sys.executable, CHECKER, top], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stdout, r'flush/flush\.c:\d+: parameter "relay_domains" named by a '
                         r'string; use VAR_RELAY_DOMAINS')

    def compile(self, body):
        src = os.path.join(self.tmp, "t.c")
        with open(src, "w") as f:
            f.write('#include "global/mail_conf.h"\n'
                    'const char *t(void) { return (%s); }\n' % body)
        return subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror", "-c",
                               "-I" + os.path.join(TOP, "lib"),
                               "-I" + os.path.join(BUILD, "gen"),
                               "-o", os.path.join(self.tmp, "t.o"), src],
                              capture_output=True, text=True)

    def test_symbol_compiles(self):
        p = self.compile("mail_conf_str(VAR_RELAY_DOMAINS)")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_misspelt_symbol_fails_the_build(self):
        p = self.compile("mail_conf_str(VAR_RELAY_DOMIANS)")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("VAR_RELAY_DOMIANS", p.stderr)


if __name__ == "__main__":
    unittest.main()
