#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Start-up reconciliation (issue 19): entries left in a qdisc's table by a
# configuration edited while the agent was stopped are deleted when the
# agent starts (foreign_entries = delete, the default); a stale /32 left
# inside a configured /24 would otherwise shadow it.  With
# foreign_entries = keep the agent leaves other writers' entries alone.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent-lib.sh"
fs_require_root
fs_require_cmd tc ip jq
fs_load_module

AGENT=${FLOWSHAPE_AGENT:-$FS_TOP/tools/agent/flowshape-agent}
[[ -x $AGENT ]] || fs_skip "flowshape-agent not built (make -C tools/agent)"

NS=$NS0
TMP=$(mktemp -d)
fs_on_exit rm -rf "$TMP"

fs_netns "$NS" || fs_skip "cannot create namespaces"
ip -n "$NS" link set lo up
fs_dummy "$NS" w0 v4only
check "flowshape root qdisc" n0 tc qdisc add dev w0 root handle 1: flowshape stale_after 10s

# conf [QDISC_KEY...]: one destination, 10.203.0.0/24, levels 0.
conf()
{
	cat <<EOF
[agent]
control = proportional
interval = 1s
stale_after = 10s

[qdisc]
dev = w0
$*

[destination web]
prefix = 10.203.0.0/24
probe = none
metrics = none
EOF
}
prefixes() { fs_dests "$NS" w0 | jq -c '[.[].dest] | sort'; }
once() { n0 "$AGENT" -c "$1" --once -v >"$2" 2>&1; }	# CONF LOG

# What an earlier configuration left: a /32 inside the /24 (it would go
# stale and shadow the live /24) and a /16 no longer configured.
check "leftover entries" n0 tc qdisc change dev w0 root flowshape \
	dest 10.203.0.7/32 congestion 0.5 dest 10.204.0.0/16 load 0.5
check_eq "the table before the agent" '["10.203.0.7/32","10.204.0.0/16"]' "$(prefixes)"

conf >"$TMP/own.conf"
check "agent --once (foreign_entries = delete by default)" \
	once "$TMP/own.conf" "$TMP/own.log"
check_eq "only the configured prefix is left" '["10.203.0.0/24"]' "$(prefixes)"
check "the agent says what it deleted" \
	grep -q "deleted 2 entries whose prefix is not configured" "$TMP/own.log"

# A shared table: another writer's entry stays.
check "another writer's entry" n0 tc qdisc change dev w0 root flowshape \
	dest 10.205.0.0/16 load 0.25
conf "foreign_entries = keep" >"$TMP/keep.conf"
check "agent --once with foreign_entries = keep" \
	once "$TMP/keep.conf" "$TMP/keep.log"
check_eq "the other writer's entry is kept" '["10.203.0.0/24","10.205.0.0/16"]' "$(prefixes)"
check_eq "... with its level" 0.25 "$(fs_dest "$NS" w0 10.205.0.0/16 .load)"

if ((_fs_failed)); then
	tail -n 20 "$TMP/own.log" "$TMP/keep.log" | sed 's/^/#   /'
fi
fs_done
