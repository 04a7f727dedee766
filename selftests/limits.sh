#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
#  9. limit and flow_limit drops are counted apart and account for every
#     lost packet: received + drops == sent, drops == drops_limit +
#     drops_flow_limit, enqueued == qdisc sent (spec "Invariant");
#     lowering the limit below the queue drops nothing already queued.
# 15. max_flows: flows beyond it share the overflow flow (counted, not
#     dropped); idle flows are garbage-collected after flow_idle.
#
# Packets queue because of a large delay-mode delay (no tbf needed); the
# veth pair is IPv4-only so that the qdisc carries the test's packets alone
# and every counter can be compared exactly.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip jq awk ping
fs_require_udpseq
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"

# run_burst PORT COUNT SENDER-ARGS...: a receiver, one back-to-back burst,
# wait for the queue to drain; RES = the receiver's line.
run_burst()
{
	local port=$1 count=$2 out
	shift 2
	out=$(fs_tmp)
	check "port $port: receiver ready" fs_recv_start "$port" "$out" -n "$count" -t 20000 -i 1500
	local rpid=$RECV_PID
	n0 "$UDPSEQ" send 10.100.0.2 "$port" "$count" "$@" >/dev/null
	wait "$rpid"
	# The counters are judged on an empty queue: wait for it, and fail
	# (instead of judging a queue still holding packets) if it never is.
	check "port $port: queue drained within 10 s" wait_for 10 fs_drained "$NS0" veth0
	RES=$(tail -n1 "$out")
	fs_log "$RES"
}

# accounting WHAT SENT: the invariants that hold after any run.
accounting()
{
	local what=$1 sent=$2 recv
	recv=$(kv received "$RES")
	fs_xsnap "$NS0" veth0
	fs_log "$what: drops=${XS[drops]} drops_limit=${XS[drops_limit]}" \
		"drops_flow_limit=${XS[drops_flow_limit]} enqueued=${XS[enqueued]} packets=${XS[packets]}"
	check_eq "$what: received + drops == sent" "$sent" $((recv + XS[drops]))
	check_eq "$what: drops == drops_limit + drops_flow_limit" "${XS[drops]}" \
		$((XS[drops_limit] + XS[drops_flow_limit]))
	check_eq "$what: enqueued + drops == sent" "$sent" $((XS[enqueued] + XS[drops]))
	check_eq "$what: enqueued == qdisc sent (queue empty)" "${XS[enqueued]}" "${XS[packets]}"
	check_eq "$what: released == enqueued, nothing purged (queue empty)" \
		"${XS[enqueued]} 0" "${XS[released]} ${XS[purged]}"
	check_eq "$what: qdisc sent == received" "${XS[packets]}" "$recv"
	check_eq "$what: no reordering" 0 "$(kv reordered "$RES")"
}

# Every packet held 500 ms (default_congestion: no entry that could go stale).
DELAY_ARGS=(mode delay congestion_weight 500ms congestion_threshold 0 load_weight 0
	max_delay 500ms default_congestion 1)

# --- 9a. limit: one flow of 100 against limit 20 --------------------------
fs_section "9a. limit: one flow of 100 against limit 20"
check "limit: qdisc limit 20, 500 ms delay" fs_fresh veth0 "${DELAY_ARGS[@]}" limit 20
run_burst 9000 100 -s 200
accounting "limit" 100
check "limit: the limit was hit (drops_limit ${XS[drops_limit]} > 0)" \
	test "${XS[drops_limit]}" -gt 0
check_eq "limit: no flow_limit drop" 0 "${XS[drops_flow_limit]}"

# --- 9b. flow_limit only: 4 flows of 20 against flow_limit 5 ----------------
fs_section "9b. flow_limit only: 4 flows of 20 against flow_limit 5"
check "flow_limit: qdisc limit 10000 flow_limit 5, 500 ms delay" \
	fs_fresh veth0 "${DELAY_ARGS[@]}" limit 10000 flow_limit 5
run_burst 9001 80 -s 200 -f 4 -b 40000
accounting "flow_limit" 80
check "flow_limit: the flow limit was hit (drops_flow_limit ${XS[drops_flow_limit]} > 0)" \
	test "${XS[drops_flow_limit]}" -gt 0
check_eq "flow_limit: no limit drop" 0 "${XS[drops_limit]}"
check_eq "flow_limit: every flow got through" 4 "$(kv flows "$RES")"

# --- 9c. a lower limit drops nothing already queued ---------------------
fs_section "9c. a lower limit drops nothing already queued"
# 5 s of delay: the 10 extra packets are sent right after the change, a
# few hundred ms under TCG (seconds on a loaded host), while the 50 are held.
check "lower: qdisc limit 100, 5 s delay" \
	fs_fresh veth0 mode delay congestion_weight 5s congestion_threshold 0 \
	load_weight 0 max_delay 5s limit 100 default_congestion 1
out=$(fs_tmp)
check "lower: receiver ready" fs_recv_start 9002 "$out" -n 60 -t 30000 -i 1500
rpid=$RECV_PID
n0 "$UDPSEQ" send 10.100.0.2 9002 50 -s 200 >/dev/null
check "lower: 50 packets queued" wait_for 5 fs_qlen_ge "$NS0" veth0 50
check "lower: change limit 5 with 50 queued" fs_change veth0 limit 5
# New packets while 50 > 5 are queued: over the limit, dropped.  The
# change itself drops nothing: all 50 are delivered, drops are the 10 only.
n0 "$UDPSEQ" send 10.100.0.2 9002 10 -s 200 >/dev/null
fs_xsnap "$NS0" veth0
check_eq "lower: the 10 sent over the new limit were dropped" 10 "${XS[drops_limit]}"
check_eq "lower: drops == drops_limit" "${XS[drops_limit]}" "${XS[drops]}"
wait "$rpid"
RES=$(tail -n1 "$out")
fs_log "$RES"
check_eq "lower: the 50 queued were delivered" 50 "$(kv received "$RES")"

# --- 15. max_flows and flow GC ------------------------------------------
fs_section "15. max_flows and flow GC"
FLOWS=50 PER=4 MAXF=10
check "max_flows: qdisc max_flows $MAXF" fs_fresh veth0 max_flows $MAXF
run_burst 9003 $((FLOWS * PER)) -s 100 -f $FLOWS -b 41000
accounting "max_flows" $((FLOWS * PER))
check_eq "max_flows: received == sent" $((FLOWS * PER)) "$(kv received "$RES")"
check_eq "max_flows: all $FLOWS flows got through" $FLOWS "$(kv flows "$RES")"
check "max_flows: flows ${XS[flows]} <= $MAXF" test "${XS[flows]}" -le $MAXF
check "max_flows: overflow_packets ${XS[overflow_packets]} > 0" \
	test "${XS[overflow_packets]}" -gt 0
# udpseq sends round-robin over its flows: the first MAXF packets create
# the MAXF flows, every packet of the other flows overflows.
check_eq "max_flows: overflow = packets of the flows beyond max_flows" \
	$(((FLOWS - MAXF) * PER)) "${XS[overflow_packets]}"
check_eq "max_flows: no drops" 0 "${XS[drops]}"

# Idle flows are freed once older than flow_idle.  The kernel collects
# them lazily, while a later packet's lookup walks their hash bucket: with
# one bucket every new packet's lookup passes them.  New traffic arrives
# later as one ping per try (each ping run is a new ICMP flow).
# gc_done FLOWS: one ping, then: something was collected and at most
# FLOWS flows are tracked.
gc_done()
{
	n0 ping -c 1 -W 1 -q 10.100.0.2 >/dev/null 2>&1
	local g f
	g=$(fs_xstat_text "$NS0" veth0 gc_flows)
	f=$(fs_xstat_text "$NS0" veth0 flows)
	[[ -n $g && -n $f ]] && ((g > 0 && f <= $1))
}
fs_section "15b. flow GC, one bucket"
check "gc/1 bucket: qdisc buckets 1 max_flows $MAXF" fs_fresh veth0 buckets 1 max_flows $MAXF
run_burst 9004 $((MAXF * 2)) -s 100 -f $MAXF -b 43000
check_eq "gc/1 bucket: $MAXF flows tracked" $MAXF "$(fs_xstat_text "$NS0" veth0 flows)"
check "gc/1 bucket: change flow_idle 100ms" fs_change veth0 flow_idle 100ms
# (A lookup collects the idle flows on its search path only, a few per
# packet: the count drops, it need not drop to 0 at once.)
check "gc/1 bucket: idle flows collected (flows < $MAXF) within 10 s" \
	wait_for 10 gc_done $((MAXF - 1))
fs_xsnap "$NS0" veth0
fs_log "gc/1 bucket: gc_flows=${XS[gc_flows]} flows=${XS[flows]}"
check "gc/1 bucket: gc_flows ${XS[gc_flows]} > 0" test "${XS[gc_flows]:-0}" -gt 0
check "gc/1 bucket: flows ${XS[flows]} < $MAXF" test "${XS[flows]:-99}" -lt $MAXF

# The spec: idle flows ARE freed (after flow_idle), whichever bucket later
# traffic hashes to.  Fill max_flows with flows that then go idle; new
# traffic arriving later must find room instead of overflowing forever.
fs_section "15c. flow GC, default buckets, max_flows full of idle flows"
check "gc/1024 buckets: qdisc max_flows $MAXF flow_idle 100ms" \
	fs_fresh veth0 max_flows $MAXF flow_idle 100ms
run_burst 9005 $((MAXF * 2)) -s 100 -f $MAXF -b 44000
check_eq "gc/1024 buckets: $MAXF flows tracked" $MAXF "$(fs_xstat_text "$NS0" veth0 flows)"
check "gc/1024 buckets: idle flows collected (flows < $MAXF) within 10 s" \
	wait_for 10 gc_done $((MAXF - 1))
fs_xsnap "$NS0" veth0
fs_log "gc/1024 buckets: gc_flows=${XS[gc_flows]} flows=${XS[flows]} overflow=${XS[overflow_packets]}"
check "gc/1024 buckets: gc_flows ${XS[gc_flows]} > 0" test "${XS[gc_flows]:-0}" -gt 0
ov=${XS[overflow_packets]}
run_burst 9006 20 -s 100 -f 5 -b 45000
check_eq "gc/1024 buckets: new flows after the idle ones do not overflow" \
	"$ov" "$(fs_xstat_text "$NS0" veth0 overflow_packets)"

# --- 9d. GSO: a TCP bulk transfer ------------------------------------------
# TCP over veth hands the qdisc GSO packets: one skb of many segments.
# enqueued, released, qlen and the drops count skbs (what limit and
# flow_limit bound); the qdisc's "sent N pkt" counts segments, as for
# every qdisc.  enqueued = released + purged + qlen must hold anyway.
fs_section "9d. GSO packets: counted once by flowshape, by segment in sent"
check "gso: flowshape with the defaults" fs_fresh veth0
out=$(fs_tmp)
RECV_MODE=tcprecv check "gso: receiver ready" fs_recv_start 5001 "$out" -t 60000
rpid=$RECV_PID
n0 "$UDPSEQ" tcpsend 10.100.0.2 5001 20000000 >/dev/null
wait "$rpid"
check_eq "gso: 20 MB received" received_bytes=20000000 "$(tail -n1 "$out")"
check "gso: queue drained" wait_for 10 fs_drained "$NS0" veth0
fs_xsnap "$NS0" veth0
fs_log "gso: enqueued=${XS[enqueued]} released=${XS[released]} purged=${XS[purged]}" \
	"qlen=${XS[qlen]} packets=${XS[packets]} bytes=${XS[bytes]} drops=${XS[drops]}"
check_eq "gso: enqueued = released + purged + qlen" \
	"${XS[enqueued]}" "$((XS[released] + XS[purged] + XS[qlen]))"
check_eq "gso: nothing dropped" 0 "${XS[drops]}"
# The test is only meaningful if the stack did send GSO packets.
check "gso: GSO packets passed (segments sent ${XS[packets]} > released ${XS[released]})" \
	test "${XS[packets]}" -gt "${XS[released]}"

fs_section "done"
fs_done
