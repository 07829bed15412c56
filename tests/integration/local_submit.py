"""local_submit.py - helpers for the tests of local submission and commands.

    from local_submit import PICKUP, setgid_sbin, as_user, DefaultConfig
    m = MTA(main_cf=..., extra_master_cf=PICKUP)
    sbin = setgid_sbin(m)          # our commands in m.dir/sbin, postdrop and
                                   # postqueue set-group-id postdrop (2555)
    r = as_user(m, [sbin + "/sendmail", "-t"], input="...",
                default_main_cf="alternate_config_directories = %s\\n" % m.config_dir)

as_user() runs a command as an ordinary user (nobody by default) with the
instance's MAIL_CONFIG. The set-group-id commands only accept a
configuration folder that the default main.cf (/etc/postfix/main.cf)
lists, as Postfix's do; the test must not touch the host's /etc/postfix,
so the command runs in a private mount namespace (unshare -m) where a
temporary folder holding default_main_cf is mounted on /etc/postfix.
Nothing outside that one process sees it.
"""
import grp
import os
import shutil
import subprocess
import tempfile

from mta import SBIN

PICKUP = "pickup    unix  n       -       n       60      1       pickup\n"


def setgid_sbin(m, names=("sendmail", "postdrop", "postqueue", "postcat", "postlog")):
    """Copies of our commands in m.dir/sbin, postdrop and postqueue as
    Debian installs them (root:postdrop 2555); command_directory points
    there. The folders on the way are made searchable by everyone."""
    sbin = os.path.join(m.dir, "sbin")
    os.makedirs(sbin, exist_ok=True)
    gid = grp.getgrnam("postdrop").gr_gid
    for name in names:
        dst = os.path.join(sbin, name)
        shutil.copy(os.path.join(SBIN, name), dst)
        if name in ("postdrop", "postqueue"):
            os.chown(dst, 0, gid)
            os.chmod(dst, 0o2555)
        else:
            os.chmod(dst, 0o755)
    for d in (m.dir, m.config_dir):
        os.chmod(d, 0o755)
    m.set_main(command_directory=sbin)
    return sbin


def as_user(m, cmd, input=None, user="nobody", group="nogroup", default_main_cf=None,
            env_extra=None, mail_config=True, timeout=60):
    """Run cmd as user with the instance's MAIL_CONFIG (unless
    mail_config=False); /etc/postfix/main.cf reads default_main_cf
    (None: an empty file) for that process only."""
    etc = tempfile.mkdtemp(prefix="default-etc-")
    try:
        os.chmod(etc, 0o755)
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write(default_main_cf or "")
        os.chmod(os.path.join(etc, "main.cf"), 0o644)
        env = dict(os.environ)
        env.pop("MAIL_CONFIG", None)
        if mail_config:
            env["MAIL_CONFIG"] = m.config_dir
        env.update(env_extra or {})
        full = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/postfix && exec "$@"', etc,
                "setpriv", "--reuid=" + user, "--regid=" + group, "--clear-groups"] + list(cmd)
        return subprocess.run(full, input=input, capture_output=True, text=True, env=env,
                              timeout=timeout, cwd="/")
    finally:
        shutil.rmtree(etc, ignore_errors=True)


def run(m, cmd, input=None, env_extra=None, timeout=60):
    """Run one of our commands (full path) as root against instance m."""
    env = m.env()
    env.update(env_extra or {})
    return subprocess.run(cmd, input=input, capture_output=True, text=True, env=env,
                          timeout=timeout, cwd="/")


def header_names(text):
    """Names of the headers of a message (in order), continuation lines joined."""
    names = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line == "":
            break
        if line[0] in " \t":
            continue
        names.append(line.split(":", 1)[0])
    return names
