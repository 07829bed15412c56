/*
 * NAME
 *	test_local_lib - the library pieces of local delivery
 * DESCRIPTION
 *	rfc822_list: values as Debian's postalias 3.7.11 stores them (each
 *	expected string was read back with "postalias -s" from a table
 *	that Debian's postalias built) and destinations as its local(8)
 *	reads them; mac_expand: the $name forms of forward_path and
 *	luser_relay; mail_copy: the envelope lines, headers and quoting of
 *	mailbox, command and pipe deliveries, from a real queue file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/argv.h"
#include "util/mac_expand.h"
#include "global/rfc822_list.h"
#include "global/mail_copy.h"
#include "global/queue_file.h"
#include "unit.h"

static const char *norm(const char *text)
{
    static VSTRING *buf;

    if (buf == 0)
	buf = vstring_alloc(100);
    rfc822_list_normalize(buf, text);
    return (vstring_str(buf));
}

/* Left: the alias file's value; right: what Debian's postalias stored. */
UNIT_TEST(normalize_like_debian_postalias)
{
    EXPECT_STR(norm("alice, bob,\n  carol"), "alice, bob, carol");
    EXPECT_STR(norm("a,b"), "a, b");
    EXPECT_STR(norm("a  ,   b"), "a, b");
    EXPECT_STR(norm("a (comment), b"), "a (comment), b");
    EXPECT_STR(norm("|/bin/cat -x"), "|/bin/cat -x");
    EXPECT_STR(norm("/tmp/file name"), "/tmp/file name");
    EXPECT_STR(norm("a b c"), "a b c");
    EXPECT_STR(norm("\"a b\"@x, <c@d>"), "\"a b\"@x, <c@d>");
    EXPECT_STR(norm("Foo Bar <foo@bar>"), "Foo Bar <foo@bar>");
    EXPECT_STR(norm("a,,b,"), "a, , b, ");
    EXPECT_STR(norm(":include:/x/y"), ":include:/x/y");
    EXPECT_STR(norm("a\t\tb"), "a b");
    EXPECT_STR(norm("a;b"), "a;b");
    EXPECT_STR(norm("a . b"), "a.b");
    EXPECT_STR(norm("(c)x"), "(c) x");
    EXPECT_STR(norm("x(c)"), "x (c)");
    EXPECT_STR(norm("\"q\"x"), "\"q\" x");
    EXPECT_STR(norm("a <b> c"), "a <b>c");
    EXPECT_STR(norm("a<b>"), "a <b>");
    EXPECT_STR(norm("a @ b"), "a@b");
    EXPECT_STR(norm("[1.2.3.4]x"), "[1.2.3.4] x");
    EXPECT_STR(norm("a : b"), "a:b");
    EXPECT_STR(norm("\\x y"), "x y");
    EXPECT_STR(norm("a\\,b"), "\"a,b\"");
    EXPECT_STR(norm("\"unterminated"), "\"unterminated\"");
    EXPECT_STR(norm("(unterminated"), "(unterminated");
    EXPECT_STR(norm("a)b"), "a)b");
    EXPECT_STR(norm("x;y , z"), "x;y, z");
    EXPECT_STR(norm("a, \"|cmd x\", /f g, :include:/h i"),
	       "a, \"|cmd x\", /f g, :include:/h i");
}

static const char *split(const char *text)
{
    static VSTRING *buf;
    ARGV   *list = rfc822_list_split(text);

    if (buf == 0)
	buf = vstring_alloc(100);
    vstring_reset(buf);
    for (size_t i = 0; i < list->argc; i++)
	vstring_sprintf_append(buf, "%s[%s]", i ? " " : "", list->argv[i]);
    argv_free(list);
    return (vstring_str(buf));
}

/*
 * Debian's local(8): "|/tmp/pfx/rec.sh aliascmd" ran "/tmp/pfx/rec.sh"
 * and bounced "unknown user: \"aliascmd\""; a quoted command is one.
 */
UNIT_TEST(split_like_debian_local)
{
    EXPECT_STR(split("|/bin/prog arg"), "[|/bin/prog] [arg]");
    EXPECT_STR(split("\"|/bin/prog arg $x\""), "[|/bin/prog arg $x]");
    EXPECT_STR(split("alice, bob carol"), "[alice] [bob] [carol]");
    EXPECT_STR(split("Foo Bar <foo@bar>, x@y (comment)"), "[foo@bar] [x@y]");
    EXPECT_STR(split("<@route,@r2:user@dom>"), "[user@dom]");
    EXPECT_STR(split("\"a b\"@x"), "[a b@x]");
    EXPECT_STR(split(":include:/etc/list, /var/file"), "[:include:/etc/list] [/var/file]");
    EXPECT_STR(split("\\user, ,"), "[user]");
    EXPECT_STR(split(""), "");
}

static const char *lookup(const char *name, void *ctx)
{
    (void) ctx;
    if (strcmp(name, "home") == 0)
	return ("/home/joe");
    if (strcmp(name, "user") == 0)
	return ("joe");
    if (strcmp(name, "extension") == 0)
	return ("");
    if (strcmp(name, "shell") == 0)
	return ("/bin/sh; rm -rf /");
    return (0);
}

UNIT_TEST(mac_expand_forms)
{
    VSTRING *out = vstring_alloc(100);
    const char *filter = "abcdefghijklmnopqrstuvwxyz/.-";

    EXPECT_INT(mac_expand(out, "$home/.forward", filter, lookup, 0), 0);
    EXPECT_STR(vstring_str(out), "/home/joe/.forward");
    /* An undefined name: forward_path skips the entry. */
    EXPECT_INT(mac_expand(out, "$home/.forward+${extension}", filter, lookup, 0),
	       MAC_EXPAND_UNDEF);
    EXPECT_INT(mac_expand(out, "${extension?{+$extension}}${extension:{none}}", 0, lookup, 0), 0);
    EXPECT_STR(vstring_str(out), "none");
    EXPECT_INT(mac_expand(out, "${user?{$user@other}:{x}} $$ $(user)", 0, lookup, 0), 0);
    EXPECT_STR(vstring_str(out), "joe@other $ joe");
    EXPECT_INT(mac_expand(out, "${user?x}${nosuch:y}", 0, lookup, 0), 0);
    EXPECT_STR(vstring_str(out), "xy");
    /* Values are filtered, the template is not. */
    EXPECT_INT(mac_expand(out, "$shell;", filter, lookup, 0), 0);
    EXPECT_STR(vstring_str(out), "/bin/sh__rm_-rf_/;");
    EXPECT(mac_expand(out, "${user", 0, lookup, 0) & MAC_EXPAND_ERROR);
    EXPECT(mac_expand(out, "${user?{x}:y}", 0, lookup, 0) & MAC_EXPAND_ERROR);
    vstring_free(out);
}

/* copy - mail_copy() of a small queue file into a string */
static const char *copy(int flags, const char *sender, const char *eol)
{
    static VSTRING *result;
    char    qpath[] = "/tmp/test_local_lib.XXXXXX";
    char    opath[] = "/tmp/test_local_lib.XXXXXX";
    const char *text = "Subject: x\r\n\r\nFrom me\r\n.dot\r\nlast";
    int     qfd = mkstemp(qpath);
    int     ofd = mkstemp(opath);
    VSTREAM *q = vstream_fdopen(qfd);
    VSTREAM *o = vstream_fdopen(ofd);
    VSTRING *why = vstring_alloc(10);
    MAIL_COPY_ENV env = {sender, "orig@a.test", "rcpt@a.test", eol};
    off_t   offset;
    char    buf[4096];
    ssize_t n;

    rec_fputs(q, REC_TYPE_VERSION, "1");
    offset = vstream_tell(q) + REC_HEADER_LEN;
    rec_put(q, REC_TYPE_MESSAGE, text, strlen(text));
    rec_fputs(q, REC_TYPE_END, "");
    vstream_fflush(q);
    EXPECT_INT(mail_copy(q, offset, (off_t) strlen(text), o, flags, &env, why), 0);
    lseek(ofd, 0, SEEK_SET);
    n = read(ofd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    if (result == 0)
	result = vstring_alloc(100);
    vstring_strcpy(result, buf);
    /* The From_ line has the time of delivery: keep only its start. */
    if (strncmp(buf, "From ", 5) == 0) {
	char   *nl = strchr(buf, '\n');

	vstring_sprintf(result, "%.*s DATE%s", (int) (strstr(buf, "  ") - buf), buf, nl);
    }
    vstream_close(q);
    vstream_close(o);
    unlink(qpath);
    unlink(opath);
    vstring_free(why);
    return (vstring_str(result));
}

UNIT_TEST(mail_copy_for_mailbox_command_pipe)
{
    /* A UNIX mailbox, as Debian's local(8) writes /var/mail/user. */
    EXPECT_STR(copy(MAIL_COPY_MBOX | MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT
		    | MAIL_COPY_DELIVERED, "Sender Name@s.test", 0),
	       "From \"Sender Name\"@s.test DATE\n"
	       "Return-Path: <\"Sender Name\"@s.test>\n"
	       "X-Original-To: orig@a.test\nDelivered-To: rcpt@a.test\n"
	       "Subject: x\n\n>From me\n.dot\nlast\n\n");
    /* A command: no quoting, no empty line; the null sender. */
    EXPECT_STR(copy(MAIL_COPY_FROM | MAIL_COPY_RETURN_PATH, "", 0),
	       "From MAILER-DAEMON DATE\nReturn-Path: <>\n"
	       "Subject: x\n\nFrom me\n.dot\nlast\n");
    /* pipe(8) flags=. and eol=\r\n. */
    EXPECT_STR(copy(MAIL_COPY_DOT, "s@s.test", "\r\n"),
	       "Subject: x\r\n\r\nFrom me\r\n..dot\r\nlast\r\n");
}

int     main(void)
{
    return (unit_run());
}
