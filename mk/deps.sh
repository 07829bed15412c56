#!/bin/sh
# deps.sh - install the Debian packages the build and the tests need.
#
# Run as root: installs what is missing (Postfix with debconf "No
# configuration", and services are never started by the install).
# Run as another user: prints the exact apt-get line and fails.
set -e

PKGS="gcc make libc6-dev libssl-dev libdb-dev liblmdb-dev libldns-dev libpcre2-dev \
clang libclang-rt-14-dev openssl iproute2 procps psmisc python3 \
python3-aiosmtpd swaks nsd ldnsutils unbound dovecot-lmtpd libsasl2-dev sasl2-bin libsasl2-modules postfix postfix-pcre postfix-lmdb db5.3-util man-db \
opendkim opendkim-tools rspamd zlib1g-dev"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run as root:" >&2
    echo "    apt-get install -y$missing" >&2
    exit 1
fi

echo "deps: installing$missing"
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Keep the install from starting Postfix, nsd or Dovecot on this machine:
# the tests start their own instances on loopback addresses.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' > $policy
    chmod 755 $policy
    made_policy=yes
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
apt-get install -y -qq $missing
[ -n "$made_policy" ] && rm -f $policy
exit 0
