/* Buffered writers that write whole lines and remember the first error. */
#include <errno.h>
#include <unistd.h>

#include "ozon-etl.h"

#define OUT_FLUSH_AT	(64 * 1024)

void
out_init(struct out *o, int fd)
{
	o->fd = fd;
	o->b.p = NULL;
	o->b.len = o->b.cap = 0;
	o->err = 0;
}

int
out_flush(struct out *o)
{
	size_t off = 0;
	ssize_t n;

	if (o->err) {
		o->b.len = 0;
		return -1;
	}
	while (off < o->b.len) {
		n = write(o->fd, o->b.p + off, o->b.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			o->err = errno;
			o->b.len = 0;
			return -1;
		}
		off += (size_t)n;
	}
	o->b.len = 0;
	return 0;
}

int
out_maybe_flush(struct out *o)
{
	if (o->b.len < OUT_FLUSH_AT)
		return o->err ? -1 : 0;
	return out_flush(o);
}

void
out_free(struct out *o)
{
	buf_free(&o->b);
}
