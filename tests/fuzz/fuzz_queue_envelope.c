/*
 * NAME
 *	fuzz_queue_envelope - libFuzzer target for the message file reader
 * DESCRIPTION
 *	Writes the input to an anonymous file and reads it with
 *	queue_envelope_read(), as showq and bounce read queue files. A
 *	result must be consistent with the file: every record offset and
 *	the message data inside it. Forged lengths must cost no memory
 *	(libFuzzer's -rss_limit_mb catches a reader that trusts them).
 */
#include <sys/mman.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/vstream.h"
#include "global/queue_envelope.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     fd = memfd_create("queue_file", 0);
    VSTREAM *fp;
    QUEUE_ENVELOPE *env;

    if (fd < 0)
	return (0);
    if (write(fd, data, size) != (ssize_t) size || lseek(fd, 0, SEEK_SET) < 0) {
	close(fd);
	return (0);
    }
    fp = vstream_fdopen(fd);
    if ((env = queue_envelope_read(fp, "ABCDEF123")) != 0) {
	if (env->msg_offset < 0 || env->msg_offset + env->msg_size > (off_t) size)
	    abort();
	for (size_t i = 0; i < env->rcpt_count; i++)
	    if (env->rcpts[i].offset < 0 || env->rcpts[i].offset >= (off_t) size)
		abort();
	(void) queue_envelope_attr(env, "dsn_ret");
	queue_envelope_free(env);
    }
    vstream_close(fp);
    return (0);
}
