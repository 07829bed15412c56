/*
 * NAME
 *	fuzz_tlsrpt_store - libFuzzer target for TLS-RPT day files
 * DESCRIPTION
 *	tlsrpt_store_read() reads files that many smtp processes append
 *	to (and that a crash may leave with a torn last line); tlsrpt(8)
 *	trusts what it returns. The input is a day file: every session it
 *	accepts must name a policy with a domain and a type that may go
 *	into a mail header and a DNS query, a result that is a word, and no
 *	list item may hold the list separator.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/msg.h"
#include "global/tlsrpt_store.h"

static void check_list(const ARGV *list)
{
    for (size_t i = 0; list && i < list->argc; i++)
	if (strchr(list->argv[i], '\037'))
	    __builtin_trap();
}

static void check_text(const char *text, const char *chars)
{
    if (text && text[strspn(text, chars)] != 0)
	__builtin_trap();
}

static void session(void *ctx, const TLSRPT_POLICY *pol, const TLSRPT_RESULT *res)
{
    (*(int *) ctx)++;
    if (pol->domain == 0 || *pol->domain == 0 || pol->type == 0 || *pol->type == 0)
	__builtin_trap();
    if (res->result && *res->result == 0)
	__builtin_trap();
    check_text(pol->domain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
    check_text(res->mx_host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
    check_text(res->result, "abcdefghijklmnopqrstuvwxyz0123456789-");
    check_list(pol->mx);
    check_list(pol->strings);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    char    path[64];
    int     count = 0;

    if (fd < 0) {
	msg_to_stderr(0);
	if ((fd = memfd_create("tlsrpt", 0)) < 0)
	    return (0);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
	return (0);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (tlsrpt_store_read(path, session, &count) != count)
	__builtin_trap();
    return (0);
}
