/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's own /metrics endpoint: a minimal HTTP/1.0 server on the
 * event loop (GET /metrics, anything else 404), at most a few clients at
 * a time, each with a deadline.  What it serves is rendered on demand by
 * the caller into a strbuf.
 */
#ifndef FSA_METRICS_H
#define FSA_METRICS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct strbuf {
	char *s;
	size_t len, cap;
};

void sb_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A label value with Prometheus escaping (\\, \", \n). */
void sb_label_value(struct strbuf *b, const char *v);
void sb_free(struct strbuf *b);

typedef void (*metrics_render_fn)(struct strbuf *b, void *arg);

#define METRICS_MAX_CONNS	8

struct metrics_conn {
	int fd;
	char req[2048];
	size_t rlen;
	struct strbuf out;
	size_t opos;
	uint64_t deadline_ns;
};

struct metrics_server {
	int lfd;
	struct metrics_conn c[METRICS_MAX_CONNS];
	size_t n;
	uint64_t evicted;		/* idle connections closed for a new one */
	metrics_render_fn render;
	void *arg;
};

int metrics_open(struct metrics_server *m, const struct sockaddr_storage *a,
		 socklen_t alen, metrics_render_fn render, void *arg,
		 char *err, size_t errlen);
void metrics_close(struct metrics_server *m);
size_t metrics_pollfds(const struct metrics_server *m, struct pollfd *pfd, size_t max);
void metrics_handle(struct metrics_server *m, const struct pollfd *pfd, size_t n);
void metrics_expire(struct metrics_server *m, uint64_t now);

#endif
