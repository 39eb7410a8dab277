/*
 * ag-monitor - carry on watching an agent, with libjq (internal).
 *
 * Not a command: ag-spawn is linked without libjq (statically, with
 * musl, which starts ten times faster), and its monitor execs this
 * helper, installed in PREFIX/libexec/ag, to write the agent's end,
 * which is JSON.  The command line is the monitor's state (launch.c).
 *
 * ag-monitor --pass PROJECT: a queue pass, for an ag-spawn whose own
 * pass left to a build with libjq what it could not do (sched.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "launch.h"
#include "project.h"
#include "sched.h"

int
main(int argc, char **argv)
{
	struct project p;
	int lk;

	ag_init(argv[0]);
	if (argc == 3 && !strcmp(argv[1], "--pass")) {
		if (setenv("AG_PROJECT", argv[2], 1) < 0)
			ag_die(AG_EXIT_FAIL, "cannot set AG_PROJECT");
		project_open_or_die(&p, 0);
		if ((lk = sched_lock(&p)) < 0 || sched_pass(&p) < 0)
			ag_warn("queue pass failed; ag-watchdog will retry");
		ag_exit(0);
	}
	monitor_resume(argc, argv);
}
