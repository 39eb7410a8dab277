/*
 * launch.h - starting an agent under its monitor.
 *
 * agent_launch forks the monitor M (its own session, stdin /dev/null,
 * stdout and stderr to output.log, every other fd closed), which writes
 * the [START] frame and forks the agent A (its own session and process
 * group).  A waits, before exec, until agent_release says go, so that the
 * caller can publish the agent directory (rename it into place, write
 * status running) with its pid already in it: no reader ever sees a
 * running agent without a pid.  agent_release then reports whether the
 * exec succeeded; a failed exec is recorded by M as failed with 126/127.
 *
 * M waits for A with SIGCHLD and sigtimedwait (no polling), enforces the
 * timeout (SIGTERM to the group, SIGKILL after the grace period), touches
 * heartbeat, records the end (agent_finish), and runs the queue scheduler
 * when the end can let queued agents start.  M holds the agent's lock for
 * its whole life, so a kill -9 of M leaves nothing stale: the lock is
 * simply free, which is how the watchdog knows M is gone.
 */
#ifndef AG_LAUNCH_H
#define AG_LAUNCH_H

#include <sys/types.h>

#include "agent.h"
#include "proc.h"
#include "project.h"

struct launch {
	pid_t monitor;
	pid_t agent;
	int go_fd;              /* write end: 'g' lets A exec */
	int ready_fd;           /* read end: A's pid, then exec errno or EOF */
};

#define LAUNCH_TEMP 1   /* dirfd is an unpublished directory: create files */

/*
 * Fork M and A.  lockfd is the agent's held lock; M inherits it.  Writes
 * pid, pidstart and monitor into dirfd (and, without LAUNCH_TEMP, started
 * and status running too).  Returns 0, or -1 with errno.
 */
int agent_launch(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s, int flags, struct launch *l);
/* Let A exec.  Returns 0 when it did, the exec errno when it failed, -1
 * when the handshake broke (errno set). */
int agent_release(struct launch *l);
/* The publish failed: kill the held A and M (both provably ours: A is
 * blocked before exec, M is our unreaped child) and reap M. */
void agent_abort(struct launch *l);
/* Wait until M has exited (after a failed exec, so the record is final). */
void agent_wait_monitor(struct launch *l);

/* Exit code for an exec errno: 127 not found, 126 not executable. */
int exec_errno_code(int e);

#endif
