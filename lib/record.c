/*
 * One JSON object per line, parsed with yajl into a flat list of top-level
 * fields and re-emitted compactly.  Values keep their exact form: numbers
 * as their text, strings as their unescaped bytes (escaped again on the
 * way out), nested objects and arrays as compact JSON.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "ozon-etl.h"

static void
seterr(struct record *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
}

/* The value of the field whose key was just read, or a nested value. */
static int
put(struct record *r, int type, const char *s, size_t n)
{
	struct field *f;

	if (r->depth == 0) {
		seterr(r, "not an object");
		return 0;
	}
	if (r->depth > 1) {
		jw_value(&r->raw, type, s, n);
		return 1;
	}
	f = &r->f[r->n - 1];
	f->type = type;
	f->voff = r->store.len;
	f->vlen = n;
	buf_add(&r->store, s, n);
	return 1;
}

static int
cb_null(void *ctx)
{
	return put(ctx, J_NULL, "", 0);
}

static int
cb_boolean(void *ctx, int v)
{
	return put(ctx, v ? J_TRUE : J_FALSE, "", 0);
}

static int
cb_number(void *ctx, const char *s, size_t n)
{
	return put(ctx, J_NUMBER, s, n);
}

static int
cb_string(void *ctx, const unsigned char *s, size_t n)
{
	return put(ctx, J_STRING, (const char *)s, n);
}

static int
open_container(struct record *r, char c)
{
	struct field *f;

	if (r->depth == 0) {
		if (c != '{') {
			seterr(r, "not an object");
			return 0;
		}
		if (r->values++) {
			seterr(r, "more than one value on the line");
			return 0;
		}
		r->depth = 1;
		return 1;
	}
	if (r->depth == 1) {
		/* a field's value: compact JSON in the store from here */
		f = &r->f[r->n - 1];
		f->type = J_RAW;
		f->voff = r->store.len;
		jw_init(&r->raw, &r->store);
	}
	if (r->depth >= REC_MAX_DEPTH || jw_open(&r->raw, c) == -1) {
		seterr(r, "nested deeper than %d levels", REC_MAX_DEPTH);
		return 0;
	}
	r->depth++;
	return 1;
}

static int
close_container(struct record *r, char c)
{
	struct field *f;

	if (--r->depth == 0) {
		/* where the line's value ends: past it, only white space */
		r->end = yajl_get_bytes_consumed(r->yajl);
		return 1;
	}
	if (jw_close(&r->raw, c) == 0) {
		f = &r->f[r->n - 1];
		f->vlen = r->store.len - f->voff;
	}
	return 1;
}

static int
cb_start_map(void *ctx)
{
	return open_container(ctx, '{');
}

static int
cb_end_map(void *ctx)
{
	return close_container(ctx, '}');
}

static int
cb_start_array(void *ctx)
{
	return open_container(ctx, '[');
}

static int
cb_end_array(void *ctx)
{
	return close_container(ctx, ']');
}

static int
cb_map_key(void *ctx, const unsigned char *k, size_t n)
{
	struct record *r = ctx;
	struct field *f;
	size_t i;

	if (r->depth > 1) {
		jw_key(&r->raw, (const char *)k, n);
		return 1;
	}
	for (i = 0; i < r->n; i++)
		if (rec_keyis(r, i, (const char *)k, n)) {
			seterr(r, "duplicate key \"%.*s\"",
			    (int)(n > 64 ? 64 : n), (const char *)k);
			return 0;
		}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->f = xrealloc(r->f, r->cap * sizeof *r->f);
	}
	f = &r->f[r->n++];
	f->koff = r->store.len;
	f->klen = n;
	f->type = J_NULL;
	f->voff = f->vlen = 0;
	buf_add(&r->store, k, n);
	return 1;
}

static const yajl_callbacks callbacks = {
	cb_null, cb_boolean, NULL, NULL, cb_number, cb_string,
	cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};


void
rec_init(struct record *r)
{
	memset(r, 0, sizeof *r);
	/* never a NULL store: rec_key() of an empty key is store.p + 0 */
	buf_grow(&r->store, 64);
}

void
rec_free(struct record *r)
{
	if (r->yajl)
		yajl_free(r->yajl);
	free(r->f);
	buf_free(&r->store);
	memset(r, 0, sizeof *r);
}

static yajl_handle
parser(struct record *r)
{
	if (r->yajl == NULL) {
		r->yajl = yajl_alloc(&callbacks, NULL, r);
		if (r->yajl == NULL) {
			/* yajl_alloc fails only when malloc does */
			xmalloc((size_t)-1);
		}
		/* utf8_check() has already looked at every byte */
		yajl_config(r->yajl, yajl_dont_validate_strings, 1);
		/* one handle for all lines; each must end its value */
		yajl_config(r->yajl, yajl_allow_multiple_values, 1);
	}
	return r->yajl;
}

/* Is s[0..n) only JSON white space? */
static int
white(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

int
rec_parse(struct record *r, const char *line, size_t len)
{
	yajl_handle h;
	yajl_status st;
	unsigned char *msg;
	size_t n;

	r->n = 0;
	r->store.len = 0;
	r->depth = 0;
	r->values = 0;
	r->err[0] = '\0';
	if (utf8_check(line, len, 1, r->err, sizeof r->err) == -1)
		return -1;
	h = parser(r);
	r->end = len;
	st = yajl_parse(h, (const unsigned char *)line, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	/*
	 * With multiple values allowed, yajl takes an unterminated string
	 * after the object for one still coming: its lexer would keep it
	 * into the next line.  Past the object, only white space.
	 */
	if (st == yajl_status_ok && r->values == 1 &&
	    !white(line + r->end, len - r->end))
		seterr(r, "invalid JSON: trailing characters after the object");
	else if (st == yajl_status_ok && r->values == 1)
		return 0;
	else if (st == yajl_status_ok)
		seterr(r, "invalid JSON: no value");
	else if (r->err[0] == '\0') {
		msg = yajl_get_error(h, 0, NULL, 0);
		n = strcspn((char *)msg, "\n");
		while (n > 0 && (msg[n - 1] == '.' || msg[n - 1] == ' '))
			n--;
		seterr(r, "invalid JSON: %.*s", (int)n, (char *)msg);
		yajl_free_error(h, msg);
	}
	/* A handle that saw an error cannot go on: start afresh. */
	yajl_free(h);
	r->yajl = NULL;
	return -1;
}

int
rec_find(const struct record *r, const char *key)
{
	size_t i, n = strlen(key);

	for (i = 0; i < r->n; i++)
		if (rec_keyis(r, i, key, n))
			return (int)i;
	return -1;
}

void
rec_set(struct record *r, const char *key, int type, const char *v,
    size_t vlen)
{
	struct field *f;
	size_t klen = strlen(key), off = 0;
	int i, inside;

	/* v may be one of r's own values: room first, then find it again */
	inside = r->store.len > 0 && v >= r->store.p &&
	    v < r->store.p + r->store.len;
	if (inside)
		off = (size_t)(v - r->store.p);
	if (r->store.cap - r->store.len < klen + vlen)
		buf_grow(&r->store, klen + vlen);
	if (inside)
		v = r->store.p + off;
	if ((i = rec_find(r, key)) >= 0)
		f = &r->f[i];
	else {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 16;
			r->f = xrealloc(r->f, r->cap * sizeof *r->f);
		}
		f = &r->f[r->n++];
		f->koff = r->store.len;
		f->klen = klen;
		buf_add(&r->store, key, klen);
	}
	f->type = type;
	f->voff = r->store.len;
	f->vlen = vlen;
	buf_add(&r->store, v, vlen);
}

void
rec_emit(const struct record *r, struct buf *o)
{
	const struct field *f;
	size_t i;

	buf_addc(o, '{');
	for (i = 0; i < r->n; i++) {
		f = &r->f[i];
		if (i)
			buf_addc(o, ',');
		buf_add_jstr(o, r->store.p + f->koff, f->klen);
		buf_addc(o, ':');
		switch (f->type) {
		case J_NULL: buf_add(o, "null", 4); break;
		case J_TRUE: buf_add(o, "true", 4); break;
		case J_FALSE: buf_add(o, "false", 5); break;
		case J_STRING:
			buf_add_jstr(o, r->store.p + f->voff, f->vlen);
			break;
		default:
			buf_add(o, r->store.p + f->voff, f->vlen);
		}
	}
	buf_add(o, "}\n", 2);
}
