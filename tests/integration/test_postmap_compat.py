"""test_postmap_compat.py - our postmap against Debian's Postfix postmap.

hash: and btree: tables built by either program answer `postmap -q` and
`postmap -s` the same way when read by either program; pcre: and cidr:
tables give the same answers (and the same warnings) for the same source
and keys; bad input (binary file, 1 MiB line, missing file, unreadable
file, bad regex, unterminated if) gives a clear message naming the file
(and line), Postfix's exit status, and no crash.

Every test runs in its own temporary folder with an empty main.cf (Debian's
postmap needs one); both programs get `-c DIR`.
"""
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

from mta import SBIN

OURS = os.path.join(SBIN, "postmap")
POSTFIX = "/usr/sbin/postmap"

SOURCE = """\
# a comment
User@Example.COM   smtp:[10.0.0.1]:2525
example.net        relay:[gw.example.net]
.example.net       relay:[gw2.example.net]
b                  first
b                  second
k2 v2 # not a comment
"a b" quoted key
multi
  line value
   # comment inside
  continued
Mixed MiXeD value
lonely
@example.org       OK
"""

KEYS = ["user@example.com", "USER@EXAMPLE.COM", "example.net", ".example.net",
        "b", "k2", '"a b"', "multi", "mixed", "Mixed", "lonely", "@example.org",
        "nosuch", "", "a b"]


class PostmapCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_postmap.")
        os.chmod(self.dir, 0o755)
        self.write("main.cf", "")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text, mode=0o644):
        data = text.encode("latin-1") if isinstance(text, str) else text
        with open(self.path(name), "wb") as f:
            f.write(data)
        os.chmod(self.path(name), mode)
        # Postfix waits for a main.cf (and re-reads a texthash: file) that
        # is younger than a few seconds: make files look settled.
        old = os.stat(self.path(name)).st_mtime - 3600
        os.utime(self.path(name), (old, old))
        return self.path(name)

    def run_pm(self, prog, *args, stdin=None, user=None):
        argv = [prog, "-c", self.dir] + list(args)
        if user:
            argv = ["setpriv", "--reuid=" + user, "--regid=nogroup",
                    "--clear-groups"] + argv
        p = subprocess.run(argv, input=stdin if stdin is not None else b"",
                           capture_output=True, timeout=120, cwd=self.dir)
        self.assertGreaterEqual(p.returncode, 0, "%s crashed: %s" % (argv, p.stderr))
        return p.returncode, p.stdout.decode("latin-1"), p.stderr.decode("latin-1")

    def both(self, *args, stdin=None, user=None):
        return (self.run_pm(POSTFIX, *args, stdin=stdin, user=user),
                self.run_pm(OURS, *args, stdin=stdin, user=user))

    def assertSameMany(self, arglists, user=None):
        """Like assertSame for each argument list, all at once (Postfix's
        postmap sleeps a second before a fatal exit)."""
        jobs = [(prog, args) for args in arglists for prog in (POSTFIX, OURS)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            done = list(pool.map(lambda j: self.run_pm(j[0], *j[1], user=user), jobs))
        results = []
        for i, args in enumerate(arglists):
            theirs, ours = done[2 * i], done[2 * i + 1]
            self.assertEqual(theirs, ours, "postmap %s" % " ".join(args))
            results.append(ours)
        return results

    def assertSame(self, *args, stdin=None, msg=""):
        theirs, ours = self.both(*args, stdin=stdin)
        self.assertEqual(theirs, ours, "postmap %s %s" % (" ".join(args), msg))
        return ours


class FixedTables(PostmapCase):
    """hash: and btree: files are interchangeable."""

    def check_type(self, dtype, build_flags=(), query_flags=((),)):
        src = self.write("table", SOURCE)
        table = "%s:%s" % (dtype, src)
        answers = {}
        for builder in (POSTFIX, OURS):
            rc, out, err = self.run_pm(builder, *(list(build_flags) + [table]))
            self.assertEqual(rc, 0, err)
            with open(src + ".db", "rb") as f:
                built_by = f.read()
            results = []
            for reader in (POSTFIX, OURS):
                for qf in query_flags:
                    # Exit status per key: a few keys one by one.
                    for key in (KEYS[:2] + KEYS[-3:] if qf == query_flags[0] else ()):
                        results.append(self.run_pm(reader, *(list(qf) + ["-q", key, table]))[:2])
                    results.append(self.run_pm(reader, *(list(qf) + ["-q", "-", table]),
                                               stdin="\n".join(KEYS).encode() + b"\n")[:2])
                results.append(self.run_pm(reader, "-s", table)[:2])
            answers[builder] = (results, len(built_by))
        self.assertEqual(answers[POSTFIX][0], answers[OURS][0])
        # Sanity: the lookups did find things.
        self.assertTrue(any(rc == 0 and "relay:[gw.example.net]" in out
                            for rc, out in answers[OURS][0]))

    def test_hash_default(self):
        self.check_type("hash", (), ((), ("-f",), ("-n",), ("-N",)))

    def test_btree_default(self):
        self.check_type("btree", (), ((), ("-f",), ("-n",), ("-N",)))

    def test_hash_no_nul(self):
        self.check_type("hash", ("-n",), ((), ("-n",), ("-N",)))

    def test_btree_with_nul_and_case(self):
        self.check_type("btree", ("-N", "-f"), ((), ("-f",)))

    def test_duplicates_and_warnings(self):
        src = self.write("dups", "a 1\nA 2\nb 3\nb 4\nnovalue\n")
        for flags in ((), ("-r",), ("-w",)):
            theirs, ours = self.both(*(list(flags) + ["hash:" + src]))
            self.assertEqual(theirs, ours, flags)
            self.assertSame("-s", "hash:" + src)
        rc, out, err = self.run_pm(OURS, "hash:" + src)
        self.assertIn('warning: %s.db: duplicate entry: "a"' % src, err)
        self.assertIn("warning: %s, line 5: expected format: key whitespace value" % src, err)

    def test_default_type_from_main_cf(self):
        src = self.write("t", "k v\n")
        self.write("main.cf", "default_database_type = btree\n")
        self.assertSame("t")
        self.assertSame("-q", "k", "t")
        self.assertSame("-q", "k", "btree:t")
        self.assertSame("-q", "k", "hash:t")
        self.assertTrue(os.path.exists(src + ".db"))

    def test_incremental_delete_dump(self):
        src = self.write("inc", "a 1\nb 2\n")
        for prog in (POSTFIX, OURS):
            self.run_pm(prog, "hash:" + src)
            rc, out, err = self.run_pm(prog, "-i", "hash:" + src, stdin=b"c 3\nb 9\n")
            self.assertEqual(rc, 0)
            self.assertIn('duplicate entry: "b"', err)
            self.assertEqual(self.run_pm(POSTFIX, "-q", "c", "hash:" + src)[:2], (0, "3\n"))
            self.assertEqual(self.run_pm(POSTFIX, "-q", "b", "hash:" + src)[:2], (0, "2\n"))
            self.assertEqual(self.run_pm(prog, "-d", "a", "hash:" + src)[0], 0)
            self.assertEqual(self.run_pm(prog, "-d", "a", "hash:" + src)[0], 1)
            self.assertEqual(self.run_pm(prog, "-d", "-", "hash:" + src,
                                         stdin=b"b\nzz\n")[0], 0)
            self.assertEqual(self.run_pm(POSTFIX, "-s", "hash:" + src)[:2], (0, "c\t3\n"))

    def test_permissions_of_new_table(self):
        for mode, want in ((0o640, 0o640), (0o600, 0o600), (0o604, 0o604),
                           (0o666, 0o644), (0o400, 0o600)):
            src = self.write("perm", "a 1\n", mode)
            if os.path.exists(src + ".db"):
                os.unlink(src + ".db")
            self.assertEqual(self.run_pm(OURS, "hash:" + src)[0], 0)
            self.assertEqual(stat.S_IMODE(os.stat(src + ".db").st_mode), want, oct(mode))
        os.unlink(src + ".db")
        self.run_pm(OURS, "-p", "hash:" + src)
        self.assertEqual(stat.S_IMODE(os.stat(src + ".db").st_mode), 0o644)

    def test_atomic_rebuild(self):
        """Readers see the old or the new table while it is rebuilt."""
        lines = "".join("key%d value%d\n" % (i, i) for i in range(20000))
        src = self.write("big", lines + "probe found\n")
        self.assertEqual(self.run_pm(OURS, "hash:" + src)[0], 0)
        # Keep the first table open: a freed inode number may come back.
        first = open(src + ".db", "rb")
        self.addCleanup(first.close)
        inode = os.fstat(first.fileno()).st_ino
        failures = []
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                rc, out, err = self.run_pm(OURS, "-q", "probe", "hash:" + src)
                if (rc, out) != (0, "found\n"):
                    failures.append((rc, out, err))

        t = threading.Thread(target=reader)
        t.start()
        inodes = []
        try:
            for _ in range(3):
                self.assertEqual(self.run_pm(OURS, "hash:" + src)[0], 0)
                inodes.append(os.stat(src + ".db").st_ino)
        finally:
            stop.set()
            t.join()
        self.assertEqual(failures, [])
        # Each rebuild is a new file renamed over the old one. (After the
        # old one is gone its inode number may come back, so compare each
        # rebuild with the file it replaced.)
        for before, after in zip([inode] + inodes, inodes):
            self.assertNotEqual(before, after)
        self.assertEqual(sorted(os.listdir(self.dir)), ["big", "big.db", "main.cf"])


PCRE_SOURCE = r"""
/^(a+)(b*)@(.*)$/ ok $1 ${2} $(3) $$ end
!/^z/ notz
/noresult/
if /^i/
/^in(.*)/ inside $1
endif
endif
/unterminated x
/ok/q y
/x/i case
/multi
  line/ ml
/^(q)(r)?$/ [$2]
IF /^d/
/(d)(x)?/ d[$2]
ENDIF
if /^e/ extra
endif extra
/^f/  sp  ace
/^g/ (${1}) $(1)
/^h/s hh
/^a\/b$/ slash
/^empty/
abc def
/^u/ $1
/^(v)/  ${1}x$(1)y$1z
/^w(\d)?/ w[$1]
if /^qq/
if /^qqq/
/./ deep
endif
endif
!/^x/ neg $1
|^p| pipe
/^CaSe$/i exact
/^(\S+)@example\.(com|net)$/ user=$1 tld=$2
"""

PCRE_KEYS = ["aab@x.com", "AAB@X.COM", "zzz", "in1", "multiline", "multi  line",
             "q", "qr", "Q", "d", "dx", "e", "f", "g", "h", "a/b", "empty",
             "u", "v", "w", "w5", "qqq", "qq", "p", "CaSe", "case",
             "joe@example.com", "joe@example.org", "", "x"]

CIDR_SOURCE = """
10.0.0.0/8 ten
192.168.1.1 host
!172.16.0.0/12 not172
[2001:db8::]/32 v6doc
10.1.0.0/8 badbits
300.0.0.0/8 badaddr
10.0.0.0/33 badlen
nores
1.2.3.4
if 192.168.0.0/16
192.168.2.0/24 inner
endif
if !10.0.0.0/8 extra
endif
endif
::1 lo6
010.0.0.1 octal
[1.2.3.4] brack
1.2.3.4/ empty
abc x
1.2.3.4/-1 neg
2001:db8::1/32 v6bits
::ffff:0:0/96 mapped
IF 5.0.0.0/8
5.5.0.0/16   spaced   result
ENDIF
"""

CIDR_KEYS = ["10.1.2.3", "192.168.1.1", "192.168.2.5", "172.16.1.1", "8.8.8.8",
             "2001:db8::1", "::1", "0:0::1", "[10.0.0.1]", "8.0.0.1", "1.2.3.4",
             "010.1.2.3", "10.1.2.3x", "abc", "", "::2", "::ffff:1.2.3.4",
             " 1.2.3.4", "5.5.5.5", "5.6.0.1"]


class PatternTables(PostmapCase):
    """pcre: and cidr: give the same answers and warnings as Postfix."""

    def compare(self, dtype, source, keys):
        src = self.write("rules", source)
        table = "%s:%s" % (dtype, src)
        self.assertSameMany([["-q", key, table] for key in keys])
        self.assertSame("-q", "-", table, stdin="\n".join(keys).encode() + b"\n")

    def test_pcre(self):
        self.compare("pcre", PCRE_SOURCE, PCRE_KEYS)

    def test_cidr(self):
        self.compare("cidr", CIDR_SOURCE, CIDR_KEYS)

    def test_generated_pcre(self):
        """Random rules (flags, groups, $n forms, if/endif) and keys."""
        for seed in range(4):
            r = random.Random(seed)
            atoms = ["a", "b", ".", "(a+)", "(b)?", "[a-c]", "\\d", "^", "$", "(x|y)",
                     "\\.", "@", "(.*)", "A", "\u00e9", "\\s", "(?i)", "(?-i)", "\\/", "#"]
            flags = ["", "i", "m", "s", "x", "A", "E", "U", "X", "is", "q", "mx"]
            lines, depth = [], 0
            for i in range(60):
                pat = "".join(r.choice(atoms) for _ in range(r.randint(1, 5)))
                res = r.choice(["r%d" % i, "r%d $1" % i, "r%d ${2}" % i, "$$r%d" % i,
                                "r%d $(1)x" % i, "r%d $0" % i, "r%d $" % i, "",
                                "r%d ${12}" % i, "r%d ${}" % i, "r%d $1$2" % i, "r%d ${1" % i])
                if r.random() < 0.1:
                    lines.append("!/%s/%s n%d" % (pat, r.choice(flags), i))
                else:
                    lines.append("/%s/%s %s" % (pat, r.choice(flags), res))
                if r.random() < 0.1:
                    lines.append("%s %s/%s/" % (r.choice(["if", "IF"]), r.choice(["", "!"]),
                                                r.choice(atoms)))
                    depth += 1
                if r.random() < 0.1 and depth:
                    lines.append("endif")
                    depth -= 1
            lines += ["endif"] * depth
            keys = ["".join(r.choice("abxy1@.AB /") for _ in range(r.randint(0, 8)))
                    for _ in range(200)]
            src = self.write("gen.pcre", ("\n".join(lines) + "\n").encode())
            self.assertSame("-q", "-", "pcre:" + src,
                            stdin="\n".join(keys).encode() + b"\n", msg="seed %d" % seed)

    def test_generated_cidr(self):
        """Random networks (both families, bad masks, brackets, !, if)."""
        for seed in range(4):
            r = random.Random(seed)

            def v4():
                return ".".join(str(r.choice([0, 1, 10, 127, 172, 192, 255, 256,
                                              r.randint(0, 255)])) for _ in range(4))

            def v6():
                return r.choice(["::", "::1", "2001:db8::", "2001:db8::1", "fe80::",
                                 "::ffff:0:0", "2001:DB8:0:0:0:0:0:1", "ff::"])
            lines, depth = [], 0
            for i in range(60):
                a = v4() if r.random() < 0.6 else v6()
                if r.random() < 0.7:
                    a += "/" + str(r.choice([0, 8, 16, 24, 32, 33, 64, 128, 129,
                                             r.randint(0, 40)]))
                if r.random() < 0.1:
                    a = "[" + a.replace("/", "]/", 1) if "/" in a else "[" + a + "]"
                neg = "!" if r.random() < 0.1 else ""
                lines.append("%s%s %s" % (neg, a, r.choice(["r%d" % i, "", "r%d x  y" % i])))
                if r.random() < 0.1:
                    lines.append("if %s%s/%d" % (r.choice(["", "!"]), v4(), r.choice([8, 16])))
                    depth += 1
                if r.random() < 0.1 and depth:
                    lines.append("endif")
                    depth -= 1
            lines += ["endif"] * depth
            keys = [v4() if r.random() < 0.6 else v6() for _ in range(200)] + ["x", "1.2.3"]
            src = self.write("gen.cidr", "\n".join(lines) + "\n")
            self.assertSame("-q", "-", "cidr:" + src,
                            stdin="\n".join(keys).encode() + b"\n", msg="seed %d" % seed)

    def test_inline_forms(self):
        self.assertSameMany(
            [["-q", "abc", "pcre:{ {/^a(b)/ x$1}, {/c/ y} }"],
             ["-q", "1.1.1.1", "cidr:{ {1.1.1.0/24 x}, {2.0.0.0/8 y} }"],
             ["-q", "z", "inline:{ x=y, {z = a b} }"],
             ["-q", "x", "inline:{ x=y, q }"],
             ["-q", "x", "static:{ a b }"],
             ["-s", "inline:{ a=b }"]])

    def test_texthash(self):
        src = self.write("th", SOURCE)
        for key in KEYS[:3]:
            self.assertSame("-q", key, "texthash:" + src)
        self.assertSame("-q", "-", "texthash:" + src, stdin="\n".join(KEYS).encode() + b"\n")


class BadInput(PostmapCase):
    """Clear messages, Postfix's exit status, no crash."""

    def test_binary_file(self):
        with open("/bin/ls", "rb") as f:
            data = f.read(30000)
        src = self.write("bin", data)
        self.assertSame("hash:" + src)
        self.assertSame("-s", "hash:" + src)
        out = self.assertSame("-q", "x", "pcre:" + src)
        self.assertIn("pcre map %s, line 1:" % src, out[2])
        self.assertSame("-q", "1.2.3.4", "cidr:" + src)
        self.assertSame("-q", "x", "texthash:" + src)

    def test_one_mib_line(self):
        src = self.write("long", "k " + "v" * (1 << 20) + "\n" + "x" * (1 << 20) + " y\nlast 1\n")
        self.assertSame("hash:" + src)
        self.assertSame("-q", "k", "hash:" + src)
        self.assertSame("-q", "last", "hash:" + src)
        src = self.write("longre", "/" + "a" * (1 << 20) + "/ y\n/b/ c\n")
        rc, out, err = self.run_pm(OURS, "-q", "b", "pcre:" + src)
        self.assertEqual(rc, 1)
        self.assertIn("pcre map %s, line 1: error in regex" % src, err)
        src = self.write("longcidr", "1.2.3.4 " + "r" * (1 << 20) + "\n")
        self.assertSame("-q", "1.2.3.4", "cidr:" + src)

    def test_missing_file(self):
        for (rc, out, err) in self.assertSameMany(
                [["nosuch"], ["-q", "x", "nosuch"], ["-s", "hash:nosuch"],
                 ["-q", "x", "pcre:nosuch"], ["-q", "x", "cidr:nosuch"],
                 ["-q", "x", "texthash:nosuch"], ["-q", "x", "btree:nosuch"]]):
            self.assertEqual(rc, 1)
            self.assertIn("nosuch", err)
        self.assertEqual(self.run_pm(OURS, "nosuchfile")[2],
                         "postmap: fatal: open nosuchfile: No such file or directory\n")

    def test_unreadable_file(self):
        src = self.write("secret", "a 1\n/a/ b\n1.2.3.4 c\n", 0o600)
        for ours in self.assertSameMany(
                [["hash:" + src], ["-q", "a", "pcre:" + src],
                 ["-q", "1.2.3.4", "cidr:" + src], ["-q", "a", "texthash:" + src]],
                user="nobody"):
            self.assertEqual(ours[0], 1)
            self.assertIn("%s: Permission denied" % src, ours[2])

    def test_unwritable_table(self):
        src = self.write("t", "a 1\n")
        os.chown(src, 65534, 65534)
        # Built as the owner of the source, who cannot create the table.
        (rc, out, err), = self.assertSameMany([["hash:" + src]])
        self.assertEqual(rc, 1)
        self.assertIn("open database %s.db: Permission denied" % src, err)
        # ... nor write a table that exists.
        self.assertEqual(self.run_pm(POSTFIX, "-o", "hash:" + src)[0], 0)
        os.chmod(self.dir, 0o777)
        results = self.assertSameMany([["hash:" + src]])
        results += self.assertSameMany([["-d", "a", "hash:" + src],
                                        ["-i", "hash:" + src]], user="nobody")
        for rc, out, err in results:
            self.assertEqual(rc, 1)
            self.assertIn("%s.db: Permission denied" % src, err)

    def test_bad_regex(self):
        src = self.write("badre", "/ok/ fine\n/bad(regex/ x\n/z/ zz\n")
        rc, out, err = self.run_pm(OURS, "-q", "z", "pcre:" + src)
        prc, pout, perr = self.run_pm(POSTFIX, "-q", "nomatch", "pcre:" + src)
        self.assertEqual((rc, out), (prc, ""))
        self.assertIn("pcre map %s, line 2: error in regex at offset 9: "
                      "missing closing parenthesis" % src, err)
        self.assertIn("fatal:", err)

    def test_unterminated_if(self):
        src = self.write("openif", "/a/ x\nif /b/\n/c/ d\n")
        rc, out, err = self.run_pm(OURS, "-q", "zz", "pcre:" + src)
        self.assertEqual(rc, 1)
        self.assertEqual(self.run_pm(POSTFIX, "-q", "zz", "pcre:" + src)[0], 1)
        self.assertIn("pcre map %s, line 2: IF has no matching ENDIF" % src, err)
        src = self.write("openif.cidr", "1.2.3.4 x\nif 10.0.0.0/8\n10.1.0.0/16 y\n")
        rc, out, err = self.run_pm(OURS, "-q", "9.9.9.9", "cidr:" + src)
        self.assertEqual(rc, 1)
        self.assertIn("cidr map %s, line 2: IF has no matching ENDIF" % src, err)

    def test_usage_and_options(self):
        self.write("t", "a 1\n")
        self.assertSameMany(
            [[], ["-x", "t"], ["-q", "a", "-s", "t"], ["-d", "a", "-q", "b", "t"],
             ["-s", "-q", "a", "t"], ["foo:bar"], ["-q", "x", "foo:t"],
             ["-s", "static:x"], ["-d", "a", "texthash:t"], ["texthash:t"],
             ["pcre:t"], ["-q", "x", "inline:{ x=y, q }"], ["-q", "x", "static:"],
             ["-q", "x", "inline:{}"], ["-q", "x", "static:{ a b "]])

    def test_no_main_cf(self):
        os.unlink(self.path("main.cf"))
        self.write("t", "a 1\n")
        (rc, out, err) = self.assertSame("t")
        self.assertEqual(rc, 1)
        self.assertIn("main.cf", err)


if __name__ == "__main__":
    unittest.main()
