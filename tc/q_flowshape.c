// SPDX-License-Identifier: GPL-2.0
/*
 * q_flowshape.c	tc plugin for the flowshape qdisc.
 *
 * Built against the iproute2 source of the installed tc and loaded by it
 * with dlopen() from TC_LIB_DIR as q_flowshape.so; tc then looks up the
 * symbol flowshape_qdisc_util.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utils.h"
#include "tc_util.h"

#include <linux/flowshape.h>

static void explain(void)
{
	fprintf(stderr,
		"Usage: ... flowshape [ limit PACKETS ]\n"
		"\n"
		"  limit PACKETS   queue limit in packets (1..1000000, default 10000)\n");
}

static int flowshape_parse_opt(struct qdisc_util *qu, int argc, char **argv,
			       struct nlmsghdr *n, const char *dev)
{
	struct rtattr *tail;
	bool set_limit = false;
	__u32 limit = 0;

	(void)qu;
	(void)dev;

	while (argc > 0) {
		if (strcmp(*argv, "limit") == 0) {
			NEXT_ARG();
			if (get_u32(&limit, *argv, 0) || limit == 0) {
				fprintf(stderr, "flowshape: invalid limit \"%s\": expected packets, 1..1000000\n",
					*argv);
				return -1;
			}
			set_limit = true;
		} else if (strcmp(*argv, "help") == 0) {
			explain();
			return -1;
		} else {
			fprintf(stderr, "flowshape: unknown parameter \"%s\"\n", *argv);
			explain();
			return -1;
		}
		argc--;
		argv++;
	}

	tail = addattr_nest(n, 1024, TCA_OPTIONS | NLA_F_NESTED);
	if (set_limit)
		addattr_l(n, 1024, TCA_FLOWSHAPE_LIMIT, &limit, sizeof(limit));
	addattr_nest_end(n, tail);
	return 0;
}

static int flowshape_print_opt(struct qdisc_util *qu, FILE *f,
			       struct rtattr *opt)
{
	struct rtattr *tb[TCA_FLOWSHAPE_MAX + 1];

	(void)qu;
	(void)f;

	if (!opt)
		return 0;

	parse_rtattr_nested(tb, TCA_FLOWSHAPE_MAX, opt);

	if (tb[TCA_FLOWSHAPE_LIMIT] &&
	    RTA_PAYLOAD(tb[TCA_FLOWSHAPE_LIMIT]) >= sizeof(__u32))
		print_uint(PRINT_ANY, "limit", "limit %up ",
			   rta_getattr_u32(tb[TCA_FLOWSHAPE_LIMIT]));
	return 0;
}

static int flowshape_print_xstats(struct qdisc_util *qu, FILE *f,
				  struct rtattr *xstats)
{
	struct tc_flowshape_xstats st = { 0 };

	(void)qu;
	(void)f;

	if (!xstats)
		return 0;

	/* Accept an older (shorter) or newer (longer) kernel struct. */
	memcpy(&st, RTA_DATA(xstats),
	       RTA_PAYLOAD(xstats) < sizeof(st) ? RTA_PAYLOAD(xstats) : sizeof(st));

	print_lluint(PRINT_ANY, "enqueued", "  enqueued %llu",
		     (unsigned long long)st.enqueued);
	print_lluint(PRINT_ANY, "drops_limit", " drops_limit %llu",
		     (unsigned long long)st.drops_limit);
	return 0;
}

struct qdisc_util flowshape_qdisc_util = {
	.id		= "flowshape",
	.parse_qopt	= flowshape_parse_opt,
	.print_qopt	= flowshape_print_opt,
	.print_xstats	= flowshape_print_xstats,
};
