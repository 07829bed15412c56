/*
 * NAME
 *	hbc - header_checks and body_checks: the table actions
 * DESCRIPTION
 *	See hbc.h.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "dict/dict.h"
#include "dict/maps.h"
#include "global/mail_conf.h"
#include "global/hbc.h"

HBC_MAPS *hbc_maps_create(const char *header_param, const char *body_param, int flags)
{
    HBC_MAPS *maps = mycalloc(1, sizeof(*maps));
    const char *names;

    if (header_param && *(names = mail_conf_str(header_param)) != 0)
	maps->header = maps_create(header_param, names, DICT_FLAG_DEFAULT);
    if (body_param && *(names = mail_conf_str(body_param)) != 0)
	maps->body = maps_create(body_param, names, DICT_FLAG_DEFAULT);
    maps->flags = flags;
    return (maps);
}

int     hbc_maps_active(HBC_MAPS *maps, int what)
{
    return (maps && (what == HBC_HEADER ? maps->header : maps->body) != 0);
}

void    hbc_begin(HBC *hbc, HBC_MAPS *maps, const char *queue_id, HBC_LOG_FN log,
		          void *context)
{
    memset(hbc, 0, sizeof(*hbc));
    hbc->maps = maps;
    hbc->queue_id = queue_id;
    hbc->log = log;
    hbc->context = context;
    hbc->reply = vstring_alloc(100);
}

void    hbc_end(HBC *hbc)
{
    if (hbc->reply)
	vstring_free(hbc->reply);
    hbc->reply = 0;
    if (hbc->filter)
	vstring_free(hbc->filter);
    hbc->filter = 0;
}

/* hbc_reject - the REJECT reply: optional X.Y.Z status, then text */
static void hbc_reject(HBC *hbc, const char *text)
{
    const char *cp = text;
    size_t  dsn_len;

    /* A status is [45].digits.digits followed by white space or the end. */
    if ((*cp == '4' || *cp == '5') && cp[1] == '.' && isdigit((unsigned char) cp[2])) {
	cp += 2;
	while (isdigit((unsigned char) *cp))
	    cp++;
	if (*cp == '.' && isdigit((unsigned char) cp[1])) {
	    cp++;
	    while (isdigit((unsigned char) *cp))
		cp++;
	    if (*cp == 0 || *cp == ' ' || *cp == '\t') {
		dsn_len = cp - text;
		while (*cp == ' ' || *cp == '\t')
		    cp++;
		vstring_sprintf(hbc->reply, "%s %.*s %s", *text == '4' ? "451" : "550",
				(int) dsn_len, text,
				*cp ? cp : "message content rejected");
		return;
	    }
	}
    }
    vstring_sprintf(hbc->reply, "550 5.7.1 %s", *text ? text : "message content rejected");
}

int     hbc_check(HBC *hbc, int what, const char *text, VSTRING *out)
{
    MAPS   *maps = what == HBC_HEADER ? hbc->maps->header : hbc->maps->body;
    const char *where = what == HBC_HEADER ? "header" : "body";
    int     smtp = hbc->maps->flags & HBC_FLAG_SMTP;
    const char *value;
    const char *arg;
    size_t  cmd_len;

    if (maps == 0 || hbc->done || *text == 0)
	return (HBC_KEEP);
    if ((value = maps_find(maps, text, 0)) == 0) {
	if (maps->error != 0) {
	    msg_warn("%s: %s map lookup problem -- message not accepted, try again later",
		     hbc->queue_id, maps->title);
	    vstring_strcpy(hbc->reply, "451 4.3.0 Error: queue file write error");
	    hbc->error = 1;
	    hbc->done = 1;
	}
	return (HBC_KEEP);
    }
    cmd_len = strcspn(value, " \t");
    for (arg = value + cmd_len; *arg == ' ' || *arg == '\t'; arg++)
	 /* void */ ;
#define IS_CMD(name) (cmd_len == sizeof(name) - 1 && strncasecmp(value, name, cmd_len) == 0)

    /* What the smtp client cannot do, in Postfix's words. */
    if (smtp && (IS_CMD("REJECT") || IS_CMD("DISCARD") || IS_CMD("HOLD")
		 || IS_CMD("REDIRECT") || IS_CMD("FILTER") || IS_CMD("BCC")
		 || IS_CMD("PASS"))) {
	msg_warn("unsupported command in %s map: %s", maps->title, value);
	return (HBC_KEEP);
    }
    if (IS_CMD("REJECT")) {
	hbc_reject(hbc, arg);
	hbc->log(hbc->context, "reject", where, text, vstring_str(hbc->reply) + 4);
	hbc->done = 1;
	return (HBC_KEEP);
    }
    if (IS_CMD("DISCARD")) {
	hbc->log(hbc->context, "discard", where, text, arg);
	hbc->discard = 1;
	hbc->done = 1;
	return (HBC_KEEP);
    }
    if (IS_CMD("HOLD")) {
	hbc->log(hbc->context, "hold", where, text, arg);
	hbc->hold = 1;
	return (HBC_KEEP);
    }
    if (IS_CMD("WARN")) {
	hbc->log(hbc->context, "warning", where, text, arg);
	return (HBC_KEEP);
    }
    if (IS_CMD("INFO")) {
	hbc->log(hbc->context, "info", where, text, arg);
	return (HBC_KEEP);
    }
    if (IS_CMD("IGNORE"))
	return (HBC_DROP);
    if (IS_CMD("STRIP")) {
	hbc->log(hbc->context, "strip", where, text, arg);
	return (HBC_DROP);
    }
    if (IS_CMD("DUNNO") || IS_CMD("OK"))
	return (HBC_KEEP);
    if (IS_CMD("PREPEND") || IS_CMD("REPLACE")) {
	int     prepend = IS_CMD("PREPEND");

	if (*arg == 0) {
	    msg_warn("%.*s action without text in %s map",
		     (int) cmd_len, value, maps->title);
	    return (HBC_KEEP);
	}
	hbc->log(hbc->context, prepend ? "prepend" : "replace", where, text, arg);
	vstring_strcpy(out, arg);
	return (prepend ? HBC_PREPEND : HBC_REPLACE);
    }
    if (IS_CMD("FILTER")) {
	const char *colon = strchr(arg, ':');

	/* transport:nexthop, the transport not empty; the last one wins. */
	if (colon == 0 || colon == arg || strpbrk(arg, " \t") != 0) {
	    msg_warn("%s: %s map: FILTER action without transport:destination: %s",
		     hbc->queue_id, maps->title, value);
	    return (HBC_KEEP);
	}
	hbc->log(hbc->context, "filter", where, text, arg);
	if (hbc->filter == 0)
	    hbc->filter = vstring_alloc(50);
	vstring_strcpy(hbc->filter, arg);
	return (HBC_KEEP);
    }
    if (IS_CMD("REDIRECT") || IS_CMD("BCC")) {
	msg_warn("%s: %s map: action %.*s is not supported; treated as DUNNO",
		 hbc->queue_id, maps->title, (int) cmd_len, value);
	return (HBC_KEEP);
    }
    msg_warn("unknown command in %s map: %s", maps->title, value);
    return (HBC_KEEP);
}
