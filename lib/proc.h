/*
 * proc.h - process identity.  A pid alone names nothing for long: pids
 * are reused.  A process is named by its pid, its start time in clock
 * ticks since boot (field 22 of /proc/PID/stat) and the boot id, and no
 * signal is sent before all three are proven to match, with a pidfd
 * pinning the process between the proof and the signal.
 */
#ifndef AG_PROC_H
#define AG_PROC_H

#include <sched.h>
#include <sys/types.h>

struct proc_id {
	pid_t pid;
	unsigned long long start;       /* ticks since boot */
	char boot[40];                  /* /proc/sys/kernel/random/boot_id */
};

/* Fill id for a live pid.  Returns 0, or -1 (ESRCH when it is gone). */
int proc_identify(pid_t pid, struct proc_id *id);
/* This boot's id (read once, then kept), or "unknown". */
const char *proc_boot_id(void);
/* "START BOOTID PID" text, as stored in an agent's pidstart file; parsing
 * it for another pid fails with ESRCH. */
void proc_id_format(const struct proc_id *id, char *buf, size_t cap);
int proc_id_parse(pid_t pid, const char *text, struct proc_id *id);
/* 1 if the process named by id is alive (not a zombie reaped and reused),
 * 0 if it is gone or its pid now names another process, -1 on error. */
int proc_alive(const struct proc_id *id);
/*
 * Send sig to the process group led by id->pid, after proving that the
 * leader is still the process named by id.  Returns 0 when sent, 1 when
 * the process is gone or was reused (nothing is sent), -1 on error.
 */
int proc_kill_group(const struct proc_id *id, int sig);

/*
 * 1 when the machine has room for work that can wait: fewer tasks running
 * besides the caller than half the CPUs online (/proc/loadavg's count of
 * running tasks, taken as it is read).  0 when it is busier; 1 when it
 * cannot tell.
 */
int proc_cpu_room(void);

/*
 * Keep the caller, and the processes it makes from now on, on the CPU it
 * runs on, and save the CPUs it may run on in *saved.  For a hand-over
 * to a new process (a monitor's to its agent, which runs while the
 * monitor sleeps): on the same CPU it is a context switch; on another, it
 * may wake that CPU, which an idle virtual CPU pays for with hundreds of
 * microseconds.  Returns 1 when pinned; 0 when not (one CPU allowed
 * anyway, or refused), and nothing changed.
 */
int proc_pin_here(cpu_set_t *saved);
/* Back to the CPUs in *saved; where none of them may be had any more
 * (taken offline, or out of the cpuset), to every CPU allowed. */
void proc_unpin(const cpu_set_t *saved);

#endif
