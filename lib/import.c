#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "billing.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "import.h"
#include "jscan.h"
#include "json.h"
#include "names.h"
#include "par.h"
#include "price.h"
#include "smap.h"

#define CWD_MAX 512
#define SID_MAX 128
#define MODEL_MAX 128

/* ---- the set of message keys counted ---- */

struct keyset {
	uint64_t *v;            /* 0 marks a free slot (key 0 is stored as 1) */
	size_t n, cap;
	uint64_t *added;        /* new this run, for SRC.keys */
	size_t nadded, addcap;
};

static int
keyset_grow(struct keyset *k)
{
	size_t ncap = k->cap ? k->cap * 2 : 1 << 16, i, j;
	uint64_t *nv = calloc(ncap, sizeof *nv);

	if (!nv)
		return -1;
	for (i = 0; i < k->cap; i++) {
		if (!k->v[i])
			continue;
		for (j = k->v[i] & (ncap - 1); nv[j]; j = (j + 1) & (ncap - 1))
			;
		nv[j] = k->v[i];
	}
	free(k->v);
	k->v = nv;
	k->cap = ncap;
	return 0;
}

/* 1 when h was there already, 0 when added now, -1 out of memory. */
static int
keyset_add(struct keyset *k, uint64_t h, int record)
{
	size_t i;

	if (!h)
		h = 1;
	if ((k->n + 1) * 2 > k->cap && keyset_grow(k) < 0)
		return -1;
	for (i = h & (k->cap - 1); k->v[i]; i = (i + 1) & (k->cap - 1))
		if (k->v[i] == h)
			return 1;
	k->v[i] = h;
	k->n++;
	if (record) {
		if (k->nadded == k->addcap) {
			size_t nc = k->addcap ? k->addcap * 2 : 1024;
			uint64_t *na = realloc(k->added, nc * sizeof *na);

			if (!na)
				return -1;
			k->added = na;
			k->addcap = nc;
		}
		k->added[k->nadded++] = h;
	}
	return 0;
}

static void
keyset_free(struct keyset *k)
{
	free(k->v);
	free(k->added);
	memset(k, 0, sizeof *k);
}

/* ---- per-file state ---- */

struct fstate {
	long long dev, ino, size, off;
	/* Codex only: what the file said before the offset. */
	char model[MODEL_MAX], sid[SID_MAX], cwd[CWD_MAX];
	long long tin, tcached, tout;
	int seen;               /* found in this run's walk */
};

/* ---- attribution to agents ---- */

struct agent_rec {
	char id[AG_ID_MAX + 1], parent[AG_ID_MAX + 1];
	char session[AG_NAME_MAX + 1], role[AG_NAME_MAX + 1];
	char cwd[CWD_MAX];
	char claude_session[1024];      /* the sessions it billed, a line each */
	int64_t start, end;
	size_t next_cwd;                /* the next in its cwd's list, + 1 */
};

/* A list of agents: the first's index + 1, 0 when empty. */
struct head {
	size_t first;
};

struct sid_node {
	size_t agent, next;             /* next: + 1, as in struct head */
};

/*
 * Every agent, live or archived, and indexes on it: a message is looked
 * up by its cwd and its Claude session, not against every agent (100,000
 * messages and 10,000 agents would make a billion comparisons).
 */
struct agents {
	struct agent_rec *v;
	size_t n, cap;
	int loaded;
	int64_t loaded_ms;      /* the wall clock before they were read */
	struct smap by_cwd;     /* cwd -> struct head, through next_cwd */
	struct smap by_sid;     /* Claude session billed -> struct head */
	struct sid_node *sn;    /* the by_sid lists' nodes */
	size_t nsn;
	size_t *running;        /* the agents not ended */
	size_t nrunning;
};

static int
cmp_rec_id(const void *x, const void *y)
{
	return strcmp(((const struct agent_rec *)x)->id,
	    ((const struct agent_rec *)y)->id);
}

/* The string at key k of o into buf, or "". */
static void
jstr(jv o, const char *k, char *buf, size_t cap)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));

	snprintf(buf, cap, "%s", jv_get_kind(v) == JV_KIND_STRING ?
	    jv_string_value(v) : "");
	jv_free(v);
}

/*
 * The agents of archived sessions, from the runs their summaries keep
 * (archive/NAME.json): billed and attributed as if they were still here.
 * Read after the live ones, as the archiver writes the summary before it
 * removes the agents; one restored meanwhile is live, and not taken twice.
 */
static int
archived_load(struct project *p, struct agents *a)
{
	char **names, buf[64];
	size_t n, i, live = a->n;
	int afd, rc = 0;

	if ((afd = project_subdir(p, "archive", 0)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(names = dir_names(afd, &n))) {
		close(afd);
		return -1;
	}
	if (live)
		qsort(a->v, live, sizeof *a->v, cmp_rec_id);
	for (i = 0; i < n && rc == 0; i++) {
		size_t len = strlen(names[i]);
		jv info, runs;
		int k, m;

		if (names[i][0] == '.' || len < 6 ||
		    strcmp(names[i] + len - 5, ".json"))
			continue;
		info = json_read_at(afd, names[i]);
		if (jv_get_kind(info) == JV_KIND_OBJECT)
			runs = jv_object_get(info, jv_string("agent_runs"));
		else {
			jv_free(info);
			runs = jv_null();
		}
		m = jv_get_kind(runs) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(runs)) : 0;
		for (k = 0; k < m; k++) {
			jv run = jv_array_get(jv_copy(runs), k);
			struct agent_rec *r, *nv;

			if (a->n == a->cap) {
				size_t c = a->cap ? 2 * a->cap : 16;

				if (!(nv = realloc(a->v, c * sizeof *a->v))) {
					jv_free(run);
					rc = -1;
					break;
				}
				a->v = nv;
				a->cap = c;
			}
			r = &a->v[a->n];
			memset(r, 0, sizeof *r);
			jstr(run, "id", r->id, sizeof r->id);
			jstr(run, "cwd", r->cwd, sizeof r->cwd);
			jstr(run, "started", buf, sizeof buf);
			if (!r->id[0] || !r->cwd[0] || ts_parse(buf, &r->start) < 0 ||
			    (live && bsearch(r, a->v, live, sizeof *a->v,
			    cmp_rec_id))) {
				jv_free(run);
				continue;
			}
			/* Archived, so ended: one that never said when ran no
			 * longer than its start. */
			jstr(run, "ended", buf, sizeof buf);
			if (ts_parse(buf, &r->end) < 0)
				r->end = r->start;
			jstr(run, "parent", r->parent, sizeof r->parent);
			jstr(run, "session", r->session, sizeof r->session);
			jstr(run, "role", r->role, sizeof r->role);
			if (!r->role[0])
				snprintf(r->role, sizeof r->role, "workagent");
			jstr(run, "claude_session", r->claude_session,
			    sizeof r->claude_session);
			jv_free(run);
			a->n++;
		}
		jv_free(runs);
	}
	dir_names_free(names);
	close(afd);
	return rc;
}

/* The indexes of struct agents; -1 out of memory (an agent left out of
 * them could see its billed session counted again). */
static int
agents_index(struct agents *a)
{
	size_t i, nl;

	for (i = 0, nl = 0; i < a->n; i++) {
		const char *c = a->v[i].claude_session;

		if (*c)
			nl++;
		while ((c = strchr(c, '\n')))
			nl++, c++;
	}
	a->sn = nl ? malloc(nl * sizeof *a->sn) : NULL;
	a->running = a->n ? malloc(a->n * sizeof *a->running) : NULL;
	if ((nl && !a->sn) || (a->n && !a->running))
		return -1;
	for (i = 0; i < a->n; i++) {
		struct agent_rec *r = &a->v[i];
		struct head *h;
		char *line, *save;

		if (r->end == INT64_MAX)
			a->running[a->nrunning++] = i;
		if (!(h = smap_get(&a->by_cwd, r->cwd)))
			return -1;
		r->next_cwd = h->first;
		h->first = i + 1;
		for (line = strtok_r(r->claude_session, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save)) {
			if (!(h = smap_get(&a->by_sid, line)))
				return -1;
			a->sn[a->nsn].agent = i;
			a->sn[a->nsn].next = h->first;
			h->first = ++a->nsn;
		}
	}
	return 0;
}

static void
agents_free(struct agents *a)
{
	if (a->loaded) {
		smap_free(&a->by_cwd);
		smap_free(&a->by_sid);
	}
	free(a->sn);
	free(a->running);
	free(a->v);
}

struct load {
	int dirfd;
	char **names;
	struct agent_rec *v;
};

/* Agent i of the names into v[i]; an empty id when it has not started. */
static void
agent_load_one(size_t i, void *arg)
{
	const struct load *l = arg;
	struct agent_rec *r = &l->v[i];
	char buf[64];
	int fd = openat(l->dirfd, l->names[i], O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);

	if (fd < 0)
		return;
	if (read_line_at(fd, "cwd", r->cwd, sizeof r->cwd) < 0 ||
	    read_line_at(fd, "started", buf, sizeof buf) < 0 ||
	    ts_parse(buf, &r->start) < 0) {
		close(fd);
		return;
	}
	/* ended before claude_session: the agent writes them the other
	 * way round, so one seen ended shows what it billed. */
	if (read_line_at(fd, "ended", buf, sizeof buf) < 0 ||
	    ts_parse(buf, &r->end) < 0)
		r->end = INT64_MAX;
	if (read_line_at(fd, "parent", r->parent, sizeof r->parent) < 0)
		r->parent[0] = '\0';
	if (read_line_at(fd, "session", r->session, sizeof r->session) < 0)
		r->session[0] = '\0';
	if (read_line_at(fd, "role", r->role, sizeof r->role) < 0)
		snprintf(r->role, sizeof r->role, "workagent");
	if (read_small_at(fd, "claude_session", r->claude_session,
	    sizeof r->claude_session) < 0)
		r->claude_session[0] = '\0';
	close(fd);
	snprintf(r->id, sizeof r->id, "%s", l->names[i]);
}

/* Every agent that has started, live (read on every core) and archived;
 * then the indexes.  -1 when they cannot all be had. */
static int
agents_load(struct project *p, struct agents *a)
{
	struct load l;
	size_t n, i;

	a->loaded = 1;
	a->loaded_ms = clock_wall_ms();
	smap_init(&a->by_cwd, sizeof(struct head));
	smap_init(&a->by_sid, sizeof(struct head));
	if (p->agents < 0)
		goto archived;
	if (!(l.names = dir_names(p->agents, &n)))
		return -1;
	if (!(a->v = calloc(n + 1, sizeof *a->v))) {
		dir_names_free(l.names);
		return -1;
	}
	a->cap = n + 1;
	l.dirfd = p->agents;
	l.v = a->v;
	par_each(n, 256, agent_load_one, &l);
	for (i = 0; i < n; i++)
		if (a->v[i].id[0] && a->n++ != i)
			a->v[a->n - 1] = a->v[i];
	dir_names_free(l.names);
archived:
	if (archived_load(p, a) < 0)
		return -1;
	return agents_index(a);
}

/* The one agent running in cwd at ms, or NULL (none, or ambiguous). */
static const struct agent_rec *
agent_for(struct agents *a, const char *cwd, int64_t ms)
{
	const struct agent_rec *found = NULL;
	const struct head *h;
	size_t i;

	if (!cwd[0] || !(h = smap_find(&a->by_cwd, cwd)))
		return NULL;
	for (i = h->first; i; i = a->v[i - 1].next_cwd) {
		if (ms < a->v[i - 1].start || ms > a->v[i - 1].end)
			continue;
		if (found)
			return NULL;
		found = &a->v[i - 1];
	}
	return found;
}

/* The agent whose own result object billed Claude session sid at ms. */
static const struct agent_rec *
billed_by(struct agents *a, const char *sid, int64_t ms)
{
	const struct head *h;
	size_t i;

	if (!sid[0] || !(h = smap_find(&a->by_sid, sid)))
		return NULL;
	for (i = h->first; i; i = a->sn[i - 1].next) {
		const struct agent_rec *r = &a->v[a->sn[i - 1].agent];

		if (ms >= r->start && ms <= r->end)
			return r;
	}
	return NULL;
}

/* Whether dir is cwd or one of its parents. */
static int
cwd_within(const char *cwd, const char *dir)
{
	size_t n = strlen(dir);

	if (!n || strncmp(cwd, dir, n))
		return 0;
	return cwd[n] == '\0' || cwd[n] == '/' || (n == 1 && dir[0] == '/');
}

/*
 * Whether an agent may yet bill the Claude message written at ms in cwd
 * from its result object, at its end: an agent still running, started
 * before ms, in cwd or a folder above it.  Such a message waits for an
 * import after that end (billed_by decides then); counted now, it would
 * be counted twice.  An agent records the Claude sessions it billed
 * before its end time, so one seen ended is decided.
 */
static int
billable_later(const struct agents *a, const char *cwd, int64_t ms)
{
	size_t i;

	for (i = 0; cwd[0] && i < a->nrunning; i++) {
		const struct agent_rec *r = &a->v[a->running[i]];

		if (ms >= r->start && cwd_within(cwd, r->cwd))
			return 1;
	}
	return 0;
}

/* ---- one run ---- */

struct group {
	const struct agent_rec *agent;
	char model[MODEL_MAX], sid[SID_MAX], ts[AG_TS_LEN];
	int64_t in, out, cache_read, cache_write, messages;
};

struct run {
	struct project *p;
	enum import_src src;
	struct import_stats *st;
	struct keyset keys;
	int keys_loaded;
	struct smap files;      /* path -> struct fstate */
	struct smap groups;     /* agent|sid|model|hour -> struct group */
	struct agents agents;
	struct agent_rec **retired;     /* agents read before: groups point */
	size_t nretired;                /* into them */
	struct prices prices;
	int ifd;                /* billing/.import */
	int bfd;                /* billing */
	char path[PATH_MAX];    /* the file being read */
	struct fstate *fs;
	FILE *journal;          /* being written, or NULL */
	struct smap days;       /* day file -> struct day, for the journal */
	char run_id[96];
};

static const char *
src_name(enum import_src s)
{
	return s == IMPORT_CLAUDE ? "claude" : "codex";
}

static int
load_keys(struct run *r)
{
	char name[32], *buf, *line, *nl;
	size_t len;

	r->keys_loaded = 1;
	snprintf(name, sizeof name, "%s.keys", src_name(r->src));
	if (!(buf = read_all_at(r->ifd, name, &len)))
		return errno == ENOENT ? 0 : -1;
	for (line = buf; line < buf + len; line = nl + 1) {
		char *e;
		uint64_t h;

		if (!(nl = memchr(line, '\n', (size_t)(buf + len - line))))
			break;          /* a cut last line: not a key */
		*nl = '\0';
		h = strtoull(line, &e, 16);
		if (e == line + 16 && keyset_add(&r->keys, h, 0) < 0) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

static long long
jnum(jv o, const char *k)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));
	long long x = jv_get_kind(v) == JV_KIND_NUMBER ?
	    (long long)jv_number_value(v) : 0;

	jv_free(v);
	return x;
}

/* One "F" line of the file table. */
static int
load_fstate(struct run *r, const char *line, size_t len)
{
	jv o = jv_parse_sized(line, (int)len);
	char path[PATH_MAX];
	struct fstate *f = NULL;

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		return 0;
	}
	jstr(o, "path", path, sizeof path);
	if (!path[0])
		f = NULL;
	else if ((f = smap_get(&r->files, path))) {
		f->dev = jnum(o, "dev");
		f->ino = jnum(o, "ino");
		f->size = jnum(o, "size");
		f->off = jnum(o, "off");
		jstr(o, "model", f->model, sizeof f->model);
		jstr(o, "sid", f->sid, sizeof f->sid);
		jstr(o, "cwd", f->cwd, sizeof f->cwd);
		f->tin = jnum(o, "tin");
		f->tcached = jnum(o, "tcached");
		f->tout = jnum(o, "tout");
	}
	jv_free(o);
	return !path[0] || f ? 0 : -1;
}

static int
load_files(struct run *r)
{
	char name[32], *buf, *line, *nl;
	size_t len;

	snprintf(name, sizeof name, "%s.files", src_name(r->src));
	if (!(buf = read_all_at(r->ifd, name, &len)))
		return errno == ENOENT ? 0 : -1;
	for (line = buf; line < buf + len; line = nl + 1) {
		if (!(nl = memchr(line, '\n', (size_t)(buf + len - line))))
			nl = buf + len;
		if (nl > line && load_fstate(r, line, (size_t)(nl - line)) < 0) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

/* The agents read again; the records read before stay, for the groups
 * that point into them. */
static int
agents_reload(struct run *r)
{
	struct agent_rec **nv = realloc(r->retired, (r->nretired + 1) *
	    sizeof *nv);

	if (!nv)
		return -1;
	r->retired = nv;
	r->retired[r->nretired++] = r->agents.v;
	r->agents.v = NULL;
	agents_free(&r->agents);
	memset(&r->agents, 0, sizeof r->agents);
	return agents_load(r->p, &r->agents);
}

/* Count a message: dedupe, attribute, add to its group.  1: not now
 * (billable_later), nor anything after it in its file. */
static int
count_usage(struct run *r, uint64_t key, int dedupe, const char *ts_in,
    const char *sid, const char *cwd, const char *model, int64_t in,
    int64_t out, int64_t cache_read, int64_t cache_write)
{
	char ts[AG_TS_LEN], gkey[AG_ID_MAX + SID_MAX + MODEL_MAX + 32];
	const struct agent_rec *a;
	struct group *g;
	int64_t ms;

	if (ts_parse(ts_in, &ms) < 0) {
		r->st->skipped++;
		return 0;
	}
	if (!r->agents.loaded)
		if (agents_load(r->p, &r->agents) < 0) {
			ag_warn("cannot read the agents of %s", r->p->path);
			return -1;
		}
	/* A message newer than our reading of the agents: one may have
	 * started since, and be the message's; read them again.  Not for
	 * one from the future (a skewed clock, a made-up transcript): no
	 * agent can have started then. */
	if (r->src == IMPORT_CLAUDE && ms >= r->agents.loaded_ms &&
	    ms <= clock_wall_ms() && agents_reload(r) < 0) {
		ag_warn("cannot read the agents of %s", r->p->path);
		return -1;
	}
	if (r->src == IMPORT_CLAUDE && billable_later(&r->agents, cwd, ms)) {
		r->st->deferred++;
		return 1;
	}
	if (!r->keys_loaded && load_keys(r) < 0)
		return -1;
	if (dedupe) {
		int k = keyset_add(&r->keys, key, 1);

		if (k < 0)
			return -1;
		if (k == 1) {
			r->st->duplicates++;
			return 0;
		}
	}
	if (r->src == IMPORT_CLAUDE && billed_by(&r->agents, sid, ms)) {
		r->st->agent_billed++;
		return 0;
	}
	a = agent_for(&r->agents, cwd, ms);
	ts_format(ms, ts);
	snprintf(gkey, sizeof gkey, "%s|%s|%s|%.13s", a ? a->id : "", sid,
	    model, ts);
	if (!(g = smap_get(&r->groups, gkey)))
		return -1;
	if (!g->messages) {
		g->agent = a;
		snprintf(g->model, sizeof g->model, "%s", model);
		snprintf(g->sid, sizeof g->sid, "%s", sid);
	}
	if (strcmp(ts, g->ts) > 0)
		memcpy(g->ts, ts, sizeof ts);
	g->in += in;
	g->out += out;
	g->cache_read += cache_read;
	g->cache_write += cache_write;
	g->messages++;
	r->st->messages++;
	if (a)
		r->st->attributed++;
	return 0;
}

/* ---- Claude Code lines ---- */

struct cl_line {
	char type[16], ts[40], req[SID_MAX], sid[SID_MAX], cwd[CWD_MAX];
	const char *msg, *msg_end;
	int bad;
};

struct cl_msg {
	char id[SID_MAX], model[MODEL_MAX];
	const char *usage, *usage_end;
};

struct cl_usage {
	int64_t in, out, cw, cr;
	int bad;
};

static void
get_str(const char *v, const char *ve, char *buf, size_t cap)
{
	if (jscan_string(v, ve, buf, cap) < 0)
		buf[0] = '\0';
}

static int
cl_top(const char *key, const char *v, const char *ve, void *arg)
{
	struct cl_line *l = arg;

	if (!strcmp(key, "type")) {
		get_str(v, ve, l->type, sizeof l->type);
		/* Only assistant lines carry usage: the rest of any other
		 * line (tool output, mostly) is not even looked at. */
		return strcmp(l->type, "assistant") != 0;
	}
	if (!strcmp(key, "message") && *v == '{') {
		l->msg = v;
		l->msg_end = ve;
	} else if (!strcmp(key, "timestamp")) {
		get_str(v, ve, l->ts, sizeof l->ts);
	} else if (!strcmp(key, "requestId")) {
		get_str(v, ve, l->req, sizeof l->req);
	} else if (!strcmp(key, "sessionId")) {
		get_str(v, ve, l->sid, sizeof l->sid);
	} else if (!strcmp(key, "cwd")) {
		get_str(v, ve, l->cwd, sizeof l->cwd);
	}
	return 0;
}

static int
cl_message(const char *key, const char *v, const char *ve, void *arg)
{
	struct cl_msg *m = arg;

	if (!strcmp(key, "id"))
		get_str(v, ve, m->id, sizeof m->id);
	else if (!strcmp(key, "model"))
		get_str(v, ve, m->model, sizeof m->model);
	else if (!strcmp(key, "usage") && *v == '{') {
		m->usage = v;
		m->usage_end = ve;
	}
	return 0;
}

static int
cl_count(const char *v, const char *ve, int64_t *out)
{
	if (jscan_is_null(v, ve)) {
		*out = 0;
		return 0;
	}
	return jscan_count(v, ve, out);
}

static int
cl_usage(const char *key, const char *v, const char *ve, void *arg)
{
	struct cl_usage *u = arg;
	int64_t *dst = NULL;

	if (!strcmp(key, "input_tokens"))
		dst = &u->in;
	else if (!strcmp(key, "output_tokens"))
		dst = &u->out;
	else if (!strcmp(key, "cache_creation_input_tokens"))
		dst = &u->cw;
	else if (!strcmp(key, "cache_read_input_tokens"))
		dst = &u->cr;
	if (dst && cl_count(v, ve, dst) < 0)
		u->bad = 1;
	return 0;
}

static int
claude_line(struct run *r, const char *line, size_t len)
{
	struct cl_line l;
	struct cl_msg m;
	struct cl_usage u;
	char key[2 * SID_MAX + 2];
	int rc;

	memset(&l, 0, sizeof l);
	rc = jscan_object(line, line + len, 1, cl_top, &l);
	if (rc == 1 || (rc == 0 && strcmp(l.type, "assistant")))
		return 0;       /* not an assistant line */
	if (rc < 0) {
		r->st->skipped++;
		return 0;
	}
	if (!l.msg)
		return 0;
	memset(&m, 0, sizeof m);
	memset(&u, 0, sizeof u);
	if (jscan_object(l.msg, l.msg_end, 1, cl_message, &m) != 0 ||
	    !m.usage)
		return 0;       /* an assistant line without usage */
	if (jscan_object(m.usage, m.usage_end, 1, cl_usage, &u) != 0 ||
	    u.bad) {
		r->st->skipped++;
		return 0;
	}
	if (!strcmp(m.model, "<synthetic>") || !m.model[0]) {
		/* Claude Code's own stand-in messages: no API call. */
		r->st->skipped++;
		return 0;
	}
	snprintf(key, sizeof key, "%s:%s", m.id, l.req);
	return count_usage(r, hash64(key, strlen(key)), m.id[0] && l.req[0],
	    l.ts, l.sid, l.cwd, m.model, u.in, u.out, u.cr, u.cw);
}

/* ---- Codex lines ---- */

struct cx_line {
	char type[32], ts[40];
	const char *pl, *pl_end;
};

struct cx_payload {
	char type[32], model[MODEL_MAX], id[SID_MAX], cwd[CWD_MAX];
	const char *info, *info_end;
};

struct cx_info {
	const char *last, *last_end, *total, *total_end;
	int info_null;
};

struct cx_usage {
	int64_t in, cached, out;
	int bad;
};

static int
cx_top(const char *key, const char *v, const char *ve, void *arg)
{
	struct cx_line *l = arg;

	if (!strcmp(key, "type"))
		get_str(v, ve, l->type, sizeof l->type);
	else if (!strcmp(key, "timestamp"))
		get_str(v, ve, l->ts, sizeof l->ts);
	else if (!strcmp(key, "payload") && *v == '{') {
		l->pl = v;
		l->pl_end = ve;
	}
	return 0;
}

static int
cx_payload(const char *key, const char *v, const char *ve, void *arg)
{
	struct cx_payload *p = arg;

	if (!strcmp(key, "type"))
		get_str(v, ve, p->type, sizeof p->type);
	else if (!strcmp(key, "model"))
		get_str(v, ve, p->model, sizeof p->model);
	else if (!strcmp(key, "id"))
		get_str(v, ve, p->id, sizeof p->id);
	else if (!strcmp(key, "cwd"))
		get_str(v, ve, p->cwd, sizeof p->cwd);
	else if (!strcmp(key, "info")) {
		p->info = v;
		p->info_end = ve;
	}
	return 0;
}

static int
cx_info(const char *key, const char *v, const char *ve, void *arg)
{
	struct cx_info *i = arg;

	if (!strcmp(key, "last_token_usage") && *v == '{') {
		i->last = v;
		i->last_end = ve;
	} else if (!strcmp(key, "total_token_usage") && *v == '{') {
		i->total = v;
		i->total_end = ve;
	}
	return 0;
}

static int
cx_usage(const char *key, const char *v, const char *ve, void *arg)
{
	struct cx_usage *u = arg;
	int64_t *dst = NULL;

	if (!strcmp(key, "input_tokens"))
		dst = &u->in;
	else if (!strcmp(key, "cached_input_tokens"))
		dst = &u->cached;
	else if (!strcmp(key, "output_tokens"))
		dst = &u->out;
	if (dst && cl_count(v, ve, dst) < 0)
		u->bad = 1;
	return 0;
}

static int
read_cx_usage(const char *v, const char *ve, struct cx_usage *u)
{
	memset(u, 0, sizeof *u);
	return jscan_object(v, ve, 1, cx_usage, u) != 0 || u->bad ? -1 : 0;
}

static int
codex_line(struct run *r, const char *line, size_t len)
{
	struct fstate *f = r->fs;
	struct cx_line l;
	struct cx_payload pl;
	struct cx_info info;
	struct cx_usage last, total;
	int64_t in, cached, out;
	const char *sid;
	uint64_t key;

	/* Cheap: only three kinds of line matter. */
	if (!memmem(line, len, "token_count", 11) &&
	    !memmem(line, len, "turn_context", 12) &&
	    !memmem(line, len, "session_meta", 12))
		return 0;
	memset(&l, 0, sizeof l);
	memset(&pl, 0, sizeof pl);
	if (jscan_object(line, line + len, 1, cx_top, &l) != 0) {
		r->st->skipped++;
		return 0;
	}
	if (!l.pl || jscan_object(l.pl, l.pl_end, 1, cx_payload, &pl) != 0)
		return 0;
	if (!strcmp(l.type, "session_meta")) {
		if (pl.id[0])
			snprintf(f->sid, sizeof f->sid, "%s", pl.id);
		if (pl.cwd[0])
			snprintf(f->cwd, sizeof f->cwd, "%s", pl.cwd);
		return 0;
	}
	if (!strcmp(l.type, "turn_context")) {
		if (pl.model[0])
			snprintf(f->model, sizeof f->model, "%s", pl.model);
		if (pl.cwd[0])
			snprintf(f->cwd, sizeof f->cwd, "%s", pl.cwd);
		return 0;
	}
	if (strcmp(l.type, "event_msg") || strcmp(pl.type, "token_count") ||
	    !pl.info || jscan_is_null(pl.info, pl.info_end))
		return 0;
	memset(&info, 0, sizeof info);
	if (jscan_object(pl.info, pl.info_end, 1, cx_info, &info) != 0) {
		r->st->skipped++;
		return 0;
	}
	if (info.total && read_cx_usage(info.total, info.total_end, &total) < 0) {
		r->st->skipped++;
		return 0;
	}
	if (info.last) {
		if (read_cx_usage(info.last, info.last_end, &last) < 0) {
			r->st->skipped++;
			return 0;
		}
		in = last.in;
		cached = last.cached;
		out = last.out;
	} else if (info.total) {
		in = total.in - f->tin;
		cached = total.cached - f->tcached;
		out = total.out - f->tout;
	} else {
		return 0;
	}
	if (info.total) {
		f->tin = total.in;
		f->tcached = total.cached;
		f->tout = total.out;
	}
	if (in < 0 || cached < 0 || out < 0) {
		r->st->skipped++;
		return 0;
	}
	if (in == 0 && cached == 0 && out == 0)
		return 0;
	/* Input counts cached input too; ag counts those as cache reads. */
	in = in > cached ? in - cached : 0;
	sid = f->sid[0] ? f->sid : r->path;
	key = hash64(sid, strlen(sid)) ^ hash64(line, len);
	return count_usage(r, key, 1, l.ts, f->sid, f->cwd,
	    f->model[0] ? f->model : "gpt-5-codex", in, out, cached, 0);
}

/* ---- reading a file from its offset ---- */

static int
read_file(struct run *r, int fd, struct fstate *f, long long size)
{
	static char *buf;
	static size_t cap;
	size_t have = 0, at;
	long long off = f->off;
	int skipping = 0, warned = 0;

	if (!buf) {
		cap = 1 << 20;
		if (!(buf = malloc(cap)))
			return -1;
	}
	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		return -1;
	for (;;) {
		ssize_t n;
		char *nl;

		if (have == cap) {
			/* A line longer than the buffer: grow, up to the
			 * longest line worth reading. */
			if ((long)cap >= IMPORT_LINE_MAX) {
				if (!warned++)
					ag_warnx("%s: a line longer than %ld "
					    "MiB skipped", r->path,
					    IMPORT_LINE_MAX >> 20);
				r->st->skipped++;
				skipping = 1;
				off += (long long)have;
				have = 0;
			} else {
				char *nb = realloc(buf, cap * 2);

				if (!nb)
					return -1;
				buf = nb;
				cap *= 2;
			}
		}
		n = read(fd, buf + have, cap - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		r->st->bytes += n;
		if (n == 0)
			break;
		have += (size_t)n;
		at = 0;
		while ((nl = memchr(buf + at, '\n', have - at))) {
			size_t len = (size_t)(nl - (buf + at));
			int rc = skipping || len == 0 ? 0 :
			    r->src == IMPORT_CLAUDE ? claude_line(r, buf + at,
			    len) : codex_line(r, buf + at, len);

			if (rc < 0)
				return -1;
			if (rc == 1)
				goto stop;      /* from this line, next time */
			skipping = 0;
			at += len + 1;
			off += (long long)len + 1;
		}
		memmove(buf, buf + at, have - at);
		have -= at;
	}
	/* A last line without its newline: counted when it is a whole
	 * object (written in full), else left for the next import. */
	if (have > 0 && !skipping &&
	    jscan_object(buf, buf + have, 1, NULL, NULL) == 0) {
		int rc = r->src == IMPORT_CLAUDE ? claude_line(r, buf, have) :
		    codex_line(r, buf, have);

		if (rc < 0)
			return -1;
		if (rc == 0)
			off += (long long)have;
	}
stop:
	f->off = off;
	(void)size;
	return 0;
}

/* ---- walking the directories ---- */

struct paths {
	char **v;
	size_t n, cap;
};

static int
paths_add(struct paths *ps, const char *path)
{
	if (ps->n == ps->cap) {
		size_t nc = ps->cap ? ps->cap * 2 : 256;
		char **nv = realloc(ps->v, nc * sizeof *nv);

		if (!nv)
			return -1;
		ps->v = nv;
		ps->cap = nc;
	}
	if (!(ps->v[ps->n] = strdup(path)))
		return -1;
	ps->n++;
	return 0;
}

/* Every *.jsonl under dir (symlinked directories are not followed). */
static int
walk(const char *dir, struct paths *ps, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (depth > 32)
		return 0;
	if (!(d = opendir(dir)))
		return depth == 0 ? -1 : 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir,
		    de->d_name) >= sizeof path)
			continue;
		if (de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN &&
		    lstat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
			if (walk(path, ps, depth + 1) < 0) {
				closedir(d);
				return -1;
			}
		} else if (name_ends(de->d_name, ".jsonl") &&
		    paths_add(ps, path) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- the journal ---- */

static jv
fstate_json(const char *path, const struct fstate *f, enum import_src src)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string("path"), jv_string(path));
	o = jv_object_set(o, jv_string("dev"), jv_number((double)f->dev));
	o = jv_object_set(o, jv_string("ino"), jv_number((double)f->ino));
	o = jv_object_set(o, jv_string("size"), jv_number((double)f->size));
	o = jv_object_set(o, jv_string("off"), jv_number((double)f->off));
	if (src == IMPORT_CODEX) {
		o = jv_object_set(o, jv_string("model"), jv_string(f->model));
		o = jv_object_set(o, jv_string("sid"), jv_string(f->sid));
		o = jv_object_set(o, jv_string("cwd"), jv_string(f->cwd));
		o = jv_object_set(o, jv_string("tin"),
		    jv_number((double)f->tin));
		o = jv_object_set(o, jv_string("tcached"),
		    jv_number((double)f->tcached));
		o = jv_object_set(o, jv_string("tout"),
		    jv_number((double)f->tout));
	}
	return o;
}

/*
 * The journal of a run, written as the files are read (so that nothing
 * of it is held in memory): R the run id; E events, as each transcript's
 * groups are done; K the keys counted; F the whole new file table; D per
 * day file, its size before the run and how many E lines go to it.
 */
struct day {
	long long from;
	long lines;
};

static int
put_json(FILE *f, char tag, jv v)
{
	size_t n;
	char *line = json_line(v, &n);
	int r;

	if (!line)
		return -1;
	r = fprintf(f, "%c ", tag) < 0 || fwrite(line, 1, n, f) != n ? -1 : 0;
	free(line);
	return r;
}

static int
journal_open(struct run *r)
{
	char tmp[40];
	int fd;

	snprintf(tmp, sizeof tmp, ".%s.journal", src_name(r->src));
	snprintf(r->run_id, sizeof r->run_id, "%s-%lld-%d", src_name(r->src),
	    (long long)clock_wall_ms(), (int)getpid());
	fd = openat(r->ifd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (!(r->journal = fdopen(fd, "w"))) {
		close(fd);
		return -1;
	}
	smap_init(&r->days, sizeof(struct day));
	return put_json(r->journal, 'R', jv_object_set(jv_object(),
	    jv_string("run"), jv_string(r->run_id)));
}

/* This transcript's groups and keys into the journal; then forget them. */
static int
emit(struct run *r)
{
	size_t i;

	if (!r->groups.n && !r->keys.nadded)
		return 0;
	if (!r->journal && journal_open(r) < 0)
		return -1;
	for (i = 0; i < r->groups.n; i++) {
		const struct group *g = smap_val(&r->groups, i);
		const struct price *pr = price_find(&r->prices, g->model);
		char name[40];
		struct usage u;
		struct day *d;
		struct stat st;
		jv ev;

		snprintf(name, sizeof name, ".tracking-%.10s.jsonl", g->ts);
		if (!(d = smap_find(&r->days, name))) {
			if (!(d = smap_get(&r->days, name)))
				return -1;
			d->from = fstatat(r->bfd, name, &st, 0) == 0 ?
			    (long long)st.st_size : 0;
		}
		d->lines++;
		memset(&u, 0, sizeof u);
		u.timestamp = g->ts;
		if (g->agent) {
			u.agent = g->agent->id;
			u.parent = g->agent->parent;
			u.session = g->agent->session;
			u.role = g->agent->role;
		}
		u.model = g->model;
		u.source = src_name(r->src);
		u.in = g->in;
		u.out = g->out;
		u.cache_read = g->cache_read;
		u.cache_write = g->cache_write;
		u.cost = price_cost(pr, g->in, g->out, g->cache_write,
		    g->cache_read);
		r->st->cost += u.cost;
		ev = billing_usage_event(&u);
		ev = jv_object_set(ev, jv_string(r->src == IMPORT_CLAUDE ?
		    "claude_session" : "codex_session"), g->sid[0] ?
		    jv_string(g->sid) : jv_null());
		ev = jv_object_set(ev, jv_string("messages"),
		    jv_number((double)g->messages));
		ev = jv_object_set(ev, jv_string("import"),
		    jv_string(r->run_id));
		if (put_json(r->journal, 'E', ev) < 0)
			return -1;
		r->st->events++;
	}
	for (i = 0; i < r->keys.nadded; i++)
		if (fprintf(r->journal, "K %016llx\n",
		    (unsigned long long)r->keys.added[i]) < 0)
			return -1;
	r->keys.nadded = 0;
	smap_free(&r->groups);
	smap_init(&r->groups, sizeof(struct group));
	return 0;
}

/* The file table and the day lines; then make it the journal. */
static int
journal_close(struct run *r)
{
	char tmp[40], name[40];
	size_t i;
	int bad = 0;

	for (i = 0; !bad && i < r->files.n; i++)
		bad = put_json(r->journal, 'F', fstate_json(smap_key(&r->files,
		    i), smap_val(&r->files, i), r->src)) < 0;
	for (i = 0; !bad && i < r->days.n; i++) {
		const struct day *d = smap_val(&r->days, i);
		jv o = jv_object_set(jv_object(), jv_string("day"),
		    jv_string(smap_key(&r->days, i)));

		o = jv_object_set(o, jv_string("from"), jv_number((double)d->from));
		o = jv_object_set(o, jv_string("lines"), jv_number((double)d->lines));
		bad = put_json(r->journal, 'D', o) < 0;
	}
	if (fflush(r->journal) != 0 || fsync(fileno(r->journal)) < 0)
		bad = 1;
	if (fclose(r->journal) != 0)
		bad = 1;
	r->journal = NULL;
	smap_free(&r->days);
	if (bad)
		return -1;
	snprintf(tmp, sizeof tmp, ".%s.journal", src_name(r->src));
	snprintf(name, sizeof name, "%s.journal", src_name(r->src));
	return renameat(r->ifd, tmp, r->ifd, name);
}

/* A day file while the journal is applied: locked, its writes buffered. */
struct dayw {
	char name[40];
	long long from;
	long want, found, seen;
	int fd;
	off_t size0;            /* its size before this apply */
	char *buf;
	size_t n;
};

#define DAYW_BUF (64 * 1024)

static int
dayw_flush(struct dayw *d)
{
	if (d->n && write_all(d->fd, d->buf, d->n) < 0)
		return -1;
	d->n = 0;
	return 0;
}

/* Lock the day file; count the run's lines already in it. */
static int
dayw_open(int bfd, struct dayw *d, const char *tag)
{
	struct stat st;
	char *have = NULL, *q, *nl;
	size_t n, i;

	d->fd = openat(bfd, d->name, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (d->fd < 0 || !(d->buf = malloc(DAYW_BUF)))
		return -1;
	while (flock(d->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -1;
	if (fstat(d->fd, &st) < 0 || cut_partial_line(d->fd, &st.st_size) < 0)
		return -1;
	d->size0 = st.st_size;
	if (d->from < 0 || d->from > (long long)st.st_size)
		d->from = 0;
	if ((n = (size_t)(st.st_size - d->from)) == 0)
		return 0;
	/* Only what was appended since the journal was written. */
	if (!(have = malloc(n)))
		return -1;
	for (i = 0; i < n; ) {
		ssize_t k = pread(d->fd, have + i, n - i, (off_t)(d->from + i));

		if (k <= 0) {
			free(have);
			return -1;
		}
		i += (size_t)k;
	}
	for (q = have; q < have + n && (nl = memchr(q, '\n', (size_t)(have +
	    n - q))); q = nl + 1)
		if (memmem(q, (size_t)(nl - q), tag, strlen(tag)))
			d->found++;
	free(have);
	return 0;
}

static int
cmp_dayw(const void *a, const void *b)
{
	return strcmp(((const struct dayw *)a)->name,
	    ((const struct dayw *)b)->name);
}

/*
 * Carry out SRC.journal, if there is one, then remove it.  Idempotent:
 * the day files are locked in name order, and of each day's E lines only
 * those past the ones already there (one run's lines go in in order) are
 * appended; keys appended twice are harmless; the file table is replaced.
 */
static int
apply_journal(struct run *r)
{
	char name[40], keysname[40], filesname[40], tmpfiles[48], tag[128];
	char run_id[96] = "", *line = NULL;
	struct dayw *dw = NULL, key = { 0 };
	size_t cap = 0, nd = 0, i;
	struct stat st;
	FILE *jf = NULL, *ff = NULL;
	ssize_t len;
	int fd, kfd = -1, rc = -1;

	snprintf(name, sizeof name, "%s.journal", src_name(r->src));
	snprintf(keysname, sizeof keysname, "%s.keys", src_name(r->src));
	snprintf(filesname, sizeof filesname, "%s.files", src_name(r->src));
	snprintf(tmpfiles, sizeof tmpfiles, ".%s.files", src_name(r->src));
	if ((fd = openat(r->ifd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(jf = fdopen(fd, "r"))) {
		close(fd);
		return -1;
	}
	/* Pass 1: the run and its days. */
	while ((len = getline(&line, &cap, jf)) > 0) {
		jv o;
		struct dayw *nw;

		if (len < 3 || (line[0] != 'R' && line[0] != 'D'))
			continue;
		o = jv_parse_sized(line + 2, (int)(len - 2));
		if (line[0] == 'R') {
			jstr(o, "run", run_id, sizeof run_id);
		} else if ((nw = realloc(dw, (nd + 1) * sizeof *dw))) {
			dw = nw;
			memset(&dw[nd], 0, sizeof *dw);
			jstr(o, "day", dw[nd].name, sizeof dw[nd].name);
			dw[nd].from = jnum(o, "from");
			dw[nd].want = (long)jnum(o, "lines");
			dw[nd].fd = -1;
			nd++;
		} else {
			jv_free(o);
			goto out;
		}
		jv_free(o);
	}
	if (!run_id[0] || strncmp(run_id, src_name(r->src), 5))
		goto out;       /* not a whole journal: it is renamed whole */
	snprintf(tag, sizeof tag, "\"import\":\"%s\"", run_id);
	if (nd)
		qsort(dw, nd, sizeof *dw, cmp_dayw);
	for (i = 0; i < nd; i++)
		if (dayw_open(r->bfd, &dw[i], tag) < 0)
			goto out;
	kfd = openat(r->ifd, keysname, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (kfd < 0 || fstat(kfd, &st) < 0 ||
	    cut_partial_line(kfd, &st.st_size) < 0 ||
	    !(key.buf = malloc(DAYW_BUF)))
		goto out;
	key.fd = kfd;
	if ((fd = openat(r->ifd, tmpfiles, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644)) < 0)
		goto out;
	if (!(ff = fdopen(fd, "w"))) {
		close(fd);
		goto out;
	}
	/* Pass 2: everything to where it goes. */
	rewind(jf);
	while ((len = getline(&line, &cap, jf)) > 0) {
		struct dayw *d = NULL, want;
		const char *ts;

		if (len < 3 || line[len - 1] != '\n')
			continue;
		switch (line[0]) {
		case 'E':
			if (!(ts = memmem(line, (size_t)len, "\"timestamp\":\"",
			    13)))
				goto out;
			snprintf(want.name, sizeof want.name,
			    ".tracking-%.10s.jsonl", ts + 13);
			if (!(d = bsearch(&want, dw, nd, sizeof *dw, cmp_dayw)))
				goto out;
			if (d->seen++ < d->found)
				break;  /* there already */
			break_into:
			if (d->n + (size_t)len - 2 > DAYW_BUF && dayw_flush(d) < 0)
				goto out;
			if ((size_t)len - 2 > DAYW_BUF) {
				if (write_all(d->fd, line + 2, (size_t)len - 2) < 0)
					goto out;
			} else {
				memcpy(d->buf + d->n, line + 2, (size_t)len - 2);
				d->n += (size_t)len - 2;
			}
			break;
		case 'K':
			d = &key;
			goto break_into;
		case 'F':
			if (fwrite(line + 2, 1, (size_t)len - 2, ff) !=
			    (size_t)len - 2)
				goto out;
			break;
		}
	}
	if (ferror(jf))
		goto out;
	for (i = 0; i < nd; i++)
		if (dayw_flush(&dw[i]) < 0 || fdatasync(dw[i].fd) < 0)
			goto out;
	if (dayw_flush(&key) < 0 || fdatasync(kfd) < 0)
		goto out;
	if (fflush(ff) != 0 || fsync(fileno(ff)) < 0)
		goto out;
	if (fclose(ff) != 0) {
		ff = NULL;
		goto out;
	}
	ff = NULL;
	if (renameat(r->ifd, tmpfiles, r->ifd, filesname) < 0 ||
	    unlinkat(r->ifd, name, 0) < 0)
		goto out;
	rc = 0;
out:
	for (i = 0; i < nd; i++) {
		/* A failed write leaves nothing of this apply behind. */
		if (rc < 0 && dw[i].fd >= 0 && ftruncate(dw[i].fd,
		    dw[i].size0) < 0) {
			/* the next apply cuts a partial line */
		}
		if (dw[i].fd >= 0)
			close(dw[i].fd);
		free(dw[i].buf);
	}
	free(dw);
	free(key.buf);
	if (kfd >= 0)
		close(kfd);
	if (ff)
		fclose(ff);
	free(line);
	fclose(jf);
	return rc;
}

/* ---- the whole run ---- */

static int
default_dir(enum import_src src, char *buf, size_t cap)
{
	const char *env = getenv(src == IMPORT_CLAUDE ? "CLAUDE_CONFIG_DIR" :
	    "CODEX_HOME"), *home = getenv("HOME");

	if (env && *env)
		snprintf(buf, cap, "%s/%s", env, src == IMPORT_CLAUDE ?
		    "projects" : "sessions");
	else if (home && *home)
		snprintf(buf, cap, "%s/%s", home, src == IMPORT_CLAUDE ?
		    ".claude/projects" : ".codex/sessions");
	else
		return -1;
	return 0;
}

int
import_run(struct project *p, enum import_src src, char **dirs, int ndirs,
    struct import_stats *st, char *err, size_t cap)
{
	struct run r;
	struct paths ps = { 0 };
	char def[PATH_MAX], lockname[40], *defv[1] = { def };
	int bfd, lockfd = -1, rc = -1, i, changed = 0, e;
	size_t k;

	memset(st, 0, sizeof *st);
	memset(&r, 0, sizeof r);
	r.p = p;
	r.src = src;
	r.st = st;
	r.ifd = r.bfd = -1;
	smap_init(&r.files, sizeof(struct fstate));
	smap_init(&r.groups, sizeof(struct group));
	if (prices_load(p, &r.prices, err, cap) < 0) {
		errno = EINVAL;
		goto out_nolock;
	}
	if (ndirs == 0) {
		if (default_dir(src, def, sizeof def) < 0) {
			snprintf(err, cap, "no HOME to find the transcripts in");
			errno = ENOENT;
			goto out_nolock;
		}
		dirs = defv;
		ndirs = 1;
	}
	for (i = 0; i < ndirs; i++) {
		if (walk(dirs[i], &ps, 0) < 0) {
			snprintf(err, cap, "cannot read %s: %s", dirs[i],
			    strerror(errno));
			goto out_nolock;
		}
	}
	qsort(ps.v, ps.n, sizeof *ps.v, cmp_str);
	st->files = (long)ps.n;

	if ((bfd = project_subdir(p, "billing", PROJ_CREATE)) < 0 ||
	    (mkdirat(bfd, ".import", 0755) < 0 && errno != EEXIST) ||
	    (r.ifd = openat(bfd, ".import", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		snprintf(err, cap, "cannot open %s/billing/.import: %s",
		    p->path, strerror(errno));
		if (bfd >= 0)
			close(bfd);
		goto out_nolock;
	}
	r.bfd = bfd;
	snprintf(lockname, sizeof lockname, "%s.lock", src_name(src));
	if ((lockfd = lock_at(r.ifd, lockname, LOCK_EX)) < 0 ||
	    apply_journal(&r) < 0 || load_files(&r) < 0) {
		snprintf(err, cap, "cannot read the import state in "
		    "%s/billing/.import: %s", p->path, strerror(errno));
		goto out;
	}
	for (k = 0; k < ps.n; k++) {
		struct fstate *f;
		struct stat sb;
		int fd;

		snprintf(r.path, sizeof r.path, "%s", ps.v[k]);
		if (stat(r.path, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		if (!(f = smap_get(&r.files, r.path)))
			goto nomem;
		f->seen = 1;
		if (f->dev == (long long)sb.st_dev &&
		    f->ino == (long long)sb.st_ino &&
		    f->size == (long long)sb.st_size)
			continue;       /* unchanged: not even opened */
		if (f->dev != (long long)sb.st_dev ||
		    f->ino != (long long)sb.st_ino ||
		    f->off > (long long)sb.st_size) {
			/* Another file now, or cut short: from the start
			 * (the keys keep what was counted from counting
			 * twice). */
			memset(f, 0, sizeof *f);
			f->seen = 1;
		}
		if ((fd = open(r.path, O_RDONLY | O_CLOEXEC)) < 0) {
			ag_warn("cannot open %s", r.path);
			continue;
		}
		if (fstat(fd, &sb) < 0) {
			close(fd);
			continue;
		}
		r.fs = f;
		st->files_read++;
		if (read_file(&r, fd, f, (long long)sb.st_size) < 0) {
			snprintf(err, cap, "cannot read %s: %s", r.path,
			    strerror(errno));
			close(fd);
			goto out;
		}
		close(fd);
		if (emit(&r) < 0) {
			snprintf(err, cap, "cannot write the import's journal: "
			    "%s", strerror(errno));
			goto out;
		}
		f->dev = (long long)sb.st_dev;
		f->ino = (long long)sb.st_ino;
		/* The size read up to: bytes appended meanwhile make the
		 * next import look again. */
		f->size = f->off == (long long)sb.st_size ? f->off : -1;
		changed = 1;
	}
	if (changed) {
		if ((!r.journal && journal_open(&r) < 0) ||
		    journal_close(&r) < 0 || apply_journal(&r) < 0) {
			snprintf(err, cap, "cannot write the import: %s",
			    strerror(errno));
			goto out;
		}
	}
	rc = 0;
	goto out;
nomem:
	snprintf(err, cap, "out of memory");
out:
	if (lockfd >= 0)
		close(lockfd);
out_nolock:
	for (k = 0; k < ps.n; k++)
		free(ps.v[k]);
	free(ps.v);
	if (r.journal) {
		fclose(r.journal);
		smap_free(&r.days);
	}
	if (r.ifd >= 0)
		close(r.ifd);
	if (r.bfd >= 0)
		close(r.bfd);
	smap_free(&r.files);
	smap_free(&r.groups);
	keyset_free(&r.keys);
	agents_free(&r.agents);
	for (k = 0; k < r.nretired; k++)
		free(r.retired[k]);
	free(r.retired);
	e = errno;
	prices_free(&r.prices);
	errno = e;
	return rc;
}
