/*
 * ag-monitor - carry on watching an agent, with libjq (internal).
 *
 * Not a command: ag-spawn is linked without libjq (statically, with
 * musl, which starts ten times faster), and its monitor execs this
 * helper, installed in PREFIX/libexec/ag, to write the agent's end,
 * which is JSON.  The command line is the monitor's state (launch.c).
 */
#include "err.h"
#include "launch.h"

int
main(int argc, char **argv)
{
	ag_init(argv[0]);
	monitor_resume(argc, argv);
}
