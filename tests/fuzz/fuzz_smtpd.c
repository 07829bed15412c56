/*
 * NAME
 *	fuzz_smtpd - libFuzzer target for whole SMTP dialogues
 * DESCRIPTION
 *	Each input is everything one client sends in one session
 *	(commands, message data, pipelined or not). It is fed to smtpd's
 *	session loop through an in-memory stream; replies are discarded.
 *	The session runs with a real configuration (relay_domains,
 *	mynetworks, restrictions with an inline: access table, small
 *	limits) and a real queue folder in a temporary directory, so MAIL,
 *	RCPT, DATA, BDAT, XCLIENT, XFORWARD and the queue writer are all
 *	exercised (smtpd_forbid_unauth_pipelining is off, or nearly every
 *	input would end at its first pipelined command). The session
 *	must end (end of input) without a crash, leak or hang.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "util/vstream.h"
#include "util/vstring.h"
#include "../../smtpd/smtpd.h"
#include "../../smtpd/smtpd_local.h"

static char top[] = "/tmp/fuzz-smtpd-XXXXXX";
static int saved_cwd = -1;

typedef struct INPUT {
    const uint8_t *data;
    size_t  len;
    size_t  pos;
} INPUT;

/* mem_read - hand out the input in small pieces, then end of file */
static ssize_t mem_read(void *ctx, int fd, void *buf, size_t len, int timeout_ms)
{
    INPUT  *in = ctx;
    size_t  n = in->len - in->pos;

    (void) fd;
    (void) timeout_ms;
    if (n > len)
	n = len;
    if (n > 997)				/* vary how lines are split */
	n = 997;
    memcpy(buf, in->data + in->pos, n);
    in->pos += n;
    return ((ssize_t) n);
}

static ssize_t mem_write(void *ctx, int fd, const void *buf, size_t len, int timeout_ms)
{
    (void) ctx;
    (void) fd;
    (void) buf;
    (void) timeout_ms;
    return ((ssize_t) len);
}

static void empty_incoming(void)
{
    DIR    *dir = opendir("incoming");
    struct dirent *de;
    char    path[300];

    if (dir == 0)
	return;
    while ((de = readdir(dir)) != 0) {
	if (de->d_name[0] == '.')
	    continue;
	snprintf(path, sizeof(path), "incoming/%s", de->d_name);
	unlink(path);
    }
    closedir(dir);
}

/* remove_top - clean up the temporary queue and configuration */
static void remove_top(void)
{
    char    path[100];

    if (fchdir(saved_cwd) < 0)
	return;
    snprintf(path, sizeof(path), "%s/incoming", top);
    if (chdir(top) == 0)
	empty_incoming();
    if (fchdir(saved_cwd) < 0)
	return;
    rmdir(path);
    snprintf(path, sizeof(path), "%s/main.cf", top);
    unlink(path);
    snprintf(path, sizeof(path), "%s/private", top);
    rmdir(path);
    rmdir(top);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char    path[100];
    FILE   *fp;

    (void) argc;
    (void) argv;
    if (mkdtemp(top) == 0)
	abort();
    snprintf(path, sizeof(path), "%s/main.cf", top);
    if ((fp = fopen(path, "w")) == 0)
	abort();
    fprintf(fp, "compatibility_level = 3.7\n"
	    "queue_directory = %s\n"
	    "myhostname = mx.test.invalid\n"
	    "mynetworks = 10.0.0.0/8\n"
	    "relay_domains = example.com\n"
	    "relay_recipient_maps = inline:{known@example.com=x, @example.org=x}\n"
	    "smtpd_recipient_restrictions = reject_non_fqdn_recipient, "
	    "check_recipient_access inline:{bad@example.com=REJECT, "
	    "{tmp@example.com=450 4.2.0 later}}\n"
	    "smtpd_sender_restrictions = reject_non_fqdn_sender\n"
	    "smtpd_error_sleep_time = 0\n"
	    "smtpd_hard_error_limit = 1000\n"
	    "smtpd_recipient_limit = 5\n"
	    "message_size_limit = 20000\n"
	    "line_length_limit = 600\n"
	    "header_size_limit = 2000\n"
	    "smtpd_client_connection_count_limit = 0\n"
	    "smtpd_forbid_unauth_pipelining = no\n"
	    "smtpd_authorized_xclient_hosts = 127.0.0.1\n"
	    "smtpd_authorized_xforward_hosts = 127.0.0.1\n"
	    "smtpd_noop_commands = FOO\n"
	    "fast_flush_domains = example.com\n"
	    "local_recipient_maps = unix:passwd.byname "
	    "inline:{postmaster=x, {alias@localhost=x}}\n", top);
    fclose(fp);
    mail_conf_read(top);
    snprintf(path, sizeof(path), "%s/incoming", top);
    if (mkdir(path, 0700) < 0 || (saved_cwd = open(".", O_RDONLY | O_DIRECTORY)) < 0)
	abort();
    atexit(remove_top);
    smtpd_params_init();
    smtpd_guard_init();
    smtpd_xclient_init();
    smtpd_limit_init();
    smtpd_check_init();
    smtpd_local_init();
    smtpd_content_init();
    smtpd_rewrite_init();
    smtpd_tls_init();
    smtpd_milter_init();
    smtpd_proxy_init();
    smtpd_sasl_init();
    return (0);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    INPUT   in = {data, size, 0};
    VSTREAM *client = vstream_fdopen(-1);
    SMTPD_STATE *state;

    /* The queue is relative to the cwd, as in smtpd; libFuzzer's is not. */
    if (chdir(top) < 0)
	abort();
    vstream_set_io(client, mem_read, mem_write, &in);
    state = smtpd_state_alloc(client);
    smtpd_peer_init(state, -1);
    smtpd_session(client, state);
    smtpd_state_free(state);
    vstream_release(client);
    empty_incoming();
    if (fchdir(saved_cwd) < 0)
	abort();
    return (0);
}
