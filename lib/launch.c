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
#include "proc.h"
#include "sched.h"

#define HEARTBEAT_DEFAULT_MS (30 * 1000)

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

static int
open_log(int dirfd)
{
	return openat(dirfd, "output.log", O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0644);
}

/* A: the agent process, between fork and exec.  It sets up its own
 * stdio (it waits for go anyway) so that M can fork it at once. */
static _Noreturn void
agent_child(int dirfd, const struct agent_spec *s, int go_r)
{
	int keep[1] = { go_r }, e, fd;
	ssize_t n;
	char c = 0;

	if (setsid() < 0) {
		e = errno;
		goto fail_errno;
	}
	reset_signals();
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    dup2(fd, 0) < 0) {
		e = errno;
		goto fail_errno;
	}
	if ((fd = open_log(dirfd)) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
		e = errno;
		goto fail_errno;
	}
	close_fds_except(keep, 1);
	do
		n = read(go_r, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || c != 'g') {
		/* The monitor died before recording our pid: never run
		 * untracked. */
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
	execvp(s->exec_path ? s->exec_path : s->argv[0], s->argv);
	e = errno;
	fprintf(stderr, "%s: cannot execute %s: %s\n", ag_prog, s->argv[0],
	    strerror(e));
fail_errno:
	_exit(exec_errno_code(e));
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

/* M records an agent that never got to run. */
static _Noreturn void
monitor_give_up(struct project *p, int dirfd, const struct agent_spec *s,
    const char *what, int e)
{
	struct agent_end end;
	char reason[256];

	snprintf(reason, sizeof reason, "%s: %s", what, strerror(e));
	memset(&end, 0, sizeof end);
	end.status = ST_FAILED;
	end.exit_code = -1;
	end.ended_ms = clock_wall_ms();
	end.reason = reason;
	if (agent_finish(dirfd, s->id, &end) < 0)
		ag_warn("cannot record the end of agent %s", s->id);
	sched_after_end(p, s->id, s->queue);
	_exit(AG_EXIT_FAIL);
}

/*
 * M: the monitor.  Never returns.  It forks A, which waits before exec on
 * a pipe M holds; records A's pid and start time; then lets A run.  If M
 * dies first, A reads EOF and exits without running the command.
 */
static _Noreturn void
monitor_main(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s)
{
	int64_t now, deadline = -1, kill_at = -1, hb_next, hb_every;
	int keep[4], go[2], devnull, logfd, timed_out = 0, code, e;
	struct agent_end end;
	char reason[512], buf[96];
	struct proc_id id;
	siginfo_t si;
	sigset_t chld;
	pid_t a;

	setsid();
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if (pipe2(go, O_CLOEXEC) < 0)
		monitor_give_up(p, dirfd, s, "cannot make a pipe", errno);
	a = fork();
	if (a == 0) {
		close(go[1]);
		agent_child(dirfd, s, go[0]);
	}
	e = errno;
	close(go[0]);
	if (a < 0)
		monitor_give_up(p, dirfd, s, "cannot fork", e);
	/* A is our unreaped child, blocked: its pid is surely its own. */
	snprintf(buf, sizeof buf, "%d", (int)a);
	if (proc_identify(a, &id) == 0 && atomic_puts_at(dirfd, "pid", buf, 0) == 0)
		proc_id_format(&id, buf, sizeof buf);
	else
		buf[0] = '\0';
	if (!buf[0] || atomic_puts_at(dirfd, "pidstart", buf, 0) < 0) {
		e = errno;
		kill(a, SIGKILL);
		while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
			;
		monitor_give_up(p, dirfd, s, "cannot record the agent's pid", e);
	}
	if (write_all(go[1], "g", 1) < 0) {
		/* A saw EOF and exits; its exit is recorded below */
	}
	close(go[1]);

	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		dup2(devnull, 0);
	if ((logfd = open_log(dirfd)) >= 0) {
		dup2(logfd, 1);
		dup2(logfd, 2);
	}
	keep[0] = dirfd;
	keep[1] = lockfd;
	keep[2] = p->fd;
	keep[3] = p->agents;
	close_fds_except(keep, 4);
	snprintf(buf, sizeof buf, "%d", (int)getpid());
	if (atomic_puts_at(dirfd, "monitor", buf, 0) < 0 ||
	    touch_at(dirfd, "heartbeat") < 0)
		ag_warn("cannot write the monitor's files");

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

pid_t
agent_start(struct project *p, int dirfd, int lockfd,
    const struct agent_spec *s)
{
	pid_t m;

	fflush(NULL);
	m = fork();
	if (m == 0)
		monitor_main(p, dirfd, lockfd, s);
	return m;
}
