// SPDX-License-Identifier: GPL-2.0
/*
 * flowshape netlink: the TCA_OPTIONS policy, change, dump, xstats, and
 * the destination table listed as read-only classes ("tc class show").
 */

#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/stringify.h>
#include <net/netlink.h>
#include <asm/unaligned.h>
#include "flowshape.h"

#define FS_NS_MAX	(10ULL * NSEC_PER_SEC)

/*
 * A buckets change moves every flow to the new table under the tree
 * lock, bottom halves off: at most this many (a few ms on a slow CPU;
 * 20000 took 40-60 ms under TCG).  Past it the change is refused.
 */
#define FS_REHASH_MAX_FLOWS	16384

/*
 * The policy checks types and lengths only; each value's range is checked
 * against this table right after the parse, so that a value out of range
 * is refused with a message naming the attribute and its range (the
 * policy's own range check can only say "integer out of range").
 */
struct fs_range {
	u16 attr;
	u64 min;
	u64 max;
	const char *msg;
};

static const struct fs_range fs_ranges[] = {
	{ TCA_FLOWSHAPE_LIMIT, 1, 1000000,
	  "flowshape: limit out of range (1..1000000 packets)" },
	{ TCA_FLOWSHAPE_FLOW_LIMIT, 1, 1000000,
	  "flowshape: flow_limit out of range (1..1000000 packets)" },
	{ TCA_FLOWSHAPE_BUCKETS, 1, 1U << 20,
	  "flowshape: buckets out of range (1..1048576, a power of 2)" },
	{ TCA_FLOWSHAPE_MAX_FLOWS, 1, 1U << 24,
	  "flowshape: max_flows out of range (1..16777216)" },
	{ TCA_FLOWSHAPE_FLOW_IDLE, NSEC_PER_MSEC, 3600ULL * NSEC_PER_SEC,
	  "flowshape: flow_idle out of range (1 ms..3600 s, in ns)" },
	{ TCA_FLOWSHAPE_MODE, 0, __FLOWSHAPE_MODE_MAX - 1,
	  "flowshape: mode out of range (0 spread, 1 delay)" },
	{ TCA_FLOWSHAPE_CONGESTION_WEIGHT, 0, FS_NS_MAX,
	  "flowshape: congestion_weight out of range (0..10 s, in ns)" },
	{ TCA_FLOWSHAPE_LOAD_WEIGHT, 0, FS_NS_MAX,
	  "flowshape: load_weight out of range (0..10 s, in ns)" },
	{ TCA_FLOWSHAPE_CONGESTION_THRESHOLD, 0, FLOWSHAPE_LEVEL_ONE,
	  "flowshape: congestion_threshold out of range (0..1000000 ppm)" },
	{ TCA_FLOWSHAPE_LOAD_THRESHOLD, 0, FLOWSHAPE_LEVEL_ONE,
	  "flowshape: load_threshold out of range (0..1000000 ppm)" },
	{ TCA_FLOWSHAPE_MAX_DELAY, 0, FS_NS_MAX,
	  "flowshape: max_delay out of range (0..10 s, in ns)" },
	{ TCA_FLOWSHAPE_SMOOTHING, 0, 990000,
	  "flowshape: smoothing out of range (0..990000 ppm)" },
	{ TCA_FLOWSHAPE_QUANTUM, 256, 1U << 20,
	  "flowshape: quantum out of range (256..1048576 bytes)" },
	{ TCA_FLOWSHAPE_TIMER_SLACK, 0, 10 * NSEC_PER_MSEC,
	  "flowshape: timer_slack out of range (0..10 ms, in ns)" },
	{ TCA_FLOWSHAPE_STALE_AFTER, NSEC_PER_MSEC, FS_NS_MAX,
	  "flowshape: stale_after out of range (1 ms..10 s, in ns)" },
	{ TCA_FLOWSHAPE_DEFAULT_CONGESTION, 0, FLOWSHAPE_LEVEL_ONE,
	  "flowshape: default_congestion out of range (0..1000000 ppm)" },
	{ TCA_FLOWSHAPE_DEFAULT_LOAD, 0, FLOWSHAPE_LEVEL_ONE,
	  "flowshape: default_load out of range (0..1000000 ppm)" },
	{ TCA_FLOWSHAPE_MAX_DESTS, 1, 65535,
	  "flowshape: max_dests out of range (1..65535)" },
	{ TCA_FLOWSHAPE_RATE_SCOPE, 0, __FLOWSHAPE_SCOPE_MAX - 1,
	  "flowshape: rate_scope out of range (0 flow, 1 destination)" },
	{ TCA_FLOWSHAPE_AQM_TARGET, 0, NSEC_PER_SEC,
	  "flowshape: aqm_target out of range (0 off, ..1 s, in ns)" },
	{ TCA_FLOWSHAPE_AQM_INTERVAL, NSEC_PER_MSEC, FS_NS_MAX,
	  "flowshape: aqm_interval out of range (1 ms..10 s, in ns)" },
	{ TCA_FLOWSHAPE_HORIZON, NSEC_PER_MSEC, 3600ULL * NSEC_PER_SEC,
	  "flowshape: horizon out of range (1 ms..3600 s, in ns)" },
	{ TCA_FLOWSHAPE_HORIZON_DROP, 0, 1,
	  "flowshape: horizon_drop out of range (0 cap, 1 drop)" },
	{ TCA_FLOWSHAPE_OVERFLOW_LIMIT, 1, 1000000,
	  "flowshape: overflow_limit out of range (1..1000000 packets)" },
};

static const struct nla_policy fs_policy[TCA_FLOWSHAPE_MAX + 1] = {
	[TCA_FLOWSHAPE_LIMIT]		= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_FLOW_LIMIT]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_BUCKETS]		= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_MAX_FLOWS]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_FLOW_IDLE]	= { .type = NLA_U64 },
	[TCA_FLOWSHAPE_CONGESTION_WEIGHT] = { .type = NLA_U64 },
	[TCA_FLOWSHAPE_LOAD_WEIGHT]	= { .type = NLA_U64 },
	[TCA_FLOWSHAPE_CONGESTION_THRESHOLD] = { .type = NLA_U32 },
	[TCA_FLOWSHAPE_LOAD_THRESHOLD]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_MAX_DELAY]	= { .type = NLA_U64 },
	[TCA_FLOWSHAPE_SMOOTHING]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_MODE]		= { .type = NLA_U8 },
	[TCA_FLOWSHAPE_QUANTUM]		= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_TIMER_SLACK]	= { .type = NLA_U64 },
	[TCA_FLOWSHAPE_STALE_AFTER]	= { .type = NLA_U64 },
	[TCA_FLOWSHAPE_DEFAULT_CONGESTION] = { .type = NLA_U32 },
	[TCA_FLOWSHAPE_DEFAULT_LOAD]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_DESTS]		= { .type = NLA_NESTED },
	[TCA_FLOWSHAPE_DEST_FLUSH]	= { .type = NLA_FLAG },
	[TCA_FLOWSHAPE_MAX_DESTS]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_PAD]		= { .type = NLA_REJECT },
	[TCA_FLOWSHAPE_BYPASS_MARK]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_BYPASS_MASK]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_RATE_SCOPE]	= { .type = NLA_U8 },
	[TCA_FLOWSHAPE_AQM_TARGET]	= { .type = NLA_U64 },
	[TCA_FLOWSHAPE_AQM_INTERVAL]	= { .type = NLA_U64 },
	[TCA_FLOWSHAPE_HORIZON]		= { .type = NLA_U64 },
	[TCA_FLOWSHAPE_HORIZON_DROP]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_OVERFLOW_LIMIT]	= { .type = NLA_U32 },
};

/* The policy has checked the length: 1, 4 or 8 bytes by type. */
static u64 fs_nla_get_uint(const struct nlattr *a)
{
	switch (nla_len(a)) {
	case sizeof(u8):
		return nla_get_u8(a);
	case sizeof(u32):
		return nla_get_u32(a);
	default:
		return nla_get_u64(a);
	}
}

static int fs_check_ranges(struct nlattr **tb, struct netlink_ext_ack *extack)
{
	const struct fs_range *r;

	for (r = fs_ranges; r < fs_ranges + ARRAY_SIZE(fs_ranges); r++) {
		const struct nlattr *a = tb[r->attr];
		u64 v;

		if (!a)
			continue;
		v = fs_nla_get_uint(a);
		if (v < r->min || v > r->max) {
			/* NL_SET_ERR_MSG_ATTR wants a literal; the table's
			 * strings are static as well.
			 */
			if (extack) {
				extack->_msg = r->msg;
				NL_SET_BAD_ATTR(extack, a);
			}
			return -ERANGE;
		}
	}
	return 0;
}

void fs_params_default(struct fs_params *p)
{
	*p = (struct fs_params) {
		.limit			= 10000,
		.flow_limit		= 1000,
		.buckets		= 1024,
		.max_flows		= 65536,
		.quantum		= 1514,
		.max_dests		= 4096,
		.congestion_threshold	= FLOWSHAPE_LEVEL_ONE / 5,
		.load_threshold		= FLOWSHAPE_LEVEL_ONE / 2,
		.smoothing		= 0,
		.default_congestion	= 0,
		.default_load		= 0,
		.mode			= FLOWSHAPE_MODE_SPREAD,
		.rate_scope		= FLOWSHAPE_SCOPE_DEST,
		.flow_idle		= 3 * NSEC_PER_SEC,
		.congestion_weight	= 10 * NSEC_PER_MSEC,
		.load_weight		= 10 * NSEC_PER_MSEC,
		.max_delay		= 50 * NSEC_PER_MSEC,
		.timer_slack		= 10 * NSEC_PER_USEC,
		.stale_after		= 5 * NSEC_PER_SEC,
		.aqm_target		= 0,	/* off: see flowshape.rst */
		.aqm_interval		= 100 * NSEC_PER_MSEC,
		.horizon		= 10 * NSEC_PER_SEC,
		.horizon_drop		= 1,
		.overflow_limit		= 1000,
	};
}

static void fs_set_u32(u32 *dst, struct nlattr *a)
{
	if (a)
		WRITE_ONCE(*dst, nla_get_u32(a));
}

static void fs_set_u64(u64 *dst, struct nlattr *a)
{
	if (a)
		WRITE_ONCE(*dst, nla_get_u64(a));
}

/*
 * Validate everything first (policy, cross-checks, destination updates,
 * allocations), then apply under the tree lock what cannot fail.  Queued
 * packets are never dropped and counters never reset.
 */
int fs_change(struct Qdisc *sch, struct nlattr *opt,
	      struct netlink_ext_ack *extack)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	struct nlattr *tb[TCA_FLOWSHAPE_MAX + 1];
	struct fs_dest_update *upd = NULL;
	struct rb_root *nb = NULL, *ob = NULL;
	bool delays_changed;
	u32 buckets = 0, max_dests;
	int err;

	if (!opt)
		return 0;

	err = nla_parse_nested(tb, TCA_FLOWSHAPE_MAX, opt, fs_policy, extack);
	if (err < 0)
		return err;
	err = fs_check_ranges(tb, extack);
	if (err)
		return err;

	if (tb[TCA_FLOWSHAPE_BYPASS_MARK] || tb[TCA_FLOWSHAPE_BYPASS_MASK]) {
		u32 mark = tb[TCA_FLOWSHAPE_BYPASS_MARK] ?
			   nla_get_u32(tb[TCA_FLOWSHAPE_BYPASS_MARK]) :
			   q->p.bypass_mark;
		u32 mask = tb[TCA_FLOWSHAPE_BYPASS_MASK] ?
			   nla_get_u32(tb[TCA_FLOWSHAPE_BYPASS_MASK]) :
			   q->p.bypass_mask;

		/* A mark with bits the mask ignores could never match. */
		if (mark & ~mask) {
			NL_SET_ERR_MSG(extack,
				       "flowshape: bypass_mark has bits outside bypass_mask");
			return -EINVAL;
		}
	}

	if (tb[TCA_FLOWSHAPE_BUCKETS]) {
		buckets = nla_get_u32(tb[TCA_FLOWSHAPE_BUCKETS]);
		if (!is_power_of_2(buckets)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[TCA_FLOWSHAPE_BUCKETS],
					    "flowshape: buckets must be a power of 2");
			return -EINVAL;
		}
		if (buckets != q->p.buckets) {
			/* Refused early too, before 8 MB are taken for it
			 * (the count is checked again under the lock).
			 */
			if (READ_ONCE(q->flows) > FS_REHASH_MAX_FLOWS)
				goto busy;
			nb = fs_buckets_alloc(buckets);
			if (!nb)
				return -ENOMEM;
		}
	}

	max_dests = tb[TCA_FLOWSHAPE_MAX_DESTS] ?
		    nla_get_u32(tb[TCA_FLOWSHAPE_MAX_DESTS]) : q->p.max_dests;
	if (tb[TCA_FLOWSHAPE_DESTS] || tb[TCA_FLOWSHAPE_DEST_FLUSH] ||
	    tb[TCA_FLOWSHAPE_MAX_DESTS]) {
		err = fs_dest_prepare(q, tb[TCA_FLOWSHAPE_DESTS],
				      nla_get_flag(tb[TCA_FLOWSHAPE_DEST_FLUSH]),
				      max_dests, tb[TCA_FLOWSHAPE_MAX_DESTS],
				      &upd, extack);
		if (err) {
			fs_buckets_free(nb);
			return err;
		}
	}

	delays_changed = tb[TCA_FLOWSHAPE_CONGESTION_WEIGHT] ||
			 tb[TCA_FLOWSHAPE_LOAD_WEIGHT] ||
			 tb[TCA_FLOWSHAPE_CONGESTION_THRESHOLD] ||
			 tb[TCA_FLOWSHAPE_LOAD_THRESHOLD] ||
			 tb[TCA_FLOWSHAPE_MAX_DELAY];

	sch_tree_lock(sch);
	/* Checked under the lock, before anything is applied: the count
	 * the rehash below would walk with bottom halves off.
	 */
	if (nb && q->flows > FS_REHASH_MAX_FLOWS) {
		sch_tree_unlock(sch);
		fs_buckets_free(nb);
		fs_dest_update_free(upd);
		goto busy;
	}
	if (tb[TCA_FLOWSHAPE_LIMIT]) {
		/* A lower limit refuses new packets until the backlog
		 * drains below it; it never drops what is queued.
		 */
		fs_set_u32(&q->p.limit, tb[TCA_FLOWSHAPE_LIMIT]);
		WRITE_ONCE(sch->limit, q->p.limit);
	}
	fs_set_u32(&q->p.flow_limit, tb[TCA_FLOWSHAPE_FLOW_LIMIT]);
	fs_set_u32(&q->p.max_flows, tb[TCA_FLOWSHAPE_MAX_FLOWS]);
	fs_set_u64(&q->p.flow_idle, tb[TCA_FLOWSHAPE_FLOW_IDLE]);
	fs_set_u64(&q->p.congestion_weight, tb[TCA_FLOWSHAPE_CONGESTION_WEIGHT]);
	fs_set_u64(&q->p.load_weight, tb[TCA_FLOWSHAPE_LOAD_WEIGHT]);
	fs_set_u32(&q->p.congestion_threshold, tb[TCA_FLOWSHAPE_CONGESTION_THRESHOLD]);
	fs_set_u32(&q->p.load_threshold, tb[TCA_FLOWSHAPE_LOAD_THRESHOLD]);
	fs_set_u64(&q->p.max_delay, tb[TCA_FLOWSHAPE_MAX_DELAY]);
	fs_set_u32(&q->p.smoothing, tb[TCA_FLOWSHAPE_SMOOTHING]);
	fs_set_u32(&q->p.quantum, tb[TCA_FLOWSHAPE_QUANTUM]);
	fs_set_u64(&q->p.timer_slack, tb[TCA_FLOWSHAPE_TIMER_SLACK]);
	fs_set_u64(&q->p.stale_after, tb[TCA_FLOWSHAPE_STALE_AFTER]);
	fs_set_u32(&q->p.default_congestion, tb[TCA_FLOWSHAPE_DEFAULT_CONGESTION]);
	fs_set_u32(&q->p.default_load, tb[TCA_FLOWSHAPE_DEFAULT_LOAD]);
	fs_set_u32(&q->p.max_dests, tb[TCA_FLOWSHAPE_MAX_DESTS]);
	fs_set_u32(&q->p.bypass_mark, tb[TCA_FLOWSHAPE_BYPASS_MARK]);
	fs_set_u32(&q->p.bypass_mask, tb[TCA_FLOWSHAPE_BYPASS_MASK]);
	if (tb[TCA_FLOWSHAPE_MODE])
		WRITE_ONCE(q->p.mode, nla_get_u8(tb[TCA_FLOWSHAPE_MODE]));
	fs_set_u64(&q->p.aqm_target, tb[TCA_FLOWSHAPE_AQM_TARGET]);
	fs_set_u64(&q->p.aqm_interval, tb[TCA_FLOWSHAPE_AQM_INTERVAL]);
	fs_set_u64(&q->p.horizon, tb[TCA_FLOWSHAPE_HORIZON]);
	fs_set_u32(&q->p.horizon_drop, tb[TCA_FLOWSHAPE_HORIZON_DROP]);
	/* Like limit: a lower value drops nothing queued. */
	fs_set_u32(&q->p.overflow_limit, tb[TCA_FLOWSHAPE_OVERFLOW_LIMIT]);
	if (tb[TCA_FLOWSHAPE_RATE_SCOPE])
		WRITE_ONCE(q->p.rate_scope,
			   nla_get_u8(tb[TCA_FLOWSHAPE_RATE_SCOPE]));
	if (nb) {
		ob = q->buckets;
		fs_flow_rehash(q, nb, buckets);
		WRITE_ONCE(q->p.buckets, buckets);
	}
	q->default_delay = fs_delay_compute(&q->p, q->p.default_congestion,
					    q->p.default_load);
	sch_tree_unlock(sch);

	fs_buckets_free(ob);
	if (upd) {
		fs_dest_commit(sch, upd);
		fs_dest_update_free(upd);
	}
	if (delays_changed)
		fs_dest_recompute(q);
	return 0;

busy:
	NL_SET_ERR_MSG_ATTR(extack, tb[TCA_FLOWSHAPE_BUCKETS],
			    "flowshape: buckets cannot change with more than "
			    __stringify(FS_REHASH_MAX_FLOWS)
			    " flows tracked (moving them would stop the qdisc too long): set buckets at creation, or replace the qdisc");
	return -EBUSY;
}

static int fs_put_u64(struct sk_buff *skb, int type, u64 v)
{
	return nla_put_u64_64bit(skb, type, v, TCA_FLOWSHAPE_PAD);
}

int fs_dump(struct Qdisc *sch, struct sk_buff *skb)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	const struct fs_params *p = &q->p;
	struct nlattr *opts;

	opts = nla_nest_start_noflag(skb, TCA_OPTIONS);
	if (!opts)
		return -EMSGSIZE;

	if (nla_put_u32(skb, TCA_FLOWSHAPE_LIMIT, READ_ONCE(p->limit)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_FLOW_LIMIT, READ_ONCE(p->flow_limit)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_BUCKETS, READ_ONCE(p->buckets)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_MAX_FLOWS, READ_ONCE(p->max_flows)) ||
	    fs_put_u64(skb, TCA_FLOWSHAPE_FLOW_IDLE, READ_ONCE(p->flow_idle)) ||
	    nla_put_u8(skb, TCA_FLOWSHAPE_MODE, READ_ONCE(p->mode)) ||
	    fs_put_u64(skb, TCA_FLOWSHAPE_CONGESTION_WEIGHT,
		       READ_ONCE(p->congestion_weight)) ||
	    fs_put_u64(skb, TCA_FLOWSHAPE_LOAD_WEIGHT, READ_ONCE(p->load_weight)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_CONGESTION_THRESHOLD,
			READ_ONCE(p->congestion_threshold)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_LOAD_THRESHOLD,
			READ_ONCE(p->load_threshold)) ||
	    fs_put_u64(skb, TCA_FLOWSHAPE_MAX_DELAY, READ_ONCE(p->max_delay)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_SMOOTHING, READ_ONCE(p->smoothing)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_QUANTUM, READ_ONCE(p->quantum)) ||
	    fs_put_u64(skb, TCA_FLOWSHAPE_TIMER_SLACK, READ_ONCE(p->timer_slack)) ||
	    fs_put_u64(skb, TCA_FLOWSHAPE_STALE_AFTER, READ_ONCE(p->stale_after)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_DEFAULT_CONGESTION,
			READ_ONCE(p->default_congestion)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_DEFAULT_LOAD,
			READ_ONCE(p->default_load)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_MAX_DESTS, READ_ONCE(p->max_dests)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_BYPASS_MARK, READ_ONCE(p->bypass_mark)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_BYPASS_MASK, READ_ONCE(p->bypass_mask)) ||
	    nla_put_u8(skb, TCA_FLOWSHAPE_RATE_SCOPE, READ_ONCE(p->rate_scope)) ||
	    fs_put_u64(skb, TCA_FLOWSHAPE_AQM_TARGET, READ_ONCE(p->aqm_target)) ||
	    fs_put_u64(skb, TCA_FLOWSHAPE_AQM_INTERVAL, READ_ONCE(p->aqm_interval)) ||
	    fs_put_u64(skb, TCA_FLOWSHAPE_HORIZON, READ_ONCE(p->horizon)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_HORIZON_DROP, READ_ONCE(p->horizon_drop)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_OVERFLOW_LIMIT,
			READ_ONCE(p->overflow_limit)))
		goto nla_put_failure;

	return nla_nest_end(skb, opts);

nla_put_failure:
	nla_nest_cancel(skb, opts);
	return -EMSGSIZE;
}

int fs_dump_stats(struct Qdisc *sch, struct gnet_dump *d)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	struct tc_flowshape_xstats st = { 0 };
	const struct fs_dest_table *t;
	u64 now = ktime_get_ns();

	st.stale_dests = fs_dest_count_stale(q, now);

	sch_tree_lock(sch);
	st.enqueued = q->stat_enqueued;
	st.drops_limit = q->stat_drops_limit;
	st.drops_flow_limit = q->stat_drops_flow_limit;
	st.passed = q->stat_passed;
	st.delayed = q->stat_delayed;
	st.delay_total_ns = q->stat_delay_total;
	st.overflow_packets = q->stat_overflow;
	st.alloc_errors = q->stat_alloc_errors;
	st.gc_flows = q->stat_gc;
	st.stale_packets = q->stat_stale;
	st.late_packets = q->stat_late_packets;
	st.lateness_total_ns = q->stat_lateness_total;
	st.lateness_max_ns = q->stat_lateness_max;
	st.early_releases = q->stat_early;
	st.watchdog_armed = q->stat_watchdog;
	/* A packet the core holds (a parent's peek) is still in qlen. */
	st.released = q->stat_released - skb_queue_len(&sch->gso_skb) -
		      skb_queue_len(&sch->skb_bad_txq);
	st.purged = q->stat_purged;
	st.control_packets = q->stat_control;
	st.ecn_marks = q->stat_ecn_marks;
	st.drops_aqm = q->stat_drops_aqm;
	st.retimed = q->stat_retimed;
	st.drops_horizon = q->stat_drops_horizon;
	st.horizon_caps = q->stat_horizon_caps;
	st.reslotted = q->stat_reslotted;
	st.drops_overflow = q->stat_drops_overflow;
	st.flows = q->flows;
	st.throttled_flows = q->throttled_flows;
	if (q->throttled_flows && q->time_next_throttled > now)
		st.next_release_ns = q->time_next_throttled - now;
	sch_tree_unlock(sch);

	rcu_read_lock();
	t = rcu_dereference(q->dests);
	st.dests = t ? t->count : 0;
	rcu_read_unlock();

	return gnet_stats_copy_app(d, &st, sizeof(st));
}

/*
 * The destination table as classes: class MAJOR:N is entry N-1 of the
 * current table.  Read-only: there is nothing to graft or change.
 */
static const struct fs_dest *fs_class_entry(struct Qdisc *sch, unsigned long cl)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	const struct fs_dest_table *t = rtnl_dereference(q->dests);

	if (!t || !cl || cl > t->count)
		return NULL;
	return &t->e[cl - 1];
}

static struct Qdisc *fs_class_leaf(struct Qdisc *sch, unsigned long cl)
{
	return NULL;
}

static unsigned long fs_class_find(struct Qdisc *sch, u32 classid)
{
	unsigned long cl = TC_H_MIN(classid);

	return fs_class_entry(sch, cl) ? cl : 0;
}

/* The entry's key: its prefix, or its mark and mask. */
static int fs_class_put_key(struct sk_buff *skb, const struct fs_dest *e)
{
	if (e->family == FS_FAMILY_MARK)
		return nla_put_u32(skb, TCA_FLOWSHAPE_DEST_MARK,
				   get_unaligned_be32(e->addr)) ||
		       nla_put_u32(skb, TCA_FLOWSHAPE_DEST_MARK_MASK,
				   get_unaligned_be32(e->addr + 4));
	return nla_put(skb, e->family == AF_INET ? TCA_FLOWSHAPE_DEST_IPV4 :
						TCA_FLOWSHAPE_DEST_IPV6,
		       e->family == AF_INET ? 4 : 16, e->addr) ||
	       nla_put_u8(skb, TCA_FLOWSHAPE_DEST_PLEN, e->plen);
}

static int fs_class_dump(struct Qdisc *sch, unsigned long cl,
			 struct sk_buff *skb, struct tcmsg *tcm)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	const struct fs_dest *e = fs_class_entry(sch, cl);
	u64 now = ktime_get_ns(), updated, stale_after;
	struct nlattr *opts;
	bool stale;

	if (!e)
		return -ENOENT;
	/* tcm_parent stays the qdisc's handle: entries hang off it. */
	tcm->tcm_handle |= TC_H_MIN(cl);
	tcm->tcm_info = 0;

	updated = READ_ONCE(e->updated_ns);
	stale_after = READ_ONCE(q->p.stale_after);
	stale = fs_dest_is_stale(e, stale_after, now);

	opts = nla_nest_start_noflag(skb, TCA_OPTIONS);
	if (!opts)
		return -EMSGSIZE;
	if (fs_class_put_key(skb, e) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_DEST_CONGESTION, READ_ONCE(e->congestion)) ||
	    nla_put_u32(skb, TCA_FLOWSHAPE_DEST_LOAD, READ_ONCE(e->load)) ||
	    nla_put_u64_64bit(skb, TCA_FLOWSHAPE_DEST_AGE,
			      now > updated ? now - updated : 0,
			      TCA_FLOWSHAPE_DEST_PAD) ||
	    nla_put_u64_64bit(skb, TCA_FLOWSHAPE_DEST_DELAY,
			      stale ? 0 : READ_ONCE(e->delay_ns),
			      TCA_FLOWSHAPE_DEST_PAD) ||
	    (stale && nla_put_flag(skb, TCA_FLOWSHAPE_DEST_STALE)))
		goto nla_put_failure;
	return nla_nest_end(skb, opts);

nla_put_failure:
	nla_nest_cancel(skb, opts);
	return -EMSGSIZE;
}

static void fs_class_walk(struct Qdisc *sch, struct qdisc_walker *arg)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	const struct fs_dest_table *t = rtnl_dereference(q->dests);
	u32 i;

	if (arg->stop || !t)
		return;
	for (i = 0; i < t->count; i++) {
		if (arg->count < arg->skip) {
			arg->count++;
			continue;
		}
		if (arg->fn(sch, i + 1, arg) < 0) {
			arg->stop = 1;
			break;
		}
		arg->count++;
	}
}

const struct Qdisc_class_ops fs_class_ops = {
	.leaf		= fs_class_leaf,
	.find		= fs_class_find,
	.walk		= fs_class_walk,
	.dump		= fs_class_dump,
};
