/* A growable byte buffer and the JSON writers built on it. */
#include <stdint.h>
#include <stdlib.h>

#include "ozon-etl.h"

void
buf_grow(struct buf *b, size_t n)
{
	size_t cap;

	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Bytes that need escaping in a JSON string: controls, '"' and '\\'. */
static const unsigned char jesc[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	['\\'] = 1,
};

#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL
#define HASZERO(v)	(((v) - ONES) & ~(v) & HIGHS)
#define HASLESS(v, c)	(((v) - ONES * (c)) & ~(v) & HIGHS)
#define NEEDS_ESCAPE(w)	(HASLESS(w, 0x20) | HASZERO((w) ^ (ONES * '"')) | \
			 HASZERO((w) ^ (ONES * '\\')))

void
buf_add_jstr(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, run;
	char *o;

	/* Worst case: every byte becomes \u00XX. */
	if (b->cap - b->len < n * 6 + 2)
		buf_grow(b, n * 6 + 2);
	o = b->p + b->len;
	*o++ = '"';
	for (i = 0; i < n; ) {
		/* eight bytes at a time while none needs escaping */
		for (run = i; run + 8 <= n; run += 8) {
			uint64_t w;

			memcpy(&w, p + run, 8);
			if (NEEDS_ESCAPE(w))
				break;
		}
		for (; run < n && !jesc[p[run]]; run++)
			;
		memcpy(o, p + i, run - i);
		o += run - i;
		if ((i = run) == n)
			break;
		*o++ = '\\';
		switch (p[i]) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[p[i] >> 4];
			*o++ = hex[p[i] & 15];
		}
		i++;
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

void
buf_add_i64(struct buf *b, int64_t v)
{
	char tmp[24], *e = tmp + sizeof tmp, *s = e;
	uint64_t u;

	u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do
		*--s = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--s = '-';
	buf_add(b, s, (size_t)(e - s));
}

void
buf_add_base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char enc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_addc(b, enc[v >> 18]);
		buf_addc(b, enc[v >> 12 & 63]);
		buf_addc(b, enc[v >> 6 & 63]);
		buf_addc(b, enc[v & 63]);
	}
	if (i < n) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		buf_addc(b, enc[v >> 18]);
		buf_addc(b, enc[v >> 12 & 63]);
		buf_addc(b, (char)(i + 1 < n ? enc[v >> 6 & 63] : '='));
		buf_addc(b, '=');
	}
}
