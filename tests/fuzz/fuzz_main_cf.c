/*
 * NAME
 *	fuzz_main_cf - libFuzzer target for the main.cf reader
 * DESCRIPTION
 *	Writes the input to a temporary file, reads it with
 *	mail_conf_read_file() into an empty configuration, and reads
 *	back the raw text of every name it set. Expansion is not
 *	exercised here: a main.cf that loops ($a = $a) is a fatal
 *	configuration error by design.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/argv.h"
#include "global/mail_conf.h"
#include "util/vstring.h"

static char path[64];

static void remove_file(void)
{
    if (path[0])
	unlink(path);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VSTRING *why = vstring_alloc(100);
    ARGV   *names;
    FILE   *fp;

    if (path[0] == 0) {
	snprintf(path, sizeof(path), "/tmp/fuzz_main_cf.%ld", (long) getpid());
	atexit(remove_file);
    }
    if ((fp = fopen(path, "w")) == 0)
	abort();
    if (size > 0 && fwrite(data, 1, size, fp) != size)
	abort();
    fclose(fp);

    mail_conf_reset();
    (void) mail_conf_read_file(path, why);
    names = mail_conf_names();
    for (size_t i = 0; i < names->argc; i++)
	if (mail_conf_raw(names->argv[i]) == 0)
	    abort();
    argv_free(names);
    vstring_free(why);
    return (0);
}
