#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness cannot pass a broken module: with a module that does not
# load, every selftest that needs the qdisc reports "not ok" and exits 1
# (it used to skip, and make check was green with 0 passed).  Two broken
# modules: a path that does not exist, and the tree's module with its
# vermagic altered (refused by the kernel: "version magic ... should be").
# Two selftests per broken module (each loads the module first thing);
# runs first in TEST_PROGS, with the module unloaded.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd insmod rmmod perl modinfo

# No qdisc exists yet in this boot's first test; a leftover load from an
# earlier run of this test alone is removed.
fs_unload_module || fs_bail "cannot unload sch_flowshape to start"
[[ -f $FS_MODULE ]] || fs_bail "no module at $FS_MODULE (make)"

bad=$(fs_tmp)
perl -0777 -pe 's/mod_unload /mod_unlaod /' "$FS_MODULE" >"$bad"
check "the altered module's vermagic differs" \
	test "$(modinfo -F vermagic "$bad")" != "$(modinfo -F vermagic "$FS_MODULE")"

# A selftest that loads the module, run with MODULE; its TAP kept in OUT.
out=$(fs_tmp)
for mod in /nonexistent.ko "$bad"; do
	what=missing
	[[ $mod == "$bad" ]] && what=vermagic
	for t in module.sh control.sh; do
		FLOWSHAPE_MODULE=$mod "./$t" >"$out" 2>&1
		rc=$?
		check_eq "$what module: $t exits 1" 1 "$rc"
		check "$what module: $t says not ok, naming the load" \
			grep -q '^not ok .*load module' "$out"
		check "$what module: $t does not skip" \
			bash -c "! grep -qi 'SKIP' '$out'"
	done
	# And the runner turns that into a failing TAP line.
	FLOWSHAPE_MODULE=$mod ./runner.sh control.sh >"$out" 2>&1
	check "$what module: runner reports not ok" \
		grep -q '^not ok 1 selftests: flowshape: control.sh' "$out"
done
check "nothing was loaded" bash -c "! grep -q '^sch_flowshape ' /proc/modules"

fs_done
