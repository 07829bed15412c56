/*
 * NAME
 *	smtp_client_sasl - AUTH PLAIN, LOGIN and CRAM-MD5, client side
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	void smtp_sasl_init(void);
 *	const char *smtp_sasl_choose(SMTP_SESSION *sess, SMTP_WHY *why);
 *	int smtp_sasl_authenticate(SMTP_SESSION *sess, const char *user,
 *				   const char *pass, SMTP_WHY *why);
 * DESCRIPTION
 *	smtp_sasl_init() reads, once per process and before chroot,
 *	smtp_sasl_mechanism_filter (a list of mechanism names, /file/name
 *	and type:table items, "!" to exclude) and
 *	smtp_sasl_auth_soft_bounce (the lmtp_ ones for LMTP).
 *
 *	smtp_sasl_choose() picks the mechanism as Postfix's client does:
 *	the server's list (EHLO AUTH) goes through the mechanism filter
 *	first; then the security options (smtp_sasl_tls_security_options
 *	on a TLS session, else smtp_sasl_security_options) must allow the
 *	mechanism, as Cyrus SASL reads them: PLAIN and LOGIN send the
 *	password as it is (not allowed with noplaintext), CRAM-MD5 does
 *	not, but an active attacker or a dictionary attack can defeat it
 *	(not allowed with noactive or nodictionary); none of them gives
 *	forward_secrecy or mutual_auth; noanonymous is met. Of those left,
 *	CRAM-MD5 is preferred, then PLAIN, then LOGIN.
 *
 *	smtp_sasl_authenticate() runs the exchange (PLAIN with an initial
 *	response, RFC 4616; LOGIN with its two prompts; CRAM-MD5, RFC
 *	2195, HMAC-MD5 of the server's challenge) and wants 235.
 * DIAGNOSTICS
 *	Returns 0 on success, -1 with why set, in Postfix's words:
 *
 *	"SASL authentication failed; server host[addr] said: 535 ..."
 *	    with the server's status, made 4.x.x unless
 *	    smtp_sasl_auth_soft_bounce = no (then a 5xx reply bounces);
 *	"SASL authentication failed: server host[addr] offered no
 *	    compatible authentication mechanisms for this type of
 *	    connection security" (4.7.0) after "warning: host[addr]:port
 *	    offered no supported AUTH mechanisms: 'LOGIN PLAIN'" when the
 *	    filter leaves nothing;
 *	"SASL authentication failed; cannot authenticate to server
 *	    host[addr]: no mechanism available" (4.7.0) after "warning: SASL
 *	    authentication failure: No worthy mechs found" (Cyrus's text)
 *	    when the security options leave nothing;
 *	or a lost connection.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "dict/match_list.h"
#include "smtpc/smtp_client.h"

static MATCH_LIST *mech_filter;		/* NULL: no filter */
static int auth_soft_bounce;

/* What each mechanism gives, as Cyrus SASL's plugins declare it. */
#define MECH_PLAINTEXT	(1<<0)		/* the password goes as is */
#define MECH_ACTIVE	(1<<1)		/* defeated by an active attacker */
#define MECH_DICTIONARY	(1<<2)		/* open to a dictionary attack */

static const struct {
    const char *name;
    int     weakness;
}       mechs[] = {
    {"CRAM-MD5", MECH_ACTIVE | MECH_DICTIONARY},
    {"PLAIN", MECH_PLAINTEXT | MECH_ACTIVE | MECH_DICTIONARY},
    {"LOGIN", MECH_PLAINTEXT | MECH_ACTIVE | MECH_DICTIONARY},
};

void    smtp_sasl_init(void)
{
    const char *filter = smtp_param_str(VAR_SMTP_SASL_MECHANISM_FILTER);

    if (*filter)
	mech_filter = match_list_create(smtp_param_name(VAR_SMTP_SASL_MECHANISM_FILTER),
					filter, 0);
    auth_soft_bounce = smtp_param_bool(VAR_SMTP_SASL_AUTH_SOFT_BOUNCE);
}

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

const char *smtp_sasl_choose(SMTP_SESSION *sess, SMTP_WHY *why)
{
    const char *options = sess->tls ? smtp_conf.sasl_tls_security_options
    : smtp_conf.sasl_security_options;
    ARGV   *offered = argv_split(sess->auth_mechs ? sess->auth_mechs : "", " \t");
    ARGV   *left = argv_alloc(5);
    const char *chosen = 0;
    int     forbidden = 0;

    /* The filter first. */
    for (size_t i = 0; i < offered->argc; i++) {
	int     m = mech_filter ? match_list_string(mech_filter, offered->argv[i]) : 1;

	if (m < 0)
	    msg_warn("%s lookup error for \"%s\"",
		     smtp_param_name(VAR_SMTP_SASL_MECHANISM_FILTER), offered->argv[i]);
	else if (m > 0)
	    argv_add(left, offered->argv[i]);
    }
    if (left->argc == 0) {
	msg_warn("%s offered no supported AUTH mechanisms: '%s'", sess->relay,
		 sess->auth_mechs ? sess->auth_mechs : "");
	smtp_why_set(why, sess->relay, "4.7.0", "SASL authentication failed: server %s "
		     "offered no compatible authentication mechanisms for this type "
		     "of connection security", sess->namaddr);
	goto done;
    }

    /* Then what the security options allow, best first. */
    if (sasl_option(options, "noplaintext"))
	forbidden |= MECH_PLAINTEXT;
    if (sasl_option(options, "noactive"))
	forbidden |= MECH_ACTIVE;
    if (sasl_option(options, "nodictionary"))
	forbidden |= MECH_DICTIONARY;
    if (sasl_option(options, "forward_secrecy") || sasl_option(options, "mutual_auth"))
	forbidden = ~0;
    for (size_t n = 0; n < sizeof(mechs) / sizeof(mechs[0]) && chosen == 0; n++) {
	if (mechs[n].weakness & forbidden)
	    continue;
	for (size_t i = 0; i < left->argc; i++)
	    if (strcasecmp(left->argv[i], mechs[n].name) == 0)
		chosen = mechs[n].name;
    }
    if (chosen == 0) {
	msg_warn("SASL authentication failure: No worthy mechs found");
	smtp_why_set(why, sess->relay, "4.7.0", "SASL authentication failed; cannot "
		     "authenticate to server %s: no mechanism available", sess->namaddr);
    }
done:
    argv_free(offered);
    argv_free(left);
    return (chosen);
}

static void b64_encode(VSTRING *out, const void *data, size_t len)
{
    vstring_reset(out);
    vstring_space(out, 4 * ((len + 2) / 3) + 1);
    out->len = EVP_EncodeBlock((unsigned char *) out->data, data, (int) len);
    out->data[out->len] = 0;
}

/* b64_decode - strict enough for a server challenge; -1 when not base64 */
static int b64_decode(VSTRING *out, const char *text)
{
    size_t  len = strlen(text);
    int     n;

    if (len % 4 != 0)
	return (-1);
    vstring_reset(out);
    vstring_space(out, len / 4 * 3 + 1);
    if ((n = EVP_DecodeBlock((unsigned char *) out->data, (const unsigned char *) text,
			     (int) len)) < 0)
	return (-1);
    /* EVP_DecodeBlock() counts the padding as data. */
    if (len > 0 && text[len - 1] == '=')
	n--;
    if (len > 1 && text[len - 2] == '=')
	n--;
    out->len = (size_t) n;
    out->data[n] = 0;
    return (0);
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

    /*
     * Wrong credentials are an administrator's problem: by default the
     * mail waits for the fix (smtp_sasl_auth_soft_bounce).
     */
    snprintf(dsn, sizeof(dsn), "%s", reply->dsn);
    if (reply->code / 100 == 2 || reply->code / 100 == 3)
	strcpy(dsn, "4.7.0");
    else if (auth_soft_bounce || dsn[0] != '5')
	dsn[0] = '4';
    smtp_why_set(why, sess->relay, dsn,
		 "SASL authentication failed; server %s said: %s",
		 sess->namaddr, vstring_str(reply->text));
    return (-1);
}

/* cram_md5 - the response to a CRAM-MD5 challenge: "user hexdigest" */
static int cram_md5(VSTRING *out, const char *challenge_b64, const char *user,
		            const char *pass)
{
    VSTRING *challenge = vstring_alloc(100);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    VSTRING *resp;

    if (b64_decode(challenge, challenge_b64) < 0
	|| HMAC(EVP_md5(), pass, (int) strlen(pass),
		(const unsigned char *) vstring_str(challenge), vstring_len(challenge),
		md, &mdlen) == 0) {
	vstring_free(challenge);
	return (-1);
    }
    resp = vstring_alloc(100);
    vstring_sprintf(resp, "%s ", user);
    for (unsigned i = 0; i < mdlen; i++)
	vstring_sprintf_append(resp, "%02x", md[i]);
    b64_encode(out, vstring_str(resp), vstring_len(resp));
    vstring_free(resp);
    vstring_free(challenge);
    return (0);
}

int     smtp_sasl_authenticate(SMTP_SESSION *sess, const char *user,
			               const char *pass, SMTP_WHY *why)
{
    const char *mech = smtp_sasl_choose(sess, why);
    SMTP_REPLY *reply;
    VSTRING *buf, *line;
    int     ret = -1;

    if (mech == 0)
	return (-1);
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
    } else if (strcmp(mech, "CRAM-MD5") == 0) {
	if (sasl_send(sess, "AUTH CRAM-MD5", reply, why, "the AUTH command") < 0)
	    goto done;
	if (reply->code == 334) {
	    const char *challenge = reply->lines->argc ? reply->lines->argv[0] : "";

	    if (cram_md5(buf, challenge, user, pass) < 0)
		vstring_strcpy(buf, "*");	/* a challenge we cannot read */
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
