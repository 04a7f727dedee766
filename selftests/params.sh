#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 12. Every parameter round-trips through tc: defaults as in the spec's
#     table, every parameter set to a non-default value comes back exactly
#     in JSON (times ns, fractions floats, sizes bytes, mode string) and in
#     the text output; the unit syntaxes (2000ms, 100ns, 35%, 64kb) parse;
#     changing one parameter keeps the others.
# 11. Bad values are refused with a message naming the problem: through
#     tc (whichever of tc or the kernel catches it), and straight to the
#     kernel with fsnl (raw netlink, no tc checks) for its extack; a
#     refused request changes nothing: no parameter, no table entry, even
#     when only one entry of many is bad.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip jq awk
fs_require_fsnl
fs_load_module

fs_netns "$NS0" || fs_skip "cannot create a network namespace"
fs_dummy "$NS0" d0 || fs_skip "no dummy device support"

opts() { tc -n "$NS0" -j qdisc show dev d0 | jq -c '[.[] | select(.kind == "flowshape")][0].options'; }
raw() { tc -n "$NS0" -j qdisc show dev d0; }
# The table's entries and levels (age, delay and the stale flag change with
# time alone, so they are left out of "nothing changed" comparisons).
table() { tc -n "$NS0" class show dev d0 | sed -E 's/ age [^ ]+//; s/ delay [^ ]+//; s/ stale//'; }

# check_opts WHAT EXPECTED-JSON: every key of EXPECTED equal in the options
# (one tc and one jq run: jq alone costs ~0.25-1 s under TCG).
check_opts()
{
	local what=$1 want=$2 k w g
	while IFS=$'\t' read -r k w g; do
		check_eq "$what: $k" "$w" "$g"
	done <<<"$(opts | jq -r --argjson w "$want" '. as $got |
		$w | to_entries[] | "\(.key)\t\(.value | tojson)\t\($got[.key] | tojson)"')"
}

# --- 12. round trip ------------------------------------------------------
fs_section "12. round trip"
check "add with defaults" tc -n "$NS0" qdisc add dev d0 root handle 1: flowshape
DEFAULTS='{"limit":10000,"flow_limit":1000,"buckets":1024,"max_flows":65536,
 "flow_idle":3000000000,"mode":"spread","congestion_weight":10000000,
 "load_weight":10000000,"congestion_threshold":0.2,"load_threshold":0.5,
 "max_delay":50000000,"smoothing":0,"quantum":1514,"timer_slack":10000,
 "stale_after":5000000000,"default_congestion":0,"default_load":0,
 "max_dests":4096}'
check_opts "defaults" "$DEFAULTS"
check "defaults: text as in the spec" grep -Eq \
	'limit 10000p flow_limit 1000p buckets 1024 max_flows 65536 flow_idle 3(\.0)?s mode spread congestion_weight 10(\.0)?ms load_weight 10(\.0)?ms congestion_threshold 0\.2 load_threshold 0\.5 max_delay 50(\.0)?ms smoothing 0 quantum 1514b timer_slack 10(\.0)?us stale_after 5(\.0)?s default_congestion 0 default_load 0 max_dests 4096' \
	<<<"$(tc -n "$NS0" qdisc show dev d0)"
check "delete" tc -n "$NS0" qdisc del dev d0 root

ALL=(limit 5000 flow_limit 500 buckets 256 max_flows 1000 flow_idle 2s
	mode delay congestion_weight 7ms load_weight 3ms congestion_threshold 0.25
	load_threshold 0.75 max_delay 40ms smoothing 0.5 quantum 3000
	timer_slack 20us stale_after 2s default_congestion 0.1 default_load 0.3
	max_dests 100)
SET='{"limit":5000,"flow_limit":500,"buckets":256,"max_flows":1000,
 "flow_idle":2000000000,"mode":"delay","congestion_weight":7000000,
 "load_weight":3000000,"congestion_threshold":0.25,"load_threshold":0.75,
 "max_delay":40000000,"smoothing":0.5,"quantum":3000,"timer_slack":20000,
 "stale_after":2000000000,"default_congestion":0.1,"default_load":0.3,
 "max_dests":100}'
check "add with every parameter non-default" \
	tc -n "$NS0" qdisc add dev d0 root handle 1: flowshape "${ALL[@]}"
check_opts "set" "$SET"
text=$(tc -n "$NS0" qdisc show dev d0)
fs_log "$text"
for re in 'limit 5000p' 'flow_limit 500p' 'buckets 256' 'max_flows 1000' \
	'flow_idle 2(\.0)?s' 'mode delay' 'congestion_weight 7(\.0)?ms' \
	'load_weight 3(\.0)?ms' 'congestion_threshold (0\.25|25%)' \
	'load_threshold (0\.75|75%)' 'max_delay 40(\.0)?ms' 'smoothing (0\.5|50%)' \
	'quantum 3000b?' 'timer_slack 20(\.0)?us' 'stale_after 2(\.0)?s' \
	'default_congestion (0\.1|10%)' 'default_load (0\.3|30%)' 'max_dests 100'; do
	check "text shows '$re'" grep -Eq "(^| )$re( |\$)" <<<"$text"
done

before=$(opts)
check "change one parameter (limit 6000)" tc -n "$NS0" qdisc change dev d0 root flowshape limit 6000
after=$(opts)
check_eq "changed limit" 6000 "$(jq .limit <<<"$after")"
check_eq "every other parameter kept" "$(jq -cS 'del(.limit)' <<<"$before")" \
	"$(jq -cS 'del(.limit)' <<<"$after")"
check "change without options" tc -n "$NS0" qdisc change dev d0 root flowshape
check_eq "nothing changed" "$after" "$(opts)"

# Unit syntaxes.
check "units: 2000ms 100ns 35% 64kb 1" tc -n "$NS0" qdisc change dev d0 root flowshape \
	flow_idle 2000ms timer_slack 100ns congestion_threshold 35% quantum 64kb \
	load_threshold 1 mode spread
check_opts "units" '{"flow_idle":2000000000,"timer_slack":100,"congestion_threshold":0.35,
 "quantum":65536,"load_threshold":1,"mode":"spread"}'
check "units: bounds are accepted" tc -n "$NS0" qdisc change dev d0 root flowshape \
	limit 1000000 flow_limit 1 buckets 1048576 max_flows 16777216 flow_idle 3600s \
	congestion_weight 10s load_weight 0 max_delay 10s smoothing 0.99 \
	quantum 1048576 timer_slack 10ms stale_after 10s max_dests 65535
check_opts "bounds" '{"limit":1000000,"flow_limit":1,"buckets":1048576,
 "max_flows":16777216,"flow_idle":3600000000000,"congestion_weight":10000000000,
 "load_weight":0,"max_delay":10000000000,"smoothing":0.99,"quantum":1048576,
 "timer_slack":10000000,"stale_after":10000000000,"max_dests":65535}'
# overflow_limit (issue 16): default 1000, bounds, round trip in JSON and text.
check_eq "overflow_limit: default 1000" 1000 "$(jq .overflow_limit <<<"$after")"
check "overflow_limit: bounds 1 and 1000000 accepted" tc -n "$NS0" qdisc change dev d0 root \
	flowshape overflow_limit 1
check "overflow_limit: 1000000" tc -n "$NS0" qdisc change dev d0 root flowshape overflow_limit 1000000
check "overflow_limit: 250" tc -n "$NS0" qdisc change dev d0 root flowshape overflow_limit 250
check_eq "overflow_limit: 250 in JSON" 250 "$(opts | jq .overflow_limit)"
check "overflow_limit: text shows 'overflow_limit 250p'" \
	grep -Eq ' overflow_limit 250p( |$)' <<<"$(tc -n "$NS0" qdisc show dev d0)"
check "overflow_limit: back to 1000" tc -n "$NS0" qdisc change dev d0 root flowshape overflow_limit 1000
check "back to the non-default set" tc -n "$NS0" qdisc change dev d0 root flowshape "${ALL[@]}"

# xstats: "tc -s" shows every field of struct tc_flowshape_xstats under its
# own name in JSON; in text too, except that times print with their unit as
# tc does (fq: "latency 5us"): a field "x_ns" shows as "x 1.2ms".
FIELDS=$(sed -n '/struct tc_flowshape_xstats {/,/};/p' "$FS_TOP/kernel/uapi/linux/flowshape.h" |
	grep -oE '__u(32|64)[[:space:]]+[a-z_]+' | awk '{ print $2 }')
check "xstats fields found in the UAPI header" test "$(wc -w <<<"$FIELDS")" -ge 20
sj=$(tc -n "$NS0" -s -j qdisc show dev d0)
st=$(tc -n "$NS0" -s qdisc show dev d0)
missing_t=
for f in $FIELDS; do
	grep -Eq "(^| )(${f}|${f%_ns}) " <<<"$st" || missing_t+=" $f"
done
check_eq "xstats: every struct field is a JSON number under its name" "" \
	"$(jq -r --arg f "$FIELDS" '[.[] | select(.kind == "flowshape")][0] as $q |
		[$f | split("\n")[] | select(length > 0) |
		 select(. as $k | ($q | has($k)) and ($q[$k] | type == "number") | not)] |
		join(" ")' <<<"$sj")"
check_eq "xstats: every struct field is in the text stats (times without _ns)" "" "$missing_t"

# --- 11. refused through tc ----------------------------------------------
fs_section "11. refused through tc"
# check_refused DESC KEY-REGEX ARGS...: "tc qdisc change" fails, one line
# of its output names the problem (KEY-REGEX and an error word on the same
# line: tc's usage text alone does not count), nothing changed.
check_refused()
{
	local desc=$1 key=$2 out rc
	shift 2
	out=$(tc -n "$NS0" qdisc change dev d0 root flowshape "$@" 2>&1)
	rc=$?
	_fs_n=$((_fs_n + 1))
	if ((rc != 0)) && grep -Ei -- "$key" <<<"$out" |
		grep -Eiq 'invalid|error|illegal|range|not a|not complete|power|exceed|too |bad|must|expect|unknown|wrong'; then
		echo "ok $_fs_n - tc refuses $desc"
	else
		echo "not ok $_fs_n - tc refuses $desc (rc=$rc, output: $out)"
		_fs_failed=1
	fi
}
# unchanged SINCE WHAT: the qdisc's options and table are still SINCE (one
# comparison per group of refusals: two tc runs each under TCG add up).
state() { echo "$(raw)$(table)"; }
unchanged()
{
	check_eq "$2 changed nothing" "$1" "$(state)"
}
s0=$(state)
check_refused "limit 0" limit limit 0
check_refused "limit 1000001" 'limit|range' limit 1000001
check_refused "limit abc" limit limit abc
check_refused "flow_limit 0" 'flow_limit' flow_limit 0
check_refused "buckets 1000 (not a power of 2)" 'bucket|power' buckets 1000
check_refused "buckets 0" 'bucket' buckets 0
check_refused "buckets 2097152" 'bucket|range' buckets 2097152
check_refused "max_flows 0" 'max_flows' max_flows 0
check_refused "max_flows 16777217" 'max_flows|range' max_flows 16777217
check_refused "flow_idle 0" 'flow_idle|range' flow_idle 0
check_refused "flow_idle 3601s" 'flow_idle|range' flow_idle 3601s
check_refused "flow_idle 5xs (malformed time)" 'flow_idle|5xs' flow_idle 5xs
check_refused "mode fast" 'mode|fast' mode fast
check_refused "congestion_weight 11s" 'congestion_weight|range' congestion_weight 11s
check_refused "load_weight 11s" 'load_weight|range' load_weight 11s
check_refused "congestion_threshold 1.5" 'congestion_threshold|range' congestion_threshold 1.5
check_refused "load_threshold -0.1" 'load_threshold|range' load_threshold -0.1
check_refused "congestion_threshold abc" 'congestion_threshold|abc' congestion_threshold abc
check_refused "load_threshold 101%" 'load_threshold|range' load_threshold 101%
check_refused "max_delay 11s" 'max_delay|range' max_delay 11s
check_refused "smoothing 0.995" 'smoothing|range' smoothing 0.995
check_refused "quantum 100" 'quantum|range' quantum 100
check_refused "quantum 2mb" 'quantum|range' quantum 2mb
check_refused "timer_slack 11ms" 'timer_slack|range' timer_slack 11ms
check_refused "stale_after 0" 'stale_after|range' stale_after 0
check_refused "stale_after 11s" 'stale_after|range' stale_after 11s
check_refused "default_congestion 2" 'default_congestion|range' default_congestion 2
check_refused "default_load x" 'default_load|"?x"?' default_load x
check_refused "max_dests 0" 'max_dests' max_dests 0
check_refused "max_dests 65536" 'max_dests|range' max_dests 65536
check_refused "overflow_limit 0" 'overflow_limit|range' overflow_limit 0
check_refused "overflow_limit 1000001" 'overflow_limit|range' overflow_limit 1000001
check_refused "unknown keyword" 'bogus' bogus 1
unchanged "$s0" "the refused parameters"
check_refused "dest prefix length 33" 'prefix|/33|plen|length' dest 10.1.0.0/33
check_refused "dest with host bits set" 'prefix|host|10\.1\.2\.3' dest 10.1.2.3/24
check_refused "dest IPv6 prefix length 129" 'prefix|/129|plen|length' dest fd00::/129
check_refused "dest not an address" 'prefix|address|nonsense|dest' dest nonsense
check_refused "dest congestion 1.5" 'congestion|range' dest 10.1.0.0/16 congestion 1.5
check_refused "dest load -1" 'load|range' dest 10.1.0.0/16 load -1
# (tc's own NEXT_ARG message: "Command line is not complete.")
check_refused "dest without prefix" 'dest|prefix|not complete' dest
unchanged "$s0" "the refused dests"
# Whole message refused: good entries around one bad one.
check "table: one good entry" tc -n "$NS0" qdisc change dev d0 root flowshape dest 10.7.0.0/16 congestion 0.2
s0=$(state)
check_refused "a message with one bad dest among good ones" 'prefix|host|10\.9\.1\.1' \
	dest 10.8.0.0/16 congestion 0.5 dest 10.9.1.1/24 congestion 0.3 dest 10.7.0.0/16 congestion 0.9
unchanged "$s0" "the refused message with one bad dest among good ones"
check_refused "good parameters with one bad one" 'bucket|power' limit 777 buckets 1000
unchanged "$s0" "the refused message with good parameters and one bad one"

# --- 11. refused by the kernel itself (fsnl: raw netlink, no tc checks) --
fs_section "11. refused by the kernel itself (fsnl: raw netlink, no tc checks)"
# kernel_refuses DESC PATTERN FSNL-ARGS...: the kernel says "Error: ..."
# matching PATTERN, and nothing changed.
kernel_refuses()
{
	local desc=$1 pat=$2 out rc
	shift 2
	out=$("$FSNL" -n "$NS0" change d0 "$@" 2>&1)
	rc=$?
	fs_log "fsnl $*: $(head -n1 <<<"$out")"
	check "kernel refuses $desc (rc=$rc)" \
		eval '((rc != 0)) && grep -Eq -- "Error: .*($pat)" <<<"$out"'
}
check "fsnl: a valid raw change is accepted" "$FSNL" -n "$NS0" change d0 limit=5000
s0=$(state)
kernel_refuses "buckets 1000 (not a power of 2)" 'flowshape: buckets must be a power of 2' buckets=1000
kernel_refuses "buckets 0" 'flowshape: buckets out of range \(1\.\.1048576' buckets=0
kernel_refuses "buckets 2^21" 'flowshape: buckets out of range \(1\.\.1048576' buckets=2097152
kernel_refuses "limit 0" 'flowshape: limit out of range \(1\.\.1000000 packets\)' limit=0
kernel_refuses "limit 1000001" 'flowshape: limit out of range \(1\.\.1000000 packets\)' limit=1000001
kernel_refuses "flow_limit 0" 'flowshape: flow_limit out of range \(1\.\.1000000 packets\)' flow_limit=0
kernel_refuses "max_flows 0" 'flowshape: max_flows out of range \(1\.\.16777216\)' max_flows=0
kernel_refuses "max_flows 2^24+1" 'flowshape: max_flows out of range \(1\.\.16777216\)' max_flows=16777217
kernel_refuses "flow_idle < 1 ms" 'flowshape: flow_idle out of range \(1 ms\.\.3600 s' flow_idle=999999
kernel_refuses "flow_idle > 3600 s" 'flowshape: flow_idle out of range \(1 ms\.\.3600 s' flow_idle=3600000000001
kernel_refuses "mode 2" 'flowshape: mode out of range \(0 spread, 1 delay\)' mode=2
kernel_refuses "congestion_weight > 10 s" 'flowshape: congestion_weight out of range \(0\.\.10 s' congestion_weight=10000000001
kernel_refuses "load_weight > 10 s" 'flowshape: load_weight out of range \(0\.\.10 s' load_weight=10000000001
kernel_refuses "congestion_threshold > 1.0" 'flowshape: congestion_threshold out of range \(0\.\.1000000 ppm\)' congestion_threshold=1000001
kernel_refuses "load_threshold > 1.0" 'flowshape: load_threshold out of range \(0\.\.1000000 ppm\)' load_threshold=1000001
kernel_refuses "max_delay > 10 s" 'flowshape: max_delay out of range \(0\.\.10 s' max_delay=10000000001
kernel_refuses "smoothing > 0.99" 'flowshape: smoothing out of range \(0\.\.990000 ppm\)' smoothing=990001
kernel_refuses "quantum 255" 'flowshape: quantum out of range \(256\.\.1048576 bytes\)' quantum=255
kernel_refuses "quantum 1048577" 'flowshape: quantum out of range \(256\.\.1048576 bytes\)' quantum=1048577
kernel_refuses "timer_slack > 10 ms" 'flowshape: timer_slack out of range \(0\.\.10 ms' timer_slack=10000001
kernel_refuses "stale_after 0" 'flowshape: stale_after out of range \(1 ms\.\.10 s' stale_after=0
kernel_refuses "stale_after > 10 s" 'flowshape: stale_after out of range \(1 ms\.\.10 s' stale_after=10000000001
kernel_refuses "default_congestion > 1.0" 'flowshape: default_congestion out of range \(0\.\.1000000 ppm\)' default_congestion=1000001
kernel_refuses "default_load > 1.0" 'flowshape: default_load out of range \(0\.\.1000000 ppm\)' default_load=1000001
kernel_refuses "max_dests 0" 'flowshape: max_dests out of range \(1\.\.65535\)' max_dests=0
kernel_refuses "max_dests 65536" 'flowshape: max_dests out of range \(1\.\.65535\)' max_dests=65536
kernel_refuses "overflow_limit 0" 'flowshape: overflow_limit out of range \(1\.\.1000000 packets\)' overflow_limit=0
kernel_refuses "overflow_limit 1000001" 'flowshape: overflow_limit out of range \(1\.\.1000000 packets\)' overflow_limit=1000001
kernel_refuses "dest IPv4 plen 33" 'flowshape: prefix length out of range' dest:v4=10.1.0.0,plen=33
kernel_refuses "dest IPv6 plen 129" 'flowshape: prefix length out of range' dest:v6=fd00::,plen=129
kernel_refuses "dest IPv4 host bits set" 'prefix|host|bits' dest:v4=10.1.2.3,plen=24
kernel_refuses "dest IPv6 host bits set" 'prefix|host|bits' dest:v6=fd00::1,plen=64
kernel_refuses "dest with IPv4 and IPv6" 'IPV4|IPV6|IPv4|IPv6|both|one|address' \
	dest:v4=10.1.0.0,v6=fd00::,plen=16
kernel_refuses "dest without an address" 'IPV4|IPV6|IPv4|IPv6|address|missing|one' \
	dest:plen=16,c=1000
kernel_refuses "dest congestion > 1.0" 'flowshape: destination congestion out of range \(0\.\.1000000 ppm\)' dest:v4=10.1.0.0,plen=16,c=1000001
kernel_refuses "dest load > 1.0" 'flowshape: destination load out of range \(0\.\.1000000 ppm\)' dest:v4=10.1.0.0,plen=16,l=1000001
# Bytes after the last entry of DESTS that do not make an attribute: the
# whole message is refused, like the core refuses them at the top level.
kernel_refuses "dests ending in 1 stray byte" 'flowshape: trailing bytes after the last destination entry' \
	dest:v4=10.8.0.0,plen=16,c=500000 dests_junk=1
kernel_refuses "dests ending in 3 stray bytes" 'flowshape: trailing bytes after the last destination entry' \
	dest:v4=10.8.0.0,plen=16,c=500000 dests_junk=3
unchanged "$s0" "the kernel-refused values"
kernel_refuses "one bad dest among good ones (whole message)" 'flowshape: prefix length out of range' \
	dest:v4=10.8.0.0,plen=16,c=500000 dest:v4=10.9.0.0,plen=33 \
	dest:v4=10.7.0.0,plen=16,c=900000
unchanged "$s0" "the kernel-refused message with one bad dest among good ones"
kernel_refuses "flush with a bad dest (flush not applied either)" 'prefix|host|bits' \
	flush dest:v4=10.9.1.1,plen=24
unchanged "$s0" "the kernel-refused flush with a bad dest"
kernel_refuses "good parameters with one bad (none applied)" 'bucket|power' \
	limit=777 quantum=4000 buckets=1000
unchanged "$s0" "the kernel-refused good parameters with one bad one"
check_eq "table after the refusals: the one entry, level unchanged" "10.7.0.0/16 0.2" \
	"$(fs_dests "$NS0" d0 | jq -r '.[] | "\(.dest) \(.congestion * 1000 | round / 1000)"')"

# --- extack marks the offending attribute ---------------------------------
fs_section "extack marks the offending attribute (NLMSGERR_ATTR_OFFS)"
# fsnl resolves the offset the kernel returns to the attribute of the
# request it sent: each refusal must point at the bad attribute itself,
# not only name it in the message.  Good attributes sit around the bad one
# so that an offset pointing at the first or the last would be caught.
# kernel_marks DESC PATH FSNL-ARGS...
kernel_marks()
{
	local desc=$1 path=$2 out
	shift 2
	out=$("$FSNL" -n "$NS0" change d0 "$@" 2>&1)
	fs_log "fsnl $*: $(grep '^bad attribute' <<<"$out")"
	check "extack offset: $desc -> $path" \
		grep -q "^bad attribute: $path (offset [0-9]*)\$" <<<"$out"
}
s0=$(state)
kernel_marks "limit 0 (range table)" options.limit limit=0
kernel_marks "quantum 255 between good ones" options.quantum \
	limit=5000 quantum=255 flow_limit=100
kernel_marks "buckets not a power of 2" options.buckets \
	limit=5000 buckets=1000 quantum=3000
kernel_marks "stale_after 0 after good ones" options.stale_after \
	limit=5000 max_delay=1000 stale_after=0
kernel_marks "second entry's prefix length 33" options.dests.dest#2.plen \
	dest:v4=10.8.0.0,plen=16 dest:v4=10.9.0.0,plen=33,c=1000 dest:v4=10.7.0.0,plen=16
kernel_marks "second entry's congestion > 1.0" options.dests.dest#2.c \
	dest:v4=10.8.0.0,plen=16 dest:v4=10.9.0.0,plen=16,c=1000001,l=5
kernel_marks "third entry's load > 1.0" options.dests.dest#3.l \
	dest:v4=10.8.0.0,plen=16 dest:v4=10.9.0.0,plen=16 dest:v4=10.7.0.0,plen=16,l=1000001
kernel_marks "second entry with host bits set (the entry)" options.dests.dest#2 \
	dest:v4=10.8.0.0,plen=16 dest:v4=10.9.1.1,plen=24
kernel_marks "entry with both addresses (the entry)" options.dests.dest#1 \
	dest:v4=10.1.0.0,v6=fd00::,plen=16
kernel_marks "delete with levels (the entry)" options.dests.dest#2 \
	dest:v4=10.8.0.0,plen=16 dest:v4=10.7.0.0,plen=16,del,c=5
kernel_marks "trailing bytes (the DESTS nest)" options.dests \
	dest:v4=10.8.0.0,plen=16 dests_junk=2
unchanged "$s0" "the refusals with marked attributes"

fs_section "done"
fs_done
