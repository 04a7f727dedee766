#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The shared overflow flows (spec "Flows"): past max_flows, or when a flow
# cannot be allocated, packets share 16 overflow flows (by flow hash) that
# are never freed: counted (overflow_packets, alloc_errors), each packet
# shaped with its own destination's delay (looked up per packet, not the
# first packet's for all), bounded together by overflow_limit (not
# flow_limit; drops_overflow), never dropped for lack of a flow.
#
# Allocation failures are forced with the module's debug variant
# (build/module-debug/sch_flowshape_debug.ko, built by "make -C selftests"
# with -DFLOWSHAPE_DEBUG): its debug_fail_alloc parameter makes every flow
# allocation fail.  Debian's kernel has no CONFIG_FAILSLAB, and the
# production module has no such knob.  The test swaps the modules and puts
# the production module back when it ends.  FLOWSHAPE_DEBUG_MODULE names
# another debug build (to show the test failing on a broken one).
#
# Shown failing on broken modules (see the commit messages): applying
# flow_limit to the overflow flow fails "not bounded by flow_limit";
# dropping a packet whose flow cannot be allocated fails every allocation
# check; the module of before issue 16 (one overflow flow that keeps its
# first packet's destination, bounded by limit only) fails "each packet
# its own destination" (delayed 11, not 1) and the overflow_limit section.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip jq awk insmod rmmod
fs_require_udpseq
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"

# burst PORT SEND RECV SENDER-ARGS...: a receiver for RECV packets (arrival
# log in LOG), one back-to-back burst of SEND, wait for the queue to drain;
# RES = the receiver's line.
burst()
{
	local port=$1 count=$2 expect=$3 out
	shift 3
	out=$(fs_tmp) LOG=$(fs_tmp)
	fs_recv_start "$port" "$out" -n "$expect" -t 20000 -i 1500 -l "$LOG"
	local rpid=$RECV_PID
	n0 "$UDPSEQ" send 10.100.0.2 "$port" "$count" "$@" >/dev/null
	wait "$rpid"
	check "queue drained" wait_for 10 fs_drained "$NS0" veth0
	RES=$(tail -n1 "$out")
	fs_log "$RES"
}

# --- max_flows reached: bounded by limit only -----------------------------
fs_section "max_flows reached: the overflow flows are not bounded by flow_limit"
# max_flows 1, flow_limit 5, every packet held 300 ms: 3 flows x 10 packets,
# sent round robin.  The first packet makes flow 0 the one flow (it loses
# 5 packets to flow_limit); flows 1 and 2 take the overflow flows: 20
# packets queued there (in one or two of them), more than flow_limit,
# fewer than overflow_limit (default 1000), none dropped.
check "max_flows 1 flow_limit 5, delay mode 300 ms" \
	fs_fresh veth0 mode delay congestion_weight 300ms congestion_threshold 0 \
	load_weight 0 max_delay 300ms default_congestion 1 max_flows 1 flow_limit 5
burst 9200 30 25 -f 3 -b 48000 -s 100
fs_xsnap "$NS0" veth0
check_eq "max_flows: one flow tracked" 1 "${XS[flows]}"
check_eq "max_flows: overflow_packets = the 20 packets of flows 1 and 2" 20 "${XS[overflow_packets]}"
check_eq "max_flows: drops = drops_flow_limit = 5 (flow 0's)" "5 5" \
	"${XS[drops]} ${XS[drops_flow_limit]}"
check_eq "max_flows: no allocation failed" 0 "${XS[alloc_errors]}"
check_eq "max_flows: received 25 (all 20 overflowed ones)" 25 "$(kv received "$RES")"
check_eq "max_flows: every flow's packets in order" 0 "$(kv reordered "$RES")"

# --- max_flows reached: overflowed packets are shaped --------------------
fs_section "max_flows reached: the overflowed flows are shaped"
# Spread mode, 10 ms per quantum-sized packet.  Flow 0 has a flow of its
# own: its 10th packet leaves 9 gaps (90 ms) after its first.  Flows 1 and
# 2 take the overflow flows: each overflow flow is paced as a flow, so
# each of them ends at least 9 gaps after its first packet too (18 and 19
# if they hash into the same overflow flow, interleaved).  Measured from
# the burst's first send (no later than any of those first departures) to
# each flow's last arrival (no earlier than its departure), these are
# exact lower bounds whatever the release lateness; no upper bound (a
# loaded host delays releases by up to 170 ms here).
GAP_MS=10 N=10
check "aggregate: spread mode, 10 ms per 1514 B, max_flows 1" \
	fs_fresh veth0 mode spread congestion_weight ${GAP_MS}ms congestion_threshold 0 \
	load_weight 0 max_delay 1s default_congestion 1 quantum 1514 max_flows 1
burst 9201 $((3 * N)) $((3 * N)) -f 3 -b 48100 -s "$(fs_udp_payload_for 1514)"
read -r e0 e1 e2 <<<"$(awk 'NR == 1 || $5 < s { s = $5 } $4 > z[$1] { z[$1] = $4 }
	END { printf "%d %d %d\n", (z[0] - s) / 1e6, (z[1] - s) / 1e6, (z[2] - s) / 1e6 }' "$LOG")"
fs_log "aggregate: last arrival after the first send (ms): flow0 $e0, flow1 $e1, flow2 $e2"
check_eq "aggregate: all received" $((3 * N)) "$(kv received "$RES")"
check "aggregate: overflowed flows 1, 2 end >= 9 gaps after the start ($e1, $e2 ms)" \
	test "$e1" -ge $((9 * GAP_MS)) -a "$e2" -ge $((9 * GAP_MS))
check "aggregate: flow 0, shaped alone, ends >= 9 gaps after the start ($e0 ms)" \
	test "$e0" -ge $((9 * GAP_MS))

# --- each overflowed packet takes its own destination's delay -------------
fs_section "overflow: each packet its own destination's delay"
# max_flows 1; 10.100.0.3 is delayed 300 ms, 10.100.0.2 not.  One packet
# takes the one flow; a packet of a new flow to .3 overflows and is
# delayed; once it has left, packets of 10 new flows to .2 overflow too
# and must pass undelayed: the overflow flows look each packet's
# destination up, they do not keep the first one's for all.
check "own destination: peer address 10.100.0.3" fs_peer_addr 10.100.0.3
check "own destination: delay mode, 10.100.0.3 delayed 300 ms, max_flows 1" \
	fs_fresh veth0 mode delay congestion_weight 300ms congestion_threshold 0 \
	load_weight 0 max_delay 300ms max_flows 1 dest 10.100.0.3 congestion 1
n0 "$UDPSEQ" send 10.100.0.2 9210 1 -b 48400 -s 100 >/dev/null
n0 "$UDPSEQ" send 10.100.0.3 9211 1 -b 48401 -s 100 >/dev/null
check "own destination: the delayed packet left" wait_for 10 fs_drained "$NS0" veth0
n0 "$UDPSEQ" send 10.100.0.2 9212 10 -f 10 -b 48410 -s 100 >/dev/null
check "own destination: queue drained" wait_for 10 fs_drained "$NS0" veth0
fs_xsnap "$NS0" veth0
fs_log "own destination: flows=${XS[flows]} overflow_packets=${XS[overflow_packets]}" \
	"passed=${XS[passed]} delayed=${XS[delayed]}"
check_eq "own destination: 11 packets overflowed" 11 "${XS[overflow_packets]}"
check_eq "own destination: only the packet to .3 delayed (delayed, passed)" "1 11" \
	"${XS[delayed]} ${XS[passed]}"

# --- overflow_limit bounds the overflow flows together ---------------------
fs_section "overflow_limit: the overflow flows bounded together"
# As the first section with overflow_limit 12: of the 20 packets of flows
# 1 and 2, 12 are queued in the overflow flows and 8 dropped
# (drops_overflow); flow 0 loses 5 to flow_limit as before.
check "overflow_limit: max_flows 1 flow_limit 5 overflow_limit 12, 300 ms" \
	fs_fresh veth0 mode delay congestion_weight 300ms congestion_threshold 0 \
	load_weight 0 max_delay 300ms default_congestion 1 max_flows 1 flow_limit 5 \
	overflow_limit 12
check_eq "overflow_limit: shown" 12 "$(fs_qopt "$NS0" veth0 overflow_limit)"
burst 9213 30 17 -f 3 -b 48500 -s 100
fs_xsnap "$NS0" veth0
fs_log "overflow_limit: drops=${XS[drops]} drops_overflow=${XS[drops_overflow]}" \
	"drops_flow_limit=${XS[drops_flow_limit]} overflow_packets=${XS[overflow_packets]}"
check_eq "overflow_limit: overflow_packets 12, drops_overflow 8, drops_flow_limit 5" \
	"12 8 5" "${XS[overflow_packets]} ${XS[drops_overflow]} ${XS[drops_flow_limit]}"
check_eq "overflow_limit: drops = drops_flow_limit + drops_overflow" 13 "${XS[drops]}"
check_eq "overflow_limit: received 17" 17 "$(kv received "$RES")"
check "overflow_limit: tc -s prints drops_overflow" \
	grep -q ' drops_overflow 8 ' <<<"$(tc -n "$NS0" -s qdisc show dev veth0) "

# --- allocation failure: the debug module ---------------------------------
fs_section "allocation failure (debug module with debug_fail_alloc)"
fs_debug_module "$NS0" veth0 debug_fail_alloc
check "the production module has no such knob" \
	bash -c "! modinfo -p '$FS_MODULE' 2>/dev/null | grep -q debug_fail_alloc"
check "alloc: delay mode 300 ms, flow_limit 5" \
	fs_fresh veth0 mode delay congestion_weight 300ms congestion_threshold 0 \
	load_weight 0 max_delay 300ms default_congestion 1 flow_limit 5
echo 1 >"$KNOB"
# 3 flows x 10: no flow can be allocated, each packet tries and fails, and
# all 30 share the overflow flow: none dropped (not even by flow_limit).
burst 9202 30 30 -f 3 -b 48200 -s 100
fs_xsnap "$NS0" veth0
check_eq "alloc: no flow tracked" 0 "${XS[flows]}"
check_eq "alloc: alloc_errors = overflow_packets = 30 (one try per packet)" "30 30" \
	"${XS[alloc_errors]} ${XS[overflow_packets]}"
check_eq "alloc: nothing dropped" 0 "${XS[drops]}"
check_eq "alloc: all 30 received, in order" "30 0" \
	"$(kv received "$RES") $(kv reordered "$RES")"
check "alloc: the overflowed packets were shaped (delayed ${XS[delayed]} = 30)" \
	test "${XS[delayed]}" -eq 30
echo 0 >"$KNOB"
burst 9203 12 12 -f 3 -b 48300 -s 100
fs_xsnap "$NS0" veth0
check_eq "alloc: allocations work again (3 flows), no new error or overflow" "3 30 30" \
	"${XS[flows]} ${XS[alloc_errors]} ${XS[overflow_packets]}"

fs_section "done"
fs_done
