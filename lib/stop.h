/*
 * stop.h - stopping agents, children first (ag-stop, ag-watchdog).
 *
 * A stop request is the agent's "stop" file (its reason), written before
 * any signal: the monitor then records the end as stopped.  Signals go to
 * the agent's process group only after its leader is proven to be the
 * recorded process (pid, start time, boot id, pinned by a pidfd).  An
 * agent whose monitor is gone is handled by the stopper itself, holding
 * the agent's lock: stopped if its process was still there, lost if not.
 * Queued agents are dequeued as stopped.
 */
#ifndef AG_STOP_H
#define AG_STOP_H

#include <stdint.h>

#include "agent.h"
#include "json.h"
#include "project.h"

/*
 * The agents to stop for a set of roots (a jv array of ids): each root
 * and every descendant, by dotted id or by parent file.  Returns a jv
 * array of [id, depth] pairs, deepest first.
 */
jv stop_expand(struct project *p, jv roots);

/* Called once per agent with the state it was left in. */
typedef void (*stop_report_fn)(const char *id, enum agent_status st,
    const char *note, void *arg);

/*
 * Stop the agents of stop_expand's list: each depth in turn, deepest
 * first, the agents of one depth in parallel: SIGTERM, then SIGKILL after
 * grace_ms.  Returns the number of agents not final afterwards.
 */
int stop_agents(struct project *p, jv list, int64_t grace_ms,
    const char *reason, stop_report_fn report, void *arg);

#endif
