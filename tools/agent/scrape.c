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
 *   node_network_route_info{device,dest}      the default route's device
 *
 * Non-finite values are ignored (a NaN counter says nothing).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scrape.h"
#include "util.h"

/* Devices a page may list; more are ignored (and the sum is short). */
#define NODE_MAX_DEVS	256

struct dev_acc {
	char name[32];
	double rx, tx;
	bool have_rx, have_tx, default_route;
};

struct acc {
	struct node_sample *s;
	struct dev_acc *dev;
	size_t ndev;
	bool have_routes;
};

static struct dev_acc *dev_get(struct acc *a, const char *name)
{
	size_t i;

	if (!name || !*name || strlen(name) >= sizeof(a->dev[0].name))
		return NULL;
	for (i = 0; i < a->ndev; i++) {
		if (!strcmp(a->dev[i].name, name))
			return &a->dev[i];
	}
	if (a->ndev == NODE_MAX_DEVS)
		return NULL;
	strcpy(a->dev[a->ndev].name, name);
	return &a->dev[a->ndev++];
}

static void on_sample(const struct prom_sample *smp, void *arg)
{
	struct acc *a = arg;
	struct node_sample *s = a->s;
	const char *name = smp->name;
	struct dev_acc *d;

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
		d = dev_get(a, prom_label(smp, "device"));
		if (d) {
			d->rx += smp->value;
			d->have_rx = true;
		}
	} else if (!strcmp(name, "node_network_transmit_bytes_total")) {
		d = dev_get(a, prom_label(smp, "device"));
		if (d) {
			d->tx += smp->value;
			d->have_tx = true;
		}
	} else if (!strcmp(name, "node_network_route_info")) {
		/* node_exporter's network_route collector (off by default). */
		const char *dest = prom_label(smp, "dest");

		a->have_routes = true;
		if (dest && !strcmp(dest, "default")) {
			d = dev_get(a, prom_label(smp, "device"));
			if (d)
				d->default_route = true;
		}
	}
}

/*
 * Which devices count: those the operator names; else the device(s) of
 * the default route when the page lists routes; else every device but
 * lo (counting a bond and its slaves, a bridge and its ports, each).
 */
static void net_sum(struct acc *a, const char *net_device)
{
	struct node_sample *s = a->s;
	bool any_default = false;
	size_t i;

	for (i = 0; i < a->ndev; i++)
		any_default |= a->dev[i].default_route;
	if (net_device[0])
		s->net_source = NET_NAMED;
	else if (a->have_routes && any_default)
		s->net_source = NET_DEFAULT_ROUTE;
	else
		s->net_source = NET_ALL_BUT_LO;
	for (i = 0; i < a->ndev; i++) {
		const struct dev_acc *d = &a->dev[i];
		bool counted;

		switch (s->net_source) {
		case NET_NAMED:
			counted = dev_in_list(net_device, d->name);
			break;
		case NET_DEFAULT_ROUTE:
			counted = d->default_route;
			break;
		default:
			counted = strcmp(d->name, "lo") != 0;
			break;
		}
		if (!counted || (!d->have_rx && !d->have_tx))
			continue;
		s->have_net = true;
		s->rx_bytes += d->rx;
		s->tx_bytes += d->tx;
	}
}

int node_sample_parse(const char *buf, size_t len, const char *net_device,
		      uint64_t t_ns, struct node_sample *out,
		      struct prom_stats *st)
{
	struct acc a = { .s = out };
	int r;

	memset(out, 0, sizeof(*out));
	out->t_ns = t_ns;
	out->mem_available = -1;
	a.dev = xcalloc(NODE_MAX_DEVS, sizeof(*a.dev));
	r = prom_parse(buf, len, on_sample, &a, st);
	net_sum(&a, net_device ? net_device : "");
	free(a.dev);
	out->have_mem = out->mem_available >= 0 && out->mem_total > 0;
	return r;
}
