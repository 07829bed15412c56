/*
 * NAME
 *	milter - the MTA side of the Sendmail milter protocol
 * DESCRIPTION
 *	See milter.h. A packet is a 4-byte big-endian length (the command
 *	byte included), one command byte and its data; strings are ended
 *	by NUL. The MTA sends a command and, unless the filter said it
 *	will not answer that one (SMFIP_NR_*), reads one reply; at the end
 *	of a message the filter may first send any number of change
 *	requests and SMFIR_PROGRESS before its final reply.
 *
 *	Each filter has a state: READY (connected), ACCEPT_CONN (said
 *	accept to the connection: no more events), ACCEPT_MSG (said accept
 *	to this message: nothing until the next MAIL), REJECT_CONN (said
 *	reject or tempfail at connect: that reply for every later event),
 *	ERROR (gone: its default action answers).
 */
#include <sys/socket.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/endpoint.h"
#include "global/milter.h"

/* Commands, MTA to filter. */
#define SMFIC_ABORT	'A'
#define SMFIC_BODY	'B'
#define SMFIC_CONNECT	'C'
#define SMFIC_MACRO	'D'
#define SMFIC_BODYEOB	'E'
#define SMFIC_HELO	'H'
#define SMFIC_HEADER	'L'
#define SMFIC_MAIL	'M'
#define SMFIC_EOH	'N'
#define SMFIC_OPTNEG	'O'
#define SMFIC_QUIT	'Q'
#define SMFIC_RCPT	'R'
#define SMFIC_DATA	'T'
#define SMFIC_UNKNOWN	'U'

/* Replies and requests, filter to MTA. */
#define SMFIR_ADDRCPT	'+'
#define SMFIR_DELRCPT	'-'
#define SMFIR_ADDRCPT_PAR '2'
#define SMFIR_SHUTDOWN	'4'
#define SMFIR_ACCEPT	'a'
#define SMFIR_REPLBODY	'b'
#define SMFIR_CONTINUE	'c'
#define SMFIR_DISCARD	'd'
#define SMFIR_CHGFROM	'e'
#define SMFIR_CONN_FAIL	'f'
#define SMFIR_ADDHEADER	'h'
#define SMFIR_INSHEADER	'i'
#define SMFIR_CHGHEADER	'm'
#define SMFIR_PROGRESS	'p'
#define SMFIR_QUARANTINE 'q'
#define SMFIR_REJECT	'r'
#define SMFIR_SKIP	's'
#define SMFIR_TEMPFAIL	't'
#define SMFIR_REPLYCODE	'y'

/* Protocol flags: steps the filter does not want, replies it will not send. */
#define SMFIP_NOCONNECT	0x1
#define SMFIP_NOHELO	0x2
#define SMFIP_NOMAIL	0x4
#define SMFIP_NORCPT	0x8
#define SMFIP_NOBODY	0x10
#define SMFIP_NOHDRS	0x20
#define SMFIP_NOEOH	0x40
#define SMFIP_NR_HDR	0x80
#define SMFIP_NOUNKNOWN	0x100
#define SMFIP_NODATA	0x200
#define SMFIP_SKIP	0x400
#define SMFIP_RCPT_REJ	0x800
#define SMFIP_NR_CONN	0x1000
#define SMFIP_NR_HELO	0x2000
#define SMFIP_NR_MAIL	0x4000
#define SMFIP_NR_RCPT	0x8000
#define SMFIP_NR_DATA	0x10000
#define SMFIP_NR_UNKN	0x20000
#define SMFIP_NR_EOH	0x40000
#define SMFIP_NR_BODY	0x80000

/* What we offer per protocol version (no HDR_LEADSPC, no big chunks). */
#define PROTO_V2	0x7f
#define PROTO_V3	(PROTO_V2 | SMFIP_NOUNKNOWN)
#define PROTO_V4	(PROTO_V3 | SMFIP_NODATA | SMFIP_NR_HDR)
#define PROTO_V6	0xfffff
#define ACTIONS_V2	0x3f
#define ACTIONS_V6	0x1ff

/* Macro stages of SETSYMLIST. */
#define MAC_CONNECT	0
#define MAC_HELO	1
#define MAC_MAIL	2
#define MAC_RCPT	3
#define MAC_DATA	4
#define MAC_EOM		5
#define MAC_EOH		6
#define MAC_UNKNOWN	7			/* ours: no SETSYMLIST stage */
#define MAC_COUNT	8

#define CHUNK_SIZE	65535
#define MAX_PACKET	(1 << 20)

#define DEF_ACCEPT	0
#define DEF_REJECT	1
#define DEF_TEMPFAIL	2
#define DEF_QUARANTINE	3

#define ST_READY	0
#define ST_ACCEPT_CONN	1
#define ST_ACCEPT_MSG	2
#define ST_REJECT_CONN	3
#define ST_ERROR	4

typedef struct MILTER {
    char   *name;			/* inet:host:port */
    int     conn_timeout;
    int     cmd_timeout;
    int     msg_timeout;
    int     version;			/* offered: 2, 3, 4 or 6 */
    int     no_header_reply;
    int     def_action;
    VSTREAM *fp;
    int     state;
    int     in_msg;			/* saw MAIL, no end of message yet */
    int     proto;			/* negotiated SMFIP_* */
    char   *mac_lists[MAC_COUNT];	/* SETSYMLIST lists, or NULL */
    VSTRING *conn_reply;		/* ST_REJECT_CONN reply */
    struct MILTER *next;
} MILTER;

struct MILTERS {
    MILTER *list;
    MILTER_MACRO_FN mac_fn;
    void   *mac_ctx;
    char   *mac_lists[MAC_COUNT];	/* from the parameters */
    char   *daemon_name;
    char   *mac_v;
    VSTRING *reply;
    VSTRING *pkt;			/* packet being built */
    VSTRING *in;			/* packet received */
    int     hold;			/* a filter asked for quarantine */
    long    size_limit;			/* message_size_limit */
};

static const char *def_action_names[] = {"accept", "reject", "tempfail", "quarantine"};

/* def_action_code - a milter_default_action value, or -1 */
static int def_action_code(const char *value)
{
    for (int i = 0; i < 4; i++)
	if (strcasecmp(value, def_action_names[i]) == 0)
	    return (i);
    return (-1);
}

/* parse_protocol - "6" or "6 no_header_reply"; -1 when bad */
static int parse_protocol(const char *value, int *no_hdr_reply)
{
    ARGV   *words = argv_split_list(value);
    int     version = -1;

    *no_hdr_reply = 0;
    for (size_t i = 0; i < words->argc; i++) {
	const char *w = words->argv[i];

	if (strcmp(w, "2") == 0 || strcmp(w, "3") == 0 || strcmp(w, "4") == 0
	    || strcmp(w, "6") == 0)
	    version = atoi(w);
	else if (strcasecmp(w, "no_header_reply") == 0)
	    *no_hdr_reply = 1;
	else
	    version = -2;
	if (version == -2)
	    break;
    }
    argv_free(words);
    return (version < 0 ? -1 : version);
}

/* time_setting - a per-filter time value, fatal when bad */
static int time_setting(const char *entry, const char *name, const char *value)
{
    long    secs;

    if (mail_conf_time_value(value, 's', &secs) < 0 || secs <= 0)
	msg_fatal("bad %s value in milter entry \"%s\": %s", name, entry, value);
    return ((int) secs);
}

/* milter_alloc - one list entry, with its per-filter settings */
static MILTER *milter_alloc(const char *entry)
{
    MILTER *m = mycalloc(1, sizeof(*m));
    char   *copy = mystrdup(entry);
    char   *cp = copy;
    char   *item;

    m->conn_timeout = (int) mail_conf_time(VAR_MILTER_CONNECT_TIMEOUT);
    m->cmd_timeout = (int) mail_conf_time(VAR_MILTER_COMMAND_TIMEOUT);
    m->msg_timeout = (int) mail_conf_time(VAR_MILTER_CONTENT_TIMEOUT);
    if ((m->version = parse_protocol(mail_conf_str(VAR_MILTER_PROTOCOL),
				     &m->no_header_reply)) < 0)
	msg_fatal("bad %s value: %s", VAR_MILTER_PROTOCOL, mail_conf_str(VAR_MILTER_PROTOCOL));
    if ((m->def_action = def_action_code(mail_conf_str(VAR_MILTER_DEFAULT_ACTION))) < 0)
	msg_fatal("bad %s value: %s", VAR_MILTER_DEFAULT_ACTION,
		  mail_conf_str(VAR_MILTER_DEFAULT_ACTION));

    /* "{ endpoint, name = value, ... }" arrives without its braces. */
    while ((item = mystrtok(&cp, ",")) != 0) {
	char   *value;

	item = trimblanks(item);
	while (*item == ' ' || *item == '\t')
	    item++;
	if (m->name == 0) {
	    m->name = mystrdup(item);
	    continue;
	}
	if ((value = split_at(item, '=')) == 0)
	    msg_fatal("bad milter setting \"%s\" in \"%s\": expected name=value", item, entry);
	item = trimblanks(item);
	while (*value == ' ' || *value == '\t')
	    value++;
	value = trimblanks(value);
	if (strcmp(item, "connect_timeout") == 0)
	    m->conn_timeout = time_setting(entry, item, value);
	else if (strcmp(item, "command_timeout") == 0)
	    m->cmd_timeout = time_setting(entry, item, value);
	else if (strcmp(item, "content_timeout") == 0)
	    m->msg_timeout = time_setting(entry, item, value);
	else if (strcmp(item, "default_action") == 0) {
	    if ((m->def_action = def_action_code(value)) < 0)
		msg_fatal("bad default_action value in milter entry \"%s\": %s", entry, value);
	} else if (strcmp(item, "protocol") == 0) {
	    if ((m->version = parse_protocol(value, &m->no_header_reply)) < 0)
		msg_fatal("bad protocol value in milter entry \"%s\": %s", entry, value);
	} else
	    msg_fatal("unknown milter setting \"%s\" in \"%s\"", item, entry);
    }
    if (m->name == 0 || *m->name == 0)
	msg_fatal("empty milter entry in \"%s\"", entry);
    myfree(copy);
    m->conn_reply = vstring_alloc(50);
    return (m);
}

MILTERS *milter_create(const char *param)
{
    ARGV   *entries = argv_split_list(mail_conf_str(param));
    MILTERS *ms;
    MILTER **tail;
    static const char *mac_params[MAC_COUNT];

    if (entries->argc == 0) {
	argv_free(entries);
	return (0);
    }
    mac_params[MAC_CONNECT] = VAR_MILTER_CONNECT_MACROS;
    mac_params[MAC_HELO] = VAR_MILTER_HELO_MACROS;
    mac_params[MAC_MAIL] = VAR_MILTER_MAIL_MACROS;
    mac_params[MAC_RCPT] = VAR_MILTER_RCPT_MACROS;
    mac_params[MAC_DATA] = VAR_MILTER_DATA_MACROS;
    mac_params[MAC_EOM] = VAR_MILTER_END_OF_DATA_MACROS;
    mac_params[MAC_EOH] = VAR_MILTER_END_OF_HEADER_MACROS;
    mac_params[MAC_UNKNOWN] = VAR_MILTER_UNKNOWN_COMMAND_MACROS;
    ms = mycalloc(1, sizeof(*ms));
    tail = &ms->list;
    for (size_t i = 0; i < entries->argc; i++) {
	*tail = milter_alloc(entries->argv[i]);
	tail = &(*tail)->next;
    }
    argv_free(entries);
    for (int i = 0; i < MAC_COUNT; i++)
	ms->mac_lists[i] = mystrdup(mail_conf_str(mac_params[i]));
    ms->daemon_name = mystrdup(mail_conf_str(VAR_MILTER_MACRO_DAEMON_NAME));
    ms->mac_v = mystrdup(mail_conf_str(VAR_MILTER_MACRO_V));
    ms->size_limit = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);
    ms->reply = vstring_alloc(100);
    ms->pkt = vstring_alloc(1024);
    ms->in = vstring_alloc(1024);
    return (ms);
}

void    milter_macro_callback(MILTERS *ms, MILTER_MACRO_FN fn, void *ctx)
{
    ms->mac_fn = fn;
    ms->mac_ctx = ctx;
}

const char *milter_reply(MILTERS *ms)
{
    return (vstring_str(ms->reply));
}

/* milter_close - forget a filter's connection */
static void milter_close(MILTER *m)
{
    if (m->fp) {
	(void) vstream_close(m->fp);
	m->fp = 0;
    }
}

/* milter_fail - the filter is gone; its default action answers from now on */
static void milter_fail(MILTER *m, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void milter_fail(MILTER *m, const char *fmt,...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    msg_warn("milter %s: %s", m->name, vstring_str(buf));
    vstring_free(buf);
    milter_close(m);
    m->state = ST_ERROR;
}

/* def_reply - what the default action answers for a failed filter */
static int def_reply(MILTERS *ms, MILTER *m)
{
    switch (m->def_action) {
    case DEF_REJECT:
	vstring_strcpy(ms->reply, "550 5.5.0 Service unavailable");
	return (MILTER_REJECT);
    case DEF_TEMPFAIL:
	vstring_strcpy(ms->reply, "451 4.7.1 Service unavailable - try again later");
	return (MILTER_REJECT);
    case DEF_QUARANTINE:
	vstring_strcpy(ms->reply, "");
	return (MILTER_HOLD);
    default:
	return (MILTER_CONTINUE);
    }
}

/* pkt_begin, pkt_int, pkt_str, pkt_mem - build a packet in ms->pkt */
static void pkt_begin(MILTERS *ms, int cmd)
{
    vstring_reset(ms->pkt);
    vstring_memcat(ms->pkt, "\0\0\0\0", 4);
    vstring_memcat(ms->pkt, (char[]) {(char) cmd}, 1);
}

static void pkt_int(MILTERS *ms, unsigned long v)
{
    char    b[4] = {(char) (v >> 24), (char) (v >> 16), (char) (v >> 8), (char) v};

    vstring_memcat(ms->pkt, b, 4);
}

static void pkt_mem(MILTERS *ms, const void *data, size_t len)
{
    vstring_memcat(ms->pkt, data, len);
}

static void pkt_str(MILTERS *ms, const char *s)
{
    vstring_memcat(ms->pkt, s, strlen(s) + 1);
}

/*
 * pkt_send - the packet built in ms->pkt, into the stream's buffer; it
 * goes out with the next pkt_flush() (pkt_recv() flushes first), so a
 * macro packet and its command leave in one segment. -1 when the filter
 * failed.
 */
static int pkt_send(MILTERS *ms, MILTER *m, int timeout)
{
    size_t  len = vstring_len(ms->pkt) - 4;
    unsigned char *p = (unsigned char *) vstring_str(ms->pkt);

    p[0] = (unsigned char) (len >> 24);
    p[1] = (unsigned char) (len >> 16);
    p[2] = (unsigned char) (len >> 8);
    p[3] = (unsigned char) len;
    vstream_set_timeout(m->fp, timeout);
    errno = 0;
    if (vstream_write(m->fp, vstring_str(ms->pkt), vstring_len(ms->pkt)) != 0) {
	milter_fail(m, "error sending command: %s",
		    vstream_ftimeout(m->fp) ? "timeout" : strerror(errno ? errno : EPIPE));
	return (-1);
    }
    return (0);
}

/* pkt_flush - send what pkt_send() buffered; -1 when the filter failed */
static int pkt_flush(MILTER *m, int timeout)
{
    vstream_set_timeout(m->fp, timeout);
    errno = 0;
    if (vstream_fflush(m->fp) != 0) {
	milter_fail(m, "error sending command: %s",
		    vstream_ftimeout(m->fp) ? "timeout" : strerror(errno ? errno : EPIPE));
	return (-1);
    }
    return (0);
}

/* pkt_recv - one packet into ms->in; its command byte, or -1 */
static int pkt_recv(MILTERS *ms, MILTER *m, int timeout)
{
    unsigned char head[5];
    size_t  len;

    if (pkt_flush(m, timeout) < 0)
	return (-1);
    if (vstream_read(m->fp, head, 4) != 4) {
	milter_fail(m, "error reading reply: %s", vstream_ftimeout(m->fp) ? "timeout" :
		    vstream_feof(m->fp) ? "connection closed" : strerror(errno));
	return (-1);
    }
    len = ((size_t) head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3];
    if (len < 1 || len > MAX_PACKET) {
	milter_fail(m, "bad reply length %lu", (unsigned long) len);
	return (-1);
    }
    if (vstream_read(m->fp, head + 4, 1) != 1) {
	milter_fail(m, "error reading reply: short packet");
	return (-1);
    }
    vstring_reset(ms->in);
    vstring_space(ms->in, len);
    if (len > 1 && vstream_read(m->fp, vstring_str(ms->in), len - 1) != (ssize_t) (len - 1)) {
	milter_fail(m, "error reading reply: %s", vstream_ftimeout(m->fp) ? "timeout" :
		    "connection closed");
	return (-1);
    }
    ms->in->len = len - 1;
    ms->in->data[len - 1] = 0;
    return (head[4]);
}

/* in_str - the next NUL-ended string of ms->in at *pos, or NULL */
static const char *in_str(MILTERS *ms, size_t *pos)
{
    const char *start = vstring_str(ms->in) + *pos;
    const char *nul;

    if (*pos >= vstring_len(ms->in))
	return (0);
    if ((nul = memchr(start, 0, vstring_len(ms->in) - *pos)) == 0)
	return (0);
    *pos += nul - start + 1;
    return (start);
}

/* in_int - a 4-byte number of ms->in at *pos */
static int in_int(MILTERS *ms, size_t *pos, unsigned long *v)
{
    const unsigned char *p = (const unsigned char *) vstring_str(ms->in) + *pos;

    if (*pos + 4 > vstring_len(ms->in))
	return (-1);
    *v = ((unsigned long) p[0] << 24) | ((unsigned long) p[1] << 16) | (p[2] << 8) | p[3];
    *pos += 4;
    return (0);
}

/* macro_value - a macro's value for this event, or NULL */
static const char *macro_value(MILTERS *ms, const char *name)
{
    if (strcmp(name, "j") == 0)
	return (mail_conf_str(VAR_MYHOSTNAME));
    if (strcmp(name, "{daemon_name}") == 0)
	return (ms->daemon_name);
    if (strcmp(name, "v") == 0)
	return (ms->mac_v);
    return (ms->mac_fn ? ms->mac_fn(name, ms->mac_ctx) : 0);
}

/* send_macros - the stage's macros ahead of the command cmd */
static int send_macros(MILTERS *ms, MILTER *m, int stage, int cmd)
{
    const char *list = m->mac_lists[stage] ? m->mac_lists[stage] : ms->mac_lists[stage];
    ARGV   *names;
    int     any = 0;

    if (*list == 0)
	return (0);
    /* Not argv_split_list(): "{name}" keeps its braces here. */
    names = argv_split(list, LIST_DELIMS);
    pkt_begin(ms, SMFIC_MACRO);
    pkt_mem(ms, (char[]) {(char) cmd}, 1);
    for (size_t i = 0; i < names->argc; i++) {
	const char *name = names->argv[i];
	const char *value;
	VSTRING *braced = 0;

	/* Filters ask for "{name}" and "name" alike for long names. */
	if ((value = macro_value(ms, name)) == 0 && strlen(name) > 1 && *name != '{') {
	    braced = vstring_alloc(20);
	    vstring_sprintf(braced, "{%s}", name);
	    value = macro_value(ms, vstring_str(braced));
	    vstring_free(braced);
	}
	if (value == 0)
	    continue;
	pkt_str(ms, name);
	pkt_str(ms, value);
	any = 1;
    }
    argv_free(names);
    if (!any)
	return (0);
    return (pkt_send(ms, m, m->cmd_timeout));
}

/* milter_negotiate - connect and agree on the protocol */
static int milter_negotiate(MILTERS *ms, MILTER *m)
{
    VSTRING *why = vstring_alloc(100);
    unsigned long version, actions, proto;
    unsigned long offer_proto, offer_actions;
    size_t  pos = 0;
    int     cmd;

    if ((m->fp = endpoint_connect(m->name, m->conn_timeout, why)) == 0) {
	msg_warn("connect to Milter service %s: %s", m->name, vstring_str(why));
	vstring_free(why);
	m->state = ST_ERROR;
	return (-1);
    }
    vstring_free(why);
    offer_proto = m->version >= 6 ? PROTO_V6 : m->version >= 4 ? PROTO_V4 :
	m->version >= 3 ? PROTO_V3 : PROTO_V2;
    offer_actions = m->version >= 6 ? ACTIONS_V6 : ACTIONS_V2;
    pkt_begin(ms, SMFIC_OPTNEG);
    pkt_int(ms, (unsigned long) m->version);
    pkt_int(ms, offer_actions);
    pkt_int(ms, offer_proto);
    if (pkt_send(ms, m, m->conn_timeout) < 0)
	return (-1);
    if ((cmd = pkt_recv(ms, m, m->conn_timeout)) < 0)
	return (-1);
    if (cmd != SMFIC_OPTNEG || in_int(ms, &pos, &version) < 0
	|| in_int(ms, &pos, &actions) < 0 || in_int(ms, &pos, &proto) < 0) {
	milter_fail(m, "bad option negotiation reply");
	return (-1);
    }
    if (version < 2 || version > 6) {
	milter_fail(m, "unsupported protocol version %lu", version);
	return (-1);
    }
    (void) actions;				/* what it may do: not enforced */
    m->proto = (int) (proto & offer_proto);
    if (m->no_header_reply)
	m->proto |= SMFIP_NR_HDR;
    /* Protocol 6: per-stage macro lists may follow. */
    while (pos + 4 < vstring_len(ms->in)) {
	unsigned long stage;
	const char *list;

	if (in_int(ms, &pos, &stage) < 0 || (list = in_str(ms, &pos)) == 0)
	    break;
	if (stage < MAC_UNKNOWN) {
	    myfree(m->mac_lists[stage]);
	    m->mac_lists[stage] = mystrdup(list);
	}
    }
    m->state = ST_READY;
    return (0);
}

/* reply_code_ok - "4xx"/"5xx" text that matches the reply class */
static int reply_code_ok(const char *text)
{
    return ((text[0] == '4' || text[0] == '5') && isdigit((unsigned char) text[1])
	    && isdigit((unsigned char) text[2]) && (text[3] == ' ' || text[3] == '-'));
}

/* set_replycode - SMFIR_REPLYCODE text, "%%" unescaped, as the reply */
static int set_replycode(MILTERS *ms, MILTER *m, const char *text)
{
    const char *cp;

    if (!reply_code_ok(text)) {
	milter_fail(m, "malformed reply: %.100s", text);
	return (def_reply(ms, m));
    }
    vstring_reset(ms->reply);
    for (cp = text; *cp; cp++) {
	if (*cp == '%' && cp[1] == '%')
	    cp++;
	if (*cp == '\r' || *cp == '\n') {
	    /* Multi-line replies: lines joined by CRLF. */
	    if (*cp == '\r' && cp[1] == '\n')
		cp++;
	    vstring_strcat(ms->reply, "\r\n");
	    continue;
	}
	vstring_memcat(ms->reply, cp, 1);
    }
    return (MILTER_REJECT);
}

/*
 * event_reply - the filter's reply to an event (not end of message).
 * conn_level: a reject here rejects the whole connection.
 */
static int event_reply(MILTERS *ms, MILTER *m, int cmd, int conn_level)
{
    int     st;

    switch (cmd) {
    case SMFIR_CONTINUE:
	return (MILTER_CONTINUE);
    case SMFIR_ACCEPT:
	m->state = conn_level ? ST_ACCEPT_CONN : ST_ACCEPT_MSG;
	return (MILTER_CONTINUE);
    case SMFIR_REJECT:
	vstring_strcpy(ms->reply, "550 5.7.1 Command rejected");
	st = MILTER_REJECT;
	break;
    case SMFIR_TEMPFAIL:
	vstring_strcpy(ms->reply, "451 4.7.1 Service unavailable - try again later");
	st = MILTER_REJECT;
	break;
    case SMFIR_REPLYCODE:
	st = set_replycode(ms, m, vstring_str(ms->in));
	break;
    case SMFIR_DISCARD:
	m->state = ST_ACCEPT_MSG;
	return (MILTER_DISCARD);
    case SMFIR_SHUTDOWN:
	vstring_strcpy(ms->reply, "421 4.7.0 Server closing connection");
	milter_close(m);
	m->state = ST_ACCEPT_CONN;
	return (MILTER_SHUTDOWN);
    case SMFIR_QUARANTINE:
	vstring_strcpy(ms->reply, vstring_str(ms->in));
	return (MILTER_HOLD);
    case SMFIR_CONN_FAIL:
	vstring_strcpy(ms->reply, "451 4.7.1 Service unavailable - try again later");
	m->state = ST_REJECT_CONN;
	vstring_strcpy(m->conn_reply, vstring_str(ms->reply));
	return (MILTER_REJECT);
    case SMFIR_SKIP:
	return (MILTER_CONTINUE);
    default:
	milter_fail(m, "unexpected reply '%c'", isprint(cmd) ? cmd : '?');
	return (def_reply(ms, m));
    }
    if (conn_level && st == MILTER_REJECT) {
	m->state = ST_REJECT_CONN;
	vstring_strcpy(m->conn_reply, vstring_str(ms->reply));
    }
    return (st);
}

/*
 * milter_event - one command to every filter that wants it; the first
 * filter that does not continue decides. pkt_fill builds the command.
 */
typedef void (*PKT_FILL_FN) (MILTERS *, const void *);

static int milter_event(MILTERS *ms, int cmd, int mac_stage, int skip_flag,
			        int noreply_flag, int conn_level,
			        PKT_FILL_FN fill, const void *arg)
{
    MILTER *m;
    int     st;
    int     reply;

    vstring_strcpy(ms->reply, "");
    for (m = ms->list; m; m = m->next) {
	switch (m->state) {
	case ST_ERROR:
	    if ((st = def_reply(ms, m)) != MILTER_CONTINUE)
		return (st);
	    continue;
	case ST_REJECT_CONN:
	    vstring_strcpy(ms->reply, vstring_str(m->conn_reply));
	    return (MILTER_REJECT);
	case ST_ACCEPT_CONN:
	case ST_ACCEPT_MSG:
	    continue;
	}
	if (m->proto & skip_flag)
	    continue;
	if (cmd == SMFIC_DATA && m->version < 4)
	    continue;
	if (cmd == SMFIC_UNKNOWN && m->version < 3)
	    continue;
	if (mac_stage >= 0 && send_macros(ms, m, mac_stage, cmd) < 0) {
	    if ((st = def_reply(ms, m)) != MILTER_CONTINUE)
		return (st);
	    continue;
	}
	pkt_begin(ms, cmd);
	fill(ms, arg);
	if (pkt_send(ms, m, m->cmd_timeout) < 0) {
	    if ((st = def_reply(ms, m)) != MILTER_CONTINUE)
		return (st);
	    continue;
	}
	if (cmd == SMFIC_MAIL)
	    m->in_msg = 1;
	if (m->proto & noreply_flag) {
	    if (pkt_flush(m, m->cmd_timeout) < 0 && (st = def_reply(ms, m)) != MILTER_CONTINUE)
		return (st);
	    continue;
	}
	if ((reply = pkt_recv(ms, m, m->cmd_timeout)) < 0) {
	    if ((st = def_reply(ms, m)) != MILTER_CONTINUE)
		return (st);
	    continue;
	}
	if ((st = event_reply(ms, m, reply, conn_level)) != MILTER_CONTINUE)
	    return (st);
    }
    return (MILTER_CONTINUE);
}

typedef struct CONN_ARGS {
    const char *name;
    const char *addr;
    const char *port;
    int     family;
} CONN_ARGS;

static void fill_conn(MILTERS *ms, const void *arg)
{
    const CONN_ARGS *a = arg;
    int     port = atoi(a->port ? a->port : "0");
    VSTRING *host = vstring_alloc(50);

    /* An unverified client is named by its address, as Sendmail does. */
    if (strcmp(a->name, "unknown") == 0)
	vstring_sprintf(host, "[%s]", a->addr);
    else
	vstring_strcpy(host, a->name);
    pkt_str(ms, vstring_str(host));
    vstring_free(host);
    if (a->family == AF_INET || a->family == AF_INET6) {
	pkt_mem(ms, a->family == AF_INET ? "4" : "6", 1);
	pkt_mem(ms, (char[]) {(char) (port >> 8), (char) port}, 2);
	pkt_str(ms, a->addr);
    } else if (a->family == AF_UNIX) {
	pkt_mem(ms, "L", 1);
	pkt_mem(ms, "\0\0", 2);
	pkt_str(ms, a->addr);
    } else {
	pkt_mem(ms, "U", 1);
    }
}

int     milter_conn_event(MILTERS *ms, const char *name, const char *addr,
			          const char *port, int family)
{
    CONN_ARGS a = {name, addr, port, family};
    MILTER *m;

    ms->hold = 0;
    for (m = ms->list; m; m = m->next)
	if (m->fp == 0 && m->state != ST_ERROR)
	    (void) milter_negotiate(ms, m);
    return (milter_event(ms, SMFIC_CONNECT, MAC_CONNECT, SMFIP_NOCONNECT,
			 SMFIP_NR_CONN, 1, fill_conn, &a));
}

static void fill_str(MILTERS *ms, const void *arg)
{
    pkt_str(ms, (const char *) arg);
}

int     milter_helo_event(MILTERS *ms, const char *helo)
{
    return (milter_event(ms, SMFIC_HELO, MAC_HELO, SMFIP_NOHELO, SMFIP_NR_HELO,
			 0, fill_str, helo));
}

static void fill_args(MILTERS *ms, const void *arg)
{
    for (const char *const *argv = arg; *argv; argv++)
	pkt_str(ms, *argv);
}

/* reset_msg - a new transaction: filters that accepted the last one listen again */
static void reset_msg(MILTERS *ms)
{
    for (MILTER *m = ms->list; m; m = m->next) {
	if (m->state == ST_ACCEPT_MSG)
	    m->state = ST_READY;
	m->in_msg = 0;
    }
}

int     milter_mail_event(MILTERS *ms, const char **args)
{
    reset_msg(ms);
    return (milter_event(ms, SMFIC_MAIL, MAC_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL,
			 0, fill_args, args));
}

int     milter_rcpt_event(MILTERS *ms, const char **args)
{
    return (milter_event(ms, SMFIC_RCPT, MAC_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT,
			 0, fill_args, args));
}

static void fill_none(MILTERS *ms, const void *arg)
{
    (void) ms;
    (void) arg;
}

int     milter_data_event(MILTERS *ms)
{
    return (milter_event(ms, SMFIC_DATA, MAC_DATA, SMFIP_NODATA, SMFIP_NR_DATA,
			 0, fill_none, 0));
}

int     milter_unknown_event(MILTERS *ms, const char *command)
{
    return (milter_event(ms, SMFIC_UNKNOWN, MAC_UNKNOWN, SMFIP_NOUNKNOWN,
			 SMFIP_NR_UNKN, 0, fill_str, command));
}

void    milter_abort(MILTERS *ms)
{
    for (MILTER *m = ms->list; m; m = m->next) {
	if (m->fp && m->in_msg && m->state != ST_ERROR) {
	    pkt_begin(ms, SMFIC_ABORT);
	    if (pkt_send(ms, m, m->cmd_timeout) == 0)
		(void) pkt_flush(m, m->cmd_timeout);
	}
	m->in_msg = 0;
	if (m->state == ST_ACCEPT_MSG)
	    m->state = ST_READY;
    }
}

void    milter_disc_event(MILTERS *ms)
{
    for (MILTER *m = ms->list; m; m = m->next) {
	if (m->fp && m->state != ST_ERROR) {
	    pkt_begin(ms, SMFIC_QUIT);
	    if (pkt_send(ms, m, m->cmd_timeout) == 0)
		(void) pkt_flush(m, m->cmd_timeout);
	}
	milter_close(m);
	if (m->state != ST_ERROR)
	    m->state = ST_READY;
    }
}

void    milter_free(MILTERS *ms)
{
    MILTER *m, *next;

    milter_disc_event(ms);
    for (m = ms->list; m; m = next) {
	next = m->next;
	myfree(m->name);
	for (int i = 0; i < MAC_COUNT; i++)
	    myfree(m->mac_lists[i]);
	vstring_free(m->conn_reply);
	myfree(m);
    }
    for (int i = 0; i < MAC_COUNT; i++)
	myfree(ms->mac_lists[i]);
    myfree(ms->daemon_name);
    myfree(ms->mac_v);
    vstring_free(ms->reply);
    vstring_free(ms->pkt);
    vstring_free(ms->in);
    myfree(ms);
}

/* edits_reset - forget the last filter's requests */
static void edits_reset(MILTER_EDITS *e)
{
    for (size_t i = 0; i < e->hdr_count; i++) {
	myfree(e->hdr[i].name);
	myfree(e->hdr[i].value);
    }
    e->hdr_count = 0;
    myfree(e->sender);
    e->sender = 0;
    argv_truncate(e->add_rcpt, 0);
    argv_truncate(e->del_rcpt, 0);
    if (e->body) {
	vstring_free(e->body);
	e->body = 0;
    }
}

static int edits_any(const MILTER_EDITS *e)
{
    return (e->hdr_count > 0 || e->sender || e->add_rcpt->argc > 0
	    || e->del_rcpt->argc > 0 || e->body != 0);
}

static void edits_hdr(MILTER_EDITS *e, int op, long index, const char *name,
		              const char *value)
{
    if (e->hdr_count == e->hdr_cap) {
	e->hdr_cap = e->hdr_cap ? 2 * e->hdr_cap : 8;
	e->hdr = myrealloc(e->hdr, e->hdr_cap * sizeof(*e->hdr));
    }
    e->hdr[e->hdr_count].op = op;
    e->hdr[e->hdr_count].index = index;
    e->hdr[e->hdr_count].name = mystrdup(name);
    e->hdr[e->hdr_count].value = mystrdup(value);
    e->hdr_count++;
}

/* strip_brackets - "<addr>" without its angle brackets */
static char *strip_brackets(const char *addr)
{
    size_t  len = strlen(addr);

    if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
	return (mystrndup(addr + 1, len - 2));
    return (mystrdup(addr));
}

/* eom_request - one change request at end of message; -1 when malformed */
static int eom_request(MILTERS *ms, MILTER *m, int cmd, MILTER_EDITS *e)
{
    size_t  pos = 0;
    unsigned long index = 0;
    const char *name, *value;

    switch (cmd) {
    case SMFIR_ADDHEADER:
    case SMFIR_INSHEADER:
    case SMFIR_CHGHEADER:
	if (cmd != SMFIR_ADDHEADER && in_int(ms, &pos, &index) < 0)
	    return (-1);
	if ((name = in_str(ms, &pos)) == 0 || (value = in_str(ms, &pos)) == 0 || *name == 0)
	    return (-1);
	edits_hdr(e, cmd == SMFIR_ADDHEADER ? MILTER_HDR_ADD : cmd == SMFIR_INSHEADER ?
		  MILTER_HDR_INSERT : MILTER_HDR_CHANGE, (long) index, name, value);
	return (0);
    case SMFIR_CHGFROM:
	if ((name = in_str(ms, &pos)) == 0)
	    return (-1);
	if ((value = in_str(ms, &pos)) != 0 && *value)
	    msg_warn("Ignoring bad ESMTP parameter \"%s\" in SMFI_CHGFROM request", value);
	myfree(e->sender);
	e->sender = strip_brackets(name);
	return (0);
    case SMFIR_ADDRCPT:
    case SMFIR_ADDRCPT_PAR:
	if ((name = in_str(ms, &pos)) == 0)
	    return (-1);
	if (cmd == SMFIR_ADDRCPT_PAR && (value = in_str(ms, &pos)) != 0 && *value)
	    msg_warn("Ignoring bad ESMTP parameter \"%s\" in SMFI_ADDRCPT_PAR request", value);
	{
	    char   *addr = strip_brackets(name);

	    argv_add(e->add_rcpt, addr);
	    myfree(addr);
	}
	return (0);
    case SMFIR_DELRCPT:
	if ((name = in_str(ms, &pos)) == 0)
	    return (-1);
	{
	    char   *addr = strip_brackets(name);

	    argv_add(e->del_rcpt, addr);
	    myfree(addr);
	}
	return (0);
    case SMFIR_REPLBODY:
	if (e->body == 0)
	    e->body = vstring_alloc(vstring_len(ms->in) + 100);
	vstring_memcat(e->body, vstring_str(ms->in), vstring_len(ms->in));
	if (ms->size_limit > 0 && (long) vstring_len(e->body) > ms->size_limit) {
	    msg_warn("milter %s: replacement body is larger than %s",
		     m->name, VAR_MESSAGE_SIZE_LIMIT);
	    return (-1);
	}
	return (0);
    default:
	return (-1);
    }
}

/*
 * MSG_READER - the message text of the queue file, read once per filter:
 * header lines one at a time, then the body in chunks.
 */
typedef struct MSG_READER {
    VSTREAM *fp;
    off_t   left;			/* bytes of the message not yet read */
} MSG_READER;

/* reader_line - the next line with its LF into buf; 0 at the end, -1 error */
static int reader_line(MSG_READER *r, VSTRING *buf)
{
    int     ch;

    vstring_reset(buf);
    while (r->left > 0) {
	if ((ch = vstream_getc(r->fp)) == VSTREAM_EOF)
	    return (-1);
	r->left--;
	vstring_memcat(buf, (char[]) {(char) ch}, 1);
	if (ch == '\n')
	    break;
    }
    return (vstring_len(buf) > 0);
}

/* send_header - one header (CRLF lines) as SMFIC_HEADER name, value */
static void fill_header(MILTERS *ms, const VSTRING *hdr)
{
    const char *text = vstring_str(hdr);
    const char *end = text + vstring_len(hdr);
    const char *colon = memchr(text, ':', vstring_len(hdr));
    const char *name_end;
    const char *cp;

    if (colon == 0)
	colon = end;
    for (name_end = colon; name_end > text && (name_end[-1] == ' ' || name_end[-1] == '\t'); name_end--)
	 /* void */ ;
    pkt_mem(ms, text, name_end - text);
    pkt_mem(ms, "", 1);
    cp = colon < end ? colon + 1 : end;
    while (cp < end && (*cp == ' ' || *cp == '\t'))
	cp++;
    /* Folded lines are joined by "\n"; the last line end goes. */
    while (end > cp && (end[-1] == '\n' || end[-1] == '\r'))
	end--;
    for (; cp < end; cp++) {
	if (*cp == '\r' && cp + 1 < end && cp[1] == '\n')
	    continue;
	pkt_mem(ms, cp, 1);
    }
    pkt_mem(ms, "", 1);
}

/*
 * content_reply - a reply to a header, end of headers or body chunk.
 * Returns MILTER_CONTINUE to go on, or the result for this message;
 * *done is set when the filter wants no more of it (accept, skip).
 */
static int content_reply(MILTERS *ms, MILTER *m, int *done)
{
    int     cmd = pkt_recv(ms, m, m->msg_timeout);

    if (cmd < 0) {
	int     st = def_reply(ms, m);

	if (st == MILTER_CONTINUE)
	    *done = 1;
	return (st);
    }
    if (cmd == SMFIR_SKIP) {
	*done = 2;
	return (MILTER_CONTINUE);
    }
    if (cmd == SMFIR_ACCEPT) {
	m->state = ST_ACCEPT_MSG;
	*done = 1;
	return (MILTER_CONTINUE);
    }
    return (event_reply(ms, m, cmd, 0));
}

/*
 * message_one - the message to one filter, and its answer at the end.
 * Returns MILTER_CONTINUE (edits may be set), or the result.
 */
static int message_one(MILTERS *ms, MILTER *m, VSTREAM *fp, off_t offset, off_t size,
		               int hidden, MILTER_EDITS *e)
{
    MSG_READER r = {fp, size};
    VSTRING *line = vstring_alloc(200);
    VSTRING *hdr = vstring_alloc(200);
    char   *chunk = 0;
    int     nhdr = 0;
    int     st = MILTER_CONTINUE;
    int     done = 0;
    int     ret, cmd;
    int     in_body = 0;

    if (vstream_seek(fp, offset, SEEK_SET) < 0) {
	msg_warn("milter %s: cannot read the queue file: %m", m->name);
	st = MILTER_REJECT;
	vstring_strcpy(ms->reply, "451 4.3.0 Error: queue file write error");
	goto out;
    }
#define CONTENT_FAILED(m) ((m)->state == ST_ERROR)

    /* The headers, one at a time, held until their last line. */
    while (!in_body && (ret = reader_line(&r, line)) > 0) {
	const char *text = vstring_str(line);
	int     cont = (*text == ' ' || *text == '\t') && vstring_len(hdr) > 0;
	int     blank = strcmp(text, "\r\n") == 0 || strcmp(text, "\n") == 0;

	if (cont) {
	    vstring_memcat(hdr, text, vstring_len(line));
	    continue;
	}
	if (vstring_len(hdr) > 0) {
	    if (nhdr++ >= hidden && !done && !(m->proto & SMFIP_NOHDRS)) {
		pkt_begin(ms, SMFIC_HEADER);
		fill_header(ms, hdr);
		if (pkt_send(ms, m, m->msg_timeout) < 0)
		    st = def_reply(ms, m), done = 1;
		else if (!(m->proto & SMFIP_NR_HDR)
			 && (st = content_reply(ms, m, &done)) != MILTER_CONTINUE)
		    goto out;
	    }
	    vstring_reset(hdr);
	}
	if (blank)
	    in_body = 1;
	else
	    vstring_memcat(hdr, text, vstring_len(line));
	if (st != MILTER_CONTINUE)
	    goto out;
    }
    if (!in_body && vstring_len(hdr) > 0 && nhdr++ >= hidden && !done
	&& !(m->proto & SMFIP_NOHDRS)) {
	pkt_begin(ms, SMFIC_HEADER);
	fill_header(ms, hdr);
	if (pkt_send(ms, m, m->msg_timeout) < 0)
	    st = def_reply(ms, m), done = 1;
	else if (!(m->proto & SMFIP_NR_HDR)
		 && (st = content_reply(ms, m, &done)) != MILTER_CONTINUE)
	    goto out;
    }
    if (st != MILTER_CONTINUE || done == 1)
	goto out;

    /* End of headers. */
    if (!(m->proto & SMFIP_NOEOH)) {
	if (send_macros(ms, m, MAC_EOH, SMFIC_EOH) < 0) {
	    st = def_reply(ms, m);
	    goto out;
	}
	pkt_begin(ms, SMFIC_EOH);
	if (pkt_send(ms, m, m->msg_timeout) < 0) {
	    st = def_reply(ms, m);
	    goto out;
	}
	if (!(m->proto & SMFIP_NR_EOH)
	    && ((st = content_reply(ms, m, &done)) != MILTER_CONTINUE || done == 1))
	    goto out;
    }

    /* The body, in chunks. */
    if (!(m->proto & SMFIP_NOBODY) && done != 2) {
	chunk = mymalloc(CHUNK_SIZE);
	while (r.left > 0) {
	    size_t  n = r.left > CHUNK_SIZE ? CHUNK_SIZE : (size_t) r.left;

	    if (vstream_read(fp, chunk, n) != (ssize_t) n) {
		msg_warn("milter %s: cannot read the queue file", m->name);
		vstring_strcpy(ms->reply, "451 4.3.0 Error: queue file write error");
		st = MILTER_REJECT;
		goto out;
	    }
	    r.left -= n;
	    pkt_begin(ms, SMFIC_BODY);
	    pkt_mem(ms, chunk, n);
	    if (pkt_send(ms, m, m->msg_timeout) < 0) {
		st = def_reply(ms, m);
		goto out;
	    }
	    if (!(m->proto & SMFIP_NR_BODY)) {
		if ((st = content_reply(ms, m, &done)) != MILTER_CONTINUE || done == 1)
		    goto out;
		if (done == 2)
		    break;
	    }
	}
    }

    /* End of message: change requests, then the verdict. */
    if (send_macros(ms, m, MAC_EOM, SMFIC_BODYEOB) < 0) {
	st = def_reply(ms, m);
	goto out;
    }
    pkt_begin(ms, SMFIC_BODYEOB);
    if (pkt_send(ms, m, m->msg_timeout) < 0) {
	st = def_reply(ms, m);
	goto out;
    }
    for (;;) {
	if ((cmd = pkt_recv(ms, m, m->msg_timeout)) < 0) {
	    edits_reset(e);
	    st = def_reply(ms, m);
	    break;
	}
	if (cmd == SMFIR_PROGRESS)
	    continue;
	if (cmd == SMFIR_QUARANTINE) {
	    ms->hold = 1;
	    continue;
	}
	if (strchr("+-2behim", cmd) && cmd) {
	    if (eom_request(ms, m, cmd, e) < 0) {
		milter_fail(m, "malformed '%c' request", cmd);
		edits_reset(e);
		st = def_reply(ms, m);
		break;
	    }
	    continue;
	}
	st = event_reply(ms, m, cmd, 0);
	if (st != MILTER_CONTINUE)
	    edits_reset(e);
	break;
    }

out:
    if (st != MILTER_CONTINUE && st != MILTER_HOLD)
	edits_reset(e);
    myfree(chunk);
    vstring_free(line);
    vstring_free(hdr);
    m->in_msg = 0;
    return (st);
}

int     milter_message(MILTERS *ms, VSTREAM *fp, off_t offset, off_t size, int hidden,
		               MILTER_APPLY_FN apply, void *ctx)
{
    MILTER_EDITS edits;
    MILTER *m;
    int     st = MILTER_CONTINUE;

    memset(&edits, 0, sizeof(edits));
    edits.add_rcpt = argv_alloc(1);
    edits.del_rcpt = argv_alloc(1);
    edits.hidden = hidden;
    vstring_strcpy(ms->reply, "");
    for (m = ms->list; m; m = m->next) {
	if (m->state == ST_ERROR) {
	    if ((st = def_reply(ms, m)) == MILTER_HOLD) {
		ms->hold = 1;
		st = MILTER_CONTINUE;
	    }
	    if (st != MILTER_CONTINUE)
		break;
	    continue;
	}
	if (m->state == ST_REJECT_CONN) {
	    vstring_strcpy(ms->reply, vstring_str(m->conn_reply));
	    st = MILTER_REJECT;
	    break;
	}
	if (m->state != ST_READY || m->fp == 0)
	    continue;
	st = message_one(ms, m, fp, offset, size, hidden, &edits);
	if (st == MILTER_HOLD) {
	    ms->hold = 1;
	    st = MILTER_CONTINUE;
	}
	if (st != MILTER_CONTINUE)
	    break;
	if (edits_any(&edits)) {
	    if (apply(ctx, &edits, &fp, &offset, &size) < 0) {
		vstring_strcpy(ms->reply, "451 4.3.0 Error: queue file write error");
		st = MILTER_REJECT;
		break;
	    }
	    edits_reset(&edits);
	}
    }
    edits_reset(&edits);
    argv_free(edits.add_rcpt);
    argv_free(edits.del_rcpt);
    myfree(edits.hdr);
    if (st == MILTER_CONTINUE && ms->hold) {
	vstring_strcpy(ms->reply, "");
	st = MILTER_HOLD;
    }
    ms->hold = 0;
    return (st);
}
