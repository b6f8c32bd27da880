/*
 * etl-validate: pass on the stock rows that make sense, with a quality
 * score and flags; divert the rest to the reject stream with a reason.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ozon-etl.h"

#define AMOUNT_MAX	2147483647	/* PostgreSQL integer */
#define NAME_MAX_CHARS	255		/* warehouse_name */

/* Quality flags and what each costs the score (etl-validate(1)). */
enum {
	F_ANOMALY, F_RESERVED_NO_FREE, F_EMPTY_CODE, F_EMPTY_NAME,
	F_SHORT_NAME, F_NUMERIC_NAME, F_COERCED, NFLAGS
};
static const struct {
	const char *name;
	int penalty;
} flags[NFLAGS] = {
	{ "amount_anomaly", 30 },
	{ "reserved_without_free", 10 },
	{ "empty_item_code", 10 },
	{ "empty_item_name", 20 },
	{ "short_item_name", 10 },
	{ "numeric_item_name", 15 },
	{ "coerced", 5 },
};

static const char *amounts[] = {
	"free_to_sell_amount", "promised_amount", "reserved_amount"
};

static int coerce;
static int64_t anomaly = 1000000;
static int64_t min_name = 3;
static unsigned long flagged;
static unsigned long flag_count[NFLAGS];

/* A value as it stood in the record, short enough for a reason. */
static void
show(const struct record *r, int i, char *out, size_t len)
{
	struct buf b = { NULL, 0, 0 };
	const char *v = rec_val(r, (size_t)i);
	size_t n = r->f[i].vlen;

	switch (r->f[i].type) {
	case J_NULL: snprintf(out, len, "null"); return;
	case J_TRUE: snprintf(out, len, "true"); return;
	case J_FALSE: snprintf(out, len, "false"); return;
	case J_STRING: buf_add_jstr(&b, v, n); break;
	default: buf_add(&b, v, n);
	}
	if (b.len > 40) {
		/* cut on a character boundary */
		n = 36;
		while (n > 0 && ((unsigned char)b.p[n] & 0xC0) == 0x80)
			n--;
		snprintf(out, len, "%.*s...", (int)n, b.p);
	} else
		snprintf(out, len, "%.*s", (int)b.len, b.p);
	buf_free(&b);
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/*
 * The integer in field i into *v: 0, or -1 with the reason in why.
 * Digit strings count when --coerce is on (*coerced is set).
 */
static int
integer(const struct record *r, int i, int64_t *v, int *coerced, char *why,
    size_t len)
{
	const char *s = rec_val(r, (size_t)i);
	size_t n = r->f[i].vlen;
	char shown[64];
	int rc;

	if (r->f[i].type == J_STRING && coerce && n <= 19 && all_digits(s, n)) {
		*coerced = 1;
		rc = num_i64(s, n, v);
	} else if (r->f[i].type == J_NUMBER)
		rc = num_i64(s, n, v);
	else {
		show(r, i, shown, sizeof shown);
		snprintf(why, len, "%.*s: not an integer (%s%s)",
		    (int)r->f[i].klen, rec_key(r, (size_t)i), shown,
		    r->f[i].type == J_STRING && all_digits(s, n) && !coerce ?
		    ", a string: see --coerce" : "");
		return -1;
	}
	if (rc == 0)
		return 0;
	show(r, i, shown, sizeof shown);
	snprintf(why, len, "%.*s: %s (%s)", (int)r->f[i].klen,
	    rec_key(r, (size_t)i),
	    rc == -1 ? "not an integer" : "out of range", shown);
	return -1;
}

static int
is_space(uint32_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 ||
	    (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F ||
	    c == 0x3000 || c == 0xFEFF;
}

/* The first code point at or after s[i], and the start of the next. */
static uint32_t
next_cp(const char *s, size_t n, size_t *i)
{
	size_t k;
	uint32_t c;

	c = utf8_decode(s + *i, n - *i, &k);
	*i += k;
	return c;
}

/*
 * Characters of s left after trimming white space at both ends, counted
 * up to at least want (a longer string may say just want).
 */
static size_t
trimmed_chars(const char *s, size_t n, size_t want)
{
	size_t i = 0, start, end, k;

	for (start = 0; i < n; start = i)
		if (!is_space(next_cp(s, n, &i)))
			break;
	if (start == n)
		return 0;
	for (end = n; end > start; end = k) {
		/* back to the start of the last character */
		for (k = end - 1; k > start &&
		    ((unsigned char)s[k] & 0xC0) == 0x80; k--)
			;
		i = k;
		if (!is_space(next_cp(s, n, &i)))
			break;
	}
	/* a character is at most four bytes */
	if (end - start >= 4 * want)
		return want;
	return utf8_count(s + start, end - start);
}

static int
check_name(const struct record *r, int i, char *why, size_t len)
{
	const char *s = rec_val(r, (size_t)i);
	size_t n = r->f[i].vlen, k, at, chars;
	char shown[64];
	uint32_t c;

	if (r->f[i].type != J_STRING) {
		show(r, i, shown, sizeof shown);
		snprintf(why, len, "warehouse_name: not a string (%s)", shown);
		return -1;
	}
	if (trimmed_chars(s, n, 1) == 0) {
		snprintf(why, len, "warehouse_name: empty");
		return -1;
	}
	if ((chars = utf8_count(s, n)) > NAME_MAX_CHARS) {
		snprintf(why, len, "warehouse_name: longer than %d characters "
		    "(%zu)", NAME_MAX_CHARS, chars);
		return -1;
	}
	/* C0, DEL and C1 (U+0080..U+009F: 0xC2 0x80..0x9F in UTF-8) */
	for (at = 0; at < n; at++) {
		c = (unsigned char)s[at];
		if (c < 0x20 || c == 0x7F || (c == 0xC2 && at + 1 < n &&
		    (unsigned char)s[at + 1] <= 0x9F)) {
			c = utf8_decode(s + at, n - at, &k);
			snprintf(why, len, "warehouse_name: control character "
			    "U+%04X at character %zu", (unsigned)c,
			    utf8_count(s, at) + 1);
			return -1;
		}
	}
	return 0;
}

/* item_code, item_name: strings when present; empty is only a flag. */
static int
check_text(const struct record *r, int i, const char *key, int *empty,
    char *why, size_t len)
{
	char shown[64];

	*empty = i < 0 || r->f[i].type != J_STRING ||
	    trimmed_chars(rec_val(r, (size_t)i), r->f[i].vlen, 1) == 0;
	if (i < 0 || r->f[i].type == J_STRING)
		return 0;
	show(r, i, shown, sizeof shown);
	snprintf(why, len, "%s: not a string (%s)", key, shown);
	return -1;
}

static int
validate(struct record *r, unsigned long line, void *arg)
{
	char why[256], num[24];
	const char *field = NULL;
	int sku, name, code, item, amt[3], coerced = 0, empty, k, score;
	int64_t sku_v, amt_v[3];
	unsigned set = 0;
	struct buf b = { NULL, 0, 0 };
	size_t i, nl;

	(void)arg;
	sku = rec_find(r, "sku");
	name = rec_find(r, "warehouse_name");
	code = rec_find(r, "item_code");
	item = rec_find(r, "item_name");
	for (k = 0; k < 3; k++)
		amt[k] = rec_find(r, amounts[k]);

	if (sku < 0 || name < 0 || amt[0] < 0 || amt[1] < 0 || amt[2] < 0) {
		field = sku < 0 ? "sku" : name < 0 ? "warehouse_name" :
		    amounts[amt[0] < 0 ? 0 : amt[1] < 0 ? 1 : 2];
		snprintf(why, sizeof why, "%s: missing", field);
		goto reject;
	}
	field = "sku";
	if (integer(r, sku, &sku_v, &coerced, why, sizeof why) == -1)
		goto reject;
	if (sku_v <= 0) {
		snprintf(why, sizeof why, "sku: not positive (%lld)",
		    (long long)sku_v);
		goto reject;
	}
	field = "warehouse_name";
	if (check_name(r, name, why, sizeof why) == -1)
		goto reject;
	for (k = 0; k < 3; k++) {
		field = amounts[k];
		if (integer(r, amt[k], &amt_v[k], &coerced, why,
		    sizeof why) == -1)
			goto reject;
		if (amt_v[k] < 0 || amt_v[k] > AMOUNT_MAX) {
			if (amt_v[k] < 0)
				snprintf(why, sizeof why, "%s: negative (%lld)",
				    field, (long long)amt_v[k]);
			else
				snprintf(why, sizeof why, "%s: above %d "
				    "(%lld)", field, AMOUNT_MAX,
				    (long long)amt_v[k]);
			goto reject;
		}
		if (amt_v[k] > anomaly)
			set |= 1u << F_ANOMALY;
	}
	field = "item_code";
	if (check_text(r, code, field, &empty, why, sizeof why) == -1)
		goto reject;
	if (empty)
		set |= 1u << F_EMPTY_CODE;
	field = "item_name";
	if (check_text(r, item, field, &empty, why, sizeof why) == -1)
		goto reject;
	if (empty)
		set |= 1u << F_EMPTY_NAME;
	else {
		nl = trimmed_chars(rec_val(r, (size_t)item), r->f[item].vlen,
		    (size_t)min_name);
		if (all_digits(rec_val(r, (size_t)item), r->f[item].vlen))
			set |= 1u << F_NUMERIC_NAME;
		else if ((int64_t)nl < min_name)
			set |= 1u << F_SHORT_NAME;
	}
	if (amt_v[0] == 0 && amt_v[2] > 0)
		set |= 1u << F_RESERVED_NO_FREE;

	if (coerced) {
		set |= 1u << F_COERCED;
		b.len = 0;
		buf_add_i64(&b, sku_v);
		rec_set(r, "sku", J_NUMBER, b.p, b.len);
		for (k = 0; k < 3; k++) {
			b.len = 0;
			buf_add_i64(&b, amt_v[k]);
			rec_set(r, amounts[k], J_NUMBER, b.p, b.len);
		}
	}
	score = 100;
	b.len = 0;
	buf_addc(&b, '[');
	for (i = 0; i < NFLAGS; i++)
		if (set & 1u << i) {
			if (b.len > 1)
				buf_addc(&b, ',');
			buf_addc(&b, '"');
			buf_adds(&b, flags[i].name);
			buf_addc(&b, '"');
			score -= flags[i].penalty;
			flag_count[i]++;
		}
	buf_addc(&b, ']');
	if (set)
		flagged++;
	snprintf(num, sizeof num, "%d", score < 0 ? 0 : score);
	rec_set(r, "data_quality_score", J_NUMBER, num, strlen(num));
	rec_set(r, "quality_flags", J_RAW, b.p, b.len);
	buf_free(&b);
	return 1;

reject:
	buf_free(&b);
	rej_record(line, why, field, r);
	return 0;
}

static void
summary(void *arg)
{
	size_t i;
	char key[48];

	(void)arg;
	log_int("flagged", (int64_t)flagged);
	for (i = 0; i < NFLAGS; i++)
		if (flag_count[i]) {
			snprintf(key, sizeof key, "flag_%s", flags[i].name);
			log_int(key, (int64_t)flag_count[i]);
		}
}

static void
usage(void)
{
	fprintf(stderr, "usage: etl-validate [-cs] [-a threshold] "
	    "[-L bytes] [-m N|P%%] [-n chars] [--version]\n");
	exit(EX_USAGE);
}

static void
bad(const char *opt, const char *err)
{
	fprintf(stderr, "etl-validate: %s: %s\n", opt, err);
	usage();
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "anomaly-threshold", required_argument, NULL, 'a' },
		{ "coerce", no_argument, NULL, 'c' },
		{ "max-line", required_argument, NULL, 'L' },
		{ "max-rejects", required_argument, NULL, 'm' },
		{ "min-name-length", required_argument, NULL, 'n' },
		{ "strict", no_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct filter f;
	char err[128];
	int c;

	static char name[] = "etl-validate";

	argv[0] = name;		/* getopt's messages name the tool */
	log_init(name);
	if (filter_init(&f, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "ETL_MAX_LINE_BYTES: %s", err);
		return filter_abort(EX_CONFIG);
	}
	while ((c = getopt_long(argc, argv, "a:cL:m:n:s", longopts,
	    NULL)) != -1)
		switch (c) {
		case 'a':
			if (parse_count(optarg, 0, AMOUNT_MAX, &anomaly, err,
			    sizeof err))
				bad("--anomaly-threshold", err);
			break;
		case 'c':
			coerce = 1;
			break;
		case 'L':
			if (filter_opt(&f, "max-line", optarg, err, sizeof err))
				bad("--max-line", err);
			break;
		case 'm':
			if (filter_opt(&f, "max-rejects", optarg, err,
			    sizeof err))
				bad("--max-rejects", err);
			break;
		case 'n':
			if (parse_count(optarg, 0, NAME_MAX_CHARS, &min_name,
			    err, sizeof err))
				bad("--min-name-length", err);
			break;
		case 's':
			f.strict = 1;
			break;
		case 'V':
			printf("etl-validate %s\n", ETL_VERSION);
			return 0;
		default:
			usage();
		}
	if (optind != argc)
		usage();
	f.fn = validate;
	return filter_run(&f, summary);
}
