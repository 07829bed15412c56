/*
 * NAME
 *	master_conf - read master.cf
 * SYNOPSIS
 *	#include "global/master_conf.h"
 * DESCRIPTION
 *	See master_conf.h. The text is first cut into logical lines
 *	(continuations joined with one space, comments dropped), then
 *	each logical line into fields; "{ ... }" fields are kept whole.
 * DIAGNOSTICS
 *	Errors are returned, never logged: master decides whether a bad
 *	file is fatal (at start) or keeps the old configuration (reload).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/master_conf.h"

#define MASTER_CF_MAX_SIZE	(16 * 1024 * 1024)

static void ent_free(MASTER_ENT *ent)
{
    myfree(ent->service);
    myfree(ent->type);
    myfree(ent->command);
    argv_free(ent->args);
    myfree(ent);
}

void    master_conf_free(MASTER_CONF *conf)
{
    if (conf == 0)
	return;
    for (size_t i = 0; i < conf->count; i++)
	ent_free(conf->ents[i]);
    myfree(conf->ents);
    myfree(conf);
}

static int is_blank(int ch)
{
    return (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v');
}

/*
 * split_fields - cut one logical line into fields. A field that starts
 * with "{" ends at the matching "}", which must be followed by white
 * space or the end of the line; its content is trimmed.
 */
static int split_fields(char *line, ARGV *fields, VSTRING *why)
{
    char   *cp = line;

    for (;;) {
	while (*cp && is_blank(*cp))
	    cp++;
	if (*cp == 0)
	    return (0);
	if (*cp == '{') {
	    int     level = 1;
	    char   *start = ++cp;
	    char   *end;

	    for (; *cp && level > 0; cp++) {
		if (*cp == '{')
		    level++;
		else if (*cp == '}')
		    level--;
	    }
	    if (level > 0) {
		vstring_strcpy(why, "missing '}'");
		return (-1);
	    }
	    if (*cp && !is_blank(*cp)) {
		vstring_sprintf(why, "syntax error after '}' in \"%.30s\"", start - 1);
		return (-1);
	    }
	    end = cp - 1;			/* at the closing brace */
	    while (start < end && is_blank(*start))
		start++;
	    while (end > start && is_blank(end[-1]))
		end--;
	    argv_addn(fields, start, end - start);
	} else {
	    char   *start = cp;

	    while (*cp && !is_blank(*cp))
		cp++;
	    argv_addn(fields, start, cp - start);
	}
    }
}

static int parse_bool(const char *text, int defval, int *result)
{
    if (strcmp(text, "-") == 0)
	*result = defval;
    else if (strcmp(text, "y") == 0)
	*result = 1;
    else if (strcmp(text, "n") == 0)
	*result = 0;
    else
	return (-1);
    return (0);
}

/* parse_number - decimal digits, at most INT_MAX */
static int parse_number(const char *text, size_t len, int *result)
{
    long    value = 0;

    if (len == 0)
	return (-1);
    for (size_t i = 0; i < len; i++) {
	if (text[i] < '0' || text[i] > '9')
	    return (-1);
	value = value * 10 + (text[i] - '0');
	if (value > INT_MAX)
	    return (-1);
    }
    *result = (int) value;
    return (0);
}

/* normalize_override - "name = value" -> "name=value" */
static char *normalize_override(const char *text, VSTRING *why)
{
    char   *copy = mystrdup(text);
    char   *eq = strchr(copy, '=');
    char   *name;
    VSTRING *out;

    if (eq == 0) {
	vstring_sprintf(why, "-o option requires name=value, found \"%s\"", text);
	myfree(copy);
	return (0);
    }
    *eq = 0;
    name = trimblanks(copy);
    if (*name == 0 || name[strspn(name, "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")]) {
	vstring_sprintf(why, "-o option: bad parameter name \"%s\"", name);
	myfree(copy);
	return (0);
    }
    out = vstring_alloc(strlen(text) + 1);
    vstring_sprintf(out, "%s=%s", name, trimblanks(eq + 1));
    myfree(copy);
    return (vstring_export(out));
}

static const char *known_types[] = {"inet", "unix", "unix-dgram", "fifo", "pass", 0};

/* parse_entry - one logical line into an entry, or NULL with why */
static MASTER_ENT *parse_entry(char *line, int lineno, VSTRING *why)
{
    ARGV   *f = argv_alloc(16);
    MASTER_ENT *ent = 0;
    const char **tp;
    int     inet;
    size_t  i;

    if (split_fields(line, f, why) < 0)
	goto done;
    if (f->argc < 8) {
	vstring_sprintf(why, "bad field count (%zu fields, expected at least 8)", f->argc);
	goto done;
    }
    for (tp = known_types; *tp && strcmp(*tp, f->argv[1]) != 0; tp++)
	 /* void */ ;
    if (*tp == 0) {
	vstring_sprintf(why, "bad transport type: %s", f->argv[1]);
	goto done;
    }
    if (*f->argv[0] == 0) {
	vstring_strcpy(why, "empty service name");
	goto done;
    }
    inet = strcmp(f->argv[1], "inet") == 0;
    ent = mycalloc(1, sizeof(*ent));
    ent->service = mystrdup(f->argv[0]);
    ent->type = mystrdup(f->argv[1]);
    ent->line = lineno;
    ent->args = argv_alloc(4);
    ent->command = 0;
    if (parse_bool(f->argv[2], inet ? 0 : 1, &ent->private_) < 0) {
	vstring_sprintf(why, "bad private field value: %s", f->argv[2]);
	goto fail;
    }
    if (inet && ent->private_) {
	vstring_sprintf(why, "inet service %s cannot be private", f->argv[0]);
	goto fail;
    }
    if (parse_bool(f->argv[3], 1, &ent->unpriv) < 0) {
	vstring_sprintf(why, "bad unprivileged field value: %s", f->argv[3]);
	goto fail;
    }
    if (parse_bool(f->argv[4], 0, &ent->chroot) < 0) {
	vstring_sprintf(why, "bad chroot field value: %s", f->argv[4]);
	goto fail;
    }
    if (strcmp(f->argv[5], "-") == 0) {
	ent->wakeup = 0;
    } else {
	size_t  len = strlen(f->argv[5]);

	if (len > 0 && f->argv[5][len - 1] == '?') {
	    ent->wakeup_on_use = 1;
	    len--;
	}
	if (parse_number(f->argv[5], len, &ent->wakeup) < 0) {
	    vstring_sprintf(why, "bad wakeup time field value: %s", f->argv[5]);
	    goto fail;
	}
    }
    if (strcmp(f->argv[6], "-") == 0) {
	ent->maxproc = MASTER_MAXPROC_DEFAULT;
    } else if (parse_number(f->argv[6], strlen(f->argv[6]), &ent->maxproc) < 0) {
	vstring_sprintf(why, "bad process limit field value: %s", f->argv[6]);
	goto fail;
    }
    if (*f->argv[7] == 0) {
	vstring_strcpy(why, "empty command");
	goto fail;
    }
    ent->command = mystrdup(f->argv[7]);
    for (i = 8; i < f->argc; i++) {
	if (strcmp(f->argv[i], "-o") == 0) {
	    char   *kv;

	    if (i + 1 >= f->argc) {
		vstring_strcpy(why, "-o option without name=value");
		goto fail;
	    }
	    if ((kv = normalize_override(f->argv[++i], why)) == 0)
		goto fail;
	    argv_add(ent->args, "-o");
	    argv_add(ent->args, kv);
	    myfree(kv);
	} else {
	    argv_add(ent->args, f->argv[i]);
	}
    }
    goto done;

fail:
    if (ent->command == 0)
	ent->command = mystrdup("");
    ent_free(ent);
    ent = 0;
done:
    argv_free(f);
    return (ent);
}

/* add_entry - append, or replace an entry with the same name and type */
static void add_entry(MASTER_CONF *conf, MASTER_ENT *ent)
{
    size_t  i;

    for (i = 0; i < conf->count; i++) {
	if (strcmp(conf->ents[i]->service, ent->service) == 0
	    && strcmp(conf->ents[i]->type, ent->type) == 0) {
	    ent_free(conf->ents[i]);
	    memmove(conf->ents + i, conf->ents + i + 1,
		    (conf->count - i - 1) * sizeof(*conf->ents));
	    conf->count--;
	    break;
	}
    }
    conf->ents = myrealloc(conf->ents, (conf->count + 1) * sizeof(*conf->ents));
    conf->ents[conf->count++] = ent;
}

MASTER_CONF *master_conf_parse(const char *label, const char *text, size_t len,
			               VSTRING *why)
{
    MASTER_CONF *conf = mycalloc(1, sizeof(*conf));
    VSTRING *logical = vstring_alloc(256);
    VSTRING *reason = vstring_alloc(64);
    const char *cp = text;
    const char *end = text + len;
    int     lineno = 0;
    int     start_line = 0;
    int     failed = 0;

    for (;;) {
	const char *nl;
	const char *line = 0;
	size_t  line_len = 0;
	int     at_end = cp >= end;

	if (!at_end) {
	    nl = memchr(cp, '\n', end - cp);
	    line = cp;
	    line_len = nl ? (size_t) (nl - cp) : (size_t) (end - cp);
	    cp = nl ? nl + 1 : end;
	    lineno++;
	    if (memchr(line, 0, line_len) != 0) {
		vstring_sprintf(why, "%s, line %d: null byte in line", label, lineno);
		failed = 1;
		break;
	    }
	    {
		size_t  skip = 0;

		while (skip < line_len && is_blank(line[skip]))
		    skip++;
		if (skip == line_len || line[skip] == '#')
		    continue;
		if (skip > 0) {
		    if (vstring_len(logical) == 0) {
			vstring_sprintf(why, "%s, line %d: continuation line without a service line before it",
					label, lineno);
			failed = 1;
			break;
		    }
		    vstring_addch(logical, ' ');
		    vstring_memcat(logical, line + skip, line_len - skip);
		    continue;
		}
	    }
	}
	if (vstring_len(logical) > 0) {
	    MASTER_ENT *ent = parse_entry(vstring_str(logical), start_line, reason);

	    if (ent == 0) {
		vstring_sprintf(why, "%s, line %d: %s", label, start_line, vstring_str(reason));
		failed = 1;
		break;
	    }
	    add_entry(conf, ent);
	    vstring_reset(logical);
	}
	if (at_end)
	    break;
	vstring_memcpy(logical, line, line_len);
	start_line = lineno;
    }
    vstring_free(logical);
    vstring_free(reason);
    if (failed) {
	master_conf_free(conf);
	return (0);
    }
    return (conf);
}

MASTER_CONF *master_conf_read(const char *path, VSTRING *why)
{
    VSTREAM *fp;
    VSTRING *text = vstring_alloc(4096);
    MASTER_CONF *conf;
    char    buf[8192];
    ssize_t n;

    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	vstring_sprintf(why, "open %s: %s", path, strerror(errno));
	vstring_free(text);
	return (0);
    }
    while ((n = vstream_read(fp, buf, sizeof(buf))) > 0) {
	vstring_memcat(text, buf, n);
	if (vstring_len(text) > MASTER_CF_MAX_SIZE) {
	    vstring_sprintf(why, "%s: file too large", path);
	    vstream_close(fp);
	    vstring_free(text);
	    return (0);
	}
    }
    if (vstream_ferror(fp)) {
	vstring_sprintf(why, "read %s: %s", path, strerror(errno));
	vstream_close(fp);
	vstring_free(text);
	return (0);
    }
    vstream_close(fp);
    conf = master_conf_parse(path, vstring_str(text), vstring_len(text), why);
    vstring_free(text);
    return (conf);
}
