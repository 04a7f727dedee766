#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak: the long variants of the robustness tests
# (Documentation/robustness.md).  Logs go to build/soak/; the last line is
# the summary "N passed, N failed, N skipped".
#
#   1. host: every libFuzzer harness (tc/fuzz, tools/agent/fuzz) for
#      FLOWSHAPE_SOAK_FUZZ_SECONDS each (default 600), under ASan + UBSan;
#   2. VM, booted with slab_nomerge (so that the flow cache is counted
#      exactly) and FLOWSHAPE_SOAK=1: robust-nlfuzz.sh (100000 requests),
#      robust-lifecycle.sh (400 lifecycle rounds, 40 rmmod/insmod, 2 min
#      of table churn under pktgen flows, 400000-packet flow floods),
#      robust-leak.sh (30 churn + flood cycles), robust-agent.sh (as in
#      make check).
#
# Runtime on the project's 2-core host (TCG): about 40 min of fuzzing plus
# about 40 min in the VM (see the document's results).  Set
# FLOWSHAPE_SOAK_FUZZ_SECONDS=0 to skip the host part, FLOWSHAPE_SOAK_VM=0
# to skip the VM part.  FLOWSHAPE_SOAK_SHORT=1 (make soak SHORT=1) runs
# the short variants make check runs (fuzzing 20 s each, the VM tests
# without FLOWSHAPE_SOAK), about 5 min.
#
# A run with both parts writes its results into the "Last results"
# section of Documentation/robustness.md (tools/robustness-report.sh).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logs=$top/build/soak
mkdir -p "$logs"
source "$top/tools/tap.sh"

start=$SECONDS
short=${FLOWSHAPE_SOAK_SHORT:-0}
soak_env=FLOWSHAPE_SOAK=1
if [[ $short == 1 ]]; then
	soak_env=FLOWSHAPE_SOAK_SHORT=1
	fuzz_secs=${FLOWSHAPE_SOAK_FUZZ_SECONDS:-20}
else
	fuzz_secs=${FLOWSHAPE_SOAK_FUZZ_SECONDS:-600}
fi
if ((fuzz_secs > 0)); then
	echo "== host: fuzzing, ${fuzz_secs} s per harness"
	tc/fuzz/run.sh -t "$fuzz_secs" tc/fuzz tools/agent/fuzz 2>&1 | tee "$logs/fuzz.tap"
	rc=${PIPESTATUS[0]}
	count_tap "$logs/fuzz.tap"
	if ((rc != 0)) && ! grep -q '^not ok' "$logs/fuzz.tap"; then
		failed=$((failed + 1))
	fi
	echo "== host fuzzing: $((SECONDS - start)) s"
fi

if [[ ${FLOWSHAPE_SOAK_VM:-1} != 0 ]]; then
	vstart=$SECONDS
	echo "== vm: robustness tests, $( ((short)) && echo short || echo long) variants"
	make -s -C selftests all || failed=$((failed + 1))
	env "$soak_env" FLOWSHAPE_TEST_TIMEOUT=${FLOWSHAPE_TEST_TIMEOUT:-3600} \
	FLOWSHAPE_VM_APPEND="${FLOWSHAPE_VM_APPEND:-} slab_nomerge" \
	FLOWSHAPE_VM_DMESG=$logs/dmesg.txt \
		tools/vm/run -t "${FLOWSHAPE_SOAK_VM_TIMEOUT:-10800}" -- \
		make -s -C selftests run_tests \
		TEST_PROGS="robust-nlfuzz.sh robust-lifecycle.sh robust-leak.sh robust-agent.sh$( ((short)) || echo ' install.sh')" 2>&1 |
		tr -d '\r' | tee "$logs/vm.log"
	vmrc=${PIPESTATUS[0]}
	count_tap "$logs/vm.log"
	if ((vmrc != 0)) && ! grep -q '^not ok' "$logs/vm.log"; then
		echo "vm: run failed with status $vmrc" >&2
		failed=$((failed + 1))
	fi
	echo "== vm: $((SECONDS - vstart)) s"
fi

skip_gate
echo "soak: $((SECONDS - start)) s in all"
summary="$passed passed, $failed failed, $skipped skipped"
if ((fuzz_secs > 0)) && [[ ${FLOWSHAPE_SOAK_VM:-1} != 0 ]]; then
	echo "$summary" >>"$logs/vm.log"
	tools/robustness-report.sh -f "$logs/fuzz.tap" \
		-c "make soak$( [[ $short == 1 ]] && echo ' SHORT=1') ($((SECONDS - start)) s)" \
		"$logs/vm.log"
fi
echo "$summary"
((failed == 0))
