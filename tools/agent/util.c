// SPDX-License-Identifier: GPL-2.0
/*
 * Logging, clock and value parsing shared by every part of the agent.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Process-wide by nature: set once from -v and the environment. */
static struct {
	enum log_level max;
	bool journal;	/* stderr goes to journald: prefix "<N>" */
} log_cfg = { LOG_LVL_NOTICE, false };

void log_setup(int verbosity)
{
	int max = LOG_LVL_NOTICE + verbosity;

	log_cfg.max = max > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : (enum log_level)max;
	/* systemd sets JOURNAL_STREAM when stderr is connected to the
	 * journal; sd-daemon(3) "<N>" prefixes then carry the priority. */
	log_cfg.journal = getenv("JOURNAL_STREAM") != NULL;
}

bool log_enabled(enum log_level lvl)
{
	return lvl <= log_cfg.max;
}

static void log_line(enum log_level lvl, const char *line);

void log_rl(struct log_rl *rl, uint64_t now, enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (!log_enabled(lvl))
		return;
	if (rl->next_ns && now < rl->next_ns) {
		rl->held++;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (rl->held) {
		size_t l = strlen(line);

		snprintf(line + l, sizeof(line) - l, " (%u more like this held back)",
			 rl->held);
	}
	rl->held = 0;
	rl->next_ns = now + LOG_RL_NS;
	log_line(lvl, line);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_line(lvl, line);
}

static void log_line(enum log_level lvl, const char *line)
{
	static const char *const names[] = {
		[LOG_LVL_ERR] = "error: ",
		[LOG_LVL_WARN] = "warning: ",
		[LOG_LVL_NOTICE] = "",
		[LOG_LVL_INFO] = "",
		[LOG_LVL_DEBUG] = "debug: ",
	};

	if (log_cfg.journal)
		fprintf(stderr, "<%d>%s\n", lvl, line);
	else
		fprintf(stderr, "flowshape-agent: %s%s\n", names[lvl], line);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* A finite number at the start of s, the rest in *end. */
static int parse_number(const char *s, double *v, char **end)
{
	if (!*s || (*s != '.' && *s != '-' && *s != '+' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	*v = strtod(s, end);
	if (errno || *end == s || !isfinite(*v))
		return -1;
	return 0;
}

int parse_time_ns(const char *s, uint64_t *ns)
{
	static const struct { const char *u; double mul; } units[] = {
		{ "", 1e9 }, { "s", 1e9 }, { "sec", 1e9 }, { "secs", 1e9 },
		{ "ms", 1e6 }, { "msec", 1e6 }, { "msecs", 1e6 },
		{ "us", 1e3 }, { "usec", 1e3 }, { "usecs", 1e3 },
		{ "ns", 1 }, { "nsec", 1 }, { "nsecs", 1 },
		{ "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 },
	};
	char *end;
	double v;
	size_t i;

	if (parse_number(s, &v, &end) || v < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcasecmp(end, units[i].u)) {
			v *= units[i].mul;
			if (v > 1e18)
				return -1;
			*ns = (uint64_t)llround(v);
			return 0;
		}
	}
	return -1;
}

int parse_fraction(const char *s, double *v, bool allow_above_one)
{
	char *end;

	if (parse_number(s, v, &end) || *v < 0)
		return -1;
	if (*end == '%') {
		*v /= 100;
		end++;
	}
	if (*end || (!allow_above_one && *v > 1))
		return -1;
	return 0;
}

int parse_rate_bps(const char *s, double *bps)
{
	static const struct { const char *u; double mul; } units[] = {
		{ "", 1 }, { "bit", 1 }, { "bps", 8 },
		{ "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }, { "tbit", 1e12 },
		{ "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 }, { "tbps", 8e12 },
	};
	char *end;
	double v;
	size_t i;

	if (parse_number(s, &v, &end) || v <= 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcasecmp(end, units[i].u)) {
			*bps = v * units[i].mul;
			return 0;
		}
	}
	return -1;
}

int parse_uint(const char *s, unsigned long min, unsigned long max,
	       unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || *v < min || *v > max)
		return -1;
	return 0;
}

void format_time(char *buf, size_t len, uint64_t ns)
{
	if (ns >= NSEC_PER_SEC)
		snprintf(buf, len, "%.3gs", (double)ns / 1e9);
	else if (ns >= NSEC_PER_MSEC)
		snprintf(buf, len, "%.3gms", (double)ns / 1e6);
	else if (ns >= NSEC_PER_USEC)
		snprintf(buf, len, "%.3gus", (double)ns / 1e3);
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

double clamp01(double v)
{
	if (!(v > 0))	/* also NaN */
		return 0;
	return v > 1 ? 1 : v;
}

uint32_t level_to_ppm(double v)
{
	return (uint32_t)lround(clamp01(v) * 1e6);
}

static void *check_alloc(void *p)
{
	if (!p) {
		log_err("out of memory");
		abort();
	}
	return p;
}

char *xstrdup(const char *s)
{
	return check_alloc(strdup(s));
}

void *xcalloc(size_t n, size_t size)
{
	return check_alloc(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t size)
{
	return check_alloc(realloc(p, size ? size : 1));
}

bool dev_in_list(const char *list, const char *dev)
{
	size_t n = strlen(dev);

	while (*list) {
		size_t k = strcspn(list, ", ");

		if (k == n && n && !strncmp(list, dev, n))
			return true;
		list += k;
		list += strspn(list, ", ");
	}
	return false;
}
