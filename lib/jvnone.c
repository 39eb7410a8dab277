/*
 * jvnone.c - libjq's jv API in a build without libjq.
 *
 * ag-spawn, ag-wait and ag are linked statically with musl: a process
 * of glibc's starts in about 1.1 ms on this machine, most of it glibc
 * asking the CPU what it is (some 80 cpuid instructions, each a trap to
 * the hypervisor in a virtual machine); one of musl's in 0.1 ms.  That
 * is most of what a spawn costs.  But libjq is a shared library of
 * glibc's, which a static musl program cannot load.
 *
 * So these commands keep JSON off their usual path (the monitor hands
 * its agent to the helper ag-monitor, linked with libjq, before the
 * end: launch.c), and where a run needs JSON after all (ag-wait --json,
 * the archives named in an error) it starts over, from the same command
 * line, in the same command built with libjq (PREFIX/libexec/ag/jq/):
 * each function below does that.  A command calls ag_rerun_off once a
 * second run would redo its work; JSON after that is a bug, said as one
 * (exit 125).
 *
 * Not in libag.a, like jvlazy.c: only the musl build links it.
 */
#include <jv.h>

#include "err.h"

#define NONE(ret, name, params, args)                                   \
ret                                                                     \
name params                                                             \
{                                                                       \
	ag_rerun_with_jq();                                             \
}

#define JV NONE
#include "jvlist.h"
