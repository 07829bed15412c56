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
#include <stdlib.h>

#include "util/stringops.h"
#include "global/mail_conf.h"

/*
 * Settings that are not implemented and would weaken security if they
 * were ignored: a "yes" that promises a check we do not make, a limit
 * other than 0 (no limit) that we would not enforce, a setting that
 * could restrict what we would do without it.
 */
#define UNSAFE_YES	1
#define UNSAFE_NONZERO	2
#define UNSAFE_SET	3		/* any value but the empty default */

static const struct {
    const char *name;
    int     when;
} unsafe[] = {
    /* Cyrus SASL client settings (such as mech_list) we would not read. */
    {VAR_SMTP_SASL_PATH, UNSAFE_SET},
};

int     mail_conf_unsafe(const char *name, const char *value)
{
    int     yes;

    for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
	if (strcmp(name, unsafe[i].name) != 0)
	    continue;
	if (mail_conf_noimpl(name) == 0)
	    return (0);
	/* A value of the wrong type is refused when it is read. */
	if (unsafe[i].when == UNSAFE_YES)
	    return (mail_conf_bool_value(value, &yes) == 0 && yes);
	if (unsafe[i].when == UNSAFE_SET)
	    return (*value != 0);
	return (alldig(value) && strtol(value, (char **) 0, 10) != 0);
    }
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
