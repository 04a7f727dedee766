// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics used, as node_exporter 1.x names them:
 *
 *   node_cpu_seconds_total{cpu,mode}          counter, summed over CPUs;
 *                                             idle = mode "idle"
 *   node_memory_MemAvailable_bytes            gauge
 *   node_memory_MemTotal_bytes                gauge
 *   node_network_receive_bytes_total{device}  counter
 *   node_network_transmit_bytes_total{device} counter
 *
 * Non-finite values are ignored (a NaN counter says nothing).
 */
#include <math.h>
#include <string.h>

#include "scrape.h"

struct acc {
	const char *net_device;
	struct node_sample *s;
};

static bool counted_device(const struct acc *a, const char *dev)
{
	if (!dev)
		return false;
	if (a->net_device[0])
		return !strcmp(dev, a->net_device);
	return strcmp(dev, "lo") != 0;
}

static void on_sample(const struct prom_sample *smp, void *arg)
{
	struct acc *a = arg;
	struct node_sample *s = a->s;
	const char *name = smp->name;

	if (!isfinite(smp->value))
		return;
	if (!strcmp(name, "node_cpu_seconds_total")) {
		const char *mode = prom_label(smp, "mode");

		s->have_cpu = true;
		s->cpu_total_s += smp->value;
		if (mode && !strcmp(mode, "idle"))
			s->cpu_idle_s += smp->value;
	} else if (!strcmp(name, "node_memory_MemAvailable_bytes")) {
		s->mem_available = smp->value;
	} else if (!strcmp(name, "node_memory_MemTotal_bytes")) {
		s->mem_total = smp->value;
	} else if (!strcmp(name, "node_network_receive_bytes_total")) {
		if (counted_device(a, prom_label(smp, "device"))) {
			s->have_net = true;
			s->rx_bytes += smp->value;
		}
	} else if (!strcmp(name, "node_network_transmit_bytes_total")) {
		if (counted_device(a, prom_label(smp, "device"))) {
			s->have_net = true;
			s->tx_bytes += smp->value;
		}
	}
}

int node_sample_parse(const char *buf, size_t len, const char *net_device,
		      uint64_t t_ns, struct node_sample *out,
		      struct prom_stats *st)
{
	struct acc a = { net_device ? net_device : "", out };
	int r;

	memset(out, 0, sizeof(*out));
	out->t_ns = t_ns;
	out->mem_available = -1;
	r = prom_parse(buf, len, on_sample, &a, st);
	out->have_mem = out->mem_available >= 0 && out->mem_total > 0;
	return r;
}
