/*
 * NAME
 *	xsasl_dovecot - SASL server: Dovecot's authentication service
 * SYNOPSIS
 *	#include "global/xsasl_server.h"
 *
 *	XSASL_SERVER_IMPL *xsasl_dovecot_init(const char *path);
 * DESCRIPTION
 *	A client of Dovecot's auth-client protocol (version 1) over the
 *	socket path: a UNIX socket ("private/auth" is relative to the queue
 *	directory, as smtpd runs there, chrooted or not; "unix:" may
 *	prefix it) or "inet:host:port". One connection per process is
 *	kept across client sessions; xsasl_server_create() opens it
 *	again when Dovecot has closed it (a restart).
 *
 *	Handshake: "VERSION 1 0" and "CPID pid"; Dovecot answers with its
 *	VERSION (major 1), its MECH lines (name and flags) and DONE. The
 *	mechanisms offered are those whose flags the security options
 *	allow (noanonymous: no "anonymous" flag; noplaintext: no
 *	"plaintext"; nodictionary, noactive likewise; forward_secrecy and
 *	mutual_auth: that flag needed), never a "private" one.
 *
 *	An exchange is "AUTH id MECH service=S nologin lip=A rip=A
 *	[secured] [resp=B64]", then "CONT id B64" for each challenge,
 *	until Dovecot says OK (user=name), or FAIL (reason=text, temp,
 *	user=name). As Postfix, the mechanism must be one offered and
 *	the client's base64 is checked before it is passed on: "Invalid
 *	authentication mechanism", "Invalid base64 data in initial
 *	response", "Invalid base64 data in continued response". A FAIL
 *	without a reason is "(reason unavailable)"; a FAIL with "temp" is
 *	a temporary failure, as is a lost connection ("Connection lost to
 *	authentication server").
 *
 *	Dovecot's tab escapes (\001 and a letter) are undone in the
 *	values read; control characters left in a reason or a name are
 *	replaced with '?', so that they cannot reach the SMTP client or
 *	the log as line breaks.
 * DIAGNOSTICS
 *	Warnings for a socket that cannot be reached (Postfix's "SASL:
 *	Connect to Dovecot auth socket 'X' failed: ...") and for protocol
 *	trouble.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netdb.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstream.h"
#include "util/stringops.h"
#include "global/xsasl_server.h"

#define DC_TIMEOUT	60		/* seconds: Dovecot delays failures */
#define DC_LINE_LIMIT	65536		/* Dovecot says 16384 */

/* Mechanism flags in MECH lines. */
#define DC_MECH_ANONYMOUS	(1<<0)
#define DC_MECH_PLAINTEXT	(1<<1)
#define DC_MECH_DICTIONARY	(1<<2)
#define DC_MECH_ACTIVE		(1<<3)
#define DC_MECH_FORWARD_SECRECY	(1<<4)
#define DC_MECH_MUTUAL_AUTH	(1<<5)
#define DC_MECH_PRIVATE		(1<<6)

typedef struct DC_MECH {
    char   *name;
    int     flags;
} DC_MECH;

typedef struct DC_IMPL {
    XSASL_SERVER_IMPL impl;
    char   *path;
    VSTREAM *stream;			/* NULL: not connected */
    unsigned long next_id;
    DC_MECH *mechs;
    size_t  nmechs;
} DC_IMPL;

typedef struct DC_SERVER {
    XSASL_SERVER server;
    DC_IMPL *impl;
    char   *service;
    char   *lip;
    char   *rip;
    int     tls;
    VSTRING *mech_list;			/* offered, space-separated */
    unsigned long id;			/* exchange in progress, or 0 */
    char   *username;
} DC_SERVER;

/* dc_disconnect - forget the connection and what it told us */
static void dc_disconnect(DC_IMPL *impl)
{
    if (impl->stream)
	(void) vstream_close(impl->stream);
    impl->stream = 0;
    for (size_t i = 0; i < impl->nmechs; i++)
	myfree(impl->mechs[i].name);
    myfree(impl->mechs);
    impl->mechs = 0;
    impl->nmechs = 0;
}

/* dc_connect_fd - the socket of the path, or -1 with why */
static int dc_connect_fd(const char *path, VSTRING *why)
{
    int     fd = -1;

    if (strncmp(path, "inet:", 5) == 0) {
	char   *copy = mystrdup(path + 5);
	char   *port = strrchr(copy, ':');
	char   *host = copy;
	struct addrinfo hints, *res, *ai;
	int     gai;

	if (port == 0) {
	    vstring_sprintf(why, "Connect to Dovecot auth socket '%s' failed: "
			    "no port in address", path);
	    myfree(copy);
	    return (-1);
	}
	*port++ = 0;
	if (*host == '[' && host[strlen(host) - 1] == ']') {
	    host++;
	    host[strlen(host) - 1] = 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
	    vstring_sprintf(why, "Connect to Dovecot auth socket '%s' failed: %s",
			    path, gai_strerror(gai));
	    myfree(copy);
	    return (-1);
	}
	for (ai = res; ai; ai = ai->ai_next) {
	    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		continue;
	    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		break;
	    close(fd);
	    fd = -1;
	}
	if (fd < 0)
	    vstring_sprintf(why, "Connect to Dovecot auth socket '%s' failed: %s",
			    path, strerror(errno));
	freeaddrinfo(res);
	myfree(copy);
    } else {
	struct sockaddr_un sun;
	const char *name = strncmp(path, "unix:", 5) == 0 ? path + 5 : path;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(name) >= sizeof(sun.sun_path)) {
	    vstring_sprintf(why, "Connect to Dovecot auth socket '%s' failed: %s",
			    path, strerror(ENAMETOOLONG));
	    return (-1);
	}
	memcpy(sun.sun_path, name, strlen(name));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	    vstring_sprintf(why, "Connect to Dovecot auth socket '%s' failed: %s",
			    path, strerror(errno));
	    if (fd >= 0)
		close(fd);
	    return (-1);
	}
    }
    return (fd);
}

/* dc_unescape - Dovecot's tab escapes undone, control characters made '?' */
static char *dc_unescape(char *text)
{
    char   *in, *out;

    for (in = out = text; *in; in++) {
	int     ch = (unsigned char) *in;

	if (ch == 1 && in[1]) {
	    in++;
	    switch (*in) {
	    case '1':
		ch = 1;
		break;
	    case 't':
		ch = '\t';
		break;
	    case 'r':
		ch = '\r';
		break;
	    case 'n':
	    case 'l':
		ch = '\n';
		break;
	    case '0':
		ch = 0;
		break;
	    default:
		ch = (unsigned char) *in;
		break;
	    }
	}
	*out++ = (ch < ' ' || ch == 127) ? '?' : ch;
    }
    *out = 0;
    return (text);
}

/* dc_read_line - one line from Dovecot split at tabs; NULL on EOF/error */
static ARGV *dc_read_line(DC_IMPL *impl, VSTRING *buf)
{
    if (vstream_get_line(impl->stream, buf, DC_LINE_LIMIT) != VSTREAM_LINE)
	return (0);
    return (argv_split(vstring_str(buf), "\t"));
}

/* dc_mech_flags - the flags words of a MECH line */
static int dc_mech_flags(ARGV *av)
{
    static const struct {
	const char *name;
	int     flag;
    }       names[] = {
	{"anonymous", DC_MECH_ANONYMOUS},
	{"plaintext", DC_MECH_PLAINTEXT},
	{"dictionary", DC_MECH_DICTIONARY},
	{"active", DC_MECH_ACTIVE},
	{"forward-secrecy", DC_MECH_FORWARD_SECRECY},
	{"mutual-auth", DC_MECH_MUTUAL_AUTH},
	{"private", DC_MECH_PRIVATE},
    };
    int     flags = 0;

    for (size_t i = 2; i < av->argc; i++)
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++)
	    if (strcasecmp(av->argv[i], names[n].name) == 0)
		flags |= names[n].flag;
    return (flags);
}

/* dc_connect - connect and read the handshake; -1 with why */
static int dc_connect(DC_IMPL *impl, VSTRING *why)
{
    VSTRING *buf;
    ARGV   *av;
    int     fd;
    int     version_ok = 0;
    int     ret = -1;

    dc_disconnect(impl);
    if ((fd = dc_connect_fd(impl->path, why)) < 0)
	return (-1);
    impl->stream = vstream_fdopen(fd);
    vstream_set_timeout(impl->stream, DC_TIMEOUT);
    vstream_fprintf(impl->stream, "VERSION\t1\t0\nCPID\t%ld\n", (long) getpid());
    if (vstream_fflush(impl->stream) != 0) {
	vstring_sprintf(why, "write to Dovecot auth socket '%s': %s",
			impl->path, strerror(errno));
	dc_disconnect(impl);
	return (-1);
    }
    buf = vstring_alloc(100);
    while ((av = dc_read_line(impl, buf)) != 0) {
	if (av->argc == 0) {
	    argv_free(av);
	    continue;
	}
	if (strcmp(av->argv[0], "VERSION") == 0) {
	    if (av->argc < 2 || strcmp(av->argv[1], "1") != 0) {
		vstring_sprintf(why, "Dovecot auth socket '%s': unsupported "
				"protocol version %s", impl->path,
				av->argc > 1 ? av->argv[1] : "(none)");
		argv_free(av);
		break;
	    }
	    version_ok = 1;
	} else if (strcmp(av->argv[0], "MECH") == 0 && av->argc >= 2) {
	    impl->mechs = myrealloc(impl->mechs, (impl->nmechs + 1) * sizeof(*impl->mechs));
	    impl->mechs[impl->nmechs].name = mystrdup(dc_unescape(av->argv[1]));
	    impl->mechs[impl->nmechs].flags = dc_mech_flags(av);
	    impl->nmechs++;
	} else if (strcmp(av->argv[0], "DONE") == 0) {
	    argv_free(av);
	    if (!version_ok)
		vstring_sprintf(why, "Dovecot auth socket '%s': handshake "
				"without a VERSION", impl->path);
	    else
		ret = 0;
	    break;
	}
	argv_free(av);
    }
    if (av == 0)
	vstring_sprintf(why, "Dovecot auth socket '%s': %s during the handshake",
			impl->path, vstream_ftimeout(impl->stream) ? "timeout"
			: "connection closed");
    vstring_free(buf);
    if (ret < 0)
	dc_disconnect(impl);
    return (ret);
}

/* dc_alive - is the kept connection still usable (nothing unasked to read) */
static int dc_alive(DC_IMPL *impl)
{
    struct pollfd pfd;

    if (impl->stream == 0 || vstream_ferror(impl->stream)
	|| vstream_feof(impl->stream) || vstream_peek(impl->stream) > 0)
	return (0);
    pfd.fd = vstream_fileno(impl->stream);
    pfd.events = POLLIN;
    return (poll(&pfd, 1, 0) == 0);
}

/* Server functions. */

static void dc_server_free(XSASL_SERVER *xp)
{
    DC_SERVER *server = (DC_SERVER *) xp;

    myfree(server->service);
    myfree(server->lip);
    myfree(server->rip);
    myfree(server->username);
    vstring_free(server->mech_list);
    myfree(server);
}

static const char *dc_server_mechs(XSASL_SERVER *xp)
{
    return (vstring_str(((DC_SERVER *) xp)->mech_list));
}

static const char *dc_server_username(XSASL_SERVER *xp)
{
    return (((DC_SERVER *) xp)->username);
}

/* dc_lost - the connection failed in an exchange */
static int dc_lost(DC_SERVER *server, VSTRING *reply)
{
    msg_warn("SASL: connection to Dovecot auth socket '%s' lost: %s",
	     server->impl->path, vstream_ftimeout(server->impl->stream) ?
	     "timeout" : "connection closed");
    dc_disconnect(server->impl);
    server->id = 0;
    vstring_strcpy(reply, "Connection lost to authentication server");
    return (XSASL_AUTH_TEMP);
}

/* dc_reply - read Dovecot's answer to the exchange in progress */
static int dc_reply(DC_SERVER *server, VSTRING *reply)
{
    VSTRING *buf = vstring_alloc(100);
    ARGV   *av;
    int     status = -1;

    if (vstream_fflush(server->impl->stream) != 0) {
	vstring_free(buf);
	return (dc_lost(server, reply));
    }
    while (status < 0 && (av = dc_read_line(server->impl, buf)) != 0) {
	char   *end;

	/* Lines of other (abandoned) exchanges are not ours. */
	if (av->argc < 2 || strtoul(av->argv[1], &end, 10) != server->id || *end) {
	    argv_free(av);
	    continue;
	}
	if (strcmp(av->argv[0], "OK") == 0) {
	    for (size_t i = 2; i < av->argc; i++)
		if (strncmp(av->argv[i], "user=", 5) == 0) {
		    myfree(server->username);
		    server->username = mystrdup(dc_unescape(av->argv[i] + 5));
		}
	    server->id = 0;
	    status = XSASL_AUTH_DONE;
	} else if (strcmp(av->argv[0], "CONT") == 0) {
	    vstring_strcpy(reply, av->argc > 2 ? dc_unescape(av->argv[2]) : "");
	    status = XSASL_AUTH_MORE;
	} else if (strcmp(av->argv[0], "FAIL") == 0) {
	    int     temp = 0;

	    vstring_strcpy(reply, "(reason unavailable)");
	    for (size_t i = 2; i < av->argc; i++) {
		if (strncmp(av->argv[i], "reason=", 7) == 0)
		    vstring_strcpy(reply, dc_unescape(av->argv[i] + 7));
		else if (strncmp(av->argv[i], "user=", 5) == 0) {
		    myfree(server->username);
		    server->username = mystrdup(dc_unescape(av->argv[i] + 5));
		} else if (strcmp(av->argv[i], "temp") == 0)
		    temp = 1;
	    }
	    server->id = 0;
	    status = temp ? XSASL_AUTH_TEMP : XSASL_AUTH_FAIL;
	} else {
	    msg_warn("SASL: unexpected reply from Dovecot auth socket '%s': %.100s",
		     server->impl->path, av->argv[0]);
	}
	argv_free(av);
    }
    vstring_free(buf);
    if (status < 0)
	return (dc_lost(server, reply));
    return (status);
}

static int dc_server_first(XSASL_SERVER *xp, const char *mech, const char *init,
			           VSTRING *reply)
{
    DC_SERVER *server = (DC_SERVER *) xp;
    DC_IMPL *impl = server->impl;
    const char *name = 0;
    VSTRING *decoded;
    ARGV   *offered;

    myfree(server->username);
    server->username = 0;
    offered = argv_split(vstring_str(server->mech_list), " ");
    for (size_t i = 0; i < offered->argc && name == 0; i++)
	if (strcasecmp(offered->argv[i], mech) == 0)
	    name = mystrdup(offered->argv[i]);
    argv_free(offered);
    if (name == 0) {
	vstring_strcpy(reply, "Invalid authentication mechanism");
	return (XSASL_AUTH_FAIL);
    }
    if (init && strcmp(init, "=") == 0)
	init = "";
    decoded = vstring_alloc(100);
    if (init && *init && xsasl_base64_decode(init, decoded) < 0) {
	vstring_free(decoded);
	myfree((char *) name);
	vstring_strcpy(reply, "Invalid base64 data in initial response");
	return (XSASL_AUTH_FAIL);
    }
    vstring_free(decoded);
    if (impl->stream == 0) {
	myfree((char *) name);
	vstring_strcpy(reply, "Connection lost to authentication server");
	return (XSASL_AUTH_TEMP);
    }
    server->id = ++impl->next_id;
    vstream_fprintf(impl->stream, "AUTH\t%lu\t%s\tservice=%s\tnologin\tlip=%s\trip=%s%s",
		    server->id, name, server->service, server->lip, server->rip,
		    server->tls ? "\tsecured" : "");
    if (init)
	vstream_fprintf(impl->stream, "\tresp=%s", init);
    vstream_fputs(impl->stream, "\n");
    myfree((char *) name);
    return (dc_reply(server, reply));
}

static int dc_server_next(XSASL_SERVER *xp, const char *response, VSTRING *reply)
{
    DC_SERVER *server = (DC_SERVER *) xp;
    VSTRING *decoded = vstring_alloc(100);

    if (*response && xsasl_base64_decode(response, decoded) < 0) {
	vstring_free(decoded);
	vstring_strcpy(reply, "Invalid base64 data in continued response");
	return (XSASL_AUTH_FAIL);
    }
    vstring_free(decoded);
    if (server->id == 0 || server->impl->stream == 0) {
	vstring_strcpy(reply, "Connection lost to authentication server");
	return (XSASL_AUTH_TEMP);
    }
    vstream_fprintf(server->impl->stream, "CONT\t%lu\t%s\n", server->id, response);
    return (dc_reply(server, reply));
}

/* dc_create - the server side of one session */
static XSASL_SERVER *dc_create(XSASL_SERVER_IMPL *xi, const XSASL_SERVER_PARAMS *params,
			               VSTRING *why)
{
    DC_IMPL *impl = (DC_IMPL *) xi;
    DC_SERVER *server;
    int     sec = xsasl_security_flags(params->security_options);

    if (!dc_alive(impl) && dc_connect(impl, why) < 0)
	return (0);
    server = mycalloc(1, sizeof(*server));
    server->server.free = dc_server_free;
    server->server.mechs = dc_server_mechs;
    server->server.first = dc_server_first;
    server->server.next = dc_server_next;
    server->server.username = dc_server_username;
    server->impl = impl;
    server->service = mystrdup(params->service);
    server->lip = mystrdup(params->server_addr ? params->server_addr : "");
    server->rip = mystrdup(params->client_addr ? params->client_addr : "");
    server->tls = params->tls;
    server->mech_list = vstring_alloc(50);
    for (size_t i = 0; i < impl->nmechs; i++) {
	int     f = impl->mechs[i].flags;

	if ((f & DC_MECH_PRIVATE)
	    || ((sec & XSASL_SEC_NOANONYMOUS) && (f & DC_MECH_ANONYMOUS))
	    || ((sec & XSASL_SEC_NOPLAINTEXT) && (f & DC_MECH_PLAINTEXT))
	    || ((sec & XSASL_SEC_NODICTIONARY) && (f & DC_MECH_DICTIONARY))
	    || ((sec & XSASL_SEC_NOACTIVE) && (f & DC_MECH_ACTIVE))
	    || ((sec & XSASL_SEC_FORWARD_SECRECY) && !(f & DC_MECH_FORWARD_SECRECY))
	    || ((sec & XSASL_SEC_MUTUAL_AUTH) && !(f & DC_MECH_MUTUAL_AUTH)))
	    continue;
	if (vstring_len(server->mech_list))
	    vstring_addch(server->mech_list, ' ');
	vstring_strcat(server->mech_list, impl->mechs[i].name);
    }
    return (&server->server);
}

XSASL_SERVER_IMPL *xsasl_dovecot_init(const char *path)
{
    DC_IMPL *impl = mycalloc(1, sizeof(*impl));

    impl->impl.create = dc_create;
    impl->path = mystrdup(path);
    return (&impl->impl);
}
