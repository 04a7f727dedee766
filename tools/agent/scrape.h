/* SPDX-License-Identifier: GPL-2.0 */
/*
 * node_exporter's /metrics, reduced to what load needs: CPU seconds
 * (total and idle), MemAvailable/MemTotal, and network byte counters.
 */
#ifndef FSA_SCRAPE_H
#define FSA_SCRAPE_H

#include <stddef.h>
#include <stdint.h>

#include "estimate.h"
#include "prom_text.h"

/* The Accept header that makes node_exporter answer in text 0.0.4. */
#define SCRAPE_ACCEPT "text/plain;version=0.0.4;q=1,*/*;q=0.1"

/* Fill *out from an exposition.  Network bytes: the devices named in
 * net_device (a list); "" = the default route's device(s), else every
 * device but "lo" (out->net_source says which).
 * Returns 0, or -1 if the text is not an exposition at all (the stats
 * say how much was malformed either way). */
int node_sample_parse(const char *buf, size_t len, const char *net_device,
		      uint64_t t_ns, struct node_sample *out,
		      struct prom_stats *st);

#endif
