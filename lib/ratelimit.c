/*
 * A rate limiter per Client-Id: generic cell rate algorithm, one request
 * every 1/rate seconds.  With Redis the schedule is shared by every
 * process of the Client-Id (Ozon counts per Client-Id); without it, it is
 * this process's own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "ozon-etl.h"

/* Reserve the next slot; return the microseconds until it. */
static const char gcra[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "if tat < now then tat = now end\n"
    "local nxt = tat + tonumber(ARGV[1])\n"
    "redis.call('SET', KEYS[1], nxt, 'PX', math.floor((nxt - now) / 1000) + 1000)\n"
    "return tat - now\n";

static int64_t
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

void
rl_init(struct ratelimit *rl, double rate, struct rds *r,
    const char *client_id)
{
	memset(rl, 0, sizeof *rl);
	rl->interval_us = rate > 0 ? (int64_t)(1e6 / rate) : 0;
	rl->rds = r;
	snprintf(rl->key, sizeof rl->key, "ozon-etl:ratelimit:%s", client_id);
}

void
sleep_us(int64_t us)
{
	struct timespec t;

	if (us <= 0)
		return;
	t.tv_sec = us / 1000000;
	t.tv_nsec = (us % 1000000) * 1000;
	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

int64_t
rl_wait(struct ratelimit *rl)
{
	redisReply *rep;
	int64_t wait, now;

	if (rl->interval_us == 0)
		return 0;
	rep = rds_cmd(rl->rds, "EVAL %s 1 %s %lld", gcra, rl->key,
	    (long long)rl->interval_us);
	if (rep && rep->type == REDIS_REPLY_INTEGER)
		wait = rep->integer;
	else {
		/* this process's own schedule */
		now = now_us();
		if (rl->tat < now)
			rl->tat = now;
		wait = rl->tat - now;
		rl->tat += rl->interval_us;
	}
	freeReplyObject(rep);
	sleep_us(wait);
	return wait;
}
