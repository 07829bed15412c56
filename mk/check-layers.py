#!/usr/bin/python3
"""check-layers.py - lib/ layers and programs include only what they may.

Usage: check-layers.py [TOP]    (default: the repository this script is in)

The layers of lib/, lowest first; a file of a layer may include headers of
its own layer and of the layers it is listed with under "uses":

    util     generic C                       uses nothing
    dict     lookup tables, lists            uses util
    dns      libldns lookups                 uses util
    tls      OpenSSL client and server       uses util
    global   mail-specific shared code       uses util dict dns tls
    smtpc    the SMTP/LMTP client engine     uses util dict dns tls global

Every project include in lib/ is written "layer/name.h" (a bare "name.h"
hides which layer it comes from, and is refused). A program (a top-level
folder with a NAME/NAME.c main) may include lib/ headers and its own, never
another program's. Tests and fuzz targets may include anything.

Exit 0 when every include is allowed, else 1 with one line per offence:
"file:line: what is wrong".
"""
import os
import re
import sys

USES = {
    "util": set(),
    "dict": {"util"},
    "dns": {"util"},
    "tls": {"util"},
    "global": {"util", "dict", "dns", "tls"},
    "smtpc": {"util", "dict", "dns", "tls", "global"},
}

# Headers the build writes under $(BUILD)/gen (mk/gen-params-h.sh).
GENERATED = {"global/mail_params.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def includes(path):
    with open(path, errors="replace") as f:
        for num, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield num, m.group(1)


def sources(folder):
    for name in sorted(os.listdir(folder)):
        if name.endswith((".c", ".h", ".def")):
            yield os.path.join(folder, name)


def check(top):
    errors = []
    lib = os.path.join(top, "lib")
    present = sorted(d for d in os.listdir(lib) if os.path.isdir(os.path.join(lib, d)))
    for layer in present:
        if layer not in USES:
            errors.append("lib/%s: folder is not a known layer (add it to mk/check-layers.py)"
                          % layer)
    for layer in present:
        if layer not in USES:
            continue
        for path in sources(os.path.join(lib, layer)):
            rel = os.path.relpath(path, top)
            for num, inc in includes(path):
                where = "%s:%d" % (rel, num)
                if "/" not in inc:
                    errors.append('%s: include "%s" does not name its layer '
                                  '(write "layer/%s")' % (where, inc, inc))
                    continue
                to = inc.split("/", 1)[0]
                if to not in USES:
                    errors.append('%s: include "%s" is not a lib/ layer '
                                  '(lib/ never includes a program)' % (where, inc))
                elif to != layer and to not in USES[layer]:
                    errors.append('%s: include "%s": layer %s may not use layer %s'
                                  % (where, inc, layer, to))
                elif inc not in GENERATED and not os.path.exists(os.path.join(lib, inc)):
                    errors.append('%s: include "%s": no such file' % (where, inc))

    programs = sorted(d for d in os.listdir(top)
                      if os.path.isfile(os.path.join(top, d, d + ".c")))
    own = {p: set(os.listdir(os.path.join(top, p))) for p in programs}
    for prog in programs:
        for path in sources(os.path.join(top, prog)):
            rel = os.path.relpath(path, top)
            for num, inc in includes(path):
                where = "%s:%d" % (rel, num)
                head = inc.split("/", 1)[0]
                if "/" in inc and head in USES:
                    continue
                if "/" not in inc and inc in own[prog]:
                    continue
                others = [p for p in programs if p != prog and
                          (head == p or ("/" not in inc and inc in own[p]))]
                if others:
                    errors.append('%s: include "%s" belongs to program %s '
                                  '(programs talk over sockets, not headers)'
                                  % (where, inc, others[0]))
                else:
                    errors.append('%s: include "%s" is neither a lib/ header nor %s\'s own'
                                  % (where, inc, prog))
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
