#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The static end-to-end proof (issue 14, point 4).
#
#   client (NSC) -> ingress node (NSF: the qdisc under test on "fout")
#     -> bottleneck (NSB: tbf 4 Mbit/s, 400 KB buffer, ~800 ms) -> server (NSS)
#
# TCP streams (iperf3, cubic) and a ping every 0.1 s from the client to
# the server, offloads off, RUN_S s per run, all in one boot:
#   - fq_codel on the ingress node: the reference goodput (and its ping:
#     the bottleneck's buffer fills, ~800 ms);
#   - flowshape with ONE static entry whose delay sets the destination's
#     aggregate to 0.95 x 4 Mbit/s (quantum 1514 B / 3.19 ms) without
#     knowing the number of flows (rate_scope destination), and the AQM
#     (aqm_target 5ms): ping p99 < 5 ms over the baseline, goodput >= 0.9x
#     fq_codel's, mean TCP RTT < 100 ms (4 streams) / < 250 ms (16).
# With 4 and with 16 streams.
#
# Run under QEMU -icount (selftests/Makefile, TEST_PROGS_E2E): a p99 of a
# few ms at a bottleneck run at 95% needs the shaper's timers to be as
# punctual as real hardware's, which a TCG guest sharing a busy host is
# not (measured: releases up to 800 ms late, the bottleneck's own tbf
# late too).  Shown failing (commit messages): with per-flow pacing at
# 1/n of the rate each (no destination clock), ping p99 6.0 ms (4 streams)
# and 19.6 ms (16); with the clock but a stall caught up in a burst
# (no reslotting), 11.8 ms at 16 streams.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
fs_require_root
fs_require_cmd tc ip ping jq awk iperf3 ethtool
fs_load_module
modprobe sch_tbf 2>/dev/null
modprobe sch_fq_codel 2>/dev/null

RUN_S=${FS_PROOF_RUN_S:-20}
NSB=${FS_ID}n
for ns in "$NSC" "$NSF" "$NSB" "$NSS"; do
	ip netns add "$ns" || fs_skip "cannot add netns"
	fs_on_exit ip netns del "$ns"
	ip -n "$ns" link set lo up
done
ip -n "$NSC" link add name c0 type veth peer name fin netns "$NSF"
ip -n "$NSF" link add name fout type veth peer name bin netns "$NSB"
ip -n "$NSB" link add name bout type veth peer name s0 netns "$NSS"
for d in "$NSC:c0" "$NSF:fin" "$NSF:fout" "$NSB:bin" "$NSB:bout" "$NSS:s0"; do
	ns=${d%%:*} dev=${d##*:}
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	ip netns exec "$ns" ethtool -K "$dev" gso off gro off tso off >/dev/null 2>&1 ||
		fs_skip "ethtool -K failed"
	ip -n "$ns" link set "$dev" up
	ip netns exec "$ns" sh -c "echo 1 >/sys/class/net/$dev/queues/rx-0/rps_cpus" 2>/dev/null
done
ip -n "$NSC" addr add 10.101.0.1/24 dev c0
ip -n "$NSF" addr add 10.101.0.2/24 dev fin
ip -n "$NSF" addr add 10.102.0.1/24 dev fout
ip -n "$NSB" addr add 10.102.0.2/24 dev bin
ip -n "$NSB" addr add 10.103.0.1/24 dev bout
ip -n "$NSS" addr add 10.103.0.2/24 dev s0
ip -n "$NSC" route add default via 10.101.0.2
ip -n "$NSF" route add 10.103.0.0/24 via 10.102.0.2
ip -n "$NSB" route add 10.101.0.0/24 via 10.102.0.1
ip -n "$NSS" route add default via 10.103.0.1
ip netns exec "$NSF" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$NSB" sysctl -qw net.ipv4.ip_forward=1
SERVER=10.103.0.2
tc -n "$NSB" qdisc add dev bout root tbf rate 4mbit burst 3000 limit 400000 ||
	fs_skip "no tbf"

fs_baseline "$NSC" $SERVER || fs_skip "no baseline ping"
fs_log "baseline: min=$BASE_MIN median=$BASE_MED ms"

# run STREAMS: iperf3 + ping; sets MBPS, RTT (mean TCP, ms), P99 (ping, ms).
run()
{
	local out pout
	out=$(fs_tmp) pout=$(fs_tmp)
	fs_iperf_server "$NSS" $SERVER -1 || return 1
	# Only while flowshape is the root: "tc qdisc change ... flowshape"
	# on another root qdisc replaces it with a flowshape (the fq_codel
	# runs once measured flowshape at its defaults this way).
	local rpid=
	if [[ $2 == flowshape ]]; then
		fs_keep_fresh "$NSF" fout "$RUN_S" dest $SERVER/32 congestion 1
		rpid=$BG_PID
	fi
	ip netns exec "$NSC" ping -n -i 0.1 -c $((RUN_S * 10 - 20)) -W 3 $SERVER >"$pout" 2>&1 &
	local ppid=$!
	ip netns exec "$NSC" iperf3 -c $SERVER -p 5201 -P "$1" -t "$RUN_S" -C cubic -J \
		>"$out" 2>&1
	wait $ppid
	[[ -n $rpid ]] && kill $rpid 2>/dev/null
	fs_iperf_result "$out"
	# p99 of the pings after the first 5 s (slow start's own transient);
	# a lost ping counts as late (999999 ms).
	local sent=$((RUN_S * 10 - 20 - 50))
	P99=$(sed -n 's/.*icmp_seq=\([0-9]*\) .* time=\([0-9.]*\) ms.*/\1 \2/p' "$pout" |
		awk -v sent=$sent '$1 > 50 { print $2; n++ }
			END { for (; n < sent; n++) print 999999 }' | fs_percentile 99)
	LOST=$((sent - $(sed -n 's/.*icmp_seq=\([0-9]*\) .*time=.*/\1/p' "$pout" | awk '$1 > 50' | wc -l)))
	fs_log "$2, $1 streams: goodput $MBPS Mbit/s, TCP mean RTT $RTT ms, ping p99 $P99 ms ($LOST of $sent lost)"
	[[ -n $MBPS && $MBPS != null ]]
}

for n in ${SP_STREAMS:-4 16}; do
	fs_section "$n streams"
	tc -n "$NSF" qdisc replace dev fout root fq_codel
	check "fq_codel, $n streams ran" run $n fq_codel
	REF=$MBPS
	tc -n "$NSF" qdisc del dev fout root
	check "flowshape qdisc: one static entry, 0.95 x 4 Mbit/s, AQM 5 ms" \
		tc -n "$NSF" qdisc add dev fout root handle 1: flowshape stale_after 10s \
		mode spread congestion_threshold 0 congestion_weight 3190us \
		max_delay 3190us aqm_target 5ms dest $SERVER/32 congestion 1
	check "flowshape, $n streams ran" run $n flowshape
	check "$n streams: ping p99 $P99 ms < baseline $BASE_MED + 5 ms" \
		fcmp "$P99 < $BASE_MED + 5"
	check "$n streams: goodput $MBPS >= 0.9 x fq_codel's $REF Mbit/s" \
		fcmp "$MBPS >= 0.9 * $REF"
	lim=100; ((n == 16)) && lim=250
	check "$n streams: TCP mean RTT $RTT ms < $lim ms" fcmp "$RTT < $lim"
	fs_xsnap "$NSF" fout
	fs_log "xstats: drops_aqm=${XS[drops_aqm]} ecn_marks=${XS[ecn_marks]} stale_packets=${XS[stale_packets]} early=${XS[early_releases]}"
	check_eq "$n streams: no early release" 0 "${XS[early_releases]}"
	tc -n "$NSF" qdisc del dev fout root
done
fs_done
