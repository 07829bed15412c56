/*
 * NAME
 *	master_params - warn about main.cf names that nothing uses
 * SYNOPSIS
 *	#include "master.h"
 *
 *	void master_check_params(MASTER_CONF *conf);
 * DESCRIPTION
 *	A main.cf name is known when it is in the parameter table, when
 *	it is "<service>_<suffix>" for a master.cf service and a
 *	"default_<suffix>" parameter exists (per-transport knobs such as
 *	relay_destination_concurrency_limit; also
 *	<service>_initial_destination_concurrency, whose default is
 *	initial_destination_concurrency), or when another main.cf
 *	value or a master.cf -o value refers to it as $name. Each unknown
 *	name is reported once per master process, in postconf's words.
 * DIAGNOSTICS
 *	warning: DIR/main.cf: unused parameter: name=value
 */
#include <ctype.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/htable.h"
#include "util/argv.h"
#include "global/mail_conf.h"
#include "master.h"

static HTABLE *warned;

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

void    master_check_params(MASTER_CONF *conf)
{
    ARGV   *names = mail_conf_names();
    HTABLE *used = htable_create(64);

    if (warned == 0)
	warned = htable_create(16);
    for (size_t i = 0; i < names->argc; i++)
	note_references(used, mail_conf_raw(names->argv[i]));
    for (size_t i = 0; conf && i < conf->count; i++) {
	ARGV   *args = conf->ents[i]->args;

	for (size_t j = 0; j < args->argc; j++)
	    note_references(used, args->argv[j]);
    }
    for (size_t i = 0; i < names->argc; i++) {
	const char *name = names->argv[i];

	if (mail_conf_param(name) || htable_locate(used, name)
	    || transport_knob(name, conf) || htable_locate(warned, name))
	    continue;
	htable_enter(warned, name, 0);
	msg_warn("%s/main.cf: unused parameter: %s=%s",
		 mail_conf_dir(), name, mail_conf_raw(name));
    }
    htable_free(used, 0);
    argv_free(names);
}
