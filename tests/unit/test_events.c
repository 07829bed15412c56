/*
 * NAME
 *	test_events - the epoll event loop: descriptors and timers
 */
#include <unistd.h>

#include "util/events.h"
#include "unit.h"

static int fired[8];
static int read_fd;
static int write_fd;

static void on_timer(int event, void *ctx)
{
    EXPECT_INT(event, EVENT_TIME);
    fired[(long) ctx]++;
}

static void on_read(int event, void *ctx)
{
    char    ch;

    EXPECT_INT(event, EVENT_READ);
    if (read(read_fd, &ch, 1) == 1)
	fired[(long) ctx]++;
}

static void on_write(int event, void *ctx)
{
    EXPECT_INT(event, EVENT_WRITE);
    fired[(long) ctx]++;
    event_disable_readwrite(write_fd);
}

UNIT_TEST(timers_fire_in_order_and_cancel)
{
    long long t0 = event_time_ms();

    event_request_timer(on_timer, (void *) 1, 30);
    event_request_timer(on_timer, (void *) 2, 10);
    event_request_timer(on_timer, (void *) 3, 20);
    EXPECT_INT(event_cancel_timer(on_timer, (void *) 3), 1);
    EXPECT_INT(event_cancel_timer(on_timer, (void *) 3), 0);
    while (fired[1] == 0)
	event_loop(1000);
    EXPECT_INT(fired[2], 1);
    EXPECT_INT(fired[3], 0);
    EXPECT(event_time_ms() - t0 >= 30);
}

UNIT_TEST(timer_request_moves_it)
{
    fired[4] = 0;
    event_request_timer(on_timer, (void *) 4, 10000);
    event_request_timer(on_timer, (void *) 4, 1);
    event_loop(2000);
    event_loop(50);
    EXPECT_INT(fired[4], 1);
}

UNIT_TEST(descriptors)
{
    int     fds[2];

    EXPECT(pipe(fds) == 0);
    read_fd = fds[0];
    write_fd = fds[1];
    fired[5] = fired[6] = 0;
    event_enable_read(fds[0], on_read, (void *) 5);
    event_loop(10);
    EXPECT_INT(fired[5], 0);
    EXPECT(write(fds[1], "ab", 2) == 2);
    event_loop(1000);
    event_loop(1000);
    EXPECT_INT(fired[5], 2);
    event_enable_write(fds[1], on_write, (void *) 6);
    event_loop(1000);
    EXPECT_INT(fired[6], 1);
    event_loop(10);
    EXPECT_INT(fired[6], 1);
    event_disable_readwrite(fds[0]);
    EXPECT(write(fds[1], "c", 1) == 1);
    event_loop(10);
    EXPECT_INT(fired[5], 2);
    close(fds[0]);
    close(fds[1]);
}

static int rearm_count;

static void rearm(int event, void *ctx)
{
    (void) event;
    rearm_count++;
    event_request_timer(rearm, ctx, 0);
}

UNIT_TEST(timer_requested_by_timer_waits_for_next_loop)
{
    rearm_count = 0;
    event_request_timer(rearm, 0, 0);
    event_loop(100);
    EXPECT_INT(rearm_count, 1);
    event_loop(100);
    EXPECT_INT(rearm_count, 2);
    EXPECT_INT(event_cancel_timer(rearm, 0), 1);
}

int     main(void)
{
    return (unit_run());
}
