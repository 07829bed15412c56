"""test_local.py - the host's own mail: local(8), pipe(8), discard(8).

Every MTA here runs Debian's stock configuration: /etc/postfix/master.cf
as the postfix package ships it (smtpd on a free port; chroot y as
shipped) and the main.cf that Debian's postinst writes for an "Internet
Site" (main.cf.debian plus its settings), with only paths and ports
changed: the alias table, /etc/mailname and the spool folder live in the
test's folder, and relayhost points at a capture server that stands for
the rest of the Internet. A test user is made with useradd (and removed).

The expected replies, log lines and mailbox contents are what Debian's
Postfix 3.7.11 gave for the same setup (checked by running it with the
same main.cf, master.cf, aliases and mail); each test says so.
"""
import glob
import grp
import os
import pwd
import re
import shutil
import smtplib
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from capture import Capture
from mta import MTA, SBIN, free_port, wait_for

STOCK_MAIN_CF = """\
# Debian's main.cf (main.cf.debian and the postinst settings for an
# Internet Site); only paths and ports are ours.
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = mx.test.invalid
alias_maps = hash:{etc}/aliases
alias_database = hash:{etc}/aliases
myorigin = {etc}/mailname
mydestination = $myhostname, mx.localdomain, localhost.localdomain, localhost
relayhost = [127.0.0.1]:{relay_port}
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
queue_directory = {queue}
data_directory = {data}
daemon_directory = {libexec}
maillog_file = {log}
maillog_file_prefixes = {dir}
mail_spool_directory = {spool}
"""

ALIASES = """\
# See man 5 aliases for format
postmaster:    root
root: far@remote.test
al: {user}
inc: :include:{etc}/include
cmd: "|{dir}/record alias-cmd"
owner-list: {user}
list: {user}, far2@remote.test
"""

# A command that records its arguments, ids, environment and input.
RECORD = """#!/bin/sh
out={dir}/out
n=$(date +%s%N)
{{ echo "ARGS: $*"; echo "UID: $(id -u) GID: $(id -g)"; env | sort; echo "----"; cat; }} \\
    > $out/rec.$n.tmp 2>&1
mv $out/rec.$n.tmp $out/rec.$n
case "$1" in
  exit67) echo "5.1.1 no such mailbox here"; exit 67;;
  exit75) echo "try later please"; exit 75;;
  exit1) echo "generic error output"; exit 1;;
esac
exit 0
"""


def stock_master_cf(port, extra=""):
    """Debian's master.cf, smtpd on a free port on 127.0.0.1."""
    out = []
    with open("/etc/postfix/master.cf") as f:
        for line in f:
            fields = line.split()
            if not line.startswith("#") and len(fields) >= 8 \
                    and fields[0] == "smtp" and fields[1] == "inet":
                line = line.replace("smtp", "127.0.0.1:%d" % port, 1)
            out.append(line)
    return "".join(out) + extra


class StockMTA:
    """Our MTA with Debian's stock configuration and a test user."""

    def __init__(self, extra_main="", extra_master="", aliases=ALIASES, maps=None):
        self.cap = Capture()
        self.user = "lt%d" % os.getpid()
        self.m = MTA(start=False)
        self.dir = self.m.dir
        os.chmod(self.dir, 0o755)
        self.etc = self.m.config_dir
        self.spool = os.path.join(self.dir, "mail")
        self.out = os.path.join(self.dir, "out")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.spool)
        os.chown(self.spool, 0, grp.getgrnam("mail").gr_gid)
        os.chmod(self.spool, 0o2775)
        os.makedirs(self.out)
        os.chmod(self.out, 0o1777)
        self.useradd()
        self.record = os.path.join(self.dir, "record")
        with open(self.record, "w") as f:
            f.write(RECORD.format(dir=self.dir))
        os.chmod(self.record, 0o755)
        self.m.write("mailname", "mx.test.invalid\n")
        self.m.write("main.cf", STOCK_MAIN_CF.format(
            etc=self.etc, relay_port=self.cap.port, queue=self.m.queue_dir,
            data=self.m.data_dir, libexec=os.path.join(os.path.dirname(SBIN), "libexec"),
            log=self.m.logfile,
            dir=self.dir, spool=self.spool) + extra_main.format(etc=self.etc))
        self.m.write("master.cf", stock_master_cf(
            self.m.smtp_port, extra_master.format(user=self.user, dir=self.dir)))
        self.m.write("aliases", aliases.format(user=self.user, etc=self.etc, dir=self.dir))
        self.m.write("include", "%s\nfar3@remote.test\n" % self.user)
        for name, text in (maps or {}).items():
            self.m.write(name, text)
            self.m.postmap("hash:" + self.m.path(name))
        self.postalias("hash:" + self.m.path("aliases"))
        self.m.start()

    def useradd(self):
        os.makedirs(self.home)
        subprocess.run(["useradd", "-M", "-d", self.home, "-s", "/bin/sh", self.user],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(self.user)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        os.chown(self.home, self.uid, self.gid)

    def postalias(self, *args):
        return subprocess.run([os.path.join(SBIN, "postalias"), "-c", self.etc] + list(args),
                              check=True, capture_output=True, text=True)

    def send(self, rcpts, body=b"Subject: test\r\n\r\nFrom me\r\nline 2\r\n",
             sender="sender@example.org"):
        with smtplib.SMTP("127.0.0.1", self.m.smtp_port, timeout=30) as s:
            return s.sendmail(sender, rcpts, body)

    def log(self):
        return self.m.log()

    def wait_log(self, pattern, count=1, timeout=60):
        return self.m.wait_log(pattern, timeout=timeout, count=count)

    def mbox(self):
        with open(os.path.join(self.spool, self.user)) as f:
            return f.read()

    def records(self, count=1):
        """The files the record command wrote, oldest first."""
        def ready():
            names = sorted(n for n in os.listdir(self.out)
                           if n.startswith("rec.") and not n.endswith(".tmp"))
            return names if len(names) >= count else None
        names = wait_for(ready, 30, what="%d command records" % count)
        texts = []
        for n in names:
            with open(os.path.join(self.out, n)) as f:
                texts.append(f.read())
        return texts

    def cleanup(self):
        self.m.cleanup()
        self.cap.stop()
        subprocess.run(["userdel", self.user], capture_output=True)


def env_of(record):
    return dict(line.split("=", 1) for line in record.split("----")[0].splitlines()
                if "=" in line and not line.startswith(("ARGS", "UID")))


class DebianStock(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        extra_master = (
            "testpipe unix  -       n       n       -       -       pipe\n"
            "  flags=FORXhqu.> user={user} argv={dir}/record pipe ${{sender}} ${{recipient}}"
            " ${{nexthop}} ${{user}} ${{extension}} ${{domain}} ${{mailbox}} ${{size}}"
            " ${{client_address}} ${{original_recipient}}\n"
            "pipe67 unix  -       n       n       -       -       pipe\n"
            "  user={user} argv={dir}/record exit67\n"
            "pipe75 unix  -       n       n       -       -       pipe\n"
            "  user={user} argv={dir}/record exit75\n"
            "pipe1 unix  -       n       n       -       -       pipe\n"
            "  user={user} argv={dir}/record exit1\n")
        transport = ("pipe.test testpipe:Next.Hop.Test\n67.test pipe67:\n75.test pipe75:\n"
                     "1.test pipe1:\ndisc.test discard:just because\n"
                     "disc2.test discard:5.7.1 spam go away\n")
        cls.s = StockMTA(
            extra_main="transport_maps = hash:{etc}/transport\n"
            "testpipe_destination_recipient_limit = 1\n",
            extra_master=extra_master, maps={"transport": transport})

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()

    def test_root_alias_goes_to_remote_address(self):
        """/etc/aliases "root: far@remote.test": mail for root@localhost is
        forwarded as a new message and relayed to the capture server, never
        to a host called localhost. Debian's Postfix 3.7 logs
        "local[..]: QID: to=<root@localhost>, relay=local, delay=.., dsn=2.0.0,
        status=sent (forwarded as NEWQID)" and the smtp line
        "NEWQID: to=<far@remote.test>, orig_to=<root@localhost>, ..."."""
        s = self.s
        n = len(s.cap.messages)
        s.send(["root@localhost"], b"Subject: root\r\nMessage-ID: <m1@x>\r\n\r\nhello\r\n")
        m = s.wait_log(r"local\[\d+\]: ([0-9A-F]+): to=<root@localhost>, relay=local, "
                       r"delay=[\d.]+, delays=[\d./]+, dsn=2\.0\.0, status=sent "
                       r"\(forwarded as ([0-9A-F]+)\)")
        new_id = m[-1][1]
        s.wait_log(new_id + r": to=<far@remote\.test>, orig_to=<root@localhost>, "
                   r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent \(250 ")
        wait_for(lambda: len(s.cap.messages) > n, 30, what="the forwarded copy")
        env = s.cap.messages[-1]
        self.assertEqual(env.rcpt_tos, ["far@remote.test"])
        self.assertEqual(env.mail_from, "sender@example.org")
        data = env.content.decode()
        # Debian's Postfix: the copy starts with these two headers.
        self.assertRegex(data, r"^Received: by mx\.test\.invalid \(Postfix\)\r\n"
                         r"\tid %s; \w\w\w, [ \d]\d \w\w\w \d{4} [\d:]{8} [-+]\d{4} \(\w+\)\r\n"
                         r"Delivered-To: root@localhost\r\n" % new_id)
        self.assertIn("Message-ID: <m1@x>", data)
        self.assertIn("%s: message-id=<m1@x>" % new_id, s.log())

    def test_postmaster_via_root(self):
        """postmaster: root, root: far@remote.test: alias expansion recurses
        in the same delivery, one forwarded copy."""
        s = self.s
        s.send(["postmaster@localhost"])
        m = s.wait_log(r"([0-9A-F]+): to=<postmaster@localhost>, relay=local, .*"
                       r"status=sent \(forwarded as ([0-9A-F]+)\)")
        s.wait_log(m[-1][1] + r": to=<far@remote\.test>, orig_to=<postmaster@localhost>")

    def test_user_mailbox(self):
        """A passwd user's mail lands in mail_spool_directory/USER: Debian's
        Postfix writes "From sender  date", Return-Path:, X-Original-To:,
        Delivered-To: (both the address as received), ">From " quoting and
        an empty line; the mailbox is USER:mail 0600 (the group of the
        group-writable spool); log "status=sent (delivered to mailbox)"."""
        s = self.s
        s.send(["%s+ext@localhost" % s.user.upper()],
               b"Subject: mbox-test\r\n\r\nFrom me\r\nline 2\r\n")
        s.wait_log(r"to=<%s\+ext@localhost>, relay=local, delay=[\d.]+, delays=[\d./]+, "
                   r"dsn=2\.0\.0, status=sent \(delivered to mailbox\)" % s.user.upper())
        st = os.stat(os.path.join(s.spool, s.user))
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (s.uid, grp.getgrnam("mail").gr_gid, 0o600))
        # The mailbox holds other tests' mail too: find this one.
        box = s.mbox()
        i = box.index("Subject: mbox-test")
        start = box.rfind("\nFrom sender@example.org  ", 0, i) + 1
        end = box.find("\n\nFrom ", i)
        last = box[start:end + 2] if end >= 0 else box[start:]
        self.assertRegex(last, r"^From sender@example\.org  \w\w\w \w\w\w [ \d]\d [\d:]{8} \d{4}\n"
                         r"Return-Path: <sender@example\.org>\n"
                         r"X-Original-To: %s\+ext@localhost\n"
                         r"Delivered-To: %s\+ext@localhost\n" % (s.user.upper(), s.user.upper()))
        self.assertTrue(last.endswith("\n\n>From me\nline 2\n\n"), last)
        self.assertNotIn("\r", box)

    def test_unknown_user_rejected_at_rcpt(self):
        """Debian's Postfix: "550 5.1.1 <nosuch@localhost>: Recipient address
        rejected: User unknown in local recipient table" (local_recipient_maps
        = proxy:unix:passwd.byname $alias_maps), logged as NOQUEUE: reject."""
        s = self.s
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            s.send(["nosuch@localhost"])
        code, text = cm.exception.recipients["nosuch@localhost"]
        self.assertEqual((code, text.decode()), (550, "5.1.1 <nosuch@localhost>: Recipient "
                                                 "address rejected: User unknown in local "
                                                 "recipient table"))
        s.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.1\.1 "
                   r"<nosuch@localhost>: Recipient address rejected: User unknown in local "
                   r"recipient table; from=<sender@example\.org> to=<nosuch@localhost> "
                   r"proto=ESMTP helo=<")
        # A bare name is $myorigin's; the reply shows it as given (Postfix:
        # "550 5.1.1 <nosuch>: Recipient address rejected: ...").
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            s.send(["nosuch"])
        code, text = cm.exception.recipients["nosuch"]
        self.assertEqual((code, text.decode()), (550, "5.1.1 <nosuch>: Recipient address "
                                                 "rejected: User unknown in local recipient "
                                                 "table"))
        # An alias, and a user with an extension, are known.
        s.send(["al@localhost", "%s+x@localhost" % s.user])

    def test_alias_to_user_is_delivered_in_place(self):
        """"al: USER": Debian's Postfix delivers in the same process and logs
        "to=<USER@mx.test.invalid>, orig_to=<al@localhost>, relay=local, ...,
        status=sent (delivered to mailbox)" (USER gets @$myorigin, read from
        myorigin = /etc/mailname)."""
        s = self.s
        s.send(["al@localhost"], b"Subject: alias-test\r\n\r\nx\r\n")
        s.wait_log(r"([0-9A-F]+): to=<%s@mx\.test\.invalid>, orig_to=<al@localhost>, "
                   r"relay=local, .*status=sent \(delivered to mailbox\)" % s.user)
        wait_for(lambda: "Subject: alias-test" in s.mbox(), 10, what="the mailbox copy")
        self.assertRegex(s.mbox(), r"X-Original-To: al@localhost\nDelivered-To: al@localhost\n"
                         r"(.*\n)*Subject: alias-test")

    def test_include_and_owner_alias(self):
        """"inc: :include:FILE" (USER and far3@remote.test): Debian's Postfix
        forwards both as one new message; "list" with an "owner-list" alias
        is forwarded with the sender owner-list@$myorigin and without
        orig_to."""
        s = self.s
        n = len(s.cap.messages)
        s.send(["inc@localhost"])
        m = s.wait_log(r"to=<inc@localhost>, relay=local, .*status=sent \(forwarded as "
                       r"([0-9A-F]+)\)")
        s.wait_log(m[-1] + r": to=<%s@mx\.test\.invalid>, orig_to=<inc@localhost>, "
                   r"relay=local, .*status=sent \(delivered to mailbox\)" % s.user)
        s.wait_log(m[-1] + r": to=<far3@remote\.test>, orig_to=<inc@localhost>, .*status=sent")
        s.send(["list@localhost"])
        m = s.wait_log(r"to=<list@localhost>, relay=local, .*status=sent \(forwarded as "
                       r"([0-9A-F]+)\)")
        s.wait_log(m[-1] + r": from=<owner-list@mx\.test\.invalid>, size=\d+, nrcpt=2")
        s.wait_log(m[-1] + r": to=<far2@remote\.test>, relay=127\.0\.0\.1")
        wait_for(lambda: any(e.mail_from == "owner-list@mx.test.invalid"
                             for e in s.cap.messages[n:]), 30, what="the list copy")

    def test_dotforward_command_file_and_self(self):
        """~/.forward with "\\USER", a quoted "|command" and a /file: the
        command runs as the user (uid, gid, HOME, SHELL, USER, RECIPIENT,
        SENDER, ORIGINAL_RECIPIENT, EXTENSION as Debian's Postfix sets them),
        the file is the user's, and the mailbox gets its copy. Debian's log:
        "to=<USER+fw@localhost>, relay=local, ..., status=sent (delivered to
        command: DIR/record fwd-cmd)", "(delivered to file: DIR/out/fwdfile)",
        and "to=<USER@mx.test.invalid>, orig_to=<USER+fw@localhost>, ...,
        (delivered to mailbox)"."""
        s = self.s
        fwd = os.path.join(s.home, ".forward")
        with open(fwd, "w") as f:
            f.write('\\%s, "|%s fwd-cmd", %s/fwdfile\n' % (s.user, s.record, s.out))
        os.chown(fwd, s.uid, s.gid)
        try:
            for name in os.listdir(s.out):
                os.unlink(os.path.join(s.out, name))
            s.send(["%s+fw@localhost" % s.user], sender="Send.Er@example.org")
            s.wait_log(r"to=<%s\+fw@localhost>, relay=local, .*status=sent \(delivered to "
                       r"command: %s fwd-cmd\)" % (s.user, re.escape(s.record)))
            s.wait_log(r"to=<%s\+fw@localhost>, relay=local, .*status=sent \(delivered to "
                       r"file: %s/fwdfile\)" % (s.user, re.escape(s.out)))
            s.wait_log(r"to=<%s@mx\.test\.invalid>, orig_to=<%s\+fw@localhost>, relay=local, "
                       r".*status=sent \(delivered to mailbox\)" % (s.user, s.user))
            rec = s.records(1)[0]
            self.assertIn("ARGS: fwd-cmd\nUID: %d GID: %d\n" % (s.uid, s.gid), rec)
            env = env_of(rec)
            self.assertEqual(env["USER"], s.user)
            self.assertEqual(env["LOGNAME"], s.user)
            self.assertEqual(env["HOME"], s.home)
            self.assertEqual(env["SHELL"], "/bin/sh")
            self.assertEqual(env["RECIPIENT"], "%s+fw@localhost" % s.user)
            self.assertEqual(env["ORIGINAL_RECIPIENT"], "%s+fw@localhost" % s.user)
            self.assertEqual(env["EXTENSION"], "fw")
            self.assertEqual(env["LOCAL"], "%s+fw" % s.user)
            self.assertEqual(env["DOMAIN"], "localhost")
            self.assertEqual(env["SENDER"], "Send.Er@example.org")
            self.assertEqual(env["CLIENT_ADDRESS"], "127.0.0.1")
            self.assertEqual(env["CLIENT_PROTOCOL"], "ESMTP")
            self.assertEqual(env["PATH"], "/usr/bin:/bin")
            # The command gets From_, Return-Path:, X-Original-To:, Delivered-To:.
            self.assertRegex(rec.split("----\n", 1)[1],
                             r"^From Send\.Er@example\.org  .*\nReturn-Path: <Send\.Er@example\.org>\n"
                             r"X-Original-To: %s\+fw@localhost\nDelivered-To: %s\+fw@localhost\n"
                             % (s.user, s.user))
            st = os.stat(os.path.join(s.out, "fwdfile"))
            self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                             (s.uid, s.gid, 0o600))
        finally:
            os.unlink(fwd)

    def test_alias_command_runs_as_default_privs(self):
        """"cmd: \"|DIR/record alias-cmd\"" in a root-owned table runs as
        default_privs (nobody), without HOME; Debian's log "to=<cmd@localhost>,
        relay=local, ..., status=sent (delivered to command: DIR/record
        alias-cmd)"."""
        s = self.s
        for name in os.listdir(s.out):
            os.unlink(os.path.join(s.out, name))
        s.send(["cmd@localhost"])
        s.wait_log(r"to=<cmd@localhost>, relay=local, .*status=sent \(delivered to command: "
                   r"%s alias-cmd\)" % re.escape(s.record))
        rec = s.records(1)[0]
        nobody = pwd.getpwnam("nobody")
        self.assertIn("UID: %d GID: %d" % (nobody.pw_uid, nobody.pw_gid), rec)
        env = env_of(rec)
        self.assertNotIn("HOME", env)
        self.assertEqual((env["USER"], env["RECIPIENT"]), ("cmd", "cmd@localhost"))

    def test_delivered_to_loop(self):
        """A message that already says "Delivered-To: root@localhost" bounces:
        Debian's "dsn=5.4.6, status=bounced (mail forwarding loop for
        root@localhost)"."""
        s = self.s
        s.send(["root@localhost"], b"Delivered-To: root@localhost\r\nSubject: l\r\n\r\nx\r\n")
        s.wait_log(r"to=<root@localhost>, relay=local, .*dsn=5\.4\.6, status=bounced \(mail "
                   r"forwarding loop for root@localhost\)")

    def test_pipe_macros(self):
        """pipe(8) flags=FORXhqu.> with Postfix's macros; Debian's Postfix ran
        the same command with "pipe \"Sender Name\"@example.org
        user+ext@pipe.test next.hop.test user ext pipe.test user+ext SIZE
        127.0.0.1 user+ext@pipe.test" and logged "relay=testpipe, ...,
        status=sent (delivered via testpipe service)"."""
        s = self.s
        for name in os.listdir(s.out):
            os.unlink(os.path.join(s.out, name))
        s.send(["User+Ext@pipe.test"], b"Subject: t\r\n\r\nFrom me\r\n.dot\r\n",
               sender='"Sender Name"@example.org')
        s.wait_log(r"to=<User\+Ext@pipe\.test>, relay=testpipe, .*dsn=2\.0\.0, status=sent "
                   r"\(delivered via testpipe service\)")
        rec = s.records(1)[0]
        self.assertRegex(rec, r'ARGS: pipe "Sender Name"@example\.org user\+ext@pipe\.test '
                         r'next\.hop\.test user ext pipe\.test user\+ext \d+ 127\.0\.0\.1 '
                         r'user\+ext@pipe\.test\n')
        self.assertIn("UID: %d GID: %d" % (s.uid, s.gid), rec)
        body = rec.split("----\n", 1)[1]
        self.assertRegex(body, r'^From "Sender Name"@example\.org  .*\n'
                         r'Return-Path: <"Sender Name"@example\.org>\n'
                         r'X-Original-To: User\+Ext@pipe\.test\n')
        self.assertIn("\n>From me\n..dot\n", body)

    def test_pipe_exit_codes(self):
        """Debian's Postfix pipe(8): exit 67 with "5.1.1 no such mailbox here"
        -> "dsn=5.1.1, status=bounced (no such mailbox here )"; exit 75 ->
        "dsn=4.3.0, status=deferred (temporary failure. Command output: try
        later please )"; exit 1 -> "dsn=5.3.0, status=bounced (Command died
        with status 1: \"DIR/record\". Command output: generic error output )"."""
        s = self.s
        s.send(["x@67.test"])
        s.send(["x@75.test"])
        s.send(["x@1.test"])
        s.wait_log(r"to=<x@67\.test>, relay=pipe67, .*dsn=5\.1\.1, status=bounced \(no such "
                   r"mailbox here \)")
        s.wait_log(r"to=<x@75\.test>, relay=pipe75, .*dsn=4\.3\.0, status=deferred \(temporary "
                   r"failure\. Command output: try later please \)")
        s.wait_log(r'to=<x@1\.test>, relay=pipe1, .*dsn=5\.3\.0, status=bounced \(Command died '
                   r'with status 1: "%s"\. Command output: generic error output \)'
                   % re.escape(s.record))

    def test_discard(self):
        """Debian's discard(8): "to=<a@disc.test>, relay=none, delay=..,
        dsn=2.0.0, status=sent (just because)"; a 5.X.X code in the reason is
        ignored with 'warning: sent: ignoring dsn code "5.7.1"'."""
        s = self.s
        s.send(["a@disc.test"])
        s.send(["b@disc2.test"])
        s.wait_log(r"discard\[\d+\]: [0-9A-F]+: to=<a@disc\.test>, relay=none, delay=[\d.]+, "
                   r"delays=[\d./]+, dsn=2\.0\.0, status=sent \(just because\)")
        s.wait_log(r'discard\[\d+\]: warning: sent: ignoring dsn code "5\.7\.1"')
        s.wait_log(r"to=<b@disc2\.test>, relay=none, .*dsn=2\.0\.0, status=sent \(spam go away\)")


class Maildir(unittest.TestCase):
    def test_home_maildir(self):
        """home_mailbox = Maildir/: Debian's Postfix makes Maildir/{tmp,new,cur}
        (0700, the user's), writes new/TIME.VDEVIINODEMUSEC.HOST with
        Return-Path:, X-Original-To:, Delivered-To: and no From_ line, and logs
        "status=sent (delivered to maildir)"."""
        s = StockMTA(extra_main="home_mailbox = Maildir/\n")
        try:
            s.send([s.user + "@localhost"])
            s.wait_log(r"to=<%s@localhost>, relay=local, .*dsn=2\.0\.0, status=sent "
                       r"\(delivered to maildir\)" % s.user)
            md = os.path.join(s.home, "Maildir")
            for sub in ("", "tmp", "new", "cur"):
                st = os.stat(os.path.join(md, sub))
                self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (s.uid, 0o700))
            files = os.listdir(os.path.join(md, "new"))
            self.assertEqual(len(files), 1)
            self.assertRegex(files[0], r"^\d+\.V[0-9a-f]+I[0-9a-f]+M\d+\.%s$"
                             % re.escape(socket.gethostname()))
            self.assertEqual(os.listdir(os.path.join(md, "tmp")), [])
            with open(os.path.join(md, "new", files[0])) as f:
                text = f.read()
            self.assertTrue(text.startswith("Return-Path: <sender@example.org>\n"
                                            "X-Original-To: %s@localhost\n"
                                            "Delivered-To: %s@localhost\n" % (s.user, s.user)))
            self.assertIn("\nFrom me\nline 2\n", text)
        finally:
            s.cleanup()


class UnknownUsers(unittest.TestCase):
    def test_without_local_recipient_maps_unknown_users_bounce(self):
        """local_recipient_maps = (empty): smtpd accepts, local(8) bounces
        with Debian's "dsn=5.1.1, status=bounced (unknown user: \"nosuch\")";
        with luser_relay the mail is forwarded there instead."""
        s = StockMTA(extra_main="local_recipient_maps =\n")
        try:
            s.send(["nosuch@localhost"])
            s.wait_log(r"to=<nosuch@localhost>, relay=local, .*dsn=5\.1\.1, status=bounced "
                       r"\(unknown user: \"nosuch\"\)")
        finally:
            s.cleanup()
        s = StockMTA(extra_main="local_recipient_maps =\nluser_relay = catch+$user@remote.test\n")
        try:
            s.send(["nosuch@localhost"])
            m = s.wait_log(r"to=<nosuch@localhost>, relay=local, .*status=sent \(forwarded as "
                           r"([0-9A-F]+)\)")
            s.wait_log(m[-1] + r": to=<catch\+nosuch@remote\.test>, orig_to=<nosuch@localhost>")
        finally:
            s.cleanup()


class ForwardMappings(unittest.TestCase):
    def test_forwarded_addresses_are_rewritten_and_aliased(self):
        """What an alias forwards goes through canonical(5) and
        virtual_alias_maps, as Postfix's cleanup treats local's forwarded
        message. Debian's Postfix 3.7, aliases "root: admin@valias.test,
        other@canon.test, nobody@valias.test": "forwarded as NEWID", then
        "NEWID: from=<sender@example.org>, size=419, nrcpt=3", far@ and
        far2@remote.test sent with orig_to=<root@localhost>, and
        "to=<nobody@valias.test>, orig_to=<root@localhost>, relay=none, ...
        dsn=5.1.1, status=bounced (User unknown in virtual alias table)"."""
        s = StockMTA(
            extra_main="virtual_alias_domains = valias.test\n"
            "virtual_alias_maps = inline:{{admin@valias.test=far@remote.test}}\n"
            "recipient_canonical_maps = inline:{{other@canon.test=far2@remote.test}}\n",
            aliases="postmaster: root\n"
            "root: admin@valias.test, other@canon.test, nobody@valias.test\n")
        try:
            s.send(["root@localhost"])
            m = s.wait_log(r"to=<root@localhost>, relay=local, .*status=sent \(forwarded as "
                           r"([0-9A-F]+)\)")
            new_id = m[-1]
            s.wait_log(new_id + r": from=<sender@example\.org>, size=\d+, nrcpt=3 ")
            for rcpt in ("far", "far2"):
                s.wait_log(new_id + r": to=<%s@remote\.test>, orig_to=<root@localhost>, "
                           r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent" % rcpt)
            s.wait_log(new_id + r": to=<nobody@valias\.test>, orig_to=<root@localhost>, "
                       r"relay=none, .*dsn=5\.1\.1, status=bounced "
                       r"\(User unknown in virtual alias table\)")
            got = sorted(r for e in s.cap.messages if e.mail_from == "sender@example.org"
                         for r in e.rcpt_tos)
            self.assertEqual(got, ["far2@remote.test", "far@remote.test"])
        finally:
            s.cleanup()


class MailboxLimits(unittest.TestCase):
    def test_mailbox_size_limit_and_biff(self):
        """A mailbox that would grow past mailbox_size_limit bounces: Debian's
        "dsn=5.2.2, status=bounced (cannot update mailbox DIR/mail/USER for
        user USER. error writing message: File too large)"; the mailbox keeps
        its old size. With biff = yes, comsat (UDP biff on 127.0.0.1) hears
        "USER@OFFSET" after a delivery."""
        s = StockMTA(extra_main="mailbox_size_limit = 20480000\nbiff = yes\n")
        comsat = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            comsat.bind(("127.0.0.1", socket.getservbyname("biff", "udp")))
            comsat.settimeout(30)
            s.send([s.user + "@localhost"])
            s.wait_log(r"to=<%s@localhost>, .*status=sent \(delivered to mailbox\)" % s.user)
            note, _ = comsat.recvfrom(512)
            self.assertEqual(note, ("%s@0" % s.user).encode() + b"\0")
            path = os.path.join(s.spool, s.user)
            size = os.path.getsize(path)
            with open(path, "r+b") as f:
                f.truncate(20480000 - 10)
            s.send([s.user + "@localhost"])
            s.wait_log(r"to=<%s@localhost>, relay=local, .*dsn=5\.2\.2, status=bounced "
                       r"\(cannot update mailbox %s for user %s\. error writing message: "
                       r"File too large\)" % (s.user, re.escape(path), s.user))
            self.assertEqual(os.path.getsize(path), 20480000 - 10)
            self.assertGreater(size, 0)
        finally:
            comsat.close()
            s.cleanup()


class Postalias(unittest.TestCase):
    """postalias against Debian's /usr/sbin/postalias, both ways."""

    SOURCE = ("postmaster:    root\n# comment\nRoot: alice, bob,\n  carol\n\"a b\": x\n"
              "list: :include:/etc/list\ncmd: \"|/bin/cat > /dev/null\"\nnocolon value\n"
              "empty:\ndup: a\ndup: b\nlong: a\n\tb\nsp: a  ,   b (c), Foo Bar<foo@bar>\n")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_postalias.")
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write("myhostname = mx.test.invalid\n")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_prog(self, prog, *args, input=None):
        return subprocess.run([prog, "-c", self.dir] + list(args), capture_output=True,
                              text=True, input=input, cwd=self.dir, timeout=60)

    def dump(self, prog, name):
        p = self.run_prog(prog, "-s", name)
        self.assertEqual(p.returncode, 0, p.stderr)
        return sorted(line for line in p.stdout.splitlines()
                      if not line.startswith("YP_LAST_MODIFIED:\t"))

    def test_both_ways(self):
        ours, theirs = os.path.join(SBIN, "postalias"), "/usr/sbin/postalias"
        for name in ("a1", "a2"):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(self.SOURCE)
        p = self.run_prog(ours, "a1")
        q = self.run_prog(theirs, "a2")
        self.assertEqual((p.returncode, q.returncode), (0, 0))
        # Postfix's warnings, word for word.
        self.assertEqual(p.stderr.replace("a1", "X"), q.stderr.replace("a2", "X"))
        self.assertIn("postalias: warning: a1, line 8: need name:value pair", p.stderr)
        self.assertIn('postalias: warning: a1.db: duplicate entry: "dup"', p.stderr)
        want = self.dump(theirs, "a2")
        self.assertIn("root:\talice, bob, carol", want)
        self.assertIn("sp:\ta, b (c), Foo Bar <foo@bar>", want)
        self.assertIn("YP_MASTER_NAME:\tmx.test.invalid", want)
        self.assertIn("@:\t@", want)
        # Each reads the other's table the same way.
        self.assertEqual(self.dump(theirs, "a1"), want)
        self.assertEqual(self.dump(ours, "a2"), want)
        self.assertEqual(self.dump(ours, "a1"), want)
        for prog in (ours, theirs):
            for table in ("a1", "a2"):
                r = self.run_prog(prog, "-q", "ROOT", table)
                self.assertEqual((r.returncode, r.stdout), (0, "alice, bob, carol\n"))
                r = self.run_prog(prog, "-q", "-", table, input="root\nnope\nA B\n")
                self.assertEqual((r.returncode, r.stdout),
                                 (0, "root:\talice, bob, carol\nA B:\tx\n"))
                r = self.run_prog(prog, "-q", "nope", table)
                self.assertEqual((r.returncode, r.stdout), (1, ""))

    def test_newaliases_rebuilds_alias_database(self):
        """newaliases (sendmail under that name) runs our postalias on each
        table of alias_database, as Postfix's newaliases does."""
        with open(os.path.join(self.dir, "main.cf"), "a") as f:
            f.write("command_directory = %s\nalias_database = hash:%s/a1, hash:%s/a2\n"
                    % (SBIN, self.dir, self.dir))
        for name in ("a1", "a2"):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write("root: %s-target\n" % name)
        p = subprocess.run([os.path.join(SBIN, "newaliases"), "-C", self.dir],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        for name in ("a1", "a2"):
            r = self.run_prog("/usr/sbin/postalias", "-q", "root", "hash:" + name)
            self.assertEqual((r.returncode, r.stdout), (0, "%s-target\n" % name))

    def test_incremental_delete_and_errors(self):
        ours = os.path.join(SBIN, "postalias")
        with open(os.path.join(self.dir, "al"), "w") as f:
            f.write("root: alice\n")
        self.run_prog(ours, "al")
        r = self.run_prog(ours, "-i", "al", input="new: x,y\nroot: changed\n")
        self.assertEqual(r.returncode, 0)
        self.assertIn('duplicate entry: "root"', r.stderr)
        self.assertEqual(self.dump("/usr/sbin/postalias", "al")[-2:],
                         ["new:\tx, y", "root:\talice"])
        self.assertEqual(self.run_prog(ours, "-d", "new", "al").returncode, 0)
        self.assertEqual(self.run_prog(ours, "-d", "new", "al").returncode, 1)
        r = self.run_prog(ours, "nosuch")
        self.assertEqual((r.returncode, r.stderr),
                         (1, "postalias: fatal: open nosuch: No such file or directory\n"))
        r = self.run_prog(ours)
        self.assertEqual((r.returncode, r.stderr),
                         (1, "postalias: fatal: usage: postalias [-Nfinoprsuvw] [-c config_dir]"
                          " [-d key] [-q key] [map_type:]file...\n"))


if __name__ == "__main__":
    unittest.main()
