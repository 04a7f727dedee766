// SPDX-License-Identifier: GPL-2.0
/*
 * libmnl rather than libnl-3: the agent sends one kind of request and
 * reads three kinds of answer.  libmnl is a thin, allocation-free TLV
 * builder/parser over a socket (what iproute2's own lib does), so a
 * message can be built into a caller's buffer and checked byte for byte
 * in a unit test, and extended ACKs are read directly.  libnl-route has
 * no flowshape object, so it would be used at the same raw nlmsg level
 * anyway, with a cache and object model the agent does not need.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/flowshape.h>
#include <linux/gen_stats.h>

#include "nl.h"
#include "util.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define KIND "flowshape"
#define DUMP_BUF (64 * 1024)

/* Attribute sizes as built below, aligned. */
#define ATTR(n)	MNL_ALIGN(MNL_ATTR_HDRLEN + (n))

/* One entry at most (IPv6: the longer address). */
#define ENTRY_SIZE	(ATTR(0) + ATTR(16) + ATTR(1) + ATTR(4) + ATTR(4))
/* TCA_OPTIONS around the entries: its header, STALE_AFTER, DESTS' header. */
#define OPTS_OVERHEAD	(ATTR(0) + ATTR(8) + ATTR(0))
/* An attribute's length is 16 bits: TCA_OPTIONS must stay below 64 KiB. */
#define NEST_MAX	0xffffU

size_t nl_change_size(size_t n)
{
	return MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct tcmsg)) +
	       ATTR(sizeof(KIND)) + OPTS_OVERHEAD + n * ENTRY_SIZE;
}

size_t nl_change_max_entries(void)
{
	return (NEST_MAX - OPTS_OVERHEAD) / ENTRY_SIZE;
}

static bool put_dest(struct nlmsghdr *nlh, size_t len, const struct nl_dest *d)
{
	struct nlattr *e = mnl_attr_nest_start_check(nlh, len, TCA_FLOWSHAPE_DEST);

	if (!e ||
	    !mnl_attr_put_check(nlh, len, d->family == AF_INET ?
				TCA_FLOWSHAPE_DEST_IPV4 : TCA_FLOWSHAPE_DEST_IPV6,
				d->family == AF_INET ? 4 : 16, d->addr) ||
	    !mnl_attr_put_u8_check(nlh, len, TCA_FLOWSHAPE_DEST_PLEN, d->plen))
		return false;
	if (d->del) {
		if (!mnl_attr_put_check(nlh, len, TCA_FLOWSHAPE_DEST_DELETE, 0, NULL))
			return false;
	} else if (!mnl_attr_put_u32_check(nlh, len, TCA_FLOWSHAPE_DEST_CONGESTION,
					   d->congestion_ppm) ||
		   !mnl_attr_put_u32_check(nlh, len, TCA_FLOWSHAPE_DEST_LOAD,
					   d->load_ppm)) {
		return false;
	}
	mnl_attr_nest_end(nlh, e);
	return true;
}

struct nlmsghdr *nl_build_change(void *buf, size_t len, uint32_t seq,
				 const struct nl_qdisc *q,
				 uint64_t stale_after_ns,
				 const struct nl_dest *d, size_t n)
{
	struct nlattr *opts, *dests;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	size_t i;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*tcm)) ||
	    n > nl_change_max_entries())
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWQDISC;
	/* Neither NLM_F_CREATE nor NLM_F_REPLACE: "tc qdisc change". */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = q->ifindex;
	tcm->tcm_handle = q->handle;
	tcm->tcm_parent = q->parent;

	if (!mnl_attr_put_strz_check(nlh, len, TCA_KIND, KIND))
		return NULL;
	opts = mnl_attr_nest_start_check(nlh, len, TCA_OPTIONS);
	if (!opts)
		return NULL;
	if (stale_after_ns &&
	    !mnl_attr_put_u64_check(nlh, len, TCA_FLOWSHAPE_STALE_AFTER,
				    stale_after_ns))
		return NULL;
	if (n) {
		dests = mnl_attr_nest_start_check(nlh, len, TCA_FLOWSHAPE_DESTS);
		if (!dests)
			return NULL;
		for (i = 0; i < n; i++) {
			if (!put_dest(nlh, len, &d[i]))
				return NULL;
		}
		mnl_attr_nest_end(nlh, dests);
	}
	mnl_attr_nest_end(nlh, opts);
	return nlh;
}

struct ack_ctx {
	const char *msg;
};

static int ack_attr(const struct nlattr *a, void *data)
{
	struct ack_ctx *ctx = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		ctx->msg = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

int nl_parse_ack(const struct nlmsghdr *nlh, char *msg, size_t msglen)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct ack_ctx ctx = { NULL };
	size_t off;

	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e)) {
		snprintf(msg, msglen, "malformed netlink answer");
		return -EPROTO;
	}
	if (!e->error)
		return 0;
	/* Extended ACK TLVs follow the error and the (maybe capped) request. */
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += MNL_ALIGN(e->msg.nlmsg_len) - MNL_NLMSG_HDRLEN;
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    MNL_NLMSG_HDRLEN + off < nlh->nlmsg_len)
		mnl_attr_parse_payload((const char *)e + off,
				       nlh->nlmsg_len - MNL_NLMSG_HDRLEN - off,
				       ack_attr, &ctx);
	if (ctx.msg)
		snprintf(msg, msglen, "%s (%s)", ctx.msg, strerror(-e->error));
	else
		snprintf(msg, msglen, "%s", strerror(-e->error));
	return e->error < 0 ? e->error : -EPROTO;
}

struct dest_attrs {
	const struct nlattr *tb[TCA_FLOWSHAPE_DEST_ATTR_MAX + 1];
};

static int dest_attr(const struct nlattr *a, void *data)
{
	struct dest_attrs *d = data;
	uint16_t t = mnl_attr_get_type(a);

	if (t <= TCA_FLOWSHAPE_DEST_ATTR_MAX)
		d->tb[t] = a;
	return MNL_CB_OK;
}

struct top_attrs {
	const struct nlattr *kind, *opts;
};

static int top_attr(const struct nlattr *a, void *data)
{
	struct top_attrs *t = data;

	if (mnl_attr_get_type(a) == TCA_KIND)
		t->kind = a;
	else if (mnl_attr_get_type(a) == TCA_OPTIONS)
		t->opts = a;
	return MNL_CB_OK;
}

static bool is_flowshape(const struct nlattr *kind)
{
	return kind && mnl_attr_validate(kind, MNL_TYPE_NUL_STRING) >= 0 &&
	       !strcmp(mnl_attr_get_str(kind), KIND);
}

int nl_parse_dest_info(const struct nlmsghdr *nlh, uint32_t qhandle,
		       struct nl_dest_info *out)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct top_attrs top = { NULL, NULL };
	struct dest_attrs d;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWTCLASS ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*tcm) ||
	    TC_H_MAJ(tcm->tcm_handle) != qhandle)
		return -1;
	if (mnl_attr_parse(nlh, sizeof(*tcm), top_attr, &top) < 0 ||
	    !is_flowshape(top.kind) || !top.opts)
		return -1;
	memset(&d, 0, sizeof(d));
	if (mnl_attr_parse_nested(top.opts, dest_attr, &d) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if ((a = d.tb[TCA_FLOWSHAPE_DEST_IPV4]) && mnl_attr_get_payload_len(a) == 4) {
		out->family = AF_INET;
		memcpy(out->addr, mnl_attr_get_payload(a), 4);
	} else if ((a = d.tb[TCA_FLOWSHAPE_DEST_IPV6]) &&
		   mnl_attr_get_payload_len(a) == 16) {
		out->family = AF_INET6;
		memcpy(out->addr, mnl_attr_get_payload(a), 16);
	} else {
		return -1;
	}
	if ((a = d.tb[TCA_FLOWSHAPE_DEST_PLEN]) && !mnl_attr_validate(a, MNL_TYPE_U8))
		out->plen = mnl_attr_get_u8(a);
	if ((a = d.tb[TCA_FLOWSHAPE_DEST_CONGESTION]) && !mnl_attr_validate(a, MNL_TYPE_U32))
		out->congestion_ppm = mnl_attr_get_u32(a);
	if ((a = d.tb[TCA_FLOWSHAPE_DEST_LOAD]) && !mnl_attr_validate(a, MNL_TYPE_U32))
		out->load_ppm = mnl_attr_get_u32(a);
	if ((a = d.tb[TCA_FLOWSHAPE_DEST_AGE]) && !mnl_attr_validate(a, MNL_TYPE_U64))
		out->age_ns = mnl_attr_get_u64(a);
	if ((a = d.tb[TCA_FLOWSHAPE_DEST_DELAY]) && !mnl_attr_validate(a, MNL_TYPE_U64))
		out->delay_ns = mnl_attr_get_u64(a);
	out->stale = d.tb[TCA_FLOWSHAPE_DEST_STALE] != NULL;
	return 0;
}

int nl_open(struct nl *nl, bool events)
{
	struct timeval tv = { .tv_sec = 2 };
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->req = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->req)
		return -errno;
	if (mnl_socket_bind(nl->req, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	nl->portid = mnl_socket_get_portid(nl->req);
	nl->seq = (uint32_t)now_ns();
	/* Extended ACKs: the kernel says which entry it refused and why. */
	mnl_socket_setsockopt(nl->req, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->req, NETLINK_CAP_ACK, &one, sizeof(one));
	/* Never hang the event loop on a kernel that does not answer. */
	setsockopt(mnl_socket_get_fd(nl->req), SOL_SOCKET, SO_RCVTIMEO,
		   &tv, sizeof(tv));
	if (!events)
		return 0;
	nl->ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl->ev)
		goto err;
	if (mnl_socket_bind(nl->ev, RTMGRP_TC, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	return 0;
err:
	one = -errno;
	nl_close(nl);
	return one;
}

void nl_close(struct nl *nl)
{
	if (nl->req)
		mnl_socket_close(nl->req);
	if (nl->ev)
		mnl_socket_close(nl->ev);
	nl->req = nl->ev = NULL;
}

int nl_event_fd(const struct nl *nl)
{
	return nl->ev ? mnl_socket_get_fd(nl->ev) : -1;
}

/* Send a request and run cb over the answers until the ACK or DONE. */
static int transact(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data, char *err, size_t errlen)
{
	size_t buflen = DUMP_BUF;
	char *buf = xcalloc(1, buflen);
	uint32_t seq = nlh->nlmsg_seq;
	int ret = -EPROTO;

	if (mnl_socket_sendto(nl->req, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "netlink send: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->req, buf, buflen);
		struct nlmsghdr *m;
		int len;

		if (n < 0) {
			ret = -errno;
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "netlink receive: %s",
				 errno == EAGAIN ? "no answer from the kernel" :
				 strerror(errno));
			goto out;
		}
		len = (int)n;
		for (m = (struct nlmsghdr *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_seq != seq || m->nlmsg_pid != nl->portid)
				continue;	/* a stale answer */
			if (m->nlmsg_type == NLMSG_ERROR) {
				ret = nl_parse_ack(m, err, errlen);
				goto out;
			}
			if (m->nlmsg_type == NLMSG_DONE) {
				ret = 0;
				goto out;
			}
			if (cb && cb(m, data) < 0) {
				ret = -EPROTO;
				snprintf(err, errlen, "malformed netlink answer");
				goto out;
			}
		}
	}
out:
	free(buf);
	return ret;
}

static int qopt_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t t = mnl_attr_get_type(a);

	if (t <= TCA_FLOWSHAPE_MAX)
		tb[t] = a;
	return MNL_CB_OK;
}

static bool get_u64(const struct nlattr *a, uint64_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return false;
	*v = mnl_attr_get_u64(a);
	return true;
}

static bool get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return false;
	*v = mnl_attr_get_u32(a);
	return true;
}

void nl_parse_qdisc_params(const struct nlattr *opts, struct nl_qdisc_params *p)
{
	const struct nlattr *tb[TCA_FLOWSHAPE_MAX + 1] = { NULL };

	memset(p, 0, sizeof(*p));
	if (!opts || mnl_attr_parse_nested(opts, qopt_attr, tb) < 0)
		return;
	if (tb[TCA_FLOWSHAPE_MODE] &&
	    mnl_attr_validate(tb[TCA_FLOWSHAPE_MODE], MNL_TYPE_U8) >= 0)
		p->mode = mnl_attr_get_u8(tb[TCA_FLOWSHAPE_MODE]);
	p->known = get_u64(tb[TCA_FLOWSHAPE_CONGESTION_WEIGHT], &p->congestion_weight_ns) &&
		   get_u64(tb[TCA_FLOWSHAPE_LOAD_WEIGHT], &p->load_weight_ns) &&
		   get_u64(tb[TCA_FLOWSHAPE_MAX_DELAY], &p->max_delay_ns) &&
		   get_u32(tb[TCA_FLOWSHAPE_CONGESTION_THRESHOLD],
			   &p->congestion_threshold_ppm) &&
		   get_u32(tb[TCA_FLOWSHAPE_LOAD_THRESHOLD], &p->load_threshold_ppm) &&
		   get_u32(tb[TCA_FLOWSHAPE_QUANTUM], &p->quantum);
}

static int stats2_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **basic = data;

	if (mnl_attr_get_type(a) == TCA_STATS_BASIC)
		*basic = a;
	return MNL_CB_OK;
}

struct qstat_attrs {
	const struct nlattr *stats, *stats2;
};

static int qstat_attr(const struct nlattr *a, void *data)
{
	struct qstat_attrs *t = data;

	if (mnl_attr_get_type(a) == TCA_STATS)
		t->stats = a;
	else if (mnl_attr_get_type(a) == TCA_STATS2)
		t->stats2 = a;
	return MNL_CB_OK;
}

bool nl_parse_qdisc_bytes(const struct nlmsghdr *nlh, uint64_t *bytes)
{
	const struct nlattr *basic = NULL;
	struct qstat_attrs t = { NULL, NULL };
	struct gnet_stats_basic gb;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct tcmsg) ||
	    mnl_attr_parse(nlh, sizeof(struct tcmsg), qstat_attr, &t) < 0)
		return false;
	if (t.stats2 && mnl_attr_parse_nested(t.stats2, stats2_attr, &basic) >= 0 &&
	    basic && mnl_attr_get_payload_len(basic) >= sizeof(gb)) {
		memcpy(&gb, mnl_attr_get_payload(basic), sizeof(gb));
		*bytes = gb.bytes;
		return true;
	}
	if (t.stats && mnl_attr_get_payload_len(t.stats) >= sizeof(struct tc_stats)) {
		struct tc_stats ts;

		memcpy(&ts, mnl_attr_get_payload(t.stats), sizeof(ts));
		*bytes = ts.bytes;
		return true;
	}
	return false;
}

struct bytes_ctx {
	int ifindex;
	const uint32_t *handles;
	size_t n;
	uint64_t *bytes;
	bool *found;
};

static int bytes_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct bytes_ctx *ctx = data;
	size_t i;

	if (nlh->nlmsg_type != RTM_NEWQDISC ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*tcm) ||
	    tcm->tcm_ifindex != ctx->ifindex)
		return MNL_CB_OK;
	for (i = 0; i < ctx->n; i++) {
		if (ctx->handles[i] == tcm->tcm_handle)
			ctx->found[i] = nl_parse_qdisc_bytes(nlh, &ctx->bytes[i]);
	}
	return MNL_CB_OK;
}

struct find_ctx {
	int ifindex;
	struct nl_qdisc *q;
	size_t n;
};

static int find_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct top_attrs top = { NULL, NULL };
	struct find_ctx *ctx = data;

	if (nlh->nlmsg_type != RTM_NEWQDISC ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*tcm) ||
	    tcm->tcm_ifindex != ctx->ifindex)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*tcm), top_attr, &top) < 0 ||
	    !is_flowshape(top.kind))
		return MNL_CB_OK;
	ctx->q = xrealloc(ctx->q, (ctx->n + 1) * sizeof(*ctx->q));
	ctx->q[ctx->n++] = (struct nl_qdisc){
		.ifindex = tcm->tcm_ifindex,
		.handle = tcm->tcm_handle,
		.parent = tcm->tcm_parent,
	};
	nl_parse_qdisc_params(top.opts, &ctx->q[ctx->n - 1].params);
	return MNL_CB_OK;
}

/* A dump request of @type (RTM_GETQDISC, RTM_GETTCLASS) into @buf. */
#define DUMP_REQ_LEN	(MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct tcmsg)))

static struct nlmsghdr *put_dump_request(char *buf, uint16_t type,
					 uint32_t seq, int ifindex,
					 uint32_t parent)
{
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	memset(buf, 0, DUMP_REQ_LEN);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	return nlh;
}

int nl_find_qdiscs(struct nl *nl, int ifindex, struct nl_qdisc **out,
		   size_t *n, char *err, size_t errlen)
{
	char buf[DUMP_REQ_LEN];
	struct find_ctx ctx = { .ifindex = ifindex };
	struct nlmsghdr *nlh;
	int r;

	nlh = put_dump_request(buf, RTM_GETQDISC, ++nl->seq, ifindex, 0);
	r = transact(nl, nlh, find_cb, &ctx, err, errlen);
	if (r) {
		free(ctx.q);
		return r;
	}
	*out = ctx.q;
	*n = ctx.n;
	return 0;
}

int nl_qdisc_bytes(struct nl *nl, int ifindex, const uint32_t *handles,
		   size_t n, uint64_t *bytes, bool *found)
{
	char buf[DUMP_REQ_LEN], err[128];
	struct bytes_ctx ctx = { .ifindex = ifindex, .handles = handles, .n = n,
				 .bytes = bytes, .found = found };
	struct nlmsghdr *nlh;

	memset(found, 0, n * sizeof(*found));
	nlh = put_dump_request(buf, RTM_GETQDISC, ++nl->seq, ifindex, 0);
	return transact(nl, nlh, bytes_cb, &ctx, err, sizeof(err));
}

/*
 * Entries go in messages of at most nl_change_max_entries() each, so that
 * no nest length wraps (16 bits: ~1,360 entries).  The kernel applies
 * each message all or nothing; when one is refused, the ones before it
 * stay applied and the rest are not sent: the caller reports the round
 * as failed and pushes every entry again next round (a set is
 * idempotent).  stale_after rides in the first message.
 */
int nl_push(struct nl *nl, const struct nl_qdisc *q, uint64_t stale_after_ns,
	    const struct nl_dest *d, size_t n, char *err, size_t errlen)
{
	size_t max = nl_change_max_entries(), done = 0, k, len;
	struct nlmsghdr *nlh;
	void *buf;
	int r = 0;

	len = nl_change_size(n < max ? n : max);
	buf = xcalloc(1, len);
	do {
		k = n - done < max ? n - done : max;
		nlh = nl_build_change(buf, len, ++nl->seq, q,
				      done ? 0 : stale_after_ns, d + done, k);
		if (!nlh) {
			snprintf(err, errlen, "message does not fit (internal error)");
			r = -EMSGSIZE;
			break;
		}
		r = transact(nl, nlh, NULL, NULL, err, errlen);
		if (r) {
			if (n > max) {
				size_t l = strlen(err);

				snprintf(err + l, errlen - l,
					 " (message %zu of %zu, entries %zu..%zu; %zu applied before it)",
					 done / max + 1, (n + max - 1) / max, done, done + k - 1, done);
			}
			break;
		}
		done += k;
	} while (done < n);
	free(buf);
	return r;
}

struct dump_ctx {
	uint32_t handle;
	struct nl_dest_info *d;
	size_t n;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	struct nl_dest_info info;

	if (nl_parse_dest_info(nlh, ctx->handle, &info))
		return MNL_CB_OK;
	ctx->d = xrealloc(ctx->d, (ctx->n + 1) * sizeof(*ctx->d));
	ctx->d[ctx->n++] = info;
	return MNL_CB_OK;
}

int nl_dump_dests(struct nl *nl, const struct nl_qdisc *q,
		  struct nl_dest_info **out, size_t *n, char *err, size_t errlen)
{
	char buf[DUMP_REQ_LEN];
	struct dump_ctx ctx = { .handle = q->handle };
	struct nlmsghdr *nlh;
	int r;

	nlh = put_dump_request(buf, RTM_GETTCLASS, ++nl->seq, q->ifindex,
			       q->handle);
	r = transact(nl, nlh, dump_cb, &ctx, err, errlen);
	if (r) {
		free(ctx.d);
		return r;
	}
	*out = ctx.d;
	*n = ctx.n;
	return 0;
}

unsigned int nl_events_classify(const void *buf, size_t len, uint32_t own_portid)
{
	const struct nlmsghdr *m = buf;
	unsigned int ev = 0;
	int left = len > INT32_MAX ? INT32_MAX : (int)len;

	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		const struct tcmsg *tcm = mnl_nlmsg_get_payload(m);
		struct top_attrs top = { NULL, NULL };

		if ((m->nlmsg_type != RTM_NEWQDISC &&
		     m->nlmsg_type != RTM_DELQDISC) ||
		    m->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*tcm))
			continue;
		/* Our own "change" is announced too: not news. */
		if (m->nlmsg_pid == own_portid)
			continue;
		if (mnl_attr_parse(m, sizeof(*tcm), top_attr, &top) < 0 ||
		    !is_flowshape(top.kind))
			continue;
		/*
		 * A change by another writer (a second agent, "tc qdisc
		 * change") is announced as RTM_NEWQDISC like a creation; a
		 * deletion or a replacement comes with an RTM_DELQDISC of
		 * the old one.
		 */
		ev |= m->nlmsg_type == RTM_DELQDISC ? NL_EV_GONE : NL_EV_CHANGED;
	}
	return ev;
}

unsigned int nl_events_read(struct nl *nl)
{
	char buf[16384];
	unsigned int ev = 0;

	if (!nl->ev)
		return 0;
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(nl->ev), buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS)	/* we missed some: look again */
				ev |= NL_EV_GONE;
			else if (errno != EAGAIN)
				log_warn("netlink events: %s", strerror(errno));
			return ev;
		}
		if (n == 0)
			return ev;
		ev |= nl_events_classify(buf, (size_t)n, nl->portid);
	}
}

bool nl_same_prefix(int family, const uint8_t *addr, uint8_t plen,
		    int family2, const uint8_t *addr2, uint8_t plen2)
{
	return family == family2 && plen == plen2 &&
	       !memcmp(addr, addr2, family == AF_INET ? 4 : 16);
}

static bool table_has(const struct nl_dest_info *have, size_t nh,
		      int family, const uint8_t *addr, uint8_t plen)
{
	size_t i;

	for (i = 0; i < nh; i++) {
		if (nl_same_prefix(have[i].family, have[i].addr, have[i].plen,
				   family, addr, plen))
			return true;
	}
	return false;
}

size_t nl_dests_missing(const struct nl_dest *want, size_t n,
			const struct nl_dest_info *have, size_t nh)
{
	size_t i, missing = 0;

	for (i = 0; i < n; i++)
		missing += !want[i].del &&
			   !table_has(have, nh, want[i].family, want[i].addr, want[i].plen);
	return missing;
}

size_t nl_dests_foreign(const struct nl_dest_info *have, size_t nh,
			const struct nl_dest *keep, size_t nk, struct nl_dest *del)
{
	size_t i, k, n = 0;

	for (i = 0; i < nh; i++) {
		for (k = 0; k < nk; k++) {
			if (nl_same_prefix(have[i].family, have[i].addr, have[i].plen,
					   keep[k].family, keep[k].addr, keep[k].plen))
				break;
		}
		if (k < nk)
			continue;
		memset(&del[n], 0, sizeof(del[n]));
		del[n].family = have[i].family;
		memcpy(del[n].addr, have[i].addr, sizeof(del[n].addr));
		del[n].plen = have[i].plen;
		del[n].del = true;
		n++;
	}
	return n;
}
