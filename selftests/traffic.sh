#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Traffic between two network namespaces over veth passes through the
# qdisc: pings are answered and the qdisc counts what it carried.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip ping jq
fs_load_module
fs_netns_pair || fs_skip "cannot build the veth pair"

check "qdisc added on the sender's veth" n0 tc qdisc add dev veth0 root flowshape
check "IPv4 ping passes" n0 ping -c 5 -i 0.05 -W 2 -q 10.100.0.2
check "IPv6 ping passes" n0 ping -6 -c 5 -i 0.05 -W 2 -q fd00:100::2
# One snapshot: router solicitations and MLD reports may still trickle
# through between two reads.
snap=$(fs_qjson "$NS0" veth0)
pkts=$(jq -r .packets <<<"$snap")
enq=$(jq -r .enqueued <<<"$snap")
qlen=$(jq -r .qlen <<<"$snap")
check "qdisc sent the 10 echo requests (got $pkts)" test "$pkts" -ge 10
check_eq "every enqueued packet was sent or is queued" "$enq" $((pkts + qlen))
check_eq "nothing dropped" 0 "$(jq -r .drops <<<"$snap")"

fs_done
