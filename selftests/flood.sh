#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A new-flow flood above max_flows (issue 16, point 4): the flows the
# qdisc tracks keep their throughput, and none of their packets is
# dropped, while a flood of new flows (pktgen, a random source port per
# packet) overflows max_flows toward a destination delayed 1 s.
#
# Before issue 16 the flood's packets shared one overflow flow that kept
# its first packet's destination and was bounded by limit only: it filled
# limit, and then the established flows' packets were dropped too.  Now
# they spread over 16 overflow flows bounded together by overflow_limit
# (default 1000, below limit 2000 here), so the flood is dropped
# (drops_overflow) and the established flows keep the rest of limit.
#
# An end-to-end test: run in an -icount boot (selftests/Makefile,
# TEST_PROGS_E2E), where the guest's one CPU runs at a steady rate
# whatever else the host runs, so that the sender keeps its schedule in
# both runs and the throughput comparison measures the qdisc.
#
# Shown failing on the module of before issue 16 (see the commit message).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/robust-lib.sh"
fs_require_root
fs_require_cmd tc ip jq awk
fs_require_udpseq
fs_load_module
modprobe pktgen 2>/dev/null || fs_skip "no pktgen"
fs_netns_pair v4only || fs_skip "cannot build the veth pair"
fs_kill_ns "$NS0" "$NS1"
problems0=$(fs_kernel_problems)

# The established traffic: 4 UDP flows to 10.100.0.2 (no entry: not
# delayed), 1000 packets/s in all for 4 s, paced on a fixed schedule.
EST_FLOWS=4 EST_PPS=1000 EST_N=4000
# The flood: new flows to 10.0.0.3 (delayed 1 s) at up to 5000 packets/s
# (pktgen sleeps 200 us between packets: it leaves the CPU to the
# sender), 15000 packets (3 s).  Delayed 1 s, 2000 of them would fill
# limit within 0.4 s.
FLOOD_N=${FLOWSHAPE_FLOOD_N:-15000} FLOOD_GAP_NS=200000
# The tolerance on throughput: the established flows' rate in the flood
# run within 10% of the baseline run's.  Both runs send the same packets
# on the same schedule (udpseq -r catches up after a late wake-up), so
# the rate differs only by what the qdisc drops or holds back; under
# -icount the guest's clock does not depend on the host's load.
TOL=0.10

check "qdisc: delay mode, 10.0.0.3 delayed 1 s, limit 2000, max_flows 64" \
	fs_fresh veth0 mode delay congestion_weight 1s congestion_threshold 0 \
	load_weight 0 max_delay 1s limit 2000 max_flows 64 \
	dest 10.0.0.3 congestion 1

# run NAME PORT FLOOD: the established flows, with a flood or without;
# RES = the receiver's line.
run()
{
	local name=$1 port=$2 flood=$3 out pgout rpid spid
	out=$(fs_tmp) pgout=$(fs_tmp)
	check "$name: receiver ready" \
		fs_recv_start "$port" "$out" -n "$EST_N" -t 60000 -i 5000
	rpid=$RECV_PID
	fs_bg "$NS0" "$UDPSEQ" send 10.100.0.2 "$port" "$EST_N" -f "$EST_FLOWS" \
		-b 49000 -r "$EST_PPS" -s 200
	spid=$BG_PID
	if ((flood)); then
		# The established flows first: they are tracked when the
		# flood comes.
		sleep 0.5
		fs_pktgen_ns "$NS0" veth0 "$FLOOD_N" dst_min 10.0.0.3 dst_max 10.0.0.3 \
			udp_src_min 1 udp_src_max 65535 flag UDPSRC_RND \
			udp_dst_min 9 udp_dst_max 9 delay "$FLOOD_GAP_NS" >"$pgout"
		fs_log "$name: pktgen: $(cat "$pgout")"
		FLOOD_SENT=$(fs_pktgen_sent "$(cat "$pgout")")
	fi
	wait "$spid"
	wait "$rpid"
	RES=$(tail -n1 "$out")
	fs_log "$name: $RES"
}

# rate: packets/s of the receiver's line RES.
rate()
{
	awk -v n="$(kv received "$RES")" -v s="$(kv span_us "$RES")" \
		'BEGIN { printf "%.1f\n", (s > 0 ? n * 1e6 / s : 0) }'
}

fs_section "baseline: the established flows alone"
run baseline 9500 0
base_n=$(kv received "$RES")
base_rate=$(rate)
check_eq "baseline: every packet received" "$EST_N" "$base_n"

fs_section "the established flows under a new-flow flood"
# (The entry is refreshed: stale_after is 10 s and the baseline took 5.)
check "flood: 10.0.0.3 refreshed" fs_change veth0 dest 10.0.0.3 congestion 1
fs_xsnap "$NS0" veth0
d0=${XS[drops]}
run flood 9501 1
flood_n=$(kv received "$RES")
flood_rate=$(rate)
check "flood: drained" wait_for 20 fs_drained "$NS0" veth0
fs_xsnap "$NS0" veth0
fs_log "flood: sent=${FLOOD_SENT:-?} flows=${XS[flows]} overflow_packets=${XS[overflow_packets]}" \
	"drops=${XS[drops]} drops_limit=${XS[drops_limit]} drops_flow_limit=${XS[drops_flow_limit]}" \
	"drops_overflow=${XS[drops_overflow]} gc_flows=${XS[gc_flows]}"
fs_log "rate: baseline $base_rate pkt/s, under the flood $flood_rate pkt/s (tolerance $TOL)"
# The flood was a flood: more new flows than max_flows, and more of them
# queued at once than the overflow may hold.
check "flood: flows overflowed max_flows (overflow_packets ${XS[overflow_packets]} > 1000)" \
	test "${XS[overflow_packets]:-0}" -gt 1000
check "flood: it outran the overflow's bound (drops_overflow ${XS[drops_overflow]:-?} > 0)" \
	test "${XS[drops_overflow]:-0}" -gt 0
check_eq "flood: no established packet lost (received of $EST_N)" "$EST_N" "$flood_n"
check_eq "flood: no packet dropped for limit or flow_limit" "0 0" \
	"${XS[drops_limit]} ${XS[drops_flow_limit]}"
check "flood: established throughput within 10% ($flood_rate vs $base_rate pkt/s)" \
	fcmp "$flood_rate >= (1 - $TOL) * $base_rate && $flood_rate <= (1 + $TOL) * $base_rate"
check_eq "flood: no reordering" 0 "$(kv reordered "$RES")"
check_invariants "$NS0" veth0 "flood"

check_eq "kernel log clean" "$problems0" "$(fs_kernel_problems)"
fs_done
