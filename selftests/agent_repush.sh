#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# flowshape-agent and several qdiscs: flowshape under each of the four mq
# children of a multi-queue device, all fed by one [qdisc] section
# ("parent = any") and kept in sync; a qdisc deleted and re-created gets
# the table (and stale_after) again right away, not at the next interval.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent-lib.sh"
fs_require_root
fs_require_cmd tc ip jq
fs_load_module

AGENT=$FS_TOP/tools/agent/flowshape-agent
[[ -x $AGENT ]] || fs_skip "flowshape-agent not built (make -C tools/agent)"

NS=${FS_ID}m NSP=${FS_ID}n
INTERVAL_S=8
STALE_NS=10000000000
TMP=$(mktemp -d)
fs_on_exit rm -rf "$TMP"
nm() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" || fs_skip "cannot create namespaces"
fs_on_exit ip netns del "$NS"
ip netns add "$NSP"
fs_on_exit ip netns del "$NSP"
ip -n "$NS" link add name m0 numtxqueues 4 type veth peer name m1 netns "$NSP" ||
	fs_skip "no multi-queue veth"
ip -n "$NS" addr add 10.210.0.1/24 dev m0
ip -n "$NSP" addr add 10.210.0.2/24 dev m1
ip -n "$NS" link set m0 up
ip -n "$NSP" link set m1 up
ip -n "$NS" link set lo up

check "mq root" nm tc qdisc add dev m0 root handle 1: mq
for i in 1 2 3 4; do
	check "flowshape under mq child 1:$i" \
		nm tc qdisc add dev m0 parent 1:$i handle 1$i: flowshape
done

cat >"$TMP/agent.conf" <<EOF2
[agent]
control = proportional
interval = ${INTERVAL_S}s
stale_after = 10s
metrics_listen = 127.0.0.1:9466

[qdisc]
dev = m0
parent = any

[destination peer]
prefix = 10.210.0.2/32
probe = icmp
metrics = none

[destination other]
prefix = 10.211.0.0/16
probe = none
metrics = none
EOF2
LOG=$TMP/agent.log
ip netns exec "$NS" "$AGENT" -c "$TMP/agent.conf" -v >"$LOG" 2>&1 &
AGENT_PID=$!
fs_on_exit kill "$AGENT_PID"

# entries HANDLE: how many entries the flowshape qdisc HANDLE (e.g. "12:")
# lists.
entries()
{
	fs_dests "$NS" m0 | jq --arg p "$1" '[.[] | select(.parent == $p)] | length'
}
all_fed()
{
	local i
	for i in 1 2 3 4; do
		[[ $(entries "1$i:") == 2 ]] || return 1
	done
}
stale_after_of()
{
	nm tc -j qdisc show dev m0 |
		jq -r --arg h "$1" '.[] | select(.kind == "flowshape" and .handle == $h) | .options.stale_after'
}

check "all four qdiscs get both entries" wait_for 30 all_fed
for i in 1 2 3 4; do
	check_eq "stale_after set on 1$i:" $STALE_NS "$(stale_after_of "1$i:")"
done
check "the agent names the four qdiscs" test "$(grep -c 'feeding flowshape qdisc m0' "$LOG")" -ge 4

# Re-create 12: and check that it is fed by the notification, not by the
# next round: either no measuring round ended in between (the agent's own
# flowshape_agent_rounds_total), or, when the commands were slow enough
# for one to end (TCG on a busy host: "tc qdisc del/add" can take
# seconds), the feed was away from the rounds' pushes (P + k x interval,
# from the entries' ages: the kernel's clock, not the polling's).  Try up
# to three times.
rounds()
{
	fs_prom_value "$(fs_http_get "$NS" http://127.0.0.1:9466/metrics)" \
		flowshape_agent_rounds_total
}
age_of() # HANDLE -> ms since that qdisc's entries were set
{
	fs_dests "$NS" m0 | jq --arg p "$1" '[.[] | select(.parent == $p) | .age] | max / 1000000 | floor'
}
young() { (($(age_of 11:) < 2000)); }
fed12() { [[ $(entries 12:) == 2 ]]; }
clean=0
for attempt in 1 2 3; do
	wait_for $((INTERVAL_S * 2)) young
	P=$(($(fs_now_ms) - $(age_of 11:)))
	r0=$(rounds)
	nm tc qdisc del dev m0 parent 1:2 handle 12:
	nm tc qdisc add dev m0 parent 1:2 handle 12: flowshape
	t_added=$(fs_now_ms)
	wait_for $((INTERVAL_S * 3)) fed12 || break
	R=$(($(fs_now_ms) - $(age_of 12:)))
	r1=$(rounds)
	phase=$(((R - P) % (INTERVAL_S * 1000)))
	fs_log "attempt $attempt: rounds $r0 -> $r1, fed $((R - t_added)) ms after the add returned, at phase $phase ms of the rounds"
	if [[ -n $r0 && $r0 == "$r1" ]] ||
	   ((phase > 700 && phase < INTERVAL_S * 1000 - 700)); then
		clean=1
		break
	fi
done
check "the re-created qdisc is fed again" fed12
check "... by the notification, with no round in between (attempt $attempt)" test $clean = 1
check "... right after the add ($((R - t_added)) ms, bound 3000 ms)" test $((R - t_added)) -lt 3000
check_eq "... with stale_after again" $STALE_NS "$(stale_after_of 12:)"
check "the agent saw the qdisc change" grep -q "a flowshape qdisc changed" "$LOG"
check "the other qdiscs still have both entries" all_fed

if ((_fs_failed)); then
	tail -n 30 "$LOG" | sed 's/^/#   /'
	fs_dests "$NS" m0 | jq -c '.[]' | sed 's/^/#   /'
fi
fs_done
