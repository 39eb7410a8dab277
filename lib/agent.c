#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "billing.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "json.h"
#include "logscan.h"
#include "names.h"
#include "proc.h"
#include "sched.h"
#include <sys/file.h>

static const char *const status_names[] = {
	[ST_UNKNOWN] = "unknown", [ST_QUEUED] = "queued",
	[ST_RUNNING] = "running", [ST_COMPLETED] = "completed",
	[ST_FAILED] = "failed", [ST_TIMEOUT] = "timeout",
	[ST_STOPPED] = "stopped", [ST_LOST] = "lost",
};

const char *
status_name(enum agent_status st)
{
	return (unsigned)st <= ST_LOST ? status_names[st] : "unknown";
}

enum agent_status
status_parse(const char *s)
{
	int i;

	for (i = ST_QUEUED; i <= ST_LOST; i++)
		if (!strcmp(s, status_names[i]))
			return (enum agent_status)i;
	return ST_UNKNOWN;
}

int
status_is_final(enum agent_status st)
{
	return st >= ST_COMPLETED;
}

int
agent_open(struct project *p, const char *id)
{
	if (p->agents < 0) {
		errno = ENOENT;
		return -1;
	}
	return openat(p->agents, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

enum agent_status
agent_status_at(int dirfd)
{
	char buf[32];

	if (read_line_at(dirfd, "status", buf, sizeof buf) < 0)
		return ST_UNKNOWN;
	return status_parse(buf);
}

int
agent_status_set(int dirfd, enum agent_status st, int flags, char *old,
    size_t cap)
{
	char line[32], mine[NAME_MAX + 1];
	int r;

	if (!old) {
		old = mine;
		cap = sizeof mine;
	}
	snprintf(line, sizeof line, "%s\n", status_name(st));
	if (atomic_swap_at(dirfd, "status", line, strlen(line), old, cap,
	    flags) < 0)
		return -1;
	/* An explicit time change is what reaches a watch on the parent. */
	r = futimens(dirfd, NULL);
	if (old == mine && old[0])
		unlinkat(dirfd, old, 0);
	return r;
}

/* Join strings, each followed by sep; with nl_escape, a newline inside a
 * string is written as the two characters \n (for the one-per-line cmd). */
static char *
join(char **v, char sep, int nl_escape, size_t *lenp)
{
	size_t n = 0, i;
	char *out, *q;
	const char *c;

	for (i = 0; v[i]; i++)
		n += strlen(v[i]) * 2 + 1;
	if (!(out = malloc(n + 1)))
		return NULL;
	q = out;
	for (i = 0; v[i]; i++) {
		for (c = v[i]; *c; c++) {
			if (nl_escape && *c == '\n') {
				*q++ = '\\';
				*q++ = 'n';
			} else {
				*q++ = *c;
			}
		}
		*q++ = sep;
	}
	*q = '\0';
	*lenp = (size_t)(q - out);
	return out;
}

static int
create_joined(int dirfd, const char *name, char **v, char sep, int esc,
    int flags)
{
	size_t len;
	char *buf = join(v, sep, esc, &len);
	int r;

	if (!buf)
		return -1;
	r = create_file_at(dirfd, name, buf, len, flags);
	free(buf);
	return r;
}

/* Whether cmd, one argument a line with a newline written \n, cannot
 * give the arguments back exactly: an empty one (an empty line, which
 * cmd's readers skip), or one holding a newline or a backslash (then
 * \n is ambiguous).  Only then is argv written. */
static int
argv_needs_file(char **v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (!v[i][0] || strpbrk(v[i], "\n\\"))
			return 1;
	return 0;
}

int
agent_spec_create(int dirfd, const struct agent_spec *s, int queued)
{
	char buf[64];

	if (create_joined(dirfd, "cmd", s->argv, '\n', 1, AF_FILL) < 0 ||
	    (argv_needs_file(s->argv) &&
	    create_joined(dirfd, "argv", s->argv, '\0', 0, AF_FILL) < 0) ||
	    fill_puts_at(dirfd, "role", s->role) < 0 ||
	    fill_puts_at(dirfd, "cwd", s->cwd) < 0)
		return -1;
	if (s->parent[0] && fill_puts_at(dirfd, "parent", s->parent) < 0)
		return -1;
	if (s->session[0] && fill_puts_at(dirfd, "session", s->session) < 0)
		return -1;
	if (s->queue[0] && fill_puts_at(dirfd, "queue", s->queue) < 0)
		return -1;
	if (s->description &&
	    fill_puts_at(dirfd, "description", s->description) < 0)
		return -1;
	if (s->timeout_ms > 0) {
		snprintf(buf, sizeof buf, "%lldms", (long long)s->timeout_ms);
		if (fill_puts_at(dirfd, "timeout", buf) < 0)
			return -1;
	}
	if (s->grace_ms != AG_GRACE_DEFAULT_MS) {
		snprintf(buf, sizeof buf, "%lldms", (long long)s->grace_ms);
		if (fill_puts_at(dirfd, "grace", buf) < 0)
			return -1;
	}
	if (s->after && s->after[0] &&
	    create_joined(dirfd, "after", s->after, '\n', 0, 0) < 0)
		return -1;
	if (queued && create_joined(dirfd, "environ", s->envp, '\0', 0,
	    AF_PRIVATE) < 0)
		return -1;
	return 0;
}

/* A spare holds the files of a started agent, and those its end writes
 * through (AF_PREPARED), which the end drops once it is done. */
static const char *const spare_files[] = { "lock", "cmd", "role",
    "cwd", "started", "output.log", "status", "heartbeat", "pid",
    "pidstart" };
static const char *const end_files[] = { ".end-result.json", ".end-exit",
    ".end-ended", ".end-status" };
#define NSPARE (sizeof spare_files / sizeof spare_files[0])
#define NEND (sizeof end_files / sizeof end_files[0])

static void
spare_slot(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s.%d", AG_SPARE, i);
}

int
agent_spare_make(struct project *p)
{
	char tmp[32], slot[32], r[7];
	int dfd = -1, fd, e, i;
	size_t k;

	for (i = 0; i < AG_SPARES; i++) {
		spare_slot(i, slot, sizeof slot);
		if (faccessat(p->fd, slot, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			break;
	}
	if (i == AG_SPARES)
		return 0;               /* the pool is full */
	random_name(r, sizeof r);
	snprintf(tmp, sizeof tmp, "%s-%s", AG_SPARE, r);
	if (mkdirat(p->fd, tmp, 0755) < 0)
		return -1;
	if ((dfd = openat(p->fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	for (k = 0; k < NSPARE + NEND; k++) {
		fd = openat(dfd, k < NSPARE ? spare_files[k] :
		    end_files[k - NSPARE], O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0644);
		if (fd < 0 || close(fd) < 0)
			goto fail;
	}
	close(dfd);
	dfd = -1;
	/* Whole, or not there; a slot filled meanwhile: try the next. */
	for (; i < AG_SPARES; i++) {
		spare_slot(i, slot, sizeof slot);
		if (renameat2(p->fd, tmp, p->fd, slot, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST && errno != ENOTEMPTY)
			goto fail;
	}
	errno = EEXIST;
fail:
	e = errno;
	if (dfd >= 0)
		close(dfd);
	rm_rf_at(p->fd, tmp);
	errno = e;
	return e == EEXIST || e == ENOTEMPTY ? 0 : -1;
}

int
agent_spare_take(struct project *p, const char *tmp)
{
	char slot[32];
	int i, fd;

	/* From slot 0 up, the one makers fill first: in a loop of spawns
	 * the spare is found at the first try. */
	for (i = 0; i < AG_SPARES; i++) {
		spare_slot(i, slot, sizeof slot);
		if (renameat2(p->fd, slot, p->agents, tmp, RENAME_NOREPLACE) < 0) {
			if (errno != ENOENT)
				return -1;
			continue;
		}
		/* Ours are directories; anything else put there goes. */
		fd = openat(p->agents, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd < 0 && unlinkat(p->agents, tmp, 0) < 0)
			rm_rf_at(p->agents, tmp);
		return fd;
	}
	return -1;
}

/*
 * Split a NUL- or newline-separated buffer into a NULL-terminated vector
 * pointing into buf.  The vector owns buf through a hidden slot before
 * its first element; free it with free_vector.  Newline lists skip empty
 * lines; NUL lists keep empty strings (an empty argument is an argument).
 */
static char **
split(char *buf, size_t len, char sep)
{
	size_t n = 0, i, k = 1;
	char **v, *start = buf;

	for (i = 0; i < len; i++)
		if (buf[i] == sep)
			n++;
	if (!(v = calloc(n + 3, sizeof *v)))
		return NULL;
	v[0] = buf;
	for (i = 0; i < len; i++) {
		if (buf[i] != sep)
			continue;
		buf[i] = '\0';
		if (sep != '\n' || *start)
			v[k++] = start;
		start = buf + i + 1;
	}
	if (start < buf + len && *start)
		v[k++] = start;
	v[k] = NULL;
	return v + 1;
}

static char **
load_vector(int dirfd, const char *name, char sep)
{
	size_t len;
	char *buf = read_all_at(dirfd, name, &len);
	char **v;

	if (!buf)
		return NULL;
	if (!(v = split(buf, len, sep)))
		free(buf);
	return v;
}

/* The arguments: argv, where cmd could not hold them exactly, else cmd. */
static char **
load_argv(int dirfd)
{
	char **v = load_vector(dirfd, "argv", '\0');

	if (!v && errno == ENOENT)
		v = load_vector(dirfd, "cmd", '\n');
	return v;
}

static void
free_vector(char **v)
{
	if (v) {
		free(v[-1]);
		free(v - 1);
	}
}

int
agent_spec_load(int dirfd, const char *id, struct agent_spec *s)
{
	char buf[256];
	size_t len;
	int64_t ms;

	memset(s, 0, sizeof *s);
	s->owned = 1;
	s->grace_ms = AG_GRACE_DEFAULT_MS;
	snprintf(s->id, sizeof s->id, "%s", id);
	if (read_line_at(dirfd, "role", s->role, sizeof s->role) < 0)
		snprintf(s->role, sizeof s->role, "workagent");
	if (read_line_at(dirfd, "parent", s->parent, sizeof s->parent) < 0)
		s->parent[0] = '\0';
	if (read_line_at(dirfd, "session", s->session, sizeof s->session) < 0)
		s->session[0] = '\0';
	if (read_line_at(dirfd, "queue", s->queue, sizeof s->queue) < 0)
		s->queue[0] = '\0';
	if ((s->description = read_all_at(dirfd, "description", &len)) &&
	    len > 0 && s->description[len - 1] == '\n')
		s->description[len - 1] = '\0';
	if ((s->cwd = read_all_at(dirfd, "cwd", &len)) && len > 0 &&
	    s->cwd[len - 1] == '\n')
		s->cwd[len - 1] = '\0';
	if (read_line_at(dirfd, "timeout", buf, sizeof buf) == 0 &&
	    duration_parse(buf, &ms) == 0)
		s->timeout_ms = ms;
	if (read_line_at(dirfd, "grace", buf, sizeof buf) == 0 &&
	    duration_parse(buf, &ms) == 0)
		s->grace_ms = ms;
	s->argv = load_argv(dirfd);
	s->envp = load_vector(dirfd, "environ", '\0');
	s->after = load_vector(dirfd, "after", '\n');
	if (!s->argv || !s->argv[0] || !s->cwd) {
		agent_spec_free(s);
		errno = EINVAL;
		return -1;
	}
	if (!s->envp && !(s->envp = split(strdup(""), 0, '\0'))) {
		agent_spec_free(s);
		return -1;
	}
	return 0;
}

void
agent_spec_free(struct agent_spec *s)
{
	if (!s->owned)
		return;
	free(s->description);
	free(s->cwd);
	free_vector(s->argv);
	free_vector(s->envp);
	free_vector(s->after);
	memset(s, 0, sizeof *s);
}

char *
agent_task_text(const struct agent_spec *s)
{
	size_t len, i;
	char *t;

	if (s->description)
		return strdup(s->description);
	if (!(t = join(s->argv, ' ', 1, &len)))
		return NULL;
	if (len > 0)
		t[len - 1] = '\0';
	for (i = 0; t[i]; i++)
		if (t[i] == '\r')
			t[i] = ' ';
	return t;
}

/* The command as a JSON array, from the spec, else argv or cmd. */
static jv
command_json(int dirfd, const struct agent_spec *s)
{
	char **read = NULL, **v = s && s->argv ? s->argv :
	    (read = load_argv(dirfd));
	jv a = jv_array();
	size_t i;

	for (i = 0; v && v[i]; i++)
		a = jv_array_append(a, jv_string(v[i]));
	free_vector(read);
	return a;
}

/* The closing frame line, appended to the log open at fd, whose last
 * byte is last: a line the agent left unfinished is ended first.
 * Returns the bytes appended, or -1. */
static int
footer(int fd, const struct agent_end *e, const char *ts, char last)
{
	char line[1200];
	const char *tag;
	int n;

	switch (e->status) {
	case ST_COMPLETED: tag = "[COMPLETE]"; break;
	case ST_TIMEOUT: tag = "[TIMEOUT]"; break;
	case ST_STOPPED: tag = "[STOPPED]"; break;
	case ST_LOST: tag = "[LOST]"; break;
	default: tag = "[FAILED]"; break;
	}
	n = snprintf(line, sizeof line, "%s%s %s", last == '\n' ? "" : "\n",
	    tag, ts);
	if (e->status == ST_FAILED && e->exit_code >= 0)
		n += snprintf(line + n, sizeof line - (size_t)n, " exit=%d",
		    e->exit_code);
	if (e->reason && *e->reason)
		n += snprintf(line + n, sizeof line - (size_t)n, " %.1000s",
		    e->reason);
	if (n >= (int)sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	return write_all(fd, line, (size_t)n) < 0 ? -1 : n;
}

/* Through old, the status the end replaced, when there is one: that
 * file then becomes the summary (and old is emptied). */
static int
summary_write(int dirfd, int64_t started, const struct agent_end *e,
    const char *role, const char *prog, char *old)
{
	char buf[400];
	int n;

	n = snprintf(buf, sizeof buf, "%lld %lld %d %s\n%s\n",
	    (long long)started, (long long)e->ended_ms, e->exit_code, role,
	    prog);
	if (n < 0 || (size_t)n >= sizeof buf) {
		errno = EOVERFLOW;
		return -1;
	}
	if (old[0] && atomic_write_reuse_at(dirfd, old, "summary", buf,
	    (size_t)n) == 0) {
		old[0] = '\0';
		return 0;
	}
	return atomic_write_at(dirfd, "summary", buf, (size_t)n, 0);
}

int
agent_summary_read(int dirfd, struct agent_summary *s)
{
	char buf[400], *p, *end, *nl;
	long long v[2];
	long x;
	ssize_t n;
	size_t len;
	int i;

	if ((n = read_small_at(dirfd, "summary", buf, sizeof buf)) <= 0)
		return -1;
	buf[n] = '\0';
	p = buf;
	for (i = 0; i < 2; i++) {
		errno = 0;
		v[i] = strtoll(p, &end, 10);
		if (errno || end == p || *end != ' ' || v[i] < -1)
			return -1;
		p = end + 1;
	}
	errno = 0;
	x = strtol(p, &end, 10);
	if (errno || end == p || *end != ' ' || x < -1 || x > 255)
		return -1;
	p = end + 1;
	if (!(nl = strchr(p, '\n')) || (len = (size_t)(nl - p)) == 0 ||
	    len >= sizeof s->role)
		return -1;
	memcpy(s->role, p, len);
	s->role[len] = '\0';
	if (name_check(s->role))
		return -1;
	p = nl + 1;
	if (!(nl = strchr(p, '\n')) || (len = (size_t)(nl - p)) >=
	    sizeof s->progress || nl[1] != '\0')
		return -1;
	memcpy(s->progress, p, len);
	s->progress[len] = '\0';
	s->started = v[0];
	s->ended = v[1];
	s->exit_code = (int)x;
	return 0;
}

/*
 * The usage events of every Claude Code result object the agent printed
 * (a script may run claude -p more than once), and their totals; sids
 * (cap bytes) gets the Claude sessions they billed, one a line, each
 * once, as many as fit.  Consumes results.
 */
static jv
claude_bill(jv results, const struct usage *u, int64_t *tokens,
    double *cost, char *sids, size_t cap)
{
	jv out = jv_array();
	int i, n = jv_array_length(jv_copy(results));
	size_t used = 0;

	*tokens = 0;
	*cost = 0;
	sids[0] = '\0';
	for (i = 0; i < n; i++) {
		jv r = jv_array_get(jv_copy(results), i);
		jv sid = jv_object_get(jv_copy(r), jv_string("session_id"));
		int64_t t;
		double c;
		jv ev = billing_claude_events(r, u, &t, &c);
		int k, m = jv_array_length(jv_copy(ev));
		const char *v;
		size_t len;

		for (k = 0; k < m; k++)
			out = jv_array_append(out, jv_array_get(jv_copy(ev), k));
		jv_free(ev);
		*tokens += t;
		*cost += c;
		v = jv_get_kind(sid) == JV_KIND_STRING ? jv_string_value(sid) : "";
		len = strlen(v);
		if (len && !strchr(v, '\n') && !line_in(sids, v) &&
		    used + len + 2 <= cap) {
			used += (size_t)snprintf(sids + used, cap - used, "%s%s",
			    used ? "\n" : "", v);
		}
		jv_free(sid);
	}
	jv_free(results);
	return out;
}

int
agent_finish(struct project *p, int dirfd, const char *id,
    const struct agent_end *e)
{
	char ts[AG_TS_LEN], started[AG_TS_LEN], role[AG_NAME_MAX + 2];
	char parent[AG_ID_MAX + 2], session[AG_NAME_MAX + 2];
	char old[NAME_MAX + 1], prog[200];
	struct log_summary sum;
	size_t k;
	struct usage u;
	int64_t start_ms = 0, tokens;
	double cost;
	char day[64];
	char claude_sids[1000];         /* fits import.c's reading */
	jv r, out, bill, usage;
	int have_start, fd, w;
	char last;

	/* One open of the log for both: what the agent said, read before
	 * the closing line (a frame line, which the scan skips anyway). */
	ts_format(e->ended_ms, ts);
	fd = openat(dirfd, "output.log", O_RDWR | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	log_scan(fd, &sum, &last);
	w = footer(fd, e, ts, last);
	if (close(fd) < 0 || w < 0) {
		log_summary_free(&sum);
		return -1;
	}
	/* As ag-ps would read it now: from the scan, not a second read. */
	log_progress_after(&sum, (size_t)w, prog, sizeof prog);
	if (e->spec && e->spec->started_ms > 0) {
		start_ms = e->spec->started_ms;
		ts_format(start_ms, started);
		have_start = 1;
	} else {
		have_start = read_line_at(dirfd, "started", started,
		    sizeof started) == 0 && ts_parse(started, &start_ms) == 0;
	}
	if (e->spec)
		snprintf(role, sizeof role, "%s", e->spec->role);
	else if (read_line_at(dirfd, "role", role, sizeof role) < 0)
		snprintf(role, sizeof role, "workagent");
	if (e->spec) {
		snprintf(parent, sizeof parent, "%s", e->spec->parent);
		snprintf(session, sizeof session, "%s", e->spec->session);
	} else {
		if (read_line_at(dirfd, "parent", parent, sizeof parent) < 0)
			parent[0] = '\0';
		if (read_line_at(dirfd, "session", session, sizeof session) < 0)
			session[0] = '\0';
	}

	out = jv_object();
	out = jv_object_set(out, jv_string("logs"), sum.logs);
	out = jv_object_set(out, jv_string("errors"), sum.errors);
	out = jv_object_set(out, jv_string("metrics"), sum.metrics);
	/* A Claude Code result object is billed to this agent (SPEC 3). */
	memset(&u, 0, sizeof u);
	u.timestamp = ts;
	u.agent = id;
	u.parent = parent;
	u.session = session;
	u.role = role;
	usage = claude_bill(sum.claude, &u, &tokens, &cost, claude_sids,
	    sizeof claude_sids);

	bill = jv_object();
	bill = jv_object_set(bill, jv_string("tokens_used"),
	    jv_number((double)tokens));
	bill = jv_object_set(bill, jv_string("estimated_cost"), jv_number(cost));
	bill = jv_object_set(bill, jv_string("role"), jv_string(role));

	r = jv_object();
	r = jv_object_set(r, jv_string("agent_id"), jv_string(id));
	r = jv_object_set(r, jv_string("status"),
	    jv_string(status_name(e->status)));
	r = jv_object_set(r, jv_string("role"), jv_string(role));
	r = jv_object_set(r, jv_string("parent"),
	    parent[0] ? jv_string(parent) : jv_null());
	r = jv_object_set(r, jv_string("session"),
	    session[0] ? jv_string(session) : jv_null());
	r = jv_object_set(r, jv_string("command"), command_json(dirfd, e->spec));
	r = jv_object_set(r, jv_string("start_time"),
	    have_start ? jv_string(started) : jv_null());
	r = jv_object_set(r, jv_string("end_time"), jv_string(ts));
	r = jv_object_set(r, jv_string("duration_ms"), have_start ?
	    jv_number((double)(e->ended_ms - start_ms)) : jv_number(0));
	r = jv_object_set(r, jv_string("exit_code"), e->exit_code >= 0 ?
	    jv_number(e->exit_code) : jv_null());
	if (e->reason && *e->reason)
		r = jv_object_set(r, jv_string("reason"), jv_string(e->reason));
	r = jv_object_set(r, jv_string("output"), out);
	r = jv_object_set(r, jv_string("billing"), bill);

	/* Through the files a spare directory made ahead, when it did. */
	if (json_write_at(dirfd, "result.json", r, AF_PREPARED) < 0)
		goto fail;
	if (e->exit_code >= 0) {
		char buf[16];

		snprintf(buf, sizeof buf, "%d", e->exit_code);
		if (atomic_puts_at(dirfd, "exit", buf, AF_PREPARED) < 0)
			goto fail;
	}
	/* The Claude sessions billed here, before the end time: an import
	 * that finds the agent ended then knows what not to count again. */
	if (claude_sids[0] &&
	    atomic_puts_at(dirfd, "claude_session", claude_sids, 0) < 0)
		goto fail;
	if (atomic_puts_at(dirfd, "ended", ts, AF_PREPARED) < 0)
		goto fail;
	/* Billing before the status, so that a waiter woken by it sees the
	 * agent's cost and hours already.  A billing that cannot be written
	 * (a full disk) is said, and never keeps the agent from its end. */
	day[0] = '\0';
	if (p) {
		if (cost != 0 && billing_cost_add(dirfd, cost) < 0)
			ag_warn("cannot update agents/%s/cost", id);
		if (billing_finish(p, dirfd, id, usage, billing_agent_end(id,
		    role, parent, session, have_start ? e->ended_ms - start_ms :
		    0, status_name(e->status), e->ended_ms), day,
		    sizeof day) < 0) {
			ag_warn("cannot append the billing of %s", id);
			day[0] = '\0';
		}
		usage = jv_null();
	}
	/* The old status is set aside until the waiters are woken: then it
	 * becomes the summary (an inode used again, none freed). */
	if (agent_status_set(dirfd, e->status, AF_PREPARED, old,
	    sizeof old) < 0)
		goto fail;
	if (e->unlock && *e->unlock >= 0) {
		/* The record is whole: its waiters may go.  One woken here
		 * would wait its turn behind the rest of our work on this CPU
		 * (~130 us, while the other may sleep): it goes first. */
		close(*e->unlock);
		*e->unlock = -1;
		sched_yield();
	}
	/* Not needed by any waiter: for ag-ps, after them. */
	if (summary_write(dirfd, have_start ? start_ms : -1, e, role, prog,
	    old) < 0)
		ag_warn("cannot write agents/%s/summary", id);
	if (old[0])
		unlinkat(dirfd, old, 0);
	for (k = 0; k < NEND; k++)              /* those not used */
		if (strcmp(end_files[k], old))
			unlinkat(dirfd, end_files[k], 0);
	/* After waiters are woken: one journal commit makes all of it durable
	 * without putting an fsync on the path to ag-wait.  The billing
	 * file's first: its commit takes the directory's changes along, and
	 * the directory's fsync then finds nothing left to commit (two
	 * commits the other way round). */
	if ((day[0] && billing_sync(p, day) < 0) || fsync_fd(dirfd) < 0)
		goto fail;
	jv_free(usage);
	return 0;
fail:
	jv_free(usage);
	return -1;
}

int
agent_proc_id(int dirfd, struct proc_id *proc)
{
	char pid[32], start[96];
	long v;

	if (read_line_at(dirfd, "pid", pid, sizeof pid) < 0 ||
	    read_line_at(dirfd, "pidstart", start, sizeof start) < 0)
		return -1;
	v = strtol(pid, NULL, 10);
	if (v <= 0 || v > 1 << 30) {
		errno = EINVAL;
		return -1;
	}
	return proc_id_parse((pid_t)v, start, proc);
}

pid_t
agent_monitor_pid(int dirfd)
{
	char buf[32], *end;
	long v;

	/* An empty heartbeat: an agent spawned before it held the pid. */
	if ((read_line_at(dirfd, "heartbeat", buf, sizeof buf) < 0 || !buf[0]) &&
	    read_line_at(dirfd, "monitor", buf, sizeof buf) < 0)
		return -1;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || *end || v <= 0 || v > 1 << 30)
		return -1;
	return (pid_t)v;
}

int
agent_check_lost(struct project *p, int dirfd, const char *id,
    struct proc_id *proc)
{
	char queue[AG_NAME_MAX + 2];
	struct agent_end e;
	int lockfd, r;

	if (agent_status_at(dirfd) != ST_RUNNING)
		return 0;
	lockfd = lock_at(dirfd, "lock", LOCK_EX | LOCK_NB);
	if (lockfd < 0)
		return errno == EWOULDBLOCK ? 0 : -1;
	/* We hold the lock: no monitor, and nobody else is acting on it. */
	if (agent_status_at(dirfd) != ST_RUNNING) {
		close(lockfd);
		return 0;
	}
	if (agent_proc_id(dirfd, proc) == 0 && proc_alive(proc) == 1) {
		close(lockfd);
		return 2;
	}
	memset(&e, 0, sizeof e);
	e.status = ST_LOST;
	e.exit_code = -1;
	e.ended_ms = clock_wall_ms();
	e.reason = "monitor and process gone; exit status unknown";
	r = agent_finish(p, dirfd, id, &e);
	close(lockfd);
	if (r < 0)
		return -1;
	if (read_line_at(dirfd, "queue", queue, sizeof queue) < 0)
		queue[0] = '\0';
	sched_after_end(p, id, queue);
	return 1;
}
