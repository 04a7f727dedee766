// SPDX-License-Identifier: GPL-2.0
/*
 * udpseq: a UDP sender/receiver with sequence numbers, for the selftests.
 *
 *   udpseq send ADDR PORT COUNT [-s SIZE[,SIZE...]] [-r PPS] [-g GAP_US]
 *               [-f FLOWS] [-b BASEPORT] [-T TXTIME_US] [-w AFTER:FILE]
 *               [-p PRIORITY]
 *   udpseq recv PORT [-n COUNT] [-t TIMEOUT_MS] [-i IDLE_MS] [-6] [-l LOG]
 *                    [-w WARMUP_MS]
 *   udpseq tcpsend ADDR PORT BYTES
 *   udpseq tcprecv PORT [-t TIMEOUT_MS]
 *   udpseq ether DEV COUNT [-s SIZE]
 *   udpseq now
 *
 * The sender numbers each packet per flow (one flow = one source port) and
 * stamps it with CLOCK_MONOTONIC, which network namespaces share, so the
 * receiver can measure one-way latency as well as loss and reordering.
 * Flow i sends packets of the i-th SIZE (cycling through the list).  -r
 * paces on a fixed schedule (a late packet is followed by a catch-up
 * burst); -g keeps every packet at least GAP_US after the previous send
 * returned (never two packets closer than that).  -T gives every packet
 * the same earliest departure time (SO_TXTIME, CLOCK_MONOTONIC): the
 * sender's start + TXTIME_US, printed as txtime_ns; the socket buffer is
 * raised so that the whole burst can wait in the qdisc.  -w waits after
 * the first AFTER packets until FILE exists (at most 60 s): one flow's
 * packets on either side of a change the test makes meanwhile.
 * The receiver stops after COUNT packets, after IDLE_MS without a packet
 * (once one arrived), or after TIMEOUT_MS, and prints one line of
 * key=value pairs that the shell tests parse; early_edt counts packets
 * that arrived before their SO_TXTIME stamp.  -l writes one line per
 * packet in arrival order: "flow seq payload_bytes arrival_ns send_ns
 * txtime_ns" (txtime_ns 0: none).
 *
 * ether sends COUNT broadcast frames of SIZE payload bytes with the local
 * experimental EtherType 0x88b5 out of DEV (AF_PACKET): packets that are
 * neither IPv4 nor IPv6.
 *
 * now prints CLOCK_MONOTONIC in ns (the clock of qdisc due times).
 *
 * -p sets SO_PRIORITY on the sending sockets (7 is TC_PRIO_CONTROL).
 * -w makes the receiver also report what arrived after WARMUP_MS from the
 * first packet: win_received, win_span_us and win_flow_counts (packets per
 * flow id, comma-separated, flows 0..highest seen), for rate and fairness.
 *
 * tcpsend/tcprecv move BYTES over one TCP connection (bulk writes, so the
 * stack builds GSO packets) and print sent_bytes=N / received_bytes=N:
 * for the tests of how GSO packets are counted.  tcprecv accepts one
 * connection, reads to EOF and exits; it gives up after TIMEOUT_MS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/net_tstamp.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <unistd.h>

#define UDPSEQ_MAGIC	0x66736571u	/* "fseq" */
#define MAX_FLOWS	4096

struct udpseq_hdr {
	uint32_t magic;
	uint32_t flow;
	uint64_t seq;
	uint64_t send_ns;
	uint64_t txtime_ns;	/* SO_TXTIME stamp, 0: none */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / 1000000000ull),
		.tv_nsec = (long)(t % 1000000000ull),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: udpseq send ADDR PORT COUNT [-s SIZE[,SIZE...]] [-r PPS] [-g GAP_US]\n"
		"                   [-f FLOWS] [-b BASEPORT] [-T TXTIME_US] [-w AFTER:FILE]\n"
		"                   [-p PRIORITY]\n"
		"       udpseq recv PORT [-n COUNT] [-t TIMEOUT_MS] [-i IDLE_MS] [-6] [-l LOG]\n"
		"                        [-w WARMUP_MS]\n"
		"       udpseq tcpsend ADDR PORT BYTES\n"
		"       udpseq tcprecv PORT [-t TIMEOUT_MS]\n"
		"       udpseq ether DEV COUNT [-s SIZE]\n"
		"       udpseq now\n");
	return 2;
}

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max) {
		fprintf(stderr, "udpseq: invalid number \"%s\" (max %lu)\n", s, max);
		return -1;
	}
	*out = v;
	return 0;
}

#define MAX_SIZES	16

/* "1400" or "200,1400": one size per flow, cycling. */
static int parse_sizes(char *arg, size_t max, unsigned long *sizes,
		       unsigned long *n)
{
	char *tok, *save = NULL;

	*n = 0;
	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_SIZES || parse_ul(tok, max, &sizes[*n])) {
			fprintf(stderr, "udpseq: at most %d sizes of at most %zu bytes\n",
				MAX_SIZES, max);
			return -1;
		}
		if (sizes[*n] < sizeof(struct udpseq_hdr))
			sizes[*n] = sizeof(struct udpseq_hdr);
		(*n)++;
	}
	return *n ? 0 : -1;
}

/* SO_TXTIME in CLOCK_MONOTONIC, and room for the whole burst to wait. */
static int txtime_setup(int fd)
{
	struct sock_txtime st = { .clockid = CLOCK_MONOTONIC, .flags = 0 };
	int sndbuf = 16 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_TXTIME, &st, sizeof(st)) < 0) {
		perror("udpseq: SO_TXTIME");
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return 0;
}

/* send(), with an SCM_TXTIME control message when @txtime is set. */
static ssize_t send_one(int fd, const void *buf, size_t len, uint64_t txtime)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint64_t))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (!txtime)
		return send(fd, buf, len, 0);
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_TXTIME;
	cm->cmsg_len = CMSG_LEN(sizeof(uint64_t));
	memcpy(CMSG_DATA(cm), &txtime, sizeof(txtime));
	return sendmsg(fd, &msg, 0);
}

static int cmd_send(int argc, char **argv)
{
	unsigned long count, pps = 0, flows = 1, baseport = 0, v;
	unsigned long sizes[MAX_SIZES] = { 64 }, nsizes = 1;
	unsigned long txtime_us = 0, gap_us = 0, wait_after = 0;
	const char *wait_file = NULL;
	unsigned long prio = 0;
	bool set_prio = false;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	int socks[MAX_FLOWS];
	char buf[65536];
	uint64_t t0, gap, txtime = 0, prev_end = 0;
	unsigned long i;
	int opt, err;

	if (argc < 4)
		return usage();
	if (parse_ul(argv[3], ~0ul, &count))
		return 2;
	optind = 4;
	while ((opt = getopt(argc, argv, "s:r:f:b:T:g:w:p:")) != -1) {
		switch (opt) {
		case 's':
			if (parse_sizes(optarg, sizeof(buf), sizes, &nsizes))
				return 2;
			break;
		case 'r':
			if (parse_ul(optarg, 100000000, &pps))
				return 2;
			break;
		case 'g':
			if (parse_ul(optarg, 3600000000ul, &gap_us))
				return 2;
			break;
		case 'f':
			if (parse_ul(optarg, MAX_FLOWS, &flows) || !flows)
				return 2;
			break;
		case 'b':
			if (parse_ul(optarg, 65535, &baseport))
				return 2;
			break;
		case 'T':
			if (parse_ul(optarg, 3600000000ul, &txtime_us) || !txtime_us)
				return 2;
			break;
		case 'w': {
			char *colon = strchr(optarg, ':');

			if (!colon || !colon[1])
				return usage();
			*colon = 0;
			if (parse_ul(optarg, ~0ul, &wait_after))
				return 2;
			wait_file = colon + 1;
			break;
		}
		case 'p':
			if (parse_ul(optarg, 0x7fffffff, &prio))
				return 2;
			set_prio = true;
			break;
		default:
			return usage();
		}
	}
	if (sizes[0] < sizeof(struct udpseq_hdr))
		sizes[0] = sizeof(struct udpseq_hdr);

	err = getaddrinfo(argv[1], argv[2], &hints, &ai);
	if (err) {
		fprintf(stderr, "udpseq: %s: %s\n", argv[1], gai_strerror(err));
		return 1;
	}
	for (v = 0; v < flows; v++) {
		socks[v] = socket(ai->ai_family, SOCK_DGRAM, 0);
		if (socks[v] < 0) {
			perror("udpseq: socket");
			return 1;
		}
		if (txtime_us && txtime_setup(socks[v]))
			return 1;
		if (set_prio) {
			int pv = (int)prio;

			if (setsockopt(socks[v], SOL_SOCKET, SO_PRIORITY, &pv,
				       sizeof(pv)) < 0) {
				perror("udpseq: SO_PRIORITY");
				return 1;
			}
		}
		if (baseport) {
			struct sockaddr_storage ss = { 0 };
			socklen_t len;

			if (ai->ai_family == AF_INET6) {
				struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

				s6->sin6_family = AF_INET6;
				s6->sin6_port = htons((uint16_t)(baseport + v));
				len = sizeof(*s6);
			} else {
				struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

				s4->sin_family = AF_INET;
				s4->sin_port = htons((uint16_t)(baseport + v));
				len = sizeof(*s4);
			}
			if (bind(socks[v], (struct sockaddr *)&ss, len) < 0) {
				perror("udpseq: bind");
				return 1;
			}
		}
		if (connect(socks[v], ai->ai_addr, ai->ai_addrlen) < 0) {
			perror("udpseq: connect");
			return 1;
		}
	}
	freeaddrinfo(ai);

	memset(buf, 0, sizeof(buf));
	gap = pps ? 1000000000ull / pps : 0;
	t0 = now_ns();
	if (txtime_us)
		txtime = t0 + txtime_us * 1000ull;
	for (i = 0; i < count; i++) {
		struct udpseq_hdr h = {
			.magic = htonl(UDPSEQ_MAGIC),
			.flow = (uint32_t)(i % flows),
			.seq = i / flows,
			.txtime_ns = txtime,
		};
		size_t size = sizes[h.flow % nsizes];

		if (gap)
			sleep_until(t0 + i * gap);
		if (gap_us && i)
			sleep_until(prev_end + gap_us * 1000ull);
		if (wait_file && i == wait_after) {
			uint64_t end = now_ns() + 60000000000ull;

			while (access(wait_file, F_OK) && now_ns() < end)
				usleep(1000);
		}
		h.send_ns = now_ns();
		memcpy(buf, &h, sizeof(h));
		/* A full socket buffer is backpressure, not loss: retry.  So
		 * is ECONNREFUSED: an earlier packet met a closed port (tests
		 * that only count at the qdisc run no receiver), and this one
		 * was not sent.
		 */
		while (send_one(socks[h.flow], buf, size, txtime) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR &&
			    errno != ECONNREFUSED) {
				perror("udpseq: send");
				return 1;
			}
			usleep(100);
		}
		prev_end = now_ns();
	}
	printf("sent=%lu flows=%lu size=%lu elapsed_us=%" PRIu64,
	       count, flows, sizes[0], (now_ns() - t0) / 1000);
	if (txtime)
		printf(" txtime_ns=%" PRIu64, txtime);
	printf("\n");
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_recv(int argc, char **argv)
{
	unsigned long port, expect = 0, timeout_ms = 10000, idle_ms = 1000;
	unsigned long warmup_ms = 0, max_flow = 0;
	uint64_t win_n = 0, win_first = 0, win_last = 0, *win_count;
	bool win = false;
	uint64_t first = 0, last = 0, start, reordered = 0, dups = 0, n = 0;
	uint64_t *lat, sum = 0;
	int rcvbuf = 8 << 20;
	struct sockaddr_storage ss = { 0 };
	bool v6 = false;
	int64_t *next_seq;
	unsigned long flows_seen = 0;
	uint64_t early_edt = 0;
	FILE *log = NULL;
	int fd, opt;

	if (argc < 2)
		return usage();
	if (parse_ul(argv[1], 65535, &port))
		return 2;
	optind = 2;
	while ((opt = getopt(argc, argv, "n:t:i:6l:w:")) != -1) {
		switch (opt) {
		case 'n':
			if (parse_ul(optarg, 100000000, &expect))
				return 2;
			break;
		case 't':
			if (parse_ul(optarg, 3600000, &timeout_ms))
				return 2;
			break;
		case 'i':
			if (parse_ul(optarg, 3600000, &idle_ms))
				return 2;
			break;
		case '6':
			v6 = true;
			break;
		case 'l':
			log = fopen(optarg, "w");
			if (!log) {
				perror("udpseq: log");
				return 1;
			}
			break;
		case 'w':
			if (parse_ul(optarg, 3600000, &warmup_ms))
				return 2;
			win = true;
			break;
		default:
			return usage();
		}
	}

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udpseq: socket");
		return 1;
	}
	/* Root may go past rmem_max: a released burst must not overflow. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(int)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(int));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_any;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
	}
	if (bind(fd, (struct sockaddr *)&ss,
		 v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0) {
		perror("udpseq: bind");
		return 1;
	}
	/* Tell a waiting test that the socket is bound. */
	printf("ready\n");
	fflush(stdout);

	next_seq = calloc(MAX_FLOWS, sizeof(*next_seq));
	lat = calloc(expect ? expect : 1000000, sizeof(*lat));
	win_count = calloc(MAX_FLOWS, sizeof(*win_count));
	if (!next_seq || !lat || !win_count)
		return 1;

	start = now_ns();
	for (;;) {
		uint64_t now = now_ns(), deadline = start + timeout_ms * 1000000ull;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct udpseq_hdr h;
		char buf[65536];
		int wait_ms;
		ssize_t r;

		if (expect && n >= expect)
			break;
		if (now >= deadline)
			break;
		wait_ms = (int)((deadline - now) / 1000000ull) + 1;
		if (n && (unsigned long)wait_ms > idle_ms)
			wait_ms = (int)idle_ms;
		if (poll(&p, 1, wait_ms) <= 0) {
			if (n)
				break;	/* idle after traffic: done */
			continue;
		}
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < (ssize_t)sizeof(h))
			continue;
		memcpy(&h, buf, sizeof(h));
		if (ntohl(h.magic) != UDPSEQ_MAGIC || h.flow >= MAX_FLOWS)
			continue;
		now = now_ns();
		if (!n)
			first = now;
		last = now;
		if (win && now - first >= warmup_ms * 1000000ull) {
			if (!win_n)
				win_first = now;
			win_last = now;
			win_n++;
			win_count[h.flow]++;
			if (h.flow > max_flow)
				max_flow = h.flow;
		}
		if (!next_seq[h.flow])
			flows_seen++;
		if (h.txtime_ns && now < h.txtime_ns)
			early_edt++;
		if (log)
			fprintf(log, "%u %" PRIu64 " %zd %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				h.flow, h.seq, r, now, h.send_ns, h.txtime_ns);
		/* next_seq holds seq + 1 of the highest seen in the flow. */
		if ((int64_t)h.seq + 1 <= next_seq[h.flow]) {
			if ((int64_t)h.seq + 1 == next_seq[h.flow])
				dups++;
			else
				reordered++;
		} else {
			next_seq[h.flow] = (int64_t)h.seq + 1;
		}
		if (n < (expect ? expect : 1000000)) {
			lat[n] = now - h.send_ns;
			sum += lat[n];
		}
		n++;
	}

	{
		uint64_t m = n < (expect ? expect : 1000000) ? n : (expect ? expect : 1000000);
		uint64_t p50 = 0, p99 = 0, mn = 0, mx = 0;

		if (m) {
			qsort(lat, m, sizeof(*lat), cmp_u64);
			mn = lat[0];
			mx = lat[m - 1];
			p50 = lat[m / 2];
			p99 = lat[(m * 99) / 100 < m ? (m * 99) / 100 : m - 1];
		}
		printf("received=%" PRIu64 " flows=%lu reordered=%" PRIu64
		       " duplicates=%" PRIu64 " span_us=%" PRIu64
		       " lat_min_us=%" PRIu64 " lat_avg_us=%" PRIu64
		       " lat_p50_us=%" PRIu64 " lat_p99_us=%" PRIu64
		       " lat_max_us=%" PRIu64 " early_edt=%" PRIu64 "\n",
		       n, flows_seen, reordered, dups, n ? (last - first) / 1000 : 0,
		       mn / 1000, m ? sum / m / 1000 : 0, p50 / 1000, p99 / 1000,
		       mx / 1000, early_edt);
	}
	if (log)
		fclose(log);
	if (win) {
		unsigned long f;

		printf("win_received=%" PRIu64 " win_span_us=%" PRIu64
		       " win_flow_counts=", win_n,
		       win_n ? (win_last - win_first) / 1000 : 0);
		for (f = 0; f <= max_flow; f++)
			printf("%s%" PRIu64, f ? "," : "", win_count[f]);
		printf("\n");
	}
	free(win_count);
	free(lat);
	free(next_seq);
	close(fd);
	return 0;
}

static int cmd_tcpsend(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	static char buf[65536];
	unsigned long total, sent = 0;
	int fd, err;

	if (argc != 4)
		return usage();
	if (parse_ul(argv[3], ~0ul, &total))
		return 2;
	err = getaddrinfo(argv[1], argv[2], &hints, &ai);
	if (err) {
		fprintf(stderr, "udpseq: %s: %s\n", argv[1], gai_strerror(err));
		return 1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("udpseq: tcpsend: connect");
		freeaddrinfo(ai);
		return 1;
	}
	freeaddrinfo(ai);
	while (sent < total) {
		size_t n = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("udpseq: tcpsend: write");
			close(fd);
			return 1;
		}
		sent += (unsigned long)w;
	}
	/* Wait for the receiver to have read everything: its close. */
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	printf("sent_bytes=%lu\n", sent);
	return 0;
}

static int cmd_tcprecv(int argc, char **argv)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	unsigned long port, timeout_ms = 60000, received = 0;
	static char buf[65536];
	struct pollfd pfd;
	uint64_t deadline;
	int lfd, fd, opt, one = 1, zero = 0;

	if (argc < 2)
		return usage();
	if (parse_ul(argv[1], 65535, &port))
		return 2;
	optind = 2;
	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't' || parse_ul(optarg, 3600000, &timeout_ms))
			return usage();
	}
	deadline = now_ns() + timeout_ms * 1000000ull;

	/* One dual-stack socket: IPv4 arrives as v4-mapped. */
	lfd = socket(AF_INET6, SOCK_STREAM, 0);
	if (lfd < 0) {
		perror("udpseq: tcprecv: socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	sa.sin6_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		perror("udpseq: tcprecv: bind/listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	fd = lfd;
	for (;;) {
		uint64_t now = now_ns();
		ssize_t r;

		if (now >= deadline) {
			fprintf(stderr, "udpseq: tcprecv: timeout\n");
			printf("received_bytes=%lu timeout=1\n", received);
			return 1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1)) <= 0)
			continue;
		if (fd == lfd) {
			fd = accept(lfd, NULL, NULL);
			if (fd < 0) {
				perror("udpseq: tcprecv: accept");
				return 1;
			}
			close(lfd);
			continue;
		}
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("udpseq: tcprecv: read");
			return 1;
		}
		if (!r)
			break;
		received += (unsigned long)r;
	}
	close(fd);
	printf("received_bytes=%lu\n", received);
	return 0;
}

static int cmd_ether(int argc, char **argv)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(0x88b5),
		.sll_halen = ETH_ALEN,
	};
	unsigned long count, size = 64, i;
	char buf[1500] = { 0 };
	int fd;

	if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "-s")))
		return usage();
	if (parse_ul(argv[2], ~0ul, &count) ||
	    (argc == 5 && parse_ul(argv[4], sizeof(buf), &size)))
		return 2;
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "udpseq: no device \"%s\"\n", argv[1]);
		return 2;
	}
	memset(sll.sll_addr, 0xff, ETH_ALEN);
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(0x88b5));
	if (fd < 0) {
		perror("udpseq: AF_PACKET socket");
		return 1;
	}
	for (i = 0; i < count; i++) {
		while (sendto(fd, buf, size, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				perror("udpseq: ether: sendto");
				return 1;
			}
			usleep(100);
		}
	}
	printf("sent=%lu size=%lu\n", count, size);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "recv"))
		return cmd_recv(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tcpsend"))
		return cmd_tcpsend(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tcprecv"))
		return cmd_tcprecv(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ether"))
		return cmd_ether(argc - 1, argv + 1);
	if (!strcmp(argv[1], "now") && argc == 2) {
		printf("%" PRIu64 "\n", now_ns());
		return 0;
	}
	return usage();
}
