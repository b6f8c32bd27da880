/*
 * Redis, optional everywhere: a connection from REDIS_URL, and commands
 * that drop the connection on the first error so that callers fall back
 * to what they do without Redis.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "ozon-etl.h"

/* Split redis://[:password@]host[:port][/db]; unix:///path[?db=N]. */
static redisContext *
connect_url(const char *url, struct timeval tv, char **pass, long *db,
    char *err, size_t errlen)
{
	char *u, *host, *p, *at, *slash, *colon;
	redisContext *c = NULL;
	long port = 6379;

	*pass = NULL;
	*db = 0;
	if (strncmp(url, "unix://", 7) == 0) {
		u = xstrdup(url + 7);
		if ((p = strstr(u, "?db=")) != NULL) {
			*db = strtol(p + 4, NULL, 10);
			*p = '\0';
		}
		c = redisConnectUnixWithTimeout(u, tv);
		free(u);
		return c;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		snprintf(err, errlen, "REDIS_URL: want redis://host:port/db "
		    "or unix:///path");
		return NULL;
	}
	u = xstrdup(url + 8);
	host = u;
	if ((at = strrchr(u, '@')) != NULL) {
		*at = '\0';
		p = strchr(u, ':');
		*pass = xstrdup(p ? p + 1 : u);
		host = at + 1;
	}
	if ((slash = strchr(host, '/')) != NULL) {
		*slash = '\0';
		*db = strtol(slash + 1, NULL, 10);
	}
	if ((colon = strrchr(host, ':')) != NULL) {
		*colon = '\0';
		port = strtol(colon + 1, NULL, 10);
	}
	c = redisConnectWithTimeout(*host ? host : "127.0.0.1", (int)port, tv);
	free(u);
	return c;
}

int
rds_open(struct rds *r, const char *url, int timeout_ms, char *err,
    size_t errlen)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	redisReply *rep;
	char *pass;
	long db;

	memset(r, 0, sizeof *r);
	err[0] = '\0';
	r->c = connect_url(url, tv, &pass, &db, err, errlen);
	if (r->c == NULL || r->c->err) {
		if (r->c && !err[0])
			snprintf(err, errlen, "%s", r->c->errstr);
		else if (!err[0])
			snprintf(err, errlen, "cannot connect");
		goto fail;
	}
	redisSetTimeout(r->c, tv);
	if (pass) {
		rep = redisCommand(r->c, "AUTH %s", pass);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			/* the reply may quote the password: not shown */
			snprintf(err, errlen, "AUTH refused");
			freeReplyObject(rep);
			goto fail;
		}
		freeReplyObject(rep);
	}
	if (db) {
		rep = redisCommand(r->c, "SELECT %ld", db);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "SELECT %ld refused", db);
			freeReplyObject(rep);
			goto fail;
		}
		freeReplyObject(rep);
	}
	free(pass);
	return 0;
fail:
	free(pass);
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
	return -1;
}

void
rds_close(struct rds *r)
{
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
}

void *
rds_cmd(struct rds *r, const char *fmt, ...)
{
	redisReply *rep;
	va_list ap;

	if (r == NULL || r->c == NULL)
		return NULL;
	va_start(ap, fmt);
	rep = redisvCommand(r->c, fmt, ap);
	va_end(ap);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		log_msg(LOG_WARN, "redis: %s; going on without it",
		    rep ? rep->str : r->c->errstr);
		freeReplyObject(rep);
		rds_close(r);
		return NULL;
	}
	return rep;
}
