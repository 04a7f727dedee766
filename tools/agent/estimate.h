/* SPDX-License-Identifier: GPL-2.0 */
/*
 * From measurements to levels: the RTT baseline (windowed minimum),
 * smoothed RTT and loss of a path give its congestion; CPU, memory and
 * network figures of a server give its load; a dead band keeps published
 * levels from flapping.  Pure arithmetic, no I/O: unit-tested alone.
 */
#ifndef FSA_ESTIMATE_H
#define FSA_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define BASE_SLOTS	8	/* baseline window granularity: window / 8 */
#define LOSS_MAX	1024	/* probes remembered for the loss ratio */
#define LOSS_ROUNDS	256	/* rounds remembered for loss over time */

struct est_params {
	uint64_t baseline_window_ns;
	double rtt_smoothing;		/* weight of history */
	uint64_t full_delay_ns;		/* queueing delay meaning 1.0 */
	double full_loss;		/* loss ratio meaning 1.0 */
	unsigned int loss_window;	/* probes */
	uint64_t loss_window_ns;	/* if > 0: loss over time instead */
};

void est_params_from_config(struct est_params *p, const struct config *c);

struct rtt_est {
	/* Minimum RTT per time slot of baseline_window / BASE_SLOTS. */
	uint64_t slot_start[BASE_SLOTS];
	uint64_t slot_min[BASE_SLOTS];
	bool slot_used[BASE_SLOTS];
	double srtt_ns;
	bool have_srtt;
	uint64_t last_rtt_ns;		/* the last round's lowest */
	bool last_ok;			/* the last round had a reply */
	/* Loss history, a ring of bits: 1 = lost. */
	uint8_t lost_bits[LOSS_MAX / 8];
	unsigned int loss_pos, loss_filled, loss_lost;
	unsigned int loss_w;		/* the window the ring is laid out for */
	/* Loss over time: probes answered and lost per round. */
	struct { uint64_t t; uint16_t ok, lost; } lr[LOSS_ROUNDS];
	unsigned int lr_pos, lr_n;
	double loss_t;			/* over loss_window_ns at the last round */
	bool time_mode;
};

/* One probing round: n RTTs of replies (any order) and lost probes. */
void rtt_est_round(struct rtt_est *e, const struct est_params *p, uint64_t now,
		   uint64_t *rtts, unsigned int n, unsigned int lost);
/* Windowed minimum RTT, 0 if none yet. */
uint64_t rtt_est_baseline(const struct rtt_est *e, const struct est_params *p,
			  uint64_t now);
/* Loss ratio: over the last loss_window probes, or, with loss_window_ns,
 * over the rounds of that last stretch of time (so that one lost probe
 * weighs the same whatever the round length and probe count). */
double rtt_est_loss(const struct rtt_est *e);
/* Congestion 0..1 from the state after a round; false when unknown (the
 * last round had no reply at all, or no RTT was ever measured). */
bool rtt_est_congestion(const struct rtt_est *e, const struct est_params *p,
			uint64_t now, double *c);

/* Pure formula: queueing delay over full_delay plus loss over full_loss,
 * clamped to 0..1. */
double congestion_level(double srtt_ns, double baseline_ns, double loss,
			const struct est_params *p);

/* A published level with a dead band: it moves only when the new value
 * differs by at least band, or reaches 0 or 1. */
struct level {
	bool known;
	double value;
};

/* Feed a raw value (NaN: unknown); returns the level to publish. */
void level_update(struct level *l, double raw, double band);

/* Which devices a sample's network bytes are the sum of. */
enum net_source {
	NET_NAMED,		/* net_device: what the operator names */
	NET_DEFAULT_ROUTE,	/* the default route's (node_network_route_info) */
	NET_ALL_BUT_LO,		/* no route information: every device but lo
				 * (bonds and their slaves, bridges and
				 * their ports are counted more than once) */
};

/* node_exporter figures at one scrape (counters are cumulative). */
struct node_sample {
	uint64_t t_ns;			/* when scraped (monotonic) */
	bool have_cpu, have_mem, have_net;
	double cpu_idle_s, cpu_total_s;	/* sum over CPUs */
	double mem_available, mem_total;	/* bytes */
	double rx_bytes, tx_bytes;	/* sum over the devices counted */
	enum net_source net_source;
};

/* Load components 0..1; NaN where not known. */
struct load_parts {
	double cpu, memory, network;
};

/* Components from two consecutive scrapes (prev may be NULL: the rates
 * are then unknown). */
void load_parts_from_nodes(const struct node_sample *prev,
			   const struct node_sample *cur, double link_bps,
			   struct load_parts *out);
/* Weighted mean over the components with weight > 0.  False (unknown) if
 * any of those components is unknown. */
bool load_combine(const struct load_weights *w, const struct load_parts *parts,
		  double *load);

#endif
