/* The NDJSON line reader: whole lines of bounded length, numbered. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ozon-etl.h"

#define ND_CHUNK	(64 * 1024)
#define ND_PREFIX	1024	/* bytes of an over-long line kept for the reject */

void
nd_init(struct nd_reader *r, int fd, const char *name, size_t max_line)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->name = name;
	r->max_line = max_line;
	r->cap = max_line + ND_CHUNK;
	r->buf = xmalloc(r->cap);
}

void
nd_free(struct nd_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Read more after buf[end]; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t
fill(struct nd_reader *r)
{
	ssize_t got;

	if (r->cap - r->end < ND_CHUNK) {
		memmove(r->buf, r->buf + r->off, r->end - r->off);
		r->end -= r->off;
		r->off = 0;
	}
	do
		got = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (got == -1 && errno == EINTR);
	if (got == -1)
		r->err = errno;
	else if (got == 0)
		r->eof = 1;
	else
		r->end += (size_t)got;
	return got;
}

/*
 * Skip the over-long line starting at buf[off], keeping its head at
 * buf[0..keep) for the reject.  The bytes after the line stay unread.
 */
static int
skip_long(struct nd_reader *r, struct nd_line *l)
{
	size_t keep, total = 0;
	char *nl;

	keep = r->max_line < ND_PREFIX ? r->max_line : ND_PREFIX;
	memmove(r->buf, r->buf + r->off, keep);
	r->off += keep;
	total = keep;
	for (;;) {
		if ((nl = memchr(r->buf + r->off, '\n', r->end - r->off))) {
			total += (size_t)(nl - (r->buf + r->off));
			r->off = (size_t)(nl - r->buf) + 1;
			break;
		}
		total += r->end - r->off;
		r->off = r->end = keep;	/* fill() won't move: room >= chunk */
		if (fill(r) <= 0) {
			if (r->err)
				return ND_ERROR;
			break;
		}
	}
	l->p = r->buf;
	l->len = keep;
	l->total = total;
	l->lineno = ++r->lineno;
	return ND_TOOLONG;
}

int
nd_next(struct nd_reader *r, struct nd_line *l)
{
	char *nl;
	size_t scanned = 0, len;

	for (;;) {
		nl = memchr(r->buf + r->off + scanned, '\n',
		    r->end - r->off - scanned);
		if (nl) {
			len = (size_t)(nl - (r->buf + r->off));
			if (len > r->max_line)
				break;
			l->p = r->buf + r->off;
			l->len = l->total = len;
			l->lineno = ++r->lineno;
			r->off += len + 1;
			return ND_LINE;
		}
		scanned = r->end - r->off;
		if (scanned > r->max_line)
			break;
		if (r->eof || fill(r) <= 0) {
			if (r->err)
				return ND_ERROR;
			if (r->end == r->off)
				return ND_EOF;
			/* The last line, without its '\n'. */
			l->p = r->buf + r->off;
			l->len = l->total = r->end - r->off;
			l->lineno = ++r->lineno;
			r->off = r->end;
			return ND_LINE;
		}
	}
	return skip_long(r, l);
}
