/*
 * NAME
 *	fuzz_mail_addr - libFuzzer target for the envelope address parser
 * DESCRIPTION
 *	Feeds the input (as a MAIL FROM / RCPT TO argument) to
 *	mail_addr_parse() with each flag combination, and the other
 *	helpers of mail_addr.h. A parsed address must survive the round
 *	trip internal -> external -> internal unchanged, and re-parse to
 *	itself when written as <external>; anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/mail_addr.h"
#include "util/mymalloc.h"
#include "util/vstring.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text = mystrndup((const char *) data, size);
    VSTRING *addr = vstring_alloc(64);
    VSTRING *ext = vstring_alloc(64);
    VSTRING *back = vstring_alloc(64);
    VSTRING *a = vstring_alloc(64);
    VSTRING *b = vstring_alloc(64);

    for (int flags = 0; flags < 16; flags++) {
	if (mail_addr_parse(text, flags, addr) != MAIL_ADDR_OK)
	    continue;
	mail_addr_externalize(ext, vstring_str(addr));
	mail_addr_internalize(back, vstring_str(ext));
	if (strcmp(vstring_str(back), vstring_str(addr)) != 0)
	    abort();
	vstring_sprintf(back, "<%s>", vstring_str(ext));
	if (mail_addr_parse(vstring_str(back), flags, a) != MAIL_ADDR_OK
	    || strcmp(vstring_str(a), vstring_str(addr)) != 0)
	    abort();
	(void) mail_addr_routing(vstring_str(addr));
	(void) mail_addr_strip_ext(vstring_str(addr), "+-", a);
	(void) mail_addr_split(vstring_str(addr), a, b);
    }
    mail_addr_internalize(back, text);
    (void) mail_addr_rightmost_at(text);
    (void) mail_addr_split_ext(text, "+", a, b);
    (void) valid_hostname(text);
    (void) valid_ip_literal(text);
    (void) valid_ipv6_addr(text);
    (void) mail_addr_lowercase_domain(text);

    vstring_free(addr);
    vstring_free(ext);
    vstring_free(back);
    vstring_free(a);
    vstring_free(b);
    myfree(text);
    return (0);
}
