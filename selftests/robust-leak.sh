#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Leak checks (Debian's kernel has no kmemleak).  Cycles of: a qdisc with a
# destination table churned (nlfuzz churn: tables built and freed through
# RCU) and a flow flood (pktgen, one new 5-tuple per packet); then the
# module's objects are counted back to zero:
#   - xstats: dests 0 after flush_dests; after a reset (device down/up)
#     the flows kept, none throttled (a reset frees only queued packets),
#     before the qdisc is deleted;
#   - the flow cache (/sys/kernel/slab/flowshape_flow, shrunk so that the
#     count is exact) back to its baseline after the cycles: exactly when
#     the cache is not merged (boot with slab_nomerge: make soak does),
#     within a small tolerance when it is (robust-lib.sh);
#   - unreclaimable slab (SUnreclaim) and vmalloc (VmallocUsed, where big
#     destination tables live) back within a tolerance (below) of their
#     baseline, taken after one warm-up cycle;
#   - rmmod succeeds and the cache is gone (kmem_cache_destroy would log a
#     "BUG ... Objects remaining" splat, failing the VM run, if a flow
#     had leaked from an unmerged cache).
# Tolerance for SUnreclaim and VmallocUsed: 1 MiB.  One cycle allocates
# ~4 MiB of flows (20000 x 192 bytes; 100000 in the soak) and a
# 3000-entry table per update (~150 KiB) dozens of times: a leak of one flow in four, or of one
# table per cycle for the soak's 30 cycles, would exceed it, while the
# idle VM's own drift between two reads was measured at ~100-300 KiB.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/robust-lib.sh"
fs_require_root
fs_require_cmd tc ip jq insmod rmmod
fs_require_nlfuzz
fs_load_module
modprobe pktgen 2>/dev/null || fs_skip "no pktgen"
fs_netns "$NS0" || fs_skip "cannot create a namespace"
fs_dummy "$NS0" dm0 v4only || fs_skip "no dummy device"
problems0=$(fs_kernel_problems)

if ((SOAK)); then
	CYCLES=30 PKTS=100000 CHURN_SECS=10
else
	CYCLES=2 PKTS=20000 CHURN_SECS=1
fi
TOL_KB=1024

# One cycle; "quiet" skips the TAP lines (the warm-up).
cycle()
{
	local tag=$1 quiet=${2:-} v nflows=
	n0 tc qdisc add dev dm0 root handle 1: flowshape max_flows 65536 \
		buckets 4096 flow_idle 3600s max_dests 65535 mode delay \
		max_delay 1ms congestion_threshold 0 stale_after 10s || return 1
	n0 "$NLFUZZ" churn dm0 -e 3000 -i 10 -t "$CHURN_SECS" >/dev/null || return 1
	fs_pktgen_ns "$NS0" dm0 "$PKTS" dst_min 10.0.1.0 dst_max 10.15.255.255 flag IPDST_RND \
		udp_src_min 1 udp_src_max 65535 flag UDPSRC_RND >/dev/null || return 1
	wait_for 10 fs_drained "$NS0" dm0 || return 1
	if [[ -z $quiet ]]; then
		v=$(fs_xstat_text "$NS0" dm0 flows)
		check "$tag: flows tracked ($v)" test "${v:-0}" -gt 0
		nflows=$v
		v=$(fs_xstat_text "$NS0" dm0 dests)
		check "$tag: destinations present ($v)" test "${v:-0}" -gt 0
	fi
	n0 tc qdisc change dev dm0 root flowshape flush_dests || return 1
	ip -n "$NS0" link set dm0 down
	ip -n "$NS0" link set dm0 up
	if [[ -z $quiet ]]; then
		check_eq "$tag: dests back to 0 (flush_dests)" 0 "$(fs_xstat_text "$NS0" dm0 dests)"
		# A reset frees the queued packets and keeps the flows
		# (idle, for the GC): the delete below frees them.
		check_eq "$tag: flows kept by the reset, none throttled" "$nflows 0" \
			"$(fs_xstat_text "$NS0" dm0 flows) $(fs_xstat_text "$NS0" dm0 throttled_flows)"
	fi
	n0 tc qdisc del dev dm0 root
}

# Memory readings: MEM_SLAB (flow cache objects), MEM_UNREC (SUnreclaim,
# kB), MEM_VM (VmallocUsed, kB), after dropping caches (which also runs the
# kvfree_rcu shrinker: destination tables queued for freeing are drained
# after the next grace period instead of up to 5 s later).
read_mem()
{
	echo 3 >/proc/sys/vm/drop_caches
	MEM_SLAB=$(fs_slab_objs)
	MEM_UNREC=$(fs_meminfo_kb SUnreclaim)
	MEM_VM=$(fs_meminfo_kb VmallocUsed)
}

# settled: what the last cycle freed (through RCU) is gone: three readings
# in a row, 0.3 s apart, agree (flow cache exactly, the others within
# 128 kB: less than one cycle's table, ~150 kB, and far below the 1 MiB
# tolerance).  Polled by wait_for, where a fixed 4 s sleep used to hope
# for the same.
_stable=0
settled()
{
	local s=$MEM_SLAB u=$MEM_UNREC v=$MEM_VM
	sleep 0.3
	read_mem
	if [[ -n $s && $s == "$MEM_SLAB" ]] && ((${u:-0} - MEM_UNREC <= 128 &&
	      MEM_UNREC - ${u:-0} <= 128 && ${v:-0} - MEM_VM <= 128 &&
	      MEM_VM - ${v:-0} <= 128)); then
		_stable=$((_stable + 1))
	else
		_stable=0
	fi
	((_stable >= 2))
}

# back_to_baseline: the readings are within the tolerances of the baseline.
back_to_baseline()
{
	read_mem
	((MEM_SLAB <= slab0 + tol && MEM_UNREC - unrec0 <= TOL_KB &&
	  MEM_VM - vm0 <= TOL_KB))
}

check "warm-up cycle" cycle warmup quiet
read_mem
check "memory settled after the warm-up (within 10 s)" wait_for 10 settled
slab0=$MEM_SLAB unrec0=$MEM_UNREC vm0=$MEM_VM
tol=$(fs_slab_tolerance)
fs_log "baseline: flow cache $slab0 objects ($(fs_slab_merged && echo merged || echo unmerged)," \
	"tolerance $tol), SUnreclaim $unrec0 kB, VmallocUsed $vm0 kB"

t0=$SECONDS
for ((c = 1; c <= CYCLES; c++)); do
	cycle "cycle $c" || { check "cycle $c ran" false; break; }
done
fs_log "$CYCLES cycles in $((SECONDS - t0)) s"
# Freed memory comes back after a grace period: wait for it (up to 15 s,
# the old fixed wait was 4 s), then judge the last reading.
t1=$SECONDS
wait_for 15 back_to_baseline
slab1=$MEM_SLAB unrec1=$MEM_UNREC vm1=$MEM_VM
fs_log "back to baseline after $((SECONDS - t1)) s"
fs_log "after: flow cache $slab1 objects, SUnreclaim $unrec1 kB ($((unrec1 - unrec0)) kB)," \
	"VmallocUsed $vm1 kB ($((vm1 - vm0)) kB)"
check "flow cache back to baseline ($slab1 vs $slab0, tolerance $tol)" \
	test "$slab1" -le "$((slab0 + tol))"
check "SUnreclaim within $TOL_KB kB of baseline ($((unrec1 - unrec0)) kB)" \
	test "$((unrec1 - unrec0))" -le "$TOL_KB"
check "VmallocUsed within $TOL_KB kB of baseline ($((vm1 - vm0)) kB)" \
	test "$((vm1 - vm0))" -le "$TOL_KB"

ip netns del "$NS0"
check "rmmod succeeds" wait_for 30 fs_rmmod_ok
# (A merged cache's sysfs alias outlives the module: nothing to see there.)
if [[ $tol == 0 ]]; then
	check "the flow cache is gone with the module" test ! -e "$FS_SLAB"
else
	check_skip "the flow cache is gone with the module" "merged cache (boot with slab_nomerge)"
fi
check_eq "kernel log clean (no 'Objects remaining' from kmem_cache_destroy)" \
	"$problems0" "$(fs_kernel_problems)"
fs_load_module
fs_done
