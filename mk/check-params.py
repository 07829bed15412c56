#!/usr/bin/python3
"""check-params.py - every parameter is read by symbol, or marked.

Usage: check-params.py [TOP]

1. Parameters by symbol. Every parameter of lib/global/mail_params.def has
   a VAR_<NAME> symbol (mk/gen-params-h.sh). Code in lib/ and the programs
   names a parameter through that symbol, never as a string literal, so
   that a misspelt name fails the build instead of panicking at run time.
   Each string literal (outside comments) that is the name of a parameter
   is reported. Exceptions are the places that deal in names as data,
   listed below with the reason.

2. No silent no-ops. A parameter without PARAM_NOIMPL must have a reader:
   its VAR_ symbol is used by code in lib/ or a program; or it is an lmtp_
   parameter whose smtp_ twin is read through smtp_param_*() (the LMTP
   client reads lmtp_X there); or it is <transport>_X whose default_X is
   read through mail_conf_transport_*(); or the default of a parameter
   that has a reader refers to it as $name; or it is marked PARAM_INSTALL
   (Postfix reads it only when installing). A parameter marked
   PARAM_NOIMPL must have no reader (unmark it when it is implemented).

Reports are "file:line: what is wrong"; the exit status is 1 when there is
one.
"""
import importlib.util
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
    # The comsat service in /etc/services, not the biff parameter.
    ("local/local_mailbox.c", "biff"),
    # $recipient_delimiter in forward_path: local(8)'s own value (the
    # delimiter found in the address), not the parameter.
    ("local/local_recipient.c", "recipient_delimiter"),
}

# Files that name parameters without reading them: not counted as readers.
NOT_READERS = {
    "lib/global/mail_conf_unsafe.c",	# the list of unsafe unimplemented settings
}

# (file, parameter): named there as data, not read (the other parameters
# that file names are read).
NAMED_NOT_READ = {
    # addr_class_rcpt_param() names each class's recipient table; whether
    # local_recipient_maps is checked is smtpd's business.
    ("lib/global/addr_class.c", "LOCAL_RECIPIENT_MAPS"),
}

LITERAL = re.compile(r'"([a-z0-9_]+)"')


def def_path(top):
    return os.path.join(top, "lib", "global", "mail_params.def")


def read_params(top):
    """The table as mk/gen-postconf-man.py reads it (one parser)."""
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "gen_postconf_man", os.path.join(here, "gen-postconf-man.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.read_params(def_path(top))


def param_names(top):
    return {p["name"] for p in read_params(top)}


def def_lines(top):
    """name -> line number in mail_params.def."""
    out = {}
    with open(def_path(top)) as f:
        for num, line in enumerate(f, 1):
            m = re.match(r'PARAM\(\w+, "([^"]+)"', line)
            if m:
                out[m.group(1)] = num
    return out


REFERENCE = re.compile(r"\$[{(]?([A-Za-z0-9_]+)")


def readers(top):
    """Names of the parameters that code reads, by the rules above."""
    params = read_params(top)
    names = {p["name"] for p in params}
    code = []
    for path in sources(top):
        rel = os.path.relpath(path, top)
        if rel in NOT_READERS:
            continue
        hidden = [p for (f, p) in NAMED_NOT_READ if f == rel]
        for _, line in code_lines(path):
            for p in hidden:
                line = line.replace("VAR_" + p, "")
            code.append(line)
    code = "\n".join(code)
    symbols = set(re.findall(r"VAR_([A-Z0-9_]+)", code))
    via_smtp = set()
    for m in re.finditer(r"smtp_param_\w+\(", code):
        depth, i = 1, m.end()
        while depth and i < len(code):
            depth += {"(": 1, ")": -1}.get(code[i], 0)
            i += 1
        via_smtp.update(re.findall(r"VAR_SMTP_([A-Z0-9_]+)", code[m.end():i]))
    via_transport = set(re.findall(r"mail_conf_transport_\w+\([^;]*?VAR_DEFAULT_([A-Z0-9_]+)",
                                   code, re.S))
    read = set()
    for name in names:
        upper = name.upper()
        if upper in symbols:
            read.add(name)
        elif name.startswith("lmtp_") and (upper[5:] in via_smtp or
                                          upper[5:].replace("LHLO", "HELO") in via_smtp):
            read.add(name)
        elif any(upper.endswith("_" + s) and not name.startswith("default_")
                 for s in via_transport):
            read.add(name)
    # Names that the defaults of read parameters refer to, to a fixed point.
    defaults = {p["name"]: p["default"] for p in params}
    todo = list(read)
    while todo:
        for ref in REFERENCE.findall(defaults.get(todo.pop(), "")):
            if ref in names and ref not in read:
                read.add(ref)
                todo.append(ref)
    return read


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
    errors = check_readers(top)
    for path in sources(top):
        rel = os.path.relpath(path, top)
        for num, line in code_lines(path):
            for m in LITERAL.finditer(line):
                name = m.group(1)
                if name in names and (rel, name) not in EXCEPTIONS:
                    errors.append('%s:%d: parameter "%s" named by a string; use VAR_%s'
                                  % (rel, num, name, name.upper()))
    return errors


def check_readers(top):
    errors = []
    read = readers(top)
    lines = def_lines(top)
    rel = os.path.relpath(def_path(top), top)
    for p in read_params(top):
        name = p["name"]
        if p["noimpl"] and name in read:
            errors.append("%s:%d: %s is marked PARAM_NOIMPL but code reads it: "
                          "remove the mark" % (rel, lines[name], name))
        elif not p["noimpl"] and not p.get("install") and name not in read:
            errors.append("%s:%d: %s has no reader: implement it or mark it PARAM_NOIMPL"
                          % (rel, lines[name], name))
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
