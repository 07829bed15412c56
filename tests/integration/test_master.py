"""test_master - the master daemon: start/stop, pid lock, on-demand children,
replacement, throttling, reload, wakeup, privileges, stock master.cf.

Uses the small test daemon build/tests/daemon/testd (symlinked into a
private daemon_directory under each instance's folder) so these tests do
not depend on the real daemons.
"""
import os
import re
import signal
import socket
import subprocess
import time
import unittest

from mta import MTA, BUILD, LIBEXEC, free_port, wait_for, port_open

TESTD = os.path.join(BUILD, "tests", "daemon", "testd")
MASTER = os.path.join(LIBEXEC, "master")


def alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return "State:\tZ" not in f.read()
    except OSError:
        return False


def argv0(pid):
    with open("/proc/%d/cmdline" % pid) as f:
        return f.read().split("\0")[0]


class Session:
    """A line-based client of testd."""

    def __init__(self, port, addr="127.0.0.1", timeout=15):
        self.sock = socket.create_connection((addr, port), timeout=timeout)
        self.f = self.sock.makefile("rb")
        self.banner = self.f.readline().decode()
        m = re.search(r"pid=(\d+) uid=(\d+) gid=(\d+)", self.banner)
        if not m:
            raise AssertionError("no testd banner: %r" % self.banner)
        self.pid, self.uid, self.gid = (int(x) for x in m.groups())

    def cmd(self, text):
        self.sock.sendall((text + "\r\n").encode())
        return self.f.readline().decode().rstrip("\r\n")

    def close(self):
        try:
            self.cmd("QUIT")
        except OSError:
            pass
        self.f.close()
        self.sock.close()


def testd_mta(master_cf, main_cf=None, links=("testd",), start=True):
    """An MTA whose daemon_directory holds symlinks to testd."""
    m = MTA(main_cf=main_cf, master_cf="", start=False)
    libexec = os.path.join(m.dir, "libexec")
    os.makedirs(libexec)
    for name in links:
        os.symlink(TESTD, os.path.join(libexec, name))
    m.set_main(daemon_directory=libexec)
    m.write("master.cf", master_cf.format(port=m.smtp_port, dir=m.dir))
    os.chmod(m.dir, 0o777)
    if start:
        m.start()
    return m


# Put BASIC last: the MTA harness waits for its port, and master binds the
# listeners in file order.
BASIC = "127.0.0.1:{port} inet n - n - 3 testd\n"


class MasterBasics(unittest.TestCase):
    def test_start_serve_stop(self):
        with testd_mta("bogus unix - - n - - testd\n" + BASIC,
                       main_cf={"unknown_thing": "1", "uses_it": "$used_name",
                                "used_name": "x", "bogus_destination_concurrency_limit": "2",
                                "bogus_initial_destination_concurrency": "2"}) as m:
            m.wait_log(r"postfix/master\[\d+\]: daemon started -- version \S+, configuration %s"
                       % re.escape(m.config_dir))
            s = Session(m.smtp_port)
            self.assertIn("service=127.0.0.1:%d" % m.smtp_port, s.banner)
            self.assertEqual(s.cmd("PARAM service_name"), "250 127.0.0.1:%d" % m.smtp_port)
            kids = m.children()
            self.assertIn(s.pid, kids)
            s.close()
            log = m.log()
            self.assertIn("unused parameter: unknown_thing=1", log)
            self.assertNotIn("unused parameter: used_name", log)
            self.assertIn("unused parameter: uses_it=$used_name", log)
            self.assertNotIn("bogus_destination_concurrency_limit", log)
            self.assertNotIn("bogus_initial_destination_concurrency", log)
            self.assertTrue(os.path.exists(os.path.join(m.queue_dir, "private", "bogus")))
            proc = m.proc
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(15), 0)
            m.proc = None
            for pid in kids:
                wait_for(lambda: not alive(pid), 10, what="child %d to exit" % pid)
            self.assertIn("terminating on signal 15", m.log())

    def test_children_log_to_maillog_file(self):
        port2 = free_port()
        mcf = ("127.0.0.1:%d inet n - n - - testd -o {{ syslog_name = postfix/$service_name }}\n"
               % port2 + BASIC)
        with testd_mta(mcf) as m:
            s = Session(m.smtp_port)
            s.cmd("LOG hello from a child")
            s.close()
            m.wait_log(r"postfix/testd\[%d\]: hello from a child" % s.pid)
            s = Session(port2)
            s.cmd("LOG renamed")
            s.close()
            m.wait_log(r"postfix/127\.0\.0\.1:%d/testd\[%d\]: renamed" % (port2, s.pid))

    def test_exit_time(self):
        m = testd_mta(BASIC, start=False)
        try:
            p = subprocess.run([MASTER, "-c", m.config_dir, "-d", "-e", "1"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("exit time has arrived", m.log())
        finally:
            m.cleanup()

    def test_queue_folders(self):
        with testd_mta(BASIC) as m:
            for d in ("incoming", "active", "deferred", "hold", "corrupt", "bounce",
                      "defer", "trace", "flush", "saved", "private", "public", "pid"):
                self.assertTrue(os.path.isdir(os.path.join(m.queue_dir, d)), d)
            st = os.stat(os.path.join(m.queue_dir, "public"))
            self.assertEqual(st.st_mode & 0o777, 0o710)
            st = os.stat(os.path.join(m.queue_dir, "incoming"))
            self.assertEqual(st.st_mode & 0o777, 0o700)
            with open(os.path.join(m.queue_dir, "pid", "master.pid")) as f:
                self.assertEqual(int(f.read().strip()), m.proc.pid)

    def test_t_and_pid_lock(self):
        with testd_mta(BASIC) as m:
            run = lambda *a: subprocess.run([MASTER, "-c", m.config_dir] + list(a),
                                            capture_output=True, text=True, timeout=30)
            self.assertEqual(run("-t").returncode, 1)
            p = run("-d")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("the Postfix mail system is already running", p.stderr)
            self.assertTrue(port_open("127.0.0.1", m.smtp_port))
            m.stop()
            self.assertEqual(run("-t").returncode, 0)

    def test_idle_child_is_reused(self):
        port2 = free_port()
        with testd_mta("127.0.0.1:%d inet n - n - 0 testd\n" % port2 + BASIC) as m:
            pids = set()
            for _ in range(6):
                s = Session(port2)
                pids.add(s.pid)
                s.close()
                time.sleep(0.2)     # let the child report "idle" to master
            self.assertLessEqual(len(pids), 2, "idle children serve the next clients")

    def test_idle_children_share_the_listener(self):
        # Four idle children wait on one listening socket; each new
        # connection wakes one of them (epoll's EPOLLEXCLUSIVE on Linux).
        # No client may be left waiting, and an idle child still leaves
        # after max_idle and when master stops.
        with testd_mta(BASIC.replace(" 3 testd", " 4 testd"),
                       main_cf={"max_idle": "3s"}) as m:
            served = set()
            for _ in range(25):
                burst = [Session(m.smtp_port, timeout=5) for _ in range(4)]
                for s in burst:
                    self.assertEqual(s.cmd("NOOP"), "250 ok")
                    served.add(s.pid)
                for s in burst:
                    s.close()
            self.assertLessEqual(len(served), 4, "idle children serve the next clients")
            for pid in served:
                wait_for(lambda: not alive(pid), 15, what="idle child %d to leave" % pid)
            s = Session(m.smtp_port, timeout=5)
            self.assertEqual(s.cmd("NOOP"), "250 ok")
            s.close()
            kids = m.children()
            self.assertTrue(kids)
            m.proc.send_signal(signal.SIGTERM)
            self.assertEqual(m.proc.wait(15), 0)
            m.proc = None
            for pid in kids:
                wait_for(lambda: not alive(pid), 10, what="child %d to exit" % pid)

    def test_maxproc(self):
        with testd_mta(BASIC) as m:
            s2 = Session(m.smtp_port)
            s3 = Session(m.smtp_port)
            s4 = Session(m.smtp_port)
            self.assertEqual(len({s2.pid, s3.pid, s4.pid}), 3)
            # maxproc 3: a fourth client waits until one finishes.
            c = socket.create_connection(("127.0.0.1", m.smtp_port), timeout=15)
            c.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                c.recv(100)
            s3.close()
            c.settimeout(15)
            self.assertIn(b"220 testd", c.recv(200))
            c.close()
            s2.close()
            s4.close()

    def test_killed_child_is_replaced(self):
        with testd_mta(BASIC) as m:
            s = Session(m.smtp_port)
            os.kill(s.pid, signal.SIGKILL)
            m.wait_log(r"warning: process \S+/testd pid %d killed by signal 9" % s.pid)
            s2 = Session(m.smtp_port)
            self.assertNotEqual(s.pid, s2.pid)
            self.assertEqual(s2.cmd("NOOP"), "250 ok")
            s2.close()
            self.assertNotIn("throttling", m.log())

    def test_throttle_failing_service(self):
        crash_port = free_port()
        mcf = "127.0.0.1:%d inet n - n - - testd crash\n" % crash_port + BASIC
        with testd_mta(mcf, main_cf={"service_throttle_time": "3s"}) as m:
            c = socket.create_connection(("127.0.0.1", crash_port), timeout=15)
            m.wait_log(r"warning: process \S+/testd pid \d+ exit status 1")
            m.wait_log(r"warning: \S+/testd: bad command startup -- throttling")
            t0 = time.time()
            time.sleep(1.0)
            self.assertEqual(len(re.findall(r"exit status 1", m.log())), 1,
                             "no new child while throttled")
            m.wait_log(r"bad command startup -- throttling", count=2, timeout=20)
            self.assertGreaterEqual(time.time() - t0, 1.5)
            c.close()
            # The healthy service is not affected.
            s = Session(m.smtp_port)
            s.close()

    def test_reload_new_children_get_new_config(self):
        with testd_mta(BASIC, main_cf={"test_value": "one"}) as m:
            busy = Session(m.smtp_port)
            self.assertEqual(busy.cmd("PARAM test_value"), "250 one")
            idle = Session(m.smtp_port)
            idle.close()
            m.set_main(test_value="two")
            m.reload()
            m.wait_log(r"reload -- version \S+, configuration")
            wait_for(lambda: not alive(idle.pid), 10, what="idle old child to exit")
            s = Session(m.smtp_port)
            self.assertEqual(s.cmd("PARAM test_value"), "250 two")
            self.assertNotIn(s.pid, (busy.pid, idle.pid))
            # The busy old child finishes its client, then exits.
            self.assertEqual(busy.cmd("PARAM test_value"), "250 one")
            busy.close()
            wait_for(lambda: not alive(busy.pid), 10, what="busy old child to exit")
            s.close()

    def test_reload_master_cf_changes(self):
        port2 = free_port()
        with testd_mta(BASIC) as m:
            s = Session(m.smtp_port)
            s.close()
            m.write("master.cf", BASIC.format(port=m.smtp_port)
                    + "127.0.0.1:%d inet n - n - - testd -o test_value=added\n" % port2)
            m.reload()
            wait_for(lambda: port_open("127.0.0.1", port2), 10, what="new listener")
            s2 = Session(port2)
            self.assertEqual(s2.cmd("PARAM test_value"), "250 added")
            s2.close()
            self.assertTrue(port_open("127.0.0.1", m.smtp_port))

    def test_reload_with_broken_files_keeps_running(self):
        with testd_mta(BASIC, main_cf={"test_value": "one"}) as m:
            # A child that read main.cf before it breaks (a new one would
            # fail on it, and throttle the service, as in Postfix).
            Session(m.smtp_port).close()
            with open(m.path("main.cf"), "a") as f:
                f.write("this line has no equals sign\n")
            m.reload()
            m.wait_log(r"main.cf, line \d+: missing '=' after attribute name: "
                       r"\"this line has no equals sign\"; keeping the old configuration")
            m.set_main(test_value="two")
            m.write("master.cf", BASIC.format(port=m.smtp_port) + "x unix - - n - - \n")
            m.reload()
            m.wait_log(r"master.cf, line 2: bad field count .*; keeping the old configuration")
            self.assertIsNone(m.proc.poll())
            s = Session(m.smtp_port)
            self.assertEqual(s.cmd("NOOP"), "250 ok")
            s.close()

    def test_wakeup(self):
        trig = "{dir}/triggers"
        mcf = ("tick unix n - n 1 1 testd -u trigger " + trig + "\n"
               + "lazy unix n - n 1? 1 testd -u trigger " + trig + "\n" + BASIC)
        with testd_mta(mcf) as m:
            path = os.path.join(m.dir, "triggers")

            def ticks():
                try:
                    with open(path) as f:
                        return f.read().count("tick W")
                except OSError:
                    return 0
            wait_for(lambda: ticks() >= 3, 15, what="three wakeups")
            with open(path) as f:
                self.assertNotIn("lazy", f.read())
            # First use of "lazy", then its wakeups follow.
            c = socket.socket(socket.AF_UNIX)
            c.connect(os.path.join(m.queue_dir, "public", "lazy"))
            c.sendall(b"X")
            c.close()

            def lazy():
                with open(path) as f:
                    t = f.read()
                return "lazy X" in t and "lazy W" in t
            wait_for(lazy, 15, what="lazy wakeups after first use")


    def test_listen_addresses(self):
        p6 = free_port("::1")
        bare = free_port()
        mcf = ("[::1]:%d inet n - n - - testd\n" % p6
               + "%d inet n - n - - testd -o test_value=bare\n" % bare + BASIC)
        with testd_mta(mcf, main_cf={"inet_interfaces": "loopback-only"}) as m:
            s = Session(p6, addr="::1")
            self.assertIn("service=[::1]:%d" % p6, s.banner)
            s.close()
            for addr in ("127.0.0.1", "::1"):
                s = Session(bare, addr=addr)
                self.assertEqual(s.cmd("PARAM test_value"), "250 bare")
                s.close()
            # An explicit address binds only that address.
            self.assertFalse(port_open("::1", m.smtp_port))

    def test_process_limit_counts_every_address(self):
        bare = free_port()
        mcf = "%d inet n - n - 1 testd\n" % bare + BASIC
        with testd_mta(mcf, main_cf={"inet_interfaces": "loopback-only"}) as m:
            s = Session(bare, addr="127.0.0.1")
            c = socket.create_connection(("::1", bare), timeout=15)
            c.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                c.recv(100)
            s.close()
            c.settimeout(15)
            self.assertIn(b"220 testd", c.recv(200))
            c.close()

    def test_trigger_server_leaves_after_reload(self):
        trig = "{dir}/triggers"
        mcf = "tick unix n - n 1 1 testd -u trigger " + trig + "\n" + BASIC
        with testd_mta(mcf) as m:
            path = os.path.join(m.dir, "triggers")
            wait_for(lambda: os.path.exists(path), 15, what="first wakeup")

            def tick_pids():
                pids = []
                for pid in m.children():
                    try:
                        with open("/proc/%d/cmdline" % pid) as f:
                            if "tick" in f.read().split("\0"):
                                pids.append(pid)
                    except OSError:
                        pass
                return pids
            old = wait_for(tick_pids, 10, what="tick process")
            m.reload()
            m.wait_log(r"reload -- version")
            wait_for(lambda: not alive(old[0]), 10, what="old trigger server to exit")
            wait_for(lambda: tick_pids() and tick_pids() != old, 15,
                     what="a new trigger server")


class MasterPrivileges(unittest.TestCase):
    def setUp(self):
        if os.getuid() != 0:
            self.skipTest("needs root")

    def proc_ids(self, pid):
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
        uid = int(re.search(r"^Uid:\s+(\d+)", text, re.M).group(1))
        gid = int(re.search(r"^Gid:\s+(\d+)", text, re.M).group(1))
        return uid, gid

    def test_children_run_as_mail_owner_and_chroot(self):
        import pwd
        pw = pwd.getpwnam("postfix")
        port2 = free_port()
        mcf = "127.0.0.1:%d inet n - y - - testd\n" % port2 + BASIC
        with testd_mta(mcf, main_cf={"mail_owner": "postfix"}) as m:
            s = Session(m.smtp_port)
            self.assertEqual(self.proc_ids(s.pid), (pw.pw_uid, pw.pw_gid))
            self.assertEqual(os.readlink("/proc/%d/root" % s.pid), "/")
            s2 = Session(port2)
            self.assertEqual(self.proc_ids(s2.pid), (pw.pw_uid, pw.pw_gid))
            self.assertEqual(os.readlink("/proc/%d/root" % s2.pid),
                             os.path.realpath(m.queue_dir))
            s.close()
            s2.close()
            self.assertEqual(os.stat(os.path.join(m.queue_dir, "incoming")).st_uid, pw.pw_uid)

    def test_unpriv_n_stays_root(self):
        mcf = "127.0.0.1:{port} inet n n n - - testd\n"
        with testd_mta(mcf, main_cf={"mail_owner": "postfix"}) as m:
            s = Session(m.smtp_port)
            self.assertEqual((s.uid, s.gid), (0, 0))
            s.close()

    def test_unknown_mail_owner_refused(self):
        m = testd_mta(BASIC, main_cf={"mail_owner": "no_such_user_xyz"}, start=False)
        try:
            p = subprocess.run([MASTER, "-c", m.config_dir, "-d"], capture_output=True,
                               text=True, timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("parameter mail_owner: unknown user name value: no_such_user_xyz",
                          p.stderr)
        finally:
            m.cleanup()

    def test_started_by_other_user(self):
        import pwd
        pw = pwd.getpwnam("nobody")
        m = testd_mta(BASIC, main_cf={"mail_owner": "postfix"}, start=False)
        try:
            os.chmod(m.dir, 0o777)
            open(m.logfile, "a").close()
            os.chown(m.logfile, pw.pw_uid, pw.pw_gid)

            def demote():
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
            m.proc = subprocess.Popen([MASTER, "-c", m.config_dir, "-d"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      env=m.env(), preexec_fn=demote)
            wait_for(lambda: port_open("127.0.0.1", m.smtp_port) or m.proc.poll() is not None,
                     15, what="listener")
            self.assertIsNone(m.proc.poll(), m.proc.stderr.read() if m.proc.poll() is not None else "")
            s = Session(m.smtp_port)
            self.assertEqual((s.uid, s.gid), (pw.pw_uid, pw.pw_gid))
            s.close()
            m.wait_log(r"not running as root: master and all services run as user nobody")
        finally:
            m.cleanup()


class MasterEnvironment(unittest.TestCase):
    """master keeps what import_environment lists (and sets its name=value
    items); its children inherit that, with MAIL_CONFIG and MASTER_*, and
    sanitizer settings. Debian's Postfix 3.7 started with TZ=UTC,
    LANG=C.UTF-8, SECRET_TOKEN and KEEPME gives smtpd "MAIL_CONFIG=...
    MAIL_LOGTAG=postfix TZ=UTC LANG=C POSTLOG_SERVICE=... POSTLOG_HOSTNAME=...
    GENERATION=4": the default import list, LANG=C set by it, nothing else."""

    def child_env(self, main_cf):
        m = testd_mta(BASIC, main_cf=main_cf, start=False)
        base = {"PATH": "/usr/bin:/bin", "TZ": "UTC", "LANG": "C.UTF-8",
                "SECRET_TOKEN": "hunter2", "KEEPME": "kept", "MASTER_EXTRA": "x",
                "ASAN_OPTIONS": "detect_leaks=0", "UBSAN_OPTIONS": "print_stacktrace=1",
                "MAIL_CONFIG": m.config_dir}
        m.env = lambda: dict(base)
        with m:
            m.start()
            s = Session(m.smtp_port)
            with open("/proc/%d/environ" % s.pid, "rb") as f:
                env = dict(e.split("=", 1) for e in f.read().decode().split("\0") if e)
            s.close()
        return env, m.config_dir

    def test_default_import_environment(self):
        env, config_dir = self.child_env(None)
        self.assertEqual(env.pop("MAIL_CONFIG"), config_dir)
        self.assertEqual(env.pop("MASTER_GENERATION"), "0")
        self.assertEqual(env.pop("MASTER_LISTEN_COUNT"), "1")
        self.assertEqual(env.pop("MASTER_PROCESS_LIMIT"), "3")   # BASIC: maxproc 3
        self.assertEqual(env, {"TZ": "UTC", "LANG": "C",
                               "ASAN_OPTIONS": "detect_leaks=0",
                               "UBSAN_OPTIONS": "print_stacktrace=1"})

    def test_configured_import_environment(self):
        env, config_dir = self.child_env({"import_environment": "KEEPME, SET=value NOT_SET"})
        self.assertEqual(env["KEEPME"], "kept")
        self.assertEqual(env["SET"], "value")
        self.assertEqual(env["MAIL_CONFIG"], config_dir)
        for gone in ("TZ", "LANG", "SECRET_TOKEN", "PATH", "NOT_SET", "MASTER_EXTRA"):
            self.assertNotIn(gone, env)


ALL_CHROOT_MASTER_CF = """\
{smtp_listen} inet n  -       y       -       -       smtpd
qmgr      unix  n       -       y       300     1       qmgr
bounce    unix  -       -       y       -       0       bounce
defer     unix  -       -       y       -       0       bounce
trace     unix  -       -       y       -       0       bounce
verify    unix  -       -       y       -       1       verify
flush     unix  n       -       y       1000?   0       flush
showq     unix  n       -       y       -       -       showq
smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp
"""


class MasterRealDaemons(unittest.TestCase):
    """Issue 3's master bullets with the real daemons."""

    def setUp(self):
        if os.getuid() != 0:
            self.skipTest("needs root")

    def test_every_child_is_mail_owner_in_the_chroot(self):
        import pwd
        import smtplib
        import test_smtp as peers
        pw = pwd.getpwnam("postfix")
        port = free_port()
        cap = peers.Capture("127.0.0.1", port, name="sink")
        try:
            m = MTA(main_cf={"mail_owner": "postfix"}, master_cf="", start=False)
            m.set_main(transport_maps="texthash:" + m.path("transport"))
            m.write("transport", "sink.test smtp:[127.0.0.1]:%d\n" % port)
            m.write("master.cf", ALL_CHROOT_MASTER_CF.format(
                smtp_listen="127.0.0.1:%d" % m.smtp_port))
            m.start()
            with m:
                with smtplib.SMTP("127.0.0.1", m.smtp_port, timeout=30) as s:
                    s.sendmail("a@sender.test", ["u@sink.test"],
                               "Subject: owner\r\n\r\nbody\r\n")
                m.wait_log(r"to=<u@sink\.test>, relay=127\.0\.0\.1.*status=sent", timeout=60)
                p = m.command("postqueue", "-p")
                self.assertIn("Mail queue is empty", p.stdout)
                held = smtplib.SMTP("127.0.0.1", m.smtp_port, timeout=30)
                held.ehlo("client.test")
                names = set()
                for pid in m.children():
                    try:
                        name = os.path.basename(argv0(pid))
                        with open("/proc/%d/status" % pid) as f:
                            text = f.read()
                        root = os.readlink("/proc/%d/root" % pid)
                    except OSError:
                        continue                # exited meanwhile
                    uids = re.search(r"^Uid:\s+(.*)$", text, re.M).group(1).split()
                    gids = re.search(r"^Gid:\s+(.*)$", text, re.M).group(1).split()
                    self.assertEqual(set(int(x) for x in uids), {pw.pw_uid}, name)
                    self.assertEqual(set(int(x) for x in gids), {pw.pw_gid}, name)
                    self.assertEqual(root, os.path.realpath(m.queue_dir), name)
                    names.add(name)
                held.quit()
                self.assertTrue({"smtpd", "qmgr", "smtp", "showq"} <= names, names)
        finally:
            cap.stop()

    def test_kill9_mid_data_nothing_reaches_qmgr(self):
        import smtplib
        import test_smtp as peers
        from smtpd_util import Client, incoming
        port = free_port()
        cap = peers.Capture("127.0.0.1", port, name="sink")
        try:
            m = MTA(master_cf="", start=False)
            m.set_main(transport_maps="texthash:" + m.path("transport"))
            m.write("transport", "sink.test smtp:[127.0.0.1]:%d\n" % port)
            m.write("master.cf", ALL_CHROOT_MASTER_CF.format(
                smtp_listen="127.0.0.1:%d" % m.smtp_port))
            m.start()
            with m:
                c = Client(m.smtp_port)
                c.cmd("EHLO client.test")
                c.cmd("MAIL FROM:<a@b.test>")
                c.cmd("RCPT TO:<half@sink.test>")
                c.cmd("DATA")
                c.send(b"Subject: half\r\n\r\n" + b"x" * 20000 + b"\r\n")
                files = wait_for(lambda: incoming(m), 10, what="a queue file being written")
                qid = files[0][0]
                inc = os.path.join(m.queue_dir, "incoming") + "/"

                def writer():
                    for pid in m.children():
                        try:
                            for fd in os.listdir("/proc/%d/fd" % pid):
                                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(inc):
                                    return pid
                        except OSError:
                            pass
                    return None
                pid = wait_for(writer, 10, what="the smtpd writing it")
                os.kill(pid, signal.SIGKILL)
                self.assertTrue(c.closed())
                m.wait_log(r"process \S+/smtpd pid %d killed by signal 9" % pid)
                # A new smtpd takes the next message; qmgr delivers it, so it
                # has scanned incoming/ since the kill.
                wait_for(lambda: port_open("127.0.0.1", m.smtp_port), 10, what="listener")
                with smtplib.SMTP("127.0.0.1", m.smtp_port, timeout=30) as s:
                    s.sendmail("a@sender.test", ["whole@sink.test"],
                               "Subject: whole\r\n\r\nbody\r\n")
                m.wait_log(r"to=<whole@sink\.test>, .*status=sent", timeout=60)
                # smtpd logged "QID: client=", nothing else ever saw the file.
                self.assertIn("%s: client=" % qid, m.log())
                self.assertFalse(re.search(r"postfix/(?!smtpd\[)\S+: %s:" % qid, m.log()))
                self.assertEqual([e["to"] for e in cap.messages], [["whole@sink.test"]])
                for sub in ("active", "deferred", "hold"):
                    self.assertEqual(os.listdir(os.path.join(m.queue_dir, sub)), [], sub)
                for name, mode in incoming(m):
                    self.assertFalse(mode & 0o100, "%s is marked complete" % name)
        finally:
            cap.stop()


CHROOT_MASTER_CF = """\
{smtp_listen} inet n  -       y       -       -       smtpd
qmgr      unix  n       -       n       300     1       qmgr
bounce    unix  -       -       y       -       0       bounce
defer     unix  -       -       y       -       0       bounce
trace     unix  -       -       y       -       0       bounce
smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp
"""


class MasterChroot(unittest.TestCase):
    """chroot = y: name resolution works inside the queue directory."""

    def setUp(self):
        if os.getuid() != 0:
            self.skipTest("needs root")

    def chroot_mta(self, main_cf=None):
        m = MTA(main_cf=main_cf, master_cf="", start=False)
        m.write("master.cf", CHROOT_MASTER_CF.format(smtp_listen="127.0.0.1:%d" % m.smtp_port))
        m.start()
        return m

    def test_smtpd_resolves_client_name_in_chroot(self):
        import smtplib
        with self.chroot_mta() as m:
            with smtplib.SMTP("127.0.0.1", m.smtp_port, timeout=30) as s:
                s.ehlo("client.test")
            m.wait_log(r"smtpd\[\d+\]: connect from localhost\[127\.0\.0\.1\]")
            self.assertNotIn("connect from unknown", m.log())
            for name in ("etc/hosts", "etc/resolv.conf", "etc/nsswitch.conf", "etc/services"):
                with open(os.path.join("/", name), "rb") as a, \
                        open(os.path.join(m.queue_dir, name), "rb") as b:
                    self.assertEqual(a.read(), b.read(), name)
            # Unchanged files are not rewritten at reload; changed ones are.
            hosts = os.path.join(m.queue_dir, "etc", "hosts")
            before = os.stat(hosts).st_ino
            with open(hosts, "a") as f:
                f.write("# stale\n")
            services = os.path.join(m.queue_dir, "etc", "services")
            services_ino = os.stat(services).st_ino
            m.reload()
            m.wait_log(r"reload -- version")
            wait_for(lambda: os.stat(hosts).st_ino != before, 10, what="etc/hosts refreshed")
            with open(hosts, "rb") as a, open("/etc/hosts", "rb") as b:
                self.assertEqual(a.read(), b.read())
            self.assertEqual(os.stat(services).st_ino, services_ino)

    def test_chrooted_smtp_delivers_to_literal_and_dns_name(self):
        import smtplib
        import test_smtp as peers
        relay_addr = peers.loopback_addr()
        port = peers.common_port("127.0.0.1", relay_addr)
        nsd = peers.Nsd("example.test", "relay IN A %s\n" % relay_addr)
        cap1 = peers.Capture("127.0.0.1", port, name="literal")
        cap2 = peers.Capture(relay_addr, port, name="byname")
        try:
            m = MTA(main_cf={"resolv_conf": nsd.resolv_conf}, master_cf="", start=False)
            m.set_main(transport_maps="texthash:" + m.path("transport"))
            m.write("transport", "lit.test smtp:[127.0.0.1]:%d\n"
                                 "name.test smtp:[relay.example.test]:%d\n" % (port, port))
            m.write("master.cf", CHROOT_MASTER_CF.format(smtp_listen="127.0.0.1:%d" % m.smtp_port))
            m.start()
            with m:
                # resolv_conf outside /etc is copied to the same path in the queue.
                with open(os.path.join(m.queue_dir, nsd.resolv_conf.lstrip("/"))) as f:
                    self.assertIn(nsd.addr, f.read())
                msg = "From: a@sender.test\r\nSubject: chroot\r\n\r\nbody\r\n"
                with smtplib.SMTP("127.0.0.1", m.smtp_port, timeout=30) as s:
                    s.sendmail("a@sender.test", ["u@lit.test"], msg)
                    s.sendmail("a@sender.test", ["u@name.test"], msg)
                m.wait_log(r"to=<u@lit\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent"
                           % port, timeout=60)
                m.wait_log(r"to=<u@name\.test>, relay=relay\.example\.test\[%s\]:%d, .*status=sent"
                           % (re.escape(relay_addr), port), timeout=60)
                self.assertEqual(len(cap1.messages), 1)
                self.assertEqual(len(cap2.messages), 1)
                smtp_pids = [p for p in m.children() if argv0(p).endswith("/smtp")]
                self.assertTrue(smtp_pids)
                # A child that master has only just started chroots itself
                # after exec: wait for that (or for it to be gone).
                queue = os.path.realpath(m.queue_dir)

                def root(pid):
                    try:
                        return os.readlink("/proc/%d/root" % pid)
                    except OSError:
                        return queue
                for pid in smtp_pids:
                    wait_for(lambda: root(pid) == queue, 10,
                             what="smtp process %d chrooted to %s" % (pid, queue))
        finally:
            cap1.stop()
            cap2.stop()
            nsd.stop()


class StockMasterCf(unittest.TestCase):
    def test_debian_master_cf_proto(self):
        with open("/etc/postfix/master.cf.proto") as f:
            proto = f.read()
        # Unchanged except the smtpd port (25 may be taken on a test machine).
        proto = proto.replace("{", "{{").replace("}", "}}")
        proto = proto.replace("smtp      inet  n       -       y       -       -       smtpd",
                              "127.0.0.1:{port} inet  n  -  y  -  -  smtpd", 1)
        ours = ("smtpd", "qmgr", "bounce", "verify", "flush", "smtp", "showq", "lmtp", "pickup",
                "local", "pipe", "discard")
        with testd_mta(proto, links=ours) as m:
            s = Session(m.smtp_port)
            s.close()
            m.wait_log(r"master.cf service cleanup/unix: command cleanup is not needed here")
            log = m.log()
            self.assertNotIn("service pickup/unix", log)
            for svc, cmd in (("cleanup", "cleanup"),
                             ("rewrite", "trivial-rewrite"), ("tlsmgr", "tlsmgr"),
                             ("error", "error"), ("retry", "error"), ("anvil", "anvil"),
                             ("scache", "scache"), ("proxymap", "proxymap"),
                             ("proxywrite", "proxymap")):
                self.assertIn("master.cf service %s/unix: command %s is not needed here" % (svc, cmd), log)
            self.assertIn("warning: master.cf service virtual/unix: command virtual is not "
                          "supported", log)
            # local, pipe and discard are ours: started on demand, not logged.
            for svc, cmd in (("discard", "discard"), ("local", "local"),
                             ("maildrop", "pipe"), ("uucp", "pipe")):
                self.assertNotIn("service %s/unix: command %s" % (svc, cmd), log)
            self.assertIn("postlog/unix-dgram: command postlogd is not needed here", log)
            self.assertNotIn("fatal", log)
            self.assertNotIn("unused parameter", log)
            self.assertEqual(len(re.findall("service virtual/unix", log)), 1)
            # Reload: nothing is logged twice, nothing unsupported is started.
            m.reload()
            m.wait_log(r"reload -- version")
            time.sleep(0.5)
            self.assertEqual(len(re.findall("service virtual/unix", m.log())), 1)
            for pid in m.children():
                with open("/proc/%d/cmdline" % pid) as f:
                    argv0 = f.read().split("\0")[0]
                self.assertIn(os.path.basename(argv0), ours)


if __name__ == "__main__":
    unittest.main()
