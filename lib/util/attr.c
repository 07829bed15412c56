/*
 * NAME
 *	attr - requests and replies between processes
 * DESCRIPTION
 *	See attr.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/attr.h"

ATTR   *attr_alloc(void)
{
    ATTR   *a = mymalloc(sizeof(*a));

    a->names = argv_alloc(8);
    a->values = argv_alloc(8);
    return (a);
}

void    attr_free(ATTR *a)
{
    argv_free(a->names);
    argv_free(a->values);
    myfree(a);
}

void    attr_reset(ATTR *a)
{
    argv_truncate(a->names, 0);
    argv_truncate(a->values, 0);
}

void    attr_add(ATTR *a, const char *name, const char *value)
{
    argv_add(a->names, name);
    argv_add(a->values, value ? value : "");
}

void    attr_addf(ATTR *a, const char *name, const char *fmt, ...)
{
    VSTRING *buf = vstring_alloc(64);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    attr_add(a, name, vstring_str(buf));
    vstring_free(buf);
}

int     attr_send(VSTREAM *s, ATTR *a)
{
    for (size_t i = 0; i < a->names->argc; i++) {
	vstream_write(s, a->names->argv[i], strlen(a->names->argv[i]) + 1);
	vstream_write(s, a->values->argv[i], strlen(a->values->argv[i]) + 1);
    }
    vstream_write(s, "", 1);
    return (vstream_fflush(s));
}

/*
 * Writing without a list: each pair goes straight into the stream's
 * buffer; attr_put_end() ends the list and flushes.
 */
void    attr_put(VSTREAM *s, const char *name, const char *value)
{
    if (value == 0)
	value = "";
    vstream_write(s, name, strlen(name) + 1);
    vstream_write(s, value, strlen(value) + 1);
}

void    attr_put_num(VSTREAM *s, const char *name, long long num)
{
    char    buf[32];
    char   *cp = buf + sizeof(buf);
    unsigned long long u = num < 0 ? 0 - (unsigned long long) num : (unsigned long long) num;

    *--cp = 0;
    do {
	*--cp = '0' + (char) (u % 10);
	u /= 10;
    } while (u > 0);
    if (num < 0)
	*--cp = '-';
    vstream_write(s, name, strlen(name) + 1);
    vstream_write(s, cp, (size_t) (buf + sizeof(buf) - cp));
}

void    attr_put_fixed6(VSTREAM *s, const char *name, double num)
{
    char    buf[64];

    /* "%.6f", without stdio for the usual values (seconds, epoch times). */
    if (num >= 0 && num < 1e12) {
	long long units = (long long) (num * 1e6 + 0.5);
	long long whole = units / 1000000;
	long long frac = units % 1000000;
	char   *cp = buf + sizeof(buf);

	*--cp = 0;
	for (int i = 0; i < 6; i++, frac /= 10)
	    *--cp = '0' + (char) (frac % 10);
	*--cp = '.';
	do {
	    *--cp = '0' + (char) (whole % 10);
	    whole /= 10;
	} while (whole > 0);
	attr_put(s, name, cp);
    } else {
	snprintf(buf, sizeof(buf), "%.6f", num);
	attr_put(s, name, buf);
    }
}

int     attr_put_end(VSTREAM *s)
{
    vstream_write(s, "", 1);
    return (vstream_fflush(s));
}

int     attr_send_status(VSTREAM *s, int status)
{
    ATTR   *a = attr_alloc();
    int     ret;

    attr_addf(a, ATTR_NAME_STATUS, "%d", status);
    ret = attr_send(s, a);
    attr_free(a);
    return (ret);
}

/*
 * read_string - one NUL-terminated string; -1 on error or when too long.
 * What the stream has buffered is taken a run at a time (memchr for the
 * NUL), not a byte at a time.
 */
static int read_string(VSTREAM *s, VSTRING *buf, size_t max_len)
{
    int     ch;

    vstring_reset(buf);
    for (;;) {
	size_t  avail = vstream_peek(s);

	if (avail > 0) {
	    const char *data = vstream_peek_data(s);
	    const char *nul = memchr(data, 0, avail);
	    size_t  n = nul ? (size_t) (nul - data) : avail;

	    int     too_long = (n > max_len - vstring_len(buf));

	    if (too_long)
		n = max_len - vstring_len(buf);	/* what the caller reports */
	    vstring_space(buf, n);
	    if (vstream_read(s, vstring_str(buf) + vstring_len(buf), n) != (ssize_t) n)
		return (-1);
	    buf->len += n;
	    buf->data[buf->len] = 0;
	    if (too_long)
		return (-1);
	    if (nul) {
		(void) vstream_getc(s);
		return (0);
	    }
	    continue;
	}
	if ((ch = vstream_getc(s)) == VSTREAM_EOF)
	    return (-1);
	if (ch == 0)
	    return (0);
	if (vstring_len(buf) >= max_len)
	    return (-1);
	vstring_addch(buf, ch);
    }
}

/*
 * attr_read - one list; 1, 0 at a clean end of file, -1 with the reason.
 */
static int attr_read(VSTREAM *s, ATTR *a, size_t max_len, size_t max_count,
		             const char **why)
{
    VSTRING *name = vstring_alloc(32);
    VSTRING *value = vstring_alloc(64);
    VSTRING *failed = name;
    int     ret = -1;
    int     first = 1;

    attr_reset(a);
    *why = 0;
    for (;;) {
	if (read_string(s, name, max_len) < 0) {
	    if (first && vstream_feof(s) && vstring_len(name) == 0)
		ret = 0;
	    break;
	}
	first = 0;
	if (vstring_len(name) == 0) {
	    ret = 1;
	    break;
	}
	if (a->names->argc >= max_count) {
	    *why = "too many attributes";
	    break;
	}
	if (read_string(s, value, max_len) < 0) {
	    failed = value;
	    break;
	}
	attr_add(a, vstring_str(name), vstring_str(value));
    }
    if (ret < 0 && *why == 0)
	*why = vstream_ftimeout(s) ? "timeout" :
	    vstream_ferror(s) ? "read error" :
	    vstring_len(failed) >= max_len ? "attribute name or value too long" :
	    "list truncated";
    vstring_free(name);
    vstring_free(value);
    return (ret);
}

int     attr_recv(VSTREAM *s, ATTR *a, size_t max_len, size_t max_count)
{
    const char *why;

    return (attr_read(s, a, max_len, max_count, &why));
}

const char *attr_get(ATTR *a, const char *name)
{
    for (size_t i = 0; i < a->names->argc; i++)
	if (strcmp(a->names->argv[i], name) == 0)
	    return (a->values->argv[i]);
    return (0);
}

size_t  attr_count(ATTR *a)
{
    return (a->names->argc);
}

const char *attr_name(ATTR *a, size_t i)
{
    return (i < a->names->argc ? a->names->argv[i] : 0);
}

const char *attr_value(ATTR *a, size_t i)
{
    return (i < a->values->argc ? a->values->argv[i] : 0);
}

 /*
  * Reading by table.
  */

/* scan_find - the entry for name, or NULL */
static const ATTR_SCAN *scan_find(const ATTR_SCAN *table, const char *name)
{
    for (; table->name; table++)
	if (strcmp(table->name, name) == 0)
	    return (table);
    return (0);
}

static size_t scan_size(const ATTR_SCAN *table)
{
    size_t  n = 0;

    while (table[n].name)
	n++;
    return (n);
}

/* scan_check - a table is code: a bad one is a bug */
static void scan_check(const ATTR_SCAN *table)
{
    for (const ATTR_SCAN *e = table; e->name; e++) {
	if (e->type != ATTR_TYPE_GROUP)
	    continue;
	if (e->members == 0 || e->members[0].name == 0
	    || strcmp(e->members[0].name, e->name) != 0)
	    msg_panic("attr_scan: group %s: the first member must be %s", e->name, e->name);
	for (const ATTR_SCAN *m = e->members; m->name; m++)
	    if (m->type == ATTR_TYPE_GROUP)
		msg_panic("attr_scan: group %s: nested group %s", e->name, m->name);
    }
}

/* scan_group_max - how many elements a group may have */
static size_t scan_group_max(const ATTR_SCAN *e)
{
    return (e->max > 0 ? (size_t) e->max : ATTR_MAX_COUNT);
}

/* scan_str_max - how long a string may be */
static size_t scan_str_max(const ATTR_SCAN *e)
{
    return (e->max > 0 ? (size_t) e->max : ATTR_MAX_LEN);
}

/*
 * scan_limits - what attr_scan() reads at most: the longest string of
 * the table, and as many pairs as its entries and groups hold plus a
 * few unknown ones.
 */
static void scan_limits(const ATTR_SCAN *table, size_t *max_len, size_t *max_count)
{
    *max_len = ATTR_NUM_LEN;
    *max_count = ATTR_SCAN_EXTRA;
    for (const ATTR_SCAN *e = table; e->name; e++) {
	if (e->type == ATTR_TYPE_STR && scan_str_max(e) > *max_len)
	    *max_len = scan_str_max(e);
	if (e->type != ATTR_TYPE_GROUP) {
	    *max_count += 1;
	    continue;
	}
	for (const ATTR_SCAN *m = e->members; m->name; m++)
	    if (m->type == ATTR_TYPE_STR && scan_str_max(m) > *max_len)
		*max_len = scan_str_max(m);
	*max_count += scan_group_max(e) * scan_size(e->members);
    }
}

/* scan_number - plain decimal: [-]digits, for a double [.digits] too */
static int scan_number(const char *text, int fraction)
{
    const char *cp = text;
    size_t  digits = 0;

    if (*cp == '-')
	cp++;
    while (*cp >= '0' && *cp <= '9')
	cp++, digits++;
    if (digits == 0)
	return (-1);
    if (fraction && *cp == '.') {
	digits = 0;
	for (cp++; *cp >= '0' && *cp <= '9'; cp++)
	    digits++;
	if (digits == 0)
	    return (-1);
    }
    return (*cp == 0 && cp - text <= ATTR_NUM_LEN ? 0 : -1);
}

/* scan_store - convert one value into its field; 0 or -1 with why */
static int scan_store(const ATTR_SCAN *e, void *target, const char *value, VSTRING *why)
{
    char   *field = (char *) target + e->offset;
    size_t  len;
    long long num;
    double  d;
    char   *end;

    switch (e->type) {
    case ATTR_TYPE_STR:
	len = strlen(value);
	if (len > scan_str_max(e)) {
	    vstring_sprintf(why, "attribute %s: value too long", e->name);
	    return (-1);
	}
	if (len < (size_t) (e->min > 0 ? e->min : 0)) {
	    vstring_sprintf(why, "attribute %s: value too short", e->name);
	    return (-1);
	}
	myfree(*(char **) field);
	*(char **) field = mystrdup(value);
	return (0);
    case ATTR_TYPE_INT:
    case ATTR_TYPE_LONG:
    case ATTR_TYPE_OFF:
	errno = 0;
	if (scan_number(value, 0) < 0
	    || (num = strtoll(value, &end, 10), errno == ERANGE)
	    || num < e->min || num > e->max) {
	    vstring_sprintf(why, "attribute %s: malformed or out-of-range number", e->name);
	    return (-1);
	}
	if (e->type == ATTR_TYPE_INT)
	    *(int *) field = (int) num;
	else if (e->type == ATTR_TYPE_LONG)
	    *(long *) field = (long) num;
	else
	    *(off_t *) field = (off_t) num;
	return (0);
    case ATTR_TYPE_DOUBLE:
	errno = 0;
	if (scan_number(value, 1) < 0
	    || (d = strtod(value, &end), errno == ERANGE) || !isfinite(d)
	    || d < (double) e->min || d > (double) e->max) {
	    vstring_sprintf(why, "attribute %s: malformed or out-of-range number", e->name);
	    return (-1);
	}
	*(double *) field = d;
	return (0);
    default:
	msg_panic("attr_scan: attribute %s: bad type %d", e->name, e->type);
    }
}

/* scan_missing - the first required entry not seen, or NULL */
static const ATTR_SCAN *scan_missing(const ATTR_SCAN *table, const char *seen)
{
    for (size_t i = 0; table[i].name; i++)
	if ((table[i].flags & ATTR_FLAG_REQUIRED) && !seen[i])
	    return (table + i);
    return (0);
}

/* scan_group_add - a new, zeroed element at the end of a group's array */
static void *scan_group_add(const ATTR_SCAN *e, void *target)
{
    char   *field = (char *) target + e->offset;
    size_t *count = (size_t *) ((char *) target + e->count_offset);
    char   *array;
    size_t  n = *count;

    memcpy(&array, field, sizeof(array));

    /* Capacity doubles at each power of two: no capacity field needed. */
    if (n == 0)
	array = mymalloc(4 * e->elem_size);
    else if (n >= 4 && (n & (n - 1)) == 0)
	array = myrealloc(array, 2 * n * e->elem_size);
    memcpy(field, &array, sizeof(array));
    memset(array + n * e->elem_size, 0, e->elem_size);
    *count = n + 1;
    return (array + n * e->elem_size);
}

/* scan_in_group - the group entry whose member (not opener) name is */
static const ATTR_SCAN *scan_in_group(const ATTR_SCAN *table, const char *name)
{
    for (const ATTR_SCAN *e = table; e->name; e++)
	if (e->type == ATTR_TYPE_GROUP && scan_find(e->members + 1, name))
	    return (e);
    return (0);
}

/*
 * scan_find_next - scan_find, trying first the entry after the one found
 * last (*next): writers send the attributes in the table's order.
 */
static const ATTR_SCAN *scan_find_next(const ATTR_SCAN *table, const char *name,
				               const ATTR_SCAN **next)
{
    const ATTR_SCAN *e = *next;

    if (e == 0 || e->name == 0 || strcmp(e->name, name) != 0)
	e = scan_find(table, name);
    if (e)
	*next = e + 1;
    return (e);
}

/*
 * SCAN - a table scan in progress, fed one pair at a time: attr_scan()
 * feeds it straight from the stream's buffer (no list of copies),
 * attr_scan_list() from a received list. The "seen" marks live in the
 * structure for tables of usual size.
 */
#define SCAN_SEEN_FIXED	64

typedef struct SCAN {
    const ATTR_SCAN *table;
    void   *target;
    VSTRING *reason;
    const ATTR_SCAN *top_next;
    const ATTR_SCAN *member_next;
    const ATTR_SCAN *group;		/* the open group's entry */
    void   *elem;			/* ...its newest element */
    char   *seen;
    char   *member_seen;
    size_t  member_size;
    int     failed;
    char    seen_fixed[SCAN_SEEN_FIXED];
    char    member_fixed[SCAN_SEEN_FIXED];
} SCAN;

static void scan_begin(SCAN *sc, const ATTR_SCAN *table, void *target, VSTRING *why)
{
    size_t  top_size = scan_size(table);

    scan_check(table);
    sc->table = table;
    sc->target = target;
    sc->reason = why ? why : vstring_alloc(100);
    sc->top_next = table;
    sc->member_next = 0;
    sc->group = 0;
    sc->elem = 0;
    sc->seen = top_size < SCAN_SEEN_FIXED ? sc->seen_fixed : mymalloc(top_size + 1);
    memset(sc->seen, 0, top_size + 1);
    sc->member_seen = 0;
    sc->member_size = 0;
    sc->failed = 0;
}

static void scan_end(SCAN *sc, VSTRING *why)
{
    if (sc->seen != sc->seen_fixed)
	myfree(sc->seen);
    if (sc->member_seen != sc->member_fixed)
	myfree(sc->member_seen);
    if (sc->reason != why)
	vstring_free(sc->reason);
}

/* scan_pair - one name and value into the target; 0, or -1 with reason */
static int scan_pair(SCAN *sc, const char *name, const char *value)
{
    const ATTR_SCAN *table = sc->table;
    const ATTR_SCAN *top;
    const ATTR_SCAN *e;
    const ATTR_SCAN *missing;

    top = scan_find_next(table, name, &sc->top_next);
    if ((e = top) != 0 && e->type == ATTR_TYPE_GROUP) {
	/* The opener closes the previous element and starts one. */
	if (sc->group && (missing = scan_missing(sc->group->members, sc->member_seen)) != 0) {
	    vstring_sprintf(sc->reason, "missing attribute %s", missing->name);
	    return (-1);
	}
	if (*(size_t *) ((char *) sc->target + e->count_offset) >= scan_group_max(e)) {
	    vstring_sprintf(sc->reason, "too many %s attributes", e->name);
	    return (-1);
	}
	sc->seen[e - table] = 1;
	if (sc->group != e) {
	    size_t  size = scan_size(e->members) + 1;

	    if (sc->member_seen != sc->member_fixed)
		myfree(sc->member_seen);
	    sc->member_seen = size <= SCAN_SEEN_FIXED ? sc->member_fixed : mymalloc(size);
	    sc->member_size = size;
	    sc->group = e;
	}
	memset(sc->member_seen, 0, sc->member_size);
	sc->member_next = e->members + 1;
	sc->elem = scan_group_add(e, sc->target);
	sc->member_seen[0] = 1;
	return (scan_store(e->members, sc->elem, value, sc->reason));
    } else if (sc->group
	       && (e = scan_find_next(sc->group->members + 1, name, &sc->member_next)) != 0) {
	if (sc->member_seen[e - sc->group->members]++) {
	    vstring_sprintf(sc->reason, "attribute %s given twice for one %s",
			    name, sc->group->name);
	    return (-1);
	}
	return (scan_store(e, sc->elem, value, sc->reason));
    } else if ((e = top) != 0) {
	if (sc->seen[e - table]++) {
	    vstring_sprintf(sc->reason, "attribute %s given twice", name);
	    return (-1);
	}
	return (scan_store(e, sc->target, value, sc->reason));
    } else if ((e = scan_in_group(table, name)) != 0) {
	vstring_sprintf(sc->reason, "attribute %s outside its %s group", name, e->name);
	return (-1);
    }
    /* else: a newer process's attribute; skip it. */
    return (0);
}

/* scan_finish - after the last pair: what is required is there */
static int scan_finish(SCAN *sc)
{
    const ATTR_SCAN *e;
    const ATTR_SCAN *missing;

    if (sc->group && (missing = scan_missing(sc->group->members, sc->member_seen)) != 0) {
	vstring_sprintf(sc->reason, "missing attribute %s", missing->name);
	return (-1);
    }
    for (e = sc->table; e->name; e++) {
	if (e->type == ATTR_TYPE_GROUP) {
	    size_t  count = *(size_t *) ((char *) sc->target + e->count_offset);
	    size_t  min = e->min > 0 ? (size_t) e->min : 0;

	    if ((e->flags & ATTR_FLAG_REQUIRED) && min == 0)
		min = 1;
	    if (count < min) {
		vstring_sprintf(sc->reason, count ? "too few %s attributes" :
				"missing attribute %s", e->name);
		return (-1);
	    }
	} else if ((e->flags & ATTR_FLAG_REQUIRED) && !sc->seen[e - sc->table]) {
	    vstring_sprintf(sc->reason, "missing attribute %s", e->name);
	    return (-1);
	}
    }
    return (0);
}

int     attr_scan_list(ATTR *a, const ATTR_SCAN *table, void *target, VSTRING *why)
{
    SCAN    sc;
    int     ret = 0;

    scan_begin(&sc, table, target, why);
    for (size_t i = 0; ret == 0 && i < attr_count(a); i++)
	ret = scan_pair(&sc, attr_name(a, i), attr_value(a, i));
    if (ret == 0)
	ret = scan_finish(&sc);
    scan_end(&sc, why);
    return (ret);
}

/*
 * attr_scan - read one list and scan it as it comes. The whole list is
 * read even after a pair was refused, so that the stream stays in step;
 * a read error is reported before a refused pair, as when the list was
 * read first.
 */
int     attr_scan(VSTREAM *s, const ATTR_SCAN *table, void *target, VSTRING *why)
{
    static VSTRING *name;
    static VSTRING *value;
    size_t  max_len;
    size_t  max_count;
    size_t  count = 0;
    VSTRING *failed;
    const char *reason = 0;
    int     first = 1;
    int     ret = -1;
    int     refused = 0;
    SCAN    sc;

    if (name == 0) {
	name = vstring_alloc(32);
	value = vstring_alloc(64);
    }
    scan_limits(table, &max_len, &max_count);
    scan_begin(&sc, table, target, why);
    failed = name;
    for (;;) {
	if (read_string(s, name, max_len) < 0) {
	    if (first && vstream_feof(s) && vstring_len(name) == 0)
		ret = 0;
	    break;
	}
	first = 0;
	if (vstring_len(name) == 0) {
	    ret = 1;
	    break;
	}
	if (count++ >= max_count) {
	    reason = "too many attributes";
	    break;
	}
	if (read_string(s, value, max_len) < 0) {
	    failed = value;
	    break;
	}
	if (!refused && scan_pair(&sc, vstring_str(name), vstring_str(value)) < 0)
	    refused = 1;
    }
    if (ret < 0) {
	if (reason == 0)
	    reason = vstream_ftimeout(s) ? "timeout" :
		vstream_ferror(s) ? "read error" :
		vstring_len(failed) >= max_len ? "attribute name or value too long" :
		"list truncated";
	if (why)
	    vstring_strcpy(why, reason);
    } else if (ret > 0 && (refused || scan_finish(&sc) < 0)) {
	ret = -1;
    }
    scan_end(&sc, why);

    /* A huge value once does not stay with the process. */
    if (value->cap > 65536 || name->cap > 65536) {
	vstring_free(name);
	vstring_free(value);
	name = value = 0;
    }
    return (ret);
}

void    attr_scan_free(const ATTR_SCAN *table, void *target)
{
    for (const ATTR_SCAN *e = table; e->name; e++) {
	char   *field = (char *) target + e->offset;

	if (e->type == ATTR_TYPE_STR) {
	    myfree(*(char **) field);
	    *(char **) field = 0;
	} else if (e->type == ATTR_TYPE_GROUP) {
	    size_t *count = (size_t *) ((char *) target + e->count_offset);
	    char   *array;

	    memcpy(&array, field, sizeof(array));
	    for (size_t i = 0; i < *count; i++)
		attr_scan_free(e->members, array + i * e->elem_size);
	    myfree(array);
	    array = 0;
	    memcpy(field, &array, sizeof(array));
	    *count = 0;
	}
    }
}

int     attr_frame_scan(ATTR_FRAME *f, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
	if (data[i] != 0) {
	    f->field_len++;
	} else if (!f->in_value && f->field_len == 0) {
	    return (1);
	} else {
	    f->in_value = !f->in_value;
	    f->field_len = 0;
	}
    }
    return (0);
}
