/*
 * ozon-extract: pull a seller's stock from the Ozon Seller API and write
 * one NDJSON line per row, exactly as Ozon sent it, page by page.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "ozon-etl.h"

enum { CACHE_USE, CACHE_REFRESH, CACHE_OFF };

static const char *cache_modes[] = { "use", "refresh", "off", NULL };
static const char *warehouse_types[] = {
	"ALL", "EXPRESS_DARK_STORE", "NOT_EXPRESS_DARK_STORE", NULL
};

/* Settings, from the environment and the options. */
static const struct ozon_endpoint *ep;
static struct ozon_query q0 = { 1000, 0, "ALL" };
static int64_t max_pages;		/* 0: all */
static int cache_mode = CACHE_USE;
static int64_t cache_ttl = 900;
static double rate = -1;		/* --rate, else OZON_RATE_LIMIT */
static int64_t attempts = 6;		/* tries per page */
static int64_t backoff_base_ms = 500, backoff_cap_ms = 30000;
static int64_t retry_after_max = 120;	/* seconds we agree to wait */
static int64_t breaker_failures = 5, breaker_cooldown = 300;
static int verbose;
static struct http_opts hopts = {
	NULL, NULL, 10000, 60000, 1, 30
};

/* Run state. */
static struct http http;
static struct rds rds;
static struct ratelimit rl;
static struct circuit cb;
static struct out out;
static char *url;
static char *log_url;		/* url without any user:password@ */
static uint64_t rng;
static size_t full_bytes;	/* the largest answer that held a full page */
static long prefetched = -1;	/* the offset of the request in flight */
static struct {
	int64_t pages, rows, rejected, requests, failures, retries, api_ms;
	int64_t hits, misses;
	int complete;
} n;

static uint64_t
rand64(void)
{
	/* xorshift64*: good enough for jitter */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* Full jitter: anywhere from 0 to the exponential bound. */
static int64_t
backoff_us(int attempt)
{
	int64_t bound = backoff_base_ms;

	while (--attempt > 0 && bound < backoff_cap_ms)
		bound *= 2;
	if (bound > backoff_cap_ms)
		bound = backoff_cap_ms;
	return (int64_t)(rand64() % (uint64_t)(bound * 1000 + 1));
}

static void
log_request(const struct ozon_query *q, int attempt, int64_t ms,
    const char *outcome)
{
	if (!verbose)
		return;
	log_begin(LOG_INFO, "request");
	log_str("method", "POST", 4);
	log_str("url", log_url, strlen(log_url));
	log_str("client_id", hopts.client_id, strlen(hopts.client_id));
	log_str("api_key", "[redacted]", 10);
	log_int("offset", q->offset);
	log_int("limit", q->limit);
	log_int("attempt", attempt);
	log_int("status", http.status);
	log_int("bytes", (int64_t)http.body.len);
	log_int("ms", ms);
	log_str("outcome", outcome, strlen(outcome));
	log_end();
}

/* What an answer means. */
struct verdict {
	int status;		/* 0: a page; -1: retry; else the exit status */
	int throttled;		/* a 429: neither Ozon's fault nor a page */
	int trip;		/* "Circle is open" */
	int64_t wait;		/* Retry-After in seconds, or -1 */
	char why[320];
};

static void
append(char *s, size_t size, const char *more)
{
	size_t len = strlen(s);

	snprintf(s + len, size - len, "%s", more);
}

/* Judge the last answer (rc from http_post), parsing it into pg. */
static void
judge(int rc, const struct ozon_query *q, struct ozon_page *pg,
    struct verdict *v)
{
	char err[256];
	int parsed;

	memset(v, 0, sizeof *v);
	v->status = -1;
	v->wait = -1;
	if (rc == -1) {
		snprintf(v->why, sizeof v->why, "offset %ld: %s", q->offset,
		    http.err);
		return;
	}
	parsed = ozon_parse(ep, http.body.p, http.body.len, pg, err,
	    sizeof err) == 0;
	if (http.status == 200) {
		if (parsed)
			v->status = 0;
		else
			snprintf(v->why, sizeof v->why, "offset %ld: malformed "
			    "answer: %s", q->offset, err);
		return;
	}
	snprintf(v->why, sizeof v->why, "offset %ld: HTTP %ld%s%.*s",
	    q->offset, http.status, pg->message.len ? ": " : "",
	    (int)pg->message.len, pg->message.p ? pg->message.p : "");
	if (pg->message.p != NULL && memmem(pg->message.p, pg->message.len,
	    "Circle is open", 14)) {
		v->trip = 1;
		v->status = EX_UNAVAILABLE;
	} else if (http.status == 401 || http.status == 403) {
		v->status = EX_NOPERM;
		append(v->why, sizeof v->why,
		    " (check OZON_CLIENT_ID and OZON_API_KEY)");
	} else if (http.status == 404) {
		v->status = EX_CONFIG;
		append(v->why, sizeof v->why, " (check OZON_API_URL)");
	} else if (http.status == 429 || http.status == 503) {
		v->throttled = http.status == 429;
		v->wait = http.retry_after_s;
	} else if (http.status < 500)
		v->status = EX_SOFTWARE;	/* Ozon refuses what we sent */
}

/* The cache key of a request: Client-Id, endpoint, body; no secret. */
static void
page_key(const struct buf *body, struct buf *key)
{
	key->len = 0;
	buf_adds(key, "ozon-etl:page:");
	buf_adds(key, hopts.client_id);
	buf_addc(key, ':');
	buf_adds(key, ep->path);
	buf_addc(key, ':');
	buf_add(key, body->p, body->len);
	buf_addc(key, '\0');
}

/*
 * The answer to q just came in and looks like a full page: send the
 * request for the next page now, so that Ozon prepares it while this one
 * is parsed and written.  Not when this request is a probe, when
 * --max-pages stops first, or when the cache has the next page.
 */
static void
prefetch(const struct ozon_query *q)
{
	static struct buf body, key;
	struct ozon_query nq = *q;
	redisReply *rep;
	int have;

	if (cb.probing || full_bytes == 0 || http.body.len < full_bytes -
	    full_bytes / 10 || (max_pages && n.pages + 1 >= max_pages))
		return;
	nq.offset += nq.limit;
	ep->body(&nq, &body);
	if (cache_mode == CACHE_USE && rds.c) {
		page_key(&body, &key);
		rep = rds_cmd(&rds, "EXISTS %s", key.p);
		have = rep && rep->type == REDIS_REPLY_INTEGER && rep->integer;
		freeReplyObject(rep);
		if (have)
			return;
	}
	rl_wait(&rl);
	http_send(&http, url, body.p, body.len);
	n.requests++;
	prefetched = nq.offset;
}

/*
 * Fetch one page into pg, with retries.  Returns 0, or the exit status
 * that ends the run (the reason logged).
 */
static int
fetch(const struct ozon_query *q, const struct buf *body,
    struct ozon_page *pg)
{
	struct verdict v;
	int64_t t0, ms;
	int attempt, rc;

	for (attempt = 1; ; attempt++) {
		t0 = log_elapsed_ms();
		if (attempt == 1 && http.busy && prefetched == q->offset)
			rc = http_wait(&http);	/* sent with the last page */
		else {
			http_cancel(&http);
			rl_wait(&rl);
			t0 = log_elapsed_ms();
			rc = http_post(&http, url, body->p, body->len);
			n.requests++;
		}
		ms = log_elapsed_ms() - t0;
		n.api_ms += ms;
		prefetched = -1;
		if (rc == 0 && http.status == 200)
			prefetch(q);
		judge(rc, q, pg, &v);
		log_request(q, attempt, ms, v.status == 0 ? "ok" :
		    v.status == -1 ? "retry" : "failed");
		if (v.status == 0) {
			cb_success(&cb);
			if (pg->nrows == (size_t)q->limit &&
			    http.body.len > full_bytes)
				full_bytes = http.body.len;
			return 0;
		}
		n.failures++;
		if (v.trip) {
			cb_trip(&cb);
			log_msg(LOG_ERROR, "%s: Ozon blocked the method; not "
			    "calling it for %llds", v.why,
			    (long long)breaker_cooldown);
			return v.status;
		}
		if (v.status > 0) {
			log_msg(LOG_ERROR, "%s", v.why);
			return v.status;
		}
		/* throttling is not a fault of Ozon's; the rest counts */
		if (!v.throttled && cb_failure(&cb)) {
			log_msg(LOG_ERROR, "%s; circuit open for %llds after %d "
			    "failures in a row", v.why,
			    (long long)breaker_cooldown, cb.failures);
			return EX_UNAVAILABLE;
		}
		if (attempt >= attempts) {
			log_msg(LOG_ERROR, "%s; giving up, attempts: %d", v.why,
			    attempt);
			return v.throttled ? EX_TEMPFAIL : EX_UNAVAILABLE;
		}
		if (v.wait > retry_after_max) {
			log_msg(LOG_ERROR, "%s; Retry-After %llds is past "
			    "--retry-after-max", v.why, (long long)v.wait);
			return EX_TEMPFAIL;
		}
		log_msg(LOG_WARN, "%s; retry %d of %lld", v.why, attempt,
		    (long long)attempts - 1);
		n.retries++;
		sleep_us(v.wait >= 0 ? v.wait * 1000000 : backoff_us(attempt));
	}
}

/* The page from the cache, when it has a good one. */
static int
cached(const char *key, struct ozon_page *pg)
{
	redisReply *rep;
	char err[256];
	int rc = -1;

	if (cache_mode != CACHE_USE || rds.c == NULL)
		return -1;
	rep = rds_cmd(&rds, "GET %s", key);
	if (rep && rep->type == REDIS_REPLY_STRING &&
	    ozon_parse(ep, rep->str, rep->len, pg, err, sizeof err) == 0)
		rc = 0;
	freeReplyObject(rep);
	return rc;
}

static void
cache_put(const char *key)
{
	if (cache_mode != CACHE_OFF && rds.c)
		freeReplyObject(rds_cmd(&rds, "SET %s %b EX %lld", key,
		    http.body.p, http.body.len, (long long)cache_ttl));
}

/* Write a page out; -1 when stdout is gone. */
static int
emit(const struct ozon_page *pg, const struct ozon_query *q)
{
	const char *p, *nl;
	char reason[96];
	size_t i;

	if (out_write(&out, pg->rows.p, pg->rows.len) == -1)
		return -1;
	/* rows that are not objects cannot be NDJSON records */
	for (i = 0, p = pg->bad.p; i < pg->nbad; i++, p = nl + 1) {
		nl = memchr(p, '\n', pg->bad.len - (size_t)(p - pg->bad.p));
		snprintf(reason, sizeof reason, "row %zu of the page at offset "
		    "%ld: not an object", pg->bad_at[i] + 1, q->offset);
		/* "line": the row's place in the whole extract */
		rej_raw((unsigned long)(n.rows + (int64_t)pg->bad_at[i]) + 1,
		    reason, NULL, p, (size_t)(nl - p), (size_t)(nl - p));
		n.rejected++;
	}
	n.rows += (int64_t)pg->nrows;
	return 0;
}

static int
extract(void)
{
	struct ozon_query q = q0;
	struct ozon_page pg;
	struct buf body = { NULL, 0, 0 }, key = { NULL, 0, 0 };
	int status = 0;

	memset(&pg, 0, sizeof pg);
	for (;;) {
		if (max_pages && n.pages == max_pages) {
			log_msg(LOG_ERROR, "stopped at --max-pages %lld: not "
			    "a complete snapshot", (long long)max_pages);
			status = EX_DATAERR;
			break;
		}
		ep->body(&q, &body);
		page_key(&body, &key);
		if (cached(key.p, &pg) == 0)
			n.hits++;
		else {
			if (cache_mode != CACHE_OFF && rds.c)
				n.misses++;
			if ((status = fetch(&q, &body, &pg)) != 0)
				break;
			cache_put(key.p);
		}
		n.pages++;
		if (emit(&pg, &q) == -1)
			break;	/* stdout's reader went away, or a write failed */
		if (rej_failed()) {
			log_msg(LOG_ERROR, "reject stream: write failed");
			status = EX_IOERR;
			break;
		}
		if (!ep->next(&q, pg.nrows)) {
			n.complete = 1;
			break;
		}
	}
	ozon_page_free(&pg);
	buf_free(&body);
	buf_free(&key);
	return status;
}

static void
usage(void)
{
	fprintf(stderr, "usage: ozon-extract [-v] [-c use|refresh|off] "
	    "[-e endpoint] [-l limit] [-p max-pages]\n"
	    "                    [-w warehouse-type] [--rate n] [--retries n] "
	    "[--version] ...\n");
	exit(EX_USAGE);
}

static void
bad(const char *opt, const char *err)
{
	fprintf(stderr, "ozon-extract: %s: %s\n", opt, err);
	usage();
}

static int
pick(const char *s, const char *const *list)
{
	int i;

	for (i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return i;
	return -1;
}

/* An integer option or variable; a bad one is a usage error. */
static int64_t
count(const char *name, const char *s, int64_t min, int64_t max)
{
	char err[128];
	int64_t v;

	if (parse_count(s, min, max, &v, err, sizeof err) == -1)
		bad(name, err);
	return v;
}

/* Requests per second from 0 to 1000, or -1. */
static double
parse_rate(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= 0 && v <= 1000))
		return -1;
	return v;
}

/* The configuration that has no option: a problem here is 78. */
static int
configure(void)
{
	const char *s, *dir;
	char err[256], *at;
	size_t len;

	hopts.client_id = env_str("OZON_CLIENT_ID", NULL);
	hopts.api_key = env_str("OZON_API_KEY", NULL);
	if (hopts.client_id == NULL || hopts.api_key == NULL) {
		log_msg(LOG_ERROR, "%s is not set", hopts.client_id ?
		    "OZON_API_KEY" : "OZON_CLIENT_ID");
		return EX_CONFIG;
	}
	if (strlen(hopts.client_id) > 64 ||
	    strspn(hopts.client_id, "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != strlen(hopts.client_id)) {
		log_msg(LOG_ERROR, "OZON_CLIENT_ID: not an Ozon client id");
		return EX_CONFIG;
	}
	s = env_str("OZON_API_URL", "https://api-seller.ozon.ru");
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) {
		log_msg(LOG_ERROR, "OZON_API_URL: want an http:// or https:// "
		    "URL");
		return EX_CONFIG;
	}
	len = strlen(s);
	while (len > 0 && s[len - 1] == '/')
		len--;
	url = xmalloc(len + strlen(ep->path) + 1);
	memcpy(url, s, len);
	memcpy(url + len, ep->path, strlen(ep->path) + 1);
	log_url = xstrdup(url);
	if ((at = strchr(log_url, '@')) != NULL &&
	    at < strchr(strstr(log_url, "://") + 3, '/'))
		memmove(strstr(log_url, "://") + 3, at + 1, strlen(at + 1) + 1);
	if (rate < 0 && (s = env_str("OZON_RATE_LIMIT", "10")) &&
	    (rate = parse_rate(s)) < 0) {
		log_msg(LOG_ERROR, "OZON_RATE_LIMIT: %s: not a rate from 0 to "
		    "1000 per second", s);
		return EX_CONFIG;
	}
	if ((s = env_str("REDIS_URL", NULL)) == NULL)
		log_msg(LOG_WARN, "REDIS_URL is not set: no page cache; the "
		    "rate limit and circuit are this process's own");
	else if (rds_open(&rds, s, 1000, err, sizeof err) == -1)
		log_msg(LOG_WARN, "redis: %s; going on without it", err);
	dir = env_str("ETL_STATE_DIR", "/var/lib/ozon-etl");
	if (access(dir, W_OK) == -1)
		dir = NULL;	/* the circuit's state lives as long as we do */
	if (http_init(&http, &hopts, err, sizeof err) == -1) {
		log_msg(LOG_ERROR, "%s", err);
		return EX_SOFTWARE;
	}
	rl_init(&rl, rate, &rds, hopts.client_id);
	cb_init(&cb, (int)breaker_failures, (int)breaker_cooldown, &rds, dir,
	    hopts.client_id);
	return 0;
}

int
main(int argc, char *argv[])
{
	static char name[] = "ozon-extract";
	static const struct option longopts[] = {
		{ "cache", required_argument, NULL, 'c' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "limit", required_argument, NULL, 'l' },
		{ "max-pages", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "warehouse-type", required_argument, NULL, 'w' },
		{ "cache-ttl", required_argument, NULL, 'T' },
		{ "rate", required_argument, NULL, 'R' },
		{ "retries", required_argument, NULL, 'r' },
		{ "backoff-base", required_argument, NULL, 'B' },
		{ "backoff-cap", required_argument, NULL, 'C' },
		{ "retry-after-max", required_argument, NULL, 'A' },
		{ "connect-timeout", required_argument, NULL, 'O' },
		{ "timeout", required_argument, NULL, 't' },
		{ "low-speed-time", required_argument, NULL, 'S' },
		{ "breaker-failures", required_argument, NULL, 'K' },
		{ "breaker-cooldown", required_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c, i, status, opened;

	argv[0] = name;
	log_init(name);
	ep = &ozon_endpoints[0];
	while ((c = getopt_long(argc, argv, "c:e:l:p:vw:", longopts,
	    NULL)) != -1)
		switch (c) {
		case 'c':
			if ((cache_mode = pick(optarg, cache_modes)) < 0)
				bad("--cache", "want use, refresh or off");
			break;
		case 'e':
			if ((ep = ozon_endpoint(optarg)) == NULL)
				bad("--endpoint", "no such endpoint");
			break;
		case 'l':
			q0.limit = (long)count("--limit", optarg, 1, 1000);
			break;
		case 'p':
			max_pages = count("--max-pages", optarg, 1, INT32_MAX);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			if ((i = pick(optarg, warehouse_types)) < 0)
				bad("--warehouse-type", "want ALL, "
				    "EXPRESS_DARK_STORE or "
				    "NOT_EXPRESS_DARK_STORE");
			q0.warehouse_type = warehouse_types[i];
			break;
		case 'T':
			cache_ttl = count("--cache-ttl", optarg, 1, 86400 * 7);
			break;
		case 'R':
			if ((rate = parse_rate(optarg)) < 0)
				bad("--rate", "not a rate from 0 to 1000 per "
				    "second");
			break;
		case 'r':
			attempts = count("--retries", optarg, 0, 100) + 1;
			break;
		case 'B':
			backoff_base_ms = count("--backoff-base", optarg, 1,
			    600000);
			break;
		case 'C':
			backoff_cap_ms = count("--backoff-cap", optarg, 1,
			    3600000);
			break;
		case 'A':
			retry_after_max = count("--retry-after-max", optarg, 0,
			    86400);
			break;
		case 'O':
			hopts.connect_timeout_ms = (long)count(
			    "--connect-timeout", optarg, 1, 600) * 1000;
			break;
		case 't':
			hopts.timeout_ms = (long)count("--timeout", optarg, 1,
			    3600) * 1000;
			break;
		case 'S':
			hopts.low_speed_s = (long)count("--low-speed-time",
			    optarg, 1, 3600);
			break;
		case 'K':
			breaker_failures = count("--breaker-failures", optarg,
			    1, 1000);
			break;
		case 'D':
			breaker_cooldown = count("--breaker-cooldown", optarg,
			    1, 86400);
			break;
		case 'V':
			printf("ozon-extract %s\n", ETL_VERSION);
			return 0;
		default:
			usage();
		}
	if (optind != argc)
		usage();

	signal(SIGPIPE, SIG_IGN);
	out_init(&out, 1);
	rej_init();
	rng = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	if (getrandom(&rng, sizeof rng, GRND_NONBLOCK) != sizeof rng)
		rng |= 1;
	if ((status = configure()) != 0)
		goto out;
	opened = cb_allow(&cb);
	if (opened == CB_OPEN) {
		log_msg(LOG_ERROR, "circuit open for %lld more seconds: not "
		    "calling Ozon", cb.open_until - (long long)time(NULL));
		status = EX_UNAVAILABLE;
		goto out;
	}
	if (opened == CB_PROBE)
		log_msg(LOG_INFO, "circuit half-open: one request decides");
	status = extract();
out:
	status = out_close(&out, status);
	log_begin(LOG_INFO, "summary");
	log_int("in", n.rows);
	log_int("out", n.rows - n.rejected);
	log_int("rejected", n.rejected);
	log_int("pages", n.pages);
	log_int("rows", n.rows);
	log_int("api_requests", n.requests);
	log_int("api_failures", n.failures);
	log_int("retries", n.retries);
	log_int("api_ms", n.api_ms);
	log_int("cache_hits", n.hits);
	log_int("cache_misses", n.misses);
	log_int("connections", http.connections);
	log_bool("complete", n.complete);
	/* open now, whether it was found open or this run opened it */
	log_bool("circuit_open", cb.open_until > (long long)time(NULL));
	log_end_summary(status);
	http_free(&http);
	rds_close(&rds);
	free(url);
	free(log_url);
	return status;
}
