#!/usr/bin/python3
"""check-params.py - programs name main.cf parameters by symbol.

Usage: check-params.py [TOP]

Every parameter of lib/global/mail_params.def has a VAR_<NAME> symbol
(mk/gen-params-h.sh). Code in lib/ and the programs names a parameter
through that symbol, never as a string literal, so that a misspelt name
fails the build instead of panicking at run time. This script reports each
string literal (outside comments) that is the name of a parameter, as
"file:line: what is wrong", and exits 1 when there is one.

Exceptions are the places that deal in names as data, listed below with
the reason.
"""
import os
import re
import sys

# (file, literal): why the literal is data there, not a parameter read.
EXCEPTIONS = {
    # A per-transport suffix ("relay_initial_destination_concurrency")
    # that is also the name of a parameter.
    ("master/master_params.c", "initial_destination_concurrency"),
    ("postconf/postconf.c", "initial_destination_concurrency"),
    ("postconf/postconf.c", "extra_recipient_limit"),
}

LITERAL = re.compile(r'"([a-z0-9_]+)"')


def param_names(top):
    with open(os.path.join(top, "lib", "global", "mail_params.def")) as f:
        return set(re.findall(r'^PARAM\(\w+, "([^"]+)"', f.read(), re.M))


def code_lines(path):
    """(number, text) of each line with comments blanked out."""
    with open(path, errors="replace") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text,
                  flags=re.S)
    for num, line in enumerate(text.split("\n"), 1):
        yield num, line.split("//")[0]


def sources(top):
    for folder in sorted(os.listdir(top)):
        base = os.path.join(top, folder)
        is_program = os.path.isfile(os.path.join(base, folder + ".c"))
        if folder != "lib" and not is_program:
            continue
        for dirpath, _, files in os.walk(base):
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    yield os.path.join(dirpath, name)


def check(top):
    names = param_names(top)
    errors = []
    for path in sources(top):
        rel = os.path.relpath(path, top)
        for num, line in code_lines(path):
            for m in LITERAL.finditer(line):
                name = m.group(1)
                if name in names and (rel, name) not in EXCEPTIONS:
                    errors.append('%s:%d: parameter "%s" named by a string; use VAR_%s'
                                  % (rel, num, name, name.upper()))
    return errors


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    errors = check(top)
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
