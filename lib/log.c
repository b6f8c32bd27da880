/*
 * Structured log lines on stderr: one JSON object per line, or
 * "tool: event: key=value ..." text when stderr is a terminal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ozon-etl.h"

static const char *tool = "ozon-etl";
static char batch_id[128];
static int json = 1;
static int min_level = LOG_INFO;
static struct timespec t0;
static struct buf line;
static int skipping;		/* the event being built is below min_level */

static const char *levels[] = { "debug", "info", "warning", "error" };

static void
make_uuid(char *out, size_t len)
{
	unsigned char b[16];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof b) {
		n = getrandom(b + got, sizeof b - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* no entropy source at all: time and pid, still unique */
			uint64_t x = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
			memcpy(b, &x, sizeof x);
			memcpy(b + 8, &t0, sizeof x);
			break;
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);	/* RFC 4122 variant */
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void
log_init(const char *name)
{
	const char *s;

	tool = name;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s = env_str("ETL_LOG_FORMAT", NULL);
	if (s == NULL)
		json = !isatty(2);
	else
		json = strcmp(s, "text") != 0;
	s = env_str("ETL_BATCH_ID", NULL);
	if (s && strlen(s) < sizeof batch_id)
		snprintf(batch_id, sizeof batch_id, "%s", s);
	else {
		make_uuid(batch_id, sizeof batch_id);
		if (s)
			log_msg(LOG_WARN, "ETL_BATCH_ID longer than %zu bytes: "
			    "using %s", sizeof batch_id - 1, batch_id);
	}
	s = env_str("ETL_LOG_LEVEL", "info");
	for (min_level = LOG_ERROR; min_level > LOG_DEBUG; min_level--)
		if (strcmp(s, levels[min_level]) == 0)
			break;
	if (strcmp(s, levels[min_level]) != 0) {
		min_level = LOG_INFO;
		log_msg(LOG_WARN, "ETL_LOG_LEVEL=%s: not debug, info, warning "
		    "or error; using info", s);
	}
}

const char *
log_tool(void)
{
	return tool;
}

const char *
log_batch_id(void)
{
	return batch_id;
}

int64_t
log_elapsed_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - t0.tv_sec) * 1000 +
	    (t.tv_nsec - t0.tv_nsec) / 1000000;
}

void
log_begin(int level, const char *event)
{
	struct timespec now;
	struct tm tm;
	char ts[64];

	if (level < LOG_DEBUG || level > LOG_ERROR)
		level = LOG_ERROR;	/* levels[] has no other names */
	line.len = 0;
	/* the summary is the run's record: it is always written */
	if ((skipping = level < min_level && strcmp(event, "summary") != 0))
		return;
	if (!json) {
		buf_adds(&line, tool);
		buf_add(&line, ": ", 2);
		if ((level == LOG_WARN || level == LOG_ERROR) &&
		    strcmp(event, levels[level]) != 0) {
			buf_adds(&line, levels[level]);
			buf_add(&line, ": ", 2);
		}
		buf_adds(&line, event);
		buf_addc(&line, ':');
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
	buf_adds(&line, "{\"ts\":\"");
	buf_adds(&line, ts);
	buf_adds(&line, "\",\"level\":\"");
	buf_adds(&line, levels[level]);
	buf_adds(&line, "\",\"tool\":");
	buf_add_jstr(&line, tool, strlen(tool));
	buf_adds(&line, ",\"batch_id\":");
	buf_add_jstr(&line, batch_id, strlen(batch_id));
	buf_adds(&line, ",\"event\":");
	buf_add_jstr(&line, event, strlen(event));
}

static void
key(const char *k)
{
	if (json) {
		buf_addc(&line, ',');
		buf_add_jstr(&line, k, strlen(k));
		buf_addc(&line, ':');
	} else {
		buf_addc(&line, ' ');
		buf_adds(&line, k);
		buf_addc(&line, '=');
	}
}

void
log_str(const char *k, const char *s, size_t n)
{
	if (skipping)
		return;
	key(k);
	buf_add_jstr(&line, s, n);
}

void
log_int(const char *k, int64_t v)
{
	if (skipping)
		return;
	key(k);
	buf_add_i64(&line, v);
}

void
log_bool(const char *k, int v)
{
	if (skipping)
		return;
	key(k);
	buf_adds(&line, v ? "true" : "false");
}

void
log_end(void)
{
	size_t off = 0;
	ssize_t n;

	if (skipping)
		return;
	if (json)
		buf_addc(&line, '}');
	buf_addc(&line, '\n');
	/* one write per line, so that stages sharing stderr never mix */
	while (off < line.len) {
		n = write(2, line.p + off, line.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	line.len = 0;
}

void
log_end_summary(int status)
{
	struct rusage ru;

	log_int("elapsed_ms", log_elapsed_ms());
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		log_int("max_rss_kb", ru.ru_maxrss);
	log_int("exit", status);
	log_end();
}

void
log_msg(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level < LOG_DEBUG || level > LOG_ERROR)
		level = LOG_ERROR;	/* levels[] has no other names */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!json) {
		/* "tool: message", the way Unix tools speak */
		line.len = 0;
		if (level < min_level)
			return;
		buf_adds(&line, tool);
		buf_add(&line, ": ", 2);
		if (level == LOG_WARN)
			buf_adds(&line, "warning: ");
		buf_adds(&line, msg);
		skipping = 0;
		log_end();
		return;
	}
	log_begin(level, levels[level]);
	log_str("msg", msg, strlen(msg));
	log_end();
}
