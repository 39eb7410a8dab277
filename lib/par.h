/*
 * par.h - one loop spread over the cores.  Commands that read thousands
 * of small files (ag-ps, ag-session list, ag-watchdog) spend their time
 * waiting on syscalls, not on the CPU: a few threads taking indexes from
 * one atomic counter finish in a fraction of the time.
 */
#ifndef AG_PAR_H
#define AG_PAR_H

#include <stddef.h>

/*
 * Call fn(i, arg) once for every i in [0, n), on up to 8 threads (one
 * when n < min_par or there is one core).  fn must be safe to run
 * concurrently for different i.  A thread that cannot be created only
 * leaves more work to the others.
 */
void par_each(size_t n, size_t min_par, void (*fn)(size_t i, void *arg),
    void *arg);

#endif
