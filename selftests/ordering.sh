#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
#  7. Departures within a flow never go backwards: cutting a large delay to
#     0 while packets are queued reorders nothing, loses nothing, in delay
#     and in spread mode.
# 10. "tc qdisc change" of many parameters while a stream flows loses
#     nothing, reorders nothing, and never resets the counters (enqueued is
#     monotonic across changes and ends equal to what was sent).
#
# The veth pair is IPv4-only so that the qdisc carries the test's packets
# alone and counters can be compared exactly.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip jq awk
fs_require_udpseq
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"

# --- 7a. delay mode: 200 ms delay cut to 0 mid-stream --------------------
fs_section "7a. delay mode: 200 ms delay cut to 0 mid-stream"
# 200 pps for 5 s: with 200 ms of delay ~40 packets are in the queue at any
# time; cut once at least 10 are.  (Polling and tc take 1-3 s under TCG
# with the stream running on a loaded host: the stream is long enough.)
COUNT=1000
check "cut/delay: qdisc delay mode, 200 ms for 10.100.0.2" \
	fs_fresh veth0 mode delay congestion_weight 200ms congestion_threshold 0 \
	load_weight 0 max_delay 200ms
check "cut/delay: dest congestion 1" fs_change veth0 dest 10.100.0.2 congestion 1
out=$(fs_tmp)
check "receiver on port 9000 ready" fs_recv_start 9000 "$out" -n $COUNT -t 30000 -i 3000
rpid=$RECV_PID
fs_bg "$NS0" "$UDPSEQ" send 10.100.0.2 9000 $COUNT -r 200 -s 200 >/dev/null
spid=$BG_PID
check "cut/delay: packets queued before the cut" \
	wait_for 10 fs_qlen_ge "$NS0" veth0 10
check "cut/delay: entry cut to congestion 0 mid-stream" \
	fs_change veth0 dest 10.100.0.2 congestion 0
cut_enq=$(fs_xstat_text "$NS0" veth0 enqueued)
fs_log "enqueued just after the cut: $cut_enq"
check "cut/delay: at least 0.5 s of stream after the cut ($cut_enq <= $COUNT - 100)" \
	test "$cut_enq" -le $((COUNT - 100))
wait "$spid" "$rpid"
res=$(tail -n1 "$out")
fs_log "$res"
check_eq "cut/delay: received == sent" $COUNT "$(kv received "$res")"
check_eq "cut/delay: no reordering" 0 "$(kv reordered "$res")"
check_eq "cut/delay: no duplicates" 0 "$(kv duplicates "$res")"
# The scenario really happened: early packets waited the full 200 ms, late
# ones (sent > 200 ms after the cut) went through at once.
check "cut/delay: before the cut delayed (max latency $(kv lat_max_us "$res") us >= 190 ms)" \
	test "$(kv lat_max_us "$res")" -ge 190000
check "cut/delay: after the cut fast (min latency $(kv lat_min_us "$res") us < 100 ms)" \
	test "$(kv lat_min_us "$res")" -lt 100000
check_eq "cut/delay: qdisc sent all" $COUNT "$(fs_xstat "$NS0" veth0 packets)"

# --- 7b. spread mode: 10 ms per quantum-sized packet cut to 0 -----------
fs_section "7b. spread mode: 10 ms per quantum-sized packet cut to 0"
# 200 pps offered, 100 pps allowed: the queue grows by 100 packets/s.
COUNT=600 RATE=200 GAP_MS=10
check "cut/spread: qdisc spread mode, lw ${GAP_MS}ms, quantum 1514" \
	fs_fresh veth0 mode spread load_weight ${GAP_MS}ms load_threshold 0 \
	congestion_weight 0 max_delay 1s quantum 1514
check "cut/spread: dest load 1" fs_change veth0 dest 10.100.0.2 load 1
out=$(fs_tmp)
check "receiver on port 9001 ready" fs_recv_start 9001 "$out" -n $COUNT -t 30000 -i 3000
rpid=$RECV_PID
fs_bg "$NS0" "$UDPSEQ" send 10.100.0.2 9001 $COUNT -r $RATE -s "$(fs_udp_payload_for 1514)" >/dev/null
spid=$BG_PID
check "cut/spread: packets queued before the cut" \
	wait_for 10 fs_qlen_ge "$NS0" veth0 10
check "cut/spread: entry cut to load 0 mid-stream" \
	fs_change veth0 dest 10.100.0.2 load 0
cut_enq=$(fs_xstat_text "$NS0" veth0 enqueued)
fs_log "enqueued just after the cut: $cut_enq"
wait "$spid" "$rpid"
res=$(tail -n1 "$out")
fs_log "$res"
check_eq "cut/spread: received == sent" $COUNT "$(kv received "$res")"
check_eq "cut/spread: no reordering" 0 "$(kv reordered "$res")"
check_eq "cut/spread: no duplicates" 0 "$(kv duplicates "$res")"
# Uncut, the flow takes (COUNT-1) * gap.  Cut, the packets already
# waiting follow at the new rate too (spread mode times a packet when it
# becomes its flow's head): it takes the sender's time, or until the cut
# when that came later (cut_enq / RATE after the start); 20% + 300 ms for
# TCG.  (When due times were fixed at enqueue, what arrived before the cut
# kept its spreading: cut_enq * gap.)  The bound must stay below the
# uncut span to mean anything.
uncut_us=$(((COUNT - 1) * GAP_MS * 1000))
bound_us=$(awk -v e="$cut_enq" -v n=$COUNT -v r=$RATE 'BEGIN {
	a = e / r * 1e6; b = n / r * 1e6; printf "%.0f", (a > b ? a : b) * 1.2 + 300000 }')
check "cut/spread: the cut mattered ($bound_us us bound < uncut $uncut_us us)" \
	test "$bound_us" -lt "$uncut_us"
check "cut/spread: the cut took effect (span $(kv span_us "$res") us < $bound_us us)" \
	test "$(kv span_us "$res")" -lt "$bound_us"
check "cut/spread: it was shaped before the cut (max latency $(kv lat_max_us "$res") us >= 5 gaps)" \
	test "$(kv lat_max_us "$res")" -ge $((5 * GAP_MS * 1000))

# --- 10. change while a stream flows --------------------------------------
fs_section "10. change while a stream flows"
# 300 pps for 6 s; every change is followed by one stats read (~0.1-0.3 s
# each under TCG), all well inside the stream.
COUNT=1800
check "change: qdisc delay mode, 10 ms for 10.100.0.2" \
	fs_fresh veth0 mode delay congestion_weight 20ms congestion_threshold 0 \
	load_weight 10ms load_threshold 0 max_delay 100ms
check "change: dest congestion 0.5" fs_change veth0 dest 10.100.0.2 congestion 0.5
out=$(fs_tmp)
check "receiver on port 9002 ready" fs_recv_start 9002 "$out" -n $COUNT -t 40000 -i 3000
rpid=$RECV_PID
fs_bg "$NS0" "$UDPSEQ" send 10.100.0.2 9002 $COUNT -r 300 -s 300 >/dev/null
spid=$BG_PID
check "change: stream started" wait_for 10 fs_xstat_ge "$NS0" veth0 enqueued 1
# Six changes of everything changeable, no stats read in between (each tc
# run costs up to ~0.5 s under TCG with the stream running): enqueued is
# read before, in the middle and after.
changes=(
	"congestion_weight 30ms load_weight 5ms limit 20000 flow_limit 5000"
	"mode spread"
	"quantum 3000 timer_slack 50us"
	"mode delay smoothing 0.3 max_delay 40ms"
	"dest 10.100.0.2 congestion 0.9 load 0.2 congestion_threshold 0.1 load_threshold 0.1"
	"flow_idle 1s stale_after 5s default_congestion 0.1"
)
e0=$(fs_xstat_text "$NS0" veth0 enqueued)
i=0
for c in "${changes[@]}"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	check "change $i mid-stream: $c" fs_change veth0 $c
	((i == 3)) && e1=$(fs_xstat_text "$NS0" veth0 enqueued)
done
e2=$(fs_xstat_text "$NS0" veth0 enqueued)
fs_log "enqueued: before $e0, after change 3 $e1, after change 6 $e2"
mono=0
((e0 > 0 && e1 >= e0 && e2 >= e1)) && mono=1
last_during=$e2
wait "$spid" "$rpid"
res=$(tail -n1 "$out")
fs_log "$res"
check "change: the changes happened while the stream flowed ($last_during < $COUNT)" \
	test "$last_during" -lt $COUNT
check_eq "change: enqueued monotonic across changes (never reset)" 1 $mono
check_eq "change: received == sent" $COUNT "$(kv received "$res")"
check_eq "change: no reordering" 0 "$(kv reordered "$res")"
check_eq "change: no duplicates" 0 "$(kv duplicates "$res")"
fs_xsnap "$NS0" veth0
check_eq "change: enqueued counts the whole stream (not reset)" $COUNT "${XS[enqueued]}"
check_eq "change: qdisc sent the whole stream" $COUNT "${XS[packets]}"
check_eq "change: nothing dropped" 0 "${XS[drops]}"
check "change: the parameters took effect" fs_jq_true '
	.options.mode == "delay" and .options.quantum == 3000 and
	.options.limit == 20000 and .options.max_delay == 40000000 and
	.options.flow_idle == 1000000000' "$(fs_qjson "$NS0" veth0)"

fs_section "done"
fs_done
