# SPDX-License-Identifier: GPL-2.0
#
# Sourced by tools/check.sh and tools/soak.sh: TAP result totals, the TAP
# plan check and the skip gate.
#
# A TAP stream is read at two levels:
#   top level   "ok N", "not ok N", "1..N": the results of a host program
#               or of selftests/runner.sh (one per selftest program);
#   nested      "# ok N ... # SKIP": a per-assertion skip inside a selftest
#               program (runner.sh indents a program's own output by "# ").
#               Counted as skipped, so that a skipped assertion inside a
#               passing program shows in the summary and meets the gate.
# Nested failures are not counted again: the program's own top-level
# result already says "not ok" (a failing unit test is counted once).
#
# A "# SKIP" directive on "not ok" (cmocka writes "not ok N # SKIP") is a
# skip, not a failure.
#
# Every skip is gated: it is a failure unless a line of the allow-list
# (FS_SKIP_ALLOW, default tools/skip-allowlist) matches it.
passed=0 failed=0 skipped=0
# Skips seen so far, one TAP line each, for skip_gate.
_tap_skips=()

FS_SKIP_ALLOW=${FS_SKIP_ALLOW:-$(dirname "${BASH_SOURCE[0]}")/skip-allowlist}

# count_tap FILE: add a TAP stream's results to the totals.  Plans are
# summed over the file (several programs may write one stream each); a
# stream with fewer results than its plans announce has the missing ones
# counted as failed.
count_tap()
{
	local file=$1 line p=0 f=0 s=0 plan=0 results=0 n
	while IFS= read -r line; do
		case $line in
		"ok "[0-9]* | "not ok "[0-9]*)
			results=$((results + 1))
			if _tap_is_skip "$line"; then
				s=$((s + 1))
				_tap_skips+=("$line")
			elif [[ $line == "ok "* ]]; then
				p=$((p + 1))
			else
				f=$((f + 1))
			fi
			;;
		"# ok "[0-9]* | "# not ok "[0-9]*)
			if _tap_is_skip "$line"; then
				s=$((s + 1))
				_tap_skips+=("$line")
			fi
			;;
		1..[0-9]*)
			n=${line#1..}
			n=${n%%[!0-9]*}
			plan=$((plan + n))
			;;
		esac
	done <"$file"
	_tap_missing=$((plan > results ? plan - results : 0))
	if ((_tap_missing)); then
		echo "tap: $file: $plan results planned, $results reported: $((plan - results)) counted as failed" >&2
		f=$((f + plan - results))
	fi
	passed=$((passed + p))
	skipped=$((skipped + s))
	failed=$((failed + f))
}

# _tap_is_skip LINE: the result line carries a SKIP directive ("# SKIP",
# any case, after the description).
_tap_is_skip()
{
	[[ ${1,,} =~ \#[[:space:]]*skip([^a-z]|$) ]]
}

# skip_gate: count every skip not on the allow-list as a failure as well
# (it stays counted as skipped: the summary shows both).  The allow-list
# holds one extended regex per line, a TAB, and the reason; "#" starts a
# comment.  A line without a reason is refused.
skip_gate()
{
	local pats=() line pat reason s ok
	if [[ -f $FS_SKIP_ALLOW ]]; then
		while IFS= read -r line; do
			[[ -z $line || $line == "#"* ]] && continue
			pat=${line%%$'\t'*}
			reason=${line#*$'\t'}
			if [[ $line != *$'\t'* || -z ${reason// /} ]]; then
				echo "skip gate: $FS_SKIP_ALLOW: entry without a reason: $line" >&2
				failed=$((failed + 1))
				continue
			fi
			pats+=("$pat")
		done <"$FS_SKIP_ALLOW"
	fi
	for s in "${_tap_skips[@]}"; do
		ok=0
		for pat in "${pats[@]}"; do
			if [[ $s =~ $pat ]]; then
				ok=1
				break
			fi
		done
		if ((!ok)); then
			echo "skip gate: not on the allow-list ($FS_SKIP_ALLOW), counted as failed: $s" >&2
			failed=$((failed + 1))
		fi
	done
}

# run_host NAME CMD...: a host-side TAP test program, its output kept in
# $logs/NAME.tap.  A program that fails without a "not ok" of its own (a
# crash, a build error) counts one failure, or its missing planned
# results if it printed a plan; one that printed "not ok" is counted by
# its lines alone, so a failing unit test counts once.
run_host()
{
	local name=$1 log=$logs/$1.tap rc
	shift
	echo "== host: $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	count_tap "$log"
	if [[ $rc -ne 0 ]] && ((!_tap_missing)) && ! grep -q '^not ok [0-9]' "$log"; then
		echo "$name: exit status $rc without a failing result: counted as failed" >&2
		failed=$((failed + 1))
	fi
}
