// SPDX-License-Identifier: GPL-2.0
/*
 * Probes.  One ICMP socket per family serves every destination: a reply
 * is matched to its probe by sequence number, source address and an
 * 8-byte token in the payload.  Ping sockets (SOCK_DGRAM, IPPROTO_ICMP)
 * need no privilege when the process's group is in
 * net.ipv4.ping_group_range; the kernel then chooses the ICMP id and
 * filters replies.  Otherwise a raw socket (CAP_NET_RAW) is used, with our
 * own id and checksum.  A TCP probe is one nonblocking connect(); a reset
 * counts as a reply (the peer answered), and the socket is closed with
 * SO_LINGER 0 so that probes leave no TIME_WAIT behind.
 *
 * RTTs come from the kernel where it measured them: an ICMP reply's
 * receive timestamp (SO_TIMESTAMPNS, taken in the receive softirq) against
 * the send time, and a TCP connect's RTT from TCP_INFO (SYN to SYN-ACK,
 * timed by the stack).  Neither includes the time the agent took to be
 * scheduled and read the answer, which on a loaded host is noise that
 * would read as congestion.  probe_pick_rtt() falls back to the agent's
 * own monotonic measurement when the kernel's is missing or inconsistent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/pkt_sched.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "util.h"

struct probe {
	void *owner;
	enum probe_kind kind;
	int fd;				/* TCP: the connecting socket */
	int family;
	uint16_t seq;			/* ICMP */
	uint64_t token;			/* ICMP payload */
	struct sockaddr_storage addr;
	uint64_t sent_ns, deadline_ns;
	uint64_t sent_real_ns;		/* CLOCK_REALTIME, for SO_TIMESTAMPNS */
};

uint64_t probe_pick_rtt(uint64_t user_rtt_ns, uint64_t kernel_rtt_ns)
{
	/* The kernel saw the answer before the agent did: its RTT can only
	 * be shorter.  0 (none) or longer means a realtime clock step.
	 */
	if (!kernel_rtt_ns || kernel_rtt_ns > user_rtt_ns)
		return user_rtt_ns;
	return kernel_rtt_ns;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

#define PAYLOAD	16

void probe_engine_init(struct probe_engine *pe)
{
	memset(pe, 0, sizeof(*pe));
	pe->v4.fd = pe->v6.fd = -1;
	pe->ident = (uint16_t)(getpid() ^ (now_ns() >> 10));
	pe->seq = (uint16_t)now_ns();
	pe->cookie = now_ns() * 0x9e3779b97f4a7c15ULL;
}

static void probe_free(struct probe_engine *pe, size_t i)
{
	if (pe->p[i].fd >= 0)
		close(pe->p[i].fd);
	pe->p[i] = pe->p[--pe->n];
}

void probe_engine_close(struct probe_engine *pe)
{
	while (pe->n)
		probe_free(pe, pe->n - 1);
	free(pe->p);
	if (pe->v4.fd >= 0)
		close(pe->v4.fd);
	if (pe->v6.fd >= 0)
		close(pe->v6.fd);
	pe->p = NULL;
	pe->cap = 0;
	pe->v4.fd = pe->v6.fd = -1;
}

/*
 * Probes are control traffic: TC_PRIO_CONTROL lets them bypass flowshape's
 * shaping (and any qdisc that honours it, as sch_fq does), so the RTT the
 * agent measures does not include the delay it asks flowshape to add.
 * Priority 7 needs CAP_NET_ADMIN or CAP_NET_RAW (the agent has the first
 * to push); without it the probes are shaped: said once.
 */
static void probe_priority(int fd)
{
	static bool warned;
	int prio = TC_PRIO_CONTROL;

	if (setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) && !warned) {
		log_warn("probes cannot have priority TC_PRIO_CONTROL (%s): flowshape will delay them like other traffic",
			 strerror(errno));
		warned = true;
	}
}

/* Replies a round may leave queued on one ICMP socket: every probe of
 * 4096 destinations answered at once is ~3 MB of skbs (truesize).  The
 * default (rmem_default, ~208 KiB) held ~270: the rest were dropped by
 * the socket and read as path loss, and those destinations went
 * unmeasured.
 */
#define ICMP_RCVBUF	(8 << 20)

/* Receive timestamps on replies (without them the agent's own clock), and
 * a receive buffer for a whole round's replies.
 */
static void icmp_sockopts(int fd)
{
	int one = 1, rcvbuf = ICMP_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		log_info("no kernel receive timestamps on ICMP (%s): RTTs include the agent's wake-up",
			 strerror(errno));
	/* FORCE (CAP_NET_ADMIN, which the agent has for netlink) passes
	 * net.core.rmem_max; plain SO_RCVBUF is capped by it.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		log_info("cannot raise the ICMP receive buffer (%s)", strerror(errno));
}

size_t probe_icmp4_filter(uint16_t ident, struct sock_filter *prog, size_t max)
{
	const struct sock_filter f[] = {
		/* X = the IP header's length (4 * IHL) */
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		/* ICMP type: an echo reply, else drop */
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_ECHOREPLY, 0, 3),
		/* ICMP id: ours, else drop */
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ident, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	size_t n = sizeof(f) / sizeof(f[0]);

	if (n > max)
		return 0;
	memcpy(prog, f, sizeof(f));
	return n;
}

/* Raw ICMPv4 sees every ICMP message the host receives: let the kernel
 * drop what is not a reply to us before it is queued. */
static void icmp4_attach_filter(struct probe_engine *pe, int fd)
{
	struct sock_filter f[8];
	struct sock_fprog prog = {
		.len = (unsigned short)probe_icmp4_filter(pe->ident, f, 8),
		.filter = f,
	};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		log_warn("raw ICMP socket without a filter (%s): every ICMP message the host receives is read",
			 strerror(errno));
}

static int icmp_open(struct probe_engine *pe, int family)
{
	struct icmp_sock *s = family == AF_INET ? &pe->v4 : &pe->v6;
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;

	if (s->fd >= 0 || s->failed)
		return s->fd;
	s->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (s->fd >= 0) {
		log_info("ICMP%s probes: ping socket", family == AF_INET ? "" : "v6");
	icmp_sockopts(s->fd);
	probe_priority(s->fd);
		return s->fd;
	}
	s->fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (s->fd < 0) {
		log_err("cannot open an ICMP%s socket (%s): add the agent's group to net.ipv4.ping_group_range or give it CAP_NET_RAW",
			family == AF_INET ? "" : "v6", strerror(errno));
		s->failed = true;
		return -1;
	}
	s->raw = true;
	if (family == AF_INET)
		icmp4_attach_filter(pe, s->fd);
	if (family == AF_INET6) {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		setsockopt(s->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	log_info("ICMP%s probes: raw socket", family == AF_INET ? "" : "v6");
	icmp_sockopts(s->fd);
	probe_priority(s->fd);
	return s->fd;
}

static uint16_t inet_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static struct probe *probe_add(struct probe_engine *pe)
{
	if (pe->n == pe->cap) {
		pe->cap = pe->cap ? pe->cap * 2 : 16;
		pe->p = xrealloc(pe->p, pe->cap * sizeof(*pe->p));
	}
	memset(&pe->p[pe->n], 0, sizeof(pe->p[0]));
	pe->p[pe->n].fd = -1;
	return &pe->p[pe->n++];
}

static int icmp_send(struct probe_engine *pe, struct probe *p, socklen_t addrlen)
{
	uint8_t pkt[8 + PAYLOAD];
	int fd = icmp_open(pe, p->family);
	struct icmp_sock *s = p->family == AF_INET ? &pe->v4 : &pe->v6;

	if (fd < 0)
		return -EACCES;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = p->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	/* id (bytes 4-5): the kernel's on ping sockets. */
	pkt[4] = (uint8_t)(pe->ident >> 8);
	pkt[5] = (uint8_t)pe->ident;
	pkt[6] = (uint8_t)(p->seq >> 8);
	pkt[7] = (uint8_t)p->seq;
	memcpy(pkt + 8, &p->token, sizeof(p->token));
	/* ICMPv6 checksums are the kernel's on every socket type. */
	if (p->family == AF_INET && s->raw) {
		uint16_t c = inet_csum(pkt, sizeof(pkt));

		memcpy(pkt + 2, &c, 2);
	}
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&p->addr, addrlen) < 0)
		return -errno;
	return 0;
}

static int tcp_send(struct probe *p, socklen_t addrlen)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = socket(p->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	probe_priority(fd);
	p->fd = fd;
	if (connect(fd, (struct sockaddr *)&p->addr, addrlen) < 0 &&
	    errno != EINPROGRESS)
		return errno == ECONNREFUSED ? 1 : -errno;
	return 0;
}

bool probe_error_is_local(int err)
{
	if (err < 0)
		err = -err;
	return err != ENETUNREACH && err != EHOSTUNREACH && err != ENETDOWN &&
	       err != EHOSTDOWN;
}

int probe_start(struct probe_engine *pe, void *owner, enum probe_kind kind,
		const struct sockaddr_storage *addr, socklen_t addrlen,
		uint64_t timeout_ns)
{
	struct probe *p;
	int r;

	if (kind != PROBE_ICMP && kind != PROBE_TCP)
		return -EINVAL;
	p = probe_add(pe);
	p->owner = owner;
	p->kind = kind;
	p->family = addr->ss_family;
	memcpy(&p->addr, addr, addrlen);
	p->seq = pe->seq++;
	pe->cookie = pe->cookie * 6364136223846793005ULL + 1442695040888963407ULL;
	p->token = pe->cookie;
	p->sent_real_ns = realtime_ns();
	p->sent_ns = now_ns();
	p->deadline_ns = p->sent_ns + timeout_ns;
	r = kind == PROBE_ICMP ? icmp_send(pe, p, addrlen) : tcp_send(p, addrlen);
	if (r < 0) {
		log_debug("probe send failed: %s", strerror(-r));
		probe_free(pe, pe->n - 1);
		return r;
	}
	if (r > 0)	/* refused at once: answered; ended at next handle */
		p->deadline_ns = p->sent_ns;
	return 0;
}

size_t probe_pollfds(const struct probe_engine *pe, struct pollfd *pfd, size_t max)
{
	size_t n = 0, i;

	if (pe->v4.fd >= 0 && n < max)
		pfd[n++] = (struct pollfd){ .fd = pe->v4.fd, .events = POLLIN };
	if (pe->v6.fd >= 0 && n < max)
		pfd[n++] = (struct pollfd){ .fd = pe->v6.fd, .events = POLLIN };
	for (i = 0; i < pe->n && n < max; i++) {
		if (pe->p[i].kind == PROBE_TCP && pe->p[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = pe->p[i].fd, .events = POLLOUT };
	}
	return n;
}

static bool same_addr(const struct sockaddr_storage *a, const void *from, int family)
{
	if (a->ss_family != family)
		return false;
	if (family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)from)->sin_addr, 4);
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
}

static void icmp_read(struct probe_engine *pe, int family, probe_done_fn fn, void *arg)
{
	struct icmp_sock *s = family == AF_INET ? &pe->v4 : &pe->v6;
	uint8_t buf[1500];
	unsigned int budget;

	for (budget = ICMP_READ_BUDGET; budget; budget--) {
		struct sockaddr_storage from;
		union {
			char buf[CMSG_SPACE(sizeof(struct timespec))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(s->fd, &mh, 0);
		uint64_t now = now_ns(), token, rx_real = 0;
		const uint8_t *icmp = buf;
		struct cmsghdr *c;
		uint16_t id, seq;
		size_t i;

		if (n < 0)
			return;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPNS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				rx_real = (uint64_t)ts.tv_sec * NSEC_PER_SEC +
					  (uint64_t)ts.tv_nsec;
			}
		}
		if (family == AF_INET && s->raw) {
			size_t ihl = (size_t)(buf[0] & 0x0f) * 4;

			if ((size_t)n < ihl)
				continue;
			icmp += ihl;
			n -= (ssize_t)ihl;
		}
		if (n < 8 + PAYLOAD)
			continue;
		if (icmp[0] != (family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
			continue;
		id = (uint16_t)(icmp[4] << 8 | icmp[5]);
		seq = (uint16_t)(icmp[6] << 8 | icmp[7]);
		if (s->raw && id != pe->ident)
			continue;
		memcpy(&token, icmp + 8, sizeof(token));
		for (i = 0; i < pe->n; i++) {
			struct probe *p = &pe->p[i];

			if (p->kind != PROBE_ICMP || p->family != family ||
			    p->seq != seq || p->token != token ||
			    !same_addr(&p->addr, &from, family))
				continue;
			fn(arg, p->owner, true,
			   probe_pick_rtt(now - p->sent_ns,
					  rx_real > p->sent_real_ns ?
					  rx_real - p->sent_real_ns : 0));
			probe_free(pe, i);
			break;
		}
	}
}

static void tcp_done(struct probe_engine *pe, size_t i, probe_done_fn fn, void *arg)
{
	struct probe *p = &pe->p[i];
	uint64_t rtt = now_ns() - p->sent_ns;
	socklen_t len = sizeof(int);
	void *owner = p->owner;
	int err = 0;

	getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (!err) {
		struct tcp_info ti;

		/* One sample, the SYN's: srtt is that RTT (in us). */
		len = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		if (!getsockopt(p->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) &&
		    len >= offsetof(struct tcp_info, tcpi_rtt) + sizeof(ti.tcpi_rtt))
			rtt = probe_pick_rtt(rtt, (uint64_t)ti.tcpi_rtt * 1000);
	}
	probe_free(pe, i);
	fn(arg, owner, err == 0 || err == ECONNREFUSED, rtt);
}

void probe_handle(struct probe_engine *pe, const struct pollfd *pfd, size_t n,
		  probe_done_fn fn, void *arg)
{
	size_t k, i;

	for (k = 0; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		if (pfd[k].fd == pe->v4.fd) {
			icmp_read(pe, AF_INET, fn, arg);
			continue;
		}
		if (pfd[k].fd == pe->v6.fd) {
			icmp_read(pe, AF_INET6, fn, arg);
			continue;
		}
		for (i = 0; i < pe->n; i++) {
			if (pe->p[i].kind == PROBE_TCP && pe->p[i].fd == pfd[k].fd) {
				tcp_done(pe, i, fn, arg);
				break;
			}
		}
	}
}

/* End the probes due by @limit as unanswered; each reports its age at
 * @now (a lower bound on its RTT) in place of an RTT. */
static void expire(struct probe_engine *pe, uint64_t limit, uint64_t now,
		   probe_done_fn fn, void *arg)
{
	size_t i = 0;

	while (i < pe->n) {
		struct probe *p = &pe->p[i];
		void *owner = p->owner;
		uint64_t age;

		if (p->deadline_ns > limit) {
			i++;
			continue;
		}
		if (p->kind == PROBE_TCP && p->deadline_ns == p->sent_ns) {
			/* refused at connect(): the peer answered */
			tcp_done(pe, i, fn, arg);
			continue;
		}
		age = now > p->sent_ns ? now - p->sent_ns : 0;
		probe_free(pe, i);
		fn(arg, owner, false, age);
	}
}

void probe_expire(struct probe_engine *pe, uint64_t now, probe_done_fn fn, void *arg)
{
	expire(pe, now, now, fn, arg);
}

void probe_expire_all(struct probe_engine *pe, uint64_t now, probe_done_fn fn, void *arg)
{
	expire(pe, UINT64_MAX, now, fn, arg);
}

uint64_t probe_next_deadline(const struct probe_engine *pe)
{
	uint64_t best = 0;
	size_t i;

	for (i = 0; i < pe->n; i++) {
		if (!best || pe->p[i].deadline_ns < best)
			best = pe->p[i].deadline_ns;
	}
	return best;
}

void probe_cancel_owner(struct probe_engine *pe, void *owner)
{
	size_t i = 0;

	while (i < pe->n) {
		if (pe->p[i].owner == owner)
			probe_free(pe, i);
		else
			i++;
	}
}

void probe_walk(const struct probe_engine *pe, probe_walk_fn fn, void *arg)
{
	size_t i;

	for (i = 0; i < pe->n; i++)
		fn(arg, pe->p[i].owner, pe->p[i].sent_ns);
}

size_t probe_outstanding(const struct probe_engine *pe, void *owner)
{
	size_t i, n = 0;

	for (i = 0; i < pe->n; i++)
		n += pe->p[i].owner == owner;
	return n;
}
