/*
 * A compact JSON writer driven by parser events: it puts commas and
 * colons where they belong, so that a value can be re-emitted exactly as
 * it was parsed.
 */
#include "ozon-etl.h"

void
jw_init(struct jw *w, struct buf *b)
{
	w->b = b;
	w->depth = 0;
	w->after_key = 0;
	w->comma = 0;
}

/* The separator before a value or key at the current depth. */
static void
sep(struct jw *w)
{
	uint64_t bit;

	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth == 0)
		return;
	bit = 1ULL << (w->depth - 1);
	if (w->comma & bit)
		buf_addc(w->b, ',');
	w->comma |= bit;
}

void
jw_value(struct jw *w, int type, const char *s, size_t n)
{
	sep(w);
	switch (type) {
	case J_STRING:
		buf_add_jstr(w->b, s, n);
		break;
	case J_NUMBER:
		buf_add(w->b, s, n);
		break;
	default:
		buf_adds(w->b, type == J_NULL ? "null" :
		    type == J_TRUE ? "true" : "false");
	}
}

void
jw_key(struct jw *w, const char *k, size_t n)
{
	sep(w);
	buf_add_jstr(w->b, k, n);
	buf_addc(w->b, ':');
	w->after_key = 1;
}

int
jw_open(struct jw *w, char c)
{
	if (w->depth >= 64)
		return -1;
	sep(w);
	buf_addc(w->b, c);
	w->depth++;
	w->comma &= ~(1ULL << (w->depth - 1));
	return 0;
}

int
jw_close(struct jw *w, char c)
{
	buf_addc(w->b, c);
	return --w->depth;
}
