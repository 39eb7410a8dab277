/*
 * task.h - the project's task store, .project/tasks/ (SPEC 7).
 *
 *   pending/ID claimed/ID done/ID failed/ID   one JSON object per task
 *   .queue/PRIO/SEQ      the claim order: one file per pending task of
 *                        priority PRIO, holding its id; SEQ is 20 digits
 *   .queue/PRIO/tail     the next SEQ of the lane
 *   .queue/PRIO/head     a hint: every SEQ below it is consumed
 *   .back/PRIO/SEQ       released tasks, back at their old SEQ
 *   .lock                held to add and to release, never to claim
 *
 * A claim is one rename(2) of pending/ID to claimed/ID: whoever's rename
 * succeeds owns the task, so concurrent claimers never share one, with no
 * lock.  The order (priority, then oldest) lives in the lanes, read from
 * their head: a claim costs the same with 10 or 10,000 tasks pending.
 * An entry is created before its task and made visible (tail) after, so
 * a claimer never skips a task that exists.
 */
#ifndef AG_TASK_H
#define AG_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "project.h"

enum task_state { TS_PENDING, TS_CLAIMED, TS_DONE, TS_FAILED, TS_NONE };

extern const char *const task_state_names[];

/* Open .project/tasks (creating it and its directories with create). */
int task_dir(struct project *p, int create);
/* Where a task is: its state, or TS_NONE. */
enum task_state task_find(int tfd, const char *id);
/* Read a task's object from a state's directory. */
jv task_read(int tfd, enum task_state st, const char *id);

/* Add; id "" makes one.  Returns 0 (id filled), -1 with errno (EEXIST). */
int task_add(int tfd, char *id, long prio, const char *desc);
/*
 * Claim the first pending task for agent (may be NULL): 1 and the task
 * in *task, 0 when none is pending, -1 on error.
 */
int task_claim(int tfd, const char *agent, jv *task);
/*
 * Claim up to n: how many (their tasks in the array *tasks), -1 on an
 * error before any.  Each is its own rename; one sync of claimed/ at the
 * end makes them all durable before the caller reports any.
 */
int task_claim_n(int tfd, const char *agent, long n, jv *tasks);
/* claimed -> done (result: JSON or null) or failed (reason).  0, or -1
 * with ENOENT when it is not claimed. */
int task_finish(int tfd, const char *id, int failed, jv extra);
/* claimed -> pending, back in its place in the order.  0, -1 (ENOENT). */
int task_release(int tfd, const char *id);

/*
 * Is a claimed task's claim stale: older than max_ms (1), or its agent
 * has ended (2)?  0 when not.  why gets "claimed by A, 7m".
 */
int task_claim_stale(struct project *p, jv task, int64_t now, int64_t max_ms,
    char *why, size_t cap);

#endif
