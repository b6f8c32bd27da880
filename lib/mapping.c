/*
 * The warehouse mapping: which spelling is which warehouse.  A TSV file
 * of original name, normalized name, cluster and code, looked up by the
 * exact spelling first and by its canonical form next.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ozon-etl.h"

/* The canonical form of two warehouses: no answer. */
static struct wh_entry ambiguous;

static char *
column(char **s)
{
	char *c = *s, *tab;

	if (c == NULL)
		return NULL;
	if ((tab = strchr(c, '\t'))) {
		*tab = '\0';
		*s = tab + 1;
	} else
		*s = NULL;
	return c;
}

static void
index_canon(struct mapping *m, const char *name, struct wh_entry *e,
    struct buf *scratch)
{
	struct hent *h;
	char *key;

	wh_canon(name, strlen(name), scratch);
	if (scratch->len == 0)
		return;
	key = xmemdup(scratch->p, scratch->len);
	h = ht_put(&m->canon, key, scratch->len, e);
	if (h->key != key) {
		free(key);
		if (h->val != &ambiguous &&
		    strcmp(((struct wh_entry *)h->val)->normalized,
		    e->normalized) != 0) {
			h->val = &ambiguous;
			m->conflicts++;
		}
		return;
	}
	m->keys = xrealloc(m->keys, (m->nkeys + 1) * sizeof *m->keys);
	m->keys[m->nkeys++] = key;
}

int
map_parse(struct mapping *m, char *text, size_t len, int first_wins,
    char *err, size_t errlen)
{
	struct buf scratch = { NULL, 0, 0 };
	char *line, *next, *s, *cols[4], why[64];
	struct wh_entry *e, *old;
	unsigned long lineno = 0;
	size_t i, k, n;
	int rc = -1;

	memset(m, 0, sizeof *m);
	if (memchr(text, '\0', len) ||
	    utf8_check(text, len, 0, why, sizeof why) == -1) {
		snprintf(err, errlen, "not UTF-8 text");
		return -1;
	}
	for (line = text; line < text + len; line = next) {
		lineno++;
		n = (size_t)(text + len - line);
		if ((next = memchr(line, '\n', n)) != NULL)
			n = (size_t)(next++ - line);
		else
			next = text + len;
		while (n > 0 && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		s = line;
		for (i = 0; i < 4; i++)
			cols[i] = column(&s);
		if (s != NULL || cols[1] == NULL || !*cols[0] || !*cols[1]) {
			snprintf(err, errlen, "line %lu: want original, "
			    "normalized[, cluster[, code]] separated by tabs",
			    lineno);
			goto out;
		}
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 128;
			m->e = xrealloc(m->e, m->cap * sizeof *m->e);
		}
		e = &m->e[m->n++];
		e->original = xstrdup(cols[0]);
		e->normalized = xstrdup(cols[1]);
		e->cluster = cols[2] && *cols[2] ? xstrdup(cols[2]) : NULL;
		e->code = cols[3] && *cols[3] ? xstrdup(cols[3]) : NULL;
	}
	/* index only now: m->e no longer moves */
	for (i = 0; i < m->n; i++) {
		e = &m->e[i];
		old = ht_put(&m->exact, e->original, strlen(e->original),
		    e)->val;
		if (old != e && !first_wins &&
		    strcmp(old->normalized, e->normalized) != 0) {
			snprintf(err, errlen, "\"%s\" maps to both \"%s\" and "
			    "\"%s\"", e->original, old->normalized,
			    e->normalized);
			goto out;
		}
	}
	/* a normalized name is an exact spelling of itself */
	for (i = 0; i < m->n; i++)
		ht_put(&m->exact, m->e[i].normalized,
		    strlen(m->e[i].normalized), &m->e[i]);
	for (k = 0; k < 2; k++)
		for (i = 0; i < m->n; i++)
			index_canon(m, k ? m->e[i].original :
			    m->e[i].normalized, &m->e[i], &scratch);
	rc = 0;
out:
	if (rc == -1)
		map_free(m);
	buf_free(&scratch);
	return rc;
}

int
map_load(struct mapping *m, const char *path, char *err, size_t errlen)
{
	struct buf b = { NULL, 0, 0 };
	char chunk[65536];
	size_t got;
	FILE *fp;
	int rc;

	memset(m, 0, sizeof *m);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, got);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s", strerror(errno));
		rc = -1;
	} else {
		buf_addc(&b, '\0');
		rc = map_parse(m, b.p, b.len - 1, 0, err, errlen);
	}
	(void)fclose(fp);	/* read only: ferror above said it all */
	buf_free(&b);
	return rc;
}

/* The entry for canonical name c, if it is one warehouse's. */
static const struct wh_entry *
canon_get(const struct mapping *m, const char *c, size_t n)
{
	const struct wh_entry *e = ht_get(&m->canon, c, n);

	return e == &ambiguous ? NULL : e;
}

/* Does canonical name c name its type (a word like РФЦ)? */
static int
has_type(const char *c, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j < n && c[j] != '_'; j++)
			;
		if (wh_is_type(c + i, j - i))
			return 1;
		i = j + 1;
	}
	return 0;
}

const struct wh_entry *
map_lookup(const struct mapping *m, const char *name, size_t n,
    struct buf *c, int *match)
{
	const struct wh_entry *e, *hit = NULL;
	const char *type;
	size_t i, base, hits = 0;

	if ((e = ht_get(&m->exact, name, n))) {
		*match = MATCH_EXACT;
		return e;
	}
	wh_canon(name, n, c);
	*match = MATCH_RULE;
	if (c->len == 0)
		return NULL;
	if ((e = canon_get(m, c->p, c->len)))
		return e;
	if (ht_get(&m->canon, c->p, c->len) || has_type(c->p, c->len))
		return NULL;
	/* "Склад Хоругвино": the one warehouse of that place and a type */
	base = c->len;
	for (i = 0; (type = wh_type(i)); i++) {
		c->len = base;
		buf_addc(c, '_');
		buf_adds(c, type);
		if ((e = canon_get(m, c->p, c->len))) {
			hit = e;
			hits++;
		}
	}
	c->len = base;
	return hits == 1 ? hit : NULL;
}

void
map_free(struct mapping *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->e[i].original);
		free(m->e[i].normalized);
		free(m->e[i].cluster);
		free(m->e[i].code);
	}
	for (i = 0; i < m->nkeys; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->e);
	ht_free(&m->exact);
	ht_free(&m->canon);
	memset(m, 0, sizeof *m);
}
