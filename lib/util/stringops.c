/*
 * NAME
 *	stringops - small string helpers
 * DESCRIPTION
 *	See stringops.h.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/stringops.h"

char   *lowercase(char *str)
{
    for (char *cp = str; *cp; cp++)
	if (*cp >= 'A' && *cp <= 'Z')
	    *cp += 'a' - 'A';
    return (str);
}

char   *trimblanks(char *str)
{
    char   *start = str;
    size_t  len;

    while (*start == ' ' || *start == '\t' || *start == '\r' || *start == '\n')
	start++;
    len = strlen(start);
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'
		       || start[len - 1] == '\r' || start[len - 1] == '\n'))
	len--;
    memmove(str, start, len);
    str[len] = 0;
    return (str);
}

char   *mystrtok(char **bufp, const char *delim)
{
    char   *start = *bufp + strspn(*bufp, delim);
    char   *end;

    if (*start == 0) {
	*bufp = start;
	return (0);
    }
    end = start + strcspn(start, delim);
    if (*end)
	*end++ = 0;
    *bufp = end;
    return (start);
}

char   *mystrtokq(char **bufp, const char *delim)
{
    char   *start = *bufp + strspn(*bufp, delim);
    char   *cp;
    int     level = 0;

    if (*start == 0) {
	*bufp = start;
	return (0);
    }
    /* A delimiter inside "{ ... }" (nested groups balance) is data. */
    for (cp = start; *cp; cp++) {
	if (*cp == '{')
	    level++;
	else if (*cp == '}' && level > 0)
	    level--;
	else if (level == 0 && strchr(delim, *cp))
	    break;
    }
    if (*cp)
	*cp++ = 0;
    *bufp = cp;
    return (start);
}

char   *mystrtok_list(char **bufp)
{
    char   *item = mystrtokq(bufp, LIST_DELIMS);
    size_t  len;

    if (item == 0 || *item != '{')
	return (item);
    /* "{ text with, separators }" is one item, without its braces. */
    len = strlen(item);
    if (len > 1 && item[len - 1] == '}')
	item[len - 1] = 0;
    return (trimblanks(item + 1));
}

ARGV   *argv_split_list(const char *text)
{
    ARGV   *list = argv_alloc(4);
    char   *saved = mystrdup(text ? text : "");
    char   *bp = saved;
    char   *item;

    while ((item = mystrtok_list(&bp)) != 0)
	argv_add(list, item);
    myfree(saved);
    return (list);
}

int     string_list_has(const char *text, const char *word)
{
    char   *saved = mystrdup(text ? text : "");
    char   *bp = saved;
    char   *item;
    int     found = 0;

    while (!found && (item = mystrtok_list(&bp)) != 0)
	found = (strcasecmp(item, word) == 0);
    myfree(saved);
    return (found);
}

int     alldig(const char *str)
{
    if (*str == 0)
	return (0);
    for (; *str; str++)
	if (!isdigit((unsigned char) *str))
	    return (0);
    return (1);
}

int     allprint(const char *str)
{
    for (; *str; str++)
	if (!isprint((unsigned char) *str))
	    return (0);
    return (1);
}

char   *split_at(char *str, int ch)
{
    char   *cp = strchr(str, ch);

    if (cp == 0)
	return (0);
    *cp++ = 0;
    return (cp);
}

char   *split_at_right(char *str, int ch)
{
    char   *cp = strrchr(str, ch);

    if (cp == 0)
	return (0);
    *cp++ = 0;
    return (cp);
}
