/*
 * NAME
 *	master_params - warn about settings that do nothing
 * SYNOPSIS
 *	#include "master.h"
 *
 *	void master_check_params(MASTER_CONF *conf);
 *	int master_check_unsafe(MASTER_CONF *conf, VSTRING *why);
 * DESCRIPTION
 *	master_check_params() runs at start and at each reload. A name set
 *	in main.cf, or with "-o name=value" in master.cf, that is a Postfix
 *	parameter this mail system does not implement (mail_conf_noimpl())
 *	is logged once per run, so that an administrator reading the log
 *	sees exactly what is ignored.
 *
 *	master_check_unsafe() finds a setting that is not implemented and
 *	would weaken security if it were ignored (mail_conf_unsafe(), such
 *	as smtp_sasl_path, whose Cyrus settings we would not read): -1 with
 *	the reason. master refuses
 *	to start with it, and a reload with it keeps the old configuration.
 *
 *	A parameter of which only one value is implemented (smtputf8_enable
 *	= no, smtp_cname_overrides_servername = no,
 *	smtp_address_verify_target = rcpt) is logged when set to another
 *	value, with the value that the mail system works as.
 *
 *	Other names:
 *	A main.cf name is known when it is in the parameter table, when
 *	it is "<service>_<suffix>" for a master.cf service and a
 *	"default_<suffix>" parameter exists (per-transport knobs such as
 *	relay_destination_concurrency_limit; also
 *	<service>_initial_destination_concurrency, whose default is
 *	initial_destination_concurrency), or when another main.cf
 *	value, a master.cf -o value or the default of a parameter (the
 *	old names of renamed parameters, postscreen_blacklist_action)
 *	refers to it as $name, or when it is
 *	a restriction class of smtpd_restriction_classes. Each unknown
 *	name is reported once per master process, in postconf's words.
 *	A setting that is not implemented but asks for what this mail
 *	system does anyway (mail_conf_inert(): helpful_warnings = yes) is not reported.
 * DIAGNOSTICS
 *	warning: main.cf: parameter NAME is not implemented by this mail
 *	system; it has no effect
 *	warning: master.cf: service S: parameter NAME is not implemented by
 *	this mail system; it has no effect
 *	warning: main.cf: parameter NAME = VALUE is not implemented by this
 *	mail system; it works as NAME = OTHER
 *	warning: DIR/main.cf: unused parameter: name=value
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/htable.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "master.h"

/* note_references - remember every $name, ${name...} and $(name...) */
static void note_references(HTABLE *used, const char *text)
{
    const char *cp;

    if (text == 0)
	return;
    for (cp = text; (cp = strchr(cp, '$')) != 0;) {
	const char *start;

	cp++;
	while (*cp == '{' || *cp == '(')
	    cp++;
	start = cp;
	while (isalnum((unsigned char) *cp) || *cp == '_')
	    cp++;
	if (cp > start) {
	    char   *name = mystrndup(start, cp - start);

	    if (!htable_locate(used, name))
		htable_enter(used, name, 0);
	    myfree(name);
	}
    }
}

static int transport_knob(const char *name, MASTER_CONF *conf)
{
    VSTRING *buf = vstring_alloc(64);
    int     ok = 0;

    for (size_t i = 0; conf && i < conf->count && !ok; i++) {
	const char *service = conf->ents[i]->service;
	size_t  len = strlen(service);

	if (strncmp(name, service, len) == 0 && name[len] == '_' && name[len + 1]) {
	    vstring_sprintf(buf, "default_%s", name + len + 1);
	    ok = mail_conf_param(vstring_str(buf)) != 0
		|| strcmp(name + len + 1, "initial_destination_concurrency") == 0;
	}
    }
    vstring_free(buf);
    return (ok);
}

/* override_name - the name of a "-o name=value" argument, or NULL */
static char *override_name(ARGV *args, size_t *j, const char **value)
{
    const char *arg = args->argv[*j];
    const char *eq;

    if (strcmp(arg, "-o") == 0 && *j + 1 < args->argc)
	arg = args->argv[++*j];
    else if (strncmp(arg, "-o", 2) == 0 && arg[2])
	arg += 2;
    else
	return (0);
    if ((eq = strchr(arg, '=')) == 0)
	return (0);
    *value = eq + 1;
    return (trimblanks(mystrndup(arg, eq - arg)));
}

/* inert - a setting that is not implemented and asks for nothing we do not do */
static int inert(const char *name, const char *raw)
{
    char   *value = mail_conf_expand(raw);
    int     ret = mail_conf_inert(name, trimblanks(value));

    myfree(value);
    return (ret);
}

/* unsafe - refuse one setting; 1 when refused */
static int unsafe(const char *where, const char *name, const char *raw, VSTRING *why)
{
    char   *value = mail_conf_expand(raw);
    int     refused = mail_conf_unsafe(name, trimblanks(value));

    if (refused)
	vstring_sprintf(why, "%s: parameter %s = %s is not implemented by this mail "
			"system, and ignoring it would weaken security",
			where, name, value);
    myfree(value);
    return (refused);
}

int     master_check_unsafe(MASTER_CONF *conf, VSTRING *why)
{
    ARGV   *names = mail_conf_names();
    VSTRING *where = vstring_alloc(64);
    int     refused = 0;

    for (size_t i = 0; i < names->argc && !refused; i++)
	refused = unsafe("main.cf", names->argv[i], mail_conf_raw(names->argv[i]), why);
    for (size_t i = 0; conf && i < conf->count && !refused; i++) {
	ARGV   *args = conf->ents[i]->args;

	vstring_sprintf(where, "master.cf: service %s", conf->ents[i]->service);
	for (size_t j = 0; j < args->argc && !refused; j++) {
	    const char *value;
	    char   *name = override_name(args, &j, &value);

	    if (name) {
		refused = unsafe(vstring_str(where), name, value, why);
		myfree(name);
	    }
	}
    }
    vstring_free(where);
    argv_free(names);
    return (refused ? -1 : 0);
}

/*
 * Parameters of which one value is implemented (a boolean, or a word):
 * another value is refused aloud, with the value that the mail system
 * works as.
 */
static const struct {
    const char *name;
    const char *works_as;		/* "yes"/"no" for a boolean, or a word */
    int     boolean;
} one_value[] = {
    {VAR_SMTPUTF8_ENABLE, "no", 1},	/* no SMTPUTF8 (RFC 6531) */
    {VAR_SMTP_CNAME_OVERRIDES_SERVERNAME, "no", 1},	/* names as given */
    {VAR_LMTP_CNAME_OVERRIDES_SERVERNAME, "no", 1},
    {VAR_SMTP_ADDRESS_VERIFY_TARGET, "rcpt", 0},	/* probes stop at RCPT */
    {VAR_LMTP_ADDRESS_VERIFY_TARGET, "rcpt", 0},
};

/* one_value_check - warn when a one-value parameter is set otherwise */
static void one_value_check(const char *where, const char *name, const char *raw)
{
    for (size_t i = 0; i < sizeof(one_value) / sizeof(one_value[0]); i++) {
	char   *value;
	int     yes;
	int     other;

	if (strcmp(name, one_value[i].name) != 0)
	    continue;
	value = mail_conf_expand(raw);
	if (one_value[i].boolean)
	    other = mail_conf_bool_value(trimblanks(value), &yes) == 0
		&& yes != (strcmp(one_value[i].works_as, "yes") == 0);
	else
	    other = strcasecmp(trimblanks(value), one_value[i].works_as) != 0;
	if (other)
	    msg_warn("%s: parameter %s = %s is not implemented by this mail system; "
		     "it works as %s = %s", where, name, value, name, one_value[i].works_as);
	myfree(value);
    }
}

/* noimpl_overrides - "-o name=value" settings that do nothing */
static void noimpl_overrides(MASTER_CONF *conf)
{
    HTABLE *warned = htable_create(16);
    VSTRING *key = vstring_alloc(64);
    VSTRING *where = vstring_alloc(64);

    for (size_t i = 0; conf && i < conf->count; i++) {
	ARGV   *args = conf->ents[i]->args;

	for (size_t j = 0; j < args->argc; j++) {
	    const char *value;
	    char   *name = override_name(args, &j, &value);

	    if (name == 0)
		continue;
	    vstring_sprintf(key, "%s/%s", conf->ents[i]->service, name);
	    vstring_sprintf(where, "master.cf: service %s", conf->ents[i]->service);
	    one_value_check(vstring_str(where), name, value);
	    if (mail_conf_noimpl(name) && !inert(name, value)
		&& !htable_locate(warned, vstring_str(key))) {
		htable_enter(warned, vstring_str(key), 0);
		msg_warn("master.cf: service %s: parameter %s is not implemented by "
			 "this mail system; it has no effect", conf->ents[i]->service, name);
	    }
	    myfree(name);
	}
    }
    vstring_free(key);
    vstring_free(where);
    htable_free(warned, 0);
}

void    master_check_params(MASTER_CONF *conf)
{
    ARGV   *names = mail_conf_names();
    HTABLE *used = htable_create(64);

    size_t  nparams;
    const MAIL_PARAM *params = mail_conf_params(&nparams);

    for (size_t i = 0; i < names->argc; i++)
	note_references(used, mail_conf_raw(names->argv[i]));
    /* Old names that a default still honours (postscreen_blacklist_action). */
    for (size_t i = 0; i < nparams; i++)
	if (params[i].defval)
	    note_references(used, params[i].defval);
    for (size_t i = 0; conf && i < conf->count; i++) {
	ARGV   *args = conf->ents[i]->args;

	for (size_t j = 0; j < args->argc; j++)
	    note_references(used, args->argv[j]);
    }
    for (size_t i = 0; i < names->argc; i++) {
	const char *name = names->argv[i];

	one_value_check("main.cf", name, mail_conf_raw(name));
	if (mail_conf_noimpl(name)) {
	    if (!inert(name, mail_conf_raw(name)))
		msg_warn("main.cf: parameter %s is not implemented by this mail system; "
			 "it has no effect", name);
	}
	else if (mail_conf_param(name) == 0 && !htable_locate(used, name)
		 && !transport_knob(name, conf) && !mail_conf_user_defined(name))
	    msg_warn("%s/main.cf: unused parameter: %s=%s",
		     mail_conf_dir(), name, mail_conf_raw(name));
    }
    noimpl_overrides(conf);
    htable_free(used, 0);
    argv_free(names);
}
