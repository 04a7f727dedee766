#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module loads, registers qdisc kind "flowshape", refuses to unload
# while a qdisc uses it, and unloads cleanly afterwards.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip insmod rmmod

in_proc_modules() { grep -q '^sch_flowshape ' /proc/modules; }
not_in_proc_modules() { ! in_proc_modules; }

fs_netns "$NS0" || fs_skip "cannot create a network namespace"
fs_dummy "$NS0" d0 || fs_skip "no dummy device support"

# Start from a known state: a leftover load from another test is fine to
# remove, since no qdisc can exist here yet.
in_proc_modules && rmmod sch_flowshape

fs_load_module
check "module loads" in_proc_modules
check "qdisc kind registered (add succeeds)" \
	n0 tc qdisc add dev d0 root flowshape
check_fail_msg "rmmod refused while a qdisc uses the module" "in use|Resource temporarily|busy" \
	rmmod sch_flowshape
check "qdisc deleted" n0 tc qdisc del dev d0 root
check "module unloads" rmmod sch_flowshape
check "module gone from /proc/modules" not_in_proc_modules
check_fail_msg "without the module, kind is unknown" "unknown|not found|No such file" \
	n0 tc qdisc add dev d0 root flowshape
fs_load_module
check "module loads again" in_proc_modules

fs_done
