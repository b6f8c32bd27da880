/*
 * fuzz-mapping: the input as a mapping file for map_parse(), both with
 * and without first_wins, then map_lookup() of a few names, of every
 * original and normalized name it holds and of the input itself, and
 * map_free().  A failure says why; every entry is found exactly by its
 * spellings; a lookup answers with one of the mapping's entries.
 */
#include <string.h>

#include "ozon-etl.h"
#include "fuzz.h"

static const char *names[] = {
	"ХОРУГВИНО_РФЦ", "Хоругвино", "склад хоругвино", "РФЦ Хоругвино",
	"Воронеж", "Склад Склад Тверь", "", " -- ", "a", "_",
};

static int
text_ok(const char *s)
{
	char err[128];

	return *s && strpbrk(s, "\t\n") == NULL &&
	    utf8_check(s, strlen(s), 0, err, sizeof err) == 0;
}

static const struct wh_entry *
lookup(const struct mapping *m, const char *name, size_t n, struct buf *c)
{
	const struct wh_entry *e;
	int match = -1;

	e = map_lookup(m, name, n, c, &match);
	if (e != NULL) {
		FUZZ_CHECK(e >= m->e && e < m->e + m->n);
		FUZZ_CHECK(match == MATCH_EXACT || match == MATCH_RULE);
	}
	return e;
}

/* Parse s[0..n) the way the tools hand it over: NUL after the text. */
static int
parse(const char *s, size_t n, int first_wins, int valid)
{
	struct mapping m;
	struct buf c = { NULL, 0, 0 };
	const struct wh_entry *e, *got;
	char *text, err[256] = "";
	size_t i;
	int rc, match;

	text = xmalloc(n + 1);
	if (n > 0)
		memcpy(text, s, n);
	text[n] = '\0';
	if ((rc = map_parse(&m, text, n, first_wins, err, sizeof err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(m.n == 0 && m.e == NULL && m.nkeys == 0);
		goto out;
	}
	FUZZ_CHECK(m.nkeys <= 2 * m.n);
	for (i = 0; i < m.n; i++) {
		e = &m.e[i];
		FUZZ_CHECK(text_ok(e->original) && text_ok(e->normalized));
		FUZZ_CHECK(e->cluster == NULL || text_ok(e->cluster));
		FUZZ_CHECK(e->code == NULL || text_ok(e->code));
		got = map_lookup(&m, e->original, strlen(e->original), &c,
		    &match);
		FUZZ_CHECK(got != NULL && match == MATCH_EXACT);
		/* without first_wins, a spelling given twice agrees */
		if (!first_wins)
			FUZZ_CHECK(strcmp(got->normalized, e->normalized) == 0);
		got = map_lookup(&m, e->normalized, strlen(e->normalized), &c,
		    &match);
		FUZZ_CHECK(got != NULL && match == MATCH_EXACT);
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		lookup(&m, names[i], strlen(names[i]), &c);
	/* names are UTF-8 when they reach the mapping (etl-validate) */
	if (valid)
		lookup(&m, s, n, &c);
	map_free(&m);
	FUZZ_CHECK(m.n == 0 && m.e == NULL);
out:
	buf_free(&c);
	free(text);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char err[128];
	int valid, strict, lenient;

	valid = utf8_check(s, size, 0, err, sizeof err) == 0;
	strict = parse(s, size, 0, valid);
	lenient = parse(s, size, 1, valid);
	/* first_wins only forgives: what loads without it loads with it */
	FUZZ_CHECK(strict == -1 || lenient == 0);
	return 0;
}
