/*
 * fuzz-ndjson: the line reader over the input, with small line limits,
 * read from a memfd (each read takes all it asks for) and from a
 * SOCK_SEQPACKET socket pair (each read returns one short chunk).  Each
 * line must be the input's next one, within the limit; a longer one is
 * reported whole, with its true length and a prefix of it; the lengths
 * add up to the input's size; EOF stays EOF.
 */
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ozon-etl.h"
#include "fuzz.h"

static const size_t limits[] = { 1, 2, 7, 64, 1500 };

/*
 * Through the socket: at most this many chunks (the socket buffer holds
 * them all, and each costs two system calls), of at least 1 to 7 bytes
 * by the input's size, at most this much input.
 */
#define MAX_PACKETS	16
#define MAX_SOCKET_INPUT	32768

static int
memfd_with(const char *s, size_t n)
{
	int fd;

	FUZZ_CHECK((fd = memfd_create("fuzz-ndjson", MFD_CLOEXEC)) != -1);
	FUZZ_CHECK(n == 0 || write(fd, s, n) == (ssize_t)n);
	return fd;
}

/* A socket to read s from in chunks of at least chunk bytes. */
static int
packets_of(const char *s, size_t n, size_t chunk)
{
	size_t off, k;
	int sv[2];

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv) == 0);
	if (chunk < (n + MAX_PACKETS - 1) / MAX_PACKETS)
		chunk = (n + MAX_PACKETS - 1) / MAX_PACKETS;
	for (off = 0; off < n; off += k) {
		k = n - off < chunk ? n - off : chunk;
		/* never blocks: a full buffer is this harness's mistake */
		if (send(sv[1], s + off, k, MSG_DONTWAIT) != (ssize_t)k) {
			perror("fuzz-ndjson: send");
			abort();
		}
	}
	close(sv[1]);
	return sv[0];
}

static void
read_all(const char *s, size_t n, int fd, size_t max)
{
	struct nd_reader r;
	struct nd_line l;
	const char *nl;
	size_t pos = 0, len;
	unsigned long lines = 0;
	int st;

	nd_init(&r, fd, "<fuzz>", max);
	while ((st = nd_next(&r, &l)) != ND_EOF) {
		FUZZ_CHECK(st == ND_LINE || st == ND_TOOLONG);
		FUZZ_CHECK(pos < n);
		FUZZ_CHECK(l.lineno == ++lines);
		nl = memchr(s + pos, '\n', n - pos);
		len = nl ? (size_t)(nl - (s + pos)) : n - pos;
		FUZZ_CHECK(l.total == len);
		if (st == ND_LINE) {
			FUZZ_CHECK(l.len == len && len <= max);
		} else {
			FUZZ_CHECK(len > max);
			FUZZ_CHECK(l.len > 0 && l.len <= max);
		}
		FUZZ_CHECK(l.len == 0 || memcmp(l.p, s + pos, l.len) == 0);
		pos += len + (nl != NULL);
	}
	FUZZ_CHECK(pos == n);
	FUZZ_CHECK(nd_next(&r, &l) == ND_EOF);
	nd_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;
	size_t i, first, max[sizeof limits / sizeof limits[0] + 2], nmax;
	int fd;

	/* the fixed limits, and the first line's length and one less */
	nmax = 0;
	for (i = 0; i < sizeof limits / sizeof limits[0]; i++)
		max[nmax++] = limits[i];
	nl = size ? memchr(s, '\n', size) : NULL;
	first = nl ? (size_t)(nl - s) : size;
	if (first > 0)
		max[nmax++] = first;
	if (first > 1)
		max[nmax++] = first - 1;

	fd = memfd_with(s, size);
	for (i = 0; i < nmax; i++) {
		FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
		read_all(s, size, fd, max[i]);
	}
	close(fd);
	if (size > MAX_SOCKET_INPUT)
		return 0;
	/* short reads: the smallest limits and the first line's */
	for (i = 0; i < nmax; i++) {
		if (max[i] > 7 && i < sizeof limits / sizeof limits[0])
			continue;
		fd = packets_of(s, size, 1 + size % 7);
		read_all(s, size, fd, max[i]);
		close(fd);
	}
	return 0;
}
