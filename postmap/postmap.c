/*
 * NAME
 *	postmap - build and query lookup tables, as Postfix's postmap(1)
 * SYNOPSIS
 *	postmap [-c dir] [-N|-n] [-f] [-i] [-o] [-p] [-r] [-w] [-v]
 *		[-q key|-] [-d key|-] [-s] [type:]file ...
 * DESCRIPTION
 *	Without -q, -d or -s, postmap builds each table from its source
 *	file (hash:FILE and btree:FILE make FILE.db); -i adds entries read
 *	from standard input to an existing table instead. A table without
 *	"type:" has the type $default_database_type of main.cf in the
 *	configuration folder (-c, else $MAIL_CONFIG, else the built-in
 *	folder).
 *
 *	-q key prints the value of key from the first table that has it
 *	(exit 0), or exits 1; "-q -" reads keys from standard input and
 *	prints "key<TAB>value" for each key found (exit 0 if any).
 *	-d key deletes key from every table (exit 0 if any had it), "-d -"
 *	reads the keys from standard input. -s prints every entry.
 *
 *	-f keeps the case of keys; -N writes and looks up keys with a
 *	trailing NUL, -n without; -r replaces duplicate keys silently and
 *	-w ignores them silently (default: keep the first, with a
 *	warning); -o keeps root privileges when the source file is owned
 *	by another user (default: build as that user); -p makes a new
 *	table with mode 0644 instead of the source file's read bits.
 * DIAGNOSTICS
 *	Messages go to standard error as "postmap: fatal: text"; problems
 *	exit 1, as Postfix's postmap does.
 * SEE ALSO
 *	postmap(1), postmap_build.c, postmap_query.c
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/stat.h>

#include "postmap.h"
#include "global/mail_conf.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"

#define POSTMAP_USAGE "usage: postmap [-bfFhimnNoprsuUvw] [-c config_dir] " \
	"[-d key] [-q key] [map_type:]file..."

/* postmap_type_name - "type:name", with the default type for a bare name */

char   *postmap_type_name(const char *map, const char *def_type)
{
    VSTRING *buf = vstring_alloc(100);
    /* As Postfix: the first ":" ends the type, even in a path. */
    if (strchr(map, ':') != 0)
	vstring_strcpy(buf, map);
    else
	vstring_sprintf(buf, "%s:%s", def_type, map);
    return (vstring_export(buf));
}

static void postmap_signal(int sig)
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

    msg_init("postfix", "postmap");
    msg_to_stderr(1);
    msg_stderr_command_style(1);
    msg_cleanup(dict_cleanup);
    umask(022);
    signal(SIGINT, postmap_signal);
    signal(SIGTERM, postmap_signal);
    signal(SIGHUP, postmap_signal);

    /* getopt's own messages say "postmap: ...", as Postfix's do. */
    argv[0] = "postmap";
    while ((ch = getopt(argc, argv, "bc:d:fFhimnNopq:rsuUvw")) > 0) {
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
	    flags |= POSTMAP_FLAG_INCR;
	    break;
	case 'n':
	    null_flags = DICT_FLAG_TRY0NULL;
	    break;
	case 'N':
	    null_flags = DICT_FLAG_TRY1NULL;
	    break;
	case 'o':
	    flags |= POSTMAP_FLAG_KEEP_ROOT;
	    break;
	case 'p':
	    flags |= POSTMAP_FLAG_NO_INHERIT;
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
	    /* Postfix words this one differently. */
	    if (query || delete)
		msg_fatal("specify only one of -s or -q or -d");
	    dump = 1;
	    break;
	case 'u':
	case 'U':
	    /* UTF-8 checks: keys are taken as bytes. */
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	case 'w':
	    dict_flags &= ~(DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_REPLACE);
	    dict_flags |= DICT_FLAG_DUP_IGNORE;
	    break;
	case 'b':
	case 'F':
	case 'h':
	case 'm':
	    msg_fatal("option -%c is not supported", ch);
	default:
	    msg_fatal(POSTMAP_USAGE);
	}
    }
    if (null_flags) {
	dict_flags &= ~(DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL);
	dict_flags |= null_flags;
    }
    if (optind >= argc)
	msg_fatal(POSTMAP_USAGE);

    if (config_dir)
	setenv("MAIL_CONFIG", config_dir, 1);
    mail_conf_read(config_dir);
    mail_conf_check_macros();
    def_type = mail_conf_str(VAR_DEFAULT_DATABASE_TYPE);

    count = argc - optind;
    maps = mymalloc((count + 1) * sizeof(char *));
    for (int i = 0; i < count; i++)
	maps[i] = postmap_type_name(argv[optind + i], def_type);
    maps[count] = 0;

    if (query) {
	if (strcmp(query, "-") == 0)
	    status = postmap_query_stdin(maps, count, dict_flags | DICT_FLAG_LOCK);
	else
	    status = postmap_query(maps, count, query, dict_flags | DICT_FLAG_LOCK);
    } else if (delete) {
	if (strcmp(delete, "-") == 0)
	    status = postmap_delete_stdin(maps, count, dict_flags);
	else
	    status = postmap_delete(maps, count, delete, dict_flags);
    } else if (dump) {
	postmap_dump(maps, count, dict_flags | DICT_FLAG_LOCK);
    } else {
	for (int i = 0; i < count; i++)
	    postmap_build(maps[i], dict_flags, flags);
    }
    for (int i = 0; i < count; i++)
	myfree(maps[i]);
    myfree(maps);
    return (status);
}
