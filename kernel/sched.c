// SPDX-License-Identifier: GPL-2.0
/*
 * flowshape release scheduling.
 *
 * A flow with packets is in exactly one place: on the ready list when its
 * head packet is due (served round robin, byte-fair by quantum), or in the
 * throttled rb-tree keyed by its head's due time.  One qdisc watchdog is
 * armed for the earliest throttled flow, never a timer per packet.  Since
 * departures within a flow never go backwards, a flow's due time is its
 * head's, and per packet the cost is one tree insert at most: O(log n) in
 * the number of throttled flows (the earliest is cached: O(1) to find).
 */

#include "flowshape.h"

void fs_sched_reset(struct fs_sched_data *q)
{
	q->ready_head = NULL;
	q->ready_tail = NULL;
	q->throttled = RB_ROOT_CACHED;
	q->time_next_throttled = ~0ULL;
	q->throttled_flows = 0;
}

void fs_ready_add(struct fs_sched_data *q, struct fs_flow *f)
{
	f->state = FS_FLOW_READY;
	f->next = NULL;
	if (q->ready_head)
		q->ready_tail->next = f;
	else
		q->ready_head = f;
	q->ready_tail = f;
}

void fs_throttle(struct fs_sched_data *q, struct fs_flow *f, u64 due)
{
	struct rb_node **p = &q->throttled.rb_root.rb_node, *parent = NULL;
	bool leftmost = true;

	f->time_next = due;
	f->state = FS_FLOW_THROTTLED;
	while (*p) {
		struct fs_flow *g;

		parent = *p;
		g = rb_entry(parent, struct fs_flow, throttle_node);
		if (g->time_next > due) {
			p = &parent->rb_left;
		} else {
			p = &parent->rb_right;
			leftmost = false;
		}
	}
	rb_link_node(&f->throttle_node, parent, p);
	rb_insert_color_cached(&f->throttle_node, &q->throttled, leftmost);
	q->throttled_flows++;
	if (due < q->time_next_throttled)
		q->time_next_throttled = due;
}

static void fs_unthrottle_one(struct fs_sched_data *q, struct fs_flow *f)
{
	rb_erase_cached(&f->throttle_node, &q->throttled);
	RB_CLEAR_NODE(&f->throttle_node);
	q->throttled_flows--;
}

/* Move every flow whose head is due by @now to the ready list. */
void fs_unthrottle(struct fs_sched_data *q, u64 now)
{
	struct rb_node *n;

	if (q->time_next_throttled > now)
		return;
	while ((n = rb_first_cached(&q->throttled)) != NULL) {
		struct fs_flow *f = rb_entry(n, struct fs_flow, throttle_node);

		if (f->time_next > now) {
			q->time_next_throttled = f->time_next;
			return;
		}
		fs_unthrottle_one(q, f);
		fs_ready_add(q, f);
	}
	q->time_next_throttled = ~0ULL;
}
