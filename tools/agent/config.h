/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flowshape-agent.conf(5): an INI file of [agent], [qdisc] and
 * [destination NAME] sections.  Parsing is all-or-nothing: the first
 * problem is reported as "FILE:LINE: reason" and nothing is returned.
 */
#ifndef FSA_CONFIG_H
#define FSA_CONFIG_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CFG_MAX_DESTS	4096
#define CFG_NET_DEVICES_MAX	128	/* net_device: a list of names */
#define CFG_MAX_QDISCS	256
#define CFG_NAME_MAX	64

enum probe_kind {
	PROBE_NONE,	/* congestion is not measured: pushed as 0 */
	PROBE_ICMP,	/* ICMP echo (ping socket, else raw) */
	PROBE_TCP,	/* TCP connect time to addr:port */
};

enum metrics_kind {
	METRICS_NONE,	/* load is not measured: pushed as 0 */
	METRICS_URL,	/* node_exporter text exposition, scraped */
	METRICS_PROMQL,	/* a Prometheus server's query API, by instance */
};

/* Load = weighted mean of the components with a non-zero weight. */
struct load_weights {
	double cpu, memory, network;
};

struct cfg_dest {
	char name[CFG_NAME_MAX];
	int line;			/* of the section header */
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];		/* network address, host bits zero */
	uint8_t plen;
	enum probe_kind probe;
	struct sockaddr_storage probe_addr;	/* port set for TCP */
	socklen_t probe_addrlen;
	enum metrics_kind metrics;
	char *metrics_url;		/* METRICS_URL */
	char *instance;			/* METRICS_PROMQL: "instance" label */
	char net_device[CFG_NET_DEVICES_MAX];	/* devices, separated by
						 * commas or spaces; "" = the
						 * default route's (scrape.h) */
	double link_speed_bps;		/* 0 = not set */
	struct load_weights w;
};

struct cfg_qdisc {
	char dev[IF_NAMESIZE];
	int line;
	bool any_parent;		/* every flowshape qdisc on dev */
	uint32_t parent;		/* TC_H_ROOT or MAJ:MIN */
	bool keep_foreign;		/* foreign_entries = keep: leave entries
					 * of unconfigured prefixes alone */
};

enum control_kind {
	CONTROL_CLOSED,		/* PI controllers on queueing delay and load */
	CONTROL_PROPORTIONAL,	/* levels in proportion to the measurements */
};

/* The probe noise floor: a target_delay below it is refused (see
 * flowshape-agent.conf(5)). */
#define CFG_NOISE_FLOOR_NS	1000000ULL

struct config {
	char *path;
	enum control_kind control;
	uint64_t target_delay_ns;	/* closed: queueing delay held */
	double target_load;		/* closed: load held */
	double max_rate_bps;		/* closed: rate meaning "not shaping" */
	uint64_t interval_ns;
	uint64_t stale_after_ns;
	uint64_t probe_timeout_ns;
	uint64_t http_timeout_ns;
	unsigned int probes;		/* per destination per interval */
	uint64_t full_congestion_delay_ns;
	double full_congestion_loss;	/* loss ratio that means 1.0 */
	uint64_t baseline_window_ns;
	unsigned int loss_window;	/* probes (if loss_window_ns is 0) */
	uint64_t loss_window_ns;	/* loss over this much time, 0: count */
	double rtt_smoothing;		/* EWMA weight of history, 0..0.99 */
	double hysteresis;		/* dead band on published levels */
	struct load_weights w;
	bool metrics_enabled;
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addrlen;
	char *prometheus_url;		/* query API base, NULL if unused */
	uint64_t promql_rate_window_ns;

	struct cfg_qdisc *qdiscs;
	size_t nqdiscs;
	struct cfg_dest *dests;
	size_t ndests;
};

/* Parse a file.  On error returns NULL with "FILE:LINE: reason" in err. */
struct config *config_load(const char *path, char *err, size_t errlen);
/* Parse a buffer; name is used in messages only (for tests and -). */
struct config *config_parse(const char *name, const char *buf, size_t len,
			    char *err, size_t errlen);
void config_free(struct config *cfg);
/* Whether two destinations read their load from the same source, the
 * same way (kind, URL or instance, net_device, link_speed): if not, a
 * rate across a reload would mix two sources' counters. */
bool cfg_dest_same_load_source(const struct cfg_dest *x, const struct cfg_dest *y);

/* "10.0.1.0/24" -> family, address, plen; host bits set is an error. */
int parse_prefix(const char *s, int *family, uint8_t *addr, uint8_t *plen);
/* "1:", "1:2", "root" -> tc handle. */
int parse_tc_handle(const char *s, uint32_t *h);
/* "10.0.0.1", "10.0.0.1:80", "[fd00::1]:80", "fd00::1" */
int parse_sockaddr(const char *s, bool need_port, struct sockaddr_storage *ss,
		   socklen_t *len);
/* A prefix in text, "10.0.1.0/24". */
/* "192.0.2.1:9465", "[2001:db8::1]:9465" */
void format_sockaddr(char *buf, size_t len, const struct sockaddr_storage *a);
void format_prefix(char *buf, size_t len, int family, const uint8_t *addr,
		   uint8_t plen);

#endif
