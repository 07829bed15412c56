#!/usr/bin/python3
"""gen-postconf-man.py - write man/man5/postconf.5 from lib/global/mail_params.def.

Names, types, defaults, units and bounds come from the table; short
descriptions (our own words) from mk/postconf-descriptions.txt, whose
names must all be in the table.

The parameter table is the one list of main.cf parameters; this page is
generated from it so that it can never disagree with postconf -d.

Usage: gen-postconf-man.py [--check] [--def FILE] [--out FILE]
  (no option)  rewrite man/man5/postconf.5
  --check      exit 1 (and say so) when the committed page is out of date
"""
import argparse
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Defaults that are not literals in the table.
MACRO_TEXT = {
    "DEF_COMMAND_DIR": "chosen when built (Makefile COMMAND_DIR, "
                       "$(PREFIX)/sbin by default)",
    "DEF_CONFIG_DIR": "chosen when built (Makefile CONFIG_DIR, /etc/postfix by default)",
    "DEF_DAEMON_DIR": "chosen when built (Makefile DAEMON_DIR, "
                      "$(PREFIX)/libexec/postfix by default)",
    "DEF_DATA_DIR": "chosen when built (Makefile DATA_DIR, /var/lib/postfix by default)",
    "DEF_QUEUE_DIR": "chosen when built (Makefile QUEUE_DIR, "
                     "/var/spool/postfix by default)",
    "DEF_MANPAGE_DIR": "chosen when built (Makefile MAN_DIR, $(PREFIX)/share/man by default)",
    "DEF_SENDMAIL_PATH": "chosen when built ($(COMMAND_DIR)/sendmail)",
    "DEF_MAILQ_PATH": "chosen when built ($(BIN_DIR)/mailq)",
    "DEF_NEWALIASES_PATH": "chosen when built ($(BIN_DIR)/newaliases)",
    "VERSION": "the version of this build",
}
RUNTIME_TEXT = {
    "myhostname": "the fully-qualified name of this host, found at run time",
    "mydomain": "$myhostname without its first label, found at run time",
    "mynetworks": "computed at run time from mynetworks_style and the "
                  "addresses of this host's interfaces",
    "process_id": "the process ID of the program that reads the parameter",
    "process_name": "the name of the program that reads the parameter",
}
TYPE_TEXT = {"STR": "string", "INT": "integer", "BOOL": "boolean",
             "TIME": "time"}
UNIT_TEXT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days",
             "w": "weeks"}

C_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def split_args(text):
    """Split the inside of PARAM(...) at top-level commas; decode strings."""
    args, cur, i = [], [], 0
    kinds = []          # per arg: 'str' when made of string literals
    is_str = False
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text):
                    cur.append(C_ESCAPES.get(text[i + 1], text[i + 1]))
                    i += 2
                    continue
                cur.append(text[i])
                i += 1
            is_str = True
            i += 1
            continue
        if ch == "'":
            end = text.index("'", i + 1)
            lit = text[i + 1:end]
            cur.append(C_ESCAPES.get(lit[1], lit[1]) if lit.startswith("\\") else lit)
            i = end + 1
            continue
        if ch == ",":
            args.append("".join(cur).strip() if not is_str else "".join(cur))
            kinds.append(is_str)
            cur, is_str = [], False
            i += 1
            continue
        if ch.isspace():
            i += 1
            continue
        cur.append(ch)
        i += 1
    args.append("".join(cur).strip() if not is_str else "".join(cur))
    kinds.append(is_str)
    return args, kinds


def read_params(path):
    params = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("PARAM("):
                continue
            inner = line[len("PARAM("):line.rindex(")")]
            args, kinds = split_args(inner)
            if len(args) != 7:
                sys.exit("%s: cannot read: %s" % (path, line))
            ptype, name, default, unit, pmin, pmax, flags = args
            params.append({
                "type": ptype, "name": name, "default": default,
                "default_is_literal": kinds[2],
                "unit": "" if unit == "0" else unit,
                "min": pmin, "max": pmax, "ours": "PARAM_OURS" in flags,
                "noimpl": "PARAM_NOIMPL" in flags,
                "install": "PARAM_INSTALL" in flags,
            })
    return params


def read_descriptions(path, params):
    """name -> text from mk/postconf-descriptions.txt."""
    known = {p["name"] for p in params}
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, text = line.partition("\t") if "\t" in line else line.partition(" ")
            name, text = name.strip(), text.strip()
            if name not in known:
                sys.exit("%s, line %d: %s is not in the parameter table" % (path, lineno, name))
            if not text:
                sys.exit("%s, line %d: no text for %s" % (path, lineno, name))
            out[name] = text
    return out


def roff(text):
    """Escape text for a roff line."""
    text = text.replace("\\", "\\e")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def default_text(p):
    if p["default_is_literal"]:
        return None
    if p["default"] == "RUNTIME":
        return RUNTIME_TEXT.get(p["name"], "computed at run time")
    return MACRO_TEXT.get(p["default"], p["default"])


HEADER = r""".\" Generated by mk/gen-postconf-man.py from lib/global/mail_params.def.
.\" Do not edit: change the table or the script, then run the script.
.TH POSTCONF 5
.SH NAME
postconf \- main.cf parameters of the mail relay
.SH SYNOPSIS
.B postconf \-d
.br
.B postconf
.I name ...
.SH DESCRIPTION
The file \fBmain.cf\fR in the configuration directory holds the
parameters listed below, with the names, defaults and meanings of
Postfix 3.7, so that an existing Postfix \fBmain.cf\fR works
unchanged. This page is generated from the one parameter table of the
system, the same table that \fBpostconf \-d\fR prints.
.SS Syntax
.IP \(bu 3
One parameter per logical line: \fIname\fR \fB=\fR \fIvalue\fR. White
space around the \fB=\fR and at the end of the line is ignored.
.IP \(bu 3
A line that starts with white space continues the previous logical
line. A line whose first non-blank character is \fB#\fR is a comment;
a \fB#\fR elsewhere is part of the value.
.IP \(bu 3
When a name is given twice, the last value wins (with a warning).
.IP \(bu 3
Values are expanded when a program uses them: \fB$name\fR,
\fB${name}\fR and \fB$(name)\fR are replaced by the value of that
parameter (an unknown name gives the empty string);
\fB${name?text}\fR gives \fItext\fR when \fB$name\fR is not empty,
\fB${name:text}\fR when it is empty, \fB${name?{t1}:{t2}}\fR one or
the other; \fB${{a} == {b} ? {t1} : {t2}}\fR compares (also \fB!=\fR,
\fB<\fR, \fB<=\fR, \fB>\fR, \fB>=\fR, numeric when both sides are
numbers, and \fB<level\fR and friends for compatibility levels);
\fB$$\fR is a dollar sign.
.SS Value types
.TP
.B string
Text. Lists are separated by commas and/or white space; in lists of
domains or networks an item may also be \fB/file/name\fR (the file's
contents), \fBtype:table\fR (matched when the key is in the table) or
\fB!\fIitem\fR (negation; the first item that matches decides).
.TP
.B integer
A decimal number, within the bounds shown.
.TP
.B boolean
\fByes\fR or \fBno\fR.
.TP
.B time
A number with an optional unit: \fBs\fR (seconds), \fBm\fR (minutes),
\fBh\fR (hours), \fBd\fR (days), \fBw\fR (weeks). A number without a
unit is read in the parameter's own default unit, shown below.
.SS Compatibility level
Some defaults depend on \fBcompatibility_level\fR, as in Postfix: for
example \fBrelay_domains\fR is \fB$mydestination\fR below level 2 and
empty from level 2 on, and \fBsmtpd_relay_restrictions\fR is empty
below level 1. These defaults are shown below with their
\fB${{$compatibility_level} <level {N} ? ... }\fR form.
.SS Parameters of our own
Parameters marked \fB(ours)\fR do not exist in Postfix; Postfix
ignores them with an "unused parameter" warning.
.SH PARAMETERS
"""

NOIMPL_HEAD = r""".SH NOT IMPLEMENTED
These Postfix 3.7 parameters are not implemented by this mail system.
They are not listed by \fBpostconf \-d\fR, and when \fBmain.cf\fR or a
\fB\-o\fR override in \fBmaster.cf\fR sets one, \fBmaster\fR(8) logs, at
start and at each reload,
.PP
.nf
warning: main.cf: parameter \fIname\fR is not implemented by this mail system; it has no effect
.fi
.PP
A setting that would weaken security if it were ignored
(\fBsmtp_sasl_path\fR set to anything) is refused instead:
\fBmaster\fR(8) does not start with it, and a reload with it keeps the
old configuration.
.PP
"""

FOOTER = r""".SH SEE ALSO
postconf(1), master(8), smtpd(8), qmgr(8), smtp(8), postmap(1)
"""


def read_postfix_names(path):
    """Postfix's parameters that the table lacks (global/postfix_names.def)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return re.findall(r'^POSTFIX_NAME\("([^"]+)"\)', f.read(), re.M)


def render(params, descriptions, postfix_names=()):
    out = [HEADER]
    for p in sorted(params, key=lambda p: p["name"]):
        if p["noimpl"]:
            continue
        what = [TYPE_TEXT.get(p["type"], p["type"].lower())]
        if p["type"] == "TIME" and p["unit"]:
            what.append("default unit: " + UNIT_TEXT.get(p["unit"], p["unit"]))
        if p["min"] not in ("0", ""):
            what.append("minimum " + p["min"])
        if p["max"] not in ("0", ""):
            what.append("maximum " + p["max"])
        title = "\\fB%s\\fR (%s)" % (roff(p["name"]), ", ".join(what))
        if p["ours"]:
            title += " \\fB(ours)\\fR"
        out.append(".TP\n%s\n" % title)
        if p["name"] in descriptions:
            out.append("%s\n.br\n" % roff(descriptions[p["name"]]))
        special = default_text(p)
        if special is not None:
            out.append("Default: %s.\n" % roff(special))
        elif p["default"] == "":
            out.append("Default: empty.\n")
        else:
            out.append("Default:\n.nf\n\\&%s\n.fi\n" % roff(p["default"]))
        if p["ours"]:
            out.append(".br\nThis parameter is ours: Postfix does not have it.\n")
        if p["install"]:
            out.append(".br\nAn installation parameter: Postfix reads it only when it is "
                       "installed (postfix-install); it has no effect on the running "
                       "system, there as here (make install takes the Makefile's "
                       "directories).\n")
    out.append(NOIMPL_HEAD)
    names = sorted({p["name"] for p in params if p["noimpl"]} | set(postfix_names))
    out.append(".nf\n")
    for name in names:
        out.append("\\&%s\n" % roff(name))
    out.append(".fi\n")
    out.append(FOOTER)
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--def", dest="deffile",
                    default=os.path.join(TOP, "lib", "global", "mail_params.def"))
    ap.add_argument("--out", default=os.path.join(TOP, "man", "man5", "postconf.5"))
    ap.add_argument("--descriptions",
                    default=os.path.join(TOP, "mk", "postconf-descriptions.txt"))
    args = ap.parse_args()
    params = read_params(args.deffile)
    names = read_postfix_names(os.path.join(os.path.dirname(args.deffile), "postfix_names.def"))
    text = render(params, read_descriptions(args.descriptions, params), names)
    if args.check:
        try:
            with open(args.out) as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print("%s is out of date with %s: run mk/gen-postconf-man.py"
                  % (args.out, args.deffile))
            return 1
        return 0
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
