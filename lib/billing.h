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

/* A usage event (SPEC 6).  Strings may be NULL or "" (then null). */
struct usage {
	const char *timestamp;  /* NULL: now */
	const char *agent, *parent, *session, *role;
	const char *model, *source;
	int64_t in, out, cache_read, cache_write;
	double cost;
};

/* The event as a jv object. */
jv billing_usage_event(const struct usage *u);
/*
 * Append a usage event; then, when it names an agent that exists, add its
 * cost to the agent's "cost" file (what ag-ps shows), under an flock of
 * the agent's directory.  The billing line is the record; the cost file
 * only a running sum of it.
 */
int billing_usage(struct project *p, const struct usage *u);
/* Add usd to agents/ID/cost; dirfd is the agent's directory. */
int billing_cost_add(int dirfd, double usd);

/*
 * The usage events of a Claude Code result object (claude -p
 * --output-format json/stream-json): one per model of its modelUsage, or
 * one for its usage when it has none; base gives the agent's fields.
 * Sets *tokens and *cost to the totals; returns an array (empty when the
 * object holds no usage).  Consumes result.
 */
jv billing_claude_events(jv result, const struct usage *base, int64_t *tokens,
    double *cost);

/* The agent_end event every agent's end appends. */
jv billing_agent_end(const char *id, const char *role, const char *parent,
    const char *session, int64_t duration_ms, const char *status,
    int64_t ended_ms);

/*
 * An agent's end, billed once: its usage events (an array) and its
 * agent_end event, appended as one write before its status changes (so
 * that whoever ag-wait wakes sees them), but not yet fsync'd (so that no
 * fsync delays the wake-up).  dirfd is the agent's directory: the marker
 * "billed" there (day file and its size before the write) makes a second
 * finish of the same agent, after a crash, look before it appends again.
 * Consumes usage and end; *day gets the file to pass to billing_sync.
 */
int billing_finish(struct project *p, int dirfd, const char *id, jv usage,
    jv end, char *day, size_t cap);
/* fdatasync billing/DAY. */
int billing_sync(struct project *p, const char *day);

/*
 * Sum the usage events of a session (matched on its name or its id) over
 * every billing file: total tokens and cost.  Returns 0, or -1.
 */
int billing_session_usage(struct project *p, const char *name, const char *id,
    int64_t *tokens, double *cost);

#endif
