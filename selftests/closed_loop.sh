#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The product's promise, end to end: TCP bulk (iperf3, 4 and 16 streams)
# plus a request/response flow (irtt, 10 per second) from a client through
# an ingress node to a server behind a 4 Mbit/s bottleneck with a deep
# (~800 ms) buffer.  On the ingress node's egress: fq_codel (the
# baseline), then flowshape + flowshape-agent with a plain config (one
# destination, defaults everywhere), in the same boot.
#
# fq_codel cannot see the bottleneck's queue: the RR flow waits behind
# ~800 ms of bulk data there.  flowshape, driven by the agent's probes,
# must pace the destination just below the bottleneck's rate so that the
# queue moves to flowshape's own (AQM'd) queues, where the RR flow is
# isolated from the bulk flows.
#
# Goals (issue 15), at 4 and at 16 streams; a lost request counts as late:
#   - steady-state RR p99 (requests sent from LAB_SETTLE s on) >= 10x
#     lower than fq_codel's;
#   - whole-run RR p95 (from the first TCP packet) >= 4x lower;
#   - goodput >= 0.9x fq_codel's.
# The numbers are printed ("# closed-loop:" lines) and written to
# $FLOWSHAPE_RESULTS/closed_loop.txt when that is set.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lab-lib.sh"
fs_require_root
fs_require_cmd tc ip jq iperf3 irtt ethtool
fs_load_module

AGENT=$FS_TOP/tools/agent/flowshape-agent
[[ -x $AGENT ]] || fs_bail "flowshape-agent not built (make -C tools/agent)"

LAB_SECS=${LAB_SECS:-30}
LAB_SETTLE=${LAB_SETTLE:-10}
# The raw results (iperf3 and irtt JSON, the agent's logs) are kept in
# $FLOWSHAPE_RESULTS/closed_loop/ when that is set.
if [[ -n ${FLOWSHAPE_RESULTS:-} ]]; then
	TMP=$FLOWSHAPE_RESULTS/closed_loop
	rm -rf "$TMP"
	mkdir -p "$TMP" || fs_bail "cannot create $TMP"
else
	TMP=$(mktemp -d)
	fs_on_exit rm -rf "$TMP"
fi

lab_topology || fs_bail "cannot build the lab topology"

cat >"$TMP/agent.conf" <<EOF
[qdisc]
dev = i1

[destination server]
prefix = 10.61.3.0/24
probe = icmp $LAB_SERVER
metrics = none
EOF

# run_fq_codel STREAMS / run_flowshape STREAMS: one run each; results in
# $TMP/<qdisc>-<streams>.*
run_fq_codel()
{
	li tc qdisc replace dev i1 root fq_codel
	lab_run "$TMP/fq_codel-$1" "$1" "$LAB_SECS"
}

run_flowshape()
{
	local rc=0
	li tc qdisc del dev i1 root 2>/dev/null
	li tc qdisc add dev i1 root handle 1: flowshape || return 1
	fs_bg "$LAB_I" "$AGENT" -c "$TMP/agent.conf" -vv >"$TMP/agent-$1.log" 2>&1
	local apid=$BG_PID
	# The agent has measured the path and pushed its entry.
	wait_for 20 _entry_pushed || rc=1
	lab_run "$TMP/flowshape-$1" "$1" "$LAB_SECS" || rc=1
	fs_xsnap "$LAB_I" i1
	fs_log "closed-loop: flowshape $1 streams: $(for k in enqueued drops drops_flow_limit drops_aqm ecn_marks delayed stale_packets reslotted; do printf '%s=%s ' "$k" "${XS[$k]:-}"; done)"
	fs_stop "$apid"
	return $rc
}

_entry_pushed() { [[ $(fs_dest_count "$LAB_I" i1 2>/dev/null) -ge 1 ]]; }

# ratio A B: B / A (how many times lower A is); "inf" when only B is
# infinite (lost), 0 when A is and "nan" when either has no sample.
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "nan" || b == "nan") { print "nan"; exit }
		if (a == "inf" && b == "inf") { print 1; exit }
		if (a == "inf") { print 0; exit }
		if (b == "inf") { print "inf"; exit }
		if (a <= 0) a = 0.001
		printf "%.2f\n", b / a }'
}

results=${FLOWSHAPE_RESULTS:+$FLOWSHAPE_RESULTS/closed_loop.txt}
if [[ -n $results ]]; then
	{
		echo "# tree $(git -C "$FS_TOP" describe --always --dirty 2>/dev/null || echo unknown)," \
			"$(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r)"
		echo "# $(nproc) CPU(s) in the guest," \
			"LAB_SECS=$LAB_SECS LAB_SETTLE=$LAB_SETTLE"
		echo "# command: FLOWSHAPE_VM_QEMU_OPTS='-icount shift=0' tools/vm/run -c 1" \
			"-e FLOWSHAPE_RESULTS=\$PWD/build/results -- selftests/runner.sh closed_loop.sh"
	} >"$results"
fi
for n in ${CL_STREAMS:-4 16}; do
	fs_section "$n streams"
	check "fq_codel, $n streams: iperf3 and irtt ran" run_fq_codel "$n"
	check "flowshape, $n streams: the agent pushed, iperf3 and irtt ran" run_flowshape "$n"
	fq=$TMP/fq_codel-$n fs=$TMP/flowshape-$n
	fq_ss=$(lab_rr_pct "$fq" 99 "$LAB_SETTLE") fs_ss=$(lab_rr_pct "$fs" 99 "$LAB_SETTLE")
	fq_p95=$(lab_rr_pct "$fq" 95) fs_p95=$(lab_rr_pct "$fs" 95)
	fq_gp=$(lab_goodput "$fq") fs_gp=$(lab_goodput "$fs")
	line="streams=$n fq_codel: rr_p99_steady=${fq_ss}ms rr_p95=${fq_p95}ms rr_lost=$(lab_rr_lost "$fq") goodput=${fq_gp}bps; flowshape: rr_p99_steady=${fs_ss}ms rr_p95=${fs_p95}ms rr_lost=$(lab_rr_lost "$fs") goodput=${fs_gp}bps"
	fs_log "closed-loop: $line"
	[[ -n $results ]] && echo "$line" >>"$results"
	r_ss=$(ratio "$fs_ss" "$fq_ss")
	r_95=$(ratio "$fs_p95" "$fq_p95")
	check "$n streams: steady-state RR p99 ${fs_ss} ms vs fq_codel ${fq_ss} ms: ${r_ss}x lower (>= 10x)" \
		fcmp "\"$r_ss\" == \"inf\" || $r_ss >= 10"
	check "$n streams: whole-run RR p95 ${fs_p95} ms vs fq_codel ${fq_p95} ms: ${r_95}x lower (>= 4x)" \
		fcmp "\"$r_95\" == \"inf\" || $r_95 >= 4"
	check "$n streams: goodput $fs_gp vs fq_codel $fq_gp bit/s (>= 0.9x)" \
		fcmp "$fs_gp >= 0.9 * $fq_gp"
done

fs_done
