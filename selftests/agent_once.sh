#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# flowshape-agent's exit status and log lines, as flowshape-agent(8)
# promises them (EXIT STATUS, LOGGING):
#   - 2 on a usage error (unknown option, stray argument, --json without
#     --dry-run);
#   - --once: 0 once it pushed to every qdisc found; 1 with no flowshape
#     qdisc to push to, and 1 when the kernel refuses the push (a
#     max_dests of 1 for two destinations), the kernel's extended ACK
#     message in the log;
#   - under systemd (JOURNAL_STREAM set) every line carries its sd-daemon
#     "<N>" priority (the refusal "<3>", the start notice "<5>"), else
#     "flowshape-agent: error: ".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent-lib.sh"
fs_require_root
fs_require_cmd tc ip jq
fs_load_module

AGENT=$FS_TOP/tools/agent/flowshape-agent
[[ -x $AGENT ]] || fs_skip "flowshape-agent not built (make -C tools/agent)"
fs_netns_pair v4only || fs_skip "cannot build the veth pair"
TMP=$(mktemp -d)
fs_on_exit rm -rf "$TMP"

# --- usage errors: 2 ------------------------------------------------------
CONF=$TMP/agent.conf
cat >"$CONF" <<EOF
[agent]
interval = 1s
stale_after = 5s
probes = 2

[qdisc]
dev = veth0

[destination peer]
prefix = 10.100.0.2/32
probe = icmp
metrics = none

[destination other]
prefix = 10.101.0.0/16
probe = none
metrics = none
EOF

# run_rc OUT ARGS...: run the agent in NS0, stdout+stderr to OUT; echo
# its exit status.
run_rc()
{
	local out=$1
	shift
	ip netns exec "$NS0" "$@" >"$out" 2>&1
	echo $?
}

for args in "--no-such-option" "-c $CONF stray"; do
	# shellcheck disable=SC2086 # the words are the arguments
	rc=$(run_rc "$TMP/usage.out" "$AGENT" $args)
	check_eq "usage error ($args): exit 2" 2 "$rc"
	check "... with the usage text" grep -q '^Usage: flowshape-agent' "$TMP/usage.out"
done
rc=$(run_rc "$TMP/usage.out" "$AGENT" -c "$CONF" --once --json)
check_eq "usage error (--json without --dry-run): exit 2" 2 "$rc"
check "... saying why" grep -q -- "--json goes with --dry-run" "$TMP/usage.out"
check_eq "a broken configuration is 1, not 2" 1 \
	"$(run_rc "$TMP/bad.out" "$AGENT" -c "$TMP/no-such.conf" --once)"

# --- --once: 1 with no qdisc to push to -----------------------------------
rc=$(run_rc "$TMP/noq.out" "$AGENT" -c "$CONF" --once)
fs_log "no qdisc: $(tr '\n' '|' <"$TMP/noq.out")"
check_eq "--once with no flowshape qdisc on veth0: exit 1" 1 "$rc"
check "... saying so" grep -q "no flowshape qdisc to push to" "$TMP/noq.out"
check_eq "--once --dry-run needs no qdisc: exit 0" 0 \
	"$(run_rc "$TMP/dry.out" "$AGENT" -c "$CONF" --once --dry-run)"

# --- --once: 0 when pushed ------------------------------------------------
check "flowshape on veth0 (no delay from the levels pushed)" \
	n0 tc qdisc add dev veth0 root handle 1: flowshape congestion_weight 0 load_weight 0
rc=$(run_rc "$TMP/ok.out" env JOURNAL_STREAM=8:4242 "$AGENT" -c "$CONF" --once)
fs_log "pushed: $(tr '\n' '|' <"$TMP/ok.out")"
check_eq "--once with a qdisc: exit 0" 0 "$rc"
check_eq "... both destinations pushed" 2 "$(fs_dest_count "$NS0" veth0)"
check "... the probed one fresh" \
	fs_jq_true '.stale == false' "$(fs_dest "$NS0" veth0 10.100.0.2/32)"
check_eq "... stale_after set" 5000000000 "$(fs_qopt "$NS0" veth0 stale_after)"
check "JOURNAL_STREAM: the start notice is \"<5>started: ...\"" \
	grep -q '^<5>started: 2 destination(s)' "$TMP/ok.out"
check "JOURNAL_STREAM: every line has a <N> priority, nothing else before it" \
	awk 'NF && !/^<[3-7]>[^<]/ { bad = 1 } END { exit bad || NR == 0 }' "$TMP/ok.out"

# --- --once: 1 when the kernel refuses, with its message ------------------
# Two destinations (the second new: 10.102.0.0/16) for a table of one.
n0 tc qdisc del dev veth0 root
check "a new qdisc with room for one destination" \
	n0 tc qdisc add dev veth0 root handle 1: flowshape max_dests 1 \
	congestion_weight 0 load_weight 0
sed -i 's|^prefix = 10.101.0.0/16|prefix = 10.102.0.0/16|' "$CONF"
rc=$(run_rc "$TMP/refused.out" env JOURNAL_STREAM=8:4242 "$AGENT" -c "$CONF" --once)
fs_log "refused: $(tr '\n' '|' <"$TMP/refused.out")"
check_eq "--once whose push the kernel refuses: exit 1" 1 "$rc"
check "the kernel's extack message logged, at priority error (<3>)" \
	grep -q '^<3>push to .*veth0.* refused: flowshape: destination table full (max_dests reached)' \
	"$TMP/refused.out"
check_eq "nothing was pushed" 0 "$(fs_dest_count "$NS0" veth0)"
rc=$(run_rc "$TMP/refused2.out" env -u JOURNAL_STREAM "$AGENT" -c "$CONF" --once)
check_eq "without JOURNAL_STREAM: exit 1 too" 1 "$rc"
check "... and the line says \"flowshape-agent: error:\"" \
	grep -q '^flowshape-agent: error: push to .* refused: flowshape: destination table full' \
	"$TMP/refused2.out"

fs_done
