/*
 * NAME
 *	verify - the address verification service
 * SYNOPSIS
 *	verify [generic daemon options]	(master.cf: verify unix - - n - 1 verify)
 * DESCRIPTION
 *	Serves private/verify (verify_clnt.h): "query" answers what is
 *	known about an address from address_verify_map and sends a probe
 *	when the address is unknown or due for a refresh; "update" stores
 *	the result of a probe, or of a delivery that the delivery agents
 *	learned from (address_verify_learn_deliveries).
 *
 *	A probe is an ordinary queue file in incoming/ from
 *	address_verify_sender (default $double_bounce_sender, made
 *	"double-bounce@$myorigin") with one recipient and the attribute
 *	record "A verify=1". An address with a virtual alias is probed
 *	through its targets, as Postfix's cleanup would expand it: the
 *	probe holds each target with the alias as original recipient, and
 *	the result of each is stored for the target and for the alias
 *	(verify_clnt_record), so the last one in decides for the alias.
 *	qmgr hands it to the normal delivery agent
 *	with DEL_REQ_FLAG_VERIFY: the agent stops after the RCPT reply,
 *	never sends DATA, and its result comes back here as an update;
 *	the probe never bounces and never stays in the queue.
 *
 *	Entries are text (verify_entry.h), so "postmap -s" lists the
 *	cache. All state is in the table: a restarted service forgets
 *	nothing. Every address_verify_cache_cleanup_interval the expired
 *	entries are removed; the time of the last cleanup is kept in the
 *	table under "_LAST_CACHE_CLEANUP_COMPLETED_", as Postfix does.
 *	An empty address_verify_map keeps the cache in memory only.
 *
 *	Runs as mail_owner; the cache is opened as root before the
 *	privilege drop (it lives in data_directory). One process
 *	(maxproc 1): it is the only writer of the table.
 * DIAGNOSTICS
 *	Fatal when the cache cannot be opened. Warnings for malformed
 *	requests and for probes that cannot be queued.
 * SEE ALSO
 *	verify(8), verify_clnt(3), verify_entry(3), queue_writer(3)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/attr.h"
#include "dict/dict.h"
#include "dict/dict_type.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "global/mail_queue.h"
#include "global/qmgr_trigger.h"
#include "global/queue_writer.h"
#include "global/virtual_alias.h"
#include "global/verify_clnt.h"
#include "global/verify_entry.h"

#define VERIFY_CLEANUP_KEY	"_LAST_CACHE_CLEANUP_COMPLETED_"

static DICT *verify_map;
static VERIFY_TIMES verify_times;
static char *verify_sender;
static VIRTUAL_ALIAS *verify_alias;	/* virtual_alias_maps */

/*
 * verify_probe - queue one probe message for addr, or for its alias
 * targets; 0 or -1
 */
static int verify_probe(const char *addr)
{
    VIRTUAL_ALIAS_RESULT *res = virtual_alias_result_alloc();
    QUEUE_WRITER *qw = 0;
    VSTRING *msg = vstring_alloc(200);
    char   *id = 0;
    int     rc = -1;
    int     aliased;

    if (virtual_alias_expand(verify_alias, addr, res, msg) != VIRTUAL_ALIAS_OK) {
	msg_warn("cannot probe <%s>: %s", addr, vstring_str(msg));
	goto out;
    }
    aliased = res->count != 1 || strcasecmp(res->targets[0].address, addr) != 0;
    if ((qw = queue_writer_open(MAIL_QUEUE_INCOMING)) == 0) {
	msg_warn("cannot queue address probe for <%s>: %s", addr, strerror(errno));
	goto out;
    }
    id = mystrdup(queue_writer_id(qw));
    vstring_sprintf(msg, "From: <%s>\r\nTo: <%s>\r\nSubject: probe\r\n\r\n",
		    verify_sender, addr);
    rc = queue_writer_sender(qw, verify_sender) < 0
	|| queue_writer_attr(qw, "verify", "1") < 0 ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < res->count; i++)
	rc = queue_writer_rcpt(qw, res->targets[i].address, aliased ? addr : 0, 0, 0);
    if (rc < 0 || queue_writer_msg_begin(qw) < 0
	|| queue_writer_msg_write(qw, vstring_str(msg), vstring_len(msg)) < 0) {
	msg_warn("%s: cannot write address probe for <%s>: %s", id, addr,
		 strerror(queue_writer_errno(qw)));
	queue_writer_abort(qw);
	rc = -1;
    } else if (queue_writer_commit(qw) < 0) {
	msg_warn("%s: cannot write address probe for <%s>: %s", id, addr,
		 strerror(errno));
	rc = -1;
    } else {
	char    trigger = QMGR_REQ_SCAN_INCOMING;

	if (msg_verbose)
	    msg_info("%s: address probe for <%s>", id, addr);
	if (qmgr_trigger(&trigger, 1) < 0)
	    msg_warn("%s: cannot wake up the queue manager: %s", id, strerror(errno));
	rc = 0;
    }
out:
    virtual_alias_result_free(res);
    myfree(id);
    vstring_free(msg);
    return (rc);
}

/* verify_cleanup - remove expired entries, now and then */

static void verify_cleanup(void)
{
    long    interval = mail_conf_time(VAR_ADDRESS_VERIFY_CACHE_CLEANUP_INTERVAL);
    time_t  now = time((time_t *) 0);
    const char *last;
    const char *key;
    const char *value;
    ARGV   *expired;
    long    retained = 0;
    char    stamp[32];

    if (interval <= 0)
	return;
    if ((last = dict_get(verify_map, VERIFY_CLEANUP_KEY)) == 0) {
	if (verify_map->error == 0) {
	    /* First run: start counting now. */
	    snprintf(stamp, sizeof(stamp), "%ld", (long) now);
	    dict_put(verify_map, VERIFY_CLEANUP_KEY, stamp);
	}
	return;
    }
    if (atol(last) + interval > (long) now)
	return;
    expired = argv_alloc(10);
    if (dict_seq(verify_map, DICT_SEQ_FIRST, &key, &value) == 0) {
	do {
	    if (strcmp(key, VERIFY_CLEANUP_KEY) == 0)
		continue;
	    if (verify_entry_expired(value, &verify_times, now))
		argv_add(expired, key);
	    else
		retained++;
	} while (dict_seq(verify_map, DICT_SEQ_NEXT, &key, &value) == 0);
    }
    for (size_t i = 0; i < expired->argc; i++)
	(void) dict_del(verify_map, expired->argv[i]);
    if (expired->argc > 0 || msg_verbose)
	msg_info("cache %s:%s full cleanup: retained=%ld dropped=%ld entries",
		 verify_map->type, verify_map->name, retained, (long) expired->argc);
    argv_free(expired);
    snprintf(stamp, sizeof(stamp), "%ld", (long) now);
    dict_put(verify_map, VERIFY_CLEANUP_KEY, stamp);
}

/* verify_query - answer, then probe when needed */

static void verify_query(VSTREAM *client, const char *addr)
{
    VSTRING *text = vstring_alloc(100);
    VSTRING *store = vstring_alloc(100);
    const char *raw;
    time_t  now = time((time_t *) 0);
    int     status;
    int     probe;

    raw = dict_get(verify_map, addr);
    if (raw == 0 && verify_map->error != 0) {
	msg_warn("%s: lookup of <%s> failed: %s", verify_map->name, addr,
		 dict_error_text(verify_map) ? dict_error_text(verify_map) : "error");
	(void) attr_send_status(client, VERIFY_REPLY_FAIL);
    } else {
	probe = verify_entry_query(raw, &verify_times, now, &status, text, store);
	if (msg_verbose)
	    msg_info("query <%s>: %s (%s)%s", addr, verify_addr_status_name(status),
		     vstring_str(text), probe ? ", probing" : "");
	/* Probe first: the next query then finds the probe recorded. */
	if (probe && verify_probe(addr) == 0 && vstring_len(store) > 0)
	    (void) dict_put(verify_map, addr, vstring_str(store));
	(void) verify_query_reply(client, status, vstring_str(text));
    }
    vstring_free(text);
    vstring_free(store);
}

/* verify_update - store a result */

static void verify_update(VSTREAM *client, const char *addr, int status,
			          const char *text)
{
    VSTRING *store = vstring_alloc(100);
    const char *raw;
    int     ret = 0;

    raw = dict_get(verify_map, addr);
    if (verify_entry_update(raw, status, text, &verify_times,
			    time((time_t *) 0), store)) {
	if (msg_verbose)
	    msg_info("update <%s>: %s", addr, vstring_str(store));
	if (dict_put(verify_map, addr, vstring_str(store)) < 0) {
	    msg_warn("%s: cannot update <%s>: %s", verify_map->name, addr,
		     dict_error_text(verify_map) ? dict_error_text(verify_map) : "error");
	    ret = VERIFY_REPLY_FAIL;
	}
    }
    (void) attr_send_status(client, ret);
    vstring_free(store);
}

/* verify_service - requests of one client until it hangs up */

static void verify_service(VSTREAM *client, const char *service, char **argv)
{
    VERIFY_REQUEST req;
    VSTRING *why = vstring_alloc(100);
    int     rc;

    (void) service;
    (void) argv;
    vstream_set_timeout(client, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    while ((rc = verify_request_read(client, &req, why)) > 0) {
	if (strcmp(req.request, VERIFY_REQ_QUERY) == 0)
	    verify_query(client, req.address);
	else
	    verify_update(client, req.address, req.addr_status, req.reason);
	verify_request_free(&req);
	if (vstream_ferror(client))
	    break;
    }
    if (rc < 0) {
	msg_warn("malformed request from client: %s", vstring_str(why));
	(void) attr_send_status(client, VERIFY_REPLY_BAD);
    }
    verify_request_free(&req);
    vstring_free(why);
    verify_cleanup();
}

/* verify_pre_init - open the cache as root, before the privilege drop */

static void verify_pre_init(const char *service, char **argv)
{
    const char *map = mail_conf_str(VAR_ADDRESS_VERIFY_MAP);
    int     flags = DICT_FLAG_DEFAULT | DICT_FLAG_DUP_REPLACE;
    mode_t  saved_mask;

    (void) service;
    (void) argv;
    flags &= ~DICT_FLAG_DUP_WARN;
    if (*map == 0) {
	verify_map = dict_mem_create("internal", "verify", flags);
    } else {
	saved_mask = umask(022);
	verify_map = dict_open_mode(map, O_CREAT | O_RDWR, flags, 0644);
	(void) umask(saved_mask);
	if (dict_error_text(verify_map) != 0)
	    msg_fatal("open %s: %s", map, dict_error_text(verify_map));
    }
    verify_alias = virtual_alias_create();
}

/* verify_post_init - parameters */

static void verify_post_init(const char *service, char **argv)
{
    const char *sender = mail_conf_str(VAR_ADDRESS_VERIFY_SENDER);

    (void) service;
    (void) argv;
    verify_entry_times(&verify_times);
    if (*sender == 0 || strcmp(sender, "<>") == 0)
	verify_sender = mystrdup("");
    else if (strchr(sender, '@') == 0) {
	VSTRING *buf = vstring_alloc(100);

	vstring_sprintf(buf, "%s@%s", sender, mail_conf_str(VAR_MYORIGIN));
	verify_sender = vstring_export(buf);
    } else
	verify_sender = mystrdup(sender);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
	.pre_init = verify_pre_init,
	.post_init = verify_post_init,
    };

    single_server_main(argc, argv, verify_service, &opts);
    return (0);
}
