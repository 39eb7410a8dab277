/*
 * ag-task - the project's task store: add, atomic claim, done and fail,
 * release of stale claims.
 *
 *   ag-task add [--id ID] [-p PRIORITY] DESCRIPTION
 *   ag-task claim [-a AGENT] [-n COUNT]
 *   ag-task done ID [--result JSON]
 *   ag-task fail ID [--reason TEXT]
 *   ag-task release ID
 *   ag-task release-stale [--older-than DUR]
 *   ag-task list [--status S] [--json]
 *
 * Tasks are files in .project/tasks/{pending,claimed,done,failed}/ID, one
 * JSON object each.  claim moves the highest-priority, oldest pending
 * task to claimed/ with one rename(2) and prints ID<TAB>DESCRIPTION; it
 * exits 1 when none is pending.  See task.h for how the order is kept.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "err.h"
#include "file.h"
#include "json.h"
#include "names.h"
#include "project.h"
#include "task.h"

static const char usage_text[] =
    "usage: ag-task add [--id ID] [-p PRIORITY] DESCRIPTION\n"
    "       ag-task claim [-a AGENT] [-n COUNT]\n"
    "       ag-task done ID [--result JSON]\n"
    "       ag-task fail ID [--reason TEXT]\n"
    "       ag-task release ID\n"
    "       ag-task release-stale [--older-than DUR]\n"
    "       ag-task list [--status S] [--json]\n";

#define STALE_DEFAULT_MS (5 * 60 * 1000)

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

static void
check_id(const char *id)
{
	const char *r = name_check(id);

	if (r)
		ag_diex(AG_EXIT_USAGE, "bad task id '%s': %s", id, r);
}

static int
open_tasks(struct project *p, int create)
{
	int tfd;

	project_open_or_die(p, create ? PROJ_CREATE : 0);
	tfd = task_dir(p, create);
	if (tfd < 0 && (create || errno != ENOENT))
		ag_die(AG_EXIT_FAIL, "cannot open %s/tasks", p->path);
	return tfd;
}

/* A priority: an integer, or a word for one (low -1, normal 0, high 1,
 * urgent 2), as trackers name them. */
static long
priority_parse(const char *s)
{
	static const struct { const char *word; long prio; } words[] = {
		{ "low", -1 }, { "normal", 0 }, { "medium", 0 },
		{ "high", 1 }, { "urgent", 2 }, { "critical", 2 },
	};
	size_t i;
	char *end;
	long prio;

	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(s, words[i].word))
			return words[i].prio;
	errno = 0;
	prio = strtol(s, &end, 10);
	if (errno || *end || !*s || prio < -1000000 || prio > 1000000)
		ag_diex(AG_EXIT_USAGE, "bad priority '%s': want an integer, "
		    "or low, normal, high or urgent", s);
	return prio;
}

static int
cmd_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "priority", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	char id[AG_NAME_MAX + 1] = "";
	long prio = 0;
	struct project p;
	int c, tfd;

	while ((c = getopt_long(argc, argv, "p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			check_id(optarg);
			snprintf(id, sizeof id, "%s", optarg);
			break;
		case 'p':
			prio = priority_parse(optarg);
			break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (!argv[optind][strspn(argv[optind], " \t\n")])
		ag_diex(AG_EXIT_USAGE, "empty task description");
	tfd = open_tasks(&p, 1);
	if (task_add(tfd, id, prio, argv[optind]) < 0) {
		if (errno == EEXIST)
			ag_diex(AG_EXIT_USAGE, "task id '%s' is already in use",
			    id);
		ag_die(AG_EXIT_FAIL, "cannot add a task");
	}
	printf("%s\n", id);
	return 0;
}

static jv
get(jv t, const char *k)
{
	return jv_object_get(jv_copy(t), jv_string(k));
}

static int
cmd_claim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "agent", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *agent = getenv("AG_AGENT_ID"), *r;
	struct project p;
	long count = 1, got = 0;
	int c, tfd;
	char *e;
	jv t, d, id, all;

	while ((c = getopt_long(argc, argv, "a:n:", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if ((r = agent_id_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad agent id '%s': %s",
				    optarg, r);
			agent = optarg;
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &e, 10);
			if (errno || *e || count < 1 || count > 100000 ||
			    !(*optarg >= '0' && *optarg <= '9'))
				ag_diex(AG_EXIT_USAGE, "bad --count '%s': want 1 to "
				    "100000", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (agent && agent_id_check(agent))
		agent = NULL;
	tfd = open_tasks(&p, 0);
	if (tfd < 0)
		return AG_EXIT_NO;
	/* Each claim is its own rename; the batch is synced once, before
	 * any of it is printed. */
	if ((c = task_claim_n(tfd, agent, count, &all)) < 0)
		ag_die(AG_EXIT_FAIL, "cannot claim a task");
	for (got = 0; got < c; got++) {
		t = jv_array_get(jv_copy(all), (int)got);
		d = get(t, "description");
		id = get(t, "id");
		printf("%s\t%s\n", jv_string_value(id),
		    jv_get_kind(d) == JV_KIND_STRING ? jv_string_value(d) : "");
		jv_free(id);
		jv_free(d);
		jv_free(t);
	}
	jv_free(all);
	return got ? 0 : AG_EXIT_NO;
}

static int
cmd_finish(int argc, char **argv, int failed)
{
	static const struct option longopts[] = {
		{ "result", required_argument, NULL, 'r' },
		{ "reason", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	jv extra = jv_null();
	struct project p;
	int c, tfd;
	enum task_state st;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'r' && !failed) {
			jv_free(extra);
			extra = jv_parse(optarg);
			if (!jv_is_valid(extra)) {
				char why[256];

				ag_diex(AG_EXIT_USAGE, "bad --result JSON: %s",
				    json_error_text(extra, why, sizeof why));
			}
		} else if (c == 'R' && failed) {
			jv_free(extra);
			extra = jv_string(optarg);
		} else {
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	check_id(argv[optind]);
	tfd = open_tasks(&p, 0);
	if (tfd < 0)
		ag_diex(AG_EXIT_USAGE, "unknown task '%s'", argv[optind]);
	if (task_finish(tfd, argv[optind], failed, extra) < 0) {
		if (errno != ENOENT && errno != EEXIST)
			ag_die(AG_EXIT_FAIL, "cannot record task %s",
			    argv[optind]);
		st = task_find(tfd, argv[optind]);
		if (st == TS_NONE)
			ag_diex(AG_EXIT_USAGE, "unknown task '%s'",
			    argv[optind]);
		ag_diex(AG_EXIT_USAGE, "task %s is %s, not claimed",
		    argv[optind], task_state_names[st]);
	}
	return 0;
}

static int
cmd_release(int argc, char **argv)
{
	struct project p;
	enum task_state st;
	int tfd;

	if (argc != 2)
		usage();
	check_id(argv[1]);
	tfd = open_tasks(&p, 0);
	if (tfd < 0)
		ag_diex(AG_EXIT_USAGE, "unknown task '%s'", argv[1]);
	if (task_release(tfd, argv[1]) < 0) {
		if (errno != ENOENT)
			ag_die(AG_EXIT_FAIL, "cannot release task %s", argv[1]);
		st = task_find(tfd, argv[1]);
		if (st == TS_NONE)
			ag_diex(AG_EXIT_USAGE, "unknown task '%s'", argv[1]);
		ag_diex(AG_EXIT_USAGE, "task %s is %s, not claimed", argv[1],
		    task_state_names[st]);
	}
	return 0;
}

static int
cmd_release_stale(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t max = STALE_DEFAULT_MS, now = clock_wall_ms();
	struct project p;
	struct dirent *de;
	int c, tfd, cfd;
	DIR *d;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'o' || duration_parse(optarg, &max) < 0)
			ag_diex(AG_EXIT_USAGE, "bad duration '%s'",
			    c == 'o' ? optarg : "");
	}
	if (optind != argc)
		usage();
	tfd = open_tasks(&p, 0);
	if (tfd < 0)
		return 0;
	cfd = openat(tfd, "claimed", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0 || !(d = fdopendir(cfd)))
		return 0;
	while ((de = readdir(d))) {
		char why[200];
		jv t;

		if (de->d_name[0] == '.')
			continue;
		t = task_read(tfd, TS_CLAIMED, de->d_name);
		if (jv_get_kind(t) != JV_KIND_OBJECT) {
			jv_free(t);
			continue;
		}
		if (task_claim_stale(&p, t, now, max, why, sizeof why) &&
		    task_release(tfd, de->d_name) == 0)
			printf("released %s (%s)\n", de->d_name, why);
		jv_free(t);
	}
	closedir(d);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int c, tfd, json = 0, want = -1, st;
	struct project p;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 's') {
			for (st = 0; task_state_names[st]; st++)
				if (!strcmp(optarg, task_state_names[st]))
					want = st;
			if (want < 0)
				ag_diex(AG_EXIT_USAGE, "bad status '%s': not "
				    "pending, claimed, done or failed", optarg);
		} else {
			usage();
		}
	}
	if (optind != argc)
		usage();
	tfd = open_tasks(&p, 0);
	if (tfd < 0)
		return 0;
	for (st = 0; st < TS_NONE; st++) {
		char **names;
		size_t n = 0, i;
		int dfd;

		if (want >= 0 && st != want)
			continue;
		dfd = openat(tfd, task_state_names[st], O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (dfd < 0)
			continue;
		names = dir_names(dfd, &n);
		close(dfd);
		if (!names)
			ag_die(AG_EXIT_FAIL, "cannot read %s/tasks/%s", p.path,
			    task_state_names[st]);
		for (i = 0; i < n; i++) {
			jv t = task_read(tfd, (enum task_state)st, names[i]);

			if (jv_get_kind(t) != JV_KIND_OBJECT) {
				jv_free(t);
			} else if (json) {
				t = jv_object_set(t, jv_string("status"),
				    jv_string(task_state_names[st]));
				json_print(t);
			} else {
				jv pr = get(t, "priority"), de2 = get(t,
				    "description"), by = get(t, "claimed_by");

				printf("%s\t%s\t%d\t%s\t%s\n", names[i],
				    task_state_names[st],
				    jv_get_kind(pr) == JV_KIND_NUMBER ?
				    (int)jv_number_value(pr) : 0,
				    jv_get_kind(by) == JV_KIND_STRING ?
				    jv_string_value(by) : "-",
				    jv_get_kind(de2) == JV_KIND_STRING ?
				    jv_string_value(de2) : "");
				jv_free(pr);
				jv_free(de2);
				jv_free(by);
				jv_free(t);
			}
		}
		dir_names_free(names);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	ag_init(argv[0]);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		ag_exit(0);
	}
	argc--;
	argv++;
	if (!strcmp(argv[0], "add"))
		ag_exit(cmd_add(argc, argv));
	if (!strcmp(argv[0], "claim"))
		ag_exit(cmd_claim(argc, argv));
	if (!strcmp(argv[0], "done"))
		ag_exit(cmd_finish(argc, argv, 0));
	if (!strcmp(argv[0], "fail"))
		ag_exit(cmd_finish(argc, argv, 1));
	if (!strcmp(argv[0], "release"))
		ag_exit(cmd_release(argc, argv));
	if (!strcmp(argv[0], "release-stale"))
		ag_exit(cmd_release_stale(argc, argv));
	if (!strcmp(argv[0], "list"))
		ag_exit(cmd_list(argc, argv));
	ag_warnx("unknown subcommand '%s'", argv[0]);
	usage();
}
