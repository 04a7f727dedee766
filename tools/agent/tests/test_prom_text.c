// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the Prometheus text format parser, well-formed and not,
 * and the node_exporter figures taken from it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prom_text.h"
#include "scrape.h"
#include "util.h"

#define MAXS 32

struct seen {
	size_t n;
	struct {
		char name[64];
		char labels[8][2][64];
		size_t nlabels;
		double value;
		bool has_ts;
		int64_t ts;
	} s[MAXS];
};

static void collect(const struct prom_sample *smp, void *arg)
{
	struct seen *seen = arg;
	size_t i;

	if (seen->n >= MAXS)
		return;
	snprintf(seen->s[seen->n].name, 64, "%s", smp->name);
	for (i = 0; i < smp->nlabels && i < 8; i++) {
		snprintf(seen->s[seen->n].labels[i][0], 64, "%s", smp->labels[i].name);
		snprintf(seen->s[seen->n].labels[i][1], 64, "%s", smp->labels[i].value);
	}
	seen->s[seen->n].nlabels = smp->nlabels;
	seen->s[seen->n].value = smp->value;
	seen->s[seen->n].has_ts = smp->has_timestamp;
	seen->s[seen->n].ts = smp->timestamp_ms;
	seen->n++;
}

static int parse(const char *text, struct seen *seen, struct prom_stats *st)
{
	memset(seen, 0, sizeof(*seen));
	return prom_parse(text, strlen(text), collect, seen, st);
}

static void test_well_formed(void **state)
{
	static const char text[] =
		"# HELP http_requests_total The total number of HTTP requests.\n"
		"# TYPE http_requests_total counter\n"
		"http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
		"http_requests_total{method=\"post\",code=\"400\"}    3   1395066363000\n"
		"\n"
		"# Escaping in label values:\n"
		"msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
		"metric_without_timestamp_and_labels 12.47\n"
		"something_weird{problem=\"division by zero\"} +Inf -3982045\n"
		"# TYPE rpc_duration_seconds summary\n"
		"rpc_duration_seconds{quantile=\"0.5\"} NaN\n"
		"neg{a=\"b\",} -Inf\n"
		"spaced { a = \"x\" , b=\"\" } 0x10\n"
		"crlf_line 7\r\n"
		"colon:metric 1e-3\n"
		"no_newline_at_end 42";
	struct seen s;
	struct prom_stats st;

	(void)state;
	assert_int_equal(parse(text, &s, &st), 0);
	assert_int_equal(st.bad_lines, 0);
	assert_int_equal(st.help, 1);
	assert_int_equal(st.type, 2);
	assert_int_equal(st.samples, 11);
	assert_int_equal(s.n, 11);

	assert_string_equal(s.s[0].name, "http_requests_total");
	assert_int_equal(s.s[0].nlabels, 2);
	assert_string_equal(s.s[0].labels[0][0], "method");
	assert_string_equal(s.s[0].labels[0][1], "post");
	assert_string_equal(s.s[0].labels[1][1], "200");
	assert_float_equal(s.s[0].value, 1027, 0);
	assert_true(s.s[0].has_ts);
	assert_int_equal(s.s[0].ts, 1395066363000LL);
	assert_float_equal(s.s[1].value, 3, 0);

	assert_string_equal(s.s[2].labels[0][1], "C:\\DIR\\FILE.TXT");
	assert_string_equal(s.s[2].labels[1][1], "Cannot find file:\n\"FILE.TXT\"");
	assert_float_equal(s.s[2].value, 1.458255915e9, 1);

	assert_int_equal(s.s[3].nlabels, 0);
	assert_false(s.s[3].has_ts);
	assert_true(isinf(s.s[4].value) && s.s[4].value > 0);
	assert_int_equal(s.s[4].ts, -3982045);
	assert_true(isnan(s.s[5].value));
	assert_true(isinf(s.s[6].value) && s.s[6].value < 0);
	assert_int_equal(s.s[6].nlabels, 1);	/* trailing comma */
	assert_int_equal(s.s[7].nlabels, 2);
	assert_string_equal(s.s[7].labels[0][1], "x");
	assert_string_equal(s.s[7].labels[1][1], "");
	assert_float_equal(s.s[7].value, 16, 0);	/* Go ParseFloat takes hex */
	assert_float_equal(s.s[8].value, 7, 0);
	assert_string_equal(s.s[9].name, "colon:metric");
	assert_float_equal(s.s[10].value, 42, 0);
}

static void test_malformed_lines(void **state)
{
	/* Every other line is broken; the good ones still count. */
	static const char text[] =
		"good_a 1\n"
		"bad{a=\"b\" 1\n"		/* unclosed */
		"bad{a=b} 1\n"			/* unquoted value */
		"bad 1 2 3\n"			/* junk after the timestamp */
		"bad abc\n"			/* not a number */
		"1bad 2\n"			/* name starts with a digit */
		"bad{a=\"\\q\"} 1\n"		/* unknown escape */
		"bad{1a=\"x\"} 1\n"		/* label name */
		"bad{a=\"x\"}\n"			/* no value */
		"bad 1 1.5\n"			/* timestamp not an integer */
		"bad nan(0x1)\n"		/* strtod would take it */
		"# TYPE t bogus\n"		/* unknown type */
		"# HELP\n"			/* HELP without a name */
		"bad{a=\"x\"} 1 2 \"\n"		/* junk after all */
		"good_b{x=\"y\"} 2\n";
	struct seen s;
	struct prom_stats st;

	(void)state;
	assert_int_equal(parse(text, &s, &st), 0);
	assert_int_equal(st.samples, 2);
	assert_int_equal(st.bad_lines, 13);
	assert_int_equal(st.first_bad_line, 2);
	assert_string_equal(s.s[0].name, "good_a");
	assert_string_equal(s.s[1].name, "good_b");
}

static void test_garbage(void **state)
{
	static const char html[] = "<html><body>502 Bad Gateway</body></html>\n";
	static const char bin[] = "\x01\x02\xff\xfe{}{{\"\"\n\x7f";
	char with_nul[] = "ok 1\nbad\0 2\nok2 3\n";
	struct prom_stats st;
	struct seen s;
	char *huge;

	(void)state;
	assert_int_equal(prom_parse(html, strlen(html), collect, &s, &st), -1);
	assert_int_equal(prom_parse(bin, sizeof(bin) - 1, collect, &s, &st), -1);
	/* Empty and blank input: nothing, but not garbage. */
	assert_int_equal(prom_parse("", 0, collect, &s, &st), 0);
	assert_int_equal(prom_parse("\n\n  \n", 4, collect, &s, &st), 0);
	assert_int_equal(st.samples, 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(prom_parse(with_nul, sizeof(with_nul) - 1, collect, &s, &st), 0);
	assert_int_equal(st.samples, 2);
	assert_int_equal(st.bad_lines, 1);

	/* A line longer than the limit is skipped, not read past. */
	huge = malloc(PROM_MAX_LINE + 100);
	memset(huge, 'a', PROM_MAX_LINE + 50);
	memcpy(huge + PROM_MAX_LINE + 50, " 1\nok 1\n", 9);
	memset(&s, 0, sizeof(s));
	assert_int_equal(prom_parse(huge, strlen(huge), collect, &s, &st), 0);
	assert_int_equal(st.bad_lines, 1);
	assert_int_equal(st.samples, 1);
	free(huge);

	/* Too many labels. */
	{
		char line[4096] = "many{";
		int i;

		for (i = 0; i < PROM_MAX_LABELS + 1; i++)
			sprintf(line + strlen(line), "l%d=\"v\",", i);
		strcat(line, "} 1\n");
		assert_int_equal(prom_parse(line, strlen(line), NULL, NULL, &st), -1);
		assert_int_equal(st.bad_lines, 1);
	}
}

static void test_values(void **state)
{
	double v;

	(void)state;
	assert_int_equal(prom_parse_value("+Inf", &v), 0);
	assert_true(isinf(v) && v > 0);
	assert_int_equal(prom_parse_value("-inf", &v), 0);
	assert_true(isinf(v) && v < 0);
	assert_int_equal(prom_parse_value("Infinity", &v), 0);
	assert_int_equal(prom_parse_value("NaN", &v), 0);
	assert_true(isnan(v));
	assert_int_equal(prom_parse_value("-1.5e3", &v), 0);
	assert_float_equal(v, -1500, 0);
	assert_int_equal(prom_parse_value(".5", &v), 0);
	assert_int_not_equal(prom_parse_value("", &v), 0);
	assert_int_not_equal(prom_parse_value("+NaN", &v), 0);
	assert_int_not_equal(prom_parse_value("1,5", &v), 0);
	assert_int_not_equal(prom_parse_value("0.5x", &v), 0);
	assert_int_not_equal(prom_parse_value(" 1", &v), 0);
}

static const char NODE[] =
	"# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n"
	"# TYPE node_cpu_seconds_total counter\n"
	"node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 100\n"
	"node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 30\n"
	"node_cpu_seconds_total{cpu=\"0\",mode=\"system\"} 10\n"
	"node_cpu_seconds_total{cpu=\"1\",mode=\"idle\"} 120\n"
	"node_cpu_seconds_total{cpu=\"1\",mode=\"iowait\"} 20\n"
	"node_cpu_seconds_total{cpu=\"1\",mode=\"steal\"} NaN\n"
	"# TYPE node_memory_MemAvailable_bytes gauge\n"
	"node_memory_MemAvailable_bytes 2.5e+08\n"
	"node_memory_MemTotal_bytes 1e+09\n"
	"node_network_receive_bytes_total{device=\"eth0\"} 1000\n"
	"node_network_receive_bytes_total{device=\"eth1\"} 500\n"
	"node_network_receive_bytes_total{device=\"lo\"} 99999\n"
	"node_network_transmit_bytes_total{device=\"eth0\"} 2000\n"
	"node_network_transmit_bytes_total{device=\"lo\"} 99999\n"
	"go_goroutines 8\n";

static void test_node_sample(void **state)
{
	struct node_sample s;
	struct prom_stats st;

	(void)state;
	assert_int_equal(node_sample_parse(NODE, strlen(NODE), "", 5, &s, &st), 0);
	assert_int_equal(s.t_ns, 5);
	assert_true(s.have_cpu);
	assert_float_equal(s.cpu_total_s, 280, 1e-9);	/* NaN ignored */
	assert_float_equal(s.cpu_idle_s, 220, 1e-9);
	assert_true(s.have_mem);
	assert_float_equal(s.mem_available, 2.5e8, 1);
	assert_float_equal(s.mem_total, 1e9, 1);
	assert_true(s.have_net);
	assert_float_equal(s.rx_bytes, 1500, 0);	/* lo left out */
	assert_float_equal(s.tx_bytes, 2000, 0);

	assert_int_equal(node_sample_parse(NODE, strlen(NODE), "eth1", 5, &s, &st), 0);
	assert_float_equal(s.rx_bytes, 500, 0);
	assert_float_equal(s.tx_bytes, 0, 0);

	/* No memory total: memory unknown, never 0 or 1. */
	assert_int_equal(node_sample_parse("node_memory_MemAvailable_bytes 5\n", 33,
					   "", 1, &s, &st), 0);
	assert_false(s.have_mem);
	assert_false(s.have_cpu);
}

/*
 * A load balancer's node: bond0 over eth0 and eth1, a bridge over a
 * veth, lo.  Summing every device but lo counts the bond's traffic three
 * times (bond + slaves), and the bridge's twice.
 */
static const char BOND[] =
	"node_network_receive_bytes_total{device=\"bond0\"} 1000\n"
	"node_network_receive_bytes_total{device=\"eth0\"} 600\n"
	"node_network_receive_bytes_total{device=\"eth1\"} 400\n"
	"node_network_receive_bytes_total{device=\"br0\"} 50\n"
	"node_network_receive_bytes_total{device=\"veth7\"} 50\n"
	"node_network_receive_bytes_total{device=\"lo\"} 9000\n"
	"node_network_transmit_bytes_total{device=\"bond0\"} 2000\n"
	"node_network_transmit_bytes_total{device=\"eth0\"} 1000\n"
	"node_network_transmit_bytes_total{device=\"eth1\"} 1000\n"
	"node_network_route_info{dest=\"10.1.0.0/16\",device=\"br0\",gw=\"\"} 1\n"
	"node_network_route_info{dest=\"default\",device=\"bond0\",gw=\"10.0.0.1\"} 1\n";

static void test_node_net_devices(void **state)
{
	struct node_sample s;
	struct prom_stats st;
	const char *noroute;

	(void)state;
	/* Default: the device of the default route, when the page says. */
	assert_int_equal(node_sample_parse(BOND, strlen(BOND), "", 1, &s, &st), 0);
	assert_true(s.have_net);
	assert_int_equal(s.net_source, NET_DEFAULT_ROUTE);
	assert_float_equal(s.rx_bytes, 1000, 0);
	assert_float_equal(s.tx_bytes, 2000, 0);
	/* What the operator names: one device or a list. */
	assert_int_equal(node_sample_parse(BOND, strlen(BOND), "eth0,eth1", 1, &s, &st), 0);
	assert_int_equal(s.net_source, NET_NAMED);
	assert_float_equal(s.rx_bytes, 1000, 0);
	assert_int_equal(node_sample_parse(BOND, strlen(BOND), "br0 veth7", 1, &s, &st), 0);
	assert_float_equal(s.rx_bytes, 100, 0);
	assert_float_equal(s.tx_bytes, 0, 0);
	/* A named device the page lacks: the network part is unknown. */
	assert_int_equal(node_sample_parse(BOND, strlen(BOND), "eth9", 1, &s, &st), 0);
	assert_false(s.have_net);
	/* No route information (node_exporter's network_route collector
	 * off): every device but lo, as before, and said so. */
	noroute = strstr(BOND, "node_network_route_info");
	assert_int_equal(node_sample_parse(BOND, (size_t)(noroute - BOND), "", 1, &s, &st), 0);
	assert_int_equal(s.net_source, NET_ALL_BUT_LO);
	assert_float_equal(s.rx_bytes, 2100, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_node_sample),
		cmocka_unit_test(test_node_net_devices),
	};

	return cmocka_run_group_tests_name("prom_text", tests, NULL, NULL);
}
