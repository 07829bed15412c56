/*
 * NAME
 *	test_queue_writer - complete message files, abort, errno mapping,
 *	the F record, a milter's changes (queue_writer_rewrite, milter_edit);
 *	the TLS protocol parser of tls_server
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/queue_file.h"
#include "global/queue_writer.h"
#include "global/milter_edit.h"
#include "tls/tls_server.h"
#include "tls/tls_proto.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "unit.h"

static char dir[] = "/tmp/test_queue_writer.XXXXXX";
static int setup_done;

static void setup(void)
{
    char    path[256];
    FILE   *fp;

    if (setup_done++)
	return;
    if (mkdtemp(dir) == 0)
	abort();
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    fp = fopen(path, "w");
    fputs("queue_directory = /nonexistent\n", fp);
    fclose(fp);
    mail_conf_reset();
    mail_conf_read(dir);
    if (chdir(dir) < 0 || mkdir("incoming", 0700) < 0)
	abort();
}

UNIT_TEST(complete_file)
{
    QUEUE_WRITER *qw;
    VSTRING *path = vstring_alloc(50);
    VSTRING *buf = vstring_alloc(50);
    VSTREAM *fp;
    struct stat st;
    char   *id;
    static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
    static const int want[] = {
	REC_TYPE_VERSION, REC_TYPE_TIME, REC_TYPE_SENDER, REC_TYPE_ATTR,
	REC_TYPE_WARN, REC_TYPE_ORCP, REC_TYPE_NOTIFY, REC_TYPE_DSN_ORCPT,
	REC_TYPE_RCPT, REC_TYPE_RCPT, REC_TYPE_MESSAGE, REC_TYPE_PAD, REC_TYPE_END,
    };
    size_t  i;
    int     type;

    setup();
    qw = queue_writer_open(MAIL_QUEUE_INCOMING);
    EXPECT(qw != 0);
    if (qw == 0)
	return;
    id = strdup(queue_writer_id(qw));
    EXPECT(mail_queue_id_ok(id));
    mail_queue_path(path, MAIL_QUEUE_INCOMING, id);
    /* No name in incoming/ until it is complete and on disk. */
    EXPECT(stat(vstring_str(path), &st) < 0 && errno == ENOENT);
    EXPECT_INT(queue_writer_sender(qw, "a@b.test"), 0);
    EXPECT_INT(queue_writer_attr(qw, "client_name", "localhost"), 0);
    EXPECT_INT(queue_writer_rcpt(qw, "t@example.com", "alias@example.org",
				 DSN_NOTIFY_SUCCESS, "rfc822;alias@example.org"), 0);
    EXPECT_INT(queue_writer_rcpt(qw, "u@example.com", "u@example.com", 0, 0), 0);
    EXPECT_INT(queue_writer_msg_begin(qw), 0);
    EXPECT_INT(queue_writer_msg_write(qw, msg, 10), 0);
    EXPECT_INT(queue_writer_msg_write(qw, msg + 10, sizeof(msg) - 11), 0);
    EXPECT_INT(queue_writer_msg_size(qw), sizeof(msg) - 1);
    EXPECT_INT(queue_writer_commit(qw), 0);
    EXPECT(stat(vstring_str(path), &st) == 0 && MAIL_QUEUE_MSG_COMPLETE(&st));
    /* Padded to a multiple of 4 KB, for a later reuse at the same size. */
    EXPECT_INT(st.st_size % 4096, 0);

    fp = vstream_open(vstring_str(path), O_RDONLY, 0);
    EXPECT(fp != 0);
    for (i = 0; fp && i < sizeof(want) / sizeof(want[0]); i++) {
	type = rec_get(fp, buf, 1 << 20);
	EXPECT_INT(type, want[i]);
	if (type == REC_TYPE_SENDER)
	    EXPECT_STR(vstring_str(buf), "a@b.test");
	if (type == REC_TYPE_ORCP)
	    EXPECT_STR(vstring_str(buf), "alias@example.org");
	if (type == REC_TYPE_NOTIFY)
	    EXPECT_STR(vstring_str(buf), "2");
	if (type == REC_TYPE_MESSAGE)
	    EXPECT_STR(vstring_str(buf), msg);
	if (type == REC_TYPE_PAD)		/* zero bytes only */
	    EXPECT(vstring_len(buf) > 0 && vstring_str(buf)[0] == 0
		   && memcmp(vstring_str(buf), vstring_str(buf) + 1, vstring_len(buf) - 1) == 0);
    }
    if (fp) {
	EXPECT_INT(rec_get(fp, buf, 1 << 20), REC_TYPE_EOF);
	vstream_close(fp);
    }
    unlink(vstring_str(path));
    free(id);
    vstring_free(path);
    vstring_free(buf);
}

/* add_rcpt - the milter_edit callback: write the address as it is */
static int add_rcpt(void *ctx, QUEUE_WRITER *qw, const char *addr)
{
    (void) ctx;
    return (queue_writer_rcpt(qw, addr, (char *) 0, 0, (char *) 0));
}

UNIT_TEST(milter_changes_rewrite_the_file)
{
    QUEUE_WRITER *qw;
    VSTRING *path = vstring_alloc(50);
    VSTRING *buf = vstring_alloc(50);
    VSTRING *got = vstring_alloc(200);
    VSTREAM *src, *fp;
    MILTER_EDITS e;
    MILTER_HDR_EDIT hdr[] = {
	{MILTER_HDR_INSERT, 0, "X-Top", "top"},
	{MILTER_HDR_CHANGE, 1, "Subject", "new"},
	{MILTER_HDR_CHANGE, 2, "X-Dup", ""},
	{MILTER_HDR_ADD, 0, "X-Fold", "a\n\tb"},
	{MILTER_HDR_CHANGE, 1, "X-Missing", "added"},
	{MILTER_HDR_INSERT, 2, "X-Two", "after the second"},
    };
    static const char msg[] = "Received: ours\r\nSubject: old\r\nX-Dup: 1\r\n"
	"X-Dup: 2\r\n\r\nbody\r\n";
    static const char want[] = "X-Top: top\r\nReceived: ours\r\nSubject: new\r\n"
	"X-Two: after the second\r\nX-Dup: 1\r\nX-Fold: a\r\n\tb\r\n"
	"X-Missing: added\r\n\r\nline1\r\nline2\r\n";
    char   *id;
    int     type, rcpts = 0, done = 0, filter = 0;
    struct stat st;

    setup();
    qw = queue_writer_open(MAIL_QUEUE_INCOMING);
    EXPECT(qw != 0);
    if (qw == 0)
	return;
    id = strdup(queue_writer_id(qw));
    queue_writer_sender(qw, "a@b.test");
    queue_writer_rcpt(qw, "x@example.com", "orig@example.com", 0, 0);
    queue_writer_rcpt(qw, "y@example.com", 0, 0, 0);
    queue_writer_msg_begin(qw);
    queue_writer_msg_write(qw, msg, sizeof(msg) - 1);
    queue_writer_filter(qw, "smtp-amavis:[127.0.0.1]:10024");

    memset(&e, 0, sizeof(e));
    e.hdr = hdr;
    e.hdr_count = sizeof(hdr) / sizeof(hdr[0]);
    e.sender = "new@b.test";
    e.add_rcpt = argv_alloc(1);
    e.del_rcpt = argv_alloc(1);
    argv_add(e.add_rcpt, "z@example.com");
    argv_add(e.del_rcpt, "ORIG@example.com");
    e.body = vstring_alloc(20);
    vstring_strcpy(e.body, "line1\nline2");
    e.hidden = 1;
    src = queue_writer_reader(qw);
    EXPECT(src != 0);
    EXPECT_INT(milter_edit_apply(qw, &e, src, queue_writer_msg_offset(qw) - 0,
				 queue_writer_msg_size(qw), add_rcpt, 0), 0);
    vstream_close(src);
    EXPECT_INT(queue_writer_commit(qw), 0);

    /* One complete file under the queue ID, nothing beside it. */
    mail_queue_path(path, MAIL_QUEUE_INCOMING, id);
    EXPECT(stat(vstring_str(path), &st) == 0 && MAIL_QUEUE_MSG_COMPLETE(&st));
    vstring_sprintf(buf, "%s.edit1", vstring_str(path));
    EXPECT(stat(vstring_str(buf), &st) < 0);
    fp = vstream_open(vstring_str(path), O_RDONLY, 0);
    EXPECT(fp != 0);
    while (fp && (type = rec_get(fp, buf, 1 << 20)) > 0) {
	if (type == REC_TYPE_SENDER)
	    EXPECT_STR(vstring_str(buf), "new@b.test");
	if (type == REC_TYPE_RCPT)
	    rcpts++;
	if (type == REC_TYPE_DONE) {
	    EXPECT_STR(vstring_str(buf), "x@example.com");
	    done++;
	}
	if (type == REC_TYPE_MESSAGE)
	    vstring_strcpy(got, vstring_str(buf));
	if (type == REC_TYPE_FILTER) {
	    EXPECT_STR(vstring_str(buf), "smtp-amavis:[127.0.0.1]:10024");
	    filter++;
	}
    }
    EXPECT_INT(rcpts, 2);
    EXPECT_INT(done, 1);
    EXPECT_INT(filter, 1);
    EXPECT_STR(vstring_str(got), want);
    if (fp)
	vstream_close(fp);
    unlink(vstring_str(path));
    argv_free(e.add_rcpt);
    argv_free(e.del_rcpt);
    vstring_free(e.body);
    vstring_free(path);
    vstring_free(buf);
    vstring_free(got);
    free(id);
}

UNIT_TEST(abort_removes_file)
{
    QUEUE_WRITER *qw;
    VSTRING *path = vstring_alloc(50);
    struct stat st;

    setup();
    qw = queue_writer_open(MAIL_QUEUE_INCOMING);
    EXPECT(qw != 0);
    if (qw == 0)
	return;
    mail_queue_path(path, MAIL_QUEUE_INCOMING, queue_writer_id(qw));
    queue_writer_sender(qw, "");
    queue_writer_msg_begin(qw);
    queue_writer_msg_write(qw, "x", 1);
    queue_writer_abort(qw);
    EXPECT(stat(vstring_str(path), &st) < 0 && errno == ENOENT);
    vstring_free(path);
}

UNIT_TEST(unwritable_queue)
{
    setup();
    errno = 0;
    EXPECT(queue_writer_open("nosuchqueue") == 0);
    EXPECT(errno != 0);
}

UNIT_TEST(errno_classes)
{
    EXPECT_INT(queue_writer_status(ENOSPC), QUEUE_WRITER_STAT_NOSPACE);
    EXPECT_INT(queue_writer_status(EDQUOT), QUEUE_WRITER_STAT_NOSPACE);
    EXPECT_INT(queue_writer_status(EIO), QUEUE_WRITER_STAT_WRITE);
    EXPECT_INT(queue_writer_status(EACCES), QUEUE_WRITER_STAT_WRITE);
}

UNIT_TEST(tls_protocols)
{
    VSTRING *why = vstring_alloc(50);
    int     min, max;
    long    no_ops;

    EXPECT_INT(tls_protocol_mask(">=TLSv1.2", &min, &max, &no_ops, why), 0);
    EXPECT_INT(min, TLS1_2_VERSION);
    EXPECT_INT(max, TLS1_3_VERSION);
    EXPECT_INT(tls_protocol_mask("!SSLv2, !SSLv3", &min, &max, &no_ops, why), 0);
    EXPECT_INT(min, TLS1_VERSION);
    EXPECT_INT(tls_protocol_mask("!SSLv2:!SSLv3:!TLSv1:!TLSv1.1", &min, &max, &no_ops, why), 0);
    EXPECT_INT(min, TLS1_2_VERSION);
    EXPECT_INT(tls_protocol_mask("TLSv1.2 TLSv1.3", &min, &max, &no_ops, why), 0);
    EXPECT_INT(min, TLS1_2_VERSION);
    EXPECT_INT(tls_protocol_mask("<=TLSv1.2", &min, &max, &no_ops, why), 0);
    EXPECT_INT(max, TLS1_2_VERSION);
    EXPECT_INT(tls_protocol_mask("TLSv9", &min, &max, &no_ops, why), -1);
    EXPECT(strstr(vstring_str(why), "TLSv9") != 0);
    EXPECT_INT(tls_protocol_mask("!TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3 !SSLv3", &min, &max,
				 &no_ops, why), -1);
    vstring_free(why);
}

int     main(void)
{
    int     ret = unit_run();
    char    path[300];

    snprintf(path, sizeof(path), "%s/main.cf", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/incoming", dir);
    rmdir(path);
    rmdir(dir);
    return (ret);
}
