/*
 * NAME
 *	smtpd_peer - who the client is
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_peer_init(SMTPD_STATE *state, int fd);
 *	void smtpd_peer_policy(SMTPD_STATE *state);
 *	void smtpd_peer_stress(void);
 * DESCRIPTION
 *	Fills in the client's address, port and name from the socket. An
 *	IPv4-mapped IPv6 address is shown as IPv4. The name comes from a
 *	reverse lookup that a forward lookup of that name confirms (one of
 *	its addresses is the client's), as Postfix does; otherwise it is
 *	"unknown"; the reverse name alone (unconfirmed, for
 *	reject_unknown_reverse_client_hostname) is kept as reverse_name.
 *	smtpd_peername_lookup = no skips the lookups. A
 *	descriptor that is not a socket (smtpd -S on a pipe) is the local
 *	host: localhost[127.0.0.1].
 *
 *	namaddr is "name[addr]", the client in log lines and replies;
 *	with smtpd_client_port_logging, "name[addr]:port", as Postfix.
 *
 *	smtpd_peer_stress() runs before the first lookup: in a process
 *	started under stress (master's "-o stress=yes", when the service
 *	has reached its process limit) each of these lookups waits at most
 *	one second, one attempt (RES_OPTIONS "timeout:1 attempts:1", added
 *	to what the environment has), instead of the C library's default of
 *	5 seconds, twice: a crowd of clients whose reverse DNS is slow or
 *	lost must not keep the processes that should evict them busy. A
 *	lookup that times out leaves the name "unknown", as any failed
 *	lookup does.
 *
 *	smtpd_peer_policy() (also after XCLIENT) decides how bare newlines
 *	are handled for this client (smtpd_forbid_bare_newline, minus its
 *	exclusions).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "smtpd.h"

/* put_decimal - val in decimal at cp, returns the end (not terminated) */
static char *put_decimal(char *cp, unsigned val)
{
    char    tmp[12];
    size_t  n = 0;

    do {
	tmp[n++] = '0' + val % 10;
    } while ((val /= 10) != 0);
    while (n > 0)
	*cp++ = tmp[--n];
    return (cp);
}

/*
 * numeric_host - the address as text, as getnameinfo(NI_NUMERICHOST)
 * writes it; an IPv4 address without the C library (whose inet_ntop()
 * and getnameinfo() go through printf), once or twice per session.
 */
static int numeric_host(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)
	&& size >= INET_ADDRSTRLEN) {
	const unsigned char *b = (const unsigned char *)
	&((const struct sockaddr_in *) sa)->sin_addr;
	char   *cp = buf;

	for (int i = 0; i < 4; i++) {
	    if (i > 0)
		*cp++ = '.';
	    cp = put_decimal(cp, b[i]);
	}
	*cp = 0;
	return (0);
    }
    return (getnameinfo(sa, len, buf, size, 0, 0, NI_NUMERICHOST) == 0 ? 0 : -1);
}

/* forward_confirm - does name resolve to addr */
static int forward_confirm(const char *name, const char *addr)
{
    struct addrinfo hints, *res, *ai;
    char    buf[INET6_ADDRSTRLEN];
    int     ok = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (getaddrinfo(name, 0, &hints, &res) != 0)
	return (0);
    for (ai = res; ai && !ok; ai = ai->ai_next) {
	if (numeric_host(ai->ai_addr, ai->ai_addrlen, buf, sizeof(buf)) == 0
	    && strcasecmp(buf, addr) == 0)
	    ok = 1;
    }
    freeaddrinfo(res);
    return (ok);
}

void    smtpd_peer_stress(void)
{
    const char *old = getenv("RES_OPTIONS");
    VSTRING *buf;

    if (*mail_conf_str(VAR_STRESS) == 0)
	return;
    buf = vstring_alloc(50);
    vstring_sprintf(buf, "%s%stimeout:1 attempts:1", old ? old : "", old ? " " : "");
    if (setenv("RES_OPTIONS", vstring_str(buf), 1) < 0)
	msg_warn("setenv RES_OPTIONS: %m");
    vstring_free(buf);
}

void    smtpd_peer_init(SMTPD_STATE *state, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char    addr[INET6_ADDRSTRLEN];
    char    port[16];
    char    host[NI_MAXHOST];
    VSTRING *buf = vstring_alloc(100);

    memset(&ss, 0, sizeof(ss));
    if (getpeername(fd, (struct sockaddr *) &ss, &len) < 0
	|| (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
	state->name = mystrdup("localhost");
	state->reverse_name = mystrdup("localhost");
	state->addr = mystrdup("127.0.0.1");
	state->port = mystrdup("0");
	state->rfc_addr = mystrdup("127.0.0.1");
    } else {
	/* IPv4-mapped IPv6 addresses are IPv4 clients. */
	if (ss.ss_family == AF_INET6) {
	    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

	    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = sin6->sin6_port;
		memcpy(&sin.sin_addr, sin6->sin6_addr.s6_addr + 12, 4);
		memcpy(&ss, &sin, sizeof(sin));
		len = sizeof(sin);
	    }
	}
	if (numeric_host((struct sockaddr *) &ss, len, addr, sizeof(addr)) != 0) {
	    snprintf(addr, sizeof(addr), "unknown");
	    snprintf(port, sizeof(port), "unknown");
	} else {
	    *put_decimal(port, ntohs(ss.ss_family == AF_INET ?
				     ((struct sockaddr_in *) &ss)->sin_port :
				     ((struct sockaddr_in6 *) &ss)->sin6_port)) = 0;
	}
	state->addr = mystrdup(addr);
	state->port = mystrdup(port);
	if (ss.ss_family == AF_INET6) {
	    vstring_sprintf(buf, "IPv6:%s", addr);
	    state->rfc_addr = mystrdup(vstring_str(buf));
	} else {
	    state->rfc_addr = mystrdup(addr);
	}
	if (var_peername_lookup
	    && getnameinfo((struct sockaddr *) &ss, len, host, sizeof(host),
			   0, 0, NI_NAMEREQD) == 0
	    && smtpd_valid_hostname(host)) {
	    state->reverse_name = mystrdup(host);
	    state->name = mystrdup(forward_confirm(host, addr) ? host : "unknown");
	} else {
	    state->reverse_name = mystrdup("unknown");
	    state->name = mystrdup("unknown");
	}
    }
    /* smtpd_client_port_logging: every "host[addr]" shows ":port" too. */
    vstring_sprintf(buf, "%s[%s]", state->name, state->addr);
    if (var_smtpd_client_port_log)
	vstring_sprintf_append(buf, ":%s", state->port);
    state->namaddr = mystrdup(vstring_str(buf));
    vstring_free(buf);
    smtpd_peer_policy(state);
}

void    smtpd_peer_policy(SMTPD_STATE *state)
{
    if (strcasecmp(var_bare_lf, "reject") == 0)
	state->bare_lf_mode = SMTPD_BARE_LF_REJECT;
    else if (strcasecmp(var_bare_lf, "note") == 0)
	state->bare_lf_mode = SMTPD_BARE_LF_NOTE;
    else
	state->bare_lf_mode = SMTPD_BARE_LF_NORMALIZE;
    if (state->bare_lf_mode != SMTPD_BARE_LF_NORMALIZE
	&& smtpd_check_bare_lf_exempt(state))
	state->bare_lf_mode = SMTPD_BARE_LF_NORMALIZE;
}
