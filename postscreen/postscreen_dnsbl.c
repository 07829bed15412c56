/*
 * NAME
 *	postscreen_dnsbl - the DNSBL test: lookups and score
 * SYNOPSIS
 *	#include "postscreen.h"
 *
 *	void psc_dnsbl_init(void);
 *	int psc_dnsbl_enabled(void);
 *	void psc_dnsbl_start(PSC_STATE *state);
 *	void psc_dnsbl_cancel(PSC_STATE *state);
 *	void psc_dnsbl_drain(void);
 *	void psc_dnsbl_watch(void);
 * DESCRIPTION
 *	postscreen_dnsbl_sites lists "domain[=filter][*weight]" items
 *	(weight 1 by default, negative for allowlists). The client
 *	address (reversed; IPv6 by nibbles) is looked up under each
 *	domain once; each item whose domain answered with an address
 *	that its filter matches (any address without a filter) adds its
 *	weight to the client's score. A score of at least
 *	postscreen_dnsbl_threshold fails the test; the reply names the
 *	listing site with the largest weight, or what
 *	postscreen_dnsbl_reply_map says for it. A score at or below a
 *	negative postscreen_dnsbl_allowlist_threshold passes the client
 *	at once, without waiting for the greet test.
 *
 *	psc_dnsbl_start() forks a child that does the lookups with lib/dns
 *	(postscreen needs no dnsblog process) and writes one line per
 *	domain, "domain TAB ttl TAB address...", to a pipe; the event loop
 *	reads it. After postscreen_dnsbl_timeout the child is killed and
 *	the answers so far count. The smallest TTL of the answers (the
 *	negative caching time for a name that is not listed) is kept for
 *	the cache, within postscreen_dnsbl_min_ttl and _max_ttl.
 *
 *	psc_dnsbl_drain() is for the process that finishes the clients of
 *	a postscreen that restarts (mail_server(3)): the lookup children
 *	that are running belong to its parent, which has gone; they are
 *	left alone (writing to the closed pipe ends them).
 *
 *	Like Postfix's dnsblog, each listing is logged: "addr A listed by
 *	domain D as R".
 * DIAGNOSTICS
 *	Fatal: a malformed item. A lookup error counts as "not listed".
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/events.h"
#include "util/vstring.h"
#include "util/stringops.h"
#include "dict/maps.h"
#include "dns/dns.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "postscreen.h"

typedef struct PSC_DNSBL_SITE {
    char   *domain;
    char   *filter;			/* NULL: any answer */
    int     weight;
} PSC_DNSBL_SITE;

static PSC_DNSBL_SITE *sites;
static size_t site_count;
static ARGV *domains;			/* distinct domains, queried once */
static MAPS *reply_map;
static int threshold;
static int allow_threshold;

void    psc_dnsbl_init(void)
{
    ARGV   *items = argv_split_list(mail_conf_str(VAR_POSTSCREEN_DNSBL_SITES));
    const char *map = mail_conf_str(VAR_POSTSCREEN_DNSBL_REPLY_MAP);
    static const unsigned char probe[4] = {127, 0, 0, 2};

    threshold = (int) mail_conf_int(VAR_POSTSCREEN_DNSBL_THRESHOLD);
    allow_threshold = (int) mail_conf_int(VAR_POSTSCREEN_DNSBL_ALLOWLIST_THRESHOLD);
    sites = mycalloc(items->argc + 1, sizeof(*sites));
    domains = argv_alloc(4);
    for (size_t i = 0; i < items->argc; i++) {
	char   *copy = mystrdup(items->argv[i]);
	char   *star = strrchr(copy, '*');
	char   *eq;
	int     known = 0;

	sites[site_count].weight = 1;
	if (star) {
	    char   *end;

	    *star++ = 0;
	    sites[site_count].weight = (int) strtol(star, &end, 10);
	    if (*star == 0 || *end != 0)
		msg_fatal("%s: bad weight in \"%s\"", VAR_POSTSCREEN_DNSBL_SITES, items->argv[i]);
	}
	if ((eq = strchr(copy, '=')) != 0) {
	    *eq++ = 0;
	    if (dns_rbl_filter_match(eq, probe) < 0)
		msg_fatal("%s: bad filter in \"%s\"", VAR_POSTSCREEN_DNSBL_SITES, items->argv[i]);
	    sites[site_count].filter = mystrdup(eq);
	}
	if (*copy == 0)
	    msg_fatal("%s: no domain in \"%s\"", VAR_POSTSCREEN_DNSBL_SITES, items->argv[i]);
	sites[site_count].domain = mystrdup(lowercase(copy));
	for (size_t j = 0; j < domains->argc; j++)
	    known |= strcmp(domains->argv[j], copy) == 0;
	if (!known)
	    argv_add(domains, copy);
	site_count++;
	myfree(copy);
    }
    argv_free(items);
    if (*map)
	reply_map = maps_create(VAR_POSTSCREEN_DNSBL_REPLY_MAP, map, DICT_FLAG_DEFAULT);
    dns_set_resolv_conf(mail_conf_str(VAR_RESOLV_CONF));
}

/* psc_dnsbl_watch - after the chroot, as psc_access_watch() */
void    psc_dnsbl_watch(void)
{
    if (reply_map && !maps_changed(reply_map))
	mail_server_watch((int (*) (void *)) maps_changed, reply_map);
}

int     psc_dnsbl_enabled(void)
{
    return (site_count > 0);
}

/* psc_dnsbl_reverse - the DNS list query prefix of an address */
static int psc_dnsbl_reverse(const char *addr, VSTRING *out)
{
    unsigned char a[16];

    vstring_reset(out);
    if (inet_pton(AF_INET, addr, a) == 1) {
	vstring_sprintf(out, "%u.%u.%u.%u", a[3], a[2], a[1], a[0]);
	return (0);
    }
    if (inet_pton(AF_INET6, addr, a) == 1) {
	static const char hex[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--) {
	    vstring_addch(out, hex[a[i] & 15]);
	    vstring_addch(out, '.');
	    vstring_addch(out, hex[a[i] >> 4]);
	    if (i > 0)
		vstring_addch(out, '.');
	}
	return (0);
    }
    return (-1);
}

/* psc_dnsbl_child - in the child: look up, write the answers, exit */
static void psc_dnsbl_child(const char *addr, int out)
{
    VSTRING *prefix = vstring_alloc(80);
    VSTRING *name = vstring_alloc(200);
    VSTRING *line = vstring_alloc(200);
    VSTRING *why = vstring_alloc(100);
    unsigned lo;
    unsigned hi;

    /* Keep only the pipe and the log: no client connection stays open here. */
    lo = out < MASTER_LOG_FD ? out : MASTER_LOG_FD;
    hi = out < MASTER_LOG_FD ? MASTER_LOG_FD : out;
    if (lo > 3)
	(void) close_range(3, lo - 1, 0);
    if (hi > lo + 1)
	(void) close_range(lo + 1, hi - 1, 0);
    (void) close_range(hi + 1, ~0U, 0);
    if (psc_dnsbl_reverse(addr, prefix) < 0)
	_exit(0);
    for (size_t i = 0; i < domains->argc; i++) {
	ARGV   *addrs = argv_alloc(4);
	unsigned ttl = 0;

	vstring_sprintf(name, "%s.%s", vstring_str(prefix), domains->argv[i]);
	(void) dns_lookup_rbl(vstring_str(name), addrs, &ttl, why);
	vstring_sprintf(line, "%s\t%u\t", domains->argv[i], ttl);
	for (size_t j = 0; j < addrs->argc; j++)
	    vstring_sprintf_append(line, "%s%s", j ? " " : "", addrs->argv[j]);
	vstring_addch(line, '\n');
	if (write(out, vstring_str(line), vstring_len(line)) < 0)
	    _exit(1);
	argv_free(addrs);
    }
    _exit(0);
}

/* psc_dnsbl_score - add up what the answers say */
static void psc_dnsbl_score(PSC_STATE *state)
{
    char   *text = mystrdup(vstring_str(state->dnsbl_buf));
    char   *cp = text;
    char   *line;
    int     best_weight = 0;
    const char *best = 0;
    int     have_ttl = 0;

    state->dnsbl_score = 0;
    while ((line = mystrtok(&cp, "\n")) != 0) {
	char   *domain = line;
	char   *ttl_text = split_at(domain, '\t');
	char   *answers = ttl_text ? split_at(ttl_text, '\t') : 0;
	ARGV   *addrs;
	unsigned ttl;

	if (answers == 0)
	    continue;
	ttl = (unsigned) strtoul(ttl_text, 0, 10);
	if (!have_ttl || (int) ttl < state->dnsbl_ttl)
	    state->dnsbl_ttl = (int) ttl;
	have_ttl = 1;
	if (*answers == 0)
	    continue;
	msg_info("addr %s listed by domain %s as %s", state->addr, domain, answers);
	addrs = argv_split(answers, " ");
	for (size_t i = 0; i < site_count; i++) {
	    int     hit = 0;

	    if (strcmp(sites[i].domain, domain) != 0)
		continue;
	    for (size_t j = 0; j < addrs->argc && !hit; j++) {
		unsigned char a[4];

		if (inet_pton(AF_INET, addrs->argv[j], a) != 1)
		    continue;
		hit = sites[i].filter == 0 || dns_rbl_filter_match(sites[i].filter, a) == 1;
	    }
	    if (hit) {
		state->dnsbl_score += sites[i].weight;
		if (best == 0 || sites[i].weight > best_weight) {
		    best = sites[i].domain;
		    best_weight = sites[i].weight;
		}
	    }
	}
	argv_free(addrs);
    }
    if (best) {
	const char *reply = reply_map ? maps_find(reply_map, best, 0) : 0;

	state->dnsbl_name = mystrdup(reply ? reply : best);
    }
    myfree(text);
}

static void psc_dnsbl_timeout(int, void *);

/*
 * psc_dnsbl_reap - end the child. It stays a zombie until waited for,
 * so its pid cannot belong to another process when it is killed.
 */
static int psc_dnsbl_foreign;		/* lookup children are not ours */

void    psc_dnsbl_drain(void)
{
    psc_dnsbl_foreign = 1;
}

static void psc_dnsbl_reap(PSC_STATE *state)
{
    /* After a drain fork they belong to init: leave them (EPIPE ends them). */
    if (psc_dnsbl_foreign)
	state->dnsbl_pid = 0;
    if (state->dnsbl_pid > 0) {
	(void) kill(state->dnsbl_pid, SIGKILL);
	while (waitpid(state->dnsbl_pid, 0, 0) < 0 && errno == EINTR)
	     /* void */ ;
	state->dnsbl_pid = 0;
    }
}

/* psc_dnsbl_finish - the answers are in (or time is up) */
static void psc_dnsbl_finish(PSC_STATE *state)
{
    event_cancel_timer(psc_dnsbl_timeout, state);
    if (state->dnsbl_fd >= 0) {
	event_disable_readwrite(state->dnsbl_fd);
	close(state->dnsbl_fd);
	state->dnsbl_fd = -1;
    }
    psc_dnsbl_reap(state);
    psc_dnsbl_score(state);
    state->flags |= PSC_FLAG_DNSBL_DONE;
    if (state->dnsbl_name && state->dnsbl_score >= threshold)
	state->flags |= PSC_FLAG_DNSBL_LISTED;
    else if (allow_threshold < 0 && state->dnsbl_score <= allow_threshold
	     && (state->flags & (PSC_FLAG_FAIL | PSC_FLAG_FAIL_IGNORED | PSC_FLAG_PREGREET)) == 0) {
	/* Allowlisted: the greet test need not finish. */
	state->flags |= PSC_FLAG_DNSBL_ALLOW | PSC_FLAG_GREET_DONE;
	psc_early_cancel(state);
    }
    if (state->flags & PSC_FLAG_GREET_DONE)
	psc_tests_done(state);
}

static void psc_dnsbl_read(int event, void *context)
{
    PSC_STATE *state = context;
    char    buf[1024];
    ssize_t n;

    (void) event;
    n = read(state->dnsbl_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
	return;
    if (n > 0 && vstring_len(state->dnsbl_buf) < 65536) {
	vstring_memcat(state->dnsbl_buf, buf, n);
	return;
    }
    psc_dnsbl_finish(state);
}

static void psc_dnsbl_timeout(int event, void *context)
{
    (void) event;
    psc_dnsbl_finish((PSC_STATE *) context);
}

void    psc_dnsbl_start(PSC_STATE *state)
{
    int     fds[2];
    pid_t   pid;

    state->flags |= PSC_FLAG_DNSBL_TEST;
    state->dnsbl_buf = vstring_alloc(200);
    if (pipe2(fds, O_CLOEXEC) < 0) {
	msg_warn("pipe: %s", strerror(errno));
	state->flags |= PSC_FLAG_DNSBL_DONE;
	return;
    }
    if ((pid = fork()) < 0) {
	msg_warn("fork: %s", strerror(errno));
	close(fds[0]);
	close(fds[1]);
	state->flags |= PSC_FLAG_DNSBL_DONE;
	return;
    }
    if (pid == 0) {
	close(fds[0]);
	psc_dnsbl_child(state->addr, fds[1]);
    }
    close(fds[1]);
    state->dnsbl_pid = pid;
    state->dnsbl_fd = fds[0];
    event_enable_read(state->dnsbl_fd, psc_dnsbl_read, state);
    event_request_timer(psc_dnsbl_timeout, state,
			1000L * mail_conf_time(VAR_POSTSCREEN_DNSBL_TIMEOUT));
}

void    psc_dnsbl_cancel(PSC_STATE *state)
{
    event_cancel_timer(psc_dnsbl_timeout, state);
    if (state->dnsbl_fd >= 0) {
	event_disable_readwrite(state->dnsbl_fd);
	close(state->dnsbl_fd);
	state->dnsbl_fd = -1;
    }
    psc_dnsbl_reap(state);
}
