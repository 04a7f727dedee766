/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * flowshape: per-flow delay qdisc driven by destination congestion and
 * server load.
 *
 * This header is the one contract between the kernel module, the tc plugin
 * (q_flowshape.so) and flowshape-agent.  Every value that crosses it carries
 * its unit in the comment beside it:
 *
 *   times       u64 nanoseconds
 *   levels      u32 parts per million of "full" (0..FLOWSHAPE_LEVEL_ONE):
 *               congestion, load, thresholds, smoothing
 *   sizes       u32 bytes
 *   counts      u32 packets / entries
 *
 * Attributes and xstats fields are only ever appended: readers must accept
 * a shorter or longer struct than they know and use the common prefix.
 */
#ifndef _UAPI_LINUX_FLOWSHAPE_H
#define _UAPI_LINUX_FLOWSHAPE_H

#include <linux/types.h>

/* A level of 1.0: full congestion, full load. */
#define FLOWSHAPE_LEVEL_ONE	1000000U

enum flowshape_mode {
	/* Re-serialize the flow: a packet leaves no earlier than the flow's
	 * previous departure + delay * len / quantum.
	 */
	FLOWSHAPE_MODE_SPREAD,
	/* Added latency: a packet leaves no earlier than arrival + delay. */
	FLOWSHAPE_MODE_DELAY,
	__FLOWSHAPE_MODE_MAX
};

/* What a destination entry's delay paces in spread mode. */
enum flowshape_rate_scope {
	/* Each flow: a gap of delay per quantum per flow; N flows to the
	 * destination get N quanta per delay together.
	 */
	FLOWSHAPE_SCOPE_FLOW,
	/* The destination's aggregate: one quantum per delay in all, shared
	 * equally by its flows with packets queued.
	 */
	FLOWSHAPE_SCOPE_DEST,
	__FLOWSHAPE_SCOPE_MAX
};

/* TCA_OPTIONS of qdisc kind "flowshape" */
enum {
	TCA_FLOWSHAPE_UNSPEC,
	TCA_FLOWSHAPE_LIMIT,		/* u32: packets queued in all, 1..1000000 */
	TCA_FLOWSHAPE_FLOW_LIMIT,	/* u32: packets queued per flow, 1..1000000 */
	TCA_FLOWSHAPE_BUCKETS,		/* u32: flow hash buckets, power of 2, 1..2^20 */
	TCA_FLOWSHAPE_MAX_FLOWS,	/* u32: flows tracked at most, 1..2^24 */
	TCA_FLOWSHAPE_FLOW_IDLE,	/* u64 ns: idle flow GC age, 1 ms..3600 s */
	TCA_FLOWSHAPE_CONGESTION_WEIGHT,/* u64 ns: delay at congestion 1.0, 0..10 s */
	TCA_FLOWSHAPE_LOAD_WEIGHT,	/* u64 ns: delay at load 1.0, 0..10 s */
	TCA_FLOWSHAPE_CONGESTION_THRESHOLD, /* u32 ppm: no delay at or below */
	TCA_FLOWSHAPE_LOAD_THRESHOLD,	/* u32 ppm: no delay at or below */
	TCA_FLOWSHAPE_MAX_DELAY,	/* u64 ns: cap on the delay, 0..10 s */
	TCA_FLOWSHAPE_SMOOTHING,	/* u32 ppm: EWMA weight of a flow's history,
					 * 0 (none)..990000
					 */
	TCA_FLOWSHAPE_MODE,		/* u8: enum flowshape_mode */
	TCA_FLOWSHAPE_QUANTUM,		/* u32 bytes: DRR quantum and spread unit,
					 * 256..1048576
					 */
	TCA_FLOWSHAPE_TIMER_SLACK,	/* u64 ns: watchdog slack, 0..10 ms */
	TCA_FLOWSHAPE_STALE_AFTER,	/* u64 ns: destination entry expiry,
					 * 1 ms..10 s
					 */
	TCA_FLOWSHAPE_DEFAULT_CONGESTION, /* u32 ppm: level without an entry */
	TCA_FLOWSHAPE_DEFAULT_LOAD,	/* u32 ppm: level without an entry */
	TCA_FLOWSHAPE_DESTS,		/* nest of TCA_FLOWSHAPE_DEST: updates,
					 * applied all-or-nothing, at creation
					 * (the initial table) or by a change;
					 * at most MAX_DESTS before + MAX_DESTS
					 * after of them (E2BIG)
					 */
	TCA_FLOWSHAPE_DEST_FLUSH,	/* flag: empty the destination table
					 * before applying TCA_FLOWSHAPE_DESTS
					 */
	TCA_FLOWSHAPE_MAX_DESTS,	/* u32: destination entries at most,
					 * 1..65535
					 */
	TCA_FLOWSHAPE_PAD,
	/* Appended: an older module refuses each of these ("Unknown
	 * attribute type": TCA_OPTIONS is parsed strictly), and its dump
	 * lacks them.
	 */
	TCA_FLOWSHAPE_BYPASS_MARK,	/* u32: skb->mark value that bypasses
					 * shaping, under BYPASS_MASK
					 */
	TCA_FLOWSHAPE_BYPASS_MASK,	/* u32: bits of skb->mark compared with
					 * BYPASS_MARK; 0 (default): no mark
					 * bypasses
					 */
	TCA_FLOWSHAPE_RATE_SCOPE,	/* u8: enum flowshape_rate_scope,
					 * default FLOWSHAPE_SCOPE_DEST
					 */
	TCA_FLOWSHAPE_AQM_TARGET,	/* u64 ns: queue beyond the intended
					 * departure a flow may keep, 0 (AQM
					 * off, default)..1 s; 5 ms advised
					 */
	TCA_FLOWSHAPE_AQM_INTERVAL,	/* u64 ns: AQM interval, 1 ms..10 s,
					 * default 100 ms
					 */
	TCA_FLOWSHAPE_HORIZON,		/* u64 ns: a departure time further out
					 * than this is beyond the horizon,
					 * 1 ms..3600 s, default 10 s
					 */
	TCA_FLOWSHAPE_HORIZON_DROP,	/* u32: 1 (default) drop a packet whose
					 * EDT stamp is beyond the horizon, 0 cap
					 * its stamp at the horizon; a computed
					 * departure beyond it is always capped
					 */
	TCA_FLOWSHAPE_OVERFLOW_LIMIT,	/* u32: packets queued in the overflow
					 * flows together (flows past MAX_FLOWS),
					 * 1..1000000, default 1000; keep it
					 * below LIMIT: the flows tracked keep
					 * the difference
					 */
	__TCA_FLOWSHAPE_MAX
};

#define TCA_FLOWSHAPE_MAX	(__TCA_FLOWSHAPE_MAX - 1)

/* One destination update, nested in TCA_FLOWSHAPE_DESTS (type
 * TCA_FLOWSHAPE_DEST).  Exactly one of IPV4/IPV6/MARK: the entry's key
 * is a prefix or a firewall mark.  Without DELETE, the entry for the key
 * is created or updated: CONGESTION and LOAD absent on a new entry mean
 * 0, absent on an existing entry mean "unchanged".  Every set refreshes
 * the entry's update time (see STALE_AFTER).
 *
 * Mark entries are matched before prefixes: a packet whose skb->mark,
 * under an entry's MARK_MASK, equals its MARK takes that entry; among
 * mark entries the mask with the most bits set wins (then the lower
 * mask).  For destinations a prefix cannot tell apart (IPVS direct
 * routing: every packet is for the VIP).  A flow is matched once per
 * change of the table's keys, on one of its packets.
 *
 * Also the content of a class's TCA_OPTIONS when the table is listed with
 * "tc class show": there AGE and DELAY are filled in by the kernel.
 */
enum {
	TCA_FLOWSHAPE_DEST_UNSPEC,
	TCA_FLOWSHAPE_DEST,		/* nest: one entry (in TCA_FLOWSHAPE_DESTS) */
	__TCA_FLOWSHAPE_DESTS_MAX
};

#define TCA_FLOWSHAPE_DESTS_MAX	(__TCA_FLOWSHAPE_DESTS_MAX - 1)

enum {
	TCA_FLOWSHAPE_DEST_ATTR_UNSPEC,
	TCA_FLOWSHAPE_DEST_IPV4,	/* be32 (4 bytes): network address */
	TCA_FLOWSHAPE_DEST_IPV6,	/* 16 bytes: network address */
	TCA_FLOWSHAPE_DEST_PLEN,	/* u8: prefix length, 0..32 / 0..128;
					 * host bits must be zero
					 */
	TCA_FLOWSHAPE_DEST_CONGESTION,	/* u32 ppm: congestion toward it */
	TCA_FLOWSHAPE_DEST_LOAD,	/* u32 ppm: load of the server(s) */
	TCA_FLOWSHAPE_DEST_DELETE,	/* flag: remove the entry */
	TCA_FLOWSHAPE_DEST_AGE,		/* u64 ns: since last update (dump) */
	TCA_FLOWSHAPE_DEST_DELAY,	/* u64 ns: delay it yields now, after
					 * thresholds, weights, cap and
					 * staleness (dump)
					 */
	TCA_FLOWSHAPE_DEST_STALE,	/* flag: older than STALE_AFTER (dump) */
	TCA_FLOWSHAPE_DEST_PAD,
	/* Appended: an older module refuses a MARK entry ("Unknown
	 * attribute type": entries are parsed strictly).
	 */
	TCA_FLOWSHAPE_DEST_MARK,	/* u32: skb->mark value, instead of an
					 * address; no bits outside MARK_MASK
					 */
	TCA_FLOWSHAPE_DEST_MARK_MASK,	/* u32: bits of skb->mark compared with
					 * MARK, not 0; default 0xffffffff
					 * (only with MARK)
					 */
	__TCA_FLOWSHAPE_DEST_ATTR_MAX
};

#define TCA_FLOWSHAPE_DEST_ATTR_MAX	(__TCA_FLOWSHAPE_DEST_ATTR_MAX - 1)

/* Extended statistics (TCA_STATS_APP), dumped with "tc -s qdisc show". */
struct tc_flowshape_xstats {
	__u64	enqueued;		/* packets accepted by enqueue */
	__u64	drops_limit;		/* drops: qdisc limit reached */
	__u64	drops_flow_limit;	/* drops: flow_limit reached in a flow */
	__u64	passed;			/* packets released with no delay:
					 * passed + delayed = released
					 */
	__u64	delayed;		/* packets released with a departure time
					 * > arrival (counted when released)
					 */
	__u64	delay_total_ns;		/* sum over packets of departure - arrival, ns */
	__u64	overflow_packets;	/* packets queued in the shared overflow
					 * flows (16, by flow hash) because
					 * max_flows was reached or a flow could
					 * not be allocated
					 */
	__u64	alloc_errors;		/* flow allocations that failed */
	__u64	gc_flows;		/* idle flows freed */
	__u64	stale_packets;		/* packets whose entry was stale (no delay) */
	__u64	late_packets;		/* delayed packets released (lateness samples) */
	__u64	lateness_total_ns;	/* sum of (release - due), ns */
	__u64	lateness_max_ns;	/* largest (release - due), ns */
	__u64	early_releases;		/* packets released before due: a bug if > 0 */
	__u64	watchdog_armed;		/* times the release timer was (re)armed:
					 * programmed anew, not asked again for
					 * the time it is already set for
					 */
	__u32	flows;			/* flows tracked now */
	__u32	throttled_flows;	/* flows waiting for their head's due time */
	__u32	dests;			/* destination entries */
	__u32	stale_dests;		/* entries older than stale_after */
	__u64	next_release_ns;	/* earliest due time - now, ns (0: none) */
	/* Appended: a shorter struct is from an older module. */
	__u64	released;		/* packets dequeued (one a parent peeked
					 * counts when the parent takes it: until
					 * then it is in qlen).  Like enqueued, qlen
					 * and the drops, a GSO packet counts once;
					 * the qdisc's "sent N pkt" counts its
					 * segments.  enqueued = released + purged
					 * + drops_aqm + qlen, always.
					 */
	__u64	purged;			/* packets freed by a reset (device down,
					 * qdisc replaced) without being sent
					 */
	__u64	control_packets;	/* packets that bypassed shaping through
					 * the internal queue: skb->priority
					 * TC_PRIO_CONTROL or the bypass mark
					 * (also counted in passed)
					 */
	__u64	ecn_marks;		/* packets CE-marked by the AQM */
	__u64	drops_aqm;		/* packets dropped by the AQM (not ECT) */
	__u64	retimed;		/* due times brought forward because the
					 * delay fell since they were given (an
					 * entry stale, deleted or lowered)
					 */
	__u64	drops_horizon;		/* drops: EDT stamp beyond the horizon */
	__u64	horizon_caps;		/* departures capped at the horizon: EDT
					 * stamps (horizon_drop 0) and computed
					 */
	__u64	reslotted;		/* paced packets released over a slot late
					 * (a stall) given a new slot of their
					 * destination's clock instead of leaving
					 * together with the others
					 */
	__u64	drops_overflow;		/* drops: overflow_limit reached in the
					 * overflow flows
					 */
};

#endif /* _UAPI_LINUX_FLOWSHAPE_H */
