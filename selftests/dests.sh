#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The destination table:
#   6. longest-prefix match, IPv4 (/16, /24, /32) and IPv6 (/48, /64, /128),
#      delete falls back to the shorter prefix, default_congestion applies
#      to unmatched destinations;
#   8. stale entries stop delaying after stale_after, are listed as stale
#      and counted; setting the entry again (even without levels) refreshes
#      it and keeps its levels;
#  13. listing (tc class show, text and JSON): order, classids, levels, age,
#      delay (= the formula), absent levels on update mean "unchanged";
#      delete, flush (before entries in the same message), 2000 entries in
#      one command, max_dests refusing a whole message.
#
# RTT bounds as in shaping.sh: min RTT >= delay - 1 ms (nothing leaves
# early) and min RTT < delay + 10 ms: entries differ by 20 ms, the minimum
# of 8 pings is robust under TCG (only outliers are slow), and 10 ms is far
# more than the ~0.3 ms baseline (loaded hosts push all of a few pings up by
# several ms now and then).
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip ping jq awk
fs_require_udpseq
fs_require_fsnl
fs_load_module
fs_netns_pair || fs_skip "cannot build the veth pair"

ADDRS="10.200.5.2 10.200.5.7 10.200.9.2 fd00:300:0:5::2 fd00:300:0:5::7 fd00:300:0:9::2"
for a in $ADDRS; do
	fs_peer_addr "$a" || fs_skip "cannot add receiver address $a"
done
fs_baseline "$NS0" 10.100.0.2 || fs_skip "no baseline ping"

# ping_is DESC ADDR EXPECTED_NS: min RTT says the delay is EXPECTED_NS.
# The entries in REFRESH are set again (bare: levels kept) first: on a
# loaded host a section can outlast even the longest stale_after (10 s),
# and a stale entry would silently stop delaying.
# (Only when the last set is more than 4 s old: each tc run costs time.)
REFRESH=()
LAST_SET=0
ping_is()
{
	local desc=$1 addr=$2 exp p args=()
	exp=$(fs_ms "$3")
	for p in "${REFRESH[@]}"; do args+=(dest "$p"); done
	if ((${#args[@]} && $(fs_now_ms) - LAST_SET > 4000)); then
		fs_change veth0 "${args[@]}"
		LAST_SET=$(fs_now_ms)
	fi
	fs_ping "$NS0" "$addr" 8 0.03
	check "$desc: $addr min RTT $PING_MIN in [$exp - 1, $exp + 10) ms" \
		fcmp "$PING_MIN >= $exp - 1 && $PING_MIN < $exp + 10"
}

# --- 6. longest-prefix match --------------------------------------------
fs_section "6. longest-prefix match"
CW=$(fs_ns 100) MAXD=$(fs_ns 100)
d() { fs_formula_ns "$CW" 0 "$1" 0 0 0 "$MAXD"; }
check "lpm: qdisc delay mode, cw 100ms ct 0" \
	fs_fresh veth0 mode delay congestion_weight 100ms congestion_threshold 0 \
	load_weight 0 max_delay 100ms
# Shorter prefixes first in the message: a first-match table would pick them.
check "lpm: /16 /24 /32 and /48 /64 /128 entries" \
	fs_change veth0 dest 10.200.0.0/16 congestion 0.1 \
	dest 10.200.5.0/24 congestion 0.3 dest 10.200.5.7/32 congestion 0.5 \
	dest fd00:300::/48 congestion 0.1 dest fd00:300:0:5::/64 congestion 0.3 \
	dest fd00:300:0:5::7/128 congestion 0.5
LAST_SET=$(fs_now_ms)
REFRESH=(10.200.0.0/16 10.200.5.0/24 10.200.5.7/32 fd00:300::/48
	fd00:300:0:5::/64 fd00:300:0:5::7/128)
ping_is "lpm v4 /32" 10.200.5.7 "$(d 0.5)"
ping_is "lpm v4 /24" 10.200.5.2 "$(d 0.3)"
ping_is "lpm v4 /16" 10.200.9.2 "$(d 0.1)"
ping_is "lpm v6 /128" fd00:300:0:5::7 "$(d 0.5)"
ping_is "lpm v6 /64" fd00:300:0:5::2 "$(d 0.3)"
ping_is "lpm v6 /48" fd00:300:0:9::2 "$(d 0.1)"
fs_ping "$NS0" 10.100.0.2 6 0.02
check "lpm: unmatched address not delayed (RTT lower quartile $PING_P25)" \
	fcmp "$PING_P25 < $BASE_MED + $FS_NODELAY_TOL_MS"
check "lpm: delete the /24 and the /64" \
	fs_change veth0 dest 10.200.5.0/24 delete dest fd00:300:0:5::/64 delete
LAST_SET=0
REFRESH=(10.200.0.0/16 10.200.5.7/32 fd00:300::/48 fd00:300:0:5::7/128)
ping_is "lpm after delete: v4 falls back to /16" 10.200.5.2 "$(d 0.1)"
ping_is "lpm after delete: v6 falls back to /48" fd00:300:0:5::2 "$(d 0.1)"
ping_is "lpm after delete: v4 /32 kept" 10.200.5.7 "$(d 0.5)"
check "default_congestion 0.2" fs_change veth0 default_congestion 0.2
ping_is "default_congestion: unmatched v4" 10.100.0.2 "$(d 0.2)"
ping_is "default_congestion: unmatched v6" fd00:100::2 "$(d 0.2)"
ping_is "default_congestion: matched entry keeps its own level" 10.200.9.2 "$(d 0.1)"
check_release_accuracy "$NS0" veth0

# --- 8. stale entries ----------------------------------------------------
fs_section "8. stale entries"
REFRESH=()
exp_ns=$(fs_formula_ns "$(fs_ns 30)" 0 1 0 0 0 "$(fs_ns 100)")
# stale_after 5 s: long enough for a few pings right after the set even on a
# loaded host, short enough to wait for.
check "stale: qdisc cw 30ms, stale_after 5s" \
	fs_fresh veth0 mode delay congestion_weight 30ms congestion_threshold 0 \
	load_weight 0 max_delay 100ms stale_after 5s
stale_text() { tc -n "$NS0" class show dev veth0 | grep -qE "dest 10\.100\.0\.2(/32)? .*stale"; }
not_stale_text()
{
	local l
	l=$(tc -n "$NS0" class show dev veth0 | grep -E "dest 10\.100\.0\.2(/32)? ")
	fs_log "listing: $l"
	[[ -n $l && $l != *stale* ]]
}
check "stale: dest congestion 1" fs_change veth0 dest 10.100.0.2 congestion 1
t_set=$(fs_now_ms)
ping_is "stale: fresh entry delays" 10.100.0.2 "$exp_ns"
fs_log "fresh-entry pings done $(($(fs_now_ms) - t_set)) ms after the set"
check "stale: listed as stale within 5 s + 10 s" wait_for 15 stale_text
e=$(fs_dests "$NS0" veth0)
check_eq "stale: listed stale flag" true "$(fs_dest_in "$e" 10.100.0.2/32 .stale)"
check_eq "stale: a stale entry yields delay 0" 0 "$(fs_dest_in "$e" 10.100.0.2/32 .delay)"
fs_ping "$NS0" 10.100.0.2 5 0.02
check "stale: no delay once stale (RTT lower quartile $PING_P25, a delay would be 30 ms)" fcmp "$PING_P25 < $BASE_MED + 15"
fs_xsnap "$NS0" veth0
check "stale: stale_packets ${XS[stale_packets]} >= 5" test "${XS[stale_packets]:-0}" -ge 5
check "stale: stale_dests ${XS[stale_dests]} >= 1" test "${XS[stale_dests]:-0}" -ge 1
check "stale: refresh with the bare dest (levels unchanged)" \
	fs_change veth0 dest 10.100.0.2
check "stale: refreshed entry no longer stale" not_stale_text
ping_is "stale: refreshed entry delays again" 10.100.0.2 "$exp_ns"
check_eq "stale: refresh kept congestion" 1 \
	"$(fs_dest "$NS0" veth0 10.100.0.2/32 '.congestion * 1000 | round / 1000')"

# --- 13. listing ---------------------------------------------------------
fs_section "13. listing"
CW=$(fs_ns 100) LW=$(fs_ns 50) MAXD=$(fs_ns 1000)
check "list: qdisc cw 100ms lw 50ms ct 0 lt 0" \
	fs_fresh veth0 mode delay congestion_weight 100ms load_weight 50ms \
	congestion_threshold 0 load_threshold 0 max_delay 1s stale_after 10s
t0=$(fs_now_ms)
check "list: six entries in mixed order" \
	fs_change veth0 dest fd00:300::/48 congestion 0.1 load 0.2 \
	dest 10.200.0.0/16 congestion 0.4 load 0.9 \
	dest fd00:300:0:5::7 congestion 0.3 \
	dest 10.200.5.7 load 0.6 \
	dest 10.200.5.0/24 congestion 0.25 load 0.5 \
	dest fd00:300:0:5::/64 congestion 0.05 load 0.05
t1=$(fs_now_ms)
sleep 0.3	# let the entries age measurably (age is checked against it)
tmp=$(fs_tmp)
l0=$(fs_now_ms)
fs_dests "$NS0" veth0 >"$tmp"
l1=$(fs_now_ms)
dests=$(<"$tmp")
fs_log "listing ($FS_DESTS_SRC): $dests"
check_eq "list: IPv4 before IPv6, longer prefixes first" \
	"10.200.5.7/32 10.200.5.0/24 10.200.0.0/16 fd00:300:0:5::7/128 fd00:300:0:5::/64 fd00:300::/48" \
	"$(jq -r '[.[].dest] | join(" ")' <<<"$dests")"
check_eq "list: classids 1:1..1:6 in table order" "1:1 1:2 1:3 1:4 1:5 1:6" \
	"$(jq -r '[.[].handle] | join(" ")' <<<"$dests")"
declare -A CL=([10.200.5.7/32]="0 0.6" [10.200.5.0/24]="0.25 0.5"
	[10.200.0.0/16]="0.4 0.9" [fd00:300:0:5::7/128]="0.3 0"
	[fd00:300:0:5::/64]="0.05 0.05" [fd00:300::/48]="0.1 0.2")
# One jq run for all six (jq costs ~0.25 s per run under TCG).
while read -r p got_c got_l got_d got_a got_s; do
	[[ -n ${CL[$p]} ]] || continue
	read -r c l <<<"${CL[$p]}"
	unset "CL[$p]"
	want_d=$(fs_formula_ns "$CW" 0 "$c" "$LW" 0 "$l" "$MAXD")
	check "list $p: congestion $got_c == $c, load $got_l == $l" \
		fcmp "$got_c - $c < 1e-4 && $c - $got_c < 1e-4 &&
		      $got_l - $l < 1e-4 && $l - $got_l < 1e-4"
	check "list $p: delay $got_d == formula $want_d" \
		fcmp "$got_d >= $want_d * 0.99 - 100 && $got_d <= $want_d * 1.01 + 100"
	# The entry was set in [t0, t1] and listed in [l0, l1]; 10% + 10 ms
	# for the rounding of tc's text times (when parsed from text).
	check "list $p: age $got_a ns within [$((l0 - t1)), $((l1 - t0))] ms" \
		fcmp "$got_a >= ($l0 - $t1) * 1e6 * 0.9 - 10e6 &&
		      $got_a <= ($l1 - $t0) * 1e6 * 1.1 + 10e6"
	check_eq "list $p: not stale" false "$got_s"
done <<<"$(jq -r '.[] | "\(.dest) \(.congestion) \(.load) \(.delay) \(.age) \(.stale)"' <<<"$dests")"
check_eq "list: every entry was listed" "" "${!CL[*]}"
text=$(tc -n "$NS0" class show dev veth0)
check "list: text lines carry dest, congestion, load, age, delay" \
	test "$(grep -cE '^class flowshape 1:[0-9]+ (parent 1: )?dest [0-9a-f.:/]+ congestion [0-9.%]+ load [0-9.%]+ age [0-9.]+[mun]?s delay [0-9.]+[mun]?s' <<<"$text")" -eq 6
jout=$(tc -n "$NS0" -j class show dev veth0)
if [[ $jout == "["* ]] && jq -e . >/dev/null 2>&1 <<<"$jout"; then
	check "list: JSON has class/handle/parent and every option" fs_jq_true '
		length == 6 and all(.[]; .class == "flowshape" and .parent == "1:" and
		(.handle | test("^1:[1-6]$")) and
		(.options | has("dest") and has("congestion") and has("load") and
		 has("age") and has("delay") and has("stale")))' "$jout"
	check "list: JSON times are ns integers" fs_jq_true 'all(.[]; (.options.age | type == "number" and floor == .) and
		 (.options.delay | type == "number" and floor == .))' "$jout"
else
	# iproute2 6.1's tc prints "class KIND HANDLE parent P " itself with
	# fprintf and opens no JSON context for class dumps: the best a plugin
	# can do is one JSON object of options per line after that prefix.
	opts=$(sed -n 's/^class flowshape [^ ]* \(parent [^ ]* \)\{0,1\}\({.*}\) *$/\2/p' <<<"$jout")
	check "list -j: each line's options are a JSON object with every key, times ns integers" \
		fs_jq_true 'length == 6 and all(.[]; has("dest") and has("congestion") and
		has("load") and has("age") and has("delay") and has("stale") and
		(.age | floor == .) and (.delay | floor == .))' "$(jq -s . <<<"$opts")"
	check_skip "list: tc -j class show is one JSON document" \
		"tc of $(tc -V | grep -o 'iproute2-[0-9.]*[0-9]') prints the class envelope as text even with -j"
fi
fs_xsnap "$NS0" veth0
check_eq "list: xstats dests" 6 "${XS[dests]}"

# Absent levels on an update: unchanged; on a new entry: 0.
check "list: update only the load of 10.200.0.0/16" \
	fs_change veth0 dest 10.200.0.0/16 load 0.7
e=$(fs_dest "$NS0" veth0 10.200.0.0/16)
check "list: congestion kept (0.4), load updated (0.7): $e" \
	fs_jq_true 'def abs: if . < 0 then -. else . end;
		((.congestion - 0.4) | abs) < 1e-4 and ((.load - 0.7) | abs) < 1e-4' "$e"
e=$(fs_dest "$NS0" veth0 10.200.5.7/32)
check "list: new entry without congestion has congestion 0: $e" \
	fs_jq_true '.congestion == 0' "$e"

check "list: delete one" fs_change veth0 dest 10.200.5.7 delete
dests=$(fs_dests "$NS0" veth0)
check_eq "list: five left" 5 "$(jq length <<<"$dests")"
check_eq "list: the deleted one is gone" null \
	"$(fs_dest_in "$dests" 10.200.5.7/32)"
check_eq "list: classids renumbered 1:1..1:5" "1:1 1:2 1:3 1:4 1:5" \
	"$(jq -r '[.[].handle] | join(" ")' <<<"$dests")"
check "list: flush_dests then one entry in the same message" \
	fs_change veth0 flush_dests dest 10.9.9.0/24 congestion 0.3
check_eq "list: flush applied first, then the entry" "10.9.9.0/24" \
	"$(fs_dests "$NS0" veth0 | jq -r '[.[].dest] | join(" ")')"
check "list: flush_dests alone" fs_change veth0 flush_dests
check_eq "list: empty after flush" 0 "$(fs_dest_count "$NS0" veth0)"
check_eq "list: xstats dests 0 after flush" 0 "$(fs_xstat "$NS0" veth0 dests)"

# 2000 entries in one command: 28 bytes of netlink each (IPv4 + plen +
# congestion), 56 KB in all, within tc's 64 KiB request buffer.
BIG=2000
args=()
for ((i = 0; i < BIG; i++)); do
	args+=(dest "10.50.$((i / 250)).$((i % 250 + 1))" congestion 0.5)
done
t0=$(fs_now_ms)
check "list: $BIG entries in one change" fs_change veth0 "${args[@]}"
fs_log "$BIG entries set in $(($(fs_now_ms) - t0)) ms"
t0=$(fs_now_ms)
dests=$(fs_dests "$NS0" veth0)
fs_log "listed in $(($(fs_now_ms) - t0)) ms"
read -r n uniq last <<<"$(jq -r '"\(length) \([.[].dest] | unique | length) \(
	[.[] | select(.dest == "10.50.7.250/32")][0].congestion)"' <<<"$dests")"
check_eq "list: $BIG entries listed" $BIG "$n"
check_eq "list: all distinct" $BIG "$uniq"
check_eq "list: last one present with its level" 0.5 "$last"
check_eq "list: xstats dests $BIG" $BIG "$(fs_xstat "$NS0" veth0 dests)"
check "list: flush the $BIG" fs_change veth0 flush_dests
check_eq "list: empty again" 0 "$(fs_dest_count "$NS0" veth0)"

# max_dests: a message that would go beyond it is refused whole.
check "max_dests: qdisc max_dests 3" fs_fresh veth0 max_dests 3
check_fail_msg "max_dests: 4 new entries refused with a message" \
	'Error: .*(max_dests|full|too many|limit|[Tt]able)' \
	fs_change veth0 dest 10.1.0.1 dest 10.1.0.2 dest 10.1.0.3 dest 10.1.0.4
check_eq "max_dests: nothing applied" 0 "$(fs_dest_count "$NS0" veth0)"
check "max_dests: 3 entries fit" fs_change veth0 dest 10.1.0.1 dest 10.1.0.2 dest 10.1.0.3
check_fail_msg "max_dests: a 4th refused" \
	'Error: .*(max_dests|full|too many|limit|[Tt]able)' \
	fs_change veth0 dest 10.1.0.2 congestion 0.5 dest 10.1.0.4
check_eq "max_dests: still 3, the update in the refused message not applied" \
	"3 0" "$(fs_dests "$NS0" veth0 | jq -r '"\(length) \([.[] | select(.dest == "10.1.0.2/32")][0].congestion)"')"
check "max_dests: updating an existing entry at the limit works" \
	fs_change veth0 dest 10.1.0.2 congestion 0.5

# --- the defaults: non-IP, unmatched, default_load, never stale -----------
fs_section "defaults: non-IP and unmatched packets, default_load, never stale"
# Delay mode: every packet toward the defaults gets exactly the default
# delay, so the kernel's delay_total_ns grows by (packets x delay) (1 us
# per packet for rounding).  default_congestion 0.5 and default_load 0.8:
# 40 ms * 0.5 + 30 ms * (0.8 - 0.5) / (1 - 0.5) = 38 ms.  stale_after
# 300 ms: the entry for 10.200.9.0/24 goes stale while the defaults, older
# still, keep delaying.
DCW=$(fs_ns 40) DLW=$(fs_ns 30) DMAX=$(fs_ns 1000)
# per_pkt DESC WANT_NS CMD...: CMD's packets were all delayed by WANT_NS.
per_pkt()
{
	local desc=$1 want=$2 d0 n0 s0
	shift 2
	fs_xsnap "$NS0" veth0
	d0=${XS[delay_total_ns]} n0=${XS[delayed]} s0=${XS[stale_packets]}
	"$@" >/dev/null
	fs_xsnap "$NS0" veth0
	local dn=$((XS[delayed] - n0)) dd=$((XS[delay_total_ns] - d0))
	fs_log "$desc: $dn delayed, delay_total_ns +$dd, stale_packets +$((XS[stale_packets] - s0))"
	if ((want == 0)); then
		check_eq "$desc: not delayed" 0 "$dn"
	else
		check "$desc: delayed ($dn >= 5)" test "$dn" -ge 5
		check "$desc: each by $want ns" \
			fcmp "$dd >= $dn * ($want - 1000) && $dd <= $dn * ($want + 1000)"
	fi
	PER_STALE=$((XS[stale_packets] - s0))
}
# IPv6 off on veth0 from here: no router solicitation, MLD report or
# neighbour solicitation may share the qdisc (they would take the
# defaults too, and "not delayed" must count the pings alone).
n0 sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
check "defaults: delay mode cw 40ms ct 0 lw 30ms lt 0.5, stale_after 300ms" \
	fs_fresh veth0 mode delay congestion_weight 40ms congestion_threshold 0 \
	load_weight 30ms load_threshold 0.5 max_delay 1s stale_after 300ms
check "defaults: default_congestion 0.5 default_load 0.8, entry 10.200.9.0/24" \
	fs_change veth0 default_congestion 0.5 default_load 0.8 dest 10.200.9.0/24 congestion 1
T_DEF=$(fs_now_ms)
want=$(fs_formula_ns "$DCW" 0 0.5 "$DLW" 0.5 0.8 "$DMAX")
per_pkt "defaults: non-IP frames (EtherType 0x88b5)" "$want" \
	n0 "$UDPSEQ" ether veth0 5
per_pkt "defaults: unmatched IPv4 destination" "$want" \
	fs_ping "$NS0" 10.100.0.2 5 0.05
entry_stale() { [[ $(fs_dest "$NS0" veth0 10.200.9.0/24 | jq -r .stale) == true ]]; }
check "defaults: the entry went stale (listed stale within 5 s)" wait_for 5 entry_stale
per_pkt "defaults: the stale entry's destination (fail open, not the defaults)" 0 \
	fs_ping "$NS0" 10.200.9.2 5 0.05
check "defaults: those packets counted stale ($PER_STALE >= 5)" test "$PER_STALE" -ge 5
check "defaults: set $(($(fs_now_ms) - T_DEF)) ms ago, more than stale_after (300 ms)" \
	test $(($(fs_now_ms) - T_DEF)) -gt 300
per_pkt "defaults: older than stale_after, non-IP still delayed" "$want" \
	n0 "$UDPSEQ" ether veth0 5
per_pkt "defaults: older than stale_after, unmatched IPv4 still delayed" "$want" \
	fs_ping "$NS0" 10.100.0.2 5 0.05
check_eq "defaults: never counted stale" 0 "$PER_STALE"
check "defaults: default_congestion 0 (default_load alone)" \
	fs_change veth0 default_congestion 0
want=$(fs_formula_ns "$DCW" 0 0 "$DLW" 0.5 0.8 "$DMAX")
per_pkt "defaults: default_load 0.8 alone, non-IP" "$want" \
	n0 "$UDPSEQ" ether veth0 5
per_pkt "defaults: default_load 0.8 alone, unmatched IPv4" "$want" \
	fs_ping "$NS0" 10.100.0.2 5 0.05

# --- errors of the table: ENOENT, max_dests, a prefix twice ---------------
fs_section "table errors: delete of a missing entry, lowering max_dests, a prefix twice"
# levels PREFIX: "congestion load" of PREFIX's entry (3 decimals), or "none".
levels()
{
	fs_dests "$NS0" veth0 | jq -r --arg p "$1" '[.[] | select(.dest == $p)][0] |
		if . == null then "none" else
		"\(.congestion * 1000 | round / 1000) \(.load * 1000 | round / 1000)" end'
}
# fsnl_refused DESC ERRNO-TEXT MSG BAD-ATTR FSNL-ARGS...: the kernel refuses
# with that errno, that extack message, that attribute marked.
fsnl_refused()
{
	local desc=$1 errno=$2 msg=$3 attr=$4 out rc
	shift 4
	out=$("$FSNL" -n "$NS0" change veth0 "$@" 2>&1)
	rc=$?
	fs_log "fsnl $*: $(tr '\n' '|' <<<"$out")"
	check "$desc: refused (rc=$rc)" test "$rc" -eq 1
	check "$desc: errno $errno" grep -q "^errno: $errno\$" <<<"$out"
	check "$desc: message '$msg'" grep -q "^Error: $msg\$" <<<"$out"
	check "$desc: marks $attr" grep -q "^bad attribute: $attr (offset [0-9]*)\$" <<<"$out"
}
check "errors: qdisc (max_dests 4096)" fs_fresh veth0
check "errors: three entries" fs_change veth0 dest 10.1.0.0/16 congestion 0.3 \
	dest 10.2.0.0/16 congestion 0.4 dest 10.3.0.0/16
tbl0=$(fs_dests "$NS0" veth0 | jq -c '[.[] | {dest, congestion, load}]')
check_fail_msg "errors: tc: delete of a missing entry refused" \
	'Error: flowshape: no such destination to delete' \
	fs_change veth0 dest 10.9.0.0/16 delete
fsnl_refused "errors: delete of a missing entry among good ones" \
	"No such file or directory" "flowshape: no such destination to delete" \
	"options.dests.dest#2" \
	dest:v4=10.1.0.0,plen=16,c=900000 dest:v4=10.9.0.0,plen=16,del dest:v4=10.4.0.0,plen=16
fsnl_refused "errors: the same entry deleted twice" \
	"No such file or directory" "flowshape: no such destination to delete" \
	"options.dests.dest#2" \
	dest:v4=10.2.0.0,plen=16,del dest:v4=10.2.0.0,plen=16,del
check_eq "errors: the refused deletes changed nothing" "$tbl0" \
	"$(fs_dests "$NS0" veth0 | jq -c '[.[] | {dest, congestion, load}]')"

# A prefix twice in one message: entries apply in message order.
check "twice: a new prefix set twice" \
	fs_change veth0 dest 10.4.0.0/16 congestion 0.2 dest 10.4.0.0/16 congestion 0.6
check_eq "twice: the last set wins" "0.6 0" "$(levels 10.4.0.0/16)"
check "twice: an existing prefix set twice (in place)" \
	fs_change veth0 dest 10.1.0.0/16 congestion 0.1 dest 10.1.0.0/16 congestion 0.9
check_eq "twice: in place, the last set wins" "0.9 0" "$(levels 10.1.0.0/16)"
check "twice: congestion then load of an existing prefix" \
	fs_change veth0 dest 10.1.0.0/16 congestion 0.7 dest 10.1.0.0/16 load 0.5
check_eq "twice: both applied (absent level: unchanged)" "0.7 0.5" "$(levels 10.1.0.0/16)"
check "twice: set then delete" \
	fs_change veth0 dest 10.5.0.0/16 congestion 0.5 dest 10.5.0.0/16 delete
check_eq "twice: set then delete: absent" none "$(levels 10.5.0.0/16)"
check "twice: delete then set an existing one (0.4)" \
	fs_change veth0 dest 10.2.0.0/16 delete dest 10.2.0.0/16 load 0.5
check_eq "twice: delete then set: a new entry (absent congestion: 0)" "0 0.5" \
	"$(levels 10.2.0.0/16)"
check_eq "twice: four entries" 4 "$(fs_dest_count "$NS0" veth0)"

# max_dests below the count: refused, nothing changed.
check_fail_msg "max_dests: tc: lowering below the count refused" \
	'Error: flowshape: max_dests below the number of destination entries' \
	fs_change veth0 max_dests 3
fsnl_refused "max_dests: lowering below the count" "No space left on device" \
	"flowshape: max_dests below the number of destination entries" \
	"options.max_dests" max_dests=3
check_eq "max_dests: unchanged (4096, 4 entries)" "4096 4" \
	"$(fs_qopt "$NS0" veth0 max_dests) $(fs_dest_count "$NS0" veth0)"
check "max_dests: lowering to the count is accepted" fs_change veth0 max_dests 4
check "max_dests: lowering with deletes that make it fit is accepted" \
	fs_change veth0 max_dests 3 dest 10.4.0.0/16 delete
check_eq "max_dests: 3, 3 entries" "3 3" \
	"$(fs_qopt "$NS0" veth0 max_dests) $(fs_dest_count "$NS0" veth0)"
check "max_dests: lowering with a flush is accepted" \
	fs_change veth0 max_dests 1 flush_dests dest 10.7.0.0/16
check_eq "max_dests: 1, the one new entry" "1 10.7.0.0/16" \
	"$(fs_qopt "$NS0" veth0 max_dests) $(fs_dests "$NS0" veth0 | jq -r '[.[].dest] | join(" ")')"
fsnl_refused "max_dests: a new entry beyond it" "No space left on device" \
	"flowshape: destination table full (max_dests reached)" "options.dests" \
	dest:v4=10.8.0.0,plen=16

fs_section "done"
fs_done
