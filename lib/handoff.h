/*
 * handoff.h - typed handoff documents (SPEC 5), one JSON object in
 * sessions/NAME/handoffs/NNNN-TYPE.json:
 *   {"number":3,"type":"...","session":"...","created_at":"...",
 *    "agent_id":"..."|null,"role":"..."|null,"context":{...}}
 * Numbers are unique across types: they are taken under the sessions
 * lock, so two racing writers both land and neither overwrites the other.
 */
#ifndef AG_HANDOFF_H
#define AG_HANDOFF_H

#include <stdio.h>

#include "json.h"

/* NULL-terminated list of the known types. */
extern const char *const handoff_types[];
/* The required context fields of a type, NULL-terminated; NULL when the
 * type is unknown. */
const char *const *handoff_required(const char *type);
/* Is key a list field (its values are always an array)? */
int handoff_is_list(const char *key);

/*
 * Write a new handoff into hfd (the handoffs directory; the caller holds
 * the sessions lock).  ctx is consumed.  Returns the number, with the
 * file name in file (64 bytes), or -1.
 */
int handoff_write(int hfd, const char *session, const char *type, jv ctx,
    const char *agent, const char *role, char *file);
/*
 * Find a handoff: number n (> 0), or the latest when n is 0, of type
 * (NULL: any).  Returns its document, or an invalid jv when there is
 * none (ENOENT) or it cannot be read.
 */
jv handoff_find(int hfd, const char *type, long n, char *file);
/* Render a document as Markdown; consumes doc. */
void handoff_markdown(jv doc, FILE *out);

#endif
