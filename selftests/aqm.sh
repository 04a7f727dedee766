#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The AQM on flowshape's own queues (issue 14, point 2).  TCP bulk streams
# (iperf3, cubic, offloads off: MTU packets) are forwarded through a
# flowshape whose static entry paces the server at 0.95 x 4 Mbit/s in all
# (rate_scope destination: delay = 1514 B / 475 kB/s = 3.19 ms).  Paced
# flows keep growing their window: without the AQM their queue moves into
# flowshape (RTT of seconds, flow_limit drops).  With it (aqm_target 5 ms,
# the advised value; aqm_interval 100 ms, the default; the AQM is off by
# default), the mean TCP RTT the senders measure
# (TCP_INFO, iperf3's mean_rtt) stays below 100 ms with 4 streams and
# below 250 ms with 16 (a fair share is then one MTU per ~50 ms: a window
# of 2-4 packets is the floor), and with ECN the AQM marks instead of
# dropping.  The would-fail case is run too: aqm_target 0 (AQM off), 4
# streams, mean RTT above 250 ms.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
fs_require_root
fs_require_cmd tc ip ping jq awk iperf3 ethtool
fs_load_module
fs_fwd_chain nooffload || fs_skip "cannot build the forwarding chain"

RUN_S=${FS_AQM_RUN_S:-15}

fresh()
{
	tc -n "$NSF" qdisc del dev fout root >/dev/null 2>&1
	tc -n "$NSF" qdisc add dev fout root handle 1: flowshape stale_after 10s \
		mode spread congestion_threshold 0 congestion_weight 3190us \
		max_delay 3190us "$@" dest $FS_SERVER/32 congestion 1
}

# tcp STREAMS: iperf3 for RUN_S s; sets RTT (mean over streams of
# mean_rtt, ms), MAXRTT (ms), MBPS (receiver goodput, Mbit/s).
tcp()
{
	local out
	out=$(fs_tmp)
	fs_iperf_server "$NSS" $FS_SERVER -1 || return 1
	# The entry is refreshed now and every 3 s while the run goes on
	# (stale_after 10 s; a stale entry stops shaping: fail open).
	fs_keep_fresh "$NSF" fout "$RUN_S" dest $FS_SERVER/32 congestion 1
	local rpid=$BG_PID
	ip netns exec "$NSC" iperf3 -c $FS_SERVER -p 5201 -P "$1" -t "$RUN_S" \
		-C cubic -J >"$out" 2>&1
	kill $rpid 2>/dev/null
	fs_iperf_result "$out"
	fs_xsnap "$NSF" fout
	fs_log "$1 streams: mean RTT $RTT ms, max $MAXRTT ms, goodput $MBPS Mbit/s;" \
		"ecn_marks=${XS[ecn_marks]} drops_aqm=${XS[drops_aqm]}" \
		"drops_flow_limit=${XS[drops_flow_limit]} stale_packets=${XS[stale_packets]}" \
		"passed=${XS[passed]} delayed=${XS[delayed]} flows=${XS[flows]} gc_flows=${XS[gc_flows]}" \
		"packets=${XS[packets]} released=${XS[released]}"
	# (iperf3's last exchange, after the refreshes stop, may find the
	# entry stale: a handful of packets.)
	[[ -n $RTT && $RTT != null ]] &&
		fcmp "${XS[stale_packets]:-0} <= 0.01 * ${XS[enqueued]:-0}"
}

ecn() { ip netns exec "$NSC" sysctl -qw net.ipv4.tcp_ecn="$1"
	ip netns exec "$NSS" sysctl -qw net.ipv4.tcp_ecn="$1"; }

ecn 0
fs_section "AQM off (the default), 4 streams: the queue moves into flowshape"
check "qdisc, AQM off by default" fresh
check_eq "dump: aqm_target 0 (off) by default" 0 "$(fs_qopt "$NSF" fout aqm_target)"
check "4 streams ran (entry stale for <= 1% of packets)" tcp 4
check "AQM off: mean RTT $RTT ms > 250 ms (the problem)" fcmp "$RTT > 250"
check_eq "AQM off: drops_aqm 0" 0 "${XS[drops_aqm]}"

fs_section "AQM on (aqm_target 5ms), no ECN, 4 streams"
check "qdisc aqm_target 5ms" fresh aqm_target 5ms
check_eq "dump: aqm_target 5 ms" 5000000 "$(fs_qopt "$NSF" fout aqm_target)"
check_eq "dump: aqm_interval 100 ms" 100000000 "$(fs_qopt "$NSF" fout aqm_interval)"
check "4 streams ran (entry stale for <= 1% of packets)" tcp 4
check "4 streams: mean RTT $RTT ms < 100 ms" fcmp "$RTT < 100"
check "4 streams: the AQM dropped (drops_aqm ${XS[drops_aqm]} > 0)" \
	test "${XS[drops_aqm]:-0}" -gt 0
check_eq "4 streams, no ECN: no marks" 0 "${XS[ecn_marks]}"
check "4 streams: goodput $MBPS Mbit/s >= 0.8 x 3.8" fcmp "$MBPS >= 0.8 * 3.8"

fs_section "AQM on, no ECN, 16 streams"
check "qdisc aqm_target 5ms" fresh aqm_target 5ms
check "16 streams ran (entry stale for <= 1% of packets)" tcp 16
check "16 streams: mean RTT $RTT ms < 250 ms" fcmp "$RTT < 250"

fs_section "AQM on, ECN, 4 streams: marks instead of drops"
ecn 1
check "qdisc aqm_target 5ms" fresh aqm_target 5ms
check "4 streams ran (entry stale for <= 1% of packets)" tcp 4
check "ECN: mean RTT $RTT ms < 100 ms" fcmp "$RTT < 100"
check "ECN: packets marked (ecn_marks ${XS[ecn_marks]} > 0)" test "${XS[ecn_marks]:-0}" -gt 0
check_eq "ECN: no AQM drop" 0 "${XS[drops_aqm]}"

fs_section "bad input"
check_fail_msg "aqm_target 2s refused" "invalid aqm_target" \
	tc -n "$NSF" qdisc change dev fout root flowshape aqm_target 2s
check_fail_msg "aqm_interval 0 refused" "invalid aqm_interval" \
	tc -n "$NSF" qdisc change dev fout root flowshape aqm_interval 0
fs_xsnap "$NSF" fout
check_eq "no early release" 0 "${XS[early_releases]}"
fs_done
