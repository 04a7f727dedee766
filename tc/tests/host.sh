#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side checks of q_flowshape.so with the real tc: the plugin loads
# into the installed tc and refuses bad input before anything is sent to
# a kernel (so these run on a host that has no flowshape module).
#
#   - parse errors: each option out of range, garbage, without a value;
#     destination entries; repeated keywords; too many entries
#   - valid command lines get past parsing: the error is then the
#     kernel's ("Specified qdisc kind is unknown"), or success where the
#     module is loaded
#   - the bytes tc sends for a command using every option (with strace)
#   - printing: qdisc options, xstats and classes from messages built by
#     tests/fs_nlmsg.c, read back with "tc monitor file", text and JSON
#
# Commands that could reach a kernel run in a new network namespace when
# unshare(1) allows it, so a host that does have the module keeps its lo.
# TAP output; exit 0 pass, 1 fail.
top=$(cd "$(dirname "$0")/../.." && pwd)
export TC_LIB_DIR=$top/tc
# Resolve every symbol when tc loads the plugin: a helper that this tc
# does not export fails here rather than at its first call.
export LD_BIND_NOW=1
build=$top/tc/build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; shift; printf '%s\n' "$@" | sed 's/^/#   /'; failed=1; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

if [[ ! -f $TC_LIB_DIR/q_flowshape.so ]]; then
	echo "Bail out! $TC_LIB_DIR/q_flowshape.so is not built (make tc)"
	exit 1
fi
if ! make -s -C "$top/tc" host-helpers >"$tmp/make.log" 2>&1; then
	echo "Bail out! cannot build the test helpers: $(cat "$tmp/make.log")"
	exit 1
fi

netns=()
unshare -n true 2>/dev/null && netns=(unshare -n)

# tc_qdisc VERB ARGS...: "tc qdisc VERB dev lo root flowshape ARGS".
tc_qdisc()
{
	local verb=$1
	shift
	"${netns[@]}" tc qdisc "$verb" dev lo root flowshape "$@" 2>&1
}

# expect_err DESC ERE ARGS...: refused by the plugin, with a matching
# message, before anything reached a kernel.
expect_err()
{
	local desc=$1 pat=$2 out rc
	shift 2
	out=$(tc_qdisc add "$@")
	rc=$?
	if [[ $rc -ne 0 ]] && grep -Eq -- "$pat" <<<"$out" &&
	   ! grep -q 'qdisc kind is unknown' <<<"$out"; then
		pass "$desc"
	else
		fail "$desc" "rc=$rc: $out"
	fi
}

# expect_errf DESC STRING ARGS...: as expect_err, a fixed string.
expect_errf()
{
	local desc=$1 str=$2 out rc
	shift 2
	out=$(tc_qdisc add "$@")
	rc=$?
	if [[ $rc -ne 0 ]] && grep -Fq -- "$str" <<<"$out" &&
	   ! grep -q 'qdisc kind is unknown' <<<"$out"; then
		pass "$desc"
	else
		fail "$desc" "rc=$rc, want \"$str\": $out"
	fi
}

# expect_parsed DESC VERB ARGS...: the plugin accepted the command and tc
# sent it: exit 2 with the kernel's answer (or 0 where the module is).
expect_parsed()
{
	local desc=$1 verb=$2 out rc want
	shift 2
	out=$(tc_qdisc "$verb" "$@")
	rc=$?
	case $verb in
	change)	want='^Error: ' ;;
	*)	want='qdisc kind is unknown|Operation not permitted' ;;
	esac
	if grep -q -e '^flowshape:' -e '^Usage:' -e 'not complete' <<<"$out"; then
		fail "$desc" "refused by the plugin: $out"
	elif [[ $rc -eq 0 ]] || { [[ $rc -eq 2 ]] && grep -Eq "$want" <<<"$out"; }; then
		pass "$desc"
	else
		fail "$desc" "rc=$rc: $out"
	fi
}

# ---- the plugin loads, help ------------------------------------------------

expect_err "help prints usage" "Usage: \.\.\. flowshape" help
expect_err "help lists every option" "max_dests +an entry count 1\.\.65535, default 4096" help
expect_err "unknown keyword" 'unknown parameter "bogus"' bogus
expect_err "limit without value" 'Command line is not complete' limit

# ---- every option: out of range, garbage, no value ------------------------
#
# option | values out of range | garbage | the range its message names
while IFS='|' read -r opt ranges garbage range; do
	[[ -z $opt ]] && continue
	for v in $ranges; do
		expect_errf "$opt $v is out of range" \
			"flowshape: invalid $opt \"$v\": expected" "$opt" "$v"
	done
	for v in $garbage; do
		expect_errf "$opt $v is refused" \
			"flowshape: invalid $opt \"$v\": expected" "$opt" "$v"
	done
	# The message names the valid range.
	v=${ranges%% *}
	v=${v:-${garbage%% *}}
	expect_errf "$opt message names $range" "$range" "$opt" "$v"
	expect_errf "$opt without a value" 'Command line is not complete' "$opt"
done <<'EOF'
limit|0 1000001|abc -1 10p 0x10|1..1000000
flow_limit|0 1000001|x 1.5|1..1000000
buckets|0 1000 2097152|many 0x400|a power of 2, 1..1048576
max_flows|0 16777217|lots 1e3|1..16777216
flow_idle|0 999us 3601s|forever -1s 5min inf|1ms..3600s
mode||fast SPREAD 1|spread or delay
congestion_weight|10001ms 11s|heavy -5ms|0..10s
load_weight|10.5s|5mss nan|0..10s
congestion_threshold|1.5 101%|high -0.1 0.5x|0..1
load_threshold|2 100.1%|half 0,5|0..1
max_delay|20s 10000000001ns|0x10ms 1e400s|0..10s
smoothing|0.991 100%|some 1e-1|0..0.99
quantum|255 1048577 2mb|big -1514 64kib 1514.5|256..1048576 bytes
timer_slack|11ms 10001us|none +1us|0..10ms
stale_after|0 999999ns 11s|never 5h|1ms..10s
default_congestion|1.01 200%|none %|0..1
default_load|1.000001|0..5 .|0..1
max_dests|0 65536|all 4096.0|1..65535
EOF

expect_errf "limit given twice" 'flowshape: limit given twice' limit 10 limit 20
expect_errf "mode given twice" 'flowshape: mode given twice' mode delay mode delay
expect_errf "flush_dests given twice" 'flowshape: flush_dests given twice' \
	flush_dests flush_dests

# ---- destination entries --------------------------------------------------

expect_err "dest without a prefix" 'Command line is not complete' dest
expect_errf "dest garbage" \
	'flowshape: invalid dest "bogus": expected an IPv4 or IPv6 prefix' dest bogus
expect_errf "dest short IPv4" 'invalid dest "10.0.0": expected an IPv4' dest 10.0.0
expect_errf "dest empty length" 'invalid dest "10.0.0.0/": expected an IPv4' \
	dest 10.0.0.0/
expect_errf "dest length garbage" 'invalid dest "10.0.0.0/x": expected an IPv4' \
	dest 10.0.0.0/x
expect_errf "dest IPv6 zone" 'invalid dest "fe80::1%lo": expected an IPv4' \
	dest fe80::1%lo
expect_errf "dest IPv4 length 33" \
	'invalid dest "10.0.0.0/33": prefix length must be 0..32' dest 10.0.0.0/33
expect_errf "dest IPv6 length 129" \
	'invalid dest "2001:db8::/129": prefix length must be 0..128' dest 2001:db8::/129
expect_errf "dest IPv4 host bits" \
	'invalid dest "10.0.1.1/24": invalid prefix, host bits set (the network is 10.0.1.0/24)' \
	dest 10.0.1.1/24
expect_errf "dest IPv6 host bits" \
	'invalid dest "2001:db8::1/64": invalid prefix, host bits set (the network is 2001:db8::/64)' \
	dest 2001:db8::1/64
expect_err "dest congestion without a value" 'Command line is not complete' \
	dest 10.0.0.0/8 congestion
expect_errf "dest congestion out of range" \
	'flowshape: invalid congestion "1.5" for dest 10.0.0.0/8: expected a fraction 0..1' \
	dest 10.0.0.0/8 congestion 1.5
expect_errf "dest load garbage" \
	'flowshape: invalid load "abc" for dest 10.0.0.0/8: expected a fraction 0..1' \
	dest 10.0.0.0/8 load abc
expect_errf "dest congestion given twice" \
	'flowshape: dest 10.0.0.0/8: "congestion" given twice' \
	dest 10.0.0.0/8 congestion 0.1 congestion 0.2
expect_errf "dest delete with congestion" \
	'flowshape: dest 10.0.0.0/8: "delete" takes no congestion or load' \
	dest 10.0.0.0/8 delete congestion 0.5
expect_errf "dest load then delete" \
	'flowshape: dest 10.0.0.0/8: "delete" takes no congestion or load' \
	dest 10.0.0.0/8 load 0.5 delete
expect_errf "dest delete given twice" 'flowshape: dest 10.0.0.0/8: "delete" given twice' \
	dest 10.0.0.0/8 delete delete
expect_err "dest mark without a value" 'Command line is not complete' dest mark
expect_errf "dest mark garbage" \
	'flowshape: invalid dest mark "bogus": expected MARK[/MASK], decimal or 0x-hex (0x10/0xff)' \
	dest mark bogus
expect_errf "dest mark empty mask" 'invalid dest mark "0x10/": expected MARK[/MASK]' \
	dest mark 0x10/
expect_errf "dest mark bare 0x" 'invalid dest mark "0x": expected MARK[/MASK]' dest mark 0x
expect_errf "dest mark negative" 'invalid dest mark "-1": expected MARK[/MASK]' dest mark -1
expect_errf "dest mark past 32 bits" \
	'invalid dest mark "0x100000000": mark and mask are 32-bit numbers' \
	dest mark 0x100000000
expect_errf "dest mark mask past 32 bits" \
	'invalid dest mark "1/4294967296": mark and mask are 32-bit numbers' \
	dest mark 1/4294967296
expect_errf "dest mark mask 0" \
	'invalid dest mark "0/0": mask 0 would match every packet' dest mark 0/0
expect_errf "dest mark bits outside the mask" \
	'invalid dest mark "0x110/0xff": the mark has bits outside its mask' \
	dest mark 0x110/0xff
expect_errf "dest mark delete with load" \
	'flowshape: dest mark 0x10: "delete" takes no congestion or load' \
	dest mark 0x10 delete load 0.5
expect_errf "congestion outside a dest" \
	'flowshape: "congestion" belongs to a destination entry' congestion 0.5
expect_errf "delete outside a dest" \
	'flowshape: "delete" belongs to a destination entry' limit 5 delete
expect_errf "one bad entry refuses the command" \
	'invalid dest "10.0.0.1/8": invalid prefix' \
	dest 10.0.0.0/8 congestion 0.5 dest 10.0.0.1/8 load 0.2

# More entries than one netlink request holds: refused with a count, and
# exactly that count does go through (not EMSGSIZE from the socket).
args=()
for ((i = 0; i < 1400; i++)); do
	args+=(dest "2001:db8:$((i / 256)):$((i % 256))::/64" congestion 0.5 load 0.25)
done
out=$(tc_qdisc add "${args[@]}")
if [[ $out =~ "too many dest entries for one tc command: 1400 given, "([0-9]+)" fit" ]]; then
	fit=${BASH_REMATCH[1]}
	pass "1400 IPv6 entries: too many dest entries ($fit fit)"
	expect_parsed "$fit IPv6 entries fit in one request" add "${args[@]:0:$((fit * 6))}"
else
	fail "1400 IPv6 entries: too many dest entries" "$out"
	fail "the largest request is sent" "no count in the message"
fi

# ---- valid command lines get past parsing -----------------------------------

expect_parsed "no options" add
expect_parsed "every option" add $("$build/fs_nlmsg" args)
expect_parsed "lower bounds" add limit 1 flow_limit 1 buckets 1 max_flows 1 \
	flow_idle 1ms congestion_weight 0 load_weight 0s congestion_threshold 0 \
	load_threshold 0% max_delay 0ns smoothing 0 quantum 256 timer_slack 0 \
	stale_after 1ms default_congestion 0 default_load 0 max_dests 1
expect_parsed "upper bounds" add limit 1000000 flow_limit 1000000 \
	buckets 1048576 max_flows 16777216 flow_idle 3600s congestion_weight 10s \
	load_weight 10000ms congestion_threshold 1 load_threshold 100% \
	max_delay 10s smoothing 0.99 quantum 1mb timer_slack 10ms \
	stale_after 10s default_congestion 100% default_load 1 max_dests 65535
expect_parsed "time and size spellings" add flow_idle 3.6e+03s max_delay 1.5MS \
	timer_slack 200usec stale_after 2secs quantum 64KB mode spread
expect_parsed "what tc show prints reads back" add limit 10000 flow_limit 1000 \
	buckets 1024 max_flows 65536 flow_idle 3s mode spread congestion_weight 10ms \
	load_weight 10ms congestion_threshold 0.2 load_threshold 0.5 max_delay 50ms \
	smoothing 0 quantum 1514b timer_slack 10us stale_after 5s \
	default_congestion 0 default_load 0 max_dests 4096
expect_parsed "dest forms" add dest 10.0.1.7 dest 0.0.0.0/0 congestion 100% load 0 \
	dest ::/0 load 0.000001 dest 2001:db8::1 delete dest 10.0.0.0/8
expect_parsed "dest mark forms" add dest mark 0x10/0xff congestion 0.3 load 0.5 \
	dest mark 16 dest mark 0xFFFFFFFF delete dest mark 1/1 dest 10.0.0.0/8
expect_parsed "flush_dests alone" add flush_dests
expect_parsed "change with dest updates" change flush_dests \
	dest 10.0.1.0/24 congestion 0.4 load 0.9 dest 2001:db8::/64 delete

# ---- classes are read-only ----------------------------------------------------

out=$("${netns[@]}" tc class add dev lo parent 1: classid 1:1 flowshape 2>&1)
rc=$?
if [[ $rc -ne 0 ]] && grep -Fq "flowshape: classes are read-only (the destination table is set with 'tc qdisc change ... dest')" <<<"$out"; then
	pass "tc class add is refused"
else
	fail "tc class add is refused" "rc=$rc: $out"
fi

# ---- the bytes tc sends -------------------------------------------------------

if command -v strace >/dev/null; then
	strace -f -qq -e trace=sendmsg -e write=all -o "$tmp/strace" \
		"${netns[@]}" tc qdisc add dev lo root flowshape \
		$("$build/fs_nlmsg" args) >/dev/null 2>&1
	# strace's dump: " | 00000  hex bytes (49 columns)  ascii |".
	if grep '^ | [0-9a-f]\{5\}  ' "$tmp/strace" | cut -c 11-59 |
	   "$build/fs_nlmsg" check 2>"$tmp/check"; then
		pass "netlink request carries every attribute as the UAPI says"
	else
		fail "netlink request carries every attribute as the UAPI says" \
			"$(cat "$tmp/check")"
	fi
else
	skip "netlink request carries every attribute as the UAPI says" "no strace"
fi

# ---- printing -------------------------------------------------------------------

# show NAME [TC OPTIONS...]: what tc prints for fs_nlmsg NAME.
show()
{
	local what=$1
	shift
	"$build/fs_nlmsg" "$what" >"$tmp/$what.bin" &&
		tc "$@" monitor file "$tmp/$what.bin" 2>&1 | sed 's/ *$//'
}

# expect_text DESC WANT GOT
expect_text()
{
	if [[ $2 == "$3" ]]; then
		pass "$1"
	else
		fail "$1" "want: $2" "got:  $3"
	fi
}

stats_full='  enqueued 1000 passed 900 delayed 95 delay_total 1.9s overflow_packets 4 released 990 purged 10 control_packets 0 ecn_marks 0 drops_aqm 0 retimed 0 drops_horizon 0 horizon_caps 0 reslotted 0
  drops_limit 2 drops_flow_limit 3 drops_overflow 0 alloc_errors 5 early_releases 0
  late_packets 95 lateness_mean 20us lateness_max 90us lateness_total 1.9ms watchdog_armed 80
  flows 3 throttled_flows 1 gc_flows 6 dests 5 stale_dests 1 stale_packets 7 next_release 1ms'

out=$(show qdisc -s)
expect_text "qdisc show: every option, spec format" \
	"qdisc flowshape 1: dev lo root refcnt 2 limit 10000p flow_limit 1000p buckets 1024 max_flows 65536 flow_idle 3s mode spread congestion_weight 10ms load_weight 10ms congestion_threshold 0.2 load_threshold 0.5 max_delay 50ms smoothing 0 quantum 1514b timer_slack 10us stale_after 5s default_congestion 0 default_load 0 max_dests 4096" \
	"$(head -n 1 <<<"$out")"
expect_text "qdisc show -s: xstats" "$stats_full" "$(tail -n 4 <<<"$out")"

out=$(show qdisc-set -s)
expect_text "qdisc show: only the attributes present" \
	"qdisc flowshape 2: dev lo root flow_idle 3600s mode delay congestion_threshold 0.000001 max_delay 1.5s smoothing 0.35 quantum 64Kb timer_slack 0ns default_load 1" \
	"$(head -n 1 <<<"$out")"
expect_text "qdisc show -s: shorter xstats (older kernel)" \
	'  enqueued 1000 passed 0 delayed 0 delay_total 0ns overflow_packets 0
  drops_limit 2 drops_flow_limit 0 alloc_errors 0 early_releases 0
  late_packets 0 lateness_mean 0ns lateness_max 0ns lateness_total 0ns watchdog_armed 0
  flows 0 throttled_flows 0 gc_flows 0 dests 0 stale_dests 0 stale_packets 0 next_release none' \
	"$(tail -n 4 <<<"$out")"

out=$(show qdisc-long -s)
expect_text "qdisc show -s: longer xstats (newer kernel)" "$stats_full" \
	"$(tail -n 4 <<<"$out")"

expect_text "class show: destination entries" \
	'class flowshape 1:1 dev lo parent 1: dest 10.0.1.0/24 congestion 0.4 load 0.9 age 1.2s delay 4ms
class flowshape 1:2 dev lo parent 1: dest 2001:db8::/64 congestion 1 load 0 age 6s delay 0ns stale
class flowshape 1:3 dev lo parent 1: dest mark 0x10/0xff congestion 0.3 load 0 age 20ms delay 2ms' \
	"$(show class)"

# JSON: tc 6.1 has no JSON writer open in "monitor"; json_on.so opens it.
if command -v jq >/dev/null; then
	# json NAME [TC OPTIONS...]: as show, in JSON (the preload is for
	# tc only: it needs tc's symbols).
	json()
	{
		local what=$1
		shift
		"$build/fs_nlmsg" "$what" >"$tmp/$what.bin" &&
			LD_PRELOAD=$build/json_on.so tc "$@" \
				monitor file "$tmp/$what.bin" 2>&1
	}
	# expect_jq DESC JSON FILTER: JSON is one document, FILTER is true
	# for it.  (jq -e alone passes on empty input.)
	expect_jq()
	{
		if jq -e -s "length == 1 and (.[0] | $3)" >/dev/null \
			2>"$tmp/jq" <<<"$2"; then
			pass "$1"
		else
			fail "$1" "jq '$3' is not true for:" "$2" "$(cat "$tmp/jq")"
		fi
	}

	out=$(json qdisc -s)
	expect_jq "qdisc JSON: options, keys = tc keywords" "$out" '.[0].options == {
		"limit": 10000, "flow_limit": 1000, "buckets": 1024,
		"max_flows": 65536, "flow_idle": 3000000000, "mode": "spread",
		"congestion_weight": 10000000, "load_weight": 10000000,
		"congestion_threshold": 0.2, "load_threshold": 0.5,
		"max_delay": 50000000, "smoothing": 0, "quantum": 1514,
		"timer_slack": 10000, "stale_after": 5000000000,
		"default_congestion": 0, "default_load": 0, "max_dests": 4096 }'
	expect_jq "qdisc JSON: xstats, keys = struct fields" "$out" '.[0] | {
		enqueued, drops_limit, drops_flow_limit, passed, delayed,
		delay_total_ns, overflow_packets, alloc_errors, gc_flows,
		stale_packets, late_packets, lateness_total_ns, lateness_max_ns,
		early_releases, watchdog_armed, flows, throttled_flows, dests,
		stale_dests, next_release_ns, lateness_mean_ns, released,
		purged } == {
		"enqueued": 1000, "drops_limit": 2, "drops_flow_limit": 3,
		"passed": 900, "delayed": 95, "delay_total_ns": 1900000000,
		"overflow_packets": 4, "alloc_errors": 5, "gc_flows": 6,
		"stale_packets": 7, "late_packets": 95,
		"lateness_total_ns": 1900000, "lateness_max_ns": 90000,
		"early_releases": 0, "watchdog_armed": 80, "flows": 3,
		"throttled_flows": 1, "dests": 5, "stale_dests": 1,
		"next_release_ns": 1000000, "lateness_mean_ns": 20000,
		"released": 990, "purged": 10 }'
	out=$(json qdisc-set -s)
	expect_jq "qdisc JSON: no released/purged from an older kernel" "$out" \
		'.[0] | has("enqueued") and (has("released") | not) and (has("purged") | not)'

	out=$(json qdisc-set)
	expect_jq "qdisc JSON: fractions as floats, mode as a string" "$out" \
		'.[0].options == { "flow_idle": 3600000000000, "mode": "delay",
		"congestion_threshold": 0.000001, "max_delay": 1500000000,
		"smoothing": 0.35, "quantum": 65536, "timer_slack": 0,
		"default_load": 1 }'

	# tc 6.1 prints the class line itself as text, even with -j; the
	# plugin's part after "parent 1: " is the options object's members.
	out=$(json class | sed -n 's/^.*parent 1: ,\{0,1\}//p' |
	      sed 's/^/{/; s/$/}/')
	expect_jq "class JSON: dest, congestion, load, age, delay, stale" \
		"$(head -n 1 <<<"$out")" '. == { "dest": "10.0.1.0/24",
		"congestion": 0.4, "load": 0.9, "age": 1200000000,
		"delay": 4000000, "stale": false }'
	expect_jq "class JSON: a stale IPv6 entry" "$(sed -n 2p <<<"$out")" \
		'. == { "dest": "2001:db8::/64", "congestion": 1, "load": 0,
		"age": 6000000000, "delay": 0, "stale": true }'
	expect_jq "class JSON: a mark entry" "$(sed -n 3p <<<"$out")" \
		'. == { "dest": "mark 0x10/0xff", "mark": 16, "mark_mask": 255,
		"congestion": 0.3, "load": 0, "age": 20000000, "delay": 2000000,
		"stale": false }'
else
	for t in "qdisc JSON: options" "qdisc JSON: xstats" "qdisc JSON: fractions" \
		 "class JSON: entry" "class JSON: stale entry"; do
		skip "$t" "no jq"
	done
fi

# ---- the man page ---------------------------------------------------------------

man8=$top/Documentation/tc-flowshape.8
params=$(tc qdisc add dev lo root flowshape help 2>&1 |
	 sed -n '/^Parameters/,/^Each/s/^  \([a-z_]*\) .*/\1/p')
missing=()
for p in $params; do
	# In SYNOPSIS as ".B name", described under its own ".SS name ...".
	grep -q "^\.B $p\$" "$man8" && grep -Eq "^\.SS $p( |\$)" "$man8" ||
		missing+=("$p")
done
# DESTINATION TABLE: each form as a tagged paragraph.
grep -q '^\.BI dest " PREFIX " "' "$man8" || missing+=("dest PREFIX ...")
grep -q '^\.BI dest " PREFIX " delete' "$man8" || missing+=("dest PREFIX delete")
grep -q '^\.BI "dest mark " MARK\[/MASK\] " ' "$man8" || missing+=("dest mark MARK[/MASK] ...")
grep -A1 '^\.TP$' "$man8" | grep -qx '\.B flush_dests' || missing+=(flush_dests)
if [[ $(wc -w <<<"$params") -eq 26 && ${#missing[@]} -eq 0 ]]; then
	pass "man page documents every parameter"
else
	fail "man page documents every parameter" \
		"help lists: $(echo $params)" "missing in $man8: ${missing[*]}"
fi
if command -v groff >/dev/null; then
	out=$(groff -man -Tutf8 -ww -z "$man8" 2>&1)
	if [[ -z $out ]]; then
		pass "man page renders without warnings"
	else
		fail "man page renders without warnings" "$out"
	fi
else
	skip "man page renders without warnings" "no groff"
fi

echo "1..$n"
exit $failed
