/*
 * NAME
 *	smtpd_limit - per-client connection and rate limits, shared by all
 *	smtpd processes
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_limit_init(void);
 *	int smtpd_limit_connect(SMTPD_STATE *state);
 *	void smtpd_limit_disconnect(void);
 *	int smtpd_limit_message(SMTPD_STATE *state);
 *	int smtpd_limit_rcpt(SMTPD_STATE *state);
 *	int smtpd_limit_newtls(SMTPD_STATE *state);
 *	int smtpd_limit_auth(SMTPD_STATE *state);
 * DESCRIPTION
 *	Postfix counts, per service and client address, the simultaneous
 *	connections and the connections, MAIL commands, RCPT commands,
 *	new TLS sessions and AUTH commands per anvil_rate_time_unit in its anvil(8) server.
 *	Here every smtpd process shares one file instead,
 *	private/smtpd_limits under queue_directory, mapped into memory:
 *
 *	Connections: each session holds a write lock (fcntl) on one slot
 *	of the file, in which it wrote "service:address". The number of
 *	connections of a client is the number of locked slots holding its
 *	key. A lock goes away with its process, so a crash (even kill -9)
 *	never leaves a connection counted.
 *
 *	Rates: a table of counters per key, updated under a short write
 *	lock of the table. A key's counters start when its first event is
 *	counted and all restart once anvil_rate_time_unit has passed since
 *	then, as in anvil(8). A refused request counts too, so a client
 *	that keeps trying stays refused until its window ends. When the
 *	table is full, the key whose window began longest ago gives way.
 *
 *	smtpd_limit_connect() counts a new session (-1: refused; the
 *	caller answers "421 4.7.0 host Error: too many connections from
 *	addr"); smtpd_limit_disconnect() ends it. smtpd_limit_message()
 *	(MAIL), smtpd_limit_rcpt() (RCPT), smtpd_limit_newtls()
 *	(STARTTLS) and smtpd_limit_auth() (AUTH) count one event and return -1 when the client is over
 *	its smtpd_client_*_rate_limit; the caller gives Postfix's reply.
 *	A limit of 0 is no limit. Clients in
 *	smtpd_client_event_limit_exceptions (default $mynetworks), and
 *	the proxies of smtpd_authorized_xclient_hosts, are never counted.
 * DIAGNOSTICS
 *	Postfix's warnings: "Connection concurrency limit exceeded: N from
 *	host[addr] for service S", "Connection rate limit exceeded: ...",
 *	"Message delivery request rate limit exceeded: ...", "Recipient
 *	address rate limit exceeded: ...", "New TLS session rate limit
 *	exceeded: ...", "AUTH command rate limit exceeded: ...". A file that cannot be opened or mapped disables the
 *	limits with a warning (the limits protect the server; losing them
 *	does not lose mail).
 * BUGS
 *	Two connections that arrive at the same instant may both see the
 *	other and both be refused; never both admitted over the limit.
 *	Unlike anvil, nothing logs the largest counts seen.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "smtpd.h"

#define LIMIT_FILE	"private/smtpd_limits"
#define KEY_SIZE	128		/* "service:address" */

#define SLOT_COUNT	4096		/* simultaneous sessions */
#define RATE_COUNT	4096		/* clients with counters */
#define RATE_PROBE	16		/* buckets tried per key */

typedef struct RATE {
    char    key[KEY_SIZE];
    int64_t start_ms;			/* window start, CLOCK_MONOTONIC */
    uint32_t count[5];			/* RATE_CONN .. RATE_AUTH */
} RATE;

#define RATE_CONN	0
#define RATE_MSG	1
#define RATE_RCPT	2
#define RATE_TLS	3
#define RATE_AUTH	4

#define SLOT_OFF	((off_t) 0)
#define RATE_OFF	(SLOT_OFF + (off_t) SLOT_COUNT * KEY_SIZE)
#define FILE_SIZE	(RATE_OFF + (off_t) (RATE_COUNT * sizeof(RATE)))

static long conn_count_limit;
static long conn_rate_limit;
static long msg_rate_limit;
static long rcpt_rate_limit;
static long tls_rate_limit;
static long auth_rate_limit;
static long long rate_unit_ms;

static int limit_fd = -1;
static char *limit_map;			/* the mapped file, or NULL */
static long my_slot = -1;
static int warned;

void    smtpd_limit_init(void)
{
    conn_count_limit = var_conn_count_limit;
    conn_rate_limit = mail_conf_int(VAR_SMTPD_CLIENT_CONNECTION_RATE_LIMIT);
    msg_rate_limit = mail_conf_int(VAR_SMTPD_CLIENT_MESSAGE_RATE_LIMIT);
    rcpt_rate_limit = mail_conf_int(VAR_SMTPD_CLIENT_RECIPIENT_RATE_LIMIT);
    tls_rate_limit = mail_conf_int(VAR_SMTPD_CLIENT_NEW_TLS_SESSION_RATE_LIMIT);
    auth_rate_limit = mail_conf_int(VAR_SMTPD_CLIENT_AUTH_RATE_LIMIT);
    rate_unit_ms = mail_conf_time(VAR_ANVIL_RATE_TIME_UNIT) * 1000LL;
}

/* limit_open - map the shared file (after chroot, as mail_owner) */
static int limit_open(void)
{
    struct stat st;

    if (limit_map)
	return (0);
    if (warned)
	return (-1);
    if ((limit_fd = open(LIMIT_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0
	|| fstat(limit_fd, &st) < 0
	|| (st.st_size < FILE_SIZE && ftruncate(limit_fd, FILE_SIZE) < 0)
	|| (limit_map = mmap(0, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			     limit_fd, 0)) == MAP_FAILED) {
	msg_warn("open %s: %s; client connection and rate limits are not enforced",
		 LIMIT_FILE, strerror(errno));
	if (limit_fd >= 0)
	    close(limit_fd);
	limit_fd = -1;
	limit_map = 0;
	warned = 1;
	return (-1);
    }
    return (0);
}

/* range_lock - fcntl lock of a byte range; wait: block until granted */
static int range_lock(off_t start, off_t len, int type, int wait)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    while (fcntl(limit_fd, wait ? F_SETLKW : F_SETLK, &fl) < 0) {
	if (!wait || errno != EINTR)
	    return (-1);
    }
    return (0);
}

/* range_held - is a byte range locked by another process */
static int range_held(off_t start, off_t len)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    if (fcntl(limit_fd, F_GETLK, &fl) < 0)
	return (0);
    return (fl.l_type != F_UNLCK);
}

/* client_key - "service:address" */
static void client_key(SMTPD_STATE *state, char *key)
{
    snprintf(key, KEY_SIZE, "%s:%s", mail_server_name(), state->addr);
}

/* counted - does this client count at all */
static int counted(SMTPD_STATE *state)
{
    return (!state->xclient_ok && !smtpd_check_event_exempt(state));
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* rate_bump - count one event of a key; the count in the current window */
static long rate_bump(const char *key, int which)
{
    RATE   *table = (RATE *) (limit_map + RATE_OFF);
    RATE   *hit = 0, *spare = 0, *oldest = 0;
    long long now = now_ms();
    uint32_t h = 2166136261u;
    long    count;

    for (const char *cp = key; *cp; cp++)
	h = (h ^ (unsigned char) *cp) * 16777619u;
    if (range_lock(RATE_OFF, (off_t) RATE_COUNT * sizeof(RATE), F_WRLCK, 1) < 0) {
	msg_warn("lock %s: %s", LIMIT_FILE, strerror(errno));
	return (0);
    }
    for (int i = 0; i < RATE_PROBE && hit == 0; i++) {
	RATE   *r = table + (h + i) % RATE_COUNT;
	int     expired = r->key[0] == 0 || now - r->start_ms >= rate_unit_ms
	|| r->start_ms > now;

	if (r->key[0] && strncmp(r->key, key, KEY_SIZE) == 0)
	    hit = r;
	else if (expired && spare == 0)
	    spare = r;
	else if (oldest == 0 || r->start_ms < oldest->start_ms)
	    oldest = r;
    }
    if (hit == 0) {
	hit = spare ? spare : oldest;
	memset(hit, 0, sizeof(*hit));
	snprintf(hit->key, KEY_SIZE, "%s", key);
	hit->start_ms = now;
    }
    /* One window for all counters of a client, as in anvil(8). */
    if (now - hit->start_ms >= rate_unit_ms || hit->start_ms > now) {
	memset(hit->count, 0, sizeof(hit->count));
	hit->start_ms = now;
    }
    count = ++hit->count[which];
    (void) range_lock(RATE_OFF, (off_t) RATE_COUNT * sizeof(RATE), F_UNLCK, 0);
    return (count);
}

/* rate_check - count one event; -1 with Postfix's warning when over limit */
static int rate_check(SMTPD_STATE *state, long limit, int which, const char *what)
{
    char    key[KEY_SIZE];
    long    count;

    if (limit <= 0 || !counted(state) || limit_open() < 0)
	return (0);
    client_key(state, key);
    if ((count = rate_bump(key, which)) > limit) {
	msg_warn("%s rate limit exceeded: %ld from %s for service %s",
		 what, count, state->namaddr, mail_server_name());
	return (-1);
    }
    return (0);
}

/* slot_take - hold a free slot with this key; its index or -1 */
static long slot_take(const char *key)
{
    long    start = (long) (getpid() % SLOT_COUNT);

    for (long n = 0; n < SLOT_COUNT; n++) {
	long    i = (start + n) % SLOT_COUNT;

	if (range_lock(SLOT_OFF + (off_t) i * KEY_SIZE, KEY_SIZE, F_WRLCK, 0) == 0) {
	    memset(limit_map + SLOT_OFF + i * KEY_SIZE, 0, KEY_SIZE);
	    snprintf(limit_map + SLOT_OFF + i * KEY_SIZE, KEY_SIZE, "%s", key);
	    return (i);
	}
    }
    return (-1);
}

int     smtpd_limit_connect(SMTPD_STATE *state)
{
    char    key[KEY_SIZE];
    long    count = 1;

    if ((conn_count_limit <= 0 && conn_rate_limit <= 0) || !counted(state)
	|| limit_open() < 0)
	return (0);
    client_key(state, key);
    if (conn_count_limit > 0 && (my_slot = slot_take(key)) >= 0) {
	for (long i = 0; i < SLOT_COUNT; i++) {
	    const char *other = limit_map + SLOT_OFF + i * KEY_SIZE;

	    if (i != my_slot && strncmp(other, key, KEY_SIZE) == 0
		&& range_held(SLOT_OFF + (off_t) i * KEY_SIZE, KEY_SIZE))
		count++;
	}
	if (count > conn_count_limit) {
	    msg_warn("Connection concurrency limit exceeded: %ld from %s for service %s",
		     count, state->namaddr, mail_server_name());
	    return (-1);
	}
    }
    return (rate_check(state, conn_rate_limit, RATE_CONN, "Connection"));
}

void    smtpd_limit_disconnect(void)
{
    if (my_slot < 0)
	return;
    memset(limit_map + SLOT_OFF + my_slot * KEY_SIZE, 0, KEY_SIZE);
    (void) range_lock(SLOT_OFF + (off_t) my_slot * KEY_SIZE, KEY_SIZE, F_UNLCK, 0);
    my_slot = -1;
}

int     smtpd_limit_message(SMTPD_STATE *state)
{
    return (rate_check(state, msg_rate_limit, RATE_MSG, "Message delivery request"));
}

int     smtpd_limit_rcpt(SMTPD_STATE *state)
{
    return (rate_check(state, rcpt_rate_limit, RATE_RCPT, "Recipient address"));
}

int     smtpd_limit_newtls(SMTPD_STATE *state)
{
    return (rate_check(state, tls_rate_limit, RATE_TLS, "New TLS session"));
}

int     smtpd_limit_auth(SMTPD_STATE *state)
{
    return (rate_check(state, auth_rate_limit, RATE_AUTH, "AUTH command"));
}
