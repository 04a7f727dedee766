#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packets beyond "limit" are dropped and counted, and the counters account
# for every packet the sender offered: received + dropped = sent.
#
# flowshape sits under a slow tbf so that its queue builds up; the sender
# offers a burst far larger than the limit.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip jq
fs_require_udpseq
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"

COUNT=300
LIMIT=20

n0 tc qdisc add dev veth0 root handle 1: tbf rate 2mbit burst 3000 limit 3000
check "flowshape under tbf" n0 tc qdisc add dev veth0 parent 1:1 handle 10: flowshape limit $LIMIT

out=$(fs_tmp)
check "receiver ready" fs_recv_start 9000 "$out" -n $COUNT -t 20000 -i 2000
rpid=$RECV_PID
n0 "$UDPSEQ" send 10.100.0.2 9000 $COUNT -s 200 >/dev/null
wait $rpid
res=$(tail -n1 "$out")
recv=$(kv received "$res")

drops=$(fs_qstat "$NS0" veth0 .drops)
dlimit=$(fs_qstat "$NS0" veth0 .drops_limit)
enq=$(fs_qstat "$NS0" veth0 .enqueued)
fs_log "received=$recv drops=$drops drops_limit=$dlimit enqueued=$enq"
check "the burst overflowed the limit (drops=$drops)" test "$drops" -gt 0
check_eq "every drop is a limit drop" "$drops" "$dlimit"
check_eq "enqueued + dropped = sent" $COUNT $((enq + drops))
check_eq "received + dropped = sent" $COUNT $((recv + drops))
check_eq "queue drained" 0 "$(fs_qstat "$NS0" veth0 .qlen)"
check_eq "no reordering in a FIFO" 0 "$(kv reordered "$res")"

fs_done
