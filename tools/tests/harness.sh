#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the test harness (host, TAP): tools/tap.sh (counting, the plan
# check, the skip gate, run_host), selftests/runner.sh (plans, skips with
# their reason, the process-group timeout) and selftests/lib.sh (fs_skip
# after a failure, fs_load_module with a module that cannot load).  Each
# case feeds the harness a broken test and asserts that it is caught.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; printf '#   %s\n' "$@"; bad=1; }
# expect DESC WANT GOT
expect() { if [[ $2 == "$3" ]]; then ok "$1"; else nok "$1" "want '$2', got '$3'"; fi; }

# totals STREAM [ALLOW-LIST]: "passed failed skipped" after count_tap (and
# skip_gate) on STREAM, in a fresh shell.
totals()
{
	printf '%b' "$1" >"$tmp/stream"
	FS_SKIP_ALLOW=${2:-/nonexistent} bash -c '
		source "$1/tools/tap.sh"
		count_tap "$2" 2>/dev/null
		[[ $3 == gate ]] && skip_gate 2>/dev/null
		echo "$passed $failed $skipped"' _ "$top" "$tmp/stream" "${3:-}"
}

# --- tools/tap.sh ---------------------------------------------------------
expect "all results present: counted as they are" "2 1 0" \
	"$(totals '1..3\nok 1 - a\nok 2 - b\nnot ok 3 - c\n')"
expect "fewer results than the plan: the missing ones fail" "2 1 0" \
	"$(totals '1..3\nok 1 - a\nok 2 - b\n')"
expect "plans of several programs in one stream are summed" "3 2 0" \
	"$(totals '1..2\nok 1 - a\nok 2 - b\n1..3\nok 1 - c\n')"
expect "cmocka's not-ok-with-a-SKIP-directive is a skip, not a failure" "1 0 1" \
	"$(totals '1..2\nok 1 - t_ok\nnot ok 2 # SKIP t_skip\n# not ok - tests\n')"
expect "a failing cmocka test counts once (its group line is not a result)" "1 1 0" \
	"$(totals '1..2\nok 1 - a\nnot ok 2 - b\n# a.c:7: error: Failure!\n# not ok - tests\n')"
expect "a per-assertion skip inside a program shows in the summary" "1 0 1" \
	"$(totals '1..1\n# ok 1 - x\n# ok 2 - y # SKIP no z\n# 1..2\nok 1 selftests: flowshape: t.sh # 3s\n')"
expect "a nested failure is not counted twice" "0 1 0" \
	"$(totals '1..1\n# not ok 1 - x\n# 1..1\nnot ok 1 selftests: flowshape: t.sh # exit=1\n')"

printf 'needs foo\tfoo is not packaged for Debian 12\n' >"$tmp/allow"
expect "an unlisted skip fails the gate" "1 1 1" \
	"$(totals '1..2\nok 1 - a\nok 2 - b # SKIP needs bar\n' /nonexistent gate)"
expect "a listed skip passes the gate" "1 0 1" \
	"$(totals '1..2\nok 1 - a\nok 2 - b # SKIP needs foo\n' "$tmp/allow" gate)"
expect "an unlisted nested skip fails the gate" "1 1 1" \
	"$(totals '1..1\n# ok 1 - y # SKIP needs bar\n# 1..1\nok 1 selftests: flowshape: t.sh\n' "$tmp/allow" gate)"
printf 'needs foo\n' >"$tmp/allow-noreason"
expect "an allow-list entry without a reason is refused" "1 2 1" \
	"$(totals '1..2\nok 1 - a\nok 2 - b # SKIP needs foo\n' "$tmp/allow-noreason" gate)"
expect "the repository's allow-list is well formed" "0 0 0" \
	"$(totals '' "$top/tools/skip-allowlist" gate)"

# run_host: a crash without results counts once; a failing program with a
# "not ok" counts once.
rh()
{
	bash -c '
		source "$1/tools/tap.sh"; logs=$2; shift 2
		run_host t "$@" >/dev/null 2>&1
		echo "$passed $failed $skipped"' _ "$top" "$tmp" "$@"
}
expect "run_host: a crash before any output is one failure" "0 1 0" \
	"$(rh bash -c 'exit 139')"
expect "run_host: a crash after the plan fails the missing results, once" "0 2 0" \
	"$(rh bash -c 'echo 1..2; exit 139')"
expect "run_host: a failing test is counted once" "1 1 0" \
	"$(rh bash -c 'printf "1..2\nok 1 - a\nnot ok 2 - b\n"; exit 1')"

# --- selftests/runner.sh --------------------------------------------------
rdir=$tmp/runner
mkdir -p "$rdir"
cp "$top/selftests/runner.sh" "$rdir/"
mk() { printf '#!/bin/bash\n%s\n' "$2" >"$rdir/$1"; chmod +x "$rdir/$1"; }
mk short.sh 'echo "ok 1 - a"; echo "1..3"; exit 0'
mk noplan.sh 'echo "ok 1 - a"; exit 0'
mk lies.sh 'echo "ok 1 - a"; echo "not ok 2 - b"; echo "1..2"; exit 0'
mk skip.sh 'echo "1..0 # SKIP needs a frobnicator"; exit 4'
mk good.sh 'echo "ok 1 - a"; echo "1..1"; exit 0'
# A hung test whose background child holds the output pipe.
mk hang.sh "sleep 86399.$$ & sleep 86398.$$; wait"

run() { FLOWSHAPE_TEST_TIMEOUT=${T:-60} "$rdir/runner.sh" "$@" 2>&1 | grep -E '^(not )?ok '; }
expect "runner: fewer results than the program's plan is not ok" \
	"not ok 1 selftests: flowshape: short.sh # 1 of 3 planned results" "$(run short.sh)"
expect "runner: no plan is not ok" \
	"not ok 1 selftests: flowshape: noplan.sh # no TAP plan printed" "$(run noplan.sh)"
expect "runner: exit 0 after a not ok is not ok" \
	"not ok 1 selftests: flowshape: lies.sh # exit 0 after 1 not ok" "$(run lies.sh)"
expect "runner: a skip carries its reason" \
	"ok 1 selftests: flowshape: skip.sh # SKIP needs a frobnicator" "$(run skip.sh)"
got=$(run good.sh)
expect "runner: a complete passing program is ok" "ok 1 selftests: flowshape: good.sh" "${got% # *}"

start=$SECONDS
# (Bounded by an outer timeout: a runner that leaves the children alive
# would wait for them forever.)
got=$(T=2 timeout 30 bash -c "$(declare -f run); rdir=$rdir; run hang.sh good.sh")
took=$((SECONDS - start))
expect "runner: a hung test times out and the next one still runs" \
	"not ok 1 selftests: flowshape: hang.sh # TIMEOUT 2s|ok 2 selftests: flowshape: good.sh" \
	"$(sed 's/ # [0-9]*s$//' <<<"$got" | paste -sd'|')"
if ((took < 15)); then ok "runner: the hung test's children did not hold the run (${took}s)"
else nok "runner: the hung test's children did not hold the run" "took ${took}s"; fi
if pgrep -f "sleep 8639[89]\.$$" >/dev/null; then
	nok "runner: the hung test's whole process group is killed" "$(pgrep -af "sleep 8639[89]\.$$")"
	pkill -f "sleep 8639[89]\.$$"
else
	ok "runner: the hung test's whole process group is killed"
fi

# --- selftests/lib.sh -----------------------------------------------------
lib()
{
	bash -c 'source "$1/selftests/lib.sh"; shift; eval "$*"' _ "$top" "$@" >"$tmp/lib.out" 2>&1
	echo $?
}
expect "fs_skip with no failure before it exits 4" 4 "$(lib 'fs_skip "no frob"')"
expect "fs_skip after a failed assertion exits 1" 1 \
	"$(lib 'check "broken" false; fs_skip "no frob"')"
if grep -q '^not ok 2 - skip after a failed assertion: no frob' "$tmp/lib.out" &&
	! grep -q SKIP "$tmp/lib.out"; then
	ok "fs_skip after a failed assertion says not ok, not SKIP"
else
	nok "fs_skip after a failed assertion says not ok, not SKIP" "$(cat "$tmp/lib.out")"
fi

expect "a failed check returns 1, so that check ... || dump works" "dumped" \
	"$(bash -c 'source "$1/selftests/lib.sh"; check "x" false >/dev/null || echo dumped; check "y" true >/dev/null || echo wrong' _ "$top" 2>/dev/null)"
expect "a failed check_eq returns 1" "dumped" \
	"$(bash -c 'source "$1/selftests/lib.sh"; check_eq "x" 1 2 >/dev/null || echo dumped' _ "$top" 2>/dev/null)"

# fs_load_module with a module that cannot load: insmod and modprobe are
# stand-ins that fail as the real ones do, so this runs on any host.
mkdir -p "$tmp/bin"
printf '#!/bin/sh\necho "insmod: ERROR: could not load module $1: No such file or directory" >&2\nexit 1\n' >"$tmp/bin/insmod"
printf '#!/bin/sh\necho "modprobe: FATAL: Module sch_flowshape not found" >&2\nexit 1\n' >"$tmp/bin/modprobe"
chmod +x "$tmp/bin/insmod" "$tmp/bin/modprobe"
expect "fs_load_module with a missing module exits 1" 1 \
	"$(PATH=$tmp/bin:$PATH FLOWSHAPE_MODULE=/nonexistent.ko lib fs_load_module)"
if grep -q '^not ok 1 - load module: insmod /nonexistent.ko' "$tmp/lib.out" &&
	grep -q '^1\.\.1$' "$tmp/lib.out"; then
	ok "fs_load_module failure is a not ok with a plan"
else
	nok "fs_load_module failure is a not ok with a plan" "$(cat "$tmp/lib.out")"
fi

# --- the top Makefile: what installs what ---------------------------------
# make and make install install the build set only; the lab set comes with
# the targets that need it.  (make -n prints the recipes, @-lines too.)
deps_of() { make -n -C "$top" "$@" 2>/dev/null | grep -o 'tools/deps\.sh[^;&|]*' | sort -u | tr '\n' ' '; }
expect "make (all) runs only tools/deps.sh --build" "tools/deps.sh --build " "$(deps_of all)"
expect "make install runs only tools/deps.sh --build" "tools/deps.sh --build " \
	"$(deps_of install DESTDIR="$tmp/root")"
expect "make check installs the lab set" "tools/deps.sh tools/deps.sh --build " \
	"$(deps_of check)"

echo "1..$n"
exit $bad
