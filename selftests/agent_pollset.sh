#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The agent's poll set at scale (issue 19): more TCP probes out at once
# than the old fixed poll array (256 descriptors) held.  320 probes toward
# a black hole (a NOARP dummy device: SYNs vanish, connect() hangs until
# probe_timeout) are sent first, then 80 toward a local listener that
# answers.  Before, the hanging sockets filled the array and the answering
# ones were not polled: in the closed loop (probes outlive the round) those
# destinations went unmeasured.  The agent also raises its soft open-files
# limit toward the hard one when its configuration needs more (1280
# probe sockets here, against a soft limit of 1024 in the VM: EMFILE).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent-lib.sh"
fs_require_root
fs_require_cmd ip jq

AGENT=${FLOWSHAPE_AGENT:-$FS_TOP/tools/agent/flowshape-agent}
SINK=$FS_TOP/tools/agent/build/tcp-sink
[[ -x $AGENT && -x $SINK ]] || fs_skip "flowshape-agent not built (make -C tools/agent)"

NS=$NS0
TMP=$(mktemp -d)
fs_on_exit rm -rf "$TMP"
fs_netns "$NS" || fs_skip "cannot create namespaces"
ip -n "$NS" link set lo up
fs_dummy "$NS" bh0 v4only
ip -n "$NS" addr add 10.9.0.1/24 dev bh0

fs_bg "$NS" "$SINK" >"$TMP/ports"
ports_known() { [[ -s $TMP/ports ]]; }
check "a local TCP listener" wait_for 10 ports_known
read -r OPEN _ <"$TMP/ports"

HUNG=80 LIVE=20 ROUNDS=5
{
	printf '[agent]\ncontrol = closed\ninterval = 1s\nprobes = 4\n'
	printf 'probe_timeout = 3s\n\n[qdisc]\ndev = lo\n\n'
	for ((i = 0; i < HUNG + LIVE; i++)); do
		dst=10.9.0.2:80
		((i >= HUNG)) && dst=127.0.0.1:$OPEN
		printf '[destination d%d]\nprefix = 10.77.%d.%d/32\n' $i $((i / 250)) $((i % 250 + 1))
		printf 'probe = tcp %s\nmetrics = none\n\n' "$dst"
	done
} >"$TMP/poll.conf"
fs_bg "$NS" "$AGENT" -c "$TMP/poll.conf" -v --dry-run --json >"$TMP/poll.json" 2>"$TMP/poll.log"
AGENT_PID=$BG_PID
rounds() { [[ $(wc -l <"$TMP/poll.json") -ge $ROUNDS ]]; }
check "$ROUNDS rounds of $(((HUNG + LIVE) * 4)) TCP probes (--dry-run --json)" wait_for 60 rounds
fs_stop "$AGENT_PID"
fs_log "open files: $(ulimit -Sn) soft, $(ulimit -Hn) hard; agent: $(grep -m1 'open files limit' "$TMP/poll.log" || echo 'no change')"
# Per round: answering destinations measured; the black hole's not.  The
# first round is left out of the first check: under TCG its 400 connect()
# calls can outlast the 1 s interval, and the round then ends before
# their answers are read.
live=$(head -n $ROUNDS "$TMP/poll.json" |
	jq -s -c --argjson h $HUNG '[.[] | [.destinations[$h:][] | select(.push)] | length]')
hung=$(head -n $ROUNDS "$TMP/poll.json" |
	jq -s -c --argjson h $HUNG '[.[] | [.destinations[:$h][] | select(.push | not)] | length]')
fs_log "per round: answering destinations pushed $live (of $LIVE), black-holed ones not pushed $hung (of $HUNG)"
check "every round after the first measures every answering destination" \
	test "$(jq -c --argjson l $LIVE '.[1:] | all(. == $l)' <<<"$live")" = true
# The black hole does hang the probes (else this test shows nothing).
check "no black-holed destination is measured" \
	test "$(jq -c --argjson h $HUNG 'all(. == $h)' <<<"$hung")" = true
check "no probe failed locally" bash -c "! grep -q 'probe not sent' '$TMP/poll.log'"
if ((_fs_failed)); then
	tail -n 5 "$TMP/poll.log" | sed 's/^/#   /'
fi
fs_done
