/*
 * NAME
 *	xsasl_server - choose a SASL server type; base64; security options
 * SYNOPSIS
 *	See xsasl_server.h.
 * DESCRIPTION
 *	xsasl_server_init() hands over to the type's own init function;
 *	the type's functions are then called through the XSASL_SERVER
 *	pointers. xsasl_security_flags() reads Postfix's SASL security
 *	options (noplaintext, noactive, nodictionary, noanonymous,
 *	forward_secrecy, mutual_auth), which both types understand.
 * DIAGNOSTICS
 *	Fatal: an unknown server type, an unknown security option.
 */
#include <string.h>
#include <strings.h>

#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/xsasl_server.h"

XSASL_SERVER_IMPL *xsasl_server_init(const char *type, const char *path)
{
    if (strcasecmp(type, XSASL_TYPE_DOVECOT) == 0)
	return (xsasl_dovecot_init(path));
    if (strcasecmp(type, XSASL_TYPE_CYRUS) == 0)
	return (xsasl_cyrus_init(path));
    msg_fatal("unsupported SASL server implementation: %s", type);
}

XSASL_SERVER *xsasl_server_create(XSASL_SERVER_IMPL *impl,
			              const XSASL_SERVER_PARAMS *params, VSTRING *why)
{
    return (impl->create(impl, params, why));
}

int     xsasl_security_flags(const char *options)
{
    static const struct {
	const char *name;
	int     flag;
    }       names[] = {
	{"noplaintext", XSASL_SEC_NOPLAINTEXT},
	{"noactive", XSASL_SEC_NOACTIVE},
	{"nodictionary", XSASL_SEC_NODICTIONARY},
	{"noanonymous", XSASL_SEC_NOANONYMOUS},
	{"forward_secrecy", XSASL_SEC_FORWARD_SECRECY},
	{"mutual_auth", XSASL_SEC_MUTUAL_AUTH},
    };
    ARGV   *av = argv_split(options, LIST_DELIMS);
    int     flags = 0;

    for (size_t i = 0; i < av->argc; i++) {
	size_t  n;

	for (n = 0; n < sizeof(names) / sizeof(names[0]); n++)
	    if (strcasecmp(av->argv[i], names[n].name) == 0)
		break;
	if (n == sizeof(names) / sizeof(names[0]))
	    msg_fatal("unknown SASL security option: \"%s\" in \"%s\"",
		      av->argv[i], options);
	flags |= names[n].flag;
    }
    argv_free(av);
    return (flags);
}

/* Base64 (RFC 4648), strict: the SASL exchange allows no white space. */

static const char b64_chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void    xsasl_base64_encode(const void *data, size_t len, VSTRING *out)
{
    const unsigned char *cp = data;
    size_t  i;

    vstring_reset(out);
    for (i = 0; i + 2 < len; i += 3) {
	vstring_addch(out, b64_chars[cp[i] >> 2]);
	vstring_addch(out, b64_chars[((cp[i] & 3) << 4) | (cp[i + 1] >> 4)]);
	vstring_addch(out, b64_chars[((cp[i + 1] & 0xf) << 2) | (cp[i + 2] >> 6)]);
	vstring_addch(out, b64_chars[cp[i + 2] & 0x3f]);
    }
    if (i < len) {
	vstring_addch(out, b64_chars[cp[i] >> 2]);
	if (i + 1 < len) {
	    vstring_addch(out, b64_chars[((cp[i] & 3) << 4) | (cp[i + 1] >> 4)]);
	    vstring_addch(out, b64_chars[(cp[i + 1] & 0xf) << 2]);
	} else {
	    vstring_addch(out, b64_chars[(cp[i] & 3) << 4]);
	    vstring_addch(out, '=');
	}
	vstring_addch(out, '=');
    }
}

static int b64_value(int ch)
{
    const char *p;

    if (ch == 0 || (p = strchr(b64_chars, ch)) == 0)
	return (-1);
    return ((int) (p - b64_chars));
}

int     xsasl_base64_decode(const char *text, VSTRING *out)
{
    size_t  len = strlen(text);
    size_t  i;
    int     v[4];

    vstring_reset(out);
    if (len % 4 != 0)
	return (-1);
    for (i = 0; i < len; i += 4) {
	int     pad = 0;

	for (int k = 0; k < 4; k++) {
	    if (text[i + k] == '=' && i + 4 == len && k >= 2) {
		v[k] = 0;
		pad++;
	    } else if (pad || (v[k] = b64_value((unsigned char) text[i + k])) < 0) {
		return (-1);
	    }
	}
	vstring_addch(out, (v[0] << 2) | (v[1] >> 4));
	if (pad < 2)
	    vstring_addch(out, ((v[1] & 0xf) << 4) | (v[2] >> 2));
	if (pad < 1)
	    vstring_addch(out, ((v[2] & 3) << 6) | v[3]);
    }
    return (0);
}
