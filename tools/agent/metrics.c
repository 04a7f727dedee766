// SPDX-License-Identifier: GPL-2.0
/*
 * A deliberately tiny HTTP server: one request per connection, the
 * answer rendered when the request line is complete, written as the
 * socket allows, then the connection is closed.  A client that does not
 * finish its request within 2 s is dropped; a request larger than the
 * buffer gets 431.  When all slots are busy, a new connection takes the
 * slot of the oldest one still sending its request: idle connections
 * cannot keep Prometheus out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"
#include "util.h"

#define CONN_TIMEOUT_NS	(2 * NSEC_PER_SEC)

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
}

void sb_label_value(struct strbuf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			sb_printf(b, "\\\\");
		else if (*v == '"')
			sb_printf(b, "\\\"");
		else if (*v == '\n')
			sb_printf(b, "\\n");
		else
			sb_printf(b, "%c", *v);
	}
}

void sb_free(struct strbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

int metrics_open(struct metrics_server *m, const struct sockaddr_storage *a,
		 socklen_t alen, metrics_render_fn render, void *arg,
		 char *err, size_t errlen)
{
	int one = 1;

	memset(m, 0, sizeof(*m));
	m->render = render;
	m->arg = arg;
	m->lfd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0)
		goto fail;
	setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->lfd, (const struct sockaddr *)a, alen) ||
	    listen(m->lfd, 16))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "metrics_listen: %s", strerror(errno));
	if (m->lfd >= 0)
		close(m->lfd);
	m->lfd = -1;
	return -1;
}

static void conn_close(struct metrics_server *m, size_t i)
{
	close(m->c[i].fd);
	sb_free(&m->c[i].out);
	m->c[i] = m->c[--m->n];
	memset(&m->c[m->n], 0, sizeof(m->c[m->n]));
}

void metrics_close(struct metrics_server *m)
{
	while (m->n)
		conn_close(m, m->n - 1);
	if (m->lfd >= 0)
		close(m->lfd);
	m->lfd = -1;
}

size_t metrics_pollfds(const struct metrics_server *m, struct pollfd *pfd, size_t max)
{
	size_t n = 0, i;

	if (m->lfd < 0)
		return 0;
	/* Full: listen still while a slot could be freed (metrics_handle). */
	for (i = 0; i < m->n && m->n == METRICS_MAX_CONNS; i++) {
		if (!m->c[i].out.len)
			break;
	}
	if (i < m->n || m->n < METRICS_MAX_CONNS) {
		if (n < max)
			pfd[n++] = (struct pollfd){ .fd = m->lfd, .events = POLLIN };
	}
	for (i = 0; i < m->n && n < max; i++) {
		pfd[n++] = (struct pollfd){
			.fd = m->c[i].fd,
			.events = m->c[i].out.len ? POLLOUT : POLLIN,
		};
	}
	return n;
}

static void respond(struct metrics_server *m, struct metrics_conn *c)
{
	struct strbuf body = { 0 };
	const char *status = "200 OK", *ctype = "text/plain; version=0.0.4; charset=utf-8";
	bool get = !strncmp(c->req, "GET ", 4), head = !strncmp(c->req, "HEAD ", 5);
	const char *path = c->req + (get ? 4 : 5);

	if (!get && !head) {
		status = "405 Method Not Allowed";
		ctype = "text/plain";
		sb_printf(&body, "only GET\n");
	} else if (!strncmp(path, "/metrics ", 9) || !strncmp(path, "/metrics?", 9) ||
		   !strncmp(path, "/metrics\r", 9)) {
		m->render(&body, m->arg);
	} else {
		status = "404 Not Found";
		ctype = "text/plain";
		sb_printf(&body, "flowshape-agent: see /metrics\n");
	}
	sb_printf(&c->out, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		  "Connection: close\r\n\r\n", status, ctype, body.len);
	if (get && body.len)
		sb_printf(&c->out, "%.*s", (int)body.len, body.s);
	sb_free(&body);
	c->opos = 0;
}

static void conn_io(struct metrics_server *m, size_t i)
{
	struct metrics_conn *c = &m->c[i];
	ssize_t n;

	if (!c->out.len) {
		n = recv(c->fd, c->req + c->rlen, sizeof(c->req) - 1 - c->rlen, 0);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			conn_close(m, i);
			return;
		}
		c->rlen += (size_t)n;
		c->req[c->rlen] = '\0';
		if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
			respond(m, c);
		} else if (c->rlen == sizeof(c->req) - 1) {
			/* Too large for a scrape: say so, then close. */
			static const char why[] = "request too large\n";

			sb_printf(&c->out, "HTTP/1.0 431 Request Header Fields Too Large\r\n"
				  "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
				  "Connection: close\r\n\r\n%s", sizeof(why) - 1, why);
			c->opos = 0;
		} else {
			return;
		}
	}
	while (c->opos < c->out.len) {
		n = send(c->fd, c->out.s + c->opos, c->out.len - c->opos, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->opos += (size_t)n;
	}
	conn_close(m, i);
}

/*
 * All slots busy and someone is knocking: free the slot of the connection
 * that has waited longest without sending a whole request (one being
 * answered is kept).  False if every slot is being answered.
 */
static bool evict_idle(struct metrics_server *m)
{
	size_t i, old = m->n;

	for (i = 0; i < m->n; i++) {
		if (m->c[i].out.len)
			continue;
		if (old == m->n || m->c[i].deadline_ns < m->c[old].deadline_ns)
			old = i;
	}
	if (old == m->n)
		return false;
	conn_close(m, old);
	m->evicted++;
	return true;
}

void metrics_handle(struct metrics_server *m, const struct pollfd *pfd, size_t n)
{
	size_t k, i;

	for (k = 0; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		if (pfd[k].fd == m->lfd) {
			for (;;) {
				int fd;

				if (m->n == METRICS_MAX_CONNS && !evict_idle(m))
					break;
				fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				memset(&m->c[m->n], 0, sizeof(m->c[m->n]));
				m->c[m->n].fd = fd;
				m->c[m->n].deadline_ns = now_ns() + CONN_TIMEOUT_NS;
				m->n++;
			}
			continue;
		}
		for (i = 0; i < m->n; i++) {
			if (m->c[i].fd == pfd[k].fd) {
				conn_io(m, i);
				break;
			}
		}
	}
}

void metrics_expire(struct metrics_server *m, uint64_t now)
{
	size_t i = 0;

	while (i < m->n) {
		if (m->c[i].deadline_ns <= now)
			conn_close(m, i);
		else
			i++;
	}
}
