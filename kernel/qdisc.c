// SPDX-License-Identifier: GPL-2.0
/*
 * flowshape qdisc: per-flow delay queues driven by the congestion toward
 * each packet's destination and the load of the destination server.
 *
 * Every packet waits in its flow's FIFO; a flow's head gets a due time
 * (fs_head_due()) from its flow's delay and the mode:
 *
 *	spread:	max(arrival, last release + delay * len / quantum), or with
 *		rate_scope destination, the next slot of the destination's
 *		clock (its flows together at quantum / delay)
 *	delay:	max(arrival + delay, the previous packet's), at enqueue
 *
 * never earlier than an EDT stamp the stack put on it, and in spread mode
 * computed when the packet becomes the head, so that the delay and flow
 * count of that moment apply.  A flow whose head is due is on the ready
 * list (round robin, byte-fair), otherwise in the timing wheel (sched.c).
 *
 * Control traffic (skb->priority TC_PRIO_CONTROL, or skb->mark matching
 * bypass_mark under bypass_mask) takes the internal FIFO at once, counted
 * in control_packets: it is never delayed.
 *
 * Accounting: every packet offered is queued (enqueued) or dropped with a
 * cause (drops_limit, drops_flow_limit, drops_overflow, drops_horizon); a
 * queued packet may be dropped at dequeue by the AQM (drops_aqm);
 * enqueued = released + purged + drops_aqm + qlen, all in skbs (a GSO
 * packet is one; bstats counts its segments).
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
#include <linux/version.h>
#include <net/sock.h>

#include "flowshape.h"

/*
 * A flow's head is looked at again at least this often while it waits,
 * so that a delay that falls (an entry going stale, deleted or lowered, a
 * lower max_delay) re-times it within this bound, however far out it was.
 * A quarter of a second leaves most of the second the documentation
 * promises for draining what was held; the cost is one extra wake-up per
 * waiting flow every 250 ms, only for heads due further out than that.
 */
#define FS_RECHECK_NS	(NSEC_PER_SEC / 4)

/* The delay entry @e (NULL: none) yields now; 0 when stale (*stale set). */
static u64 fs_entry_delay(struct fs_sched_data *q, const struct fs_dest *e,
			  u64 now, bool *stale)
{
	*stale = false;
	if (!e)
		return q->default_delay;
	/* Fail open: an entry nobody refreshes stops delaying. */
	if (fs_dest_is_stale(e, q->p.stale_after, now)) {
		q->stat_stale++;
		*stale = true;
		return 0;
	}
	return READ_ONCE(e->delay_ns);
}

/*
 * The delay toward @f's destination now, unsmoothed: its entry's, 0 when
 * the entry went stale (*stale set), the default without an entry.
 */
static u64 fs_flow_target(struct fs_sched_data *q, struct fs_flow *f,
			  struct sk_buff *skb, u64 now, bool *stale)
{
	const struct fs_dest_table *t = rcu_dereference_bh(q->dests);
	u32 gen = t ? t->gen : 0;

	/* An overflow flow carries many flows, to any destinations: each
	 * packet is matched on its own (one lookup per packet, no
	 * aggregate: overflow traffic is paced per overflow flow, as with
	 * rate_scope flow).
	 */
	if (unlikely(fs_flow_is_overflow(q, f)))
		return fs_entry_delay(q, fs_dest_lookup(t, skb), now, stale);

	/* A flow keeps its match until the table's structure changes;
	 * without memory for its aggregate it has none and tries again.
	 */
	if (unlikely(f->dest_gen != gen) &&
	    fs_flow_set_dest(q, f, fs_dest_lookup(t, skb)))
		f->dest_gen = gen;

	return fs_entry_delay(q, f->agg ? f->agg->dest : NULL, now, stale);
}

/* The delay this flow's next packet gets: its destination's, smoothed. */
static u64 fs_flow_delay(struct fs_sched_data *q, struct fs_flow *f,
			 struct sk_buff *skb, u64 now)
{
	u32 smoothing = q->p.smoothing;
	bool stale;
	u64 target = fs_flow_target(q, f, skb, now, &stale);

	/* (A flow that never sent has no history; a stale entry fails
	 * open at once, not at the smoothing's pace; an overflow flow's
	 * packets go to different destinations.)
	 */
	if (smoothing && f->last_departure && !stale &&
	    !fs_flow_is_overflow(q, f))
		target = div_u64(f->applied_delay * smoothing +
				 target * (FLOWSHAPE_LEVEL_ONE - smoothing),
				 FLOWSHAPE_LEVEL_ONE);
	f->applied_delay = target;
	return target;
}

/*
 * A departure time the stack put on @skb (EDT: TCP pacing, SO_TXTIME) in
 * our clock, or 0.  A receive timestamp is not one: on kernels that tell
 * (5.18+), a stamp counts only if it is a monotonic delivery time or
 * comes from a socket that asked for SO_TXTIME.
 */
static u64 fs_skb_edt(const struct sk_buff *skb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	if (skb->tstamp_type != SKB_CLOCK_MONOTONIC &&
	    !(skb->sk && sk_fullsock(skb->sk) &&
	      sock_flag(skb->sk, SOCK_TXTIME)))
		return 0;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 18, 0)
	if (!skb->mono_delivery_time &&
	    !(skb->sk && sk_fullsock(skb->sk) &&
	      sock_flag(skb->sk, SOCK_TXTIME)))
		return 0;
#endif
	return ktime_to_ns(skb->tstamp);
}

/*
 * The next slot of @a's clock for a packet whose aggregate gap is @agap:
 * the clock forgives at most half a slot of idle time; the slot is taken.
 */
static u64 fs_agg_take_slot(struct fs_agg *a, u64 agap, u64 now)
{
	u64 clock = max(a->next_free, now - min(now, agap / 2));

	a->next_free = clock + agap;
	return clock;
}

/*
 * When @f's head may leave: the heart of the shaping.
 *
 *	spread:	max(arrival, EDT, last release + gap)
 *		gap = delay * len / quantum (* n: rate_scope destination)
 *	delay:	max(arrival + delay, EDT, the previous packet's), given at
 *		enqueue; re-timed to max(arrival + delay now, EDT, now) when
 *		the delay fell since.
 *
 * In spread mode the gap is computed when the packet becomes its flow's
 * head, from the delay and the destination's active flow count of that
 * moment, and counted from the previous packet's real release: a change
 * of delay or of flow count takes effect at the next packet (not after a
 * backlog scheduled at the old rate), and a release made late (a late
 * timer, a busy CPU) delays the next one instead of bunching them.  Only
 * half a gap of lateness is forgiven (as sch_fq does), so short timer
 * drift costs no rate and a long stall is not caught up in a burst.
 * Cost: one division and the delay lookup per packet, as at enqueue
 * before.
 */
static u64 fs_head_due(struct fs_sched_data *q, struct fs_flow *f, u64 now)
{
	struct sk_buff *skb = f->head;
	struct fs_skb_cb *cb = fs_skb_cb(skb);
	u64 t, edt = fs_skb_edt(skb);

	if (q->p.mode == FLOWSHAPE_MODE_DELAY) {
		bool stale;
		u64 ceil = cb->arrival + fs_flow_target(q, f, skb, now, &stale);

		ceil = max3(ceil, edt, now);
		t = cb->time_to_send;
		if (unlikely(t > ceil)) {
			q->stat_retimed++;
			t = ceil;
		}
	} else {
		u64 delay = fs_flow_delay(q, f, skb, now), gap = 0, agap = 0;
		struct fs_agg *a = NULL;

		if (delay) {
			agap = div_u64(delay * qdisc_pkt_len(skb), q->p.quantum);
			gap = agap;
			/* The destination's rate, quantum / delay, shared by
			 * its active flows (this one counted): 1/n each.
			 */
			if (f->agg && q->p.rate_scope == FLOWSHAPE_SCOPE_DEST) {
				a = f->agg;
				fs_flow_count(f);
				gap *= a->active;
			}
			/* A computed departure is ours: capped, never a
			 * reason to drop.
			 */
			if (unlikely(gap > q->p.horizon)) {
				q->stat_horizon_caps++;
				gap = q->p.horizon;
			}
		}
		f->gap_ns = (u32)min_t(u64, gap, U32_MAX);
		t = max3(f->last_departure + gap, cb->arrival, edt);
		if (a) {
			/*
			 * The destination's clock paces its flows together:
			 * every packet takes the next slot of the aggregate
			 * (its gap at the destination's rate), in the order
			 * heads get their due times, which is round robin
			 * among the backlogged flows (each holds one slot,
			 * its head's) and byte-fair (a slot is as long as
			 * the packet).  So n flows never meet in a burst
			 * (independent per-flow pacers at 1/n each do, with
			 * random phases: up to n packets at once, a queue of
			 * n - 1 at a bottleneck run just below this rate),
			 * and a flow with nothing to send holds no share.
			 * A sparse flow, one its own fair share (the gap
			 * above, n times the aggregate's) does not hold and
			 * with nothing queued behind, is not held: it only
			 * uses up its slot.  After a stall the clock forgives
			 * half a slot, as a flow does.
			 */
			u64 clock = fs_agg_take_slot(a, agap, now);

			f->paced = t > now || f->qlen > 1;
			if (f->paced)
				t = max3(clock, cb->arrival, edt);
		} else {
			f->paced = 0;
		}
		if (unlikely(t < cb->time_to_send))
			q->stat_retimed++;
	}
	cb->time_to_send = t;
	return t;
}

/*
 * Throttle @f, whose head is due at @due, until it is due or, when the
 * shaping (not an EDT stamp, which a falling delay does not move) puts it
 * further out than FS_RECHECK_NS, until it is time to look again.
 */
static void fs_flow_wait(struct fs_sched_data *q, struct fs_flow *f, u64 due,
			 u64 now)
{
	u64 wake = max(min(due, now + FS_RECHECK_NS), fs_skb_edt(f->head));

	fs_throttle(q, f, wake, now);
}

/*
 * A release later than this (and than a slot) is a stall of the machine,
 * not timer drift: see fs_reslot().
 */
#define FS_STALL_NS	NSEC_PER_MSEC

/*
 * @f's head, paced by its destination's clock, is due at @due but only
 * now released, later than one slot: so may be the heads of the other
 * flows of the destination, all due in the past now, and sending them
 * together would be the burst the clock exists to prevent.  Take a new
 * slot from the clock (which forgives half a slot): its time if it is
 * still to come (@f must wait for it), 0 if @f may go now.
 */
static u64 fs_reslot(struct fs_sched_data *q, struct fs_flow *f,
		     struct sk_buff *skb, u64 due, u64 now)
{
	u64 agap = div_u64(f->applied_delay * qdisc_pkt_len(skb),
			   q->p.quantum);
	struct fs_agg *a = f->agg;
	u64 clock;

	if (!a || now - due <= agap)
		return 0;
	clock = fs_agg_take_slot(a, agap, now);
	if (clock <= now)
		return 0;
	q->stat_reslotted++;
	fs_skb_cb(skb)->time_to_send = clock;
	return clock;
}

/* Put @f, with a head, where it waits: the ready list or the wheel. */
static void fs_flow_schedule(struct fs_sched_data *q, struct fs_flow *f,
			     u64 now)
{
	u64 due = fs_head_due(q, f, now);

	if (due <= now)
		fs_ready_add(q, f);
	else
		fs_flow_wait(q, f, due, now);
}

/*
 * @f's head was woken before its due time to look again (FS_RECHECK_NS)
 * because the delay may have fallen since.  In delay mode its due time is
 * recomputed: fs_head_due() clamps it to arrival + the delay now.  In
 * spread mode the head holds a slot of its destination's clock already;
 * taking another at every look advanced the clock once per look, and a
 * destination whose flows wait longer than FS_RECHECK_NS between packets
 * (64 flows sharing 151 packets/s: 420 ms) slowed down at every look
 * until it stalled.  So it keeps its slot, unless the delay fell to 0
 * (the entry went stale or was deleted, the shaping stopped): then it
 * goes as soon as its arrival and EDT allow, unpaced.
 */
static void fs_flow_recheck(struct fs_sched_data *q, struct fs_flow *f,
			    u64 now)
{
	struct sk_buff *skb = f->head;
	struct fs_skb_cb *cb = fs_skb_cb(skb);
	u64 due;

	if (q->p.mode == FLOWSHAPE_MODE_DELAY) {
		fs_flow_schedule(q, f, now);
		return;
	}
	due = cb->time_to_send;
	if (!fs_flow_delay(q, f, skb, now)) {
		due = max(cb->arrival, fs_skb_edt(skb));
		cb->time_to_send = due;
		f->gap_ns = 0;
		f->paced = 0;
		q->stat_retimed++;
	}
	if (due <= now)
		fs_ready_add(q, f);
	else
		fs_flow_wait(q, f, due, now);
}

/*
 * The queue @skb waited in beyond what the shaping intends: in delay
 * mode, beyond arrival + delay; in spread mode, beyond one gap (its own).
 * The pacing itself is never counted as queue: only the packets of its
 * own flow ahead of it make this non-zero.
 */
static u64 fs_excess(const struct fs_sched_data *q, const struct fs_flow *f,
		     struct sk_buff *skb, u64 now)
{
	u64 sojourn = now - fs_skb_cb(skb)->arrival;
	u64 intended = q->p.mode == FLOWSHAPE_MODE_DELAY ? f->applied_delay :
		       f->gap_ns;

	return sojourn > intended ? sojourn - intended : 0;
}

/* The AQM leaves a flow with fewer packets than this queued alone. */
#define FS_AQM_MIN_QLEN	3

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
	u64 target = max_t(u64, q->p.aqm_target, (u64)f->gap_ns);
	u64 interval = max(q->p.aqm_interval, 2 * target);
	u32 tnow = fs_aqm_time(now);
	u64 excess;
	bool above;

	if (!q->p.aqm_target || fs_flow_is_overflow(q, f))
		return false;
	excess = fs_excess(q, f, skb, now);
	/* Never below FS_AQM_MIN_QLEN packets left queued (CoDel's
	 * "backlog <= one MTU" rule, per flow): a TCP window too small
	 * for three duplicate ACKs recovers by timeout, not in a round.
	 */
	above = excess >= target && f->qlen >= FS_AQM_MIN_QLEN;
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
	u64 now, edt, t;

	if (unlikely(sch->q.qlen >= q->p.limit)) {
		q->stat_drops_limit++;
		return qdisc_drop(skb, sch, to_free);
	}

	now = ktime_get_ns();
	cb = fs_skb_cb(skb);
	cb->arrival = now;
	if (unlikely(fs_is_control(q, skb))) {
		cb->time_to_send = now;
		q->stat_control++;
		q->stat_enqueued++;
		qdisc_qstats_backlog_inc(sch, skb);
		sch->q.qlen++;
		fs_flow_queue_add(&q->internal, skb);
		return NET_XMIT_SUCCESS;
	}

	/* A departure stamp beyond the horizon is dropped or capped, as
	 * sch_fq does: a clock mixup must not park a packet for hours.
	 */
	edt = fs_skb_edt(skb);
	if (unlikely(edt > now + q->p.horizon)) {
		if (q->p.horizon_drop) {
			q->stat_drops_horizon++;
			return qdisc_drop(skb, sch, to_free);
		}
		q->stat_horizon_caps++;
		edt = now + q->p.horizon;
		skb->tstamp = ns_to_ktime(edt);
	}

	f = fs_flow_classify(q, skb, now);
	fs_flow_linger(q, now);
	if (unlikely(fs_flow_is_overflow(q, f))) {
		/* The overflow flows carry many flows: not flow_limit but
		 * overflow_limit bounds them, together, so that a flood of
		 * new flows never takes the room of the flows tracked.
		 */
		if (q->overflow_qlen >= q->p.overflow_limit) {
			q->stat_drops_overflow++;
			return qdisc_drop(skb, sch, to_free);
		}
		q->overflow_qlen++;
		q->stat_overflow++;
	} else if (unlikely(f->qlen >= q->p.flow_limit)) {
		q->stat_drops_flow_limit++;
		return qdisc_drop(skb, sch, to_free);
	}

	/* A lower bound on the departure; the due time comes when the
	 * packet is its flow's head (fs_head_due()).
	 */
	t = max(now, edt);
	if (q->p.mode == FLOWSHAPE_MODE_DELAY) {
		u64 delay = fs_flow_delay(q, f, skb, now);

		if (unlikely(delay > q->p.horizon)) {
			q->stat_horizon_caps++;
			delay = q->p.horizon;
		}
		t = max(t, now + delay);
		/* Never before its flow's previous packet. */
		if (f->qlen)
			t = max(t, fs_skb_cb(f->tail)->time_to_send);
	}
	cb->time_to_send = t;
	q->stat_enqueued++;
	qdisc_qstats_backlog_inc(sch, skb);
	sch->q.qlen++;

	fs_flow_queue_add(f, skb);
	if (f->state == FS_FLOW_IDLE) {
		fs_flow_leave_idle(q, f);
		/* Back from idle with a full quantum: a flow is not
		 * penalised now for a large packet it sent before.
		 */
		if (f->credit < (int)q->p.quantum)
			f->credit = q->p.quantum;
		fs_flow_schedule(q, f, now);
	}
	return NET_XMIT_SUCCESS;
}

/* Counters of a packet leaving: see flowshape.rst. */
static void fs_account_release(struct fs_sched_data *q, struct sk_buff *skb,
			       u64 now)
{
	const struct fs_skb_cb *cb = fs_skb_cb(skb);
	u64 late;

	if (cb->time_to_send <= cb->arrival) {
		q->stat_passed++;
		return;
	}
	q->stat_delayed++;
	q->stat_delay_total += cb->time_to_send - cb->arrival;
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

/* The AQM dropped @skb at dequeue: it leaves the qdisc, counted. */
static void fs_aqm_drop(struct Qdisc *sch, struct sk_buff *skb)
{
	unsigned int len = qdisc_pkt_len(skb);

	qdisc_qstats_backlog_dec(sch, skb);
	sch->q.qlen--;
	qdisc_qstats_drop(sch);
	kfree_skb(skb);
	/* Parents counted it: tell them. */
	qdisc_tree_reduce_backlog(sch, 1, len);
}

/*
 * Arm the watchdog for @expires, counting in watchdog_armed only the
 * calls that do (re)program the timer: qdisc_watchdog_schedule_range_ns()
 * ignores one while the device is deactivated and one whose timer is
 * queued to fire within [expires, expires + slack] already (every
 * dequeue that finds nothing due asks again for the same time).  The
 * same conditions, read under the same lock, decide it here.
 */
static void fs_watchdog_arm(struct Qdisc *sch, struct fs_sched_data *q,
			    u64 expires)
{
	struct qdisc_watchdog *wd = &q->watchdog;
	u64 slack = q->p.timer_slack;
	bool deactivated;

	rcu_read_lock();
	deactivated = test_bit(__QDISC_STATE_DEACTIVATED,
			       &qdisc_root_sleeping(sch)->state);
	rcu_read_unlock();
	if (deactivated)
		return;
	if (hrtimer_is_queued(&wd->timer) && wd->last_expires - expires <= slack)
		return;
	qdisc_watchdog_schedule_range_ns(wd, expires, slack);
	q->stat_watchdog++;
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

	now = ktime_get_ns();
	skb = fs_flow_queue_pop(&q->internal);
	if (skb) {
		fs_account_release(q, skb, now);
		goto out;
	}

	fs_unthrottle(q, now);
	while ((f = q->ready_head) != NULL) {
		u64 due, late;

		if (f->credit <= 0) {
			/* Used its quantum: to the back of the line. */
			f->credit += q->p.quantum;
			q->ready_head = f->next;
			fs_ready_add(q, f);
			continue;
		}
		skb = f->head;
		due = fs_skb_cb(skb)->time_to_send;
		if (due > now) {
			/* Woken early to look again (FS_RECHECK_NS). */
			q->ready_head = f->next;
			fs_flow_recheck(q, f, now);
			continue;
		}
		if (unlikely(f->paced && now - due > FS_STALL_NS)) {
			u64 slot = fs_reslot(q, f, skb, due, now);

			if (slot) {
				q->ready_head = f->next;
				fs_flow_wait(q, f, slot, now);
				continue;
			}
		}
		fs_flow_queue_pop(f);
		if (unlikely(fs_flow_is_overflow(q, f)))
			q->overflow_qlen--;
		drop = fs_aqm(q, f, skb, now);
		if (unlikely(drop) && f->qlen &&
		    q->p.mode == FLOWSHAPE_MODE_SPREAD) {
			/*
			 * A dropped packet does not use its departure: the
			 * flow's next packet takes it (its gap and the slot
			 * of the destination's clock), else every drop would
			 * idle the destination for a slot: 16 TCP streams
			 * through a destination paced at 0.95x a bottleneck
			 * got 0.84x fq_codel's goodput, 0.89-0.95x with this
			 * (selftests/static-proof.sh; 0.95x is the cap).  Its
			 * quantum is not spent either.
			 */
			struct sk_buff *next = f->head;

			fs_skb_cb(next)->time_to_send = max(due,
							    fs_skb_edt(next));
			if (fs_skb_edt(next) > now) {
				q->ready_head = f->next;
				fs_flow_wait(q, f, fs_skb_edt(next), now);
			}
			fs_aqm_drop(sch, skb);
			continue;
		}
		f->credit -= qdisc_pkt_len(skb);
		late = now - due;
		f->last_departure = q->p.mode == FLOWSHAPE_MODE_DELAY ? now :
				    now - min_t(u64, late, f->gap_ns / 2);
		if (!f->qlen) {
			q->ready_head = f->next;
			f->state = FS_FLOW_IDLE;
			f->tail = NULL;
			fs_flow_went_idle(q, f);
		} else {
			due = fs_head_due(q, f, now);
			if (due > now) {
				q->ready_head = f->next;
				fs_flow_wait(q, f, due, now);
			}
		}
		if (unlikely(drop)) {
			fs_aqm_drop(sch, skb);
			continue;
		}
		fs_account_release(q, skb, now);
		goto out;
	}

	if (q->throttled_flows)
		fs_watchdog_arm(sch, q, q->time_next_throttled);
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

/*
 * Packets the core holds for @sch after our dequeue handed them out: the
 * one a parent peeked (qdisc_peek_dequeued() keeps it in gso_skb) or a
 * busy driver requeued.  Counted released already, and in sch->q.qlen
 * again by the core.
 */
static u32 fs_core_held(const struct Qdisc *sch)
{
	return skb_queue_len(&sch->gso_skb) + skb_queue_len(&sch->skb_bad_txq);
}

/*
 * Free what is queued, keep the flows (see fs_flow_purge_queued()).  The
 * packets the core holds (fs_core_held()) are freed by it right after:
 * not sent after all, they move from released to purged, so that
 * enqueued = released + purged + drops_aqm + qlen holds under a parent.
 */
static void flowshape_reset(struct Qdisc *sch)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	u32 held = fs_core_held(sch);

	q->stat_purged += sch->q.qlen;
	q->stat_released -= held;
	fs_flow_purge_queued(q);
	fs_sched_reset(q);
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
	q->aggs = RB_ROOT;
	fs_dest_init(q);
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
	fs_sched_reset(q);
	fs_flow_free_all(sch);
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
