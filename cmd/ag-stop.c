/*
 * ag-stop - stop agents and all their descendants, children first.
 *
 *   ag-stop [--grace DUR] [--reason TEXT] (ID... | -s SESSION | --all)
 *
 * Every descendant is stopped before its parent, the agents of one depth
 * in parallel: SIGTERM to the process group, SIGKILL after the grace
 * period (10s).  The status becomes stopped, with a [STOPPED] line and
 * the reason in result.json; queued agents are dequeued as stopped.  No
 * signal reaches a process not proven to be the agent's (see stop.h); an
 * agent whose process is gone is recorded lost.  One line per agent:
 * ID STATUS.  Exit 0 when every named agent is final afterwards, else 1.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "err.h"
#include "file.h"
#include "names.h"
#include "project.h"
#include "session.h"
#include "stop.h"

static const char usage_text[] =
    "usage: ag-stop [--grace DUR] [--reason TEXT] (ID... | -s SESSION | "
    "--all)\n";

static _Noreturn void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AG_EXIT_USAGE);
}

static void
print_one(const char *id, enum agent_status st, const char *note, void *arg)
{
	(void)arg;
	if (note && (st == ST_LOST || !status_is_final(st)))
		printf("%s %s (%s)\n", id, status_name(st), note);
	else
		printf("%s %s\n", id, status_name(st));
	fflush(stdout);
}

/* Every agent not yet final. */
static jv
live_agents(struct project *p)
{
	struct dirent *de;
	jv ids = jv_array();
	DIR *d;
	int fd;

	if (p->agents < 0 || (fd = dup(p->agents)) < 0 ||
	    !(d = fdopendir(fd)))
		return ids;
	rewinddir(d);
	while ((de = readdir(d))) {
		int afd;

		if (de->d_name[0] == '.')
			continue;
		if ((afd = agent_open(p, de->d_name)) < 0)
			continue;
		if (!status_is_final(agent_status_at(afd)))
			ids = jv_array_append(ids, jv_string(de->d_name));
		close(afd);
	}
	closedir(d);
	return ids;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "grace", required_argument, NULL, 'g' },
		{ "reason", required_argument, NULL, 'r' },
		{ "session", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = "stopped by ag-stop", *session = NULL, *r;
	int64_t grace = AG_GRACE_DEFAULT_MS;
	int c, all = 0, i, left, n;
	struct project p;
	jv roots, list;

	ag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (duration_parse(optarg, &grace) < 0)
				ag_diex(AG_EXIT_USAGE, "bad grace '%s': want a "
				    "duration such as 10s", optarg);
			break;
		case 'r':
			if (strpbrk(optarg, "\n\r"))
				ag_diex(AG_EXIT_USAGE, "bad reason: it contains "
				    "a line break");
			reason = optarg;
			break;
		case 's':
			if ((r = name_check(optarg)))
				ag_diex(AG_EXIT_USAGE, "bad session '%s': %s",
				    optarg, r);
			session = optarg;
			break;
		case 'a': all = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			ag_exit(0);
		default:
			usage();
		}
	}
	if ((optind < argc) + !!session + all != 1)
		usage();
	for (i = optind; i < argc; i++)
		if ((r = agent_id_check(argv[i])))
			ag_diex(AG_EXIT_USAGE, "bad agent id '%s': %s", argv[i],
			    r);
	project_open_or_die(&p, 0);

	/* Every name is checked before anything is stopped. */
	roots = jv_array();
	for (i = optind; i < argc; i++) {
		agent_exists_or_die(&p, argv[i], "unknown agent", "", "");
		roots = jv_array_append(roots, jv_string(argv[i]));
	}
	if (session) {
		char name[AG_NAME_MAX + 1];
		int sfd = session_open_or_die(&p, session, name);

		jv_free(roots);
		roots = session_agent_ids(&p, sfd, name);
		close(sfd);
	}
	if (all) {
		jv_free(roots);
		roots = live_agents(&p);
	}
	list = stop_expand(&p, roots);
	n = jv_array_length(jv_copy(list));
	left = n ? stop_agents(&p, list, grace, reason, print_one, NULL) : 0;
	if (!n)
		jv_free(list);
	project_close(&p);
	ag_exit(left ? AG_EXIT_NO : AG_EXIT_OK);
}
