/*
 * smap.h - a string-keyed hash map of fixed-size values, for grouping:
 * insert-or-find by key, then walk in insertion order.  Keys are copied.
 */
#ifndef AG_SMAP_H
#define AG_SMAP_H

#include <stddef.h>
#include <stdint.h>

struct smap {
	size_t vsize;           /* bytes per value */
	size_t n, cap;          /* entries, slots (a power of two) */
	uint32_t *slot;         /* entry index + 1, 0 free */
	char **key;             /* by entry */
	unsigned char *val;     /* by entry, vsize each */
	size_t ecap;
};

void smap_init(struct smap *m, size_t vsize);
void smap_free(struct smap *m);
/* The value of key, zero-filled when new; NULL when out of memory. */
void *smap_get(struct smap *m, const char *key);
/* The value of key, or NULL when absent. */
void *smap_find(const struct smap *m, const char *key);
/* Entry i (0..n-1), in insertion order. */
const char *smap_key(const struct smap *m, size_t i);
void *smap_val(const struct smap *m, size_t i);

uint64_t hash64(const void *p, size_t n);

#endif
