/*
 * NAME
 *	fuzz_master_cf - libFuzzer target for the master.cf parser
 * DESCRIPTION
 *	Feeds arbitrary text to master_conf_parse(); it must return a
 *	configuration or an error, never crash, leak or read past the
 *	input.
 */
#include <stddef.h>
#include <stdint.h>

#include "global/master_conf.h"
#include "util/vstring.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VSTRING *why = vstring_alloc(64);
    MASTER_CONF *conf = master_conf_parse("master.cf", (const char *) data, size, why);

    if (conf) {
	for (size_t i = 0; i < conf->count; i++)
	    if (conf->ents[i]->command == 0 || conf->ents[i]->args == 0)
		__builtin_trap();
    }
    master_conf_free(conf);
    vstring_free(why);
    return (0);
}
