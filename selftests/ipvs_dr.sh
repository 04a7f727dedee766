#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Destinations keyed by firewall mark, with IPVS direct routing: two real
# servers behind one VIP on the director's server-facing device, where
# every packet is addressed to the VIP and only the destination MAC tells
# the servers apart.  A clsact egress filter marks packets for the VIP to
# real server 1's MAC (0x10); flowshape delays the mark entry, while a
# /32 entry for the VIP itself says 0: only real server 1's flows are
# delayed (mark entries are matched before prefixes), real server 2's are
# not, nor are health checks to real server 1's own address.
#
#   NSC c0 10.101.0.1 -- fin  NSF (director, VIP 10.102.0.100 on lo)
#                            fout 10.102.0.1 -- NSW bridge -- NSR1 10.102.0.11
#                                                          -- NSR2 10.102.0.12
#
# Latencies are one-way (udpseq: CLOCK_MONOTONIC is shared by netns).  The
# delay is 50 ms (mode delay): real server 1's packets must take at least
# 49 ms, real server 2's median must stay under 25 ms (half the delay:
# TCG stalls move single packets, not the median of 150).
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip ipvsadm jq
fs_require_udpseq
fs_load_module

NSW=${FS_ID}w
NSR1=${FS_ID}r1
NSR2=${FS_ID}r2
VIP=10.102.0.100
MARK=0x10

for ns in "$NSC" "$NSF" "$NSW" "$NSR1" "$NSR2"; do
	fs_netns "$ns" || fs_skip "cannot create network namespaces"
	ip -n "$ns" link set lo up
done
fs_kill_ns "$NSC" "$NSF" "$NSR1" "$NSR2"
ip netns exec "$NSF" ipvsadm -C 2>/dev/null ||
	fs_skip "no IPVS in this kernel (ipvsadm -C failed)"

ip -n "$NSC" link add name c0 type veth peer name fin netns "$NSF" &&
	ip -n "$NSF" link add name fout type veth peer name w0 netns "$NSW" &&
	ip -n "$NSW" link add name br0 type bridge &&
	ip -n "$NSW" link set w0 master br0 || fs_bail "topology: veth/bridge"
i=1
for ns in "$NSR1" "$NSR2"; do
	ip -n "$ns" link add name r0 type veth peer name "w$i" netns "$NSW" &&
		ip -n "$NSW" link set "w$i" master br0 && ip -n "$NSW" link set "w$i" up ||
		fs_bail "topology: real server $i"
	# DR real servers hold the VIP but never answer ARP for it.
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2
	ip -n "$ns" addr add "10.102.0.1$i/24" dev r0
	ip -n "$ns" addr add "$VIP/32" dev lo
	ip -n "$ns" link set r0 up
	ip -n "$ns" route add default via 10.102.0.1
	i=$((i + 1))
done
for d in "$NSC:c0" "$NSF:fin" "$NSF:fout" "$NSW:w0" "$NSW:br0"; do
	ip netns exec "${d%%:*}" sysctl -qw "net.ipv6.conf.${d##*:}.disable_ipv6=1"
	ip -n "${d%%:*}" link set "${d##*:}" up
done
ip -n "$NSC" addr add 10.101.0.1/24 dev c0
ip -n "$NSF" addr add 10.101.0.2/24 dev fin
ip -n "$NSF" addr add 10.102.0.1/24 dev fout
ip -n "$NSF" addr add "$VIP/32" dev lo
ip -n "$NSC" route add default via 10.101.0.2
ip netns exec "$NSF" sysctl -qw net.ipv4.ip_forward=1

# IPVS: one UDP service on the VIP, two real servers, direct routing.
ip netns exec "$NSF" ipvsadm -A -u "$VIP:5001" -s rr &&
	ip netns exec "$NSF" ipvsadm -a -u "$VIP:5001" -r 10.102.0.11:5001 -g &&
	ip netns exec "$NSF" ipvsadm -a -u "$VIP:5001" -r 10.102.0.12:5001 -g ||
	fs_bail "ipvsadm: DR service"
fs_log "$(ip netns exec "$NSF" ipvsadm -Ln | tr '\n' '|')"

# Resolve the real servers' MACs (as IPVS itself does, through ARP).
reach() { fs_ping_all "$NSF" 10.102.0.11 1 && fs_ping_all "$NSF" 10.102.0.12 1; }
check "director reaches both real servers" reach
MAC1=$(ip -n "$NSR1" -j link show r0 | jq -r '.[0].address')

# The deployment under test (flowshape.rst, "IPVS direct routing").
mark_rs1()
{
	tc -n "$NSF" qdisc add dev fout clsact &&
		tc -n "$NSF" filter add dev fout egress protocol ip flower \
			dst_mac "$MAC1" dst_ip "$VIP" action skbedit mark "$MARK"
}
check "clsact egress filter: VIP to real server 1's MAC gets mark $MARK" mark_rs1
check "flowshape on fout: delay mode, 100 ms at congestion 1" \
	tc -n "$NSF" qdisc add dev fout root handle 1: flowshape mode delay \
	congestion_weight 100ms congestion_threshold 0 load_weight 0 \
	max_delay 100ms stale_after 10s
check "dest mark $MARK/0xff congestion 0.5, dest $VIP/32 congestion 0" \
	tc -n "$NSF" qdisc change dev fout root flowshape \
	dest mark "$MARK/0xff" congestion 0.5 dest "$VIP/32" congestion 0
listing=$(tc -n "$NSF" class show dev fout)
fs_log "$listing"
check "tc class show lists the mark entry first, with its 50 ms delay" \
	grep -q '^class flowshape 1:1 .*dest mark 0x10/0xff congestion 0.5 .*delay 50ms' \
	<<<"$listing"

out1=$(fs_tmp) out2=$(fs_tmp)
fs_bg "$NSR1" "$UDPSEQ" recv 5001 -t 40000 -i 4000 >"$out1"
fs_bg "$NSR2" "$UDPSEQ" recv 5001 -t 40000 -i 4000 >"$out2"
both() { wait_for "$1" grep -q "$2" "$out1" && wait_for "$1" grep -q "$2" "$out2"; }
check "receivers ready" both 10 ready
# Set the entries again right before the traffic: under a loaded TCG
# host the setup above can outlast stale_after (10 s, the maximum), and
# a stale entry stops delaying (fail open).
check "entries refreshed" tc -n "$NSF" qdisc change dev fout root flowshape \
	dest mark "$MARK/0xff" dest "$VIP/32"
# 8 flows (source ports), 300 packets at 100/s: IPVS round robin gives
# each real server 4 flows.
ip netns exec "$NSC" "$UDPSEQ" send "$VIP" 5001 300 -f 8 -r 100 -s 200 >/dev/null
check "both receivers finished" both 30 received=
r1=$(grep received= "$out1") r2=$(grep received= "$out2")
fs_log "real server 1: $r1"
fs_log "real server 2: $r2"
check "IPVS spread the flows: both real servers got packets" \
	test "$(kv received "$r1")" -gt 0 -a "$(kv received "$r2")" -gt 0
check "real server 1 (mark entry): min one-way latency $(kv lat_min_us "$r1") us >= 49 ms" \
	test "$(kv lat_min_us "$r1")" -ge 49000
check "real server 1: median $(kv lat_p50_us "$r1") us < 50 + 30 ms (TCG)" \
	test "$(kv lat_p50_us "$r1")" -lt 80000
check "real server 2 (VIP prefix entry, 0): median $(kv lat_p50_us "$r2") us < 25 ms" \
	test "$(kv lat_p50_us "$r2")" -lt 25000

# A health check to real server 1's own address carries no mark.
fs_ping "$NSF" 10.102.0.11 10 0.05
check "health check to real server 1's address not delayed (RTT p25 $PING_P25 ms < 25)" \
	fcmp "${PING_P25:-999} < 25"

fs_log "$(tc -n "$NSF" -s filter show dev fout egress | tr '\n\t' '| ')"
fs_xsnap "$NSF" fout
fs_log "delayed=${XS[delayed]} passed=${XS[passed]} dests=${XS[dests]}" \
	"stale_packets=${XS[stale_packets]}"
check_eq "no packet met a stale entry" 0 "${XS[stale_packets]}"
check "the kernel counted real server 1's packets as delayed (${XS[delayed]} >= $(kv received "$r1"))" \
	test "${XS[delayed]:-0}" -ge "$(kv received "$r1")"

fs_done
