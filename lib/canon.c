/*
 * The canonical form of a warehouse name: upper case, words joined by
 * '_', long forms abbreviated, and the type of the warehouse last.
 */
#include <string.h>

#include "ozon-etl.h"

#define MAXTOK 64

struct tok {
	const char *p;
	size_t n;
};

/* Long forms, longest first; each becomes its abbreviation. */
static const struct {
	const char *words[4];
	const char *abbr;
} longforms[] = {
	{ { "МУЛЬТИРЕГИОНАЛЬНЫЙ", "ФУЛФИЛМЕНТ", "ЦЕНТР" }, "МРФЦ" },
	{ { "МУЛЬТИРЕГИОНАЛЬНЫЙ", "ФУЛФИЛЛМЕНТ", "ЦЕНТР" }, "МРФЦ" },
	{ { "РЕГИОНАЛЬНЫЙ", "ФУЛФИЛМЕНТ", "ЦЕНТР" }, "РФЦ" },
	{ { "РЕГИОНАЛЬНЫЙ", "ФУЛФИЛЛМЕНТ", "ЦЕНТР" }, "РФЦ" },
	{ { "ФУЛФИЛМЕНТ", "ЦЕНТР" }, "ФЦ" },
	{ { "ФУЛФИЛЛМЕНТ", "ЦЕНТР" }, "ФЦ" },
	{ { "РАСПРЕДЕЛИТЕЛЬНЫЙ", "ЦЕНТР" }, "РЦ" },
	{ { "СОРТИРОВОЧНЫЙ", "ЦЕНТР" }, "СЦ" },
};

static const char *types[] = { "РФЦ", "МРФЦ", "ФЦ", "РЦ", "СЦ" };

static int
tokis(const struct tok *t, const char *s)
{
	return t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

/* Remove k words from tok at i. */
static void
drop(struct tok *tok, size_t *nt, size_t i, size_t k)
{
	for (; i + k < *nt; i++)
		tok[i] = tok[i + k];
	*nt -= k;
}

int
wh_is_type(const char *s, size_t n)
{
	struct tok t = { s, n };
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (tokis(&t, types[i]))
			return 1;
	return 0;
}

const char *
wh_type(size_t i)
{
	return i < sizeof types / sizeof types[0] ? types[i] : NULL;
}

/* White space, dashes, '_' and quotes separate words. */
static int
separator(uint32_t c)
{
	switch (c) {
	case '_': case '-': case '"': case 0xA0: case 0xAB: case 0xBB:
	case 0x2212: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
	case 0xFE58: case 0xFE63: case 0xFF0D:
		return 1;
	}
	return c <= ' ' || (c >= 0x7F && c <= 0x9F) ||
	    (c >= 0x2000 && c <= 0x200A) || (c >= 0x2010 && c <= 0x2015) ||
	    (c >= 0x201C && c <= 0x201E);
}

/* One pass of the rules; wh_canon() repeats it until nothing changes. */
static void
canon_once(const char *s, size_t n, struct buf *out)
{
	struct tok tok[MAXTOK], t;
	size_t i, k, j, w, nt = 0, start;
	int sep = 0;
	char up[4];
	uint32_t c;

	/*
	 * Upper case into out, word after word; tok[] gets their lengths.
	 * Past MAXTOK words the last one takes the rest, '_' and all.
	 */
	out->len = 0;
	start = 0;
	for (i = 0; i < n; i += k) {
		c = utf8_decode(s + i, n - i, &k);
		if (separator(c)) {
			if (out->len > start && nt < MAXTOK - 1) {
				tok[nt++].n = out->len - start;
				start = out->len;
			} else if (out->len > start)
				sep = 1;
			continue;
		}
		if (sep) {
			buf_addc(out, '_');
			sep = 0;
		}
		buf_add(out, up, utf8_encode(uc_upper(c), up));
	}
	if (out->len > start)
		tok[nt++].n = out->len - start;
	if (nt == 0) {
		out->len = 0;
		return;
	}
	/* words are contiguous in out; now that out stopped moving, point */
	for (i = 0, j = 0; i < nt; i++) {
		tok[i].p = out->p + j;
		j += tok[i].n;
	}

	/* long forms to abbreviations */
	for (i = 0; i < nt; i++)
		for (k = 0; k < sizeof longforms / sizeof longforms[0]; k++) {
			for (w = 0; longforms[k].words[w]; w++)
				if (i + w >= nt ||
				    !tokis(&tok[i + w], longforms[k].words[w]))
					break;
			if (longforms[k].words[w] != NULL)
				continue;
			tok[i].p = longforms[k].abbr;
			tok[i].n = strlen(longforms[k].abbr);
			drop(tok, &nt, i + 1, w - 1);
			break;
		}
	/* "Склад X" is X */
	if (nt > 1 && tokis(&tok[0], "СКЛАД"))
		drop(tok, &nt, 0, 1);
	/* "РФЦ X" is "X_РФЦ", unless the name has its type elsewhere */
	if (nt > 1 && wh_is_type(tok[0].p, tok[0].n)) {
		for (i = 1; i < nt; i++)
			if (wh_is_type(tok[i].p, tok[i].n))
				break;
		if (i == nt) {
			t = tok[0];
			drop(tok, &nt, 0, 1);
			tok[nt++] = t;
		}
	}

	/* join: the words point into out or into static text, so build anew */
	{
		struct buf tmp = { NULL, 0, 0 };

		for (i = 0; i < nt; i++) {
			if (i)
				buf_addc(&tmp, '_');
			buf_add(&tmp, tok[i].p, tok[i].n);
		}
		out->len = 0;
		buf_add(out, tmp.p, tmp.len);
		buf_free(&tmp);
	}
}

void
wh_canon(const char *s, size_t n, struct buf *out)
{
	static struct buf again;	/* kept from call to call */
	int pass;

	/*
	 * One pass can leave work for the next ("Склад Склад Тверь" loses
	 * one СКЛАД; "ФЦ Склад" becomes СКЛАД_ФЦ): repeat to a fixed point,
	 * so that the canonical form of a canonical form is itself.
	 */
	canon_once(s, n, out);
	for (pass = 0; pass < 8; pass++) {
		canon_once(out->p, out->len, &again);
		if (again.len == out->len && (out->len == 0 ||
		    memcmp(again.p, out->p, out->len) == 0))
			return;
		out->len = 0;
		buf_add(out, again.p, again.len);
	}
}
