/*
 * NAME
 *	smtp_client_tlsrpt - count TLS sessions for TLS-RPT (RFC 8460)
 * SYNOPSIS
 *	#include "smtpc/smtp_client.h"
 *
 *	int smtp_tlsrpt_wanted(SMTP_STATE *st);
 *	void smtp_tlsrpt_policy_failure(SMTP_STATE *st, const DNS_ADDR *addr);
 *	void smtp_tlsrpt_session(SMTP_STATE *st, SMTP_SESSION *sess,
 *				 int outcome, int check);
 * DESCRIPTION
 *	The counting hook of the SMTP client. With smtp_tlsrpt_enable, each
 *	attempt to talk TLS to a server of an MX destination (the
 *	request's own nexthop, not a fallback relay; SMTP, not LMTP) is
 *	appended to the day file of tlsrpt_store(3), under the policy that
 *	applied to that server:
 *
 *	tlsa	DANE (smtp_client_tls(3)): usable TLSA records, or TLSA
 *		records of which none is usable, or a TLSA lookup that
 *		failed, or dane-only without TLSA records. The policy
 *		strings are the TLSA RRset, the mx-host the MX host.
 *	sts	otherwise an MTA-STS policy in mode enforce or testing, or
 *		one that could not be fetched; the strings are the
 *		policy's lines, mx-host its mx patterns.
 *	no-policy-found	otherwise.
 *
 *	smtp_tlsrpt_wanted() says whether this request's sessions count
 *	(mail from tlsrpt_sender, the reports themselves, does not: RFC
 *	8460 section 5.3).
 *
 *	smtp_tlsrpt_policy_failure() counts a server that the policy
 *	skipped before connecting, when smtp_client_tls(3) named an RFC
 *	8460 result for it (dnssec-invalid: the TLSA lookup failed;
 *	dane-required; tlsa-invalid with dane-only; validation-failure
 *	"mx-not-in-policy": MTA-STS enforce and an MX host outside the
 *	policy).
 *
 *	smtp_tlsrpt_session() counts one session: outcome
 *	SMTP_TLSRPT_NO_STARTTLS (starttls-not-supported), _TLS_FAILED or
 *	_TLS_OK with check, what tls_client(3) found when it verified the
 *	server (TLS_CHECK_*). A policy failure (tlsa-invalid: no usable
 *	TLSA record; an MTA-STS fetch failure: sts-policy-fetch-error,
 *	sts-policy-invalid, sts-webpki-invalid) is the result whatever the
 *	session did. A TLS session under MTA-STS testing is a failure when
 *	the certificate would not have verified (certificate-expired,
 *	certificate-not-trusted, certificate-host-mismatch) or the MX host
 *	is not in the policy, though the mail is delivered. Without a
 *	policy any TLS session is a success. A failed handshake is
 *	validation-failure ("tls-handshake-failure"), a certificate that
 *	matches no TLSA record validation-failure
 *	("X509_V_ERR_DANE_NO_MATCH").
 * DIAGNOSTICS
 *	None here; tlsrpt_store(3) warns when it cannot write.
 * SEE ALSO
 *	tlsrpt_store(3), tlsrpt(8), RFC 8460
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "tls/tls_client.h"
#include "global/tlsrpt_store.h"
#include "smtpc/smtp_client.h"

int     smtp_tlsrpt_wanted(SMTP_STATE *st)
{
    return (smtp_conf.tlsrpt && st->req != 0 && st->dest.use_mx
	    && st->dest.nexthop && strcmp(st->dest.nexthop, st->req->nexthop) == 0
	    && strcasecmp(st->req->sender, smtp_conf.tlsrpt_sender) != 0);
}

/* sts_active - an MTA-STS policy that is not "none" */
static int sts_active(SMTP_STATE *st)
{
    return (st->sts_status == MTA_STS_FOUND && st->sts.mode != MTA_STS_MODE_NONE);
}

/* policy_of - the policy that applied to this server; lists to free */
static void policy_of(SMTP_STATE *st, const char *host, TLSRPT_POLICY *pol,
		              ARGV **strings, ARGV **mx, VSTRING *domain)
{
    *strings = *mx = 0;
    vstring_strcpy(domain, st->dest.host);
    lowercase(vstring_str(domain));
    pol->domain = vstring_str(domain);
    if (st->tls.rpt_tlsa) {
	pol->type = TLSRPT_TYPE_TLSA;
	*mx = argv_alloc(1);
	argv_add(*mx, host);
	pol->strings = st->tls.tlsa_text;
    } else if (sts_active(st) || st->sts_status == MTA_STS_FAIL) {
	pol->type = TLSRPT_TYPE_STS;
	*strings = argv_alloc(8);
	if (st->sts_status == MTA_STS_FOUND && st->sts.text) {
	    char   *copy = mystrdup(st->sts.text), *cp = copy, *line;

	    while ((line = strsep(&cp, "\n")) != 0) {
		line[strcspn(line, "\r")] = 0;
		if (*line)
		    argv_add(*strings, line);
	    }
	    myfree(copy);
	}
	pol->strings = *strings;
	pol->mx = st->sts_status == MTA_STS_FOUND ? st->sts.mx : 0;
	return;
    } else {
	pol->type = TLSRPT_TYPE_NONE;
	pol->strings = 0;
    }
    pol->mx = *mx;
}

/* store - one record */
static void store(SMTP_STATE *st, const char *host, const char *result,
		          const char *reason, const char *sending_ip, const char *rcv_ip)
{
    TLSRPT_POLICY pol;
    TLSRPT_RESULT res;
    ARGV   *strings, *mx;
    VSTRING *domain = vstring_alloc(100);

    policy_of(st, host, &pol, &strings, &mx, domain);
    /* A policy failure is the result, whatever the session did. */
    if (st->tls.rpt_failure) {
	result = st->tls.rpt_failure;
	reason = st->tls.rpt_reason;
    } else if (!st->tls.rpt_tlsa && st->sts_status == MTA_STS_FAIL) {
	result = st->sts.failure ? st->sts.failure : "sts-policy-fetch-error";
	reason = 0;
    }
    res.result = result;
    res.reason = result ? reason : 0;
    res.sending_ip = sending_ip;
    res.mx_host = host;
    res.receiving_ip = rcv_ip;
    (void) tlsrpt_store_add(&pol, &res);
    if (strings)
	argv_free(strings);
    if (mx)
	argv_free(mx);
    vstring_free(domain);
}

void    smtp_tlsrpt_policy_failure(SMTP_STATE *st, const DNS_ADDR *addr)
{
    if (st->tls.rpt_failure == 0 || addr == 0 || !smtp_tlsrpt_wanted(st))
	return;
    store(st, addr->host, st->tls.rpt_failure, st->tls.rpt_reason, 0, addr->ip);
}

/* check_result - the RFC 8460 result type of a verification */
static const char *check_result(int check, const char **reason)
{
    *reason = 0;
    switch (check) {
    case TLS_CHECK_OK:
	return (0);
    case TLS_CHECK_EXPIRED:
	return ("certificate-expired");
    case TLS_CHECK_UNTRUSTED:
	return ("certificate-not-trusted");
    case TLS_CHECK_NAME:
	return ("certificate-host-mismatch");
    case TLS_CHECK_DANE:
	*reason = "X509_V_ERR_DANE_NO_MATCH";
	return ("validation-failure");
    default:
	*reason = "tls-handshake-failure";
	return ("validation-failure");
    }
}

/* sending_ip - the local address of the session */
static const char *sending_ip(SMTP_SESSION *sess, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);

    if (getsockname(vstream_fileno(sess->stream), (struct sockaddr *) &ss, &sslen) < 0)
	return (0);
    if (ss.ss_family == AF_INET)
	return (inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, buf, len));
    if (ss.ss_family == AF_INET6)
	return (inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, buf, len));
    return (0);
}

void    smtp_tlsrpt_session(SMTP_STATE *st, SMTP_SESSION *sess, int outcome, int check)
{
    const char *result = 0;
    const char *reason = 0;
    char    local[INET6_ADDRSTRLEN];

    if (!smtp_tlsrpt_wanted(st))
	return;
    switch (outcome) {
    case SMTP_TLSRPT_NO_STARTTLS:
	result = "starttls-not-supported";
	break;
    case SMTP_TLSRPT_TLS_FAILED:
	result = check_result(check == TLS_CHECK_OK ? TLS_CHECK_HANDSHAKE : check, &reason);
	break;
    default:
	/* Only MTA-STS testing lets a session through that would fail. */
	if (!st->tls.rpt_tlsa && sts_active(st) && st->sts.mode == MTA_STS_MODE_TESTING) {
	    if (!mta_sts_mx_match(&st->sts, sess->host)) {
		result = "validation-failure";
		reason = "mx-not-in-policy";
	    } else {
		result = check_result(check, &reason);
	    }
	}
	break;
    }
    store(st, sess->host, result, reason, sending_ip(sess, local, sizeof(local)), sess->addr);
}
