// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration file parser.  One pass over the lines builds the
 * sections, a second step fills in defaults and checks what needs the
 * whole file (at least one qdisc and destination, duplicate prefixes,
 * prometheus_url for "metrics = prometheus ...").  Every error names the
 * file and line; nothing half-parsed is ever returned.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/pkt_sched.h>

#include "config.h"
#include "util.h"

#define CFG_FILE_MAX	(1 << 20)
#define KEYS_MAX	32

enum section { SEC_NONE, SEC_AGENT, SEC_QDISC, SEC_DEST };

struct parser {
	const char *name;
	int line;
	char *err;
	size_t errlen;
	struct config *cfg;
	enum section sec;
	int agent_line;
	/* keys seen in the current section, to refuse duplicates */
	char seen[KEYS_MAX][32];
	int nseen;
	/* per-destination weights given explicitly (else [agent]'s) */
	struct { bool cpu, memory, network; } *wset;
	bool stale_set, probe_timeout_set, http_timeout_set;
	bool interval_set, baseline_set, loss_set;
};

static int fail(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->name, line, msg);
	return -1;
}

int parse_prefix(const char *s, int *family, uint8_t *addr, uint8_t *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned long len;
	size_t alen, i;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if (slash)
		buf[slash - s] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		alen = 4;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		alen = 16;
	} else {
		return -1;
	}
	len = alen * 8;
	if (slash && parse_uint(slash + 1, 0, alen * 8, &len))
		return -1;
	*plen = (uint8_t)len;
	/* Host bits must be zero, as for "ip route" and the kernel. */
	for (i = 0; i < alen; i++) {
		unsigned int bits = len > i * 8 ? len - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if (addr[i] & ~mask)
			return -2;
	}
	return 0;
}

void format_sockaddr(char *buf, size_t len, const struct sockaddr_storage *a)
{
	char h[INET6_ADDRSTRLEN] = "?";

	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;

		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		snprintf(buf, len, "[%s]:%u", h, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;

		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		snprintf(buf, len, "%s:%u", h, ntohs(s4->sin_port));
	}
}

void format_prefix(char *buf, size_t len, int family, const uint8_t *addr,
		   uint8_t plen)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, plen);
}

int parse_tc_handle(const char *s, uint32_t *h)
{
	unsigned long maj, min = 0;
	char *end;

	if (!strcmp(s, "root")) {
		*h = TC_H_ROOT;
		return 0;
	}
	if (!isxdigit((unsigned char)*s))
		return -1;
	errno = 0;
	maj = strtoul(s, &end, 16);
	if (errno || *end != ':' || maj > 0xffff)
		return -1;
	s = end + 1;
	if (*s) {
		if (!isxdigit((unsigned char)*s))
			return -1;
		min = strtoul(s, &end, 16);
		if (errno || *end || min > 0xffff)
			return -1;
	}
	*h = TC_H_MAKE(maj << 16, min);
	return 0;
}

int parse_sockaddr(const char *s, bool need_port, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	unsigned long port = 0;
	const char *colon = NULL;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || (size_t)(close - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		if (close[1] == ':')
			colon = close + 1;
		else if (close[1])
			return -1;
	} else {
		colon = strchr(s, ':');
		/* Two colons: a bare IPv6 address, no port. */
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;
		if (strlen(s) >= sizeof(host))
			return -1;
		strcpy(host, s);
		if (colon)
			host[colon - s] = '\0';
	}
	if (colon && parse_uint(colon + 1, 1, 65535, &port))
		return -1;
	if (need_port && !colon)
		return -1;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	} else {
		return -1;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A comment starts with '#' or ';' at the start of a line, or with '#'
 * after white space (URLs and PromQL never need " #"). */
static void strip_comment(char *s)
{
	char *c = s;

	while (isspace((unsigned char)*c))
		c++;
	if (*c == '#' || *c == ';') {
		*c = '\0';
		return;
	}
	for (; *c; c++) {
		if (*c == '#' && c > s && isspace((unsigned char)c[-1])) {
			*c = '\0';
			return;
		}
	}
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= CFG_NAME_MAX)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	}
	return true;
}

static int time_val(struct parser *p, const char *key, const char *v,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	char a[32], b[32];

	if (parse_time_ns(v, out)) {
		return fail(p, p->line,
			    "%s: \"%s\" is not a time (e.g. 500ms, 1s, 200us)",
			    key, v);
	}
	if (*out < min || *out > max) {
		format_time(a, sizeof(a), min);
		format_time(b, sizeof(b), max);
		return fail(p, p->line, "%s: %s is out of range %s..%s",
			    key, v, a, b);
	}
	return 0;
}

static int frac_val(struct parser *p, const char *key, const char *v,
		    double max, double *out)
{
	if (parse_fraction(v, out, max > 1) || *out > max) {
		return fail(p, p->line,
			    "%s: \"%s\" is not a fraction in 0..%g (e.g. 0.25 or 25%%)",
			    key, v, max);
	}
	return 0;
}

static int uint_val(struct parser *p, const char *key, const char *v,
		    unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long u;

	if (parse_uint(v, min, max, &u)) {
		return fail(p, p->line, "%s: \"%s\" is not a number in %lu..%lu",
			    key, v, min, max);
	}
	*out = (unsigned int)u;
	return 0;
}

static int weight_val(struct parser *p, const char *key, const char *v,
		      struct load_weights *w, bool *cpu, bool *mem, bool *net)
{
	double *dst;

	if (!strcmp(key, "cpu_weight")) {
		dst = &w->cpu;
		*cpu = true;
	} else if (!strcmp(key, "memory_weight")) {
		dst = &w->memory;
		*mem = true;
	} else {
		dst = &w->network;
		*net = true;
	}
	return frac_val(p, key, v, 1000, dst);
}

static bool is_weight(const char *key)
{
	return !strcmp(key, "cpu_weight") || !strcmp(key, "memory_weight") ||
	       !strcmp(key, "network_weight");
}

static int agent_key(struct parser *p, const char *key, const char *v)
{
	struct config *c = p->cfg;
	bool unused;

	if (!strcmp(key, "interval")) {
		p->interval_set = true;
		return time_val(p, key, v, 10 * NSEC_PER_MSEC, 60 * NSEC_PER_SEC,
				&c->interval_ns);
	}
	if (!strcmp(key, "control")) {
		if (!strcmp(v, "closed"))
			c->control = CONTROL_CLOSED;
		else if (!strcmp(v, "proportional"))
			c->control = CONTROL_PROPORTIONAL;
		else
			return fail(p, p->line,
				    "control: \"%s\" is not closed or proportional", v);
		return 0;
	}
	if (!strcmp(key, "target_delay")) {
		char fl[32];

		if (time_val(p, key, v, 0, 10 * NSEC_PER_SEC, &c->target_delay_ns))
			return -1;
		format_time(fl, sizeof(fl), CFG_NOISE_FLOOR_NS);
		if (c->target_delay_ns < CFG_NOISE_FLOOR_NS)
			return fail(p, p->line,
				    "target_delay: %s is below the probe noise floor %s (a round's lowest probe RTT still varies by ~0.1-0.5 ms on a loaded host and path: the controller would steer on noise)",
				    v, fl);
		return 0;
	}
	if (!strcmp(key, "target_load")) {
		if (frac_val(p, key, v, 1, &c->target_load))
			return -1;
		if (c->target_load < 0.05 || c->target_load > 0.99)
			return fail(p, p->line,
				    "target_load: %s is out of range 0.05..0.99 (1.0 is saturation: no error left to steer on)",
				    v);
		return 0;
	}
	if (!strcmp(key, "max_rate")) {
		if (parse_rate_bps(v, &c->max_rate_bps) || !(c->max_rate_bps >= 1e3) ||
		    c->max_rate_bps > 1e13)
			return fail(p, p->line,
				    "max_rate: \"%s\" is not a rate in 1kbit..10tbit (e.g. 100gbit)", v);
		return 0;
	}
	if (!strcmp(key, "stale_after")) {
		p->stale_set = true;
		/* The kernel's range for TCA_FLOWSHAPE_STALE_AFTER. */
		return time_val(p, key, v, NSEC_PER_MSEC, 10 * NSEC_PER_SEC,
				&c->stale_after_ns);
	}
	if (!strcmp(key, "probe_timeout")) {
		p->probe_timeout_set = true;
		return time_val(p, key, v, NSEC_PER_MSEC, 60 * NSEC_PER_SEC,
				&c->probe_timeout_ns);
	}
	if (!strcmp(key, "http_timeout")) {
		p->http_timeout_set = true;
		return time_val(p, key, v, NSEC_PER_MSEC, 60 * NSEC_PER_SEC,
				&c->http_timeout_ns);
	}
	if (!strcmp(key, "probes"))
		return uint_val(p, key, v, 1, 16, &c->probes);
	if (!strcmp(key, "full_congestion_delay"))
		return time_val(p, key, v, NSEC_PER_USEC, 10 * NSEC_PER_SEC,
				&c->full_congestion_delay_ns);
	if (!strcmp(key, "full_congestion_loss")) {
		if (frac_val(p, key, v, 1, &c->full_congestion_loss))
			return -1;
		if (c->full_congestion_loss <= 0)
			return fail(p, p->line, "%s: must be above 0", key);
		return 0;
	}
	if (!strcmp(key, "baseline_window")) {
		p->baseline_set = true;
		return time_val(p, key, v, NSEC_PER_SEC, 7 * 24 * 3600 * NSEC_PER_SEC,
				&c->baseline_window_ns);
	}
	if (!strcmp(key, "loss_window")) {
		/* A count of probes (the proportional law's), or a time. */
		p->loss_set = true;
		if (strspn(v, "0123456789") == strlen(v)) {
			c->loss_window_ns = 0;
			return uint_val(p, key, v, 1, 1024, &c->loss_window);
		}
		return time_val(p, key, v, 100 * NSEC_PER_MSEC, 600 * NSEC_PER_SEC,
				&c->loss_window_ns);
	}
	if (!strcmp(key, "rtt_smoothing"))
		return frac_val(p, key, v, 0.99, &c->rtt_smoothing);
	if (!strcmp(key, "hysteresis"))
		return frac_val(p, key, v, 0.5, &c->hysteresis);
	if (is_weight(key))
		return weight_val(p, key, v, &c->w, &unused, &unused, &unused);
	if (!strcmp(key, "metrics_listen")) {
		if (!strcmp(v, "off")) {
			c->metrics_enabled = false;
			return 0;
		}
		if (parse_sockaddr(v, true, &c->metrics_addr, &c->metrics_addrlen))
			return fail(p, p->line,
				    "%s: \"%s\" is not ADDR:PORT, [ADDR6]:PORT or off",
				    key, v);
		c->metrics_enabled = true;
		return 0;
	}
	if (!strcmp(key, "prometheus_url")) {
		if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			return fail(p, p->line, "%s: \"%s\" is not an http(s):// URL",
				    key, v);
		free(c->prometheus_url);
		c->prometheus_url = xstrdup(v);
		return 0;
	}
	if (!strcmp(key, "promql_rate_window"))
		return time_val(p, key, v, NSEC_PER_SEC, 24 * 3600 * NSEC_PER_SEC,
				&c->promql_rate_window_ns);
	return fail(p, p->line, "unknown key \"%s\" in [agent]", key);
}

static int qdisc_key(struct parser *p, const char *key, const char *v)
{
	struct cfg_qdisc *q = &p->cfg->qdiscs[p->cfg->nqdiscs - 1];

	if (!strcmp(key, "dev")) {
		if (strlen(v) >= IF_NAMESIZE || strchr(v, '/') || strchr(v, ' '))
			return fail(p, p->line, "dev: \"%s\" is not a device name", v);
		strcpy(q->dev, v);
		return 0;
	}
	if (!strcmp(key, "parent")) {
		if (!strcmp(v, "any")) {
			q->any_parent = true;
			return 0;
		}
		q->any_parent = false;
		if (parse_tc_handle(v, &q->parent))
			return fail(p, p->line,
				    "parent: \"%s\" is not root, any or MAJOR:MINOR (hex)", v);
		return 0;
	}
	if (!strcmp(key, "foreign_entries")) {
		if (strcmp(v, "delete") && strcmp(v, "keep"))
			return fail(p, p->line,
				    "foreign_entries: \"%s\" is not delete or keep", v);
		q->keep_foreign = !strcmp(v, "keep");
		return 0;
	}
	return fail(p, p->line, "unknown key \"%s\" in [qdisc]", key);
}

static int probe_val(struct parser *p, struct cfg_dest *d, const char *v)
{
	const char *arg;

	if (!strcmp(v, "none")) {
		d->probe = PROBE_NONE;
		return 0;
	}
	if (!strncmp(v, "icmp", 4) && (!v[4] || isspace((unsigned char)v[4]))) {
		d->probe = PROBE_ICMP;
		arg = v + 4;
		while (isspace((unsigned char)*arg))
			arg++;
		if (!*arg)	/* the prefix itself, checked at the end */
			return 0;
		if (parse_sockaddr(arg, false, &d->probe_addr, &d->probe_addrlen) ||
		    ((struct sockaddr_in *)&d->probe_addr)->sin_port)
			return fail(p, p->line, "probe: \"%s\" is not an IP address", arg);
		return 0;
	}
	if (!strncmp(v, "tcp", 3) && isspace((unsigned char)v[3])) {
		d->probe = PROBE_TCP;
		arg = v + 3;
		while (isspace((unsigned char)*arg))
			arg++;
		if (parse_sockaddr(arg, true, &d->probe_addr, &d->probe_addrlen))
			return fail(p, p->line,
				    "probe: \"%s\" is not ADDR:PORT or [ADDR6]:PORT", arg);
		return 0;
	}
	return fail(p, p->line,
		    "probe: \"%s\" is not \"icmp [ADDR]\", \"tcp ADDR:PORT\" or \"none\"", v);
}

static int metrics_val(struct parser *p, struct cfg_dest *d, const char *v)
{
	free(d->metrics_url);
	free(d->instance);
	d->metrics_url = d->instance = NULL;
	if (!strcmp(v, "none")) {
		d->metrics = METRICS_NONE;
		return 0;
	}
	if (!strncmp(v, "http://", 7) || !strncmp(v, "https://", 8)) {
		d->metrics = METRICS_URL;
		d->metrics_url = xstrdup(v);
		return 0;
	}
	if (!strncmp(v, "prometheus", 10) && isspace((unsigned char)v[10])) {
		const char *inst = trim((char *)v + 10);

		if (!*inst || strpbrk(inst, " \t\"\\"))
			return fail(p, p->line,
				    "metrics: \"prometheus\" needs one instance label value");
		d->metrics = METRICS_PROMQL;
		d->instance = xstrdup(inst);
		return 0;
	}
	return fail(p, p->line,
		    "metrics: \"%s\" is not an http(s):// URL, \"prometheus INSTANCE\" or \"none\"", v);
}

static int dest_key(struct parser *p, const char *key, const char *v)
{
	size_t i = p->cfg->ndests - 1;
	struct cfg_dest *d = &p->cfg->dests[i];
	int r;

	if (!strcmp(key, "prefix")) {
		r = parse_prefix(v, &d->family, d->addr, &d->plen);
		if (r == -2)
			return fail(p, p->line, "prefix: %s has host bits set", v);
		if (r)
			return fail(p, p->line,
				    "prefix: \"%s\" is not ADDR[/LEN] (IPv4 or IPv6)", v);
		return 0;
	}
	if (!strcmp(key, "probe"))
		return probe_val(p, d, v);
	if (!strcmp(key, "metrics"))
		return metrics_val(p, d, v);
	if (!strcmp(key, "link_speed")) {
		if (parse_rate_bps(v, &d->link_speed_bps))
			return fail(p, p->line,
				    "link_speed: \"%s\" is not a rate (e.g. 10gbit, 100mbit)", v);
		return 0;
	}
	if (!strcmp(key, "net_device")) {
		const char *e = v;

		if (strlen(v) >= CFG_NET_DEVICES_MAX)
			return fail(p, p->line, "net_device: more than %d characters",
				    CFG_NET_DEVICES_MAX - 1);
		/* One name or a list ("bond0", "eth0, eth1"). */
		while (*e) {
			size_t k = strcspn(e, ", ");

			if (!k || k >= IF_NAMESIZE || memchr(e, '/', k) ||
			    memchr(e, '"', k) || memchr(e, '\\', k) || memchr(e, '\t', k))
				return fail(p, p->line,
					    "net_device: \"%.*s\" is not a device name",
					    (int)(k ? k : strlen(e)), e);
			e += k;
			e += strspn(e, ", ");
		}
		strcpy(d->net_device, v);
		return 0;
	}
	if (is_weight(key))
		return weight_val(p, key, v, &d->w, &p->wset[i].cpu,
				  &p->wset[i].memory, &p->wset[i].network);
	return fail(p, p->line, "unknown key \"%s\" in [destination %s]", key, d->name);
}

static int section(struct parser *p, char *s)
{
	char *close = strchr(s, ']'), *name;
	struct config *c = p->cfg;

	if (!close || *trim(close + 1))
		return fail(p, p->line, "malformed section header");
	*close = '\0';
	s = trim(s + 1);
	p->nseen = 0;
	if (!strcmp(s, "agent")) {
		if (p->agent_line)
			return fail(p, p->line, "second [agent] section (first at line %d)",
				    p->agent_line);
		p->agent_line = p->line;
		p->sec = SEC_AGENT;
		return 0;
	}
	if (!strcmp(s, "qdisc")) {
		if (c->nqdiscs >= CFG_MAX_QDISCS)
			return fail(p, p->line, "more than %d [qdisc] sections",
				    CFG_MAX_QDISCS);
		c->qdiscs = xrealloc(c->qdiscs, (c->nqdiscs + 1) * sizeof(*c->qdiscs));
		c->qdiscs[c->nqdiscs] = (struct cfg_qdisc){
			.line = p->line, .any_parent = true,
		};
		c->nqdiscs++;
		p->sec = SEC_QDISC;
		return 0;
	}
	if (!strncmp(s, "destination", 11) && isspace((unsigned char)s[11])) {
		size_t i;

		name = trim(s + 11);
		if (!valid_name(name))
			return fail(p, p->line,
				    "destination name \"%s\": use 1-%d of A-Z a-z 0-9 _ . -",
				    name, CFG_NAME_MAX - 1);
		for (i = 0; i < c->ndests; i++) {
			if (!strcmp(c->dests[i].name, name))
				return fail(p, p->line,
					    "destination \"%s\" already defined at line %d",
					    name, c->dests[i].line);
		}
		if (c->ndests >= CFG_MAX_DESTS)
			return fail(p, p->line, "more than %d destinations", CFG_MAX_DESTS);
		c->dests = xrealloc(c->dests, (c->ndests + 1) * sizeof(*c->dests));
		p->wset = xrealloc(p->wset, (c->ndests + 1) * sizeof(*p->wset));
		memset(&c->dests[c->ndests], 0, sizeof(*c->dests));
		memset(&p->wset[c->ndests], 0, sizeof(*p->wset));
		strcpy(c->dests[c->ndests].name, name);
		c->dests[c->ndests].line = p->line;
		c->dests[c->ndests].family = AF_UNSPEC;
		c->ndests++;
		p->sec = SEC_DEST;
		return 0;
	}
	if (!strcmp(s, "destination"))
		return fail(p, p->line, "[destination] needs a name: [destination NAME]");
	return fail(p, p->line, "unknown section [%s]", s);
}

static int key_value(struct parser *p, char *s)
{
	char *eq = strchr(s, '='), *key, *v;
	int i;

	if (!eq)
		return fail(p, p->line, "expected \"key = value\" or [section]");
	*eq = '\0';
	key = trim(s);
	v = trim(eq + 1);
	if (!*key)
		return fail(p, p->line, "missing key before \"=\"");
	if (!*v)
		return fail(p, p->line, "%s: missing value", key);
	if (p->sec == SEC_NONE)
		return fail(p, p->line, "\"%s\" outside of a section", key);
	for (i = 0; i < p->nseen; i++) {
		if (!strcmp(p->seen[i], key))
			return fail(p, p->line, "%s: given twice in this section", key);
	}
	if (p->nseen < KEYS_MAX && strlen(key) < sizeof(p->seen[0]))
		strcpy(p->seen[p->nseen++], key);

	switch (p->sec) {
	case SEC_AGENT:
		return agent_key(p, key, v);
	case SEC_QDISC:
		return qdisc_key(p, key, v);
	case SEC_DEST:
		return dest_key(p, key, v);
	default:
		return -1;
	}
}

static void set_defaults(struct config *c)
{
	c->control = CONTROL_CLOSED;
	c->target_delay_ns = 5 * NSEC_PER_MSEC;
	c->target_load = 0.8;
	c->max_rate_bps = 100e9;
	c->interval_ns = NSEC_PER_SEC;
	c->probes = 3;
	c->full_congestion_delay_ns = 20 * NSEC_PER_MSEC;
	c->full_congestion_loss = 0.1;
	c->baseline_window_ns = 300 * NSEC_PER_SEC;
	c->loss_window = 20;
	c->rtt_smoothing = 0.5;
	c->hysteresis = 0.05;
	c->w = (struct load_weights){ .cpu = 0.5, .memory = 0.25, .network = 0.25 };
	c->promql_rate_window_ns = 240 * NSEC_PER_SEC;
}

static int check_dest(struct parser *p, struct cfg_dest *d, size_t i)
{
	struct config *c = p->cfg;
	size_t j;

	if (d->family == AF_UNSPEC)
		return fail(p, d->line, "[destination %s] has no prefix", d->name);
	for (j = 0; j < i; j++) {
		if (c->dests[j].family == d->family && c->dests[j].plen == d->plen &&
		    !memcmp(c->dests[j].addr, d->addr, 16))
			return fail(p, d->line,
				    "[destination %s] has the same prefix as [destination %s] (line %d)",
				    d->name, c->dests[j].name, c->dests[j].line);
	}
	if (d->probe == PROBE_ICMP && !d->probe_addrlen) {
		/* "probe = icmp": the prefix must be one host. */
		if (d->plen != (d->family == AF_INET ? 32 : 128))
			return fail(p, d->line,
				    "[destination %s]: \"probe = icmp\" without an address needs a host prefix",
				    d->name);
		d->probe_addr.ss_family = (sa_family_t)d->family;
		if (d->family == AF_INET) {
			memcpy(&((struct sockaddr_in *)&d->probe_addr)->sin_addr, d->addr, 4);
			d->probe_addrlen = sizeof(struct sockaddr_in);
		} else {
			memcpy(&((struct sockaddr_in6 *)&d->probe_addr)->sin6_addr, d->addr, 16);
			d->probe_addrlen = sizeof(struct sockaddr_in6);
		}
	}
	if (!p->wset[i].cpu)
		d->w.cpu = c->w.cpu;
	if (!p->wset[i].memory)
		d->w.memory = c->w.memory;
	if (!p->wset[i].network)
		d->w.network = c->w.network;
	if (d->metrics != METRICS_NONE) {
		if (d->w.cpu + d->w.memory + d->w.network <= 0)
			return fail(p, d->line,
				    "[destination %s]: metrics given but every load weight is 0",
				    d->name);
		if (d->w.network > 0 && d->link_speed_bps <= 0)
			return fail(p, d->line,
				    "[destination %s]: network_weight > 0 needs link_speed",
				    d->name);
	}
	if (d->metrics == METRICS_PROMQL && !c->prometheus_url)
		return fail(p, d->line,
			    "[destination %s]: \"metrics = prometheus\" needs prometheus_url in [agent]",
			    d->name);
	return 0;
}

static int finish(struct parser *p)
{
	struct config *c = p->cfg;
	int line = p->agent_line ? p->agent_line : 1;
	size_t i;

	if (!c->nqdiscs)
		return fail(p, p->line, "no [qdisc] section: nothing to feed");
	if (!c->ndests)
		return fail(p, p->line, "no [destination NAME] section: nothing to measure");
	for (i = 0; i < c->nqdiscs; i++) {
		if (!c->qdiscs[i].dev[0])
			return fail(p, c->qdiscs[i].line, "[qdisc] has no dev");
	}
	/* Closed loop: rounds fast enough to control (a queue rising by
	 * 50 ms is seen within 2 rounds + RTT), and a baseline window that
	 * its drain rounds keep exact (estimate.h). */
	if (c->control == CONTROL_CLOSED && !p->interval_set)
		c->interval_ns = 200 * NSEC_PER_MSEC;
	if (c->control == CONTROL_CLOSED && !p->baseline_set)
		c->baseline_window_ns = 10 * NSEC_PER_SEC;
	if (c->control == CONTROL_CLOSED && !p->loss_set)
		c->loss_window_ns = 2 * NSEC_PER_SEC;
	if (!p->stale_set) {
		c->stale_after_ns = 3 * c->interval_ns;
		if (c->control == CONTROL_CLOSED && c->stale_after_ns < NSEC_PER_SEC)
			c->stale_after_ns = NSEC_PER_SEC;
		if (c->stale_after_ns > 10 * NSEC_PER_SEC)
			c->stale_after_ns = 10 * NSEC_PER_SEC;
	}
	if (c->stale_after_ns <= c->interval_ns)
		return fail(p, line,
			    "stale_after must be longer than interval (entries would expire between pushes)");
	/* Closed loop: a probe lives across rounds (long enough for a
	 * reply from behind a deep queue); otherwise within its round. */
	if (!p->probe_timeout_set && c->control == CONTROL_CLOSED)
		c->probe_timeout_ns = 2 * NSEC_PER_SEC > c->interval_ns * 8 / 10 ?
				      2 * NSEC_PER_SEC : c->interval_ns * 8 / 10;
	else if (!p->probe_timeout_set)
		c->probe_timeout_ns = c->interval_ns * 8 / 10 < NSEC_PER_SEC ?
				      c->interval_ns * 8 / 10 : NSEC_PER_SEC;
	if (!p->http_timeout_set)
		c->http_timeout_ns = c->interval_ns * 8 / 10 < 5 * NSEC_PER_SEC ?
				     c->interval_ns * 8 / 10 : 5 * NSEC_PER_SEC;
	if (c->probe_timeout_ns >= c->interval_ns && c->control != CONTROL_CLOSED)
		return fail(p, line, "probe_timeout must be shorter than interval (control = proportional: a probe lives within its round)");
	if (c->http_timeout_ns >= c->interval_ns)
		return fail(p, line, "http_timeout must be shorter than interval");
	if (c->baseline_window_ns < c->interval_ns)
		return fail(p, line, "baseline_window must be at least one interval");
	for (i = 0; i < c->ndests; i++) {
		if (check_dest(p, &c->dests[i], i))
			return -1;
	}
	return 0;
}

struct config *config_parse(const char *name, const char *buf, size_t len,
			    char *err, size_t errlen)
{
	struct parser p = { .name = name, .err = err, .errlen = errlen };
	char *text, *line, *next;
	int r = 0;

	p.cfg = xcalloc(1, sizeof(*p.cfg));
	set_defaults(p.cfg);
	p.cfg->path = xstrdup(name);
	text = xcalloc(1, len + 1);
	memcpy(text, buf, len);

	for (line = text; line && line < text + len && !r; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p.line++;
		if (line + strlen(line) < (next ? next - 1 : text + len)) {
			r = fail(&p, p.line, "NUL byte in line");
			break;
		}
		strip_comment(line);
		line = trim(line);
		if (!*line)
			continue;
		if (*line == '[')
			r = section(&p, line);
		else
			r = key_value(&p, line);
	}
	if (!r)
		r = finish(&p);
	free(text);
	free(p.wset);
	if (r) {
		config_free(p.cfg);
		return NULL;
	}
	return p.cfg;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg;
	struct stat st;
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CFG_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes",
			 path, CFG_FILE_MAX);
		close(fd);
		return NULL;
	}
	buf = xcalloc(1, (size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	cfg = config_parse(path, buf, len, err, errlen);
	free(buf);
	return cfg;
}

void config_free(struct config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->ndests; i++) {
		free(cfg->dests[i].metrics_url);
		free(cfg->dests[i].instance);
	}
	free(cfg->dests);
	free(cfg->qdiscs);
	free(cfg->prometheus_url);
	free(cfg->path);
	free(cfg);
}

static bool same_str(const char *x, const char *y)
{
	return (!x && !y) || (x && y && !strcmp(x, y));
}

bool cfg_dest_same_load_source(const struct cfg_dest *x, const struct cfg_dest *y)
{
	return x->metrics == y->metrics && same_str(x->metrics_url, y->metrics_url) &&
	       same_str(x->instance, y->instance) &&
	       !strcmp(x->net_device, y->net_device) &&
	       x->link_speed_bps == y->link_speed_bps;
}
