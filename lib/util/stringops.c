/*
 * NAME
 *	stringops - small string helpers
 * DESCRIPTION
 *	See stringops.h.
 */
#include <ctype.h>
#include <string.h>

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

char   *mystrtok_list(char **bufp)
{
    char   *start = *bufp + strspn(*bufp, LIST_DELIMS);
    char   *cp;
    int     level;

    if (*start != '{')
	return (mystrtok(bufp, LIST_DELIMS));
    /* "{ text with, separators }" is one item; nested braces balance. */
    for (level = 0, cp = start; *cp; cp++) {
	if (*cp == '{')
	    level++;
	else if (*cp == '}' && --level == 0)
	    break;
    }
    if (*cp == '}')
	*cp++ = 0;
    if (*cp)
	*cp++ = 0;
    *bufp = cp;
    start++;
    return (trimblanks(start));
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
