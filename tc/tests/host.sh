#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side checks of q_flowshape.so with the real tc: the plugin loads
# into the installed tc and refuses bad input before anything is sent to
# a kernel (so these run on a host that has no flowshape module).
# TAP output; exit 0 pass, 1 fail.
top=$(cd "$(dirname "$0")/../.." && pwd)
export TC_LIB_DIR=$top/tc
n=0 failed=0

expect_err()
{
	local desc=$1 pat=$2 out rc
	shift 2
	out=$(tc qdisc add dev lo root flowshape "$@" 2>&1)
	rc=$?
	n=$((n + 1))
	if [[ $rc -ne 0 ]] && grep -Eq -- "$pat" <<<"$out"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc (rc=$rc: $out)"
		failed=1
	fi
}

expect_err "help prints usage" "Usage: \.\.\. flowshape" help
expect_err "non-number limit" 'invalid limit "abc"' limit abc
expect_err "zero limit" 'invalid limit "0"' limit 0
expect_err "negative limit" 'invalid limit "-1"' limit -1
expect_err "limit without value" 'Command line is not complete' limit
expect_err "unknown keyword" 'unknown parameter "bogus"' bogus

echo "1..$n"
exit $failed
