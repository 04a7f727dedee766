/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Query-API mode: load figures for many servers from one Prometheus
 * server, four instant queries per interval (CPU, memory, receive and
 * transmit rates), each answering for every instance at once.  The JSON
 * answers are parsed with jansson.
 */
#ifndef FSA_PROMQL_H
#define FSA_PROMQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum promql_query {
	PQ_CPU,		/* busy share 0..1 by instance */
	PQ_MEMORY,	/* used share 0..1 by instance */
	PQ_RX,		/* bytes/s by instance and device */
	PQ_TX,
	PQ_COUNT,
};

struct promql_point {
	char *instance;		/* "" if the series had no such label */
	char *device;
	double value;
};

struct promql_vec {
	struct promql_point *p;
	size_t n;
};

/* The PromQL text of a query, rates over window_ns. */
void promql_query_text(enum promql_query q, uint64_t window_ns, char *buf,
		       size_t len);
/* base + "/api/v1/query?query=" + the query, percent-encoded (malloc'ed). */
char *promql_url(const char *base, const char *query);

/* An instant-vector answer; 0, or -1 with the reason in err (the
 * server's own error message when it gave one). */
int promql_parse_vector(const char *body, size_t len, struct promql_vec *out,
			char *err, size_t errlen);
void promql_vec_free(struct promql_vec *v);

/* The value for an instance (CPU/memory); false if absent or not finite. */
bool promql_instance_value(const struct promql_vec *v, const char *instance,
			   double *out);
/* Sum over an instance's devices: net_device, or all but "lo" when "". */
bool promql_instance_net(const struct promql_vec *v, const char *instance,
			 const char *net_device, double *out);

#endif
