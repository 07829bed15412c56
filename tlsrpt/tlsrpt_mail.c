/*
 * NAME
 *	tlsrpt_mail - find where a domain wants its TLS report, and mail it
 * SYNOPSIS
 *	#include "tlsrpt.h"
 * DESCRIPTION
 *	See tlsrpt.h.
 *
 *	The policy (RFC 8460 section 3): of the TXT records of
 *	"_smtp._tls.<domain>", those that start with "v=TLSRPTv1" count;
 *	when there is not exactly one, the domain gets no report. Its
 *	fields are separated by ";", "rua=" lists URIs separated by ",".
 *	A "mailto:" URI gives an address (percent-escapes decoded, a
 *	"?query" dropped); it must be a plain addr-spec of printable
 *	ASCII with an "@". "https:" URIs are not supported here: they are
 *	logged and skipped.
 *
 *	The message (RFC 8460 section 5.3): From: and envelope sender
 *	tlsrpt_sender; headers TLS-Report-Domain and TLS-Report-Submitter
 *	(the domain of tlsrpt_sender), Subject "Report Domain: D
 *	Submitter: S Report-ID: <ID>"; a multipart/report with
 *	report-type="tlsrpt" of a text/plain part and the JSON report,
 *	gzip-compressed, as application/tlsrpt+gzip in base64, named
 *	"S!D!start!end!QUEUEID.json.gz" (seconds since 1970). The report
 *	ID is "YYYYMMDD.QUEUEID@myhostname", also the Message-Id. All the
 *	recipients of one domain share one queue file; qmgr is woken by
 *	the caller.
 * DIAGNOSTICS
 *	A rua that is not usable, a report that cannot be queued: warnings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>
#include <openssl/evp.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "dns/dns.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/queue_writer.h"
#include "tlsrpt.h"

#define LINE(buf, ...) do { vstring_sprintf_append(buf, __VA_ARGS__); \
	vstring_strcat(buf, "\r\n"); } while (0)

#define TLSRPT_MAX_ADDR	254

/* hexval - a hex digit's value, or -1 */
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
	return (c - '0');
    if (c >= 'a' && c <= 'f')
	return (c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
	return (c - 'A' + 10);
    return (-1);
}

/* mailto_addr - the address of a mailto: URI; 0 or -1 */
static int mailto_addr(const char *uri, VSTRING *addr)
{
    const char *cp = uri + 7;
    int     at = 0;

    vstring_reset(addr);
    for (; *cp && *cp != '?'; cp++) {
	int     c = (unsigned char) *cp;

	if (c == '%') {
	    int     h = hexval(cp[1]), l = h < 0 ? -1 : hexval(cp[2]);

	    if (l < 0)
		return (-1);
	    c = h * 16 + l;
	    cp += 2;
	}
	/* Printable ASCII only: no CR, LF, NUL, space, nor <>, into the queue. */
	if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"')
	    return (-1);
	if (c == '@')
	    at++;
	vstring_addch(addr, c);
    }
    if (at != 1 || vstring_len(addr) < 3 || vstring_len(addr) > TLSRPT_MAX_ADDR
	|| vstring_str(addr)[0] == '@' || vstring_str(addr)[vstring_len(addr) - 1] == '@')
	return (-1);
    return (0);
}

int     tlsrpt_policy_parse(const char *record, ARGV *rua, VSTRING *why)
{
    char   *copy = mystrdup(record), *cp, *field;
    VSTRING *addr = vstring_alloc(100);
    int     have_rua = 0;

    cp = copy + 10;				/* after "v=TLSRPTv1" */
    while ((field = strsep(&cp, ";")) != 0) {
	char   *uris, *uri;

	field = trimblanks(field + strspn(field, " \t"));
	if (strncmp(field, "rua", 3) != 0)
	    continue;				/* extensions are ignored */
	uris = field + 3 + strspn(field + 3, " \t");
	if (*uris++ != '=')
	    continue;
	have_rua = 1;
	while ((uri = strsep(&uris, ",")) != 0) {
	    uri = trimblanks(uri + strspn(uri, " \t"));
	    if (strncasecmp(uri, "mailto:", 7) == 0) {
		if (mailto_addr(uri, addr) == 0)
		    argv_add(rua, vstring_str(addr));
		else
		    msg_warn("TLS-RPT policy \"%.100s\": bad mailto address: %.100s",
			     record, uri);
	    } else if (strncasecmp(uri, "https:", 6) == 0) {
		msg_warn("TLS-RPT policy \"%.100s\": https reporting is not supported: %.100s",
			 record, uri);
	    } else if (*uri) {
		msg_warn("TLS-RPT policy \"%.100s\": unknown rua scheme: %.100s", record, uri);
	    }
	}
    }
    myfree(copy);
    vstring_free(addr);
    if (!have_rua) {
	vstring_strcpy(why, "policy without rua");
	return (0);
    }
    if (rua->argc == 0) {
	vstring_strcpy(why, "no usable rua");
	return (0);
    }
    return (1);
}

int     tlsrpt_policy_lookup(const char *domain, ARGV *rua, VSTRING *why)
{
    ARGV   *txt = argv_alloc(2);
    VSTRING *name = vstring_alloc(100);
    const char *record = 0;
    int     count = 0, st, ret;

    vstring_sprintf(name, "_smtp._tls.%s", domain);
    st = dns_lookup_txt_list(vstring_str(name), txt, 0, why);
    for (size_t i = 0; st == DNS_OK && i < txt->argc; i++) {
	const char *rec = txt->argv[i];

	if (strncmp(rec, "v=TLSRPTv1", 10) == 0
	    && (rec[10] == 0 || rec[10] == ';' || rec[10] == ' ' || rec[10] == '\t')) {
	    record = rec;
	    count++;
	}
    }
    if (st == DNS_RETRY) {
	ret = -1;
    } else if (count != 1) {
	vstring_sprintf(why, "%s: %s", vstring_str(name), count ? "more than one TLSRPTv1 record"
			: "no TLSRPTv1 record");
	ret = 0;
    } else {
	ret = tlsrpt_policy_parse(record, rua, why);
    }
    argv_free(txt);
    vstring_free(name);
    return (ret);
}

/* gzip - data in gzip format; 0 or -1 */
static int gzip(const char *data, size_t len, VSTRING *out)
{
    z_stream z;
    unsigned char buf[16384];
    int     st;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
	return (-1);
    z.next_in = (unsigned char *) data;
    z.avail_in = (uInt) len;
    vstring_reset(out);
    do {
	z.next_out = buf;
	z.avail_out = sizeof(buf);
	st = deflate(&z, Z_FINISH);
	if (st == Z_STREAM_ERROR) {
	    deflateEnd(&z);
	    return (-1);
	}
	vstring_memcat(out, buf, sizeof(buf) - z.avail_out);
    } while (st != Z_STREAM_END);
    deflateEnd(&z);
    return (0);
}

/* base64_lines - data in base64, 76 characters per CRLF line */
static void base64_lines(VSTRING *out, const char *data, size_t len)
{
    unsigned char line[80];

    for (size_t off = 0; off < len; off += 57) {
	size_t  n = len - off < 57 ? len - off : 57;
	int     olen = EVP_EncodeBlock(line, (const unsigned char *) data + off, (int) n);

	vstring_memcat(out, line, (size_t) olen);
	vstring_strcat(out, "\r\n");
    }
}

static const char *rfc822_date(char *buf, size_t len, time_t when)
{
    struct tm tm;

    localtime_r(&when, &tm);
    strftime(buf, len, "%a, %d %b %Y %H:%M:%S %z", &tm);
    return (buf);
}

int     tlsrpt_mail_send(TLSRPT_DOMAIN *dom, const ARGV *rua, time_t start, time_t end,
			         VSTRING *queue_id)
{
    const char *sender = mail_conf_str(VAR_TLSRPT_SENDER);
    const char *host = mail_conf_str(VAR_MYHOSTNAME);
    const char *at = strrchr(sender, '@');
    const char *submitter = at ? at + 1 : mail_conf_str(VAR_MYDOMAIN);
    QUEUE_WRITER *qw;
    VSTRING *report_id, *json, *zip, *msg, *boundary;
    TLSRPT_META meta;
    struct tm tm;
    char    day[16], date[64];
    int     err;

    if (*sender == 0) {
	msg_warn("%s is empty; no TLS report for %s", VAR_TLSRPT_SENDER, dom->name);
	return (-1);
    }
    if ((qw = queue_writer_open(MAIL_QUEUE_INCOMING)) == 0) {
	msg_warn("cannot create a queue file for the TLS report of %s: %m", dom->name);
	return (-1);
    }
    vstring_strcpy(queue_id, queue_writer_id(qw));
    gmtime_r(&start, &tm);
    strftime(day, sizeof(day), "%Y%m%d", &tm);
    report_id = vstring_alloc(100);
    vstring_sprintf(report_id, "%s.%s@%s", day, vstring_str(queue_id), host);

    meta.organization = mail_conf_str(VAR_TLSRPT_ORGANIZATION_NAME);
    meta.contact = mail_conf_str(VAR_TLSRPT_CONTACT_INFO);
    meta.report_id = vstring_str(report_id);
    meta.start = start;
    meta.end = end;
    json = vstring_alloc(2000);
    tlsrpt_report_json(json, dom, &meta);
    zip = vstring_alloc(2000);
    if (gzip(vstring_str(json), vstring_len(json), zip) < 0) {
	msg_warn("cannot compress the TLS report of %s", dom->name);
	queue_writer_abort(qw);
	vstring_free(report_id);
	vstring_free(json);
	vstring_free(zip);
	return (-1);
    }

    msg = vstring_alloc(4000);
    boundary = vstring_alloc(100);
    vstring_sprintf(boundary, "%s.%ld/%s", vstring_str(queue_id), (long) time((time_t *) 0),
		    host);
    LINE(msg, "From: %s", sender);
    LINE(msg, "Date: %s", rfc822_date(date, sizeof(date), time((time_t *) 0)));
    LINE(msg, "Subject: Report Domain: %s", dom->name);
    LINE(msg, " Submitter: %s", submitter);
    LINE(msg, " Report-ID: <%s>", vstring_str(report_id));
    vstring_strcat(msg, "To: ");
    for (size_t i = 0; i < rua->argc; i++)
	vstring_sprintf_append(msg, "%s<%s>", i ? ",\r\n " : "", rua->argv[i]);
    vstring_strcat(msg, "\r\n");
    LINE(msg, "Message-Id: <%s>", vstring_str(report_id));
    LINE(msg, "TLS-Report-Domain: %s", dom->name);
    LINE(msg, "TLS-Report-Submitter: %s", submitter);
    LINE(msg, "Auto-Submitted: auto-generated");
    LINE(msg, "MIME-Version: 1.0");
    LINE(msg, "Content-Type: multipart/report; report-type=\"tlsrpt\";");
    LINE(msg, "\tboundary=\"%s\"", vstring_str(boundary));
    LINE(msg, "%s", "");
    LINE(msg, "This is a multipart message in MIME format.");
    LINE(msg, "%s", "");
    LINE(msg, "--%s", vstring_str(boundary));
    LINE(msg, "Content-Type: text/plain; charset=us-ascii");
    LINE(msg, "Content-Transfer-Encoding: 7bit");
    LINE(msg, "%s", "");
    LINE(msg, "This is an aggregate TLS report (RFC 8460) from %s", submitter);
    LINE(msg, "for %s: %ld successful and %ld failed TLS sessions", dom->name,
	 dom->ok, dom->failed);
    {
	char    from[32], to[32];

	gmtime_r(&start, &tm);
	strftime(from, sizeof(from), "%Y-%m-%d %H:%M:%S", &tm);
	gmtime_r(&end, &tm);
	strftime(to, sizeof(to), "%Y-%m-%d %H:%M:%S", &tm);
	LINE(msg, "from %s to %s UTC.", from, to);
    }
    LINE(msg, "%s", "");
    LINE(msg, "--%s", vstring_str(boundary));
    LINE(msg, "Content-Type: application/tlsrpt+gzip");
    LINE(msg, "Content-Transfer-Encoding: base64");
    LINE(msg, "Content-Disposition: attachment;");
    LINE(msg, "\tfilename=\"%s!%s!%ld!%ld!%s.json.gz\"", submitter, dom->name,
	 (long) start, (long) end, vstring_str(queue_id));
    LINE(msg, "%s", "");
    base64_lines(msg, vstring_str(zip), vstring_len(zip));
    LINE(msg, "%s", "");
    LINE(msg, "--%s--", vstring_str(boundary));

    queue_writer_sender(qw, sender);
    for (size_t i = 0; i < rua->argc; i++)
	queue_writer_rcpt(qw, rua->argv[i], (const char *) 0, 0, (const char *) 0);
    queue_writer_msg_begin(qw);
    queue_writer_msg_write(qw, vstring_str(msg), vstring_len(msg));
    if ((err = queue_writer_errno(qw)) != 0) {
	msg_warn("%s: cannot write the TLS report of %s: %s", vstring_str(queue_id),
		 dom->name, strerror(err));
	queue_writer_abort(qw);
	err = -1;
    } else if (queue_writer_commit(qw) != 0) {
	msg_warn("%s: cannot write the TLS report of %s: %m", vstring_str(queue_id), dom->name);
	err = -1;
    }
    vstring_free(report_id);
    vstring_free(json);
    vstring_free(zip);
    vstring_free(msg);
    vstring_free(boundary);
    return (err);
}
