#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/wait.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "json.h"
#include "launch.h"
#include "proc.h"
#include "sched.h"

#define HEARTBEAT_DEFAULT_MS (30 * 1000)
#define CHILD_STACK (256 * 1024)
/* How long an agent runs before its monitor does what can wait: load
 * libjq, make the spare directory.  Not at once, and not while the
 * machine is busy (proc_cpu_room): in a loop of spawns that work would
 * take the CPU from the next one.  A busy machine puts it off, for twice
 * as long each time, until it has waited SETTLE_MAX_MS: then it is done
 * anyway (a machine busy that long is busy with more than spawns). */
#define SETTLE_MS 20
#define SETTLE_MAX_MS 1000

/* jvlazy.c's, in the commands that load libjq lazily; NULL in the others,
 * which have it loaded from the start. */
extern int jv_lazy_load(void) __attribute__((weak));

#if defined(__SANITIZE_ADDRESS__)
#define AG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AG_ASAN 1
#endif
#endif
#ifdef AG_ASAN
#include <sanitizer/asan_interface.h>
#define STACK_FRESH(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#endif
#ifndef STACK_FRESH
#define STACK_FRESH(p, n) ((void)(p), (void)(n))
#endif

extern char **environ;

int
command_resolve(const char *cmd, char **envp, char **out)
{
	const char *path = NULL, *p, *colon;
	size_t clen = strlen(cmd);
	struct stat st;
	int seen_eacces = 0, i;
	char *cand;

	*out = NULL;
	if (!*cmd)
		return ENOENT;
	if (strchr(cmd, '/')) {
		if (stat(cmd, &st) < 0)
			return errno;
		if (!S_ISREG(st.st_mode) || access(cmd, X_OK) < 0)
			return EACCES;
		return 0;
	}
	for (i = 0; envp[i]; i++)
		if (!strncmp(envp[i], "PATH=", 5))
			path = envp[i] + 5;
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p = colon + 1) {
		size_t dlen;

		colon = strchr(p, ':');
		dlen = colon ? (size_t)(colon - p) : strlen(p);
		if (!(cand = malloc(dlen + clen + 3)))
			return ENOMEM;
		if (dlen == 0) {
			cand[0] = '.';
			dlen = 1;
		} else {
			memcpy(cand, p, dlen);
		}
		cand[dlen] = '/';
		memcpy(cand + dlen + 1, cmd, clen + 1);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0) {
				*out = cand;
				return 0;
			}
			seen_eacces = 1;
		}
		free(cand);
		if (!colon)
			break;
	}
	return seen_eacces ? EACCES : ENOENT;
}

/*
 * Linux reads this much of a file to find its #! line (BINPRM_BUF_SIZE),
 * and runs a chain of at most this many scripts, each the interpreter of
 * the one before (a sixth is ELOOP).
 */
#define SHEBANG_BUF 256
#define SHEBANG_DEPTH 5

static int
spacetab(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The interpreter the #! line of path names, cut out as the kernel does
 * (binfmt_script): 1 and the name in out, or 0 for a file that is not a
 * script to the kernel, or that we cannot read (exec does not need to).
 */
static int
shebang_of(const char *path, char *out, size_t size)
{
	char buf[SHEBANG_BUF], *end, *name, *sep;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return 0;
	memset(buf, 0, sizeof buf);     /* as the kernel's: zeros past EOF */
	do
		n = pread(fd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	if (!(end = memchr(buf, '\n', sizeof buf))) {
		/* No newline: the name must end inside what was read. */
		for (name = buf + 2; name < buf + sizeof buf && spacetab(*name);
		    name++)
			;
		for (sep = name; sep < buf + sizeof buf && !spacetab(*sep) &&
		    *sep; sep++)
			;
		if (name == buf + sizeof buf || sep == buf + sizeof buf)
			return 0;
		end = buf + sizeof buf - 1;
	}
	while (end > buf + 2 && spacetab(end[-1]))
		end--;
	for (name = buf + 2; name < end && spacetab(*name); name++)
		;
	for (sep = name; sep < end && !spacetab(*sep) && *sep; sep++)
		;
	if (sep == name || (size_t)(sep - name) >= size)
		return 0;
	memcpy(out, name, (size_t)(sep - name));
	out[sep - name] = '\0';
	return 1;
}

int
command_interp_check(const char *path, char *interp, size_t size)
{
	char name[2][SHEBANG_BUF];
	const char *at = path;
	struct stat st;
	int depth, e;

	for (depth = 0; depth < SHEBANG_DEPTH; depth++) {
		char *next = name[depth & 1];

		if (!shebang_of(at, next, sizeof name[0]))
			return 0;
		if (stat(next, &st) < 0)
			e = errno;
		else if (!S_ISREG(st.st_mode))
			e = EACCES;
		else if (access(next, X_OK) < 0)
			e = errno;
		else {
			at = next;
			continue;
		}
		snprintf(interp, size, "%s", next);
		return e;
	}
	return 0;               /* deeper: the exec's to judge */
}

int
exec_errno_code(int e)
{
	return (e == ENOENT || e == ENOTDIR) ? AG_EXIT_NOTFOUND :
	    AG_EXIT_NOEXEC;
}

/*
 * exec resets caught signals but keeps ignored ones: give the agent the
 * default disposition of every signal a caller or the monitor may have
 * ignored (a shell's background job ignores INT and QUIT; M ignores HUP
 * and PIPE), and an empty mask.  Not all 64: each is a syscall.
 */
static void
reset_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM,
	    SIGALRM, SIGUSR1, SIGUSR2, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU,
	    SIGXFSZ };
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
open_log(int dirfd)
{
	return openat(dirfd, "output.log", O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0644);
}

/*
 * The CPUs M may run on, while it keeps itself and A on one to start A
 * (proc_pin_here): A goes back to them before its exec, M once A has
 * exec'd.  In M's memory, which A shares.
 */
static struct {
	int on;
	cpu_set_t saved;
} pin;

/*
 * A's pid, which the kernel writes here as it makes A (CLONE_PARENT_SETTID):
 * in M's memory, and so in the spawner's when M is its clone.  The
 * spawner reads it there the moment A exists, rather than wait to be
 * woken by A's word (agent_launch_ready): on a virtual machine a wake-up
 * on the other CPU costs 100 us and more.  0 until then.
 */
static pid_t a_pid;

/* What M hands A across clone(CLONE_VM|CLONE_VFORK): A runs in M's
 * memory until it execs, so it reports a failure here. */
struct child_args {
	int dirfd;
	int agents;             /* the agents directory, for the publish check */
	const struct agent_spec *s;
	const char *path;       /* the command, resolved */
	int link;               /* agent_launch: A's end of the starter's link */
	int err;                /* set by A when it did not get to exec */
};

/* "ag-spawn: WHAT ARG: strerror(e)", one line in one write (ARG's
 * control characters spelled out). */
static void
put_msg(const char *what, const char *arg, int e)
{
	const char *why = strerror(e);
	char shown[1024];
	size_t n = ag_escape(shown, sizeof shown, arg, strlen(arg));
	struct iovec v[7] = { { (void *)ag_prog, strlen(ag_prog) },
	    { ": ", 2 }, { (void *)what, strlen(what) },
	    { shown, n }, { ": ", 2 },
	    { (void *)why, strlen(why) }, { "\n", 1 } };

	if (writev(2, v, 7) < 0) {
		/* output.log unwritable: the exit code still tells */
	}
}

/*
 * A leaves without running anything.  Not _exit: A runs on a stack of
 * our own, and ASan warns at every call of a noreturn function there.
 * A is a process of one thread, so exit_group is _exit.
 */
static void
child_exit(int code)
{
	syscall(SYS_exit_group, code);
}

/*
 * agent_launch: A tells the starter its pid ("r<pid>\n": the starter
 * records it, and its start time, while A waits), then waits for the
 * starter to go.  A word ('x': the directory could not be published)
 * means do not run.  The starter's exit, with no word, leaves the
 * question to the tree: A runs only if its directory is published under
 * the agent's id, which holds whether the starter exited normally or was
 * killed after publishing.  The starter may have read our pid from
 * a_pid and gone before our word: a word that finds nobody (EPIPE), or
 * a link closed with it unread (ECONNRESET), leaves it to the tree too.
 */
static int
await_go(struct child_args *c)
{
	struct stat mine, named;
	char w, msg[32];
	ssize_t n;
	int len;

	len = snprintf(msg, sizeof msg, "r%d\n", (int)getpid());
	if (send(c->link, msg, (size_t)len, MSG_NOSIGNAL) == len) {
		do
			n = read(c->link, &w, 1);
		while (n < 0 && errno == EINTR);
	} else {
		n = -1;
	}
	if (n == 1)
		return 0;               /* 'x' */
	return fstat(c->dirfd, &mine) == 0 &&
	    fstatat(c->agents, c->s->id, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	    mine.st_ino == named.st_ino && mine.st_dev == named.st_dev;
}

/*
 * A: the agent, between clone and exec, on its own small stack and in
 * M's memory (no copy-on-write: a fault costs dearly in a VM, and a fresh
 * fork faults on every page it touches).  It makes its own session and
 * process group; stdin (/dev/null), stdout and stderr (output.log) are
 * M's.  It records its own pid and start time, and only then execs: the
 * command never runs untracked.
 */
static int
agent_child(void *arg)
{
	struct child_args *c = arg;
	const struct agent_spec *s = c->s;
	struct proc_id id;
	char pid[32], start[96];
	int e;

	if (setsid() < 0)
		goto fail;
	/* Everything but 0, 1 and 2 closes at exec (the fd table is our own). */
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (c->link >= 0) {
		/* The starter records pid and pidstart: off our way to the
		 * exec, onto its, which has time to spare. */
		if (!await_go(c)) {
			c->err = ECANCELED;
			child_exit(AG_EXIT_FAIL);
			return 0;
		}
	} else {
		/* A queued agent, published: we record our own. */
		if (proc_identify(getpid(), &id) < 0)
			goto fail;
		snprintf(pid, sizeof pid, "%d", (int)getpid());
		proc_id_format(&id, start, sizeof start);
		if (atomic_puts_at(c->dirfd, "pid", pid, 0) < 0 ||
		    atomic_puts_at(c->dirfd, "pidstart", start, 0) < 0)
			goto fail;
	}
	if (pin.on)
		proc_unpin(&pin.saved);
	reset_signals();
	if (s->cwd && chdir(s->cwd) < 0) {
		e = errno;
		put_msg("cannot enter ", s->cwd, e);
		child_exit(exec_errno_code(e));
		return 0;
	}
	execve(c->path, s->argv, s->envp);
	if (errno == ENOEXEC) {
		/* As execvp does: a script without #! goes to the shell. */
		size_t n = 0;

		while (s->argv[n])
			n++;
		{
			char *sh[n + 2];

			sh[0] = "sh";
			sh[1] = (char *)c->path;
			memcpy(sh + 2, s->argv + 1, n * sizeof *sh);
			execve("/bin/sh", sh, s->envp);
		}
		errno = ENOEXEC;
	}
	e = errno;
	put_msg("cannot execute ", s->argv[0], e);
	child_exit(exec_errno_code(e));
	return 0;
fail:
	c->err = errno ? errno : EIO;
	child_exit(AG_EXIT_FAIL);
	return 0;
}

int
agent_write_header(int dirfd, const struct agent_spec *s)
{
	char ts[AG_TS_LEN], *task = agent_task_text(s), *line;
	int n, fd, r = -1, e;

	ts_format(s->started_ms, ts);
	n = asprintf(&line, "[START] %s\nTask: %s\n", ts, task ? task : "");
	free(task);
	if (n < 0)
		return -1;
	if ((fd = open_log(dirfd)) >= 0) {
		r = write_all(fd, line, (size_t)n);
		e = errno;
		if (close(fd) < 0 && r == 0)
			r = -1;
		else
			errno = e;
	}
	free(line);
	return r;
}

static int64_t
heartbeat_interval(void)
{
	const char *e = getenv("AG_HEARTBEAT");
	int64_t ms;

	if (e && duration_parse(e, &ms) == 0 && ms >= 10)
		return ms;
	return HEARTBEAT_DEFAULT_MS;
}

/*
 * What M keeps of its agent while it watches it, all of it numbers that
 * mean the same in another process: times on CLOCK_MONOTONIC (ms), and
 * A, M's child, still its child after M execs (monitor_handoff).
 */
struct watch {
	pid_t a;
	int64_t began;          /* when A started */
	int64_t deadline;       /* of the timeout, or -1 */
	int64_t kill_at;        /* SIGKILL after SIGTERM, or -1 */
	int64_t hb_next, hb_every;
	int64_t settle_at;      /* -1 once settled */
	int64_t settle_wait;
	int timed_out;
};

/*
 * The command line of the helper ag-monitor, which a monitor built
 * without libjq runs to write its agent's end (monitor_handoff), and
 * which hands it back to monitor_resume: what M knows of the agent and
 * of its watch, as strings.  Times are CLOCK_MONOTONIC ms, the same in
 * both; the descriptors are M's, kept open across the exec.
 */
enum {
	HO_PROG, HO_ID, HO_PARENT, HO_ROLE, HO_SESSION, HO_QUEUE, HO_PROJECT,
	HO_GAVE_UP,             /* A never ran: why; else "" */
	HO_NUM,                 /* the numbers, from here to the end */
	HO_PFD = HO_NUM, HO_AFD, HO_DIRFD, HO_LOCKFD, HO_A, HO_BEGAN,
	HO_DEADLINE, HO_KILL_AT, HO_HB_NEXT, HO_HB_EVERY, HO_TIMED_OUT,
	HO_SETTLED, HO_TIMEOUT, HO_GRACE, HO_STARTED,
	HO_ARGC
};

#ifdef AG_NOJQ
/*
 * A build without libjq (jvnone.c): M cannot write the end, which is
 * JSON.  It runs the helper ag-monitor instead (ag_libexec_path),
 * which carries on from where we are (monitor_resume):
 * when the agent has settled (that is the work that can wait, as loading
 * libjq is in a build with it), or at the agent's end if that comes
 * first, or to record an agent that never ran (gave_up).  The descriptors
 * it needs lose their close-on-exec; the lock goes with its descriptor,
 * so it stays held.  Returns only if the helper cannot be run, having
 * said why (in output.log).
 */
static void
monitor_handoff(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s, const struct watch *w, int settled,
    const char *gave_up)
{
	char path[4400], num[HO_ARGC - HO_NUM][24], *argv[HO_ARGC + 1];
	const int64_t v[HO_ARGC - HO_NUM] = { p->fd, p->agents, dirfd, lockfd,
	    w->a, w->began, w->deadline, w->kill_at, w->hb_next, w->hb_every,
	    w->timed_out, settled, s->timeout_ms, s->grace_ms, s->started_ms };
	size_t i;

	if (ag_libexec_path(path, sizeof path, "ag-monitor") < 0) {
		ag_warn("cannot find ag-monitor");
		return;
	}
	/* The descriptors: v's first four, HO_PFD to HO_LOCKFD. */
	for (i = 0; i < 4; i++)
		if (v[i] >= 0 && fcntl((int)v[i], F_SETFD, 0) < 0) {
			ag_warn("cannot hand the agent to %s", path);
			return;
		}
	argv[HO_PROG] = (char *)ag_prog;
	argv[HO_ID] = (char *)s->id;
	argv[HO_PARENT] = (char *)s->parent;
	argv[HO_ROLE] = (char *)s->role;
	argv[HO_SESSION] = (char *)s->session;
	argv[HO_QUEUE] = (char *)s->queue;
	argv[HO_PROJECT] = p->path;
	argv[HO_GAVE_UP] = (char *)(gave_up ? gave_up : "");
	for (i = 0; i < HO_ARGC - HO_NUM; i++) {
		snprintf(num[i], sizeof num[i], "%lld", (long long)v[i]);
		argv[HO_NUM + i] = num[i];
	}
	argv[HO_ARGC] = NULL;
	execve(path, argv, environ);
	ag_warn("cannot run %s", path);
	for (i = 0; i < 4; i++)
		if (v[i] >= 0)
			fcntl((int)v[i], F_SETFD, FD_CLOEXEC);
}
#endif

/* M records an agent that never got to run. */
static _Noreturn void
monitor_give_up(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s, const char *what, int e)
{
	struct agent_end end;
	char reason[256];

	if (e)
		snprintf(reason, sizeof reason, "%s: %s", what, strerror(e));
	else
		snprintf(reason, sizeof reason, "%s", what);
#ifdef AG_NOJQ
	{
		/* The end is JSON: the helper writes it. */
		struct watch none;

		memset(&none, 0, sizeof none);
		monitor_handoff(p, dirfd, lockfd, s, &none, 0, reason);
		_exit(AG_EXIT_FAIL);
	}
#endif
	memset(&end, 0, sizeof end);
	end.status = ST_FAILED;
	end.exit_code = -1;
	end.ended_ms = clock_wall_ms();
	end.reason = reason;
	if (agent_finish(p, dirfd, s->id, &end) < 0)
		ag_warn("cannot record the end of agent %s", s->id);
	sched_after_end(p, s->id, s->queue);
	_exit(AG_EXIT_FAIL);
}

/*
 * Whether the work that can wait is due at now: the machine has room for
 * it, or it has been put off since 'since' for SETTLE_MAX_MS.  If not,
 * *wait doubles and is how long to put it off again.
 */
static int
settle_due(int64_t now, int64_t since, int64_t *wait)
{
	if (now - since >= SETTLE_MAX_MS || proc_cpu_room())
		return 1;
	*wait *= 2;
	return 0;
}

/*
 * M watches A: waits for it, enforces its timeout, beats the heartbeat,
 * settles, and records its end.  Never returns.
 */
static _Noreturn void
monitor_watch(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s, struct watch *w)
{
	struct agent_end end;
	char reason[512];
	int64_t now;
	siginfo_t si;
	sigset_t chld;
	int stopped, code;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		struct timespec ts;
		int64_t wake;

		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)w->a, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == w->a)
			break;
		now = clock_mono_ms();
		if (w->deadline >= 0 && !w->timed_out && now >= w->deadline) {
			w->timed_out = 1;
			kill(-w->a, SIGTERM);
			w->kill_at = now + s->grace_ms;
			continue;
		}
		if (w->kill_at >= 0 && now >= w->kill_at) {
			kill(-w->a, SIGKILL);
			w->kill_at = -1;
			continue;
		}
		if (now >= w->hb_next) {
			utimensat(dirfd, "heartbeat", NULL, 0);
			w->hb_next = now + w->hb_every;
			continue;
		}
		if (w->settle_at >= 0 && now >= w->settle_at) {
			/* The agent runs, and our spawner is long gone: what
			 * the end will need (libjq, in a lazily linked
			 * command, used once), and the next spawn, now.  A
			 * libjq that cannot load is left to the end to say. */
			if (!settle_due(now, w->began, &w->settle_wait)) {
				w->settle_at = now + w->settle_wait;
				continue;
			}
			w->settle_at = -1;
#ifdef AG_NOJQ
			monitor_handoff(p, dirfd, lockfd, s, w, 1, NULL);
			continue;       /* the end will try again */
#else
			if (!jv_lazy_load || jv_lazy_load() == 0)
				json_warm();
			agent_spare_make(p);
			continue;
#endif
		}
		wake = w->hb_next;
		if (w->settle_at >= 0 && w->settle_at < wake)
			wake = w->settle_at;
		if (w->deadline >= 0 && !w->timed_out && w->deadline < wake)
			wake = w->deadline;
		if (w->kill_at >= 0 && w->kill_at < wake)
			wake = w->kill_at;
		ts.tv_sec = (wake - now) / 1000;
		ts.tv_nsec = (long)((wake - now) % 1000) * 1000000L;
		sigtimedwait(&chld, NULL, &ts);
	}
#ifdef AG_NOJQ
	/* A short agent, ended before it settled, or a settled one whose
	 * helper could not run then. */
	monitor_handoff(p, dirfd, lockfd, s, w, 0, NULL);
	/* Unrecorded: our exit frees the lock, and the agent is found
	 * lost (ag-wait, the watchdog). */
	_exit(AG_EXIT_FAIL);
#endif
	/* A is a zombie now and still holds its pid and group id: the group
	 * may be signalled safely until we reap it.  A timed-out or stopped
	 * agent leaves nothing of its group behind. */
	stopped = read_line_at(dirfd, "stop", reason, sizeof reason) == 0;
	if (w->timed_out || stopped)
		kill(-w->a, SIGKILL);
	memset(&si, 0, sizeof si);
	while (waitid(P_PID, (id_t)w->a, &si, WEXITED) < 0 && errno == EINTR)
		;
	code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;

	memset(&end, 0, sizeof end);
	end.ended_ms = clock_wall_ms();
	end.exit_code = code;
	if (stopped) {
		end.status = ST_STOPPED;
		end.reason = reason[0] ? reason : "stopped";
	} else if (w->timed_out) {
		char d[32];

		end.status = ST_TIMEOUT;
		end.exit_code = AG_EXIT_TIMEOUT;
		duration_format(s->timeout_ms, d, sizeof d);
		snprintf(reason, sizeof reason, "after %s", d);
		end.reason = reason;
	} else {
		end.status = code == 0 ? ST_COMPLETED : ST_FAILED;
	}
	end.spec = s;
	end.unlock = &lockfd;
	if (agent_finish(p, dirfd, s->id, &end) < 0)
		ag_warn("cannot record the end of agent %s", s->id);
	/* Not recorded: the lock stays held until we exit, and the
	 * watchdog finds the agent lost then. */
	sched_after_end(p, s->id, s->queue);
	/* A short agent, ended before we settled, leaves no spare: at its
	 * end the machine is busy with its waiter, and a script that removes
	 * the project once it has waited would race the making. */
	_exit(0);
}

_Noreturn void
monitor_resume(int argc, char **argv)
{
	int64_t v[HO_ARGC - HO_NUM];
	struct agent_spec s;
	struct project p;
	struct watch w;
	char *end;
	int i;

	if (argc != HO_ARGC)
		ag_diex(AG_EXIT_USAGE, "not to be run by hand (see ag-spawn(1))");
	for (i = 0; i < HO_ARGC - HO_NUM; i++) {
		errno = 0;
		v[i] = strtoll(argv[HO_NUM + i], &end, 10);
		if (errno || end == argv[HO_NUM + i] || *end)
			ag_diex(AG_EXIT_USAGE, "bad argument '%s'",
			    argv[HO_NUM + i]);
	}
	memset(&p, 0, sizeof p);
	snprintf(p.path, sizeof p.path, "%s", argv[HO_PROJECT]);
	p.fd = (int)v[HO_PFD - HO_NUM];
	p.agents = (int)v[HO_AFD - HO_NUM];
	memset(&s, 0, sizeof s);
	snprintf(s.id, sizeof s.id, "%s", argv[HO_ID]);
	snprintf(s.parent, sizeof s.parent, "%s", argv[HO_PARENT]);
	snprintf(s.role, sizeof s.role, "%s", argv[HO_ROLE]);
	snprintf(s.session, sizeof s.session, "%s", argv[HO_SESSION]);
	snprintf(s.queue, sizeof s.queue, "%s", argv[HO_QUEUE]);
	s.timeout_ms = v[HO_TIMEOUT - HO_NUM];
	s.grace_ms = v[HO_GRACE - HO_NUM];
	s.started_ms = v[HO_STARTED - HO_NUM];
	memset(&w, 0, sizeof w);
	w.a = (pid_t)v[HO_A - HO_NUM];
	w.began = v[HO_BEGAN - HO_NUM];
	w.deadline = v[HO_DEADLINE - HO_NUM];
	w.kill_at = v[HO_KILL_AT - HO_NUM];
	w.hb_next = v[HO_HB_NEXT - HO_NUM];
	w.hb_every = v[HO_HB_EVERY - HO_NUM];
	w.timed_out = (int)v[HO_TIMED_OUT - HO_NUM];
	w.settle_at = -1;
	/* Ours again, now that the exec is behind. */
	for (i = HO_PFD; i <= HO_LOCKFD; i++)
		if (v[i - HO_NUM] >= 0)
			fcntl((int)v[i - HO_NUM], F_SETFD, FD_CLOEXEC);
	if (argv[HO_GAVE_UP][0])
		monitor_give_up(&p, (int)v[HO_DIRFD - HO_NUM],
		    (int)v[HO_LOCKFD - HO_NUM], &s, argv[HO_GAVE_UP], 0);
	if (v[HO_SETTLED - HO_NUM]) {
		/* What settling does in a build with libjq (monitor_watch). */
		json_warm();
		agent_spare_make(&p);
	}
	monitor_watch(&p, (int)v[HO_DIRFD - HO_NUM], (int)v[HO_LOCKFD - HO_NUM],
	    &s, &w);
}

/*
 * M: the monitor.  Never returns.  It starts A (which records its own pid
 * before it execs), then watches it.  With a link (agent_launch), the
 * directory is not published yet: a failure before A runs is the
 * starter's to report, and M leaves without a word.
 */
static _Noreturn void
monitor_main(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s, int link)
{
	int keep[5], devnull, logfd, e;
	struct child_args args;
	struct watch w;
	char *resolved = NULL;
	const char *what;
	sigset_t chld;
	void *stack;
	pid_t a;

#ifdef AG_NOJQ
	/* Whatever happens now, nothing here starts over (jvnone.c). */
	ag_rerun_off();
#endif
	/* First drop every descriptor inherited from the caller: a shell
	 * reading $(ag-spawn ...) waits until the last holder of its pipe
	 * lets go, and that must be ag-spawn's exit, not our work.  A
	 * inherits 0, 1 and 2 from here. */
	setsid();
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	what = "cannot open /dev/null";
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    dup2(devnull, 0) < 0)
		goto early;
	what = "cannot open output.log";
	if ((logfd = open_log(dirfd)) < 0 || dup2(logfd, 1) < 0 ||
	    dup2(logfd, 2) < 0)
		goto early;
	keep[0] = dirfd;
	keep[1] = lockfd;
	keep[2] = p->fd;
	keep[3] = p->agents;
	keep[4] = link;
	close_fds_except(keep, link >= 0 ? 5 : 4);

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	memset(&args, 0, sizeof args);
	args.dirfd = dirfd;
	args.agents = p->agents;
	args.s = s;
	args.link = link;
	args.path = s->exec_path;
	if (!args.path) {
		/* A queued agent: look it up on its own PATH, as execvp would. */
		e = command_resolve(s->argv[0], s->envp, &resolved);
		args.path = e ? s->argv[0] : resolved ? resolved : s->argv[0];
	}
	what = "cannot map a stack";
	stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		goto early;
	/* ASan's shadow may still hold the poison of an earlier mapping at
	 * this address: the stack is new, say so. */
	STACK_FRESH(stack, CHILD_STACK);
	/* M sleeps until A has exec'd or exited: A takes M's CPU, rather
	 * than one that may have to be woken (see proc_pin_here). */
	pin.on = proc_pin_here(&pin.saved);
	a = clone(agent_child, (char *)stack + CHILD_STACK,
	    CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID | SIGCHLD, &args,
	    &a_pid);
	e = errno;
	munmap(stack, CHILD_STACK);
	if (pin.on) {
		proc_unpin(&pin.saved);
		pin.on = 0;
	}
	if (link >= 0)
		close(link);
	what = "cannot start the agent";
	if (a < 0) {
		errno = e;
		goto early;
	}
	if (args.err) {
		while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
			;
		if (link >= 0)
			_exit(AG_EXIT_FAIL);    /* errno is the starter's too */
		what = "cannot record the agent's pid";
		errno = args.err;
		goto early;
	}

	memset(&w, 0, sizeof w);
	w.a = a;
	w.began = clock_mono_ms();
	w.hb_every = heartbeat_interval();
	w.hb_next = w.began + w.hb_every;
	w.settle_at = w.began + SETTLE_MS;
	w.settle_wait = SETTLE_MS;
	w.deadline = s->timeout_ms > 0 ? w.began + s->timeout_ms : -1;
	w.kill_at = -1;
	monitor_watch(p, dirfd, lockfd, s, &w);
early:
	if (link >= 0)
		_exit(AG_EXIT_FAIL);    /* unpublished: the starter reports */
	monitor_give_up(p, dirfd, lockfd, s, what, errno);
}

pid_t
agent_start(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s)
{
	char buf[32];
	pid_t m;

	fflush(NULL);
	if ((m = fork()) < 0)
		return -1;
	if (m == 0)
		monitor_main(p, dirfd, lockfd, s, -1);
	/* Ours to write while M starts the agent: heartbeat names the
	 * monitor that beats it. */
	snprintf(buf, sizeof buf, "%d", (int)m);
	if (atomic_puts_at(dirfd, "heartbeat", buf, 0) < 0)
		ag_warn("cannot write the monitor's heartbeat");
	return m;
}

/*
 * M shares our memory (clone(CLONE_VM) without CLONE_VFORK): no page
 * table to copy and no copy-on-write faults, in us or in M; a fork costs
 * 0.4-0.5 ms in a VM, this clone under 0.1 ms.  Until we are gone, M and
 * A use only system calls and their own stacks (no malloc, no stdio), and
 * after publishing we use neither either (agent_launch_exit): whatever
 * instant we are killed at, the heap and stdio are whole for M, which
 * goes on alone once we have left the memory (A execs only on our exit).
 * What M reads of ours (the project, the spec) we never free or change.
 * errno too is one variable for the three of us (one thread pointer):
 * M and A fail a system call only when the start fails, and the ways out
 * of a failed start (agent_launch_abort, M's exit) leave ours as it was.
 *
 * M's stack is carved out of ours, MON_GAP below where we are: the stack
 * the sanitizers know for this thread, so they see nothing strange in M;
 * and the kernel reserves at least 128 MB below a stack for its growth.
 * Under a stack limit too small for both (below MON_MIN), M gets a
 * mapping instead (where ASan warns at M's first noreturn call).  Where
 * the clone itself is refused (a sandbox's filter), M is forked.
 * (Valgrind, which does not run a clone of this kind, stops there.)
 */
#define MON_GAP (256 * 1024)
#define MON_MIN (512 * 1024)
#define MON_MAP (1024 * 1024)
#define MON_GUARD 4096

struct mon_args {
	struct project *p;
	int dirfd, lockfd, link;
	const struct agent_spec *s;
};
static struct mon_args mon_args;

static int
monitor_entry(void *arg)
{
	struct mon_args *a = arg;

	monitor_main(a->p, a->dirfd, a->lockfd, a->s, a->link);
}

static void
launch_unmap(struct launch *l)
{
	if (l->map)
		munmap(l->map, MON_MAP);
	l->map = NULL;
}

static char *
monitor_stack(struct launch *l)
{
	struct rlimit rl;
	uintptr_t top;

	l->map = NULL;
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= MON_MIN)) {
		/* An eighth of a small limit: what we use after this is a
		 * few kilobytes (a few tens under ASan). */
		top = (uintptr_t)__builtin_frame_address(0) -
		    (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 8 * MON_GAP ?
		    MON_GAP : rl.rlim_cur / 8);
		return (char *)(top & ~(uintptr_t)63);
	}
	l->map = mmap(NULL, MON_MAP, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (l->map == MAP_FAILED) {
		l->map = NULL;
		return NULL;
	}
	/* A page below it that faults: an overflow is a crash, not a
	 * write into whatever lies there. */
	if (mprotect(l->map, MON_GUARD, PROT_NONE) < 0) {
		launch_unmap(l);
		return NULL;
	}
	STACK_FRESH((char *)l->map + MON_GUARD, MON_MAP - MON_GUARD);
	return (char *)l->map + MON_MAP;
}

int
agent_launch(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s, struct launch *l)
{
	char buf[32], *stack;
	int sv[2], e;

	l->m = -1;
	l->link = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (!(stack = monitor_stack(l))) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return -1;
	}
	mon_args.p = p;
	mon_args.dirfd = dirfd;
	mon_args.lockfd = lockfd;
	mon_args.s = s;
	mon_args.link = sv[1];
	a_pid = 0;              /* an earlier try's, after a failed publish */
	l->m = clone(monitor_entry, stack, CLONE_VM | SIGCHLD, &mon_args);
	if (l->m < 0 && (errno == EINVAL || errno == ENOSYS || errno == EPERM)) {
		/* Refused (a sandbox's filter): a plain fork, whose child
		 * goes on on its copy of our stack. */
		launch_unmap(l);
		fflush(NULL);
		if ((l->m = fork()) == 0)
			monitor_entry(&mon_args);
	}
	if (l->m < 0) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		launch_unmap(l);
		errno = e;
		return -1;
	}
	/* Our end, and theirs: M closes ours in its own table. */
	close(sv[1]);
	l->link = sv[0];
	l->dirfd = dirfd;
	/* Our exit must not write into M's memory: the kernel would clear
	 * the thread id glibc keeps there (it is M's too, now). */
	syscall(SYS_set_tid_address, NULL);
	/* The boot id now, while M starts the agent: identifying A once it
	 * answers is on the agent's way to its exec.  (M and A never read
	 * it while we run.) */
	proc_boot_id();
	/* Unpublished: plain creates, written while M starts the agent. */
	snprintf(buf, sizeof buf, "%d", (int)l->m);
	if (fill_puts_at(dirfd, "heartbeat", buf) < 0)
		return -1;
	return 0;
}

int
agent_launch_ready(struct launch *l)
{
	char msg[32], *end, start[96];
	struct proc_id id;
	size_t got = 0;
	ssize_t n;
	long pid;

	/* A's pid, from where the kernel put it as it made A; else (M not
	 * made yet, or forked) "r<pid>\n" from A, in one piece or several.
	 * Either way A exists: it waits for our exit to exec. */
	if ((pid = __atomic_load_n(&a_pid, __ATOMIC_ACQUIRE)) > 0)
		goto identify;
	while (got < sizeof msg - 1 && (!got || msg[got - 1] != '\n')) {
		n = read(l->link, msg + got, sizeof msg - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* M or A gave up before the agent could run. */
			if (n == 0)
				errno = ECHILD;
			return -1;
		}
		got += (size_t)n;
	}
	msg[got] = '\0';
	errno = 0;
	pid = msg[0] == 'r' ? strtol(msg + 1, &end, 10) : 0;
	if (pid <= 0 || errno || *end != '\n') {
		errno = EPROTO;
		return -1;
	}
identify:
	/* A waits, alive: its start time is its own.  Not published yet:
	 * plain creates, whole by the time anybody can read them. */
	if (proc_identify((pid_t)pid, &id) < 0)
		return -1;
	proc_id_format(&id, start, sizeof start);
	snprintf(msg, sizeof msg, "%ld", pid);
	if (fill_puts_at(l->dirfd, "pid", msg) < 0 ||
	    fill_puts_at(l->dirfd, "pidstart", start) < 0)
		return -1;
	return 0;
}

void
agent_launch_abort(struct launch *l)
{
	int e = errno;

	if (l->link < 0)
		return;
	if (send(l->link, "x", 1, MSG_NOSIGNAL) < 0) {
		/* A is gone already: nothing to stop */
	}
	close(l->link);
	l->link = -1;
	/* M and A may still be writing into the directory: once M is
	 * gone, A is too (A ends before M can), and it may be removed. */
	while (waitpid(l->m, NULL, 0) < 0 && errno == EINTR)
		;
	launch_unmap(l);
	errno = e;              /* the caller's, whatever M and A did to it */
}

_Noreturn void
agent_launch_exit(int code)
{
#ifdef AG_ASAN
	exit(code);             /* LeakSanitizer checks at exit */
#else
	_exit(code);
#endif
}
