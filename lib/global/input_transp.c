/*
 * NAME
 *	input_transp - receive_override_options
 * DESCRIPTION
 *	See input_transp.h.
 */
#include <strings.h>

#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/input_transp.h"

int     input_transp_mask(const char *param, const char *value)
{
    static const struct {
	const char *name;
	int     mask;
    }       options[] = {
	{"no_unknown_recipient_checks", INPUT_TRANSP_UNKNOWN_RCPT},
	{"no_address_mappings", INPUT_TRANSP_ADDRESS_MAPPING},
	{"no_header_body_checks", INPUT_TRANSP_HEADER_BODY},
	{"no_milters", INPUT_TRANSP_MILTER},
    };
    ARGV   *words = argv_split_list(value);
    int     mask = 0;

    for (size_t i = 0; i < words->argc; i++) {
	size_t  j;

	for (j = 0; j < sizeof(options) / sizeof(options[0]); j++)
	    if (strcasecmp(words->argv[i], options[j].name) == 0)
		break;
	if (j == sizeof(options) / sizeof(options[0]))
	    msg_fatal("invalid %s value: %s", param, words->argv[i]);
	mask |= options[j].mask;
    }
    argv_free(words);
    return (mask);
}
