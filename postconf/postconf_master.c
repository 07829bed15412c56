/*
 * NAME
 *	postconf_master - postconf -M, -F and -P: show and edit master.cf
 * SYNOPSIS
 *	#include "postconf_master.h"
 *
 *	void postconf_master(const char *path, int what, int edit, int flags,
 *			     char **args, int count);
 * DESCRIPTION
 *	postconf_master() works on the master.cf file at path the way
 *	Postfix's postconf does, for what = 'M' (whole entries), 'F'
 *	(fields: service, type, private, unprivileged, chroot, wakeup,
 *	process_limit, command) or 'P' (the "-o name=value" settings of
 *	the entries):
 *
 *	Without edit, args are patterns "service[/type[/name]]" (a
 *	missing or "*" part matches all) and the matching entries, fields
 *	or settings are printed: -M as one normalized line per entry (the
 *	fields in columns; with POSTCONF_MASTER_FOLD, lines of less than
 *	80 characters and each -o on a line of its own, continuation
 *	lines indented by four spaces), -F and -P as
 *	"service/type/name = value" (POSTCONF_MASTER_HIDE_NAME: the value
 *	only; POSTCONF_MASTER_HIDE_VALUE: the name only). A pattern that
 *	matches nothing gets 'warning: unmatched request: "PATTERN"'.
 *
 *	Edits (the file is replaced atomically, keeping its mode; entries
 *	that change are written folded, the others stay as they were):
 *
 *	POSTCONF_EDIT_SET	-Me "service/type=whole entry" replaces
 *				the entry, or appends it; -Fe
 *				"service/type/field=value" sets one field;
 *				-Pe "service/type/name=value" sets or adds
 *				a -o setting
 *	POSTCONF_EDIT_REMOVE	-MX "service/type" removes entries; -PX
 *				"service/type/name" removes -o settings
 *	POSTCONF_EDIT_COMMENT	-M# "service/type" puts "#" before each line
 *				of the entries
 * DIAGNOSTICS
 *	Postfix's: 'invalid service attribute name: "NAME"', "-Me, -MX
 *	or -M# requires service_name/type" (and the -F, -P forms) for an
 *	edit argument without all its parts,
 *	'missing '=' after attribute name: "TEXT"', 'missing service
 *	argument', 'unmatched service_name/type: "TEXT"' (a warning).
 *	Fatal: a master.cf that cannot be read or written.
 * SEE ALSO
 *	master(5), postconf(1)
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/argv.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/stringops.h"
#include "util/vstream.h"
#include "util/vstring.h"
#include "postconf_edit.h"
#include "postconf_master.h"

#define FIELD_COUNT	8
#define FIELD_COMMAND	7
#define FOLD_LIMIT	80

static const char *field_names[FIELD_COUNT] = {
    "service", "type", "private", "unprivileged", "chroot", "wakeup",
    "process_limit", "command",
};

/* Where each field starts in a normalized line (Postfix's columns). */
static const int field_columns[FIELD_COUNT] = {0, 11, 17, 25, 33, 41, 49, 57};

typedef struct PCF_ENT {
    int     first;			/* first line in the file, -1 new */
    int     last;			/* last line */
    char   *field[FIELD_COUNT];		/* as written ("-" stays "-") */
    ARGV   *args;			/* after the command, as written */
    int     changed;
    int     replaced;			/* -Me: written where it was */
    int     removed;
    int     commented;
} PCF_ENT;

typedef struct PCF_FILE {
    ARGV   *lines;
    PCF_ENT **ents;
    size_t  count;
} PCF_FILE;

/* tokens - master.cf fields: white space apart, "{ ... }" one token */
static ARGV *tokens(const char *text)
{
    ARGV   *argv = argv_alloc(10);
    const char *cp = text;

    for (;;) {
	const char *start;
	int     depth = 0;

	while (*cp == ' ' || *cp == '\t' || *cp == '\r' || *cp == '\n')
	    cp++;
	if (*cp == 0)
	    break;
	start = cp;
	if (*cp == '{') {
	    for (; *cp; cp++) {
		if (*cp == '{')
		    depth++;
		else if (*cp == '}' && --depth == 0) {
		    cp++;
		    break;
		}
	    }
	} else {
	    while (*cp && *cp != ' ' && *cp != '\t' && *cp != '\r' && *cp != '\n')
		cp++;
	}
	argv_addn(argv, start, (size_t) (cp - start));
    }
    return (argv);
}

/* ent_from_text - an entry from the text of one logical line, or NULL */
static PCF_ENT *ent_from_text(const char *text)
{
    ARGV   *tok = tokens(text);
    PCF_ENT *ent;

    if (tok->argc < FIELD_COUNT) {
	argv_free(tok);
	return (0);
    }
    ent = mycalloc(1, sizeof(*ent));
    ent->first = ent->last = -1;
    for (int i = 0; i < FIELD_COUNT; i++)
	ent->field[i] = mystrdup(tok->argv[i]);
    ent->args = argv_alloc(4);
    for (size_t i = FIELD_COUNT; i < tok->argc; i++)
	argv_add(ent->args, tok->argv[i]);
    argv_free(tok);
    return (ent);
}

static void ent_free(PCF_ENT *ent)
{
    for (int i = 0; i < FIELD_COUNT; i++)
	myfree(ent->field[i]);
    argv_free(ent->args);
    myfree(ent);
}

/* is_comment - blank or "#" line */
static int is_comment(const char *line)
{
    const char *cp = line + strspn(line, " \t\r");

    return (*cp == 0 || *cp == '#');
}

/* file_read - the lines and the entries of master.cf */
static PCF_FILE *file_read(const char *path)
{
    PCF_FILE *file = mycalloc(1, sizeof(*file));
    VSTREAM *fp;
    VSTRING *line = vstring_alloc(100);
    VSTRING *logical = vstring_alloc(200);
    int     first = -1;
    int     last = -1;
    size_t  cap = 16;

    file->lines = argv_alloc(100);
    file->ents = mymalloc(cap * sizeof(*file->ents));
    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0)
	msg_fatal("open %s: %s", path, strerror(errno));
    while (vstream_get_line(fp, line, 1 << 20) != VSTREAM_EOF)
	argv_add(file->lines, vstring_str(line));
    if (vstream_ferror(fp))
	msg_fatal("read %s: %s", path, strerror(errno));
    vstream_close(fp);

    for (size_t i = 0; i <= file->lines->argc; i++) {
	const char *text = i < file->lines->argc ? file->lines->argv[i] : 0;

	if (text && is_comment(text))
	    continue;
	if (text && (text[0] == ' ' || text[0] == '\t') && first >= 0) {
	    vstring_sprintf_append(logical, " %s", text);
	    last = (int) i;
	    continue;
	}
	if (first >= 0) {
	    PCF_ENT *ent = ent_from_text(vstring_str(logical));

	    if (ent == 0)
		msg_fatal("file %s: line %d: bad field count", path, first + 1);
	    ent->first = first;
	    ent->last = last;
	    if (file->count == cap)
		file->ents = myrealloc(file->ents, (cap *= 2) * sizeof(*file->ents));
	    file->ents[file->count++] = ent;
	}
	if (text == 0)
	    break;
	vstring_strcpy(logical, text);
	first = last = (int) i;
    }
    vstring_free(line);
    vstring_free(logical);
    return (file);
}

static void file_free(PCF_FILE *file)
{
    for (size_t i = 0; i < file->count; i++)
	ent_free(file->ents[i]);
    myfree(file->ents);
    argv_free(file->lines);
    myfree(file);
}

/* file_add - a new entry at the end */
static void file_add(PCF_FILE *file, PCF_ENT *ent)
{
    file->ents = myrealloc(file->ents, (file->count + 1) * sizeof(*file->ents));
    file->ents[file->count++] = ent;
}

/* format_entry - the normalized text of an entry, with line ends */
static void format_entry(VSTRING *out, PCF_ENT *ent, int fold)
{
    size_t  line_start = vstring_len(out);

    for (int i = 0; i < FIELD_COUNT; i++) {
	size_t  col = vstring_len(out) - line_start;

	if (i > 0) {
	    if ((int) col < field_columns[i])
		vstring_sprintf_append(out, "%*s", field_columns[i] - (int) col, "");
	    else
		vstring_addch(out, ' ');
	}
	vstring_strcat(out, ent->field[i]);
    }
    for (size_t i = 0; i < ent->args->argc; i++) {
	const char *arg = ent->args->argv[i];
	int     is_opt = strcmp(arg, "-o") == 0 && i + 1 < ent->args->argc;
	size_t  len = strlen(arg) + (is_opt ? 1 + strlen(ent->args->argv[i + 1]) : 0);
	size_t  col = vstring_len(out) - line_start;

	if (fold && (is_opt || col + 1 + len >= FOLD_LIMIT)) {
	    vstring_strcat(out, "\n    ");
	    line_start = vstring_len(out) - 4;
	} else {
	    vstring_addch(out, ' ');
	}
	vstring_strcat(out, arg);
	if (is_opt) {
	    vstring_addch(out, ' ');
	    vstring_strcat(out, ent->args->argv[++i]);
	}
    }
    vstring_addch(out, '\n');
}

/* pattern - "service/type/name" split; missing parts are "*" */
typedef struct PCF_PATTERN {
    char   *text;
    char   *part[3];
    int     matched;
} PCF_PATTERN;

static void pattern_init(PCF_PATTERN *p, const char *text)
{
    char   *cp;

    p->text = mystrdup(text);
    p->matched = 0;
    cp = mystrdup(text);
    for (int i = 0; i < 3; i++) {
	char   *slash = i < 2 ? strchr(cp, '/') : 0;

	if (slash)
	    *slash = 0;
	p->part[i] = mystrdup(*cp ? cp : "*");
	if (slash)
	    memmove(cp, slash + 1, strlen(slash + 1) + 1);
	else
	    *cp = 0;
    }
    myfree(cp);
}

static void pattern_free(PCF_PATTERN *p)
{
    myfree(p->text);
    for (int i = 0; i < 3; i++)
	myfree(p->part[i]);
}

static int part_match(const char *pat, const char *value)
{
    return (strcmp(pat, "*") == 0 || strcmp(pat, value) == 0);
}

static int ent_match(const PCF_PATTERN *p, const PCF_ENT *ent)
{
    return (part_match(p->part[0], ent->field[0]) && part_match(p->part[1], ent->field[1]));
}

/* params - the -o settings of an entry: name and value pairs */
static ARGV *params(const PCF_ENT *ent, ARGV *where)
{
    ARGV   *out = argv_alloc(4);

    for (size_t i = 0; i + 1 < ent->args->argc; i++) {
	char   *text;
	char   *value;

	if (strcmp(ent->args->argv[i], "-o") != 0)
	    continue;
	text = mystrdup(ent->args->argv[i + 1]);
	if (text[0] == '{') {
	    size_t  n = strlen(text);

	    if (n > 1 && text[n - 1] == '}')
		text[n - 1] = 0;
	    memmove(text, text + 1, n);
	}
	if ((value = split_at(text, '=')) != 0) {
	    argv_add(out, trimblanks(text));
	    argv_add(out, trimblanks(value));
	    if (where) {
		char    num[32];

		snprintf(num, sizeof(num), "%zu", i);
		argv_add(where, num);
	    }
	}
	myfree(text);
	i++;
    }
    return (out);
}

static int compare_pairs(const void *a, const void *b)
{
    return (strcmp(((char *const *) a)[0], ((char *const *) b)[0]));
}

/* show_item - "service/type/name = value" in the chosen form */
static void show_item(VSTREAM *out, const PCF_ENT *ent, const char *name,
		              const char *value, int flags)
{
    if (flags & POSTCONF_MASTER_HIDE_NAME)
	vstream_fprintf(out, "%s\n", value);
    else if (flags & POSTCONF_MASTER_HIDE_VALUE)
	vstream_fprintf(out, "%s/%s/%s\n", ent->field[0], ent->field[1], name);
    else
	vstream_fprintf(out, "%s/%s/%s = %s\n", ent->field[0], ent->field[1], name, value);
}

/* command_text - the command field with its arguments */
static char *command_text(const PCF_ENT *ent)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_strcpy(buf, ent->field[FIELD_COMMAND]);
    for (size_t i = 0; i < ent->args->argc; i++)
	vstring_sprintf_append(buf, " %s", ent->args->argv[i]);
    return (vstring_export(buf));
}

/* field_index - a -F field name, fatal when unknown */
static int field_index(const char *name)
{
    for (int i = 0; i < FIELD_COUNT; i++)
	if (strcmp(field_names[i], name) == 0)
	    return (i);
    msg_fatal("invalid service attribute name: \"%s\"", name);
}

/* show_entry - one entry for -M, -F or -P under one pattern */
static int show_entry(VSTREAM *out, PCF_ENT *ent, const PCF_PATTERN *p, int what, int flags)
{
    int     shown = 0;

    if (what == 'M') {
	VSTRING *buf = vstring_alloc(100);

	format_entry(buf, ent, flags & POSTCONF_MASTER_FOLD);
	vstream_fputs(out, vstring_str(buf));
	vstring_free(buf);
	return (1);
    }
    if (what == 'F') {
	if (strcmp(p->part[2], "*") != 0)
	    (void) field_index(p->part[2]);
	for (int i = 0; i < FIELD_COUNT; i++) {
	    char   *value;

	    if (!part_match(p->part[2], field_names[i]))
		continue;
	    value = i == FIELD_COMMAND ? command_text(ent) : mystrdup(ent->field[i]);
	    show_item(out, ent, field_names[i], value, flags);
	    myfree(value);
	    shown = 1;
	}
	return (shown);
    }
    /* -P: sorted by name within the entry. */
    {
	ARGV   *pairs = params(ent, 0);

	qsort(pairs->argv, pairs->argc / 2, 2 * sizeof(char *), compare_pairs);
	for (size_t i = 0; i + 1 < pairs->argc; i += 2) {
	    if (!part_match(p->part[2], pairs->argv[i]))
		continue;
	    show_item(out, ent, pairs->argv[i], pairs->argv[i + 1], flags);
	    shown = 1;
	}
	argv_free(pairs);
    }
    return (shown);
}

/* show - the display modes */
static void show(PCF_FILE *file, int what, int flags, char **args, int count)
{
    VSTREAM *out = vstream_fdopen(1);
    PCF_PATTERN *pats;
    int     npat = count > 0 ? count : 1;

    pats = mycalloc(npat, sizeof(*pats));
    for (int i = 0; i < npat; i++)
	pattern_init(pats + i, count > 0 ? args[i] : "*");
    for (size_t e = 0; e < file->count; e++) {
	for (int i = 0; i < npat; i++) {
	    if (!ent_match(pats + i, file->ents[e]))
		continue;
	    if (show_entry(out, file->ents[e], pats + i, what, flags)) {
		pats[i].matched = 1;
		break;				/* -M: one entry once */
	    }
	}
    }
    vstream_fflush(out);
    for (int i = 0; i < count; i++)
	if (!pats[i].matched)
	    msg_warn("unmatched request: \"%s\"", pats[i].text);
    for (int i = 0; i < npat; i++)
	pattern_free(pats + i);
    myfree(pats);
    vstream_release(out);
}

/* find_exact - the next entry of service/type ("*" matches all) */
static int find_exact(PCF_FILE *file, const char *service, const char *type, int start)
{
    for (size_t e = (size_t) start; e < file->count; e++)
	if (!file->ents[e]->removed && part_match(service, file->ents[e]->field[0])
	    && part_match(type, file->ents[e]->field[1]))
	    return ((int) e);
    return (-1);
}

/* set_param - -Pe: replace or add "-o name=value" */
static void set_param(PCF_ENT *ent, const char *name, const char *value)
{
    ARGV   *where = argv_alloc(4);
    ARGV   *pairs = params(ent, where);
    VSTRING *buf = vstring_alloc(100);
    ARGV   *args;
    size_t  insert_at = 0;
    int     done = 0;

    vstring_sprintf(buf, "%s=%s", name, value);
    if (strchr(value, ' ') || strchr(value, '\t'))
	vstring_sprintf(buf, "{ %s = %s }", name, value);
    for (size_t i = 0; i + 1 < pairs->argc; i += 2) {
	size_t  at = (size_t) atol(where->argv[i / 2]);

	insert_at = at + 2;
	if (strcmp(pairs->argv[i], name) == 0 && !done) {
	    myfree(ent->args->argv[at + 1]);
	    ent->args->argv[at + 1] = mystrdup(vstring_str(buf));
	    done = 1;
	}
    }
    if (!done) {
	args = argv_alloc(ent->args->argc + 2);
	for (size_t i = 0; i < ent->args->argc; i++) {
	    if (i == insert_at) {
		argv_add(args, "-o");
		argv_add(args, vstring_str(buf));
	    }
	    argv_add(args, ent->args->argv[i]);
	}
	if (insert_at >= ent->args->argc) {
	    argv_add(args, "-o");
	    argv_add(args, vstring_str(buf));
	}
	argv_free(ent->args);
	ent->args = args;
    }
    ent->changed = 1;
    argv_free(where);
    argv_free(pairs);
    vstring_free(buf);
}

/* remove_param - -PX: drop "-o name=..." */
static int remove_param(PCF_ENT *ent, const char *name)
{
    ARGV   *where = argv_alloc(4);
    ARGV   *pairs = params(ent, where);
    ARGV   *args = argv_alloc(ent->args->argc);
    int     removed = 0;

    for (size_t i = 0; i < ent->args->argc; i++) {
	int     drop = 0;

	for (size_t k = 0; k + 1 < pairs->argc; k += 2)
	    if ((size_t) atol(where->argv[k / 2]) == i && strcmp(pairs->argv[k], name) == 0)
		drop = 1;
	if (drop) {
	    i++;				/* and its value */
	    removed = 1;
	    continue;
	}
	argv_add(args, ent->args->argv[i]);
    }
    argv_free(ent->args);
    ent->args = args;
    if (removed)
	ent->changed = 1;
    argv_free(where);
    argv_free(pairs);
    return (removed);
}

/* set_field - -Fe: one field; "command" is the command and its arguments */
static void set_field(PCF_ENT *ent, int i, const char *value, const char *arg)
{
    if (i == FIELD_COMMAND) {
	VSTRING *text = vstring_alloc(100);
	PCF_ENT *tmp;

	for (int f = 0; f < FIELD_COMMAND; f++)
	    vstring_sprintf_append(text, "%s ", ent->field[f]);
	vstring_strcat(text, value);
	if ((tmp = ent_from_text(vstring_str(text))) == 0)
	    msg_fatal("missing command: \"%s\"", arg);
	myfree(ent->field[i]);
	ent->field[i] = tmp->field[i];
	tmp->field[i] = 0;
	argv_free(ent->args);
	ent->args = tmp->args;
	tmp->args = argv_alloc(1);
	ent_free(tmp);
	vstring_free(text);
    } else {
	myfree(ent->field[i]);
	ent->field[i] = mystrdup(value);
    }
    ent->changed = 1;
}

/* edit - the edit modes, then the file is written */
static void edit(const char *path, PCF_FILE *file, int what, int how, char **args, int count)
{
    VSTRING *out = vstring_alloc(4096);
    struct stat st;
    int     line_owner;
    PCF_ENT *pending;

    if (count == 0)
	msg_fatal(how == POSTCONF_EDIT_SET ? "-e requires name=value argument"
		  : "missing service argument");
    /* As Postfix: every argument is checked before anything changes. */
    for (int a = 0; a < count; a++) {
	size_t  len = how == POSTCONF_EDIT_SET ? strcspn(args[a], "=") : strlen(args[a]);
	int     slashes = 0;

	if (how == POSTCONF_EDIT_SET && args[a][len] != '=')
	    msg_fatal("missing '=' after attribute name: \"%s\"", args[a]);
	for (size_t i = 0; i < len; i++)
	    slashes += args[a][i] == '/';
	if (what == 'M' && slashes != 1)
	    msg_fatal("-Me, -MX or -M# requires service_name/type");
	if (what == 'F' && slashes != 2)
	    msg_fatal("-Fe or -FX requires service_name/type/field_name");
	if (what == 'P' && slashes != 2)
	    msg_fatal("-Pe or -PX requires service_name/type/parameter");
    }
    for (int a = 0; a < count; a++) {
	char   *key = mystrdup(args[a]);
	char   *value = 0;
	PCF_PATTERN p;
	int     e;

	if (how == POSTCONF_EDIT_SET) {
	    if ((value = split_at(key, '=')) == 0)
		msg_fatal("missing '=' after attribute name: \"%s\"", args[a]);
	    trimblanks(key);
	    value = trimblanks(value);
	}
	pattern_init(&p, key);
	if (what == 'M' && how == POSTCONF_EDIT_SET) {
	    PCF_ENT *ent = ent_from_text(value);

	    if (ent == 0)
		msg_fatal("invalid master.cf entry: \"%s\"", value);
	    ent->changed = ent->replaced = 1;
	    if ((e = find_exact(file, p.part[0], p.part[1], 0)) >= 0) {
		ent->first = file->ents[e]->first;
		ent->last = file->ents[e]->last;
		ent_free(file->ents[e]);
		file->ents[e] = ent;
	    } else {
		file_add(file, ent);
	    }
	} else if (what == 'M') {
	    for (size_t k = 0; k < file->count; k++) {
		if (!file->ents[k]->removed && ent_match(&p, file->ents[k])) {
		    p.matched = 1;
		    if (how == POSTCONF_EDIT_REMOVE)
			file->ents[k]->removed = 1;
		    else
			file->ents[k]->commented = 1;
		}
	    }
	    if (!p.matched)
		msg_warn("unmatched service_name/type: \"%s\"", key);
	} else {
	    if (what == 'F')
		(void) field_index(p.part[2]);
	    if ((e = find_exact(file, p.part[0], p.part[1], 0)) < 0)
		msg_warn("unmatched service_name/type: \"%s\"", args[a]);
	    /* Every entry of that service and type, as Postfix does. */
	    for (; e >= 0; e = find_exact(file, p.part[0], p.part[1], e + 1)) {
		if (what == 'F')
		    set_field(file->ents[e], field_index(p.part[2]), value, args[a]);
		else if (how == POSTCONF_EDIT_SET)
		    set_param(file->ents[e], p.part[2], value);
		else if (how == POSTCONF_EDIT_REMOVE)
		    (void) remove_param(file->ents[e], p.part[2]);
	    }
	}
	pattern_free(&p);
	myfree(key);
    }

    /*
     * The new text: untouched lines as they were, changed entries folded.
     * As Postfix reads master.cf, comment and blank lines that follow an
     * entry are read before the entry ends; a changed entry is written
     * after them, where the next entry starts.
     */
    pending = 0;
    for (size_t i = 0; i < file->lines->argc; i++) {
	line_owner = -1;
	for (size_t e = 0; e < file->count; e++)
	    if (file->ents[e]->first >= 0 && (int) i >= file->ents[e]->first
		&& (int) i <= file->ents[e]->last)
		line_owner = (int) e;
	if (line_owner < 0) {
	    vstring_sprintf_append(out, "%s\n", file->lines->argv[i]);
	    continue;
	}
	if (pending && (int) i == file->ents[line_owner]->first) {
	    format_entry(out, pending, 1);
	    pending = 0;
	}
	{
	    PCF_ENT *ent = file->ents[line_owner];

	    if (ent->removed)
		continue;
	    if (ent->commented)
		vstring_sprintf_append(out, "#%s\n", file->lines->argv[i]);
	    else if (!ent->changed)
		vstring_sprintf_append(out, "%s\n", file->lines->argv[i]);
	    else if ((int) i == ent->first && ent->replaced)
		format_entry(out, ent, 1);
	    else if ((int) i == ent->first)
		pending = ent;
	}
    }
    if (pending)
	format_entry(out, pending, 1);
    for (size_t e = 0; e < file->count; e++)
	if (file->ents[e]->first < 0 && !file->ents[e]->removed)
	    format_entry(out, file->ents[e], 1);
    if (stat(path, &st) < 0)
	msg_fatal("stat %s: %s", path, strerror(errno));
    postconf_write_file(path, out, st.st_mode & 07777);
    vstring_free(out);
}

void    postconf_master(const char *path, int what, int how, int flags,
			        char **args, int count)
{
    PCF_FILE *file = file_read(path);

    if (how)
	edit(path, file, what, how, args, count);
    else
	show(file, what, flags, args, count);
    file_free(file);
}
