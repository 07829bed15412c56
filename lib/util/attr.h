/*
 * NAME
 *	attr - requests and replies between processes
 * SYNOPSIS
 *	Lists:
 *	ATTR *attr_alloc(void);
 *	void attr_free(ATTR *a);
 *	void attr_reset(ATTR *a);
 *	void attr_add(ATTR *a, const char *name, const char *value);
 *	void attr_addf(ATTR *a, const char *name, const char *fmt, ...);
 *	int attr_send(VSTREAM *s, ATTR *a);		(writes and flushes)
 *	int attr_send_status(VSTREAM *s, int status);
 *	int attr_recv(VSTREAM *s, ATTR *a, size_t max_len, size_t max_count);
 *	const char *attr_get(ATTR *a, const char *name);	(first)
 *
 *	Writing without a list:
 *	void attr_put(VSTREAM *s, const char *name, const char *value);
 *	void attr_put_num(VSTREAM *s, const char *name, long long num);
 *	void attr_put_fixed6(VSTREAM *s, const char *name, double num);
 *	int attr_put_end(VSTREAM *s);			(ends, flushes)
 *	size_t attr_count(ATTR *a);
 *	const char *attr_name(ATTR *a, size_t i);
 *	const char *attr_value(ATTR *a, size_t i);
 *
 *	Reading by table:
 *	int attr_scan(VSTREAM *s, const ATTR_SCAN *table, void *target,
 *		      VSTRING *why);
 *	int attr_scan_list(ATTR *a, const ATTR_SCAN *table, void *target,
 *			   VSTRING *why);
 *	void attr_scan_free(const ATTR_SCAN *table, void *target);
 *
 *	Framing of a list that arrives in pieces:
 *	int attr_frame_scan(ATTR_FRAME *f, const char *data, size_t len);
 * DESCRIPTION
 *	On the wire a request is "name\0value\0" pairs ended by an empty
 *	name ("\0"). Names may repeat (one "recipient" per recipient); the
 *	list keeps their order. attr_recv() reads one list with the
 *	stream's timeout, refuses any name or value longer than max_len or
 *	more than max_count pairs (returns -1; the caller logs and closes),
 *	and returns 0 at a clean end of file before the first byte, 1 for
 *	a list. attr_put() and its kin write one pair straight into the
 *	stream's buffer (a number in decimal; attr_put_fixed6 as "%.6f"),
 *	attr_put_end() ends the list and flushes: 0 or VSTREAM_EOF, as
 *	attr_send(). attr_send_status() sends the reply that most services give:
 *	a list of one ATTR_NAME_STATUS.
 *
 *	A list is read into a C structure with a table (ATTR_SCAN), one
 *	entry per name the reader knows, ended by ATTR_END:
 *
 *	    ATTR_STR(name, struct, field, flags, min_len, max_len)   char *
 *	    ATTR_INT(name, struct, field, flags, min, max)           int
 *	    ATTR_LONG(name, struct, field, flags, min, max)          long
 *	    ATTR_OFF(name, struct, field, flags, min, max)           off_t
 *	    ATTR_DOUBLE(name, struct, field, flags, min, max)        double
 *	    ATTR_GROUP(name, struct, array, count, elem_type, members,
 *		       flags, min, max)
 *
 *	The field is named, not pointed to, so that one table serves any
 *	instance of the structure and a group's members land in each
 *	element of an array; a field whose C type does not match the entry
 *	does not compile. Flags: ATTR_FLAG_REQUIRED (a list without it is
 *	refused) or 0 (when absent, the field keeps what the caller put
 *	there: the defaults). A string field must start NULL or hold
 *	memory of mymalloc(); it receives a copy of the value, of min_len
 *	to max_len bytes (max_len 0: ATTR_MAX_LEN). A number must be
 *	plain decimal ("-" and digits; a double may have one "." and
 *	digits after it) and lie within [min, max].
 *
 *	A repeated group (the recipients of a delivery request, each with
 *	its own attributes) is an ATTR_GROUP entry: an array of elem_type
 *	and its size_t count in the structure, and a member table for
 *	elem_type whose first entry has the group's name. That name opens
 *	a new element (zeroed, then the opener is stored in it); the other
 *	members that follow go into the open element, and a member that
 *	comes before any opener is refused. min and max bound the number
 *	of elements (ATTR_FLAG_REQUIRED: at least one; max 0:
 *	ATTR_MAX_COUNT). Groups do not nest. The array and count must
 *	start empty (NULL, 0).
 *
 *	attr_scan_list() fills target from a received list: 0, or -1 with
 *	the reason in why: a missing required attribute, a malformed or
 *	out-of-range number, a string too long or too short, a name given
 *	twice (in the list, or in one group element), too many groups, a
 *	group member outside its group. Names the table does not know are
 *	skipped, so old and new processes can mix during a reload.
 *
 *	attr_scan() reads one list from the stream and scans it: 1 for a
 *	request, 0 at a clean end of file before the first byte, -1 with
 *	why. It bounds what it reads by the table: no name or value longer
 *	than the table's longest string (at least ATTR_NUM_LEN), no more
 *	pairs than the table's entries and groups can hold plus
 *	ATTR_SCAN_EXTRA unknown ones. Each pair is scanned as it is read,
 *	from the stream's buffer (no list of copies); after a refused pair
 *	the rest of the list is still read, so that the stream stays in
 *	step.
 *
 *	After either scan, successful or not, attr_scan_free() releases the
 *	strings and group arrays that the table describes and clears them.
 *
 *	attr_frame_scan() follows a list through the bytes of a reply as
 *	they come (an event loop that must not block): it returns 1 once
 *	the list's end has been seen, else 0. Clear the ATTR_FRAME before
 *	the first call.
 * DIAGNOSTICS
 *	Panic on a malformed table (a group whose first member has another
 *	name, a nested group): that is a bug, not bad input.
 */
#ifndef ATTR_H
#define ATTR_H
#include <sys/types.h>
#include <stddef.h>
#include "util/vstream.h"
#include "util/vstring.h"
#include "util/argv.h"

typedef struct ATTR {
    ARGV   *names;
    ARGV   *values;
} ATTR;

#define ATTR_MAX_LEN	(1 << 20)
#define ATTR_MAX_COUNT	100000
#define ATTR_NUM_LEN	64		/* a number, a name: wire length */
#define ATTR_SCAN_EXTRA	64		/* unknown names attr_scan() takes */

/* The envelope of every service: what is asked, and the answer. */
#define ATTR_NAME_REQUEST	"request"	/* what a client asks for */
#define ATTR_NAME_STATUS	"status"	/* 0 ok, else an error code */

#define ATTR_TYPE_STR		1
#define ATTR_TYPE_INT		2
#define ATTR_TYPE_LONG		3
#define ATTR_TYPE_OFF		4
#define ATTR_TYPE_DOUBLE	5
#define ATTR_TYPE_GROUP		6

#define ATTR_FLAG_REQUIRED	(1<<0)

typedef struct ATTR_SCAN {
    const char *name;
    int     type;			/* ATTR_TYPE_* */
    int     flags;			/* ATTR_FLAG_* */
    size_t  offset;			/* of the field in the target */
    long    min;			/* number range, string length, */
    long    max;			/* ...group count */
    const struct ATTR_SCAN *members;	/* group: member table */
    size_t  elem_size;			/* group: one element */
    size_t  count_offset;		/* group: its size_t count */
} ATTR_SCAN;

/* ATTR_FIELD - offsetof(), and no build when the field has another type */
#define ATTR_FIELD(st, f, ctype) (offsetof(st, f) + 0 * sizeof(char[ \
	__builtin_types_compatible_p(__typeof__(((st *) 0)->f), ctype) ? 1 : -1]))

#define ATTR_ENTRY_(n_, t_, fl_, off_, lo_, hi_) \
	{ .name = (n_), .type = (t_), .flags = (fl_), .offset = (off_), \
	  .min = (lo_), .max = (hi_) }
#define ATTR_STR(n_, st, f, fl_, lo_, hi_) \
	ATTR_ENTRY_(n_, ATTR_TYPE_STR, fl_, ATTR_FIELD(st, f, char *), lo_, hi_)
#define ATTR_INT(n_, st, f, fl_, lo_, hi_) \
	ATTR_ENTRY_(n_, ATTR_TYPE_INT, fl_, ATTR_FIELD(st, f, int), lo_, hi_)
#define ATTR_LONG(n_, st, f, fl_, lo_, hi_) \
	ATTR_ENTRY_(n_, ATTR_TYPE_LONG, fl_, ATTR_FIELD(st, f, long), lo_, hi_)
#define ATTR_OFF(n_, st, f, fl_, lo_, hi_) \
	ATTR_ENTRY_(n_, ATTR_TYPE_OFF, fl_, ATTR_FIELD(st, f, off_t), lo_, hi_)
#define ATTR_DOUBLE(n_, st, f, fl_, lo_, hi_) \
	ATTR_ENTRY_(n_, ATTR_TYPE_DOUBLE, fl_, ATTR_FIELD(st, f, double), lo_, hi_)
#define ATTR_GROUP(n_, st, array, count, elem, members_, fl_, lo_, hi_) \
	{ .name = (n_), .type = ATTR_TYPE_GROUP, .flags = (fl_), \
	  .offset = ATTR_FIELD(st, array, elem *), .min = (lo_), .max = (hi_), \
	  .members = (members_), .elem_size = sizeof(elem), \
	  .count_offset = ATTR_FIELD(st, count, size_t) }
#define ATTR_END	{ .name = 0 }

typedef struct ATTR_FRAME {
    size_t  field_len;			/* bytes of the current name or value */
    int     in_value;
} ATTR_FRAME;

extern ATTR *attr_alloc(void);
extern void attr_free(ATTR *);
extern void attr_reset(ATTR *);
extern void attr_add(ATTR *, const char *, const char *);
extern void attr_addf(ATTR *, const char *, const char *, ...) __attribute__((format(printf, 3, 4)));
extern int attr_send(VSTREAM *, ATTR *);
extern int attr_send_status(VSTREAM *, int);
extern void attr_put(VSTREAM *, const char *, const char *);
extern void attr_put_num(VSTREAM *, const char *, long long);
extern void attr_put_fixed6(VSTREAM *, const char *, double);
extern int attr_put_end(VSTREAM *);
extern int attr_recv(VSTREAM *, ATTR *, size_t, size_t);
extern const char *attr_get(ATTR *, const char *);
extern size_t attr_count(ATTR *);
extern const char *attr_name(ATTR *, size_t);
extern const char *attr_value(ATTR *, size_t);

extern int attr_scan(VSTREAM *, const ATTR_SCAN *, void *, VSTRING *);
extern int attr_scan_list(ATTR *, const ATTR_SCAN *, void *, VSTRING *);
extern void attr_scan_free(const ATTR_SCAN *, void *);

extern int attr_frame_scan(ATTR_FRAME *, const char *, size_t);

#endif
