/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition format (version 0.0.4) parser: what
 * node_exporter serves on /metrics.  Robust to garbage: a malformed line
 * is counted and skipped, never fatal, and never read past.
 */
#ifndef FSA_PROM_TEXT_H
#define FSA_PROM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROM_MAX_LABELS	32
#define PROM_MAX_LINE	65536

struct prom_label {
	const char *name;
	const char *value;	/* unescaped */
};

/* Valid only during the callback. */
struct prom_sample {
	const char *name;
	const struct prom_label *labels;
	size_t nlabels;
	double value;		/* may be NaN or +-Inf */
	bool has_timestamp;
	int64_t timestamp_ms;
};

struct prom_stats {
	unsigned int samples;	/* sample lines handed to the callback */
	unsigned int help, type;	/* well-formed HELP / TYPE lines */
	unsigned int bad_lines;	/* malformed lines skipped */
	unsigned int first_bad_line;	/* 1-based, 0 if none */
};

typedef void (*prom_sample_fn)(const struct prom_sample *s, void *arg);

/* Parse buf[0..len); fn is called for each sample.  Returns 0, or -1 if
 * nothing at all in buf looked like the format (no sample, no HELP/TYPE
 * line, but something that was not blank: an HTML error page, say). */
int prom_parse(const char *buf, size_t len, prom_sample_fn fn, void *arg,
	       struct prom_stats *st);

/* The value of a label, NULL if absent. */
const char *prom_label(const struct prom_sample *s, const char *name);

/* A sample value: a float, "NaN", "+Inf", "-Inf" (as Go's ParseFloat). */
int prom_parse_value(const char *s, double *v);

#endif
