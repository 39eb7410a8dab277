/*
 * billing.h - billing events (SPEC 6): one JSON object a line in
 * .project/billing/.tracking-YYYY-MM-DD.jsonl, by the UTC date of the
 * event's timestamp.  Every event is appended as one whole line under an
 * flock of its file (append_locked_at), and fsync'd: an accepted record
 * survives a crash and a power loss, and concurrent writers never lose or
 * interleave lines.
 */
#ifndef AG_BILLING_H
#define AG_BILLING_H

#include <stdint.h>

#include "json.h"
#include "project.h"

/*
 * Append ev (an object; consumed).  A missing "timestamp" is set to now.
 * Returns 0, or -1 with errno.
 */
int billing_append(struct project *p, jv ev);

/* The agent_end event every agent's end appends. */
int billing_agent_end(struct project *p, const char *id, const char *role,
    const char *parent, const char *session, int64_t duration_ms,
    const char *status, int64_t ended_ms);

/*
 * Sum the usage events of a session (matched on its name or its id) over
 * every billing file: total tokens and cost.  Returns 0, or -1.
 */
int billing_session_usage(struct project *p, const char *name, const char *id,
    int64_t *tokens, double *cost);

#endif
