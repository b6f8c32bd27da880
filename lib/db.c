/*
 * PostgreSQL (libpq): a connection from ETL_DATABASE_URL or libpq's own
 * PG* variables, with timeouts that keep a stuck run from holding locks.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "ozon-etl.h"

/* libpq's message, first line only, without its trailing newline. */
static void
first_line(const char *msg, char *err, size_t errlen)
{
	snprintf(err, errlen, "%.*s", (int)strcspn(msg, "\n"), msg);
}

/* Server notices go to the log, one line each, not raw to stderr. */
static void
notice(void *arg, const char *msg)
{
	(void)arg;
	log_msg(LOG_WARN, "database: %.*s", (int)strcspn(msg, "\n"), msg);
}

struct pg_conn *
db_connect(const char *tool, int *status, char *err, size_t errlen)
{
	const char *url = env_str("ETL_DATABASE_URL", "");
	const char *keys[] = { "dbname", "application_name",
	    "connect_timeout", NULL };
	const char *vals[] = { url, tool, "10", NULL };
	const char *params[2];
	PQconninfoOption *opts = NULL;
	char *perr = NULL;
	PGconn *c;
	PGresult *r;

	/*
	 * A malformed URL is a configuration error, and libpq's message
	 * about it may quote the password: it is not shown.
	 */
	*status = EX_CONFIG;
	if (*url && (opts = PQconninfoParse(url, &perr)) == NULL) {
		PQfreemem(perr);
		snprintf(err, errlen, "ETL_DATABASE_URL: not a libpq URI or "
		    "conninfo (not shown: it may hold a password)");
		return NULL;
	} else if (*url)
		PQconninfoFree(opts);
	/* expand_dbname: the URL or conninfo stands for all its parts */
	if ((c = PQconnectdbParams(keys, vals, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		*status = EX_UNAVAILABLE;
		first_line(PQerrorMessage(c), err, errlen);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice, NULL);
	/* values from the environment go in as parameters, never as SQL */
	params[0] = env_str("ETL_STATEMENT_TIMEOUT", "10min");
	params[1] = env_str("ETL_LOCK_TIMEOUT", "30s");
	r = PQexecParams(c, "SELECT set_config('statement_timeout', $1, false), "
	    "set_config('lock_timeout', $2, false), "
	    "set_config('client_encoding', 'UTF8', false), "
	    "set_config('client_min_messages', 'warning', false)", 2, NULL,
	    params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "ETL_STATEMENT_TIMEOUT or ETL_LOCK_TIMEOUT: ");
		first_line(PQerrorMessage(c), err + strlen(err),
		    errlen - strlen(err));
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	PQclear(r);
	*status = 0;
	return (struct pg_conn *)c;
}

int
db_exec(struct pg_conn *conn, const char *sql, char *err, size_t errlen)
{
	PGconn *c = (PGconn *)conn;
	PGresult *r;
	int rc = 0;

	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		first_line(PQerrorMessage(c), err, errlen);
		rc = -1;
	}
	PQclear(r);
	return rc;
}

struct pg_result *
db_query(struct pg_conn *conn, const char *sql, int nparams,
    const char *const *params, char *err, size_t errlen)
{
	PGconn *c = (PGconn *)conn;
	PGresult *r;

	r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		first_line(PQerrorMessage(c), err, errlen);
		PQclear(r);
		return NULL;
	}
	return r;
}

void
db_close(struct pg_conn *c)
{
	if (c)
		PQfinish((PGconn *)c);
}
