/*
 * etl-load: load normalized stock rows into PostgreSQL, set-based: COPY
 * into a staging table, one upsert, one zeroing update for a full
 * snapshot, with an audit row for every change, all in one transaction.
 * Writes one change record per inserted, updated or zeroed row.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ozon-etl.h"

#define AMOUNT_MAX	2147483647
#define COPY_CHUNK	(256 * 1024)
/* pg_advisory_xact_lock key of the 'api' data source's loads */
#define LOAD_LOCK	"7310283340917731329"

static int full;			/* --mode full */
static double max_zero_share = 0.30;
static int force, dry_run, wait_lock;
static const char *change_source = "api_sync";	/* --change-source */
static int committed;		/* the changes are in the database */
/* a statement failed on data (SQLSTATE 22, 23): the server's message */
#define REFUSED		(-2)
static char refusal[512];
static int refusable;		/* the upsert runs: REFUSED is expected */
static struct limit max_rejects;
static PGconn *pg;
static struct out out;
static size_t max_line;		/* ETL_MAX_LINE_BYTES */
static struct {
	unsigned long in, rejected, staged, duplicates, refused, blank;
	long inserted, updated, zeroed, unchanged, auto_names;
	int64_t db_ms;
} n;

/* The staging table: one row per input line that passed the checks. */
static const char stage_sql[] =
    "CREATE TEMP TABLE stage ("
    " line bigint NOT NULL, sku bigint NOT NULL, warehouse_name text NOT NULL,"
    " original_warehouse_name text, normalized_warehouse_name text,"
    " cluster_name text, warehouse_code text, product_code text,"
    " product_name text, available integer NOT NULL,"
    " reserved integer NOT NULL, promised_amount integer NOT NULL,"
    " data_quality_score smallint, quality_flags text[], match text"
    ") ON COMMIT DROP";

/* The last line of each key wins. */
static const char src_sql[] =
    "CREATE TEMP TABLE src ON COMMIT DROP AS"
    " SELECT DISTINCT ON (sku, warehouse_name) * FROM stage"
    " ORDER BY sku, warehouse_name, line DESC";

/*
 * What the upsert and the zeroing share: a row's values as the audit keeps
 * them (every column whose change makes an update), the audit row's
 * columns, and the change records made from the audit rows.
 */
#define AUDIT_VALUES(t)							\
    "jsonb_build_object('available', " t ".available,"			\
    " 'reserved', " t ".reserved, 'promised_amount', " t ".promised_amount," \
    " 'product_code', " t ".product_code,"				\
    " 'product_name', " t ".product_name,"				\
    " 'data_quality_score', " t ".data_quality_score,"			\
    " 'quality_flags', " t ".quality_flags,"				\
    " 'cluster_name', " t ".cluster_name,"				\
    " 'warehouse_code', " t ".warehouse_code,"				\
    " 'original_warehouse_name', " t ".original_warehouse_name)"
#define AUDIT_INSERT							\
    "  INSERT INTO inventory_audit (inventory_id, sku, warehouse_name,"	\
    "   change_type, change_source, old_available, new_available,"	\
    "   old_reserved, new_reserved, old_promised_amount,"		\
    "   new_promised_amount, old_values, new_values, batch_id,"		\
    "   initiated_by)"
#define CHANGE_RECORDS							\
    "  RETURNING change_type, sku, warehouse_name, old_values, new_values" \
    ") SELECT json_build_object('change_type', change_type, 'sku', sku," \
    "  'warehouse_name', warehouse_name, 'old', old_values,"		\
    "  'new', new_values, 'batch_id', $1::text)::text FROM aud"

/*
 * The upsert and its audit rows in one statement.  The statement has one
 * snapshot, so "inventory old" in the audit part sees each row as it was
 * before the upsert (nothing, for an insert); only rows whose values
 * differ are rewritten; every rewritten row gets its audit row, and the
 * audit rows are what comes back as change records.
 */
static const char upsert_sql[] =
    "WITH up AS ("
    "  INSERT INTO inventory AS i (sku, warehouse_name,"
    "   original_warehouse_name, normalized_warehouse_name, cluster_name,"
    "   warehouse_code, product_code, product_name, available, reserved,"
    "   promised_amount, data_quality_score, quality_flags, data_source,"
    "   batch_id)"
    "  SELECT sku, warehouse_name, original_warehouse_name,"
    "   normalized_warehouse_name, cluster_name, warehouse_code,"
    "   product_code, product_name, available, reserved, promised_amount,"
    "   data_quality_score, coalesce(quality_flags, '{}'), 'api', $1"
    "  FROM src s"
    "  ON CONFLICT (sku, warehouse_name, data_source) DO UPDATE SET"
    "   original_warehouse_name = EXCLUDED.original_warehouse_name,"
    "   normalized_warehouse_name = EXCLUDED.normalized_warehouse_name,"
    "   cluster_name = EXCLUDED.cluster_name,"
    "   warehouse_code = EXCLUDED.warehouse_code,"
    "   product_code = EXCLUDED.product_code,"
    "   product_name = EXCLUDED.product_name,"
    "   available = EXCLUDED.available, reserved = EXCLUDED.reserved,"
    "   promised_amount = EXCLUDED.promised_amount,"
    "   data_quality_score = EXCLUDED.data_quality_score,"
    "   quality_flags = EXCLUDED.quality_flags,"
    "   batch_id = EXCLUDED.batch_id, updated_at = now()"
    "  WHERE (i.original_warehouse_name, i.normalized_warehouse_name,"
    "   i.cluster_name, i.warehouse_code, i.product_code, i.product_name,"
    "   i.available, i.reserved, i.promised_amount, i.data_quality_score,"
    "   i.quality_flags) IS DISTINCT FROM"
    "   (EXCLUDED.original_warehouse_name,"
    "   EXCLUDED.normalized_warehouse_name, EXCLUDED.cluster_name,"
    "   EXCLUDED.warehouse_code, EXCLUDED.product_code,"
    "   EXCLUDED.product_name, EXCLUDED.available, EXCLUDED.reserved,"
    "   EXCLUDED.promised_amount, EXCLUDED.data_quality_score,"
    "   EXCLUDED.quality_flags)"
    "  RETURNING i.*, (xmax = 0) AS inserted"
    "), aud AS ("
    AUDIT_INSERT
    "  SELECT up.id, up.sku, up.warehouse_name,"
    "   CASE WHEN up.inserted THEN 'insert' ELSE 'update' END, $2,"
    "   old.available, up.available, old.reserved, up.reserved,"
    "   old.promised_amount, up.promised_amount,"
    "   CASE WHEN old.id IS NULL THEN NULL ELSE " AUDIT_VALUES("old") " END,"
    "   " AUDIT_VALUES("up") ", $1, $3"
    "  FROM up LEFT JOIN inventory old ON old.id = up.id"
    CHANGE_RECORDS;

/* sql with its "src s" narrowed to the lines $4..$5. */
static char *
range_query(const char *sql)
{
	static const char from[] = "src s", to[] =
	    "(SELECT * FROM src WHERE line BETWEEN $4 AND $5) s";
	struct buf b = { NULL, 0, 0 };
	const char *p, *q;

	for (p = sql; (q = strstr(p, from)) != NULL; p = q + sizeof from - 1) {
		buf_add(&b, p, (size_t)(q - p));
		buf_adds(&b, to);
	}
	buf_adds(&b, p);
	buf_addc(&b, '\0');
	return b.p;
}

/*
 * A full snapshot: the API rows it no longer has go to zero.  The guard
 * counts them with a join (src has one row per key): a NOT EXISTS inside
 * FILTER would be a subplan run once per inventory row, O(n * m).
 */
static const char zero_count_sql[] =
    "SELECT count(*) FILTER (WHERE s.sku IS NULL"
    "  AND (i.available, i.reserved, i.promised_amount) <> (0, 0, 0)),"
    " count(*) FILTER (WHERE (i.available, i.reserved,"
    "  i.promised_amount) <> (0, 0, 0))"
    " FROM inventory i LEFT JOIN src s"
    "  ON s.sku = i.sku AND s.warehouse_name = i.warehouse_name"
    " WHERE i.data_source = 'api'";

static const char zero_sql[] =
    "WITH old AS ("
    "  SELECT i.* FROM inventory i WHERE i.data_source = 'api'"
    "  AND (i.available, i.reserved, i.promised_amount) <> (0, 0, 0)"
    "  AND NOT EXISTS (SELECT 1 FROM src s WHERE s.sku = i.sku"
    "   AND s.warehouse_name = i.warehouse_name)"
    "), z AS ("
    "  UPDATE inventory i SET available = 0, reserved = 0,"
    "   promised_amount = 0, batch_id = $1, updated_at = now()"
    "  FROM old WHERE i.id = old.id"
    "  RETURNING i.*"
    "), aud AS ("
    AUDIT_INSERT
    "  SELECT z.id, z.sku, z.warehouse_name, 'zero', $2, old.available, 0,"
    "   old.reserved, 0, old.promised_amount, 0,"
    "   " AUDIT_VALUES("old") ", " AUDIT_VALUES("z") ", $1, $3"
    "  FROM z JOIN old ON old.id = z.id"
    CHANGE_RECORDS;

/* Names etl-normalize could not map, for an operator to review. */
static const char auto_sql[] =
    "INSERT INTO warehouse_normalization AS w (original_name,"
    " normalized_name, source_type, confidence, seen_count, first_seen_at,"
    " last_seen_at)"
    " SELECT original_warehouse_name, min(warehouse_name), 'auto_detected',"
    "  0.7, count(*), now(), now() FROM stage"
    " WHERE match = 'auto' AND original_warehouse_name IS NOT NULL"
    " GROUP BY original_warehouse_name"
    " ON CONFLICT (original_name, source_type) DO UPDATE SET"
    "  seen_count = w.seen_count + EXCLUDED.seen_count,"
    "  last_seen_at = now(), updated_at = now()";

static void
usage(void)
{
	fprintf(stderr, "usage: etl-load [-fnw] [-m full|incremental] "
	    "[-r N|P%%] [-z share] [-s api_sync|replay|manual] [--version]\n");
	exit(EX_USAGE);
}

static int flags_array(const struct record *, struct buf *);
/* how etl-normalize marks a name it could not map */
static const char auto_match[] = "\"match\":\"auto\"";

/* COPY text format: backslash, tab, newline and return escaped. */
static void
copy_text(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		switch (s[i]) {
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		default: buf_addc(b, s[i]);
		}
}

/* A string field into the COPY line, or \N. */
static void
copy_str(struct buf *b, const struct record *r, const char *key)
{
	int i = rec_find(r, key);

	if (i < 0 || r->f[i].type != J_STRING)
		buf_add(b, "\\N", 2);
	else
		copy_text(b, rec_val(r, (size_t)i), r->f[i].vlen);
}

/*
 * An integer field in [min, max] into *v.  Returns 0, 1 when absent or
 * null (and allowed), or -1 with why set.
 */
static int
get_int(const struct record *r, const char *key, int64_t min, int64_t max,
    int64_t *v, char *why, size_t len)
{
	int i = rec_find(r, key);

	if (i < 0 || r->f[i].type == J_NULL)
		return 1;
	if (r->f[i].type != J_NUMBER || num_i64(rec_val(r, (size_t)i),
	    r->f[i].vlen, v) != 0 || *v < min || *v > max) {
		snprintf(why, len, "%s: not an integer from %lld to %lld", key,
		    (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

/*
 * One record into a COPY line, checked against everything the schema
 * would refuse, so that COPY and the upsert do not fail on data.
 * Returns 0, or -1 with why and field set.
 */
static int
stage_line(const struct record *r, unsigned long line, struct buf *b,
    char *why, size_t len, const char **field)
{
	static const char *amounts[] = {
		"free_to_sell_amount", "reserved_amount", "promised_amount"
	};
	int64_t sku, amt[3], score;
	const char *name;
	size_t name_len, k;
	int i, has_score;

	*field = "sku";
	if (get_int(r, "sku", 1, INT64_MAX, &sku, why, len) != 0) {
		if (!why[0])
			snprintf(why, len, "sku: missing");
		return -1;
	}
	*field = "normalized_warehouse_name";
	if ((i = rec_find(r, *field)) < 0 || r->f[i].type != J_STRING) {
		*field = "warehouse_name";
		i = rec_find(r, *field);
	}
	if (i < 0 || r->f[i].type != J_STRING || r->f[i].vlen == 0 ||
	    utf8_count(rec_val(r, (size_t)i), r->f[i].vlen) > 255) {
		snprintf(why, len, "%s: missing, empty or longer than 255 "
		    "characters", *field);
		return -1;
	}
	name = rec_val(r, (size_t)i);
	name_len = r->f[i].vlen;
	for (k = 0; k < 3; k++) {
		*field = amounts[k];
		why[0] = '\0';
		if (get_int(r, amounts[k], 0, AMOUNT_MAX, &amt[k], why,
		    len) != 0) {
			if (!why[0])
				snprintf(why, len, "%s: missing", amounts[k]);
			return -1;
		}
	}
	*field = "data_quality_score";
	if ((has_score = get_int(r, *field, 0, 100, &score, why, len)) < 0)
		return -1;
	*field = "quality_flags";
	i = rec_find(r, *field);
	if (i >= 0 && r->f[i].type != J_NULL && r->f[i].type != J_RAW) {
		snprintf(why, len, "quality_flags: not an array");
		return -1;
	}

	buf_add_i64(b, (int64_t)line);
	buf_addc(b, '\t');
	buf_add_i64(b, sku);
	buf_addc(b, '\t');
	copy_text(b, name, name_len);
	buf_addc(b, '\t');
	copy_str(b, r, "original_warehouse_name");
	buf_addc(b, '\t');
	copy_str(b, r, "normalized_warehouse_name");
	buf_addc(b, '\t');
	copy_str(b, r, "cluster_name");
	buf_addc(b, '\t');
	copy_str(b, r, "warehouse_code");
	buf_addc(b, '\t');
	copy_str(b, r, "item_code");
	buf_addc(b, '\t');
	copy_str(b, r, "item_name");
	for (k = 0; k < 3; k++) {
		buf_addc(b, '\t');
		buf_add_i64(b, amt[k]);
	}
	buf_addc(b, '\t');
	if (has_score == 0)
		buf_add_i64(b, score);
	else
		buf_add(b, "\\N", 2);
	buf_addc(b, '\t');
	if (flags_array(r, b) == -1) {
		snprintf(why, len, "quality_flags: not an array of strings");
		*field = "quality_flags";
		return -1;
	}
	buf_addc(b, '\t');
	i = rec_find(r, "normalization");
	if (i >= 0 && r->f[i].type == J_RAW &&
	    memmem(rec_val(r, (size_t)i), r->f[i].vlen, auto_match,
	    sizeof auto_match - 1))
		buf_adds(b, "auto");
	else
		buf_add(b, "\\N", 2);
	buf_addc(b, '\n');
	return 0;
}

/*
 * quality_flags (a JSON array of plain strings) as a PostgreSQL array
 * literal, or \N.  Returns -1 for anything else.
 */
static int
flags_array(const struct record *r, struct buf *b)
{
	const char *p, *e, *q;
	int i = rec_find(r, "quality_flags");

	if (i < 0 || r->f[i].type == J_NULL) {
		buf_add(b, "\\N", 2);
		return 0;
	}
	p = rec_val(r, (size_t)i);
	e = p + r->f[i].vlen;
	if (*p++ != '[')
		return -1;
	buf_addc(b, '{');
	while (p < e && *p != ']') {
		if (*p == ',') {
			buf_addc(b, *p++);
			continue;
		}
		if (*p != '"' || (q = memchr(p + 1, '"', (size_t)(e - p - 1))) ==
		    NULL || memchr(p + 1, '\\', (size_t)(q - p - 1)))
			return -1;
		buf_add(b, p, (size_t)(q - p + 1));
		p = q + 1;
	}
	buf_addc(b, '}');
	return 0;
}

/* Why the last statement failed, and what that means for the run. */
static int
db_failed(const char *what, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
	    NULL;
	const char *msg = PQerrorMessage(pg);

	/* data the database refuses: the upsert finds the rows at fault */
	if (refusable && state && (strncmp(state, "22", 2) == 0 ||
	    strncmp(state, "23", 2) == 0)) {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(refusal, sizeof refusal, "%s", msg ? msg : state);
		return REFUSED;
	}
	log_msg(LOG_ERROR, "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
	/*
	 * The server went away: the connection is gone, or the error is
	 * libpq's own (no SQLSTATE), a connection exception or a shutdown.
	 */
	if (PQstatus(pg) != CONNECTION_OK || state == NULL ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return EX_UNAVAILABLE;
	if (state && (strcmp(state, "55P03") == 0 ||	/* lock_not_available */
	    strcmp(state, "57014") == 0))		/* query_canceled */
		return EX_TEMPFAIL;
	return EX_SOFTWARE;
}

static int
exec(const char *what, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = db_failed(what, res);
	PQclear(res);
	return rc;
}

/* The one value of a one-row query, as a number. */
static int
count(const char *what, const char *sql, long *v, long *v2)
{
	PGresult *res = PQexec(pg, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = db_failed(what, res);
	else {
		*v = atol(PQgetvalue(res, 0, 0));
		if (v2)
			*v2 = atol(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return rc;
}

/*
 * Run a change statement and spool its change records to fp, compact,
 * counting them by kind.  Rows come one at a time: memory stays flat.
 */
static int
changes(const char *what, const char *sql, FILE *fp, const char *lo,
    const char *hi)
{
	const char *params[5];
	struct record r;
	struct buf line = { NULL, 0, 0 };
	PGresult *res;
	int rc = 0, i;

	params[0] = log_batch_id();
	params[1] = change_source;
	params[2] = env_str("ETL_INITIATED_BY", env_str("USER", "etl-load"));
	params[3] = lo;
	params[4] = hi;
	if (!PQsendQueryParams(pg, sql, lo ? 5 : 3, NULL, params, NULL, NULL,
	    0) ||
	    !PQsetSingleRowMode(pg))
		return db_failed(what, NULL);
	rec_init(&r);
	while ((res = PQgetResult(pg)) != NULL) {
		if (PQresultStatus(res) == PGRES_SINGLE_TUPLE) {
			const char *v = PQgetvalue(res, 0, 0);

			line.len = 0;
			if (rec_parse(&r, v, strlen(v)) == 0) {
				rec_emit(&r, &line);
				/* ferror(fp) below, once */
				(void)fwrite(line.p, 1, line.len, fp);
				i = rec_find(&r, "change_type");
				if (i >= 0 && rec_val(&r, (size_t)i)[0] == 'i')
					n.inserted++;
				else if (i >= 0 && rec_val(&r, (size_t)i)[0] == 'u')
					n.updated++;
				else
					n.zeroed++;
			}
		} else if (PQresultStatus(res) != PGRES_TUPLES_OK && rc == 0)
			rc = db_failed(what, res);
		PQclear(res);
	}
	rec_free(&r);
	buf_free(&line);
	if (rc == 0 && ferror(fp)) {
		log_msg(LOG_ERROR, "change spool: %s", strerror(errno));
		rc = EX_IOERR;
	}
	return rc;
}

/* Stream stdin into the staging table with COPY. */
static int
copy_in(void)
{
	struct nd_reader rd;
	struct nd_line l;
	struct record r;
	struct buf b = { NULL, 0, 0 };
	const char *field, *p;
	char why[256];
	PGresult *res;
	size_t mark, len;
	int st, rc = 0;

	/* COPY waits for upstream as long as it takes: no timeout on it */
	if ((rc = exec("staging table", stage_sql)) != 0 ||
	    (rc = exec("timeout", "SET LOCAL statement_timeout = 0")) != 0)
		return rc;
	res = PQexec(pg, "COPY stage FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		rc = db_failed("COPY", res);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	nd_init(&rd, 0, "<stdin>", max_line);
	rec_init(&r);
	while ((st = nd_next(&rd, &l)) != ND_EOF) {
		if (st == ND_ERROR) {
			log_msg(LOG_ERROR, "<stdin>: %s", strerror(rd.err));
			rc = EX_IOERR;
			break;
		}
		/* the filters' rules: BOM, blank lines, over-long lines */
		st = line_take(&l, st, max_line, &p, &len);
		if (st == LINE_BLANK) {
			n.blank++;
			continue;
		}
		n.in++;
		if (st == LINE_REJECTED) {
			n.rejected++;
			continue;
		}
		if (rec_parse(&r, p, len) == -1) {
			rej_raw(l.lineno, r.err, NULL, p, len, len);
			n.rejected++;
			continue;
		}
		mark = b.len;
		why[0] = '\0';
		if (stage_line(&r, l.lineno, &b, why, sizeof why,
		    &field) == -1) {
			b.len = mark;
			rej_record(l.lineno, why, field, &r);
			n.rejected++;
			continue;
		}
		n.staged++;
		if (b.len >= COPY_CHUNK) {
			if (PQputCopyData(pg, b.p, (int)b.len) != 1)
				break;
			b.len = 0;
		}
	}
	if (b.len && PQputCopyData(pg, b.p, (int)b.len) != 1)
		rc = rc ? rc : db_failed("COPY", NULL);
	if (PQputCopyEnd(pg, rc ? "input failed" : NULL) != 1 && rc == 0)
		rc = db_failed("COPY", NULL);
	while ((res = PQgetResult(pg)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
			rc = db_failed("COPY", res);
		PQclear(res);
	}
	rec_free(&r);
	nd_free(&rd);
	buf_free(&b);
	if (rc == 0 && rej_flush() == -1) {
		/* a reject that cannot be kept: nothing is loaded */
		log_msg(LOG_ERROR, "reject stream: write failed; nothing "
		    "loaded");
		rc = EX_IOERR;
	}
	if (rc == 0)
		rc = exec("timeout", "RESET statement_timeout");
	return rc;
}

/*
 * The upsert of all of src, or of the lines lo..hi, under a savepoint:
 * on failure the transaction, the spool and the counters are as before.
 */
static int
upsert(FILE *spool, const char *lo, const char *hi)
{
	static char *range_sql;
	long pos = ftell(spool), ins = n.inserted, upd = n.updated;
	int rc;

	if (range_sql == NULL)
		range_sql = range_query(upsert_sql);
	if ((rc = exec("savepoint", "SAVEPOINT upsert")) != 0)
		return rc;
	refusable = 1;
	rc = changes("upsert", lo ? range_sql : upsert_sql, spool, lo, hi);
	refusable = 0;
	if (rc == 0)
		return exec("savepoint", "RELEASE SAVEPOINT upsert");
	if (rc == REFUSED) {
		if (exec("savepoint", "ROLLBACK TO SAVEPOINT upsert") != 0 ||
		    exec("savepoint", "RELEASE SAVEPOINT upsert") != 0 ||
		    fflush(spool) == EOF || ftruncate(fileno(spool), pos) == -1 ||
		    fseek(spool, pos, SEEK_SET) == -1)
			return db_failed("savepoint", NULL);
		n.inserted = ins;
		n.updated = upd;
	}
	return rc;
}

/*
 * Some row in lines lo..hi is refused by the database: halve the range
 * until each refused line stands alone, load the rest, reject those.
 */
static int
isolate(FILE *spool, long lo, long hi)
{
	char a[24], b[24];
	const char *params[1];
	struct record r;
	PGresult *res;
	int rc;

	snprintf(a, sizeof a, "%ld", lo);
	snprintf(b, sizeof b, "%ld", hi);
	if ((rc = upsert(spool, a, b)) != REFUSED)
		return rc;
	if (lo < hi)
		return (rc = isolate(spool, lo, lo + (hi - lo) / 2)) != 0 ? rc :
		    isolate(spool, lo + (hi - lo) / 2 + 1, hi);
	/* one line: to the reject stream with the server's reason */
	params[0] = a;
	res = PQexecParams(pg, "SELECT row_to_json(src)::text FROM src "
	    "WHERE line = $1", 1, NULL, params, NULL, NULL, 0);
	rec_init(&r);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    rec_parse(&r, PQgetvalue(res, 0, 0),
	    strlen(PQgetvalue(res, 0, 0))) == 0)
		rej_record((unsigned long)lo, refusal, NULL, &r);
	else
		rej_raw((unsigned long)lo, refusal, NULL, "", 0, 0);
	rec_free(&r);
	PQclear(res);
	n.rejected++;
	n.refused++;
	return 0;
}

/* Everything between BEGIN and COMMIT. */
static int
load(FILE *spool)
{
	long src_rows = 0, zero = 0, api_rows = 0, got = 0;
	int rc;

	if ((rc = exec("BEGIN", "BEGIN")) != 0)
		return rc;
	/* one load of the api source at a time */
	if (wait_lock)
		rc = exec("lock", "SELECT pg_advisory_xact_lock(" LOAD_LOCK ")");
	else if ((rc = count("lock", "SELECT pg_try_advisory_xact_lock("
	    LOAD_LOCK ")::int, 0", &got, NULL)) == 0 && got == 0) {
		log_msg(LOG_ERROR, "another load of the api source is running "
		    "(--wait to wait for it)");
		rc = EX_TEMPFAIL;
	}
	if (rc || (rc = copy_in()) != 0)
		return rc;
	if (limit_exceeded(&max_rejects, n.rejected, n.in)) {
		log_msg(LOG_ERROR, "%lu of %lu records rejected: past the "
		    "limit; nothing loaded", n.rejected, n.in);
		return EX_DATAERR;
	}
	if ((rc = exec("staging", src_sql)) != 0 ||
	    (rc = exec("staging", "ANALYZE src")) != 0 ||
	    (rc = count("staging", "SELECT count(*) FROM src", &src_rows,
	    NULL)) != 0)
		return rc;
	n.duplicates = n.staged - (unsigned long)src_rows;
	if (full) {
		if ((rc = count("zero guard", zero_count_sql, &zero,
		    &api_rows)) != 0)
			return rc;
		if (!force && api_rows > 0 &&
		    (double)zero > max_zero_share * (double)api_rows) {
			log_msg(LOG_ERROR, "full sync would zero %ld of the %ld "
			    "rows in stock (more than %.0f%%): refused, nothing "
			    "changed (--force to load anyway)", zero, api_rows,
			    max_zero_share * 100);
			return EX_DATAERR;
		}
	}
	if ((rc = upsert(spool, NULL, NULL)) == REFUSED)
		rc = isolate(spool, 1, (long)n.in + 1);
	if (rc != 0 || (full && (rc = changes("zero", zero_sql, spool, NULL,
	    NULL)) != 0))
		return rc;
	{
		PGresult *res = PQexec(pg, auto_sql);

		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = db_failed("auto-detected names", res);
		else
			n.auto_names = atol(PQcmdTuples(res));
		PQclear(res);
		if (rc)
			return rc;
	}
	n.unchanged = src_rows - n.inserted - n.updated - (long)n.refused;
	if (fflush(spool) == EOF) {
		log_msg(LOG_ERROR, "change spool: %s", strerror(errno));
		return EX_IOERR;
	}
	if (dry_run)
		return exec("ROLLBACK", "ROLLBACK");
	if ((rc = exec("COMMIT", "COMMIT")) == 0)
		committed = 1;
	return rc;
}

/* The change records, once they are true (committed, or --dry-run). */
static int
publish(FILE *spool)
{
	char chunk[65536];
	size_t got;

	rewind(spool);
	while ((got = fread(chunk, 1, sizeof chunk, spool)) > 0)
		if (out_write(&out, chunk, got) == -1)
			break;
	return 0;
}

int
main(int argc, char *argv[])
{
	static char name[] = "etl-load";
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "max-rejects", required_argument, NULL, 'r' },
		{ "max-zero-share", required_argument, NULL, 'z' },
		{ "mode", required_argument, NULL, 'm' },
		{ "change-source", required_argument, NULL, 's' },
		{ "wait", no_argument, NULL, 'w' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char err[512], *end;
	struct pg_conn *conn = NULL;
	int64_t t0;
	FILE *spool = NULL;
	int c, status;

	argv[0] = name;
	log_init(name);
	while ((c = getopt_long(argc, argv, "fm:nr:s:wz:", longopts, NULL)) != -1)
		switch (c) {
		case 'f':
			force = 1;
			break;
		case 'm':
			if (strcmp(optarg, "full") == 0)
				full = 1;
			else if (strcmp(optarg, "incremental") == 0)
				full = 0;
			else {
				fprintf(stderr, "etl-load: --mode: want full or "
				    "incremental\n");
				usage();
			}
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'r':
			if (limit_parse(&max_rejects, optarg, err, sizeof err)) {
				fprintf(stderr, "etl-load: --max-rejects: %s\n",
				    err);
				usage();
			}
			break;
		case 's':
			if (strcmp(optarg, "api_sync") != 0 &&
			    strcmp(optarg, "replay") != 0 &&
			    strcmp(optarg, "manual") != 0) {
				fprintf(stderr, "etl-load: --change-source: want "
				    "api_sync, replay or manual\n");
				usage();
			}
			change_source = optarg;
			break;
		case 'w':
			wait_lock = 1;
			break;
		case 'z':
			errno = 0;
			max_zero_share = strtod(optarg, &end);
			if (end == optarg || *end || errno ||
			    !(max_zero_share >= 0 && max_zero_share <= 1)) {
				fprintf(stderr, "etl-load: --max-zero-share: want "
				    "a share from 0 to 1\n");
				usage();
			}
			break;
		case 'V':
			printf("etl-load %s\n", ETL_VERSION);
			return 0;
		default:
			usage();
		}
	if (optind != argc)
		usage();

	signal(SIGPIPE, SIG_IGN);
	out_init(&out, 1);
	rej_init();
	if (max_line_env(&max_line, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "ETL_MAX_LINE_BYTES: %s", err);
		status = EX_CONFIG;
		goto out;
	}
	if ((conn = db_connect(name, &status, err, sizeof err)) == NULL) {
		log_msg(LOG_ERROR, "database: %s", err);
		goto out;
	}
	pg = (PGconn *)conn;
	if ((spool = tmpfile()) == NULL) {
		log_msg(LOG_ERROR, "change spool: %s", strerror(errno));
		status = EX_IOERR;
		goto out;
	}
	t0 = log_elapsed_ms();
	status = load(spool);
	n.db_ms = log_elapsed_ms() - t0;
	if (status == 0)
		publish(spool);
	/* any failure: the transaction goes, and the database is as before */
out:
	db_close(conn);
	if (spool)
		(void)fclose(spool);	/* a tmpfile, read back already */
	status = out_close(&out, status);
	log_begin(LOG_INFO, "summary");
	log_int("in", (int64_t)n.in);
	log_int("out", n.inserted + n.updated + n.zeroed);
	log_int("rejected", (int64_t)n.rejected);
	log_int("inserted", n.inserted);
	log_int("updated", n.updated);
	log_int("zeroed", n.zeroed);
	log_int("unchanged", n.unchanged);
	log_int("duplicates", (int64_t)n.duplicates);
	if (n.blank)
		log_int("blank", (int64_t)n.blank);
	if (n.refused)
		log_int("refused", (int64_t)n.refused);
	log_int("auto_detected", n.auto_names);
	log_int("db_ms", n.db_ms);
	log_bool("dry_run", dry_run);
	log_bool("committed", committed);
	log_end_summary(status);
	return status;
}
