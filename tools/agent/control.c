// SPDX-License-Identifier: GPL-2.0
/*
 * The closed-loop controller and the level <-> rate mapping; see
 * control.h and Documentation/control.md for the equations and the
 * tuning rules.
 */
#include <math.h>

#include <linux/flowshape.h>

#include "control.h"

/*
 * Congestion gains (signal in seconds of queueing delay).  The plant is
 * dq/dt = x - ln C: with x = x0 - kp * e - ki * integral(e), the loop is
 * q'' + kp q' + ki (q - target) = 0: natural frequency sqrt(ki) = 1 rad/s,
 * damping kp / (2 sqrt(ki)) = 1 (no overshoot from the linear part), and a
 * crossover near kp = 2 rad/s, well below the Nyquist rate of 100 ms
 * rounds (31 rad/s) and leaving ~55 degrees of phase margin against one
 * round plus one RTT of measurement delay.
 */
#define CTL_C_KP	2.0
#define CTL_C_KI	1.0
/*
 * Load gains (signal: load 0..1).  Load follows the rate without memory
 * (L ~= rate / capacity), so the integral alone closes a first-order loop
 * of time constant 1 / (ki * target) ~= 2 s, slower than a scrape; the
 * proportional part only damps steps.
 */
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
}

void ctl_params_congestion(struct ctl_params *p, double target_s,
			   double interval_s, double x_min, double x_max)
{
	params_common(p, interval_s, x_min, x_max);
	p->target = target_s;
	p->kp = CTL_C_KP;
	p->ki = CTL_C_KI;
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
	*s = (struct ctl_state){ .x = p->x_max };
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
	return dir * step;
}

bool ctl_update(struct ctl_state *s, const struct ctl_params *p, double m)
{
	double e, de, dx;

	if (!isfinite(m) || !isfinite(s->x)) {
		s->holds++;
		return false;
	}
	e = m - p->target;
	de = s->have_prev ? e - s->err_prev : 0;
	dx = -(p->ki * p->interval_s * e + p->kp * de);
	if (dx > 0)
		dx *= p->release;
	if (m < p->lo_band)
		dx += boost_step(s, p, +1);
	else if (m > p->hi_band && de >= 0)
		dx += boost_step(s, p, -1);
	else
		s->boost_dir = 0;
	/* Clamping the state is the anti-windup: the velocity form has no
	 * separate integral to wind up. */
	s->x = clampd(s->x + dx, p->x_min, p->x_max);
	s->err_prev = e;
	s->have_prev = true;
	s->updates++;
	return true;
}

void ctl_nudge(struct ctl_state *s, const struct ctl_params *p, double dx)
{
	if (isfinite(dx))
		s->x = clampd(s->x + dx, p->x_min, p->x_max);
}

double ctl_output(const struct ctl_state *s, const struct ctl_params *p)
{
	double span = p->x_max - p->x_min;

	if (!(span > 0))
		return 0;
	return clampd((p->x_max - s->x) / span, 0, 1);
}

double ctl_rate(const struct ctl_state *s, const struct ctl_params *p)
{
	if (s->x >= p->x_max)
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
