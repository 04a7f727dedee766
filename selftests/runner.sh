#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run TEST_PROGS the way kselftest's runner does: a TAP 13 stream, one
# result line per program, the program's own output indented with "# ",
# exit 4 read as SKIP (with the program's reason), and a per-test timeout
# (kselftest's default 45 s is too short under TCG).
#
# Stricter than kselftest's runner, so that a test cannot pass by saying
# less:
#   - a program that exits 0 but printed fewer results than its own plan
#     ("1..N"), or no plan at all, is "not ok";
#   - a program that exits 0 after a "not ok" of its own is "not ok";
#   - on timeout the program's whole process group is killed (GNU timeout
#     without --foreground runs it in a group of its own), so background
#     children of a hung test cannot hold the output pipe or the CPU.
cd "$(dirname "$0")" || exit 1
timeout=${FLOWSHAPE_TEST_TIMEOUT:-300}
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT

echo "TAP version 13"
echo "1..$#"
n=0 fail=0
for t in "$@"; do
	n=$((n + 1))
	start=$SECONDS
	# stdin from /dev/null: a process group that is not the terminal's
	# foreground one must not read it.
	timeout -k 10 "$timeout" "./$t" </dev/null 2>&1 |
		sed -u 's/^/# /' | tee "$out"
	rc=${PIPESTATUS[0]}
	dur=$((SECONDS - start))
	plan=$(sed -n 's/^# 1\.\.\([0-9][0-9]*\).*/\1/p' "$out" | tail -n1)
	results=$(grep -Ec '^# (not )?ok [0-9]+' "$out")
	nok=$(grep -Ec '^# not ok [0-9]+' "$out")
	name="selftests: flowshape: $t"
	case $rc in
	0)
		if [[ -z $plan ]]; then
			echo "not ok $n $name # no TAP plan printed"
			fail=1
		elif ((results < plan)); then
			echo "not ok $n $name # $results of $plan planned results"
			fail=1
		elif ((nok > 0)); then
			echo "not ok $n $name # exit 0 after $nok not ok"
			fail=1
		else
			echo "ok $n $name # ${dur}s"
		fi
		;;
	4)
		reason=$(sed -n 's/^# 1\.\.0 # SKIP *//p' "$out" | tail -n1)
		echo "ok $n $name # SKIP ${reason:-no reason given}"
		;;
	124 | 137)
		echo "not ok $n $name # TIMEOUT ${timeout}s"
		fail=1
		;;
	*)
		echo "not ok $n $name # exit=$rc"
		fail=1
		;;
	esac
done
exit $fail
