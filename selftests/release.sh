#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Release scheduling (spec "Departure times", "Release"):
#   EDT      a packet the stack stamped with an earliest departure time
#            (SO_TXTIME, CLOCK_MONOTONIC) in the future never leaves before
#            it, in spread and in delay mode, nor before the shaping delay
#            when that is later; a stamp within the horizon (10 s) is
#            honoured, one further out is dropped (drops_horizon), or with
#            horizon_drop 0 capped at the horizon (horizon_caps);
#   state    the scheduler's state by value: throttled_flows and
#            next_release_ns (xstats), and the watchdog's hrtimer as
#            /proc/timer_list shows it: armed for the earliest due time
#            exactly, with timer_slack as its range;
#   DRR      flows due at the same time share the link byte-fair whatever
#            their packet sizes.
#
# Shown failing on broken modules (see the commit message): a horizon of
# 20 s fails "10.3 s stamp dropped"; the module before the horizon
# parameter (stamps beyond 10 s ignored) fails both horizon checks; honouring no stamp fails every EDT
# check and the DRR one; a packet-fair round robin (credit -= quantum) fails
# the DRR byte share; arming the watchdog with slack 0 fails the timer
# range; next_release_ns without "- now" fails its bounds.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip jq awk
fs_require_udpseq
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"

mono() { "$UDPSEQ" now; }

# edt_one DESC OFFSET_US [MIN_LAT_US]: one packet stamped OFFSET_US ahead;
# it must arrive, not before its stamp, and not before MIN_LAT_US (default
# the offset) after it was sent; RES is the receiver's line.
edt_one()
{
	local desc=$1 off=$2 min=${3:-$2} out snd lat
	out=$(fs_tmp)
	fs_recv_start 9100 "$out" -n 1 -t 15000
	local rpid=$RECV_PID
	snd=$(n0 "$UDPSEQ" send 10.100.0.2 9100 1 -s 100 -T "$off")
	wait "$rpid"
	RES=$(tail -n1 "$out")
	fs_log "$desc: $snd / $RES"
	lat=$(kv lat_min_us "$RES")
	check_eq "$desc: received" 1 "$(kv received "$RES")"
	check_eq "$desc: not before its stamp (early_edt)" 0 "$(kv early_edt "$RES")"
	# The stamp is the sender's start + offset; the packet is sent a few
	# us after that start: 1 ms covers it.
	check "$desc: one-way latency ${lat} us >= $min - 1000 us" \
		test "${lat:-0}" -ge $((min - 1000))
	check "$desc: one-way latency ${lat} us < $min us + 1 s (TCG lateness bound)" \
		test "${lat:-999999999}" -lt $((min + 1000000))
}

# --- EDT honoured ---------------------------------------------------------
fs_section "EDT honoured"
check "edt: spread mode, no entries (no delay of its own)" fs_fresh veth0
edt_one "edt spread: 300 ms stamp" 300000
fs_xsnap "$NS0" veth0
check_eq "edt spread: counted delayed, not passed" "1 0" "${XS[delayed]} ${XS[passed]}"
check_eq "edt spread: no early release" 0 "${XS[early_releases]}"
check "edt: delay mode" fs_fresh veth0 mode delay
edt_one "edt delay: 300 ms stamp" 300000
# The shaping delay (100 ms) and the stamp: whichever is later wins.
check "edt: delay mode with 100 ms of delay for every packet" \
	fs_fresh veth0 mode delay congestion_weight 100ms congestion_threshold 0 \
	load_weight 0 max_delay 1s default_congestion 1
edt_one "edt delay 100 ms: 300 ms stamp (the stamp is later)" 300000
edt_one "edt delay 100 ms: 20 ms stamp (the delay is later)" 20000 100000
check_eq "edt: no early release" 0 "$(fs_xstat "$NS0" veth0 early_releases)"

# --- EDT horizon, and the scheduler's state by value ----------------------
fs_section "EDT horizon; throttled_flows, next_release_ns, the watchdog by value"
SLACK=3000000
check "state: spread mode, timer_slack 3ms" fs_fresh veth0 timer_slack 3ms
# Two flows: stamps 9.9 s and 8 s ahead; no receiver (they are purged).
# 9.9 s is honoured (the horizon is 10 s, and the packet reaches the
# qdisc a little after the sender took its start time).
snd99=$(n0 "$UDPSEQ" send 10.100.0.2 9101 1 -s 100 -T 9900000)
snd8=$(n0 "$UDPSEQ" send 10.100.0.2 9101 1 -s 100 -T 8000000)
T8=$(kv txtime_ns "$snd8")
# One dump, timed closely (jq after): its now is in [a, b].
a=$(mono)
dump=$(tc -n "$NS0" -s -j qdisc show dev veth0)
b=$(mono)
XS=()
while IFS='=' read -r k v; do
	[[ -n $k ]] && XS[$k]=$v
done <<<"$(jq -r '[.[] | select(.kind == "flowshape")][0] | to_entries[] |
	select(.value | type != "object" and type != "array") | "\(.key)=\(.value)"' <<<"$dump")"
fs_log "stamps: $(kv txtime_ns "$snd99") (9.9 s) $T8 (8 s); dump between $a and $b"
check_eq "state: both held (qlen 2, throttled_flows 2, released 0)" "2 2 0" \
	"${XS[qlen]} ${XS[throttled_flows]} ${XS[released]}"
check_eq "state: flows 2" 2 "${XS[flows]}"
# next_release_ns = earliest due - the dump's now, with now in [a, b].
check "state: next_release_ns ${XS[next_release_ns]} in [T8 - b, T8 - a] = [$((T8 - b)), $((T8 - a))]" \
	test "${XS[next_release_ns]:-0}" -ge $((T8 - b)) -a "${XS[next_release_ns]:-0}" -le $((T8 - a))
# The watchdog: armed for the 8 s stamp exactly, range = timer_slack.
tl=$(awk '/qdisc_watchdog/ { w = 1; next }
	w && /expires at/ { split($4, x, "-"); print x[1], x[2] } { w = 0 }' /proc/timer_list)
fs_log "qdisc_watchdog timers (soft hard): $(tr '\n' ' ' <<<"$tl")"
check_eq "state: a watchdog armed at the earliest stamp with timer_slack range" \
	"$T8 $((T8 + SLACK))" "$(awk -v t="$T8" '$1 == t' <<<"$tl" | head -n1)"
# 10.3 s: beyond the 10 s horizon (default horizon_drop 1): dropped at
# enqueue, counted.  (Under TCG the 8 s one may have left by now: only
# these counters are compared.)
n0 "$UDPSEQ" send 10.100.0.2 9102 1 -s 100 -T 10300000 >/dev/null
fs_xsnap "$NS0" veth0
check_eq "horizon: 10.3 s stamp dropped (drops_horizon 1, enqueued still 2)" "1 2" \
	"${XS[drops_horizon]} ${XS[enqueued]}"
check "state: qdisc replaced (purges the held packets)" fs_fresh veth0
fs_xsnap "$NS0" veth0
check_eq "state: nothing held: throttled_flows 0, next_release_ns 0" "0 0" \
	"${XS[throttled_flows]} ${XS[next_release_ns]}"

# horizon_drop 0: a stamp beyond the horizon is capped at it.  Horizon
# 1 s, stamp 3 s: the packet leaves after ~1 s (>= 1 s after it was
# sent, well before 3 s: TCG's noise is tens of ms).
check "horizon: horizon 1s horizon_drop 0" fs_fresh veth0 horizon 1s horizon_drop 0
out=$(fs_tmp)
fs_recv_start 9103 "$out" -n 1 -t 15000
rpid=$RECV_PID
snd=$(n0 "$UDPSEQ" send 10.100.0.2 9103 1 -s 100 -T 3000000)
wait "$rpid"
RES=$(tail -n1 "$out")
fs_log "horizon cap: $snd / $RES"
check_eq "horizon cap: 3 s stamp received" 1 "$(kv received "$RES")"
lat=$(kv lat_min_us "$RES")
check "horizon cap: held to the 1 s horizon, not 3 s (latency ${lat:-?} us in [1 s, 2.5 s))" \
	test "${lat:-0}" -ge 1000000 -a "${lat:-9999999}" -lt 2500000
fs_xsnap "$NS0" veth0
check_eq "horizon cap: horizon_caps 1, drops_horizon 0" "1 0" \
	"${XS[horizon_caps]} ${XS[drops_horizon]}"

# --- DRR: byte fairness ---------------------------------------------------
fs_section "DRR: byte fairness between flows of 242 and 1442 byte packets"
# Two flows, N packets each, sent interleaved and all stamped with the same
# departure time 2 s ahead: at that time both are ready at once with their
# whole backlog, and the order of release is the round robin's alone.
# DRR with quantum Q: while both are backlogged their byte counts differ
# by less than Q + the largest packet (each flow's credit stays within
# (-len, Q]); so when the small-packet flow sends its last byte the other
# has sent as many bytes +- 2956.  A packet-fair round robin (or FIFO)
# gives the large flow 1442/242 = 6x the bytes.
N=60 Q=1514
check "drr: spread mode, no entries, quantum $Q" fs_fresh veth0 quantum $Q
out=$(fs_tmp) log=$(fs_tmp)
fs_recv_start 9110 "$out" -n $((2 * N)) -t 20000 -i 3000 -l "$log"
rpid=$RECV_PID
snd=$(n0 "$UDPSEQ" send 10.100.0.2 9110 $((2 * N)) -f 2 -b 46000 -s 200,1400 -T 2000000)
wait "$rpid"
fs_log "drr: $snd / $(tail -n1 "$out")"
check "drr: every packet queued before the common departure (elapsed $(kv elapsed_us "$snd") us < 2 s)" \
	test "$(kv elapsed_us "$snd")" -lt 2000000
check_eq "drr: all received" $((2 * N)) "$(kv received "$(tail -n1 "$out")")"
check_eq "drr: none before its stamp" 0 "$(kv early_edt "$(tail -n1 "$out")")"
# Bytes as the qdisc counts them (+42: Ethernet, IPv4, UDP headers) of each
# flow up to the last packet of the flow that finished first.
read -r first b0 b1 <<<"$(awk '{ f[NR] = $1; len[NR] = $3 + 42; last[$1] = NR }
	END {
		end = last[0] < last[1] ? last[0] : last[1]
		for (i = 1; i <= end; i++) b[f[i]] += len[i]
		print (last[0] < last[1] ? 0 : 1), b[0] + 0, b[1] + 0
	}' "$log")"
fs_log "drr: flow $first finished first; bytes by then: flow0 (242 B) $b0, flow1 (1442 B) $b1"
check_eq "drr: the small-packet flow (fewer bytes) finishes first" 0 "$first"
check "drr: byte counts $b0 and $b1 differ by < quantum + 1442 = $((Q + 1442))" \
	test $((b0 > b1 ? b0 - b1 : b1 - b0)) -lt $((Q + 1442))

fs_section "done"
fs_done
