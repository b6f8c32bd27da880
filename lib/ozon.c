/*
 * What is particular to each Ozon endpoint: its path, its request body,
 * where the rows are in its answer and how pages end.  Everything else in
 * ozon-extract is the same for all endpoints.
 */
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_parse.h>

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
 * The answer parser.  Depth 1 is the answer object; the rows array is
 * at depth 3 (answer.result.rows) and each row opens depth 4.
 */
struct pp {
	const struct ozon_endpoint *ep;
	struct ozon_page *pg;
	int depth;
	int key1, key2;		/* the current key at depth 1 / 2 matters */
	int in_rows;
	int row;		/* a row is open: jw writes it */
	int row_bad;		/* it is not an object */
	struct jw jw;
	size_t row_start;
};

static int
keyis(const unsigned char *k, size_t n, const char *want)
{
	return want && n == strlen(want) && memcmp(k, want, n) == 0;
}

/* A scalar where a row should be. */
static void
bad_row(struct pp *p, int type, const char *s, size_t n)
{
	struct buf *b = &p->pg->bad;

	jw_init(&p->jw, b);
	jw_value(&p->jw, type, s, n);
	buf_addc(b, '\n');
	p->pg->nbad++;
	p->pg->nrows++;
}

static int
scalar(void *ctx, int type, const char *s, size_t n)
{
	struct pp *p = ctx;

	if (p->row)
		jw_value(&p->jw, type, s, n);
	else if (p->in_rows && p->depth == 3)
		bad_row(p, type, s, n);
	else if (p->depth == 1 && p->key1 == 2 && type == J_STRING) {
		/* an error answer's "message" */
		p->pg->message.len = 0;
		buf_add(&p->pg->message, s, n > 200 ? 200 : n);
	}
	return 1;
}

static int
cb_null(void *ctx)
{
	return scalar(ctx, J_NULL, "", 0);
}

static int
cb_boolean(void *ctx, int v)
{
	return scalar(ctx, v ? J_TRUE : J_FALSE, "", 0);
}

static int
cb_number(void *ctx, const char *s, size_t n)
{
	return scalar(ctx, J_NUMBER, s, n);
}

static int
cb_string(void *ctx, const unsigned char *s, size_t n)
{
	return scalar(ctx, J_STRING, (const char *)s, n);
}

static int
cb_key(void *ctx, const unsigned char *k, size_t n)
{
	struct pp *p = ctx;

	if (p->row)
		jw_key(&p->jw, (const char *)k, n);
	else if (p->depth == 1)
		p->key1 = keyis(k, n, p->ep->result_key) ? 1 :
		    keyis(k, n, "message") ? 2 : 0;
	else if (p->depth == 2)
		p->key2 = keyis(k, n, p->ep->rows_key);
	return 1;
}

static int
open_c(struct pp *p, char c)
{
	if (p->row)
		return jw_open(&p->jw, c) == 0;
	p->depth++;
	if (p->depth == 3 && c == '[' && p->key1 == 1 && p->key2) {
		p->in_rows = 1;
		p->pg->has_rows = 1;
	} else if (p->depth == 4 && p->in_rows) {
		/* a row: compact, one line, into the page */
		p->row = 1;
		p->row_bad = c != '{';
		jw_init(&p->jw, p->row_bad ? &p->pg->bad : &p->pg->rows);
		p->row_start = p->jw.b->len;
		return jw_open(&p->jw, c) == 0;
	}
	return 1;
}

static int
close_c(struct pp *p, char c)
{
	if (p->row) {
		if (jw_close(&p->jw, c) > 0)
			return 1;
		buf_addc(p->jw.b, '\n');
		p->row = 0;
		p->pg->nrows++;
		p->pg->nbad += p->row_bad;
	}
	if (p->depth == 3)
		p->in_rows = 0;
	p->depth--;
	return 1;
}

static int
cb_start_map(void *ctx)
{
	return open_c(ctx, '{');
}

static int
cb_end_map(void *ctx)
{
	return close_c(ctx, '}');
}

static int
cb_start_array(void *ctx)
{
	return open_c(ctx, '[');
}

static int
cb_end_array(void *ctx)
{
	return close_c(ctx, ']');
}

static const yajl_callbacks callbacks = {
	cb_null, cb_boolean, NULL, NULL, cb_number, cb_string,
	cb_start_map, cb_key, cb_end_map, cb_start_array, cb_end_array,
};

int
ozon_parse(const struct ozon_endpoint *ep, const char *body, size_t n,
    struct ozon_page *pg, char *err, size_t errlen)
{
	struct pp p;
	yajl_handle h;
	yajl_status st;
	unsigned char *msg;
	int rc = -1;

	memset(&p, 0, sizeof p);
	p.ep = ep;
	p.pg = pg;
	pg->rows.len = pg->bad.len = pg->message.len = 0;
	pg->nrows = pg->nbad = 0;
	pg->has_rows = 0;
	if (utf8_check(body, n, 1, err, errlen) == -1)
		return -1;
	if ((h = yajl_alloc(&callbacks, NULL, &p)) == NULL)
		xmalloc((size_t)-1);
	yajl_config(h, yajl_dont_validate_strings, 1);
	st = yajl_parse(h, (const unsigned char *)body, n);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok) {
		msg = yajl_get_error(h, 0, NULL, 0);
		snprintf(err, errlen, "invalid JSON: %.*s",
		    (int)strcspn((char *)msg, "\n"), (char *)msg);
		yajl_free_error(h, msg);
	} else if (!pg->has_rows)
		snprintf(err, errlen, "no %s.%s array in the answer",
		    ep->result_key, ep->rows_key);
	else
		rc = 0;
	yajl_free(h);
	return rc;
}

void
ozon_page_free(struct ozon_page *pg)
{
	buf_free(&pg->rows);
	buf_free(&pg->bad);
	buf_free(&pg->message);
}
