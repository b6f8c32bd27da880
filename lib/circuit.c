/*
 * The circuit breaker: after K failed requests in a row, or when Ozon
 * says "Circle is open", calls stop for a cool-down; then one probe
 * decides.  The state outlives the run: in Redis when there is one
 * (shared by every process of the Client-Id), else in a file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "ozon-etl.h"

static void
load(struct circuit *cb)
{
	redisReply *rep;
	FILE *fp;
	long long f, u;

	rep = rds_cmd(cb->rds, "HMGET %s failures open_until", cb->key);
	if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
		cb->failures = rep->element[0]->str ?
		    atoi(rep->element[0]->str) : 0;
		cb->open_until = rep->element[1]->str ?
		    atoll(rep->element[1]->str) : 0;
		freeReplyObject(rep);
		return;
	}
	freeReplyObject(rep);
	if (cb->path[0] && (fp = fopen(cb->path, "r")) != NULL) {
		if (fscanf(fp, "%lld %lld", &f, &u) == 2) {
			cb->failures = (int)f;
			cb->open_until = u;
		}
		(void)fclose(fp);	/* read only: nothing left to lose */
	}
}

static void
save(struct circuit *cb)
{
	redisReply *rep;
	char tmp[sizeof cb->path + 8];
	FILE *fp;

	rep = rds_cmd(cb->rds, "HSET %s failures %d open_until %lld", cb->key,
	    cb->failures, (long long)cb->open_until);
	if (rep) {
		freeReplyObject(rep);
		return;
	}
	if (!cb->path[0])
		return;
	/* temp file and rename: a reader never sees half a state */
	snprintf(tmp, sizeof tmp, "%s.tmp", cb->path);
	if ((fp = fopen(tmp, "w")) != NULL && fprintf(fp, "%d %lld\n",
	    cb->failures, (long long)cb->open_until) < 0) {
		(void)fclose(fp);	/* failed already: only free it */
		fp = NULL;
	}
	if (fp == NULL || fclose(fp) != 0 || rename(tmp, cb->path) == -1) {
		if (!cb->warned)
			log_msg(LOG_WARN, "%s: %s: circuit state not kept",
			    cb->path, strerror(errno));
		cb->warned = 1;
	}
}

void
cb_init(struct circuit *cb, int threshold, int cooldown_s, struct rds *r,
    const char *state_dir, const char *client_id)
{
	memset(cb, 0, sizeof *cb);
	cb->threshold = threshold;
	cb->cooldown_s = cooldown_s;
	cb->rds = r;
	snprintf(cb->key, sizeof cb->key, "ozon-etl:circuit:%s", client_id);
	if (state_dir)
		snprintf(cb->path, sizeof cb->path, "%s/circuit-%s", state_dir,
		    client_id);
	load(cb);
}

int
cb_allow(struct circuit *cb)
{
	time_t now = time(NULL);

	if (cb->open_until == 0)
		return CB_CLOSED;
	if (now < cb->open_until)
		return CB_OPEN;
	cb->probing = 1;
	return CB_PROBE;
}

void
cb_success(struct circuit *cb)
{
	int changed = cb->failures || cb->open_until;

	cb->failures = 0;
	cb->open_until = 0;
	cb->probing = 0;
	if (changed)
		save(cb);
}

void
cb_trip(struct circuit *cb)
{
	cb->open_until = time(NULL) + cb->cooldown_s;
	cb->probing = 0;
	save(cb);
}

int
cb_failure(struct circuit *cb)
{
	cb->failures++;
	if (cb->probing || (cb->threshold > 0 &&
	    cb->failures >= cb->threshold)) {
		cb_trip(cb);
		return 1;
	}
	save(cb);
	return 0;
}
