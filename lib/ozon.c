/*
 * What is particular to each Ozon endpoint: its path, its request body,
 * where the rows are in its answer and how pages end.  Everything else in
 * ozon-extract is the same for all endpoints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ozon-etl.h"

/* POST /v2/analytics/stock_on_warehouses: offset pages, no total. */
static void
stock_body(const struct ozon_query *q, struct buf *b)
{
	b->len = 0;
	buf_adds(b, "{\"limit\":");
	buf_add_i64(b, q->limit);
	buf_adds(b, ",\"offset\":");
	buf_add_i64(b, q->offset);
	buf_adds(b, ",\"warehouse_type\":");
	buf_add_jstr(b, q->warehouse_type, strlen(q->warehouse_type));
	buf_addc(b, '}');
}

/* Only a short page ends the snapshot. */
static int
stock_next(struct ozon_query *q, size_t rows)
{
	if (rows < (size_t)q->limit)
		return 0;
	q->offset += q->limit;
	return 1;
}

const struct ozon_endpoint ozon_endpoints[] = {
	{ "stock_on_warehouses", "/v2/analytics/stock_on_warehouses",
	  "result", "rows", stock_body, stock_next },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

const struct ozon_endpoint *
ozon_endpoint(const char *name)
{
	const struct ozon_endpoint *e;

	for (e = ozon_endpoints; e->name; e++)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

/*
 * The answer parser.  It checks the whole answer against the JSON grammar
 * and cuts the rows out of result.rows as the bytes Ozon sent, without
 * decoding them: a page is parsed at memory speed, and every row goes
 * out exactly as it came (only white space between tokens is dropped,
 * when a row spans lines).  Judging the values is etl-validate's job.
 */
#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL
#define HASZERO(v)	(((v) - ONES) & ~(v) & HIGHS)
#define HASLESS(v, c)	(((v) - ONES * (c)) & ~(v) & HIGHS)
/* a byte that ends a run of plain string bytes: '"', '\\' or a control */
#define STOPS(w)	(HASLESS(w, 0x20) | HASZERO((w) ^ (ONES * '"')) | \
			 HASZERO((w) ^ (ONES * '\\')))
#define MAXDEPTH	64

struct scan {
	const char *p, *e, *start;
	int nl;			/* white space with a line break was skipped */
	const struct ozon_endpoint *ep;
	struct ozon_page *pg;
};

static void
ws(struct scan *s)
{
	for (; s->p < s->e; s->p++)
		if (*s->p == '\n' || *s->p == '\r')
			s->nl = 1;
		else if (*s->p != ' ' && *s->p != '\t')
			break;
}

static int
hex4(const char *p)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
			return 0;
	return 1;
}

/* A string at s->p (its '"'); s->p moves past it.  Returns 0 or -1. */
static int
string(struct scan *s)
{
	const char *p = s->p + 1, *e = s->e;
	uint64_t w, m;

	for (;;) {
		/* eight bytes at a time up to the first '"', '\\' or control */
		if (e - p >= 8) {
			memcpy(&w, p, 8);
			if ((m = STOPS(w)) == 0) {
				p += 8;
				continue;
			}
			p += __builtin_ctzll(m) >> 3;	/* little-endian */
		} else if (p >= e)
			return -1;
		if (*p == '"') {
			s->p = p + 1;
			return 0;
		}
		if (*p == '\\') {
			if (e - p < 2)
				return -1;
			if (p[1] == 'u') {
				if (e - p < 6 || !hex4(p + 2))
					return -1;
				p += 6;
			} else if (strchr("\"\\/bfnrt", p[1]) && p[1]) {
				p += 2;
			} else
				return -1;
		} else if ((unsigned char)*p < 0x20)
			return -1;
		else
			p++;
	}
}

static int
digits(struct scan *s)
{
	const char *p = s->p;

	while (s->p < s->e && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > p ? 0 : -1;
}

static int
number(struct scan *s)
{
	if (s->p < s->e && *s->p == '-')
		s->p++;
	if (s->p < s->e && *s->p == '0')
		s->p++;
	else if (digits(s) == -1)
		return -1;
	if (s->p < s->e && *s->p == '.') {
		s->p++;
		if (digits(s) == -1)
			return -1;
	}
	if (s->p < s->e && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->e && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (digits(s) == -1)
			return -1;
	}
	return 0;
}

static int
literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->e - s->p) < n || memcmp(s->p, word, n) != 0)
		return -1;
	s->p += n;
	return 0;
}

static int value(struct scan *, int depth);

/*
 * After a member or element: 1 at the closer (passed), 0 at a comma
 * (passed, and the white space after it), -1 at anything else.
 */
static int
after(struct scan *s, char close)
{
	ws(s);
	if (s->p >= s->e)
		return -1;
	if (*s->p == close) {
		s->p++;
		return 1;
	}
	if (*s->p++ != ',')
		return -1;
	ws(s);
	return 0;
}

/* Members of an object or elements of an array, after its opener. */
static int
members(struct scan *s, int depth, char close)
{
	int rc;

	ws(s);
	if (s->p < s->e && *s->p == close) {
		s->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (s->p >= s->e || *s->p != '"' || string(s) == -1)
				return -1;
			ws(s);
			if (s->p >= s->e || *s->p++ != ':')
				return -1;
			ws(s);
		}
		if (value(s, depth + 1) == -1)
			return -1;
		if ((rc = after(s, close)) != 0)
			return rc > 0 ? 0 : -1;
	}
}

static int
value(struct scan *s, int depth)
{
	if (s->p >= s->e || depth > MAXDEPTH)
		return -1;
	switch (*s->p) {
	case '{':
		s->p++;
		return members(s, depth, '}');
	case '[':
		s->p++;
		return members(s, depth, ']');
	case '"':
		return string(s);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		return number(s);
	}
}

/*
 * Copy a row; one that spans lines (nl) loses the white space between
 * its tokens.
 */
static void
put_row(struct buf *b, const char *p, size_t n, int nl)
{
	int in_str = 0;
	size_t i;

	if (!nl) {
		buf_add(b, p, n);
		buf_addc(b, '\n');
		return;
	}
	for (i = 0; i < n; i++) {
		if (in_str) {
			if (p[i] == '\\')
				buf_addc(b, p[i++]);
			else if (p[i] == '"')
				in_str = 0;
		} else if (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' ||
		    p[i] == '\t')
			continue;
		else if (p[i] == '"')
			in_str = 1;
		buf_addc(b, p[i]);
	}
	buf_addc(b, '\n');
}

/* The rows array, after its '['. */
static int
rows(struct scan *s)
{
	const char *row;
	int rc;

	s->pg->has_rows = 1;
	ws(s);
	if (s->p < s->e && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		row = s->p;
		s->nl = 0;
		if (value(s, 4) == -1)
			return -1;
		if (*row == '{')
			put_row(&s->pg->rows, row, (size_t)(s->p - row), s->nl);
		else {
			put_row(&s->pg->bad, row, (size_t)(s->p - row), s->nl);
			if (s->pg->nbad == s->pg->bad_cap) {
				s->pg->bad_cap = s->pg->bad_cap * 2 + 8;
				s->pg->bad_at = xrealloc(s->pg->bad_at,
				    s->pg->bad_cap * sizeof *s->pg->bad_at);
			}
			s->pg->bad_at[s->pg->nbad++] = s->pg->nrows;
		}
		s->pg->nrows++;
		if ((rc = after(s, ']')) != 0)
			return rc > 0 ? 0 : -1;
	}
}

/* Is the key just scanned (from k, quotes included) want? */
static int
keyis(const char *k, const char *end, const char *want)
{
	size_t n = strlen(want);

	return (size_t)(end - k) == n + 2 && memcmp(k + 1, want, n) == 0;
}

/*
 * An object at depth 1 (the answer) or 2 (its result): the members that
 * matter are looked into, the others only checked.
 */
static int
object(struct scan *s, int depth)
{
	const char *k, *kend, *v;
	int rc;

	s->p++;
	ws(s);
	if (s->p < s->e && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		k = s->p;
		if (s->p >= s->e || *s->p != '"' || string(s) == -1)
			return -1;
		kend = s->p;
		ws(s);
		if (s->p >= s->e || *s->p++ != ':')
			return -1;
		ws(s);
		v = s->p;
		if (v >= s->e)
			return -1;
		if (depth == 1 && *v == '{' && keyis(k, kend, s->ep->result_key)) {
			if (object(s, 2) == -1)
				return -1;
		} else if (depth == 2 && *v == '[' &&
		    keyis(k, kend, s->ep->rows_key)) {
			s->p++;
			if (rows(s) == -1)
				return -1;
		} else {
			if (value(s, depth + 1) == -1)
				return -1;
			if (depth == 1 && *v == '"' && keyis(k, kend, "message")) {
				/* an error answer's text, escapes and all */
				s->pg->message.len = 0;
				buf_add(&s->pg->message, v + 1,
				    (size_t)(s->p - v - 2 > 200 ? 200 :
				    s->p - v - 2));
			}
		}
		if ((rc = after(s, '}')) != 0)
			return rc > 0 ? 0 : -1;
	}
}

int
ozon_parse(const struct ozon_endpoint *ep, const char *body, size_t n,
    struct ozon_page *pg, char *err, size_t errlen)
{
	struct scan s = { body, body + n, body, 0, ep, pg };

	pg->rows.len = pg->bad.len = pg->message.len = 0;
	pg->nrows = pg->nbad = 0;
	pg->has_rows = 0;
	ws(&s);
	if (s.p >= s.e || *s.p != '{' || object(&s, 1) == -1 ||
	    (ws(&s), s.p != s.e)) {
		snprintf(err, errlen, "invalid JSON at byte %zu of %zu",
		    (size_t)(s.p - body) + 1, n);
		pg->has_rows = 0;
		return -1;
	}
	if (!pg->has_rows) {
		snprintf(err, errlen, "no %s.%s array in the answer",
		    ep->result_key, ep->rows_key);
		return -1;
	}
	return 0;
}

void
ozon_page_free(struct ozon_page *pg)
{
	buf_free(&pg->rows);
	buf_free(&pg->bad);
	buf_free(&pg->message);
	free(pg->bad_at);
}
