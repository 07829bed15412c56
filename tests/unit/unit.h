/*
 * NAME
 *	unit.h - the smallest unit-test harness
 * SYNOPSIS
 *	#include "unit.h"
 *	UNIT_TEST(name) { ... EXPECT(cond); EXPECT_STR(a, b); EXPECT_INT(a, b); }
 *	int main(void) { return unit_run(); }
 * DESCRIPTION
 *	Each test prints "PASS: file:name" or "FAIL: file:name: why" on
 *	stdout; tests/run.py counts these lines. A test that crashes is
 *	counted as failed by the runner (the process exit status).
 */
#ifndef UNIT_H
#define UNIT_H
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

typedef void (*unit_fn) (void);
struct unit_case {
    const char *name;
    unit_fn fn;
};

#define UNIT_MAX 512
static struct unit_case unit_cases[UNIT_MAX];
static int unit_count;
static int unit_failed_now;
static const char *unit_current;

#define UNIT_TEST(tname) \
    static void tname(void); \
    __attribute__((constructor)) static void tname##_register(void) { \
	if (unit_count < UNIT_MAX) { \
	    unit_cases[unit_count].name = #tname; \
	    unit_cases[unit_count++].fn = tname; } \
    } \
    static void tname(void)

#define UNIT_FAIL(...) do { \
	if (!unit_failed_now) printf("FAIL: %s:%s: ", __FILE__, unit_current); \
	else printf("      "); \
	printf(__VA_ARGS__); printf(" (line %d)\n", __LINE__); \
	unit_failed_now = 1; } while (0)


#define EXPECT(cond) do { if (!(cond)) UNIT_FAIL("expected %s", #cond); } while (0)
#define EXPECT_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if ((g_ == 0) != (w_ == 0) || (g_ && strcmp(g_, w_) != 0)) \
	    UNIT_FAIL("%s: got \"%s\", want \"%s\"", #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
    } while (0)
#define EXPECT_INT(got, want) do { \
	long long g_ = (long long) (got), w_ = (long long) (want); \
	if (g_ != w_) UNIT_FAIL("%s: got %lld, want %lld", #got, g_, w_); \
    } while (0)

static inline int unit_run(void)
{
    int     failed = 0;

    for (int i = 0; i < unit_count; i++) {
	unit_current = unit_cases[i].name;
	unit_failed_now = 0;
	fflush(stdout);
	unit_cases[i].fn();
	if (!unit_failed_now)
	    printf("PASS: %s:%s\n", __BASE_FILE__, unit_current);
	failed += unit_failed_now;
	fflush(stdout);
    }
    return (failed ? 1 : 0);
}

#endif
