/*
 * NAME
 *	fuzz_table_source - libFuzzer target: the postmap source parser
 * DESCRIPTION
 *	The input is written to a temporary file that is read as a
 *	texthash: table (the parser postmap uses to build hash: and btree:
 *	tables): queried with fixed keys and the input's first word,
 *	walked with dict_seq(), and closed. Must never crash, hang or leak.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dict/dict.h"
#include "util/vstring.h"

static char path[] = "/tmp/fuzz_table_source.XXXXXX";
static int fd = -1;

static void cleanup(void)
{
    if (fd >= 0)
	(void) unlink(path);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *keys[] = {"", "a", "\"a b\"", "user@example.com", 0};
    VSTRING *name = vstring_alloc(100);
    VSTRING *first = vstring_alloc(100);
    const char *key;
    const char *value;
    size_t  len;
    DICT   *d;

    if (fd < 0) {
	if ((fd = mkstemp(path)) < 0)
	    abort();
	atexit(cleanup);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
	abort();
    vstring_sprintf(name, "texthash:%s", path);
    for (int fold = 0; fold < 2; fold++) {
	d = dict_open(vstring_str(name), O_RDONLY,
		      fold ? DICT_FLAG_DEFAULT : DICT_FLAG_DUP_REPLACE);
	for (const char **kp = keys; *kp; kp++)
	    (void) dict_get(d, *kp);
	for (len = 0; len < size && data[len] != ' ' && data[len] != '\n'; len++)
	     /* void */ ;
	vstring_memcpy(first, data, len);
	(void) dict_get(d, vstring_str(first));
	for (int r = dict_seq(d, DICT_SEQ_FIRST, &key, &value); r == 0;
	     r = dict_seq(d, DICT_SEQ_NEXT, &key, &value))
	    (void) dict_get(d, key);
	dict_close(d);
    }
    vstring_free(first);
    vstring_free(name);
    return (0);
}
