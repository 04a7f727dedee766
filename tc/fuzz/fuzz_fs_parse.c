// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for tc/fs_parse.c, the tc plugin's value parsers.
 *
 * The first byte picks the parser, the rest is the string (NUL-terminated
 * copy: the parsers take C strings, as tc hands them argv).  Beyond "no
 * crash, no sanitizer report", the harness checks properties:
 *   - fraction: a result is <= 1.0 (1000000 ppm) and formats back
 *     (fs_format_ppm) to a string that parses to the same value;
 *   - prefix: FS_OK / FS_EHOSTBITS results format (fs_format_prefix) and
 *     parse back to the same family, address and length, with no host bits;
 *   - mode: a result names a mode (fs_mode_name) that parses back;
 *   - uint: digits only, and the value prints back to the same digits
 *     (leading zeros aside);
 *   - parameters: fs_param_check agrees with the table's range, and a
 *     literal fs_time_literal_ok/fs_size_literal_ok accepts is something
 *     strtod() reads whole.
 * A broken property calls abort(): libFuzzer saves the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fs_parse.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static void fuzz_fraction(const char *s)
{
	char buf[FS_PPM_BUFSZ];
	uint32_t ppm = 0, again = 0;

	if (fs_parse_fraction(s, &ppm) != FS_OK)
		return;
	CHECK(ppm <= FS_PPM_ONE);
	fs_format_ppm(ppm, buf, sizeof(buf));
	CHECK(fs_parse_fraction(buf, &again) == FS_OK);
	CHECK(again == ppm);
}

static void fuzz_prefix(const char *s)
{
	char buf[FS_PREFIX_BUFSZ];
	struct fs_prefix p, q;
	int r = fs_parse_prefix(s, &p);

	if (r != FS_OK && r != FS_EHOSTBITS)
		return;
	CHECK(p.family == AF_INET || p.family == AF_INET6);
	CHECK(p.plen <= (p.family == AF_INET ? 32 : 128));
	/* With host bits, p is the masked network: it must be clean. */
	CHECK(fs_format_prefix(&p, buf, sizeof(buf)) == FS_OK);
	CHECK(fs_parse_prefix(buf, &q) == FS_OK);
	CHECK(q.family == p.family && q.plen == p.plen);
	CHECK(memcmp(q.addr, p.addr, sizeof(p.addr)) == 0);
}

static void fuzz_mode(const char *s)
{
	unsigned int m = 99, again = 98;
	const char *name;

	if (fs_parse_mode(s, &m) != FS_OK)
		return;
	name = fs_mode_name(m);
	CHECK(name != NULL);
	CHECK(fs_parse_mode(name, &again) == FS_OK && again == m);
}

static void fuzz_uint(const char *s)
{
	char buf[32];
	uint64_t v;
	size_t i;

	if (fs_parse_uint(s, &v) != FS_OK)
		return;
	for (i = 0; s[i]; i++)
		CHECK(s[i] >= '0' && s[i] <= '9');
	while (s[0] == '0' && s[1])
		s++;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	CHECK(strcmp(buf, s) == 0);
}

static void fuzz_param(const char *s, uint8_t sel)
{
	const struct fs_param *p = &fs_params[sel % FS_PARAM_COUNT];
	uint64_t v;
	char *end;

	/* Keyword lookup never crashes, and finds exactly the table's names. */
	if (fs_param_lookup(s))
		CHECK(strcmp(fs_param_lookup(s)->name, s) == 0);
	if (fs_parse_uint(s, &v) == FS_OK) {
		int r = fs_param_check(p, v);

		if (v < p->min || v > p->max)
			CHECK(r == FS_ERANGE);
		else if (p->kind != FS_KIND_POW2)
			CHECK(r == FS_OK);
		else
			CHECK((r == FS_OK) == fs_is_pow2(v));
	}
	if (fs_time_literal_ok(s) || fs_size_literal_ok(s)) {
		/* What the iproute2 helpers will strtod(): a number first. */
		(void)strtod(s, &end);
		CHECK(end != s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	uint8_t sel;

	if (!size)
		return 0;
	sel = data[0];
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (sel % 5) {
	case 0: fuzz_fraction(s); break;
	case 1: fuzz_prefix(s); break;
	case 2: fuzz_mode(s); break;
	case 3: fuzz_uint(s); break;
	default: fuzz_param(s, (uint8_t)(sel / 5)); break;
	}
	free(s);
	return 0;
}
