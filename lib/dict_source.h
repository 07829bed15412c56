/*
 * NAME
 *	dict_source - read Postfix table source files (postmap, texthash)
 * SYNOPSIS
 *	#include "dict_source.h"
 *
 *	DICT_SOURCE *dict_source_open(const char *path);	(NULL + errno)
 *	DICT_SOURCE *dict_source_stream(VSTREAM *fp, const char *name);
 *	int dict_source_next(DICT_SOURCE *src, VSTRING *line);
 *	int dict_source_split(DICT_SOURCE *src, char *line,
 *			      char **key, char **value);
 *	int dict_source_error(DICT_SOURCE *src);
 *	void dict_source_close(DICT_SOURCE *src);
 *	src->name, src->first_line, src->last_line
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
 *	dict_source_error() is true when reading failed (not at EOF).
 *	dict_source_stream() reads from an open stream (postmap -i reads
 *	standard input); dict_source_close() then leaves it open.
 * DIAGNOSTICS
 *	Warnings name the file and line, as Postfix writes them.
 */
#ifndef DICT_SOURCE_H
#define DICT_SOURCE_H
#include "vstream.h"
#include "vstring.h"

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

extern DICT_SOURCE *dict_source_open(const char *);
extern DICT_SOURCE *dict_source_stream(VSTREAM *, const char *);
extern int dict_source_next(DICT_SOURCE *, VSTRING *);
extern int dict_source_split(DICT_SOURCE *, char *, char **, char **);
extern int dict_source_error(DICT_SOURCE *);
extern void dict_source_close(DICT_SOURCE *);

#endif
