/*
 * etl-ctl: operate ozon-etl.  Subcommands: migrate here, the others in
 * cmd/ctl-*.c.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ozon-etl.h"
#include "ctl.h"

/* Any two runs of migrate, whatever their database user, take turns. */
#define MIGRATE_LOCK	"7310283340917731328"

static int migrate(int, char *[]);

static const struct {
	const char *name;
	int (*fn)(int, char *[]);
	const char *usage;
} subcommands[] = {
	{ "status", ctl_status, "status [--json] [-n N]" },
	{ "health", ctl_health, "health [--alert] [-q]" },
	{ "migrate", migrate, "migrate [--status]" },
	{ "mapping", ctl_mapping, "mapping list|add|confirm|import|export|"
	    "review ..." },
	{ "replay", ctl_replay, "replay [--full] [--force] [--dry-run] FILE" },
	{ "cleanup", ctl_cleanup, "cleanup" },
	{ "metrics", ctl_metrics, "metrics [-o FILE]" },
	{ "dashboard", ctl_dashboard, "dashboard [-o FILE] [--days N] "
	    "[--refresh SECONDS]" },
};

static void
usage(void)
{
	size_t i;

	for (i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		fprintf(stderr, "%s etl-ctl %s\n", i ? "      " : "usage:",
		    subcommands[i].usage);
	exit(EX_USAGE);
}

struct pg_conn *
ctl_connect(int *status)
{
	struct pg_conn *db;
	char err[512];

	if ((db = db_connect("etl-ctl", status, err, sizeof err)) == NULL)
		log_msg(LOG_ERROR, "database: %s", err);
	return db;
}

int
ctl_config(struct ops_config *c)
{
	char err[256];

	if (ops_config(c, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "%s", err);
		return -1;
	}
	return 0;
}

/* A migration file's name: NNN_name.sql. */
static int
is_migration(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 8 && strspn(d->d_name, "0123456789") == 3 &&
	    d->d_name[3] == '_' && strcmp(d->d_name + n - 4, ".sql") == 0;
}

static char *
slurp(const char *path, size_t *len)
{
	struct buf b = { NULL, 0, 0 };
	char chunk[65536];
	size_t got;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, got);
	if (ferror(fp)) {
		(void)fclose(fp);
		buf_free(&b);
		return NULL;
	}
	(void)fclose(fp);	/* read only: ferror above said it all */
	buf_addc(&b, '\0');
	*len = b.len - 1;
	return b.p;
}

static void
checksum(const char *s, size_t n, char *out, size_t outlen)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	snprintf(out, outlen, "%016llx", (unsigned long long)h);
}

/* The applied_at of version, "" when not applied; NULL on error. */
static char *
applied(PGconn *c, const char *version, char *sum, size_t sumlen)
{
	const char *params[1] = { version };
	PGresult *r;
	char *at;

	r = PQexecParams(c, "SELECT to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS "
	    "TZ'), checksum FROM schema_migrations WHERE version = $1", 1,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return NULL;
	}
	at = xstrdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	snprintf(sum, sumlen, "%s", PQntuples(r) ? PQgetvalue(r, 0, 1) : "");
	PQclear(r);
	return at;
}

static int
apply(PGconn *c, const char *dir, const char *file, const char *version)
{
	const char *params[2];
	char path[4096], sum[32], err[512];
	PGresult *r;
	size_t len;
	char *sql;
	int rc = 0;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((sql = slurp(path, &len)) == NULL) {
		log_msg(LOG_ERROR, "%s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	checksum(sql, len, sum, sizeof sum);
	params[0] = version;
	params[1] = sum;
	/* each migration in its own transaction, with its record */
	if (db_exec((struct pg_conn *)c, "BEGIN", err, sizeof err) == -1 ||
	    db_exec((struct pg_conn *)c, sql, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "%s: %s", file, err);
		rc = EX_SOFTWARE;
		goto out;
	}
	r = PQexecParams(c, "INSERT INTO schema_migrations (version, checksum) "
	    "VALUES ($1, $2)", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_msg(LOG_ERROR, "%s: %s", file, PQerrorMessage(c));
		rc = EX_SOFTWARE;
	}
	PQclear(r);
	if (rc == 0 && db_exec((struct pg_conn *)c, "COMMIT", err,
	    sizeof err) == -1) {
		log_msg(LOG_ERROR, "%s: %s", file, err);
		rc = EX_SOFTWARE;
	}
out:
	if (rc)
		db_exec((struct pg_conn *)c, "ROLLBACK", err, sizeof err);
	free(sql);
	return rc;
}

static int
migrate(int argc, char *argv[])
{
	const char *dir = env_str("ETL_SQL_DIR", DATADIR "/sql");
	struct dirent **files = NULL;
	char err[512], sum[32], fsum[32], version[256], path[4096];
	struct pg_conn *conn;
	PGconn *c;
	int status_only = 0, i, n, rc = 0, done = 0;
	size_t len;
	char *at, *sql;

	if (argc == 2 && strcmp(argv[1], "--status") == 0)
		status_only = 1;
	else if (argc != 1)
		usage();
	if ((n = scandir(dir, &files, is_migration, alphasort)) < 0) {
		log_msg(LOG_ERROR, "%s: %s (set ETL_SQL_DIR)", dir,
		    strerror(errno));
		return EX_CONFIG;
	}
	if ((conn = ctl_connect(&rc)) == NULL)
		goto out;
	c = (PGconn *)conn;
	if (db_exec(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", err,
	    sizeof err) == -1) {
		log_msg(LOG_ERROR, "waiting for another migrate: %s", err);
		rc = EX_TEMPFAIL;
		goto out;
	}
	if (
	    db_exec(conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version text PRIMARY KEY, "
	    "applied_at timestamptz NOT NULL DEFAULT now(), "
	    "checksum text NOT NULL)", err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "schema_migrations: %s", err);
		rc = EX_SOFTWARE;
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(version, sizeof version, "%.*s",
		    (int)(strlen(files[i]->d_name) - 4), files[i]->d_name);
		if ((at = applied(c, version, sum, sizeof sum)) == NULL) {
			log_msg(LOG_ERROR, "schema_migrations: %s",
			    PQerrorMessage(c));
			rc = EX_SOFTWARE;
			break;
		}
		if (*at) {
			/* applied: say so if the file changed since */
			snprintf(path, sizeof path, "%s/%s", dir,
			    files[i]->d_name);
			if ((sql = slurp(path, &len)) != NULL) {
				checksum(sql, len, fsum, sizeof fsum);
				if (strcmp(fsum, sum) != 0)
					log_msg(LOG_WARN, "%s: changed since "
					    "it was applied", files[i]->d_name);
				free(sql);
			}
			if (status_only)
				printf("%-32s applied %s\n", version, at);
		} else if (status_only)
			printf("%-32s pending\n", version);
		else if ((rc = apply(c, dir, files[i]->d_name, version)) == 0) {
			printf("%-32s applied now\n", version);
			done++;
		}
		free(at);
	}
	if (!status_only && rc == 0 && done == 0)
		printf("up to date\n");
out:
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	db_close(conn);
	return rc;
}

int
main(int argc, char *argv[])
{
	static char name[] = "etl-ctl";
	size_t i;
	int status;

	argv[0] = name;
	log_init(name);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "--version") == 0) {
		printf("etl-ctl %s\n", ETL_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			break;
	if (i == sizeof subcommands / sizeof subcommands[0])
		usage();
	status = subcommands[i].fn(argc - 1, argv + 1);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_msg(LOG_ERROR, "stdout: %s", strerror(errno));
		status = EX_IOERR;
	}
	return status;
}
