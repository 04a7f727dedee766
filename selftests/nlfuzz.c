// SPDX-License-Identifier: GPL-2.0
/*
 * nlfuzz: a netlink fuzzer for a live flowshape qdisc (robustness tests).
 *
 *   nlfuzz fuzz DEV [-n COUNT] [-s SEED] [-a DEV2] [-V EVERY] [-v]
 *   nlfuzz churn DEV [-e ENTRIES] [-i MS] [-t SECONDS] [-s SEED] [-v]
 *
 * fuzz: sends COUNT RTM_NEWQDISC "change" requests for the flowshape root
 * qdisc of DEV, generated from a seed (printed first, so that a failure can
 * be replayed with -s): valid and out-of-range scalars, wrong lengths and
 * types, unknown attributes, destination lists of up to ~1800 entries
 * (some with one invalid entry), nesting bombs, truncated messages (raw and
 * with the enclosing lengths fixed), random bytes, bit-flipped copies of
 * valid messages, nests whose 16-bit length overflows, and duplicated
 * attributes.  With -a, some requests instead create a flowshape root qdisc
 * on DEV2 with fuzzed options (and delete it again when that worked).
 *
 * Every answer is judged:
 *   - a refusal must carry an extack message (NLMSGERR_ATTR_MSG); the only
 *     exception allowed is ENOMEM, which the kernel's allocators report
 *     without one;
 *   - when the generator knows what the message means, the outcome must be
 *     the predicted one (ack or refusal);
 *   - the qdisc's state (every parameter, from RTM_GETQDISC, and the
 *     destination table, from the class dump) is compared with a model
 *     after every message: a refused message changed nothing, an acked one
 *     did exactly what it says (applied whole).  The parameters and the
 *     table size are compared after every message, the whole table every
 *     EVERY messages (default 25) and at the end.  After an ack of a message
 *     whose meaning the generator cannot know (random bytes, mutations),
 *     the model is re-read from the kernel.
 *
 * churn: a destination table of ENTRIES (default 2000) IPv4 /24 prefixes in
 * 10.0.0.0/8 churned every MS (default 10) milliseconds for SECONDS
 * (default 10): alternately a value-only update of every entry (the
 * in-place path) and a swap of 10% of the prefixes for others (the rebuild
 * path), in messages of at most 1500 entries.  Every message must be acked.
 *
 * The last line is a summary of key=value pairs; the exit status is 0 when
 * nothing failed, 1 otherwise, 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <linux/flowshape.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define MSG_MAX		(160 * 1024)
#define RBUF_SZ		(1024 * 1024)
#define DEST_BYTES_MAX	60000	/* DESTS content per valid message */
#define MAX_TABLE	70000

/* ------------------------------------------------------------------ */
/* Random numbers: xorshift64*, reproducible from the seed.            */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n). */
static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static bool chance(uint32_t pct)
{
	return rnd(100) < pct;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Message building, byte by byte, so that anything can be malformed.  */

static uint8_t msg[MSG_MAX];
static size_t mlen;		/* bytes used */

static bool room(size_t n)
{
	return mlen + n + 8 <= MSG_MAX;
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* An attribute with @len bytes of payload; nla_len is what fits in u16. */
static size_t put_attr(uint16_t type, const void *data, size_t len)
{
	size_t off = mlen;
	struct nlattr *a = (struct nlattr *)(msg + off);

	if (!room(NLA_HDRLEN + len))
		return SIZE_MAX;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len && data)
		memcpy(msg + off + NLA_HDRLEN, data, len);
	else if (len)
		memset(msg + off + NLA_HDRLEN, 0, len);
	mlen = off + align4(NLA_HDRLEN + len);
	memset(msg + off + NLA_HDRLEN + len, 0, mlen - off - NLA_HDRLEN - len);
	return off;
}

static void put_u8(uint16_t type, uint8_t v) { put_attr(type, &v, 1); }
static void put_u32(uint16_t type, uint32_t v) { put_attr(type, &v, 4); }
static void put_u64(uint16_t type, uint64_t v) { put_attr(type, &v, 8); }

static size_t nest_start(uint16_t type)
{
	return put_attr(type, NULL, 0);
}

/* The nest's length, truncated to 16 bits as a careless sender would. */
static void nest_end(size_t off)
{
	struct nlattr *a = (struct nlattr *)(msg + off);

	if (off == SIZE_MAX)
		return;
	a->nla_len = (uint16_t)(mlen - off);
}

static void put_raw(const void *p, size_t n)
{
	if (!room(n))
		return;
	memcpy(msg + mlen, p, n);
	mlen += n;
}

static void put_random(size_t n)
{
	size_t i;

	if (!room(n))
		return;
	for (i = 0; i < n; i++)
		msg[mlen + i] = (uint8_t)rnd64();
	mlen += n;
}

/* The request header; @opts_off receives where TCA_OPTIONS starts. */
static void msg_begin(int ifindex, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *h = (struct nlmsghdr *)msg;
	struct tcmsg *t;

	memset(msg, 0, NLMSG_HDRLEN + sizeof(*t));
	h->nlmsg_type = RTM_NEWQDISC;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = seq;
	t = (struct tcmsg *)(msg + NLMSG_HDRLEN);
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_parent = TC_H_ROOT;
	mlen = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*t));
	put_attr(TCA_KIND, "flowshape", sizeof("flowshape"));
}

static void msg_finish(void)
{
	((struct nlmsghdr *)msg)->nlmsg_len = (uint32_t)mlen;
}

/* ------------------------------------------------------------------ */
/* The scalar parameters, as the policy has them.                      */

struct pspec {
	const char *name;
	uint16_t type;
	uint8_t size;		/* 1, 4, 8 */
	uint64_t min, max;
	bool pow2;
};

#define NS_MS	1000000ULL
#define NS_S	1000000000ULL

static const struct pspec pspecs[] = {
	{ "limit", TCA_FLOWSHAPE_LIMIT, 4, 1, 1000000, false },
	{ "flow_limit", TCA_FLOWSHAPE_FLOW_LIMIT, 4, 1, 1000000, false },
	{ "buckets", TCA_FLOWSHAPE_BUCKETS, 4, 1, 1U << 20, true },
	{ "max_flows", TCA_FLOWSHAPE_MAX_FLOWS, 4, 1, 1U << 24, false },
	{ "flow_idle", TCA_FLOWSHAPE_FLOW_IDLE, 8, NS_MS, 3600 * NS_S, false },
	{ "congestion_weight", TCA_FLOWSHAPE_CONGESTION_WEIGHT, 8, 0, 10 * NS_S, false },
	{ "load_weight", TCA_FLOWSHAPE_LOAD_WEIGHT, 8, 0, 10 * NS_S, false },
	{ "congestion_threshold", TCA_FLOWSHAPE_CONGESTION_THRESHOLD, 4, 0, 1000000, false },
	{ "load_threshold", TCA_FLOWSHAPE_LOAD_THRESHOLD, 4, 0, 1000000, false },
	{ "max_delay", TCA_FLOWSHAPE_MAX_DELAY, 8, 0, 10 * NS_S, false },
	{ "smoothing", TCA_FLOWSHAPE_SMOOTHING, 4, 0, 990000, false },
	{ "mode", TCA_FLOWSHAPE_MODE, 1, 0, 1, false },
	{ "quantum", TCA_FLOWSHAPE_QUANTUM, 4, 256, 1U << 20, false },
	{ "timer_slack", TCA_FLOWSHAPE_TIMER_SLACK, 8, 0, 10 * NS_MS, false },
	{ "stale_after", TCA_FLOWSHAPE_STALE_AFTER, 8, NS_MS, 10 * NS_S, false },
	{ "default_congestion", TCA_FLOWSHAPE_DEFAULT_CONGESTION, 4, 0, 1000000, false },
	{ "default_load", TCA_FLOWSHAPE_DEFAULT_LOAD, 4, 0, 1000000, false },
	{ "max_dests", TCA_FLOWSHAPE_MAX_DESTS, 4, 1, 65535, false },
	{ "rate_scope", TCA_FLOWSHAPE_RATE_SCOPE, 1, 0, 1, false },
	{ "aqm_target", TCA_FLOWSHAPE_AQM_TARGET, 8, 0, NS_S, false },
	{ "aqm_interval", TCA_FLOWSHAPE_AQM_INTERVAL, 8, NS_MS, 10 * NS_S, false },
	{ "horizon", TCA_FLOWSHAPE_HORIZON, 8, NS_MS, 3600 * NS_S, false },
	{ "horizon_drop", TCA_FLOWSHAPE_HORIZON_DROP, 4, 0, 1, false },
	{ "overflow_limit", TCA_FLOWSHAPE_OVERFLOW_LIMIT, 4, 1, 1000000, false },
};

#define NPARAMS (sizeof(pspecs) / sizeof(pspecs[0]))

static const struct pspec *pspec_of(uint16_t type)
{
	size_t i;

	for (i = 0; i < NPARAMS; i++)
		if (pspecs[i].type == type)
			return &pspecs[i];
	return NULL;
}

/* A value the policy accepts, biased to the edges. */
static uint64_t valid_value(const struct pspec *p)
{
	uint64_t span = p->max - p->min;

	if (p->pow2)
		return 1ULL << rnd(21);
	if (p->type == TCA_FLOWSHAPE_MAX_DESTS && chance(80))
		return 4096 + rnd(65535 - 4096 + 1);
	switch (rnd(6)) {
	case 0: return p->min;
	case 1: return p->max;
	case 2: return span ? p->min + 1 : p->min;
	case 3: return span ? p->max - 1 : p->max;
	default: return p->min + rnd64() % (span + 1);
	}
}

/* A value of the right size the policy refuses. */
static uint64_t invalid_value(const struct pspec *p)
{
	uint64_t top = p->size == 8 ? UINT64_MAX : p->size == 4 ? UINT32_MAX : UINT8_MAX;

	if (p->pow2 && chance(50)) {
		static const uint64_t bad[] = { 3, 5, 6, 7, 100, 1000, 1023, 1025,
						(1U << 20) - 1, 3U << 18 };
		return bad[rnd(sizeof(bad) / sizeof(bad[0]))];
	}
	switch (rnd(4)) {
	case 0:
		if (p->min > 0)
			return p->min - 1;
		/* fall through */
	case 1: return p->max + 1;
	case 2: return top;
	default: return p->max + 1 + rnd64() % (top - p->max);
	}
}

static void put_scalar(const struct pspec *p, uint64_t v)
{
	if (p->size == 1)
		put_u8(p->type, (uint8_t)v);
	else if (p->size == 4)
		put_u32(p->type, (uint32_t)v);
	else
		put_u64(p->type, v);
}

/* ------------------------------------------------------------------ */
/* The model of the qdisc's state.                                     */

struct dest {
	uint8_t family;		/* 4, 6 or FAM_MARK */
	uint8_t plen;
	uint8_t addr[16];
	uint32_t c, l;
};

struct model {
	uint64_t p[TCA_FLOWSHAPE_MAX + 1];
	struct dest *d;
	size_t n;
};

static struct model M, K;	/* model; kernel's, as last read */

/* A mark entry: addr holds the mark then the mask, big endian; plen is
 * the mask's bits (the kernel's own representation and order).
 */
#define FAM_MARK	1

static int fam_rank(uint8_t family)
{
	return family == FAM_MARK ? 0 : family == 4 ? 1 : 2;
}

/* The kernel's table order: marks, IPv4, IPv6; most bits first; marks
 * by mask, then by value; prefixes by address.
 */
static int dest_cmp(const struct dest *a, const struct dest *b)
{
	int c;

	if (a->family != b->family)
		return fam_rank(a->family) < fam_rank(b->family) ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen > b->plen ? -1 : 1;
	if (a->family == FAM_MARK) {
		c = memcmp(a->addr + 4, b->addr + 4, 4);
		if (c)
			return c;
	}
	return memcmp(a->addr, b->addr, 16);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void mark_key(struct dest *d, uint32_t mark, uint32_t mask)
{
	d->family = FAM_MARK;
	put_be32(d->addr, mark);
	put_be32(d->addr + 4, mask);
	d->plen = (uint8_t)__builtin_popcount(mask);
}

/* Index of @k in the model, or -(insertion point) - 1. */
static long model_find(const struct model *m, const struct dest *k)
{
	long lo = 0, hi = (long)m->n;

	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;
		int c = dest_cmp(&m->d[mid], k);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -lo - 1;
}

static void model_copy(struct model *dst, const struct model *src)
{
	memcpy(dst->p, src->p, sizeof(dst->p));
	dst->n = src->n;
	memcpy(dst->d, src->d, src->n * sizeof(*src->d));
}

/* One destination operation, in message order. */
struct dop {
	struct dest d;
	bool has_c, has_l, del;
};

/* Apply ops to @m: false if the kernel must refuse them. */
static bool model_apply_dests(struct model *m, bool flush, const struct dop *ops,
			      size_t nops, uint32_t max_dests)
{
	size_t i;

	if (flush)
		m->n = 0;
	for (i = 0; i < nops; i++) {
		long idx = model_find(m, &ops[i].d);

		if (ops[i].del) {
			if (idx < 0)
				return false;	/* no such destination */
			memmove(&m->d[idx], &m->d[idx + 1],
				(m->n - (size_t)idx - 1) * sizeof(*m->d));
			m->n--;
			continue;
		}
		if (idx < 0) {
			if (m->n >= MAX_TABLE)
				return false;
			idx = -idx - 1;
			memmove(&m->d[idx + 1], &m->d[idx],
				(m->n - (size_t)idx) * sizeof(*m->d));
			m->d[idx] = ops[i].d;
			m->d[idx].c = 0;
			m->d[idx].l = 0;
			m->n++;
		}
		if (ops[i].has_c)
			m->d[idx].c = ops[i].d.c;
		if (ops[i].has_l)
			m->d[idx].l = ops[i].d.l;
	}
	return m->n <= max_dests;
}

/* ------------------------------------------------------------------ */
/* Netlink I/O.                                                        */

static struct mnl_socket *nl;
static uint32_t portid, seq = 1000;
static char *rbuf;
static int ifindex, ifindex2;
static bool verbose;

struct answer {
	int error;		/* 0: ack */
	bool has_msg;
	char text[256];
};

/* Send what is in msg[], read the ack. */
/*
 * Answers received: NLMSG_ERROR messages (acks and refusals) carrying the
 * sequence number of a request transact() sent.  Counted here, where the
 * kernel's answer is read, not where requests are generated: the test
 * compares it with the number of requests it asked for.
 */
static unsigned long answers;

static int transact(struct answer *ans)
{
	uint32_t s = ((struct nlmsghdr *)msg)->nlmsg_seq;
	ssize_t r;

	memset(ans, 0, sizeof(*ans));
	if (mnl_socket_sendto(nl, msg, mlen) < 0) {
		perror("nlfuzz: sendto");
		return -1;
	}
	for (;;) {
		struct nlmsghdr *h;
		int rem;

		r = mnl_socket_recvfrom(nl, rbuf, RBUF_SZ);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("nlfuzz: recv");
			return -1;
		}
		rem = (int)r;
		for (h = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(h, rem);
		     h = mnl_nlmsg_next(h, &rem)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			size_t off = sizeof(*e);
			const struct nlattr *a;

			if (h->nlmsg_seq != s || h->nlmsg_type != NLMSG_ERROR)
				continue;
			answers++;
			ans->error = -e->error;
			if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
				if (!(h->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - sizeof(e->msg);
				const char *p = (const char *)e + MNL_ALIGN(off);
				int alen = (int)h->nlmsg_len - (int)MNL_NLMSG_HDRLEN -
					   (int)MNL_ALIGN(off);

				for (a = (const struct nlattr *)p; mnl_attr_ok(a, alen);
				     a = mnl_attr_next(a)) {
					alen -= (int)MNL_ALIGN(a->nla_len);
					if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG) {
						ans->has_msg = true;
						snprintf(ans->text, sizeof(ans->text), "%.*s",
							 (int)mnl_attr_get_payload_len(a),
							 (const char *)mnl_attr_get_payload(a));
					}
				}
			}
			return 0;
		}
	}
}

/* Kernel state readers. */
struct qstate {
	bool found;
	uint64_t p[TCA_FLOWSHAPE_MAX + 1];
	struct tc_flowshape_xstats xs;
	bool has_xs;
	uint64_t packets, drops;
	uint32_t qlen;
};

/* Whether the qdisc or class message @h (payload @t) is flowshape's. */
static bool is_flowshape(const struct nlmsghdr *h, const struct tcmsg *t)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, h, sizeof(*t)) {
		if (mnl_attr_get_type(a) == TCA_KIND &&
		    !strcmp(mnl_attr_get_str(a), "flowshape"))
			return true;
	}
	return false;
}

static int qdisc_cb(const struct nlmsghdr *h, void *data)
{
	struct qstate *q = data;
	const struct tcmsg *t = mnl_nlmsg_get_payload(h);
	const struct nlattr *a, *b;

	if (h->nlmsg_type != RTM_NEWQDISC || t->tcm_ifindex != ifindex ||
	    t->tcm_parent != TC_H_ROOT)
		return MNL_CB_OK;
	if (!is_flowshape(h, t))
		return MNL_CB_OK;
	q->found = true;
	mnl_attr_for_each(a, h, sizeof(*t)) {
		uint16_t ty = mnl_attr_get_type(a);

		if (ty == TCA_OPTIONS) {
			mnl_attr_for_each_nested(b, a) {
				const struct pspec *p = pspec_of(mnl_attr_get_type(b));
				uint16_t len = mnl_attr_get_payload_len(b);

				if (!p)
					continue;
				if (len == 1)
					q->p[p->type] = mnl_attr_get_u8(b);
				else if (len == 4)
					q->p[p->type] = mnl_attr_get_u32(b);
				else if (len == 8)
					q->p[p->type] = mnl_attr_get_u64(b);
			}
		} else if (ty == TCA_STATS2) {
			mnl_attr_for_each_nested(b, a) {
				uint16_t bt = mnl_attr_get_type(b);
				uint16_t len = mnl_attr_get_payload_len(b);

				if (bt == TCA_STATS_APP) {
					memcpy(&q->xs, mnl_attr_get_payload(b),
					       len < sizeof(q->xs) ? len : sizeof(q->xs));
					q->has_xs = true;
				} else if (bt == TCA_STATS_BASIC &&
					   len >= sizeof(struct gnet_stats_basic)) {
					struct gnet_stats_basic gb;

					memcpy(&gb, mnl_attr_get_payload(b), sizeof(gb));
					if (!q->packets)
						q->packets = gb.packets;
				} else if (bt == TCA_STATS_PKT64 && len == 8) {
					q->packets = mnl_attr_get_u64(b);
				} else if (bt == TCA_STATS_QUEUE &&
					   len >= sizeof(struct gnet_stats_queue)) {
					struct gnet_stats_queue gq;

					memcpy(&gq, mnl_attr_get_payload(b), sizeof(gq));
					q->drops = gq.drops;
					q->qlen = gq.qlen;
				}
			}
		}
	}
	return MNL_CB_OK;
}

static int run_request(const void *req, size_t len, uint32_t s,
		       mnl_cb_t cb, void *data)
{
	ssize_t r;
	int ret;

	if (mnl_socket_sendto(nl, req, len) < 0)
		return -1;
	do {
		r = mnl_socket_recvfrom(nl, rbuf, RBUF_SZ);
		if (r < 0)
			return -1;
		ret = mnl_cb_run(rbuf, (size_t)r, s, portid, cb, data);
	} while (ret > 0);
	return ret;
}

static int read_qdisc(struct qstate *q)
{
	char req[256];
	struct nlmsghdr *h = mnl_nlmsg_put_header(req);
	struct tcmsg *t;

	memset(q, 0, sizeof(*q));
	h->nlmsg_type = RTM_GETQDISC;
	/* tc_get_qdisc() answers through rtnetlink_send(): only an echo
	 * reaches the requester.
	 */
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO;
	h->nlmsg_seq = ++seq;
	t = mnl_nlmsg_put_extra_header(h, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_parent = TC_H_ROOT;
	if (run_request(req, h->nlmsg_len, h->nlmsg_seq, qdisc_cb, q) < 0) {
		perror("nlfuzz: RTM_GETQDISC");
		return -1;
	}
	return q->found ? 0 : -1;
}

static int class_cb(const struct nlmsghdr *h, void *data)
{
	struct model *m = data;
	const struct tcmsg *t = mnl_nlmsg_get_payload(h);
	const struct nlattr *a, *b;
	struct dest d = { 0 };
	bool got = false;

	if (h->nlmsg_type != RTM_NEWTCLASS || t->tcm_ifindex != ifindex)
		return MNL_CB_OK;
	if (!is_flowshape(h, t))
		return MNL_CB_OK;
	mnl_attr_for_each(a, h, sizeof(*t)) {
		if (mnl_attr_get_type(a) != TCA_OPTIONS)
			continue;
		mnl_attr_for_each_nested(b, a) {
			switch (mnl_attr_get_type(b)) {
			case TCA_FLOWSHAPE_DEST_IPV4:
				d.family = 4;
				memcpy(d.addr, mnl_attr_get_payload(b), 4);
				got = true;
				break;
			case TCA_FLOWSHAPE_DEST_IPV6:
				d.family = 6;
				memcpy(d.addr, mnl_attr_get_payload(b), 16);
				got = true;
				break;
			case TCA_FLOWSHAPE_DEST_PLEN:
				d.plen = mnl_attr_get_u8(b);
				break;
			case TCA_FLOWSHAPE_DEST_MARK:
				d.family = FAM_MARK;
				put_be32(d.addr, mnl_attr_get_u32(b));
				got = true;
				break;
			case TCA_FLOWSHAPE_DEST_MARK_MASK:
				put_be32(d.addr + 4, mnl_attr_get_u32(b));
				d.plen = (uint8_t)__builtin_popcount(mnl_attr_get_u32(b));
				break;
			case TCA_FLOWSHAPE_DEST_CONGESTION:
				d.c = mnl_attr_get_u32(b);
				break;
			case TCA_FLOWSHAPE_DEST_LOAD:
				d.l = mnl_attr_get_u32(b);
				break;
			}
		}
	}
	if (got && m->n < MAX_TABLE)
		m->d[m->n++] = d;
	return MNL_CB_OK;
}

static int read_table(struct model *m)
{
	char req[256];
	struct nlmsghdr *h = mnl_nlmsg_put_header(req);
	struct tcmsg *t;

	m->n = 0;
	h->nlmsg_type = RTM_GETTCLASS;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++seq;
	t = mnl_nlmsg_put_extra_header(h, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	return run_request(req, h->nlmsg_len, h->nlmsg_seq, class_cb, m);
}

/* ------------------------------------------------------------------ */
/* Destinations.                                                       */

static void random_dest(struct dest *d)
{
	memset(d, 0, sizeof(*d));
	if (chance(10)) {
		/* A few masks (the kernel takes at most 32 different ones). */
		static const uint32_t masks[] = { 0xffffffff, 0xff, 0xff00, 0xf0 };
		uint32_t mask = masks[rnd(4)];

		mark_key(d, (uint32_t)rnd64() & mask, mask);
		return;
	}
	if (chance(70)) {
		d->family = 4;
		switch (rnd(6)) {
		case 0:		/* what the test traffic goes to */
			d->addr[0] = 10; d->addr[1] = 100;
			d->plen = (uint8_t)(chance(50) ? 32 : 24);
			if (d->plen == 32)
				d->addr[3] = 2;
			break;
		case 1:		/* short prefixes */
			d->plen = (uint8_t)rnd(17);
			d->addr[0] = 10;
			break;
		case 2:		/* hosts */
			d->plen = 32;
			d->addr[0] = 10; d->addr[1] = 200;
			d->addr[2] = (uint8_t)rnd(16); d->addr[3] = (uint8_t)rnd(256);
			break;
		default:	/* /24s: many, so that tables grow */
			d->plen = 24;
			d->addr[0] = 10; d->addr[1] = (uint8_t)rnd(16);
			d->addr[2] = (uint8_t)rnd(256);
			break;
		}
	} else {
		d->family = 6;
		d->addr[0] = 0xfd;
		switch (rnd(4)) {
		case 0:
			d->plen = 128;
			d->addr[1] = 0; d->addr[2] = 0x01; d->addr[15] = 2;
			break;
		case 1:
			d->plen = (uint8_t)(8 + rnd(9));
			d->addr[1] = 0;
			break;
		default:
			d->plen = 64;
			d->addr[2] = (uint8_t)rnd(16); d->addr[3] = (uint8_t)rnd(256);
			break;
		}
	}
	/* Mask to the prefix. */
	{
		unsigned int i, alen = d->family == 4 ? 4 : 16;

		for (i = 0; i < alen; i++) {
			unsigned int first = i * 8;

			if (d->plen <= first)
				d->addr[i] = 0;
			else if (d->plen < first + 8)
				d->addr[i] &= (uint8_t)(0xff << (8 - (d->plen - first)));
		}
	}
}

static uint32_t random_level(void)
{
	switch (rnd(5)) {
	case 0: return 0;
	case 1: return 1000000;
	default: return rnd(1000001);
	}
}

/* Append one well-formed entry for @op; returns the DEST's offset. */
static size_t put_dest(const struct dop *op)
{
	size_t e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);

	if (op->d.family == FAM_MARK) {
		uint32_t mask = get_be32(op->d.addr + 4);

		put_u32(TCA_FLOWSHAPE_DEST_MARK, get_be32(op->d.addr));
		if (mask != 0xffffffff || chance(30))
			put_u32(TCA_FLOWSHAPE_DEST_MARK_MASK, mask);
	} else if (op->d.family == 4) {
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, op->d.addr, 4);
	} else {
		put_attr(TCA_FLOWSHAPE_DEST_IPV6, op->d.addr, 16);
	}
	if ((op->d.family == 4 && op->d.plen != 32) ||
	    (op->d.family == 6 && op->d.plen != 128) ||
	    (op->d.family != FAM_MARK && chance(30)))
		put_u8(TCA_FLOWSHAPE_DEST_PLEN, op->d.plen);
	if (op->has_c)
		put_u32(TCA_FLOWSHAPE_DEST_CONGESTION, op->d.c);
	if (op->has_l)
		put_u32(TCA_FLOWSHAPE_DEST_LOAD, op->d.l);
	if (op->del)
		put_attr(TCA_FLOWSHAPE_DEST_DELETE, NULL, 0);
	nest_end(e);
	return e;
}

/* One invalid entry (kind chosen at random); its name for the log. */
static const char *put_bad_dest(void)
{
	struct dop op = { 0 };
	size_t e;
	uint8_t junk[20];
	unsigned int k = rnd(21);

	random_dest(&op.d);
	memset(junk, 0xa5, sizeof(junk));
	switch (k) {
	case 0: {			/* prefix too long for the family */
		uint8_t plen = (uint8_t)(op.d.family == 4 ? 33 + rnd(223) : 129 + rnd(127));

		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(op.d.family == 4 ? TCA_FLOWSHAPE_DEST_IPV4 : TCA_FLOWSHAPE_DEST_IPV6,
			 op.d.addr, op.d.family == 4 ? 4 : 16);
		put_u8(TCA_FLOWSHAPE_DEST_PLEN, plen);
		nest_end(e);
		return "plen too long";
	}
	case 1:				/* host bits */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		op.d.addr[op.d.family == 4 ? 3 : 15] |= 1;
		put_attr(op.d.family == 4 ? TCA_FLOWSHAPE_DEST_IPV4 : TCA_FLOWSHAPE_DEST_IPV6,
			 op.d.addr, op.d.family == 4 ? 4 : 16);
		put_u8(TCA_FLOWSHAPE_DEST_PLEN, (uint8_t)rnd(op.d.family == 4 ? 32 : 128));
		nest_end(e);
		return "host bits";
	case 2:				/* both addresses */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, op.d.addr, 4);
		put_attr(TCA_FLOWSHAPE_DEST_IPV6, op.d.addr, 16);
		nest_end(e);
		return "both addresses";
	case 3:				/* no address */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_u32(TCA_FLOWSHAPE_DEST_CONGESTION, 1);
		nest_end(e);
		return "no address";
	case 4:				/* delete with levels */
		op.del = true;
		op.has_c = true;
		put_dest(&op);
		return "delete with levels";
	case 5:				/* level out of range */
		op.has_c = chance(50);
		op.has_l = !op.has_c;
		op.d.c = op.d.l = 1000001 + rnd(UINT32_MAX - 1000001);
		put_dest(&op);
		return "level > 1";
	case 6: {			/* address of the wrong length */
		size_t alen = op.d.family == 4 ? (chance(50) ? 3 : 5 + rnd(12))
					       : (chance(50) ? rnd(16) : 17 + rnd(3));

		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(op.d.family == 4 ? TCA_FLOWSHAPE_DEST_IPV4 : TCA_FLOWSHAPE_DEST_IPV6,
			 junk, alen);
		nest_end(e);
		return "address length";
	}
	case 7: {			/* dump-only attributes */
		static const uint16_t ro[] = { TCA_FLOWSHAPE_DEST_AGE,
			TCA_FLOWSHAPE_DEST_DELAY, TCA_FLOWSHAPE_DEST_STALE,
			TCA_FLOWSHAPE_DEST_PAD };
		uint16_t t = ro[rnd(4)];

		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, op.d.addr, 4);
		put_u8(TCA_FLOWSHAPE_DEST_PLEN, 32);
		if (t == TCA_FLOWSHAPE_DEST_STALE)
			put_attr(t, NULL, 0);
		else
			put_u64(t, rnd64());
		nest_end(e);
		return "dump-only attribute";
	}
	case 8:				/* unknown attribute */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 1, 2, 3 }, 4);
		put_u32((uint16_t)(TCA_FLOWSHAPE_DEST_ATTR_MAX + 1 + rnd(1000)), 7);
		nest_end(e);
		return "unknown entry attribute";
	case 9:				/* entry of the wrong type */
		e = nest_start((uint16_t)((chance(50) ? 0 : 2 + rnd(300)) | NLA_F_NESTED));
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 1, 2, 3 }, 4);
		nest_end(e);
		return "entry type";
	case 10:			/* entry without NLA_F_NESTED */
		e = nest_start(TCA_FLOWSHAPE_DEST);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 1, 2, 3 }, 4);
		nest_end(e);
		return "entry not flagged nested";
	case 11:			/* prefix length as a u32 */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 1, 2, 0 }, 4);
		put_u32(TCA_FLOWSHAPE_DEST_PLEN, 24);
		nest_end(e);
		return "plen length";
	case 12:			/* attribute type 0 */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 1, 2, 3 }, 4);
		put_u32(0, 1);
		nest_end(e);
		return "entry attribute type 0";
	case 13:			/* trailing bytes inside the entry */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 1, 2, 3 }, 4);
		put_raw(junk, 1 + rnd(3));
		nest_end(e);
		return "entry trailing bytes";
	case 14:			/* delete flag with a payload */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 1, 2, 3 }, 4);
		put_attr(TCA_FLOWSHAPE_DEST_DELETE, junk, 1 + rnd(8));
		nest_end(e);
		return "delete flag payload";
	case 15:			/* mark with a prefix length */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_u32(TCA_FLOWSHAPE_DEST_MARK, (uint32_t)rnd64());
		put_u8(TCA_FLOWSHAPE_DEST_PLEN, (uint8_t)rnd(33));
		nest_end(e);
		return "mark with plen";
	case 16:			/* mark mask 0 */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_u32(TCA_FLOWSHAPE_DEST_MARK, 0);
		put_u32(TCA_FLOWSHAPE_DEST_MARK_MASK, 0);
		nest_end(e);
		return "mark mask 0";
	case 17: {			/* mark bits outside its mask */
		uint32_t mask = (uint32_t)rnd64() | 1;

		if (mask == 0xffffffff)
			mask = 0xff;
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_u32(TCA_FLOWSHAPE_DEST_MARK, (~mask & (uint32_t)rnd64()) | (~mask & -~mask));
		put_u32(TCA_FLOWSHAPE_DEST_MARK_MASK, mask);
		nest_end(e);
		return "mark outside mask";
	}
	case 18:			/* mask without a mark */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_u32(TCA_FLOWSHAPE_DEST_MARK_MASK, 0xff);
		put_u32(TCA_FLOWSHAPE_DEST_CONGESTION, 1);
		nest_end(e);
		return "mask without mark";
	case 19:			/* a mark and an address */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_u32(TCA_FLOWSHAPE_DEST_MARK, 0x10);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 1, 2, 3 }, 4);
		nest_end(e);
		return "mark and address";
	default:			/* level of the wrong size */
		e = nest_start(TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 1, 2, 3 }, 4);
		put_attr(chance(50) ? TCA_FLOWSHAPE_DEST_CONGESTION : TCA_FLOWSHAPE_DEST_LOAD,
			 junk, chance(50) ? rnd(4) : 5 + rnd(8));
		nest_end(e);
		return "level length";
	}
}

/* ------------------------------------------------------------------ */
/* Generators.  Each builds msg[] and says what it expects.            */

enum expect { EXP_ANY, EXP_ACK, EXP_REFUSE };

struct gen {
	const char *cat;
	const char *detail;
	enum expect expect;
	bool known;		/* on ack, the model (NM) is what must result */
	bool no_change;		/* on ack, nothing may change */
	bool core_partial;	/* refused, but applied (see gen_core_stab) */
	bool trailing;		/* see gen_dests_trailing */
	size_t opts_off;	/* TCA_OPTIONS */
};

static struct model NM;		/* the model after this message, if acked */
static struct dop *ops;		/* scratch */

static uint32_t cur_max_dests(const struct model *m)
{
	return (uint32_t)m->p[TCA_FLOWSHAPE_MAX_DESTS];
}

/* Valid scalars: 1..5 of them; duplicated sometimes (the last wins). */
static void gen_scalars(struct gen *g, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		const struct pspec *p = &pspecs[rnd(NPARAMS)];
		uint64_t v = valid_value(p);

		(void)g;
		put_scalar(p, v);
		NM.p[p->type] = v;
	}
}

static void gen_valid_scalars(struct gen *g)
{
	size_t o;
	int n = 1 + (int)rnd(5);

	g->cat = "scalars";
	g->expect = EXP_ACK;
	g->known = true;
	o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
	gen_scalars(g, n);
	if (chance(10)) {
		/* The same attribute twice: the last one counts. */
		const struct pspec *p = &pspecs[rnd(NPARAMS)];
		uint64_t v1 = valid_value(p), v2 = valid_value(p);

		if (p->type == TCA_FLOWSHAPE_MAX_DESTS) {
			v1 = 65535;
			v2 = NM.n > 4096 ? 65535 : 4096 + rnd(60000);
		}
		put_scalar(p, v1);
		put_scalar(p, v2);
		NM.p[p->type] = v2;
		g->cat = "duplicate";
	}
	nest_end(o);
	/* Lowering max_dests below the table's size is refused, whole. */
	if (NM.n > NM.p[TCA_FLOWSHAPE_MAX_DESTS]) {
		g->expect = EXP_REFUSE;
		g->detail = "max_dests below the table size";
		model_copy(&NM, &M);
	}
}

static void gen_bad_scalar(struct gen *g)
{
	const struct pspec *p = &pspecs[rnd(NPARAMS)];
	size_t o;

	g->cat = "bad-range";
	g->expect = EXP_REFUSE;
	g->detail = p->name;
	o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
	if (chance(50))
		gen_scalars(g, 1 + (int)rnd(3));
	put_scalar(p, invalid_value(p));
	if (chance(30)) {
		/* A valid one after it, of another type (the last wins). */
		const struct pspec *q = &pspecs[rnd(NPARAMS)];

		if (q != p)
			put_scalar(q, valid_value(q));
	}
	nest_end(o);
	model_copy(&NM, &M);
}

static void gen_bad_len(struct gen *g)
{
	const struct pspec *p = &pspecs[rnd(NPARAMS)];
	uint8_t junk[16];
	size_t o, len;

	memset(junk, 0, sizeof(junk));
	do
		len = rnd(13);
	while (len == p->size);
	g->cat = "bad-length";
	g->expect = EXP_REFUSE;
	g->detail = p->name;
	o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
	if (chance(50))
		gen_scalars(g, 1);
	if (chance(10)) {
		/* The flag with a payload, or the nest too short to be one. */
		if (chance(50)) {
			put_attr(TCA_FLOWSHAPE_DEST_FLUSH, junk, 1 + rnd(8));
			g->detail = "dest_flush";
		} else {
			put_attr(TCA_FLOWSHAPE_DESTS | NLA_F_NESTED, junk, 1 + rnd(3));
			g->detail = "dests";
		}
	} else {
		put_attr(p->type, junk, len);
	}
	nest_end(o);
	model_copy(&NM, &M);
}

static void gen_bad_type(struct gen *g)
{
	size_t o;
	uint16_t t;

	g->cat = "bad-type";
	g->expect = EXP_REFUSE;
	o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
	switch (rnd(5)) {
	case 0:
		t = 0;
		g->detail = "type 0";
		break;
	case 1:
		t = TCA_FLOWSHAPE_PAD;
		g->detail = "pad";
		break;
	case 2:
		/* DESTS without NLA_F_NESTED */
		t = TCA_FLOWSHAPE_DESTS;
		g->detail = "dests not flagged nested";
		{
			size_t d = nest_start(t);
			struct dop op = { 0 };

			random_dest(&op.d);
			put_dest(&op);
			nest_end(d);
			nest_end(o);
			model_copy(&NM, &M);
			return;
		}
	case 3:
		/* TCA_OPTIONS without NLA_F_NESTED: rewritten below */
		nest_end(o);
		mlen = o;
		o = nest_start(TCA_OPTIONS);
		gen_scalars(g, 1);
		nest_end(o);
		g->detail = "options not flagged nested";
		g->expect = EXP_REFUSE;
		model_copy(&NM, &M);
		return;
	default:
		t = (uint16_t)(TCA_FLOWSHAPE_MAX + 1 + rnd(0x3fff - TCA_FLOWSHAPE_MAX));
		g->detail = "unknown type";
		break;
	}
	if (chance(50))
		gen_scalars(g, 1);
	put_u64(t, rnd64());
	nest_end(o);
	model_copy(&NM, &M);
}

/*
 * A destination update; with @bad, one invalid entry somewhere in it.
 * Valid updates: flush sometimes, sets of random prefixes, deletes of
 * entries that exist (and, in some messages, of one that does not).
 */
static void gen_dests(struct gen *g, bool bad)
{
	size_t o, d, start, nops = 0, target, bad_at;
	bool flush = chance(8) || (!bad && M.n > 5000);
	bool del_missing = !bad && chance(5);
	const char *bad_kind = NULL;
	uint32_t maxd;

	g->cat = bad ? "dests-bad" : "dests";
	g->expect = EXP_ACK;
	g->known = true;
	switch (rnd(10)) {
	case 0: target = 200 + rnd(1700); break;	/* huge */
	case 1: case 2: case 3: target = 10 + rnd(200); break;
	default: target = 1 + rnd(10); break;
	}
	bad_at = rnd((uint32_t)target);
	o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
	if (chance(15))
		gen_scalars(g, 1 + (int)rnd(2));
	if (flush)
		put_attr(TCA_FLOWSHAPE_DEST_FLUSH, NULL, 0);
	maxd = cur_max_dests(&NM);
	d = nest_start(TCA_FLOWSHAPE_DESTS | NLA_F_NESTED);
	start = mlen;
	/* Simulate as we go, so that deletes can name what exists. */
	if (flush)
		NM.n = 0;
	for (size_t i = 0; i < target && mlen - start < DEST_BYTES_MAX; i++) {
		struct dop *op = &ops[nops];

		if (bad && i == bad_at) {
			bad_kind = put_bad_dest();
			continue;
		}
		memset(op, 0, sizeof(*op));
		if (NM.n && chance(20)) {
			op->d = NM.d[rnd((uint32_t)NM.n)];
			op->del = true;
		} else {
			random_dest(&op->d);
			op->has_c = chance(70);
			op->has_l = chance(70);
			op->d.c = random_level();
			op->d.l = random_level();
		}
		put_dest(op);
		if (!model_apply_dests(&NM, false, op, 1, UINT32_MAX)) {
			g->expect = EXP_REFUSE;
			g->detail = "delete of a missing entry";
		}
		nops++;
	}
	if (del_missing) {
		struct dop *op = &ops[nops++];

		memset(op, 0, sizeof(*op));
		op->d.family = 4;
		op->d.plen = 32;
		op->d.addr[0] = 192; op->d.addr[1] = 0; op->d.addr[2] = 2;
		op->d.addr[3] = (uint8_t)(1 + rnd(250));
		op->del = true;
		put_dest(op);
		if (!model_apply_dests(&NM, false, op, 1, UINT32_MAX)) {
			g->expect = EXP_REFUSE;
			g->detail = "delete of a missing entry";
		}
	}
	if (bad && !bad_kind)
		bad_kind = put_bad_dest();
	nest_end(d);
	nest_end(o);
	if (NM.n > maxd) {
		g->expect = EXP_REFUSE;
		g->detail = "table full";
	}
	/* At most the old plus the new max_dests updates in one message. */
	if (nops > (size_t)cur_max_dests(&M) + maxd) {
		g->expect = EXP_REFUSE;
		g->detail = "more updates than max_dests allows";
	}
	if (bad) {
		g->expect = EXP_REFUSE;
		g->detail = bad_kind;
	}
	if (g->expect == EXP_REFUSE)
		model_copy(&NM, &M);
}

/* Deeply nested attributes, up to the 64 KiB an attribute can hold. */
static void gen_bomb(struct gen *g)
{
	size_t depth = 16 + rnd(chance(50) ? 200 : 16000);
	size_t o, i, *offs;
	unsigned int where = rnd(4);
	uint16_t t;

	g->cat = "nest-bomb";
	g->expect = EXP_REFUSE;
	offs = calloc(depth + 4, sizeof(*offs));
	if (!offs)
		exit(2);
	o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
	if (where == 0) {
		/* in DESTS: DEST in DEST in DEST ... */
		offs[0] = nest_start(TCA_FLOWSHAPE_DESTS | NLA_F_NESTED);
		t = TCA_FLOWSHAPE_DEST | NLA_F_NESTED;
		g->detail = "in dests";
	} else if (where == 1) {
		offs[0] = nest_start(TCA_FLOWSHAPE_DESTS | NLA_F_NESTED);
		t = (uint16_t)((1 + rnd(TCA_FLOWSHAPE_DEST_ATTR_MAX)) | NLA_F_NESTED);
		g->detail = "in dests, entry types";
	} else if (where == 2) {
		offs[0] = nest_start((uint16_t)((1 + rnd(TCA_FLOWSHAPE_MAX)) | NLA_F_NESTED));
		t = (uint16_t)((1 + rnd(TCA_FLOWSHAPE_MAX)) | NLA_F_NESTED);
		g->detail = "as options";
	} else {
		offs[0] = nest_start((uint16_t)(0x7000 | NLA_F_NESTED));
		t = 0x7001 | NLA_F_NESTED;
		g->detail = "unknown types";
	}
	for (i = 1; i <= depth && room(64) && mlen - o < 65000; i++)
		offs[i] = nest_start(t);
	if (chance(50))
		put_attr(TCA_FLOWSHAPE_DEST_IPV4, (uint8_t[4]){ 10, 0, 0, 1 }, 4);
	while (i-- > 0)
		nest_end(offs[i]);
	nest_end(o);
	free(offs);
	model_copy(&NM, &M);
}

/* Random bytes as the options, flagged nested or not. */
static void gen_random(struct gen *g)
{
	size_t o = nest_start(chance(70) ? TCA_OPTIONS | NLA_F_NESTED : TCA_OPTIONS);

	g->cat = "random";
	g->expect = EXP_ANY;
	put_random(rnd(chance(80) ? 64 : 2048));
	nest_end(o);
	model_copy(&NM, &M);
}

/* A nest of more than 64 KiB: its 16-bit length wraps. */
static void gen_overflow(struct gen *g)
{
	size_t o, d, i;
	struct dop op = { 0 };

	g->cat = "len-overflow";
	g->expect = EXP_ANY;
	o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
	d = nest_start(TCA_FLOWSHAPE_DESTS | NLA_F_NESTED);
	for (i = 0; mlen - d < 65536 + rnd(4000) && room(64); i++) {
		random_dest(&op.d);
		op.has_c = true;
		op.d.c = random_level();
		put_dest(&op);
	}
	nest_end(d);
	nest_end(o);
	model_copy(&NM, &M);
}

/*
 * A valid update followed by a malformed TCA_STAB at the top level.  The
 * tc core (qdisc_change() in net/sched/sch_api.c) calls the qdisc's
 * ->change() first and parses TCA_STAB (and TCA_RATE) after it: the
 * request is refused, with a message, after the options were applied.
 * The generator predicts exactly that (the model after the options), so a
 * kernel where this is fixed shows up as a mismatch to look at.
 */
static void gen_core_stab(struct gen *g)
{
	size_t s;

	if (chance(50))
		gen_valid_scalars(g);
	else
		gen_dests(g, false);
	if (g->expect == EXP_REFUSE) {
		/* Refused by ->change() itself: nothing applied. */
		g->cat = "core-stab";
		g->no_change = true;
	} else {
		g->cat = "core-stab";
		g->core_partial = true;
	}
	g->expect = EXP_REFUSE;
	s = nest_start(TCA_STAB | NLA_F_NESTED);
	/* TCA_STAB_BASE must be a struct tc_sizespec: give it 3 bytes. */
	put_attr(TCA_STAB_BASE, "abc", 3);
	nest_end(s);
}

/*
 * A valid destination update whose TCA_FLOWSHAPE_DESTS ends in 1..3 bytes
 * that are not an attribute.  The policy does not look inside DESTS;
 * fs_dest_prepare() must notice what nla_for_each_nested() left over and
 * refuse the whole message (it used to ignore the bytes and apply the
 * rest: Documentation/robustness.md, finding 2).
 */
static void gen_dests_trailing(struct gen *g)
{
	struct nlattr *o, *d;

	gen_dests(g, false);
	if (g->expect != EXP_ACK)
		return;		/* refused anyway: an ordinary "dests" */
	g->cat = "dests-trailing";
	g->trailing = true;
	g->expect = EXP_REFUSE;
	/* gen_dests() put OPTIONS { [scalars] [FLUSH] DESTS {...} }: DESTS is
	 * the last attribute; grow it and OPTIONS by the junk.
	 */
	o = (struct nlattr *)(msg + g->opts_off);
	for (size_t p = g->opts_off + NLA_HDRLEN; p < mlen;) {
		d = (struct nlattr *)(msg + p);
		if ((d->nla_type & NLA_TYPE_MASK) == TCA_FLOWSHAPE_DESTS &&
		    p + align4(d->nla_len) == mlen) {
			size_t junk = 1 + rnd(3);

			put_random(junk);
			d->nla_len = (uint16_t)(d->nla_len + junk);
			o->nla_len = (uint16_t)(o->nla_len + junk);
			mlen = align4(mlen);
			break;
		}
		p += align4(d->nla_len);
	}
}

static void gen_one_valid(struct gen *g)
{
	if (chance(50))
		gen_valid_scalars(g);
	else
		gen_dests(g, false);
}

/* A valid message cut short: raw, or with the nests' lengths fixed. */
static void gen_truncate(struct gen *g)
{
	struct nlattr *a;
	size_t cut, o;
	bool fix = chance(50);

	gen_one_valid(g);
	o = g->opts_off;
	if (mlen <= o + NLA_HDRLEN + 1) {
		model_copy(&NM, &M);
		g->expect = EXP_ANY;
		return;
	}
	cut = o + 1 + rnd((uint32_t)(mlen - o - 1));
	g->cat = fix ? "truncated-fixed" : "truncated-raw";
	g->expect = EXP_ANY;
	g->known = false;
	if (!fix) {
		/* The options' length now runs past the end: the generic
		 * (liberal) top-level parse drops the attribute.
		 */
		mlen = cut;
		g->no_change = true;
		model_copy(&NM, &M);
		return;
	}
	/* Fix the lengths of every attribute enclosing the cut. */
	mlen = cut;
	for (size_t p = o; p + NLA_HDRLEN <= cut;) {
		a = (struct nlattr *)(msg + p);
		if (a->nla_len < NLA_HDRLEN)
			break;
		if (p + a->nla_len >= cut) {
			a->nla_len = (uint16_t)(cut - p);
			if (!(a->nla_type & NLA_F_NESTED))
				break;
			p += NLA_HDRLEN;	/* descend */
		} else {
			p += align4(a->nla_len);
		}
	}
	model_copy(&NM, &M);
}

/* A valid message with bytes of its options flipped. */
static void gen_mutate(struct gen *g)
{
	size_t o, n, i;

	gen_one_valid(g);
	o = g->opts_off;
	g->cat = "mutated";
	g->expect = EXP_ANY;
	g->known = false;
	if (mlen <= o)
		return;
	n = 1 + rnd(8);
	for (i = 0; i < n; i++) {
		size_t at = o + rnd((uint32_t)(mlen - o));

		if (chance(50))
			msg[at] ^= (uint8_t)(1u << rnd(8));
		else
			msg[at] = (uint8_t)rnd64();
	}
	model_copy(&NM, &M);
}

/* ------------------------------------------------------------------ */
/* The fuzz loop.                                                      */

struct counts {
	unsigned long sent, acked, refused, nomsg, nomsg_enomem, unexpected,
		      state_mismatch, resyncs, table_checks, adds, add_acked,
		      add_refused, core_partial, trailing_acked, trailing_refused;
};

static struct counts C;
static unsigned long failures;

static void fail(unsigned long i, const struct gen *g, const char *what,
		 const struct answer *a)
{
	failures++;
	printf("FAIL msg %lu (%s%s%s): %s; answer: %s%s%s%s\n", i, g->cat,
	       g->detail ? ", " : "", g->detail ? g->detail : "", what,
	       a->error ? strerror(a->error) : "ack",
	       a->has_msg ? " \"" : "", a->has_msg ? a->text : "",
	       a->has_msg ? "\"" : "");
}

static bool params_equal(const uint64_t *a, const uint64_t *b, char *why, size_t n)
{
	size_t i;

	for (i = 0; i < NPARAMS; i++) {
		uint16_t t = pspecs[i].type;

		if (a[t] != b[t]) {
			snprintf(why, n, "%s: kernel %" PRIu64 ", model %" PRIu64,
				 pspecs[i].name, a[t], b[t]);
			return false;
		}
	}
	return true;
}

static bool table_equal(const struct model *k, const struct model *m, char *why, size_t n)
{
	size_t i;

	if (k->n != m->n) {
		snprintf(why, n, "table: kernel %zu entries, model %zu", k->n, m->n);
		return false;
	}
	for (i = 0; i < k->n; i++) {
		if (dest_cmp(&k->d[i], &m->d[i]) || k->d[i].c != m->d[i].c ||
		    k->d[i].l != m->d[i].l) {
			snprintf(why, n, "table: entry %zu differs (plen %u/%u, c %u/%u, l %u/%u)",
				 i, k->d[i].plen, m->d[i].plen, k->d[i].c, m->d[i].c,
				 k->d[i].l, m->d[i].l);
			return false;
		}
	}
	return true;
}

static int resync(void)
{
	struct qstate q;

	if (read_qdisc(&q) < 0)
		return -1;
	memcpy(M.p, q.p, sizeof(M.p));
	if (read_table(&M) < 0)
		return -1;
	C.resyncs++;
	return 0;
}

static int do_add(unsigned long i)
{
	struct gen g = { 0 };
	struct answer a;
	size_t o;

	/* A fresh qdisc on DEV2 with fuzzed options. */
	msg_begin(ifindex2, NLM_F_CREATE | NLM_F_EXCL, ++seq);
	g.opts_off = mlen;
	model_copy(&NM, &M);
	switch (rnd(6)) {
	case 0: gen_valid_scalars(&g); break;
	case 1: gen_bad_scalar(&g); break;
	case 2: gen_dests(&g, chance(50)); break;
	case 3: gen_bomb(&g); break;
	case 4: gen_random(&g); break;
	default:
		o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
		nest_end(o);
		break;
	}
	g.cat = "add";
	msg_finish();
	C.adds++;
	if (transact(&a) < 0)
		return -1;
	if (a.error == 0) {
		char req[256];
		struct nlmsghdr *h = mnl_nlmsg_put_header(req);
		struct tcmsg *t;
		struct answer d;

		C.add_acked++;
		h->nlmsg_type = RTM_DELQDISC;
		h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		h->nlmsg_seq = ++seq;
		t = mnl_nlmsg_put_extra_header(h, sizeof(*t));
		t->tcm_family = AF_UNSPEC;
		t->tcm_ifindex = ifindex2;
		t->tcm_parent = TC_H_ROOT;
		memcpy(msg, req, h->nlmsg_len);
		mlen = h->nlmsg_len;
		if (transact(&d) < 0)
			return -1;
		if (d.error)
			fail(i, &g, "deleting the qdisc just created failed", &d);
	} else {
		C.add_refused++;
		if (!a.has_msg && a.error == ENOMEM) {
			C.nomsg_enomem++;
		} else if (!a.has_msg) {
			C.nomsg++;
			fail(i, &g, "create refused without an extack message", &a);
		}
	}
	if (verbose)
		printf("msg %lu add: %s%s%s\n", i, a.error ? strerror(a.error) : "ack",
		       a.has_msg ? ": " : "", a.has_msg ? a.text : "");
	model_copy(&NM, &M);
	return 0;
}

/*
 * What the kernel's liberal top-level parse will see after the options:
 * a TCA_STAB or TCA_RATE (handled after ->change(), so a refusal may come
 * after the options were applied), or a TCA_OPTIONS that is not ours.
 */
static bool top_level_after_change(size_t opts_off)
{
	size_t p = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct tcmsg));
	bool late = false, ours = false;

	while (p + NLA_HDRLEN <= mlen) {
		const struct nlattr *a = (const struct nlattr *)(msg + p);
		uint16_t t = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > mlen)
			break;
		if (t == TCA_STAB || t == TCA_RATE)
			late = true;
		if (t == TCA_OPTIONS)
			ours = p == opts_off;
		p += align4(a->nla_len);
	}
	(void)ours;
	return late;
}

static int fuzz(unsigned long count, unsigned long every)
{
	unsigned long i;
	char why[256];

	if (resync() < 0) {
		fprintf(stderr, "nlfuzz: no flowshape root qdisc on the device\n");
		return 2;
	}
	C.resyncs = 0;
	for (i = 1; i <= count; i++) {
		struct gen g = { 0 };
		struct answer a;
		struct qstate q;
		unsigned int r = rnd(100);

		if (ifindex2 && r < 4) {
			if (do_add(i) < 0)
				return 2;
			continue;
		}
		model_copy(&NM, &M);
		msg_begin(ifindex, 0, ++seq);
		g.opts_off = mlen;
		if (r < 18)
			gen_valid_scalars(&g);
		else if (r < 28)
			gen_bad_scalar(&g);
		else if (r < 34)
			gen_bad_len(&g);
		else if (r < 40)
			gen_bad_type(&g);
		else if (r < 58)
			gen_dests(&g, false);
		else if (r < 72)
			gen_dests(&g, true);
		else if (r < 76)
			gen_bomb(&g);
		else if (r < 84)
			gen_truncate(&g);
		else if (r < 90)
			gen_random(&g);
		else if (r < 95)
			gen_mutate(&g);
		else if (r < 97)
			gen_overflow(&g);
		else if (r < 98)
			gen_core_stab(&g);
		else
			gen_dests_trailing(&g);
		msg_finish();

		C.sent++;
		if (transact(&a) < 0)
			return 2;
		if (verbose)
			printf("msg %lu %s%s%s (%zu bytes): %s%s%s\n", i, g.cat,
			       g.detail ? "/" : "", g.detail ? g.detail : "", mlen,
			       a.error ? strerror(a.error) : "ack",
			       a.has_msg ? ": " : "", a.has_msg ? a.text : "");
		if (a.error) {
			C.refused++;
			if (!a.has_msg) {
				if (a.error == ENOMEM) {
					C.nomsg_enomem++;
				} else {
					C.nomsg++;
					fail(i, &g, "refused without an extack message", &a);
				}
			}
			if (g.expect == EXP_ACK) {
				C.unexpected++;
				fail(i, &g, "a valid message was refused", &a);
			}
		} else {
			C.acked++;
			if (g.expect == EXP_REFUSE) {
				C.unexpected++;
				fail(i, &g, "an invalid message was acked", &a);
			}
		}

		if (g.trailing)
			a.error ? C.trailing_refused++ : C.trailing_acked++;

		/* State: unchanged after a refusal, as predicted after an ack. */
		if (read_qdisc(&q) < 0) {
			fprintf(stderr, "nlfuzz: the qdisc vanished\n");
			return 2;
		}
		if (g.core_partial && a.error) {
			/* Refused after ->change() applied the options. */
			g.known = true;
		} else if (a.error && !g.known && !g.no_change &&
			   top_level_after_change(g.opts_off)) {
			/* A refusal that may come after ->change(): unknown. */
			if (resync() < 0)
				return 2;
			continue;
		}
		if (a.error || g.known || g.no_change) {
			const struct model *want = g.core_partial && a.error ? &NM :
				a.error || g.no_change ? &M : &NM;
			bool full = (i % every) == 0;
			bool ok = params_equal(q.p, want->p, why, sizeof(why));

			if (ok && q.has_xs && q.xs.dests != want->n) {
				snprintf(why, sizeof(why), "dests: kernel %u, model %zu",
					 q.xs.dests, want->n);
				ok = false;
			}
			if (ok && full) {
				C.table_checks++;
				if (read_table(&K) < 0)
					return 2;
				ok = table_equal(&K, want, why, sizeof(why));
			}
			if (!ok) {
				C.state_mismatch++;
				fail(i, &g, why, &a);
				if (resync() < 0)
					return 2;
			} else if (want == &NM) {
				model_copy(&M, &NM);
				if (g.core_partial && a.error)
					C.core_partial++;
			}
		} else {
			/* Acked, meaning unknown: take the kernel's word. */
			if (resync() < 0)
				return 2;
		}
	}
	/* The whole table, one last time. */
	C.table_checks++;
	if (read_table(&K) < 0)
		return 2;
	if (!table_equal(&K, &M, why, sizeof(why))) {
		struct gen g = { .cat = "final" };
		struct answer a = { 0 };

		C.state_mismatch++;
		fail(i, &g, why, &a);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Churn.                                                              */

static int churn(unsigned long entries, unsigned long ms, unsigned long secs)
{
	unsigned long universe = entries * 2, i, ticks = 0, msgs = 0, errs = 0;
	uint64_t t_end, t_next, worst = 0;
	bool *present = calloc(universe, 1);
	size_t o, d;
	struct answer a;

	if (!present)
		return 2;
	/* Prefixes 10.A.B.0/24, A.B = 1..universe. */
#define PFX(k, op) do { \
		memset(&(op)->d, 0, sizeof((op)->d)); \
		(op)->d.family = 4; (op)->d.plen = 24; (op)->d.addr[0] = 10; \
		(op)->d.addr[1] = (uint8_t)(((k) + 1) >> 8); \
		(op)->d.addr[2] = (uint8_t)((k) + 1); \
	} while (0)

	/* Start: flush, the first half present. */
	for (i = 0; i < universe; i++)
		present[i] = i < entries;
	for (i = 0; i < entries;) {
		msg_begin(ifindex, 0, ++seq);
		o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
		if (!i)
			put_attr(TCA_FLOWSHAPE_DEST_FLUSH, NULL, 0);
		d = nest_start(TCA_FLOWSHAPE_DESTS | NLA_F_NESTED);
		for (unsigned long n = 0; n < 1500 && i < entries; n++, i++) {
			struct dop op = { .has_c = true, .has_l = true };

			PFX(i, &op);
			op.d.c = random_level();
			op.d.l = random_level();
			put_dest(&op);
		}
		nest_end(d);
		nest_end(o);
		msg_finish();
		if (transact(&a) < 0)
			return 2;
		msgs++;
		if (a.error) {
			printf("churn: initial fill refused: %s %s\n", strerror(a.error), a.text);
			return 1;
		}
	}

	t_end = now_ms() + secs * 1000;
	t_next = now_ms();
	while (now_ms() < t_end) {
		bool swap = ticks % 2;
		unsigned long sent_in_tick = 0;

		ticks++;
		/* Value-only: every present entry; swap: 10% out, 10% in. */
		i = 0;
		while (i < universe) {
			unsigned long n = 0;
			uint64_t t0;

			msg_begin(ifindex, 0, ++seq);
			o = nest_start(TCA_OPTIONS | NLA_F_NESTED);
			d = nest_start(TCA_FLOWSHAPE_DESTS | NLA_F_NESTED);
			for (; i < universe && n < 1500; i++) {
				struct dop op = { 0 };

				if (!swap) {
					if (!present[i])
						continue;
					op.has_c = op.has_l = true;
				} else {
					if (rnd(10))
						continue;
					/* out: delete; in: add */
					op.del = present[i];
					op.has_c = op.has_l = !present[i];
					present[i] = !present[i];
				}
				PFX(i, &op);
				op.d.c = random_level();
				op.d.l = random_level();
				put_dest(&op);
				n++;
			}
			nest_end(d);
			nest_end(o);
			msg_finish();
			if (!n)
				continue;
			t0 = now_ms();
			if (transact(&a) < 0)
				return 2;
			if (now_ms() - t0 > worst)
				worst = now_ms() - t0;
			msgs++;
			sent_in_tick += n;
			if (a.error) {
				errs++;
				printf("churn: tick %lu refused: %s%s%s\n", ticks,
				       strerror(a.error), a.has_msg ? ": " : "", a.text);
				/* What is present is unknown now: stop. */
				return 1;
			}
		}
		if (verbose)
			printf("tick %lu: %s %lu entries\n", ticks, swap ? "swap" : "levels",
			       sent_in_tick);
		t_next += ms;
		if (now_ms() < t_next)
			usleep((useconds_t)((t_next - now_ms()) * 1000));
		else
			t_next = now_ms();
	}
	{
		unsigned long n = 0;

		for (i = 0; i < universe; i++)
			n += present[i];
		printf("churn: entries=%lu ticks=%lu messages=%lu refused=%lu "
		       "worst_message_ms=%" PRIu64 " final_entries=%lu\n",
		       entries, ticks, msgs, errs, worst, n);
	}
	free(present);
	return errs ? 1 : 0;
}

/* ------------------------------------------------------------------ */

static int usage(void)
{
	fprintf(stderr,
		"usage: nlfuzz fuzz DEV [-n COUNT] [-s SEED] [-a DEV2] [-V EVERY] [-v]\n"
		"       nlfuzz churn DEV [-e ENTRIES] [-i MS] [-t SECONDS] [-s SEED] [-v]\n");
	return 2;
}

static unsigned long arg_ul(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "nlfuzz: bad number \"%s\"\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long count = 2000, every = 25, entries = 2000, ms = 10, secs = 10;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	const char *mode, *dev2 = NULL;
	int one = 1, c, ret;
	uint64_t t0;

	if (argc < 3)
		return usage();
	mode = argv[1];
	ifindex = (int)if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "nlfuzz: no device \"%s\"\n", argv[2]);
		return 2;
	}
	optind = 3;
	while ((c = getopt(argc, argv, "n:s:a:V:ve:i:t:")) != -1) {
		switch (c) {
		case 'n': count = arg_ul(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'a': dev2 = optarg; break;
		case 'V': every = arg_ul(optarg); if (!every) every = 1; break;
		case 'v': verbose = true; break;
		case 'e': entries = arg_ul(optarg); break;
		case 'i': ms = arg_ul(optarg); break;
		case 't': secs = arg_ul(optarg); break;
		default: return usage();
		}
	}
	if (dev2) {
		ifindex2 = (int)if_nametoindex(dev2);
		if (!ifindex2) {
			fprintf(stderr, "nlfuzz: no device \"%s\"\n", dev2);
			return 2;
		}
	}
	printf("nlfuzz: %s seed=%" PRIu64 "\n", mode, seed);
	fflush(stdout);
	rng_state = seed ? seed : 1;

	rbuf = malloc(RBUF_SZ);
	M.d = calloc(MAX_TABLE, sizeof(*M.d));
	K.d = calloc(MAX_TABLE, sizeof(*K.d));
	NM.d = calloc(MAX_TABLE, sizeof(*NM.d));
	ops = calloc(4096, sizeof(*ops));
	if (!rbuf || !M.d || !K.d || !NM.d || !ops)
		return 2;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nlfuzz: netlink");
		return 2;
	}
	portid = mnl_socket_get_portid(nl);
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	{
		int sz = 4 << 20;

		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	}

	t0 = now_ms();
	if (!strcmp(mode, "fuzz")) {
		ret = fuzz(count, every);
		printf("nlfuzz: seed=%" PRIu64 " sent=%lu acked=%lu refused=%lu "
		       "refused_without_message=%lu enomem_without_message=%lu "
		       "unexpected=%lu state_mismatch=%lu resyncs=%lu table_checks=%lu "
		       "adds=%lu adds_acked=%lu adds_refused=%lu answers=%lu "
		       "core_refused_after_change=%lu "
		       "dests_trailing_acked=%lu dests_trailing_refused=%lu "
		       "failures=%lu elapsed_ms=%" PRIu64 "\n",
		       seed, C.sent, C.acked, C.refused, C.nomsg, C.nomsg_enomem,
		       C.unexpected, C.state_mismatch, C.resyncs, C.table_checks,
		       C.adds, C.add_acked, C.add_refused, answers,
		       C.core_partial, C.trailing_acked,
		       C.trailing_refused, failures, now_ms() - t0);
		if (ret)
			return ret;
		return failures ? 1 : 0;
	}
	if (!strcmp(mode, "churn"))
		return churn(entries, ms, secs);
	return usage();
}
