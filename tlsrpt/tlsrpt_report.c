/*
 * NAME
 *	tlsrpt_report - add up a day of TLS sessions, write RFC 8460 JSON
 * SYNOPSIS
 *	#include "tlsrpt.h"
 * DESCRIPTION
 *	See tlsrpt.h. The report of a domain (RFC 8460 section 4.4):
 *
 *	{"organization-name", "date-range": {"start-datetime",
 *	 "end-datetime"}, "contact-info", "report-id", "policies": [
 *	 {"policy": {"policy-type", "policy-string": [...],
 *	  "policy-domain", "mx-host": [...]},
 *	  "summary": {"total-successful-session-count",
 *	  "total-failure-session-count"},
 *	  "failure-details": [{"result-type", "sending-mta-ip",
 *	  "receiving-mx-hostname", "receiving-ip", "failed-session-count",
 *	  "failure-reason-code"}]}]}
 *
 *	Empty lists and unknown details are left out. Policies and
 *	failures are sorted, so the same counts make the same report.
 *	Strings are JSON-escaped; bytes outside ASCII (never in host names,
 *	which are A-labels, nor in valid policies) are written as "?".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "global/tlsrpt_store.h"
#include "tlsrpt.h"

#define STR(s)	((s) ? (s) : "")

/* join - a list as one key part */
static void join(VSTRING *out, const ARGV *list)
{
    for (size_t i = 0; list && i < list->argc; i++) {
	if (i)
	    vstring_addch(out, '\037');
	vstring_strcat(out, list->argv[i]);
    }
}

static ARGV *copy_list(const ARGV *list)
{
    ARGV   *out = argv_alloc(list ? list->argc + 1 : 1);

    for (size_t i = 0; list && i < list->argc; i++)
	argv_add(out, list->argv[i]);
    return (out);
}

/* day_add - one session of the day file */
static void day_add(void *ctx, const TLSRPT_POLICY *pol, const TLSRPT_RESULT *res)
{
    TLSRPT_DAY *day = ctx;
    TLSRPT_DOMAIN *dom;
    TLSRPT_POLICY_SUM *sum;
    TLSRPT_FAILURE *fail;
    VSTRING *key;

    if ((dom = htable_find(day->domains, pol->domain)) == 0) {
	dom = mycalloc(1, sizeof(*dom));
	dom->name = mystrdup(pol->domain);
	dom->policies = htable_create(4);
	htable_enter(day->domains, pol->domain, dom);
    }
    key = vstring_alloc(100);
    vstring_sprintf(key, "%s\t", pol->type);
    join(key, pol->mx);
    vstring_addch(key, '\t');
    join(key, pol->strings);
    if ((sum = htable_find(dom->policies, vstring_str(key))) == 0) {
	sum = mycalloc(1, sizeof(*sum));
	sum->type = mystrdup(pol->type);
	sum->mx = copy_list(pol->mx);
	sum->strings = copy_list(pol->strings);
	sum->failures = htable_create(4);
	htable_enter(dom->policies, vstring_str(key), sum);
    }
    if (res->result == 0) {
	sum->ok++;
	dom->ok++;
    } else {
	sum->failed++;
	dom->failed++;
	vstring_sprintf(key, "%s\t%s\t%s\t%s\t%s", res->result, STR(res->mx_host),
			STR(res->receiving_ip), STR(res->sending_ip), STR(res->reason));
	if ((fail = htable_find(sum->failures, vstring_str(key))) == 0) {
	    fail = mycalloc(1, sizeof(*fail));
	    fail->result = mystrdup(res->result);
	    fail->reason = mystrdup(STR(res->reason));
	    fail->sending_ip = mystrdup(STR(res->sending_ip));
	    fail->mx_host = mystrdup(STR(res->mx_host));
	    fail->receiving_ip = mystrdup(STR(res->receiving_ip));
	    htable_enter(sum->failures, vstring_str(key), fail);
	}
	fail->count++;
    }
    vstring_free(key);
}

TLSRPT_DAY *tlsrpt_day_read(const char *path)
{
    TLSRPT_DAY *day = mycalloc(1, sizeof(*day));

    day->domains = htable_create(16);
    if (tlsrpt_store_read(path, day_add, day) < 0) {
	tlsrpt_day_free(day);
	return (0);
    }
    return (day);
}

static void failure_free(void *ptr)
{
    TLSRPT_FAILURE *f = ptr;

    myfree(f->result);
    myfree(f->reason);
    myfree(f->sending_ip);
    myfree(f->mx_host);
    myfree(f->receiving_ip);
    myfree(f);
}

static void policy_free(void *ptr)
{
    TLSRPT_POLICY_SUM *p = ptr;

    myfree(p->type);
    argv_free(p->strings);
    argv_free(p->mx);
    htable_free(p->failures, failure_free);
    myfree(p);
}

static void domain_free(void *ptr)
{
    TLSRPT_DOMAIN *d = ptr;

    myfree(d->name);
    htable_free(d->policies, policy_free);
    myfree(d);
}

void    tlsrpt_day_free(TLSRPT_DAY *day)
{
    htable_free(day->domains, domain_free);
    myfree(day);
}

static int info_cmp(const void *a, const void *b)
{
    return (strcmp((*(HTABLE_INFO * const *) a)->key, (*(HTABLE_INFO * const *) b)->key));
}

/* sorted - the entries of a table by key; myfree the result */
static HTABLE_INFO **sorted(HTABLE *t)
{
    HTABLE_INFO **list = htable_list(t);
    size_t  n = 0;

    while (list[n])
	n++;
    qsort(list, n, sizeof(*list), info_cmp);
    return (list);
}

ARGV   *tlsrpt_day_domains(TLSRPT_DAY *day)
{
    HTABLE_INFO **list = sorted(day->domains);
    ARGV   *out = argv_alloc(16);

    for (size_t i = 0; list[i]; i++)
	argv_add(out, list[i]->key);
    myfree(list);
    return (out);
}

TLSRPT_DOMAIN *tlsrpt_day_domain(TLSRPT_DAY *day, const char *name)
{
    return (htable_find(day->domains, name));
}

/* json_str - a JSON string */
static void json_str(VSTRING *out, const char *text)
{
    vstring_addch(out, '"');
    for (const unsigned char *cp = (const unsigned char *) STR(text); *cp; cp++) {
	if (*cp == '"' || *cp == '\\') {
	    vstring_addch(out, '\\');
	    vstring_addch(out, *cp);
	} else if (*cp < 0x20 || *cp == 0x7f) {
	    vstring_sprintf_append(out, "\\u%04x", *cp);
	} else if (*cp >= 0x80) {
	    vstring_addch(out, '?');
	} else {
	    vstring_addch(out, *cp);
	}
    }
    vstring_addch(out, '"');
}

/* json_member - "name": "value" with a comma before all but the first */
static void json_member(VSTRING *out, int *first, const char *name, const char *value)
{
    if (!*first)
	vstring_strcat(out, ",");
    *first = 0;
    json_str(out, name);
    vstring_strcat(out, ":");
    json_str(out, value);
}

static void json_list(VSTRING *out, int *first, const char *name, const ARGV *list)
{
    if (list == 0 || list->argc == 0)
	return;
    if (!*first)
	vstring_strcat(out, ",");
    *first = 0;
    json_str(out, name);
    vstring_strcat(out, ":[");
    for (size_t i = 0; i < list->argc; i++) {
	if (i)
	    vstring_strcat(out, ",");
	json_str(out, list->argv[i]);
    }
    vstring_strcat(out, "]");
}

static const char *iso_time(char *buf, size_t len, time_t when)
{
    struct tm tm;

    gmtime_r(&when, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return (buf);
}

/* json_failures - the failure-details of one policy */
static void json_failures(VSTRING *out, TLSRPT_POLICY_SUM *sum)
{
    HTABLE_INFO **list;

    if (sum->failures->used == 0)
	return;
    list = sorted(sum->failures);
    vstring_strcat(out, ",\"failure-details\":[");
    for (size_t i = 0; list[i]; i++) {
	TLSRPT_FAILURE *f = list[i]->value;
	int     first = 1;

	vstring_strcat(out, i ? ",{" : "{");
	json_member(out, &first, "result-type", f->result);
	if (*f->sending_ip)
	    json_member(out, &first, "sending-mta-ip", f->sending_ip);
	if (*f->mx_host)
	    json_member(out, &first, "receiving-mx-hostname", f->mx_host);
	if (*f->receiving_ip)
	    json_member(out, &first, "receiving-ip", f->receiving_ip);
	vstring_sprintf_append(out, ",\"failed-session-count\":%ld", f->count);
	if (*f->reason)
	    json_member(out, &first, "failure-reason-code", f->reason);
	vstring_strcat(out, "}");
    }
    vstring_strcat(out, "]");
    myfree(list);
}

void    tlsrpt_report_json(VSTRING *out, TLSRPT_DOMAIN *dom, const TLSRPT_META *meta)
{
    HTABLE_INFO **list = sorted(dom->policies);
    char    start[32], end[32];
    int     first = 1;

    vstring_strcpy(out, "{");
    json_member(out, &first, "organization-name", meta->organization);
    vstring_strcat(out, ",\"date-range\":{");
    first = 1;
    json_member(out, &first, "start-datetime", iso_time(start, sizeof(start), meta->start));
    json_member(out, &first, "end-datetime", iso_time(end, sizeof(end), meta->end));
    vstring_strcat(out, "}");
    json_member(out, &first, "contact-info", meta->contact);
    json_member(out, &first, "report-id", meta->report_id);
    vstring_strcat(out, ",\"policies\":[");
    for (size_t i = 0; list[i]; i++) {
	TLSRPT_POLICY_SUM *sum = list[i]->value;

	vstring_strcat(out, i ? ",{\"policy\":{" : "{\"policy\":{");
	first = 1;
	json_member(out, &first, "policy-type", sum->type);
	json_list(out, &first, "policy-string", sum->strings);
	json_member(out, &first, "policy-domain", dom->name);
	json_list(out, &first, "mx-host", sum->mx);
	vstring_sprintf_append(out, "},\"summary\":{\"total-successful-session-count\":%ld,"
			       "\"total-failure-session-count\":%ld}", sum->ok, sum->failed);
	json_failures(out, sum);
	vstring_strcat(out, "}");
    }
    vstring_strcat(out, "]}\n");
    myfree(list);
}
