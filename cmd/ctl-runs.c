/*
 * etl-ctl status, health, replay, cleanup, metrics: the runs as the
 * operator sees them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ozon-etl.h"
#include "ctl.h"

/*
 * The next option of a subcommand; a bad one, or at the end operands
 * beyond nargs, is a usage error.
 */
static int
opt(int argc, char *argv[], const char *shorts,
    const struct option *longs, int nargs, const char *usage_line)
{
	int c;

	c = getopt_long(argc, argv, shorts, longs, NULL);
	if (c == '?' || (c == -1 && argc - optind != nargs)) {
		fprintf(stderr, "usage: etl-ctl %s\n", usage_line);
		exit(EX_USAGE);
	}
	return c;
}

/* ---- status ---- */

int
ctl_status(int argc, char *argv[])
{
	static const struct option longs[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "last", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	static const char line[] = "status [--json] [-n N]";
	const char *params[1];
	char num[24], err[512];
	struct pg_conn *db;
	PGresult *r;
	int64_t n = 10;
	int c, json = 0, status, i;

	while ((c = opt(argc, argv, "n:", longs, 0, line)) != -1)
		if (c == 'j')
			json = 1;
		else if (parse_count(optarg, 1, 10000, &n, err, sizeof err)) {
			fprintf(stderr, "etl-ctl: -n: %s\n", err);
			return EX_USAGE;
		}
	if ((db = ctl_connect(&status)) == NULL)
		return status;
	snprintf(num, sizeof num, "%lld", (long long)n);
	params[0] = num;
	r = db_query(db, json ?
	    "SELECT coalesce(json_agg(r ORDER BY r.started_at DESC), '[]') FROM"
	    " (SELECT batch_id, run_type, status, started_at, finished_at,"
	    "  execution_time_ms, records_extracted, records_validated,"
	    "  records_normalized, records_inserted, records_updated,"
	    "  records_zeroed, records_failed, api_requests_made,"
	    "  api_requests_failed, api_time_ms, peak_memory_kb,"
	    "  error_message FROM analytics_etl_log"
	    "  ORDER BY started_at DESC LIMIT $1) r" :
	    "SELECT to_char(started_at, 'YYYY-MM-DD HH24:MI:SS'), run_type,"
	    " status, CASE WHEN finished_at IS NULL THEN"
	    "  to_char(now() - started_at, 'HH24:MI:SS') || '+'"
	    "  ELSE to_char(finished_at - started_at, 'HH24:MI:SS') END,"
	    " records_extracted, records_inserted, records_updated,"
	    " records_zeroed, records_failed, left(batch_id, 8),"
	    " coalesce(error_message, '')"
	    " FROM analytics_etl_log ORDER BY started_at DESC LIMIT $1",
	    1, params, err, sizeof err);
	if (r == NULL) {
		log_msg(LOG_ERROR, "analytics_etl_log: %s (run etl-ctl "
		    "migrate?)", err);
		db_close(db);
		return EX_UNAVAILABLE;
	}
	if (json)
		printf("%s\n", PQgetvalue(r, 0, 0));
	else if (PQntuples(r) == 0)
		printf("no runs recorded yet\n");
	else {
		printf("%-19s  %-16s  %-15s  %9s  %9s  %8s  %8s  %7s  %6s  "
		    "%s\n", "STARTED", "TYPE", "STATUS", "TIME", "EXTRACTED",
		    "INSERTED", "UPDATED", "ZEROED", "FAILED", "BATCH");
		for (i = 0; i < PQntuples(r); i++) {
			printf("%-19s  %-16s  %-15s  %9s  %9s  %8s  %8s  %7s  "
			    "%6s  %s\n", PQgetvalue(r, i, 0),
			    PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
			    PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
			    PQgetvalue(r, i, 5), PQgetvalue(r, i, 6),
			    PQgetvalue(r, i, 7), PQgetvalue(r, i, 8),
			    PQgetvalue(r, i, 9));
			if (*PQgetvalue(r, i, 10))
				printf("    error: %s\n", PQgetvalue(r, i, 10));
		}
	}
	PQclear(r);
	db_close(db);
	return 0;
}

/* ---- health ---- */

static void
json_age(struct buf *b, const char *key, int64_t v)
{
	buf_addc(b, ',');
	buf_add_jstr(b, key, strlen(key));
	buf_addc(b, ':');
	if (v < 0)
		buf_adds(b, "null");
	else
		buf_add_i64(b, v);
}

static void
json_str(struct buf *b, const char *key, const char *s)
{
	buf_addc(b, ',');
	buf_add_jstr(b, key, strlen(key));
	buf_addc(b, ':');
	if (*s)
		buf_add_jstr(b, s, strlen(s));
	else
		buf_adds(b, "null");
}

int
ctl_health(int argc, char *argv[])
{
	static const struct option longs[] = {
		{ "alert", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *levels[] = { "healthy", "degraded", "unhealthy" };
	struct ops_config cfg;
	struct health h;
	struct rds rds = { NULL }, *rp = NULL;
	struct pg_conn *db;
	struct buf b = { NULL, 0, 0 };
	const char *url;
	char err[512] = "";
	int c, alerts = 0, quiet = 0, status;

	while ((c = opt(argc, argv, "q", longs, 0, "health [--alert] [-q]")) != -1)
		if (c == 'a')
			alerts = 1;
		else
			quiet = 1;
	if (ctl_config(&cfg) == -1)
		return EX_CONFIG;
	if ((db = db_connect("etl-ctl", &status, err, sizeof err)) == NULL &&
	    status == EX_CONFIG) {
		log_msg(LOG_ERROR, "database: %s", err);
		return EX_CONFIG;
	}
	if ((url = env_str("REDIS_URL", NULL)) != NULL) {
		rp = &rds;
		if (rds_open(&rds, url, 1000, err + 256, 256) == -1)
			rds.c = NULL;
	}
	health_check(&h, db, err, rp, &cfg);

	buf_adds(&b, "{\"status\":\"");
	buf_adds(&b, levels[h.level]);
	buf_adds(&b, "\",\"database\":");
	buf_adds(&b, h.db_up ? "true" : "false");
	buf_adds(&b, ",\"redis\":");
	buf_adds(&b, h.redis < 0 ? "null" : h.redis ? "true" : "false");
	json_str(&b, "last_batch_id", h.last_batch);
	json_str(&b, "last_run_type", h.last_type);
	json_str(&b, "last_status", h.last_status);
	json_str(&b, "last_error", h.last_error);
	json_age(&b, "last_run_age_s", h.last_age_s);
	json_age(&b, "full_sync_age_s", h.full_age_s);
	json_age(&b, "any_sync_age_s", h.any_age_s);
	json_age(&b, "freshness_full_s", cfg.fresh_full_s);
	json_age(&b, "freshness_incremental_s", cfg.fresh_incr_s);
	json_age(&b, "consecutive_failures", h.failures);
	json_age(&b, "stuck_runs", h.stuck);
	buf_adds(&b, ",\"circuit_open\":");
	buf_adds(&b, h.circuit_open ? "true" : "false");
	buf_adds(&b, ",\"findings\":[");
	buf_add(&b, h.findings.p, h.findings.len);
	buf_adds(&b, "]}\n");
	if (!quiet || h.level != HEALTHY)
		(void)fwrite(b.p, 1, b.len, stdout);	/* checked at exit */
	if (alerts)
		health_alerts(&h, db, rp, &cfg);
	status = h.level;	/* 0 healthy, 1 degraded, 2 unhealthy */
	buf_free(&b);
	health_free(&h);
	rds_close(&rds);
	db_close(db);
	return status;
}

/* ---- metrics, cleanup ---- */

int
ctl_metrics(int argc, char *argv[])
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	struct buf b = { NULL, 0, 0 };
	struct pg_conn *db;
	char err[512];
	int status = 0;

	while (opt(argc, argv, "o:", longs, 0, "metrics [-o FILE]") != -1)
		path = optarg;
	if ((db = ctl_connect(&status)) == NULL && status == EX_CONFIG)
		return status;
	if (path) {
		if (metrics_write(db, path, err, sizeof err) == -1) {
			log_msg(LOG_ERROR, "%s", err);
			status = EX_CANTCREAT;
		}
	} else {
		metrics_text(db, &b);
		(void)fwrite(b.p, 1, b.len, stdout);	/* checked at exit */
		buf_free(&b);
	}
	db_close(db);
	/* the file says the database is down; so does the status */
	return status ? status : db ? 0 : EX_UNAVAILABLE;
}

int
ctl_cleanup(int argc, char *argv[])
{
	struct ops_config cfg;
	struct retention n;
	struct pg_conn *db;
	char err[512];
	int status;

	while (opt(argc, argv, "", NULL, 0, "cleanup") != -1)
		;
	if (ctl_config(&cfg) == -1)
		return EX_CONFIG;
	if ((db = ctl_connect(&status)) == NULL)
		return status;
	if (retention_run(db, &cfg, &n, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "cleanup: %s", err);
		db_close(db);
		return EX_UNAVAILABLE;
	}
	printf("removed: %lld audit rows, %lld runs, %lld alerts, %lld run "
	    "folders\n", n.audit, n.runs, n.alerts, n.dirs);
	db_close(db);
	return 0;
}

/* ---- replay ---- */

/* A sibling tool: beside etl-ctl when it is there, else from PATH. */
static const char *
tool_path(const char *tool, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			snprintf(out, len, "%.*s/%s", (int)(slash - self), self,
			    tool);
			if (access(out, X_OK) == 0)
				return out;
		}
	}
	snprintf(out, len, "%s", tool);
	return out;
}

/* Start argv with fds 0..3 as given (-1: keep ours). */
static pid_t
start(char *const argv[], int fd0, int fd1, int fd2, int fd3)
{
	char path[PATH_MAX];
	pid_t pid;

	(void)fflush(NULL);	/* not twice; stdout is checked at exit */
	if ((pid = fork()) != 0)
		return pid;
	if ((fd0 >= 0 && dup2(fd0, 0) == -1) ||
	    (fd1 >= 0 && dup2(fd1, 1) == -1) ||
	    (fd2 >= 0 && dup2(fd2, 2) == -1) ||
	    (fd3 >= 0 && dup2(fd3, 3) == -1))
		_exit(EX_OSERR);
	execvp(tool_path(argv[0], path, sizeof path), argv);
	fprintf(stderr, "etl-ctl: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int
wait_for(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return EX_OSERR;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The run folder: under ETL_STATE_DIR when we may write there. */
static int
run_folder(struct buf *dir)
{
	const char *state = env_str("ETL_STATE_DIR", "/var/lib/ozon-etl");
	char tmpl[PATH_MAX];

	buf_adds(dir, state);
	buf_adds(dir, "/runs");
	buf_addc(dir, '\0');
	if (mkdir(dir->p, 0700) == 0 || errno == EEXIST) {
		dir->len--;
		buf_addc(dir, '/');
		buf_adds(dir, log_batch_id());
		buf_addc(dir, '\0');
		if (mkdir(dir->p, 0700) == 0)
			return 0;
	}
	snprintf(tmpl, sizeof tmpl, "%s/ozon-etl-replay.XXXXXX",
	    env_str("TMPDIR", "/tmp"));
	if (mkdtemp(tmpl) == NULL)
		return -1;
	dir->len = 0;
	buf_adds(dir, tmpl);
	buf_addc(dir, '\0');
	return 0;
}

int
ctl_replay(int argc, char *argv[])
{
	static const struct option longs[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "full", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	static const char line[] = "replay [--full] [--force] [--dry-run] FILE";
	char *load[10] = { NULL }, *audit[10] = { NULL }, *begin[5];
	char logp[PATH_MAX], rejp[PATH_MAX], sump[PATH_MAX], chunk[4096];
	ssize_t got;
	int sumfd;
	struct buf dir = { NULL, 0, 0 };
	int c, k = 0, in, logfd, rejfd, p[2], st_load, st_audit, full = 0;
	int force = 0, dry = 0, status, lockfd;
	pid_t lp, ap;

	while ((c = opt(argc, argv, "", longs, 1, line)) != -1)
		if (c == 'n')
			dry = 1;
		else if (c == 'f')
			force = 1;
		else
			full = 1;
	if ((in = open(argv[optind], O_RDONLY | O_CLOEXEC)) == -1) {
		log_msg(LOG_ERROR, "%s: %s", argv[optind], strerror(errno));
		return EX_NOINPUT;
	}
	/* the pipelines' lock: a replay does not overlap a sync */
	snprintf(logp, sizeof logp, "%s/run.lock",
	    env_str("ETL_STATE_DIR", "/var/lib/ozon-etl"));
	if ((lockfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) != -1 && flock(lockfd, LOCK_EX | LOCK_NB) == -1) {
		log_msg(LOG_ERROR, "another run holds %s; try again later", logp);
		close(lockfd);
		close(in);
		return EX_TEMPFAIL;
	}
	/* the stages see this run's batch id */
	setenv("ETL_BATCH_ID", log_batch_id(), 1);
	setenv("ETL_LOG_FORMAT", "json", 1);
	if (run_folder(&dir) == -1) {
		log_msg(LOG_ERROR, "run folder: %s", strerror(errno));
		close(in);
		return EX_CANTCREAT;
	}
	snprintf(logp, sizeof logp, "%s/log", dir.p);
	snprintf(rejp, sizeof rejp, "%s/rejects.ndjson", dir.p);
	if ((logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1 || (rejfd = open(rejp, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0600)) == -1 || pipe2(p, O_CLOEXEC) == -1) {
		log_msg(LOG_ERROR, "%s: %s", dir.p, strerror(errno));
		return EX_CANTCREAT;
	}
	begin[0] = (char *)"etl-audit";
	begin[1] = (char *)"--begin";
	begin[2] = (char *)"-t";
	begin[3] = (char *)"replay";
	begin[4] = NULL;
	if (wait_for(start(begin, -1, -1, logfd, -1)) != 0)
		log_msg(LOG_WARN, "the replay could not be recorded as started");

	load[k++] = (char *)"etl-load";
	load[k++] = (char *)"--change-source";
	load[k++] = (char *)"replay";
	load[k++] = (char *)"--mode";
	load[k++] = (char *)(full ? "full" : "incremental");
	if (force)
		load[k++] = (char *)"--force";
	if (dry)
		load[k++] = (char *)"--dry-run";
	audit[0] = (char *)"etl-audit";
	audit[1] = (char *)"-t";
	audit[2] = (char *)"replay";
	audit[3] = (char *)"-l";
	audit[4] = logp;
	audit[5] = (char *)"-r";
	audit[6] = rejp;
	/* the run summary is kept in the run folder, as the pipelines do */
	snprintf(sump, sizeof sump, "%s/summary.json", dir.p);
	if ((sumfd = open(sump, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		log_msg(LOG_ERROR, "%s: %s", sump, strerror(errno));
		return EX_CANTCREAT;
	}
	lp = start(load, in, p[1], logfd, rejfd);
	ap = start(audit, p[0], sumfd, logfd, -1);
	close(p[0]);
	close(p[1]);
	close(in);
	st_load = lp == -1 ? EX_OSERR : wait_for(lp);
	st_audit = ap == -1 ? EX_OSERR : wait_for(ap);
	close(logfd);
	close(rejfd);
	/* and shown */
	if (lseek(sumfd, 0, SEEK_SET) == 0)
		while ((got = read(sumfd, chunk, sizeof chunk)) > 0)
			(void)fwrite(chunk, 1, (size_t)got, stdout);
	close(sumfd);
	status = st_load ? st_load : st_audit;
	if (lockfd != -1)
		close(lockfd);
	if (status)
		log_msg(LOG_ERROR, "replay failed (etl-load %d, etl-audit %d); "
		    "run folder: %s", st_load, st_audit, dir.p);
	buf_free(&dir);
	return status;
}
