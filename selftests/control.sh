#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Control path through tc and q_flowshape.so: add, change, show (text and
# JSON), delete; bad values refused by tc and by the kernel's policy.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip jq
fs_load_module

fs_netns "$NS0" || fs_skip "cannot create a network namespace"
fs_dummy "$NS0" d0 || fs_skip "no dummy device support"

show() { n0 tc qdisc show dev d0; }
jlimit() { n0 tc -j qdisc show dev d0 | jq -r '.[] | select(.kind=="flowshape") | .options.limit'; }

check "add with defaults" n0 tc qdisc add dev d0 root handle 1: flowshape
check_eq "default limit is 10000 (JSON)" 10000 "$(jlimit)"
check "text show names the kind and limit" \
	grep -Eq 'qdisc flowshape 1: root .*limit 10000p' <<<"$(show)"
check "change limit" n0 tc qdisc change dev d0 root flowshape limit 1234
check_eq "changed limit shows in JSON" 1234 "$(jlimit)"
check "text show has changed limit" grep -q 'limit 1234p' <<<"$(show)"
check "change without options keeps the limit" n0 tc qdisc change dev d0 root flowshape
check_eq "limit kept" 1234 "$(jlimit)"
check "replace" n0 tc qdisc replace dev d0 root flowshape limit 77
check_eq "replaced limit" 77 "$(jlimit)"
has_xstats() { n0 tc -s -j qdisc show dev d0 | jq -e '.[] | select(.kind=="flowshape") | has("enqueued") and has("drops_limit")' >/dev/null; }
check "stats JSON carries xstats" has_xstats
check "stats text carries xstats" \
	grep -q 'drops_limit 0' <<<"$(n0 tc -s qdisc show dev d0)"

# tc refuses what it cannot parse, before anything reaches the kernel.
check_fail_msg "tc refuses a non-number limit" 'invalid limit "abc"' \
	n0 tc qdisc change dev d0 root flowshape limit abc
check_fail_msg "tc refuses limit 0" 'invalid limit "0"' \
	n0 tc qdisc change dev d0 root flowshape limit 0
check_fail_msg "tc refuses unknown keywords" 'unknown parameter "bogus"' \
	n0 tc qdisc change dev d0 root flowshape bogus 1
check_fail_msg "tc refuses limit above 1000000" 'invalid limit "2000000"' \
	n0 tc qdisc change dev d0 root flowshape limit 2000000
# The kernel's policy holds even for what tc would never send: fsnl sends
# raw attributes and prints the extack message.
check_fail_msg "kernel refuses limit above 1000000 with extack" \
	'Error: flowshape: limit out of range \(1\.\.1000000 packets\)' \
	n0 "$FS_SELFTESTS/fsnl" change d0 limit=2000000
check_eq "refused change left the limit alone" 77 "$(jlimit)"

check "delete" n0 tc qdisc del dev d0 root
check "gone after delete" bash -c "! ip netns exec $NS0 tc qdisc show dev d0 | grep -q flowshape"
check "add as a child of prio" bash -c "
	ip netns exec $NS0 tc qdisc add dev d0 root handle 1: prio &&
	ip netns exec $NS0 tc qdisc add dev d0 parent 1:1 handle 10: flowshape limit 50"
check "child shows its parent" grep -q 'qdisc flowshape 10: parent 1:1 limit 50p' <<<"$(show)"

fs_done
