/*
 * One HTTP connection for a whole run (one libcurl easy handle, kept
 * alive), POSTing JSON with the seller's headers.  A request can be sent
 * and waited for later, so that the caller works on the last answer
 * meanwhile.  The Api-Key lives only in the header list handed to
 * libcurl; nothing here prints.
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

	if (h->next.len + size * n > BODY_MAX)
		return 0;	/* libcurl stops with CURLE_WRITE_ERROR */
	buf_add(&h->next, p, size * n);
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
	    (h->multi = curl_multi_init()) == NULL ||
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
	/* a page is a few hundred KiB: fewer, larger reads */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
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

void
http_send(struct http *h, const char *url, const char *body, size_t n)
{
	int running;

	h->next.len = 0;
	h->err[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	curl_easy_setopt(h->curl, CURLOPT_COPYPOSTFIELDS, body);
	curl_multi_add_handle(h->multi, h->curl);
	h->busy = 1;
	/* as far as it goes without waiting: the request is on its way */
	curl_multi_perform(h->multi, &running);
}

int
http_wait(struct http *h)
{
	struct buf t;
	CURLMsg *m;
	CURLcode rc = CURLE_OK;
	curl_off_t ra = -1;
	long v = 0;
	int running = 1, left;

	if (!h->busy)
		return -1;
	curl_multi_perform(h->multi, &running);
	while (running) {
		if (curl_multi_poll(h->multi, NULL, 0, 100, NULL) != CURLM_OK)
			break;
		curl_multi_perform(h->multi, &running);
	}
	while ((m = curl_multi_info_read(h->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE)
			rc = m->data.result;
	curl_multi_remove_handle(h->multi, h->curl);
	h->busy = 0;
	/* the answer becomes the body; the old body is the next buffer */
	t = h->body;
	h->body = h->next;
	h->next = t;
	h->status = 0;
	h->retry_after_s = -1;
	if (curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &v) == CURLE_OK)
		h->connections += v;
	if (rc != CURLE_OK) {
		if (h->err[0] == '\0')
			snprintf(h->err, sizeof h->err, "%s",
			    curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &v);
	h->status = v;
	/* seconds, from either form of Retry-After; 0 is also "none" */
	if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) ==
	    CURLE_OK && ra > 0)
		h->retry_after_s = (long)ra;
	return 0;
}

int
http_post(struct http *h, const char *url, const char *body, size_t n)
{
	http_send(h, url, body, n);
	return http_wait(h);
}

void
http_cancel(struct http *h)
{
	if (!h->busy)
		return;
	/* the connection goes with it: a new one is opened next time */
	curl_multi_remove_handle(h->multi, h->curl);
	h->busy = 0;
}

void
http_free(struct http *h)
{
	http_cancel(h);
	if (h->curl)
		curl_easy_cleanup(h->curl);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->hdr);
	buf_free(&h->body);
	buf_free(&h->next);
	curl_global_cleanup();
	memset(h, 0, sizeof *h);
}
