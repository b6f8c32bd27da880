/*
 * etl-audit: record a run.  With --begin, the run's row in
 * analytics_etl_log as "running"; else read the change records on stdin
 * and the stages' summaries in the run log, and finish the row: counters,
 * status, error, details.  Then judge the run by the alert rules, write
 * the Prometheus metrics and apply retention.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ozon-etl.h"

/* The pipeline's stages, in order. */
static const char *const all_stages[] = { "ozon-extract", "etl-validate",
	"etl-normalize", "etl-load", NULL };
static const char *const load_only[] = { "etl-load", NULL };

#define MAX_STAGES	8
#define MAX_REASONS	256	/* distinct reject reasons counted */
#define TOP_REASONS	10	/* kept in the run row */

struct stage {
	const char *name;
	struct buf summary;	/* the summary event as logged, or empty */
	char error[512];	/* its last error message */
	int64_t in, out, rejected, rows, api_requests, api_failures, api_ms;
	int64_t max_rss_kb, elapsed_ms, exit;
	int circuit_open;
};

static struct stage stages[MAX_STAGES];
static int nstages;
static const char *run_type = "manual_sync";
static const char *log_path, *rejects_path, *pipeline_error;
static int cancelled, no_cleanup;

/* the run as judged */
static struct {
	const char *status;
	char error[1024];
	int64_t extracted, validated, normalized, failed;
	int64_t api_requests, api_failures, api_ms, peak_kb, elapsed_ms;
	int64_t inserted, updated, zeroed, exec_ms, warehouses;
	int circuit_open;
} run;

/* change records seen on stdin, by type */
static int64_t seen_insert, seen_update, seen_zero, seen_bad;

struct reason {
	const char *key;	/* "stage\treason" */
	size_t klen;
	int64_t count;
};

static struct htab reasons;
static struct reason *reason_v;
static size_t nreasons;
static int64_t other_rejects;

static struct ops_config cfg;
static struct buf out_json;	/* the run summary on stdout */

static void
usage(void)
{
	fprintf(stderr, "usage: etl-audit --begin [-t type]\n"
	    "       etl-audit [-t type] -l run.log [-r rejects] [-s stages] "
	    "[-e message]\n"
	    "                 [--cancelled] [--no-cleanup]\n"
	    "types: full_sync incremental_sync manual_sync replay\n");
	exit(EX_USAGE);
}

static const char *
canonical_type(const char *s)
{
	static const char *const types[] = { "full_sync", "incremental_sync",
		"manual_sync", "replay", NULL };
	size_t i, n = strlen(s);

	for (i = 0; types[i]; i++)
		if (strcmp(s, types[i]) == 0 ||
		    (strncmp(s, types[i], n) == 0 && types[i][n] == '_'))
			return types[i];
	return NULL;
}

static void
set_stages(const char *const *names)
{
	for (nstages = 0; nstages < MAX_STAGES && names[nstages]; nstages++)
		stages[nstages].name = names[nstages];
}

static int
parse_stages(char *list)
{
	static const char *names[MAX_STAGES + 1];
	char *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(list, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_STAGES)
			return -1;
		names[n++] = tok;
	}
	names[n] = NULL;
	if (n == 0)
		return -1;
	set_stages(names);
	return 0;
}

static struct stage *
find_stage(const char *name, size_t n)
{
	int i;

	for (i = 0; i < nstages; i++)
		if (strlen(stages[i].name) == n &&
		    memcmp(stages[i].name, name, n) == 0)
			return &stages[i];
	return NULL;
}

/* Text cut at a byte limit must not end inside a character. */
static void
fit(char *s)
{
	s[utf8_cut(s, strlen(s))] = '\0';
}

/* A field's value as an integer (0 when absent or not a number). */
static int64_t
get_int(const struct record *r, const char *key)
{
	int i = rec_find(r, key);
	int64_t v;

	if (i < 0 || r->f[i].type != J_NUMBER ||
	    num_i64(rec_val(r, i), r->f[i].vlen, &v) != 0)
		return 0;
	return v;
}

static int
get_str(const struct record *r, const char *key, const char **s, size_t *n)
{
	int i = rec_find(r, key);

	if (i < 0 || r->f[i].type != J_STRING)
		return -1;
	*s = rec_val(r, i);
	*n = r->f[i].vlen;
	return 0;
}

/* One line of the run log: keep the stages' summaries and errors. */
static void
log_line(struct record *r, const char *line, size_t len)
{
	const char *tool, *event, *batch, *msg;
	size_t tn, en, bn, mn;
	struct stage *st;
	int i;

	if (rec_parse(r, line, len) == -1 ||
	    get_str(r, "tool", &tool, &tn) == -1 ||
	    get_str(r, "event", &event, &en) == -1 ||
	    (st = find_stage(tool, tn)) == NULL)
		return;
	/* a log shared with another run: only this run's lines count */
	if (get_str(r, "batch_id", &batch, &bn) == 0 &&
	    (bn != strlen(log_batch_id()) ||
	    memcmp(batch, log_batch_id(), bn) != 0))
		return;
	if (en == 7 && memcmp(event, "summary", 7) == 0) {
		st->summary.len = 0;
		buf_add(&st->summary, line, len);
		st->in = get_int(r, "in");
		st->out = get_int(r, "out");
		st->rejected = get_int(r, "rejected");
		st->rows = get_int(r, "rows");
		st->api_requests = get_int(r, "api_requests");
		st->api_failures = get_int(r, "api_failures");
		st->api_ms = get_int(r, "api_ms");
		st->max_rss_kb = get_int(r, "max_rss_kb");
		st->elapsed_ms = get_int(r, "elapsed_ms");
		st->exit = rec_find(r, "exit") < 0 ? -1 : get_int(r, "exit");
		i = rec_find(r, "circuit_open");
		st->circuit_open = i >= 0 && r->f[i].type == J_TRUE;
	} else if (en == 5 && memcmp(event, "error", 5) == 0 &&
	    get_str(r, "msg", &msg, &mn) == 0) {
		snprintf(st->error, sizeof st->error, "%.*s", (int)mn, msg);
		fit(st->error);
	}
}

/* Read a file line by line into fn; a missing file is a warning. */
static void
read_lines(const char *path, void (*fn)(struct record *, const char *,
    size_t))
{
	struct nd_reader rd;
	struct nd_line l;
	struct record r;
	int fd, k;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_msg(LOG_WARN, "%s: %s", path, strerror(errno));
		return;
	}
	nd_init(&rd, fd, path, ND_MAX_LINE_DEFAULT);
	rec_init(&r);
	while ((k = nd_next(&rd, &l)) != ND_EOF && k != ND_ERROR)
		if (k == ND_LINE)
			fn(&r, l.p, l.len);
	if (k == ND_ERROR)
		log_msg(LOG_WARN, "%s: %s", path, strerror(rd.err));
	rec_free(&r);
	nd_free(&rd);
	close(fd);
}

/*
 * A reject's reason without its figures: "free_to_sell_amount: negative
 * (-5)" counts as "free_to_sell_amount: negative", and "row 751 of the
 * page at offset 1000: not an object" as "row N of the page at offset N:
 * not an object" (add_class() puts the N).
 */
static size_t
reason_class(const char *s, size_t n)
{
	size_t k = n;

	if (k > 2 && s[k - 1] == ')')
		while (k > 0 && s[k - 1] != '(')
			k--;
	if (k > 0 && k < n)
		k--;
	while (k > 0 && s[k - 1] == ' ')
		k--;
	if (k == 0)
		k = n;
	if (k > 120) {
		k = 120;
		while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;	/* never cut a character in two */
	}
	return k;
}

static int
word_char(unsigned char c)
{
	return c == '_' || (c >= '0' && c <= '9') ||
	    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80;
}

/* Append the class of reason s[0..n) to b: numbers standing alone as N. */
static void
add_class(struct buf *b, const char *s, size_t n)
{
	size_t i, j;

	n = reason_class(s, n);
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9' &&
		    (i == 0 || !word_char((unsigned char)s[i - 1]))) {
			for (j = i; j < n && s[j] >= '0' && s[j] <= '9'; j++)
				;
			if (j == n || !word_char((unsigned char)s[j])) {
				buf_addc(b, 'N');
				i = j - 1;
				continue;
			}
		}
		buf_addc(b, s[i]);
	}
}

static void
reject_line(struct record *r, const char *line, size_t len)
{
	const char *stage = "?", *reason;
	size_t sn = 1, rn;
	struct reason *e;
	struct buf key = { NULL, 0, 0 };
	char *k;

	if (rec_parse(r, line, len) == -1 ||
	    get_str(r, "reason", &reason, &rn) == -1)
		return;
	get_str(r, "stage", &stage, &sn);
	buf_add(&key, stage, sn);
	buf_addc(&key, '\t');
	add_class(&key, reason, rn);
	if ((e = ht_get(&reasons, key.p, key.len)) != NULL)
		e->count++;
	else if (nreasons == MAX_REASONS)
		other_rejects++;
	else {
		k = xmemdup(key.p, key.len);
		reason_v[nreasons].key = k;
		reason_v[nreasons].klen = key.len;
		reason_v[nreasons].count = 1;
		ht_put(&reasons, k, key.len, &reason_v[nreasons]);
		nreasons++;
	}
	buf_free(&key);
}

static int
by_count(const void *a, const void *b)
{
	const struct reason *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 :
	    strcmp(x->key, y->key);
}

/* The change records on stdin, counted by type. */
static int
read_changes(void)
{
	static const char *types[] = { "insert", "update", "zero" };
	int64_t *counts[] = { &seen_insert, &seen_update, &seen_zero };
	struct nd_reader rd;
	struct nd_line l;
	struct record r;
	const char *t;
	size_t tn, i;
	int k;

	nd_init(&rd, 0, "<stdin>", ND_MAX_LINE_DEFAULT);
	rec_init(&r);
	while ((k = nd_next(&rd, &l)) != ND_EOF && k != ND_ERROR) {
		if (k == ND_LINE && l.len == 0)
			continue;
		if (k != ND_LINE || rec_parse(&r, l.p, l.len) == -1 ||
		    get_str(&r, "change_type", &t, &tn) == -1) {
			seen_bad++;
			continue;
		}
		for (i = 0; i < 3; i++)
			if (tn == strlen(types[i]) && memcmp(t, types[i],
			    tn) == 0)
				break;
		if (i < 3)
			(*counts[i])++;
		else
			seen_bad++;
	}
	if (k == ND_ERROR)
		log_msg(LOG_ERROR, "stdin: %s", strerror(rd.err));
	rec_free(&r);
	nd_free(&rd);
	if (seen_bad)
		log_msg(LOG_WARN, "%lld lines on stdin are not change records",
		    (long long)seen_bad);
	return k == ND_ERROR ? -1 : 0;
}

/* Judge the run from its stages: status, error, counters. */
static void
judge(void)
{
	struct stage *st;
	int i, bad = 0;

	run.status = "completed";
	for (i = 0; i < nstages; i++) {
		st = &stages[i];
		if (st->summary.len == 0) {
			if (!bad++)
				snprintf(run.error, sizeof run.error,
				    "%s: no summary (killed, or not run)",
				    st->name);
			continue;
		}
		if (st->exit != 0 && !bad++)
			snprintf(run.error, sizeof run.error,
			    "%s exited %lld%s%s", st->name,
			    (long long)st->exit, *st->error ? ": " : "",
			    st->error);
		run.failed += st->rejected;
		if (st->max_rss_kb > run.peak_kb)
			run.peak_kb = st->max_rss_kb;
		if (st->elapsed_ms > run.elapsed_ms)
			run.elapsed_ms = st->elapsed_ms;
		if (strcmp(st->name, "ozon-extract") == 0) {
			run.extracted = st->rows;
			run.api_requests = st->api_requests;
			run.api_failures = st->api_failures;
			run.api_ms = st->api_ms;
			run.circuit_open = st->circuit_open;
		} else if (strcmp(st->name, "etl-validate") == 0)
			run.validated = st->out;
		else if (strcmp(st->name, "etl-normalize") == 0)
			run.normalized = st->out;
	}
	/* a stage's input counts as extracted when the run did not extract */
	if (!find_stage("ozon-extract", 12) && nstages > 0)
		run.extracted = stages[0].in;
	/* the pipeline's own word (a spool that failed, a load not run) */
	if (pipeline_error) {
		i = (int)strlen(run.error);
		snprintf(run.error + i, sizeof run.error - (size_t)i, "%s%s",
		    i ? "; " : "", pipeline_error);
		bad++;
	}
	if (bad)
		run.status = "failed";
	else if (run.failed > 0)
		run.status = "partial_success";
	if (cancelled) {
		run.status = "cancelled";
		if (!*run.error)
			snprintf(run.error, sizeof run.error, "cancelled");
	}
	fit(run.error);
}

/* details: the stages' summaries, the top reject reasons, what we saw */
static void
details_json(struct buf *b)
{
	char host[256] = "";
	size_t i, j;
	int s, first = 1;

	gethostname(host, sizeof host - 1);
	buf_adds(b, "{\"host\":");
	buf_add_jstr(b, host, strlen(host));
	buf_adds(b, ",\"stages\":{");
	for (s = 0; s < nstages; s++) {
		if (!stages[s].summary.len)
			continue;
		if (!first)
			buf_addc(b, ',');
		first = 0;
		buf_add_jstr(b, stages[s].name, strlen(stages[s].name));
		buf_addc(b, ':');
		buf_add(b, stages[s].summary.p, stages[s].summary.len);
	}
	buf_adds(b, "},\"change_records\":{\"insert\":");
	buf_add_i64(b, seen_insert);
	buf_adds(b, ",\"update\":");
	buf_add_i64(b, seen_update);
	buf_adds(b, ",\"zero\":");
	buf_add_i64(b, seen_zero);
	buf_adds(b, "},\"reject_reasons\":[");
	qsort(reason_v, nreasons, sizeof reason_v[0], by_count);
	for (i = 0; i < nreasons && i < TOP_REASONS; i++) {
		j = strcspn(reason_v[i].key, "\t");
		buf_adds(b, i ? ",{\"stage\":" : "{\"stage\":");
		buf_add_jstr(b, reason_v[i].key, j);
		buf_adds(b, ",\"reason\":");
		buf_add_jstr(b, reason_v[i].key + j + 1,
		    reason_v[i].klen - j - 1);
		buf_adds(b, ",\"count\":");
		buf_add_i64(b, reason_v[i].count);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	if (other_rejects) {
		buf_adds(b, ",\"reject_reasons_other\":");
		buf_add_i64(b, other_rejects);
	}
	if (run.warehouses >= 0) {
		buf_adds(b, ",\"warehouses\":");
		buf_add_i64(b, run.warehouses);
	}
	buf_addc(b, '}');
}

static int
begin(struct pg_conn *db)
{
	char err[256], host[256] = "", pid[32];
	const char *params[4] = { log_batch_id(), run_type, host, pid };
	PGresult *r;
	long n;

	gethostname(host, sizeof host - 1);
	snprintf(pid, sizeof pid, "%ld", (long)getppid());
	r = db_query(db, "INSERT INTO analytics_etl_log (batch_id, run_type, "
	    "details) VALUES ($1, $2, jsonb_build_object('host', $3::text, "
	    "'pid', $4::int)) ON CONFLICT (batch_id) DO NOTHING", 4, params,
	    err, sizeof err);
	if (r == NULL) {
		log_msg(LOG_ERROR, "analytics_etl_log: %s", err);
		return EX_UNAVAILABLE;
	}
	PQclear(r);
	log_begin(LOG_INFO, "run_started");
	log_str("run_type", run_type, strlen(run_type));
	log_end();
	/* runs of this host that died before their end was recorded */
	if ((n = runs_reconcile(db, cfg.state_dir, err, sizeof err)) > 0)
		log_msg(LOG_WARN, "%ld earlier run(s) had died without "
		    "finishing their record: now finished", n);
	else if (n == -1)
		log_msg(LOG_WARN, "analytics_etl_log: %s", err);
	return 0;
}

/* Distinct warehouses holding stock now: a full sync's figure. */
static int64_t
count_warehouses(struct pg_conn *db)
{
	char err[256];
	PGresult *r;
	int64_t n = -1;

	r = db_query(db, "SELECT count(DISTINCT warehouse_name) FROM inventory "
	    "WHERE data_source = 'api' AND (available > 0 OR reserved > 0 OR "
	    "promised_amount > 0)", 0, NULL, err, sizeof err);
	if (r) {
		n = atoll(PQgetvalue(r, 0, 0));
		PQclear(r);
	} else
		log_msg(LOG_WARN, "inventory: %s", err);
	return n;
}

/* Write the run's row; the change counts are the audit rows' own. */
static int
finish(struct pg_conn *db)
{
	char num[12][24], err[256];
	struct buf details = { NULL, 0, 0 };
	const char *params[16];
	int64_t v[] = { run.elapsed_ms, run.extracted, run.validated,
		run.normalized, run.failed, run.api_requests, run.api_failures,
		run.api_ms, run.peak_kb };
	PGresult *r;
	size_t i;

	if (strcmp(run_type, "full_sync") == 0 &&
	    strcmp(run.status, "failed") != 0 &&
	    strcmp(run.status, "cancelled") != 0)
		run.warehouses = count_warehouses(db);
	details_json(&details);
	buf_addc(&details, '\0');
	params[0] = log_batch_id();
	params[1] = run_type;
	params[2] = run.status;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		snprintf(num[i], sizeof num[i], "%lld", (long long)v[i]);
		params[3 + i] = num[i];
	}
	params[12] = *run.error ? run.error : NULL;
	params[13] = details.p;
	r = db_query(db,
	    "WITH a AS (SELECT"
	    "  count(*) FILTER (WHERE change_type = 'insert') AS i,"
	    "  count(*) FILTER (WHERE change_type = 'update') AS u,"
	    "  count(*) FILTER (WHERE change_type = 'zero') AS z"
	    "  FROM inventory_audit WHERE batch_id = $1)"
	    " INSERT INTO analytics_etl_log AS l (batch_id, run_type, status,"
	    "  started_at, finished_at, execution_time_ms, records_extracted,"
	    "  records_validated, records_normalized, records_failed,"
	    "  api_requests_made, api_requests_failed, api_time_ms,"
	    "  peak_memory_kb, records_inserted, records_updated,"
	    "  records_zeroed, error_message, details)"
	    " SELECT $1, $2, $3, now() - $4::bigint * interval '1 millisecond',"
	    "  now(), $4, $5, $6, $7, $8, $9, $10, $11, $12, a.i, a.u, a.z,"
	    "  $13, $14::jsonb FROM a"
	    " ON CONFLICT (batch_id) DO UPDATE SET status = EXCLUDED.status,"
	    "  run_type = EXCLUDED.run_type,"
	    "  finished_at = EXCLUDED.finished_at,"
	    "  execution_time_ms = (extract(epoch FROM"
	    "   EXCLUDED.finished_at - l.started_at) * 1000)::bigint,"
	    "  records_extracted = EXCLUDED.records_extracted,"
	    "  records_validated = EXCLUDED.records_validated,"
	    "  records_normalized = EXCLUDED.records_normalized,"
	    "  records_failed = EXCLUDED.records_failed,"
	    "  api_requests_made = EXCLUDED.api_requests_made,"
	    "  api_requests_failed = EXCLUDED.api_requests_failed,"
	    "  api_time_ms = EXCLUDED.api_time_ms,"
	    "  peak_memory_kb = EXCLUDED.peak_memory_kb,"
	    "  records_inserted = EXCLUDED.records_inserted,"
	    "  records_updated = EXCLUDED.records_updated,"
	    "  records_zeroed = EXCLUDED.records_zeroed,"
	    "  error_message = EXCLUDED.error_message,"
	    "  details = coalesce(l.details, '{}') || EXCLUDED.details"
	    " RETURNING execution_time_ms, records_inserted, records_updated,"
	    "  records_zeroed", 14, params, err, sizeof err);
	buf_free(&details);
	if (r == NULL) {
		log_msg(LOG_ERROR, "analytics_etl_log: %s", err);
		return EX_UNAVAILABLE;
	}
	run.exec_ms = atoll(PQgetvalue(r, 0, 0));
	run.inserted = atoll(PQgetvalue(r, 0, 1));
	run.updated = atoll(PQgetvalue(r, 0, 2));
	run.zeroed = atoll(PQgetvalue(r, 0, 3));
	PQclear(r);
	if (run.inserted != seen_insert || run.updated != seen_update ||
	    run.zeroed != seen_zero)
		log_msg(LOG_WARN, "change records on stdin (%lld/%lld/%lld) "
		    "differ from the audit rows (%lld/%lld/%lld inserted/"
		    "updated/zeroed)", (long long)seen_insert,
		    (long long)seen_update, (long long)seen_zero,
		    (long long)run.inserted, (long long)run.updated,
		    (long long)run.zeroed);
	return 0;
}

/* Every alert raised goes into the summary on stdout too. */
static void
noted(const struct alert *a, const char *delivery)
{
	if (out_json.len)
		buf_addc(&out_json, ',');
	buf_adds(&out_json, "{\"rule\":");
	buf_add_jstr(&out_json, a->rule, strlen(a->rule));
	buf_adds(&out_json, ",\"delivery\":");
	buf_add_jstr(&out_json, delivery, strlen(delivery));
	buf_addc(&out_json, '}');
}

static void
raise_alert(struct pg_conn *db, struct rds *rds, struct alert *a)
{
	alert_raise(db, rds, &cfg, a);
	alert_free(a);
}

/* A figure of the previous successful full sync, or -1. */
static int64_t
previous_full(struct pg_conn *db, const char *expr)
{
	char sql[512], err[256];
	const char *params[1] = { log_batch_id() };
	PGresult *r;
	int64_t v = -1;

	snprintf(sql, sizeof sql, "SELECT %s FROM analytics_etl_log WHERE "
	    "run_type = 'full_sync' AND status IN ('completed', "
	    "'partial_success') AND batch_id <> $1 ORDER BY started_at DESC "
	    "LIMIT 1", expr);
	if ((r = db_query(db, sql, 1, params, err, sizeof err)) == NULL)
		log_msg(LOG_WARN, "analytics_etl_log: %s", err);
	else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		v = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static void
drop_alert(struct pg_conn *db, struct rds *rds, const char *rule,
    const char *what, int64_t now, int64_t before)
{
	struct alert a;

	if (before <= 0 || now < 0 ||
	    (double)now >= (1 - cfg.drop_share) * (double)before)
		return;
	alert_init(&a, rule, "warning", run_type, "%s dropped from %lld to "
	    "%lld since the last full sync", what, (long long)before,
	    (long long)now);
	alert_fig(&a, "now", now);
	alert_fig(&a, "before", before);
	alert_figf(&a, "limit_share", cfg.drop_share);
	raise_alert(db, rds, &a);
}

/* The alert rules for a finished run (db may be NULL: it is down). */
static void
judge_alerts(struct pg_conn *db, struct rds *rds)
{
	int ok = strcmp(run.status, "completed") == 0 ||
	    strcmp(run.status, "partial_success") == 0;
	struct health h;
	struct alert a;

	if (!ok) {
		alert_init(&a, cancelled ? "run_cancelled" : "run_failed",
		    cancelled ? "warning" : "critical", run_type, "%s %s: %s",
		    run_type, run.status, run.error);
		alert_fig(&a, "records_extracted", run.extracted);
		alert_fig(&a, "api_failures", run.api_failures);
		raise_alert(db, rds, &a);
	}
	if (run.extracted > 0 && (double)run.failed >
	    cfg.reject_share * (double)run.extracted) {
		alert_init(&a, "reject_share", "warning", run_type, "%lld of "
		    "%lld records rejected (%.1f%%, limit %.1f%%)",
		    (long long)run.failed, (long long)run.extracted,
		    100.0 * (double)run.failed / (double)run.extracted,
		    100 * cfg.reject_share);
		alert_fig(&a, "rejected", run.failed);
		alert_fig(&a, "records", run.extracted);
		alert_figf(&a, "limit_share", cfg.reject_share);
		raise_alert(db, rds, &a);
	}
	if (run.api_requests > 0 && (double)run.api_failures >
	    cfg.api_failure_share * (double)run.api_requests) {
		alert_init(&a, "api_failure_share", "warning", run_type,
		    "%lld of %lld Ozon API requests failed (limit %.0f%%)",
		    (long long)run.api_failures, (long long)run.api_requests,
		    100 * cfg.api_failure_share);
		alert_fig(&a, "failed", run.api_failures);
		alert_fig(&a, "requests", run.api_requests);
		alert_figf(&a, "limit_share", cfg.api_failure_share);
		raise_alert(db, rds, &a);
	}
	if (run.exec_ms > cfg.max_duration_s * 1000) {
		alert_init(&a, "slow_run", "warning", run_type, "%s took %llds "
		    "(limit %llds)", run_type, (long long)run.exec_ms / 1000,
		    (long long)cfg.max_duration_s);
		alert_fig(&a, "duration_ms", run.exec_ms);
		raise_alert(db, rds, &a);
	}
	if (!db)
		return;
	if (ok && strcmp(run_type, "full_sync") == 0) {
		drop_alert(db, rds, "row_count_drop", "rows extracted",
		    run.extracted, previous_full(db, "records_extracted"));
		drop_alert(db, rds, "warehouse_count_drop",
		    "warehouses with stock", run.warehouses,
		    previous_full(db, "(details->>'warehouses')::bigint"));
	}
	health_check(&h, db, NULL, rds, &cfg);
	if (!ok && h.failures >= cfg.consecutive) {
		alert_init(&a, "consecutive_failures", "critical", run_type,
		    "%ld runs failed in a row; the last: %s", h.failures,
		    run.error);
		alert_fig(&a, "failures", h.failures);
		raise_alert(db, rds, &a);
	}
	if (run.circuit_open && !h.circuit_open) {
		h.circuit_open = 1;
		h.open_until = 0;
	}
	health_alerts(&h, db, rds, &cfg);
	health_free(&h);
}

static void
print_summary(int db_status)
{
	struct buf b = { NULL, 0, 0 };

	buf_adds(&b, "{\"batch_id\":");
	buf_add_jstr(&b, log_batch_id(), strlen(log_batch_id()));
	buf_adds(&b, ",\"run_type\":\"");
	buf_adds(&b, run_type);
	buf_adds(&b, "\",\"status\":\"");
	buf_adds(&b, run.status);
	buf_adds(&b, "\",\"recorded\":");
	buf_adds(&b, db_status == 0 ? "true" : "false");
	buf_adds(&b, ",\"error\":");
	if (*run.error)
		buf_add_jstr(&b, run.error, strlen(run.error));
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"records_extracted\":");
	buf_add_i64(&b, run.extracted);
	buf_adds(&b, ",\"records_failed\":");
	buf_add_i64(&b, run.failed);
	buf_adds(&b, ",\"inserted\":");
	buf_add_i64(&b, run.inserted);
	buf_adds(&b, ",\"updated\":");
	buf_add_i64(&b, run.updated);
	buf_adds(&b, ",\"zeroed\":");
	buf_add_i64(&b, run.zeroed);
	buf_adds(&b, ",\"execution_time_ms\":");
	buf_add_i64(&b, run.exec_ms);
	buf_adds(&b, ",\"alerts\":[");
	buf_add(&b, out_json.p, out_json.len);
	buf_adds(&b, "]}\n");
	(void)fwrite(b.p, 1, b.len, stdout);	/* checked at exit */
	buf_free(&b);
}

int
main(int argc, char *argv[])
{
	static char name[] = "etl-audit";
	static const struct option longopts[] = {
		{ "begin", no_argument, NULL, 'b' },
		{ "cancelled", no_argument, NULL, 'c' },
		{ "error", required_argument, NULL, 'e' },
		{ "log", required_argument, NULL, 'l' },
		{ "no-cleanup", no_argument, NULL, 'N' },
		{ "rejects", required_argument, NULL, 'r' },
		{ "stages", required_argument, NULL, 's' },
		{ "run-type", required_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct retention kept;
	struct pg_conn *db;
	struct rds rds = { NULL };
	const char *url;
	char err[512], *stage_list = NULL;
	int c, status = 0, db_status, do_begin = 0;

	argv[0] = name;
	log_init(name);
	signal(SIGPIPE, SIG_IGN);	/* a reader gone: EPIPE, said quietly */
	while ((c = getopt_long(argc, argv, "e:l:r:s:t:", longopts, NULL)) != -1)
		switch (c) {
		case 'b':
			do_begin = 1;
			break;
		case 'c':
			cancelled = 1;
			break;
		case 'e':
			pipeline_error = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'N':
			no_cleanup = 1;
			break;
		case 'r':
			rejects_path = optarg;
			break;
		case 's':
			stage_list = optarg;
			break;
		case 't':
			if ((run_type = canonical_type(optarg)) == NULL) {
				fprintf(stderr, "etl-audit: %s: not a run type\n",
				    optarg);
				usage();
			}
			break;
		case 'V':
			printf("etl-audit %s\n", ETL_VERSION);
			return 0;
		default:
			usage();
		}
	if (optind != argc || (!do_begin && !log_path))
		usage();
	if (ops_config(&cfg, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "%s", err);
		return EX_CONFIG;
	}
	if (stage_list ? parse_stages(stage_list) == -1 :
	    (set_stages(strcmp(run_type, "replay") == 0 ? load_only :
	    all_stages), 0)) {
		fprintf(stderr, "etl-audit: --stages: a comma-separated list "
		    "of at most %d tools\n", MAX_STAGES);
		usage();
	}
	if ((db = db_connect(name, &db_status, err, sizeof err)) == NULL)
		log_msg(LOG_ERROR, "database: %s", err);
	if (do_begin) {
		status = db ? begin(db) : db_status;
		db_close(db);
		return status;
	}

	/* what the run did: stdin first, so the stages are done */
	if (read_changes() == -1)
		status = EX_IOERR;
	reason_v = xmalloc(MAX_REASONS * sizeof *reason_v);
	read_lines(log_path, log_line);
	if (rejects_path)
		read_lines(rejects_path, reject_line);
	run.warehouses = -1;
	judge();
	/* until the audit rows say otherwise */
	run.inserted = seen_insert;
	run.updated = seen_update;
	run.zeroed = seen_zero;
	run.exec_ms = run.elapsed_ms;
	alert_hook = noted;

	if ((url = env_str("REDIS_URL", NULL)) != NULL &&
	    rds_open(&rds, url, 1000, err, sizeof err) == -1)
		log_msg(LOG_WARN, "redis: %s", err);
	/*
	 * A row that could not be written is 69; the alerts, the metrics and
	 * retention still use the connection while it answers.
	 */
	if (db && finish(db) != 0)
		db_status = EX_UNAVAILABLE;
	judge_alerts(db, url ? &rds : NULL);
	if (cfg.metrics_file && metrics_write(db, cfg.metrics_file, err,
	    sizeof err) == -1)
		log_msg(LOG_WARN, "metrics: %s", err);
	if (db && !no_cleanup) {
		if (retention_run(db, &cfg, &kept, err, sizeof err) == -1)
			log_msg(LOG_WARN, "retention: %s", err);
		else if (kept.audit + kept.runs + kept.alerts + kept.dirs) {
			log_begin(LOG_INFO, "retention");
			log_int("audit_rows", kept.audit);
			log_int("runs", kept.runs);
			log_int("alerts", kept.alerts);
			log_int("run_dirs", kept.dirs);
			log_end();
		}
	}
	print_summary(db_status);
	if (!status)
		status = db_status;
	if (fflush(stdout) == EOF && errno != EPIPE) {
		log_msg(LOG_ERROR, "stdout: %s", strerror(errno));
		status = EX_IOERR;
	}

	log_begin(LOG_INFO, "summary");
	log_str("run_type", run_type, strlen(run_type));
	log_str("status", run.status, strlen(run.status));
	log_int("in", seen_insert + seen_update + seen_zero + seen_bad);
	log_int("records_extracted", run.extracted);
	log_int("records_failed", run.failed);
	log_int("inserted", run.inserted);
	log_int("updated", run.updated);
	log_int("zeroed", run.zeroed);
	log_bool("recorded", db_status == 0);
	log_end_summary(status);
	db_close(db);
	rds_close(&rds);
	ht_free(&reasons);
	while (nreasons)
		free((char *)reason_v[--nreasons].key);
	free(reason_v);
	for (c = 0; c < nstages; c++)
		buf_free(&stages[c].summary);
	buf_free(&out_json);
	return status;
}
