/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The closed-loop controller (flowshape-agent.conf(5) "control = closed",
 * Documentation/control.md): one per destination and signal.  Its state
 * is the destination's rate in the log domain, x = ln(rate / 1 bit/s), so
 * that a step of the controller changes the rate by the same factor at
 * 1 Mbit/s as at 100 Gbit/s; a bottleneck's queue grows at
 * dq/dt = rate / capacity - 1 ~= x - ln(capacity), an integrator of unit
 * gain whatever the capacity.  The law is PIE's (RFC 8033) in velocity
 * form on that state, with fast attack / slow release, a release boost
 * while the signal sits below its band (an empty queue says nothing about
 * how far below capacity the rate is) and an attack boost while it sits
 * far above.  Pure arithmetic, no I/O: unit-tested alone and driven by
 * the simulator in sim/.
 */
#ifndef FSA_CONTROL_H
#define FSA_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

struct ctl_params {
	double target;		/* signal's set point (s of queue, or load) */
	double kp;		/* nats per unit of error change */
	double ki;		/* nats per second per unit of error */
	double release;		/* gain factor when the error is < 0, 0..1 */
	double lo_band;		/* signal below: release boost */
	double hi_band;		/* signal above (and not falling): attack boost */
	double boost0, boost_max;	/* boost step, nats, doubling per round */
	double interval_s;	/* round length */
	double x_min, x_max;	/* ln of the slowest rate and of "unshaped" */
	unsigned int lift_rounds;	/* calm rounds before the ceiling lifts */
};

struct ctl_state {
	double x;		/* ln rate (bit/s); x_max = not shaping */
	double err_prev;
	bool have_prev;
	double boost;		/* next boost step, nats */
	int boost_dir;		/* -1 attack, +1 release, 0 none */
	unsigned int low_rounds;	/* consecutive rounds below lo_band */
	double last_boost;	/* the last boost step taken, nats (signed) */
	double ceiling;		/* delivered rate (bit/s), NaN = unknown */
	bool at_ceiling;	/* x held at ln(CTL_HEADROOM * ceiling) */
	unsigned int calm_rounds;	/* rounds since the signal was above target */
	uint64_t updates, holds;
};

/* Defaults for the congestion controller (signal: seconds of queueing
 * delay) and the load controller (signal: load 0..1). */
void ctl_params_congestion(struct ctl_params *p, double target_s,
			   double interval_s, double x_min, double x_max);
void ctl_params_load(struct ctl_params *p, double target, double interval_s,
		     double x_min, double x_max);

/* Not shaping: x = x_max, no history. */
void ctl_reset(struct ctl_state *s, const struct ctl_params *p);
/* Keep the state across new parameters (SIGHUP): x clamped to the new
 * range, history kept, so the output does not jump. */
void ctl_rebase(struct ctl_state *s, const struct ctl_params *p);
/* One round with measured signal m.  A NaN or infinite m changes nothing
 * and returns false (nothing to push); else true. */
bool ctl_update(struct ctl_state *s, const struct ctl_params *p, double m);
/*
 * The rate the destination was delivered in the last round (bit/s; NaN or
 * negative: unknown), for the next ctl_update: the state never rises above
 * CTL_HEADROOM times it.  A rate far above what the senders send shapes
 * nothing, and climbing there only delays the reaction when they grow
 * into a queue.  Held there, the controller pushes "not shaping", but only
 * once the signal has been at or below target for CTL_LIFT_S: right after
 * congestion the senders send less than the rate allows because their
 * windows are still recovering (losses, timeouts at the bottleneck), not
 * because they want less, and lifting the shaping then releases their
 * grown windows into the bottleneck at once.
 */
#define CTL_HEADROOM	1.5
#define CTL_LIFT_S	2.0
void ctl_set_delivered(struct ctl_state *s, double bps);

/* Offset the state by dx nats without touching the history (the
 * baseline's drain round), clamped. */
void ctl_nudge(struct ctl_state *s, const struct ctl_params *p, double dx);
/*
 * Drain rounds keep the baseline exact (estimate.h's windowed minimum):
 * every period, while shaping, one round at the rate x exp(-CTL_DRAIN)
 * empties a standing queue of up to (1 - exp(-CTL_DRAIN)) x round, so the
 * next round's probes see the path's base RTT; that round is not used for
 * control and the rate is restored.  A standing queue held at target is
 * thus never the window's minimum, while a base RTT that rose (a route
 * change) is the minimum once the old one leaves the window.
 */
#define CTL_DRAIN	0.2877		/* ln(4/3): one round at 75% */

struct ctl_drain {
	double next_s;		/* when the next drain round may start */
	bool active;		/* the last round was a drain round */
	uint64_t drains;
};

/* One round: returns true if m should be fed to ctl_update (false: the
 * round right after a drain).  Call ctl_drain_after() after ctl_update. */
bool ctl_drain_before(struct ctl_drain *d, struct ctl_state *s,
		      const struct ctl_params *p);
/* Start a drain round if one is due (shaping, now >= next). */
void ctl_drain_after(struct ctl_drain *d, struct ctl_state *s,
		     const struct ctl_params *p, double now_s, double period_s);

/* Output 0..1: 0 = x_max (not shaping), 1 = x_min (slowest rate). */
double ctl_output(const struct ctl_state *s, const struct ctl_params *p);
/* Rate in bit/s, +inf when not shaping. */
double ctl_rate(const struct ctl_state *s, const struct ctl_params *p);

/*
 * The kernel's delay function for one signal (Documentation/flowshape.rst):
 * delay = min(weight * (level - threshold) / (1 - threshold), max_delay),
 * and in spread mode rate = quantum / delay.
 */
struct ctl_actuator {
	uint64_t weight_ns;
	uint32_t threshold_ppm;
	uint64_t max_delay_ns;
	uint32_t quantum;	/* bytes */
};

/* The qdisc defaults (tc-flowshape(8)). */
void ctl_actuator_congestion_default(struct ctl_actuator *a);
void ctl_actuator_load_default(struct ctl_actuator *a);
/* Slowest rate the actuator can express (bit/s); 0 if it cannot shape
 * (weight or max_delay 0, threshold 1). */
double ctl_actuator_rate_min(const struct ctl_actuator *a);
/* The level (ppm) whose delay gives rate bit/s: 0 for +inf (not
 * shaping); never above FLOWSHAPE_LEVEL_ONE.  NaN or rate <= 0: 0. */
uint32_t ctl_level_ppm(const struct ctl_actuator *a, double rate);
/* The kernel's delay (ns) for level ppm, as kernel/dest.c computes it. */
uint64_t ctl_kernel_delay_ns(const struct ctl_actuator *a, uint32_t ppm);
/* Relative rate change of one ppm step at rate bit/s (resolution). */
double ctl_rate_step(const struct ctl_actuator *a, double rate);

#endif
