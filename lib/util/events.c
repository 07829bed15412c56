/*
 * NAME
 *	events - one event loop: descriptors and timers (epoll)
 * SYNOPSIS
 *	#include "util/events.h"
 * DESCRIPTION
 *	See events.h. Descriptors are registered with epoll; per
 *	descriptor we keep one read and one write callback in a table
 *	indexed by descriptor number. Timers are a short list sorted by
 *	expiry time; a process has few of them (master: one per wakeup
 *	service and throttled service; qmgr: a handful).
 *
 *	Callbacks may enable or disable any descriptor or timer, including
 *	their own: event_loop() looks up each ready descriptor's callback
 *	again just before calling it, and skips descriptors whose
 *	registration disappeared while the batch was being run.
 * DIAGNOSTICS
 *	Panic: epoll failures other than EINTR, a negative descriptor.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/events.h"

typedef struct EVENT_FD {
    EVENT_FN read_fn;
    void   *read_ctx;
    EVENT_FN write_fn;
    void   *write_ctx;
    unsigned mask;			/* EVENT_READ | EVENT_WRITE registered */
    unsigned serial;			/* bumped on every change */
} EVENT_FD;

typedef struct EVENT_TIMER {
    EVENT_FN fn;
    void   *ctx;
    long long when;			/* ms, monotonic */
    unsigned long serial;		/* order of requests */
    struct EVENT_TIMER *next;
} EVENT_TIMER;

static int epoll_fd = -1;
static EVENT_FD *fd_table;
static int fd_table_size;
static EVENT_TIMER *timers;
static long long now_ms;
static unsigned long timer_serial;

static long long clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

long long event_time_ms(void)
{
    if (now_ms == 0)
	now_ms = clock_ms();
    return (now_ms);
}

static void event_init(void)
{
    if (epoll_fd >= 0)
	return;
    if ((epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
	msg_fatal("epoll_create1: %s", strerror(errno));
}

static EVENT_FD *fd_slot(int fd)
{
    if (fd < 0)
	msg_panic("events: bad descriptor %d", fd);
    if (fd >= fd_table_size) {
	int     new_size = fd_table_size ? fd_table_size : 64;

	while (new_size <= fd)
	    new_size *= 2;
	fd_table = myrealloc(fd_table, new_size * sizeof(*fd_table));
	memset(fd_table + fd_table_size, 0,
	       (new_size - fd_table_size) * sizeof(*fd_table));
	fd_table_size = new_size;
    }
    return (fd_table + fd);
}

/* update_epoll - make the kernel's interest set match the mask */
static void update_epoll(int fd, unsigned old_mask, unsigned new_mask)
{
    struct epoll_event ev;
    int     op;

    memset(&ev, 0, sizeof(ev));
    ev.data.fd = fd;
    if (new_mask & EVENT_READ)
	ev.events |= EPOLLIN;
    if (new_mask & EVENT_WRITE)
	ev.events |= EPOLLOUT;
    op = old_mask == 0 ? EPOLL_CTL_ADD : new_mask == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(epoll_fd, op, fd, &ev) < 0) {
	/* The descriptor may have been closed behind our back. */
	if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT))
	    return;
	if (op == EPOLL_CTL_MOD && errno == ENOENT
	    && epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0)
	    return;
	if (op == EPOLL_CTL_ADD && errno == EEXIST
	    && epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0)
	    return;
	msg_panic("epoll_ctl fd %d: %s", fd, strerror(errno));
    }
}

void    event_enable_read(int fd, EVENT_FN fn, void *context)
{
    EVENT_FD *ef;

    event_init();
    ef = fd_slot(fd);
    update_epoll(fd, ef->mask, ef->mask | EVENT_READ);
    ef->mask |= EVENT_READ;
    ef->read_fn = fn;
    ef->read_ctx = context;
    ef->serial++;
}

void    event_enable_write(int fd, EVENT_FN fn, void *context)
{
    EVENT_FD *ef;

    event_init();
    ef = fd_slot(fd);
    update_epoll(fd, ef->mask, ef->mask | EVENT_WRITE);
    ef->mask |= EVENT_WRITE;
    ef->write_fn = fn;
    ef->write_ctx = context;
    ef->serial++;
}

void    event_disable_readwrite(int fd)
{
    EVENT_FD *ef;

    if (epoll_fd < 0 || fd < 0 || fd >= fd_table_size)
	return;
    ef = fd_table + fd;
    if (ef->mask)
	update_epoll(fd, ef->mask, 0);
    ef->mask = 0;
    ef->read_fn = ef->write_fn = 0;
    ef->read_ctx = ef->write_ctx = 0;
    ef->serial++;
}

int     event_cancel_timer(EVENT_FN fn, void *context)
{
    EVENT_TIMER **tpp, *tp;

    for (tpp = &timers; (tp = *tpp) != 0; tpp = &tp->next) {
	if (tp->fn == fn && tp->ctx == context) {
	    *tpp = tp->next;
	    myfree(tp);
	    return (1);
	}
    }
    return (0);
}

void    event_request_timer(EVENT_FN fn, void *context, long delay_ms)
{
    EVENT_TIMER **tpp, *tp;

    event_cancel_timer(fn, context);
    tp = mymalloc(sizeof(*tp));
    tp->fn = fn;
    tp->ctx = context;
    tp->when = clock_ms() + (delay_ms > 0 ? delay_ms : 0);
    tp->serial = timer_serial++;
    for (tpp = &timers; *tpp && (*tpp)->when <= tp->when; tpp = &(*tpp)->next)
	 /* void */ ;
    tp->next = *tpp;
    *tpp = tp;
}

void    event_loop(long max_wait_ms)
{
    struct epoll_event ready[64];
    unsigned serials[64];
    int     wait_ms;
    int     n;
    int     i;

    event_init();
    now_ms = clock_ms();
    wait_ms = max_wait_ms < 0 ? -1 : (int) max_wait_ms;
    if (timers) {
	long long delta = timers->when - now_ms;

	if (delta < 0)
	    delta = 0;
	if (wait_ms < 0 || delta < wait_ms)
	    wait_ms = (int) delta;
    }
    n = epoll_wait(epoll_fd, ready, 64, wait_ms);
    if (n < 0) {
	if (errno != EINTR)
	    msg_panic("epoll_wait: %s", strerror(errno));
	n = 0;
    }
    now_ms = clock_ms();

    /*
     * Timers first: run the ones that are due; a callback may request
     * new timers, which run no earlier than the next call.
     */
    {
	long long due = now_ms;
	unsigned long limit = timer_serial;

	for (;;) {
	    EVENT_TIMER **tpp, *tp;
	    EVENT_FN fn;
	    void   *ctx;

	    for (tpp = &timers; (tp = *tpp) != 0 && tp->when <= due; tpp = &tp->next)
		if (tp->serial < limit)
		    break;
	    if (tp == 0 || tp->when > due)
		break;
	    fn = tp->fn;
	    ctx = tp->ctx;
	    *tpp = tp->next;
	    myfree(tp);
	    fn(EVENT_TIME, ctx);
	}
    }

    for (i = 0; i < n; i++)
	serials[i] = ready[i].data.fd < fd_table_size ?
	    fd_table[ready[i].data.fd].serial : 0;
    for (i = 0; i < n; i++) {
	int     fd = ready[i].data.fd;
	unsigned ev = ready[i].events;
	EVENT_FD *ef;

	if (fd >= fd_table_size)
	    continue;
	ef = fd_table + fd;
	if (ef->serial != serials[i])
	    continue;
	if ((ef->mask & EVENT_READ) && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
	    ef->read_fn(EVENT_READ, ef->read_ctx);
	    if (fd >= fd_table_size)
		continue;
	    ef = fd_table + fd;
	    if (ef->serial != serials[i])
		continue;
	}
	if ((ef->mask & EVENT_WRITE) && (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
	    ef->write_fn(EVENT_WRITE, ef->write_ctx);
    }
}
