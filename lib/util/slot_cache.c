/*
 * NAME
 *	slot_cache - a cache of small keyed records in a file that
 *	processes share
 * DESCRIPTION
 *	See slot_cache.h. The layout, in native byte order (the file
 *	never leaves the host):
 *
 *	header (HEADER_SIZE bytes): MAGIC, then the slot count and slot
 *	size as two uint32, the rest zero;
 *	SLOT_CACHE_SLOTS slots of SLOT_CACHE_SLOT_SIZE bytes: a SLOT_HEAD
 *	(checksum, key hash, time stored, key and value lengths), the key
 *	padded to SLOT_CACHE_KEY_MAX + 1 bytes, the value.
 *
 *	A slot past the end of the file reads as empty (the file grows
 *	as slots are written, and is sparse). The checksum (64-bit FNV-1a
 *	of everything after it) is zero in an empty slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/slot_cache.h"

#define MAGIC		"slot_cache 1\n"
#define HEADER_SIZE	4096

typedef struct SLOT_HEAD {
    uint64_t sum;			/* FNV-1a of the rest; 0: empty */
    uint64_t key_hash;			/* FNV-1a of the key */
    int64_t stamp;			/* time stored */
    uint32_t key_len;
    uint32_t val_len;
} SLOT_HEAD;

#define KEY_SPACE	(SLOT_CACHE_KEY_MAX + 1)
#define SLOT_OFFSET(i)	((off_t) HEADER_SIZE + (off_t) (i) * SLOT_CACHE_SLOT_SIZE)

struct SLOT_CACHE {
    int     fd;
    unsigned char *slot;		/* one slot's bytes */
};

/* fnv - 64-bit FNV-1a, continued from h */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *cp = data;

    while (len-- > 0) {
	h ^= *cp++;
	h *= 0x100000001b3ULL;
    }
    return (h);
}

#define FNV_INIT	0xcbf29ce484222325ULL

/* slot_sum - the checksum of a slot's bytes after the sum itself */
static uint64_t slot_sum(const unsigned char *slot)
{
    const SLOT_HEAD *h = (const SLOT_HEAD *) slot;
    size_t  len = sizeof(*h) + KEY_SPACE + h->val_len;
    uint64_t sum;

    sum = fnv(FNV_INIT, slot + sizeof(h->sum), len - sizeof(h->sum));
    return (sum ? sum : 1);
}

/* lock - take (F_RDLCK, F_WRLCK) or drop (F_UNLCK) the file lock */
static int lock(SLOT_CACHE *c, short type)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    while (fcntl(c->fd, F_OFD_SETLKW, &fl) < 0)
	if (errno != EINTR)
	    return (-1);
    return (0);
}

/* full_pread - a whole read; short at end of file */
static ssize_t full_pread(int fd, void *buf, size_t len, off_t off)
{
    size_t  done = 0;
    ssize_t n;

    while (done < len) {
	if ((n = pread(fd, (char *) buf + done, len - done, off + (off_t) done)) < 0) {
	    if (errno == EINTR)
		continue;
	    return (-1);
	}
	if (n == 0)
	    break;
	done += (size_t) n;
    }
    return ((ssize_t) done);
}

static int full_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    size_t  done = 0;
    ssize_t n;

    while (done < len) {
	if ((n = pwrite(fd, (const char *) buf + done, len - done, off + (off_t) done)) < 0) {
	    if (errno == EINTR)
		continue;
	    return (-1);
	}
	done += (size_t) n;
    }
    return (0);
}

/* header_text - the header this code writes */
static void header_text(unsigned char *buf)
{
    uint32_t geometry[2] = {SLOT_CACHE_SLOTS, SLOT_CACHE_SLOT_SIZE};

    memset(buf, 0, HEADER_SIZE);
    memcpy(buf, MAGIC, sizeof(MAGIC) - 1);
    memcpy(buf + sizeof(MAGIC) - 1, geometry, sizeof(geometry));
}

SLOT_CACHE *slot_cache_open(int fd, const char *name, VSTRING *why)
{
    SLOT_CACHE *c = mymalloc(sizeof(*c));
    unsigned char want[HEADER_SIZE];
    unsigned char *have = mymalloc(HEADER_SIZE);
    ssize_t n;
    int     ok = 0;

    c->fd = fd;
    c->slot = mymalloc(SLOT_CACHE_SLOT_SIZE);
    vstring_reset(why);
    header_text(want);
    if (lock(c, F_WRLCK) < 0) {
	vstring_sprintf(why, "lock %s: %s", name, strerror(errno));
	goto fail;
    }
    if ((n = full_pread(fd, have, HEADER_SIZE, 0)) < 0) {
	vstring_sprintf(why, "read %s: %s", name, strerror(errno));
	goto fail;
    }
    if (n == HEADER_SIZE && memcmp(have, want, HEADER_SIZE) == 0) {
	ok = 1;
    } else {
	/* Empty, or not ours: start over. Only an unknown file is news. */
	if (n > 0)
	    vstring_sprintf(why, "%s is not a cache of this format", name);
	if (ftruncate(fd, 0) < 0 || full_pwrite(fd, want, HEADER_SIZE, 0) < 0) {
	    vstring_sprintf(why, "initialize %s: %s", name, strerror(errno));
	    goto fail;
	}
	ok = 1;
    }
fail:
    (void) lock(c, F_UNLCK);
    myfree(have);
    if (!ok) {
	slot_cache_close(c);
	return (0);
    }
    return (c);
}

/* key_hash - where a key's run of slots starts, and a quick compare */
static uint64_t key_hash(const char *key, size_t len)
{
    return (fnv(FNV_INIT, key, len));
}

/* read_slot - slot i into c->slot; 1 valid, 0 empty or broken, -1 error */
static int read_slot(SLOT_CACHE *c, size_t i)
{
    ssize_t n = full_pread(c->fd, c->slot, SLOT_CACHE_SLOT_SIZE, SLOT_OFFSET(i));
    SLOT_HEAD *h = (SLOT_HEAD *) c->slot;

    if (n < 0)
	return (-1);
    if ((size_t) n < sizeof(*h) || h->sum == 0
	|| h->key_len > SLOT_CACHE_KEY_MAX || h->val_len > SLOT_CACHE_VALUE_MAX
	|| (size_t) n < sizeof(*h) + KEY_SPACE + h->val_len)
	return (0);
    return (h->sum == slot_sum(c->slot));
}

/*
 * find - the slot of key in its run, or -1. *reuse: where a new record
 * of the key goes: the first empty or broken slot, else the oldest one
 * (an expired record is older than any live one).
 */
static long find(SLOT_CACHE *c, const char *key, size_t len, uint64_t hash,
		         long *reuse, int *io_error)
{
    size_t  start = (size_t) (hash % SLOT_CACHE_SLOTS);
    int64_t oldest = INT64_MAX;
    long    empty = -1;
    long    old = -1;
    int     r;

    *reuse = -1;
    *io_error = 0;
    for (size_t k = 0; k < SLOT_CACHE_PROBE; k++) {
	size_t  i = (start + k) % SLOT_CACHE_SLOTS;
	SLOT_HEAD *h = (SLOT_HEAD *) c->slot;

	if ((r = read_slot(c, i)) < 0) {
	    *io_error = 1;
	    return (-1);
	}
	if (r == 0) {
	    if (empty < 0)
		empty = (long) i;
	    continue;
	}
	if (h->key_hash == hash && h->key_len == len
	    && memcmp(c->slot + sizeof(*h), key, len) == 0)
	    return ((long) i);
	if (h->stamp < oldest) {
	    oldest = h->stamp;
	    old = (long) i;
	}
    }
    *reuse = empty >= 0 ? empty : old;
    return (-1);
}

int     slot_cache_get(SLOT_CACHE *c, const char *key, long max_age, VSTRING *value)
{
    size_t  len = strlen(key);
    long    reuse, i;
    int     io_error;
    int     ret = 0;

    if (len > SLOT_CACHE_KEY_MAX)
	return (0);
    if (lock(c, F_RDLCK) < 0)
	return (-1);
    i = find(c, key, len, key_hash(key, len), &reuse, &io_error);
    if (io_error) {
	ret = -1;
    } else if (i >= 0) {
	SLOT_HEAD *h = (SLOT_HEAD *) c->slot;
	time_t  now = time((time_t *) 0);

	if (max_age < 0 || h->stamp + max_age >= now) {
	    vstring_memcpy(value, (char *) c->slot + sizeof(*h) + KEY_SPACE, h->val_len);
	    ret = 1;
	}
    }
    (void) lock(c, F_UNLCK);
    return (ret);
}

int     slot_cache_put(SLOT_CACHE *c, const char *key, const void *data, size_t dlen)
{
    size_t  len = strlen(key);
    uint64_t hash = key_hash(key, len);
    long    reuse, i;
    int     io_error;
    int     ret = -1;
    SLOT_HEAD *h = (SLOT_HEAD *) c->slot;

    if (len > SLOT_CACHE_KEY_MAX || dlen > SLOT_CACHE_VALUE_MAX)
	return (-1);
    if (lock(c, F_WRLCK) < 0)
	return (-1);
    i = find(c, key, len, hash, &reuse, &io_error);
    if (!io_error) {
	if (i < 0)
	    i = reuse;
	memset(c->slot, 0, SLOT_CACHE_SLOT_SIZE);
	h->key_hash = hash;
	h->stamp = (int64_t) time((time_t *) 0);
	h->key_len = (uint32_t) len;
	h->val_len = (uint32_t) dlen;
	memcpy(c->slot + sizeof(*h), key, len);
	memcpy(c->slot + sizeof(*h) + KEY_SPACE, data, dlen);
	h->sum = slot_sum(c->slot);
	ret = full_pwrite(c->fd, c->slot, sizeof(*h) + KEY_SPACE + dlen, SLOT_OFFSET(i));
    }
    (void) lock(c, F_UNLCK);
    return (ret);
}

void    slot_cache_del(SLOT_CACHE *c, const char *key)
{
    size_t  len = strlen(key);
    long    reuse, i;
    int     io_error;
    static const SLOT_HEAD empty;

    if (len > SLOT_CACHE_KEY_MAX || lock(c, F_WRLCK) < 0)
	return;
    i = find(c, key, len, key_hash(key, len), &reuse, &io_error);
    if (i >= 0)
	(void) full_pwrite(c->fd, &empty, sizeof(empty), SLOT_OFFSET(i));
    (void) lock(c, F_UNLCK);
}

void    slot_cache_close(SLOT_CACHE *c)
{
    if (c == 0)
	return;
    (void) close(c->fd);
    myfree(c->slot);
    myfree(c);
}
