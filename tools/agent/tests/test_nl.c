// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the netlink messages, built into a buffer and parsed back
 * with libmnl; acks with extack; class messages of the table. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/gen_stats.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/flowshape.h>

#include "nl.h"
#include "util.h"

static const struct nl_qdisc Q = {
	.ifindex = 7, .handle = 0x00120000, .parent = 0x00010003,
};

static struct nl_dest dests[3];

static int setup(void **state)
{
	(void)state;
	memset(dests, 0, sizeof(dests));
	dests[0].family = AF_INET;
	inet_pton(AF_INET, "10.0.1.0", dests[0].addr);
	dests[0].plen = 24;
	dests[0].congestion_ppm = 400000;
	dests[0].load_ppm = 900000;
	dests[1].family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::", dests[1].addr);
	dests[1].plen = 64;
	dests[1].congestion_ppm = 0;
	dests[1].load_ppm = FLOWSHAPE_LEVEL_ONE;
	dests[2].family = AF_INET;
	inet_pton(AF_INET, "10.0.9.9", dests[2].addr);
	dests[2].plen = 32;
	dests[2].del = true;
	return 0;
}

struct tb {
	const struct nlattr *a[64];
	int count;
};

static int collect(const struct nlattr *a, void *data)
{
	struct tb *tb = data;
	uint16_t t = mnl_attr_get_type(a);

	if (t < 64)
		tb->a[t] = a;
	tb->count++;
	return MNL_CB_OK;
}

/* Check one TCA_FLOWSHAPE_DEST nest against d. */
static void check_dest(const struct nlattr *nest, const struct nl_dest *d)
{
	struct tb tb = { 0 };
	const struct nlattr *addr;

	assert_int_equal(mnl_attr_get_type(nest), TCA_FLOWSHAPE_DEST);
	assert_true(nest->nla_type & NLA_F_NESTED);
	assert_true(mnl_attr_parse_nested(nest, collect, &tb) >= 0);
	addr = tb.a[d->family == AF_INET ? TCA_FLOWSHAPE_DEST_IPV4 : TCA_FLOWSHAPE_DEST_IPV6];
	assert_non_null(addr);
	assert_null(tb.a[d->family == AF_INET ? TCA_FLOWSHAPE_DEST_IPV6 : TCA_FLOWSHAPE_DEST_IPV4]);
	assert_int_equal(mnl_attr_get_payload_len(addr), d->family == AF_INET ? 4 : 16);
	assert_memory_equal(mnl_attr_get_payload(addr), d->addr, d->family == AF_INET ? 4 : 16);
	assert_non_null(tb.a[TCA_FLOWSHAPE_DEST_PLEN]);
	assert_int_equal(mnl_attr_get_payload_len(tb.a[TCA_FLOWSHAPE_DEST_PLEN]), 1);
	assert_int_equal(mnl_attr_get_u8(tb.a[TCA_FLOWSHAPE_DEST_PLEN]), d->plen);
	if (d->del) {
		assert_non_null(tb.a[TCA_FLOWSHAPE_DEST_DELETE]);
		assert_int_equal(mnl_attr_get_payload_len(tb.a[TCA_FLOWSHAPE_DEST_DELETE]), 0);
		assert_null(tb.a[TCA_FLOWSHAPE_DEST_CONGESTION]);
		assert_null(tb.a[TCA_FLOWSHAPE_DEST_LOAD]);
		assert_int_equal(tb.count, 3);
		return;
	}
	/* Levels: u32 parts per million. */
	assert_int_equal(mnl_attr_get_payload_len(tb.a[TCA_FLOWSHAPE_DEST_CONGESTION]), 4);
	assert_int_equal(mnl_attr_get_u32(tb.a[TCA_FLOWSHAPE_DEST_CONGESTION]), d->congestion_ppm);
	assert_int_equal(mnl_attr_get_payload_len(tb.a[TCA_FLOWSHAPE_DEST_LOAD]), 4);
	assert_int_equal(mnl_attr_get_u32(tb.a[TCA_FLOWSHAPE_DEST_LOAD]), d->load_ppm);
	assert_null(tb.a[TCA_FLOWSHAPE_DEST_DELETE]);
	assert_int_equal(tb.count, 4);
}

static void check_change(const struct nlmsghdr *nlh, uint64_t stale, size_t n)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct tb top = { 0 }, opts = { 0 };
	const struct nlattr *a;
	size_t i = 0;

	assert_int_equal(nlh->nlmsg_type, RTM_NEWQDISC);
	/* "change": no CREATE, REPLACE or EXCL */
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_seq, 42);
	assert_int_equal(tcm->tcm_family, AF_UNSPEC);
	assert_int_equal(tcm->tcm_ifindex, Q.ifindex);
	assert_int_equal(tcm->tcm_handle, Q.handle);
	assert_int_equal(tcm->tcm_parent, Q.parent);

	assert_true(mnl_attr_parse(nlh, sizeof(*tcm), collect, &top) >= 0);
	assert_int_equal(top.count, 2);
	assert_non_null(top.a[TCA_KIND]);
	assert_string_equal(mnl_attr_get_str(top.a[TCA_KIND]), "flowshape");
	assert_non_null(top.a[TCA_OPTIONS]);
	/* The kernel's nla_parse_nested wants NLA_F_NESTED. */
	assert_true(top.a[TCA_OPTIONS]->nla_type & NLA_F_NESTED);

	assert_true(mnl_attr_parse_nested(top.a[TCA_OPTIONS], collect, &opts) >= 0);
	/* Only DESTS (and STALE_AFTER when asked): no other parameter is
	 * touched by the agent. */
	assert_int_equal(opts.count, (stale ? 1 : 0) + (n ? 1 : 0));
	if (stale) {
		assert_non_null(opts.a[TCA_FLOWSHAPE_STALE_AFTER]);
		assert_int_equal(mnl_attr_get_payload_len(opts.a[TCA_FLOWSHAPE_STALE_AFTER]), 8);
		assert_int_equal(mnl_attr_get_u64(opts.a[TCA_FLOWSHAPE_STALE_AFTER]), stale);
	}
	if (!n)
		return;
	assert_non_null(opts.a[TCA_FLOWSHAPE_DESTS]);
	assert_true(opts.a[TCA_FLOWSHAPE_DESTS]->nla_type & NLA_F_NESTED);
	mnl_attr_for_each_nested(a, opts.a[TCA_FLOWSHAPE_DESTS]) {
		assert_true(i < n);
		check_dest(a, &dests[i]);
		i++;
	}
	assert_int_equal(i, n);
}

static void test_build_change(void **state)
{
	size_t len = nl_change_size(3);
	void *buf = calloc(1, len);
	struct nlmsghdr *nlh;

	(void)state;
	/* Exactly nl_change_size() bytes are enough. */
	nlh = nl_build_change(buf, len, 42, &Q, 3 * NSEC_PER_SEC, dests, 3);
	assert_non_null(nlh);
	assert_true(nlh->nlmsg_len <= len);
	check_change(nlh, 3 * NSEC_PER_SEC, 3);
	free(buf);
}

static void test_build_no_stale(void **state)
{
	size_t len = nl_change_size(2);
	void *buf = calloc(1, len);
	struct nlmsghdr *nlh;

	(void)state;
	nlh = nl_build_change(buf, len, 42, &Q, 0, dests, 2);
	assert_non_null(nlh);
	check_change(nlh, 0, 2);
	/* Only stale_after, no entries (first push with nothing known). */
	nlh = nl_build_change(buf, len, 42, &Q, 600 * NSEC_PER_MSEC, dests, 0);
	assert_non_null(nlh);
	check_change(nlh, 600 * NSEC_PER_MSEC, 0);
	free(buf);
}

static void test_build_too_small(void **state)
{
	size_t len = nl_change_size(3), need, l;
	char *buf = calloc(1, len);
	struct nlmsghdr *nlh;

	(void)state;
	nlh = nl_build_change(buf, len, 1, &Q, NSEC_PER_SEC, dests, 3);
	assert_non_null(nlh);
	need = nlh->nlmsg_len;
	/* Any shorter buffer is refused, never overrun. */
	for (l = 0; l < need; l++)
		assert_null(nl_build_change(buf, l, 1, &Q, NSEC_PER_SEC, dests, 3));
	assert_non_null(nl_build_change(buf, need, 1, &Q, NSEC_PER_SEC, dests, 3));
	free(buf);
}

/* TCA_OPTIONS is the request's last attribute: its 16-bit length must
 * reach the message's end, never wrap. */
static void assert_opts_len_exact(const struct nlmsghdr *nlh)
{
	const struct nlattr *a, *opts = NULL;

	mnl_attr_for_each(a, nlh, sizeof(struct tcmsg))
		if (mnl_attr_get_type(a) == TCA_OPTIONS)
			opts = a;
	assert_non_null(opts);
	assert_int_equal(opts->nla_len,
			 (const char *)nlh + nlh->nlmsg_len - (const char *)opts);
}

/* The largest message (IPv6 entries, the longest) keeps its nest lengths
 * exact, and one entry more is refused rather than wrapped: the kernel
 * refused tables of more than ~1,360 IPv6 or ~1,800 IPv4 entries with
 * "Attribute failed policy validation" before pushes were split. */
static void test_build_max_entries(void **state)
{
	size_t max = nl_change_max_entries(), i;
	struct nl_dest *big = calloc(max + 1, sizeof(*big));
	size_t len = nl_change_size(max + 1);
	char *buf = calloc(1, len);
	struct nlmsghdr *nlh;

	(void)state;
	assert_true(max >= 1000);
	for (i = 0; i <= max; i++) {
		big[i].family = AF_INET6;
		big[i].addr[0] = 0x20;
		big[i].addr[1] = 0x01;
		big[i].addr[12] = (uint8_t)(i >> 8);
		big[i].addr[13] = (uint8_t)i;
		big[i].plen = 128;
		big[i].congestion_ppm = (uint32_t)i;
	}
	nlh = nl_build_change(buf, len, 7, &Q, NSEC_PER_SEC, big, max);
	assert_non_null(nlh);
	assert_true(nlh->nlmsg_len <= len);
	assert_opts_len_exact(nlh);
	assert_null(nl_build_change(buf, len, 7, &Q, NSEC_PER_SEC, big, max + 1));
	free(buf);
	free(big);
}

/* An NLMSG_ERROR as the kernel sends it with NETLINK_CAP_ACK and
 * NETLINK_EXT_ACK. */
static struct nlmsghdr *make_err(char *buf, int error, const char *msg, bool capped)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = (capped ? NLM_F_CAPPED : 0) | (msg ? NLM_F_ACK_TLVS : 0);
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = capped ? sizeof(struct nlmsghdr) : sizeof(struct nlmsghdr) + 8;
	e->msg.nlmsg_type = RTM_NEWQDISC;
	if (!capped)
		mnl_nlmsg_put_extra_header(nlh, 8);	/* the echoed request body */
	if (msg)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	return nlh;
}

static void test_ack(void **state)
{
	char buf[512], msg[256];

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(nl_parse_ack(make_err(buf, 0, NULL, true), msg, sizeof(msg)), 0);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(nl_parse_ack(make_err(buf, -EINVAL,
					       "flowshape: destination prefix has host bits set",
					       true), msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "flowshape: destination prefix has host bits set (Invalid argument)");

	memset(buf, 0, sizeof(buf));
	assert_int_equal(nl_parse_ack(make_err(buf, -ENOSPC,
					       "flowshape: destination table full (max_dests reached)",
					       false), msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "max_dests reached"));

	memset(buf, 0, sizeof(buf));
	assert_int_equal(nl_parse_ack(make_err(buf, -ENOENT, NULL, true), msg, sizeof(msg)),
			 -ENOENT);
	assert_string_equal(msg, "No such file or directory");
}

static void test_dest_info(void **state)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	struct nlattr *opts;
	struct nl_dest_info d;
	uint8_t v4[4] = { 10, 0, 1, 0 };

	(void)state;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWTCLASS;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_handle = Q.handle | 2;
	tcm->tcm_parent = Q.handle;
	mnl_attr_put_strz(nlh, TCA_KIND, "flowshape");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_FLOWSHAPE_DEST_IPV4, 4, v4);
	mnl_attr_put_u8(nlh, TCA_FLOWSHAPE_DEST_PLEN, 24);
	mnl_attr_put_u32(nlh, TCA_FLOWSHAPE_DEST_CONGESTION, 400000);
	mnl_attr_put_u32(nlh, TCA_FLOWSHAPE_DEST_LOAD, 900000);
	mnl_attr_put_u64(nlh, TCA_FLOWSHAPE_DEST_AGE, 1200 * NSEC_PER_MSEC);
	mnl_attr_put_u64(nlh, TCA_FLOWSHAPE_DEST_DELAY, 4 * NSEC_PER_MSEC);
	mnl_attr_put(nlh, TCA_FLOWSHAPE_DEST_STALE, 0, NULL);
	mnl_attr_nest_end(nlh, opts);

	assert_int_equal(nl_parse_dest_info(nlh, Q.handle, &d), 0);
	assert_int_equal(d.family, AF_INET);
	assert_memory_equal(d.addr, v4, 4);
	assert_int_equal(d.plen, 24);
	assert_int_equal(d.congestion_ppm, 400000);
	assert_int_equal(d.load_ppm, 900000);
	assert_int_equal(d.age_ns, 1200 * NSEC_PER_MSEC);
	assert_int_equal(d.delay_ns, 4 * NSEC_PER_MSEC);
	assert_true(d.stale);
	/* A class of another qdisc is not ours. */
	assert_int_not_equal(nl_parse_dest_info(nlh, 0x00130000, &d), 0);
}

/* A qdisc's dump: the delay function's parameters (for the closed loop's
 * level <-> rate mapping) and its sent bytes (the controllers' ceiling). */
static void test_qdisc_params_bytes(void **state)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	struct nlattr *opts, *st;
	struct nl_qdisc_params p;
	struct gnet_stats_basic gb = { .bytes = 123456789, .packets = 1000 };
	uint64_t bytes = 0;

	(void)state;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWQDISC;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_handle = Q.handle;
	mnl_attr_put_strz(nlh, TCA_KIND, "flowshape");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u64(nlh, TCA_FLOWSHAPE_CONGESTION_WEIGHT, 12 * NSEC_PER_MSEC);
	mnl_attr_put_u64(nlh, TCA_FLOWSHAPE_LOAD_WEIGHT, 7 * NSEC_PER_MSEC);
	mnl_attr_put_u32(nlh, TCA_FLOWSHAPE_CONGESTION_THRESHOLD, 100000);
	mnl_attr_put_u32(nlh, TCA_FLOWSHAPE_LOAD_THRESHOLD, 600000);
	mnl_attr_put_u64(nlh, TCA_FLOWSHAPE_MAX_DELAY, 40 * NSEC_PER_MSEC);
	mnl_attr_put_u32(nlh, TCA_FLOWSHAPE_QUANTUM, 3028);
	mnl_attr_put_u8(nlh, TCA_FLOWSHAPE_MODE, 0);
	mnl_attr_nest_end(nlh, opts);
	st = mnl_attr_nest_start(nlh, TCA_STATS2);
	mnl_attr_put(nlh, TCA_STATS_BASIC, sizeof(gb), &gb);
	mnl_attr_nest_end(nlh, st);

	nl_parse_qdisc_params(opts, &p);
	assert_true(p.known);
	assert_int_equal(p.congestion_weight_ns, 12 * NSEC_PER_MSEC);
	assert_int_equal(p.load_weight_ns, 7 * NSEC_PER_MSEC);
	assert_int_equal(p.congestion_threshold_ppm, 100000);
	assert_int_equal(p.load_threshold_ppm, 600000);
	assert_int_equal(p.max_delay_ns, 40 * NSEC_PER_MSEC);
	assert_int_equal(p.quantum, 3028);
	assert_true(nl_parse_qdisc_bytes(nlh, &bytes));
	assert_int_equal(bytes, 123456789);
	/* Without options: not known (the agent falls back to the tc
	 * defaults). */
	nl_parse_qdisc_params(NULL, &p);
	assert_false(p.known);
}

/* One qdisc notification of kind KIND from portid, appended at *off. */
static void put_qdisc_event(char *buf, size_t *off, uint16_t type,
			    uint32_t portid, const char *kind)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	struct tcmsg *tcm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_pid = portid;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = 7;
	tcm->tcm_handle = 0x00120000;
	mnl_attr_put_strz(nlh, TCA_KIND, kind);
	*off += MNL_ALIGN(nlh->nlmsg_len);
}

/*
 * Another writer's change (a second agent's push, "tc qdisc change") is
 * not a deletion: before, every flowshape RTM_NEWQDISC from another
 * socket made the agent push again, and two writers pushed in a loop.
 */
static void test_events_classify(void **state)
{
	char buf[4096];
	size_t off = 0;

	(void)state;
	memset(buf, 0, sizeof(buf));
	put_qdisc_event(buf, &off, RTM_NEWQDISC, 42, "flowshape");
	assert_int_equal(nl_events_classify(buf, off, 99), NL_EV_CHANGED);
	/* Our own push: nothing. */
	assert_int_equal(nl_events_classify(buf, off, 42), 0);
	/* Another kind of qdisc: nothing. */
	off = 0;
	put_qdisc_event(buf, &off, RTM_NEWQDISC, 42, "fq");
	put_qdisc_event(buf, &off, RTM_DELQDISC, 42, "fq");
	assert_int_equal(nl_events_classify(buf, off, 99), 0);
	/* A replacement: the old one deleted, a new one in the same batch. */
	put_qdisc_event(buf, &off, RTM_DELQDISC, 42, "flowshape");
	put_qdisc_event(buf, &off, RTM_NEWQDISC, 42, "flowshape");
	assert_int_equal(nl_events_classify(buf, off, 99), NL_EV_GONE | NL_EV_CHANGED);
	/* Truncated: what parses counts, the rest is ignored. */
	assert_int_equal(nl_events_classify(buf, 10, 99), 0);
}

static void info_of(struct nl_dest_info *i, int family, const char *a, uint8_t plen)
{
	memset(i, 0, sizeof(*i));
	i->family = family;
	inet_pton(family, a, i->addr);
	i->plen = plen;
}

/* Which of our entries the table lost; which of its entries are not ours. */
static void test_dests_compare(void **state)
{
	struct nl_dest_info have[4];
	struct nl_dest del[4];
	size_t n;

	(void)state;
	info_of(&have[0], AF_INET, "10.0.1.0", 24);
	info_of(&have[1], AF_INET6, "2001:db8::", 64);
	info_of(&have[2], AF_INET, "10.0.1.7", 32);	/* not ours */
	info_of(&have[3], AF_INET, "10.0.1.0", 25);	/* same address, other length */
	/* dests[0] and [1] present; dests[2] is a deletion, not wanted. */
	assert_int_equal(nl_dests_missing(dests, 3, have, 4), 0);
	assert_int_equal(nl_dests_missing(dests, 3, have + 1, 3), 1);
	assert_int_equal(nl_dests_missing(dests, 2, NULL, 0), 2);

	n = nl_dests_foreign(have, 4, dests, 2, del);
	assert_int_equal(n, 2);
	assert_true(del[0].del && del[1].del);
	assert_int_equal(del[0].family, AF_INET);
	assert_int_equal(del[0].plen, 32);
	assert_memory_equal(del[0].addr, have[2].addr, 4);
	assert_int_equal(del[1].plen, 25);
	/* Nothing configured: everything in the table is foreign. */
	assert_int_equal(nl_dests_foreign(have, 4, NULL, 0, del), 4);
	assert_int_equal(nl_dests_foreign(NULL, 0, dests, 2, del), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_build_change, setup),
		cmocka_unit_test_setup(test_build_no_stale, setup),
		cmocka_unit_test_setup(test_build_too_small, setup),
		cmocka_unit_test(test_build_max_entries),
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_dest_info),
		cmocka_unit_test(test_qdisc_params_bytes),
		cmocka_unit_test(test_events_classify),
		cmocka_unit_test_setup(test_dests_compare, setup),
	};

	return cmocka_run_group_tests_name("nl", tests, NULL, NULL);
}
