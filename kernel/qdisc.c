// SPDX-License-Identifier: GPL-2.0
/*
 * flowshape qdisc: per-flow delay queues driven by the congestion toward
 * each packet's destination and the load of the destination server.
 *
 * Enqueue gives every packet a departure time from its flow's delay (see
 * dest.c for the delay function) and the mode:
 *
 *	spread:	max(now, last departure + delay * len / quantum)
 *	delay:	max(now + delay, last departure)
 *
 * never earlier than an EDT stamp the stack put on it, and never earlier
 * than the flow's previous departure, so a flow is never reordered.  A
 * packet due now whose flow has nothing queued takes the internal FIFO:
 * under normal conditions flowshape costs a flow lookup over a FIFO.
 *
 * Control traffic (skb->priority TC_PRIO_CONTROL, or skb->mark matching
 * bypass_mark under bypass_mask) takes the internal FIFO at once, counted
 * in control_packets: it is never delayed.
 *
 * Accounting: every packet offered is queued (enqueued) or dropped with a
 * cause (drops_limit, drops_flow_limit); a queued packet may be dropped
 * at dequeue by the AQM (drops_aqm); enqueued = released + purged +
 * drops_aqm + qlen, all in skbs (a GSO packet is one; bstats counts its
 * segments).
 */

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/types.h>
#include <linux/skbuff.h>
#include <net/netlink.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>
#include <net/inet_ecn.h>
#include <linux/math.h>

#include "flowshape.h"

/* The delay this flow's next packet gets: its destination's, smoothed. */
static u64 fs_flow_delay(struct fs_sched_data *q, struct fs_flow *f,
			 struct sk_buff *skb, u64 now)
{
	const struct fs_dest_table *t = rcu_dereference_bh(q->dests);
	u32 gen = t ? t->gen : 0;
	u32 smoothing = q->p.smoothing;
	u64 target;

	/* A flow keeps its match until the table's structure changes;
	 * without memory for its aggregate it has none and tries again.
	 */
	if (unlikely(f->dest_gen != gen) &&
	    fs_flow_set_dest(q, f, fs_dest_lookup(t, skb)))
		f->dest_gen = gen;

	if (f->agg) {
		const struct fs_dest *e = f->agg->dest;

		target = READ_ONCE(e->delay_ns);
		/* Fail open: an entry nobody refreshes stops delaying. */
		if (fs_dest_is_stale(e, q->p.stale_after, now)) {
			q->stat_stale++;
			target = 0;
		}
	} else {
		target = q->default_delay;
	}

	/* (A flow that never sent has no departure yet: no history.) */
	if (smoothing && f->last_departure)
		target = div_u64(f->applied_delay * smoothing +
				 target * (FLOWSHAPE_LEVEL_ONE - smoothing),
				 FLOWSHAPE_LEVEL_ONE);
	f->applied_delay = target;
	return target;
}

static u64 fs_departure(struct fs_sched_data *q, struct fs_flow *f,
			struct sk_buff *skb, u64 delay, u64 now)
{
	u64 t, edt = ktime_to_ns(skb->tstamp);

	if (q->p.mode == FLOWSHAPE_MODE_DELAY) {
		t = now + delay;
	} else if (delay) {
		u64 gap = div_u64(delay * qdisc_pkt_len(skb), q->p.quantum);

		/* The destination's rate, quantum / delay, shared by its
		 * active flows (this one counted): each gets 1/n of it.
		 */
		if (f->agg && q->p.rate_scope == FLOWSHAPE_SCOPE_DEST) {
			fs_flow_count(f);
			gap *= f->agg->active;
		}
		f->gap_us = (u32)min_t(u64, div_u64(gap, NSEC_PER_USEC), U32_MAX);
		t = f->last_departure + gap;
	} else {
		t = now;
	}

	t = max3(t, now, f->last_departure);
	/* Honour a stack-given departure time in our clock. */
	if (edt > t && edt - now <= FS_EDT_HORIZON_NS)
		t = edt;
	return t;
}

/*
 * The queue a packet waits in beyond what the shaping intends: in delay
 * mode, beyond now + delay; in spread mode, beyond one gap (its own).
 * The pacing itself is never counted as queue: only the packets of its
 * own flow ahead of it make this non-zero.
 */
static u32 fs_excess_us(const struct fs_sched_data *q, const struct fs_flow *f,
			u64 delay, u64 now, u64 t)
{
	u64 intended = q->p.mode == FLOWSHAPE_MODE_DELAY ? delay :
		       (u64)f->gap_us * NSEC_PER_USEC;

	if (!q->p.aqm_target || t <= now + intended)
		return 0;
	return (u32)min_t(u64, div_u64(t - now - intended, NSEC_PER_USEC),
			  U32_MAX);
}

/* AQM times: ns >> 10 in 32 bits (wraps in ~73 min: compared as deltas). */
static u32 fs_aqm_time(u64 ns)
{
	return (u32)(ns >> 10) | 1;	/* never 0: 0 is "none" */
}

static bool fs_aqm_after(u32 a, u32 b)
{
	return (s32)(a - b) >= 0;
}

/*
 * CoDel's control law (RFC 8289) on a flow's excess queue: once the
 * excess of the packets leaving stayed above target for an interval,
 * signal one, then the next ones at interval / sqrt(count), until it
 * falls below target.  target is at least one of the flow's own gaps (a
 * flow paced at one packet per gap, with one more waiting, is not a
 * standing queue) and interval at least two targets.  True: drop @skb
 * (it was not ECT); an ECT packet is CE-marked instead and sent.
 */
static bool fs_aqm(struct fs_sched_data *q, struct fs_flow *f,
		   struct sk_buff *skb, u64 now)
{
	u64 target = max_t(u64, q->p.aqm_target,
			   (u64)f->gap_us * NSEC_PER_USEC);
	u64 interval = max(q->p.aqm_interval, 2 * target);
	u64 excess = (u64)fs_skb_cb(skb)->excess_us * NSEC_PER_USEC;
	u32 tnow = fs_aqm_time(now);
	bool above;

	if (!q->p.aqm_target || f == &q->overflow)
		return false;
	above = excess >= target && f->qlen;
	if (!above) {
		f->aqm_first_above = 0;
		f->aqm_count = 0;
		return false;
	}
	if (!f->aqm_first_above) {
		f->aqm_first_above = fs_aqm_time(now + interval);
		return false;
	}
	if (!fs_aqm_after(tnow, f->aqm_first_above))
		return false;
	if (f->aqm_count && !fs_aqm_after(tnow, f->aqm_next))
		return false;
	if (f->aqm_count < U16_MAX)
		f->aqm_count++;
	f->aqm_next = fs_aqm_time(now +
				  div_u64(interval << 8,
					  int_sqrt((unsigned long)f->aqm_count << 16)));
	if (INET_ECN_set_ce(skb)) {
		q->stat_ecn_marks++;
		return false;
	}
	q->stat_drops_aqm++;
	return true;
}

/*
 * Control traffic (routing protocols, health checks, the agent's probes)
 * is never shaped: like sch_fq's internal flow, it takes the internal
 * FIFO, served first.  It may pass packets of its own flow that wait.
 */
static bool fs_is_control(const struct fs_sched_data *q,
			  const struct sk_buff *skb)
{
	u32 mask = q->p.bypass_mask;

	return skb->priority == TC_PRIO_CONTROL ||
	       (mask && (skb->mark & mask) == q->p.bypass_mark);
}

static int flowshape_enqueue(struct sk_buff *skb, struct Qdisc *sch,
			     struct sk_buff **to_free)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	struct fs_skb_cb *cb;
	struct fs_flow *f;
	u64 now, delay, t;

	if (unlikely(sch->q.qlen >= q->p.limit)) {
		q->stat_drops_limit++;
		return qdisc_drop(skb, sch, to_free);
	}

	now = ktime_get_ns();
	if (unlikely(fs_is_control(q, skb))) {
		cb = fs_skb_cb(skb);
		cb->time_to_send = now;
		cb->delayed = 0;
		cb->excess_us = 0;
		q->stat_control++;
		q->stat_passed++;
		q->stat_enqueued++;
		qdisc_qstats_backlog_inc(sch, skb);
		sch->q.qlen++;
		fs_flow_queue_add(&q->internal, skb);
		return NET_XMIT_SUCCESS;
	}

	f = fs_flow_classify(q, skb, now);
	fs_flow_linger(q, now);
	/* The overflow flow aggregates many flows: only limit bounds it. */
	if (unlikely(f->qlen >= q->p.flow_limit && f != &q->overflow)) {
		q->stat_drops_flow_limit++;
		return qdisc_drop(skb, sch, to_free);
	}

	delay = fs_flow_delay(q, f, skb, now);
	t = fs_departure(q, f, skb, delay, now);
	f->last_departure = t;

	cb = fs_skb_cb(skb);
	cb->time_to_send = t;
	cb->delayed = t > now;
	cb->excess_us = fs_excess_us(q, f, delay, now, t);
	q->stat_enqueued++;
	qdisc_qstats_backlog_inc(sch, skb);
	sch->q.qlen++;

	if (!cb->delayed) {
		q->stat_passed++;
		/* Due now and nothing of its flow waits: FIFO order is flow
		 * order, and the internal queue is served first.
		 */
		if (!f->qlen) {
			fs_flow_queue_add(&q->internal, skb);
			fs_flow_touch_idle(q, f);
			return NET_XMIT_SUCCESS;
		}
	} else {
		q->stat_delayed++;
		q->stat_delay_total += t - now;
	}

	fs_flow_queue_add(f, skb);
	if (f->state == FS_FLOW_IDLE) {
		fs_flow_leave_idle(q, f);
		if (t <= now) {
			f->credit = q->p.quantum;
			fs_ready_add(q, f);
		} else {
			fs_throttle(q, f, t, now);
		}
	}
	return NET_XMIT_SUCCESS;
}

static void fs_account_release(struct fs_sched_data *q, struct sk_buff *skb,
			       u64 now)
{
	const struct fs_skb_cb *cb = fs_skb_cb(skb);
	u64 late;

	if (!cb->delayed)
		return;
	if (unlikely(now < cb->time_to_send)) {
		q->stat_early++;
		return;
	}
	late = now - cb->time_to_send;
	q->stat_late_packets++;
	q->stat_lateness_total += late;
	if (late > q->stat_lateness_max)
		q->stat_lateness_max = late;
}

static struct sk_buff *flowshape_dequeue(struct Qdisc *sch)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	struct sk_buff *skb;
	struct fs_flow *f;
	bool drop;
	u64 now;

	if (!sch->q.qlen)
		return NULL;

	skb = fs_flow_queue_pop(&q->internal);
	if (skb)
		goto out;

	now = ktime_get_ns();
	fs_unthrottle(q, now);
	while ((f = q->ready_head) != NULL) {
		if (f->credit <= 0) {
			/* Used its quantum: to the back of the line. */
			f->credit += q->p.quantum;
			q->ready_head = f->next;
			fs_ready_add(q, f);
			continue;
		}
		skb = f->head;
		if (fs_skb_cb(skb)->time_to_send > now) {
			q->ready_head = f->next;
			fs_throttle(q, f, fs_skb_cb(skb)->time_to_send, now);
			continue;
		}
		fs_flow_queue_pop(f);
		f->credit -= qdisc_pkt_len(skb);
		drop = fs_aqm(q, f, skb, now);
		if (!f->qlen) {
			q->ready_head = f->next;
			f->state = FS_FLOW_IDLE;
			f->tail = NULL;
			fs_flow_went_idle(q, f);
		}
		fs_account_release(q, skb, now);
		if (unlikely(drop)) {
			unsigned int len = qdisc_pkt_len(skb);

			qdisc_qstats_backlog_dec(sch, skb);
			sch->q.qlen--;
			qdisc_qstats_drop(sch);
			kfree_skb(skb);
			/* Parents counted it: tell them. */
			qdisc_tree_reduce_backlog(sch, 1, len);
			continue;
		}
		goto out;
	}

	if (q->throttled_flows) {
		qdisc_watchdog_schedule_range_ns(&q->watchdog,
						 q->time_next_throttled,
						 q->p.timer_slack);
		q->stat_watchdog++;
	}
	return NULL;

out:
	q->stat_released++;
	qdisc_qstats_backlog_dec(sch, skb);
	sch->q.qlen--;
	qdisc_bstats_update(sch, skb);
	return skb;
}

static struct sk_buff *flowshape_peek(struct Qdisc *sch)
{
	/* The release order is decided at dequeue: let the core keep
	 * what dequeue hands back (qdisc_peek_dequeued).
	 */
	return qdisc_peek_dequeued(sch);
}

static void fs_reset_all(struct Qdisc *sch)
{
	struct fs_sched_data *q = qdisc_priv(sch);

	/* The core zeroes qlen and backlog after ->reset(). */
	q->stat_purged += sch->q.qlen;
	fs_sched_reset(q);
	fs_flow_free_all(sch);
	q->internal.state = FS_FLOW_IDLE;
	q->overflow.state = FS_FLOW_IDLE;
	q->overflow.last_departure = 0;
}

static void flowshape_reset(struct Qdisc *sch)
{
	struct fs_sched_data *q = qdisc_priv(sch);

	fs_reset_all(sch);
	qdisc_watchdog_cancel(&q->watchdog);
	sch->q.qlen = 0;
	sch->qstats.backlog = 0;
}

static int flowshape_init(struct Qdisc *sch, struct nlattr *opt,
			  struct netlink_ext_ack *extack)
{
	struct fs_sched_data *q = qdisc_priv(sch);

	qdisc_watchdog_init_clockid(&q->watchdog, sch, CLOCK_MONOTONIC);
	fs_params_default(&q->p);
	sch->limit = q->p.limit;
	q->overflow.dest_gen = ~0U;
	q->aggs = RB_ROOT;
	INIT_LIST_HEAD(&q->idle_flows);

	if (fs_sched_init(q))
		return -ENOMEM;
	q->buckets = fs_buckets_alloc(q->p.buckets);
	if (!q->buckets)
		return -ENOMEM;
	q->bucket_mask = q->p.buckets - 1;

	return fs_change(sch, opt, extack);
}

static void flowshape_destroy(struct Qdisc *sch)
{
	struct fs_sched_data *q = qdisc_priv(sch);

	qdisc_watchdog_cancel(&q->watchdog);
	fs_reset_all(sch);
	fs_buckets_free(q->buckets);
	q->buckets = NULL;
	fs_sched_destroy(q);
	fs_dest_table_free(q);
}

static struct Qdisc_ops flowshape_qdisc_ops __read_mostly = {
	.cl_ops		= &fs_class_ops,
	.id		= "flowshape",
	.priv_size	= sizeof(struct fs_sched_data),
	.enqueue	= flowshape_enqueue,
	.dequeue	= flowshape_dequeue,
	.peek		= flowshape_peek,
	.init		= flowshape_init,
	.reset		= flowshape_reset,
	.destroy	= flowshape_destroy,
	.change		= fs_change,
	.dump		= fs_dump,
	.dump_stats	= fs_dump_stats,
	.owner		= THIS_MODULE,
};

static int __init flowshape_module_init(void)
{
	int err;

#ifdef FLOWSHAPE_DEBUG
	pr_info("flowshape: debug build, fault injection parameters enabled\n");
#endif
	err = fs_flow_cache_init();
	if (err)
		return err;
	err = register_qdisc(&flowshape_qdisc_ops);
	if (err)
		fs_flow_cache_exit();
	return err;
}

static void __exit flowshape_module_exit(void)
{
	unregister_qdisc(&flowshape_qdisc_ops);
	/* Destination tables are freed after a grace period. */
	rcu_barrier();
	fs_flow_cache_exit();
}

module_init(flowshape_module_init);
module_exit(flowshape_module_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("flowshape: per-flow delay shaping by destination congestion and load");
#ifdef MODULE_ALIAS_NET_SCH
/* Since 6.11 qdisc modules are requested by their "net-sch-" alias. */
MODULE_ALIAS_NET_SCH("flowshape");
#endif
