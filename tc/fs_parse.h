/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fs_parse.h	flowshape's command-line value parsers.
 *
 * Pure ISO C11 + POSIX (inet_pton): nothing here knows about iproute2 or
 * netlink, so the cmocka tests (tests/test_parse.c) can link it alone.
 * The parameter table holds the spec's ranges once, for the tc plugin's
 * parser, its help text and the tests.
 */
#ifndef FS_PARSE_H
#define FS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A level of 1.0 in parts per million (FLOWSHAPE_LEVEL_ONE in the UAPI). */
#define FS_PPM_ONE	1000000U

#define FS_NSEC_PER_USEC	1000ULL
#define FS_NSEC_PER_MSEC	1000000ULL
#define FS_NSEC_PER_SEC		1000000000ULL

/* Room for any fs_format_ppm() result ("4294.967295") and its NUL. */
#define FS_PPM_BUFSZ		16
/* Room for any fs_format_prefix() result: an IPv6 address, "/128", NUL. */
#define FS_PREFIX_BUFSZ		52

/* Results of the parsers: 0 or a negative reason. */
enum fs_status {
	FS_OK		= 0,
	FS_ESYNTAX	= -1,	/* not a value of this kind at all */
	FS_ERANGE	= -2,	/* well formed, outside the allowed range */
	FS_EPLEN	= -3,	/* prefix length longer than the address */
	FS_EHOSTBITS	= -4,	/* address has bits set past the prefix;
				 * a mark has bits set outside its mask
				 */
	FS_EZEROMASK	= -5,	/* a mark mask of 0 (would match anything) */
};

/* Values of enum flowshape_mode in the UAPI. */
enum fs_mode {
	FS_MODE_SPREAD,
	FS_MODE_DELAY,
	FS_MODE_COUNT
};

/* Values of enum flowshape_rate_scope in the UAPI. */
enum fs_scope {
	FS_SCOPE_FLOW,
	FS_SCOPE_DEST,
	FS_SCOPE_COUNT
};

/* How a parameter's value is written and what unit it is kept in. */
enum fs_kind {
	FS_KIND_PACKETS,	/* decimal count of packets, printed "100p" */
	FS_KIND_COUNT,		/* decimal count */
	FS_KIND_POW2,		/* decimal count, a power of 2 */
	FS_KIND_TIME,		/* iproute2 time ("5ms"), kept in ns */
	FS_KIND_SIZE,		/* iproute2 size ("64kb"), kept in bytes */
	FS_KIND_LEVEL,		/* fraction ("0.35", "35%"), kept in ppm */
	FS_KIND_MODE,		/* "spread" or "delay" */
	FS_KIND_SCOPE,		/* "flow" or "destination" */
};

/* The qdisc's parameters, in the order "tc qdisc show" prints them. */
enum fs_param_id {
	FS_P_LIMIT,
	FS_P_FLOW_LIMIT,
	FS_P_BUCKETS,
	FS_P_MAX_FLOWS,
	FS_P_FLOW_IDLE,
	FS_P_MODE,
	FS_P_CONGESTION_WEIGHT,
	FS_P_LOAD_WEIGHT,
	FS_P_CONGESTION_THRESHOLD,
	FS_P_LOAD_THRESHOLD,
	FS_P_MAX_DELAY,
	FS_P_SMOOTHING,
	FS_P_QUANTUM,
	FS_P_TIMER_SLACK,
	FS_P_STALE_AFTER,
	FS_P_DEFAULT_CONGESTION,
	FS_P_DEFAULT_LOAD,
	FS_P_MAX_DESTS,
	FS_P_BYPASS_MARK,
	FS_P_BYPASS_MASK,
	FS_P_RATE_SCOPE,
	FS_P_AQM_TARGET,
	FS_P_AQM_INTERVAL,
	FS_P_HORIZON,
	FS_P_HORIZON_DROP,
	FS_P_OVERFLOW_LIMIT,
	FS_PARAM_COUNT
};

struct fs_param {
	const char	*name;		/* tc keyword and JSON key */
	enum fs_kind	kind;
	uint64_t	min, max;	/* inclusive, in the kind's unit */
	const char	*dflt;		/* the kernel's default, as tc writes it */
	const char	*expect;	/* what a valid value is, for messages */
};

extern const struct fs_param fs_params[FS_PARAM_COUNT];

/* The parameter whose tc keyword is @keyword, or NULL. */
const struct fs_param *fs_param_lookup(const char *keyword);

/* FS_OK if @v (in the parameter's unit) is allowed, else FS_ERANGE. */
int fs_param_check(const struct fs_param *p, uint64_t v);

bool fs_is_pow2(uint64_t v);

/*
 * Unsigned decimal integer: digits only (no sign, space, hex or octal).
 * FS_ERANGE when it does not fit in 64 bits.
 */
int fs_parse_uint(const char *s, uint64_t *v);

/*
 * Fraction 0..1 as a decimal ("0", "1", "0.35", ".5", "1.") or a
 * percentage ("35%", "12.5%", "100%"), to parts per million.  Digits past
 * ppm resolution are rounded to the nearest ppm (half up): "0.0000005" is
 * 1 ppm.  No sign, exponent, spaces or hex.  FS_ERANGE above 1 (100%).
 */
int fs_parse_fraction(const char *s, uint32_t *ppm);

/* "spread" -> FS_MODE_SPREAD, "delay" -> FS_MODE_DELAY; exact match. */
int fs_parse_mode(const char *s, unsigned int *mode);

/* "spread", "delay", or NULL for a value this tc does not know. */
const char *fs_mode_name(unsigned int mode);

/* "flow" -> FS_SCOPE_FLOW, "destination" -> FS_SCOPE_DEST; exact match. */
int fs_parse_scope(const char *s, unsigned int *scope);

/* "flow", "destination", or NULL for a value this tc does not know. */
const char *fs_scope_name(unsigned int scope);

/*
 * Whether @s is a literal that iproute2's get_time64() / get_size() may be
 * given safely: an unsigned decimal number (optionally with an exponent,
 * as sprint_time64() may print one), a unit those functions know, and a
 * value that fits (below 2^63 ns, at most 2^32 - 1 bytes; sizes in whole
 * bytes: "1.5kb" is, "1514.5" and "1.1kb" are not).  Both helpers
 * convert a double to an integer without checks, and strtod() accepts
 * signs, "inf", "nan" and hex, so they must not see anything else.
 */
bool fs_time_literal_ok(const char *s);
bool fs_size_literal_ok(const char *s);

struct fs_prefix {
	int	family;		/* AF_INET or AF_INET6 */
	uint8_t	addr[16];	/* network byte order; 4 bytes used for IPv4 */
	uint8_t	plen;
};

/*
 * "10.0.1.0/24", "2001:db8::/64"; a bare address is a host route (/32,
 * /128).  The family follows the address (a ':' means IPv6).  FS_EPLEN for
 * a length beyond the family's; FS_EHOSTBITS when the address has bits set
 * past the length, in which case @p holds the masked network so that the
 * caller can suggest it.
 */
int fs_parse_prefix(const char *s, struct fs_prefix *p);

/* "ADDRESS/PLEN" into @buf (FS_PREFIX_BUFSZ); FS_ESYNTAX if it cannot. */
int fs_format_prefix(const struct fs_prefix *p, char *buf, size_t len);

/* Room for any fs_format_mark() result: "0xffffffff/0xffffffff", NUL. */
#define FS_MARK_BUFSZ		24

/*
 * A destination keyed by firewall mark: "VALUE[/MASK]", each a 32-bit
 * number in decimal or hexadecimal with 0x ("0x10/0xff", "16", "0x10");
 * no sign, space or octal (a decimal with a leading 0 is refused);
 * no MASK is 0xffffffff.  FS_ERANGE for a number past 32 bits,
 * FS_EZEROMASK for mask 0, FS_EHOSTBITS for a value with bits outside the
 * mask.  Nothing is written unless FS_OK.
 */
int fs_parse_mark(const char *s, uint32_t *mark, uint32_t *mask);

/* "0x10/0xff", or "0x10" for mask 0xffffffff, into @buf (FS_MARK_BUFSZ). */
char *fs_format_mark(uint32_t mark, uint32_t mask, char *buf, size_t len);

/*
 * A level as a decimal with no trailing zeros: 0 -> "0", 200000 -> "0.2",
 * 350000 -> "0.35", 1000000 -> "1", 1 -> "0.000001".  Returns @buf.
 */
char *fs_format_ppm(uint32_t ppm, char *buf, size_t len);

#endif /* FS_PARSE_H */
