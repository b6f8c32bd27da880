/* Strict UTF-8 checking, decoding and encoding. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ozon-etl.h"

static int
hex4(const unsigned char *p, uint32_t *v)
{
	int i, d;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			d = (p[i] | 0x20) - 'a' + 10;
		else
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/*
 * Look at the escape starting at s[i] == '\\'.  Returns the index after
 * it, or 0 with err set when it encodes U+0000 or a lone surrogate.
 * Malformed escapes are left to the JSON parser.
 */
static size_t
check_escape(const unsigned char *s, size_t n, size_t i, char *err,
    size_t errlen)
{
	uint32_t cp, lo;

	if (i + 1 >= n)
		return i + 1;
	/* an escape is ASCII; any other byte is checked as UTF-8 next */
	if (s[i + 1] >= 0x80)
		return i + 1;
	if (s[i + 1] != 'u')
		return i + 2;
	if (i + 6 > n || hex4(s + i + 2, &cp) == -1)
		return i + 2;
	if (cp == 0) {
		snprintf(err, errlen, "\\u0000 at byte %zu (text cannot "
		    "hold NUL)", i + 1);
		return 0;
	}
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		goto lone;
	if (cp < 0xD800 || cp > 0xDBFF)
		return i + 6;
	if (i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u' &&
	    hex4(s + i + 8, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF)
		return i + 12;
lone:
	snprintf(err, errlen, "lone surrogate \\u%04X at byte %zu",
	    (unsigned)cp, i + 1);
	return 0;
}

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL
#define HASZERO(v)	(((v) - ONES) & ~(v) & HIGHS)

int
utf8_check(const char *str, size_t n, int json, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, need;
	uint64_t w;
	uint32_t cp, min;
	unsigned char c;

	while (i < n) {
		/* Fast path: eight ASCII bytes, none a backslash. */
		if (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if ((w & HIGHS) == 0 &&
			    (!json || !HASZERO(w ^ (ONES * '\\')))) {
				i += 8;
				continue;
			}
		}
		c = s[i];
		/* Cyrillic and most of Latin: two bytes, checked at once */
		if (c >= 0xC2 && c <= 0xDF && i + 1 < n &&
		    (s[i + 1] & 0xC0) == 0x80) {
			i += 2;
			continue;
		}
		if (c < 0x80) {
			if (c == '\\' && json) {
				if ((i = check_escape(s, n, i, err, errlen)) == 0)
					return -1;
			} else
				i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1; cp = c & 0x1F; min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2; cp = c & 0x0F; min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else
			goto bad;
		if (n - i <= need)
			goto bad;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += need + 1;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid UTF-8 at byte %zu", i + 1);
	return -1;
}

uint32_t
utf8_decode(const char *str, size_t n, size_t *len)
{
	const unsigned char *s = (const unsigned char *)str;

	if (s[0] < 0x80 || n < 2) {
		*len = 1;
		return s[0];
	}
	if (s[0] < 0xE0) {
		*len = 2;
		return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
	}
	if (s[0] < 0xF0 || n < 4) {
		*len = n < 3 ? n : 3;
		return *len < 3 ? 0xFFFD : (uint32_t)(s[0] & 0x0F) << 12 |
		    (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	}
	*len = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
	    (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

size_t
utf8_encode(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t
utf8_count(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

size_t
utf8_cut(const char *s, size_t n)
{
	size_t k = n, need;
	unsigned char c;

	/* back over the continuation bytes at the end to their lead byte */
	while (k > 0 && n - k < 3 && ((unsigned char)s[k - 1] & 0xc0) == 0x80)
		k--;
	if (k == 0)
		return n;
	c = (unsigned char)s[k - 1];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return n - (k - 1) >= need ? n : k - 1;
}
