// SPDX-License-Identifier: GPL-2.0
/*
 * flowshape destination table: prefixes with a congestion and a load
 * level, longest-prefix matched against each flow's destination, and
 * entries keyed by firewall mark (value/mask), matched before them.
 *
 * The datapath reads the table under RCU and never takes a lock for it.
 * An update that only sets levels on existing prefixes (what the agent
 * does every interval) rewrites them in place with WRITE_ONCE; one that
 * adds or removes prefixes builds a new table off-line and publishes it,
 * bumping the generation so flows redo their lookup once.  Either way an
 * update is validated whole before anything is changed: all or nothing.
 */

#include <linux/sort.h>
#include <linux/bitops.h>
#include <linux/stringify.h>
#include <asm/unaligned.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/if_ether.h>
#include <net/netlink.h>
#include "flowshape.h"

struct fs_dest_op {
	struct fs_dest d;		/* key and levels */
	const struct nlattr *nla;	/* for extack */
	u32 seq;			/* 0: existing entry, else message order */
	u32 idx;			/* in-place: index in the current table */
	u8 has_congestion;
	u8 has_load;
	u8 del;
};

struct fs_dest_update {
	struct fs_dest_table *table;	/* to publish; NULL: update in place */
	const struct nlattr *dests;	/* for extack */
	u32 nops;
	struct fs_dest_op ops[];
};

static const struct nla_policy fs_dest_policy[TCA_FLOWSHAPE_DEST_ATTR_MAX + 1] = {
	[TCA_FLOWSHAPE_DEST_IPV4]	= NLA_POLICY_EXACT_LEN(4),
	[TCA_FLOWSHAPE_DEST_IPV6]	= NLA_POLICY_EXACT_LEN(16),
	/* Ranges checked in fs_dest_parse_one(), with named messages. */
	[TCA_FLOWSHAPE_DEST_PLEN]	= { .type = NLA_U8 },
	[TCA_FLOWSHAPE_DEST_CONGESTION]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_DEST_LOAD]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_DEST_DELETE]	= { .type = NLA_FLAG },
	/* Filled in by dumps only. */
	[TCA_FLOWSHAPE_DEST_AGE]	= { .type = NLA_REJECT },
	[TCA_FLOWSHAPE_DEST_DELAY]	= { .type = NLA_REJECT },
	[TCA_FLOWSHAPE_DEST_STALE]	= { .type = NLA_REJECT },
	[TCA_FLOWSHAPE_DEST_PAD]	= { .type = NLA_REJECT },
	[TCA_FLOWSHAPE_DEST_MARK]	= { .type = NLA_U32 },
	[TCA_FLOWSHAPE_DEST_MARK_MASK]	= { .type = NLA_U32 },
};

static u64 fs_level_above(u32 level, u32 threshold)
{
	if (level <= threshold || threshold >= FLOWSHAPE_LEVEL_ONE)
		return 0;
	return div_u64((u64)(level - threshold) * FLOWSHAPE_LEVEL_ONE,
		       FLOWSHAPE_LEVEL_ONE - threshold);
}

/*
 * The delay function: each level's excess over its threshold, rescaled to
 * 0..1, times its weight (the delay at level 1.0); the sum capped.
 */
u64 fs_delay_compute(const struct fs_params *p, u32 congestion, u32 load)
{
	u64 d;

	d = div_u64(p->congestion_weight *
		    fs_level_above(congestion, p->congestion_threshold),
		    FLOWSHAPE_LEVEL_ONE);
	d += div_u64(p->load_weight * fs_level_above(load, p->load_threshold),
		     FLOWSHAPE_LEVEL_ONE);
	return min(d, p->max_delay);
}

bool fs_dest_is_stale(const struct fs_dest *e, u64 stale_after, u64 now)
{
	u64 updated = READ_ONCE(e->updated_ns);

	return now > updated && now - updated > stale_after;
}

/* Index in the table's groups[], and the order of the families. */
static int fs_family_idx(u8 family)
{
	switch (family) {
	case AF_INET:
		return 0;
	case AF_INET6:
		return 1;
	default:
		return 2;
	}
}

static int fs_family_rank(u8 family)
{
	return family == FS_FAMILY_MARK ? 0 : 1 + fs_family_idx(family);
}

static int fs_dest_cmp_addr(const struct fs_dest *a, const u8 *addr)
{
	return memcmp(a->addr, addr, sizeof(a->addr));
}

/* A mark entry's mask, where fs_dest keeps it (big endian). */
static const u8 *fs_mark_mask(const struct fs_dest *d)
{
	return d->addr + 4;
}

/*
 * Order: marks, IPv4, IPv6; longest prefix (most mask bits) first; marks
 * by mask, so that each mask is one run; then address (mark).
 */
static int fs_dest_cmp(const struct fs_dest *a, const struct fs_dest *b)
{
	int c;

	if (a->family != b->family)
		return fs_family_rank(a->family) < fs_family_rank(b->family) ?
		       -1 : 1;
	if (a->plen != b->plen)
		return a->plen > b->plen ? -1 : 1;
	if (a->family == FS_FAMILY_MARK) {
		c = memcmp(fs_mark_mask(a), fs_mark_mask(b), 4);
		if (c)
			return c;
	}
	return fs_dest_cmp_addr(a, b->addr);
}

/* @a and @b belong in one group: one binary search finds either. */
static bool fs_dest_same_group(const struct fs_dest *a, const struct fs_dest *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       (a->family != FS_FAMILY_MARK ||
		!memcmp(fs_mark_mask(a), fs_mark_mask(b), 4));
}

static void fs_prefix_mask(u8 *out, const u8 *addr, u8 plen, u8 alen)
{
	u8 i;

	memset(out, 0, 16);
	for (i = 0; i < alen; i++) {
		if (plen >= 8) {
			out[i] = addr[i];
			plen -= 8;
		} else {
			out[i] = addr[i] & (u8)(0xff00 >> plen);
			plen = 0;
		}
	}
}

static long fs_group_search(const struct fs_dest_table *t,
			    const struct fs_dest_group *g, const u8 *addr)
{
	u32 lo = g->start, hi = g->end;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		int c = fs_dest_cmp_addr(&t->e[mid], addr);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static const struct fs_dest *fs_dest_lpm(const struct fs_dest_table *t,
					 u8 family, const u8 *addr)
{
	int fi = fs_family_idx(family);
	u8 alen = family == AF_INET ? 4 : 16;
	u8 masked[16];
	u32 i;

	for (i = 0; i < t->nr_groups[fi]; i++) {
		const struct fs_dest_group *g = &t->groups[fi][i];
		long idx;

		fs_prefix_mask(masked, addr, g->plen, alen);
		idx = fs_group_search(t, g, masked);
		if (idx >= 0)
			return &t->e[idx];
	}
	return NULL;
}

/* The first mark entry (most mask bits first) matching @mark. */
static const struct fs_dest *fs_dest_mark_match(const struct fs_dest_table *t,
						u32 mark)
{
	u8 key[16] = { 0 };
	u32 i;

	for (i = 0; i < t->nr_groups[2]; i++) {
		const struct fs_dest_group *g = &t->groups[2][i];
		const u8 *mask = fs_mark_mask(&t->e[g->start]);
		long idx;

		put_unaligned_be32(mark & get_unaligned_be32(mask), key);
		memcpy(key + 4, mask, 4);
		idx = fs_group_search(t, g, key);
		if (idx >= 0)
			return &t->e[idx];
	}
	return NULL;
}

/*
 * The packet's entry: by its mark first, then the longest prefix match
 * of its destination address; NULL: no entry.
 */
const struct fs_dest *fs_dest_lookup(const struct fs_dest_table *t,
				     struct sk_buff *skb)
{
	u8 addr[16] = { 0 };

	if (!t || !t->count)
		return NULL;

	if (t->nr_groups[2]) {
		const struct fs_dest *e = fs_dest_mark_match(t, skb->mark);

		if (e)
			return e;
	}

	switch (skb_protocol(skb, true)) {
	case htons(ETH_P_IP): {
		const struct iphdr *iph;
		struct iphdr _iph;

		iph = skb_header_pointer(skb, skb_network_offset(skb),
					 sizeof(_iph), &_iph);
		if (!iph)
			return NULL;
		memcpy(addr, &iph->daddr, 4);
		return fs_dest_lpm(t, AF_INET, addr);
	}
	case htons(ETH_P_IPV6): {
		const struct ipv6hdr *ip6h;
		struct ipv6hdr _ip6h;

		ip6h = skb_header_pointer(skb, skb_network_offset(skb),
					  sizeof(_ip6h), &_ip6h);
		if (!ip6h)
			return NULL;
		memcpy(addr, &ip6h->daddr, 16);
		return fs_dest_lpm(t, AF_INET6, addr);
	}
	default:
		return NULL;
	}
}

static long fs_dest_find(const struct fs_dest_table *t, const struct fs_dest *k)
{
	int fi = fs_family_idx(k->family);
	u32 i;

	if (!t)
		return -1;
	/* (Several mark groups may share a plen: the key has the mask.) */
	for (i = 0; i < t->nr_groups[fi]; i++) {
		long idx;

		if (t->groups[fi][i].plen != k->plen)
			continue;
		idx = fs_group_search(t, &t->groups[fi][i], k->addr);
		if (idx >= 0)
			return idx;
	}
	return -1;
}

/* A mark entry's key: MARK under MARK_MASK (mark and mask, big endian). */
static int fs_dest_parse_mark(struct nlattr **tb, struct fs_dest_op *op,
			      struct netlink_ext_ack *extack)
{
	u32 mark = nla_get_u32(tb[TCA_FLOWSHAPE_DEST_MARK]);
	u32 mask = ~0U;

	if (tb[TCA_FLOWSHAPE_DEST_PLEN]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_FLOWSHAPE_DEST_PLEN],
				    "flowshape: a mark destination takes no prefix length (TCA_FLOWSHAPE_DEST_PLEN)");
		return -EINVAL;
	}
	if (tb[TCA_FLOWSHAPE_DEST_MARK_MASK]) {
		mask = nla_get_u32(tb[TCA_FLOWSHAPE_DEST_MARK_MASK]);
		if (!mask) {
			NL_SET_ERR_MSG_ATTR(extack, tb[TCA_FLOWSHAPE_DEST_MARK_MASK],
					    "flowshape: destination mark mask 0 would match every packet");
			return -EINVAL;
		}
	}
	if (mark & ~mask) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_FLOWSHAPE_DEST_MARK],
				    "flowshape: destination mark has bits outside its mask (TCA_FLOWSHAPE_DEST_MARK_MASK)");
		return -EINVAL;
	}
	op->d.family = FS_FAMILY_MARK;
	op->d.plen = hweight32(mask);
	put_unaligned_be32(mark, op->d.addr);
	put_unaligned_be32(mask, op->d.addr + 4);
	return 0;
}

static int fs_dest_parse_one(const struct nlattr *nla, struct fs_dest_op *op,
			     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[TCA_FLOWSHAPE_DEST_ATTR_MAX + 1];
	const struct nlattr *a4, *a6;
	u8 masked[16], alen;
	int err;

	if (nla_type(nla) != TCA_FLOWSHAPE_DEST) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "flowshape: expected a TCA_FLOWSHAPE_DEST entry");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, TCA_FLOWSHAPE_DEST_ATTR_MAX, nla,
			       fs_dest_policy, extack);
	if (err < 0)
		return err;

	a4 = tb[TCA_FLOWSHAPE_DEST_IPV4];
	a6 = tb[TCA_FLOWSHAPE_DEST_IPV6];
	if (!!a4 + !!a6 + !!tb[TCA_FLOWSHAPE_DEST_MARK] != 1) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "flowshape: destination needs exactly one of an IPv4 address, an IPv6 address or a mark");
		return -EINVAL;
	}
	if (tb[TCA_FLOWSHAPE_DEST_MARK_MASK] && !tb[TCA_FLOWSHAPE_DEST_MARK]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_FLOWSHAPE_DEST_MARK_MASK],
				    "flowshape: TCA_FLOWSHAPE_DEST_MARK_MASK without TCA_FLOWSHAPE_DEST_MARK");
		return -EINVAL;
	}
	memset(op, 0, sizeof(*op));
	op->nla = nla;
	if (tb[TCA_FLOWSHAPE_DEST_MARK]) {
		err = fs_dest_parse_mark(tb, op, extack);
		if (err)
			return err;
		goto levels;
	}
	op->d.family = a4 ? AF_INET : AF_INET6;
	alen = a4 ? 4 : 16;
	nla_memcpy(op->d.addr, a4 ? a4 : a6, alen);
	op->d.plen = alen * 8;
	if (tb[TCA_FLOWSHAPE_DEST_PLEN])
		op->d.plen = nla_get_u8(tb[TCA_FLOWSHAPE_DEST_PLEN]);
	if (op->d.plen > alen * 8) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_FLOWSHAPE_DEST_PLEN],
				    "flowshape: prefix length out of range (0..32 IPv4, 0..128 IPv6)");
		return -EINVAL;
	}
	fs_prefix_mask(masked, op->d.addr, op->d.plen, alen);
	if (memcmp(masked, op->d.addr, 16)) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "flowshape: destination prefix has host bits set");
		return -EINVAL;
	}

levels:
	op->del = nla_get_flag(tb[TCA_FLOWSHAPE_DEST_DELETE]);
	if (tb[TCA_FLOWSHAPE_DEST_CONGESTION]) {
		op->has_congestion = 1;
		op->d.congestion = nla_get_u32(tb[TCA_FLOWSHAPE_DEST_CONGESTION]);
		if (op->d.congestion > FLOWSHAPE_LEVEL_ONE) {
			NL_SET_ERR_MSG_ATTR(extack, tb[TCA_FLOWSHAPE_DEST_CONGESTION],
					    "flowshape: destination congestion out of range (0..1000000 ppm)");
			return -ERANGE;
		}
	}
	if (tb[TCA_FLOWSHAPE_DEST_LOAD]) {
		op->has_load = 1;
		op->d.load = nla_get_u32(tb[TCA_FLOWSHAPE_DEST_LOAD]);
		if (op->d.load > FLOWSHAPE_LEVEL_ONE) {
			NL_SET_ERR_MSG_ATTR(extack, tb[TCA_FLOWSHAPE_DEST_LOAD],
					    "flowshape: destination load out of range (0..1000000 ppm)");
			return -ERANGE;
		}
	}
	if (op->del && (op->has_congestion || op->has_load)) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "flowshape: a destination delete takes no levels");
		return -EINVAL;
	}
	return 0;
}

static int fs_op_cmp(const void *a, const void *b)
{
	const struct fs_dest_op *x = a, *y = b;
	int c = fs_dest_cmp(&x->d, &y->d);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Index the sorted entries' groups; -ENOSPC: too many mark masks. */
static int fs_table_index(struct fs_dest_table *t)
{
	u32 i;

	memset(t->nr_groups, 0, sizeof(t->nr_groups));
	for (i = 0; i < t->count; i++) {
		int fi = fs_family_idx(t->e[i].family);
		struct fs_dest_group *g;

		g = t->nr_groups[fi] ? &t->groups[fi][t->nr_groups[fi] - 1] : NULL;
		if (!g || !fs_dest_same_group(&t->e[g->start], &t->e[i])) {
			/* Prefix groups are one per length: at most 129. */
			if (fi == 2 && t->nr_groups[2] == FS_MARK_MASKS_MAX)
				return -ENOSPC;
			g = &t->groups[fi][t->nr_groups[fi]++];
			g->plen = t->e[i].plen;
			g->start = i;
		}
		g->end = i + 1;
	}
	return 0;
}

/*
 * Build the table that results from applying @u's ops (in message order)
 * to the current table (or to nothing, with @flush).  The ops and the
 * current entries are sorted together by key and sequence, then folded.
 */
static int fs_dest_rebuild(struct fs_sched_data *q, struct fs_dest_update *u,
			   bool flush, u32 max_dests,
			   const struct nlattr *max_attr,
			   struct netlink_ext_ack *extack)
{
	const struct fs_dest_table *cur = rtnl_dereference(q->dests);
	u32 nold = (flush || !cur) ? 0 : cur->count;
	u32 n = nold + u->nops, i, j, out = 0;
	struct fs_dest_op *all;
	struct fs_dest_table *t;
	u64 now = ktime_get_ns();
	int err = 0;

	all = kvmalloc_array(n, sizeof(*all), GFP_KERNEL);
	if (!all)
		return -ENOMEM;
	for (i = 0; i < nold; i++) {
		memset(&all[i], 0, sizeof(all[i]));
		all[i].d = cur->e[i];
	}
	memcpy(&all[nold], u->ops, u->nops * sizeof(*all));
	sort(all, n, sizeof(*all), fs_op_cmp, NULL);

	t = kvzalloc(struct_size(t, e, min(n, max_dests)), GFP_KERNEL);
	if (!t) {
		err = -ENOMEM;
		goto out;
	}

	for (i = 0; i < n; i = j) {
		struct fs_dest cur_e;
		bool present = false;

		for (j = i; j < n && !fs_dest_cmp(&all[j].d, &all[i].d); j++) {
			const struct fs_dest_op *op = &all[j];

			if (!op->seq) {
				cur_e = op->d;
				present = true;
			} else if (op->del) {
				if (!present) {
					NL_SET_ERR_MSG_ATTR(extack, op->nla,
							    "flowshape: no such destination to delete");
					err = -ENOENT;
					goto out;
				}
				present = false;
			} else {
				if (!present) {
					cur_e = op->d;
					cur_e.congestion = 0;
					cur_e.load = 0;
					present = true;
				}
				if (op->has_congestion)
					cur_e.congestion = op->d.congestion;
				if (op->has_load)
					cur_e.load = op->d.load;
				cur_e.updated_ns = now;
			}
		}
		if (!present)
			continue;
		/* Counted to the end, for the message below. */
		if (out < max_dests)
			t->e[out] = cur_e;
		out++;
	}
	if (out > max_dests) {
		/* The entries there now do not fit a lowered max_dests: say
		 * so, not that the table is full.
		 */
		if (nold > max_dests) {
			NL_SET_ERR_MSG_ATTR(extack, max_attr,
					    "flowshape: max_dests below the number of destination entries");
		} else {
			NL_SET_ERR_MSG(extack,
				       "flowshape: destination table full (max_dests reached)");
			NL_SET_BAD_ATTR(extack, u->dests);
		}
		err = -ENOSPC;
		goto out;
	}
	t->count = out;
	if (fs_table_index(t)) {
		NL_SET_ERR_MSG(extack,
			       "flowshape: more than " __stringify(FS_MARK_MASKS_MAX)
			       " different destination mark masks");
		err = -EINVAL;
		goto out;
	}
	u->table = t;
	t = NULL;
out:
	kvfree(t);
	kvfree(all);
	return err;
}

/*
 * One message carries at most max_dests (as it was) + max_dests (as it
 * will be) updates: a delete for every entry there can be and a set for
 * every entry there can be after.  A message with more can only fail
 * (or repeat keys), and each update costs a struct fs_dest_op (72 bytes)
 * twice before it is looked at.
 */
static u32 fs_dest_ops_max(const struct fs_sched_data *q, u32 max_dests)
{
	return q->p.max_dests + max_dests;
}

int fs_dest_prepare(struct fs_sched_data *q, struct nlattr *dests, bool flush,
		    u32 max_dests, const struct nlattr *max_attr,
		    struct fs_dest_update **out, struct netlink_ext_ack *extack)
{
	const struct fs_dest_table *cur = rtnl_dereference(q->dests);
	struct fs_dest_update *u;
	bool in_place = !flush;
	struct nlattr *nla;
	int rem, err;
	u32 n = 0;

	if (dests) {
		nla_for_each_nested(nla, dests, rem)
			n++;
		/* Like the core's NL_VALIDATE_TRAILING: bytes that do not
		 * make an attribute are an error, not something to skip.
		 */
		if (rem > 0) {
			NL_SET_ERR_MSG_ATTR(extack, dests,
					    "flowshape: trailing bytes after the last destination entry");
			return -EINVAL;
		}
		if (n > fs_dest_ops_max(q, max_dests)) {
			NL_SET_ERR_MSG_ATTR(extack, dests,
					    "flowshape: more destination updates in one message than max_dests allows (one delete per entry and one set per entry of the new table at most): split them");
			return -E2BIG;
		}
	}
	u = kvzalloc(struct_size(u, ops, n), GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	u->dests = dests;

	if (dests) {
		nla_for_each_nested(nla, dests, rem) {
			struct fs_dest_op *op = &u->ops[u->nops];

			err = fs_dest_parse_one(nla, op, extack);
			if (err)
				goto err;
			op->seq = ++u->nops;
			if (in_place) {
				long idx = op->del ? -1 : fs_dest_find(cur, &op->d);

				if (idx < 0)
					in_place = false;
				else
					op->idx = (u32)idx;
			}
		}
	}

	/* A lower max_dests with no prefix change still must fit. */
	if (in_place && cur && cur->count > max_dests)
		in_place = false;
	if (!in_place) {
		err = fs_dest_rebuild(q, u, flush, max_dests, max_attr, extack);
		if (err)
			goto err;
	}
	*out = u;
	return 0;
err:
	kvfree(u);
	return err;
}

static void fs_dest_set_delay(const struct fs_params *p, struct fs_dest *e)
{
	WRITE_ONCE(e->delay_ns, fs_delay_compute(p, READ_ONCE(e->congestion),
						 READ_ONCE(e->load)));
}

#ifdef FLOWSHAPE_DEBUG
/*
 * Debug build only: the generation a new qdisc's table count starts
 * from, so that the selftests reach the wrap (selftests/accounting.sh)
 * without 2^32 updates.
 */
static uint debug_dest_gen;
module_param(debug_dest_gen, uint, 0644);
MODULE_PARM_DESC(debug_dest_gen,
		 "debug build: first destination table generation of a new qdisc");
#define fs_debug_dest_gen()	READ_ONCE(debug_dest_gen)
#else
#define fs_debug_dest_gen()	0U
#endif

void fs_dest_init(struct fs_sched_data *q)
{
	q->dest_gen = fs_debug_dest_gen();
}

/*
 * Publish @t with the next generation.  Generations are 1..2^32 - 2: 0
 * is a flow's "matched against no table" and FS_GEN_NONE its "never
 * matched".  When the count would reach either, it starts again at 1,
 * and so that no flow's cached generation can equal a new table's, every
 * flow forgets its match first: O(flows) with the tree lock held, once
 * every 2^32 - 2 republishes.
 */
static void fs_dest_publish(struct Qdisc *sch, struct fs_dest_table *t)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	u32 gen = q->dest_gen + 1;

	if (likely(gen != FS_GEN_NONE && gen != 0)) {
		t->gen = gen;
		q->dest_gen = gen;
		rcu_assign_pointer(q->dests, t);
		return;
	}
	sch_tree_lock(sch);
	fs_flow_forget_dests(q);
	t->gen = 1;
	q->dest_gen = 1;
	rcu_assign_pointer(q->dests, t);
	sch_tree_unlock(sch);
}

/* Apply a prepared update.  Cannot fail. */
void fs_dest_commit(struct Qdisc *sch, struct fs_dest_update *u)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	struct fs_dest_table *cur = rtnl_dereference(q->dests);
	u64 now = ktime_get_ns();
	u32 i;

	if (!u->table) {
		for (i = 0; i < u->nops; i++) {
			const struct fs_dest_op *op = &u->ops[i];
			struct fs_dest *e = &cur->e[op->idx];

			if (op->has_congestion)
				WRITE_ONCE(e->congestion, op->d.congestion);
			if (op->has_load)
				WRITE_ONCE(e->load, op->d.load);
			WRITE_ONCE(e->updated_ns, now);
			fs_dest_set_delay(&q->p, e);
		}
		return;
	}

	for (i = 0; i < u->table->count; i++)
		fs_dest_set_delay(&q->p, &u->table->e[i]);
	fs_dest_publish(sch, u->table);
	u->table = NULL;
	if (cur)
		kvfree_rcu(cur, rcu);
}

void fs_dest_update_free(struct fs_dest_update *u)
{
	if (!u)
		return;
	kvfree(u->table);
	kvfree(u);
}

/* Weights, thresholds or the cap changed: every entry's delay follows. */
void fs_dest_recompute(struct fs_sched_data *q)
{
	struct fs_dest_table *t = rtnl_dereference(q->dests);
	u32 i;

	for (i = 0; t && i < t->count; i++)
		fs_dest_set_delay(&q->p, &t->e[i]);
}

void fs_dest_table_free(struct fs_sched_data *q)
{
	struct fs_dest_table *t = rcu_dereference_protected(q->dests, 1);

	RCU_INIT_POINTER(q->dests, NULL);
	if (t)
		kvfree_rcu(t, rcu);
}

u32 fs_dest_count_stale(struct fs_sched_data *q, u64 now)
{
	const struct fs_dest_table *t;
	u64 stale_after = READ_ONCE(q->p.stale_after);
	u32 i, n = 0;

	rcu_read_lock();
	t = rcu_dereference(q->dests);
	for (i = 0; t && i < t->count; i++)
		n += fs_dest_is_stale(&t->e[i], stale_after, now);
	rcu_read_unlock();
	return n;
}
