// SPDX-License-Identifier: GPL-2.0
/*
 * What the agent shows of its decisions: the --dry-run table or JSON of
 * each round, and its own Prometheus /metrics.  Unknown values are shown
 * as "-", null, or left out of /metrics: never as a number.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "agent.h"
#include "util.h"

/* ---- --dry-run: a table or JSON per round ------------------------------ */

static double level_or_nan(const struct level *l)
{
	return l->known ? l->value : NAN;
}

static void print_table(struct agent *a)
{
	FILE *f = a->out;
	size_t i;

	fprintf(f, "%-16s %-20s %9s %9s %9s %6s %10s %6s  %s\n", "DESTINATION",
		"PREFIX", "RTT", "SRTT", "BASELINE", "LOSS", "CONGESTION", "LOAD",
		"PUSH");
	for (i = 0; i < a->nd; i++) {
		const struct dest_state *d = &a->d[i];
		char pfx[64], rtt[16] = "-", srtt[16] = "-", base[16] = "-";
		char loss[16] = "-", c[16] = "-", l[16] = "-";
		uint64_t b = rtt_est_baseline(&d->rtt, &a->ep, a->round_start);

		dest_prefix_text(d->cfg, pfx, sizeof(pfx));
		if (d->cfg->probe != PROBE_NONE) {
			if (d->nrtt)
				format_time(rtt, sizeof(rtt), d->rtt.last_rtt_ns);
			if (d->rtt.have_srtt)
				format_time(srtt, sizeof(srtt), (uint64_t)d->rtt.srtt_ns);
			if (b)
				format_time(base, sizeof(base), b);
			snprintf(loss, sizeof(loss), "%.0f%%", rtt_est_loss(&d->rtt) * 100);
		}
		if (d->congestion.known)
			snprintf(c, sizeof(c), "%.3f", d->congestion.value);
		if (d->load.known)
			snprintf(l, sizeof(l), "%.3f", d->load.value);
		fprintf(f, "%-16s %-20s %9s %9s %9s %6s %10s %6s  %s%s%s\n",
			d->cfg->name, pfx, rtt, srtt, base, loss, c, l,
			d->pushed ? "yes" : "no", d->why ? ": " : "", d->why ? d->why : "");
	}
	fflush(f);
}

static json_t *num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static void print_json(struct agent *a)
{
	json_t *root = json_object(), *arr = json_array();
	bool closed = a->cfg->control == CONTROL_CLOSED;
	struct ctl_actuator ac, al;
	size_t i;

	/* Closed loop: the levels for a qdisc with the default delay
	 * function (a real push uses each qdisc's own). */
	ctl_actuator_congestion_default(&ac);
	ctl_actuator_load_default(&al);
	for (i = 0; i < a->nd; i++) {
		const struct dest_state *d = &a->d[i];
		uint64_t b = rtt_est_baseline(&d->rtt, &a->ep, a->round_start);
		json_t *o = json_object();
		char pfx[64];
		bool probed = d->cfg->probe != PROBE_NONE;

		dest_prefix_text(d->cfg, pfx, sizeof(pfx));
		json_object_set_new(o, "name", json_string(d->cfg->name));
		json_object_set_new(o, "prefix", json_string(pfx));
		json_object_set_new(o, "push", json_boolean(d->pushed));
		json_object_set_new(o, "reason", d->why ? json_string(d->why) : json_null());
		json_object_set_new(o, "congestion", num_or_null(level_or_nan(&d->congestion)));
		json_object_set_new(o, "load", num_or_null(level_or_nan(&d->load)));
		json_object_set_new(o, "congestion_ppm", d->congestion.known ?
				    json_integer(closed ? ctl_level_ppm(&ac, ctl_rate(&d->cc, &a->pc)) :
						 level_to_ppm(d->congestion.value)) : json_null());
		json_object_set_new(o, "load_ppm", d->load.known ?
				    json_integer(closed ? ctl_level_ppm(&al, ctl_rate(&d->cl, &a->pl)) :
						 level_to_ppm(d->load.value)) : json_null());
		json_object_set_new(o, "rtt_ns", probed && d->nrtt ?
				    json_integer((json_int_t)d->rtt.last_rtt_ns) : json_null());
		json_object_set_new(o, "srtt_ns", probed && d->rtt.have_srtt ?
				    json_integer((json_int_t)d->rtt.srtt_ns) : json_null());
		json_object_set_new(o, "baseline_ns", probed && b ?
				    json_integer((json_int_t)b) : json_null());
		json_object_set_new(o, "loss", probed ? json_real(rtt_est_loss(&d->rtt)) :
				    json_null());
		json_object_set_new(o, "queueing_delay_ns", isnan(d->qdelay_s) ? json_null() :
				    json_integer((json_int_t)(d->qdelay_s * 1e9)));
		json_object_set_new(o, "rate_bps", a->cfg->control == CONTROL_CLOSED &&
				    d->ctl_ready && isfinite(ctl_rate(&d->cc, &a->pc)) ?
				    json_real(ctl_rate(&d->cc, &a->pc)) : json_null());
		json_object_set_new(o, "cpu", num_or_null(d->parts.cpu));
		json_object_set_new(o, "memory", num_or_null(d->parts.memory));
		json_object_set_new(o, "network", num_or_null(d->parts.network));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "stale_after_ns",
			    json_integer((json_int_t)a->cfg->stale_after_ns));
	json_object_set_new(root, "destinations", arr);
	json_dumpf(root, a->out, JSON_COMPACT);
	fputc('\n', a->out);
	fflush(a->out);
	json_decref(root);
}

void agent_print_round(struct agent *a)
{
	if (a->json)
		print_json(a);
	else
		print_table(a);
}

/* ---- /metrics ---------------------------------------------------------------- */

static void help(struct strbuf *b, const char *name, const char *type,
		 const char *text)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void dest_labels(struct strbuf *b, const struct dest_state *d)
{
	char pfx[64];

	dest_prefix_text(d->cfg, pfx, sizeof(pfx));
	sb_printf(b, "{destination=\"");
	sb_label_value(b, d->cfg->name);
	sb_printf(b, "\",prefix=\"%s\"}", pfx);
}

/* A [qdisc] section's counter: dev is any device name, escaped. */
static void qdisc_counter(struct strbuf *b, const char *name,
			  const struct cfg_qdisc *q, uint64_t v)
{
	sb_printf(b, "%s{dev=\"", name);
	sb_label_value(b, q->dev);
	sb_printf(b, "\",section_line=\"%d\"} %llu\n", q->line, (unsigned long long)v);
}

/* One gauge per destination; NaN values are left out (unknown). */
static void dest_gauge(struct strbuf *b, const struct agent *a, const char *name,
		       const char *type, const char *text,
		       double (*get)(const struct agent *, const struct dest_state *))
{
	size_t i;

	help(b, name, type, text);
	for (i = 0; i < a->nd; i++) {
		double v = get(a, &a->d[i]);

		if (isnan(v))
			continue;
		sb_printf(b, "%s", name);
		dest_labels(b, &a->d[i]);
		sb_printf(b, " %.17g\n", v);	/* exact: counters pass 1e9 */
	}
}

static double g_rtt(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->cfg->probe != PROBE_NONE && d->rtt.last_ok ?
	       (double)d->rtt.last_rtt_ns / 1e9 : NAN;
}

static double g_srtt(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->rtt.have_srtt ? d->rtt.srtt_ns / 1e9 : NAN;
}

static double g_base(const struct agent *a, const struct dest_state *d)
{
	uint64_t b = rtt_est_baseline(&d->rtt, &a->ep, now_ns());

	return b ? (double)b / 1e9 : NAN;
}

static double g_loss(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->cfg->probe != PROBE_NONE && d->rtt.loss_filled ?
	       rtt_est_loss(&d->rtt) : NAN;
}

static double g_cong(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return level_or_nan(&d->congestion);
}

static double g_load(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return level_or_nan(&d->load);
}

static double g_pushed(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->pushed;
}

static double g_delay(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->kernel_known ? (double)d->kernel_delay_ns / 1e9 : NAN;
}

static double g_kstale(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->kernel_known ? d->kernel_stale : NAN;
}

static double g_sent(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return (double)d->probes_sent;
}

static double g_lost(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return (double)d->probes_lost;
}

static double g_probe_err(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->cfg->probe != PROBE_NONE ? (double)d->probe_errors : NAN;
}

static double g_scrape_err(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->cfg->metrics == METRICS_URL ? (double)d->scrape_errors : NAN;
}

static double g_qdelay(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->qdelay_s;
}

static double g_target(const struct agent *a, const struct dest_state *d)
{
	if (a->cfg->control != CONTROL_CLOSED || d->cfg->probe == PROBE_NONE)
		return NAN;
	return (double)a->cfg->target_delay_ns / 1e9;
}

static double g_out_c(const struct agent *a, const struct dest_state *d)
{
	if (a->cfg->control != CONTROL_CLOSED || !d->ctl_ready)
		return NAN;
	return ctl_output(&d->cc, &a->pc);
}

static double g_out_l(const struct agent *a, const struct dest_state *d)
{
	if (a->cfg->control != CONTROL_CLOSED || !d->ctl_ready)
		return NAN;
	return ctl_output(&d->cl, &a->pl);
}

static double finite_or_nan(double v)
{
	return isfinite(v) ? v : NAN;
}

static double g_rate_c(const struct agent *a, const struct dest_state *d)
{
	if (a->cfg->control != CONTROL_CLOSED || !d->ctl_ready)
		return NAN;
	return finite_or_nan(ctl_rate(&d->cc, &a->pc));
}

static double g_load_meas(const struct agent *a, const struct dest_state *d)
{
	(void)a;
	return d->load_meas;
}

static double g_target_load(const struct agent *a, const struct dest_state *d)
{
	if (a->cfg->control != CONTROL_CLOSED || d->cfg->metrics == METRICS_NONE)
		return NAN;
	return a->cfg->target_load;
}

void agent_render_metrics(struct strbuf *b, void *arg)
{
	const struct agent *a = arg;
	static const char *const comp[] = { "cpu", "memory", "network" };
	size_t i, k;

	dest_gauge(b, a, "flowshape_agent_rtt_seconds", "gauge",
		   "Lowest RTT of the last probing round.", g_rtt);
	dest_gauge(b, a, "flowshape_agent_srtt_seconds", "gauge",
		   "Smoothed RTT.", g_srtt);
	dest_gauge(b, a, "flowshape_agent_rtt_baseline_seconds", "gauge",
		   "Minimum RTT over baseline_window.", g_base);
	dest_gauge(b, a, "flowshape_agent_loss_ratio", "gauge",
		   "Probe loss over loss_window.", g_loss);
	dest_gauge(b, a, "flowshape_agent_queueing_delay_seconds", "gauge",
		   "Queueing delay measured in the last round (RTT - baseline).",
		   g_qdelay);
	dest_gauge(b, a, "flowshape_agent_target_delay_seconds", "gauge",
		   "Queueing delay the congestion controller holds (closed loop).",
		   g_target);
	dest_gauge(b, a, "flowshape_agent_controller_output", "gauge",
		   "Congestion controller output 0..1 (0 = not shaping, 1 = slowest rate).",
		   g_out_c);
	dest_gauge(b, a, "flowshape_agent_controller_rate_bps", "gauge",
		   "Destination rate the congestion controller sets; absent when not shaping.",
		   g_rate_c);
	dest_gauge(b, a, "flowshape_agent_load_measured", "gauge",
		   "Load measured in the last round (0..1).", g_load_meas);
	dest_gauge(b, a, "flowshape_agent_target_load", "gauge",
		   "Load the load controller holds (closed loop).", g_target_load);
	dest_gauge(b, a, "flowshape_agent_load_controller_output", "gauge",
		   "Load controller output 0..1 (0 = not shaping).", g_out_l);
	dest_gauge(b, a, "flowshape_agent_congestion", "gauge",
		   "Congestion level decided (0..1); absent when unknown.", g_cong);
	dest_gauge(b, a, "flowshape_agent_load", "gauge",
		   "Load level decided (0..1); absent when unknown.", g_load);
	help(b, "flowshape_agent_load_component", "gauge",
	     "Load components measured (0..1).");
	for (i = 0; i < a->nd; i++) {
		const double v[3] = { a->d[i].parts.cpu, a->d[i].parts.memory,
				      a->d[i].parts.network };

		for (k = 0; k < 3; k++) {
			char pfx[64];

			if (isnan(v[k]))
				continue;
			dest_prefix_text(a->d[i].cfg, pfx, sizeof(pfx));
			sb_printf(b, "flowshape_agent_load_component{destination=\"");
			sb_label_value(b, a->d[i].cfg->name);
			sb_printf(b, "\",prefix=\"%s\",component=\"%s\"} %.17g\n", pfx,
				  comp[k], v[k]);
		}
	}
	dest_gauge(b, a, "flowshape_agent_pushed", "gauge",
		   "1 if the destination was pushed in the last round.", g_pushed);
	dest_gauge(b, a, "flowshape_agent_delay_seconds", "gauge",
		   "Delay the kernel entry yields now (read back after the push).",
		   g_delay);
	dest_gauge(b, a, "flowshape_agent_kernel_stale", "gauge",
		   "1 if the kernel entry is older than stale_after.", g_kstale);
	dest_gauge(b, a, "flowshape_agent_probes_sent_total", "counter",
		   "Probes sent.", g_sent);
	dest_gauge(b, a, "flowshape_agent_probes_lost_total", "counter",
		   "Probes without an answer within probe_timeout.", g_lost);
	dest_gauge(b, a, "flowshape_agent_probe_errors_total", "counter",
		   "Probes that could not be sent (local errors: not counted as loss).",
		   g_probe_err);
	dest_gauge(b, a, "flowshape_agent_scrape_errors_total", "counter",
		   "Failed metrics scrapes.", g_scrape_err);

	help(b, "flowshape_agent_pushes_total", "counter",
	     "Destination updates accepted by a qdisc.");
	for (i = 0; i < a->cfg->nqdiscs; i++)
		qdisc_counter(b, "flowshape_agent_pushes_total", &a->cfg->qdiscs[i],
			      a->qc[i].pushes);
	help(b, "flowshape_agent_push_errors_total", "counter",
	     "Destination updates refused or not delivered.");
	for (i = 0; i < a->cfg->nqdiscs; i++)
		qdisc_counter(b, "flowshape_agent_push_errors_total", &a->cfg->qdiscs[i],
			      a->qc[i].push_errors);
	help(b, "flowshape_agent_table_checks_total", "counter",
	     "Tables looked at after another writer changed a qdisc, by outcome.");
	sb_printf(b, "flowshape_agent_table_checks_total{result=\"intact\"} %llu\n",
		  (unsigned long long)(a->table_checks - a->table_repushes));
	sb_printf(b, "flowshape_agent_table_checks_total{result=\"repushed\"} %llu\n",
		  (unsigned long long)a->table_repushes);
	help(b, "flowshape_agent_foreign_entries_deleted_total", "counter",
	     "Kernel entries of unconfigured prefixes deleted (foreign_entries = delete).");
	sb_printf(b, "flowshape_agent_foreign_entries_deleted_total %llu\n",
		  (unsigned long long)a->foreign_deleted);
	help(b, "flowshape_agent_metrics_evicted_total", "counter",
	     "Idle /metrics connections closed to serve a new one.");
	sb_printf(b, "flowshape_agent_metrics_evicted_total %llu\n",
		  (unsigned long long)a->ms.evicted);
	help(b, "flowshape_agent_qdiscs", "gauge", "flowshape qdiscs being fed.");
	sb_printf(b, "flowshape_agent_qdiscs %zu\n", a->nqi);
	help(b, "flowshape_agent_promql_errors_total", "counter",
	     "Failed Prometheus queries.");
	sb_printf(b, "flowshape_agent_promql_errors_total %llu\n",
		  (unsigned long long)a->promql_errors);
	help(b, "flowshape_agent_rounds_total", "counter", "Measuring rounds finished.");
	sb_printf(b, "flowshape_agent_rounds_total %llu\n", (unsigned long long)a->rounds);
	help(b, "flowshape_agent_reloads_total", "counter", "Configuration reloads.");
	sb_printf(b, "flowshape_agent_reloads_total{result=\"ok\"} %llu\n",
		  (unsigned long long)a->reloads);
	sb_printf(b, "flowshape_agent_reloads_total{result=\"error\"} %llu\n",
		  (unsigned long long)a->reload_errors);
}
