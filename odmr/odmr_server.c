/*
 * NAME
 *	odmr_server - the commands of a customer site (RFC 2645)
 * SYNOPSIS
 *	#include "odmr.h"
 *
 *	void odmr_server_init(void);
 *	void odmr_server_session(VSTREAM *client);
 *	void odmr_reply(ODMR_STATE *state, const char *fmt, ...);
 * DESCRIPTION
 *	odmr_server_init() reads, before chroot and the privilege drop,
 *	what the session needs: odmr_domain_maps (ours: for each SASL login
 *	name, the domains it may pull), the SASL server of
 *	smtpd_sasl_type/smtpd_sasl_path with smtpd_sasl_service,
 *	smtpd_sasl_security_options, smtpd_sasl_tls_security_options,
 *	smtpd_sasl_local_domain and smtpd_sasl_response_limit (odmr always
 *	offers AUTH: ODMR needs it), STARTTLS with smtpd_tls_security_level
 *	(may, encrypt), smtpd_tls_cert_file, smtpd_tls_key_file and
 *	smtpd_tls_auth_only, and smtpd_banner, smtpd_timeout and the
 *	smtpd error limits. A master.cf "-o" sets them for odmr alone.
 *
 *	odmr_server_session() serves one site: "220 banner", then
 *	EHLO (250 with AUTH mechanisms, STARTTLS when offered,
 *	ENHANCEDSTATUSCODES, ATRN), STARTTLS, AUTH (as smtpd's, shared in
 *	global/xsasl_smtp.c), NOOP, RSET, QUIT, and ATRN. Other commands
 *	get "502 5.5.1 Error: command not implemented" (RFC 2645, 5.4).
 *
 *	ATRN [domain[,domain]...] (RFC 2645, 5.2.1), with the RFC's
 *	replies:
 *
 *	530 5.7.0 Authentication required	no AUTH yet
 *	530 5.7.0 Must issue a STARTTLS command first
 *						smtpd_tls_security_level
 *						= encrypt, no TLS yet
 *	501 5.5.4 Syntax: ATRN [domain[,domain]...]
 *	450 ATRN request refused		a domain the login may not
 *						pull, or a login without
 *						domains
 *	451 Unable to process ATRN request now	a table that cannot be
 *						read, or another session
 *						pulls one of the domains
 *	453 You have no mail			nothing queued for them
 *	250 OK now reversing the connection	odmr_turn() takes over
 *
 *	Without a domain, ATRN means every domain of the login. Domains
 *	are compared without case. After the turn the connection ends.
 *
 *	The session as a whole has smtpd_timeout per command (a deadline,
 *	as smtpd's); error replies count as in smtpd
 *	(smtpd_soft_error_limit, smtpd_error_sleep_time,
 *	smtpd_hard_error_limit).
 * DIAGNOSTICS
 *	"connect from host[addr]", "disconnect from host[addr] ehlo=1
 *	auth=1 atrn=1 quit=1 commands=4", AUTH failures as smtpd logs
 *	them, "host[addr]: ATRN site.example: sasl_username=NAME, N
 *	messages" when the turn starts, "warning: reject: ATRN
 *	other.example from host[addr]: sasl_username=NAME may not pull
 *	other.example".
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netdb.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "dict/maps.h"
#include "global/mail_conf.h"
#include "global/mail_tls.h"
#include "global/xsasl_server.h"
#include "global/xsasl_smtp.h"
#include "tls/tls_server.h"
#include "odmr.h"

char   *var_myhostname;
long    var_odmr_timeout;
static char *var_banner;
static long var_soft_erlim, var_hard_erlim, var_err_sleep;
static long var_line_limit;
static MAPS *domain_maps;
static XSASL_SERVER_IMPL *sasl_impl;
static char *sasl_service, *sasl_opts, *sasl_tls_opts, *sasl_realm;
static long sasl_resp_limit;
static int tls_auth_only;
static int tls_level;				/* 0 none, 1 may, 2 encrypt */
static TLS_SERVER_CTX *tls_ctx;

static const char *cmd_names[ODMR_CMD_COUNT] = {
    "ehlo", "starttls", "auth", "atrn", "noop", "rset", "quit", "unknown",
};

void    odmr_server_init(void)
{
    const char *level;

    var_myhostname = mystrdup(mail_conf_str(VAR_MYHOSTNAME));
    var_banner = mystrdup(mail_conf_str(VAR_SMTPD_BANNER));
    var_odmr_timeout = mail_conf_time(VAR_SMTPD_TIMEOUT);
    var_soft_erlim = mail_conf_int(VAR_SMTPD_SOFT_ERROR_LIMIT);
    var_hard_erlim = mail_conf_int(VAR_SMTPD_HARD_ERROR_LIMIT);
    var_err_sleep = mail_conf_time(VAR_SMTPD_ERROR_SLEEP_TIME);
    var_line_limit = mail_conf_int(VAR_LINE_LENGTH_LIMIT);
    if (var_line_limit < 512)
	var_line_limit = 512;
    if (*mail_conf_str(VAR_ODMR_DOMAIN_MAPS))
	domain_maps = maps_create(VAR_ODMR_DOMAIN_MAPS, mail_conf_str(VAR_ODMR_DOMAIN_MAPS),
				  DICT_FLAG_DEFAULT);
    sasl_service = mystrdup(mail_conf_str(VAR_SMTPD_SASL_SERVICE));
    sasl_opts = mystrdup(mail_conf_str(VAR_SMTPD_SASL_SECURITY_OPTIONS));
    sasl_tls_opts = mystrdup(mail_conf_str(VAR_SMTPD_SASL_TLS_SECURITY_OPTIONS));
    sasl_realm = mystrdup(mail_conf_str(VAR_SMTPD_SASL_LOCAL_DOMAIN));
    sasl_resp_limit = mail_conf_int(VAR_SMTPD_SASL_RESPONSE_LIMIT);
    (void) xsasl_security_flags(sasl_opts);
    (void) xsasl_security_flags(sasl_tls_opts);
    tls_auth_only = mail_conf_bool(VAR_SMTPD_TLS_AUTH_ONLY);
    sasl_impl = xsasl_server_init(mail_conf_str(VAR_SMTPD_SASL_TYPE),
				  mail_conf_str(VAR_SMTPD_SASL_PATH));

    level = mail_conf_str(VAR_SMTPD_TLS_SECURITY_LEVEL);
    if (*level == 0 || strcasecmp(level, "none") == 0)
	tls_level = 0;
    else if (strcasecmp(level, "may") == 0)
	tls_level = 1;
    else if (strcasecmp(level, "encrypt") == 0)
	tls_level = 2;
    else
	msg_fatal("invalid smtpd_tls_security_level value: \"%s\"", level);
    if (tls_level > 0) {
	VSTRING *why = vstring_alloc(100);
	const char *grade = mail_conf_str(tls_level == 2 ? VAR_SMTPD_TLS_MANDATORY_CIPHERS
					  : VAR_SMTPD_TLS_CIPHERS);

	tls_ctx = tls_server_init(mail_conf_str(VAR_SMTPD_TLS_CERT_FILE),
				  mail_conf_str(VAR_SMTPD_TLS_KEY_FILE),
				  mail_conf_str(tls_level == 2 ?
					VAR_SMTPD_TLS_MANDATORY_PROTOCOLS :
						VAR_SMTPD_TLS_PROTOCOLS),
				  grade, mail_tls_cipherlist(grade),
				  mail_conf_str(VAR_SMTPD_TLS_EXCLUDE_CIPHERS), why);
	if (tls_ctx == 0)
	    msg_warn("TLS is not available: %s", vstring_str(why));
	vstring_free(why);
    }
}

/* odmr_reply - one reply line; errors count as in smtpd */
void    odmr_reply(ODMR_STATE *state, const char *fmt,...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    state->last_code = atoi(vstring_str(buf));
    if (state->last_code >= 400) {
	state->error_count++;
	if (state->error_count > var_soft_erlim && var_err_sleep > 0) {
	    (void) vstream_fflush(state->client);
	    sleep((unsigned) var_err_sleep);
	}
    }
    if (msg_verbose)
	msg_info("> %s: %s", state->namaddr, vstring_str(buf));
    vstring_strcat(buf, "\r\n");
    (void) vstream_write(state->client, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
}

/* peer_init - who the site is: name[addr], the name forward-confirmed */
static void peer_init(ODMR_STATE *state)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char    addr[NI_MAXHOST], port[NI_MAXSERV], name[NI_MAXHOST];
    VSTRING *buf = vstring_alloc(100);
    int     confirmed = 0;

    strcpy(addr, "127.0.0.1");
    strcpy(port, "0");
    if (getpeername(vstream_fileno(state->client), (struct sockaddr *) &ss, &len) == 0
	&& (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
	(void) getnameinfo((struct sockaddr *) &ss, len, addr, sizeof(addr), port,
			   sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	if (strncasecmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
	    memmove(addr, addr + 7, strlen(addr + 7) + 1);
	if (getnameinfo((struct sockaddr *) &ss, len, name, sizeof(name), 0, 0,
			NI_NAMEREQD) == 0) {
	    struct addrinfo hints, *res, *ai;
	    char    check[NI_MAXHOST];

	    memset(&hints, 0, sizeof(hints));
	    hints.ai_socktype = SOCK_STREAM;
	    if (getaddrinfo(name, 0, &hints, &res) == 0) {
		for (ai = res; ai && !confirmed; ai = ai->ai_next)
		    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, check, sizeof(check),
				    0, 0, NI_NUMERICHOST) == 0
			&& strcasecmp(check, addr) == 0)
			confirmed = 1;
		freeaddrinfo(res);
	    }
	}
    }
    state->addr = mystrdup(addr);
    state->port = mystrdup(port);
    state->name = mystrdup(confirmed ? name : "unknown");
    vstring_sprintf(buf, "%s[%s]", state->name, state->addr);
    state->namaddr = vstring_export(buf);
}

/* sasl_server - this session's SASL server, made on first use */
static XSASL_SERVER *sasl_server(ODMR_STATE *state)
{
    XSASL_SERVER_PARAMS params;
    VSTRING *why;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char    addr[NI_MAXHOST] = "", port[NI_MAXSERV] = "";

    if (state->sasl)
	return (state->sasl);
    if (getsockname(vstream_fileno(state->client), (struct sockaddr *) &ss, &len) == 0
	&& (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
	(void) getnameinfo((struct sockaddr *) &ss, len, addr, sizeof(addr), port,
			   sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
    memset(&params, 0, sizeof(params));
    params.service = sasl_service;
    params.user_realm = sasl_realm;
    params.security_options = state->tls ? sasl_tls_opts : sasl_opts;
    params.tls = state->tls;
    params.server_name = var_myhostname;
    params.client_addr = state->addr;
    params.client_port = state->port;
    params.server_addr = addr;
    params.server_port = port;
    why = vstring_alloc(100);
    if ((state->sasl = xsasl_server_create(sasl_impl, &params, why)) == 0
	&& !state->sasl_unavailable) {
	msg_warn("SASL: %s", vstring_str(why));
	msg_warn("no SASL authentication mechanisms");
	state->sasl_unavailable = 1;
    }
    vstring_free(why);
    return (state->sasl);
}

static void sasl_reset(ODMR_STATE *state)
{
    if (state->sasl)
	xsasl_server_free(state->sasl);
    state->sasl = 0;
    state->sasl_used = 0;
    myfree(state->sasl_username);
    myfree(state->sasl_method);
    state->sasl_username = state->sasl_method = 0;
}

static void ehlo_cmd(ODMR_STATE *state, char *args)
{
    XSASL_SERVER *server;
    VSTRING *buf;

    if (*args == 0) {
	odmr_reply(state, "501 Syntax: EHLO hostname");
	return;
    }
    state->ehlo = 1;
    buf = vstring_alloc(200);
    vstring_sprintf(buf, "250-%s\r\n", var_myhostname);
    if (!state->tls && tls_level > 0)
	vstring_strcat(buf, "250-STARTTLS\r\n");
    if (!(tls_auth_only && !state->tls) && (server = sasl_server(state)) != 0
	&& *xsasl_server_mechs(server))
	vstring_sprintf_append(buf, "250-AUTH %s\r\n", xsasl_server_mechs(server));
    vstring_strcat(buf, "250-ENHANCEDSTATUSCODES\r\n250 ATRN");
    state->last_code = 250;
    (void) vstream_fprintf(state->client, "%s\r\n", vstring_str(buf));
    vstring_free(buf);
}

static void starttls_cmd(ODMR_STATE *state, char *args)
{
    VSTRING *why;

    if (*args) {
	odmr_reply(state, "501 5.5.4 Syntax: STARTTLS");
	return;
    }
    if (state->tls) {
	odmr_reply(state, "554 5.5.1 Error: TLS already active");
	return;
    }
    if (tls_level == 0) {
	odmr_reply(state, "502 5.5.1 Error: command not implemented");
	return;
    }
    if (tls_ctx == 0) {
	odmr_reply(state, "454 4.7.0 TLS not available due to local problem");
	return;
    }
    odmr_reply(state, "220 2.0.0 Ready to start TLS");
    why = vstring_alloc(100);
    if (tls_server_start(tls_ctx, state->client,
			 (int) mail_conf_time(VAR_SMTPD_STARTTLS_TIMEOUT), why) < 0) {
	msg_info("SSL_accept error from %s: %s", state->namaddr, vstring_str(why));
	state->quit = 1;
    } else {
	/* RFC 3207: forget what the client said before. */
	state->tls = 1;
	state->ehlo = 0;
	sasl_reset(state);
    }
    vstring_free(why);
}

static void auth_reply(void *ctx, const char *text)
{
    odmr_reply((ODMR_STATE *) ctx, "%s", text);
}

static int auth_read(void *ctx, VSTRING *buf, long limit)
{
    ODMR_STATE *state = ctx;
    int     ret;

    vstream_set_deadline(state->client, (int) var_odmr_timeout);
    ret = vstream_get_line(state->client, buf, (size_t) limit);
    if (ret == VSTREAM_LONG) {
	VSTRING *junk = vstring_alloc(100);

	while ((ret = vstream_get_line(state->client, junk, 4096)) == VSTREAM_LONG)
	     /* void */ ;
	vstring_free(junk);
	return (ret == VSTREAM_LINE ? XSASL_SMTP_READ_LONG : XSASL_SMTP_READ_LOST);
    }
    if (ret != VSTREAM_LINE)
	return (XSASL_SMTP_READ_LOST);
    if (vstring_len(buf) > 0 && vstring_end(buf)[-1] == '\r')
	vstring_truncate(buf, vstring_len(buf) - 1);
    return (XSASL_SMTP_READ_OK);
}

/* printable - a copy of text fit for the log */
static char *printable(const char *text)
{
    char   *copy = mystrdup(text);

    for (char *cp = copy; *cp; cp++)
	if ((unsigned char) *cp < ' ' || (unsigned char) *cp >= 127)
	    *cp = '?';
    return (copy);
}

static void auth_cmd(ODMR_STATE *state, char *args)
{
    XSASL_SMTP_IO io = {auth_reply, auth_read, state};
    XSASL_SERVER *server;
    const char *name;
    ARGV   *av;

    if (tls_auth_only && !state->tls) {
	odmr_reply(state, "503 5.5.1 Error: authentication not enabled");
	return;
    }
    if (tls_level == 2 && !state->tls) {
	odmr_reply(state, "530 5.7.0 Must issue a STARTTLS command first");
	return;
    }
    if (state->sasl_username) {
	odmr_reply(state, "503 5.5.1 Error: already authenticated");
	return;
    }
    av = argv_split(args, " \t");
    if (av->argc < 1 || av->argc > 2) {
	odmr_reply(state, "501 5.5.4 Syntax: AUTH mechanism");
	argv_free(av);
	return;
    }
    /* A fresh server for each exchange, as smtpd. */
    if (state->sasl_used && state->sasl) {
	xsasl_server_free(state->sasl);
	state->sasl = 0;
    }
    if ((server = sasl_server(state)) == 0 || *xsasl_server_mechs(server) == 0) {
	odmr_reply(state, "454 4.7.0 Temporary authentication failure: "
		   "authentication server unavailable");
	argv_free(av);
	return;
    }
    state->sasl_used = 1;
    switch (xsasl_smtp_auth(server, &io, state->namaddr, av->argv[0],
			    av->argc > 1 ? av->argv[1] : 0, sasl_resp_limit)) {
    case XSASL_AUTH_DONE:
	name = xsasl_server_username(server);
	state->sasl_username = printable(name ? name : "");
	state->sasl_method = printable(av->argv[0]);
	break;
    case XSASL_SMTP_LOST:
	/* The command loop sees the stream's error or end of file. */
	break;
    default:
	break;
    }
    argv_free(av);
}

/* valid_domain - RFC 2645's domain: letters, digits, hyphens, dots */
static int valid_domain(const char *name)
{
    size_t  len = strlen(name);
    const char *cp;

    if (len == 0 || len > 255 || *name == '.' || *name == '-')
	return (0);
    for (cp = name; *cp; cp++)
	if (!isalnum((unsigned char) *cp) && *cp != '-' && *cp != '.')
	    return (0);
    return (strstr(name, "..") == 0);
}

/* allowed_domains - the domains the login may pull; NULL, with errno */
static ARGV *allowed_domains(const char *login, int *error)
{
    const char *value;

    *error = 0;
    if (domain_maps == 0)
	return (0);
    if ((value = maps_find(domain_maps, login, 0)) == 0) {
	*error = domain_maps->error;
	if (*error)
	    msg_warn("%s lookup error for \"%s\"", domain_maps->title, login);
	return (0);
    }
    return (argv_split(value, LIST_DELIMS));
}

static int in_list(ARGV *list, const char *name)
{
    for (size_t i = 0; i < list->argc; i++)
	if (strcasecmp(list->argv[i], name) == 0)
	    return (1);
    return (0);
}

static void atrn_cmd(ODMR_STATE *state, char *args)
{
    ARGV   *allowed, *domains;
    int     error;
    int    *fds;
    size_t  nfds = 0;
    ODMR_QUEUE *q;
    VSTRING *text;

    if (tls_level == 2 && !state->tls) {
	odmr_reply(state, "530 5.7.0 Must issue a STARTTLS command first");
	return;
    }
    if (state->sasl_username == 0) {
	odmr_reply(state, "530 5.7.0 Authentication required");
	return;
    }
    /* "ATRN" [SP domain *("," domain)] */
    domains = argv_split(args, ",");
    for (size_t i = 0; i < domains->argc; i++) {
	trimblanks(domains->argv[i]);
	while (*domains->argv[i] == ' ' || *domains->argv[i] == '\t')
	    memmove(domains->argv[i], domains->argv[i] + 1, strlen(domains->argv[i]));
	if (!valid_domain(domains->argv[i])) {
	    odmr_reply(state, "501 5.5.4 Syntax: ATRN [domain[,domain]...]");
	    argv_free(domains);
	    return;
	}
	lowercase(domains->argv[i]);
    }
    if ((allowed = allowed_domains(state->sasl_username, &error)) == 0) {
	if (error) {
	    odmr_reply(state, "451 Unable to process ATRN request now");
	} else {
	    msg_warn("reject: ATRN %s from %s: sasl_username=%s may pull no domain",
		     *args ? args : "(all)", state->namaddr, state->sasl_username);
	    odmr_reply(state, "450 ATRN request refused");
	}
	argv_free(domains);
	return;
    }
    if (domains->argc == 0) {
	for (size_t i = 0; i < allowed->argc; i++)
	    if (valid_domain(allowed->argv[i]))
		argv_add(domains, lowercase(allowed->argv[i]));
    }
    for (size_t i = 0; i < domains->argc; i++) {
	if (!in_list(allowed, domains->argv[i])) {
	    char   *what = printable(domains->argv[i]);

	    msg_warn("reject: ATRN %s from %s: sasl_username=%s may not pull %s",
		     what, state->namaddr, state->sasl_username, what);
	    myfree(what);
	    odmr_reply(state, "450 ATRN request refused");
	    argv_free(domains);
	    argv_free(allowed);
	    return;
	}
    }
    argv_free(allowed);
    if (domains->argc == 0) {
	odmr_reply(state, "450 ATRN request refused");
	argv_free(domains);
	return;
    }

    /* One session per domain: its socket says where it is. */
    fds = mymalloc(sizeof(int) * domains->argc);
    for (nfds = 0; nfds < domains->argc; nfds++) {
	if ((fds[nfds] = odmr_site_listen(domains->argv[nfds])) < 0) {
	    if (errno == EADDRINUSE)
		msg_warn("%s: ATRN %s: another session pulls %s now",
			 state->namaddr, domains->argv[nfds], domains->argv[nfds]);
	    else
		msg_warn("%s: ATRN %s: cannot listen for its mail: %m",
			 state->namaddr, domains->argv[nfds]);
	    odmr_reply(state, "451 Unable to process ATRN request now");
	    goto done;
	}
    }
    q = odmr_queue_find(domains);
    text = vstring_alloc(100);
    for (size_t i = 0; i < domains->argc; i++)
	vstring_sprintf_append(text, "%s%s", i ? "," : "", domains->argv[i]);
    msg_info("%s: ATRN %s: sasl_username=%s, %zu message%s", state->namaddr,
	     vstring_str(text), state->sasl_username, odmr_queue_count(q),
	     odmr_queue_count(q) == 1 ? "" : "s");
    vstring_free(text);
    if (odmr_queue_count(q) == 0) {
	odmr_reply(state, "453 You have no mail");
    } else {
	odmr_reply(state, "250 OK now reversing the connection");
	state->cmd_ok[ODMR_CMD_ATRN]++;
	state->last_code = 0;
	(void) vstream_fflush(state->client);
	vstream_clear_deadline(state->client);
	odmr_turn(state, domains, fds, q);
	state->quit = 1;
    }
    odmr_queue_free(q);

done:
    while (nfds > 0)
	close(fds[--nfds]);
    myfree(fds);
    argv_free(domains);
}

static void noop_cmd(ODMR_STATE *state, char *args)
{
    (void) args;
    odmr_reply(state, "250 2.0.0 Ok");
}

static void rset_cmd(ODMR_STATE *state, char *args)
{
    (void) args;
    odmr_reply(state, "250 2.0.0 Ok");
}

static void quit_cmd(ODMR_STATE *state, char *args)
{
    (void) args;
    odmr_reply(state, "221 2.0.0 Bye");
    state->quit = 1;
}

typedef struct ODMR_CMD {
    const char *name;
    int     index;
    void    (*action) (ODMR_STATE *, char *);
} ODMR_CMD;

static const ODMR_CMD odmr_cmds[] = {
    {"EHLO", ODMR_CMD_EHLO, ehlo_cmd},
    {"STARTTLS", ODMR_CMD_STARTTLS, starttls_cmd},
    {"AUTH", ODMR_CMD_AUTH, auth_cmd},
    {"ATRN", ODMR_CMD_ATRN, atrn_cmd},
    {"NOOP", ODMR_CMD_NOOP, noop_cmd},
    {"RSET", ODMR_CMD_RSET, rset_cmd},
    {"QUIT", ODMR_CMD_QUIT, quit_cmd},
    {0, 0, 0},
};

static void disconnect_log(ODMR_STATE *state)
{
    VSTRING *buf = vstring_alloc(200);
    int     ok = 0, total = 0;

    vstring_sprintf(buf, "disconnect from %s", state->namaddr);
    for (int i = 0; i < ODMR_CMD_COUNT; i++) {
	if (state->cmd_total[i] == 0)
	    continue;
	ok += state->cmd_ok[i];
	total += state->cmd_total[i];
	if (state->cmd_ok[i] == state->cmd_total[i])
	    vstring_sprintf_append(buf, " %s=%d", cmd_names[i], state->cmd_total[i]);
	else
	    vstring_sprintf_append(buf, " %s=%d/%d", cmd_names[i], state->cmd_ok[i],
				   state->cmd_total[i]);
    }
    if (ok == total)
	vstring_sprintf_append(buf, " commands=%d", total);
    else
	vstring_sprintf_append(buf, " commands=%d/%d", ok, total);
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}

/* command - read and run one command */
static void command(ODMR_STATE *state, VSTRING *line)
{
    const ODMR_CMD *cmd;
    char   *verb, *args;
    int     ret;

    vstream_set_deadline(state->client, (int) var_odmr_timeout);
    ret = vstream_get_line(state->client, line, (size_t) var_line_limit);
    if (ret == VSTREAM_LONG) {
	VSTRING *junk = vstring_alloc(100);

	while ((ret = vstream_get_line(state->client, junk, 4096)) == VSTREAM_LONG)
	     /* void */ ;
	vstring_free(junk);
    }
    if (ret != VSTREAM_LINE) {
	if (vstream_ftimeout(state->client)) {
	    msg_info("timeout after %s from %s", state->where, state->namaddr);
	    vstream_clearerr(state->client);
	    vstream_clear_deadline(state->client);
	    vstream_set_timeout(state->client, 10);
	    odmr_reply(state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
	} else {
	    msg_info("lost connection after %s from %s", state->where, state->namaddr);
	}
	state->quit = 1;
	return;
    }
    if (vstring_len(line) > 0 && vstring_end(line)[-1] == '\r')
	vstring_truncate(line, vstring_len(line) - 1);
    args = vstring_str(line);
    while (*args == ' ' || *args == '\t')
	args++;
    verb = mystrtok(&args, " \t");
    if (args == 0)
	args = "";
    while (*args == ' ' || *args == '\t')
	args++;
    trimblanks(args);
    for (cmd = odmr_cmds; verb && cmd->name; cmd++)
	if (strcasecmp(cmd->name, verb) == 0)
	    break;
    if (verb == 0 || cmd->name == 0) {
	state->where = "UNKNOWN";
	state->cmd_total[ODMR_CMD_UNKNOWN]++;
	odmr_reply(state, "502 5.5.1 Error: command not implemented");
	return;
    }
    state->where = cmd->name;
    state->cmd_total[cmd->index]++;
    state->last_code = 0;
    cmd->action(state, args);
    if (state->last_code >= 200 && state->last_code < 400)
	state->cmd_ok[cmd->index]++;
}

void    odmr_server_session(VSTREAM *client)
{
    ODMR_STATE *state = mycalloc(1, sizeof(*state));
    VSTRING *line = vstring_alloc(100);

    state->client = client;
    state->where = "CONNECT";
    peer_init(state);
    msg_info("connect from %s", state->namaddr);
    vstream_set_timeout(client, (int) var_odmr_timeout);
    odmr_reply(state, "220 %s", var_banner);
    state->error_count = 0;
    while (!state->quit) {
	if (state->error_count >= var_hard_erlim) {
	    msg_info("too many errors after %s from %s", state->where, state->namaddr);
	    odmr_reply(state, "421 4.7.0 %s Error: too many errors", var_myhostname);
	    break;
	}
	command(state, line);
	if (vstream_ferror(client) && !state->quit) {
	    msg_info("%s after %s from %s", vstream_ftimeout(client) ?
		     "timeout" : "lost connection", state->where, state->namaddr);
	    break;
	}
    }
    (void) vstream_fflush(client);
    if (state->tls)
	tls_server_stop(client);
    disconnect_log(state);
    sasl_reset(state);
    myfree(state->name);
    myfree(state->addr);
    myfree(state->port);
    myfree(state->namaddr);
    myfree(state);
    vstring_free(line);
}
