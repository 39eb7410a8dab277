#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "file.h"
#include "price.h"

/*
 * List prices, USD per million tokens, as published by Anthropic and
 * OpenAI in 2026-11; cache writes at the 5-minute rate (what Claude Code's
 * cache_creation_input_tokens mostly are).  More specific globs first.
 * The leading '*' takes provider prefixes ("us.anthropic.", "openai/").
 */
static const struct {
	const char *glob;
	double in, out, cw, cr;
} builtin[] = {
	{ "*claude-opus-4-5*", 5, 25, 6.25, 0.50 },
	{ "*claude-opus-4*", 15, 75, 18.75, 1.50 },
	{ "*claude-sonnet-4*", 3, 15, 3.75, 0.30 },
	{ "*claude-haiku-4*", 1, 5, 1.25, 0.10 },
	{ "*claude-3-7-sonnet*", 3, 15, 3.75, 0.30 },
	{ "*claude-3-5-sonnet*", 3, 15, 3.75, 0.30 },
	{ "*claude-3-5-haiku*", 0.80, 4, 1, 0.08 },
	{ "*claude-3-opus*", 15, 75, 18.75, 1.50 },
	{ "*claude-3-haiku*", 0.25, 1.25, 0.30, 0.03 },
	{ "*gpt-5-codex*", 1.25, 10, 0, 0.125 },
	{ "*gpt-5-mini*", 0.25, 2, 0, 0.025 },
	{ "*gpt-5-nano*", 0.05, 0.40, 0, 0.005 },
	{ "*gpt-5*", 1.25, 10, 0, 0.125 },
	{ "*gpt-4.1-mini*", 0.40, 1.60, 0, 0.10 },
	{ "*gpt-4.1-nano*", 0.10, 0.40, 0, 0.025 },
	{ "*gpt-4.1*", 2, 8, 0, 0.50 },
	{ "*gpt-4o-mini*", 0.15, 0.60, 0, 0.075 },
	{ "*gpt-4o*", 2.50, 10, 0, 1.25 },
	{ "*o4-mini*", 1.10, 4.40, 0, 0.275 },
	{ "o3", 2, 8, 0, 0.50 },
	{ "o3-*", 2, 8, 0, 0.50 },
};
#define NBUILTIN (sizeof builtin / sizeof builtin[0])

static int
add(struct prices *t, const char *glob, const double v[4])
{
	struct price *n = realloc(t->v, (t->n + 1) * sizeof *n);

	if (!n)
		return -1;
	t->v = n;
	if (!(n[t->n].glob = strdup(glob)))
		return -1;
	n[t->n].in = v[0];
	n[t->n].out = v[1];
	n[t->n].cache_write = v[2];
	n[t->n].cache_read = v[3];
	t->n++;
	return 0;
}

/* One price: a plain non-negative decimal. */
static int
price_num(const char *s, double *out)
{
	char *e;
	const char *p;

	for (p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -1;
	errno = 0;
	*out = strtod(s, &e);
	return *s && !*e && !errno && *out < 1e6 ? 0 : -1;
}

static int
parse_file(struct prices *t, char *buf, char *err, size_t cap)
{
	char *line = buf, *next;
	int no = 0;

	for (; line && *line; line = next) {
		char *f[6], *save = NULL, *hash;
		double v[4];
		int n = 0, i;

		no++;
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		for (f[n] = strtok_r(line, " \t\r", &save); f[n] && n < 5; )
			f[++n] = strtok_r(NULL, " \t\r", &save);
		if (n == 0)
			continue;
		if (n != 5 || f[5]) {
			snprintf(err, cap, "pricing line %d: want MODEL-GLOB IN "
			    "OUT CACHE_WRITE CACHE_READ (USD per million tokens)",
			    no);
			return -1;
		}
		for (i = 0; i < 4; i++) {
			if (price_num(f[i + 1], &v[i]) < 0) {
				snprintf(err, cap, "pricing line %d: bad price "
				    "'%s'", no, f[i + 1]);
				return -1;
			}
		}
		if (add(t, f[0], v) < 0) {
			snprintf(err, cap, "pricing line %d: %s", no,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
prices_load(struct project *p, struct prices *t, char *err, size_t cap)
{
	size_t i, len;
	char *buf;

	memset(t, 0, sizeof *t);
	buf = p ? read_all_at(p->fd, "pricing", &len) : NULL;
	if (!buf && p && errno != ENOENT) {
		snprintf(err, cap, "cannot read .project/pricing: %s",
		    strerror(errno));
		return -1;
	}
	if (buf) {
		if (memchr(buf, '\0', len)) {
			snprintf(err, cap, "pricing: not a text file");
			free(buf);
			return -1;
		}
		if (parse_file(t, buf, err, cap) < 0) {
			free(buf);
			prices_free(t);
			return -1;
		}
		free(buf);
	}
	for (i = 0; i < NBUILTIN; i++) {
		double v[4] = { builtin[i].in, builtin[i].out, builtin[i].cw,
		    builtin[i].cr };

		if (add(t, builtin[i].glob, v) < 0) {
			snprintf(err, cap, "%s", strerror(errno));
			prices_free(t);
			return -1;
		}
	}
	return 0;
}

void
prices_free(struct prices *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].glob);
	for (i = 0; i < t->nwarned; i++)
		free(t->warned[i]);
	free(t->v);
	free(t->warned);
	memset(t, 0, sizeof *t);
}

const struct price *
price_find(struct prices *t, const char *model)
{
	size_t i;
	char **w;

	for (i = 0; i < t->n; i++)
		if (fnmatch(t->v[i].glob, model, 0) == 0)
			return &t->v[i];
	for (i = 0; i < t->nwarned; i++)
		if (!strcmp(t->warned[i], model))
			return NULL;
	ag_warnx("no price for model '%s': priced 0 (add it to "
	    ".project/pricing)", model);
	if ((w = realloc(t->warned, (t->nwarned + 1) * sizeof *w))) {
		t->warned = w;
		if ((w[t->nwarned] = strdup(model)))
			t->nwarned++;
	}
	return NULL;
}

double
price_cost(const struct price *pr, int64_t in, int64_t out,
    int64_t cache_write, int64_t cache_read)
{
	if (!pr)
		return 0;
	return ((double)in * pr->in + (double)out * pr->out +
	    (double)cache_write * pr->cache_write +
	    (double)cache_read * pr->cache_read) / 1e6;
}
