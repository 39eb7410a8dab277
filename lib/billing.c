#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "billing.h"
#include "clock.h"
#include "file.h"

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

int
billing_agent_end(struct project *p, const char *id, const char *role,
    const char *parent, const char *session, int64_t duration_ms,
    const char *status, int64_t ended_ms)
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
	return billing_append(p, ev);
}

/* Add one line's usage when it is a usage event of the session. */
static void
session_line(const char *line, size_t len, const char *name, const char *id,
    int64_t *tokens, double *cost)
{
	jv v, s, n;
	const char *sv;
	static const char *const keys[] = { "input_tokens", "output_tokens",
	    "cache_read_tokens", "cache_write_tokens" };
	size_t i;

	/* Most lines are other sessions' or other events: skip them
	 * without parsing. */
	if (!memmem(line, len, "\"usage\"", 7) ||
	    (!memmem(line, len, name, strlen(name)) &&
	    !(id && *id && memmem(line, len, id, strlen(id)))))
		return;
	v = jv_parse_sized(line, (int)len);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return;
	}
	s = jv_object_get(jv_copy(v), jv_string("event"));
	n = jv_object_get(jv_copy(v), jv_string("session"));
	sv = jv_get_kind(n) == JV_KIND_STRING ? jv_string_value(n) : NULL;
	if (jv_get_kind(s) == JV_KIND_STRING &&
	    !strcmp(jv_string_value(s), "usage") && sv &&
	    (!strcmp(sv, name) || (id && !strcmp(sv, id)))) {
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			jv t = jv_object_get(jv_copy(v), jv_string(keys[i]));

			if (jv_get_kind(t) == JV_KIND_NUMBER)
				*tokens += (int64_t)jv_number_value(t);
			jv_free(t);
		}
		jv c = jv_object_get(jv_copy(v), jv_string("cost"));
		if (jv_get_kind(c) == JV_KIND_NUMBER)
			*cost += jv_number_value(c);
		jv_free(c);
	}
	jv_free(s);
	jv_free(n);
	jv_free(v);
}

int
billing_session_usage(struct project *p, const char *name, const char *id,
    int64_t *tokens, double *cost)
{
	struct dirent *de;
	DIR *d;
	int dfd;

	*tokens = 0;
	*cost = 0;
	dfd = project_subdir(p, "billing", 0);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d))) {
		size_t len;
		char *buf, *line, *nl;

		if (strncmp(de->d_name, ".tracking-", 10))
			continue;
		if (!(buf = read_all_at(dirfd(d), de->d_name, &len)))
			continue;
		for (line = buf; line < buf + len; line = nl + 1) {
			if (!(nl = memchr(line, '\n', (size_t)(buf + len - line))))
				nl = buf + len;
			session_line(line, (size_t)(nl - line), name, id,
			    tokens, cost);
		}
		free(buf);
	}
	closedir(d);
	return 0;
}
