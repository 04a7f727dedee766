// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus text format, one line at a time:
 *
 *   # HELP name docstring
 *   # TYPE name counter|gauge|histogram|summary|untyped
 *   # any other comment
 *   name{label="value",...} value [timestamp_ms]
 *
 * Each line is copied into a scratch buffer where label values are
 * unescaped in place (\\ \" \n), so samples point into it and nothing is
 * allocated per line.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prom_text.h"
#include "util.h"

static bool is_name_start(char c, bool metric)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (metric && c == ':');
}

static bool is_name_char(char c, bool metric)
{
	return is_name_start(c, metric) || (c >= '0' && c <= '9');
}

static char *skip_blank(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A metric or label name at s; returns its end or NULL. */
static char *scan_name(char *s, bool metric)
{
	if (!is_name_start(*s, metric))
		return NULL;
	while (is_name_char(*s, metric))
		s++;
	return s;
}

int prom_parse_value(const char *s, double *v)
{
	const char *p = s;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	/* Go's ParseFloat spellings, case-insensitively: Inf, Infinity, NaN
	 * (no sign on NaN).  strtod would also take "nan(...)": refuse it. */
	if (!strcasecmp(p, "inf") || !strcasecmp(p, "infinity")) {
		*v = *s == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (!strcasecmp(s, "nan")) {
		*v = NAN;
		return 0;
	}
	if (!((*p >= '0' && *p <= '9') || *p == '.'))
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end)
		return -1;
	/* ERANGE: overflow gives +-HUGE_VAL (= Inf), underflow ~0: both are
	 * what Go returns too, with an error we do not care about. */
	return 0;
}

static int parse_timestamp(const char *s, int64_t *ms)
{
	const char *p = s;
	char *end;

	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*ms = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	return 0;
}

/* Labels after '{': fills labels, returns the char after '}' or NULL. */
static char *parse_labels(char *s, struct prom_label *labels, size_t *n)
{
	*n = 0;
	for (;;) {
		char *name, *end, *out;

		s = skip_blank(s);
		if (*s == '}')
			return s + 1;
		name = s;
		end = scan_name(s, false);
		if (!end)
			return NULL;
		s = skip_blank(end);
		if (*s != '=')
			return NULL;
		*end = '\0';
		s = skip_blank(s + 1);
		if (*s != '"')
			return NULL;
		if (*n >= PROM_MAX_LABELS)
			return NULL;
		labels[*n].name = name;
		labels[*n].value = out = ++s;
		for (;;) {
			if (!*s)
				return NULL;
			if (*s == '"')
				break;
			if (*s == '\\') {
				s++;
				if (*s == 'n')
					*out++ = '\n';
				else if (*s == '\\' || *s == '"')
					*out++ = *s;
				else
					return NULL;
				s++;
				continue;
			}
			*out++ = *s++;
		}
		*out = '\0';
		s++;
		(*n)++;
		s = skip_blank(s);
		if (*s == ',')
			s++;
		else if (*s != '}')
			return NULL;
	}
}

static int parse_sample(char *line, prom_sample_fn fn, void *arg)
{
	struct prom_label labels[PROM_MAX_LABELS];
	struct prom_sample smp = { .labels = labels };
	char *s = line, *end, *tok;
	bool has_labels;

	end = scan_name(s, true);
	if (!end)
		return -1;
	smp.name = s;
	s = end;
	if (*s != '{' && *s != ' ' && *s != '\t')
		return -1;
	/* Blanks may stand between the name and its labels, as in
	 * Prometheus's own parser. */
	s = skip_blank(s);
	has_labels = *s == '{';
	*end = '\0';	/* may be the '{' itself */
	if (has_labels) {
		s = parse_labels(s + 1, labels, &smp.nlabels);
		if (!s)
			return -1;
	}
	s = skip_blank(s);
	tok = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = '\0';
	if (!*tok || prom_parse_value(tok, &smp.value))
		return -1;
	s = skip_blank(s);
	if (*s) {
		tok = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
		if (*skip_blank(s) || parse_timestamp(tok, &smp.timestamp_ms))
			return -1;
		smp.has_timestamp = true;
	}
	if (fn)
		fn(&smp, arg);
	return 0;
}

/* "# HELP name text" / "# TYPE name type" / other comment: 1 = HELP,
 * 2 = TYPE, 0 = plain comment, -1 = malformed HELP/TYPE. */
static int parse_comment(char *s)
{
	static const char *const types[] = {
		"counter", "gauge", "histogram", "summary", "untyped",
	};
	bool help;
	char *end;
	size_t i;

	s = skip_blank(s + 1);
	if (!strncmp(s, "HELP", 4) && (!s[4] || s[4] == ' ' || s[4] == '\t'))
		help = true;
	else if (!strncmp(s, "TYPE", 4) && (!s[4] || s[4] == ' ' || s[4] == '\t'))
		help = false;
	else
		return 0;
	s = skip_blank(s + 4);
	end = scan_name(s, true);
	if (!end || (*end && *end != ' ' && *end != '\t'))
		return -1;
	if (help)
		return 1;	/* the docstring may be anything, even empty */
	s = skip_blank(end);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		size_t n = strlen(types[i]);

		if (!strncmp(s, types[i], n) && !*skip_blank(s + n))
			return 2;
	}
	return -1;
}

int prom_parse(const char *buf, size_t len, prom_sample_fn fn, void *arg,
	       struct prom_stats *st)
{
	char *scratch = xcalloc(1, PROM_MAX_LINE + 1);
	struct prom_stats local;
	unsigned int lineno = 0, nonblank = 0;
	size_t pos = 0;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - buf) : len) - pos;
		int r;

		lineno++;
		if (n > PROM_MAX_LINE || memchr(buf + pos, '\0', n)) {
			r = -1;
		} else {
			char *s;

			memcpy(scratch, buf + pos, n);
			scratch[n] = '\0';
			if (n && scratch[n - 1] == '\r')
				scratch[n - 1] = '\0';
			s = skip_blank(scratch);
			if (!*s)
				r = 0;
			else if (*s == '#')
				r = parse_comment(s);
			else if (parse_sample(s, fn, arg) == 0)
				r = 3;
			else
				r = -1;
			if (*s)
				nonblank++;
		}
		if (r < 0) {
			st->bad_lines++;
			if (!st->first_bad_line)
				st->first_bad_line = lineno;
		} else if (r == 1) {
			st->help++;
		} else if (r == 2) {
			st->type++;
		} else if (r == 3) {
			st->samples++;
		}
		pos += n + 1;
	}
	free(scratch);
	if (nonblank && !st->samples && !st->help && !st->type)
		return -1;
	return 0;
}

const char *prom_label(const struct prom_sample *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nlabels; i++) {
		if (!strcmp(s->labels[i].name, name))
			return s->labels[i].value;
	}
	return NULL;
}
