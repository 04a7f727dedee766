/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small shared helpers: logging with levels, the monotonic clock, and the
 * value syntaxes shared by the config file and the command line (times,
 * fractions, bit rates), in the units the UAPI uses.
 */
#ifndef FSA_UTIL_H
#define FSA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEC_PER_USEC	1000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum log_level {
	LOG_LVL_ERR = 3,	/* syslog priorities, for journald's "<N>" */
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* The one piece of process-wide state: how much to log, and how. */
void log_setup(int verbosity);
bool log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A line that can repeat every round (a dead Prometheus, a dead
 * exporter): at most one per LOG_RL_NS for each struct log_rl; the lines
 * held back meanwhile are counted, and the count goes with the next one.
 */
struct log_rl {
	uint64_t next_ns;
	unsigned int held;
};

#define LOG_RL_NS	(60 * NSEC_PER_SEC)

void log_rl(struct log_rl *rl, uint64_t now, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* CLOCK_MONOTONIC in ns. */
uint64_t now_ns(void);

/* "1.5s", "200ms", "10us", "100ns" (a bare number is seconds) -> ns. */
int parse_time_ns(const char *s, uint64_t *ns);
/* "0.35" or "35%" -> 0..1 (any finite value >= 0 with allow_above_one). */
int parse_fraction(const char *s, double *v, bool allow_above_one);
/* "10gbit", "100mbit", "1.5gbit", "125mbps" (bytes) , "1000000" (bit/s)
 * -> bits per second. */
int parse_rate_bps(const char *s, double *bps);
/* Whole number in [min, max]. */
int parse_uint(const char *s, unsigned long min, unsigned long max,
	       unsigned long *v);

/* Print a time in ns the way tc does (4ms, 1.5s, 200us). */
void format_time(char *buf, size_t len, uint64_t ns);

/* Clamp to [0, 1]; NaN -> 0. */
double clamp01(double v);
/* A level 0..1 in the UAPI's parts per million. */
uint32_t level_to_ppm(double v);

/* strdup that aborts on ENOMEM: config and state are small, and an agent
 * that cannot allocate a few bytes has nothing sane left to do. */
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);

/* Whether dev is one of the names in list (separated by commas or
 * spaces). */
bool dev_in_list(const char *list, const char *dev);

#endif
