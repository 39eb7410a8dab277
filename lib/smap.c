#include <stdlib.h>
#include <string.h>

#include "smap.h"

/* FNV-1a, then a final mix so that the low bits are usable as is. */
uint64_t
hash64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

void
smap_init(struct smap *m, size_t vsize)
{
	memset(m, 0, sizeof *m);
	m->vsize = vsize;
}

void
smap_free(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->key[i]);
	free(m->slot);
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof *m);
}

static size_t
lookup(const struct smap *m, const char *key)
{
	size_t i = (size_t)hash64(key, strlen(key)) & (m->cap - 1);

	while (m->slot[i] && strcmp(m->key[m->slot[i] - 1], key))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int
grow(struct smap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64, i, j;
	uint32_t *ns = calloc(ncap, sizeof *ns);

	if (!ns)
		return -1;
	for (i = 0; i < m->n; i++) {
		j = (size_t)hash64(m->key[i], strlen(m->key[i])) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = (uint32_t)(i + 1);
	}
	free(m->slot);
	m->slot = ns;
	m->cap = ncap;
	return 0;
}

void *
smap_find(const struct smap *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = lookup(m, key);
	return m->slot[i] ? m->val + (m->slot[i] - 1) * m->vsize : NULL;
}

void *
smap_get(struct smap *m, const char *key)
{
	size_t i;
	void *v;

	if ((v = smap_find(m, key)))
		return v;
	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return NULL;
	if (m->n == m->ecap) {
		size_t nc = m->ecap ? m->ecap * 2 : 32;
		char **nk = realloc(m->key, nc * sizeof *nk);
		unsigned char *nv;

		if (!nk)
			return NULL;
		m->key = nk;
		if (!(nv = realloc(m->val, nc * m->vsize)))
			return NULL;
		m->val = nv;
		m->ecap = nc;
	}
	if (!(m->key[m->n] = strdup(key)))
		return NULL;
	v = m->val + m->n * m->vsize;
	memset(v, 0, m->vsize);
	i = lookup(m, key);
	m->slot[i] = (uint32_t)(m->n + 1);
	m->n++;
	return v;
}

const char *
smap_key(const struct smap *m, size_t i)
{
	return m->key[i];
}

void *
smap_val(const struct smap *m, size_t i)
{
	return m->val + i * m->vsize;
}
