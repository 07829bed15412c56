/*
 * NAME
 *	mail_conf_unsafe - settings we refuse rather than ignore, and
 *	settings that ask for what we do anyway
 * DESCRIPTION
 *	See mail_conf.h, mail_conf_unsafe(). The names below are a list of
 *	what is NOT implemented; mk/check-params.py does not count this
 *	file as a reader of them.
 */
#include <string.h>

#include "global/mail_conf.h"

/*
 * Settings that are not implemented and would weaken security if they
 * were ignored: any value other than the empty default (a setting that
 * could restrict what we would do without it).
 */
static const char *const unsafe_when_set[] = {
    VAR_SMTP_SASL_PATH,			/* Cyrus SASL client settings (mech_list) */
};

int     mail_conf_unsafe(const char *name, const char *value)
{
    for (size_t i = 0; i < sizeof(unsafe_when_set) / sizeof(unsafe_when_set[0]); i++)
	if (strcmp(name, unsafe_when_set[i]) == 0)
	    return (mail_conf_noimpl(name) && *value != 0);
    return (0);
}

/*
 * Settings that are not implemented, with a value that asks for what
 * this mail system does anyway: nothing to warn about.
 */
static const struct {
    const char *name;
    int     yes;			/* the boolean value that is inert */
} inert[] = {
    {VAR_HELPFUL_WARNINGS, 1},		/* configuration warnings: we give them */
};

int     mail_conf_inert(const char *name, const char *value)
{
    int     yes;

    for (size_t i = 0; i < sizeof(inert) / sizeof(inert[0]); i++) {
	if (strcmp(name, inert[i].name) != 0)
	    continue;
	return (mail_conf_bool_value(value, &yes) == 0 && yes == inert[i].yes);
    }
    return (0);
}
