/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flowshape internals shared by the module's files:
 *
 *	qdisc.c		qdisc ops: enqueue, dequeue, init, reset, destroy
 *	flow.c		the flow table: lookup, allocation, GC, rehash
 *	sched.c		release scheduling: ready round-robin, timing wheel
 *	dest.c		the destination table: LPM lookup, updates, delays
 *	netlink.c	policies, change, dump, the destination class listing
 */
#ifndef _FLOWSHAPE_H
#define _FLOWSHAPE_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>

#include <linux/flowshape.h>

struct fs_params {
	u32 limit;
	u32 flow_limit;
	u32 buckets;
	u32 max_flows;
	u32 quantum;
	u32 max_dests;
	u32 congestion_threshold;	/* ppm */
	u32 load_threshold;		/* ppm */
	u32 smoothing;			/* ppm */
	u32 default_congestion;		/* ppm */
	u32 default_load;		/* ppm */
	u32 bypass_mark;
	u32 bypass_mask;		/* 0: no mark bypasses */
	u32 horizon_drop;		/* EDT beyond horizon: 1 drop, 0 cap */
	u32 overflow_limit;		/* packets in the overflow flows */
	u8 mode;
	u8 rate_scope;			/* enum flowshape_rate_scope */
	u64 flow_idle;			/* ns */
	u64 congestion_weight;		/* ns */
	u64 load_weight;		/* ns */
	u64 max_delay;			/* ns */
	u64 timer_slack;		/* ns */
	u64 stale_after;		/* ns */
	u64 aqm_target;			/* ns, 0: off */
	u64 aqm_interval;		/* ns */
	u64 horizon;			/* ns */
};

enum fs_flow_state {
	FS_FLOW_IDLE,		/* nothing queued: in no list */
	FS_FLOW_READY,		/* head is due: on the ready list */
	FS_FLOW_THROTTLED,	/* head not due: in the wheel or far tree */
};

/*
 * One flow: 128 bytes, two cache lines.  The first holds what a lookup
 * reads in every tree node it passes (hash_node, hash) and the queue's
 * head; the second, what only the flow's own packets touch.  A flow is in
 * one scheduling structure at a time, by state, so the links share space.
 */
struct fs_flow {
	struct rb_node hash_node;	/* in its bucket, keyed by hash */
	u32 hash;			/* skb_get_hash() key */
	u32 dest_gen;			/* table generation of @agg's match:
					 * 0 none, FS_GEN_NONE never matched
					 */
	struct fs_agg *agg;		/* its destination, NULL: default */
	struct sk_buff *head;		/* FIFO of queued packets */
	u32 qlen;
	int credit;			/* DRR byte credit */
	u32 gap_ns;			/* its last spread gap, ns (capped) */
	u8 state;			/* enum fs_flow_state */
	u8 counted:1;			/* in its aggregate's active count */
	u8 paced:1;			/* its head's due time is a clock slot */
	u16 aqm_count;			/* AQM signals this episode, 0: none */

	struct sk_buff *tail;
	union {
		/* READY: ready list; THROTTLED in the wheel: slot list */
		struct fs_flow *next;
		/* THROTTLED beyond the wheel: in q->far, by time_next */
		struct rb_node throttle_node;
		/* IDLE: in q->idle_flows (never an overflow flow) */
		struct list_head idle_node;
	};
	u64 time_next;			/* when to look at its head again, ns */
	u64 last_departure;		/* its last release, ns (see qdisc.c) */
	u64 applied_delay;		/* smoothed (EWMA) delay, ns */
	u32 aqm_first_above;		/* AQM times, ns >> 10 (0: none) */
	u32 aqm_next;
};

/* The family of an entry keyed by firewall mark (not an address). */
#define FS_FAMILY_MARK		AF_UNSPEC
/* Different mark masks in one table at most: the lookup tries each. */
#define FS_MARK_MASKS_MAX	32

/* A flow's dest_gen before its first match: never a table's generation. */
#define FS_GEN_NONE		(~0U)

/* One destination entry.  Levels and times are read locklessly by the
 * datapath while a value-only update rewrites them in place.
 */
struct fs_dest {
	/* Network address (IPv4 in the first 4 bytes); for a mark entry,
	 * the mark then its mask, each big endian, so that memcmp() orders
	 * them as numbers.
	 */
	u8 addr[16];
	u8 family;			/* AF_INET, AF_INET6, FS_FAMILY_MARK */
	u8 plen;			/* prefix length; a mark's mask's bits */
	u32 congestion;			/* ppm */
	u32 load;			/* ppm */
	u64 updated_ns;			/* ktime_get_ns() of the last set */
	u64 delay_ns;			/* what the levels yield, before staleness */
};

/*
 * The datapath's state of one destination entry, owned by the qdisc (the
 * entries themselves are RCU-published and rewritten by updates): the
 * flows matching it, and how many of them are active: they have packets
 * queued, or their last departure's gap has not yet run out.  Keyed by
 * the entry's prefix, so that it outlives table republishes; freed with
 * its last flow.  Under the qdisc lock.
 */
struct fs_agg {
	struct rb_node node;		/* in q->aggs, by prefix */
	u8 addr[16];
	u8 family;
	u8 plen;
	u32 refs;			/* flows pointing here */
	u32 active;			/* of them, flows counted as active */
	u64 next_free;			/* the aggregate's clock: the earliest
					 * its next paced packet may leave, ns
					 * (rate_scope destination)
					 */
	/* The entry in the table generation of the last flow that matched
	 * it: valid for a flow whose dest_gen is the current generation.
	 */
	const struct fs_dest *dest;
};

struct fs_dest_group {
	u32 start;
	u32 end;
	u8 plen;
};

/*
 * The destination table is immutable in structure: adding or removing a
 * key publishes a new table (RCU) with a new generation, which flows
 * notice and re-run the match for.  Entries are sorted marks first, then
 * IPv4, then IPv6; within a family by prefix length (a mark's mask's
 * bits), longest first, then by mask (marks), then by address (mark);
 * groups[] index the runs of equal prefix length (of equal mask) per
 * family.
 */
struct fs_dest_table {
	struct rcu_head rcu;
	u32 gen;
	u32 count;
	u32 nr_groups[3];		/* [0] IPv4, [1] IPv6, [2] marks */
	struct fs_dest_group groups[3][129];
	struct fs_dest e[];
};

/* Throttled flows due within the wheel's span, by due time: see sched.c. */
#define FS_WHEEL_SHIFT	13			/* slot: 8.192 us */
#define FS_WHEEL_SLOTS	8192U			/* span: ~67 ms */
#define FS_WHEEL_MASK	(FS_WHEEL_SLOTS - 1)

struct fs_wheel {
	u64 cursor;			/* absolute slot of the last release */
	unsigned long map[BITS_TO_LONGS(FS_WHEEL_SLOTS)]; /* non-empty slots */
	struct fs_flow *slot[FS_WHEEL_SLOTS];
};

/*
 * Flows past max_flows (or without memory for a flow) share this many
 * overflow flows, by hash: a flood of new flows is spread over them, not
 * queued behind one head, and each packet takes its own destination's
 * delay (see fs_flow_target()).
 */
#define FS_OVERFLOW_FLOWS	16

struct fs_sched_data {
	/* datapath, under the qdisc lock */
	struct fs_flow internal;	/* control traffic: plain FIFO, first */
	struct fs_flow overflow[FS_OVERFLOW_FLOWS]; /* shared past max_flows */
	u32 overflow_qlen;		/* packets in them, <= overflow_limit */
	struct fs_flow *ready_head;	/* flows whose head is due, round robin */
	struct fs_flow *ready_tail;
	struct fs_wheel *wheel;		/* throttled flows within its span */
	struct rb_root_cached far;	/* throttled flows beyond it */
	u64 time_next_throttled;	/* when to look again, or ~0 */
	struct list_head idle_flows;	/* idle flows, oldest first, for GC */
	struct fs_flow *linger;		/* first idle flow maybe still counted */
	struct rb_root *buckets;
	struct rb_root aggs;		/* struct fs_agg, by prefix */
	u32 bucket_mask;
	u32 flows;
	u32 throttled_flows;
	u64 default_delay;		/* ns, for no entry and non-IP */

	struct fs_params p;		/* WRITE_ONCE by change, READ_ONCE by dump */

	struct fs_dest_table __rcu *dests;
	u32 dest_gen;			/* last generation published */

	struct qdisc_watchdog watchdog;

	/* counters, under the qdisc lock; dumped under the tree lock */
	u64 stat_enqueued;
	u64 stat_drops_limit;
	u64 stat_drops_flow_limit;
	u64 stat_passed;
	u64 stat_delayed;
	u64 stat_delay_total;
	u64 stat_overflow;
	u64 stat_alloc_errors;
	u64 stat_gc;
	u64 stat_stale;
	u64 stat_late_packets;
	u64 stat_lateness_total;
	u64 stat_lateness_max;
	u64 stat_early;
	u64 stat_watchdog;
	u64 stat_released;
	u64 stat_purged;
	u64 stat_control;
	u64 stat_ecn_marks;
	u64 stat_drops_aqm;
	u64 stat_retimed;
	u64 stat_reslotted;
	u64 stat_drops_horizon;
	u64 stat_horizon_caps;
	u64 stat_drops_overflow;
};

/*
 * What a queued packet carries in the qdisc's private cb, ns,
 * CLOCK_MONOTONIC.  time_to_send is a lower bound until the packet is its
 * flow's head (arrival, an EDT stamp, or in delay mode arrival + delay),
 * then its due time (see fs_head_due() in qdisc.c).
 */
struct fs_skb_cb {
	u64 time_to_send;
	u64 arrival;
};

static inline struct fs_skb_cb *fs_skb_cb(struct sk_buff *skb)
{
	qdisc_cb_private_validate(skb, sizeof(struct fs_skb_cb));
	return (struct fs_skb_cb *)qdisc_skb_cb(skb)->data;
}

/* flow.c */
int fs_flow_cache_init(void);
void fs_flow_cache_exit(void);
struct fs_flow *fs_flow_classify(struct fs_sched_data *q, struct sk_buff *skb,
				 u64 now);
void fs_flow_free_all(struct Qdisc *sch);
void fs_flow_purge_queued(struct fs_sched_data *q);
void fs_flow_forget_dests(struct fs_sched_data *q);
struct rb_root *fs_buckets_alloc(u32 n);
void fs_buckets_free(struct rb_root *b);
void fs_flow_rehash(struct fs_sched_data *q, struct rb_root *nb, u32 n);
void fs_flow_queue_purge(struct fs_flow *f);
void fs_flow_linger(struct fs_sched_data *q, u64 now);
bool fs_flow_set_dest(struct fs_sched_data *q, struct fs_flow *f,
		      const struct fs_dest *e);

/*
 * The idle list, in the order flows went idle, for the GC and for
 * uncounting active flows whose gap ran out (q->linger: every flow before
 * it is uncounted).  idle_node shares space with the scheduling links: it
 * is valid only while the flow is IDLE, and the overflow flows (never
 * freed) are never on the list.
 */
static inline void fs_idle_unlink(struct fs_sched_data *q, struct fs_flow *f)
{
	if (q->linger == f)
		q->linger = list_is_last(&f->idle_node, &q->idle_flows) ? NULL :
			    list_next_entry(f, idle_node);
	list_del(&f->idle_node);
}

static inline void fs_idle_append(struct fs_sched_data *q, struct fs_flow *f)
{
	list_add_tail(&f->idle_node, &q->idle_flows);
	if (!q->linger && f->counted)
		q->linger = f;
}

static inline bool fs_flow_is_overflow(const struct fs_sched_data *q,
				       const struct fs_flow *f)
{
	return f >= q->overflow && f < q->overflow + FS_OVERFLOW_FLOWS;
}

/* @f has nothing queued now: GC may take it. */
static inline void fs_flow_went_idle(struct fs_sched_data *q, struct fs_flow *f)
{
	if (!fs_flow_is_overflow(q, f))
		fs_idle_append(q, f);
}

/* An IDLE flow gets a packet queued: off the idle list. */
static inline void fs_flow_leave_idle(struct fs_sched_data *q, struct fs_flow *f)
{
	if (!fs_flow_is_overflow(q, f))
		fs_idle_unlink(q, f);
}

/* Active flows of an aggregate: see struct fs_agg. */
static inline void fs_flow_count(struct fs_flow *f)
{
	if (f->agg && !f->counted) {
		f->counted = 1;
		f->agg->active++;
	}
}

static inline void fs_flow_uncount(struct fs_flow *f)
{
	if (f->counted) {
		f->counted = 0;
		f->agg->active--;
	}
}

static inline void fs_flow_queue_add(struct fs_flow *f, struct sk_buff *skb)
{
	skb->next = NULL;
	if (f->head)
		f->tail->next = skb;
	else
		f->head = skb;
	f->tail = skb;
	f->qlen++;
}

static inline struct sk_buff *fs_flow_queue_pop(struct fs_flow *f)
{
	struct sk_buff *skb = f->head;

	if (skb) {
		f->head = skb->next;
		skb_mark_not_on_list(skb);
		f->qlen--;
	}
	return skb;
}

/* sched.c */
int fs_sched_init(struct fs_sched_data *q);
void fs_sched_destroy(struct fs_sched_data *q);
void fs_sched_reset(struct fs_sched_data *q);
void fs_ready_add(struct fs_sched_data *q, struct fs_flow *f);
void fs_throttle(struct fs_sched_data *q, struct fs_flow *f, u64 due, u64 now);
void fs_unthrottle(struct fs_sched_data *q, u64 now);

/* dest.c */
u64 fs_delay_compute(const struct fs_params *p, u32 congestion, u32 load);
const struct fs_dest *fs_dest_lookup(const struct fs_dest_table *t,
				     struct sk_buff *skb);
bool fs_dest_is_stale(const struct fs_dest *e, u64 stale_after, u64 now);
struct fs_dest_update;
int fs_dest_prepare(struct fs_sched_data *q, struct nlattr *dests, bool flush,
		    u32 max_dests, const struct nlattr *max_attr,
		    struct fs_dest_update **out, struct netlink_ext_ack *extack);
void fs_dest_commit(struct Qdisc *sch, struct fs_dest_update *u);
void fs_dest_init(struct fs_sched_data *q);
void fs_dest_update_free(struct fs_dest_update *u);
void fs_dest_recompute(struct fs_sched_data *q);
void fs_dest_table_free(struct fs_sched_data *q);
u32 fs_dest_count_stale(struct fs_sched_data *q, u64 now);

/* netlink.c */
extern const struct Qdisc_class_ops fs_class_ops;
void fs_params_default(struct fs_params *p);
int fs_change(struct Qdisc *sch, struct nlattr *opt,
	      struct netlink_ext_ack *extack);
int fs_dump(struct Qdisc *sch, struct sk_buff *skb);
int fs_dump_stats(struct Qdisc *sch, struct gnet_dump *d);

#endif /* _FLOWSHAPE_H */
