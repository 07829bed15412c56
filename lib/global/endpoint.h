/*
 * NAME
 *	endpoint - connect to a filter named as Postfix names one
 * SYNOPSIS
 *	#include "global/endpoint.h"
 *
 *	VSTREAM *endpoint_connect(const char *spec, int timeout, VSTRING *why);
 * DESCRIPTION
 *	endpoint_connect() opens a stream connection to a Milter
 *	(smtpd_milters) or a before-queue proxy (smtpd_proxy_filter),
 *	written as "inet:host:port", "host:port", ":port" or "port" (the
 *	local machine), "[host]:port", "unix:pathname" or "local:pathname"
 *	(relative to the current directory, queue_directory for daemons).
 *	The connect attempt is bounded by timeout seconds; the stream
 *	gets no timeout (the caller sets its own).
 * DIAGNOSTICS
 *	NULL with the reason in why ("Connection refused", "bad address
 *	syntax", a resolver error); nothing is logged here.
 */
#ifndef ENDPOINT_H
#define ENDPOINT_H
#include "util/vstream.h"
#include "util/vstring.h"

extern VSTREAM *endpoint_connect(const char *, int, VSTRING *);

#endif
