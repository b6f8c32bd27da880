/* Unit tests for the shared library, printing TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ozon-etl.h"

static int ntests, failed;

static void
ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++ntests, name);
	if (!cond)
		failed++;
}

static void
is_str(const char *got, size_t len, const char *want, const char *name)
{
	int same = len == strlen(want) && memcmp(got, want, len) == 0;

	ok(same, name);
	if (!same)
		fprintf(stderr, "#   got:  %.*s\n#   want: %s\n", (int)len, got,
		    want);
}

static void
test_jstr(void)
{
	struct buf b = { NULL, 0, 0 };

	buf_add_jstr(&b, "a\"b\\c\n\t\x01\x1f/é😀", 16);
	is_str(b.p, b.len, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f/é😀\"",
	    "jstr escapes controls, quote and backslash, keeps UTF-8");
	b.len = 0;
	buf_add_i64(&b, INT64_MIN);
	buf_addc(&b, ' ');
	buf_add_i64(&b, INT64_MAX);
	buf_addc(&b, ' ');
	buf_add_i64(&b, 0);
	is_str(b.p, b.len, "-9223372036854775808 9223372036854775807 0",
	    "i64 extremes");
	b.len = 0;
	buf_add_base64(&b, (const unsigned char *)"\xff\x00" "ab", 4);
	is_str(b.p, b.len, "/wBhYg==", "base64 with padding");
	buf_free(&b);
}

static void
test_num(void)
{
	static const struct {
		const char *s;
		int rc;
		int64_t v;
	} t[] = {
		{ "0", 0, 0 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "-9223372036854775808", 0, INT64_MIN },
		{ "9223372036854775808", -2, 0 },
		{ "-9223372036854775809", -2, 0 },
		{ "123456789012345678901234567890", -2, 0 },
		{ "1.0", -1, 0 },
		{ "1e3", -1, 0 },
		{ "123456789012345678901234567890e5", -1, 0 },
		{ "-", -1, 0 },
		{ "", -1, 0 },
	};
	char name[96];
	size_t i;
	int64_t v;
	int rc;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = 0;
		rc = num_i64(t[i].s, strlen(t[i].s), &v);
		snprintf(name, sizeof name, "num_i64(\"%s\") = %d", t[i].s,
		    t[i].rc);
		ok(rc == t[i].rc && (rc != 0 || v == t[i].v), name);
	}
}

static void
test_utf8(void)
{
	static const struct {
		const char *s;
		int json, rc;
		const char *name;
	} t[] = {
		{ "Хоругвино 😀 é", 1, 0, "Cyrillic, emoji, Latin-1" },
		{ "\xC0\x80", 0, -1, "overlong NUL" },
		{ "\xE0\x80\xAF", 0, -1, "overlong slash" },
		{ "\xED\xA0\x80", 0, -1, "encoded surrogate" },
		{ "\xF4\x90\x80\x80", 0, -1, "above U+10FFFF" },
		{ "\xD0", 0, -1, "truncated sequence" },
		{ "\x80", 0, -1, "lone continuation byte" },
		{ "\xFF", 0, -1, "0xFF" },
		{ "\"\\u0000\"", 1, -1, "escaped NUL" },
		{ "\"\\ud800\"", 1, -1, "lone high surrogate" },
		{ "\"\\udc00\\ud800\"", 1, -1, "low before high" },
		{ "\"\\ud83d\\ude00\"", 1, 0, "surrogate pair" },
		{ "\"\\\\u0000\"", 1, 0, "escaped backslash then text u0000" },
		{ "\"\\u0000\"", 0, 0, "escapes ignored outside JSON mode" },
	};
	char err[128], name[128];
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(name, sizeof name, "utf8_check: %s", t[i].name);
		ok(utf8_check(t[i].s, strlen(t[i].s), t[i].json, err,
		    sizeof err) == t[i].rc, name);
	}
	ok(utf8_check("abcdefgh\xff", 9, 0, err, sizeof err) == -1 &&
	    strcmp(err, "invalid UTF-8 at byte 9") == 0,
	    "the byte is named after the fast path");
	ok(uc_upper(0x451) == 0x401 && uc_upper(0x44F) == 0x42F &&
	    uc_upper('q') == 'Q' && uc_upper(0xDF) == 0xDF &&
	    uc_upper(0x3C9) == 0x3A9, "upper case: ё я q ß ω");
}

static void
test_canon(void)
{
	static const char *t[][2] = {
		{ "Ростов-на-Дону РФЦ", "РОСТОВ_НА_ДОНУ_РФЦ" },
		{ "РОСТОВ-НА-ДОНУ_РФЦ", "РОСТОВ_НА_ДОНУ_РФЦ" },
		{ "  склад  хоругвино ", "ХОРУГВИНО" },
		{ "Склад Хоругвино РФЦ", "ХОРУГВИНО_РФЦ" },
		{ "РФЦ Казань", "КАЗАНЬ_РФЦ" },
		{ "рфц казань новый", "КАЗАНЬ_НОВЫЙ_РФЦ" },
		{ "Региональный фулфилмент центр Самара", "САМАРА_РФЦ" },
		{ "Воронеж мультирегиональный фулфилмент центр",
		  "ВОРОНЕЖ_МРФЦ" },
		{ "Тверь распределительный центр", "ТВЕРЬ_РЦ" },
		{ "фулфилмент центр Гривно", "ГРИВНО_ФЦ" },
		{ "ёлки—палки\u00a02", "ЁЛКИ_ПАЛКИ_2" },
		{ "a__b--c\t\td", "A_B_C_D" },
		{ "Склад", "СКЛАД" },
		{ "_-_ ", "" },
		/* a fixed point: the canonical form of a canonical form */
		{ "Склад Склад Тверь", "ТВЕРЬ" },
		{ "ФЦ Склад", "ФЦ" },
		{ "РФЦ Склад Тверь", "ТВЕРЬ_РФЦ" },
	};
	struct buf b = { NULL, 0, 0 };
	char name[160];
	size_t i;

	struct buf c = { NULL, 0, 0 };

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		wh_canon(t[i][0], strlen(t[i][0]), &b);
		snprintf(name, sizeof name, "canon \"%s\"", t[i][0]);
		is_str(b.p ? b.p : "", b.len, t[i][1], name);
		wh_canon(b.p ? b.p : "", b.len, &c);
		snprintf(name, sizeof name, "canon twice \"%s\"", t[i][0]);
		is_str(c.p ? c.p : "", c.len, t[i][1], name);
	}
	buf_free(&b);
	buf_free(&c);
}

/* Write s to a temp file and open a reader on it. */
static int
reader_on(struct nd_reader *r, const char *s, size_t n, size_t max)
{
	char path[] = "/tmp/ozon-etl-unit.XXXXXX";
	int fd;

	if ((fd = mkstemp(path)) == -1 || write(fd, s, n) != (ssize_t)n)
		return -1;
	unlink(path);
	lseek(fd, 0, SEEK_SET);
	nd_init(r, fd, path, max);
	return fd;
}

static void
test_reader(void)
{
	struct nd_reader r;
	struct nd_line l;
	struct buf in = { NULL, 0, 0 };
	size_t i, big = 300 * 1024;
	int fd, st, good;

	/* a 300 KiB line crosses many reads; 2 MiB is too long */
	buf_adds(&in, "a\n");
	for (i = 0; i < big; i++)
		buf_addc(&in, (char)('a' + i % 26));
	buf_addc(&in, '\n');
	for (i = 0; i < 2 * 1024 * 1024; i++)
		buf_addc(&in, 'x');
	buf_adds(&in, "\n\nlast");
	fd = reader_on(&r, in.p, in.len, 1024 * 1024);
	ok(fd != -1, "reader: temp file");
	st = nd_next(&r, &l);
	ok(st == ND_LINE && l.len == 1 && l.p[0] == 'a' && l.lineno == 1,
	    "reader: short line");
	st = nd_next(&r, &l);
	good = st == ND_LINE && l.len == big && l.lineno == 2;
	for (i = 0; good && i < big; i++)
		good = l.p[i] == 'a' + (char)(i % 26);
	ok(good, "reader: 300 KiB line whole and exact");
	st = nd_next(&r, &l);
	ok(st == ND_TOOLONG && l.total == 2 * 1024 * 1024 && l.len == 1024 &&
	    l.lineno == 3 && l.p[0] == 'x', "reader: 2 MiB line reported "
	    "whole, with its length");
	st = nd_next(&r, &l);
	ok(st == ND_LINE && l.len == 0 && l.lineno == 4,
	    "reader: the line after it is intact (empty)");
	st = nd_next(&r, &l);
	ok(st == ND_LINE && l.len == 4 && memcmp(l.p, "last", 4) == 0 &&
	    l.lineno == 5, "reader: last line without newline");
	ok(nd_next(&r, &l) == ND_EOF, "reader: EOF");
	nd_free(&r);
	close(fd);

	/* the limit itself is allowed, one more byte is not */
	in.len = 0;
	for (i = 0; i < 2048; i++)
		buf_addc(&in, 'y');
	buf_adds(&in, "\nz\n");
	for (i = 0; i < 2049; i++)
		buf_addc(&in, 'y');
	buf_adds(&in, "\nw\n");
	fd = reader_on(&r, in.p, in.len, 2048);
	ok(nd_next(&r, &l) == ND_LINE && l.len == 2048, "reader: at limit");
	ok(nd_next(&r, &l) == ND_LINE && l.len == 1, "reader: next");
	ok(nd_next(&r, &l) == ND_TOOLONG && l.total == 2049,
	    "reader: limit + 1 is too long");
	ok(nd_next(&r, &l) == ND_LINE && l.len == 1 && l.p[0] == 'w',
	    "reader: and the next line survives");
	nd_free(&r);
	close(fd);
	buf_free(&in);
}

static void
test_record(void)
{
	static const char *same[] = {
		"{}",
		"{\"sku\":9223372036854775807,\"n\":-9223372036854775808}",
		"{\"a\":1.50,\"b\":1e400,\"c\":-0,\"d\":123456789012345678901234}",
		"{\"s\":\"Хоругвино \\\"РФЦ\\\" 😀\\n\\t\\\\\\u0001\"}",
		"{\"x\":{\"a\":[1,{\"b\":[]},{}],\"c\":null},\"y\":[true,false]}",
		"{\"\":\"\",\"k\\\"ey\":[[[\"deep\"]]]}",
	};
	static const char *fix[][2] = {
		{ " { \"a\" : [ 1 , 2 ] , \"b\":\"\\/\\u00e9\\ud83d\\ude00\" } ",
		  "{\"a\":[1,2],\"b\":\"/é😀\"}" },
		{ "{\"a\":\"\\u001F\\b\\f\\r\"}\r",
		  "{\"a\":\"\\u001f\\b\\f\\r\"}" },
	};
	static const char *bad[][2] = {
		{ "[1]", "not an object" },
		{ "5", "not an object" },
		{ "\"s\"", "not an object" },
		{ "{\"a\":1}{\"b\":2}", "more than one value on the line" },
		{ "{\"a\":1,\"a\":2}", "duplicate key \"a\"" },
		{ "{\"a\":", "invalid JSON: parse error: premature EOF" },
		{ "{'a':1}", "invalid JSON: lexical error: invalid char in json "
		  "text" },
		{ "{\"a\":\"\xff\"}", "invalid UTF-8 at byte 7" },
	};
	struct record r;
	struct buf out = { NULL, 0, 0 }, deep = { NULL, 0, 0 };
	char name[160];
	size_t i;

	rec_init(&r);
	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		out.len = 0;
		snprintf(name, sizeof name, "round trip %s", same[i]);
		if (rec_parse(&r, same[i], strlen(same[i])) == 0) {
			rec_emit(&r, &out);
			out.len--;
		}
		is_str(out.p ? out.p : "", out.len, same[i], name);
	}
	for (i = 0; i < sizeof fix / sizeof fix[0]; i++) {
		out.len = 0;
		snprintf(name, sizeof name, "compact form of %s", fix[i][0]);
		if (rec_parse(&r, fix[i][0], strlen(fix[i][0])) == 0) {
			rec_emit(&r, &out);
			out.len--;
		}
		is_str(out.p ? out.p : "", out.len, fix[i][1], name);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(name, sizeof name, "reject %s", bad[i][0]);
		ok(rec_parse(&r, bad[i][0], strlen(bad[i][0])) == -1, name);
		is_str(r.err, strlen(r.err), bad[i][1], "  with its reason");
		/* the parser must recover for the next line */
		ok(rec_parse(&r, "{\"ok\":1}", 8) == 0, "  and parse on");
	}
	/* 64 levels pass, 65 do not, 100000 neither */
	buf_adds(&deep, "{\"a\":");
	for (i = 0; i < 63; i++)
		buf_addc(&deep, '[');
	for (i = 0; i < 63; i++)
		buf_addc(&deep, ']');
	buf_addc(&deep, '}');
	ok(rec_parse(&r, deep.p, deep.len) == 0, "64 levels of nesting");
	deep.len = 0;
	buf_adds(&deep, "{\"a\":");
	for (i = 0; i < 100000; i++)
		buf_addc(&deep, '[');
	ok(rec_parse(&r, deep.p, deep.len) == -1 &&
	    strcmp(r.err, "nested deeper than 64 levels") == 0,
	    "100000 levels rejected");

	/* rec_set replaces in place and appends new keys */
	rec_parse(&r, "{\"a\":1,\"b\":2}", 13);
	rec_set(&r, "a", J_STRING, "x\"", 2);
	rec_set(&r, "c", J_RAW, "[]", 2);
	rec_set(&r, "d", J_NULL, "", 0);
	out.len = 0;
	rec_emit(&r, &out);
	is_str(out.p, out.len, "{\"a\":\"x\\\"\",\"b\":2,\"c\":[],\"d\":null}\n",
	    "rec_set keeps places and appends");
	ok(rec_find(&r, "b") == 1 && rec_find(&r, "zz") == -1, "rec_find");
	/* a value copied from the record itself, while the store grows */
	{
		char key[16];
		int k, good = 1;

		rec_parse(&r, "{\"long\":\"0123456789abcdefghijklmnopqrstuvwxyz\"}",
		    48);
		for (k = 0; k < 200; k++) {
			snprintf(key, sizeof key, "copy%d", k);
			rec_set(&r, key, J_STRING, rec_val(&r, 0), r.f[0].vlen);
		}
		for (k = 1; k <= 200; k++)
			good &= r.f[k].vlen == 36 && memcmp(rec_val(&r,
			    (size_t)k), "0123456789abcdefghijklmnopqrstuvwxyz",
			    36) == 0;
		ok(good, "rec_set: a value of the record itself, copied 200 "
		    "times while the store grows");
	}
	rec_free(&r);
	buf_free(&out);
	buf_free(&deep);
}

static void
test_limits(void)
{
	struct limit l = { 0, 0, 0 };
	char err[96];

	ok(!limit_exceeded(&l, 100, 100), "no limit: never exceeded");
	ok(limit_parse(&l, "5", err, sizeof err) == 0 &&
	    !limit_exceeded(&l, 5, 10) && limit_exceeded(&l, 6, 10),
	    "count limit: 5 allowed, 6 not");
	ok(limit_parse(&l, "10%", err, sizeof err) == 0 &&
	    !limit_exceeded(&l, 1, 10) && limit_exceeded(&l, 2, 10),
	    "share limit: 10% of 10 is 1");
	ok(limit_parse(&l, "1.5", err, sizeof err) == -1 &&
	    limit_parse(&l, "101%", err, sizeof err) == -1 &&
	    limit_parse(&l, "-1", err, sizeof err) == -1 &&
	    limit_parse(&l, "5%x", err, sizeof err) == -1 &&
	    limit_parse(&l, "", err, sizeof err) == -1, "bad limits refused");
}

static void
test_utf8_cut(void)
{
	const char *s = "ab\xd0\x96\xe2\x82\xac\xf0\x9f\x98\x80";	/* abЖ€😀 */

	ok(utf8_cut(s, 2) == 2 && utf8_cut(s, 3) == 2 && utf8_cut(s, 4) == 4,
	    "utf8_cut: a 2-byte character whole or not at all");
	ok(utf8_cut(s, 5) == 4 && utf8_cut(s, 6) == 4 && utf8_cut(s, 7) == 7,
	    "utf8_cut: a 3-byte character");
	ok(utf8_cut(s, 8) == 7 && utf8_cut(s, 10) == 7 &&
	    utf8_cut(s, 11) == 11 && utf8_cut(s, 0) == 0,
	    "utf8_cut: a 4-byte character; nothing");
}

static void
test_durations(void)
{
	int64_t v = -1;
	double d = -1;
	char err[96];

	ok(parse_duration("90", &v, err, sizeof err) == 0 && v == 90,
	    "duration: bare seconds");
	ok(parse_duration("15m", &v, err, sizeof err) == 0 && v == 900 &&
	    parse_duration("14h", &v, err, sizeof err) == 0 && v == 50400 &&
	    parse_duration("7d", &v, err, sizeof err) == 0 && v == 604800 &&
	    parse_duration("0s", &v, err, sizeof err) == 0 && v == 0,
	    "duration: s, m, h, d");
	ok(parse_duration("", &v, err, sizeof err) == -1 &&
	    parse_duration("h", &v, err, sizeof err) == -1 &&
	    parse_duration("5w", &v, err, sizeof err) == -1 &&
	    parse_duration("5hh", &v, err, sizeof err) == -1 &&
	    parse_duration("-5", &v, err, sizeof err) == -1 &&
	    parse_duration("1.5h", &v, err, sizeof err) == -1 &&
	    parse_duration("99999999999999999999", &v, err, sizeof err) == -1,
	    "duration: bad values refused");
	ok(parse_share("0.05", &d, err, sizeof err) == 0 && d == 0.05 &&
	    parse_share("5%", &d, err, sizeof err) == 0 && d == 0.05 &&
	    parse_share("1", &d, err, sizeof err) == 0 && d == 1 &&
	    parse_share("0", &d, err, sizeof err) == 0 && d == 0,
	    "share: fraction or percentage");
	ok(parse_share("1.5", &d, err, sizeof err) == -1 &&
	    parse_share("101%", &d, err, sizeof err) == -1 &&
	    parse_share("5%%", &d, err, sizeof err) == -1 &&
	    parse_share("-0.1", &d, err, sizeof err) == -1 &&
	    parse_share("1e-2", &d, err, sizeof err) == -1 &&
	    parse_share("", &d, err, sizeof err) == -1 &&
	    parse_share("%", &d, err, sizeof err) == -1,
	    "share: bad values refused");
}

static void
test_htab(void)
{
	struct htab t = { NULL, 0, 0 };
	static char keys[1000][8];
	int i, good = 1;

	for (i = 0; i < 1000; i++) {
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		ht_put(&t, keys[i], strlen(keys[i]), &keys[i]);
	}
	for (i = 0; i < 1000; i++)
		good &= ht_get(&t, keys[i], strlen(keys[i])) == &keys[i];
	ok(good && t.n == 1000 && ht_get(&t, "nope", 4) == NULL,
	    "htab: 1000 keys through growth");
	ok(ht_put(&t, "k5", 2, NULL)->val == &keys[5], "htab: put keeps first");
	ht_free(&t);
}

static void
test_ozon(void)
{
	static const struct {
		const char *body;
		int rc;
		const char *rows;
		size_t nrows, nbad;
		const char *name;
	} t[] = {
		{ "{\"result\":{\"rows\":[{\"sku\":1,\"n\":\"a\\\"b\"},"
		  "{\"sku\": 2}]}}", 0,
		  "{\"sku\":1,\"n\":\"a\\\"b\"}\n{\"sku\": 2}\n", 2, 0,
		  "rows as sent, one per line" },
		{ "{\n \"result\": {\n  \"rows\": [\n   {\n    \"s\": \"x y\",\n"
		  "    \"v\": [1, 2]\n   }\n  ]\n }\n}\n", 0,
		  "{\"s\":\"x y\",\"v\":[1,2]}\n", 1, 0,
		  "a row over several lines is made one" },
		{ "{\"x\":[1,{\"rows\":[]}],\"result\":{\"a\":null,\"rows\":"
		  "[5,{\"k\":true}],\"b\":1.5e3}}", 0, "{\"k\":true}\n", 2, 1,
		  "other members checked and skipped; a number is a bad row" },
		{ "{\"result\":{\"rows\":[]}}", 0, "", 0, 0, "an empty page" },
		{ "{\"code\":8,\"message\":\"rate limit\",\"details\":[]}", -1,
		  "", 0, 0, "an error answer has no rows" },
		{ "{\"result\":{\"rows\":[{\"sku\":1,", -1, "", 0, 0,
		  "truncated" },
		{ "{\"result\":{\"rows\":[{\"sku\":01}]}}", -1, "", 0, 0,
		  "a number with a leading zero" },
		{ "{\"result\":{\"rows\":[{\"s\":\"\\x\"}]}}", -1, "", 0, 0,
		  "a bad escape" },
		{ "{\"result\":{\"rows\":[{\"s\":\"a\tb\"}]}}", -1, "", 0, 0,
		  "a raw tab in a string" },
		{ "{\"result\":{\"rows\":[]}} x", -1, "", 0, 0,
		  "trailing garbage" },
		{ "{\"result\":{\"rows\":[{\"a\":1,}]}}", -1, "", 0, 0,
		  "a trailing comma" },
	};
	const struct ozon_endpoint *ep = ozon_endpoint("stock_on_warehouses");
	struct ozon_page pg;
	struct buf deep = { NULL, 0, 0 };
	char err[128], name[160];
	size_t i;
	int rc;

	memset(&pg, 0, sizeof pg);
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		rc = ozon_parse(ep, t[i].body, strlen(t[i].body), &pg, err,
		    sizeof err);
		snprintf(name, sizeof name, "ozon_parse: %s", t[i].name);
		ok(rc == t[i].rc && (rc != 0 || (pg.nrows == t[i].nrows &&
		    pg.nbad == t[i].nbad)), name);
		if (rc == 0)
			is_str(pg.rows.p ? pg.rows.p : "", pg.rows.len,
			    t[i].rows, "  its rows");
	}
	ozon_parse(ep, t[4].body, strlen(t[4].body), &pg, err, sizeof err);
	is_str(pg.message.p, pg.message.len, "rate limit",
	    "ozon_parse: an error answer's message");
	buf_adds(&deep, "{\"result\":{\"rows\":[");
	for (i = 0; i < 100000; i++)
		buf_addc(&deep, '[');
	ok(ozon_parse(ep, deep.p, deep.len, &pg, err, sizeof err) == -1,
	    "ozon_parse: 100000 levels refused, no crash");
	buf_free(&deep);
	ozon_page_free(&pg);
}

int
main(void)
{
	test_jstr();
	test_num();
	test_utf8();
	test_canon();
	test_reader();
	test_record();
	test_limits();
	test_durations();
	test_utf8_cut();
	test_htab();
	test_ozon();
	printf("1..%d\n", ntests);
	return failed != 0;
}
