/*
 * NAME
 *	smtp_client - deliver one request over SMTP or LMTP
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	void smtp_client_init(int proto, const char *service);
 *	void smtp_client_deliver(DELIVER_REQUEST *req);
 *	void smtp_client_cache_close(void);
 * DESCRIPTION
 *	The driver of the engine (see smtp_client.h): parses the nexthop,
 *	finds SASL credentials, reuses a cached session to the same
 *	nexthop or looks up the servers and tries them in order, and
 *	reports each recipient.
 *
 *	Nexthop forms: "domain" (MX lookup), "[host]" (no MX lookup),
 *	either with ":port"; LMTP also "unix:/path" and "inet:host:port"
 *	(LMTP never looks up MX records). The default port is
 *	smtp_tcp_port or lmtp_tcp_port.
 *
 *	Servers are tried in order while recipients are left: a failed
 *	connect, greeting, EHLO, STARTTLS or AUTH moves on to the next
 *	address; a temporary error of a recipient leaves it for the next
 *	server, unless this server is the last one (the last address, or
 *	smtp_mx_session_limit sessions were made), where it is deferred.
 *	Permanent errors are final at once. When servers are left over
 *	(or the destination was not found), the smtp_fallback_relay hosts
 *	are tried, except for a destination we are an MX host for.
 *
 *	When no server could be reached at all (every connection, greeting
 *	or handshake failed with a temporary error) the request's
 *	hop_status and hop_reason say so, for qmgr's concurrency feedback;
 *	with DEL_REQ_FLAG_SITE_RETRY, and when a server did answer and
 *	refused the session (a 4xx greeting or EHLO reply: it is up, and
 *	limits its sessions), the recipients are then left without a result
 *	and not logged: qmgr sends them again (deliver_request.h). A
 *	connection that fails is settled as before: the site may be down.
 *
 *	A cached idle session is shut down after
 *	smtp_connection_cache_time_limit without a request, while
 *	smtp_client_serve() (the agents' service loop) waits for one.
 *
 *	SASL credentials (smtp_sasl_auth_enable) come from
 *	smtp_sasl_password_maps as "username:password", looked up as
 *	Postfix does: by the sender first when
 *	smtp_sender_dependent_authentication is set, then by the name of
 *	the server (the host of "[host]:port", or the MX host connected
 *	to: smtp_sasl_lookup() again once the session is up), then by the
 *	nexthop as written. A cached session is only reused for the same
 *	nexthop and the same SASL identity.
 * DIAGNOSTICS
 *	A nexthop that cannot be parsed or a table that cannot be read
 *	defers the recipients with a warning.
 */
#include <sys/time.h>
#include <sys/socket.h>
#include <signal.h>
#include <netdb.h>
#include <fcntl.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/addr_class.h"
#include "dict/maps.h"
#include "dict/match_list.h"
#include "global/mail_addr_find.h"
#include "global/debug_peer.h"
#include "global/mail_server.h"
#include "smtpc/smtp_client.h"

SMTP_CLIENT_CONF smtp_conf;

static SMTP_SESSION *cached_session;	/* one idle session, see above */
static MAPS *sasl_maps;

/*
 * Parameters, by protocol: callers name the smtp_X parameter (VAR_SMTP_X,
 * checked by the compiler); the LMTP client reads lmtp_X instead, and
 * lhlo_ for helo_.
 */
const char *smtp_param_name(const char *smtp_name)
{
    static VSTRING *name;
    const char *suffix;

    if (strncmp(smtp_name, "smtp_", 5) != 0)
	msg_panic("smtp_param_name: \"%s\" is not an smtp_ parameter", smtp_name);
    if (smtp_conf.proto != SMTP_PROTO_LMTP)
	return (smtp_name);
    if (name == 0)
	name = vstring_alloc(64);
    suffix = smtp_name + 5;
    if (strcmp(suffix, "helo_timeout") == 0)
	suffix = "lhlo_timeout";
    else if (strcmp(suffix, "helo_name") == 0)
	suffix = "lhlo_name";
    vstring_sprintf(name, "lmtp_%s", suffix);
    return (vstring_str(name));
}

const char *smtp_param_str(const char *suffix)
{
    return (mail_conf_str(smtp_param_name(suffix)));
}

int     smtp_param_int(const char *suffix)
{
    return ((int) mail_conf_int(smtp_param_name(suffix)));
}

int     smtp_param_time(const char *suffix)
{
    long    t = mail_conf_time(smtp_param_name(suffix));

    return (t > 0x7fffffff / 1000 ? 0x7fffffff / 1000 : (int) t);
}

int     smtp_param_bool(const char *suffix)
{
    return (mail_conf_bool(smtp_param_name(suffix)));
}

/* smtp_param_bool_soft - a boolean that only one protocol may have */
int     smtp_param_bool_soft(const char *suffix)
{
    const char *name = smtp_param_name(suffix);
    int     value = 0;

    if (mail_conf_param(name))
	return (mail_conf_bool(name));
    (void) mail_conf_bool_value(mail_conf_str(name), &value);
    return (value);
}

int     smtp_param_time_soft(const char *suffix, int dflt)
{
    const char *name = smtp_param_name(suffix);

    return (mail_conf_param(name) ? (int) mail_conf_time(name) : dflt);
}

double  smtp_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, 0);
    return (tv.tv_sec + tv.tv_usec / 1e6);
}

/*
 * smtp_dns_level_init - smtp_dns_support_level: disabled, enabled or
 * dnssec; empty means disable_dns_lookups decides (Postfix).
 */
static void smtp_dns_level_init(void)
{
    const char *level = smtp_param_str(VAR_SMTP_DNS_SUPPORT_LEVEL);

    if (*level == 0)
	level = mail_conf_bool(VAR_DISABLE_DNS_LOOKUPS) ? "disabled" : "enabled";
    if (strcasecmp(level, "disabled") == 0)
	smtp_conf.dns_disabled = 1;
    else if (strcasecmp(level, "dnssec") == 0)
	dns_set_dnssec(1);
    else if (strcasecmp(level, "enabled") != 0)
	msg_fatal("invalid %s parameter value: \"%s\"",
		  smtp_param_name(VAR_SMTP_DNS_SUPPORT_LEVEL), level);
}

/* smtp_host_lookup_init - smtp_host_lookup: dns, native, or both */
static void smtp_host_lookup_init(void)
{
    const char *value = smtp_param_str(VAR_SMTP_HOST_LOOKUP);
    ARGV   *words = argv_split(value, ", \t\r\n");

    smtp_conf.host_lookup_count = 0;
    for (size_t i = 0; i < words->argc; i++) {
	int     kind;

	if (strcasecmp(words->argv[i], "dns") == 0)
	    kind = SMTP_HOST_LOOKUP_DNS;
	else if (strcasecmp(words->argv[i], "native") == 0)
	    kind = SMTP_HOST_LOOKUP_NATIVE;
	else
	    msg_fatal("bad %s value: %s", smtp_param_name(VAR_SMTP_HOST_LOOKUP), value);
	if (smtp_conf.host_lookup_count < 2
	    && (smtp_conf.host_lookup_count == 0 || smtp_conf.host_lookup[0] != kind))
	    smtp_conf.host_lookup[smtp_conf.host_lookup_count++] = kind;
    }
    if (smtp_conf.host_lookup_count == 0)
	msg_fatal("bad %s value: %s", smtp_param_name(VAR_SMTP_HOST_LOOKUP), value);
    argv_free(words);
}

void    smtp_client_init(int proto, const char *service)
{
    const char *protos;

    smtp_conf.proto = proto;
    smtp_conf.name = proto == SMTP_PROTO_LMTP ? "lmtp" : "smtp";
    debug_peer_init();
    smtp_conf.service = service;
    smtp_conf.connect_timeout = smtp_param_time(VAR_SMTP_CONNECT_TIMEOUT);
    smtp_conf.helo_timeout = smtp_param_time(VAR_SMTP_HELO_TIMEOUT);
    smtp_conf.mail_timeout = smtp_param_time(VAR_SMTP_MAIL_TIMEOUT);
    smtp_conf.rcpt_timeout = smtp_param_time(VAR_SMTP_RCPT_TIMEOUT);
    smtp_conf.data_init_timeout = smtp_param_time(VAR_SMTP_DATA_INIT_TIMEOUT);
    smtp_conf.data_xfer_timeout = smtp_param_time(VAR_SMTP_DATA_XFER_TIMEOUT);
    smtp_conf.data_done_timeout = smtp_param_time(VAR_SMTP_DATA_DONE_TIMEOUT);
    smtp_conf.quit_timeout = smtp_param_time(VAR_SMTP_QUIT_TIMEOUT);
    smtp_conf.xforward_timeout = smtp_param_time(VAR_SMTP_XFORWARD_TIMEOUT);
    smtp_conf.send_xforward = smtp_param_bool(VAR_SMTP_SEND_XFORWARD_COMMAND);
    smtp_conf.starttls_timeout = smtp_param_time(VAR_SMTP_STARTTLS_TIMEOUT);
    smtp_conf.mx_address_limit = smtp_param_int(VAR_SMTP_MX_ADDRESS_LIMIT);
    smtp_conf.mx_session_limit = smtp_param_int(VAR_SMTP_MX_SESSION_LIMIT);
    smtp_conf.skip_5xx_greeting = smtp_param_bool(VAR_SMTP_SKIP_5XX_GREETING);
    smtp_conf.cache_on_demand = smtp_param_bool(VAR_SMTP_CONNECTION_CACHE_ON_DEMAND);
    smtp_conf.reuse_time_limit = smtp_param_time(VAR_SMTP_CONNECTION_REUSE_TIME_LIMIT);
    smtp_conf.cache_time_limit = smtp_param_time(VAR_SMTP_CONNECTION_CACHE_TIME_LIMIT);
    smtp_conf.reuse_count_limit = smtp_param_int(VAR_SMTP_CONNECTION_REUSE_COUNT_LIMIT);
    if (*smtp_param_str(VAR_SMTP_CONNECTION_CACHE_DESTINATIONS))
	smtp_conf.cache_dests =
	    match_list_create(smtp_param_name(VAR_SMTP_CONNECTION_CACHE_DESTINATIONS),
			      smtp_param_str(VAR_SMTP_CONNECTION_CACHE_DESTINATIONS), 0);
    smtp_conf.line_length_limit = smtp_param_int(VAR_SMTP_LINE_LENGTH_LIMIT);
    smtp_conf.address_preference = smtp_param_str(VAR_SMTP_ADDRESS_PREFERENCE);
    smtp_conf.randomize_addresses = smtp_param_bool(VAR_SMTP_RANDOMIZE_ADDRESSES);
    smtp_conf.defer_no_mx_address = smtp_param_bool(VAR_SMTP_DEFER_IF_NO_MX_ADDRESS_FOUND);
    if (proto == SMTP_PROTO_SMTP) {
	smtp_conf.always_ehlo = mail_conf_bool(VAR_SMTP_ALWAYS_SEND_EHLO);
	smtp_conf.never_ehlo = mail_conf_bool(VAR_SMTP_NEVER_SEND_EHLO);
    }
    smtp_host_lookup_init();
    smtp_conf.helo_name = smtp_param_str(VAR_SMTP_HELO_NAME);
    smtp_conf.tcp_port = smtp_param_str(VAR_SMTP_TCP_PORT);
    smtp_conf.sasl_enable = smtp_param_bool(VAR_SMTP_SASL_AUTH_ENABLE);
    smtp_conf.sender_dependent_auth = smtp_param_bool(VAR_SMTP_SENDER_DEPENDENT_AUTHENTICATION);
    smtp_conf.sasl_password_maps = smtp_param_str(VAR_SMTP_SASL_PASSWORD_MAPS);
    smtp_conf.sasl_security_options = smtp_param_str(VAR_SMTP_SASL_SECURITY_OPTIONS);
    smtp_conf.sasl_tls_security_options = smtp_param_str(VAR_SMTP_SASL_TLS_SECURITY_OPTIONS);
    smtp_conf.sasl_tls_verified_security_options =
	smtp_param_str(VAR_SMTP_SASL_TLS_VERIFIED_SECURITY_OPTIONS);
    if (smtp_conf.sasl_enable && strcasecmp(smtp_param_str(VAR_SMTP_SASL_TYPE), "cyrus") != 0)
	msg_fatal("unsupported SASL client implementation: %s",
		  smtp_param_str(VAR_SMTP_SASL_TYPE));
    smtp_conf.sasl_mechanism_filter = smtp_param_str(VAR_SMTP_SASL_MECHANISM_FILTER);
    smtp_conf.tls_level = smtp_param_str(VAR_SMTP_TLS_SECURITY_LEVEL);
    smtp_conf.tls_policy_maps = smtp_param_str(VAR_SMTP_TLS_POLICY_MAPS);
    smtp_conf.fallback_relay = smtp_conf.proto == SMTP_PROTO_SMTP ?
	mail_conf_str(VAR_SMTP_FALLBACK_RELAY) : "";
    smtp_conf.srs = srs_from_conf();	/* ours; read before the privilege drop */
    if (*smtp_param_str(VAR_SMTP_GENERIC_MAPS))
	smtp_conf.generic_maps = maps_create(smtp_param_name(VAR_SMTP_GENERIC_MAPS),
			      smtp_param_str(VAR_SMTP_GENERIC_MAPS), DICT_FLAG_DEFAULT);
    {
	/* smtp_param_name() has one buffer: copy the first name. */
	char   *header_param = mystrdup(smtp_param_name(VAR_SMTP_HEADER_CHECKS));

	smtp_conf.hbc_maps = hbc_maps_create(header_param,
				 smtp_param_name(VAR_SMTP_BODY_CHECKS), HBC_FLAG_SMTP);
	myfree(header_param);
    }
    smtp_conf.tlsrpt = proto == SMTP_PROTO_SMTP && mail_conf_bool(VAR_SMTP_TLSRPT_ENABLE);
    smtp_conf.tlsrpt_sender = mail_conf_str(VAR_TLSRPT_SENDER);

    protos = mail_conf_str(VAR_INET_PROTOCOLS);
    if (strcasecmp(protos, "all") == 0 || *protos == 0)
	smtp_conf.families = DNS_FAMILY_INET | DNS_FAMILY_INET6;
    else {
	ARGV   *av = argv_split(protos, LIST_DELIMS);

	for (size_t i = 0; i < av->argc; i++) {
	    if (strcasecmp(av->argv[i], "ipv4") == 0)
		smtp_conf.families |= DNS_FAMILY_INET;
	    else if (strcasecmp(av->argv[i], "ipv6") == 0)
		smtp_conf.families |= DNS_FAMILY_INET6;
	    else if (strcasecmp(av->argv[i], "all") == 0)
		smtp_conf.families |= DNS_FAMILY_INET | DNS_FAMILY_INET6;
	}
	argv_free(av);
	if (smtp_conf.families == 0)
	    msg_fatal("bad inet_protocols value: %s", protos);
    }
    dns_set_resolv_conf(mail_conf_str(VAR_RESOLV_CONF));
    smtp_dns_level_init();
    if (smtp_conf.sasl_enable && *smtp_conf.sasl_password_maps)
	sasl_maps = maps_create(smtp_param_name(VAR_SMTP_SASL_PASSWORD_MAPS),
				smtp_conf.sasl_password_maps, DICT_FLAG_DEFAULT);
    if (smtp_conf.sasl_enable)
	smtp_sasl_init();
    smtp_tls_policy_init();
    /* Address classes (verify learning, our own addresses): before chroot. */
    addr_class_init();
    srandom((unsigned) (getpid() ^ (long) (smtp_now() * 1000)));
}

/* SMTP_WHY */

void    smtp_why_init(SMTP_WHY *why)
{
    memset(why, 0, sizeof(*why));
    why->text = vstring_alloc(100);
}

void    smtp_why_free(SMTP_WHY *why)
{
    vstring_free(why->text);
    myfree(why->relay);
}

void    smtp_why_set(SMTP_WHY *why, const char *relay, const char *dsn,
		             const char *fmt,...)
{
    va_list ap;

    vstring_reset(why->text);
    va_start(ap, fmt);
    vstring_vsprintf_append(why->text, fmt, ap);
    va_end(ap);
    snprintf(why->dsn, sizeof(why->dsn), "%s", dsn && *dsn ? dsn : "4.0.0");
    myfree(why->relay);
    why->relay = relay ? mystrdup(relay) : 0;
    why->set = 1;
}

/* rcpt_final - report one recipient's result and take it off the list */
static void rcpt_final(SMTP_STATE *st, size_t i, const char *relay,
		               const char *dsn, const char *text)
{
    DELIVER_REQUEST *req = st->req;
    DSN_RESULT res;
    VSTRING *diag = 0;

    memset(&res, 0, sizeof(res));
    snprintf(res.status, sizeof(res.status), "%s", dsn);
    res.action = dsn[0] == '2' ? 'd' : dsn[0] == '5' ? 'f' : 'x';
    if (res.status[0] != '2' && res.status[0] != '5')
	res.status[0] = '4';
    res.reason = (char *) text;
    res.relay = (char *) (relay ? relay : "none");
    res.remote_mta = (char *) st->remote_mta;
    if (st->diag) {
	diag = vstring_alloc(100);
	vstring_sprintf(diag, "smtp; %s", st->diag);
	res.diag = vstring_str(diag);
    }
    res.conn_setup = st->conn_setup;
    res.xmit = st->xfer_start > 0 ? smtp_now() - st->xfer_start : 0;
    res.conn_reuse = st->conn_use;
    res.flags = st->result_flags;
    if (smtp_conf.proto == SMTP_PROTO_LMTP)
	res.flags |= DSN_RESULT_FLAG_FINAL;
    deliver_result(req, i, &res);
    deliver_log(req, req->rcpt + i, &res);
    if (diag)
	vstring_free(diag);
    st->pending[i] = 0;
    st->npending--;
}

void    smtp_rcpt_status(SMTP_STATE *st, size_t i, const char *relay,
			         const char *dsn, const char *fmt,...)
{
    VSTRING *text = vstring_alloc(100);
    va_list ap;

    if (!st->pending[i])
	msg_panic("smtp_rcpt_status: recipient %zu is already done", i);
    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    if (dsn[0] == '4' && !st->final)
	/* Leave it for the next server. */
	smtp_why_set(&st->why, relay, dsn, "%s", vstring_str(text));
    else
	rcpt_final(st, i, relay, dsn, vstring_str(text));
    vstring_free(text);
}

/* Nexthop. */

int     smtp_dest_port(const char *text)
{
    struct servent *sp;

    if (alldig(text) && *text && strlen(text) < 6 && atoi(text) > 0 && atoi(text) < 65536)
	return (atoi(text));
    if ((sp = getservbyname(text, "tcp")) != 0)
	return (ntohs(sp->s_port));
    return (-1);
}

void    smtp_dest_free(SMTP_DEST *dest)
{
    myfree(dest->nexthop);
    myfree(dest->host);
    myfree(dest->unix_path);
    memset(dest, 0, sizeof(*dest));
}

/* smtp_dest_parse - the nexthop's parts; -1 when it makes no sense */
int     smtp_dest_parse(SMTP_DEST *dest, const char *nexthop)
{
    char   *copy, *host, *port = 0;
    int     lmtp = smtp_conf.proto == SMTP_PROTO_LMTP;

    memset(dest, 0, sizeof(*dest));
    dest->nexthop = mystrdup(nexthop);
    if (lmtp && strncasecmp(nexthop, "unix:", 5) == 0) {
	dest->unix_path = mystrdup(nexthop + 5);
	dest->host = mystrdup(nexthop + 5);
	return (*dest->unix_path ? 0 : -1);
    }
    if (strncasecmp(nexthop, "inet:", 5) == 0)
	nexthop += 5;
    copy = mystrdup(nexthop);
    dest->use_mx = !lmtp;
    if (*copy == '[') {
	char   *end = strchr(copy, ']');

	if (end == 0) {
	    myfree(copy);
	    return (-1);
	}
	*end = 0;
	host = copy + 1;
	if (end[1] == ':')
	    port = end + 2;
	else if (end[1] != 0) {
	    myfree(copy);
	    return (-1);
	}
	dest->use_mx = 0;
    } else {
	host = copy;
	/* host:port, but a bare IPv6 address keeps its colons. */
	if (strchr(host, ':') == strrchr(host, ':') && (port = strrchr(host, ':')) != 0)
	    *port++ = 0;
    }
    if (strncasecmp(host, "ipv6:", 5) == 0)
	host += 5;
    dest->host = mystrdup(host);
    dest->port = smtp_dest_port(port && *port ? port : smtp_conf.tcp_port);
    myfree(copy);
    return (*dest->host && dest->port > 0 ? 0 : -1);
}

/*
 * smtp_sasl_lookup - this request's credentials for server host (NULL:
 * not known yet); -1 on a table error. Postfix's order: the sender,
 * then the server's name, then the destination as written in the
 * nexthop ("[relay.example]:587", "example.com").
 */
int     smtp_sasl_lookup(SMTP_STATE *st, const char *host)
{
    const char *value;
    char   *copy, *pass;

    if (!smtp_conf.sasl_enable || sasl_maps == 0)
	return (0);
    myfree(st->sasl_user);
    myfree(st->sasl_pass);
    st->sasl_user = st->sasl_pass = 0;
    value = maps_find_sasl(sasl_maps, smtp_conf.sender_dependent_auth ?
			   st->req->sender : 0, host, st->dest.nexthop);
    if (value == 0)
	return (sasl_maps->error ? -1 : 0);
    copy = mystrdup(value);
    if ((pass = strchr(copy, ':')) != 0)
	*pass++ = 0;
    st->sasl_user = mystrdup(copy);
    st->sasl_pass = mystrdup(pass ? pass : "");
    myfree(copy);
    return (0);
}

/* finish_all - every recipient left gets the last failure */
static void finish_all(SMTP_STATE *st, SMTP_WHY *why)
{
    st->final = 1;
    for (size_t i = 0; i < st->req->rcpt_count; i++)
	if (st->pending[i])
	    rcpt_final(st, i, why->relay, why->dsn, vstring_str(why->text));
}

/*
 * smtp_client_idle - before the agent waits for its next request: a
 * cached session that stays idle for smtp_connection_cache_time_limit
 * is shut down (no QUIT), and the wait goes on; the next request then
 * sees the session dead and frees it. The wait for the request is the
 * limit (no timer, no signal): the poll that reads the request anyway.
 */
static void smtp_client_idle(VSTREAM *client)
{
    int     limit_ms;

    if (cached_session == 0 || smtp_conf.cache_time_limit <= 0 || vstream_peek(client) > 0)
	return;
    limit_ms = smtp_conf.cache_time_limit > INT_MAX / 1000 ?
	INT_MAX : smtp_conf.cache_time_limit * 1000;
    if (vstream_fill(client, limit_ms) == 0)
	(void) shutdown(vstream_fileno(cached_session->stream), SHUT_RDWR);
}

/*
 * smtp_client_serve - the agent's service: qmgr may send one request
 * after another on the same connection (the reply says whether we take
 * another), and the cached session to the destination then serves the
 * next delivery there. qmgr ends the connection when it wants no
 * session here any more (idle too long, or more sessions than the
 * destination's window): the cached session goes with it, so that
 * qmgr's count of the sessions open to a destination stays true. So
 * does a connection that failed, or the last request this process takes.
 */
void    smtp_client_serve(VSTREAM *client)
{
    DELIVER_REQUEST *req;
    int     more = 1;

    while (more) {
	smtp_client_idle(client);
	if ((req = deliver_request_read(client)) == 0)
	    break;
	smtp_client_deliver(req);
	req->more = more = mail_server_another();
	if (deliver_request_done(client, req) < 0)
	    more = 0;
	deliver_request_free(req);
    }
    smtp_client_cache_close();
}

/*
 * cache_wanted - keep this session? smtp_connection_cache_on_demand, or
 * the destination (domain or relay host, without [] and port) is in
 * smtp_connection_cache_destinations; not past
 * smtp_connection_reuse_time_limit or smtp_connection_reuse_count_limit.
 */
static int cache_wanted(SMTP_SESSION *sess, const char *dest)
{
    if (time((time_t *) 0) - sess->start >= smtp_conf.reuse_time_limit)
	return (0);
    if (smtp_conf.reuse_count_limit > 0 && sess->use_count >= smtp_conf.reuse_count_limit)
	return (0);
    if (smtp_conf.cache_on_demand)
	return (1);
    return (smtp_conf.cache_dests != 0 && match_list_domain(smtp_conf.cache_dests, dest) > 0);
}

/* session_done - keep a healthy session for the next request, or close */
static void session_done(SMTP_SESSION *sess, int healthy, const char *key, const char *dest)
{
    if (healthy && cache_wanted(sess, dest)) {
	if (cached_session)
	    smtp_client_cache_close();
	myfree(sess->key);
	sess->key = mystrdup(key);
	vstream_clear_deadline(sess->stream);
	cached_session = sess;
	return;
    }
    if (healthy)
	smtp_session_quit(sess);
    smtp_session_free(sess);
}

void    smtp_client_cache_close(void)
{
    if (cached_session) {
	smtp_session_quit(cached_session);
	smtp_session_free(cached_session);
	cached_session = 0;
    }
}

/*
 * xfer_all - transactions on one session until a server's recipient limit
 * (452 4.5.3) no longer holds recipients back; 1 if the session is healthy.
 */
static int xfer_all(SMTP_SESSION *sess, SMTP_STATE *st)
{
    size_t  before;
    int     healthy;

    do {
	before = st->npending;
	st->more_rcpts = 0;
	healthy = (smtp_session_xfer(sess, st) == 0);
    } while (healthy && st->more_rcpts && st->npending > 0 && st->npending < before);
    st->more_rcpts = 0;
    return (healthy);
}

/*
 * try_servers - the addresses of one destination in order (NULL: the LMTP
 * UNIX socket) while recipients are left. last_chance: no fallback relay
 * follows, so the last server's temporary errors are final.
 */
static void try_servers(SMTP_STATE *st, DNS_ADDR_LIST *addrs, int last_chance,
			        const char *key)
{
    size_t  naddr = addrs ? addrs->count : 1;
    SMTP_SESSION *sess;
    SMTP_WHY why;
    int     sessions = 0;
    int     healthy;

    smtp_why_init(&why);
    for (size_t i = 0; i < naddr && st->npending > 0; i++) {
	const DNS_ADDR *addr = addrs ? addrs->addr + i : 0;

	st->final = last_chance && (i + 1 == naddr);
	st->tls_failed = 0;
	/* The TLS policy (DANE: TLSA records) is known before connecting. */
	if (!st->tls_off && smtp_tls_policy_server(st, addr, &st->tls, &why) < 0) {
	    smtp_tlsrpt_policy_failure(st, addr);
	    smtp_why_set(&st->why, why.relay, why.dsn, "%s", vstring_str(why.text));
	    continue;
	}
	if ((sess = smtp_session_connect(st, addr, &why)) == 0) {
	    smtp_why_set(&st->why, why.relay, why.dsn, "%s", vstring_str(why.text));
	    continue;
	}
	if (smtp_session_handshake(sess, st, &why) < 0) {
	    if (sess->refused)
		st->refused = 1;
	    smtp_session_free(sess);
	    if (st->tls_failed && !st->tls_off) {
		/* Level may: the same server once more, in plain text. */
		st->tls_off = 1;
		i--;
		continue;
	    }
	    st->tls_off = 0;
	    if (why.dsn[0] == '5') {
		finish_all(st, &why);
		break;
	    }
	    smtp_why_set(&st->why, why.relay, why.dsn, "%s", vstring_str(why.text));
	    continue;
	}
	st->tls_off = 0;
	st->reached = 1;
	sessions++;
	if (smtp_conf.mx_session_limit > 0 && sessions >= smtp_conf.mx_session_limit)
	    st->final = last_chance;
	st->conn_use = sess->use_count = 1;
	st->xfer_start = smtp_now();
	st->conn_setup = st->xfer_start - st->start;
	healthy = xfer_all(sess, st);
	session_done(sess, healthy, key, st->dest.host);
	if (smtp_conf.mx_session_limit > 0 && sessions >= smtp_conf.mx_session_limit)
	    break;
    }
    smtp_why_free(&why);
}

void    smtp_client_deliver(DELIVER_REQUEST *req)
{
    SMTP_STATE st;
    DNS_ADDR_LIST addrs;
    SMTP_WHY why;
    VSTRING *key = vstring_alloc(100);
    SMTP_SESSION *sess;
    ARGV   *fallback = 0;
    int     mx_self = 0;
    size_t  i;
    int     healthy;

    memset(&st, 0, sizeof(st));
    st.req = req;
    st.start = smtp_now();
    st.pending = mymalloc(req->rcpt_count + 1);
    memset(st.pending, 1, req->rcpt_count + 1);
    st.npending = req->rcpt_count;
    smtp_why_init(&st.why);
    smtp_why_init(&why);
    dns_addr_list_init(&addrs);

    if (smtp_dest_parse(&st.dest, req->nexthop) < 0) {
	msg_warn("%s: bad %s nexthop: \"%s\"", req->queue_id, smtp_conf.name, req->nexthop);
	smtp_why_set(&why, 0, "4.3.5", "bad nexthop syntax: %s", req->nexthop);
	finish_all(&st, &why);
	goto done;
    }
    /* debug_peer_list: a nexthop that matches logs this whole delivery. */
    if (st.dest.host)
	(void) debug_peer_check(st.dest.host, st.dest.host);
    /* For an MX destination the server's name is known once connected. */
    if (smtp_sasl_lookup(&st, st.dest.use_mx ? 0 : st.dest.host) < 0) {
	smtp_why_set(&why, 0, "4.3.0", "%s lookup error", smtp_param_name(VAR_SMTP_SASL_PASSWORD_MAPS));
	finish_all(&st, &why);
	goto done;
    }
    /*
     * A message that cannot be read is not worth a connection. The file
     * stays open for the transaction (XFORWARD attributes, the body).
     */
    if (!DEL_REQ_TRACE_ONLY(req->flags)) {
	VSTRING *path = vstring_alloc(100);

	vstring_sprintf(path, "%s/%s", req->queue_name, req->queue_id);
	if ((st.msg = vstream_open(vstring_str(path), O_RDONLY, 0)) == 0) {
	    msg_warn("%s: cannot open queue file %s: %m", req->queue_id, vstring_str(path));
	    smtp_why_set(&why, 0, "4.3.0", "error reading message file %s: %m",
			 vstring_str(path));
	    vstring_free(path);
	    finish_all(&st, &why);
	    goto done;
	}
	vstream_set_bufsize(st.msg, SMTP_BODY_BUFSIZE);
	/* The first piece now: the seeks to the body then stay in the buffer. */
	if (vstream_getc(st.msg) != VSTREAM_EOF)
	    (void) vstream_seek(st.msg, 0, SEEK_SET);
	vstring_free(path);
    }
    vstring_sprintf(key, "%s\t%s\t%s", smtp_conf.service ? smtp_conf.service : "",
		    req->nexthop, st.sasl_user ? st.sasl_user : "");

    /* A session left open by the previous request to this nexthop. */
    if (cached_session) {
	sess = cached_session;
	cached_session = 0;
	if (strcmp(sess->key, vstring_str(key)) == 0 && smtp_session_alive(sess)
	    && time((time_t *) 0) - sess->start < smtp_conf.reuse_time_limit) {
	    st.reached = 1;
	    (void) debug_peer_check(sess->host, sess->addr);
	    st.conn_use = ++sess->use_count;
	    st.xfer_start = smtp_now();
	    st.conn_setup = st.xfer_start - st.start;
	    healthy = xfer_all(sess, &st);
	    session_done(sess, healthy, vstring_str(key), st.dest.host);
	    /* The server ended the session (421) before any answer: not reached. */
	    if (st.npending == req->rcpt_count)
		st.reached = 0;
	} else {
	    smtp_session_quit(sess);
	    smtp_session_free(sess);
	}
    }
    if (st.npending == 0)
	goto done;

    /* The servers, in order; then smtp_fallback_relay, if any. */
    st.conn_use = 0;
    st.xfer_start = 0;
    st.conn_setup = 0;
    fallback = (smtp_conf.proto == SMTP_PROTO_SMTP && *smtp_conf.fallback_relay) ?
	argv_split(smtp_conf.fallback_relay, LIST_DELIMS) : 0;
    if (smtp_tls_policy_dest(&st, &why) < 0) {
	finish_all(&st, &why);
	goto done;
    }
    if (st.dest.unix_path) {
	try_servers(&st, 0, 1, vstring_str(key));
    } else if (smtp_addr_find(&st.dest, &addrs, &why, &mx_self) < 0) {
	/* An MX host of the destination never uses a fallback relay. */
	if (fallback == 0 || mx_self) {
	    finish_all(&st, &why);
	    goto done;
	}
	smtp_why_set(&st.why, why.relay, why.dsn, "%s", vstring_str(why.text));
    } else {
	if (mx_self && fallback) {
	    argv_free(fallback);
	    fallback = 0;
	}
	try_servers(&st, &addrs, fallback == 0, vstring_str(key));
    }
    for (i = 0; fallback && i < fallback->argc && st.npending > 0; i++) {
	SMTP_DEST saved = st.dest;
	DNS_ADDR_LIST fb_addrs;

	dns_addr_list_init(&fb_addrs);
	if (smtp_dest_parse(&st.dest, fallback->argv[i]) < 0) {
	    msg_warn("bad %s entry: \"%s\"", smtp_param_name(VAR_SMTP_FALLBACK_RELAY),
		     fallback->argv[i]);
	} else if (smtp_tls_policy_dest(&st, &why) < 0) {
	    smtp_why_set(&st.why, why.relay, why.dsn, "%s", vstring_str(why.text));
	} else if (smtp_addr_find(&st.dest, &fb_addrs, &why, 0) == 0) {
	    try_servers(&st, &fb_addrs, i + 1 == fallback->argc, vstring_str(key));
	}
	dns_addr_list_free(&fb_addrs);
	smtp_dest_free(&st.dest);
	st.dest = saved;
    }
    if (st.npending > 0) {
	st.conn_use = 0;
	if (!st.why.set)
	    smtp_why_set(&st.why, 0, "4.4.1", "no server available for %s", req->nexthop);

	/*
	 * No server could be reached: qmgr counts a failure at the site,
	 * and when it said so it takes the recipients back to send them
	 * again on a session that works (deliver_request.h).
	 */
	if (!st.reached && st.npending == req->rcpt_count && st.why.dsn[0] == '4') {
	    req->hop_status = mystrdup(st.why.dsn);
	    req->hop_reason = mystrdup(vstring_str(st.why.text));
	    /* A server that answers is up: it limits its sessions. */
	    if ((req->flags & DEL_REQ_FLAG_SITE_RETRY) && st.refused)
		goto done;
	}
	finish_all(&st, &st.why);
    }

done:
    if (st.msg)
	(void) vstream_close(st.msg);
    debug_peer_restore();
    if (fallback)
	argv_free(fallback);
    dns_addr_list_free(&addrs);
    smtp_why_free(&st.why);
    smtp_why_free(&why);
    smtp_dest_free(&st.dest);
    myfree(st.pending);
    myfree(st.sasl_user);
    myfree(st.sasl_pass);
    if (st.tls_match)
	vstring_free(st.tls_match);
    smtp_tls_attrs_free(&st);
    smtp_tls_policy_free(&st.tls);
    mta_sts_policy_free(&st.sts);
    vstring_free(key);
}
