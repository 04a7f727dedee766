// SPDX-License-Identifier: GPL-2.0
/*
 * fs_parse.c	flowshape's command-line value parsers (see fs_parse.h).
 *
 * Strict on purpose: a value the kernel would read differently from the
 * user (a sign, a hex number, a stray character) is refused here, before
 * anything is sent.
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "fs_parse.h"

#define FS_FRACTION_HINT "(0.35 or 35%)"

const struct fs_param fs_params[FS_PARAM_COUNT] = {
	[FS_P_LIMIT] = {
		"limit", FS_KIND_PACKETS, 1, 1000000, "10000",
		"a packet count 1..1000000" },
	[FS_P_FLOW_LIMIT] = {
		"flow_limit", FS_KIND_PACKETS, 1, 1000000, "1000",
		"a packet count 1..1000000" },
	[FS_P_BUCKETS] = {
		"buckets", FS_KIND_POW2, 1, 1048576, "1024",
		"a power of 2, 1..1048576" },
	[FS_P_MAX_FLOWS] = {
		"max_flows", FS_KIND_COUNT, 1, 16777216, "65536",
		"a flow count 1..16777216" },
	[FS_P_FLOW_IDLE] = {
		"flow_idle", FS_KIND_TIME,
		FS_NSEC_PER_MSEC, 3600 * FS_NSEC_PER_SEC, "3s",
		"a time 1ms..3600s" },
	[FS_P_MODE] = {
		"mode", FS_KIND_MODE, 0, FS_MODE_COUNT - 1, "spread",
		"spread or delay" },
	[FS_P_CONGESTION_WEIGHT] = {
		"congestion_weight", FS_KIND_TIME, 0, 10 * FS_NSEC_PER_SEC, "10ms",
		"a time 0..10s" },
	[FS_P_LOAD_WEIGHT] = {
		"load_weight", FS_KIND_TIME, 0, 10 * FS_NSEC_PER_SEC, "10ms",
		"a time 0..10s" },
	[FS_P_CONGESTION_THRESHOLD] = {
		"congestion_threshold", FS_KIND_LEVEL, 0, FS_PPM_ONE, "0.2",
		"a fraction 0..1 " FS_FRACTION_HINT },
	[FS_P_LOAD_THRESHOLD] = {
		"load_threshold", FS_KIND_LEVEL, 0, FS_PPM_ONE, "0.5",
		"a fraction 0..1 " FS_FRACTION_HINT },
	[FS_P_MAX_DELAY] = {
		"max_delay", FS_KIND_TIME, 0, 10 * FS_NSEC_PER_SEC, "50ms",
		"a time 0..10s" },
	[FS_P_SMOOTHING] = {
		"smoothing", FS_KIND_LEVEL, 0, 990000, "0",
		"a fraction 0..0.99 (0.9 or 90%)" },
	[FS_P_QUANTUM] = {
		"quantum", FS_KIND_SIZE, 256, 1048576, "1514b",
		"a size 256..1048576 bytes (1514b, 64kb)" },
	[FS_P_TIMER_SLACK] = {
		"timer_slack", FS_KIND_TIME, 0, 10 * FS_NSEC_PER_MSEC, "10us",
		"a time 0..10ms" },
	[FS_P_STALE_AFTER] = {
		"stale_after", FS_KIND_TIME,
		FS_NSEC_PER_MSEC, 10 * FS_NSEC_PER_SEC, "5s",
		"a time 1ms..10s" },
	[FS_P_DEFAULT_CONGESTION] = {
		"default_congestion", FS_KIND_LEVEL, 0, FS_PPM_ONE, "0",
		"a fraction 0..1 " FS_FRACTION_HINT },
	[FS_P_DEFAULT_LOAD] = {
		"default_load", FS_KIND_LEVEL, 0, FS_PPM_ONE, "0",
		"a fraction 0..1 " FS_FRACTION_HINT },
	[FS_P_MAX_DESTS] = {
		"max_dests", FS_KIND_COUNT, 1, 65535, "4096",
		"an entry count 1..65535" },
	[FS_P_BYPASS_MARK] = {
		"bypass_mark", FS_KIND_COUNT, 0, UINT32_MAX, "0",
		"a decimal mark 0..4294967295" },
	[FS_P_BYPASS_MASK] = {
		"bypass_mask", FS_KIND_COUNT, 0, UINT32_MAX, "0",
		"a decimal mask 0..4294967295 (0: no mark bypasses)" },
	[FS_P_RATE_SCOPE] = {
		"rate_scope", FS_KIND_SCOPE, 0, FS_SCOPE_COUNT - 1, "destination",
		"flow or destination" },
	[FS_P_AQM_TARGET] = {
		"aqm_target", FS_KIND_TIME, 0, FS_NSEC_PER_SEC, "0",
		"a time 0..1s (0: AQM off)" },
	[FS_P_AQM_INTERVAL] = {
		"aqm_interval", FS_KIND_TIME,
		FS_NSEC_PER_MSEC, 10 * FS_NSEC_PER_SEC, "100ms",
		"a time 1ms..10s" },
	[FS_P_HORIZON] = {
		"horizon", FS_KIND_TIME,
		FS_NSEC_PER_MSEC, 3600 * FS_NSEC_PER_SEC, "10s",
		"a time 1ms..3600s" },
	[FS_P_HORIZON_DROP] = {
		"horizon_drop", FS_KIND_COUNT, 0, 1, "1",
		"0 (cap at the horizon) or 1 (drop)" },
	[FS_P_OVERFLOW_LIMIT] = {
		"overflow_limit", FS_KIND_PACKETS, 1, 1000000, "1000",
		"a packet count 1..1000000" },
};

static const char *const fs_scope_names[FS_SCOPE_COUNT] = {
	[FS_SCOPE_FLOW]		= "flow",
	[FS_SCOPE_DEST]		= "destination",
};

static const char *const fs_mode_names[FS_MODE_COUNT] = {
	[FS_MODE_SPREAD]	= "spread",
	[FS_MODE_DELAY]		= "delay",
};

/* Not isdigit(): that one follows the locale. */
static bool fs_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

const struct fs_param *fs_param_lookup(const char *keyword)
{
	size_t i;

	if (!keyword)
		return NULL;
	for (i = 0; i < FS_PARAM_COUNT; i++)
		if (strcmp(fs_params[i].name, keyword) == 0)
			return &fs_params[i];
	return NULL;
}

bool fs_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int fs_param_check(const struct fs_param *p, uint64_t v)
{
	if (v < p->min || v > p->max)
		return FS_ERANGE;
	if (p->kind == FS_KIND_POW2 && !fs_is_pow2(v))
		return FS_ERANGE;
	return FS_OK;
}

int fs_parse_uint(const char *s, uint64_t *v)
{
	bool overflow = false;
	uint64_t r = 0;

	if (!s || !*s)
		return FS_ESYNTAX;
	for (; *s; s++) {
		unsigned int d;

		if (!fs_isdigit(*s))
			return FS_ESYNTAX;
		d = (unsigned int)(*s - '0');
		if (r > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			r = r * 10 + d;
	}
	if (overflow)
		return FS_ERANGE;
	*v = r;
	return FS_OK;
}

int fs_parse_fraction(const char *s, uint32_t *ppm)
{
	/* Digits kept after the point: ppm of 1, or of 1% = 10000 ppm. */
	unsigned int keep, ndigits = 0, nfrac = 0;
	bool percent, frac_nonzero = false, round_up = false;
	uint64_t whole = 0, frac = 0, limit, v;
	const char *end;
	size_t len;

	if (!s)
		return FS_ESYNTAX;
	len = strlen(s);
	percent = len && s[len - 1] == '%';
	end = s + len - percent;
	keep = percent ? 4 : 6;
	limit = percent ? 100 : 1;

	for (; s < end && fs_isdigit(*s); s++, ndigits++) {
		/* Past the limit the value is out of range anyway: stop growing. */
		if (whole <= limit)
			whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (s < end && *s == '.') {
		for (s++; s < end && fs_isdigit(*s); s++, ndigits++, nfrac++) {
			unsigned int d = (unsigned int)(*s - '0');

			if (d)
				frac_nonzero = true;
			if (nfrac < keep)
				frac = frac * 10 + d;
			else if (nfrac == keep)
				round_up = d >= 5;
		}
	}
	if (s != end || !ndigits)
		return FS_ESYNTAX;
	if (whole > limit || (whole == limit && frac_nonzero))
		return FS_ERANGE;

	for (; nfrac < keep; nfrac++)
		frac *= 10;
	/* Both scales come out in ppm: 10^-6 of 1 or 10^-4 of 1%. */
	v = whole * (percent ? 10000 : FS_PPM_ONE) + frac + round_up;
	*ppm = (uint32_t)v;
	return FS_OK;
}

int fs_parse_mode(const char *s, unsigned int *mode)
{
	unsigned int m;

	if (!s)
		return FS_ESYNTAX;
	for (m = 0; m < FS_MODE_COUNT; m++) {
		if (strcmp(s, fs_mode_names[m]) == 0) {
			*mode = m;
			return FS_OK;
		}
	}
	return FS_ESYNTAX;
}

const char *fs_mode_name(unsigned int mode)
{
	return mode < FS_MODE_COUNT ? fs_mode_names[mode] : NULL;
}

int fs_parse_scope(const char *s, unsigned int *scope)
{
	unsigned int m;

	if (!s)
		return FS_ESYNTAX;
	for (m = 0; m < FS_SCOPE_COUNT; m++) {
		if (strcmp(s, fs_scope_names[m]) == 0) {
			*scope = m;
			return FS_OK;
		}
	}
	return FS_ESYNTAX;
}

const char *fs_scope_name(unsigned int scope)
{
	return scope < FS_SCOPE_COUNT ? fs_scope_names[scope] : NULL;
}

struct fs_unit {
	const char	*name;
	double		scale;
};

/* The suffixes get_time64() knows (case-insensitive); bare = ns. */
static const struct fs_unit fs_time_units[] = {
	{ "", 1 }, { "ns", 1 }, { "nsec", 1 }, { "nsecs", 1 },
	{ "us", 1e3 }, { "usec", 1e3 }, { "usecs", 1e3 },
	{ "ms", 1e6 }, { "msec", 1e6 }, { "msecs", 1e6 },
	{ "s", 1e9 }, { "sec", 1e9 }, { "secs", 1e9 },
};

/* The suffixes get_size() knows (case-insensitive); bare = bytes. */
static const struct fs_unit fs_size_units[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1024.0 }, { "kb", 1024.0 },
	{ "m", 1048576.0 }, { "mb", 1048576.0 },
	{ "g", 1073741824.0 }, { "gb", 1073741824.0 },
	{ "kbit", 128.0 }, { "mbit", 131072.0 }, { "gbit", 134217728.0 },
};

/*
 * Skip an unsigned decimal: digits, an optional fraction, an optional
 * exponent.  Returns where the unit starts, or NULL if there is no number.
 */
static const char *fs_skip_number(const char *s)
{
	unsigned int ndigits = 0;
	const char *e;

	for (; fs_isdigit(*s); s++)
		ndigits++;
	if (*s == '.')
		for (s++; fs_isdigit(*s); s++)
			ndigits++;
	if (!ndigits)
		return NULL;
	if (*s == 'e' || *s == 'E') {
		e = s + 1;
		if (*e == '+' || *e == '-')
			e++;
		if (fs_isdigit(*e)) {
			while (fs_isdigit(*e))
				e++;
			s = e;
		}
	}
	return s;
}

static bool fs_literal_ok(const char *s, const struct fs_unit *units,
			  size_t nunits, double max, bool whole)
{
	const char *unit;
	double v;
	size_t i;

	if (!s)
		return false;
	unit = fs_skip_number(s);
	if (!unit)
		return false;
	for (i = 0; i < nunits; i++)
		if (strcasecmp(unit, units[i].name) == 0)
			break;
	if (i == nunits)
		return false;
	/*
	 * The conversion the iproute2 helper makes, checked first; the grammar
	 * above keeps out NaN, and an infinity compares above any max.
	 */
	v = strtod(s, NULL) * units[i].scale;
	if (!(v <= max))
		return false;
	return !whole || v == (double)(uint64_t)v;
}

bool fs_time_literal_ok(const char *s)
{
	/* Below 2^63 ns with room for the double's rounding. */
	return fs_literal_ok(s, fs_time_units,
			     sizeof(fs_time_units) / sizeof(fs_time_units[0]),
			     9.2e18, false);
}

bool fs_size_literal_ok(const char *s)
{
	/*
	 * Whole bytes only: get_size() would truncate "1514.5".  The units
	 * are powers of 2, so the product is exact and the test is too.
	 */
	return fs_literal_ok(s, fs_size_units,
			     sizeof(fs_size_units) / sizeof(fs_size_units[0]),
			     4294967295.0, true);
}

static unsigned int fs_family_bits(int family)
{
	switch (family) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return 0;
	}
}

int fs_parse_prefix(const char *s, struct fs_prefix *p)
{
	char addr[INET6_ADDRSTRLEN];
	struct fs_prefix r = { 0 };
	bool host_bits = false;
	unsigned int bits, plen, i;
	const char *slash;
	size_t alen;

	if (!s)
		return FS_ESYNTAX;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (!alen || alen >= sizeof(addr))
		return FS_ESYNTAX;
	memcpy(addr, s, alen);
	addr[alen] = '\0';

	r.family = memchr(addr, ':', alen) ? AF_INET6 : AF_INET;
	bits = fs_family_bits(r.family);
	/* inet_pton() takes dotted quads only: no "10.1", no hex, no zone. */
	if (inet_pton(r.family, addr, r.addr) != 1)
		return FS_ESYNTAX;

	plen = bits;
	if (slash) {
		const char *d = slash + 1;
		size_t n = strlen(d);

		if (!n || n > 3 || strspn(d, "0123456789") != n)
			return FS_ESYNTAX;
		for (plen = 0; *d; d++)
			plen = plen * 10 + (unsigned int)(*d - '0');
		if (plen > bits)
			return FS_EPLEN;
	}
	r.plen = (uint8_t)plen;

	for (i = 0; i < bits / 8; i++) {
		unsigned int first = i * 8;
		uint8_t mask;

		if (plen >= first + 8)
			mask = 0xff;
		else if (plen <= first)
			mask = 0;
		else
			mask = (uint8_t)(0xff << (8 - (plen - first)));
		if (r.addr[i] & (uint8_t)~mask) {
			host_bits = true;
			r.addr[i] &= mask;
		}
	}

	*p = r;
	return host_bits ? FS_EHOSTBITS : FS_OK;
}

int fs_format_prefix(const struct fs_prefix *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (!fs_family_bits(p->family))
		return FS_ESYNTAX;
	if (!inet_ntop(p->family, p->addr, addr, sizeof(addr)))
		return FS_ESYNTAX;
	n = snprintf(buf, len, "%s/%u", addr, (unsigned int)p->plen);
	if (n < 0 || (size_t)n >= len)
		return FS_ESYNTAX;
	return FS_OK;
}

char *fs_format_ppm(uint32_t ppm, char *buf, size_t len)
{
	uint32_t whole = ppm / FS_PPM_ONE, frac = ppm % FS_PPM_ONE;
	int width = 6;

	if (!frac) {
		snprintf(buf, len, "%" PRIu32, whole);
		return buf;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		width--;
	}
	snprintf(buf, len, "%" PRIu32 ".%0*" PRIu32, whole, width, frac);
	return buf;
}

/* One 32-bit number, decimal or 0x-hex, of exactly @n characters. */
static int fs_parse_u32n(const char *s, size_t n, uint32_t *v)
{
	unsigned int base = 10;
	uint64_t r = 0;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return FS_ESYNTAX;
	/* "010": octal to strtoul(..., 0), ten to us: neither. */
	if (base == 10 && n > 1 && s[0] == '0')
		return FS_ESYNTAX;
	for (; i < n; i++) {
		char c = s[i];
		unsigned int d;

		if (fs_isdigit(c))
			d = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return FS_ESYNTAX;
		r = r * base + d;
		if (r > UINT32_MAX)
			return FS_ERANGE;
	}
	*v = (uint32_t)r;
	return FS_OK;
}

int fs_parse_mark(const char *s, uint32_t *mark, uint32_t *mask)
{
	uint32_t v, m = UINT32_MAX;
	const char *slash;
	size_t n;
	int ret;

	if (!s || !*s)
		return FS_ESYNTAX;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	ret = fs_parse_u32n(s, n, &v);
	if (ret != FS_OK)
		return ret;
	if (slash) {
		ret = fs_parse_u32n(slash + 1, strlen(slash + 1), &m);
		if (ret != FS_OK)
			return ret;
	}
	if (!m)
		return FS_EZEROMASK;
	if (v & ~m)
		return FS_EHOSTBITS;
	*mark = v;
	*mask = m;
	return FS_OK;
}

char *fs_format_mark(uint32_t mark, uint32_t mask, char *buf, size_t len)
{
	if (mask == UINT32_MAX)
		snprintf(buf, len, "0x%" PRIx32, mark);
	else
		snprintf(buf, len, "0x%" PRIx32 "/0x%" PRIx32, mark, mask);
	return buf;
}
