/*
 * launch.h - starting an agent under its monitor.
 *
 * agent_start forks the monitor M (agent_launch, for ag-spawn, clones it
 * into the spawner's memory instead).  M makes its own session, drops
 * every descriptor it inherited, and starts the agent A with
 * clone(CLONE_VM|CLONE_VFORK), as posix_spawn does: no copy-on-write
 * faults, which cost dearly in a VM.  A makes its own session and process
 * group, inherits stdin (/dev/null), stdout and stderr (output.log) from
 * M, has its pid and start time recorded (by itself, or by the spawner,
 * which reads its pid where the kernel puts it for M, or from A's word),
 * and only then execs: the command never runs untracked.  (The spawner
 * may record it before A has made its group: ag-stop signals the pid
 * alone then, which is all there is of the agent yet.)  A status of running without a pid file means "starting".
 * A failed exec is recorded by M as failed with 126/127.
 *
 * M waits for A with SIGCHLD and sigtimedwait (no polling), enforces the
 * timeout (SIGTERM to the group, SIGKILL after the grace period), touches
 * heartbeat, records the end (agent_finish), and runs the queue scheduler
 * when the end can let queued agents start.  M holds the agent's lock
 * until the end is recorded (then lets go at once: ag-wait blocks on it),
 * so a kill -9 of M leaves nothing stale: the lock is simply free while
 * the status says running, which is how the watchdog knows M is gone.
 */
#ifndef AG_LAUNCH_H
#define AG_LAUNCH_H

#include <sys/types.h>

#include "agent.h"
#include "project.h"

/*
 * Start the agent of a published directory whose status (running),
 * started and [START] frame are written (a queued agent whose turn has
 * come): fork M, which starts A; A records its pid and pidstart before
 * it execs.  lockfd is the agent's held lock; M inherits it and the
 * caller closes its copy.  Returns M's pid (a child of the caller, which
 * it need not wait for), or -1.
 */
pid_t agent_start(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s);

/*
 * Start an agent whose directory is not published yet, so that the
 * start overlaps the writing of its files and a script may read pid the
 * moment the id is printed:
 *
 *   agent_launch        start M at once, in our memory (clone(CLONE_VM):
 *                       no page tables to copy); write monitor, heartbeat
 *   ...                 the caller writes the agent's other files
 *   agent_launch_ready  wait for A's pid, and record pid and pidstart
 *   publish             rename the directory to its id
 *   exit                A sees the link close, finds its directory
 *                       published, and execs the command
 *
 * or, when the directory cannot be published, agent_launch_abort: A
 * leaves without running anything, and it returns once M has gone, so
 * that nothing writes into the directory any more.  A caller that exits (or is killed)
 * without publishing runs nothing either.  Before publishing, a failure
 * records nothing: the caller reports it (agent_launch_ready returns -1)
 * and removes the directory.  M reads the project and the spec where the
 * caller keeps them: it must not free or change them, and once it has
 * published it leaves by agent_launch_exit.
 */
struct launch {
	pid_t m;                /* the monitor */
	int link;               /* our end of the socket A answers on */
	int dirfd;              /* the agent's directory */
	void *map;              /* M's stack, when not carved out of ours */
};
int agent_launch(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s, struct launch *l);
int agent_launch_ready(struct launch *l);
void agent_launch_abort(struct launch *l);
/*
 * Leave once published, with no malloc and no stdio on the way out: M
 * shares our memory.  (_exit, or exit under ASan, for the leak check.)
 */
_Noreturn void agent_launch_exit(int code);
/*
 * ag-monitor: a monitor built without libjq (ag-spawn's: jvnone.c) runs
 * this helper, built with it, to write its agent's end; the helper
 * carries on watching the agent, which is still its child, from the
 * state on its command line (made by launch.c alone).
 */
_Noreturn void monitor_resume(int argc, char **argv);
/* Append the [START] and Task: lines to output.log. */
int agent_write_header(int dirfd, const struct agent_spec *s);
/*
 * Find cmd as execvp(3) would, on the PATH of envp: 0 and *out the path
 * (malloc'd; NULL when cmd holds a '/'), or ENOENT (not found) or EACCES
 * (found, not executable).  Lets a spawn refuse a command that cannot run
 * without starting anything.
 */
int command_resolve(const char *cmd, char **envp, char **out);
/*
 * When path is a script, check the interpreter its #! line names as the
 * exec will (and its interpreter's, when that is a script too): 0, or the
 * errno the exec would fail with (ENOENT, EACCES, ...) and the
 * interpreter's name in interp.  A "#!/bin/sh\r" line from a DOS editor
 * names "/bin/sh\r", which is not found.
 */
int command_interp_check(const char *path, char *interp, size_t size);
/* Exit code for an exec errno: 127 not found, 126 not executable. */
int exec_errno_code(int e);

#endif
