// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: probe RTTs come from the kernel's timestamps, so an agent
 * that is slow to read an answer does not report the delay as RTT.
 *
 * The socket tests probe 127.0.0.1 and read the answer only after a
 * 300 ms sleep: the agent's own clock then says >= 300 ms, the kernel's
 * says what loopback takes (well under 100 ms even on an emulated,
 * loaded machine).  Without kernel timestamps they fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <cmocka.h>
#include <linux/filter.h>
#include <linux/pkt_sched.h>

#include "probe.h"
#include "util.h"

#define MS NSEC_PER_MSEC
#define LATE_MS 300

static void test_pick_rtt(void **state)
{
	(void)state;
	/* The kernel's, when it has one no longer than the agent's. */
	assert_int_equal(probe_pick_rtt(300 * MS, 2 * MS), 2 * MS);
	assert_int_equal(probe_pick_rtt(300 * MS, 300 * MS), 300 * MS);
	/* None: the agent's. */
	assert_int_equal(probe_pick_rtt(300 * MS, 0), 300 * MS);
	/* Longer than the agent saw: a clock step, not an RTT. */
	assert_int_equal(probe_pick_rtt(3 * MS, 5 * MS), 3 * MS);
}

struct result {
	int calls;
	bool ok;
	uint64_t rtt;
};

static void done(void *arg, void *owner, bool ok, uint64_t rtt_ns)
{
	struct result *r = arg;

	(void)owner;
	r->calls++;
	r->ok = ok;
	r->rtt = rtt_ns;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One @kind probe to @ss whose answer is read @late_ms after sending
 * (waiting for it up to 5 s more); the outcome in @r.
 */
static void probe_late(struct probe_engine *pe, struct result *r,
		       enum probe_kind kind, const struct sockaddr_storage *ss,
		       long late_ms)
{
	uint64_t deadline;

	memset(r, 0, sizeof(*r));
	assert_int_equal(probe_start(pe, r, kind, ss, sizeof(struct sockaddr_in),
				     5 * NSEC_PER_SEC), 0);
	sleep_ms(late_ms);
	deadline = now_ns() + 5 * NSEC_PER_SEC;
	while (!r->calls && now_ns() < deadline) {
		struct pollfd pfd[4];
		size_t n = probe_pollfds(pe, pfd, 4);

		if (poll(pfd, n, 100) > 0)
			probe_handle(pe, pfd, n, done, r);
	}
}

/* Answered, with the kernel's RTT: loopback's, not the late read's. */
static void assert_kernel_rtt(const struct result *r)
{
	assert_int_equal(r->calls, 1);
	assert_true(r->ok);
	assert_true(r->rtt > 0);
	assert_true(r->rtt < 100 * MS);
}

static void loopback(struct sockaddr_storage *ss, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A TCP socket bound to a free loopback port; @ss gets the address. */
static int tcp_bound(struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	loopback(ss, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)ss, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	loopback(ss, ntohs(sin.sin_port));
	return fd;
}

static void test_icmp_kernel_rtt(void **state)
{
	struct sockaddr_storage ss;
	struct probe_engine pe;
	struct result r;
	int fd;

	(void)state;
	/* The engine opens a ping socket, else a raw one: is either allowed? */
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (fd < 0)
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0)
		skip();
	close(fd);

	probe_engine_init(&pe);
	loopback(&ss, 0);
	/* The kernel turns receive timestamps on asynchronously (a static
	 * key flipped from a work item): a packet received before that is
	 * stamped when read.  A first probe, answered, lets it settle, as
	 * in the agent, whose socket lives as long as it does.
	 */
	probe_late(&pe, &r, PROBE_ICMP, &ss, 0);
	assert_int_equal(r.calls, 1);
	probe_late(&pe, &r, PROBE_ICMP, &ss, LATE_MS);
	probe_engine_close(&pe);
	assert_kernel_rtt(&r);
}

static void test_tcp_kernel_rtt(void **state)
{
	struct sockaddr_storage ss;
	struct probe_engine pe;
	struct result r;
	int lfd;

	(void)state;
	lfd = tcp_bound(&ss);
	assert_int_equal(listen(lfd, 4), 0);

	probe_engine_init(&pe);
	probe_late(&pe, &r, PROBE_TCP, &ss, LATE_MS);
	probe_engine_close(&pe);
	close(lfd);
	assert_kernel_rtt(&r);
}

/* Every descriptor a probe leaves by has priority TC_PRIO_CONTROL, so that
 * flowshape's bypass does not delay it (removing probe_priority() fails
 * this: tried). */
static void assert_control_priority(const struct probe_engine *pe, size_t want)
{
	struct pollfd pfd[4];
	size_t n = probe_pollfds(pe, pfd, 4), i;

	assert_true(n >= want);
	for (i = 0; i < n; i++) {
		int prio = -1;
		socklen_t len = sizeof(prio);

		assert_int_equal(getsockopt(pfd[i].fd, SOL_SOCKET, SO_PRIORITY,
					    &prio, &len), 0);
		assert_int_equal(prio, TC_PRIO_CONTROL);
	}
}

static void test_probe_priority(void **state)
{
	struct sockaddr_storage ss;
	struct probe_engine pe;
	struct result r;
	int lfd;

	(void)state;
	lfd = tcp_bound(&ss);
	assert_int_equal(listen(lfd, 4), 0);
	probe_engine_init(&pe);
	memset(&r, 0, sizeof(r));
	assert_int_equal(probe_start(&pe, &r, PROBE_TCP, &ss, sizeof(struct sockaddr_in),
				     5 * NSEC_PER_SEC), 0);
	assert_control_priority(&pe, 1);
	probe_engine_close(&pe);
	/* ICMP: the engine's shared socket. */
	probe_engine_init(&pe);
	loopback(&ss, 0);
	assert_int_equal(probe_start(&pe, &r, PROBE_ICMP, &ss, sizeof(struct sockaddr_in),
				     5 * NSEC_PER_SEC), 0);
	assert_control_priority(&pe, 1);
	probe_engine_close(&pe);
	close(lfd);
}

/* A probe that cannot leave (no descriptor left) fails with a local
 * error, which the agent does not count as path loss. */
static void test_local_errors(void **state)
{
	struct sockaddr_storage ss;
	struct probe_engine pe;
	struct result r;
	int fds[4096], n = 0, ret;
	struct rlimit old, lim;

	(void)state;
	assert_true(probe_error_is_local(-EMFILE));
	assert_true(probe_error_is_local(-ENOBUFS));
	assert_true(probe_error_is_local(-EPERM));
	assert_true(probe_error_is_local(-EACCES));
	assert_false(probe_error_is_local(-ENETUNREACH));
	assert_false(probe_error_is_local(-EHOSTUNREACH));

	probe_engine_init(&pe);
	loopback(&ss, 9);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	lim.rlim_cur = 256;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	while (n < 4096 && (fds[n] = dup(0)) >= 0)
		n++;
	assert_int_equal(errno, EMFILE);
	memset(&r, 0, sizeof(r));
	ret = probe_start(&pe, &r, PROBE_TCP, &ss, sizeof(struct sockaddr_in),
			  NSEC_PER_SEC);
	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(ret, -EMFILE);
	assert_true(probe_error_is_local(ret));
	probe_engine_close(&pe);
}

/* A refused connect has no kernel RTT: the agent's own measure stands. */
static void test_tcp_refused_user_rtt(void **state)
{
	struct sockaddr_storage ss;
	struct probe_engine pe;
	struct result r;

	(void)state;
	/* A port nobody listens on: bound, then closed. */
	close(tcp_bound(&ss));

	probe_engine_init(&pe);
	probe_late(&pe, &r, PROBE_TCP, &ss, LATE_MS);
	/* Refused at once by connect(): ended by the deadline pass. */
	if (!r.calls)
		probe_expire(&pe, now_ns(), done, &r);
	probe_engine_close(&pe);
	assert_int_equal(r.calls, 1);
	assert_true(r.ok);
	assert_true(r.rtt >= LATE_MS * MS);
}

/* An IPv4 header (IHL words, options zero) and 16 bytes of ICMP. */
static size_t icmp4_pkt(uint8_t *b, unsigned int ihl, uint8_t type, uint16_t id,
			uint8_t mark)
{
	size_t h = ihl * 4;

	memset(b, 0, h + 16);
	b[0] = (uint8_t)(0x40 | ihl);
	b[9] = IPPROTO_ICMP;
	b[h] = type;
	b[h + 4] = (uint8_t)(id >> 8);
	b[h + 5] = (uint8_t)id;
	b[h + 8] = mark;
	return h + 16;
}

/*
 * The raw ICMPv4 socket's filter, run by the kernel on a socket pair
 * (an AF_UNIX datagram is filtered as it is, from byte 0, like a raw
 * IPv4 packet): only echo replies with our id pass, whatever the IP
 * header's length.
 */
/* probe_walk visits every outstanding probe once, with its owner and send
 * time: the closed loop takes the oldest unanswered probe's age from it
 * (agent.c oldest_probe), a lower bound on an RTT longer than a round. */
struct walk_acc {
	int n[2];
	uint64_t oldest[2];
	int owners[2];
};

static void walk_cb(void *arg, void *owner, uint64_t sent_ns)
{
	struct walk_acc *w = arg;
	int i = owner == (void *)&w->owners[0] ? 0 : 1;

	w->n[i]++;
	if (!w->oldest[i] || sent_ns < w->oldest[i])
		w->oldest[i] = sent_ns;
}

static void test_probe_walk(void **state)
{
	struct sockaddr_storage ss;
	struct probe_engine pe;
	struct walk_acc w;
	uint64_t t0;
	int lfd;

	(void)state;
	memset(&w, 0, sizeof(w));
	lfd = tcp_bound(&ss);
	assert_int_equal(listen(lfd, 4), 0);
	probe_engine_init(&pe);
	t0 = now_ns();
	/* Owner 0: two probes, owner 1: one; none handled yet. */
	assert_int_equal(probe_start(&pe, &w.owners[0], PROBE_TCP, &ss,
				     sizeof(struct sockaddr_in), 5 * NSEC_PER_SEC), 0);
	assert_int_equal(probe_start(&pe, &w.owners[1], PROBE_TCP, &ss,
				     sizeof(struct sockaddr_in), 5 * NSEC_PER_SEC), 0);
	assert_int_equal(probe_start(&pe, &w.owners[0], PROBE_TCP, &ss,
				     sizeof(struct sockaddr_in), 5 * NSEC_PER_SEC), 0);
	probe_walk(&pe, walk_cb, &w);
	assert_int_equal(w.n[0], 2);
	assert_int_equal(w.n[1], 1);
	assert_int_equal(probe_outstanding(&pe, &w.owners[0]), 2);
	/* The oldest of owner 0 is its first probe: sent after t0, and no
	 * later than owner 1's. */
	assert_true(w.oldest[0] >= t0);
	assert_true(w.oldest[0] <= w.oldest[1]);
	/* Cancelled probes are not walked. */
	probe_cancel_owner(&pe, &w.owners[0]);
	memset(w.n, 0, sizeof(w.n));
	probe_walk(&pe, walk_cb, &w);
	assert_int_equal(w.n[0], 0);
	assert_int_equal(w.n[1], 1);
	probe_engine_close(&pe);
	close(lfd);
}

static void test_icmp4_filter(void **state)
{
	struct sock_filter f[16];
	struct sock_fprog prog = { .filter = f };
	uint8_t pkt[128], got[128];
	int sv[2], passed = 0;
	ssize_t n;

	(void)state;
	assert_int_equal(probe_icmp4_filter(0x1234, f, 2), 0);	/* no room */
	prog.len = (unsigned short)probe_icmp4_filter(0x1234, f, 16);
	assert_true(prog.len > 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_FILTER, &prog,
				    sizeof(prog)), 0);
	/* mark 1..5: which datagrams come through */
	send(sv[0], pkt, icmp4_pkt(pkt, 5, 0, 0x1234, 1), 0);	/* ours */
	send(sv[0], pkt, icmp4_pkt(pkt, 5, 0, 0x4321, 2), 0);	/* another id */
	send(sv[0], pkt, icmp4_pkt(pkt, 5, 8, 0x1234, 3), 0);	/* a request */
	send(sv[0], pkt, icmp4_pkt(pkt, 5, 3, 0x1234, 4), 0);	/* unreachable */
	send(sv[0], pkt, icmp4_pkt(pkt, 7, 0, 0x1234, 5), 0);	/* ours, IP options */
	while ((n = recv(sv[1], got, sizeof(got), MSG_DONTWAIT)) > 0)
		passed |= 1 << got[(got[0] & 0x0f) * 4 + 8];
	assert_int_equal(passed, (1 << 1) | (1 << 5));
	close(sv[0]);
	close(sv[1]);
}

static void count_done(void *arg, void *owner, bool ok, uint64_t rtt_ns)
{
	(void)arg;
	(void)owner;
	(void)ok;
	(void)rtt_ns;
}

/*
 * A flood on the ICMP socket: one readiness reads ICMP_READ_BUDGET
 * datagrams and returns to the loop (before, it read until the socket
 * was empty, and a flood starved timers, netlink and /metrics).
 */
static void test_icmp_read_budget(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int rx, tx, i, left = 0, big = 4 << 20;
	struct probe_engine pe;
	struct pollfd pfd;
	char c = 0;

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(rx >= 0 && tx >= 0);
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	assert_int_equal(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(rx, (struct sockaddr *)&a, &len), 0);
	for (i = 0; i < ICMP_READ_BUDGET + 44; i++)
		assert_int_equal(sendto(tx, &c, 1, 0, (struct sockaddr *)&a, sizeof(a)), 1);

	probe_engine_init(&pe);
	pe.v4.fd = rx;		/* stands in for the raw socket */
	pe.v4.raw = true;
	pfd = (struct pollfd){ .fd = rx, .events = POLLIN, .revents = POLLIN };
	probe_handle(&pe, &pfd, 1, count_done, NULL);
	while (recv(rx, &c, 1, MSG_DONTWAIT) == 1)
		left++;
	assert_int_equal(left, 44);
	pe.v4.fd = -1;
	probe_engine_close(&pe);
	close(rx);
	close(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_rtt),
		cmocka_unit_test(test_icmp_kernel_rtt),
		cmocka_unit_test(test_tcp_kernel_rtt),
		cmocka_unit_test(test_probe_priority),
		cmocka_unit_test(test_local_errors),
		cmocka_unit_test(test_tcp_refused_user_rtt),
		cmocka_unit_test(test_probe_walk),
		cmocka_unit_test(test_icmp4_filter),
		cmocka_unit_test(test_icmp_read_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
