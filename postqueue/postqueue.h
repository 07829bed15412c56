/*
 * NAME
 *	postqueue.h - postqueue's own modules
 * SYNOPSIS
 *	int showq_compat(VSTREAM *showq);	(postqueue -p, mailq)
 *	int showq_json(VSTREAM *showq);		(postqueue -j)
 * DESCRIPTION
 *	Both read the listing of the showq service (showq(8)) and print it
 *	on stdout; they return 0, or -1 when the listing was cut short or
 *	malformed.
 */
#ifndef POSTQUEUE_H
#define POSTQUEUE_H
#include "util/vstream.h"

extern int showq_compat(VSTREAM *);
extern int showq_json(VSTREAM *);

#endif
