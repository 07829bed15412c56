/*
 * NAME
 *	fuzz_smtp_reply - libFuzzer target for the SMTP client's reply parser
 * DESCRIPTION
 *	The input is a server's byte stream: it is cut at LF into lines
 *	and fed to smtp_reply_feed(), as smtp_reply_read() does; every
 *	complete reply is checked (code in range, enhanced status code of
 *	the form d.d.d, text bounded) and the EHLO-style line list walked.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>

#include "util/msg.h"
#include "smtpc/smtp_client.h"

static void check(SMTP_REPLY *r)
{
    if (r->code < 0 || r->code > 999)
	abort();
    if (strlen(r->dsn) < 5 || r->dsn[1] != '.')
	abort();
    if (vstring_len(r->text) > SMTP_REPLY_MAXTEXT + 8)
	abort();
    for (size_t i = 0; i < r->lines->argc; i++)
	if (r->lines->argv[i] == 0)
	    abort();
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SMTP_REPLY *r = smtp_reply_alloc();
    const char *cp = (const char *) data;
    const char *end = cp + size;
    const char *nl;

    while (cp < end) {
	if ((nl = memchr(cp, '\n', end - cp)) == 0)
	    nl = end;
	if (smtp_reply_feed(r, cp, nl - cp)) {
	    check(r);
	    smtp_reply_reset(r);
	}
	cp = nl + 1;
    }
    smtp_reply_free(r);
    return (0);
}
