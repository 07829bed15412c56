/*
 * NAME
 *	tlsrpt_store - per-day files of TLS sessions for TLS-RPT (RFC 8460)
 * DESCRIPTION
 *	See tlsrpt_store.h. A day file is text, one record per line, fields
 *	separated by TAB:
 *
 *	P id domain type mx strings
 *		a policy; id is 16 hex digits (FNV-1a 64 of the other
 *		fields), mx and strings are lists.
 *	S id result reason sending-ip mx-host receiving-ip
 *		a session under policy id of the same file; result "-" is
 *		a success.
 *
 *	A reader takes a line only when its domain and MX host are host
 *	names, its IP addresses look like addresses, its type is one of
 *	the three and its result a lower-case word: the domain goes into
 *	DNS queries and mail headers.
 *
 *	Every field is escaped: a control character, DEL and "\" are
 *	written as "\xHH"; the items of a list are joined by the raw
 *	character 0x1f, which an escaped item never contains. A writer
 *	puts a P line before the first S line that uses it, in the same
 *	write(2), once per file it has open; readers therefore know every
 *	id they meet, and an S line of an unknown id is malformed.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/htable.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/tlsrpt_store.h"

#define TLSRPT_LIST_SEP		'\037'
#define TLSRPT_MAX_LINE		(256 * 1024)

static int store_fd = -1;		/* the open day file, or -1 */
static long store_day = -1;		/* its day */
static long store_warned = -1;		/* the day we last warned about */
static HTABLE *store_ids;		/* policy ids written to it */

long    tlsrpt_store_day(time_t when)
{
    return ((long) (when / 86400));
}

const char *tlsrpt_store_path(VSTRING *buf, const char *dir, long day)
{
    time_t  when = (time_t) day * 86400;
    struct tm tm;
    char    name[32];

    gmtime_r(&when, &tm);
    strftime(name, sizeof(name), "%Y-%m-%d", &tm);
    vstring_sprintf(buf, "%s/%s", dir, name);
    return (vstring_str(buf));
}

int     tlsrpt_store_name_day(const char *name, long *day)
{
    struct tm tm;
    int     y, m, d;
    char    check[32];

    if (strlen(name) != 10 || sscanf(name, "%4d-%2d-%2d", &y, &m, &d) != 3)
	return (0);
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    *day = tlsrpt_store_day(timegm(&tm));
    /* "2024-02-31" and "2024-1-01" are not ours: the name must read back. */
    {
	time_t  when = (time_t) *day * 86400;
	struct tm back;

	gmtime_r(&when, &back);
	strftime(check, sizeof(check), "%Y-%m-%d", &back);
    }
    return (strcmp(check, name) == 0);
}

/* escape - append text, escaped; see the DESCRIPTION */
static void escape(VSTRING *out, const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) (text ? text : ""); *cp; cp++) {
	if (*cp < 0x20 || *cp == 0x7f || *cp == '\\')
	    vstring_sprintf_append(out, "\\x%02x", *cp);
	else
	    vstring_addch(out, *cp);
    }
}

/* escape_list - append a list, each item escaped */
static void escape_list(VSTRING *out, const ARGV *list)
{
    for (size_t i = 0; list && i < list->argc; i++) {
	if (i)
	    vstring_addch(out, TLSRPT_LIST_SEP);
	escape(out, list->argv[i]);
    }
}

/* unescape - in place; -1 when an escape is malformed */
static int unescape(char *text)
{
    char   *in = text, *out = text;

    while (*in) {
	if (*in != '\\') {
	    *out++ = *in++;
	    continue;
	}
	if (in[1] != 'x' || !in[2] || !in[3])
	    return (-1);
	{
	    char    hex[3] = {in[2], in[3], 0};
	    char   *end;
	    long    c = strtol(hex, &end, 16);

	    if (*end || c <= 0)
		return (-1);
	    *out++ = (char) c;
	}
	in += 4;
    }
    *out = 0;
    return (0);
}

/* fnv64 - FNV-1a, 64 bits */
static uint64_t fnv64(const char *text, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
	h ^= (unsigned char) text[i];
	h *= 0x100000001b3ULL;
    }
    return (h);
}

/* store_open - the file of today, opened once per day; -1 when unusable */
static int store_open(long today)
{
    static char *dir;
    VSTRING *path;
    struct stat st;

    /* The same day, and nobody removed the file meanwhile. */
    if (store_fd >= 0 && store_day == today && fstat(store_fd, &st) == 0 && st.st_nlink > 0)
	return (0);
    if (store_fd >= 0)
	(void) close(store_fd);
    store_fd = -1;
    store_day = today;
    if (store_ids)
	htable_free(store_ids, 0);
    store_ids = htable_create(16);
    if (dir == 0)
	dir = mystrdup(mail_conf_str(VAR_TLSRPT_DIRECTORY));
    path = vstring_alloc(100);
    tlsrpt_store_path(path, dir, today);
    if ((store_fd = open(vstring_str(path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			 0600)) < 0 && errno == ENOENT
	&& (mkdir(dir, 0700) == 0 || errno == EEXIST))
	store_fd = open(vstring_str(path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (store_fd < 0 && store_warned != today) {
	msg_warn("cannot open TLS-RPT file %s: %m", vstring_str(path));
	store_warned = today;
    }
    vstring_free(path);
    return (store_fd < 0 ? -1 : 0);
}

int     tlsrpt_store_add(const TLSRPT_POLICY *pol, const TLSRPT_RESULT *res)
{
    VSTRING *rec;
    VSTRING *body;
    char    id[17];
    int     ret = 0;

    if (store_open(tlsrpt_store_day(time((time_t *) 0))) < 0)
	return (-1);
    body = vstring_alloc(200);
    escape(body, pol->domain);
    vstring_addch(body, '\t');
    escape(body, pol->type);
    vstring_addch(body, '\t');
    escape_list(body, pol->mx);
    vstring_addch(body, '\t');
    escape_list(body, pol->strings);
    snprintf(id, sizeof(id), "%016llx",
	     (unsigned long long) fnv64(vstring_str(body), vstring_len(body)));

    rec = vstring_alloc(300);
    if (htable_locate(store_ids, id) == 0)
	vstring_sprintf(rec, "P\t%s\t%s\n", id, vstring_str(body));
    vstring_sprintf_append(rec, "S\t%s\t", id);
    escape(rec, res->result ? res->result : "-");
    vstring_addch(rec, '\t');
    escape(rec, res->reason);
    vstring_addch(rec, '\t');
    escape(rec, res->sending_ip);
    vstring_addch(rec, '\t');
    escape(rec, res->mx_host);
    vstring_addch(rec, '\t');
    escape(rec, res->receiving_ip);
    vstring_addch(rec, '\n');

    /* One write under a shared lock: whole lines, whatever the others do. */
    if (vstring_len(rec) > TLSRPT_MAX_LINE) {
	msg_warn("TLS-RPT record for %s too long; not stored", pol->domain);
	ret = -1;
    } else if (flock(store_fd, LOCK_SH) < 0
	       || write(store_fd, vstring_str(rec), vstring_len(rec))
	       != (ssize_t) vstring_len(rec)) {
	if (store_warned != store_day)
	    msg_warn("cannot write TLS-RPT file: %m");
	store_warned = store_day;
	ret = -1;
    } else {
	htable_enter(store_ids, id, 0);
    }
    (void) flock(store_fd, LOCK_UN);
    vstring_free(rec);
    vstring_free(body);
    return (ret);
}

/* split_list - a list field, unescaped; NULL when malformed */
static ARGV *split_list(char *field)
{
    ARGV   *list = argv_alloc(4);
    char   *cp = field, *item;

    if (*field == 0)
	return (list);
    while ((item = strsep(&cp, "\037")) != 0) {
	if (unescape(item) < 0) {
	    argv_free(list);
	    return (0);
	}
	argv_add(list, item);
    }
    return (list);
}

typedef struct STORE_POLICY {
    char   *domain;
    char   *type;
    ARGV   *mx;
    ARGV   *strings;
} STORE_POLICY;

static void store_policy_free(void *ptr)
{
    STORE_POLICY *p = ptr;

    myfree(p->domain);
    myfree(p->type);
    argv_free(p->mx);
    argv_free(p->strings);
    myfree(p);
}

/* only - text is not empty and made of chars only (or empty when allowed) */
static int only(const char *text, const char *chars, int empty_ok)
{
    return ((*text || empty_ok) && text[strspn(text, chars)] == 0);
}

#define HOST_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"
#define ADDR_CHARS	"0123456789abcdefABCDEF.:"
#define WORD_CHARS	"abcdefghijklmnopqrstuvwxyz0123456789-"

/* known_type - one of RFC 8460's policy types */
static int known_type(const char *type)
{
    return (strcmp(type, TLSRPT_TYPE_TLSA) == 0 || strcmp(type, TLSRPT_TYPE_STS) == 0
	    || strcmp(type, TLSRPT_TYPE_NONE) == 0);
}

/*
 * read_policy - a P line (fields after "P"); 0 or -1. What reaches mail
 * headers and DNS queries (the domain) is a plain host name.
 */
static int read_policy(HTABLE *policies, char **f, int n)
{
    STORE_POLICY *p;

    if (n != 6 || strlen(f[1]) != 16 || unescape(f[2]) < 0 || unescape(f[3]) < 0
	|| !only(f[2], HOST_CHARS, 0) || !known_type(f[3]))
	return (-1);
    if (htable_locate(policies, f[1]))
	return (0);				/* every writer repeats it */
    p = mycalloc(1, sizeof(*p));
    p->domain = mystrdup(f[2]);
    p->type = mystrdup(f[3]);
    if ((p->mx = split_list(f[4])) == 0 || (p->strings = split_list(f[5])) == 0) {
	if (p->mx == 0)
	    p->mx = argv_alloc(1);
	if (p->strings == 0)
	    p->strings = argv_alloc(1);
	store_policy_free(p);
	return (-1);
    }
    htable_enter(policies, f[1], p);
    return (0);
}

/* read_session - an S line; 0 or -1 */
static int read_session(HTABLE *policies, char **f, int n, TLSRPT_STORE_FN fn, void *ctx)
{
    STORE_POLICY *p;
    TLSRPT_POLICY pol;
    TLSRPT_RESULT res;

    if (n != 7 || (p = htable_find(policies, f[1])) == 0)
	return (-1);
    for (int i = 2; i < 7; i++)
	if (unescape(f[i]) < 0)
	    return (-1);
    if (!only(f[2], WORD_CHARS, 0) || !only(f[4], ADDR_CHARS, 1)
	|| !only(f[5], HOST_CHARS, 1) || !only(f[6], ADDR_CHARS, 1))
	return (-1);
    for (const unsigned char *cp = (unsigned char *) f[3]; *cp; cp++)
	if (*cp < 0x20 || *cp >= 0x7f)
	    return (-1);
    pol.domain = p->domain;
    pol.type = p->type;
    pol.mx = p->mx;
    pol.strings = p->strings;
    res.result = strcmp(f[2], "-") == 0 ? 0 : f[2];
    res.reason = *f[3] ? f[3] : 0;
    res.sending_ip = *f[4] ? f[4] : 0;
    res.mx_host = *f[5] ? f[5] : 0;
    res.receiving_ip = *f[6] ? f[6] : 0;
    fn(ctx, &pol, &res);
    return (0);
}

int     tlsrpt_store_read(const char *path, TLSRPT_STORE_FN fn, void *ctx)
{
    VSTREAM *in;
    VSTRING *line;
    HTABLE *policies;
    int     status, count = 0, bad = 0;

    if ((in = vstream_open(path, O_RDONLY | O_CLOEXEC, 0)) == 0)
	return (-1);
    if (flock(vstream_fileno(in), LOCK_EX) < 0) {
	int     saved = errno;

	(void) vstream_close(in);
	errno = saved;
	return (-1);
    }
    line = vstring_alloc(200);
    policies = htable_create(16);
    while ((status = vstream_get_line(in, line, TLSRPT_MAX_LINE)) != VSTREAM_EOF) {
	char   *f[8];
	char   *cp = vstring_str(line);
	int     n = 0;

	if (status == VSTREAM_LONG) {
	    /* Skip the rest of an overlong line. */
	    while ((status = vstream_get_line(in, line, TLSRPT_MAX_LINE)) == VSTREAM_LONG)
		 /* void */ ;
	    bad++;
	    continue;
	}
	if (status != VSTREAM_LINE)
	    break;				/* a last line without newline */
	while (n < 8 && (f[n] = strsep(&cp, "\t")) != 0)
	    n++;
	if (n > 0 && strcmp(f[0], "P") == 0) {
	    if (read_policy(policies, f, n) < 0)
		bad++;
	} else if (n > 0 && strcmp(f[0], "S") == 0) {
	    if (read_session(policies, f, n, fn, ctx) < 0)
		bad++;
	    else
		count++;
	} else {
	    bad++;
	}
    }
    if (bad)
	msg_warn("%s: %d malformed TLS-RPT record%s skipped", path, bad, bad > 1 ? "s" : "");
    htable_free(policies, store_policy_free);
    vstring_free(line);
    (void) vstream_close(in);
    return (count);
}
