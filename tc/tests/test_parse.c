// SPDX-License-Identifier: GPL-2.0
/*
 * test_parse.c	cmocka tests of fs_parse.c: fractions, prefixes, modes,
 * counts, the time/size literal guards and the parameter table.
 *
 * Table-driven: each failure names the input that failed.  Outputs are
 * pre-filled with a poison value so that a parser writing its result on
 * an error path is caught too.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fs_parse.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define POISON32	0xdeadbeefU
#define POISON64	0xdeadbeefdeadbeefULL
#define S(s)		((s) ? (s) : "(null)")

/* ---- fractions ---------------------------------------------------------- */

struct frac_case {
	const char	*in;
	int		ret;
	uint32_t	ppm;
};

static void check_fractions(const struct frac_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t ppm = POISON32;
		int ret = fs_parse_fraction(c[i].in, &ppm);

		if (ret != c[i].ret)
			fail_msg("fs_parse_fraction(\"%s\") = %d, want %d",
				 S(c[i].in), ret, c[i].ret);
		if (ret == FS_OK && ppm != c[i].ppm)
			fail_msg("fs_parse_fraction(\"%s\"): %u ppm, want %u",
				 S(c[i].in), ppm, c[i].ppm);
		if (ret != FS_OK && ppm != POISON32)
			fail_msg("fs_parse_fraction(\"%s\") failed but wrote %u",
				 S(c[i].in), ppm);
	}
}

static void test_fraction_decimal(void **state)
{
	static const struct frac_case cases[] = {
		{ "0", FS_OK, 0 },
		{ "1", FS_OK, 1000000 },
		{ "0.35", FS_OK, 350000 },
		{ ".5", FS_OK, 500000 },
		{ "1.", FS_OK, 1000000 },
		{ "0.", FS_OK, 0 },
		{ "0.2", FS_OK, 200000 },
		{ "0.99", FS_OK, 990000 },
		{ "0.000001", FS_OK, 1 },
		{ "0.123456", FS_OK, 123456 },
		{ "0.999999", FS_OK, 999999 },
		{ "00.5", FS_OK, 500000 },
		{ "000001", FS_OK, 1000000 },
		{ "1.000000", FS_OK, 1000000 },
		{ "1.0000000000", FS_OK, 1000000 },
		{ "0.50000000000000000000", FS_OK, 500000 },
	};

	(void)state;
	check_fractions(cases, ARRAY_SIZE(cases));
}

static void test_fraction_percent(void **state)
{
	static const struct frac_case cases[] = {
		{ "35%", FS_OK, 350000 },
		{ "100%", FS_OK, 1000000 },
		{ "12.5%", FS_OK, 125000 },
		{ "0%", FS_OK, 0 },
		{ "7%", FS_OK, 70000 },
		{ ".5%", FS_OK, 5000 },
		{ "0.0001%", FS_OK, 1 },
		{ "99.9999%", FS_OK, 999999 },
		{ "100.00%", FS_OK, 1000000 },
		{ "050%", FS_OK, 500000 },
		{ "1.%", FS_OK, 10000 },
	};

	(void)state;
	check_fractions(cases, ARRAY_SIZE(cases));
}

/* Past ppm resolution the value rounds to the nearest ppm, half up. */
static void test_fraction_rounding(void **state)
{
	static const struct frac_case cases[] = {
		{ "0.0000005", FS_OK, 1 },
		{ "0.0000004", FS_OK, 0 },
		{ "0.00000049999", FS_OK, 0 },
		{ "0.0000014999", FS_OK, 1 },
		{ "0.1234565", FS_OK, 123457 },
		{ "0.1234564999", FS_OK, 123456 },
		{ "0.99999949", FS_OK, 999999 },
		{ "0.9999995", FS_OK, 1000000 },
		{ "12.34565%", FS_OK, 123457 },
		{ "0.00005%", FS_OK, 1 },
		{ "0.00004%", FS_OK, 0 },
		{ "99.99995%", FS_OK, 1000000 },
	};

	(void)state;
	check_fractions(cases, ARRAY_SIZE(cases));
}

static void test_fraction_syntax(void **state)
{
	static const struct frac_case cases[] = {
		{ NULL, FS_ESYNTAX, 0 },
		{ "", FS_ESYNTAX, 0 },
		{ "abc", FS_ESYNTAX, 0 },
		{ "0.5x", FS_ESYNTAX, 0 },
		{ "x0.5", FS_ESYNTAX, 0 },
		{ "-0.1", FS_ESYNTAX, 0 },
		{ "-0", FS_ESYNTAX, 0 },
		{ "+0.5", FS_ESYNTAX, 0 },
		{ ".", FS_ESYNTAX, 0 },
		{ "%", FS_ESYNTAX, 0 },
		{ ".%", FS_ESYNTAX, 0 },
		{ "35 %", FS_ESYNTAX, 0 },
		{ " 0.5", FS_ESYNTAX, 0 },
		{ "0.5 ", FS_ESYNTAX, 0 },
		{ "1e-1", FS_ESYNTAX, 0 },
		{ "0x1", FS_ESYNTAX, 0 },
		{ "50%%", FS_ESYNTAX, 0 },
		{ "%50", FS_ESYNTAX, 0 },
		{ "5%0", FS_ESYNTAX, 0 },
		{ "0..5", FS_ESYNTAX, 0 },
		{ "0.5.", FS_ESYNTAX, 0 },
		{ "0,5", FS_ESYNTAX, 0 },
		{ "nan", FS_ESYNTAX, 0 },
		{ "inf", FS_ESYNTAX, 0 },
		{ "0.35\n", FS_ESYNTAX, 0 },
	};

	(void)state;
	check_fractions(cases, ARRAY_SIZE(cases));
}

static void test_fraction_range(void **state)
{
	static const struct frac_case cases[] = {
		{ "1.5", FS_ERANGE, 0 },
		{ "2", FS_ERANGE, 0 },
		{ "10", FS_ERANGE, 0 },
		{ "1.0000001", FS_ERANGE, 0 },
		{ "1.00000000000000000001", FS_ERANGE, 0 },
		{ "101%", FS_ERANGE, 0 },
		{ "100.0001%", FS_ERANGE, 0 },
		{ "1000%", FS_ERANGE, 0 },
		/* Far too many digits must not wrap around into range. */
		{ "18446744073709551617", FS_ERANGE, 0 },
		{ "100000000000000000000000000000001", FS_ERANGE, 0 },
		{ "18446744073709551616%", FS_ERANGE, 0 },
	};

	(void)state;
	check_fractions(cases, ARRAY_SIZE(cases));
}

/* "N%" and "0.NN" are the same level for every whole percent. */
static void test_fraction_percent_matches_decimal(void **state)
{
	unsigned int pc;

	(void)state;
	for (pc = 0; pc <= 100; pc++) {
		char a[16], b[16];
		uint32_t x = POISON32, y = POISON32;

		snprintf(a, sizeof(a), "%u%%", pc);
		snprintf(b, sizeof(b), "%u.%02u", pc / 100, pc % 100);
		assert_int_equal(fs_parse_fraction(a, &x), FS_OK);
		assert_int_equal(fs_parse_fraction(b, &y), FS_OK);
		if (x != y || x != pc * 10000)
			fail_msg("\"%s\" = %u ppm, \"%s\" = %u ppm, want %u",
				 a, x, b, y, pc * 10000);
	}
}

/* ---- fs_format_ppm ------------------------------------------------------ */

static void test_format_ppm(void **state)
{
	static const struct {
		uint32_t	ppm;
		const char	*out;
	} cases[] = {
		{ 0, "0" },
		{ 1, "0.000001" },
		{ 10, "0.00001" },
		{ 200000, "0.2" },
		{ 350000, "0.35" },
		{ 500000, "0.5" },
		{ 990000, "0.99" },
		{ 123456, "0.123456" },
		{ 999999, "0.999999" },
		{ 1000000, "1" },
		{ 1500000, "1.5" },
		{ 2000000, "2" },
		{ UINT32_MAX, "4294.967295" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[FS_PPM_BUFSZ];

		memset(buf, 'x', sizeof(buf));
		assert_ptr_equal(fs_format_ppm(cases[i].ppm, buf, sizeof(buf)),
				 buf);
		if (strcmp(buf, cases[i].out))
			fail_msg("fs_format_ppm(%u) = \"%s\", want \"%s\"",
				 cases[i].ppm, buf, cases[i].out);
	}
}

static void test_format_ppm_short_buffer(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	fs_format_ppm(123456, buf, 4);
	/* Truncated, terminated, and nothing written past the length. */
	assert_string_equal(buf, "0.1");
	assert_int_equal(buf[4], 'x');
}

/* What tc prints for a level, tc reads back as the same level. */
static void test_format_parse_roundtrip(void **state)
{
	uint32_t v;

	(void)state;
	for (v = 0; v <= FS_PPM_ONE; v += (v < 100 || v > 999900) ? 1 : 7919) {
		char buf[FS_PPM_BUFSZ];
		uint32_t back = POISON32;

		fs_format_ppm(v, buf, sizeof(buf));
		if (fs_parse_fraction(buf, &back) != FS_OK || back != v)
			fail_msg("%u ppm printed as \"%s\" reads back as %u",
				 v, buf, back);
	}
}

/* ---- prefixes ------------------------------------------------------------ */

struct prefix_case {
	const char	*in;
	int		ret;
	int		family;
	const char	*addr;	/* expected network, as text */
	unsigned int	plen;
};

static void check_prefix(const struct prefix_case *c)
{
	struct fs_prefix p, want = { 0 };
	int ret;

	memset(&p, 0xa5, sizeof(p));
	ret = fs_parse_prefix(c->in, &p);
	if (ret != c->ret)
		fail_msg("fs_parse_prefix(\"%s\") = %d, want %d", S(c->in), ret,
			 c->ret);
	if (ret != FS_OK && ret != FS_EHOSTBITS) {
		struct fs_prefix poison;

		memset(&poison, 0xa5, sizeof(poison));
		if (memcmp(&p, &poison, sizeof(p)))
			fail_msg("fs_parse_prefix(\"%s\") failed but wrote", S(c->in));
		return;
	}
	want.family = c->family;
	want.plen = (uint8_t)c->plen;
	assert_int_equal(inet_pton(c->family, c->addr, want.addr), 1);
	if (p.family != want.family || p.plen != want.plen ||
	    memcmp(p.addr, want.addr, sizeof(want.addr)))
		fail_msg("fs_parse_prefix(\"%s\"): family %d plen %u, want %s/%u",
			 c->in, p.family, p.plen, c->addr, c->plen);
}

static void check_prefixes(const struct prefix_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_prefix(&c[i]);
}

static void test_prefix_ipv4(void **state)
{
	static const struct prefix_case cases[] = {
		{ "10.0.1.0/24", FS_OK, AF_INET, "10.0.1.0", 24 },
		{ "10.0.0.0/8", FS_OK, AF_INET, "10.0.0.0", 8 },
		{ "172.16.0.0/12", FS_OK, AF_INET, "172.16.0.0", 12 },
		{ "10.128.0.0/9", FS_OK, AF_INET, "10.128.0.0", 9 },
		{ "10.0.1.128/25", FS_OK, AF_INET, "10.0.1.128", 25 },
		{ "128.0.0.0/1", FS_OK, AF_INET, "128.0.0.0", 1 },
		{ "0.0.0.0/0", FS_OK, AF_INET, "0.0.0.0", 0 },
		{ "255.255.255.255/32", FS_OK, AF_INET, "255.255.255.255", 32 },
		{ "10.0.0.0/008", FS_OK, AF_INET, "10.0.0.0", 8 },
		/* A bare address is a host route. */
		{ "192.168.1.7", FS_OK, AF_INET, "192.168.1.7", 32 },
		{ "0.0.0.0", FS_OK, AF_INET, "0.0.0.0", 32 },
	};

	(void)state;
	check_prefixes(cases, ARRAY_SIZE(cases));
}

static void test_prefix_ipv6(void **state)
{
	static const struct prefix_case cases[] = {
		{ "2001:db8::/64", FS_OK, AF_INET6, "2001:db8::", 64 },
		{ "2001:db8:0:1::/64", FS_OK, AF_INET6, "2001:db8:0:1::", 64 },
		{ "2001:DB8::/32", FS_OK, AF_INET6, "2001:db8::", 32 },
		{ "fe80::/10", FS_OK, AF_INET6, "fe80::", 10 },
		{ "::/0", FS_OK, AF_INET6, "::", 0 },
		{ "::ffff:10.0.0.0/104", FS_OK, AF_INET6, "::ffff:10.0.0.0", 104 },
		{ "2001:db8::1/128", FS_OK, AF_INET6, "2001:db8::1", 128 },
		{ "2001:db8::1", FS_OK, AF_INET6, "2001:db8::1", 128 },
		{ "::1", FS_OK, AF_INET6, "::1", 128 },
		{ "::", FS_OK, AF_INET6, "::", 128 },
	};

	(void)state;
	check_prefixes(cases, ARRAY_SIZE(cases));
}

static void test_prefix_syntax(void **state)
{
	char long_addr[128];
	struct prefix_case cases[] = {
		{ NULL, FS_ESYNTAX, 0, NULL, 0 },
		{ "", FS_ESYNTAX, 0, NULL, 0 },
		{ "abc", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.256", FS_ESYNTAX, 0, NULL, 0 },
		{ "010.0.0.0/8", FS_ESYNTAX, 0, NULL, 0 },
		{ "0x0a.0.0.0/8", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0/", FS_ESYNTAX, 0, NULL, 0 },
		{ "/24", FS_ESYNTAX, 0, NULL, 0 },
		{ "/", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0/-1", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0/+8", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0/1x", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0/ 24", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0/24 ", FS_ESYNTAX, 0, NULL, 0 },
		{ " 10.0.0.0/24", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0/24/8", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0//24", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0/0008", FS_ESYNTAX, 0, NULL, 0 },
		{ "10.0.0.0/0x8", FS_ESYNTAX, 0, NULL, 0 },
		{ "1.2.3.4:80", FS_ESYNTAX, 0, NULL, 0 },
		{ "2001:db8:::/64", FS_ESYNTAX, 0, NULL, 0 },
		{ "1::2::3", FS_ESYNTAX, 0, NULL, 0 },
		{ "fe80::1%eth0", FS_ESYNTAX, 0, NULL, 0 },
		{ "::/abc", FS_ESYNTAX, 0, NULL, 0 },
		{ "2001:db8::g/64", FS_ESYNTAX, 0, NULL, 0 },
		{ long_addr, FS_ESYNTAX, 0, NULL, 0 },
	};

	(void)state;
	/* Longer than any address: must not overflow the copy. */
	memset(long_addr, '1', sizeof(long_addr) - 4);
	strcpy(long_addr + sizeof(long_addr) - 4, "/24");
	check_prefixes(cases, ARRAY_SIZE(cases));
}

/* ---- marks ------------------------------------------------------------- */

struct mark_case {
	const char	*in;
	int		ret;
	uint32_t	mark, mask;
};

static void test_mark(void **state)
{
	static const struct mark_case cases[] = {
		{ "0x10/0xff", FS_OK, 0x10, 0xff },
		{ "16", FS_OK, 16, 0xffffffffU },
		{ "0", FS_OK, 0, 0xffffffffU },
		{ "0x10", FS_OK, 0x10, 0xffffffffU },
		{ "0XaB/0XFF", FS_OK, 0xab, 0xff },
		{ "4294967295/4294967295", FS_OK, 0xffffffffU, 0xffffffffU },
		{ "0xffffffff/0xffffffff", FS_OK, 0xffffffffU, 0xffffffffU },
		{ "0/1", FS_OK, 0, 1 },
		{ "0x100000000", FS_ERANGE, 0, 0 },
		{ "4294967296", FS_ERANGE, 0, 0 },
		{ "1/0x1ffffffff", FS_ERANGE, 0, 0 },
		{ "0/0", FS_EZEROMASK, 0, 0 },
		{ "0x0/0x0", FS_EZEROMASK, 0, 0 },
		{ "0x110/0xff", FS_EHOSTBITS, 0, 0 },
		{ "3/2", FS_EHOSTBITS, 0, 0 },
		{ NULL, FS_ESYNTAX, 0, 0 },
		{ "", FS_ESYNTAX, 0, 0 },
		{ "0x", FS_ESYNTAX, 0, 0 },
		{ "x10", FS_ESYNTAX, 0, 0 },
		{ "-1", FS_ESYNTAX, 0, 0 },
		{ "+1", FS_ESYNTAX, 0, 0 },
		{ " 1", FS_ESYNTAX, 0, 0 },
		{ "1 ", FS_ESYNTAX, 0, 0 },
		{ "010", FS_ESYNTAX, 0, 0 },
		{ "0x10/", FS_ESYNTAX, 0, 0 },
		{ "/0xff", FS_ESYNTAX, 0, 0 },
		{ "1/2/3", FS_ESYNTAX, 0, 0 },
		{ "0x1g", FS_ESYNTAX, 0, 0 },
		{ "1e3", FS_ESYNTAX, 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct mark_case *c = &cases[i];
		uint32_t mark = POISON32, mask = POISON32;
		int ret = fs_parse_mark(c->in, &mark, &mask);

		if (ret != c->ret)
			fail_msg("fs_parse_mark(\"%s\") = %d, want %d", S(c->in),
				 ret, c->ret);
		if (ret != FS_OK && (mark != POISON32 || mask != POISON32))
			fail_msg("fs_parse_mark(\"%s\") failed but wrote", S(c->in));
		if (ret == FS_OK && (mark != c->mark || mask != c->mask))
			fail_msg("fs_parse_mark(\"%s\") = %#x/%#x, want %#x/%#x",
				 S(c->in), mark, mask, c->mark, c->mask);
	}
}

static void test_mark_format(void **state)
{
	char b[FS_MARK_BUFSZ];

	(void)state;
	assert_string_equal(fs_format_mark(0x10, 0xff, b, sizeof(b)), "0x10/0xff");
	assert_string_equal(fs_format_mark(16, 0xffffffffU, b, sizeof(b)), "0x10");
	assert_string_equal(fs_format_mark(0xffffffffU, 0xfffffffeU | 1, b, sizeof(b)),
			    "0xffffffff");
	assert_string_equal(fs_format_mark(0, 1, b, sizeof(b)), "0x0/0x1");
	assert_string_equal(fs_format_mark(0xfffffffeU, 0xfffffffeU, b, sizeof(b)),
			    "0xfffffffe/0xfffffffe");
	assert_true(strlen(b) < FS_MARK_BUFSZ);
}

static void test_prefix_length_range(void **state)
{
	static const struct prefix_case cases[] = {
		{ "10.0.0.0/33", FS_EPLEN, 0, NULL, 0 },
		{ "10.0.0.0/128", FS_EPLEN, 0, NULL, 0 },
		{ "10.0.0.0/999", FS_EPLEN, 0, NULL, 0 },
		{ "2001:db8::/129", FS_EPLEN, 0, NULL, 0 },
		{ "::/200", FS_EPLEN, 0, NULL, 0 },
	};

	(void)state;
	check_prefixes(cases, ARRAY_SIZE(cases));
}

/* Host bits set: refused, with the network filled in for a hint. */
static void test_prefix_host_bits(void **state)
{
	static const struct prefix_case cases[] = {
		{ "10.0.1.1/24", FS_EHOSTBITS, AF_INET, "10.0.1.0", 24 },
		{ "10.0.1.129/25", FS_EHOSTBITS, AF_INET, "10.0.1.128", 25 },
		{ "11.0.0.0/7", FS_EHOSTBITS, AF_INET, "10.0.0.0", 7 },
		{ "10.255.255.255/8", FS_EHOSTBITS, AF_INET, "10.0.0.0", 8 },
		{ "0.0.0.1/0", FS_EHOSTBITS, AF_INET, "0.0.0.0", 0 },
		{ "10.0.0.1/31", FS_EHOSTBITS, AF_INET, "10.0.0.0", 31 },
		{ "2001:db8::1/64", FS_EHOSTBITS, AF_INET6, "2001:db8::", 64 },
		{ "2001:db8:ffff::/33", FS_EHOSTBITS, AF_INET6, "2001:db8:8000::", 33 },
		{ "::1/127", FS_EHOSTBITS, AF_INET6, "::", 127 },
		{ "ffff::/0", FS_EHOSTBITS, AF_INET6, "::", 0 },
	};

	(void)state;
	check_prefixes(cases, ARRAY_SIZE(cases));
}

static void test_format_prefix(void **state)
{
	static const char *const in[] = {
		"10.0.1.0/24", "0.0.0.0/0", "255.255.255.255/32",
		"2001:db8::/64", "::/0", "::1/128", "fe80::/10",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(in); i++) {
		struct fs_prefix p;
		char buf[FS_PREFIX_BUFSZ];

		assert_int_equal(fs_parse_prefix(in[i], &p), FS_OK);
		assert_int_equal(fs_format_prefix(&p, buf, sizeof(buf)), FS_OK);
		if (strcmp(buf, in[i]))
			fail_msg("\"%s\" formats as \"%s\"", in[i], buf);
	}
}

static void test_format_prefix_bad(void **state)
{
	struct fs_prefix p = { 0 };
	char buf[FS_PREFIX_BUFSZ], small[8];

	(void)state;
	p.family = AF_UNIX;
	assert_int_equal(fs_format_prefix(&p, buf, sizeof(buf)), FS_ESYNTAX);

	/* The longest IPv6 text fits the documented buffer size. */
	assert_int_equal(fs_parse_prefix(
		"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", &p), FS_OK);
	assert_int_equal(fs_format_prefix(&p, buf, sizeof(buf)), FS_OK);
	assert_true(strlen(buf) < FS_PREFIX_BUFSZ);

	assert_int_equal(fs_parse_prefix("10.0.1.0/24", &p), FS_OK);
	assert_int_equal(fs_format_prefix(&p, small, sizeof(small)), FS_ESYNTAX);
}

/* ---- modes ------------------------------------------------------------- */

static void test_mode(void **state)
{
	static const char *const bad[] = {
		NULL, "", "SPREAD", "Delay", "spread ", " delay", "sp", "del",
		"spreads", "delays", "0", "1", "spread|delay",
	};
	unsigned int m;
	size_t i;

	(void)state;
	m = POISON32;
	assert_int_equal(fs_parse_mode("spread", &m), FS_OK);
	assert_int_equal(m, FS_MODE_SPREAD);
	assert_int_equal(fs_parse_mode("delay", &m), FS_OK);
	assert_int_equal(m, FS_MODE_DELAY);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		m = POISON32;
		if (fs_parse_mode(bad[i], &m) != FS_ESYNTAX || m != POISON32)
			fail_msg("fs_parse_mode(\"%s\") accepted", S(bad[i]));
	}
}

static void test_scope(void **state)
{
	static const char *const bad[] = {
		NULL, "", "Flow", "dest", "destinations", " flow", "flow ", "0", "1",
	};
	unsigned int m = 0;
	size_t i;

	(void)state;
	assert_int_equal(fs_parse_scope("flow", &m), FS_OK);
	assert_int_equal(m, FS_SCOPE_FLOW);
	assert_int_equal(fs_parse_scope("destination", &m), FS_OK);
	assert_int_equal(m, FS_SCOPE_DEST);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (fs_parse_scope(bad[i], &m) != FS_ESYNTAX)
			fail_msg("fs_parse_scope(\"%s\") accepted", S(bad[i]));
	assert_string_equal(fs_scope_name(FS_SCOPE_FLOW), "flow");
	assert_string_equal(fs_scope_name(FS_SCOPE_DEST), "destination");
	assert_null(fs_scope_name(FS_SCOPE_COUNT));
}

static void test_mode_name(void **state)
{
	unsigned int m, back;

	(void)state;
	assert_string_equal(fs_mode_name(FS_MODE_SPREAD), "spread");
	assert_string_equal(fs_mode_name(FS_MODE_DELAY), "delay");
	assert_null(fs_mode_name(FS_MODE_COUNT));
	assert_null(fs_mode_name(255));
	assert_null(fs_mode_name(UINT32_MAX));
	for (m = 0; m < FS_MODE_COUNT; m++) {
		assert_int_equal(fs_parse_mode(fs_mode_name(m), &back), FS_OK);
		assert_int_equal(back, m);
	}
}

/* ---- counts ------------------------------------------------------------- */

static void test_uint(void **state)
{
	static const struct {
		const char	*in;
		int		ret;
		uint64_t	v;
	} cases[] = {
		{ "0", FS_OK, 0 },
		{ "1", FS_OK, 1 },
		{ "007", FS_OK, 7 },
		{ "1000000", FS_OK, 1000000 },
		{ "4294967296", FS_OK, 4294967296ULL },
		{ "18446744073709551615", FS_OK, UINT64_MAX },
		{ "18446744073709551616", FS_ERANGE, 0 },
		{ "99999999999999999999999", FS_ERANGE, 0 },
		{ NULL, FS_ESYNTAX, 0 },
		{ "", FS_ESYNTAX, 0 },
		{ "-1", FS_ESYNTAX, 0 },
		{ "+1", FS_ESYNTAX, 0 },
		{ " 1", FS_ESYNTAX, 0 },
		{ "1 ", FS_ESYNTAX, 0 },
		{ "0x10", FS_ESYNTAX, 0 },
		{ "1e3", FS_ESYNTAX, 0 },
		{ "1.0", FS_ESYNTAX, 0 },
		{ "12a", FS_ESYNTAX, 0 },
		{ "abc", FS_ESYNTAX, 0 },
		{ "10p", FS_ESYNTAX, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = POISON64;
		int ret = fs_parse_uint(cases[i].in, &v);

		if (ret != cases[i].ret)
			fail_msg("fs_parse_uint(\"%s\") = %d, want %d",
				 S(cases[i].in), ret, cases[i].ret);
		if (ret == FS_OK && v != cases[i].v)
			fail_msg("fs_parse_uint(\"%s\") gave %llu", cases[i].in,
				 (unsigned long long)v);
		if (ret != FS_OK && v != POISON64)
			fail_msg("fs_parse_uint(\"%s\") failed but wrote",
				 S(cases[i].in));
	}
}

static void test_is_pow2(void **state)
{
	(void)state;
	assert_false(fs_is_pow2(0));
	assert_true(fs_is_pow2(1));
	assert_true(fs_is_pow2(2));
	assert_false(fs_is_pow2(3));
	assert_true(fs_is_pow2(1024));
	assert_false(fs_is_pow2(1000));
	assert_true(fs_is_pow2(1ULL << 63));
	assert_false(fs_is_pow2((1ULL << 63) + 1));
	assert_false(fs_is_pow2(UINT64_MAX));
}

/* ---- the parameter table ------------------------------------------------ */

#define MS	FS_NSEC_PER_MSEC
#define SEC	FS_NSEC_PER_SEC

/* The spec's table (issue 3), transcribed independently of fs_parse.c. */
static const struct {
	const char	*name;
	enum fs_kind	kind;
	uint64_t	min, max;
	const char	*dflt;
} spec[] = {
	{ "limit", FS_KIND_PACKETS, 1, 1000000, "10000" },
	{ "flow_limit", FS_KIND_PACKETS, 1, 1000000, "1000" },
	{ "buckets", FS_KIND_POW2, 1, 1048576, "1024" },
	{ "max_flows", FS_KIND_COUNT, 1, 16777216, "65536" },
	{ "flow_idle", FS_KIND_TIME, 1 * MS, 3600 * SEC, "3s" },
	{ "mode", FS_KIND_MODE, 0, 1, "spread" },
	{ "congestion_weight", FS_KIND_TIME, 0, 10 * SEC, "10ms" },
	{ "load_weight", FS_KIND_TIME, 0, 10 * SEC, "10ms" },
	{ "congestion_threshold", FS_KIND_LEVEL, 0, 1000000, "0.2" },
	{ "load_threshold", FS_KIND_LEVEL, 0, 1000000, "0.5" },
	{ "max_delay", FS_KIND_TIME, 0, 10 * SEC, "50ms" },
	{ "smoothing", FS_KIND_LEVEL, 0, 990000, "0" },
	{ "quantum", FS_KIND_SIZE, 256, 1048576, "1514b" },
	{ "timer_slack", FS_KIND_TIME, 0, 10 * MS, "10us" },
	{ "stale_after", FS_KIND_TIME, 1 * MS, 10 * SEC, "5s" },
	{ "default_congestion", FS_KIND_LEVEL, 0, 1000000, "0" },
	{ "default_load", FS_KIND_LEVEL, 0, 1000000, "0" },
	{ "max_dests", FS_KIND_COUNT, 1, 65535, "4096" },
	{ "bypass_mark", FS_KIND_COUNT, 0, 4294967295u, "0" },
	{ "bypass_mask", FS_KIND_COUNT, 0, 4294967295u, "0" },
	{ "rate_scope", FS_KIND_SCOPE, 0, 1, "destination" },
	{ "aqm_target", FS_KIND_TIME, 0, 1 * SEC, "0" },
	{ "aqm_interval", FS_KIND_TIME, 1 * MS, 10 * SEC, "100ms" },
	{ "horizon", FS_KIND_TIME, 1 * MS, 3600 * SEC, "10s" },
	{ "horizon_drop", FS_KIND_COUNT, 0, 1, "1" },
	{ "overflow_limit", FS_KIND_PACKETS, 1, 1000000, "1000" },
};

static void test_params_match_spec(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(ARRAY_SIZE(spec), FS_PARAM_COUNT);
	for (i = 0; i < FS_PARAM_COUNT; i++) {
		const struct fs_param *p = &fs_params[i];

		/* Same order too: it is the order "tc qdisc show" prints. */
		assert_non_null(p->name);
		assert_string_equal(p->name, spec[i].name);
		if (p->kind != spec[i].kind || p->min != spec[i].min ||
		    p->max != spec[i].max)
			fail_msg("%s: kind %d range %llu..%llu, spec %d %llu..%llu",
				 p->name, p->kind, (unsigned long long)p->min,
				 (unsigned long long)p->max, spec[i].kind,
				 (unsigned long long)spec[i].min,
				 (unsigned long long)spec[i].max);
		assert_string_equal(p->dflt, spec[i].dflt);
		assert_non_null(p->expect);
		assert_true(strlen(p->expect) > 0);
	}
}

static void test_param_lookup(void **state)
{
	static const char *const unknown[] = {
		NULL, "", "LIMIT", "limit ", "lim", "dest", "flush_dests",
		"congestion", "load", "delete", "help", "max_delays",
	};
	size_t i;

	(void)state;
	for (i = 0; i < FS_PARAM_COUNT; i++)
		assert_ptr_equal(fs_param_lookup(fs_params[i].name), &fs_params[i]);
	for (i = 0; i < ARRAY_SIZE(unknown); i++)
		if (fs_param_lookup(unknown[i]))
			fail_msg("\"%s\" is not a parameter", S(unknown[i]));
}

/* Each range is inclusive at both ends and closed just outside them. */
static void test_param_bounds(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < FS_PARAM_COUNT; i++) {
		const struct fs_param *p = &fs_params[i];

		if (fs_param_check(p, p->min) != FS_OK ||
		    fs_param_check(p, p->max) != FS_OK)
			fail_msg("%s: bounds %llu..%llu refused", p->name,
				 (unsigned long long)p->min,
				 (unsigned long long)p->max);
		if (fs_param_check(p, p->max + 1) != FS_ERANGE)
			fail_msg("%s: %llu accepted", p->name,
				 (unsigned long long)p->max + 1);
		if (p->min && fs_param_check(p, p->min - 1) != FS_ERANGE)
			fail_msg("%s: %llu accepted", p->name,
				 (unsigned long long)p->min - 1);
		if (fs_param_check(p, UINT64_MAX) != FS_ERANGE)
			fail_msg("%s: UINT64_MAX accepted", p->name);
	}
}

static void test_buckets_power_of_two(void **state)
{
	const struct fs_param *b = fs_param_lookup("buckets");
	static const uint64_t good[] = { 1, 2, 4, 64, 1024, 65536, 1048576 };
	static const uint64_t bad[] = { 0, 3, 6, 1000, 1023, 1025, 1048575,
					2097152 };
	size_t i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < ARRAY_SIZE(good); i++)
		if (fs_param_check(b, good[i]) != FS_OK)
			fail_msg("buckets %llu refused", (unsigned long long)good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (fs_param_check(b, bad[i]) != FS_ERANGE)
			fail_msg("buckets %llu accepted", (unsigned long long)bad[i]);
}

/* The way tc parses text for a parameter, as far as fs_parse goes. */
static int parse_for(const struct fs_param *p, const char *s, uint64_t *v)
{
	unsigned int mode;
	uint32_t ppm;
	int ret;

	switch (p->kind) {
	case FS_KIND_LEVEL:
		ret = fs_parse_fraction(s, &ppm);
		*v = ppm;
		break;
	case FS_KIND_MODE:
		ret = fs_parse_mode(s, &mode);
		*v = mode;
		break;
	case FS_KIND_SCOPE:
		ret = fs_parse_scope(s, &mode);
		*v = mode;
		break;
	default:
		ret = fs_parse_uint(s, v);
		break;
	}
	return ret ? ret : fs_param_check(p, *v);
}

static void test_level_and_count_ranges(void **state)
{
	static const struct {
		const char	*name, *in;
		int		ret;
	} cases[] = {
		{ "smoothing", "0", FS_OK },
		{ "smoothing", "0.99", FS_OK },
		{ "smoothing", "99%", FS_OK },
		{ "smoothing", "0.990001", FS_ERANGE },
		{ "smoothing", "99.5%", FS_ERANGE },
		{ "smoothing", "1", FS_ERANGE },
		{ "congestion_threshold", "1", FS_OK },
		{ "congestion_threshold", "100%", FS_OK },
		{ "congestion_threshold", "1.01", FS_ERANGE },
		{ "default_load", "0.000001", FS_OK },
		{ "limit", "0", FS_ERANGE },
		{ "limit", "1", FS_OK },
		{ "limit", "1000000", FS_OK },
		{ "limit", "1000001", FS_ERANGE },
		{ "limit", "-1", FS_ESYNTAX },
		{ "flow_limit", "99999999999999999999", FS_ERANGE },
		{ "max_flows", "16777216", FS_OK },
		{ "max_flows", "16777217", FS_ERANGE },
		{ "max_dests", "65535", FS_OK },
		{ "max_dests", "65536", FS_ERANGE },
		{ "max_dests", "0", FS_ERANGE },
		{ "buckets", "1048576", FS_OK },
		{ "buckets", "1000", FS_ERANGE },
		{ "mode", "delay", FS_OK },
		{ "mode", "fast", FS_ESYNTAX },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct fs_param *p = fs_param_lookup(cases[i].name);
		uint64_t v;
		int ret;

		assert_non_null(p);
		ret = parse_for(p, cases[i].in, &v);
		if (ret != cases[i].ret)
			fail_msg("%s \"%s\" = %d, want %d", cases[i].name,
				 cases[i].in, ret, cases[i].ret);
	}
}

/* The defaults the help text shows are themselves valid input. */
static void test_defaults_are_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < FS_PARAM_COUNT; i++) {
		const struct fs_param *p = &fs_params[i];
		uint64_t v;
		bool ok;

		if (p->kind == FS_KIND_TIME)
			ok = fs_time_literal_ok(p->dflt);
		else if (p->kind == FS_KIND_SIZE)
			ok = fs_size_literal_ok(p->dflt);
		else
			ok = parse_for(p, p->dflt, &v) == FS_OK;
		if (!ok)
			fail_msg("%s: default \"%s\" is not valid input",
				 p->name, p->dflt);
	}
}

/* ---- time and size literal guards --------------------------------------- */

static void check_literals(bool (*fn)(const char *), const char *what,
			   const char *const *in, size_t n, bool want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fn(in[i]) != want)
			fail_msg("%s(\"%s\") should be %s", what, S(in[i]),
				 want ? "true" : "false");
}

static void test_time_literal(void **state)
{
	static const char *const good[] = {
		"5ms", "200us", "1s", "100ns", "100", "0", "0s", "1.5ms",
		".5s", "1.s", "10MS", "2secs", "3sec", "4msec", "5usecs",
		"6nsec", "3600s", "3.6e+03s", "1e3ms", "2E-3s", "9000000000s",
	};
	static const char *const bad[] = {
		NULL, "", "-1ms", "+1ms", "-0", "inf", "nan", "infs", "0x10ms",
		"5 ms", " 5ms", "5ms ", "5m", "5min", "5h", "ms", ".s", ".",
		"1e", "1e+", "1e+s", "5msx", "1..5ms", "1.5.ms", "10000000000s",
		"1e300ns", "1e400s", "1,5ms",
	};

	(void)state;
	check_literals(fs_time_literal_ok, "fs_time_literal_ok", good,
		       ARRAY_SIZE(good), true);
	check_literals(fs_time_literal_ok, "fs_time_literal_ok", bad,
		       ARRAY_SIZE(bad), false);
}

static void test_size_literal(void **state)
{
	static const char *const good[] = {
		"1514", "1514b", "1514B", "64kb", "64K", "1mb", "1m", "3gb",
		"1gbit", "8kbit", "2mbit", "0", "1.5kb", "0.5kb", "4294967295",
		"1.5e3",
	};
	static const char *const bad[] = {
		NULL, "", "-1", "+1514", "0x100", "1514 b", "1514bytes", "b",
		"kb", "nan", "inf", "1.5e10", "4294967296", "4gb", "64kib",
		"1e", "1,5kb", "1514.5", "1.1kb", "0.5",
	};

	(void)state;
	check_literals(fs_size_literal_ok, "fs_size_literal_ok", good,
		       ARRAY_SIZE(good), true);
	check_literals(fs_size_literal_ok, "fs_size_literal_ok", bad,
		       ARRAY_SIZE(bad), false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fraction_decimal),
		cmocka_unit_test(test_fraction_percent),
		cmocka_unit_test(test_fraction_rounding),
		cmocka_unit_test(test_fraction_syntax),
		cmocka_unit_test(test_fraction_range),
		cmocka_unit_test(test_fraction_percent_matches_decimal),
		cmocka_unit_test(test_format_ppm),
		cmocka_unit_test(test_format_ppm_short_buffer),
		cmocka_unit_test(test_format_parse_roundtrip),
		cmocka_unit_test(test_prefix_ipv4),
		cmocka_unit_test(test_prefix_ipv6),
		cmocka_unit_test(test_prefix_syntax),
		cmocka_unit_test(test_prefix_length_range),
		cmocka_unit_test(test_prefix_host_bits),
		cmocka_unit_test(test_format_prefix),
		cmocka_unit_test(test_format_prefix_bad),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_mode_name),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_is_pow2),
		cmocka_unit_test(test_params_match_spec),
		cmocka_unit_test(test_param_lookup),
		cmocka_unit_test(test_param_bounds),
		cmocka_unit_test(test_buckets_power_of_two),
		cmocka_unit_test(test_level_and_count_ranges),
		cmocka_unit_test(test_defaults_are_valid),
		cmocka_unit_test(test_time_literal),
		cmocka_unit_test(test_size_literal),
		cmocka_unit_test(test_mark),
		cmocka_unit_test(test_mark_format),
	};

	return cmocka_run_group_tests_name("fs_parse", tests, NULL, NULL);
}
