/*
 * names.h - the grammar of names, agent ids, tags and durations (SPEC 2).
 *
 * The check functions return NULL when the value is good, else a short
 * static reason ("contains '/'") for the caller's message.
 */
#ifndef AG_NAMES_H
#define AG_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define AG_NAME_MAX 64          /* a name, a role, a queue, a session */
#define AG_ID_MAX 255           /* a whole dotted agent id (one file name) */

/* 1-64 of [A-Za-z0-9_-], not starting with '-'. */
const char *name_check(const char *s);
/* Names joined by '.', at most AG_ID_MAX bytes. */
const char *agent_id_check(const char *s);
/* Like a name, but ':' and '.' are allowed too (feature:auth). */
const char *tag_check(const char *s);

/*
 * The parent of a dotted id is everything before its last '.': the id
 * grammar makes the tree derivable from the ids alone.  Writes "" for a
 * top-level id.  buf must hold AG_ID_MAX + 1 bytes.
 */
void agent_id_parent(const char *id, char *buf);
/* Is id a strict descendant of anc (anc.x, anc.x.y ...)? */
int agent_id_is_descendant(const char *id, const char *anc);

/*
 * A random name of n-1 characters of [a-z0-9], a letter first, into buf
 * (n bytes).  Uniqueness is the caller's to enforce (O_EXCL, rename
 * without replace): this only makes collisions rare.
 */
void random_name(char *buf, size_t n);

/*
 * Durations: 250ms, 90s, 10m, 2h, 7d, or a bare number of seconds; a
 * decimal fraction is allowed (1.5s), and parts with units add up (1h30m,
 * 2m30s).  Negative, empty, unknown units and overflow are refused.  Returns 0 and sets *ms, or -1.
 */
int duration_parse(const char *s, int64_t *ms);
/* Short human form for tables: 850ms, 12.3s, 4m05s, 2h10m, 3d04h. */
void duration_format(int64_t ms, char *buf, size_t len);

/* Is s one of the lines of text (lines split at '\n'; s non-empty)? */
int line_in(const char *text, const char *s);

#endif
