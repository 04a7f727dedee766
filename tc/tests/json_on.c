// SPDX-License-Identifier: GPL-2.0
/*
 * json_on.c	LD_PRELOAD into tc so that "tc monitor file" prints JSON.
 *
 * tc 6.1 opens its JSON writer only in the "show" commands, and a host
 * without the flowshape module has nothing to show; "tc monitor file"
 * prints saved messages (tests/fs_nlmsg) but in text only.  This opens the
 * writer before main() and closes it at exit, so that tests/host.sh can
 * check the plugin's JSON with jq.  Test-only: the two functions are tc's
 * own, resolved from the tc binary like the plugin's helpers.
 */

#include <stdlib.h>

void new_json_obj(int json);
void delete_json_obj(void);

static void json_off(void)
{
	delete_json_obj();
}

__attribute__((constructor))
static void json_on(void)
{
	new_json_obj(1);
	atexit(json_off);
}
