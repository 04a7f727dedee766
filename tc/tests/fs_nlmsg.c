// SPDX-License-Identifier: GPL-2.0
/*
 * fs_nlmsg.c	netlink messages for tests/host.sh, written from the UAPI
 * header alone (no iproute2, no plugin code), so that they check the
 * plugin rather than repeat it.
 *
 *   fs_nlmsg qdisc        RTM_NEWQDISC as the kernel would dump it: every
 *                         option at the spec's default, xstats, and a PAD
 *                         attribute; for "tc -s monitor file"
 *   fs_nlmsg qdisc-set    non-default values, a few attributes only, and
 *                         xstats shorter than the struct (an older kernel)
 *   fs_nlmsg qdisc-long   xstats longer than the struct (a newer kernel)
 *   fs_nlmsg class        two RTM_NEWTCLASS: the destination table
 *   fs_nlmsg args         a tc command line using every option
 *   fs_nlmsg check        read, as hex on stdin, what tc sent for "args"
 *                         and verify the TCA_OPTIONS attribute by attribute
 *
 * The message kinds write binary to stdout.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/gen_stats.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <linux/flowshape.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MS		1000000ULL
#define SEC		1000000000ULL

/* ---- building messages --------------------------------------------------- */

struct msg {
	union {
		struct nlmsghdr	nh;
		unsigned char	buf[16384];
	};
};

static void *msg_tail(struct msg *m)
{
	return m->buf + NLMSG_ALIGN(m->nh.nlmsg_len);
}

static struct rtattr *put(struct msg *m, unsigned short type,
			  const void *data, size_t len)
{
	struct rtattr *rta = msg_tail(m);

	if (NLMSG_ALIGN(m->nh.nlmsg_len) + RTA_SPACE(len) > sizeof(m->buf)) {
		fprintf(stderr, "fs_nlmsg: message buffer too small\n");
		exit(2);
	}
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	memset((unsigned char *)RTA_DATA(rta) + len, 0,
	       RTA_SPACE(len) - RTA_LENGTH(len));
	m->nh.nlmsg_len = (uint32_t)(NLMSG_ALIGN(m->nh.nlmsg_len) + RTA_SPACE(len));
	return rta;
}

static void put_u8(struct msg *m, unsigned short type, uint8_t v)
{
	put(m, type, &v, sizeof(v));
}

static void put_u32(struct msg *m, unsigned short type, uint32_t v)
{
	put(m, type, &v, sizeof(v));
}

static void put_u64(struct msg *m, unsigned short type, uint64_t v)
{
	put(m, type, &v, sizeof(v));
}

static struct rtattr *nest(struct msg *m, unsigned short type)
{
	return put(m, type, NULL, 0);
}

static void nest_end(struct msg *m, struct rtattr *start)
{
	start->rta_len = (unsigned short)((unsigned char *)msg_tail(m) -
					  (unsigned char *)start);
}

static void msg_init(struct msg *m, uint16_t type, uint32_t handle,
		     uint32_t parent, uint32_t info)
{
	struct tcmsg *t;

	memset(m, 0, sizeof(*m));
	m->nh.nlmsg_len = NLMSG_LENGTH(sizeof(*t));
	m->nh.nlmsg_type = type;
	t = NLMSG_DATA(&m->nh);
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = 1;	/* lo */
	t->tcm_handle = handle;
	t->tcm_parent = parent;
	t->tcm_info = info;
	put(m, TCA_KIND, "flowshape", sizeof("flowshape"));
}

static void msg_write(const struct msg *m)
{
	if (fwrite(m->buf, NLMSG_ALIGN(m->nh.nlmsg_len), 1, stdout) != 1) {
		perror("fs_nlmsg: write");
		exit(2);
	}
}

/* ---- qdisc dumps ---------------------------------------------------------- */

static void put_stats(struct msg *m, size_t xstats_len)
{
	struct gnet_stats_basic basic = { .bytes = 1500000, .packets = 1000 };
	struct gnet_stats_queue queue = { .qlen = 0, .drops = 5 };
	struct tc_flowshape_xstats st = {
		.enqueued = 1000,
		.drops_limit = 2,
		.drops_flow_limit = 3,
		.passed = 900,
		.delayed = 95,
		.delay_total_ns = 1900 * MS,
		.overflow_packets = 4,
		.alloc_errors = 5,
		.gc_flows = 6,
		.stale_packets = 7,
		.late_packets = 95,
		.lateness_total_ns = 1900000,	/* mean 20us */
		.lateness_max_ns = 90000,
		.early_releases = 0,
		.watchdog_armed = 80,
		.flows = 3,
		.throttled_flows = 1,
		.dests = 5,
		.stale_dests = 1,
		.next_release_ns = 1 * MS,
		.released = 990,
		.purged = 10,
	};
	unsigned char app[sizeof(st) + 16];
	struct rtattr *stats;

	memset(app, 0xff, sizeof(app));
	memcpy(app, &st, sizeof(st));

	stats = nest(m, TCA_STATS2);
	put(m, TCA_STATS_BASIC, &basic, sizeof(basic));
	put(m, TCA_STATS_QUEUE, &queue, sizeof(queue));
	put(m, TCA_STATS_APP, app, xstats_len);
	nest_end(m, stats);
}

static void qdisc_defaults(void)
{
	struct rtattr *opts;
	struct msg m;

	msg_init(&m, RTM_NEWQDISC, 0x10000, TC_H_ROOT, 2);
	opts = nest(&m, TCA_OPTIONS);
	put_u32(&m, TCA_FLOWSHAPE_LIMIT, 10000);
	put_u32(&m, TCA_FLOWSHAPE_FLOW_LIMIT, 1000);
	put_u32(&m, TCA_FLOWSHAPE_BUCKETS, 1024);
	put_u32(&m, TCA_FLOWSHAPE_MAX_FLOWS, 65536);
	/* As nla_put_u64_64bit() may: a PAD the printer must skip. */
	put(&m, TCA_FLOWSHAPE_PAD, NULL, 0);
	put_u64(&m, TCA_FLOWSHAPE_FLOW_IDLE, 3 * SEC);
	put_u64(&m, TCA_FLOWSHAPE_CONGESTION_WEIGHT, 10 * MS);
	put_u64(&m, TCA_FLOWSHAPE_LOAD_WEIGHT, 10 * MS);
	put_u32(&m, TCA_FLOWSHAPE_CONGESTION_THRESHOLD, 200000);
	put_u32(&m, TCA_FLOWSHAPE_LOAD_THRESHOLD, 500000);
	put_u64(&m, TCA_FLOWSHAPE_MAX_DELAY, 50 * MS);
	put_u32(&m, TCA_FLOWSHAPE_SMOOTHING, 0);
	put_u8(&m, TCA_FLOWSHAPE_MODE, FLOWSHAPE_MODE_SPREAD);
	put_u32(&m, TCA_FLOWSHAPE_QUANTUM, 1514);
	put_u64(&m, TCA_FLOWSHAPE_TIMER_SLACK, 10000);
	put_u64(&m, TCA_FLOWSHAPE_STALE_AFTER, 5 * SEC);
	put_u32(&m, TCA_FLOWSHAPE_DEFAULT_CONGESTION, 0);
	put_u32(&m, TCA_FLOWSHAPE_DEFAULT_LOAD, 0);
	put_u32(&m, TCA_FLOWSHAPE_MAX_DESTS, 4096);
	nest_end(&m, opts);
	put_stats(&m, sizeof(struct tc_flowshape_xstats));
	msg_write(&m);
}

static void qdisc_set(void)
{
	struct rtattr *opts;
	struct msg m;

	msg_init(&m, RTM_NEWQDISC, 0x20000, TC_H_ROOT, 1);
	opts = nest(&m, TCA_OPTIONS);
	put_u8(&m, TCA_FLOWSHAPE_MODE, FLOWSHAPE_MODE_DELAY);
	put_u64(&m, TCA_FLOWSHAPE_FLOW_IDLE, 3600 * SEC);
	put_u32(&m, TCA_FLOWSHAPE_SMOOTHING, 350000);
	put_u32(&m, TCA_FLOWSHAPE_QUANTUM, 65536);
	put_u64(&m, TCA_FLOWSHAPE_TIMER_SLACK, 0);
	put_u64(&m, TCA_FLOWSHAPE_MAX_DELAY, 1500 * MS);
	put_u32(&m, TCA_FLOWSHAPE_DEFAULT_LOAD, 1000000);
	put_u32(&m, TCA_FLOWSHAPE_CONGESTION_THRESHOLD, 1);
	nest_end(&m, opts);
	/* An older kernel's struct: enqueued and drops_limit only. */
	put_stats(&m, 2 * sizeof(uint64_t));
	msg_write(&m);
}

static void qdisc_long(void)
{
	struct rtattr *opts;
	struct msg m;

	msg_init(&m, RTM_NEWQDISC, 0x30000, TC_H_ROOT, 1);
	opts = nest(&m, TCA_OPTIONS);
	put_u32(&m, TCA_FLOWSHAPE_LIMIT, 7);
	nest_end(&m, opts);
	/* A newer kernel's struct: 16 more bytes the printer must ignore. */
	put_stats(&m, sizeof(struct tc_flowshape_xstats) + 16);
	msg_write(&m);
}

/* ---- class dumps: the destination table ------------------------------- */

static void class_entries(void)
{
	struct in6_addr a6;
	struct in_addr a4;
	struct rtattr *opts;
	struct msg m;

	inet_pton(AF_INET, "10.0.1.0", &a4);
	msg_init(&m, RTM_NEWTCLASS, 0x10001, 0x10000, 0);
	opts = nest(&m, TCA_OPTIONS);
	put(&m, TCA_FLOWSHAPE_DEST_IPV4, &a4, sizeof(a4));
	put_u8(&m, TCA_FLOWSHAPE_DEST_PLEN, 24);
	put_u32(&m, TCA_FLOWSHAPE_DEST_CONGESTION, 400000);
	put_u32(&m, TCA_FLOWSHAPE_DEST_LOAD, 900000);
	put_u64(&m, TCA_FLOWSHAPE_DEST_AGE, 1200 * MS);
	put_u64(&m, TCA_FLOWSHAPE_DEST_DELAY, 4 * MS);
	nest_end(&m, opts);
	msg_write(&m);

	inet_pton(AF_INET6, "2001:db8::", &a6);
	msg_init(&m, RTM_NEWTCLASS, 0x10002, 0x10000, 0);
	opts = nest(&m, TCA_OPTIONS);
	put(&m, TCA_FLOWSHAPE_DEST_IPV6, &a6, sizeof(a6));
	put_u8(&m, TCA_FLOWSHAPE_DEST_PLEN, 64);
	put_u32(&m, TCA_FLOWSHAPE_DEST_CONGESTION, 1000000);
	put_u32(&m, TCA_FLOWSHAPE_DEST_LOAD, 0);
	put_u64(&m, TCA_FLOWSHAPE_DEST_AGE, 6 * SEC);
	put_u64(&m, TCA_FLOWSHAPE_DEST_DELAY, 0);
	put(&m, TCA_FLOWSHAPE_DEST_STALE, NULL, 0);
	nest_end(&m, opts);
	msg_write(&m);

	msg_init(&m, RTM_NEWTCLASS, 0x10003, 0x10000, 0);
	opts = nest(&m, TCA_OPTIONS);
	put_u32(&m, TCA_FLOWSHAPE_DEST_MARK, 0x10);
	put_u32(&m, TCA_FLOWSHAPE_DEST_MARK_MASK, 0xff);
	put_u32(&m, TCA_FLOWSHAPE_DEST_CONGESTION, 300000);
	put_u32(&m, TCA_FLOWSHAPE_DEST_LOAD, 0);
	put_u64(&m, TCA_FLOWSHAPE_DEST_AGE, 20 * MS);
	put_u64(&m, TCA_FLOWSHAPE_DEST_DELAY, 2 * MS);
	nest_end(&m, opts);
	msg_write(&m);
}

/* ---- checking what tc sends --------------------------------------------- */

/*
 * The command line of "args" and, below, the attributes it must become.
 * Every option appears once, with a value that differs from its default
 * and is written in a form that exercises the parser (percent, units).
 */
static const char *const check_args[] = {
	"limit", "5000", "flow_limit", "500", "buckets", "2048",
	"max_flows", "100000", "flow_idle", "1.5s", "mode", "delay",
	"congestion_weight", "20ms", "load_weight", "5000us",
	"congestion_threshold", "35%", "load_threshold", "0.125",
	"max_delay", "1s", "smoothing", "0.9", "quantum", "64kb",
	"timer_slack", "50us", "stale_after", "2500ms",
	"default_congestion", "0.01", "default_load", "100%",
	"max_dests", "65535", "flush_dests",
	"dest", "10.0.1.0/24", "congestion", "0.4", "load", "0.9",
	"dest", "2001:db8::/64", "load", "12.5%",
	"dest", "192.168.1.7", "delete",
	"dest", "mark", "0x10/0xff", "congestion", "0.3",
	"dest", "mark", "4096", "delete",
};

struct want {
	unsigned short	type;
	unsigned short	len;
	uint64_t	v;		/* u8, u32 or u64 payloads */
	const char	*addr;		/* IPV4 / IPV6 payloads */
};

#define U8(t, x)	{ t, 1, x, NULL }
#define U32(t, x)	{ t, 4, x, NULL }
#define U64(t, x)	{ t, 8, x, NULL }
#define FLAG(t)		{ t, 0, 0, NULL }
#define IP4(t, a)	{ t, 4, 0, a }
#define IP6(t, a)	{ t, 16, 0, a }

static const struct want want_opts[] = {
	U32(TCA_FLOWSHAPE_LIMIT, 5000),
	U32(TCA_FLOWSHAPE_FLOW_LIMIT, 500),
	U32(TCA_FLOWSHAPE_BUCKETS, 2048),
	U32(TCA_FLOWSHAPE_MAX_FLOWS, 100000),
	U64(TCA_FLOWSHAPE_FLOW_IDLE, 1500 * MS),
	U8(TCA_FLOWSHAPE_MODE, FLOWSHAPE_MODE_DELAY),
	U64(TCA_FLOWSHAPE_CONGESTION_WEIGHT, 20 * MS),
	U64(TCA_FLOWSHAPE_LOAD_WEIGHT, 5 * MS),
	U32(TCA_FLOWSHAPE_CONGESTION_THRESHOLD, 350000),
	U32(TCA_FLOWSHAPE_LOAD_THRESHOLD, 125000),
	U64(TCA_FLOWSHAPE_MAX_DELAY, 1 * SEC),
	U32(TCA_FLOWSHAPE_SMOOTHING, 900000),
	U32(TCA_FLOWSHAPE_QUANTUM, 65536),
	U64(TCA_FLOWSHAPE_TIMER_SLACK, 50000),
	U64(TCA_FLOWSHAPE_STALE_AFTER, 2500 * MS),
	U32(TCA_FLOWSHAPE_DEFAULT_CONGESTION, 10000),
	U32(TCA_FLOWSHAPE_DEFAULT_LOAD, 1000000),
	U32(TCA_FLOWSHAPE_MAX_DESTS, 65535),
	FLAG(TCA_FLOWSHAPE_DEST_FLUSH),
	/* TCA_FLOWSHAPE_DESTS: checked on its own below */
	{ TCA_FLOWSHAPE_DESTS, 0xffff, 0, NULL },
};

static const struct want want_dest0[] = {
	IP4(TCA_FLOWSHAPE_DEST_IPV4, "10.0.1.0"),
	U8(TCA_FLOWSHAPE_DEST_PLEN, 24),
	U32(TCA_FLOWSHAPE_DEST_CONGESTION, 400000),
	U32(TCA_FLOWSHAPE_DEST_LOAD, 900000),
};

static const struct want want_dest1[] = {
	IP6(TCA_FLOWSHAPE_DEST_IPV6, "2001:db8::"),
	U8(TCA_FLOWSHAPE_DEST_PLEN, 64),
	U32(TCA_FLOWSHAPE_DEST_LOAD, 125000),
};

static const struct want want_dest2[] = {
	IP4(TCA_FLOWSHAPE_DEST_IPV4, "192.168.1.7"),
	U8(TCA_FLOWSHAPE_DEST_PLEN, 32),
	FLAG(TCA_FLOWSHAPE_DEST_DELETE),
};

static const struct want want_dest3[] = {
	U32(TCA_FLOWSHAPE_DEST_MARK, 0x10),
	U32(TCA_FLOWSHAPE_DEST_MARK_MASK, 0xff),
	U32(TCA_FLOWSHAPE_DEST_CONGESTION, 300000),
};

static const struct want want_dest4[] = {
	U32(TCA_FLOWSHAPE_DEST_MARK, 4096),
	U32(TCA_FLOWSHAPE_DEST_MARK_MASK, 0xffffffff),
	FLAG(TCA_FLOWSHAPE_DEST_DELETE),
};

static const struct {
	const struct want	*attrs;
	size_t			n;
} want_dests[] = {
	{ want_dest0, ARRAY_SIZE(want_dest0) },
	{ want_dest1, ARRAY_SIZE(want_dest1) },
	{ want_dest2, ARRAY_SIZE(want_dest2) },
	{ want_dest3, ARRAY_SIZE(want_dest3) },
	{ want_dest4, ARRAY_SIZE(want_dest4) },
};

static int errors;

__attribute__((format(printf, 3, 4)))
static void bad(const char *what, unsigned int type, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fs_nlmsg check: %s attribute %u: ", what, type);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errors++;
}

static bool payload_matches(const struct want *w, const struct rtattr *rta)
{
	unsigned char addr[16];
	uint64_t v = 0;

	if (w->addr) {
		if (inet_pton(w->len == 4 ? AF_INET : AF_INET6, w->addr, addr) != 1)
			return false;
		return memcmp(RTA_DATA(rta), addr, w->len) == 0;
	}
	if (w->len)
		memcpy(&v, RTA_DATA(rta), w->len);	/* little endian host */
	return v == w->v;
}

/*
 * The attributes in [rta, rta + len) must be exactly @want: each once,
 * with its length and value; the order inside a set does not matter.
 * TCA_FLOWSHAPE_DESTS (length 0xffff in @want) is returned, not compared.
 */
static const struct rtattr *match_set(const char *what, const struct rtattr *rta,
				      int len, const struct want *want, size_t n)
{
	const struct rtattr *dests = NULL;
	bool seen[32] = { false };
	size_t i;

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		unsigned int type = rta->rta_type & NLA_TYPE_MASK;

		for (i = 0; i < n && want[i].type != type; i++)
			;
		if (i == n) {
			bad(what, type, "unexpected (length %u)",
			    (unsigned int)RTA_PAYLOAD(rta));
			continue;
		}
		if (seen[i])
			bad(what, type, "repeated");
		seen[i] = true;
		if (want[i].len == 0xffff) {
			if (!(rta->rta_type & NLA_F_NESTED))
				bad(what, type, "nest without NLA_F_NESTED");
			dests = rta;
			continue;
		}
		if (RTA_PAYLOAD(rta) != want[i].len) {
			bad(what, type, "length %u, want %u",
			    (unsigned int)RTA_PAYLOAD(rta), want[i].len);
			continue;
		}
		if (!payload_matches(&want[i], rta)) {
			uint64_t v = 0;

			memcpy(&v, RTA_DATA(rta), want[i].len < 8 ? want[i].len : 8);
			bad(what, type, "value %llu, want %llu",
			    (unsigned long long)v,
			    (unsigned long long)want[i].v);
		}
	}
	if (len)
		bad(what, 0, "%d trailing bytes", len);
	for (i = 0; i < n; i++)
		if (!seen[i])
			bad(what, want[i].type, "missing");
	return dests;
}

static void check_dests(const struct rtattr *dests)
{
	int len = RTA_PAYLOAD(dests);
	const struct rtattr *e = RTA_DATA(dests);
	size_t k = 0;

	/* Entries are applied in order: compare them in order. */
	for (; RTA_OK(e, len); e = RTA_NEXT(e, len), k++) {
		char what[32];

		snprintf(what, sizeof(what), "dest %zu", k);
		if ((e->rta_type & NLA_TYPE_MASK) != TCA_FLOWSHAPE_DEST ||
		    !(e->rta_type & NLA_F_NESTED)) {
			bad(what, e->rta_type, "not a nested TCA_FLOWSHAPE_DEST");
			continue;
		}
		if (k < ARRAY_SIZE(want_dests))
			match_set(what, RTA_DATA(e), RTA_PAYLOAD(e),
				  want_dests[k].attrs, want_dests[k].n);
	}
	if (k != ARRAY_SIZE(want_dests))
		bad("dests", TCA_FLOWSHAPE_DESTS, "%zu entries, want %zu", k,
		    ARRAY_SIZE(want_dests));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int check(void)
{
	static unsigned char buf[1 << 17];
	const struct rtattr *opts = NULL, *kind = NULL, *dests, *rta;
	size_t n = 0;
	int hi = -1, c, len;
	struct nlmsghdr *nh;

	/* Hex digits, anything else ignored. */
	while ((c = getchar()) != EOF && n < sizeof(buf)) {
		int v = hexval(c);

		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			buf[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}

	nh = (struct nlmsghdr *)buf;
	len = (int)n;
	for (; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len))
		if (nh->nlmsg_type == RTM_NEWQDISC)
			break;
	if (!NLMSG_OK(nh, len)) {
		fprintf(stderr, "fs_nlmsg check: no RTM_NEWQDISC in %zu bytes\n", n);
		return 1;
	}

	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct tcmsg)));
	rta = (const struct rtattr *)((char *)NLMSG_DATA(nh) +
				      NLMSG_ALIGN(sizeof(struct tcmsg)));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if ((rta->rta_type & NLA_TYPE_MASK) == TCA_KIND)
			kind = rta;
		else if ((rta->rta_type & NLA_TYPE_MASK) == TCA_OPTIONS)
			opts = rta;
	}
	if (!kind || strncmp(RTA_DATA(kind), "flowshape", RTA_PAYLOAD(kind))) {
		fprintf(stderr, "fs_nlmsg check: TCA_KIND is not flowshape\n");
		return 1;
	}
	if (!opts) {
		fprintf(stderr, "fs_nlmsg check: no TCA_OPTIONS\n");
		return 1;
	}

	dests = match_set("options", RTA_DATA(opts), RTA_PAYLOAD(opts),
			  want_opts, ARRAY_SIZE(want_opts));
	if (dests)
		check_dests(dests);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	size_t i;

	if (strcmp(what, "qdisc") == 0) {
		qdisc_defaults();
	} else if (strcmp(what, "qdisc-set") == 0) {
		qdisc_set();
	} else if (strcmp(what, "qdisc-long") == 0) {
		qdisc_long();
	} else if (strcmp(what, "class") == 0) {
		class_entries();
	} else if (strcmp(what, "args") == 0) {
		for (i = 0; i < ARRAY_SIZE(check_args); i++)
			printf("%s%s", i ? " " : "", check_args[i]);
		putchar('\n');
	} else if (strcmp(what, "check") == 0) {
		return check();
	} else {
		fprintf(stderr,
			"usage: fs_nlmsg { qdisc | qdisc-set | qdisc-long | class | args | check }\n");
		return 2;
	}
	return fflush(stdout) ? 2 : 0;
}
