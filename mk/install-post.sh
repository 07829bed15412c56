#!/bin/sh
# install-post.sh - steps after files are copied (links, modes, users).
#
# Usage: sh mk/install-post.sh DESTDIR COMMAND_DIR [PREFIX [BIN_DIR]]
#
# Links as Debian's Postfix has them: BIN_DIR/mailq and BIN_DIR/newaliases
# are sendmail under other names, and so is /usr/lib/sendmail when
# installing to PREFIX=/usr.
#
# Modes as Debian's: postdrop and postqueue are set-group-id postdrop
# (setgid_group), never set-user-id, mode 2555, owner root; they reach
# maildrop/ and public/ that way. That needs root and the group: run
# as another user, the programs stay 0755 and this says so.
#
# As root and without DESTDIR (a real install, not a staged one): create
# the mail_owner user "postfix" with its own group "postfix", and the
# setgid_group "postdrop", when they are missing. The user gets no login
# shell and no home of its own. Other users: print what is missing.
# Also as root: build /etc/aliases.db when /etc/aliases has none.
DESTDIR=$1
COMMAND_DIR=$2
PREFIX=$3
BIN_DIR=${4:-${PREFIX:+$PREFIX/bin}}

if [ -n "$COMMAND_DIR" ] && [ -e "$DESTDIR$COMMAND_DIR/sendmail" ]; then
    if [ -n "$BIN_DIR" ]; then
        mkdir -p "$DESTDIR$BIN_DIR"
        ln -sf "$COMMAND_DIR/sendmail" "$DESTDIR$BIN_DIR/mailq"
        ln -sf "$COMMAND_DIR/sendmail" "$DESTDIR$BIN_DIR/newaliases"
    fi
    if [ "$PREFIX" = /usr ]; then
        mkdir -p "$DESTDIR/usr/lib"
        ln -sf "$COMMAND_DIR/sendmail" "$DESTDIR/usr/lib/sendmail"
    fi
fi

if [ -n "$COMMAND_DIR" ]; then
    for p in postdrop postqueue; do
        f="$DESTDIR$COMMAND_DIR/$p"
        [ -e "$f" ] || continue
        if [ "$(id -u)" = 0 ] && getent group postdrop >/dev/null 2>&1; then
            chown root:postdrop "$f" && chmod 2555 "$f"
        else
            echo "install: $f: not set-group-id postdrop (needs root and the group postdrop)" >&2
        fi
    done
fi

# The alias table that local(8) reads (alias_maps = hash:/etc/aliases in
# conf/main.cf): built once, when the source is there and the table is not
# ("newaliases" rebuilds it after a change).
if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ] && [ -f /etc/aliases ] && [ ! -e /etc/aliases.db ] \
        && [ -x "$COMMAND_DIR/postalias" ]; then
    echo "install: building /etc/aliases.db"
    "$COMMAND_DIR/postalias" hash:/etc/aliases
fi

missing=""
getent group postfix >/dev/null 2>&1 || missing="$missing group:postfix"
id postfix >/dev/null 2>&1 || missing="$missing user:postfix"
getent group postdrop >/dev/null 2>&1 || missing="$missing group:postdrop"
[ -z "$missing" ] && exit 0

if [ -n "$DESTDIR" ]; then
    echo "install: staged install (DESTDIR=$DESTDIR): not creating$missing" >&2
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install: missing$missing; run 'make install' as root to create them" >&2
    exit 0
fi

NOLOGIN=/usr/sbin/nologin
[ -x "$NOLOGIN" ] || NOLOGIN=/bin/false

if ! getent group postfix >/dev/null 2>&1; then
    echo "install: creating group postfix"
    groupadd --system postfix 2>/dev/null || addgroup -S postfix
fi
if ! id postfix >/dev/null 2>&1; then
    echo "install: creating user postfix"
    useradd --system --gid postfix --home-dir /var/spool/postfix --no-create-home \
        --shell "$NOLOGIN" --comment "mail system" postfix 2>/dev/null || \
        adduser -S -G postfix -h /var/spool/postfix -H -s "$NOLOGIN" postfix
fi
if ! getent group postdrop >/dev/null 2>&1; then
    echo "install: creating group postdrop"
    groupadd --system postdrop 2>/dev/null || addgroup -S postdrop
    for p in postdrop postqueue; do
        f="$DESTDIR$COMMAND_DIR/$p"
        [ -e "$f" ] && chown root:postdrop "$f" && chmod 2555 "$f"
    done
fi
exit 0
