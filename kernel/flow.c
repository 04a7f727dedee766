// SPDX-License-Identifier: GPL-2.0
/*
 * flowshape flow table: buckets of rb-trees keyed by the skb flow hash.
 *
 * Flows with nothing queued wait on an idle list in the order they went
 * idle; those idle for longer than flow_idle are freed from its head, a
 * few per packet, so a flood of new flows recycles memory without a
 * separate timer and the work per packet stays bounded.  The number of flows is
 * capped by max_flows; past it, or when an allocation fails, packets share
 * FS_OVERFLOW_FLOWS overflow flows by hash, bounded together by
 * overflow_limit (qdisc.c), so that a flood of new flows cannot take the
 * room of the flows tracked.
 */

#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include "flowshape.h"

/* Flows freed at most per lookup: bounds the work done per packet. */
#define FS_GC_MAX	8

static struct kmem_cache *fs_flow_cachep __read_mostly;

#ifdef FLOWSHAPE_DEBUG
/*
 * Debug build only (sch_flowshape_debug.ko, "make module-debug"): Debian's
 * kernel has no CONFIG_FAILSLAB, so the selftests make flow allocations
 * fail with this knob.  The production module has no such parameter.
 */
static bool debug_fail_alloc;
module_param(debug_fail_alloc, bool, 0644);
MODULE_PARM_DESC(debug_fail_alloc,
		 "debug build: every flow allocation fails while set");
#define fs_debug_fail_alloc()	READ_ONCE(debug_fail_alloc)
#else
#define fs_debug_fail_alloc()	false
#endif

int fs_flow_cache_init(void)
{
	/* Two cache lines, like fq's flows: see struct fs_flow. */
	BUILD_BUG_ON(sizeof(struct fs_flow) > 2 * 64);

	fs_flow_cachep = kmem_cache_create("flowshape_flow",
					   sizeof(struct fs_flow), 0,
					   SLAB_HWCACHE_ALIGN, NULL);
	return fs_flow_cachep ? 0 : -ENOMEM;
}

void fs_flow_cache_exit(void)
{
	kmem_cache_destroy(fs_flow_cachep);
}

struct rb_root *fs_buckets_alloc(u32 n)
{
	struct rb_root *b;
	u32 i;

	b = kvmalloc_array(n, sizeof(*b), GFP_KERNEL);
	if (!b)
		return NULL;
	for (i = 0; i < n; i++)
		b[i] = RB_ROOT;
	return b;
}

void fs_buckets_free(struct rb_root *b)
{
	kvfree(b);
}

static struct fs_flow *fs_flow_alloc(struct fs_sched_data *q, u32 hash,
				     u64 now)
{
	struct fs_flow *f;

	if (q->flows >= q->p.max_flows)
		return NULL;
	f = fs_debug_fail_alloc() ? NULL :
	    kmem_cache_zalloc(fs_flow_cachep, GFP_ATOMIC | __GFP_NOWARN);
	if (unlikely(!f)) {
		q->stat_alloc_errors++;
		return NULL;
	}
	f->hash = hash;
	f->dest_gen = FS_GEN_NONE;
	/* IDLE and not yet on the idle list: its first packet queues it
	 * (fs_flow_leave_idle).  A full quantum to start with.
	 */
	f->credit = q->p.quantum;
	INIT_LIST_HEAD(&f->idle_node);
	q->flows++;
	return f;
}

static int fs_agg_cmp(const struct fs_agg *a, const struct fs_dest *e)
{
	if (a->family != e->family)
		return a->family < e->family ? -1 : 1;
	if (a->plen != e->plen)
		return a->plen < e->plen ? -1 : 1;
	return memcmp(a->addr, e->addr, sizeof(a->addr));
}

/* The aggregate of entry @e's prefix, with a reference; NULL: no memory. */
static struct fs_agg *fs_agg_get(struct fs_sched_data *q,
				 const struct fs_dest *e)
{
	struct rb_node **p = &q->aggs.rb_node, *parent = NULL;
	struct fs_agg *a;

	while (*p) {
		int c;

		parent = *p;
		a = rb_entry(parent, struct fs_agg, node);
		c = fs_agg_cmp(a, e);
		if (!c) {
			a->refs++;
			return a;
		}
		p = c > 0 ? &parent->rb_left : &parent->rb_right;
	}
	a = kzalloc(sizeof(*a), GFP_ATOMIC | __GFP_NOWARN);
	if (unlikely(!a))
		return NULL;
	memcpy(a->addr, e->addr, sizeof(a->addr));
	a->family = e->family;
	a->plen = e->plen;
	a->refs = 1;
	rb_link_node(&a->node, parent, p);
	rb_insert_color(&a->node, &q->aggs);
	return a;
}

static void fs_agg_put(struct fs_sched_data *q, struct fs_agg *a)
{
	if (a && !--a->refs) {
		rb_erase(&a->node, &q->aggs);
		kfree(a);
	}
}

/*
 * Point @f at the aggregate of entry @e (NULL: no entry), moving its
 * active count along.  False when the aggregate could not be allocated:
 * the flow is then left without an entry (no delay: fail open) and the
 * caller retries on its next packet.
 */
bool fs_flow_set_dest(struct fs_sched_data *q, struct fs_flow *f,
		      const struct fs_dest *e)
{
	struct fs_agg *a = NULL;
	bool ok = true;

	if (e) {
		a = fs_agg_get(q, e);
		if (a) {
			a->dest = e;
		} else {
			q->stat_alloc_errors++;
			ok = false;
		}
	}
	if (f->counted) {
		f->agg->active--;
		f->counted = 0;
	}
	fs_agg_put(q, f->agg);
	f->agg = a;
	return ok;
}

/*
 * Uncount idle flows whose last gap has run out, from q->linger on, at
 * most FS_GC_MAX per call.  The list is in the order flows went idle,
 * which is close to the order their gaps run out; a flow whose gap is
 * longer than the next ones' stops the walk until it runs out: the
 * count errs on the high side (rates a little low), never the low.
 */
void fs_flow_linger(struct fs_sched_data *q, u64 now)
{
	int n = 0;

	while (q->linger && n++ < FS_GC_MAX) {
		struct fs_flow *f = q->linger;

		if (f->counted) {
			if (now < f->last_departure + f->gap_ns)
				break;
			fs_flow_uncount(f);
		}
		q->linger = list_is_last(&f->idle_node, &q->idle_flows) ? NULL :
			    list_next_entry(f, idle_node);
	}
}

/*
 * Free flows idle for longer than flow_idle, oldest first, at most
 * FS_GC_MAX per call: bounded work per packet, and memory is given back
 * at the rate new flows arrive.
 */
static void fs_flow_gc(struct fs_sched_data *q, u64 now)
{
	u64 idle = q->p.flow_idle;
	int n = 0;

	while (n < FS_GC_MAX && !list_empty(&q->idle_flows)) {
		struct fs_flow *f = list_first_entry(&q->idle_flows,
						     struct fs_flow, idle_node);

		/* Idle: its last packet has left (never later than now). */
		if (f->last_departure + idle >= now)
			break;
		fs_idle_unlink(q, f);
		rb_erase(&f->hash_node, &q->buckets[f->hash & q->bucket_mask]);
		fs_flow_uncount(f);
		fs_agg_put(q, f->agg);
		kmem_cache_free(fs_flow_cachep, f);
		n++;
	}
	q->flows -= n;
	q->stat_gc += n;
}

/*
 * Find or create the flow of @skb.  Never fails: without a flow of its
 * own, a packet goes to one of the shared overflow flows.
 */
struct fs_flow *fs_flow_classify(struct fs_sched_data *q, struct sk_buff *skb,
				 u64 now)
{
	u32 hash = skb_get_hash(skb);
	struct rb_node **p, *parent = NULL;
	struct rb_root *root;
	struct fs_flow *f;

	fs_flow_gc(q, now);

	root = &q->buckets[hash & q->bucket_mask];
	p = &root->rb_node;
	while (*p) {
		parent = *p;
		f = rb_entry(parent, struct fs_flow, hash_node);
		if (f->hash == hash)
			return f;
		p = f->hash > hash ? &parent->rb_left : &parent->rb_right;
	}

	f = fs_flow_alloc(q, hash, now);
	if (!f)
		return &q->overflow[reciprocal_scale(hash, FS_OVERFLOW_FLOWS)];
	rb_link_node(&f->hash_node, parent, p);
	rb_insert_color(&f->hash_node, root);
	return f;
}

/* Under RTNL (reset, destroy): rtnl_kfree_skbs defers the frees. */
void fs_flow_queue_purge(struct fs_flow *f)
{
	struct sk_buff *skb;

	while ((skb = fs_flow_queue_pop(f)) != NULL)
		rtnl_kfree_skbs(skb, skb);
	f->tail = NULL;
}

/* A flow whose packets were purged: idle, on the idle list as if drained. */
static void fs_flow_purged(struct fs_sched_data *q, struct fs_flow *f)
{
	fs_flow_queue_purge(f);
	f->state = FS_FLOW_IDLE;
	f->aqm_first_above = 0;
	f->aqm_count = 0;
	fs_flow_went_idle(q, f);
}

/*
 * Reset: free every queued packet, keep the flows.  Only flows with
 * packets are visited, through the scheduling structures (the ready
 * list, the wheel's non-empty slots, the far tree), so the work is
 * O(packets queued), bounded by limit, whatever the number of flows:
 * the core resets a qdisc with bottom halves off (a device going down,
 * a graft under a parent).  Idle flows stay for the GC, as after a
 * drain.  The caller resets the scheduling structures after.
 */
void fs_flow_purge_queued(struct fs_sched_data *q)
{
	struct fs_wheel *w = q->wheel;
	struct fs_flow *f, *next;
	unsigned long i;

	fs_flow_queue_purge(&q->internal);
	q->internal.state = FS_FLOW_IDLE;
	for (f = q->ready_head; f; f = next) {
		next = f->next;		/* (shares space with idle_node) */
		fs_flow_purged(q, f);
	}
	for_each_set_bit(i, w->map, FS_WHEEL_SLOTS) {
		for (f = w->slot[i]; f; f = next) {
			next = f->next;
			fs_flow_purged(q, f);
		}
	}
	/* Post-order: a node is left before its parent is read. */
	rbtree_postorder_for_each_entry_safe(f, next, &q->far.rb_root,
					     throttle_node)
		fs_flow_purged(q, f);
	q->overflow_qlen = 0;
}

/* Free every flow and its packets (destroy). */
void fs_flow_free_all(struct Qdisc *sch)
{
	struct fs_sched_data *q = qdisc_priv(sch);
	struct rb_node *n;
	u32 i;

	fs_flow_queue_purge(&q->internal);
	for (i = 0; i < FS_OVERFLOW_FLOWS; i++)
		fs_flow_queue_purge(&q->overflow[i]);
	q->overflow_qlen = 0;
	/* Every flow goes: so do the aggregates (none is used after). */
	while ((n = rb_first(&q->aggs)) != NULL) {
		rb_erase(n, &q->aggs);
		kfree(rb_entry(n, struct fs_agg, node));
	}
	if (!q->buckets)
		return;
	for (i = 0; i <= q->bucket_mask; i++) {
		struct rb_root *root = &q->buckets[i];

		while ((n = rb_first(root)) != NULL) {
			struct fs_flow *f = rb_entry(n, struct fs_flow, hash_node);

			/* The idle list is reset below as a whole. */
			rb_erase(n, root);
			fs_flow_queue_purge(f);
			kmem_cache_free(fs_flow_cachep, f);
		}
	}
	q->flows = 0;
	INIT_LIST_HEAD(&q->idle_flows);
	q->linger = NULL;
}

/*
 * Every flow redoes its destination match on its next packet (the
 * table's generation wrapped).  Under the tree lock.
 */
void fs_flow_forget_dests(struct fs_sched_data *q)
{
	struct rb_node *n;
	u32 i;

	for (i = 0; i <= q->bucket_mask; i++)
		for (n = rb_first(&q->buckets[i]); n; n = rb_next(n))
			rb_entry(n, struct fs_flow, hash_node)->dest_gen = FS_GEN_NONE;
}

/* Move every flow into @nb (n buckets).  Under the tree lock. */
void fs_flow_rehash(struct fs_sched_data *q, struct rb_root *nb, u32 n)
{
	struct rb_node *node;
	u32 i;

	for (i = 0; i <= q->bucket_mask; i++) {
		struct rb_root *root = &q->buckets[i];

		while ((node = rb_first(root)) != NULL) {
			struct fs_flow *f = rb_entry(node, struct fs_flow, hash_node);
			struct rb_node **p, *parent = NULL;
			struct rb_root *nroot = &nb[f->hash & (n - 1)];

			rb_erase(node, root);
			p = &nroot->rb_node;
			while (*p) {
				struct fs_flow *g;

				parent = *p;
				g = rb_entry(parent, struct fs_flow, hash_node);
				p = g->hash > f->hash ? &parent->rb_left
						      : &parent->rb_right;
			}
			rb_link_node(&f->hash_node, parent, p);
			rb_insert_color(&f->hash_node, nroot);
		}
	}
	q->buckets = nb;
	q->bucket_mask = n - 1;
}
