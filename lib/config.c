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


int
parse_duration(const char *s, int64_t *secs, char *err, size_t errlen)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	size_t digits = strspn(s, "0123456789"), i;
	int64_t n, mul = 1;
	char num[24];

	if (digits == 0 || digits >= sizeof num || (s[digits] != '\0' &&
	    s[digits + 1] != '\0'))
		goto bad;
	if (s[digits] != '\0') {
		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (units[i].unit == s[digits])
				break;
		if (i == sizeof units / sizeof units[0])
			goto bad;
		mul = units[i].secs;
	}
	memcpy(num, s, digits);
	num[digits] = '\0';
	n = strtoll(num, NULL, 10);
	if (n > INT64_MAX / 86400 / 1000)	/* room to count in ms */
		goto bad;
	*secs = n * mul;
	return 0;
bad:
	snprintf(err, errlen, "%s: not a duration (N, Ns, Nm, Nh or Nd)", s);
	return -1;
}

int
parse_share(const char *s, double *v, char *err, size_t errlen)
{
	size_t n = strcspn(s, "%");
	char *end;
	double d;

	/* 0.05 or 5%: digits and one '.', nothing else strtod takes */
	if (n == 0 || strspn(s, "0123456789.") != n ||
	    strchr(s, '.') != strrchr(s, '.') || (s[n] && s[n + 1]))
		goto bad;
	d = strtod(s, &end);
	if (end != s + n)
		goto bad;
	if (s[n] == '%')
		d /= 100;
	if (!(d >= 0 && d <= 1))
		goto bad;
	*v = d;
	return 0;
bad:
	snprintf(err, errlen, "%s: not a share (0 to 1, or P%%)", s);
	return -1;
}
