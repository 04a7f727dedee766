# SPDX-License-Identifier: GPL-2.0
#
# Sourced by tools/check.sh and tools/soak.sh: TAP result totals.
passed=0 failed=0 skipped=0

# count_tap FILE: add a TAP stream's top-level results to the totals.
count_tap()
{
	local p f s
	p=$(grep -Ec '^ok [0-9]+' "$1")
	s=$(grep -Ec '^ok [0-9]+ .*# SKIP' "$1")
	f=$(grep -Ec '^not ok [0-9]+' "$1")
	passed=$((passed + p - s))
	skipped=$((skipped + s))
	failed=$((failed + f))
}
