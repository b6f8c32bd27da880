/* JSON number text to int64, without losing anything on the way. */
#include <stdint.h>

#include "ozon-etl.h"

int
num_i64(const char *s, size_t n, int64_t *v)
{
	uint64_t u = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (n > 0 && s[0] == '-') {
		neg = 1;
		i++;
	}
	if (i == n)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;	/* '.', 'e' or 'E': not an integer */
		if (u > (lim - (uint64_t)(s[i] - '0')) / 10) {
			/* too big; but 1e999 must still say "not an integer" */
			for (; i < n; i++)
				if (s[i] < '0' || s[i] > '9')
					return -1;
			return -2;
		}
		u = u * 10 + (uint64_t)(s[i] - '0');
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}
