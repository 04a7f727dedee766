// SPDX-License-Identifier: GPL-2.0
/*
 * q_flowshape.c	tc plugin for the flowshape qdisc.
 *
 * Built against the iproute2 source of the installed tc and loaded by it
 * with dlopen() from TC_LIB_DIR as q_flowshape.so; tc then looks up the
 * symbol flowshape_qdisc_util.
 *
 * The values themselves are parsed by fs_parse.c (pure C, unit-tested);
 * this file maps keywords to netlink attributes and prints what the kernel
 * dumps: qdisc options, xstats, and the destination table as classes.
 */

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "utils.h"
#include "tc_util.h"
#include "tc_common.h"

#include <linux/flowshape.h>

#include "fs_parse.h"

_Static_assert(FS_PPM_ONE == FLOWSHAPE_LEVEL_ONE, "level scale");
_Static_assert((int)FS_MODE_SPREAD == (int)FLOWSHAPE_MODE_SPREAD &&
	       (int)FS_MODE_DELAY == (int)FLOWSHAPE_MODE_DELAY &&
	       (int)FS_MODE_COUNT == (int)__FLOWSHAPE_MODE_MAX, "mode values");
_Static_assert((int)FS_SCOPE_FLOW == (int)FLOWSHAPE_SCOPE_FLOW &&
	       (int)FS_SCOPE_DEST == (int)FLOWSHAPE_SCOPE_DEST &&
	       (int)FS_SCOPE_COUNT == (int)__FLOWSHAPE_SCOPE_MAX, "scope values");

/* The attribute carrying each parameter of fs_params[]. */
static const unsigned short fs_attr[FS_PARAM_COUNT] = {
	[FS_P_LIMIT]			= TCA_FLOWSHAPE_LIMIT,
	[FS_P_FLOW_LIMIT]		= TCA_FLOWSHAPE_FLOW_LIMIT,
	[FS_P_BUCKETS]			= TCA_FLOWSHAPE_BUCKETS,
	[FS_P_MAX_FLOWS]		= TCA_FLOWSHAPE_MAX_FLOWS,
	[FS_P_FLOW_IDLE]		= TCA_FLOWSHAPE_FLOW_IDLE,
	[FS_P_MODE]			= TCA_FLOWSHAPE_MODE,
	[FS_P_CONGESTION_WEIGHT]	= TCA_FLOWSHAPE_CONGESTION_WEIGHT,
	[FS_P_LOAD_WEIGHT]		= TCA_FLOWSHAPE_LOAD_WEIGHT,
	[FS_P_CONGESTION_THRESHOLD]	= TCA_FLOWSHAPE_CONGESTION_THRESHOLD,
	[FS_P_LOAD_THRESHOLD]		= TCA_FLOWSHAPE_LOAD_THRESHOLD,
	[FS_P_MAX_DELAY]		= TCA_FLOWSHAPE_MAX_DELAY,
	[FS_P_SMOOTHING]		= TCA_FLOWSHAPE_SMOOTHING,
	[FS_P_QUANTUM]			= TCA_FLOWSHAPE_QUANTUM,
	[FS_P_TIMER_SLACK]		= TCA_FLOWSHAPE_TIMER_SLACK,
	[FS_P_STALE_AFTER]		= TCA_FLOWSHAPE_STALE_AFTER,
	[FS_P_DEFAULT_CONGESTION]	= TCA_FLOWSHAPE_DEFAULT_CONGESTION,
	[FS_P_DEFAULT_LOAD]		= TCA_FLOWSHAPE_DEFAULT_LOAD,
	[FS_P_MAX_DESTS]		= TCA_FLOWSHAPE_MAX_DESTS,
	[FS_P_BYPASS_MARK]		= TCA_FLOWSHAPE_BYPASS_MARK,
	[FS_P_BYPASS_MASK]		= TCA_FLOWSHAPE_BYPASS_MASK,
	[FS_P_RATE_SCOPE]		= TCA_FLOWSHAPE_RATE_SCOPE,
	[FS_P_AQM_TARGET]		= TCA_FLOWSHAPE_AQM_TARGET,
	[FS_P_AQM_INTERVAL]		= TCA_FLOWSHAPE_AQM_INTERVAL,
	[FS_P_HORIZON]			= TCA_FLOWSHAPE_HORIZON,
	[FS_P_HORIZON_DROP]		= TCA_FLOWSHAPE_HORIZON_DROP,
	[FS_P_OVERFLOW_LIMIT]		= TCA_FLOWSHAPE_OVERFLOW_LIMIT,
};

/*
 * How long the request may grow.  tc_qdisc_modify() lends us a buffer of
 * TCA_BUF_MAX bytes after the headers, but the socket is the tighter
 * bound: rtnl_open() asks for SO_SNDBUF 32768, the kernel doubles it, and
 * netlink_sendmsg() refuses (EMSGSIZE) a message longer than sk_sndbuf - 32.
 * Leave room for what tc appends after the options (TCA_STAB).
 */
#define FS_REQ_BUF	(NLMSG_LENGTH(sizeof(struct tcmsg)) + TCA_BUF_MAX)
#define FS_SOCK_MAX	(2 * 32768 - 32)
#define FS_TAIL_ROOM	2048
#define FS_MSG_MAX	((FS_REQ_BUF < FS_SOCK_MAX ? FS_REQ_BUF : FS_SOCK_MAX) - \
			 FS_TAIL_ROOM)

/* One "dest PREFIX ..." or "dest mark MARK[/MASK] ..." of the command line. */
struct fs_dest {
	struct fs_prefix	pfx;
	bool			is_mark;
	__u32			mark;
	__u32			mask;
	bool			del;
	bool			has_congestion;
	bool			has_load;
	__u32			congestion;	/* ppm */
	__u32			load;		/* ppm */
};

struct fs_request {
	bool		set[FS_PARAM_COUNT];
	uint64_t	val[FS_PARAM_COUNT];	/* in each parameter's unit */
	bool		flush;
	struct fs_dest	*dests;
	size_t		ndests;
	size_t		cap;
};

static void explain(void)
{
	size_t i;

	fprintf(stderr,
		"Usage: ... flowshape [ limit PACKETS ] [ flow_limit PACKETS ]\n"
		"		[ buckets NUMBER ] [ max_flows NUMBER ] [ flow_idle TIME ]\n"
		"		[ mode { spread | delay } ] [ rate_scope { flow | destination } ]\n"
		"		[ congestion_weight TIME ] [ load_weight TIME ]\n"
		"		[ congestion_threshold FRACTION ] [ load_threshold FRACTION ]\n"
		"		[ max_delay TIME ] [ smoothing FRACTION ]\n"
		"		[ quantum SIZE ] [ timer_slack TIME ] [ stale_after TIME ]\n"
		"		[ default_congestion FRACTION ] [ default_load FRACTION ]\n"
		"		[ max_dests NUMBER ] [ flush_dests ]\n"
		"		[ bypass_mark NUMBER bypass_mask NUMBER ]\n"
		"		[ aqm_target TIME ] [ aqm_interval TIME ]\n"
		"		[ horizon TIME ] [ horizon_drop 0|1 ] [ overflow_limit PACKETS ]\n"
		"		[ dest KEY [ congestion FRACTION ] [ load FRACTION ] ]...\n"
		"		[ dest KEY delete ]...\n"
		"TIME     := NUMBER{ns|us|ms|s}   e.g. 200us, 10ms, 3s\n"
		"SIZE     := NUMBER{b|kb|mb}      e.g. 1514b, 64kb\n"
		"FRACTION := 0..1 as a decimal or a percentage: 0.35, 35%%\n"
		"KEY      := PREFIX | mark MARK[/MASK]\n"
		"PREFIX   := 10.0.1.0/24 | 2001:db8::/64 | ADDRESS (host route)\n"
		"MARK     := skb->mark value, decimal or 0x-hex; MASK default 0xffffffff\n"
		"\n"
		"Parameters (default):\n");
	for (i = 0; i < FS_PARAM_COUNT; i++)
		fprintf(stderr, "  %-21s %s, default %s\n", fs_params[i].name,
			fs_params[i].expect, fs_params[i].dflt);
	fprintf(stderr,
		"Each dest sets (or with delete removes) one destination entry;\n"
		"mark entries are matched before prefixes.\n"
		"flush_dests empties the table first. One command is applied\n"
		"all-or-nothing. List the table with: tc class show dev DEV\n");
}

/* Parse @arg for @p into its unit (ns, bytes, ppm, count or mode). */
static int fs_parse_value(const struct fs_param *p, const char *arg,
			  uint64_t *val)
{
	unsigned int mode, size;
	bool ok = false;
	__u32 ppm;
	__s64 t;

	switch (p->kind) {
	case FS_KIND_PACKETS:
	case FS_KIND_COUNT:
	case FS_KIND_POW2:
		ok = fs_parse_uint(arg, val) == FS_OK;
		break;
	case FS_KIND_TIME:
		ok = fs_time_literal_ok(arg) && get_time64(&t, arg) == 0 &&
		     t >= 0;
		if (ok)
			*val = (__u64)t;
		break;
	case FS_KIND_SIZE:
		ok = fs_size_literal_ok(arg) && get_size(&size, arg) == 0;
		if (ok)
			*val = size;
		break;
	case FS_KIND_LEVEL:
		ok = fs_parse_fraction(arg, &ppm) == FS_OK;
		if (ok)
			*val = ppm;
		break;
	case FS_KIND_MODE:
		ok = fs_parse_mode(arg, &mode) == FS_OK;
		if (ok)
			*val = mode;
		break;
	case FS_KIND_SCOPE:
		ok = fs_parse_scope(arg, &mode) == FS_OK;
		if (ok)
			*val = mode;
		break;
	}
	if (!ok || fs_param_check(p, *val) != FS_OK) {
		fprintf(stderr, "flowshape: invalid %s \"%s\": expected %s\n",
			p->name, arg, p->expect);
		return -1;
	}
	return 0;
}

static int fs_parse_dest_prefix(const char *arg, struct fs_prefix *pfx)
{
	char net[FS_PREFIX_BUFSZ];

	switch (fs_parse_prefix(arg, pfx)) {
	case FS_OK:
		return 0;
	case FS_EPLEN:
		fprintf(stderr,
			"flowshape: invalid dest \"%s\": prefix length must be 0..%u\n",
			arg, strchr(arg, ':') ? 128 : 32);
		return -1;
	case FS_EHOSTBITS:
		if (fs_format_prefix(pfx, net, sizeof(net)) != FS_OK)
			strcpy(net, "?");
		fprintf(stderr,
			"flowshape: invalid dest \"%s\": invalid prefix, host bits set (the network is %s)\n",
			arg, net);
		return -1;
	default:
		fprintf(stderr,
			"flowshape: invalid dest \"%s\": expected an IPv4 or IPv6 prefix (10.0.1.0/24, 2001:db8::/64)\n",
			arg);
		return -1;
	}
}

static int fs_parse_dest_mark(const char *arg, struct fs_dest *d)
{
	switch (fs_parse_mark(arg, &d->mark, &d->mask)) {
	case FS_OK:
		d->is_mark = true;
		return 0;
	case FS_ERANGE:
		fprintf(stderr,
			"flowshape: invalid dest mark \"%s\": mark and mask are 32-bit numbers\n",
			arg);
		return -1;
	case FS_EZEROMASK:
		fprintf(stderr,
			"flowshape: invalid dest mark \"%s\": mask 0 would match every packet\n",
			arg);
		return -1;
	case FS_EHOSTBITS:
		fprintf(stderr,
			"flowshape: invalid dest mark \"%s\": the mark has bits outside its mask\n",
			arg);
		return -1;
	default:
		fprintf(stderr,
			"flowshape: invalid dest mark \"%s\": expected MARK[/MASK], decimal or 0x-hex (0x10/0xff)\n",
			arg);
		return -1;
	}
}

static struct fs_dest *fs_new_dest(struct fs_request *r)
{
	struct fs_dest *d;

	if (r->ndests == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;

		d = realloc(r->dests, cap * sizeof(*d));
		if (!d) {
			fprintf(stderr, "flowshape: out of memory\n");
			return NULL;
		}
		r->dests = d;
		r->cap = cap;
	}
	d = &r->dests[r->ndests++];
	memset(d, 0, sizeof(*d));
	return d;
}

/*
 * "dest KEY [congestion F] [load F]" or "dest KEY delete", KEY a PREFIX
 * or "mark MARK[/MASK]": *argv is KEY's first word on entry and the
 * entry's last word on return.
 */
static int fs_parse_dest(struct fs_request *r, int *argcp, char ***argvp)
{
	int argc = *argcp;
	char **argv = *argvp;
	const char *prefix = *argv;
	char name[64];
	struct fs_dest *d;

	d = fs_new_dest(r);
	if (!d)
		return -1;
	if (strcmp(prefix, "mark") == 0) {
		NEXT_ARG();
		if (fs_parse_dest_mark(*argv, d))
			return -1;
		/* For messages: "dest mark 0x10/0xff: ...". */
		snprintf(name, sizeof(name), "mark %s", *argv);
		prefix = name;
	} else if (fs_parse_dest_prefix(prefix, &d->pfx)) {
		return -1;
	}

	while (argc > 1) {
		const char *kw = argv[1];
		bool *has;
		__u32 *level;

		if (strcmp(kw, "delete") == 0) {
			NEXT_ARG();
			if (d->del) {
				fprintf(stderr, "flowshape: dest %s: \"delete\" given twice\n",
					prefix);
				return -1;
			}
			d->del = true;
			continue;
		}
		if (strcmp(kw, "congestion") == 0) {
			has = &d->has_congestion;
			level = &d->congestion;
		} else if (strcmp(kw, "load") == 0) {
			has = &d->has_load;
			level = &d->load;
		} else {
			break;
		}
		NEXT_ARG();
		NEXT_ARG();
		if (*has) {
			fprintf(stderr, "flowshape: dest %s: \"%s\" given twice\n",
				prefix, kw);
			return -1;
		}
		if (fs_parse_fraction(*argv, level) != FS_OK) {
			fprintf(stderr,
				"flowshape: invalid %s \"%s\" for dest %s: expected a fraction 0..1 (0.35 or 35%%)\n",
				kw, *argv, prefix);
			return -1;
		}
		*has = true;
	}
	if (d->del && (d->has_congestion || d->has_load)) {
		fprintf(stderr,
			"flowshape: dest %s: \"delete\" takes no congestion or load\n",
			prefix);
		return -1;
	}

	*argcp = argc;
	*argvp = argv;
	return 0;
}

static size_t fs_param_space(const struct fs_param *p)
{
	switch (p->kind) {
	case FS_KIND_TIME:
		return RTA_SPACE(sizeof(__u64));
	case FS_KIND_MODE:
	case FS_KIND_SCOPE:
		return RTA_SPACE(sizeof(__u8));
	default:
		return RTA_SPACE(sizeof(__u32));
	}
}

static size_t fs_dest_space(const struct fs_dest *d)
{
	size_t sz = RTA_SPACE(0);

	if (d->is_mark)
		sz += 2 * RTA_SPACE(sizeof(__u32));
	else
		sz += RTA_SPACE(sizeof(__u8)) +
		      RTA_SPACE(d->pfx.family == AF_INET ? 4 : 16);

	if (d->del)
		sz += RTA_SPACE(0);
	if (d->has_congestion)
		sz += RTA_SPACE(sizeof(__u32));
	if (d->has_load)
		sz += RTA_SPACE(sizeof(__u32));
	return sz;
}

/* Refuse, before writing anything, a request that would not fit. */
static int fs_check_space(const struct nlmsghdr *n, const struct fs_request *r)
{
	size_t len = NLMSG_ALIGN(n->nlmsg_len) + RTA_SPACE(0);
	size_t i, fit = 0;

	for (i = 0; i < FS_PARAM_COUNT; i++)
		if (r->set[i])
			len += fs_param_space(&fs_params[i]);
	if (r->flush)
		len += RTA_SPACE(0);
	if (r->ndests)
		len += RTA_SPACE(0);
	if (len > FS_MSG_MAX) {
		fprintf(stderr, "flowshape: request too long\n");
		return -1;
	}
	for (i = 0; i < r->ndests; i++) {
		len += fs_dest_space(&r->dests[i]);
		if (len <= FS_MSG_MAX)
			fit++;
	}
	if (fit < r->ndests) {
		fprintf(stderr,
			"flowshape: too many dest entries for one tc command: %zu given, %zu fit in one netlink request; split them over several \"tc qdisc change\" commands\n",
			r->ndests, fit);
		return -1;
	}
	return 0;
}

static int fs_add_dest(struct nlmsghdr *n, const struct fs_dest *d)
{
	struct rtattr *nest;
	int err = 0;

	nest = addattr_nest(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST | NLA_F_NESTED);
	if (d->is_mark) {
		err |= addattr32(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST_MARK, d->mark);
		err |= addattr32(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST_MARK_MASK,
				 d->mask);
	} else {
		if (d->pfx.family == AF_INET)
			err |= addattr_l(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST_IPV4,
					 d->pfx.addr, 4);
		else
			err |= addattr_l(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST_IPV6,
					 d->pfx.addr, 16);
		err |= addattr8(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST_PLEN,
				d->pfx.plen);
	}
	if (d->has_congestion)
		err |= addattr32(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST_CONGESTION,
				 d->congestion);
	if (d->has_load)
		err |= addattr32(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST_LOAD,
				 d->load);
	if (d->del)
		err |= addattr(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST_DELETE);
	addattr_nest_end(n, nest);
	return err;
}

static int fs_add_options(struct nlmsghdr *n, const struct fs_request *r)
{
	struct rtattr *opts, *dests;
	int err = 0;
	size_t i;

	if (fs_check_space(n, r))
		return -1;

	opts = addattr_nest(n, FS_MSG_MAX, TCA_OPTIONS | NLA_F_NESTED);
	for (i = 0; i < FS_PARAM_COUNT; i++) {
		if (!r->set[i])
			continue;
		switch (fs_params[i].kind) {
		case FS_KIND_TIME:
			err |= addattr64(n, FS_MSG_MAX, fs_attr[i], r->val[i]);
			break;
		case FS_KIND_MODE:
		case FS_KIND_SCOPE:
			err |= addattr8(n, FS_MSG_MAX, fs_attr[i], r->val[i]);
			break;
		default:
			err |= addattr32(n, FS_MSG_MAX, fs_attr[i], r->val[i]);
			break;
		}
	}
	if (r->flush)
		err |= addattr(n, FS_MSG_MAX, TCA_FLOWSHAPE_DEST_FLUSH);
	if (r->ndests) {
		dests = addattr_nest(n, FS_MSG_MAX,
				     TCA_FLOWSHAPE_DESTS | NLA_F_NESTED);
		for (i = 0; i < r->ndests; i++)
			err |= fs_add_dest(n, &r->dests[i]);
		addattr_nest_end(n, dests);
	}
	addattr_nest_end(n, opts);
	return err ? -1 : 0;
}

static int flowshape_parse_opt(struct qdisc_util *qu, int argc, char **argv,
			       struct nlmsghdr *n, const char *dev)
{
	struct fs_request r = { 0 };
	int ret = -1;

	(void)qu;
	(void)dev;

	while (argc > 0) {
		const struct fs_param *p = fs_param_lookup(*argv);

		if (p) {
			size_t id = (size_t)(p - fs_params);

			NEXT_ARG();
			if (r.set[id]) {
				fprintf(stderr, "flowshape: %s given twice (\"%s\")\n",
					p->name, *argv);
				goto out;
			}
			if (fs_parse_value(p, *argv, &r.val[id]))
				goto out;
			r.set[id] = true;
		} else if (strcmp(*argv, "dest") == 0) {
			NEXT_ARG();
			if (fs_parse_dest(&r, &argc, &argv))
				goto out;
		} else if (strcmp(*argv, "flush_dests") == 0) {
			if (r.flush) {
				fprintf(stderr, "flowshape: flush_dests given twice\n");
				goto out;
			}
			r.flush = true;
		} else if (strcmp(*argv, "congestion") == 0 ||
			   strcmp(*argv, "load") == 0 ||
			   strcmp(*argv, "delete") == 0) {
			fprintf(stderr,
				"flowshape: \"%s\" belongs to a destination entry: dest PREFIX [ congestion FRACTION ] [ load FRACTION ] | dest PREFIX delete\n",
				*argv);
			goto out;
		} else if (strcmp(*argv, "help") == 0) {
			explain();
			goto out;
		} else {
			fprintf(stderr, "flowshape: unknown parameter \"%s\"\n",
				*argv);
			explain();
			goto out;
		}
		argc--;
		argv++;
	}

	ret = fs_add_options(n, &r);
out:
	free(r.dests);
	return ret;
}

/*
 * sprint_time64() keeps three significant digits, which from 1000 s on
 * becomes an exponent ("3.6e+03s"): print plain seconds there.
 */
static const char *fs_sprint_time(__u64 ns, char *buf)
{
	if (ns >= 1000 * (__u64)NSEC_PER_SEC) {
		snprintf(buf, SPRINT_BSIZE, "%.6gs", (double)ns / NSEC_PER_SEC);
		return buf;
	}
	return sprint_time64((__s64)ns, buf);
}

/* "key value " in text, "key": value in JSON; times as integer ns. */
static void fs_print_time(const char *key, __u64 ns)
{
	SPRINT_BUF(b);

	print_u64(PRINT_JSON, key, NULL, ns);
	print_string(PRINT_FP, NULL, "%s ", key);
	print_string(PRINT_FP, NULL, "%s ", fs_sprint_time(ns, b));
}

/* A level: "0.35" in text, 0.35 (a float) in JSON. */
static void fs_print_level(const char *key, __u32 ppm)
{
	char b[FS_PPM_BUFSZ];

	print_float(PRINT_JSON, key, NULL, (double)ppm / FS_PPM_ONE);
	print_string(PRINT_FP, NULL, "%s ", key);
	print_string(PRINT_FP, NULL, "%s ", fs_format_ppm(ppm, b, sizeof(b)));
}

static void fs_print_param(const struct fs_param *p, struct rtattr *rta)
{
	char b[SPRINT_BSIZE];
	const char *mode;

	switch (p->kind) {
	case FS_KIND_TIME:
		if (RTA_PAYLOAD(rta) >= sizeof(__u64))
			fs_print_time(p->name, rta_getattr_u64(rta));
		return;
	case FS_KIND_MODE:
		if (RTA_PAYLOAD(rta) < sizeof(__u8))
			return;
		mode = fs_mode_name(rta_getattr_u8(rta));
		if (!mode) {
			snprintf(b, sizeof(b), "%u", rta_getattr_u8(rta));
			mode = b;
		}
		print_string(PRINT_ANY, p->name, "mode %s ", mode);
		return;
	case FS_KIND_SCOPE:
		if (RTA_PAYLOAD(rta) < sizeof(__u8))
			return;
		mode = fs_scope_name(rta_getattr_u8(rta));
		if (!mode) {
			snprintf(b, sizeof(b), "%u", rta_getattr_u8(rta));
			mode = b;
		}
		print_string(PRINT_ANY, p->name, "rate_scope %s ", mode);
		return;
	default:
		break;
	}

	if (RTA_PAYLOAD(rta) < sizeof(__u32))
		return;
	switch (p->kind) {
	case FS_KIND_LEVEL:
		fs_print_level(p->name, rta_getattr_u32(rta));
		break;
	case FS_KIND_SIZE:
		print_string(PRINT_FP, NULL, "%s ", p->name);
		print_size(PRINT_ANY, p->name, "%s ", rta_getattr_u32(rta));
		break;
	default:
		snprintf(b, sizeof(b), "%u%s", rta_getattr_u32(rta),
			 p->kind == FS_KIND_PACKETS ? "p" : "");
		print_uint(PRINT_JSON, p->name, NULL, rta_getattr_u32(rta));
		print_string(PRINT_FP, NULL, "%s ", p->name);
		print_string(PRINT_FP, NULL, "%s ", b);
		break;
	}
}

static int flowshape_print_opt(struct qdisc_util *qu, FILE *f,
			       struct rtattr *opt)
{
	struct rtattr *tb[TCA_FLOWSHAPE_MAX + 1];
	size_t i;

	(void)qu;
	(void)f;

	if (!opt)
		return 0;

	parse_rtattr_nested(tb, TCA_FLOWSHAPE_MAX, opt);
	for (i = 0; i < FS_PARAM_COUNT; i++)
		if (tb[fs_attr[i]])
			fs_print_param(&fs_params[i], tb[fs_attr[i]]);
	return 0;
}

static void fs_print_count(const char *fmt, const char *key, __u64 v)
{
	print_lluint(PRINT_ANY, key, fmt, (unsigned long long)v);
}

static void fs_print_ns(const char *fmt, const char *key, __u64 ns)
{
	SPRINT_BUF(b);

	print_u64(PRINT_JSON, key, NULL, ns);
	print_string(PRINT_FP, NULL, fmt, fs_sprint_time(ns, b));
}

static int flowshape_print_xstats(struct qdisc_util *qu, FILE *f,
				  struct rtattr *xstats)
{
	struct tc_flowshape_xstats st = { 0 };
	__u64 mean;
	SPRINT_BUF(b);

	(void)qu;
	(void)f;

	if (!xstats)
		return 0;

	/* Accept an older (shorter) or newer (longer) kernel struct. */
	memcpy(&st, RTA_DATA(xstats),
	       RTA_PAYLOAD(xstats) < sizeof(st) ? RTA_PAYLOAD(xstats) : sizeof(st));
	mean = st.late_packets ? st.lateness_total_ns / st.late_packets : 0;

	fs_print_count("  enqueued %llu", "enqueued", st.enqueued);
	fs_print_count(" passed %llu", "passed", st.passed);
	fs_print_count(" delayed %llu", "delayed", st.delayed);
	fs_print_ns(" delay_total %s", "delay_total_ns", st.delay_total_ns);
	fs_print_count(" overflow_packets %llu", "overflow_packets",
		       st.overflow_packets);
	/* Printed only when the kernel sends them (an older module does not). */
	if (RTA_PAYLOAD(xstats) >= offsetof(struct tc_flowshape_xstats, purged) +
				   sizeof(st.purged)) {
		fs_print_count(" released %llu", "released", st.released);
		fs_print_count(" purged %llu", "purged", st.purged);
	}
	if (RTA_PAYLOAD(xstats) >= offsetof(struct tc_flowshape_xstats,
					    control_packets) +
				   sizeof(st.control_packets))
		fs_print_count(" control_packets %llu", "control_packets",
			       st.control_packets);
	if (RTA_PAYLOAD(xstats) >= offsetof(struct tc_flowshape_xstats,
					    drops_aqm) + sizeof(st.drops_aqm)) {
		fs_print_count(" ecn_marks %llu", "ecn_marks", st.ecn_marks);
		fs_print_count(" drops_aqm %llu", "drops_aqm", st.drops_aqm);
	}
	if (RTA_PAYLOAD(xstats) >= offsetof(struct tc_flowshape_xstats,
					    horizon_caps) +
				   sizeof(st.horizon_caps)) {
		fs_print_count(" retimed %llu", "retimed", st.retimed);
		fs_print_count(" drops_horizon %llu", "drops_horizon",
			       st.drops_horizon);
		fs_print_count(" horizon_caps %llu", "horizon_caps",
			       st.horizon_caps);
	}
	if (RTA_PAYLOAD(xstats) >= offsetof(struct tc_flowshape_xstats,
					    reslotted) + sizeof(st.reslotted))
		fs_print_count(" reslotted %llu", "reslotted", st.reslotted);
	print_nl();

	fs_print_count("  drops_limit %llu", "drops_limit", st.drops_limit);
	fs_print_count(" drops_flow_limit %llu", "drops_flow_limit",
		       st.drops_flow_limit);
	if (RTA_PAYLOAD(xstats) >= offsetof(struct tc_flowshape_xstats,
					    drops_overflow) +
				   sizeof(st.drops_overflow))
		fs_print_count(" drops_overflow %llu", "drops_overflow",
			       st.drops_overflow);
	fs_print_count(" alloc_errors %llu", "alloc_errors", st.alloc_errors);
	fs_print_count(" early_releases %llu", "early_releases",
		       st.early_releases);
	print_nl();

	fs_print_count("  late_packets %llu", "late_packets", st.late_packets);
	fs_print_ns(" lateness_mean %s", "lateness_mean_ns", mean);
	fs_print_ns(" lateness_max %s", "lateness_max_ns", st.lateness_max_ns);
	fs_print_ns(" lateness_total %s", "lateness_total_ns",
		    st.lateness_total_ns);
	fs_print_count(" watchdog_armed %llu", "watchdog_armed",
		       st.watchdog_armed);
	print_nl();

	fs_print_count("  flows %llu", "flows", st.flows);
	fs_print_count(" throttled_flows %llu", "throttled_flows",
		       st.throttled_flows);
	fs_print_count(" gc_flows %llu", "gc_flows", st.gc_flows);
	fs_print_count(" dests %llu", "dests", st.dests);
	fs_print_count(" stale_dests %llu", "stale_dests", st.stale_dests);
	fs_print_count(" stale_packets %llu", "stale_packets",
		       st.stale_packets);
	/* 0 means no packet is waiting, not one due now. */
	print_u64(PRINT_JSON, "next_release_ns", NULL, st.next_release_ns);
	if (st.next_release_ns)
		print_string(PRINT_FP, NULL, " next_release %s",
			     fs_sprint_time(st.next_release_ns, b));
	else
		print_string(PRINT_FP, NULL, " next_release %s", "none");
	return 0;
}

static int flowshape_parse_copt(struct qdisc_util *qu, int argc, char **argv,
				struct nlmsghdr *n, const char *dev)
{
	(void)qu;
	(void)argc;
	(void)argv;
	(void)n;
	(void)dev;

	fprintf(stderr,
		"flowshape: classes are read-only (the destination table is set with 'tc qdisc change ... dest')\n");
	return -1;
}

/* tc's -j flag. */
extern int json;

/*
 * One destination entry, listed as a class by "tc class show".
 *
 * tc 6.1 prints the class header ("class flowshape 1:1 parent 1: ") as
 * plain text even with -j and opens no JSON context for the options.  So
 * that -j still gives machine-readable entries there, the options are
 * then printed as one JSON object completing the line; a tc whose class
 * listing is JSON-aware gets them inside its own object instead.
 */
static int flowshape_print_copt(struct qdisc_util *qu, FILE *f,
				struct rtattr *opt)
{
	struct rtattr *tb[TCA_FLOWSHAPE_DEST_ATTR_MAX + 1];
	struct fs_prefix pfx = { 0 };
	char b[FS_PREFIX_BUFSZ];
	struct rtattr *a;
	bool own_json;

	(void)qu;
	(void)f;

	if (!opt)
		return 0;

	parse_rtattr_nested(tb, TCA_FLOWSHAPE_DEST_ATTR_MAX, opt);

	own_json = json && !is_json_context();
	if (own_json) {
		fflush(f);
		new_json_obj_plain(json);
		open_json_object(NULL);
	}

	a = tb[TCA_FLOWSHAPE_DEST_IPV4];
	if (a && RTA_PAYLOAD(a) == 4) {
		pfx.family = AF_INET;
		memcpy(pfx.addr, RTA_DATA(a), 4);
	}
	a = tb[TCA_FLOWSHAPE_DEST_IPV6];
	if (a && RTA_PAYLOAD(a) == 16) {
		pfx.family = AF_INET6;
		memcpy(pfx.addr, RTA_DATA(a), 16);
	}
	a = tb[TCA_FLOWSHAPE_DEST_PLEN];
	if (a && RTA_PAYLOAD(a) >= sizeof(__u8))
		pfx.plen = rta_getattr_u8(a);
	a = tb[TCA_FLOWSHAPE_DEST_MARK];
	if (a && RTA_PAYLOAD(a) >= sizeof(__u32)) {
		struct rtattr *m = tb[TCA_FLOWSHAPE_DEST_MARK_MASK];
		__u32 mark = rta_getattr_u32(a), mask = ~0U;
		char mb[FS_MARK_BUFSZ], kb[FS_MARK_BUFSZ + 8];

		if (m && RTA_PAYLOAD(m) >= sizeof(__u32))
			mask = rta_getattr_u32(m);
		snprintf(kb, sizeof(kb), "mark %s",
			 fs_format_mark(mark, mask, mb, sizeof(mb)));
		print_string(PRINT_ANY, "dest", "dest %s ", kb);
		print_uint(PRINT_JSON, "mark", NULL, mark);
		print_uint(PRINT_JSON, "mark_mask", NULL, mask);
	} else if (fs_format_prefix(&pfx, b, sizeof(b)) == FS_OK) {
		print_string(PRINT_ANY, "dest", "dest %s ", b);
	}

	a = tb[TCA_FLOWSHAPE_DEST_CONGESTION];
	if (a && RTA_PAYLOAD(a) >= sizeof(__u32))
		fs_print_level("congestion", rta_getattr_u32(a));
	a = tb[TCA_FLOWSHAPE_DEST_LOAD];
	if (a && RTA_PAYLOAD(a) >= sizeof(__u32))
		fs_print_level("load", rta_getattr_u32(a));
	a = tb[TCA_FLOWSHAPE_DEST_AGE];
	if (a && RTA_PAYLOAD(a) >= sizeof(__u64))
		fs_print_time("age", rta_getattr_u64(a));
	a = tb[TCA_FLOWSHAPE_DEST_DELAY];
	if (a && RTA_PAYLOAD(a) >= sizeof(__u64))
		fs_print_time("delay", rta_getattr_u64(a));

	print_bool(PRINT_JSON, "stale", NULL, !!tb[TCA_FLOWSHAPE_DEST_STALE]);
	if (tb[TCA_FLOWSHAPE_DEST_STALE])
		print_string(PRINT_FP, NULL, "%s ", "stale");

	if (own_json) {
		close_json_object();
		delete_json_obj_plain();
	}
	return 0;
}

struct qdisc_util flowshape_qdisc_util = {
	.id		= "flowshape",
	.parse_qopt	= flowshape_parse_opt,
	.print_qopt	= flowshape_print_opt,
	.print_xstats	= flowshape_print_xstats,
	.parse_copt	= flowshape_parse_copt,
	.print_copt	= flowshape_print_copt,
};
