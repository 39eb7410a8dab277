#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "file.h"
#include "names.h"
#include "task.h"

const char *const task_state_names[] = {
	"pending", "claimed", "done", "failed", NULL,
};

int
task_dir(struct project *p, int create)
{
	int fd = project_subdir(p, "tasks", create ? PROJ_CREATE : 0), i;

	if (fd < 0 || !create)
		return fd;
	for (i = 0; task_state_names[i]; i++)
		if (mkdirat(fd, task_state_names[i], 0755) < 0 &&
		    errno != EEXIST)
			goto fail;
	if ((mkdirat(fd, ".queue", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(fd, ".back", 0755) < 0 && errno != EEXIST))
		goto fail;
	return fd;
fail:
	i = errno;
	close(fd);
	errno = i;
	return -1;
}

static void
state_path(char *buf, size_t cap, enum task_state st, const char *id)
{
	snprintf(buf, cap, "%s/%s", task_state_names[st], id);
}

enum task_state
task_find(int tfd, const char *id)
{
	char path[AG_NAME_MAX + 16];
	int st;

	for (st = TS_PENDING; st < TS_NONE; st++) {
		state_path(path, sizeof path, (enum task_state)st, id);
		if (faccessat(tfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			return (enum task_state)st;
	}
	return TS_NONE;
}

jv
task_read(int tfd, enum task_state st, const char *id)
{
	char path[AG_NAME_MAX + 16];

	state_path(path, sizeof path, st, id);
	return json_read_at(tfd, path);
}

static int
write_task(int tfd, enum task_state st, const char *id, jv t, int flags)
{
	int dfd = openat(tfd, task_state_names[st], O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC), r, e;

	if (dfd < 0) {
		jv_free(t);
		return -1;
	}
	r = json_write_at(dfd, id, t, flags);
	e = errno;
	close(dfd);
	errno = e;
	return r;
}

static int64_t
read_num(int dfd, const char *name)
{
	char buf[32];

	if (read_line_at(dfd, name, buf, sizeof buf) < 0)
		return 0;
	return strtoll(buf, NULL, 10);
}

static int
write_num(int dfd, const char *name, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	return atomic_puts_at(dfd, name, buf, 0);
}

static int
lane_open(int tfd, const char *root, long prio, int create)
{
	char path[64];

	snprintf(path, sizeof path, "%s/%ld", root, prio);
	if (create && mkdirat(tfd, path, 0755) < 0 && errno != EEXIST)
		return -1;
	return openat(tfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void
seq_name(char *buf, size_t cap, int64_t seq)
{
	snprintf(buf, cap, "%020" PRId64, seq);
}

int
task_add(int tfd, char *id, long prio, const char *desc)
{
	char ts[AG_TS_LEN], entry[32], idbuf[AG_NAME_MAX + 2];
	int lfd, lane, e;
	int64_t seq;
	jv t;

	if ((lfd = lock_at(tfd, ".lock", LOCK_EX)) < 0)
		return -1;
	if (!id[0]) {
		do {
			char r[9];

			random_name(r, sizeof r);
			snprintf(id, AG_NAME_MAX + 1, "T%s", r);
		} while (task_find(tfd, id) != TS_NONE);
	} else if (task_find(tfd, id) != TS_NONE) {
		close(lfd);
		errno = EEXIST;
		return -1;
	}
	if ((lane = lane_open(tfd, ".queue", prio, 1)) < 0)
		goto fail;
	seq = read_num(lane, "tail");
	/* A crash after a task was written but before tail moved left an
	 * entry whose task exists: keep it, take the next SEQ. */
	for (;;) {
		seq_name(entry, sizeof entry, seq);
		if (read_line_at(lane, entry, idbuf, sizeof idbuf) < 0)
			break;
		if (task_find(tfd, idbuf) == TS_NONE)
			break;
		seq++;
	}
	ts_format(clock_wall_ms(), ts);
	t = jv_object();
	t = jv_object_set(t, jv_string("id"), jv_string(id));
	t = jv_object_set(t, jv_string("description"), jv_string(desc));
	t = jv_object_set(t, jv_string("priority"), jv_number((double)prio));
	t = jv_object_set(t, jv_string("seq"), jv_number((double)seq));
	t = jv_object_set(t, jv_string("created"), jv_string(ts));
	/* Entry, task, then tail: nothing is visible before it is whole. */
	if (atomic_puts_at(lane, entry, id, 0) < 0 ||
	    write_task(tfd, TS_PENDING, id, t, AF_FSYNC) < 0 ||
	    write_num(lane, "tail", seq + 1) < 0) {
		close(lane);
		goto fail;
	}
	close(lane);
	close(lfd);
	return 0;
fail:
	e = errno;
	close(lfd);
	errno = e;
	return -1;
}

/* Try to own the task named by a lane entry: 1 claimed, 0 not. */
/* Sync the claimed directory: the renames into it, and the records. */
static void
sync_claimed(int tfd)
{
	int cfd = openat(tfd, "claimed", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (cfd >= 0) {
		fsync_fd(cfd);
		close(cfd);
	}
}

static int
try_claim(int tfd, const char *id, const char *agent, jv *task, int sync)
{
	char from[AG_NAME_MAX + 16], to[AG_NAME_MAX + 16], ts[AG_TS_LEN];
	jv t;

	state_path(from, sizeof from, TS_PENDING, id);
	state_path(to, sizeof to, TS_CLAIMED, id);
	/* The one step that decides who owns the task. */
	if (renameat2(tfd, from, tfd, to, RENAME_NOREPLACE) < 0)
		return 0;
	ts_format(clock_wall_ms(), ts);
	t = task_read(tfd, TS_CLAIMED, id);
	if (jv_get_kind(t) != JV_KIND_OBJECT) {
		jv_free(t);
		t = jv_object();
		t = jv_object_set(t, jv_string("id"), jv_string(id));
	}
	t = jv_object_set(t, jv_string("claimed_by"),
	    agent && *agent ? jv_string(agent) : jv_null());
	t = jv_object_set(t, jv_string("claimed_at"), jv_string(ts));
	/* A claim must survive a power loss, or two agents may do the
	 * same work after a reboot: one sync of the claimed directory
	 * commits the rename and the record together (one journal commit,
	 * not two). */
	write_task(tfd, TS_CLAIMED, id, jv_copy(t), 0);
	if (sync)
		sync_claimed(tfd);
	*task = t;
	return 1;
}

static int
cmp_long_desc(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Claim from one priority's lanes: 1, 0 (nothing there) or -1. */
static int
claim_lane(int tfd, long prio, const char *agent, jv *task, int sync)
{
	char entry[32], id[AG_NAME_MAX + 2];
	int lane = lane_open(tfd, ".queue", prio, 0), back, r = 0;
	int64_t head, tail, s;
	char **ret = NULL;
	size_t ri = 0;

	if (lane < 0)
		return errno == ENOENT ? 0 : -1;
	back = lane_open(tfd, ".back", prio, 0);
	if (back >= 0)
		ret = dir_names(back, NULL);
	head = read_num(lane, "head");
	tail = read_num(lane, "tail");
	for (s = head; ; ) {
		int64_t rs = ret && ret[ri] ? strtoll(ret[ri], NULL, 10) : -1;

		if (rs >= 0 && (s >= tail || rs < s)) {
			/* A released task, older than the lane's next. */
			if (read_line_at(back, ret[ri], id, sizeof id) == 0 &&
			    try_claim(tfd, id, agent, task, sync)) {
				unlinkat(back, ret[ri], 0);
				r = 1;
				break;
			}
			/* Claimed by another, or stale: drop it under the
			 * lock that releases are made under. */
			{
				int lfd = lock_at(tfd, ".lock", LOCK_EX);
				char path[AG_NAME_MAX + 16];

				state_path(path, sizeof path, TS_PENDING, id);
				if (faccessat(tfd, path, F_OK, 0) < 0)
					unlinkat(back, ret[ri], 0);
				if (lfd >= 0)
					close(lfd);
			}
			ri++;
			continue;
		}
		if (s >= tail)
			break;
		seq_name(entry, sizeof entry, s);
		if (read_line_at(lane, entry, id, sizeof id) == 0 &&
		    try_claim(tfd, id, agent, task, sync)) {
			unlinkat(lane, entry, 0);
			/* head is a hint (entries gone are skipped): in a
			 * batch it moves every 16th claim, not each. */
			if (sync || (s + 1) % 16 == 0)
				write_num(lane, "head", s + 1);
			r = 1;
			break;
		}
		/* Consumed: by a claim, a done or a fail. */
		unlinkat(lane, entry, 0);
		s++;
	}
	if (!r && s > head)
		write_num(lane, "head", s);
	dir_names_free(ret);
	if (back >= 0)
		close(back);
	close(lane);
	return r;
}

static int
claim_one(int tfd, const char *agent, jv *task, int sync)
{
	struct dirent *de;
	long prios[256];
	size_t n = 0, i;
	int qfd, r = 0;
	DIR *d;

	/* The lanes: one directory per priority in use, a handful. */
	qfd = openat(tfd, ".queue", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (qfd < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(d = fdopendir(qfd))) {
		close(qfd);
		return -1;
	}
	while ((de = readdir(d)) && n < 256) {
		char *end;
		long v;

		if (de->d_name[0] == '.')
			continue;
		v = strtol(de->d_name, &end, 10);
		if (!*end)
			prios[n++] = v;
	}
	closedir(d);
	qsort(prios, n, sizeof *prios, cmp_long_desc);
	for (i = 0; i < n && r == 0; i++)
		r = claim_lane(tfd, prios[i], agent, task, sync);
	return r;
}

int
task_claim(int tfd, const char *agent, jv *task)
{
	return claim_one(tfd, agent, task, 1);
}

int
task_claim_n(int tfd, const char *agent, long n, jv *tasks)
{
	long got = 0;
	int r = 0;
	jv t;

	*tasks = jv_array();
	while (got < n && (r = claim_one(tfd, agent, &t, 0)) == 1) {
		*tasks = jv_array_append(*tasks, t);
		got++;
	}
	/* One sync commits every rename of the batch (each claim's metadata
	 * goes to the journal in order); nothing was reported before it. */
	if (got)
		sync_claimed(tfd);
	return r < 0 && got == 0 ? -1 : (int)got;
}

int
task_finish(int tfd, const char *id, int failed, jv extra)
{
	char from[AG_NAME_MAX + 16], to[AG_NAME_MAX + 16], ts[AG_TS_LEN];
	enum task_state st = failed ? TS_FAILED : TS_DONE;
	jv t;

	state_path(from, sizeof from, TS_CLAIMED, id);
	state_path(to, sizeof to, st, id);
	/* Ownership first: a concurrent release or a second done finds
	 * nothing to move. */
	if (renameat2(tfd, from, tfd, to, RENAME_NOREPLACE) < 0) {
		jv_free(extra);
		return -1;
	}
	ts_format(clock_wall_ms(), ts);
	t = task_read(tfd, st, id);
	if (jv_get_kind(t) != JV_KIND_OBJECT) {
		jv_free(t);
		t = jv_object();
	}
	t = jv_object_set(t, jv_string(failed ? "failed_at" : "done_at"),
	    jv_string(ts));
	t = jv_object_set(t, jv_string(failed ? "reason" : "result"), extra);
	return write_task(tfd, st, id, t, AF_FSYNC);
}

int
task_release(int tfd, const char *id)
{
	char from[AG_NAME_MAX + 16], to[AG_NAME_MAX + 16], entry[32];
	int lfd, back = -1, e;
	jv t, v;
	long prio = 0;
	int64_t seq = 0;

	if ((lfd = lock_at(tfd, ".lock", LOCK_EX)) < 0)
		return -1;
	t = task_read(tfd, TS_CLAIMED, id);
	if (!jv_is_valid(t)) {
		jv_free(t);
		close(lfd);
		errno = ENOENT;
		return -1;
	}
	if (jv_get_kind(t) == JV_KIND_OBJECT) {
		v = jv_object_get(jv_copy(t), jv_string("priority"));
		if (jv_get_kind(v) == JV_KIND_NUMBER)
			prio = (long)jv_number_value(v);
		jv_free(v);
		v = jv_object_get(jv_copy(t), jv_string("seq"));
		if (jv_get_kind(v) == JV_KIND_NUMBER)
			seq = (int64_t)jv_number_value(v);
		jv_free(v);
	}
	jv_free(t);
	state_path(from, sizeof from, TS_CLAIMED, id);
	state_path(to, sizeof to, TS_PENDING, id);
	seq_name(entry, sizeof entry, seq);
	/* The entry first, then the task: claimers drop an entry without
	 * its task only under this lock. */
	if ((back = lane_open(tfd, ".back", prio, 1)) < 0 ||
	    atomic_puts_at(back, entry, id, 0) < 0)
		goto fail;
	if (renameat2(tfd, from, tfd, to, RENAME_NOREPLACE) < 0) {
		e = errno;
		unlinkat(back, entry, 0);
		errno = e;
		goto fail;
	}
	t = task_read(tfd, TS_PENDING, id);
	if (jv_get_kind(t) == JV_KIND_OBJECT) {
		t = jv_object_delete(t, jv_string("claimed_by"));
		t = jv_object_delete(t, jv_string("claimed_at"));
		write_task(tfd, TS_PENDING, id, t, AF_FSYNC);
	} else {
		jv_free(t);
	}
	close(back);
	close(lfd);
	return 0;
fail:
	e = errno;
	if (back >= 0)
		close(back);
	close(lfd);
	errno = e;
	return -1;
}

/*
 * Is a claim stale: older than max_ms, or its agent ended?  why gets the
 * claimer and the age, as "claimed by A, 7m".
 */
int
task_claim_stale(struct project *p, jv t, int64_t now, int64_t max_ms, char *why,
    size_t cap)
{
	jv by = jv_object_get(jv_copy(t), jv_string("claimed_by"));
	jv at = jv_object_get(jv_copy(t), jv_string("claimed_at"));
	int64_t when = now;
	char age[32];
	int stale = 0;

	if (jv_get_kind(at) == JV_KIND_STRING)
		ts_parse(jv_string_value(at), &when);
	duration_format(now - when, age, sizeof age);
	if (now - when > max_ms)
		stale = 1;
	if (jv_get_kind(by) == JV_KIND_STRING) {
		int afd = agent_open(p, jv_string_value(by));

		if (afd >= 0) {
			if (status_is_final(agent_status_at(afd)))
				stale = 2;
			close(afd);
		}
	}
	snprintf(why, cap, "claimed by %s, %s%s", jv_get_kind(by) ==
	    JV_KIND_STRING ? jv_string_value(by) : "-", age,
	    stale == 2 ? ", agent ended" : "");
	jv_free(by);
	jv_free(at);
	return stale;
}

