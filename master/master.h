/*
 * NAME
 *	master.h - what the parts of the master daemon share
 * DESCRIPTION
 *	master.c: start, options, pid lock, signals, the main loop.
 *	master_service.c: services of master.cf, children, throttling,
 *	wakeups, reload.
 *	master_listen.c: inet and UNIX listeners.
 *	master_params.c: warnings about unused main.cf parameters.
 *	master_chroot.c: name resolution files inside the queue for chroot.
 */
#ifndef MASTER_H
#define MASTER_H
#include <sys/types.h>
#include "util/argv.h"
#include "global/master_conf.h"

/* Who children run as, what master hands them. */
typedef struct MASTER_ENV {
    uid_t   owner_uid;			/* mail_owner, or the invoking user */
    gid_t   owner_gid;
    gid_t   setgid_gid;			/* setgid_group, for public/ */
    int     log_fd;			/* maillog_file, -1 none */
    int     verbose;			/* -v count, passed on */
    unsigned generation;		/* bumped at each reload */
} MASTER_ENV;

extern MASTER_ENV master_env;

/* master_service.c */
extern void master_services_start(MASTER_CONF *);
extern void master_services_reload(MASTER_CONF *);
extern void master_services_stop(void);
extern void master_reap_children(void);
extern int master_child_count(void);
extern void master_kill_children(int);

/* master_listen.c */
typedef struct MASTER_LISTENER {
    int     fd;
    char   *addr;			/* "127.0.0.1", "::1", "*" */
} MASTER_LISTENER;

extern int master_listen_inet(const char *, MASTER_LISTENER **, int *, VSTRING *);
extern int master_listen_unix(const char *, uid_t, gid_t, VSTRING *);
extern void master_listeners_free(MASTER_LISTENER *, int);

/* master_chroot.c */
extern void master_chroot_files(MASTER_CONF *);

/* master_params.c */
extern void master_check_params(MASTER_CONF *);

/* master_env.c */
extern void master_import_env(void);
extern int master_check_unsafe(MASTER_CONF *, VSTRING *);

#endif
