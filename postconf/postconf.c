/*
 * NAME
 *	postconf - show main.cf parameters: defaults, settings, effective values
 * SYNOPSIS
 *	postconf [-c config_dir] [-d | -n] [-h | -H] [-x] [-o name=value]
 *		[-v] [name ...]
 *	postconf [-c config_dir] -m
 * DESCRIPTION
 *	Prints "name = value" lines, sorted by name, from the one
 *	parameter table (lib/global/mail_params.def through mail_conf_params()),
 *	the way Postfix's postconf(1) does:
 *
 *	(no option)	every parameter with its effective value as
 *			written: the main.cf text, else the default.
 *	-d		the defaults, as written in the table ($names and
 *			${...} forms unexpanded); main.cf is not read.
 *	-n		only parameters set in main.cf (and
 *			config_directory when it is not the default one).
 *	-x		expand $name, ${name?...} and the
 *			compatibility_level forms first (with -d: in a
 *			configuration that has only defaults); not in a
 *			PARAM_RAW template.
 *	-h		values only; -H names only.
 *	-m		the lookup table types this system supports.
 *	-o name=value	override a main.cf setting for this command.
 *	-e, -X, -#	edit main.cf (see postconf_edit.c).
 *	-c dir		read dir/main.cf instead of the default
 *			($MAIL_CONFIG or the compiled-in directory).
 *	name ...	only these parameters.
 *
 *	Besides the table, a name counts as a parameter when it is a
 *	per-transport scheduler knob of a master.cf service that runs a
 *	delivery agent (relay_destination_concurrency_limit, default
 *	$default_destination_concurrency_limit), or when a main.cf value,
 *	a master.cf "-o" option or the default of a parameter refers to it
 *	($my_own; the old name postscreen_blacklist_action).
 * DIAGNOSTICS
 *	"postconf: warning: NAME: unknown parameter" for a name that is
 *	none of these; "postconf: warning: DIR/main.cf: unused parameter:
 *	name=value" for such a main.cf line. Fatal (exit 1): bad usage, an
 *	unreadable main.cf (except with -d or -m).
 * SEE ALSO
 *	postconf(5), postconf(1)
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/argv.h"
#include "dict/dict.h"
#include "util/htable.h"
#include "global/mail_conf.h"
#include "global/master_conf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/stringops.h"
#include "util/vstream.h"
#include "util/vstring.h"
#include "postconf_edit.h"
#include "postconf_master.h"

#define SHOW_DEFS	(1<<0)		/* -d */
#define SHOW_NONDEF	(1<<1)		/* -n */
#define SHOW_EVAL	(1<<2)		/* -x */
#define HIDE_NAME	(1<<3)		/* -h */
#define HIDE_VALUE	(1<<4)		/* -H */

/*
 * Per-transport parameters (<service>_<suffix>) exist for the services
 * of master.cf that run a delivery agent, as qmgr reads them.
 */
static const char *transport_suffixes[] = {
    "delivery_slot_cost", "delivery_slot_discount", "delivery_slot_loan",
    "destination_concurrency_failed_cohort_limit",
    "destination_concurrency_limit",
    "destination_concurrency_negative_feedback",
    "destination_concurrency_positive_feedback",
    "destination_rate_delay", "destination_recipient_limit",
    "extra_recipient_limit", "initial_destination_concurrency",
    "minimum_delivery_slots", "recipient_limit", "recipient_refill_delay",
    "recipient_refill_limit", 0,
};
static const char *delivery_agents[] = {
    "smtp", "lmtp", "error", "virtual", "pipe", 0,	/* local: own defaults */
};

static VSTREAM *out;			/* standard output */
static HTABLE *services;		/* master.cf service names */
static HTABLE *referenced;		/* names used as $name in main.cf */

static void add_references(const char *);

static void usage(void)
{
    msg_fatal("usage: postconf [-c config_dir] [-d (parameter defaults)] "
	      "[-e (edit configuration)] [-h (no names)] [-H (no values)] "
	      "[-m (map types)] [-n (non-default parameters)] "
	      "[-o name=value (override parameter value)] [-v (verbose)] "
	      "[-x (expand parameter values)] [-X (exclude)] [-# (comment-out)] "
	      "[name...]");
}

/*
 * option_conflicts - Postfix's complaints about options that do not go
 * together: two of one group ("specify one of -M -P", the letters in
 * Postfix's order: alphabetical, lower case first, "#" last), or an
 * option that a mode does not take ("with option -M, do not specify -n").
 */
static int option_rank(int ch)
{
    if (ch == '#')
	return (1000);
    return (tolower(ch) * 2 + (isupper(ch) != 0));
}

static void option_conflicts(const char *seen)
{
    static const char *groups[] = {"aAlmMFP", "dneX#", "hH"};
    static const struct {
	const char *modes;
	const char *forbidden;
    } modes[] = {
	{"aAlm", "dneX#"}, {"MP", "dn"}, {"F", "dnX#"},
    };

    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
	int     first = 0, second = 0;

	for (const char *cp = seen; *cp; cp++) {
	    if (strchr(groups[g], *cp) == 0)
		continue;
	    if (first == 0 || option_rank(*cp) < option_rank(first)) {
		second = first;
		first = *cp;
	    } else if (second == 0 || option_rank(*cp) < option_rank(second)) {
		second = *cp;
	    }
	}
	if (second)
	    msg_fatal("specify one of -%c -%c", first, second);
    }
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
	for (const char *cp = seen; *cp; cp++)
	    if (strchr(modes[m].modes, *cp))
		for (const char *fp = seen; *fp; fp++)
		    if (strchr(modes[m].forbidden, *fp))
			msg_fatal("with option -%c, do not specify -%c", *cp, *fp);
}

/* read_services - master.cf: service names, and $names used by -o */

static void read_services(void)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    MASTER_CONF *conf;

    services = htable_create(32);
    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    if ((conf = master_conf_read(vstring_str(path), why)) != 0) {
	for (size_t i = 0; i < conf->count; i++) {
	    MASTER_ENT *ent = conf->ents[i];
	    const char *name = strrchr(ent->service, ':');

	    name = name ? name + 1 : ent->service;
	    for (const char **ap = delivery_agents; *ap; ap++)
		if (strcmp(*ap, ent->command) == 0 && *name
		    && !htable_locate(services, name))
		    htable_enter(services, name, 0);

	    /*
	     * "-o name=$my_own" makes my_own a parameter; like Postfix,
	     * look at the options before the first other argument only.
	     */
	    for (size_t j = 0; referenced && j < ent->args->argc; j++) {
		const char *arg = ent->args->argv[j];

		if (arg[0] != '-')
		    break;
		if (strcmp(arg, "-o") == 0 && j + 1 < ent->args->argc)
		    add_references(ent->args->argv[++j]);
	    }
	}
	master_conf_free(conf);
    } else if (msg_verbose) {
	msg_info("%s", vstring_str(why));
    }
    vstring_free(path);
    vstring_free(why);
}

/* add_references - remember the $names that text refers to */

static void add_references(const char *text)
{
    for (const char *cp = text; *cp; cp++) {
	size_t  n;
	char   *name;

	if (*cp != '$')
	    continue;
	if (cp[1] == '$') {
	    cp++;
	    continue;
	}
	if (cp[1] == '{' || cp[1] == '(')
	    cp++;
	n = strspn(cp + 1, "abcdefghijklmnopqrstuvwxyz"
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (n == 0)
	    continue;
	name = mystrndup(cp + 1, n);
	if (!htable_locate(referenced, name))
	    htable_enter(referenced, name, 0);
	myfree(name);
	cp += n;
    }
}

/*
 * scan_references - names that main.cf values refer to, and old names
 * that a default still honours (postscreen_blacklist_action)
 */
static void scan_references(void)
{
    ARGV   *names = mail_conf_names();
    size_t  count;
    const MAIL_PARAM *params = mail_conf_params(&count);

    referenced = htable_create(32);
    for (size_t i = 0; i < count; i++)
	if (params[i].defval)
	    add_references(params[i].defval);
    for (size_t i = 0; i < names->argc; i++) {
	const char *value = mail_conf_raw(names->argv[i]);

	add_references(value ? value : "");
    }
    argv_free(names);
}

/* transport_default - "$default_X" for a per-transport name, or NULL */

static const char *transport_default(const char *name, VSTRING *buf)
{
    const char *us;

    if (services == 0)
	return (0);
    for (us = strchr(name, '_'); us; us = strchr(us + 1, '_')) {
	char   *service = mystrndup(name, (size_t) (us - name));
	int     known = htable_locate(services, service) != 0;
	const char *suffix = us + 1;

	myfree(service);
	if (!known)
	    continue;
	for (const char **sp = transport_suffixes; *sp; sp++) {
	    if (strcmp(*sp, suffix) != 0)
		continue;
	    /* The one per-transport knob whose fallback has no default_. */
	    if (strcmp(suffix, "initial_destination_concurrency") == 0)
		vstring_strcpy(buf, suffix);
	    else
		vstring_sprintf(buf, "default_%s", suffix);
	    if (mail_conf_param(vstring_str(buf)) == 0)
		return (0);
	    vstring_sprintf(buf, "$%s", mail_conf_param(vstring_str(buf))->name);
	    return (vstring_str(buf));
	}
    }
    return (0);
}

/* is_parameter - known to this system */

static int is_parameter(const char *name, VSTRING *buf)
{
    return (mail_conf_param(name) != 0
	    || transport_default(name, buf) != 0
	    || mail_conf_user_defined(name)
	    || (referenced && htable_locate(referenced, name) != 0));
}

/* default_text - the default as written, or NULL */

static const char *default_text(const char *name, VSTRING *buf)
{
    const char *value;

    if (mail_conf_param(name) != 0)
	return (mail_conf_default(name));
    if ((value = transport_default(name, buf)) != 0)
	return (value);
    if (referenced && htable_locate(referenced, name) != 0)
	return ("");
    return (0);
}

/* show - one output line */

static void show(const char *name, const char *value, int mode)
{
    if (mode & HIDE_NAME)
	vstream_fprintf(out, "%s\n", value);
    else if (mode & HIDE_VALUE)
	vstream_fprintf(out, "%s\n", name);
    else if (*value)
	vstream_fprintf(out, "%s = %s\n", name, value);
    else
	vstream_fprintf(out, "%s =\n", name);
}

/* show_param - one parameter in the selected mode */

static void show_param(const char *name, int mode)
{
    VSTRING *buf = vstring_alloc(64);
    const char *value;
    char   *expanded = 0;

    if (mail_conf_noimpl(name)) {
	msg_warn("%s: parameter is not implemented by this mail system", name);
	vstring_free(buf);
	return;
    }
    if (!is_parameter(name, buf)) {
	msg_warn("%s: unknown parameter", name);
	vstring_free(buf);
	return;
    }
    if (mode & SHOW_DEFS)
	value = default_text(name, buf);
    else if ((value = mail_conf_raw(name)) == 0)
	value = default_text(name, buf);
    if (value == 0)
	value = "";
    /* A template is expanded by the program that uses it, not here. */
    if ((mode & SHOW_EVAL) && !(mail_conf_param(name)
				&& (mail_conf_param(name)->flags & PARAM_RAW)))
	value = expanded = mail_conf_expand(value);
    show(name, value, mode);
    if (expanded)
	myfree(expanded);
    vstring_free(buf);
}

static int compare_names(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* warn_unused - main.cf lines that set no parameter */

static void warn_unused(void)
{
    ARGV   *names = mail_conf_names();
    VSTRING *buf = vstring_alloc(64);

    qsort(names->argv, names->argc, sizeof(char *), compare_names);
    for (size_t i = 0; i < names->argc; i++)
	if (mail_conf_noimpl(names->argv[i])) {
	    char   *value = mail_conf_expand(mail_conf_raw(names->argv[i]));

	    if (!mail_conf_inert(names->argv[i], trimblanks(value)))
		msg_warn("main.cf: parameter %s is not implemented by this mail system; "
			 "it has no effect", names->argv[i]);
	    myfree(value);
	} else if (!is_parameter(names->argv[i], buf))
	    msg_warn("%s/main.cf: unused parameter: %s=%s", mail_conf_dir(),
		     names->argv[i], mail_conf_raw(names->argv[i]));
    argv_free(names);
    vstring_free(buf);
}

int     main(int argc, char **argv)
{
    const char *config_dir = 0;
    VSTRING *buf = vstring_alloc(64);
    ARGV   *names;
    int     mode = 0;
    int     show_types = 0;
    int     edit = 0;
    int     what = 0;			/* a, A, l, m, M, F or P */
    int     fold = 0;
    char    seen[64] = "";		/* options given, for the conflicts */
    ARGV   *overrides = argv_alloc(2);
    int     ch;

    msg_init("postfix", "postconf");
    msg_to_stderr(1);
    msg_stderr_command_style(1);
    out = vstream_fdopen(1);

    while ((ch = getopt(argc, argv, "aAc:defFhHlmMno:PvxX#")) > 0) {
	if (ch != '?' && strchr(seen, ch) == 0 && strlen(seen) < sizeof(seen) - 1)
	    seen[strlen(seen)] = (char) ch;
	switch (ch) {
	case 'a':
	case 'A':
	case 'l':
	case 'M':
	case 'F':
	case 'P':
	    what = ch;
	    break;
	case 'f':
	    fold = 1;
	    break;
	case 'o':
	    argv_add(overrides, optarg);
	    break;
	case 'e':
	    edit = POSTCONF_EDIT_SET;
	    break;
	case 'X':
	    edit = POSTCONF_EDIT_REMOVE;
	    break;
	case '#':
	    edit = POSTCONF_EDIT_COMMENT;
	    break;
	case 'c':
	    config_dir = optarg;
	    break;
	case 'd':
	    mode |= SHOW_DEFS;
	    break;
	case 'h':
	    mode |= HIDE_NAME;
	    break;
	case 'H':
	    mode |= HIDE_VALUE;
	    break;
	case 'm':
	    show_types = 1;
	    what = ch;
	    break;
	case 'n':
	    mode |= SHOW_NONDEF;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	case 'x':
	    mode |= SHOW_EVAL;
	    break;
	default:
	    usage();
	}
    }
    option_conflicts(seen);
    if ((mode & SHOW_DEFS) && overrides->argc > 0)
	msg_fatal("specify one of -d -o");

    /* As in Postfix 2.8 and later, a value means -e. */
    if (!edit && what != 'm' && what != 'l' && what != 'a' && what != 'A')
	for (int i = optind; i < argc; i++)
	    if (strchr(argv[i], '='))
		edit = POSTCONF_EDIT_SET;

    /* -a, -A, -l: what this mail system supports. */
    if (what == 'a' || what == 'A' || what == 'l') {
	if (what == 'a')
	    vstream_fputs(out, "cyrus\ndovecot\n");
	else if (what == 'A')
	    vstream_fputs(out, "cyrus\n");
	else if (what == 'l')
	    vstream_fputs(out, "flock\nfcntl\ndotlock\n");
	vstream_fflush(out);
	vstream_release(out);
	return (0);
    }

    /* -M, -F, -P: master.cf. */
    if (what == 'M' || what == 'F' || what == 'P') {
	VSTRING *path = vstring_alloc(100);

	if (config_dir)
	    setenv("MAIL_CONFIG", config_dir, 1);
	vstring_sprintf(path, "%s/master.cf", config_dir ? config_dir : mail_conf_dir());
	postconf_master(vstring_str(path), what, edit,
			(fold ? POSTCONF_MASTER_FOLD : 0)
			| ((mode & HIDE_NAME) ? POSTCONF_MASTER_HIDE_NAME : 0)
			| ((mode & HIDE_VALUE) ? POSTCONF_MASTER_HIDE_VALUE : 0),
			argv + optind, argc - optind);
	vstring_free(path);
	vstring_free(buf);
	vstream_fflush(out);
	vstream_release(out);
	return (0);
    }

    /* -e, -X, -#: edit main.cf and print nothing. */
    if (edit) {
	VSTRING *path = vstring_alloc(100);

	if (optind >= argc)
	    msg_fatal(edit == POSTCONF_EDIT_SET ? "-e requires name=value argument"
		      : "%s requires parameter name argument",
		      edit == POSTCONF_EDIT_REMOVE ? "-X" : "-#");
	if (config_dir)
	    setenv("MAIL_CONFIG", config_dir, 1);
	vstring_sprintf(path, "%s/main.cf", config_dir ? config_dir : mail_conf_dir());
	postconf_edit(vstring_str(path), edit, argv + optind, argc - optind);
	vstring_free(path);
	vstring_free(buf);
	vstream_release(out);
	return (0);
    }
    if (show_types) {
	vstream_fputs(out, dict_type_list());
	vstream_fflush(out);
	vstring_free(buf);
	vstream_release(out);
	return (0);
    }

    /*
     * With -c, Postfix reads that directory and shows config_directory as
     * a setting. The defaults (-d) never depend on main.cf.
     */
    if (config_dir)
	setenv("MAIL_CONFIG", config_dir, 1);
    if (!(mode & SHOW_DEFS)) {
	mail_conf_read(config_dir);
	if (strcmp(mail_conf_dir(), mail_conf_default(VAR_CONFIG_DIRECTORY)) != 0)
	    mail_conf_set(VAR_CONFIG_DIRECTORY, mail_conf_dir());
	/* -o name=value: as if main.cf said so (and shown by -n). */
	for (size_t i = 0; i < overrides->argc; i++) {
	    char   *name = mystrdup(overrides->argv[i]);
	    char   *value = split_at(name, '=');

	    if (value == 0)
		msg_fatal("invalid parameter override: %s: "
			  "missing '=' after attribute name", name);
	    mail_conf_set(trimblanks(name), trimblanks(value));
	    myfree(name);
	}
	scan_references();
    }
    read_services();
    if (!(mode & SHOW_DEFS))
	warn_unused();

    /* Which names: those asked for, or all (sorted). */
    if (optind < argc) {
	names = argv_alloc(argc - optind);
	for (int i = optind; i < argc; i++)
	    argv_add(names, argv[i]);
    } else {
	size_t  count;
	const MAIL_PARAM *params = mail_conf_params(&count);
	ARGV   *set = mail_conf_names();

	names = argv_alloc(count + set->argc);
	/* postconf -d is the list of what works: no PARAM_NOIMPL names. */
	for (size_t i = 0; i < count; i++)
	    if (!(params[i].flags & PARAM_NOIMPL))
		argv_add(names, params[i].name);
	for (size_t i = 0; i < set->argc; i++)
	    if (mail_conf_param(set->argv[i]) == 0 && is_parameter(set->argv[i], buf))
		argv_add(names, set->argv[i]);
	argv_free(set);
	qsort(names->argv, names->argc, sizeof(char *), compare_names);
    }
    for (size_t i = 0; i < names->argc; i++) {
	if ((mode & SHOW_NONDEF) && mail_conf_raw(names->argv[i]) == 0)
	    continue;
	show_param(names->argv[i], mode);
    }
    argv_free(names);
    argv_free(overrides);
    vstring_free(buf);
    vstream_fflush(out);
    vstream_release(out);
    return (0);
}
