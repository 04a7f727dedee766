#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run TEST_PROGS the way kselftest's runner does: a TAP 13 stream, one
# result line per program, the program's own output indented with "# ",
# exit 4 read as SKIP, and a per-test timeout (kselftest's default 45 s
# is too short under TCG; the settings file may raise it).
cd "$(dirname "$0")" || exit 1
timeout=${FLOWSHAPE_TEST_TIMEOUT:-300}

echo "TAP version 13"
echo "1..$#"
n=0 fail=0
for t in "$@"; do
	n=$((n + 1))
	start=$SECONDS
	timeout --foreground -k 10 "$timeout" "./$t" 2>&1 | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	dur=$((SECONDS - start))
	case $rc in
	0) echo "ok $n selftests: flowshape: $t # ${dur}s" ;;
	4) echo "ok $n selftests: flowshape: $t # SKIP" ;;
	124) echo "not ok $n selftests: flowshape: $t # TIMEOUT ${timeout}s"; fail=1 ;;
	*) echo "not ok $n selftests: flowshape: $t # exit=$rc"; fail=1 ;;
	esac
done
exit $fail
