/*
 * ag-ps - a table of agents.
 *
 *   ag-ps [--all | --running] [-s SESSION] [--tree] [--json]
 *
 * Columns ID ROLE STATUS ELAPSED COST PROGRESS.  By default the agents
 * that are queued or running and those that ended within the last hour;
 * --running only queued and running ones; --all every agent.  On a
 * terminal the columns are aligned; otherwise they are separated by one
 * TAB, for cut(1) and awk(1).  Reads a few small files per agent and the
 * last 4 KiB of its log: nothing is parsed that need not be.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "json.h"
#include "logscan.h"
#include "names.h"
#include "par.h"
#include "project.h"
#include "session.h"

#define RECENT_MS (3600 * 1000LL)

static const char usage_text[] =
    "usage: ag-ps [--all | --running] [-s SESSION] [--tree] [--json]\n";

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

struct row {
	char *id;
	int keep;                       /* passes the filters */
	int in_session;                 /* -s: the agent says it is of it */
	char role[AG_NAME_MAX + 1];
	enum agent_status st;
	int64_t started, ended;         /* -1 when unknown */
	int exit_code;                  /* -1 when none */
	double cost;
	char progress[200];
	int depth;
};

/* Order ids so that a parent comes right before its subtree: '.' sorts
 * below every name character. */
static int
cmp_tree(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)((const struct row *)a)->id;
	const unsigned char *y = (const unsigned char *)((const struct row *)b)->id;

	for (; *x && *x == *y; x++, y++)
		;
	return (*x == '.' ? 1 : *x) - (*y == '.' ? 1 : *y);
}

static int
cmp_start(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int64_t sx = x->started < 0 ? INT64_MAX : x->started;
	int64_t sy = y->started < 0 ? INT64_MAX : y->started;

	if (sx != sy)
		return sx < sy ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int64_t
read_ts(int fd, const char *name)
{
	char buf[AG_TS_LEN + 8];
	int64_t ms;

	if (read_line_at(fd, name, buf, sizeof buf) < 0 ||
	    ts_parse(buf, &ms) < 0)
		return -1;
	return ms;
}

static int64_t
elapsed(const struct row *r, int64_t now)
{
	if (r->started < 0)
		return -1;
	if (status_is_final(r->st))
		return r->ended >= 0 ? r->ended - r->started : -1;
	return now - r->started;
}

/* What the workers share: the rows to fill and the filters. */
static struct {
	struct project *p;
	struct row *rows;
	size_t n;
	int all, running, json;
	const char *session;            /* -s: its name, id, old names */
	int unknown;                    /* -s names no live or archived one */
	char sess_name[AG_NAME_MAX + 1], sess_id[AG_NAME_MAX + 2];
	char *sess_aliases;
	int64_t now;
} work;

static void
fill_row(struct row *w)
{
	struct agent_summary sum;
	char buf[64];
	int afd, have, dropped;

	afd = openat(work.p->agents, w->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (afd < 0)
		return;         /* removed meanwhile */
	w->st = agent_status_at(afd);
	/* An ended agent's summary holds all but its cost (which billing
	 * may still change): one file read instead of five. */
	have = status_is_final(w->st) && agent_summary_read(afd, &sum) == 0;
	w->ended = have ? sum.ended : status_is_final(w->st) ?
	    read_ts(afd, "ended") : -1;
	dropped = !work.all && status_is_final(w->st) && (work.running ||
	    w->ended < 0 || work.now - w->ended > RECENT_MS);
	/* The session is a file more to read: for the rows left out, only
	 * when no session of that name is known (a typo, or one gone). */
	if (dropped && !work.unknown)
		goto out;
	if (work.session && (read_line_at(afd, "session", buf, sizeof buf) < 0 ||
	    !session_names_match(buf, work.session, work.sess_id,
	    work.sess_aliases)))
		goto out;
	w->in_session = 1;
	if (dropped)
		goto out;
	if (have) {
		snprintf(w->role, sizeof w->role, "%s", sum.role);
		w->started = sum.started;
		w->exit_code = sum.exit_code;
		snprintf(w->progress, sizeof w->progress, "%s", sum.progress);
	} else {
		if (read_line_at(afd, "role", w->role, sizeof w->role) < 0)
			snprintf(w->role, sizeof w->role, "-");
		w->started = read_ts(afd, "started");
		w->exit_code = -1;
		if (work.json && status_is_final(w->st) &&
		    read_line_at(afd, "exit", buf, sizeof buf) == 0)
			w->exit_code = atoi(buf);
		log_last_progress(afd, w->progress, sizeof w->progress);
	}
	if (read_line_at(afd, "cost", buf, sizeof buf) == 0)
		w->cost = strtod(buf, NULL);
	w->keep = 1;
out:
	close(afd);
}

static void
fill_one(size_t i, void *arg)
{
	(void)arg;
	fill_row(&work.rows[i]);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "running", no_argument, NULL, 'R' },
		{ "session", required_argument, NULL, 's' },
		{ "tree", no_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, all = 0, running = 0, tree = 0, json = 0, tty, fd;
	const char *session = NULL, *r;
	struct row *rows = NULL;
	size_t n = 0, cap = 0, i;
	struct project p;
	struct dirent *de;
	int64_t now;
	DIR *d;

	ag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': all = 1; break;
		case 'R': running = 1; break;
		case 'T': tree = 1; break;
		case 'j': json = 1; break;
		case 's':
			if ((r = name_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad session '%s': %s",
				    optarg, r);
			session = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			ag_exit(0);
		default:
			usage();
		}
	}
	if (optind < argc)
		usage();
	if (all && running)
		ag_diex(AG_EXIT_USAGE, "--all and --running conflict");
	project_open_or_die(&p, 0);
	now = clock_wall_ms();

	if (p.agents >= 0) {
		size_t k;

		if ((fd = dup(p.agents)) < 0 || !(d = fdopendir(fd)))
			ag_die(AG_EXIT_FAIL, "cannot read %s/agents", p.path);
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				if (!(rows = realloc(rows, cap * sizeof *rows)))
					ag_die(AG_EXIT_FAIL, "out of memory");
			}
			memset(&rows[n], 0, sizeof rows[n]);
			if (!(rows[n].id = strdup(de->d_name)))
				ag_die(AG_EXIT_FAIL, "out of memory");
			n++;
		}
		closedir(d);
		/* Thousands of small reads: spread them over the cores. */
		work.p = &p;
		work.rows = rows;
		work.n = n;
		work.all = all;
		work.running = running;
		work.json = json;
		work.session = session;
		if (session) {
			size_t len;
			int sfd = session_open(&p, session, work.sess_name);

			/* A live session is known by its name, its id and
			 * its old names; anything else by the word given. */
			if (sfd >= 0) {
				if (read_line_at(sfd, "id", work.sess_id,
				    sizeof work.sess_id) < 0)
					work.sess_id[0] = '\0';
				work.sess_aliases = read_all_at(sfd, "aliases",
				    &len);
				close(sfd);
				work.session = work.sess_name;
			} else if (errno != ENOENT) {
				ag_die(AG_EXIT_FAIL, "cannot open session %s",
				    session);
			} else if (!session_archived(&p, session,
			    work.sess_name)) {
				work.unknown = 1;
			}
		}
		work.now = now;
		par_each(n, 256, fill_one, NULL);
		/* No such session, and no agent says it belongs to one of
		 * that name: a typo, said rather than shown as no agents. */
		for (i = k = 0; work.unknown && i < n; i++)
			k |= rows[i].in_session;
		if (work.unknown && !k)
			ag_diex(AG_EXIT_USAGE, "unknown session '%s'", session);
		/* Keep the rows that passed the filters. */
		for (i = k = 0; i < n; i++) {
			if (rows[i].keep)
				rows[k++] = rows[i];
			else
				free(rows[i].id);
		}
		n = k;
	}
	qsort(rows, n, sizeof *rows, tree ? cmp_tree : cmp_start);
	if (tree) {
		/* Indented under the ancestors shown: one whose parent is
		 * not in the table (ended and filtered out, or archived)
		 * starts at the left, its id telling its line. */
		size_t *up = n ? malloc(n * sizeof *up) : NULL, top = 0;

		if (n && !up)
			ag_die(AG_EXIT_FAIL, "out of memory");
		for (i = 0; i < n; i++) {
			while (top && !agent_id_is_descendant(rows[i].id,
			    rows[up[top - 1]].id))
				top--;
			rows[i].depth = (int)top;
			up[top++] = i;
		}
		free(up);
	}

	if (json) {
		for (i = 0; i < n; i++) {
			const struct row *w = &rows[i];
			char ts[AG_TS_LEN], par[AG_ID_MAX + 1];
			int64_t el = elapsed(w, now);
			jv o = jv_object();

			agent_id_parent(w->id, par);
			o = jv_object_set(o, jv_string("id"), jv_string(w->id));
			o = jv_object_set(o, jv_string("parent"),
			    par[0] ? jv_string(par) : jv_null());
			o = jv_object_set(o, jv_string("role"), jv_string(w->role));
			o = jv_object_set(o, jv_string("status"),
			    jv_string(status_name(w->st)));
			if (w->started >= 0)
				ts_format(w->started, ts);
			o = jv_object_set(o, jv_string("started"),
			    w->started >= 0 ? jv_string(ts) : jv_null());
			if (w->ended >= 0)
				ts_format(w->ended, ts);
			o = jv_object_set(o, jv_string("ended"),
			    w->ended >= 0 ? jv_string(ts) : jv_null());
			o = jv_object_set(o, jv_string("elapsed_ms"),
			    el >= 0 ? jv_number((double)el) : jv_null());
			o = jv_object_set(o, jv_string("exit_code"),
			    w->exit_code >= 0 ? jv_number(w->exit_code) :
			    jv_null());
			o = jv_object_set(o, jv_string("cost"), jv_number(w->cost));
			o = jv_object_set(o, jv_string("progress"),
			    w->progress[0] ? jv_string(w->progress) : jv_null());
			json_print(o);
		}
	} else {
		static const char *const head[] = { "ID", "ROLE", "STATUS",
		    "ELAPSED", "COST", "PROGRESS" };
		int wid[6] = { 2, 4, 6, 7, 4, 8 }, k;
		char (*cells)[4][AG_NAME_MAX + 8] = calloc(n ? n : 1, sizeof *cells);

		if (!cells)
			ag_die(AG_EXIT_FAIL, "out of memory");
		tty = isatty(1);
		for (i = 0; i < n; i++) {
			const struct row *w = &rows[i];
			int64_t el = elapsed(w, now);
			int len = (int)strlen(w->id) + (tree ? 2 * w->depth : 0);

			snprintf(cells[i][0], sizeof cells[i][0], "%s", w->role);
			snprintf(cells[i][1], sizeof cells[i][1], "%s", status_name(w->st));
			if (el >= 0)
				duration_format(el, cells[i][2], sizeof cells[i][2]);
			else
				snprintf(cells[i][2], sizeof cells[i][2], "-");
			snprintf(cells[i][3], sizeof cells[i][3], "$%.2f", w->cost);
			if (len > wid[0])
				wid[0] = len;
			for (k = 0; k < 4; k++)
				if ((int)strlen(cells[i][k]) > wid[k + 1])
					wid[k + 1] = (int)strlen(cells[i][k]);
		}
		if (tty)
			printf("%-*s  %-*s  %-*s  %*s  %*s  %s\n", wid[0], head[0],
			    wid[1], head[1], wid[2], head[2], wid[3], head[3],
			    wid[4], head[4], head[5]);
		else
			printf("ID\tROLE\tSTATUS\tELAPSED\tCOST\tPROGRESS\n");
		for (i = 0; i < n; i++) {
			const struct row *w = &rows[i];
			int ind = tree ? 2 * w->depth : 0;

			if (tty)
				printf("%*s%-*s  %-*s  %-*s  %*s  %*s  %s\n", ind,
				    "", wid[0] - ind, w->id, wid[1], cells[i][0],
				    wid[2], cells[i][1], wid[3], cells[i][2],
				    wid[4], cells[i][3], w->progress);
			else
				printf("%*s%s\t%s\t%s\t%s\t%s\t%s\n", ind, "",
				    w->id, cells[i][0], cells[i][1], cells[i][2],
				    cells[i][3], w->progress);
		}
		free(cells);
	}
	for (i = 0; i < n; i++)
		free(rows[i].id);
	free(rows);
	project_close(&p);
	ag_exit(0);
}
