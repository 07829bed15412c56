#!/bin/sh
# install-post.sh - steps after files are copied (users, groups).
#
# Usage: sh mk/install-post.sh DESTDIR COMMAND_DIR
#
# As root and without DESTDIR (a real install, not a staged one): create
# the mail_owner user "postfix" with its own group "postfix", and the
# setgid_group "postdrop", when they are missing. The user gets no login
# shell and no home of its own. Other users: print what is missing.
# Also as root: build /etc/aliases.db when /etc/aliases has none.
DESTDIR=$1
COMMAND_DIR=$2

# mailq is postqueue under another name; postqueue reaches public/ (mode
# 0710, group setgid_group) by being setgid postdrop, never setuid.
if [ -n "$COMMAND_DIR" ] && [ -e "$DESTDIR$COMMAND_DIR/postqueue" ]; then
    ln -sf postqueue "$DESTDIR$COMMAND_DIR/mailq"
    if [ "$(id -u)" = 0 ] && getent group postdrop >/dev/null 2>&1; then
        chgrp postdrop "$DESTDIR$COMMAND_DIR/postqueue" && \
            chmod 2755 "$DESTDIR$COMMAND_DIR/postqueue"
    fi
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
fi
exit 0
