/*
 * One HTTP connection for a whole run (libcurl easy handle, kept alive),
 * POSTing JSON with the seller's headers.  The Api-Key lives only in the
 * header list handed to libcurl; nothing here prints.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "ozon-etl.h"

#define BODY_MAX	(256L * 1024 * 1024)

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;

	if (h->body.len + size * n > BODY_MAX)
		return 0;	/* libcurl stops with CURLE_WRITE_ERROR */
	buf_add(&h->body, p, size * n);
	return size * n;
}

static struct curl_slist *
header(struct curl_slist *l, const char *name, const char *value)
{
	struct buf b = { NULL, 0, 0 };
	struct curl_slist *n;

	buf_adds(&b, name);
	buf_adds(&b, ": ");
	buf_adds(&b, value);
	buf_addc(&b, '\0');
	n = curl_slist_append(l, b.p);
	/* the buffer may hold the key: wipe it before it goes */
	memset(b.p, 0, b.len);
	buf_free(&b);
	if (n == NULL)
		xmalloc((size_t)-1);
	return n;
}

int
http_init(struct http *h, const struct http_opts *o, char *err,
    size_t errlen)
{
	CURL *c;

	memset(h, 0, sizeof *h);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl cannot start");
		return -1;
	}
	h->curl = c;
	h->hdr = header(h->hdr, "Client-Id", o->client_id);
	h->hdr = header(h->hdr, "Api-Key", o->api_key);
	h->hdr = header(h->hdr, "Content-Type", "application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ozon-etl/" ETL_VERSION);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->err);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");	/* all known */
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	/* an answer that stalls is a failed answer, not a hung cron slot */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_s);
	return 0;
}

int
http_post(struct http *h, const char *url, const char *body, size_t n)
{
	CURLcode rc;
	curl_off_t ra = -1;
	long status = 0;

	h->body.len = 0;
	h->err[0] = '\0';
	h->status = 0;
	h->retry_after_s = -1;
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)n);
	rc = curl_easy_perform(h->curl);
	if (curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &status) ==
	    CURLE_OK)
		h->connections += status;
	status = 0;
	if (rc != CURLE_OK) {
		if (h->err[0] == '\0')
			snprintf(h->err, sizeof h->err, "%s",
			    curl_easy_strerror(rc));
		h->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	h->status = status;
	/* seconds, from either form of Retry-After; 0 is also "none" */
	if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) ==
	    CURLE_OK && ra > 0)
		h->retry_after_s = (long)ra;
	return 0;
}

void
http_free(struct http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->hdr);
	buf_free(&h->body);
	curl_global_cleanup();
	memset(h, 0, sizeof *h);
}
