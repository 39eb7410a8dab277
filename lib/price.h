/*
 * price.h - what tokens cost (SPEC 6): USD per million input, output,
 * cache-write and cache-read tokens, per model.  .project/pricing, plain
 * lines of "MODEL-GLOB IN OUT CACHE_WRITE CACHE_READ" ('#' starts a
 * comment), is tried first, in its order; then the built-in table.  The
 * first glob (fnmatch) that matches the model wins.
 */
#ifndef AG_PRICE_H
#define AG_PRICE_H

#include <stddef.h>
#include <stdint.h>

#include "project.h"

struct price {
	char *glob;
	double in, out, cache_write, cache_read;
};

struct prices {
	struct price *v;        /* the file's, then the built-in ones */
	size_t n;
	char **warned;          /* unknown models already warned of */
	size_t nwarned;
};

/*
 * Load the table.  A malformed pricing line fails with -1, and err says
 * which line and why ("pricing line 3: ...").
 */
int prices_load(struct project *p, struct prices *t, char *err, size_t cap);
void prices_free(struct prices *t);
/* The price of a model, or NULL: then one warning per model on stderr. */
const struct price *price_find(struct prices *t, const char *model);
/* USD for the tokens; 0 when pr is NULL. */
double price_cost(const struct price *pr, int64_t in, int64_t out,
    int64_t cache_write, int64_t cache_read);

#endif
