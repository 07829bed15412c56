/*
 * NAME
 *	mail_tls - TLS settings that come from main.cf
 * DESCRIPTION
 *	See mail_tls.h.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/mail_tls.h"

const char *mail_tls_cipherlist(const char *grade)
{
    static const struct {
	const char *grade;
	const char *param;
    }       lists[] = {
	{"high", VAR_TLS_HIGH_CIPHERLIST},
	{"medium", VAR_TLS_MEDIUM_CIPHERLIST},
	{"low", VAR_TLS_LOW_CIPHERLIST},
	{"export", VAR_TLS_EXPORT_CIPHERLIST},
	{"null", VAR_TLS_NULL_CIPHERLIST},
    };

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
	if (grade && strcasecmp(grade, lists[i].grade) == 0)
	    return (mail_conf_str(lists[i].param));
    return ("");
}

void    mail_tls_server_params(TLS_SERVER_PARAMS *p, int mandatory)
{
    memset(p, 0, sizeof(*p));
    p->chain_files = mail_conf_str(VAR_SMTPD_TLS_CHAIN_FILES);
    p->cert_file = mail_conf_str(VAR_SMTPD_TLS_CERT_FILE);
    p->key_file = mail_conf_str(VAR_SMTPD_TLS_KEY_FILE);
    p->dh_file = mail_conf_str(VAR_SMTPD_TLS_DH1024_PARAM_FILE);
    p->protocols = mail_conf_str(mandatory ? VAR_SMTPD_TLS_MANDATORY_PROTOCOLS
				 : VAR_SMTPD_TLS_PROTOCOLS);
    p->grade = mail_conf_str(mandatory ? VAR_SMTPD_TLS_MANDATORY_CIPHERS
			     : VAR_SMTPD_TLS_CIPHERS);
    p->grade_list = mail_tls_cipherlist(p->grade);
    /* Mandatory TLS excludes smtpd_tls_mandatory_exclude_ciphers too. */
    p->exclude = mail_conf_str(VAR_SMTPD_TLS_EXCLUDE_CIPHERS);
    if (mandatory && *mail_conf_str(VAR_SMTPD_TLS_MANDATORY_EXCLUDE_CIPHERS)) {
	static VSTRING *both;

	if (both == 0)
	    both = vstring_alloc(50);
	vstring_sprintf(both, "%s%s%s", p->exclude, *p->exclude ? ", " : "",
			mail_conf_str(VAR_SMTPD_TLS_MANDATORY_EXCLUDE_CIPHERS));
	p->exclude = vstring_str(both);
    }
    p->CAfile = mail_conf_str(VAR_SMTPD_TLS_CAFILE);
    p->CApath = mail_conf_str(VAR_SMTPD_TLS_CAPATH);
    p->verify_depth = (int) mail_conf_int(VAR_SMTPD_TLS_CCERT_VERIFYDEPTH);
    p->digest = mail_conf_str(VAR_SMTPD_TLS_FINGERPRINT_DIGEST);
    p->prefix = "smtpd";
}

long    mail_tls_scache_timeout(const char *param)
{
    long    t = mail_conf_time(param);

    if (t <= 0)
	return (0);
    if (t > 100L * 86400) {
	msg_warn("%s: value %lds is too large; using %lds", param, t, 100L * 86400);
	return (100L * 86400);
    }
    return (t < 120 ? 120 : t);
}

/* scache_path - the file of a "type:/path" cache, or NULL (warned) */
static char *scache_path(const char *param, const char *value)
{
    const char *colon = strchr(value, ':');
    const char *suffix;
    VSTRING *buf;
    size_t  tlen;

    if (colon == 0 || colon[1] != '/') {
	msg_warn("%s: \"%s\" is not type:/path/name; TLS sessions are not cached",
		 param, value);
	return (0);
    }
    tlen = (size_t) (colon - value);
    if ((tlen == 5 && strncasecmp(value, "btree", 5) == 0)
	|| (tlen == 4 && strncasecmp(value, "hash", 4) == 0))
	suffix = ".db";
    else if (tlen == 4 && strncasecmp(value, "lmdb", 4) == 0)
	suffix = ".lmdb";
    else {
	msg_warn("%s: table type \"%.*s\" cannot hold TLS sessions (use btree, hash or lmdb);"
		 " TLS sessions are not cached", param, (int) tlen, value);
	return (0);
    }
    buf = vstring_alloc(100);
    vstring_sprintf(buf, "%s%s", colon + 1, suffix);
    return (vstring_export(buf));
}

/* scache_fd - open the file as mail_owner; -1 with errno */
static int scache_fd(const char *path)
{
    struct passwd *pw = 0;
    uid_t   saved_uid = geteuid();
    gid_t   saved_gid = getegid();
    int     fd, saved_errno;

    if (saved_uid == 0 && (pw = getpwnam(mail_conf_str(VAR_MAIL_OWNER))) != 0) {
	if (setegid(pw->pw_gid) < 0 || seteuid(pw->pw_uid) < 0)
	    msg_fatal("set effective ids to %s: %s", pw->pw_name, strerror(errno));
    }
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    saved_errno = errno;
    if (pw && (seteuid(saved_uid) < 0 || setegid(saved_gid) < 0))
	msg_fatal("restore effective ids: %s", strerror(errno));
    errno = saved_errno;
    return (fd);
}

SLOT_CACHE *mail_tls_scache_open(const char *param)
{
    const char *value = mail_conf_str(param);
    char   *path;
    int     fd;
    struct stat st;
    SLOT_CACHE *cache;
    VSTRING *why;

    if (*value == 0 || (path = scache_path(param, value)) == 0)
	return (0);
    if ((fd = scache_fd(path)) < 0) {
	msg_warn("%s: open %s: %s; TLS sessions are not cached", param, path, strerror(errno));
	myfree(path);
	return (0);
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
	msg_warn("%s: %s is not a regular file with one link; TLS sessions are not cached",
		 param, path);
	close(fd);
	myfree(path);
	return (0);
    }
    why = vstring_alloc(100);
    if ((cache = slot_cache_open(fd, path, why)) == 0)
	msg_warn("%s: %s; TLS sessions are not cached", param, vstring_str(why));
    else if (vstring_len(why) > 0)
	msg_warn("%s: %s; starting an empty cache", param, vstring_str(why));
    vstring_free(why);
    myfree(path);
    return (cache);
}
