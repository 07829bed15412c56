/*
 * NAME
 *	postalias - build and query alias tables, as Postfix's postalias(1)
 * SYNOPSIS
 *	postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *		[file_type:]file_name ...
 * DESCRIPTION
 *	Without -q, -d or -s, postalias builds each alias table from its
 *	source file in aliases(5) format: "name: value, value, ..."
 *	logical lines (a line that starts with white space continues the
 *	one before; blank and "#" lines are skipped). The name may be
 *	quoted ("\"a b\": x" stores "a b") and is folded to lower case
 *	(not with -f); the value is stored the way Postfix's postalias
 *	normalizes it (rfc822_list(3): "a,b" is "a, b"). A line without a
 *	name, a colon or a value is skipped with the warning "FILE, line
 *	N: need name:value pair". After the entries come the signatures of
 *	a complete alias database, as Postfix writes them: "@" with the
 *	value "@" (sendmail's), then, without trailing NUL and without
 *	case folding, YP_LAST_MODIFIED (the time, ten digits) and
 *	YP_MASTER_NAME ($myhostname), NIS's.
 *
 *	-i adds entries from standard input to an existing table instead
 *	(the signatures are replaced). A table without "type:" has the
 *	type $default_database_type; hash: and btree: tables are built
 *	with dict_build(3), the rules and the Berkeley DB layout of
 *	postmap: Debian's postalias reads our tables and we read its.
 *
 *	-q key prints the value of key from the first table that has it
 *	(exit 0), or exits 1; "-q -" reads keys from standard input and
 *	prints "key:<TAB>value" for each key found. -d key deletes key
 *	from every table ("-d -": keys from standard input); -s prints
 *	every entry as "key:<TAB>value". -N/-n store and look up keys
 *	with/without a trailing NUL, -r and -w replace or ignore
 *	duplicate names silently, -o keeps root privileges, -p makes new
 *	tables with mode 0644, -u is accepted (keys are taken as bytes).
 *
 *	newaliases is "sendmail -bi": it runs postalias for each table of
 *	alias_database.
 * DIAGNOSTICS
 *	Messages go to standard error as "postalias: fatal: text"; problems
 *	exit 1, as Postfix's postalias does.
 * SEE ALSO
 *	postalias(1), aliases(5), postmap(1), dict_build(3)
 */
#include <sys/stat.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/stringops.h"
#include "dict/dict.h"
#include "dict/dict_source.h"
#include "dict/dict_build.h"
#include "global/mail_conf.h"
#include "global/rfc822_list.h"

#define POSTALIAS_USAGE "usage: postalias [-Nfinoprsuvw] [-c config_dir] " \
	"[-d key] [-q key] [map_type:]file..."

/* type_name - "type:name", with the default type for a bare name */
static char *type_name(const char *map, const char *def_type)
{
    VSTRING *buf = vstring_alloc(100);

    if (strchr(map, ':') != 0)
	vstring_strcpy(buf, map);
    else
	vstring_sprintf(buf, "%s:%s", def_type, map);
    return (vstring_export(buf));
}

/* name_end - the colon after an alias name (quotes respected), or NULL */
static char *name_end(char *line)
{
    int     quoted = 0;

    for (char *cp = line; *cp; cp++) {
	if (quoted && *cp == '\\' && cp[1])
	    cp++;
	else if (*cp == '"')
	    quoted = !quoted;
	else if (!quoted && *cp == ':')
	    return (cp);
    }
    return (0);
}

/* put_signatures - the "@" entry and the NIS entries of a full database */
static void put_signatures(DICT *d, int incremental)
{
    VSTRING *stamp = vstring_alloc(16);
    int     saved = d->flags;

    if (incremental) {
	d->flags &= ~(DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_IGNORE);
	d->flags |= DICT_FLAG_DUP_REPLACE;
    }
    if (dict_put(d, "@", "@") < 0)
	msg_fatal("%s:%s: %s", d->type, d->name, dict_error_text(d));
    /* NIS wants these without a trailing NUL and in their own case. */
    d->flags &= ~(DICT_FLAG_TRY1NULL | DICT_FLAG_FOLD_FIX);
    d->flags |= DICT_FLAG_TRY0NULL;
    vstring_sprintf(stamp, "%010ld", (long) time((time_t *) 0));
    if (dict_put(d, "YP_LAST_MODIFIED", vstring_str(stamp)) < 0
	|| dict_put(d, "YP_MASTER_NAME", mail_conf_str(VAR_MYHOSTNAME)) < 0)
	msg_fatal("%s:%s: %s", d->type, d->name, dict_error_text(d));
    d->flags = saved;
    vstring_free(stamp);
}

static void postalias_build(const char *map, int dict_flags, int flags)
{
    char   *type = mystrdup(map);
    char   *name = strchr(type, ':') + 1;
    DICT_SOURCE *src;
    VSTREAM *in = 0;
    VSTRING *line = vstring_alloc(200);
    VSTRING *key = vstring_alloc(100);
    VSTRING *value = vstring_alloc(200);
    struct stat st;
    DICT_BUILD_IDS ids;
    DICT   *d;

    name[-1] = 0;

    /* No table is built through proxymap; -i updates the table itself. */
    if (strcmp(type, "proxy") == 0) {
	if (!(flags & DICT_BUILD_INCR))
	    msg_fatal("can't create maps via the proxy service");
	map = name;
	if ((name = strchr(name, ':')) == 0)
	    msg_fatal("open dictionary: expecting \"type:name\" form instead "
		      "of \"%s\"", map);
	name++;
    }
    if (flags & DICT_BUILD_INCR) {
	in = vstream_fdopen(0);
	src = dict_source_stream(in, name);
	if (fstat(0, &st) < 0)
	    msg_fatal("fstat standard input: %m");
    } else {
	if ((src = dict_source_open(name)) == 0)
	    msg_fatal("open %s: %m", name);
	if (fstat(vstream_fileno(src->fp), &st) < 0)
	    msg_fatal("fstat %s: %m", name);
    }
    d = dict_build_open(map, &st, dict_flags, flags, &ids);

    while (dict_source_next(src, line)) {
	char   *text = vstring_str(line);
	char   *colon = name_end(text);

	if (colon) {
	    *colon = 0;
	    rfc822_list_internalize(key, text);
	    rfc822_list_normalize(value, colon + 1);
	}
	if (colon == 0 || vstring_len(key) == 0 || vstring_len(value) == 0) {
	    msg_warn("%s, line %d: need name:value pair", src->name, src->first_line);
	    continue;
	}
	if (dict_put(d, vstring_str(key), vstring_str(value)) < 0)
	    msg_fatal("%s:%s: %s", type, name, dict_error_text(d));
    }
    if (dict_source_error(src))
	msg_fatal("read %s: %m", name);
    put_signatures(d, (flags & DICT_BUILD_INCR) != 0);
    dict_build_close(d, &ids);
    dict_source_close(src);
    if (in)
	vstream_release(in);
    vstring_free(line);
    vstring_free(key);
    vstring_free(value);
    myfree(type);
}

static int postalias_query(char **maps, int count, const char *key, int dict_flags)
{
    DICT  **dicts = dict_query_open(maps, count, O_RDONLY, dict_flags);
    VSTREAM *out = vstream_fdopen(1);
    int     found = 0;

    if (strcmp(key, "-") != 0) {
	const char *value = dict_query_lookup(dicts, count, key);

	if ((found = value != 0) != 0)
	    vstream_fprintf(out, "%s\n", value);
    } else {
	VSTREAM *in = vstream_fdopen(0);
	VSTRING *buf = vstring_alloc(100);
	const char *value;

	while (vstream_get_line(in, buf, SIZE_MAX) != VSTREAM_EOF) {
	    if ((value = dict_query_lookup(dicts, count, vstring_str(buf))) != 0) {
		vstream_fprintf(out, "%s:\t%s\n", vstring_str(buf), value);
		found = 1;
	    }
	}
	vstream_release(in);
	vstring_free(buf);
    }
    if (vstream_fflush(out) < 0)
	msg_fatal("write standard output: %m");
    vstream_release(out);
    dict_query_close(dicts, count);
    return (found ? 0 : 1);
}

static int postalias_delete(char **maps, int count, const char *key, int dict_flags)
{
    DICT  **dicts = dict_query_open(maps, count, O_RDWR, dict_flags);
    int     found = 0;

    if (strcmp(key, "-") != 0) {
	found = dict_query_delete(dicts, count, key);
    } else {
	VSTREAM *in = vstream_fdopen(0);
	VSTRING *buf = vstring_alloc(100);

	while (vstream_get_line(in, buf, SIZE_MAX) != VSTREAM_EOF)
	    if (dict_query_delete(dicts, count, vstring_str(buf)))
		found = 1;
	vstream_release(in);
	vstring_free(buf);
    }
    dict_query_close(dicts, count);
    return (found ? 0 : 1);
}

static void postalias_dump(char **maps, int count, int dict_flags)
{
    DICT  **dicts = dict_query_open(maps, count, O_RDONLY, dict_flags);
    VSTREAM *out = vstream_fdopen(1);
    const char *key;
    const char *value;
    int     ret;

    for (int i = 0; i < count; i++) {
	if (strcmp(dicts[i]->type, "proxy") == 0) {
	    vstream_fflush(out);
	    msg_fatal("can't sequence maps via the proxy service");
	}
	for (ret = dict_seq(dicts[i], DICT_SEQ_FIRST, &key, &value); ret == 0;
	     ret = dict_seq(dicts[i], DICT_SEQ_NEXT, &key, &value))
	    vstream_fprintf(out, "%s:\t%s\n", key, value);
	if (ret < 0) {
	    vstream_fflush(out);
	    msg_fatal("table %s:%s: %s", dicts[i]->type, dicts[i]->name,
		      dict_error_text(dicts[i]));
	}
    }
    if (vstream_fflush(out) < 0)
	msg_fatal("write standard output: %m");
    vstream_release(out);
    dict_query_close(dicts, count);
}

static void postalias_signal(int sig)
{
    dict_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

int     main(int argc, char **argv)
{
    int     dict_flags = DICT_FLAG_DEFAULT;
    int     null_flags = 0;
    int     flags = 0;
    const char *query = 0;
    const char *delete = 0;
    int     dump = 0;
    char   *config_dir = 0;
    char  **maps;
    int     count;
    int     ch;
    int     status = 0;
    const char *def_type;

    msg_init("postfix", "postalias");
    msg_to_stderr(1);
    msg_stderr_command_style(1);
    msg_cleanup(dict_cleanup);
    umask(022);
    signal(SIGINT, postalias_signal);
    signal(SIGTERM, postalias_signal);
    signal(SIGHUP, postalias_signal);

    /* getopt's own messages say "postalias: ...", as Postfix's do. */
    argv[0] = "postalias";
    while ((ch = getopt(argc, argv, "c:d:finNopq:rsuvw")) > 0) {
	switch (ch) {
	case 'c':
	    config_dir = optarg;
	    break;
	case 'd':
	    if (query || dump || delete)
		msg_fatal("specify only one of -s -q or -d");
	    delete = optarg;
	    break;
	case 'f':
	    dict_flags &= ~DICT_FLAG_FOLD_FIX;
	    break;
	case 'i':
	    flags |= DICT_BUILD_INCR;
	    break;
	case 'n':
	    null_flags = DICT_FLAG_TRY0NULL;
	    break;
	case 'N':
	    null_flags = DICT_FLAG_TRY1NULL;
	    break;
	case 'o':
	    flags |= DICT_BUILD_KEEP_ROOT;
	    break;
	case 'p':
	    flags |= DICT_BUILD_NO_INHERIT;
	    break;
	case 'q':
	    if (query || dump || delete)
		msg_fatal("specify only one of -s -q or -d");
	    query = optarg;
	    break;
	case 'r':
	    dict_flags &= ~(DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_IGNORE);
	    dict_flags |= DICT_FLAG_DUP_REPLACE;
	    break;
	case 's':
	    if (query || delete)
		msg_fatal("specify only one of -s or -q or -d");
	    dump = 1;
	    break;
	case 'u':
	    /* UTF-8 checks: keys are taken as bytes. */
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	case 'w':
	    dict_flags &= ~(DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_REPLACE);
	    dict_flags |= DICT_FLAG_DUP_IGNORE;
	    break;
	default:
	    msg_fatal(POSTALIAS_USAGE);
	}
    }
    if (null_flags) {
	dict_flags &= ~(DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL);
	dict_flags |= null_flags;
    }
    if (optind >= argc)
	msg_fatal(POSTALIAS_USAGE);

    if (config_dir)
	setenv("MAIL_CONFIG", config_dir, 1);
    mail_conf_read(config_dir);
    def_type = mail_conf_str(VAR_DEFAULT_DATABASE_TYPE);

    count = argc - optind;
    maps = mymalloc((count + 1) * sizeof(char *));
    for (int i = 0; i < count; i++)
	maps[i] = type_name(argv[optind + i], def_type);
    maps[count] = 0;

    if (query)
	status = postalias_query(maps, count, query, dict_flags | DICT_FLAG_LOCK);
    else if (delete)
	status = postalias_delete(maps, count, delete, dict_flags);
    else if (dump)
	postalias_dump(maps, count, dict_flags | DICT_FLAG_LOCK);
    else
	for (int i = 0; i < count; i++)
	    postalias_build(maps[i], dict_flags, flags);
    for (int i = 0; i < count; i++)
	myfree(maps[i]);
    myfree(maps);
    return (status);
}
