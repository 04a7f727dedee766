// SPDX-License-Identifier: GPL-2.0
/*
 * fsnl: send one raw RTM_NEWQDISC "flowshape" request, bypassing tc's own
 * parsing, so that the selftests can check what the KERNEL accepts and
 * refuses (and the extack message it gives) for values tc would never
 * send: buckets not a power of two, a prefix length of 33, host bits set,
 * both or neither address in a dest, out-of-range levels, ...
 *
 *   fsnl [-n NETNS] add|change|replace DEV ARG...
 *
 * ARG (values are raw, in the UAPI's units: ns, ppm, bytes, packets):
 *   NAME=VALUE        a scalar option, NAME as the tc keyword (limit,
 *                     flow_limit, buckets, max_flows, flow_idle, mode,
 *                     congestion_weight, load_weight, congestion_threshold,
 *                     load_threshold, max_delay, smoothing, quantum,
 *                     timer_slack, stale_after, default_congestion,
 *                     default_load, max_dests), sent with the UAPI's type
 *   flush             TCA_FLOWSHAPE_DEST_FLUSH
 *   dest:F[,F...]     one TCA_FLOWSHAPE_DEST in the TCA_FLOWSHAPE_DESTS
 *                     nest; F is v4=ADDR, v6=ADDR, plen=N, c=PPM, l=PPM,
 *                     mark=N, mask=N (u32, 0x-hex allowed) or del.
 *                     Nothing is checked: that is the point.
 *   dests_junk=N      end the DESTS nest with N (1..3) bytes that are not
 *                     an attribute (the nest is opened if no dest: is given)
 *
 * The qdisc is the root qdisc of DEV.  Exit 0 when the kernel acks; 1 when
 * it refuses, with "Error: <extack message>" (if it gave one),
 * "errno: <strerror>" and, when the kernel marked an attribute
 * (NLMSGERR_ATTR_OFFS), "bad attribute: PATH (offset N)" on stderr.  PATH
 * names the attribute of the request at that offset: "options.limit",
 * "options.dests", "options.dests.dest#2" (the second entry),
 * "options.dests.dest#2.plen" (fields v4, v6, plen, c, l, del, mark, mask, as in the
 * arguments); an offset that is no attribute's start prints as "?".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>

#include <linux/flowshape.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define BUFSZ (256 * 1024)

static char buf[BUFSZ];

struct opt {
	const char *name;
	int type;
	int size;	/* 1, 4 or 8 bytes */
};

static const struct opt opts[] = {
	{ "limit", TCA_FLOWSHAPE_LIMIT, 4 },
	{ "flow_limit", TCA_FLOWSHAPE_FLOW_LIMIT, 4 },
	{ "buckets", TCA_FLOWSHAPE_BUCKETS, 4 },
	{ "max_flows", TCA_FLOWSHAPE_MAX_FLOWS, 4 },
	{ "flow_idle", TCA_FLOWSHAPE_FLOW_IDLE, 8 },
	{ "congestion_weight", TCA_FLOWSHAPE_CONGESTION_WEIGHT, 8 },
	{ "load_weight", TCA_FLOWSHAPE_LOAD_WEIGHT, 8 },
	{ "congestion_threshold", TCA_FLOWSHAPE_CONGESTION_THRESHOLD, 4 },
	{ "load_threshold", TCA_FLOWSHAPE_LOAD_THRESHOLD, 4 },
	{ "max_delay", TCA_FLOWSHAPE_MAX_DELAY, 8 },
	{ "smoothing", TCA_FLOWSHAPE_SMOOTHING, 4 },
	{ "mode", TCA_FLOWSHAPE_MODE, 1 },
	{ "quantum", TCA_FLOWSHAPE_QUANTUM, 4 },
	{ "timer_slack", TCA_FLOWSHAPE_TIMER_SLACK, 8 },
	{ "stale_after", TCA_FLOWSHAPE_STALE_AFTER, 8 },
	{ "default_congestion", TCA_FLOWSHAPE_DEFAULT_CONGESTION, 4 },
	{ "default_load", TCA_FLOWSHAPE_DEFAULT_LOAD, 4 },
	{ "max_dests", TCA_FLOWSHAPE_MAX_DESTS, 4 },
	{ "overflow_limit", TCA_FLOWSHAPE_OVERFLOW_LIMIT, 4 },
};

static struct nlmsghdr *nlh;

static const char *const dest_fields[] = {
	[TCA_FLOWSHAPE_DEST_IPV4] = "v4",
	[TCA_FLOWSHAPE_DEST_IPV6] = "v6",
	[TCA_FLOWSHAPE_DEST_PLEN] = "plen",
	[TCA_FLOWSHAPE_DEST_CONGESTION] = "c",
	[TCA_FLOWSHAPE_DEST_LOAD] = "l",
	[TCA_FLOWSHAPE_DEST_DELETE] = "del",
	[TCA_FLOWSHAPE_DEST_MARK] = "mark",
	[TCA_FLOWSHAPE_DEST_MARK_MASK] = "mask",
};

enum attr_level { LVL_TOP, LVL_OPTIONS, LVL_DESTS, LVL_DEST };

static void attr_name(enum attr_level lvl, int type, int idx, char *out, size_t n)
{
	size_t k;

	switch (lvl) {
	case LVL_TOP:
		snprintf(out, n, "%s", type == TCA_KIND ? "kind" :
			 type == TCA_OPTIONS ? "options" : "top");
		return;
	case LVL_OPTIONS:
		if (type == TCA_FLOWSHAPE_DESTS) {
			snprintf(out, n, "dests");
			return;
		}
		if (type == TCA_FLOWSHAPE_DEST_FLUSH) {
			snprintf(out, n, "flush");
			return;
		}
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			if (opts[k].type == type) {
				snprintf(out, n, "%s", opts[k].name);
				return;
			}
		}
		break;
	case LVL_DESTS:
		snprintf(out, n, "dest#%d", idx);
		return;
	case LVL_DEST:
		if (type > 0 && (size_t)type < sizeof(dest_fields) / sizeof(dest_fields[0]) &&
		    dest_fields[type]) {
			snprintf(out, n, "%s", dest_fields[type]);
			return;
		}
		break;
	}
	snprintf(out, n, "type%d", type);
}

/*
 * The path of the request's attribute that starts at @off (bytes from the
 * start of the message), searching the attributes in [@a, @a + @len).
 * Returns 0 and fills @path, or -1.
 */
static int attr_path(struct rtattr *a, int len, enum attr_level lvl,
		     unsigned int off, char *path, size_t n)
{
	int idx = 0;

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		unsigned int start = (unsigned int)((char *)a - (char *)nlh);
		int type = a->rta_type & NLA_TYPE_MASK;
		size_t used = strlen(path);
		bool nested;

		idx++;
		if (off < start || off >= start + a->rta_len)
			continue;
		snprintf(path + used, n - used, "%s", used ? "." : "");
		used = strlen(path);
		attr_name(lvl, type, idx, path + used, n - used);
		if (off == start)
			return 0;
		nested = (lvl == LVL_TOP && type == TCA_OPTIONS) ||
			 (lvl == LVL_OPTIONS && type == TCA_FLOWSHAPE_DESTS) ||
			 (lvl == LVL_DESTS && type == TCA_FLOWSHAPE_DEST);
		if (!nested)
			return -1;
		return attr_path(RTA_DATA(a), (int)RTA_PAYLOAD(a), lvl + 1, off,
				 path, n);
	}
	return -1;
}

static void print_bad_attr(unsigned int off)
{
	char path[256] = "";
	struct rtattr *a = (struct rtattr *)((char *)NLMSG_DATA(nlh) +
					     NLMSG_ALIGN(sizeof(struct tcmsg)));
	int len = (int)nlh->nlmsg_len - (int)((char *)a - (char *)nlh);

	if (attr_path(a, len, LVL_TOP, off, path, sizeof(path)))
		snprintf(path, sizeof(path), "?");
	fprintf(stderr, "bad attribute: %s (offset %u)\n", path, off);
}

static struct rtattr *addattr(int type, const void *data, int len)
{
	struct rtattr *rta;
	int alen = RTA_LENGTH(len);

	if (NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(alen) > BUFSZ) {
		fprintf(stderr, "fsnl: message too long\n");
		exit(2);
	}
	rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
	rta->rta_type = (unsigned short)type;
	rta->rta_len = (unsigned short)alen;
	if (len)
		memcpy(RTA_DATA(rta), data, (size_t)len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(alen);
	return rta;
}

static struct rtattr *nest_start(int type)
{
	return addattr(type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)nlh + nlh->nlmsg_len - (char *)nest);
}

static unsigned long long num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "fsnl: bad number \"%s\"\n", s);
		exit(2);
	}
	return v;
}

static void add_scalar(const struct opt *o, unsigned long long v)
{
	uint8_t u8 = (uint8_t)v;
	uint32_t u32 = (uint32_t)v;
	uint64_t u64 = v;

	if (o->size == 1)
		addattr(o->type, &u8, 1);
	else if (o->size == 4)
		addattr(o->type, &u32, 4);
	else
		addattr(o->type, &u64, 8);
}

static void add_dest(char *spec)
{
	struct rtattr *d = nest_start(TCA_FLOWSHAPE_DEST);
	char *f, *save = NULL;

	for (f = strtok_r(spec, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		char *v = strchr(f, '=');

		if (v)
			*v++ = 0;
		if (!strcmp(f, "v4") && v) {
			struct in_addr a;

			if (inet_pton(AF_INET, v, &a) != 1) {
				fprintf(stderr, "fsnl: bad IPv4 \"%s\"\n", v);
				exit(2);
			}
			addattr(TCA_FLOWSHAPE_DEST_IPV4, &a, 4);
		} else if (!strcmp(f, "v6") && v) {
			struct in6_addr a;

			if (inet_pton(AF_INET6, v, &a) != 1) {
				fprintf(stderr, "fsnl: bad IPv6 \"%s\"\n", v);
				exit(2);
			}
			addattr(TCA_FLOWSHAPE_DEST_IPV6, &a, 16);
		} else if (!strcmp(f, "plen") && v) {
			uint8_t p = (uint8_t)num(v);

			addattr(TCA_FLOWSHAPE_DEST_PLEN, &p, 1);
		} else if (!strcmp(f, "c") && v) {
			uint32_t c = (uint32_t)num(v);

			addattr(TCA_FLOWSHAPE_DEST_CONGESTION, &c, 4);
		} else if (!strcmp(f, "l") && v) {
			uint32_t l = (uint32_t)num(v);

			addattr(TCA_FLOWSHAPE_DEST_LOAD, &l, 4);
		} else if ((!strcmp(f, "mark") || !strcmp(f, "mask")) && v) {
			uint32_t m = (uint32_t)num(v);

			addattr(!strcmp(f, "mark") ? TCA_FLOWSHAPE_DEST_MARK :
				TCA_FLOWSHAPE_DEST_MARK_MASK, &m, 4);
		} else if (!strcmp(f, "del") && !v) {
			addattr(TCA_FLOWSHAPE_DEST_DELETE, NULL, 0);
		} else {
			fprintf(stderr, "fsnl: bad dest field \"%s\"\n", f);
			exit(2);
		}
	}
	nest_end(d);
}

static int usage(void)
{
	fprintf(stderr, "usage: fsnl [-n NETNS] add|change|replace DEV [NAME=VALUE|flush|dest:F,...|dests_junk=N]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct rtattr *options, *dests = NULL;
	unsigned long long junk = 0;
	struct tcmsg *t;
	int fd, one = 1, i;
	unsigned int ifindex;
	ssize_t r;

	/* -n NETNS: like "ip -n", join /var/run/netns/NETNS first. */
	if (argc > 2 && !strcmp(argv[1], "-n")) {
		char path[256];
		int nsfd;

		snprintf(path, sizeof(path), "/var/run/netns/%s", argv[2]);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
			fprintf(stderr, "fsnl: netns %s: %s\n", argv[2], strerror(errno));
			return 2;
		}
		close(nsfd);
		argc -= 2;
		argv += 2;
	}
	if (argc < 3)
		return usage();
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "fsnl: no device \"%s\"\n", argv[2]);
		return 2;
	}

	nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*t));
	nlh->nlmsg_type = RTM_NEWQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (!strcmp(argv[1], "add"))
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	else if (!strcmp(argv[1], "replace"))
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	else if (strcmp(argv[1], "change"))
		return usage();
	nlh->nlmsg_seq = 1;
	t = NLMSG_DATA(nlh);
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = (int)ifindex;
	t->tcm_parent = TC_H_ROOT;
	addattr(TCA_KIND, "flowshape", sizeof("flowshape"));
	options = nest_start(TCA_OPTIONS);

	/* Scalars and the flag first, then one DESTS nest with every dest. */
	for (i = 3; i < argc; i++) {
		char *a = argv[i], *v = strchr(a, '=');
		size_t k;

		if (!strncmp(a, "dest:", 5))
			continue;
		if (!strncmp(a, "dests_junk=", 11)) {
			junk = num(a + 11);
			if (junk < 1 || junk > 3)
				return usage();
			continue;
		}
		if (!strcmp(a, "flush")) {
			addattr(TCA_FLOWSHAPE_DEST_FLUSH, NULL, 0);
			continue;
		}
		if (!v)
			return usage();
		*v++ = 0;
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (!strcmp(a, opts[k].name))
				break;
		if (k == sizeof(opts) / sizeof(opts[0])) {
			fprintf(stderr, "fsnl: unknown option \"%s\"\n", a);
			return 2;
		}
		add_scalar(&opts[k], num(v));
	}
	for (i = 3; i < argc; i++) {
		if (strncmp(argv[i], "dest:", 5))
			continue;
		if (!dests)
			dests = nest_start(TCA_FLOWSHAPE_DESTS);
		add_dest(argv[i] + 5);
	}
	if (junk) {
		if (!dests)
			dests = nest_start(TCA_FLOWSHAPE_DESTS);
		memset((char *)nlh + nlh->nlmsg_len, 0x5a, junk);
		nlh->nlmsg_len += junk;
	}
	if (dests)
		nest_end(dests);
	nest_end(options);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		perror("fsnl: socket");
		return 2;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (sendto(fd, buf, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("fsnl: sendto");
		return 2;
	}

	for (;;) {
		static char rbuf[65536];
		struct nlmsghdr *h;

		r = recv(fd, rbuf, sizeof(rbuf), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("fsnl: recv");
			return 2;
		}
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (unsigned int)r);
		     h = NLMSG_NEXT(h, r)) {
			struct nlmsgerr *e = NLMSG_DATA(h);
			const char *msg = NULL;
			bool has_off = false;
			unsigned int bad_off = 0;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
				/* CAP_ACK: only the request's header is echoed. */
				size_t off = sizeof(*e);
				struct rtattr *a;
				int alen;

				if (!(h->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - sizeof(e->msg);
				a = (struct rtattr *)((char *)e + NLMSG_ALIGN(off));
				alen = (int)h->nlmsg_len - (int)NLMSG_HDRLEN - (int)NLMSG_ALIGN(off);
				for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
					if (a->rta_type == NLMSGERR_ATTR_MSG) {
						msg = RTA_DATA(a);
					} else if (a->rta_type == NLMSGERR_ATTR_OFFS &&
						   RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
						memcpy(&bad_off, RTA_DATA(a), sizeof(bad_off));
						has_off = true;
					}
			}
			if (!e->error) {
				if (msg)
					fprintf(stderr, "Warning: %s\n", msg);
				return 0;
			}
			/* The extack message alone on the "Error:" line, so
			 * that a test's pattern cannot match the errno text.
			 */
			if (msg)
				fprintf(stderr, "Error: %s\n", msg);
			else
				fprintf(stderr, "(no extack message)\n");
			fprintf(stderr, "errno: %s\n", strerror(-e->error));
			if (has_off)
				print_bad_attr(bad_off);
			return 1;
		}
	}
}
