#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "par.h"

struct par {
	size_t n;
	atomic_size_t next;
	void (*fn)(size_t, void *);
	void *arg;
};

static void *
par_worker(void *v)
{
	struct par *w = v;
	size_t i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->n)
		w->fn(i, w->arg);
	return NULL;
}

void
par_each(size_t n, size_t min_par, void (*fn)(size_t i, void *arg),
    void *arg)
{
	struct par w = { .n = n, .fn = fn, .arg = arg };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t th[8];
	int nth, t;

	atomic_init(&w.next, 0);
	nth = ncpu > 1 ? (int)(ncpu > 8 ? 8 : ncpu) : 1;
	if (n < min_par)
		nth = 1;
	for (t = 1; t < nth; t++)
		if (pthread_create(&th[t], NULL, par_worker, &w) != 0)
			break;
	par_worker(&w);
	while (--t >= 1)
		pthread_join(th[t], NULL);
}
