// SPDX-License-Identifier: GPL-2.0
/*
 * libcurl glue.  Each request owns its body buffer (bounded by max_body:
 * a misconfigured URL serving a huge file cannot grow the agent).
 */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "http.h"
#include "util.h"

#define UA "flowshape-agent/1.0"

struct http_req {
	struct http_req *next;
	CURL *easy;
	struct curl_slist *headers;
	void *owner;
	http_done_fn done;
	void *arg;
	char *body;
	size_t len, max;
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
};

int http_init(struct http *h)
{
	memset(h, 0, sizeof(*h));
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -1;
	h->multi = curl_multi_init();
	return h->multi ? 0 : -1;
}

static void req_free(struct http *h, struct http_req *r)
{
	struct http_req **pp;

	for (pp = &h->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	curl_multi_remove_handle(h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
	free(r);
}

void http_cleanup(struct http *h)
{
	while (h->reqs)
		req_free(h, h->reqs);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	h->multi = NULL;
	curl_global_cleanup();
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_req *r = userdata;
	size_t n = size * nmemb;

	if (r->len + n > r->max) {
		r->too_big = true;
		return 0;	/* aborts the transfer */
	}
	r->body = xrealloc(r->body, r->len + n + 1);
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

int http_get(struct http *h, const char *url, const char *accept,
	     uint64_t timeout_ns, size_t max_body, void *owner,
	     http_done_fn done, void *arg)
{
	struct http_req *r = xcalloc(1, sizeof(*r));
	long ms = (long)(timeout_ns / NSEC_PER_MSEC);

	r->easy = curl_easy_init();
	if (!r->easy) {
		free(r);
		return -1;
	}
	r->owner = owner;
	r->done = done;
	r->arg = arg;
	r->max = max_body;
	if (accept) {
		char hdr[256];

		snprintf(hdr, sizeof(hdr), "Accept: %s", accept);
		r->headers = curl_slist_append(NULL, hdr);
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, UA);
	curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	/* A fresh connection each time: a server that restarted is seen
	 * at once, and nothing lingers between intervals. */
	curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, 1L);
	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->headers);
		free(r);
		return -1;
	}
	r->next = h->reqs;
	h->reqs = r;
	return 0;
}

void http_cancel_owner(struct http *h, void *owner)
{
	struct http_req *r = h->reqs, *next;

	for (; r; r = next) {
		next = r->next;
		if (r->owner == owner)
			req_free(h, r);
	}
}

size_t http_pending(const struct http *h)
{
	const struct http_req *r;
	size_t n = 0;

	for (r = h->reqs; r; r = r->next)
		n++;
	return n;
}

int http_wait(struct http *h, struct pollfd *pfd, size_t n, int timeout_ms)
{
	struct curl_waitfd wfd[n ? n : 1];
	size_t i;
	int numfds;

	for (i = 0; i < n; i++) {
		wfd[i].fd = pfd[i].fd;
		wfd[i].events = (short)(((pfd[i].events & POLLIN) ? CURL_WAIT_POLLIN : 0) |
					((pfd[i].events & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
		wfd[i].revents = 0;
	}
	if (curl_multi_poll(h->multi, wfd, (unsigned int)n, timeout_ms, &numfds) != CURLM_OK)
		return -1;
	for (i = 0; i < n; i++) {
		pfd[i].revents = (short)(((wfd[i].revents & CURL_WAIT_POLLIN) ? POLLIN : 0) |
					 ((wfd[i].revents & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
	}
	return numfds;
}

void http_dispatch(struct http *h)
{
	CURLMsg *msg;
	int running, left;

	curl_multi_perform(h->multi, &running);
	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct http_req *r = NULL;
		long status = 0;
		const char *err = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r)
			continue;
		if (msg->data.result == CURLE_OK) {
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		} else if (r->too_big) {
			err = "response larger than allowed";
		} else {
			err = r->errbuf[0] ? r->errbuf : curl_easy_strerror(msg->data.result);
		}
		r->done(r->arg, r->owner, (int)status, r->body ? r->body : "",
			r->len, err);
		req_free(h, r);
	}
}
