/*
 * NAME
 *	smtp_client_session - connect, greet, STARTTLS, AUTH, QUIT
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	SMTP_SESSION *smtp_session_connect(SMTP_STATE *st, const DNS_ADDR *addr,
 *					   SMTP_WHY *why);
 *	int smtp_session_handshake(SMTP_SESSION *sess, SMTP_STATE *st, SMTP_WHY *why);
 *	int smtp_session_alive(SMTP_SESSION *sess);
 *	void smtp_session_quit(SMTP_SESSION *sess);
 *	void smtp_session_free(SMTP_SESSION *sess);
 * DESCRIPTION
 *	smtp_session_connect() opens a TCP connection to addr (port from
 *	the destination) within smtp_connect_timeout, or to the LMTP
 *	destination's UNIX socket (addr NULL).
 *
 *	smtp_session_handshake() reads the greeting (smtp_helo_timeout),
 *	sends EHLO (HELO when EHLO is refused) or LHLO, reads the
 *	extensions, starts TLS as the security level asks (then EHLO
 *	again), and authenticates when the request has SASL credentials
 *	and the server offers AUTH.
 *
 *	TLS levels: none (never), may (when offered; a failed handshake
 *	is retried once without TLS by the caller), encrypt (required, no
 *	certificate check), verify and secure (required and verified),
 *	dane and dane-only (required and verified by TLSA records). The
 *	effective level of the server, st->tls, was decided before the
 *	connection by smtp_client_tls(3). Each STARTTLS outcome (not
 *	offered or refused, handshake failed, TLS established) is counted
 *	for TLS-RPT by smtp_client_tlsrpt(3).
 *
 *	smtp_session_alive() tells whether a cached session can still be
 *	used (the server has not closed it nor sent anything unasked).
 * DIAGNOSTICS
 *	Failures return NULL or -1 with why set in Postfix's words:
 *	"connect to host[addr]:port: Connection refused" (4.4.1), "host
 *	X refused to talk to me: 554 ..." (greeting), "lost connection
 *	with X while receiving the initial server greeting" (4.4.2), "TLS
 *	is required, but was not offered by host X" (4.7.4).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "tls/tls_client.h"
#include "tls/tls_scache.h"
#include "global/mail_tls.h"
#include "global/debug_peer.h"
#include "smtpc/smtp_client.h"

static SMTP_SESSION *session_alloc(int fd, const char *host, const char *addr, int port)
{
    SMTP_SESSION *sess = mycalloc(1, sizeof(*sess));
    VSTRING *buf = vstring_alloc(100);

    sess->stream = vstream_fdopen(fd);
    sess->host = mystrdup(host);
    sess->addr = mystrdup(addr);
    sess->port = port;
    vstring_sprintf(buf, "%s[%s]", host, addr);
    sess->namaddr = mystrdup(vstring_str(buf));
    if (port > 0)
	vstring_sprintf_append(buf, ":%d", port);
    sess->relay = vstring_export(buf);
    sess->start = time((time_t *) 0);
    return (sess);
}

void    smtp_session_free(SMTP_SESSION *sess)
{
    if (sess->tls)
	tls_client_stop(sess->tls, 0);
    if (sess->stream)
	(void) vstream_close(sess->stream);
    myfree(sess->key);
    myfree(sess->host);
    myfree(sess->addr);
    myfree(sess->namaddr);
    myfree(sess->relay);
    myfree(sess->auth_mechs);
    myfree(sess);
}

/* connect_wait - finish a non-blocking connect within the timeout */
static int connect_wait(int fd, const struct sockaddr *sa, socklen_t len, int timeout)
{
    int     flags = fcntl(fd, F_GETFL);
    int     err = 0;
    socklen_t elen = sizeof(err);

    if (timeout > 0)
	(void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, sa, len) < 0) {
	if (errno != EINPROGRESS)
	    return (-1);
	switch (vstream_wait_fd(fd, 1, timeout * 1000)) {
	case 0:
	    errno = ETIMEDOUT;
	    return (-1);
	case 1:
	    break;
	default:
	    return (-1);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
	    return (-1);
	if (err) {
	    errno = err;
	    return (-1);
	}
    }
    (void) fcntl(fd, F_SETFL, flags);
    return (0);
}

/* bind_local - smtp_bind_address(6), when set, as the source address */
static int bind_local(int fd, int family)
{
    const char *text = smtp_param_str(family == AF_INET6 ? VAR_SMTP_BIND_ADDRESS6 : VAR_SMTP_BIND_ADDRESS);
    struct sockaddr_storage ss;
    socklen_t len;

    if (*text == 0)
	return (0);
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET6) {
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

	sin6->sin6_family = AF_INET6;
	len = sizeof(*sin6);
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1) {
	    msg_warn("bad %s value: %s", smtp_param_name(VAR_SMTP_BIND_ADDRESS6), text);
	    return (0);
	}
    } else {
	struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

	sin->sin_family = AF_INET;
	len = sizeof(*sin);
	if (inet_pton(AF_INET, text, &sin->sin_addr) != 1) {
	    msg_warn("bad %s value: %s", smtp_param_name(VAR_SMTP_BIND_ADDRESS), text);
	    return (0);
	}
    }
    return (bind(fd, (struct sockaddr *) &ss, len));
}

SMTP_SESSION *smtp_session_connect(SMTP_STATE *st, const DNS_ADDR *addr, SMTP_WHY *why)
{
    int     fd;

    if (addr == 0) {
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(st->dest.unix_path) >= sizeof(sun.sun_path)) {
	    smtp_why_set(why, 0, "4.3.5", "connect to %s: File name too long",
			 st->dest.unix_path);
	    return (0);
	}
	strcpy(sun.sun_path, st->dest.unix_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
	    smtp_why_set(why, 0, "4.3.0", "socket: %m");
	    return (0);
	}
	if (connect_wait(fd, (struct sockaddr *) &sun, sizeof(sun),
			 smtp_conf.connect_timeout) < 0) {
	    smtp_why_set(why, 0, "4.4.1", "connect to %s: %m", st->dest.unix_path);
	    close(fd);
	    return (0);
	}
	return (session_alloc(fd, mail_conf_str(VAR_MYHOSTNAME), st->dest.unix_path, 0));
    } else {
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (addr->family == AF_INET6) {
	    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

	    sin6->sin6_family = AF_INET6;
	    sin6->sin6_port = htons(st->dest.port);
	    memcpy(&sin6->sin6_addr, addr->addr, 16);
	    len = sizeof(*sin6);
	} else {
	    struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

	    sin->sin_family = AF_INET;
	    sin->sin_port = htons(st->dest.port);
	    memcpy(&sin->sin_addr, addr->addr, 4);
	    len = sizeof(*sin);
	}
	if ((fd = socket(addr->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
	    smtp_why_set(why, 0, "4.3.0", "socket: %m");
	    return (0);
	}
	if (bind_local(fd, addr->family) < 0) {
	    smtp_why_set(why, 0, "4.3.0", "bind %s: %m", smtp_param_name(
		      addr->family == AF_INET6 ? VAR_SMTP_BIND_ADDRESS6 : VAR_SMTP_BIND_ADDRESS));
	    close(fd);
	    return (0);
	}
	if (connect_wait(fd, (struct sockaddr *) &ss, len, smtp_conf.connect_timeout) < 0) {
	    smtp_why_set(why, 0, "4.4.1", "connect to %s[%s]:%d: %m",
			 addr->host, addr->ip, st->dest.port);
	    close(fd);
	    return (0);
	}

	/*
	 * Every write is a whole pipelined group or a full buffer of the
	 * message: with Nagle's algorithm the last piece (the final ".")
	 * would wait for the ACK of the previous one, which the server
	 * delays because it has nothing to say before the "." (40 ms per
	 * message that takes more than one write).
	 */
	{
	    int     on = 1;

	    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
	/* debug_peer_list: a server that matches logs from its greeting on. */
	(void) debug_peer_check(addr->host, addr->ip);
	return (session_alloc(fd, addr->host, addr->ip, st->dest.port));
    }
}

/* session_lost - why for a lost or timed-out conversation */
static int session_lost(SMTP_SESSION *sess, SMTP_WHY *why, const char *what)
{
    if (vstream_ftimeout(sess->stream))
	smtp_why_set(why, sess->relay, "4.4.2", "conversation with %s timed out while %s",
		     sess->namaddr, what);
    else
	smtp_why_set(why, sess->relay, "4.4.2", "lost connection with %s while %s",
		     sess->namaddr, what);
    return (-1);
}

/* parse_ehlo - the extensions of an EHLO/LHLO reply */
static void parse_ehlo(SMTP_SESSION *sess, SMTP_REPLY *reply)
{
    sess->features = SMTP_FEATURE_ESMTP;
    sess->size_limit = 0;
    sess->xforward_attrs = 0;
    myfree(sess->auth_mechs);
    sess->auth_mechs = 0;
    for (size_t i = 1; i < reply->lines->argc; i++) {
	ARGV   *words = argv_split(reply->lines->argv[i], " \t=");
	const char *kw;

	if (words->argc == 0) {
	    argv_free(words);
	    continue;
	}
	kw = words->argv[0];
	if (strcasecmp(kw, "PIPELINING") == 0)
	    sess->features |= SMTP_FEATURE_PIPELINING;
	else if (strcasecmp(kw, "STARTTLS") == 0)
	    sess->features |= SMTP_FEATURE_STARTTLS;
	else if (strcasecmp(kw, "DSN") == 0)
	    sess->features |= SMTP_FEATURE_DSN;
	else if (strcasecmp(kw, "8BITMIME") == 0)
	    sess->features |= SMTP_FEATURE_8BITMIME;
	else if (strcasecmp(kw, "SMTPUTF8") == 0)
	    sess->features |= SMTP_FEATURE_SMTPUTF8;
	else if (strcasecmp(kw, "XFORWARD") == 0) {
	    /* The attributes it takes (smtp_client_xfer.c sends those). */
	    static const char *names[] = {"NAME", "ADDR", "PORT", "PROTO", "HELO",
	    "IDENT", "SOURCE", 0};

	    sess->features |= SMTP_FEATURE_XFORWARD;
	    for (size_t j = 1; j < words->argc; j++)
		for (int k = 0; names[k]; k++)
		    if (strcasecmp(words->argv[j], names[k]) == 0)
			sess->xforward_attrs |= 1 << k;
	}
	else if (strcasecmp(kw, "SIZE") == 0) {
	    sess->features |= SMTP_FEATURE_SIZE;
	    if (words->argc > 1 && alldig(words->argv[1]) && strlen(words->argv[1]) < 18)
		sess->size_limit = atol(words->argv[1]);
	} else if (strcasecmp(kw, "AUTH") == 0) {
	    VSTRING *mechs = vstring_alloc(50);

	    sess->features |= SMTP_FEATURE_AUTH;
	    if (sess->auth_mechs)
		vstring_strcpy(mechs, sess->auth_mechs);
	    for (size_t j = 1; j < words->argc; j++) {
		if (vstring_len(mechs))
		    vstring_addch(mechs, ' ');
		vstring_strcat(mechs, words->argv[j]);
	    }
	    myfree(sess->auth_mechs);
	    sess->auth_mechs = vstring_export(mechs);
	}
	argv_free(words);
    }
}

/*
 * session_helo - EHLO (HELO as fallback) or LHLO, or HELO alone
 * (sess->helo_only); -1 with why
 */
static int session_helo(SMTP_SESSION *sess, SMTP_REPLY *reply, SMTP_WHY *why)
{
    const char *cmd = smtp_conf.proto == SMTP_PROTO_LMTP ? "LHLO" : "EHLO";

    vstream_set_timeout(sess->stream, smtp_conf.helo_timeout);
    if (!sess->helo_only) {
	smtp_chat_cmd(sess, "%s %s", cmd, smtp_conf.helo_name);
	if (smtp_chat_reply(sess, reply) < 0)
	    return (session_lost(sess, why, smtp_conf.proto == SMTP_PROTO_LMTP ?
				 "performing the LHLO handshake" :
				 "performing the EHLO handshake"));
	if (reply->code / 100 == 2) {
	    parse_ehlo(sess, reply);
	    return (0);
	}
    }
    if (sess->helo_only || (smtp_conf.proto == SMTP_PROTO_SMTP && reply->code / 100 == 5)) {
	smtp_chat_cmd(sess, "HELO %s", smtp_conf.helo_name);
	if (smtp_chat_reply(sess, reply) < 0)
	    return (session_lost(sess, why, "performing the HELO handshake"));
	if (reply->code / 100 == 2) {
	    sess->features = 0;
	    return (0);
	}
    }
    sess->refused = 1;
    smtp_why_set(why, sess->relay, reply->dsn, "host %s refused to talk to me: %s",
		 sess->namaddr, vstring_str(reply->text));
    return (-1);
}

/*
 * tls_match_names - the names a verify or secure certificate must have:
 * the policy's match= names, else smtp_tls_verify_cert_match or
 * smtp_tls_secure_cert_match; the strategies hostname (the server's
 * name), nexthop and dot-nexthop (the destination, and its
 * subdomains) become names, other words are names or ".domain".
 */
static void tls_match_names(SMTP_SESSION *sess, SMTP_STATE *st, const char *level,
			            VSTRING *match)
{
    const char *list;
    ARGV   *av;

    if (st->tls_match && vstring_len(st->tls_match))
	list = vstring_str(st->tls_match);
    else if (strcasecmp(level, "secure") == 0)
	list = smtp_param_str(VAR_SMTP_TLS_SECURE_CERT_MATCH);
    else
	list = smtp_param_str(VAR_SMTP_TLS_VERIFY_CERT_MATCH);
    av = argv_split(list, ", \t\r\n:");
    vstring_reset(match);
    for (size_t i = 0; i < av->argc; i++) {
	const char *m = av->argv[i];

	if (strcasecmp(m, "hostname") == 0)
	    m = sess->host;
	else if (strcasecmp(m, "nexthop") == 0)
	    m = st->dest.host;
	else if (strcasecmp(m, "dot-nexthop") == 0) {
	    vstring_sprintf_append(match, "%s.%s", vstring_len(match) ? " " : "", st->dest.host);
	    continue;
	}
	vstring_sprintf_append(match, "%s%s", vstring_len(match) ? " " : "", m);
    }
    argv_free(av);
}

/*
 * tls_serverid - the session cache key: the server, and everything its
 * verification depends on, so that a session is resumed only where the
 * same checks would pass
 */
static void tls_serverid(VSTRING *out, SMTP_SESSION *sess, const TLS_CLIENT_PARAMS *tp)
{
    VSTRING *text = vstring_alloc(200);

    vstring_sprintf(text, "[%s]:%d&%s&%s&%s&%s&%s&%s&%s", sess->addr, sess->port,
		    sess->host, tp->servername ? tp->servername : "", tp->level,
		    tp->protocols, tp->ciphers, tp->cipherlist, tp->exclude_ciphers);
    vstring_sprintf_append(text, "&%s&%s&%s&%s&%s&%d", smtp_param_str(VAR_SMTP_TLS_CAFILE),
			   smtp_param_str(VAR_SMTP_TLS_CAPATH),
			   smtp_param_str(VAR_SMTP_TLS_CHAIN_FILES),
			   smtp_param_str(VAR_SMTP_TLS_CERT_FILE),
			   smtp_param_str(VAR_SMTP_TLS_KEY_FILE),
			   smtp_param_int(VAR_SMTP_TLS_SCERT_VERIFYDEPTH));
    tls_scache_key(out, smtp_conf.name, vstring_str(text));
    vstring_free(text);
}

/* session_tls_start - the TLS handshake at a level; -1 with why */
static int session_tls_start(SMTP_SESSION *sess, SMTP_STATE *st, const char *level,
			             int rank, SMTP_WHY *why)
{
    VSTRING *tls_why;
    TLS_CLIENT_PARAMS tp;
    VSTRING *match = vstring_alloc(50);
    VSTRING *serverid = vstring_alloc(80);
    VSTRING *exclude = vstring_alloc(50);
    int     check = TLS_CHECK_HANDSHAKE;

    /* Names (verify, secure, DANE) or fingerprints. */
    if (strcasecmp(level, "fingerprint") == 0)
	vstring_strcpy(match, st->tls_match && vstring_len(st->tls_match) ?
		       vstring_str(st->tls_match) :
		       smtp_param_str(VAR_SMTP_TLS_FINGERPRINT_CERT_MATCH));
    else if (strcasecmp(level, "verify") == 0 || strcasecmp(level, "secure") == 0)
	tls_match_names(sess, st, level, match);
    else if (st->tls_match && vstring_len(st->tls_match))
	vstring_strcpy(match, vstring_str(st->tls_match));
    else
	vstring_strcpy(match, sess->host);
    memset(&tp, 0, sizeof(tp));
    tp.level = level;
    tp.servername = smtp_param_str(VAR_SMTP_TLS_SERVERNAME);
    if (strcasecmp(tp.servername, "hostname") == 0)
	tp.servername = sess->host;
    else if (strcasecmp(tp.servername, "nexthop") == 0)
	tp.servername = st->dest.host;
    tp.match_names = vstring_str(match);
    /* A policy entry's protocols=, ciphers=, exclude= win over main.cf. */
    tp.protocols = st->tls_protocols ? st->tls_protocols :
	smtp_param_str(rank >= 2 ? VAR_SMTP_TLS_MANDATORY_PROTOCOLS : VAR_SMTP_TLS_PROTOCOLS);
    tp.ciphers = st->tls_grade ? st->tls_grade :
	smtp_param_str(rank >= 2 ? VAR_SMTP_TLS_MANDATORY_CIPHERS : VAR_SMTP_TLS_CIPHERS);
    tp.cipherlist = mail_tls_cipherlist(tp.ciphers);
    /* Mandatory levels exclude smtp_tls_mandatory_exclude_ciphers too. */
    if (st->tls_exclude) {
	vstring_strcpy(exclude, st->tls_exclude);
    } else {
	vstring_strcpy(exclude, smtp_param_str(VAR_SMTP_TLS_EXCLUDE_CIPHERS));
	if (rank >= 2 && *smtp_param_str(VAR_SMTP_TLS_MANDATORY_EXCLUDE_CIPHERS))
	    vstring_sprintf_append(exclude, "%s%s", vstring_len(exclude) ? ", " : "",
				   smtp_param_str(VAR_SMTP_TLS_MANDATORY_EXCLUDE_CIPHERS));
    }
    tp.exclude_ciphers = vstring_str(exclude);
    tp.peer = sess->relay;
    tp.timeout = smtp_conf.starttls_timeout;
    tp.loglevel = smtp_param_int(VAR_SMTP_TLS_LOGLEVEL);
    tp.dane = st->tls.dane;
    tp.dane_trusted_only = st->tls.dane_trusted_only;
    tp.chain_out = st->tls_chain;
    tp.check = smtp_tlsrpt_wanted(st) ? &check : 0;
    tls_serverid(serverid, sess, &tp);
    tp.serverid = vstring_str(serverid);
    tls_why = vstring_alloc(100);
    sess->tls = tls_client_start(sess->stream, &tp, tls_why);
    vstring_free(match);
    vstring_free(serverid);
    vstring_free(exclude);
    smtp_tlsrpt_session(st, sess, sess->tls ? SMTP_TLSRPT_TLS_OK : SMTP_TLSRPT_TLS_FAILED,
			check);
    if (sess->tls == 0) {
	if (rank == 1)
	    st->tls_failed = 1;
	/* Postfix: "Server certificate not verified" / "not trusted" alone (4.7.5). */
	if (strcmp(vstring_str(tls_why), "Server certificate not verified") == 0
	    || strcmp(vstring_str(tls_why), "Server certificate not trusted") == 0)
	    smtp_why_set(why, sess->relay, "4.7.5", "%s", vstring_str(tls_why));
	else
	    smtp_why_set(why, sess->relay, rank >= 3 ? "4.7.5" : "4.7.0", "%s: %s",
			 vstring_str(tls_why), sess->namaddr);
	vstring_free(tls_why);
	return (-1);
    }
    vstring_free(tls_why);
    /* These levels fail unless the server's certificate matched. */
    sess->tls_matched = (strcasecmp(level, "verify") == 0 || strcasecmp(level, "secure") == 0
			 || strncasecmp(level, "dane", 4) == 0
			 || strcasecmp(level, "fingerprint") == 0);
    return (0);
}

/* session_starttls - STARTTLS as the policy says; 0 = go on */
static int session_starttls(SMTP_SESSION *sess, SMTP_STATE *st, SMTP_REPLY *reply,
			            SMTP_WHY *why)
{
    const char *level = st->tls.level;
    int     rank = st->tls.rank;

    /* smtp_tls_note_starttls_offer: where TLS is not enabled. */
    if (rank == 0 && !sess->tls && (sess->features & SMTP_FEATURE_STARTTLS)
	&& smtp_param_bool(VAR_SMTP_TLS_NOTE_STARTTLS_OFFER))
	msg_info("Host offered STARTTLS: [%s]", sess->host);
    if (sess->tls || rank == 0 || (rank == 1 && st->tls_off))
	return (0);
    if (!(sess->features & SMTP_FEATURE_STARTTLS)) {
	smtp_tlsrpt_session(st, sess, SMTP_TLSRPT_NO_STARTTLS, TLS_CHECK_HANDSHAKE);
	if (rank == 1)
	    return (0);
	smtp_why_set(why, sess->relay, "4.7.4",
		     "TLS is required, but was not offered by host %s", sess->namaddr);
	return (-1);
    }
    /* Postfix: no TLS engine (its certificate did not load, ...). */
    if (!tls_client_ready()) {
	if (rank == 1)
	    return (0);
	smtp_why_set(why, sess->relay, "4.7.5",
		     "TLS is required, but our TLS engine is unavailable");
	return (-1);
    }
    vstream_set_timeout(sess->stream, smtp_conf.helo_timeout);
    smtp_chat_cmd(sess, "STARTTLS");
    if (smtp_chat_reply(sess, reply) < 0)
	return (session_lost(sess, why, "sending STARTTLS"));
    if (reply->code != 220) {
	smtp_tlsrpt_session(st, sess, SMTP_TLSRPT_NO_STARTTLS, TLS_CHECK_HANDSHAKE);
	if (rank == 1)
	    return (0);
	smtp_why_set(why, sess->relay, "4.7.5",
		     "TLS is required, but host %s refused to start TLS: %s",
		     sess->namaddr, vstring_str(reply->text));
	return (-1);
    }
    if (session_tls_start(sess, st, level, rank, why) < 0)
	return (-1);
    return (session_helo(sess, reply, why));
}

int     smtp_session_handshake(SMTP_SESSION *sess, SMTP_STATE *st, SMTP_WHY *why)
{
    SMTP_REPLY *reply = smtp_reply_alloc();
    int     ret = -1;

    /* SMTPS (smtp_tls_wrappermode): TLS before the greeting, at least encrypt. */
    if (smtp_param_bool_soft(VAR_SMTP_TLS_WRAPPERMODE)) {
	const char *level = st->tls.level;
	int     rank = st->tls.rank;

	if (rank < 2) {
	    level = "encrypt";
	    rank = 2;
	}
	if (session_tls_start(sess, st, level, rank, why) < 0) {
	    st->tls_failed = 0;
	    goto done;
	}
    }
    vstream_set_timeout(sess->stream, smtp_conf.helo_timeout);
    if (smtp_chat_reply(sess, reply) < 0) {
	session_lost(sess, why, "receiving the initial server greeting");
	goto done;
    }
    if (reply->code / 100 != 2) {
	char    dsn[16];

	snprintf(dsn, sizeof(dsn), "%s", reply->dsn);
	if (reply->code / 100 != 5 || smtp_conf.skip_5xx_greeting)
	    dsn[0] = '4';
	sess->refused = 1;
	smtp_why_set(why, sess->relay, dsn, "host %s refused to talk to me: %s",
		     sess->namaddr, vstring_str(reply->text));
	goto done;
    }
    /*
     * HELO instead of EHLO: smtp_never_send_ehlo, or a greeting without
     * "ESMTP" when smtp_always_send_ehlo is off (Postfix).
     */
    sess->helo_only = smtp_conf.proto == SMTP_PROTO_SMTP
	&& (smtp_conf.never_ehlo
	    || (!smtp_conf.always_ehlo && strstr(vstring_str(reply->text), "ESMTP") == 0));
    if (session_helo(sess, reply, why) < 0)
	goto done;
    if (session_starttls(sess, st, reply, why) < 0)
	goto done;
    if (st->dest.use_mx && smtp_sasl_lookup(st, sess->host) < 0) {
	smtp_why_set(why, 0, "4.3.0", "%s lookup error",
		     smtp_param_name(VAR_SMTP_SASL_PASSWORD_MAPS));
	goto done;
    }
    if (st->sasl_user && (sess->features & SMTP_FEATURE_AUTH)
	&& smtp_sasl_authenticate(sess, st->sasl_user, st->sasl_pass, why) < 0)
	goto done;
    ret = 0;
done:
    smtp_reply_free(reply);
    return (ret);
}

int     smtp_session_alive(SMTP_SESSION *sess)
{
    struct pollfd pfd;

    if (vstream_ferror(sess->stream) || vstream_feof(sess->stream)
	|| vstream_peek(sess->stream) > 0)
	return (0);
    pfd.fd = vstream_fileno(sess->stream);
    pfd.events = POLLIN;
    /* Readable means EOF or an unasked reply (421): not reusable. */
    return (poll(&pfd, 1, 0) == 0);
}

void    smtp_session_quit(SMTP_SESSION *sess)
{
    SMTP_REPLY *reply;

    if (vstream_ferror(sess->stream) || vstream_feof(sess->stream))
	return;
    vstream_set_timeout(sess->stream, smtp_conf.quit_timeout);
    smtp_chat_cmd(sess, "QUIT");
    if (vstream_fflush(sess->stream) != 0)
	return;
    if (!smtp_param_bool_soft(VAR_SMTP_SKIP_QUIT_RESPONSE)) {
	reply = smtp_reply_alloc();
	(void) smtp_chat_reply(sess, reply);
	smtp_reply_free(reply);
    }
    if (sess->tls) {
	tls_client_stop(sess->tls, sess->stream);
	sess->tls = 0;
    }
}
