// SPDX-License-Identifier: GPL-2.0
/*
 * The measuring round, the push and the reload.  See agent.h for the life
 * of a round; what is shown of it (--dry-run, /metrics) is in report.c.
 */
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_sched.h>

#include "agent.h"
#include "scrape.h"
#include "util.h"

#define SCRAPE_MAX_BODY	(32u << 20)
#define ROUND_SLACK_NS	(20 * NSEC_PER_MSEC)

/* Why a destination is not pushed: shown by --dry-run, logged on change. */
static const char WHY_NO_REPLY[] = "no probe reply";
static const char WHY_NO_BASELINE[] = "no RTT yet";
static const char WHY_METRICS_DEAD[] = "metrics source failed";
static const char WHY_LOAD_WAIT[] = "load needs a second scrape";
static const char WHY_LOAD_MISSING[] = "metrics lack a weighted component";
static const char WHY_PROMQL[] = "no data from Prometheus";

static void dest_reset(struct dest_state *d, const struct cfg_dest *cfg)
{
	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->qdelay_s = d->load_meas = NAN;
}

/* The actuators of a qdisc: its dumped parameters, else the defaults. */
static void qdisc_actuators(const struct qdisc_inst *qi, struct ctl_actuator *c,
			    struct ctl_actuator *l)
{
	const struct nl_qdisc_params *p = qi ? &qi->q.params : NULL;

	ctl_actuator_congestion_default(c);
	ctl_actuator_load_default(l);
	if (!p || !p->known)
		return;
	*c = (struct ctl_actuator){ .weight_ns = p->congestion_weight_ns,
		.threshold_ppm = p->congestion_threshold_ppm,
		.max_delay_ns = p->max_delay_ns, .quantum = p->quantum };
	*l = (struct ctl_actuator){ .weight_ns = p->load_weight_ns,
		.threshold_ppm = p->load_threshold_ppm,
		.max_delay_ns = p->max_delay_ns, .quantum = p->quantum };
}

/*
 * The controllers' range: from the slowest rate every fed qdisc can
 * express (the largest of their minimums) to max_rate ("not shaping").
 */
static void control_params(struct agent *a)
{
	const struct config *c = a->cfg;
	double cmin = 0, lmin = 0, xmax = log(c->max_rate_bps);
	double ivl = (double)c->interval_ns / 1e9;
	struct ctl_actuator ac, al;
	size_t i;

	for (i = 0; i < (a->nqi ? a->nqi : 1); i++) {
		qdisc_actuators(a->nqi ? &a->qi[i] : NULL, &ac, &al);
		cmin = fmax(cmin, ctl_actuator_rate_min(&ac));
		lmin = fmax(lmin, ctl_actuator_rate_min(&al));
	}
	/* An actuator that cannot shape: the range is empty (output 0). */
	ctl_params_congestion(&a->pc, (double)c->target_delay_ns / 1e9, ivl,
			      cmin > 0 ? fmin(log(cmin), xmax) : xmax, xmax);
	ctl_params_load(&a->pl, c->target_load, ivl,
			lmin > 0 ? fmin(log(lmin), xmax) : xmax, xmax);
}

void dest_prefix_text(const struct cfg_dest *c, char *buf, size_t len)
{
	format_prefix(buf, len, c->family, c->addr, c->plen);
}

/*
 * Bind /metrics if it is wanted and not bound yet.  A taken port is not
 * fatal (the unit would restart-loop and nothing would be shaped): the
 * agent logs it once and tries again every round.
 */
static void metrics_retry(struct agent *a)
{
	char err[256], addr[80];

	if (!a->metrics_wanted)
		return;
	format_sockaddr(addr, sizeof(addr), &a->cfg->metrics_addr);
	if (metrics_open(&a->ms, &a->cfg->metrics_addr, a->cfg->metrics_addrlen,
			 agent_render_metrics, a, err, sizeof(err))) {
		if (!a->metrics_logged)
			log_err("%s (%s): serving no metrics for now, trying again every interval",
				err, addr);
		a->metrics_logged = true;
		return;
	}
	if (a->metrics_logged)
		log_notice("metrics_listen %s: serving /metrics now", addr);
	a->metrics_wanted = false;
	a->metrics_logged = false;
}

int agent_init(struct agent *a, struct config *cfg, bool dry_run, bool json)
{
	size_t i;
	int r;

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->dry_run = dry_run;
	a->json = json;
	a->out = stdout;
	a->ms.lfd = -1;
	a->delivered_bps = NAN;
	est_params_from_config(&a->ep, cfg);
	a->d = xcalloc(cfg->ndests, sizeof(*a->d));
	a->nd = cfg->ndests;
	for (i = 0; i < a->nd; i++)
		dest_reset(&a->d[i], &cfg->dests[i]);
	a->qc = xcalloc(cfg->nqdiscs, sizeof(*a->qc));
	probe_engine_init(&a->pe);
	if (http_init(&a->http)) {
		log_err("cannot initialise libcurl");
		return -1;
	}
	a->have_http = true;
	if (!dry_run) {
		r = nl_open(&a->nl, true);
		if (r) {
			log_err("cannot open rtnetlink: %s", strerror(-r));
			return -1;
		}
		a->have_nl = true;
	}
	a->metrics_wanted = cfg->metrics_enabled && !dry_run;
	metrics_retry(a);
	a->rescan = true;
	return 0;
}

void agent_destroy(struct agent *a)
{
	size_t i;

	for (i = 0; i < PQ_COUNT; i++)
		promql_vec_free(&a->pq[i]);
	probe_engine_close(&a->pe);
	if (a->have_http)
		http_cleanup(&a->http);
	if (a->have_nl)
		nl_close(&a->nl);
	metrics_close(&a->ms);
	free(a->d);
	free(a->qi);
	free(a->qc);
	config_free(a->cfg);
	memset(a, 0, sizeof(*a));
}

/* ---- measurements ---------------------------------------------------- */

static void on_probe(void *arg, void *owner, bool ok, uint64_t rtt_ns)
{
	struct dest_state *d = owner;

	(void)arg;
	if (!ok) {
		d->nlost++;
		d->probes_lost++;
	} else if (d->nrtt < ROUND_RTTS) {
		d->rtts[d->nrtt++] = rtt_ns;
	}
}

static void on_scrape(void *arg, void *owner, int status, const char *body,
		      size_t len, const char *err)
{
	struct dest_state *d = owner;
	struct prom_stats st;
	char why[300];

	(void)arg;
	d->scrape_pending = false;
	d->scrapes++;
	why[0] = '\0';
	if (err)
		snprintf(why, sizeof(why), "%s", err);
	else if (status != 200)
		snprintf(why, sizeof(why), "HTTP status %d", status);
	else if (node_sample_parse(body, len, d->cfg->net_device, now_ns(),
				   &d->cur, &st))
		snprintf(why, sizeof(why), "not a Prometheus text exposition");
	if (why[0]) {
		d->scrape_errors++;
		log_rl(&d->scrape_rl, now_ns(), LOG_LVL_INFO, "%s: %s: %s", d->cfg->name,
		       d->cfg->metrics_url, why);
		return;
	}
	if (st.bad_lines)
		log_debug("%s: %u malformed line(s), first at line %u", d->cfg->name,
			  st.bad_lines, st.first_bad_line);
	if (d->cfg->w.network > 0 && d->cur.have_net &&
	    d->cur.net_source == NET_ALL_BUT_LO && !d->net_warned) {
		log_notice("%s: %s lists no default route: counting every device but lo (a bond and its slaves, a bridge and its ports are counted twice); set net_device or enable node_exporter's network_route collector",
			   d->cfg->name, d->cfg->metrics_url);
		d->net_warned = true;
	}
	d->scrape_ok = true;
}

static void on_promql(void *arg, void *owner, int status, const char *body,
		      size_t len, const char *err)
{
	struct agent *a = arg;
	size_t i = (size_t)((struct promql_vec *)owner - a->pq);
	char why[300];

	a->pq_pending--;
	why[0] = '\0';
	if (err) {
		snprintf(why, sizeof(why), "%s", err);
	} else if (promql_parse_vector(body, len, &a->pq[i], why, sizeof(why))) {
		if (status != 200 && !strstr(why, "query failed"))
			snprintf(why, sizeof(why), "HTTP status %d", status);
	}
	if (why[0]) {
		a->promql_errors++;
		log_rl(&a->promql_rl, now_ns(), LOG_LVL_WARN, "Prometheus query %zu: %s", i, why);
		return;
	}
	a->pq_ok[i] = true;
}

void agent_round_start(struct agent *a, uint64_t now)
{
	const struct config *c = a->cfg;
	bool need_pq = false;
	uint64_t wait;
	size_t i;
	unsigned int k;

	a->round_active = true;
	a->round_start = now;
	metrics_retry(a);
	/* Closed loop: probes outlive the round (see agent_round_finish);
	 * the round waits for them 0.8 interval at most. */
	wait = c->control == CONTROL_CLOSED ? c->interval_ns * 8 / 10 :
					      c->probe_timeout_ns;
	a->round_deadline = now + (wait > c->http_timeout_ns ?
				   wait : c->http_timeout_ns) + ROUND_SLACK_NS;
	for (i = 0; i < a->nd; i++) {
		struct dest_state *d = &a->d[i];
		const struct cfg_dest *dc = d->cfg;

		d->nrtt = d->nlost = 0;
		d->late_ns = 0;
		d->scrape_pending = d->scrape_ok = false;
		if (dc->probe != PROBE_NONE) {
			for (k = 0; k < c->probes; k++) {
				int r = probe_start(&a->pe, d, dc->probe, &dc->probe_addr,
						    dc->probe_addrlen, c->probe_timeout_ns);

				/* A probe that could not leave says nothing of
				 * the path: not sent, not lost. */
				if (r < 0 && probe_error_is_local(r)) {
					if (!d->probe_errors++)
						log_warn("%s: probe not sent: %s (not counted as loss)",
							 d->cfg->name, strerror(-r));
					continue;
				}
				d->probes_sent++;
				if (r) {
					d->nlost++;
					d->probes_lost++;
				}
			}
		}
		if (dc->metrics == METRICS_URL) {
			if (http_get(&a->http, dc->metrics_url, SCRAPE_ACCEPT,
				     c->http_timeout_ns, SCRAPE_MAX_BODY, d,
				     on_scrape, a))
				d->scrape_errors++;
			else
				d->scrape_pending = true;
		}
		need_pq |= dc->metrics == METRICS_PROMQL;
	}
	if (!need_pq)
		return;
	for (i = 0; i < PQ_COUNT; i++) {
		char q[512], *url;

		promql_vec_free(&a->pq[i]);
		a->pq_ok[i] = false;
		promql_query_text((enum promql_query)i, c->promql_rate_window_ns,
				  q, sizeof(q));
		url = promql_url(c->prometheus_url, q);
		if (!http_get(&a->http, url, "application/json", c->http_timeout_ns,
			      SCRAPE_MAX_BODY, &a->pq[i], on_promql, a))
			a->pq_pending++;
		else
			a->promql_errors++;
		free(url);
	}
}

bool agent_round_done(const struct agent *a)
{
	return a->round_active && a->pe.n == 0 && http_pending(&a->http) == 0;
}

static void end_pending(struct agent *a)
{
	size_t i;

	for (i = 0; i < a->nd; i++) {
		struct dest_state *d = &a->d[i];

		if (d->scrape_pending) {
			http_cancel_owner(&a->http, d);
			d->scrape_pending = false;
			d->scrape_errors++;
			log_rl(&d->scrape_rl, now_ns(), LOG_LVL_INFO,
			       "%s: %s: no answer within http_timeout",
			       d->cfg->name, d->cfg->metrics_url);
		}
	}
	for (i = 0; i < PQ_COUNT; i++)
		http_cancel_owner(&a->http, &a->pq[i]);
	if (a->pq_pending) {
		a->promql_errors++;
		log_rl(&a->promql_rl, now_ns(), LOG_LVL_WARN,
		       "Prometheus: no answer within http_timeout");
	}
	a->pq_pending = 0;
}

/* ---- levels ------------------------------------------------------------ */

/*
 * What the fed qdiscs sent since the last round (bit/s, summed): an upper
 * bound of any one destination's rate, the controllers' ceiling.  NaN
 * when unknown (dry run, a first reading, a qdisc without stats).
 */
static void delivered(struct agent *a, uint64_t now)
{
	uint32_t *h = xcalloc(a->nqi ? a->nqi : 1, sizeof(*h));
	uint64_t *b = xcalloc(a->nqi ? a->nqi : 1, sizeof(*b));
	bool *f = xcalloc(a->nqi ? a->nqi : 1, sizeof(*f));
	bool known = a->nqi > 0 && !a->dry_run;
	double sum = 0;
	size_t i, k, n;

	/* One dump per device, for all its fed qdiscs (an mq has many). */
	for (i = 0; i < a->nqi && !a->dry_run; i++) {
		if (i && a->qi[i].q.ifindex == a->qi[i - 1].q.ifindex)
			continue;
		for (n = 0, k = i; k < a->nqi && a->qi[k].q.ifindex == a->qi[i].q.ifindex; k++)
			h[n++] = a->qi[k].q.handle;
		if (nl_qdisc_bytes(&a->nl, a->qi[i].q.ifindex, h, n, b, f))
			memset(f, 0, n * sizeof(*f));
		for (k = 0; k < n; k++) {
			struct qdisc_inst *qi = &a->qi[i + k];

			if (!f[k]) {
				qi->have_bytes = false;
				known = false;
				continue;
			}
			if (qi->have_bytes && b[k] >= qi->bytes && now > qi->bytes_t)
				sum += (double)(b[k] - qi->bytes) * 8e9 /
				       (double)(now - qi->bytes_t);
			else
				known = false;
			qi->bytes = b[k];
			qi->bytes_t = now;
			qi->have_bytes = true;
		}
	}
	free(h);
	free(b);
	free(f);
	a->delivered_bps = known && a->cfg->control == CONTROL_CLOSED ? sum : NAN;
}

/* Closed loop: the queueing delay (the round's lowest RTT above the
 * baseline, plus loss as a fraction of target) drives the controller. */
static const char *dest_congestion_closed(struct agent *a, struct dest_state *d,
					  uint64_t now)
{
	const struct config *c = a->cfg;
	uint64_t base;
	double q, m;

	d->qdelay_s = NAN;
	if (d->cfg->probe == PROBE_NONE) {
		ctl_reset(&d->cc, &a->pc);
		level_update(&d->congestion, 0, 0);
		return NULL;
	}
	rtt_est_round(&d->rtt, &a->ep, now, d->rtts, d->nrtt, d->nlost);
	base = rtt_est_baseline(&d->rtt, &a->ep, now);
	if (!d->nrtt && base && d->late_ns > base && d->last_reply_ns &&
	    now - d->last_reply_ns <= c->probe_timeout_ns) {
		/*
		 * No reply within the round, but a path answered before: a
		 * queue deeper than the round is the likeliest cause (an
		 * 800 ms bottleneck buffer outlives a 200 ms round).  The
		 * oldest probe's age is a lower bound on the RTT, so on the
		 * queueing delay: act on it (the loss it also counted is the
		 * same evidence, not added again).  Only while the path
		 * answered within probe_timeout: a dead path gets no reply,
		 * its probes time out, nothing is pushed and the kernel
		 * fails open.
		 */
		q = (double)(d->late_ns - base) / 1e9;
		m = q;
	} else if (!d->rtt.last_ok || !base) {
		level_update(&d->congestion, NAN, 0);
		return d->nrtt ? WHY_NO_BASELINE : WHY_NO_REPLY;
	} else {
		q = d->rtt.last_rtt_ns > base ?
		    (double)(d->rtt.last_rtt_ns - base) / 1e9 : 0;
		m = q + a->pc.target * rtt_est_loss(&d->rtt) /
			c->full_congestion_loss;
	}
	d->qdelay_s = q;
	/* The round after a drain measured the drained queue (for the
	 * baseline): not an error to act on. */
	if (ctl_drain_before(&d->drain, &d->cc, &a->pc)) {
		/* The destination gets at most what the qdiscs sent. */
		ctl_set_delivered(&d->cc, a->delivered_bps);
		if (!ctl_update(&d->cc, &a->pc, m)) {
			level_update(&d->congestion, NAN, 0);
			return WHY_NO_REPLY;
		}
	}
	ctl_drain_after(&d->drain, &d->cc, &a->pc, (double)now / 1e9,
			(double)c->baseline_window_ns / 4e9);
	level_update(&d->congestion, ctl_output(&d->cc, &a->pc), 0);
	return NULL;
}

static const char *dest_congestion(struct agent *a, struct dest_state *d,
				   uint64_t now)
{
	double c;

	if (a->cfg->control == CONTROL_CLOSED)
		return dest_congestion_closed(a, d, now);
	if (d->cfg->probe == PROBE_NONE) {
		level_update(&d->congestion, 0, a->cfg->hysteresis);
		return NULL;
	}
	rtt_est_round(&d->rtt, &a->ep, now, d->rtts, d->nrtt, d->nlost);
	if (!rtt_est_congestion(&d->rtt, &a->ep, now, &c)) {
		level_update(&d->congestion, NAN, 0);
		return d->nrtt ? WHY_NO_BASELINE : WHY_NO_REPLY;
	}
	level_update(&d->congestion, c, a->cfg->hysteresis);
	return NULL;
}

static const char *dest_load(struct agent *a, struct dest_state *d)
{
	const struct cfg_dest *dc = d->cfg;
	double load, rx, tx;

	d->parts.cpu = d->parts.memory = d->parts.network = NAN;
	d->load_meas = NAN;
	if (d->load_reset) {
		/* Another source since the reload: no rate across the two,
		 * no controller state from the old one. */
		d->load_reset = false;
		d->have_prev = false;
		ctl_reset(&d->cl, &a->pl);
		d->load.known = false;
	}
	switch (dc->metrics) {
	case METRICS_NONE:
		ctl_reset(&d->cl, &a->pl);
		level_update(&d->load, 0, a->cfg->hysteresis);
		return NULL;
	case METRICS_URL:
		if (!d->scrape_ok) {
			level_update(&d->load, NAN, 0);
			return WHY_METRICS_DEAD;
		}
		load_parts_from_nodes(d->have_prev ? &d->prev : NULL, &d->cur,
				      dc->link_speed_bps, &d->parts);
		d->prev = d->cur;
		d->have_prev = true;
		break;
	case METRICS_PROMQL:
		if (a->pq_ok[PQ_CPU])
			promql_instance_value(&a->pq[PQ_CPU], dc->instance, &d->parts.cpu);
		if (a->pq_ok[PQ_MEMORY])
			promql_instance_value(&a->pq[PQ_MEMORY], dc->instance,
					      &d->parts.memory);
		if (a->pq_ok[PQ_RX] && a->pq_ok[PQ_TX] && dc->link_speed_bps > 0 &&
		    promql_instance_net(&a->pq[PQ_RX], dc->instance, dc->net_device, &rx) &&
		    promql_instance_net(&a->pq[PQ_TX], dc->instance, dc->net_device, &tx))
			d->parts.network = clamp01((rx > tx ? rx : tx) * 8 /
						   dc->link_speed_bps);
		if (!isnan(d->parts.cpu))
			d->parts.cpu = clamp01(d->parts.cpu);
		if (!isnan(d->parts.memory))
			d->parts.memory = clamp01(d->parts.memory);
		break;
	}
	if (!load_combine(&dc->w, &d->parts, &load)) {
		level_update(&d->load, NAN, 0);
		if (dc->metrics == METRICS_PROMQL)
			return WHY_PROMQL;
		/* A rate needs two scrapes: say so rather than "missing". */
		if ((dc->w.cpu > 0 && isnan(d->parts.cpu) && d->cur.have_cpu) ||
		    (dc->w.network > 0 && isnan(d->parts.network) && d->cur.have_net))
			return WHY_LOAD_WAIT;
		return WHY_LOAD_MISSING;
	}
	if (a->cfg->control == CONTROL_CLOSED) {
		d->load_meas = load;
		ctl_set_delivered(&d->cl, a->delivered_bps);
		ctl_update(&d->cl, &a->pl, load);
		level_update(&d->load, ctl_output(&d->cl, &a->pl), 0);
		return NULL;
	}
	level_update(&d->load, load, a->cfg->hysteresis);
	return NULL;
}

static void dest_finish(struct agent *a, struct dest_state *d, uint64_t now)
{
	const char *why_c, *why_l, *why;

	if (!d->ctl_ready) {
		ctl_reset(&d->cc, &a->pc);
		ctl_reset(&d->cl, &a->pl);
		d->ctl_ready = true;
	}
	/* New parameters (reload, qdisc change): same state, new range. */
	ctl_rebase(&d->cc, &a->pc);
	ctl_rebase(&d->cl, &a->pl);
	why_c = dest_congestion(a, d, now);
	why_l = dest_load(a, d);
	why = why_c ? why_c : why_l;

	if (why != d->why || a->rounds == 1) {
		if (why)
			log_msg(why == WHY_LOAD_WAIT || why == WHY_NO_BASELINE ?
				LOG_LVL_INFO : LOG_LVL_NOTICE,
				"%s: not pushed: %s%s", d->cfg->name, why,
				d->pushed ? " (its kernel entry fails open after stale_after)" : "");
		else
			log_notice("%s: measured, pushing", d->cfg->name);
	}
	d->why = why;
	d->pushed = !why;
	/* -vv: one line per destination and round, what the closed loop
	 * saw and did (Documentation/control.md). */
	if (a->cfg->control == CONTROL_CLOSED)
		log_debug("%s: round %llu (%.1f s): rtts %u lost %u q %.2f ms rate %.4g bit/s%s delivered %.4g bit/s output %.3f%s",
			  d->cfg->name, (unsigned long long)a->rounds,
			  (double)now / 1e9, d->nrtt, d->nlost, d->qdelay_s * 1e3,
			  ctl_rate(&d->cc, &a->pc),
			  d->cc.at_ceiling ? " (at the ceiling: not shaping)" : "",
			  a->delivered_bps, ctl_output(&d->cc, &a->pc),
			  why ? " not pushed" : "");
}

/* ---- qdiscs and the push ----------------------------------------------- */

static void handle_text(char *buf, size_t len, uint32_t h)
{
	if (h == TC_H_ROOT)
		snprintf(buf, len, "root");
	else
		snprintf(buf, len, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
}

static void qdisc_name(const struct agent *a, const struct qdisc_inst *qi,
		       char *buf, size_t len)
{
	char h[16], p[16];

	handle_text(h, sizeof(h), qi->q.handle);
	handle_text(p, sizeof(p), qi->q.parent);
	snprintf(buf, len, "%s %s (parent %s)", a->cfg->qdiscs[qi->cfg_idx].dev, h, p);
}

/*
 * A qdisc found again (same device and handle) keeps what was done to it:
 * stale_after sent, foreign entries deleted.  One deleted and created
 * again is announced by an RTM_DELQDISC: NL_EV_GONE starts it afresh.
 */
static void keep_flags(const struct agent *a, struct qdisc_inst *qi)
{
	size_t i;

	for (i = 0; i < a->nqi; i++) {
		if (a->qi[i].q.ifindex == qi->q.ifindex &&
		    a->qi[i].q.handle == qi->q.handle &&
		    a->qi[i].cfg_idx == qi->cfg_idx) {
			qi->stale_after_sent = a->qi[i].stale_after_sent;
			qi->reconciled = a->qi[i].reconciled;
			qi->have_bytes = a->qi[i].have_bytes;
			qi->bytes = a->qi[i].bytes;
			qi->bytes_t = a->qi[i].bytes_t;
			return;
		}
	}
}

static void resolve(struct agent *a)
{
	struct qdisc_inst *list = NULL;
	size_t n = 0, i, k, j;
	bool missing = false;
	char err[256], name[64];

	for (i = 0; i < a->cfg->nqdiscs; i++) {
		const struct cfg_qdisc *cq = &a->cfg->qdiscs[i];
		unsigned int ifindex = if_nametoindex(cq->dev);
		struct nl_qdisc *found = NULL;
		size_t nf = 0, matched = 0;

		if (!ifindex) {
			if (!a->missing_logged)
				log_warn("[qdisc] line %d: no device %s", cq->line, cq->dev);
			missing = true;
			continue;
		}
		if (nl_find_qdiscs(&a->nl, (int)ifindex, &found, &nf, err, sizeof(err))) {
			log_err("listing the qdiscs of %s: %s", cq->dev, err);
			missing = true;
			continue;
		}
		for (k = 0; k < nf; k++) {
			if (!cq->any_parent && found[k].parent != cq->parent)
				continue;
			matched++;
			for (j = 0; j < n; j++) {
				if (list[j].q.ifindex == found[k].ifindex &&
				    list[j].q.handle == found[k].handle)
					break;
			}
			if (j < n)
				continue;
			list = xrealloc(list, (n + 1) * sizeof(*list));
			list[n++] = (struct qdisc_inst){ .q = found[k], .cfg_idx = i };
			keep_flags(a, &list[n - 1]);
		}
		free(found);
		if (!matched) {
			if (!a->missing_logged)
				log_warn("[qdisc] line %d: no flowshape qdisc on %s%s",
					 cq->line, cq->dev,
					 cq->any_parent ? "" : " under that parent");
			missing = true;
		}
	}
	/* Say what we feed when it changes. */
	for (i = 0; i < n; i++) {
		if (list[i].stale_after_sent)
			continue;
		qdisc_name(a, &list[i], name, sizeof(name));
		log_notice("feeding flowshape qdisc %s", name);
	}
	free(a->qi);
	a->qi = list;
	a->nqi = n;
	/* Every new qdisc gets stale_after with its next push: it has the
	 * kernel's default. */
	a->missing_logged = missing;
	a->rescan = missing;	/* keep looking for the missing ones */
}

/* The levels for one qdisc (closed loop: its own delay function turns
 * the controllers' rates into levels; NULL: the defaults). */
static size_t build_updates(const struct agent *a, const struct qdisc_inst *qi,
			    struct nl_dest **out)
{
	struct nl_dest *u = xcalloc(a->nd, sizeof(*u));
	struct ctl_actuator ac, al;
	size_t i, n = 0;

	qdisc_actuators(qi, &ac, &al);
	for (i = 0; i < a->nd; i++) {
		const struct dest_state *d = &a->d[i];

		if (!d->pushed || !d->congestion.known || !d->load.known)
			continue;
		u[n].family = d->cfg->family;
		memcpy(u[n].addr, d->cfg->addr, 16);
		u[n].plen = d->cfg->plen;
		if (a->cfg->control == CONTROL_CLOSED) {
			u[n].congestion_ppm = ctl_level_ppm(&ac, ctl_rate(&d->cc, &a->pc));
			u[n].load_ppm = ctl_level_ppm(&al, ctl_rate(&d->cl, &a->pl));
		} else {
			u[n].congestion_ppm = level_to_ppm(d->congestion.value);
			u[n].load_ppm = level_to_ppm(d->load.value);
		}
		n++;
	}
	*out = u;
	return n;
}

/* What the kernel made of it: the delay each entry yields now. */
static void read_back(struct agent *a, const struct qdisc_inst *qi)
{
	struct nl_dest_info *info = NULL;
	size_t n = 0, i, k;
	char err[256];

	if (nl_dump_dests(&a->nl, &qi->q, &info, &n, err, sizeof(err))) {
		log_debug("reading the destination table: %s", err);
		return;
	}
	for (i = 0; i < a->nd; i++) {
		struct dest_state *d = &a->d[i];

		d->kernel_known = false;
		for (k = 0; k < n; k++) {
			if (info[k].family == d->cfg->family &&
			    info[k].plen == d->cfg->plen &&
			    !memcmp(info[k].addr, d->cfg->addr,
				    d->cfg->family == AF_INET ? 4 : 16)) {
				d->kernel_known = true;
				d->kernel_stale = info[k].stale;
				d->kernel_delay_ns = info[k].delay_ns;
				break;
			}
		}
	}
	free(info);
}

/*
 * The ownership rule (flowshape-agent.conf(5), foreign_entries): the agent
 * owns the whole table of every qdisc it feeds.  When it first feeds a
 * qdisc (start-up, reload, a qdisc found) it deletes the entries whose
 * prefix is not one of its destinations: left over from a configuration
 * edited while it was stopped, they would go stale, and a stale /32
 * shadows a live /24 (the kernel's LPM does not skip it).
 */
static void reconcile(struct agent *a, struct qdisc_inst *qi)
{
	struct nl_dest_info *info = NULL;
	struct nl_dest *keep, *del;
	size_t ninfo = 0, n, i;
	char err[512], name[64];

	if (a->cfg->qdiscs[qi->cfg_idx].keep_foreign) {
		qi->reconciled = true;
		return;
	}
	qdisc_name(a, qi, name, sizeof(name));
	if (nl_dump_dests(&a->nl, &qi->q, &info, &ninfo, err, sizeof(err))) {
		log_warn("listing the table of %s: %s (foreign entries kept for now)",
			 name, err);
		return;
	}
	keep = xcalloc(a->nd ? a->nd : 1, sizeof(*keep));
	del = xcalloc(ninfo ? ninfo : 1, sizeof(*del));
	for (i = 0; i < a->nd; i++) {
		keep[i].family = a->d[i].cfg->family;
		memcpy(keep[i].addr, a->d[i].cfg->addr, 16);
		keep[i].plen = a->d[i].cfg->plen;
	}
	n = nl_dests_foreign(info, ninfo, keep, a->nd, del);
	if (n && nl_push(&a->nl, &qi->q, 0, del, n, err, sizeof(err))) {
		log_err("deleting %zu foreign entr%s from %s: %s", n,
			n == 1 ? "y" : "ies", name, err);
	} else {
		if (n)
			log_notice("%s: deleted %zu entr%s whose prefix is not configured (foreign_entries = delete)",
				   name, n, n == 1 ? "y" : "ies");
		a->foreign_deleted += n;
		qi->reconciled = true;
	}
	free(info);
	free(keep);
	free(del);
}

/* Push the current levels to one qdisc; *read: the table was read back. */
static int push_one(struct agent *a, struct qdisc_inst *qi, bool *read)
{
	struct qdisc_counters *qc = &a->qc[qi->cfg_idx];
	uint64_t stale = qi->stale_after_sent ? 0 : a->cfg->stale_after_ns;
	char err[512], name[64];
	struct nl_dest *u;
	size_t n;
	int r;

	if (!qi->reconciled)
		reconcile(a, qi);
	n = build_updates(a, qi, &u);
	if (!n && !stale) {
		free(u);
		return 0;
	}
	r = nl_push(&a->nl, &qi->q, stale, u, n, err, sizeof(err));
	free(u);
	if (r) {
		qdisc_name(a, qi, name, sizeof(name));
		log_rl(&qc->push_rl, now_ns(), LOG_LVL_ERR, "push to %s refused: %s", name, err);
		qc->push_errors++;
		a->push_errors++;
		a->rescan = true;
		return -1;
	}
	qc->pushes++;
	a->pushes++;
	qi->stale_after_sent = true;
	if (!*read && a->cfg->metrics_enabled) {
		read_back(a, qi);
		*read = true;
	}
	return 0;
}

static void push_status(struct agent *a, int failed)
{
	size_t n, i;

	for (n = 0, i = 0; i < a->nd; i++)
		n += a->d[i].pushed && a->d[i].congestion.known && a->d[i].load.known;
	snprintf(a->status, sizeof(a->status), "%zu of %zu destinations pushed to %zu qdisc(s)%s",
		 n, a->nd, a->nqi, failed ? ", push errors" : "");
}

static int push_all(struct agent *a)
{
	bool read = false;
	int failed = 0;
	size_t i;

	if (a->rescan)
		resolve(a);
	for (i = 0; i < a->nqi; i++)
		failed += push_one(a, &a->qi[i], &read) != 0;
	push_status(a, failed);
	return failed;
}

/*
 * Another writer changed a qdisc we feed (a second agent's push, "tc
 * qdisc change"): push again only to a qdisc that is new to us or whose
 * table lost entries we pushed.  Pushing on every such notification made
 * two writers push in a loop, each answering the other's push.
 */
static void check_tables(struct agent *a)
{
	struct nl_dest_info *info;
	struct nl_dest *u;
	size_t i, n, ninfo, missing;
	char err[512], name[64];
	bool read = false, push;
	int failed = 0;

	for (i = 0; i < a->nqi; i++) {
		struct qdisc_inst *qi = &a->qi[i];

		a->table_checks++;
		qdisc_name(a, qi, name, sizeof(name));
		push = !qi->stale_after_sent;	/* new to us */
		if (!push) {
			info = NULL;
			ninfo = 0;
			if (nl_dump_dests(&a->nl, &qi->q, &info, &ninfo, err, sizeof(err))) {
				log_warn("listing the table of %s: %s", name, err);
				continue;
			}
			n = build_updates(a, qi, &u);
			missing = nl_dests_missing(u, n, info, ninfo);
			free(u);
			free(info);
			if (missing)
				log_notice("%s lost %zu of our %zu entr%s: pushing again",
					   name, missing, n, n == 1 ? "y" : "ies");
			push = missing > 0;
		}
		if (!push)
			continue;
		a->table_repushes++;
		failed += push_one(a, qi, &read) != 0;
	}
	push_status(a, failed);
}

/* probe_walk: late_ns holds the earliest send time (or the round's end,
 * for none) until agent_round_finish turns it into an age. */
static void oldest_probe(void *arg, void *owner, uint64_t sent_ns)
{
	struct dest_state *d = owner;

	(void)arg;
	if (sent_ns < d->late_ns)
		d->late_ns = sent_ns;
}

int agent_round_finish(struct agent *a, uint64_t now)
{
	size_t i;

	end_pending(a);
	if (a->cfg->control == CONTROL_CLOSED) {
		/*
		 * Probes live probe_timeout, across rounds: behind a queue
		 * deeper than a round (an 800 ms buffer, 200 ms rounds) the
		 * replies come rounds later and still count, for the round
		 * they arrive in.  Meanwhile the oldest one still out gives
		 * a lower bound on the RTT (dest_congestion_closed).
		 */
		probe_expire(&a->pe, now, on_probe, a);
		for (i = 0; i < a->nd; i++) {
			a->d[i].late_ns = now;	/* now - late_ns after the walk */
			if (a->d[i].nrtt)
				a->d[i].last_reply_ns = now;
		}
		probe_walk(&a->pe, oldest_probe, NULL);
		for (i = 0; i < a->nd; i++)
			a->d[i].late_ns = now - a->d[i].late_ns;
	} else {
		/* Probes still out count as lost: the round is over. */
		probe_expire_all(&a->pe, now, on_probe, a);
	}
	a->round_active = false;
	a->rounds++;
	if (!a->dry_run && a->rescan)
		resolve(a);	/* the qdiscs' parameters set the range */
	control_params(a);
	delivered(a, now);
	for (i = 0; i < a->nd; i++)
		dest_finish(a, &a->d[i], now);
	if (a->dry_run) {
		if (a->quiet_round)
			return 0;
		agent_print_round(a);
		return 0;
	}
	return push_all(a);
}

void agent_maintain(struct agent *a, uint64_t now)
{
	size_t i;

	if (a->dry_run || (!a->repush && !a->recheck) || now < a->recheck_after)
		return;
	/* However often others write, this costs at most one look (a dump
	 * per device and per qdisc) every RECHECK_GAP. */
	a->recheck_after = now + RECHECK_GAP_NS;
	a->recheck = false;
	resolve(a);
	if (!a->repush) {
		check_tables(a);
		return;
	}
	/* A qdisc went (or notifications were lost): give every qdisc what
	 * we know now, and stale_after, rather than an interval later. */
	a->repush = false;
	for (i = 0; i < a->nqi; i++)
		a->qi[i].stale_after_sent = false;
	push_all(a);
}

/* ---- reload --------------------------------------------------------------- */

static bool same_target(const struct cfg_dest *x, const struct cfg_dest *y)
{
	return x->family == y->family && x->plen == y->plen &&
	       !memcmp(x->addr, y->addr, 16) && x->probe == y->probe &&
	       x->probe_addrlen == y->probe_addrlen &&
	       !memcmp(&x->probe_addr, &y->probe_addr, x->probe_addrlen);
}

static bool has_prefix(const struct config *c, const struct cfg_dest *x)
{
	size_t i;

	for (i = 0; i < c->ndests; i++) {
		if (c->dests[i].family == x->family && c->dests[i].plen == x->plen &&
		    !memcmp(c->dests[i].addr, x->addr, 16))
			return true;
	}
	return false;
}

/* Remove from each qdisc's table the entries of prefixes no longer
 * configured (only those present: deleting a missing one fails). */
static void delete_removed(struct agent *a, const struct config *ncfg)
{
	size_t i, k, j;
	char err[512], name[64];

	for (i = 0; i < a->nqi; i++) {
		struct nl_dest_info *info = NULL;
		struct nl_dest *del = xcalloc(a->nd, sizeof(*del));
		size_t ninfo = 0, n = 0;

		if (nl_dump_dests(&a->nl, &a->qi[i].q, &info, &ninfo, err, sizeof(err))) {
			free(del);
			continue;
		}
		for (k = 0; k < a->nd; k++) {
			const struct cfg_dest *c = a->d[k].cfg;

			if (has_prefix(ncfg, c))
				continue;
			for (j = 0; j < ninfo; j++) {
				if (info[j].family == c->family && info[j].plen == c->plen &&
				    !memcmp(info[j].addr, c->addr, c->family == AF_INET ? 4 : 16))
					break;
			}
			if (j == ninfo)
				continue;
			del[n].family = c->family;
			memcpy(del[n].addr, c->addr, 16);
			del[n].plen = c->plen;
			del[n].del = true;
			n++;
		}
		if (n && nl_push(&a->nl, &a->qi[i].q, 0, del, n, err, sizeof(err))) {
			qdisc_name(a, &a->qi[i], name, sizeof(name));
			log_err("deleting removed destinations from %s: %s", name, err);
		} else if (n) {
			log_notice("deleted %zu removed destination(s)", n);
		}
		free(info);
		free(del);
	}
}

static bool same_sockaddr(const struct config *x, const struct config *y)
{
	return x->metrics_enabled == y->metrics_enabled &&
	       x->metrics_addrlen == y->metrics_addrlen &&
	       !memcmp(&x->metrics_addr, &y->metrics_addr, x->metrics_addrlen);
}

/*
 * metrics_listen changed: bind the new address before closing the old
 * one, so that a failed bind leaves /metrics where it was.  Only when the
 * new address cannot be bound beside the old one (EADDRINUSE: the same
 * port, another address) is the old one closed first; if the bind then
 * fails, the old address is bound again.
 */
static void metrics_rebind(struct agent *a, const struct config *ncfg)
{
	struct metrics_server nm;
	char err[256], addr[80];

	a->metrics_wanted = false;
	a->metrics_logged = false;
	if (!ncfg->metrics_enabled) {
		metrics_close(&a->ms);
		return;
	}
	format_sockaddr(addr, sizeof(addr), &ncfg->metrics_addr);
	if (!metrics_open(&nm, &ncfg->metrics_addr, ncfg->metrics_addrlen,
			  agent_render_metrics, a, err, sizeof(err))) {
		metrics_close(&a->ms);
		a->ms = nm;
		log_notice("metrics_listen %s: serving /metrics there now", addr);
		return;
	}
	if (errno == EADDRINUSE && a->ms.lfd >= 0) {
		metrics_close(&a->ms);
		if (!metrics_open(&nm, &ncfg->metrics_addr, ncfg->metrics_addrlen,
				  agent_render_metrics, a, err, sizeof(err))) {
			a->ms = nm;
			log_notice("metrics_listen %s: serving /metrics there now", addr);
			return;
		}
		if (!metrics_open(&a->ms, &a->cfg->metrics_addr, a->cfg->metrics_addrlen,
				  agent_render_metrics, a, err, sizeof(err))) {
			log_err("metrics_listen %s: cannot bind; /metrics stays on the old address",
				addr);
			return;
		}
	} else if (a->ms.lfd >= 0) {
		log_err("%s (%s): /metrics stays on the old address", err, addr);
		return;
	}
	/* Nothing bound: keep trying the new address every round. */
	log_err("%s (%s): serving no metrics for now, trying again every interval",
		err, addr);
	a->metrics_wanted = true;
	a->metrics_logged = true;
}

void agent_reconfigure(struct agent *a, struct config *ncfg)
{
	struct dest_state *nd = xcalloc(ncfg->ndests, sizeof(*nd));
	size_t i, k;

	/* The round in flight belongs to the old destinations. */
	for (i = 0; i < a->nd; i++) {
		probe_cancel_owner(&a->pe, &a->d[i]);
		http_cancel_owner(&a->http, &a->d[i]);
	}
	for (i = 0; i < PQ_COUNT; i++)
		http_cancel_owner(&a->http, &a->pq[i]);
	a->pq_pending = 0;
	a->round_active = false;

	for (i = 0; i < ncfg->ndests; i++) {
		const struct cfg_dest *c = &ncfg->dests[i];

		dest_reset(&nd[i], c);
		for (k = 0; k < a->nd; k++) {
			if (!strcmp(a->d[k].cfg->name, c->name) &&
			    same_target(a->d[k].cfg, c)) {
				nd[i] = a->d[k];	/* keep its history */
				nd[i].cfg = c;
				nd[i].load_reset = !cfg_dest_same_load_source(a->d[k].cfg, c);
				break;
			}
		}
	}
	if (!a->dry_run)
		delete_removed(a, ncfg);

	if (!a->dry_run && !same_sockaddr(a->cfg, ncfg))
		metrics_rebind(a, ncfg);
	free(a->d);
	a->d = nd;
	a->nd = ncfg->ndests;
	free(a->qc);
	a->qc = xcalloc(ncfg->nqdiscs, sizeof(*a->qc));
	config_free(a->cfg);
	a->cfg = ncfg;
	est_params_from_config(&a->ep, ncfg);
	/* stale_after may have changed, and so may the [qdisc] list. */
	free(a->qi);
	a->qi = NULL;
	a->nqi = 0;
	a->rescan = true;
	a->missing_logged = false;
}

/* ---- event loop plumbing -------------------------------------------------- */

size_t agent_pollfds_max(const struct agent *a)
{
	/* netlink, the listener and its clients, two ICMP sockets, TCP. */
	return 1 + 1 + METRICS_MAX_CONNS + 2 + a->pe.n;
}

size_t agent_fd_need(const struct config *c)
{
	uint64_t rounds = c->probe_timeout_ns / (c->interval_ns ? c->interval_ns : 1) + 1;
	size_t i, tcp = 0;

	for (i = 0; i < c->ndests; i++)
		tcp += c->dests[i].probe == PROBE_TCP;
	/* stdio, netlink, timers, ICMP, /metrics, libcurl's connections. */
	return 64 + METRICS_MAX_CONNS + c->ndests + tcp * c->probes * (size_t)rounds;
}

size_t agent_pollfds(struct agent *a, struct pollfd *pfd, size_t max)
{
	size_t n = 0;

	if (a->have_nl && nl_event_fd(&a->nl) >= 0 && n < max)
		pfd[n++] = (struct pollfd){ .fd = nl_event_fd(&a->nl), .events = POLLIN };
	n += metrics_pollfds(&a->ms, pfd + n, max - n);
	n += probe_pollfds(&a->pe, pfd + n, max - n);
	return n;
}

void agent_handle(struct agent *a, struct pollfd *pfd, size_t n, uint64_t now)
{
	size_t i;

	(void)now;
	for (i = 0; i < n; i++) {
		if (pfd[i].revents && a->have_nl && pfd[i].fd == nl_event_fd(&a->nl)) {
			unsigned int ev = nl_events_read(&a->nl);

			if (ev & NL_EV_GONE) {
				log_info("a flowshape qdisc changed (deleted or replaced): looking again");
				a->repush = true;
			} else if (ev & NL_EV_CHANGED) {
				log_debug("a flowshape qdisc changed (another writer): checking our entries");
				a->recheck = true;
			}
		}
	}
	metrics_handle(&a->ms, pfd, n);
	probe_handle(&a->pe, pfd, n, on_probe, a);
	http_dispatch(&a->http);
}

uint64_t agent_next_deadline(const struct agent *a)
{
	uint64_t t = probe_next_deadline(&a->pe);
	size_t i;

	if (a->round_active && (!t || a->round_deadline < t))
		t = a->round_deadline;
	if ((a->repush || a->recheck) && (!t || a->recheck_after < t))
		t = a->recheck_after;
	for (i = 0; i < a->ms.n; i++) {
		if (!t || a->ms.c[i].deadline_ns < t)
			t = a->ms.c[i].deadline_ns;
	}
	return t;
}

void agent_expire(struct agent *a, uint64_t now)
{
	probe_expire(&a->pe, now, on_probe, a);
	metrics_expire(&a->ms, now);
	http_dispatch(&a->http);
	if (a->round_active && now >= a->round_deadline)
		end_pending(a);
}

bool agent_needs_rates(const struct agent *a)
{
	size_t i;

	for (i = 0; i < a->nd; i++) {
		const struct cfg_dest *c = a->d[i].cfg;

		if (c->metrics == METRICS_URL && (c->w.cpu > 0 || c->w.network > 0))
			return true;
	}
	return false;
}
