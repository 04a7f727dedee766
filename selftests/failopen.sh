#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fail-open for packets already waiting (spec "Staleness: fail open"):
# when the delay toward a destination falls (its entry goes stale, or
# max_delay is lowered), the packets waiting for it leave no later than
# max(arrival + the delay now, now), re-timed at least every 250 ms; not
# only the packets that arrive after.  With a backlogged bulk flow,
# forwarded (a local sender's socket buffer would hold the backlog back):
#
#   spread  UDP at 8 Mbit/s for ~1.2 s into a destination paced at one
#           1514 B quantum per 20 ms (~0.6 Mbit/s): ~800 packets wait;
#           the entry is set once, stale_after 2 s: the backlog is gone
#           within stale_after + 1 s of the update (the departure times
#           used to be fixed at enqueue: it took ~15 s);
#   delay   the same burst with a 5 s delay: drained within stale_after +
#           1 s, counted in retimed (it used to leave 5 s after arrival);
#   max_delay  lowered from 5 s to 100 ms while a 5 s backlog waits (the
#           whole burst in): the backlog leaves within 1 s + 100 ms;
#   TCP/GSO a TCP stream with GSO (GRO on the way in, TSO on the way
#           out: 64 KB packets whose gap is 43 quanta, ~4.3 s): once the
#           entry is stale (+1 s), nothing is held any more.
#
# The limits are the documented promise (1 s after the delay fell); the
# module looks at a waiting head every 250 ms, so the rest is for the
# drain itself and for the 100 ms polling here.  (CI once measured the
# max_delay backlog gone 1220 ms after the change under plain TCG: the
# change came while the burst was still arriving, 0.8 s of it, and the
# module looked again only every second.)
# Shown failing on the module before re-timing (commit message; under
# QEMU -icount): the spread backlog drained 5.9 s after the update, the
# delay one 6.4 s, the max_delay one 3.9 s after the change.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
fs_require_root
fs_require_cmd tc ip iperf3 ethtool jq awk
fs_require_udpseq
fs_load_module

LAB_RATE=1000mbit LAB_BUFFER=4000000
lab_topology || fs_skip "cannot build the lab topology"
DST=$LAB_SERVER

# burst: UDP at 8 Mbit/s for 1.2 s (857 datagrams of 1400 B), in the
# background.  (Not iperf3: its TCP control connection would be shaped
# too, 5 s per packet in delay mode, and the burst start that late.)
burst()
{
	fs_bg "$LAB_C" "$UDPSEQ" send "$DST" 9009 857 -r 714 -s 1400 >/dev/null 2>&1
}

# drained_by T0_MS LIMIT_MS: wait until the qdisc on i1 is empty, at most
# LIMIT_MS after T0_MS (+2 s of grace to measure); DRAIN_MS: when, after T0.
drained_by()
{
	local t0=$1 limit=$2
	wait_for $(((limit + 2000) / 1000 + 1)) \
		eval '[[ $(fs_qlen "$LAB_I" i1) == 0 ]]'
	DRAIN_MS=$(($(fs_now_ms) - t0))
	((DRAIN_MS <= limit))
}

fs_section "spread: a stale entry's backlog drains within stale_after + 1 s"
check "flowshape: spread, 20 ms per quantum, stale_after 2s" \
	li tc qdisc add dev i1 root handle 1: flowshape stale_after 2s mode spread \
	congestion_threshold 0 congestion_weight 20ms max_delay 20ms \
	dest "$DST/32" congestion 1
t0=$(fs_now_ms)
burst
check "spread: a backlog of >= 300 packets builds" wait_for 5 fs_qlen_ge "$LAB_I" i1 300
q=$(fs_qlen "$LAB_I" i1)
fs_log "spread: backlog $q packets $(($(fs_now_ms) - t0)) ms after the update"
check "spread: drained within stale_after + 1 s of the update" drained_by "$t0" 3000
fs_log "spread: drained $DRAIN_MS ms after the update"
fs_xsnap "$LAB_I" i1
fs_log "spread: enqueued ${XS[enqueued]} released ${XS[released]} stale_packets ${XS[stale_packets]} drops ${XS[drops_flow_limit]}/${XS[drops_limit]}"
check "spread: the entry was stale for some of them (stale_packets > 0)" \
	test "${XS[stale_packets]:-0}" -gt 0
li tc qdisc del dev i1 root

fs_section "delay: a stale entry's backlog is re-timed within stale_after + 1 s"
check "flowshape: delay mode, 5 s, stale_after 2s" \
	li tc qdisc add dev i1 root handle 1: flowshape stale_after 2s mode delay \
	congestion_threshold 0 congestion_weight 5s max_delay 5s \
	dest "$DST/32" congestion 1
t0=$(fs_now_ms)
burst
check "delay: a backlog of >= 300 packets builds" wait_for 5 fs_qlen_ge "$LAB_I" i1 300
check "delay: drained within stale_after + 1 s of the update (not 5 s)" \
	drained_by "$t0" 3000
fs_log "delay: drained $DRAIN_MS ms after the update"
fs_xsnap "$LAB_I" i1
check "delay: waiting packets re-timed (retimed ${XS[retimed]} > 0)" \
	test "${XS[retimed]:-0}" -gt 0
li tc qdisc del dev i1 root

fs_section "delay: a lower max_delay re-times the backlog"
check "flowshape: delay mode, 5 s" \
	li tc qdisc add dev i1 root handle 1: flowshape stale_after 10s mode delay \
	congestion_threshold 0 congestion_weight 5s max_delay 5s \
	dest "$DST/32" congestion 1
burst
check "max_delay: a backlog of >= 300 packets builds" wait_for 5 fs_qlen_ge "$LAB_I" i1 300
# The whole burst is in before the change (nothing leaves before 5 s):
# the drain then measures the re-timing, not the sender's last packets
# plus their 100 ms (the burst's tail alone took ~0.8 s of the 1.1).
check "max_delay: the burst has been sent" wait_for 10 eval '! kill -0 "$BG_PID" 2>/dev/null'
q=$(fs_qlen "$LAB_I" i1)
fs_log "max_delay: backlog $q packets before the change"
t0=$(fs_now_ms)
check "max_delay: lowered to 100ms" li tc qdisc change dev i1 root flowshape max_delay 100ms
check "max_delay: drained within 1 s + 100 ms of the change" drained_by "$t0" 1100
fs_log "max_delay: drained $DRAIN_MS ms after the change"
li tc qdisc del dev i1 root

fs_section "TCP with GSO: nothing held once the entry is stale (+1 s)"
li ethtool -K i0 gro on >/dev/null 2>&1
li ethtool -K i1 gso on tso on >/dev/null 2>&1
lc ethtool -K c0 gso on tso on >/dev/null 2>&1
# 100 ms per 1514 B quantum: a 64 KB GSO packet's gap is ~4.3 s, so a
# window of them was scheduled tens of seconds ahead.
check "flowshape: spread, 100 ms per quantum, stale_after 2s" \
	li tc qdisc add dev i1 root handle 1: flowshape stale_after 2s mode spread \
	congestion_threshold 0 congestion_weight 100ms max_delay 100ms \
	dest "$DST/32" congestion 1
t0=$(fs_now_ms)
fs_bg "$LAB_C" iperf3 -c "$DST" -t 8 >/dev/null 2>&1
wait_for 10 eval '(($(fs_now_ms) - t0 >= 1500))'
fs_xsnap "$LAB_I" i1
fs_log "TCP: at +1.5 s (paced) qlen ${XS[qlen]} throttled_flows ${XS[throttled_flows]} next_release_ns ${XS[next_release_ns]}"
check "TCP: paced before the entry went stale (throttled_flows ${XS[throttled_flows]} > 0)" \
	test "${XS[throttled_flows]:-0}" -gt 0
# Up to stale_after + 1 s the flow may still be held; after, nothing is.
wait_for 10 eval '(($(fs_now_ms) - t0 >= 3500))'
fs_xsnap "$LAB_I" i1
fs_log "TCP: at +3.5 s qlen ${XS[qlen]} throttled_flows ${XS[throttled_flows]} next_release_ns ${XS[next_release_ns]} released ${XS[released]}"
check_eq "TCP: nothing held at +3.5 s (throttled_flows)" 0 "${XS[throttled_flows]}"
r1=${XS[released]}
wait_for 10 eval '(($(fs_now_ms) - t0 >= 5500))'
fs_xsnap "$LAB_I" i1
check "TCP: packets flow after it (released $r1 -> ${XS[released]} by +5.5 s)" \
	test "${XS[released]:-0}" -gt "${r1:-0}"
# GSO really passed: fewer skbs than segments sent.
sent=$(tc -n "$LAB_I" -s -j qdisc show dev i1 | jq '.[0].packets')
check "TCP: GSO packets passed (segments $sent > skbs ${XS[released]})" \
	test "${sent:-0}" -gt "${XS[released]:-0}"
li tc qdisc del dev i1 root

fs_done
