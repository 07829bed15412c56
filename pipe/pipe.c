/*
 * NAME
 *	pipe - deliver mail to an external command
 * SYNOPSIS
 *	pipe [generic daemon options] command_attributes...
 * DESCRIPTION
 *	Started by master for services whose command is "pipe" (maildrop,
 *	uucp, bsmtp, mailman... in Debian's stock master.cf). The
 *	master.cf arguments after the daemon options are Postfix's
 *	command attributes:
 *
 *	flags=BDFORXhqu.>	what the message and the macros look like
 *	user=name[:group]	the ids the command runs with (required; not
 *				root, not mail_owner)
 *	argv=command ...	the command and its arguments (required, last)
 *	size=limit		larger messages bounce
 *	eol=string		line ending (C escapes; default "\n")
 *	null_sender=text	$sender and the From_/Return-Path: of the null
 *				sender (default MAILER-DAEMON)
 *	directory=path		working folder (default the queue folder)
 *	chroot=path		change root first
 *
 *	Each request runs the command once, for all its recipients: an
 *	argument that names a recipient macro ($recipient,
 *	$original_recipient, $user, $extension, $mailbox) is repeated for
 *	each recipient. The macros and flags are listed in
 *	pipe(8). The command's exit status decides for all recipients:
 *	0 is "delivered via SERVICE service", with the command's output
 *	in parentheses when it said something; failures as
 *	pipe_command(3) words them (sysexits, "Command died with status
 *	N", an enhanced status code at the start of the output).
 *
 *	Runs with the effective ids of mail_owner and root as its real
 *	id (master.cf unpriv "n"): the command's child gives up root for
 *	the user= ids for good. The time limit is SERVICE_time_limit,
 *	else command_time_limit.
 * SEE ALSO
 *	pipe(8), pipe_command(3), qmgr(8)
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/mail_addr.h"
#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "global/mail_copy.h"
#include "global/pipe_command.h"
#include "global/queue_envelope.h"
#include "global/delivered_hdr.h"
#include "global/deliver_request.h"

#define PIPE_FLAG_FOLD_HOST	(1<<0)	/* h */
#define PIPE_FLAG_FOLD_USER	(1<<1)	/* u */
#define PIPE_FLAG_QUOTE		(1<<2)	/* q */
#define PIPE_FLAG_FINAL		(1<<3)	/* X */
#define PIPE_FLAG_DELIVERED	(1<<4)	/* D */

typedef struct PIPE_CONF {
    int     flags;			/* PIPE_FLAG_* */
    int     copy_flags;			/* MAIL_COPY_* */
    uid_t   uid;
    gid_t   gid;
    long    size_limit;			/* 0 = none */
    char   *eol;
    char   *null_sender;
    char   *directory;
    char   *chroot_dir;
    ARGV   *argv;
    long    time_limit;
    int     privileged;
} PIPE_CONF;

static PIPE_CONF conf;

/* Macros that take one value per recipient. */
static const char *const rcpt_macros[] = {
    "recipient", "original_recipient", "user", "extension", "mailbox", 0,
};

/* unescape - eol=: \a \b \f \n \r \t \v \ddd \\ */
static char *unescape(const char *text)
{
    VSTRING *out = vstring_alloc(8);

    for (const char *cp = text; *cp; cp++) {
	if (*cp != '\\' || cp[1] == 0) {
	    vstring_addch(out, *cp);
	    continue;
	}
	switch (*++cp) {
	case 'a':
	    vstring_addch(out, '\a');
	    break;
	case 'b':
	    vstring_addch(out, '\b');
	    break;
	case 'f':
	    vstring_addch(out, '\f');
	    break;
	case 'n':
	    vstring_addch(out, '\n');
	    break;
	case 'r':
	    vstring_addch(out, '\r');
	    break;
	case 't':
	    vstring_addch(out, '\t');
	    break;
	case 'v':
	    vstring_addch(out, '\v');
	    break;
	default:
	    if (*cp >= '0' && *cp <= '7') {
		int     ch = 0;

		for (int n = 0; n < 3 && *cp >= '0' && *cp <= '7'; n++, cp++)
		    ch = ch * 8 + (*cp - '0');
		cp--;
		vstring_addch(out, ch);
	    } else {
		vstring_addch(out, *cp);
	    }
	    break;
	}
    }
    return (vstring_export(out));
}

/* parse_flags - flags=BDFORXhqu.> */
static void parse_flags(const char *service, const char *value)
{
    for (const char *cp = value; *cp; cp++) {
	switch (*cp) {
	case 'B':
	    conf.copy_flags |= MAIL_COPY_BLANK;
	    break;
	case 'D':
	    conf.copy_flags |= MAIL_COPY_DELIVERED;
	    conf.flags |= PIPE_FLAG_DELIVERED;
	    break;
	case 'F':
	    conf.copy_flags |= MAIL_COPY_FROM;
	    break;
	case 'O':
	    conf.copy_flags |= MAIL_COPY_ORIG_RCPT;
	    break;
	case 'R':
	    conf.copy_flags |= MAIL_COPY_RETURN_PATH;
	    break;
	case 'X':
	    conf.flags |= PIPE_FLAG_FINAL;
	    break;
	case 'h':
	    conf.flags |= PIPE_FLAG_FOLD_HOST;
	    break;
	case 'q':
	    conf.flags |= PIPE_FLAG_QUOTE;
	    break;
	case 'u':
	    conf.flags |= PIPE_FLAG_FOLD_USER;
	    break;
	case '.':
	    conf.copy_flags |= MAIL_COPY_DOT;
	    break;
	case '>':
	    conf.copy_flags |= MAIL_COPY_QUOTE;
	    break;
	default:
	    msg_fatal("service %s: unknown flag: %c (decimal %d)", service,
		      *cp, (unsigned char) *cp);
	}
    }
}

/* parse_user - user=name[:group]; never root, never mail_owner */
static void parse_user(const char *service, const char *value)
{
    char   *copy = mystrdup(value);
    char   *group = split_at(copy, ':');
    struct passwd *pw;
    struct group *gr;

    if ((pw = getpwnam(copy)) == 0)
	msg_fatal("service %s: user= command-line attribute: unknown user name: %s",
		  service, copy);
    conf.uid = pw->pw_uid;
    conf.gid = pw->pw_gid;
    if (group) {
	if ((gr = getgrnam(group)) == 0)
	    msg_fatal("service %s: user= command-line attribute: unknown group name: %s",
		      service, group);
	conf.gid = gr->gr_gid;
    }
    if (conf.uid == 0)
	msg_fatal("service %s: user= command-line attribute specifies root privileges",
		  service);
    if ((pw = getpwnam(mail_conf_str(VAR_MAIL_OWNER))) != 0 && pw->pw_uid == conf.uid)
	msg_fatal("service %s: user= command-line attribute specifies mail system owner %s",
		  service, mail_conf_str(VAR_MAIL_OWNER));
    if (conf.gid == 0)
	msg_fatal("service %s: user= command-line attribute specifies privileged group id 0",
		  service);
    myfree(copy);
}

static void pipe_pre_init(const char *service, char **argv)
{
    VSTRING *name = vstring_alloc(64);
    const char *raw;
    int     have_user = 0;

    conf.null_sender = mystrdup("MAILER-DAEMON");
    conf.eol = mystrdup("\n");
    for (; *argv; argv++) {
	char   *value;

	if ((value = strchr(*argv, '=')) == 0)
	    msg_fatal("service %s: bad command-line attribute: %s", service, *argv);
	value++;
	if (strncmp(*argv, "argv=", 5) == 0) {
	    conf.argv = argv_alloc(8);
	    if (*value)
		argv_add(conf.argv, value);
	    while (*++argv)
		argv_add(conf.argv, *argv);
	    break;
	} else if (strncmp(*argv, "flags=", 6) == 0) {
	    parse_flags(service, value);
	} else if (strncmp(*argv, "user=", 5) == 0) {
	    parse_user(service, value);
	    have_user = 1;
	} else if (strncmp(*argv, "size=", 5) == 0) {
	    if (!alldig(value) || *value == 0)
		msg_fatal("service %s: bad size= command-line attribute: %s", service, value);
	    conf.size_limit = atol(value);
	} else if (strncmp(*argv, "eol=", 4) == 0) {
	    myfree(conf.eol);
	    conf.eol = unescape(value);
	} else if (strncmp(*argv, "null_sender=", 12) == 0) {
	    myfree(conf.null_sender);
	    conf.null_sender = mystrdup(value);
	} else if (strncmp(*argv, "directory=", 10) == 0) {
	    conf.directory = mystrdup(value);
	} else if (strncmp(*argv, "chroot=", 7) == 0) {
	    conf.chroot_dir = mystrdup(value);
	} else {
	    msg_fatal("service %s: unknown command-line attribute: %s", service, *argv);
	}
    }
    if (!have_user)
	msg_fatal("service %s: missing user= command-line attribute", service);
    if (conf.argv == 0 || conf.argv->argc == 0)
	msg_fatal("service %s: missing argv= command-line attribute", service);

    /* SERVICE_time_limit, else command_time_limit. */
    vstring_sprintf(name, "%s_time_limit", service);
    if ((raw = mail_conf_raw(vstring_str(name))) != 0) {
	char   *text = mail_conf_expand(raw);

	if (mail_conf_time_value(text, 's', &conf.time_limit) < 0 || conf.time_limit <= 0)
	    msg_fatal("bad %s value: %s", vstring_str(name), text);
	myfree(text);
    } else {
	conf.time_limit = mail_conf_time(VAR_COMMAND_TIME_LIMIT);
    }
    conf.privileged = getuid() == 0;
    vstring_free(name);
}

static void pipe_post_init(const char *service, char **argv)
{
    struct passwd *pw;

    (void) service;
    (void) argv;
    /* Root only where needed: the command's child gives it up for good. */
    if (conf.privileged && (pw = getpwnam(mail_conf_str(VAR_MAIL_OWNER))) != 0) {
	if (setgroups(1, &pw->pw_gid) < 0 || setegid(pw->pw_gid) < 0
	    || seteuid(pw->pw_uid) < 0)
	    msg_fatal("set effective ids to %s: %m", mail_conf_str(VAR_MAIL_OWNER));
    }
}

/* The values of one delivery, for the macros. */
typedef struct PIPE_VARS {
    DELIVER_REQUEST *req;
    RECIPIENT *rcpt;			/* the recipient being expanded */
    const char *protocol;
    const char *client_port;
    int     rcpt_used;			/* a per-recipient macro was named */
    VSTRING *buf;
    VSTRING *buf2;
} PIPE_VARS;

/* fold_address - the h and u flags on a whole address; q quotes */
static const char *fold_address(PIPE_VARS *v, const char *addr, int quote)
{
    const char *at = strrchr(addr, '@');

    vstring_strcpy(v->buf2, addr);
    if (conf.flags & PIPE_FLAG_FOLD_USER) {
	for (char *cp = vstring_str(v->buf2); *cp && (at == 0 || cp < vstring_str(v->buf2) + (at - addr)); cp++)
	    *cp = tolower((unsigned char) *cp);
    }
    if ((conf.flags & PIPE_FLAG_FOLD_HOST) && at)
	lowercase(vstring_str(v->buf2) + (at - addr));
    if (quote && (conf.flags & PIPE_FLAG_QUOTE)) {
	mail_addr_externalize(v->buf, vstring_str(v->buf2));
	return (vstring_str(v->buf));
    }
    return (vstring_str(v->buf2));
}

static const char *pipe_lookup(const char *name, void *context)
{
    PIPE_VARS *v = context;
    DELIVER_REQUEST *req = v->req;
    const char *addr = v->rcpt->address;
    const char *at = strrchr(addr, '@');
    const char *delims = mail_conf_str(VAR_RECIPIENT_DELIMITER);
    VSTRING *user;
    VSTRING *ext;

    for (int i = 0; rcpt_macros[i]; i++)
	if (strcmp(name, rcpt_macros[i]) == 0)
	    v->rcpt_used = 1;
    if (strcmp(name, "sender") == 0) {
	if (*req->sender == 0)
	    return (conf.null_sender);
	if (conf.flags & PIPE_FLAG_QUOTE) {
	    mail_addr_externalize(v->buf, req->sender);
	    return (vstring_str(v->buf));
	}
	return (req->sender);
    }
    if (strcmp(name, "recipient") == 0)
	return (fold_address(v, addr, 1));
    if (strcmp(name, "original_recipient") == 0)
	return (fold_address(v, *v->rcpt->orig_addr ? v->rcpt->orig_addr : addr, 1));
    if (strcmp(name, "nexthop") == 0) {
	vstring_strcpy(v->buf, req->nexthop);
	if (conf.flags & PIPE_FLAG_FOLD_HOST)
	    lowercase(vstring_str(v->buf));
	return (vstring_str(v->buf));
    }
    if (strcmp(name, "domain") == 0) {
	vstring_strcpy(v->buf, at ? at + 1 : "");
	if (conf.flags & PIPE_FLAG_FOLD_HOST)
	    lowercase(vstring_str(v->buf));
	return (vstring_str(v->buf));
    }
    if (strcmp(name, "mailbox") == 0 || strcmp(name, "user") == 0
	|| strcmp(name, "extension") == 0) {
	vstring_strncpy(v->buf, addr, at ? (size_t) (at - addr) : strlen(addr));
	if (conf.flags & PIPE_FLAG_FOLD_USER)
	    lowercase(vstring_str(v->buf));
	if (strcmp(name, "mailbox") == 0)
	    return (vstring_str(v->buf));
	user = vstring_alloc(64);
	ext = vstring_alloc(64);
	if (*delims == 0 || !mail_addr_split_ext(vstring_str(v->buf), delims, user, ext)) {
	    vstring_strcpy(user, vstring_str(v->buf));
	    vstring_reset(ext);
	}
	vstring_strcpy(v->buf, vstring_str(strcmp(name, "user") == 0 ? user : ext));
	vstring_free(user);
	vstring_free(ext);
	return (vstring_str(v->buf));
    }
    if (strcmp(name, "size") == 0) {
	vstring_sprintf(v->buf, "%lld", (long long) req->data_size);
	return (vstring_str(v->buf));
    }
    if (strcmp(name, "queue_id") == 0)
	return (req->queue_id);
    if (strcmp(name, "client_address") == 0)
	return (req->client_addr);
    if (strcmp(name, "client_hostname") == 0)
	return (req->client_name);
    if (strcmp(name, "client_helo") == 0)
	return (req->helo_name);
    if (strcmp(name, "client_protocol") == 0)
	return (v->protocol);
    if (strcmp(name, "client_port") == 0)
	return (v->client_port);
    if (strcmp(name, "sasl_username") == 0)
	return (req->sasl_username);
    if (strcmp(name, "sasl_method") == 0 || strcmp(name, "sasl_sender") == 0)
	return ("");
    return (0);
}

/*
 * expand_arg - one command argument: $name, ${name}, $(name) and $$, as
 * pipe(8) has them (no conditional forms); -1 with the bad name in *bad
 */
static int expand_arg(VSTRING *out, const char *arg, PIPE_VARS *v, VSTRING *bad)
{
    const char *cp = arg;

    vstring_reset(out);
    while (*cp) {
	const char *name;
	size_t  len;
	const char *value;
	int     close = 0;

	if (*cp != '$') {
	    vstring_addch(out, *cp++);
	    continue;
	}
	if (cp[1] == '$') {
	    vstring_addch(out, '$');
	    cp += 2;
	    continue;
	}
	if (cp[1] == '{' || cp[1] == '(') {
	    close = cp[1] == '{' ? '}' : ')';
	    name = cp + 2;
	    len = strcspn(name, close == '}' ? "}" : ")");
	    if (name[len] != close) {
		vstring_strcpy(bad, name);
		return (-1);
	    }
	} else {
	    name = cp + 1;
	    len = strspn(name, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	}
	vstring_strncpy(bad, name, len);
	if (len == 0 || (value = pipe_lookup(vstring_str(bad), v)) == 0)
	    return (-1);
	vstring_strcat(out, value);
	cp = name + len + (close != 0);
    }
    return (0);
}

/* expand_argv - the command line, recipient macros repeated */
static ARGV *expand_argv(PIPE_VARS *v, const char *service)
{
    ARGV   *out = argv_alloc(conf.argv->argc + v->req->rcpt_count);
    VSTRING *arg = vstring_alloc(100);
    VSTRING *bad = vstring_alloc(32);

    for (size_t i = 0; i < conf.argv->argc; i++) {
	v->rcpt = v->req->rcpt;
	v->rcpt_used = 0;
	if (expand_arg(arg, conf.argv->argv[i], v, bad) < 0) {
	    msg_warn("file %s/master.cf: service %s: unknown macro name: \"%s\"",
		     mail_conf_dir(), service, vstring_str(bad));
	    argv_free(out);
	    out = 0;
	    break;
	}
	argv_add(out, vstring_str(arg));
	if (!v->rcpt_used)
	    continue;
	for (size_t r = 1; r < v->req->rcpt_count; r++) {
	    v->rcpt = v->req->rcpt + r;
	    (void) expand_arg(arg, conf.argv->argv[i], v, bad);
	    argv_add(out, vstring_str(arg));
	}
    }
    vstring_free(arg);
    vstring_free(bad);
    return (out);
}

/* pipe_env - export_environment, and PATH */
static ARGV *pipe_env(void)
{
    ARGV   *names = argv_split_list(mail_conf_str(VAR_EXPORT_ENVIRONMENT));
    ARGV   *env = argv_alloc(8);
    VSTRING *buf = vstring_alloc(100);
    const char *value;

    for (size_t i = 0; i < names->argc; i++) {
	if (strchr(names->argv[i], '=')) {
	    argv_add(env, names->argv[i]);
	} else if ((value = getenv(names->argv[i])) != 0) {
	    vstring_sprintf(buf, "%s=%s", names->argv[i], value);
	    argv_add(env, vstring_str(buf));
	}
    }
    argv_add(env, "PATH=/usr/bin:/bin");
    argv_free(names);
    vstring_free(buf);
    return (env);
}

/*
 * result_all - the same outcome for every recipient; rcpt_only: a deferral
 * that says nothing about the service as a whole (the command's own)
 */
static void result_all(DELIVER_REQUEST *req, const char *dsn, int action,
		               const char *reason, const char *diag, const char *service,
		               int rcpt_only)
{
    DSN_RESULT res;

    memset(&res, 0, sizeof(res));
    snprintf(res.status, sizeof(res.status), "%s", dsn);
    res.action = action;
    res.reason = (char *) reason;
    res.relay = (char *) service;
    res.diag = diag && *diag ? (char *) diag : 0;
    if (action == 'd' && (conf.flags & PIPE_FLAG_FINAL))
	res.flags |= DSN_RESULT_FLAG_FINAL;
    if (action == 'x' && rcpt_only)
	res.flags |= DSN_RESULT_FLAG_RECIPIENT;
    for (size_t i = 0; i < req->rcpt_count; i++) {
	deliver_log(req, req->rcpt + i, &res);
	deliver_result(req, i, &res);
    }
}

static void pipe_deliver(DELIVER_REQUEST *req, const char *service)
{
    VSTRING *path = vstring_alloc(64);
    VSTRING *reason = vstring_alloc(100);
    QUEUE_ENVELOPE *envl = 0;
    DELIVERED_HDR *hdr = 0;
    PIPE_VARS vars;
    PIPE_COMMAND cmd;
    PIPE_RESULT res;
    ARGV   *argv = 0;
    ARGV   *env = 0;
    VSTREAM *fp;

    if (conf.size_limit > 0 && req->data_size > conf.size_limit) {
	result_all(req, "5.2.3", 'f', "message too large", 0, service, 1);
	goto out_nofile;
    }
    mail_queue_path(path, req->queue_name, req->queue_id);
    if ((fp = vstream_open(vstring_str(path), O_RDONLY, 0)) == 0) {
	msg_warn("%s: open %s: %m", req->queue_id, vstring_str(path));
	vstring_sprintf(reason, "cannot open queue file: %s", strerror(errno));
	result_all(req, "4.3.0", 'x', vstring_str(reason), 0, service, 0);
	goto out_nofile;
    }
    /* Flag D: a recipient that the message was delivered to is a loop. */
    if (conf.flags & PIPE_FLAG_DELIVERED) {
	hdr = delivered_hdr_read(fp, req->data_offset, req->data_size);
	for (size_t i = 0; i < req->rcpt_count; i++) {
	    if (delivered_hdr_find(hdr, req->rcpt[i].address)) {
		vstring_sprintf(reason, "mail forwarding loop for %s", req->rcpt[i].address);
		result_all(req, "5.4.6", 'f', vstring_str(reason), 0, service, 1);
		goto out;
	    }
	}
    }
    if (vstream_seek(fp, 0, SEEK_SET) == 0)
	envl = queue_envelope_read(fp, req->queue_id);

    memset(&vars, 0, sizeof(vars));
    vars.req = req;
    vars.protocol = envl && queue_envelope_attr(envl, "protocol") ?
	queue_envelope_attr(envl, "protocol") : "";
    vars.client_port = envl && queue_envelope_attr(envl, "client_port") ?
	queue_envelope_attr(envl, "client_port") : "";
    vars.buf = vstring_alloc(100);
    vars.buf2 = vstring_alloc(100);
    if ((argv = expand_argv(&vars, service)) == 0) {
	result_all(req, "4.3.5", 'x', "mail system configuration error", 0, service, 0);
	vstring_free(vars.buf);
	vstring_free(vars.buf2);
	goto out;
    }
    env = pipe_env();

    memset(&cmd, 0, sizeof(cmd));
    cmd.argv = argv->argv;
    cmd.name = conf.argv->argv[0];
    cmd.env = env->argv;
    cmd.uid = conf.uid;
    cmd.gid = conf.gid;
    cmd.chroot_dir = conf.chroot_dir;
    cmd.cwd = conf.directory;
    cmd.time_limit = conf.time_limit;
    cmd.log_prefix = "pipe_command: ";
    cmd.queue_file = fp;
    cmd.offset = req->data_offset;
    cmd.size = req->data_size;
    cmd.copy_flags = conf.copy_flags;
    cmd.copy_env.sender = *req->sender ? req->sender : conf.null_sender;
    cmd.copy_env.orig_rcpt = *req->rcpt[0].orig_addr ? req->rcpt[0].orig_addr
	: req->rcpt[0].address;
    cmd.copy_env.delivered = req->rcpt[0].address;
    cmd.copy_env.eol = conf.eol;

    pipe_result_init(&res);
    switch (pipe_command(&cmd, &res)) {
    case PIPE_STAT_OK:
	vstring_sprintf(reason, "delivered via %s service", service);
	if (vstring_len(res.output) > 0) {
	    char   *text = trimblanks(vstring_str(res.output));

	    if (*text)
		vstring_sprintf_append(reason, " (%s)", text);
	}
	result_all(req, "2.0.0", 'd', vstring_str(reason), 0, service, 1);
	break;
    case PIPE_STAT_DEFER:
	result_all(req, res.dsn, 'x', vstring_str(res.text), 0, service, 1);
	break;
    default:
	result_all(req, res.dsn, 'f', vstring_str(res.text), vstring_str(res.diag), service, 1);
	break;
    }
    pipe_result_free(&res);
    vstring_free(vars.buf);
    vstring_free(vars.buf2);

out:
    if (envl)
	queue_envelope_free(envl);
    if (hdr)
	delivered_hdr_free(hdr);
    if (argv)
	argv_free(argv);
    if (env)
	argv_free(env);
    (void) vstream_close(fp);
out_nofile:
    vstring_free(path);
    vstring_free(reason);
}

static void pipe_service(VSTREAM *client, const char *service, char **argv)
{
    DELIVER_REQUEST *req;

    (void) argv;
    if ((req = deliver_request_read(client)) == 0)
	return;
    pipe_deliver(req, service);
    (void) deliver_request_done(client, req);
    deliver_request_free(req);
}

int     main(int argc, char **argv)
{
    MAIL_SERVER_OPTS opts = {0};

    opts.pre_init = pipe_pre_init;
    opts.post_init = pipe_post_init;
    single_server_main(argc, argv, pipe_service, &opts);
    return (0);
}
