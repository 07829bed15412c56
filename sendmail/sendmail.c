/*
 * NAME
 *	sendmail - the Sendmail-compatible way to submit mail
 * SYNOPSIS
 *	sendmail [option ...] [recipient ...]
 *	mailq
 *	newaliases
 * DESCRIPTION
 *	By default (-bm) sendmail reads a message from standard input and
 *	hands it to postdrop (sendmail_enqueue.c); pickup then turns it
 *	into a queue file. Other modes run the command that does the job:
 *
 *	-bp, mailq	postqueue -p
 *	-q		postqueue -f; -qRsite: postqueue -s site; -qIid:
 *			postqueue -i id; -qinterval is ignored; -qS is
 *			not implemented (as in Postfix)
 *	-bi, -I, newaliases
 *			$command_directory/postalias on each alias_database
 *			(or -oAdatabase); without postalias, a fatal error
 *			that says so
 *	-bd, -bl	postfix start
 *	-bs		SMTP on standard input and output
 *			(sendmail_smtp.c)
 *	-bh, -bH	ignored, as in Postfix
 *
 *	Message options: -f and -r (sender; default the login name), -F
 *	(full name; default $NAME, then the user's name), -t (recipients
 *	from the headers too), -i and -oi (a "." line is text), -N
 *	(DSN NOTIFY: never, or a list of success, failure, delay), -R
 *	(DSN RET: full or hdrs), -V (DSN envelope ID), -B (7BIT or
 *	8BITMIME), -G (gateway submission: addresses are not qualified),
 *	-C (configuration folder or main.cf file; a user other than root
 *	may name only a folder listed in the default main.cf). Options
 *	that Postfix ignores are accepted and ignored: -A, -c, -e, -h,
 *	-L, -m, -n, -O, -o x (except -oi and -oA), -p, -U, -x, -X file.
 *
 *	Not implemented, and refused aloud: -bv and -v (the delivery
 *	report mail of Postfix), -XV (VERP). -vv turns on verbose logging.
 *
 *	sendmail is not set-id; postdrop carries the privilege to write
 *	into maildrop/. It exits 0 only when the message is on disk.
 * DIAGNOSTICS
 *	Postfix's messages on standard error and in the log; every fatal
 *	error exits 75 (EX_TEMPFAIL).
 * SEE ALSO
 *	postdrop(1), postqueue(1), pickup(8), sendmail(1)
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/mail_conf_checkdir.h"
#include "global/mail_cmd_log.h"
#include "global/mail_header.h"
#include "global/queue_file.h"
#include "global/user_acl.h"
#include "sendmail.h"

#define MODE_ENQUEUE	'm'
#define MODE_SMTP	's'
#define MODE_MAILQ	'p'
#define MODE_ALIASES	'i'
#define MODE_DAEMON	'd'
#define MODE_FLUSH	'q'
#define MODE_IGNORE	'h'

#define USAGE	"usage: %s [options]"

/* run - exec a command of command_directory with arguments */
static void run(const char *, ARGV *) __attribute__((noreturn));

static void run(const char *name, ARGV *args)
{
    VSTRING *path = vstring_alloc(100);
    ARGV   *av = argv_alloc(args->argc + 2);

    vstring_sprintf(path, "%s/%s", mail_conf_str(VAR_COMMAND_DIRECTORY), name);
    argv_add(av, name);
    for (size_t i = 0; i < args->argc; i++)
	argv_add(av, args->argv[i]);
    execv(vstring_str(path), av->argv);
    sm_fatal("execv %s: %s", vstring_str(path), strerror(errno));
}

/* parse_notify - -N never | success,failure,delay */
static int parse_notify(const char *text)
{
    char   *copy = mystrdup(text);
    char   *bp = copy;
    char   *word;
    int     mask = 0;

    while ((word = mystrtok(&bp, ", \t")) != 0) {
	if (strcasecmp(word, "never") == 0)
	    mask |= DSN_NOTIFY_NEVER;
	else if (strcasecmp(word, "success") == 0)
	    mask |= DSN_NOTIFY_SUCCESS;
	else if (strcasecmp(word, "failure") == 0)
	    mask |= DSN_NOTIFY_FAILURE;
	else if (strcasecmp(word, "delay") == 0)
	    mask |= DSN_NOTIFY_DELAY;
	else {
	    msg_warn("unknown DSN NOTIFY command value \"%s\" in \"%s\"", word, text);
	    mask = -1;
	    break;
	}
    }
    myfree(copy);
    if (mask == 0 || ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER))
	mask = -1;
    return (mask);
}

/* full_name - -F, else $NAME, else the user's name from the password file */
static char *full_name(const char *opt, const struct passwd *pw)
{
    const char *env;
    VSTRING *buf;

    if (opt)
	return (mystrdup(opt));
    if ((env = getenv("NAME")) != 0 && *env)
	return (mystrdup(env));
    buf = vstring_alloc(40);
    for (const char *cp = pw->pw_gecos; cp && *cp && *cp != ','; cp++) {
	if (*cp == '&') {
	    vstring_addch(buf, toupper((unsigned char) pw->pw_name[0]));
	    vstring_strcat(buf, pw->pw_name + (pw->pw_name[0] != 0));
	} else {
	    vstring_addch(buf, *cp);
	}
    }
    return (vstring_export(buf));
}

/* parse_sender - the address of -f/-r ("", "<>" and "Name <a@b>" too) */
static char *parse_sender(const char *text)
{
    ARGV   *addrs = argv_alloc(1);
    char   *sender;

    (void) mail_header_addrs(text, addrs);
    sender = mystrdup(addrs->argc > 0 ? addrs->argv[0] : "");
    argv_free(addrs);
    return (sender);
}

/* config_dir - -C names a folder or the main.cf in it */
static char *config_dir(const char *arg)
{
    size_t  len = strlen(arg);

    if (len > 8 && strcmp(arg + len - 8, "/main.cf") == 0)
	return (mystrndup(arg, len - 8));
    return (mystrdup(arg));
}

int     main(int argc, char **argv)
{
    SM_MESSAGE msg;
    struct passwd *pw;
    const char *prog;
    const char *sender_opt = 0;
    const char *name_opt = 0;
    const char *alias_db = 0;
    const char *flush_arg = 0;
    char   *conf = 0;
    int     mode = MODE_ENQUEUE;
    int     verbose = 0;
    int     flush = 0;
    int     ch;
    ARGV   *args;
    VSTRING *user = vstring_alloc(32);
    VSTRING *why = vstring_alloc(100);

    prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    msg_init("postfix", "sendmail");
    msg_to_stderr(1);
    msg_stderr_command_style(1);
    if (getenv("MAIL_VERBOSE"))
	msg_verbose++;
    memset(&msg, 0, sizeof(msg));
    msg.dot_ends = 1;
    msg.rcpts = argv_alloc(4);
    if (strcmp(prog, "mailq") == 0)
	mode = MODE_MAILQ;
    else if (strcmp(prog, "newaliases") == 0)
	mode = MODE_ALIASES;

    /* "-q" alone takes no value (-qR takes one, attached): take it out. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
	if (strcmp(argv[i], "-q") == 0) {
	    flush = 1;
	    mode = MODE_FLUSH;
	    memmove(argv + i, argv + i + 1, (argc - i) * sizeof(*argv));
	    argc--;
	    i--;
	}
    }
    while ((ch = getopt(argc, argv, "A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:q:r:tvx")) != -1) {
	switch (ch) {
	case 'A':
	case 'L':
	case 'O':
	case 'c':
	case 'e':
	case 'h':
	case 'm':
	case 'n':
	case 'p':
	case 'U':
	case 'x':
	    break;				/* ignored, as in Postfix */
	case 'B':
	    if (strcasecmp(optarg, "7BIT") != 0 && strcasecmp(optarg, "8BITMIME") != 0)
		sm_fatal("-B option needs 8BITMIME or 7BIT");
	    break;
	case 'C':
	    myfree(conf);
	    conf = config_dir(optarg);
	    break;
	case 'F':
	    name_opt = optarg;
	    break;
	case 'G':
	    msg.gateway = 1;
	    break;
	case 'I':
	    mode = MODE_ALIASES;
	    break;
	case 'N':
	    if ((msg.dsn_notify = parse_notify(optarg)) < 0) {
		msg_warn("bad -N option value -- ignored");
		msg.dsn_notify = 0;
	    }
	    break;
	case 'R':
	    if (strcasecmp(optarg, "full") == 0)
		msg.dsn_ret = "FULL";
	    else if (strcasecmp(optarg, "hdrs") == 0)
		msg.dsn_ret = "HDRS";
	    else
		msg_warn("bad -R option value -- ignored");
	    break;
	case 'V':
	    if (*optarg == 0 || strlen(optarg) > 100 || !allprint(optarg))
		msg_warn("bad -V option value -- ignored");
	    else
		msg.dsn_envid = optarg;
	    break;
	case 'X':
	    if (optarg[0] == 'V')
		sm_fatal("-XV (VERP) is not implemented by this mail system");
	    break;				/* -X logfile: ignored */
	case 'b':
	    switch (optarg[0]) {
	    case 'm':
		mode = MODE_ENQUEUE;
		break;
	    case 's':
		mode = MODE_SMTP;
		break;
	    case 'p':
		mode = MODE_MAILQ;
		break;
	    case 'i':
		mode = MODE_ALIASES;
		break;
	    case 'd':
	    case 'l':
		mode = MODE_DAEMON;
		break;
	    case 'h':
	    case 'H':
		mode = MODE_IGNORE;
		break;
	    case 'v':
		sm_fatal("-bv (the address verification report) is not implemented "
			 "by this mail system");
	    default:
		sm_fatal("unsupported: -%c%s", ch, optarg);
	    }
	    break;
	case 'f':
	case 'r':
	    sender_opt = optarg;
	    break;
	case 'i':
	    msg.dot_ends = 0;
	    break;
	case 'o':
	    switch (optarg[0]) {
	    case 'i':
		msg.dot_ends = 0;
		break;
	    case 'A':
		if (optarg[1] == 0)
		    sm_fatal("-oA requires pathname");
		alias_db = optarg + 1;
		break;
	    default:
		/* "-o x value": the value is a separate argument. */
		if (optarg[1] == 0 && optind < argc && optarg[0] != '7'
		    && optarg[0] != '8' && optarg[0] != 'm')
		    optind++;
		break;
	    }
	    break;
	case 'q':
	    mode = MODE_FLUSH;
	    if (optarg[0] == 'R' || optarg[0] == 'I') {
		if (optarg[1] == 0)
		    sm_fatal("specify: %s", optarg[0] == 'R' ? "-qRsitename" : "-qIqueue_id");
		flush_arg = optarg;
	    } else if (optarg[0] == 'S') {
		sm_fatal("-qS is not implemented");
	    } else {
		mode = MODE_IGNORE;		/* -qinterval */
	    }
	    break;
	case 't':
	    msg.extract = 1;
	    break;
	case 'v':
	    verbose++;
	    break;
	default:
	    sm_fatal(USAGE, prog);
	}
    }
    if (verbose == 1 && mode != MODE_FLUSH && mode != MODE_MAILQ)
	sm_fatal("-v (the delivery report mail) is not implemented by this mail "
		 "system; use -vv for verbose logging");
    if (verbose > 1)
	msg_verbose += verbose - 1;

    /* Configuration: a folder named by a user other than root is checked. */
    mail_conf_read_checked(conf, EX_TEMPFAIL);
    if (conf && setenv("MAIL_CONFIG", conf, 1) < 0)
	sm_fatal("setenv: %s", strerror(errno));
    mail_cmd_log_init("sendmail");

    args = argv_alloc(4);
    switch (mode) {
    case MODE_MAILQ:
	argv_add(args, "-p");
	run("postqueue", args);
	/* NOTREACHED */
    case MODE_FLUSH:
	if (flush_arg && flush_arg[0] == 'R') {
	    argv_add(args, "-s");
	    argv_add(args, flush_arg + 1);
	} else if (flush_arg) {
	    argv_add(args, "-i");
	    argv_add(args, flush_arg + 1);
	} else {
	    argv_add(args, "-f");
	}
	(void) flush;
	run("postqueue", args);
	/* NOTREACHED */
    case MODE_DAEMON:
	argv_add(args, "start");
	run("postfix", args);
	/* NOTREACHED */
    case MODE_IGNORE:
	exit(0);
    case MODE_ALIASES:
	{
	    VSTRING *path = vstring_alloc(100);
	    char   *dbs = mystrdup(alias_db ? alias_db : mail_conf_str(VAR_ALIAS_DATABASE));
	    char   *bp = dbs;
	    char   *db;

	    while ((db = mystrtok(&bp, ", \t\r\n")) != 0)
		argv_add(args, db);
	    if (args->argc == 0)
		exit(0);
	    vstring_sprintf(path, "%s/postalias", mail_conf_str(VAR_COMMAND_DIRECTORY));
	    if (access(vstring_str(path), X_OK) < 0)
		sm_fatal("cannot rebuild the alias database%s %s: %s is missing",
			 args->argc > 1 ? "s" : "", alias_db ? alias_db :
			 mail_conf_str(VAR_ALIAS_DATABASE), vstring_str(path));
	    run("postalias", args);
	}
	/* NOTREACHED */
    }

    /* Submission: -bm and -bs. */
    msg.uid = getuid();
    if ((pw = getpwuid(msg.uid)) == 0)
	sm_fatal("no login name found for user ID %lu", (unsigned long) msg.uid);
    msg.sender = sender_opt ? parse_sender(sender_opt) : mystrdup(pw->pw_name);
    msg.full_name = full_name(name_opt, pw);
    switch (user_acl_check(VAR_AUTHORIZED_SUBMIT_USERS, msg.uid, user, why)) {
    case 1:
	break;
    case 0:
	sm_fatal("User %s(%ld) is not allowed to submit mail", vstring_str(user),
		 (long) msg.uid);
    default:
	sm_fatal("%s", vstring_str(why));
    }
    if (mode == MODE_SMTP) {
	if (optind < argc)
	    sm_fatal(USAGE, prog);
	sm_smtp(&msg);
    } else {
	/* Each argument is an address list ("a@x, Name <b@y>"), as Postfix's. */
	for (int i = optind; i < argc; i++)
	    (void) mail_header_addrs(argv[i], msg.rcpts);
	sm_enqueue(&msg);
    }
    myfree(msg.sender);
    myfree(msg.full_name);
    myfree(conf);
    argv_free(msg.rcpts);
    argv_free(args);
    vstring_free(user);
    vstring_free(why);
    exit(0);
}
