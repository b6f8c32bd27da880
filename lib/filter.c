/* The loop every NDJSON filter runs: read, parse, hand over, write. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ozon-etl.h"

static struct out out;

int
filter_opt(struct filter *f, const char *name, const char *arg, char *err,
    size_t errlen)
{
	int64_t v;

	if (strcmp(name, "max-rejects") == 0)
		return limit_parse(&f->max_rejects, arg, err, errlen);
	if (parse_count(arg, 1024, (int64_t)1 << 30, &v, err, errlen) == -1)
		return -1;
	f->max_line = (size_t)v;
	return 0;
}

int
filter_init(struct filter *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	f->max_line = ND_MAX_LINE_DEFAULT;
	signal(SIGPIPE, SIG_IGN);
	out_init(&out, 1);
	rej_init();
	return max_line_env(&f->max_line, err, errlen);
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int
line_take(const struct nd_line *l, int st, size_t max_line, const char **p,
    size_t *n)
{
	char reason[96];

	if (st == ND_TOOLONG) {
		snprintf(reason, sizeof reason, "line longer than %zu bytes "
		    "(%zu)", max_line, l->total);
		rej_raw(l->lineno, reason, NULL, l->p, l->len, l->total);
		return LINE_REJECTED;
	}
	*p = l->p;
	*n = l->len;
	if (l->lineno == 1 && *n >= 3 && memcmp(*p, "\xEF\xBB\xBF", 3) == 0) {
		log_msg(LOG_WARN, "<stdin>:1: byte order mark skipped");
		*p += 3;
		*n -= 3;
	}
	return blank(*p, *n) ? LINE_BLANK : LINE_OK;
}

int
max_line_env(size_t *max_line, char *err, size_t errlen)
{
	const char *s = env_str("ETL_MAX_LINE_BYTES", NULL);
	int64_t v;

	*max_line = ND_MAX_LINE_DEFAULT;
	if (s == NULL)
		return 0;
	if (parse_count(s, 1024, (int64_t)1 << 30, &v, err, errlen) == -1)
		return -1;
	*max_line = (size_t)v;
	return 0;
}

/* Hand one record's line to the tool; returns -1 once stdout is gone. */
static int
one(struct filter *f, struct record *r, unsigned long lineno, const char *p,
    size_t n)
{
	f->in++;
	if (rec_parse(r, p, n) == -1) {
		rej_raw(lineno, r->err, NULL, p, n, n);
		f->rejected++;
		return 0;
	}
	if (!f->fn(r, lineno, f->arg)) {
		f->rejected++;
		return 0;
	}
	rec_emit(r, &out.b);
	f->out++;
	return out_maybe_flush(&out);
}

int
filter_run(struct filter *f, void (*extra)(void *))
{
	struct nd_reader rd;
	struct nd_line l;
	struct record r;
	const char *p;
	size_t n;
	int st, status = 0;

	nd_init(&rd, 0, "<stdin>", f->max_line);
	rec_init(&r);
	while ((st = nd_next(&rd, &l)) != ND_EOF) {
		if (st == ND_ERROR) {
			log_msg(LOG_ERROR, "<stdin>: %s", strerror(rd.err));
			status = EX_IOERR;
			break;
		}
		st = line_take(&l, st, f->max_line, &p, &n);
		if (st == LINE_BLANK)
			f->blank++;
		else if (st == LINE_REJECTED) {
			f->in++;
			f->rejected++;
		} else if (one(f, &r, l.lineno, p, n) == -1)
			break;	/* stdout's reader went away, or a write failed */
		if (rej_failed()) {
			/* a reject that cannot be kept stops the stream */
			log_msg(LOG_ERROR, "reject stream: write failed at "
			    "line %lu", l.lineno);
			status = EX_IOERR;
			break;
		}
	}
	rec_free(&r);
	nd_free(&rd);

	/*
	 * Close stdout.  A reader that went away is not an error (its own
	 * status tells the story), and the stream it cut short is not
	 * judged against the reject limit.
	 */
	out_flush(&out);
	if (!out.err && status == 0 && ((f->strict && f->rejected > 0) ||
	    limit_exceeded(&f->max_rejects, f->rejected, f->in))) {
		log_msg(LOG_ERROR, "%lu of %lu records rejected: past the "
		    "limit", f->rejected, f->in);
		status = EX_DATAERR;
	}
	status = out_close(&out, status);

	log_begin(LOG_INFO, "summary");
	log_int("in", (int64_t)f->in);
	log_int("out", (int64_t)f->out);
	log_int("rejected", (int64_t)f->rejected);
	if (f->blank)
		log_int("blank", (int64_t)f->blank);
	if (extra)
		extra(f->arg);
	log_end_summary(status);
	return status;
}

int
filter_abort(int status)
{
	log_begin(LOG_INFO, "summary");
	log_int("in", 0);
	log_int("out", 0);
	log_int("rejected", 0);
	log_end_summary(status);
	return status;
}
