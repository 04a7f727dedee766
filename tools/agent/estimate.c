// SPDX-License-Identifier: GPL-2.0
/*
 * Congestion: RTT above the path's own baseline.  The baseline is the
 * minimum RTT seen over baseline_window (kept per slot of a window/8, so
 * that an old minimum ages out without storing every sample); srtt is an
 * EWMA of each round's lowest RTT; queueing delay = srtt - baseline.
 * Loss over the last loss_window probes (or loss_window of time) adds
 * loss / full_loss.
 *
 * Load: CPU from the idle share of node_cpu_seconds_total's increase,
 * memory from MemAvailable / MemTotal, network from the byte counters'
 * rate against the link speed; a weighted mean of those.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "estimate.h"
#include "util.h"

void est_params_from_config(struct est_params *p, const struct config *c)
{
	p->baseline_window_ns = c->baseline_window_ns;
	p->rtt_smoothing = c->rtt_smoothing;
	p->full_delay_ns = c->full_congestion_delay_ns;
	p->full_loss = c->full_congestion_loss;
	p->loss_window = c->loss_window;
	p->loss_window_ns = c->loss_window_ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void baseline_add(struct rtt_est *e, const struct est_params *p,
			 uint64_t now, uint64_t rtt)
{
	uint64_t slot_len = p->baseline_window_ns / BASE_SLOTS;
	uint64_t start;
	unsigned int i;

	if (!slot_len)
		slot_len = 1;
	start = now - now % slot_len;
	i = (unsigned int)((now / slot_len) % BASE_SLOTS);
	if (!e->slot_used[i] || e->slot_start[i] != start) {
		e->slot_used[i] = true;
		e->slot_start[i] = start;
		e->slot_min[i] = rtt;
	} else if (rtt < e->slot_min[i]) {
		e->slot_min[i] = rtt;
	}
}

uint64_t rtt_est_baseline(const struct rtt_est *e, const struct est_params *p,
			  uint64_t now)
{
	uint64_t best = 0;
	unsigned int i;

	for (i = 0; i < BASE_SLOTS; i++) {
		/* A slot counts while any of it is inside the window. */
		if (!e->slot_used[i] ||
		    now - e->slot_start[i] >= p->baseline_window_ns +
					      p->baseline_window_ns / BASE_SLOTS)
			continue;
		if (!best || e->slot_min[i] < best)
			best = e->slot_min[i];
	}
	return best;
}

static bool loss_bit(const uint8_t *bits, unsigned int i)
{
	return bits[i / 8] & (1u << (i % 8));
}

/*
 * loss_window changed (a reload keeps the history): lay the newest
 * min(filled, w) probes out again for a ring of w, oldest at 0, and count
 * their losses afresh.  Otherwise a raised window would go on counting
 * slots it overwrites, and loss would never fall back to 0.
 */
static void loss_resize(struct rtt_est *e, unsigned int w)
{
	uint8_t old[LOSS_MAX / 8];
	unsigned int keep = e->loss_filled < w ? e->loss_filled : w;
	unsigned int ow = e->loss_w, i, k;

	memcpy(old, e->lost_bits, sizeof(old));
	memset(e->lost_bits, 0, sizeof(e->lost_bits));
	e->loss_lost = 0;
	for (i = 0; i < keep && ow; i++) {
		/* The (keep - i)-th newest of the old ring. */
		k = (e->loss_pos + ow - (keep - i)) % ow;
		if (loss_bit(old, k)) {
			e->lost_bits[i / 8] |= (uint8_t)(1u << (i % 8));
			e->loss_lost++;
		}
	}
	e->loss_filled = ow ? keep : 0;
	e->loss_pos = e->loss_filled % w;
	e->loss_w = w;
}

static void loss_add(struct rtt_est *e, const struct est_params *p, bool lost)
{
	unsigned int w = p->loss_window ? p->loss_window : 1;
	unsigned int i, byte, bit;

	if (w > LOSS_MAX)
		w = LOSS_MAX;
	if (e->loss_w != w)
		loss_resize(e, w);
	i = e->loss_pos;
	byte = i / 8;
	bit = 1u << (i % 8);
	if (e->loss_filled == w) {
		if (e->lost_bits[byte] & bit)
			e->loss_lost--;
	} else {
		e->loss_filled++;
	}
	if (lost) {
		e->lost_bits[byte] |= (uint8_t)bit;
		e->loss_lost++;
	} else {
		e->lost_bits[byte] &= (uint8_t)~bit;
	}
	e->loss_pos = (i + 1) % w;
}

double rtt_est_loss(const struct rtt_est *e)
{
	if (e->time_mode)
		return e->loss_t;
	return e->loss_filled ? (double)e->loss_lost / e->loss_filled : 0;
}

static void loss_time_add(struct rtt_est *e, const struct est_params *p,
			  uint64_t now, unsigned int ok, unsigned int lost)
{
	unsigned int i, ok_sum = 0, lost_sum = 0;

	e->time_mode = true;
	e->lr[e->lr_pos].t = now;
	e->lr[e->lr_pos].ok = (uint16_t)(ok > 65535 ? 65535 : ok);
	e->lr[e->lr_pos].lost = (uint16_t)(lost > 65535 ? 65535 : lost);
	e->lr_pos = (e->lr_pos + 1) % LOSS_ROUNDS;
	if (e->lr_n < LOSS_ROUNDS)
		e->lr_n++;
	for (i = 0; i < e->lr_n; i++) {
		const unsigned int k = (e->lr_pos + LOSS_ROUNDS - 1 - i) % LOSS_ROUNDS;

		if (now - e->lr[k].t >= p->loss_window_ns)
			break;
		ok_sum += e->lr[k].ok;
		lost_sum += e->lr[k].lost;
	}
	e->loss_t = ok_sum + lost_sum ? (double)lost_sum / (ok_sum + lost_sum) : 0;
}

void rtt_est_round(struct rtt_est *e, const struct est_params *p, uint64_t now,
		   uint64_t *rtts, unsigned int n, unsigned int lost)
{
	unsigned int i;
	uint64_t low;

	if (p->loss_window_ns) {
		loss_time_add(e, p, now, n, lost);
	} else {
		e->time_mode = false;
		for (i = 0; i < n; i++)
			loss_add(e, p, false);
		for (i = 0; i < lost; i++)
			loss_add(e, p, true);
	}
	e->last_ok = n > 0;
	if (!n)
		return;
	qsort(rtts, n, sizeof(*rtts), cmp_u64);
	baseline_add(e, p, now, rtts[0]);
	/* The round's lowest RTT: a queue delays every probe of the round,
	 * while a descheduled sender or receiver delays only some. */
	low = rtts[0];
	e->last_rtt_ns = low;
	if (!e->have_srtt) {
		e->srtt_ns = (double)low;
		e->have_srtt = true;
	} else {
		e->srtt_ns = p->rtt_smoothing * e->srtt_ns +
			     (1 - p->rtt_smoothing) * (double)low;
	}
}

double congestion_level(double srtt_ns, double baseline_ns, double loss,
			const struct est_params *p)
{
	double q = srtt_ns > baseline_ns ? srtt_ns - baseline_ns : 0;
	double c = q / (double)p->full_delay_ns;

	if (p->full_loss > 0)
		c += loss / p->full_loss;
	return clamp01(c);
}

bool rtt_est_congestion(const struct rtt_est *e, const struct est_params *p,
			uint64_t now, double *c)
{
	uint64_t base = rtt_est_baseline(e, p, now);

	if (!e->last_ok || !e->have_srtt || !base)
		return false;
	*c = congestion_level(e->srtt_ns, (double)base, rtt_est_loss(e), p);
	return true;
}

void level_update(struct level *l, double raw, double band)
{
	if (isnan(raw)) {
		l->known = false;
		return;
	}
	raw = clamp01(raw);
	if (!l->known || fabs(raw - l->value) >= band ||
	    ((raw == 0 || raw == 1) && raw != l->value)) {
		l->value = raw;
		l->known = true;
	}
}

void load_parts_from_nodes(const struct node_sample *prev,
			   const struct node_sample *cur, double link_bps,
			   struct load_parts *out)
{
	out->cpu = out->memory = out->network = NAN;

	if (cur->have_mem && cur->mem_total > 0 && cur->mem_available >= 0)
		out->memory = clamp01(1 - cur->mem_available / cur->mem_total);
	if (!prev || prev->t_ns >= cur->t_ns)
		return;
	if (prev->have_cpu && cur->have_cpu) {
		double total = cur->cpu_total_s - prev->cpu_total_s;
		double idle = cur->cpu_idle_s - prev->cpu_idle_s;

		/* A restarted exporter or host resets the counters. */
		if (total > 0 && idle >= 0 && idle <= total * 1.0001)
			out->cpu = clamp01(1 - idle / total);
	}
	if (prev->have_net && cur->have_net && link_bps > 0) {
		double dt = (double)(cur->t_ns - prev->t_ns) / 1e9;
		double rx = cur->rx_bytes - prev->rx_bytes;
		double tx = cur->tx_bytes - prev->tx_bytes;

		if (rx >= 0 && tx >= 0)
			out->network = clamp01((rx > tx ? rx : tx) * 8 / dt / link_bps);
	}
}

bool load_combine(const struct load_weights *w, const struct load_parts *parts,
		  double *load)
{
	const double wt[3] = { w->cpu, w->memory, w->network };
	const double v[3] = { parts->cpu, parts->memory, parts->network };
	double sum = 0, acc = 0;
	int i;

	for (i = 0; i < 3; i++) {
		if (wt[i] <= 0)
			continue;
		if (isnan(v[i]))
			return false;
		sum += wt[i];
		acc += wt[i] * clamp01(v[i]);
	}
	if (sum <= 0)
		return false;
	*load = clamp01(acc / sum);
	return true;
}
