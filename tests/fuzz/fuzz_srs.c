/*
 * NAME
 *	fuzz_srs - libFuzzer target for SRS address parsing
 * DESCRIPTION
 *	srs_reverse() parses RCPT TO addresses from the network; it must
 *	answer every input with a status, never crash or read past it.
 *	The same input also goes through srs_forward() (MAIL FROM).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/argv.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/srs.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static SRS *srs;
    char   *addr = mystrndup((const char *) data, size);
    VSTRING *out = vstring_alloc(100);
    int     rc;

    if (srs == 0) {
	ARGV   *secrets = argv_split("tops3cr3t older", " ");

	srs = srs_create("example.com", secrets, 21 * 86400L);
	argv_free(secrets);
    }
    rc = srs_reverse(srs, addr, out, 1577836860L);
    if (rc == SRS_OK && vstring_len(out) == 0)
	__builtin_trap();
    (void) srs_forward(srs, addr, out, 1577836860L);
    vstring_free(out);
    myfree(addr);
    return (0);
}
