/* The environment, option values, reject limits and a filter's exit. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ozon-etl.h"

const char *
env_str(const char *name, const char *dflt)
{
	const char *s = getenv(name);

	return s && *s ? s : dflt;
}

int
parse_count(const char *s, int64_t min, int64_t max, int64_t *v, char *err,
    size_t errlen)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || n < min || n > max) {
		snprintf(err, errlen, "%s: not a number from %lld to %lld", s,
		    (long long)min, (long long)max);
		return -1;
	}
	*v = n;
	return 0;
}

int
limit_parse(struct limit *l, const char *s, char *err, size_t errlen)
{
	char *end;
	double v;

	/* digits, at most one '.', an optional '%': nothing strtod adds */
	if (strspn(s, "0123456789.") != strcspn(s, "%") ||
	    strchr(s, '.') != strrchr(s, '.')) {
		snprintf(err, errlen, "%s: not a count N or a share P%%", s);
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	l->pct = *end == '%';
	if (end == s || errno || !isfinite(v) || v < 0 ||
	    (l->pct ? end[1] != '\0' || v > 100 : *end != '\0' ||
	    v != floor(v))) {
		snprintf(err, errlen, "%s: not a count N or a share P%%", s);
		return -1;
	}
	l->set = 1;
	l->value = v;
	return 0;
}

int
limit_exceeded(const struct limit *l, unsigned long rejected,
    unsigned long total)
{
	if (!l->set)
		return 0;
	if (l->pct)
		return total > 0 && 100.0 * (double)rejected >
		    l->value * (double)total;
	return (double)rejected > l->value;
}

