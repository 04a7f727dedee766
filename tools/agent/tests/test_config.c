// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the configuration parser (good files, and every error with
 * its file:line). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <linux/pkt_sched.h>

#include "config.h"
#include "util.h"

static struct config *parse(const char *text, char *err, size_t len)
{
	err[0] = '\0';
	return config_parse("t.conf", text, strlen(text), err, len);
}

static const char GOOD[] =
	"# comment\n"
	"; another comment\n"
	"[agent]\n"
	"control = proportional\n"
	"interval = 200ms   # trailing comment\n"
	"probes = 2\n"
	"full_congestion_delay = 10ms\n"
	"full_congestion_loss = 20%\n"
	"hysteresis = 0.1\n"
	"cpu_weight = 0.6\n"
	"memory_weight = 0.4\n"
	"network_weight = 0\n"
	"metrics_listen = 127.0.0.1:9465\n"
	"prometheus_url = http://127.0.0.1:9090/\n"
	"\n"
	"[qdisc]\n"
	"dev = veth0\n"
	"[qdisc]\n"
	"dev = eth1\n"
	"parent = 1:2\n"
	"[qdisc]\n"
	"dev = eth2\n"
	"parent = root\n"
	"foreign_entries = keep\n"
	"\n"
	"[destination web1]\n"
	"prefix = 10.0.1.0/24\n"
	"probe = icmp 10.0.1.10\n"
	"metrics = http://10.0.1.10:9100/metrics\n"
	"\n"
	"[destination web-2.b]\n"
	"prefix = 10.0.2.7\n"
	"probe = tcp 10.0.2.7:443\n"
	"metrics = prometheus 10.0.2.7:9100\n"
	"memory_weight = 0\n"
	"network_weight = 1\n"
	"link_speed = 10gbit\n"
	"net_device = eth0\n"
	"\n"
	"[destination v6]\n"
	"prefix = 2001:db8::/64\n"
	"probe = tcp [2001:db8::1]:80\n"
	"\n"
	"[destination host]\n"
	"prefix = 192.0.2.1\n"
	"probe = icmp\n";

static void test_good(void **state)
{
	char err[256];
	struct config *c = parse(GOOD, err, sizeof(err));
	const struct cfg_dest *d;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	(void)state;
	assert_non_null(c);
	assert_string_equal(err, "");
	assert_int_equal(c->interval_ns, 200 * NSEC_PER_MSEC);
	/* stale_after defaults to 3 x interval */
	assert_int_equal(c->stale_after_ns, 600 * NSEC_PER_MSEC);
	/* probe and http timeouts default to 0.8 x interval */
	assert_int_equal(c->probe_timeout_ns, 160 * NSEC_PER_MSEC);
	assert_int_equal(c->http_timeout_ns, 160 * NSEC_PER_MSEC);
	assert_int_equal(c->probes, 2);
	assert_int_equal(c->full_congestion_delay_ns, 10 * NSEC_PER_MSEC);
	assert_float_equal(c->full_congestion_loss, 0.2, 1e-12);
	assert_float_equal(c->hysteresis, 0.1, 1e-12);
	assert_true(c->metrics_enabled);
	assert_int_equal(c->metrics_addr.ss_family, AF_INET);
	assert_string_equal(c->prometheus_url, "http://127.0.0.1:9090/");

	assert_int_equal(c->nqdiscs, 3);
	assert_string_equal(c->qdiscs[0].dev, "veth0");
	assert_true(c->qdiscs[0].any_parent);
	assert_false(c->qdiscs[1].any_parent);
	assert_int_equal(c->qdiscs[1].parent, 0x00010002);
	assert_int_equal(c->qdiscs[2].parent, TC_H_ROOT);
	assert_false(c->qdiscs[0].keep_foreign);	/* default: delete */
	assert_true(c->qdiscs[2].keep_foreign);

	assert_int_equal(c->ndests, 4);
	d = &c->dests[0];
	assert_string_equal(d->name, "web1");
	assert_int_equal(d->line, 26);
	assert_int_equal(d->family, AF_INET);
	assert_int_equal(d->plen, 24);
	assert_memory_equal(d->addr, "\x0a\x00\x01\x00", 4);
	assert_int_equal(d->probe, PROBE_ICMP);
	sin = (const struct sockaddr_in *)&d->probe_addr;
	assert_int_equal(sin->sin_addr.s_addr, inet_addr("10.0.1.10"));
	assert_int_equal(d->metrics, METRICS_URL);
	assert_string_equal(d->metrics_url, "http://10.0.1.10:9100/metrics");
	/* weights inherited from [agent] */
	assert_float_equal(d->w.cpu, 0.6, 1e-12);
	assert_float_equal(d->w.memory, 0.4, 1e-12);
	assert_float_equal(d->w.network, 0, 1e-12);

	d = &c->dests[1];
	assert_string_equal(d->name, "web-2.b");
	assert_int_equal(d->plen, 32);	/* a bare address is a host */
	assert_int_equal(d->probe, PROBE_TCP);
	sin = (const struct sockaddr_in *)&d->probe_addr;
	assert_int_equal(ntohs(sin->sin_port), 443);
	assert_int_equal(d->metrics, METRICS_PROMQL);
	assert_string_equal(d->instance, "10.0.2.7:9100");
	assert_float_equal(d->w.cpu, 0.6, 1e-12);	/* inherited */
	assert_float_equal(d->w.memory, 0, 1e-12);	/* overridden */
	assert_float_equal(d->w.network, 1, 1e-12);
	assert_float_equal(d->link_speed_bps, 10e9, 1);
	assert_string_equal(d->net_device, "eth0");

	d = &c->dests[2];
	assert_int_equal(d->family, AF_INET6);
	assert_int_equal(d->plen, 64);
	assert_int_equal(d->metrics, METRICS_NONE);
	sin6 = (const struct sockaddr_in6 *)&d->probe_addr;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 80);

	/* "probe = icmp" alone probes the host prefix itself */
	d = &c->dests[3];
	sin = (const struct sockaddr_in *)&d->probe_addr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(sin->sin_addr.s_addr, inet_addr("192.0.2.1"));
	config_free(c);
}

static void test_defaults(void **state)
{
	char err[256];
	struct config *c = parse("[qdisc]\ndev=eth0\n[destination a]\nprefix=10.0.0.1\n"
				 "probe=icmp\n", err, sizeof(err));

	(void)state;
	assert_non_null(c);
	/* Closed loop by default, with rounds fast enough to control. */
	assert_int_equal(c->control, CONTROL_CLOSED);
	assert_int_equal(c->interval_ns, 200 * NSEC_PER_MSEC);
	assert_int_equal(c->stale_after_ns, NSEC_PER_SEC);
	assert_int_equal(c->baseline_window_ns, 10 * NSEC_PER_SEC);
	assert_int_equal(c->target_delay_ns, 5 * NSEC_PER_MSEC);
	assert_true(c->target_load == 0.8);
	assert_true(c->max_rate_bps == 100e9);
	assert_int_equal(c->loss_window_ns, 2 * NSEC_PER_SEC);	/* over time */
	assert_int_equal(c->probes, 3);
	assert_int_equal(c->full_congestion_delay_ns, 20 * NSEC_PER_MSEC);
	assert_false(c->metrics_enabled);
	assert_null(c->prometheus_url);
	/* rate() over 4 of Prometheus' default 1 m scrape intervals: 60 s
	 * held one sample at most, and rate() needs two. */
	assert_int_equal(c->promql_rate_window_ns, 240 * NSEC_PER_SEC);
	assert_int_equal(c->dests[0].metrics, METRICS_NONE);
	config_free(c);
	/* The proportional law keeps its slower defaults. */
	c = parse("[agent]\ncontrol = proportional\n[qdisc]\ndev=eth0\n"
		  "[destination a]\nprefix=10.0.0.1\nprobe=icmp\n", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->control, CONTROL_PROPORTIONAL);
	assert_int_equal(c->interval_ns, NSEC_PER_SEC);
	assert_int_equal(c->stale_after_ns, 3 * NSEC_PER_SEC);
	assert_int_equal(c->baseline_window_ns, 300 * NSEC_PER_SEC);
	assert_int_equal(c->loss_window_ns, 0);		/* a count */
	assert_int_equal(c->loss_window, 20);
	config_free(c);
	c = parse("[agent]\nloss_window = 500ms\n[qdisc]\ndev=eth0\n"
		  "[destination a]\nprefix=10.0.0.1\nprobe=icmp\n", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->loss_window_ns, 500 * NSEC_PER_MSEC);
	config_free(c);
}

/* The shipped example must be valid. */
static void test_example_file(void **state)
{
	char err[256];
	struct config *c = config_load(SRCDIR "/flowshape-agent.conf.example",
				       err, sizeof(err));

	(void)state;
	if (!c)
		fail_msg("%s", err);
	assert_true(c->ndests >= 2);
	config_free(c);
}

static void test_missing_file(void **state)
{
	char err[256];

	(void)state;
	assert_null(config_load("/nonexistent/flowshape.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/flowshape.conf: No such file"));
}

#define HEAD "[qdisc]\ndev = eth0\n"			/* lines 1-2 */
#define DEST "[destination a]\nprefix = 10.0.0.1\nprobe = icmp\n"	/* 3 lines */

static const struct {
	const char *text;
	const char *err;
} bad[] = {
	{ "[bogus]\n", "t.conf:1: unknown section [bogus]" },
	{ "interval = 1s\n", "t.conf:1: \"interval\" outside of a section" },
	{ "[agent]\ncontrol = pid\n", "t.conf:2: control: \"pid\" is not closed or proportional" },
	{ "[agent]\n\ntarget_delay = 500us\n",
	  "t.conf:3: target_delay: 500us is below the probe noise floor 1ms" },
	{ "[agent]\ntarget_delay = soon\n", "t.conf:2: target_delay: \"soon\" is not a time" },
	{ "[agent]\ntarget_load = 1\n", "t.conf:2: target_load: 1 is out of range 0.05..0.99" },
	{ "[agent]\ntarget_load = 2\n", "t.conf:2: target_load: \"2\" is not a fraction" },
	{ "[agent]\nloss_window = 10ms\n", "t.conf:2: loss_window: 10ms is out of range 100ms..600s" },
	{ "[agent]\nmax_rate = fast\n", "t.conf:2: max_rate: \"fast\" is not a rate" },
	{ "[agent]\nintervall = 1s\n", "t.conf:2: unknown key \"intervall\" in [agent]" },
	{ "[agent]\ninterval = fast\n", "t.conf:2: interval: \"fast\" is not a time" },
	{ "[agent]\ninterval = 5ms\n", "t.conf:2: interval: 5ms is out of range 10ms..60s" },
	{ "[agent]\nstale_after = 11s\n", "t.conf:2: stale_after: 11s is out of range" },
	{ "[agent]\nprobes = 0\n", "t.conf:2: probes: \"0\" is not a number in 1..16" },
	{ "[agent]\nhysteresis = 0.7\n", "t.conf:2: hysteresis: \"0.7\" is not a fraction" },
	{ "[agent]\nfull_congestion_loss = 0\n", "t.conf:2: full_congestion_loss: must be above 0" },
	{ "[agent]\nmetrics_listen = localhost\n", "t.conf:2: metrics_listen: \"localhost\" is not" },
	{ "[agent]\nprometheus_url = ftp://x\n", "t.conf:2: prometheus_url: \"ftp://x\" is not an http(s):// URL" },
	{ "[agent]\ninterval = 1s\ninterval = 2s\n", "t.conf:3: interval: given twice" },
	{ "[agent]\n[agent]\n", "t.conf:2: second [agent] section (first at line 1)" },
	{ "[agent]\ninterval =\n", "t.conf:2: interval: missing value" },
	{ "[agent]\n= 1\n", "t.conf:2: missing key" },
	{ "[agent]\njust words\n", "t.conf:2: expected \"key = value\"" },
	{ "[agent\n", "t.conf:1: malformed section header" },
	{ "[agent] x\n", "t.conf:1: malformed section header" },
	{ "[destination]\n", "t.conf:1: [destination] needs a name" },
	{ "[destination a/b]\n", "t.conf:1: destination name \"a/b\"" },
	{ HEAD "[destination a]\nprefix = 10.0.0.1/24\n", "t.conf:4: prefix: 10.0.0.1/24 has host bits set" },
	{ HEAD "[destination a]\nprefix = 10.0.0.0/33\n", "t.conf:4: prefix: \"10.0.0.0/33\" is not ADDR[/LEN]" },
	{ HEAD "[destination a]\nprefix = 2001:db8::1/64\n", "t.conf:4: prefix: 2001:db8::1/64 has host bits set" },
	{ HEAD "[destination a]\nprobe = ping 10.0.0.1\n", "t.conf:4: probe: \"ping 10.0.0.1\" is not" },
	{ HEAD "[destination a]\nprobe = tcp 10.0.0.1\n", "t.conf:4: probe: \"10.0.0.1\" is not ADDR:PORT" },
	{ HEAD "[destination a]\nprobe = icmp 10.0.0.1:80\n", "t.conf:4: probe: \"10.0.0.1:80\" is not an IP address" },
	{ HEAD "[destination a]\nmetrics = 10.0.0.1:9100\n", "t.conf:4: metrics: \"10.0.0.1:9100\" is not" },
	{ HEAD "[destination a]\nmetrics = prometheus\n", "t.conf:4: metrics: \"prometheus\" is not" },
	{ HEAD "[destination a]\nlink_speed = fast\n", "t.conf:4: link_speed: \"fast\" is not a rate" },
	{ HEAD "[destination a]\ncolor = red\n", "t.conf:4: unknown key \"color\" in [destination a]" },
	{ HEAD "[destination a]\nprobe = none\n", "t.conf:3: [destination a] has no prefix" },
	{ HEAD DEST "[destination a]\n", "t.conf:6: destination \"a\" already defined at line 3" },
	{ HEAD DEST "[destination b]\nprefix = 10.0.0.1/32\n",
	  "t.conf:6: [destination b] has the same prefix as [destination a] (line 3)" },
	{ HEAD "[destination a]\nprefix = 10.0.0.0/8\nprobe = icmp\n",
	  "t.conf:3: [destination a]: \"probe = icmp\" without an address needs a host prefix" },
	{ HEAD "[destination a]\nprefix = 10.0.0.1\nmetrics = http://x/metrics\n",
	  "t.conf:3: [destination a]: network_weight > 0 needs link_speed" },
	{ HEAD "[destination a]\nprefix = 10.0.0.1\nmetrics = prometheus x:9100\n"
	  "network_weight = 0\n",
	  "t.conf:3: [destination a]: \"metrics = prometheus\" needs prometheus_url" },
	{ HEAD "[destination a]\nprefix = 10.0.0.1\nmetrics = http://x/m\n"
	  "cpu_weight = 0\nmemory_weight = 0\nnetwork_weight = 0\n",
	  "t.conf:3: [destination a]: metrics given but every load weight is 0" },
	{ "[agent]\ninterval = 2s\nstale_after = 2s\n" HEAD DEST,
	  "t.conf:1: stale_after must be longer than interval" },
	{ "[agent]\ncontrol = proportional\ninterval = 1s\nprobe_timeout = 1s\n" HEAD DEST,
	  "t.conf:1: probe_timeout must be shorter than interval (control = proportional: a probe lives within its round)" },
	{ HEAD "[qdisc]\nparent = 1:2\n" DEST, "t.conf:3: [qdisc] has no dev" },
	{ "[qdisc]\ndev = eth0\nparent = 1\n", "t.conf:3: parent: \"1\" is not root, any or MAJOR:MINOR" },
	{ "[qdisc]\ndev = a/b\n", "t.conf:2: dev: \"a/b\" is not a device name" },
	{ "[qdisc]\ndev = eth0\nforeign_entries = yes\n",
	  "t.conf:3: foreign_entries: \"yes\" is not delete or keep" },
	{ DEST, "t.conf:3: no [qdisc] section" },
	{ HEAD, "t.conf:2: no [destination NAME] section" },
};

static void test_errors(void **state)
{
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct config *c = parse(bad[i].text, err, sizeof(err));

		if (c || strncmp(err, bad[i].err, strlen(bad[i].err))) {
			config_free(c);
			fail_msg("case %zu: want \"%s\", got \"%s\"", i, bad[i].err,
				 c ? "(accepted)" : err);
		}
	}
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[agent]\ninterval = 1s\0junk\n";
	char err[256];

	(void)state;
	assert_null(config_parse("t.conf", text, sizeof(text) - 1, err, sizeof(err)));
	assert_string_equal(err, "t.conf:2: NUL byte in line");
}

static void test_values(void **state)
{
	uint64_t ns;
	double v;
	uint32_t h;

	(void)state;
	assert_int_equal(parse_time_ns("1.5s", &ns), 0);
	assert_int_equal(ns, 1500000000ULL);
	assert_int_equal(parse_time_ns("250us", &ns), 0);
	assert_int_equal(ns, 250000);
	assert_int_equal(parse_time_ns("5min", &ns), 0);
	assert_int_equal(ns, 300 * NSEC_PER_SEC);
	assert_int_equal(parse_time_ns("2", &ns), 0);
	assert_int_equal(ns, 2 * NSEC_PER_SEC);
	assert_int_not_equal(parse_time_ns("-1s", &ns), 0);
	assert_int_not_equal(parse_time_ns("1 s", &ns), 0);
	assert_int_not_equal(parse_time_ns("nan", &ns), 0);
	assert_int_equal(parse_fraction("35%", &v, false), 0);
	assert_float_equal(v, 0.35, 1e-12);
	assert_int_not_equal(parse_fraction("1.1", &v, false), 0);
	assert_int_not_equal(parse_fraction("inf", &v, true), 0);
	assert_int_equal(parse_rate_bps("100mbit", &v), 0);
	assert_float_equal(v, 1e8, 1e-3);
	assert_int_equal(parse_rate_bps("125mbps", &v), 0);
	assert_float_equal(v, 1e9, 1e-3);
	assert_int_not_equal(parse_rate_bps("0", &v), 0);
	assert_int_equal(parse_tc_handle("ffff:ffff", &h), 0);
	assert_int_equal(h, 0xffffffffU);
	assert_int_equal(parse_tc_handle("10:", &h), 0);
	assert_int_equal(h, 0x00100000U);
	assert_int_not_equal(parse_tc_handle("10000:", &h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
