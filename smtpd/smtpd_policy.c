/*
 * NAME
 *	smtpd_policy - check_policy_service: delegated access policy
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	int smtpd_policy_query(SMTPD_STATE *state, const char *server,
 *			       const char *etrn_domain, VSTRING *action);
 * DESCRIPTION
 *	Postfix's policy delegation protocol: the request is lines of
 *	"name=value" ended by an empty line (request=smtpd_access_policy,
 *	protocol_state, protocol_name, client_address, client_name,
 *	client_port, reverse_client_name, server_address, server_port,
 *	helo_name, sender, recipient, recipient_count, queue_id, instance,
 *	size, etrn_domain, stress, sasl_method, sasl_username and
 *	sasl_sender (after AUTH, smtpd_sasl.c), the ccert_ attributes
 *	(empty here), encryption_protocol, encryption_cipher, encryption_keysize,
 *	policy_context); the answer is "action=..." lines ended by an
 *	empty line.
 *
 *	smtpd_policy_query() asks server ("inet:host:port",
 *	"inet:[v6addr]:port", "unix:path" or a bare path; a relative path
 *	is in the queue directory) and puts the action into action. It
 *	returns 0, or -1 when no answer came after
 *	smtpd_policy_service_try_limit attempts,
 *	smtpd_policy_service_retry_delay apart (the caller then uses
 *	smtpd_policy_service_default_action). Each attempt has
 *	smtpd_policy_service_timeout in all. A connection stays open for
 *	the next query to the same server while it is younger than
 *	smtpd_policy_service_max_ttl, has been idle for less than
 *	smtpd_policy_service_max_idle and has served fewer than
 *	smtpd_policy_service_request_limit queries (0: no limit).
 *
 *	"instance" is the same for every query of one mail transaction
 *	(state->policy_instance, cleared by smtpd_transaction_reset()).
 * DIAGNOSTICS
 *	"warning: connect to server: reason", "warning: problem talking
 *	to server server: reason", as Postfix logs them.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "tls/tls_server.h"
#include "smtpd.h"

#define POLICY_MAX_LINE		4096	/* bytes per answer line */
#define POLICY_MAX_LINES	100	/* answer lines before we give up */
#define POLICY_MAX_CONN		8	/* servers with an open connection */

typedef struct POLICY_CONN {
    char   *server;
    VSTREAM *stream;
    time_t  opened;
    time_t  used;
    long    requests;
} POLICY_CONN;

static POLICY_CONN policy_conn[POLICY_MAX_CONN];

/* policy_name - the server as Postfix names it in warnings */
static const char *policy_name(const char *server)
{
    if (strncmp(server, "inet:", 5) == 0)
	return (server + 5);
    if (strncmp(server, "unix:", 5) == 0)
	return (server + 5);
    return (server);
}

/* policy_connect_fd - a non-blocking connect, waited for up to timeout */
static int policy_connect_fd(int fd, const struct sockaddr *sa, socklen_t len, int timeout)
{
    struct pollfd pfd;
    int     err = 0;
    socklen_t elen = sizeof(err);
    int     flags = fcntl(fd, F_GETFL);

    (void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, sa, len) < 0) {
	if (errno != EINPROGRESS)
	    return (-1);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout * 1000) <= 0) {
	    errno = ETIMEDOUT;
	    return (-1);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
	    errno = err ? err : EIO;
	    return (-1);
	}
    }
    (void) fcntl(fd, F_SETFL, flags);
    return (0);
}

/* policy_connect - a stream to server, or NULL with a warning */
static VSTREAM *policy_connect(const char *server, int timeout)
{
    const char *name = policy_name(server);
    int     fd = -1;

    if (strncmp(server, "inet:", 5) == 0) {
	char   *copy = mystrdup(name);
	char   *host = copy;
	char   *port = strrchr(copy, ':');
	struct addrinfo hints, *res = 0, *ai;
	int     gai;

	if (port == 0) {
	    msg_warn("connect to %s: bad server address", name);
	    myfree(copy);
	    return (0);
	}
	*port++ = 0;
	if (*host == '[' && port - copy >= 2 && port[-2] == ']') {
	    host++;
	    port[-2] = 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
	    msg_warn("connect to %s: %s", name, gai_strerror(gai));
	    myfree(copy);
	    return (0);
	}
	errno = ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
	    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		continue;
	    if (policy_connect_fd(fd, ai->ai_addr, ai->ai_addrlen, timeout) == 0)
		break;
	    close(fd);
	    fd = -1;
	}
	freeaddrinfo(res);
	myfree(copy);
    } else {
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(name) >= sizeof(sun.sun_path)) {
	    errno = ENAMETOOLONG;
	} else if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
	    memcpy(sun.sun_path, name, strlen(name));
	    if (policy_connect_fd(fd, (struct sockaddr *) &sun, sizeof(sun), timeout) < 0) {
		close(fd);
		fd = -1;
	    }
	}
    }
    if (fd < 0) {
	msg_warn("connect to %s: %m", name);
	return (0);
    }
    return (vstream_fdopen(fd));
}

/* policy_close - forget a server's connection */
static void policy_close(POLICY_CONN *pc)
{
    if (pc->stream)
	vstream_close(pc->stream);
    pc->stream = 0;
}

/* policy_conn_find - the slot of server: its open connection, or a free one */
static POLICY_CONN *policy_conn_find(const char *server)
{
    POLICY_CONN *free_slot = 0;
    POLICY_CONN *oldest = &policy_conn[0];

    for (int i = 0; i < POLICY_MAX_CONN; i++) {
	POLICY_CONN *pc = policy_conn + i;

	if (pc->server && strcmp(pc->server, server) == 0)
	    return (pc);
	if (pc->server == 0 && free_slot == 0)
	    free_slot = pc;
	if (pc->used < oldest->used)
	    oldest = pc;
    }
    if (free_slot == 0) {
	free_slot = oldest;
	policy_close(free_slot);
	myfree(free_slot->server);
    }
    free_slot->server = mystrdup(server);
    free_slot->stream = 0;
    return (free_slot);
}

/* policy_socket_addr - printable address and port of our or the peer's side */
static void policy_socket_addr(int fd, int local, char *addr, size_t alen,
			               char *port, size_t plen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int     rc;

    *addr = *port = 0;
    rc = local ? getsockname(fd, (struct sockaddr *) &ss, &len)
	: getpeername(fd, (struct sockaddr *) &ss, &len);
    if (rc < 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
	return;
    (void) getnameinfo((struct sockaddr *) &ss, len, addr, alen, port, plen,
		       NI_NUMERICHOST | NI_NUMERICSERV);
    if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
	memmove(addr, addr + 7, strlen(addr + 7) + 1);
}

/* policy_request - the request text */
static void policy_request(SMTPD_STATE *state, const char *etrn_domain, VSTRING *req)
{
    static unsigned long counter;
    char    server_addr[64], server_port[16];
    int     fd = vstream_fileno(state->client);
    struct timespec ts;

    if (state->policy_instance == 0) {
	VSTRING *buf = vstring_alloc(40);

	clock_gettime(CLOCK_REALTIME, &ts);
	vstring_sprintf(buf, "%lx.%lx.%lx.%lu", (unsigned long) getpid(),
			(unsigned long) ts.tv_sec, (unsigned long) ts.tv_nsec / 1000,
			counter++);
	state->policy_instance = vstring_export(buf);
    }
    policy_socket_addr(fd, 1, server_addr, sizeof(server_addr), server_port,
		       sizeof(server_port));
    vstring_sprintf(req, "request=smtpd_access_policy\n"
		    "protocol_state=%s\nprotocol_name=%s\n"
		    "client_address=%s\nclient_name=%s\nclient_port=%s\n"
		    "reverse_client_name=%s\nserver_address=%s\nserver_port=%s\n"
		    "helo_name=%s\nsender=%s\nrecipient=%s\nrecipient_count=%d\n"
		    "queue_id=%s\ninstance=%s\nsize=%ld\netrn_domain=%s\nstress=\n"
		    "sasl_method=%s\nsasl_username=%s\nsasl_sender=%s\n"
		    "ccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
		    "ccert_pubkey_fingerprint=\n",
		    state->where, state->protocol,
		    state->addr, state->name, state->port ? state->port : "",
		    state->name, server_addr, server_port,
		    state->helo_name ? state->helo_name : "",
		    state->sender ? state->sender : "",
		    state->recipient ? state->recipient : "",
		    state->rcpt_count, state->queue_id ? state->queue_id : "",
		    state->policy_instance, state->msg_size,
		    etrn_domain ? etrn_domain : "",
		    state->sasl_method ? state->sasl_method : "",
		    state->sasl_username ? state->sasl_username : "",
		    state->sasl_sender ? state->sasl_sender : "");
    if (state->tls)
	vstring_sprintf_append(req, "encryption_protocol=%s\nencryption_cipher=%s\n"
			       "encryption_keysize=%d\n", tls_server_protocol(state->client),
			       tls_server_cipher(state->client), tls_server_bits(state->client));
    else
	vstring_sprintf_append(req, "encryption_protocol=\nencryption_cipher=\n"
			       "encryption_keysize=0\n");
    vstring_sprintf_append(req, "policy_context=%s\n\n",
			   mail_conf_str(VAR_SMTPD_POLICY_SERVICE_POLICY_CONTEXT));
}

/* policy_exchange - one request and its answer; 0, or -1 with errno */
static int policy_exchange(VSTREAM *stream, const char *req, VSTRING *action, int timeout)
{
    VSTRING *line = vstring_alloc(100);
    int     have_action = 0;
    int     lines = 0;
    int     ret = -1;

    vstream_set_deadline(stream, timeout);
    if (vstream_fputs(stream, req) < 0 || vstream_fflush(stream) < 0)
	goto out;
    for (;;) {
	if (vstream_get_line(stream, line, POLICY_MAX_LINE) == VSTREAM_EOF) {
	    if (!vstream_ftimeout(stream) && !vstream_ferror(stream))
		errno = ECONNRESET;
	    else if (vstream_ftimeout(stream))
		errno = ETIMEDOUT;
	    goto out;
	}
	if (vstring_len(line) > 0 && vstring_str(line)[vstring_len(line) - 1] == '\n')
	    vstring_truncate(line, vstring_len(line) - 1);
	if (vstring_len(line) > 0 && vstring_str(line)[vstring_len(line) - 1] == '\r')
	    vstring_truncate(line, vstring_len(line) - 1);
	if (vstring_len(line) == 0)
	    break;
	if (++lines > POLICY_MAX_LINES) {
	    errno = EMSGSIZE;
	    goto out;
	}
	if (!have_action && strncmp(vstring_str(line), "action=", 7) == 0) {
	    vstring_strcpy(action, vstring_str(line) + 7);
	    /* The action may end up in a reply: one printable line. */
	    for (char *cp = vstring_str(action); *cp; cp++)
		if ((unsigned char) *cp < ' ' || (unsigned char) *cp == 127)
		    *cp = '?';
	    have_action = 1;
	}
    }
    if (!have_action) {
	errno = EPROTO;
	goto out;
    }
    ret = 0;
out:
    vstream_clear_deadline(stream);
    vstring_free(line);
    return (ret);
}

int     smtpd_policy_query(SMTPD_STATE *state, const char *server,
			           const char *etrn_domain, VSTRING *action)
{
    int     timeout = (int) mail_conf_time(VAR_SMTPD_POLICY_SERVICE_TIMEOUT);
    long    tries = mail_conf_int(VAR_SMTPD_POLICY_SERVICE_TRY_LIMIT);
    long    delay = mail_conf_time(VAR_SMTPD_POLICY_SERVICE_RETRY_DELAY);
    long    max_idle = mail_conf_time(VAR_SMTPD_POLICY_SERVICE_MAX_IDLE);
    long    max_ttl = mail_conf_time(VAR_SMTPD_POLICY_SERVICE_MAX_TTL);
    long    limit = mail_conf_int(VAR_SMTPD_POLICY_SERVICE_REQUEST_LIMIT);
    POLICY_CONN *pc = policy_conn_find(server);
    VSTRING *req = vstring_alloc(1024);
    time_t  now;
    int     ret = -1;

    policy_request(state, etrn_domain, req);
    for (long attempt = 0; attempt < (tries > 0 ? tries : 1); attempt++) {
	if (attempt > 0 && delay > 0)
	    sleep((unsigned) delay);
	now = time((time_t *) 0);
	if (pc->stream && (now - pc->used >= max_idle || now - pc->opened >= max_ttl
			   || (limit > 0 && pc->requests >= limit)))
	    policy_close(pc);
	if (pc->stream == 0) {
	    if ((pc->stream = policy_connect(server, timeout)) == 0) {
		msg_warn("problem talking to server %s: %m", policy_name(server));
		continue;
	    }
	    pc->opened = now;
	    pc->requests = 0;
	}
	pc->used = now;
	pc->requests++;
	if (policy_exchange(pc->stream, vstring_str(req), action, timeout) == 0) {
	    ret = 0;
	    break;
	}
	msg_warn("problem talking to server %s: %m", policy_name(server));
	policy_close(pc);
    }
    vstring_free(req);
    return (ret);
}
