/*
 * NAME
 *	posttls-finger - what the SMTP client would do for a destination
 * SYNOPSIS
 *	posttls-finger [-aACcFlLoPSTtv] [inet:]domain[:port] [match ...]
 *	posttls-finger -S [options] unix:pathname [match ...]
 * DESCRIPTION
 *	Connects to the destination as the smtp (or, with -S, lmtp)
 *	delivery agent would, with its lookups and TLS policy, and reports
 *	what it found: the MX hosts and whether DNSSEC validated them, the
 *	TLS level, the usable DANE TLSA records or the MTA-STS policy,
 *	the TLS session and whether the server would be Verified, and
 *	whether the mail would be delivered or deferred. No mail is sent.
 *
 *	Unlike Postfix's posttls-finger (an unsupported test program that
 *	reads no tables), ours reads main.cf, so the answer is the one
 *	the smtp client would give; options override main.cf:
 *	-a family (ipv4, ipv6, any), -c (no SMTP chat: ours never logs
 *	it), -C (print the server's certificate chain: subject, issuer,
 *	SHA-256 of certificate and public key), -F CAfile, -P CApath,
 *	-l level (default: the policy of main.cf, smtp_tls_policy_maps
 *	included; -l replaces both), -L logopts (0/none, 1/routine/
 *	summary, 2/debug), -o name=value, -S (LMTP), -t conn_tmout,
 *	-T timeout, -v, -A (ours: probe every server, not only up to the
 *	first that would take the mail).
 *	Extra arguments are match names (as "match=" of a policy).
 *	Started by root, it runs as mail_owner once main.cf and the
 *	tables are open, as the smtp client does.
 * DIAGNOSTICS
 *	Exit 0 when a server would take the mail, 1 when none would, 64
 *	for a usage error.
 * SEE ALSO
 *	smtp(8), postconf(5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <grp.h>
#include <pwd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "smtpc/smtp_client.h"

#define EX_USAGE	64

#define USAGE "usage: posttls-finger [-ACSv] [-a family] [-c] [-F CAfile] [-P CApath] " \
	"[-l level] [-L logopts] [-o name=value] [-t conn_tmout] [-T timeout] " \
	"[inet:]domain[:port] [match ...]"

/*
 * drop_root - run as mail_owner, as the smtp client does, so that what we
 * write (the MTA-STS cache) stays writable for it.
 */
static void drop_root(void)
{
    const char *owner = mail_conf_str(VAR_MAIL_OWNER);
    struct passwd *pw;

    if (geteuid() != 0)
	return;
    if ((pw = getpwnam(owner)) == 0 || pw->pw_uid == 0)
	msg_fatal("bad %s: %s", VAR_MAIL_OWNER, owner);
    if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
	msg_fatal("cannot drop privileges to %s: %m", owner);
}

/* loglevel - -L logopts as a tls loglevel */
static const char *loglevel(const char *opts)
{
    if (strcasecmp(opts, "0") == 0 || strcasecmp(opts, "none") == 0)
	return ("0");
    if (strcasecmp(opts, "2") == 0 || strcasecmp(opts, "debug") == 0)
	return ("2");
    return ("1");
}

int     main(int argc, char **argv)
{
    int     ch;
    int     lmtp = 0;
    int     flags = 0;
    const char *level = 0;
    const char *family = 0;
    const char *CAfile = 0, *CApath = 0;
    const char *conn_tmout = 0, *timeout = 0;
    const char *logopts = "routine";
    VSTRING *match = vstring_alloc(50);
    ARGV   *overrides = argv_alloc(4);
    VSTREAM *out;
    int     status;

    msg_init("postfix", "posttls-finger");
    msg_to_stderr(1);
    msg_stderr_command_style(1);
    while ((ch = getopt(argc, argv, "Aa:cCF:l:L:o:P:St:T:v")) > 0) {
	switch (ch) {
	case 'A':
	    flags |= SMTP_PROBE_FLAG_ALL;
	    break;
	case 'a':
	    family = optarg;
	    break;
	case 'c':
	    break;
	case 'C':
	    flags |= SMTP_PROBE_FLAG_CHAIN;
	    break;
	case 'F':
	    CAfile = optarg;
	    break;
	case 'l':
	    level = optarg;
	    break;
	case 'L':
	    logopts = optarg;
	    break;
	case 'o':
	    if (strchr(optarg, '=') == 0)
		msg_fatal_status(EX_USAGE, "bad -o option: %s (expected name=value)", optarg);
	    argv_add(overrides, optarg);
	    break;
	case 'P':
	    CApath = optarg;
	    break;
	case 'S':
	    lmtp = 1;
	    break;
	case 't':
	    conn_tmout = optarg;
	    break;
	case 'T':
	    timeout = optarg;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    msg_fatal_status(EX_USAGE, "%s", USAGE);
	}
    }
    if (optind >= argc)
	msg_fatal_status(EX_USAGE, "%s", USAGE);
    mail_conf_read(0);
    for (size_t i = 0; i < overrides->argc; i++) {
	char   *eq = strchr(overrides->argv[i], '=');

	*eq = 0;
	mail_conf_set(overrides->argv[i], eq + 1);
    }

    /*
     * The probe's settings are the client's, with the options on top.
     * smtp_param_*() read lmtp_* for -S, so set the protocol's names.
     */
#define SET(smtp_name, lmtp_name, value) \
    mail_conf_set(lmtp ? (lmtp_name) : (smtp_name), (value))

    SET(VAR_SMTP_TLS_LOGLEVEL, VAR_LMTP_TLS_LOGLEVEL, loglevel(logopts));
    if (level) {
	SET(VAR_SMTP_TLS_SECURITY_LEVEL, VAR_LMTP_TLS_SECURITY_LEVEL, level);
	SET(VAR_SMTP_TLS_POLICY_MAPS, VAR_LMTP_TLS_POLICY_MAPS, "");
    }
    if (CAfile)
	SET(VAR_SMTP_TLS_CAFILE, VAR_LMTP_TLS_CAFILE, CAfile);
    if (CApath)
	SET(VAR_SMTP_TLS_CAPATH, VAR_LMTP_TLS_CAPATH, CApath);
    if (conn_tmout)
	SET(VAR_SMTP_CONNECT_TIMEOUT, VAR_LMTP_CONNECT_TIMEOUT, conn_tmout);
    if (timeout) {
	SET(VAR_SMTP_HELO_TIMEOUT, VAR_LMTP_LHLO_TIMEOUT, timeout);
	SET(VAR_SMTP_STARTTLS_TIMEOUT, VAR_LMTP_STARTTLS_TIMEOUT, timeout);
	SET(VAR_SMTP_QUIT_TIMEOUT, VAR_LMTP_QUIT_TIMEOUT, timeout);
    }
    if (family)
	SET(VAR_SMTP_ADDRESS_PREFERENCE, VAR_LMTP_ADDRESS_PREFERENCE, family);
    smtp_client_init(lmtp ? SMTP_PROTO_LMTP : SMTP_PROTO_SMTP, "posttls-finger");
    drop_root();

    /* Extra arguments: match names, as a policy's match= attribute. */
    for (int i = optind + 1; i < argc; i++)
	vstring_sprintf_append(match, "%s%s", vstring_len(match) ? " " : "", argv[i]);
    out = vstream_fdopen(1);
    status = smtp_client_probe(argv[optind], vstring_str(match), flags, out);
    vstream_fflush(out);
    vstring_free(match);
    argv_free(overrides);
    return (status);
}
