// SPDX-License-Identifier: GPL-2.0
/*
 * The closed-loop controller and the level <-> rate mapping; see
 * control.h and Documentation/control.md for the equations and the
 * tuning rules.
 */
#include <limits.h>
#include <math.h>

#include <linux/flowshape.h>

#include "control.h"

/*
 * Congestion gains (signal in seconds of queueing delay), from the round
 * length T.  The plant, linearised, is q[k+1] = q[k] + T (x[k] - ln C):
 * an integrator of unit gain whatever C.  With the velocity-form PI law
 * the error obeys e[k+1] = (2 - a - b) e[k] + (a - 1) e[k-1], with
 * a = kp T and b = ki T^2; both roots at z = CTL_ROOT need
 * a = 1 - z^2, b = (1 - z)^2.  z = 0 would be dead-beat (too eager on a
 * noisy probe); z = 0.3 settles a step within ~4 rounds, and was the
 * best of 0.25..0.8 in the simulator (sim/sim.c, Documentation/control.md).
 */
#define CTL_ROOT	0.25
#define CTL_L_KP	0.5
#define CTL_L_KI	0.6
#define CTL_RELEASE	0.5	/* slow release: half the gain upward */
#define CTL_BOOST0	0.02	/* nats: 2% */
#define CTL_BOOST_MAX	0.5	/* nats: x1.65 per round at most */

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void params_common(struct ctl_params *p, double interval_s,
			  double x_min, double x_max)
{
	p->release = CTL_RELEASE;
	p->boost0 = CTL_BOOST0;
	p->boost_max = CTL_BOOST_MAX;
	p->interval_s = interval_s;
	p->x_min = x_min;
	p->x_max = x_max > x_min ? x_max : x_min;
	p->lift_rounds = interval_s > 0 ? (unsigned int)ceil(CTL_LIFT_S / interval_s) : 1;
}

void ctl_params_congestion(struct ctl_params *p, double target_s,
			   double interval_s, double x_min, double x_max)
{
	params_common(p, interval_s, x_min, x_max);
	p->target = target_s;
	p->kp = (1 - CTL_ROOT * CTL_ROOT) / interval_s;
	p->ki = (1 - CTL_ROOT) * (1 - CTL_ROOT) / (interval_s * interval_s);
	p->lo_band = target_s / 2;
	p->hi_band = 4 * target_s;
}

void ctl_params_load(struct ctl_params *p, double target, double interval_s,
		     double x_min, double x_max)
{
	params_common(p, interval_s, x_min, x_max);
	p->target = target;
	p->kp = CTL_L_KP;
	p->ki = CTL_L_KI;
	p->lo_band = -1;	/* an idle server is no reason to hurry */
	p->hi_band = target + (1 - target) * 0.75;
}

void ctl_reset(struct ctl_state *s, const struct ctl_params *p)
{
	/* Never congested: calm for as long as it takes. */
	*s = (struct ctl_state){ .x = p->x_max, .ceiling = NAN,
				 .calm_rounds = UINT_MAX };
}

void ctl_rebase(struct ctl_state *s, const struct ctl_params *p)
{
	if (!isfinite(s->x))
		s->x = p->x_max;
	s->x = clampd(s->x, p->x_min, p->x_max);
}

static double boost_step(struct ctl_state *s, const struct ctl_params *p,
			 int dir)
{
	double step;

	if (s->boost_dir != dir) {
		s->boost_dir = dir;
		s->boost = p->boost0;
	}
	step = s->boost;
	s->boost = fmin(2 * s->boost, p->boost_max);
	s->last_boost = dir * step;
	return dir * step;
}

bool ctl_update(struct ctl_state *s, const struct ctl_params *p, double m)
{
	double e, de, dx, xc;
	bool slack;

	if (!isfinite(m) || !isfinite(s->x)) {
		s->holds++;
		return false;
	}
	e = m - p->target;
	de = s->have_prev ? e - s->err_prev : 0;
	dx = -(p->ki * p->interval_s * e + p->kp * de);
	if (dx > 0)
		dx *= p->release;
	s->low_rounds = m < p->lo_band ? s->low_rounds + 1 : 0;
	if (m > p->target)
		s->calm_rounds = 0;
	else if (s->calm_rounds < UINT_MAX)
		s->calm_rounds++;
	/* Below the band for two rounds: the queue is empty and says
	 * nothing of how far below capacity the rate is. */
	if (s->low_rounds >= 2)
		dx += boost_step(s, p, +1);
	/* Far above and not draining: while the rate is not binding yet the
	 * queue stands still; once it binds it falls by (1 - rate/C) per
	 * second, more than a quarter target per round below 99%. */
	else if (m > p->hi_band && de > -p->target / 4)
		dx += boost_step(s, p, -1);
	else if (s->boost_dir && !s->low_rounds) {
		/* The boost just ended: the signal turned within the last
		 * step (one round of measurement delay), so the crossing is
		 * in it; go back half of it (bisection). */
		dx -= s->last_boost / 2;
		s->boost_dir = 0;
		s->last_boost = 0;
	}
	/* Clamping the state is the anti-windup: the velocity form has no
	 * separate integral to wind up. */
	/* The ceiling.  The rate was not binding if it was above what went
	 * through by more than a fifth (the senders sent less than it
	 * allowed): held there, nothing needs shaping.  If it was binding
	 * (a backlog behind it), the ceiling only bounds the release to
	 * CTL_HEADROOM per round: lifting the shaping at once would release
	 * the backlog as one burst.  Nor is it lifted within CTL_LIFT_S of
	 * the signal's last excursion above target (control.h). */
	xc = s->ceiling >= 0 ? log(CTL_HEADROOM * s->ceiling) : INFINITY;
	slack = s->x >= xc - log(1.2);
	s->x = clampd(s->x + dx, p->x_min, p->x_max);
	s->at_ceiling = false;
	if (s->x >= xc) {
		s->x = clampd(xc, p->x_min, p->x_max);
		s->at_ceiling = slack && s->calm_rounds >= p->lift_rounds;
	}
	s->err_prev = e;
	s->have_prev = true;
	s->updates++;
	return true;
}

bool ctl_drain_before(struct ctl_drain *d, struct ctl_state *s,
		      const struct ctl_params *p)
{
	if (!d->active)
		return true;
	d->active = false;
	ctl_nudge(s, p, CTL_DRAIN);
	/* The drained queue is no error: the next round's change is not a
	 * trend either. */
	s->have_prev = false;
	return false;
}

void ctl_drain_after(struct ctl_drain *d, struct ctl_state *s,
		     const struct ctl_params *p, double now_s, double period_s)
{
	if (s->x >= p->x_max || s->at_ceiling || s->x - CTL_DRAIN < p->x_min ||
	    now_s < d->next_s)
		return;
	ctl_nudge(s, p, -CTL_DRAIN);
	d->active = true;
	d->next_s = now_s + period_s;
	d->drains++;
}

void ctl_set_delivered(struct ctl_state *s, double bps)
{
	s->ceiling = isfinite(bps) && bps >= 0 ? bps : NAN;
}

void ctl_nudge(struct ctl_state *s, const struct ctl_params *p, double dx)
{
	if (isfinite(dx))
		s->x = clampd(s->x + dx, p->x_min, p->x_max);
}

double ctl_output(const struct ctl_state *s, const struct ctl_params *p)
{
	double span = p->x_max - p->x_min;

	if (!(span > 0) || s->at_ceiling)
		return 0;
	return clampd((p->x_max - s->x) / span, 0, 1);
}

double ctl_rate(const struct ctl_state *s, const struct ctl_params *p)
{
	if (s->x >= p->x_max || s->at_ceiling)
		return INFINITY;
	return exp(s->x);
}

void ctl_actuator_congestion_default(struct ctl_actuator *a)
{
	*a = (struct ctl_actuator){
		.weight_ns = 10000000, .threshold_ppm = 200000,
		.max_delay_ns = 50000000, .quantum = 1514,
	};
}

void ctl_actuator_load_default(struct ctl_actuator *a)
{
	*a = (struct ctl_actuator){
		.weight_ns = 10000000, .threshold_ppm = 500000,
		.max_delay_ns = 50000000, .quantum = 1514,
	};
}

static uint64_t dmax_ns(const struct ctl_actuator *a)
{
	return a->weight_ns < a->max_delay_ns ? a->weight_ns : a->max_delay_ns;
}

double ctl_actuator_rate_min(const struct ctl_actuator *a)
{
	if (!dmax_ns(a) || a->threshold_ppm >= FLOWSHAPE_LEVEL_ONE || !a->quantum)
		return 0;
	return a->quantum * 8e9 / (double)dmax_ns(a);
}

uint64_t ctl_kernel_delay_ns(const struct ctl_actuator *a, uint32_t ppm)
{
	uint64_t above, d;

	if (ppm <= a->threshold_ppm || a->threshold_ppm >= FLOWSHAPE_LEVEL_ONE)
		return 0;
	above = (uint64_t)(ppm - a->threshold_ppm) * FLOWSHAPE_LEVEL_ONE /
		(FLOWSHAPE_LEVEL_ONE - a->threshold_ppm);
	d = a->weight_ns * above / FLOWSHAPE_LEVEL_ONE;
	return d < a->max_delay_ns ? d : a->max_delay_ns;
}

uint32_t ctl_level_ppm(const struct ctl_actuator *a, double rate)
{
	double d, frac, span;
	long long ppm;

	if (!(rate > 0) || isinf(rate) || !ctl_actuator_rate_min(a))
		return 0;
	d = a->quantum * 8e9 / rate;	/* ns */
	if (d > (double)dmax_ns(a))
		d = (double)dmax_ns(a);
	frac = d / (double)a->weight_ns;
	span = FLOWSHAPE_LEVEL_ONE - a->threshold_ppm;
	ppm = (long long)a->threshold_ppm + llround(frac * span);
	if (ppm <= (long long)a->threshold_ppm)
		ppm = a->threshold_ppm + 1;
	if (ppm > FLOWSHAPE_LEVEL_ONE)
		ppm = FLOWSHAPE_LEVEL_ONE;
	return (uint32_t)ppm;
}

double ctl_rate_step(const struct ctl_actuator *a, double rate)
{
	uint32_t ppm = ctl_level_ppm(a, rate);
	uint64_t d1, d2;

	if (!ppm || ppm >= FLOWSHAPE_LEVEL_ONE)
		return NAN;
	d1 = ctl_kernel_delay_ns(a, ppm);
	d2 = ctl_kernel_delay_ns(a, ppm + 1);
	if (!d1)
		return INFINITY;
	return (double)(d2 - d1) / (double)d1;
}
