/*
 * NAME
 *	events - one event loop: descriptors and timers
 * SYNOPSIS
 *	typedef void (*EVENT_FN)(int event, void *context);
 *	void event_enable_read(int fd, EVENT_FN fn, void *context);
 *	void event_enable_write(int fd, EVENT_FN fn, void *context);
 *	void event_disable_readwrite(int fd);
 *	void event_request_timer(EVENT_FN fn, void *context, long delay_ms);
 *	int event_cancel_timer(EVENT_FN fn, void *context);
 *	void event_loop(long max_wait_ms);	(-1: until an event)
 *	long long event_time_ms(void);		(monotonic, cached per loop)
 * DESCRIPTION
 *	A process has one loop (epoll). A descriptor has at most one read
 *	and one write callback; event is EVENT_READ, EVENT_WRITE or
 *	EVENT_TIME. A timer fires once; requesting the same (fn, context)
 *	again moves it. event_loop() runs the ready callbacks once and
 *	returns; callers loop around it. master and qmgr are built on it.
 */
#ifndef EVENTS_H
#define EVENTS_H

#define EVENT_READ	(1<<0)
#define EVENT_WRITE	(1<<1)
#define EVENT_TIME	(1<<2)
#define EVENT_ERROR	(1<<3)

typedef void (*EVENT_FN) (int, void *);

extern void event_enable_read(int, EVENT_FN, void *);
extern void event_enable_write(int, EVENT_FN, void *);
extern void event_disable_readwrite(int);
extern void event_request_timer(EVENT_FN, void *, long);
extern int event_cancel_timer(EVENT_FN, void *);
extern void event_loop(long);
extern long long event_time_ms(void);

#endif
