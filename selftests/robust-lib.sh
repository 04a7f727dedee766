# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the robustness tests (robust-*.sh), sourced after lib.sh.
# See Documentation/robustness.md.

NLFUZZ=$FS_SELFTESTS/nlfuzz
fs_require_nlfuzz()
{
	[[ -x $NLFUZZ ]] || fs_skip "nlfuzz not built (make -C selftests)"
}

# fs_bg NS CMD...: run CMD in namespace NS in the background; BG_PID is
# CMD's own pid (ip netns exec execs it), killed at exit.  (Not "n0 CMD &":
# that backgrounds a subshell running the n0 function, and killing $! then
# leaves CMD running, holding the test's stdout.)
fs_bg()
{
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	BG_PID=$!
	fs_on_exit kill "$BG_PID"
}

# fs_kill_ns NS...: at exit, kill whatever still runs in the namespaces.
fs_kill_ns()
{
	local ns
	for ns in "$@"; do
		fs_on_exit "ip netns pids $ns 2>/dev/null | xargs -r kill -9"
	done
}

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
#   drops = drops_limit + drops_flow_limit
#   enqueued = released + purged + qlen
#   released = packets sent (the robust tests send no GSO packets)
# plus early_releases = 0.  PREFIX names the check in the TAP output.
check_invariants()
{
	local ns=$1 dev=$2 prefix=$3
	fs_xsnap "$ns" "$dev" || { check "$prefix: stats readable" false; return; }
	fs_log "$prefix: enqueued=${XS[enqueued]} released=${XS[released]}" \
		"purged=${XS[purged]} packets=${XS[packets]} qlen=${XS[qlen]}" \
		"drops=${XS[drops]} drops_limit=${XS[drops_limit]}" \
		"drops_flow_limit=${XS[drops_flow_limit]} flows=${XS[flows]}" \
		"overflow_packets=${XS[overflow_packets]} early_releases=${XS[early_releases]}"
	check_eq "$prefix: drops = drops_limit + drops_flow_limit" \
		"${XS[drops]}" "$((XS[drops_limit] + XS[drops_flow_limit]))"
	check_eq "$prefix: enqueued = released + purged + qlen" \
		"${XS[enqueued]}" "$((XS[released] + XS[purged] + XS[qlen]))"
	check_eq "$prefix: released = sent (no GSO)" "${XS[released]}" "${XS[packets]}"
	check_eq "$prefix: no early release" 0 "${XS[early_releases]}"
}

# fs_kernel_problems: lines in dmesg that tools/vm/run would fail the run on.
fs_kernel_problems()
{
	dmesg | grep -cE 'BUG:|kernel BUG at|WARNING:|general protection|refcount_t|list_add corruption|list_del corruption|Oops|KASAN|UBSAN|soft lockup|hard LOCKUP|hung task|blocked for more than|RCU stall|self-detected stall'
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
