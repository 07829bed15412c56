/*
 * NAME
 *	test_srs - SRS0/SRS1 rewriting against fixed known vectors
 * DESCRIPTION
 *	The expected addresses were computed independently of this code
 *	with Python's hmac/hashlib/base64 modules:
 *
 *	    hmac.new(secret, "".join(fields).lower(), sha1)
 *	    base64.b64encode(digest)[:4]
 *	    timestamp = base32 digits of (now // 86400) % 1024
 *
 *	and the "tops3cr3t" vectors agree with the published test vectors
 *	of postsrsd (libsrs2), so our addresses verify there and theirs
 *	here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/argv.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "util/msg.h"
#include "global/srs.h"
#include "unit.h"

#define T_2020	1577836860L		/* 2020-01-01 00:01:00 UTC, day 2W */
#define T_2026	1795423585L		/* 2026-11-23 08:46:25 UTC, day JM */

static SRS *make_srs(const char *domain, const char *s1, const char *s2)
{
    ARGV   *secrets = argv_alloc(2);
    SRS    *srs;

    argv_add(secrets, s1);
    if (s2)
	argv_add(secrets, s2);
    srs = srs_create(domain, secrets, 21 * 86400L);
    argv_free(secrets);
    return (srs);
}

UNIT_TEST(timestamp)
{
    char    stamp[3];

    srs_timestamp(T_2020, stamp);
    EXPECT_STR(stamp, "2W");
    srs_timestamp(T_2026, stamp);
    EXPECT_STR(stamp, "JM");
    srs_timestamp(T_2026 - 30 * 86400L, stamp);
    EXPECT_STR(stamp, "IO");
}

UNIT_TEST(hash_vectors)
{
    VSTRING *h = vstring_alloc(10);

    srs_hash("tops3cr3t", h, 3, "2W", "otherdomain.com", "test");
    EXPECT_STR(vstring_str(h), "vmyz");
    srs_hash("tops3cr3t", h, 3, "2V", "otherdomain.com", "test");
    EXPECT_STR(vstring_str(h), "XjO9");
    /* Input is lower-cased before hashing. */
    srs_hash("tops3cr3t", h, 3, "2v", "OtherDomain.COM", "TEST");
    EXPECT_STR(vstring_str(h), "XjO9");
    srs_hash("Secret-One", h, 3, "JM", "sender.example", "alice");
    EXPECT_STR(vstring_str(h), "isSe");
    vstring_free(h);
}

UNIT_TEST(forward_srs0)
{
    SRS    *srs = make_srs("example.com", "tops3cr3t", 0);
    VSTRING *r = vstring_alloc(100);

    EXPECT_INT(srs_forward(srs, "test@otherdomain.com", r, T_2020), SRS_OK);
    EXPECT_STR(vstring_str(r), "SRS0=vmyz=2W=otherdomain.com=test@example.com");
    srs_free(srs);

    srs = make_srs("fwd.example", "Secret-One", "older-secret");
    EXPECT_INT(srs_forward(srs, "alice@sender.example", r, T_2026), SRS_OK);
    EXPECT_STR(vstring_str(r), "SRS0=isSe=JM=sender.example=alice@fwd.example");
    srs_free(srs);
    vstring_free(r);
}

UNIT_TEST(forward_unchanged)
{
    SRS    *srs = make_srs("example.com", "tops3cr3t", 0);
    VSTRING *r = vstring_alloc(100);

    EXPECT_INT(srs_forward(srs, "", r, T_2020), SRS_NOCHANGE);
    EXPECT_STR(vstring_str(r), "");
    EXPECT_INT(srs_forward(srs, "foo", r, T_2020), SRS_NOCHANGE);
    EXPECT_STR(vstring_str(r), "foo");
    EXPECT_INT(srs_forward(srs, "test@Example.COM", r, T_2020), SRS_NOCHANGE);
    EXPECT_STR(vstring_str(r), "test@Example.COM");
    EXPECT_INT(srs_forward(srs, "SRS0=XjO9=2V=otherdomain.com=test@example.com",
			   r, T_2020), SRS_NOCHANGE);
    srs_set_exclude(srs, "trusted.example, .partner.example");
    EXPECT_INT(srs_forward(srs, "a@trusted.example", r, T_2020), SRS_NOCHANGE);
    EXPECT_INT(srs_forward(srs, "a@mx.partner.example", r, T_2020), SRS_NOCHANGE);
    EXPECT_INT(srs_forward(srs, "a@partner.example", r, T_2020), SRS_OK);
    srs_free(srs);
    vstring_free(r);
}

UNIT_TEST(forward_srs1)
{
    SRS    *srs = make_srs("example.com", "tops3cr3t", 0);
    VSTRING *r = vstring_alloc(100);

    EXPECT_INT(srs_forward(srs, "SRS0=opaque+string@otherdomain.com", r, T_2020), SRS_OK);
    EXPECT_STR(vstring_str(r), "SRS1=chaI=otherdomain.com==opaque+string@example.com");
    EXPECT_INT(srs_forward(srs, "SRS1=X=thirddomain.com==opaque+string@otherdomain.com",
			   r, T_2020), SRS_OK);
    EXPECT_STR(vstring_str(r), "SRS1=JIBX=thirddomain.com==opaque+string@example.com");
    srs_free(srs);
    vstring_free(r);
}

UNIT_TEST(reverse)
{
    SRS    *srs = make_srs("example.com", "tops3cr3t", 0);
    VSTRING *r = vstring_alloc(100);

    EXPECT_INT(srs_reverse(srs, "SRS0=XjO9=2V=otherdomain.com=test@example.com", r, T_2020), SRS_OK);
    EXPECT_STR(vstring_str(r), "test@otherdomain.com");
    /* Case-folded by some MTA on the way back. */
    EXPECT_INT(srs_reverse(srs, "srs0=xjo9=2v=otherdomain.com=test@example.com", r, T_2020), SRS_OK);
    EXPECT_STR(vstring_str(r), "test@otherdomain.com");
    EXPECT_INT(srs_reverse(srs, "SRS0=XJO9=2V=OTHERDOMAIN.COM=TEST@EXAMPLE.COM", r, T_2020), SRS_OK);
    EXPECT_STR(vstring_str(r), "TEST@OTHERDOMAIN.COM");
    /* Other separators after the tag; '=' inside the user part. */
    EXPECT_INT(srs_reverse(srs, "SRS0+XjO9=2V=otherdomain.com=test@example.com", r, T_2020), SRS_OK);
    EXPECT_INT(srs_reverse(srs, "SRS1=JIBX=thirddomain.com==opaque+string@example.com", r, T_2020), SRS_OK);
    EXPECT_STR(vstring_str(r), "SRS0=opaque+string@thirddomain.com");
    srs_free(srs);
    vstring_free(r);
}

UNIT_TEST(reverse_errors)
{
    SRS    *srs = make_srs("example.com", "tops3cr3t", 0);
    VSTRING *r = vstring_alloc(100);

    EXPECT_INT(srs_reverse(srs, "test@example.com", r, T_2020), SRS_NOT_SRS);
    EXPECT_INT(srs_reverse(srs, "SRS0=XjO9=2V=otherdomain.com=test@other.example", r, T_2020),
	       SRS_NOT_SRS);
    EXPECT_INT(srs_reverse(srs, "SRS0=FAKE=2V=otherdomain.com=test@example.com", r, T_2020),
	       SRS_ERR_HASH);
    EXPECT_INT(srs_reverse(srs, "SRS0=XjO=2V=otherdomain.com=test@example.com", r, T_2020),
	       SRS_ERR_HASH);
    /* Tampered fields. */
    EXPECT_INT(srs_reverse(srs, "SRS0=XjO9=2V=otherdomain.com=evil@example.com", r, T_2020),
	       SRS_ERR_HASH);
    EXPECT_INT(srs_reverse(srs, "SRS0=XjO9=2W=otherdomain.com=test@example.com", r, T_2020),
	       SRS_ERR_HASH);
    EXPECT_INT(srs_reverse(srs, "SRS0=@example.com", r, T_2020), SRS_ERR_SYNTAX);
    EXPECT_INT(srs_reverse(srs, "SRS0=XjO9@example.com", r, T_2020), SRS_ERR_SYNTAX);
    EXPECT_INT(srs_reverse(srs, "SRS0=XjO9=2V@example.com", r, T_2020), SRS_ERR_SYNTAX);
    EXPECT_INT(srs_reverse(srs, "SRS0=XjO9=2V=otherdomain.com@example.com", r, T_2020),
	       SRS_ERR_SYNTAX);
    EXPECT_INT(srs_reverse(srs, "SRS1=JIBX=thirddomain.com@example.com", r, T_2020),
	       SRS_ERR_SYNTAX);
    EXPECT_INT(srs_reverse(srs, "SRS1=JIBY=thirddomain.com==opaque+string@example.com", r, T_2020),
	       SRS_ERR_HASH);
    srs_free(srs);
    vstring_free(r);
}

UNIT_TEST(age)
{
    SRS    *srs = make_srs("fwd.example", "Secret-One", 0);
    VSTRING *r = vstring_alloc(100);

    /* 21 days old: still good; 30 days old: expired (srs_max_age 21d). */
    EXPECT_INT(srs_reverse(srs, "SRS0=Swz8=IX=sender.example=alice@fwd.example", r, T_2026),
	       SRS_OK);
    EXPECT_STR(vstring_str(r), "alice@sender.example");
    EXPECT_INT(srs_reverse(srs, "SRS0=Pnez=IO=sender.example=alice@fwd.example", r, T_2026),
	       SRS_ERR_EXPIRED);
    /* A stamp from "tomorrow" wraps around to 1023 days old. */
    EXPECT_INT(srs_reverse(srs, "SRS0=isSe=JM=sender.example=alice@fwd.example", r,
			   T_2026 - 86400L), SRS_ERR_EXPIRED);
    EXPECT_INT(srs_reverse(srs, "SRS0=isSe=J1=sender.example=alice@fwd.example", r, T_2026),
	       SRS_ERR_SYNTAX);
    srs_free(srs);
    vstring_free(r);
}

UNIT_TEST(secret_rotation_from_conf)
{
    char    dir[] = "/tmp/test_srs.XXXXXX";
    char    path[256];
    FILE   *fp;
    SRS    *srs;
    VSTRING *r = vstring_alloc(100);

    EXPECT(mkdtemp(dir) != 0);
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    fp = fopen(path, "w");
    fprintf(fp, "srs_domain = fwd.example\nsrs_secret_file = %s/secret\n", dir);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/secret", dir);
    fp = fopen(path, "w");
    fputs("new-secret\n\nolder-secret\n", fp);
    fclose(fp);
    mail_conf_reset();
    mail_conf_read(dir);

    srs = srs_from_conf();
    EXPECT(srs != 0);
    if (srs) {
	/* Signed by an older secret: still accepted. */
	EXPECT_INT(srs_reverse(srs, "SRS0=5Dec=JM=sender.example=alice@fwd.example", r, T_2026),
		   SRS_OK);
	/* New addresses are signed with the first secret. */
	EXPECT_INT(srs_forward(srs, "alice@sender.example", r, T_2026), SRS_OK);
	EXPECT(strcmp(vstring_str(r), "SRS0=5Dec=JM=sender.example=alice@fwd.example") != 0);
	srs_free(srs);
    }
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    EXPECT_INT(system(path), 0);

    mail_conf_reset();
    EXPECT(srs_from_conf() == 0);
    vstring_free(r);
}

UNIT_TEST(roundtrip)
{
    SRS    *srs = make_srs("fwd.example", "Secret-One", 0);
    VSTRING *f = vstring_alloc(100);
    VSTRING *r = vstring_alloc(100);

    EXPECT_INT(srs_forward(srs, "Bob.Smith=x@Mail.Sender.Example", f, T_2026), SRS_OK);
    EXPECT_INT(srs_reverse(srs, vstring_str(f), r, T_2026 + 5 * 86400L), SRS_OK);
    EXPECT_STR(vstring_str(r), "Bob.Smith=x@Mail.Sender.Example");
    srs_free(srs);
    vstring_free(f);
    vstring_free(r);
}

UNIT_TEST(request_sender)
{
    SRS    *srs = make_srs("fwd.example", "Secret-One", 0);
    VSTRING *r = vstring_alloc(100);
    RECIPIENT rcpt[2];
    DELIVER_REQUEST req;

    memset(&req, 0, sizeof(req));
    memset(rcpt, 0, sizeof(rcpt));
    req.sender = "alice@sender.example";
    req.rcpt = rcpt;
    req.rcpt_count = 1;
    rcpt[0].address = "owner@provider.example";
    rcpt[0].orig_addr = "";
    /* Not forwarded: sender untouched. */
    EXPECT_INT(srs_request_sender(srs, &req, r, T_2026), 0);
    EXPECT_STR(vstring_str(r), "alice@sender.example");
    /* Aliased within the same domain: untouched. */
    rcpt[0].orig_addr = "info@Provider.Example";
    EXPECT_INT(srs_request_sender(srs, &req, r, T_2026), 0);
    /* Aliased to another domain: SRS0. */
    req.rcpt_count = 2;
    rcpt[1].address = "owner@provider.example";
    rcpt[1].orig_addr = "info@alias.example";
    EXPECT_INT(srs_request_sender(srs, &req, r, T_2026), 1);
    EXPECT_STR(vstring_str(r), "SRS0=isSe=JM=sender.example=alice@fwd.example");
    /* SRS off, null sender, probes: untouched. */
    EXPECT_INT(srs_request_sender(0, &req, r, T_2026), 0);
    EXPECT_STR(vstring_str(r), "alice@sender.example");
    req.flags = DEL_REQ_FLAG_VERIFY;
    EXPECT_INT(srs_request_sender(srs, &req, r, T_2026), 0);
    req.flags = 0;
    req.sender = "";
    EXPECT_INT(srs_request_sender(srs, &req, r, T_2026), 0);
    EXPECT_STR(vstring_str(r), "");
    srs_free(srs);
    vstring_free(r);
}

int     main(void)
{
    msg_init("postfix", "test_srs");
    return (unit_run());
}
