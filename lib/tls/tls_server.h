/*
 * NAME
 *	tls_server - the server side of TLS on a VSTREAM (OpenSSL)
 * SYNOPSIS
 *	#include "tls/tls_server.h"
 *
 *	TLS_SERVER_CTX *tls_server_init(const TLS_SERVER_PARAMS *p,
 *					VSTRING *why);
 *	TLS_INFO *tls_server_start(TLS_SERVER_CTX *ctx, VSTREAM *stream,
 *				   int timeout, VSTRING *why);
 *	void tls_server_stop(VSTREAM *stream);
 * DESCRIPTION
 *	tls_server_init() builds the server context once per process,
 *	before privileges are dropped and before chroot:
 *
 *	- keys and certificates: p->chain_files, else p->cert_file and
 *	  p->key_file (see tls_certs(3)), and DHE parameters from
 *	  p->dh_file;
 *	- the protocols in Postfix's syntax, and a cipher grade (high,
 *	  medium, low, export, null) whose OpenSSL list grade_list is (the
 *	  caller's value of tls_<grade>_cipherlist), minus the exclusions
 *	  (see tls_proto(3));
 *	- with p->ask_ccert, a request for a client certificate: the
 *	  handshake goes on whatever the client sends (or not), and the
 *	  certificate is trusted when it verifies against p->CAfile and
 *	  p->CApath with at most p->verify_depth intermediate CAs (Postfix's
 *	  smtpd_tls_ccert_verifydepth: OpenSSL's depth plus one). The names
 *	  of the CAs of p->CAfile go with the request;
 *	- p->digest (smtpd_tls_fingerprint_digest) for the fingerprints;
 *	- session resumption (tls_scache(3)) with p->cache and
 *	  p->cache_timeout (and, without a cache, RFC 5077 tickets
 *	  encrypted with p->ticket_cipher); p->context names the service
 *	  for the session ID context.
 *	NULL with a reason in why when something is wrong.
 *
 *	tls_server_start() does the handshake on the stream's descriptor
 *	within timeout seconds (the descriptor is made non-blocking) and
 *	then plugs the TLS session into the stream with vstream_set_io(),
 *	so that the caller goes on reading and writing the same VSTREAM.
 *	Input buffered in the stream before the handshake is discarded
 *	(commands pipelined after STARTTLS are never executed). Returns
 *	what the session is (tls_info(3); the caller frees it with
 *	tls_info_free()), or NULL with a reason.
 *
 *	tls_server_stop() sends close_notify (best effort) and frees the
 *	session; the stream goes back to plain descriptor I/O.
 * DIAGNOSTICS
 *	Errors are returned with a reason; the only thing logged here is
 *	a problem with the key and certificate files (tls_certs(3)), in
 *	Postfix's words.
 */
#ifndef TLS_SERVER_H
#define TLS_SERVER_H
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/slot_cache.h"
#include "tls/tls_info.h"

typedef struct TLS_SERVER_CTX TLS_SERVER_CTX;

typedef struct TLS_SERVER_PARAMS {
    const char *chain_files;		/* key + chain files, or "" */
    const char *cert_file;		/* legacy: certificate and chain */
    const char *key_file;		/* legacy: its key ("": cert_file) */
    const char *dh_file;		/* DHE parameters, or "" */
    const char *protocols;
    const char *grade;			/* cipher grade */
    const char *grade_list;		/* its OpenSSL cipher list */
    const char *exclude;		/* excluded ciphers */
    int     ask_ccert;			/* request a client certificate */
    const char *CAfile;
    const char *CApath;
    int     verify_depth;		/* smtpd_tls_ccert_verifydepth */
    const char *digest;			/* fingerprint digest */
    const char *prefix;			/* "smtpd", for warnings */
    const char *context;		/* session ID context text */
    SLOT_CACHE *cache;			/* session cache, or NULL */
    long    cache_timeout;		/* <= 0: no resumption */
    const char *ticket_cipher;		/* tls_session_ticket_cipher */
} TLS_SERVER_PARAMS;

extern TLS_SERVER_CTX *tls_server_init(const TLS_SERVER_PARAMS *, VSTRING *);
extern TLS_INFO *tls_server_start(TLS_SERVER_CTX *, VSTREAM *, int, VSTRING *);
extern void tls_server_stop(VSTREAM *);

#endif
