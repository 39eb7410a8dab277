#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cost.h"
#include "file.h"
#include "jscan.h"

static void
str_field(const char *v, const char *ve, char *buf, size_t cap)
{
	if (jscan_string(v, ve, buf, cap) < 0)
		buf[0] = '\0';
}

static void
count_field(const char *v, const char *ve, int64_t *out)
{
	if (jscan_count(v, ve, out) < 0)
		*out = 0;
}

static int
event_member(const char *key, const char *v, const char *ve, void *arg)
{
	struct cost_event *e = arg;

	switch (key[0]) {
	case 'a':
		if (!strcmp(key, "agent_id"))
			str_field(v, ve, e->agent, sizeof e->agent);
		break;
	case 'c':
		if (!strcmp(key, "cost")) {
			if (jscan_number(v, ve, &e->cost) < 0)
				e->cost = 0;
		} else if (!strcmp(key, "cache_read_tokens")) {
			count_field(v, ve, &e->cache_read);
		} else if (!strcmp(key, "cache_write_tokens")) {
			count_field(v, ve, &e->cache_write);
		}
		break;
	case 'd':
		if (!strcmp(key, "duration_ms"))
			count_field(v, ve, &e->duration_ms);
		break;
	case 'e':
		if (!strcmp(key, "event"))
			str_field(v, ve, e->event, sizeof e->event);
		else if (!strcmp(key, "estimated_cost") &&
		    jscan_number(v, ve, &e->cost) < 0)
			e->cost = 0;
		break;
	case 'i':
		if (!strcmp(key, "input_tokens"))
			count_field(v, ve, &e->in);
		break;
	case 'm':
		if (!strcmp(key, "model"))
			str_field(v, ve, e->model, sizeof e->model);
		break;
	case 'o':
		if (!strcmp(key, "output_tokens"))
			count_field(v, ve, &e->out);
		break;
	case 'p':
		if (!strcmp(key, "parent_id"))
			str_field(v, ve, e->parent, sizeof e->parent);
		break;
	case 'r':
		if (!strcmp(key, "role"))
			str_field(v, ve, e->role, sizeof e->role);
		break;
	case 's':
		if (!strcmp(key, "session"))
			str_field(v, ve, e->session, sizeof e->session);
		break;
	case 't':
		if (!strcmp(key, "timestamp"))
			str_field(v, ve, e->ts, sizeof e->ts);
		break;
	}
	return 0;
}

/* Timestamps ag writes are canonical already; others are made so. */
static int
canonical(char *ts)
{
	int64_t ms;
	size_t n = strlen(ts);

	if (n == 24 && ts[10] == 'T' && ts[23] == 'Z')
		return 0;
	if (ts_parse(ts, &ms) < 0)
		return -1;
	ts_format(ms, ts);
	return 0;
}

int
cost_event_scan(const char *line, size_t len, struct cost_event *e)
{
	memset(e, 0, sizeof *e);
	if (jscan_object(line, line + len, 1, event_member, e) != 0 ||
	    !e->event[0] || canonical(e->ts) < 0)
		return -1;
	return 0;
}

int
cost_bound(const char *s, int until_end, char *out)
{
	int64_t ms;

	if (ts_parse(s, &ms) < 0)
		return -1;
	/* A bare date as an upper bound: up to the end of that day. */
	if (until_end && strlen(s) == 10)
		ms += 86400000 - 1;
	ts_format(ms, out);
	return 0;
}

long
cost_each(struct project *p, const char *since, const char *until,
    cost_fn fn, void *arg)
{
	struct cost_event e;
	size_t n, i, len;
	long bad = 0;
	char **names;
	int bfd;

	bfd = project_subdir(p, "billing", 0);
	if (bfd < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(names = dir_names_like(bfd, ".tracking-", ".jsonl", &n))) {
		close(bfd);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *day = names[i] + 10;        /* YYYY-MM-DD */
		char *buf, *line, *nl;

		if (strlen(names[i]) != 26)
			continue;       /* not .tracking-YYYY-MM-DD.jsonl */
		/* A day file holds that UTC day's events only. */
		if ((since && strncmp(day, since, 10) < 0) ||
		    (until && strncmp(day, until, 10) > 0))
			continue;
		if (!(buf = read_all_at(bfd, names[i], &len)))
			continue;
		for (line = buf; line < buf + len; line = nl + 1) {
			if (!(nl = memchr(line, '\n', (size_t)(buf + len - line))))
				nl = buf + len;
			if (nl == line)
				continue;
			if (cost_event_scan(line, (size_t)(nl - line), &e) < 0) {
				bad++;
				continue;
			}
			if ((since && strcmp(e.ts, since) < 0) ||
			    (until && strcmp(e.ts, until) > 0))
				continue;
			fn(line, (size_t)(nl - line), &e, arg);
		}
		free(buf);
	}
	dir_names_free(names);
	close(bfd);
	return bad;
}
