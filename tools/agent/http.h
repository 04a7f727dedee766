/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HTTP GETs over libcurl's multi interface, driven by the agent's one
 * event loop: curl_multi_poll() waits on curl's sockets and on the
 * agent's own descriptors together, so a slow server never stalls
 * probing or pushing.
 */
#ifndef FSA_HTTP_H
#define FSA_HTTP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/* status: the HTTP status, or 0 with err set when there was no answer.
 * body is NUL-terminated and valid during the call only. */
typedef void (*http_done_fn)(void *arg, void *owner, int status,
			     const char *body, size_t len, const char *err);

struct http_req;

struct http {
	void *multi;		/* CURLM */
	struct http_req *reqs;
};

int http_init(struct http *h);
void http_cleanup(struct http *h);

/* Start a GET; done is called exactly once, from http_dispatch (or never
 * if cancelled).  accept: an Accept header value, or NULL. */
int http_get(struct http *h, const char *url, const char *accept,
	     uint64_t timeout_ns, size_t max_body, void *owner,
	     http_done_fn done, void *arg);
void http_cancel_owner(struct http *h, void *owner);
size_t http_pending(const struct http *h);

/* Wait for curl's sockets and pfd (revents are set for POLLIN/POLLOUT,
 * and POLLERR/POLLHUP come back as POLLIN/POLLOUT readiness). */
int http_wait(struct http *h, struct pollfd *pfd, size_t n, int timeout_ms);
/* Progress transfers and call done for the finished ones. */
void http_dispatch(struct http *h);

#endif
