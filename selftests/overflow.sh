#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The shared overflow flow (spec "Flows"): past max_flows, or when a flow
# cannot be allocated, packets share one overflow flow that is never freed:
# counted (overflow_packets, alloc_errors), shaped as one aggregate, bounded
# by limit only (not flow_limit), never dropped for lack of a flow.
#
# Allocation failures are forced with the module's debug variant
# (build/module-debug/sch_flowshape_debug.ko, built by "make -C selftests"
# with -DFLOWSHAPE_DEBUG): its debug_fail_alloc parameter makes every flow
# allocation fail.  Debian's kernel has no CONFIG_FAILSLAB, and the
# production module has no such knob.  The test swaps the modules and puts
# the production module back when it ends.  FLOWSHAPE_DEBUG_MODULE names
# another debug build (to show the test failing on a broken one).
#
# Shown failing on broken modules (see the commit message): applying
# flow_limit to the overflow flow fails "bounded by limit only"; dropping a
# packet whose flow cannot be allocated fails every allocation check.
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
fs_section "max_flows reached: the overflow flow is bounded by limit only"
# max_flows 1, flow_limit 5, every packet held 300 ms: 3 flows x 10 packets,
# sent round robin.  The first packet makes flow 0 the one flow (it loses
# 5 packets to flow_limit); flows 1 and 2 share the overflow flow: 20
# packets queued there, more than flow_limit, none dropped.
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

# --- max_flows reached: shaped as one aggregate ---------------------------
fs_section "max_flows reached: the overflow flow is shaped as one aggregate"
# Spread mode, 10 ms per quantum-sized packet.  Flow 0 has a flow of its
# own: its 10th packet leaves 9 gaps (90 ms) after its first.  Flows 1 and
# 2 share the overflow flow, interleaved: 20 packets one gap apart, the
# first leaving on arrival: flow 1's last leaves 18 gaps after that, flow
# 2's 19 (were they shaped apart: 9).  Measured from the burst's first
# send (no later than any of those first departures) to each flow's last
# arrival (no earlier than its departure), these are exact lower bounds
# whatever the release lateness; no upper bound (a loaded host delays
# releases by up to 170 ms here).
GAP_MS=10 N=10
check "aggregate: spread mode, 10 ms per 1514 B, max_flows 1" \
	fs_fresh veth0 mode spread congestion_weight ${GAP_MS}ms congestion_threshold 0 \
	load_weight 0 max_delay 1s default_congestion 1 quantum 1514 max_flows 1
burst 9201 $((3 * N)) $((3 * N)) -f 3 -b 48100 -s "$(fs_udp_payload_for 1514)"
read -r e0 e1 e2 <<<"$(awk 'NR == 1 || $5 < s { s = $5 } $4 > z[$1] { z[$1] = $4 }
	END { printf "%d %d %d\n", (z[0] - s) / 1e6, (z[1] - s) / 1e6, (z[2] - s) / 1e6 }' "$LOG")"
fs_log "aggregate: last arrival after the first send (ms): flow0 $e0, flow1 $e1, flow2 $e2"
check_eq "aggregate: all received" $((3 * N)) "$(kv received "$RES")"
check "aggregate: overflowed flows 1, 2 end >= 18 and 19 gaps after the start ($e1, $e2 ms)" \
	test "$e1" -ge $((18 * GAP_MS)) -a "$e2" -ge $((19 * GAP_MS))
check "aggregate: flow 0, shaped alone, ends >= 9 gaps after the start ($e0 ms)" \
	test "$e0" -ge $((9 * GAP_MS))

# --- allocation failure: the debug module ---------------------------------
fs_section "allocation failure (debug module with debug_fail_alloc)"
DEBUG_KO=${FLOWSHAPE_DEBUG_MODULE:-$FS_TOP/build/module-debug/sch_flowshape_debug.ko}
KNOB=/sys/module/sch_flowshape_debug/parameters/debug_fail_alloc
check "the debug module is built ($DEBUG_KO: make -C selftests)" test -f "$DEBUG_KO"
[[ -f $DEBUG_KO ]] || fs_done
# Back to the production module at exit, whatever happened.
restore_module()
{
	[[ -w $KNOB ]] && echo 0 >"$KNOB"
	tc -n "$NS0" qdisc del dev veth0 root
	if grep -q '^sch_flowshape_debug ' /proc/modules; then
		wait_for 20 rmmod sch_flowshape_debug
	fi
	(fs_load_module) >/dev/null
}
fs_on_exit restore_module
tc -n "$NS0" qdisc del dev veth0 root
check "production module unloaded" wait_for 20 rmmod sch_flowshape
check "debug module loaded" insmod "$DEBUG_KO"
check "debug knob present" test -w "$KNOB"
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
