#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The delay model, end to end (spec "Model"):
#   1. no entry, no delay, whatever the weights (spread and delay mode);
#   2. delay mode adds cw*c' + lw*l' to the echo request (ping RTT);
#   3. spread mode spaces a flow's packets by delay*len/quantum, and leaves
#      a flow to an unaffected destination alone;
#   4. levels at or below a threshold give no delay (exactly: 0 ns listed,
#      no packet delayed), one ppm above it already the rescaled amount,
#      and a threshold of 1 disables the term;
#   5. max_delay caps the delay;
#   6. smoothing makes a flow's delay converge geometrically;
#  16. release accuracy: no early release, bounded lateness.
#
# Expected delays come from fs_formula_ns (the spec's formula), never from
# the qdisc's own output.  RTT bounds: the lower one is exact (min RTT >=
# delay - 1 ms: a packet can never leave early, 1 ms covers the ppm/us
# rounding of ping's output); the upper one is the same run's baseline RTT
# plus FS_TOL_MS (default 15 ms): TCG makes veth RTTs jump to ~20 ms now and
# then, but the minimum and the median stay within a few ms of the truth.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip ping jq awk
fs_require_udpseq
fs_load_module
fs_netns_pair || fs_skip "cannot build the veth pair"

TOL=${FS_TOL_MS:-15}
UNAFFECTED=10.100.1.2
fs_peer_addr $UNAFFECTED || fs_skip "cannot add a receiver address"
for a in 10.200.1.2 10.200.2.2 10.200.3.2 10.200.4.2; do
	fs_peer_addr $a || fs_skip "cannot add a receiver address"
done

# Baseline on the bare veth (noqueue), before any flowshape qdisc.
fs_baseline "$NS0" 10.100.0.2 || fs_skip "no baseline ping"
fs_log "baseline: min=$BASE_MIN median=$BASE_MED ms"

# --- 1. No entries: no delay, even with large weights and thresholds 0 ---
fs_section "1. No entries: no delay, even with large weights and thresholds 0"
for mode in spread delay; do
	check "$mode: qdisc with weights and no entries" \
		fs_fresh veth0 mode $mode congestion_weight 100ms load_weight 100ms \
		congestion_threshold 0 load_threshold 0 max_delay 1s
	fs_ping "$NS0" 10.100.0.2 20 0.02
	# (ping's own 3 s reply timeout can lose one to a stalled VM: the
	# exact assertion on loss is the qdisc's drop counter below.)
	check "$mode: IPv4 pings answered ($PING_N of 20)" test "$PING_N" -ge 15
	check "$mode: IPv4 RTT lower quartile $PING_P25 ms near baseline ($BASE_MED + $FS_NODELAY_TOL_MS ms)" \
		fcmp "$PING_P25 < $BASE_MED + $FS_NODELAY_TOL_MS"
	fs_ping "$NS0" fd00:100::2 10 0.02
	check "$mode: IPv6 pings answered ($PING_N of 10)" test "$PING_N" -ge 7
	check "$mode: IPv6 RTT lower quartile $PING_P25 ms near baseline" \
		fcmp "$PING_P25 < $BASE_MED + $FS_NODELAY_TOL_MS"
	fs_xsnap "$NS0" veth0
	check_eq "$mode: xstats delayed == 0" 0 "${XS[delayed]}"
	check "$mode: xstats passed ${XS[passed]} >= 30 pings" \
		test "${XS[passed]:-0}" -ge 30
	check_eq "$mode: delay_total_ns == 0" 0 "${XS[delay_total_ns]}"
	check_eq "$mode: nothing dropped" 0 "${XS[drops]}"
done

# --- 2. delay mode: congestion and load terms, added to the echo request ---
fs_section "2. delay mode: congestion and load terms, added to the echo request"
CW=$(fs_ns 40) LW=$(fs_ns 30) MAXD=$(fs_ns 100)
check "delay: qdisc cw 40ms ct 0, lw 30ms lt 0.5, max_delay 100ms" \
	fs_fresh veth0 mode delay congestion_weight 40ms congestion_threshold 0 \
	load_weight 30ms load_threshold 0.5 max_delay 100ms
check "delay: dest 10.100.0.2/32 congestion 0.5" \
	fs_change veth0 dest 10.100.0.2/32 congestion 0.5
exp_ns=$(fs_formula_ns "$CW" 0 0.5 "$LW" 0.5 0 "$MAXD")
exp=$(fs_ms "$exp_ns")
fs_log "expected one-way delay: $exp ms (40ms * 0.5)"
fs_ping "$NS0" 10.100.0.2 10 0.05
check_eq "delay: all pings answered" 10 "$PING_N"
check "delay: min RTT $PING_MIN >= $exp - 1 ms" fcmp "$PING_MIN >= $exp - 1"
check "delay: min RTT $PING_MIN < $exp + baseline + $TOL ms" \
	fcmp "$PING_MIN < $exp + $BASE_MIN + $TOL"
check "delay: median RTT $PING_MED < $exp + baseline + $TOL ms" \
	fcmp "$PING_MED < $exp + $BASE_MED + $TOL"
fs_xsnap "$NS0" veth0
check "delay: xstats delayed ${XS[delayed]} >= 10" test "${XS[delayed]:-0}" -ge 10
# Pings 50 ms apart never queue behind each other: each packet's delay is
# exactly the formula's, so the kernel's own sum is exact too (1 us/packet
# slack for rounding).
check "delay: delay_total_ns ${XS[delay_total_ns]} == delayed * $exp_ns" \
	fcmp "${XS[delay_total_ns]} >= ${XS[delayed]} * ($exp_ns - 1000) &&
	      ${XS[delay_total_ns]} <= ${XS[delayed]} * ($exp_ns + 1000)"
fs_ping "$NS0" $UNAFFECTED 10 0.02
check "delay: a destination without entry is not delayed (RTT lower quartile $PING_P25)" \
	fcmp "$PING_P25 < $BASE_MED + $FS_NODELAY_TOL_MS"

# Load on top: 30ms * (0.9 - 0.5) / (1 - 0.5) = 24 ms more.
check "delay: same entry, load 0.9" fs_change veth0 dest 10.100.0.2/32 load 0.9
exp_ns=$(fs_formula_ns "$CW" 0 0.5 "$LW" 0.5 0.9 "$MAXD")
exp=$(fs_ms "$exp_ns")
fs_log "expected one-way delay: $exp ms (20 + 24)"
fs_ping "$NS0" 10.100.0.2 10 0.1
check "delay+load: min RTT $PING_MIN >= $exp - 1 ms" fcmp "$PING_MIN >= $exp - 1"
check "delay+load: median RTT $PING_MED < $exp + baseline + $TOL ms" \
	fcmp "$PING_MED < $exp + $BASE_MED + $TOL"
check_release_accuracy "$NS0" veth0

# --- 3. spread mode: a flow's packet rate capped by the gap -------------
fs_section "3. spread mode: a flow's packet rate capped by the gap"
N=60
QUANTUM=1514
check "spread: qdisc lw 10ms lt 0, quantum $QUANTUM" \
	fs_fresh veth0 mode spread load_weight 10ms load_threshold 0 \
	congestion_weight 0 max_delay 1s quantum $QUANTUM
check "spread: dest 10.100.0.2/32 load 0.5" fs_change veth0 dest 10.100.0.2/32 load 0.5
d_ns=$(fs_formula_ns 0 0 0 "$(fs_ns 10)" 0 0.5 "$(fs_ns 1000)")

spread_run()
{
	local len=$1 payload gap_ns out_a out_b ra rb span_a span_b
	payload=$(fs_udp_payload_for "$len")
	gap_ns=$(awk -v d="$d_ns" -v l="$len" -v q=$QUANTUM 'BEGIN { printf "%.0f", d * l / q }')
	fs_log "len $len (payload $payload): gap $(fs_ms "$gap_ns") ms per packet"
	out_a=$(fs_tmp) out_b=$(fs_tmp)
	check "spread $len: shaped flow's receiver ready" \
		fs_recv_start 9000 "$out_a" -n $N -t 20000 -i 3000
	local pa=$RECV_PID
	check "spread $len: unaffected flow's receiver ready" \
		fs_recv_start 9001 "$out_b" -n $N -t 20000 -i 3000
	local pb=$RECV_PID
	# Set again right before the burst: on a loaded host the previous
	# run can outlast stale_after, and a stale entry would not shape.
	fs_change veth0 dest 10.100.0.2/32 load 0.5
	fs_bg "$NS0" "$UDPSEQ" send 10.100.0.2 9000 $N -s "$payload" >/dev/null
	n0 "$UDPSEQ" send $UNAFFECTED 9001 $N -s "$payload" >/dev/null
	wait "$pa" "$pb"
	ra=$(tail -n1 "$out_a") rb=$(tail -n1 "$out_b")
	fs_log "shaped:     $ra"
	fs_log "unaffected: $rb"
	span_a=$(fs_t2ns "$(kv span_us "$ra")us") span_b=$(fs_t2ns "$(kv span_us "$rb")us")
	check_eq "spread $len: shaped flow all received" $N "$(kv received "$ra")"
	check_eq "spread $len: unaffected flow all received" $N "$(kv received "$rb")"
	check_eq "spread $len: no reordering" 0 "$(kv reordered "$ra")"
	check "spread $len: span $span_a ns >= (N-1)*gap*0.9" \
		fcmp "$span_a >= ($N - 1) * $gap_ns * 0.9"
	check "spread $len: rate <= 1.1/gap" \
		fcmp "($N - 1) / $span_a <= 1.1 / $gap_ns"
	# Not slower than the gap implies either (catches a gap that ignores
	# the level or len/quantum): 1.5x + 50 ms covers TCG timer lateness.
	check "spread $len: span $span_a ns <= (N-1)*gap*1.5 + 50ms" \
		fcmp "$span_a <= ($N - 1) * $gap_ns * 1.5 + 50e6"
	check "spread $len: unaffected span $span_b ns < (N-1)*gap/4" \
		fcmp "$span_b < ($N - 1) * $gap_ns / 4"
}
spread_run $QUANTUM	# quantum-sized packets: 5 ms apart
spread_run $((QUANTUM / 2))	# half-quantum packets: 2.5 ms apart
check_eq "spread: no packet met a stale entry" 0 "$(fs_xstat "$NS0" veth0 stale_packets)"
check_release_accuracy "$NS0" veth0

# --- 4. thresholds -------------------------------------------------------
fs_section "4. thresholds"
CW=$(fs_ns 40) LW=$(fs_ns 20) MAXD=$(fs_ns 200)
check "thresholds: qdisc cw 40ms ct 0.4, lw 20ms lt 0.5" \
	fs_fresh veth0 mode delay congestion_weight 40ms congestion_threshold 0.4 \
	load_weight 20ms load_threshold 0.5 max_delay 200ms
check "thresholds: at, below and above" \
	fs_change veth0 dest 10.200.1.2 congestion 0.4 load 0.5 \
	dest 10.200.2.2 congestion 0.3 load 0.2 \
	dest 10.200.3.2 congestion 0.7 load 0.75
declare -A LV=([10.200.1.2]="0.4 0.5" [10.200.2.2]="0.3 0.2" [10.200.3.2]="0.7 0.75")
dests=$(fs_dests "$NS0" veth0)
for a in 10.200.1.2 10.200.2.2 10.200.3.2; do
	read -r c l <<<"${LV[$a]}"
	e=$(fs_formula_ns "$CW" 0.4 "$c" "$LW" 0.5 "$l" "$MAXD")
	got=$(fs_dest_in "$dests" "$a/32" .delay)
	# ppm levels: error <= weight * 2e-6; text listing rounds to ~1%.
	check "thresholds: listed delay of $a ($got) == formula $e" \
		fcmp "${got:-(-1)} >= $e * 0.99 - 100 && ${got:-(-1)} <= $e * 1.01 + 100"
done
# Entries set again (bare: levels kept) before each measurement: a stale
# entry gives no delay either, which would make these checks pass vacuously.
# The boundary exactly, where an RTT cannot tell: at both thresholds the
# listed delay is 0 ns and the kernel delays no packet; one ppm above
# either threshold the delay is already the rescaled amount (the kernel's
# integer arithmetic: level above = floor(1e6 / (1e6 - threshold)) ppm,
# 1 ppm -> 40 ns for congestion, 2 ppm -> 40 ns for load), so a boundary
# that is off fails here: shown once with fs_level_above() (kernel/dest.c)
# built with "level <= threshold + 1", where both 1-ppm entries listed
# 0 ns and 0 of 5 pings were delayed ("not ok" three times).  Flipping
# "level <= threshold" to "level < threshold" there passes, as it must:
# at level == threshold the excess is 0 either way, so no test can tell
# the two apart.
check_eq "thresholds: at the thresholds, listed delay 0 ns" 0 \
	"$(fs_dest_in "$dests" 10.200.1.2/32 .delay)"
check "thresholds: 1 ppm above congestion_threshold (at load_threshold)" \
	fs_change veth0 dest 10.200.4.2 congestion 0.400001 load 0.5
check_eq "thresholds: 1 ppm above congestion_threshold: listed delay 40 ns" 40 \
	"$(fs_dest "$NS0" veth0 10.200.4.2/32 .delay)"
check "thresholds: 1 ppm above load_threshold (at congestion_threshold)" \
	fs_change veth0 dest 10.200.4.2 congestion 0.4 load 0.500001
check_eq "thresholds: 1 ppm above load_threshold: listed delay 40 ns" 40 \
	"$(fs_dest "$NS0" veth0 10.200.4.2/32 .delay)"
refresh4() { fs_change veth0 dest 10.200.1.2 dest 10.200.2.2 dest 10.200.3.2 dest 10.200.4.2; }
refresh4
d0=$(fs_xstat "$NS0" veth0 delayed)
fs_ping "$NS0" 10.200.1.2 10 0.02
check "thresholds: at the thresholds no delay (RTT lower quartile $PING_P25)" \
	fcmp "$PING_P25 < $BASE_MED + $FS_NODELAY_TOL_MS"
check_eq "thresholds: at the thresholds no packet delayed (xstats delayed)" \
	"$d0" "$(fs_xstat "$NS0" veth0 delayed)"
# The 40 ns one ppm above give no RTT to see, but every packet counts as
# delayed (its departure is after its arrival).
refresh4
d0=$(fs_xstat "$NS0" veth0 delayed)
fs_ping "$NS0" 10.200.4.2 5 0.02
check_eq "thresholds: 1 ppm above, all 5 ping requests delayed" \
	"$((d0 + 5))" "$(fs_xstat "$NS0" veth0 delayed)"
refresh4
fs_ping "$NS0" 10.200.2.2 10 0.02
check "thresholds: below the thresholds no delay (RTT lower quartile $PING_P25)" \
	fcmp "$PING_P25 < $BASE_MED + $FS_NODELAY_TOL_MS"
exp=$(fs_ms "$(fs_formula_ns "$CW" 0.4 0.7 "$LW" 0.5 0.75 "$MAXD")")
refresh4
fs_ping "$NS0" 10.200.3.2 10 0.05
check "thresholds: above, min RTT $PING_MIN >= $exp - 1" fcmp "$PING_MIN >= $exp - 1"
check "thresholds: above, median RTT $PING_MED < $exp + baseline + $TOL" \
	fcmp "$PING_MED < $exp + $BASE_MED + $TOL"
# A threshold of 1 turns the load term off entirely.
check "thresholds: load_threshold 1" fs_change veth0 load_threshold 1 \
	dest 10.200.1.2 dest 10.200.2.2 dest 10.200.3.2 dest 10.200.4.2
exp_ns=$(fs_formula_ns "$CW" 0.4 0.7 "$LW" 1 0.75 "$MAXD")
got=$(fs_dest "$NS0" veth0 10.200.3.2/32 .delay)
check "thresholds: load_threshold 1: listed delay $got == $exp_ns (congestion only)" \
	fcmp "${got:-(-1)} >= $exp_ns * 0.99 - 100 && ${got:-(-1)} <= $exp_ns * 1.01 + 100"
exp=$(fs_ms "$exp_ns")
refresh4
fs_ping "$NS0" 10.200.3.2 10 0.05
check "thresholds: load_threshold 1: min RTT $PING_MIN in [$exp - 1, $exp + 9)" \
	fcmp "$PING_MIN >= $exp - 1 && $PING_MIN < $exp + 9"

# --- 5. max_delay caps ---------------------------------------------------
fs_section "5. max_delay caps"
check "max_delay: qdisc cw 200ms ct 0, max_delay 15ms" \
	fs_fresh veth0 mode delay congestion_weight 200ms congestion_threshold 0 \
	load_weight 0 max_delay 15ms
check "max_delay: dest congestion 1" fs_change veth0 dest 10.100.0.2 congestion 1
exp_ns=$(fs_formula_ns "$(fs_ns 200)" 0 1 0 0 0 "$(fs_ns 15)")
exp=$(fs_ms "$exp_ns")
got=$(fs_dest "$NS0" veth0 10.100.0.2/32 .delay)
check "max_delay: listed delay $got == $exp_ns" \
	fcmp "${got:-(-1)} >= $exp_ns * 0.99 && ${got:-(-1)} <= $exp_ns * 1.01"
fs_ping "$NS0" 10.100.0.2 10 0.05
check "max_delay: min RTT $PING_MIN >= $exp - 1" fcmp "$PING_MIN >= $exp - 1"
check "max_delay: median RTT $PING_MED < $exp + baseline + $TOL (weights say 200)" \
	fcmp "$PING_MED < $exp + $BASE_MED + $TOL"
check_release_accuracy "$NS0" veth0

# --- 6. smoothing --------------------------------------------------------
fs_section "6. smoothing"
# One UDP flow at 5 pps (200 ms apart: never queued behind each other);
# after a few packets the entry goes from 0 to 40 ms.  With smoothing s the
# k-th packet after the change gets 40 * (1 - s^k) ms, so the kernel's
# delay_total_ns after k delayed packets is exactly sum_k 40*(1 - s^k).
# IPv6 off from here on: no router solicitation or MLD report may share the
# qdisc, so "enqueued" counts the UDP flow's packets alone.
n0 sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
S=0.5
check "smoothing: qdisc delay mode cw 40ms smoothing $S" \
	fs_fresh veth0 mode delay congestion_weight 40ms congestion_threshold 0 \
	load_weight 0 max_delay 100ms smoothing $S
check "smoothing: dest congestion 0" fs_change veth0 dest 10.100.0.2 congestion 0
# 20 packets over 4 s: the change lands mid-flow even when tc takes
# seconds on a loaded host.
SN=20
out=$(fs_tmp)
check "smoothing: receiver ready" fs_recv_start 9002 "$out" -n $SN -t 30000 -i 3000
rpid=$RECV_PID
fs_bg "$NS0" "$UDPSEQ" send 10.100.0.2 9002 $SN -r 5 -s 100 >/dev/null
spid=$BG_PID
check "smoothing: flow under way (3 packets enqueued) before the change" \
	wait_for 10 fs_xstat_ge "$NS0" veth0 enqueued 3
check "smoothing: entry raised to congestion 1 mid-flow" \
	fs_change veth0 dest 10.100.0.2 congestion 1
wait "$spid" "$rpid"
check_eq "smoothing: all received" $SN "$(kv received "$(tail -n1 "$out")")"
fs_xsnap "$NS0" veth0
k=${XS[delayed]}
want=$(awk -v k="$k" -v s=$S -v d="$(fs_ns 40)" \
	'BEGIN { for (i = 1; i <= k; i++) t += d * (1 - s ^ i); printf "%.0f", t }')
fs_log "smoothing: delayed=$k delay_total_ns=${XS[delay_total_ns]} want=$want (unsmoothed: $((k * 40000000)))"
check "smoothing: some packets after the change ($k)" test "${k:-0}" -ge 3
check "smoothing: delay_total_ns ${XS[delay_total_ns]} == sum 40ms*(1-s^k) = $want" \
	fcmp "${XS[delay_total_ns]:-0} >= $want * 0.995 && ${XS[delay_total_ns]:-0} <= $want * 1.005"

# --- parameter-only changes recompute existing entries -------------------
fs_section "parameter-only changes recompute the delay of existing entries"
# Each step sets the entry again as it is (bare: levels kept, delay
# computed with the parameters of that moment), then changes parameters
# only, then checks the listed delay against the formula with the NEW
# parameters, and what 5 echo requests really got: in delay mode 50 ms
# apart each gets exactly the entry's delay, so the kernel's delay_total_ns
# grows by 5 x the formula (1 us/packet for rounding).  (The entry is set
# again before each change because a step takes seconds under TCG and
# stale_after is 10 s at most.)  The entry's age shows the change did not
# set it.  A change that left the delays as computed at set time fails
# every step.
# step DESC "CHANGE ARGS" CW CT LW LT MAXD (ns / fractions; levels C, L)
# (Between the set and the pings only tc runs and awk: jq alone takes
# seconds on a loaded TCG host, and the entry must not go stale.)
step()
{
	local desc=$1 change=$2 want d0 n0 s0 t_set t_l line ldelay lage
	want=$(fs_formula_ns "$3" "$4" "$C" "$5" "$6" "$L" "$7")
	fs_xsnap "$NS0" veth0
	d0=${XS[delay_total_ns]} n0=${XS[delayed]} s0=${XS[stale_packets]}
	fs_change veth0 dest 10.100.0.2
	t_set=$(fs_now_ms)
	# shellcheck disable=SC2086
	check "recompute $desc: change $change" fs_change veth0 $change
	t_l=$(fs_now_ms)
	line=$(tc -n "$NS0" class show dev veth0 | grep -E 'dest 10\.100\.0\.2(/32)? ')
	fs_ping "$NS0" 10.100.0.2 5 0.05
	fs_xsnap "$NS0" veth0
	read -r ldelay lage <<<"$(awk "$_FS_AWK_CONV"'{
		for (i = 1; i < NF; i++) {
			if ($i == "delay") d = t2ns($(i + 1))
			if ($i == "age") a = t2ns($(i + 1))
		}
		printf "%.0f %.0f\n", d, a }' <<<"$line")"
	fs_log "recompute $desc: $line"
	# (The text listing rounds times to 3 digits: 1% + 100 ns.)
	check "recompute $desc: listed delay $ldelay == formula $want" \
		fcmp "$ldelay >= $want * 0.99 - 100 && $ldelay <= $want * 1.01 + 100"
	check "recompute $desc: entry not set by the change (age $lage ns >= $((t_l - t_set)) ms - 1%)" \
		fcmp "$lage >= ($t_l - $t_set) * 1e6 * 0.99 - 10e6"
	check_eq "recompute $desc: the entry did not go stale" 0 $((XS[stale_packets] - s0))
	if ((want == 0)); then
		check_eq "recompute $desc: no packet delayed" "$n0" "${XS[delayed]}"
	else
		check_eq "recompute $desc: 5 packets delayed" 5 $((XS[delayed] - n0))
		check "recompute $desc: each got $want ns (delay_total grew by $((XS[delay_total_ns] - d0)))" \
			fcmp "${XS[delay_total_ns]} - $d0 >= 5 * ($want - 1000) && ${XS[delay_total_ns]} - $d0 <= 5 * ($want + 1000)"
	fi
}
# (IPv6 stays off on veth0, as since section 6: the counters see the
# test's packets alone.)
n0 sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
C=0.5 L=0.8
check "recompute: delay mode cw 40ms ct 0, lw 30ms lt 1 (off), max_delay 100ms" \
	fs_fresh veth0 mode delay congestion_weight 40ms congestion_threshold 0 \
	load_weight 30ms load_threshold 1 max_delay 100ms
check "recompute: entry congestion $C load $L" \
	fs_change veth0 dest 10.100.0.2 congestion $C load $L
step "congestion_weight 80ms (40 ms)" "congestion_weight 80ms" \
	"$(fs_ns 80)" 0 "$(fs_ns 30)" 1 "$(fs_ns 100)"
step "load_threshold 0.5 (58 ms)" "load_threshold 0.5" \
	"$(fs_ns 80)" 0 "$(fs_ns 30)" 0.5 "$(fs_ns 100)"
step "max_delay 25ms (capped)" "max_delay 25ms" \
	"$(fs_ns 80)" 0 "$(fs_ns 30)" 0.5 "$(fs_ns 25)"
step "congestion at its threshold, load_weight 0 (0 ms)" \
	"congestion_threshold 0.5 load_weight 0" \
	"$(fs_ns 80)" 0.5 0 0.5 "$(fs_ns 25)"

# --- spread mode leaves a slower flow alone ------------------------------
fs_section "spread mode: a flow already slower than its gap is not delayed"
# 20 ms per quantum-sized packet (the default levels: never stale).  A flow
# of 1514-byte packets at least 60 ms apart (udpseq -g: measured from the
# end of the previous send, so never closer) is slower than its gap: every
# packet leaves on arrival.  A back-to-back burst of the same size is
# spread (the default delay is live): at least 5 of its 10 delayed, even if
# a TCG stall lets a few through.
check "slower: spread mode, cw 20ms, default_congestion 1, quantum 1514" \
	fs_fresh veth0 mode spread congestion_weight 20ms congestion_threshold 0 \
	load_weight 0 max_delay 1s default_congestion 1 quantum 1514
n0 "$UDPSEQ" send 10.100.0.2 9010 10 -s "$(fs_udp_payload_for 1514)" -g 60000 >/dev/null
fs_xsnap "$NS0" veth0
check_eq "slower: 10 packets 60 ms apart: all passed, none delayed" "10 0 0" \
	"${XS[passed]} ${XS[delayed]} ${XS[delay_total_ns]}"
n0 "$UDPSEQ" send 10.100.0.2 9010 10 -s "$(fs_udp_payload_for 1514)" >/dev/null
wait_for 10 fs_drained "$NS0" veth0
fs_xsnap "$NS0" veth0
check "slower: a back-to-back burst is spread (delayed ${XS[delayed]} >= 5 of 10)" \
	test "${XS[delayed]}" -ge 5

# --- smoothing: a new flow, and spread mode -------------------------------
fs_section "smoothing: a new flow starts at the full delay; spread mode smooths"
# A new flow has no history to smooth from: its first packet gets the
# entry's delay as is, and so does every later one while it stays.  Five
# packets 100 ms apart in delay mode: delay_total_ns == 5 x 40 ms.  (Were
# a new flow smoothed from 0, the sum would be 40 ms x (0.1 + 0.19 + ...).)
check "smoothing/new: delay mode cw 40ms, default_congestion 1, smoothing 0.9" \
	fs_fresh veth0 mode delay congestion_weight 40ms congestion_threshold 0 \
	load_weight 0 max_delay 1s default_congestion 1 smoothing 0.9
n0 "$UDPSEQ" send 10.100.0.2 9011 5 -s 100 -g 100000 >/dev/null
wait_for 10 fs_drained "$NS0" veth0
fs_xsnap "$NS0" veth0
check_eq "smoothing/new: 5 delayed" 5 "${XS[delayed]}"
check "smoothing/new: delay_total_ns ${XS[delay_total_ns]} == 5 x 40 ms" \
	fcmp "${XS[delay_total_ns]} >= 5 * 40e6 - 5000 && ${XS[delay_total_ns]} <= 5 * 40e6 + 5000"

# Spread mode, smoothing s = 0.9, one flow: 3 packets at delay 0 (its
# history), a pause (the sender waits for a file) in which the default
# delay becomes d = 100 ms, then
# 10 quantum-sized packets back to back.  The k-th after the change gets
# d(1 - s^k), so packet k (k >= 2) is due G_k = sum_{j=2..k} d(1 - s^j)
# after the first, which leaves on arrival.  The kernel's delay_total_ns
# is sum (due - arrival): at most F = sum_k G_k (1676 ms), at least F minus
# the arrival spread (9 x the burst's duration).  Unsmoothed it would be
# sum_k (k - 1) d = 4500 ms.
S=0.9
# (flow_idle 60 s: the flow must outlive the pause, or the burst would be
# a new flow without history.)
check "smoothing/spread: spread mode cw 100ms, smoothing $S, default levels 0, flow_idle 60s" \
	fs_fresh veth0 mode spread congestion_weight 100ms congestion_threshold 0 \
	load_weight 0 max_delay 1s smoothing $S quantum 1514 flow_idle 60s
out=$(fs_tmp) go=$(fs_tmp)
rm -f "$go"
n0 "$UDPSEQ" send 10.100.0.2 9012 13 -s "$(fs_udp_payload_for 1514)" -w "3:$go" >"$out" &
spid=$!
check "smoothing/spread: the 3 history packets passed" \
	wait_for 10 fs_xstat_ge "$NS0" veth0 passed 3
check "smoothing/spread: default_congestion 1 (delay 100 ms) during the pause" \
	fs_change veth0 default_congestion 1
fs_xsnap "$NS0" veth0
check_eq "smoothing/spread: the change came before the burst (enqueued 3, one flow)" "3 1" \
	"${XS[enqueued]} ${XS[flows]}"
t_go=$("$UDPSEQ" now)
touch "$go"
wait "$spid"
t_end=$("$UDPSEQ" now)
check "smoothing/spread: drained" wait_for 10 fs_drained "$NS0" veth0
fs_xsnap "$NS0" veth0
read -r F spread <<<"$(awk -v s=$S -v d=100e6 'BEGIN {
	a = 0; G = 0; F = 0
	for (k = 1; k <= 10; k++) {
		a = s * a + (1 - s) * d
		if (k >= 2) { G += a; F += G }
	}
	printf "%.0f\n", F }')"
# The burst lasts at most from the go to the sender's end.
burst_ns=$((t_end - t_go))
fs_log "smoothing/spread: delayed=${XS[delayed]} delay_total_ns=${XS[delay_total_ns]} F=$F burst <= $burst_ns ns"
check "smoothing/spread: delay_total_ns ${XS[delay_total_ns]} <= F = $F (+ 10 us rounding)" \
	fcmp "${XS[delay_total_ns]} <= $F + 10000"
check "smoothing/spread: delay_total_ns >= F - 9 x burst ($burst_ns ns) - 1 ms" \
	fcmp "${XS[delay_total_ns]} >= $F - 9 * $burst_ns - 1e6"

fs_section "done"
fs_done
