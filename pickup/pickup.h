/*
 * NAME
 *	pickup.h - what pickup's files share
 * SYNOPSIS
 *	#include "pickup.h"
 *
 *	int pickup_file(const char *queue_id);
 * DESCRIPTION
 *	pickup.c: main, the maildrop/ scan. pickup_message.c:
 *	pickup_file() turns one maildrop file into a queue file and
 *	returns PICKUP_QUEUED (done, file removed), PICKUP_SKIP (not
 *	complete yet, gone, or moved to corrupt/), or PICKUP_RETRY (the
 *	queue file could not be written or a table failed: the file
 *	stays for the next wakeup).
 */
#ifndef PICKUP_H
#define PICKUP_H
#include "global/virtual_alias.h"

#define PICKUP_QUEUED	0
#define PICKUP_SKIP	1
#define PICKUP_RETRY	2

extern VIRTUAL_ALIAS *pickup_alias;
extern int pickup_file(const char *);

#endif
