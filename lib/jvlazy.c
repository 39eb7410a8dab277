/*
 * jvlazy.c - libjq's jv API, loaded the first time it is called.
 *
 * Linking libjq (and with it libonig and libm) costs every start of a
 * process about 0.3-0.5 ms here: the loader maps and relocates three more
 * libraries, and fork copies their mappings.  The hot commands (ag-spawn,
 * ag-wait, ag-ps, ag-task, ag-stop, ag-watchdog) run in shell loops and
 * mostly never touch JSON: ag-spawn's own path writes none.  They link
 * this file instead of -ljq.  Each function below has the prototype of
 * <jv.h> and calls the real one, which it finds in libjq with dlopen and
 * dlsym the first time.  The JSON is still libjq's; only its loading is
 * deferred.  A libjq that cannot be loaded is said, and exits 125.
 *
 * Not in libag.a: a command linked with -ljq must get the real symbols.
 * jv_lazy_load loads it ahead of need, and says -1 rather than exit: a
 * monitor calls it while its agent runs (see launch.c).
 */
#include <dlfcn.h>
#include <jv.h>

#include "err.h"

#ifndef JQ_SONAME
#define JQ_SONAME "libjq.so.1"
#endif

static void *lib;

int
jv_lazy_load(void)
{
	void *h = __atomic_load_n(&lib, __ATOMIC_ACQUIRE);

	if (!h) {
		if (!(h = dlopen(JQ_SONAME, RTLD_LAZY | RTLD_LOCAL)))
			return -1;
		__atomic_store_n(&lib, h, __ATOMIC_RELEASE);
	}
	return 0;
}

static void *
lazy_sym(const char *name)
{
	void *f;

	if (jv_lazy_load() < 0)
		ag_diex(AG_EXIT_FAIL, "cannot load libjq: %s", dlerror());
	if (!(f = dlsym(__atomic_load_n(&lib, __ATOMIC_ACQUIRE), name)))
		ag_diex(AG_EXIT_FAIL, "cannot load libjq: %s", dlerror());
	return f;
}

/*
 * One wrapper: resolve once (a race between threads stores the same
 * pointer twice), then call.  POSIX lets dlsym's object pointer hold a
 * function; the union says so without a cast C forbids.
 */
#define LAZY(ret, name, params, args)                                   \
ret                                                                     \
name params                                                             \
{                                                                       \
	static ret (*fn) params;                                        \
	ret (*f) params = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);       \
                                                                        \
	if (!f) {                                                       \
		union { void *p; ret (*f) params; } u;                  \
                                                                        \
		u.p = lazy_sym(#name);                                  \
		f = u.f;                                                \
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);             \
	}                                                               \
	return f args;                                                  \
}

#define JV LAZY
#include "jvlist.h"
