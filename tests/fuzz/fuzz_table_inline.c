/*
 * NAME
 *	fuzz_table_inline - libFuzzer target: tables written in main.cf
 * DESCRIPTION
 *	The input (up to its first NUL) becomes the name of inline:,
 *	static:, pcre:{...} and cidr:{...} tables, and of a table list
 *	(maps_create), which are opened, queried and closed. Must never
 *	crash, hang or leak.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dict/dict.h"
#include "dict/maps.h"
#include "global/mail_addr_find.h"
#include "util/vstring.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *types[] = {"inline:", "static:", "pcre:", "cidr:", "", 0};
    static const char *keys[] = {"", "a", "x", "1.2.3.4", "user@example.com", 0};
    VSTRING *text = vstring_alloc(100);
    VSTRING *name = vstring_alloc(100);
    MAPS   *maps;
    DICT   *d;

    vstring_memcpy(text, data, size);
    vstring_truncate(text, strlen(vstring_str(text)));
    for (const char **tp = types; *tp; tp++) {
	vstring_sprintf(name, "%s%s", *tp, vstring_str(text));
	d = dict_open(vstring_str(name), O_RDONLY, DICT_FLAG_DEFAULT);
	for (const char **kp = keys; *kp; kp++)
	    (void) dict_get(d, *kp);
	dict_close(d);
    }
    /* As a main.cf table list, with Postfix's lookup orders. */
    if (strstr(vstring_str(text), "hash:") == 0 && strstr(vstring_str(text), "btree:") == 0
	&& strstr(vstring_str(text), "texthash:") == 0) {
	maps = maps_create("fuzz", vstring_str(text), DICT_FLAG_DEFAULT);
	(void) maps_find(maps, "a", 0);
	(void) maps_find_addr(maps, "user+ext@example.com", MAPS_ADDR_DEFAULT);
	(void) maps_find_sender(maps, "");
	maps_free(maps);
    }
    vstring_free(name);
    vstring_free(text);
    return (0);
}
