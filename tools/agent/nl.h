/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtnetlink for flowshape, over libmnl: find the flowshape qdiscs of a
 * device, push a batch of destination updates to one ("tc qdisc change"
 * with only TCA_FLOWSHAPE_DESTS, plus STALE_AFTER when asked), list the
 * kernel's table (its classes), and watch RTNLGRP_TC for qdiscs that come
 * and go.  Message building is separate from I/O so that it can be tested
 * without a kernel.
 */
#ifndef FSA_NL_H
#define FSA_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;
struct nlattr;
struct mnl_socket;

/* One destination update (the UAPI's units: levels in ppm). */
struct nl_dest {
	int family;		/* AF_INET / AF_INET6 */
	uint8_t addr[16];
	uint8_t plen;
	bool del;		/* delete the entry (no levels) */
	uint32_t congestion_ppm;
	uint32_t load_ppm;
};

/* The delay function's parameters of a qdisc (its dump), for the
 * closed-loop controller's level <-> rate mapping. */
struct nl_qdisc_params {
	bool known;		/* every field below was in the dump */
	uint64_t congestion_weight_ns, load_weight_ns, max_delay_ns;
	uint32_t congestion_threshold_ppm, load_threshold_ppm;
	uint32_t quantum;
	uint8_t mode;
};

/* A flowshape qdisc instance. */
struct nl_qdisc {
	int ifindex;
	uint32_t handle;
	uint32_t parent;
	struct nl_qdisc_params params;
};

/* The sent bytes of one RTM_NEWQDISC message: true if present. */
bool nl_parse_qdisc_bytes(const struct nlmsghdr *nlh, uint64_t *bytes);

/* Parse a qdisc's TCA_OPTIONS (a nest) into p; p->known if complete. */
void nl_parse_qdisc_params(const struct nlattr *opts, struct nl_qdisc_params *p);

/* One entry of the kernel's table, as "tc class show" lists it. */
struct nl_dest_info {
	int family;
	uint8_t addr[16];
	uint8_t plen;
	uint32_t congestion_ppm, load_ppm;
	uint64_t age_ns, delay_ns;
	bool stale;
};

/* Bytes nl_build_change needs for n entries. */
size_t nl_change_size(size_t n);
/* Entries one change message can carry (its nests' 16-bit lengths). */
size_t nl_change_max_entries(void);
/* Build the change request into buf; NULL if it does not fit.
 * stale_after_ns 0 leaves the qdisc's stale_after alone. */
struct nlmsghdr *nl_build_change(void *buf, size_t len, uint32_t seq,
				 const struct nl_qdisc *q,
				 uint64_t stale_after_ns,
				 const struct nl_dest *d, size_t n);
/* Parse one class message of a flowshape qdisc's table: 0, or -1 if it is
 * not one. */
int nl_parse_dest_info(const struct nlmsghdr *nlh, uint32_t qhandle,
		       struct nl_dest_info *out);
/* The extack message (or strerror) of an NLMSG_ERROR; 0 if it is an ACK,
 * else the negative errno. */
int nl_parse_ack(const struct nlmsghdr *nlh, char *msg, size_t msglen);

struct nl {
	struct mnl_socket *req;		/* requests, blocking with a timeout */
	struct mnl_socket *ev;		/* RTNLGRP_TC notifications, nonblocking */
	uint32_t portid;
	uint32_t seq;
};

int nl_open(struct nl *nl, bool events);
void nl_close(struct nl *nl);
int nl_event_fd(const struct nl *nl);

/* Every flowshape qdisc on ifindex, into *out (malloc'ed, *n entries). */
int nl_find_qdiscs(struct nl *nl, int ifindex, struct nl_qdisc **out,
		   size_t *n, char *err, size_t errlen);
/* Send one change and wait for its ACK; on refusal returns -errno with the
 * kernel's extack message (or strerror) in err. */
int nl_push(struct nl *nl, const struct nl_qdisc *q, uint64_t stale_after_ns,
	    const struct nl_dest *d, size_t n, char *err, size_t errlen);
/* Bytes sent by each qdisc of a device (basic stats), one dump for all:
 * for each of the n handles, found[i] and bytes[i].  0 or -errno. */
int nl_qdisc_bytes(struct nl *nl, int ifindex, const uint32_t *handles,
		   size_t n, uint64_t *bytes, bool *found);
/* The qdisc's destination table. */
int nl_dump_dests(struct nl *nl, const struct nl_qdisc *q,
		  struct nl_dest_info **out, size_t *n, char *err, size_t errlen);
/* What a batch of RTM_NEWQDISC / RTM_DELQDISC notifications says. */
enum {
	NL_EV_CHANGED = 1,	/* a flowshape qdisc was added or changed by
				 * another socket: its table may be intact */
	NL_EV_GONE = 2,		/* one was deleted or replaced (or
				 * notifications were lost): look again */
};

/* Classify the notifications in buf (len bytes, as received): NL_EV_*
 * bits; messages from own_portid (our own pushes) are not news. */
unsigned int nl_events_classify(const void *buf, size_t len, uint32_t own_portid);
/* Drain notifications: the NL_EV_* bits of all of them. */
unsigned int nl_events_read(struct nl *nl);

/* Same prefix (family, length, address). */
bool nl_same_prefix(int family, const uint8_t *addr, uint8_t plen,
		    int family2, const uint8_t *addr2, uint8_t plen2);
/* How many of the n entries in want (their prefixes) the kernel's table
 * (have, nh entries) lacks. */
size_t nl_dests_missing(const struct nl_dest *want, size_t n,
			const struct nl_dest_info *have, size_t nh);
/* The entries of the table (have) whose prefix is not in keep (nk
 * entries), as deletions into del (room for nh); returns their number. */
size_t nl_dests_foreign(const struct nl_dest_info *have, size_t nh,
			const struct nl_dest *keep, size_t nk, struct nl_dest *del);

#endif
