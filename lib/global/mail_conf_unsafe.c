/*
 * NAME
 *	mail_conf_unsafe - settings we refuse rather than ignore
 * DESCRIPTION
 *	See mail_conf.h, mail_conf_unsafe(). The names below are a list of
 *	what is NOT implemented; mk/check-params.py does not count this
 *	file as a reader of them.
 */
#include <string.h>

#include "global/mail_conf.h"

/*
 * Settings that are not implemented and would weaken security if they
 * were ignored: a "yes" that promises a check we do not make.
 */
static const char *unsafe_when_yes[] = {
    VAR_SMTPD_TLS_REQ_CCERT,		/* client certificates */
};

int     mail_conf_unsafe(const char *name, const char *value)
{
    int     yes;

    for (size_t i = 0; i < sizeof(unsafe_when_yes) / sizeof(unsafe_when_yes[0]); i++) {
	if (strcmp(name, unsafe_when_yes[i]) != 0)
	    continue;
	if (mail_conf_noimpl(name) == 0)
	    return (0);
	/* A value that is not a boolean is refused when it is read. */
	return (mail_conf_bool_value(value, &yes) == 0 && yes);
    }
    return (0);
}

