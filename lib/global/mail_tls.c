/*
 * NAME
 *	mail_tls - TLS settings that come from main.cf
 * DESCRIPTION
 *	See mail_tls.h.
 */
#include <strings.h>

#include "global/mail_conf.h"
#include "global/mail_tls.h"

const char *mail_tls_cipherlist(const char *grade)
{
    static const struct {
	const char *grade;
	const char *param;
    }       lists[] = {
	{"high", VAR_TLS_HIGH_CIPHERLIST},
	{"medium", VAR_TLS_MEDIUM_CIPHERLIST},
	{"low", VAR_TLS_LOW_CIPHERLIST},
	{"export", VAR_TLS_EXPORT_CIPHERLIST},
	{"null", VAR_TLS_NULL_CIPHERLIST},
    };

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
	if (grade && strcasecmp(grade, lists[i].grade) == 0)
	    return (mail_conf_str(lists[i].param));
    return ("");
}
