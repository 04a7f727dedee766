// SPDX-License-Identifier: GPL-2.0
/* Unit tests: baseline, smoothed RTT, loss, congestion, hysteresis, load. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "estimate.h"
#include "util.h"

#define MS NSEC_PER_MSEC

static const struct est_params P = {
	.baseline_window_ns = 80 * NSEC_PER_SEC,	/* slots of 10 s */
	.rtt_smoothing = 0.5,
	.full_delay_ns = 20 * MS,
	.full_loss = 0.1,
	.loss_window = 10,
};

static void round_of(struct rtt_est *e, uint64_t now, uint64_t a, uint64_t b,
		     uint64_t c, unsigned int lost)
{
	uint64_t r[3] = { a, b, c };

	rtt_est_round(e, &P, now, r, 3, lost);
}

static void test_baseline_window(void **state)
{
	struct rtt_est e;
	uint64_t t = 1000 * NSEC_PER_SEC;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(rtt_est_baseline(&e, &P, t), 0);
	round_of(&e, t, 12 * MS, 10 * MS, 11 * MS, 0);
	assert_int_equal(rtt_est_baseline(&e, &P, t), 10 * MS);
	/* A higher RTT later does not raise the baseline... */
	round_of(&e, t + 20 * NSEC_PER_SEC, 30 * MS, 31 * MS, 32 * MS, 0);
	assert_int_equal(rtt_est_baseline(&e, &P, t + 20 * NSEC_PER_SEC), 10 * MS);
	/* ...a lower one lowers it at once... */
	round_of(&e, t + 30 * NSEC_PER_SEC, 8 * MS, 9 * MS, 9 * MS, 0);
	assert_int_equal(rtt_est_baseline(&e, &P, t + 30 * NSEC_PER_SEC), 8 * MS);
	/* ...and a minimum older than the window ages out. */
	round_of(&e, t + 100 * NSEC_PER_SEC, 15 * MS, 15 * MS, 15 * MS, 0);
	assert_int_equal(rtt_est_baseline(&e, &P, t + 100 * NSEC_PER_SEC), 8 * MS);
	round_of(&e, t + 120 * NSEC_PER_SEC, 16 * MS, 16 * MS, 16 * MS, 0);
	assert_int_equal(rtt_est_baseline(&e, &P, t + 120 * NSEC_PER_SEC), 15 * MS);
	round_of(&e, t + 200 * NSEC_PER_SEC, 20 * MS, 20 * MS, 20 * MS, 0);
	assert_int_equal(rtt_est_baseline(&e, &P, t + 200 * NSEC_PER_SEC), 20 * MS);
}

static void test_srtt_round_low(void **state)
{
	struct rtt_est e;
	uint64_t t = 1000 * NSEC_PER_SEC;

	(void)state;
	memset(&e, 0, sizeof(e));
	/* Outliers in a round do not move its sample: the lowest RTT. */
	round_of(&e, t, 500 * MS, 10 * MS, 90 * MS, 0);
	assert_int_equal(e.last_rtt_ns, 10 * MS);
	assert_float_equal(e.srtt_ns, 10 * MS, 1);
	round_of(&e, t + NSEC_PER_SEC, 30 * MS, 30 * MS, 30 * MS, 0);
	/* EWMA with history weight 0.5 */
	assert_float_equal(e.srtt_ns, 20 * MS, 1);
	round_of(&e, t + 2 * NSEC_PER_SEC, 30 * MS, 30 * MS, 30 * MS, 0);
	assert_float_equal(e.srtt_ns, 25 * MS, 1);
}

static void test_congestion_formula(void **state)
{
	(void)state;
	assert_float_equal(congestion_level(10 * MS, 10 * MS, 0, &P), 0, 1e-12);
	/* below the baseline: 0, never negative */
	assert_float_equal(congestion_level(9 * MS, 10 * MS, 0, &P), 0, 1e-12);
	assert_float_equal(congestion_level(20 * MS, 10 * MS, 0, &P), 0.5, 1e-12);
	assert_float_equal(congestion_level(30 * MS, 10 * MS, 0, &P), 1, 1e-12);
	/* clamped */
	assert_float_equal(congestion_level(300 * MS, 10 * MS, 0, &P), 1, 1e-12);
	/* loss raises it: 5% of a full 10% = 0.5 */
	assert_float_equal(congestion_level(10 * MS, 10 * MS, 0.05, &P), 0.5, 1e-12);
	assert_float_equal(congestion_level(15 * MS, 10 * MS, 0.05, &P), 0.75, 1e-12);
	assert_float_equal(congestion_level(15 * MS, 10 * MS, 0.5, &P), 1, 1e-12);
}

static void test_congestion_rounds(void **state)
{
	struct rtt_est e;
	uint64_t t = 1000 * NSEC_PER_SEC;
	double c;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_false(rtt_est_congestion(&e, &P, t, &c));	/* nothing yet */
	round_of(&e, t, 10 * MS, 10 * MS, 10 * MS, 0);
	assert_true(rtt_est_congestion(&e, &P, t, &c));
	assert_float_equal(c, 0, 1e-12);
	/* queueing: srtt 10 -> 20 -> 25 ms above a 10 ms baseline */
	round_of(&e, t + NSEC_PER_SEC, 30 * MS, 30 * MS, 30 * MS, 0);
	assert_true(rtt_est_congestion(&e, &P, t + NSEC_PER_SEC, &c));
	assert_float_equal(c, 0.5, 1e-9);

	/* A round where every probe is lost: unknown, not 0 and not 1. */
	rtt_est_round(&e, &P, t + 2 * NSEC_PER_SEC, NULL, 0, 3);
	assert_false(rtt_est_congestion(&e, &P, t + 2 * NSEC_PER_SEC, &c));
	/* The next round with replies is known again, and the losses
	 * count: 3 lost of 9 probes = 0.33 -> +3.3, clamped. */
	round_of(&e, t + 3 * NSEC_PER_SEC, 10 * MS, 10 * MS, 10 * MS, 0);
	assert_true(rtt_est_congestion(&e, &P, t + 3 * NSEC_PER_SEC, &c));
	assert_float_equal(rtt_est_loss(&e), 3.0 / 10, 1e-12);
	assert_float_equal(c, 1, 1e-12);
}

static void test_loss_window(void **state)
{
	struct rtt_est e;
	uint64_t r[1] = { MS };
	int i;

	(void)state;
	memset(&e, 0, sizeof(e));
	rtt_est_round(&e, &P, 1, NULL, 0, 2);
	assert_float_equal(rtt_est_loss(&e), 1, 1e-12);
	for (i = 0; i < 8; i++)
		rtt_est_round(&e, &P, 2, r, 1, 0);
	assert_float_equal(rtt_est_loss(&e), 0.2, 1e-12);
	/* The window (10 probes) slides: the two losses fall out. */
	for (i = 0; i < 2; i++)
		rtt_est_round(&e, &P, 3, r, 1, 0);
	assert_float_equal(rtt_est_loss(&e), 0, 1e-12);
	rtt_est_round(&e, &P, 4, NULL, 0, 1);
	assert_float_equal(rtt_est_loss(&e), 0.1, 1e-12);
}

/*
 * A reload that changes loss_window (SIGHUP keeps the history): the ring
 * keeps the newest probes, in order, and the count of lost ones matches
 * the bits it holds.  Raising the window used to leave loss_lost counting
 * slots that were overwritten, so loss never fell back to 0.
 */
static void test_loss_window_resize(void **state)
{
	struct est_params p = P;
	struct rtt_est e;
	uint64_t r[1] = { MS };
	int i;

	(void)state;
	memset(&e, 0, sizeof(e));
	p.loss_window = 4;
	rtt_est_round(&e, &p, 1, NULL, 0, 4);
	assert_float_equal(rtt_est_loss(&e), 1, 1e-12);
	/* Raised: the 4 losses stay, in a window of 8 now. */
	p.loss_window = 8;
	rtt_est_round(&e, &p, 2, r, 1, 0);
	assert_float_equal(rtt_est_loss(&e), 4.0 / 5, 1e-12);
	for (i = 0; i < 3; i++)
		rtt_est_round(&e, &p, 3, r, 1, 0);
	assert_float_equal(rtt_est_loss(&e), 4.0 / 8, 1e-12);
	/* Eight answered probes later every loss has left the window. */
	for (i = 0; i < 4; i++)
		rtt_est_round(&e, &p, 4, r, 1, 0);
	assert_float_equal(rtt_est_loss(&e), 0, 1e-12);
	rtt_est_round(&e, &p, 5, NULL, 0, 1);
	assert_float_equal(rtt_est_loss(&e), 1.0 / 8, 1e-12);

	/* Lowered: the newest probes are kept (1 lost of the last 3). */
	p.loss_window = 3;
	rtt_est_round(&e, &p, 6, r, 1, 0);
	assert_float_equal(rtt_est_loss(&e), 1.0 / 3, 1e-12);
	for (i = 0; i < 2; i++)
		rtt_est_round(&e, &p, 7, r, 1, 0);
	assert_float_equal(rtt_est_loss(&e), 0, 1e-12);
	/* Raised past what was kept: filled from there. */
	p.loss_window = LOSS_MAX + 10;	/* clamped to LOSS_MAX */
	rtt_est_round(&e, &p, 8, NULL, 0, 1);
	assert_float_equal(rtt_est_loss(&e), 1.0 / 4, 1e-12);
}

static void test_hysteresis(void **state)
{
	struct level l = { 0 };

	(void)state;
	level_update(&l, 0.30, 0.05);
	assert_true(l.known);
	assert_float_equal(l.value, 0.30, 1e-12);
	/* Small wiggles do not move the published level. */
	level_update(&l, 0.33, 0.05);
	assert_float_equal(l.value, 0.30, 1e-12);
	level_update(&l, 0.27, 0.05);
	assert_float_equal(l.value, 0.30, 1e-12);
	/* A real change does. */
	level_update(&l, 0.36, 0.05);
	assert_float_equal(l.value, 0.36, 1e-12);
	/* The ends are always reachable. */
	level_update(&l, 0.02, 0.5);
	assert_float_equal(l.value, 0.36, 1e-12);
	level_update(&l, 0, 0.5);
	assert_float_equal(l.value, 0, 1e-12);
	level_update(&l, 1.7, 0.5);		/* clamped to 1 */
	assert_float_equal(l.value, 1, 1e-12);
	/* Unknown forgets; the next value is published as is. */
	level_update(&l, NAN, 0.05);
	assert_false(l.known);
	level_update(&l, 0.98, 0.05);
	assert_true(l.known);
	assert_float_equal(l.value, 0.98, 1e-12);
	/* A flapping input (0.40/0.44) stays put. */
	level_update(&l, 0.40, 0.05);
	for (int i = 0; i < 10; i++) {
		level_update(&l, i % 2 ? 0.44 : 0.40, 0.05);
		assert_float_equal(l.value, 0.40, 1e-12);
	}
}

static void test_load_parts(void **state)
{
	struct node_sample a = {
		.t_ns = 10 * NSEC_PER_SEC, .have_cpu = true, .have_mem = true,
		.have_net = true, .cpu_idle_s = 100, .cpu_total_s = 200,
		.mem_available = 750, .mem_total = 1000,
		.rx_bytes = 1e6, .tx_bytes = 0,
	};
	struct node_sample b = a;
	struct load_parts p;

	(void)state;
	/* One scrape: memory only; rates need two. */
	load_parts_from_nodes(NULL, &a, 1e9, &p);
	assert_float_equal(p.memory, 0.25, 1e-12);
	assert_true(isnan(p.cpu));
	assert_true(isnan(p.network));

	/* 2 s later: 4 CPU-seconds passed, 1 of them idle -> 75% busy;
	 * 25 MB received in 2 s = 100 Mbit/s on a 1 Gbit link = 0.1. */
	b.t_ns = 12 * NSEC_PER_SEC;
	b.cpu_idle_s = 101;
	b.cpu_total_s = 204;
	b.rx_bytes = 26e6;
	b.tx_bytes = 5e6;
	load_parts_from_nodes(&a, &b, 1e9, &p);
	assert_float_equal(p.cpu, 0.75, 1e-12);
	assert_float_equal(p.network, 0.1, 1e-12);

	/* Counter reset (exporter or host restarted): unknown, not 0/1. */
	b.cpu_total_s = 10;
	b.cpu_idle_s = 5;
	b.rx_bytes = 10;
	load_parts_from_nodes(&a, &b, 1e9, &p);
	assert_true(isnan(p.cpu));
	assert_true(isnan(p.network));

	/* Memory without a total is unknown. */
	b.mem_total = 0;
	load_parts_from_nodes(NULL, &b, 1e9, &p);
	assert_true(isnan(p.memory));
}

static void test_load_combine(void **state)
{
	struct load_weights w = { .cpu = 0.5, .memory = 0.25, .network = 0.25 };
	struct load_parts p = { .cpu = 0.8, .memory = 0.4, .network = 0.0 };
	double l;

	(void)state;
	assert_true(load_combine(&w, &p, &l));
	assert_float_equal(l, 0.5, 1e-12);
	/* A weighted component unknown: the load is unknown. */
	p.network = NAN;
	assert_false(load_combine(&w, &p, &l));
	/* ...unless its weight is 0. */
	w.network = 0;
	assert_true(load_combine(&w, &p, &l));
	assert_float_equal(l, (0.5 * 0.8 + 0.25 * 0.4) / 0.75, 1e-12);
	/* Weights need not add up to 1. */
	w = (struct load_weights){ .cpu = 2, .memory = 2 };
	assert_true(load_combine(&w, &p, &l));
	assert_float_equal(l, 0.6, 1e-12);
	/* No weight at all: unknown. */
	w = (struct load_weights){ 0 };
	assert_false(load_combine(&w, &p, &l));
}

static void test_ppm(void **state)
{
	(void)state;
	assert_int_equal(level_to_ppm(0), 0);
	assert_int_equal(level_to_ppm(1), 1000000);
	assert_int_equal(level_to_ppm(0.4), 400000);
	assert_int_equal(level_to_ppm(2), 1000000);
	assert_int_equal(level_to_ppm(-1), 0);
	assert_int_equal(level_to_ppm(NAN), 0);
}

/* Loss over time: one lost probe weighs 1 / (probes in loss_window of
 * time), and is forgotten once that time has passed, whatever the round
 * length (with a count of probes it lingered for loss_window probes). */
static void test_loss_over_time(void **state)
{
	struct est_params p = P;
	struct rtt_est e;
	uint64_t t = 1000 * NSEC_PER_SEC, r[3];
	int i;

	(void)state;
	p.loss_window_ns = 2 * NSEC_PER_SEC;
	memset(&e, 0, sizeof(e));
	r[0] = r[1] = 10 * MS;
	rtt_est_round(&e, &p, t, r, 2, 1);		/* one of 3 lost */
	assert_float_equal(rtt_est_loss(&e), 1.0 / 3, 1e-12);
	for (i = 1; i < 20; i++) {			/* 100 ms rounds */
		r[0] = r[1] = r[2] = 10 * MS;
		rtt_est_round(&e, &p, t + i * 100 * MS, r, 3, 0);
	}
	assert_float_equal(rtt_est_loss(&e), 1.0 / 60, 1e-12);
	r[0] = r[1] = r[2] = 10 * MS;
	rtt_est_round(&e, &p, t + 2000 * MS, r, 3, 0);	/* 2 s later: gone */
	assert_float_equal(rtt_est_loss(&e), 0, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_window),
		cmocka_unit_test(test_srtt_round_low),
		cmocka_unit_test(test_congestion_formula),
		cmocka_unit_test(test_congestion_rounds),
		cmocka_unit_test(test_loss_window),
		cmocka_unit_test(test_loss_window_resize),
		cmocka_unit_test(test_loss_over_time),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_load_parts),
		cmocka_unit_test(test_load_combine),
		cmocka_unit_test(test_ppm),
	};

	return cmocka_run_group_tests_name("estimate", tests, NULL, NULL);
}
