/*
 * ag-cost - what agents cost (SPEC 6).
 *
 *   ag-cost record [-a AGENT] [-s SESSION] -m MODEL --in N --out N
 *                  [--cache-read N] [--cache-write N] [--usd X]
 *   ag-cost import claude|codex [DIR...]
 *   ag-cost report [--by agent|role|model|day|session] [--tree]
 *                  [--since DATE] [--until DATE] [--where JQ] [--json]
 *   ag-cost total [--json] ID
 *
 * Billing is event lines in .project/billing/.tracking-DATE.jsonl: usage
 * (tokens and cost), agent_end (hours), session_end.  record appends one;
 * import turns Claude Code and Codex transcripts into them (import.h);
 * report and total read them back (cost.h).
 */
#include <errno.h>
#include <getopt.h>
#include <jq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "billing.h"
#include "clock.h"
#include "cost.h"
#include "err.h"
#include "file.h"
#include "import.h"
#include "json.h"
#include "names.h"
#include "price.h"
#include "project.h"
#include "session.h"
#include "smap.h"

static const char usage_text[] =
    "usage: ag-cost record [-a AGENT] [-s SESSION] -m MODEL --in N --out N\n"
    "                      [--cache-read N] [--cache-write N] [--usd X]\n"
    "       ag-cost import claude|codex [DIR...]\n"
    "       ag-cost report [--by agent|role|model|day|session] [--tree]\n"
    "                      [--since DATE] [--until DATE] [--where JQ] "
    "[--json]\n"
    "       ag-cost total [--json] ID\n";

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

/* A token count: decimal digits only, below 10^15. */
static int64_t
tokens_arg(const char *opt, const char *s)
{
	int64_t v = 0;
	const char *p;

	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 15)
			ag_diex(AG_EXIT_USAGE, "bad %s '%s': want a whole number "
			    "of tokens, 0 or more", opt, s);
		v = v * 10 + (*p - '0');
	}
	if (!*s)
		ag_diex(AG_EXIT_USAGE, "bad %s: empty", opt);
	return v;
}

static double
usd_arg(const char *s)
{
	char *e;
	double v;

	errno = 0;
	v = strtod(s, &e);
	if (!*s || *e || errno || !(v >= 0 && v < 1e9) || strpbrk(s, "xXnNiI"))
		ag_diex(AG_EXIT_USAGE, "bad --usd '%s': want dollars, 0 or "
		    "more", s);
	return v;
}

static int
cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "agent", required_argument, NULL, 'a' },
		{ "session", required_argument, NULL, 's' },
		{ "model", required_argument, NULL, 'm' },
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "cache-read", required_argument, NULL, 'R' },
		{ "cache-write", required_argument, NULL, 'W' },
		{ "usd", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *agent = getenv("AG_AGENT_ID"), *session = NULL, *r;
	char role[AG_NAME_MAX + 2] = "", parent[AG_ID_MAX + 2] = "";
	char asession[AG_NAME_MAX + 2] = "", err[256];
	char sname[AG_NAME_MAX + 1] = "";
	int c, have_in = 0, have_out = 0, have_usd = 0, afd = -1;
	struct usage u;
	struct prices t;
	struct project p;
	double usd = 0;
	const char *m;

	memset(&u, 0, sizeof u);
	while ((c = getopt_long(argc, argv, "a:s:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': agent = optarg; break;
		case 's': session = optarg; break;
		case 'm': u.model = optarg; break;
		case 'i': u.in = tokens_arg("--in", optarg); have_in = 1; break;
		case 'o': u.out = tokens_arg("--out", optarg); have_out = 1; break;
		case 'R': u.cache_read = tokens_arg("--cache-read", optarg); break;
		case 'W': u.cache_write = tokens_arg("--cache-write", optarg);
			break;
		case 'u': usd = usd_arg(optarg); have_usd = 1; break;
		default: usage();
		}
	}
	if (optind != argc || !u.model || !have_in || !have_out)
		usage();
	if (!*u.model || strlen(u.model) > 127)
		ag_diex(AG_EXIT_USAGE, "bad model '%s'", u.model);
	for (m = u.model; *m; m++)
		if ((unsigned char)*m < 0x21 || *m == 0x7f)
			ag_diex(AG_EXIT_USAGE, "bad model '%s': spaces or "
			    "control characters", u.model);
	if (agent && !*agent)
		agent = NULL;
	if (agent && (r = agent_id_check(agent)))
		ag_diex(AG_EXIT_USAGE, "bad agent id '%s': %s", agent, r);
	if (session && (r = name_check(session)))
		ag_diex(AG_EXIT_USAGE, "bad session name '%s': %s", session, r);
	project_open_or_die(&p, 0);
	if (agent) {
		if ((afd = agent_open(&p, agent)) < 0)
			ag_diex(AG_EXIT_USAGE, "no such agent: %s", agent);
		if (read_line_at(afd, "role", role, sizeof role) < 0)
			role[0] = '\0';
		if (read_line_at(afd, "parent", parent, sizeof parent) < 0)
			parent[0] = '\0';
		if (read_line_at(afd, "session", asession, sizeof asession) < 0)
			asession[0] = '\0';
		close(afd);
	} else if (getenv("AG_ROLE") && !name_check(getenv("AG_ROLE"))) {
		snprintf(role, sizeof role, "%s", getenv("AG_ROLE"));
	}
	if (session) {
		int sfd = session_open(&p, session, sname);

		if (sfd < 0 && !session_archived(&p, session, sname))
			ag_diex(AG_EXIT_USAGE, "no such session: %s", session);
		if (sfd >= 0)
			close(sfd);
		if (sname[0])
			session = sname;        /* its name, when given its id */
	} else if (getenv("AG_SESSION") && *getenv("AG_SESSION") &&
	    !name_check(getenv("AG_SESSION"))) {
		session = getenv("AG_SESSION");
	} else if (asession[0]) {
		session = asession;
	}
	if (prices_load(&p, &t, err, sizeof err) < 0)
		ag_diex(AG_EXIT_USAGE, "%s", err);
	u.cost = have_usd ? usd : price_cost(price_find(&t, u.model), u.in,
	    u.out, u.cache_write, u.cache_read);
	prices_free(&t);
	u.agent = agent;
	u.parent = parent;
	u.session = session;
	u.role = role;
	u.source = "record";
	if (billing_usage(&p, &u) < 0)
		ag_die(AG_EXIT_FAIL, "cannot append to %s/billing", p.path);
	project_close(&p);
	ag_exit(AG_EXIT_OK);
}

static int
cmd_import(int argc, char **argv)
{
	struct import_stats st;
	enum import_src src;
	struct project p;
	char err[PATH_MAX + 128];
	int i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage();
	if (!strcmp(argv[1], "claude"))
		src = IMPORT_CLAUDE;
	else if (!strcmp(argv[1], "codex"))
		src = IMPORT_CODEX;
	else
		ag_diex(AG_EXIT_USAGE, "unknown source '%s': want claude or "
		    "codex", argv[1]);
	for (i = 2; i < argc; i++) {
		if (argv[i][0] == '-')
			usage();
		if (access(argv[i], R_OK | X_OK) < 0)
			ag_diex(AG_EXIT_USAGE, "cannot read %s: %s", argv[i],
			    strerror(errno));
	}
	project_open_or_die(&p, PROJ_CREATE);
	if (import_run(&p, src, argv + 2, argc - 2, &st, err, sizeof err) < 0)
		ag_diex(errno == EINVAL ? AG_EXIT_USAGE : AG_EXIT_NO, "%s", err);
	if (st.skipped)
		ag_warnx("%ld lines skipped (malformed, synthetic or too long)",
		    st.skipped);
	printf("%s: %ld files, %ld read, %lld bytes; %ld messages (%ld to "
	    "agents), %ld duplicates, %ld billed by agents already; %ld "
	    "events, %.6f USD", argv[1], st.files, st.files_read, st.bytes,
	    st.messages, st.attributed, st.duplicates, st.agent_billed,
	    st.events, st.cost);
	if (st.deferred)
		printf("; %ld files wait for a running agent's end",
		    st.deferred);
	putchar('\n');
	project_close(&p);
	ag_exit(AG_EXIT_OK);
}

/* ---- report and total ---- */

enum by { BY_AGENT, BY_ROLE, BY_MODEL, BY_DAY, BY_SESSION };
static const char *const by_names[] = { "agent", "role", "model", "day",
    "session" };

struct tot {
	int64_t in, out, cache_write, cache_read, ms;
	double cost, fg, bg;
	long events;
};

struct report {
	enum by by;
	struct smap groups;     /* key -> struct tot */
	struct tot total;
	jq_state *jq;
	const char *only;       /* total: this agent and its descendants */
	int only_seen;
	int oom;
};

static void
add(struct tot *t, const struct cost_event *e, int usage)
{
	if (usage) {
		t->in += e->in;
		t->out += e->out;
		t->cache_write += e->cache_write;
		t->cache_read += e->cache_read;
		t->cost += e->cost;
		if (e->agent[0])
			t->bg += e->cost;
		else
			t->fg += e->cost;
	} else {
		t->ms += e->duration_ms;
	}
	t->events++;
}

/* Whether the --where program yields something true for the line. */
static int
where_keeps(jq_state *jq, const char *line, size_t len)
{
	static int warned;
	jv v = jv_parse_sized(line, (int)len), out;
	int keep = 0;

	if (!jv_is_valid(v)) {
		jv_free(v);
		return 0;
	}
	jq_start(jq, v, 0);
	while (jv_is_valid(out = jq_next(jq))) {
		jv_kind k = jv_get_kind(out);

		if (k != JV_KIND_FALSE && k != JV_KIND_NULL)
			keep = 1;
		jv_free(out);
	}
	/* A runtime error (say, tonumber on a word) drops the event: say
	 * so once, or a typo would quietly empty the report. */
	if (jv_invalid_has_msg(jv_copy(out)) && !warned++) {
		char why[256];

		ag_warnx("--where: %s (such events are left out)",
		    json_error_text(jv_copy(out), why, sizeof why));
	}
	jv_free(out);
	return keep;
}

static void
each_event(const char *line, size_t len, const struct cost_event *e,
    void *arg)
{
	struct report *r = arg;
	int usage = !strcmp(e->event, "usage");
	const char *key;
	struct tot *t;
	char day[11];

	if (!usage && strcmp(e->event, "agent_end"))
		return;         /* session_end sums usage events: not again */
	if (r->only) {
		if (!e->agent[0] || (strcmp(e->agent, r->only) &&
		    !agent_id_is_descendant(e->agent, r->only)))
			return;
		r->only_seen = 1;
	}
	if (r->jq && !where_keeps(r->jq, line, len))
		return;
	add(&r->total, e, usage);
	switch (r->by) {
	case BY_AGENT: key = e->agent; break;
	case BY_ROLE: key = e->role; break;
	case BY_SESSION: key = e->session; break;
	case BY_DAY:
		snprintf(day, sizeof day, "%.10s", e->ts);
		key = day;
		break;
	default:
		/* Hours have no model: they count in the total only. */
		if (!usage)
			return;
		key = e->model;
		break;
	}
	if (!(t = smap_get(&r->groups, key))) {
		r->oom = 1;
		return;
	}
	add(t, e, usage);
}

static void
where_error(void *data, jv msg)
{
	char *buf = data;

	if (!buf[0]) {
		jv s = jv_get_kind(msg) == JV_KIND_STRING ? jv_copy(msg) :
		    jv_dump_string(jv_copy(msg), 0);

		snprintf(buf, 512, "%s", jv_string_value(s));
		jv_free(s);
	}
	jv_free(msg);
}

static jq_state *
where_compile(const char *prog)
{
	static char msg[512];
	jq_state *jq = jq_init();

	if (!jq)
		ag_diex(AG_EXIT_FAIL, "cannot start libjq");
	jq_set_error_cb(jq, where_error, msg);
	if (!jq_compile(jq, prog)) {
		char *nl = strchr(msg, '\n');

		if (nl)
			*nl = '\0';
		ag_diex(AG_EXIT_USAGE, "bad --where '%s': %s", prog,
		    msg[0] ? msg : "does not compile");
	}
	return jq;
}

static void
run_report(struct project *p, struct report *r, const char *since,
    const char *until)
{
	long bad = cost_each(p, since, until, each_event, r);

	if (bad < 0)
		ag_die(AG_EXIT_FAIL, "cannot read %s/billing", p->path);
	if (r->oom)
		ag_diex(AG_EXIT_FAIL, "out of memory");
	if (bad > 0)
		ag_warnx("%ld malformed billing lines skipped", bad);
}

/* Tree order: component by component, so a parent precedes its own. */
static int
cmp_tree(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	for (;;) {
		size_t lx = strcspn(x, "."), ly = strcspn(y, ".");
		int c = strncmp(x, y, lx < ly ? lx : ly);

		if (c)
			return c;
		if (lx != ly)
			return lx < ly ? -1 : 1;
		x += lx;
		y += ly;
		if (!*x || !*y)
			return *x ? 1 : *y ? -1 : 0;
		x++;
		y++;
	}
}

static int
cmp_plain(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
sum_into(struct tot *d, const struct tot *s)
{
	d->in += s->in;
	d->out += s->out;
	d->cache_write += s->cache_write;
	d->cache_read += s->cache_read;
	d->ms += s->ms;
	d->cost += s->cost;
	d->fg += s->fg;
	d->bg += s->bg;
	d->events += s->events;
}

/* --tree: every ancestor gets a row, and each row its descendants' sums. */
static void
make_tree(struct smap *g, struct smap *out)
{
	size_t i, n = g->n;

	smap_init(out, sizeof(struct tot));
	for (i = 0; i < n; i++) {
		char id[AG_ID_MAX + 1], *dot;
		const struct tot *own = smap_val(g, i);
		struct tot *t;

		snprintf(id, sizeof id, "%s", smap_key(g, i));
		if (!id[0]) {
			if ((t = smap_get(out, "")))
				sum_into(t, own);
			continue;
		}
		for (;;) {
			if (!(t = smap_get(out, id)))
				ag_diex(AG_EXIT_FAIL, "out of memory");
			sum_into(t, own);
			if (!(dot = strrchr(id, '.')))
				break;
			*dot = '\0';
		}
	}
}

static jv
tot_json(const struct tot *t)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string("input_tokens"), jv_number((double)t->in));
	o = jv_object_set(o, jv_string("output_tokens"),
	    jv_number((double)t->out));
	o = jv_object_set(o, jv_string("cache_write_tokens"),
	    jv_number((double)t->cache_write));
	o = jv_object_set(o, jv_string("cache_read_tokens"),
	    jv_number((double)t->cache_read));
	o = jv_object_set(o, jv_string("cost"), jv_number(t->cost));
	o = jv_object_set(o, jv_string("hours"),
	    jv_number((double)t->ms / 3600000.0));
	return o;
}

#define NCOL 7

static void
row_cells(char cells[NCOL][80], const char *key, int depth,
    const struct tot *t)
{
	snprintf(cells[0], 80, "%*s%s", depth * 2, "", key[0] ? key : "-");
	snprintf(cells[1], 80, "%lld", (long long)t->in);
	snprintf(cells[2], 80, "%lld", (long long)t->out);
	snprintf(cells[3], 80, "%lld", (long long)t->cache_write);
	snprintf(cells[4], 80, "%lld", (long long)t->cache_read);
	snprintf(cells[5], 80, "%.4f", t->cost);
	snprintf(cells[6], 80, "%.4f", (double)t->ms / 3600000.0);
}

static void
print_table(char (*cells)[NCOL][80], size_t rows)
{
	size_t w[NCOL] = { 0 }, i, j;
	int tty = isatty(STDOUT_FILENO);

	for (i = 0; i < rows; i++)
		for (j = 0; j < NCOL; j++)
			if (strlen(cells[i][j]) > w[j])
				w[j] = strlen(cells[i][j]);
	for (i = 0; i < rows; i++) {
		for (j = 0; j < NCOL; j++) {
			if (!tty)
				printf("%s%s", cells[i][j], j + 1 < NCOL ? "\t" :
				    "\n");
			else if (j == 0)
				printf("%-*s", (int)w[j], cells[i][j]);
			else
				printf("  %*s%s", (int)w[j], cells[i][j],
				    j + 1 < NCOL ? "" : "\n");
		}
	}
}

static void
print_report(struct report *r, int tree, int json)
{
	struct smap tg, *g = &r->groups;
	char (*cells)[NCOL][80];
	const char **keys;
	size_t i, n, rows = 0;

	if (tree) {
		make_tree(&r->groups, &tg);
		g = &tg;
	}
	n = g->n;
	if (!(keys = malloc((n + 1) * sizeof *keys)) ||
	    !(cells = malloc((n + 2) * sizeof *cells)))
		ag_diex(AG_EXIT_FAIL, "out of memory");
	for (i = 0; i < n; i++)
		keys[i] = smap_key(g, i);
	qsort(keys, n, sizeof *keys, tree ? cmp_tree : cmp_plain);
	if (!json) {
		static const char *const head[] = { "AGENT", "ROLE", "MODEL",
		    "DAY", "SESSION" };

		snprintf(cells[rows][0], 80, "%s", head[r->by]);
		snprintf(cells[rows][1], 80, "INPUT");
		snprintf(cells[rows][2], 80, "OUTPUT");
		snprintf(cells[rows][3], 80, "CACHE_WRITE");
		snprintf(cells[rows][4], 80, "CACHE_READ");
		snprintf(cells[rows][5], 80, "COST");
		snprintf(cells[rows][6], 80, "HOURS");
		rows++;
	}
	for (i = 0; i < n; i++) {
		const struct tot *t = smap_find(g, keys[i]);
		int depth = 0;
		const char *c;

		if (tree && keys[i][0])
			for (c = keys[i]; *c; c++)
				depth += *c == '.';
		if (json) {
			jv o = jv_object_set(jv_object(),
			    jv_string(by_names[r->by]), keys[i][0] ?
			    jv_string(keys[i]) : jv_null());

			json_print(jv_object_merge(o, tot_json(t)));
		} else {
			row_cells(cells[rows++], keys[i], depth, t);
		}
	}
	if (json) {
		jv o = jv_object_set(jv_object(), jv_string("total"), jv_true());

		o = jv_object_merge(o, tot_json(&r->total));
		if (r->by == BY_ROLE) {
			o = jv_object_set(o, jv_string("foreground_cost"),
			    jv_number(r->total.fg));
			o = jv_object_set(o, jv_string("background_cost"),
			    jv_number(r->total.bg));
		}
		json_print(o);
	} else {
		row_cells(cells[rows++], "TOTAL", 0, &r->total);
		print_table(cells, rows);
		if (r->by == BY_ROLE) {
			double all = r->total.fg + r->total.bg;

			/* Sessions' own usage against their agents'. */
			printf("\nforeground %.4f (%.0f%%)  background %.4f "
			    "(%.0f%%)\n", r->total.fg, all > 0 ?
			    100 * r->total.fg / all : 0, r->total.bg, all > 0 ?
			    100 * r->total.bg / all : 0);
		}
	}
	free(keys);
	free(cells);
	if (tree)
		smap_free(&tg);
}

static int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "tree", no_argument, NULL, 't' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "where", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char since[AG_TS_LEN], until[AG_TS_LEN];
	const char *where = NULL;
	int c, tree = 0, json = 0, have_since = 0, have_until = 0;
	struct report r;
	struct project p;
	size_t i;

	memset(&r, 0, sizeof r);
	r.by = BY_AGENT;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			for (i = 0; i < 5 && strcmp(optarg, by_names[i]); i++)
				;
			if (i == 5)
				ag_diex(AG_EXIT_USAGE, "unknown --by '%s': want "
				    "agent, role, model, day or session", optarg);
			r.by = (enum by)i;
			break;
		case 't': tree = 1; break;
		case 'S':
			if (cost_bound(optarg, 0, since) < 0)
				ag_diex(AG_EXIT_USAGE, "bad --since '%s': want "
				    "YYYY-MM-DD or a timestamp", optarg);
			have_since = 1;
			break;
		case 'U':
			if (cost_bound(optarg, 1, until) < 0)
				ag_diex(AG_EXIT_USAGE, "bad --until '%s': want "
				    "YYYY-MM-DD or a timestamp", optarg);
			have_until = 1;
			break;
		case 'w': where = optarg; break;
		case 'j': json = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (tree && r.by != BY_AGENT)
		ag_diex(AG_EXIT_USAGE, "--tree goes with --by agent");
	if (where)
		r.jq = where_compile(where);
	project_open_or_die(&p, 0);
	smap_init(&r.groups, sizeof(struct tot));
	run_report(&p, &r, have_since ? since : NULL, have_until ? until : NULL);
	print_report(&r, tree, json);
	smap_free(&r.groups);
	if (r.jq)
		jq_teardown(&r.jq);
	project_close(&p);
	ag_exit(AG_EXIT_OK);
}

static int
cmd_total(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report r;
	struct project p;
	const char *e;
	int c, json = 0, afd;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c != 'j')
			usage();
		json = 1;
	}
	if (optind + 1 != argc)
		usage();
	if ((e = agent_id_check(argv[optind])))
		ag_diex(AG_EXIT_USAGE, "bad agent id '%s': %s", argv[optind], e);
	project_open_or_die(&p, 0);
	memset(&r, 0, sizeof r);
	r.by = BY_AGENT;
	r.only = argv[optind];
	smap_init(&r.groups, sizeof(struct tot));
	run_report(&p, &r, NULL, NULL);
	if ((afd = agent_open(&p, r.only)) >= 0)
		close(afd);
	else if (!r.only_seen)
		ag_diex(AG_EXIT_USAGE, "no such agent: %s", r.only);
	if (json) {
		jv o = jv_object_set(jv_object(), jv_string("agent"),
		    jv_string(r.only));

		o = jv_object_set(o, jv_string("agents"),
		    jv_number((double)r.groups.n));
		json_print(jv_object_merge(o, tot_json(&r.total)));
	} else {
		printf("%.6f\n", r.total.cost);
	}
	smap_free(&r.groups);
	project_close(&p);
	ag_exit(AG_EXIT_OK);
}

int
main(int argc, char **argv)
{
	ag_init(argv[0]);
	if (argc < 2)
		usage();
	argv++;
	argc--;
	optind = 1;
	if (!strcmp(argv[0], "record"))
		return cmd_record(argc, argv);
	if (!strcmp(argv[0], "import"))
		return cmd_import(argc, argv);
	if (!strcmp(argv[0], "report"))
		return cmd_report(argc, argv);
	if (!strcmp(argv[0], "total"))
		return cmd_total(argc, argv);
	if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[0], "--version")) {
		printf("ag-cost %s\n", AG_VERSION);
		return 0;
	}
	ag_diex(AG_EXIT_USAGE, "unknown command '%s'", argv[0]);
}
