/*
 * NAME
 *	xsasl_cyrus - SASL server: Cyrus SASL (libsasl2)
 * SYNOPSIS
 *	#include "global/xsasl_server.h"
 *
 *	XSASL_SERVER_IMPL *xsasl_cyrus_init(const char *path);
 * DESCRIPTION
 *	libsasl2 with the application name path (smtpd_sasl_path,
 *	"smtpd"): its configuration file path.conf ("pwcheck_method:
 *	saslauthd", "auxprop_plugin: sasldb", "mech_list: PLAIN LOGIN")
 *	is searched in cyrus_sasl_config_path, or, when that is empty, in
 *	$config_directory/sasl and /usr/lib/sasl, where Debian's Postfix
 *	looks (Debian's build does that even when cyrus_sasl_config_path
 *	is set; we honour the parameter). The library and its plugins are
 *	loaded by xsasl_cyrus_init(), before chroot; password checks
 *	(saslauthd's socket, the sasldb file) happen at authentication
 *	time, as mail_owner and inside the chroot when there is one.
 *
 *	Each session gets a connection context with the service
 *	(smtpd_sasl_service), the realm
 *	(smtpd_sasl_local_domain: Cyrus appends it to a login name
 *	without one), the endpoints, and the security options as Cyrus
 *	security flags, with no security layer (max_ssf 0).
 *
 *	The library's own messages are logged as Postfix does: errors and
 *	warnings as "warning: SASL authentication problem: ...",
 *	authentication failures as "warning: SASL authentication failure:
 *	...", notes only with -v.
 *
 *	A failure's reason is Cyrus's text for its result
 *	(sasl_errstring(): "authentication failure", "no mechanism
 *	available"); SASL_FAIL, SASL_NOMEM, SASL_TRYAGAIN and
 *	SASL_UNAVAIL ("generic failure", ...) are temporary. The client's
 *	base64 is decoded with Cyrus's decoder, so its errors read as in
 *	Postfix ("another step is needed in authentication" for a
 *	truncated string).
 * DIAGNOSTICS
 *	Fatal: the library cannot be initialized. xsasl_server_create()
 *	fails (why set) when a connection context cannot be made.
 */
#include <stdlib.h>
#include <string.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/xsasl_server.h"

typedef struct CY_IMPL {
    XSASL_SERVER_IMPL impl;
} CY_IMPL;

typedef struct CY_SERVER {
    XSASL_SERVER server;
    sasl_conn_t *conn;
    char   *mech_list;
    VSTRING *decoded;
} CY_SERVER;

static char *cy_conf_path;

/* cy_log - libsasl2's messages in Postfix's words */
static int cy_log(void *context, int level, const char *message)
{
    (void) context;
    switch (level) {
    case SASL_LOG_ERR:
    case SASL_LOG_WARN:
	msg_warn("SASL authentication problem: %s", message);
	break;
    case SASL_LOG_FAIL:
	msg_warn("SASL authentication failure: %s", message);
	break;
    case SASL_LOG_NOTE:
	if (msg_verbose)
	    msg_info("SASL authentication info: %s", message);
	break;
    default:
	if (msg_verbose > 1)
	    msg_info("SASL authentication debug: %s", message);
	break;
    }
    return (SASL_OK);
}

/* cy_conf - where the configuration file is searched */
static int cy_conf(void *context, char **path)
{
    (void) context;
    /* libsasl2 frees it with free(). */
    if ((*path = strdup(cy_conf_path)) == 0)
	return (SASL_NOMEM);
    return (SASL_OK);
}

static const sasl_callback_t cy_callbacks[] = {
    {SASL_CB_LOG, (int (*) (void)) (void (*) (void)) cy_log, 0},
    {SASL_CB_GETCONFPATH, (int (*) (void)) (void (*) (void)) cy_conf, 0},
    {SASL_CB_LIST_END, 0, 0},
};

static int cy_status(int result, VSTRING *reply)
{
    vstring_strcpy(reply, sasl_errstring(result, 0, 0));
    switch (result) {
    case SASL_FAIL:
    case SASL_NOMEM:
    case SASL_TRYAGAIN:
    case SASL_UNAVAIL:
	return (XSASL_AUTH_TEMP);
    default:
	return (XSASL_AUTH_FAIL);
    }
}

/* cy_decode - the client's base64, as Cyrus reads it */
static int cy_decode(CY_SERVER *server, const char *text, VSTRING *reply)
{
    size_t  len = strlen(text);
    unsigned outlen = 0;
    int     result;

    vstring_reset(server->decoded);
    vstring_space(server->decoded, len / 4 * 3 + 4);
    result = sasl_decode64(text, (unsigned) len, vstring_str(server->decoded),
			   (unsigned) (len / 4 * 3 + 3), &outlen);
    if (result != SASL_OK)
	return (cy_status(result, reply));
    server->decoded->len = outlen;
    server->decoded->data[outlen] = 0;
    return (0);
}

/* cy_result - what a start or step said */
static int cy_result(int result, const char *out, unsigned outlen, VSTRING *reply)
{
    switch (result) {
    case SASL_OK:
	vstring_reset(reply);
	return (XSASL_AUTH_DONE);
    case SASL_CONTINUE:
	xsasl_base64_encode(out ? out : "", out ? outlen : 0, reply);
	return (XSASL_AUTH_MORE);
    default:
	return (cy_status(result, reply));
    }
}

static int cy_server_first(XSASL_SERVER *xp, const char *mech, const char *init,
			           VSTRING *reply)
{
    CY_SERVER *server = (CY_SERVER *) xp;
    const char *out = 0;
    unsigned outlen = 0;
    const char *in = 0;
    unsigned inlen = 0;
    int     status;

    if (init) {
	if (strcmp(init, "=") == 0) {
	    in = "";
	} else {
	    if ((status = cy_decode(server, init, reply)) != 0)
		return (status);
	    in = vstring_str(server->decoded);
	    inlen = (unsigned) vstring_len(server->decoded);
	}
    }
    /* The call first: out and outlen are its results. */
    status = sasl_server_start(server->conn, mech, in, inlen, &out, &outlen);
    return (cy_result(status, out, outlen, reply));
}

static int cy_server_next(XSASL_SERVER *xp, const char *response, VSTRING *reply)
{
    CY_SERVER *server = (CY_SERVER *) xp;
    const char *out = 0;
    unsigned outlen = 0;
    int     status;

    if ((status = cy_decode(server, response, reply)) != 0)
	return (status);
    status = sasl_server_step(server->conn, vstring_str(server->decoded),
			      (unsigned) vstring_len(server->decoded), &out, &outlen);
    return (cy_result(status, out, outlen, reply));
}

static const char *cy_server_username(XSASL_SERVER *xp)
{
    CY_SERVER *server = (CY_SERVER *) xp;
    const void *name = 0;

    if (sasl_getprop(server->conn, SASL_USERNAME, &name) != SASL_OK || name == 0
	|| *(const char *) name == 0)
	return (0);
    return ((const char *) name);
}

static const char *cy_server_mechs(XSASL_SERVER *xp)
{
    return (((CY_SERVER *) xp)->mech_list);
}

static void cy_server_free(XSASL_SERVER *xp)
{
    CY_SERVER *server = (CY_SERVER *) xp;

    sasl_dispose(&server->conn);
    myfree(server->mech_list);
    vstring_free(server->decoded);
    myfree(server);
}

/* cy_endpoint - "addr;port" as libsasl2 wants it, or NULL */
static char *cy_endpoint(const char *addr, const char *port)
{
    VSTRING *buf;

    if (addr == 0 || *addr == 0 || port == 0 || *port == 0)
	return (0);
    buf = vstring_alloc(50);
    vstring_sprintf(buf, "%s;%s", addr, port);
    return (vstring_export(buf));
}

static XSASL_SERVER *cy_create(XSASL_SERVER_IMPL *xi, const XSASL_SERVER_PARAMS *params,
			               VSTRING *why)
{
    CY_SERVER *server;
    sasl_conn_t *conn = 0;
    sasl_security_properties_t sec;
    char   *local = cy_endpoint(params->server_addr, params->server_port);
    char   *remote = cy_endpoint(params->client_addr, params->client_port);
    const char *list;
    int     sec_flags = xsasl_security_flags(params->security_options);
    int     result;

    (void) xi;
    /*
     * No server name: libsasl2 then uses the host name, which is also
     * the default realm of saslpasswd2, as Debian's Postfix does.
     */
    result = sasl_server_new(params->service, 0,
			     params->user_realm && *params->user_realm ?
			     params->user_realm : 0, local, remote,
			     0, 0, &conn);
    if (result == SASL_BADPARAM && (local || remote))
	/* An address form the library does not take: it is optional. */
	result = sasl_server_new(params->service, 0,
				 params->user_realm && *params->user_realm ?
				 params->user_realm : 0, 0, 0, 0, 0, &conn);
    myfree(local);
    myfree(remote);
    if (result != SASL_OK) {
	vstring_sprintf(why, "SASL per-connection server initialization: %s",
			sasl_errstring(result, 0, 0));
	return (0);
    }
    memset(&sec, 0, sizeof(sec));
    sec.min_ssf = 0;
    sec.max_ssf = 0;				/* no security layer */
    sec.maxbufsize = 0;
    sec.security_flags = ((sec_flags & XSASL_SEC_NOPLAINTEXT) ? SASL_SEC_NOPLAINTEXT : 0)
	| ((sec_flags & XSASL_SEC_NOACTIVE) ? SASL_SEC_NOACTIVE : 0)
	| ((sec_flags & XSASL_SEC_NODICTIONARY) ? SASL_SEC_NODICTIONARY : 0)
	| ((sec_flags & XSASL_SEC_NOANONYMOUS) ? SASL_SEC_NOANONYMOUS : 0)
	| ((sec_flags & XSASL_SEC_FORWARD_SECRECY) ? SASL_SEC_FORWARD_SECRECY : 0)
	| ((sec_flags & XSASL_SEC_MUTUAL_AUTH) ? SASL_SEC_MUTUAL_AUTH : 0);
    if ((result = sasl_setprop(conn, SASL_SEC_PROPS, &sec)) != SASL_OK) {
	vstring_sprintf(why, "SASL per-connection security setup: %s",
			sasl_errstring(result, 0, 0));
	sasl_dispose(&conn);
	return (0);
    }
    server = mycalloc(1, sizeof(*server));
    server->server.free = cy_server_free;
    server->server.mechs = cy_server_mechs;
    server->server.first = cy_server_first;
    server->server.next = cy_server_next;
    server->server.username = cy_server_username;
    server->conn = conn;
    server->decoded = vstring_alloc(100);
    if (sasl_listmech(conn, 0, "", " ", "", &list, 0, 0) != SASL_OK || list == 0)
	list = "";
    server->mech_list = mystrdup(list);
    return (&server->server);
}

XSASL_SERVER_IMPL *xsasl_cyrus_init(const char *path)
{
    static CY_IMPL *impl;
    const char *conf = mail_conf_str(VAR_CYRUS_SASL_CONFIG_PATH);
    int     result;

    if (impl)
	return (&impl->impl);
    if (*conf) {
	cy_conf_path = mystrdup(conf);
    } else {
	VSTRING *buf = vstring_alloc(100);

	vstring_sprintf(buf, "%s/sasl:/usr/lib/sasl", mail_conf_dir());
	cy_conf_path = vstring_export(buf);
    }
    if ((result = sasl_server_init(cy_callbacks, path)) != SASL_OK)
	msg_fatal("SASL per-process initialization failed: %s",
		  sasl_errstring(result, 0, 0));
    impl = mycalloc(1, sizeof(*impl));
    impl->impl.create = cy_create;
    return (&impl->impl);
}
