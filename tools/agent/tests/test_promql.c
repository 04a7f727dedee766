// SPDX-License-Identifier: GPL-2.0
/* Unit tests: Prometheus query-API answers and URLs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "promql.h"
#include "util.h"

static int parse(const char *s, struct promql_vec *v, char *err)
{
	return promql_parse_vector(s, strlen(s), v, err, 256);
}

static void test_vector(void **state)
{
	static const char body[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
		"{\"metric\":{\"instance\":\"10.0.0.2:9100\",\"job\":\"node\"},\"value\":[1700000000.123,\"0.42\"]},"
		"{\"metric\":{\"instance\":\"10.0.0.3:9100\"},\"value\":[1700000000,\"NaN\"]},"
		"{\"metric\":{\"instance\":\"10.0.0.4:9100\"},\"value\":[1700000000,\"+Inf\"]},"
		"{\"metric\":{},\"value\":[1700000000,\"1\"]}"
		"]}}";
	struct promql_vec v;
	char err[256];
	double x;

	(void)state;
	assert_int_equal(parse(body, &v, err), 0);
	assert_int_equal(v.n, 4);
	assert_string_equal(v.p[0].instance, "10.0.0.2:9100");
	assert_string_equal(v.p[0].device, "");
	assert_float_equal(v.p[0].value, 0.42, 1e-12);
	assert_true(isnan(v.p[1].value));
	assert_true(isinf(v.p[2].value));
	assert_string_equal(v.p[3].instance, "");

	assert_true(promql_instance_value(&v, "10.0.0.2:9100", &x));
	assert_float_equal(x, 0.42, 1e-12);
	/* NaN / Inf: no value rather than a made-up one */
	assert_false(promql_instance_value(&v, "10.0.0.3:9100", &x));
	assert_false(promql_instance_value(&v, "10.0.0.4:9100", &x));
	assert_false(promql_instance_value(&v, "10.0.0.9:9100", &x));
	promql_vec_free(&v);

	assert_int_equal(parse("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			       "\"result\":[]}}", &v, err), 0);
	assert_int_equal(v.n, 0);
	promql_vec_free(&v);
}

static void test_net(void **state)
{
	static const char body[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
		"{\"metric\":{\"instance\":\"a\",\"device\":\"eth0\"},\"value\":[1,\"100\"]},"
		"{\"metric\":{\"instance\":\"a\",\"device\":\"eth1\"},\"value\":[1,\"50\"]},"
		"{\"metric\":{\"instance\":\"a\",\"device\":\"lo\"},\"value\":[1,\"9999\"]},"
		"{\"metric\":{\"instance\":\"b\",\"device\":\"eth0\"},\"value\":[1,\"7\"]}"
		"]}}";
	struct promql_vec v;
	char err[256];
	double x;

	(void)state;
	assert_int_equal(parse(body, &v, err), 0);
	assert_true(promql_instance_net(&v, "a", "", &x));
	assert_float_equal(x, 150, 0);		/* lo left out */
	assert_true(promql_instance_net(&v, "a", "eth1", &x));
	assert_float_equal(x, 50, 0);
	assert_false(promql_instance_net(&v, "a", "eth9", &x));
	assert_true(promql_instance_net(&v, "b", "", &x));
	assert_float_equal(x, 7, 0);
	assert_false(promql_instance_net(&v, "c", "", &x));
	promql_vec_free(&v);
}

static void test_errors(void **state)
{
	struct promql_vec v;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"status\":\"error\",\"errorType\":\"bad_data\","
			       "\"error\":\"invalid parameter \\\"query\\\": parse error\"}",
			       &v, err), -1);
	assert_string_equal(err, "query failed: bad_data: invalid parameter \"query\": parse error");
	assert_int_equal(parse("<html>503</html>", &v, err), -1);
	assert_non_null(strstr(err, "not JSON (line 1 column"));
	assert_int_equal(parse("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
			       "\"result\":[]}}", &v, err), -1);
	assert_string_equal(err, "expected an instant vector, got a matrix");
	assert_int_equal(parse("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			       "\"result\":[{\"metric\":{},\"value\":[1,\"abc\"]}]}}", &v, err), -1);
	assert_string_equal(err, "malformed sample 0 in the answer");
	assert_int_equal(parse("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			       "\"result\":[{\"metric\":{},\"value\":[1]}]}}", &v, err), -1);
	assert_int_equal(parse("{\"status\":\"success\"}", &v, err), -1);
	assert_non_null(strstr(err, "malformed answer"));
	assert_int_equal(parse("{}", &v, err), -1);
	assert_string_equal(err, "answer without a status");
	assert_int_equal(parse("", &v, err), -1);
	assert_int_equal(v.n, 0);
	assert_null(v.p);
}

static void test_url(void **state)
{
	char q[512], *url;

	(void)state;
	url = promql_url("http://127.0.0.1:9090/", "1 - x{mode=\"idle\"}[60s]");
	assert_string_equal(url, "http://127.0.0.1:9090/api/v1/query?query="
			    "1%20-%20x%7Bmode%3D%22idle%22%7D%5B60s%5D");
	free(url);
	promql_query_text(PQ_CPU, 30 * NSEC_PER_SEC, q, sizeof(q));
	assert_non_null(strstr(q, "node_cpu_seconds_total{mode=\"idle\"}[30s]"));
	assert_non_null(strstr(q, "by (instance)"));
	promql_query_text(PQ_MEMORY, 30 * NSEC_PER_SEC, q, sizeof(q));
	assert_non_null(strstr(q, "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes"));
	promql_query_text(PQ_RX, 5 * NSEC_PER_SEC, q, sizeof(q));
	assert_non_null(strstr(q, "rate(node_network_receive_bytes_total[5s])"));
	promql_query_text(PQ_TX, 5 * NSEC_PER_SEC, q, sizeof(q));
	assert_non_null(strstr(q, "rate(node_network_transmit_bytes_total[5s])"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_url),
	};

	return cmocka_run_group_tests_name("promql", tests, NULL, NULL);
}
