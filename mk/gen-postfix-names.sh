#!/bin/sh
# gen-postfix-names.sh - write lib/global/postfix_names.def
#
# Usage: sh mk/gen-postfix-names.sh [POSTCONF] > lib/global/postfix_names.def
#
# The names of Postfix 3.7's parameters (as Debian's postconf -d lists
# them; POSTCONF defaults to /usr/sbin/postconf) that our parameter table
# does not have, one POSTFIX_NAME("name") line each. master and postconf
# read the list to tell "a Postfix parameter that this mail system does not
# implement" from a name that is no parameter at all.
# tests/integration/test_noimpl.py checks that the committed list still
# covers Debian's postconf -d.
set -e
postconf=${1:-/usr/sbin/postconf}
top=$(dirname "$0")/..
ours=$(mktemp)
empty=$(mktemp -d)
trap 'rm -rf "$ours" "$empty"' EXIT
# An empty configuration: no master.cf services add per-transport names.
: > "$empty/main.cf"
: > "$empty/master.cf"
sed -n 's/^PARAM([A-Z]*, "\([^"]*\)".*/\1/p' "$top/lib/global/mail_params.def" | sort > "$ours"
cat <<'HEAD'
/*
 * NAME
 *	postfix_names.def - Postfix 3.7's parameters that we do not have
 * SYNOPSIS
 *	#define POSTFIX_NAME(name) ...
 *	#include "global/postfix_names.def"
 * DESCRIPTION
 *	Written by mk/gen-postfix-names.sh from Debian's postconf -d: the
 *	names of Postfix parameters that are not in mail_params.def. Setting
 *	one logs that this mail system does not implement it (mail_conf(3)).
 */
HEAD
"$postconf" -c "$empty" -d 2>/dev/null | sed -n 's/^\([a-zA-Z0-9_]*\) =.*/\1/p' | sort -u |
    comm -23 - "$ours" | sed 's/.*/POSTFIX_NAME("&")/'
