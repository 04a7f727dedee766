#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# flowshape-agent with the largest table its configuration allows (4096
# destinations), IPv4 then IPv6: every entry reaches the kernel and is
# listed.  A nest's length is 16 bits, so one change message holds ~1,360
# IPv6 (~1,800 IPv4) entries; the agent splits its pushes (nl.c).  Before
# that, 3000 IPv4 + 1000 IPv6 were refused every round ("Attribute failed
# policy validation") and every entry failed open.
#
# All destinations are /24 (/48) prefixes probed at one address, the
# receiver's, one probe each per round; the round is 2 s (the default
# 200 ms is too short for 4096 replies under TCG: a probe answered after
# its round ends reads as "no probe reply").  The time of one --once round (probe all, push all) is
# printed.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip jq
fs_load_module

AGENT=$FS_TOP/tools/agent/flowshape-agent
[[ -x $AGENT ]] || fs_bail "flowshape-agent not built (make -C tools/agent)"
N=${FLOWSHAPE_SCALE_DESTS:-4096}
TMP=$(mktemp -d)
fs_on_exit rm -rf "$TMP"

fs_netns_pair || fs_bail "cannot build the veth pair"
# The agent sends a round's 4096 probes at once, and veth hands them to
# the receiving CPU's backlog, which holds netdev_max_backlog (1000)
# packets: most would be dropped there, read as loss, and those
# destinations left unmeasured (so unpushed).  A NIC has its own rings;
# raise the backlog for this test (a global sysctl; restored at exit).
old_backlog=$(sysctl -n net.core.netdev_max_backlog)
fs_on_exit sysctl -qw net.core.netdev_max_backlog="$old_backlog"
sysctl -qw net.core.netdev_max_backlog=20000

# conf FAMILY: N destinations of FAMILY, probed at the peer.
conf()
{
	local i
	printf '[agent]\nprobes = 1\ninterval = 2s\n\n[qdisc]\ndev = veth0\n\n'
	for ((i = 0; i < N; i++)); do
		if [[ $1 == 4 ]]; then
			printf '[destination d%d]\nprefix = 10.%d.%d.0/24\nprobe = icmp 10.100.0.2\nmetrics = none\n\n' \
				"$i" $((64 + i / 256)) $((i % 256))
		else
			printf '[destination d%d]\nprefix = fd00:%x:%x::/48\nprobe = icmp fd00:100::2\nmetrics = none\n\n' \
				"$i" $((0x200 + i / 256)) $((i % 256))
		fi
	done
}

for fam in 4 6; do
	fs_section "IPv$fam, $N destinations"
	conf "$fam" >"$TMP/v$fam.conf"
	fs_fresh veth0 max_dests 65535
	start=$(fs_now_ms)
	n0 "$AGENT" -c "$TMP/v$fam.conf" -v --once >"$TMP/v$fam.log" 2>&1
	rc=$?
	took=$(($(fs_now_ms) - start))
	fs_log "IPv$fam: --once with $N destinations took $took ms (exit $rc)"
	check_eq "IPv$fam: --once with $N destinations succeeds" 0 "$rc"
	((rc == 0)) || tail -n 5 "$TMP/v$fam.log" | sed 's/^/#   /' 
	# The agent pushes what it measured this round; a probe lost under
	# TCG (reply later than the probe timeout) leaves its destination
	# unpushed, and that is not what this test is about.  Its subject is
	# that every measured entry arrives, and that they need several
	# messages (one holds 1364 entries).  (Measured on a loaded host:
	# 4096/4096 with the proportional law's 1 s rounds; 2218 IPv4 and
	# 4076 IPv6 with the closed loop's rounds: probing thousands of
	# destinations per round under TCG is issue 19's, not this test's.)
	pushed=$(grep -o '[^ ]*: measured, pushing' "$TMP/v$fam.log" | sort -u | wc -l)
	fs_log "IPv$fam: $pushed of $N measured and pushed; unpushed, e.g.: $(grep -m1 'not pushed' "$TMP/v$fam.log")"
	check "IPv$fam: $pushed of $N destinations measured (> 1364: several messages)" \
		test "$pushed" -gt 1364
	check_eq "IPv$fam: every pushed destination is in the kernel's table" "$pushed" \
		"$(fs_xstat "$NS0" veth0 dests)"
	# (Counted, not parsed: jq over 4096 entries costs a minute under TCG.)
	check_eq "IPv$fam: and listed by tc class show" "$pushed" \
		"$(tc -n "$NS0" class show dev veth0 | grep -c '^class flowshape ')"
	check "IPv$fam: no refusal logged" bash -c "! grep -qi 'refused\|policy' '$TMP/v$fam.log'"
done

fs_done
