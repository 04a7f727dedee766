#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two writers on one flowshape qdisc (issue 19): two agents feeding the
# same qdisc, then an operator's "tc qdisc change" loop beside them.  An
# agent pushes once per round (its flowshape_agent_pushes_total follows
# its flowshape_agent_rounds_total), however often the others write;
# before, every flowshape RTM_NEWQDISC from another socket made it push
# again, and the two agents answered each other's pushes in a loop.  An
# entry of ours that another writer deletes is pushed again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent-lib.sh"
fs_require_root
fs_require_cmd tc ip jq
fs_load_module

AGENT=${FLOWSHAPE_AGENT:-$FS_TOP/tools/agent/flowshape-agent}
[[ -x $AGENT ]] || fs_skip "flowshape-agent not built (make -C tools/agent)"

NS=$NS0
# The two-agent window: several 1 s rounds, even under TCG.
WINDOW_S=6
TMP=$(mktemp -d)
fs_on_exit rm -rf "$TMP"

fs_netns "$NS" || fs_skip "cannot create namespaces"
ip -n "$NS" link set lo up
fs_dummy "$NS" w0 v4only
check "flowshape root qdisc" n0 tc qdisc add dev w0 root handle 1: flowshape stale_after 10s

# agent_conf PORT NET: an agent serving /metrics on PORT, feeding w0 with
# two destinations in 10.NET.0.0/16 (no probes, no metrics: levels 0,
# pushed every round).  Each keeps the other's entries (foreign_entries).
agent_conf()
{
	cat <<EOF
[agent]
control = proportional
interval = 1s
stale_after = 10s
metrics_listen = 127.0.0.1:$1

[qdisc]
dev = w0
foreign_entries = keep

[destination n$2a]
prefix = 10.$2.0.0/24
probe = none
metrics = none

[destination n$2b]
prefix = 10.$2.1.0/24
probe = none
metrics = none
EOF
}
agent_conf 9481 201 >"$TMP/a.conf"
agent_conf 9482 202 >"$TMP/b.conf"
fs_bg "$NS" "$AGENT" -c "$TMP/a.conf" -vv >"$TMP/a.log" 2>&1
PID_A=$BG_PID
fs_bg "$NS" "$AGENT" -c "$TMP/b.conf" -vv >"$TMP/b.log" 2>&1
PID_B=$BG_PID

# metric PORT NAME [LABEL...]: one value from that agent's /metrics.
metric()
{
	local port=$1
	shift
	fs_prom_value "$(fs_http_get "$NS" "http://127.0.0.1:$port/metrics")" "$@"
}
entries() { fs_dest_count "$NS" w0; }
all_four() { [[ $(entries) == 4 ]]; }
check "both agents' entries in the table" wait_for 30 all_four

# window NAME "PORT..." CMD...: run CMD while the agents on PORT... run;
# then check that each pushed at most once per round it finished (+2: a
# round in flight at either end), and that it did look at the tables
# after the other writers' changes (so the bound is not met by not
# listening).
window()
{
	local what=$1 ports=$2 port pa pr p1 r1 c0 c1 t0
	shift 2
	declare -A p0 r0 k0
	for port in $ports; do
		p0[$port]=$(metric "$port" flowshape_agent_pushes_total)
		r0[$port]=$(metric "$port" flowshape_agent_rounds_total)
		k0[$port]=$(metric "$port" flowshape_agent_table_checks_total 'result="intact"')
	done
	t0=$(fs_now_ms)
	"$@"
	fs_log "$what: the window took $(($(fs_now_ms) - t0)) ms"
	for port in $ports; do
		p1=$(metric "$port" flowshape_agent_pushes_total)
		r1=$(metric "$port" flowshape_agent_rounds_total)
		c1=$(metric "$port" flowshape_agent_table_checks_total 'result="intact"')
		c0=${k0[$port]}
		pa=$((p1 - ${p0[$port]:-0}))
		pr=$((r1 - ${r0[$port]:-0}))
		fs_log "$what: agent :$port: $pa pushes, $pr rounds, $((${c1:-0} - ${c0:-0})) intact table checks"
		check "$what: agent :$port rounds go on ($pr >= 2)" test "$pr" -ge 2
		check "$what: agent :$port pushes $pa <= rounds $pr + 2" test "$pa" -le $((pr + 2))
		check "$what: agent :$port looked at the other writers' changes" \
			test "${c1:-0}" -gt "${c0:-0}"
	done
}

# Two agents, nothing else, for WINDOW_S.
past() { (($(fs_now_ms) >= $1)); }
idle() { wait_for $((WINDOW_S + 5)) past $(($(fs_now_ms) + WINDOW_S * 1000)); }
window "two agents" "9481 9482" idle
fs_stop "$PID_B"

# Agent A and an operator changing a parameter CHANGES times, as fast as
# tc goes (each change used to cost a push).
CHANGES=20
operator()
{
	local i
	for ((i = 0; i < CHANGES; i++)); do
		n0 tc qdisc change dev w0 root flowshape max_delay $((100 + i % 2))ms || return 1
	done
}
window "agent A and $CHANGES tc qdisc changes" 9481 operator

# Another writer deletes one of agent A's entries: A pushes it again.
rp0=$(metric 9481 flowshape_agent_table_checks_total 'result="repushed"')
check "delete an entry of agent A" n0 tc qdisc change dev w0 root flowshape dest 10.201.1.0/24 delete
check "it is back" wait_for 10 all_four
rp1=$(metric 9481 flowshape_agent_table_checks_total 'result="repushed"')
check "... pushed again because it was missing (repushed $rp0 -> $rp1)" \
	test "${rp1:-0}" -gt "${rp0:-0}"
check "... A says so" grep -q "lost 1 of our 2 entries" "$TMP/a.log"
check "B's entries were left alone" \
	test "$(fs_dests "$NS" w0 | jq '[.[] | select(.dest | startswith("10.202."))] | length')" = 2

fs_stop "$PID_A"
if ((_fs_failed)); then
	for f in a b; do
		fs_log "agent $f:"
		grep -v 'checking our entries' "$TMP/$f.log" | tail -n 15 | sed 's/^/#   /'
	done
fi
fs_done
