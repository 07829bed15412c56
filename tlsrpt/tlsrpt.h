/*
 * NAME
 *	tlsrpt.h - the pieces of the tlsrpt(8) service
 * SYNOPSIS
 *	#include "tlsrpt.h"
 *
 *	TLSRPT_DAY *tlsrpt_day_read(const char *path);
 *	void tlsrpt_day_free(TLSRPT_DAY *day);
 *	ARGV *tlsrpt_day_domains(TLSRPT_DAY *day);
 *	TLSRPT_DOMAIN *tlsrpt_day_domain(TLSRPT_DAY *day, const char *name);
 *	void tlsrpt_report_json(VSTRING *out, TLSRPT_DOMAIN *dom,
 *				const TLSRPT_META *meta);
 *
 *	int tlsrpt_policy_lookup(const char *domain, ARGV *rua, VSTRING *why);
 *	int tlsrpt_policy_parse(const char *record, ARGV *rua, VSTRING *why);
 *	int tlsrpt_mail_send(TLSRPT_DOMAIN *dom, const ARGV *rua,
 *			     time_t start, time_t end, VSTRING *queue_id);
 * DESCRIPTION
 *	tlsrpt_report.c: tlsrpt_day_read() adds up one day file of
 *	tlsrpt_store(3) per policy domain, per policy (type, policy
 *	strings, mx-host), and per failure (result type, reason, sending
 *	IP, MX host, receiving IP); NULL with errno when the file cannot be
 *	read. tlsrpt_day_domains() lists the domains, sorted.
 *	tlsrpt_report_json() writes the RFC 8460 report of one domain.
 *
 *	tlsrpt_mail.c: tlsrpt_policy_lookup() reads the TXT record
 *	"_smtp._tls.<domain>": 1 with the mailto: addresses of its rua in
 *	rua, 0 when the domain asks for no (usable) report (why says why),
 *	-1 on a temporary DNS error. tlsrpt_policy_parse() is its parser
 *	of one record. tlsrpt_mail_send() puts one report into the
 *	incoming queue (queue_writer(3)): 0 with its queue ID, or -1
 *	(logged).
 * SEE ALSO
 *	tlsrpt(8), tlsrpt_store(3), RFC 8460
 */
#ifndef TLSRPT_H
#define TLSRPT_H
#include <time.h>
#include "util/argv.h"
#include "util/htable.h"
#include "util/vstring.h"

typedef struct TLSRPT_FAILURE {
    char   *result;
    char   *reason;			/* "" when none */
    char   *sending_ip;
    char   *mx_host;
    char   *receiving_ip;
    long    count;
} TLSRPT_FAILURE;

typedef struct TLSRPT_POLICY_SUM {
    char   *type;
    ARGV   *strings;
    ARGV   *mx;
    long    ok;
    long    failed;
    HTABLE *failures;			/* TLSRPT_FAILURE by detail */
} TLSRPT_POLICY_SUM;

typedef struct TLSRPT_DOMAIN {
    char   *name;
    HTABLE *policies;			/* TLSRPT_POLICY_SUM by policy */
    long    ok;
    long    failed;
} TLSRPT_DOMAIN;

typedef struct TLSRPT_DAY {
    HTABLE *domains;			/* TLSRPT_DOMAIN by name */
} TLSRPT_DAY;

typedef struct TLSRPT_META {
    const char *organization;
    const char *contact;
    const char *report_id;
    time_t  start;
    time_t  end;
} TLSRPT_META;

extern TLSRPT_DAY *tlsrpt_day_read(const char *);
extern void tlsrpt_day_free(TLSRPT_DAY *);
extern ARGV *tlsrpt_day_domains(TLSRPT_DAY *);
extern TLSRPT_DOMAIN *tlsrpt_day_domain(TLSRPT_DAY *, const char *);
extern void tlsrpt_report_json(VSTRING *, TLSRPT_DOMAIN *, const TLSRPT_META *);

extern int tlsrpt_policy_lookup(const char *, ARGV *, VSTRING *);
extern int tlsrpt_policy_parse(const char *, ARGV *, VSTRING *);
extern int tlsrpt_mail_send(TLSRPT_DOMAIN *, const ARGV *, time_t, time_t, VSTRING *);

#endif
