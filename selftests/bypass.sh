#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Control traffic is never shaped (issue 14, point 3): a packet with
# skb->priority TC_PRIO_CONTROL (7), or whose skb->mark matches bypass_mark
# under bypass_mask, goes through the internal queue at once, counted in
# control_packets, toward a destination every other packet of which is
# delayed 50 ms (delay mode).
#
#   1. a UDP probe from a socket with SO_PRIORITY 0 is delayed (>= 49 ms
#      one way): the entry does delay this destination;
#   2. the same probe with SO_PRIORITY 7 is not (median one-way latency
#      below the baseline ping median + FS_NODELAY_TOL_MS), and all of it
#      is counted in control_packets;
#   3. ping with SO_MARK 0x10 (ping -m 16) is delayed without bypass_mark,
#      not delayed with bypass_mark 16 bypass_mask 255 (an RTT of 50 ms
#      more: the echo request is what flowshape sees);
#   4. a bypass_mark with bits outside bypass_mask is refused, named.
#
# Shown failing: with fs_is_control() returning false (a build that never
# bypasses), checks 2 and 3 fail with one-way latencies of ~50 ms.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip ping jq awk
fs_require_udpseq
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"

DST=10.100.0.2
fs_baseline "$NS0" $DST || fs_skip "no baseline ping"
fs_log "baseline: min=$BASE_MIN median=$BASE_MED ms"
TOL=$FS_NODELAY_TOL_MS

check "qdisc: delay mode, 50 ms at congestion 1 toward $DST" \
	fs_fresh veth0 mode delay congestion_weight 50ms congestion_threshold 0 \
	max_delay 50ms
# The entry is refreshed before each section: stale_after is 10 s at most,
# and a stale entry stops delaying (fail open).
refresh() { fs_change veth0 dest $DST/32 congestion 1; }
check "dest $DST congestion 1" refresh

# probe PRIO: 20 UDP packets at 20/s from sockets with SO_PRIORITY PRIO;
# sets P50 (ms, one way) and RECVD.
probe()
{
	local out line
	refresh
	out=$(fs_tmp)
	fs_recv_start 9000 "$out" -n 20 -t 15000 -i 3000 || return 1
	n0 "$UDPSEQ" send $DST 9000 20 -r 20 -s 200 -p "$1" >/dev/null
	wait "$RECV_PID"
	line=$(grep received= "$out")
	RECVD=$(kv received "$line")
	P50=$(fs_ms "$(($(kv lat_p50_us "$line") * 1000))")
	fs_log "probe priority $1: $line"
}

fs_section "1. an ordinary probe is delayed"
probe 0
check "priority 0: 20 packets received ($RECVD)" test "${RECVD:-0}" -eq 20
check "priority 0: one-way median $P50 ms >= 49 ms" fcmp "$P50 >= 49"
check_eq "priority 0: control_packets 0" 0 "$(fs_xstat "$NS0" veth0 control_packets)"

fs_section "2. SO_PRIORITY 7 (TC_PRIO_CONTROL) is not delayed, and counted"
fs_xsnap "$NS0" veth0
delayed0=${XS[delayed]}
probe 7
check "priority 7: 20 packets received ($RECVD)" test "${RECVD:-0}" -eq 20
check "priority 7: one-way median $P50 ms < baseline RTT $BASE_MED + $TOL ms" \
	fcmp "$P50 < $BASE_MED + $TOL"
fs_xsnap "$NS0" veth0
check_eq "priority 7: control_packets counts the 20 probes" 20 "${XS[control_packets]}"
check_eq "priority 7: no packet delayed" "$delayed0" "${XS[delayed]}"

fs_section "3. bypass_mark / bypass_mask (ping -m)"
# mping MARK COUNT: ping with SO_MARK MARK; sets MMIN and MMED (ms).
mping()
{
	local out
	refresh
	out=$(n0 ping -4 -n -c "$2" -i 0.05 -W 3 -m "$1" $DST 2>&1 |
		sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | sort -g)
	MMIN=$(head -n1 <<<"$out")
	MMED=$(sed -n "$(($(grep -c . <<<"$out") / 2 + 1))p" <<<"$out")
	fs_log "ping -m $1: $(tr '\n' ' ' <<<"$out")"
}
mping 16 5
check "no bypass_mark: a marked ping is delayed (min RTT ${MMIN:-none} ms >= 49)" \
	fcmp "${MMIN:-0} >= 49"
check "bypass_mark 16 bypass_mask 255" fs_change veth0 bypass_mark 16 bypass_mask 255
check_eq "dump: bypass_mark" 16 "$(fs_qopt "$NS0" veth0 bypass_mark)"
check_eq "dump: bypass_mask" 255 "$(fs_qopt "$NS0" veth0 bypass_mask)"
c0=$(fs_xstat "$NS0" veth0 control_packets)
mping 16 10
check "mark 16: ping median ${MMED:-none} ms < baseline $BASE_MED + $TOL ms" \
	fcmp "${MMED:-999} < $BASE_MED + $TOL"
c1=$(fs_xstat "$NS0" veth0 control_packets)
check "mark 16: control_packets counts the 10 requests ($c0 -> $c1)" \
	test $((c1 - c0)) -eq 10
refresh
fs_ping "$NS0" $DST 5 0.05
check "unmarked ping still delayed (min RTT $PING_MIN ms >= 49)" fcmp "$PING_MIN >= 49"
mping 17 5
check "mark 17 (another value under the mask) delayed (min ${MMIN:-none} ms >= 49)" \
	fcmp "${MMIN:-0} >= 49"

fs_section "4. bad input"
check_fail_msg "bypass_mark 256 under mask 255 refused" "bits outside bypass_mask" \
	fs_change veth0 bypass_mark 256
check_fail_msg "bypass_mark not a number refused" "invalid bypass_mark" \
	fs_change veth0 bypass_mark 0x10
check_eq "after refusals: bypass_mark unchanged" 16 "$(fs_qopt "$NS0" veth0 bypass_mark)"
check "bypass_mask 0 turns the mark off" fs_change veth0 bypass_mark 0 bypass_mask 0
refresh
fs_ping "$NS0" $DST 5 0.05
check "bypass off: ping delayed again (min RTT $PING_MIN ms >= 49)" fcmp "$PING_MIN >= 49"

check_release_accuracy "$NS0" veth0
fs_done
