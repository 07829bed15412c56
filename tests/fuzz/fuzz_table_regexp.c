/*
 * NAME
 *	fuzz_table_regexp - libFuzzer target: regexp_table(5) parser and matcher
 * DESCRIPTION
 *	The input is written to a temporary file that is opened as a
 *	regexp: table, queried with fixed keys and with the input's own
 *	first line, then closed. Must never crash, hang or leak.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dict/dict.h"
#include "util/vstring.h"

static char path[] = "/tmp/fuzz_table_regexp.XXXXXX";
static int fd = -1;

static void cleanup(void)
{
    if (fd >= 0)
	(void) unlink(path);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *keys[] = {"", "a", "user@example.com", "AAB@X.COM", "0123456789", "a\\nb", 0};
    VSTRING *name = vstring_alloc(100);
    VSTRING *first = vstring_alloc(100);
    const char *nl;
    DICT   *d;

    if (fd < 0) {
	if ((fd = mkstemp(path)) < 0)
	    abort();
	atexit(cleanup);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
	abort();
    vstring_sprintf(name, "regexp:%s", path);
    d = dict_open(vstring_str(name), O_RDONLY, DICT_FLAG_DEFAULT);
    for (const char **kp = keys; *kp; kp++)
	(void) dict_get(d, *kp);
    nl = memchr(data, '\n', size);
    vstring_memcpy(first, data, nl ? (size_t) (nl - (const char *) data) : size);
    (void) dict_get(d, vstring_str(first));
    (void) dict_changed(d);
    dict_close(d);
    vstring_free(first);
    vstring_free(name);
    return (0);
}
