/*
 * Operations shared by etl-audit and etl-ctl: the thresholds runs are
 * judged by, and alerts: built, throttled, logged and handed to
 * ETL_ALERT_CMD.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "ozon-etl.h"

static int
env_duration(const char *name, int64_t dflt, int64_t *v, char *err,
    size_t errlen)
{
	const char *s = env_str(name, NULL);
	char e[128];

	*v = dflt;
	if (s && parse_duration(s, v, e, sizeof e) == -1) {
		snprintf(err, errlen, "%s: %s", name, e);
		return -1;
	}
	return 0;
}

static int
env_share(const char *name, double dflt, double *v, char *err,
    size_t errlen)
{
	const char *s = env_str(name, NULL);
	char e[128];

	*v = dflt;
	if (s && parse_share(s, v, e, sizeof e) == -1) {
		snprintf(err, errlen, "%s: %s", name, e);
		return -1;
	}
	return 0;
}

int
ops_config(struct ops_config *c, char *err, size_t errlen)
{
	const char *s;
	char e[128];
	int64_t n;

	memset(c, 0, sizeof *c);
	c->state_dir = env_str("ETL_STATE_DIR", "/var/lib/ozon-etl");
	c->alert_cmd = env_str("ETL_ALERT_CMD", NULL);
	c->metrics_file = env_str("ETL_METRICS_FILE", NULL);
	c->consecutive = 3;
	if ((s = env_str("ETL_ALERT_CONSECUTIVE_FAILURES", NULL)) != NULL) {
		if (parse_count(s, 1, 1000, &n, e, sizeof e) == -1) {
			snprintf(err, errlen, "ETL_ALERT_CONSECUTIVE_FAILURES: %s",
			    e);
			return -1;
		}
		c->consecutive = (int)n;
	}
	return env_duration("ETL_FRESHNESS_FULL", 14 * 3600, &c->fresh_full_s,
	    err, errlen) |
	    env_duration("ETL_FRESHNESS_INCREMENTAL", 4 * 3600,
	    &c->fresh_incr_s, err, errlen) |
	    env_duration("ETL_STUCK_AFTER", 3 * 3600, &c->stuck_s, err,
	    errlen) |
	    env_duration("ETL_ALERT_MAX_DURATION", 3600, &c->max_duration_s,
	    err, errlen) |
	    env_duration("ETL_ALERT_THROTTLE", 3600, &c->throttle_s, err,
	    errlen) |
	    env_duration("ETL_ALERT_TIMEOUT", 30, &c->alert_timeout_s, err,
	    errlen) |
	    env_duration("ETL_RETAIN_AUDIT", 90 * 86400, &c->keep_audit_s,
	    err, errlen) |
	    env_duration("ETL_RETAIN_RUNS", 180 * 86400, &c->keep_runs_s, err,
	    errlen) |
	    env_duration("ETL_RETAIN_RUN_DIRS", 14 * 86400, &c->keep_dirs_s,
	    err, errlen) |
	    env_share("ETL_ALERT_REJECT_SHARE", 0.05, &c->reject_share, err,
	    errlen) |
	    env_share("ETL_ALERT_API_FAILURE_SHARE", 0.2,
	    &c->api_failure_share, err, errlen) |
	    env_share("ETL_ALERT_DROP_SHARE", 0.5, &c->drop_share, err,
	    errlen);
}

void
alert_init(struct alert *a, const char *rule, const char *severity,
    const char *run_type, const char *fmt, ...)
{
	va_list ap;

	memset(a, 0, sizeof *a);
	a->rule = rule;
	a->severity = severity;
	a->run_type = run_type;
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof a->message, fmt, ap);
	va_end(ap);
	a->message[utf8_cut(a->message, strlen(a->message))] = '\0';
}

static void
fig_key(struct alert *a, const char *key)
{
	if (a->figures.len)
		buf_addc(&a->figures, ',');
	buf_add_jstr(&a->figures, key, strlen(key));
	buf_addc(&a->figures, ':');
}

void
alert_fig(struct alert *a, const char *key, int64_t v)
{
	fig_key(a, key);
	buf_add_i64(&a->figures, v);
}

void
alert_figf(struct alert *a, const char *key, double v)
{
	char s[32];

	fig_key(a, key);
	snprintf(s, sizeof s, "%.4g", v);
	buf_adds(&a->figures, s);
}

void
alert_figs(struct alert *a, const char *key, const char *s)
{
	fig_key(a, key);
	buf_add_jstr(&a->figures, s, strlen(s));
}

void
alert_free(struct alert *a)
{
	buf_free(&a->figures);
}

static void
add_str_or_null(struct buf *b, const char *s)
{
	if (s && *s)
		buf_add_jstr(b, s, strlen(s));
	else
		buf_adds(b, "null");
}

/* The alert as the one JSON object ETL_ALERT_CMD reads. */
static void
alert_json(const struct alert *a, struct buf *b)
{
	char host[256] = "", ts[32];
	time_t now = time(NULL);
	struct tm tm;

	gethostname(host, sizeof host - 1);
	gmtime_r(&now, &tm);
	if (strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		ts[0] = '\0';	/* did not fit: the array is undefined */
	buf_adds(b, "{\"rule\":");
	buf_add_jstr(b, a->rule, strlen(a->rule));
	buf_adds(b, ",\"severity\":");
	buf_add_jstr(b, a->severity, strlen(a->severity));
	buf_adds(b, ",\"message\":");
	buf_add_jstr(b, a->message, strlen(a->message));
	buf_adds(b, ",\"batch_id\":");
	add_str_or_null(b, a->batch_id);
	buf_adds(b, ",\"run_type\":");
	add_str_or_null(b, a->run_type);
	buf_adds(b, ",\"host\":");
	buf_add_jstr(b, host, strlen(host));
	buf_adds(b, ",\"ts\":\"");
	buf_adds(b, ts);
	buf_adds(b, "\",\"figures\":{");
	buf_add(b, a->figures.p, a->figures.len);
	buf_adds(b, "}}");
}

/*
 * Run cmd with sh -c, in to its stdin, its stdout to our stderr (the run
 * log); killed with its children after timeout_s.  Returns its exit
 * status, or -1 when it could not run or was killed.
 */
static int
run_cmd(const char *cmd, const char *in, size_t n, int64_t timeout_s)
{
	struct timespec tick = { 0, 20 * 1000000 };
	void (*pipe_was)(int);
	int64_t waited_ms = 0;
	int p[2], st = 0;
	size_t off = 0;
	ssize_t w;
	pid_t pid, got;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(p[0], 0) == -1 || dup2(2, 1) == -1)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(p[0]);
	pipe_was = signal(SIGPIPE, SIG_IGN);
	while (off < n && ((w = write(p[1], in + off, n - off)) > 0 ||
	    (w == -1 && errno == EINTR)))
		off += w > 0 ? (size_t)w : 0;
	close(p[1]);
	signal(SIGPIPE, pipe_was);
	while ((got = waitpid(pid, &st, WNOHANG)) == 0) {
		if (waited_ms >= timeout_s * 1000) {
			log_msg(LOG_ERROR, "ETL_ALERT_CMD: no answer in %llds: "
			    "killed", (long long)timeout_s);
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		nanosleep(&tick, NULL);
		waited_ms += 20;
	}
	if (got == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Deliver a: run ETL_ALERT_CMD.  "sent", "failed" or "logged". */
static const char *
deliver(const struct ops_config *c, const struct alert *a)
{
	struct buf b = { NULL, 0, 0 };
	int rc;

	if (!c->alert_cmd)
		return "logged";
	alert_json(a, &b);
	buf_addc(&b, '\n');
	rc = run_cmd(c->alert_cmd, b.p, b.len, c->alert_timeout_s);
	buf_free(&b);
	if (rc != 0) {
		log_msg(LOG_ERROR, "ETL_ALERT_CMD failed (%s %d) for alert %s",
		    rc == -1 ? "killed or not run," : "exit", rc, a->rule);
		return "failed";
	}
	return "sent";
}

/*
 * Throttle through the database: record the alert, as "throttled" when
 * the rule was raised within the window.  Returns the row id (0 when
 * throttled), or -1 when the database failed.
 */
static long long
throttle_db(struct pg_conn *db, const struct ops_config *c,
    const struct alert *a)
{
	PGconn *pg = (PGconn *)db;
	const char *params[7];
	char window[32], err[256];
	struct buf fig = { NULL, 0, 0 };
	PGresult *r;
	long long id = -1;

	snprintf(window, sizeof window, "%lld", (long long)c->throttle_s);
	buf_addc(&fig, '{');
	buf_add(&fig, a->figures.p, a->figures.len);
	buf_add(&fig, "}", 2);
	params[0] = a->rule;
	params[1] = window;
	params[2] = a->severity;
	params[3] = a->batch_id && *a->batch_id ? a->batch_id : NULL;
	params[4] = a->run_type;
	params[5] = a->message;
	params[6] = fig.p;
	if (db_exec(db, "BEGIN", err, sizeof err) == -1)
		goto out;
	/* two processes raising one rule at once: one sends */
	r = PQexecParams(pg, "SELECT pg_advisory_xact_lock(hashtext("
	    "'ozon-etl:alert:' || $1 || ':' || coalesce($2, '')))", 2, NULL,
	    (const char *[]){ a->rule, a->run_type }, NULL, NULL, 0);
	PQclear(r);
	r = PQexecParams(pg, "INSERT INTO etl_alert (rule, severity, batch_id, "
	    "run_type, message, figures, delivery) SELECT $1, $3, $4, $5, $6, "
	    "$7::jsonb, CASE WHEN EXISTS (SELECT 1 FROM etl_alert WHERE "
	    "rule = $1 AND run_type IS NOT DISTINCT FROM $5 AND "
	    "delivery IN ('pending', 'sent', 'logged') AND "
	    "raised_at > now() - $2::bigint * interval '1 second') THEN "
	    "'throttled' ELSE 'pending' END RETURNING id, delivery", 7, NULL,
	    params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		id = strcmp(PQgetvalue(r, 0, 1), "throttled") == 0 ? 0 :
		    atoll(PQgetvalue(r, 0, 0));
	else
		log_msg(LOG_WARN, "etl_alert: %.*s",
		    (int)strcspn(PQerrorMessage(pg), "\n"), PQerrorMessage(pg));
	PQclear(r);
	if (id == -1 || db_exec(db, "COMMIT", err, sizeof err) == -1) {
		db_exec(db, "ROLLBACK", err, sizeof err);
		id = -1;
	}
out:
	buf_free(&fig);
	return id;
}

void (*alert_hook)(const struct alert *, const char *delivery);

/*
 * Without the database the window is a Redis key, or else the time of a
 * file in the state folder.  Returns 1 when throttled; else the window
 * is claimed, in key or path (release it when the delivery fails).
 */
static int
throttle_local(struct rds *rds, const struct ops_config *c,
    const struct alert *a, char *key, size_t keylen, char *path,
    size_t pathlen)
{
	const char *type = a->run_type ? a->run_type : "any";
	redisReply *rep;
	struct stat st;
	int fd, throttled;

	if (c->throttle_s == 0)
		return 0;
	snprintf(key, keylen, "ozon-etl:alert:%s:%s", a->rule, type);
	if ((rep = rds_cmd(rds, "SET %s 1 NX EX %lld", key,
	    (long long)c->throttle_s)) != NULL) {
		throttled = rep->type == REDIS_REPLY_NIL;
		freeReplyObject(rep);
		return throttled;
	}
	*key = '\0';
	snprintf(path, pathlen, "%s/alert-%s-%s", c->state_dir, a->rule, type);
	if (stat(path, &st) == 0 && st.st_mtime > time(NULL) - c->throttle_s)
		return 1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		*path = '\0';	/* no state anywhere: better sent twice */
		return 0;
	}
	futimens(fd, NULL);
	close(fd);
	return 0;
}

const char *
alert_raise(struct pg_conn *db, struct rds *rds, const struct ops_config *c,
    struct alert *a)
{
	const char *delivery = NULL, *params[2];
	char key[160] = "", path[4096] = "", ids[32];
	long long id = -1;
	PGresult *r;

	if (!a->batch_id)
		a->batch_id = log_batch_id();
	if (db)
		id = throttle_db(db, c, a);
	if (id == 0 || (id == -1 && throttle_local(rds, c, a, key,
	    sizeof key, path, sizeof path)))
		delivery = "throttled";
	else {
		delivery = deliver(c, a);
		if (id > 0) {
			snprintf(ids, sizeof ids, "%lld", id);
			params[0] = ids;
			params[1] = delivery;
			r = PQexecParams((PGconn *)db, "UPDATE etl_alert SET "
			    "delivery = $2 WHERE id = $1", 2, NULL, params,
			    NULL, NULL, 0);
			PQclear(r);
		} else if (strcmp(delivery, "failed") == 0) {
			/* not sent: the next run tries again */
			if (*key)
				freeReplyObject(rds_cmd(rds, "DEL %s", key));
			if (*path)
				unlink(path);
		}
	}
	log_begin(strcmp(a->severity, "info") == 0 ? LOG_INFO : LOG_WARN,
	    "alert");
	log_str("rule", a->rule, strlen(a->rule));
	log_str("severity", a->severity, strlen(a->severity));
	log_str("message", a->message, strlen(a->message));
	log_str("delivery", delivery, strlen(delivery));
	log_end();
	if (alert_hook)
		alert_hook(a, delivery);
	return delivery;
}
