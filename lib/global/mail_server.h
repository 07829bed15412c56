/*
 * NAME
 *	mail_server - the skeletons every daemon is built on
 * SYNOPSIS
 *	void single_server_main(int argc, char **argv, SINGLE_SERVER_FN service,
 *				const MAIL_SERVER_OPTS *opts);
 *	void trigger_server_main(int argc, char **argv, TRIGGER_SERVER_FN service,
 *				 const MAIL_SERVER_OPTS *opts);
 *	void event_server_main(int argc, char **argv, EVENT_SERVER_FN service,
 *			       const MAIL_SERVER_OPTS *opts);
 *	const char *mail_server_name(void);	(the master.cf service name)
 *	void mail_server_busy(void);
 *	void mail_server_idle(void);
 *	void mail_server_watch(int (*changed)(void *), void *ctx);
 *	int mail_server_another(void);
 *	int mail_server_waiting(void);
 *	int mail_server_process_limit(void);
 * DESCRIPTION
 *	A daemon's main declares what it needs and calls one skeleton,
 *	which does the rest the same way for everyone:
 *
 *	1. Parse the command line master gives: -n service_name, -t type
 *	   (inet, unix, pass), -o name=value (repeatable; wins over main.cf),
 *	   -c (chroot to queue_directory, the master.cf chroot column),
 *	   -u (stay privileged: master.cf unpriv column "n"), -v, -d
 *	   (log to stderr), -S (stand-alone: serve one client on stdin and
 *	   stdout, no master; for tests and fuzzing). Extra arguments go
 *	   to the service as argv.
 *	2. Read main.cf from $MAIL_CONFIG (master sets it), apply -o,
 *	   set service_name, start logging as syslog_name/program
 *	   (maillog_file when set: master opens it and passes it on fd 5,
 *	   else syslog).
 *	3. Run opts->pre_init as root (open private keys, tables).
 *	4. chdir(queue_directory); chroot(".") when -c; then, when root,
 *	   drop to mail_owner's uid and gid (setgroups, setgid, setuid),
 *	   unless -u. Started by another user, stay that user, and say so
 *	   (master logs it once for all; a child says it with -v).
 *	5. Run opts->post_init.
 *	6. single: accept one client at a time on the listening socket,
 *	   tell master "busy" before serving and "idle" after, call
 *	   service(client_stream, service_name, argv), close the client.
 *	   A client accepted just as master closed the status pipe (a
 *	   reload) is still served; the process exits after it.
 *	   A "pass" service (-t pass) accepts a connection from a
 *	   process that hands over a client connection (pass_fd(3))
 *	   and serves that client instead: to the service it looks
 *	   accepted from an inet listener (getpeername() gives the
 *	   client).
 *	   event: one process for many clients (postscreen): each
 *	   accepted connection goes to service(fd, service_name, argv),
 *	   which registers its own events (events.h) and returns at
 *	   once; opts->loop runs before each wait as for the trigger
 *	   server. When the status pipe closes (reload, stop) or a
 *	   watched table changed, the process stops accepting; when
 *	   opts->active() (how many clients it still serves) is not 0,
 *	   it forks: the parent exits, so that master can start a new
 *	   process at once, and the child, which no longer listens nor
 *	   talks to master, runs opts->drain (its children are no
 *	   longer its own) and exits once active() returns 0. With -S
 *	   it serves descriptor 0 that way.
 *	   trigger: for each connection read the bytes sent (one or a few
 *	   trigger bytes) and call service(buf, len, service_name, argv);
 *	   a connection that stays open (mail_trigger_kept()) stays in the
 *	   event loop, and each batch of bytes that arrives on it is a
 *	   call (at most 256 such connections; past that a connection is
 *	   read to its end or trigger_timeout, as a one-shot one is);
 *	   a trigger server may also use events.h, and opts->loop is
 *	   called before each wait and returns the longest wait in
 *	   seconds (-1 none).
 *	7. Exit after max_use clients or max_idle seconds without one
 *	   (not for trigger servers, nor with opts->unlimited), or when
 *	   master goes away (the status pipe closes), or when a table that
 *	   the daemon opened changed on disk (after the current client).
 *
 *	mail_server_another() is for a single server whose client sends
 *	one request after another on the same connection (qmgr and a
 *	delivery agent): called after each request, it counts that
 *	request as a use (max_use counts requests, not connections) and
 *	returns 1 when the process may serve another one, 0 when it should
 *	end the connection (max_use reached, a watched table changed,
 *	master gone or reloaded: master's status pipe is looked at once
 *	per second of the clock; the client watches master itself).
 *
 *	mail_server_watch() registers a check that step 7 runs between
 *	clients, e.g. mail_server_watch((int (*)(void *)) dict_changed, d)
 *	for each table the daemon opened; when one returns non-zero the
 *	process logs "table has changed -- restarting" and exits.
 *
 *	mail_server_waiting() is, for a server that is busy with a client,
 *	how many clients wait for a process of this service right now:
 *	the length of the accept queue of its TCP listeners (Linux
 *	TCP_INFO), or 1 when another listener is readable; 0 in
 *	stand-alone mode. mail_server_process_limit() is the service's
 *	process limit as master says it ($MASTER_PROCESS_LIMIT; 0 when
 *	unlimited or unknown). Together they tell smtpd how crowded the
 *	service is (smtpd_overload_idle_time).
 *
 *	The master interface: the listening socket is descriptor
 *	MASTER_LISTEN_FD; an inet service that listens on several
 *	addresses has the others on MASTER_LISTEN_FD_EXTRA onward, and
 *	$MASTER_LISTEN_COUNT says how many there are in all (the
 *	skeleton accepts on every one); MASTER_STATUS_FD is a pipe to
 *	master on which the child writes a MASTER_STATUS record {pid, status} with status
 *	MASTER_STAT_TAKEN when it starts serving a client and
 *	MASTER_STAT_AVAIL when it is free again; MASTER_LOG_FD, when
 *	open, is the maillog_file. master puts its configuration
 *	generation in $MASTER_GENERATION and the service's process limit
 *	in $MASTER_PROCESS_LIMIT; after a reload it closes the
 *	old generation's status pipe, and children finish their current
 *	client and exit.
 */
#ifndef MAIL_SERVER_H
#define MAIL_SERVER_H
#include <sys/types.h>
#include "util/vstream.h"

#define MASTER_STATUS_FD	3
#define MASTER_LISTEN_FD	4
#define MASTER_LOG_FD		5
#define MASTER_LISTEN_FD_EXTRA	6	/* more listeners: 6, 7, ... */

#define MASTER_STAT_AVAIL	0
#define MASTER_STAT_TAKEN	1

typedef struct MASTER_STATUS {
    pid_t   pid;
    int     status;
    unsigned generation;		/* master config generation */
} MASTER_STATUS;

typedef void (*SINGLE_SERVER_FN) (VSTREAM *, const char *, char **);
typedef void (*TRIGGER_SERVER_FN) (char *, ssize_t, const char *, char **);
typedef void (*EVENT_SERVER_FN) (int, const char *, char **);

typedef struct MAIL_SERVER_OPTS {
    void    (*pre_init) (const char *, char **);
    void    (*post_init) (const char *, char **);
    int     (*loop) (const char *, char **);
    int     unlimited;			/* ignore max_use/max_idle */
    int     (*active) (void);		/* event server: clients still served */
    void    (*drain) (void);		/* event server: in the draining child */
} MAIL_SERVER_OPTS;

extern void single_server_main(int, char **, SINGLE_SERVER_FN, const MAIL_SERVER_OPTS *);
extern void trigger_server_main(int, char **, TRIGGER_SERVER_FN, const MAIL_SERVER_OPTS *);
extern void event_server_main(int, char **, EVENT_SERVER_FN, const MAIL_SERVER_OPTS *);
extern const char *mail_server_name(void);
extern void mail_server_busy(void);
extern void mail_server_idle(void);
extern void mail_server_watch(int (*) (void *), void *);
extern int mail_server_another(void);
extern int mail_server_waiting(void);
extern int mail_server_process_limit(void);

#endif
