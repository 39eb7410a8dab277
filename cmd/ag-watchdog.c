/*
 * ag-watchdog - one cleaning pass, for cron.
 *
 *   ag-watchdog [--dry-run] [--json] [--stale-claims DUR]
 *               [--stale-sessions DUR]
 *
 * Marks lost the running agents whose monitor and process are both gone
 * (where the process is on another boot or host, by its heartbeat);
 * kills and marks timeout the agents past their deadline whose monitor is
 * gone; stops orphans (running agents whose parent has ended) and their
 * descendants; releases stale task claims; reports idle sessions; starts
 * queued agents that may start.  One line per action, then a compliance
 * score, appended to .project/compliance.jsonl.  A second concurrent run
 * exits 0 at once.  --dry-run reports and changes nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "json.h"
#include "names.h"
#include "par.h"
#include "proc.h"
#include "project.h"
#include "sched.h"
#include "session.h"
#include "stop.h"
#include "task.h"

static const char usage_text[] =
    "usage: ag-watchdog [--dry-run] [--json] [-q] [--stale-claims DUR] "
    "[--stale-sessions DUR]\n";

/* An agent ended this long ago without anyone waiting is fire-and-forget. */
#define FORGOTTEN_MS (10 * 60 * 1000LL)
/* An active session without a handoff for this long has no checkpoints. */
#define NO_CHECKPOINT_MS (24 * 3600 * 1000LL)

static int dry, json, quiet;

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

/* One action: "lost ID" on a line, or {"action":"lost","id":ID,...}. */
static void
act(const char *action, const char *id, const char *fmt, ...)
{
	char detail[512] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof detail, fmt, ap);
		va_end(ap);
	}
	if (json) {
		jv o = jv_object();

		o = jv_object_set(o, jv_string("action"), jv_string(action));
		o = jv_object_set(o, jv_string("id"), jv_string(id));
		if (detail[0])
			o = jv_object_set(o, jv_string("detail"),
			    jv_string(detail));
		if (dry)
			o = jv_object_set(o, jv_string("dry_run"), jv_true());
		json_print(o);
	} else if (!strcmp(action, "orphan")) {
		printf("orphan %s %s\n", id, detail);
	} else {
		printf("%s %s%s%s%s\n", action, id, detail[0] ? " (" : "",
		    detail, detail[0] ? ")" : "");
	}
	fflush(stdout);
}

struct row {
	char *id;
	enum agent_status st;
	int monitor_gone;       /* running and its lock is free */
	int no_timeout, waited;
	int64_t ended;
	char parent[AG_ID_MAX + 2];
};

static struct {
	struct project *p;
	struct row *rows;
	size_t n;
} scan;

static int64_t
read_ts(int fd, const char *name)
{
	char buf[AG_TS_LEN];
	int64_t ms;

	if (read_line_at(fd, name, buf, sizeof buf) < 0 || ts_parse(buf, &ms))
		return -1;
	return ms;
}

static void
scan_one(struct row *r)
{
	char buf[32];
	int afd = agent_open(scan.p, r->id), lfd;

	if (afd < 0)
		return;
	r->st = agent_status_at(afd);
	r->no_timeout = read_line_at(afd, "timeout", buf, sizeof buf) < 0 ||
	    strtoll(buf, NULL, 10) <= 0;
	if (status_is_final(r->st)) {
		r->waited = faccessat(afd, "waited", F_OK, 0) == 0;
		if (!r->waited)
			r->ended = read_ts(afd, "ended");
	} else if (r->st == ST_RUNNING) {
		lfd = lock_at(afd, "lock", LOCK_EX | LOCK_NB);
		if (lfd >= 0) {
			r->monitor_gone = 1;
			close(lfd);
		}
		if (read_line_at(afd, "parent", r->parent, sizeof r->parent) < 0)
			r->parent[0] = '\0';
	}
	close(afd);
}

static void
scan_worker(size_t i, void *arg)
{
	(void)arg;
	scan_one(&scan.rows[i]);
}

static int
cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->id, ((const struct row *)b)->id);
}

static struct row *
find_row(const char *id)
{
	struct row key = { .id = (char *)id };

	return bsearch(&key, scan.rows, scan.n, sizeof key, cmp_row);
}

/* Read every agent, on every core. */
static void
scan_agents(struct project *p)
{
	struct dirent *de;
	size_t cap = 0;
	int fd;
	DIR *d;

	scan.p = p;
	if (p->agents < 0 || (fd = dup(p->agents)) < 0 ||
	    !(d = fdopendir(fd)))
		return;
	rewinddir(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (scan.n == cap) {
			struct row *nr = realloc(scan.rows, (cap = cap ? cap * 2 :
			    1024) * sizeof *nr);

			if (!nr)
				ag_die(AG_EXIT_FAIL, "cannot allocate");
			scan.rows = nr;
		}
		memset(&scan.rows[scan.n], 0, sizeof scan.rows[0]);
		scan.rows[scan.n].ended = -1;
		if (!(scan.rows[scan.n++].id = strdup(de->d_name)))
			ag_die(AG_EXIT_FAIL, "cannot allocate");
	}
	closedir(d);
	if (scan.n)
		qsort(scan.rows, scan.n, sizeof *scan.rows, cmp_row);
	par_each(scan.n, 256, scan_worker, NULL);
}

static int64_t
heartbeat_every(void)
{
	const char *e = getenv("AG_HEARTBEAT");
	int64_t ms;

	if (e && duration_parse(e, &ms) == 0 && ms > 0)
		return ms;
	return 30000;
}

/*
 * A running agent without a monitor.  Its process is proven before
 * anything: gone means lost; past its deadline means timeout (TERM, then
 * KILL after its grace); alive otherwise is left to run.
 */
static void
check_unmonitored(struct project *p, struct row *r, int64_t now)
{
	struct proc_id proc;
	struct agent_end e;
	char buf[32];
	int afd = agent_open(p, r->id), lfd, alive, have;
	int64_t started, timeout = 0, grace = AG_GRACE_DEFAULT_MS;
	struct stat hb;

	if (afd < 0)
		return;
	lfd = lock_at(afd, "lock", LOCK_EX | LOCK_NB);
	if (lfd < 0 || agent_status_at(afd) != ST_RUNNING) {
		if (lfd >= 0)
			close(lfd);
		close(afd);
		return;
	}
	have = agent_proc_id(afd, &proc) == 0;
	if (have && strcmp(proc.boot, proc_boot_id())) {
		/* Recorded on another boot or host: the pid says nothing
		 * here, the heartbeat does. */
		alive = fstatat(afd, "heartbeat", &hb, 0) == 0 &&
		    now - (int64_t)hb.st_mtim.tv_sec * 1000 <
		    3 * heartbeat_every();
	} else {
		alive = have && proc_alive(&proc) == 1;
	}
	if (read_line_at(afd, "timeout", buf, sizeof buf) == 0)
		timeout = strtoll(buf, NULL, 10);
	if (read_line_at(afd, "grace", buf, sizeof buf) == 0)
		grace = strtoll(buf, NULL, 10);
	started = read_ts(afd, "started");
	memset(&e, 0, sizeof e);
	e.exit_code = -1;
	if (!alive) {
		act("lost", r->id, NULL);
		if (!dry) {
			char queue[AG_NAME_MAX + 2];

			e.status = ST_LOST;
			e.ended_ms = clock_wall_ms();
			e.reason = "monitor and process gone; found by "
			    "ag-watchdog";
			agent_finish(p, afd, r->id, &e);
			r->st = ST_LOST;
			if (read_line_at(afd, "queue", queue, sizeof queue) < 0)
				queue[0] = '\0';
			close(lfd);
			lfd = -1;
			sched_after_end(p, r->id, queue);
		}
	} else if (timeout > 0 && started >= 0 && now > started + timeout &&
	    have && !strcmp(proc.boot, proc_boot_id())) {
		char d[32];

		duration_format(timeout, d, sizeof d);
		act("timeout", r->id, "after %s", d);
		if (!dry) {
			int pfd = (int)syscall(SYS_pidfd_open, proc.pid, 0);
			struct pollfd pf = { .fd = pfd, .events = POLLIN };
			char queue[AG_NAME_MAX + 2], reason[64];

			if (proc_kill_group(&proc, SIGTERM) == 0 && pfd >= 0 &&
			    poll(&pf, 1, (int)(grace > 60000 ? 60000 : grace)) ==
			    0)
				proc_kill_group(&proc, SIGKILL);
			if (pfd >= 0)
				close(pfd);
			snprintf(reason, sizeof reason, "after %s", d);
			e.status = ST_TIMEOUT;
			e.exit_code = AG_EXIT_TIMEOUT;
			e.ended_ms = clock_wall_ms();
			e.reason = reason;
			agent_finish(p, afd, r->id, &e);
			r->st = ST_TIMEOUT;
			if (read_line_at(afd, "queue", queue, sizeof queue) < 0)
				queue[0] = '\0';
			close(lfd);
			lfd = -1;
			sched_after_end(p, r->id, queue);
		}
	}
	if (lfd >= 0)
		close(lfd);
	close(afd);
}

static void
report_orphan(const char *id, enum agent_status st, const char *note,
    void *arg)
{
	(void)arg;
	(void)note;
	act("orphan", id, "%s", status_name(st));
}

static void
stop_orphans(struct project *p)
{
	jv roots = jv_array();
	size_t i;
	int n;

	for (i = 0; i < scan.n; i++) {
		struct row *r = &scan.rows[i], *par;

		if (r->st != ST_RUNNING || !r->parent[0])
			continue;
		/* A parent no longer here was archived with its session
		 * (only ended agents are) or removed: it has ended too. */
		par = find_row(r->parent);
		if (!par || status_is_final(par->st))
			roots = jv_array_append(roots, jv_string(r->id));
	}
	if (!(n = jv_array_length(jv_copy(roots)))) {
		jv_free(roots);
		return;
	}
	if (dry) {
		jv list = stop_expand(p, roots);
		int k, m = jv_array_length(jv_copy(list));

		for (k = 0; k < m; k++) {
			jv id = jv_array_get(jv_array_get(jv_copy(list), k), 0);

			act("orphan", jv_string_value(id), "stopped");
			jv_free(id);
		}
		jv_free(list);
		return;
	}
	stop_agents(p, stop_expand(p, roots), AG_GRACE_DEFAULT_MS,
	    "orphan: its parent has ended (ag-watchdog)", report_orphan, NULL);
}

static void
release_claims(struct project *p, int64_t max, int64_t now)
{
	struct dirent *de;
	int tfd = task_dir(p, 0), cfd;
	DIR *d;

	if (tfd < 0)
		return;
	cfd = openat(tfd, "claimed", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0 || !(d = fdopendir(cfd))) {
		if (cfd >= 0)
			close(cfd);
		close(tfd);
		return;
	}
	while ((de = readdir(d))) {
		char why[256];
		jv t;

		if (de->d_name[0] == '.')
			continue;
		t = task_read(tfd, TS_CLAIMED, de->d_name);
		if (jv_get_kind(t) == JV_KIND_OBJECT &&
		    task_claim_stale(p, t, now, max, why, sizeof why) &&
		    (dry || task_release(tfd, de->d_name) == 0))
			act("released", de->d_name, "%s", why);
		jv_free(t);
	}
	closedir(d);
	close(tfd);
}

struct sess_stats {
	int total, unnamed, active, no_checkpoint;
};

static int64_t
last_handoff(int sfd)
{
	jv info = session_info(sfd, "");
	jv latest = jv_object_get(info, jv_string("latest_handoff"));
	int64_t t = -1;
	struct stat st;
	char path[300];

	if (jv_get_kind(latest) == JV_KIND_STRING) {
		snprintf(path, sizeof path, "handoffs/%s",
		    jv_string_value(latest));
		if (fstatat(sfd, path, &st, 0) == 0)
			t = (int64_t)st.st_mtim.tv_sec * 1000;
	}
	jv_free(latest);
	return t;
}

static void
check_sessions(struct project *p, int64_t stale, int64_t now,
    struct sess_stats *ss)
{
	struct dirent *de;
	int dfd = sessions_dir(p, 0);
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		char state[32], id[AG_NAME_MAX + 2], buf[AG_TS_LEN];
		int64_t last = -1, created = -1, h;
		int sfd;

		if (de->d_name[0] == '.')
			continue;
		sfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (sfd < 0)
			continue;
		ss->total++;
		if (read_line_at(sfd, "id", id, sizeof id) == 0 &&
		    !strcmp(id, de->d_name) && !strncmp(id, "sess_", 5))
			ss->unnamed++;
		if (read_line_at(sfd, "state", state, sizeof state) < 0)
			state[0] = '\0';
		if (read_line_at(sfd, "last_activity", buf, sizeof buf) == 0)
			ts_parse(buf, &last);
		if (read_line_at(sfd, "created", buf, sizeof buf) == 0)
			ts_parse(buf, &created);
		if ((!strcmp(state, "active") || !strcmp(state, "paused")) &&
		    last >= 0 && now - last > stale) {
			char d2[32];

			duration_format(now - last, d2, sizeof d2);
			if (!quiet)     /* a report, not a change */
				act("stale-session", de->d_name, "%s idle",
				    d2);
		}
		if (!strcmp(state, "active")) {
			ss->active++;
			h = last_handoff(sfd);
			if (h < 0)
				h = created;
			if (h >= 0 && now - h > NO_CHECKPOINT_MS)
				ss->no_checkpoint++;
		}
		close(sfd);
	}
	closedir(d);
}

/* Queued agents that may start now. */
static void
start_queued(struct project *p)
{
	size_t i;
	int lfd;

	if (dry)
		return;         /* a pass cannot be tried without acting */
	if ((lfd = sched_lock(p)) < 0)
		return;
	sched_pass(p);
	close(lfd);
	for (i = 0; i < scan.n; i++) {
		struct row *r = &scan.rows[i];
		int afd;
		enum agent_status st;

		if (r->st != ST_QUEUED || (afd = agent_open(p, r->id)) < 0)
			continue;
		st = agent_status_at(afd);
		close(afd);
		if (st == ST_RUNNING || status_is_final(st))
			act(st == ST_RUNNING ? "started" : "failed", r->id,
			    st == ST_RUNNING ? NULL : "a dependency did not "
			    "complete");
	}
}

static void
compliance(struct project *p, const struct sess_stats *ss, int64_t now)
{
	size_t i, agents = 0, no_to = 0, forgotten = 0, ended = 0;
	double score = 100;
	char ts[AG_TS_LEN];
	jv f = jv_array(), rec;

	for (i = 0; i < scan.n; i++) {
		const struct row *r = &scan.rows[i];

		agents++;
		no_to += r->no_timeout;
		if (status_is_final(r->st)) {
			ended++;
			if (!r->waited && r->ended >= 0 &&
			    now - r->ended > FORGOTTEN_MS)
				forgotten++;
		}
	}
#define FINDING(kind, n, of, weight, text) do {                              \
	if ((of) > 0) {                                                      \
		score -= (weight) * (double)(n) / (double)(of);              \
		if ((n) > 0) {                                               \
			char line[200];                                      \
			jv o = jv_object();                                  \
			snprintf(line, sizeof line, "%zu of %zu %s",         \
			    (size_t)(n), (size_t)(of), text);                \
			o = jv_object_set(o, jv_string("finding"),           \
			    jv_string(kind));                                \
			o = jv_object_set(o, jv_string("count"),             \
			    jv_number((double)(n)));                         \
			o = jv_object_set(o, jv_string("of"),                \
			    jv_number((double)(of)));                        \
			o = jv_object_set(o, jv_string("text"),              \
			    jv_string(line));                                \
			f = jv_array_append(f, o);                           \
		}                                                            \
	}                                                                    \
} while (0)
	FINDING("no-timeout", no_to, agents, 30,
	    "agents spawned without a timeout (-t)");
	FINDING("fire-and-forget", forgotten, ended, 30,
	    "ended agents nobody waited on");
	FINDING("unnamed-session", ss->unnamed, ss->total, 20,
	    "sessions never named (still sess_ ids)");
	FINDING("no-checkpoint", ss->no_checkpoint, ss->active, 20,
	    "active sessions without a handoff for a day");
#undef FINDING
	if (score < 0)
		score = 0;
	ts_format(now, ts);
	rec = jv_object();
	rec = jv_object_set(rec, jv_string("timestamp"), jv_string(ts));
	rec = jv_object_set(rec, jv_string("score"), jv_number((int)(score +
	    0.5)));
	rec = jv_object_set(rec, jv_string("agents"), jv_number((double)agents));
	rec = jv_object_set(rec, jv_string("sessions"), jv_number(ss->total));
	rec = jv_object_set(rec, jv_string("findings"), jv_copy(f));
	if (quiet) {
		/* Said in compliance.jsonl only: cron mails nothing, and a
		 * log grows by what was done. */
	} else if (json) {
		json_print(jv_object_set(jv_copy(rec), jv_string("action"),
		    jv_string("compliance")));
	} else {
		int k, n = jv_array_length(jv_copy(f));

		printf("compliance %d/100\n", (int)(score + 0.5));
		for (k = 0; k < n; k++) {
			jv o = jv_array_get(jv_copy(f), k);
			jv t = jv_object_get(o, jv_string("text"));

			printf("  %s\n", jv_string_value(t));
			jv_free(t);
		}
	}
	jv_free(f);
	if (!dry) {
		size_t len;
		char *line = json_line(rec, &len);

		if (!line || append_locked_at(p->fd, "compliance.jsonl", line,
		    len, 0) < 0)
			ag_warn("cannot append to %s/compliance.jsonl", p->path);
		free(line);
	} else {
		jv_free(rec);
	}
}

/*
 * Debris of writers killed mid-way, an hour old: an agent directory never
 * published (agents/.tmp-*, its lock free) and a spare directory never
 * finished (.spare-*).  Nothing reads them; they would only pile up.
 */
#define DEBRIS_AGE_MS (3600 * 1000LL)

static void
sweep_in(int dfd, const char *prefix, int locked, int64_t now)
{
	char **v, age[32];
	size_t n, i;
	struct stat st;

	if (dfd < 0 || !(v = dir_names_like(dfd, prefix, NULL, &n)))
		return;
	for (i = 0; i < n; i++) {
		int64_t t;

		if (fstatat(dfd, v[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		t = (int64_t)st.st_mtim.tv_sec * 1000 +
		    st.st_mtim.tv_nsec / 1000000;
		if (now - t < DEBRIS_AGE_MS)
			continue;
		if (locked) {
			/* A spawn still at work holds it (stopped, say). */
			int sub = openat(dfd, v[i], O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC), lk = -1;

			if (sub >= 0 && faccessat(sub, "lock", F_OK, 0) == 0 &&
			    (lk = lock_at(sub, "lock", LOCK_EX | LOCK_NB)) < 0) {
				close(sub);
				continue;
			}
			if (lk >= 0)
				close(lk);
			if (sub >= 0)
				close(sub);
		}
		duration_format(now - t, age, sizeof age);
		if (!dry && rm_rf_at(dfd, v[i]) < 0) {
			ag_warn("cannot remove %s", v[i]);
			continue;
		}
		act("debris", v[i], "%s old", age);
	}
	dir_names_free(v);
}

static void
sweep_debris(struct project *p, int64_t now)
{
	sweep_in(p->agents, ".tmp-", 1, now);
	sweep_in(p->fd, AG_SPARE "-", 0, now);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "stale-claims", required_argument, NULL, 'c' },
		{ "stale-sessions", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t stale_claims = 5 * 60 * 1000LL, stale_sessions =
	    7 * 24 * 3600 * 1000LL, now;
	struct sess_stats ss = { 0, 0, 0, 0 };
	struct project p;
	size_t i;
	int c, lfd;

	ag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': dry = 1; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'c':
			if (duration_parse(optarg, &stale_claims) < 0)
				ag_diex(AG_EXIT_USAGE, "bad duration '%s'",
				    optarg);
			break;
		case 's':
			if (duration_parse(optarg, &stale_sessions) < 0)
				ag_diex(AG_EXIT_USAGE, "bad duration '%s'",
				    optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			ag_exit(0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	project_open_or_die(&p, 0);
	/* One pass at a time: a second run has nothing to add. */
	lfd = lock_at(p.fd, "watchdog.lock", LOCK_EX | LOCK_NB);
	if (lfd < 0) {
		if (errno == EWOULDBLOCK)
			ag_exit(0);
		ag_die(AG_EXIT_FAIL, "cannot lock %s/watchdog.lock", p.path);
	}
	now = clock_wall_ms();
	scan_agents(&p);
	for (i = 0; i < scan.n; i++)
		if (scan.rows[i].monitor_gone)
			check_unmonitored(&p, &scan.rows[i], now);
	stop_orphans(&p);
	release_claims(&p, stale_claims, now);
	check_sessions(&p, stale_sessions, now, &ss);
	start_queued(&p);
	sweep_debris(&p, now);
	compliance(&p, &ss, now);
	for (i = 0; i < scan.n; i++)
		free(scan.rows[i].id);
	free(scan.rows);
	close(lfd);
	project_close(&p);
	ag_exit(0);
}
