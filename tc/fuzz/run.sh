#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run libFuzzer harnesses for a while each and report TAP:
#
#   tc/fuzz/run.sh [-t SECONDS] [-j] DIR...
#
# DIR is a harness directory (tc/fuzz, tools/agent/fuzz) whose Makefile
# builds the harnesses ("make") and lists them ("make -s list": one
# "BINARY SEED_CORPUS_DIR" line each).  Each harness runs SECONDS (default
# 20) with -max_total_time, starting from its committed seed corpus (read
# only) and a work corpus in build/fuzz/corpus/NAME (kept between runs, so
# that longer runs build on shorter ones).  A crash, a sanitizer report, a
# broken property (abort), a leak or a timeout is "not ok", with the saved
# input in build/fuzz/artifacts/ and the command that replays it.  Without
# clang/libFuzzer the harnesses are skipped ("# SKIP"), not failed.
set -uo pipefail

secs=20
while getopts t: o; do
	case $o in
	t) secs=$OPTARG ;;
	*) echo "usage: $0 [-t SECONDS] DIR..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/fuzz
mkdir -p "$out/artifacts" "$out/corpus" "$out/logs"

n=0 fail=0
lines=()
for dir in "$@"; do
	[[ $dir == /* ]] || dir=$top/$dir
	if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
		n=$((n + 1))
		echo "ok $n - fuzz: $dir # SKIP clang not installed (tools/deps.sh)"
		continue
	fi
	if ! make -s -C "$dir" >"$out/logs/build.log" 2>&1; then
		n=$((n + 1))
		if grep -q 'libclang_rt.fuzzer\|fsanitize=fuzzer' "$out/logs/build.log"; then
			echo "ok $n - fuzz: $dir # SKIP no libFuzzer runtime (libclang-rt-dev)"
		else
			echo "not ok $n - fuzz: build of $dir"
			sed 's/^/# /' "$out/logs/build.log" | tail -n 20
			fail=1
		fi
		continue
	fi
	while read -r bin seeds; do
		lines+=("$bin $seeds")
	done < <(make -s -C "$dir" list)
done

for l in "${lines[@]}"; do
	read -r bin seeds <<<"$l"
	name=$(basename "$bin")
	n=$((n + 1))
	work=$out/corpus/$name
	mkdir -p "$work"
	dict=()
	[[ -f $seeds.dict ]] && dict=(-dict="$seeds.dict")
	log=$out/logs/$name.log
	start=$SECONDS
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: 2 GiB.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
		"${dict[@]}" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(grep -a '^stat::number_of_executed_units:' "$log" | tail -n1 | grep -Eo '[0-9]+$')
	cov=$(grep -aEo 'DONE +cov: [0-9]+' "$log" | tail -n1 | grep -Eo '[0-9]+$')
	if ((rc == 0)); then
		echo "ok $n - fuzz: $name ($((SECONDS - start)) s, ${runs:-?} inputs, cov ${cov:-?}) # seed corpus ${seeds#$top/}"
	else
		fail=1
		echo "not ok $n - fuzz: $name (exit $rc)"
		grep -aE 'ERROR|SUMMARY|property failed|Test unit written|runtime error' "$log" |
			head -n 12 | sed 's/^/# /'
		art=$(grep -a 'Test unit written to' "$log" | sed -n 's/.*Test unit written to \(.*\)$/\1/p' | tail -n1)
		[[ -n $art ]] && echo "# replay: $bin $art"
	fi
done
echo "1..$n"
exit $fail
