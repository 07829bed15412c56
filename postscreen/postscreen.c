/*
 * NAME
 *	postscreen - screen SMTP clients before smtpd sees them
 * SYNOPSIS
 *	postscreen [generic daemon options]	(started by master, inet)
 * DESCRIPTION
 *	One long-lived process per inet listener (master.cf process limit
 *	1) serves every client in one event loop (the event skeleton of
 *	mail_server(3)). For each connection, in order:
 *
 *	1. "CONNECT from [addr]:port to [addr]:port".
 *	2. postscreen_access_list: permit ("ALLOWLISTED", straight to
 *	   smtpd), reject ("DENYLISTED", then postscreen_denylist_action:
 *	   drop says "521 5.3.2 Service currently unavailable" and hangs
 *	   up, enforce goes on with the tests and rejects at RCPT time,
 *	   ignore goes on as if nothing happened).
 *	3. postscreen_cache_map: a client that passed every test, whose
 *	   results have not expired, goes to smtpd at once ("PASS OLD");
 *	   so does one whose DNSBL result alone expired, as in Postfix,
 *	   while its DNSBL lookups run on for the cache (not when a deep
 *	   test is due). Otherwise only
 *	   the tests whose results expired are run, and a client that
 *	   passes them is logged "PASS OLD" when it had an entry, "PASS
 *	   NEW" when it had none.
 *	   Other clients are turned away with 421 beyond
 *	   postscreen_client_connection_count_limit connections from their
 *	   address, or when postscreen_pre_queue_limit clients are being
 *	   screened. A client connected to an address that is not in
 *	   postscreen_allowlist_interfaces is logged "ALLOWLIST VETO": it
 *	   is tested, but cannot pass here (the dummy engine tells it "450
 *	   4.3.2 Service currently unavailable").
 *	4. The tests, at the same time: the greet test (the first line of
 *	   a multi-line "220-" banner, then postscreen_greet_wait seconds
 *	   in which a good client says nothing: "PREGREET"), and the
 *	   DNSBL lookups of postscreen_dnsbl_sites ("DNSBL rank").
 *	5. A client that passed all tests is remembered and handed to smtpd
 *	   ("PASS NEW"); smtpd then sends its own "220 " line, which ends
 *	   the multi-line banner. One that still has to pass the deep
 *	   protocol tests (postscreen_*_enable, not passed or expired in
 *	   the cache) talks to the SMTP engine instead (postscreen_smtpd.c),
 *	   which tells it 450 at RCPT; psc_deep_done() remembers a pass at
 *	   the end of that session, so that its retry goes to smtpd. A
 *	   client whose greet result holds skips the greet test. A client that failed with "enforce" talks
 *	   to the dummy SMTP engine (postscreen_smtpd.c), which rejects
 *	   every recipient; with "drop" it gets a 521 reply and is
 *	   disconnected; with "ignore" it goes to smtpd without being
 *	   remembered.
 *
 *	A reload, or a table of postscreen_access_list or
 *	postscreen_dnsbl_reply_map that changed (when the chroot does not
 *	hide it), ends the process: a copy
 *	of it finishes with the clients it has, and master starts a new
 *	one for the next client (mail_server(3)).
 *
 *	Privileges: the cache is opened as root in pre_init (it lives in
 *	data_directory, outside the chroot); then the skeleton chroots and
 *	runs as mail_owner. The DNS lookups of a client run in a child
 *	process (lib/dns is synchronous), which writes the answers to a
 *	pipe that the event loop reads.
 * SEE ALSO
 *	postscreen(8), postscreen.h for the files of this program
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/events.h"
#include "util/htable.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "postscreen.h"

int     psc_greet_action;
int     psc_dnsbl_action;
int     psc_denylist_action;
static int psc_clients;			/* connections being served */
static int psc_refreshes;		/* DNSBL refreshes without a client */
static HTABLE *psc_client_count;		/* connections per client address */

long long psc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* psc_sockaddr - printable address and port; IPv4-mapped IPv6 as IPv4 */
static void psc_sockaddr(struct sockaddr_storage *ss, char **addr, char **port)
{
    char    buf[INET6_ADDRSTRLEN];
    char    pbuf[16];

    buf[0] = 0;
    pbuf[0] = 0;
    if (ss->ss_family == AF_INET) {
	struct sockaddr_in *sin = (struct sockaddr_in *) ss;

	inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
	snprintf(pbuf, sizeof(pbuf), "%u", ntohs(sin->sin_port));
    } else if (ss->ss_family == AF_INET6) {
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;

	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
	    inet_ntop(AF_INET, sin6->sin6_addr.s6_addr + 12, buf, sizeof(buf));
	else
	    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
	snprintf(pbuf, sizeof(pbuf), "%u", ntohs(sin6->sin6_port));
    }
    *addr = mystrdup(buf[0] ? buf : "unknown");
    *port = mystrdup(pbuf[0] ? pbuf : "unknown");
}

/*
 * psc_state_count - the counts of psc_over_limits(): connections being
 * screened, per client address; and the refreshes, which psc_active()
 * counts too
 */
static void psc_state_count(PSC_STATE *state, int delta)
{
    HTABLE_INFO *ht;

    if (state->flags & PSC_FLAG_REFRESH) {
	psc_refreshes += delta;
	return;
    }
    psc_clients += delta;
    if ((ht = htable_locate(psc_client_count, state->addr)) == 0)
	ht = htable_enter(psc_client_count, state->addr, (void *) 0L);
    ht->value = (void *) ((long) ht->value + delta);
    if ((long) ht->value <= 0)
	htable_delete(psc_client_count, state->addr, 0);
}

static PSC_STATE *psc_state_create(int fd)
{
    PSC_STATE *state = mycalloc(1, sizeof(*state));
    struct sockaddr_storage ss;
    socklen_t len;
    VSTRING *buf = vstring_alloc(64);

    state->fd = fd;
    state->dnsbl_fd = -1;
    state->start_ms = psc_now_ms();
    memset(&ss, 0, sizeof(ss));
    len = sizeof(ss);
    (void) getpeername(fd, (struct sockaddr *) &ss, &len);
    psc_sockaddr(&ss, &state->addr, &state->port);
    memset(&ss, 0, sizeof(ss));
    len = sizeof(ss);
    (void) getsockname(fd, (struct sockaddr *) &ss, &len);
    psc_sockaddr(&ss, &state->saddr, &state->sport);
    vstring_sprintf(buf, "[%s]:%s", state->addr, state->port);
    state->endpoint = vstring_export(buf);
    psc_state_count(state, 1);
    return (state);
}

void    psc_state_free(PSC_STATE *state)
{
    psc_early_cancel(state);
    psc_dnsbl_cancel(state);
    if (state->fd >= 0) {
	event_disable_readwrite(state->fd);
	close(state->fd);
    }
    psc_state_count(state, -1);
    myfree(state->addr);
    myfree(state->port);
    myfree(state->saddr);
    myfree(state->sport);
    myfree(state->endpoint);
    if (state->final_reply)
	myfree(state->final_reply);
    if (state->dnsbl_buf)
	vstring_free(state->dnsbl_buf);
    if (state->dnsbl_name)
	myfree(state->dnsbl_name);
    if (state->in)
	vstring_free(state->in);
    if (state->helo)
	myfree(state->helo);
    if (state->sender)
	myfree(state->sender);
    if (state->last_cmd)
	myfree(state->last_cmd);
    myfree(state);
}

/* psc_disconnect - log and close */
void    psc_disconnect(PSC_STATE *state)
{
    msg_info("DISCONNECT %s", state->endpoint);
    psc_state_free(state);
}

/* psc_drop - a reply, then hang up */
static void psc_drop(PSC_STATE *state, const char *reply)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s\r\n", reply);
    (void) psc_write(state, vstring_str(buf));
    vstring_free(buf);
    psc_disconnect(state);
}

/* psc_dnsbl_ttl - how long this DNSBL result holds */
static long psc_dnsbl_ttl(PSC_STATE *state)
{
    long    ttl = state->dnsbl_ttl;

    if (ttl < mail_conf_time(VAR_POSTSCREEN_DNSBL_MIN_TTL))
	ttl = mail_conf_time(VAR_POSTSCREEN_DNSBL_MIN_TTL);
    if (ttl > mail_conf_time(VAR_POSTSCREEN_DNSBL_MAX_TTL))
	ttl = mail_conf_time(VAR_POSTSCREEN_DNSBL_MAX_TTL);
    return (ttl);
}

/*
 * psc_refresh_done - the DNSBL answers for a client that passed as PASS
 * OLD while its DNSBL result had expired: a clean result holds again,
 * a listing makes the client take the DNSBL test at its next visit.
 */
static void psc_refresh_done(PSC_STATE *state, time_t now)
{
    if (state->flags & PSC_FLAG_DNSBL_LISTED)
	psc_cache_update(state->addr, state->greet_expire, 0, state->deep_expire);
    else
	psc_cache_update(state->addr, state->greet_expire, now + psc_dnsbl_ttl(state),
			 state->deep_expire);
    psc_state_free(state);
}

/*
 * psc_refresh_start - PASS OLD for a client whose greet result holds and
 * whose DNSBL result expired, as Postfix does; the lookups run on
 * without the client, for the cache.
 */
static void psc_refresh_start(const char *addr, time_t greet_expire, const time_t *deep)
{
    PSC_STATE *state = mycalloc(1, sizeof(*state));

    state->fd = -1;
    state->dnsbl_fd = -1;
    state->addr = mystrdup(addr);
    state->port = mystrdup("");
    state->saddr = mystrdup("");
    state->sport = mystrdup("");
    state->endpoint = mystrdup("");
    state->greet_expire = greet_expire;
    memcpy(state->deep_expire, deep, sizeof(state->deep_expire));
    state->flags = PSC_FLAG_REFRESH | PSC_FLAG_GREET_DONE;
    psc_state_count(state, 1);
    psc_dnsbl_start(state);
    if (state->flags & PSC_FLAG_DNSBL_DONE)	/* could not start */
	psc_state_free(state);
}

/* psc_pass_times - the greet and DNSBL expiry times of a client that passed */
static void psc_pass_times(PSC_STATE *state, time_t now, time_t *greet, time_t *dnsbl)
{
    if (state->flags & PSC_FLAG_DNSBL_TEST)
	*dnsbl = now + psc_dnsbl_ttl(state);
    else
	*dnsbl = state->dnsbl_expire ? state->dnsbl_expire : PSC_TIME_DISABLED;
    /* An allowlisting DNSBL score stands in for the tests it skipped. */
    if (state->flags & PSC_FLAG_DNSBL_ALLOW)
	*greet = *dnsbl;
    else if (state->flags & PSC_FLAG_GREET_TEST)
	*greet = now + mail_conf_time(VAR_POSTSCREEN_GREET_TTL);
    else
	*greet = state->greet_expire ? state->greet_expire : PSC_TIME_DISABLED;
    /* A failure that was ignored holds until now: the test runs again. */
    if ((state->flags & PSC_FLAG_PREGREET) && psc_greet_action == PSC_ACT_IGNORE)
	*greet = now;
    if ((state->flags & PSC_FLAG_DNSBL_LISTED) && psc_dnsbl_action == PSC_ACT_IGNORE)
	*dnsbl = now;
}

/* psc_deep_times - the deep test times to store (disabled: PSC_TIME_DISABLED) */
static const time_t *psc_deep_times(PSC_STATE *state)
{
    for (int t = PSC_TEST_PIPEL; t <= PSC_TEST_BARLF; t++)
	if (!psc_deep_enabled(t))
	    state->deep_expire[t] = PSC_TIME_DISABLED;
    return (state->deep_expire);
}

/*
 * psc_deep_done - the end of a session with the deep tests: a client
 * that failed none with enforce or drop is remembered, as having passed
 * them ("PASS NEW") when it reached RCPT, with the tests still to do
 * otherwise (as Postfix, which stores 0 for those). A test failed with
 * ignore holds until now: it runs again at the next visit.
 */
void    psc_deep_done(PSC_STATE *state)
{
    time_t  now = time((time_t *) 0);
    time_t  greet_expire;
    time_t  dnsbl_expire;
    static const char *const ttl[PSC_TEST_COUNT] = {
	[PSC_TEST_PIPEL] = VAR_POSTSCREEN_PIPELINING_TTL,
	[PSC_TEST_NSMTP] = VAR_POSTSCREEN_NON_SMTP_COMMAND_TTL,
	[PSC_TEST_BARLF] = VAR_POSTSCREEN_BARE_NEWLINE_TTL,
    };

    if (state->flags & PSC_FLAG_FAIL)
	return;
    psc_pass_times(state, now, &greet_expire, &dnsbl_expire);
    if (state->flags & PSC_FLAG_DEEP_PASS)
	msg_info("PASS NEW %s", state->endpoint);
    /* Still to do: passed with RCPT, not yet without (Postfix stores 0). */
    for (int t = PSC_TEST_PIPEL; t <= PSC_TEST_BARLF; t++)
	if (state->deep_todo & (1 << t))
	    state->deep_expire[t] = (state->flags & PSC_FLAG_DEEP_PASS) ?
		now + mail_conf_time(ttl[t]) : 0;
    psc_cache_update(state->addr, greet_expire, dnsbl_expire, psc_deep_times(state));
}

/*
 * psc_tests_done - called when the greet test and the DNSBL test have
 * both finished (or failed early): decide.
 */
void    psc_tests_done(PSC_STATE *state)
{
    time_t  now = time((time_t *) 0);

    if (state->flags & PSC_FLAG_REFRESH) {
	psc_refresh_done(state, now);
	return;
    }

    if ((state->flags & PSC_FLAG_DNSBL_TEST) && (state->flags & PSC_FLAG_DNSBL_LISTED)) {
	VSTRING *reply = vstring_alloc(100);

	msg_info("DNSBL rank %d for %s", state->dnsbl_score, state->endpoint);
	switch (psc_dnsbl_action) {
	case PSC_ACT_DROP:
	    vstring_sprintf(reply, "521 5.7.1 Service unavailable; client [%s] blocked using %s",
			    state->addr, state->dnsbl_name);
	    psc_drop(state, vstring_str(reply));
	    vstring_free(reply);
	    return;
	case PSC_ACT_ENFORCE:
	    vstring_sprintf(reply, "550 5.7.1 Service unavailable; client [%s] blocked using %s",
			    state->addr, state->dnsbl_name);
	    if (state->final_reply == 0)
		state->final_reply = vstring_export(reply);
	    else
		vstring_free(reply);
	    state->flags |= PSC_FLAG_FAIL;
	    break;
	default:
	    vstring_free(reply);
	    state->flags |= PSC_FLAG_FAIL_IGNORED;
	    break;
	}
    }
    /* Passed, or failed what is ignored, where passing earns nothing. */
    if ((state->flags & PSC_FLAG_VETO) && !(state->flags & PSC_FLAG_FAIL)) {
	state->final_reply = mystrdup("450 4.3.2 Service currently unavailable");
	state->flags |= PSC_FLAG_FAIL;
    }
    if (state->flags & PSC_FLAG_FAIL) {
	psc_smtpd_start(state);
	return;
    }
    /* An allowlisting DNSBL score stands in for the deep tests too. */
    if ((state->flags & PSC_FLAG_DNSBL_ALLOW) && state->deep_todo) {
	time_t  greet_expire;
	time_t  dnsbl_expire;

	psc_pass_times(state, now, &greet_expire, &dnsbl_expire);
	for (int t = PSC_TEST_PIPEL; t <= PSC_TEST_BARLF; t++)
	    if (state->deep_todo & (1 << t))
		state->deep_expire[t] = dnsbl_expire;
	state->deep_todo = 0;
    }
    /* The deep tests to do: the client cannot go to smtpd this time. */
    if (state->deep_todo) {
	state->flags |= PSC_FLAG_DEEP;
	psc_smtpd_start(state);
	return;
    }
    if ((state->flags & PSC_FLAG_FAIL_IGNORED) == 0) {
	time_t  greet_expire;
	time_t  dnsbl_expire;

	psc_pass_times(state, now, &greet_expire, &dnsbl_expire);
	msg_info("PASS %s %s", (state->flags & PSC_FLAG_KNOWN) ? "OLD" : "NEW", state->endpoint);
	psc_cache_update(state->addr, greet_expire, dnsbl_expire, psc_deep_times(state));
    }
    psc_send_to_smtpd(state);
}

/*
 * psc_over_limits - the limits for clients that are not allowlisted
 * (permanently or by the cache): connections per client, and clients
 * being screened at once. 1 when the client was turned away.
 */
static int psc_over_limits(PSC_STATE *state)
{
    long    per_client = mail_conf_int(VAR_POSTSCREEN_CLIENT_CONNECTION_COUNT_LIMIT);
    long    pre_queue = mail_conf_int(VAR_POSTSCREEN_PRE_QUEUE_LIMIT);

    if (per_client > 0 && (long) htable_find(psc_client_count, state->addr) > per_client) {
	msg_info("NOQUEUE: reject: CONNECT from %s: too many connections", state->endpoint);
	psc_drop(state, "421 4.7.0 Error: too many connections");
	return (1);
    }
    if (pre_queue > 0 && psc_clients >= pre_queue) {
	msg_info("reject: connect from %s: all screening ports busy", state->endpoint);
	psc_drop(state, "421 4.3.2 All screening ports are busy");
	return (1);
    }
    return (0);
}

/* psc_service - one new connection */
static void psc_service(int fd, const char *service, char **argv)
{
    PSC_STATE *state = psc_state_create(fd);
    int     cached = 0;

    (void) service;
    (void) argv;
    msg_info("CONNECT from %s to [%s]:%s", state->endpoint, state->saddr, state->sport);

    switch (psc_access(state->addr)) {
    case PSC_ACL_PERMIT:
	msg_info("ALLOWLISTED %s", state->endpoint);
	psc_send_to_smtpd(state);
	return;
    case PSC_ACL_REJECT:
	msg_info("DENYLISTED %s", state->endpoint);
	for (int t = PSC_TEST_PIPEL; t <= PSC_TEST_BARLF; t++)
	    if (psc_deep_enabled(t))
		state->deep_todo |= 1 << t;
	if (psc_denylist_action == PSC_ACT_DROP) {
	    psc_drop(state, "521 5.3.2 Service currently unavailable");
	    return;
	} else if (psc_denylist_action == PSC_ACT_ENFORCE) {
	    state->final_reply = mystrdup("550 5.3.2 Service currently unavailable");
	    state->flags |= PSC_FLAG_FAIL;
	} else {
	    state->flags |= PSC_FLAG_FAIL_IGNORED;
	}
	break;
    default:
	cached = psc_cache_lookup(state->addr, time((time_t *) 0), &state->greet_expire,
				  &state->dnsbl_expire, state->deep_expire);
	if (cached & PSC_CACHE_FOUND)
	    state->flags |= PSC_FLAG_KNOWN;
	for (int t = PSC_TEST_PIPEL; t <= PSC_TEST_BARLF; t++)
	    if (psc_deep_enabled(t) && (cached & PSC_CACHE_DEEP(t)) == 0)
		state->deep_todo |= 1 << t;
	if ((cached & PSC_CACHE_GREET) && ((cached & PSC_CACHE_DNSBL) || psc_dnsbl_enabled())
	    && state->deep_todo == 0) {
	    msg_info("PASS OLD %s", state->endpoint);
	    if ((cached & PSC_CACHE_DNSBL) == 0)
		psc_refresh_start(state->addr, state->greet_expire, state->deep_expire);
	    psc_send_to_smtpd(state);
	    return;
	}
	break;
    }
    if (psc_over_limits(state))
	return;
    if (!psc_access_interface(state->saddr)) {
	msg_info("ALLOWLIST VETO %s", state->endpoint);
	state->flags |= PSC_FLAG_VETO;
    }
    /* Only the tests whose results do not hold (any, for a denylisted client). */
    if (psc_dnsbl_enabled() && !(cached & PSC_CACHE_DNSBL))
	psc_dnsbl_start(state);
    else
	state->flags |= PSC_FLAG_DNSBL_DONE;
    if (cached & PSC_CACHE_GREET) {
	/* Only the deep tests (and maybe the DNSBL) are left: no banner. */
	state->flags |= PSC_FLAG_GREET_DONE;
	if (state->flags & PSC_FLAG_DNSBL_DONE)
	    psc_tests_done(state);
	return;
    }
    psc_early_start(state);
}

static int psc_active(void)
{
    return (psc_clients + psc_refreshes);
}

/* psc_loop - the cache cleanup, now and then */
static int psc_loop(const char *service, char **argv)
{
    static time_t last;
    int     interval = psc_cache_interval();
    time_t  now = time((time_t *) 0);

    (void) service;
    (void) argv;
    if (interval <= 0)
	return (-1);
    if (last == 0)
	last = now;
    if (now - last >= interval) {
	psc_cache_cleanup();
	last = now;
    }
    return ((int) (interval - (now - last)));
}

/* psc_drain - in the copy that finishes the clients of a restart */
static void psc_drain(void)
{
    psc_dnsbl_drain();
    psc_cache_drain();
}

/* pre_init - as root: tables and the cache */
static void pre_init(const char *service, char **argv)
{
    (void) service;
    (void) argv;
    psc_client_count = htable_create(100);
    psc_greet_action = psc_action(VAR_POSTSCREEN_GREET_ACTION);
    psc_dnsbl_action = psc_action(VAR_POSTSCREEN_DNSBL_ACTION);
    psc_denylist_action = psc_action(VAR_POSTSCREEN_DENYLIST_ACTION);
    psc_access_init();
    psc_dnsbl_init();
    psc_smtpd_init();
    psc_cache_open();
}

/* post_init - after the privilege drop */
static void post_init(const char *service, char **argv)
{
    (void) service;
    (void) argv;
    psc_access_watch();
    psc_dnsbl_watch();
    psc_cache_cleanup();
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
	.pre_init = pre_init,
	.post_init = post_init,
	.loop = psc_loop,
	.unlimited = 1,
	.active = psc_active,
	.drain = psc_drain,
    };

    event_server_main(argc, argv, psc_service, &opts);
    return (0);
}
