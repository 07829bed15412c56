/*
 * NAME
 *	auto_bcc - automatic BCC recipients
 * DESCRIPTION
 *	See auto_bcc.h.
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "dict/dict.h"
#include "dict/maps.h"
#include "global/mail_addr.h"
#include "global/mail_addr_find.h"
#include "global/mail_conf.h"
#include "global/queue_file.h"
#include "global/auto_bcc.h"

struct AUTO_BCC {
    MAPS   *sender_maps;		/* sender_bcc_maps, or NULL */
    MAPS   *rcpt_maps;			/* recipient_bcc_maps, or NULL */
    char   *always;			/* always_bcc */
};

static MAPS *bcc_maps(const char *param)
{
    const char *value = mail_conf_str(param);

    return (*value ? maps_create(param, value, DICT_FLAG_DEFAULT) : 0);
}

AUTO_BCC *auto_bcc_create(void)
{
    AUTO_BCC *ab = mycalloc(1, sizeof(*ab));

    ab->sender_maps = bcc_maps(VAR_SENDER_BCC_MAPS);
    ab->rcpt_maps = bcc_maps(VAR_RECIPIENT_BCC_MAPS);
    ab->always = mystrdup(mail_conf_str(VAR_ALWAYS_BCC));
    return (ab);
}

void    auto_bcc_free(AUTO_BCC *ab)
{
    if (ab->sender_maps)
	maps_free(ab->sender_maps);
    if (ab->rcpt_maps)
	maps_free(ab->rcpt_maps);
    myfree(ab->always);
    myfree(ab);
}

/* bcc_find - the BCC address of addr in maps, internal form, in bcc */
static int bcc_find(MAPS *maps, const char *addr, VSTRING *bcc)
{
    const char *value;
    char   *copy;
    char   *bp;
    const char *first;

    vstring_truncate(bcc, 0);
    if (maps == 0 || *addr == 0)
	return (0);
    if ((value = maps_find_addr(maps, addr, MAPS_ADDR_DEFAULT)) == 0)
	return (maps->error ? -1 : 0);
    bp = copy = mystrdup(value);
    if ((first = mystrtok(&bp, ", \t\r\n")) != 0)
	mail_addr_internalize(bcc, first);
    myfree(copy);
    return (0);
}

int     auto_bcc_sender(AUTO_BCC *ab, const char *sender, VSTRING *bcc)
{
    return (bcc_find(ab->sender_maps, sender, bcc));
}

int     auto_bcc_rcpt(AUTO_BCC *ab, const char *rcpt, VSTRING *bcc)
{
    return (bcc_find(ab->rcpt_maps, rcpt, bcc));
}

const char *auto_bcc_always(AUTO_BCC *ab)
{
    return (ab->always);
}

int     auto_bcc_write(QUEUE_WRITER *qw, VIRTUAL_ALIAS *va, VIRTUAL_ALIAS_RESULT *seen,
		               const char *canon)
{
    VIRTUAL_ALIAS_RESULT *res;
    VSTRING *why;
    int     ret = AUTO_BCC_OK;

    if (*canon == 0)
	return (AUTO_BCC_OK);
    why = vstring_alloc(100);
    res = virtual_alias_result_alloc();
    if (virtual_alias_expand(va, canon, res, why) != VIRTUAL_ALIAS_OK) {
	ret = AUTO_BCC_RETRY;
    } else {
	if (res->count == 0)
	    (void) virtual_alias_result_add(res, canon, canon);
	for (size_t i = 0; i < res->count && ret == AUTO_BCC_OK; i++) {
	    const char *target = res->targets[i].address;

	    if (virtual_alias_result_add(seen, target, canon)
		&& queue_writer_rcpt(qw, target, canon, DSN_NOTIFY_NEVER, (char *) 0) < 0)
		ret = AUTO_BCC_WRITE;
	}
    }
    virtual_alias_result_free(res);
    vstring_free(why);
    return (ret);
}
