/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * flowshape: per-flow delay qdisc driven by destination congestion and
 * server load.
 *
 * This header is the one contract between the kernel module, the tc plugin
 * (q_flowshape.so) and flowshape-agent.  Every value that crosses it carries
 * its unit in the comment beside it.  Attributes are only ever appended;
 * xstats fields are only ever appended (readers must accept a shorter or
 * longer struct than they know and use the common prefix).
 */
#ifndef _UAPI_LINUX_FLOWSHAPE_H
#define _UAPI_LINUX_FLOWSHAPE_H

#include <linux/types.h>

/* TCA_OPTIONS of qdisc kind "flowshape" */
enum {
	TCA_FLOWSHAPE_UNSPEC,
	TCA_FLOWSHAPE_LIMIT,		/* u32: queue limit, packets (1..1000000) */
	__TCA_FLOWSHAPE_MAX
};

#define TCA_FLOWSHAPE_MAX	(__TCA_FLOWSHAPE_MAX - 1)

/* Extended statistics (TCA_STATS_APP), dumped with "tc -s qdisc show". */
struct tc_flowshape_xstats {
	__u64	enqueued;		/* packets accepted by enqueue */
	__u64	drops_limit;		/* packets dropped: qdisc limit reached */
};

#endif /* _UAPI_LINUX_FLOWSHAPE_H */
