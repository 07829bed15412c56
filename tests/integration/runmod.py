#!/usr/bin/python3
"""runmod.py - run one integration test module, print PASS:/FAIL: per test."""
import importlib.util
import os
import sys
import unittest


class Result(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        print("PASS: %s" % test.id(), flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        print("FAIL: %s\n%s" % (test.id(), self._exc_info_to_string(err, test)), flush=True)

    def addError(self, test, err):
        super().addError(test, err)
        print("FAIL: %s (error)\n%s" % (test.id(), self._exc_info_to_string(err, test)), flush=True)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print("FAIL: %s (skipped: %s)" % (test.id(), reason), flush=True)


def main():
    path = sys.argv[1]
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location(
        os.path.splitext(os.path.basename(path))[0], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    runner = unittest.TextTestRunner(stream=sys.stderr, resultclass=Result, verbosity=0)
    res = runner.run(suite)
    return 0 if res.wasSuccessful() and not res.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
