#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lifecycle under traffic (Documentation/robustness.md):
#   A. add / change / replace / delete the qdisc, and replace it by another
#      kind and back, over and over while UDP flows through it;
#   B. rmmod / insmod over and over (no flowshape qdisc left) while traffic
#      flows through other qdiscs;
#   C. destination table churn (nlfuzz churn: thousands of entries, every
#      10 ms, in place and rebuilt) while pktgen makes many flows (one new
#      5-tuple per packet, as many as fit in the time: the number reached
#      is printed) through a delay-mode qdisc; then a buckets change,
#      refused above 16384 flows (EBUSY, with its message);
#   D. a flow flood (new 5-tuple per packet) stays within max_flows, with
#      the rest counted in overflow_packets, every packet accounted for,
#      the flow cache's objects within max_flows; with a short flow_idle,
#      idle flows are collected instead;
#   E. the device goes down and up with packets queued: purged, the
#      flows kept (a reset frees packets, not flows), and it forwards
#      again.
# The counters' invariants are checked after each part, and the kernel log
# must stay clean.  FLOWSHAPE_SOAK=1 (make soak) runs longer variants.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/robust-lib.sh"
fs_require_root
fs_require_cmd tc ip jq ping insmod rmmod
fs_require_udpseq
fs_require_nlfuzz
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"
fs_kill_ns "$NS0" "$NS1"
modprobe pktgen 2>/dev/null
problems0=$(fs_kernel_problems)

if ((SOAK)); then
	A_ITER=400 B_ITER=40 C_SECS=120 C_ENTRIES=8000 D_PKTS=400000 C_FLOWS_MAX=1048576
else
	A_ITER=20 B_ITER=3 C_SECS=8 C_ENTRIES=2000 D_PKTS=30000 C_FLOWS_MAX=262144
fi

# No IPv6 on the dummy: pktgen's packets alone in its qdisc (counted exactly).
fs_dummy "$NS0" dm0 v4only || fs_skip "no dummy device"

# ---------------------------------------------------------------------------
# A. qdisc lifecycle under traffic
out=$(fs_tmp)
fs_bg "$NS1" "$UDPSEQ" recv 9000 -t 3600000 -i 3600000 >"$out" 2>&1
check "A: receiver ready" wait_for 10 grep -q ready "$out"
fs_bg "$NS0" "$UDPSEQ" send 10.100.0.2 9000 100000000 -r 500 -f 16 -s 200 >/dev/null 2>&1
spid=$BG_PID

batch=$(fs_tmp)
{
	for ((i = 0; i < A_ITER; i++)); do
		case $((i % 4)) in
		0) mode=spread ;; 1) mode=delay ;; *) mode=spread ;;
		esac
		echo "qdisc replace dev veth0 root handle 1: flowshape mode $mode limit $((100 + i * 37)) buckets $((1 << (i % 12))) stale_after 10s"
		echo "qdisc change dev veth0 root flowshape dest 10.100.0.2 congestion 0.$((i % 10)) load 0.9 dest 10.100.$((i % 256)).0/24 congestion 1 dest fd00::/8 load 1"
		echo "qdisc change dev veth0 root flowshape max_delay $((i % 20))ms congestion_threshold 0 flow_limit $((1 + i % 50)) buckets $((1 << ((i + 5) % 14)))"
		echo "qdisc change dev veth0 root flowshape dest 10.100.$((i % 256)).0/24 delete"
		echo "qdisc change dev veth0 root flowshape flush_dests dest 10.100.0.0/16 congestion 0.5"
		if ((i % 3 == 0)); then
			# Another kind and back (a new handle each: the same
			# handle with another kind would be a change).
			echo "qdisc replace dev veth0 root handle 3: pfifo limit 1000"
			echo "qdisc replace dev veth0 root handle 1: flowshape"
		fi
		if ((i % 5 == 4)); then
			echo "qdisc del dev veth0 root"
			echo "qdisc add dev veth0 root handle 1: flowshape"
		fi
	done
} >"$batch"
nops=$(wc -l <"$batch")
t0=$SECONDS
check "A: $nops add/change/replace/delete operations under traffic (tc -b)" \
	n0 tc -b "$batch"
fs_log "A: $A_ITER rounds, $nops operations in $((SECONDS - t0)) s"
n0 tc qdisc replace dev veth0 root handle 1: flowshape stale_after 10s
check "A: traffic still flows after the churn (5 of 5 pings answered)" \
	fs_ping_all "$NS0" 10.100.0.2 5 0.1
fs_stop $spid
check_invariants "$NS0" veth0 "A"
n0 tc qdisc del dev veth0 root

# ---------------------------------------------------------------------------
# B. rmmod / insmod while traffic flows through other qdiscs
n0 tc qdisc replace dev veth0 root fq_codel
fs_bg "$NS0" "$UDPSEQ" send 10.100.0.2 9001 100000000 -r 300 -f 4 -s 200 >/dev/null 2>&1
spid=$BG_PID
ok_cycles=0
t0=$SECONDS
for ((i = 0; i < B_ITER; i++)); do
	t1=$(fs_now_ms)
	wait_for 20 fs_rmmod_ok || { fs_log "B: rmmod failed in round $i"; break; }
	t2=$(fs_now_ms)
	insmod "$FS_MODULE" || { fs_log "B: insmod failed in round $i"; break; }
	t3=$(fs_now_ms)
	# Use it briefly (on the dummy), then leave no flowshape qdisc.
	n0 tc qdisc add dev dm0 root handle 1: flowshape || break
	n0 tc qdisc del dev dm0 root || break
	((i == 0)) && fs_log "B: rmmod $((t2 - t1)) ms, insmod $((t3 - t2)) ms, use $(($(fs_now_ms) - t3)) ms"
	ok_cycles=$((ok_cycles + 1))
done
fs_log "B: $ok_cycles rmmod/insmod cycles in $((SECONDS - t0)) s"
check_eq "B: rmmod/insmod cycles under traffic" "$B_ITER" "$ok_cycles"
check "B: module loaded at the end" fs_loaded
check "B: traffic on the other qdisc kept flowing" \
	test "$(n0 tc -s -j qdisc show dev veth0 | jq '[.[] | select(.kind == "fq_codel")][0].packets')" -gt 0
fs_stop $spid
n0 tc qdisc del dev veth0 root 2>/dev/null

# ---------------------------------------------------------------------------
# C. destination table churn while many flows are active
check "C: delay-mode qdisc for many flows on dm0" \
	n0 tc qdisc replace dev dm0 root handle 1: flowshape mode delay \
	max_flows $C_FLOWS_MAX buckets 65536 flow_idle 3600s limit 100000 \
	max_dests 65535 max_delay 20ms congestion_threshold 0 load_threshold 0 \
	stale_after 10s
churn=$(fs_tmp)
fs_bg "$NS0" "$NLFUZZ" churn dm0 -e "$C_ENTRIES" -i 10 -t "$C_SECS" >"$churn" 2>&1
cpid=$BG_PID
# One random 5-tuple per packet, destinations across the churned prefixes.
sent=0 rounds=0 maxflows=0
t0=$SECONDS
while kill -0 $cpid 2>/dev/null; do
	res=$(fs_pktgen_ns "$NS0" dm0 40000 dst_min 10.0.1.0 dst_max 10.15.255.255 flag IPDST_RND \
		udp_src_min 1 udp_src_max 65535 flag UDPSRC_RND udp_dst_min 9 udp_dst_max 9)
	s=$(fs_pktgen_sent "$res")
	sent=$((sent + ${s:-0}))
	rounds=$((rounds + 1))
	f=$(fs_xstat_text "$NS0" dm0 flows)
	((f > maxflows)) && maxflows=$f
done
wait $cpid
crc=$?
# A buckets change moves every flow under the qdisc's tree lock (bottom
# halves off): above 16384 flows it is refused (EBUSY), with a message
# that says why and what to do; at or below, it is done.
cflows=$(fs_xstat_text "$NS0" dm0 flows)
t1=$(fs_now_ms)
if ((cflows > 16384)); then
	check_fail_msg "C: buckets change with $cflows flows (> 16384) refused, saying why" \
		'buckets cannot change with more than 16384 flows tracked.*replace the qdisc' \
		n0 tc qdisc change dev dm0 root flowshape buckets 1048576
	check_eq "C: buckets unchanged" 65536 "$(fs_qopt "$NS0" dm0 buckets)"
else
	check "C: rehash $cflows flows into 2^20 buckets" \
		n0 tc qdisc change dev dm0 root flowshape buckets 1048576
	check "C: and back into 1024" n0 tc qdisc change dev dm0 root flowshape buckets 1024
fi
fs_log "C: buckets change with $cflows flows: $(($(fs_now_ms) - t1)) ms"
sed 's/^/# /' "$churn" | tail -n 3
fs_log "C: pktgen sent $sent packets in $rounds runs during $((SECONDS - t0)) s; flows reached $maxflows"
check_eq "C: every churn message acked" 0 "$crc"
check "C: churn ran (ticks > 0)" test "$(kv ticks "$(tail -n1 "$churn")")" -gt 0
check "C: many flows active ($maxflows >= 10000)" test "$maxflows" -ge 10000
check "C: flows <= max_flows" test "$maxflows" -le "$C_FLOWS_MAX"
check "C: queue drained" wait_for 10 fs_drained "$NS0" dm0
check_invariants "$NS0" dm0 "C"
check_eq "C: every packet offered was queued or dropped" "$sent" \
	"$((XS[enqueued] + XS[drops]))"
n0 tc qdisc del dev dm0 root

# ---------------------------------------------------------------------------
# D. flow flood within max_flows, and the flow cache's memory
slab0=$(fs_slab_objs)
tol=$(fs_slab_tolerance)
MAXF=4096
check "D: qdisc with max_flows $MAXF, flow_idle 3600s" \
	n0 tc qdisc add dev dm0 root handle 1: flowshape max_flows $MAXF buckets 1024 flow_idle 3600s
res=$(fs_pktgen_ns "$NS0" dm0 "$D_PKTS" dst_min 10.0.0.1 dst_max 10.255.255.254 flag IPDST_RND \
	udp_src_min 1 udp_src_max 65535 flag UDPSRC_RND)
sent=$(fs_pktgen_sent "$res")
fs_log "D: pktgen: $res"
check "D: queue drained" wait_for 10 fs_drained "$NS0" dm0
slab1=$(fs_slab_objs)
check_invariants "$NS0" dm0 "D"
check_eq "D: every packet offered was queued or dropped" "$sent" "$((XS[enqueued] + XS[drops]))"
check_eq "D: flows capped at max_flows" "$MAXF" "${XS[flows]}"
check "D: the rest counted as overflow (${XS[overflow_packets]} >= $((sent - MAXF)) - collisions)" \
	test "${XS[overflow_packets]}" -ge "$((sent - MAXF - sent / 100))"
check_eq "D: no allocation failure" 0 "${XS[alloc_errors]}"
fs_log "D: flow cache $slab0 -> $slab1 objects (max_flows $MAXF, tolerance $tol)"
check "D: flow cache objects within max_flows ($((slab1 - slab0)) <= $MAXF + $tol)" \
	test "$((slab1 - slab0))" -le "$((MAXF + tol))"
n0 tc qdisc del dev dm0 root
slab2=$(fs_slab_objs)
check "D: flow cache back to baseline after delete ($slab2 vs $slab0 +- $tol)" \
	test "$slab2" -le "$((slab0 + tol))"

check "D: qdisc with max_flows $MAXF, flow_idle 1ms (idle flows collected)" \
	n0 tc qdisc add dev dm0 root handle 1: flowshape max_flows $MAXF buckets 256 flow_idle 1ms
res=$(fs_pktgen_ns "$NS0" dm0 "$D_PKTS" dst_min 10.0.0.1 dst_max 10.255.255.254 flag IPDST_RND \
	udp_src_min 1 udp_src_max 65535 flag UDPSRC_RND)
sent=$(fs_pktgen_sent "$res")
check "D/gc: queue drained" wait_for 10 fs_drained "$NS0" dm0
check_invariants "$NS0" dm0 "D/gc"
check_eq "D/gc: every packet offered was queued or dropped" "$sent" "$((XS[enqueued] + XS[drops]))"
check "D/gc: idle flows were collected (gc_flows ${XS[gc_flows]})" test "${XS[gc_flows]}" -gt 0
check "D/gc: flows <= max_flows (${XS[flows]})" test "${XS[flows]}" -le "$MAXF"
n0 tc qdisc del dev dm0 root

# ---------------------------------------------------------------------------
# E. device down and up with packets queued
# (2 s: the packets must still be queued when the device goes down,
# however slow TCG is between the two commands.)
check "E: 2 s delay qdisc on veth0" \
	n0 tc qdisc add dev veth0 root handle 1: flowshape mode delay stale_after 10s \
	congestion_weight 2s congestion_threshold 0 load_weight 0 max_delay 2s
check "E: dest congestion 1" fs_change veth0 dest 10.100.0.2 congestion 1
n0 "$UDPSEQ" send 10.100.0.2 9000 40 -f 8 -s 200 >/dev/null
check "E: packets queued" wait_for 5 fs_qlen_ge "$NS0" veth0 20
check "E: device down with packets queued" ip -n "$NS0" link set veth0 down
fs_xsnap "$NS0" veth0
check_eq "E: queue purged" 0 "${XS[qlen]}"
# A reset frees the packets and keeps the flows (idle, for the GC): its
# work is bounded by the packets queued, not by the flows.
check_eq "E: the 8 flows kept by the reset, none throttled" "8 0" \
	"${XS[flows]} ${XS[throttled_flows]}"
check "E: the purged packets are counted (purged ${XS[purged]} >= 20)" \
	test "${XS[purged]:-0}" -ge 20
check_invariants "$NS0" veth0 "E"
check "E: device up" ip -n "$NS0" link set veth0 up
mac1=$(n1 cat /sys/class/net/veth1/address)
ip -n "$NS0" neigh replace 10.100.0.2 lladdr "$mac1" dev veth0 nud permanent
check "E: veth0 up again" \
	wait_for 5 bash -c "ip netns exec $NS0 ip link show veth0 | grep -q 'state UP'"
out2=$(fs_tmp)
fs_bg "$NS1" "$UDPSEQ" recv 9002 -n 20 -t 20000 -i 3000 >"$out2" 2>&1
rpid=$BG_PID
check "E: receiver ready" wait_for 10 grep -q ready "$out2"
n0 "$UDPSEQ" send 10.100.0.2 9002 20 -s 200 >/dev/null
wait "$rpid"
check_eq "E: after up, delayed packets are delivered again" 20 "$(kv received "$(tail -n1 "$out2")")"
check_invariants "$NS0" veth0 "E/after"
n0 tc qdisc del dev veth0 root

check_eq "kernel log clean" "$problems0" "$(fs_kernel_problems)"
fs_done
