#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "launch.h"
#include "sched.h"

#define HEARTBEAT_DEFAULT_MS (30 * 1000)

extern char **environ;

int
exec_errno_code(int e)
{
	return (e == ENOENT || e == ENOTDIR) ? AG_EXIT_NOTFOUND :
	    AG_EXIT_NOEXEC;
}

static void
reset_signals(void)
{
	struct sigaction sa;
	sigset_t all;
	int sig;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sigaction(sig, &sa, NULL);  /* EINVAL for RT internals: fine */
	}
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* A: the agent process, between fork and exec. */
static _Noreturn void
agent_child(const struct agent_spec *s, int ready_w, int go_r)
{
	int keep[2] = { ready_w, go_r }, e;
	ssize_t n;
	char c = 0;

	if (setsid() < 0) {
		e = errno;
		goto fail_errno;
	}
	reset_signals();
	close_fds_except(keep, 2);
	do
		n = read(go_r, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || c != 'g') {
		/* Whoever started us died before publishing the agent. */
		fprintf(stderr, "%s: start of agent %s was abandoned\n",
		    ag_prog, s->id);
		_exit(AG_EXIT_FAIL);
	}
	close(go_r);
	if (s->cwd && chdir(s->cwd) < 0) {
		e = errno;
		fprintf(stderr, "%s: cannot enter %s: %s\n", ag_prog, s->cwd,
		    strerror(e));
		goto fail_errno;
	}
	environ = s->envp;
	execvp(s->argv[0], s->argv);
	e = errno;
	fprintf(stderr, "%s: cannot execute %s: %s\n", ag_prog, s->argv[0],
	    strerror(e));
fail_errno:
	if (write(ready_w, &e, sizeof e) < 0) {
		/* the starter is gone; the exit code still tells */
	}
	_exit(exec_errno_code(e));
}

static int
open_log(int dirfd)
{
	return openat(dirfd, "output.log", O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0644);
}

static void
write_header(const struct agent_spec *s)
{
	char ts[AG_TS_LEN], *task = agent_task_text(s), *line;
	int n;

	ts_format(s->started_ms, ts);
	n = asprintf(&line, "[START] %s\nTask: %s\n", ts, task ? task : "");
	if (n > 0) {
		if (write_all(1, line, (size_t)n) < 0) {
			/* output.log unwritable: the end record will say so */
		}
		free(line);
	}
	free(task);
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

/* M: the monitor.  Never returns. */
static _Noreturn void
monitor_main(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s, int ready_w, int go_r, int go_w)
{
	int64_t now, deadline = -1, kill_at = -1, hb_next, hb_every;
	int keep[6], logfd, devnull, timed_out = 0, code;
	struct agent_end end;
	char reason[512];
	siginfo_t si;
	sigset_t chld;
	pid_t a;

	close(go_w);
	setsid();
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	logfd = open_log(dirfd);
	if (devnull < 0 || logfd < 0)
		a = -(pid_t)errno;
	else
		a = 0;
	if (devnull >= 0)
		dup2(devnull, 0);
	if (logfd >= 0) {
		dup2(logfd, 1);
		dup2(logfd, 2);
	}
	keep[0] = dirfd;
	keep[1] = lockfd;
	keep[2] = ready_w;
	keep[3] = go_r;
	keep[4] = p->fd;
	keep[5] = p->agents;
	close_fds_except(keep, 6);
	if (a == 0) {
		write_header(s);
		a = fork();
		if (a == 0)
			agent_child(s, ready_w, go_r);
		if (a < 0)
			a = -(pid_t)errno;
	}
	close(go_r);
	if (write_all(ready_w, &a, sizeof a) < 0 || a < 0)
		_exit(AG_EXIT_FAIL);
	close(ready_w);

	hb_every = heartbeat_interval();
	now = clock_mono_ms();
	hb_next = now + hb_every;
	if (s->timeout_ms > 0)
		deadline = now + s->timeout_ms;

	for (;;) {
		struct timespec ts;
		int64_t wake;

		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)a, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == a)
			break;
		now = clock_mono_ms();
		if (deadline >= 0 && !timed_out && now >= deadline) {
			timed_out = 1;
			kill(-a, SIGTERM);
			kill_at = now + s->grace_ms;
			continue;
		}
		if (kill_at >= 0 && now >= kill_at) {
			kill(-a, SIGKILL);
			kill_at = -1;
			continue;
		}
		if (now >= hb_next) {
			utimensat(dirfd, "heartbeat", NULL, 0);
			hb_next = now + hb_every;
			continue;
		}
		wake = hb_next;
		if (deadline >= 0 && !timed_out && deadline < wake)
			wake = deadline;
		if (kill_at >= 0 && kill_at < wake)
			wake = kill_at;
		ts.tv_sec = (wake - now) / 1000;
		ts.tv_nsec = (long)((wake - now) % 1000) * 1000000L;
		sigtimedwait(&chld, NULL, &ts);
	}
	/* A is a zombie now and still holds its pid and group id: the group
	 * may be signalled safely until we reap it. */
	if (timed_out)
		kill(-a, SIGKILL);
	memset(&si, 0, sizeof si);
	while (waitid(P_PID, (id_t)a, &si, WEXITED) < 0 && errno == EINTR)
		;
	code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;

	memset(&end, 0, sizeof end);
	end.ended_ms = clock_wall_ms();
	end.exit_code = code;
	if (read_line_at(dirfd, "stop", reason, sizeof reason) == 0) {
		end.status = ST_STOPPED;
		end.reason = reason[0] ? reason : "stopped";
	} else if (timed_out) {
		char d[32];

		end.status = ST_TIMEOUT;
		end.exit_code = AG_EXIT_TIMEOUT;
		duration_format(s->timeout_ms, d, sizeof d);
		snprintf(reason, sizeof reason, "after %s", d);
		end.reason = reason;
	} else {
		end.status = code == 0 ? ST_COMPLETED : ST_FAILED;
	}
	if (agent_finish(dirfd, s->id, &end) < 0)
		ag_warn("cannot record the end of agent %s", s->id);
	sched_after_end(p, s->id, s->queue);
	_exit(0);
}

static int
put_file(int dirfd, const char *name, const char *text, int temp)
{
	return temp ? create_puts_at(dirfd, name, text) :
	    atomic_puts_at(dirfd, name, text, 0);
}

int
agent_launch(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s, int flags, struct launch *l)
{
	int ready[2], go[2], temp = flags & LAUNCH_TEMP, e;
	char buf[96], ts[AG_TS_LEN];
	struct proc_id id;
	ssize_t n;
	pid_t m, a;

	l->monitor = l->agent = -1;
	l->go_fd = l->ready_fd = -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(go, O_CLOEXEC) < 0) {
		e = errno;
		close(ready[0]);
		close(ready[1]);
		errno = e;
		return -1;
	}
	fflush(NULL);
	m = fork();
	if (m < 0) {
		e = errno;
		close(ready[0]);
		close(ready[1]);
		close(go[0]);
		close(go[1]);
		errno = e;
		return -1;
	}
	if (m == 0) {
		close(ready[0]);
		monitor_main(p, dirfd, lockfd, s, ready[1], go[0], go[1]);
	}
	close(ready[1]);
	close(go[0]);
	l->monitor = m;
	l->go_fd = go[1];
	l->ready_fd = ready[0];
	do
		n = read(l->ready_fd, &a, sizeof a);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof a || a <= 0) {
		e = n == (ssize_t)sizeof a ? -(int)a : EPIPE;
		agent_abort(l);
		errno = e;
		return -1;
	}
	l->agent = a;
	if (proc_identify(a, &id) < 0)
		goto fail;
	snprintf(buf, sizeof buf, "%d", (int)a);
	if (put_file(dirfd, "pid", buf, temp) < 0)
		goto fail;
	proc_id_format(&id, buf, sizeof buf);
	if (put_file(dirfd, "pidstart", buf, temp) < 0)
		goto fail;
	snprintf(buf, sizeof buf, "%d", (int)m);
	if (put_file(dirfd, "monitor", buf, temp) < 0)
		goto fail;
	if (!temp) {
		ts_format(s->started_ms, ts);
		if (atomic_puts_at(dirfd, "started", ts, 0) < 0 ||
		    touch_at(dirfd, "heartbeat") < 0 ||
		    agent_status_set(dirfd, ST_RUNNING, 0) < 0)
			goto fail;
	}
	return 0;
fail:
	e = errno;
	agent_abort(l);
	errno = e;
	return -1;
}

int
agent_release(struct launch *l)
{
	ssize_t n;
	int e = 0;

	if (write_all(l->go_fd, "g", 1) < 0)
		return -1;
	close(l->go_fd);
	l->go_fd = -1;
	do
		n = read(l->ready_fd, &e, sizeof e);
	while (n < 0 && errno == EINTR);
	close(l->ready_fd);
	l->ready_fd = -1;
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof e || e <= 0) {
		errno = EPIPE;
		return -1;
	}
	return e;
}

void
agent_abort(struct launch *l)
{
	int st;

	/* A cannot have exec'd nor exited: it blocks on go, whose write end
	 * we still hold.  So its pid is still its own. */
	if (l->agent > 0)
		kill(l->agent, SIGKILL);
	if (l->monitor > 0) {
		kill(l->monitor, SIGKILL);
		while (waitpid(l->monitor, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (l->go_fd >= 0)
		close(l->go_fd);
	if (l->ready_fd >= 0)
		close(l->ready_fd);
	l->go_fd = l->ready_fd = -1;
	l->monitor = l->agent = -1;
}

void
agent_wait_monitor(struct launch *l)
{
	int st;

	if (l->monitor > 0)
		while (waitpid(l->monitor, &st, 0) < 0 && errno == EINTR)
			;
	l->monitor = -1;
}
