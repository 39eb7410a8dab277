#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "file.h"
#include "names.h"
#include "proc.h"
#include "sched.h"
#include "stop.h"

struct node {
	char *id;
	char parent[AG_ID_MAX + 2];
	int in;                 /* in the set to stop */
	int depth;
};

static int
cmp_depth(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	if (x->depth != y->depth)
		return y->depth - x->depth;
	return strcmp(x->id, y->id);
}

static int
find_node(struct node *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			return (int)i;
	return -1;
}

jv
stop_expand(struct project *p, jv roots)
{
	struct node *v = NULL;
	size_t n = 0, cap = 0, i;
	int nroots = jv_array_length(jv_copy(roots)), r, changed, fd;
	struct dirent *de;
	jv out = jv_array();
	DIR *d;

	if (p->agents < 0 || (fd = dup(p->agents)) < 0 ||
	    !(d = fdopendir(fd))) {
		jv_free(roots);
		return out;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		int afd;

		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			struct node *nv = realloc(v, (cap = cap ? cap * 2 : 64) *
			    sizeof *v);

			if (!nv)
				break;
			v = nv;
		}
		memset(&v[n], 0, sizeof v[n]);
		if (!(v[n].id = strdup(de->d_name)))
			break;
		afd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (afd >= 0) {
			if (read_line_at(afd, "parent", v[n].parent,
			    sizeof v[n].parent) < 0)
				v[n].parent[0] = '\0';
			close(afd);
		}
		n++;
	}
	closedir(d);
	/* The roots and their descendants by id ... */
	for (i = 0; i < n; i++)
		for (r = 0; r < nroots && !v[i].in; r++) {
			jv root = jv_array_get(jv_copy(roots), r);
			const char *rs = jv_string_value(root);

			v[i].in = !strcmp(v[i].id, rs) ||
			    agent_id_is_descendant(v[i].id, rs);
			jv_free(root);
		}
	/* ... and by parent file, to any depth. */
	do {
		changed = 0;
		for (i = 0; i < n; i++) {
			int k;

			if (v[i].in || !v[i].parent[0])
				continue;
			k = find_node(v, n, v[i].parent);
			if (k >= 0 && v[k].in)
				v[i].in = changed = 1;
		}
	} while (changed);
	/* Depth within the set: a parent's is less than its children's. */
	do {
		changed = 0;
		for (i = 0; i < n; i++) {
			char idpar[AG_ID_MAX + 1];
			int k, want = 0;

			if (!v[i].in)
				continue;
			agent_id_parent(v[i].id, idpar);
			k = v[i].parent[0] ? find_node(v, n, v[i].parent) :
			    find_node(v, n, idpar);
			if (k >= 0 && v[k].in)
				want = v[k].depth + 1;
			if (idpar[0] && (k = find_node(v, n, idpar)) >= 0 &&
			    v[k].in && v[k].depth + 1 > want)
				want = v[k].depth + 1;
			if (want > v[i].depth && want <= (int)n) {
				v[i].depth = want;
				changed = 1;
			}
		}
	} while (changed);
	qsort(v, n, sizeof *v, cmp_depth);
	for (i = 0; i < n; i++) {
		if (v[i].in)
			out = jv_array_append(out, JV_ARRAY(jv_string(v[i].id),
			    jv_number(v[i].depth)));
		free(v[i].id);
	}
	free(v);
	jv_free(roots);
	return out;
}

struct target {
	const char *id;
	int afd;
	int lockfd;             /* held: the monitor is gone, we act for it */
	int pidfd;              /* such an agent's process */
	int mpidfd;             /* else its monitor, to wake us if it dies */
	struct proc_id proc;
	int need_term;          /* running, but its pid is not known yet */
	int done;
};

static void
report_done(struct target *t, enum agent_status st, const char *note,
    stop_report_fn report, void *arg)
{
	t->done = 1;
	if (report)
		report(t->id, st, note, arg);
}

/* Record the end of an agent we hold the lock of. */
static void
finish_owned(struct project *p, struct target *t, enum agent_status st,
    const char *reason, stop_report_fn report, void *arg)
{
	char queue[AG_NAME_MAX + 2];
	struct agent_end e;

	memset(&e, 0, sizeof e);
	e.status = st;
	e.exit_code = -1;
	e.ended_ms = clock_wall_ms();
	e.reason = reason;
	agent_finish(p, t->afd, t->id, &e);
	if (t->lockfd >= 0)
		close(t->lockfd);
	t->lockfd = -1;
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	if (read_line_at(t->afd, "queue", queue, sizeof queue) < 0)
		queue[0] = '\0';
	sched_after_end(p, t->id, queue);
	report_done(t, st, st == ST_LOST ? "process gone; recorded lost" :
	    "stopped (its monitor was gone)", report, arg);
}

static void
dequeue(struct project *p, struct target *t, const char *reason,
    stop_report_fn report, void *arg)
{
	int slock = sched_lock(p), alock;
	struct agent_end e;

	alock = lock_at(t->afd, "lock", LOCK_EX | LOCK_NB);
	if (alock >= 0 && agent_status_at(t->afd) == ST_QUEUED) {
		memset(&e, 0, sizeof e);
		e.status = ST_STOPPED;
		e.exit_code = -1;
		e.ended_ms = clock_wall_ms();
		e.reason = reason;
		sched_dequeue(p, t->id);
		unlinkat(t->afd, "environ", 0);
		agent_finish(p, t->afd, t->id, &e);
		report_done(t, ST_STOPPED, "dequeued", report, arg);
	}
	if (alock >= 0)
		close(alock);
	if (slock >= 0)
		close(slock);
}

/* Whether the process of a pidfd has exited. */
static int
gone(int pidfd)
{
	struct pollfd pf = { .fd = pidfd, .events = POLLIN };

	return poll(&pf, 1, 0) == 1;
}

/* A pidfd on the agent's monitor, or -1. Only a wake-up: a reused pid
 * costs at most a wait until the deadline, never a signal. */
static int
monitor_pidfd(int afd)
{
	pid_t pid = agent_monitor_pid(afd);

	if (pid < 0)
		return -1;
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/*
 * Take the agent's lock if its monitor is gone, and act for it: an agent
 * still running gets SIGTERM from us, one whose process is gone (or whose
 * pid names another program now) is recorded lost and nothing is
 * signalled (if_gone says what to record then: ST_LOST, or ST_STOPPED
 * when our SIGTERM went out before its monitor died). Returns 1 when the lock was ours (t->done or t->lockfd tell
 * what followed), 0 with errno EWOULDBLOCK while a monitor holds it.
 */
static int
take_over(struct project *p, struct target *t, enum agent_status if_gone,
    stop_report_fn report, void *arg)
{
	t->lockfd = lock_at(t->afd, "lock", LOCK_EX | LOCK_NB);
	if (t->lockfd < 0)
		return 0;
	if (t->mpidfd >= 0)
		close(t->mpidfd);
	t->mpidfd = -1;
	if (agent_status_at(t->afd) != ST_RUNNING) {
		close(t->lockfd);
		t->lockfd = -1;
		report_done(t, agent_status_at(t->afd), "had ended", report,
		    arg);
		return 1;
	}
	if (agent_proc_id(t->afd, &t->proc) < 0 ||
	    proc_alive(&t->proc) != 1) {
		finish_owned(p, t, if_gone, "process gone when it was "
		    "stopped; exit status unknown", report, arg);
		return 1;
	}
	t->need_term = 0;
	t->pidfd = (int)syscall(SYS_pidfd_open, t->proc.pid, 0);
	if (proc_kill_group(&t->proc, SIGTERM) == 1)
		finish_owned(p, t, ST_LOST, "process gone when it was "
		    "stopped; exit status unknown", report, arg);
	return 1;
}

/* The first step for one agent: the request, then SIGTERM. */
static void
begin(struct project *p, struct target *t, const char *reason,
    stop_report_fn report, void *arg)
{
	enum agent_status st = agent_status_at(t->afd);

	if (st == ST_QUEUED) {
		dequeue(p, t, reason, report, arg);
		if (t->done)
			return;
		st = agent_status_at(t->afd);   /* it started meanwhile */
	}
	if (status_is_final(st) || st == ST_UNKNOWN) {
		report_done(t, st, "had ended", report, arg);
		return;
	}
	if (atomic_puts_at(t->afd, "stop", reason, 0) < 0) {
		report_done(t, st, "cannot write its stop file", report, arg);
		return;
	}
	if (take_over(p, t, ST_LOST, report, arg) || errno != EWOULDBLOCK) {
		if (!t->done && t->lockfd < 0)
			report_done(t, st, "cannot lock it", report, arg);
		return;
	}
	/* Its monitor records the end; we only signal. A pidfd on the
	 * monitor wakes us should it die first, and take_over then. */
	t->mpidfd = monitor_pidfd(t->afd);
	if (agent_proc_id(t->afd, &t->proc) < 0)
		t->need_term = 1;
	else
		proc_kill_group(&t->proc, SIGTERM);
}

/* Look at every unfinished target once; returns how many remain. */
static int
look(struct project *p, struct target *v, int n, const char *reason,
    stop_report_fn report, void *arg)
{
	int i, left = 0;

	for (i = 0; i < n; i++) {
		struct target *t = &v[i];
		enum agent_status st;

		if (t->done)
			continue;
		if (t->lockfd >= 0) {
			if (proc_alive(&t->proc) != 1)
				finish_owned(p, t, ST_STOPPED, reason, report,
				    arg);
			else
				left++;
			continue;
		}
		st = agent_status_at(t->afd);
		if (status_is_final(st)) {
			report_done(t, st, NULL, report, arg);
			continue;
		}
		/* Its monitor died while we waited (or just before we
		 * came): the record is ours now. */
		if (take_over(p, t, t->need_term ? ST_LOST : ST_STOPPED,
		    report, arg)) {
			if (!t->done)
				left++;
			continue;
		}
		if (t->mpidfd >= 0 && gone(t->mpidfd)) {
			/* Dead, yet another holds the lock (a watchdog, a
			 * second ag-stop): its record wakes us instead. */
			close(t->mpidfd);
			t->mpidfd = -1;
		}
		if (t->need_term && agent_proc_id(t->afd, &t->proc) == 0) {
			t->need_term = 0;
			proc_kill_group(&t->proc, SIGTERM);
		}
		left++;
	}
	return left;
}

static void
drain(int ifd)
{
	char buf[4096];

	while (read(ifd, buf, sizeof buf) > 0)
		;
}

/* Wait until every target is done or the deadline passes. */
static int
wait_level(struct project *p, struct target *v, int n, int ifd,
    int64_t deadline, const char *reason, stop_report_fn report, void *arg)
{
	struct pollfd *pf = calloc((size_t)n + 1, sizeof *pf);
	int left;

	if (!pf)
		return look(p, v, n, reason, report, arg);
	while ((left = look(p, v, n, reason, report, arg)) > 0) {
		int64_t now = clock_mono_ms(), ms = deadline - now;
		int np = 0, i, need = 0;

		if (ms <= 0)
			break;
		if (ifd >= 0) {
			pf[np].fd = ifd;
			pf[np++].events = POLLIN;
		}
		for (i = 0; i < n; i++) {
			if (v[i].done)
				continue;
			if (v[i].pidfd >= 0 || v[i].mpidfd >= 0) {
				pf[np].fd = v[i].pidfd >= 0 ? v[i].pidfd :
				    v[i].mpidfd;
				pf[np++].events = POLLIN;
			}
			need |= v[i].need_term || (v[i].lockfd >= 0 &&
			    v[i].pidfd < 0);
		}
		/* Without a pidfd or a pid yet, nothing can wake us for
		 * that one: look again shortly. */
		if (need && ms > 50)
			ms = 50;
		if (poll(pf, (nfds_t)np, (int)ms) > 0 && ifd >= 0 &&
		    (pf[0].revents & POLLIN))
			drain(ifd);
	}
	free(pf);
	return left;
}

int
stop_agents(struct project *p, jv list, int64_t grace_ms, const char *reason,
    stop_report_fn report, void *arg)
{
	int n = jv_array_length(jv_copy(list)), i, start, left_total = 0, ifd;
	struct target *v = calloc((size_t)n + 1, sizeof *v);
	char path[4096];
	jv ids = jv_array();

	if (!v) {
		jv_free(list);
		jv_free(ids);
		return n;
	}
	/* Listen before the first look: an end between the two still
	 * wakes us. */
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	snprintf(path, sizeof path, "%s/agents", p->path);
	if (ifd >= 0 && inotify_add_watch(ifd, path, IN_ATTRIB | IN_MOVED_FROM |
	    IN_DELETE) < 0) {
		close(ifd);
		ifd = -1;
	}
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(list), i);

		ids = jv_array_append(ids, jv_array_get(jv_copy(e), 0));
		v[i].lockfd = v[i].pidfd = v[i].mpidfd = -1;
		jv_free(e);
	}
	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(ids), i);

		v[i].id = strdup(jv_string_value(id));
		jv_free(id);
		v[i].afd = v[i].id ? agent_open(p, v[i].id) : -1;
		if (v[i].afd < 0)
			v[i].done = 1;
	}
	/* Deepest first; one depth at a time, its agents in parallel. */
	for (start = 0; start < n; ) {
		jv d0 = jv_array_get(jv_array_get(jv_copy(list), start), 1);
		int depth = (int)jv_number_value(d0), end = start, left;

		jv_free(d0);
		while (end < n) {
			jv d = jv_array_get(jv_array_get(jv_copy(list), end), 1);
			int same = (int)jv_number_value(d) == depth;

			jv_free(d);
			if (!same)
				break;
			end++;
		}
		for (i = start; i < end; i++)
			if (!v[i].done)
				begin(p, &v[i], reason, report, arg);
		left = wait_level(p, v + start, end - start, ifd,
		    clock_mono_ms() + grace_ms, reason, report, arg);
		if (left > 0) {
			for (i = start; i < end; i++) {
				if (v[i].done || v[i].need_term)
					continue;
				proc_kill_group(&v[i].proc, SIGKILL);
			}
			/* SIGKILL cannot be ignored: the ends follow at
			 * once, unless the process is stuck in the kernel. */
			left = wait_level(p, v + start, end - start, ifd,
			    clock_mono_ms() + 5000, reason, report, arg);
		}
		for (i = start; i < end; i++)
			if (!v[i].done && report)
				report(v[i].id, agent_status_at(v[i].afd),
				    "still not ended", arg);
		left_total += left;
		start = end;
	}
	for (i = 0; i < n; i++) {
		if (v[i].afd >= 0)
			close(v[i].afd);
		if (v[i].lockfd >= 0)
			close(v[i].lockfd);
		if (v[i].pidfd >= 0)
			close(v[i].pidfd);
		if (v[i].mpidfd >= 0)
			close(v[i].mpidfd);
		free((char *)v[i].id);
	}
	free(v);
	if (ifd >= 0)
		close(ifd);
	jv_free(ids);
	jv_free(list);
	return left_total;
}
