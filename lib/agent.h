/*
 * agent.h - one agent's directory, .project/agents/ID/ (SPEC 2, 3).
 *
 * The files: status cmd argv role parent session description cwd timeout
 * grace queue after environ started ended exit pid pidstart lock heartbeat
 * (which holds the monitor's pid) output.log result.json stop cost
 * claude_session billed summary.
 * Whoever changes an agent's status holds its "lock": the monitor for the
 * agent's whole life, until the final status is written (so a free lock on
 * a running agent means its monitor is gone), anyone else briefly with
 * LOCK_NB.  ag-wait blocks on it with LOCK_SH, running agents only.
 */
#ifndef AG_AGENT_H
#define AG_AGENT_H

#include <stdint.h>
#include <sys/types.h>

#include "names.h"
#include "project.h"

enum agent_status {
	ST_UNKNOWN = 0, ST_QUEUED, ST_RUNNING, ST_COMPLETED, ST_FAILED,
	ST_TIMEOUT, ST_STOPPED, ST_LOST,
};

const char *status_name(enum agent_status st);
enum agent_status status_parse(const char *s);
int status_is_final(enum agent_status st);

/* What an agent is: everything needed to start it. */
struct agent_spec {
	char id[AG_ID_MAX + 1];
	char parent[AG_ID_MAX + 1];     /* "" when top-level */
	char role[AG_NAME_MAX + 1];
	char session[AG_NAME_MAX + 1];  /* "" when none */
	char queue[AG_NAME_MAX + 1];    /* "" when none */
	char *description;              /* NULL when none */
	char **argv;                    /* NULL-terminated */
	char *exec_path;                /* argv[0] resolved on PATH, or NULL */
	char **envp;                    /* the agent's whole environment */
	char *cwd;
	int64_t timeout_ms;             /* 0: none */
	int64_t grace_ms;
	char **after;                   /* NULL-terminated, or NULL */
	int64_t started_ms;
	int owned;                      /* strings are malloc'd (loaded) */
};

#define AG_GRACE_DEFAULT_MS 10000

/* Open .project/agents/ID; -1 with ENOENT when there is no such agent. */
int agent_open(struct project *p, const char *id);
enum agent_status agent_status_at(int dirfd);
/*
 * Replace the status file and touch the agent directory, so that one
 * inotify watch on agents/ (IN_ATTRIB) sees every status change.  The new
 * file is swapped in (atomic_swap_at: no flush first on ext4); with old,
 * the file now holding the previous status is left for the caller to
 * unlink when it likes (old[0] == '\0': none), else it is unlinked here.
 */
int agent_status_set(int dirfd, enum agent_status st, int flags, char *old,
    size_t cap);

/*
 * An ended agent's "summary": what ag-ps shows of it, in one file rather
 * than five (started, ended, exit, role, and the last [PROGRESS] of
 * output.log).  Two lines: "STARTED_MS ENDED_MS EXIT ROLE" (ms since the
 * epoch, -1 when unknown; EXIT -1 when there is none) and the progress
 * text (empty when none).  The end writes it once the status is final,
 * from the values it has just written; it is never changed after.  A
 * cache: where it is missing (an end cut short, an agent ended by an
 * older ag) or unreadable, a reader reads those files instead.
 */
struct agent_summary {
	int64_t started, ended;
	int exit_code;
	char role[AG_NAME_MAX + 1];
	char progress[200];
};
/* 0, or -1 when there is no summary that parses. */
int agent_summary_read(int dirfd, struct agent_summary *s);

/*
 * Write the spec into a directory nobody sees yet (an agent's temporary
 * directory): cmd (and argv where cmd cannot hold the command exactly)
 * role parent session description cwd timeout grace queue after, plus
 * environ (mode 0600) when the agent is queued, since whoever starts it
 * later must give it the environment it was spawned with.
 */
int agent_spec_create(int dirfd, const struct agent_spec *s, int queued);
/*
 * Spare agent directories, .project/.spare.0 to .spare.3: each holds the
 * files every started agent has (lock, cmd, role, cwd, started,
 * output.log, status, heartbeat, pid, pidstart), made empty
 * ahead of time.  Creating a file costs an inode allocation (15-300 us on
 * ext4, the most after many deletions); a spawn that takes a spare only
 * fills them.  A monitor makes one, when a slot is free, once its agent
 * has run a little (or has ended).
 *
 * agent_spare_make: fill a free slot (0 also when none is free), or -1.
 * agent_spare_take: rename a spare to agents/TMP and return its fd, or -1
 * (ENOENT: none; the caller makes its directory itself).
 */
#define AG_SPARE ".spare"
#define AG_SPARES 4
int agent_spare_make(struct project *p);
int agent_spare_take(struct project *p, const char *tmp);
/* Load a queued agent's spec back; free with agent_spec_free. */
int agent_spec_load(int dirfd, const char *id, struct agent_spec *s);
void agent_spec_free(struct agent_spec *s);
/* The "Task:" text: the description, else the command line. */
char *agent_task_text(const struct agent_spec *s);

/* How an agent ended. */
struct agent_end {
	enum agent_status status;
	int exit_code;          /* -1: none (it never ran) */
	int64_t ended_ms;
	const char *reason;     /* NULL, or why it stopped/failed/was lost */
	const struct agent_spec *spec;  /* what the caller knows, or NULL:
					 * then it is read from the files */
	int *unlock;            /* NULL, or the agent's lock, closed (and set
				 * to -1) the moment the status is final */
};

/*
 * Record an agent's end: the framing line in output.log, result.json,
 * exit, ended, then status (which wakes waiters), then one fsync of the
 * directory so that the final record survives a power loss; then, with
 * p, the agent_end billing event (SPEC 6).  The caller holds the agent's
 * lock; with e->unlock, it is let go as soon as the status is final, so
 * that a waiter blocked on it (ag-wait) wakes before the fsync.
 */
int agent_finish(struct project *p, int dirfd, const char *id,
    const struct agent_end *e);

/*
 * For a running agent whose monitor may have died (kill -9, a crash, a
 * reboot): returns 0 when there is nothing to do (the monitor holds the
 * lock, or the agent is not running), 1 when the agent was recorded lost
 * just now (monitor and process both gone), 2 when the monitor is gone but
 * the agent's process still lives (*proc names it), -1 on error.  Once
 * lost, its queue slot is freed and a scheduler pass runs.
 */
struct proc_id;
int agent_check_lost(struct project *p, int dirfd, const char *id,
    struct proc_id *proc);
/* Read the pid and pidstart files into *proc; 0 or -1. */
int agent_proc_id(int dirfd, struct proc_id *proc);
/* The monitor's pid, from heartbeat (or from the monitor file of an agent
 * spawned before heartbeat held it), or -1.  Only ever a hint: the pid may
 * be another process's by now. */
pid_t agent_monitor_pid(int dirfd);

#endif
