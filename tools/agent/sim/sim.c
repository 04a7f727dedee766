// SPDX-License-Identifier: GPL-2.0
/*
 * A deterministic simulator of the closed loop (Documentation/control.md):
 * the agent's REAL controller (control.c) and baseline (estimate.c) driven
 * against a fluid model, 1 ms steps:
 *
 *   ingress node(s): flowshape paces the destination at the rate the
 *     level gives (rate = quantum / delay(level), shared by the node's
 *     flows), with an AQM (CoDel-like, 5 ms) on its queue; probes bypass it;
 *   bottleneck: finite rate, a deep tail-drop buffer;
 *   senders: N window flows per node, slow start then AIMD (x0.7, cubic's
 *     beta) with RTT feedback (rate = cwnd / RTT, one loss per RTT);
 *   a sparse request/response flow per node (one request per 100 ms);
 *   probes: 3 per round, with noise (0..0.3 ms, one in ten +3 ms).
 *
 * Output: TAP, one line per assertion of issue 15 point 5; with -o DIR,
 * a trace per scenario (DIR/NAME.dat) for tools/agent/sim/report.sh.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config.h"
#include "../control.h"
#include "../estimate.h"

#define DT		0.001		/* s */
#define MSS		1500.0		/* bytes */
#define MAXN		2
#define MAXF		64
#define BASE_RTT	0.020		/* s */
#define AQM_TARGET	0.005		/* s: the shaper's AQM (issue 14) */
#define AQM_INTERVAL	0.100
/* The agent's defaults, from its own configuration parser. */
static double TARGET_DELAY, INTERVAL, DRAIN_PERIOD, TARGET_LOAD;

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static double urand(void)		/* xorshift64*: deterministic */
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

struct flow {
	double cwnd;			/* bytes */
	bool ss;			/* slow start */
	double last_cut;		/* time of the last window cut */
	double drop_acc;		/* bytes lost since the last cut */
};

struct node {
	int nflows;
	double start, stop;		/* bulk flows active in [start, stop) */
	struct flow f[MAXF];
	double qs;			/* shaper queue, bytes */
	double aqm_above, aqm_next;	/* CoDel state */
	int aqm_count, aqm_rr;
	double rate;			/* shaper rate, bit/s; INFINITY = none */
	/* the agent */
	struct rtt_est est;
	struct ctl_state cs;
	struct ctl_drain dr;
	bool off;			/* no agent: flowshape never shapes */
	double next_round;
	uint32_t ppm;
	double out;			/* controller output 0..1 */
	double sent_bytes;		/* into the bottleneck, this ms */
	double acc_bytes;		/* over the measuring window */
	double round_bytes;		/* through the shaper this round */
	double rr_max, rr_sum;
	int rr_n;
};

struct scen {
	const char *name;
	int nnodes;
	double dur;
	double (*cap)(double t);	/* bottleneck rate, bit/s */
	double buffer;			/* bytes */
};

static struct ctl_actuator act;
static struct ctl_params cp;
static struct est_params ep;
static FILE *trace;
static int tap_n, tap_fail, noceil;

static void ok(bool cond, const char *fmt, double a, double b)
{
	tap_n++;
	if (!cond)
		tap_fail++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	printf(fmt, a, b);
	printf("\n");
}

static void node_init(struct node *n, int nflows, double start, double stop)
{
	int i;

	memset(n, 0, sizeof(*n));
	n->nflows = nflows;
	n->start = start;
	n->stop = stop;
	for (i = 0; i < nflows; i++)
		n->f[i] = (struct flow){ .cwnd = 2 * MSS, .ss = true, .last_cut = -1 };
	n->rate = INFINITY;
	ctl_reset(&n->cs, &cp);
	n->next_round = 0.05;
}

static void flow_loss(struct flow *f, double t, double rtt)
{
	if (t - f->last_cut < rtt)
		return;
	f->cwnd = fmax(2 * MSS, f->cwnd * 0.7);
	f->ss = false;
	f->last_cut = t;
}

/* The shaper rate the kernel would apply for the controller's rate. */
static double shaper_rate(uint32_t *ppm, double want)
{
	uint64_t d;

	*ppm = ctl_level_ppm(&act, want);
	d = ctl_kernel_delay_ns(&act, *ppm);
	return d ? act.quantum * 8e9 / (double)d : INFINITY;
}

/* One agent round: 3 probes through the bottleneck (not the shaper). */
static void agent_round(struct node *n, double t, double qb)
{
	uint64_t rtts[3], base;
	double q;
	int k;

	for (k = 0; k < 3; k++) {
		double noise = urand() * 0.0003 + (urand() < 0.1 ? 0.003 : 0);

		rtts[k] = (uint64_t)((BASE_RTT + qb + noise) * 1e9);
	}
	if (!noceil)
		ctl_set_delivered(&n->cs, n->round_bytes * 8 / INTERVAL);
	n->round_bytes = 0;
	rtt_est_round(&n->est, &ep, (uint64_t)(t * 1e9), rtts, 3, 0);
	base = rtt_est_baseline(&n->est, &ep, (uint64_t)(t * 1e9));
	q = n->est.last_rtt_ns > base ? (double)(n->est.last_rtt_ns - base) / 1e9 : 0;
	if (ctl_drain_before(&n->dr, &n->cs, &cp))
		ctl_update(&n->cs, &cp, q);
	ctl_drain_after(&n->dr, &n->cs, &cp, t, DRAIN_PERIOD);
	n->rate = shaper_rate(&n->ppm, ctl_rate(&n->cs, &cp));
	n->out = ctl_output(&n->cs, &cp);
}

struct result {
	double q_max_after;		/* max bottleneck delay in the hold window */
	double t_within;		/* first time q <= 2 target for good */
	double out_min, out_max;	/* controller output in the hold window */
	double util;			/* served / capacity in the hold window */
	double t_zero;			/* first time the level is 0 after stop */
	double rate[MAXN];		/* node rates in the hold window, bit/s */
	double rr_p99;
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Run a scenario; hold window [h0, h1): statistics; t_event: the queue
 * must be within 2 x target from t_event + 3 s on (t_within is when it
 * last was not); t_stop: when the bulk flows stop.
 */
static void run(const struct scen *s, struct node *nodes, double h0, double h1,
		double t_stop, struct result *r)
{
	double qb = 0, t, served_hold = 0, cap_hold = 0, t_bad = 0;
	static double rr[200000];
	int nrr = 0, i, j, k;

	memset(r, 0, sizeof(*r));
	r->out_min = 1;
	r->t_zero = -1;
	for (k = 0; k < (int)(s->dur / DT); k++) {
		double c = s->cap(t = k * DT), in = 0, served, drop = 0, qdelay;

		qdelay = qb * 8 / c;
		for (i = 0; i < s->nnodes; i++) {
			struct node *n = &nodes[i];
			bool on = t >= n->start && t < n->stop;
			double demand = 0, sojourn, out;

			if (t >= n->next_round && !n->off) {
				agent_round(n, t, qdelay);
				n->next_round += INTERVAL;
			}
			sojourn = isinf(n->rate) ? 0 : n->qs * 8 / n->rate;
			for (j = 0; on && j < n->nflows; j++) {
				struct flow *f = &n->f[j];
				double rtt = BASE_RTT + qdelay + sojourn;

				demand += f->cwnd / rtt * DT;
				f->cwnd += (f->ss ? f->cwnd : MSS * MSS / f->cwnd) * DT / rtt;
			}
			n->qs += demand;
			out = isinf(n->rate) ? n->qs : fmin(n->qs, n->rate * DT / 8);
			n->qs -= out;
			/* The AQM: CoDel's control law on the shaper's sojourn. */
			if (!isinf(n->rate) && n->qs * 8 / n->rate > AQM_TARGET) {
				if (!n->aqm_above)
					n->aqm_above = t + AQM_INTERVAL;
				else if (t >= n->aqm_above && t >= n->aqm_next) {
					struct flow *f = &n->f[n->aqm_rr++ % n->nflows];

					flow_loss(f, t, BASE_RTT + qdelay + sojourn);
					n->aqm_count++;
					n->aqm_next = t + AQM_INTERVAL / sqrt(n->aqm_count);
				}
			} else {
				n->aqm_above = 0;
				n->aqm_count = 0;
			}
			if (!on)
				n->qs = 0;
			n->sent_bytes = out;
			n->round_bytes += out;
			in += out;
			/* The request/response flow: one request per 100 ms, its
			 * own DRR turn at the shaper, then the bottleneck. */
			if (k % 100 == 37 * i % 100 && nrr < 200000 && t >= h0 && t < h1) {
				double lat = 2 * BASE_RTT / 2 + qdelay +
					     (isinf(n->rate) ? 0 : act.quantum * 8 / n->rate);

				rr[nrr++] = lat;
			}
		}
		qb += in;
		served = fmin(qb, c * DT / 8);
		qb -= served;
		if (qb > s->buffer) {
			drop = qb - s->buffer;
			qb = s->buffer;
		}
		for (i = 0; drop > 0 && in > 0 && i < s->nnodes; i++) {
			struct node *n = &nodes[i];
			double share = drop * n->sent_bytes / in;

			n->sent_bytes -= share;
			for (j = 0; j < n->nflows; j++) {
				struct flow *f = &n->f[j];

				f->drop_acc += share / n->nflows;
				if (f->drop_acc >= MSS / 2) {
					f->drop_acc = 0;
					flow_loss(f, t, BASE_RTT + qdelay);
				}
			}
		}
		if (t >= h0 && t < h1) {
			served_hold += served;
			cap_hold += c * DT / 8;
			for (i = 0; i < s->nnodes; i++) {
				nodes[i].acc_bytes += nodes[i].sent_bytes;
				r->out_min = fmin(r->out_min, nodes[i].out);
				r->out_max = fmax(r->out_max, nodes[i].out);
			}
			r->q_max_after = fmax(r->q_max_after, qdelay);
		}
		if (t < h1 && qdelay > 2 * TARGET_DELAY)
			t_bad = t;
		if (t >= t_stop && r->t_zero < 0 && nodes[0].ppm == 0)
			r->t_zero = t - t_stop;
		if (trace && k % 20 == 0)
			fprintf(trace, "%.3f %.3f %.6g %.4f %.6g %.6g %.6g\n", t,
				qdelay * 1e3, c / 1e6, nodes[0].out,
				isinf(nodes[0].rate) ? 0 : nodes[0].rate / 1e6,
				s->nnodes > 1 ? (isinf(nodes[1].rate) ? 0 : nodes[1].rate / 1e6) : 0,
				nodes[0].ppm / 1e6);
	}
	r->t_within = t_bad;
	r->util = cap_hold > 0 ? served_hold / cap_hold : 0;
	for (i = 0; i < s->nnodes; i++)
		r->rate[i] = nodes[i].acc_bytes * 8 / (h1 - h0);
	qsort(rr, (size_t)nrr, sizeof(rr[0]), cmp_d);
	r->rr_p99 = nrr ? rr[(int)(nrr * 0.99)] : 0;
}

/* ---- scenarios ----------------------------------------------------------- */

static double cap_drop(double t)	/* 40 Mbit/s, /4 at 20 s, back at 40 s */
{
	return t >= 20 && t < 40 ? 10e6 : 40e6;
}

static double cap_flat(double t)
{
	(void)t;
	return 20e6;
}

static void open_trace(const char *dir, const char *name)
{
	char path[512];

	trace = NULL;
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	trace = fopen(path, "w");
	if (trace)
		fprintf(trace, "# t_s qdelay_ms capacity_mbit out0 rate0_mbit rate1_mbit level0\n");
}

static void scen_drop(const char *dir, int nflows)
{
	static struct node n[1];
	struct scen s = { "drop", 1, 62, cap_drop, 1.25e6 };
	struct result r, r2;
	char name[32];

	snprintf(name, sizeof(name), "drop%d", nflows);
	open_trace(dir, name);
	node_init(&n[0], nflows, 0, 52);
	/* Hold window: 3 s after the drop to the end of the drop. */
	run(&s, n, 23, 40, 52, &r);
	if (trace)
		fclose(trace);
	printf("# %d flows: q max %.1f ms after 23 s, last above 2x target at %.2f s, output %.3f..%.3f, util %.3f, RR p99 %.1f ms, level 0 %.2f s after the bulk stops\n",
	       nflows, r.q_max_after * 1e3, r.t_within, r.out_min, r.out_max, r.util,
	       r.rr_p99 * 1e3, r.t_zero);
	ok(r.q_max_after <= 2 * TARGET_DELAY,
	   "bottleneck /4 at 20 s: queueing delay <= 2 x target from 23 s to 40 s (max %.1f ms) [flows %.0f]",
	   r.q_max_after * 1e3, nflows);
	ok(r.out_max - r.out_min < 0.1,
	   "controller output peak-to-peak < 0.1 from 23 s to 40 s (%.3f) [flows %.0f]",
	   r.out_max - r.out_min, nflows);
	ok(r.util >= 0.95, "bottleneck utilisation >= 95%% from 23 s to 40 s (%.3f) [flows %.0f]",
	   r.util, nflows);
	ok(r.t_zero >= 0 && r.t_zero <= 5,
	   "bulk flows stop at 52 s: level 0 pushed within 5 s (%.2f s) [flows %.0f]",
	   r.t_zero, nflows);
	/* The same without flowshape shaping: the request/response flow's
	 * p99 must be 10x lower with it (issue 15's steady-state goal). */
	if (nflows == 4) {
		struct result r0;

		node_init(&n[0], nflows, 0, 52);
		n[0].off = true;
		open_trace(NULL, NULL);
		run(&s, n, 23, 40, 52, &r0);
		printf("# without shaping, 4 flows: q max %.0f ms, util %.3f, RR p99 %.1f ms\n",
		       r0.q_max_after * 1e3, r0.util, r0.rr_p99 * 1e3);
		ok(r.rr_p99 * 10 <= r0.rr_p99,
		   "request/response p99 from 23 s to 40 s: %.1f ms shaped, 10x below %.1f ms unshaped",
		   r.rr_p99 * 1e3, r0.rr_p99 * 1e3);
	}
	/* Capacity back at 40 s: held again, no over-shaping. */
	node_init(&n[0], nflows, 0, 52);
	open_trace(NULL, NULL);
	run(&s, n, 44, 52, 52, &r2);
	/* Not a bullet of issue 15: no over-shaping once capacity is back.
	 * The senders' additive increase keeps building a queue the
	 * controller follows upward: 3 x target (10-12.5 ms measured on 4
	 * of 10 noise seeds, SIM_SEED=1..10). */
	ok(r2.q_max_after <= 3 * TARGET_DELAY && r2.util >= 0.95,
	   "capacity back x4 at 40 s: from 44 s queue <= 3 x target (max %.1f ms), utilisation %.3f",
	   r2.q_max_after * 1e3, r2.util);
}

static void scen_two(const char *dir)
{
	static struct node n[2];
	struct scen s = { "two", 2, 40, cap_flat, 1.25e6 };
	struct result r;
	double ratio;

	open_trace(dir, "two");
	node_init(&n[0], 4, 0, 100);
	node_init(&n[1], 16, 0, 100);	/* 4x the flows */
	run(&s, n, 30, 40, 100, &r);
	if (trace)
		fclose(trace);
	ratio = fmax(r.rate[0], r.rate[1]) / fmax(1, fmin(r.rate[0], r.rate[1]));
	printf("# two nodes (4 and 16 flows): rates %.2f and %.2f Mbit/s, q max %.1f ms, util %.3f\n",
	       r.rate[0] / 1e6, r.rate[1] / 1e6, r.q_max_after * 1e3, r.util);
	ok(ratio <= 2, "two ingress nodes (4 and 16 flows) on one bottleneck: rates within 2x from 30 s (ratio %.2f)",
	   ratio, 0);
	ok(r.q_max_after <= 2 * TARGET_DELAY && r.util >= 0.95,
	   "two ingress nodes: queue <= 2 x target (max %.1f ms), utilisation %.3f",
	   r.q_max_after * 1e3, r.util);
	/*
	 * The known limit (Documentation/control.md): a node that joins
	 * when the other is already shaped keeps the share it had when its
	 * own cap started to bind; the controllers see one shared queue and
	 * move in step.  Measured and shown, not asserted.
	 */
	open_trace(dir, "twolate");
	node_init(&n[0], 4, 0, 100);
	node_init(&n[1], 4, 10, 100);
	run(&s, n, 30, 40, 100, &r);
	if (trace)
		fclose(trace);
	printf("# known limit, not asserted: the second node joining at 10 s: rates %.2f and %.2f Mbit/s (ratio %.1f)\n",
	       r.rate[0] / 1e6, r.rate[1] / 1e6,
	       fmax(r.rate[0], r.rate[1]) / fmax(1, fmin(r.rate[0], r.rate[1])));
}

/*
 * Load: a server of capacity 30 Mbit/s of requests, offered OFFERED
 * through the node; load = served / capacity, measured per round over the
 * round (with noise +-0.01); the node's delivered rate is the ceiling's.
 * Returns through *settle the first time after which the load stays
 * within 0.05 of target, and the statistics from 20 s.
 */
static void load_run(const char *name, double offered, double *mean, double *p2p,
		     double *out_p2p, double *settle)
{
	struct ctl_actuator al;
	struct ctl_params lp;
	struct ctl_state st;
	double t, lmin = 1, lmax = 0, omin = 1, omax = 0, cap = 30e6;
	double rate = INFINITY, sum = 0, last_out = 0;
	uint32_t ppm;
	int k, n = 0;

	ctl_actuator_load_default(&al);
	ctl_params_load(&lp, TARGET_LOAD, INTERVAL, log(ctl_actuator_rate_min(&al)), log(100e9));
	ctl_reset(&st, &lp);
	open_trace(name ? getenv("SIM_TRACE_DIR") : NULL, name);
	for (k = 0; k < 300; k++) {		/* 60 s of rounds */
		double served = fmin(offered, rate);
		double load = fmin(1, served / cap) + (urand() - 0.5) * 0.02;
		uint64_t d;

		t = k * INTERVAL;
		if (!noceil)
			ctl_set_delivered(&st, served);
		ctl_update(&st, &lp, load);
		ppm = ctl_level_ppm(&al, ctl_rate(&st, &lp));
		d = ctl_kernel_delay_ns(&al, ppm);
		rate = d ? al.quantum * 8e9 / (double)d : INFINITY;
		if (fabs(load - TARGET_LOAD) > 0.05)
			last_out = t + INTERVAL;
		if (t >= 20) {
			lmin = fmin(lmin, load);
			lmax = fmax(lmax, load);
			omin = fmin(omin, ctl_output(&st, &lp));
			omax = fmax(omax, ctl_output(&st, &lp));
			sum += load;
			n++;
		}
		if (trace)
			fprintf(trace, "%.3f %.4f %.4f %.6g\n", t, load,
				ctl_output(&st, &lp), isinf(rate) ? 0 : rate / 1e6);
	}
	if (trace)
		fclose(trace);
	trace = NULL;
	*mean = sum / n;
	*p2p = lmax - lmin;
	*out_p2p = omax - omin;
	*settle = last_out;
}

static void scen_load(const char *dir)
{
	double mean, p2p, op2p, settle;

	if (dir)
		setenv("SIM_TRACE_DIR", dir, 1);
	load_run("load", 50e6, &mean, &p2p, &op2p, &settle);
	printf("# load, offered 1.67 x capacity: from 20 s mean %.3f, peak-to-peak %.3f, output peak-to-peak %.3f, within 0.05 of target from %.1f s\n",
	       mean, p2p, op2p, settle);
	ok(fabs(mean - TARGET_LOAD) < 0.02 && p2p < 0.08,
	   "server below offered load (1.67x): load held at target_load (mean %.3f, peak-to-peak %.3f)",
	   mean, p2p);
	ok(op2p < 0.1, "load controller output peak-to-peak < 0.1 (%.3f)", op2p, 0);
	load_run(NULL, 27e6, &mean, &p2p, &op2p, &settle);
	printf("# load, offered 0.9 x capacity: from 20 s mean %.3f, peak-to-peak %.3f, within 0.05 of target from %.1f s\n",
	       mean, p2p, settle);
	ok(settle <= 10 && fabs(mean - TARGET_LOAD) < 0.02,
	   "server at load 0.9 unshaped: held at target_load within 10 s (from %.1f s, mean %.3f)",
	   settle, mean);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 2 && !strcmp(argv[1], "-o") ? argv[2] : NULL;
	static const char minimal[] = "[qdisc]\ndev = sim0\n"
				      "[destination d]\nprefix = 10.0.0.1\nprobe = icmp\n";
	struct config *cfg;
	char err[256];

	cfg = config_parse("sim", minimal, sizeof(minimal) - 1, err, sizeof(err));
	if (!cfg) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	TARGET_DELAY = (double)cfg->target_delay_ns / 1e9;
	INTERVAL = (double)cfg->interval_ns / 1e9;
	DRAIN_PERIOD = (double)cfg->baseline_window_ns / 1e9 / 4;
	TARGET_LOAD = cfg->target_load;
	printf("# defaults: target_delay %.0f ms, interval %.0f ms, baseline_window %.0f s, target_load %.2f\n",
	       TARGET_DELAY * 1e3, INTERVAL * 1e3, DRAIN_PERIOD * 4, TARGET_LOAD);
	config_free(cfg);

	ctl_actuator_congestion_default(&act);
	ctl_params_congestion(&cp, TARGET_DELAY, INTERVAL,
			      log(ctl_actuator_rate_min(&act)), log(100e9));
	/* Tuning experiments only: SIM_KP, SIM_KI, SIM_BOOST_MAX, SIM_HI
	 * (x target) override the defaults; make check sets none. */
	if (getenv("SIM_SEED"))
		rng = strtoull(getenv("SIM_SEED"), NULL, 0) | 1;
	if (getenv("SIM_ROOT")) {	/* double root of the linear loop */
		double z = atof(getenv("SIM_ROOT"));

		cp.kp = (1 - z * z) / INTERVAL;
		cp.ki = (1 - z) * (1 - z) / (INTERVAL * INTERVAL);
	}
	if (getenv("SIM_KP"))
		cp.kp = atof(getenv("SIM_KP"));
	if (getenv("SIM_KI"))
		cp.ki = atof(getenv("SIM_KI"));
	if (getenv("SIM_BOOST_MAX"))
		cp.boost_max = atof(getenv("SIM_BOOST_MAX"));
	if (getenv("SIM_NOCEIL"))
		noceil = 1;
	if (getenv("SIM_HI"))
		cp.hi_band = atof(getenv("SIM_HI")) * TARGET_DELAY;
	ep = (struct est_params){ .baseline_window_ns = (uint64_t)(DRAIN_PERIOD * 4e9),
		.rtt_smoothing = 0.5, .full_delay_ns = 20000000, .full_loss = 0.1,
		.loss_window = 20 };
	printf("1..16\n");
	{
		static const double rates[] = { 1.3e6, 1e7, 1e8, 1e9, 5e9, 1e10, 1e11 };
		size_t i;

		for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
			printf("# resolution: %8.4g bit/s = level %7u ppm, one ppm step = %.3f%% of the rate\n",
			       rates[i], ctl_level_ppm(&act, rates[i]),
			       ctl_rate_step(&act, rates[i]) * 100);
	}
	scen_drop(dir, 4);
	scen_drop(dir, 64);
	scen_two(dir);
	scen_load(dir);
	return tap_fail ? 1 : 0;
}
