// SPDX-License-Identifier: GPL-2.0
/*
 * flowshape release scheduling.
 *
 * A flow with packets is in exactly one place: on the ready list when its
 * head packet is due (served round robin, byte-fair by quantum), or
 * throttled until its head's due time.  Since departures within a flow
 * never go backwards, a flow's due time is its head's.
 *
 * Throttled flows wait in a timing wheel (after Carousel) of
 * FS_WHEEL_SLOTS slots of 2^FS_WHEEL_SHIFT ns, with a bitmap of non-empty
 * slots to skip empty ones a word at a time (after Eiffel): throttling a
 * flow is O(1), and releasing one is O(1) amortized.  The wheel spans
 * ~67 ms from its cursor (not the qdisc's horizon parameter, which
 * bounds departure times); flows due later wait in an rb-tree and move
 * into the wheel once their slot is less than a span ahead of the
 * cursor.  One qdisc watchdog is armed for the earliest due time; never
 * a timer per packet.
 *
 * Precision: the watchdog is armed for the earliest due time in the
 * first non-empty slot, with timer_slack of range (an hrtimer range: it
 * may fire up to timer_slack late).  When the slot it fires in still
 * holds flows that are not yet due, it is armed for that slot's end:
 * those flows are late by less than one slot (plus the slack), never
 * early.
 */

#include <linux/bitops.h>
#include <linux/mm.h>
#include "flowshape.h"

int fs_sched_init(struct fs_sched_data *q)
{
	q->wheel = kvzalloc(sizeof(*q->wheel), GFP_KERNEL);
	if (!q->wheel)
		return -ENOMEM;
	fs_sched_reset(q);
	return 0;
}

void fs_sched_destroy(struct fs_sched_data *q)
{
	kvfree(q->wheel);
	q->wheel = NULL;
}

void fs_sched_reset(struct fs_sched_data *q)
{
	q->ready_head = NULL;
	q->ready_tail = NULL;
	q->far = RB_ROOT_CACHED;
	q->time_next_throttled = ~0ULL;
	q->throttled_flows = 0;
	if (q->wheel) {
		memset(q->wheel, 0, sizeof(*q->wheel));
		q->wheel->cursor = ktime_get_ns() >> FS_WHEEL_SHIFT;
	}
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

static void fs_wheel_push(struct fs_wheel *w, u32 idx, struct fs_flow *f)
{
	f->next = w->slot[idx];
	w->slot[idx] = f;
	__set_bit(idx, w->map);
}

static void fs_far_insert(struct fs_sched_data *q, struct fs_flow *f)
{
	struct rb_node **p = &q->far.rb_root.rb_node, *parent = NULL;
	bool leftmost = true;

	while (*p) {
		struct fs_flow *g;

		parent = *p;
		g = rb_entry(parent, struct fs_flow, throttle_node);
		if (g->time_next > f->time_next) {
			p = &parent->rb_left;
		} else {
			p = &parent->rb_right;
			leftmost = false;
		}
	}
	rb_link_node(&f->throttle_node, parent, p);
	rb_insert_color_cached(&f->throttle_node, &q->far, leftmost);
}

/* Put @f in the wheel slot of its due time, or in the far tree. */
static void fs_wheel_place(struct fs_sched_data *q, struct fs_flow *f)
{
	struct fs_wheel *w = q->wheel;
	u64 abs = f->time_next >> FS_WHEEL_SHIFT;

	if (abs < w->cursor)
		abs = w->cursor;
	if (abs - w->cursor >= FS_WHEEL_SLOTS)
		fs_far_insert(q, f);
	else
		fs_wheel_push(w, abs & FS_WHEEL_MASK, f);
}

void fs_throttle(struct fs_sched_data *q, struct fs_flow *f, u64 due, u64 now)
{
	/* An empty wheel restarts at now: near flows then fit in it. */
	if (!q->throttled_flows)
		q->wheel->cursor = now >> FS_WHEEL_SHIFT;

	f->time_next = due;
	f->state = FS_FLOW_THROTTLED;
	fs_wheel_place(q, f);
	q->throttled_flows++;
	if (due < q->time_next_throttled)
		q->time_next_throttled = due;
}

/*
 * Offset, within @span slots from physical slot @start (wrapping), of the
 * first non-empty slot; -1 if none.
 */
static long fs_wheel_find(const struct fs_wheel *w, u32 start, u32 span)
{
	u32 end = start + span;
	unsigned long b;

	if (end <= FS_WHEEL_SLOTS) {
		b = find_next_bit(w->map, end, start);
		return b < end ? (long)(b - start) : -1;
	}
	b = find_next_bit(w->map, FS_WHEEL_SLOTS, start);
	if (b < FS_WHEEL_SLOTS)
		return b - start;
	b = find_first_bit(w->map, end - FS_WHEEL_SLOTS);
	return b < end - FS_WHEEL_SLOTS ? (long)(b + FS_WHEEL_SLOTS - start) : -1;
}

/* When the watchdog must fire next: see the precision note above. */
static u64 fs_next_due(struct fs_sched_data *q, bool current_partial)
{
	struct fs_wheel *w = q->wheel;
	struct rb_node *n;
	struct fs_flow *f;
	u64 t = ~0ULL;
	long k;

	k = fs_wheel_find(w, w->cursor & FS_WHEEL_MASK, FS_WHEEL_SLOTS);
	if (k == 0 && current_partial)
		return (w->cursor + 1) << FS_WHEEL_SHIFT;
	if (k >= 0) {
		f = w->slot[(w->cursor + k) & FS_WHEEL_MASK];
		for (; f; f = f->next)
			t = min(t, f->time_next);
		return t;
	}
	n = rb_first_cached(&q->far);
	return n ? rb_entry(n, struct fs_flow, throttle_node)->time_next : t;
}

/* Move every flow whose head is due by @now to the ready list. */
void fs_unthrottle(struct fs_sched_data *q, u64 now)
{
	struct fs_wheel *w = q->wheel;
	u64 now_slot = now >> FS_WHEEL_SHIFT;
	bool partial = false;
	struct rb_node *n;
	u32 start, span, off = 0;
	long k;

	if (q->time_next_throttled > now)
		return;
	/* The cursor never moves back, whatever clock reading we get. */
	if (now_slot < w->cursor)
		now_slot = w->cursor;

	start = w->cursor & FS_WHEEL_MASK;
	span = now_slot - w->cursor >= FS_WHEEL_SLOTS ? FS_WHEEL_SLOTS :
	       (u32)(now_slot - w->cursor) + 1;
	while (off < span) {
		struct fs_flow *f, *next;
		u32 idx;

		k = fs_wheel_find(w, (start + off) & FS_WHEEL_MASK, span - off);
		if (k < 0)
			break;
		idx = (start + off + k) & FS_WHEEL_MASK;
		f = w->slot[idx];
		w->slot[idx] = NULL;
		__clear_bit(idx, w->map);
		for (; f; f = next) {
			next = f->next;
			if (f->time_next <= now) {
				q->throttled_flows--;
				fs_ready_add(q, f);
			} else {
				/* Only in now's own slot: not due yet. */
				fs_wheel_push(w, idx, f);
				partial = true;
			}
		}
		off += k + 1;
	}
	w->cursor = now_slot;

	/* The far tree feeds what came within the wheel's span. */
	while ((n = rb_first_cached(&q->far)) != NULL) {
		struct fs_flow *f = rb_entry(n, struct fs_flow, throttle_node);

		if ((f->time_next >> FS_WHEEL_SHIFT) >= w->cursor + FS_WHEEL_SLOTS)
			break;
		rb_erase_cached(n, &q->far);
		if (f->time_next <= now) {
			q->throttled_flows--;
			fs_ready_add(q, f);
		} else {
			fs_wheel_place(q, f);
			if ((f->time_next >> FS_WHEEL_SHIFT) == now_slot)
				partial = true;
		}
	}

	q->time_next_throttled = q->throttled_flows ? fs_next_due(q, partial)
						    : ~0ULL;
}
