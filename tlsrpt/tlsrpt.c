/*
 * NAME
 *	tlsrpt - mail the daily TLS reports (RFC 8460)
 * SYNOPSIS
 *	tlsrpt [generic daemon options]
 *	(master.cf: tlsrpt unix - - n 3600 1 tlsrpt)
 * DESCRIPTION
 *	The smtp processes count their TLS sessions in one file per UTC day
 *	in tlsrpt_directory (tlsrpt_store(3), smtp_client_tlsrpt(3)). At
 *	master's wakeup this service reports every day that is over (five
 *	minutes after its end, so that no writer is still at it): for each
 *	domain of the day, it looks up the domain's TLS-RPT policy (TXT
 *	"_smtp._tls.<domain>") and queues one report to its mailto:
 *	addresses (tlsrpt_mail.c), then wakes qmgr. A domain without a
 *	policy gets nothing. The domains done are listed in the day file's
 *	".sent" file, so a DNS error or a queue that cannot be written only
 *	delays the others until the next wakeup; when all are done (or two
 *	days after the day ended) both files are removed.
 *
 *	It also serves one request on private/tlsrpt:
 *
 *	send date=today|YYYY-MM-DD
 *		report that day now: "today" covers the day so far and
 *		leaves its file alone (the daily report follows); a day
 *		that is over is reported as at the wakeup, its file
 *		removed. The reply is status= 0 (done) or 1 (something
 *		was left for later, or the file could not be read), 3 (bad
 *		request), and count= the number of reports queued.
 *
 *	Runs as mail_owner, one process (maxproc 1), not chrooted.
 * DIAGNOSTICS
 *	Each report is logged with its queue ID: "QUEUEID: TLS report for
 *	DOMAIN, DAY: N successful, N failed sessions, to=<ADDRESS>".
 *	Problems with files, DNS and the queue are warnings.
 * SEE ALSO
 *	tlsrpt(8), tlsrpt_store(3), smtp(8), RFC 8460
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/htable.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/attr.h"
#include "dns/dns.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "global/mail_trigger.h"
#include "global/qmgr_trigger.h"
#include "global/tlsrpt_store.h"
#include "tlsrpt.h"

#define TLSRPT_GRACE		300	/* seconds after the day's end */
#define TLSRPT_GIVE_UP		(2 * 86400)	/* then unreported domains are dropped */

#define TLSRPT_STAT_OK		0
#define TLSRPT_STAT_LATER	1
#define TLSRPT_STAT_BAD		3

static const char *tlsrpt_dir;

/* sent_read - the domains of a day already reported */
static HTABLE *sent_read(const char *path)
{
    HTABLE *sent = htable_create(16);
    VSTREAM *in;
    VSTRING *line;

    if ((in = vstream_open(path, O_RDONLY | O_CLOEXEC, 0)) == 0)
	return (sent);
    line = vstring_alloc(100);
    while (vstream_get_line(in, line, 1024) == VSTREAM_LINE)
	if (!htable_locate(sent, vstring_str(line)))
	    htable_enter(sent, vstring_str(line), 0);
    vstring_free(line);
    (void) vstream_close(in);
    return (sent);
}

/* sent_add - one more domain done */
static void sent_add(const char *path, const char *domain)
{
    int     fd;
    VSTRING *line = vstring_alloc(100);

    vstring_sprintf(line, "%s\n", domain);
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0
	|| write(fd, vstring_str(line), vstring_len(line)) != (ssize_t) vstring_len(line))
	msg_warn("cannot update %s: %m", path);
    if (fd >= 0)
	(void) close(fd);
    vstring_free(line);
}

/*
 * report_day - the reports of one day; partial: the day is not over
 * (report what is there, keep the file). TLSRPT_STAT_*; count += reports.
 */
static int report_day(long day, int partial, int *count)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *sent_path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *qid = vstring_alloc(20);
    TLSRPT_DAY *sums;
    HTABLE *sent = 0;
    ARGV   *domains;
    time_t  start = (time_t) day * 86400;
    time_t  end = partial ? time((time_t *) 0) : start + 86399;
    int     left = 0, queued = 0;
    char    date[16];

    tlsrpt_store_path(path, tlsrpt_dir, day);
    snprintf(date, sizeof(date), "%s", strrchr(vstring_str(path), '/') + 1);
    vstring_sprintf(sent_path, "%s.sent", vstring_str(path));
    if ((sums = tlsrpt_day_read(vstring_str(path))) == 0) {
	int     status = TLSRPT_STAT_OK;

	if (errno != ENOENT) {
	    msg_warn("cannot read %s: %m", vstring_str(path));
	    status = TLSRPT_STAT_LATER;
	} else if (!partial) {
	    (void) unlink(vstring_str(sent_path));
	}
	vstring_free(path);
	vstring_free(sent_path);
	vstring_free(why);
	vstring_free(qid);
	return (status);
    }
    if (!partial)
	sent = sent_read(vstring_str(sent_path));
    domains = tlsrpt_day_domains(sums);
    for (size_t i = 0; i < domains->argc; i++) {
	const char *name = domains->argv[i];
	TLSRPT_DOMAIN *dom = tlsrpt_day_domain(sums, name);
	ARGV   *rua;
	int     st;

	if (sent && htable_locate(sent, name))
	    continue;
	rua = argv_alloc(2);
	vstring_reset(why);
	if ((st = tlsrpt_policy_lookup(name, rua, why)) < 0) {
	    msg_warn("TLS-RPT policy lookup for %s: %s", name, vstring_str(why));
	    left++;
	} else if (st == 0) {
	    if (msg_verbose)
		msg_info("no TLS report for %s: %s", name, vstring_str(why));
	    if (!partial)
		sent_add(vstring_str(sent_path), name);
	} else if (tlsrpt_mail_send(dom, rua, start, end, qid) < 0) {
	    left++;
	} else {
	    VSTRING *to = vstring_alloc(100);

	    for (size_t j = 0; j < rua->argc; j++)
		vstring_sprintf_append(to, "%s<%s>", j ? "," : "", rua->argv[j]);
	    msg_info("%s: TLS report for %s, %s: %ld successful, %ld failed sessions, to=%s",
		     vstring_str(qid), name, date, dom->ok, dom->failed, vstring_str(to));
	    vstring_free(to);
	    queued++;
	    if (!partial)
		sent_add(vstring_str(sent_path), name);
	}
	argv_free(rua);
    }
    if (queued > 0 && mail_trigger("public", "qmgr", "I", 1) < 0)
	msg_warn("cannot wake qmgr: %m");
    *count += queued;
    if (!partial && (left == 0 || time((time_t *) 0) > start + 86400 + TLSRPT_GIVE_UP)) {
	if (left > 0)
	    msg_warn("%s: giving up on %d TLS report%s", vstring_str(path), left,
		     left > 1 ? "s" : "");
	if (unlink(vstring_str(path)) < 0 && errno != ENOENT)
	    msg_warn("cannot remove %s: %m", vstring_str(path));
	(void) unlink(vstring_str(sent_path));
	left = 0;
    }
    argv_free(domains);
    if (sent)
	htable_free(sent, 0);
    tlsrpt_day_free(sums);
    vstring_free(path);
    vstring_free(sent_path);
    vstring_free(why);
    vstring_free(qid);
    return (left ? TLSRPT_STAT_LATER : TLSRPT_STAT_OK);
}

/* report_due - master's wakeup: every day that is over */
static void report_due(void)
{
    DIR    *dir;
    struct dirent *ent;
    time_t  now = time((time_t *) 0);
    ARGV   *days;
    int     count = 0;

    if ((dir = opendir(tlsrpt_dir)) == 0) {
	if (errno != ENOENT)
	    msg_warn("cannot open %s: %m", tlsrpt_dir);
	return;
    }
    days = argv_alloc(4);
    while ((ent = readdir(dir)) != 0) {
	long    day;

	if (tlsrpt_store_name_day(ent->d_name, &day)
	    && now >= (time_t) (day + 1) * 86400 + TLSRPT_GRACE)
	    argv_add(days, ent->d_name);
    }
    closedir(dir);
    for (size_t i = 0; i < days->argc; i++) {
	long    day;

	(void) tlsrpt_store_name_day(days->argv[i], &day);
	(void) report_day(day, 0, &count);
    }
    argv_free(days);
}

static void tlsrpt_service(VSTREAM *client, const char *service, char **argv)
{
    ATTR   *attr = attr_alloc();
    const char *request, *date;
    long    day;
    int     status, count = 0;

    (void) service;
    (void) argv;
    vstream_set_timeout(client, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    switch (attr_recv(client, attr, 1024, 10)) {
    case 0:
	report_due();
	attr_free(attr);
	return;
    case 1:
	break;
    default:
	/* master's wakeup is a trigger byte, not a request. */
	if (attr_count(attr) == 0)
	    report_due();
	else
	    msg_warn("malformed tlsrpt service request");
	attr_free(attr);
	return;
    }
    request = attr_get(attr, ATTR_NAME_REQUEST);
    date = attr_get(attr, "date");
    if (request == 0 || strcmp(request, "send") != 0 || date == 0) {
	msg_warn("bad tlsrpt service request: %s", request ? request : "(none)");
	status = TLSRPT_STAT_BAD;
    } else if (strcmp(date, "today") == 0) {
	status = report_day(tlsrpt_store_day(time((time_t *) 0)), 1, &count);
    } else if (tlsrpt_store_name_day(date, &day)) {
	status = report_day(day, day >= tlsrpt_store_day(time((time_t *) 0)), &count);
    } else {
	msg_warn("bad tlsrpt service request: bad date: %.20s", date);
	status = TLSRPT_STAT_BAD;
    }
    attr_reset(attr);
    attr_addf(attr, ATTR_NAME_STATUS, "%d", status);
    attr_addf(attr, "count", "%d", count);
    (void) attr_send(client, attr);
    attr_free(attr);
}

static void tlsrpt_post_init(const char *service, char **argv)
{
    (void) service;
    (void) argv;
    tlsrpt_dir = mystrdup(mail_conf_str(VAR_TLSRPT_DIRECTORY));
    dns_set_resolv_conf(mail_conf_str(VAR_RESOLV_CONF));
    if (mkdir(tlsrpt_dir, 0700) < 0 && errno != EEXIST)
	msg_warn("cannot create %s: %m", tlsrpt_dir);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
	.post_init = tlsrpt_post_init,
    };

    msg_init("postfix", "tlsrpt");
    single_server_main(argc, argv, tlsrpt_service, &opts);
}
