#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "launch.h"
#include "sched.h"

#define SEQ_LEN 19

int
sched_lock(struct project *p)
{
	int q = project_subdir(p, "queued", PROJ_CREATE), fd;

	if (q < 0)
		return -1;
	fd = lock_at(q, ".lock", LOCK_EX);
	close(q);
	return fd;
}

int
sched_enqueue(struct project *p, const char *id)
{
	struct timespec t;
	char name[SEQ_LEN + 2 + AG_ID_MAX];
	int q = project_subdir(p, "queued", PROJ_CREATE), r;

	if (q < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(name, sizeof name, "%0*lld-%s", SEQ_LEN,
	    (long long)t.tv_sec * 1000000000LL + t.tv_nsec, id);
	r = create_file_at(q, name, "", 0, 0);
	close(q);
	return r;
}

int
sched_set_slots(struct project *p, const char *queue, long slots)
{
	char path[AG_NAME_MAX + 32], buf[32];
	int fd, r;

	snprintf(path, sizeof path, "queues/%s/running", queue);
	if ((fd = project_subdir(p, path, PROJ_CREATE)) < 0)
		return -1;
	close(fd);
	snprintf(path, sizeof path, "queues/%s", queue);
	if ((fd = project_subdir(p, path, 0)) < 0)
		return -1;
	snprintf(buf, sizeof buf, "%ld", slots);
	r = atomic_puts_at(fd, "slots", buf, 0);
	close(fd);
	return r;
}

/* Per-pass view of one queue. */
struct qstate {
	char name[AG_NAME_MAX + 1];
	int fd;                 /* queues/NAME */
	long slots, running;
};

static struct qstate *
queue_state(struct project *p, struct qstate *qs, int *nq, int cap,
    const char *name)
{
	char path[AG_NAME_MAX + 32], buf[32];
	struct qstate *q;
	struct dirent *de;
	int i, rfd;
	DIR *d;

	for (i = 0; i < *nq; i++)
		if (!strcmp(qs[i].name, name))
			return &qs[i];
	if (*nq >= cap)
		return NULL;
	q = &qs[(*nq)++];
	snprintf(q->name, sizeof q->name, "%s", name);
	snprintf(path, sizeof path, "queues/%s/running", name);
	q->fd = -1;
	q->slots = 1;
	q->running = 0;
	if ((rfd = project_subdir(p, path, PROJ_CREATE)) < 0)
		return q;
	snprintf(path, sizeof path, "queues/%s", name);
	q->fd = project_subdir(p, path, 0);
	if (q->fd >= 0 && read_line_at(q->fd, "slots", buf, sizeof buf) == 0) {
		long v = strtol(buf, NULL, 10);

		if (v > 0)
			q->slots = v;
	}
	/* Count members still running; drop entries of ended agents (left
	 * by a monitor killed before it could remove its own). */
	if (!(d = fdopendir(rfd))) {
		close(rfd);
		return q;
	}
	while ((de = readdir(d))) {
		enum agent_status st;
		int afd;

		if (de->d_name[0] == '.')
			continue;
		afd = agent_open(p, de->d_name);
		st = afd >= 0 ? agent_status_at(afd) : ST_UNKNOWN;
		if (afd >= 0)
			close(afd);
		if (afd < 0 || status_is_final(st))
			unlinkat(dirfd(d), de->d_name, 0);
		else
			q->running++;
	}
	closedir(d);
	return q;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **
list_queued(int qfd, size_t *np)
{
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof *v);
	struct dirent *de;
	DIR *d;
	int fd = dup(qfd);

	if (!v || fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		free(v);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) < SEQ_LEN + 2)
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof *v);

			if (!nv)
				break;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof *v, cmp_str);
	*np = n;
	return v;
}

enum dep { DEP_READY, DEP_WAIT, DEP_FAILED };

static enum dep
deps_state(struct project *p, int afd, char *why, size_t cap)
{
	char buf[8192], *line, *save = NULL;
	enum dep r = DEP_READY;

	if (read_small_at(afd, "after", buf, sizeof buf) < 0)
		return DEP_READY;
	for (line = strtok_r(buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		int dfd = agent_open(p, line);
		enum agent_status st;

		if (dfd < 0) {
			snprintf(why, cap, "dependency %s no longer exists",
			    line);
			return DEP_FAILED;
		}
		st = agent_status_at(dfd);
		close(dfd);
		if (!status_is_final(st)) {
			r = DEP_WAIT;
			continue;
		}
		if (st != ST_COMPLETED) {
			snprintf(why, cap, "dependency %s ended %s", line,
			    status_name(st));
			return DEP_FAILED;
		}
	}
	return r;
}

static int
start_queued(struct project *p, int afd, const char *id, struct qstate *q)
{
	struct agent_spec s;
	char ts[AG_TS_LEN];
	int lockfd, r = 0;

	lockfd = lock_at(afd, "lock", LOCK_EX | LOCK_NB);
	if (lockfd < 0)
		return -1;      /* someone (ag-stop) is acting on it */
	if (agent_spec_load(afd, id, &s) < 0) {
		close(lockfd);
		return -1;
	}
	if (q && q->fd >= 0) {
		char path[AG_ID_MAX + 16];

		snprintf(path, sizeof path, "running/%s", id);
		if (create_file_at(q->fd, path, "", 0, 0) < 0 &&
		    errno != EEXIST) {
			agent_spec_free(&s);
			close(lockfd);
			return -1;
		}
	}
	s.started_ms = clock_wall_ms();
	ts_format(s.started_ms, ts);
	if (agent_write_header(afd, &s) < 0 ||
	    atomic_puts_at(afd, "started", ts, 0) < 0 ||
	    agent_status_set(afd, ST_RUNNING, 0, NULL, 0) < 0 ||
	    agent_start(p, afd, lockfd, &s) < 0) {
#ifdef AG_NOJQ
		sched_left_for_jq = 1;
#else
		struct agent_end e = { .status = ST_FAILED,
		    .exit_code = -1, .ended_ms = clock_wall_ms(),
		    .reason = "could not be started" };

		agent_finish(p, afd, id, &e);
#endif
		r = -1;
	}
	/* The secrets it was spawned with are its monitor's now. */
	unlinkat(afd, "environ", 0);
	agent_spec_free(&s);
	close(lockfd);
	if (r == 0 && q)
		q->running++;
	return 0;
}

int sched_left_for_jq;

static int
fail_queued(struct project *p, int afd, const char *id, const char *why)
{
	struct agent_end e;
	int lockfd, r;

#ifdef AG_NOJQ
	sched_left_for_jq = 1;
	return -1;
#endif
	if ((lockfd = lock_at(afd, "lock", LOCK_EX | LOCK_NB)) < 0)
		return -1;
	memset(&e, 0, sizeof e);
	e.status = ST_FAILED;
	e.exit_code = -1;
	e.ended_ms = clock_wall_ms();
	e.reason = why;
	unlinkat(afd, "environ", 0);
	r = agent_finish(p, afd, id, &e);
	close(lockfd);
	return r;
}

int
sched_pass(struct project *p)
{
	struct qstate qs[64];
	size_t n = 0, i;
	char **names, *done;
	int qfd, nq = 0, changed, acted = 0, k;

	if ((qfd = project_subdir(p, "queued", PROJ_CREATE)) < 0)
		return -1;
	if (!(names = list_queued(qfd, &n))) {
		close(qfd);
		return -1;
	}
	done = calloc(n + 1, 1);
	do {
		changed = 0;
		for (i = 0; i < n && done; i++) {
			const char *id = names[i] + SEQ_LEN + 1;
			enum agent_status st;
			char why[AG_ID_MAX + 64], qname[AG_NAME_MAX + 2];
			struct qstate *q = NULL;
			int afd;

			if (done[i])
				continue;
			afd = agent_open(p, id);
			st = afd >= 0 ? agent_status_at(afd) : ST_UNKNOWN;
			if (st != ST_QUEUED) {
				/* started, stopped or removed by someone */
				unlinkat(qfd, names[i], 0);
				done[i] = 1;
				if (afd >= 0)
					close(afd);
				continue;
			}
			switch (deps_state(p, afd, why, sizeof why)) {
			case DEP_WAIT:
				close(afd);
				continue;
			case DEP_FAILED:
				if (fail_queued(p, afd, id, why) == 0) {
					unlinkat(qfd, names[i], 0);
					done[i] = 1;
					changed = 1;
					acted++;
				}
				close(afd);
				continue;
			case DEP_READY:
				break;
			}
			if (read_line_at(afd, "queue", qname, sizeof qname) == 0 &&
			    qname[0]) {
				q = queue_state(p, qs, &nq, 64, qname);
				if (!q || q->running >= q->slots) {
					close(afd);
					continue;
				}
			}
			if (start_queued(p, afd, id, q) == 0) {
				unlinkat(qfd, names[i], 0);
				done[i] = 1;
				acted++;
			}
			close(afd);
		}
	} while (changed);
	for (k = 0; k < nq; k++)
		if (qs[k].fd >= 0)
			close(qs[k].fd);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(done);
	close(qfd);
	return acted;
}

static int
queued_nonempty(struct project *p)
{
	struct dirent *de;
	int fd = openat(p->fd, "queued", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	int r = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (!r && (de = readdir(d)))
		r = de->d_name[0] != '.';
	closedir(d);
	return r;
}

void
sched_after_end(struct project *p, const char *id, const char *queue)
{
	int lockfd;

	if (!queue[0] && !queued_nonempty(p))
		return;
	if ((lockfd = sched_lock(p)) < 0) {
		ag_warn("cannot lock the queue");
		return;
	}
	if (queue[0]) {
		char path[AG_NAME_MAX + AG_ID_MAX + 32];

		snprintf(path, sizeof path, "queues/%s/running/%s", queue, id);
		unlinkat(p->fd, path, 0);
	}
	if (sched_pass(p) < 0)
		ag_warn("queue pass failed");
	close(lockfd);
}

int
sched_dequeue(struct project *p, const char *id)
{
	size_t n = 0, i, len = strlen(id);
	char **names;
	int qfd, r = -1;

	if ((qfd = project_subdir(p, "queued", 0)) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((names = list_queued(qfd, &n))) {
		r = 0;
		for (i = 0; i < n; i++) {
			size_t nl = strlen(names[i]);

			if (nl == SEQ_LEN + 1 + len &&
			    !strcmp(names[i] + SEQ_LEN + 1, id) &&
			    unlinkat(qfd, names[i], 0) < 0 && errno != ENOENT)
				r = -1;
			free(names[i]);
		}
		free(names);
	}
	close(qfd);
	return r;
}
