#!/bin/sh
# run.sh - start the mail system in the foreground with the shipped conf/.
#
# Usage: sh mk/run.sh BUILD_DIR   (make run does this)
#
# Copies conf/main.cf and conf/master.cf to var/conf/ and adjusts the
# copy for a development run from the source tree:
#   * the queue, data and log live under ./var (var/spool, var/lib,
#     var/log/maillog), programs come from BUILD_DIR;
#   * smtpd listens on 127.0.0.1:2525 only;
#   * mail for the example relay domain (example.com) is accepted from
#     anyone and routed to a local sink on 127.0.0.1:2526 (Debian's
#     smtp-sink, which stores each message under var/sink/); without
#     smtp-sink the mail stays in the queue (deferred);
#   * as root, mail_owner is "postfix" (created when missing, see
#     mk/install-post.sh); as another user, everything runs as that user.
# Then runs BUILD_DIR/libexec/master -d in the foreground; Ctrl-C stops it.
set -e

BUILD=${1:-build}
TOP=$(pwd)
BUILD_ABS=$(cd "$BUILD" && pwd)
VAR=$TOP/var
CONF=$VAR/conf
SINK_PORT=2526
SMTP_PORT=2525

mkdir -p "$CONF" "$VAR/spool" "$VAR/lib" "$VAR/log" "$VAR/sink"

if [ "$(id -u)" = 0 ]; then
    id postfix >/dev/null 2>&1 && getent group postdrop >/dev/null 2>&1 || \
        sh "$TOP/mk/install-post.sh" "" ""
    OWNER=postfix
    GROUP=postdrop
    chown "$OWNER" "$VAR/lib" "$VAR/sink"
else
    OWNER=$(id -un)
    GROUP=$(id -gn)
fi

cp "$TOP/conf/main.cf" "$CONF/main.cf"
cat >> "$CONF/main.cf" <<EOT

# ---- added by mk/run.sh for a run from the source tree ----
queue_directory = $VAR/spool
data_directory = $VAR/lib
daemon_directory = $BUILD_ABS/libexec
maillog_file = $VAR/log/maillog
maillog_file_prefixes = $VAR/log
mail_owner = $OWNER
setgid_group = $GROUP
myhostname = mx.example.test
inet_interfaces = loopback-only
mynetworks = 127.0.0.0/8 [::1]/128
relay_domains = example.com
transport_maps = inline:{ example.com=relay:[127.0.0.1]:$SINK_PORT }
EOT
sed -e "s/^smtp      inet /127.0.0.1:$SMTP_PORT inet /" \
    "$TOP/conf/master.cf" > "$CONF/master.cf"

SINK_PID=
if command -v smtp-sink >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        smtp-sink -u "$OWNER" -d "$VAR/sink/%Y%m%d-%H%M%S." 127.0.0.1:$SINK_PORT 100 &
    else
        smtp-sink -d "$VAR/sink/%Y%m%d-%H%M%S." 127.0.0.1:$SINK_PORT 100 &
    fi
    SINK_PID=$!
    echo "run: mail for example.com goes to smtp-sink on 127.0.0.1:$SINK_PORT (files in var/sink/)"
else
    echo "run: no smtp-sink: mail for example.com stays in the queue"
fi
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; exit 0' INT TERM EXIT

echo "run: smtpd on 127.0.0.1:$SMTP_PORT, configuration $CONF, log $VAR/log/maillog"
echo "run: try: swaks --server 127.0.0.1:$SMTP_PORT --to user@example.com"
"$BUILD_ABS/libexec/master" -c "$CONF" -d || true
