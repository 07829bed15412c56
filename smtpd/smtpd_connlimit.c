/*
 * NAME
 *	smtpd_connlimit - smtpd_client_connection_count_limit without anvil
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	int smtpd_connlimit_enter(SMTPD_STATE *state);
 *	void smtpd_connlimit_leave(void);
 * DESCRIPTION
 *	Postfix counts simultaneous connections per client address in its
 *	anvil server; we have no anvil. Instead every smtpd process that
 *	serves a client holds a write lock (fcntl) on one slot of a shared
 *	file, private/smtpd_clients under queue_directory, and writes the
 *	client's address into that slot. The number of connections from
 *	an address is the number of slots holding it that are locked:
 *	locks go away with their process, so a crash (even kill -9) never
 *	leaves a count behind.
 *
 *	smtpd_connlimit_enter() takes a slot and returns -1 when this
 *	connection is over the limit (the caller answers 421 4.7.0 and
 *	disconnects), 0 otherwise. Clients in
 *	smtpd_client_event_limit_exceptions (default: $mynetworks) and a
 *	limit of 0 are not counted. smtpd_connlimit_leave() frees the slot.
 * DIAGNOSTICS
 *	"warning: Connection concurrency limit exceeded: N from
 *	host[addr] for service NAME", as Postfix. A slot file that cannot
 *	be opened disables the limit, with a warning.
 * BUGS
 *	Two connections that arrive at the same instant may both see the
 *	other and both be refused; never both admitted over the limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "global/mail_server.h"
#include "smtpd.h"

#define SLOT_SIZE	64
#define SLOT_COUNT	4096
#define SLOT_FILE	"private/smtpd_clients"

static int slot_fd = -1;
static long my_slot = -1;

/* slot_lock - F_SETLK/F_UNLCK one slot; 0 or -1 */
static int slot_lock(long slot, int type)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = slot * SLOT_SIZE;
    fl.l_len = SLOT_SIZE;
    return (fcntl(slot_fd, F_SETLK, &fl));
}

/* slot_busy - is a slot locked by another process */
static int slot_busy(long slot)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = slot * SLOT_SIZE;
    fl.l_len = SLOT_SIZE;
    if (fcntl(slot_fd, F_GETLK, &fl) < 0)
	return (0);
    return (fl.l_type != F_UNLCK);
}

int     smtpd_connlimit_enter(SMTPD_STATE *state)
{
    char    slot[SLOT_SIZE];
    char   *all;
    ssize_t len;
    long    i, count = 1;

    if (var_conn_count_limit <= 0 || smtpd_check_event_exempt(state))
	return (0);
    if (slot_fd < 0 && (slot_fd = open(SLOT_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
	msg_warn("open %s: %s; smtpd_client_connection_count_limit is not enforced",
		 SLOT_FILE, strerror(errno));
	return (0);
    }
    for (i = 0; i < SLOT_COUNT; i++)
	if (slot_lock(i, F_WRLCK) == 0)
	    break;
    if (i >= SLOT_COUNT)
	return (0);
    my_slot = i;
    memset(slot, 0, sizeof(slot));
    strncpy(slot, state->addr, sizeof(slot) - 1);
    if (pwrite(slot_fd, slot, sizeof(slot), my_slot * SLOT_SIZE) != sizeof(slot))
	return (0);
    all = mymalloc(SLOT_SIZE * SLOT_COUNT);
    if ((len = pread(slot_fd, all, SLOT_SIZE * SLOT_COUNT, 0)) > 0) {
	for (i = 0; i < len / SLOT_SIZE; i++) {
	    if (i == my_slot)
		continue;
	    if (strncmp(all + i * SLOT_SIZE, slot, SLOT_SIZE) == 0 && slot_busy(i))
		count++;
	}
    }
    myfree(all);
    if (count > var_conn_count_limit) {
	msg_warn("Connection concurrency limit exceeded: %ld from %s for service %s",
		 count, state->namaddr, mail_server_name());
	return (-1);
    }
    return (0);
}

void    smtpd_connlimit_leave(void)
{
    char    slot[SLOT_SIZE];

    if (my_slot < 0)
	return;
    memset(slot, 0, sizeof(slot));
    (void) pwrite(slot_fd, slot, sizeof(slot), my_slot * SLOT_SIZE);
    (void) slot_lock(my_slot, F_UNLCK);
    my_slot = -1;
}
