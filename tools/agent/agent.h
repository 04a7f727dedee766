/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's state and its measuring round.  Every interval a round
 * starts: each destination's probes go out and its metrics are fetched;
 * when all have answered (or at the round's deadline) the levels are
 * computed and pushed, one message per qdisc.  Destinations whose
 * congestion or load is unknown in this round are left out, so their
 * kernel entries age and fail open at stale_after.
 */
#ifndef FSA_AGENT_H
#define FSA_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "control.h"
#include "estimate.h"
#include "http.h"
#include "metrics.h"
#include "nl.h"
#include "probe.h"
#include "promql.h"
#include "util.h"

#define ROUND_RTTS	16	/* >= the "probes" maximum */
/* Another writer's changes are looked at no more often than this. */
#define RECHECK_GAP_NS	(500 * NSEC_PER_MSEC)

struct dest_state {
	const struct cfg_dest *cfg;	/* in agent.cfg */
	struct rtt_est rtt;
	struct level congestion, load;	/* closed: the controllers' outputs */
	/* control = closed */
	bool ctl_ready;
	struct ctl_state cc, cl;	/* congestion, load */
	struct ctl_drain drain;		/* the baseline's drain rounds */
	double qdelay_s;		/* last round's queueing delay, NaN */
	double load_meas;		/* last round's load, NaN */
	/* the current round */
	uint64_t rtts[ROUND_RTTS];
	unsigned int nrtt, nlost;
	uint64_t late_ns;		/* closed loop: age of the oldest probe
					 * still out at the round's end (its RTT
					 * is at least that), 0: none */
	uint64_t last_reply_ns;		/* end of the last round with a reply */
	bool scrape_pending, scrape_ok;
	struct node_sample cur, prev;
	bool have_prev;
	bool load_reset;		/* reload changed the load source */
	bool net_warned;		/* "every device but lo" said once */
	struct log_rl scrape_rl;	/* its failures, once a minute */
	/* results of the last finished round */
	struct load_parts parts;
	const char *why;		/* why not pushed; NULL if pushed */
	bool pushed;
	/* from the kernel's table after the push */
	bool kernel_known, kernel_stale;
	uint64_t kernel_delay_ns;
	/* counters */
	uint64_t probes_sent, probes_lost, scrapes, scrape_errors;
	uint64_t probe_errors;		/* local send failures: not loss */
};

struct qdisc_inst {
	struct nl_qdisc q;
	size_t cfg_idx;			/* its [qdisc] section */
	bool stale_after_sent;
	bool reconciled;		/* entries of unconfigured prefixes
					 * deleted (foreign_entries) */
	bool have_bytes;		/* bytes sent, at bytes_t */
	uint64_t bytes, bytes_t;
};

struct qdisc_counters {
	uint64_t pushes, push_errors;
	struct log_rl push_rl;		/* refusals, once a minute */
};

struct agent {
	struct config *cfg;
	struct est_params ep;
	struct ctl_params pc, pl;	/* closed loop: congestion, load */
	double delivered_bps;		/* the fed qdiscs' sent rate, NaN */
	struct dest_state *d;
	size_t nd;
	struct qdisc_inst *qi;
	size_t nqi;
	struct qdisc_counters *qc;	/* per [qdisc] section */
	bool rescan;			/* look for the qdiscs again */
	bool repush;			/* a qdisc went: find them, push all */
	bool recheck;			/* a qdisc changed: push only where
					 * the kernel lost our entries */
	uint64_t recheck_after;		/* not before (RECHECK_GAP) */
	uint64_t table_checks, table_repushes, foreign_deleted;
	bool missing_logged;

	struct nl nl;
	struct probe_engine pe;
	struct http http;
	struct metrics_server ms;
	bool have_nl, have_http;
	bool metrics_wanted;		/* not bound yet (port taken): retried
					 * every round */
	bool metrics_logged;

	bool round_active;
	uint64_t round_start, round_deadline;
	uint64_t rounds;
	struct promql_vec pq[PQ_COUNT];
	bool pq_ok[PQ_COUNT];
	unsigned int pq_pending;
	uint64_t promql_errors;
	struct log_rl promql_rl;	/* Prometheus failures, once a minute */

	bool dry_run, json;
	bool quiet_round;		/* --once warm-up round: print nothing */
	FILE *out;			/* dry-run output */
	uint64_t reloads, reload_errors;
	uint64_t pushes, push_errors;
	char status[256];
};

int agent_init(struct agent *a, struct config *cfg, bool dry_run, bool json);
void agent_destroy(struct agent *a);
/* Take a new configuration; keeps per-destination history where the
 * destination (name, prefix, probe) is unchanged; deletes from the kernel
 * the prefixes that are gone. */
void agent_reconfigure(struct agent *a, struct config *cfg);

void agent_round_start(struct agent *a, uint64_t now);
/* True once every probe and fetch of the round has ended. */
bool agent_round_done(const struct agent *a);
/* Compute, push (or print in dry-run) and end the round. */
int agent_round_finish(struct agent *a, uint64_t now);
/* After qdisc notifications: find the qdiscs again and re-push the
 * current levels where they are needed (at most every RECHECK_GAP). */
void agent_maintain(struct agent *a, uint64_t now);

/* Poll set and dispatch for probes, metrics clients and netlink events.
 * agent_pollfds_max: the room agent_pollfds needs now (every TCP probe
 * out has a descriptor: none may be left out of the set). */
size_t agent_pollfds_max(const struct agent *a);
size_t agent_pollfds(struct agent *a, struct pollfd *pfd, size_t max);
/* Descriptors the configuration can hold open at once (probes out for up
 * to probe_timeout, across rounds, plus the agent's own): for
 * RLIMIT_NOFILE. */
size_t agent_fd_need(const struct config *c);
void agent_handle(struct agent *a, struct pollfd *pfd, size_t n, uint64_t now);
/* The earliest deadline of probes/round/clients, 0 if none. */
uint64_t agent_next_deadline(const struct agent *a);
void agent_expire(struct agent *a, uint64_t now);

/* Whether a dry --once run needs a second round for counter rates. */
bool agent_needs_rates(const struct agent *a);

/* report.c: the --dry-run output of the last round, and /metrics. */
void agent_print_round(struct agent *a);
void agent_render_metrics(struct strbuf *b, void *arg);
/* "10.0.1.0/24" */
void dest_prefix_text(const struct cfg_dest *c, char *buf, size_t len);

#endif
