// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for flowshape-agent.conf parsing: config_parse() on the
 * raw bytes (NULs and all), as the agent reads a file or stdin.  Beyond the
 * sanitizers: a refusal says why ("NAME:LINE: reason", NUL-terminated in
 * the buffer); an accepted configuration has prefixes without host bits,
 * within their family's length, and frees cleanly (LeakSanitizer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct config *c;
	size_t i;

	memset(err, 0x55, sizeof(err));
	c = config_parse("fuzz.conf", (const char *)data, size, err, sizeof(err));
	if (!c) {
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(strncmp(err, "fuzz.conf", 9) == 0);
		return 0;
	}
	for (i = 0; i < c->ndests; i++) {
		const struct cfg_dest *d = &c->dests[i];
		unsigned int alen = d->family == AF_INET ? 4 : 16, b;

		CHECK(d->family == AF_INET || d->family == AF_INET6);
		CHECK(d->plen <= alen * 8);
		for (b = d->plen; b < alen * 8; b++)
			CHECK(!(d->addr[b / 8] & (0x80 >> (b % 8))));
	}
	CHECK(c->ndests <= CFG_MAX_DESTS && c->nqdiscs <= CFG_MAX_QDISCS);
	config_free(c);
	return 0;
}
