// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the Prometheus text exposition parser
 * (prom_parse(), what the agent runs on a node_exporter's /metrics body).
 * The body is not NUL-terminated: the harness hands over an exact-size heap
 * copy, so AddressSanitizer catches a read one byte past it.  The callback
 * reads every name, label and value; the counts add up (every sample seen
 * once, bad lines counted) and prom_label() finds each label it was given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_text.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static void sample(const struct prom_sample *s, void *arg)
{
	unsigned int *n = arg;
	size_t i, len = strlen(s->name);

	CHECK(len > 0);
	CHECK(s->nlabels <= PROM_MAX_LABELS);
	for (i = 0; i < s->nlabels; i++) {
		CHECK(s->labels[i].name && s->labels[i].value);
		len += strlen(s->labels[i].name) + strlen(s->labels[i].value);
		CHECK(prom_label(s, s->labels[i].name) != NULL);
	}
	(void)len;
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prom_stats st;
	unsigned int n = 0;
	char *buf = malloc(size ? size : 1), *s;
	double v;
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(&st, 0, sizeof(st));
	r = prom_parse(buf, size, sample, &n, &st);
	CHECK(r == 0 || r == -1);
	CHECK(st.samples == n);
	if (st.bad_lines)
		CHECK(st.first_bad_line > 0);
	/* Without a callback too. */
	prom_parse(buf, size, NULL, NULL, &st);
	free(buf);

	/* The value syntax on its own, as a C string. */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)prom_parse_value(s, &v);
	free(s);
	return 0;
}
