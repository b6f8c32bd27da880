/*
 * The reject stream: one NDJSON line per record a stage cannot pass on,
 * written to fd 3, or to stderr when fd 3 is not open for writing.  A
 * reject is never silently lost.
 */
#include <fcntl.h>
#include <string.h>

#include "ozon-etl.h"

static struct out rej = { 2, { NULL, 0, 0 }, 0 };
static unsigned long nrej;

void
rej_init(void)
{
	int fl;

	fl = fcntl(3, F_GETFL);
	out_init(&rej, fl != -1 && (fl & O_ACCMODE) != O_RDONLY ? 3 : 2);
}

static void
head(unsigned long line, const char *reason, const char *field)
{
	struct buf *b = &rej.b;

	nrej++;
	buf_adds(b, "{\"stage\":");
	buf_add_jstr(b, log_tool(), strlen(log_tool()));
	buf_adds(b, ",\"line\":");
	buf_add_i64(b, (int64_t)line);
	buf_adds(b, ",\"reason\":");
	buf_add_jstr(b, reason, strlen(reason));
	buf_adds(b, ",\"field\":");
	if (field)
		buf_add_jstr(b, field, strlen(field));
	else
		buf_adds(b, "null");
}

static void
tail(void)
{
	buf_add(&rej.b, "}\n", 2);
	/* stderr is shared with the log: keep the two in order there */
	if (rej.fd == 2)
		out_flush(&rej);
	else
		out_maybe_flush(&rej);
}

void
rej_record(unsigned long line, const char *reason, const char *field,
    const struct record *r)
{
	head(line, reason, field);
	buf_adds(&rej.b, ",\"record\":");
	rec_emit(r, &rej.b);
	rej.b.len--;	/* rec_emit's '\n' */
	tail();
}

/* s with every byte that is not valid UTF-8 replaced by U+FFFD. */
static void
add_lossy(struct buf *b, const char *s, size_t n)
{
	struct buf t = { NULL, 0, 0 };
	char err[8];
	size_t i = 0, k;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)s[i];
		k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (k <= n - i && utf8_check(s + i, k, 0, err, sizeof err) == 0)
			buf_add(&t, s + i, k);
		else {
			buf_add(&t, "\xEF\xBF\xBD", 3);
			k = 1;
		}
		i += k;
	}
	buf_add_jstr(b, t.p, t.len);
	buf_free(&t);
}

void
rej_raw(unsigned long line, const char *reason, const char *field,
    const char *s, size_t n, size_t total)
{
	char err[64];
	struct buf *b = &rej.b;

	head(line, reason, field);
	buf_adds(b, ",\"raw\":");
	if (utf8_check(s, n, 0, err, sizeof err) == 0)
		buf_add_jstr(b, s, n);
	else {
		add_lossy(b, s, n);
		/* the exact bytes, for a line that is not text */
		if (n == total) {
			buf_adds(b, ",\"raw_base64\":\"");
			buf_add_base64(b, (const unsigned char *)s, n);
			buf_addc(b, '"');
		}
	}
	if (n < total) {
		buf_adds(b, ",\"truncated\":true,\"bytes\":");
		buf_add_i64(b, (int64_t)total);
	}
	tail();
}

int
rej_flush(void)
{
	return out_flush(&rej);
}

int
rej_failed(void)
{
	return rej.err != 0;
}

unsigned long
rej_count(void)
{
	return nrej;
}
