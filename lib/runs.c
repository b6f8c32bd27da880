/*
 * What the run log says about the system: health (etl-ctl health and the
 * alerts of etl-audit), Prometheus metrics, and retention.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "ozon-etl.h"

/* A run that produced data. */
#define SUCCESS	"status IN ('completed', 'partial_success')"

static void
finding(struct health *h, int level, const char *check, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
finding(struct health *h, int level, const char *check, const char *fmt,
    ...)
{
	static const char *names[] = { "ok", "degraded", "unhealthy" };
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (level > h->level)
		h->level = level;
	if (h->findings.len)
		buf_addc(&h->findings, ',');
	buf_adds(&h->findings, "{\"check\":");
	buf_add_jstr(&h->findings, check, strlen(check));
	buf_adds(&h->findings, ",\"level\":\"");
	buf_adds(&h->findings, names[level]);
	buf_adds(&h->findings, "\",\"message\":");
	buf_add_jstr(&h->findings, msg, strlen(msg));
	buf_addc(&h->findings, '}');
	buf_add(&h->messages, msg, strlen(msg) + 1);
}

static int64_t
age_of(PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? -1 : atoll(PQgetvalue(r, 0, col));
}

static void
copy_val(PGresult *r, int row, int col, char *out, size_t len)
{
	snprintf(out, len, "%s", PQgetvalue(r, row, col));
}

static const char *
age_text(int64_t s, char *out, size_t len)
{
	if (s < 0)
		snprintf(out, len, "never");
	else if (s < 3600)
		snprintf(out, len, "%lldm ago", (long long)s / 60);
	else
		snprintf(out, len, "%lldh%02lldm ago", (long long)s / 3600,
		    (long long)s % 3600 / 60);
	return out;
}

/* The runs: last run, freshness, stuck runs, failures in a row. */
static void
check_runs(struct health *h, struct pg_conn *db, const struct ops_config *c)
{
	char stuck[32], err[256], a1[32], a2[32];
	const char *params[1] = { stuck };
	PGresult *r;

	snprintf(stuck, sizeof stuck, "%lld", (long long)c->stuck_s);
	r = db_query(db,
	    "SELECT (SELECT extract(epoch FROM now() - max(finished_at))::bigint"
	    "   FROM analytics_etl_log WHERE run_type = 'full_sync' AND "
	    SUCCESS "),"
	    " (SELECT extract(epoch FROM now() - max(finished_at))::bigint"
	    "   FROM analytics_etl_log WHERE run_type IN ('full_sync',"
	    "   'incremental_sync') AND " SUCCESS "),"
	    " (SELECT count(*) FROM analytics_etl_log WHERE status = 'running'"
	    "   AND started_at < now() - $1::bigint * interval '1 second'),"
	    " (SELECT batch_id FROM analytics_etl_log WHERE status = 'running'"
	    "   AND started_at < now() - $1::bigint * interval '1 second'"
	    "   ORDER BY started_at LIMIT 1),"
	    " (SELECT count(*) FROM analytics_etl_log WHERE status = 'failed'"
	    "   AND run_type IN ('full_sync', 'incremental_sync') AND"
	    "   started_at > coalesce((SELECT max(started_at) FROM"
	    "   analytics_etl_log WHERE run_type IN ('full_sync',"
	    "   'incremental_sync') AND " SUCCESS "), '-infinity'))",
	    1, params, err, sizeof err);
	if (r == NULL) {
		finding(h, UNHEALTHY, "database", "run log: %s", err);
		return;
	}
	h->full_age_s = age_of(r, 0);
	h->any_age_s = age_of(r, 1);
	h->stuck = atol(PQgetvalue(r, 0, 2));
	copy_val(r, 0, 3, h->stuck_batch, sizeof h->stuck_batch);
	h->failures = atol(PQgetvalue(r, 0, 4));
	PQclear(r);

	r = db_query(db, "SELECT batch_id, run_type, status, "
	    "coalesce(error_message, ''), "
	    "extract(epoch FROM now() - started_at)::bigint "
	    "FROM analytics_etl_log WHERE status <> 'running' "
	    "ORDER BY started_at DESC LIMIT 1", 0, NULL, err, sizeof err);
	if (r && PQntuples(r) == 1) {
		copy_val(r, 0, 0, h->last_batch, sizeof h->last_batch);
		copy_val(r, 0, 1, h->last_type, sizeof h->last_type);
		copy_val(r, 0, 2, h->last_status, sizeof h->last_status);
		copy_val(r, 0, 3, h->last_error, sizeof h->last_error);
		h->last_age_s = atoll(PQgetvalue(r, 0, 4));
	}
	PQclear(r);

	if (h->full_age_s < 0 || h->full_age_s > c->fresh_full_s)
		finding(h, UNHEALTHY, "freshness", "last successful full sync: "
		    "%s (SLA %lldh)", age_text(h->full_age_s, a1, sizeof a1),
		    (long long)c->fresh_full_s / 3600);
	else if (h->any_age_s > c->fresh_incr_s)
		finding(h, DEGRADED, "freshness", "last successful sync: %s "
		    "(SLA %lldh)", age_text(h->any_age_s, a2, sizeof a2),
		    (long long)c->fresh_incr_s / 3600);
	if (h->failures >= c->consecutive)
		finding(h, UNHEALTHY, "failures", "%ld runs failed in a row",
		    h->failures);
	else if (*h->last_status && strcmp(h->last_status, "completed") != 0 &&
	    strcmp(h->last_status, "partial_success") != 0)
		finding(h, DEGRADED, "last_run", "last run %s: %s%s%s",
		    h->last_type, h->last_status, *h->last_error ? ": " : "",
		    h->last_error);
	if (h->stuck)
		finding(h, DEGRADED, "stuck", "%ld run(s) still \"running\" "
		    "after %lldm, oldest %s", h->stuck,
		    (long long)c->stuck_s / 60, h->stuck_batch);
}

void
health_check(struct health *h, struct pg_conn *db, const char *db_err,
    struct rds *rds, const struct ops_config *c)
{
	const char *client = env_str("OZON_CLIENT_ID", NULL);
	struct circuit cb;
	redisReply *rep;

	memset(h, 0, sizeof *h);
	h->full_age_s = h->any_age_s = h->last_age_s = -1;
	h->db_up = db != NULL;
	if (db)
		check_runs(h, db, c);
	else
		finding(h, UNHEALTHY, "database", "%s", db_err);
	h->redis = -1;
	if (rds) {
		rep = rds->c ? rds_cmd(rds, "PING") : NULL;
		h->redis = rep != NULL;
		freeReplyObject(rep);
		if (!h->redis)
			finding(h, DEGRADED, "redis", "REDIS_URL is set but "
			    "Redis does not answer");
	}
	if (client) {
		cb_init(&cb, 1, 0, rds, access(c->state_dir, R_OK) == 0 ?
		    c->state_dir : NULL, client);
		h->open_until = cb.open_until;
		if ((h->circuit_open = cb.open_until > (long long)time(NULL)))
			finding(h, DEGRADED, "circuit", "circuit breaker open "
			    "for %llds more: Ozon is not called",
			    cb.open_until - (long long)time(NULL));
	}
}

void
health_free(struct health *h)
{
	buf_free(&h->findings);
	buf_free(&h->messages);
}

void
health_alerts(const struct health *h, struct pg_conn *db, struct rds *rds,
    const struct ops_config *c)
{
	int full_stale = h->full_age_s < 0 || h->full_age_s > c->fresh_full_s;
	struct alert a;
	char age[32];

	if (!h->db_up) {
		alert_init(&a, "database_down", "critical", NULL,
		    "PostgreSQL unreachable: the run log cannot be read");
		a.batch_id = "";	/* no run: a health check */
		alert_raise(NULL, rds, c, &a);
		alert_free(&a);
		return;
	}
	if (full_stale || h->any_age_s > c->fresh_incr_s) {
		/* past the full sync's SLA: unhealthy; the other: degraded */
		alert_init(&a, "stale_data", full_stale ? "critical" : "warning",
		    NULL,
		    "stock data is stale: last successful full sync %s, "
		    "last successful sync %s",
		    age_text(h->full_age_s, age, sizeof age),
		    h->any_age_s < 0 ? "never" : "");
		if (h->any_age_s >= 0)
			age_text(h->any_age_s, a.message + strlen(a.message),
			    sizeof a.message - strlen(a.message));
		alert_fig(&a, "full_age_s", h->full_age_s);
		alert_fig(&a, "any_age_s", h->any_age_s);
		alert_fig(&a, "sla_full_s", c->fresh_full_s);
		alert_fig(&a, "sla_incremental_s", c->fresh_incr_s);
		a.batch_id = "";
		alert_raise(db, rds, c, &a);
		alert_free(&a);
	}
	if (h->stuck) {
		alert_init(&a, "stuck_runs", "warning", NULL, "%ld run(s) "
		    "still \"running\" after %lldm (oldest %s): killed "
		    "without finishing?", h->stuck, (long long)c->stuck_s / 60,
		    h->stuck_batch);
		alert_fig(&a, "stuck", h->stuck);
		a.batch_id = "";
		alert_raise(db, rds, c, &a);
		alert_free(&a);
	}
	if (h->circuit_open) {
		if (h->open_until > (long long)time(NULL))
			alert_init(&a, "circuit_open", "critical", NULL, "the "
			    "circuit breaker for Ozon is open for %llds more",
			    h->open_until - (long long)time(NULL));
		else
			alert_init(&a, "circuit_open", "critical", NULL, "the "
			    "circuit breaker for Ozon is open: ozon-extract "
			    "found it open or opened it");
		a.batch_id = "";
		alert_raise(db, rds, c, &a);
		alert_free(&a);
	}
}

/* ---- metrics ---- */

static void
metric_head(struct buf *b, const char *name, const char *help)
{
	buf_adds(b, "# HELP ");
	buf_adds(b, name);
	buf_addc(b, ' ');
	buf_adds(b, help);
	buf_adds(b, "\n# TYPE ");
	buf_adds(b, name);
	buf_adds(b, " gauge\n");
}

static const struct {
	const char *name, *help;
	int col;		/* in the query below */
	double scale;
} per_type[] = {
	{ "ozon_etl_last_success_timestamp_seconds",
	    "Unix time of the last completed (or partly successful) run.", 1, 1 },
	{ "ozon_etl_last_run_timestamp_seconds",
	    "Unix time the last finished run ended.", 2, 1 },
	{ "ozon_etl_last_run_duration_seconds",
	    "Wall-clock time of the last finished run.", 4, 0.001 },
	{ "ozon_etl_last_run_rejects",
	    "Records rejected by the last finished run.", 11, 1 },
	{ "ozon_etl_last_run_api_requests",
	    "Ozon API requests made by the last finished run.", 12, 1 },
	{ "ozon_etl_last_run_api_failures",
	    "Ozon API requests that failed in the last finished run.", 13, 1 },
	{ "ozon_etl_last_run_api_seconds",
	    "Time spent in Ozon API requests by the last finished run.", 14,
	    0.001 },
	{ "ozon_etl_last_run_peak_memory_bytes",
	    "Peak resident memory of the last finished run's largest stage.",
	    15, 1024 },
};

static const char *rows_stage[] = { "extracted", "validated", "normalized",
	"inserted", "updated", "zeroed" };	/* columns 5..10 */
static const struct {
	const char *name, *help;
} totals[] = {	/* columns 0..2 of the second query */
	{ "ozon_etl_inventory_rows", "Rows in inventory." },
	{ "ozon_etl_inventory_out_of_stock_rows",
	    "Rows in inventory with nothing available." },
	{ "ozon_etl_runs_running", "Runs recorded as running now." },
};
static const char *statuses[] = { "completed", "partial_success",
	"failed", "cancelled" };

void
metrics_text(struct pg_conn *db, struct buf *b)
{
	PGresult *r = NULL, *inv = NULL;
	char err[256], v[64];
	size_t i, k;
	int row, n = 0;

	if (db) {
		r = db_query(db, "SELECT t.run_type,"
		    " (SELECT extract(epoch FROM max(finished_at)) FROM"
		    "  analytics_etl_log s WHERE s.run_type = t.run_type AND "
		    SUCCESS "),"
		    " extract(epoch FROM l.finished_at), l.status,"
		    " l.execution_time_ms, l.records_extracted,"
		    " l.records_validated, l.records_normalized,"
		    " l.records_inserted, l.records_updated, l.records_zeroed,"
		    " l.records_failed, l.api_requests_made,"
		    " l.api_requests_failed, l.api_time_ms, l.peak_memory_kb"
		    " FROM (VALUES ('full_sync'), ('incremental_sync'),"
		    " ('replay')) t (run_type) JOIN LATERAL (SELECT * FROM"
		    " analytics_etl_log WHERE run_type = t.run_type AND"
		    " status <> 'running' ORDER BY started_at DESC LIMIT 1) l"
		    " ON true", 0, NULL, err, sizeof err);
		inv = db_query(db, "SELECT count(*), count(*) FILTER (WHERE "
		    "available = 0), (SELECT count(*) FROM analytics_etl_log "
		    "WHERE status = 'running') FROM inventory", 0, NULL, err,
		    sizeof err);
	}
	metric_head(b, "ozon_etl_database_up",
	    "1 when the run log could be read.");
	buf_adds(b, r && inv ? "ozon_etl_database_up 1\n" :
	    "ozon_etl_database_up 0\n");
	if (r)
		n = PQntuples(r);
	for (i = 0; i < sizeof per_type / sizeof per_type[0]; i++) {
		metric_head(b, per_type[i].name, per_type[i].help);
		for (row = 0; row < n; row++) {
			if (PQgetisnull(r, row, per_type[i].col))
				continue;
			snprintf(v, sizeof v, "%.15g", atof(PQgetvalue(r, row,
			    per_type[i].col)) * per_type[i].scale);
			buf_adds(b, per_type[i].name);
			buf_adds(b, "{run_type=\"");
			buf_adds(b, PQgetvalue(r, row, 0));
			buf_adds(b, "\"} ");
			buf_adds(b, v);
			buf_addc(b, '\n');
		}
	}
	metric_head(b, "ozon_etl_last_run_rows",
	    "Records of the last finished run, by stage.");
	for (row = 0; row < n; row++)
		for (k = 0; k < 6; k++) {
			buf_adds(b, "ozon_etl_last_run_rows{run_type=\"");
			buf_adds(b, PQgetvalue(r, row, 0));
			buf_adds(b, "\",stage=\"");
			buf_adds(b, rows_stage[k]);
			buf_adds(b, "\"} ");
			buf_adds(b, PQgetvalue(r, row, 5 + (int)k));
			buf_addc(b, '\n');
		}
	metric_head(b, "ozon_etl_last_run_status",
	    "1 for the status of the last finished run, 0 for the others.");
	for (row = 0; row < n; row++)
		for (k = 0; k < 4; k++) {
			buf_adds(b, "ozon_etl_last_run_status{run_type=\"");
			buf_adds(b, PQgetvalue(r, row, 0));
			buf_adds(b, "\",status=\"");
			buf_adds(b, statuses[k]);
			buf_adds(b, "\"} ");
			buf_addc(b, strcmp(PQgetvalue(r, row, 3), statuses[k]) ?
			    '0' : '1');
			buf_addc(b, '\n');
		}
	for (k = 0; inv && k < 3; k++) {
		metric_head(b, totals[k].name, totals[k].help);
		buf_adds(b, totals[k].name);
		buf_addc(b, ' ');
		buf_adds(b, PQgetvalue(inv, 0, (int)k));
		buf_addc(b, '\n');
	}
	PQclear(r);
	PQclear(inv);
}

int
metrics_write(struct pg_conn *db, const char *path, char *err,
    size_t errlen)
{
	struct buf b = { NULL, 0, 0 };
	int rc;

	metrics_text(db, &b);
	/* no secret in it; node_exporter runs as another user */
	rc = write_atomic(path, b.p, b.len, 0644, err, errlen);
	buf_free(&b);
	return rc;
}

/* ---- retention ---- */

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* A run folder's name: a batch id (UUID), nothing else is ours. */
static int
is_batch_dir(const char *name)
{
	size_t n = strlen(name);

	return n == 36 && strspn(name, "0123456789abcdef-") == n;
}

static long long
remove_run_dirs(const struct ops_config *c, char *err, size_t errlen)
{
	struct buf path = { NULL, 0, 0 };
	long long removed = 0;
	time_t cutoff = time(NULL) - (time_t)c->keep_dirs_s;
	struct dirent *d;
	struct stat st;
	size_t base;
	DIR *dir;

	buf_adds(&path, c->state_dir);
	buf_adds(&path, "/runs/");
	base = path.len;
	buf_addc(&path, '\0');
	if ((dir = opendir(path.p)) == NULL) {
		buf_free(&path);
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", c->state_dir, strerror(errno));
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		if (!is_batch_dir(d->d_name) ||
		    strcmp(d->d_name, log_batch_id()) == 0)
			continue;
		path.len = base;
		buf_adds(&path, d->d_name);
		buf_addc(&path, '\0');
		if (lstat(path.p, &st) == -1 || !S_ISDIR(st.st_mode) ||
		    st.st_mtime >= cutoff)
			continue;
		if (nftw(path.p, rm_entry, 8, FTW_DEPTH | FTW_PHYS) == 0)
			removed++;
		else
			log_msg(LOG_WARN, "%s: %s", path.p, strerror(errno));
	}
	closedir(dir);
	buf_free(&path);
	return removed;
}

/* Delete in slices, so that no statement holds many locks for long. */
static long long
delete_old(struct pg_conn *db, const char *table, const char *time_col,
    const char *extra, int64_t age_s, char *err, size_t errlen)
{
	char sql[512], age[32];
	const char *params[1] = { age };
	long long total = 0, n;
	PGresult *r;

	snprintf(age, sizeof age, "%lld", (long long)age_s);
	snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id IN (SELECT id FROM "
	    "%s WHERE %s < now() - $1::bigint * interval '1 second'%s "
	    "LIMIT 10000)", table, table, time_col, extra);
	do {
		if ((r = db_query(db, sql, 1, params, err, errlen)) == NULL)
			return -1;
		n = atoll(PQcmdTuples(r));
		PQclear(r);
		total += n;
	} while (n > 0);
	return total;
}

int
retention_run(struct pg_conn *db, const struct ops_config *c,
    struct retention *n, char *err, size_t errlen)
{
	memset(n, 0, sizeof *n);
	if (c->keep_audit_s && (n->audit = delete_old(db, "inventory_audit",
	    "changed_at", "", c->keep_audit_s, err, errlen)) < 0)
		return -1;
	if (c->keep_runs_s && ((n->runs = delete_old(db, "analytics_etl_log",
	    "started_at", " AND status <> 'running'", c->keep_runs_s, err,
	    errlen)) < 0 || (n->alerts = delete_old(db, "etl_alert",
	    "raised_at", "", c->keep_runs_s, err, errlen)) < 0))
		return -1;
	if (c->keep_dirs_s && (n->dirs = remove_run_dirs(c, err, errlen)) < 0)
		return -1;
	return 0;
}

/* ---- runs that died ---- */

/* A string field of a summary.json, or "" (the record parser's view). */
static void
summary_field(struct record *r, const char *key, char *out, size_t len)
{
	int i = rec_find(r, key);

	*out = '\0';
	if (i >= 0 && r->f[i].type == J_STRING)
		snprintf(out, len, "%.*s", (int)r->f[i].vlen, rec_val(r, i));
	out[utf8_cut(out, strlen(out))] = '\0';
}

/* What etl-audit printed for the run, when the database was down. */
static void
read_summary(const char *state_dir, const char *batch, char *status,
    size_t slen, char *error, size_t elen)
{
	char path[4096], line[16384];
	struct record r;
	FILE *fp;

	*status = *error = '\0';
	snprintf(path, sizeof path, "%s/runs/%s/summary.json", state_dir,
	    batch);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	if (fgets(line, sizeof line, fp) != NULL) {
		rec_init(&r);
		if (rec_parse(&r, line, strcspn(line, "\n")) == 0) {
			summary_field(&r, "status", status, slen);
			summary_field(&r, "error", error, elen);
		}
		rec_free(&r);
	}
	(void)fclose(fp);	/* read only */
}

long
runs_reconcile(struct pg_conn *db, const char *state_dir, char *err,
    size_t errlen)
{
	char host[256] = "", status[32], error[1024], msg[1400];
	const char *params[3];
	PGresult *r, *u;
	long done = 0, pid;
	int i;

	gethostname(host, sizeof host - 1);
	params[0] = host;
	params[1] = log_batch_id();
	r = db_query(db, "SELECT batch_id, coalesce(details->>'pid', '0') "
	    "FROM analytics_etl_log WHERE status = 'running' AND "
	    "details->>'host' = $1 AND batch_id <> $2 LIMIT 100", 2, params,
	    err, errlen);
	if (r == NULL)
		return -1;
	for (i = 0; i < PQntuples(r); i++) {
		/* its pipeline still runs (or the pid was reused): leave it */
		pid = atol(PQgetvalue(r, i, 1));
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			continue;
		read_summary(state_dir, PQgetvalue(r, i, 0), status,
		    sizeof status, error, sizeof error);
		if (strcmp(status, "failed") != 0 &&
		    strcmp(status, "cancelled") != 0 &&
		    strcmp(status, "completed") != 0 &&
		    strcmp(status, "partial_success") != 0) {
			snprintf(status, sizeof status, "failed");
			snprintf(msg, sizeof msg, "the run ended without "
			    "finishing its record (killed?); found by %s",
			    log_batch_id());
		} else
			snprintf(msg, sizeof msg, "%s%s(recorded by %s: the "
			    "database was down at the end of the run)", error,
			    *error ? " " : "", log_batch_id());
		msg[utf8_cut(msg, strlen(msg))] = '\0';
		params[0] = PQgetvalue(r, i, 0);
		params[1] = status;
		params[2] = msg;
		/* the change counts are the audit rows' own */
		u = db_query(db, "UPDATE analytics_etl_log l SET status = $2, "
		    "finished_at = greatest(now(), l.started_at), "
		    "error_message = $3, "
		    "execution_time_ms = (extract(epoch FROM now() - "
		    "l.started_at) * 1000)::bigint, "
		    "records_inserted = a.i, records_updated = a.u, "
		    "records_zeroed = a.z FROM (SELECT "
		    "count(*) FILTER (WHERE change_type = 'insert') AS i, "
		    "count(*) FILTER (WHERE change_type = 'update') AS u, "
		    "count(*) FILTER (WHERE change_type = 'zero') AS z "
		    "FROM inventory_audit WHERE batch_id = $1) a "
		    "WHERE l.batch_id = $1 AND l.status = 'running'", 3, params,
		    err, errlen);
		if (u == NULL) {
			PQclear(r);
			return -1;
		}
		done += atol(PQcmdTuples(u));
		PQclear(u);
	}
	PQclear(r);
	return done;
}
