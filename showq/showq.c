/*
 * NAME
 *	showq - list the mail queue for postqueue -p and -j
 * SYNOPSIS
 *	showq [generic daemon options]	(master.cf: public/showq)
 * DESCRIPTION
 *	For each client that connects, showq walks the queues incoming
 *	(complete files only: the owner-execute bit is set), active,
 *	deferred and hold, and writes one list per message with
 *	showq_message_send() (the listing of showq_client.h): queue name
 *	and ID, arrival time, size, sender and the recipients still to be
 *	delivered, in queue file order, each with the newest entry for it
 *	in the message's defer/ log as its reason (or none); forced_expire
 *	is set for a message that postsuper -e marked
 *	(QMGR_EXPIRE_MARK_MODE). The listing
 *	ends with showq_end_send(). The client sends nothing.
 *
 *	showq runs as mail_owner, so users who cannot read the queue can
 *	list it through public/showq (postqueue, which is setgid
 *	setgid_group). With -S it serves one listing on stdout without
 *	master, which is what postqueue runs when the superuser lists the
 *	queue of a mail system that is down.
 * DIAGNOSTICS
 *	A message file that vanishes or changes during the walk is
 *	skipped silently (it was delivered, or moved); one that cannot be
 *	parsed is skipped with a warning.
 * SEE ALSO
 *	postqueue(1), showq(8)
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/htable.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/qmgr_trigger.h"
#include "global/mail_server.h"
#include "global/queue_envelope.h"
#include "global/queue_scan.h"
#include "global/dsn_log.h"
#include "global/showq_client.h"

typedef struct SHOWQ_STATE {
    VSTREAM *client;
    int     error;
} SHOWQ_STATE;

/* showq_message - send one message's listing */
static int showq_message(const char *queue, const char *id, const char *path, void *context)
{
    SHOWQ_STATE *state = context;
    VSTREAM *fp;
    struct stat st;
    QUEUE_ENVELOPE *env;
    HTABLE *reasons = 0;
    DSN_LOG log;
    SHOWQ_MESSAGE msg;

    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0)
	return (0);
    if (fstat(vstream_fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)
	|| (strcmp(queue, MAIL_QUEUE_INCOMING) == 0 && !MAIL_QUEUE_MSG_COMPLETE(&st))) {
	vstream_close(fp);
	return (0);
    }
    env = queue_envelope_read(fp, id);
    vstream_close(fp);
    if (env == 0) {
	if (strcmp(queue, MAIL_QUEUE_INCOMING) != 0)
	    msg_warn("%s: cannot parse message file %s", id, path);
	return (0);
    }

    /* The newest defer/ entry of each recipient is its reason. */
    if (dsn_log_read(MAIL_QUEUE_DEFER, id, &log) == 0) {
	reasons = htable_create(log.count + 1);
	for (size_t i = 0; i < log.count; i++) {
	    DSN_LOG_ENTRY *e = log.entries + i;
	    HTABLE_INFO *ht;

	    if (e->recipient == 0 || e->reason == 0)
		continue;
	    if ((ht = htable_locate(reasons, e->recipient)) != 0)
		ht->value = e->reason;
	    else
		htable_enter(reasons, e->recipient, e->reason);
	}
    }
    /* The listing borrows the envelope's strings. */
    memset(&msg, 0, sizeof(msg));
    msg.queue_name = (char *) queue;
    msg.queue_id = (char *) id;
    msg.arrival_time = (long) env->arrival_sec;
    msg.message_size = (long) env->msg_size;
    msg.forced_expire = (st.st_mode & QMGR_EXPIRE_MARK_MODE) != 0;
    msg.sender = env->sender;
    msg.rcpt = mycalloc(env->rcpt_count + 1, sizeof(*msg.rcpt));
    for (size_t i = 0; i < env->rcpt_count; i++) {
	const char *reason;

	if (env->rcpts[i].done)
	    continue;
	reason = reasons ? htable_find(reasons, env->rcpts[i].address) : 0;
	msg.rcpt[msg.rcpt_count].address = env->rcpts[i].address;
	msg.rcpt[msg.rcpt_count++].reason = (char *) (reason ? reason : "");
    }
    if (showq_message_send(state->client, &msg) != 0)
	state->error = 1;
    myfree(msg.rcpt);
    if (reasons) {
	htable_free(reasons, (void (*) (void *)) 0);
	dsn_log_free(&log);
    }
    queue_envelope_free(env);
    return (state->error ? -1 : 0);
}

static void showq_service(VSTREAM *client, const char *service, char **argv)
{
    static const char *queues[] = {
	MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,
    };
    SHOWQ_STATE state;

    (void) service;
    (void) argv;
    vstream_set_timeout(client, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    state.client = client;
    state.error = 0;
    for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]) && !state.error; i++)
	queue_scan(queues[i], showq_message, &state);
    if (!state.error)
	(void) showq_end_send(client);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {0};

    msg_init("postfix", "showq");
    single_server_main(argc, argv, showq_service, &opts);
}
