/*
 * NAME
 *	fuzz_rfc822_list - libFuzzer target for alias values and templates
 * DESCRIPTION
 *	Feeds the input as an alias value / .forward line to
 *	rfc822_list_normalize() (what postalias stores), rfc822_list_split()
 *	(what local(8) delivers to) and rfc822_list_internalize(), and as
 *	a template to mac_expand(). Normalizing twice must give what
 *	normalizing once gave (postalias -i of a dumped table changes
 *	nothing), and splitting the normalized form must give the same
 *	destinations as splitting the input; anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/rfc822_list.h"
#include "util/mac_expand.h"
#include "util/mymalloc.h"
#include "util/argv.h"
#include "util/vstring.h"

static const char *lookup(const char *name, void *ctx)
{
    (void) ctx;
    return (name[0] == 'u' ? "joe" : name[0] == 'e' ? "" : 0);
}

static int same_list(ARGV *a, ARGV *b)
{
    if (a->argc != b->argc)
	return (0);
    for (size_t i = 0; i < a->argc; i++)
	if (strcmp(a->argv[i], b->argv[i]) != 0)
	    return (0);
    return (1);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text = mystrndup((const char *) data, size);
    VSTRING *once = vstring_alloc(64);
    VSTRING *twice = vstring_alloc(64);
    VSTRING *out = vstring_alloc(64);
    ARGV   *a;
    ARGV   *b;

    rfc822_list_normalize(once, text);
    rfc822_list_normalize(twice, vstring_str(once));
    if (strcmp(vstring_str(once), vstring_str(twice)) != 0)
	abort();
    a = rfc822_list_split(text);
    b = rfc822_list_split(vstring_str(once));
    if (!same_list(a, b))
	abort();
    rfc822_list_internalize(out, text);
    (void) mac_expand(out, text, "abcdefghijklmnopqrstuvwxyz", lookup, 0);
    argv_free(a);
    argv_free(b);
    vstring_free(once);
    vstring_free(twice);
    vstring_free(out);
    myfree(text);
    return (0);
}
