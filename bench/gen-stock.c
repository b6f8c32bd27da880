/*
 * gen-stock: write N rows shaped like the answer of Ozon's
 * POST /v2/analytics/stock_on_warehouses as NDJSON, reproducibly.
 *
 * Rows come per product: one SKU is stocked in 2..14 warehouses, so
 * there are about N/8 distinct SKUs.  About 0.5% of the rows are bad in
 * ways a validator rejects (negative amount, no sku, empty
 * warehouse_name, sku as a string), about 1% carry something a quality
 * check flags (digits-only item_name, empty item_code, nothing free
 * while some is reserved) and about 0.2% name a warehouse nobody knows.
 * Keys come in three orders, as Ozon's answers do.
 *
 * Uses only libc: it must not depend on the code it measures.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define OUT_CAP		(1024 * 1024)
#define LINE_MAX_BYTES	1024	/* far more than a generated line needs */
#define NAME_MAX_BYTES	80

/*
 * Every spelling in column 2 of the shared warehouses.tsv, made with
 * grep -v '^#' warehouses.tsv | cut -f2 | tr ';' '\n'
 */
static const char *const warehouses[] = {
	"ХОРУГВИНО_РФЦ",
	"Хоругвино_РФЦ",
	"Хоругвино_НЕГАБАРИТ",
	"ЖУКОВСКИЙ_РФЦ",
	"ПУШКИНО_1_РФЦ",
	"Пушкино_1_РФЦ",
	"ПУШКИНО_2_РФЦ",
	"Пушкино_2_РФЦ",
	"ПЕТРОВСКОЕ_РФЦ",
	"НОГИНСК_РФЦ",
	"ДОМОДЕДОВО_РФЦ",
	"ГРИВНО_РФЦ",
	"Гривно_РФЦ",
	"ГРИВНО_РФЦ_НЕГАБАРИТ",
	"СОФЬИНО_РФЦ",
	"ВАТУТИНКИ_РФЦ",
	"Новая_Рига_РФЦ",
	"ДАВЫДОВСКОЕ_РФЦ_НЕГАБАРИТ",
	"РАЗДОРЫ_4",
	"САНКТ-ПЕТЕРБУРГ_РФЦ",
	"Санкт_Петербург_РФЦ",
	"САНКТ_ПЕТЕРБУРГ_РФЦ",
	"СПБ_БУГРЫ_РФЦ",
	"СПБ_КОЛПИНО_РФЦ",
	"СПБ_ПОРОШКИНО_РФЦ",
	"СПБ_ШУШАРЫ_РФЦ",
	"СПБ_ВОЛХОНКА_РФЦ_НЕГАБАРИТ",
	"КАЗАНЬ_РФЦ_НОВЫЙ",
	"Казань_РФЦ_НОВЫЙ",
	"КЗН_СТОЛБИЩЕ_РФЦ_НЕГАБАРИТ",
	"ЕКАТЕРИНБУРГ_РФЦ_НОВЫЙ",
	"Екатеринбург_РФЦ_НОВЫЙ",
	"НОВОСИБИРСК_РФЦ_НОВЫЙ",
	"Новосибирск_РФЦ_НОВЫЙ",
	"НОВОСИБИРСК_3_РФЦ",
	"КЕМЕРОВО_РФЦ",
	"РОСТОВ-НА-ДОНУ_РФЦ",
	"Ростов_на_Дону_РФЦ",
	"РОСТОВ_НА_ДОНУ_РФЦ",
	"РОСТОВ_НА_ДОНУ_2_РФЦ",
	"АДЫГЕЙСК_РФЦ",
	"КРАСНОДАР_2_РФЦ",
	"НОВОРОССИЙСК_РФЦ",
	"НОВОРОССИЙСК_МРФЦ",
	"НИЖНИЙ_НОВГОРОД_РФЦ",
	"НИЖНИЙ_НОВГОРОД_2_РФЦ",
	"КРАСНОЯРСК_МРФЦ",
	"КРАСНОЯРСК_СТАРЦЕВО_РФЦ",
	"ВОЛГОГРАД_РФЦ",
	"ВОЛГОГРАД_МРФЦ",
	"САРАТОВ_РФЦ",
	"ТВЕРЬ_РФЦ",
	"Тверь_Хаб",
	"ТВЕРЬ_ХАБ",
	"НЕВИННОМЫССК_РФЦ",
	"ОМСК_РФЦ",
	"Хабаровск_РФЦ",
	"ХАБАРОВСК_2_РФЦ",
	"КАЛИНИНГРАД_МРФЦ",
	"ВОРОНЕЖ_РФЦ",
	"ВОРОНЕЖ_2_РФЦ",
	"ВОРОНЕЖ_МРФЦ",
	"ТЮМЕНЬ_РФЦ",
	"ПЕРМЬ_РФЦ",
	"УФА_РФЦ",
	"САМАРА_РФЦ",
	"САМАРА_РФЦ_ЮВЕЛИРНЫЙ",
	"ОРЕНБУРГ_РФЦ",
	"ЯРОСЛАВЛЬ_РФЦ",
	"МАХАЧКАЛА_РФЦ",
	"АСТАНА_РФЦ",
	"НУР_СУЛТАН_МРФЦ",
	"АЛМАТЫ_2_РФЦ",
	"АЛМАТЫ_МРФЦ",
	"МИНСК_МПСЦ",
	"ЕРЕВАН_МРФЦ",
};
#define NWAREHOUSES (sizeof warehouses / sizeof warehouses[0])

/* Warehouses no reference table knows (about 0.2% of the rows). */
static const char *const unknown_warehouses[] = {
	"Склад Новый Уренгой",
	"РФЦ Хоругвино",
	"Тестовый склад продавца",
	"ЧЕЛЯБИНСК_РФЦ_НОВЫЙ_2",
};

enum { MASC, FEM, NEUT, PLUR };

struct noun {
	const char *word;
	int gender;
};

/* Adjectives in the four forms: masculine, feminine, neuter, plural. */
typedef const char *const adjective[4];

static const struct noun clothes[] = {
	{ "Футболка", FEM }, { "Рубашка", FEM }, { "Куртка", FEM },
	{ "Толстовка", FEM }, { "Юбка", FEM }, { "Шапка", FEM },
	{ "Блузка", FEM }, { "Ветровка", FEM }, { "Пижама", FEM },
	{ "Свитшот", MASC }, { "Джемпер", MASC }, { "Кардиган", MASC },
	{ "Пиджак", MASC }, { "Костюм", MASC }, { "Шарф", MASC },
	{ "Пуховик", MASC }, { "Халат", MASC }, { "Лонгслив", MASC },
	{ "Платье", NEUT }, { "Пальто", NEUT }, { "Боди", NEUT },
	{ "Джинсы", PLUR }, { "Брюки", PLUR }, { "Шорты", PLUR },
	{ "Носки", PLUR }, { "Кроссовки", PLUR }, { "Ботинки", PLUR },
	{ "Перчатки", PLUR }, { "Леггинсы", PLUR }, { "Кеды", PLUR },
};

static const adjective audiences[] = {
	{ "мужской", "мужская", "мужское", "мужские" },
	{ "женский", "женская", "женское", "женские" },
	{ "детский", "детская", "детское", "детские" },
	{ "для мальчика", "для мальчика", "для мальчика", "для мальчика" },
	{ "для девочки", "для девочки", "для девочки", "для девочки" },
	{ "унисекс", "унисекс", "унисекс", "унисекс" },
};

static const adjective fabrics[] = {
	{ "хлопковый", "хлопковая", "хлопковое", "хлопковые" },
	{ "шерстяной", "шерстяная", "шерстяное", "шерстяные" },
	{ "льняной", "льняная", "льняное", "льняные" },
	{ "трикотажный", "трикотажная", "трикотажное", "трикотажные" },
	{ "флисовый", "флисовая", "флисовое", "флисовые" },
	{ "утепленный", "утепленная", "утепленное", "утепленные" },
	{ "джинсовый", "джинсовая", "джинсовое", "джинсовые" },
};

static const adjective colours[] = {
	{ "черный", "черная", "черное", "черные" },
	{ "белый", "белая", "белое", "белые" },
	{ "синий", "синяя", "синее", "синие" },
	{ "серый", "серая", "серое", "серые" },
	{ "красный", "красная", "красное", "красные" },
	{ "бежевый", "бежевая", "бежевое", "бежевые" },
	{ "зеленый", "зеленая", "зеленое", "зеленые" },
	{ "темно-синий", "темно-синяя", "темно-синее", "темно-синие" },
	{ "бордовый", "бордовая", "бордовое", "бордовые" },
	{ "хаки", "хаки", "хаки", "хаки" },
};

static const char *const sizes[] = {
	"XS", "S", "M", "L", "XL", "XXL", "3XL", "42", "44", "46", "48",
	"50", "52", "44-46", "48-50", "38", "40",
};

/* Household goods, each with the materials and measures that fit it. */
struct good {
	const char *word;
	int gender;
	int material[2];		/* into materials[] */
	const char *measure[3];
};

enum { CERAMIC, PLASTIC, GLASS, TERRY, SILICONE, BAMBOO, STEEL, COTTON };

static const adjective materials[] = {
	{ "керамический", "керамическая", "керамическое", "керамические" },
	{ "пластиковый", "пластиковая", "пластиковое", "пластиковые" },
	{ "стеклянный", "стеклянная", "стеклянное", "стеклянные" },
	{ "махровый", "махровая", "махровое", "махровые" },
	{ "силиконовый", "силиконовая", "силиконовое", "силиконовые" },
	{ "бамбуковый", "бамбуковая", "бамбуковое", "бамбуковые" },
	{ "стальной", "стальная", "стальное", "стальные" },
	{ "хлопковый", "хлопковая", "хлопковое", "хлопковые" },
};

static const struct good goods[] = {
	{ "Кружка", FEM, { CERAMIC, GLASS }, { "350 мл", "400 мл", "500 мл" } },
	{ "Тарелка", FEM, { CERAMIC, BAMBOO }, { "20 см", "24 см", "27 см" } },
	{ "Сковорода", FEM, { STEEL, STEEL }, { "24 см", "26 см", "28 см" } },
	{ "Подушка", FEM, { BAMBOO, COTTON }, { "50x70", "70x70", "40x60" } },
	{ "Контейнер для еды", MASC, { PLASTIC, GLASS },
	    { "500 мл", "1 л", "3 шт" } },
	{ "Чехол для iPhone 13", MASC, { SILICONE, PLASTIC },
	    { "матовый", "прозрачный", "с MagSafe" } },
	{ "Кабель USB Type-C", MASC, { SILICONE, PLASTIC },
	    { "1 м", "2 м", "3 м" } },
	{ "Плед", MASC, { COTTON, BAMBOO },
	    { "150x200", "200x220", "130x170" } },
	{ "Стакан", MASC, { GLASS, PLASTIC }, { "250 мл", "300 мл", "6 шт" } },
	{ "Набор ножей", MASC, { STEEL, CERAMIC }, { "3 шт", "5 шт", "6 шт" } },
	{ "Полотенце", NEUT, { TERRY, BAMBOO },
	    { "50x90", "70x140", "30x50" } },
	{ "Одеяло", NEUT, { BAMBOO, COTTON },
	    { "140x205", "172x205", "200x220" } },
	{ "Зеркало", NEUT, { GLASS, GLASS }, { "40x60", "50x70", "30 см" } },
	{ "Салфетки", PLUR, { BAMBOO, COTTON },
	    { "100 шт", "3 шт", "200 шт" } },
	{ "Прищепки", PLUR, { PLASTIC, BAMBOO },
	    { "20 шт", "24 шт", "50 шт" } },
};

/* Quoted gift lines: they put \" escapes into the JSON. */
static const char *const mottos[] = {
	" \"Лучший папа\"", " \"С Новым годом\"", " «Ёлочка»",
};

static const char *const code_prefixes[] = { "TS", "KR", "BL", "MX", "ZR" };

enum { F_SKU, F_WH, F_CODE, F_NAME, F_PROMISED, F_FREE, F_RESERVED, NFIELDS };

/* The orders seen in real answers: Ozon's own, sorted, grouped by kind. */
static const int orders[3][NFIELDS] = {
	{ F_SKU, F_WH, F_CODE, F_NAME, F_PROMISED, F_FREE, F_RESERVED },
	{ F_FREE, F_CODE, F_NAME, F_PROMISED, F_RESERVED, F_SKU, F_WH },
	{ F_CODE, F_NAME, F_SKU, F_WH, F_FREE, F_PROMISED, F_RESERVED },
};

struct product {
	int64_t sku;
	char code[64];
	char name[NAME_MAX_BYTES + 1];
	size_t used, left;		/* rows written, rows to come */
};

struct row {
	int64_t sku;
	int sku_kind;			/* 0 number, 1 missing, 2 string */
	const char *wh;
	const char *code;
	const char *name;
	int64_t amount[3];		/* promised, free, reserved */
};

static uint64_t rng_state;
static char out[OUT_CAP];
static size_t out_len;
static int out_err;
static unsigned wh_perm[NWAREHOUSES];

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

/* splitmix64: the next 64 random bits of the one global stream. */
static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* A number in [0, n), n < 2^32 (multiply-shift; the bias is negligible). */
static uint32_t
rng_below(uint32_t n)
{
	return (uint32_t)(((rng_next() >> 32) * n) >> 32);
}

/* Write out what is buffered; remembers the first error in out_err. */
static void
out_flush(void)
{
	errno = 0;
	if (out_len > 0 && !out_err &&
	    fwrite(out, 1, out_len, stdout) != out_len)
		out_err = errno ? errno : EIO;
	out_len = 0;
}

/* Append n bytes; the caller keeps a line under LINE_MAX_BYTES. */
static void
put(const char *s, size_t n)
{
	memcpy(out + out_len, s, n);
	out_len += n;
}

/* Append a C string. */
static void
put_str(const char *s)
{
	put(s, strlen(s));
}

/* Append v in decimal. */
static void
put_int(int64_t v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	put(p, (size_t)(tmp + sizeof tmp - p));
}

/* Append s as a JSON string, escaping what JSON needs escaped. */
static void
put_jstr(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	out[out_len++] = '"';
	for (; *p; p++) {
		if (*p == '"' || *p == '\\') {
			out[out_len++] = '\\';
			out[out_len++] = (char)*p;
		} else if (*p < 0x20) {
			put("\\u00", 4);
			out[out_len++] = hex[*p >> 4];
			out[out_len++] = hex[*p & 15];
		} else
			out[out_len++] = (char)*p;
	}
	out[out_len++] = '"';
}

/*
 * Join the non-NULL words with spaces into dst (NAME_MAX_BYTES + 1
 * bytes); returns the length, or 0 when they do not fit.
 */
static size_t
join_words(char *dst, const char *const *w, size_t n)
{
	size_t len = 0, k, i;

	for (i = 0; i < n; i++) {
		if (w[i] == NULL)
			continue;
		k = strlen(w[i]);
		if (len + (len > 0) + k > NAME_MAX_BYTES)
			return 0;
		if (len > 0)
			dst[len++] = ' ';
		memcpy(dst + len, w[i], k);
		len += k;
	}
	dst[len] = '\0';
	return len;
}

/*
 * Make a product name of 20..80 bytes from the word lists into dst, and
 * its size (or NULL) into *size for the seller's article.
 */
static void
make_name(char *dst, const char **size)
{
	const char *w[5] = { NULL };
	const struct noun *n;
	const struct good *g;
	size_t len;

	if (rng_below(100) < 75) {
		n = &clothes[rng_below(NELEM(clothes))];
		*size = sizes[rng_below(NELEM(sizes))];
		w[0] = n->word;
		w[1] = audiences[rng_below(NELEM(audiences))][n->gender];
		if (rng_below(100) < 70)
			w[2] = fabrics[rng_below(NELEM(fabrics))][n->gender];
		w[3] = colours[rng_below(NELEM(colours))][n->gender];
		w[4] = *size;
	} else {
		g = &goods[rng_below(NELEM(goods))];
		*size = NULL;
		w[0] = g->word;
		w[2] = materials[g->material[rng_below(2)]][g->gender];
		w[3] = colours[rng_below(NELEM(colours))][g->gender];
		w[4] = g->measure[rng_below(3)];
	}
	/* too long: drop the fabric or material, then the audience */
	if (join_words(dst, w, 5) == 0) {
		w[2] = NULL;
		if (join_words(dst, w, 5) == 0) {
			w[1] = NULL;
			join_words(dst, w, 5);
		}
	}
	len = strlen(dst);
	if (*size == NULL && rng_below(100) < 3) {
		const char *m = mottos[rng_below(NELEM(mottos))];

		if (len + strlen(m) <= NAME_MAX_BYTES)
			memcpy(dst + len, m, strlen(m) + 1);
	}
}

/* Start a new product: its SKU, article, name and how many warehouses. */
static void
new_product(struct product *p)
{
	const char *size;
	uint32_t num, kind;

	p->sku = 100000000 + (int64_t)rng_below(1900000001);
	make_name(p->name, &size);
	num = rng_below(100000);
	kind = rng_below(100);
	if (kind < 40 && size != NULL)
		snprintf(p->code, sizeof p->code, "АРТ-%05u-%s",
		    (unsigned)num, size);
	else if (kind < 70)
		snprintf(p->code, sizeof p->code, "SKU-%06u",
		    (unsigned)rng_below(1000000));
	else if (kind < 85)
		snprintf(p->code, sizeof p->code, "%s-%04u-%u",
		    code_prefixes[rng_below(NELEM(code_prefixes))],
		    (unsigned)(num % 10000), (unsigned)rng_below(100));
	else
		snprintf(p->code, sizeof p->code, "%u",
		    (unsigned)(100000 + rng_below(2000000000)));
	p->used = 0;
	p->left = 2 + rng_below(13);
}

/*
 * The product's i-th warehouse: step i of a Fisher-Yates shuffle of
 * wh_perm, so i = 0, 1, ... never repeat one within a product.
 */
static const char *
next_warehouse(size_t i)
{
	uint32_t j = (uint32_t)i + rng_below((uint32_t)(NWAREHOUSES - i));
	unsigned t = wh_perm[i];

	wh_perm[i] = wh_perm[j];
	wh_perm[j] = t;
	return warehouses[wh_perm[i]];
}

/* Amounts as they mostly are: small, often zero, never reserved-not-free. */
static void
usual_amounts(int64_t a[3])
{
	uint32_t v = rng_below(1000);

	a[1] = rng_below(100) < 12 ? 0 : (int64_t)v * v / 2000;
	a[2] = a[1] == 0 || rng_below(100) < 55 ? 0 : 1 + rng_below(20);
	a[0] = rng_below(100) < 75 ? 0 : 1 + rng_below(200);
}

/* Write one row as a compact JSON object and a newline. */
static void
put_row(const struct row *r)
{
	static const char *const amount_keys[] = {
		"\"promised_amount\":", "\"free_to_sell_amount\":",
		"\"reserved_amount\":",
	};
	uint32_t o = rng_below(100);
	const int *order = orders[o < 60 ? 0 : o < 85 ? 1 : 2];
	int i, first = 1;

	out[out_len++] = '{';
	for (i = 0; i < NFIELDS; i++) {
		if (order[i] == F_SKU && r->sku_kind == 1)
			continue;
		if (!first)
			out[out_len++] = ',';
		first = 0;
		switch (order[i]) {
		case F_SKU:
			put_str("\"sku\":");
			if (r->sku_kind == 2)
				out[out_len++] = '"';
			put_int(r->sku);
			if (r->sku_kind == 2)
				out[out_len++] = '"';
			break;
		case F_WH:
			put_str("\"warehouse_name\":");
			put_jstr(r->wh);
			break;
		case F_CODE:
			put_str("\"item_code\":");
			put_jstr(r->code);
			break;
		case F_NAME:
			put_str("\"item_name\":");
			put_jstr(r->name);
			break;
		default:
			put_str(amount_keys[order[i] - F_PROMISED]);
			put_int(r->amount[order[i] - F_PROMISED]);
			break;
		}
	}
	put("}\n", 2);
}

/* Write n rows to stdout; returns 0, or an errno value for stdout. */
static int
generate(uint64_t n)
{
	struct product p;
	struct row r;
	char digits[24];
	uint64_t i;
	uint32_t u;

	p.left = 0;
	for (i = 0; i < n && !out_err; i++) {
		if (p.left == 0)
			new_product(&p);
		memset(&r, 0, sizeof r);
		r.sku = p.sku;
		r.wh = next_warehouse(p.used++);
		p.left--;
		r.code = p.code;
		r.name = p.name;
		usual_amounts(r.amount);
		u = rng_below(100000);
		if (u < 500) {			/* rejected */
			switch (u % 4) {
			case 0:
				r.amount[rng_below(3)] = -1 -
				    (int64_t)rng_below(50);
				break;
			case 1: r.sku_kind = 1; break;
			case 2: r.wh = ""; break;
			default: r.sku_kind = 2; break;
			}
		} else if (u < 1500) {		/* flagged */
			switch (u % 3) {
			case 0:
				snprintf(digits, sizeof digits, "46%011u",
				    (unsigned)rng_below(2000000000));
				r.name = digits;
				break;
			case 1: r.code = ""; break;
			default:
				r.amount[1] = 0;
				r.amount[2] = 1 + rng_below(30);
				break;
			}
		} else if (u < 1700)
			r.wh = unknown_warehouses[rng_below(
			    NELEM(unknown_warehouses))];
		put_row(&r);
		if (out_len > OUT_CAP - LINE_MAX_BYTES)
			out_flush();
	}
	out_flush();
	return out_err;
}

static void
usage(void)
{
	fprintf(stderr, "usage: gen-stock [-s seed] rows\n");
	exit(EX_USAGE);
}

/* Parse a whole unsigned decimal number, or die with usage. */
static uint64_t
parse_u64(const char *s)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		usage();
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	uint64_t seed = 1, n;
	size_t i;
	int c, err;

	while ((c = getopt(argc, argv, "s:")) != -1)
		switch (c) {
		case 's': seed = parse_u64(optarg); break;
		default: usage();
		}
	if (optind != argc - 1)
		usage();
	n = parse_u64(argv[optind]);

	rng_state = seed;
	for (i = 0; i < NWAREHOUSES; i++)
		wh_perm[i] = (unsigned)i;
	err = generate(n);
	errno = 0;
	if (err == 0 && (fflush(stdout) == EOF || ferror(stdout)))
		err = errno ? errno : EIO;
	if (fclose(stdout) == EOF && err == 0)
		err = errno ? errno : EIO;
	if (err != 0) {
		fprintf(stderr, "gen-stock: stdout: %s\n", strerror(err));
		return EX_IOERR;
	}
	return 0;
}
