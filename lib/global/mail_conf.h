/*
 * NAME
 *	mail_conf - main.cf and the parameter table
 * SYNOPSIS
 *	void mail_conf_read(const char *config_dir);
 *	int mail_conf_read_file(const char *path, VSTRING *why);
 *	void mail_conf_set(const char *name, const char *value);
 *	void mail_conf_reset(void);
 *	void mail_conf_check_macros(void);
 *
 *	const char *mail_conf_str(const char *name);
 *	long mail_conf_int(const char *name);
 *	int mail_conf_bool(const char *name);
 *	long mail_conf_time(const char *name);		(seconds)
 *	long mail_conf_transport_int(const char *transport, const char *default_name);
 *	long mail_conf_transport_time(const char *transport, const char *default_name);
 *	const char *mail_conf_transport_str(const char *transport, const char *default_name);
 *
 *	char *mail_conf_expand(const char *text);	(myfree the result)
 *	const char *mail_conf_raw(const char *name);	(main.cf or -o text)
 *	const char *mail_conf_default(const char *name);
 *	int mail_conf_time_value(const char *text, int unit, long *secs);
 *	int mail_conf_bool_value(const char *text, int *result);
 *	const MAIL_PARAM *mail_conf_param(const char *name);
 *	const MAIL_PARAM *mail_conf_params(size_t *count);
 *	int mail_conf_noimpl(const char *name);
 *	int mail_conf_user_defined(const char *name);
 *	int mail_conf_unsafe(const char *name, const char *value);
 *	ARGV *mail_conf_names(void);		(names set in main.cf / -o)
 *	const char *mail_conf_dir(void);
 * DESCRIPTION
 *	mail_conf_read() reads main.cf from config_dir (NULL: $MAIL_CONFIG,
 *	else the compiled-in default) with Postfix's syntax: "name =
 *	value", continuation lines that start with white space, "#"
 *	comment lines (a "#" inside a value is data), last definition wins
 *	with a warning.
 *
 *	Values are expanded when they are used, not when read: "$name",
 *	"${name}", "$(name)", "${name?text}", "${name:text}",
 *	"${name?{t1}:{t2}}", "${{a} OP {b} ? {t1} : {t2}}" with OP one of
 *	== != < <= > >= and the "level" forms that compare
 *	compatibility levels (3.6 < 3.10), and "$$" for a dollar. An
 *	unknown name expands to nothing.
 *
 *	mail_conf_check_macros() expands every parameter of the table that
 *	main.cf or -o sets (templates excepted), so that a macro loop is
 *	fatal when a daemon or master starts rather than later.
 *
 *	As in Debian's Postfix, a myorigin value that starts with "/"
 *	names a file whose first word is the domain ("myorigin =
 *	/etc/mailname"); the file is read once, when main.cf is, and
 *	$myhostname stands in (with a warning) when it cannot be read.
 *
 *	mail_conf_set() overrides a parameter (master.cf "-o name=value",
 *	command-line -o); it wins over main.cf. Names that are not in the
 *	table may be set and expanded (service_name, per-transport knobs).
 *
 *	The typed getters read a parameter of the table: the main.cf or -o
 *	value when there is one, else the table default. A TIME value
 *	without suffix is in the parameter's own default unit. Values out
 *	of the table's bounds, or not of the type, are fatal configuration
 *	errors, as in Postfix.
 *
 *	mail_conf_transport_*(transport, VAR_DEFAULT_X) read
 *	"<transport>_x" when it is set or the table has it, else
 *	"default_x" (e.g. relay and
 *	VAR_DEFAULT_DESTINATION_CONCURRENCY_LIMIT read
 *	relay_destination_concurrency_limit when it is set; local reads
 *	local_destination_recipient_limit, whose default is 1).
 *
 *	mail_conf_noimpl() tells whether name is a Postfix parameter that
 *	this mail system does not implement: in the table with PARAM_NOIMPL
 *	(kept so that $name in other values still expands to Postfix's
 *	default), or one of Postfix 3.7's parameters that the table lacks
 *	(global/postfix_names.def). Such a name is left out of postconf -d
 *	and logged when set (master(8)).
 *
 *	mail_conf_user_defined() tells whether name is a parameter that
 *	the administrator defines for a feature that reads it by that name:
 *	a restriction class named in smtpd_restriction_classes (its value
 *	is a restriction list). postconf and master know such names.
 *
 *	mail_conf_unsafe() tells whether "name = value" (expanded) asks for
 *	a protection that this mail system does not implement, so that
 *	ignoring it would weaken security (smtpd_tls_req_ccert = yes, ...):
 *	master refuses to run with it.
 * DIAGNOSTICS
 *	Fatal: unreadable main.cf, a line without "=", a value of the
 *	wrong type or out of bounds, a macro loop ("a = $b", "b = $a": Postfix's
 *	"unreasonable macro call nesting" warning and "macro processing
 *	error").
 */
#ifndef MAIL_CONF_H
#define MAIL_CONF_H
#include "util/vstring.h"
#include "util/argv.h"
#include "global/mail_params.h"

typedef enum {
    PARAM_STR, PARAM_INT, PARAM_BOOL, PARAM_TIME,
} MAIL_PARAM_TYPE;

#define PARAM_OURS	(1<<0)		/* not a Postfix parameter */
#define PARAM_RAW	(1<<1)		/* a template: $names are the program's */
#define PARAM_NOIMPL	(1<<2)		/* Postfix's, not implemented here */
#define PARAM_INSTALL	(1<<3)		/* read only when installing, as in Postfix */

typedef struct MAIL_PARAM {
    MAIL_PARAM_TYPE type;
    const char *name;
    const char *defval;			/* NULL: computed at run time */
    int     unit;			/* TIME: default unit, s m h d w */
    long    min;			/* 0 = no bound */
    long    max;			/* 0 = no bound */
    int     flags;
} MAIL_PARAM;

extern void mail_conf_read(const char *);
extern int mail_conf_read_file(const char *, VSTRING *);
extern void mail_conf_set(const char *, const char *);
extern void mail_conf_reset(void);
extern void mail_conf_check_macros(void);
extern const char *mail_conf_str(const char *);
extern long mail_conf_int(const char *);
extern int mail_conf_bool(const char *);
extern long mail_conf_time(const char *);
extern long mail_conf_transport_int(const char *, const char *);
extern long mail_conf_transport_time(const char *, const char *);
extern const char *mail_conf_transport_str(const char *, const char *);
extern char *mail_conf_expand(const char *);
extern const char *mail_conf_raw(const char *);
extern const char *mail_conf_default(const char *);
extern int mail_conf_time_value(const char *, int, long *);
extern int mail_conf_bool_value(const char *, int *);
extern const MAIL_PARAM *mail_conf_param(const char *);
extern const MAIL_PARAM *mail_conf_params(size_t *);
extern int mail_conf_noimpl(const char *);
extern int mail_conf_user_defined(const char *);
extern int mail_conf_unsafe(const char *, const char *);
extern ARGV *mail_conf_names(void);
extern const char *mail_conf_dir(void);

#endif
