/*
 * NAME
 *	mail_conf - main.cf and the parameter table
 * DESCRIPTION
 *	See mail_conf.h. Three layers answer "what is the text of
 *	parameter X": overrides (-o), main.cf, the table default. The
 *	expanded text of each name is cached until the configuration
 *	changes (mail_conf_set, mail_conf_reset, mail_conf_read).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/htable.h"
#include "util/stringops.h"
#include "global/mail_conf.h"

#ifndef DEF_CONFIG_DIR
#define DEF_CONFIG_DIR	"/etc/postfix"
#endif
#ifndef DEF_DAEMON_DIR
#define DEF_DAEMON_DIR	"/usr/local/libexec/postfix"
#endif
#ifndef DEF_COMMAND_DIR
#define DEF_COMMAND_DIR	"/usr/local/sbin"
#endif
#ifndef DEF_QUEUE_DIR
#define DEF_QUEUE_DIR	"/var/spool/postfix"
#endif
#ifndef DEF_DATA_DIR
#define DEF_DATA_DIR	"/var/lib/postfix"
#endif
#ifndef DEF_MANPAGE_DIR
#define DEF_MANPAGE_DIR	"/usr/local/share/man"
#endif
#ifndef DEF_SENDMAIL_PATH
#define DEF_SENDMAIL_PATH "/usr/local/sbin/sendmail"
#endif
#ifndef DEF_MAILQ_PATH
#define DEF_MAILQ_PATH	"/usr/local/bin/mailq"
#endif
#ifndef DEF_NEWALIASES_PATH
#define DEF_NEWALIASES_PATH "/usr/local/bin/newaliases"
#endif
#ifndef VERSION
#define VERSION		"0.1"
#endif
#define RUNTIME		((const char *) 0)

static const MAIL_PARAM param_table[] = {
#define PARAM(type, name, def, unit, min, max, flags) \
    { PARAM_##type, name, def, unit, min, max, flags },
#include "global/mail_params.def"
#undef PARAM
};

#define PARAM_COUNT	(sizeof(param_table) / sizeof(param_table[0]))

static HTABLE *param_index;		/* name -> MAIL_PARAM */
static HTABLE *main_cf;			/* name -> text from main.cf */
static HTABLE *overrides;		/* name -> text from -o */
static HTABLE *expanded;		/* name -> expanded text (cache) */
static HTABLE *runtime_defaults;	/* name -> computed default */
static char *config_dir;

/*
 * Macro nesting: as in Postfix, a $name (or ${...}) inside the values of
 * more than EXPAND_DEPTH_LIMIT enclosing macros is a loop such as
 * "a = $b, b = $a". Postfix warns 'unreasonable macro call nesting:
 * "NAME"' and stops; its text depends on the caller: postconf's own
 * expansion (mail_conf_expand) says "macro processing error", every
 * program that reads a parameter "dictionary mail_dict: macro processing
 * error".
 */
#define EXPAND_DEPTH_LIMIT	100

static void init_tables(void)
{
    if (param_index)
	return;
    param_index = htable_create(PARAM_COUNT * 2);
    for (size_t i = 0; i < PARAM_COUNT; i++)
	htable_enter(param_index, param_table[i].name, (void *) &param_table[i]);
    main_cf = htable_create(64);
    overrides = htable_create(16);
    expanded = htable_create(128);
    runtime_defaults = htable_create(8);
}

static void flush_cache(void)
{
    htable_free(expanded, myfree);
    expanded = htable_create(128);
}

const MAIL_PARAM *mail_conf_param(const char *name)
{
    init_tables();
    return (htable_find(param_index, name));
}

/* Postfix 3.7's parameters that the table lacks, sorted (strcmp order). */
static const char *postfix_names[] = {
#define POSTFIX_NAME(name) name,
#include "global/postfix_names.def"
#undef POSTFIX_NAME
};

static int compare_name(const void *key, const void *elem)
{
    return (strcmp((const char *) key, *(const char *const *) elem));
}

int     mail_conf_noimpl(const char *name)
{
    const MAIL_PARAM *p = mail_conf_param(name);

    if (p)
	return ((p->flags & PARAM_NOIMPL) != 0);
    return (bsearch(name, postfix_names, sizeof(postfix_names) / sizeof(postfix_names[0]),
		    sizeof(postfix_names[0]), compare_name) != 0);
}

int     mail_conf_user_defined(const char *name)
{
    ARGV   *classes = argv_split_list(mail_conf_str(VAR_SMTPD_RESTRICTION_CLASSES));
    int     found = 0;

    for (size_t i = 0; i < classes->argc && !found; i++)
	found = strcmp(classes->argv[i], name) == 0;
    argv_free(classes);
    return (found);
}

const MAIL_PARAM *mail_conf_params(size_t *count)
{
    *count = PARAM_COUNT;
    return (param_table);
}

const char *mail_conf_dir(void)
{
    const char *env;

    if (config_dir == 0)
	config_dir = mystrdup((env = getenv("MAIL_CONFIG")) != 0 && *env ?
			      env : DEF_CONFIG_DIR);
    return (config_dir);
}

/* put - replace the text of a name in one layer */
static void put(HTABLE *table, const char *name, const char *value)
{
    HTABLE_INFO *ht;

    if ((ht = htable_locate(table, name)) != 0) {
	myfree(ht->value);
	ht->value = mystrdup(value);
    } else {
	htable_enter(table, name, mystrdup(value));
    }
}

void    mail_conf_set(const char *name, const char *value)
{
    init_tables();
    put(overrides, name, value);
    flush_cache();
}

void    mail_conf_reset(void)
{
    init_tables();
    htable_free(main_cf, myfree);
    htable_free(overrides, myfree);
    htable_free(runtime_defaults, myfree);
    main_cf = htable_create(64);
    overrides = htable_create(16);
    runtime_defaults = htable_create(8);
    flush_cache();
}

/* mail_conf_read_file - read one main.cf-style file into the main.cf layer */
int     mail_conf_read_file(const char *path, VSTRING *why)
{
    VSTREAM *fp;
    VSTRING *line = vstring_alloc(256);
    VSTRING *logical = vstring_alloc(256);
    HTABLE *line_of = htable_create(64);
    int     lineno = 0;
    int     start_line = 0;
    int     ret = 0;
    int     status;

    init_tables();
    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	vstring_sprintf(why, "open %s: %s", path, strerror(errno));
	vstring_free(line);
	vstring_free(logical);
	htable_free(line_of, 0);
	return (-1);
    }

    /*
     * Join continuation lines, drop comments and blank lines, then split
     * each logical line at the first "=".
     */
    for (;;) {
	char   *text;

	status = vstream_get_line(fp, line, 1 << 20);
	if (status == VSTREAM_LONG) {
	    vstring_sprintf(why, "%s, line %d: line too long", path, lineno + 1);
	    ret = -1;
	    break;
	}
	if (status != VSTREAM_EOF) {
	    lineno++;
	    text = vstring_str(line);
	    if (vstring_len(line) > 0 && text[vstring_len(line) - 1] == '\r')
		vstring_truncate(line, vstring_len(line) - 1);
	    text = vstring_str(line);
	    if (text[strspn(text, " \t")] == '#' || text[strspn(text, " \t\r")] == 0)
		continue;
	    if (text[0] == ' ' || text[0] == '\t') {
		if (vstring_len(logical) == 0) {
		    vstring_sprintf(why, "%s, line %d: text before the first parameter: \"%s\"",
				    path, lineno, trimblanks(text));
		    ret = -1;
		    break;
		}
		vstring_addch(logical, ' ');
		vstring_strcat(logical, trimblanks(text));
		continue;
	    }
	}
	if (vstring_len(logical) > 0) {
	    char   *buf = vstring_str(logical);
	    char   *eq = strchr(buf, '=');
	    char   *name, *value;

	    if (eq == 0) {
		vstring_sprintf(why, "%s, line %d: missing '=' after attribute name: \"%s\"",
				path, start_line, buf);
		ret = -1;
		break;
	    }
	    *eq = 0;
	    name = trimblanks(buf);
	    value = trimblanks(eq + 1);
	    if (*name == 0 || name[strspn(name, "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")]) {
		vstring_sprintf(why, "%s, line %d: bad parameter name: \"%s\"",
				path, start_line, name);
		ret = -1;
		break;
	    }
	    if (htable_locate(line_of, name))
		msg_warn("%s, line %d: overriding earlier entry: %s=%s",
			 path, start_line, name, value);
	    else
		htable_enter(line_of, name, 0);
	    put(main_cf, name, value);
	    vstring_reset(logical);
	}
	if (status == VSTREAM_EOF)
	    break;
	vstring_strcpy(logical, trimblanks(vstring_str(line)));
	start_line = lineno;
    }
    if (ret == 0 && vstream_ferror(fp)) {
	vstring_sprintf(why, "read %s: %s", path, strerror(errno));
	ret = -1;
    }
    vstream_close(fp);
    vstring_free(line);
    vstring_free(logical);
    htable_free(line_of, 0);
    flush_cache();
    return (ret);
}

static const char *file_value(const char *);

void    mail_conf_read(const char *dir)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    const char *origin;

    init_tables();
    if (dir) {
	myfree(config_dir);
	config_dir = mystrdup(dir);
    }
    htable_free(main_cf, myfree);
    main_cf = htable_create(64);
    vstring_sprintf(path, "%s/main.cf", mail_conf_dir());
    if (mail_conf_read_file(vstring_str(path), why) < 0)
	msg_fatal("%s", vstring_str(why));
    /* Read a myorigin file now, before a daemon chroots. */
    if ((origin = mail_conf_raw(VAR_MYORIGIN)) != 0 && *origin == '/')
	(void) file_value(origin);
    vstring_free(path);
    vstring_free(why);
}

ARGV   *mail_conf_names(void)
{
    ARGV   *names = argv_alloc(32);
    HTABLE_INFO **list;

    init_tables();
    list = htable_list(main_cf);
    for (HTABLE_INFO **ht = list; *ht; ht++)
	argv_add(names, (*ht)->key);
    myfree(list);
    list = htable_list(overrides);
    for (HTABLE_INFO **ht = list; *ht; ht++)
	if (!htable_locate(main_cf, (*ht)->key))
	    argv_add(names, (*ht)->key);
    myfree(list);
    return (names);
}

const char *mail_conf_raw(const char *name)
{
    const char *value;

    init_tables();
    if ((value = htable_find(overrides, name)) != 0)
	return (value);
    return (htable_find(main_cf, name));
}

/*
 * Run-time defaults: the host's names and networks.
 */
static char *default_myhostname(void)
{
    char    host[256];

    if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0)
	strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    if (strchr(host, '.') == 0) {
	VSTRING *fqdn = vstring_alloc(100);

	vstring_sprintf(fqdn, "%s.localdomain", host);
	return (lowercase(vstring_export(fqdn)));
    }
    return (lowercase(mystrdup(host)));
}

static char *default_mydomain(void)
{
    const char *host = mail_conf_str(VAR_MYHOSTNAME);
    const char *dot = strchr(host, '.');

    return (mystrdup(dot && dot[1] && strchr(dot + 1, '.') ? dot + 1 :
		     dot && dot[1] ? dot + 1 : "localdomain"));
}

/* default_mynetworks - "host", "subnet" or "class" networks of this host */
static char *default_mynetworks(void)
{
    const char *style = mail_conf_str(VAR_MYNETWORKS_STYLE);
    VSTRING *nets = vstring_alloc(100);
    struct ifaddrs *ifa_list = 0, *ifa;
    char    addr[INET6_ADDRSTRLEN];
    int     host_style = strcasecmp(style, "host") == 0;
    int     class_style = strcasecmp(style, "class") == 0;

    if (!host_style && !class_style && strcasecmp(style, "subnet") != 0)
	msg_fatal("bad mynetworks_style value: %s", style);
    vstring_strcpy(nets, "127.0.0.0/8");
    if (getifaddrs(&ifa_list) == 0) {
	for (ifa = ifa_list; ifa; ifa = ifa->ifa_next) {
	    if (ifa->ifa_addr == 0 || ifa->ifa_addr->sa_family != AF_INET)
		continue;
	    struct in_addr a = ((struct sockaddr_in *) ifa->ifa_addr)->sin_addr;
	    struct in_addr m = ifa->ifa_netmask ?
	    ((struct sockaddr_in *) ifa->ifa_netmask)->sin_addr : a;
	    unsigned long ip = ntohl(a.s_addr);
	    unsigned long mask = ntohl(m.s_addr);
	    int     bits = 32;

	    if ((ip >> 24) == 127)
		continue;
	    if (host_style) {
		mask = 0xffffffffUL;
	    } else if (class_style) {
		mask = (ip >> 31) == 0 ? 0xff000000UL :
		    (ip >> 30) == 2 ? 0xffff0000UL : 0xffffff00UL;
	    }
	    for (bits = 0; bits < 32 && (mask & (0x80000000UL >> bits)); bits++)
		 /* void */ ;
	    a.s_addr = htonl(ip & mask);
	    inet_ntop(AF_INET, &a, addr, sizeof(addr));
	    vstring_sprintf_append(nets, " %s/%d", addr, bits);
	}
	vstring_strcat(nets, " [::1]/128");
	for (ifa = ifa_list; ifa; ifa = ifa->ifa_next) {
	    if (ifa->ifa_addr == 0 || ifa->ifa_addr->sa_family != AF_INET6)
		continue;
	    struct in6_addr a = ((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr;
	    struct in6_addr m = ifa->ifa_netmask ?
	    ((struct sockaddr_in6 *) ifa->ifa_netmask)->sin6_addr : a;
	    int     bits = 0;

	    if (IN6_IS_ADDR_LOOPBACK(&a))
		continue;
	    if (host_style)
		memset(&m, 0xff, sizeof(m));
	    for (int i = 0; i < 16; i++) {
		a.s6_addr[i] &= m.s6_addr[i];
		for (int b = 7; b >= 0; b--)
		    bits += (m.s6_addr[i] >> b) & 1;
	    }
	    inet_ntop(AF_INET6, &a, addr, sizeof(addr));
	    vstring_sprintf_append(nets, " [%s]/%d", addr, bits);
	}
	freeifaddrs(ifa_list);
    } else {
	vstring_strcat(nets, " [::1]/128");
    }
    return (vstring_export(nets));
}

const char *mail_conf_default(const char *name)
{
    const MAIL_PARAM *param;
    char   *value;

    init_tables();
    if ((param = htable_find(param_index, name)) == 0)
	return (0);
    if (param->defval != RUNTIME)
	return (param->defval);
    if ((value = htable_find(runtime_defaults, name)) != 0)
	return (value);
    if (strcmp(name, VAR_MYHOSTNAME) == 0)
	value = default_myhostname();
    else if (strcmp(name, VAR_MYDOMAIN) == 0)
	value = default_mydomain();
    else if (strcmp(name, VAR_MYNETWORKS) == 0)
	value = default_mynetworks();
    else if (strcmp(name, VAR_PROCESS_ID) == 0) {
	VSTRING *pid = vstring_alloc(16);

	vstring_sprintf(pid, "%ld", (long) getpid());
	value = vstring_export(pid);
    } else if (strcmp(name, VAR_PROCESS_NAME) == 0)
	value = mystrdup(msg_prog());
    else
	msg_panic("no run-time default for %s", name);
    htable_enter(runtime_defaults, name, value);
    return (value);
}

/*
 * Expansion.
 */
static void expand(const char *text, VSTRING *out, int depth);
static int in_operand;			/* expanding a relational operand */

/*
 * macro_call - may a macro (or, past the limit, a piece of literal text)
 * inside "depth" others be expanded? Past the limit Postfix names each
 * piece of the text it no longer expands; the entry point then fails.
 */
static int expand_error;

static int macro_call(const char *name, int depth)
{
    if (depth <= EXPAND_DEPTH_LIMIT)
	return (1);
    msg_warn("unreasonable macro call nesting: \"%s\"", name);
    expand_error = 1;
    return (0);
}

/* raw_value - the text of a name before expansion, or NULL */

static const char *raw_value(const char *name)
{
    const char *raw;

    if ((raw = mail_conf_raw(name)) == 0)
	raw = mail_conf_default(name);
    return (raw);
}

/* lookup_expanded - the value of a name, expanded inside "depth" macros */

/*
 * file_value - the first word of a file, for "myorigin = /etc/mailname"
 * (Debian's main.cf: the domain is in the file). Each file is read once,
 * so a process that chroots after reading main.cf still knows it; NULL
 * when it cannot be read.
 */
static const char *file_value(const char *path)
{
    static HTABLE *files;
    HTABLE_INFO *ht;
    VSTREAM *fp;
    VSTRING *line;
    char   *word = 0;

    if (files == 0)
	files = htable_create(2);
    if ((ht = htable_locate(files, path)) != 0)
	return (ht->value);
    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	msg_warn("cannot read %s: %s", path, strerror(errno));
    } else {
	line = vstring_alloc(100);
	if (vstream_get_line(fp, line, 1024) != VSTREAM_EOF) {
	    char   *cp = vstring_str(line) + strspn(vstring_str(line), " \t");

	    cp[strcspn(cp, " \t\r\n")] = 0;
	    if (*cp)
		word = mystrdup(cp);
	}
	vstring_free(line);
	vstream_close(fp);
    }
    htable_enter(files, path, word);
    return (word);
}

static const char *lookup_expanded(const char *name, int depth)
{
    const char *raw;
    char   *value;
    VSTRING *buf;

    if ((value = htable_find(expanded, name)) != 0)
	return (value);
    if ((raw = raw_value(name)) == 0)
	return ("");
    buf = vstring_alloc(strlen(raw) + 16);
    expand(raw, buf, depth);
    /* myorigin may name a file that holds the domain (/etc/mailname). */
    if (strcmp(name, VAR_MYORIGIN) == 0 && *vstring_str(buf) == '/') {
	const char *word = file_value(vstring_str(buf));

	vstring_strcpy(buf, word ? word : lookup_expanded(VAR_MYHOSTNAME, depth));
    }
    value = vstring_export(buf);
    htable_enter(expanded, name, value);
    return (value);
}

/* find_close - the brace that closes the one at *open, or NULL */
static const char *find_close(const char *open, int open_ch, int close_ch)
{
    int     level = 0;

    for (const char *cp = open; *cp; cp++) {
	if (*cp == open_ch)
	    level++;
	else if (*cp == close_ch && --level == 0)
	    return (cp);
    }
    return (0);
}

/* braced - parse "{text}" at *cpp (after blanks); copy text into buf */
static int braced(const char **cpp, VSTRING *buf)
{
    const char *cp = *cpp + strspn(*cpp, " \t");
    const char *end;

    if (*cp != '{' || (end = find_close(cp, '{', '}')) == 0)
	return (0);
    vstring_strncpy(buf, cp + 1, end - cp - 1);
    *cpp = end + 1;
    return (1);
}

/* compare_level - compare compatibility levels "3.6" and "3.10" */
static int compare_level(const char *a, const char *b)
{
    for (int i = 0; i < 3; i++) {
	long    na = strtol(a, (char **) &a, 10);
	long    nb = strtol(b, (char **) &b, 10);

	if (na != nb)
	    return (na < nb ? -1 : 1);
	if (*a == '.')
	    a++;
	if (*b == '.')
	    b++;
    }
    return (0);
}

/* relational - evaluate "{a} OP {b} ? {t1} : {t2}" */
static void relational(const char *expr, VSTRING *out, int depth)
{
    VSTRING *left = vstring_alloc(32), *right = vstring_alloc(32);
    VSTRING *t1 = vstring_alloc(32), *t2 = vstring_alloc(32);
    VSTRING *el = vstring_alloc(32), *er = vstring_alloc(32);
    const char *cp = expr;
    char    op[16];
    size_t  n;
    int     cmp, truth = 0, level;

    if (!braced(&cp, left))
	goto bad;
    cp += strspn(cp, " \t");
    n = strspn(cp, "<>=!level");
    if (n == 0 || n >= sizeof(op))
	goto bad;
    memcpy(op, cp, n);
    op[n] = 0;
    cp += n;
    if (!braced(&cp, right))
	goto bad;
    cp += strspn(cp, " \t");
    if (*cp++ != '?' || !braced(&cp, t1))
	goto bad;
    cp += strspn(cp, " \t");
    if (*cp == ':') {
	cp++;
	if (!braced(&cp, t2))
	    goto bad;
    }
    /* As in Postfix, a relational expression is no macro call level. */
    in_operand++;
    expand(vstring_str(left), el, depth);
    expand(vstring_str(right), er, depth);
    in_operand--;
    level = (n > 5 && strcmp(op + n - 5, "level") == 0);
    if (level)
	op[n - 5] = 0;
    if (level)
	cmp = compare_level(vstring_str(el), vstring_str(er));
    else if (alldig(vstring_str(el)) && alldig(vstring_str(er)))
	cmp = strtol(vstring_str(el), 0, 10) < strtol(vstring_str(er), 0, 10) ? -1 :
	    strtol(vstring_str(el), 0, 10) > strtol(vstring_str(er), 0, 10);
	else
	cmp = strcmp(vstring_str(el), vstring_str(er));
    if (strcmp(op, "==") == 0)
	truth = (cmp == 0);
    else if (strcmp(op, "!=") == 0)
	truth = (cmp != 0);
    else if (strcmp(op, "<") == 0)
	truth = (cmp < 0);
    else if (strcmp(op, "<=") == 0)
	truth = (cmp <= 0);
    else if (strcmp(op, ">") == 0)
	truth = (cmp > 0);
    else if (strcmp(op, ">=") == 0)
	truth = (cmp >= 0);
    else
	goto bad;
    expand(vstring_str(truth ? t1 : t2), out, depth);
    goto done;
bad:
    msg_warn("malformed conditional expression: \"${%s}\"", expr);
done:
    vstring_free(left);
    vstring_free(right);
    vstring_free(t1);
    vstring_free(t2);
    vstring_free(el);
    vstring_free(er);
}

/* conditional - "name", "name?text", "name:text", "name?{t1}:{t2}" */
static void conditional(const char *expr, VSTRING *out, int depth)
{
    size_t  n = strspn(expr, "abcdefghijklmnopqrstuvwxyz"
		       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    char   *name = mystrndup(expr, n);
    const char *value;
    const char *cp = expr + n;
    VSTRING *t1 = vstring_alloc(32), *t2 = vstring_alloc(32);
    int     have_t2 = 0;
    int     op;

    if (!macro_call(name, depth))
	goto done;
    if (*cp == 0) {
	vstring_strcat(out, lookup_expanded(name, depth + 1));
	goto done;
    }
    /* As Postfix: ${name?...} and ${name:...} test the unexpanded text. */
    if ((value = raw_value(name)) == 0)
	value = "";
    op = *cp++;
    if (op != '?' && op != ':') {
	msg_warn("malformed parameter expression: \"${%s}\"", expr);
	goto done;
    }
    if (cp[strspn(cp, " \t")] == '{') {
	if (!braced(&cp, t1)) {
	    msg_warn("malformed parameter expression: \"${%s}\"", expr);
	    goto done;
	}
	cp += strspn(cp, " \t");
	if (op == '?' && *cp == ':') {
	    cp++;
	    have_t2 = braced(&cp, t2);
	}
    } else {
	vstring_strcpy(t1, cp);
    }
    if (op == '?') {
	if (*value)
	    expand(vstring_str(t1), out, depth + 1);
	else if (have_t2)
	    expand(vstring_str(t2), out, depth + 1);
    } else if (*value == 0) {
	expand(vstring_str(t1), out, depth + 1);
    }
done:
    myfree(name);
    vstring_free(t1);
    vstring_free(t2);
}

/* literal_end - past the nesting limit, a piece of literal text is named */

static void literal_end(const char *start, const char *end, int depth)
{
    VSTRING *text;

    /* Postfix expands operands apart: it names no literal text there. */
    if (depth > EXPAND_DEPTH_LIMIT && end > start && in_operand == 0) {
	text = vstring_alloc(end - start + 1);
	for (const char *cp = start; cp < end; cp++) {
	    vstring_addch(text, *cp);
	    if (cp[0] == '$' && cp + 1 < end && cp[1] == '$')
		cp++;
	}
	(void) macro_call(vstring_str(text), depth);
	vstring_free(text);
    }
}

static void expand(const char *text, VSTRING *out, int depth)
{
    const char *cp, *end;
    const char *literal = text;		/* start of the literal text */

    for (cp = text; *cp; cp++) {
	if (*cp != '$') {
	    vstring_addch(out, *cp);
	    continue;
	}
	cp++;
	if (*cp == '$') {
	    vstring_addch(out, '$');
	} else if (*cp == '{' || *cp == '(') {
	    int     close_ch = (*cp == '{' ? '}' : ')');
	    char   *inner;

	    if ((end = find_close(cp, *cp, close_ch)) == 0) {
		msg_warn("missing '%c' in \"%s\"", close_ch, text);
		vstring_strcat(out, cp - 1);
		return;
	    }
	    literal_end(literal, cp - 1, depth);
	    inner = mystrndup(cp + 1, end - cp - 1);
	    if (inner[strspn(inner, " \t")] == '{')
		relational(inner, out, depth);
	    else
		conditional(inner, out, depth);
	    myfree(inner);
	    cp = end;
	    literal = cp + 1;
	} else {
	    size_t  n = strspn(cp, "abcdefghijklmnopqrstuvwxyz"
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	    if (n == 0) {
		vstring_addch(out, '$');
		cp--;
		continue;
	    }
	    char   *name = mystrndup(cp, n);

	    literal_end(literal, cp - 1, depth);
	    if (macro_call(name, depth))
		vstring_strcat(out, lookup_expanded(name, depth + 1));
	    myfree(name);
	    cp += n - 1;
	    literal = cp + 1;
	}
    }
    literal_end(literal, cp, depth);
}

/* expand_done - the end of an expansion that found a loop is fatal */

static void expand_done(const char *fatal_text)
{
    if (expand_error)
	msg_fatal("%s", fatal_text);
}

char   *mail_conf_expand(const char *text)
{
    VSTRING *out = vstring_alloc(strlen(text) + 16);

    init_tables();
    expand(text, out, 0);
    expand_done("macro processing error");
    return (vstring_export(out));
}

/*
 * mail_conf_check_macros - expand every parameter that main.cf or -o
 * sets, so that a macro loop stops a program when it starts, as the
 * parameters that Postfix evaluates at start do, not in the middle of
 * its work. Postfix evaluates myhostname first; then table order.
 */
void    mail_conf_check_macros(void)
{
    const MAIL_PARAM *p;

    init_tables();
    if (mail_conf_raw(VAR_MYHOSTNAME))
	(void) mail_conf_str(VAR_MYHOSTNAME);
    for (size_t i = 0; i < PARAM_COUNT; i++) {
	p = param_table + i;
	if ((p->flags & PARAM_RAW) == 0 && mail_conf_raw(p->name) != 0)
	    (void) mail_conf_str(p->name);
    }
}

/*
 * Typed access.
 */
const char *mail_conf_str(const char *name)
{
    const char *value;

    init_tables();
    value = lookup_expanded(name, 0);
    expand_done("dictionary mail_dict: macro processing error");
    return (value);
}

static const MAIL_PARAM *typed(const char *name, MAIL_PARAM_TYPE type)
{
    const MAIL_PARAM *param = mail_conf_param(name);

    if (param == 0)
	msg_panic("parameter %s is not in the parameter table", name);
    if (param->type != type)
	msg_panic("parameter %s is not of the requested type", name);
    return (param);
}

static void check_bounds(const char *name, const char *text, long value,
			         long min, long max)
{
    if (min && value < min)
	msg_fatal("invalid %s parameter value %s < %ld", name, text, min);
    if (max && value > max)
	msg_fatal("invalid %s parameter value %s > %ld", name, text, max);
}

static long int_value(const char *name, const char *text, long min, long max)
{
    char   *end;
    long    value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (*text == 0 || *end != 0 || errno == ERANGE)
	msg_fatal("bad numerical configuration: %s = %s", name, text);
    check_bounds(name, text, value, min, max);
    return (value);
}

long    mail_conf_int(const char *name)
{
    const MAIL_PARAM *p = typed(name, PARAM_INT);

    return (int_value(name, mail_conf_str(name), p->min, p->max));
}

int     mail_conf_bool_value(const char *text, int *result)
{
    if (strcasecmp(text, "yes") == 0 || strcasecmp(text, "true") == 0) {
	*result = 1;
	return (0);
    }
    if (strcasecmp(text, "no") == 0 || strcasecmp(text, "false") == 0) {
	*result = 0;
	return (0);
    }
    return (-1);
}

int     mail_conf_bool(const char *name)
{
    int     value;

    typed(name, PARAM_BOOL);
    if (mail_conf_bool_value(mail_conf_str(name), &value) < 0)
	msg_fatal("bad boolean configuration: %s = %s", name, mail_conf_str(name));
    return (value);
}

int     mail_conf_time_value(const char *text, int unit, long *secs)
{
    char   *end;
    char    def_unit[2] = {unit ? (char) unit : 's', 0};
    long    value, mult;

    errno = 0;
    value = strtol(text, &end, 10);
    if (end == text || errno == ERANGE || value < 0)
	return (-1);
    if (*end == 0)
	end = def_unit;
    if (end[1] != 0)
	return (-1);
    switch (*end) {
    case 's':
	mult = 1;
	break;
    case 'm':
	mult = 60;
	break;
    case 'h':
	mult = 3600;
	break;
    case 'd':
	mult = 86400;
	break;
    case 'w':
	mult = 604800;
	break;
    default:
	return (-1);
    }
    if (value > LONG_MAX / mult)
	return (-1);
    *secs = value * mult;
    return (0);
}

static long time_param(const char *name, const char *text, int unit, long min, long max)
{
    long    secs;

    if (mail_conf_time_value(text, unit, &secs) < 0)
	msg_fatal("invalid %s parameter value: \"%s\"", name, text);
    check_bounds(name, text, secs, min, max);
    return (secs);
}

long    mail_conf_time(const char *name)
{
    const MAIL_PARAM *p = typed(name, PARAM_TIME);

    return (time_param(name, mail_conf_str(name), p->unit, p->min, p->max));
}

/*
 * transport_name - "<transport>_<suffix>" if set or in the table (Postfix
 * gives local_destination_recipient_limit its own default), else
 * "default_<suffix>"
 */
static const char *transport_name(const char *transport, const char *default_name,
				          VSTRING *buf)
{
    if (strncmp(default_name, "default_", 8) != 0)
	msg_panic("mail_conf_transport: \"%s\" is not a default_ parameter",
		  default_name);
    vstring_sprintf(buf, "%s_%s", transport, default_name + 8);
    if (mail_conf_raw(vstring_str(buf)) != 0 || mail_conf_param(vstring_str(buf)) != 0)
	return (vstring_str(buf));
    return (default_name);
}

long    mail_conf_transport_int(const char *transport, const char *suffix)
{
    VSTRING *buf = vstring_alloc(64);
    const char *name = transport_name(transport, suffix, buf);
    const MAIL_PARAM *p = mail_conf_param(name);
    long    value = int_value(name, mail_conf_str(name), p ? p->min : 0, p ? p->max : 0);

    vstring_free(buf);
    return (value);
}

long    mail_conf_transport_time(const char *transport, const char *suffix)
{
    VSTRING *buf = vstring_alloc(64);
    const char *name = transport_name(transport, suffix, buf);
    const MAIL_PARAM *p = mail_conf_param(name);
    long    value = time_param(name, mail_conf_str(name), p ? p->unit : 's',
			       p ? p->min : 0, p ? p->max : 0);

    vstring_free(buf);
    return (value);
}

const char *mail_conf_transport_str(const char *transport, const char *suffix)
{
    VSTRING *buf = vstring_alloc(64);
    const char *value = mail_conf_str(transport_name(transport, suffix, buf));

    vstring_free(buf);
    return (value);
}
