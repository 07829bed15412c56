/*
 * NAME
 *	postconf_edit - change main.cf in place (postconf -e, -X, -#)
 * SYNOPSIS
 *	#include "postconf_edit.h"
 *
 *	void postconf_edit(const char *path, int how, char **args, int count);
 *	void postconf_write_file(const char *path, VSTRING *text, int mode);
 * DESCRIPTION
 *	postconf_edit() rewrites the main.cf file at path the way
 *	Postfix's postconf does:
 *
 *	POSTCONF_EDIT_SET (-e)	args are "name=value" (white space around
 *				the "=" and the value is dropped). Every
 *				entry of that name, with its continuation
 *				lines, becomes one line "name = value";
 *				names that main.cf lacks are appended.
 *	POSTCONF_EDIT_REMOVE (-X) args are names; their entries go away.
 *	POSTCONF_EDIT_COMMENT (-#) args are names; each line of their
 *				entries gets a "#" in front.
 *
 *	Comments, blank lines and other entries stay as they are. The new
 *	file is written next to the old one, synced and renamed over it, so
 *	a reader sees either the old or the new main.cf; it keeps the old
 *	file's permissions. postconf_write_file() is that replacement
 *	(postconf_master.c uses it for master.cf).
 * DIAGNOSTICS
 *	Warning: "main.cf: multiple entries for "name"" when an edited name
 *	is defined more than once. Fatal: an argument of -e without "=",
 *	a main.cf that cannot be read or written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/argv.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/stringops.h"
#include "util/vstream.h"
#include "util/vstring.h"
#include "postconf_edit.h"

#define MAX_LINE	(1 << 20)

/* entry_name - the name an entry line defines, or NULL */

static char *entry_name(const char *line)
{
    const char *eq;
    char   *name;

    if (*line == 0 || strchr(" \t\r#", *line))
	return (0);
    if ((eq = strchr(line, '=')) == 0)
	return (0);
    name = mystrndup(line, (size_t) (eq - line));
    return (trimblanks(name));
}

/* continues - does this line continue the entry before it? */

static int continues(const char *line)
{
    const char *cp = line + strspn(line, " \t\r");

    return ((*line == ' ' || *line == '\t') && *cp != 0 && *cp != '#');
}

/* find_arg - index of name in the edited names, or -1 */

static int find_arg(ARGV *names, const char *name)
{
    for (size_t i = 0; i < names->argc; i++)
	if (strcmp(names->argv[i], name) == 0)
	    return ((int) i);
    return (-1);
}

/* postconf_write_file - replace a file atomically, with the given mode */

void    postconf_write_file(const char *path, VSTRING *text, int mode)
{
    VSTRING *tmp = vstring_alloc(100);
    VSTREAM *fp;
    int     fd;

    vstring_sprintf(tmp, "%s.tmp", path);
    (void) unlink(vstring_str(tmp));
    if ((fd = open(vstring_str(tmp), O_WRONLY | O_CREAT | O_EXCL, mode)) < 0)
	msg_fatal("create %s: %s", vstring_str(tmp), strerror(errno));
    (void) fchmod(fd, mode);
    if ((fp = vstream_fdopen(fd)) == 0)
	msg_fatal("open %s: %s", vstring_str(tmp), strerror(errno));
    if (vstream_write(fp, vstring_str(text), vstring_len(text)) < 0
	|| vstream_fflush(fp) < 0 || fsync(fd) < 0) {
	(void) unlink(vstring_str(tmp));
	msg_fatal("write %s: %s", vstring_str(tmp), strerror(errno));
    }
    vstream_close(fp);
    if (rename(vstring_str(tmp), path) < 0) {
	(void) unlink(vstring_str(tmp));
	msg_fatal("rename %s to %s: %s", vstring_str(tmp), path, strerror(errno));
    }
    vstring_free(tmp);
}

void    postconf_edit(const char *path, int how, char **args, int count)
{
    ARGV   *names = argv_alloc(count);
    ARGV   *values = argv_alloc(count);
    ARGV   *lines = argv_alloc(100);
    int    *seen;
    VSTRING *line = vstring_alloc(100);
    VSTRING *out = vstring_alloc(1000);
    VSTREAM *fp;
    struct stat st;
    int     status;
    int     current = -1;		/* the entry being edited, or -1 */

    /* The edits. */
    for (int i = 0; i < count; i++) {
	char   *arg = mystrdup(args[i]);
	char   *value = 0;

	if (how == POSTCONF_EDIT_SET) {
	    if ((value = split_at(arg, '=')) == 0)
		msg_fatal("missing '=' after attribute name: \"%s\"", args[i]);
	    trimblanks(value);
	}
	trimblanks(arg);
	if (*arg == 0)
	    msg_fatal("missing parameter name: \"%s\"", args[i]);
	argv_add(names, arg);
	argv_add(values, value ? value : "");
	myfree(arg);
    }
    seen = mycalloc(names->argc + 1, sizeof(*seen));

    /* The old file, line by line. */
    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0)
	msg_fatal("open %s: %s", path, strerror(errno));
    if (fstat(vstream_fileno(fp), &st) < 0)
	msg_fatal("stat %s: %s", path, strerror(errno));
    while ((status = vstream_get_line(fp, line, MAX_LINE)) != VSTREAM_EOF) {
	if (status == VSTREAM_LONG)
	    msg_fatal("%s, line %zu: line too long", path, lines->argc + 1);
	argv_add(lines, vstring_str(line));
    }
    if (vstream_ferror(fp))
	msg_fatal("read %s: %s", path, strerror(errno));
    vstream_close(fp);

    /* The new text. */
    for (size_t i = 0; i < lines->argc; i++) {
	const char *text = lines->argv[i];
	char   *name;

	if (current >= 0 && continues(text)) {
	    if (how == POSTCONF_EDIT_COMMENT)
		vstring_sprintf_append(out, "#%s\n", text);
	    continue;
	}
	current = -1;
	if ((name = entry_name(text)) != 0) {
	    current = find_arg(names, name);
	    myfree(name);
	}
	if (current < 0) {
	    vstring_sprintf_append(out, "%s\n", text);
	    continue;
	}
	if (seen[current]++ == 1)
	    msg_warn("%s: multiple entries for \"%s\"", path, names->argv[current]);
	if (how == POSTCONF_EDIT_SET)
	    vstring_sprintf_append(out, "%s = %s\n", names->argv[current],
				   values->argv[current]);
	else if (how == POSTCONF_EDIT_COMMENT)
	    vstring_sprintf_append(out, "#%s\n", text);
    }
    if (how == POSTCONF_EDIT_SET)
	for (size_t i = 0; i < names->argc; i++)
	    if (!seen[i] && find_arg(names, names->argv[i]) == (int) i)
		vstring_sprintf_append(out, "%s = %s\n", names->argv[i],
				       values->argv[i]);

    postconf_write_file(path, out, st.st_mode & 07777);

    myfree(seen);
    argv_free(names);
    argv_free(values);
    argv_free(lines);
    vstring_free(line);
    vstring_free(out);
}
