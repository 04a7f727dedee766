// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the PromQL query API answer parser
 * (promql_parse_vector(), on the JSON body a Prometheus server returns),
 * with the lookups the agent then makes on the result.  The body is an
 * exact-size heap copy (not NUL-terminated).  A refusal gives a reason; an
 * accepted vector has its strings set and frees cleanly (LeakSanitizer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct promql_vec v;
	char err[256];
	char *buf = malloc(size ? size : 1);
	double x;
	size_t i;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(&v, 0, sizeof(v));
	err[0] = '\0';
	if (promql_parse_vector(buf, size, &v, err, sizeof(err)) < 0) {
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(err[0] != '\0');
		promql_vec_free(&v);
		free(buf);
		return 0;
	}
	for (i = 0; i < v.n; i++) {
		CHECK(v.p[i].instance != NULL && v.p[i].device != NULL);
		(void)promql_instance_value(&v, v.p[i].instance, &x);
		(void)promql_instance_net(&v, v.p[i].instance, "", &x);
		(void)promql_instance_net(&v, v.p[i].instance, v.p[i].device, &x);
	}
	(void)promql_instance_value(&v, "nobody:9100", &x);
	promql_vec_free(&v);
	free(buf);
	return 0;
}
