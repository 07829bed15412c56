/*
 * NAME
 *	dict_source - read Postfix table source files (postmap, texthash)
 * SYNOPSIS
 *	#include "dict/dict_source.h"
 *
 *	DICT_SOURCE *dict_source_open(const char *path);	(NULL + errno)
 *	DICT_SOURCE *dict_source_stream(VSTREAM *fp, const char *name);
 *	int dict_source_next(DICT_SOURCE *src, VSTRING *line);
 *	int dict_source_split(DICT_SOURCE *src, char *line,
 *			      char **key, char **value);
 *	int dict_source_error(DICT_SOURCE *src);
 *	void dict_source_close(DICT_SOURCE *src);
 *	src->name, src->first_line, src->last_line
 *
 *	DICT_RULES *dict_rules_open(const char *type, const char *name, VSTRING *why);
 *	int dict_rules_next(DICT_RULES *rules, VSTRING *rule, int *lineno);
 *	int dict_rules_error(DICT_RULES *rules);
 *	void dict_rules_close(DICT_RULES *rules);
 * DESCRIPTION
 *	dict_source_next() returns the next logical line (1), or 0 at end
 *	of file: blank lines and lines whose first non-blank character is
 *	"#" are skipped; a line that starts with white space continues the
 *	logical line before it (its leading white space is kept); trailing
 *	white space is removed. A logical line that would start with white
 *	space is reported and skipped. first_line and last_line are the
 *	physical line numbers of the logical line.
 *
 *	dict_source_split() splits "key whitespace value" in place. A key
 *	in double quotes may hold white space (the quotes stay part of the
 *	key, as Postfix stores it). It returns 0 after a warning
 *	"name, line N: expected format: key whitespace value" when there is
 *	no value.
 *
 *	The dict_rules_* functions give the rules of a pattern table
 *	(pcre:, cidr:) one at a time, from either form of its name:
 *	"{ {rule1}, {rule2} }" (one rule per list item, numbered from 1,
 *	empty items and "#" items skipped) or a source file read with
 *	dict_source_next(). dict_rules_open() returns NULL with the reason in
 *	why, in Postfix's words ("TYPE map: missing '}' in \"TEXT\"",
 *	"TYPE map: no '{' at start of text in \"ITEM\"", "TYPE map: syntax
 *	error after '}' in \"ITEM\"", or "open FILE: ..."); dict_rules_error()
 *	is true when reading the file failed (errno is set).
 *
 *	dict_source_error() is true when reading failed (not at EOF).
 *	dict_source_stream() reads from an open stream (postmap -i reads
 *	standard input); dict_source_close() then leaves it open.
 * DIAGNOSTICS
 *	Warnings name the file and line, as Postfix writes them.
 */
#ifndef DICT_SOURCE_H
#define DICT_SOURCE_H
#include "util/vstream.h"
#include "util/vstring.h"

typedef struct DICT_SOURCE {
    VSTREAM *fp;
    int     own_fp;
    char   *name;
    int     first_line;
    int     last_line;
    int     lineno;			/* physical lines read */
    VSTRING *phys;			/* look-ahead physical line */
    int     have_phys;
    int     error;
    const char *bad_line_suffix;	/* after "expected format..." */
} DICT_SOURCE;

typedef struct DICT_RULES {
    DICT_SOURCE *src;			/* file form */
    char   *saved;			/* "{...}" form: the list text */
    char   *cursor;
    int     item;
} DICT_RULES;

extern DICT_RULES *dict_rules_open(const char *, const char *, VSTRING *);
extern int dict_rules_next(DICT_RULES *, VSTRING *, int *);
extern int dict_rules_error(DICT_RULES *);
extern void dict_rules_close(DICT_RULES *);
extern DICT_SOURCE *dict_source_open(const char *);
extern DICT_SOURCE *dict_source_stream(VSTREAM *, const char *);
extern int dict_source_next(DICT_SOURCE *, VSTRING *);
extern int dict_source_split(DICT_SOURCE *, char *, char **, char **);
extern int dict_source_error(DICT_SOURCE *);
extern void dict_source_close(DICT_SOURCE *);

#endif
