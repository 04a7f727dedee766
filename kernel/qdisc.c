// SPDX-License-Identifier: GPL-2.0
/*
 * flowshape qdisc: queueing discipline operations.
 *
 * This is the walking skeleton: an accounted FIFO with a packet limit.
 * Every packet offered to enqueue is either queued or dropped with a
 * counted reason, so that at any time
 *
 *	enqueued = dequeued + backlog packets + reset/destroy purges
 *
 * and drops are all explained by the xstats.
 */

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/types.h>
#include <linux/skbuff.h>
#include <net/netlink.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>

#include <linux/flowshape.h>

#define FLOWSHAPE_DEFAULT_LIMIT		10000
#define FLOWSHAPE_MAX_LIMIT		1000000

struct flowshape_sched_data {
	/* control: written by change() under the tree lock, read by dump */
	u32 limit;

	/* datapath counters, protected by the qdisc lock */
	u64 stat_enqueued;
	u64 stat_drops_limit;
};

static int flowshape_enqueue(struct sk_buff *skb, struct Qdisc *sch,
			     struct sk_buff **to_free)
{
	struct flowshape_sched_data *q = qdisc_priv(sch);

	if (unlikely(sch->q.qlen >= q->limit)) {
		q->stat_drops_limit++;
		return qdisc_drop(skb, sch, to_free);
	}

	q->stat_enqueued++;
	return qdisc_enqueue_tail(skb, sch);
}

static struct sk_buff *flowshape_dequeue(struct Qdisc *sch)
{
	return qdisc_dequeue_head(sch);
}

static struct netlink_range_validation flowshape_limit_range = {
	.min = 1,
	.max = FLOWSHAPE_MAX_LIMIT,
};

static const struct nla_policy flowshape_policy[TCA_FLOWSHAPE_MAX + 1] = {
	[TCA_FLOWSHAPE_LIMIT] = NLA_POLICY_FULL_RANGE(NLA_U32, &flowshape_limit_range),
};

static int flowshape_change(struct Qdisc *sch, struct nlattr *opt,
			    struct netlink_ext_ack *extack)
{
	struct flowshape_sched_data *q = qdisc_priv(sch);
	struct nlattr *tb[TCA_FLOWSHAPE_MAX + 1];
	int err;

	if (!opt)
		return 0;

	err = nla_parse_nested(tb, TCA_FLOWSHAPE_MAX, opt, flowshape_policy,
			       extack);
	if (err < 0)
		return err;

	sch_tree_lock(sch);
	/*
	 * A lower limit never drops what is already queued: new packets are
	 * refused until the backlog drains below it.
	 */
	if (tb[TCA_FLOWSHAPE_LIMIT]) {
		u32 limit = nla_get_u32(tb[TCA_FLOWSHAPE_LIMIT]);

		WRITE_ONCE(q->limit, limit);
		WRITE_ONCE(sch->limit, limit);
	}
	sch_tree_unlock(sch);

	return 0;
}

static int flowshape_init(struct Qdisc *sch, struct nlattr *opt,
			  struct netlink_ext_ack *extack)
{
	struct flowshape_sched_data *q = qdisc_priv(sch);

	q->limit = FLOWSHAPE_DEFAULT_LIMIT;
	sch->limit = q->limit;

	return flowshape_change(sch, opt, extack);
}

static void flowshape_reset(struct Qdisc *sch)
{
	/* Purges the queue and zeroes qlen and backlog. */
	qdisc_reset_queue(sch);
}

static int flowshape_dump(struct Qdisc *sch, struct sk_buff *skb)
{
	struct flowshape_sched_data *q = qdisc_priv(sch);
	struct nlattr *opts;

	opts = nla_nest_start_noflag(skb, TCA_OPTIONS);
	if (!opts)
		goto nla_put_failure;

	if (nla_put_u32(skb, TCA_FLOWSHAPE_LIMIT, READ_ONCE(q->limit)))
		goto nla_put_failure;

	return nla_nest_end(skb, opts);

nla_put_failure:
	nla_nest_cancel(skb, opts);
	return -EMSGSIZE;
}

static int flowshape_dump_stats(struct Qdisc *sch, struct gnet_dump *d)
{
	struct flowshape_sched_data *q = qdisc_priv(sch);
	struct tc_flowshape_xstats st = { 0 };

	sch_tree_lock(sch);
	st.enqueued = q->stat_enqueued;
	st.drops_limit = q->stat_drops_limit;
	sch_tree_unlock(sch);

	return gnet_stats_copy_app(d, &st, sizeof(st));
}

static struct Qdisc_ops flowshape_qdisc_ops __read_mostly = {
	.id		= "flowshape",
	.priv_size	= sizeof(struct flowshape_sched_data),
	.enqueue	= flowshape_enqueue,
	.dequeue	= flowshape_dequeue,
	.peek		= qdisc_peek_head,
	.init		= flowshape_init,
	.reset		= flowshape_reset,
	.change		= flowshape_change,
	.dump		= flowshape_dump,
	.dump_stats	= flowshape_dump_stats,
	.owner		= THIS_MODULE,
};

static int __init flowshape_module_init(void)
{
	return register_qdisc(&flowshape_qdisc_ops);
}

static void __exit flowshape_module_exit(void)
{
	unregister_qdisc(&flowshape_qdisc_ops);
}

module_init(flowshape_module_init);
module_exit(flowshape_module_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("flowshape: per-flow delay shaping by destination congestion and load");
#ifdef MODULE_ALIAS_NET_SCH
/* Since 6.11 qdisc modules are requested by their "net-sch-" alias. */
MODULE_ALIAS_NET_SCH("flowshape");
#endif
