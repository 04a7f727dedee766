# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the robustness tests (robust-*.sh), sourced after lib.sh.
# See Documentation/robustness.md.

NLFUZZ=$FS_SELFTESTS/nlfuzz
fs_require_nlfuzz()
{
	[[ -x $NLFUZZ ]] || fs_skip "nlfuzz not built (make -C selftests)"
}

# (Background commands: fs_bg, fs_stop and fs_kill_ns in lib.sh.)

# Long variants (make soak) set FLOWSHAPE_SOAK=1; the sizes below follow.
SOAK=${FLOWSHAPE_SOAK:-0}

# ---------------------------------------------------------------------------
# Slab accounting of the module's flow cache ("flowshape_flow").
#
# Debian's kernel merges slab caches of the same size and flags
# (CONFIG_SLAB_MERGE_DEFAULT=y): unless the VM was booted with
# "slab_nomerge" (FLOWSHAPE_VM_APPEND=slab_nomerge, what "make soak"
# does), /sys/kernel/slab/flowshape_flow is an alias of a shared cache
# (":0000192") and its counts include other kernel objects of that size.
# fs_slab_merged says which; fs_slab_objs shrinks the cache first (which
# flushes the per-CPU slabs, so that the count is exact and not the
# "active" over-estimate of /proc/slabinfo) and prints the objects in use.

FS_SLAB=/sys/kernel/slab/flowshape_flow

fs_slab_merged()
{
	[[ -L $FS_SLAB ]] && [[ $(readlink "$FS_SLAB") == *:* ]]
}

fs_slab_objs()
{
	[[ -e $FS_SLAB ]] || { echo 0; return; }
	echo 1 >"$FS_SLAB/shrink" 2>/dev/null
	local o
	read -r o _ <"$FS_SLAB/objects"
	echo "$o"
}

# Tolerance for "back to the baseline": exact (0) for an unmerged cache;
# for a merged one, the other users of the shared cache come and go: allow
# what two slabs per CPU hold plus 64 objects (measured churn of an idle
# VM's 192-byte cache between two reads: a few objects).
fs_slab_tolerance()
{
	if fs_slab_merged; then
		local per
		per=$(cat "$FS_SLAB/objs_per_slab" 2>/dev/null || echo 32)
		echo $((per * 2 * $(nproc) + 64))
	else
		echo 0
	fi
}

# fs_meminfo_kb FIELD: a /proc/meminfo value in kB.
fs_meminfo_kb()
{
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

# ---------------------------------------------------------------------------
# The accounting invariants of Documentation/flowshape.rst, on a quiet
# qdisc (no traffic in flight: the dump is not one atomic snapshot):
#   drops = drops_limit + drops_flow_limit + drops_overflow + drops_horizon
#   enqueued = released + purged + qlen
#   released = packets sent (the robust tests send no GSO packets)
# plus early_releases = 0.  PREFIX names the check in the TAP output.
#
# "Quiet" is waited for, not slept for: the counters are read until they
# satisfy the equations (a packet in flight between two counters makes a
# read miss by one) or FS_INV_WAIT seconds have passed; the checks then
# judge the last read.  A real accounting error never settles and fails.
FS_INV_WAIT=${FS_INV_WAIT:-10}
_fs_invariants_hold()
{
	fs_xsnap "$1" "$2" &&
		((XS[drops] == XS[drops_limit] + XS[drops_flow_limit] +
			XS[drops_overflow] + XS[drops_horizon] &&
		  XS[enqueued] == XS[released] + XS[purged] + XS[qlen] &&
		  XS[released] == XS[packets] && XS[early_releases] == 0))
}
check_invariants()
{
	local ns=$1 dev=$2 prefix=$3
	wait_for "$FS_INV_WAIT" _fs_invariants_hold "$ns" "$dev" ||
		fs_log "$prefix: counters not consistent within $FS_INV_WAIT s"
	[[ -n ${XS[enqueued]} ]] || { check "$prefix: stats readable" false; return; }
	fs_log "$prefix: enqueued=${XS[enqueued]} released=${XS[released]}" \
		"purged=${XS[purged]} packets=${XS[packets]} qlen=${XS[qlen]}" \
		"drops=${XS[drops]} drops_limit=${XS[drops_limit]}" \
		"drops_flow_limit=${XS[drops_flow_limit]}" \
		"drops_overflow=${XS[drops_overflow]} flows=${XS[flows]}" \
		"overflow_packets=${XS[overflow_packets]} early_releases=${XS[early_releases]}"
	check_eq "$prefix: drops = drops_limit + drops_flow_limit + drops_overflow + drops_horizon" \
		"${XS[drops]}" "$((XS[drops_limit] + XS[drops_flow_limit] + XS[drops_overflow] + XS[drops_horizon]))"
	check_eq "$prefix: enqueued = released + purged + qlen" \
		"${XS[enqueued]}" "$((XS[released] + XS[purged] + XS[qlen]))"
	check_eq "$prefix: released = sent (no GSO)" "${XS[released]}" "${XS[packets]}"
	check_eq "$prefix: no early release" 0 "${XS[early_releases]}"
}

# fs_rmmod_ok: unload the module (namespaces of earlier steps are torn down
# asynchronously and may hold a qdisc for a moment: callers retry).
fs_loaded() { grep -q '^sch_flowshape ' /proc/modules; }
fs_rmmod_ok() { rmmod sch_flowshape 2>/dev/null; ! fs_loaded; }

# ---------------------------------------------------------------------------
# pktgen into a device, through its qdisc (xmit_mode queue_xmit).
#
# fs_pktgen DEV COUNT [KEY VALUE]...: send COUNT packets from the calling
# CPU's pktgen thread; KEY VALUE pairs are pktgen device commands
# (dst_min 10.0.0.1, udp_src_min 1, flag UDPSRC_RND, ...).  Blocks until
# done; prints pktgen's result line.
fs_pktgen()
{
	local dev=$1 count=$2 pg=/proc/net/pktgen
	shift 2
	[[ -d $pg ]] || modprobe pktgen 2>/dev/null || return 1
	local thr=$pg/kpktgend_0 f=$pg/$dev i
	# rem_device_all is carried out by the pktgen thread, later: wait
	# until the device's file is gone before adding it again.
	for ((i = 0; i < 100; i++)); do
		[[ -e $f ]] || break
		echo "rem_device_all" >"$thr"
		sleep 0.05
	done
	echo "add_device $dev" >"$thr" || return 1
	{
		echo "xmit_mode queue_xmit"
		echo "count $count"
		echo "clone_skb 0"
		echo "pkt_size 64"
		echo "delay 0"
		echo "dst_mac 02:00:00:00:00:02"
		while (($# >= 2)); do
			echo "$1 $2"
			shift 2
		done
	} | while read -r line; do
		echo "$line" >"$f" || { echo "pktgen: '$line' refused" >&2; exit 1; }
	done || return 1
	echo start >"$pg/pgctrl" || return 1
	# The write returns when the run is over, or earlier when a signal
	# interrupts pktgen's wait: poll until the result is there.
	for ((i = 0; i < 6000; i++)); do
		grep -q '^Result: OK' "$f" && break
		sleep 0.1
	done
	grep -m1 -A1 '^Result' "$f" | tr '\n' ' '
	echo
}

# fs_pktgen_ns NS DEV COUNT [KEY VALUE]...: fs_pktgen in namespace NS
# (/proc/net/pktgen is per namespace).
fs_pktgen_ns()
{
	local ns=$1
	shift
	ip netns exec "$ns" bash -c "$(declare -f fs_pktgen); fs_pktgen $(printf '%q ' "$@")"
}

# fs_pktgen_sent RESULT: packets offered to the qdisc in fs_pktgen's
# result line: pktgen counts accepted ones ("OK: ... N (...)") and refused
# ones (NET_XMIT_DROP: "errors: N") apart, and retries until COUNT were
# accepted.
fs_pktgen_sent()
{
	local ok err
	ok=$(sed -n 's/.*OK: [0-9]*([^)]*) usec, \([0-9]*\) (.*/\1/p' <<<"$1")
	err=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$1")
	echo $((${ok:-0} + ${err:-0}))
}
