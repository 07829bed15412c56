"""test_tables_compat.py - regexp:, unix:, proxy:, nis:, lmdb:, the table
types we do not support, and main.cf macro loops, against Debian's Postfix.

Every comparison runs Debian's program and ours on the same input and
expects the same standard output, standard error and exit status, except
where this mail system is stricter on purpose (DESIGN.md section 8: a
regular expression that does not compile makes the whole table fail,
where Postfix 3.7 warns and skips the rule; proxy: reads the table
directly, where Postfix's postmap needs a running proxymap service).
"""
import os
import random
import shutil
import subprocess
import tempfile
import unittest

from mta import LIBEXEC, SBIN
from smtpd_util import Client, smtpd_mta
from test_postmap_compat import OURS, POSTFIX, PCRE_SOURCE, PCRE_KEYS, PostmapCase

POSTCONF = os.path.join(SBIN, "postconf")
DEBIAN_POSTCONF = "/usr/sbin/postconf"
MASTER = os.path.join(LIBEXEC, "master")

# regexp_table(5): flags i (case), m (REG_NEWLINE), x (REG_EXTENDED, off
# gives basic expressions), $1..$11, if/endif, negation, every rule that
# Postfix skips with a warning, comments and continuation lines.
REGEXP_SOURCE = r"""
# comment
/^(a+)(b*)@(.*)$/ ok $1 ${2} $(3) $$ end
/^CaSe$/i exact
/^bre\{2\}$/x bre
/^ere{2}$/ ere
/^nl$/m multi
/^dot.x$/ dotnl
/^(x)(y)(z)(1)(2)(3)(4)(5)(6)(7)(8)$/ $11$10$1
/^(a)|(b)$/ alt[$1][$2]
|^p\|q$| pipe
/^sp ace$/ space
/[[:digit:]]+x/ digits
/^(q)(r)?$/ [$2]
/^zero(.)/ $0
/^two(.)/ $2
!/^neg(.)/ neg $1
/^novalue/
/^s/s flag-s
/^A/A flag-A
/^lone/ a$
/^name/ $x
/^trunc/ ${1
if /^if/
/^if(.*)/ in[$1]
if !/^ifx/
/./ not-ifx
endif
endif
endif
if /^ext/ extra
endif extra
/multi
  line/ ml
/unterminated x
  # indented comment
"""

REGEXP_KEYS = ["aab@x.com", "AAB@X.COM", "CaSe", "case", "breee", "bree", "eree",
               "nl", "x\nnl", "dot\nx", "dotax", "xyz12345678", "a", "b", "p|q",
               "sp ace", "12x", "q", "qr", "QR", "zero1", "two1", "neg1", "zz",
               "novalue", "s", "A", "lone", "name", "trunc", "ifa", "ifx", "ext",
               "multi  line", "", "\u00e9", "x"]


class RegexpTables(PostmapCase):
    """regexp: gives the same answers and warnings as Postfix."""

    def compare(self, source, keys):
        src = self.write("rules", source)
        table = "regexp:" + src
        self.assertSameMany([["-q", key, table] for key in keys])
        self.assertSame("-q", "-", table, stdin="\n".join(
            k for k in keys if "\n" not in k).encode() + b"\n")

    def test_regexp_rules(self):
        self.compare(REGEXP_SOURCE, REGEXP_KEYS)

    def test_pcre_rules_read_as_regexp(self):
        self.compare(PCRE_SOURCE, PCRE_KEYS)

    def test_generated_regexp(self):
        """Random POSIX rules (flags, groups, $n forms, if/endif) and keys."""
        for seed in range(4):
            r = random.Random(seed)
            atoms = ["a", "b", ".", "(a+)", "(b)?", "[a-c]", "[[:digit:]]", "^", "$",
                     "(x|y)", "\\.", "@", "(.*)", "A", "\u00e9", "[[:space:]]", "\\/",
                     "#", "b{2}", "a*"]
            flags = ["", "i", "m", "x", "ix", "mx", "s", "q"]
            lines, depth = [], 0
            for i in range(60):
                pat = "".join(r.choice(atoms) for _ in range(r.randint(1, 5)))
                res = r.choice(["r%d" % i, "r%d $1" % i, "r%d ${2}" % i, "$$r%d" % i,
                                "r%d $(1)x" % i, "r%d $0" % i, "r%d $" % i, "",
                                "r%d ${12}" % i, "r%d $1$2" % i])
                if r.random() < 0.1:
                    lines.append("!/%s/%s n%d" % (pat, r.choice(flags), i))
                else:
                    lines.append("/%s/%s %s" % (pat, r.choice(flags), res))
                if r.random() < 0.1:
                    lines.append("if %s/%s/" % (r.choice(["", "!"]), r.choice(atoms)))
                    depth += 1
                if r.random() < 0.1 and depth:
                    lines.append("endif")
                    depth -= 1
            lines += ["endif"] * depth
            keys = ["".join(r.choice("abxy1@.AB /") for _ in range(r.randint(0, 8)))
                    for _ in range(200)]
            src = self.write("gen.regexp", ("\n".join(lines) + "\n").encode())
            self.assertSame("-q", "-", "regexp:" + src,
                            stdin="\n".join(keys).encode() + b"\n", msg="seed %d" % seed)

    def test_inline_forms(self):
        self.assertSameMany(
            [["-q", "abc", "regexp:{ {/^a(b)/ x$1}, {/c/ y} }"],
             ["-q", "c", "regexp:{ {/^a(b)/ x$1}, {/c/ y} }"],
             ["-q", "c", "regexp:{ {/a/ b} {/c/ d}, , {# note} }"],
             ["-q", "a", "regexp:{ {/a/ b}"], ["-q", "a", "regexp:{/a/ b}"],
             ["-q", "a", "regexp:{ {/a/ b}, x }"], ["-q", "a", "regexp:{ {/a/ b}x }"],
             ["-q", "a", "regexp:{}"], ["-q", "a", "regexp:{ { /a/ b } }"],
             ["-q", "a", "pcre:{ {/a/ b}"], ["-q", "a", "cidr:{ {1.2.3.4 x}, y}"]])

    def test_bad_regex_fails_the_table(self):
        """Postfix warns and skips the rule; we name file and line and fail."""
        src = self.write("bad", "/ok/ fine\n/bad(regex/ x\n/z/ zz\n")
        prc, pout, perr = self.run_pm(POSTFIX, "-q", "z", "regexp:" + src)
        rc, out, err = self.run_pm(OURS, "-q", "z", "regexp:" + src)
        what = "regexp map %s, line 2: Unmatched ( or \\(" % src
        self.assertEqual((prc, pout), (0, "zz\n"))
        self.assertIn("postmap: warning: " + what, perr)
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("postmap: fatal: " + what, err)
        src = self.write("openif", "/a/ x\nif /b/\n/c/ d\n")
        rc, out, err = self.run_pm(OURS, "-q", "a", "regexp:" + src)
        self.assertEqual(rc, 1)
        self.assertIn("regexp map %s, line 2: IF has no matching ENDIF" % src, err)


def unshared(argv, group_file):
    """argv with group_file mounted over /etc/group, in its own mount
    namespace (the machine's /etc/group is not touched)."""
    return ["unshare", "-m", "sh", "-c",
            'mount --bind "$0" /etc/group && exec "$@"', group_file] + argv


class OtherTypes(PostmapCase):
    """unix:, nis:, proxy: and the types that are not supported."""

    def test_unix_tables(self):
        cases = []
        for table in ("unix:passwd.byname", "unix:group.byname"):
            for key in ("root", "ROOT", "daemon", "nogroup", "no-such-name", ""):
                cases.append(["-q", key, table])
            cases.append(["-s", table])
        cases += [["-q", "root", "unix:passwd.byuid"], ["unix:passwd.byname"]]
        self.assertSameMany(cases)
        self.assertSame("-q", "-", "unix:passwd.byname", stdin=b"root\nbin\nnosuch\n")

    def test_group_members(self):
        """A group with members, in a private copy of /etc/group."""
        with open("/etc/group") as f:
            text = f.read()
        grp = self.write("group", text + "tablemembers:x:4242:alice,bob,carol\n"
                         "tableone:*:4243:dave\n")
        for key in ("tablemembers", "tableone", "root"):
            args = ["-c", self.dir, "-q", key, "unix:group.byname"]
            theirs = subprocess.run(unshared([POSTFIX] + args, grp), capture_output=True)
            ours = subprocess.run(unshared([OURS] + args, grp), capture_output=True)
            self.assertEqual((theirs.returncode, theirs.stdout, theirs.stderr),
                             (ours.returncode, ours.stdout, ours.stderr), key)
        self.assertEqual(ours.returncode, 0)
        ours = subprocess.run(unshared([OURS, "-c", self.dir, "-q", "tablemembers",
                                        "unix:group.byname"], grp), capture_output=True)
        self.assertEqual(ours.stdout, b"tablemembers:x:4242:alice,bob,carol\n")

    def test_unsupported_types(self):
        """postmap: fatal: unsupported dictionary type: TYPE, exit 1."""
        self.write("t", "a 1\n")
        types = ("ldap", "mysql", "pgsql", "sqlite", "sdbm", "dbm", "cdb", "nosuchtype")
        cases = [["-q", "x", "%s:%s" % (t, self.path("t"))] for t in types]
        for rc, out, err in self.assertSameMany(cases):
            self.assertEqual(rc, 1)
            self.assertRegex(err, r"^postmap: fatal: unsupported dictionary type: \w+\n$")
        # Building: Debian adds "Is the postfix-TYPE package installed?", a
        # package that this mail system has no use for; the rest is the same.
        for t in types:
            table = "%s:%s" % (t, self.path("t"))
            prc, pout, perr = self.run_pm(POSTFIX, table)
            self.assertEqual(self.run_pm(OURS, table),
                             (prc, pout, perr.split(". Is the ")[0] + "\n"))

    def test_nis_without_nis_domain(self):
        """This host has no NIS domain: a warning, then nothing is found."""
        rc, out, err = self.assertSame("-q", "postmaster", "nis:mail.aliases")
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("NIS domain name not set - NIS lookups disabled", err)

    def test_proxy_reads_directly(self):
        src = self.write("t", "a 1\nb 2\n")
        # One build after the other: two postmaps that write the same
        # t.db at once race for its temporary file.
        self.assertSame("hash:" + src)
        # Postfix's postmap asks proxymap (not running here); we read the table.
        theirs = self.run_pm(POSTFIX, "-q", "a", "hash:" + src)
        self.assertEqual(self.run_pm(OURS, "-q", "a", "proxy:hash:" + src), theirs)
        self.assertEqual(self.run_pm(OURS, "-q", "root", "proxy:unix:passwd.byname"),
                         self.run_pm(POSTFIX, "-q", "root", "unix:passwd.byname"))
        # What Postfix refuses for proxy:, in its words.
        for rc, out, err in self.assertSameMany([["proxy:hash:" + src],
                                                 ["proxy:hash:" + self.path("nosuch")],
                                                 ["-s", "proxy:hash:" + src]]):
            self.assertEqual(rc, 1)
        rc, out, err = self.run_pm(OURS, "-q", "x", "proxy:ldap:/etc/postfix/ldap.cf")
        self.assertEqual((rc, err), (1, "postmap: fatal: unsupported dictionary type: ldap\n"))


class LmdbTables(PostmapCase):
    """lmdb: files are interchangeable with Debian's postfix-lmdb."""

    SOURCE = "Key1 value one\nb two\nb three\nk2 v2 # not a comment\nMixed MiXeD\n"
    KEYS = ["key1", "KEY1", "b", "k2", "mixed", "Mixed", "nosuch", "x" * 600]

    def check(self, build_flags=(), query_flags=((),)):
        src = self.write("src", self.SOURCE)
        for builder in (POSTFIX, OURS):
            for f in ("src.lmdb",):
                if os.path.exists(self.path(f)):
                    os.unlink(self.path(f))
            rc, out, err = self.run_pm(builder, *(list(build_flags) + ["lmdb:" + src]))
            self.assertEqual(rc, 0, err)
            self.assertFalse(os.path.exists(self.path("src.lmdb-lock")))
            cases = [list(q) + ["-q", k, "lmdb:" + src] for q in query_flags for k in self.KEYS]
            cases.append(["-s", "lmdb:" + src])
            self.assertSameMany(cases)
        # Both builders write the same warnings.
        os.unlink(self.path("src.lmdb"))
        self.assertSame(*(list(build_flags) + ["lmdb:" + src]))

    def test_default(self):
        self.check()

    def test_variants(self):
        self.check(["-n"], ((), ("-n",), ("-N",)))
        self.check(["-N", "-f"], ((), ("-f",)))
        self.check(["-r"])
        self.check(["-w"])

    def test_updates_both_ways(self):
        src = self.write("src", self.SOURCE)
        for builder, updater in ((POSTFIX, OURS), (OURS, POSTFIX)):
            self.assertEqual(self.run_pm(builder, "lmdb:" + src)[0], 0)
            rc, out, err = self.run_pm(updater, "-i", "lmdb:" + src,
                                       stdin=b"new entry\nb changed\nc three\n")
            self.assertEqual(rc, 0, err)
            self.assertEqual(self.run_pm(updater, "-d", "key1", "lmdb:" + src)[0], 0)
            self.assertEqual(self.run_pm(builder, "-d", "c", "lmdb:" + src)[0], 0)
            self.assertSameMany([["-s", "lmdb:" + src], ["-q", "new", "lmdb:" + src],
                                 ["-q", "key1", "lmdb:" + src], ["-q", "b", "lmdb:" + src]])
            rc, out, err = self.run_pm(OURS, "-s", "lmdb:" + src)
            self.assertEqual(sorted(out.splitlines()),
                             ["b\ttwo", "k2\tv2 # not a comment", "mixed\tMiXeD",
                              "new\tentry"])
        self.assertSameMany([["-d", "x", "lmdb:" + self.path("fresh")],
                             ["-q", "x", "lmdb:" + self.path("nosuch")]])

    def test_bigger_than_the_first_map(self):
        """25 MiB of entries: more than lmdb_map_size's 16 MiB default."""
        lines = ["key%06d %s" % (i, "v" * 240 + str(i)) for i in range(100000)]
        src = self.write("big", "\n".join(lines) + "\n")
        keys = ["key000000", "key054321", "key099999", "key100000"]
        for builder in (OURS, POSTFIX):
            self.assertEqual(self.run_pm(builder, "lmdb:" + src)[0], 0)
            self.assertGreater(os.path.getsize(self.path("big.lmdb")), 16 << 20)
            self.assertSameMany([["-q", k, "lmdb:" + src] for k in keys])
            rc, out, err = self.run_pm(OURS, "-q", "key054321", "lmdb:" + src)
            self.assertEqual(out, "%s\n" % ("v" * 240 + "54321"))
        # Ours grows a table in place that Postfix made.
        stdin = "".join("more%06d %s\n" % (i, "w" * 1000) for i in range(20000)).encode()
        self.assertEqual(self.run_pm(OURS, "-i", "lmdb:" + src, stdin=stdin)[0], 0)
        self.assertSameMany([["-q", "more019999", "lmdb:" + src],
                             ["-q", "key099999", "lmdb:" + src]])

    def test_keys_lmdb_cannot_hold(self):
        """Postfix's lookup of an empty key in a table without NULs stops
        with a fatal error; ours says "not found"."""
        src = self.write("src", self.SOURCE)
        self.assertEqual(self.run_pm(OURS, "-n", "lmdb:" + src)[0], 0)
        self.assertEqual(self.run_pm(OURS, "-q", "", "lmdb:" + src), (1, "", ""))
        rc, out, err = self.run_pm(POSTFIX, "-q", "", "lmdb:" + src)
        self.assertEqual(rc, 1)
        self.assertIn("MDB_BAD_VALSIZE", err)

    def test_bad_files(self):
        self.write("junk.lmdb", "not an lmdb file\n")
        self.write("src", "a b\n")
        for rc, out, err in self.assertSameMany(
                [["-q", "a", "lmdb:" + self.path("junk")], ["-s", "lmdb:" + self.path("junk")],
                 ["-q", "a", "lmdb:" + self.path("nosuch")]]):
            self.assertEqual(rc, 1)


class MacroLoops(unittest.TestCase):
    """a = $b, b = $a: Postfix's words and exit status, never a hang."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_macro.")
        os.chmod(self.dir, 0o755)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def main_cf(self, text):
        if "myhostname" not in text:
            text += "myhostname = h.test\n"
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write(text + "queue_directory = %s/q\n" % self.dir)
        open(os.path.join(self.dir, "master.cf"), "w").close()

    def run_prog(self, argv):
        p = subprocess.run(argv, capture_output=True, timeout=60, text=True)
        # Our postconf also says which main.cf names are unused; Postfix does
        # too, at another moment.
        err = "".join(l + "\n" for l in p.stderr.splitlines() if "unused parameter" not in l)
        # Debian's postconf names itself as it was started.
        err = err.replace(DEBIAN_POSTCONF + ": ", "postconf: ")
        return p.returncode, p.stdout, err

    def test_postconf(self):
        configs = [
            "a = $b\nb = $a\nrelayhost = $a\n",
            "relayhost = $relayhost\n",
            "a = $b\nb = $c\nc = $d\nd = $e\ne = $a\nrelayhost = ${a}\n",
            "a = $b\nb = $a\nrelayhost = ${{$a} == {x} ? {y} : {z}}\n",
            "a = ${b?{x$b}:{y}}\nb = $a\nrelayhost = $a\n",
            "a = $(b)\nb = ${a}\nrelayhost = $a\n",
            # ${name?..} tests the text before expansion: no loop here.
            "a = $b\nb = $c\nc = $a\nrelayhost = x${a?y}\n",
            "a = ${b:$b}\nb = $a\nrelayhost = $a\n",
        ]
        for text in configs:
            self.main_cf(text)
            theirs = self.run_prog([DEBIAN_POSTCONF, "-c", self.dir, "-x", "relayhost"])
            ours = self.run_prog([POSTCONF, "-c", self.dir, "-x", "relayhost"])
            self.assertEqual(theirs, ours, text)
        self.main_cf("a = $b\nb = $a\nrelayhost = $a\n")
        ours = self.run_prog([POSTCONF, "-c", self.dir, "-x", "relayhost"])
        self.assertEqual(ours[0], 1)
        self.assertEqual(ours[2], 'postconf: warning: unreasonable macro call nesting: "b"\n'
                         "postconf: fatal: macro processing error\n")

    def test_postmap(self):
        for text in ("relayhost = $b\nb = $relayhost\n", "mydomain = $a\na = $mydomain\n"):
            self.main_cf(text)
            args = ["-c", self.dir, "-q", "a", "inline:{a=b}"]
            theirs = self.run_prog([POSTFIX] + args)
            ours = self.run_prog([OURS] + args)
            self.assertEqual(theirs, ours, text)
            self.assertEqual(ours[0], 1)
            self.assertIn("fatal: dictionary mail_dict: macro processing error", ours[2])

    def test_master(self):
        """Postfix's master stops at start: the same two lines, exit 1."""
        os.mkdir(os.path.join(self.dir, "q"))
        self.main_cf("myhostname = $mydomain\nmydomain = $myhostname\n")
        rc, out, err = self.run_prog([MASTER, "-c", self.dir, "-d"])
        self.assertEqual(rc, 1)
        self.assertRegex(err, r'postfix/master\[\d+\]: warning: unreasonable macro call '
                         r'nesting: "myhostname"\n')
        self.assertRegex(err, r"postfix/master\[\d+\]: fatal: dictionary mail_dict: "
                         r"macro processing error\n")


class DaemonLookups(unittest.TestCase):
    """What smtpd does with the new types (the project's rule for a table
    that cannot be used: 451 4.3.0, never "not found")."""

    def rcpt(self, m, address):
        c = Client(m.smtp_port)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        reply = c.cmd("RCPT TO:<%s>" % address)
        c.cmd("QUIT")
        return reply

    def test_regexp_and_proxy_tables_answer(self):
        restr = ("check_recipient_access regexp:@CONFIG@/access.regexp, "
                 "check_recipient_access proxy:regexp:{ {/^proxied@/ REJECT by proxy} }")
        with smtpd_mta(relay_domains="example.com", smtpd_recipient_restrictions=restr,
                       files={"access.regexp": "/^(blocked)@example\\.com$/ REJECT no $1\n"
                              "if /^user/\n/^user\\+(.*)@/ REJECT ext $1\nendif\n"}) as m:
            self.assertEqual(self.rcpt(m, "blocked@example.com"),
                             "554 5.7.1 <blocked@example.com>: Recipient address rejected: "
                             "no blocked")
            self.assertEqual(self.rcpt(m, "user+x@example.com"),
                             "554 5.7.1 <user+x@example.com>: Recipient address rejected: "
                             "ext x")
            self.assertEqual(self.rcpt(m, "proxied@example.com"),
                             "554 5.7.1 <proxied@example.com>: Recipient address rejected: "
                             "by proxy")
            self.assertEqual(self.rcpt(m, "fine@example.com"), "250 2.1.5 Ok")
            # alias_maps's default names nis:mail.aliases; nothing here reads
            # it, so nothing may complain about NIS.
            self.assertNotIn("NIS", m.log())

    def test_unusable_tables_answer_451(self):
        restr = ("check_recipient_access ldap:@CONFIG@/ldap.cf, "
                 "check_sender_access regexp:@CONFIG@/bad.regexp")
        with smtpd_mta(relay_domains="example.com", smtpd_recipient_restrictions=restr,
                       files={"ldap.cf": "server_host = localhost\n",
                              "bad.regexp": "/^(unclosed/ OK\n"}) as m:
            # Debian's Postfix 3.7 without postfix-ldap: "warning:
            # ldap:/x/ldap.cf is unavailable. unsupported dictionary type:
            # ldap", "warning: ldap:/x/ldap.cf lookup error for "u@b.test"",
            # "451 4.3.5 <u@b.test>: Recipient address rejected: Server
            # configuration error".
            self.assertEqual(self.rcpt(m, "u@example.com"),
                             "451 4.3.5 <u@example.com>: Recipient address rejected: "
                             "Server configuration error")
            m.wait_log(r"warning: ldap:\S+/ldap\.cf is unavailable\. "
                       r"unsupported dictionary type: ldap")
            m.wait_log(r"warning: ldap:\S+/ldap\.cf lookup error for \"u@example\.com\"\n")


if __name__ == "__main__":
    unittest.main()
