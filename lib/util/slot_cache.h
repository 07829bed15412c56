/*
 * NAME
 *	slot_cache - a cache of small keyed records in a file that
 *	processes share
 * SYNOPSIS
 *	#include "util/slot_cache.h"
 *
 *	SLOT_CACHE *slot_cache_open(int fd, const char *name, VSTRING *why);
 *	int slot_cache_get(SLOT_CACHE *cache, const char *key,
 *			   long max_age, VSTRING *value);
 *	int slot_cache_put(SLOT_CACHE *cache, const char *key,
 *			   const void *data, size_t len);
 *	void slot_cache_del(SLOT_CACHE *cache, const char *key);
 *	void slot_cache_close(SLOT_CACHE *cache);
 * DESCRIPTION
 *	The file is a header and SLOT_CACHE_SLOTS fixed-size slots; a key
 *	hashes to a run of SLOT_CACHE_PROBE slots, and its record goes in
 *	the slot that holds the key, else an empty or expired one, else
 *	the oldest of the run (a cache forgets). Each slot carries a
 *	checksum, so a record that a crash left half written reads as
 *	empty. Every access is a pread or pwrite under an open file
 *	description lock (F_OFD_SETLKW: shared to read, exclusive to
 *	write), so any number of processes can share the file, each with
 *	its own descriptor: a descriptor opened before chroot keeps
 *	working inside it.
 *
 *	slot_cache_open() takes over fd (an open read-write regular file)
 *	and checks the header; a file that is empty, or whose header is
 *	not this format, is emptied and started over (the reason is in
 *	why, for the caller's warning; why is empty when the file was
 *	fine). NULL only when the file cannot be written.
 *
 *	slot_cache_get() copies the value of key into value when it was
 *	stored at most max_age seconds ago: 1 found, 0 not (or expired),
 *	-1 read error. slot_cache_put() stores a value (keys up to
 *	SLOT_CACHE_KEY_MAX bytes, values up to SLOT_CACHE_VALUE_MAX): 0,
 *	or -1 when it is too large or cannot be written.
 *	slot_cache_del() forgets a key.
 * DIAGNOSTICS
 *	Nothing is logged here; I/O errors are returned.
 * BUGS
 *	Linux: open file description locks (F_OFD_SETLKW).
 */
#ifndef SLOT_CACHE_H
#define SLOT_CACHE_H
#include <stddef.h>
#include "util/vstring.h"

#define SLOT_CACHE_SLOTS	2048
#define SLOT_CACHE_PROBE	8
#define SLOT_CACHE_SLOT_SIZE	8192
#define SLOT_CACHE_KEY_MAX	255
#define SLOT_CACHE_VALUE_MAX	(SLOT_CACHE_SLOT_SIZE - 32 - SLOT_CACHE_KEY_MAX - 1)

typedef struct SLOT_CACHE SLOT_CACHE;

extern SLOT_CACHE *slot_cache_open(int, const char *, VSTRING *);
extern int slot_cache_get(SLOT_CACHE *, const char *, long, VSTRING *);
extern int slot_cache_put(SLOT_CACHE *, const char *, const void *, size_t);
extern void slot_cache_del(SLOT_CACHE *, const char *);
extern void slot_cache_close(SLOT_CACHE *);

#endif
