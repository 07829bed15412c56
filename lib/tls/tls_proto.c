/*
 * NAME
 *	tls_proto - Postfix's TLS protocol and cipher settings for OpenSSL
 * DESCRIPTION
 *	See tls_proto.h.
 */
#include <string.h>
#include <strings.h>
#include <openssl/ssl.h>

#include "util/mymalloc.h"
#include "util/stringops.h"
#include "tls/tls_proto.h"

static const struct {
    const char *name;
    int     version;
    long    no_op;
}       tls_protos[] = {
    {"SSLv2", 0, 0},			/* never supported */
    {"SSLv3", SSL3_VERSION, SSL_OP_NO_SSLv3},
    {"TLSv1", TLS1_VERSION, SSL_OP_NO_TLSv1},
    {"TLSv1.1", TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
    {"TLSv1.2", TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
    {"TLSv1.3", TLS1_3_VERSION, SSL_OP_NO_TLSv1_3},
};

#define TLS_NPROTOS	((int) (sizeof(tls_protos) / sizeof(tls_protos[0])))

/* tls_proto_index - index of a protocol name, or -1 */
static int tls_proto_index(const char *name)
{
    int     i;

    for (i = 0; i < TLS_NPROTOS; i++)
	if (strcasecmp(name, tls_protos[i].name) == 0)
	    return (i);
    return (-1);
}

int     tls_protocol_mask(const char *protocols, int *min, int *max,
			          long *no_ops, VSTRING *why)
{
    char    allowed[TLS_NPROTOS];
    char   *copy = mystrdup(protocols);
    char   *cp = copy;
    char   *tok;
    int     lo = 0, hi = TLS_NPROTOS - 1, i, idx;
    int     have_include = 0;
    char    include[TLS_NPROTOS];

    memset(include, 0, sizeof(include));
    memset(allowed, 1, sizeof(allowed));
    allowed[0] = 0;				/* SSLv2 */
    while ((tok = mystrtok(&cp, ", \t\r\n:")) != 0) {
	if (strncmp(tok, ">=", 2) == 0 || strncmp(tok, "<=", 2) == 0) {
	    if ((idx = tls_proto_index(tok + 2)) < 0)
		goto bad;
	    if (tok[0] == '>')
		lo = idx;
	    else
		hi = idx;
	} else if (tok[0] == '!') {
	    if ((idx = tls_proto_index(tok + 1)) < 0)
		goto bad;
	    allowed[idx] = 0;
	} else {
	    if ((idx = tls_proto_index(tok)) < 0)
		goto bad;
	    include[idx] = 1;
	    have_include = 1;
	}
    }
    myfree(copy);
    *no_ops = 0;
    *min = *max = 0;
    for (i = 0; i < TLS_NPROTOS; i++) {
	if (i < lo || i > hi || (have_include && !include[i]))
	    allowed[i] = 0;
	if (!allowed[i]) {
	    *no_ops |= tls_protos[i].no_op;
	    continue;
	}
	if (*min == 0)
	    *min = tls_protos[i].version;
	*max = tls_protos[i].version;
    }
    if (*min == 0) {
	vstring_sprintf(why, "no TLS protocol left in \"%s\"", protocols);
	return (-1);
    }
    return (0);

bad:
    vstring_sprintf(why, "invalid TLS protocol \"%s\" in \"%s\"", tok, protocols);
    myfree(copy);
    return (-1);
}

char   *tls_cipher_list(const char *grade, const char *grade_list,
			        const char *exclude, VSTRING *why)
{
    static const char *grades[] = {"high", "medium", "low", "export", "null", 0};
    VSTRING *list;
    char   *copy, *cp, *tok;
    const char **gp;

    for (gp = grades; *gp && strcasecmp(grade ? grade : "", *gp) != 0; gp++)
	 /* void */ ;
    if (*gp == 0) {
	vstring_sprintf(why, "invalid cipher grade \"%s\"", grade ? grade : "");
	return (0);
    }
    list = vstring_alloc(100);
    vstring_strcpy(list, grade_list ? grade_list : "");
    cp = copy = mystrdup(exclude ? exclude : "");
    while ((tok = mystrtok(&cp, ", \t\r\n:")) != 0)
	vstring_sprintf_append(list, ":!%s", tok);
    myfree(copy);
    return (vstring_export(list));
}
