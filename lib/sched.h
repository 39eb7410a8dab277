/*
 * sched.h - queues (-q NAME --slots N) and dependencies (--after ID).
 *
 * State, all under .project/:
 *   queued/SEQ-ID          one empty file per queued agent; SEQ (19
 *                          digits, ns since the epoch) gives FIFO order
 *   queued/.lock           the scheduler lock
 *   queues/NAME/slots      how many of the queue may run at once (1)
 *   queues/NAME/running/ID one file per started, unfinished member
 *
 * A pass (under the lock) walks queued/ oldest first: an agent whose
 * --after agents all completed, and whose queue has a free slot, starts;
 * one with a dependency that ended otherwise ends failed, with the reason
 * in result.json.  A pass runs when a queued agent is spawned, when an
 * agent that could free a slot or satisfy a dependency ends, and from the
 * watchdog.  A kill -9 anywhere leaves at worst a stale running/ entry,
 * which a pass drops when it sees that agent final.
 */
#ifndef AG_SCHED_H
#define AG_SCHED_H

#include "project.h"

/* Take the scheduler lock; returns the fd holding it, or -1. */
int sched_lock(struct project *p);
/* Add a queued agent (the caller holds the lock). */
int sched_enqueue(struct project *p, const char *id);
/* Set a queue's slots (the caller holds the lock). */
int sched_set_slots(struct project *p, const char *queue, long slots);
/* One pass; the caller holds the lock.  Returns the number of agents
 * started or failed, or -1 when the pass could not run. */
int sched_pass(struct project *p);
/*
 * In a build without libjq (AG_NOJQ: ag-spawn's, see jvnone.c) a pass
 * cannot write an agent's end, which is JSON: it leaves queued an agent
 * that should fail now (its dependency failed), and one that could not
 * be started is left to be found lost.  Either sets this, and the caller
 * has a build with libjq make a pass (ag-monitor --pass).
 */
extern int sched_left_for_jq;
/* Remove a queued agent's entry (the caller holds the lock). */
int sched_dequeue(struct project *p, const char *id);
/* A monitor's last step: free the agent's slot and run a pass when
 * anything may be waiting. */
void sched_after_end(struct project *p, const char *id, const char *queue);

#endif
