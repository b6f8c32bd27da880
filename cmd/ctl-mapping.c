/*
 * etl-ctl mapping: the operator's side of warehouse_normalization.  list
 * and review show the mappings and the names waiting for a decision;
 * add, confirm and import write manual mappings and then bump the
 * mapping version in Redis, so that every etl-normalize reads them at
 * once; export writes the file etl-normalize -m reads.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "ozon-etl.h"
#include "ctl.h"

#define NAME_MAX_CHARS	255	/* as inventory.warehouse_name allows */
/* etl-normalize's cache: + "version", or + a version */
#define MAPPING_KEY	"ozon-etl:mapping:"

/* A timestamp for people (the session's time zone) and for JSON (UTC). */
#define LOCAL(col)	"to_char(" col ", 'YYYY-MM-DD HH24:MI')"
#define ISO(col)	"to_char(" col " AT TIME ZONE 'UTC', " \
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

struct sub {
	const char *name;
	int (*fn)(int, char **);
	const char *args;
};

/* What add, confirm and import did. */
struct counts {
	long long added, updated, unchanged, reviewed;
};

/* A row of PostgreSQL's answer as a JSON member. */
struct jcol {
	const char *key;
	int col;
	char type;		/* 's' string, 'n' number, 'b' boolean */
};

/* An aligned table for people. */
struct table {
	char **cell;		/* row after row, owned */
	size_t n, cap, cols;
};

static int m_list(int, char **);
static int m_add(int, char **);
static int m_confirm(int, char **);
static int m_import(int, char **);
static int m_export(int, char **);
static int m_review(int, char **);

static const struct sub subs[] = {
	{ "list", m_list,
	    "[--json] [--all] [--source seed|manual|auto_detected]" },
	{ "add", m_add, "ORIGINAL NORMALIZED [CLUSTER [CODE]]" },
	{ "confirm", m_confirm, "ORIGINAL" },
	{ "import", m_import, "FILE|-" },
	{ "export", m_export, "" },
	{ "review", m_review, "[--json]" },
	{ NULL, NULL, NULL }
};

static const struct sub *cur;	/* the subcommand running */
static char cmd[32];		/* "mapping add", for messages */
static char prog[48];		/* "etl-ctl mapping add", for getopt's */
static struct buf ob;		/* stdout, not written yet */
static int out_err;		/* errno of the first failed write */
static PGconn *pg;

/*
 * Insert or update manual mappings from four parallel arrays, and retire
 * the auto_detected rows of the same names: an operator has decided on
 * them.  Rows already as wanted are not rewritten.
 */
static const char upsert_sql[] =
    "WITH v AS ("
    "  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
    "   AS v (original_name, normalized_name, cluster_name, warehouse_code)"
    "), up AS ("
    "  INSERT INTO warehouse_normalization AS w (original_name,"
    "   normalized_name, cluster_name, warehouse_code, source_type,"
    "   confidence, is_active)"
    "  SELECT original_name, normalized_name, cluster_name, warehouse_code,"
    "   'manual', 1.0, true FROM v"
    "  ON CONFLICT (original_name, source_type) DO UPDATE SET"
    "   normalized_name = EXCLUDED.normalized_name,"
    "   cluster_name = EXCLUDED.cluster_name,"
    "   warehouse_code = EXCLUDED.warehouse_code,"
    "   confidence = 1.0, is_active = true, updated_at = now()"
    "  WHERE (w.normalized_name, w.cluster_name, w.warehouse_code,"
    "   w.confidence, w.is_active) IS DISTINCT FROM"
    "   (EXCLUDED.normalized_name, EXCLUDED.cluster_name,"
    "   EXCLUDED.warehouse_code, 1.0, true)"
    "  RETURNING xmax = 0 AS inserted"
    "), retired AS ("
    "  UPDATE warehouse_normalization a SET is_active = false,"
    "   updated_at = now() FROM v"
    "  WHERE a.original_name = v.original_name"
    "   AND a.source_type = 'auto_detected' AND a.is_active"
    "  RETURNING 1"
    ") SELECT (SELECT count(*) FROM v),"
    " (SELECT count(*) FROM up WHERE inserted),"
    " (SELECT count(*) FROM up WHERE NOT inserted),"
    " (SELECT count(*) FROM retired)";

static const char list_sql[] =
    "SELECT original_name, normalized_name, cluster_name, warehouse_code,"
    " source_type, confidence, is_active, seen_count, "
    LOCAL("last_seen_at") ", " ISO("first_seen_at") ", "
    ISO("last_seen_at") ", " ISO("created_at") ", " ISO("updated_at")
    " FROM warehouse_normalization"
    " WHERE (is_active OR $1::boolean)"
    " AND ($2::text IS NULL OR source_type = $2)"
    " ORDER BY normalized_name, original_name, source_type";

static const struct jcol list_json[] = {
	{ "original", 0, 's' }, { "normalized", 1, 's' },
	{ "cluster", 2, 's' }, { "code", 3, 's' }, { "source", 4, 's' },
	{ "confidence", 5, 'n' }, { "active", 6, 'b' },
	{ "seen_count", 7, 'n' }, { "first_seen_at", 9, 's' },
	{ "last_seen_at", 10, 's' }, { "created_at", 11, 's' },
	{ "updated_at", 12, 's' }, { NULL, 0, 0 }
};

static const char review_sql[] =
    "SELECT original_name, normalized_name, cluster_name, warehouse_code,"
    " seen_count, " LOCAL("first_seen_at") ", " LOCAL("last_seen_at") ", "
    ISO("first_seen_at") ", " ISO("last_seen_at")
    " FROM warehouse_normalization"
    " WHERE source_type = 'auto_detected' AND is_active"
    " ORDER BY seen_count DESC, last_seen_at DESC NULLS LAST, original_name";

static const struct jcol review_json[] = {
	{ "original", 0, 's' }, { "suggested", 1, 's' },
	{ "cluster", 2, 's' }, { "code", 3, 's' }, { "seen_count", 4, 'n' },
	{ "first_seen_at", 7, 's' }, { "last_seen_at", 8, 's' },
	{ NULL, 0, 0 }
};

/* What etl-normalize reads: manual before seed for one spelling. */
static const char export_sql[] =
    "SELECT id, original_name, normalized_name, cluster_name,"
    " warehouse_code, source_type FROM ("
    "  SELECT DISTINCT ON (original_name) * FROM warehouse_normalization"
    "  WHERE is_active AND source_type IN ('manual', 'seed')"
    "  ORDER BY original_name, source_type <> 'manual'"
    " ) w ORDER BY normalized_name, original_name";

static const char confirm_sql[] =
    "SELECT normalized_name, cluster_name, warehouse_code, is_active"
    " FROM warehouse_normalization"
    " WHERE original_name = $1 AND source_type = 'auto_detected'"
    " FOR UPDATE";

/*
 * Write what ob holds to stdout, remembering the first error.  (lib/out.c
 * would do, but its out_close brings the reject stream and yajl along.)
 */
static void
flush_out(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < ob.len && out_err == 0) {
		n = write(1, ob.p + off, ob.len - off);
		if (n == -1 && errno != EINTR)
			out_err = errno;
		else if (n > 0)
			off += (size_t)n;
	}
	ob.len = 0;
}

static void
maybe_flush(void)
{
	if (ob.len >= 64 * 1024)
		flush_out();
}

static void
usage(const struct sub *only)
{
	const struct sub *s;
	const char *lead = "usage:";

	for (s = subs; s->name; s++)
		if (only == NULL || only == s) {
			fprintf(stderr, "%s etl-ctl mapping %s%s%s\n", lead,
			    s->name, *s->args ? " " : "", s->args);
			lead = "      ";
		}
	exit(EX_USAGE);
}

/* Take "--" and refuse options: returns the index of the first operand. */
static int
operands(int argc, char *argv[])
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };

	optind = 1;
	if (getopt_long(argc, argv, "+", none, NULL) != -1)
		usage(cur);
	return optind;
}

/*
 * Log a failed statement as "what: message" and return the exit status
 * it stands for: 69 when the connection is gone, 75 when a lock or the
 * statement timed out or a deadlock was broken, 78 when the table is
 * missing, else 70.
 */
static int
failed(const char *what, const PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	if (msg == NULL)
		msg = PQerrorMessage(pg);
	if (state && strcmp(state, "42P01") == 0) {
		log_msg(LOG_ERROR, "%s: %s: %.*s (run etl-ctl migrate)", cmd,
		    what, (int)strcspn(msg, "\n"), msg);
		return EX_CONFIG;
	}
	log_msg(LOG_ERROR, "%s: %s: %.*s", cmd, what, (int)strcspn(msg, "\n"),
	    msg);
	if (PQstatus(pg) != CONNECTION_OK)
		return EX_UNAVAILABLE;
	if (state && (strcmp(state, "55P03") == 0 ||
	    strcmp(state, "57014") == 0 || strncmp(state, "40", 2) == 0))
		return EX_TEMPFAIL;
	return EX_SOFTWARE;
}

/* Run sql with n text parameters: the result, or NULL (logged, *rc set). */
static PGresult *
query(const char *sql, int n, const char *const *params, int *rc)
{
	PGresult *r;

	r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK ||
	    PQresultStatus(r) == PGRES_COMMAND_OK)
		return r;
	*rc = failed("warehouse_normalization", r);
	PQclear(r);
	return NULL;
}

static int
connect_db(void)
{
	struct pg_conn *c;
	char err[512];
	int rc;

	if ((c = db_connect("etl-ctl", &rc, err, sizeof err)) == NULL) {
		log_msg(LOG_ERROR, "%s: database: %s", cmd, err);
		return rc;
	}
	pg = (PGconn *)c;
	return 0;
}

/*
 * What is wrong with s as a name in a mapping, or NULL: it must be UTF-8
 * text of 1 to 255 characters without control characters (a tab or a
 * line break would break the mapping file's lines) or a byte order mark
 * (a file saved by a spreadsheet begins with one).
 */
static const char *
bad_name(const char *s)
{
	size_t n = strlen(s), i, len;
	char why[64];
	uint32_t cp;

	if (n == 0)
		return "empty";
	if (utf8_check(s, n, 0, why, sizeof why) == -1)
		return "not valid UTF-8";
	for (i = 0; i < n; i += len) {
		cp = utf8_decode(s + i, n - i, &len);
		if (cp == '\t')
			return "holds a tab";
		if (cp == '\n' || cp == '\r')
			return "holds a line break";
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return "holds a control character";
		if (cp == 0xfeff)
			return "holds a byte order mark (U+FEFF)";
	}
	if (utf8_count(s, n) > NAME_MAX_CHARS)
		return "longer than 255 characters";
	return NULL;
}

/* What is wrong with e as a mapping, or NULL; *field names the column. */
static const char *
bad_entry(const struct wh_entry *e, const char **field)
{
	const char *why;

	*field = "original name";
	if ((why = bad_name(e->original)))
		return why;
	if (e->original[0] == '#')
		return "begins with '#' (a comment in a mapping file)";
	*field = "normalized name";
	if ((why = bad_name(e->normalized)))
		return why;
	*field = "cluster";
	if (e->cluster && (why = bad_name(e->cluster)))
		return why;
	*field = "code";
	if (e->code && (why = bad_name(e->code)))
		return why;
	return NULL;
}

/* Append s to the PostgreSQL array literal in b ("{" so far, or more). */
static void
array_add(struct buf *b, const char *s)
{
	if (b->len > 1)
		buf_addc(b, ',');
	if (s == NULL) {
		buf_adds(b, "NULL");
		return;
	}
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

/*
 * Make e[0..n) manual mappings with one statement (see upsert_sql); the
 * originals must differ.  Returns 0 with c set, or an exit status.
 */
static int
upsert(const struct wh_entry *const *e, size_t n, struct counts *c)
{
	struct buf a[4];
	const char *params[4];
	PGresult *r;
	size_t i, k;
	int rc = 0;

	for (k = 0; k < 4; k++) {
		memset(&a[k], 0, sizeof a[k]);
		buf_addc(&a[k], '{');
	}
	for (i = 0; i < n; i++) {
		array_add(&a[0], e[i]->original);
		array_add(&a[1], e[i]->normalized);
		array_add(&a[2], e[i]->cluster);
		array_add(&a[3], e[i]->code);
	}
	for (k = 0; k < 4; k++) {
		buf_add(&a[k], "}", 2);
		params[k] = a[k].p;
	}
	if ((r = query(upsert_sql, 4, params, &rc)) != NULL) {
		c->added = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
		c->updated = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		c->unchanged = strtoll(PQgetvalue(r, 0, 0), NULL, 10) -
		    c->added - c->updated;
		c->reviewed = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
		PQclear(r);
	}
	for (k = 0; k < 4; k++)
		buf_free(&a[k]);
	return rc;
}

/*
 * Bump the mapping version, so that every etl-normalize reads the
 * database again instead of the mapping cached under the old version.
 * Called after COMMIT: a run that reads the new version reads the new
 * rows.  Without REDIS_URL there is no cache to drop; Redis down is a
 * warning, since the change is in the database either way.
 */
static void
bump_version(void)
{
	static const char not_bumped[] = "the mapping version was not "
	    "bumped: runs of etl-normalize with Redis may use their cached "
	    "mapping for up to a day; run this command again once Redis is "
	    "back";
	const char *url = env_str("REDIS_URL", NULL);
	struct rds rds;
	redisReply *rep;
	char err[256];

	if (url == NULL)
		return;
	if (rds_open(&rds, url, 1000, err, sizeof err) == -1) {
		log_msg(LOG_WARN, "%s: redis: %s; %s", cmd, err, not_bumped);
		return;
	}
	if ((rep = rds_cmd(&rds, "INCR " MAPPING_KEY "version")) == NULL) {
		/* rds_cmd said why */
		log_msg(LOG_WARN, "%s: %s", cmd, not_bumped);
		return;
	}
	/*
	 * Drop the mapping cached under the old version, dead now, and any
	 * under the new one: cached long ago, before the counter was lost
	 * to a FLUSHDB or an eviction, it would be stale.
	 */
	freeReplyObject(rds_cmd(&rds, "DEL " MAPPING_KEY "%lld " MAPPING_KEY
	    "%lld", rep->integer, rep->integer - 1));
	log_msg(LOG_DEBUG, "%s: mapping version %lld", cmd, rep->integer);
	freeReplyObject(rep);
	rds_close(&rds);
}

/* Append s for a person to read: control characters escaped. */
static void
add_shown(struct buf *b, const char *s)
{
	size_t n = strlen(s), i, len;
	char why[64], hex[16];
	int valid;
	uint32_t cp;

	valid = utf8_check(s, n, 0, why, sizeof why) == 0;
	for (i = 0; i < n; i += len) {
		if (!valid) {
			len = 1;
			cp = (unsigned char)s[i];
			if (cp >= 0x80) {
				snprintf(hex, sizeof hex, "\\x%02x", cp);
				buf_adds(b, hex);
				continue;
			}
		} else
			cp = utf8_decode(s + i, n - i, &len);
		if (cp < 0x20 || cp == 0x7f) {
			snprintf(hex, sizeof hex, "\\x%02x", cp);
			buf_adds(b, hex);
		} else if (cp >= 0x80 && cp < 0xa0) {
			snprintf(hex, sizeof hex, "\\u%04x", cp);
			buf_adds(b, hex);
		} else
			buf_add(b, s + i, len);
	}
}

/* Add a cell to t: s as shown to a person, "-" for NULL. */
static void
tab_cell(struct table *t, const char *s)
{
	struct buf b = { NULL, 0, 0 };

	add_shown(&b, s ? s : "-");
	buf_addc(&b, '\0');
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cell = xrealloc(t->cell, t->cap * sizeof *t->cell);
	}
	t->cell[t->n++] = b.p;
}

/* Cell (row, col) of r, NULL when it is NULL. */
static const char *
value(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* Write t to stdout, its columns aligned by characters, and free it. */
static void
tab_print(struct table *t)
{
	size_t *w, i, k, len;

	w = xmalloc(t->cols * sizeof *w);
	memset(w, 0, t->cols * sizeof *w);
	for (i = 0; i < t->n; i++) {
		len = utf8_count(t->cell[i], strlen(t->cell[i]));
		if (len > w[i % t->cols])
			w[i % t->cols] = len;
	}
	for (i = 0; i < t->n; i++) {
		buf_adds(&ob, t->cell[i]);
		if (i % t->cols == t->cols - 1) {
			buf_addc(&ob, '\n');
			maybe_flush();
			continue;
		}
		len = utf8_count(t->cell[i], strlen(t->cell[i]));
		for (k = len; k < w[i % t->cols] + 2; k++)
			buf_addc(&ob, ' ');
	}
	for (i = 0; i < t->n; i++)
		free(t->cell[i]);
	free(t->cell);
	free(w);
}

/* Write row of r as one JSON object line. */
static void
json_row(const PGresult *r, int row, const struct jcol *jc)
{
	struct buf *b = &ob;
	const char *v;
	size_t k;

	buf_addc(b, '{');
	for (k = 0; jc[k].key; k++) {
		if (k)
			buf_addc(b, ',');
		buf_add_jstr(b, jc[k].key, strlen(jc[k].key));
		buf_addc(b, ':');
		if ((v = value(r, row, jc[k].col)) == NULL)
			buf_adds(b, "null");
		else if (jc[k].type == 's')
			buf_add_jstr(b, v, strlen(v));
		else if (jc[k].type == 'b')
			buf_adds(b, *v == 't' ? "true" : "false");
		else
			buf_adds(b, v);
	}
	buf_add(b, "}\n", 2);
	maybe_flush();
}

static int
m_list(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "source", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *heads[] = { "original", "normalized", "cluster",
	    "code", "source", "confidence", "seen", "last_seen", "active" };
	static const int cols[] = { 0, 1, 2, 3, 4, 5, 7, 8 };
	const char *params[2] = { "false", NULL };
	struct table t = { NULL, 0, 0, 8 };
	PGresult *r;
	int c, i, k, json = 0, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
		switch (c) {
		case 'a':
			params[0] = "true";
			t.cols = 9;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			if (strcmp(optarg, "seed") != 0 &&
			    strcmp(optarg, "manual") != 0 &&
			    strcmp(optarg, "auto_detected") != 0) {
				fprintf(stderr, "%s: --source: want seed, "
				    "manual or auto_detected\n", prog);
				usage(cur);
			}
			params[1] = optarg;
			break;
		default:
			usage(cur);
		}
	if (optind != argc)
		usage(cur);
	if ((rc = connect_db()) != 0 ||
	    (r = query(list_sql, 2, params, &rc)) == NULL)
		return rc;
	for (k = 0; !json && k < (int)t.cols; k++)
		tab_cell(&t, heads[k]);
	for (i = 0; i < PQntuples(r); i++) {
		if (json) {
			json_row(r, i, list_json);
			continue;
		}
		for (k = 0; k < 8; k++)
			tab_cell(&t, value(r, i, cols[k]));
		if (t.cols == 9)
			tab_cell(&t, *value(r, i, 6) == 't' ? "yes" : "no");
	}
	if (!json)
		tab_print(&t);
	PQclear(r);
	return 0;
}

static int
m_review(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *heads[] = { "original", "suggested", "seen",
	    "first_seen", "last_seen" };
	static const int cols[] = { 0, 1, 4, 5, 6 };
	struct table t = { NULL, 0, 0, 5 };
	PGresult *r;
	int c, i, k, json = 0, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
		switch (c) {
		case 'j':
			json = 1;
			break;
		default:
			usage(cur);
		}
	if (optind != argc)
		usage(cur);
	if ((rc = connect_db()) != 0 ||
	    (r = query(review_sql, 0, NULL, &rc)) == NULL)
		return rc;
	if (json) {
		for (i = 0; i < PQntuples(r); i++)
			json_row(r, i, review_json);
	} else if (PQntuples(r) == 0)
		buf_adds(&ob, "nothing to review\n");
	else {
		for (k = 0; k < 5; k++)
			tab_cell(&t, heads[k]);
		for (i = 0; i < PQntuples(r); i++)
			for (k = 0; k < 5; k++)
				tab_cell(&t, value(r, i, cols[k]));
		tab_print(&t);
		buf_adds(&ob, "\naccept a suggestion: etl-ctl mapping "
		    "confirm ORIGINAL\nor map a name:       etl-ctl mapping "
		    "add ORIGINAL NORMALIZED [CLUSTER [CODE]]\n");
	}
	PQclear(r);
	return 0;
}

/* Say what add or confirm did to e. */
static void
say_one(const struct wh_entry *e, const struct counts *c)
{
	struct buf *b = &ob;

	buf_adds(b, c->added ? "added: " : c->updated ? "updated: " :
	    "unchanged: ");
	add_shown(b, e->original);
	buf_adds(b, " -> ");
	add_shown(b, e->normalized);
	if (e->cluster || e->code) {
		buf_adds(b, " (");
		if (e->cluster) {
			buf_adds(b, "cluster ");
			add_shown(b, e->cluster);
		}
		if (e->cluster && e->code)
			buf_adds(b, ", ");
		if (e->code) {
			buf_adds(b, "code ");
			add_shown(b, e->code);
		}
		buf_addc(b, ')');
	}
	buf_addc(b, '\n');
	if (c->reviewed) {
		buf_adds(b, "reviewed: ");
		add_shown(b, e->original);
		buf_adds(b, " (its auto_detected row is no longer active)\n");
	}
}

static int
m_add(int argc, char *argv[])
{
	const struct wh_entry *ep;
	const char *why, *field;
	struct wh_entry e;
	struct counts c;
	int i, rc;

	i = operands(argc, argv);
	if (argc - i < 2 || argc - i > 4)
		usage(cur);
	e.original = argv[i];
	e.normalized = argv[i + 1];
	e.cluster = argc - i > 2 && *argv[i + 2] ? argv[i + 2] : NULL;
	e.code = argc - i > 3 && *argv[i + 3] ? argv[i + 3] : NULL;
	if ((why = bad_entry(&e, &field)) != NULL) {
		log_msg(LOG_ERROR, "%s: %s: %s", cmd, field, why);
		return EX_DATAERR;
	}
	ep = &e;
	if ((rc = connect_db()) != 0 || (rc = upsert(&ep, 1, &c)) != 0)
		return rc;
	say_one(&e, &c);
	bump_version();
	return 0;
}

static int
m_confirm(int argc, char *argv[])
{
	const struct wh_entry *ep;
	const char *params[1], *why, *field;
	struct wh_entry e;
	struct counts c;
	PGresult *r = NULL, *x;
	int i, rc = 0, begun = 0;

	i = operands(argc, argv);
	if (argc - i != 1)
		usage(cur);
	params[0] = argv[i];
	if ((rc = connect_db()) != 0)
		return rc;
	if ((x = query("BEGIN", 0, NULL, &rc)) == NULL)
		goto out;
	PQclear(x);
	begun = 1;
	if ((r = query(confirm_sql, 1, params, &rc)) == NULL)
		goto out;
	if (PQntuples(r) == 0 || *PQgetvalue(r, 0, 3) != 't') {
		log_msg(LOG_ERROR, "%s: %s: %s", cmd, argv[i],
		    PQntuples(r) ? "reviewed already (see etl-ctl mapping list "
		    "--all)" : "no such auto_detected name (see etl-ctl "
		    "mapping review)");
		rc = EX_DATAERR;
		goto out;
	}
	e.original = argv[i];
	e.normalized = PQgetvalue(r, 0, 0);
	e.cluster = PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1);
	e.code = PQgetisnull(r, 0, 2) ? NULL : PQgetvalue(r, 0, 2);
	if ((why = bad_entry(&e, &field)) != NULL) {
		log_msg(LOG_ERROR, "%s: %s: %s: %s%s", cmd, argv[i], field,
		    why, strcmp(field, "original name") == 0 ? " (it cannot be "
		    "mapped)" : "; map it with etl-ctl mapping add");
		rc = EX_DATAERR;
		goto out;
	}
	ep = &e;
	if ((rc = upsert(&ep, 1, &c)) != 0)
		goto out;
	if ((x = query("COMMIT", 0, NULL, &rc)) == NULL)
		goto out;
	PQclear(x);
	begun = 0;
	say_one(&e, &c);
	bump_version();
out:
	if (begun && PQstatus(pg) == CONNECTION_OK)
		PQclear(PQexec(pg, "ROLLBACK"));
	PQclear(r);
	return rc;
}

/* Read all of path ("-": stdin) into b, '\0'-ended.  0, or an exit status. */
static int
slurp(const char *path, const char *name, struct buf *b)
{
	char chunk[65536];
	size_t got;
	FILE *fp;
	int rc = 0;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL) {
		log_msg(LOG_ERROR, "%s: %s: %s", cmd, name, strerror(errno));
		return EX_NOINPUT;
	}
	while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(b, chunk, got);
	if (ferror(fp)) {
		log_msg(LOG_ERROR, "%s: %s: %s", cmd, name, strerror(errno));
		rc = EX_IOERR;
	}
	if (fp != stdin)
		(void)fclose(fp);	/* read only: ferror above said it all */
	buf_addc(b, '\0');
	b->len--;
	return rc;
}

/*
 * The line number of each mapping line of text, the way map_parse counts
 * and skips lines; the count in *n.  Stops at the first line that is not
 * UTF-8 or holds a NUL byte: returns its number then, else 0.
 */
static unsigned long
entry_lines(const char *text, size_t len, unsigned long **lines, size_t *n)
{
	const char *line, *end;
	unsigned long lineno = 0;
	char why[64];
	size_t k;

	*n = 0;
	*lines = NULL;
	for (line = text; line < text + len; line = end + 1) {
		lineno++;
		if ((end = memchr(line, '\n', (size_t)(text + len - line))) ==
		    NULL)
			end = text + len;
		k = (size_t)(end - line);
		if (memchr(line, '\0', k) ||
		    utf8_check(line, k, 0, why, sizeof why) == -1)
			return lineno;
		while (k > 0 && line[k - 1] == '\r')
			k--;
		if (k == 0 || line[0] == '#')
			continue;
		*lines = xrealloc(*lines, (*n + 1) * sizeof **lines);
		(*lines)[(*n)++] = lineno;
	}
	return 0;
}

static int
same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int
m_import(int argc, char *argv[])
{
	struct buf text = { NULL, 0, 0 };
	const struct wh_entry **keep = NULL, *first;
	struct mapping m = { 0 };
	unsigned long *lines = NULL, bad;
	const char *name, *why, *field;
	struct counts c;
	size_t i, k, n, nkeep = 0;
	char err[512];
	int rc;

	i = (size_t)operands(argc, argv);
	if ((size_t)argc - i != 1)
		usage(cur);
	name = strcmp(argv[i], "-") == 0 ? "<stdin>" : argv[i];
	if ((rc = slurp(argv[i], name, &text)) != 0)
		goto out;
	if ((bad = entry_lines(text.p, text.len, &lines, &n)) != 0) {
		log_msg(LOG_ERROR, "%s: %s: line %lu: not UTF-8 text", cmd,
		    name, bad);
		rc = EX_DATAERR;
		goto out;
	}
	/* first_wins: a spelling given twice is checked below, by line */
	if (map_parse(&m, text.p, text.len, 1, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "%s: %s: %s", cmd, name, err);
		rc = EX_DATAERR;
		goto out;
	}
	if (m.n != n) {
		log_msg(LOG_ERROR, "%s: %s: %zu mappings, but %zu lines of "
		    "them", cmd, name, m.n, n);
		rc = EX_SOFTWARE;
		goto out;
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers are meant */
	keep = xmalloc((m.n ? m.n : 1) * sizeof *keep);
	for (k = 0; k < m.n; k++) {
		if ((why = bad_entry(&m.e[k], &field)) != NULL) {
			log_msg(LOG_ERROR, "%s: %s: line %lu: %s: %s", cmd,
			    name, lines[k], field, why);
			rc = EX_DATAERR;
			goto out;
		}
		first = ht_get(&m.exact, m.e[k].original,
		    strlen(m.e[k].original));
		if (first == &m.e[k])
			keep[nkeep++] = first;
		else if (strcmp(first->normalized, m.e[k].normalized) != 0 ||
		    !same_str(first->cluster, m.e[k].cluster) ||
		    !same_str(first->code, m.e[k].code)) {
			log_msg(LOG_ERROR, "%s: %s: line %lu: original name "
			    "given on line %lu already, mapped otherwise", cmd,
			    name, lines[k], lines[first - m.e]);
			rc = EX_DATAERR;
			goto out;
		}
	}
	if ((rc = connect_db()) != 0 || (rc = upsert(keep, nkeep, &c)) != 0)
		goto out;
	snprintf(err, sizeof err, "added %lld, updated %lld, unchanged %lld, "
	    "reviewed %lld\n", c.added, c.updated, c.unchanged, c.reviewed);
	buf_adds(&ob, err);
	bump_version();
out:
	free(keep);
	free(lines);
	map_free(&m);
	buf_free(&text);
	return rc;
}

static int
m_export(int argc, char *argv[])
{
	struct buf body = { NULL, 0, 0 }, check = { NULL, 0, 0 };
	struct mapping m;
	struct wh_entry e;
	const char *why, *field;
	unsigned long manual = 0, seed = 0;
	PGresult *r;
	char line[512], err[512];
	int i, rc = 0;

	if (operands(argc, argv) != argc)
		usage(cur);
	if ((rc = connect_db()) != 0 ||
	    (r = query(export_sql, 0, NULL, &rc)) == NULL)
		return rc;
	for (i = 0; i < PQntuples(r); i++) {
		e.original = PQgetvalue(r, i, 1);
		e.normalized = PQgetvalue(r, i, 2);
		e.cluster = *PQgetvalue(r, i, 3) ? PQgetvalue(r, i, 3) : NULL;
		e.code = *PQgetvalue(r, i, 4) ? PQgetvalue(r, i, 4) : NULL;
		if ((why = bad_entry(&e, &field)) != NULL) {
			/* etl-normalize leaves such a row out too */
			log_msg(LOG_WARN, "%s: row id %s left out: %s: %s",
			    cmd, PQgetvalue(r, i, 0), field, why);
			continue;
		}
		buf_adds(&body, e.original);
		buf_addc(&body, '\t');
		buf_adds(&body, e.normalized);
		buf_addc(&body, '\t');
		buf_adds(&body, e.cluster ? e.cluster : "");
		buf_addc(&body, '\t');
		buf_adds(&body, e.code ? e.code : "");
		buf_addc(&body, '\n');
		if (strcmp(PQgetvalue(r, i, 5), "manual") == 0)
			manual++;
		else
			seed++;
	}
	PQclear(r);
	/* what is written must load: the mapping file format is map_parse's */
	buf_add(&check, body.p ? body.p : "", body.len);
	buf_addc(&check, '\0');
	if (map_parse(&m, check.p, body.len, 0, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "%s: the mapping would not load: %s", cmd,
		    err);
		rc = EX_SOFTWARE;
		goto out;
	}
	map_free(&m);
	snprintf(line, sizeof line, "# ozon-etl warehouse mapping: original, "
	    "normalized, cluster, code (tab-separated)\n# written by etl-ctl "
	    "mapping export from warehouse_normalization: the active\n"
	    "# manual (%lu) and seed (%lu) mappings, the manual one where "
	    "both name a spelling\n", manual, seed);
	buf_adds(&ob, line);
	buf_add(&ob, body.p ? body.p : "", body.len);
out:
	buf_free(&check);
	buf_free(&body);
	return rc;
}

int
ctl_mapping(int argc, char *argv[])
{
	int rc;

	if (argc < 2)
		usage(NULL);
	for (cur = subs; cur->name; cur++)
		if (strcmp(cur->name, argv[1]) == 0)
			break;
	if (cur->name == NULL) {
		fprintf(stderr, "etl-ctl: mapping: no command %s\n", argv[1]);
		usage(NULL);
	}
	snprintf(cmd, sizeof cmd, "mapping %s", cur->name);
	snprintf(prog, sizeof prog, "etl-ctl mapping %s", cur->name);
	argv[1] = prog;		/* getopt's messages name the command */
	signal(SIGPIPE, SIG_IGN);	/* a reader gone is EPIPE, not death */
	rc = cur->fn(argc - 1, argv + 1);
	db_close((struct pg_conn *)pg);
	pg = NULL;
	flush_out();
	buf_free(&ob);
	/* a reader that went away (EPIPE) is not a failure */
	if (out_err && out_err != EPIPE) {
		log_msg(LOG_ERROR, "stdout: %s", strerror(out_err));
		rc = EX_IOERR;
	}
	return rc;
}
