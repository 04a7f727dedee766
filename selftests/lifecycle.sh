#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 14. Teardown with packets queued is clean:
#   - delete a qdisc holding delayed packets, rmmod, insmod;
#   - with a second qdisc (other device, other namespace) still holding
#     packets, rmmod is refused (in use) and that qdisc keeps working and
#     delivers its packets; deleting it then lets the module go;
#   - deleting the namespaces under a qdisc with packets queued frees it
#     (the module can be unloaded afterwards).
# The assertion is also that the kernel stays quiet: the test counts
# the lines of selftests/dmesg-problems.txt in dmesg itself (and
# tools/vm/run fails the whole run on any).
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip insmod rmmod dmesg
fs_require_udpseq
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"

loaded() { grep -q '^sch_flowshape ' /proc/modules; }
unloaded() { ! loaded; }
# Namespaces of earlier tests are torn down asynchronously and may still
# hold a qdisc (and so the module) for a moment: retry the unload.
rmmod_ok() { rmmod sch_flowshape 2>/dev/null; unloaded; }
problems0=$(fs_kernel_problems)

# Every packet held 3 s (default_congestion: no entry to go stale): the tc
# commands below take a few hundred ms each under TCG.
DELAY=(mode delay congestion_weight 3s congestion_threshold 0 load_weight 0
	max_delay 3s default_congestion 1)

# --- delete with packets queued, then unload and reload -----------------
fs_section "delete with packets queued, then unload and reload"
check "A: qdisc on veth0, 3 s for everything" \
	fs_fresh veth0 "${DELAY[@]}"
n0 "$UDPSEQ" send 10.100.0.2 9000 30 -s 200 >/dev/null
check "A: packets queued" wait_for 5 fs_qlen_ge "$NS0" veth0 20
check "A: delete the qdisc with packets queued" tc -n "$NS0" qdisc del dev veth0 root
check "A: qdisc gone" bash -c "! ip netns exec $NS0 tc qdisc show dev veth0 | grep -q flowshape"
check "A: rmmod" wait_for 20 rmmod_ok
fs_load_module
check "A: insmod again" loaded
check "A: the reloaded module works" fs_fresh veth0 "${DELAY[@]}"
tc -n "$NS0" qdisc del dev veth0 root

# --- a second qdisc with queued packets keeps the module ----------------
fs_section "a second qdisc with queued packets keeps the module"
check "B: qdisc on veth0 (NS0)" fs_fresh veth0 "${DELAY[@]}"
check "B: qdisc on veth1 (NS1)" tc -n "$NS1" qdisc add dev veth1 root handle 1: flowshape "${DELAY[@]}"
out=$(fs_tmp)
fs_bg "$NS0" "$UDPSEQ" recv 9100 -n 20 -t 20000 -i 3000 >"$out"
rpid=$BG_PID
check "B: receiver on veth0's side ready" wait_for 5 grep -q ready "$out"
n0 "$UDPSEQ" send 10.100.0.2 9000 20 -s 200 >/dev/null
n1 "$UDPSEQ" send 10.100.0.1 9100 20 -s 200 >/dev/null
check "B: packets queued on veth0" wait_for 5 fs_qlen_ge "$NS0" veth0 20
check "B: packets queued on veth1" wait_for 5 fs_qlen_ge "$NS1" veth1 20
check "B: delete veth0's qdisc with packets queued" tc -n "$NS0" qdisc del dev veth0 root
check_fail_msg "B: rmmod refused while veth1's qdisc exists" \
	"in use|busy|Resource temporarily" rmmod sch_flowshape
check "B: module still loaded" loaded
wait "$rpid"
res=$(tail -n1 "$out")
fs_log "$res"
check_eq "B: veth1's qdisc delivered its queued packets" 20 "$(kv received "$res")"
n1 "$UDPSEQ" send 10.100.0.1 9100 20 -s 200 >/dev/null
check "B: packets queued on veth1 again" wait_for 5 fs_qlen_ge "$NS1" veth1 20
check "B: delete veth1's qdisc with packets queued" tc -n "$NS1" qdisc del dev veth1 root
check "B: now rmmod works" wait_for 20 rmmod_ok
fs_load_module
check "B: insmod again" loaded

# --- namespace deletion under a qdisc with packets queued ---------------
fs_section "namespace deletion under a qdisc with packets queued"
check "C: qdisc on veth0" fs_fresh veth0 "${DELAY[@]}"
n0 "$UDPSEQ" send 10.100.0.2 9000 20 -s 200 >/dev/null
check "C: packets queued" wait_for 5 fs_qlen_ge "$NS0" veth0 20
check "C: delete both namespaces" bash -c "ip netns del $NS0 && ip netns del $NS1"
check "C: the qdisc went with them: rmmod works" wait_for 20 rmmod_ok
fs_load_module
check "C: insmod again" loaded

check_eq "kernel log clean (dmesg-problems.txt)" "$problems0" "$(fs_kernel_problems)"

fs_section "done"
fs_done
