/*
 * ozon-etl: the library shared by the filters.
 *
 * The library never prints and never exits (the x allocators aside): it
 * returns -1 or NULL and fills an error buffer the caller owns.  The tool
 * decides what to say and which exit code follows.
 */
#ifndef OZON_ETL_H
#define OZON_ETL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sysexits.h>

#define ETL_VERSION "0.1.0"

/* Default longest input line, in bytes (ETL_MAX_LINE_BYTES, --max-line). */
#define ND_MAX_LINE_DEFAULT (1024 * 1024)
/* Deepest nesting a record may have; deeper is rejected. */
#define REC_MAX_DEPTH 64

/* ---- lib/xmalloc.c: allocators that die on failure (exit 71) ---- */
void *xmalloc(size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xmemdup(const char *, size_t);

/* ---- lib/buf.c: a growable byte buffer ---- */
struct buf {
	char *p;
	size_t len, cap;
};

/* Make room for n more bytes (dies when out of memory). */
void buf_grow(struct buf *, size_t n);
void buf_free(struct buf *);

static inline void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;		/* p may be an empty buffer's NULL */
	if (b->cap - b->len < n)
		buf_grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void
buf_addc(struct buf *b, char c)
{
	if (b->cap == b->len)
		buf_grow(b, 1);
	b->p[b->len++] = c;
}

static inline void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Append s (n bytes, any content) as a JSON string, quotes included. */
void buf_add_jstr(struct buf *, const char *s, size_t n);
/* Append a decimal integer. */
void buf_add_i64(struct buf *, int64_t);
/* Append n bytes as standard base64. */
void buf_add_base64(struct buf *, const unsigned char *, size_t n);

/* ---- lib/utf8.c ---- */

/*
 * Check that s[0..n) is strict UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) and, when json is set, that its \u escapes
 * neither encode U+0000 nor leave a surrogate unpaired.  Returns 0, or -1
 * with a reason in err.
 */
int utf8_check(const char *s, size_t n, int json, char *err, size_t errlen);
/* Decode one code point at s (n > 0, valid UTF-8); store its length. */
uint32_t utf8_decode(const char *s, size_t n, size_t *len);
/* Encode cp at out (room for 4 bytes); return its length. */
size_t utf8_encode(uint32_t cp, char *out);
/*
 * The length of the longest prefix of s[0..n) that does not end inside a
 * character: for text cut at a byte limit (s valid UTF-8 before the cut).
 */
size_t utf8_cut(const char *s, size_t n);
/* Number of code points in valid UTF-8 s[0..n). */
size_t utf8_count(const char *s, size_t n);
/* Simple Unicode upper case of one code point (lib/casemap.c). */
uint32_t uc_upper(uint32_t cp);

/* ---- lib/ndjson.c: the line reader ---- */
struct nd_reader {
	int fd;
	const char *name;	/* "<stdin>" or a file name, for messages */
	char *buf;
	size_t cap, off, end;	/* unread bytes are buf[off..end) */
	size_t max_line;
	unsigned long lineno;	/* of the line last returned */
	int eof;
	int err;		/* errno of a failed read */
};

struct nd_line {
	const char *p;		/* the line, without its '\n' */
	size_t len;		/* for ND_TOOLONG: the bytes kept (a prefix) */
	size_t total;		/* the whole length, also for ND_TOOLONG */
	unsigned long lineno;
};

enum { ND_EOF, ND_LINE, ND_TOOLONG, ND_ERROR };

/* Read from fd; lines longer than max_line are reported, never split. */
void nd_init(struct nd_reader *, int fd, const char *name, size_t max_line);
/*
 * Next line: ND_LINE, ND_TOOLONG (the line was skipped whole; l->p holds
 * a prefix of it), ND_EOF, or ND_ERROR (read failed, errno in r->err).
 * A last line without '\n' is a line.  l->p stays valid until the next
 * call.
 */
int nd_next(struct nd_reader *, struct nd_line *l);
void nd_free(struct nd_reader *);

/* ---- lib/jsonw.c: compact JSON from parser events ---- */
struct jw {
	struct buf *b;
	int depth;		/* containers open */
	int after_key;		/* a key was just written */
	uint64_t comma;		/* bit d-1: depth d has a member already */
};

/* Write into b (appending). */
void jw_init(struct jw *, struct buf *b);
/* A scalar: J_STRING bytes are escaped, J_NUMBER text is copied. */
void jw_value(struct jw *, int type, const char *s, size_t n);
void jw_key(struct jw *, const char *k, size_t n);
/* Open '{' or '['; -1 past 64 levels. */
int jw_open(struct jw *, char c);
/* Close with '}' or ']'; returns the depth left. */
int jw_close(struct jw *, char c);

/* ---- lib/record.c: one JSON object, parsed and re-emitted exactly ---- */
enum { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_RAW };

/*
 * A top-level field.  Keys and J_STRING values are unescaped bytes;
 * J_NUMBER is the number's text as sent (full precision); J_RAW is a
 * nested object or array as compact JSON.  Offsets point into the
 * record's store: use rec_key() and rec_val().
 */
struct field {
	size_t koff, klen;
	size_t voff, vlen;
	int type;
};

struct record {
	struct field *f;
	size_t n, cap;
	struct buf store;
	void *yajl;		/* the parser, reused line after line */
	/* parse state */
	int depth;		/* containers open */
	int values;		/* top-level values seen on the line */
	size_t end;		/* the offset just past the line's value */
	struct jw raw;		/* writes a nested value into store */
	char err[256];
};

void rec_init(struct record *);
void rec_free(struct record *);
/*
 * Parse one line into r.  Returns 0, or -1 with r->err set (not JSON,
 * not an object, invalid UTF-8, NUL escape, duplicate key, too deep).
 */
int rec_parse(struct record *r, const char *line, size_t len);
/* Index of the field named key, or -1. */
int rec_find(const struct record *, const char *key);

static inline const char *
rec_key(const struct record *r, size_t i)
{
	return r->store.p + r->f[i].koff;
}

static inline const char *
rec_val(const struct record *r, size_t i)
{
	return r->store.p + r->f[i].voff;
}

static inline int
rec_keyis(const struct record *r, size_t i, const char *key, size_t klen)
{
	return r->f[i].klen == klen && memcmp(rec_key(r, i), key, klen) == 0;
}

/*
 * Set field key to a value of the given type (for J_NUMBER and J_RAW the
 * text is JSON).  An existing field keeps its place; a new one is added
 * at the end.  v may point into the record itself (another field's value).
 */
void rec_set(struct record *, const char *key, int type, const char *v,
    size_t vlen);
/* Append r as one compact JSON line, '\n' included. */
void rec_emit(const struct record *, struct buf *out);

/* ---- lib/num.c ---- */

/*
 * Parse a JSON number's text as an int64.  Returns 0; -1 when it is not an
 * integer (fraction or exponent); -2 when it does not fit in int64.
 */
int num_i64(const char *s, size_t n, int64_t *v);

/* ---- lib/out.c: buffered writers for stdout and the reject stream ---- */
struct out {
	int fd;
	struct buf b;
	int err;		/* errno of the first failed write, or 0 */
};

/* Buffer writes to fd; ignores SIGXFSZ, so that a full file is an error. */
void out_init(struct out *, int fd);
/* Flush when the buffer holds a lot; call after each whole line. */
int out_maybe_flush(struct out *);
/* Write everything buffered.  Returns 0 or -1 (o->err set). */
int out_flush(struct out *);
/* Flush, then write p[0..len) straight out, unbuffered. */
int out_write(struct out *, const char *p, size_t len);
/*
 * End a tool's output: flush and free o (stdout) and flush the reject
 * stream.  Returns status, or 74 when a write failed (logged); a reader
 * of stdout that went away (EPIPE) is not a failure.
 */
int out_close(struct out *, int status);
void out_free(struct out *);

/* ---- lib/log.c: structured log lines on stderr ---- */
enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Read ETL_LOG_FORMAT and ETL_BATCH_ID, remember the start time. */
void log_init(const char *tool);
const char *log_tool(void);
const char *log_batch_id(void);
/* One message: event "error"/"warning"/"info", text "tool: message". */
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An event with fields: log_begin, log_str/log_int…, log_end. */
void log_begin(int level, const char *event);
void log_str(const char *key, const char *s, size_t n);
void log_int(const char *key, int64_t v);
void log_bool(const char *key, int v);
void log_end(void);
/* Add elapsed_ms, max_rss_kb and exit to an event begun as "summary". */
void log_end_summary(int status);
int64_t log_elapsed_ms(void);

/* ---- lib/reject.c: the reject stream (fd 3, else stderr) ---- */

/* Open the reject stream: fd 3 when open for writing, else stderr. */
void rej_init(void);
/* Reject a parsed record. */
void rej_record(unsigned long line, const char *reason, const char *field,
    const struct record *);
/* Reject a line kept as text; total is the whole length when truncated. */
void rej_raw(unsigned long line, const char *reason, const char *field,
    const char *s, size_t n, size_t total);
/* Flush the stream.  Returns 0 or -1. */
int rej_flush(void);
/* Has a write to the reject stream failed? */
int rej_failed(void);
unsigned long rej_count(void);

/* ---- lib/config.c: environment, limits, exit ---- */

/* getenv, with a default for unset or empty. */
const char *env_str(const char *name, const char *dflt);
/*
 * Parse a non-negative integer option value in [min, max].  Returns 0,
 * or -1 with a message in err.
 */
int parse_count(const char *s, int64_t min, int64_t max, int64_t *v,
    char *err, size_t errlen);

/* --max-rejects N or P% */
struct limit {
	int set;
	int pct;		/* value is a percentage */
	double value;
};

int limit_parse(struct limit *, const char *s, char *err, size_t errlen);
/* Is rejected out of total past the limit? */
int limit_exceeded(const struct limit *, unsigned long rejected,
    unsigned long total);

/* A duration: N seconds, or N followed by s, m, h or d. */
int parse_duration(const char *s, int64_t *secs, char *err, size_t errlen);
/* A share: a fraction from 0 to 1, or P%. */
int parse_share(const char *s, double *v, char *err, size_t errlen);

/* ---- lib/file.c ---- */

/*
 * Replace path with p[0..n), mode as given: written to path.tmp, synced,
 * renamed over path.  Returns 0, or -1 with err set (path unchanged).
 */
int write_atomic(const char *path, const char *p, size_t n, int mode,
    char *err, size_t errlen);

/* ---- lib/htab.c: string-keyed hash table (keys owned by the caller) ---- */
struct hent {
	const char *key;
	size_t klen;
	uint64_t hash;
	void *val;
};

struct htab {
	struct hent *v;
	size_t cap, n;
};

/* The value stored under k, or NULL. */
void *ht_get(const struct htab *, const char *k, size_t n);
/* Store val under k unless k is there; returns k's entry either way. */
struct hent *ht_put(struct htab *, const char *k, size_t n, void *val);
void ht_free(struct htab *);

/* ---- lib/canon.c: canonical warehouse names ---- */

/*
 * The canonical form of warehouse name s into out (replacing its
 * content): Unicode upper case; white space, dashes and '_' runs become
 * one '_', none at the ends; long forms ("РЕГИОНАЛЬНЫЙ ФУЛФИЛМЕНТ
 * ЦЕНТР") become abbreviations (РФЦ); "Склад X" becomes X and "РФЦ X"
 * becomes X_РФЦ.  s must be valid UTF-8.  Empty when nothing is left.
 */
void wh_canon(const char *s, size_t n, struct buf *out);
/* Is s[0..n) a warehouse type word (РФЦ, МРФЦ, ФЦ, РЦ, СЦ)? */
int wh_is_type(const char *s, size_t n);
/* The i-th type word, or NULL past the last. */
const char *wh_type(size_t i);

/* ---- lib/mapping.c: the warehouse mapping ---- */
struct wh_entry {
	char *original, *normalized;
	char *cluster, *code;	/* NULL when unknown */
};

struct mapping {
	struct wh_entry *e;
	size_t n, cap;
	struct htab exact;	/* original name -> entry */
	struct htab canon;	/* canonical form -> entry, or &ambiguous */
	char **keys;		/* the canonical keys, owned */
	size_t nkeys;
	unsigned long conflicts;	/* canonical forms with two targets */
};

enum { MATCH_EXACT, MATCH_RULE, MATCH_AUTO };

/*
 * Load a mapping file (TSV: original, normalized, cluster, code; '#'
 * comments).  Returns 0, or -1 with "line N: ..." or errno's text in err.
 */
int map_load(struct mapping *, const char *path, char *err, size_t errlen);
/*
 * The same from text in memory (changed in place).  With first_wins, a
 * spelling given twice keeps its first warehouse instead of failing.
 */
int map_parse(struct mapping *, char *text, size_t len, int first_wins,
    char *err, size_t errlen);
/*
 * Look name up: returns the entry and sets *match (MATCH_EXACT or
 * MATCH_RULE), or returns NULL (unknown: its canonical form is in canon).
 * canon is scratch the caller owns.
 */
const struct wh_entry *map_lookup(const struct mapping *, const char *name,
    size_t n, struct buf *canon, int *match);
void map_free(struct mapping *);

/* ---- lib/ozon.c: the Ozon endpoints ---- */
struct ozon_query {
	long limit, offset;
	const char *warehouse_type;
};

/* One page of an answer, parsed. */
struct ozon_page {
	struct buf rows;	/* the object rows, one compact line each */
	struct buf bad;		/* rows that are not objects, one per line */
	size_t *bad_at;		/* their places in the page, from 0 */
	struct buf message;	/* an error answer's "message" */
	size_t nrows;		/* all rows, bad ones included */
	size_t nbad, bad_cap;
	int has_rows;		/* the answer had its rows array */
};

/* An endpoint: everything in ozon-extract that differs between them. */
struct ozon_endpoint {
	const char *name;	/* as --endpoint takes it */
	const char *path;	/* below OZON_API_URL */
	const char *result_key, *rows_key;	/* {"result":{"rows":[…]}} */
	/* The request body for q, into b (replacing its content). */
	void (*body)(const struct ozon_query *q, struct buf *b);
	/* After a page of rows rows: 1 and q moved on, or 0 at the end. */
	int (*next)(struct ozon_query *q, size_t rows);
};

extern const struct ozon_endpoint ozon_endpoints[];	/* NULL-ended */
/* The endpoint of that name, or NULL. */
const struct ozon_endpoint *ozon_endpoint(const char *name);
/*
 * Parse an answer body into pg (replacing its content).  Returns 0, or -1
 * with err set when the body is not JSON or has no rows array (an error
 * answer's message is still in pg->message).
 */
int ozon_parse(const struct ozon_endpoint *, const char *body, size_t n,
    struct ozon_page *pg, char *err, size_t errlen);
void ozon_page_free(struct ozon_page *);

/* ---- lib/redis.c: optional Redis (hiredis) ---- */
struct redisContext;

struct rds {
	struct redisContext *c;	/* NULL: no Redis (never had it, or lost) */
};

/*
 * Connect to url: redis://[:password@]host[:port][/db] or
 * unix:///path[?db=N].  Returns 0, or -1 with err set (never showing the
 * password); r->c is NULL then.
 */
int rds_open(struct rds *, const char *url, int timeout_ms, char *err,
    size_t errlen);
/*
 * A command (hiredis format).  Returns the reply (freeReplyObject it), or
 * NULL when there is no connection (r NULL, or never connected) or the command failed: then a
 * warning is logged once and the connection is dropped for good.
 */
void *rds_cmd(struct rds *, const char *fmt, ...);
void rds_close(struct rds *);

/* ---- lib/ratelimit.c: requests per second per Client-Id ---- */
struct ratelimit {
	int64_t interval_us;	/* between two requests; 0: no limit */
	int64_t tat;		/* without Redis: the next free slot */
	struct rds *rds;
	char key[160];
};

/* rate requests per second (0: off), shared through r when it is up. */
void rl_init(struct ratelimit *, double rate, struct rds *r,
    const char *client_id);
/* Wait for this request's slot; returns the microseconds waited. */
int64_t rl_wait(struct ratelimit *);
/* Sleep that long, through signals. */
void sleep_us(int64_t us);

/* ---- lib/circuit.c: the circuit breaker ---- */
enum { CB_CLOSED, CB_OPEN, CB_PROBE };

struct circuit {
	int threshold;		/* failures in a row that open it */
	int cooldown_s;
	int failures;
	long long open_until;	/* unix time; 0: closed */
	int probing;		/* this request decides */
	int warned;
	struct rds *rds;
	char key[160];
	char path[4096];	/* the state file without Redis, or "" */
};

/* Load the state: from Redis when r is up, else from state_dir. */
void cb_init(struct circuit *, int threshold, int cooldown_s, struct rds *r,
    const char *state_dir, const char *client_id);
/* CB_CLOSED, CB_OPEN (do not call) or CB_PROBE (one request decides). */
int cb_allow(struct circuit *);
void cb_success(struct circuit *);
/* A failed request; returns 1 when it opened the circuit. */
int cb_failure(struct circuit *);
/* Open now ("Circle is open"). */
void cb_trip(struct circuit *);

/* ---- lib/http.c: one kept-alive HTTP connection (libcurl) ---- */
struct http_opts {
	const char *client_id, *api_key;
	long connect_timeout_ms, timeout_ms;
	long low_speed_bytes, low_speed_s;	/* slower for that long: fail */
};

struct http {
	void *curl, *multi;
	struct curl_slist *hdr;
	struct buf body;	/* the last answer, decoded */
	struct buf next;	/* the answer coming in */
	int busy;		/* a request is in flight */
	long status;		/* the last answer's HTTP status */
	long retry_after_s;	/* its Retry-After in seconds, or -1 */
	long connections;	/* opened so far: 1 when keep-alive held */
	char err[256];		/* the last transport error */
};

/* Set up the handle and headers.  Returns 0, or -1 with err set. */
int http_init(struct http *, const struct http_opts *, char *err,
    size_t errlen);
/*
 * Send a POST of body to url and return without waiting for the answer;
 * h->body keeps the last answer meanwhile.  One request at a time.
 */
void http_send(struct http *, const char *url, const char *body, size_t n);
/*
 * Wait for the request in flight.  Returns 0 with h->status and h->body
 * set whatever the status, or -1 with h->err set when no answer came
 * (connection, timeout, reset, truncated body).
 */
int http_wait(struct http *);
/* http_send and http_wait. */
int http_post(struct http *, const char *url, const char *body, size_t n);
/* Drop the request in flight, if any. */
void http_cancel(struct http *);
void http_free(struct http *);

/* ---- lib/db.c: PostgreSQL (libpq) ---- */
struct pg_conn;		/* a PGconn */

/*
 * Connect from ETL_DATABASE_URL (a URI or conninfo; empty: libpq's PG*
 * variables), named tool, with ETL_STATEMENT_TIMEOUT (10min) and
 * ETL_LOCK_TIMEOUT (30s).  Returns the connection, or NULL with the
 * reason in err (never the URL) and *status 69 (unreachable) or 78 (bad
 * configuration).
 */
struct pg_conn *db_connect(const char *tool, int *status, char *err,
    size_t errlen);
/* Run SQL that returns nothing of interest.  0, or -1 with err set. */
int db_exec(struct pg_conn *, const char *sql, char *err, size_t errlen);
void db_close(struct pg_conn *);

/* Run a query with text parameters: the result (PQclear it), or NULL with
 * err set.  A struct pg_result is libpq's PGresult. */
struct pg_result *db_query(struct pg_conn *, const char *sql, int nparams,
    const char *const *params, char *err, size_t errlen);

/* ---- lib/ops.c: thresholds and alerts (etl-audit, etl-ctl) ---- */
struct ops_config {
	const char *state_dir;		/* ETL_STATE_DIR */
	const char *alert_cmd;		/* ETL_ALERT_CMD, or NULL */
	const char *metrics_file;	/* ETL_METRICS_FILE, or NULL */
	int consecutive;		/* failures in a row that alert */
	int64_t fresh_full_s, fresh_incr_s;	/* freshness SLAs */
	int64_t stuck_s;		/* "running" this long: stuck */
	int64_t max_duration_s;		/* a run longer: alert */
	int64_t throttle_s;		/* one rule at most once per window */
	int64_t alert_timeout_s;	/* ETL_ALERT_CMD is killed after */
	int64_t keep_audit_s, keep_runs_s, keep_dirs_s;	/* 0: forever */
	double reject_share, api_failure_share, drop_share;
};

/* Read the ETL_* thresholds.  Returns 0, or -1 with err set. */
int ops_config(struct ops_config *, char *err, size_t errlen);

struct alert {
	const char *rule;	/* snake_case */
	const char *severity;	/* info, warning, critical */
	const char *run_type;	/* or NULL */
	const char *batch_id;	/* NULL: this process's */
	char message[1024];
	struct buf figures;	/* JSON members "k":v, without braces */
};

void alert_init(struct alert *, const char *rule, const char *severity,
    const char *run_type, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void alert_fig(struct alert *, const char *key, int64_t v);
void alert_figf(struct alert *, const char *key, double v);
void alert_figs(struct alert *, const char *key, const char *s);
void alert_free(struct alert *);
/*
 * Raise an alert: unless its rule was raised within the throttle window
 * (kept in etl_alert when db is up, else in Redis when r is up), hand it
 * to ETL_ALERT_CMD; always log it.  db and r may be NULL.  Returns the
 * delivery: "sent", "failed", "throttled" or "logged" (no command).
 */
const char *alert_raise(struct pg_conn *db, struct rds *r,
    const struct ops_config *, struct alert *);
/* Called with every alert raised, after it was handled (or NULL). */
extern void (*alert_hook)(const struct alert *, const char *delivery);

/* ---- lib/runs.c: health, metrics and retention (libpq) ---- */
enum { HEALTHY, DEGRADED, UNHEALTHY };

struct health {
	int level;		/* the worst finding */
	int db_up;
	int redis;		/* -1 not configured, 0 down, 1 up */
	int circuit_open;
	long long open_until;
	/* ages in seconds, -1: never */
	int64_t full_age_s, any_age_s;
	long stuck;		/* runs "running" past ETL_STUCK_AFTER */
	char stuck_batch[64];	/* the oldest of them */
	long failures;		/* failed runs since the last success */
	char last_batch[64], last_type[32], last_status[32];
	char last_error[512];
	int64_t last_age_s;
	struct buf findings;	/* JSON objects {check, level, message} */
	struct buf messages;	/* their messages, each '\0'-terminated */
};

/*
 * Check what etl-ctl health reports: the database (db NULL: down, with
 * db_err), Redis, the runs, freshness against the SLAs, the circuit.
 */
void health_check(struct health *, struct pg_conn *db, const char *db_err,
    struct rds *r, const struct ops_config *);
void health_free(struct health *);
/* Raise the alerts a health check implies (stale data, stuck runs...). */
void health_alerts(const struct health *, struct pg_conn *db,
    struct rds *r, const struct ops_config *);

/* Prometheus text for the runs (db NULL: database down). */
void metrics_text(struct pg_conn *db, struct buf *out);
/* Write it to path atomically (temp file, rename).  0, or -1 and err. */
int metrics_write(struct pg_conn *db, const char *path, char *err,
    size_t errlen);

/*
 * Finish the rows of runs this host recorded as "running" whose pipeline
 * process is gone (killed, or the database was down when etl-audit
 * finished): with the status and error of the run folder's summary.json
 * when there is one, else as failed.  Returns the rows finished, or -1
 * with err set.
 */
long runs_reconcile(struct pg_conn *db, const char *state_dir, char *err,
    size_t errlen);

struct retention {
	long long audit, runs, alerts, dirs;	/* removed */
};

/*
 * Remove audit rows, run rows and alerts, and run folders under
 * state_dir/runs, older than the configured ages.  0, or -1 and err.
 */
int retention_run(struct pg_conn *db, const struct ops_config *,
    struct retention *, char *err, size_t errlen);

/* ---- lib/filter.c: the loop every NDJSON filter runs ---- */
struct filter {
	size_t max_line;	/* longest line accepted */
	struct limit max_rejects;
	int strict;		/* any reject means 65 */
	/*
	 * Called for each parsed record: return 1 to pass it on (the loop
	 * writes it), 0 when fn rejected it with rej_record().
	 */
	int (*fn)(struct record *, unsigned long line, void *arg);
	void *arg;
	/* counters for the summary */
	unsigned long in, out, rejected, blank;
};

/*
 * Set up a filter: ignore SIGPIPE (so writes see EPIPE), open stdout's
 * buffer and the reject stream, take ETL_MAX_LINE_BYTES.  Returns 0, or
 * -1 with err set when the environment holds a bad value.
 */
int filter_init(struct filter *, char *err, size_t errlen);
/*
 * Apply an option every filter has: "max-line" (bytes) or "max-rejects"
 * (N or P%).  Returns 0, or -1 with err set.
 */
int filter_opt(struct filter *, const char *name, const char *arg,
    char *err, size_t errlen);
/*
 * Read NDJSON on stdin until EOF or until stdout's reader goes away.
 * Returns the exit status: 0, 65 past the reject limit, 74 when stdin or
 * stdout failed.  Logs the summary's common counters, begun as
 * log_begin(LOG_INFO, "summary"), then extra(arg) adds the tool's own,
 * and the summary is closed with its status.
 */
int filter_run(struct filter *, void (*extra)(void *));

enum { LINE_OK, LINE_BLANK, LINE_REJECTED };
/*
 * What every tool does with a line nd_next() returned (st): an over-long
 * one is rejected (LINE_REJECTED, with rej_raw); a byte order mark at the
 * start of line 1 is skipped with a warning; a blank line is LINE_BLANK.
 * Else LINE_OK and the record's text in *p, *n.
 */
int line_take(const struct nd_line *, int st, size_t max_line,
    const char **p, size_t *n);
/* ETL_MAX_LINE_BYTES, or the default.  Returns 0, or -1 with err set. */
int max_line_env(size_t *max_line, char *err, size_t errlen);
/*
 * A filter that cannot start (bad configuration, no mapping): log an
 * empty summary with status, so that the run log still tells, and
 * return status.
 */
int filter_abort(int status);

#endif
