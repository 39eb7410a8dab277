#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "billing.h"
#include "clock.h"
#include "cost.h"
#include "err.h"
#include "file.h"
#include "price.h"

int
billing_append(struct project *p, jv ev)
{
	char name[64], ts[AG_TS_LEN];
	const char *t;
	size_t len;
	char *line;
	int dfd, r;

	if (jv_get_kind(ev) != JV_KIND_OBJECT) {
		jv_free(ev);
		errno = EINVAL;
		return -1;
	}
	jv tv = jv_object_get(jv_copy(ev), jv_string("timestamp"));
	if (jv_get_kind(tv) != JV_KIND_STRING) {
		ts_format(clock_wall_ms(), ts);
		ev = jv_object_set(ev, jv_string("timestamp"), jv_string(ts));
	} else {
		snprintf(ts, sizeof ts, "%s", jv_string_value(tv));
	}
	jv_free(tv);
	t = ts;
	/* The UTC date is the timestamp's first ten characters: ag writes
	 * only Z timestamps, and an imported one is normalised first. */
	if (strlen(t) < 10) {
		jv_free(ev);
		errno = EINVAL;
		return -1;
	}
	snprintf(name, sizeof name, ".tracking-%.10s.jsonl", t);
	if (!(line = json_line(ev, &len)))
		return -1;
	dfd = project_subdir(p, "billing", PROJ_CREATE);
	if (dfd < 0) {
		free(line);
		return -1;
	}
	r = append_locked_at(dfd, name, line, len, AF_FSYNC);
	free(line);
	close(dfd);
	return r;
}

static jv
str_or_null(const char *s)
{
	return s && *s ? jv_string(s) : jv_null();
}

jv
billing_usage_event(const struct usage *u)
{
	char ts[AG_TS_LEN];
	jv ev = jv_object();

	if (!u->timestamp)
		ts_format(clock_wall_ms(), ts);
	ev = jv_object_set(ev, jv_string("event"), jv_string("usage"));
	ev = jv_object_set(ev, jv_string("timestamp"),
	    jv_string(u->timestamp ? u->timestamp : ts));
	ev = jv_object_set(ev, jv_string("agent_id"), str_or_null(u->agent));
	ev = jv_object_set(ev, jv_string("parent_id"), str_or_null(u->parent));
	ev = jv_object_set(ev, jv_string("session"), str_or_null(u->session));
	ev = jv_object_set(ev, jv_string("role"), str_or_null(u->role));
	ev = jv_object_set(ev, jv_string("model"), str_or_null(u->model));
	ev = jv_object_set(ev, jv_string("input_tokens"),
	    jv_number((double)u->in));
	ev = jv_object_set(ev, jv_string("output_tokens"),
	    jv_number((double)u->out));
	ev = jv_object_set(ev, jv_string("cache_read_tokens"),
	    jv_number((double)u->cache_read));
	ev = jv_object_set(ev, jv_string("cache_write_tokens"),
	    jv_number((double)u->cache_write));
	ev = jv_object_set(ev, jv_string("cost"), jv_number(u->cost));
	ev = jv_object_set(ev, jv_string("source"), str_or_null(u->source));
	return ev;
}

int
billing_cost_add(int dirfd, double usd)
{
	char buf[64];
	double have = 0;
	int r;

	while (flock(dirfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -1;
	if (read_line_at(dirfd, "cost", buf, sizeof buf) == 0)
		have = strtod(buf, NULL);
	snprintf(buf, sizeof buf, "%.6f", have + usd);
	r = atomic_puts_at(dirfd, "cost", buf, 0);
	flock(dirfd, LOCK_UN);
	return r;
}

int
billing_usage(struct project *p, const struct usage *u)
{
	int afd;

	if (billing_append(p, billing_usage_event(u)) < 0)
		return -1;
	if (u->agent && *u->agent && u->cost != 0 &&
	    (afd = agent_open(p, u->agent)) >= 0) {
		if (billing_cost_add(afd, u->cost) < 0)
			ag_warn("cannot update agents/%s/cost", u->agent);
		close(afd);
	}
	return 0;
}

/* A non-negative count member of o, else 0. */
static int64_t
count_of(jv o, const char *key)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0;

	jv_free(v);
	return d > 0 && d < 9e15 ? (int64_t)d : 0;
}

static int
number_of(jv o, const char *key, double *out)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	int ok = jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) >= 0;

	if (ok)
		*out = jv_number_value(v);
	jv_free(v);
	return ok;
}

/* Append u's event (with the Claude session id) to out; add up. */
static jv
claude_event(jv out, const struct usage *u, jv sid, int64_t *tokens,
    double *cost)
{
	jv ev = billing_usage_event(u);

	if (jv_get_kind(sid) == JV_KIND_STRING)
		ev = jv_object_set(ev, jv_string("claude_session"), jv_copy(sid));
	*tokens += u->in + u->out + u->cache_read + u->cache_write;
	*cost += u->cost;
	return jv_array_append(out, ev);
}

jv
billing_claude_events(jv result, const struct usage *base, int64_t *tokens,
    double *cost)
{
	jv out = jv_array(), mu, sid;
	struct usage u = *base;
	double total = 0;
	int have_total;

	*tokens = 0;
	*cost = 0;
	if (jv_get_kind(result) != JV_KIND_OBJECT) {
		jv_free(result);
		return out;
	}
	have_total = number_of(result, "total_cost_usd", &total);
	u.source = "claude-result";
	sid = jv_object_get(jv_copy(result), jv_string("session_id"));
	mu = jv_object_get(jv_copy(result), jv_string("modelUsage"));
	if (jv_get_kind(mu) == JV_KIND_OBJECT && jv_object_length(jv_copy(mu))) {
		jv_object_foreach(mu, k, m) {
			double c = 0;

			u.model = jv_string_value(k);
			u.in = count_of(m, "inputTokens");
			u.out = count_of(m, "outputTokens");
			u.cache_read = count_of(m, "cacheReadInputTokens");
			u.cache_write = count_of(m, "cacheCreationInputTokens");
			u.cost = number_of(m, "costUSD", &c) ? c : 0;
			out = claude_event(out, &u, sid, tokens, cost);
			jv_free(k);
			jv_free(m);
		}
		jv_free(mu);
		if (have_total)
			*cost = total;
	} else {
		jv us = jv_object_get(jv_copy(result), jv_string("usage"));

		jv_free(mu);
		if (jv_get_kind(us) == JV_KIND_OBJECT || have_total) {
			if (jv_get_kind(us) != JV_KIND_OBJECT) {
				jv_free(us);
				us = jv_object();
			}
			u.model = "unknown";
			u.in = count_of(us, "input_tokens");
			u.out = count_of(us, "output_tokens");
			u.cache_read = count_of(us, "cache_read_input_tokens");
			u.cache_write = count_of(us,
			    "cache_creation_input_tokens");
			u.cost = have_total ? total : 0;
			out = claude_event(out, &u, sid, tokens, cost);
		}
		jv_free(us);
	}
	jv_free(sid);
	jv_free(result);
	return out;
}

jv
billing_agent_end(const char *id, const char *role, const char *parent,
    const char *session, int64_t duration_ms, const char *status,
    int64_t ended_ms)
{
	char ts[AG_TS_LEN];
	jv ev = jv_object();

	ts_format(ended_ms, ts);
	ev = jv_object_set(ev, jv_string("event"), jv_string("agent_end"));
	ev = jv_object_set(ev, jv_string("timestamp"), jv_string(ts));
	ev = jv_object_set(ev, jv_string("agent_id"), jv_string(id));
	ev = jv_object_set(ev, jv_string("parent_id"), str_or_null(parent));
	ev = jv_object_set(ev, jv_string("session"), str_or_null(session));
	ev = jv_object_set(ev, jv_string("role"),
	    jv_string(role && *role ? role : "workagent"));
	ev = jv_object_set(ev, jv_string("duration_ms"),
	    jv_number((double)(duration_ms > 0 ? duration_ms : 0)));
	ev = jv_object_set(ev, jv_string("status"), jv_string(status));
	return ev;
}

/* Whether billing/DAY holds, past off, the agent_end of id. */
static int
has_end_since(int bfd, const char *day, long long off, const char *id)
{
	char want[AG_ID_MAX + 32], *buf, *line, *nl;
	size_t len, wl;
	int found = 0;

	snprintf(want, sizeof want, "\"agent_id\":\"%s\"", id);
	wl = strlen(want);
	if (!(buf = read_all_at(bfd, day, &len)))
		return 0;
	if (off < 0 || (size_t)off > len)
		off = 0;
	for (line = buf + off; !found && line < buf + len; line = nl + 1) {
		if (!(nl = memchr(line, '\n', (size_t)(buf + len - line))))
			nl = buf + len;
		found = memmem(line, (size_t)(nl - line), "\"agent_end\"", 11) &&
		    memmem(line, (size_t)(nl - line), want, wl);
	}
	free(buf);
	return found;
}

/*
 * Claim the end's billing: billed, which must not be there yet (EEXIST:
 * an end recorded before).  It takes pidstart's inode, which nothing needs
 * once the agent is reaped (every end comes after that, or has no process
 * to name), where a new one would cost an allocation on the way to
 * ag-wait.  A crash between the rename and the write leaves billed with
 * no marker in it: the end recorded again then bills, as it must, since
 * billing comes after the marker.
 */
static int
mark_billed(int dirfd, const char *mark)
{
	char line[160];
	int n = snprintf(line, sizeof line, "%s\n", mark);

	if (claim_reuse_at(dirfd, "pidstart", "billed", line, (size_t)n) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return create_puts_at(dirfd, "billed", mark);
}

int
billing_finish(struct project *p, int dirfd, const char *id, jv usage,
    jv end, char *day, size_t cap)
{
	char mark[128], *buf = NULL, *line;
	size_t len = 0, n;
	long long off;
	struct stat st;
	int bfd, i, count, r = -1;
	jv ts = jv_object_get(jv_copy(end), jv_string("timestamp"));

	snprintf(day, cap, ".tracking-%.10s.jsonl", jv_string_value(ts));
	jv_free(ts);
	if ((bfd = project_subdir(p, "billing", PROJ_CREATE)) < 0)
		goto out;
	off = fstatat(bfd, day, &st, 0) == 0 ? (long long)st.st_size : 0;
	snprintf(mark, sizeof mark, "%s %lld", day, off);
	if (mark_billed(dirfd, mark) < 0) {
		char *sp;

		if (errno != EEXIST)
			goto out;
		/* Finished once already, up to the marker at least: its
		 * offset stays a place to look from. */
		if (read_line_at(dirfd, "billed", mark, sizeof mark) == 0) {
			sp = strchr(mark, ' ');
			off = sp ? strtoll(sp + 1, NULL, 10) : 0;
			if (sp)
				*sp = '\0';
			if (!strncmp(mark, ".tracking-", 10) &&
			    !strchr(mark, '/') &&
			    has_end_since(bfd, mark, off, id)) {
				r = 0;
				goto out;
			}
		}
	}
	usage = jv_array_append(usage, end);
	end = jv_null();
	count = jv_array_length(jv_copy(usage));
	for (i = 0; i < count; i++) {
		char *nb;

		if (!(line = json_line(jv_array_get(jv_copy(usage), i), &n)))
			goto out;
		if (!(nb = realloc(buf, len + n))) {
			free(line);
			goto out;
		}
		buf = nb;
		memcpy(buf + len, line, n);
		len += n;
		free(line);
	}
	r = append_locked_at(bfd, day, buf, len, 0);
out:
	if (bfd >= 0)
		close(bfd);
	free(buf);
	jv_free(usage);
	jv_free(end);
	return r;
}

int
billing_sync(struct project *p, const char *day)
{
	int bfd = project_subdir(p, "billing", 0), fd, r;

	if (bfd < 0)
		return -1;
	fd = openat(bfd, day, O_RDONLY | O_CLOEXEC);
	close(bfd);
	if (fd < 0)
		return -1;
	r = fdatasync(fd);
	close(fd);
	return r;
}

struct session_sum {
	const char *name, *id;
	int64_t tokens;
	double cost;
};

static void
session_event(const char *line, size_t len, const struct cost_event *e,
    void *arg)
{
	struct session_sum *ss = arg;

	if (strcmp(e->event, "usage") || !e->session[0] ||
	    (strcmp(e->session, ss->name) && (!ss->id ||
	    strcmp(e->session, ss->id))))
		return;
	ss->tokens += e->in + e->out + e->cache_read + e->cache_write;
	ss->cost += e->cost;
}

int
billing_session_usage(struct project *p, const char *name, const char *id,
    int64_t *tokens, double *cost)
{
	struct session_sum ss = { name, id && *id ? id : NULL, 0, 0 };

	if (cost_each(p, NULL, NULL, session_event, &ss) < 0)
		return -1;
	*tokens = ss.tokens;
	*cost = ss.cost;
	return 0;
}
