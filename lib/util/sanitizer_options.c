/*
 * NAME
 *	sanitizer_options - defaults for the AddressSanitizer build
 * DESCRIPTION
 *	make asan builds with -DMTA_SANITIZE. Options are compiled in rather
 *	than taken from ASAN_OPTIONS, because the environment does not reach
 *	every process: postqueue runs setgid for users who are not root,
 *	and tests start programs with environments of their own. Daemons
 *	exit without freeing what lives for the whole process, so leak
 *	reports are off; every other error aborts the process, which the
 *	tests see as a failure.
 */
#ifdef MTA_SANITIZE

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
    return ("detect_leaks=0:abort_on_error=1");
}

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

#else

/* ISO C forbids an empty translation unit. */
typedef int sanitizer_options_unused;

#endif
