# SPDX-License-Identifier: GPL-2.0
#
# The end-to-end lab (sourced after lib.sh): responsive traffic through an
# ingress node to a server behind a deep-buffered bottleneck.
#
#   client (LAB_C)  c0 10.61.1.1 -- i0 10.61.1.2   ingress (LAB_I)
#   ingress         i1 10.61.2.1 -- b0 10.61.2.2   bottleneck (LAB_B)
#   bottleneck      b1 10.61.3.1 -- s0 10.61.3.2   server (LAB_S)
#
# The qdisc under test goes on the ingress node's egress, i1; the
# bottleneck is a tbf on b1 (LAB_RATE, default 4mbit, with a LAB_BUFFER
# byte buffer, default 400000: ~800 ms at 4 Mbit/s).  Traffic is
# forwarded, never sent from the node under test itself, and offloads are
# off on every veth so that the bottleneck sees MTU packets
# (../shared/PLATFORM.md).  Bulk: iperf3 (TCP, cubic); request/response:
# irtt at 10 per second.

LAB_C=${FS_ID}c
LAB_I=${FS_ID}i
LAB_B=${FS_ID}b
LAB_S=${FS_ID}s
LAB_SERVER=10.61.3.2
LAB_RATE=${LAB_RATE:-4mbit}
LAB_BUFFER=${LAB_BUFFER:-400000}

lc() { ip netns exec "$LAB_C" "$@"; }
li() { ip netns exec "$LAB_I" "$@"; }
lb() { ip netns exec "$LAB_B" "$@"; }
ls_() { ip netns exec "$LAB_S" "$@"; }

# _lab_link NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B: a veth pair, offloads off.
_lab_link()
{
	ip -n "$1" link add name "$2" type veth peer name "$5" netns "$4" || return 1
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$4" addr add "$6/24" dev "$5"
	ip netns exec "$1" ethtool -K "$2" gso off gro off tso off >/dev/null 2>&1
	ip netns exec "$4" ethtool -K "$5" gso off gro off tso off >/dev/null 2>&1
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# lab_topology: build the four namespaces; 1 on failure.
lab_topology()
{
	local ns
	for ns in "$LAB_C" "$LAB_I" "$LAB_B" "$LAB_S"; do
		ip netns add "$ns" || return 1
		fs_on_exit ip netns del "$ns"
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	done
	_lab_link "$LAB_C" c0 10.61.1.1 "$LAB_I" i0 10.61.1.2 || return 1
	_lab_link "$LAB_I" i1 10.61.2.1 "$LAB_B" b0 10.61.2.2 || return 1
	_lab_link "$LAB_B" b1 10.61.3.1 "$LAB_S" s0 10.61.3.2 || return 1
	li sysctl -qw net.ipv4.ip_forward=1
	lb sysctl -qw net.ipv4.ip_forward=1
	ip -n "$LAB_C" route add default via 10.61.1.2
	ip -n "$LAB_I" route add 10.61.3.0/24 via 10.61.2.2
	ip -n "$LAB_B" route add 10.61.1.0/24 via 10.61.2.1
	ip -n "$LAB_S" route add default via 10.61.3.1
	lb tc qdisc add dev b1 root tbf rate "$LAB_RATE" burst 3000 limit "$LAB_BUFFER" || return 1
	fs_bg "$LAB_S" irtt server -b "$LAB_SERVER:2112" >/dev/null 2>&1
	wait_for 10 lc ping -c1 -W1 "$LAB_SERVER" >/dev/null 2>&1 || return 1
	fs_iperf_server "$LAB_S" "$LAB_SERVER"
}

# fs_iperf_server NS ADDR [-1]: an iperf3 server on ADDR:5201 in NS,
# killed at exit ("-1": for one test only); 1 unless it listens within
# 10 s.
fs_iperf_server()
{
	fs_bg "$1" iperf3 -s -B "$2" -p 5201 ${3:+"$3"} >/dev/null 2>&1
	wait_for 10 _fs_iperf_up "$1"
}

_fs_iperf_up() { ip netns exec "$1" ss -ltn | grep -q ":5201 "; }

# fs_iperf_result FILE: from iperf3 -J output, set MBPS (receiver goodput,
# Mbit/s), RTT (mean over streams of the senders' mean RTT, ms) and
# MAXRTT (ms).
fs_iperf_result()
{
	MBPS=$(jq '.end.sum_received.bits_per_second / 1e6' "$1")
	RTT=$(jq '[.end.streams[].sender.mean_rtt] | add / length / 1000' "$1")
	MAXRTT=$(jq '[.end.streams[].sender.max_rtt] | max / 1000' "$1")
}

# fs_keep_fresh NS DEV SECONDS ARGS...: in the background, "tc qdisc
# change dev DEV root flowshape ARGS" now and every 3 s for SECONDS (a
# static entry must be refreshed within stale_after, or it fails open);
# its pid in BG_PID, killed at exit.
fs_keep_fresh()
{
	local ns=$1 dev=$2 secs=$3
	shift 3
	(
		for ((i = 0; i < secs / 3 + 2; i++)); do
			tc -n "$ns" qdisc change dev "$dev" root flowshape "$@"
			sleep 3
		done
	) >/dev/null 2>&1 &
	BG_PID=$!
	fs_on_exit kill "$BG_PID"
}

# lab_run PREFIX STREAMS SECONDS: iperf3 with STREAMS TCP streams for
# SECONDS, and irtt at 10/s from just before to just after it, from the
# client to the server.  irtt starts first, so its handshake crosses an
# empty path.  Leaves PREFIX.iperf.json and PREFIX.irtt.json; 1 if either
# tool failed.
lab_run()
{
	local out=$1 streams=$2 secs=$3 ipid rpid rc=0
	lc irtt client -i 100ms -d "$((secs + 2))s" --wait=3s -Q -o "$out.irtt.json" \
		"$LAB_SERVER:2112" &
	rpid=$!
	lc iperf3 -c "$LAB_SERVER" -P "$streams" -t "$secs" -J >"$out.iperf.json" 2>&1 &
	ipid=$!
	wait "$ipid" || rc=1
	wait "$rpid" || rc=1
	return $rc
}

# lab_goodput PREFIX: received bits/s of the iperf3 run.
lab_goodput()
{
	jq -r '.end.sum_received.bits_per_second // 0' "$1.iperf.json"
}

# lab_rr_pct PREFIX PCT [FROM_S]: the PCT-th percentile of the irtt RTTs in
# ms, over the requests sent while iperf3 ran, FROM_S seconds or later
# after it started; a lost request counts as late (larger than any
# answer): the result is "inf" when the percentile falls on a loss, "nan"
# when no request was sent in the window.
lab_rr_pct()
{
	local from=${3:-0} t0 secs
	t0=$(jq -r '.start.timestamp.timesecs' "$1.iperf.json")
	secs=$(jq -r '.start.test_start.duration' "$1.iperf.json")
	jq -r --argjson t0 "$t0" --argjson from "$from" --argjson secs "$secs" '
		.round_trips[] |
		((.timestamps.client.send.wall / 1e9) - $t0) as $t |
		select($t >= $from and $t <= $secs) |
		if .lost == "false" then .delay.rtt / 1e6 else "inf" end' "$1.irtt.json" |
		fs_percentile "$2" | grep . || echo nan
}

# lab_rr_lost PREFIX: requests without an answer.
lab_rr_lost()
{
	jq -r '[.round_trips[] | select(.lost != "false")] | length' "$1.irtt.json"
}

