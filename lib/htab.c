/* A string-keyed hash table: open addressing, no deletion. */
#include <stdlib.h>
#include <string.h>

#include "ozon-etl.h"

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static struct hent *
slot(struct hent *v, size_t cap, const char *k, size_t n, uint64_t h)
{
	size_t i;

	for (i = h & (cap - 1); v[i].key; i = (i + 1) & (cap - 1))
		if (v[i].hash == h && v[i].klen == n &&
		    memcmp(v[i].key, k, n) == 0)
			break;
	return &v[i];
}

void *
ht_get(const struct htab *t, const char *k, size_t n)
{
	if (t->n == 0)
		return NULL;
	return slot(t->v, t->cap, k, n, hash(k, n))->val;
}

struct hent *
ht_put(struct htab *t, const char *k, size_t n, void *val)
{
	struct hent *e, *old;
	size_t i, oldcap;
	uint64_t h;

	if ((t->n + 1) * 2 > t->cap) {
		old = t->v;
		oldcap = t->cap;
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xmalloc(t->cap * sizeof *t->v);
		memset(t->v, 0, t->cap * sizeof *t->v);
		for (i = 0; i < oldcap; i++)
			if (old[i].key)
				*slot(t->v, t->cap, old[i].key, old[i].klen,
				    old[i].hash) = old[i];
		free(old);
	}
	h = hash(k, n);
	e = slot(t->v, t->cap, k, n, h);
	if (e->key)
		return e;
	e->key = k;
	e->klen = n;
	e->hash = h;
	e->val = val;
	t->n++;
	return e;
}

void
ht_free(struct htab *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}
