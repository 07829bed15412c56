/*
 * NAME
 *	mail_tls - TLS settings that come from main.cf
 * SYNOPSIS
 *	#include "global/mail_tls.h"
 *
 *	const char *mail_tls_cipherlist(const char *grade);
 *	void mail_tls_server_params(TLS_SERVER_PARAMS *p, int mandatory);
 *	SLOT_CACHE *mail_tls_scache_open(const char *param);
 *	long mail_tls_scache_timeout(const char *param);
 * DESCRIPTION
 *	mail_tls_cipherlist() is the OpenSSL cipher list of a Postfix
 *	cipher grade, the value of tls_<grade>_cipherlist (high, medium,
 *	low, export, null), or "" for a name that is not a grade (the TLS
 *	layer then refuses the grade by name, see tls_proto(3)).
 *
 *	mail_tls_server_params() fills p from the smtpd_tls_* parameters
 *	that smtpd and odmr share: smtpd_tls_chain_files, _cert_file,
 *	_key_file, _dh1024_param_file, _CAfile, _CApath,
 *	_ccert_verifydepth, _fingerprint_digest, _exclude_ciphers, and
 *	_mandatory_protocols and _mandatory_ciphers when mandatory (level
 *	encrypt), else _protocols and _ciphers. The caller sets
 *	ask_ccert, the session cache and the context.
 *
 *	mail_tls_scache_open() opens the session cache that param
 *	(smtpd_tls_session_cache_database, smtp_tls_session_cache_database,
 *	lmtp_tls_session_cache_database) names, "type:/path": the file
 *	/path.db (btree, hash; /path.lmdb for lmdb), a slot_cache(3) file
 *	of this mail system, not a Berkeley DB table (every process reads
 *	and writes it; Postfix's tlsmgr is the only one that opens its
 *	table). Call it before chroot, as root: the file is opened (and
 *	created, mode 0600) with mail_owner's rights, never through a
 *	symbolic link, and must be a regular file with one link. NULL
 *	when param is empty, or, with a warning, when the cache cannot be
 *	used (TLS then works without resumption).
 *
 *	mail_tls_scache_timeout() is the value of a
 *	*_tls_session_cache_timeout parameter as Postfix uses it: at most
 *	100 days, at least 2 minutes unless <= 0 (no resumption).
 * SEE ALSO
 *	tls_proto(3), which checks the grade and adds exclusions;
 *	tls_scache(3), slot_cache(3)
 */
#ifndef MAIL_TLS_H
#define MAIL_TLS_H
#include "util/slot_cache.h"
#include "tls/tls_server.h"

extern const char *mail_tls_cipherlist(const char *);
extern void mail_tls_server_params(TLS_SERVER_PARAMS *, int);
extern SLOT_CACHE *mail_tls_scache_open(const char *);
extern long mail_tls_scache_timeout(const char *);

#endif
