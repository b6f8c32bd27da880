/*
 * fuzz-validate: etl-validate's rules on the input as one line.  The
 * rules are static in cmd/etl-validate.c, so this file includes it, with
 * its main() renamed, and calls validate() and sets its option
 * variables directly.  Each input is judged twice: with the defaults,
 * and with --coerce, --anomaly-threshold 0 and --min-name-length 255.
 * A record passed on must parse again and pass again; with the defaults,
 * passing it again changes nothing.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"

int validate_main(int, char *[]);

#define main validate_main
#include "../cmd/etl-validate.c"
#undef main

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	log_init("etl-validate");
	/* rejects go to fd 3, else stderr: keep them out of the log */
	if (fcntl(3, F_GETFD) == -1) {
		FUZZ_CHECK((fd = open("/dev/null", O_WRONLY)) != -1);
		if (fd != 3) {
			FUZZ_CHECK(dup2(fd, 3) == 3);
			close(fd);
		}
	}
	rej_init();
	return 0;
}

static void
judge(const char *s, size_t n, int defaults)
{
	struct record r;
	struct buf e1 = { NULL, 0, 0 }, e2 = { NULL, 0, 0 };
	int i;

	coerce = !defaults;
	anomaly = defaults ? 1000000 : 0;
	min_name = defaults ? 3 : NAME_MAX_CHARS;
	rec_init(&r);
	if (rec_parse(&r, s, n) == -1 || !validate(&r, 1, NULL))
		goto out;
	FUZZ_CHECK((i = rec_find(&r, "data_quality_score")) >= 0);
	FUZZ_CHECK(r.f[i].type == J_NUMBER);
	FUZZ_CHECK((i = rec_find(&r, "quality_flags")) >= 0);
	FUZZ_CHECK(r.f[i].type == J_RAW && rec_val(&r, i)[0] == '[');
	rec_emit(&r, &e1);
	if (rec_parse(&r, e1.p, e1.len - 1) == -1) {
		fprintf(stderr, "passed on, but does not parse: %s\n", r.err);
		FUZZ_CHECK(!"a record passed on parses");
	}
	FUZZ_CHECK(validate(&r, 2, NULL));
	rec_emit(&r, &e2);
	if (defaults)
		FUZZ_CHECK(e1.len == e2.len && memcmp(e1.p, e2.p, e1.len) == 0);
out:
	buf_free(&e1);
	buf_free(&e2);
	rec_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	judge((const char *)data, size, 1);
	judge((const char *)data, size, 0);
	return 0;
}
