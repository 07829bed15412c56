/*
 * NAME
 *	smtp_client_sasl - AUTH PLAIN and LOGIN, client side
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	const char *smtp_sasl_choose(SMTP_SESSION *sess);
 *	int smtp_sasl_authenticate(SMTP_SESSION *sess, const char *user,
 *				   const char *pass, SMTP_WHY *why);
 * DESCRIPTION
 *	smtp_sasl_choose() picks the mechanism: the first of PLAIN and
 *	LOGIN that the server offers, that smtp_sasl_mechanism_filter (when
 *	set) allows, and that the security options allow. The options are
 *	smtp_sasl_tls_security_options on a TLS session, else
 *	smtp_sasl_security_options; "noplaintext" forbids both mechanisms
 *	(they send the password in the clear), "noanonymous" is always
 *	met, as Cyrus SASL reads them.
 *
 *	smtp_sasl_authenticate() runs the exchange (PLAIN with an initial
 *	response, RFC 4616; LOGIN with its two prompts) and wants 235.
 * DIAGNOSTICS
 *	Returns 0 on success, -1 with why set: "SASL authentication failed;
 *	server host[addr] said: 535 ..." (a soft error, 4.x.x, as Postfix's
 *	smtp_sasl_auth_soft_bounce: wrong credentials are fixed by the
 *	administrator, the mail must wait for it), "cannot authenticate to
 *	server X: no mechanism available", or a lost connection.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "smtpc/smtp_client.h"

static int sasl_option(const char *options, const char *name)
{
    ARGV   *av = argv_split(options, LIST_DELIMS);
    int     found = 0;

    for (size_t i = 0; i < av->argc; i++)
	if (strcasecmp(av->argv[i], name) == 0)
	    found = 1;
    argv_free(av);
    return (found);
}

static int sasl_listed(const char *list, const char *mech)
{
    return (sasl_option(list, mech));
}

const char *smtp_sasl_choose(SMTP_SESSION *sess)
{
    static const char *mechs[] = {"PLAIN", "LOGIN"};
    const char *options = sess->tls ? smtp_conf.sasl_tls_security_options
    : smtp_conf.sasl_security_options;

    if (sasl_option(options, "noplaintext"))
	return (0);
    for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
	if (!sasl_listed(sess->auth_mechs ? sess->auth_mechs : "", mechs[i]))
	    continue;
	if (*smtp_conf.sasl_mechanism_filter
	    && !sasl_listed(smtp_conf.sasl_mechanism_filter, mechs[i]))
	    continue;
	return (mechs[i]);
    }
    return (0);
}

static void b64_encode(VSTRING *out, const void *data, size_t len)
{
    vstring_reset(out);
    vstring_space(out, 4 * ((len + 2) / 3) + 1);
    out->len = EVP_EncodeBlock((unsigned char *) out->data, data, (int) len);
    out->data[out->len] = 0;
}

/* sasl_send - send one line (not logged: it carries secrets), read reply */
static int sasl_send(SMTP_SESSION *sess, const char *line, SMTP_REPLY *reply,
		             SMTP_WHY *why, const char *what)
{
    vstream_fprintf(sess->stream, "%s\r\n", line);
    if (smtp_chat_reply(sess, reply) < 0) {
	smtp_why_set(why, sess->relay, "4.4.2", "%s with %s while performing %s",
		     vstream_ftimeout(sess->stream) ? "conversation timed out"
		     : "lost connection", sess->namaddr, what);
	return (-1);
    }
    return (0);
}

static int sasl_failed(SMTP_SESSION *sess, SMTP_REPLY *reply, SMTP_WHY *why)
{
    char    dsn[16];

    /* Make the status soft: wrong credentials are an administrator's problem. */
    snprintf(dsn, sizeof(dsn), "4%s", reply->dsn + 1);
    if (reply->code / 100 == 2 || reply->code / 100 == 3)
	strcpy(dsn, "4.7.0");
    smtp_why_set(why, sess->relay, dsn,
		 "SASL authentication failed; server %s said: %s",
		 sess->namaddr, vstring_str(reply->text));
    return (-1);
}

int     smtp_sasl_authenticate(SMTP_SESSION *sess, const char *user,
			               const char *pass, SMTP_WHY *why)
{
    const char *mech = smtp_sasl_choose(sess);
    SMTP_REPLY *reply;
    VSTRING *buf, *line;
    int     ret = -1;

    if (mech == 0) {
	smtp_why_set(why, sess->relay, "4.7.0",
		     "SASL authentication failed; cannot authenticate to server %s:"
		     " no mechanism available", sess->namaddr);
	return (-1);
    }
    reply = smtp_reply_alloc();
    buf = vstring_alloc(100);
    line = vstring_alloc(100);
    if (msg_verbose)
	msg_info("> %s: AUTH %s (credentials of %s)", sess->relay, mech, user);
    if (strcmp(mech, "PLAIN") == 0) {
	VSTRING *plain = vstring_alloc(100);

	vstring_addch(plain, 0);
	vstring_strcat(plain, user);
	vstring_addch(plain, 0);
	vstring_strcat(plain, pass);
	b64_encode(buf, vstring_str(plain), vstring_len(plain));
	vstring_free(plain);
	vstring_sprintf(line, "AUTH PLAIN %s", vstring_str(buf));
	if (sasl_send(sess, vstring_str(line), reply, why, "the AUTH command") < 0)
	    goto done;
	if (reply->code == 334) {
	    /* A server that ignores the initial response asks again. */
	    if (sasl_send(sess, vstring_str(buf), reply, why, "the AUTH command") < 0)
		goto done;
	}
    } else {
	if (sasl_send(sess, "AUTH LOGIN", reply, why, "the AUTH command") < 0)
	    goto done;
	if (reply->code == 334) {
	    b64_encode(buf, user, strlen(user));
	    if (sasl_send(sess, vstring_str(buf), reply, why, "the AUTH command") < 0)
		goto done;
	}
	if (reply->code == 334) {
	    b64_encode(buf, pass, strlen(pass));
	    if (sasl_send(sess, vstring_str(buf), reply, why, "the AUTH command") < 0)
		goto done;
	}
    }
    if (reply->code == 235) {
	if (msg_verbose)
	    msg_info("authenticated to %s as %s with %s", sess->namaddr, user, mech);
	ret = 0;
    } else {
	if (reply->code == 334) {
	    /* Cancel an exchange we do not understand (RFC 4954). */
	    smtp_chat_cmd(sess, "*");
	    (void) smtp_chat_reply(sess, reply);
	}
	(void) sasl_failed(sess, reply, why);
    }
done:
    smtp_reply_free(reply);
    vstring_free(buf);
    vstring_free(line);
    return (ret);
}
