#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: host-side tests, then the selftests inside a VM booted on the
# kernel the module was built for.  Logs go to build/check/; the last line
# is the summary "N passed, N failed, N skipped".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logs=$top/build/check
mkdir -p "$logs"
rm -f "$logs/summary"
source "$top/tools/tap.sh"

# The harness itself: TAP counting, the plan check, the skip gate, the
# runner's timeout and plan rules, fs_skip and fs_load_module.
run_host harness tools/tests/harness.sh

# Unit tests (cmocka, TAP output), each also built with ASan+UBSan.
make -s -C tc unit >/dev/null || failed=$((failed + 1))
run_host tc-unit env CMOCKA_MESSAGE_OUTPUT=TAP tc/build/test_parse
run_host tc-unit-asan env CMOCKA_MESSAGE_OUTPUT=TAP tc/build/test_parse-asan
run_host tc-plugin tc/tests/host.sh
# libFuzzer harnesses (tc's parsers, the agent's config/Prometheus/PromQL
# parsers), 20 s each under ASan + UBSan; longer under make soak.
run_host fuzz tc/fuzz/run.sh -t 20 tc/fuzz tools/agent/fuzz
run_host agent-unit make -s -C tools/agent check-tap

echo "== vm: selftests"
make -s -C selftests all || failed=$((failed + 1))
vmlog=$logs/selftests.log
# slab_nomerge: the 128-byte flow cache would otherwise share a slab with
# other caches, and robust-leak.sh could not see it return to zero.
FLOWSHAPE_VM_APPEND="${FLOWSHAPE_VM_APPEND:-} slab_nomerge" \
	tools/vm/run -t 3000 -- make -s -C selftests run_tests 2>&1 | tr -d '\r' | tee "$vmlog"
vmrc=${PIPESTATUS[0]}
count_tap "$vmlog"
if [[ $vmrc -ne 0 ]] && ! grep -q '^not ok' "$vmlog"; then
	# The tests passed but the VM run did not (kernel splat, taint,
	# timeout, crash): that is a failure of its own.
	echo "vm: run failed with status $vmrc" >&2
	failed=$((failed + 1))
fi

# The end-to-end outcome tests, in a boot whose clock counts the guest's
# own instructions (selftests/Makefile, TEST_PROGS_E2E): one vCPU,
# -icount shift=0 (1 ns per instruction).
echo "== vm: end-to-end selftests (icount)"
e2elog=$logs/e2e.log
FLOWSHAPE_VM_QEMU_OPTS="${FLOWSHAPE_VM_QEMU_OPTS:-} -icount shift=0" \
	tools/vm/run -c 1 -t 2400 -- make -s -C selftests run_e2e 2>&1 | tr -d '\r' | tee "$e2elog"
vmrc=${PIPESTATUS[0]}
count_tap "$e2elog"
if [[ $vmrc -ne 0 ]] && ! grep -q '^not ok' "$e2elog"; then
	echo "vm: end-to-end run failed with status $vmrc" >&2
	failed=$((failed + 1))
fi

# Every skip not on tools/skip-allowlist is a failure too.
skip_gate
echo "$passed passed, $failed failed, $skipped skipped" | tee "$logs/summary"
((failed == 0))
