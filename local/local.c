/*
 * NAME
 *	local - the local delivery agent
 * SYNOPSIS
 *	local [generic daemon options]
 * DESCRIPTION
 *	Started by master for the "local" service of master.cf (unpriv
 *	"n": it starts as root). qmgr sends it the recipients of
 *	mydestination domains (local_transport). For each recipient it
 *	follows aliases(5), ~/.forward and :include: files, delivers to
 *	mailboxes (mail_spool_directory, home_mailbox: mbox or Maildir/),
 *	mailbox_command, files and commands with the recipient's rights,
 *	forwards addresses elsewhere as a new message, and bounces
 *	unknown users (or hands them to luser_relay). See local(8).
 *
 *	Privileges: after reading the configuration as root, the process
 *	runs with the effective ids of mail_owner, keeping root as its
 *	real and saved id; it takes the ids of a recipient (or of the
 *	spool folder) only while it reads a .forward or :include: file or
 *	opens and writes a mailbox or file, and commands run in a child
 *	that has given up root for good. Not chrooted (it needs home
 *	folders and the spool).
 * SEE ALSO
 *	local(8), aliases(5), qmgr(8)
 */
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/htable.h"
#include "util/stringops.h"
#include "dict/dict.h"
#include "dict/maps.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "global/mail_queue.h"
#include "global/queue_envelope.h"
#include "global/deliver_request.h"
#include "global/mbox_open.h"
#include "global/resolve.h"
#include "local.h"

LOCAL_CONF local_conf;

/* name_mask - a list of class names into a mask; unknown names are fatal */
static int name_mask(const char *param, const char *const *names, const int *bits)
{
    ARGV   *list = argv_split_list(mail_conf_str(param));
    int     mask = 0;

    for (size_t i = 0; i < list->argc; i++) {
	size_t  n;

	for (n = 0; names[n]; n++)
	    if (strcasecmp(list->argv[i], names[n]) == 0)
		break;
	if (names[n] == 0)
	    msg_fatal("unknown %s value \"%s\" in \"%s\"", param, list->argv[i],
		      mail_conf_str(param));
	mask |= bits[n];
    }
    argv_free(list);
    return (mask);
}

/*
 * direct_maps - a table list opened directly: local(8) reads "proxy:"
 * tables itself, as Postfix's does.
 */
static MAPS *direct_maps(const char *param)
{
    ARGV   *list = argv_split_list(mail_conf_str(param));
    VSTRING *names = vstring_alloc(100);
    MAPS   *maps = 0;

    for (size_t i = 0; i < list->argc; i++) {
	const char *name = list->argv[i];

	if (strncasecmp(name, "proxy:", 6) == 0)
	    name += 6;
	vstring_sprintf_append(names, "%s%s", i ? ", " : "", name);
    }
    if (vstring_len(names) > 0) {
	maps = maps_create(param, vstring_str(names), DICT_FLAG_DEFAULT);
	mail_server_watch((int (*) (void *)) maps_changed, maps);
    }
    argv_free(list);
    vstring_free(names);
    return (maps);
}

static void local_pre_init(const char *service, char **argv)
{
    static const char *const exp_names[] = {"alias", "forward", "include", 0};
    static const int exp_bits[] = {EXPAND_TYPE_ALIAS, EXPAND_TYPE_FWD, EXPAND_TYPE_INCL};
    static const char *const hdr_names[] = {"command", "file", "forward", 0};
    static const int hdr_bits[] = {DELIVER_HDR_CMD, DELIVER_HDR_FILE, DELIVER_HDR_FWD};
    struct passwd *pw;
    long    msg_limit;

    (void) argv;
    local_conf.service = service;
    local_conf.privileged = geteuid() == 0;
    local_conf.alias_maps = direct_maps(VAR_ALIAS_MAPS);
    local_conf.mbox_cmd_maps = direct_maps(VAR_MAILBOX_COMMAND_MAPS);
    local_conf.cmd_mask = name_mask(VAR_ALLOW_MAIL_TO_COMMANDS, exp_names, exp_bits);
    local_conf.file_mask = name_mask(VAR_ALLOW_MAIL_TO_FILES, exp_names, exp_bits);
    local_conf.deliver_hdr_mask = name_mask(VAR_PREPEND_DELIVERED_HEADER, hdr_names, hdr_bits);
    local_conf.lock_mask = mbox_lock_mask(mail_conf_str(VAR_MAILBOX_DELIVERY_LOCK));
    local_conf.mailbox_limit = mail_conf_int(VAR_MAILBOX_SIZE_LIMIT);
    local_conf.dup_limit = mail_conf_int(VAR_DUPLICATE_FILTER_LIMIT);
    local_conf.command_time_limit = mail_conf_time(VAR_COMMAND_TIME_LIMIT);
    local_conf.biff = mail_conf_bool(VAR_BIFF);
    local_conf.myorigin = mail_conf_str(VAR_MYORIGIN);
    local_conf.delimiter = mail_conf_str(VAR_RECIPIENT_DELIMITER);

    /* A mailbox must be able to hold the largest message we accept. */
    msg_limit = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);
    if (local_conf.mailbox_limit != 0 && msg_limit != 0
	&& local_conf.mailbox_limit < msg_limit)
	msg_fatal("configuration error: %s is smaller than %s",
		  VAR_MAILBOX_SIZE_LIMIT, VAR_MESSAGE_SIZE_LIMIT);

    if ((pw = getpwnam(mail_conf_str(VAR_DEFAULT_PRIVS))) == 0)
	msg_fatal("file %s/main.cf: parameter %s: unknown user name value: %s",
		  mail_conf_dir(), VAR_DEFAULT_PRIVS, mail_conf_str(VAR_DEFAULT_PRIVS));
    if (pw->pw_uid == 0)
	msg_fatal("%s: %s has root privileges", VAR_DEFAULT_PRIVS, pw->pw_name);
    local_conf.privs_uid = pw->pw_uid;
    local_conf.privs_gid = pw->pw_gid;
    if (local_conf.privileged) {
	if ((pw = getpwnam(mail_conf_str(VAR_MAIL_OWNER))) == 0)
	    msg_fatal("file %s/main.cf: parameter %s: unknown user name value: %s",
		      mail_conf_dir(), VAR_MAIL_OWNER, mail_conf_str(VAR_MAIL_OWNER));
	local_conf.owner_uid = pw->pw_uid;
	local_conf.owner_gid = pw->pw_gid;
    } else {
	local_conf.owner_uid = geteuid();
	local_conf.owner_gid = getegid();
    }

    /* Which addresses are ours (mydestination): the router's answer. */
    resolve_init();
    local_forward_init();

    /* A write beyond mailbox_size_limit fails with EFBIG, not a signal. */
    signal(SIGXFSZ, SIG_IGN);
}

static void local_post_init(const char *service, char **argv)
{
    (void) service;
    (void) argv;
    local_privs_init();
}

/* envelope_attrs - what the request lacks: protocol and client port */
static void envelope_attrs(LOCAL_MSG *msg)
{
    QUEUE_ENVELOPE *env;
    const char *value;

    msg->protocol = mystrdup("");
    msg->client_port = mystrdup("");
    if (vstream_seek(msg->fp, 0, SEEK_SET) < 0)
	return;
    if ((env = queue_envelope_read(msg->fp, msg->req->queue_id)) == 0)
	return;
    if ((value = queue_envelope_attr(env, "protocol")) != 0) {
	myfree(msg->protocol);
	msg->protocol = mystrdup(value);
    }
    if ((value = queue_envelope_attr(env, "client_port")) != 0) {
	myfree(msg->client_port);
	msg->client_port = mystrdup(value);
    }
    queue_envelope_free(env);
}

/* defer_all - the message cannot be read: every recipient waits */
static void defer_all(DELIVER_REQUEST *req, const char *why)
{
    DSN_RESULT res;

    memset(&res, 0, sizeof(res));
    snprintf(res.status, sizeof(res.status), "4.3.0");
    res.action = 'x';
    res.reason = (char *) why;
    res.relay = (char *) local_conf.service;
    for (size_t i = 0; i < req->rcpt_count; i++) {
	deliver_log(req, req->rcpt + i, &res);
	deliver_result(req, i, &res);
    }
}

static void local_deliver(DELIVER_REQUEST *req)
{
    LOCAL_MSG msg;
    VSTRING *path = vstring_alloc(64);

    memset(&msg, 0, sizeof(msg));
    msg.req = req;
    mail_queue_path(path, req->queue_name, req->queue_id);
    if ((msg.fp = vstream_open(vstring_str(path), O_RDONLY, 0)) == 0) {
	VSTRING *why = vstring_alloc(100);

	msg_warn("%s: open %s: %m", req->queue_id, vstring_str(path));
	vstring_sprintf(why, "cannot open queue file: %s", strerror(errno));
	defer_all(req, vstring_str(why));
	vstring_free(why);
	vstring_free(path);
	return;
    }
    envelope_attrs(&msg);
    msg.hdr = delivered_hdr_read(msg.fp, req->data_offset, req->data_size);
    msg.top = mycalloc(req->rcpt_count, sizeof(*msg.top));

    for (size_t i = 0; i < req->rcpt_count; i++) {
	LOCAL_STATE state;
	RECIPIENT *rcpt = req->rcpt + i;

	/* Duplicates are suppressed per recipient, as in Postfix. */
	msg.dup_filter = htable_create(32);
	msg.dup_count = 0;

	msg.top[i].rcpt = rcpt;
	msg.top[i].index = i;
	memset(&state, 0, sizeof(state));
	state.msg = &msg;
	state.top = msg.top + i;
	state.address = rcpt->address;
	state.orig = *rcpt->orig_addr ? rcpt->orig_addr : rcpt->address;
	state.delivered = rcpt->address;
	state.sender = req->sender;
	local_deliver_recipient(&state);
	local_state_free(&state);
	htable_free(msg.dup_filter, (void (*) (void *)) 0);
    }
    local_forward_finish(&msg);
    for (size_t i = 0; i < req->rcpt_count; i++)
	local_status_finish(&msg, i);

    myfree(msg.top);
    delivered_hdr_free(msg.hdr);
    myfree(msg.protocol);
    myfree(msg.client_port);
    (void) vstream_close(msg.fp);
    vstring_free(path);
}

static void local_service(VSTREAM *client, const char *service, char **argv)
{
    DELIVER_REQUEST *req;

    (void) service;
    (void) argv;
    if ((req = deliver_request_read(client)) == 0)
	return;
    local_deliver(req);
    (void) deliver_request_done(client, req);
    deliver_request_free(req);
}

int     main(int argc, char **argv)
{
    MAIL_SERVER_OPTS opts = {0};

    opts.pre_init = local_pre_init;
    opts.post_init = local_post_init;
    single_server_main(argc, argv, local_service, &opts);
    return (0);
}
