#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Ingress shaping through IFB (flowshape.rst, "Ingress shaping"): traffic
# arriving on NS1's veth1 is redirected by an ingress filter to an IFB
# device whose root qdisc is flowshape.  A destination entry for one of
# NS1's addresses (10.200.5.7, 50 ms in mode delay) delays the pings
# arriving for it; the pings for NS1's other address are not delayed.
# Without the redirect nothing reaches flowshape and nothing is delayed.
#
# RTT bounds as in dests.sh: min RTT >= delay - 1 ms (nothing leaves
# early), < delay + 10 ms; "not delayed": the lower quartile below the
# baseline median + FS_NODELAY_TOL_MS.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip ping jq awk
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"
fs_peer_addr 10.200.5.7 || fs_skip "cannot add receiver address"
fs_baseline "$NS0" 10.100.0.2 || fs_skip "no baseline ping"

IFB=ifbfs
check "ifb device in NS1" ip -n "$NS1" link add name $IFB type ifb
# No IPv6 on it: its own router solicitations and MLD reports would go
# through its root qdisc and be counted with the test's packets.
ip netns exec "$NS1" sysctl -qw net.ipv6.conf.$IFB.disable_ipv6=1
ip -n "$NS1" link set $IFB up
check "flowshape root on the ifb: delay mode, 100 ms at congestion 1" \
	tc -n "$NS1" qdisc add dev $IFB root handle 1: flowshape mode delay \
	congestion_weight 100ms congestion_threshold 0 load_weight 0 \
	max_delay 100ms stale_after 10s
check "ingress qdisc on veth1" tc -n "$NS1" qdisc add dev veth1 handle ffff: ingress
check "matchall + mirred egress redirect to the ifb" \
	tc -n "$NS1" filter add dev veth1 parent ffff: matchall \
	action mirred egress redirect dev $IFB

# set_entry: the entry, set again before each measurement (stale_after).
set_entry()
{
	tc -n "$NS1" qdisc change dev $IFB root flowshape \
		dest 10.200.5.7/32 congestion 0.5
}
exp=50
check "dest 10.200.5.7/32 congestion 0.5 (50 ms)" set_entry
fs_ping "$NS0" 10.200.5.7 8 0.03
check "arriving for 10.200.5.7: min RTT $PING_MIN in [$exp - 1, $exp + 10) ms" \
	fcmp "$PING_MIN >= $exp - 1 && $PING_MIN < $exp + 10"
set_entry
fs_ping "$NS0" 10.100.0.2 8 0.03
check "arriving for 10.100.0.2 (no entry): RTT p25 $PING_P25 < $BASE_MED + $FS_NODELAY_TOL_MS ms" \
	fcmp "$PING_P25 < $BASE_MED + $FS_NODELAY_TOL_MS"
fs_xsnap "$NS1" $IFB
fs_log "ifb: enqueued=${XS[enqueued]} delayed=${XS[delayed]} passed=${XS[passed]}"
check "the ifb's flowshape delayed the 8 requests for 10.200.5.7 (delayed ${XS[delayed]})" \
	test "${XS[delayed]:-0}" -ge 8
check "and saw every arriving packet (enqueued ${XS[enqueued]} >= 16)" \
	test "${XS[enqueued]:-0}" -ge 16
check_release_accuracy "$NS1" $IFB

# Without the redirect the ifb sees nothing: the delay came through it.
check "redirect filter removed" tc -n "$NS1" filter del dev veth1 parent ffff:
before=${XS[enqueued]}
set_entry
fs_ping "$NS0" 10.200.5.7 8 0.03
check "without the redirect 10.200.5.7 is not delayed (RTT p25 $PING_P25 ms)" \
	fcmp "$PING_P25 < $BASE_MED + $FS_NODELAY_TOL_MS"
check_eq "and the ifb's flowshape saw no packet" "$before" \
	"$(fs_xstat "$NS1" $IFB enqueued)"

fs_done
