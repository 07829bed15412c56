/*
 * NAME
 *	local_command - deliver to a command
 * SYNOPSIS
 *	#include "local.h"
 *
 *	void local_deliver_command(LOCAL_STATE *state, const char *command,
 *				   int mailbox);
 * DESCRIPTION
 *	local_deliver_command() pipes the message into "|command" of an
 *	alias, .forward or :include: file, or, with mailbox set, into
 *	mailbox_command. The message gets a "From " line, Return-Path:,
 *	X-Original-To: and (prepend_delivered_header "command")
 *	Delivered-To:, no quoting and no empty line at the end.
 *
 *	Only where allow_mail_to_commands allows the expansion type
 *	(alias, forward, include; by default alias and forward), else
 *	5.7.1 "mail to command is restricted"; mailbox_command always.
 *
 *	The command runs (pipe_command(3)) with the rights of the user on
 *	whose behalf the delivery is made (default_privs when there is
 *	none or it is root), without supplementary groups, in
 *	command_execution_directory ($name values filtered with
 *	execution_directory_expansion_filter; failing to get there defers)
 *	or else the queue folder, with local_command_shell when set, for
 *	at most command_time_limit. Its environment, values filtered with
 *	command_expansion_filter, is Postfix's: SHELL and HOME (with a
 *	user), USER, LOGNAME, EXTENSION (when there is one), DOMAIN,
 *	LOCAL, ORIGINAL_RECIPIENT, RECIPIENT, SENDER, CLIENT_ADDRESS,
 *	CLIENT_HELO, CLIENT_HOSTNAME, CLIENT_PROTOCOL, SASL_USERNAME (when
 *	known), PATH=/usr/bin:/bin and the export_environment variables.
 * DIAGNOSTICS
 *	"delivered to command: COMMAND" when it exits 0; otherwise the
 *	reason and status of pipe_command(3): EX_TEMPFAIL defers, "|exit
 *	67" bounces "user unknown", a command's "5.X.X text" output
 *	decides.
 */
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "util/mac_expand.h"
#include "global/mail_conf.h"
#include "global/mail_copy.h"
#include "global/pipe_command.h"
#include "local.h"

/* env_add - NAME=value with the value filtered */
static void env_add(ARGV *env, const char *name, const char *value, const char *filter)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s=", name);
    for (const char *cp = value ? value : ""; *cp; cp++)
	vstring_addch(buf, strchr(filter, *cp) ? *cp : '_');
    argv_add(env, vstring_str(buf));
    vstring_free(buf);
}

/* export_env - the export_environment variables: NAME, or NAME=value */
static void export_env(ARGV *env)
{
    ARGV   *names = argv_split_list(mail_conf_str(VAR_EXPORT_ENVIRONMENT));
    const char *value;

    for (size_t i = 0; i < names->argc; i++) {
	if (strchr(names->argv[i], '='))
	    argv_add(env, names->argv[i]);
	else if ((value = getenv(names->argv[i])) != 0) {
	    VSTRING *buf = vstring_alloc(100);

	    vstring_sprintf(buf, "%s=%s", names->argv[i], value);
	    argv_add(env, vstring_str(buf));
	    vstring_free(buf);
	}
    }
    argv_free(names);
}

/* command_env - Postfix's environment for a command of local(8) */
static ARGV *command_env(LOCAL_STATE *state)
{
    const char *filter = mail_conf_str(VAR_COMMAND_EXPANSION_FILTER);
    DELIVER_REQUEST *req = state->msg->req;
    ARGV   *env = argv_alloc(24);

    if (state->usr.home) {
	env_add(env, "SHELL", state->usr.shell, filter);
	env_add(env, "HOME", state->usr.home, filter);
    }
    env_add(env, "USER", state->user, filter);
    if (state->extension)
	env_add(env, "EXTENSION", state->extension, filter);
    env_add(env, "DOMAIN", state->domain, filter);
    env_add(env, "LOGNAME", state->user, filter);
    env_add(env, "LOCAL", state->local, filter);
    env_add(env, "ORIGINAL_RECIPIENT", state->orig, filter);
    env_add(env, "RECIPIENT", state->address, filter);
    env_add(env, "SENDER", state->sender, filter);
    if (*req->client_addr)
	env_add(env, "CLIENT_ADDRESS", req->client_addr, filter);
    if (*req->helo_name)
	env_add(env, "CLIENT_HELO", req->helo_name, filter);
    if (*req->client_name)
	env_add(env, "CLIENT_HOSTNAME", req->client_name, filter);
    if (*state->msg->protocol)
	env_add(env, "CLIENT_PROTOCOL", state->msg->protocol, filter);
    if (*req->sasl_username)
	env_add(env, "SASL_USERNAME", req->sasl_username, filter);
    argv_add(env, "PATH=/usr/bin:/bin");
    export_env(env);
    return (env);
}

void    local_deliver_command(LOCAL_STATE *state, const char *command, int mailbox)
{
    DELIVER_REQUEST *req = state->msg->req;
    VSTRING *key = vstring_alloc(100);
    VSTRING *cwd = vstring_alloc(100);
    const char *cwd_tmpl;
    PIPE_COMMAND cmd;
    PIPE_RESULT res;
    ARGV   *env;
    uid_t   uid;
    gid_t   gid;

    if (req->flags & DEL_REQ_FLAG_VERIFY) {
	local_status_sent(state, "2.0.0", 1, "delivers to command: %s", command);
	goto out;
    }
    if (!mailbox && (state->exp_type & local_conf.cmd_mask) == 0) {
	local_status_bounce(state, "5.7.1", 0, "mail to command is restricted");
	goto out;
    }
    local_user_privs(state, &uid, &gid);
    vstring_sprintf(key, "%ld %s", (long) uid, command);
    if (local_been_here(state->msg, "command", vstring_str(key)))
	goto out;

    if ((cwd_tmpl = mail_conf_raw(VAR_COMMAND_EXECUTION_DIRECTORY)) == 0)
	cwd_tmpl = mail_conf_default(VAR_COMMAND_EXECUTION_DIRECTORY);
    if (*cwd_tmpl && (mac_expand(cwd, cwd_tmpl,
				 mail_conf_str(VAR_EXECUTION_DIRECTORY_EXPANSION_FILTER),
				 local_attr_lookup, state) & MAC_EXPAND_ERROR)) {
	msg_warn("bad %s syntax: \"%s\"", VAR_COMMAND_EXECUTION_DIRECTORY, cwd_tmpl);
	local_status_defer(state, "4.3.5", "mail system configuration error");
	goto out;
    }

    memset(&cmd, 0, sizeof(cmd));
    env = command_env(state);
    cmd.command = command;
    cmd.shell = mail_conf_str(VAR_LOCAL_COMMAND_SHELL);
    cmd.name = command;
    cmd.env = env->argv;
    cmd.uid = uid;
    cmd.gid = gid;
    cmd.cwd = *cwd_tmpl ? vstring_str(cwd) : 0;
    cmd.time_limit = local_conf.command_time_limit;
    cmd.log_prefix = "";
    cmd.queue_file = state->msg->fp;
    cmd.offset = req->data_offset;
    cmd.size = req->data_size;
    cmd.copy_flags = MAIL_COPY_FROM | MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT;
    if (local_conf.deliver_hdr_mask & DELIVER_HDR_CMD)
	cmd.copy_flags |= MAIL_COPY_DELIVERED;
    cmd.copy_env.sender = state->sender;
    cmd.copy_env.orig_rcpt = state->orig;
    cmd.copy_env.delivered = state->delivered;
    cmd.copy_env.eol = "\n";

    pipe_result_init(&res);
    switch (pipe_command(&cmd, &res)) {
    case PIPE_STAT_OK:
	local_status_sent(state, "2.0.0", 1, "delivered to command: %s", command);
	break;
    case PIPE_STAT_DEFER:
	local_status_defer(state, res.dsn, "%s", vstring_str(res.text));
	break;
    default:
	local_status_bounce(state, res.dsn, vstring_str(res.diag), "%s", vstring_str(res.text));
	break;
    }
    pipe_result_free(&res);
    argv_free(env);

out:
    vstring_free(key);
    vstring_free(cwd);
}
