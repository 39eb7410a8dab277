/*
 * json.h - JSON through libjq's jv.  Every jv_* call consumes its
 * arguments except where jq documents otherwise; these helpers follow the
 * same rule and say so.
 */
#ifndef AG_JSON_H
#define AG_JSON_H

#include <jv.h>

/* Parse a file; an invalid jv (with a message) on any failure. */
jv json_read_at(int dirfd, const char *name);
/* Compact one-line dump plus '\n', malloc'd; consumes v. */
char *json_line(jv v, size_t *len);
/* Atomically replace dirfd/name with v as one line; consumes v. */
int json_write_at(int dirfd, const char *name, jv v, int flags);
/* Print v as one line on stdout; consumes v. */
void json_print(jv v);
/*
 * The message of an invalid jv, fit for one line of an error: into buf,
 * without the copy of the input jq appends to a parse error ("(while
 * parsing '...')", all of it, however long), control characters made
 * spaces; "invalid" when there is none.  Consumes v; returns buf.
 */
const char *json_error_text(jv v, char *buf, size_t size);
/*
 * Use, once, the parts of libjq that an agent's end uses (parsing,
 * objects, arrays, strings, numbers, the dump): a monitor calls it while
 * its agent runs, so that the end meets no first-use cost (page faults,
 * and in a lazily linked command the symbol lookups of jvlazy.c).
 */
void json_warm(void);

#endif
