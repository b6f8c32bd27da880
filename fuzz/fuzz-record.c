/*
 * fuzz-record: the input as one line for rec_parse().  A line that parses
 * must emit a line that parses again and emits the same bytes, with keys
 * and strings that are UTF-8 without NUL.  The input also goes through
 * utf8_check() both ways and, when it is UTF-8, through wh_canon(),
 * whose answer must be UTF-8 and its own canonical form.
 */
#include <string.h>

#include "ozon-etl.h"
#include "fuzz.h"

static int
utf8_ok(const char *s, size_t n)
{
	char err[128];

	return utf8_check(s, n, 0, err, sizeof err) == 0;
}

static void
check_record(const struct record *r)
{
	const struct field *f;
	size_t i;

	for (i = 0; i < r->n; i++) {
		f = &r->f[i];
		FUZZ_CHECK(f->type >= J_NULL && f->type <= J_RAW);
		FUZZ_CHECK(f->koff + f->klen <= r->store.len);
		FUZZ_CHECK(f->voff + f->vlen <= r->store.len);
		if (f->klen > 0) {
			FUZZ_CHECK(utf8_ok(rec_key(r, i), f->klen));
			FUZZ_CHECK(!memchr(rec_key(r, i), '\0', f->klen));
		}
		if (f->type == J_STRING && f->vlen > 0) {
			FUZZ_CHECK(utf8_ok(rec_val(r, i), f->vlen));
			FUZZ_CHECK(!memchr(rec_val(r, i), '\0', f->vlen));
		}
		if (f->type == J_NUMBER || f->type == J_RAW)
			FUZZ_CHECK(f->vlen > 0);
	}
}

static void
round_trip(const char *s, size_t n)
{
	struct record r;
	struct buf e1 = { NULL, 0, 0 }, e2 = { NULL, 0, 0 };
	char err[128];

	rec_init(&r);
	if (rec_parse(&r, s, n) == -1) {
		FUZZ_CHECK(r.err[0] != '\0');
		goto out;
	}
	check_record(&r);
	rec_emit(&r, &e1);
	FUZZ_CHECK(e1.len >= 3 && e1.p[e1.len - 1] == '\n');
	FUZZ_CHECK(memchr(e1.p, '\n', e1.len - 1) == NULL);
	FUZZ_CHECK(utf8_check(e1.p, e1.len, 1, err, sizeof err) == 0);
	/* the same record (and parser handle) again, as the filters do */
	if (rec_parse(&r, e1.p, e1.len - 1) == -1) {
		fprintf(stderr, "emitted line does not parse: %s\n", r.err);
		FUZZ_CHECK(!"the emitted line parses");
	}
	check_record(&r);
	rec_emit(&r, &e2);
	FUZZ_CHECK(e2.len == e1.len && memcmp(e1.p, e2.p, e1.len) == 0);
out:
	buf_free(&e1);
	buf_free(&e2);
	rec_free(&r);
}

static void
canon(const char *s, size_t n)
{
	struct buf c1 = { NULL, 0, 0 }, c2 = { NULL, 0, 0 };

	wh_canon(s, n, &c1);
	FUZZ_CHECK(utf8_ok(c1.p, c1.len));
	if (c1.len > 0)
		FUZZ_CHECK(c1.p[0] != '_' && c1.p[c1.len - 1] != '_');
	wh_canon(c1.p, c1.len, &c2);
	if (c2.len != c1.len ||
	    (c1.len > 0 && memcmp(c1.p, c2.p, c1.len) != 0)) {
		fprintf(stderr, "canon: \"%.*s\" then \"%.*s\"\n",
		    (int)c1.len, c1.p, (int)c2.len, c2.p);
		FUZZ_CHECK(!"canon(canon(x)) == canon(x)");
	}
	buf_free(&c1);
	buf_free(&c2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char err[128];
	int strict, json;

	strict = utf8_check(s, size, 0, err, sizeof err);
	json = utf8_check(s, size, 1, err, sizeof err);
	/* the JSON check is the strict one plus escapes: never laxer */
	FUZZ_CHECK(json == -1 || strict == 0);
	round_trip(s, size);
	if (strict == 0)
		canon(s, size);
	return 0;
}
