/*
 * NAME
 *	smtp_client_probe - what the client would do for a destination
 * SYNOPSIS
 *	#include "smtpc/smtp_client.h"
 *
 *	int smtp_client_probe(const char *nexthop, const char *match,
 *				int flags, VSTREAM *out);
 * DESCRIPTION
 *	The engine of posttls-finger(1): the same lookups and decisions as
 *	a delivery (smtp_client_addr, smtp_client_tls, the session up to
 *	and including STARTTLS and the EHLO after it), reported on out
 *	instead of delivering. For the nexthop: the MX hosts and whether
 *	the MX answer was DNSSEC-validated, the configured TLS level and
 *	where it came from; for each server: its addresses' validation,
 *	the effective level, the usable TLSA records or the MTA-STS
 *	policy, the TLS session and its trust (Verified, Trusted,
 *	Untrusted), with SMTP_PROBE_FLAG_CHAIN the server's certificate
 *	chain, and a verdict: "would deliver" or "would defer: X.Y.Z reason".
 *	match (when not empty) replaces the match names of the policy.
 *	The probe stops after the first server that would take the mail,
 *	unless SMTP_PROBE_FLAG_ALL. QUIT ends every session; no mail is
 *	sent.
 * DIAGNOSTICS
 *	Returns 0 when a server would take the mail, 1 when none would.
 *	The engine's own log lines (TLS summary, warnings) go where msg(3)
 *	sends them.
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "tls/tls_client.h"
#include "tls/tls_dane.h"
#include "smtpc/smtp_client.h"

/* probe_hex - association data */
static void probe_hex(VSTREAM *out, const unsigned char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
	vstream_fprintf(out, "%02X", data[i]);
}

/* probe_policy - the effective policy of one server */
static void probe_policy(VSTREAM *out, const DNS_ADDR *addr, SMTP_STATE *st)
{
    const TLS_DANE *dane = st->tls.dane;

    vstream_fprintf(out, "%s[%s]:%d: address %s; effective TLS level %s%s\n",
		    addr->host, addr->ip, st->dest.port,
		    addr->secure ? "DNSSEC-validated" : "not validated",
		    st->tls.level, st->tls.dane_trusted_only ? " (insecure MX: Trusted at best)" : "");
    if (st->tls.sts_mode[0])
	vstream_fprintf(out, "%s: MTA-STS policy mode %s, mx %s\n", addr->host,
			st->tls.sts_mode, st->tls.sts_mx);
    for (size_t i = 0; dane && i < dane->count; i++) {
	vstream_fprintf(out, "%s: usable TLSA _%d._tcp.%s %s(%d) %d %d ", addr->host,
			st->dest.port, dane->base, tls_dane_usage_name(dane->rec[i].usage),
			dane->rec[i].usage, dane->rec[i].selector, dane->rec[i].mtype);
	probe_hex(out, dane->rec[i].data, dane->rec[i].len);
	vstream_fprintf(out, "\n");
    }
}

int     smtp_client_probe(const char *nexthop, const char *match, int flags,
			          VSTREAM *out)
{
    SMTP_STATE st;
    DNS_ADDR_LIST addrs;
    SMTP_WHY why;
    int     mx_self = 0;
    int     ok = 0;

    memset(&st, 0, sizeof(st));
    st.pending = mymalloc(1);
    st.pending[0] = 0;
    smtp_why_init(&st.why);
    smtp_why_init(&why);
    dns_addr_list_init(&addrs);
    if (smtp_dest_parse(&st.dest, nexthop) < 0) {
	vstream_fprintf(out, "%s: bad nexthop syntax\n", nexthop);
	goto done;
    }
    if (smtp_tls_policy_dest(&st, &why) < 0) {
	vstream_fprintf(out, "%s: would defer: %s %s\n", nexthop, why.dsn, vstring_str(why.text));
	goto done;
    }
    if (match && *match)
	vstring_strcpy(st.tls_match, match);
    vstream_fprintf(out, "%s: configured TLS level %s%s%s\n", nexthop, st.tls_level,
		    st.tls_match && vstring_len(st.tls_match) ? ", match " : "",
		    st.tls_match && vstring_len(st.tls_match) ? vstring_str(st.tls_match) : "");
    if (st.dest.unix_path == 0 && smtp_addr_find(&st.dest, &addrs, &why, &mx_self) < 0) {
	vstream_fprintf(out, "%s: would defer: %s %s\n", nexthop, why.dsn, vstring_str(why.text));
	goto done;
    }
    if (st.dest.use_mx)
	vstream_fprintf(out, "%s: MX lookup %s\n", st.dest.host,
			st.dest.mx_secure ? "DNSSEC-validated" : "not validated");
    for (size_t i = 0; i < addrs.count; i++)
	vstream_fprintf(out, "%s: server %d %s[%s]:%d\n", st.dest.host, addrs.addr[i].pref,
			addrs.addr[i].host, addrs.addr[i].ip, st.dest.port);
    for (size_t i = 0; i < addrs.count && (!ok || (flags & SMTP_PROBE_FLAG_ALL)); i++) {
	const DNS_ADDR *addr = addrs.addr + i;
	SMTP_SESSION *sess;
	int     status;

	st.tls_off = 0;
	st.tls_failed = 0;
	if (smtp_tls_policy_server(&st, addr, &st.tls, &why) < 0) {
	    vstream_fprintf(out, "%s[%s]:%d: would defer: %s %s\n", addr->host, addr->ip,
			    st.dest.port, why.dsn, vstring_str(why.text));
	    continue;
	}
	probe_policy(out, addr, &st);
	vstream_fflush(out);
	if ((sess = smtp_session_connect(&st, addr, &why)) == 0) {
	    vstream_fprintf(out, "%s[%s]:%d: would defer: %s %s\n", addr->host, addr->ip,
			    st.dest.port, why.dsn, vstring_str(why.text));
	    continue;
	}
	vstream_fprintf(out, "Connected to %s\n", sess->relay);
	if (flags & SMTP_PROBE_FLAG_CHAIN)
	    st.tls_chain = vstring_alloc(1000);
	status = smtp_session_handshake(sess, &st, &why);
	if (st.tls_chain) {
	    if (vstring_len(st.tls_chain))
		vstream_fprintf(out, "%s: certificate chain:\n%s", sess->relay,
				vstring_str(st.tls_chain));
	    vstring_free(st.tls_chain);
	    st.tls_chain = 0;
	}
	if (status < 0) {
	    vstream_fprintf(out, "%s: would defer: %s %s\n", sess->relay, why.dsn,
			    vstring_str(why.text));
	    smtp_session_free(sess);
	    continue;
	}
	if (sess->tls) {
	    vstream_fprintf(out, "%s: %s TLS: %s\n", sess->relay, tls_client_trust(sess->tls),
			    tls_client_summary(sess->tls));
	} else {
	    vstream_fprintf(out, "%s: no TLS\n", sess->relay);
	}
	vstream_fprintf(out, "%s: would deliver\n", sess->relay);
	ok = 1;
	smtp_session_quit(sess);
	smtp_session_free(sess);
    }
done:
    vstream_fflush(out);
    dns_addr_list_free(&addrs);
    smtp_why_free(&st.why);
    smtp_why_free(&why);
    smtp_dest_free(&st.dest);
    myfree(st.pending);
    if (st.tls_match)
	vstring_free(st.tls_match);
    smtp_tls_attrs_free(&st);
    smtp_tls_policy_free(&st.tls);
    mta_sts_policy_free(&st.sts);
    return (ok ? 0 : 1);
}
