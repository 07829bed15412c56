/*
 * NAME
 *	delivered_hdr - what a queued message's headers say about loops
 * SYNOPSIS
 *	See delivered_hdr.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/htable.h"
#include "util/stringops.h"
#include "global/delivered_hdr.h"

#define HEADER_MAX	65536

/* keep - one complete header */
static void keep(DELIVERED_HDR *hdr, VSTRING *header)
{
    char   *value = split_at(vstring_str(header), ':');
    char   *name;

    if (value == 0)
	return;
    name = trimblanks(vstring_str(header));
    value = trimblanks(value);
    if (strcasecmp(name, "Delivered-To") == 0) {
	lowercase(value);
	if (htable_find(hdr->addrs, value) == 0)
	    htable_enter(hdr->addrs, value, (void *) 1);
    } else if (strcasecmp(name, "Message-ID") == 0 && hdr->msgid == 0) {
	hdr->msgid = mystrdup(value);
    }
}

DELIVERED_HDR *delivered_hdr_read(VSTREAM *fp, off_t offset, off_t size)
{
    DELIVERED_HDR *hdr = mycalloc(1, sizeof(*hdr));
    VSTRING *line = vstring_alloc(256);
    VSTRING *header = vstring_alloc(256);
    off_t   left = vstream_seek(fp, offset, SEEK_SET) < 0 ? 0 : size;

    hdr->addrs = htable_create(8);
    for (;;) {
	int     kind = left > 0 ? vstream_get_line(fp, line,
				       left < 4096 ? (size_t) left : 4096) : VSTREAM_EOF;
	const char *text;

	if (kind != VSTREAM_EOF) {
	    left -= vstring_len(line) + (kind == VSTREAM_LINE);
	    if (kind == VSTREAM_LINE && vstring_len(line) > 0
		&& vstring_end(line)[-1] == '\r')
		vstring_truncate(line, vstring_len(line) - 1);
	}
	text = vstring_str(line);
	if (kind != VSTREAM_EOF && (*text == ' ' || *text == '\t')) {
	    /* A continuation line of the header before. */
	    if (vstring_len(header) > 0 && vstring_len(header) < HEADER_MAX) {
		vstring_strcat(header, " ");
		vstring_strcat(header, text + strspn(text, " \t"));
	    }
	    continue;
	}
	if (vstring_len(header) > 0) {
	    keep(hdr, header);
	    vstring_reset(header);
	}
	if (kind == VSTREAM_EOF || *text == 0)
	    break;
	vstring_strncpy(header, text, HEADER_MAX);
    }
    vstring_free(line);
    vstring_free(header);
    return (hdr);
}

int     delivered_hdr_find(const DELIVERED_HDR *hdr, const char *address)
{
    char   *key = lowercase(mystrdup(address));
    int     found = htable_find(hdr->addrs, key) != 0;

    myfree(key);
    return (found);
}

void    delivered_hdr_free(DELIVERED_HDR *hdr)
{
    htable_free(hdr->addrs, (void (*) (void *)) 0);
    myfree(hdr->msgid);
    myfree(hdr);
}
