/*
 * etl-normalize: give every row the canonical name, cluster and code of
 * its warehouse, keeping the name Ozon sent.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "ozon-etl.h"

#define MEMO_MAX	4096	/* distinct names remembered */
#define MEMO_NAME_MAX	1024	/* longer names are looked up each time */

/* What a name normalizes to, remembered per distinct name. */
struct result {
	char *name;		/* the key */
	char *normalized;
	const struct wh_entry *e;	/* NULL when unknown */
	int match;
};

static const char *match_names[] = { "exact", "rule", "auto" };
static const char *match_json[] = {
	"{\"match\":\"exact\",\"confidence\":1.0}",
	"{\"match\":\"rule\",\"confidence\":0.9}",
	"{\"match\":\"auto\",\"confidence\":0.7}",
};

static struct mapping map;
static struct htab memo;
static struct buf canon;
static unsigned long matched[3], unknown_names, unlogged;
static int memo_full;
static const char *source;	/* where the mapping came from */

/* Active mappings an operator stands behind: manual before seed. */
static const char mapping_sql[] =
    "SELECT coalesce(string_agg(original_name || E'\\t' ||"
    " normalized_name || E'\\t' || coalesce(cluster_name, '') || E'\\t' ||"
    " coalesce(warehouse_code, ''), E'\\n'"
    " ORDER BY source_type <> 'manual', id), '')"
    " FROM warehouse_normalization"
    " WHERE is_active AND source_type <> 'auto_detected'"
    " AND concat(original_name, normalized_name, cluster_name,"
    "  warehouse_code) !~ '[\\t\\n\\r]'";

/*
 * The mapping from warehouse_normalization, with one query, through the
 * Redis cache when there is one: the key holds the mapping of the
 * current version, and every change of a mapping bumps the version.
 */
static int
load_db_mapping(void)
{
	struct rds rds = { NULL };
	struct buf key = { NULL, 0, 0 }, text = { NULL, 0, 0 };
	struct pg_conn *conn;
	redisReply *rep;
	PGresult *res;
	char err[512];
	int rc = 0;

	if (env_str("REDIS_URL", NULL) && rds_open(&rds, env_str("REDIS_URL",
	    NULL), 1000, err, sizeof err) == -1)
		log_msg(LOG_WARN, "redis: %s; going on without it", err);
	buf_adds(&key, "ozon-etl:mapping:");
	rep = rds_cmd(&rds, "GET ozon-etl:mapping:version");
	buf_adds(&key, rep && rep->type == REDIS_REPLY_STRING ? rep->str : "0");
	buf_addc(&key, '\0');
	freeReplyObject(rep);
	rep = rds_cmd(&rds, "GET %s", key.p);
	if (rep && rep->type == REDIS_REPLY_STRING) {
		buf_add(&text, rep->str, rep->len);
		source = "redis";
	}
	freeReplyObject(rep);
	if (source == NULL) {
		if ((conn = db_connect("etl-normalize", &rc, err,
		    sizeof err)) == NULL) {
			log_msg(LOG_ERROR, "database: %s", err);
			goto out;
		}
		res = PQexec((PGconn *)conn, mapping_sql);
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1)
			buf_adds(&text, PQgetvalue(res, 0, 0));
		else {
			log_msg(LOG_ERROR, "warehouse_normalization: %.*s",
			    (int)strcspn(PQerrorMessage((PGconn *)conn), "\n"),
			    PQerrorMessage((PGconn *)conn));
			rc = EX_UNAVAILABLE;
		}
		PQclear(res);
		db_close(conn);
		if (rc)
			goto out;
		source = "database";
		freeReplyObject(rds_cmd(&rds, "SET %s %b EX 86400", key.p,
		    text.p ? text.p : "", text.len));
	}
	buf_addc(&text, '\0');
	if (map_parse(&map, text.p, text.len - 1, 1, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "warehouse_normalization: %s", err);
		rc = EX_CONFIG;
	}
out:
	rds_close(&rds);
	buf_free(&key);
	buf_free(&text);
	return rc;
}

static void
log_unknown(const char *name, size_t n)
{
	unknown_names++;
	log_begin(LOG_WARN, "unknown_warehouse");
	log_str("name", name, n);
	log_str("normalized", canon.p, canon.len);
	log_end();
}

/*
 * Look name up, through the memo.  An unknown name is logged the first
 * time it is seen; names too long to remember are logged each time, and
 * once the memo is full, new names are counted but no longer logged.
 */
static const struct result *
resolve(const char *name, size_t n)
{
	static struct result once;
	struct result *res;
	const struct wh_entry *e;
	int match, unknown;

	if ((res = ht_get(&memo, name, n)))
		return res;
	if ((e = map_lookup(&map, name, n, &canon, &match)) == NULL)
		match = MATCH_AUTO;
	unknown = e == NULL && canon.len > 0;
	if (n > MEMO_NAME_MAX) {
		if (unknown)
			log_unknown(name, n);
		res = &once;
		free(once.normalized);
	} else if (memo.n < MEMO_MAX) {
		res = xmalloc(sizeof *res);
		res->name = xmemdup(name, n);
		ht_put(&memo, res->name, n, res);
		if (unknown)
			log_unknown(name, n);
	} else {
		if (unknown && !memo_full) {
			log_msg(LOG_WARN, "more than %d distinct warehouse "
			    "names: new unknown ones are no longer logged",
			    MEMO_MAX);
			memo_full = 1;
		}
		unlogged += unknown;
		res = &once;
		free(once.normalized);
	}
	res->normalized = e || canon.len == 0 ? NULL :
	    xmemdup(canon.p, canon.len);
	res->e = e;
	res->match = match;
	return res;
}

static void
set_str(struct record *r, const char *key, const char *s)
{
	if (s)
		rec_set(r, key, J_STRING, s, strlen(s));
	else
		rec_set(r, key, J_NULL, "", 0);
}

/* Add "unknown_warehouse" to quality_flags, making the array if need be. */
static void
flag_unknown(struct record *r)
{
	static const char flag[] = "\"unknown_warehouse\"";
	struct buf b = { NULL, 0, 0 };
	int i = rec_find(r, "quality_flags");
	size_t n;

	if (i >= 0 && r->f[i].type == J_RAW && rec_val(r, (size_t)i)[0] == '[') {
		if (memmem(rec_val(r, (size_t)i), r->f[i].vlen, flag,
		    sizeof flag - 1))
			return;	/* normalized before */
		n = r->f[i].vlen - 1;	/* up to the closing ']' */
		buf_add(&b, rec_val(r, (size_t)i), n);
		if (n > 1)
			buf_addc(&b, ',');
	} else
		buf_addc(&b, '[');
	buf_add(&b, flag, sizeof flag - 1);
	buf_addc(&b, ']');
	rec_set(r, "quality_flags", J_RAW, b.p, b.len);
	buf_free(&b);
}

static int
normalize(struct record *r, unsigned long line, void *arg)
{
	const struct result *res;
	const char *name;
	char why[128];
	size_t n;
	int i;

	(void)arg;
	if ((i = rec_find(r, "warehouse_name")) < 0 ||
	    r->f[i].type != J_STRING) {
		rej_record(line, i < 0 ? "warehouse_name: missing" :
		    "warehouse_name: not a string", "warehouse_name", r);
		return 0;
	}
	name = rec_val(r, (size_t)i);
	n = r->f[i].vlen;
	res = resolve(name, n);
	if (res->e == NULL && res->normalized == NULL) {
		snprintf(why, sizeof why, "warehouse_name: nothing left "
		    "after normalization");
		rej_record(line, why, "warehouse_name", r);
		return 0;
	}
	matched[res->match]++;
	/* i stays valid: rec_set only appends or replaces */
	rec_set(r, "original_warehouse_name", J_STRING, rec_val(r, (size_t)i),
	    n);
	if (res->e) {
		set_str(r, "normalized_warehouse_name", res->e->normalized);
		set_str(r, "cluster_name", res->e->cluster);
		set_str(r, "warehouse_code", res->e->code);
	} else {
		set_str(r, "normalized_warehouse_name", res->normalized);
		set_str(r, "cluster_name", NULL);
		set_str(r, "warehouse_code", NULL);
	}
	rec_set(r, "normalization", J_RAW, match_json[res->match],
	    strlen(match_json[res->match]));
	if (res->match == MATCH_AUTO)
		flag_unknown(r);
	return 1;
}

static void
summary(void *arg)
{
	int k;

	(void)arg;
	for (k = 0; k < 3; k++)
		log_int(match_names[k], (int64_t)matched[k]);
	log_int("unknown_names", (int64_t)unknown_names);
	if (unlogged)
		log_int("unknown_unlogged", (int64_t)unlogged);
}

static void
usage(void)
{
	fprintf(stderr, "usage: etl-normalize [-s] [-L bytes] [-m mapping.tsv] "
	    "[-r N|P%%] [--version]\n");
	exit(EX_USAGE);
}

static void
bad(const char *opt, const char *err)
{
	fprintf(stderr, "etl-normalize: %s: %s\n", opt, err);
	usage();
}

static void
free_memo(void)
{
	size_t i;
	struct result *res;

	for (i = 0; i < memo.cap; i++)
		if ((res = memo.v[i].val)) {
			free(res->name);
			free(res->normalized);
			free(res);
		}
	ht_free(&memo);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "max-line", required_argument, NULL, 'L' },
		{ "mapping", required_argument, NULL, 'm' },
		{ "max-rejects", required_argument, NULL, 'r' },
		{ "strict", no_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path;
	struct filter f;
	char err[256];
	int c, status;

	static char name[] = "etl-normalize";

	argv[0] = name;		/* getopt's messages name the tool */
	log_init(name);
	if (filter_init(&f, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "ETL_MAX_LINE_BYTES: %s", err);
		return filter_abort(EX_CONFIG);
	}
	path = env_str("ETL_MAPPING_FILE", NULL);
	while ((c = getopt_long(argc, argv, "L:m:r:s", longopts, NULL)) != -1)
		switch (c) {
		case 'L':
			if (filter_opt(&f, "max-line", optarg, err, sizeof err))
				bad("--max-line", err);
			break;
		case 'm':
			path = optarg;
			break;
		case 'r':
			if (filter_opt(&f, "max-rejects", optarg, err,
			    sizeof err))
				bad("--max-rejects", err);
			break;
		case 's':
			f.strict = 1;
			break;
		case 'V':
			printf("etl-normalize %s\n", ETL_VERSION);
			return 0;
		default:
			usage();
		}
	if (optind != argc)
		usage();
	/* -m, ETL_MAPPING_FILE, the database, the installed file */
	if (path == NULL && env_str("ETL_DATABASE_URL", NULL)) {
		if ((status = load_db_mapping()) != 0)
			return filter_abort(status);
		path = "warehouse_normalization";
	} else {
		if (path == NULL)
			path = DATADIR "/warehouses.tsv";
		if (map_load(&map, path, err, sizeof err) == -1) {
			log_msg(LOG_ERROR, "%s: %s", path, err);
			return filter_abort(EX_CONFIG);
		}
		source = "file";
	}
	log_begin(LOG_INFO, "mapping");
	log_str("source", source, strlen(source));
	log_str("from", path, strlen(path));
	log_int("entries", (int64_t)map.n);
	log_end();
	if (map.conflicts)
		log_msg(LOG_WARN, "%s: %lu canonical names stand for two "
		    "warehouses; those match exactly only", path,
		    map.conflicts);
	f.fn = normalize;
	status = filter_run(&f, summary);
	free_memo();
	map_free(&map);
	buf_free(&canon);
	return status;
}
