/* Buffered writers that write whole lines and remember the first error. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ozon-etl.h"

#define OUT_FLUSH_AT	(64 * 1024)

void
out_init(struct out *o, int fd)
{
	/* a file past RLIMIT_FSIZE is EFBIG, an I/O error (74), not death */
	signal(SIGXFSZ, SIG_IGN);
	o->fd = fd;
	o->b.p = NULL;
	o->b.len = o->b.cap = 0;
	o->err = 0;
}

/* Write all of p; remember the first error. */
static int
write_all(struct out *o, const char *p, size_t len)
{
	size_t off = 0;
	ssize_t n;

	if (o->err)
		return -1;
	while (off < len) {
		n = write(o->fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			o->err = errno;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

int
out_flush(struct out *o)
{
	int rc;

	rc = write_all(o, o->b.p, o->b.len);
	o->b.len = 0;
	return rc;
}

int
out_write(struct out *o, const char *p, size_t len)
{
	if (out_flush(o) == -1)
		return -1;
	return write_all(o, p, len);
}

int
out_maybe_flush(struct out *o)
{
	if (o->b.len < OUT_FLUSH_AT)
		return o->err ? -1 : 0;
	return out_flush(o);
}

int
out_close(struct out *o, int status)
{
	out_flush(o);
	if (o->err && o->err != EPIPE) {
		log_msg(LOG_ERROR, "stdout: %s", strerror(o->err));
		status = EX_IOERR;
	}
	out_free(o);
	if (rej_flush() == -1 && status != EX_IOERR) {
		log_msg(LOG_ERROR, "reject stream: write failed");
		status = EX_IOERR;
	}
	return status;
}

void
out_free(struct out *o)
{
	buf_free(&o->b);
}
