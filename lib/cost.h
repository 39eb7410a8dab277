/*
 * cost.h - reading the billing events back (SPEC 6): one pass over
 * .project/billing/.tracking-*.jsonl in date order, files outside the
 * dates asked for unread, each line read with jscan (no JSON tree is
 * built unless a --where filter needs one), malformed lines skipped.
 */
#ifndef AG_COST_H
#define AG_COST_H

#include <stdint.h>

#include "json.h"
#include "names.h"
#include "project.h"

struct cost_event {
	char event[16];         /* usage, agent_end, session_end, ... */
	char ts[40];
	char agent[AG_ID_MAX + 1];
	char parent[AG_ID_MAX + 1];
	char session[AG_NAME_MAX + 1];
	char role[AG_NAME_MAX + 1];
	char model[128];
	int64_t in, out, cache_read, cache_write, duration_ms;
	double cost;
};

/* Read one line; 0, or -1 when it is not a well-formed event object. */
int cost_event_scan(const char *line, size_t len, struct cost_event *e);

/* Called for each event: the raw line, and what was read from it. */
typedef void (*cost_fn)(const char *line, size_t len,
    const struct cost_event *e, void *arg);

/*
 * Each event with since <= timestamp < until (canonical timestamps;
 * NULL for no bound).  Returns the number of malformed lines skipped, or
 * -1 on an error reading the directory.
 */
long cost_each(struct project *p, const char *since, const char *until,
    cost_fn fn, void *arg);

/* A --since/--until argument: a date (YYYY-MM-DD) or a timestamp, to the
 * canonical bound; until_end makes a bare date include its whole day.
 * -1 when malformed. */
int cost_bound(const char *s, int until_end, char *out);

#endif
